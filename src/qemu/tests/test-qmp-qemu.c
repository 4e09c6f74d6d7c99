/* test-qmp-qemu.c: the QMP client against a real qemu-system-x86_64
 * (TCG, stopped with -S, no devices), one QEMU per test in a temp dir.
 * Skipped only when QEMU is not installed. */
#include "test-qmp-helpers.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

typedef struct {
    char *dir;
    char *qmp_path;
    GSubprocess *proc;
    VnicQmpClient *client;
} QemuFixture;

/* QEMU creates the socket early but its path may not exist yet: retry
 * CONNECT failures for a while. */
static VnicQmpClient *
connect_qemu(QemuFixture *f)
{
    for (guint attempt = 0;; attempt++) {
        TestResult res = { 0 };

        vnic_qmp_client_connect_async(f->qmp_path, 10000, NULL, test_connect_cb, &res);
        test_run_until(&res.done);
        if (res.client != NULL)
            return g_steal_pointer(&res.client);
        g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CONNECT);
        g_assert_cmpuint(attempt, <, 500);
        test_result_clear(&res);
        test_run_for(20);
    }
}

static void
qemu_setup(QemuFixture *f, gconstpointer data)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    g_autofree char *qmp_arg = NULL;
    g_autoptr(GError) error = NULL;

    if (qemu == NULL)
        return;
    f->dir = g_dir_make_tmp("vnic-qmp-XXXXXX", &error);
    g_assert_no_error(error);
    f->qmp_path = g_build_filename(f->dir, "qmp.sock", NULL);
    qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", f->qmp_path);
    f->proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, qemu,
                               "-accel", "tcg", "-machine", "pc", "-S", "-nodefaults",
                               "-no-user-config", "-display", "none", "-m", "64",
                               "-qmp", qmp_arg, NULL);
    g_assert_no_error(error);
    f->client = connect_qemu(f);
}

static void
qemu_teardown(QemuFixture *f, gconstpointer data)
{
    g_clear_pointer(&f->client, vnic_qmp_client_free);
    if (f->proc != NULL) {
        g_subprocess_force_exit(f->proc);
        g_subprocess_wait(f->proc, NULL, NULL);
        g_clear_object(&f->proc);
    }
    while (g_main_context_iteration(NULL, FALSE))
        ;
    if (f->qmp_path != NULL)
        g_unlink(f->qmp_path);
    if (f->dir != NULL)
        g_rmdir(f->dir);
    g_free(f->qmp_path);
    g_free(f->dir);
}

static gboolean
skip_without_qemu(QemuFixture *f)
{
    if (f->client != NULL)
        return FALSE;
    g_test_skip("qemu-system-x86_64 is not installed");
    return TRUE;
}

static void
test_query_status(QemuFixture *f, gconstpointer data)
{
    TestResult res = { 0 };
    JsonObject *version;
    JsonObject *status;

    if (skip_without_qemu(f))
        return;
    version = json_object_get_object_member(vnic_qmp_client_get_greeting(f->client), "version");
    g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(version, "qemu"),
                                               "major"), >=, 7);
    test_execute(f->client, "query-status", NULL, NULL, 0, 5000, &res);
    g_assert_no_error(res.error);
    status = json_node_get_object(res.value);
    g_assert_false(json_object_get_boolean_member(status, "running"));
    g_assert_cmpstr(json_object_get_string_member(status, "status"), ==, "prelaunch");
    test_result_clear(&res);
}

static void
test_getfd_closefd(QemuFixture *f, gconstpointer data)
{
    g_autoptr(JsonObject) args = test_json_object("{\"fdname\": \"vnic-test\"}");
    TestResult res = { 0 };
    char c = 0;
    int p[2];

    if (skip_without_qemu(f))
        return;
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    test_execute(f->client, "getfd", args, &p[0], 1, 5000, &res);
    g_assert_no_error(res.error);
    test_result_clear(&res);
    test_execute(f->client, "closefd", args, NULL, 0, 5000, &res);
    g_assert_no_error(res.error);
    test_result_clear(&res);
    /* Gone now: QEMU refuses a second closefd. */
    test_execute(f->client, "closefd", args, NULL, 0, 5000, &res);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_COMMAND);
    g_assert_cmpstr(vnic_qmp_error_get_class(res.error), ==, "GenericError");
    test_result_clear(&res);
    /* getfd without an fd is QEMU's error, not ours. */
    test_execute(f->client, "getfd", args, NULL, 0, 5000, &res);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_COMMAND);
    test_result_clear(&res);

    g_assert_cmpint(write(p[1], "q", 1), ==, 1);
    g_assert_cmpint(read(p[0], &c, 1), ==, 1);
    g_assert_cmpint(c, ==, 'q');
    close(p[0]);
    close(p[1]);
}

static void
test_command_not_found(QemuFixture *f, gconstpointer data)
{
    TestResult res = { 0 };

    if (skip_without_qemu(f))
        return;
    test_execute(f->client, "vnic-no-such-command", NULL, NULL, 0, 5000, &res);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_COMMAND);
    g_assert_cmpstr(vnic_qmp_error_get_class(res.error), ==, "CommandNotFound");
    g_assert_true(g_str_has_prefix(res.error->message, "vnic-no-such-command: "));
    g_assert_false(vnic_qmp_client_is_closed(f->client));
    test_result_clear(&res);
}

static void
on_close(VnicQmpClient *client, const GError *reason, gpointer user_data)
{
    g_assert_error(reason, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    *(gboolean *) user_data = TRUE;
}

static void
on_shutdown(VnicQmpClient *client, const char *event, JsonObject *data, gint64 timestamp_us,
            gpointer user_data)
{
    g_assert_cmpstr(event, ==, "SHUTDOWN");
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==, "host-qmp-quit");
    *(gboolean *) user_data = TRUE;
}

static void
test_quit(QemuFixture *f, gconstpointer data)
{
    TestResult res = { 0 };
    gboolean closed = FALSE, shutdown = FALSE;
    g_autoptr(GError) error = NULL;

    if (skip_without_qemu(f))
        return;
    vnic_qmp_client_set_close_func(f->client, on_close, &closed, NULL);
    vnic_qmp_client_add_event_handler(f->client, "SHUTDOWN", on_shutdown, &shutdown, NULL);
    test_execute(f->client, "quit", NULL, NULL, 0, 5000, &res);
    /* QEMU may exit before its reply is out. */
    if (res.error != NULL)
        g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    test_result_clear(&res);
    test_run_until(&closed);
    /* QEMU emits it before it exits; the client delivers it before EOF. */
    g_assert_true(shutdown);
    test_execute(f->client, "query-status", NULL, NULL, 0, 5000, &res);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    test_result_clear(&res);
    g_assert_true(g_subprocess_wait_check(f->proc, NULL, &error));
    g_assert_no_error(error);
}

void
test_qmp_qemu_register(void)
{
    g_test_add("/qmp/qemu/query-status", QemuFixture, NULL, qemu_setup, test_query_status,
               qemu_teardown);
    g_test_add("/qmp/qemu/getfd-closefd", QemuFixture, NULL, qemu_setup, test_getfd_closefd,
               qemu_teardown);
    g_test_add("/qmp/qemu/command-not-found", QemuFixture, NULL, qemu_setup,
               test_command_not_found, qemu_teardown);
    g_test_add("/qmp/qemu/quit", QemuFixture, NULL, qemu_setup, test_quit, qemu_teardown);
}
