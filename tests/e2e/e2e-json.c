/* e2e-json.c: JSON lines over a unix socket, and the vnicd API call.
 *
 * Owns one non-blocking socket and a buffer of bytes received but not yet
 * returned as a line.  Every read waits with poll() up to a deadline.
 */
#include "e2e-json.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "e2e-env.h"

struct _E2eJsonConn {
    int fd;
    char *path;
    GString *buf;
    gint64 next_id;
};

E2eJsonConn *
e2e_json_conn_connect(const char *path, double timeout_s, GError **error)
{
    int fd = e2e_unix_connect(path, timeout_s, error);
    if (fd < 0)
        return NULL;
    E2eJsonConn *conn = g_new0(E2eJsonConn, 1);
    conn->fd = fd;
    conn->path = g_strdup(path);
    conn->buf = g_string_new(NULL);
    conn->next_id = 1;
    return conn;
}

void
e2e_json_conn_free(E2eJsonConn *conn)
{
    if (conn == NULL)
        return;
    close(conn->fd);
    g_free(conn->path);
    g_string_free(conn->buf, TRUE);
    g_free(conn);
}

gboolean
e2e_json_conn_send_line(E2eJsonConn *conn, const char *line, double timeout_s, GError **error)
{
    g_autofree char *data = g_strconcat(line, "\n", NULL);
    return e2e_write_all(conn->fd, data, strlen(data), e2e_deadline(timeout_s), error);
}

static char *
recv_line(E2eJsonConn *conn, double timeout_s, GError **error)
{
    gint64 deadline = e2e_deadline(timeout_s);
    for (;;) {
        const char *nl = memchr(conn->buf->str, '\n', conn->buf->len);
        if (nl != NULL) {
            gsize len = (gsize)(nl - conn->buf->str);
            char *line = g_strndup(conn->buf->str, len);
            g_string_erase(conn->buf, 0, (gssize)len + 1);
            return line;
        }
        struct pollfd p = { .fd = conn->fd, .events = POLLIN };
        int ms = e2e_ms_left(deadline);
        int r = ms > 0 ? poll(&p, 1, ms) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no reply on '%s' within %.1f s", conn->path, timeout_s);
            return NULL;
        }
        char chunk[65536];
        ssize_t n = read(conn->fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "read from '%s': %s",
                        conn->path, g_strerror(errno));
            return NULL;
        }
        if (n == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                        "'%s' closed the connection", conn->path);
            return NULL;
        }
        g_string_append_len(conn->buf, chunk, n);
    }
}

JsonNode *
e2e_json_parse(const char *text, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, -1, error))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    if (root == NULL) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "empty JSON text");
        return NULL;
    }
    return json_node_copy(root);
}

JsonObject *
e2e_json_conn_recv(E2eJsonConn *conn, double timeout_s, GError **error)
{
    g_autofree char *line = recv_line(conn, timeout_s, error);
    if (line == NULL)
        return NULL;
    g_autoptr(GError) parse_error = NULL;
    g_autoptr(JsonNode) node = e2e_json_parse(line, &parse_error);
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a JSON object from '%s': %s%s%s",
                    conn->path, line, parse_error ? ": " : "", parse_error ? parse_error->message : "");
        return NULL;
    }
    return json_object_ref(json_node_get_object(node));
}

char *
e2e_json_to_string(JsonNode *node, gboolean pretty)
{
    return json_to_string(node, pretty);
}

char *
e2e_json_object_to_string(JsonObject *object)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);
    return json_to_string(node, FALSE);
}

const char *
e2e_json_get_string(JsonObject *object, const char *member)
{
    if (object == NULL || !json_object_has_member(object, member))
        return NULL;
    JsonNode *n = json_object_get_member(object, member);
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

JsonObject *
e2e_json_member_object(JsonObject *object, const char *member)
{
    JsonNode *n = object != NULL ? json_object_get_member(object, member) : NULL;
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonArray *
e2e_json_member_array(JsonObject *object, const char *member)
{
    JsonNode *n = object != NULL ? json_object_get_member(object, member) : NULL;
    return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

JsonObject *
e2e_json_array_object(JsonArray *array, guint i)
{
    JsonNode *n = json_array_get_element(array, i);
    return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonObject *
e2e_api_call(E2eJsonConn *conn, const char *execute, const char *args_json, double timeout_s,
             GError **error)
{
    gint64 id = conn->next_id++;
    g_autofree char *exec_q = g_strescape(execute, NULL);
    g_autofree char *line =
        args_json != NULL
            ? g_strdup_printf("{\"execute\": \"%s\", \"arguments\": %s, \"id\": %" G_GINT64_FORMAT "}",
                              exec_q, args_json, id)
            : g_strdup_printf("{\"execute\": \"%s\", \"id\": %" G_GINT64_FORMAT "}", exec_q, id);
    if (!e2e_json_conn_send_line(conn, line, timeout_s, error))
        return NULL;
    gint64 deadline = e2e_deadline(timeout_s);
    for (;;) {
        int ms = e2e_ms_left(deadline);
        if (ms == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no reply to '%s' within %.1f s",
                        execute, timeout_s);
            return NULL;
        }
        g_autoptr(JsonObject) msg = e2e_json_conn_recv(conn, ms / 1000.0, error);
        if (msg == NULL)
            return NULL;
        if (json_object_has_member(msg, "event"))
            continue;
        JsonNode *rid = json_object_get_member(msg, "id");
        if (rid != NULL && JSON_NODE_HOLDS_VALUE(rid) && json_node_get_value_type(rid) == G_TYPE_INT64 &&
            json_node_get_int(rid) == id)
            return g_steal_pointer(&msg);
        /* A reply without our id (e.g. to a line that could not be parsed)
         * still answers our one outstanding request. */
        if (rid == NULL && (json_object_has_member(msg, "return") || json_object_has_member(msg, "error")))
            return g_steal_pointer(&msg);
    }
}

JsonNode *
e2e_api_return(JsonObject *reply, GError **error)
{
    if (json_object_has_member(reply, "return"))
        return json_node_copy(json_object_get_member(reply, "return"));
    JsonNode *err = json_object_get_member(reply, "error");
    if (err != NULL && JSON_NODE_HOLDS_OBJECT(err)) {
        JsonObject *e = json_node_get_object(err);
        const char *cls = e2e_json_get_string(e, "class");
        const char *desc = e2e_json_get_string(e, "desc");
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", cls != NULL ? cls : "?",
                    desc != NULL ? desc : "?");
        return NULL;
    }
    g_autofree char *text = e2e_json_object_to_string(reply);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "neither return nor error: %s", text);
    return NULL;
}
