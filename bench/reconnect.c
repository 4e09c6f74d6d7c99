/* bench/reconnect.c: how fast a NIC heals, and what its hub costs (issue #8).
 *
 * As root, in the harness' private network namespace (vnicd's "host") and a
 * peer namespace beside it: veth lowA in the host, its other end lowB in
 * the peer with 10.96.0.1/24; a pc guest (examples/cloudstack-pc.xml with
 * one NIC) whose direct NIC (macvtap, mode bridge) sits on lowA, with
 * 10.96.0.2/24 set over its console.
 *
 *   gone  RUNS times: lowA deleted (RTM_DELLINK, in-process) → the guest's
 *         carrier reads 0.  A watcher in the guest polls
 *         /sys/class/net/eth0/carrier (builtins and a 1 ms usleep, so a
 *         few ms of resolution under TCG) and prints @@C0@@ / @@C1@@ on its
 *         console when it changes; the time is taken when the marker
 *         arrives.  Printed from the request and from its acknowledgement
 *         (the kernel's veth teardown lies between).
 *   back  GONE_S after its deletion (the kernel's linkwatch batches link
 *         events once a second: sooner can measure that),
 *         lowA created again (over rtnetlink: the pair, lowB in the peer
 *         namespace up with its address, lowA up last) → the first echo
 *         reply from the guest to the peer (a request every 1 ms from a
 *         raw socket inside the peer namespace), from the creation
 *         request.
 *   throughput  TCP guest → peer and peer → guest (busybox dd | nc in the
 *         guest, SIZE_MIB MiB, median of TPUT_RUNS), first with the NIC on
 *         its hub (no <vnic:reconnect>: hub is the default for direct),
 *         then a second guest with <vnic:reconnect mode='replug'/> (the NIC
 *         directly on its macvtap); with the virtio-net offloads each guest
 *         negotiated.  The replug guest heals REPLUG_RUNS times too, with a
 *         loop in the guest that configures eth0 again (a replugged NIC
 *         comes back without its address).
 *
 * Knobs (environment): RECONNECT_RUNS=N heals instead of 20;
 * RECONNECT_HUB_ONLY=1 only the hub guest's heals (no throughput, no
 * replug guest); RECONNECT_TRACE=1 prints for each heal a timeline of every
 * hop from lowA's creation request: the links of both namespaces (appearing,
 * operstate, flags, first move of each counter), the frames seen on them
 * (AF_PACKET: ARP, echo requests/replies, IPv6), the guest's carrier,
 * operstate and counters from its watcher, its ARP table, and its own
 * ftrace (virtio-net's link change work, its link watch activating and
 * deactivating the qdisc, ARP solicitations, every ARP frame it frees and
 * why).  That is how the 1 s of docs/backends.md was found.
 *
 * Targets (issue #8): gone → carrier down < 50 ms, back → traffic < 100 ms
 * (median of 20).  A benchmark, not a test: it prints numbers and targets
 * and asserts nothing about them (it fails only when something does not
 * work at all).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>

#include "bench-util.h"

#define RUNS 20
#define TPUT_RUNS 5
#define REPLUG_RUNS 5
#define GONE_S 1.5
#define SIZE_MIB 16
#define MAC "52:54:00:49:00:01"
#define PEER_IP "10.96.0.1"
#define GUEST_IP "10.96.0.2"
#define TARGET_GONE_MS 50.0
#define TARGET_BACK_MS 100.0
#define VNIC_NS "xmlns:vnic='urn:x-vnic:domain:1'"
#define TRACE_MS 2500  /* how long a traced heal samples the links */

static struct {
    E2eDaemon *daemon;
    E2eNetnsPeer *peer;
    int icmp;
    guint16 seq;
    /* RECONNECT_RUNS=N: N heals instead of RUNS; RECONNECT_HUB_ONLY=1: no
     * throughput and no replug guest; RECONNECT_TRACE=1: a timeline of
     * every hop for each heal (see trace_*) */
    guint runs;
    gboolean hub_only, trace;
} B = { .icmp = -1, .runs = RUNS };

typedef struct {
    const char *mode;
    E2eDomainXml *xml;
    E2eConsole *console;
    char *features;
    GArray *to_peer, *to_guest;
} Guest;

/* --- the lower device, over rtnetlink ------------------------------------------------------
 *
 * In-process (libnl), not `ip`: a shell and `ip` take tens of ms to start
 * on a loaded 2-core machine, which would swamp what is measured. */

static struct nl_sock *host_nl, *peer_nl;

static gboolean
nl_failed(int err, const char *what, GError **error)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what, nl_geterror(err));
    return FALSE;
}

/* A route netlink socket here, and one inside the peer namespace. */
static gboolean
nl_open(GError **error)
{
    int err, fd;
    host_nl = nl_socket_alloc();
    peer_nl = nl_socket_alloc();
    if ((err = nl_connect(host_nl, NETLINK_ROUTE)) < 0)
        return nl_failed(err, "netlink", error);
    fd = e2e_netns_peer_socket(B.peer, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, error);
    if (fd < 0)
        return FALSE;
    if ((err = nl_socket_set_fd(peer_nl, NETLINK_ROUTE, fd)) < 0)
        return nl_failed(err, "netlink in the peer namespace", error);
    return TRUE;
}

/* lowA up in the host, lowB up in the peer with PEER_IP/24, in the order
 * a device comes back configured: one RTM_NEWLINK (the pair, down), lowB
 * up with the guest's neighbour entry and its address, lowA up last.
 * (With lowA created up and lowB brought up right after, traffic came back
 * only after ~1.1 s although vnicd had swapped the backend within ~60 ms:
 * see docs/backends.md.)  lowB keeps its MAC across re-creations, as a
 * real device would (else the guest may keep the old one for its ARP
 * locktime, a second). */
static gboolean
make_lower(GError **error)
{
    struct rtnl_link *veth = rtnl_link_veth_alloc();
    struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
    struct rtnl_link *lowb = NULL;
    struct nl_addr *mac = NULL, *ip = NULL;
    struct rtnl_addr *addr = rtnl_addr_alloc();
    const char *step = "RTM_NEWLINK lowA/lowB";
    int err;

    rtnl_link_set_name(veth, "lowA");
    /* down: veth cannot open a peer before the pair is joined */
    rtnl_link_set_name(peer, "lowB");
    rtnl_link_set_ns_pid(peer, e2e_netns_peer_pid(B.peer));
    nl_addr_parse("02:00:00:96:00:01", AF_LLC, &mac);
    rtnl_link_set_addr(peer, mac);
    err = rtnl_link_add(host_nl, veth, NLM_F_CREATE | NLM_F_EXCL);
    if (err >= 0) {
        step = "finding lowB in the peer namespace";
        err = rtnl_link_get_kernel(peer_nl, 0, "lowB", &lowb);
    }
    if (err >= 0) {
        struct rtnl_link *up = rtnl_link_alloc();
        step = "setting lowB up";
        rtnl_link_set_flags(up, IFF_UP);
        err = rtnl_link_change(peer_nl, lowb, up, 0);
        rtnl_link_put(up);
    }
    if (err >= 0) {
        /* the peer knows the guest's MAC (as a router would have it
         * cached): an ARP request in the instant before the NIC healed
         * would make the measurement the peer's ARP retry timer's (1 s) */
        struct rtnl_neigh *n = rtnl_neigh_alloc();
        struct nl_addr *gmac = NULL, *gip = NULL;
        step = "the guest's neighbour entry on lowB";
        nl_addr_parse(MAC, AF_LLC, &gmac);
        nl_addr_parse(GUEST_IP, AF_INET, &gip);
        rtnl_neigh_set_ifindex(n, rtnl_link_get_ifindex(lowb));
        rtnl_neigh_set_dst(n, gip);
        rtnl_neigh_set_lladdr(n, gmac);
        rtnl_neigh_set_state(n, NUD_PERMANENT);
        err = rtnl_neigh_add(peer_nl, n, NLM_F_CREATE | NLM_F_REPLACE);
        nl_addr_put(gmac);
        nl_addr_put(gip);
        rtnl_neigh_put(n);
    }
    if (err >= 0) {
        step = "RTM_NEWADDR on lowB";
        nl_addr_parse(PEER_IP "/24", AF_INET, &ip);
        rtnl_addr_set_ifindex(addr, rtnl_link_get_ifindex(lowb));
        rtnl_addr_set_local(addr, ip);
        err = rtnl_addr_add(peer_nl, addr, 0);
    }
    if (err >= 0) {
        struct rtnl_link *lowa = NULL, *up = rtnl_link_alloc();
        step = "setting lowA up";
        rtnl_link_set_flags(up, IFF_UP);
        err = rtnl_link_get_kernel(host_nl, 0, "lowA", &lowa);
        if (err >= 0)
            err = rtnl_link_change(host_nl, lowa, up, 0);
        rtnl_link_put(up);
        if (lowa != NULL)
            rtnl_link_put(lowa);
    }
    rtnl_addr_put(addr);
    nl_addr_put(ip);
    nl_addr_put(mac);
    if (lowb != NULL)
        rtnl_link_put(lowb);
    rtnl_link_put(peer);
    rtnl_link_put(veth);
    return err >= 0 || nl_failed(err, step, error);
}

static gboolean
delete_lower(GError **error)
{
    struct rtnl_link *link = rtnl_link_alloc();
    int err;
    rtnl_link_set_name(link, "lowA");
    err = rtnl_link_delete(host_nl, link);
    rtnl_link_put(link);
    return err >= 0 || nl_failed(err, "deleting lowA", error);
}

/* --- RECONNECT_TRACE: every hop, sampled -------------------------------------------------
 *
 * While a heal is measured, a thread dumps the links of both namespaces
 * every 2 ms (RTM_GETLINK, its own sockets) and notes, from the creation
 * request: each link that appears, every change of its operstate or flags,
 * and the first time each of its counters moves (rx/tx packets, rx/tx
 * dropped), then the counters' totals.  The echo requests go peer → lowB →
 * lowA → macvtap → guest, the replies back the other way, so the first hop
 * whose tx stays still while its rx moves is where they are held. */

enum { ST_RX, ST_TX, ST_RX_DROP, ST_TX_DROP, N_ST };
static const char *const st_names[N_ST] = { "rx_packets", "tx_packets", "rx_dropped", "tx_dropped" };
static const rtnl_link_stat_id_t st_ids[N_ST] = { RTNL_LINK_RX_PACKETS, RTNL_LINK_TX_PACKETS,
                                                  RTNL_LINK_RX_DROPPED, RTNL_LINK_TX_DROPPED };

typedef struct {
    const char *ns;
    int ifindex;
    char name[IFNAMSIZ];
    guint8 operstate;
    guint flags;
    guint64 stat[N_ST];
    gboolean moved[N_ST];
} TraceLink;

typedef struct {
    struct nl_sock *host, *peer;
    int pkt_host, pkt_peer;  /* AF_PACKET, every link of the namespace */
    guint seen[2][64][4];    /* frames noted per namespace, ifindex, kind */
    gint64 t0;
    GString *log;
    GArray *links;  /* TraceLink */
    gint stop;
    GThread *thread;
} Trace;

static gboolean
traced_name(const char *name)
{
    return name && (strcmp(name, "lowA") == 0 || strcmp(name, "lowB") == 0 ||
                    g_str_has_prefix(name, "macvtap") || g_str_has_prefix(name, "vnic-"));
}

static void
trace_note(Trace *t, const TraceLink *l, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
trace_note(Trace *t, const TraceLink *l, const char *fmt, ...)
{
    va_list ap;
    g_string_append_printf(t->log, "    %+8.1f ms  %s %-10s ", (g_get_monotonic_time() - t->t0) / 1e3,
                           l->ns, l->name);
    va_start(ap, fmt);
    g_string_append_vprintf(t->log, fmt, ap);
    va_end(ap);
    g_string_append_c(t->log, '\n');
}

static void
trace_state(Trace *t, const TraceLink *l, const char *what)
{
    char flags[128], oper[32];
    trace_note(t, l, "%s operstate %s, flags %s", what,
               rtnl_link_operstate2str(l->operstate, oper, sizeof oper),
               rtnl_link_flags2str(l->flags, flags, sizeof flags));
}

static void
trace_link(Trace *t, const char *ns, struct rtnl_link *link)
{
    TraceLink *l = NULL, now = { .ns = ns, .ifindex = rtnl_link_get_ifindex(link) };

    if (!traced_name(rtnl_link_get_name(link)))
        return;
    g_strlcpy(now.name, rtnl_link_get_name(link), sizeof now.name);
    now.operstate = rtnl_link_get_operstate(link);
    now.flags = rtnl_link_get_flags(link);
    for (int i = 0; i < N_ST; i++)
        now.stat[i] = rtnl_link_get_stat(link, st_ids[i]);
    for (guint i = 0; i < t->links->len; i++) {
        TraceLink *c = &g_array_index(t->links, TraceLink, i);
        if (c->ns == ns && c->ifindex == now.ifindex)
            l = c;
    }
    if (l == NULL) {
        g_array_append_val(t->links, now);
        l = &g_array_index(t->links, TraceLink, t->links->len - 1);
        trace_state(t, l, "present:");
        return;
    }
    if (strcmp(l->name, now.name) != 0) {
        trace_note(t, l, "renamed %s", now.name);
        g_strlcpy(l->name, now.name, sizeof l->name);
    }
    if (l->operstate != now.operstate || l->flags != now.flags) {
        l->operstate = now.operstate;
        l->flags = now.flags;
        trace_state(t, l, "now");
    }
    for (int i = 0; i < N_ST; i++) {
        if (!l->moved[i] && now.stat[i] != l->stat[i]) {
            l->moved[i] = TRUE;
            trace_note(t, l, "%s moves (%" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT ")", st_names[i],
                       l->stat[i], now.stat[i]);
        }
        if (l->moved[i])
            continue;
        l->stat[i] = now.stat[i];
    }
    /* the latest counters, for the totals (the baseline stays in stat[]
     * only until the counter first moves) */
    for (int i = 0; i < N_ST; i++)
        if (l->moved[i])
            l->stat[i] = now.stat[i];
}

static void
trace_dump(Trace *t, struct nl_sock *sock, const char *ns)
{
    struct nl_cache *cache = NULL;
    if (rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache) < 0)
        return;
    for (struct nl_object *o = nl_cache_get_first(cache); o != NULL; o = nl_cache_get_next(o))
        trace_link(t, ns, (struct rtnl_link *)o);
    nl_cache_free(cache);
}


/* A frame seen on a link of `ns` (AF_PACKET: both directions): every ARP,
 * the first echo request and the first 3 echo replies and IPv6 frames of
 * each link and direction. */
static void
trace_frame(Trace *t, int which, const char *ns, const guint8 *f, gssize n,
            const struct sockaddr_ll *from)
{
    TraceLink l = { .ns = ns, .ifindex = from->sll_ifindex };
    const char *dir = from->sll_pkttype == PACKET_OUTGOING ? "out" : "in ";
    guint16 type;
    int kind;
    char what[96];

    if (n < 14)
        return;
    g_snprintf(l.name, sizeof l.name, "if%d", l.ifindex);
    for (guint i = 0; i < t->links->len; i++) {
        TraceLink *c = &g_array_index(t->links, TraceLink, i);
        if (c->ns == ns && c->ifindex == l.ifindex)
            g_strlcpy(l.name, c->name, sizeof l.name);
    }
    type = (guint16)(f[12] << 8 | f[13]);
    if (type == 0x0806 && n >= 42) {
        kind = -1;
        g_snprintf(what, sizeof what, "ARP %s who-has %u.%u.%u.%u tell %u.%u.%u.%u",
                   f[21] == 1 ? "request" : "reply", f[38], f[39], f[40], f[41], f[28], f[29], f[30],
                   f[31]);
    } else if (type == 0x0800 && n >= 14 + 20 + 8 && f[23] == IPPROTO_ICMP) {
        const guint8 *icmp = f + 14 + (f[14] & 0xf) * 4;
        if (icmp + 8 > f + n)
            return;
        kind = icmp[0] == ICMP_ECHO ? 0 : 1;
        g_snprintf(what, sizeof what, "ICMP echo %s seq %u", kind == 0 ? "request" : "reply",
                   icmp[6] << 8 | icmp[7]);
    } else if (type == 0x86dd) {
        kind = 2;
        g_snprintf(what, sizeof what, "IPv6 next header %u", n > 20 ? f[20] : 0);
    } else {
        kind = 3;
        g_snprintf(what, sizeof what, "ethertype 0x%04x", type);
    }
    if (kind >= 0) {
        guint *count = &t->seen[which][MIN(l.ifindex, 63)][kind];
        guint limit = kind == 0 ? 1 : 3;
        if ((*count)++ >= limit * 2)
            return;
    }
    trace_note(t, &l, "%s %s", dir, what);
}

static void
trace_frames(Trace *t, int fd, int which, const char *ns)
{
    guint8 f[256];
    struct sockaddr_ll from;
    socklen_t len = sizeof from;
    gssize n;
    while ((n = recvfrom(fd, f, sizeof f, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &len)) > 0) {
        trace_frame(t, which, ns, f, MIN(n, (gssize)sizeof f), &from);
        len = sizeof from;
    }
}

static gpointer
trace_thread(gpointer data)
{
    Trace *t = data;
    while (!g_atomic_int_get(&t->stop) && g_get_monotonic_time() - t->t0 < TRACE_MS * 1000) {
        struct pollfd p[2] = { { .fd = t->pkt_host, .events = POLLIN },
                               { .fd = t->pkt_peer, .events = POLLIN } };
        trace_dump(t, t->host, "host");
        trace_dump(t, t->peer, "peer");
        gint64 next = g_get_monotonic_time() + 2000;
        while (g_get_monotonic_time() < next) {
            if (poll(p, 2, 1) > 0) {
                trace_frames(t, t->pkt_host, 0, "host");
                trace_frames(t, t->pkt_peer, 1, "peer");
            }
        }
    }
    return NULL;
}

/* Starts sampling (when RECONNECT_TRACE is set); NULL otherwise. */
static Trace *
trace_start(GError **error)
{
    if (!B.trace)
        return NULL;
    Trace *t = g_new0(Trace, 1);
    int fd;
    t->host = nl_socket_alloc();
    t->peer = nl_socket_alloc();
    t->log = g_string_new(NULL);
    t->links = g_array_new(FALSE, TRUE, sizeof(TraceLink));
    if (nl_connect(t->host, NETLINK_ROUTE) < 0 ||
        (fd = e2e_netns_peer_socket(B.peer, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, error)) < 0 ||
        nl_socket_set_fd(t->peer, NETLINK_ROUTE, fd) < 0) {
        g_prefix_error(error, "trace: ");
        if (error != NULL && *error == NULL)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "trace: netlink sockets");
        return NULL;
    }
    t->pkt_host = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    t->pkt_peer = e2e_netns_peer_socket(B.peer, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), error);
    if (t->pkt_host < 0 || t->pkt_peer < 0) {
        if (error != NULL && *error == NULL)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "trace: packet sockets: %s",
                        g_strerror(errno));
        return NULL;
    }
    trace_dump(t, t->host, "host"); /* the baseline: lowB's counters before */
    trace_dump(t, t->peer, "peer");
    t->t0 = g_get_monotonic_time();
    t->thread = g_thread_new("trace", trace_thread, t);
    return t;
}

/* Stops sampling and prints the timeline (host side, then the guest's own
 * lines from `guest`, mapped to host time with `guest_offset_s`). */
static void
trace_finish(Trace *t, guint run, const char *guest, double guest_offset_s)
{
    if (t == NULL)
        return;
    g_atomic_int_set(&t->stop, 1);
    g_thread_join(t->thread);
    printf("  trace, heal %u (ms from lowA's creation request):\n%s", run, t->log->str);
    for (guint i = 0; i < t->links->len; i++) {
        TraceLink *l = &g_array_index(t->links, TraceLink, i);
        printf("    totals %s %-10s", l->ns, l->name);
        for (int k = 0; k < N_ST; k++)
            printf(" %s %" G_GUINT64_FORMAT, st_names[k], l->stat[k]);
        printf("\n");
    }
    /* the guest's lines: "@@T uptime c o rx tx@@" */
    for (const char *p = guest; p != NULL && (p = strstr(p, "@@T ")) != NULL; p += 4) {
        double up;
        char c[8], o[24];
        unsigned long long rx, tx;
        if (sscanf(p, "@@T %lf %7s %23s %llu %llu@@", &up, c, o, &rx, &tx) == 5)
            printf("    %+8.1f ms  guest eth0      carrier %s operstate %s rx_packets %llu "
                   "tx_packets %llu\n", (up - guest_offset_s) * 1e3, c, o, rx, tx);
    }
    fflush(stdout);
    nl_socket_free(t->host);
    nl_socket_free(t->peer);
    close(t->pkt_host);
    close(t->pkt_peer);
    g_string_free(t->log, TRUE);
    g_array_free(t->links, TRUE);
    g_free(t);
}

/* --- ICMP from the peer ------------------------------------------------------------------ */

static guint16
icmp_checksum(const void *data, gsize len)
{
    const guint8 *p = data;
    guint32 sum = 0;
    for (gsize i = 0; i + 1 < len; i += 2)
        sum += (guint32)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((guint16)~sum);
}

/* An echo request every millisecond until the guest answers one sent
 * after this call; the monotonic time of the answer, or -1 after
 * `timeout_s`. */
static gint64
first_reply(double timeout_s)
{
    struct sockaddr_in dst = { .sin_family = AF_INET };
    gint64 deadline = e2e_deadline(timeout_s);
    guint16 first = (guint16)(B.seq + 1);
    inet_pton(AF_INET, GUEST_IP, &dst.sin_addr);
    while (g_get_monotonic_time() < deadline) {
        guint8 pkt[64] = { 0 };
        struct icmphdr *h = (struct icmphdr *)pkt;
        h->type = ICMP_ECHO;
        h->un.echo.id = htons((guint16)getpid());
        h->un.echo.sequence = htons(++B.seq);
        h->checksum = icmp_checksum(pkt, sizeof pkt);
        (void)sendto(B.icmp, pkt, sizeof pkt, 0, (struct sockaddr *)&dst, sizeof dst);
        struct pollfd p = { .fd = B.icmp, .events = POLLIN };
        while (poll(&p, 1, 1) > 0) {
            guint8 buf[1500];
            ssize_t n = recv(B.icmp, buf, sizeof buf, 0);
            const struct iphdr *ip = (const struct iphdr *)buf;
            if (n < (ssize_t)sizeof *ip || n < (ssize_t)(ip->ihl * 4 + sizeof(struct icmphdr)))
                continue;
            const struct icmphdr *r = (const struct icmphdr *)(buf + ip->ihl * 4);
            if (r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == (guint16)getpid() &&
                (guint16)(ntohs(r->un.echo.sequence) - first) < 0x8000)
                return g_get_monotonic_time();
        }
    }
    return -1;
}

/* --- TCP between guest and peer ---------------------------------------------------------- */

typedef struct {
    int listen_fd;
    gsize expect;  /* guest → peer: bytes to read; 0: send SIZE_MIB */
    gsize moved;
    gint64 first_us, last_us;
} Transfer;

static gpointer
transfer_thread(gpointer data)
{
    Transfer *t = data;
    static char buf[65536];
    int fd = accept(t->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    t->first_us = g_get_monotonic_time();
    while (t->expect ? t->moved < t->expect : t->moved < (gsize)SIZE_MIB << 20) {
        ssize_t n = t->expect ? read(fd, buf, sizeof buf) : write(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        t->moved += (gsize)n;
    }
    t->last_us = g_get_monotonic_time();
    close(fd);
    return NULL;
}

/* A TCP listener on PEER_IP:port inside the peer namespace. */
static int
peer_listen(int port, GError **error)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((guint16)port) };
    int one = 1, fd = e2e_netns_peer_socket(B.peer, AF_INET, SOCK_STREAM, 0, error);
    if (fd < 0)
        return -1;
    inet_pton(AF_INET, PEER_IP, &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "listening on " PEER_IP ":%d: %s",
                    port, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Mbit/s of one transfer guest → peer (`to_peer`) or peer → guest. */
static double
measure(E2eConsole *con, gboolean to_peer, GError **error)
{
    Transfer t = { .listen_fd = peer_listen(to_peer ? 5001 : 5002, error),
                   .expect = to_peer ? (gsize)SIZE_MIB << 20 : 0 };
    if (t.listen_fd < 0)
        return -1;
    GThread *thread = g_thread_new("transfer", transfer_thread, &t);
    g_autofree char *cmd = to_peer ? g_strdup_printf("dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc "
                                                     PEER_IP " 5001", SIZE_MIB * 16)
                                   : g_strdup("nc " PEER_IP " 5002 | wc -c");
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = e2e_console_run(con, cmd, 120, NULL, NULL, error);
    gint64 t1 = g_get_monotonic_time();
    if (!ok)
        shutdown(t.listen_fd, SHUT_RDWR);
    g_thread_join(thread);
    close(t.listen_fd);
    if (!ok)
        return -1;
    if (t.moved < (gsize)SIZE_MIB << 20) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: only %zu bytes moved", cmd, t.moved);
        return -1;
    }
    /* peer → guest: the guest has it all when its command ends */
    return (double)t.moved * 8 / (double)(to_peer ? t.last_us - t.first_us : t1 - t0);
}

/* The virtio-net offloads set in a features string ("1" at index N: bit N
 * negotiated). */
static char *
offloads(const char *bits)
{
    static const struct {
        guint bit;
        const char *name;
    } known[] = { { 0, "csum" }, { 1, "guest_csum" }, { 7, "guest_tso4" }, { 8, "guest_tso6" },
                  { 11, "host_tso4" }, { 12, "host_tso6" } };
    g_autoptr(GString) s = g_string_new(NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(known); i++)
        if (strlen(bits) > known[i].bit && bits[known[i].bit] == '1')
            g_string_append_printf(s, "%s%s", s->len ? " " : "", known[i].name);
    return g_strdup(s->len ? s->str : "none");
}

/* --- the guest ----------------------------------------------------------------------------- */

static gboolean
guest_boot(Guest *g, GError **error)
{
    g->xml = e2e_xml_prepare("examples/cloudstack-pc.xml", g->mode, error);
    if (g->xml == NULL)
        return FALSE;
    const char *start = strstr(g->xml->xml, "    <interface");
    const char *end = g_strrstr(g->xml->xml, "</interface>\n");
    if (start == NULL || end == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no <interface> in the copy");
        return FALSE;
    }
    end += strlen("</interface>\n");
    /* hub is a direct NIC's default: that guest has no <vnic:reconnect> */
    g_autofree char *reconnect = strcmp(g->mode, "hub") == 0
        ? g_strdup("")
        : g_strdup_printf("      <vnic:reconnect mode='%s' " VNIC_NS "/>\n", g->mode);
    g_autofree char *xml = g_strdup_printf("%.*s    <interface type='direct'>\n"
                                           "      <mac address='" MAC "'/>\n"
                                           "      <source dev='lowA' mode='bridge'/>\n"
                                           "      <model type='virtio'/>\n"
                                           "%s"
                                           "    </interface>\n%s",
                                           (int)(start - g->xml->xml), g->xml->xml, reconnect, end);
    if (!g_file_set_contents(g->xml->xml_path, xml, -1, error))
        return FALSE;
    g_autoptr(E2eCmdResult) def = e2e_daemon_vnic(B.daemon, "define", g->xml->xml_path, NULL);
    if (def->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(def);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    g->console = bench_start_and_boot(B.daemon, g->xml, NULL, NULL, error);
    if (g->console == NULL ||
        !e2e_console_run(g->console, "ip link set eth0 up && ip addr add " GUEST_IP "/24 dev eth0 && "
                         "cat /sys/class/net/eth0/device/features", 20, &g->features, NULL, error))
        return FALSE;
    g_strstrip(g->features);
    if (first_reply(10) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: the guest does not answer the peer", g->mode);
        return FALSE;
    }
    return TRUE;
}

static gboolean
guest_throughput(Guest *g, GError **error)
{
    g->to_peer = g_array_new(FALSE, FALSE, sizeof(double));
    g->to_guest = g_array_new(FALSE, FALSE, sizeof(double));
    for (guint i = 0; i < TPUT_RUNS; i++) {
        double up = measure(g->console, TRUE, error);
        double down = up < 0 ? -1 : measure(g->console, FALSE, error);
        if (up < 0 || down < 0)
            return FALSE;
        g_array_append_val(g->to_peer, up);
        g_array_append_val(g->to_guest, down);
    }
    return TRUE;
}

/* The NIC's "state" in domiflist is `state` (polled for up to 10 s). */
static gboolean
wait_state(Guest *g, const char *state, GError **error)
{
    gint64 deadline = e2e_deadline(30);
    for (;;) {
        g_autoptr(JsonNode) n = e2e_daemon_vnic_json(B.daemon, error, "domiflist", g->xml->name, "--json", NULL);
        if (n == NULL)
            return FALSE;
        JsonArray *a = e2e_json_member_array(json_node_get_object(n), "interfaces");
        JsonObject *o = a != NULL ? e2e_json_array_object(a, 0) : NULL;
        if (g_strcmp0(e2e_json_get_string(o, "state"), state) == 0)
            return TRUE;
        if (e2e_ms_left(deadline) == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the NIC is not %s after 30 s", state);
            return FALSE;
        }
        g_usleep(20 * 1000);
    }
}

static void
print_series(const char *what, GArray *v, double target)
{
    double med = bench_median(v), max = bench_max(v);
    if (target > 0)
        printf("%-44s median %6.1f ms  max %6.1f ms  (target < %.0f ms: %s)\n", what, med, max, target,
               med < target ? "met" : "MISSED");
    else
        printf("%-44s median %6.1f ms  max %6.1f ms\n", what, med, max);
}

typedef struct {
    GArray *gone, *gone_ack, *back;  /* ms */
} Heals;

static void
heals_init(Heals *h)
{
    h->gone = g_array_new(FALSE, FALSE, sizeof(double));
    h->gone_ack = g_array_new(FALSE, FALSE, sizeof(double));
    h->back = g_array_new(FALSE, FALSE, sizeof(double));
}

/* Starts a background loop in the guest; returns its pid. */
static char *
guest_background(Guest *g, const char *loop, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("(%s) & echo $!", loop);
    char *pid = NULL;
    if (!e2e_console_run(g->console, cmd, 10, &pid, NULL, error))
        return NULL;
    return g_strstrip(pid);
}

/* RECONNECT_TRACE's watcher: as the plain one, and before each marker,
 * and at each change of the operstate and at the first move of rx/tx
 * packets after a carrier change (every move of tx), "@@T UPTIME CARRIER OPERSTATE RX TX@@"
 * (the guest's clock, 10 ms steps). */
#define TRACE_WATCHER                                                                              \
    "f=/sys/class/net/eth0; s=$f/statistics; read p < $f/carrier; read po < $f/operstate; "      \
    "read pr < $s/rx_packets; read pt < $s/tx_packets; n=0; m=0; while :; do c=; "                \
    "read c < $f/carrier 2>/dev/null; if [ -n \"$c\" ]; then read o < $f/operstate; "             \
    "read r < $s/rx_packets; read t < $s/tx_packets; e=0; [ \"$c\" != \"$p\" ] && e=1; "          \
    "[ \"$o\" != \"$po\" ] && e=1; [ $n = 1 ] && [ \"$r\" != \"$pr\" ] && e=1 && n=0; "           \
    "[ $m = 1 ] && [ \"$t\" != \"$pt\" ] && e=1; if [ $e = 1 ]; then read u x < /proc/uptime; " \
    "echo \"@@T $u $c $o $r $t@@\"; fi; [ \"$c\" != \"$p\" ] && echo \"@@C$c@@\" && n=1 && m=1; "   \
    "p=$c; po=$o; pr=$r; pt=$t; fi; usleep 1000; done"

#define TRACE_GUEST_SETUP                                                                          \
    "mount -t tracefs none /sys/kernel/tracing 2>/dev/null; cd /sys/kernel/tracing && "            \
    "echo 'linkwatch_do_dev dev_activate dev_deactivate arp_solicit virtnet_config_changed_work' "  \
    "> set_ftrace_filter && echo function > current_tracer && "                                   \
    "echo 'protocol == 2054' > events/skb/kfree_skb/filter && echo 1 > events/skb/kfree_skb/enable && " \
    "echo > trace; cd /"

/* The guest's uptime on the trace line before its first @@C0@@ in `text`. */
static double
trace_c0_uptime(const char *text)
{
    const char *c0 = strstr(text, "@@C0@@"), *t = NULL;
    double up = 0;
    for (const char *p = text; (p = strstr(p, "@@T ")) != NULL && (c0 == NULL || p < c0); p += 4)
        t = p;
    if (t != NULL && sscanf(t, "@@T %lf", &up) == 1)
        return up;
    return 0;
}

/* `runs` deletions and re-creations of lowA with the carrier watcher
 * running.  `agent`: a loop in the guest that sets eth0 up with its
 * address whenever it lacks it, as a guest's network configuration would
 * after a replug (a stand-in: polling, where networkd or NetworkManager
 * react to netlink). */
static gboolean
measure_heals(Guest *g, guint runs, gboolean agent, Heals *h, GError **error)
{
    /* the watcher starts from the carrier it reads first, so it prints
     * nothing until a change; a NIC that is gone (replug) reads as "" */
    g_autofree char *watcher = guest_background(g, B.trace ? TRACE_WATCHER :
                                                "f=/sys/class/net/eth0/carrier; read p < $f; while :; do "
                                                "c=; read c < $f 2>/dev/null; [ -n \"$c\" ] && "
                                                "[ \"$c\" != \"$p\" ] && echo \"@@C$c@@\" && p=$c; "
                                                "usleep 1000; done", error);
    g_autofree char *configurer = NULL;
    if (watcher == NULL)
        return FALSE;
    /* the guest's own view of its link and its drops: its tracer (ftrace:
     * the link-watch steps, the ARP solicitations, every freed ARP frame) */
    if (B.trace && !e2e_console_run(g->console, TRACE_GUEST_SETUP, 20, NULL, NULL, error))
        return FALSE;
    if (agent && (configurer = guest_background(g, "while :; do ip link set eth0 up 2>/dev/null; "
                                                "ip addr add " GUEST_IP "/24 dev eth0 2>/dev/null; "
                                                "usleep 5000; done", error)) == NULL)
        return FALSE;
    for (guint i = 0; i < runs; i++) {
        g_autofree char *before = B.trace ? e2e_console_transcript(g->console, 0) : NULL;
        gsize mark = before != NULL ? strlen(before) : 0;
        gint64 t0 = g_get_monotonic_time();
        if (!delete_lower(error))
            return FALSE;
        gint64 t1 = g_get_monotonic_time();
        if (!e2e_console_wait_for(g->console, "@@C0@@", 10, NULL, error)) {
            g_prefix_error(error, "%s, run %u: the guest's carrier did not go down: ", g->mode, i + 1);
            return FALSE;
        }
        gint64 t2 = g_get_monotonic_time();
        g_array_append_vals(h->gone, &(double){ (t2 - t0) / 1e3 }, 1);
        g_array_append_vals(h->gone_ack, &(double){ (t2 - t1) / 1e3 }, 1);
        if (!wait_state(g, "waiting", error))
            return FALSE;
        /* the device stays away GONE_S: the kernel batches link events it
         * does not deem urgent once a second (linkwatch), so a device back
         * sooner can measure that second */
        gint64 back_at = t0 + (gint64)(GONE_S * G_USEC_PER_SEC);
        if (g_get_monotonic_time() < back_at)
            g_usleep((gulong)(back_at - g_get_monotonic_time()));

        g_autofree char *neigh_before = NULL, *neigh_after = NULL;
        if (B.trace && !e2e_console_run(g->console, "cat /proc/net/arp", 10, &neigh_before, NULL, error))
            return FALSE;
        Trace *trace = trace_start(error);
        if (B.trace && trace == NULL)
            return FALSE;
        gint64 gone_at = t0;
        t0 = g_get_monotonic_time();
        if (!make_lower(error))
            return FALSE;
        /* a replug waits for the guest to release the NIC (seconds on a
         * loaded machine), then for the guest to configure the new one */
        gint64 t3 = first_reply(30);
        if (t3 < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s, run %u: no echo reply within 30 s of "
                        "lowA's return", g->mode, i + 1);
            if (trace != NULL) {
                g_autofree char *all = e2e_console_transcript(g->console, 0);
                g_autofree char *ftrace = NULL;
                e2e_console_run(g->console, "cat /proc/net/arp; ip link show eth0; "
                                "grep -v '^#' /sys/kernel/tracing/trace", 20, &ftrace, NULL, NULL);
                printf("  heal %u failed; the guest: %s\n", i + 1, ftrace);
                trace_finish(trace, i + 1, strlen(all) >= mark ? all + mark : all, 0);
            }
            return FALSE;
        }
        /* consumed, so the next run waits for a fresh C0 (when it came is
         * not known: it may have been read only now) */
        if (!e2e_console_wait_for(g->console, "@@C1@@", 30, NULL, error))
            return FALSE;
        g_array_append_vals(h->back, &(double){ (t3 - t0) / 1e3 }, 1);
        if (!wait_state(g, "plugged", error))
            return FALSE;
        if (trace != NULL) {
            gint64 end = t0 + TRACE_MS * 1000;
            if (g_get_monotonic_time() < end)
                g_usleep((gulong)(end - g_get_monotonic_time()));
            if (!e2e_console_run(g->console, "cat /proc/net/arp", 10, &neigh_after, NULL, error))
                return FALSE;
            printf("  guest neighbours before lowA came back: %s  and after: %s", neigh_before, neigh_after);
            g_autofree char *ftrace = NULL;
            if (!e2e_console_run(g->console, "grep -v '^#' /sys/kernel/tracing/trace; echo > /sys/kernel/tracing/trace",
                                 20, &ftrace, NULL, error))
                return FALSE;
            printf("  the guest's ftrace (its clock, s):\n%s", ftrace);
            g_autofree char *all = e2e_console_transcript(g->console, 0);
            const char *text = strlen(all) >= mark ? all + mark : all;
            /* C0 reached the bench at t2 (it was waiting for it): the
             * guest's clock then, against lowA's creation */
            double offset = trace_c0_uptime(text) - (double)(t2 - t0) / G_USEC_PER_SEC;
            printf("  heal %u: echo reply after %.1f ms (lowA gone %.0f ms before)\n", i + 1,
                   (t3 - t0) / 1e3, (t0 - gone_at) / 1e3);
            trace_finish(trace, i + 1, text, offset);
        }
    }
    g_autofree char *kill = g_strdup_printf("kill %s %s", watcher, configurer != NULL ? configurer : "");
    return e2e_console_run(g->console, kill, 10, NULL, NULL, error);
}

static void
print_heals(const Heals *h)
{
    print_series("lowA deleted -> guest carrier 0", h->gone, TARGET_GONE_MS);
    print_series("  (from the deletion's acknowledgement)", h->gone_ack, 0);
    print_series("lowA re-created -> guest answers the peer", h->back, TARGET_BACK_MS);
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    Guest hub = { .mode = "hub" }, replug = { .mode = "replug" };
    Heals hub_heals, replug_heals;
    gboolean ok;

    heals_init(&hub_heals);
    heals_init(&replug_heals);
    bench_init("bench/reconnect", &argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    if (g_getenv("RECONNECT_RUNS") != NULL)
        B.runs = (guint)CLAMP(g_ascii_strtoull(g_getenv("RECONNECT_RUNS"), NULL, 10), 1, 1000);
    B.hub_only = g_strcmp0(g_getenv("RECONNECT_HUB_ONLY"), "1") == 0;
    B.trace = g_strcmp0(g_getenv("RECONNECT_TRACE"), "1") == 0;
    ok = (B.peer = e2e_netns_peer_new(&error)) != NULL &&
         (B.icmp = e2e_netns_peer_socket(B.peer, AF_INET, SOCK_RAW, IPPROTO_ICMP, &error)) >= 0 &&
         nl_open(&error) && make_lower(&error) && (B.daemon = bench_daemon_start(FALSE, TRUE, &error)) != NULL;
    ok = ok && guest_boot(&hub, &error) && (B.hub_only || guest_throughput(&hub, &error)) &&
         measure_heals(&hub, B.runs, FALSE, &hub_heals, &error);
    if (ok) {
        printf("a direct NIC (macvtap on veth lowA) on its hub (the default), pc guest, TCG, %u runs:\n", B.runs);
        print_heals(&hub_heals);
        fflush(stdout);
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(B.daemon, "destroy", hub.xml->name, NULL);
        ok = r->status == 0;
        if (!ok)
            g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED, "destroy: %s", r->err);
    }
    if (ok && B.hub_only)
        return bench_finish(ok);
    ok = ok && guest_boot(&replug, &error) && guest_throughput(&replug, &error) &&
         measure_heals(&replug, REPLUG_RUNS, TRUE, &replug_heals, &error);
    if (ok) {
        printf("the same NIC with <vnic:reconnect mode='replug'/>, %d runs, a polling loop in the guest "
               "setting eth0 up with its address again:\n", REPLUG_RUNS);
        print_heals(&replug_heals);
        printf("guest <-> peer TCP (busybox dd | nc), %d MiB, median of %d:\n", SIZE_MIB, TPUT_RUNS);
        Guest *gs[] = { &hub, &replug };
        for (gsize i = 0; i < G_N_ELEMENTS(gs); i++) {
            g_autofree char *off = offloads(gs[i]->features);
            printf("  %-28s guest->peer %6.1f Mbit/s (max %.1f)  peer->guest %6.1f Mbit/s (max %.1f)\n"
                   "  %-28s offloads negotiated: %s\n",
                   i == 0 ? "on its hub (mode hub)" : "directly on the tap (replug)",
                   bench_median(gs[i]->to_peer), bench_max(gs[i]->to_peer), bench_median(gs[i]->to_guest),
                   bench_max(gs[i]->to_guest), "", off);
        }
    } else {
        bench_report_error(B.daemon, "%s", error != NULL ? error->message : "failed");
    }
    return bench_finish(ok);
}
