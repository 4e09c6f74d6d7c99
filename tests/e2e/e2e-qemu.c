/* e2e-qemu.c: the test guest under plain QEMU, and a minimal QMP client.
 *
 * Only the harness self-test uses this (vnicd starts QEMU in the real
 * tests).  E2eQemu owns the QEMU process, its temp dir (sockets, qemu.log),
 * the console and the QMP connection.  QEMU is started with -S, both
 * sockets are connected, then `cont`: the console misses nothing.
 */
#include "e2e-qemu.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>

#include "e2e-cmd.h"
#include "e2e-env.h"
#include "e2e-json.h"

/* --- QMP --------------------------------------------------------------------- */

struct _E2eQmp {
    E2eJsonConn *conn;
    GPtrArray *events;  /* JsonObject */
};

void
e2e_qmp_free(E2eQmp *qmp)
{
    if (qmp == NULL)
        return;
    e2e_json_conn_free(qmp->conn);
    g_ptr_array_unref(qmp->events);
    g_free(qmp);
}

E2eQmp *
e2e_qmp_connect(const char *path, double timeout_s, GError **error)
{
    E2eJsonConn *conn = e2e_json_conn_connect(path, timeout_s, error);
    if (conn == NULL)
        return NULL;
    g_autoptr(E2eQmp) qmp = g_new0(E2eQmp, 1);
    qmp->conn = conn;
    qmp->events = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    g_autoptr(JsonObject) greeting = e2e_json_conn_recv(conn, timeout_s, error);
    if (greeting == NULL)
        return NULL;
    if (!json_object_has_member(greeting, "QMP")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no QMP greeting on '%s'", path);
        return NULL;
    }
    g_autoptr(JsonNode) r = e2e_qmp_execute(qmp, "qmp_capabilities", NULL, timeout_s, error);
    if (r == NULL)
        return NULL;
    return g_steal_pointer(&qmp);
}

JsonNode *
e2e_qmp_execute(E2eQmp *qmp, const char *command, const char *args_json, double timeout_s,
                GError **error)
{
    g_autofree char *line = args_json != NULL
                                ? g_strdup_printf("{\"execute\": \"%s\", \"arguments\": %s}", command, args_json)
                                : g_strdup_printf("{\"execute\": \"%s\"}", command);
    if (!e2e_json_conn_send_line(qmp->conn, line, timeout_s, error))
        return NULL;
    gint64 deadline = e2e_deadline(timeout_s);
    for (;;) {
        g_autoptr(JsonObject) msg = e2e_json_conn_recv(qmp->conn, e2e_ms_left(deadline) / 1000.0, error);
        if (msg == NULL) {
            g_prefix_error(error, "QMP %s: ", command);
            return NULL;
        }
        if (json_object_has_member(msg, "event")) {
            g_ptr_array_add(qmp->events, g_steal_pointer(&msg));
            continue;
        }
        g_autoptr(GError) local = NULL;
        JsonNode *ret = e2e_api_return(msg, &local);  /* same reply shape as QMP */
        if (ret == NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "QMP %s: %s", command, local->message);
            return NULL;
        }
        return ret;
    }
}

JsonObject *
e2e_qmp_wait_event(E2eQmp *qmp, const char *event, double timeout_s, GError **error)
{
    gint64 deadline = e2e_deadline(timeout_s);
    for (;;) {
        for (guint i = 0; i < qmp->events->len; i++) {
            JsonObject *e = g_ptr_array_index(qmp->events, i);
            if (g_strcmp0(e2e_json_get_string(e, "event"), event) == 0) {
                JsonObject *found = json_object_ref(e);
                g_ptr_array_remove_index(qmp->events, i);
                return found;
            }
        }
        JsonObject *msg = e2e_json_conn_recv(qmp->conn, e2e_ms_left(deadline) / 1000.0, error);
        if (msg == NULL) {
            g_prefix_error(error, "waiting for QMP event %s: ", event);
            return NULL;
        }
        g_ptr_array_add(qmp->events, msg);
    }
}

/* --- QEMU ---------------------------------------------------------------------- */

struct _E2eQemu {
    char *dir;
    char *log_path;
    E2eChild *child;
    E2eConsole *console;
    E2eQmp *qmp;
};

void
e2e_qemu_free(E2eQemu *q)
{
    if (q == NULL)
        return;
    e2e_console_free(q->console);
    e2e_qmp_free(q->qmp);
    e2e_child_free(q->child);
    g_free(q->dir);
    g_free(q->log_path);
    g_free(q);
}

char *
e2e_qemu_log(E2eQemu *q)
{
    return e2e_file_tail(q->log_path, 40);
}

/* Waits until `path` exists, failing early when QEMU has exited. */
static gboolean
wait_socket(E2eQemu *q, const char *path, GError **error)
{
    gint64 deadline = e2e_deadline(20);
    while (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        if (e2e_child_exited(q->child) || e2e_ms_left(deadline) == 0) {
            g_autofree char *how = e2e_child_describe_exit(q->child);
            g_autofree char *log = e2e_qemu_log(q);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "QEMU did not create %s (%s):\n%s",
                        path, how, log);
            return FALSE;
        }
        g_usleep(20 * 1000);
    }
    return TRUE;
}

E2eQemu *
e2e_qemu_start(const char *const *machine_args, const char *extra_append, GError **error)
{
    g_autoptr(E2eQemu) q = g_new0(E2eQemu, 1);
    q->dir = e2e_tmp_dir("qemu");
    q->log_path = g_build_filename(q->dir, "qemu.log", NULL);
    g_autofree char *serial = g_build_filename(q->dir, "serial.sock", NULL);
    g_autofree char *qmp = g_build_filename(q->dir, "qmp.sock", NULL);
    g_autofree char *kernel = g_build_filename(e2e_guest_dir(), "vmlinuz", NULL);
    g_autofree char *initrd = g_build_filename(e2e_guest_dir(), "initrd.img", NULL);
    g_autofree char *append = g_strdup_printf("console=ttyS0 quiet panic=-1 vnic.echo=0%s%s",
                                              extra_append ? " " : "", extra_append ? extra_append : "");
    g_autofree char *chardev = g_strdup_printf("socket,id=ser0,path=%s,server=on,wait=off", serial);
    g_autofree char *qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", qmp);

    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)e2e_qemu_binary());
    g_ptr_array_add(argv, "-accel");
    g_ptr_array_add(argv, "tcg");
    for (const char *const *a = machine_args; a != NULL && *a != NULL; a++)
        g_ptr_array_add(argv, (char *)*a);
    const char *const rest[] = {
        "-m", "256", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-S",
        "-kernel", kernel, "-initrd", initrd, "-append", append,
        "-chardev", chardev, "-serial", "chardev:ser0", "-qmp", qmp_arg, NULL,
    };
    for (const char *const *a = rest; *a != NULL; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);

    g_autofree char *cmdline = g_strjoinv(" ", (char **)argv->pdata);
    g_test_message("e2e: %s", cmdline);
    q->child = e2e_child_spawn((const char *const *)argv->pdata, q->log_path, NULL, error);
    if (q->child == NULL)
        return NULL;
    if (!wait_socket(q, serial, error) || !wait_socket(q, qmp, error))
        return NULL;
    q->console = e2e_console_connect(serial, 10, error);
    if (q->console == NULL)
        return NULL;
    q->qmp = e2e_qmp_connect(qmp, 10, error);
    if (q->qmp == NULL)
        return NULL;
    g_autoptr(JsonNode) r = e2e_qmp_execute(q->qmp, "cont", NULL, 10, error);
    if (r == NULL)
        return NULL;
    return g_steal_pointer(&q);
}

E2eConsole *e2e_qemu_console(E2eQemu *q) { return q->console; }
E2eQmp *e2e_qemu_qmp(E2eQemu *q) { return q->qmp; }

E2eConsole *
e2e_qemu_reconnect_console(E2eQemu *q, GError **error)
{
    g_autofree char *path = g_strdup(e2e_console_path(q->console));
    g_clear_pointer(&q->console, e2e_console_free);
    q->console = e2e_console_connect(path, 10, error);
    return q->console;
}
const char *e2e_qemu_dir(E2eQemu *q) { return q->dir; }

gboolean
e2e_qemu_wait_exit(E2eQemu *q, double timeout_s, int *out_exit_code, GError **error)
{
    if (!e2e_child_wait(q->child, timeout_s)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "QEMU still runs after %.1f s", timeout_s);
        return FALSE;
    }
    if (out_exit_code != NULL)
        *out_exit_code = e2e_child_exit_code(q->child);
    return TRUE;
}
