/* e2e-console.c: the test guest's serial console over a unix socket.
 *
 * Owns the socket, the bytes received but not consumed yet (`pending`) and
 * a transcript of everything received (for failure messages).  Reading is
 * always "until this regular expression matches, or the deadline": what
 * comes before a match is consumed with it, so stray output (kernel
 * messages, an earlier interrupted command) never confuses a later command,
 * whose end marker carries its own sequence number.  See e2e-console.h and
 * tests/guest/README.md ("Console: what a harness must expect").
 */
#include "e2e-console.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "e2e-env.h"

/* A booting guest prints its banner within a few seconds of starting; a
 * console silent for this long has missed the boot (or the guest hangs). */
#define DEFAULT_SILENCE_S 10.0

struct _E2eConsole {
    int fd;
    char *path;
    GString *pending;
    GString *transcript;
    guint seq;
    double silence_s;
};

E2eConsole *
e2e_console_connect(const char *path, double timeout_s, GError **error)
{
    int fd = e2e_unix_connect(path, timeout_s, error);
    if (fd < 0)
        return NULL;
    E2eConsole *c = g_new0(E2eConsole, 1);
    c->fd = fd;
    c->path = g_strdup(path);
    c->pending = g_string_new(NULL);
    c->transcript = g_string_new(NULL);
    c->silence_s = DEFAULT_SILENCE_S;
    return c;
}

void
e2e_console_free(E2eConsole *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    g_free(c->path);
    g_string_free(c->pending, TRUE);
    g_string_free(c->transcript, TRUE);
    g_free(c);
}

void
e2e_console_set_silence(E2eConsole *c, double seconds)
{
    c->silence_s = seconds;
}

const char *
e2e_console_path(E2eConsole *c)
{
    return c->path;
}

/* One poll + read.  FALSE: G_IO_ERROR_TIMED_OUT, _CONNECTION_CLOSED, or
 * another read error. */
static gboolean
fill(E2eConsole *c, gint64 deadline, GError **error)
{
    for (;;) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int r = poll(&p, 1, e2e_ms_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
            return FALSE;
        }
        char chunk[16384];
        ssize_t n = read(c->fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n == 0) {
            g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                "the console closed (QEMU gone?)");
            return FALSE;
        }
        if (n < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "read: %s", g_strerror(errno));
            return FALSE;
        }
        g_string_append_len(c->pending, chunk, n);
        for (ssize_t i = 0; i < n; i++)
            if (chunk[i] != '\r')
                g_string_append_c(c->transcript, chunk[i]);
        return TRUE;
    }
}

/* Consumes input up to the end of the first match of `re`; returns it. */
static char *
read_until(E2eConsole *c, GRegex *re, gint64 deadline, GError **error)
{
    for (;;) {
        g_autoptr(GMatchInfo) mi = NULL;
        if (g_regex_match_full(re, c->pending->str, (gssize)c->pending->len, 0, 0, &mi, NULL)) {
            int end = 0;
            g_match_info_fetch_pos(mi, 0, NULL, &end);
            char *text = g_strndup(c->pending->str, (gsize)end);
            g_string_erase(c->pending, 0, end);
            return text;
        }
        if (!fill(c, deadline, error))
            return NULL;
    }
}

static GRegex *
regex_new(const char *pattern)
{
    g_autoptr(GError) error = NULL;
    GRegex *re = g_regex_new(pattern, G_REGEX_RAW | G_REGEX_OPTIMIZE, 0, &error);
    if (re == NULL)
        g_error("e2e: bad regex '%s': %s", pattern, error->message);
    return re;
}

/* Discards what has arrived already (without waiting). */
static void
drain(E2eConsole *c)
{
    while (fill(c, g_get_monotonic_time(), NULL))
        ;
    g_string_truncate(c->pending, 0);
}

static void
prefix_error(GError **error, const char *what, E2eConsole *c)
{
    g_autofree char *tail = e2e_console_transcript(c, 600);
    g_prefix_error(error, "%s on console %s: ", what, c->path);
    if (error != NULL && *error != NULL) {
        char *msg = g_strdup_printf("%s\n--- console (last bytes) ---\n%s\n---", (*error)->message, tail);
        g_free((*error)->message);
        (*error)->message = msg;
    }
}

gboolean
e2e_console_wait_for(E2eConsole *c, const char *pattern, double timeout_s, char **out_text,
                     GError **error)
{
    g_autoptr(GRegex) re = regex_new(pattern);
    g_autofree char *what = g_strdup_printf("waiting for /%s/", pattern);
    char *text = read_until(c, re, e2e_deadline(timeout_s), error);
    if (text == NULL) {
        prefix_error(error, what, c);
        return FALSE;
    }
    if (out_text != NULL)
        *out_text = text;
    else
        g_free(text);
    return TRUE;
}

gboolean
e2e_console_send(E2eConsole *c, const char *data, GError **error)
{
    return e2e_write_all(c->fd, data, strlen(data), e2e_deadline(10), error);
}

/* Probes the shell with `echo` until it answers: for a console connected
 * after the boot marker went by.  The probe is written so that an echo of
 * the typed line (echo is on until the shell has run `stty -echo`) does not
 * match what the shell prints. */
static gboolean
sync_shell(E2eConsole *c, double timeout_s, GError **error)
{
    guint n = ++c->seq;
    g_autofree char *probe = g_strdup_printf("echo @@SY\"\"NC=%u@@\n", n);
    g_autofree char *pattern = g_strdup_printf("@@SYNC=%u@@\r*\n", n);
    g_autoptr(GRegex) re = regex_new(pattern);
    gint64 deadline = e2e_deadline(timeout_s);
    while (e2e_ms_left(deadline) > 0) {
        if (!e2e_console_send(c, probe, error))
            return FALSE;
        g_autoptr(GError) local = NULL;
        g_autofree char *text = read_until(c, re, MIN(deadline, e2e_deadline(1.0)), &local);
        if (text != NULL) {
            /* Further queued probes may still answer: let them, then drop it all. */
            g_usleep(300 * 1000);
            drain(c);
            return TRUE;
        }
        if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the shell did not answer within %.1f s",
                timeout_s);
    return FALSE;
}

gboolean
e2e_console_wait_ready(E2eConsole *c, double timeout_s, GError **error)
{
    gint64 deadline = e2e_deadline(timeout_s);
    g_autoptr(GRegex) marker = regex_new(E2E_GUEST_READY_MARKER "\r*\n");
    g_autoptr(GRegex) prompt = regex_new(E2E_GUEST_PROMPT);
    gint64 last_input = g_get_monotonic_time();
    for (;;) {
        g_autoptr(GMatchInfo) mi = NULL;
        if (g_regex_match_full(marker, c->pending->str, (gssize)c->pending->len, 0, 0, &mi, NULL)) {
            int end = 0;
            g_match_info_fetch_pos(mi, 0, NULL, &end);
            g_string_erase(c->pending, 0, end);
            break;
        }
        g_autoptr(GError) local = NULL;
        gint64 quiet_deadline = last_input + (gint64)(c->silence_s * G_USEC_PER_SEC);
        if (fill(c, MIN(deadline, quiet_deadline), &local)) {
            last_input = g_get_monotonic_time();
            continue;
        }
        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) && e2e_ms_left(deadline) > 0) {
            g_test_message("e2e: %s silent for %.1f s without %s: probing the shell", c->path,
                           c->silence_s, E2E_GUEST_READY_MARKER);
            if (sync_shell(c, e2e_ms_left(deadline) / 1000.0, error))
                return TRUE;
            prefix_error(error, "waiting for the guest to boot (probing)", c);
            return FALSE;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        prefix_error(error, "waiting for the guest to boot", c);
        return FALSE;
    }
    g_autofree char *p = read_until(c, prompt, MAX(deadline, e2e_deadline(10)), error);
    if (p == NULL) {
        prefix_error(error, "waiting for the first prompt", c);
        return FALSE;
    }
    return TRUE;
}

gboolean
e2e_console_run(E2eConsole *c, const char *command, double timeout_s, char **out_output,
                int *out_status, GError **error)
{
    drain(c);
    guint n = ++c->seq;
    g_autofree char *line = g_strdup_printf("%s; echo \"@@RC=$?@@%u@@\"\n", command, n);
    g_autofree char *pattern = g_strdup_printf("@@RC=([0-9]+)@@%u@@\r*\n", n);
    g_autoptr(GRegex) done = regex_new(pattern);
    g_autoptr(GRegex) prompt = regex_new(E2E_GUEST_PROMPT);
    g_autofree char *what = g_strdup_printf("running `%s`", command);

    if (!e2e_console_send(c, line, error)) {
        prefix_error(error, what, c);
        return FALSE;
    }
    g_autoptr(GError) local = NULL;
    g_autofree char *text = read_until(c, done, e2e_deadline(timeout_s), &local);
    if (text == NULL) {
        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
            /* Interrupt it so the next command finds a shell. */
            e2e_console_send(c, "\x03", NULL);
            g_autofree char *ignored = read_until(c, prompt, e2e_deadline(3), NULL);
            g_clear_error(&local);
            g_set_error(&local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no result within %.1f s (sent ^C)", timeout_s);
        }
        g_propagate_error(error, g_steal_pointer(&local));
        prefix_error(error, what, c);
        return FALSE;
    }
    g_autofree char *after = read_until(c, prompt, e2e_deadline(10), error);
    if (after == NULL) {
        prefix_error(error, "waiting for the prompt", c);
        return FALSE;
    }

    g_autoptr(GMatchInfo) mi = NULL;
    g_regex_match(done, text, 0, &mi);
    int start = 0;
    g_match_info_fetch_pos(mi, 0, &start, NULL);
    g_autofree char *code = g_match_info_fetch(mi, 1);
    if (out_status != NULL)
        *out_status = atoi(code);
    if (out_output != NULL) {
        GString *out = g_string_sized_new((gsize)start);
        for (int i = 0; i < start; i++)
            if (text[i] != '\r')
                g_string_append_c(out, text[i]);
        *out_output = g_string_free(out, FALSE);
    }
    return TRUE;
}

char *
e2e_console_transcript(E2eConsole *c, gsize max_bytes)
{
    gsize len = c->transcript->len;
    gsize start = max_bytes > 0 && len > max_bytes ? len - max_bytes : 0;
    return g_strndup(c->transcript->str + start, len - start);
}
