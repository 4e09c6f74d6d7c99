/* e2e-cmd.c: child processes with timeouts.
 *
 * Each E2eChild has a GMainContext of its own in which g_subprocess_wait_async()
 * completes (GSubprocess reaps on GLib's worker thread; the completion is
 * dispatched when we iterate that context), so it can be polled without
 * blocking and waited for with a timeout.  A child is never freed while its
 * wait is pending: e2e_child_free() kills and reaps it first.
 * E2eCmd puts a command's stdout and stderr in files under the temp root
 * (TMPROOT/cmd/N.out, N.err) and reads them once it has exited.
 */
#include "e2e-cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e-env.h"

struct _E2eChild {
    GSubprocess *proc;
    GMainContext *ctx;
    GPid pid;
    gboolean exited;
};

static void
on_child_waited(GObject *source, GAsyncResult *result, gpointer user_data)
{
    E2eChild *child = user_data;
    g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
    child->exited = TRUE;
}

static int
open_output(const char *path, GError **error)
{
    int fd = open(path != NULL ? path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot open '%s': %s",
                    path, g_strerror(errno));
    return fd;
}

static E2eChild *
child_spawn(const char *const *argv, const char *const *env_add, const char *out_path,
            const char *err_path, GError **error)
{
    int out_fd = open_output(out_path, error);
    if (out_fd < 0)
        return NULL;
    int err_fd = -1;
    if (err_path != NULL && (err_fd = open_output(err_path, error)) < 0) {
        close(out_fd);
        return NULL;
    }
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(err_fd < 0 ? G_SUBPROCESS_FLAGS_STDERR_MERGE : G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_take_stdout_fd(launcher, out_fd);
    if (err_fd >= 0)
        g_subprocess_launcher_take_stderr_fd(launcher, err_fd);
    for (const char *const *e = env_add; e != NULL && *e != NULL; e++) {
        g_auto(GStrv) kv = g_strsplit(*e, "=", 2);
        g_subprocess_launcher_setenv(launcher, kv[0], kv[1] != NULL ? kv[1] : "", TRUE);
    }
    GSubprocess *proc = g_subprocess_launcher_spawnv(launcher, argv, error);
    if (proc == NULL)
        return NULL;

    E2eChild *child = g_new0(E2eChild, 1);
    child->proc = proc;
    child->ctx = g_main_context_new();
    /* NULL once a quick child (ip, …) has already exited and been reaped */
    const char *id = g_subprocess_get_identifier(proc);
    child->pid = id != NULL ? (GPid)atoi(id) : 0;
    g_main_context_push_thread_default(child->ctx);
    g_subprocess_wait_async(proc, NULL, on_child_waited, child);
    g_main_context_pop_thread_default(child->ctx);
    return child;
}

E2eChild *
e2e_child_spawn(const char *const *argv, const char *out_path, const char *err_path, GError **error)
{
    return child_spawn(argv, NULL, out_path, err_path, error);
}

E2eChild *
e2e_child_spawn_env(const char *const *argv, const char *const *env_add, const char *out_path,
                    const char *err_path, GError **error)
{
    return child_spawn(argv, env_add, out_path, err_path, error);
}

GPid
e2e_child_pid(E2eChild *child)
{
    return child->pid;
}

gboolean
e2e_child_exited(E2eChild *child)
{
    while (!child->exited && g_main_context_iteration(child->ctx, FALSE))
        ;
    return child->exited;
}

static gboolean
on_timeout(gpointer user_data)
{
    *(gboolean *)user_data = TRUE;
    return G_SOURCE_REMOVE;
}

gboolean
e2e_child_wait(E2eChild *child, double timeout_s)
{
    if (e2e_child_exited(child))
        return TRUE;
    gboolean expired = FALSE;
    GSource *timer = g_timeout_source_new((guint)MAX(timeout_s * 1000, 1));
    g_source_set_callback(timer, on_timeout, &expired, NULL);
    g_source_attach(timer, child->ctx);
    while (!child->exited && !expired)
        g_main_context_iteration(child->ctx, TRUE);
    g_source_destroy(timer);
    g_source_unref(timer);
    return child->exited;
}

int
e2e_child_exit_code(E2eChild *child)
{
    if (!e2e_child_exited(child) || !g_subprocess_get_if_exited(child->proc))
        return -1;
    return g_subprocess_get_exit_status(child->proc);
}

char *
e2e_child_describe_exit(E2eChild *child)
{
    if (!e2e_child_exited(child))
        return g_strdup("running");
    if (g_subprocess_get_if_exited(child->proc))
        return g_strdup_printf("exit %d", g_subprocess_get_exit_status(child->proc));
    if (g_subprocess_get_if_signaled(child->proc)) {
        int sig = g_subprocess_get_term_sig(child->proc);
        return g_strdup_printf("killed by signal %d (%s)", sig, g_strsignal(sig));
    }
    return g_strdup("ended");
}

void
e2e_child_signal(E2eChild *child, int signum)
{
    if (!e2e_child_exited(child))
        g_subprocess_send_signal(child->proc, signum);
}

void
e2e_child_free(E2eChild *child)
{
    if (child == NULL)
        return;
    if (!e2e_child_exited(child)) {
        g_subprocess_force_exit(child->proc);
        if (!e2e_child_wait(child, 10)) {
            /* Unkillable (D state?): its wait is still pending, so leak it. */
            g_warning("e2e: pid %d did not die on SIGKILL", (int)child->pid);
            return;
        }
    }
    g_object_unref(child->proc);
    g_main_context_unref(child->ctx);
    g_free(child);
}

/* --- commands --------------------------------------------------------------- */

struct _E2eCmd {
    E2eChild *child;
    char *command;
    char *out_path, *err_path;
    char *spawn_error;
};

static char *
describe_argv(const char *const *argv)
{
    GString *s = g_string_new(NULL);
    for (const char *const *a = argv; *a != NULL; a++) {
        if (s->len)
            g_string_append_c(s, ' ');
        gboolean plain = **a != '\0';
        for (const char *c = *a; *c && plain; c++)
            plain = g_ascii_isalnum(*c) || strchr("-_./=:,@+%", *c) != NULL;
        if (plain) {
            g_string_append(s, *a);
        } else {
            g_autofree char *q = g_shell_quote(*a);
            g_string_append(s, q);
        }
    }
    return g_string_free(s, FALSE);
}

E2eCmd *
e2e_cmd_spawn(const char *const *argv)
{
    static guint seq;
    E2eCmd *cmd = g_new0(E2eCmd, 1);
    cmd->command = describe_argv(argv);
    g_autofree char *dir = g_build_filename(e2e_tmp_root(), "cmd", NULL);
    g_mkdir_with_parents(dir, 0755);
    guint n = g_atomic_int_add(&seq, 1) + 1;
    cmd->out_path = g_strdup_printf("%s/%u.out", dir, n);
    cmd->err_path = g_strdup_printf("%s/%u.err", dir, n);
    g_autoptr(GError) error = NULL;
    cmd->child = e2e_child_spawn(argv, cmd->out_path, cmd->err_path, &error);
    if (cmd->child == NULL)
        cmd->spawn_error = g_strdup(error->message);
    return cmd;
}

gboolean
e2e_cmd_done(E2eCmd *cmd)
{
    return cmd->child == NULL || e2e_child_exited(cmd->child);
}

void
e2e_cmd_free(E2eCmd *cmd)
{
    if (cmd == NULL)
        return;
    e2e_child_free(cmd->child);
    g_free(cmd->command);
    g_free(cmd->out_path);
    g_free(cmd->err_path);
    g_free(cmd->spawn_error);
    g_free(cmd);
}

static char *
read_or_empty(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

E2eCmdResult *
e2e_cmd_finish(E2eCmd *cmd, double timeout_s)
{
    E2eCmdResult *r = g_new0(E2eCmdResult, 1);
    r->command = g_steal_pointer(&cmd->command);
    r->status = -1;
    if (cmd->child == NULL) {
        r->out = g_strdup("");
        r->err = g_strdup_printf("cannot run: %s", cmd->spawn_error);
        e2e_cmd_free(cmd);
        return r;
    }
    if (!e2e_child_wait(cmd->child, timeout_s)) {
        r->timed_out = TRUE;
        g_test_message("e2e: '%s' still runs after %.1f s: killing it", r->command, timeout_s);
        e2e_child_signal(cmd->child, SIGKILL);
        e2e_child_wait(cmd->child, 10);
    } else {
        r->status = e2e_child_exit_code(cmd->child);
    }
    r->out = read_or_empty(cmd->out_path);
    r->err = read_or_empty(cmd->err_path);
    e2e_cmd_free(cmd);
    return r;
}

E2eCmdResult *
e2e_cmd_run(const char *const *argv, double timeout_s)
{
    return e2e_cmd_finish(e2e_cmd_spawn(argv), timeout_s);
}

E2eCmdResult *
e2e_cmd_run_args(double timeout_s, const char *first, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    va_list ap;
    const char *a;

    g_ptr_array_add(argv, (char *)first);
    va_start(ap, first);
    while ((a = va_arg(ap, const char *)) != NULL)
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    return e2e_cmd_run((const char *const *)argv->pdata, timeout_s);
}

void
e2e_cmd_result_free(E2eCmdResult *result)
{
    if (result == NULL)
        return;
    g_free(result->command);
    g_free(result->out);
    g_free(result->err);
    g_free(result);
}

char *
e2e_cmd_result_describe(const E2eCmdResult *r)
{
    g_autofree char *how = r->timed_out ? g_strdup("timed out")
                           : r->status >= 0 ? g_strdup_printf("exit %d", r->status)
                                            : g_strdup("killed or not started");
    return g_strdup_printf("`%s`: %s\n--- stdout\n%s--- stderr\n%s---", r->command, how,
                           r->out, r->err);
}
