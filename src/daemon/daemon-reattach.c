/* daemon-reattach.c: finding running guests again after vnicd restarts.
 *
 * The status file of each running domain names QEMU's pid and start time
 * (so a recycled pid is not mistaken for it), its monitor socket, the files
 * it owns and the ledger of host links.  For each, a re-attach job is
 * queued on the domain, so requests for it wait until it is known:
 *   - QEMU still there: connect its monitor, then reconcile the live
 *     definition with query-pci (a NIC that disappeared while vnicd was
 *     down is cleaned up as if its DEVICE_DELETED had been seen);
 *   - QEMU gone: delete the ledger's links, remove its files, shut off.
 * A domain caught half-started (state 'starting') is killed and cleaned.
 */
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-migrate.h"
#include "daemon/daemon-nic.h"

#include "conf/conf-xml-cleanup.h"

#include <glib/gstdio.h>
#include <signal.h>

typedef struct {
    GPid pid;
    guint64 start_time;
    char *qmp_path;
    char *log_path;
    GPtrArray *owned;         /* char*, NULL-terminated */
    gboolean was_starting;
    gboolean migrating;       /* a <migration>: its recovery judges the state */
} StatusProcess;

static void
status_process_free(StatusProcess *sp)
{
    g_free(sp->qmp_path);
    g_free(sp->log_path);
    g_ptr_array_unref(sp->owned);
    g_free(sp);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StatusProcess, status_process_free)

/* The <domstatus> attributes describing QEMU: pid, start time, monitor. */
void
vnic_state_append_process_attrs(GString *s, VnicDomain *dom)
{
    if (!dom->process)
        return;
    g_string_append_printf(s, " pid='%d' starttime='%" G_GUINT64_FORMAT "'", dom->pid,
                           vnic_qemu_process_get_start_time(dom->process));
    vnic_state_append_attr(s, "qmp", vnic_qemu_process_get_qmp_path(dom->process));
    if (vnic_qemu_process_get_log_path(dom->process))
        vnic_state_append_attr(s, "log", vnic_qemu_process_get_log_path(dom->process));
}

/* One <owned path='…'/> line per file QEMU's runtime created. */
void
vnic_state_append_owned(GString *s, VnicDomain *dom)
{
    const char *const *owned = dom->process ? vnic_qemu_process_get_owned_paths(dom->process) : NULL;

    for (; owned && *owned; owned++) {
        g_string_append(s, "  <owned");
        vnic_state_append_attr(s, "path", *owned);
        g_string_append(s, "/>\n");
    }
}

static char *
prop(xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    char *copy = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return copy;
}

static char *
node_to_string(xmlDoc *doc, xmlNode *node)
{
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();

    xmlNodeDump(buf, doc, node, 0, 0);
    return g_strdup((const char *)xmlBufferContent(buf));
}

static VnicOwnedLink *
parse_link(xmlNode *node)
{
    g_autofree char *ifindex = prop(node, "ifindex"), *kind = prop(node, "kind");
    VnicOwnedLink *o = g_new0(VnicOwnedLink, 1);

    o->link = g_new0(VnicHostLink, 1);
    o->link->name = prop(node, "name");
    o->link->ifindex = ifindex ? (guint)g_ascii_strtoull(ifindex, NULL, 10) : 0;
    if (!kind || !vnic_host_link_kind_from_string(kind, &o->link->kind))
        o->link->kind = VNIC_HOST_LINK_TAP;
    o->alias = prop(node, "alias");
    return o;
}

static void
parse_nic(VnicDomain *dom, xmlNode *node)
{
    g_autofree char *alias = prop(node, "alias"), *state = prop(node, "state");
    g_autofree char *waiting = prop(node, "waiting-for"), *carrier = prop(node, "carrier");
    g_autofree char *admin = prop(node, "admin");

    vnic_state_parse_nic(dom, alias, state, waiting, carrier, admin);
}

/* The live definition inside a status document. */
static VnicConfDomain *
parse_live(xmlDoc *doc, GError **error)
{
    for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)"domain")) {
            g_autofree char *xml = node_to_string(doc, n);
            return vnic_conf_domain_parse(xml, strlen(xml), error);
        }
    }
    g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC, "no <domain> in it");
    return NULL;
}

/* Fills @sp and @dom's ledger from the status document. */
static StatusProcess *
parse_process(VnicDomain *dom, xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    g_autofree char *state = prop(root, "state"), *pid = prop(root, "pid");
    g_autofree char *start = prop(root, "starttime");
    g_autofree char *uid = prop(root, "uid"), *gid = prop(root, "gid");
    StatusProcess *sp = g_new0(StatusProcess, 1);
    guint64 uid_value, gid_value;

    sp->owned = g_ptr_array_new_with_free_func(g_free);
    for (xmlNode *n = root->children; n; n = n->next)
        sp->migrating |= n->type == XML_ELEMENT_NODE &&
                         xmlStrEqual(n->name, (const xmlChar *)"migration");
    /* a guest paused by `suspend` is alive and kept; a paused half of a
     * migration is left to the migration's recovery, as before */
    sp->was_starting = g_strcmp0(state, "running") != 0 &&
                       !(g_strcmp0(state, "paused") == 0 && !sp->migrating);
    sp->pid = pid ? (GPid)g_ascii_strtoll(pid, NULL, 10) : 0;
    sp->start_time = start ? g_ascii_strtoull(start, NULL, 10) : 0;
    sp->qmp_path = prop(root, "qmp");
    sp->log_path = prop(root, "log");
    /* QEMU's ids stay its own, and the pool knows they are taken */
    if (uid && gid && g_ascii_string_to_unsigned(uid, 10, 1, G_MAXUINT32 - 1, &uid_value, NULL) &&
        g_ascii_string_to_unsigned(gid, 10, 1, G_MAXUINT32 - 1, &gid_value, NULL))
        vnic_domain_qemu_ids_claim(dom, (uid_t)uid_value, (gid_t)gid_value);
    for (xmlNode *n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(n->name, (const xmlChar *)"owned"))
            g_ptr_array_add(sp->owned, prop(n, "path"));
        else if (xmlStrEqual(n->name, (const xmlChar *)"link"))
            g_ptr_array_add(dom->links, parse_link(n));
        else if (xmlStrEqual(n->name, (const xmlChar *)"nic"))
            parse_nic(dom, n);
    }
    g_ptr_array_add(sp->owned, NULL);
    return sp;
}

/* ---- the re-attach -------------------------------------------------------- */

typedef struct {
    VnicDomain *dom;
    StatusProcess *sp;
} Reattach;

static void
gone_while_down(VnicDomain *dom, StatusProcess *sp, const char *why)
{
    JsonObject *ev = json_object_new();

    g_message("domain '%s': %s; cleaning up", dom->name, why);
    vnic_qemu_remove_paths((const char *const *)sp->owned->pdata);
    if (sp->qmp_path)
        g_unlink(sp->qmp_path);
    vnic_domain_cleanup(dom);
    json_object_set_string_member(ev, "reason", "gone-while-daemon-down");
    vnic_daemon_emit(dom->daemon, "DOMAIN_STOPPED", dom->name, ev);
}

/* A guest that was paused when vnicd went down is still paused (issue #12:
 * it came back as 'running' and took no resume).  The reply comes before
 * the reconcile's query-pci one (QMP answers in order), so the job, which
 * that one ends, keeps @dom alive meanwhile. */
static void
run_state_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicDomain *dom = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);
    JsonObject *status = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;

    if (!dom->process) /* QEMU went meanwhile: its exit cleaned up */
        return;
    if (!status)
        g_warning("domain '%s': query-status after re-attach: %s", dom->name,
                  error ? error->message : "not an object");
    else if (g_strcmp0(json_object_get_string_member_with_default(status, "status", NULL),
                       "paused") == 0)
        dom->state = VNIC_DOMAIN_PAUSED;
}

/* The references to the NICs' queues that died with the previous vnicd,
 * taken back from QEMU (host-queues.c), so that a detach after a restart
 * is as quick as before it (daemon-unplug.c).  A link whose queues are not
 * found keeps none: its detach takes the slower path. */
static void
recover_queue_refs(VnicDomain *dom)
{
    for (guint i = 0; i < dom->links->len; i++) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
        g_autoptr(GError) error = NULL;

        if (o->queues || o->link->kind == VNIC_HOST_LINK_IFB ||
            vnic_domain_is_pending_link(dom, o))
            continue;
        if (!(o->queues = vnic_host_queue_refs_recover(dom->pid, o->link, &error)))
            g_debug("domain '%s': NIC %s: %s", dom->name, o->alias, error->message);
    }
}

static void
attach_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree Reattach *r = data;
    g_autoptr(StatusProcess) sp = r->sp;
    g_autoptr(GError) error = NULL;
    VnicDomain *dom = r->dom;
    VnicQemuProcess *proc = vnic_qemu_process_attach_finish(res, &error);

    if (!proc) {
        gone_while_down(dom, sp, error->message);
        vnic_domain_job_done(dom);
        return;
    }
    dom->process = proc;
    dom->state = VNIC_DOMAIN_RUNNING;
    vnic_qemu_process_set_exit_func(proc, vnic_domain_on_qemu_exit, dom, NULL);
    vnic_domain_watch_devices(dom);
    g_message("domain '%s': re-attached to QEMU %d", dom->name, dom->pid);
    recover_queue_refs(dom);
    /* suspend/resume do not rewrite the status file: QEMU knows; sent
     * with the reconcile's query-pci, so the re-attach takes no longer */
    if (!sp->migrating)
        vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(proc), "query-status", NULL, NULL,
                                      0, 5000, NULL, run_state_done, dom);
    vnic_domain_reconcile(dom); /* ends the job */
}

/* A half-started QEMU (-S, never verified) is not worth keeping. */
static void
kill_half_started(StatusProcess *sp)
{
    g_autoptr(GError) error = NULL;

    if (sp->pid > 0 && sp->start_time != 0 &&
        vnic_qemu_proc_start_time(sp->pid, &error) == sp->start_time)
        kill(sp->pid, SIGKILL);
}

/* Occupies the domain's job slot until QEMU is found or cleaned up, so
 * requests for it wait. */
static void
reattach(VnicDomain *dom, StatusProcess *sp)
{
    Reattach *r;
    VnicQemuAttachInfo info = {
        .pid = sp->pid, .start_time = sp->start_time, .qmp_path = sp->qmp_path,
        .log_path = sp->log_path, .owned_paths = (const char *const *)sp->owned->pdata,
    };

    dom->job_running = TRUE;
    dom->pid = sp->pid;
    dom->state = VNIC_DOMAIN_RUNNING;
    if (sp->was_starting || !sp->qmp_path) {
        kill_half_started(sp);
        gone_while_down(dom, sp, "it was still starting when vnicd stopped");
        status_process_free(sp);
        vnic_domain_job_done(dom);
        return;
    }
    r = g_new0(Reattach, 1);
    r->dom = dom;
    r->sp = sp;
    vnic_qemu_process_attach_async(&info, NULL, attach_done, r);
}

static VnicDomain *
domain_for(VnicDaemon *daemon, VnicConfDomain *live, GError **error)
{
    VnicDomain *dom = g_hash_table_lookup(daemon->domains, live->name);
    VnicConfDomain *config;

    if (dom)
        return dom;
    /* running without a config (its file was lost): keep it defined */
    {
        g_autofree char *xml = vnic_conf_domain_format(live, VNIC_CONF_FORMAT_INACTIVE);
        if (!(config = vnic_conf_domain_parse(xml, strlen(xml), error)))
            return NULL;
    }
    dom = vnic_domain_new(daemon, config);
    g_hash_table_insert(daemon->domains, g_strdup(dom->name), dom);
    vnic_state_write_config(daemon, dom, NULL);
    return dom;
}

static void
load_status_file(VnicDaemon *daemon, const char *path)
{
    g_autofree char *text = NULL;
    gsize len;
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) live = NULL;
    VnicDomain *dom;

    if (!g_file_get_contents(path, &text, &len, &error) ||
        !(doc = xmlReadMemory(text, (int)len, path, NULL, XML_PARSE_NONET)) ||
        !xmlStrEqual(xmlDocGetRootElement(doc)->name, (const xmlChar *)"domstatus") ||
        !(live = parse_live(doc, &error)) || !(dom = domain_for(daemon, live, &error))) {
        g_warning("ignoring status file %s: %s", path, error ? error->message : "not a <domstatus>");
        return;
    }
    if (dom->live) {
        g_warning("ignoring status file %s: domain '%s' has one already", path, dom->name);
        return;
    }
    dom->live = g_steal_pointer(&live);
    reattach(dom, parse_process(dom, doc));
    /* after the re-attach job: an interrupted migration's half */
    for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)"migration")) {
            g_autofree char *role = prop(n, "role");
            g_autofree char *phase = prop(n, "phase");
            g_autofree char *peer = prop(n, "peer");
            g_autofree char *persistent = prop(n, "persistent");
            g_autofree char *defined = prop(n, "defined");
            vnic_migrate_load_status(dom, role, phase, peer, persistent, defined);
        }
    }
}

void
vnic_state_load_status(VnicDaemon *daemon)
{
    g_autofree char *dir_path = g_build_filename(daemon->opts.run_dir, "domains", NULL);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *file;

    while (dir && (file = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(dir_path, file, NULL);
        if (g_str_has_suffix(file, ".xml"))
            load_status_file(daemon, path);
    }
}
