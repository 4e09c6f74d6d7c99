/* test-cli-fake.c: the fake vnicd and the vnic runner (test-cli-fake.h).
 *
 * The fake serves one connection at a time from its own thread with plain
 * POSIX sockets, polling every 20 ms for the stop flag, so freeing it never
 * waits for a client.  Scripts and recorded requests are shared with the
 * test thread under a mutex.
 */
#include "test-cli-fake.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    char *reply;
    char *before;
    char *after;
} Script;

struct _FakeVnicd {
    char *dir;
    char *path;
    int listen_fd;
    GThread *thread;
    gint stop;
    GMutex lock;
    GHashTable *scripts;       /* command → Script* */
    GPtrArray *requests;       /* of JsonObject*, in arrival order */
    gboolean hang_up;
};

static void
script_free(Script *s)
{
    g_free(s->reply);
    g_free(s->before);
    g_free(s->after);
    g_free(s);
}

static Script *
script_copy(const Script *s)
{
    Script *c = g_new0(Script, 1);

    c->reply = g_strdup(s->reply);
    c->before = g_strdup(s->before);
    c->after = g_strdup(s->after);
    return c;
}

static void
send_text(int fd, const char *text)
{
    gsize len = text != NULL ? strlen(text) : 0;

    while (len > 0) {
        gssize n = send(fd, text, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;        /* the client went away: nothing more to say */
        text += n;
        len -= (gsize) n;
    }
}

/* The reply line for @request from @reply_text. */
static char *
reply_line(JsonObject *request, const char *reply_text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(JsonNode) copy = NULL;
    JsonNode *root;
    JsonNode *id = json_object_get_member(request, "id");
    g_autofree char *text = NULL;

    if (!json_parser_load_from_data(parser, reply_text, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(root = json_parser_get_root(parser)))
        return g_strconcat(reply_text, "\n", NULL);
    copy = json_node_copy(root);
    if (id != NULL && !json_object_has_member(json_node_get_object(copy), "id"))
        json_object_set_member(json_node_get_object(copy), "id", json_node_copy(id));
    text = json_to_string(copy, FALSE);
    return g_strconcat(text, "\n", NULL);
}

/* Records @line and returns the script to answer it with (a copy). */
static Script *
record(FakeVnicd *f, const char *line)
{
    static const Script not_found = {
        "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no such command\"}}",
        NULL, NULL,
    };
    g_autoptr(JsonParser) parser = json_parser_new();
    G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&f->lock);
    JsonObject *req;
    const Script *s;

    if (!json_parser_load_from_data(parser, line, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
        return script_copy(&not_found);
    req = json_node_get_object(json_parser_get_root(parser));
    g_ptr_array_add(f->requests, json_object_ref(req));
    s = g_hash_table_lookup(f->scripts, json_object_get_string_member_with_default(req,
                                                                                 "execute", ""));
    return script_copy(s != NULL ? s : &not_found);
}

/* Answers one request line; FALSE to hang up. */
static gboolean
answer(FakeVnicd *f, int fd, const char *line)
{
    Script *s = record(f, line);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *reply = NULL;
    gboolean keep = FALSE;

    send_text(fd, s->before);
    if (s->reply != NULL && json_parser_load_from_data(parser, line, -1, NULL)) {
        reply = reply_line(json_node_get_object(json_parser_get_root(parser)), s->reply);
        send_text(fd, reply);
        send_text(fd, s->after);
        g_mutex_lock(&f->lock);
        keep = !f->hang_up;
        g_mutex_unlock(&f->lock);
    }
    script_free(s);
    return keep;
}

static void
serve_connection(FakeVnicd *f, int fd)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    while (!g_atomic_int_get(&f->stop)) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char chunk[65536];
        char *nl;
        gssize n;

        if (poll(&p, 1, 20) <= 0)
            continue;
        if ((n = read(fd, chunk, sizeof(chunk))) <= 0)
            return;
        g_string_append_len(buf, chunk, n);
        while ((nl = memchr(buf->str, '\n', buf->len)) != NULL) {
            g_autofree char *line = g_strndup(buf->str, (gsize) (nl - buf->str));

            g_string_erase(buf, 0, nl - buf->str + 1);
            if (!answer(f, fd, line))
                return;
        }
    }
}

static gpointer
serve(gpointer data)
{
    FakeVnicd *f = data;

    while (!g_atomic_int_get(&f->stop)) {
        struct pollfd p = { .fd = f->listen_fd, .events = POLLIN };
        int fd;

        if (poll(&p, 1, 20) <= 0)
            continue;
        if ((fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
            continue;
        serve_connection(f, fd);
        close(fd);
    }
    return NULL;
}

FakeVnicd *
fake_vnicd_new(void)
{
    FakeVnicd *f = g_new0(FakeVnicd, 1);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("vnic-cli-test-XXXXXX", &error);
    g_assert_no_error(error);
    f->path = g_build_filename(f->dir, "vnicd.sock", NULL);
    g_assert_cmpuint(strlen(f->path), <, sizeof(sa.sun_path));
    strcpy(sa.sun_path, f->path);
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(f->listen_fd, >=, 0);
    g_assert_cmpint(bind(f->listen_fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(f->listen_fd, 4), ==, 0);
    g_mutex_init(&f->lock);
    f->scripts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) script_free);
    f->requests = g_ptr_array_new_with_free_func((GDestroyNotify) json_object_unref);
    f->thread = g_thread_new("fake-vnicd", serve, f);
    return f;
}

/* Removes the temporary directory and what tests put in it (one level of
 * subdirectories). */
static void
remove_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            remove_tree(path);
        else
            g_unlink(path);
    }
    g_rmdir(dir);
}

void
fake_vnicd_free(FakeVnicd *f)
{
    if (f == NULL)
        return;
    g_atomic_int_set(&f->stop, 1);
    g_thread_join(f->thread);
    close(f->listen_fd);
    remove_tree(f->dir);
    g_hash_table_unref(f->scripts);
    g_ptr_array_unref(f->requests);
    g_mutex_clear(&f->lock);
    g_free(f->path);
    g_free(f->dir);
    g_free(f);
}

const char *
fake_vnicd_socket(FakeVnicd *f)
{
    return f->path;
}

const char *
fake_vnicd_dir(FakeVnicd *f)
{
    return f->dir;
}

void
fake_vnicd_script(FakeVnicd *f, const char *command, const char *reply, const char *before,
                  const char *after)
{
    Script s = { (char *) reply, (char *) before, (char *) after };

    g_mutex_lock(&f->lock);
    g_hash_table_insert(f->scripts, g_strdup(command), script_copy(&s));
    g_mutex_unlock(&f->lock);
}

void
fake_vnicd_hang_up_after(FakeVnicd *f, gboolean hang_up)
{
    g_mutex_lock(&f->lock);
    f->hang_up = hang_up;
    g_mutex_unlock(&f->lock);
}

guint
fake_vnicd_n_requests(FakeVnicd *f)
{
    G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&f->lock);

    return f->requests->len;
}

JsonObject *
fake_vnicd_last_arguments(FakeVnicd *f, const char *command)
{
    G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&f->lock);

    for (guint i = f->requests->len; i > 0; i--) {
        JsonObject *req = g_ptr_array_index(f->requests, i - 1);

        if (g_strcmp0(json_object_get_string_member_with_default(req, "execute", ""),
                      command) != 0)
            continue;
        if (json_object_has_member(req, "arguments"))
            return json_object_ref(json_object_get_object_member(req, "arguments"));
        return json_object_new();
    }
    return NULL;
}
