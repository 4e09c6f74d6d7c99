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
 *
 * What a client can make the daemon hold is bounded (VnicApiLimits): its
 * connections per uid and in all, requests in flight, and unsent output —
 * past output_pause its further requests stay unread, past output_drop
 * (events keep coming to a client that does not read) it is dropped, and
 * so is a client whose output waited unread for the idle timeout.  A
 * connection with nothing to do is closed after the idle timeout.  When
 * accept() runs out of fds, accepting pauses instead of spinning.
 */
#include "daemon/daemon-api-priv.h"

#include "daemon/daemon-error.h"
#include "qemu/qmp-client.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536
/* How long accepting pauses when the process is out of fds. */
#define ACCEPT_PAUSE_MS 250

static void connection_read(ApiConnection *c);
static void connection_flush(ApiConnection *c);
static void connection_resume(ApiConnection *c);
static void accept_next(VnicApiServer *server);

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
    if (c->server) {
        VnicApiServer *server = c->server;

        server->connections = g_list_remove(server->connections, c);
        if (c->privileged) {
            server->privileged--;
        } else {
            guint n = GPOINTER_TO_UINT(g_hash_table_lookup(server->per_uid, GUINT_TO_POINTER(c->uid)));
            server->unprivileged--;
            if (n <= 1)
                g_hash_table_remove(server->per_uid, GUINT_TO_POINTER(c->uid));
            else
                g_hash_table_insert(server->per_uid, GUINT_TO_POINTER(c->uid), GUINT_TO_POINTER(n - 1));
        }
    }
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

/* ---- the reply line: vnic_json_append() (qmp-client-json.c) ---------- */

static char *
json_line(JsonNode *node)
{
    GString *out = g_string_sized_new(256);

    vnic_json_append(out, node);
    g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
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
        c->last_active = g_get_monotonic_time();
        connection_flush(c);
        connection_resume(c);
    }
    connection_unref(c);
}

/* Bytes handed to the connection and not yet written to the socket. */
static gsize
unsent(const ApiConnection *c)
{
    return c->outbuf->len + (c->writing ? c->outbuf_len : 0);
}

/* The end of the first complete line in the input buffer, or NULL. */
static guint8 *
first_newline(const ApiConnection *c)
{
    return c->inbuf->len > 0 ? memchr(c->inbuf->data, '\n', c->inbuf->len) : NULL;
}

/* Whether another request may be read: few enough in flight and the
 * client reads its replies. */
static gboolean
can_take_requests(const ApiConnection *c)
{
    return !c->closed && c->server && g_queue_get_length((GQueue *)&c->pending) < c->server->limits.max_pending &&
           unsent(c) < c->server->limits.output_pause;
}

/* Moves completed replies at the head of the queue into the output buffer
 * and starts a write when none is under way.  A client whose unsent
 * output passed the drop mark does not read: it is closed. */
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
    if (!c->closed && c->server && unsent(c) > c->server->limits.output_drop) {
        g_message("api: dropping a client of uid %u that leaves %" G_GSIZE_FORMAT " bytes unread",
                  (guint)c->uid, unsent(c));
        connection_close(c);
        return;
    }
    if (c->closed || c->writing || c->outbuf->len == 0)
        return;
    c->writing = TRUE;
    c->last_active = g_get_monotonic_time(); /* a stalled write counts from here */
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
    if (r->orphaned) {
        request_free(r);
    } else {
        ApiConnection *c = connection_ref(r->conn);

        connection_flush(c);
        connection_resume(c);
        connection_unref(c);
    }
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

static gboolean
anyone_subscribed(const VnicApiServer *server)
{
    for (const GList *l = server->connections; l; l = l->next) {
        if (((const ApiConnection *)l->data)->subscribed)
            return TRUE;
    }
    return FALSE;
}

void
vnic_api_server_emit(VnicApiServer *server, const char *event, JsonObject *data)
{
    g_autoptr(JsonNode) msg = NULL;
    JsonObject *obj, *ts;
    gint64 now;
    g_autofree char *line = NULL;

    /* most of the time nobody listens: then the line is not worth making
     * (three events per NIC attach, one of them before QEMU hears of it) */
    if (!anyone_subscribed(server)) {
        json_object_unref(data);
        return;
    }
    msg = json_node_new(JSON_NODE_OBJECT);
    obj = json_object_new();
    ts = json_object_new();
    now = g_get_real_time();
    json_object_set_string_member(obj, "event", event);
    json_object_set_object_member(obj, "data", data);
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(obj, "timestamp", ts);
    json_node_take_object(msg, obj);
    line = json_line(msg);
    for (GList *l = server->connections, *next; l; l = next) {
        ApiConnection *c = l->data;

        next = l->next; /* flushing may drop a client that does not read */
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

/* Cuts complete lines out of the input buffer while the connection may
 * take requests; the rest wait there (and reading waits) until replies
 * are written.  Oversized lines are answered once and skipped up to their
 * newline.  A handler that completes at once re-enters through
 * connection_resume(): the loop here goes on instead. */
static void
consume_lines(ApiConnection *c)
{
    guint8 *nl = NULL;

    if (c->consuming)
        return;
    c->consuming = TRUE;
    while (can_take_requests(c) && (nl = first_newline(c))) {
        gsize len = (gsize)(nl - c->inbuf->data);
        g_autofree char *line = NULL;

        /* the handler may re-enter; the buffer must not move under it */
        if (!c->discarding && len > 0)
            line = g_strndup((const char *)c->inbuf->data, len);
        c->discarding = FALSE;
        g_byte_array_remove_range(c->inbuf, 0, (guint)len + 1);
        if (line)
            handle_line(c, line, len);
    }
    c->consuming = FALSE;
    if (!c->closed && c->inbuf->len > VNIC_API_MAX_LINE && !first_newline(c)) {
        gboolean answered = c->discarding;

        /* before the reply: completing it comes back here */
        c->discarding = TRUE;
        g_byte_array_set_size(c->inbuf, 0);
        if (!answered) {
            VnicApiRequest *r = g_new0(VnicApiRequest, 1);
            g_autoptr(GError) error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                                                  "request line longer than %u bytes", VNIC_API_MAX_LINE);
            r->conn = connection_ref(c);
            g_queue_push_tail(&c->pending, r);
            vnic_api_request_error(r, error);
        }
    }
}

static void
read_done(GObject *source, GAsyncResult *res, gpointer data)
{
    ApiConnection *c = data;
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

    c->reading = FALSE;
    if (!c->closed) {
        if (n <= 0) {
            if (n < 0)
                g_debug("api: read failed: %s", error->message);
            connection_close(c);
        } else {
            c->last_active = g_get_monotonic_time();
            g_byte_array_append(c->inbuf, c->readbuf, (guint)n);
            consume_lines(c);
            connection_read(c);
        }
    }
    connection_unref(c);
}

/* Reads more only when the connection may take requests and the lines it
 * has are used up: input is bounded by one line plus one chunk. */
static void
connection_read(ApiConnection *c)
{
    GInputStream *in;

    if (c->reading || !can_take_requests(c) || first_newline(c))
        return;
    c->reading = TRUE;
    in = g_io_stream_get_input_stream(G_IO_STREAM(c->conn));
    g_input_stream_read_async(in, c->readbuf, READ_CHUNK, G_PRIORITY_DEFAULT, c->cancel, read_done,
                              connection_ref(c));
}

/* Takes up reading after replies went out or requests completed. */
static void
connection_resume(ApiConnection *c)
{
    consume_lines(c);
    connection_read(c);
}

static uid_t
peer_uid(GSocketConnection *conn)
{
    g_autoptr(GCredentials) creds =
        g_socket_get_credentials(g_socket_connection_get_socket(conn), NULL);
    uid_t uid = creds ? g_credentials_get_unix_user(creds, NULL) : (uid_t)-1;

    return uid;
}

/* Refuses a connection over its limit with one error line (best effort:
 * the socket buffer of a new connection has room) and closes it. */
static void
refuse_connection(GSocketConnection *conn, uid_t uid, const char *why)
{
    g_autofree char *line = g_strdup_printf(
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"too many connections %s\"}}\n", why);
    GSocket *sock = g_socket_connection_get_socket(conn);

    g_debug("api: refusing a connection of uid %u: too many %s", (guint)uid, why);
    g_socket_set_blocking(sock, FALSE);
    g_socket_send(sock, line, strlen(line), NULL, NULL);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
}

/* Counts the connection against its uid's limits, or refuses it. */
static gboolean
admit(VnicApiServer *server, GSocketConnection *conn, ApiConnection *c)
{
    guint n;

    if (c->privileged) {
        if (server->privileged >= server->limits.max_privileged) {
            refuse_connection(conn, c->uid, "of root and the daemon's user");
            return FALSE;
        }
        server->privileged++;
        return TRUE;
    }
    n = GPOINTER_TO_UINT(g_hash_table_lookup(server->per_uid, GUINT_TO_POINTER(c->uid)));
    if (n >= server->limits.max_per_uid) {
        refuse_connection(conn, c->uid, "of this user");
        return FALSE;
    }
    if (server->unprivileged >= server->limits.max_unprivileged) {
        refuse_connection(conn, c->uid, "of unprivileged users");
        return FALSE;
    }
    g_hash_table_insert(server->per_uid, GUINT_TO_POINTER(c->uid), GUINT_TO_POINTER(n + 1));
    server->unprivileged++;
    return TRUE;
}

static void
on_incoming(VnicApiServer *server, GSocketConnection *conn, GObject *source)
{
    ApiConnection *c;
    uid_t uid = peer_uid(conn);
    gboolean privileged = uid == 0 || uid == getuid();

    c = g_new0(ApiConnection, 1);
    c->uid = uid;
    c->privileged = privileged;
    if (!admit(server, conn, c)) {
        g_free(c);
        return;
    }
    c->refs = 1; /* the server's */
    c->server = server;
    c->conn = g_object_ref(conn);
    c->read_only = GPOINTER_TO_INT(g_object_get_data(source, "vnic-read-only"));
    c->allowed = vnic_api_peer_allowed(conn, c->read_only);
    c->cancel = g_cancellable_new();
    c->inbuf = g_byte_array_new();
    c->outbuf = g_string_new(NULL);
    c->readbuf = c->readbuf_storage;
    c->last_active = g_get_monotonic_time();
    g_queue_init(&c->pending);
    server->connections = g_list_prepend(server->connections, c);
    connection_read(c);
}

static gboolean
resume_accepting(gpointer data)
{
    VnicApiServer *server = data;

    server->accept_pause = 0;
    accept_next(server);
    return G_SOURCE_REMOVE;
}

static void
accept_done(GObject *listener, GAsyncResult *res, gpointer data)
{
    VnicApiServer *server = data;
    g_autoptr(GError) error = NULL;
    GObject *source = NULL;
    g_autoptr(GSocketConnection) conn =
        g_socket_listener_accept_finish(G_SOCKET_LISTENER(listener), res, &source, &error);

    /* cancelled: the server is stopping or gone, do not touch it */
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    g_clear_object(&server->accepting);
    if (!conn) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
            g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
            /* the connection stays in the backlog: try again later, once
             * idle connections had their chance to go */
            if (!server->fd_shortage_logged)
                g_warning("api: accept: %s; accepting pauses until fds are free", error->message);
            server->fd_shortage_logged = TRUE;
            server->accept_pause = g_timeout_add(ACCEPT_PAUSE_MS, resume_accepting, server);
            return;
        }
        g_debug("api: accept: %s", error->message);
    } else {
        if (server->fd_shortage_logged)
            g_message("api: accepting connections again");
        server->fd_shortage_logged = FALSE;
        on_incoming(server, conn, source);
    }
    accept_next(server);
}

static void
accept_next(VnicApiServer *server)
{
    server->accepting = g_cancellable_new();
    g_socket_listener_accept_async(server->listener, server->accepting, accept_done, server);
}

/* Closes connections that have had nothing to do for the idle timeout
 * (no request in flight, nothing to write, no events asked for), and drops
 * those whose replies have waited that long for the client to read them:
 * its requests are not read meanwhile, so it would hold its output and
 * its slot for ever. */
static gboolean
sweep_idle(gpointer data)
{
    VnicApiServer *server = data;
    gint64 now = g_get_monotonic_time();
    gint64 limit = (gint64)server->limits.idle_timeout_ms * 1000;
    GList *l = server->connections;

    while (l) {
        ApiConnection *c = l->data;

        l = l->next;
        if (now - c->last_active <= limit)
            continue;
        if (unsent(c) > 0) {
            g_message("api: dropping a client of uid %u that read none of %" G_GSIZE_FORMAT
                      " bytes for %u ms", (guint)c->uid, unsent(c), server->limits.idle_timeout_ms);
            connection_close(c);
        } else if (!c->subscribed && g_queue_is_empty(&c->pending)) {
            g_debug("api: closing a connection of uid %u idle for %u ms", (guint)c->uid,
                    server->limits.idle_timeout_ms);
            connection_close(c);
        }
    }
    return G_SOURCE_CONTINUE;
}

static void
start_idle_sweep(VnicApiServer *server)
{
    guint every = MAX(server->limits.idle_timeout_ms / 4, 50u);

    if (server->idle_sweep)
        g_source_remove(server->idle_sweep);
    server->idle_sweep = g_timeout_add(every, sweep_idle, server);
}

void
vnic_api_server_set_limits(VnicApiServer *server, const VnicApiLimits *limits)
{
    server->limits = *limits;
    start_idle_sweep(server);
}

VnicApiServer *
vnic_api_server_new(const VnicApiCommand *commands, gsize n_commands, gpointer user_data)
{
    VnicApiServer *server = g_new0(VnicApiServer, 1);

    server->commands = commands;
    server->n_commands = n_commands;
    server->user_data = user_data;
    /* accepting starts once every socket is added (vnic_api_server_start):
     * an accept under way would not see a socket added later */
    server->listener = g_socket_listener_new();
    server->paths = g_ptr_array_new_with_free_func(g_free);
    server->markers = g_ptr_array_new_with_free_func(g_object_unref);
    server->per_uid = g_hash_table_new(NULL, NULL);
    server->limits = VNIC_API_LIMITS_DEFAULT;
    start_idle_sweep(server);
    return server;
}

void
vnic_api_server_free(VnicApiServer *server)
{
    if (!server)
        return;
    if (server->accepting) {
        g_cancellable_cancel(server->accepting);
        g_clear_object(&server->accepting);
    }
    g_clear_handle_id(&server->accept_pause, g_source_remove);
    g_clear_handle_id(&server->idle_sweep, g_source_remove);
    g_socket_listener_close(server->listener);
    g_object_unref(server->listener);
    while (server->connections)
        connection_close(server->connections->data);
    g_hash_table_unref(server->per_uid);
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
    ok = g_socket_listener_add_address(server->listener, addr,
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
    if (!server->accepting && !server->accept_pause)
        accept_next(server);
}
