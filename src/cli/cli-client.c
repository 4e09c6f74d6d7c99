/* cli-client.c: the synchronous vnicd API client (cli-client.h).
 *
 * Owns one GSocketConnection and a read buffer.  Lines are JSON objects
 * (docs/api.md); a reply is matched to the request by id, events are
 * handed to the event function whenever they are read.  The buffer may hold
 * more than one line (a reply and the events behind it), so a wait first
 * looks at what is already read.
 *
 * Blocking I/O; the only wait that can run out is next_event's.  Library
 * style: no printing, errors go up as GError.
 */
#include "cli/cli-client.h"

#include <string.h>

G_DEFINE_QUARK(vnic-cli-client-error-quark, vnic_cli_client_error)

struct _VnicCliClient {
    GSocketConnection *conn;
    GByteArray *buf;           /* bytes read and not yet consumed */
    gsize scanned;             /* buf[0, scanned) holds no newline */
    gint64 next_id;
    VnicCliEventFunc event_func;
    gpointer event_data;
};

/* Why connecting failed, without GIO's "Could not connect:" wrapping. */
static const char *
connect_reason(const GError *error)
{
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return "no such socket";
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        return "connection refused, nothing listens there";
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
        return "permission denied";
    return error->message;
}

VnicCliClient *
vnic_cli_client_connect(const char *path, GError **error)
{
    g_autoptr(GSocketClient) sc = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GError) local = NULL;
    VnicCliClient *client;
    GSocketConnection *conn;

    g_return_val_if_fail(path != NULL, NULL);

    addr = g_unix_socket_address_new(path);
    conn = g_socket_client_connect(sc, G_SOCKET_CONNECTABLE(addr), NULL, &local);
    if (conn == NULL) {
        g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_CONNECT,
                    "cannot connect to vnicd at '%s': %s", path, connect_reason(local));
        return NULL;
    }
    client = g_new0(VnicCliClient, 1);
    client->conn = conn;
    client->buf = g_byte_array_new();
    client->next_id = 1;
    return client;
}

void
vnic_cli_client_free(VnicCliClient *client)
{
    if (client == NULL)
        return;
    g_clear_object(&client->conn);
    g_byte_array_unref(client->buf);
    g_free(client);
}

void
vnic_cli_client_set_event_func(VnicCliClient *client, VnicCliEventFunc func,
                               gpointer user_data)
{
    g_return_if_fail(client != NULL);

    client->event_func = func;
    client->event_data = user_data;
}

/* Takes the first complete line out of the buffer, or returns NULL. */
static char *
take_line(VnicCliClient *client)
{
    guint8 *nl = NULL;
    gsize len;
    char *line;

    if (client->buf->len > client->scanned)
        nl = memchr(client->buf->data + client->scanned, '\n',
                    client->buf->len - client->scanned);
    if (nl == NULL) {
        client->scanned = client->buf->len;
        return NULL;
    }
    len = (gsize) (nl - client->buf->data);
    line = g_strndup((const char *) client->buf->data, len);
    g_byte_array_remove_range(client->buf, 0, (guint) len + 1);
    client->scanned = 0;
    return line;
}

/* Waits for data until @deadline (-1: for ever) and appends it. */
static gboolean
fill(VnicCliClient *client, gint64 deadline, GError **error)
{
    GSocket *sock = g_socket_connection_get_socket(client->conn);
    g_autoptr(GError) local = NULL;
    guint8 chunk[65536];
    gssize n;

    if (deadline >= 0) {
        gint64 left = deadline - g_get_monotonic_time();

        if (left <= 0 || !g_socket_condition_timed_wait(sock, G_IO_IN, left, NULL, &local)) {
            g_set_error_literal(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_TIMEOUT,
                                "no event before the deadline");
            return FALSE;
        }
    }
    n = g_socket_receive_with_blocking(sock, (char *) chunk, sizeof(chunk), TRUE, NULL, &local);
    if (n < 0) {
        g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_IO,
                    "cannot read from vnicd: %s", local->message);
        return FALSE;
    }
    if (n == 0) {
        g_set_error_literal(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_CLOSED,
                            "vnicd closed the connection");
        return FALSE;
    }
    g_byte_array_append(client->buf, chunk, (guint) n);
    return TRUE;
}

/* The next line as a JSON object. */
static JsonObject *
read_object(VnicCliClient *client, gint64 deadline, GError **error)
{
    g_autofree char *line = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    while ((line = take_line(client)) == NULL) {
        if (client->buf->len > VNIC_CLI_CLIENT_MAX_LINE) {
            g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_PROTOCOL,
                        "vnicd sent a line longer than %d bytes", VNIC_CLI_CLIENT_MAX_LINE);
            return NULL;
        }
        if (!fill(client, deadline, error))
            return NULL;
    }
    if (!json_parser_load_from_data(parser, line, -1, &local) ||
        (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_PROTOCOL,
                    "vnicd sent a line that is not a JSON object: %s",
                    local != NULL ? local->message : "wrong type");
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

static gboolean
is_event(JsonObject *obj)
{
    return json_object_has_member(obj, "event");
}

static void
dispatch_event(VnicCliClient *client, JsonObject *obj)
{
    if (client->event_func != NULL)
        client->event_func(obj, client->event_data);
}

static gboolean
send_request(VnicCliClient *client, const char *command, JsonObject *arguments, gint64 id,
             GError **error)
{
    g_autoptr(JsonObject) req = json_object_new();
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(client->conn));
    gsize len;

    json_object_set_string_member(req, "execute", command);
    if (arguments != NULL)
        json_object_set_object_member(req, "arguments", json_object_ref(arguments));
    json_object_set_int_member(req, "id", id);
    json_node_set_object(node, req);
    text = json_to_string(node, FALSE);
    len = strlen(text);
    text = g_realloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = '\0';
    if (!g_output_stream_write_all(out, text, len + 1, NULL, NULL, &local)) {
        g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_IO,
                    "cannot send to vnicd: %s", local->message);
        return FALSE;
    }
    return TRUE;
}

/* TRUE when @obj is the reply to request @id.  An error reply without id is
 * the daemon failing to read our request, which is the only one pending. */
static gboolean
is_reply_to(JsonObject *obj, gint64 id)
{
    JsonNode *got = json_object_get_member(obj, "id");

    if (!json_object_has_member(obj, "return") && !json_object_has_member(obj, "error"))
        return FALSE;
    if (got == NULL || JSON_NODE_HOLDS_NULL(got))
        return json_object_has_member(obj, "error");
    return JSON_NODE_HOLDS_VALUE(got) && json_node_get_value_type(got) == G_TYPE_INT64 &&
           json_node_get_int(got) == id;
}

static const char *
member_string(JsonObject *obj, const char *name, const char *fallback)
{
    JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

    if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_STRING)
        return fallback;
    return json_node_get_string(node);
}

/* The reply's value, or its error as DAEMON. */
static JsonNode *
unpack_reply(JsonObject *reply, char **ret_class, GError **error)
{
    JsonNode *err = json_object_get_member(reply, "error");
    JsonObject *eobj;

    if (err == NULL)
        return json_node_copy(json_object_get_member(reply, "return"));
    eobj = JSON_NODE_HOLDS_OBJECT(err) ? json_node_get_object(err) : NULL;
    g_set_error_literal(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_DAEMON,
                        member_string(eobj, "desc", "(no description)"));
    if (ret_class != NULL)
        *ret_class = g_strdup(member_string(eobj, "class", "GenericError"));
    return NULL;
}

JsonNode *
vnic_cli_client_call(VnicCliClient *client, const char *command, JsonObject *arguments,
                     char **ret_class, GError **error)
{
    gint64 id;

    g_return_val_if_fail(client != NULL && command != NULL, NULL);

    id = client->next_id++;
    if (!send_request(client, command, arguments, id, error))
        return NULL;
    for (;;) {
        g_autoptr(JsonObject) obj = read_object(client, -1, error);

        if (obj == NULL)
            return NULL;
        if (is_event(obj))
            dispatch_event(client, obj);
        else if (is_reply_to(obj, id))
            return unpack_reply(obj, ret_class, error);
    }
}

gboolean
vnic_cli_client_next_event(VnicCliClient *client, gint64 deadline, GError **error)
{
    g_return_val_if_fail(client != NULL, FALSE);

    for (;;) {
        g_autoptr(JsonObject) obj = read_object(client, deadline, error);

        if (obj == NULL)
            return FALSE;
        if (is_event(obj)) {
            dispatch_event(client, obj);
            return TRUE;
        }
    }
}
