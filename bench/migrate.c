/* bench/migrate.c: how long a live migration between two vnicds takes, and
 * how long the guest is unreachable (issue #9).
 *
 * As root: the e2e harness' private namespace is host A; host B is a named
 * network namespace with its own vnicd (as tests/e2e/test-migrate.c sets
 * them up: bridges br0 on both, joined by a veth pair that carries the
 * stream; the disk a hard link, i.e. shared storage; B's vnicd sees its own
 * copy of the domain directory for its serial socket).  For a 128 MiB pc
 * guest with 2 and with 10 NICs on br0: boot on A, give the first NIC an
 * address, then
 *   `vnic migrate DOM unix:B tcp:10.77.0.2` while A sends an ICMP echo to
 *   the guest every 10 ms
 * and print the total time (the CLI's wall clock and vnicd's total-ms),
 * QEMU's own downtime figure, and the downtime seen from outside: the
 * longest gap between two answered echoes around the switch-over.
 * A benchmark, not a test: it asserts nothing about the numbers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-util.h"

#define GUEST_IP "10.77.0.10"
#define PING_INTERVAL_US 10000

static struct {
    char *root;
    char *ns;
    E2eDaemon *a, *b;
} S;

/* ---- the outside view: an echo every 10 ms ----------------------------- */

typedef struct {
    int fd;
    struct sockaddr_in to;
    volatile gboolean stop;
    GMutex lock;
    GArray *replies;           /* gint64 monotonic µs of each answered echo */
    GThread *thread;
} Pinger;

static guint16
checksum(const guint8 *p, gsize len)
{
    guint32 sum = 0;

    for (gsize i = 0; i + 1 < len; i += 2)
        sum += (guint32)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((guint16)~sum);
}

static gpointer
pinger_run(gpointer data)
{
    Pinger *p = data;
    guint16 ident = (guint16)getpid();
    guint16 seq = 0;
    gint64 next = g_get_monotonic_time();

    while (!p->stop) {
        gint64 now = g_get_monotonic_time();

        if (now >= next) {
            guint8 pkt[16] = { ICMP_ECHO, 0, 0, 0, ident >> 8, ident & 0xff, seq >> 8, seq & 0xff };
            guint16 sum = checksum(pkt, sizeof(pkt));
            memcpy(pkt + 2, &sum, 2);
            sendto(p->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&p->to, sizeof(p->to));
            seq++;
            next += PING_INTERVAL_US;
        }
        struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
        int wait_ms = (int)MAX(0, (next - g_get_monotonic_time()) / 1000);
        if (poll(&pfd, 1, wait_ms) > 0) {
            guint8 buf[256];
            ssize_t n = recv(p->fd, buf, sizeof(buf), 0);
            guint ihl = n > 0 ? (buf[0] & 0x0f) * 4u : 0;

            if (n >= (ssize_t)(ihl + 8) && buf[ihl] == ICMP_ECHOREPLY &&
                buf[ihl + 4] == (ident >> 8) && buf[ihl + 5] == (ident & 0xff)) {
                gint64 t = g_get_monotonic_time();
                g_mutex_lock(&p->lock);
                g_array_append_val(p->replies, t);
                g_mutex_unlock(&p->lock);
            }
        }
    }
    return NULL;
}

static Pinger *
pinger_start(const char *ip, GError **error)
{
    Pinger *p = g_new0(Pinger, 1);

    p->to.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &p->to.sin_addr);
    p->fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (p->fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "raw ICMP socket: %s",
                    g_strerror(errno));
        g_free(p);
        return NULL;
    }
    g_mutex_init(&p->lock);
    p->replies = g_array_new(FALSE, FALSE, sizeof(gint64));
    p->thread = g_thread_new("pinger", pinger_run, p);
    return p;
}

/* The longest gap between answered echoes in [from, to] (µs), counting
 * from @from when the first answer came later. */
static gint64
pinger_stop(Pinger *p, gint64 from, gint64 to, guint *out_answers)
{
    gint64 prev = from, gap = 0;
    guint answers = 0;

    p->stop = TRUE;
    g_thread_join(p->thread);
    for (guint i = 0; i < p->replies->len; i++) {
        gint64 t = g_array_index(p->replies, gint64, i);
        if (t < from || t > to)
            continue;
        gap = MAX(gap, t - prev);
        prev = t;
        answers++;
    }
    gap = MAX(gap, to - prev);
    close(p->fd);
    g_array_unref(p->replies);
    g_mutex_clear(&p->lock);
    g_free(p);
    *out_answers = answers;
    return gap;
}

/* ---- hosts and guests --------------------------------------------------------- */

static gboolean
sh_ok(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean
sh_ok(GError **error, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *cmd = NULL;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    const char *argv[] = { "sh", "-c", cmd, NULL };
    return bench_run(argv, error);
}

static gboolean
hosts_up(GError **error)
{
    g_autofree char *doms = NULL, *doms_b = NULL, *script = NULL;

    S.root = e2e_tmp_dir("mig");
    S.ns = g_strdup_printf("vnic-bench-%d", (int)getpid());
    doms = g_build_filename(S.root, "doms", NULL);
    doms_b = g_build_filename(S.root, "doms-b", NULL);
    g_mkdir_with_parents(doms, 0755);
    g_mkdir_with_parents(doms_b, 0755);
    if (!sh_ok(error,
               "set -e; ip netns add %1$s; ip -n %1$s link set lo up;"
               "ip link add br0 type bridge; ip link set br0 up; ip addr add 10.77.0.1/24 dev br0;"
               "ip link add vA type veth peer name vB; ip link set vB netns %1$s;"
               "ip link set vA master br0 up;"
               "ip -n %1$s link add br0 type bridge; ip -n %1$s link set br0 up;"
               "ip -n %1$s link set vB master br0 up; ip -n %1$s addr add 10.77.0.2/24 dev br0",
               S.ns))
        return FALSE;
    script = g_strdup_printf("mount --bind %s %s && exec \"$0\" \"$@\"", doms_b, doms);
    const char *prefix[] = { "ip", "netns", "exec", S.ns, "sh", "-c", script, e2e_vnicd_binary(),
                             NULL };
    S.a = e2e_daemon_new(NULL);
    S.b = e2e_daemon_new(prefix);
    return e2e_daemon_start(S.a, error) && e2e_daemon_start(S.b, error);
}

/* A 128 MiB pc guest with @nics NICs on br0, booted on A; its console. */
static E2eConsole *
guest_up(const char *name, guint nics, GError **error)
{
    g_autofree char *dir = g_build_filename(S.root, "doms", name, NULL);
    g_autofree char *dir_b = g_build_filename(S.root, "doms-b", name, NULL);
    g_autofree char *disk = g_build_filename(dir, "disk.img", NULL);
    g_autofree char *disk_b = g_build_filename(dir_b, "disk.img", NULL);
    g_autofree char *path = g_build_filename(dir, "domain.xml", NULL);
    g_autofree char *serial = g_build_filename(dir, "serial.sock", NULL);
    g_autoptr(GString) xml = g_string_new(NULL);
    g_autoptr(E2eCmdResult) def = NULL;
    g_autoptr(E2eCmd) start = NULL;
    g_autoptr(E2eCmdResult) started = NULL;
    E2eConsole *console;
    int status = -1;

    g_mkdir_with_parents(dir, 0755);
    g_mkdir_with_parents(dir_b, 0755);
    if (!e2e_make_sparse_file(disk, 4 * 1024 * 1024, error) || link(disk, disk_b) < 0) {
        if (error && !*error)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "link %s", disk_b);
        return NULL;
    }
    g_string_append_printf(xml,
                           "<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory>"
                           "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>"
                           "<kernel>%s/vmlinuz</kernel><initrd>%s/initrd.img</initrd>"
                           "<cmdline>console=ttyS0 quiet panic=-1 vnic.echo=0</cmdline></os>"
                           "<features><acpi/><apic/></features><devices>"
                           "<emulator>%s</emulator><disk type='file' device='disk'>"
                           "<driver name='qemu' type='raw'/><source file='%s'/>"
                           "<target dev='vda' bus='virtio'/></disk>",
                           name, e2e_guest_dir(), e2e_guest_dir(), e2e_qemu_binary(), disk);
    for (guint i = 1; i <= nics; i++)
        g_string_append_printf(xml,
                               "<interface type='bridge'><mac address='52:54:00:b0:00:%02x'/>"
                               "<source bridge='br0'/><model type='virtio'/></interface>", i);
    g_string_append_printf(xml,
                           "<serial type='unix'><source mode='bind' path='%s'/>"
                           "<target port='0'/></serial></devices></domain>", serial);
    if (!g_file_set_contents(path, xml->str, -1, error))
        return NULL;
    def = e2e_daemon_vnic(S.a, "define", path, NULL);
    if (def->status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "define: %s", def->err);
        return NULL;
    }
    start = e2e_daemon_vnic_spawn(S.a, "start", name, NULL);
    if (!(console = e2e_console_connect(serial, 30, error)))
        return NULL;
    started = e2e_cmd_finish(g_steal_pointer(&start), 60);
    if (started->status != 0 || !e2e_console_wait_ready(console, 60, error) ||
        !e2e_console_run(console,
                         "ip addr add " GUEST_IP "/24 dev eth0 && ip link set eth0 up", 30, NULL,
                         &status, error) || status != 0) {
        if (error && !*error)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "start: %s", started->err);
        e2e_console_free(console);
        return NULL;
    }
    return console;
}

static gboolean
run_case(guint nics, GError **error)
{
    g_autofree char *name = g_strdup_printf("bench-mig-%u", nics);
    g_autofree char *uri = g_strdup_printf("unix:%s", e2e_daemon_socket(S.b));
    g_autoptr(E2eConsole) console = guest_up(name, nics, error);
    g_autoptr(E2eCmdResult) r = NULL;
    g_autoptr(JsonNode) ret = NULL;
    Pinger *p;
    gint64 t0, t1, gap;
    guint answers;

    if (!console)
        return FALSE;
    g_usleep(500 * 1000);
    if (!(p = pinger_start(GUEST_IP, error)))
        return FALSE;
    g_usleep(1000 * 1000); /* answers are flowing */
    t0 = g_get_monotonic_time();
    r = e2e_daemon_vnic(S.a, "migrate", name, uri, "tcp:10.77.0.2", "--json", NULL);
    t1 = g_get_monotonic_time();
    g_usleep(2000 * 1000); /* the echoes after the switch-over */
    gap = pinger_stop(p, t0, t1 + 2 * G_USEC_PER_SEC, &answers);
    if (r->status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "migrate: %s", r->err);
        return FALSE;
    }
    ret = e2e_json_parse(r->out, error);
    if (!ret)
        return FALSE;
    printf("%2u NICs, 128 MiB: total %.2f s (vnicd %.2f s), %.1f MiB sent; downtime: "
           "%.0f ms seen by a 10 ms ping (%u answers), %" G_GINT64_FORMAT " ms by QEMU\n",
           nics, (t1 - t0) / 1e6, bench_json_int(ret, "total-ms") / 1e3,
           bench_json_int(ret, "transferred") / (1024.0 * 1024.0), gap / 1e3, answers,
           bench_json_int(ret, "downtime-ms"));
    g_clear_pointer(&r, e2e_cmd_result_free);
    r = e2e_daemon_vnic(S.b, "destroy", name, NULL);
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    gboolean ok;

    bench_init("bench/migrate", &argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    printf("bench/migrate: live migration between two vnicds over a veth (TCG guests)\n");
    ok = hosts_up(&error) && run_case(2, &error) && run_case(10, &error);
    if (!ok)
        bench_report_error(S.b, "%s", error ? error->message : "?");
    if (S.a)
        e2e_daemon_stop(S.a, NULL, NULL);
    if (S.b)
        e2e_daemon_stop(S.b, NULL, NULL);
    if (S.ns) {
        g_autofree char *cmd = g_strdup_printf("ip netns del %s", S.ns);
        const char *del[] = { "sh", "-c", cmd, NULL };
        bench_run(del, NULL);
    }
    return bench_finish(ok);
}
