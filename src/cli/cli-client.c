/* cli-client.c: the synchronous vnicd API client (cli-client.h).
 *
 * Owns one connected unix socket and a read buffer.  Plain POSIX calls,
 * not GIO's GSocketClient: its objects' type registrations are a fair part
 * of a query's run time (docs/performance.md, "CLI start-up").  Lines are JSON objects
 * (docs/api.md); a reply is matched to the request by id, events are
 * handed to the event function whenever they are read.  The buffer may hold
 * more than one line (a reply and the events behind it), so a wait first
 * looks at what is already read.
 *
 * Blocking I/O; the only wait that can run out is next_event's.  Library
 * style: no printing, errors go up as GError.
 */
#include "cli/cli-client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

G_DEFINE_QUARK(vnic-cli-client-error-quark, vnic_cli_client_error)

struct _VnicCliClient {
    int fd;
    GByteArray *buf;           /* bytes read and not yet consumed */
    gsize scanned;             /* buf[0, scanned) holds no newline */
    gint64 next_id;
    VnicCliEventFunc event_func;
    gpointer event_data;
};

/* Why connecting failed. */
static const char *
connect_reason(int err)
{
    switch (err) {
    case ENOENT: return "no such socket";
    case ECONNREFUSED: return "connection refused, nothing listens there";
    case EACCES: return "permission denied";
    default: return g_strerror(err);
    }
}

VnicCliClient *
vnic_cli_client_connect(const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    VnicCliClient *client;
    int fd, err;

    g_return_val_if_fail(path != NULL, NULL);

    if (strlen(path) >= sizeof sa.sun_path) {
        g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_CONNECT,
                    "cannot connect to vnicd at '%s': the path is longer than %zu bytes", path,
                    sizeof sa.sun_path - 1);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *) &sa, sizeof sa) != 0) {
        err = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_CONNECT,
                    "cannot connect to vnicd at '%s': %s", path, connect_reason(err));
        return NULL;
    }
    client = g_new0(VnicCliClient, 1);
    client->fd = fd;
    client->buf = g_byte_array_new();
    client->next_id = 1;
    return client;
}

void
vnic_cli_client_free(VnicCliClient *client)
{
    if (client == NULL)
        return;
    close(client->fd);
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
    guint8 chunk[65536];
    gssize n;

    if (deadline >= 0) {
        struct pollfd pfd = { .fd = client->fd, .events = POLLIN };
        gint64 left = deadline - g_get_monotonic_time();
        int ready = 0;

        while (left > 0 && (ready = poll(&pfd, 1, (int) MIN((left + 999) / 1000, G_MAXINT))) < 0 &&
               errno == EINTR)
            left = deadline - g_get_monotonic_time();
        if (ready <= 0) {
            g_set_error_literal(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_TIMEOUT,
                                "no event before the deadline");
            return FALSE;
        }
    }
    while ((n = read(client->fd, chunk, sizeof(chunk))) < 0 && errno == EINTR)
        ;
    if (n < 0) {
        g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_IO,
                    "cannot read from vnicd: %s", g_strerror(errno));
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

/* Writes all of @text; no SIGPIPE when vnicd is gone. */
static gboolean
write_all(int fd, const char *text, gsize len, GError **error)
{
    while (len > 0) {
        gssize n = send(fd, text, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_IO,
                        "cannot send to vnicd: %s", g_strerror(errno));
            return FALSE;
        }
        text += n;
        len -= (gsize) n;
    }
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
    return write_all(client->fd, text, len + 1, error);
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
