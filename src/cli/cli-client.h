/* cli-client.h: a small synchronous client of the vnicd API (docs/api.md).
 *
 * One connection to a daemon socket; one request at a time: a call sends a
 * request line with a fresh id and reads lines until the reply with that id,
 * handing any event line met on the way to the event function.  Blocking
 * I/O, no main loop: the CLI does one thing and exits.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The control socket when neither -c nor $VNIC_SOCKET names one. */
#define VNIC_CLI_DEFAULT_SOCKET "/run/vnic/vnicd.sock"

/* The longest line accepted from the daemon (a large dumpxml is fine). */
#define VNIC_CLI_CLIENT_MAX_LINE (64 * 1024 * 1024)

#define VNIC_CLI_CLIENT_ERROR (vnic_cli_client_error_quark())
GQuark vnic_cli_client_error_quark(void);

typedef enum {
    VNIC_CLI_CLIENT_ERROR_CONNECT,  /* the socket cannot be reached: missing, refused, … */
    VNIC_CLI_CLIENT_ERROR_DAEMON,   /* vnicd answered with an error: message is its desc */
    VNIC_CLI_CLIENT_ERROR_IO,       /* reading or writing the socket failed */
    VNIC_CLI_CLIENT_ERROR_CLOSED,   /* vnicd closed the connection */
    VNIC_CLI_CLIENT_ERROR_PROTOCOL, /* a line that is no JSON object, or too long */
    VNIC_CLI_CLIENT_ERROR_TIMEOUT,  /* no event before the deadline */
} VnicCliClientErrorCode;

typedef struct _VnicCliClient VnicCliClient;

/* Called with each event object ({"event", "data", "timestamp"}), borrowed. */
typedef void (*VnicCliEventFunc)(JsonObject *event, gpointer user_data);

/* Connects to the unix socket @path.  NULL and CONNECT, naming @path and
 * the reason, when it cannot. */
VnicCliClient *vnic_cli_client_connect(const char *path, GError **error);
void vnic_cli_client_free(VnicCliClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicCliClient, vnic_cli_client_free)

/* Events read from now on go to @func (NULL: they are dropped). */
void vnic_cli_client_set_event_func(VnicCliClient *client, VnicCliEventFunc func,
                                    gpointer user_data);

/* Runs @command with @arguments (NULL: none; borrowed) and waits as long
 * as the daemon takes.  Returns the reply's "return" value (the caller owns
 * it), or NULL and @error: DAEMON when vnicd refused, with its desc as the
 * message and its class in *@ret_class (if not NULL; untouched otherwise);
 * IO, CLOSED or PROTOCOL when the connection failed. */
JsonNode *vnic_cli_client_call(VnicCliClient *client, const char *command,
                               JsonObject *arguments, char **ret_class, GError **error);

/* Reads until one event has been passed to the event function.  @deadline
 * is a g_get_monotonic_time() value, or -1 to wait for ever.  FALSE and
 * TIMEOUT when it passes first; CLOSED, IO or PROTOCOL when the connection
 * fails.  Stray replies are skipped. */
gboolean vnic_cli_client_next_event(VnicCliClient *client, gint64 deadline, GError **error);

G_END_DECLS
