/* qmp-client-io.c: the socket side of VnicQmpClient.
 *
 * Owns the read and write sources, the input buffer and the output queue.
 * Input is cut into lines (QMP sends one JSON object per line, "\r\n"
 * terminated), each parsed on its own and handed to
 * vnic_qmp_client_dispatch() in order.  A line longer than max_message, or
 * an unfinished one that already is, closes the connection with
 * VNIC_QMP_ERROR_TOO_LARGE: the buffer never grows past max_message plus
 * one read.  Output is written in queue order, never more than what the
 * socket takes; a command's fds go with its first byte.
 *
 * Invariants: the write source exists only while the queue's head can be
 * written; after vnic_qmp_io_stop() no source remains and the socket is
 * closed.  Every source callback holds a client reference, because what it
 * calls may run user callbacks that free the client.
 */
#include "qemu/qmp-client-priv.h"

#include <gio/gunixfdmessage.h>
#include <string.h>

/* Bytes asked from the socket per wake-up: most QMP messages fit in one. */
#define READ_CHUNK 65536

static gboolean on_readable(GSocket *socket, GIOCondition condition, gpointer data);
static gboolean on_writable(GSocket *socket, GIOCondition condition, gpointer data);

static GSource *
socket_source(VnicQmpClient *client, GIOCondition condition, GSocketSourceFunc func)
{
    GSource *source = g_socket_create_source(client->socket, condition, NULL);

    g_source_set_callback(source, G_SOURCE_FUNC(func), client, NULL);
    /* GLib takes a source that may not recurse off the poll set while it
     * is dispatched and puts it back after, and each change writes the
     * context's wake-up eventfd: two writes, a read and one more poll()
     * per reply, three replies per NIC attach.  Nothing runs a nested
     * main loop from these callbacks, so none is re-entered either way. */
    g_source_set_can_recurse(source, TRUE);
    g_source_attach(source, client->context);
    return source;
}

void
vnic_qmp_source_clear(GSource **source)
{
    if (*source == NULL)
        return;
    g_source_destroy(*source);
    g_clear_pointer(source, g_source_unref);
}

void
vnic_qmp_io_start(VnicQmpClient *client)
{
    g_return_if_fail(client->socket != NULL && client->read_source == NULL);

    /* GSocket sockets are O_NONBLOCK underneath; this makes calls on them
     * return G_IO_ERROR_WOULD_BLOCK instead of waiting. */
    g_socket_set_blocking(client->socket, FALSE);
    client->read_source = socket_source(client, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable);
}

void
vnic_qmp_io_stop(VnicQmpClient *client)
{
    vnic_qmp_source_clear(&client->read_source);
    vnic_qmp_source_clear(&client->write_source);
    if (client->connect_cancellable != NULL)
        g_cancellable_cancel(client->connect_cancellable);
    /* Close now, not at finalize: QEMU must see EOF to accept another
     * monitor connection. */
    if (client->connection != NULL)
        g_io_stream_close(G_IO_STREAM(client->connection), NULL, NULL);
    else if (client->socket != NULL)
        g_socket_close(client->socket, NULL);
    g_clear_object(&client->connection);
    g_clear_object(&client->socket);
}


static void
fail_literal(VnicQmpClient *client, VnicQmpErrorCode code, const char *message)
{
    vnic_qmp_client_fail(client, g_error_new_literal(VNIC_QMP_ERROR, code, message));
}

JsonObject *
vnic_qmp_parse_message(const char *line, gsize len, GError **error)
{
    /* Mutable nodes: replies are handed to callers, who may edit them. */
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) parse_error = NULL;
    JsonObject *plain;
    JsonNode *root;

    /* QEMU's messages nest a few levels; a QEMU gone bad (it runs the
     * guest's device models) could send millions */
    if (!vnic_json_nesting_within(line, len, VNIC_QMP_MAX_NESTING)) {
        g_set_error(error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL,
                    "QEMU sent JSON nested deeper than %u levels", VNIC_QMP_MAX_NESTING);
        return NULL;
    }
    /* nearly every line: a JsonParser only for the rest */
    if ((plain = vnic_json_parse_plain(line, len)))
        return plain;
    parser = json_parser_new();
    if (!json_parser_load_from_data(parser, line, (gssize) len, &parse_error)) {
        /* it quotes the text it stopped at, not always UTF-8: the message
         * may reach a client's reply */
        g_autofree char *message = g_utf8_make_valid(parse_error->message, -1);

        g_set_error(error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL, "malformed JSON from QEMU: %s",
                    message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error_literal(error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_PROTOCOL,
                            "QEMU sent a JSON value that is not an object");
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

/* Parses one line and dispatches it; FALSE when the line is not a JSON
 * object (the client is then closed). */
static gboolean
handle_line(VnicQmpClient *client, const char *line, gsize len)
{
    GError *error = NULL;
    g_autoptr(JsonObject) message = vnic_qmp_parse_message(line, len, &error);

    if (!message) {
        vnic_qmp_client_fail(client, error);
        return FALSE;
    }
    vnic_qmp_client_dispatch(client, message);
    return TRUE;
}

static gboolean
line_is_blank(const char *line, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isspace(line[i]))
            return FALSE;
    }
    return TRUE;
}

/* Consumes every complete line of the input buffer, stopping early if the
 * client gets closed by what a line triggers. */
static void
process_input(VnicQmpClient *client)
{
    GByteArray *buf = client->inbuf;
    gsize consumed = 0;

    while (client->state != VNIC_QMP_STATE_CLOSED) {
        const char *start = (const char *) buf->data + consumed;
        gsize avail = buf->len - consumed;
        gsize scan = client->scan_from - consumed;
        const char *nl = memchr(start + scan, '\n', avail - scan);
        gsize len;

        if (nl == NULL) {
            client->scan_from = buf->len;
            /* An unfinished line of max_message bytes can only end longer. */
            if (avail >= client->max_message)
                fail_literal(client, VNIC_QMP_ERROR_TOO_LARGE,
                             "QEMU sent a message over the size limit");
            break;
        }
        len = (gsize) (nl - start) + 1;
        consumed += len;
        client->scan_from = consumed;
        if (len > client->max_message) {
            fail_literal(client, VNIC_QMP_ERROR_TOO_LARGE, "QEMU sent a message over the size limit");
            break;
        }
        if (!line_is_blank(start, len) && !handle_line(client, start, len))
            break;
    }
    /* Dispatching may have run user code, but the buffer lives as long as
     * the client (we hold a reference), so these offsets are still valid. */
    g_byte_array_remove_range(buf, 0, (guint) consumed);
    client->scan_from -= consumed;
}

/* Reads once; returns FALSE when the connection ended (client closed). */
static gboolean
read_some(VnicQmpClient *client)
{
    g_autoptr(GError) error = NULL;
    guint old_len = client->inbuf->len;
    gssize n;

    g_byte_array_set_size(client->inbuf, old_len + READ_CHUNK);
    n = g_socket_receive(client->socket, (char *) client->inbuf->data + old_len, READ_CHUNK,
                         NULL, &error);
    g_byte_array_set_size(client->inbuf, old_len + (guint) MAX(n, 0));
    if (n > 0)
        return TRUE;
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return TRUE;
    if (n == 0 && old_len > 0)
        vnic_qmp_client_fail(client, g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED,
                                                 "QEMU closed the QMP connection in the middle "
                                                 "of a message (%u bytes unread)", old_len));
    else if (n == 0)
        fail_literal(client, VNIC_QMP_ERROR_CLOSED, "QEMU closed the QMP connection");
    else
        vnic_qmp_client_fail(client, g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED,
                                                 "cannot read from the QMP socket: %s",
                                                 error->message));
    return FALSE;
}

static gboolean
on_readable(GSocket *socket, GIOCondition condition, gpointer data)
{
    VnicQmpClient *client = vnic_qmp_client_ref(data);

    if (read_some(client))
        process_input(client);
    vnic_qmp_client_unref(client);
    /* A closed client has destroyed this source already. */
    return G_SOURCE_CONTINUE;
}

/* Writes what the socket takes of @p; returns bytes written, or -1. */
static gssize
send_part(VnicQmpClient *client, VnicQmpPending *p, GError **error)
{
    gsize size;
    const guint8 *bytes = g_bytes_get_data(p->data, &size);
    GOutputVector vec = { bytes + p->written, size - p->written };
    g_autoptr(GSocketControlMessage) msg = NULL;
    gssize n;

    if (p->fds != NULL)
        msg = g_unix_fd_message_new_with_fd_list(p->fds);
    n = g_socket_send_message(client->socket, NULL, &vec, 1, msg != NULL ? &msg : NULL,
                              msg != NULL ? 1 : 0, G_SOCKET_MSG_NONE, NULL, error);
    if (n > 0 && p->fds != NULL) {
        /* The kernel holds the fds in flight now; close our duplicates. */
        g_clear_object(&p->fds);
        client->fd_inflight = p;
    }
    return n;
}

/* Writes the queue until it is empty, the socket is full, or the head
 * carries fds while earlier fds are unanswered (QEMU's chardev keeps only
 * the latest fds received, so a second getfd in flight would steal them).
 * FALSE: the head is still to be written (the socket is full, or, unless
 * @may_fail, it failed: the write source meets that error again and
 * closes the client from the main loop, not from the caller's code). */
static gboolean
flush(VnicQmpClient *client, gboolean may_fail)
{
    VnicQmpPending *p;

    while ((p = g_queue_peek_head(&client->outq)) != NULL) {
        g_autoptr(GError) error = NULL;
        gssize n;

        if (p->fds != NULL && client->fd_inflight != NULL)
            break;
        n = send_part(client, p, &error);
        if (n < 0 && (!may_fail || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)))
            return FALSE;
        if (n < 0) {
            vnic_qmp_client_fail(client, g_error_new(VNIC_QMP_ERROR, VNIC_QMP_ERROR_CLOSED,
                                                     "cannot write to the QMP socket: %s",
                                                     error->message));
            return FALSE;
        }
        p->written += (gsize) n;
        if (p->written == g_bytes_get_size(p->data)) {
            g_queue_pop_head(&client->outq);
            g_clear_pointer(&p->data, g_bytes_unref);
        }
    }
    /* Empty, or held back: vnic_qmp_io_want_write() re-arms on the reply. */
    vnic_qmp_source_clear(&client->write_source);
    return TRUE;
}

static gboolean
on_writable(GSocket *socket, GIOCondition condition, gpointer data)
{
    VnicQmpClient *client = vnic_qmp_client_ref(data);

    flush(client, TRUE);
    vnic_qmp_client_unref(client);
    return G_SOURCE_CONTINUE;
}

/* Writes at once what the socket takes, rather than on the next main-loop
 * iteration: a command is on its way to QEMU when execute_async returns
 * (one dispatch less per command, docs/performance.md).  Never fails the
 * client here: this runs inside the caller's code. */
void
vnic_qmp_io_want_write(VnicQmpClient *client)
{
    if (client->state == VNIC_QMP_STATE_CLOSED || client->socket == NULL ||
        client->write_source != NULL || g_queue_is_empty(&client->outq))
        return;
    if (client->state == VNIC_QMP_STATE_READY && flush(client, FALSE))
        return;
    client->write_source = socket_source(client, G_IO_OUT, on_writable);
}
