/* qmp-client-priv.h: the insides of VnicQmpClient, shared by qmp-client.c
 * (protocol: handshake, commands, replies, events, life cycle) and
 * qmp-client-io.c (socket: framing, size limit, JSON parsing, writing with
 * SCM_RIGHTS).  Not for use outside src/qemu except by its tests.
 */
#pragma once

#include "qemu/qmp-client.h"

#include <gio/gunixfdlist.h>

G_BEGIN_DECLS

typedef enum {
    VNIC_QMP_STATE_CONNECTING,  /* the socket is not connected yet */
    VNIC_QMP_STATE_GREETING,    /* waiting for {"QMP": …} */
    VNIC_QMP_STATE_NEGOTIATING, /* qmp_capabilities sent, not answered */
    VNIC_QMP_STATE_READY,
    VNIC_QMP_STATE_CLOSED,      /* final: the socket is closed, close_error says why */
} VnicQmpState;

/* One command from the moment it is queued until QEMU answers it or the
 * connection closes.  Owned by client->pending; also listed (borrowed) in
 * client->outq while not fully written. */
typedef struct {
    VnicQmpClient *client;    /* borrowed: the client fails every pending before it goes */
    guint64 seq;              /* queueing order, for failing waiters in order */
    char *id;
    char *command;
    GTask *task;              /* NULL once completed early (timeout, cancel) or for the handshake */
    gboolean handshake;       /* the client's own qmp_capabilities */
    guint timeout_ms;
    GBytes *data;             /* the line to write; NULL once fully written */
    gsize written;
    GUnixFDList *fds;         /* duplicates to send with the first byte; NULL once sent */
    GSource *timeout_source;
    GSource *cancel_source;
} VnicQmpPending;

struct _VnicQmpClient {
    grefcount ref;            /* 1 for the owner, +1 while inside the client's own callbacks */
    VnicQmpState state;
    GError *close_error;      /* set exactly when state is CLOSED */
    GMainContext *context;    /* where every source of the client is attached */
    char *path;               /* NULL for a client made from an fd */

    GSocketConnection *connection; /* NULL for a client made from an fd */
    GSocket *socket;
    GSource *read_source;
    GSource *write_source;    /* only while something is waiting to be written */
    GByteArray *inbuf;        /* bytes received and not yet consumed as lines */
    gsize scan_from;          /* inbuf holds no '\n' before this offset */
    gsize max_message;
    JsonObject *greeting;

    guint64 next_seq;
    GHashTable *pending;      /* id → VnicQmpPending, owned */
    GQueue outq;              /* pending not fully written, in order */
    VnicQmpPending *fd_inflight; /* sent with fds and not answered: holds back the next fds */

    GPtrArray *handlers;      /* VnicQmpHandler, in subscription order */
    guint next_handler_id;
    VnicQmpCloseFunc close_func;
    gpointer close_data;
    GDestroyNotify close_notify;

    GTask *connect_task;      /* until the handshake ends; holds the owner's reference */
    GCancellable *connect_cancellable; /* stops GSocketClient when the connect fails */
    GSource *connect_timeout_source;
    GSource *connect_cancel_source;
    guint connect_timeout_ms;
};

VnicQmpClient *vnic_qmp_client_ref(VnicQmpClient *client);
void vnic_qmp_client_unref(VnicQmpClient *client);

/* Closes the connection for @reason (taken): every waiter fails with
 * @reason's code, then the close func runs.  No-op when already closed. */
void vnic_qmp_client_fail(VnicQmpClient *client, GError *reason);

/* One complete message from QEMU, in order of arrival. */
void vnic_qmp_client_dispatch(VnicQmpClient *client, JsonObject *message);

/* A client in state CONNECTING with one reference (the owner's). */
VnicQmpClient *vnic_qmp_client_new_internal(const char *path);

/* Stores the greeting and sends qmp_capabilities. */
void vnic_qmp_client_handle_greeting(VnicQmpClient *client, JsonObject *message);

/* The string member @name of @obj, or NULL if missing or not a string. */
const char *vnic_qmp_member_string(JsonObject *obj, const char *name);

/* qmp-client-events.c */
/* Free func of client->handlers. */
void vnic_qmp_handler_unref(gpointer handler);
void vnic_qmp_client_handle_event(VnicQmpClient *client, JsonObject *message);
/* Removes every handler (vnic_qmp_client_free). */
void vnic_qmp_client_drop_handlers(VnicQmpClient *client);

/* qmp-client-connect.c */
/* The reply to qmp_capabilities: @value or @error (both taken). */
void vnic_qmp_client_handshake_done(VnicQmpClient *client, JsonNode *value, GError *error);
/* Removes the connect timeout and cancellation watch. */
void vnic_qmp_client_connect_disarm(VnicQmpClient *client);

/* qmp-client-io.c */
/* Deepest JSON nesting accepted from QEMU (its replies use fewer than 10). */
#define VNIC_QMP_MAX_NESTING 128u
/* One line from QEMU as a JSON object, or NULL with a
 * VNIC_QMP_ERROR_PROTOCOL error.  Pure: the fuzzer's entry point. */
JsonObject *vnic_qmp_parse_message(const char *line, gsize len, GError **error);
/* Destroys and drops a stored source; *source becomes NULL. */
void vnic_qmp_source_clear(GSource **source);
void vnic_qmp_io_start(VnicQmpClient *client);
void vnic_qmp_io_stop(VnicQmpClient *client);
void vnic_qmp_io_want_write(VnicQmpClient *client);

G_END_DECLS
