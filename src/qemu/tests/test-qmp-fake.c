/* test-qmp-fake.c: the QMP client against a scripted fake QEMU:
 * handshake, commands, replies in any order, events, and every way the
 * peer can break the protocol. */
#include "test-qmp-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <string.h>
#include <unistd.h>

static void
test_error_codes(void)
{
    for (guint code = VNIC_QMP_ERROR_CONNECT; code <= VNIC_QMP_ERROR_CLOSED; code++) {
        VnicQmpErrorCode back;
        const char *name = vnic_qmp_error_code_to_string(code);

        g_assert_nonnull(name);
        g_assert_true(vnic_qmp_error_code_from_string(name, &back));
        g_assert_cmpuint(back, ==, code);
    }
    g_assert_cmpstr(vnic_qmp_error_code_to_string(VNIC_QMP_ERROR_TOO_LARGE), ==, "too-large");
    g_assert_null(vnic_qmp_error_code_to_string(99));
    g_assert_false(vnic_qmp_error_code_from_string("nope", &(VnicQmpErrorCode){ 0 }));
}

static void
test_handshake(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    JsonObject *greeting = vnic_qmp_client_get_greeting(client);
    JsonObject *version = json_object_get_object_member(greeting, "version");

    g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(version, "qemu"),
                                               "major"), ==, 7);
    g_assert_false(vnic_qmp_client_is_closed(client));
}

/* Connects over a socketpair, lets the peer say @script (NULL: nothing)
 * and answer qmp_capabilities with the error object @caps_error (NULL: no
 * answer), and returns the connect error. */
static GError *
connect_failure(const char *script, const char *caps_error, gboolean close_peer)
{
    TestResult res = { 0 };
    int fd;
    g_autoptr(TestPeer) peer = test_peer_new(&fd);

    vnic_qmp_client_connect_fd_async(&fd, 300, NULL, test_connect_cb, &res);
    if (script != NULL)
        test_peer_send(peer, script);
    if (caps_error != NULL) {
        g_autoptr(JsonObject) caps = test_peer_next_command(peer);
        g_autofree char *text = g_strdup_printf("{\"error\": %s, \"id\": \"%s\"}\r\n",
                                                caps_error,
                                                json_object_get_string_member(caps, "id"));
        test_peer_send(peer, text);
    }
    if (close_peer)
        test_peer_close(peer);
    test_run_until(&res.done);
    g_assert_null(res.client);
    /* The client hung up: the peer sees EOF. */
    if (!close_peer)
        test_run_until(&peer->eof);
    return res.error;
}

static void
test_connect_errors(void)
{
    g_autoptr(GError) not_greeting = connect_failure("{\"return\": {}}\r\n", NULL, FALSE);
    g_autoptr(GError) refused = connect_failure(
        TEST_GREETING, "{\"class\": \"GenericError\", \"desc\": \"no\"}", FALSE);
    g_autoptr(GError) eof = connect_failure(NULL, NULL, TRUE);
    g_autoptr(GError) silent = connect_failure(NULL, NULL, FALSE);
    g_autoptr(GError) silent_caps = connect_failure(TEST_GREETING, NULL, FALSE);

    g_assert_error(not_greeting, VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL);
    g_assert_error(refused, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CONNECT);
    g_assert_nonnull(strstr(refused->message, "no"));
    g_assert_error(eof, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
    g_assert_error(silent, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT);
    g_assert_error(silent_caps, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT);
}

static void
test_connect_bad_fd(void)
{
    TestResult res = { 0 };
    int p[2];

    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    vnic_qmp_client_connect_fd_async(&p[0], 0, NULL, test_connect_cb, &res);
    g_assert_cmpint(p[0], ==, -1);
    test_run_until(&res.done);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CONNECT);
    test_result_clear(&res);
    close(p[1]);
}

static void
test_connect_cancel(void)
{
    TestResult res = { 0 };
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    int fd;
    g_autoptr(TestPeer) peer = test_peer_new(&fd);

    vnic_qmp_client_connect_fd_async(&fd, 0, cancellable, test_connect_cb, &res);
    test_run_for(20);
    g_cancellable_cancel(cancellable);
    test_run_until(&res.done);
    g_assert_error(res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    test_result_clear(&res);
}

static void
test_connect_path(void)
{
    g_autofree char *dir = g_dir_make_tmp("vnic-qmp-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing.sock", NULL);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    TestResult res = { 0 };
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(JsonObject) caps = NULL;
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), fd = -1;

    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(bind(lfd, (struct sockaddr *) &sun, sizeof(sun)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);

    vnic_qmp_client_connect_async(missing, 1000, NULL, test_connect_cb, &res);
    test_run_until(&res.done);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CONNECT);
    g_assert_nonnull(strstr(res.error->message, "missing.sock"));
    test_result_clear(&res);

    vnic_qmp_client_connect_async(path, 5000, NULL, test_connect_cb, &res);
    while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
        g_assert_cmpint(errno, ==, EAGAIN);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    peer = test_peer_new_for_fd(fd);
    test_peer_send(peer, TEST_GREETING);
    caps = test_peer_next_command(peer);
    test_peer_reply(peer, caps, "{}");
    test_run_until(&res.done);
    g_assert_no_error(res.error);
    test_result_clear(&res);
    test_run_until(&peer->eof);

    close(lfd);
    g_unlink(path);
    g_rmdir(dir);
}

static void
test_command(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) args = test_json_object("{\"id\": \"net0\", \"up\": false}");
    g_autoptr(JsonObject) cmd = NULL;
    TestResult res = { 0 };

    vnic_qmp_client_execute_async(client, "set_link", args, NULL, 0, 0, NULL,
                                  test_execute_cb, &res);
    cmd = test_peer_next_command(peer);
    g_assert_cmpstr(json_object_get_string_member(cmd, "execute"), ==, "set_link");
    g_assert_cmpstr(json_object_get_string_member(
                        json_object_get_object_member(cmd, "arguments"), "id"), ==, "net0");
    test_peer_reply(peer, cmd, "{\"answer\": 42}");
    test_run_until(&res.done);
    g_assert_no_error(res.error);
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(res.value), "answer"), ==, 42);
    test_result_clear(&res);
}

static void
test_command_error(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) cmd = NULL;
    g_autoptr(GError) copy = NULL;
    g_autofree char *reply = NULL;
    TestResult res = { 0 };

    vnic_qmp_client_execute_async(client, "device_del", NULL, NULL, 0, 0, NULL,
                                  test_execute_cb, &res);
    cmd = test_peer_next_command(peer);
    g_assert_false(json_object_has_member(cmd, "arguments"));
    reply = g_strdup_printf("{\"id\": \"%s\", \"error\": {\"class\": \"DeviceNotFound\", "
                            "\"desc\": \"Device 'x' not found\"}}\r\n",
                            json_object_get_string_member(cmd, "id"));
    test_peer_send(peer, reply);
    test_run_until(&res.done);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_COMMAND);
    g_assert_cmpstr(res.error->message, ==, "device_del: Device 'x' not found");
    g_assert_cmpstr(vnic_qmp_error_get_class(res.error), ==, "DeviceNotFound");
    copy = g_error_copy(res.error);
    g_prefix_error(&copy, "unplugging: ");
    g_assert_cmpstr(vnic_qmp_error_get_class(copy), ==, "DeviceNotFound");
    g_assert_false(vnic_qmp_client_is_closed(client));
    test_result_clear(&res);
}

static void
test_out_of_order(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) cmd_a = NULL, cmd_b = NULL;
    TestResult a = { 0 }, b = { 0 };

    vnic_qmp_client_execute_async(client, "a", NULL, NULL, 0, 0, NULL, test_execute_cb, &a);
    vnic_qmp_client_execute_async(client, "b", NULL, NULL, 0, 0, NULL, test_execute_cb, &b);
    cmd_a = test_peer_next_command(peer);
    cmd_b = test_peer_next_command(peer);
    g_assert_cmpstr(json_object_get_string_member(cmd_a, "execute"), ==, "a");
    g_assert_cmpstr(json_object_get_string_member(cmd_a, "id"), !=,
                    json_object_get_string_member(cmd_b, "id"));
    test_peer_reply(peer, cmd_b, "\"for b\"");
    test_run_until(&b.done);
    g_assert_false(a.done);
    test_peer_reply(peer, cmd_a, "\"for a\"");
    test_run_until(&a.done);
    g_assert_cmpstr(json_node_get_string(a.value), ==, "for a");
    g_assert_cmpstr(json_node_get_string(b.value), ==, "for b");
    test_result_clear(&a);
    test_result_clear(&b);
}

typedef struct {
    GPtrArray *log;
    guint self_removing_id;
    guint notified;
} EventLog;

static void
log_event(VnicQmpClient *client, const char *event, JsonObject *data, gint64 timestamp_us,
          gpointer user_data)
{
    EventLog *log = user_data;

    g_ptr_array_add(log->log, g_strdup_printf("event %s n=%" G_GINT64_FORMAT " t=%" G_GINT64_FORMAT,
                                              event,
                                              json_object_get_int_member_with_default(data, "n", -1),
                                              timestamp_us));
}

static void
log_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
    EventLog *log = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) value = vnic_qmp_client_execute_finish(result, &error);

    g_assert_no_error(error);
    g_ptr_array_add(log->log, g_strdup_printf("reply %s", json_node_get_string(value)));
}

static void
remove_self(VnicQmpClient *client, const char *event, JsonObject *data, gint64 timestamp_us,
            gpointer user_data)
{
    EventLog *log = user_data;

    g_ptr_array_add(log->log, g_strdup_printf("once %s", event));
    vnic_qmp_client_remove_event_handler(client, log->self_removing_id);
}

static void
log_notify(gpointer data)
{
    ((EventLog *) data)->notified++;
}

static const char *const expected_log[] = {
    "event A n=1 t=1000002", "once A", "reply b",
    "event B n=2 t=0", "only B", "reply a", "event C n=-1 t=0",
};

static void
only_b(VnicQmpClient *client, const char *event, JsonObject *data, gint64 timestamp_us,
       gpointer user_data)
{
    g_ptr_array_add(((EventLog *) user_data)->log, g_strdup_printf("only %s", event));
}

static void
test_events(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) cmd_a = NULL, cmd_b = NULL;
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    EventLog log = { g_ptr_array_new_with_free_func(g_free), 0, 0 };
    g_autofree char *script = NULL;

    vnic_qmp_client_add_event_handler(client, NULL, log_event, &log, log_notify);
    log.self_removing_id = vnic_qmp_client_add_event_handler(client, NULL, remove_self, &log,
                                                             log_notify);
    vnic_qmp_client_add_event_handler(client, "B", only_b, &log, log_notify);
    vnic_qmp_client_execute_async(client, "a", NULL, NULL, 0, 0, NULL, log_reply, &log);
    vnic_qmp_client_execute_async(client, "b", NULL, NULL, 0, 0, NULL, log_reply, &log);
    cmd_a = test_peer_next_command(peer);
    cmd_b = test_peer_next_command(peer);
    /* One write: all of it is dispatched from one read. */
    script = g_strdup_printf(
        "{\"event\": \"A\", \"data\": {\"n\": 1}, "
        "\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n"
        "{\"return\": \"b\", \"id\": \"%s\"}\r\n"
        "{\"event\": \"B\", \"data\": {\"n\": 2}}\r\n"
        "{\"return\": \"a\", \"id\": \"%s\"}\r\n"
        "{\"event\": \"C\"}\r\n",
        json_object_get_string_member(cmd_b, "id"), json_object_get_string_member(cmd_a, "id"));
    test_peer_send(peer, script);
    while (log.log->len < G_N_ELEMENTS(expected_log))
        g_main_context_iteration(NULL, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(expected_log); i++)
        g_assert_cmpstr(g_ptr_array_index(log.log, i), ==, expected_log[i]);
    g_assert_cmpuint(log.notified, ==, 1); /* the self-removed handler */
    g_clear_pointer(&client, vnic_qmp_client_free);
    g_assert_cmpuint(log.notified, ==, 3);
    g_ptr_array_unref(log.log);
}

/* Each line breaks the protocol: the waiter gets PROTOCOL, the close func
 * runs once, the socket is closed and later commands get CLOSED. */
static const char *const bad_lines[] = {
    "{\"return\": oops}\r\n",
    "[1, 2]\r\n",
    "{\"return\": {}, \"id\": \"vnic-999\"}\r\n",
    "{\"return\": {}}\r\n",
    "{\"error\": {\"desc\": \"no class\"}, \"id\": \"vnic-2\"}\r\n",
    "{\"event\": 7}\r\n",
    "{\"hello\": 1}\r\n",
    "{\"QMP\": {}}\r\n",
};

static void
on_close(VnicQmpClient *client, const GError *reason, gpointer user_data)
{
    GError **out = user_data;

    g_assert_null(*out);
    *out = g_error_copy(reason);
}

static void
test_protocol_errors(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
        g_autoptr(TestPeer) peer = NULL;
        g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
        g_autoptr(JsonObject) cmd = NULL;
        g_autoptr(GError) closed = NULL;
        TestResult res = { 0 };

        vnic_qmp_client_set_close_func(client, on_close, &closed, NULL);
        vnic_qmp_client_execute_async(client, "x", NULL, NULL, 0, 0, NULL, test_execute_cb, &res);
        cmd = test_peer_next_command(peer);
        g_assert_cmpstr(json_object_get_string_member(cmd, "id"), ==, "vnic-2");
        test_peer_send(peer, bad_lines[i]);
        test_run_until(&res.done);
        g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL);
        g_assert_error(closed, VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL);
        g_assert_true(vnic_qmp_client_is_closed(client));
        test_run_until(&peer->eof);
        test_result_clear(&res);
        test_execute(client, "y", NULL, NULL, 0, 0, &res);
        g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED);
        test_result_clear(&res);
    }
}

/* A reply of exactly @len bytes, "\r\n" included. */
static char *
reply_of_length(JsonObject *cmd, gsize len)
{
    g_autofree char *head = g_strdup_printf("{\"id\": \"%s\", \"return\": \"",
                                            json_object_get_string_member(cmd, "id"));
    gsize pad = len - strlen(head) - strlen("\"}\r\n");
    g_autofree char *fill = g_strnfill(pad, 'x');

    return g_strconcat(head, fill, "\"}\r\n", NULL);
}

static void
test_too_large(void)
{
    for (guint i = 0; i < 3; i++) {
        g_autoptr(TestPeer) peer = NULL;
        g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
        g_autoptr(JsonObject) cmd = NULL;
        g_autofree char *text = NULL;
        TestResult res = { 0 };

        vnic_qmp_client_set_max_message_size(client, 1024);
        vnic_qmp_client_execute_async(client, "x", NULL, NULL, 0, 0, NULL, test_execute_cb, &res);
        cmd = test_peer_next_command(peer);
        /* At the limit; one byte over in one line; over and unfinished. */
        text = i == 0 ? reply_of_length(cmd, 1024) : i == 1 ? reply_of_length(cmd, 1025)
                                                            : g_strnfill(1024, ' ');
        test_peer_send(peer, text);
        test_run_until(&res.done);
        if (i == 0) {
            g_assert_no_error(res.error);
            g_assert_cmpuint(strlen(json_node_get_string(res.value)), >, 900);
        } else {
            g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TOO_LARGE);
            test_run_until(&peer->eof);
        }
        test_result_clear(&res);
    }
}

static gpointer
flood(gpointer data)
{
    TestPeer *peer = data;
    g_autofree char *chunk = g_strnfill(1 << 20, 'x');
    gsize sent = 0;

    /* Until the client hangs up (EPIPE/ECONNRESET), or 32 MiB. */
    while (sent < 32u << 20) {
        ssize_t n = send(peer->fd, chunk, 1 << 20, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (gsize) n;
    }
    return GSIZE_TO_POINTER(sent);
}

static void
test_too_large_default(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) cmd = NULL;
    TestResult res = { 0 };
    GThread *thread;
    gsize sent;

    vnic_qmp_client_execute_async(client, "x", NULL, NULL, 0, 0, NULL, test_execute_cb, &res);
    cmd = test_peer_next_command(peer);
    test_peer_send(peer, "{\"return\": \"");
    thread = g_thread_new("flood", flood, peer);
    test_run_until(&res.done);
    g_assert_error(res.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TOO_LARGE);
    sent = GPOINTER_TO_SIZE(g_thread_join(thread));
    g_assert_cmpuint(sent, >=, VNIC_QMP_DEFAULT_MAX_MESSAGE - 64);
    g_assert_cmpuint(sent, <, 32u << 20);
    test_result_clear(&res);
}

/* A line nested a million levels deep is a protocol error, not a stack
 * overflow in json-glib; QEMU's real nesting parses. */
static void
test_parse_nesting(void)
{
    g_autoptr(GString) deep = g_string_new("{\"return\":");
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ok = NULL;
    JsonObject *bad;
    const char *real = "{\"return\":[{\"bus\":0,\"devices\":[{\"id\":\"[[[\",\"bars\":[{\"a\":1}]}]}]}";

    for (int i = 0; i < 1000000; i++)
        g_string_append_c(deep, '[');
    bad = vnic_qmp_parse_message(deep->str, deep->len, &error);
    g_assert_null(bad);
    g_assert_error(error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(error->message, "nested deeper"));
    g_clear_error(&error);
    ok = vnic_qmp_parse_message(real, strlen(real), &error);
    g_assert_no_error(error);
    g_assert_true(json_object_has_member(ok, "return"));
}

/* What JsonParser makes of @line: its object's text and its members'
 * value types, or NULL when it refuses the line. */
static char *
parser_view(const char *line)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;

    if (!json_parser_load_from_data(parser, line, -1, NULL))
        return NULL;
    root = json_parser_get_root(parser);
    return JSON_NODE_HOLDS_OBJECT(root) ? json_to_string(root, FALSE) : NULL;
}

static char *
plain_view(JsonObject *object)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);

    return json_to_string(node, FALSE);
}

/* The plain-JSON reader (qmp-client-json.c) gives JsonParser's nodes for
 * what it takes, and leaves all else to JsonParser. */
static void
test_parse_plain(void)
{
    const char *same[] = {
        "{\"return\": {}, \"id\": \"vnic-34\"}\r\n",
        "{\"timestamp\": {\"seconds\": 1701525136, \"microseconds\": 449512}, \"event\": "
        "\"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral/net2/virtio-backend\"}}",
        "{\"return\": [{\"a\": -12, \"b\": [true, false, null, []], \"c\": \"x\\\"y\\\\z\\n\\/\"}]}",
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, "
        "\"capabilities\": [\"oob\"]}}",
        "{\"return\": \"caf\xc3\xa9\", \"n\": 0, \"m\": 999999999999999999}",
        "  {}  ",
    };
    const char *elsewhere[] = {
        "{\"return\": 1.5}", "{\"return\": 1e3}", "{\"s\": \"\\u00e9\"}",
        "{\"a\": 1, \"a\": 2}", "{\"a\": 0123}", "{\"a\": -0}", "{\"a\": 1234567890123456789}",
        "{\"a\": tru}", "{\"a\": truex}", "{\"a\": \"tab\there\"}", "{\"a\": \"\xff\"}",
        "{\"a\": 1,}", "{\"a\" 1}", "{\"a\": 1} x", "[1]", "{\"a\": [1,]}", "{\"a\": \"open",
        "{'a': 1}",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(same); i++) {
        g_autoptr(JsonObject) plain = vnic_json_parse_plain(same[i], strlen(same[i]));
        g_autofree char *expected = parser_view(same[i]);
        g_autofree char *got = NULL;

        g_assert_nonnull(plain);
        got = plain_view(plain);
        g_assert_cmpstr(got, ==, expected);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(elsewhere); i++)
        g_assert_null(vnic_json_parse_plain(elsewhere[i], strlen(elsewhere[i])));
}

static char *
generator_text(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();

    json_generator_set_root(gen, node);
    return json_generator_to_data(gen, NULL);
}

/* vnic's writer (qmp-client-json.c): JSON that JsonParser reads back as
 * what was written, every byte of a string included, with each control
 * character escaped (JsonGenerator leaves 0x1f raw); doubles too. */
static void
test_write_plain(void)
{
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(JsonObject) inner = json_object_new();
    g_autoptr(JsonArray) array = json_array_new();
    g_autoptr(GString) all = g_string_new(NULL);
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *expected = NULL, *got = NULL;
    g_autoptr(GError) error = NULL;

    /* every ASCII byte, and UTF-8 beyond (JsonParser refuses invalid UTF-8) */
    for (int c = 1; c < 128; c++)
        g_string_append_c(all, (char)c);
    g_string_append(all, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xa7");
    json_object_set_string_member(inner, "driver", "virtio-net-pci");
    json_object_set_int_member(inner, "acpi-index", -7);
    json_object_set_boolean_member(inner, "x-up", FALSE);
    json_object_set_null_member(inner, "nothing");
    json_object_set_double_member(inner, "ratio", 0.5);
    json_array_add_int_element(array, G_MAXINT64);
    json_array_add_string_element(array, "caf\xc3\xa9 \"q\" \\ /");
    json_array_add_object_element(array, json_object_new());
    json_array_add_array_element(array, json_array_new());
    json_object_set_string_member(obj, "execute", "device_add");
    json_object_set_object_member(obj, "arguments", json_object_ref(inner));
    json_object_set_array_member(obj, "list", json_array_ref(array));
    json_object_set_string_member(obj, all->str, all->str);
    json_object_set_boolean_member(obj, "yes", TRUE);
    root = json_node_init_object(json_node_alloc(), obj);
    vnic_json_append(out, root);
    for (gsize i = 0; i < out->len; i++)
        g_assert_cmpuint((guchar)out->str[i], >=, 0x20); /* every control escaped */
    g_assert_true(json_parser_load_from_data(parser, out->str, (gssize)out->len, &error));
    g_assert_no_error(error);
    expected = generator_text(root);
    got = generator_text(json_parser_get_root(parser));
    g_assert_cmpstr(got, ==, expected);
    g_assert_nonnull(strstr(out->str, "\"acpi-index\":-7,\"x-up\":false,\"nothing\":null"));
}

void
test_qmp_fake_register(void)
{
    g_test_add_func("/qmp/errors/codes", test_error_codes);
    g_test_add_func("/qmp/parse/nesting", test_parse_nesting);
    g_test_add_func("/qmp/parse/plain", test_parse_plain);
    g_test_add_func("/qmp/write/plain", test_write_plain);
    test_add_fd_checked("/qmp/fake/handshake", test_handshake);
    test_add_fd_checked("/qmp/fake/connect-errors", test_connect_errors);
    test_add_fd_checked("/qmp/fake/connect-bad-fd", test_connect_bad_fd);
    test_add_fd_checked("/qmp/fake/connect-cancel", test_connect_cancel);
    test_add_fd_checked("/qmp/fake/connect-path", test_connect_path);
    test_add_fd_checked("/qmp/fake/command", test_command);
    test_add_fd_checked("/qmp/fake/command-error", test_command_error);
    test_add_fd_checked("/qmp/fake/out-of-order", test_out_of_order);
    test_add_fd_checked("/qmp/fake/events", test_events);
    test_add_fd_checked("/qmp/fake/protocol-errors", test_protocol_errors);
    test_add_fd_checked("/qmp/fake/too-large", test_too_large);
    test_add_fd_checked("/qmp/fake/too-large-default", test_too_large_default);
}
