/* daemon-define.c: define (validate + plan + store) and the interface list.
 *
 * A definition is planned once, when it is defined: the stored config has
 * every PCI address, so each start gives the guest the same layout and the
 * same names.  Like libvirt, a name belongs to one uuid: redefining keeps
 * the uuid, and another domain's uuid is refused.
 */
#include "daemon/daemon-migrate.h"
#include "daemon/daemon-nic.h"
#include "qemu/qemu-command.h"

#include <string.h>

/* A name becomes file names (<state-dir>/NAME.xml, <run-dir>/NAME.xml and
 * <run-dir>/NAME/ with the guest's sockets), log lines and status XML, so
 * beyond libvirt's rules (not empty, no '/', no newline) it must be one
 * plain path component of bounded length that no other name's files can
 * collide with: no control character at all, not '.' or '..' or hidden,
 * and not ending in ".xml" ("col.xml/" would be the directory of "col"'s
 * status file "col.xml"). */
gboolean
vnic_daemon_check_name(const char *what, const char *name, GError **error)
{
    const char *why = NULL;
    g_autofree char *shown = NULL;

    if (name == NULL || name[0] == '\0')
        why = "must not be empty";
    else if (strlen(name) > VNIC_DAEMON_NAME_MAX)
        why = "is longer than " G_STRINGIFY(VNIC_DAEMON_NAME_MAX) " bytes";
    else if (!g_utf8_validate(name, -1, NULL))
        why = "is not valid UTF-8";
    else if (strchr(name, '/'))
        why = "must not contain '/'";
    else if (name[0] == '.')
        why = "must not start with '.'";
    else if (g_str_has_suffix(name, ".xml"))
        why = "must not end in '.xml'";
    for (const char *p = name; !why && *p; p++) {
        if ((guchar) *p < 0x20 || *p == 0x7f)
            why = "must not contain control characters";
    }
    if (!why)
        return TRUE;
    /* escaped, and cut: the message goes to a terminal and to the log */
    shown = g_strescape(name ? name : "", NULL);
    if (strlen(shown) > 64)
        strcpy(shown + 60, "...");
    g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                "invalid value '%s' for <name> of a %s: it %s", shown, what, why);
    return FALSE;
}

static gboolean
plan_options(VnicApiRequest *request, VnicPciPlanOptions *opts, GError **error)
{
    const char *policy = NULL;
    gint64 spare = -1;

    opts->policy = VNIC_PCI_POLICY_NIC_FIRST;
    opts->spare_ports = -1;
    if (!vnic_api_arg_string(request, "policy", FALSE, &policy, error) ||
        !vnic_api_arg_int(request, "spare-ports", 0, 255, &spare, error))
        return FALSE;
    if (policy && !vnic_pci_policy_from_string(policy, &opts->policy)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "argument 'policy' must be 'nic-first' or 'libvirt', not '%s'", policy);
        return FALSE;
    }
    opts->spare_ports = (gint)spare;
    return TRUE;
}

static VnicDomain *
find_by_uuid(VnicDaemon *daemon, const char *uuid)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        VnicDomain *dom = value;
        if (uuid && g_strcmp0(dom->config->uuid, uuid) == 0)
            return dom;
    }
    return NULL;
}

/* One name, one uuid: fills in or checks @def's uuid. */
static gboolean
check_identity(VnicDaemon *daemon, VnicConfDomain *def, GError **error)
{
    VnicDomain *same_name = g_hash_table_lookup(daemon->domains, def->name);
    VnicDomain *same_uuid = find_by_uuid(daemon, def->uuid);

    if (same_name && !def->uuid)
        def->uuid = g_strdup(same_name->config->uuid);
    else if (!def->uuid)
        def->uuid = g_uuid_string_random();
    if (same_name && g_strcmp0(same_name->config->uuid, def->uuid) != 0) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_DOMAIN_EXISTS,
                    "domain '%s' already exists with uuid %s", def->name, same_name->config->uuid);
        return FALSE;
    }
    if (same_uuid && same_uuid != same_name) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_DOMAIN_EXISTS,
                    "uuid %s already belongs to domain '%s'", def->uuid, same_uuid->name);
        return FALSE;
    }
    return TRUE;
}

/* What the define thread works on: its own copy of everything. */
typedef struct {
    VnicDaemon *daemon;       /* main loop only */
    char *xml;
    VnicPciPlanOptions opts;
    gint default_spare_ports; /* vnicd.conf's, -1 when unset */
    VnicDefinedFunc then;     /* what follows a stored definition, or NULL: reply */
    GPtrArray *warnings;
    VnicConfDomain *def;
} DefineWork;

static void
define_work_free(DefineWork *w)
{
    g_free(w->xml);
    g_ptr_array_unref(w->warnings);
    vnic_conf_domain_free(w->def);
    g_free(w);
}

/* ---- work off the main loop ------------------------------------------- */

typedef struct {
    VnicApiRequest *request;
    VnicOffLoopFunc func;
    VnicOffLoopDone done;
} OffLoop;

static void
off_loop_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    const OffLoop *o = g_task_get_source_tag(task);
    GError *error = NULL;

    if (o->func(data, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void
off_loop_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree OffLoop *o = data;
    GError *error = NULL;

    g_task_propagate_boolean(G_TASK(res), &error);
    o->done(o->request, g_task_get_task_data(G_TASK(res)), error);
}

void
vnic_daemon_off_loop(VnicApiRequest *request, gsize input_size, VnicOffLoopFunc func,
                     gpointer work, GDestroyNotify free_work, VnicOffLoopDone done)
{
    OffLoop *o;
    g_autoptr(GTask) task = NULL;

    if (input_size <= VNIC_OFF_LOOP_INLINE_MAX) {
        GError *error = NULL;

        func(work, &error);
        done(request, work, error);
        if (free_work)
            free_work(work);
        return;
    }
    o = g_new0(OffLoop, 1);
    task = g_task_new(NULL, NULL, off_loop_done, o);
    o->request = request;
    o->func = func;
    o->done = done;
    g_task_set_source_tag(task, o);
    g_task_set_task_data(task, work, free_work);
    g_task_run_in_thread(task, off_loop_thread);
}

/* ---- define ------------------------------------------------------------- */

/* Parsing, placing and checking a definition touch nothing but @w (conf,
 * pci and the QEMU check are pure), so they run in a thread: a big or
 * hostile definition costs its own client time, not everybody's. */
static gboolean
define_parse(gpointer data, GError **error)
{
    DefineWork *w = data;

    if (!(w->def = vnic_conf_domain_parse(w->xml, strlen(w->xml), error)) ||
        !vnic_daemon_check_name("domain", w->def->name, error))
        return FALSE;
    /* vnicd.conf's spare-ports: after the request's and the domain's own */
    if (w->opts.spare_ports < 0 && w->def->spare_ports < 0 &&
        w->opts.policy == VNIC_PCI_POLICY_NIC_FIRST)
        w->opts.spare_ports = w->default_spare_ports;
    return vnic_pci_plan(w->def, &w->opts, error) && vnic_qemu_domain_check(w->def, error);
}

/* Back on the main loop: the registry is checked now, when the definition
 * is stored, so two defines of one name in flight cannot both pass (nor
 * one pass a migration that came in meanwhile).  @command: the request's,
 * for the error. */
static VnicDomain *
store_definition(VnicDaemon *daemon, DefineWork *w, const char *command, GError **error)
{
    g_autoptr(VnicConfDomain) def = g_steal_pointer(&w->def);
    VnicDomain *dom;

    if (!vnic_migrate_check_not_incoming(g_hash_table_lookup(daemon->domains, def->name),
                                         command, error) ||
        !check_identity(daemon, def, error))
        return NULL;
    /* addresses libvirt keeps with a warning (the pci layer does not log) */
    for (guint i = 0; i < w->warnings->len; i++)
        g_message("define '%s': %s", def->name, (const char *)g_ptr_array_index(w->warnings, i));
    vnic_conf_domain_assign_macs(def, vnic_daemon_mac_rand());

    dom = g_hash_table_lookup(daemon->domains, def->name);
    if (dom) {
        VnicConfDomain *old = dom->config;
        dom->config = g_steal_pointer(&def);
        if (!vnic_state_write_config(daemon, dom, error)) {
            def = dom->config;   /* put the old one back */
            dom->config = old;
            return NULL;
        }
        vnic_conf_domain_free(old);
    } else {
        dom = vnic_domain_new(daemon, g_steal_pointer(&def));
        if (!vnic_state_write_config(daemon, dom, error)) {
            vnic_domain_free(dom);
            return NULL;
        }
        g_hash_table_insert(daemon->domains, g_strdup(dom->name), dom);
    }
    vnic_daemon_emit(daemon, "DOMAIN_DEFINED", dom->name, NULL);
    return dom;
}

static void
define_done(VnicApiRequest *request, gpointer data, GError *error)
{
    DefineWork *w = data;
    const char *command = vnic_api_request_get_command(request);
    VnicDomain *dom;
    JsonObject *ret;

    if (error || !(dom = store_definition(w->daemon, w, command, &error))) {
        vnic_api_request_fail(request, error);
        return;
    }
    if (w->then) {
        w->then(dom, request);
        return;
    }
    ret = json_object_new();
    json_object_set_string_member(ret, "name", dom->name);
    if (dom->config->uuid)
        json_object_set_string_member(ret, "uuid", dom->config->uuid);
    vnic_api_request_return_object(request, ret);
}

void
vnic_daemon_define(VnicDaemon *daemon, VnicApiRequest *request)
{
    vnic_daemon_define_then(daemon, request, NULL);
}

void
vnic_daemon_define_then(VnicDaemon *daemon, VnicApiRequest *request, VnicDefinedFunc then)
{
    const char *xml = NULL;
    DefineWork *w = g_new0(DefineWork, 1);
    GError *error = NULL;

    w->daemon = daemon;
    w->warnings = g_ptr_array_new_with_free_func(g_free);
    w->opts.warnings = w->warnings;
    w->default_spare_ports = daemon->opts.spare_ports;
    w->then = then;
    if (!vnic_api_arg_string(request, "xml", TRUE, &xml, &error) ||
        !plan_options(request, &w->opts, &error)) {
        define_work_free(w);
        vnic_api_request_fail(request, error);
        return;
    }
    w->xml = g_strdup(xml);
    vnic_daemon_off_loop(request, strlen(w->xml), define_parse, w, (GDestroyNotify)define_work_free, define_done);
}

static void
set_string_or_null(JsonObject *o, const char *key, const char *value)
{
    if (value)
        json_object_set_string_member(o, key, value);
    else
        json_object_set_null_member(o, key);
}

static JsonObject *
interface_json(VnicDomain *dom, const VnicConfDomain *def, const VnicConfDevice *dev)
{
    const VnicConfNic *nic = dev->nic;
    JsonObject *o = json_object_new();
    g_autofree char *mac = nic->has_mac ? vnic_conf_mac_format(nic->mac) : NULL;
    g_autofree char *addr = dev->addr.set ? vnic_pci_addr_format(&dev->addr) : NULL;
    g_autoptr(VnicPciGuestNames) names = NULL;

    set_string_or_null(o, "alias", dev->alias);
    json_object_set_string_member(o, "type", vnic_conf_nic_type_string(nic));
    /* a network NIC shows its network, as virsh domiflist does */
    set_string_or_null(o, "source",
                       nic->type == VNIC_CONF_NIC_NETWORK ? nic->network : nic->source);
    set_string_or_null(o, "target", nic->target_dev);
    set_string_or_null(o, "model", nic->model);
    set_string_or_null(o, "mac", mac);
    set_string_or_null(o, "address", addr);
    if (dev->addr.set) {
        names = vnic_pci_predict_names(def, &dev->addr, nic->acpi_index);
        set_string_or_null(o, "guest-name", vnic_pci_guest_names_preferred(names));
    } else {
        json_object_set_null_member(o, "guest-name");
    }
    json_object_set_string_member(o, "reconnect",
                                  vnic_conf_reconnect_to_string(vnic_conf_nic_reconnect_mode(def, dev)));
    /* a running NIC's life: its state, the carrier the guest sees */
    if (dom && def == dom->live && vnic_domain_get_nic(dom, dev->alias))
        vnic_nic_describe(vnic_domain_get_nic(dom, dev->alias), o);
    return o;
}

JsonObject *
vnic_daemon_interfaces_json(VnicDomain *dom, const VnicConfDomain *def)
{
    JsonObject *ret = json_object_new();
    JsonArray *list = json_array_new();

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        if (dev->kind == VNIC_CONF_DEV_INTERFACE)
            json_array_add_object_element(list, interface_json(dom, def, dev));
    }
    json_object_set_array_member(ret, "interfaces", list);
    return ret;
}
