/* daemon-network.c: vnic's libvirt-style networks: the registry, their
 * files, the net-* commands, and resolving a domain's network NICs.
 *
 * A network names host devices vnic already drives (conf-network.h): an
 * existing bridge, or a pool of NICs for macvtaps.  net-start checks they
 * exist (nothing is created: the bridge and NICs are the host's), so an
 * active network is one whose devices were there when it started.  A
 * domain NIC <interface type='network'> is resolved when the domain starts
 * or the NIC is hot-plugged: the live definition then says which bridge,
 * or which device and mode (<source network dev mode>), and the host
 * layer plugs it like type='bridge' or type='direct'.  A pool device is
 * the one used least by running domains (first in document order on a
 * tie), as libvirt chooses; a passthrough device serves one NIC at a time.
 *
 * Files: <state-dir>/networks/NAME.xml (config), NAME.autostart (empty
 * marker), <run-dir>/networks/NAME.active (empty marker: active across a
 * daemon restart, like libvirt's network status).
 */
#include "daemon/daemon-lifecycle.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "conf/conf-network.h"

typedef struct {
    VnicConfNetwork *def;
    gboolean active;
    gboolean autostart;
} VnicNetwork;

static void
network_free(VnicNetwork *net)
{
    vnic_conf_network_free(net->def);
    g_free(net);
}

static GHashTable *
registry(VnicDaemon *daemon)
{
    if (daemon->networks == NULL)
        daemon->networks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                 (GDestroyNotify)network_free);
    return daemon->networks;
}

void
vnic_networks_free(VnicDaemon *daemon)
{
    g_clear_pointer(&daemon->networks, g_hash_table_unref);
}

static char *
net_path(VnicDaemon *daemon, gboolean run, const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);

    return g_build_filename(run ? daemon->opts.run_dir : daemon->opts.state_dir, "networks",
                            file, NULL);
}

static gboolean
set_marker(VnicDaemon *daemon, VnicNetwork *net, gboolean run, const char *suffix, gboolean on,
           GError **error)
{
    g_autofree char *path = net_path(daemon, run, net->def->name, suffix);

    if (on)
        return vnic_state_write_file(path, "", error);
    g_unlink(path);
    return TRUE;
}

static VnicNetwork *
lookup(VnicDaemon *daemon, const char *name, GError **error)
{
    VnicNetwork *net = g_hash_table_lookup(registry(daemon), name);

    if (net == NULL)
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_NETWORK_NOT_FOUND,
                    "no network with matching name '%s'", name);
    return net;
}

/* The host devices must be there: vnic creates none of them. */
static gboolean
check_host(const VnicConfNetwork *def, GError **error)
{
    if (def->kind == VNIC_CONF_NET_BRIDGE)
        return vnic_host_link_check(def->bridge, TRUE, error);
    for (guint i = 0; i < def->devs->len; i++) {
        if (!vnic_host_link_check(g_ptr_array_index(def->devs, i), FALSE, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
network_start(VnicDaemon *daemon, VnicNetwork *net, GError **error)
{
    if (net->active) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                    "network '%s' is already active", net->def->name);
        return FALSE;
    }
    if (!check_host(net->def, error)) {
        g_prefix_error(error, "network '%s': ", net->def->name);
        return FALSE;
    }
    if (!set_marker(daemon, net, TRUE, ".active", TRUE, error))
        return FALSE;
    net->active = TRUE;
    return TRUE;
}

gboolean
vnic_networks_load(VnicDaemon *daemon, GError **error)
{
    g_autofree char *dir_path = g_build_filename(daemon->opts.state_dir, "networks", NULL);
    g_autoptr(GDir) dir = NULL;
    const char *file;

    if (g_mkdir_with_parents(dir_path, 0700) < 0 || !(dir = g_dir_open(dir_path, 0, error)))
        return FALSE;
    while ((file = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(dir_path, file, NULL);
        g_autofree char *text = NULL, *active = NULL, *autostart = NULL;
        g_autoptr(GError) local = NULL;
        gsize len = 0;
        VnicConfNetwork *def;
        VnicNetwork *net;

        if (!g_str_has_suffix(file, ".xml"))
            continue;
        if (!g_file_get_contents(path, &text, &len, &local) ||
            !(def = vnic_conf_network_parse(text, len, &local))) {
            g_warning("ignoring network config %s: %s", path, local->message);
            continue;
        }
        net = g_new0(VnicNetwork, 1);
        net->def = def;
        active = net_path(daemon, TRUE, def->name, ".active");
        autostart = net_path(daemon, FALSE, def->name, ".autostart");
        net->active = g_file_test(active, G_FILE_TEST_EXISTS);
        net->autostart = g_file_test(autostart, G_FILE_TEST_EXISTS);
        g_hash_table_insert(registry(daemon), g_strdup(def->name), net);
        if (net->autostart && !net->active && !network_start(daemon, net, &local))
            g_warning("autostart of network '%s': %s", def->name, local->message);
    }
    return TRUE;
}

/* ---- resolving a domain's NICs ------------------------------------------ */

/* How many NICs of running domains (but @self) use pool device @dev. */
static guint
device_users(VnicDaemon *daemon, const VnicConfDomain *self, const char *network,
             const char *dev)
{
    GHashTableIter iter;
    gpointer value;
    guint n = 0;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const VnicDomain *dom = value;
        const VnicConfDomain *def = dom->live;

        if (def == NULL || def == self)
            continue;
        for (guint i = 0; i < def->devices->len; i++) {
            const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
            if (d->kind == VNIC_CONF_DEV_INTERFACE && d->nic->type == VNIC_CONF_NIC_NETWORK &&
                g_strcmp0(d->nic->network, network) == 0 &&
                g_strcmp0(d->nic->source, dev) == 0)
                n++;
        }
    }
    return n;
}

static guint
self_users(const VnicConfDomain *self, const VnicConfDevice *skip, const char *network,
           const char *dev)
{
    guint n = 0;

    for (guint i = 0; self != NULL && i < self->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(self->devices, i);
        if (d != skip && d->kind == VNIC_CONF_DEV_INTERFACE &&
            d->nic->type == VNIC_CONF_NIC_NETWORK && g_strcmp0(d->nic->network, network) == 0 &&
            g_strcmp0(d->nic->source, dev) == 0)
            n++;
    }
    return n;
}

static const char *
pick_device(VnicDaemon *daemon, const VnicConfDomain *def, const VnicConfDevice *dev,
            const VnicConfNetwork *net, GError **error)
{
    gboolean exclusive = strcmp(net->mode, "passthrough") == 0;
    const char *best = NULL;
    guint best_n = G_MAXUINT;

    for (guint i = 0; i < net->devs->len; i++) {
        const char *cand = g_ptr_array_index(net->devs, i);
        guint n = device_users(daemon, def, net->name, cand) +
                  self_users(def, dev, net->name, cand);

        if (exclusive && n > 0)
            continue;
        if (n < best_n) {
            best = cand;
            best_n = n;
        }
    }
    if (best == NULL)
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                    "network '%s' has no free device: <forward mode='passthrough'> gives each "
                    "of its %u device(s) to one interface", net->name, net->devs->len);
    return best;
}

gboolean
vnic_network_resolve_nic(VnicDaemon *daemon, const VnicConfDomain *def, VnicConfDevice *dev,
                         GError **error)
{
    VnicConfNic *nic = dev->nic;
    VnicNetwork *net;
    const char *pick;

    if (nic->type != VNIC_CONF_NIC_NETWORK)
        return TRUE;
    if (!(net = lookup(daemon, nic->network, error)))
        return FALSE;
    if (!net->active) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                    "network '%s' is not active: start it with net-start", nic->network);
        return FALSE;
    }
    if (nic->portgroup != NULL && !vnic_conf_network_has_portgroup(net->def, nic->portgroup)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "network '%s' has no portgroup '%s' (<source portgroup>)", nic->network,
                    nic->portgroup);
        return FALSE;
    }
    g_clear_pointer(&nic->source, g_free);
    g_clear_pointer(&nic->source_mode, g_free);
    if (net->def->kind == VNIC_CONF_NET_BRIDGE) {
        nic->source = g_strdup(net->def->bridge);
        return TRUE;
    }
    if (!(pick = pick_device(daemon, def, dev, net->def, error)))
        return FALSE;
    nic->source = g_strdup(pick);
    nic->source_mode = g_strdup(net->def->mode);
    return TRUE;
}

gboolean
vnic_networks_resolve(VnicDaemon *daemon, VnicConfDomain *def, GError **error)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind != VNIC_CONF_DEV_INTERFACE || dev->nic->type != VNIC_CONF_NIC_NETWORK)
            continue;
        /* unresolved first, so the pool counts only what is decided */
        g_clear_pointer(&dev->nic->source, g_free);
        g_clear_pointer(&dev->nic->source_mode, g_free);
    }
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == VNIC_CONF_DEV_INTERFACE &&
            !vnic_network_resolve_nic(daemon, def, dev, error)) {
            g_autofree char *what = vnic_conf_device_describe(def, dev);
            g_prefix_error(error, "%s: ", what);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- commands ------------------------------------------------------------ */

static VnicNetwork *
network_arg(VnicApiRequest *request, VnicDaemon *daemon)
{
    GError *error = NULL;
    const char *name = NULL;
    VnicNetwork *net;

    if (!vnic_api_arg_string(request, "network", TRUE, &name, &error) ||
        !(net = lookup(daemon, name, &error))) {
        vnic_api_request_fail(request, error);
        return NULL;
    }
    return net;
}

static JsonObject *
network_summary(const VnicNetwork *net)
{
    JsonObject *o = json_object_new();
    const VnicConfNetwork *def = net->def;

    json_object_set_string_member(o, "name", def->name);
    json_object_set_string_member(o, "uuid", def->uuid);
    json_object_set_string_member(o, "state", net->active ? "active" : "inactive");
    json_object_set_boolean_member(o, "autostart", net->autostart);
    json_object_set_string_member(o, "forward", def->mode);
    if (def->kind == VNIC_CONF_NET_BRIDGE) {
        json_object_set_string_member(o, "bridge", def->bridge);
    } else {
        JsonArray *devs = json_array_new();
        for (guint i = 0; i < def->devs->len; i++)
            json_array_add_string_element(devs, g_ptr_array_index(def->devs, i));
        json_object_set_array_member(o, "devices", devs);
    }
    return o;
}

/* What the net-define thread works on. */
typedef struct {
    VnicDaemon *daemon;      /* main loop only */
    char *xml;
    VnicConfNetwork *def;
} NetDefineWork;

static void
net_define_work_free(NetDefineWork *w)
{
    g_free(w->xml);
    if (w->def)
        vnic_conf_network_free(w->def);
    g_free(w);
}

/* In a thread (vnic_daemon_off_loop): conf is pure. */
static gboolean
net_define_parse(gpointer data, GError **error)
{
    NetDefineWork *w = data;

    w->def = vnic_conf_network_parse(w->xml, strlen(w->xml), error);
    return w->def && vnic_daemon_check_name("network", w->def->name, error);
}

/* Back on the main loop: the registry is checked when the definition is
 * stored, so two net-defines of one name in flight cannot both pass. */
static gboolean
define_network(VnicDaemon *daemon, VnicConfNetwork *parsed, VnicNetwork **ret, GError **error)
{
    g_autoptr(VnicConfNetwork) def = parsed;
    g_autofree char *path = NULL, *text = NULL, *uuid = NULL;
    VnicNetwork *old, *net;

    old = g_hash_table_lookup(registry(daemon), def->name);
    if (old != NULL && def->uuid != NULL && g_strcmp0(def->uuid, old->def->uuid) != 0) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_NETWORK_EXISTS,
                    "network '%s' already exists with uuid %s", def->name, old->def->uuid);
        return FALSE;
    }
    if (def->uuid == NULL) {
        uuid = old != NULL ? g_strdup(old->def->uuid) : g_uuid_string_random();
        vnic_conf_network_set_uuid(def, uuid);
    }
    path = net_path(daemon, FALSE, def->name, ".xml");
    text = vnic_conf_network_format(def);
    if (!vnic_state_write_file(path, text, error))
        return FALSE;
    /* an active network keeps running with what it started with: its new
     * definition applies from the next net-start, as in libvirt */
    net = g_new0(VnicNetwork, 1);
    net->def = g_steal_pointer(&def);
    net->active = old != NULL && old->active;
    net->autostart = old != NULL && old->autostart;
    g_hash_table_replace(registry(daemon), g_strdup(net->def->name), net);
    *ret = net;
    return TRUE;
}

static void
net_define_done(VnicApiRequest *request, gpointer data, GError *error)
{
    NetDefineWork *w = data;
    VnicNetwork *net = NULL;

    if (error || !define_network(w->daemon, g_steal_pointer(&w->def), &net, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    vnic_api_request_return_object(request, network_summary(net));
}

void
vnic_cmd_net_define(VnicApiRequest *request, gpointer data)
{
    GError *error = NULL;
    const char *xml = NULL;
    NetDefineWork *w;

    if (!vnic_api_arg_string(request, "xml", TRUE, &xml, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    w = g_new0(NetDefineWork, 1);
    w->daemon = data;
    w->xml = g_strdup(xml);
    vnic_daemon_off_loop(request, strlen(w->xml), net_define_parse, w, (GDestroyNotify)net_define_work_free,
                         net_define_done);
}

void
vnic_cmd_net_undefine(VnicApiRequest *request, gpointer data)
{
    VnicDaemon *daemon = data;
    VnicNetwork *net = network_arg(request, daemon);
    g_autofree char *path = NULL;

    if (!net)
        return;
    if (net->active) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                  "network '%s' is active: net-destroy it first",
                                  net->def->name));
        return;
    }
    path = net_path(daemon, FALSE, net->def->name, ".xml");
    g_unlink(path);
    set_marker(daemon, net, FALSE, ".autostart", FALSE, NULL);
    g_hash_table_remove(registry(daemon), net->def->name);
    vnic_api_request_return(request, NULL);
}

void
vnic_cmd_net_start(VnicApiRequest *request, gpointer data)
{
    VnicNetwork *net = network_arg(request, data);
    GError *error = NULL;

    if (!net)
        return;
    if (!network_start(data, net, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    vnic_api_request_return_object(request, network_summary(net));
}

/* Guests already plugged keep their ports (libvirt does the same for a
 * bridge network); new starts and hot-plugs are refused. */
void
vnic_cmd_net_destroy(VnicApiRequest *request, gpointer data)
{
    VnicNetwork *net = network_arg(request, data);

    if (!net)
        return;
    if (!net->active) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                  "network '%s' is not active", net->def->name));
        return;
    }
    set_marker(data, net, TRUE, ".active", FALSE, NULL);
    net->active = FALSE;
    vnic_api_request_return(request, NULL);
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    const VnicNetwork *x = *(VnicNetwork *const *)a, *y = *(VnicNetwork *const *)b;
    return strcmp(x->def->name, y->def->name);
}

void
vnic_cmd_net_list(VnicApiRequest *request, gpointer data)
{
    VnicDaemon *daemon = data;
    g_autoptr(GPtrArray) nets = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;
    GError *error = NULL;
    gboolean all = FALSE;
    JsonArray *list = json_array_new();
    JsonObject *ret = json_object_new();

    if (!vnic_api_arg_bool(request, "all", &all, &error)) {
        json_array_unref(list);
        json_object_unref(ret);
        vnic_api_request_fail(request, error);
        return;
    }
    g_hash_table_iter_init(&iter, registry(daemon));
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(nets, value);
    g_ptr_array_sort(nets, by_name);
    for (guint i = 0; i < nets->len; i++) {
        const VnicNetwork *net = g_ptr_array_index(nets, i);
        if (all || net->active)
            json_array_add_object_element(list, network_summary(net));
    }
    json_object_set_array_member(ret, "networks", list);
    vnic_api_request_return_object(request, ret);
}

void
vnic_cmd_net_dumpxml(VnicApiRequest *request, gpointer data)
{
    VnicNetwork *net = network_arg(request, data);
    g_autofree char *xml = NULL;
    JsonObject *ret;

    if (!net)
        return;
    xml = vnic_conf_network_format(net->def);
    ret = json_object_new();
    json_object_set_string_member(ret, "xml", xml);
    vnic_api_request_return_object(request, ret);
}

void
vnic_cmd_net_autostart(VnicApiRequest *request, gpointer data)
{
    VnicNetwork *net = network_arg(request, data);
    GError *error = NULL;
    gboolean disable = FALSE;

    if (!net)
        return;
    if (!vnic_api_arg_bool(request, "disable", &disable, &error) ||
        !set_marker(data, net, FALSE, ".autostart", !disable, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    net->autostart = !disable;
    vnic_api_request_return_object(request, network_summary(net));
}
