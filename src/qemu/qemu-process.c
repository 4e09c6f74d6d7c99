/* qemu-process.c: one running QEMU, vnic's child or re-attached.
 *
 * Owns the process handle, one kernel handle per QEMU either way:
 *   - vnic's own child: the GSubprocess.  GLib's child watch already holds
 *     a pidfd for it, so it is waited for with g_subprocess_wait_async
 *     (reaped, status known) and signalled with g_subprocess_send_signal,
 *     which cannot hit a recycled pid (the pid is not reaped before the
 *     wait completes).  A pidfd of our own beside GLib's would be a second
 *     fd per domain that a restarted vnicd does not have (issue #12);
 *   - a QEMU re-attached after a daemon restart (not our child): a pidfd
 *     (signals go through it, so a recycled pid is never signalled) with a
 *     GSource that fires when QEMU exits.
 * It
 * owns the monitor connection, the files vnic created for this QEMU (removed
 * once QEMU is gone) and the kill operation.
 *
 * Invariants: "gone" is reached once (a child reaped, a re-attached QEMU's
 * pidfd readable); then the files are removed, the exit func called, pending kills
 * completed, in that order.  Freeing never kills QEMU.  A callback may free
 * the process: nothing touches it after calling out.
 */
#include "qemu/qemu-process-priv.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

static void check_gone(VnicQemuProcess *proc);

static gboolean
on_pidfd(gint fd, GIOCondition condition, gpointer user_data)
{
    VnicQemuProcess *proc = user_data;

    proc->pidfd_fired = TRUE;
    g_clear_pointer(&proc->pidfd_source, g_source_unref);
    check_gone(proc);
    return G_SOURCE_REMOVE;
}

static void
on_wait(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GSubprocess *child = G_SUBPROCESS(source);
    g_autoptr(GError) error = NULL;
    VnicQemuProcess *proc;

    if (!g_subprocess_wait_finish(child, result, &error) &&
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* freed: user_data is gone */
    proc = user_data;
    proc->wait_done = TRUE;
    proc->exit.known = TRUE;
    proc->exit.signaled = g_subprocess_get_if_signaled(child);
    proc->exit.code = proc->exit.signaled ? g_subprocess_get_term_sig(child)
                                          : g_subprocess_get_exit_status(child);
    check_gone(proc);
}

VnicQemuProcess *
vnic_qemu_process_new_internal(GPid pid, guint64 start_time, GSubprocess *child, int *pidfd)
{
    VnicQemuProcess *proc = g_new0(VnicQemuProcess, 1);

    proc->pid = pid;
    proc->start_time = start_time;
    proc->pidfd = *pidfd;
    *pidfd = -1;
    proc->child = child;
    proc->owned = g_ptr_array_new_with_free_func((GDestroyNotify) vnic_qemu_owned_file_free);
    proc->owned_paths = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(proc->owned_paths, NULL);
    proc->ptys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    proc->kill_tasks = g_ptr_array_new_with_free_func(g_object_unref);
    if (proc->pidfd >= 0) {
        proc->pidfd_source = g_unix_fd_source_new(proc->pidfd, G_IO_IN);
        g_source_set_callback(proc->pidfd_source, G_SOURCE_FUNC(on_pidfd), proc, NULL);
        g_source_attach(proc->pidfd_source, g_main_context_get_thread_default());
    } else {
        proc->pidfd_fired = TRUE; /* a child (its wait tells), or already gone */
    }
    if (child != NULL) {
        proc->wait_cancel = g_cancellable_new();
        g_subprocess_wait_async(child, proc->wait_cancel, on_wait, proc);
    }
    return proc;
}

void
vnic_qemu_process_take_owned(VnicQemuProcess *proc, GPtrArray *owned)
{
    while (owned->len > 0) {
        VnicQemuOwnedFile *file = g_ptr_array_steal_index(owned, 0);

        g_ptr_array_insert(proc->owned_paths, proc->owned_paths->len - 1,
                           g_strdup(file->path));
        g_ptr_array_add(proc->owned, file);
    }
}

static void
complete_kills(GPtrArray *tasks, GError *error)
{
    for (guint i = 0; i < tasks->len; i++) {
        GTask *task = g_ptr_array_index(tasks, i);

        if (error != NULL)
            g_task_return_error(task, g_error_copy(error));
        else
            g_task_return_boolean(task, TRUE);
    }
}

static void
check_gone(VnicQemuProcess *proc)
{
    g_autoptr(GPtrArray) kills = NULL;
    VnicQemuExit exit;

    if (proc->exited || !proc->pidfd_fired || (proc->child != NULL && !proc->wait_done))
        return;
    proc->exited = TRUE;
    if (proc->kill_timer != NULL) {
        g_source_destroy(proc->kill_timer);
        g_clear_pointer(&proc->kill_timer, g_source_unref);
    }
    vnic_qemu_owned_remove(proc->owned);
    kills = g_steal_pointer(&proc->kill_tasks);
    proc->kill_tasks = g_ptr_array_new_with_free_func(g_object_unref);
    exit = proc->exit;
    /* the exit func may free @proc: nothing touches it afterwards */
    if (proc->exit_func != NULL)
        proc->exit_func(proc, &exit, proc->exit_data);
    complete_kills(kills, NULL);
}

void
vnic_qemu_process_free(VnicQemuProcess *proc)
{
    g_autoptr(GError) cancelled = NULL;

    if (proc == NULL)
        return;
    if (proc->pidfd_source != NULL) {
        g_source_destroy(proc->pidfd_source);
        g_source_unref(proc->pidfd_source);
    }
    if (proc->kill_timer != NULL) {
        g_source_destroy(proc->kill_timer);
        g_source_unref(proc->kill_timer);
    }
    if (proc->wait_cancel != NULL) {
        g_cancellable_cancel(proc->wait_cancel);
        g_object_unref(proc->wait_cancel);
    }
    if (proc->pidfd >= 0)
        close(proc->pidfd);
    g_clear_object(&proc->child);
    g_clear_pointer(&proc->qmp, vnic_qmp_client_free);
    if (proc->exit_notify != NULL)
        proc->exit_notify(proc->exit_data);
    cancelled = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                    "the QEMU process handle was freed");
    complete_kills(proc->kill_tasks, cancelled);
    g_ptr_array_unref(proc->kill_tasks);
    g_ptr_array_unref(proc->owned);
    g_ptr_array_unref(proc->owned_paths);
    g_hash_table_unref(proc->ptys);
    g_free(proc->qmp_path);
    g_free(proc->log_path);
    g_free(proc);
}

gboolean
vnic_qemu_process_signal(VnicQemuProcess *proc, int sig, GError **error)
{
    if (proc->exited)
        return TRUE;
    if (proc->child != NULL) {
        g_subprocess_send_signal(proc->child, sig); /* a no-op once reaped */
        return TRUE;
    }
    if (proc->pidfd < 0)
        return TRUE;
    if (vnic_qemu_pidfd_send_signal(proc->pidfd, sig) < 0 && errno != ESRCH) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST,
                    "cannot send signal %d to QEMU (pid %d): %s", sig, (int) proc->pid,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* ---- getters --------------------------------------------------------------------- */

GPid
vnic_qemu_process_get_pid(const VnicQemuProcess *proc)
{
    g_return_val_if_fail(proc != NULL, 0);
    return proc->pid;
}

guint64
vnic_qemu_process_get_start_time(const VnicQemuProcess *proc)
{
    g_return_val_if_fail(proc != NULL, 0);
    return proc->start_time;
}

VnicQmpClient *
vnic_qemu_process_get_qmp(VnicQemuProcess *proc)
{
    g_return_val_if_fail(proc != NULL, NULL);
    return proc->qmp;
}

const char *
vnic_qemu_process_get_qmp_path(const VnicQemuProcess *proc)
{
    g_return_val_if_fail(proc != NULL, NULL);
    return proc->qmp_path;
}

const char *
vnic_qemu_process_get_log_path(const VnicQemuProcess *proc)
{
    g_return_val_if_fail(proc != NULL, NULL);
    return proc->log_path;
}

const char *const *
vnic_qemu_process_get_owned_paths(const VnicQemuProcess *proc)
{
    g_return_val_if_fail(proc != NULL, NULL);
    return (const char *const *) proc->owned_paths->pdata;
}

gboolean
vnic_qemu_process_is_running(const VnicQemuProcess *proc)
{
    g_return_val_if_fail(proc != NULL, FALSE);
    return !proc->exited;
}

const char *
vnic_qemu_process_get_pty(const VnicQemuProcess *proc, const char *dev_id)
{
    g_return_val_if_fail(proc != NULL && dev_id != NULL, NULL);
    return g_hash_table_lookup(proc->ptys, dev_id);
}

void
vnic_qemu_process_apply_ptys(const VnicQemuProcess *proc, VnicConfDomain *def)
{
    g_autoptr(VnicQemuNames) names = NULL;

    g_return_if_fail(proc != NULL && def != NULL);

    names = vnic_qemu_names_new(def);
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        const char *id = vnic_qemu_names_get(names, dev);
        const char *path = id != NULL ? g_hash_table_lookup(proc->ptys, id) : NULL;

        if (path != NULL && vnic_qemu_is_chardev(dev)) {
            g_free(dev->source_path);
            dev->source_path = g_strdup(path);
        }
    }
}

void
vnic_qemu_process_set_exit_func(VnicQemuProcess *proc, VnicQemuExitFunc func,
                                gpointer user_data, GDestroyNotify notify)
{
    GDestroyNotify old_notify;
    gpointer old_data;

    g_return_if_fail(proc != NULL);

    old_notify = proc->exit_notify;
    old_data = proc->exit_data;
    proc->exit_func = func;
    proc->exit_data = user_data;
    proc->exit_notify = notify;
    if (old_notify != NULL)
        old_notify(old_data);
}

/* ---- kill ---------------------------------------------------------------------- */

static gboolean
on_kill_timer(gpointer user_data)
{
    VnicQemuProcess *proc = user_data;
    g_autoptr(GError) error = NULL;

    g_clear_pointer(&proc->kill_timer, g_source_unref);
    if (!vnic_qemu_process_signal(proc, SIGKILL, &error))
        g_debug("%s", error->message);
    return G_SOURCE_REMOVE;
}

void
vnic_qemu_process_kill_async(VnicQemuProcess *proc, guint grace_ms, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    GError *error = NULL;

    g_return_if_fail(proc != NULL);
    g_task_set_source_tag(task, vnic_qemu_process_kill_async);

    if (proc->exited) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    if (!vnic_qemu_process_signal(proc, grace_ms > 0 ? SIGTERM : SIGKILL, &error)) {
        g_task_return_error(task, error);
        return;
    }
    g_ptr_array_add(proc->kill_tasks, g_object_ref(task));
    if (grace_ms > 0 && proc->kill_timer == NULL) {
        proc->kill_timer = g_timeout_source_new(grace_ms);
        g_source_set_callback(proc->kill_timer, on_kill_timer, proc, NULL);
        g_source_attach(proc->kill_timer, g_main_context_get_thread_default());
    }
}

gboolean
vnic_qemu_process_kill_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- attach -------------------------------------------------------------------- */

static void
on_attach_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    VnicQemuProcess *proc = g_task_get_task_data(task);
    GError *error = NULL;

    /* the task data has no destroy notify: @proc is either returned or freed here */
    proc->qmp = vnic_qmp_client_connect_finish(result, &error);
    if (proc->qmp == NULL) {
        g_prefix_error(&error, "cannot connect to the monitor of QEMU (pid %d) at %s: ",
                       (int) proc->pid, proc->qmp_path);
        vnic_qemu_process_free(proc);
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, proc, (GDestroyNotify) vnic_qemu_process_free);
}

/* The pidfd of @pid, when it is still the process that started at
 * @start_time; -1 with a GONE error otherwise. */
static int
open_same_process(GPid pid, guint64 start_time, GError **error)
{
    int pidfd = vnic_qemu_pidfd_open(pid);
    guint64 now;

    if (pidfd < 0) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_GONE, "QEMU (pid %d) is gone: %s",
                    (int) pid, g_strerror(errno));
        return -1;
    }
    now = vnic_qemu_proc_start_time(pid, NULL);
    /* if the pidfd's process still runs, the stat read above was its own */
    if (now != start_time || vnic_qemu_pidfd_exited(pidfd)) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_GONE,
                    "QEMU (pid %d, start time %" G_GUINT64_FORMAT ") is gone: pid %d now "
                    "belongs to a process started at %" G_GUINT64_FORMAT,
                    (int) pid, start_time, (int) pid, now);
        close(pidfd);
        return -1;
    }
    return pidfd;
}

void
vnic_qemu_process_attach_async(const VnicQemuAttachInfo *info, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    GError *error = NULL;
    VnicQemuProcess *proc;
    int pidfd;

    g_return_if_fail(info != NULL && info->qmp_path != NULL);
    g_task_set_source_tag(task, vnic_qemu_process_attach_async);

    pidfd = open_same_process(info->pid, info->start_time, &error);
    if (pidfd < 0) {
        g_task_return_error(task, error);
        return;
    }
    proc = vnic_qemu_process_new_internal(info->pid, info->start_time, NULL, &pidfd);
    proc->qmp_path = g_strdup(info->qmp_path);
    proc->log_path = g_strdup(info->log_path);
    for (guint i = 0; info->owned_paths != NULL && info->owned_paths[i] != NULL; i++) {
        VnicQemuOwnedFile *file = g_new0(VnicQemuOwnedFile, 1);

        file->path = g_strdup(info->owned_paths[i]);
        g_ptr_array_add(proc->owned, file);
        g_ptr_array_insert(proc->owned_paths, proc->owned_paths->len - 1, g_strdup(file->path));
    }
    g_task_set_task_data(task, proc, NULL);
    vnic_qmp_client_connect_async(info->qmp_path,
                                  info->timeout_ms != 0 ? info->timeout_ms : 30000,
                                  cancellable, on_attach_connected, g_object_ref(task));
}

VnicQemuProcess *
vnic_qemu_process_attach_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}
