/* daemon-api-request.c: from one line to a command, and who may ask.
 *
 * Everything a client sends is untrusted: the line must be a JSON object
 * with a string "execute" naming a known command, "arguments" if present
 * must be an object whose every member the command lists (with its type),
 * and the peer must be allowed on its socket.  Every refusal is a GError
 * the server turns into an error reply.  Also describes the command table
 * for query-commands, from the same declarations the checks use.
 */
#include "daemon/daemon-api-priv.h"

#include "daemon/daemon-error.h"
#include "qemu/qmp-client.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const VnicApiCommand *
find_command(const VnicApiServer *server, const char *name)
{
    for (gsize i = 0; i < server->n_commands; i++) {
        if (strcmp(server->commands[i].name, name) == 0)
            return &server->commands[i];
    }
    return NULL;
}

static const char *
arg_type_name(VnicApiArgType type)
{
    switch (type) {
    case VNIC_API_ARG_STRING:
        return "string";
    case VNIC_API_ARG_INT:
        return "int";
    case VNIC_API_ARG_BOOL:
        return "bool";
    }
    return "unknown";
}

static gboolean
arg_has_type(JsonNode *n, VnicApiArgType type)
{
    static const GType gtypes[] = {
        [VNIC_API_ARG_STRING] = G_TYPE_STRING,
        [VNIC_API_ARG_INT] = G_TYPE_INT64,
        [VNIC_API_ARG_BOOL] = G_TYPE_BOOLEAN,
    };

    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == gtypes[type];
}

static const VnicApiArg *
find_arg(const VnicApiCommand *cmd, const char *name)
{
    for (const VnicApiArg *a = cmd->args; a && a->name; a++) {
        if (strcmp(a->name, name) == 0)
            return a;
    }
    return NULL;
}

/* Every member of @args must be one the command declares, of its type:
 * an unknown one is a typo or a client newer than this daemon, and
 * ignoring it would run the command with a default the client did not
 * ask for.  Required arguments are checked here too, so a handler only
 * reads what is already known to be there. */
static gboolean
check_arguments(const VnicApiCommand *cmd, JsonObject *args, GError **error)
{
    g_autoptr(GList) members = json_object_get_members(args);

    for (GList *l = members; l; l = l->next) {
        const char *name = l->data;
        const VnicApiArg *a = find_arg(cmd, name);

        if (!a) {
            g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                        "unknown argument '%s' for command '%s'", name, cmd->name);
            return FALSE;
        }
        if (!arg_has_type(json_object_get_member(args, name), a->type)) {
            g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                        "argument '%s' of command '%s' must be of type %s", name, cmd->name,
                        arg_type_name(a->type));
            return FALSE;
        }
    }
    for (const VnicApiArg *a = cmd->args; a && a->name; a++) {
        if (a->required && !json_object_has_member(args, a->name)) {
            g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                        "missing argument '%s' for command '%s'", a->name, cmd->name);
            return FALSE;
        }
    }
    return TRUE;
}

static JsonObject *
describe_command(const VnicApiCommand *cmd)
{
    JsonObject *o = json_object_new();
    JsonArray *args = json_array_new();

    json_object_set_string_member(o, "name", cmd->name);
    json_object_set_boolean_member(o, "query", cmd->query);
    for (const VnicApiArg *a = cmd->args; a && a->name; a++) {
        JsonObject *ao = json_object_new();

        json_object_set_string_member(ao, "name", a->name);
        json_object_set_string_member(ao, "type", arg_type_name(a->type));
        json_object_set_boolean_member(ao, "required", a->required);
        json_array_add_object_element(args, ao);
    }
    json_object_set_array_member(o, "arguments", args);
    return o;
}

JsonObject *
vnic_api_request_describe_commands(VnicApiRequest *request)
{
    const VnicApiServer *server = request->conn->server;
    JsonObject *ret = json_object_new();
    JsonArray *list = json_array_new();

    for (gsize i = 0; server && i < server->n_commands; i++)
        json_array_add_object_element(list, describe_command(&server->commands[i]));
    json_object_set_array_member(ret, "commands", list);
    return ret;
}

/* A line nesting deeper than any request needs is refused before a parser
 * recurses into it (vnic_json_nesting_within()). */
static gboolean
check_nesting(const char *line, gsize len, GError **error)
{
    if (vnic_json_nesting_within(line, len, VNIC_API_MAX_DEPTH))
        return TRUE;
    g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                "request nests deeper than %u levels", VNIC_API_MAX_DEPTH);
    return FALSE;
}

/* JSON numbers are doubles to most clients: an integer beyond 2^53 loses
 * digits on the way back, and 1e400 is infinity, which has no JSON form at
 * all (json-glib would write "inf.0").  Both are refused wherever they are
 * in the request, so no reply ever echoes one. */
#define SAFE_INTEGER ((gint64) 9007199254740991) /* 2^53 - 1 */

static gboolean
number_is_safe(JsonNode *n)
{
    GType type = json_node_get_value_type(n);

    if (type == G_TYPE_INT64) {
        gint64 v = json_node_get_int(n);
        return v >= -SAFE_INTEGER && v <= SAFE_INTEGER;
    }
    if (type == G_TYPE_DOUBLE) {
        double v = json_node_get_double(n);
        return isfinite(v) && v >= -(double) SAFE_INTEGER && v <= (double) SAFE_INTEGER;
    }
    return TRUE;
}

/* JsonParser (json-glib 1.6) reads a lone surrogate escape such as
 * \udb33 into bytes that are not UTF-8: a name or value made of them would
 * go into logs and files, and back to the client in a reply no JSON reader
 * takes. */
typedef enum {
    CHECK_NUMBERS, /* number_is_safe() */
    CHECK_STRINGS, /* member names and strings are UTF-8 */
} ValueCheck;

static gboolean
value_passes(JsonNode *n, ValueCheck check)
{
    if (check == CHECK_NUMBERS)
        return number_is_safe(n);
    return json_node_get_value_type(n) != G_TYPE_STRING ||
           g_utf8_validate(json_node_get_string(n), -1, NULL);
}

/* Every value in @n passes @check.  Depth is bounded by check_nesting(), so
 * recursing here is too. */
static gboolean
values_pass(JsonNode *n, ValueCheck check)
{
    switch (JSON_NODE_TYPE(n)) {
    case JSON_NODE_VALUE:
        return value_passes(n, check);
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            if (!values_pass(json_array_get_element(a, i), check))
                return FALSE;
        }
        return TRUE;
    }
    case JSON_NODE_OBJECT: {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;

        json_object_iter_init(&iter, json_node_get_object(n));
        while (json_object_iter_next(&iter, &name, &member)) {
            if ((check == CHECK_STRINGS && !g_utf8_validate(name, -1, NULL)) ||
                !values_pass(member, check))
                return FALSE;
        }
        return TRUE;
    }
    case JSON_NODE_NULL:
        return TRUE;
    }
    return TRUE;
}

/* A plain request (nearly all are) without a JsonParser: some 15 us less
 * per request (qmp-client-json.c), sealed as the immutable parser's. */
static JsonObject *
parse_plain(const char *line, gsize len)
{
    JsonObject *obj = vnic_json_parse_plain(line, len);
    g_autoptr(JsonNode) root = NULL;

    if (!obj)
        return NULL;
    json_object_seal(obj);
    root = json_node_init_object(json_node_alloc(), obj);
    if (!values_pass(root, CHECK_NUMBERS)) {
        json_object_unref(obj);
        return NULL; /* JsonParser's path says why */
    }
    return obj;
}

static JsonObject *
parse_object(const char *line, gsize len, GError **error)
{
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) parse_error = NULL;
    JsonObject *plain;
    JsonNode *root;

    if (!g_utf8_validate(line, (gssize)len, NULL)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                    "request is not valid UTF-8");
        return NULL;
    }
    if (!check_nesting(line, len, error))
        return NULL;
    if ((plain = parse_plain(line, len)))
        return plain;
    parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, line, (gssize)len, &parse_error)) {
        /* its message quotes the text it stopped at, which after a lone
         * surrogate escape is not UTF-8: the reply must stay JSON */
        g_autofree char *message = g_utf8_make_valid(parse_error->message, -1);

        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                    "request is not valid JSON: %s", message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                    "request must be a JSON object");
        return NULL;
    }
    if (!values_pass(root, CHECK_NUMBERS)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                    "request has a number outside JSON's safe range (integers up to 2^53 - 1)");
        return NULL;
    }
    if (!values_pass(root, CHECK_STRINGS)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                    "request has a string that is not valid UTF-8 (a lone surrogate escape)");
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

/* Fills @r (id, command, arguments) and returns the command to run, or
 * NULL with @error.  The id is taken first so even refusals echo it. */
const VnicApiCommand *
vnic_api_parse_request(ApiConnection *c, const char *line, gsize len, VnicApiRequest *r,
                       GError **error)
{
    g_autoptr(JsonObject) obj = parse_object(line, len, error);
    JsonNode *execute, *args;
    const VnicApiCommand *cmd;

    if (!obj)
        return NULL;
    if (json_object_has_member(obj, "id"))
        r->id = json_node_copy(json_object_get_member(obj, "id"));
    execute = json_object_get_member(obj, "execute");
    if (!execute || !JSON_NODE_HOLDS_VALUE(execute) ||
        json_node_get_value_type(execute) != G_TYPE_STRING) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_REQUEST,
                    "request needs a string member \"execute\"");
        return NULL;
    }
    r->command = g_strdup(json_node_get_string(execute));
    args = json_object_get_member(obj, "arguments");
    if (args && !JSON_NODE_HOLDS_OBJECT(args)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "\"arguments\" of '%s' must be an object", r->command);
        return NULL;
    }
    r->args = args ? json_object_ref(json_node_get_object(args)) : json_object_new();
    if (!c->allowed) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_PERMISSION_DENIED,
                    "this socket serves only root and the daemon's own user");
        return NULL;
    }
    cmd = find_command(c->server, r->command);
    if (!cmd) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_COMMAND_NOT_FOUND,
                    "unknown command '%s'", r->command);
        return NULL;
    }
    if (c->read_only && !cmd->query) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_PERMISSION_DENIED,
                    "'%s' changes state: the read-only socket serves queries only", r->command);
        return NULL;
    }
    if (!check_arguments(cmd, r->args, error))
        return NULL;
    return cmd;
}

/* The control socket serves root and the daemon's own uid (SO_PEERCRED);
 * the read-only socket anyone who can reach it. */
gboolean
vnic_api_peer_allowed(GSocketConnection *conn, gboolean read_only)
{
    g_autoptr(GCredentials) creds = NULL;
    uid_t uid;

    if (read_only)
        return TRUE;
    creds = g_socket_get_credentials(g_socket_connection_get_socket(conn), NULL);
    if (!creds)
        return FALSE;
    uid = g_credentials_get_unix_user(creds, NULL);
    return uid == 0 || uid == getuid();
}

/* A socket file nobody listens on is left over from a daemon that died:
 * remove it.  One that answers belongs to a running daemon: refuse. */
gboolean
vnic_api_remove_stale_socket(const char *path, GError **error)
{
    g_autoptr(GSocketClient) client = NULL;
    g_autoptr(GSocketConnection) conn = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    struct stat st;

    if (lstat(path, &st) < 0)
        return TRUE;
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "%s exists and is not a socket", path);
        return FALSE;
    }
    client = g_socket_client_new();
    addr = g_unix_socket_address_new(path);
    conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, NULL);
    if (conn) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "another vnicd is already serving %s", path);
        return FALSE;
    }
    unlink(path);
    return TRUE;
}

static JsonNode *
arg_member(VnicApiRequest *request, const char *name)
{
    return json_object_get_member(request->args, name);
}

static gboolean
wrong_type(GError **error, const char *name, const char *want)
{
    g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                "argument '%s' must be %s", name, want);
    return FALSE;
}

gboolean
vnic_api_arg_string(VnicApiRequest *request, const char *name, gboolean required,
                    const char **out, GError **error)
{
    JsonNode *n = arg_member(request, name);

    if (!n) {
        if (!required)
            return TRUE;
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "missing argument '%s'", name);
        return FALSE;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return wrong_type(error, name, "a string");
    *out = json_node_get_string(n);
    return TRUE;
}

gboolean
vnic_api_arg_int(VnicApiRequest *request, const char *name, gint64 min, gint64 max, gint64 *out,
                 GError **error)
{
    JsonNode *n = arg_member(request, name);
    gint64 v;

    if (!n)
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return wrong_type(error, name, "an integer");
    v = json_node_get_int(n);
    if (v < min || v > max) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "argument '%s' must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                    ", not %" G_GINT64_FORMAT, name, min, max, v);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

gboolean
vnic_api_arg_bool(VnicApiRequest *request, const char *name, gboolean *out, GError **error)
{
    JsonNode *n = arg_member(request, name);

    if (!n)
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
        return wrong_type(error, name, "true or false");
    *out = json_node_get_boolean(n);
    return TRUE;
}
