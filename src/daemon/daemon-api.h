/* daemon-api.h: the JSON-lines API server (docs/api.md).
 *
 * The server owns its listening sockets and client connections; it knows
 * nothing about domains.  A request is handed to the command's handler,
 * which completes it exactly once — now or later, from any callback — with
 * vnic_api_request_return() or vnic_api_request_error().  Replies go out in
 * request order per connection, whatever order handlers finish in.  A
 * request whose connection closed meanwhile completes into the void.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Longest request line accepted: a domain with 1000 NICs is ~250 KiB. */
#define VNIC_API_MAX_LINE (4u * 1024 * 1024)
/* Deepest nesting of arrays and objects in a request: real ones use 3. */
#define VNIC_API_MAX_DEPTH 64u

typedef struct _VnicApiServer VnicApiServer;
typedef struct _VnicApiRequest VnicApiRequest;

typedef void (*VnicApiHandler)(VnicApiRequest *request, gpointer user_data);

/* Version of the wire protocol (docs/api.md), bumped when a command or
 * argument changes meaning; adding commands does not bump it. */
#define VNIC_API_PROTOCOL_VERSION 1

typedef enum {
    VNIC_API_ARG_STRING,
    VNIC_API_ARG_INT,
    VNIC_API_ARG_BOOL,
} VnicApiArgType;

/* One argument a command accepts.  The server refuses a request with an
 * argument its command does not list, so a typo ("confg") is an error
 * instead of a silently ignored default. */
typedef struct {
    const char *name;
    VnicApiArgType type;
    gboolean required;
} VnicApiArg;

typedef struct {
    const char *name;
    VnicApiHandler handler;
    gboolean query;           /* served on the read-only socket too */
    const VnicApiArg *args;   /* ends with a { NULL } entry; NULL: takes none */
} VnicApiCommand;

/* What one client may hold of the daemon.  Root and the daemon's own uid
 * count apart from everyone else, so no number of unprivileged clients on
 * the world-writable read-only socket can lock root out. */
typedef struct {
    guint max_per_uid;        /* connections of one unprivileged uid */
    guint max_unprivileged;   /* connections of all unprivileged uids */
    guint max_privileged;     /* connections of root and the daemon's uid */
    guint idle_timeout_ms;    /* a connection with nothing to do is closed */
    guint max_pending;        /* requests read but not yet answered */
    gsize output_pause;       /* unsent bytes at which its requests stop being read */
    gsize output_drop;        /* unsent bytes at which the client is dropped */
} VnicApiLimits;

#define VNIC_API_LIMITS_DEFAULT                                                            \
    ((VnicApiLimits){ .max_per_uid = 32, .max_unprivileged = 256, .max_privileged = 256, \
                      .idle_timeout_ms = 60000, .max_pending = 32,                       \
                      .output_pause = 1024 * 1024, .output_drop = 16 * 1024 * 1024 })

/* @commands must outlive the server (a static table). */
VnicApiServer *vnic_api_server_new(const VnicApiCommand *commands, gsize n_commands,
                                   gpointer user_data);
void vnic_api_server_free(VnicApiServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicApiServer, vnic_api_server_free)

/* Binds a unix socket at @path (replacing a stale one) with @mode and
 * serves it.  A read-only socket serves only query commands; a control
 * socket only peers running as root or as the daemon's user. */
gboolean vnic_api_server_listen(VnicApiServer *server, const char *path, gboolean read_only,
                                guint mode, GError **error);

/* Replaces the limits (VNIC_API_LIMITS_DEFAULT until called). */
void vnic_api_server_set_limits(VnicApiServer *server, const VnicApiLimits *limits);

/* Starts accepting connections on every socket added so far.  Add all
 * sockets first. */
void vnic_api_server_start(VnicApiServer *server);

/* Sends an event to every subscribed connection.  Takes @data. */
void vnic_api_server_emit(VnicApiServer *server, const char *event, JsonObject *data);

/* The request's "arguments" (an empty object when absent); borrowed. */
JsonObject *vnic_api_request_get_arguments(VnicApiRequest *request);
const char *vnic_api_request_get_command(VnicApiRequest *request);
/* TRUE when the request came in on the read-only socket. */
gboolean vnic_api_request_is_read_only(VnicApiRequest *request);

/* Completes the request.  Takes @result (NULL means {}). */
void vnic_api_request_return(VnicApiRequest *request, JsonNode *result);
void vnic_api_request_return_object(VnicApiRequest *request, JsonObject *result);
void vnic_api_request_error(VnicApiRequest *request, const GError *error);
/* The same, and frees @error: a handler's one-line failure. */
void vnic_api_request_fail(VnicApiRequest *request, GError *error);

/* {"commands": [{"name", "query", "arguments": [{"name", "type", "required"}]}]}
 * for the server's whole command table (the query-commands command). */
JsonObject *vnic_api_request_describe_commands(VnicApiRequest *request);

/* From now on the request's connection receives events. */
void vnic_api_request_subscribe(VnicApiRequest *request);

/* Typed arguments.  A missing required argument or a wrong type sets a
 * VNIC_DAEMON_ERROR_INVALID_ARGUMENTS error naming it.  *out is untouched
 * when the argument is absent and optional. */
gboolean vnic_api_arg_string(VnicApiRequest *request, const char *name, gboolean required,
                             const char **out, GError **error);
gboolean vnic_api_arg_int(VnicApiRequest *request, const char *name, gint64 min, gint64 max,
                          gint64 *out, GError **error);
gboolean vnic_api_arg_bool(VnicApiRequest *request, const char *name, gboolean *out,
                           GError **error);

G_END_DECLS
