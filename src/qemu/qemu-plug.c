/* qemu-plug.c: a tap's fds into a running QEMU, then the commands that
 * use it, undone step by step on failure (see VnicQemuPlug in
 * qemu-hotplug.h).  Serves the NIC hot-plug (qemu-hotplug.c) and the hub
 * backends (qemu-hub.c).
 *
 * A small state machine on one GTask: getfd of each fd (if a tap is
 * plugged), then the steps in order, one at a time (a step may depend on
 * any before it: a device on a hubport, the hubport on the tap).  A
 * failure walks back through what succeeded: each step's undo in reverse
 * (netdev_del of a netdev it created, chardev-remove, ...), closefd of the
 * fds QEMU still holds under our names, and a flush when QEMU refused a
 * getfd after taking its fd.  The first error is the one reported; undo
 * errors are only debug-logged.
 */
#include "qemu/qemu-hotplug.h"

#include "qemu/qemu-command.h"

#include <fcntl.h>
#include <unistd.h>

typedef struct {
    char *step;               /* for messages and fault injection */
    char *command;
    JsonObject *args;
    char *undo_command;       /* sent when a later step fails, or NULL */
    JsonObject *undo_args;
    gboolean undo_takes_previous; /* that undo also undid the step before */
    gboolean takes_fds;       /* the tap's netdev_add: QEMU took the fds */
} PlugStep;

struct _VnicQemuPlug {
    VnicQmpClient *qmp;
    char *what;               /* "hot-plug of net0": the error's subject */
    char *alias;              /* names the fds: vnic-<alias>-<i> */
    int *fds;
    guint n_fds;
    GPtrArray *steps;         /* PlugStep* */
    guint getfd_done;         /* fds QEMU holds under our names */
    guint steps_done;
    gboolean flush_fd;        /* a getfd was refused: QEMU may hold its fd */
    gboolean flush_close;
    char *fail_step;
    gint64 step_started;
    VnicQemuHotplugTimings timings;
    GError *error;            /* the first failure, while undoing */
};

static void
plug_step_free(PlugStep *s)
{
    g_free(s->step);
    g_free(s->command);
    if (s->args)
        json_object_unref(s->args);
    g_free(s->undo_command);
    if (s->undo_args)
        json_object_unref(s->undo_args);
    g_free(s);
}

char *
vnic_qemu_plug_fd_name(const char *alias, guint queue)
{
    return g_strdup_printf("vnic-%s-%u", alias, queue);
}

static char *
fdname(const VnicQemuPlug *p, guint i)
{
    return vnic_qemu_plug_fd_name(p->alias, i);
}

/* netdev_add of the tap on the fds passed as vnic-<alias>-<i>. */
static JsonObject *
tap_args(const VnicQemuPlug *p, const char *tap_id)
{
    JsonObject *args = json_object_new();
    g_autoptr(GString) names = g_string_new(NULL);

    for (guint i = 0; i < p->n_fds; i++) {
        g_autofree char *name = fdname(p, i);
        g_string_append_printf(names, "%s%s", i ? ":" : "", name);
    }
    json_object_set_string_member(args, "type", "tap");
    json_object_set_string_member(args, "id", tap_id);
    json_object_set_string_member(args, p->n_fds > 1 ? "fds" : "fd", names->str);
    json_object_set_boolean_member(args, "vhost", FALSE);
    return args;
}

VnicQemuPlug *
vnic_qemu_plug_new(const char *what, const char *alias)
{
    VnicQemuPlug *p = g_new0(VnicQemuPlug, 1);

    p->what = g_strdup(what);
    p->alias = g_strdup(alias);
    p->steps = g_ptr_array_new_with_free_func((GDestroyNotify)plug_step_free);
    return p;
}

void
vnic_qemu_plug_add_tap(VnicQemuPlug *p, const char *tap_id, int *fds, guint n_fds)
{
    g_return_if_fail(p->n_fds == 0 && p->steps->len == 0);

    p->fds = g_memdup2(fds, n_fds * sizeof(int));
    p->n_fds = n_fds;
    for (guint i = 0; i < n_fds; i++)
        fds[i] = -1;
    if (n_fds == 0) {
        vnic_qemu_plug_set_error(p, g_error_new(VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                                                "%s: no tap fd", p->what));
        return;
    }
    vnic_qemu_plug_add(p, VNIC_QEMU_STEP_NETDEV_ADD, "netdev_add", tap_args(p, tap_id), tap_id);
    ((PlugStep *)g_ptr_array_index(p->steps, 0))->takes_fds = TRUE;
}

void
vnic_qemu_plug_add_full(VnicQemuPlug *p, const char *step, const char *command,
                        JsonObject *args, const char *undo_command, JsonObject *undo_args,
                        gboolean undo_takes_previous)
{
    PlugStep *s = g_new0(PlugStep, 1);

    s->step = g_strdup(step);
    s->command = g_strdup(command);
    s->args = args;
    s->undo_command = g_strdup(undo_command);
    s->undo_args = undo_args;
    s->undo_takes_previous = undo_takes_previous;
    g_ptr_array_add(p->steps, s);
}

void
vnic_qemu_plug_add(VnicQemuPlug *p, const char *step, const char *command, JsonObject *args,
                   const char *undo_netdev)
{
    JsonObject *undo = NULL;

    if (undo_netdev) {
        undo = json_object_new();
        json_object_set_string_member(undo, "id", undo_netdev);
    }
    vnic_qemu_plug_add_full(p, step, command, args, undo ? "netdev_del" : NULL, undo, FALSE);
}

void
vnic_qemu_plug_set_error(VnicQemuPlug *p, GError *error)
{
    g_clear_error(&p->error);
    p->error = error;
}

void
vnic_qemu_plug_free(VnicQemuPlug *p)
{
    if (!p)
        return;
    for (guint i = 0; i < p->n_fds; i++) {
        if (p->fds[i] >= 0)
            close(p->fds[i]);
    }
    g_free(p->fds);
    g_free(p->what);
    g_free(p->alias);
    g_free(p->fail_step);
    g_ptr_array_unref(p->steps);
    g_clear_error(&p->error);
    g_free(p);
}

static void getfd_done(GObject *source, GAsyncResult *res, gpointer data);
static void step_done(GObject *source, GAsyncResult *res, gpointer data);
static void undo_done(GObject *source, GAsyncResult *res, gpointer data);
static void undo_next(GTask *task);

static void
send(GTask *task, const char *command, JsonObject *args, const int *fd, GAsyncReadyCallback cb)
{
    vnic_qmp_client_execute_async(((VnicQemuPlug *)g_task_get_task_data(task))->qmp, command,
                                  args, fd, fd ? 1 : 0, 10000, g_task_get_cancellable(task), cb,
                                  g_object_ref(task));
}

static void
fail(GTask *task, const char *step, const GError *error)
{
    VnicQemuPlug *p = g_task_get_task_data(task);

    if (p->error)
        return; /* the first failure is the one reported */
    p->error = g_error_copy(error);
    g_prefix_error(&p->error, "%s failed at %s: ", p->what, step);
}

static gboolean
failing(const VnicQemuPlug *p, const char *step)
{
    return g_strcmp0(p->fail_step, step) == 0;
}

static void
send_getfd(GTask *task)
{
    VnicQemuPlug *p = g_task_get_task_data(task);
    g_autoptr(JsonObject) args = json_object_new();
    g_autofree char *name = fdname(p, p->getfd_done);

    json_object_set_string_member(args, "fdname", name);
    if (failing(p, VNIC_QEMU_STEP_GETFD))
        json_object_set_boolean_member(args, "x-vnic-fault", TRUE);
    p->step_started = g_get_monotonic_time();
    send(task, "getfd", args, &p->fds[p->getfd_done], getfd_done);
}

/* A refused step: an argument QEMU does not know (device_add takes its
 * properties as strings). */
static void
send_step(GTask *task)
{
    VnicQemuPlug *p = g_task_get_task_data(task);
    PlugStep *s = g_ptr_array_index(p->steps, p->steps_done);

    if (failing(p, s->step) && strcmp(s->command, "device_add") == 0)
        json_object_set_string_member(s->args, "x-vnic-fault", "1");
    else if (failing(p, s->step))
        json_object_set_boolean_member(s->args, "x-vnic-fault", TRUE);
    p->step_started = g_get_monotonic_time();
    send(task, s->command, s->args, NULL, step_done);
}

static void
getfd_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    VnicQemuPlug *p = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    p->timings.getfd_us += g_get_monotonic_time() - p->step_started;
    if (!ret) {
        /* QEMU may refuse getfd before taking the fd it came with; it then
         * keeps it until the next fd arrives: flush it (undo_next) */
        p->flush_fd = TRUE;
        fail(task, VNIC_QEMU_STEP_GETFD, error);
        undo_next(task);
    } else if (++p->getfd_done < p->n_fds) {
        send_getfd(task);
    } else {
        send_step(task);
    }
}

static void
step_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    VnicQemuPlug *p = g_task_get_task_data(task);
    PlugStep *s = g_ptr_array_index(p->steps, p->steps_done);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);
    gint64 took = g_get_monotonic_time() - p->step_started;

    if (strcmp(s->command, "device_add") == 0)
        p->timings.device_add_us += took;
    else
        p->timings.netdev_add_us += took;
    if (!ret) {
        fail(task, s->step, error);
        undo_next(task);
        return;
    }
    if (s->takes_fds)
        p->getfd_done = 0; /* the tap's netdev_add took the fds out of the monitor */
    if (++p->steps_done < p->steps->len)
        send_step(task);
    else
        g_task_return_boolean(task, TRUE);
}

static void
undo_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret)
        g_debug("plug undo: %s", error->message);
    undo_next(task);
}

/* Hands QEMU a throwaway fd under a name we then close: this makes it let
 * go of an fd it kept from a refused getfd. */
static void
send_flush(GTask *task)
{
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "fdname", "vnic-flush");
    send(task, "getfd", args, null_fd >= 0 ? &null_fd : NULL, undo_done);
    if (null_fd >= 0)
        close(null_fd); /* the client sent its own copy */
}

/* Undoes the last step that succeeded, one command at a time; when
 * nothing is left, fails the task with the first error. */
static void
undo_next(GTask *task)
{
    VnicQemuPlug *p = g_task_get_task_data(task);
    g_autoptr(JsonObject) args = json_object_new();

    while (p->steps_done > 0) {
        PlugStep *s = g_ptr_array_index(p->steps, --p->steps_done);
        if (s->undo_takes_previous && p->steps_done > 0)
            p->steps_done--;
        if (s->undo_command) {
            send(task, s->undo_command, s->undo_args, NULL, undo_done);
            return;
        }
    }
    if (p->getfd_done > 0) {
        g_autofree char *name = fdname(p, --p->getfd_done);
        json_object_set_string_member(args, "fdname", name);
        send(task, "closefd", args, NULL, undo_done);
    } else if (p->flush_fd) {
        p->flush_fd = FALSE;
        p->flush_close = TRUE;
        send_flush(task);
    } else if (p->flush_close) {
        p->flush_close = FALSE;
        json_object_set_string_member(args, "fdname", "vnic-flush");
        send(task, "closefd", args, NULL, undo_done);
    } else {
        g_task_return_error(task, g_steal_pointer(&p->error));
    }
}

void
vnic_qemu_plug_run_async(VnicQemuPlug *plug, VnicQmpClient *qmp, const char *fail_step,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);

    g_task_set_source_tag(task, vnic_qemu_plug_run_async);
    g_task_set_task_data(task, plug, (GDestroyNotify)vnic_qemu_plug_free);
    plug->qmp = qmp;
    plug->fail_step = g_strdup(fail_step);
    if (plug->error)
        g_task_return_error(task, g_steal_pointer(&plug->error));
    else if (plug->n_fds > 0)
        send_getfd(task);
    else if (plug->steps->len > 0)
        send_step(task);
    else
        g_task_return_boolean(task, TRUE);
    g_object_unref(task); /* each command in flight holds its own reference */
}

gboolean
vnic_qemu_plug_finish(GAsyncResult *result, VnicQemuHotplugTimings *timings, GError **error)
{
    GTask *task = G_TASK(result);
    VnicQemuPlug *p = g_task_get_task_data(task);

    if (timings)
        *timings = p ? p->timings : (VnicQemuHotplugTimings){ 0 };
    return g_task_propagate_boolean(task, error);
}
