/* host-tap.c: the backends of <interface type='ethernet'> and type='bridge':
 * a tap from /dev/net/tun, one fd per queue.
 *
 * Steps, each a possible failure that host-backend.c rolls back:
 *   1. (bridge) check that <source bridge> exists and is a bridge, so a bad
 *      definition fails before anything is created;
 *   2. TUNSETIFF with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, IFF_MULTI_QUEUE when
 *      there is more than one queue, and IFF_TUN_EXCL when the user named
 *      the tap (<target dev>), so an existing link is never reused; without
 *      a name the kernel picks the lowest free vnetN from the template
 *      "vnet%d", atomically against every other creator;
 *   3. one more TUNSETIFF on the same name per further queue;
 *   4. the tap's MAC: the guest's with the first byte 0xFE, as libvirt does,
 *      so a bridge never takes the guest's address as its own (no guest MAC:
 *      the kernel's random one, first byte 0xFE too);
 *   5. the MTU: <mtu size>, else, on a bridge, the bridge's (libvirt's rule:
 *      a smaller port would lower the bridge's MTU);
 *   6. (bridge) enslaving to the bridge;
 *   7. up, unless <link state='down'>.
 * Steps 5 to 7 are also vnic_host_tap_enslave(): a tap that outlived its
 * bridge joins the bridge made again under that name.
 *
 * Taps are never made persistent: see host-backend.c.  Must not: reuse an
 * existing tap, or leave one behind on failure (closing our fds removes a
 * tap nobody else holds; the rollback deletes it by netlink anyway).
 */
#include "host/host-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#define TAP_TEMPLATE "vnet%d"

/* Opens one queue of tap @name into @backend and stores the name the kernel
 * gave it in @actual. */
static gboolean
tap_open_queue(VnicHostBackend *backend, const char *name, gboolean exclusive, gboolean multi,
               char actual[IFNAMSIZ], GError **error)
{
    struct ifreq ifr = { 0 };
    vnic_autofd int fd = -1;
    const char *step = backend->fds->len ? "adding a queue to" : "creating";

    if (vnic_host_test_should_fail())
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "injected failure", "%s tap '%s'", step,
                              name);
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return vnic_host_fail_errno(error, VNIC_HOST_ERROR_FAILED, errno, "%s tap '%s'", step, name);

    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (multi)
        ifr.ifr_flags |= IFF_MULTI_QUEUE;
    if (exclusive)
        ifr.ifr_flags |= IFF_TUN_EXCL;
    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = errno;

        if (exclusive && (err == EBUSY || err == EEXIST))
            return vnic_host_fail(error, VNIC_HOST_ERROR_EXISTS,
                                  "a link with that name already exists", "%s tap '%s'",
                                  step, name);
        return vnic_host_fail_errno(error, VNIC_HOST_ERROR_FAILED, err, "%s tap '%s'", step,
                                    name);
    }
    g_strlcpy(actual, ifr.ifr_name, IFNAMSIZ);
    vnic_host_backend_add_fd(backend, &fd);
    return TRUE;
}

/* Steps 2 and 3: the tap, its queues, and the link record. */
static gboolean
tap_create(VnicHostBackend *backend, VnicHostNl *nl, const VnicConfNic *nic, rtnl_link **ret,
           GError **error)
{
    guint queues = MAX(nic->queues, 1);
    char name[IFNAMSIZ] = "";
    g_autoptr(rtnl_link) link = NULL;

    if (!tap_open_queue(backend, nic->target_dev ? nic->target_dev : TAP_TEMPLATE,
                        nic->target_dev != NULL, queues > 1, name, error))
        return FALSE;
    for (guint i = 1; i < queues; i++) {
        char again[IFNAMSIZ] = "";

        if (!tap_open_queue(backend, name, FALSE, TRUE, again, error))
            return FALSE;
    }
    if (!vnic_host_nl_get(nl, 0, name, &link, error))
        return FALSE;
    if (!link)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "it vanished",
                              "looking up tap '%s' just created", name);
    vnic_host_backend_set_link(backend, name, (guint)rtnl_link_get_ifindex(link),
                               VNIC_HOST_LINK_TAP);
    *ret = g_steal_pointer(&link);
    return TRUE;
}

/* <target dev='X' managed='no'/>: the tap someone else made (nova's
 * os-vif, a script).  It must exist and be a tap: TUNSETIFF on a missing
 * name would create one, so the link is looked up first.  Its queues are
 * attached without IFF_TUN_EXCL; nothing about it is changed but the
 * <bandwidth> shaping, and the backend says it is not vnic's, so it never
 * enters the ownership ledger and is never deleted. */
static gboolean
tap_attach_existing(VnicHostBackend *backend, VnicHostNl *nl, const VnicConfNic *nic,
                    GError **error)
{
    guint queues = MAX(nic->queues, 1);
    g_autoptr(rtnl_link) link = NULL;
    char name[IFNAMSIZ] = "";

    if (!vnic_host_nl_get(nl, 0, nic->target_dev, &link, error))
        return FALSE;
    if (!link)
        return vnic_host_fail(error, VNIC_HOST_ERROR_NOT_FOUND,
                              "it does not exist (managed='no': vnic uses an existing tap and "
                              "never creates it)", "opening tap '%s'", nic->target_dev);
    if (g_strcmp0(rtnl_link_get_type(link), "tun") != 0)
        return vnic_host_fail(error, VNIC_HOST_ERROR_INVALID, "it is not a tap",
                              "opening tap '%s' (link kind: %s)", nic->target_dev,
                              rtnl_link_get_type(link) ? rtnl_link_get_type(link) : "none");
    backend->unmanaged = TRUE;
    for (guint i = 0; i < queues; i++) {
        if (!tap_open_queue(backend, nic->target_dev, FALSE, queues > 1, name, error))
            return FALSE;
    }
    vnic_host_backend_set_link(backend, name, (guint)rtnl_link_get_ifindex(link),
                               VNIC_HOST_LINK_TAP);
    g_debug("existing tap '%s' (ifindex %u): %u queue(s)", name, backend->link->ifindex,
            queues);
    return TRUE;
}

/* Step 1: the bridge's ifindex and MTU. */
static gboolean
tap_find_bridge(VnicHostNl *nl, const char *bridge, guint *ifindex, guint *mtu, GError **error)
{
    g_autoptr(rtnl_link) link = NULL;

    if (!bridge) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_INVALID,
                    "interface of type bridge without <source bridge>");
        return FALSE;
    }
    if (!vnic_host_nl_get(nl, 0, bridge, &link, error))
        return FALSE;
    if (!link) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_NOT_FOUND,
                    "bridge '%s' does not exist", bridge);
        return FALSE;
    }
    if (g_strcmp0(rtnl_link_get_type(link), "bridge") != 0) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_INVALID,
                    "'%s' is not a bridge (link kind: %s)", bridge,
                    rtnl_link_get_type(link) ? rtnl_link_get_type(link) : "none");
        return FALSE;
    }
    *ifindex = (guint)rtnl_link_get_ifindex(link);
    *mtu = rtnl_link_get_mtu(link);
    return TRUE;
}

/* Step 4. */
static gboolean
tap_set_mac(VnicHostNl *nl, const VnicConfNic *nic, rtnl_link *link, GError **error)
{
    nl_addr *current = rtnl_link_get_addr(link);
    guint8 mac[6] = { 0 };

    if (nic->has_mac)
        memcpy(mac, nic->mac, sizeof(mac));
    else if (current && nl_addr_get_len(current) == sizeof(mac))
        memcpy(mac, nl_addr_get_binary_addr(current), sizeof(mac));
    else
        return TRUE;
    mac[0] = 0xFE;
    return vnic_host_nl_set_mac(nl, (guint)rtnl_link_get_ifindex(link), rtnl_link_get_name(link),
                                mac, error);
}

static gboolean
tap_enslave(VnicHostNl *nl, guint ifindex, const char *name, guint bridge_ifindex,
            const char *bridge, GError **error)
{
    g_autoptr(rtnl_link) changes = vnic_host_rtnl_link_new();

    rtnl_link_set_master(changes, (int)bridge_ifindex);
    return vnic_host_nl_change(nl, ifindex, changes, error, "enslaving '%s' to bridge '%s'", name,
                               bridge);
}

/* Steps 5 to 7 on tap @link: MTU @mtu (0: leave it), enslaved to bridge
 * @bridge_ifindex (0: none), up when @up.  Creation and a re-enslave
 * after the bridge came back share them. */
static gboolean
tap_join(VnicHostNl *nl, rtnl_link *link, guint mtu, guint bridge_ifindex, const char *bridge,
         gboolean up, GError **error)
{
    const char *name = rtnl_link_get_name(link);
    guint ifindex = (guint)rtnl_link_get_ifindex(link);

    if (mtu && mtu != rtnl_link_get_mtu(link) &&
        !vnic_host_nl_set_mtu(nl, ifindex, name, mtu, error))
        return FALSE;
    if (bridge_ifindex && !tap_enslave(nl, ifindex, name, bridge_ifindex, bridge, error))
        return FALSE;
    return !up || vnic_host_nl_set_up(nl, ifindex, name, TRUE, error);
}

gboolean
vnic_host_tap_enslave(const VnicHostLink *tap, const char *bridge, guint mtu, GError **error)
{
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(rtnl_link) link = NULL;
    guint bridge_ifindex = 0, bridge_mtu = 0;

    g_return_val_if_fail(tap != NULL && tap->name != NULL && tap->ifindex > 0, FALSE);
    g_return_val_if_fail(bridge != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (tap->kind != VNIC_HOST_LINK_TAP)
        return vnic_host_fail(error, VNIC_HOST_ERROR_INVALID, "only a tap joins a bridge",
                              "enslaving %s '%s' to bridge '%s'",
                              vnic_host_link_kind_to_string(tap->kind), tap->name, bridge);
    nl = vnic_host_nl_open(error);
    if (!nl || !vnic_host_nl_get_owned(nl, tap, &link, error))
        return FALSE;
    if (!link) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_NOT_FOUND,
                    "enslaving '%s' to bridge '%s': tap '%s' (ifindex %u) no longer exists",
                    tap->name, bridge, tap->name, tap->ifindex);
        return FALSE;
    }
    if (!tap_find_bridge(nl, bridge, &bridge_ifindex, &bridge_mtu, error)) {
        g_prefix_error(error, "enslaving '%s': ", tap->name);
        return FALSE;
    }
    if (!tap_join(nl, link, mtu ? mtu : bridge_mtu, bridge_ifindex, bridge, TRUE, error))
        return FALSE;
    g_debug("tap '%s' (ifindex %u) on bridge '%s' again", tap->name, tap->ifindex, bridge);
    return TRUE;
}

gboolean
vnic_host_tap_setup(VnicHostBackend *backend, VnicHostNl *nl, const VnicConfNic *nic,
                    GError **error)
{
    gboolean bridged = vnic_conf_nic_backend_type(nic) == VNIC_CONF_NIC_BRIDGE;
    guint bridge_ifindex = 0, bridge_mtu = 0;
    g_autoptr(rtnl_link) link = NULL;
    const char *name;
    guint ifindex;

    if (nic->target_managed == VNIC_TRISTATE_NO)
        return tap_attach_existing(backend, nl, nic, error);
    if (bridged && !tap_find_bridge(nl, nic->source, &bridge_ifindex, &bridge_mtu, error))
        return FALSE;
    if (!tap_create(backend, nl, nic, &link, error))
        return FALSE;
    name = backend->link->name;
    ifindex = backend->link->ifindex;
    if (!tap_set_mac(nl, nic, link, error))
        return FALSE;
    if (!tap_join(nl, link, nic->mtu ? nic->mtu : bridge_mtu, bridge_ifindex, nic->source,
                  nic->link_up != VNIC_TRISTATE_NO, error))
        return FALSE;
    g_debug("tap '%s' (ifindex %u): %u queue(s)%s%s", name, ifindex, backend->fds->len,
            bridged ? " on bridge " : "", bridged ? nic->source : "");
    return TRUE;
}
