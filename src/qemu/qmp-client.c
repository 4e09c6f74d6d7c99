/* qmp-client.c: the protocol side of VnicQmpClient.
 *
 * Owns the client's life cycle, the error domain, commands from
 * execute_async until their reply (or timeout, cancellation, close), and
 * routing what QEMU sends.  The connect phase lives in
 * qmp-client-connect.c, events in qmp-client-events.c, the socket in
 * qmp-client-io.c.
 *
 * Invariants:
 *  - every command gets a unique id ("vnic-<n>") and one VnicQmpPending in
 *    client->pending until QEMU answers it or the connection closes, even
 *    when its waiter already got a timeout: that is how a late reply is
 *    recognised and dropped instead of being taken for a protocol error;
 *  - each waiter's GTask returns exactly once;
 *  - once CLOSED, nothing is pending, queued or watched, and the socket is
 *    closed; the struct itself may live on while callers hold references.
 */
#include "qemu/qmp-client-priv.h"

#include <string.h>

typedef struct {
    char *qmp_class;
} VnicQmpErrorPrivate;

static void
vnic_qmp_error_private_init(VnicQmpErrorPrivate *priv)
{
    priv->qmp_class = NULL;
}

static void
vnic_qmp_error_private_copy(const VnicQmpErrorPrivate *src, VnicQmpErrorPrivate *dest)
{
    dest->qmp_class = g_strdup(src->qmp_class);
}

static void
vnic_qmp_error_private_clear(VnicQmpErrorPrivate *priv)
{
    g_clear_pointer(&priv->qmp_class, g_free);
}

/* An extended domain (GLib >= 2.68) rather than G_DEFINE_QUARK, so QEMU's
 * error class travels with the GError.  The macro names the quark after
 * the type: "VnicQmpError". */
G_DEFINE_EXTENDED_ERROR(VnicQmpError, vnic_qmp_error)

const char *
vnic_qmp_error_get_class(const GError *error)
{
    if (error == NULL || error->domain != VNIC_QMP_ERROR)
        return NULL;
    return vnic_qmp_error_get_private(error)->qmp_class;
}

static const char *const error_names[] = {
    [VNIC_QMP_ERROR_CONNECT] = "connect",
    [VNIC_QMP_ERROR_PROTOCOL] = "protocol",
    [VNIC_QMP_ERROR_TOO_LARGE] = "too-large",
    [VNIC_QMP_ERROR_COMMAND] = "command",
    [VNIC_QMP_ERROR_TIMEOUT] = "timeout",
    [VNIC_QMP_ERROR_CLOSED] = "closed",
};

const char *
vnic_qmp_error_code_to_string(VnicQmpErrorCode code)
{
    if ((guint) code >= G_N_ELEMENTS(error_names))
        return NULL;
    return error_names[code];
}

gboolean
vnic_qmp_error_code_from_string(const char *name, VnicQmpErrorCode *code)
{
    for (guint i = 0; i < G_N_ELEMENTS(error_names); i++) {
        if (g_strcmp0(name, error_names[i]) == 0) {
            *code = (VnicQmpErrorCode) i;
            return TRUE;
        }
    }
    return FALSE;
}

static GError *
command_error(const char *command, const char *qmp_class, const char *desc)
{
    GError *error = g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_COMMAND, "%s: %s", command, desc);

    vnic_qmp_error_get_private(error)->qmp_class = g_strdup(qmp_class);
    return error;
}

/* ---- pending commands ---------------------------------------------- */

static void
pending_disarm(VnicQmpPending *p)
{
    vnic_qmp_source_clear(&p->timeout_source);
    vnic_qmp_source_clear(&p->cancel_source);
}

static void
pending_free(VnicQmpPending *p)
{
    pending_disarm(p);
    /* Only the close path frees a pending with a waiter, after stealing it. */
    g_warn_if_fail(p->task == NULL);
    g_clear_object(&p->task);
    g_clear_pointer(&p->data, g_bytes_unref);
    g_clear_object(&p->fds);
    g_free(p->id);
    g_free(p->command);
    g_free(p);
}

static GBytes *
build_line(const char *command, JsonObject *arguments, const char *id)
{
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(GString) text = g_string_sized_new(256);
    g_autoptr(JsonNode) root = NULL;

    json_object_set_string_member(obj, "execute", command);
    if (arguments != NULL)
        json_object_set_object_member(obj, "arguments", json_object_ref(arguments));
    json_object_set_string_member(obj, "id", id);
    /* not a JsonGenerator: it cost 4 to 9 us of CPU per command inside
     * vnicd, three commands per NIC attach */
    root = json_node_init_object(json_node_alloc(), obj);
    vnic_json_append(text, root);
    /* QEMU needs no terminator, but a line per command keeps the stream
     * readable (and our fake peers simple). */
    g_string_append_c(text, '\n');
    return g_string_free_to_bytes(g_steal_pointer(&text));
}

/* Queues @command for writing.  Takes @fds and @task. */
static VnicQmpPending *
pending_queue(VnicQmpClient *client, const char *command, JsonObject *arguments,
              GUnixFDList *fds, GTask *task)
{
    VnicQmpPending *p = g_new0(VnicQmpPending, 1);

    p->client = client;
    p->seq = client->next_seq++;
    p->id = g_strdup_printf("vnic-%" G_GUINT64_FORMAT, p->seq);
    p->command = g_strdup(command);
    p->task = task;
    p->fds = fds;
    p->data = build_line(command, arguments, p->id);
    g_hash_table_insert(client->pending, p->id, p);
    g_queue_push_tail(&client->outq, p);
    vnic_qmp_io_want_write(client);
    return p;
}

/* Completes @p's waiter with @error (taken) before QEMU answered.  The
 * command is dropped if none of it was written yet; otherwise it stays
 * pending so that the reply, when it comes, is recognised and ignored. */
static void
pending_abandon(VnicQmpPending *p, GError *error)
{
    VnicQmpClient *client = p->client;
    GTask *task = g_steal_pointer(&p->task);

    pending_disarm(p);
    if (p->data != NULL && p->written == 0) {
        g_queue_remove(&client->outq, p);
        g_hash_table_remove(client->pending, p->id);
    }
    g_task_return_error(task, error);
    g_object_unref(task);
}

static gboolean
on_pending_timeout(gpointer data)
{
    VnicQmpPending *p = data;
    VnicQmpClient *client = vnic_qmp_client_ref(p->client);

    pending_abandon(p, g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT,
                                   "%s: no reply from QEMU within %u ms",
                                   p->command, p->timeout_ms));
    vnic_qmp_client_unref(client);
    return G_SOURCE_REMOVE;
}

static gboolean
on_pending_cancelled(GCancellable *cancellable, gpointer data)
{
    VnicQmpPending *p = data;
    VnicQmpClient *client = vnic_qmp_client_ref(p->client);

    pending_abandon(p, g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled",
                                   p->command));
    vnic_qmp_client_unref(client);
    return G_SOURCE_REMOVE;
}

static void
pending_arm(VnicQmpPending *p, guint timeout_ms, GCancellable *cancellable)
{
    GMainContext *context = p->client->context;

    p->timeout_ms = timeout_ms;
    if (timeout_ms > 0) {
        p->timeout_source = g_timeout_source_new(timeout_ms);
        g_source_set_callback(p->timeout_source, on_pending_timeout, p, NULL);
        g_source_attach(p->timeout_source, context);
    }
    if (cancellable != NULL) {
        p->cancel_source = g_cancellable_source_new(cancellable);
        g_source_set_callback(p->cancel_source, G_SOURCE_FUNC(on_pending_cancelled), p, NULL);
        g_source_attach(p->cancel_source, context);
    }
}

/* Duplicates the caller's fds (close-on-exec); the list closes them. */
static gboolean
fd_list_dup(const int *fds, guint n_fds, GUnixFDList **ret_list, GError **error)
{
    g_autoptr(GUnixFDList) list = NULL;

    if (n_fds == 0) {
        *ret_list = NULL;
        return TRUE;
    }
    list = g_unix_fd_list_new();
    for (guint i = 0; i < n_fds; i++) {
        if (g_unix_fd_list_append(list, fds[i], error) < 0)
            return FALSE;
    }
    *ret_list = g_steal_pointer(&list);
    return TRUE;
}

void
vnic_qmp_client_execute_async(VnicQmpClient *client, const char *command,
                              JsonObject *arguments, const int *fds, guint n_fds,
                              guint timeout_ms, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    g_autoptr(GUnixFDList) fd_list = NULL;
    g_autoptr(GError) error = NULL;
    VnicQmpPending *p;

    g_return_if_fail(client != NULL && command != NULL);
    g_return_if_fail(n_fds == 0 || fds != NULL);

    task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, vnic_qmp_client_execute_async);
    if (client->state == VNIC_QMP_STATE_CLOSED) {
        g_task_return_new_error(task, VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED, "%s: %s",
                                command, client->close_error->message);
        return;
    }
    /* Not queued at all: a command queued now would be written before the
     * cancellation is noticed. */
    if (g_task_return_error_if_cancelled(task))
        return;
    if (!fd_list_dup(fds, n_fds, &fd_list, &error)) {
        g_task_return_new_error(task, G_IO_ERROR, error->code, "%s: %s", command,
                                error->message);
        return;
    }
    p = pending_queue(client, command, arguments, g_steal_pointer(&fd_list),
                      g_steal_pointer(&task));
    pending_arm(p, timeout_ms, cancellable);
}

JsonNode *
vnic_qmp_client_execute_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
    g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == vnic_qmp_client_execute_async,
                         NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- incoming messages --------------------------------------------- */

static void
fail_protocol(VnicQmpClient *client, const char *message)
{
    vnic_qmp_client_fail(client, g_error_new_literal(VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL,
                                                     message));
}

/* Reads a reply into @ret_value (the "return" member) or @ret_error (QEMU's
 * error).  FALSE if the reply is not shaped as QMP promises. */
const char *
vnic_qmp_member_string(JsonObject *obj, const char *name)
{
    JsonNode *node = json_object_get_member(obj, name);

    if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(node);
}

/* Reads a reply into @ret_value (the "return" member) or @ret_error (QEMU's
 * error).  FALSE if the reply is not shaped as QMP promises. */
static gboolean
parse_reply(JsonObject *msg, const char *command, JsonNode **ret_value, GError **ret_error)
{
    JsonNode *value = json_object_get_member(msg, "return");
    JsonNode *err = json_object_get_member(msg, "error");
    const char *cls, *desc;

    if (value != NULL && err == NULL) {
        *ret_value = json_node_copy(value);
        return TRUE;
    }
    if (err == NULL || value != NULL || !JSON_NODE_HOLDS_OBJECT(err))
        return FALSE;
    cls = vnic_qmp_member_string(json_node_get_object(err), "class");
    desc = vnic_qmp_member_string(json_node_get_object(err), "desc");
    if (cls == NULL || desc == NULL)
        return FALSE;
    *ret_error = command_error(command, cls, desc);
    return TRUE;
}

/* Hands a reply to its waiter; the pending entry goes away. */
static void
complete(VnicQmpClient *client, VnicQmpPending *p, JsonNode *value, GError *error)
{
    g_autoptr(GTask) task = g_steal_pointer(&p->task);
    gboolean handshake = p->handshake;

    if (p == client->fd_inflight) {
        client->fd_inflight = NULL;
        vnic_qmp_io_want_write(client);
    }
    if (task == NULL && !handshake)
        g_debug("dropping the late reply to %s (%s)", p->command, p->id);
    g_hash_table_remove(client->pending, p->id);
    if (handshake)
        vnic_qmp_client_handshake_done(client, value, error);
    else if (task == NULL) {
        g_clear_pointer(&value, json_node_unref);
        g_clear_error(&error);
    } else if (error != NULL)
        g_task_return_error(task, error);
    else
        g_task_return_pointer(task, value, (GDestroyNotify) json_node_unref);
}

static void
handle_reply(VnicQmpClient *client, JsonObject *msg)
{
    const char *id = vnic_qmp_member_string(msg, "id");
    VnicQmpPending *p = id != NULL ? g_hash_table_lookup(client->pending, id) : NULL;
    JsonNode *value = NULL;
    GError *error = NULL;

    /* QEMU answers only what it has read completely. */
    if (p == NULL || p->data != NULL) {
        fail_protocol(client, "QEMU sent a reply to no command of this client");
        return;
    }
    if (!parse_reply(msg, p->command, &value, &error)) {
        fail_protocol(client, "QEMU sent a reply with neither \"return\" nor a valid \"error\"");
        return;
    }
    complete(client, p, value, error);
}

void
vnic_qmp_client_handle_greeting(VnicQmpClient *client, JsonObject *msg)
{
    JsonNode *qmp = json_object_get_member(msg, "QMP");
    VnicQmpPending *p;

    if (qmp == NULL || !JSON_NODE_HOLDS_OBJECT(qmp)) {
        fail_protocol(client, "QEMU did not start with the QMP greeting");
        return;
    }
    client->greeting = json_object_ref(json_node_get_object(qmp));
    client->state = VNIC_QMP_STATE_NEGOTIATING;
    p = pending_queue(client, "qmp_capabilities", NULL, NULL, NULL);
    p->handshake = TRUE;
}

void
vnic_qmp_client_dispatch(VnicQmpClient *client, JsonObject *msg)
{
    if (client->state == VNIC_QMP_STATE_GREETING)
        vnic_qmp_client_handle_greeting(client, msg);
    else if (json_object_has_member(msg, "event"))
        vnic_qmp_client_handle_event(client, msg);
    else if (json_object_has_member(msg, "return") || json_object_has_member(msg, "error"))
        handle_reply(client, msg);
    else
        fail_protocol(client, "QEMU sent a message that is neither a reply nor an event");
}

/* ---- life cycle ------------------------------------------------------ */

VnicQmpClient *
vnic_qmp_client_new_internal(const char *path)
{
    VnicQmpClient *client = g_new0(VnicQmpClient, 1);

    g_ref_count_init(&client->ref);
    client->state = VNIC_QMP_STATE_CONNECTING;
    client->context = g_main_context_ref_thread_default();
    client->path = g_strdup(path);
    client->inbuf = g_byte_array_new();
    client->max_message = VNIC_QMP_DEFAULT_MAX_MESSAGE;
    client->next_seq = 1;
    client->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify) pending_free);
    g_queue_init(&client->outq);
    client->handlers = g_ptr_array_new_with_free_func(vnic_qmp_handler_unref);
    client->next_handler_id = 1;
    return client;
}

VnicQmpClient *
vnic_qmp_client_ref(VnicQmpClient *client)
{
    g_ref_count_inc(&client->ref);
    return client;
}

void
vnic_qmp_client_unref(VnicQmpClient *client)
{
    if (!g_ref_count_dec(&client->ref))
        return;
    /* Only a closed client loses its last reference. */
    g_warn_if_fail(client->state == VNIC_QMP_STATE_CLOSED);
    g_warn_if_fail(g_hash_table_size(client->pending) == 0 && client->read_source == NULL);
    g_hash_table_unref(client->pending);
    g_ptr_array_unref(client->handlers);
    g_byte_array_unref(client->inbuf);
    g_clear_pointer(&client->greeting, json_object_unref);
    g_clear_error(&client->close_error);
    g_main_context_unref(client->context);
    g_free(client->path);
    g_free(client);
}

typedef struct {
    GTask *task;
    GError *error;
} DeferredError;

static gboolean
deferred_error_cb(gpointer data)
{
    DeferredError *d = data;

    g_task_return_error(d->task, d->error);
    g_object_unref(d->task);
    g_free(d);
    return G_SOURCE_REMOVE;
}

/* Returns @error (taken) on @task (taken) now, or from an idle callback so
 * that no user code runs inside vnic_qmp_client_free().  The idle source
 * owns itself and only the task: it needs no id in the client. */
static void
task_return_error(GTask *task, GError *error, gboolean defer)
{
    DeferredError *d;
    GSource *idle;

    if (!defer) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    d = g_new0(DeferredError, 1);
    d->task = task;
    d->error = error;
    idle = g_idle_source_new();
    g_source_set_callback(idle, deferred_error_cb, d, NULL);
    g_source_attach(idle, g_task_get_context(task));
    g_source_unref(idle);
}

static gint
pending_cmp_seq(gconstpointer a, gconstpointer b)
{
    const VnicQmpPending *pa = *(VnicQmpPending *const *) a;
    const VnicQmpPending *pb = *(VnicQmpPending *const *) b;

    return pa->seq < pb->seq ? -1 : pa->seq > pb->seq;
}

/* Fails every waiter with the close reason, oldest command first. */
static void
fail_pending(VnicQmpClient *client, gboolean defer)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    const GError *reason = client->close_error;
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, client->pending);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(all, value);
    g_ptr_array_sort(all, pending_cmp_seq);
    g_queue_clear(&client->outq);
    client->fd_inflight = NULL;
    for (guint i = 0; i < all->len; i++) {
        VnicQmpPending *p = g_ptr_array_index(all, i);
        GTask *task = g_steal_pointer(&p->task);

        pending_disarm(p);
        if (task != NULL)
            task_return_error(task, g_error_new(reason->domain, reason->code, "%s: %s",
                                                p->command, reason->message),
                              defer);
    }
    g_hash_table_remove_all(client->pending);
}

/* The connect task holds the owner's reference: failing it drops that. */
static void
fail_connect(VnicQmpClient *client, gboolean defer)
{
    GTask *task = g_steal_pointer(&client->connect_task);
    const GError *reason = client->close_error;

    if (task == NULL)
        return;
    vnic_qmp_client_connect_disarm(client);
    if (client->path != NULL)
        task_return_error(task, g_error_new(reason->domain, reason->code, "QMP socket '%s': %s",
                                            client->path, reason->message),
                          defer);
    else
        task_return_error(task, g_error_copy(reason), defer);
    vnic_qmp_client_unref(client);
}

/* Caller holds a reference besides the owner's. */
static void
close_connection(VnicQmpClient *client, GError *reason, gboolean defer)
{
    client->state = VNIC_QMP_STATE_CLOSED;
    client->close_error = reason;
    vnic_qmp_io_stop(client);
    fail_pending(client, defer);
    fail_connect(client, defer);
}

void
vnic_qmp_client_fail(VnicQmpClient *client, GError *reason)
{
    VnicQmpCloseFunc func;
    gpointer data;
    GDestroyNotify notify;

    if (client->state == VNIC_QMP_STATE_CLOSED) {
        g_error_free(reason);
        return;
    }
    vnic_qmp_client_ref(client);
    close_connection(client, reason, FALSE);
    /* Taken before the call: it runs once, and may free the client. */
    func = g_steal_pointer(&client->close_func);
    data = g_steal_pointer(&client->close_data);
    notify = g_steal_pointer(&client->close_notify);
    if (func != NULL)
        func(client, client->close_error, data);
    if (notify != NULL)
        notify(data);
    vnic_qmp_client_unref(client);
}

void
vnic_qmp_client_free(VnicQmpClient *client)
{
    if (client == NULL)
        return;
    g_return_if_fail(client->connect_task == NULL);

    vnic_qmp_client_ref(client);
    if (client->state != VNIC_QMP_STATE_CLOSED)
        close_connection(client, g_error_new_literal(VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED,
                                                     "the QMP client was freed"),
                         TRUE);
    vnic_qmp_client_drop_handlers(client);
    vnic_qmp_client_set_close_func(client, NULL, NULL, NULL);
    vnic_qmp_client_unref(client); /* ours, taken because destroy notifies are user code */
    vnic_qmp_client_unref(client); /* the owner's */
}

void
vnic_qmp_client_set_close_func(VnicQmpClient *client, VnicQmpCloseFunc func,
                               gpointer user_data, GDestroyNotify notify)
{
    GDestroyNotify old_notify;
    gpointer old_data;

    g_return_if_fail(client != NULL);

    old_notify = client->close_notify;
    old_data = client->close_data;
    client->close_func = func;
    client->close_data = user_data;
    client->close_notify = notify;
    if (old_notify != NULL)
        old_notify(old_data);
}

JsonObject *
vnic_qmp_client_get_greeting(VnicQmpClient *client)
{
    g_return_val_if_fail(client != NULL, NULL);
    return client->greeting;
}

gboolean
vnic_qmp_client_is_closed(VnicQmpClient *client)
{
    g_return_val_if_fail(client != NULL, TRUE);
    return client->state == VNIC_QMP_STATE_CLOSED;
}

void
vnic_qmp_client_set_max_message_size(VnicQmpClient *client, gsize max_bytes)
{
    g_return_if_fail(client != NULL && max_bytes > 0);
    /* GByteArray lengths are guint; leave room for one more read. */
    client->max_message = MIN(max_bytes, (gsize) G_MAXUINT / 2);
}
