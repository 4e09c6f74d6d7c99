/* test-qmp-helpers.c: the fake QMP peer and loop helpers.
 *
 * The peer is deliberately dumb: it reads lines and fds, and writes what
 * the test tells it to, so each test scripts QEMU's behaviour exactly.
 */
#include "test-qmp-helpers.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_run_until_ready(GQueue *lines);

static void
peer_take_fds(TestPeer *peer, struct msghdr *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        gsize n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (gsize i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            g_array_append_val(peer->fds, fd);
        }
    }
}

static void
peer_split_lines(TestPeer *peer)
{
    char *nl;

    while ((nl = memchr(peer->inbuf->str, '\n', peer->inbuf->len)) != NULL) {
        gsize len = (gsize) (nl - peer->inbuf->str);
        g_queue_push_tail(&peer->lines, g_strndup(peer->inbuf->str, len));
        g_string_erase(peer->inbuf, 0, (gssize) len + 1);
    }
}

static gboolean
peer_readable(gint fd, GIOCondition condition, gpointer data)
{
    TestPeer *peer = data;
    char buf[65536];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 16)];
    } control;
    struct iovec iov = { buf, sizeof(buf) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        peer->eof = TRUE;
        peer->watch_id = 0;
        return G_SOURCE_REMOVE;
    }
    g_assert_false(msg.msg_flags & MSG_CTRUNC);
    peer_take_fds(peer, &msg);
    g_string_append_len(peer->inbuf, buf, n);
    peer_split_lines(peer);
    return G_SOURCE_CONTINUE;
}

TestPeer *
test_peer_new(int *client_fd)
{
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    *client_fd = sv[1];
    return test_peer_new_for_fd(sv[0]);
}

TestPeer *
test_peer_new_for_fd(int fd)
{
    TestPeer *peer = g_new0(TestPeer, 1);

    peer->fd = fd;
    peer->inbuf = g_string_new(NULL);
    g_queue_init(&peer->lines);
    peer->fds = g_array_new(FALSE, FALSE, sizeof(int));
    peer->watch_id = g_unix_fd_add(peer->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, peer_readable, peer);
    return peer;
}

void
test_peer_close(TestPeer *peer)
{
    if (peer->watch_id != 0)
        g_source_remove(peer->watch_id);
    peer->watch_id = 0;
    if (peer->fd >= 0)
        close(peer->fd);
    peer->fd = -1;
}

void
test_peer_free(TestPeer *peer)
{
    if (peer == NULL)
        return;
    test_peer_close(peer);
    for (guint i = 0; i < peer->fds->len; i++)
        close(g_array_index(peer->fds, int, i));
    g_array_unref(peer->fds);
    g_queue_clear_full(&peer->lines, g_free);
    g_string_free(peer->inbuf, TRUE);
    g_free(peer);
}

void
test_peer_send(TestPeer *peer, const char *text)
{
    gsize len = strlen(text), off = 0;

    while (off < len) {
        ssize_t n = send(peer->fd, text + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        g_assert_cmpint(n, >, 0);
        off += (gsize) n;
    }
}

JsonObject *
test_peer_next_command(TestPeer *peer)
{
    g_autofree char *line = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;

    while (g_queue_is_empty(&peer->lines)) {
        g_assert_false(peer->eof);
        test_run_until_ready(&peer->lines);
    }
    line = g_queue_pop_head(&peer->lines);
    g_assert_true(json_parser_load_from_data(parser, line, -1, &error));
    g_assert_no_error(error);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
    return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

void
test_peer_reply(TestPeer *peer, JsonObject *cmd, const char *return_json)
{
    g_autofree char *text = g_strdup_printf("{\"return\": %s, \"id\": \"%s\"}\r\n", return_json,
                                            json_object_get_string_member(cmd, "id"));
    test_peer_send(peer, text);
}

static gboolean
watchdog_fired(gpointer data)
{
    *(gboolean *) data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Iterates until *flag or, with @lines, until a line is queued. */
static void
run_watched(const gboolean *flag, GQueue *lines)
{
    gboolean expired = FALSE;
    GSource *watchdog = g_timeout_source_new_seconds(20);

    g_source_set_callback(watchdog, watchdog_fired, &expired, NULL);
    g_source_attach(watchdog, NULL);
    while (!expired && (flag == NULL || !*flag) && (lines == NULL || g_queue_is_empty(lines)))
        g_main_context_iteration(NULL, TRUE);
    g_source_destroy(watchdog);
    g_source_unref(watchdog);
    g_assert_false(expired);
}

void
test_run_until(const gboolean *flag)
{
    run_watched(flag, NULL);
}

static void
test_run_until_ready(GQueue *lines)
{
    run_watched(NULL, lines);
}

void
test_run_for(guint ms)
{
    gboolean done = FALSE;

    g_timeout_add(ms, watchdog_fired, &done);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
}

void
test_result_clear(TestResult *res)
{
    g_clear_pointer(&res->value, json_node_unref);
    g_clear_error(&res->error);
    g_clear_pointer(&res->client, vnic_qmp_client_free);
    res->done = FALSE;
}

void
test_execute_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    TestResult *res = data;

    g_assert_null(source);
    g_assert_false(res->done);
    res->value = vnic_qmp_client_execute_finish(result, &res->error);
    g_assert_true((res->value == NULL) != (res->error == NULL));
    res->done = TRUE;
}

void
test_connect_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    TestResult *res = data;

    g_assert_false(res->done);
    res->client = vnic_qmp_client_connect_finish(result, &res->error);
    g_assert_true((res->client == NULL) != (res->error == NULL));
    res->done = TRUE;
}

void
test_execute(VnicQmpClient *client, const char *command, JsonObject *arguments,
             const int *fds, guint n_fds, guint timeout_ms, TestResult *res)
{
    vnic_qmp_client_execute_async(client, command, arguments, fds, n_fds, timeout_ms, NULL,
                                  test_execute_cb, res);
    test_run_until(&res->done);
}

VnicQmpClient *
test_connect_fake(TestPeer **ret_peer)
{
    TestResult res = { 0 };
    g_autoptr(JsonObject) caps = NULL;
    int fd;
    TestPeer *peer = test_peer_new(&fd);

    vnic_qmp_client_connect_fd_async(&fd, 5000, NULL, test_connect_cb, &res);
    g_assert_cmpint(fd, ==, -1);
    test_peer_send(peer, TEST_GREETING);
    caps = test_peer_next_command(peer);
    g_assert_cmpstr(json_object_get_string_member(caps, "execute"), ==, "qmp_capabilities");
    test_peer_reply(peer, caps, "{}");
    test_run_until(&res.done);
    g_assert_no_error(res.error);
    *ret_peer = peer;
    return g_steal_pointer(&res.client);
}

guint
test_count_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    guint n = 0;

    g_assert_nonnull(dir);
    while (g_dir_read_name(dir) != NULL)
        n++;
    return n;
}

void
test_list_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename("/proc/self/fd", name, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        g_test_message("fd %s -> %s", name, target);
    }
}

static void
fd_checked_run(gconstpointer data)
{
    void (*func)(void) = (void (*)(void)) data;
    guint before = test_count_fds();

    func();
    /* Deferred completions (vnic_qmp_client_free) run here. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    if (test_count_fds() != before)
        test_list_fds();
    g_assert_cmpuint(test_count_fds(), ==, before);
}

void
test_add_fd_checked(const char *path, void (*func)(void))
{
    g_test_add_data_func(path, (gconstpointer) func, fd_checked_run);
}

JsonObject *
test_json_object(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;

    json_parser_load_from_data(parser, text, -1, &error);
    g_assert_no_error(error);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
    return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

void
test_warm_up(void)
{
    g_autoptr(TestPeer) peer = NULL;
    VnicQmpClient *client = test_connect_fake(&peer);

    vnic_qmp_client_free(client);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}
