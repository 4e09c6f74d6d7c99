/* bench/hub-throughput.c: what a hub between NIC and tap costs.
 *
 * As root, in the harness' private network namespace, boots the test
 * guest twice under plain QEMU (TCG) with one virtio NIC on a tap bt0
 * (10.97.0.1/24 on the host side, 10.97.0.2/24 in the guest):
 *   direct  -netdev tap ... -device virtio-net-pci,netdev=hostnet0
 *   hub     the same tap on hubport hp-net0, the NIC on hpnic-net0
 *           (vnic_qemu_hub_append_argv, as vnicd would start it)
 * and prints, for each, TCP throughput guest → host and host → guest
 * (busybox dd | nc, SIZE_MIB each, median of RUNS), plus the offloads
 * the guest's virtio-net negotiated (/sys/class/net/eth0/device/features:
 * there is no ethtool in the guest).
 * In hub mode it then swaps the backend SWAPS times to a new tap with
 * the same MAC (vnic_qemu_hub_swap_async over a second QMP monitor) and
 * prints how long the swap takes and how long until the guest answers an
 * ICMP echo through the new tap (the host's address is moved to it right
 * after the swap, as part of the measured time).  In direct mode it
 * replugs the NIC REPLUGS times instead (same slot and MAC onto a new tap)
 * and prints the replug's time and how long until the guest, which lost
 * the NIC and its address, has set the new one up (over its console, as
 * a guest's network configuration would) and answers an echo.  Last, in
 * hub mode, set_link down and up: how long until the guest's carrier
 * says so.
 * A benchmark, not a test: it asserts nothing about the numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>

#include "bench-util.h"
#include "qemu/qemu-hub.h"

#define SIZE_MIB 16
#define RUNS 5
#define SWAPS 10
#define REPLUGS 5
#define HOST_IP "10.97.0.1"
#define GUEST_IP "10.97.0.2"
#define TAP_MAC "fe:54:00:97:00:01"

typedef struct {
    int listen_fd;
    gsize expect;             /* guest → host: bytes to read; 0: send SIZE_MIB */
    gsize moved;
    gint64 first_us, last_us;
} Transfer;

/* One connection: reads @expect bytes, or writes SIZE_MIB MiB. */
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
        ssize_t n = t->expect ? read(fd, buf, sizeof(buf)) : write(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        t->moved += (gsize)n;
    }
    t->last_us = g_get_monotonic_time();
    close(fd);
    return NULL;
}

static int
listen_on(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((guint16)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    inet_pton(AF_INET, HOST_IP, &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
        g_error("listening on %s:%d: %s", HOST_IP, port, g_strerror(errno));
    return fd;
}

/* Mbit/s of one transfer, guest → host (@to_host) or host → guest; the
 * guest's side is a busybox pipeline run on its console. */
static double
measure(E2eConsole *con, gboolean to_host, GError **error)
{
    Transfer t = { .listen_fd = listen_on(to_host ? 5001 : 5002),
                   .expect = to_host ? (gsize)SIZE_MIB << 20 : 0 };
    GThread *thread = g_thread_new("transfer", transfer_thread, &t);
    g_autofree char *cmd = to_host
        ? g_strdup_printf("dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc %s 5001",
                          SIZE_MIB * 16, HOST_IP)
        : g_strdup_printf("nc %s 5002 | wc -c", HOST_IP);
    g_autofree char *out = NULL;
    gint64 t0 = g_get_monotonic_time();
    int status = -1;
    gboolean ok = e2e_console_run(con, cmd, 120, &out, &status, error);
    gint64 t1 = g_get_monotonic_time();

    g_thread_join(thread);
    close(t.listen_fd);
    if (!ok)
        return -1;
    if (t.moved < (gsize)SIZE_MIB << 20) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: only %zu bytes moved", cmd, t.moved);
        return -1;
    }
    /* Host → guest: the guest has it all when its command ends. */
    return (double)t.moved * 8 / (double)(to_host ? t.last_us - t.first_us : t1 - t0);
}

static gboolean
sh(const char *cmd, GError **error)
{
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

    return bench_run(argv, error);
}

static void
run_until(const gboolean *flag)
{
    while (!*flag)
        g_main_context_iteration(NULL, TRUE);
}

typedef struct {
    gboolean done;
    GError *error;
    VnicQmpClient *client;
} Wait;

static void
on_connected(GObject *source, GAsyncResult *res, gpointer data)
{
    Wait *w = data;

    w->client = vnic_qmp_client_connect_finish(res, &w->error);
    w->done = TRUE;
}

static void
on_hub_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Wait *w = data;

    vnic_qemu_hub_finish(res, &w->error);
    w->done = TRUE;
}

static guint16
icmp_sum(const void *p, gsize len)
{
    const guint16 *w = p;
    guint32 sum = 0;

    for (; len > 1; len -= 2)
        sum += *w++;
    sum = (sum >> 16) + (sum & 0xffff);
    return (guint16)~(sum + (sum >> 16));
}

/* Sends an echo request to the guest every millisecond until one is
 * answered; returns when (monotonic µs), or -1 after 5 s. */
static gint64
first_echo_reply(int raw, guint16 id)
{
    struct sockaddr_in to = { .sin_family = AF_INET };
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    inet_pton(AF_INET, GUEST_IP, &to.sin_addr);
    for (guint16 seq = 0; g_get_monotonic_time() < deadline; seq++) {
        struct icmphdr req = { .type = ICMP_ECHO, .un.echo = { htons(id), htons(seq) } };
        struct pollfd p = { .fd = raw, .events = POLLIN };
        char buf[1500];

        req.checksum = icmp_sum(&req, sizeof(req));
        (void)sendto(raw, &req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to));
        while (poll(&p, 1, 1) > 0) {
            ssize_t n = recv(raw, buf, sizeof(buf), 0);
            const struct iphdr *ip = (const struct iphdr *)(gpointer)buf;
            const struct icmphdr *r = (const struct icmphdr *)(gpointer)(buf + ip->ihl * 4);
            if (n >= (ssize_t)(ip->ihl * 4 + sizeof(*r)) && r->type == ICMP_ECHOREPLY &&
                ntohs(r->un.echo.id) == id)
                return g_get_monotonic_time();
        }
    }
    return -1;
}

/* Waits for the guest to answer echo @id; records the operation (@t0 to
 * @t1) and the traffic (@t0 to the reply) in ms. */
static gboolean
record_run(int raw, guint16 id, gint64 t0, gint64 t1, GArray *op_ms, GArray *traffic_ms,
           GError **error)
{
    gint64 t2 = first_echo_reply(raw, id);

    if (t2 < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no echo reply (run %#x)", id);
        return FALSE;
    }
    g_array_append_vals(op_ms, &(double){ (t1 - t0) / 1000.0 }, 1);
    g_array_append_vals(traffic_ms, &(double){ (t2 - t0) / 1000.0 }, 1);
    return TRUE;
}

static int
open_tap(const char *name)
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
        g_error("tap %s: %s", name, g_strerror(errno));
    return fd;
}

static VnicQmpClient *
connect_qmp(const char *path, GError **error)
{
    Wait w = { 0 };

    vnic_qmp_client_connect_async(path, 10000, NULL, on_connected, &w);
    run_until(&w.done);
    if (!w.client)
        g_propagate_error(error, w.error);
    return w.client;
}

/* SWAPS swaps to bt1, bt2, …: swap time and time to the first echo reply
 * through the new tap, both from the swap's start, in ms. */
static gboolean
measure_swaps(const char *qmp_path, GArray *swap_ms, GArray *traffic_ms, GError **error)
{
    Wait w = { .client = connect_qmp(qmp_path, error) };
    int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

    if (!w.client)
        return FALSE;
    for (guint i = 1; i <= SWAPS; i++) {
        g_autofree char *name = g_strdup_printf("bt%u", i);
        g_autofree char *prev = g_strdup_printf("bt%u", i - 1);
        g_autofree char *setup = g_strdup_printf("ip link set %s address %s up", name, TAP_MAC);
        g_autofree char *move = g_strdup_printf("ip addr add %s/24 dev %s", HOST_IP, name);
        int fd = open_tap(name), mine = dup(fd);
        Wait s = { 0 };
        gboolean ok;
        gint64 t0, t1;

        if (!sh(setup, error))
            return FALSE;
        t0 = g_get_monotonic_time();
        vnic_qemu_hub_swap_async(w.client, "net0", 3 << 3, &fd, 1, NULL, NULL, on_hub_done, &s);
        run_until(&s.done);
        t1 = g_get_monotonic_time();
        if (s.error) {
            g_propagate_error(error, s.error);
            return FALSE;
        }
        /* QEMU let go of the previous tap: it is gone with its last fd. */
        if (if_nametoindex(prev) != 0 && i > 1)
            g_printerr("bench/hub-throughput: %s still exists after the swap\n", prev);
        if (!sh(move, error))
            return FALSE;
        ok = record_run(raw, (guint16)(0x4000 + i), t0, t1, swap_ms, traffic_ms, error);
        close(mine);
        if (!ok)
            return FALSE;
    }
    close(raw);
    vnic_qmp_client_free(w.client);
    return TRUE;
}

/* The virtio-net offload feature bits set in a features string ("1" at
 * index N: bit N negotiated). */
static char *
offloads(const char *bits)
{
    static const struct {
        guint bit;
        const char *name;
    } known[] = { { 0, "csum" }, { 1, "guest_csum" }, { 7, "guest_tso4" }, { 8, "guest_tso6" },
                  { 11, "host_tso4" }, { 12, "host_tso6" } };
    g_autoptr(GString) s = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(known); i++) {
        if (strlen(bits) > known[i].bit && bits[known[i].bit] == '1')
            g_string_append_printf(s, "%s%s", s->len ? " " : "", known[i].name);
    }
    return g_strdup(s->len ? s->str : "none");
}

static void
on_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Wait *w = data;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &w->error);

    w->done = TRUE;
}

static void
on_plugged(GObject *source, GAsyncResult *res, gpointer data)
{
    Wait *w = data;

    vnic_qemu_plug_finish(res, NULL, &w->error);
    w->done = TRUE;
}

static void
on_deleted(VnicQmpClient *client, const char *event, JsonObject *data, gint64 ts,
           gpointer user_data)
{
    if (g_strcmp0(json_object_get_string_member_with_default(data, "device", ""), "net0") == 0)
        *(gboolean *)user_data = TRUE;
}

static gboolean
execute(VnicQmpClient *qmp, const char *command, const char *id, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    Wait w = { 0 };

    json_object_set_string_member(args, "id", id);
    vnic_qmp_client_execute_async(qmp, command, args, NULL, 0, 10000, NULL, on_done, &w);
    run_until(&w.done);
    if (w.error)
        g_propagate_error(error, w.error);
    return w.error == NULL;
}

/* One replug of net0 onto tap @fd (taken): device_del, DEVICE_DELETED,
 * netdev_del, then getfd → netdev_add → device_add at the same slot with
 * the same MAC. */
static gboolean
replug(VnicQmpClient *qmp, int fd, GError **error)
{
    VnicQemuPlug *plug = vnic_qemu_plug_new("replug of net0", "net0");
    JsonObject *dev = json_object_new();
    gboolean deleted = FALSE;
    guint handler = vnic_qmp_client_add_event_handler(qmp, "DEVICE_DELETED", on_deleted,
                                                      &deleted, NULL);
    Wait w = { 0 };

    vnic_qemu_plug_add_tap(plug, "hostnet0", &fd, 1);
    json_object_set_string_member(dev, "driver", "virtio-net-pci");
    json_object_set_string_member(dev, "netdev", "hostnet0");
    json_object_set_string_member(dev, "id", "net0");
    json_object_set_string_member(dev, "mac", "52:54:00:97:00:02");
    json_object_set_string_member(dev, "bus", "pci.0");
    json_object_set_string_member(dev, "addr", "0x3");
    vnic_qemu_plug_add(plug, "device_add", "device_add", dev, NULL);
    if (!execute(qmp, "device_del", "net0", error)) {
        vnic_qemu_plug_free(plug);
        return FALSE;
    }
    run_until(&deleted);
    vnic_qmp_client_remove_event_handler(qmp, handler);
    if (!execute(qmp, "netdev_del", "hostnet0", error)) {
        vnic_qemu_plug_free(plug);
        return FALSE;
    }
    vnic_qemu_plug_run_async(plug, qmp, NULL, NULL, on_plugged, &w);
    run_until(&w.done);
    if (w.error)
        g_propagate_error(error, w.error);
    return w.error == NULL;
}

/* REPLUGS replugs onto bt1, bt2, …: the replug's time in QEMU, and from
 * its start until the guest, which lost its address with the NIC, has
 * configured the new NIC and answers an ICMP echo through the new tap. */
static gboolean
measure_replugs(E2eConsole *con, const char *qmp_path, GArray *replug_ms, GArray *traffic_ms,
                GError **error)
{
    g_autoptr(VnicQmpClient) qmp = connect_qmp(qmp_path, error);
    int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

    if (!qmp)
        return FALSE;
    for (guint i = 1; i <= REPLUGS; i++) {
        g_autofree char *name = g_strdup_printf("bt%u", i);
        g_autofree char *host = g_strdup_printf("ip link set %s address %s up && "
                                                "ip addr add %s/24 dev %s", name, TAP_MAC,
                                                HOST_IP, name);
        int fd = open_tap(name), mine = dup(fd);
        gint64 t0 = g_get_monotonic_time(), t1;
        gboolean ok;

        if (!replug(qmp, fd, error))
            return FALSE;
        t1 = g_get_monotonic_time();
        if (!sh(host, error) ||
            !e2e_console_run(con, "until ip link set eth0 up 2>/dev/null; do usleep 5000; done;"
                             " ip addr add " GUEST_IP "/24 dev eth0", 30, NULL, NULL, error))
            return FALSE;
        ok = record_run(raw, (guint16)(0x5000 + i), t0, t1, replug_ms, traffic_ms, error);
        close(mine);
        if (!ok)
            return FALSE;
    }
    close(raw);
    return TRUE;
}

/* set_link net0 @up, then polls the guest's carrier until it says @up;
 * returns the ms from set_link to the guest reading it (console round
 * trips included), or -1. */
static double
carrier_ms(VnicQmpClient *qmp, E2eConsole *con, gboolean up, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    Wait w = { 0 };
    g_autofree char *cmd = g_strdup_printf("until [ \"$(cat /sys/class/net/eth0/carrier)\" = %d ];"
                                           " do usleep 2000; done", up ? 1 : 0);

    vnic_qemu_set_link_async(qmp, "net0", up, NULL, on_hub_done, &w);
    run_until(&w.done);
    if (w.error) {
        g_propagate_error(error, w.error);
        return -1;
    }
    if (!e2e_console_run(con, cmd, 10, NULL, NULL, error))
        return -1;
    return (g_get_monotonic_time() - t0) / 1000.0;
}

typedef struct {
    GArray *to_host, *to_guest, *swap_ms, *traffic_ms;
    double carrier_down_ms, carrier_up_ms;
    char *features;
} Mode;

static gboolean
run_mode(gboolean hub, Mode *m, GError **error)
{
    g_autofree char *dir = e2e_tmp_dir(hub ? "hub" : "direct");
    g_autofree char *qmp_path = g_build_filename(dir, "qmp2.sock", NULL);
    g_autofree char *qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", qmp_path);
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(E2eQemu) q = NULL;
    E2eConsole *con;

    for (const char *const *a = (const char *const[]){ "-machine", "pc", "-qmp", qmp_arg,
                                                       "-netdev", NULL };
         *a; a++)
        g_ptr_array_add(args, g_strdup(*a));
    g_ptr_array_add(args, g_strdup("tap,id=hostnet0,ifname=bt0,script=no,downscript=no,vhost=off"));
    if (hub)
        vnic_qemu_hub_append_argv(args, "net0", 3 << 3, "hostnet0");
    g_ptr_array_add(args, g_strdup("-device"));
    g_ptr_array_add(args, g_strdup_printf("virtio-net-pci,netdev=%s,id=net0,addr=0x3,"
                                          "mac=52:54:00:97:00:02", hub ? "hpnic-net0" : "hostnet0"));
    g_ptr_array_add(args, NULL);
    q = e2e_qemu_start((const char *const *)args->pdata, NULL, error);
    if (!q)
        return FALSE;
    con = e2e_qemu_console(q);
    if (!e2e_console_wait_ready(con, 90, error) ||
        !sh("ip link set bt0 address " TAP_MAC " up && ip addr add " HOST_IP "/24 dev bt0",
            error) ||
        !e2e_console_run(con, "ip link set eth0 up && ip addr add " GUEST_IP "/24 dev eth0 && "
                         "cat /sys/class/net/eth0/device/features", 20, &m->features, NULL,
                         error))
        return FALSE;
    g_strstrip(m->features);
    for (guint i = 0; i < RUNS; i++) {
        double up = measure(con, TRUE, error), down = up < 0 ? -1 : measure(con, FALSE, error);
        if (up < 0 || down < 0)
            return FALSE;
        g_array_append_val(m->to_host, up);
        g_array_append_val(m->to_guest, down);
    }
    if (hub) {
        g_autoptr(VnicQmpClient) qmp = NULL;

        if (!measure_swaps(qmp_path, m->swap_ms, m->traffic_ms, error) ||
            !(qmp = connect_qmp(qmp_path, error)))
            return FALSE;
        m->carrier_down_ms = carrier_ms(qmp, con, FALSE, error);
        m->carrier_up_ms = m->carrier_down_ms < 0 ? -1 : carrier_ms(qmp, con, TRUE, error);
        return m->carrier_up_ms >= 0;
    }
    return measure_replugs(con, qmp_path, m->swap_ms, m->traffic_ms, error);
}

static void
mode_init(Mode *m)
{
    m->to_host = g_array_new(FALSE, FALSE, sizeof(double));
    m->to_guest = g_array_new(FALSE, FALSE, sizeof(double));
    m->swap_ms = g_array_new(FALSE, FALSE, sizeof(double));
    m->traffic_ms = g_array_new(FALSE, FALSE, sizeof(double));
}

int
main(int argc, char **argv)
{
    Mode modes[2];
    g_autoptr(GError) error = NULL;
    gboolean ok = TRUE;

    bench_init("bench/hub-throughput", &argc, &argv, E2E_NEED_GUEST);
    printf("guest <-> host TCP over one virtio NIC on a tap, TCG, %d MiB, median of %d\n",
           SIZE_MIB, RUNS);
    for (guint i = 0; i < 2 && ok; i++) {
        mode_init(&modes[i]);
        ok = run_mode(i == 1, &modes[i], &error);
        if (!ok)
            break;
        g_autofree char *off = offloads(modes[i].features);
        printf("%-7s guest->host %7.1f Mbit/s (max %.1f)  host->guest %7.1f Mbit/s (max %.1f)\n"
               "        offloads negotiated: %s\n",
               i ? "hub" : "direct", bench_median(modes[i].to_host), bench_max(modes[i].to_host),
               bench_median(modes[i].to_guest), bench_max(modes[i].to_guest), off);
    }
    if (ok)
        printf("replug (device_del .. DEVICE_DELETED, netdev_del, getfd, tap, device_add), %d runs:"
               " median %.1f ms, max %.1f ms\n"
               "replug start -> guest reconfigured its new NIC and answers ICMP: median %.1f ms,"
               " max %.1f ms\n",
               REPLUGS, bench_median(modes[0].swap_ms), bench_max(modes[0].swap_ms),
               bench_median(modes[0].traffic_ms), bench_max(modes[0].traffic_ms));
    if (ok)
        printf("swap (detach + getfd + tap + hubport), %d runs: median %.1f ms, max %.1f ms\n"
               "swap start -> guest answers ICMP through the new tap: median %.1f ms, max %.1f ms\n",
               SWAPS, bench_median(modes[1].swap_ms), bench_max(modes[1].swap_ms),
               bench_median(modes[1].traffic_ms), bench_max(modes[1].traffic_ms));
    if (ok)
        printf("hub: set_link down -> guest carrier 0: %.1f ms; set_link up -> carrier 1: %.1f ms"
               " (console round trips included)\n",
               modes[1].carrier_down_ms, modes[1].carrier_up_ms);
    else
        bench_report_error(NULL, "%s", error->message);
    return bench_finish(ok);
}
