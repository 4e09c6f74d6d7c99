/* daemon-update.c: virsh's update-device for an <interface>: the NIC with
 * the same MAC gets the element's link state, <bandwidth> and, for a
 * bridge NIC, its bridge.
 *
 * Live, each change goes where it lives: the link state is the NIC's
 * admin state (as domif-setlink: the heal comparison gives the guest
 * carrier), the bandwidth is tc on the host link (domiftune's code), a
 * new bridge is the tap re-enslaved there and the live definition's
 * <source bridge>, which the healing code (daemon-heal.c) keeps from then
 * on.  What a running NIC cannot change (type, model, MAC, MTU, host
 * device, queues, address) is refused naming it, before anything changes.
 * The config takes the element as given, in the old one's place (its
 * address and ACPI index kept when the element has none).
 */
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-nic.h"

#include <string.h>

static GError *
refuse(const VnicDomain *dom, const VnicConfDevice *dev, const char *what, const char *old,
       const char *new)
{
    return g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                       "domain '%s': the %s of running NIC '%s' cannot change live ('%s' to "
                       "'%s'): detach and attach it, or use --config and restart", dom->name,
                       what, dev->alias, old ? old : "none", new ? new : "none");
}

static char *
uint_text(guint v)
{
    return v ? g_strdup_printf("%u", v) : NULL;
}

/* The first difference the running NIC @old cannot take from @new. */
static GError *
check_live_change(const VnicDomain *dom, const VnicConfDevice *old, const VnicConfDevice *new)
{
    const VnicConfNic *o = old->nic, *n = new->nic;
    g_autofree char *omtu = uint_text(o->mtu), *nmtu = uint_text(n->mtu);
    g_autofree char *oq = uint_text(o->queues), *nq = uint_text(n->queues);
    g_autofree char *oaddr = old->addr.set ? vnic_pci_addr_format(&old->addr) : NULL;
    g_autofree char *naddr = new->addr.set ? vnic_pci_addr_format(&new->addr) : NULL;
    const char *omodel = o->model ? o->model : "virtio", *nmodel = n->model ? n->model : "virtio";

    if (o->type != n->type)
        return refuse(dom, old, "type", vnic_conf_nic_type_string(o),
                      vnic_conf_nic_type_string(n));
    if (strcmp(omodel, nmodel) != 0)
        return refuse(dom, old, "model", omodel, nmodel);
    if (o->mtu != n->mtu)
        return refuse(dom, old, "MTU", omtu, nmtu);
    if (o->queues != n->queues && n->queues > 1)
        return refuse(dom, old, "queue count", oq, nq);
    if (n->target_dev && g_strcmp0(o->target_dev, n->target_dev) != 0)
        return refuse(dom, old, "host device", o->target_dev, n->target_dev);
    if (naddr && g_strcmp0(oaddr, naddr) != 0)
        return refuse(dom, old, "PCI address", oaddr, naddr);
    if (n->type == VNIC_CONF_NIC_NETWORK && g_strcmp0(o->network, n->network) != 0)
        return refuse(dom, old, "network", o->network, n->network);
    if ((n->type == VNIC_CONF_NIC_DIRECT || n->type == VNIC_CONF_NIC_VHOSTUSER) &&
        (g_strcmp0(o->source, n->source) != 0 || g_strcmp0(o->source_mode, n->source_mode) != 0))
        return refuse(dom, old, n->type == VNIC_CONF_NIC_DIRECT ? "lower device" : "socket",
                      o->source, n->source);
    return NULL;
}

static VnicOwnedLink *
owned_tap(VnicDomain *dom, const char *alias)
{
    for (guint i = 0; i < dom->links->len; i++) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i);

        if (o->link->kind == VNIC_HOST_LINK_TAP && g_strcmp0(o->alias, alias) == 0)
            return o;
    }
    return NULL;
}

/* The tap onto bridge @bridge, and the live <source bridge> with it. */
static gboolean
move_to_bridge(VnicDomain *dom, VnicConfDevice *dev, VnicNic *nic, const char *bridge,
               GError **error)
{
    VnicOwnedLink *tap = owned_tap(dom, dev->alias);

    if (!vnic_host_link_check(bridge, TRUE, error))
        return FALSE;
    if (tap == NULL) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                    "domain '%s': NIC '%s' has no tap of vnic's to move (an existing tap, "
                    "managed='no', stays where its owner put it)", dom->name, dev->alias);
        return FALSE;
    }
    if (nic->busy) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                    "domain '%s': NIC '%s' is %s: try again when its backend is back",
                    dom->name, dev->alias, vnic_nic_state_to_string(nic->state));
        return FALSE;
    }
    if (!vnic_host_tap_enslave(tap->link, bridge, dev->nic->mtu, error))
        return FALSE;
    g_message("domain '%s': NIC '%s' moved from bridge '%s' to '%s'", dom->name, dev->alias,
              dev->nic->source ? dev->nic->source : "none", bridge);
    g_free(dev->nic->source);
    dev->nic->source = g_strdup(bridge);
    return TRUE;
}

static gboolean
rates_differ(const VnicConfRate *a, const VnicConfRate *b)
{
    return a->average != b->average || a->peak != b->peak || a->burst != b->burst;
}

/* Applies @new's link state, bandwidth and bridge to the running NIC.
 * Fills @changed with what changed. */
static gboolean
update_live(VnicDomain *dom, const VnicConfDevice *new, JsonArray *changed, GError **error)
{
    g_autofree char *mac = vnic_conf_mac_format(new->nic->mac);
    VnicConfDevice *dev = vnic_domain_find_interface(dom->live, mac);
    VnicNic *nic = dev ? vnic_domain_get_nic(dom, dev->alias) : NULL;
    gboolean up = new->nic->link_up != VNIC_TRISTATE_NO;

    if (nic == NULL) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "domain '%s' has no running NIC with MAC %s", dom->name, mac);
        return FALSE;
    }
    if ((*error = check_live_change(dom, dev, new)))
        return FALSE;
    if (new->nic->type == VNIC_CONF_NIC_BRIDGE && g_strcmp0(dev->nic->source, new->nic->source)) {
        if (!move_to_bridge(dom, dev, nic, new->nic->source, error))
            return FALSE;
        json_array_add_string_element(changed, "bridge");
    }
    if (rates_differ(&dev->nic->inbound, &new->nic->inbound) ||
        rates_differ(&dev->nic->outbound, &new->nic->outbound)) {
        if (!vnic_domain_tune_nic_live(dom, dev, &new->nic->inbound, &new->nic->outbound, error))
            return FALSE;
        json_array_add_string_element(changed, "bandwidth");
    }
    if (up != nic->admin_up) {
        nic->admin_up = up;
        dev->nic->link_up = up ? VNIC_TRISTATE_ABSENT : VNIC_TRISTATE_NO;
        json_array_add_string_element(changed, "link");
    }
    if (!vnic_state_write_status(dom, error))
        return FALSE;
    /* carrier (and a tap off its bridge) follow from the comparison */
    vnic_nic_heal(nic);
    return TRUE;
}

/* The config's NIC with @new's MAC replaced by @new (slot kept). */
static gboolean
update_config(VnicDomain *dom, VnicConfDevice **new, GError **error)
{
    g_autofree char *mac = vnic_conf_mac_format((*new)->nic->mac);
    VnicConfDevice *old = vnic_domain_find_interface(dom->config, mac);
    guint index;

    if (old == NULL || !g_ptr_array_find(dom->config->devices, old, &index)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "domain '%s' has no NIC with MAC %s in its config", dom->name, mac);
        return FALSE;
    }
    if (!(*new)->addr.set)
        (*new)->addr = old->addr;
    if ((*new)->nic->acpi_index == 0)
        (*new)->nic->acpi_index = old->nic->acpi_index;
    dom->config->devices->pdata[index] = *new;
    if (!vnic_state_write_config(dom->daemon, dom, error)) {
        dom->config->devices->pdata[index] = old;
        return FALSE;
    }
    *new = NULL;
    vnic_conf_device_free(old);
    return TRUE;
}

/* The <interface> @xml, parsed, with the MAC that names the NIC to update. */
static VnicConfDevice *
parse_interface(const char *xml, GError **error)
{
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(NULL, xml, strlen(xml), error);

    if (dev == NULL)
        return NULL;
    if (!dev->nic->has_mac) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "update-device: the <interface> needs its <mac address>: the NIC "
                    "to update is the one with that MAC");
        return NULL;
    }
    return g_steal_pointer(&dev);
}

/* The update itself: the running NIC and/or the config, as the flags say.
 * Fills @changed with what changed live. */
static gboolean
update_device(VnicDomain *dom, VnicApiRequest *request, JsonArray *changed, GError **error)
{
    g_autoptr(VnicConfDevice) live_dev = NULL, config_dev = NULL;
    g_autofree char *mac = NULL;
    const char *xml = NULL;
    gboolean live = FALSE, config = FALSE;

    /* parsed twice: update_config() takes one copy into the config */
    if (!vnic_hotplug_resolve_flags(dom, request, &live, &config, error) ||
        !vnic_hotplug_small_xml_arg(request, &xml, error) ||
        !(live_dev = parse_interface(xml, error)) ||
        !(config_dev = parse_interface(xml, error)))
        return FALSE;
    /* the config is checked first: a live change is not undone if it fails */
    mac = vnic_conf_mac_format(live_dev->nic->mac);
    if (config && !vnic_domain_find_interface(dom->config, mac)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "domain '%s' has no NIC with MAC %s in its config", dom->name, mac);
        return FALSE;
    }
    if (live && !update_live(dom, live_dev, changed, error))
        return FALSE;
    if (config && !update_config(dom, &config_dev, error)) {
        if (live)
            g_prefix_error(error, "the running guest is updated, but not the config: ");
        return FALSE;
    }
    return TRUE;
}

static void
update_job(VnicDomain *dom, VnicApiRequest *request)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonArray) changed = json_array_new();

    if (update_device(dom, request, changed, &error)) {
        JsonObject *ret = json_object_new();

        json_object_set_array_member(ret, "changed", g_steal_pointer(&changed));
        vnic_api_request_return_object(request, ret);
    } else {
        vnic_api_request_error(request, error);
    }
    vnic_domain_job_done(dom);
}

void
vnic_cmd_update_device(VnicApiRequest *request, gpointer data)
{
    GError *error = NULL;
    const char *name = NULL;
    VnicDomain *dom;

    if (!vnic_api_arg_string(request, "name", TRUE, &name, &error) ||
        !(dom = vnic_daemon_lookup(data, name, &error))) {
        vnic_api_request_fail(request, error);
        return;
    }
    vnic_domain_job_queue(dom, update_job, request);
}
