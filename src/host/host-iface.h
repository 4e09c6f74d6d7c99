/* host-iface.h: what virsh's domifstat, domifaddr --source arp and
 * domiftune read from or change on a NIC's host link, by route netlink.
 *
 * Threads: every call opens its own netlink socket.  Nothing here logs
 * above g_debug.
 */
#pragma once

#include "host/host-backend.h"

G_BEGIN_DECLS

/* A link's counters as the kernel keeps them (the host's view: rx is what
 * the link received, i.e. what a tap's guest sent). */
typedef struct {
    guint64 rx_bytes, rx_packets, rx_errs, rx_drop;
    guint64 tx_bytes, tx_packets, tx_errs, tx_drop;
} VnicHostLinkStats;

/* The counters of link @name; NOT_FOUND when there is none. */
gboolean vnic_host_link_stats(const char *name, VnicHostLinkStats *stats, GError **error);

/* One neighbour table entry (ARP or NDP) of the host. */
typedef struct {
    char *address;            /* "192.0.2.5", "fe80::…" */
    int family;               /* AF_INET, AF_INET6 */
    char *dev;                /* the link it was learnt on, or NULL */
} VnicHostNeighbour;

void vnic_host_neighbour_free(VnicHostNeighbour *n);
/* The host's neighbour entries whose link-layer address is @mac and whose
 * state says the address is (or was) reachable (not FAILED or
 * INCOMPLETE); IPv4 first.  An array of VnicHostNeighbour*, maybe empty. */
GPtrArray *vnic_host_neighbours_of_mac(const guint8 mac[6], GError **error);

/* Replaces the shaping of link @link (owned or not) with @nic's
 * <bandwidth>, live: the old root and ingress qdiscs are removed first,
 * and *@ifb (the IFB vnic made earlier for <outbound>, or NULL) deleted;
 * a new IFB, when the kernel needs one, is returned in *@ifb for the
 * caller's ledger.  Rates of 0 leave that direction unshaped. */
gboolean vnic_host_bandwidth_replace(const VnicHostLink *link, const VnicConfNic *nic,
                                     VnicHostLink **ifb, GError **error);

G_END_DECLS
