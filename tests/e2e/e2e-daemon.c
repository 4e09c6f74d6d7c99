/* e2e-daemon.c: vnicd under test, the vnic CLI and the direct API client.
 *
 * Owns the daemon's temp dir and, while it runs, its process.  The daemon is
 * expected to stay in the foreground (no fork) and to create its control
 * socket when it is ready; it is started as
 *   ARGV_PREFIX --state-dir DIR/state --run-dir DIR/run --socket DIR/vnicd.sock
 * with G_MESSAGES_DEBUG=all and VNICD_VERIFY_CACHES=1 (vnicd checks what it
 * serves from a cache against a fresh computation and aborts on a
 * difference), its stdout and stderr appended to DIR/vnicd.log.
 */
#include "e2e-daemon.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gio/gio.h>

#include "e2e-env.h"
#include "e2e-json.h"

#define START_TIMEOUT_S 20.0
#define STOP_TIMEOUT_S 20.0
#define CLI_TIMEOUT_S 60.0
#define API_TIMEOUT_S 60.0

struct _E2eDaemon {
    GStrv argv_prefix;
    char *dir, *state_dir, *run_dir, *socket, *log_path;
    E2eChild *child;
};

E2eDaemon *
e2e_daemon_new(const char *const *argv_prefix)
{
    E2eDaemon *d = g_new0(E2eDaemon, 1);
    const char *const dflt[] = { e2e_vnicd_binary(), NULL };
    d->argv_prefix = g_strdupv((char **)(argv_prefix != NULL ? argv_prefix : dflt));
    d->dir = e2e_tmp_dir("vnicd");
    d->state_dir = g_build_filename(d->dir, "state", NULL);
    d->run_dir = g_build_filename(d->dir, "run", NULL);
    d->socket = g_build_filename(d->dir, "vnicd.sock", NULL);
    d->log_path = g_build_filename(d->dir, "vnicd.log", NULL);
    g_mkdir_with_parents(d->state_dir, 0700);
    g_mkdir_with_parents(d->run_dir, 0755);
    return d;
}

void
e2e_daemon_free(E2eDaemon *d)
{
    if (d == NULL)
        return;
    e2e_child_free(d->child);  /* SIGKILL if it still runs */
    g_strfreev(d->argv_prefix);
    g_free(d->dir);
    g_free(d->state_dir);
    g_free(d->run_dir);
    g_free(d->socket);
    g_free(d->log_path);
    g_free(d);
}

const char *e2e_daemon_dir(E2eDaemon *d) { return d->dir; }
const char *e2e_daemon_socket(E2eDaemon *d) { return d->socket; }
const char *e2e_daemon_state_dir(E2eDaemon *d) { return d->state_dir; }
const char *e2e_daemon_run_dir(E2eDaemon *d) { return d->run_dir; }
const char *e2e_daemon_log_path(E2eDaemon *d) { return d->log_path; }

char *
e2e_daemon_log_tail(E2eDaemon *d, guint max_lines)
{
    return e2e_file_tail(d->log_path, max_lines);
}

void
e2e_daemon_print_log_tail(E2eDaemon *d, guint max_lines)
{
    if (d != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(d, max_lines);
        g_printerr("--- %s (last lines)\n%s\n", d->log_path, log);
    }
}

char *
e2e_daemon_status_text(E2eDaemon *d, const char *domain)
{
    g_autofree char *file = g_strconcat(domain, ".xml", NULL);
    g_autofree char *path = g_build_filename(d->run_dir, "domains", file, NULL);
    char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? text : g_strdup("");
}

gboolean
e2e_daemon_status_says(E2eDaemon *d, const char *domain, const char *needle, double timeout_s,
                       gulong poll_us)
{
    gint64 deadline = e2e_deadline(timeout_s);

    do {
        g_autofree char *text = e2e_daemon_status_text(d, domain);
        if (strstr(text, needle))
            return TRUE;
        g_usleep(poll_us);
    } while (e2e_ms_left(deadline) > 0);
    return FALSE;
}

gboolean
e2e_daemon_running(E2eDaemon *d)
{
    return d->child != NULL && !e2e_child_exited(d->child);
}

GPid
e2e_daemon_pid(E2eDaemon *d)
{
    return e2e_daemon_running(d) ? e2e_child_pid(d->child) : 0;
}

static void
log_line(E2eDaemon *d, const char *what)
{
    /* Marks start/stop in the log, which is appended across restarts. */
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *ts = g_date_time_format(now, "%H:%M:%S.%f");
    g_autofree char *line = g_strdup_printf("=== e2e %s: %s\n", ts, what);
    FILE *f = fopen(d->log_path, "a");
    if (f != NULL) {
        fputs(line, f);
        fclose(f);
    }
}

gboolean
e2e_daemon_start(E2eDaemon *d, GError **error)
{
    g_return_val_if_fail(!e2e_daemon_running(d), FALSE);
    g_clear_pointer(&d->child, e2e_child_free);

    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    for (char **a = d->argv_prefix; *a != NULL; a++)
        g_ptr_array_add(argv, *a);
    const char *const opts[] = { "--state-dir", d->state_dir, "--run-dir", d->run_dir,
                                 "--socket", d->socket, NULL };
    for (const char *const *a = opts; *a != NULL; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_auto(GStrv) extra = NULL;
    const char *extra_args = g_getenv("VNIC_E2E_VNICD_ARGS");
    if (extra_args != NULL && *extra_args != '\0') {
        extra = g_strsplit_set(extra_args, " \t", -1);
        for (char **a = extra; *a != NULL; a++)
            if (**a != '\0')
                g_ptr_array_add(argv, *a);
    }
    g_ptr_array_add(argv, NULL);

    g_autofree char *cmdline = g_strjoinv(" ", (char **)argv->pdata);
    log_line(d, cmdline);
    g_test_message("e2e: starting %s", cmdline);
    /* VNICD_VERIFY_CACHES: vnicd checks each cached formatted XML against a fresh format */
    const char *const env_add[] = { "G_MESSAGES_DEBUG=all", "VNICD_VERIFY_CACHES=1", NULL };
    d->child = e2e_child_spawn_env((const char *const *)argv->pdata, env_add, d->log_path, NULL, error);
    if (d->child == NULL)
        return FALSE;

    gint64 deadline = e2e_deadline(START_TIMEOUT_S);
    for (;;) {
        int fd = e2e_unix_connect(d->socket, 0, NULL);
        if (fd >= 0) {
            close(fd);
            return TRUE;
        }
        if (e2e_child_exited(d->child) || e2e_ms_left(deadline) == 0) {
            g_autofree char *how = e2e_child_describe_exit(d->child);
            g_autofree char *log = e2e_daemon_log_tail(d, 30);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "vnicd did not open %s within %.0f s (%s); its log:\n%s", d->socket,
                        START_TIMEOUT_S, how, log);
            return FALSE;
        }
        g_usleep(20 * 1000);
    }
}

gboolean
e2e_daemon_stop(E2eDaemon *d, int *out_exit_code, GError **error)
{
    if (!e2e_daemon_running(d)) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, "vnicd is not running");
        return FALSE;
    }
    log_line(d, "SIGTERM");
    e2e_child_signal(d->child, SIGTERM);
    if (!e2e_child_wait(d->child, STOP_TIMEOUT_S)) {
        e2e_daemon_kill(d);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                    "vnicd did not exit within %.0f s of SIGTERM (killed it)", STOP_TIMEOUT_S);
        return FALSE;
    }
    if (out_exit_code != NULL)
        *out_exit_code = e2e_child_exit_code(d->child);
    return TRUE;
}

void
e2e_daemon_kill(E2eDaemon *d)
{
    if (!e2e_daemon_running(d))
        return;
    log_line(d, "SIGKILL");
    e2e_child_signal(d->child, SIGKILL);
    e2e_child_wait(d->child, 10);
}

gboolean
e2e_daemon_restart(E2eDaemon *d, GError **error)
{
    if (e2e_daemon_running(d) && !e2e_daemon_stop(d, NULL, error))
        return FALSE;
    return e2e_daemon_start(d, error);
}

/* --- the CLI -------------------------------------------------------------------- */

static GPtrArray *
cli_argv(E2eDaemon *d, const char *verb, va_list ap)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)e2e_vnic_binary());
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, d->socket);
    g_ptr_array_add(argv, (char *)verb);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL)
        g_ptr_array_add(argv, (char *)a);
    g_ptr_array_add(argv, NULL);
    return argv;
}

E2eCmdResult *
e2e_daemon_vnic(E2eDaemon *d, const char *verb, ...)
{
    va_list ap;
    va_start(ap, verb);
    g_autoptr(GPtrArray) argv = cli_argv(d, verb, ap);
    va_end(ap);
    return e2e_cmd_run((const char *const *)argv->pdata, CLI_TIMEOUT_S);
}

E2eCmdResult *
e2e_daemon_vnic_timeout(E2eDaemon *d, double timeout_s, const char *verb, ...)
{
    va_list ap;
    va_start(ap, verb);
    g_autoptr(GPtrArray) argv = cli_argv(d, verb, ap);
    va_end(ap);
    return e2e_cmd_run((const char *const *)argv->pdata, timeout_s);
}

E2eCmd *
e2e_daemon_vnic_spawn(E2eDaemon *d, const char *verb, ...)
{
    va_list ap;
    va_start(ap, verb);
    g_autoptr(GPtrArray) argv = cli_argv(d, verb, ap);
    va_end(ap);
    return e2e_cmd_spawn((const char *const *)argv->pdata);
}

JsonNode *
e2e_daemon_vnic_json(E2eDaemon *d, GError **error, const char *verb, ...)
{
    va_list ap;
    va_start(ap, verb);
    g_autoptr(GPtrArray) argv = cli_argv(d, verb, ap);
    va_end(ap);
    g_autoptr(E2eCmdResult) r = e2e_cmd_run((const char *const *)argv->pdata, CLI_TIMEOUT_S);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return NULL;
    }
    JsonNode *node = e2e_json_parse(r->out, error);
    if (node == NULL)
        g_prefix_error(error, "`%s` printed no JSON: ", r->command);
    return node;
}

/* --- the API ---------------------------------------------------------------------- */

JsonObject *
e2e_daemon_api(E2eDaemon *d, const char *execute, const char *args_json, GError **error)
{
    g_autoptr(E2eJsonConn) conn = e2e_json_conn_connect(d->socket, 5, error);
    if (conn == NULL)
        return NULL;
    return e2e_api_call(conn, execute, args_json, API_TIMEOUT_S, error);
}

char *
e2e_daemon_hmp(E2eDaemon *d, const char *domain, const char *command, GError **error)
{
    g_autofree char *args = g_strdup_printf("{\"name\": \"%s\", \"command\": \"%s\", "
                                            "\"hmp\": true}", domain, command);
    g_autoptr(JsonObject) reply = e2e_daemon_api(d, "qemu-monitor-command", args, error);
    const char *text = reply ? e2e_json_get_string(reply, "return") : NULL;

    if (reply && !text) {
        g_autofree char *s = e2e_json_object_to_string(reply);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "qemu-monitor-command: %s", s);
        return NULL;
    }
    return g_strdup(text);
}

GPid
e2e_daemon_running_pid(E2eDaemon *d, const char *name, GError **error)
{
    g_autoptr(JsonNode) node = e2e_daemon_vnic_json(d, error, "list", "--json", NULL);
    JsonArray *domains = node != NULL && JSON_NODE_HOLDS_OBJECT(node)
                             ? e2e_json_member_array(json_node_get_object(node), "domains")
                             : NULL;

    for (guint i = 0; domains != NULL && i < json_array_get_length(domains); i++) {
        JsonObject *dom = e2e_json_array_object(domains, i);
        if (g_strcmp0(e2e_json_get_string(dom, "name"), name) == 0 &&
            g_strcmp0(e2e_json_get_string(dom, "state"), "running") == 0)
            return (GPid)json_object_get_int_member_with_default(dom, "pid", 0);
    }
    return 0;
}
