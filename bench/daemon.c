/* bench/daemon.c: what vnicd itself costs — API latency, start-up overhead
 * over QEMU's own, memory.
 *
 * As root, in a private network namespace (the e2e harness), with one vnicd
 * in temp dirs, run as in production (default log level, run dir on a
 * tmpfs like /run):
 *   1. memory: vnicd's VmRSS idle, then with 50 domains defined (copies of
 *      examples/cloudstack-pc.xml): the growth per domain;
 *   2. API round trip of a query: LIST_REQUESTS `list` requests one after
 *      the other on one connection (median, p99), as the client measures
 *      it; and the same for `list all` with those 51 domains;
 *   3. start-up: `start` of a copy of examples/cloudstack-pc.xml (its API
 *      round trip: QEMU running with every device verified) against QEMU
 *      alone — the very command line vnicd gave QEMU (read from
 *      /proc/PID/cmdline), with the same kind of fds prepared beforehand
 *      (listening sockets, the disk, taps), timed from spawn through the
 *      QMP greeting, qmp_capabilities and query-status.  START_RUNS of
 *      each, alternating; medians.
 * Prints the numbers and the targets; asserts nothing about them.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>

#include "bench-util.h"

#define LIST_REQUESTS 1000
#define DOMAINS 50
#define START_RUNS 9
#define LIST_TARGET_MS 1.0
#define START_TARGET_MS 20.0
#define RSS_TARGET_KIB 200.0

static struct {
    E2eDaemon *daemon;
    E2eJsonConn *conn;
} S;

static GArray *
ms_array(void)
{
    return g_array_new(FALSE, FALSE, sizeof(double));
}

static const char *
met(gboolean ok)
{
    return ok ? "met" : "MISSED";
}

/* --- the API ----------------------------------------------------------------------- */

static gboolean
list_latency(gboolean all, double *median, double *p99, GError **error)
{
    g_autoptr(GArray) ms = ms_array();
    for (guint i = 0; i < LIST_REQUESTS; i++) {
        JsonObject *args = NULL;
        if (all) {
            args = json_object_new();
            json_object_set_boolean_member(args, "all", TRUE);
        }
        double t;
        g_autoptr(JsonNode) ret = bench_api(S.conn, "list", args, 10, &t, error);
        if (ret == NULL)
            return FALSE;
        g_array_append_val(ms, t);
    }
    *median = bench_median(ms);
    *p99 = bench_percentile(ms, 99);
    return TRUE;
}

static gboolean
define(const char *tag, E2eDomainXml **out, GError **error)
{
    g_autoptr(E2eDomainXml) xml = e2e_xml_prepare("examples/cloudstack-pc.xml", tag, error);
    if (xml == NULL)
        return FALSE;
    g_autoptr(JsonNode) ret = bench_api(S.conn, "define", bench_args("xml", xml->xml, NULL), 30,
                                        NULL, error);
    if (ret == NULL)
        return FALSE;
    if (out != NULL)
        *out = g_steal_pointer(&xml);
    return TRUE;
}

/* --- QEMU alone ---------------------------------------------------------------------- */

/* A listening unix socket at `path`. */
static int
listening_socket(const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socket %s: %s", path,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int
open_tap(const char *name, GError **error)
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    g_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "tap %s: %s", name, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* The value of `key=` in a comma-separated option string, or -1. */
static int
option_fd(const char *opts, const char *key)
{
    g_auto(GStrv) parts = g_strsplit(opts, ",", -1);
    g_autofree char *prefix = g_strconcat(key, "=", NULL);
    for (char **p = parts; *p != NULL; p++)
        if (g_str_has_prefix(*p, prefix))
            return atoi(*p + strlen(prefix));
    return -1;
}

typedef struct {
    GStrv argv;             /* vnicd's command line for QEMU */
    char *dir;
    char *qmp_path;
    const char *disk_path;
} QemuAlone;

/* Spawns QEMU with `qa->argv` and, at the fd numbers it names, what vnicd
 * would pass: listening sockets for -chardev socket (the monitor's is
 * QMP_PATH), the disk for -add-fd, taps for -netdev tap.  Then QMP greeting,
 * qmp_capabilities, query-status.  Returns the time from just before the
 * spawn to the query-status reply, in ms (< 0 on error); QEMU is killed
 * afterwards. */
static double
qemu_alone_once(QemuAlone *qa, guint run, GError **error)
{
    g_autofree char *log = g_build_filename(qa->dir, "qemu.log", NULL);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_take_stdout_fd(l, log_fd);
    guint n_chr = 0, n_tap = 0;
    for (guint i = 0; qa->argv[i] != NULL && qa->argv[i + 1] != NULL; i++) {
        const char *opt = qa->argv[i], *val = qa->argv[i + 1];
        int target = -1, src = -1;
        if (g_str_equal(opt, "-chardev") && g_str_has_prefix(val, "socket,") &&
            (target = option_fd(val, "fd")) >= 0) {
            g_autofree char *path = strstr(val, "id=charmonitor,") != NULL
                                        ? g_strdup(qa->qmp_path)
                                        : g_strdup_printf("%s/chr%u.sock", qa->dir, n_chr++);
            src = listening_socket(path, error);
        } else if (g_str_equal(opt, "-add-fd") && (target = option_fd(val, "fd")) >= 0) {
            src = open(qa->disk_path, O_RDWR | O_CLOEXEC);
            if (src < 0)
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", qa->disk_path,
                            g_strerror(errno));
        } else if (g_str_equal(opt, "-netdev") && g_str_has_prefix(val, "tap,") &&
                   (target = option_fd(val, "fd")) >= 0) {
            g_autofree char *name = g_strdup_printf("bq%u-%u", run, n_tap++);
            src = open_tap(name, error);
        } else if (strstr(val, "fd=") != NULL && (g_str_equal(opt, "-chardev") || g_str_equal(opt, "-netdev"))) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "bench/daemon does not know what to pass for %s %s", opt, val);
            return -1;
        } else {
            continue;
        }
        if (src < 0)
            return -1;
        g_subprocess_launcher_take_fd(l, src, target);
    }

    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv(l, (const char *const *)qa->argv, error);
    if (proc == NULL)
        return -1;
    g_autoptr(E2eQmp) qmp = e2e_qmp_connect(qa->qmp_path, 20, error);
    g_autoptr(JsonNode) status = qmp != NULL ? e2e_qmp_execute(qmp, "query-status", NULL, 20, error) : NULL;
    gint64 t1 = g_get_monotonic_time();
    g_subprocess_force_exit(proc);
    g_subprocess_wait(proc, NULL, NULL);
    if (status == NULL) {
        g_autofree char *tail = e2e_file_tail(log, 10);
        g_prefix_error(error, "QEMU alone: ");
        g_prefix_error(error, "%s\n", tail);  /* its log, then the error */
        return -1;
    }
    const char *st = bench_json_str(status, "status");
    if (g_strcmp0(st, "prelaunch") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "QEMU alone: status '%s', not prelaunch", st);
        return -1;
    }
    return (double)(t1 - t0) / 1000.0;
}

/* /proc/PID/cmdline as a vector. */
static GStrv
proc_argv(GPid pid, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, error))
        return NULL;
    GPtrArray *v = g_ptr_array_new();
    for (gsize i = 0; i < len; i += strlen(data + i) + 1)
        g_ptr_array_add(v, g_strdup(data + i));
    g_ptr_array_add(v, NULL);
    return (GStrv)g_ptr_array_free(v, FALSE);
}

static gboolean
start_overhead(double *qemu_ms, double *vnic_ms, GError **error)
{
    g_autoptr(E2eDomainXml) xml = NULL;
    if (!define("start", &xml, error))
        return FALSE;
    g_autoptr(GArray) qemu = ms_array(), vnic = ms_array();
    QemuAlone qa = { .dir = e2e_tmp_dir("qemu-alone"), .disk_path = xml->disk_path };
    qa.qmp_path = g_build_filename(qa.dir, "qmp.sock", NULL);
    gboolean ok = FALSE;
    for (guint run = 0; run < START_RUNS; run++) {
        double ms;
        g_autoptr(JsonNode) ret = bench_api(S.conn, "start", bench_args("name", xml->name, NULL), 60,
                                            &ms, error);
        if (ret == NULL)
            goto out;
        g_array_append_val(vnic, ms);
        GPid pid = (GPid)bench_json_int(ret, "pid");
        if (qa.argv == NULL && (qa.argv = proc_argv(pid, error)) == NULL)
            goto out;
        g_autoptr(JsonNode) d = bench_api(S.conn, "destroy", bench_args("name", xml->name, NULL), 60,
                                          NULL, error);
        if (d == NULL)
            goto out;
        if ((ms = qemu_alone_once(&qa, run, error)) < 0)
            goto out;
        g_array_append_val(qemu, ms);
    }
    *qemu_ms = bench_median(qemu);
    *vnic_ms = bench_median(vnic);
    ok = TRUE;
out:
    g_strfreev(qa.argv);
    g_free(qa.dir);
    g_free(qa.qmp_path);
    return ok;
}

/* --- main ------------------------------------------------------------------------------ */

static gboolean
run(GError **error)
{
    if (!(S.daemon = bench_daemon_start(FALSE, TRUE, error)))
        return FALSE;
    GPid pid = e2e_daemon_pid(S.daemon);
    if (!(S.conn = e2e_json_conn_connect(e2e_daemon_socket(S.daemon), 5, error)))
        return FALSE;
    g_autoptr(JsonNode) version = bench_api(S.conn, "query-version", NULL, 10, NULL, error);
    if (version == NULL)
        return FALSE;
    printf("bench/daemon: vnicd %s as in production (default log level, run dir on a tmpfs)\n",
           bench_json_str(version, "version"));

    /* 1. memory, idle and with DOMAINS domains */
    gint64 rss_idle = bench_rss_kib(pid);
    for (guint i = 0; i < DOMAINS; i++) {
        g_autofree char *tag = g_strdup_printf("d%02u", i + 1);
        if (!define(tag, NULL, error))
            return FALSE;
    }
    gint64 rss_defined = bench_rss_kib(pid);
    double per_domain = (double)(rss_defined - rss_idle) / DOMAINS;

    /* 2. API round trips */
    double med, p99, med_all, p99_all;
    if (!list_latency(FALSE, &med, &p99, error) || !list_latency(TRUE, &med_all, &p99_all, error))
        return FALSE;
    printf("\nAPI round trip (%d requests, one connection)  median    p99\n", LIST_REQUESTS);
    printf("  list (running only)                       %6.3f ms %6.3f ms   target: median < %.0f ms: %s\n",
           med, p99, LIST_TARGET_MS, met(med < LIST_TARGET_MS));
    printf("  list all (%d domains defined)             %6.3f ms %6.3f ms\n", DOMAINS, med_all, p99_all);

    /* 3. start-up */
    double qemu_ms, vnic_ms;
    if (!start_overhead(&qemu_ms, &vnic_ms, error))
        return FALSE;
    printf("\nstart-up, cloudstack-pc (TCG), median of %d\n", START_RUNS);
    printf("  QEMU alone: spawn -S → QMP greeting → qmp_capabilities → query-status   %6.1f ms\n", qemu_ms);
    printf("  vnic start (API round trip: taps, QEMU, devices verified, running)       %6.1f ms\n", vnic_ms);
    printf("  vnic's own share                                                          %6.1f ms   "
           "target: < %.0f ms: %s\n",
           vnic_ms - qemu_ms, START_TARGET_MS, met(vnic_ms - qemu_ms < START_TARGET_MS));

    printf("\nmemory (vnicd VmRSS)\n");
    printf("  idle %" G_GINT64_FORMAT " KiB, with %d domains defined %" G_GINT64_FORMAT
           " KiB: %.0f KiB per domain   target: < %.0f KiB: %s\n",
           rss_idle, DOMAINS, rss_defined, per_domain, RSS_TARGET_KIB, met(per_domain < RSS_TARGET_KIB));

    return bench_daemon_stop_clean(S.daemon, error);
}

int
main(int argc, char **argv)
{
    bench_init("bench/daemon", &argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNICD);
    g_autoptr(GError) error = NULL;
    gboolean ok = run(&error);
    return bench_main_end(ok, error, &S.daemon, &S.conn);
}
