/* daemon-iface.c: a running NIC's link, as virsh's domif-getlink and
 * domif-setlink see it.
 *
 * The state asked for (admin: <link state>, domif-setlink) and the carrier
 * the guest sees are two things once backends heal: a NIC waiting for its
 * host device has no carrier whatever was asked.  getlink reports the
 * carrier; setlink changes the admin state, and the carrier follows it
 * whenever the backend works (daemon-heal.c keeps them in step).
 */
#include "daemon/daemon-nic.h"
#include "qemu/qemu-hub.h"
#include "qemu/qemu-process.h"

#include <string.h>

/* The NIC an "interface" argument names: its host device, MAC or id. */
VnicConfDevice *
vnic_domain_find_interface(const VnicConfDomain *def, const char *which)
{
    guint8 mac[6];
    gboolean is_mac = vnic_conf_mac_parse(which, mac);

    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind != VNIC_CONF_DEV_INTERFACE)
            continue;
        if (g_strcmp0(d->nic->target_dev, which) == 0 || g_strcmp0(d->alias, which) == 0 ||
            (is_mac && d->nic->has_mac && memcmp(d->nic->mac, mac, 6) == 0))
            return d;
    }
    return NULL;
}

/* The running domain and NIC a request names, or NULL after replying. */
static VnicNic *
nic_arg(VnicApiRequest *request, VnicDaemon *daemon, VnicConfDevice **ret_dev)
{
    GError *error = NULL;
    const char *name = NULL, *which = NULL;
    VnicDomain *dom;
    VnicConfDevice *dev = NULL;
    VnicNic *nic = NULL;

    if (!vnic_api_arg_string(request, "name", TRUE, &name, &error) ||
        !vnic_api_arg_string(request, "interface", TRUE, &which, &error) ||
        !(dom = vnic_daemon_lookup(daemon, name, &error))) {
        vnic_api_request_fail(request, error);
        return NULL;
    }
    if (!dom->live || !dom->process)
        error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                            "domain '%s' is not running", dom->name);
    else if (!(dev = vnic_domain_find_interface(dom->live, which)) || !(nic = vnic_domain_get_nic(dom, dev->alias)))
        error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                            "domain '%s' has no interface '%s' (a host device, MAC or alias)",
                            dom->name, which);
    if (error) {
        vnic_api_request_fail(request, error);
        return NULL;
    }
    *ret_dev = dev;
    return nic;
}

static JsonObject *
link_json(const VnicNic *nic, const VnicConfDevice *dev)
{
    JsonObject *ret = json_object_new();

    json_object_set_string_member(ret, "interface",
                                  dev->nic->target_dev ? dev->nic->target_dev : nic->alias);
    json_object_set_string_member(ret, "alias", nic->alias);
    json_object_set_string_member(ret, "state", nic->carrier ? "up" : "down");
    json_object_set_string_member(ret, "admin", nic->admin_up ? "up" : "down");
    return ret;
}

void
vnic_cmd_domif_getlink(VnicApiRequest *request, gpointer data)
{
    VnicConfDevice *dev;
    VnicNic *nic = nic_arg(request, data, &dev);

    if (nic)
        vnic_api_request_return_object(request, link_json(nic, dev));
}

static gboolean
setlink_reply(gpointer data)
{
    vnic_api_request_return_object(data, json_object_new());
    return G_SOURCE_REMOVE;
}

void
vnic_cmd_domif_setlink(VnicApiRequest *request, gpointer data)
{
    VnicConfDevice *dev;
    VnicNic *nic = nic_arg(request, data, &dev);
    const char *state = NULL;
    GError *error = NULL;
    gboolean up;

    if (!nic)
        return;
    if (!vnic_api_arg_string(request, "state", TRUE, &state, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    if (strcmp(state, "up") != 0 && strcmp(state, "down") != 0) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR,
                                                   VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                                                   "argument 'state': '%s' is neither 'up' nor "
                                                   "'down'", state));
        return;
    }
    up = strcmp(state, "up") == 0;
    nic->admin_up = up;
    /* dumpxml shows it, as libvirt's live XML does */
    dev->nic->link_up = up ? VNIC_TRISTATE_ABSENT : VNIC_TRISTATE_NO;
    if (!vnic_state_write_status(nic->dom, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    /* the heal comparison sets the carrier (up only with a working
     * backend); the reply waits for that step, so a caller that reads the
     * guest's carrier next sees it */
    vnic_nic_heal(nic);
    vnic_nic_when_idle(nic, setlink_reply, request);
}
