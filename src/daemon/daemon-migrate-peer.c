/* daemon-migrate-peer.c: the source vnicd's API connection to the destination.
 *
 * The stream is a unix socket: the destination's (unix:PATH), or for
 * ssh://… a local one that
 *   ssh -T -N -o BatchMode=yes -o ExitOnForwardFailure=yes
 *       [-p PORT] [-l USER] -L LOCAL.sock:REMOTE.sock -- HOST
 * forwards to the destination's socket: OpenSSH's own unix socket
 * forwarding (OpenSSH 6.7 and later; Debian 12 has 9.2), so the
 * destination needs nothing but sshd (no socat or helper), and
 * authentication is whatever root's ssh is configured with, as
 * `virsh -c qemu+ssh://` relies on.  BatchMode: a daemon cannot answer a
 * prompt.  (`ssh -W /path` would spare the local socket, but Debian 12's
 * ssh does not forward stdio to a unix socket: measured, it opens no
 * channel.)  The local socket appears once ssh is connected: it is looked
 * for every 100 ms for up to 20 s; requests wait meanwhile.
 *
 * One JSON line per request; replies come in request order (docs/api.md),
 * so the calls in flight form a queue.  Writes are queued too (one
 * write_all_async at a time).  A lost connection fails every call, now and
 * later.
 */
#include "daemon/daemon-migrate.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>

#define DEFAULT_SOCKET "/run/vnic/vnicd.sock"

struct _VnicMigratePeer {
    GIOStream *stream;           /* NULL until connected (ssh: the forward is up) */
    GSubprocess *ssh;            /* ssh://: the client carrying the stream */
    char *local_path;            /* ssh://: the forwarded socket, ours to remove */
    guint wait_id;               /* ssh://: looking for it */
    gint64 wait_deadline_us;
    GDataInputStream *in;
    GCancellable *cancel;
    GQueue calls;                /* GTask*, waiting for their reply, in order */
    GQueue writes;               /* GBytes*, waiting to be written */
    gboolean writing;
    gboolean broken;
    char *why_broken;
    gint64 next_id;
};

static void read_next(VnicMigratePeer *peer);
static void write_next(VnicMigratePeer *peer);

/* "destination vnicd: WHAT" */
static GError *
peer_error(const char *what, const char *detail)
{
    return g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_MIGRATION, "destination vnicd: %s%s",
                       what, detail ? detail : "");
}

/* Every call fails with @why; the connection is not used again. */
static void
peer_break(VnicMigratePeer *peer, const char *why)
{
    GTask *task;

    if (!peer->broken) {
        peer->broken = TRUE;
        peer->why_broken = g_strdup(why);
        g_message("migration peer: connection lost: %s", why);
    }
    while ((task = g_queue_pop_head(&peer->calls)) != NULL) {
        if (!g_task_had_error(task) && g_task_get_task_data(task) != NULL)
            g_task_return_error(task, peer_error("connection lost: ", peer->why_broken));
        g_object_unref(task);
    }
}

gboolean
vnic_migrate_peer_broken(const VnicMigratePeer *peer)
{
    return peer->broken;
}

/* ---- the URI -------------------------------------------------------------- */

typedef struct {
    char *user;
    char *host;
    char *port;
    char *path;
} SshUri;

static void
ssh_uri_clear(SshUri *u)
{
    g_free(u->user);
    g_free(u->host);
    g_free(u->port);
    g_free(u->path);
}

/* ssh://[user@]host[:port][/path/to/socket] */
static gboolean
parse_ssh_uri(const char *uri, SshUri *u, GError **error)
{
    const char *rest = uri + strlen("ssh://");
    const char *slash = strchr(rest, '/');
    g_autofree char *authority = slash ? g_strndup(rest, slash - rest) : g_strdup(rest);
    char *at = strrchr(authority, '@');
    char *host = at ? at + 1 : authority;
    char *colon = strrchr(host, ':');

    memset(u, 0, sizeof(*u));
    if (at) {
        *at = '\0';
        u->user = g_strdup(authority);
    }
    if (colon) {
        *colon = '\0';
        u->port = g_strdup(colon + 1);
    }
    u->host = g_strdup(host);
    u->path = g_strdup(slash && slash[1] ? slash : DEFAULT_SOCKET);
    if (*u->host == '\0' || *u->host == '-' || (u->user && (*u->user == '\0' || *u->user == '-')) ||
        (u->port && (*u->port == '\0' || strspn(u->port, "0123456789") != strlen(u->port)))) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "destination URI '%s': expected ssh://[user@]host[:port][/path/to/socket]",
                    uri);
        ssh_uri_clear(u);
        return FALSE;
    }
    return TRUE;
}

char *
vnic_migrate_peer_uri_host(const char *uri)
{
    SshUri u;
    char *host;

    if (!g_str_has_prefix(uri, "ssh://") || !parse_ssh_uri(uri, &u, NULL))
        return NULL;
    host = g_steal_pointer(&u.host);
    ssh_uri_clear(&u);
    return host;
}

static GIOStream *
connect_unix(const char *path, GError **error)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GError) local = NULL;
    GSocketConnection *conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL,
                                                      &local);

    if (!conn) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_MIGRATION,
                    "cannot connect to the destination vnicd at 'unix:%s': %s", path,
                    local->message);
        return NULL;
    }
    return G_IO_STREAM(conn);
}

static void start_io(VnicMigratePeer *peer);

/* ssh://: connects once ssh has made the local socket. */
static gboolean
ssh_wait_tick(gpointer data)
{
    VnicMigratePeer *peer = data;
    g_autoptr(GError) error = NULL;

    if (g_subprocess_get_identifier(peer->ssh) == NULL) {
        peer->wait_id = 0;
        peer_break(peer, "ssh exited before the forward was up (see vnicd's log for ssh's "
                         "message)");
        return G_SOURCE_REMOVE;
    }
    if (g_file_test(peer->local_path, G_FILE_TEST_EXISTS) &&
        (peer->stream = connect_unix(peer->local_path, &error)) != NULL) {
        peer->wait_id = 0;
        start_io(peer);
        return G_SOURCE_REMOVE;
    }
    if (g_get_monotonic_time() > peer->wait_deadline_us) {
        peer->wait_id = 0;
        peer_break(peer, "ssh did not set up the forward within 20 s");
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
connect_ssh(VnicMigratePeer *peer, const char *uri, const char *local_dir, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) local = NULL;
    g_autofree char *file = g_strdup_printf("migrate-%08x.sock", g_random_int());
    g_autofree char *forward = NULL;
    SshUri u;

    if (!parse_ssh_uri(uri, &u, error))
        return FALSE;
    peer->local_path = g_build_filename(local_dir, file, NULL);
    forward = g_strdup_printf("%s:%s", peer->local_path, u.path);
    g_ptr_array_add(argv, "ssh");
    g_ptr_array_add(argv, "-T");
    g_ptr_array_add(argv, "-N");
    g_ptr_array_add(argv, "-o");
    g_ptr_array_add(argv, "BatchMode=yes");
    g_ptr_array_add(argv, "-o");
    g_ptr_array_add(argv, "ExitOnForwardFailure=yes");
    if (u.port) {
        g_ptr_array_add(argv, "-p");
        g_ptr_array_add(argv, u.port);
    }
    if (u.user) {
        g_ptr_array_add(argv, "-l");
        g_ptr_array_add(argv, u.user);
    }
    g_ptr_array_add(argv, "-L");
    g_ptr_array_add(argv, forward);
    g_ptr_array_add(argv, "--");
    g_ptr_array_add(argv, u.host);
    g_ptr_array_add(argv, NULL);
    peer->ssh = g_subprocess_newv((const char *const *)argv->pdata,
                                  G_SUBPROCESS_FLAGS_STDIN_PIPE, &local);
    ssh_uri_clear(&u);
    if (!peer->ssh) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_MIGRATION,
                    "cannot run ssh for '%s': %s", uri, local->message);
        return FALSE;
    }
    peer->wait_deadline_us = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    peer->wait_id = g_timeout_add(100, ssh_wait_tick, peer);
    return TRUE;
}

static void
start_io(VnicMigratePeer *peer)
{
    peer->in = g_data_input_stream_new(g_io_stream_get_input_stream(peer->stream));
    g_data_input_stream_set_newline_type(peer->in, G_DATA_STREAM_NEWLINE_TYPE_LF);
    read_next(peer);
    write_next(peer);
}

VnicMigratePeer *
vnic_migrate_peer_connect(const char *uri, const char *local_dir, GError **error)
{
    gboolean ok = FALSE;

    VnicMigratePeer *peer = g_new0(VnicMigratePeer, 1);

    g_queue_init(&peer->calls);
    g_queue_init(&peer->writes);
    peer->cancel = g_cancellable_new();
    peer->next_id = 1;
    if (g_str_has_prefix(uri, "unix:"))
        ok = (peer->stream = connect_unix(uri + strlen("unix:"), error)) != NULL;
    else if (g_str_has_prefix(uri, "ssh://"))
        ok = connect_ssh(peer, uri, local_dir, error);
    else
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "destination URI '%s': expected unix:PATH or "
                    "ssh://[user@]host[:port][/path/to/socket]", uri);
    if (!ok) {
        vnic_migrate_peer_free(peer);
        return NULL;
    }
    if (peer->stream)
        start_io(peer);
    return peer;
}

void
vnic_migrate_peer_free(VnicMigratePeer *peer)
{
    if (!peer)
        return;
    g_cancellable_cancel(peer->cancel);
    g_clear_handle_id(&peer->wait_id, g_source_remove);
    peer_break(peer, "closed");
    g_queue_clear_full(&peer->writes, (GDestroyNotify)g_bytes_unref);
    g_clear_object(&peer->in);
    if (peer->stream)
        g_io_stream_close(peer->stream, NULL, NULL);
    g_clear_object(&peer->stream);
    if (peer->ssh) {
        g_subprocess_force_exit(peer->ssh);
        /* reaped by GLib's child watch once it exits */
        g_clear_object(&peer->ssh);
    }
    if (peer->local_path)
        g_unlink(peer->local_path);
    g_free(peer->local_path);
    g_clear_object(&peer->cancel);
    g_free(peer->why_broken);
    g_free(peer);
}

/* ---- reading -------------------------------------------------------------- */

static void
on_reply(VnicMigratePeer *peer, JsonObject *msg)
{
    GTask *task = g_queue_pop_head(&peer->calls);
    const char *command;

    if (!task)
        return; /* a reply nobody waits for: ignore */
    command = g_task_get_task_data(task);
    if (command == NULL || g_task_had_error(task)) {
        g_object_unref(task); /* timed out already */
        return;
    }
    if (json_object_has_member(msg, "error")) {
        JsonObject *err = json_object_get_object_member(msg, "error");
        const char *desc = err ? json_object_get_string_member_with_default(err, "desc", "?") : "?";
        g_autofree char *text = g_strdup_printf("destination vnicd: %s: %s", command, desc);

        g_task_return_error(task, g_error_new_literal(VNIC_DAEMON_ERROR,
                                                      VNIC_DAEMON_ERROR_MIGRATION, text));
    } else {
        JsonNode *ret = json_object_get_member(msg, "return");
        g_task_return_pointer(task, ret ? json_node_copy(ret) : json_node_new(JSON_NODE_NULL),
                              (GDestroyNotify)json_node_unref);
    }
    g_object_unref(task);
}

static void
on_line(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicMigratePeer *peer = data;
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    g_autofree char *line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res,
                                                                 &len, &error);
    g_autoptr(JsonParser) parser = NULL;
    JsonNode *root;

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* freed */
    if (!line) {
        peer_break(peer, error ? error->message : "end of stream");
        return;
    }
    g_debug("migration peer: %" G_GSIZE_FORMAT " bytes in", len);
    parser = json_parser_new();
    if (json_parser_load_from_data(parser, line, (gssize)len, NULL) &&
        (root = json_parser_get_root(parser)) != NULL && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *msg = json_node_get_object(root);
        if (!json_object_has_member(msg, "event"))
            on_reply(peer, msg);
    }
    read_next(peer);
}

static void
read_next(VnicMigratePeer *peer)
{
    g_data_input_stream_read_line_async(peer->in, G_PRIORITY_DEFAULT, peer->cancel, on_line, peer);
}

/* ---- writing -------------------------------------------------------------- */


static void
on_written(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicMigratePeer *peer = data;
    g_autoptr(GError) error = NULL;

    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        peer->writing = FALSE;
        peer_break(peer, error->message);
        return;
    }
    g_bytes_unref(g_queue_pop_head(&peer->writes));
    peer->writing = FALSE;
    write_next(peer);
}

static void
write_next(VnicMigratePeer *peer)
{
    GBytes *bytes = g_queue_peek_head(&peer->writes);
    gsize len;
    const void *p;

    if (peer->writing || !bytes || peer->broken || !peer->stream)
        return;
    p = g_bytes_get_data(bytes, &len);
    g_debug("migration peer: %" G_GSIZE_FORMAT " bytes out", len);
    peer->writing = TRUE;
    g_output_stream_write_all_async(g_io_stream_get_output_stream(peer->stream), p, len,
                                    G_PRIORITY_DEFAULT, peer->cancel, on_written, peer);
}

/* ---- calls ---------------------------------------------------------------- */

static gboolean
call_timed_out(gpointer data)
{
    GTask *task = data;

    if (!g_task_had_error(task) && g_task_get_task_data(task) != NULL) {
        g_autofree char *what = g_strdup_printf("no answer to %s in time",
                                                (const char *)g_task_get_task_data(task));
        g_task_set_task_data(task, NULL, NULL);
        g_task_return_error(task, peer_error(what, NULL));
    }
    return G_SOURCE_REMOVE;
}

void
vnic_migrate_peer_call(VnicMigratePeer *peer, const char *command, JsonObject *args,
                       guint timeout_ms, GAsyncReadyCallback callback, gpointer data)
{
    GTask *task = g_task_new(NULL, NULL, callback, data);
    g_autoptr(JsonObject) req = json_object_new();
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *text = NULL;
    gsize len;

    g_task_set_task_data(task, g_strdup(command), g_free);
    if (peer->broken) {
        g_task_return_error(task, peer_error("connection lost: ", peer->why_broken));
        g_object_unref(task);
        return;
    }
    json_object_set_string_member(req, "execute", command);
    if (args)
        json_object_set_object_member(req, "arguments", json_object_ref(args));
    json_object_set_int_member(req, "id", peer->next_id++);
    json_node_set_object(node, req);
    json_generator_set_root(gen, node);
    text = json_generator_to_data(gen, &len);
    g_queue_push_tail(&peer->writes, g_bytes_new_take(g_strconcat(text, "\n", NULL), len + 1));
    g_queue_push_tail(&peer->calls, task); /* the queue's reference */
    if (timeout_ms > 0) {
        GSource *timer = g_timeout_source_new(timeout_ms);

        g_source_set_callback(timer, call_timed_out, g_object_ref(task), g_object_unref);
        g_source_attach(timer, NULL);
        g_source_unref(timer);
        /* the timer holds the task until it fires; a reply first leaves it
         * with nothing to do */
    }
    write_next(peer);
}

JsonNode *
vnic_migrate_peer_call_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}
