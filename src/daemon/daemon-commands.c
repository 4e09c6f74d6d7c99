/* daemon-commands.c: the API's commands (docs/api.md) and their handlers.
 *
 * Queries answer at once from the registry.  Commands that change a domain
 * are queued as jobs on it (daemon-domain.c), so they never overlap on one
 * domain.  Handlers only check arguments and dispatch; the work lives in
 * daemon-lifecycle.c (QEMU) and daemon-hotplug.c (NICs).
 */
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-migrate.h"
#include "pci/pci-json.h"

#include <string.h>

static VnicDaemon *
daemon_of(gpointer data)
{
    return data;
}

/* The domain named by the "name" argument, or NULL after replying. */
static VnicDomain *
domain_arg(VnicApiRequest *request, VnicDaemon *daemon)
{
    GError *error = NULL;
    const char *name = NULL;
    VnicDomain *dom;

    if (!vnic_api_arg_string(request, "name", TRUE, &name, &error) ||
        !(dom = vnic_daemon_lookup(daemon, name, &error))) {
        vnic_api_request_fail(request, error);
        return NULL;
    }
    return dom;
}

static void
cmd_query_version(VnicApiRequest *request, gpointer data)
{
    JsonObject *ret = json_object_new();

    json_object_set_string_member(ret, "version", VNIC_VERSION);
    json_object_set_int_member(ret, "protocol", VNIC_API_PROTOCOL_VERSION);
    vnic_api_request_return_object(request, ret);
}

static void
cmd_subscribe_events(VnicApiRequest *request, gpointer data)
{
    vnic_api_request_subscribe(request);
    vnic_api_request_return(request, NULL);
}

static JsonObject *
domain_summary(const VnicDomain *dom)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "name", dom->name);
    if (dom->config->uuid)
        json_object_set_string_member(o, "uuid", dom->config->uuid);
    json_object_set_string_member(o, "state", vnic_domain_state_to_string(dom->state));
    if (dom->process)
        json_object_set_int_member(o, "pid", vnic_daemon_process_pid(dom));
    return o;
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VnicDomain *const *)a)->name, (*(VnicDomain *const *)b)->name);
}

static void
cmd_list(VnicApiRequest *request, gpointer data)
{
    VnicDaemon *daemon = daemon_of(data);
    GError *error = NULL;
    gboolean all = FALSE;
    g_autoptr(GPtrArray) doms = g_ptr_array_new();
    JsonArray *list = json_array_new();
    JsonObject *ret = json_object_new();

    if (!vnic_api_arg_bool(request, "all", &all, &error)) {
        json_array_unref(list);
        json_object_unref(ret);
        vnic_api_request_fail(request, error);
        return;
    }
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(doms, value);
    g_ptr_array_sort(doms, by_name);
    for (guint i = 0; i < doms->len; i++) {
        const VnicDomain *dom = g_ptr_array_index(doms, i);
        if (all || dom->state != VNIC_DOMAIN_SHUT_OFF)
            json_array_add_object_element(list, domain_summary(dom));
    }
    json_object_set_array_member(ret, "domains", list);
    vnic_api_request_return_object(request, ret);
}

static gboolean
parse_format_flags(const char *text, VnicConfFormatFlags *flags, GError **error)
{
    if (!text || strcmp(text, "status") == 0)
        *flags = VNIC_CONF_FORMAT_STATUS;
    else if (strcmp(text, "inactive") == 0)
        *flags = VNIC_CONF_FORMAT_INACTIVE;
    else if (strcmp(text, "migratable") == 0)
        *flags = VNIC_CONF_FORMAT_MIGRATABLE | VNIC_CONF_FORMAT_INACTIVE;
    else {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "argument 'flags' must be 'status', 'inactive' or 'migratable', not '%s'", text);
        return FALSE;
    }
    return TRUE;
}

static gboolean
is_graphics_with_passwd(const VnicConfDevice *dev)
{
    return dev->kind == VNIC_CONF_DEV_OTHER && dev->node != NULL &&
           xmlStrcmp(dev->node->name, (const xmlChar *) "graphics") == 0 &&
           xmlHasProp(dev->node, (const xmlChar *) "passwd") != NULL;
}

static gboolean
has_secrets(const VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        if (is_graphics_with_passwd(g_ptr_array_index(def->devices, i)))
            return TRUE;
    }
    return FALSE;
}

/* @def as XML without the <graphics passwd> values, as libvirt writes it
 * without VIR_DOMAIN_XML_SECURE.  Only a definition with a password pays
 * for the copy (format, parse, strip, format: three times the cost of
 * dumpxml itself, 500 NICs). */
static char *
format_without_secrets(const VnicConfDomain *def, VnicConfFormatFlags flags)
{
    if (!has_secrets(def))
        return vnic_conf_domain_format(def, flags);
    g_autofree char *full = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    g_autoptr(VnicConfDomain) copy = vnic_conf_domain_parse(full, strlen(full), NULL);

    if (copy == NULL)
        return NULL;
    for (guint i = 0; i < copy->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(copy->devices, i);

        if (dev->kind == VNIC_CONF_DEV_OTHER && dev->node != NULL &&
            xmlStrcmp(dev->node->name, (const xmlChar *) "graphics") == 0)
            xmlUnsetProp(dev->node, (const xmlChar *) "passwd");
    }
    return vnic_conf_domain_format(copy, flags);
}

static void
cmd_dumpxml(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_arg(request, data);
    const char *flags_text = NULL;
    gboolean secure = FALSE;
    VnicConfFormatFlags flags;
    GError *error = NULL;
    const VnicConfDomain *def;
    g_autofree char *xml = NULL;
    const char *text;
    JsonObject *ret;

    if (!dom)
        return;
    if (!vnic_api_arg_string(request, "flags", FALSE, &flags_text, &error) ||
        !parse_format_flags(flags_text, &flags, &error) ||
        !vnic_api_arg_bool(request, "security-info", &secure, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    if (secure && vnic_api_request_is_read_only(request)) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_PERMISSION_DENIED,
                                  "'security-info' is not served on the read-only socket"));
        return;
    }
    /* the live definition while running, unless the config is asked for */
    def = dom->live && !(flags_text && strcmp(flags_text, "inactive") == 0) ? dom->live : dom->config;
    if (def == dom->config && flags == VNIC_CONF_FORMAT_INACTIVE && (secure || !has_secrets(def)))
        text = vnic_domain_config_xml(dom); /* what the config file holds, formatted once per change */
    else
        text = xml = secure ? vnic_conf_domain_format(def, flags) : format_without_secrets(def, flags);
    if (text == NULL) { /* cannot happen: the same XML parsed before */
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                                  "domain '%s': cannot reparse its XML", dom->name));
        return;
    }
    ret = json_object_new();
    json_object_set_string_member(ret, "xml", text);
    vnic_api_request_return_object(request, ret);
}

static const VnicConfDomain *
current_def(const VnicDomain *dom)
{
    return dom->live ? dom->live : dom->config;
}

/* Like virsh vncdisplay: only a running domain has a display. */
static void
cmd_vncdisplay(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_arg(request, data);
    GError *error = NULL;
    g_autofree char *display = NULL;
    JsonObject *ret;

    if (!dom)
        return;
    if (!dom->live || dom->state != VNIC_DOMAIN_RUNNING) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                  "domain '%s' is not running", dom->name));
        return;
    }
    if (!(display = vnic_qemu_vnc_display(dom->live, &error))) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                  "domain '%s': %s", dom->name, error->message));
        g_error_free(error);
        return;
    }
    ret = json_object_new();
    json_object_set_string_member(ret, "display", display);
    vnic_api_request_return_object(request, ret);
}

static void
cmd_pci(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_arg(request, data);

    if (dom)
        vnic_api_request_return(request, vnic_pci_slot_map_to_json(current_def(dom)));
}

static void
cmd_define(VnicApiRequest *request, gpointer data)
{
    vnic_daemon_define(daemon_of(data), request);
}

static void
undefine_job(VnicDomain *dom, VnicApiRequest *request)
{
    VnicDaemon *daemon = dom->daemon;
    GError *error = NULL;

    if (!vnic_migrate_check_not_incoming(dom, "undefine", &error)) {
        vnic_api_request_fail(request, error);
        vnic_domain_job_done(dom);
        return;
    }
    if (dom->state != VNIC_DOMAIN_SHUT_OFF) {
        error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                            "domain '%s' is %s: destroy or shut it down first", dom->name,
                            vnic_domain_state_to_string(dom->state));
        vnic_api_request_fail(request, error);
        vnic_domain_job_done(dom);
        return;
    }
    vnic_state_remove_config(daemon, dom->name);
    vnic_domain_forget_markers(daemon, dom->name);
    {
        gpointer key = NULL;

        /* the registry's key copy is ours once stolen */
        if (g_hash_table_steal_extended(daemon->domains, dom->name, &key, NULL))
            g_free(key);
    }
    dom->undefined = TRUE;
    vnic_daemon_emit(daemon, "DOMAIN_UNDEFINED", dom->name, NULL);
    vnic_api_request_return(request, NULL);
    vnic_domain_job_done(dom);
}

static void
queue_on_domain(VnicApiRequest *request, gpointer data, VnicJobFunc job)
{
    VnicDomain *dom = domain_arg(request, data);

    if (dom)
        vnic_domain_job_queue(dom, job, request);
}

static void
cmd_undefine(VnicApiRequest *request, gpointer data)
{
    queue_on_domain(request, data, undefine_job);
}

static void
cmd_start(VnicApiRequest *request, gpointer data)
{
    queue_on_domain(request, data, vnic_domain_start_job);
}

static void
cmd_destroy(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_arg(request, data);

    if (dom)
        vnic_domain_destroy(dom, request);
}

static void
cmd_shutdown(VnicApiRequest *request, gpointer data)
{
    queue_on_domain(request, data, vnic_domain_shutdown_job);
}

/* A migrating domain's devices are the migration's: hot-plug waits for nobody. */
static gboolean
refuse_if_migrating(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_arg(request, data);

    if (!dom)
        return TRUE;
    if (!vnic_domain_migrating(dom))
        return FALSE;
    vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                               "domain '%s' is being migrated: %s is refused "
                                               "until the migration job ends (domjobabort ends it)",
                                               dom->name, vnic_api_request_get_command(request)));
    return TRUE;
}

static void
cmd_attach(VnicApiRequest *request, gpointer data)
{
    if (!refuse_if_migrating(request, data))
        queue_on_domain(request, data, vnic_domain_attach_job);
}

static void
cmd_detach(VnicApiRequest *request, gpointer data)
{
    if (!refuse_if_migrating(request, data))
        queue_on_domain(request, data, vnic_domain_detach_job);
}

static void
cmd_query_commands(VnicApiRequest *request, gpointer data)
{
    vnic_api_request_return_object(request, vnic_api_request_describe_commands(request));
}

/* The arguments each command reads (docs/api.md); the server refuses any
 * other.  Requiredness that depends on other arguments (attach-interface's
 * type unless replug) stays with the handler. */
#define S(n) { n, VNIC_API_ARG_STRING, FALSE }
#define S_REQ(n) { n, VNIC_API_ARG_STRING, TRUE }
#define I(n) { n, VNIC_API_ARG_INT, FALSE }
#define B(n) { n, VNIC_API_ARG_BOOL, FALSE }
#define END { NULL, 0, FALSE }

static const VnicApiArg args_none[] = { END };
static const VnicApiArg args_name[] = { S_REQ("name"), END };
static const VnicApiArg args_list[] = { B("all"), END };
static const VnicApiArg args_dumpxml[] = { S_REQ("name"), S("flags"), B("security-info"), END };
static const VnicApiArg args_define[] = { S_REQ("xml"), S("policy"), I("spare-ports"), END };
static const VnicApiArg args_shutdown[] = { S_REQ("name"), I("timeout"), END };
static const VnicApiArg args_attach_interface[] = {
    S_REQ("name"), S("type"), S("source"), S("mode"), S("model"), S("mac"), S("target"),
    I("acpi-index"), B("replug"), B("live"), B("config"), S("x-fail-step"), S("alias"),
    S("inbound"), S("outbound"), B("persistent"), END
};
static const VnicApiArg args_attach_device[] = {
    S_REQ("name"), S_REQ("xml"), B("live"), B("config"), S("x-fail-step"), B("persistent"), END
};
static const VnicApiArg args_detach_interface[] = {
    S_REQ("name"), S("mac"), S("target"), I("timeout"), B("live"), B("config"),
    B("persistent"), END
};
static const VnicApiArg args_detach_device[] = {
    S_REQ("name"), S_REQ("xml"), I("timeout"), B("live"), B("config"), B("persistent"), END
};
static const VnicApiArg args_xml[] = { S_REQ("xml"), END };
static const VnicApiArg args_monitor[] = { S_REQ("name"), S_REQ("command"), B("hmp"), END };
static const VnicApiArg args_getlink[] = { S_REQ("name"), S_REQ("interface"), END };
static const VnicApiArg args_setlink[] = { S_REQ("name"), S_REQ("interface"), S_REQ("state"), END };
static const VnicApiArg args_domiflist[] = { S_REQ("name"), B("inactive"), END };
static const VnicApiArg args_domifstat[] = { S_REQ("name"), S_REQ("interface"), END };
static const VnicApiArg args_domifaddr[] = { S_REQ("name"), S("interface"), S("source"), END };
static const VnicApiArg args_domiftune[] = {
    S_REQ("name"), S_REQ("interface"), S("inbound"), S("outbound"), B("live"), B("config"),
    B("persistent"), END
};
static const VnicApiArg args_update_device[] = {
    S_REQ("name"), S_REQ("xml"), B("live"), B("config"), B("persistent"), END
};
static const VnicApiArg args_autostart[] = { S_REQ("name"), B("disable"), END };
static const VnicApiArg args_network[] = { S_REQ("network"), END };
static const VnicApiArg args_net_list[] = { B("all"), END };
static const VnicApiArg args_net_autostart[] = { S_REQ("network"), B("disable"), END };
static const VnicApiArg args_migrate[] = {
    S_REQ("name"), S_REQ("uri"), S("migrate-uri"), B("live"), B("persistent"),
    B("undefine-source"), I("timeout"), I("bandwidth"), END
};
static const VnicApiArg args_migrate_prepare[] = { S_REQ("xml"), S("uri"), B("persistent"), END };

#undef S
#undef S_REQ
#undef I
#undef B
#undef END

const VnicApiCommand vnic_daemon_commands[] = {
    { "query-version", cmd_query_version, TRUE, args_none },
    { "query-commands", cmd_query_commands, TRUE, args_none },
    { "subscribe-events", cmd_subscribe_events, TRUE, args_none },
    { "list", cmd_list, TRUE, args_list },
    { "dumpxml", cmd_dumpxml, TRUE, args_dumpxml },
    { "domiflist", vnic_cmd_domiflist, TRUE, args_domiflist },
    { "domifstat", vnic_cmd_domifstat, TRUE, args_domifstat },
    { "domifaddr", vnic_cmd_domifaddr, TRUE, args_domifaddr },
    { "domiftune", vnic_cmd_domiftune, FALSE, args_domiftune },
    { "update-device", vnic_cmd_update_device, FALSE, args_update_device },
    { "dominfo", vnic_cmd_dominfo, TRUE, args_name },
    { "domstate", vnic_cmd_domstate, TRUE, args_name },
    { "suspend", vnic_cmd_suspend, FALSE, args_name },
    { "resume", vnic_cmd_resume, FALSE, args_name },
    { "reboot", vnic_cmd_reboot, FALSE, args_name },
    { "autostart", vnic_cmd_autostart, FALSE, args_autostart },
    { "create", vnic_cmd_create, FALSE, args_define },
    { "vncdisplay", cmd_vncdisplay, TRUE, args_name },
    { "pci", cmd_pci, TRUE, args_name },
    { "domif-getlink", vnic_cmd_domif_getlink, TRUE, args_getlink },
    { "domif-setlink", vnic_cmd_domif_setlink, FALSE, args_setlink },
    { "qemu-monitor-command", vnic_cmd_qemu_monitor_command, FALSE, args_monitor },
    { "define", cmd_define, FALSE, args_define },
    { "undefine", cmd_undefine, FALSE, args_name },
    { "start", cmd_start, FALSE, args_name },
    { "destroy", cmd_destroy, FALSE, args_name },
    { "shutdown", cmd_shutdown, FALSE, args_shutdown },
    { "attach-interface", cmd_attach, FALSE, args_attach_interface },
    { "attach-device", cmd_attach, FALSE, args_attach_device },
    { "detach-interface", cmd_detach, FALSE, args_detach_interface },
    { "detach-device", cmd_detach, FALSE, args_detach_device },
    { "net-list", vnic_cmd_net_list, TRUE, args_net_list },
    { "net-dumpxml", vnic_cmd_net_dumpxml, TRUE, args_network },
    { "net-define", vnic_cmd_net_define, FALSE, args_xml },
    { "net-undefine", vnic_cmd_net_undefine, FALSE, args_network },
    { "net-start", vnic_cmd_net_start, FALSE, args_network },
    { "net-destroy", vnic_cmd_net_destroy, FALSE, args_network },
    { "net-autostart", vnic_cmd_net_autostart, FALSE, args_net_autostart },
    { "migrate", vnic_cmd_migrate, FALSE, args_migrate },
    { "domjobinfo", vnic_cmd_domjobinfo, TRUE, args_name },
    { "domjobabort", vnic_cmd_domjobabort, FALSE, args_name },
    { "migrate-prepare", vnic_cmd_migrate_prepare, FALSE, args_migrate_prepare },
    { "migrate-finish", vnic_cmd_migrate_finish, FALSE, args_name },
    { "migrate-abort", vnic_cmd_migrate_abort, FALSE, args_name },
    { "migrate-keepalive", vnic_cmd_migrate_keepalive, FALSE, args_name },
};
const gsize vnic_daemon_n_commands = G_N_ELEMENTS(vnic_daemon_commands);
