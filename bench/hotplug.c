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
 *
 * Then QEMU's floor (docs/performance.md "Hot-plug against QEMU's floor"):
 * the domain's <emulator> is a script that gives the same QEMU a second
 * QMP monitor, ours.  PAIRS interleaved pairs (who goes first alternates)
 * of
 *   vnic:  attach-interface (ethernet, virtio) → the guest has it →
 *          detach-interface;
 *   floor: the tap from the same host code (vnic_host_backend_create),
 *          getfd → netdev_add → device_add at the slot vnic used, from a
 *          minimal blocking QMP client → the guest has it → device_del →
 *          DEVICE_DELETED → netdev_del → the tap deleted;
 * each timed per step, and "the guest has it" from the request until a
 * loop in the guest (shell builtins only) sees one more link.  Prints
 * median/p90 of both, vnic's overhead (pairwise), and the targets.
 * Options: --cycles N (per-backend cycles, 0: skip), --pairs N,
 * --samples DIR (raw per-op latencies in ms, one per line:
 * DIR/attach-vnic.dat, attach-floor.dat, detach-vnic.dat,
 * detach-floor.dat), --q35 (examples/q35.xml, ACPI hot-plug), --native-pcie
 * (q35 with -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off),
 * --floor-hold-fd (the floor keeps a reference to its tap, so QEMU's
 * close is not the tap's last: what netdev_del costs without the kernel's
 * teardown; vnicd always does that, docs/performance.md "Detach promise",
 * so this is the floor to hold its reply against).  BENCH_HOTPLUG_DEBUG=/abs/file: vnicd with debug logging, its
 * log copied there.
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
#include <sys/stat.h>
#include <unistd.h>

#include "bench-util.h"
#include "conf/conf-domain.h"
#include "host/host-backend.h"

#define CYCLES 20
#define FLOOR_PAIRS 30
#define FLOOR_OVERHEAD_TARGET_MS 0.5
#define DETACH_TAIL_TARGET_MS 2.0
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
    BenchQmp *qmp;           /* our own monitor on the same QEMU (the floor) */
    char *samples_dir;       /* --samples DIR */
    guint cycles, pairs;     /* --cycles N, --pairs N */
    guint seen_seq;
    gboolean hold_fd;        /* --floor-hold-fd */
    gboolean q35;            /* --q35: examples/q35.xml instead of cloudstack-pc.xml */
    gboolean native_pcie;    /* --native-pcie: q35 with pciehp, not ACPI hot-plug */
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
    const Backend *worst = NULL;
    for (guint i = 0; i < n; i++) {
        Backend *b = &bs[i];
        g_autofree char *c0 = mm(b->rt), *c1 = mm(b->total), *c2 = mm(b->backend),
                        *c3 = mm(b->getfd), *c4 = mm(b->netdev), *c5 = mm(b->device);
        printf("  %-25s %-17s %-17s %-17s %-17s %-17s %s\n", b->type, c0, c1, c2, c3, c4, c5);
        if (bench_median(b->rt) > worst_attach) {
            worst_attach = bench_median(b->rt);
            worst = b;
        }
    }
    printf("  target: round-trip median <= %.0f ms (libvirt 9.0: %.0f ms on this machine): %s "
           "(slowest backend's median %.2f ms)\n",
           ATTACH_TARGET_MS, LIBVIRT_ATTACH_MS, worst_attach <= ATTACH_TARGET_MS ? "met" : "MISSED",
           worst_attach);
    if (worst != NULL && worst_attach > ATTACH_TARGET_MS) {
        /* what stands in the way: QEMU's replies (a direct NIC sits on a hub,
         * so its netdev_add column holds two: the tap's and the hubport's) */
        double qemu = bench_median(worst->getfd) + bench_median(worst->netdev) +
                      bench_median(worst->device);
        printf("    of %s's %.2f ms, QEMU answering getfd, netdev_add and device_add: %.2f ms; "
               "the host backend %.2f ms; the rest %.2f ms\n",
               worst->type, worst_attach, qemu, bench_median(worst->backend),
               worst_attach - qemu - bench_median(worst->backend));
    }

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


/* --- QEMU's floor: the same steps with a minimal QMP client ---------------------- */

/* The domain's <emulator> becomes a script that runs the same QEMU with one
 * more monitor, ours: vnicd keeps its own and never sees this one. */
static gboolean
add_floor_monitor(char **out_sock, GError **error)
{
    const char *open_tag = "<emulator>", *close_tag = "</emulator>";
    const char *a = strstr(S.xml->xml, open_tag), *b = a ? strstr(a, close_tag) : NULL;
    if (b == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the domain XML has no <emulator>");
        return FALSE;
    }
    g_autofree char *emulator = g_strndup(a + strlen(open_tag), (gsize)(b - a - strlen(open_tag)));
    g_autofree char *script = g_build_filename(S.xml->dir, "qemu-with-floor-monitor", NULL);
    /* QEMU runs as vnicd's QEMU user and binds the socket itself */
    g_autofree char *sock_dir = g_build_filename(S.xml->dir, "floor", NULL);
    if (g_mkdir_with_parents(sock_dir, 0777) != 0 || chmod(sock_dir, 01777) != 0 ||
        chmod(S.xml->dir, 0755) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", sock_dir, g_strerror(errno));
        return FALSE;
    }
    *out_sock = g_build_filename(sock_dir, "qmp.sock", NULL);
    /* --native-pcie (q35): the root ports' own hot-plug (pciehp) instead of ACPI's */
    g_autofree char *text = g_strdup_printf("#!/bin/sh\nexec %s \"$@\" -qmp unix:%s,server=on,wait=off%s\n",
                                            emulator, *out_sock,
                                            S.native_pcie ? " -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off" : "");
    if (!g_file_set_contents(script, text, -1, error) || chmod(script, 0755) != 0) {
        if (error != NULL && *error == NULL)
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", script, g_strerror(errno));
        return FALSE;
    }
    g_autoptr(GString) xml = g_string_new_len(S.xml->xml, a - S.xml->xml);
    g_string_append_printf(xml, "%s%s%s", open_tag, script, b);
    g_free(S.xml->xml);
    S.xml->xml = g_string_free(g_steal_pointer(&xml), FALSE);
    return TRUE;
}

/* Starts a loop in the guest that prints a marker the moment it has one
 * more link than now (shell builtins only: no fork per poll to slow the
 * guest down); returns its number for watch_guest_end(). */
static guint
watch_guest_begin(GError **error)
{
    guint n = ++S.seen_seq;
    g_autofree char *cmd = g_strdup_printf(
        "set -- /sys/class/net/*; b=$#; while set -- /sys/class/net/*; [ $# -le $b ]; do usleep 1000; "
        "done; echo SE''EN-%u\n", n);
    return e2e_console_send(S.console, cmd, error) ? n : 0;
}

/* When (monotonic us) the host read the marker of watch_guest_begin(). */
static gboolean
watch_guest_end(guint n, gint64 *out_us, GError **error)
{
    g_autofree char *pattern = g_strdup_printf("SEEN-%u\r?\n", n);
    if (!e2e_console_wait_for(S.console, pattern, 20, NULL, error))
        return FALSE;
    *out_us = g_get_monotonic_time();
    return TRUE;
}

typedef struct {
    GArray *att, *seen, *det, *tail, *inside;  /* ms */
    GArray *getfd, *netdev, *device;           /* each QMP step, request → reply */
    GArray *own;                               /* att minus the three steps */
    GArray *inside_own;                        /* total-us minus the three steps */
    GArray *status;                            /* status-us: vnicd's writes before getfd */
    GArray *cpu;                               /* cpu-us: vnicd's CPU time for the attach */
    GArray *netdev_del;                        /* DEVICE_DELETED → netdev_del answered */
} Side;

static Side
side_new(void)
{
    return (Side){ ms_array(), ms_array(), ms_array(), ms_array(), ms_array(),
                   ms_array(), ms_array(), ms_array(), ms_array(), ms_array(),
                   ms_array(), ms_array(), ms_array() };
}

static void
side_free(Side *s)
{
    GArray *all[] = { s->att, s->seen, s->det, s->tail, s->inside,
                      s->getfd, s->netdev, s->device, s->own, s->netdev_del,
                      s->inside_own, s->status, s->cpu };
    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        g_array_unref(all[i]);
}

static void
append(GArray *a, double v)
{
    g_array_append_val(a, v);
}

/* One vnic cycle, ethernet tap, virtio: attach-interface → the guest has it
 * → detach-interface.  `out_addr` (may be NULL): the slot vnic chose. */
static gboolean
vnic_cycle(Side *s, char **out_addr, GError **error)
{
    guint seen = watch_guest_begin(error);
    if (seen == 0)
        return FALSE;
    gint64 t0 = g_get_monotonic_time(), t_seen;
    double ms;
    g_autoptr(JsonNode) att = bench_api(S.conn, "attach-interface",
                                        bench_args("name", S.xml->name, "type", "ethernet", "model",
                                                   "virtio", NULL),
                                        30, &ms, error);
    if (att == NULL || !watch_guest_end(seen, &t_seen, error))
        return FALSE;
    if (s != NULL) {
        JsonNode *t = bench_json_member(att, "timings");
        double g = (double)bench_json_int(t, "getfd-us") / 1000.0;
        double n = (double)bench_json_int(t, "netdev-add-us") / 1000.0;
        double d = (double)bench_json_int(t, "device-add-us") / 1000.0;
        append(s->att, ms);
        append(s->seen, (double)(t_seen - t0) / 1000.0);
        append(s->inside, (double)bench_json_int(t, "total-us") / 1000.0);
        append(s->inside_own, (double)bench_json_int(t, "total-us") / 1000.0 - g - n - d);
        append(s->status, (double)bench_json_int(t, "status-us") / 1000.0);
        append(s->cpu, (double)bench_json_int(t, "cpu-us") / 1000.0);
        append(s->getfd, g);
        append(s->netdev, n);
        append(s->device, d);
        append(s->own, ms - g - n - d);
    }
    if (out_addr != NULL)
        *out_addr = g_strdup(bench_json_str(att, "address"));
    JsonObject *dargs = bench_args("name", S.xml->name, "mac", bench_json_str(att, "mac"), NULL);
    json_object_set_int_member(dargs, "timeout", 60); /* native PCIe: pciehp waits 5 s */
    g_autoptr(JsonNode) det = bench_api(S.conn, "detach-interface", dargs, 90, &ms, error);
    if (det == NULL)
        return FALSE;
    JsonNode *completed = bench_json_member(det, "completed");
    if (completed == NULL || !json_node_get_boolean(completed)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "vnic detach did not complete: %s",
                    bench_json_str(det, "message"));
        return FALSE;
    }
    if (s != NULL) {
        append(s->det, ms);
        append(s->tail, (double)bench_json_int(bench_json_member(det, "timings"), "cleanup-us") / 1000.0);
    }
    return TRUE;
}

/* The same with our own monitor: the tap from the same host code
 * (vnic_host_backend_create), getfd → netdev_add → device_add at the slot
 * vnic chose; device_del → DEVICE_DELETED → netdev_del → the tap deleted. */
static gboolean
floor_cycle(Side *s, const char *bus, const char *slot, guint n, GError **error)
{
    g_autofree char *mac = g_strdup_printf("52:54:00:f1:%02x:%02x", (n >> 8) & 0xff, n & 0xff);
    g_autofree char *ixml = g_strdup_printf("<interface type='ethernet'><mac address='%s'/>"
                                            "<model type='virtio'/></interface>", mac);
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(NULL, ixml, strlen(ixml), error);
    if (dev == NULL)
        return FALSE;
    g_autofree char *device_add = g_strdup_printf(
        "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\",\"netdev\":\"hostfloor0\","
        "\"id\":\"floor0\",\"mac\":\"%s\",\"bus\":\"%s\",\"addr\":\"%s\"}}", mac, bus, slot);
    guint seen = watch_guest_begin(error);
    if (seen == 0)
        return FALSE;

    gint64 t0 = g_get_monotonic_time(), t_seen;
    g_autoptr(VnicHostBackend) backend = vnic_host_backend_create(dev->nic, error);
    if (backend == NULL)
        return FALSE;
    g_autoptr(VnicHostLink) link = vnic_host_link_copy(vnic_host_backend_get_link(backend));
    guint n_fds;
    g_autofree int *fds = vnic_host_backend_steal_fds(backend, &n_fds);
    gint64 ta = g_get_monotonic_time();
    gboolean ok = bench_qmp_execute(S.qmp, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"floorfd\"}}",
                                    fds[0], 5, error);
    /* --floor-hold-fd: keep a reference, so QEMU's close is not the last */
    int held = S.hold_fd ? dup(fds[0]) : -1;
    close(fds[0]);
    gint64 tb = g_get_monotonic_time();
    ok = ok && bench_qmp_execute(S.qmp, "{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"tap\","
                                        "\"id\":\"hostfloor0\",\"fd\":\"floorfd\",\"vhost\":false}}", -1, 5, error);
    gint64 tc = g_get_monotonic_time();
    ok = ok && bench_qmp_execute(S.qmp, device_add, -1, 5, error);
    gint64 t1 = g_get_monotonic_time();
    if (!ok || !watch_guest_end(seen, &t_seen, error))
        return FALSE;

    gint64 t2 = g_get_monotonic_time(), t_deleted = 0, t_nd = 0;
    ok = bench_qmp_execute(S.qmp, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"floor0\"}}", -1, 5, error) &&
         bench_qmp_wait_event(S.qmp, "DEVICE_DELETED", "floor0", 20, &t_deleted, error) &&
         bench_qmp_execute(S.qmp, "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"hostfloor0\"}}", -1, 5, error);
    t_nd = g_get_monotonic_time();
    ok = ok && vnic_host_link_delete(link, error);
    gint64 t3 = g_get_monotonic_time();
    if (held >= 0)
        close(held);
    if (!ok)
        return FALSE;
    append(s->att, (double)(t1 - t0) / 1000.0);
    append(s->seen, (double)(t_seen - t0) / 1000.0);
    append(s->det, (double)(t3 - t2) / 1000.0);
    append(s->tail, (double)(t3 - t_deleted) / 1000.0);
    append(s->netdev_del, (double)(t_nd - t_deleted) / 1000.0);
    append(s->getfd, (double)(tb - ta) / 1000.0);
    append(s->netdev, (double)(tc - tb) / 1000.0);
    append(s->device, (double)(t1 - tc) / 1000.0);
    append(s->own, (double)(t1 - t0 - (tb - ta) - (tc - tb) - (t1 - tc)) / 1000.0);
    return TRUE;
}

/* device_add's "bus" and "addr" for vnic's "address": "0000:00:05.0" →
 * pci.0, 0x5 (pc); "0000:03:00.0" → the root port of bus 3, pci.3, 0x0
 * (q35: vnic names controllers pci.INDEX, and index = bus number there). */
static gboolean
bus_addr_of(const char *address, char **bus, char **addr)
{
    unsigned dom, b, slot, fn;
    if (address == NULL || sscanf(address, "%x:%x:%x.%x", &dom, &b, &slot, &fn) != 4)
        return FALSE;
    *bus = g_strdup_printf("pci.%u", b);
    *addr = g_strdup_printf("0x%x", slot);
    return TRUE;
}

static char *
mp(GArray *a)
{
    g_autoptr(GArray) c = g_array_copy(a);
    return g_strdup_printf("%8.2f %8.2f", bench_median(c), bench_percentile(c, 90));
}

/* Pairwise differences (same index = the same interleaved pair). */
static GArray *
diff(GArray *a, GArray *b)
{
    GArray *d = ms_array();
    for (guint i = 0; i < MIN(a->len, b->len); i++)
        append(d, g_array_index(a, double, i) - g_array_index(b, double, i));
    return d;
}

static gboolean
write_samples(const Side *v, const Side *f, GError **error)
{
    if (S.samples_dir == NULL)
        return TRUE;
    return bench_write_samples(S.samples_dir, "attach-vnic.dat", v->att, error) &&
           bench_write_samples(S.samples_dir, "attach-floor.dat", f->att, error) &&
           bench_write_samples(S.samples_dir, "detach-vnic.dat", v->det, error) &&
           bench_write_samples(S.samples_dir, "detach-floor.dat", f->det, error);
}

static void
print_floor(Side *v, Side *f)
{
    g_autoptr(GArray) att_over = diff(v->att, f->att), det_over = diff(v->det, f->det);
    g_autoptr(GArray) seen_over = diff(v->seen, f->seen);
    g_autofree char *a1 = mp(v->att), *a2 = mp(f->att), *a3 = mp(att_over), *a4 = mp(v->inside);
    g_autofree char *s1 = mp(v->seen), *s2 = mp(f->seen), *s3 = mp(seen_over);
    g_autofree char *d1 = mp(v->det), *d2 = mp(f->det), *d3 = mp(det_over);
    g_autofree char *t1 = mp(v->tail), *t2 = mp(f->tail);
    g_autoptr(GArray) ao = g_array_copy(att_over), vt = g_array_copy(v->tail);
    double over = bench_median(ao), tail = bench_median(vt);

    printf("\nhot-plug against QEMU's floor: ethernet tap, virtio, %u interleaved pairs\n"
           "(floor: the same tap code, getfd → netdev_add → device_add and device_del → DEVICE_DELETED →\n"
           "netdev_del → tap deleted, from a minimal QMP client on a second monitor of the same QEMU)\n"
           "                                        median      p90  (ms)\n", v->att->len);
    printf("  attach, request → reply     vnic     %s\n", a1);
    printf("                              floor    %s\n", a2);
    printf("                              overhead %s   (pairwise vnic − floor)\n", a3);
    printf("                              in vnicd %s   (total-us)\n", a4);
    g_autoptr(GArray) own_over = diff(v->own, f->own), g_over = diff(v->getfd, f->getfd);
    g_autoptr(GArray) n_over = diff(v->netdev, f->netdev), dv_over = diff(v->device, f->device);
    g_autofree char *o1 = mp(v->own), *o2 = mp(f->own), *o3 = mp(own_over);
    g_autofree char *g3 = mp(g_over), *n3 = mp(n_over), *dv3 = mp(dv_over);
    g_autofree char *g1 = mp(v->getfd), *g2 = mp(f->getfd), *n1 = mp(v->netdev), *n2 = mp(f->netdev);
    g_autofree char *dv1 = mp(v->device), *dv2 = mp(f->device);
    g_autoptr(GArray) oo = g_array_copy(own_over);
    double own = bench_median(oo);
    printf("    getfd                     vnic %s  floor %s  overhead %s\n", g1, g2, g3);
    printf("    netdev_add                vnic %s  floor %s  overhead %s\n", n1, n2, n3);
    printf("    device_add                vnic %s  floor %s  overhead %s\n", dv1, dv2, dv3);
    printf("    the rest (not waiting     vnic %s  floor %s  overhead %s\n"
           "    for a QMP reply)\n", o1, o2, o3);
    g_autofree char *io = mp(v->inside_own), *st = mp(v->status);
    printf("    in vnicd, outside QMP     vnic %s   (total-us minus the three steps: the load\n"
           "                                             distorts it less than the round trip)\n", io);
    g_autofree char *cp = mp(v->cpu);
    printf("    – of it the status writes vnic %s   (status-us, before getfd)\n", st);
    printf("    vnicd's CPU per attach    vnic %s   (cpu-us: its main thread, tap creation\n"
           "                                             and QMP I/O included)\n", cp);
    printf("  target: overhead median <= %.1f ms: %s (%.2f ms in all; %.2f ms outside QMP replies)\n",
           FLOOR_OVERHEAD_TARGET_MS, over <= FLOOR_OVERHEAD_TARGET_MS ? "met" : "MISSED", over, own);
    printf("  attach, request → in guest  vnic     %s\n", s1);
    printf("                              floor    %s\n", s2);
    printf("                              overhead %s\n", s3);
    printf("  detach, request → reply     vnic     %s\n", d1);
    printf("                              floor    %s\n", d2);
    printf("                              overhead %s\n", d3);
    printf("  detach, DEVICE_DELETED → reply  vnic %s   (cleanup-us)\n", t1);
    g_autofree char *nd = mp(f->netdev_del);
    printf("                                 floor %s   (netdev_del + tap deletion)\n", t2);
    printf("                                 floor %s   (netdev_del alone%s)\n", nd,
           S.hold_fd ? ", the bench holding a reference to the tap" : "");
    printf("  target: vnic's reply <= %.1f ms after DEVICE_DELETED (median): %s (%.2f ms)\n",
           DETACH_TAIL_TARGET_MS, tail <= DETACH_TAIL_TARGET_MS ? "met" : "MISSED", tail);
}

static gboolean
floor_run(const char *qmp_sock, GError **error)
{
    if (!(S.qmp = bench_qmp_connect(qmp_sock, 10, error)))
        return FALSE;
    g_autofree char *address = NULL;
    if (!vnic_cycle(NULL, &address, error)) /* warm-up; learns the slot vnic uses */
        return FALSE;
    g_autofree char *bus = NULL, *slot = NULL;
    if (!bus_addr_of(address, &bus, &slot)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "attach reply without an address");
        return FALSE;
    }
    Side v = side_new(), f = side_new();
    Side warm = side_new();
    gboolean ok = floor_cycle(&warm, bus, slot, 0, error);
    side_free(&warm);
    for (guint i = 0; i < S.pairs && ok; i++) {
        /* alternate who goes first, so a drift of the machine hits both */
        if (i % 2 == 0)
            ok = vnic_cycle(&v, NULL, error) && floor_cycle(&f, bus, slot, i + 1, error);
        else
            ok = floor_cycle(&f, bus, slot, i + 1, error) && vnic_cycle(&v, NULL, error);
    }
    if (ok)
        ok = write_samples(&v, &f, error);
    if (ok)
        print_floor(&v, &f);
    side_free(&v);
    side_free(&f);
    return ok;
}

static gboolean
run(GError **error)
{
    if (!(S.daemon = bench_daemon_start(g_getenv("BENCH_HOTPLUG_DEBUG") != NULL, TRUE, error)))
        return FALSE;
    if (!(S.xml = e2e_xml_prepare(S.q35 ? "examples/q35.xml" : "examples/cloudstack-pc.xml", NULL, error)))
        return FALSE;
    g_autofree char *floor_sock = NULL;
    if (!add_floor_monitor(&floor_sock, error))
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
    printf("bench/hotplug: guest %s (%s, TCG) started in %.0f ms, booted in %.1f s;\n"
           "%d cycles of attach-interface + detach-interface (by MAC, waiting until completed) per "
           "backend\n",
           S.xml->name,
           !S.q35 ? "i440fx, CloudStack layout" : S.native_pcie ? "q35, native PCIe hot-plug" : "q35, ACPI hot-plug",
           start_s * 1000, boot_s, S.cycles);
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
        for (guint n = 0; n < S.cycles && ok; n++)
            ok = cycle(b, n, error);
    }
    double tap_del_ms = 0, macvtap_del_ms = 0;
    if (ok)
        ok = kernel_delete_reference(&tap_del_ms, &macvtap_del_ms, error);
    if (ok && S.cycles > 0)
        print_results(bs, G_N_ELEMENTS(bs), tap_del_ms, macvtap_del_ms);
    if (ok && S.pairs > 0)
        ok = floor_run(floor_sock, error);
    for (guint i = 0; i < G_N_ELEMENTS(bs); i++) {
        Backend *b = &bs[i];
        GArray *all[] = { b->rt, b->total, b->backend, b->getfd, b->netdev, b->device, b->drt, b->guest, b->cleanup };
        for (guint k = 0; k < G_N_ELEMENTS(all); k++)
            if (all[k] != NULL)
                g_array_unref(all[k]);
    }
    if (!ok)
        return FALSE;

    const char *debug_copy = g_getenv("BENCH_HOTPLUG_DEBUG");
    if (debug_copy != NULL && g_path_is_absolute(debug_copy)) {
        g_autofree char *log = NULL;
        if (g_file_get_contents(e2e_daemon_log_path(S.daemon), &log, NULL, NULL))
            g_file_set_contents(debug_copy, log, -1, NULL);
    }
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

/* --samples DIR, --cycles N, --pairs N: taken out of argv before the
 * harness (GTest) sees it. */
static void
parse_options(int *argc, char **argv)
{
    int out = 1;
    S.cycles = CYCLES;
    S.pairs = FLOOR_PAIRS;
    for (int i = 1; i < *argc; i++) {
        const char *next = i + 1 < *argc ? argv[i + 1] : NULL;
        if (g_strcmp0(argv[i], "--samples") == 0 && next != NULL)
            S.samples_dir = g_strdup(argv[++i]);
        else if (g_strcmp0(argv[i], "--cycles") == 0 && next != NULL)
            S.cycles = (guint)g_ascii_strtoull(argv[++i], NULL, 10);
        else if (g_strcmp0(argv[i], "--q35") == 0)
            S.q35 = TRUE;
        else if (g_strcmp0(argv[i], "--native-pcie") == 0)
            S.q35 = S.native_pcie = TRUE;
        else if (g_strcmp0(argv[i], "--floor-hold-fd") == 0)
            S.hold_fd = TRUE;
        else if (g_strcmp0(argv[i], "--pairs") == 0 && next != NULL)
            S.pairs = (guint)g_ascii_strtoull(argv[++i], NULL, 10);
        else
            argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
}

int
main(int argc, char **argv)
{
    parse_options(&argc, argv);
    if (S.samples_dir != NULL && !g_path_is_absolute(S.samples_dir)) {
        g_autofree char *cwd = g_get_current_dir();
        g_autofree char *rel = S.samples_dir;
        S.samples_dir = g_build_filename(cwd, rel, NULL);
    }
    bench_init("bench/hotplug", &argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_autoptr(GError) error = NULL;
    gboolean ok = run(&error);
    if (!ok)
        bench_report_error(S.daemon, "%s", error != NULL ? error->message : "unknown error");
    g_clear_pointer(&S.qmp, bench_qmp_free);
    g_clear_pointer(&S.conn, e2e_json_conn_free);
    g_clear_pointer(&S.console, e2e_console_free);
    g_clear_pointer(&S.xml, e2e_domain_xml_free);
    g_clear_pointer(&S.daemon, e2e_daemon_free);  /* kills it if still running */
    return bench_finish(ok);
}
