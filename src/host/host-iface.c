/* host-iface.c: a NIC's host link as domifstat, domifaddr and domiftune
 * see it (see host-iface.h). */
#include "host/host-iface.h"
#include "host/host-priv.h"

#include <arpa/inet.h>
#include <netlink/route/neighbour.h>

typedef struct nl_cache nl_cache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_cache, nl_cache_free)

gboolean
vnic_host_link_stats(const char *name, VnicHostLinkStats *stats, GError **error)
{
    g_autoptr(VnicHostNl) nl = vnic_host_nl_open(error);
    g_autoptr(rtnl_link) link = NULL;

    if (!nl || !vnic_host_nl_get(nl, 0, name, &link, error))
        return FALSE;
    if (link == NULL)
        return vnic_host_fail(error, VNIC_HOST_ERROR_NOT_FOUND, "no such link",
                              "reading the counters of '%s'", name);
    stats->rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
    stats->rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
    stats->rx_errs = rtnl_link_get_stat(link, RTNL_LINK_RX_ERRORS);
    stats->rx_drop = rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED);
    stats->tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
    stats->tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
    stats->tx_errs = rtnl_link_get_stat(link, RTNL_LINK_TX_ERRORS);
    stats->tx_drop = rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
    return TRUE;
}

void
vnic_host_neighbour_free(VnicHostNeighbour *n)
{
    if (n == NULL)
        return;
    g_free(n->address);
    g_free(n->dev);
    g_free(n);
}

typedef struct {
    const guint8 *mac;
    GPtrArray *found;
    nl_cache *links;
} NeighbourScan;

static void
scan_neighbour(struct nl_object *obj, void *data)
{
    NeighbourScan *scan = data;
    struct rtnl_neigh *neigh = (struct rtnl_neigh *) obj;
    struct nl_addr *ll = rtnl_neigh_get_lladdr(neigh);
    struct nl_addr *dst = rtnl_neigh_get_dst(neigh);
    int state = rtnl_neigh_get_state(neigh);
    char text[INET6_ADDRSTRLEN];
    char dev[IFNAMSIZ + 1];
    VnicHostNeighbour *n;

    if (ll == NULL || dst == NULL || nl_addr_get_len(ll) != 6 ||
        memcmp(nl_addr_get_binary_addr(ll), scan->mac, 6) != 0)
        return;
    if (state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP))
        return;
    if (nl_addr_get_family(dst) != AF_INET && nl_addr_get_family(dst) != AF_INET6)
        return;
    if (!inet_ntop(nl_addr_get_family(dst), nl_addr_get_binary_addr(dst), text, sizeof(text)))
        return;
    n = g_new0(VnicHostNeighbour, 1);
    n->address = g_strdup(text);
    n->family = nl_addr_get_family(dst);
    if (rtnl_link_i2name(scan->links, rtnl_neigh_get_ifindex(neigh), dev, sizeof(dev)))
        n->dev = g_strdup(dev);
    g_ptr_array_add(scan->found, n);
}

static gint
ipv4_first(gconstpointer a, gconstpointer b)
{
    const VnicHostNeighbour *x = *(VnicHostNeighbour *const *) a;
    const VnicHostNeighbour *y = *(VnicHostNeighbour *const *) b;

    return (x->family == AF_INET6) - (y->family == AF_INET6);
}

GPtrArray *
vnic_host_neighbours_of_mac(const guint8 mac[6], GError **error)
{
    g_autoptr(VnicHostNl) nl = vnic_host_nl_open(error);
    g_autoptr(nl_cache) neighbours = NULL;
    g_autoptr(nl_cache) links = NULL;
    NeighbourScan scan = { mac, NULL, NULL };
    int err;

    if (!nl)
        return NULL;
    if ((err = rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &links)) < 0 ||
        (err = rtnl_neigh_alloc_cache(nl->sock, &neighbours)) < 0) {
        vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, nl_geterror(err),
                       "reading the host's neighbour table");
        return NULL;
    }
    scan.links = links;
    scan.found = g_ptr_array_new_with_free_func((GDestroyNotify) vnic_host_neighbour_free);
    nl_cache_foreach(neighbours, scan_neighbour, &scan);
    g_ptr_array_sort(scan.found, ipv4_first);
    return scan.found;
}

gboolean
vnic_host_bandwidth_replace(const VnicHostLink *link, const VnicConfNic *nic,
                            VnicHostLink **ifb, GError **error)
{
    g_autoptr(VnicHostNl) nl = NULL;
    VnicHostBackend backend = { 0 };
    gboolean ok;

    if (!vnic_host_bandwidth_clear(link->name, error))
        return FALSE;
    if (*ifb != NULL) {
        if (!vnic_host_link_delete(*ifb, error))
            return FALSE;
        vnic_host_link_free(g_steal_pointer(ifb));
    }
    if (!(nl = vnic_host_nl_open(error)))
        return FALSE;
    /* host-bandwidth.c works on a backend: one around the existing link */
    backend.link = (VnicHostLink *) link;
    ok = vnic_host_bandwidth_apply(nl, &backend, nic, error);
    *ifb = backend.ifb;
    if (!ok && *ifb != NULL) {
        /* half made: nothing of it is anybody's yet */
        g_autoptr(GError) ignored = NULL;

        vnic_host_link_delete(*ifb, &ignored);
        vnic_host_link_free(g_steal_pointer(ifb));
    }
    return ok;
}
