/* daemon-api.c: listening sockets, connections, framing, dispatch.
 *
 * Each connection reads into a bounded buffer and cuts it into lines; a
 * line over VNIC_API_MAX_LINE is answered with InvalidRequest and skipped up
 * to its newline, so one hostile client costs at most that much memory and
 * never stops the daemon.  Requests queue per connection and their replies
 * are written in order; writes are asynchronous so a client that does not
 * read only stalls itself.  Connections are reference counted: requests
 * being worked on hold a reference, so a handler may finish after its
 * client has gone.
 */
#include "daemon/daemon-api-priv.h"

#include "daemon/daemon-error.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536

static void connection_read(ApiConnection *c);
static void connection_flush(ApiConnection *c);

static ApiConnection *
connection_ref(ApiConnection *c)
{
    c->refs++;
    return c;
}

static void
connection_unref(ApiConnection *c)
{
    if (--c->refs > 0)
        return;
    g_clear_object(&c->cancel);
    g_clear_object(&c->conn);
    g_byte_array_unref(c->inbuf);
    g_string_free(c->outbuf, TRUE);
    g_free(c->outbuf_inflight);
    g_free(c);
}

static void
request_free(VnicApiRequest *r)
{
    if (r->id)
        json_node_unref(r->id);
    if (r->args)
        json_object_unref(r->args);
    g_free(r->command);
    g_free(r->reply);
    connection_unref(r->conn);
    g_free(r);
}

/* Stops reading and writing, drops queued requests' claim on the socket.
 * Handlers still running keep their request (and a reference) and finish
 * into nothing. */
static void
connection_close(ApiConnection *c)
{
    if (c->closed)
        return;
    c->closed = TRUE;
    g_cancellable_cancel(c->cancel);
    g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    if (c->server)
        c->server->connections = g_list_remove(c->server->connections, c);
    c->server = NULL;
    while (!g_queue_is_empty(&c->pending)) {
        VnicApiRequest *r = g_queue_pop_head(&c->pending);
        if (r->completed)
            request_free(r);
        else
            r->orphaned = TRUE;
    }
    connection_unref(c);
}

static char *
json_line(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *text = NULL;

    json_generator_set_root(gen, node);
    text = json_generator_to_data(gen, NULL);
    return g_strconcat(text, "\n", NULL);
}

static void
write_done(GObject *source, GAsyncResult *res, gpointer data)
{
    ApiConnection *c = data;
    g_autoptr(GError) error = NULL;

    c->writing = FALSE;
    g_clear_pointer(&c->outbuf_inflight, g_free);
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
        g_debug("api: write failed: %s", error->message);
        connection_close(c);
    } else if (!c->closed) {
        connection_flush(c);
    }
    connection_unref(c);
}

/* Moves completed replies at the head of the queue into the output buffer
 * and starts a write when none is under way. */
static void
connection_flush(ApiConnection *c)
{
    GOutputStream *out;

    while (!c->closed && !g_queue_is_empty(&c->pending) &&
           ((VnicApiRequest *)g_queue_peek_head(&c->pending))->completed) {
        VnicApiRequest *r = g_queue_pop_head(&c->pending);
        g_string_append(c->outbuf, r->reply);
        request_free(r);
    }
    if (c->closed || c->writing || c->outbuf->len == 0)
        return;
    c->writing = TRUE;
    c->outbuf_len = c->outbuf->len;
    c->outbuf_inflight = g_string_free(g_steal_pointer(&c->outbuf), FALSE);
    c->outbuf = g_string_new(NULL);
    out = g_io_stream_get_output_stream(G_IO_STREAM(c->conn));
    g_output_stream_write_all_async(out, c->outbuf_inflight, c->outbuf_len, G_PRIORITY_DEFAULT,
                                    c->cancel, write_done, connection_ref(c));
}

static void
complete(VnicApiRequest *r, JsonNode *message)
{
    JsonObject *obj = json_node_get_object(message);

    g_return_if_fail(!r->completed);
    if (r->id)
        json_object_set_member(obj, "id", json_node_ref(r->id));
    r->reply = json_line(message);
    r->completed = TRUE;
    json_node_unref(message);
    if (r->orphaned)
        request_free(r);
    else
        connection_flush(r->conn);
}

void
vnic_api_request_return(VnicApiRequest *request, JsonNode *result)
{
    JsonObject *obj = json_object_new();
    JsonNode *msg = json_node_new(JSON_NODE_OBJECT);

    if (!result) {
        result = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(result, json_object_new());
    }
    json_object_set_member(obj, "return", result);
    json_node_take_object(msg, obj);
    complete(request, msg);
}

void
vnic_api_request_return_object(VnicApiRequest *request, JsonObject *result)
{
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(node, result);
    vnic_api_request_return(request, node);
}

void
vnic_api_request_error(VnicApiRequest *request, const GError *error)
{
    JsonObject *obj = json_object_new(), *err = json_object_new();
    JsonNode *msg = json_node_new(JSON_NODE_OBJECT);

    json_object_set_string_member(err, "class", vnic_daemon_error_class(error));
    json_object_set_string_member(err, "desc", error->message);
    json_object_set_object_member(obj, "error", err);
    json_node_take_object(msg, obj);
    complete(request, msg);
}

void
vnic_api_request_fail(VnicApiRequest *request, GError *error)
{
    vnic_api_request_error(request, error);
    g_error_free(error);
}

JsonObject *
vnic_api_request_get_arguments(VnicApiRequest *request)
{
    return request->args;
}

const char *
vnic_api_request_get_command(VnicApiRequest *request)
{
    return request->command;
}

gboolean
vnic_api_request_is_read_only(VnicApiRequest *request)
{
    return request->conn->read_only;
}

void
vnic_api_request_subscribe(VnicApiRequest *request)
{
    request->conn->subscribed = TRUE;
}

void
vnic_api_server_emit(VnicApiServer *server, const char *event, JsonObject *data)
{
    g_autoptr(JsonNode) msg = json_node_new(JSON_NODE_OBJECT);
    JsonObject *obj = json_object_new(), *ts = json_object_new();
    gint64 now = g_get_real_time();
    g_autofree char *line = NULL;

    json_object_set_string_member(obj, "event", event);
    json_object_set_object_member(obj, "data", data);
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(obj, "timestamp", ts);
    json_node_take_object(msg, obj);
    line = json_line(msg);
    for (GList *l = server->connections; l; l = l->next) {
        ApiConnection *c = l->data;
        if (!c->subscribed)
            continue;
        g_string_append(c->outbuf, line);
        connection_flush(c);
    }
}

/* Turns one line into a request on the queue and dispatches it. */
static void
handle_line(ApiConnection *c, const char *line, gsize len)
{
    VnicApiRequest *r = g_new0(VnicApiRequest, 1);
    g_autoptr(GError) error = NULL;
    const VnicApiCommand *cmd;

    r->conn = connection_ref(c);
    g_queue_push_tail(&c->pending, r);
    cmd = vnic_api_parse_request(c, line, len, r, &error);
    if (!cmd) {
        vnic_api_request_error(r, error);
        return;
    }
    cmd->handler(r, c->server->user_data);
}

/* Cuts complete lines out of the input buffer.  Oversized lines are
 * answered once and skipped up to their newline. */
static void
consume_lines(ApiConnection *c)
{
    guint8 *nl;

    while (!c->closed && (nl = memchr(c->inbuf->data, '\n', c->inbuf->len))) {
        gsize len = (gsize)(nl - c->inbuf->data);

        if (c->discarding)
            c->discarding = FALSE;
        else if (len > 0)
            handle_line(c, (const char *)c->inbuf->data, len);
        g_byte_array_remove_range(c->inbuf, 0, (guint)len + 1);
    }
    if (!c->closed && c->inbuf->len > VNIC_API_MAX_LINE) {
        if (!c->discarding) {
            VnicApiRequest *r = g_new0(VnicApiRequest, 1);
            g_autoptr(GError) error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                                                  "request line longer than %u bytes", VNIC_API_MAX_LINE);
            r->conn = connection_ref(c);
            g_queue_push_tail(&c->pending, r);
            vnic_api_request_error(r, error);
        }
        c->discarding = TRUE;
        g_byte_array_set_size(c->inbuf, 0);
    }
}

static void
read_done(GObject *source, GAsyncResult *res, gpointer data)
{
    ApiConnection *c = data;
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

    if (!c->closed) {
        if (n <= 0) {
            if (n < 0)
                g_debug("api: read failed: %s", error->message);
            connection_close(c);
        } else {
            g_byte_array_append(c->inbuf, c->readbuf, (guint)n);
            consume_lines(c);
            connection_read(c);
        }
    }
    connection_unref(c);
}

static void
connection_read(ApiConnection *c)
{
    GInputStream *in;

    if (c->closed)
        return;
    in = g_io_stream_get_input_stream(G_IO_STREAM(c->conn));
    g_input_stream_read_async(in, c->readbuf, READ_CHUNK, G_PRIORITY_DEFAULT, c->cancel, read_done,
                              connection_ref(c));
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
    VnicApiServer *server = data;
    ApiConnection *c = g_new0(ApiConnection, 1);

    c->refs = 1; /* the server's */
    c->server = server;
    c->conn = g_object_ref(conn);
    c->read_only = GPOINTER_TO_INT(g_object_get_data(source, "vnic-read-only"));
    c->allowed = vnic_api_peer_allowed(conn, c->read_only);
    c->cancel = g_cancellable_new();
    c->inbuf = g_byte_array_new();
    c->outbuf = g_string_new(NULL);
    c->readbuf = c->readbuf_storage;
    g_queue_init(&c->pending);
    server->connections = g_list_prepend(server->connections, c);
    connection_read(c);
    return TRUE;
}

VnicApiServer *
vnic_api_server_new(const VnicApiCommand *commands, gsize n_commands, gpointer user_data)
{
    VnicApiServer *server = g_new0(VnicApiServer, 1);

    server->commands = commands;
    server->n_commands = n_commands;
    server->user_data = user_data;
    server->service = g_socket_service_new();
    /* inactive until every socket is added: adding a socket to an active
     * service cancels its pending accept, and a connection that operation
     * had already taken is dropped (the client sees a reset) */
    g_socket_service_stop(server->service);
    server->paths = g_ptr_array_new_with_free_func(g_free);
    server->markers = g_ptr_array_new_with_free_func(g_object_unref);
    g_signal_connect(server->service, "incoming", G_CALLBACK(on_incoming), server);
    return server;
}

void
vnic_api_server_free(VnicApiServer *server)
{
    if (!server)
        return;
    g_socket_service_stop(server->service);
    g_socket_listener_close(G_SOCKET_LISTENER(server->service));
    g_object_unref(server->service);
    while (server->connections)
        connection_close(server->connections->data);
    for (guint i = 0; i < server->paths->len; i++)
        unlink(g_ptr_array_index(server->paths, i));
    g_ptr_array_unref(server->paths);
    g_ptr_array_unref(server->markers);
    g_free(server);
}

gboolean
vnic_api_server_listen(VnicApiServer *server, const char *path, gboolean read_only, guint mode,
                       GError **error)
{
    g_autoptr(GSocketAddress) addr = NULL;
    GObject *marker;
    mode_t old_mask;
    gboolean ok;

    if (!vnic_api_remove_stale_socket(path, error))
        return FALSE;
    addr = g_unix_socket_address_new(path);
    marker = g_object_new(G_TYPE_OBJECT, NULL);
    g_object_set_data(marker, "vnic-read-only", GINT_TO_POINTER(read_only));
    g_ptr_array_add(server->markers, marker);
    /* bind under a umask that already gives the final mode: no window in
     * which the socket is more open than asked */
    old_mask = umask(~mode & 0777);
    ok = g_socket_listener_add_address(G_SOCKET_LISTENER(server->service), addr,
                                       G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, marker,
                                       NULL, error);
    umask(old_mask);
    if (!ok) {
        g_prefix_error(error, "listening on %s: ", path);
        return FALSE;
    }
    chmod(path, mode);
    g_ptr_array_add(server->paths, g_strdup(path));
    return TRUE;
}

void
vnic_api_server_start(VnicApiServer *server)
{
    g_socket_service_start(server->service);
}
