/* qmp-client-connect.c: getting a VnicQmpClient to READY.
 *
 * Owns the connect task and what bounds it: the timeout, the caller's
 * cancellable, and the GSocketClient connect.  The connect task holds the
 * client's owner reference until it returns: on success the reference goes
 * to the caller with the result, on failure fail_connect() in qmp-client.c
 * drops it.  The GSocketClient callback holds a reference of its own, so a
 * connect that timed out or was cancelled may still finish safely later.
 */
#include "qemu/qmp-client-priv.h"

#include <unistd.h>

static gboolean
on_connect_timeout(gpointer data)
{
    VnicQmpClient *client = data;

    vnic_qmp_client_fail(client, g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT,
                                             "no QMP handshake within %u ms",
                                             client->connect_timeout_ms));
    return G_SOURCE_REMOVE;
}

static gboolean
on_connect_cancelled(GCancellable *cancellable, gpointer data)
{
    VnicQmpClient *client = data;

    vnic_qmp_client_fail(client, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                     "connecting was cancelled"));
    return G_SOURCE_REMOVE;
}

/* Creates the connect task (taking the owner's reference) and arms its
 * timeout and cancellation. */
static void
connect_begin(VnicQmpClient *client, guint timeout_ms, GCancellable *cancellable,
              GAsyncReadyCallback callback, gpointer user_data)
{
    client->connect_task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(client->connect_task, vnic_qmp_client_connect_async);
    client->connect_timeout_ms = timeout_ms;
    if (timeout_ms > 0) {
        client->connect_timeout_source = g_timeout_source_new(timeout_ms);
        g_source_set_callback(client->connect_timeout_source, on_connect_timeout, client, NULL);
        g_source_attach(client->connect_timeout_source, client->context);
    }
    if (cancellable != NULL) {
        client->connect_cancel_source = g_cancellable_source_new(cancellable);
        g_source_set_callback(client->connect_cancel_source, G_SOURCE_FUNC(on_connect_cancelled),
                              client, NULL);
        g_source_attach(client->connect_cancel_source, client->context);
    }
}

void
vnic_qmp_client_connect_disarm(VnicQmpClient *client)
{
    vnic_qmp_source_clear(&client->connect_timeout_source);
    vnic_qmp_source_clear(&client->connect_cancel_source);
    g_clear_object(&client->connect_cancellable);
}

static void
start_handshake(VnicQmpClient *client)
{
    client->state = VNIC_QMP_STATE_GREETING;
    vnic_qmp_io_start(client);
}

static void
on_connected(GObject *source, GAsyncResult *result, gpointer data)
{
    VnicQmpClient *client = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnection) conn = NULL;

    conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
    if (client->state == VNIC_QMP_STATE_CLOSED) {
        /* Timed out or cancelled meanwhile: the caller has its error. */
        if (conn != NULL)
            g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    } else if (conn == NULL) {
        vnic_qmp_client_fail(client, g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_CONNECT,
                                                 "cannot connect: %s", error->message));
    } else {
        client->socket = g_object_ref(g_socket_connection_get_socket(conn));
        client->connection = g_steal_pointer(&conn);
        start_handshake(client);
    }
    vnic_qmp_client_unref(client);
}

void
vnic_qmp_client_connect_async(const char *path, guint timeout_ms, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GSocketClient) socket_client = NULL;
    g_autoptr(GSocketAddress) address = NULL;
    VnicQmpClient *client;

    g_return_if_fail(path != NULL);

    client = vnic_qmp_client_new_internal(path);
    connect_begin(client, timeout_ms, cancellable, callback, user_data);
    socket_client = g_socket_client_new();
    g_socket_client_set_enable_proxy(socket_client, FALSE);
    address = g_unix_socket_address_new(path);
    client->connect_cancellable = g_cancellable_new();
    g_socket_client_connect_async(socket_client, G_SOCKET_CONNECTABLE(address),
                                  client->connect_cancellable, on_connected,
                                  vnic_qmp_client_ref(client));
}

void
vnic_qmp_client_connect_fd_async(int *fd, guint timeout_ms, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    VnicQmpClient *client;
    GSocket *socket;
    int raw;

    g_return_if_fail(fd != NULL && *fd >= 0);

    raw = *fd;
    *fd = -1;
    client = vnic_qmp_client_new_internal(NULL);
    connect_begin(client, timeout_ms, cancellable, callback, user_data);
    socket = g_socket_new_from_fd(raw, &error);
    if (socket == NULL) {
        /* g_socket_new_from_fd() leaves the fd to us on failure. */
        close(raw);
        vnic_qmp_client_fail(client, g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_CONNECT,
                                                 "fd %d is not a usable socket: %s", raw,
                                                 error->message));
        return;
    }
    client->socket = socket;
    start_handshake(client);
}

void
vnic_qmp_client_handshake_done(VnicQmpClient *client, JsonNode *value, GError *error)
{
    GTask *task;

    if (value != NULL)
        json_node_unref(value);
    if (error != NULL) {
        vnic_qmp_client_fail(client, g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_CONNECT,
                                                 "QEMU refused the capabilities negotiation: %s",
                                                 error->message));
        g_error_free(error);
        return;
    }
    vnic_qmp_client_connect_disarm(client);
    client->state = VNIC_QMP_STATE_READY;
    task = g_steal_pointer(&client->connect_task);
    g_task_return_pointer(task, client, (GDestroyNotify) vnic_qmp_client_free);
    g_object_unref(task);
}

VnicQmpClient *
vnic_qmp_client_connect_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
    g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == vnic_qmp_client_connect_async,
                         NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}
