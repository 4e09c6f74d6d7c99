/* test-heal.c: backends that heal (issue #8), end to end (meson test 'e2e-heal').
 *
 * Every case runs in a subprocess of its own (g_test_trap_subprocess), so
 * it gets the harness' private namespaces of its own: a "host" network
 * namespace where its vnicd, the guest's host links and the lower device
 * live, and a "peer" namespace (a holder process, `unshare --net`) with the
 * far end of a veth and the address the guest talks to.  Each case boots
 * one pc guest (a test copy of examples/cloudstack-pc.xml with one NIC).
 *
 *   macvtap      a direct NIC (mode bridge; reconnect hub, its default) on
 *                veth lowA, its peer end lowB in the peer namespace with
 *                10.95.0.1/24; the guest has 10.95.0.2/24 (set over its
 *                console): ping both ways; `ip link del lowA` → the guest's
 *                carrier is 0 within 1 s, pings go unanswered, domiflist
 *                says state waiting, waiting-for lowA; lowA re-created
 *                (peer end in the peer namespace with its address) → pings
 *                answered within 1 s, domiflist says plugged, one macvtap,
 *                on lowA; the guest NIC has the same name, MAC,
 *                ID_NET_NAME_SLOT and ifindex, and its kernel logged no PCI
 *                change; events BACKEND_LOST (lowA), NIC_STATE waiting, then
 *                plugged, BACKEND_RESTORED (how hub)
 *   bridge       a bridge NIC on brA (brA's other port a veth to the peer):
 *                brA deleted and re-created → the same tap is a port of the
 *                new brA again, carrier and traffic as above, BACKEND_LOST
 *                (brA) and BACKEND_RESTORED (how re-enslave)
 *   tap-replug   a bridge NIC (replug, a bridge NIC's default), its tap
 *                deleted by hand → a new tap on the bridge; the guest saw the
 *                NIC leave and come back at the same slot with the same name
 *                and MAC (a new ifindex); once given its address again it
 *                answers; BACKEND_RESTORED how replug
 *   tap-hub      the same with the domain's <vnic:reconnect mode='hub'/>: the
 *                guest saw only carrier (same ifindex, no PCI change), its
 *                address kept, traffic back within 1 s
 *   flapping     50 delete/create cycles of lowA in under 5 s → one macvtap
 *                on lowA, the guest's carrier 1, traffic, the namespace's
 *                links as before, vnicd's and QEMU's fd counts as before,
 *                QEMU's netdevs (`info network` via qemu-monitor-command)
 *                as before
 *   restart      lowA deleted, the NIC waits; vnicd killed (SIGKILL); lowA
 *                re-created while it is down; vnicd started → plugged, ping
 *   foreign      while the NIC waits, a veth takes its old macvtap's name;
 *                lowA back → the NIC heals on a macvtap of another name, the
 *                foreign veth is untouched (same ifindex), also after destroy
 *   oper         lowA down/up and the peer end down/up (lowA loses its
 *                carrier without vanishing): the guest's carrier follows,
 *                the NIC stays plugged (domiflist link follows), events with
 *                how carrier, the same macvtap
 *   off          <vnic:reconnect mode='off'/>: nothing heals (docs/xml.md:
 *                carrier stays up, traffic gone, no new macvtap)
 *
 * The peer side of the traffic is the test's own ICMP echo over a raw
 * socket opened inside the peer namespace (the host has no ping); the guest
 * side is busybox ping.  "Within 1 s" is measured from the host change to
 * the guest's answer on its console, less one console round trip, or to
 * the first echo reply.  A deleted device comes back no sooner than GONE_S
 * after its deletion (see stay_gone()), and the peer knows the guest's MAC
 * (PEER_SETUP): both keep the kernels' one-second timers (linkwatch, ARP
 * retries) out of what is measured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "e2e.h"

#define MAC "52:54:00:48:00:01"
#define PEER_IP "10.95.0.1"
#define GUEST_IP "10.95.0.2"
#define LOWER "lowA"
#define LOWER_PEER "lowB"
/* the far end keeps its MAC across re-creations, as a real device would:
 * the guest's ARP entry for PEER_IP stays right (Linux would not replace
 * a fresh one for a second, its locktime) */
#define PEER_MAC "02:00:00:95:00:01"
/* The far end's address, and the guest's MAC as a neighbour (a router
 * would have it cached): an ARP request sent in the instant before the NIC
 * healed would cost the peer's ARP retry timer, a second, and the test
 * would measure that instead of the heal.  %s: the link, three times. */
#define PEER_SETUP "ip addr add " PEER_IP "/24 dev %s && ip link set %s up && " \
                   "ip neigh replace " GUEST_IP " lladdr " MAC " nud permanent dev %s"
#define BRIDGE "brA"
#define BR_PORT "brpA"
#define BR_PORT_PEER "brpB"
#define VNIC_NS "xmlns:vnic='urn:x-vnic:domain:1'"
#define HEAL_BUDGET_S 1.0
#define GONE_S 1.2
#define CASE_TIMEOUT_S 240

/* One case's world (each case is a process of its own). */
static struct {
    E2eDaemon *daemon;
    E2eDomainXml *xml;
    E2eConsole *console;
    GPid qemu;
    E2eNetnsPeer *peer;      /* the far end's namespace */
    int peer_icmp;           /* raw ICMP socket inside it */
    guint16 echo_seq;
    E2eJsonConn *events;     /* subscribed to vnicd's events */
    GPtrArray *seen;         /* JsonObject: every event read so far */
    char *ifname;            /* the guest's NIC */
    double console_rtt_s;    /* one trivial console command */
} H = { .peer_icmp = -1 };

#define GUEST_TIMEOUT_S 30.0

/* Runs `call`, which names `error` (a GError ** the macro provides);
 * when it returns FALSE, fails the case with the error's message. */
#define OK(call)                                                             \
    do {                                                                     \
        g_autoptr(GError) error_ = NULL;                                     \
        GError **error = &error_;                                            \
        if (!(call)) {                                                       \
            g_test_fail_printf("%s: %s", #call,                              \
                               error_ != NULL ? error_->message : "failed"); \
            return;                                                          \
        }                                                                    \
        (void)error;                                                         \
    } while (0)

static double
elapsed_s(gint64 since)
{
    return (g_get_monotonic_time() - since) / 1e6;
}

static const char *
or_none(const char *s)
{
    return s != NULL ? s : "(none)";
}

/* --- commands on the host and in the peer namespace ---------------------------------- */

static gboolean
run_argv(const char *const *argv, char **out, GError **error)
{
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(argv, 30);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    if (out != NULL)
        *out = g_steal_pointer(&r->out);
    return TRUE;
}

/* /bin/sh -c CMD in the host namespace; must exit 0. */
static gboolean G_GNUC_PRINTF(2, 3)
host_sh(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    return run_argv(argv, NULL, error);
}

static char *
peer_pid_str(void)
{
    return g_strdup_printf("%d", (int)e2e_netns_peer_pid(H.peer));
}

/* /bin/sh -c CMD in the peer namespace; must exit 0. */
static gboolean G_GNUC_PRINTF(2, 3)
peer_sh(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return e2e_netns_peer_sh(H.peer, cmd, error);
}

/* ifindex of a host link, 0 when there is none. */
static guint
host_ifindex(const char *name)
{
    return if_nametoindex(name);
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The namespace's links, sorted, space separated. */
static char *
links_now(void)
{
    g_autoptr(GPtrArray) links = e2e_netns_links();
    g_ptr_array_sort(links, cmp_str);
    g_ptr_array_add(links, NULL);
    return g_strjoinv(" ", (char **)links->pdata);
}

/* Names of the host's macvtap links, space separated ("" when none). */
static char *
macvtaps_now(GError **error)
{
    g_autofree char *out = NULL;
    const char *argv[] = { "ip", "-o", "link", "show", "type", "macvtap", NULL };
    if (!run_argv(argv, &out, error))
        return NULL;
    g_autoptr(GString) names = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        /* "12: macvtap0@lowA: <...>" */
        char *colon = strchr(*l, ':');
        if (colon == NULL)
            continue;
        g_autofree char *name = g_strndup(colon + 2, strcspn(colon + 2, "@:"));
        g_string_append_printf(names, "%s%s", names->len ? " " : "", name);
    }
    return g_string_free(g_steal_pointer(&names), FALSE);
}

/* The link a macvtap sits on (/sys/class/net/NAME/lower_*), or NULL. */
static char *
macvtap_lower(const char *name)
{
    g_autofree char *dir = g_strdup_printf("/sys/class/net/%s", name);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    while (d != NULL && (e = g_dir_read_name(d)) != NULL)
        if (g_str_has_prefix(e, "lower_"))
            return g_strdup(e + strlen("lower_"));
    return NULL;
}

static int
fd_count(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    int n = 0;
    if (d == NULL)
        return -1;
    while (g_dir_read_name(d) != NULL)
        n++;
    return n;
}

/* --- the peer namespace ------------------------------------------------------------------ */

/* veth `name` in the host namespace, up, its peer `peer` in the peer
 * namespace with PEER_IP/24, up. */
static gboolean
veth_to_peer(const char *name, const char *peer, GError **error)
{
    g_autofree char *pid = peer_pid_str();
    return host_sh(error, "ip link add %s type veth peer name %s address " PEER_MAC " netns %s && "
                   "ip link set %s up", name, peer, pid, name) &&
           peer_sh(error, PEER_SETUP, peer, peer, peer);
}

/* --- ICMP from the peer namespace --------------------------------------------------------- */

static guint16
icmp_checksum(const void *data, gsize len)
{
    const guint8 *p = data;
    guint32 sum = 0;
    for (gsize i = 0; i + 1 < len; i += 2)
        sum += (guint32)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (guint32)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((guint16)~sum);
}

static void
icmp_send(guint16 seq)
{
    struct sockaddr_in dst = { .sin_family = AF_INET };
    guint8 pkt[64] = { 0 };
    struct icmphdr *h = (struct icmphdr *)pkt;
    inet_pton(AF_INET, GUEST_IP, &dst.sin_addr);
    h->type = ICMP_ECHO;
    h->un.echo.id = htons((guint16)getpid());
    h->un.echo.sequence = htons(seq);
    memcpy(pkt + sizeof *h, "vnic-e2e-heal", 13);
    h->checksum = icmp_checksum(pkt, sizeof pkt);
    (void)sendto(H.peer_icmp, pkt, sizeof pkt, 0, (struct sockaddr *)&dst, sizeof dst);
}

/* Waits until `deadline` for an echo reply from the guest with sequence
 * number >= `min_seq`; TRUE when one came. */
static gboolean
icmp_wait_reply(guint16 min_seq, gint64 deadline)
{
    for (;;) {
        struct pollfd pfd = { .fd = H.peer_icmp, .events = POLLIN };
        int left = e2e_ms_left(deadline);
        if (poll(&pfd, 1, left) <= 0)
            return FALSE;
        guint8 buf[1500];
        ssize_t n;
        while ((n = recv(H.peer_icmp, buf, sizeof buf, 0)) > 0) {
            const struct iphdr *iph = (const struct iphdr *)buf;
            gsize hl = (gsize)iph->ihl * 4;
            if ((gsize)n < hl + sizeof(struct icmphdr))
                continue;
            const struct icmphdr *r = (const struct icmphdr *)(buf + hl);
            if (r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == (guint16)getpid() &&
                (guint16)(ntohs(r->un.echo.sequence) - min_seq) < 0x8000)
                return TRUE;
        }
        if (e2e_ms_left(deadline) == 0)
            return FALSE;
    }
}

/* Echo requests from the peer to the guest, `count` of them `wait_s`
 * apart; how many were answered. */
static int
ping_count(int count, double wait_s)
{
    int answered = 0;
    for (int i = 0; i < count; i++) {
        guint16 seq = ++H.echo_seq;
        icmp_send(seq);
        answered += icmp_wait_reply(seq, e2e_deadline(wait_s));
    }
    return answered;
}

/* An echo request every 10 ms until one is answered: seconds until then
 * (from `since`), or -1 after `budget_s`. */
static double
ping_until(gint64 since, double budget_s)
{
    gint64 deadline = e2e_deadline(budget_s);
    guint16 first = H.echo_seq + 1;
    while (e2e_ms_left(deadline) > 0) {
        icmp_send(++H.echo_seq);
        gint64 step = MIN(deadline, e2e_deadline(0.01));
        if (icmp_wait_reply(first, step))
            return elapsed_s(since);
    }
    return -1;
}

/* --- the guest ----------------------------------------------------------------------------- */

static gboolean
guest_ok(const char *cmd, char **out, GError **error)
{
    int status = -1;
    g_autofree char *text = NULL;
    if (!e2e_console_run(H.console, cmd, GUEST_TIMEOUT_S, &text, &status, error))
        return FALSE;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "guest: `%s` exited %d: %s", cmd, status, text);
        return FALSE;
    }
    if (out != NULL)
        *out = g_strstrip(g_steal_pointer(&text));
    return TRUE;
}

/* The guest's NIC with MAC, waiting up to 20 s for it. */
static E2eGuestNic *
guest_nic(GError **error)
{
    gint64 deadline = e2e_deadline(20);
    do {
        g_autoptr(GPtrArray) nics = e2e_guest_nics(H.console, error);
        if (nics == NULL)
            return NULL;
        const E2eGuestNic *n = e2e_guest_nics_find_mac(nics, MAC);
        if (n != NULL) {
            E2eGuestNic *copy = g_new0(E2eGuestNic, 1);
            copy->ifname = g_strdup(n->ifname);
            copy->mac = g_strdup(n->mac);
            copy->onboard = g_strdup(n->onboard);
            copy->slot = g_strdup(n->slot);
            copy->path = g_strdup(n->path);
            return copy;
        }
        g_usleep(200 * 1000);
    } while (e2e_ms_left(deadline) > 0);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the guest has no NIC with MAC %s", MAC);
    return NULL;
}

static gboolean
guest_ifindex(const char *ifname, char **out, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("cat /sys/class/net/%s/ifindex", ifname);
    return guest_ok(cmd, out, error);
}

/* What identifies the guest's NIC to its users: the same before and after
 * a heal (the ifindex only without a replug). */
typedef struct {
    E2eGuestNic *nic;
    char *ifindex;
} GuestId;

static void
guest_id_clear(GuestId *id)
{
    g_clear_pointer(&id->nic, e2e_guest_nic_free);
    g_clear_pointer(&id->ifindex, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(GuestId, guest_id_clear)

static gboolean
guest_id_take(GuestId *id, GError **error)
{
    id->nic = guest_nic(error);
    return id->nic != NULL && guest_ifindex(id->nic->ifname, &id->ifindex, error);
}

/* NULL when the two name the same NIC (`same_device`: also the same
 * ifindex), else what differs. */
static char *
guest_id_diff(const GuestId *a, const GuestId *b, gboolean same_device)
{
    g_autoptr(GString) d = g_string_new(NULL);
    if (g_strcmp0(a->nic->ifname, b->nic->ifname) != 0)
        g_string_append_printf(d, "name %s -> %s; ", a->nic->ifname, b->nic->ifname);
    if (g_ascii_strcasecmp(a->nic->mac, b->nic->mac) != 0)
        g_string_append_printf(d, "MAC %s -> %s; ", a->nic->mac, b->nic->mac);
    if (g_strcmp0(a->nic->slot, b->nic->slot) != 0)
        g_string_append_printf(d, "ID_NET_NAME_SLOT %s -> %s; ", or_none(a->nic->slot), or_none(b->nic->slot));
    if (same_device && g_strcmp0(a->ifindex, b->ifindex) != 0)
        g_string_append_printf(d, "ifindex %s -> %s (the NIC was replaced); ", a->ifindex, b->ifindex);
    return d->len > 0 ? g_string_free(g_steal_pointer(&d), FALSE) : NULL;
}

/* Sets the guest's address up on its NIC (again, after a replug). */
static gboolean
guest_configure(GError **error)
{
    g_autofree char *cmd = g_strdup_printf("ip addr flush dev %s && ip addr add " GUEST_IP "/24 dev %s && "
                                           "ip link set %s up", H.ifname, H.ifname, H.ifname);
    return guest_ok(cmd, NULL, error);
}

/* Waits in the guest (up to `budget_s` of its time) until its NIC's
 * carrier is `want`; `out_s`: from `since` until the guest said so, less
 * one console round trip. */
static gboolean
guest_wait_carrier(gboolean want, gint64 since, double budget_s, double *out_s, GError **error)
{
    /* `read` is a builtin: one fork (sleep) per round; the guest's uptime
     * (0.01 s resolution) bounds the loop */
    g_autofree char *cmd = g_strdup_printf(
        "f=/sys/class/net/%s/carrier; read u x < /proc/uptime; end=$(( ${u%%.*}${u#*.} + %d )); "
        "while read c < $f; [ \"$c\" != %d ]; do read u x < /proc/uptime; "
        "[ ${u%%.*}${u#*.} -gt $end ] && break; sleep 0.01; done; cat $f",
        H.ifname, (int)(budget_s * 100), want);
    g_autofree char *out = NULL;
    if (!guest_ok(cmd, &out, error))
        return FALSE;
    double s = MAX(0.0, elapsed_s(since) - H.console_rtt_s);
    if (out_s != NULL)
        *out_s = s;
    if (g_strcmp0(out, want ? "1" : "0") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the guest's %s has carrier %s %.2f s later, "
                    "expected %d", H.ifname, out, s, want);
        return FALSE;
    }
    return TRUE;
}

static gboolean
guest_carrier(char **out, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("cat /sys/class/net/%s/carrier", H.ifname);
    return guest_ok(cmd, out, error);
}

/* busybox ping from the guest to the peer: one of three answered. */
static gboolean
guest_pings_peer(GError **error)
{
    g_autofree char *out = NULL;
    int status = -1;
    if (!e2e_console_run(H.console, "ping -c 3 -W 1 " PEER_IP, GUEST_TIMEOUT_S, &out, &status, error))
        return FALSE;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "guest: ping " PEER_IP " failed:\n%s", out);
        return FALSE;
    }
    return TRUE;
}

/* The kernel's PCI messages in the guest (dmesg), to see that a heal
 * unplugged nothing. */
static gboolean
guest_pci_log(char **out, GError **error)
{
    return guest_ok("dmesg | grep -iE 'pci|virtio|remov|hotplug|eject' | grep -v 'PCI: CLS' ; true", out,
                    error);
}

/* --- vnicd --------------------------------------------------------------------------------- */

/* The copy's NICs become `nics`; `domain_extra` (may be NULL) goes at the
 * end of <domain>. */
static gboolean
write_xml(const char *nics, const char *domain_extra, GError **error)
{
    E2eDomainXml *xml = H.xml;
    const char *start = strstr(xml->xml, "    <interface");
    const char *end = g_strrstr(xml->xml, "</interface>\n");
    if (start == NULL || end == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no <interface> in the copy");
        return FALSE;
    }
    end += strlen("</interface>\n");
    g_autofree char *text = g_strdup_printf("%.*s%s%s", (int)(start - xml->xml), xml->xml, nics, end);
    if (domain_extra != NULL) {
        const char *close = g_strrstr(text, "</domain>");
        g_autofree char *with = g_strdup_printf("%.*s  %s\n%s", (int)(close - text), text, domain_extra, close);
        g_free(text);
        text = g_steal_pointer(&with);
    }
    g_free(xml->xml);
    xml->xml = g_steal_pointer(&text);
    return g_file_set_contents(xml->xml_path, xml->xml, -1, error);
}

static gboolean
events_subscribe(GError **error)
{
    H.seen = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    H.events = e2e_json_conn_connect(e2e_daemon_socket(H.daemon), 10, error);
    if (H.events == NULL)
        return FALSE;
    g_autoptr(JsonObject) reply = e2e_api_call(H.events, "subscribe-events", NULL, 10, error);
    g_autoptr(JsonNode) ret = reply != NULL ? e2e_api_return(reply, error) : NULL;
    return ret != NULL;
}

/* Reads every event that arrives within `wait_s` (and those queued). */
static void
events_drain(double wait_s)
{
    if (H.events == NULL)
        return;
    for (;;) {
        g_autoptr(GError) error = NULL;
        JsonObject *o = e2e_json_conn_recv(H.events, wait_s, &error);
        if (o == NULL)
            return;
        if (json_object_has_member(o, "event"))
            g_ptr_array_add(H.seen, o);
        else
            json_object_unref(o);
        wait_s = MIN(wait_s, 0.05);
    }
}

/* Index of the first event `name` of this domain at or after `from` whose
 * data has `key` = `value` (when `key` is not NULL); -1 when none. */
static int
events_find_event(guint from, const char *name, const char *key, const char *value)
{
    for (guint i = from; i < H.seen->len; i++) {
        JsonObject *o = g_ptr_array_index(H.seen, i);
        JsonObject *data = e2e_json_member_object(o, "data");
        if (g_strcmp0(e2e_json_get_string(o, "event"), name) == 0 &&
            g_strcmp0(e2e_json_get_string(data, "domain"), H.xml->name) == 0 &&
            (key == NULL || g_strcmp0(e2e_json_get_string(data, key), value) == 0))
            return (int)i;
    }
    return -1;
}

/* The first NIC_STATE event at or after `from` with `state` (and
 * `waiting_for`, when not NULL); -1 when none. */
static int
events_find(guint from, const char *state, const char *waiting_for)
{
    for (int i = (int)from; (i = events_find_event((guint)i, "NIC_STATE", "state", state)) >= 0; i++) {
        JsonObject *data = e2e_json_member_object(g_ptr_array_index(H.seen, i), "data");
        if (waiting_for == NULL || g_strcmp0(e2e_json_get_string(data, "waiting-for"), waiting_for) == 0)
            return i;
    }
    return -1;
}

static char *
events_describe(void)
{
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint i = 0; i < H.seen->len; i++) {
        g_autofree char *t = e2e_json_object_to_string(g_ptr_array_index(H.seen, i));
        g_string_append_printf(s, "  %s\n", t);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The domain's only NIC as `vnic domiflist --json` has it. */
static JsonObject *
domif(GError **error)
{
    g_autoptr(JsonNode) node = e2e_daemon_vnic_json(H.daemon, error, "domiflist", H.xml->name, "--json", NULL);
    JsonObject *o = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonArray *ifaces = e2e_json_member_array(o, "interfaces");
    if (node != NULL && (ifaces == NULL || json_array_get_length(ifaces) != 1)) {
        g_autofree char *t = e2e_json_to_string(node, FALSE);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "domiflist: not one interface: %s", t);
        return NULL;
    }
    return ifaces != NULL ? json_object_ref(e2e_json_array_object(ifaces, 0)) : NULL;
}

/* Polls domiflist until the NIC's "state" is `state` (and "waiting-for"
 * `waiting_for` when not NULL), up to `timeout_s`; returns that entry. */
static JsonObject *
domif_wait(const char *state, const char *waiting_for, double timeout_s, GError **error)
{
    gint64 deadline = e2e_deadline(timeout_s);
    g_autofree char *last = NULL;
    for (;;) {
        JsonObject *o = domif(error);
        if (o == NULL)
            return NULL;
        if (g_strcmp0(e2e_json_get_string(o, "state"), state) == 0 &&
            (waiting_for == NULL || g_strcmp0(e2e_json_get_string(o, "waiting-for"), waiting_for) == 0))
            return o;
        g_free(last);
        last = e2e_json_object_to_string(o);
        json_object_unref(o);
        if (e2e_ms_left(deadline) == 0)
            break;
        g_usleep(50 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                "after %.0f s domiflist still does not say state %s%s%s: %s", timeout_s, state,
                waiting_for ? ", waiting-for " : "", waiting_for ? waiting_for : "", last);
    return NULL;
}

/* vnicd, the domain with `nics` (and `domain_extra`), booted; the guest's
 * NIC found and given GUEST_IP. */
static gboolean
setup(const char *nics, const char *domain_extra, GError **error)
{
    H.daemon = e2e_daemon_new(NULL);
    if (!e2e_daemon_start(H.daemon, error) || !events_subscribe(error))
        return FALSE;
    H.xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "heal", error);
    if (H.xml == NULL || !write_xml(nics, domain_extra, error))
        return FALSE;
    g_autoptr(E2eCmdResult) def = e2e_daemon_vnic(H.daemon, "define", H.xml->xml_path, NULL);
    if (def->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(def);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    E2eCmd *start = e2e_daemon_vnic_spawn(H.daemon, "start", H.xml->name, NULL);
    gint64 deadline = e2e_deadline(90);
    while (!g_file_test(H.xml->serial_path, G_FILE_TEST_EXISTS) && !e2e_cmd_done(start) &&
           e2e_ms_left(deadline) > 0)
        g_usleep(10 * 1000);
    H.console = e2e_console_connect(H.xml->serial_path, 5, NULL);
    g_autoptr(E2eCmdResult) r = e2e_cmd_finish(start, 90);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    if (H.console == NULL && (H.console = e2e_console_connect(H.xml->serial_path, 5, error)) == NULL)
        return FALSE;
    if (!e2e_console_wait_ready(H.console, 90, error))
        return FALSE;
    H.qemu = e2e_daemon_running_pid(H.daemon, H.xml->name, error);
    if (H.qemu <= 0)
        return FALSE;
    g_autoptr(E2eGuestNic) nic = guest_nic(error);
    if (nic == NULL)
        return FALSE;
    H.ifname = g_strdup(nic->ifname);
    gint64 t = g_get_monotonic_time();
    if (!guest_ok("true", NULL, error))
        return FALSE;
    H.console_rtt_s = elapsed_s(t);
    return guest_configure(error);
}

/* Traffic both ways: the guest answers the peer, busybox ping in the guest
 * reaches it. */
static gboolean
traffic_ok(GError **error)
{
    if (ping_until(g_get_monotonic_time(), 10) < 0) {
        g_autofree char *gout = NULL;
        guest_ok("ip addr; ip link", &gout, NULL);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no echo reply from the guest within 10 s\n"
                    "--- guest\n%s", or_none(gout));
        return FALSE;
    }
    return guest_pings_peer(error);
}

/* Peer → guest pings go unanswered now. */
static gboolean
traffic_gone(GError **error)
{
    int answered = ping_count(3, 0.3);
    if (answered > 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%d of 3 echoes answered with the backend gone",
                    answered);
        return FALSE;
    }
    return TRUE;
}

/* Host change at `since` (a deletion, after which the guest's carrier must
 * go to 0 within HEAL_BUDGET_S, pings unanswered, and the NIC waiting for
 * `waiting_for`). */
static gboolean
expect_lost(gint64 since, const char *waiting_for, GError **error)
{
    double s = -1;
    if (!guest_wait_carrier(FALSE, since, 5, &s, error))
        return FALSE;
    g_test_message("carrier 0 in the guest %.0f ms after the change (console round trip %.0f ms "
                   "subtracted)", s * 1e3, H.console_rtt_s * 1e3);
    if (s > HEAL_BUDGET_S) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the guest's carrier went to 0 only %.2f s after "
                    "the change (budget %.1f s)", s, HEAL_BUDGET_S);
        return FALSE;
    }
    if (!traffic_gone(error))
        return FALSE;
    g_autoptr(JsonObject) o = domif_wait("waiting", waiting_for, 5, error);
    return o != NULL;
}

/* Sleeps until GONE_S after the deletion at `since`: the kernel batches
 * link events it does not deem urgent once a second (linkwatch, host and
 * guest), so a device back sooner can be measured in that second rather
 * than in the heal. */
static void
stay_gone(gint64 since)
{
    gint64 until = since + (gint64)(GONE_S * G_USEC_PER_SEC);
    gint64 now = g_get_monotonic_time();
    if (now < until)
        g_usleep((gulong)(until - now));
}

/* Host device back at `since`: the guest answers within HEAL_BUDGET_S,
 * carrier 1, domiflist plugged. */
static gboolean
expect_restored(gint64 since, GError **error)
{
    double s = ping_until(since, 10);
    if (s < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no echo reply within 10 s of the device's return");
        return FALSE;
    }
    g_test_message("the guest answered %.0f ms after the device came back", s * 1e3);
    if (s > HEAL_BUDGET_S) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the guest answered only %.2f s after the device "
                    "came back (budget %.1f s)", s, HEAL_BUDGET_S);
        return FALSE;
    }
    g_autofree char *carrier = NULL;
    if (!guest_carrier(&carrier, error))
        return FALSE;
    if (g_strcmp0(carrier, "1") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "traffic works but the guest's carrier is %s", carrier);
        return FALSE;
    }
    g_autoptr(JsonObject) o = domif_wait("plugged", NULL, 5, error);
    return o != NULL && guest_pings_peer(error);
}

/* From event `from` on: BACKEND_LOST of `device`, then BACKEND_RESTORED
 * with `how`; and unless `how` is "carrier", NIC_STATE `via` (waiting,
 * for `waiting_for` when not NULL; or restoring), then plugged. */
static gboolean
expect_events(guint from, const char *device, const char *via, const char *waiting_for, const char *how,
              GError **error)
{
    events_drain(0.5);
    int lost = events_find_event(from, "BACKEND_LOST", device != NULL ? "device" : NULL, device);
    int restored = lost >= 0 ? events_find_event((guint)lost + 1, "BACKEND_RESTORED", "how", how) : -1;
    gboolean ok = lost >= 0 && restored >= 0;
    if (ok && strcmp(how, "carrier") != 0) {
        int w = events_find(from, via, waiting_for);
        ok = w >= 0 && events_find((guint)w + 1, "plugged", NULL) >= 0;
    }
    if (!ok) {
        g_autofree char *all = events_describe();
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "expected BACKEND_LOST (device %s), BACKEND_RESTORED "
                    "(how %s)%s%s%s; vnicd sent:\n%s", or_none(device), how,
                    strcmp(how, "carrier") != 0 ? " and NIC_STATE " : "", strcmp(how, "carrier") != 0 ? via : "",
                    strcmp(how, "carrier") != 0 ? ", then plugged" : "", all);
        return FALSE;
    }
    return TRUE;
}

/* domiflist gives the NIC the effective reconnect mode `mode`. */
static gboolean
expect_reconnect(const char *mode, GError **error)
{
    g_autoptr(JsonObject) o = domif(error);
    if (o == NULL)
        return FALSE;
    if (g_strcmp0(e2e_json_get_string(o, "reconnect"), mode) != 0) {
        g_autofree char *t = e2e_json_object_to_string(o);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "domiflist: expected reconnect %s: %s", mode, t);
        return FALSE;
    }
    return TRUE;
}

static char *
direct_nic(const char *extra)
{
    return g_strdup_printf("    <interface type='direct'>\n"
                           "      <mac address='" MAC "'/>\n"
                           "      <source dev='" LOWER "' mode='bridge'/>\n"
                           "      <model type='virtio'/>\n%s"
                           "    </interface>\n", extra != NULL ? extra : "");
}

static char *
bridge_nic(const char *extra)
{
    return g_strdup_printf("    <interface type='bridge'>\n"
                           "      <mac address='" MAC "'/>\n"
                           "      <source bridge='" BRIDGE "'/>\n"
                           "      <model type='virtio'/>\n%s"
                           "    </interface>\n", extra != NULL ? extra : "");
}

/* brA in the host namespace, up, with a veth port whose other end is in the
 * peer namespace with PEER_IP. */
static gboolean
bridge_to_peer(gboolean make_port, GError **error)
{
    if (!host_sh(error, "ip link add " BRIDGE " type bridge && ip link set " BRIDGE " up"))
        return FALSE;
    if (make_port && !veth_to_peer(BR_PORT, BR_PORT_PEER, error))
        return FALSE;
    return host_sh(error, "ip link set " BR_PORT " master " BRIDGE " && ip link set " BR_PORT " up");
}

/* The NIC's host link (domiflist "target"). */
static char *
nic_target(GError **error)
{
    g_autoptr(JsonObject) o = domif(error);
    const char *t = o != NULL ? e2e_json_get_string(o, "target") : NULL;
    if (o != NULL && t == NULL)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "domiflist gives the NIC no target");
    return g_strdup(t);
}

/* --- QEMU's netdevs ------------------------------------------------------------------------ */

/* QEMU's `info network` (qemu-monitor-command, hmp), fd numbers blanked. */
static char *
qemu_info_network(GError **error)
{
    g_autofree char *args = g_strdup_printf("{\"name\": \"%s\", \"command\": \"info network\", \"hmp\": true}",
                                            H.xml->name);
    g_autoptr(JsonObject) reply = e2e_daemon_api(H.daemon, "qemu-monitor-command", args, error);
    g_autoptr(JsonNode) ret = reply != NULL ? e2e_api_return(reply, error) : NULL;
    if (ret == NULL)
        return NULL;
    if (!JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_STRING) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "qemu-monitor-command info network: no string");
        return NULL;
    }
    /* sorted: QEMU lists a hub's ports in the order they were added, and
     * a swap adds the tap's port again */
    g_autoptr(GRegex) fd = g_regex_new("fd=[0-9]+", 0, 0, NULL);
    g_autofree char *text = g_regex_replace_literal(fd, json_node_get_string(ret), -1, 0, "fd=N", 0, NULL);
    g_auto(GStrv) raw = g_strsplit_set(text, "\r\n", -1);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    for (char **l = raw; *l != NULL; l++)
        if (**l != '\0')
            g_ptr_array_add(kept, *l);
    g_ptr_array_add(kept, NULL);
    char **lines = (char **)kept->pdata;
    qsort(lines, kept->len - 1, sizeof(char *), cmp_str);
    return g_strjoinv("\n", lines);
}

/* --- cases --------------------------------------------------------------------------------- */

/* a: macvtap on a veth, the lower device deleted and re-created. */
static void
case_macvtap(void)
{
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    g_autofree char *nics = direct_nic(NULL);
    OK(setup(nics, NULL, error));
    OK(expect_reconnect("hub", error));
    OK(traffic_ok(error));
    g_auto(GuestId) before = { 0 };
    OK(guest_id_take(&before, error));
    g_autofree char *pci_before = NULL;
    OK(guest_pci_log(&pci_before, error));
    g_autofree char *old_tap = NULL;
    OK((old_tap = nic_target(error)) != NULL);
    {
        g_autoptr(JsonObject) o = NULL;
        OK((o = domif_wait("plugged", NULL, 5, error)) != NULL);
    }
    events_drain(0.1);
    guint ev0 = H.seen->len;

    gint64 t = g_get_monotonic_time();
    OK(host_sh(error, "ip link del " LOWER));
    OK(expect_lost(t, LOWER, error));
    E2E_CHECK(!e2e_netns_has_link(old_tap), "the macvtap %s outlived its lower device", old_tap);
    stay_gone(t);

    t = g_get_monotonic_time();
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    OK(expect_restored(t, error));
    OK(expect_events(ev0, LOWER, "waiting", LOWER, "hub", error));

    g_autofree char *tap = NULL;
    OK((tap = nic_target(error)) != NULL);
    g_autofree char *lower = macvtap_lower(tap);
    E2E_CHECK(g_strcmp0(lower, LOWER) == 0, "the NIC's macvtap %s sits on %s, not on " LOWER, tap, or_none(lower));
    g_autofree char *mvts = NULL;
    OK((mvts = macvtaps_now(error)) != NULL);
    E2E_CHECK(g_strcmp0(mvts, tap) == 0, "macvtaps in the namespace: [%s], expected [%s]", mvts, tap);

    g_auto(GuestId) after = { 0 };
    OK(guest_id_take(&after, error));
    g_autofree char *diff = guest_id_diff(&before, &after, TRUE);
    E2E_CHECK(diff == NULL, "the guest's NIC changed: %s", diff);
    g_autofree char *pci_after = NULL;
    OK(guest_pci_log(&pci_after, error));
    E2E_CHECK(g_strcmp0(pci_before, pci_after) == 0, "the guest logged PCI changes (hub mode must not "
              "replug):\n--- before\n%s\n--- after\n%s", pci_before, pci_after);
    g_test_message("healed: guest %s (%s, %s) kept; macvtap %s -> %s", after.nic->ifname, after.nic->mac,
                   or_none(after.nic->slot), old_tap, tap);
}

/* b: a bridge NIC, the bridge deleted and re-created. */
static void
case_bridge(void)
{
    OK(bridge_to_peer(TRUE, error));
    g_autofree char *nics = bridge_nic(NULL);
    OK(setup(nics, NULL, error));
    OK(traffic_ok(error));
    g_auto(GuestId) before = { 0 };
    OK(guest_id_take(&before, error));
    g_autofree char *tap = NULL;
    OK((tap = nic_target(error)) != NULL);
    guint tap_index = host_ifindex(tap);
    events_drain(0.1);
    guint ev0 = H.seen->len;

    gint64 t = g_get_monotonic_time();
    OK(host_sh(error, "ip link del " BRIDGE));
    OK(expect_lost(t, BRIDGE, error));
    E2E_CHECK(host_ifindex(tap) == tap_index, "the tap %s did not survive its bridge", tap);
    stay_gone(t);

    t = g_get_monotonic_time();
    OK(bridge_to_peer(FALSE, error));
    OK(expect_restored(t, error));
    OK(expect_events(ev0, BRIDGE, "waiting", BRIDGE, "re-enslave", error));
    g_autofree char *master = e2e_netns_master_of(tap);
    E2E_CHECK(g_strcmp0(master, BRIDGE) == 0 && host_ifindex(tap) == tap_index,
              "the tap %s (ifindex %u, was %u) is a port of '%s', expected the same tap on " BRIDGE, tap,
              host_ifindex(tap), tap_index, master);
    g_auto(GuestId) after = { 0 };
    OK(guest_id_take(&after, error));
    g_autofree char *diff = guest_id_diff(&before, &after, TRUE);
    E2E_CHECK(diff == NULL, "the guest's NIC changed: %s", diff);
}

/* b: a bridge NIC's tap deleted by hand, in `mode`. */
static void
tap_deleted(const char *mode)
{
    gboolean hub = strcmp(mode, "hub") == 0;
    OK(bridge_to_peer(TRUE, error));
    /* replug is a bridge NIC's default; hub comes from the domain's
     * <vnic:reconnect> */
    g_autofree char *nics = bridge_nic(NULL);
    OK(setup(nics, hub ? "<vnic:reconnect mode='hub' " VNIC_NS "/>" : NULL, error));
    OK(expect_reconnect(mode, error));
    OK(traffic_ok(error));
    g_auto(GuestId) before = { 0 };
    OK(guest_id_take(&before, error));
    g_autofree char *pci_before = NULL;
    OK(guest_pci_log(&pci_before, error));
    g_autofree char *tap = NULL;
    OK((tap = nic_target(error)) != NULL);
    guint tap_index = host_ifindex(tap);
    events_drain(0.1);
    guint ev0 = H.seen->len;

    gint64 t = g_get_monotonic_time();
    OK(host_sh(error, "ip link del %s", tap));
    if (hub) {
        /* the guest keeps its NIC and its address: only its carrier may
         * blink, too briefly to poll for; traffic must come back */
        OK(expect_restored(t, error));
    } else {
        /* replug: the NIC leaves the guest and comes back at the same slot;
         * whatever configured it must do so again */
        gint64 deadline = e2e_deadline(20);
        g_auto(GuestId) again = { 0 };
        for (;;) {
            g_autofree char *idx = NULL;
            if (guest_ifindex(before.nic->ifname, &idx, NULL) && g_strcmp0(idx, before.ifindex) != 0)
                break;
            E2E_CHECK(e2e_ms_left(deadline) > 0, "20 s after the tap's deletion the guest still has the "
                      "same NIC %s (ifindex %s): no replug", before.nic->ifname, before.ifindex);
            g_usleep(100 * 1000);
        }
        OK(guest_id_take(&again, error));
        g_free(H.ifname);
        H.ifname = g_strdup(again.nic->ifname);
        OK(guest_configure(error));
        double s = ping_until(t, 10);
        E2E_CHECK(s >= 0, "the replugged NIC does not answer");
        g_test_message("replug: the guest answered %.0f ms after the tap's deletion (reconfigured over its "
                       "console)", s * 1e3);
        g_autoptr(JsonObject) o = NULL;
        OK((o = domif_wait("plugged", NULL, 5, error)) != NULL);
    }
    g_autofree char *new_tap = NULL;
    OK((new_tap = nic_target(error)) != NULL);
    g_autofree char *master = e2e_netns_master_of(new_tap);
    E2E_CHECK(host_ifindex(new_tap) != 0 && host_ifindex(new_tap) != tap_index &&
                  g_strcmp0(master, BRIDGE) == 0,
              "the NIC's tap is now %s (ifindex %u, old %s was %u), port of '%s': expected a new tap on "
              BRIDGE, new_tap, host_ifindex(new_tap), tap, tap_index, master);
    /* nothing to wait for: a new tap goes in at once */
    OK(expect_events(ev0, tap, "restoring", NULL, mode, error));

    g_auto(GuestId) after = { 0 };
    OK(guest_id_take(&after, error));
    g_autofree char *diff = guest_id_diff(&before, &after, hub);
    E2E_CHECK(diff == NULL, "the guest's NIC changed: %s", diff);
    g_autofree char *pci_after = NULL;
    OK(guest_pci_log(&pci_after, error));
    if (hub)
        E2E_CHECK(g_strcmp0(pci_before, pci_after) == 0, "hub mode: the guest logged PCI changes:\n"
                  "--- before\n%s\n--- after\n%s", pci_before, pci_after);
    else
        E2E_CHECK(g_strcmp0(after.ifindex, before.ifindex) != 0, "replug mode: same ifindex %s in the guest",
                  after.ifindex);
    OK(traffic_ok(error));
}

static void
case_tap_replug(void)
{
    tap_deleted("replug");
}

static void
case_tap_hub(void)
{
    tap_deleted("hub");
}

/* c: 50 delete/create cycles of the lower device within 5 s. */
static void
case_flapping(void)
{
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    g_autofree char *nics = direct_nic(NULL);
    OK(setup(nics, NULL, error));
    OK(traffic_ok(error));
    g_autofree char *netdevs_before = NULL;
    OK((netdevs_before = qemu_info_network(error)) != NULL);
    {
        g_autoptr(JsonObject) o = NULL;
        OK((o = domif_wait("plugged", NULL, 20, error)) != NULL);
    }
    OK(traffic_ok(error));
    g_autofree char *links_before = links_now();
    int vnicd_fds = fd_count(e2e_daemon_pid(H.daemon));
    int qemu_fds = fd_count(H.qemu);

    /* one `ip -batch`: the cycles as fast as ip can make them */
    g_autofree char *pid = peer_pid_str();
    g_autoptr(GString) batch = g_string_new(NULL);
    for (int i = 0; i < 50; i++)
        g_string_append_printf(batch, "link del " LOWER "\nlink add " LOWER " type veth peer name " LOWER_PEER
                               " address " PEER_MAC " netns %s\n", pid);
    g_autofree char *dir = e2e_tmp_dir("flap");
    g_autofree char *file = g_build_filename(dir, "batch", NULL);
    OK(g_file_set_contents(file, batch->str, -1, error));
    gint64 t = g_get_monotonic_time();
    OK(host_sh(error, "ip -batch %s", file));
    double flap_s = elapsed_s(t);
    g_test_message("50 delete/create cycles of " LOWER " in %.2f s", flap_s);
    E2E_CHECK(flap_s < 5, "the 50 cycles took %.1f s, more than 5", flap_s);
    t = g_get_monotonic_time();
    OK(host_sh(error, "ip link set " LOWER " up") &&
       peer_sh(error, PEER_SETUP, LOWER_PEER, LOWER_PEER, LOWER_PEER));
    double s = ping_until(t, 20);
    E2E_CHECK(s >= 0, "20 s after the flapping the guest does not answer:\n%s", e2e_daemon_log_tail(H.daemon, 30));
    g_test_message("traffic back %.0f ms after the last creation", s * 1e3);
    {
        g_autoptr(JsonObject) o = NULL;
        OK((o = domif_wait("plugged", NULL, 10, error)) != NULL);
    }
    /* let every queued step run out before counting */
    g_usleep(1000 * 1000);
    OK(traffic_ok(error));
    g_autofree char *carrier = NULL;
    OK(guest_carrier(&carrier, error));
    E2E_CHECK(g_strcmp0(carrier, "1") == 0, "after the flapping the guest's carrier is %s", carrier);

    g_autofree char *tap = NULL;
    OK((tap = nic_target(error)) != NULL);
    g_autofree char *mvts = NULL;
    OK((mvts = macvtaps_now(error)) != NULL);
    g_autofree char *lower = macvtap_lower(tap);
    E2E_CHECK(g_strcmp0(mvts, tap) == 0 && g_strcmp0(lower, LOWER) == 0,
              "after the flapping: macvtaps [%s], the NIC's %s on %s; expected exactly it, on " LOWER, mvts, tap,
              or_none(lower));
    /* the macvtap's name may differ; everything else is as it was */
    g_autofree char *links_after = links_now();
    g_autoptr(GRegex) mvt_name = g_regex_new("\\S*macvtap\\S*|\\S*mvt\\S*", 0, 0, NULL);
    g_autofree char *lb = g_regex_replace_literal(mvt_name, links_before, -1, 0, "<macvtap>", 0, NULL);
    g_autofree char *la = g_regex_replace(mvt_name, links_after, -1, 0, "<macvtap>", 0, NULL);
    E2E_CHECK(g_strcmp0(links_before, links_after) == 0 || g_strcmp0(lb, la) == 0,
              "links before the flapping [%s], after [%s]", links_before, links_after);
    int vnicd_fds_after = -1, qemu_fds_after = -1;
    for (gint64 deadline = e2e_deadline(5); e2e_ms_left(deadline) > 0; g_usleep(200 * 1000)) {
        vnicd_fds_after = fd_count(e2e_daemon_pid(H.daemon));
        qemu_fds_after = fd_count(H.qemu);
        if (vnicd_fds_after == vnicd_fds && qemu_fds_after == qemu_fds)
            break;
    }
    E2E_CHECK(vnicd_fds_after == vnicd_fds && qemu_fds_after == qemu_fds,
              "open fds: vnicd %d before, %d after; QEMU %d before, %d after", vnicd_fds, vnicd_fds_after,
              qemu_fds, qemu_fds_after);
    g_autofree char *netdevs_after = NULL;
    OK((netdevs_after = qemu_info_network(error)) != NULL);
    E2E_CHECK(g_strcmp0(netdevs_before, netdevs_after) == 0, "QEMU's netdevs changed:\n--- before\n%s\n"
              "--- after\n%s", netdevs_before, netdevs_after);
    g_test_message("QEMU's network after the flapping:\n%s", netdevs_after);
    g_autoptr(JsonObject) o = NULL;
    OK((o = domif_wait("plugged", NULL, 20, error)) != NULL);
    OK(traffic_ok(error));
}

/* d: vnicd killed while the NIC waits; the device returns while it is down. */
static void
case_restart(void)
{
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    g_autofree char *nics = direct_nic(NULL);
    OK(setup(nics, NULL, error));
    OK(traffic_ok(error));
    gint64 t = g_get_monotonic_time();
    OK(host_sh(error, "ip link del " LOWER));
    OK(expect_lost(t, LOWER, error));

    g_clear_pointer(&H.events, e2e_json_conn_free);
    e2e_daemon_kill(H.daemon);
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    E2E_CHECK(ping_count(2, 0.3) == 0, "the guest answers while vnicd is down (nothing should have healed "
              "it)");
    t = g_get_monotonic_time();
    OK(e2e_daemon_start(H.daemon, error));
    double s = ping_until(t, 20);
    E2E_CHECK(s >= 0, "20 s after vnicd's restart the guest does not answer:\n%s",
              e2e_daemon_log_tail(H.daemon, 30));
    g_test_message("the guest answered %.0f ms after vnicd was started again", s * 1e3);
    g_autoptr(JsonObject) o = NULL;
    OK((o = domif_wait("plugged", NULL, 10, error)) != NULL);
    E2E_CHECK(e2e_daemon_running_pid(H.daemon, H.xml->name, NULL) == H.qemu, "the domain's QEMU changed");
    g_autofree char *carrier = NULL;
    OK(guest_carrier(&carrier, error));
    E2E_CHECK(g_strcmp0(carrier, "1") == 0, "the guest's carrier is %s", carrier);
    OK(traffic_ok(error));
}

/* e: a foreign link takes the old macvtap's name while the NIC waits. */
static void
case_foreign(void)
{
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    g_autofree char *nics = direct_nic(NULL);
    OK(setup(nics, NULL, error));
    OK(traffic_ok(error));
    g_autofree char *old_tap = NULL;
    OK((old_tap = nic_target(error)) != NULL);
    gint64 t = g_get_monotonic_time();
    OK(host_sh(error, "ip link del " LOWER));
    OK(expect_lost(t, LOWER, error));
    OK(host_sh(error, "ip link add %s type veth peer name fgnB && ip link set %s up", old_tap, old_tap));
    guint foreign = host_ifindex(old_tap);
    stay_gone(t);

    t = g_get_monotonic_time();
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    OK(expect_restored(t, error));
    g_autofree char *tap = NULL;
    OK((tap = nic_target(error)) != NULL);
    E2E_CHECK(g_strcmp0(tap, old_tap) != 0, "the NIC's new macvtap took the name %s of a foreign link", tap);
    g_autofree char *lower = macvtap_lower(tap);
    E2E_CHECK(g_strcmp0(lower, LOWER) == 0, "the NIC's %s sits on %s", tap, or_none(lower));
    E2E_CHECK(host_ifindex(old_tap) == foreign && macvtap_lower(old_tap) == NULL,
              "the foreign veth %s (ifindex %u) is now ifindex %u", old_tap, foreign, host_ifindex(old_tap));
    g_test_message("foreign %s kept (ifindex %u), the NIC is on %s", old_tap, foreign, tap);

    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(H.daemon, "destroy", H.xml->name, NULL);
    E2E_CHECK(r->status == 0, "destroy: %s", r->err);
    E2E_CHECK(host_ifindex(old_tap) == foreign, "destroy took the foreign %s", old_tap);
    E2E_CHECK(e2e_netns_has_link(LOWER), "destroy took the lower device " LOWER);
    E2E_CHECK(!e2e_netns_has_link(tap), "destroy left the NIC's macvtap %s", tap);
}

/* f: the lower device going down and up without vanishing. */
static void
case_oper(void)
{
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    g_autofree char *nics = direct_nic(NULL);
    OK(setup(nics, NULL, error));
    OK(traffic_ok(error));
    g_autofree char *tap = NULL;
    OK((tap = nic_target(error)) != NULL);
    guint tap_index = host_ifindex(tap);
    struct {
        const char *what;
        gboolean peer;
        const char *cmd;
        gboolean carrier;
    } steps[] = {
        { "lowA down", FALSE, "ip link set " LOWER " down", FALSE },
        { "lowA up", FALSE, "ip link set " LOWER " up", TRUE },
        { "the peer end down", TRUE, "ip link set " LOWER_PEER " down", FALSE },
        { "the peer end up", TRUE, "ip link set " LOWER_PEER " up", TRUE },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(steps); i++) {
        events_drain(0.05);
        guint ev0 = H.seen->len;
        gint64 t = g_get_monotonic_time();
        if (steps[i].peer)
            OK(peer_sh(error, "%s", steps[i].cmd));
        else
            OK(host_sh(error, "%s", steps[i].cmd));
        double s = -1;
        g_autoptr(GError) step_error = NULL;
        gboolean ok = guest_wait_carrier(steps[i].carrier, t, 5, &s, &step_error);
        E2E_CHECK(ok, "%s: %s", steps[i].what, step_error->message);
        /* the kernel reports a veth's carrier loss from its peer going down
         * through linkwatch, which batches such events up to a second */
        double budget = HEAL_BUDGET_S + (steps[i].peer ? 1.0 : 0.0);
        E2E_CHECK(s <= budget, "%s: the guest's carrier followed only after %.2f s (budget %.1f s)", steps[i].what,
                  s, budget);
        g_test_message("%s: guest carrier %d after %.0f ms", steps[i].what, steps[i].carrier, s * 1e3);
        /* no new backend: the NIC stays plugged, only its link follows */
        g_autoptr(JsonObject) o = NULL;
        OK((o = domif(error)) != NULL);
        E2E_CHECK(g_strcmp0(e2e_json_get_string(o, "state"), "plugged") == 0 &&
                      g_strcmp0(e2e_json_get_string(o, "link"), steps[i].carrier ? "up" : "down") == 0,
                  "%s: domiflist says state %s, link %s; expected plugged, %s", steps[i].what,
                  or_none(e2e_json_get_string(o, "state")), or_none(e2e_json_get_string(o, "link")),
                  steps[i].carrier ? "up" : "down");
        if (!steps[i].carrier) {
            OK(traffic_gone(error));
        } else {
            events_drain(0.3);
            E2E_CHECK(events_find_event(0, "BACKEND_LOST", NULL, NULL) >= 0 &&
                          events_find_event(ev0, "BACKEND_RESTORED", "how", "carrier") >= 0,
                      "%s: expected BACKEND_LOST and then BACKEND_RESTORED with how carrier:\n%s", steps[i].what,
                      events_describe());
        }
    }
    OK(traffic_ok(error));
    E2E_CHECK(host_ifindex(tap) == tap_index, "the macvtap %s was replaced for a mere down/up", tap);
}

/* g: mode off: nothing heals (docs/xml.md: the NIC stays on its dead
 * backend, carrier stays up, traffic is gone). */
static void
case_off(void)
{
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    g_autofree char *nics = direct_nic("      <vnic:reconnect mode='off' " VNIC_NS "/>\n");
    OK(setup(nics, NULL, error));
    OK(expect_reconnect("off", error));
    OK(traffic_ok(error));
    gint64 t = g_get_monotonic_time();
    OK(host_sh(error, "ip link del " LOWER));
    OK(traffic_gone(error));
    g_autofree char *carrier = NULL;
    OK(guest_carrier(&carrier, error));
    E2E_CHECK(g_strcmp0(carrier, "1") == 0, "mode off: the guest's carrier is %s %.1f s after the deletion, "
              "documented: stays up", carrier, elapsed_s(t));
    OK(veth_to_peer(LOWER, LOWER_PEER, error));
    g_usleep(1500 * 1000);
    E2E_CHECK(ping_count(3, 0.3) == 0, "mode off: the guest answers again after its lower device returned");
    g_autofree char *mvts = NULL;
    OK((mvts = macvtaps_now(error)) != NULL);
    E2E_CHECK(*mvts == '\0', "mode off: vnicd made a macvtap [%s]", mvts);
    g_autoptr(JsonObject) o = NULL;
    OK((o = domif(error)) != NULL);
    g_autofree char *t_o = e2e_json_object_to_string(o);
    g_test_message("mode off, after the lower device came back: %s", t_o);
}

/* --- main ---------------------------------------------------------------------------------- */

/* After a case that passed: the domain destroyed, none of vnicd's links
 * left (no macvtap, no vnetN tap, no half-made vnic-… link), vnicd stops on
 * SIGTERM with exit 0 (under ASan: no leak at exit). */
static void
teardown(void)
{
    g_autoptr(GError) error = NULL;
    if (H.daemon == NULL || !e2e_daemon_running(H.daemon))
        return;
    if (H.xml != NULL && e2e_daemon_running_pid(H.daemon, H.xml->name, NULL) > 0) {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(H.daemon, "destroy", H.xml->name, NULL);
        E2E_CHECK(r->status == 0, "teardown: destroy: %s", r->err);
    }
    g_autofree char *mvts = macvtaps_now(&error);
    E2E_CHECK_NO_ERROR(error, "teardown");
    E2E_CHECK(*mvts == '\0', "teardown: macvtaps left after destroy: %s", mvts);
    g_autoptr(GPtrArray) links = e2e_netns_links();
    for (guint i = 0; i < links->len; i++) {
        const char *l = g_ptr_array_index(links, i);
        E2E_CHECK(!g_str_has_prefix(l, "vnet") && !g_str_has_prefix(l, "vnic-"), "teardown: vnicd's %s is left "
                  "after destroy", l);
    }
    g_clear_pointer(&H.events, e2e_json_conn_free);
    int code = -2;
    E2E_CHECK(e2e_daemon_stop(H.daemon, &code, &error), "teardown: %s", error->message);
    E2E_CHECK(code == 0, "teardown: vnicd exit code %d after SIGTERM", code);
}

static void
print_diagnostics(void)
{
    if (H.daemon != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(H.daemon, 60);
        g_printerr("--- %s (last lines)\n%s\n", e2e_daemon_log_path(H.daemon), log);
    }
    if (H.console != NULL) {
        g_autofree char *t = e2e_console_transcript(H.console, 1500);
        g_printerr("--- console (last bytes)\n%s\n", t);
    }
    g_autofree char *links = links_now();
    g_printerr("--- links: %s\n", links);
}

typedef struct {
    const char *path;
    void (*func)(void);
} Case;

static const Case cases[] = {
    { "/e2e/heal/macvtap", case_macvtap },
    { "/e2e/heal/bridge", case_bridge },
    { "/e2e/heal/tap-replug", case_tap_replug },
    { "/e2e/heal/tap-hub", case_tap_hub },
    { "/e2e/heal/flapping", case_flapping },
    { "/e2e/heal/restart", case_restart },
    { "/e2e/heal/foreign", case_foreign },
    { "/e2e/heal/oper", case_oper },
    { "/e2e/heal/off", case_off },
};

#define CHILD_ENV "VNIC_E2E_HEAL_CASE"

/* Each case in a process of its own: this program again with `-p PATH` and
 * CHILD_ENV set, so e2e_init() gives it namespaces, a temp root and a guard
 * of its own.  (Not g_test_trap_subprocess(): its child runs quiet, and
 * the case's messages are the point.)  Its output is passed on as test
 * messages. */
static void
in_subprocess(gconstpointer data)
{
    const Case *c = data;
    if (g_getenv(CHILD_ENV) != NULL) {
        g_autoptr(GError) error = NULL;
        H.peer = e2e_netns_peer_new(&error);
        if (H.peer != NULL)
            H.peer_icmp = e2e_netns_peer_socket(H.peer, AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP, &error);
        if (H.peer_icmp < 0) {
            g_test_fail_printf("the peer namespace: %s", error->message);
        } else {
            c->func();
            if (!g_test_failed())
                teardown();
        }
        if (g_test_failed())
            print_diagnostics();
        return;
    }
    g_autoptr(GError) error = NULL;
    g_autofree char *self = g_file_read_link("/proc/self/exe", &error);
    E2E_CHECK_NO_ERROR(error, "/proc/self/exe");
    g_autofree char *dir = e2e_tmp_dir("case");
    g_autofree char *out_path = g_build_filename(dir, "output", NULL);
    /* the last word names our temp root: our guard kills the child (whose
     * own guard then kills its guest and vnicd) if we die first */
    const char *argv[] = { self, "-p", c->path, dir, NULL };
    const char *env[] = { CHILD_ENV "=1", NULL };
    g_autoptr(E2eChild) child = e2e_child_spawn_env(argv, env, out_path, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "the case's process");
    gboolean done = e2e_child_wait(child, CASE_TIMEOUT_S);
    if (!done) {
        e2e_child_signal(child, SIGKILL);
        e2e_child_wait(child, 10);
    }
    g_autofree char *out = NULL;
    g_file_get_contents(out_path, &out, NULL, NULL);
    g_auto(GStrv) lines = g_strsplit(out != NULL ? out : "", "\n", -1);
    for (char **l = lines; *l != NULL; l++)
        if (**l != '\0' && !g_str_has_prefix(*l, "# random seed") && strcmp(*l, "1..1") != 0)
            g_test_message("| %s", *l);
    g_autofree char *how = e2e_child_describe_exit(child);
    E2E_CHECK(done, "%s: still running after %d s, killed", c->path, CASE_TIMEOUT_S);
    E2E_CHECK(e2e_child_exit_code(child) == 0, "%s: %s", c->path, how);
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_test_add_data_func(cases[i].path, &cases[i], in_subprocess);
    return e2e_finish();
}
