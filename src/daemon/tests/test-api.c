/* test-api.c: the API server against clients that misbehave.
 *
 * Runs the server in-process with a small command table and talks to it
 * over its real unix socket from a client thread, the way any client
 * would: bad JSON, unknown commands, wrong argument types, a 10 MB line,
 * pipelined requests finishing out of order, the read-only socket. */
#include "daemon/daemon-api.h"
#include "daemon/daemon-error.h"
#include "daemon/daemon.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
    GMainLoop *loop;
    char *dir;
    char *rw_path;
    char *ro_path;
    GPtrArray *replies;       /* lines the client read */
    GThreadFunc script;
    VnicApiServer *server;
    const VnicApiLimits *limits;  /* NULL: the defaults */
} Fixture;

static Fixture *current;

static gboolean
finish_later(gpointer data)
{
    VnicApiRequest *request = data;
    JsonObject *ret = json_object_new();

    json_object_set_string_member(ret, "slow", "done");
    vnic_api_request_return_object(request, ret);
    return G_SOURCE_REMOVE;
}

static void
cmd_slow(VnicApiRequest *request, gpointer data)
{
    g_timeout_add(100, finish_later, request);
}

static void
cmd_echo(VnicApiRequest *request, gpointer data)
{
    const char *text = NULL;
    gint64 n = 0;
    GError *error = NULL;
    JsonObject *ret;

    if (!vnic_api_arg_string(request, "text", TRUE, &text, &error) ||
        !vnic_api_arg_int(request, "n", 0, 10, &n, &error)) {
        vnic_api_request_error(request, error);
        g_error_free(error);
        return;
    }
    ret = json_object_new();
    json_object_set_string_member(ret, "text", text);
    json_object_set_int_member(ret, "n", n);
    vnic_api_request_return_object(request, ret);
}

static void
cmd_poke(VnicApiRequest *request, gpointer data)
{
    vnic_api_request_subscribe(request);
    vnic_api_request_return(request, NULL);
    vnic_api_server_emit(current->server, "POKED", json_object_new());
}

/* Emits 64 events of 32 KiB each: 2 MiB for a subscriber that does not read. */
static void
cmd_flood(VnicApiRequest *request, gpointer data)
{
    g_autofree char *filler = g_strnfill(32 * 1024, 'e');

    vnic_api_request_return(request, NULL);
    for (int i = 0; i < 64; i++) {
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "filler", filler);
        vnic_api_server_emit(current->server, "FLOOD", o);
    }
}

static void
cmd_describe(VnicApiRequest *request, gpointer data)
{
    vnic_api_request_return_object(request, vnic_api_request_describe_commands(request));
}

static const VnicApiArg echo_args[] = {
    { "text", VNIC_API_ARG_STRING, TRUE },
    { "n", VNIC_API_ARG_INT, FALSE },
    { "loud", VNIC_API_ARG_BOOL, FALSE },
    { NULL, 0, FALSE },
};

static const VnicApiCommand commands[] = {
    { "echo", cmd_echo, TRUE, echo_args },
    { "slow", cmd_slow, TRUE, NULL },
    { "poke", cmd_poke, FALSE, NULL },
    { "flood", cmd_flood, FALSE, NULL },
    { "query-commands", cmd_describe, TRUE, NULL },
};

/* ---- the client side (a thread, blocking I/O) -------------------------- */

static GSocketConnection *
client_connect(const char *path)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    GSocketConnection *conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, NULL);

    g_assert_nonnull(conn);
    return conn;
}

static void
client_send(GSocketConnection *conn, const char *text, gsize len)
{
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_autoptr(GError) error = NULL;

    g_output_stream_write_all(out, text, len, NULL, NULL, &error);
    g_assert_no_error(error);
}

static char *
client_read_line(GSocketConnection *conn)
{
    GInputStream *raw = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    GString *line = g_string_new(NULL);
    char c;

    g_autoptr(GError) error = NULL;
    gssize n;

    while ((n = g_input_stream_read(raw, &c, 1, NULL, &error)) == 1 && c != '\n')
        g_string_append_c(line, c);
    if (n < 0)
        g_error("reading a reply: %s", error->message);
    return g_string_free(line, FALSE);
}

static void
expect(GSocketConnection *conn, const char *needle)
{
    g_autofree char *line = client_read_line(conn);

    if (!strstr(line, needle))
        g_error("reply '%s' lacks '%s'", line, needle);
}

static gpointer
script_hostile(gpointer data)
{
    GSocketConnection *conn = client_connect(current->rw_path);
    gsize big = 10 * 1024 * 1024;
    char *huge = g_malloc(big + 1);

    client_send(conn, "this is not json\n", 17);
    expect(conn, "\"class\":\"InvalidRequest\"");
    client_send(conn, "[1,2]\n", 6);
    expect(conn, "InvalidRequest");
    client_send(conn, "{\"execute\":\"nope\",\"id\":3}\n", 26);
    expect(conn, "\"class\":\"CommandNotFound\"");
    client_send(conn, "{\"execute\":\"echo\",\"arguments\":{\"text\":5},\"id\":4}\n", 49);
    expect(conn, "InvalidArguments");
    client_send(conn, "{\"execute\":\"echo\",\"arguments\":{\"text\":\"x\",\"n\":99}}\n", 51);
    expect(conn, "between 0 and 10");
    client_send(conn, "{\"execute\":\"echo\",\"arguments\":[]}\n", 34);
    expect(conn, "must be an object");
    /* a 10 MB line: refused once, the rest of it skipped */
    memset(huge, 'a', big);
    huge[big] = '\n';
    client_send(conn, huge, big + 1);
    expect(conn, "longer than");
    g_free(huge);
    /* and the connection still works */
    client_send(conn, "{\"execute\":\"echo\",\"arguments\":{\"text\":\"still here\"},\"id\":\"x\"}\n", 62);
    expect(conn, "\"return\":{\"text\":\"still here\",\"n\":0},\"id\":\"x\"");
    g_object_unref(conn);
    return NULL;
}

/* The reply line parses as JSON (an "inf.0" would not). */
static void
expect_json(GSocketConnection *conn, const char *needle)
{
    g_autofree char *line = client_read_line(conn);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;

    if (!json_parser_load_from_data(parser, line, -1, &error))
        g_error("reply '%.200s' is not JSON: %s", line, error->message);
    if (!strstr(line, needle))
        g_error("reply '%.200s' lacks '%s'", line, needle);
}

/* A line nested a million levels deep is refused before json-glib's
 * recursive parser sees it (it overflowed the stack); numbers JSON cannot
 * carry exactly, and a lone surrogate escape (which json-glib reads into
 * bytes that are not UTF-8), are refused with a reply that is itself JSON. */
static gpointer
script_limits(gpointer data)
{
    GSocketConnection *conn = client_connect(current->ro_path);
    gsize deep = 1000000;
    GString *line = g_string_new("{\"execute\":\"echo\",\"arguments\":{\"text\":\"x\",\"n\":");
    const char *inf_id = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"x\"},\"id\":1e400}\n";
    const char *big_id = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"x\"},\"id\":1152921504606846976}\n";
    const char *big_arg = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"x\",\"n\":-1e300000},\"id\":7}\n";
    const char *ok_id = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"[[[{\\\"\"},\"id\":9007199254740991}\n";
    const char *surrogate = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"\\udb33x\"},\"id\":8}\n";
    const char *surrogate_end = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"\\udb33\"},\"id\":8}\n";

    for (gsize i = 0; i < deep; i++)
        g_string_append_c(line, '[');
    g_string_append(line, "\n");
    client_send(conn, line->str, line->len);
    expect_json(conn, "nests deeper than 64 levels");
    g_string_free(line, TRUE);
    client_send(conn, inf_id, strlen(inf_id));
    expect_json(conn, "outside JSON's safe range");
    client_send(conn, big_id, strlen(big_id));
    expect_json(conn, "outside JSON's safe range");
    client_send(conn, big_arg, strlen(big_arg));
    expect_json(conn, "outside JSON's safe range");
    client_send(conn, surrogate, strlen(surrogate));
    expect_json(conn, "not valid UTF-8 (a lone surrogate escape)");
    /* json-glib refuses this one, quoting bytes that are not UTF-8 */
    client_send(conn, surrogate_end, strlen(surrogate_end));
    expect_json(conn, "request is not valid JSON");
    /* brackets in a string do not count; 2^53 - 1 is still fine */
    client_send(conn, ok_id, strlen(ok_id));
    expect_json(conn, "\"id\":9007199254740991");
    g_object_unref(conn);
    return NULL;
}

/* The reply writer's string escapes (daemon-api.c writes strings itself):
 * every character that must be escaped, the other control characters,
 * UTF-8 and a long run of plain text come back as they were sent, in a
 * reply line json-glib parses, for a text as big as dumpxml's. */
static gpointer
script_string_escapes(gpointer data)
{
    GSocketConnection *conn = client_connect(current->ro_path);
    GString *text = g_string_new("q\" bs\\ nl\n tab\t cr\r bf\b\f / \u00e9\u20ac <a b='c'>&amp;</a>");
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) req = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *line = NULL;
    g_autofree char *sent = NULL;
    JsonObject *ret;

    for (char c = 1; c < 0x20; c++)
        g_string_append_c(text, c);
    g_string_append_c(text, 0x7f);
    for (guint i = 0; i < 20000; i++)
        g_string_append(text, "plain ");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, "echo");
    json_builder_set_member_name(b, "arguments");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, text->str);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, "\"quoted\\id\"");
    json_builder_end_object(b);
    req = json_builder_get_root(b);
    json_generator_set_root(gen, req);
    sent = json_generator_to_data(gen, NULL);
    client_send(conn, sent, strlen(sent));
    client_send(conn, "\n", 1);
    line = client_read_line(conn);
    if (!json_parser_load_from_data(parser, line, -1, &error))
        g_error("reply '%.200s' is not JSON: %s", line, error->message);
    ret = json_object_get_object_member(json_node_get_object(json_parser_get_root(parser)),
                                        "return");
    g_assert_cmpstr(json_object_get_string_member(ret, "text"), ==, text->str);
    g_assert_cmpint(json_object_get_int_member(ret, "n"), ==, 0);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(json_parser_get_root(parser)),
                                                  "id"), ==, "\"quoted\\id\"");
    g_assert_true(g_str_has_prefix(line, "{\"return\":{\"text\":\"q\\\" bs\\\\ nl\\n tab\\t cr\\r bf\\b\\f / "));
    g_assert_nonnull(strstr(line, "\\u0001\\u0002"));
    g_string_free(text, TRUE);
    g_object_unref(conn);
    return NULL;
}

/* Connects as @uid: setresuid(2) by syscall changes only this thread's
 * credentials (glibc's wrapper would change every thread's), and the
 * server sees the euid of connect() (SO_PEERCRED). */
static GSocketConnection *
client_connect_as(const char *path, uid_t uid)
{
    GSocketConnection *conn;

    g_assert_cmpint(syscall(SYS_setresuid, -1, uid, -1), ==, 0);
    conn = client_connect(path);
    g_assert_cmpint(syscall(SYS_setresuid, -1, 0, -1), ==, 0);
    return conn;
}

static const char echo_line[] = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"hi\"}}\n";

/* An unprivileged uid gets max_per_uid connections, all of them together
 * max_unprivileged; root still gets in; idle connections are closed. */
static gpointer
script_connection_caps(gpointer data)
{
    GSocketConnection *held[8];
    GSocketConnection *extra, *root_conn;
    g_autofree char *line = NULL;

    for (int i = 0; i < 4; i++) {
        held[i] = client_connect_as(current->ro_path, 65534);
        client_send(held[i], echo_line, strlen(echo_line));
        expect(held[i], "\"return\"");
    }
    extra = client_connect_as(current->ro_path, 65534);
    expect(extra, "too many connections of this user");
    g_object_unref(extra);
    for (int i = 4; i < 6; i++) {
        held[i] = client_connect_as(current->ro_path, 65533);
        client_send(held[i], echo_line, strlen(echo_line));
        expect(held[i], "\"return\"");
    }
    extra = client_connect_as(current->ro_path, 65532);
    expect(extra, "too many connections of unprivileged users");
    g_object_unref(extra);
    /* root is counted apart */
    root_conn = client_connect(current->ro_path);
    client_send(root_conn, echo_line, strlen(echo_line));
    expect(root_conn, "\"return\"");
    /* idle for longer than the timeout: closed by the server (EOF) */
    g_usleep(1200 * 1000);
    line = client_read_line(held[0]);
    g_assert_cmpstr(line, ==, "");
    g_object_unref(root_conn);
    for (int i = 0; i < 6; i++)
        g_object_unref(held[i]);
    /* and their slots are free again */
    extra = client_connect_as(current->ro_path, 65534);
    client_send(extra, echo_line, strlen(echo_line));
    expect(extra, "\"return\"");
    g_object_unref(extra);
    return NULL;
}

/* A client that sends 400 requests of 32 KiB replies each (12.5 MiB)
 * without reading: the server stops reading its requests at 64 KiB of
 * unsent output, so it is never dropped and gets every reply in order
 * once it reads. */
static gpointer
script_output_pause(gpointer data)
{
    GSocketConnection *conn = client_connect(current->rw_path);
    g_autofree char *filler = g_strnfill(32 * 1024, 'r');
    g_autofree char *req = g_strdup_printf(
        "{\"execute\":\"echo\",\"arguments\":{\"text\":\"%s\"}}\n", filler);
    GString *all = g_string_new(NULL);

    for (int i = 0; i < 400; i++)
        g_string_append(all, req);
    /* a thread writes while this one, after a pause, reads */
    {
        GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
        GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
        gsize written = 0;
        int replies = 0;
        g_autoptr(GError) error = NULL;

        g_socket_set_blocking(g_socket_connection_get_socket(conn), FALSE);
        /* write as much as the server takes: it stops taking */
        for (int tries = 0; tries < 200 && written < all->len; tries++) {
            gssize n = g_pollable_output_stream_write_nonblocking(
                G_POLLABLE_OUTPUT_STREAM(out), all->str + written, all->len - written, NULL, NULL);
            if (n > 0)
                written += (gsize)n;
            else
                g_usleep(10 * 1000);
        }
        g_assert_cmpuint(written, <, all->len);
        g_socket_set_blocking(g_socket_connection_get_socket(conn), TRUE);
        /* now read while writing the rest */
        while (replies < 400) {
            g_autofree char *line = NULL;
            if (written < all->len) {
                gssize n;
                g_socket_set_blocking(g_socket_connection_get_socket(conn), FALSE);
                n = g_pollable_output_stream_write_nonblocking(
                    G_POLLABLE_OUTPUT_STREAM(out), all->str + written, all->len - written, NULL, NULL);
                g_socket_set_blocking(g_socket_connection_get_socket(conn), TRUE);
                if (n > 0)
                    written += (gsize)n;
            }
            line = client_read_line(conn);
            g_assert_nonnull(strstr(line, "\"return\""));
            replies++;
        }
        g_assert_no_error(error);
        (void)in;
    }
    g_string_free(all, TRUE);
    g_object_unref(conn);
    return NULL;
}

/* A client that sends 400 requests and reads nothing holds its unsent
 * replies only for the idle timeout: then it is dropped, and what it
 * reads afterwards ends (EOF) long before 400 replies. */
static gpointer
script_stalled_reader(gpointer data)
{
    GSocketConnection *conn = client_connect(current->rw_path);
    g_autofree char *filler = g_strnfill(32 * 1024, 's');
    g_autofree char *req = g_strdup_printf(
        "{\"execute\":\"echo\",\"arguments\":{\"text\":\"%s\"}}\n", filler);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    char buf[65536];
    gsize total = 0;
    gssize n;

    g_socket_set_blocking(g_socket_connection_get_socket(conn), FALSE);
    for (int i = 0; i < 400; i++) {
        if (g_pollable_output_stream_write_nonblocking(G_POLLABLE_OUTPUT_STREAM(out), req,
                                                       strlen(req), NULL, NULL) <= 0)
            break;
    }
    g_socket_set_blocking(g_socket_connection_get_socket(conn), TRUE);
    g_usleep(1500 * 1000); /* > the 400 ms timeout plus a sweep */
    while ((n = g_input_stream_read(in, buf, sizeof buf, NULL, NULL)) > 0)
        total += (gsize)n;
    g_assert_cmpuint(total, <, 100u * 32 * 1024);
    g_object_unref(conn);
    return NULL;
}

/* A subscriber that does not read while 2 MiB of events come is dropped
 * at 1 MiB unsent: what it reads ends (EOF) before all of them. */
static gpointer
script_output_drop(gpointer data)
{
    GSocketConnection *conn = client_connect(current->rw_path);
    const char *req = "{\"execute\":\"poke\"}\n{\"execute\":\"flood\"}\n";
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    char buf[65536];
    gsize total = 0;
    gssize n;

    client_send(conn, req, strlen(req));
    g_usleep(500 * 1000);
    while ((n = g_input_stream_read(in, buf, sizeof buf, NULL, NULL)) > 0)
        total += (gsize)n;
    g_assert_cmpuint(total, <, 64 * 32 * 1024);
    g_object_unref(conn);
    return NULL;
}

/* Arguments the command does not declare are refused by name, before
 * the handler runs; declared ones are type-checked. */
static gpointer
script_strict(gpointer data)
{
    GSocketConnection *conn = client_connect(current->rw_path);
    const char *typo = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"x\",\"confg\":true},\"id\":5}\n";
    const char *none = "{\"execute\":\"slow\",\"arguments\":{\"name\":\"a\"}}\n";
    const char *bool_type = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"x\",\"loud\":1}}\n";
    const char *missing = "{\"execute\":\"echo\",\"arguments\":{\"n\":1}}\n";
    const char *ok = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"x\",\"loud\":true}}\n";

    client_send(conn, typo, strlen(typo));
    expect(conn, "\"desc\":\"unknown argument 'confg' for command 'echo'\"},\"id\":5");
    client_send(conn, none, strlen(none));
    expect(conn, "unknown argument 'name' for command 'slow'");
    client_send(conn, bool_type, strlen(bool_type));
    expect(conn, "argument 'loud' of command 'echo' must be of type bool");
    client_send(conn, missing, strlen(missing));
    expect(conn, "missing argument 'text' for command 'echo'");
    client_send(conn, ok, strlen(ok));
    expect(conn, "\"return\":{\"text\":\"x\"");
    g_object_unref(conn);
    return NULL;
}

static gpointer
script_describe(gpointer data)
{
    GSocketConnection *conn = client_connect(current->ro_path);
    const char *q = "{\"execute\":\"query-commands\"}\n";
    g_autofree char *line = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonArray *list, *args;
    JsonObject *echo;

    client_send(conn, q, strlen(q));
    line = client_read_line(conn);
    g_assert_true(json_parser_load_from_data(parser, line, -1, &error));
    list = json_object_get_array_member(
        json_object_get_object_member(json_node_get_object(json_parser_get_root(parser)), "return"),
        "commands");
    g_assert_cmpuint(json_array_get_length(list), ==, G_N_ELEMENTS(commands));
    echo = json_array_get_object_element(list, 0);
    g_assert_cmpstr(json_object_get_string_member(echo, "name"), ==, "echo");
    g_assert_true(json_object_get_boolean_member(echo, "query"));
    args = json_object_get_array_member(echo, "arguments");
    g_assert_cmpuint(json_array_get_length(args), ==, 3);
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(args, 0), "type"),
                    ==, "string");
    g_assert_true(json_object_get_boolean_member(json_array_get_object_element(args, 0), "required"));
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(args, 2), "name"),
                    ==, "loud");
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
                         json_array_get_object_element(list, 2), "arguments")), ==, 0);
    g_object_unref(conn);
    return NULL;
}

static gpointer
script_order(gpointer data)
{
    GSocketConnection *conn = client_connect(current->rw_path);
    const char *two = "{\"execute\":\"slow\",\"id\":1}\n{\"execute\":\"echo\",\"arguments\":{\"text\":\"fast\"},\"id\":2}\n";

    client_send(conn, two, strlen(two));
    expect(conn, "\"id\":1");   /* the slow one first, although the fast one finished first */
    expect(conn, "\"id\":2");
    g_object_unref(conn);
    return NULL;
}

static gpointer
script_read_only(gpointer data)
{
    GSocketConnection *conn = client_connect(current->ro_path);
    const char *poke = "{\"execute\":\"poke\"}\n";
    const char *echo = "{\"execute\":\"echo\",\"arguments\":{\"text\":\"q\"}}\n";

    client_send(conn, poke, strlen(poke));
    expect(conn, "PermissionDenied");
    client_send(conn, echo, strlen(echo));
    expect(conn, "\"return\"");
    g_object_unref(conn);
    return NULL;
}

static gpointer
script_events(gpointer data)
{
    GSocketConnection *conn = client_connect(current->rw_path);
    const char *poke = "{\"execute\":\"poke\",\"id\":9}\n";

    client_send(conn, poke, strlen(poke));
    expect(conn, "\"id\":9");
    expect(conn, "\"event\":\"POKED\"");
    g_object_unref(conn);
    return NULL;
}

static gboolean
quit_when_done(gpointer data)
{
    g_main_loop_quit(current->loop);
    return G_SOURCE_REMOVE;
}

static gpointer
run_script(gpointer data)
{
    current->script(NULL);
    g_idle_add(quit_when_done, NULL);
    return NULL;
}

static void
run_limited(GThreadFunc script, const VnicApiLimits *limits)
{
    Fixture f = { 0 };
    g_autoptr(GError) error = NULL;
    GThread *thread;

    current = &f;
    f.dir = g_dir_make_tmp("vnic-api-XXXXXX", NULL);
    g_chmod(f.dir, 0755); /* clients of other uids reach the read-only socket */
    f.rw_path = g_build_filename(f.dir, "api.sock", NULL);
    f.ro_path = g_build_filename(f.dir, "api-ro.sock", NULL);
    f.loop = g_main_loop_new(NULL, FALSE);
    f.script = script;
    f.server = vnic_api_server_new(commands, G_N_ELEMENTS(commands), NULL);
    if (limits)
        vnic_api_server_set_limits(f.server, limits);
    g_assert_true(vnic_api_server_listen(f.server, f.rw_path, FALSE, 0600, &error));
    g_assert_true(vnic_api_server_listen(f.server, f.ro_path, TRUE, 0666, &error));
    vnic_api_server_start(f.server);
    thread = g_thread_new("client", run_script, NULL);
    g_main_loop_run(f.loop);
    g_thread_join(thread);
    vnic_api_server_free(f.server);
    g_assert_false(g_file_test(f.rw_path, G_FILE_TEST_EXISTS)); /* sockets removed */
    g_rmdir(f.dir);
    g_free(f.rw_path);
    g_free(f.ro_path);
    g_free(f.dir);
    g_main_loop_unref(f.loop);
}

static void
run(GThreadFunc script)
{
    run_limited(script, NULL);
}

static const VnicApiLimits tight = {
    .max_per_uid = 4, .max_unprivileged = 6, .max_privileged = 8, .idle_timeout_ms = 400,
    .max_pending = 4, .output_pause = 64 * 1024, .output_drop = 1024 * 1024,
};

/* The same with time for a client that reads late but reads. */
static const VnicApiLimits tight_patient = {
    .max_per_uid = 4, .max_unprivileged = 6, .max_privileged = 8, .idle_timeout_ms = 10000,
    .max_pending = 4, .output_pause = 64 * 1024, .output_drop = 1024 * 1024,
};

static void test_hostile(void) { run(script_hostile); }
static void test_order(void) { run(script_order); }
static void test_strict(void) { run(script_strict); }
static void test_describe(void) { run(script_describe); }
static void test_read_only(void) { run(script_read_only); }
static void test_events(void) { run(script_events); }
static void test_limits(void) { run(script_limits); }
static void test_string_escapes(void) { run(script_string_escapes); }
static void test_connection_caps(void) { run_limited(script_connection_caps, &tight); }
static void test_output_pause(void) { run_limited(script_output_pause, &tight_patient); }
static void test_output_drop(void) { run_limited(script_output_drop, &tight); }
static void test_stalled_reader(void) { run_limited(script_stalled_reader, &tight); }

/* docs/api.md's command tables name every command vnicd serves, and in
 * that command's row every argument it accepts: the strict argument
 * check makes the table the contract, so the doc must not drift. */
static void
test_doc_lists_arguments(void)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_ROOT, "docs", "api.md", NULL);
    g_autofree char *doc = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_get_contents(path, &doc, NULL, &error));
    for (gsize i = 0; i < vnic_daemon_n_commands; i++) {
        const VnicApiCommand *cmd = &vnic_daemon_commands[i];
        g_autofree char *start = g_strdup_printf("\n| `%s` |", cmd->name);
        const char *row = strstr(doc, start);
        g_autofree char *line = NULL;

        if (!row)
            g_error("docs/api.md has no table row for command '%s'", cmd->name);
        row++;
        line = g_strndup(row, strcspn(row, "\n"));
        for (const VnicApiArg *a = cmd->args; a && a->name; a++) {
            g_autofree char *quoted = g_strdup_printf("`%s`", a->name);
            if (!strstr(line, quoted))
                g_error("docs/api.md's row of '%s' does not mention its argument '%s'", cmd->name, a->name);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/api/hostile-requests", test_hostile);
    g_test_add_func("/api/replies-in-order", test_order);
    g_test_add_func("/api/unknown-arguments", test_strict);
    g_test_add_func("/api/query-commands", test_describe);
    g_test_add_func("/api/doc-lists-arguments", test_doc_lists_arguments);
    g_test_add_func("/api/read-only-socket", test_read_only);
    g_test_add_func("/api/events", test_events);
    g_test_add_func("/api/json-limits", test_limits);
    g_test_add_func("/api/string-escapes", test_string_escapes);
    g_test_add_func("/api/connection-caps", test_connection_caps);
    g_test_add_func("/api/output-pause", test_output_pause);
    g_test_add_func("/api/output-drop", test_output_drop);
    g_test_add_func("/api/stalled-reader-dropped", test_stalled_reader);
    return g_test_run();
}
