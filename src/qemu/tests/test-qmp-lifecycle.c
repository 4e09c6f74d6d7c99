/* test-qmp-lifecycle.c: the QMP client against a scripted fake QEMU when
 * things end early: the peer going away, timeouts, cancellation, freeing
 * the client from anywhere, and file descriptors sent with commands. */
#include "test-qmp-helpers.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void
on_close_count(VnicQmpClient *client, const GError *reason, gpointer user_data)
{
    g_assert_error(reason, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    (*(guint *) user_data)++;
}

static void assert_same_file(int a, int b);

static void
never_called(VnicQmpClient *client, const char *event, JsonObject *data, gint64 timestamp_us,
             gpointer user_data)
{
    g_assert_not_reached();
}

static void
count_notify(gpointer data)
{
    (*(guint *) data)++;
}

static void
test_closed_mid_reply(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) cmd = NULL;
    TestResult a = { 0 }, b = { 0 }, later = { 0 };
    guint closes = 0;

    vnic_qmp_client_set_close_func(client, on_close_count, &closes, NULL);
    vnic_qmp_client_execute_async(client, "a", NULL, NULL, 0, 0, NULL, test_execute_cb, &a);
    vnic_qmp_client_execute_async(client, "b", NULL, NULL, 0, 0, NULL, test_execute_cb, &b);
    cmd = test_peer_next_command(peer);
    json_object_unref(test_peer_next_command(peer));
    test_peer_send(peer, "{\"return\": {\"status\": \"runn");
    test_run_for(20);
    g_assert_false(a.done);
    test_peer_close(peer);
    test_run_until(&a.done);
    test_run_until(&b.done);
    g_assert_error(a.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    g_assert_error(b.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    g_assert_nonnull(strstr(a.error->message, "middle of a message"));
    g_assert_cmpuint(closes, ==, 1);
    test_execute(client, "c", NULL, NULL, 0, 0, &later);
    g_assert_error(later.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    g_assert_cmpuint(closes, ==, 1);
    test_result_clear(&a);
    test_result_clear(&b);
    test_result_clear(&later);
}

/* QEMU stopped reading (here: shut down its read side): the write fails
 * with EPIPE, which must close the client, not kill the process. */
static void
test_write_error(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    TestResult res = { 0 };
    guint closes = 0;

    vnic_qmp_client_set_close_func(client, on_close_count, &closes, NULL);
    g_assert_cmpint(shutdown(peer->fd, SHUT_RD), ==, 0);
    test_execute(client, "a", NULL, NULL, 0, 0, &res);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    g_assert_nonnull(strstr(res.error->message, "cannot write"));
    g_assert_cmpuint(closes, ==, 1);
    test_result_clear(&res);
}

/* A command bigger than the socket buffer goes out in several writes; its
 * fd goes with the first one only. */
static void
test_large_command(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonObject) cmd = NULL;
    g_autofree char *big = g_strnfill(4u << 20, 'y');
    TestResult res = { 0 };
    int p[2];

    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    json_object_set_string_member(args, "blob", big);
    vnic_qmp_client_execute_async(client, "big", args, &p[0], 1, 0, NULL, test_execute_cb, &res);
    cmd = test_peer_next_command(peer);
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(cmd, "arguments"),
                                                  "blob"), ==, big);
    g_assert_cmpuint(peer->fds->len, ==, 1);
    assert_same_file(g_array_index(peer->fds, int, 0), p[0]);
    test_peer_reply(peer, cmd, "{}");
    test_run_until(&res.done);
    g_assert_no_error(res.error);
    test_result_clear(&res);
    close(p[0]);
    close(p[1]);
}

static void
test_timeout(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) slow = NULL, next = NULL;
    TestResult res = { 0 };
    gint64 start = g_get_monotonic_time();

    vnic_qmp_client_execute_async(client, "slow", NULL, NULL, 0, 50, NULL, test_execute_cb, &res);
    slow = test_peer_next_command(peer);
    test_run_until(&res.done);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT);
    g_assert_cmpstr(res.error->message, ==, "slow: no reply from QEMU within 50 ms");
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 50000);
    test_result_clear(&res);

    /* The late reply is dropped; the connection stays good. */
    test_peer_reply(peer, slow, "\"late\"");
    vnic_qmp_client_execute_async(client, "next", NULL, NULL, 0, 1000, NULL, test_execute_cb, &res);
    next = test_peer_next_command(peer);
    test_peer_reply(peer, next, "\"next\"");
    test_run_until(&res.done);
    g_assert_no_error(res.error);
    g_assert_cmpstr(json_node_get_string(res.value), ==, "next");
    g_assert_false(vnic_qmp_client_is_closed(client));
    test_result_clear(&res);
}

static void
test_cancel(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(JsonObject) cmd = NULL, next = NULL;
    TestResult res = { 0 };

    vnic_qmp_client_execute_async(client, "a", NULL, NULL, 0, 0, cancellable, test_execute_cb,
                                  &res);
    cmd = test_peer_next_command(peer);
    g_cancellable_cancel(cancellable);
    test_run_until(&res.done);
    g_assert_error(res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    test_result_clear(&res);
    test_peer_reply(peer, cmd, "{}");

    /* Cancelled before the call: never written. */
    vnic_qmp_client_execute_async(client, "b", NULL, NULL, 0, 0, cancellable, test_execute_cb,
                                  &res);
    test_run_until(&res.done);
    g_assert_error(res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    test_result_clear(&res);

    vnic_qmp_client_execute_async(client, "c", NULL, NULL, 0, 0, NULL, test_execute_cb, &res);
    next = test_peer_next_command(peer);
    g_assert_cmpstr(json_object_get_string_member(next, "execute"), ==, "c");
    test_peer_reply(peer, next, "{}");
    test_run_until(&res.done);
    g_assert_no_error(res.error);
    test_result_clear(&res);
}

static void
assert_same_file(int a, int b)
{
    struct stat sa, sb;

    g_assert_cmpint(fstat(a, &sa), ==, 0);
    g_assert_cmpint(fstat(b, &sb), ==, 0);
    g_assert_cmpuint(sa.st_dev, ==, sb.st_dev);
    g_assert_cmpuint(sa.st_ino, ==, sb.st_ino);
}

/* The caller's fds stay open and usable after the command. */
static void
assert_pipe_works(const int p[2])
{
    char c = 0;

    g_assert_cmpint(write(p[1], "z", 1), ==, 1);
    g_assert_cmpint(read(p[0], &c, 1), ==, 1);
    g_assert_cmpint(c, ==, 'z');
}

static void
test_fd_passing(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) args = test_json_object("{\"fdname\": \"tap0\"}");
    g_autoptr(JsonObject) cmd = NULL;
    TestResult res = { 0 };
    guint before = test_count_fds();
    int p[2];

    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    vnic_qmp_client_execute_async(client, "getfd", args, p, 2, 0, NULL, test_execute_cb, &res);
    cmd = test_peer_next_command(peer);
    g_assert_cmpstr(json_object_get_string_member(cmd, "execute"), ==, "getfd");
    g_assert_cmpuint(peer->fds->len, ==, 2);
    assert_same_file(g_array_index(peer->fds, int, 0), p[0]);
    assert_same_file(g_array_index(peer->fds, int, 1), p[1]);
    test_peer_reply(peer, cmd, "{}");
    test_run_until(&res.done);
    g_assert_no_error(res.error);
    test_result_clear(&res);

    assert_pipe_works(p);
    for (guint i = 0; i < peer->fds->len; i++)
        close(g_array_index(peer->fds, int, i));
    g_array_set_size(peer->fds, 0);
    close(p[0]);
    close(p[1]);
    /* The client's duplicates are gone too. */
    g_assert_cmpuint(test_count_fds(), ==, before);
}

/* QEMU keeps only the latest fds: a second command with fds waits for the
 * first one's reply, and whatever is queued behind it waits too. */
static void
test_fd_barrier(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) first = NULL, second = NULL, third = NULL;
    TestResult r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
    int a[2], b[2];

    g_assert_cmpint(pipe2(a, O_CLOEXEC), ==, 0);
    g_assert_cmpint(pipe2(b, O_CLOEXEC), ==, 0);
    vnic_qmp_client_execute_async(client, "getfd", NULL, &a[0], 1, 0, NULL, test_execute_cb, &r1);
    /* Times out while held back: never written, its fd copy closed. */
    vnic_qmp_client_execute_async(client, "getfd", NULL, &b[1], 1, 30, NULL, test_execute_cb, &r2);
    vnic_qmp_client_execute_async(client, "getfd", NULL, &b[0], 1, 0, NULL, test_execute_cb, &r3);
    vnic_qmp_client_execute_async(client, "plain", NULL, NULL, 0, 0, NULL, test_execute_cb, &r4);
    /* The caller may close its fds as soon as the call returns. */
    close(a[0]);
    close(b[1]);
    first = test_peer_next_command(peer);
    test_run_until(&r2.done);
    g_assert_error(r2.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT);
    g_assert_true(g_queue_is_empty(&peer->lines));
    g_assert_cmpuint(peer->fds->len, ==, 1);

    test_peer_reply(peer, first, "{}");
    second = test_peer_next_command(peer);
    third = test_peer_next_command(peer);
    g_assert_cmpstr(json_object_get_string_member(second, "id"), ==, "vnic-4");
    g_assert_cmpstr(json_object_get_string_member(third, "execute"), ==, "plain");
    g_assert_cmpuint(peer->fds->len, ==, 2);
    assert_same_file(g_array_index(peer->fds, int, 1), b[0]);
    test_peer_reply(peer, third, "{}");
    test_peer_reply(peer, second, "{}");
    test_run_until(&r1.done);
    test_run_until(&r3.done);
    test_run_until(&r4.done);
    g_assert_no_error(r1.error);
    g_assert_no_error(r3.error);
    g_assert_no_error(r4.error);
    close(a[1]);
    close(b[0]);
    test_result_clear(&r1);
    test_result_clear(&r2);
    test_result_clear(&r3);
    test_result_clear(&r4);
}

static void
test_free_pending(void)
{
    g_autoptr(TestPeer) peer = NULL;
    VnicQmpClient *client = test_connect_fake(&peer);
    TestResult a = { 0 }, b = { 0 };
    guint notified = 0, closes = 0;
    int p[2];

    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    vnic_qmp_client_add_event_handler(client, NULL, never_called, &notified, count_notify);
    vnic_qmp_client_add_event_handler(client, "X", never_called, &notified, count_notify);
    vnic_qmp_client_set_close_func(client, on_close_count, &closes, NULL);
    vnic_qmp_client_execute_async(client, "a", NULL, p, 1, 0, NULL, test_execute_cb, &a);
    json_object_unref(test_peer_next_command(peer));
    /* b still queued with an fd copy when the client goes: held back
     * behind a's unanswered fd (a client writes at once otherwise). */
    vnic_qmp_client_execute_async(client, "b", NULL, p, 1, 100, NULL, test_execute_cb, &b);
    test_peer_send(peer, "{\"event\": \"X\"}\r\n");
    vnic_qmp_client_free(client);
    /* Completions come after free returns, not inside it. */
    g_assert_false(a.done);
    g_assert_false(b.done);
    test_run_until(&a.done);
    test_run_until(&b.done);
    g_assert_error(a.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    g_assert_error(b.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    g_assert_cmpuint(closes, ==, 0);
    test_run_until(&peer->eof);
    g_assert_cmpuint(peer->fds->len, ==, 1); /* a's: b's copy was closed, not sent */
    test_result_clear(&a);
    test_result_clear(&b);
    g_assert_cmpuint(notified, ==, 2);
    close(p[0]);
    close(p[1]);
}

typedef struct {
    VnicQmpClient *client;
    TestResult res;
    guint events;
} FreeFromCallback;

static void
free_on_reply(GObject *source, GAsyncResult *result, gpointer data)
{
    FreeFromCallback *f = data;

    test_execute_cb(source, result, &f->res);
    g_clear_pointer(&f->client, vnic_qmp_client_free);
}

static void
free_on_event(VnicQmpClient *client, const char *event, JsonObject *data, gint64 timestamp_us,
              gpointer user_data)
{
    FreeFromCallback *f = user_data;

    f->events++;
    g_assert_true(client == f->client);
    g_clear_pointer(&f->client, vnic_qmp_client_free);
}

/* The client is freed from inside its own dispatch with more input
 * buffered behind: nothing after the free may be dispatched. */
static void
test_free_in_callbacks(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(JsonObject) cmd = NULL;
    g_autofree char *script = NULL;
    FreeFromCallback f = { 0 };

    f.client = test_connect_fake(&peer);
    vnic_qmp_client_add_event_handler(f.client, NULL, free_on_event, &f, NULL);
    vnic_qmp_client_add_event_handler(f.client, NULL, free_on_event, &f, NULL);
    vnic_qmp_client_execute_async(f.client, "a", NULL, NULL, 0, 0, NULL, test_execute_cb, &f.res);
    cmd = test_peer_next_command(peer);
    script = g_strdup_printf("{\"event\": \"E\"}\r\n{\"return\": {}, \"id\": \"%s\"}\r\n",
                             json_object_get_string_member(cmd, "id"));
    test_peer_send(peer, script);
    test_run_until(&f.res.done);
    g_assert_cmpuint(f.events, ==, 1);
    g_assert_error(f.res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    test_result_clear(&f.res);
    test_run_until(&peer->eof);
    g_clear_pointer(&peer, test_peer_free);
    g_clear_pointer(&cmd, json_object_unref);

    f.client = test_connect_fake(&peer);
    vnic_qmp_client_add_event_handler(f.client, NULL, never_called, NULL, NULL);
    vnic_qmp_client_execute_async(f.client, "a", NULL, NULL, 0, 0, NULL, free_on_reply, &f);
    cmd = test_peer_next_command(peer);
    g_free(script);
    script = g_strdup_printf("{\"return\": {}, \"id\": \"%s\"}\r\n{\"event\": \"E\"}\r\n",
                             json_object_get_string_member(cmd, "id"));
    test_peer_send(peer, script);
    test_run_until(&f.res.done);
    g_assert_no_error(f.res.error);
    g_assert_null(f.client);
    test_result_clear(&f.res);
}

void
test_qmp_lifecycle_register(void)
{
    test_add_fd_checked("/qmp/fake/closed-mid-reply", test_closed_mid_reply);
    test_add_fd_checked("/qmp/fake/write-error", test_write_error);
    test_add_fd_checked("/qmp/fake/large-command", test_large_command);
    test_add_fd_checked("/qmp/fake/timeout", test_timeout);
    test_add_fd_checked("/qmp/fake/cancel", test_cancel);
    test_add_fd_checked("/qmp/fake/fd-passing", test_fd_passing);
    test_add_fd_checked("/qmp/fake/fd-barrier", test_fd_barrier);
    test_add_fd_checked("/qmp/fake/free-pending", test_free_pending);
    test_add_fd_checked("/qmp/fake/free-in-callbacks", test_free_in_callbacks);
}
