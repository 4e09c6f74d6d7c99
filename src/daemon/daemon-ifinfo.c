/* daemon-ifinfo.c: virsh's verbs that read or tune one NIC's host side:
 * domiflist (also of the stored config), domifstat (the host link's
 * counters), domifaddr (the host's neighbour table, or the guest agent)
 * and domiftune (<bandwidth>, live by tc and/or in the config).
 *
 * domifstat counts as virsh does: from the guest's point of view for a
 * tap (rx_bytes is what the guest received, the tap's tx), from the
 * host's for a macvtap, whose counters the guest and host share.
 */
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-nic.h"
#include "conf/conf-iface-build.h"
#include "host/host-iface.h"

#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

static GError *
not_running(const VnicDomain *dom)
{
    return g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                       "domain '%s' is not running", dom->name);
}

static GError *
no_interface(const VnicDomain *dom, const char *which)
{
    return g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                       "domain '%s' has no interface '%s' (a host device, MAC or alias)",
                       dom->name, which);
}

/* The domain a request's "name" names, or NULL after replying. */
static VnicDomain *
domain_of(VnicApiRequest *request, VnicDaemon *daemon)
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

/* The running domain's NIC that "interface" names, or NULL after replying. */
static VnicConfDevice *
live_interface(VnicApiRequest *request, VnicDomain *dom)
{
    GError *error = NULL;
    const char *which = NULL;
    VnicConfDevice *dev = NULL;

    if (!vnic_api_arg_string(request, "interface", TRUE, &which, &error))
        ;
    else if (!dom->live || !dom->process)
        error = not_running(dom);
    else if (!(dev = vnic_domain_find_interface(dom->live, which)))
        error = no_interface(dom, which);
    if (error)
        vnic_api_request_fail(request, error);
    return dev;
}

/* ---- domiflist ---------------------------------------------------------- */

void
vnic_cmd_domiflist(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_of(request, data);
    GError *error = NULL;
    gboolean inactive = FALSE;

    if (!dom)
        return;
    if (!vnic_api_arg_bool(request, "inactive", &inactive, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    vnic_api_request_return_object(request,
                                   vnic_daemon_interfaces_json(dom, dom->live && !inactive
                                                                        ? dom->live
                                                                        : dom->config));
}

/* ---- domifstat ---------------------------------------------------------- */

static void
set_stats(JsonObject *ret, const char *prefix, guint64 bytes, guint64 packets, guint64 errs,
          guint64 drop)
{
    g_autofree char *b = g_strconcat(prefix, "_bytes", NULL);
    g_autofree char *p = g_strconcat(prefix, "_packets", NULL);
    g_autofree char *e = g_strconcat(prefix, "_errs", NULL);
    g_autofree char *d = g_strconcat(prefix, "_drop", NULL);

    json_object_set_int_member(ret, b, (gint64) bytes);
    json_object_set_int_member(ret, p, (gint64) packets);
    json_object_set_int_member(ret, e, (gint64) errs);
    json_object_set_int_member(ret, d, (gint64) drop);
}

void
vnic_cmd_domifstat(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_of(request, data);
    VnicConfDevice *dev = dom ? live_interface(request, dom) : NULL;
    VnicHostLinkStats s = { 0 };
    GError *error = NULL;
    JsonObject *ret;
    gboolean host_view;

    if (!dev)
        return;
    if (dev->nic->target_dev == NULL) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR,
                                                   VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                                                   "domain '%s': NIC '%s' (%s) has no host "
                                                   "link to count on", dom->name, dev->alias,
                                                   vnic_conf_nic_type_string(dev->nic)));
        return;
    }
    if (!vnic_host_link_stats(dev->nic->target_dev, &s, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    host_view = vnic_conf_nic_backend_type(dev->nic) == VNIC_CONF_NIC_DIRECT;
    ret = json_object_new();
    json_object_set_string_member(ret, "interface", dev->nic->target_dev);
    json_object_set_string_member(ret, "alias", dev->alias);
    if (host_view) {
        set_stats(ret, "rx", s.rx_bytes, s.rx_packets, s.rx_errs, s.rx_drop);
        set_stats(ret, "tx", s.tx_bytes, s.tx_packets, s.tx_errs, s.tx_drop);
    } else {
        set_stats(ret, "rx", s.tx_bytes, s.tx_packets, s.tx_errs, s.tx_drop);
        set_stats(ret, "tx", s.rx_bytes, s.rx_packets, s.rx_errs, s.rx_drop);
    }
    vnic_api_request_return_object(request, ret);
}

/* ---- domifaddr ---------------------------------------------------------- */

/* One NIC's {"name", "alias", "hwaddr", "addrs": [{"type", "addr", "prefix"}]}
 * from the host's neighbour table (no prefix there: virsh prints /0). */
static JsonObject *
arp_entry(const VnicConfDevice *dev, GError **error)
{
    g_autoptr(GPtrArray) found = vnic_host_neighbours_of_mac(dev->nic->mac, error);
    g_autofree char *mac = vnic_conf_mac_format(dev->nic->mac);
    JsonObject *o;
    JsonArray *addrs;

    if (!found)
        return NULL;
    o = json_object_new();
    addrs = json_array_new();
    json_object_set_string_member(o, "name", dev->nic->target_dev ? dev->nic->target_dev
                                                                  : dev->alias);
    json_object_set_string_member(o, "alias", dev->alias);
    json_object_set_string_member(o, "hwaddr", mac);
    for (guint i = 0; i < found->len; i++) {
        const VnicHostNeighbour *n = g_ptr_array_index(found, i);
        JsonObject *a = json_object_new();

        json_object_set_string_member(a, "type", n->family == AF_INET6 ? "ipv6" : "ipv4");
        json_object_set_string_member(a, "addr", n->address);
        json_object_set_int_member(a, "prefix", 0);
        if (n->dev)
            json_object_set_string_member(a, "learnt-on", n->dev);
        json_array_add_object_element(addrs, a);
    }
    json_object_set_array_member(o, "addrs", addrs);
    return o;
}

void
vnic_cmd_domifaddr(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_of(request, data);
    const char *source = NULL, *which = NULL;
    GError *error = NULL;
    JsonArray *list;
    JsonObject *ret;

    if (!dom)
        return;
    if (!vnic_api_arg_string(request, "source", FALSE, &source, &error) ||
        !vnic_api_arg_string(request, "interface", FALSE, &which, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    if (source == NULL)
        source = "arp";
    if (strcmp(source, "arp") != 0 && strcmp(source, "agent") != 0) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR,
                                                   VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                                                   "argument 'source': '%s' is neither 'arp' "
                                                   "nor 'agent' (vnic has no 'lease' source: "
                                                   "it runs no DHCP server)", source));
        return;
    }
    if (!dom->live || !dom->process) {
        vnic_api_request_fail(request, not_running(dom));
        return;
    }
    if (which && !vnic_domain_find_interface(dom->live, which)) {
        vnic_api_request_fail(request, no_interface(dom, which));
        return;
    }
    if (strcmp(source, "agent") == 0) {
        const VnicConfDevice *d = which ? vnic_domain_find_interface(dom->live, which) : NULL;
        g_autofree char *mac = d && d->nic->has_mac ? vnic_conf_mac_format(d->nic->mac) : NULL;

        vnic_domain_agent_interfaces(dom, mac, request);
        return;
    }
    list = json_array_new();
    for (guint i = 0; i < dom->live->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(dom->live->devices, i);
        JsonObject *o;

        if (d->kind != VNIC_CONF_DEV_INTERFACE || !d->nic->has_mac ||
            (which && d != vnic_domain_find_interface(dom->live, which)))
            continue;
        if (!(o = arp_entry(d, &error))) {
            json_array_unref(list);
            vnic_api_request_fail(request, error);
            return;
        }
        json_array_add_object_element(list, o);
    }
    ret = json_object_new();
    json_object_set_array_member(ret, "interfaces", list);
    vnic_api_request_return_object(request, ret);
}

/* ---- domiftune ---------------------------------------------------------- */

static JsonObject *
rate_json(const VnicConfRate *r)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "average", (gint64) r->average);
    json_object_set_int_member(o, "peak", (gint64) r->peak);
    json_object_set_int_member(o, "burst", (gint64) r->burst);
    return o;
}

static JsonObject *
tune_json(const VnicConfDevice *dev)
{
    JsonObject *ret = json_object_new();

    json_object_set_object_member(ret, "inbound", rate_json(&dev->nic->inbound));
    json_object_set_object_member(ret, "outbound", rate_json(&dev->nic->outbound));
    return ret;
}

/* "inbound"/"outbound": absent keeps @rate, "0" clears it, else
 * "average[,peak[,burst]]". */
static gboolean
tune_rate_arg(VnicApiRequest *request, const char *member, VnicConfRate *rate,
              gboolean *given, GError **error)
{
    const char *text = NULL;
    g_autofree char *what = g_strdup_printf("argument '%s'", member);

    if (!vnic_api_arg_string(request, member, FALSE, &text, error))
        return FALSE;
    if (text == NULL)
        return TRUE;
    *given = TRUE;
    if (strcmp(text, "0") == 0) {
        *rate = (VnicConfRate) { 0 };
        return TRUE;
    }
    if (vnic_conf_rate_parse(text, what, rate, error))
        return TRUE;
    (*error)->domain = VNIC_DAEMON_ERROR;
    (*error)->code = VNIC_DAEMON_ERROR_INVALID_ARGUMENTS;
    return FALSE;
}

/* The config's NIC for @which: by its own names, else through the
 * running NIC of that name (same MAC). */
static VnicConfDevice *
config_interface(VnicDomain *dom, const char *which)
{
    VnicConfDevice *dev = vnic_domain_find_interface(dom->config, which);
    VnicConfDevice *live = dom->live ? vnic_domain_find_interface(dom->live, which) : NULL;
    g_autofree char *mac = NULL;

    if (dev || !live || !live->nic->has_mac)
        return dev;
    mac = vnic_conf_mac_format(live->nic->mac);
    return vnic_domain_find_interface(dom->config, mac);
}

/* The ledger entry of NIC @alias's IFB, or NULL. */
static VnicOwnedLink *
owned_ifb(VnicDomain *dom, const char *alias)
{
    for (guint i = 0; i < dom->links->len; i++) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i);

        if (o->link->kind == VNIC_HOST_LINK_IFB && g_strcmp0(o->alias, alias) == 0)
            return o;
    }
    return NULL;
}

/* tc on the running NIC's link, the ledger kept in step (its IFB). */
gboolean
vnic_domain_tune_nic_live(VnicDomain *dom, VnicConfDevice *dev, const VnicConfRate *in, const VnicConfRate *out,
          GError **error)
{
    VnicOwnedLink *old = owned_ifb(dom, dev->alias);
    g_autoptr(VnicHostLink) ifb = old ? vnic_host_link_copy(old->link) : NULL;
    VnicHostLink link = { dev->nic->target_dev, 0, VNIC_HOST_LINK_TAP };
    VnicConfNic wanted;
    gboolean ok;

    if (dev->nic->target_dev == NULL || !(link.ifindex = if_nametoindex(dev->nic->target_dev))) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                    "domain '%s': NIC '%s' has no host link to shape", dom->name, dev->alias);
        return FALSE;
    }
    wanted = *dev->nic;
    wanted.inbound = *in;
    wanted.outbound = *out;
    ok = vnic_host_bandwidth_replace(&link, &wanted, &ifb, error);
    if (old && (!ifb || ifb->ifindex != old->link->ifindex))
        g_ptr_array_remove(dom->links, old);
    if (ifb && (!old || ifb->ifindex != old->link->ifindex))
        vnic_domain_own_link(dom, ifb, dev->alias);
    if (!ok)
        return FALSE;
    vnic_conf_nic_set_bandwidth(dev, in, out);
    return vnic_state_write_status(dom, error);
}

static void
domiftune_job(VnicDomain *dom, VnicApiRequest *request)
{
    g_autoptr(GError) error = NULL;
    const char *which = NULL;
    gboolean live = FALSE, config = FALSE, given = FALSE;
    VnicConfDevice *ldev = NULL, *cdev = NULL, *shown;
    VnicConfRate in, out;

    if (!vnic_api_arg_string(request, "interface", TRUE, &which, &error) ||
        !vnic_hotplug_resolve_flags(dom, request, &live, &config, &error))
        goto done;
    if ((live && !(ldev = vnic_domain_find_interface(dom->live, which))) ||
        (config && !(cdev = config_interface(dom, which)))) {
        error = no_interface(dom, which);
        if (live && ldev)
            g_prefix_error(&error, "in the config: ");
        goto done;
    }
    shown = ldev ? ldev : cdev;
    in = shown->nic->inbound;
    out = shown->nic->outbound;
    if (!tune_rate_arg(request, "inbound", &in, &given, &error) ||
        !tune_rate_arg(request, "outbound", &out, &given, &error))
        goto done;
    if (!given) {
        vnic_api_request_return_object(request, tune_json(shown));
        vnic_domain_job_done(dom);
        return;
    }
    if (ldev && !vnic_domain_tune_nic_live(dom, ldev, &in, &out, &error))
        goto done;
    if (cdev) {
        vnic_conf_nic_set_bandwidth(cdev, &in, &out);
        if (!vnic_state_write_config(dom->daemon, dom, &error)) {
            if (ldev)
                g_prefix_error(&error, "the running guest is tuned, but not the config: ");
            goto done;
        }
    }
    vnic_api_request_return_object(request, tune_json(shown));
    vnic_domain_job_done(dom);
    return;
done:
    vnic_api_request_error(request, error);
    vnic_domain_job_done(dom);
}

void
vnic_cmd_domiftune(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_of(request, data);

    if (dom)
        vnic_domain_job_queue(dom, domiftune_job, request);
}
