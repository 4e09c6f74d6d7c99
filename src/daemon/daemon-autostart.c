/* daemon-autostart.c: virsh's autostart and create.
 *
 * autostart: <state-dir>/domains/NAME.autostart (empty) marks a domain
 * vnicd starts when it starts (after re-attaching the guests that still
 * run), as net-autostart does for networks.  undefine removes the mark.
 *
 * create: a transient domain, as CloudStack starts its VMs: defined and
 * started in one command, and undefined as soon as it is shut off again
 * (stopped, destroyed, crashed, or its start failed).  Its config is
 * stored like any other (so a vnicd restart re-attaches it) with
 * NAME.transient beside it; a transient domain found shut off when vnicd
 * starts is removed then.  A domain migrated here without --persistent is
 * transient the same way (daemon-migrate-dest.c marks it).
 */
#include "daemon/daemon-lifecycle.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
marker_path(VnicDaemon *daemon, const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);

    return g_build_filename(daemon->opts.state_dir, "domains", file, NULL);
}

gboolean
vnic_domain_is_autostart(VnicDomain *dom)
{
    g_autofree char *path = marker_path(dom->daemon, dom->name, ".autostart");

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

gboolean
vnic_domain_is_transient(VnicDomain *dom)
{
    g_autofree char *path = marker_path(dom->daemon, dom->name, ".transient");

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

static gboolean
set_marker(VnicDaemon *daemon, const char *name, const char *suffix, gboolean on,
           GError **error)
{
    g_autofree char *path = marker_path(daemon, name, suffix);

    if (on)
        return vnic_state_write_file(path, "", error);
    if (g_unlink(path) < 0 && errno != ENOENT) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC, "removing %s: %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_domain_mark_transient(VnicDomain *dom, GError **error)
{
    return set_marker(dom->daemon, dom->name, ".transient", TRUE, error);
}

void
vnic_domain_forget_markers(VnicDaemon *daemon, const char *name)
{
    set_marker(daemon, name, ".autostart", FALSE, NULL);
    set_marker(daemon, name, ".transient", FALSE, NULL);
}

void
vnic_cmd_autostart(VnicApiRequest *request, gpointer data)
{
    VnicDaemon *daemon = data;
    GError *error = NULL;
    const char *name = NULL;
    gboolean disable = FALSE;
    VnicDomain *dom;

    if (!vnic_api_arg_string(request, "name", TRUE, &name, &error) ||
        !vnic_api_arg_bool(request, "disable", &disable, &error) ||
        !(dom = vnic_daemon_lookup(daemon, name, &error))) {
        vnic_api_request_fail(request, error);
        return;
    }
    if (!disable && vnic_domain_is_transient(dom)) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR,
                                                   VNIC_DAEMON_ERROR_INVALID_STATE,
                                                   "domain '%s' is transient (create): it is "
                                                   "gone once it stops, nothing to autostart",
                                                   dom->name));
        return;
    }
    if (!set_marker(daemon, dom->name, ".autostart", !disable, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    g_message("domain '%s': autostart %s", dom->name, disable ? "disabled" : "enabled");
    vnic_api_request_return_object(request, json_object_new());
}

/* ---- transient domains ---------------------------------------------------- */

/* Removes a shut-off transient domain: the undefine of `vnic undefine`,
 * without a request. */
static void
transient_undefine_job(VnicDomain *dom, VnicApiRequest *request)
{
    VnicDaemon *daemon = dom->daemon;
    gpointer key = NULL;

    if (dom->state != VNIC_DOMAIN_SHUT_OFF || dom->undefined) {
        vnic_domain_job_done(dom);  /* started again meanwhile */
        return;
    }
    g_message("domain '%s': transient and shut off: undefined", dom->name);
    vnic_state_remove_config(daemon, dom->name);
    vnic_domain_forget_markers(daemon, dom->name);
    if (g_hash_table_steal_extended(daemon->domains, dom->name, &key, NULL))
        g_free(key);
    dom->undefined = TRUE;
    vnic_daemon_emit(daemon, "DOMAIN_UNDEFINED", dom->name, NULL);
    vnic_domain_job_done(dom);
}

void
vnic_domain_transient_check(VnicDomain *dom)
{
    if (dom->state == VNIC_DOMAIN_SHUT_OFF && !dom->undefined && vnic_domain_is_transient(dom))
        vnic_domain_job_queue(dom, transient_undefine_job, NULL);
}

/* Defined: marked transient, then started. */
static void
created(VnicDomain *dom, VnicApiRequest *request)
{
    GError *error = NULL;

    if (!vnic_domain_mark_transient(dom, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    /* the start job replies; a failed start leaves it shut off: removed */
    vnic_domain_job_queue(dom, vnic_domain_start_job, request);
}

void
vnic_cmd_create(VnicApiRequest *request, gpointer data)
{
    VnicDaemon *daemon = data;
    GError *error = NULL;
    const char *xml = NULL;
    g_autoptr(VnicConfDomain) peek = NULL;

    /* virsh create never replaces a domain */
    if (!vnic_api_arg_string(request, "xml", TRUE, &xml, &error) ||
        !(peek = vnic_conf_domain_parse(xml, strlen(xml), &error))) {
        vnic_api_request_fail(request, error);
        return;
    }
    if (g_hash_table_contains(daemon->domains, peek->name)) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR,
                                                   VNIC_DAEMON_ERROR_DOMAIN_EXISTS,
                                                   "domain '%s' exists already: start it, or "
                                                   "choose another name", peek->name));
        return;
    }
    vnic_daemon_define_then(daemon, request, created);
}

/* ---- at vnicd's start ----------------------------------------------------- */

static void
autostart_job(VnicDomain *dom, VnicApiRequest *request)
{
    g_message("domain '%s': autostart", dom->name);
    vnic_domain_start_job(dom, NULL);
}

void
vnic_daemon_autostart(VnicDaemon *daemon)
{
    g_autoptr(GPtrArray) doms = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(doms, value);
    for (guint i = 0; i < doms->len; i++) {
        VnicDomain *dom = g_ptr_array_index(doms, i);

        if (dom->state != VNIC_DOMAIN_SHUT_OFF)
            continue;
        if (vnic_domain_is_transient(dom))
            vnic_domain_transient_check(dom);
        else if (vnic_domain_is_autostart(dom))
            vnic_domain_job_queue(dom, autostart_job, NULL);
    }
}
