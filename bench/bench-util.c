/* bench-util.c: see bench-util.h. */
#include "bench-util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct {
    const char *prog;
    GString *harness_log;  /* what GTest and the harness printed */
    char **argv;           /* e2e_init()'s copy, which lives as long as the program */
    char *tmpfs;           /* the tmpfs we mounted, if any */
} B;

static void
to_harness_log(const char *text)
{
    if (g_strcmp0(g_getenv("VNIC_BENCH_VERBOSE"), "1") == 0)
        fputs(text, stderr);
    g_string_append(B.harness_log, text);
}

void
bench_init(const char *prog, int *argc, char ***argv, E2eNeeds needs)
{
    B.prog = prog;
    B.harness_log = g_string_new(NULL);
    g_set_print_handler(to_harness_log);
    setvbuf(stdout, NULL, _IOLBF, 0);
    e2e_init(argc, argv, needs);
    B.argv = *argv;
}

int
bench_finish(gboolean ok)
{
    /* Our tmpfs would keep the guard from removing its mount point (the
     * guard lives in our mount namespace). */
    if (B.tmpfs != NULL && umount2(B.tmpfs, MNT_DETACH) != 0)
        fprintf(stderr, "%s: unmounting %s: %s\n", B.prog, B.tmpfs, g_strerror(errno));
    g_clear_pointer(&B.tmpfs, g_free);
    if (ok)
        return e2e_finish() == 0 ? 0 : 1;
    /* No e2e_finish(): the run counts as failed, the guard keeps the temp
     * root (and says so) and still kills what is left. */
    g_autofree char *path = g_build_filename(e2e_tmp_root(), "harness.log", NULL);
    g_file_set_contents(path, B.harness_log->str, (gssize)B.harness_log->len, NULL);
    fflush(stdout);
    return 1;
}

void
bench_report_error(E2eDaemon *daemon, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "\n%s: FAILED: %s\n", B.prog, msg);
    if (daemon != NULL) {
        g_autofree char *tail = e2e_daemon_log_tail(daemon, 15);
        if (*tail != '\0')
            fprintf(stderr, "--- last lines of %s\n%s\n---\n", e2e_daemon_log_path(daemon), tail);
    }
}

E2eDaemon *
bench_daemon_start(gboolean debug_log, gboolean run_tmpfs, GError **error)
{
    g_autofree char *env = g_find_program_in_path("env");
    /* as in production: without the tests' cache verification (it formats
     * every XML it serves from a cache again), and quiet unless asked */
    const char *const quiet[] = { env, "-u", "G_MESSAGES_DEBUG", "-u", "VNICD_VERIFY_CACHES",
                                  e2e_vnicd_binary(), NULL };
    const char *const debug[] = { env, "-u", "VNICD_VERIFY_CACHES", e2e_vnicd_binary(), NULL };
    g_autoptr(E2eDaemon) d = e2e_daemon_new(env == NULL ? NULL : debug_log ? debug : quiet);
    /* /run is a tmpfs on a real host; the harness' temp root may sit on a
     * disk, where every status file write (vnicd makes them durable) would
     * wait for it.  The mount is private to our mount namespace and goes
     * with it. */
    if (run_tmpfs && mount("tmpfs", e2e_daemon_run_dir(d), "tmpfs", MS_NOSUID | MS_NODEV,
                            "mode=0755") != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "mounting a tmpfs on %s: %s",
                    e2e_daemon_run_dir(d), g_strerror(errno));
        return NULL;
    }
    if (run_tmpfs) {
        g_free(B.tmpfs);
        B.tmpfs = g_strdup(e2e_daemon_run_dir(d));
    }
    if (!e2e_daemon_start(d, error))
        return NULL;
    return g_steal_pointer(&d);
}

gboolean
bench_daemon_stop_clean(E2eDaemon *daemon, GError **error)
{
    int code = -1;

    if (!e2e_daemon_stop(daemon, &code, error))
        return FALSE;
    if (code != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "vnicd exited with %d on SIGTERM", code);
        return FALSE;
    }
    return TRUE;
}

int
bench_main_end(gboolean ok, const GError *error, E2eDaemon **daemon, E2eJsonConn **conn)
{
    if (!ok)
        bench_report_error(*daemon, "%s", error != NULL ? error->message : "unknown error");
    g_clear_pointer(conn, e2e_json_conn_free);
    g_clear_pointer(daemon, e2e_daemon_free);
    return bench_finish(ok);
}

/* --- API ------------------------------------------------------------------------- */

JsonObject *
bench_args(const char *first_key, ...)
{
    JsonObject *o = json_object_new();
    va_list ap;
    va_start(ap, first_key);
    for (const char *k = first_key; k != NULL; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        json_object_set_string_member(o, k, v);
    }
    va_end(ap);
    return o;
}

JsonNode *
bench_api(E2eJsonConn *conn, const char *execute, JsonObject *args, double timeout_s,
          double *out_ms, GError **error)
{
    g_autofree char *args_json = args != NULL ? e2e_json_object_to_string(args) : NULL;
    if (args != NULL)
        json_object_unref(args);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(JsonObject) reply = e2e_api_call(conn, execute, args_json, timeout_s, error);
    gint64 t1 = g_get_monotonic_time();
    if (out_ms != NULL)
        *out_ms = (double)(t1 - t0) / 1000.0;
    if (reply == NULL)
        return NULL;
    JsonNode *ret = e2e_api_return(reply, error);
    if (ret == NULL)
        g_prefix_error(error, "%s: ", execute);
    return ret;
}

JsonNode *
bench_api_once(E2eDaemon *daemon, const char *execute, JsonObject *args, double timeout_s,
               GError **error)
{
    g_autoptr(E2eJsonConn) conn = e2e_json_conn_connect(e2e_daemon_socket(daemon), 5, error);
    if (conn == NULL) {
        if (args != NULL)
            json_object_unref(args);
        return NULL;
    }
    return bench_api(conn, execute, args, timeout_s, NULL, error);
}

JsonNode *
bench_json_member(JsonNode *obj, const char *member)
{
    if (obj == NULL || !JSON_NODE_HOLDS_OBJECT(obj))
        return NULL;
    return json_object_get_member(json_node_get_object(obj), member);
}

gint64
bench_json_int(JsonNode *obj, const char *member)
{
    JsonNode *m = bench_json_member(obj, member);
    return m != NULL && JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_INT64
               ? json_node_get_int(m)
               : 0;
}

const char *
bench_json_str(JsonNode *obj, const char *member)
{
    return obj != NULL && JSON_NODE_HOLDS_OBJECT(obj)
               ? e2e_json_get_string(json_node_get_object(obj), member)
               : NULL;
}

/* --- guests ------------------------------------------------------------------------ */

E2eConsole *
bench_start_and_boot(E2eDaemon *daemon, const E2eDomainXml *xml, double *out_start_s,
                     double *out_boot_s, GError **error)
{
    g_autoptr(E2eConsole) console = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(E2eCmd) cmd = e2e_daemon_vnic_spawn(daemon, "start", xml->name, NULL);
    gint64 deadline = e2e_deadline(60);
    while (console == NULL && e2e_ms_left(deadline) > 0) {
        if (g_file_test(xml->serial_path, G_FILE_TEST_EXISTS))
            console = e2e_console_connect(xml->serial_path, 2, NULL);
        else if (e2e_cmd_done(cmd))
            break;
        else
            g_usleep(2 * 1000);
    }
    g_autoptr(E2eCmdResult) r = e2e_cmd_finish(g_steal_pointer(&cmd), 60);
    gint64 t1 = g_get_monotonic_time();
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return NULL;
    }
    if (console == NULL && (console = e2e_console_connect(xml->serial_path, 5, error)) == NULL)
        return NULL;
    if (!e2e_console_wait_ready(console, 60, error)) {
        g_prefix_error(error, "the guest did not boot: ");
        return NULL;
    }
    if (out_start_s != NULL)
        *out_start_s = (double)(t1 - t0) / G_USEC_PER_SEC;
    if (out_boot_s != NULL)
        *out_boot_s = (double)(g_get_monotonic_time() - t1) / G_USEC_PER_SEC;
    return g_steal_pointer(&console);
}

gboolean
bench_run(const char *const *argv, GError **error)
{
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(argv, 60);
    if (r->status == 0)
        return TRUE;
    g_autofree char *desc = e2e_cmd_result_describe(r);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
    return FALSE;
}

/* --- numbers ------------------------------------------------------------------------ */

static gint
cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double
bench_percentile(GArray *v, double p)
{
    if (v->len == 0)
        return 0;
    g_array_sort(v, cmp_double);
    /* nearest rank: the smallest value with at least p% of them at or below it */
    guint rank = (guint)MAX(1.0, (p / 100.0) * v->len + 0.999999);
    return g_array_index(v, double, MIN(rank, v->len) - 1);
}

double
bench_median(GArray *v)
{
    if (v->len == 0)
        return 0;
    g_array_sort(v, cmp_double);
    guint n = v->len;
    return n % 2 ? g_array_index(v, double, n / 2)
                 : (g_array_index(v, double, n / 2 - 1) + g_array_index(v, double, n / 2)) / 2;
}

double
bench_max(GArray *v)
{
    return bench_percentile(v, 100);
}

gint64
bench_rss_kib(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    const char *p = strstr(text, "\nVmRSS:");
    return p != NULL ? g_ascii_strtoll(p + 7, NULL, 10) : -1;
}

/* --- a minimal QMP client ---------------------------------------------------------- */

struct _BenchQmp {
    int fd;
    GString *in;        /* bytes read, not yet a whole line */
    GQueue events;      /* BenchQmpEvent*: read while waiting for replies */
};

typedef struct {
    char *line;
    gint64 us;
} BenchQmpEvent;

static void
qmp_event_free(BenchQmpEvent *e)
{
    g_free(e->line);
    g_free(e);
}

void
bench_qmp_free(BenchQmp *q)
{
    if (q == NULL)
        return;
    if (q->fd >= 0)
        close(q->fd);
    g_string_free(q->in, TRUE);
    g_queue_clear_full(&q->events, (GDestroyNotify)qmp_event_free);
    g_free(q);
}

/* One line from QEMU (without "\r\n"), waiting until `deadline_us`. */
static char *
qmp_read_line(BenchQmp *q, gint64 deadline_us, GError **error)
{
    for (;;) {
        char *nl = memchr(q->in->str, '\n', q->in->len);
        if (nl != NULL) {
            gsize n = (gsize)(nl - q->in->str);
            char *line = g_strndup(q->in->str, n > 0 && nl[-1] == '\r' ? n - 1 : n);
            g_string_erase(q->in, 0, (gssize)n + 1);
            return line;
        }
        gint64 left = deadline_us - g_get_monotonic_time();
        struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
        int r = left > 0 ? poll(&pfd, 1, (int)(left / 1000) + 1) : 0;
        if (r <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "QMP: no reply in time");
            return NULL;
        }
        char buf[8192];
        ssize_t got = read(q->fd, buf, sizeof buf);
        if (got <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "QMP: connection closed");
            return NULL;
        }
        g_string_append_len(q->in, buf, got);
    }
}

static gboolean
qmp_send(BenchQmp *q, const char *json, int fd, GError **error)
{
    struct iovec iov = { .iov_base = (void *)json, .iov_len = strlen(json) };
    char control[CMSG_SPACE(sizeof(int))] = { 0 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    if (sendmsg(q->fd, &msg, MSG_NOSIGNAL) != (ssize_t)iov.iov_len) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "QMP: sending: %s",
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean
bench_qmp_execute(BenchQmp *q, const char *json, int fd, double timeout_s, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    if (!qmp_send(q, json, fd, error))
        return FALSE;
    for (;;) {
        gint64 now;
        g_autofree char *line = qmp_read_line(q, deadline, error);
        if (line == NULL)
            return FALSE;
        now = g_get_monotonic_time();
        if (strstr(line, "\"event\"") != NULL) {
            BenchQmpEvent *e = g_new0(BenchQmpEvent, 1);
            e->line = g_steal_pointer(&line);
            e->us = now;
            g_queue_push_tail(&q->events, e);
            continue;
        }
        if (strncmp(line, "{\"return\"", 9) == 0)
            return TRUE;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "QMP %s: %s", json, line);
        return FALSE;
    }
}

/* Whether an event line is `event` about `device`. */
static gboolean
qmp_event_matches(const char *line, const char *event, const char *device)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, line, -1, NULL) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
        return FALSE;
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    if (g_strcmp0(json_object_get_string_member_with_default(o, "event", NULL), event) != 0)
        return FALSE;
    if (device == NULL)
        return TRUE;
    JsonObject *data = json_object_get_object_member(o, "data");
    return data != NULL &&
           g_strcmp0(json_object_get_string_member_with_default(data, "device", NULL), device) == 0;
}

gboolean
bench_qmp_wait_event(BenchQmp *q, const char *event, const char *device, double timeout_s,
                     gint64 *out_us, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
    for (;;) {
        BenchQmpEvent *e = g_queue_pop_head(&q->events);
        if (e == NULL) {
            char *line = qmp_read_line(q, deadline, error);
            if (line == NULL) {
                g_prefix_error(error, "waiting for %s of %s: ", event, device ? device : "any");
                return FALSE;
            }
            e = g_new0(BenchQmpEvent, 1);
            e->us = g_get_monotonic_time();
            e->line = line;
        }
        gboolean match = qmp_event_matches(e->line, event, device);
        if (match && out_us != NULL)
            *out_us = e->us;
        qmp_event_free(e);
        if (match)
            return TRUE;
    }
}

BenchQmp *
bench_qmp_connect(const char *path, double timeout_s, GError **error)
{
    g_autoptr(BenchQmp) q = g_new0(BenchQmp, 1);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    gint64 deadline = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);

    q->in = g_string_new(NULL);
    g_queue_init(&q->events);
    g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    while (connect(q->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "QMP %s: %s", path,
                        g_strerror(errno));
            return NULL;
        }
        g_usleep(20000);
    }
    g_autofree char *greeting = qmp_read_line(q, deadline + G_USEC_PER_SEC, error);
    if (greeting == NULL ||
        !bench_qmp_execute(q, "{\"execute\":\"qmp_capabilities\"}", -1, timeout_s, error))
        return NULL;
    return g_steal_pointer(&q);
}

gboolean
bench_write_samples(const char *dir, const char *name, GArray *ms, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    for (guint i = 0; i < ms->len; i++)
        g_string_append_printf(s, "%.3f\n", g_array_index(ms, double, i));
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir, g_strerror(errno));
        return FALSE;
    }
    return g_file_set_contents(path, s->str, (gssize)s->len, error);
}
