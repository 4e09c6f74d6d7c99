/* qmp-client.h: an asynchronous client for QEMU's monitor protocol (QMP).
 *
 * One VnicQmpClient talks to one QEMU over a unix stream socket, on the
 * GMainContext that was thread-default when the connection was started.
 * Everything is non-blocking: connecting (greeting + qmp_capabilities),
 * commands (GTask _async/_finish, matched to replies by "id", so replies may
 * come in any order), events (handlers called in arrival order, also while
 * commands are pending) and file descriptors sent with a command
 * (SCM_RIGHTS, for getfd).
 *
 * The client is a plain opaque struct, not a GObject: it has exactly one
 * owner (the code that finished the connect), vnic's house style is
 * new/free with autoptr, and events need only a handler list, not the
 * signal machinery.  Re-entrancy is still safe: a callback may free the
 * client, the client keeps itself alive internally until it is out of its
 * own code.  It is not thread-safe; use it from its context's thread.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* VNIC_QMP_ERROR is an extended GError domain: besides code and message,
 * a VNIC_QMP_ERROR_COMMAND error carries QEMU's error class
 * (vnic_qmp_error_get_class()), kept through g_error_copy and
 * g_prefix_error. */
#define VNIC_QMP_ERROR (vnic_qmp_error_quark())
GQuark vnic_qmp_error_quark(void);

/* Codes are API (the daemon maps them to wire names, see
 * vnic_qmp_error_code_to_string()): add at the end only. */
typedef enum {
    VNIC_QMP_ERROR_CONNECT,   /* no monitor at that path, or the handshake failed */
    VNIC_QMP_ERROR_PROTOCOL,  /* malformed JSON or a message QMP does not send */
    VNIC_QMP_ERROR_TOO_LARGE, /* a message longer than the client's limit */
    VNIC_QMP_ERROR_COMMAND,   /* QEMU answered {"error": …}: "<command>: <desc>" */
    VNIC_QMP_ERROR_TIMEOUT,   /* no reply within the command's timeout */
    VNIC_QMP_ERROR_CLOSED,    /* the connection is gone (QEMU exited, or an earlier error) */
} VnicQmpErrorCode;

/* QEMU's error class ("GenericError", "CommandNotFound", "DeviceNotFound",
 * …) of a VNIC_QMP_ERROR_COMMAND error; NULL for any other error. */
const char *vnic_qmp_error_get_class(const GError *error);

/* "connect", "protocol", "too-large", "command", "timeout", "closed". */
const char *vnic_qmp_error_code_to_string(VnicQmpErrorCode code);
gboolean vnic_qmp_error_code_from_string(const char *name, VnicQmpErrorCode *code);

/* QMP sends one JSON object per line.  Longer lines are refused with
 * VNIC_QMP_ERROR_TOO_LARGE and the connection is closed: QEMU's biggest
 * replies (query-qmp-schema) are about 200 KiB. */
#define VNIC_QMP_DEFAULT_MAX_MESSAGE (16u * 1024 * 1024)

typedef struct _VnicQmpClient VnicQmpClient;

/* Connects to the QMP unix socket at @path, reads the greeting and
 * negotiates capabilities.  @timeout_ms (0: none) covers all of it.  The
 * result is the ready client, or VNIC_QMP_ERROR_CONNECT /
 * G_IO_ERROR_CANCELLED / a VNIC_QMP_ERROR from the handshake. */
void vnic_qmp_client_connect_async(const char *path, guint timeout_ms,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);

/* The same over an already connected stream socket.  Takes *@fd whatever
 * happens (it is set to -1; on failure it is closed). */
void vnic_qmp_client_connect_fd_async(int *fd, guint timeout_ms,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);

/* Finishes either connect call.  Returns the client (free with
 * vnic_qmp_client_free) or NULL with @error set. */
VnicQmpClient *vnic_qmp_client_connect_finish(GAsyncResult *result, GError **error);

/* Closes the connection and frees the client; takes NULL.  Commands still
 * pending complete with VNIC_QMP_ERROR_CLOSED from an idle callback, after
 * this returns; their callbacks must not use the client any more.  Event
 * handlers are dropped (their destroy notifies run), the close func is not
 * called. */
void vnic_qmp_client_free(VnicQmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicQmpClient, vnic_qmp_client_free)

/* The "QMP" member of QEMU's greeting ({"version": …, "capabilities": …});
 * owned by the client. */
JsonObject *vnic_qmp_client_get_greeting(VnicQmpClient *client);

/* TRUE once the connection is gone; commands then fail at once with
 * VNIC_QMP_ERROR_CLOSED. */
gboolean vnic_qmp_client_is_closed(VnicQmpClient *client);

/* Changes the message size limit (default VNIC_QMP_DEFAULT_MAX_MESSAGE). */
void vnic_qmp_client_set_max_message_size(VnicQmpClient *client, gsize max_bytes);

/* Sends @command.  @arguments (nullable) is serialized before this returns
 * and not consumed: the caller keeps its reference.  @fds (n_fds of them,
 * may be NULL when 0) travel with the command as SCM_RIGHTS; the client
 * sends duplicates and closes them once sent or on any failure, so the
 * caller keeps its fds open and owns them (it may close them as soon as
 * this returns).  QEMU keeps only the last fds it received, so a command
 * with fds is held back until the previous one with fds has been answered.
 * A command is written before this returns when the socket takes it and
 * nothing is held back before it; the rest goes from the main loop.
 *
 * @timeout_ms (0: none) counts from this call.  After a timeout or
 * cancellation, a late reply is dropped; a command not yet written is not
 * sent at all, one already (partly) written still is — QMP cannot take it
 * back. */
void vnic_qmp_client_execute_async(VnicQmpClient *client, const char *command,
                                   JsonObject *arguments, const int *fds, guint n_fds,
                                   guint timeout_ms, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);

/* Takes no client: the callback may run after the client was freed.
 * Returns QEMU's "return" value (never NULL on success; the caller owns it:
 * json_node_unref), or NULL with @error: VNIC_QMP_ERROR_COMMAND (QEMU's
 * error, with its class), _TIMEOUT, _CLOSED, _PROTOCOL, _TOO_LARGE, or
 * G_IO_ERROR_CANCELLED. */
JsonNode *vnic_qmp_client_execute_finish(GAsyncResult *result, GError **error);

/* An event: @event is QEMU's name ("DEVICE_DELETED"), @data its "data"
 * member (an empty object when QEMU sent none), @timestamp_us QEMU's
 * timestamp in microseconds since the epoch.  Both borrowed for the call. */
typedef void (*VnicQmpEventFunc)(VnicQmpClient *client, const char *event, JsonObject *data,
                                 gint64 timestamp_us, gpointer user_data);

/* Subscribes @func to @event (NULL: every event).  Handlers run in the
 * order they were added, for events in the order QEMU sent them.  Returns
 * an id > 0 for vnic_qmp_client_remove_event_handler().  @notify runs on
 * @user_data when the handler is removed or the client freed. */
guint vnic_qmp_client_add_event_handler(VnicQmpClient *client, const char *event,
                                        VnicQmpEventFunc func, gpointer user_data,
                                        GDestroyNotify notify);

/* Removes a handler; safe from inside any handler.  Unknown ids are a bug. */
void vnic_qmp_client_remove_event_handler(VnicQmpClient *client, guint id);

/* Called once when the connection is lost (QEMU exited or closed it, or
 * the client gave up on a protocol error), after the pending commands have
 * failed.  Not called by vnic_qmp_client_free().  Replaces any earlier
 * close func (whose @notify runs). */
typedef void (*VnicQmpCloseFunc)(VnicQmpClient *client, const GError *reason,
                                 gpointer user_data);
void vnic_qmp_client_set_close_func(VnicQmpClient *client, VnicQmpCloseFunc func,
                                    gpointer user_data, GDestroyNotify notify);

/* qmp-client-json.c: @line as a JSON object when it is plain JSON (objects,
 * arrays, strings without \u, integers of up to 18 digits, true, false,
 * null), the same mutable nodes JsonParser makes of it; NULL when it is
 * anything else: JsonParser decides then.  QEMU's replies and vnic's API
 * requests nearly always are plain, and JsonParser costs a multiple. */
JsonObject *vnic_json_parse_plain(const char *line, gsize len);
/* json-glib's parser and the plain reader recurse once per nesting level:
 * a line of a few million '[' would overflow the stack.  FALSE when @line
 * nests deeper than @max, counted without a stack before parsing; brackets
 * in strings do not count, an unbalanced line is left to the parser. */
gboolean vnic_json_nesting_within(const char *line, gsize len, guint max);
/* Appends @node to @out as compact JSON, members in their order: the one
 * writer of QMP commands and API replies (qmp-client-json.c). */
void vnic_json_append(GString *out, JsonNode *node);

G_END_DECLS
