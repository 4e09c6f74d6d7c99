/* bench/hotplug.c: how long NIC hot-plug takes, per backend type.
 *
 * As root: enters a private network namespace (the e2e harness), starts
 * vnicd with temp dirs (without debug logging, as in production), defines
 * and starts a copy of examples/cloudstack-pc.xml, waits for the guest to
 * boot, makes a bridge and a veth pair in the namespace, then for each
 * backend type — ethernet (a tap), bridge (a tap on the bridge), direct
 * (a macvtap on one end of the veth pair) — runs CYCLES cycles of
 *   attach-interface (raw API) → the guest has the NIC (checked over its
 *   console) → detach-interface by MAC, waiting until it completed
 * and prints, as median / max in milliseconds:
 *   attach: the API round trip as the client measures it, the time inside
 *           vnicd (total-us) and its parts (backend, getfd, netdev_add,
 *           device_add);
 *   detach: the time vnicd needs beyond DEVICE_DELETED (cleanup-us), the
 *           guest's own time from device_del to DEVICE_DELETED (guest-us),
 *           and the API round trip.
 * A benchmark, not a test: it asserts nothing about the numbers (the
 * targets are printed next to them); it fails only when a step fails.
 * For reference it also times the kernel deleting a tap and a macvtap
 * (RTM_DELLINK), which bounds what the detach cleanup can take.
 * The guest runs under TCG, as examples/cloudstack-pc.xml says.
 * Everything goes at the end: the domain is destroyed, vnicd stopped, the
 * links vanish with the namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-util.h"

#define CYCLES 20
#define ATTACH_TARGET_MS 4.0
#define LIBVIRT_ATTACH_MS 21.0
#define DETACH_TARGET_MS 5.0

#define REFERENCE_RUNS 5

#define BRIDGE "vbr0"
#define VETH "vbh0"
#define VETH_PEER "vbh1"

typedef struct {
    const char *type, *source, *mode;
    GArray *rt, *total, *backend, *getfd, *netdev, *device;  /* attach, ms */
    GArray *drt, *guest, *cleanup;                           /* detach, ms */
} Backend;

static struct {
    E2eDaemon *daemon;
    E2eDomainXml *xml;
    E2eConsole *console;
    E2eJsonConn *conn;
} S;

static GArray *
ms_array(void)
{
    return g_array_new(FALSE, FALSE, sizeof(double));
}

static void
add_us(GArray *a, JsonNode *timings, const char *member)
{
    double ms = (double)bench_json_int(timings, member) / 1000.0;
    g_array_append_val(a, ms);
}

static gboolean
host_setup(GError **error)
{
    const char *const cmds[][12] = {
        { "ip", "link", "add", BRIDGE, "type", "bridge", NULL },
        { "ip", "link", "set", BRIDGE, "up", NULL },
        { "ip", "link", "add", VETH, "type", "veth", "peer", "name", VETH_PEER, NULL },
        { "ip", "link", "set", VETH, "up", NULL },
        { "ip", "link", "set", VETH_PEER, "up", NULL },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cmds); i++)
        if (!bench_run(cmds[i], error))
            return FALSE;
    return TRUE;
}

/* Waits (up to 10 s) until the guest has a NIC with this MAC. */
static gboolean
guest_has_mac(const char *mac, GError **error)
{
    g_autofree char *cmd = g_strdup_printf(
        "n=0; while ! grep -qix '%s' /sys/class/net/*/address; do n=$((n+1)); "
        "[ $n -ge 1000 ] && break; usleep 10000; done; grep -qix '%s' /sys/class/net/*/address",
        mac, mac);
    int status = -1;
    if (!e2e_console_run(S.console, cmd, 20, NULL, &status, error))
        return FALSE;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the guest has no NIC %s 10 s after attach", mac);
        return FALSE;
    }
    return TRUE;
}

static gboolean
cycle(Backend *b, guint n, GError **error)
{
    JsonObject *args = bench_args("name", S.xml->name, "type", b->type, NULL);
    if (b->source != NULL)
        json_object_set_string_member(args, "source", b->source);
    if (b->mode != NULL)
        json_object_set_string_member(args, "mode", b->mode);
    double ms;
    g_autoptr(JsonNode) att = bench_api(S.conn, "attach-interface", args, 30, &ms, error);
    if (att == NULL) {
        g_prefix_error(error, "%s #%u: ", b->type, n + 1);
        return FALSE;
    }
    g_array_append_val(b->rt, ms);
    JsonNode *t = bench_json_member(att, "timings");
    add_us(b->total, t, "total-us");
    add_us(b->backend, t, "backend-us");
    add_us(b->getfd, t, "getfd-us");
    add_us(b->netdev, t, "netdev-add-us");
    add_us(b->device, t, "device-add-us");
    const char *mac = bench_json_str(att, "mac");
    if (mac == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "attach reply without a mac");
        return FALSE;
    }
    if (!guest_has_mac(mac, error))
        return FALSE;

    g_autoptr(JsonNode) det = bench_api(S.conn, "detach-interface",
                                        bench_args("name", S.xml->name, "mac", mac, NULL), 30, &ms, error);
    if (det == NULL) {
        g_prefix_error(error, "%s #%u: ", b->type, n + 1);
        return FALSE;
    }
    JsonNode *completed = bench_json_member(det, "completed");
    if (completed == NULL || !JSON_NODE_HOLDS_VALUE(completed) || !json_node_get_boolean(completed)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s #%u: detach of %s did not complete: %s",
                    b->type, n + 1, mac, bench_json_str(det, "message"));
        return FALSE;
    }
    g_array_append_val(b->drt, ms);
    t = bench_json_member(det, "timings");
    add_us(b->guest, t, "guest-us");
    add_us(b->cleanup, t, "cleanup-us");
    return TRUE;
}

/* --- the kernel's own share ------------------------------------------------------ */

/* RTM_DELLINK, waiting for the kernel's answer; returns the time in ms
 * (< 0 on error). */
static double
netlink_delete_ms(const char *ifname, GError **error)
{
    unsigned ifindex = if_nametoindex(ifname);
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (ifindex == 0 || fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", ifname, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
    } req = { .h = { .nlmsg_len = sizeof req, .nlmsg_type = RTM_DELLINK,
                     .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
              .i = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex } };
    char buf[4096];
    gint64 t0 = g_get_monotonic_time();
    ssize_t n = send(fd, &req, sizeof req, 0) == (ssize_t)sizeof req ? recv(fd, buf, sizeof buf, 0) : -1;
    gint64 t1 = g_get_monotonic_time();
    close(fd);
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    int err = n < (ssize_t)sizeof *h ? EIO
              : h->nlmsg_type == NLMSG_ERROR ? -((const struct nlmsgerr *)NLMSG_DATA(h))->error
                                             : 0;
    if (err != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "deleting %s: %s", ifname,
                    g_strerror(err));
        return -1;
    }
    return (double)(t1 - t0) / 1000.0;
}

static gboolean
make_tap(const char *name, GError **error)
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
    g_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    gboolean ok = fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) == 0 && ioctl(fd, TUNSETPERSIST, 1) == 0;
    if (!ok)
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "tap %s: %s", name, g_strerror(errno));
    if (fd >= 0)
        close(fd);
    return ok;
}

/* What deleting a link costs the kernel alone: median of a few. */
static gboolean
kernel_delete_reference(double *tap_ms, double *macvtap_ms, GError **error)
{
    g_autoptr(GArray) taps = ms_array(), macvtaps = ms_array();
    for (guint i = 0; i < REFERENCE_RUNS; i++) {
        const char *const mv[] = { "ip", "link", "add", "link", VETH, "name", "vbref1", "type", "macvtap",
                                   "mode", "bridge", NULL };
        double ms;
        if (!make_tap("vbref0", error) || (ms = netlink_delete_ms("vbref0", error)) < 0)
            return FALSE;
        g_array_append_val(taps, ms);
        if (!bench_run(mv, error) || (ms = netlink_delete_ms("vbref1", error)) < 0)
            return FALSE;
        g_array_append_val(macvtaps, ms);
    }
    *tap_ms = bench_median(taps);
    *macvtap_ms = bench_median(macvtaps);
    return TRUE;
}

static char *
mm(GArray *a)
{
    return g_strdup_printf("%6.2f /%7.2f", bench_median(a), bench_max(a));
}

static void
print_results(Backend *bs, guint n, double tap_del_ms, double macvtap_del_ms)
{
    printf("\nattach (ms, median / max)  round trip        in vnicd          backend           "
           "getfd             netdev_add        device_add\n");
    double worst_attach = 0;
    for (guint i = 0; i < n; i++) {
        Backend *b = &bs[i];
        g_autofree char *c0 = mm(b->rt), *c1 = mm(b->total), *c2 = mm(b->backend),
                        *c3 = mm(b->getfd), *c4 = mm(b->netdev), *c5 = mm(b->device);
        printf("  %-25s %-17s %-17s %-17s %-17s %-17s %s\n", b->type, c0, c1, c2, c3, c4, c5);
        worst_attach = MAX(worst_attach, bench_median(b->rt));
    }
    printf("  target: round-trip median <= %.0f ms (libvirt 9.0: %.0f ms on this machine): %s "
           "(slowest backend's median %.2f ms)\n",
           ATTACH_TARGET_MS, LIBVIRT_ATTACH_MS, worst_attach <= ATTACH_TARGET_MS ? "met" : "MISSED",
           worst_attach);

    printf("\ndetach (ms, median / max)  beyond DEVICE_DELETED   guest (device_del → DEVICE_DELETED)   "
           "round trip\n");
    double worst_med = 0, worst_max = 0;
    for (guint i = 0; i < n; i++) {
        Backend *b = &bs[i];
        g_autofree char *c1 = mm(b->cleanup), *c2 = mm(b->guest), *c3 = mm(b->drt);
        printf("  %-25s %-23s %-37s %s\n", b->type, c1, c2, c3);
        worst_med = MAX(worst_med, bench_median(b->cleanup));
        worst_max = MAX(worst_max, bench_max(b->cleanup));
    }
    printf("  target: <= %.0f ms beyond DEVICE_DELETED: %s (slowest median %.2f ms, max %.2f ms)\n",
           DETACH_TARGET_MS, worst_med <= DETACH_TARGET_MS ? "met" : "MISSED", worst_med, worst_max);
    printf("  for reference, the kernel alone needs %.2f ms to delete a tap and %.2f ms a macvtap\n"
           "  (RTM_DELLINK round trip, median of %d)\n",
           tap_del_ms, macvtap_del_ms, REFERENCE_RUNS);
}

static gboolean
run(GError **error)
{
    if (!(S.daemon = bench_daemon_start(FALSE, TRUE, error)))
        return FALSE;
    if (!(S.xml = e2e_xml_prepare("examples/cloudstack-pc.xml", NULL, error)))
        return FALSE;
    g_autoptr(JsonNode) def = bench_api_once(S.daemon, "define", bench_args("xml", S.xml->xml, NULL),
                                             30, error);
    if (def == NULL)
        return FALSE;
    double start_s, boot_s;
    if (!(S.console = bench_start_and_boot(S.daemon, S.xml, &start_s, &boot_s, error)))
        return FALSE;
    if (!host_setup(error))
        return FALSE;
    printf("bench/hotplug: guest %s (i440fx, CloudStack layout, TCG) started in %.0f ms, booted in %.1f s;\n"
           "%d cycles of attach-interface + detach-interface (by MAC, waiting until completed) per "
           "backend\n",
           S.xml->name, start_s * 1000, boot_s, CYCLES);
    if (!(S.conn = e2e_json_conn_connect(e2e_daemon_socket(S.daemon), 5, error)))
        return FALSE;

    Backend bs[] = {
        { .type = "ethernet" },
        { .type = "bridge", .source = BRIDGE },
        { .type = "direct", .source = VETH, .mode = "bridge" },
    };
    gboolean ok = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(bs) && ok; i++) {
        Backend *b = &bs[i];
        b->rt = ms_array(), b->total = ms_array(), b->backend = ms_array(), b->getfd = ms_array();
        b->netdev = ms_array(), b->device = ms_array();
        b->drt = ms_array(), b->guest = ms_array(), b->cleanup = ms_array();
        for (guint n = 0; n < CYCLES && ok; n++)
            ok = cycle(b, n, error);
    }
    double tap_del_ms = 0, macvtap_del_ms = 0;
    if (ok)
        ok = kernel_delete_reference(&tap_del_ms, &macvtap_del_ms, error);
    if (ok)
        print_results(bs, G_N_ELEMENTS(bs), tap_del_ms, macvtap_del_ms);
    for (guint i = 0; i < G_N_ELEMENTS(bs); i++) {
        Backend *b = &bs[i];
        GArray *all[] = { b->rt, b->total, b->backend, b->getfd, b->netdev, b->device, b->drt, b->guest, b->cleanup };
        for (guint k = 0; k < G_N_ELEMENTS(all); k++)
            if (all[k] != NULL)
                g_array_unref(all[k]);
    }
    if (!ok)
        return FALSE;

    g_autoptr(JsonNode) destroyed = bench_api(S.conn, "destroy", bench_args("name", S.xml->name, NULL),
                                              30, NULL, error);
    if (destroyed == NULL)
        return FALSE;
    int code = -1;
    if (!e2e_daemon_stop(S.daemon, &code, error))
        return FALSE;
    if (code != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "vnicd exited with %d on SIGTERM", code);
        return FALSE;
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    bench_init("bench/hotplug", &argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_autoptr(GError) error = NULL;
    gboolean ok = run(&error);
    if (!ok)
        bench_report_error(S.daemon, "%s", error != NULL ? error->message : "unknown error");
    g_clear_pointer(&S.conn, e2e_json_conn_free);
    g_clear_pointer(&S.console, e2e_console_free);
    g_clear_pointer(&S.xml, e2e_domain_xml_free);
    g_clear_pointer(&S.daemon, e2e_daemon_free);  /* kills it if still running */
    return bench_finish(ok);
}
