/* qmp-client-events.c: event subscribers of VnicQmpClient.
 *
 * Owns the handler list.  Events are delivered synchronously from the read
 * callback, in the order QEMU sent them and interleaved exactly with reply
 * completions, so a subscriber sees DEVICE_DELETED after the device_del
 * reply that preceded it on the wire.  Handlers are reference counted so
 * that one may remove itself or others, add handlers, or free the client
 * during a dispatch: a dispatch runs on a snapshot of the handlers
 * subscribed when the event arrived and skips those removed meanwhile; a
 * handler's destroy notify runs when the last dispatch using it is over.
 */
#include "qemu/qmp-client-priv.h"

#include <string.h>

typedef struct {
    grefcount ref;            /* the handler list's, +1 per dispatch in progress */
    guint id;
    char *event;              /* NULL: every event */
    VnicQmpEventFunc func;
    gpointer user_data;
    GDestroyNotify notify;
    gboolean removed;
} VnicQmpHandler;

static VnicQmpHandler *
handler_ref(VnicQmpHandler *h)
{
    g_ref_count_inc(&h->ref);
    return h;
}

void
vnic_qmp_handler_unref(gpointer data)
{
    VnicQmpHandler *h = data;

    if (!g_ref_count_dec(&h->ref))
        return;
    if (h->notify != NULL)
        h->notify(h->user_data);
    g_free(h->event);
    g_free(h);
}

static gint64
event_timestamp(JsonObject *msg)
{
    JsonNode *node = json_object_get_member(msg, "timestamp");
    JsonObject *ts;

    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        return 0;
    ts = json_node_get_object(node);
    return json_object_get_int_member_with_default(ts, "seconds", 0) * G_USEC_PER_SEC +
           json_object_get_int_member_with_default(ts, "microseconds", 0);
}

void
vnic_qmp_client_handle_event(VnicQmpClient *client, JsonObject *msg)
{
    const char *event = vnic_qmp_member_string(msg, "event");
    JsonNode *data = json_object_get_member(msg, "data");
    g_autoptr(JsonObject) empty = json_object_new();
    g_autoptr(GPtrArray) snapshot = g_ptr_array_new_with_free_func(vnic_qmp_handler_unref);
    gint64 timestamp = event_timestamp(msg);

    if (event == NULL || (data != NULL && !JSON_NODE_HOLDS_OBJECT(data))) {
        vnic_qmp_client_fail(client, g_error_new_literal(
                                         VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL,
                                         "QEMU sent an event without a name or with non-object data"));
        return;
    }
    /* Handlers may add or remove handlers: run those subscribed now, and
     * skip any removed on the way. */
    for (guint i = 0; i < client->handlers->len; i++) {
        VnicQmpHandler *h = g_ptr_array_index(client->handlers, i);
        if (h->event == NULL || strcmp(h->event, event) == 0)
            g_ptr_array_add(snapshot, handler_ref(h));
    }
    for (guint i = 0; i < snapshot->len; i++) {
        VnicQmpHandler *h = g_ptr_array_index(snapshot, i);
        if (!h->removed)
            h->func(client, event, data != NULL ? json_node_get_object(data) : empty, timestamp,
                    h->user_data);
    }
}

guint
vnic_qmp_client_add_event_handler(VnicQmpClient *client, const char *event,
                                  VnicQmpEventFunc func, gpointer user_data,
                                  GDestroyNotify notify)
{
    VnicQmpHandler *h;

    g_return_val_if_fail(client != NULL && func != NULL, 0);

    h = g_new0(VnicQmpHandler, 1);
    g_ref_count_init(&h->ref);
    h->id = client->next_handler_id++;
    h->event = g_strdup(event);
    h->func = func;
    h->user_data = user_data;
    h->notify = notify;
    g_ptr_array_add(client->handlers, h);
    return h->id;
}

void
vnic_qmp_client_remove_event_handler(VnicQmpClient *client, guint id)
{
    g_return_if_fail(client != NULL);

    for (guint i = 0; i < client->handlers->len; i++) {
        VnicQmpHandler *h = g_ptr_array_index(client->handlers, i);
        if (h->id == id) {
            h->removed = TRUE;
            g_ptr_array_remove_index(client->handlers, i);
            return;
        }
    }
    g_return_if_reached();
}

void
vnic_qmp_client_drop_handlers(VnicQmpClient *client)
{
    for (guint i = 0; i < client->handlers->len; i++)
        ((VnicQmpHandler *) g_ptr_array_index(client->handlers, i))->removed = TRUE;
    g_ptr_array_set_size(client->handlers, 0);
}
