/* qemu-plug.c: a tap's fds into a running QEMU, then the commands that
 * use it, undone step by step on failure (see VnicQemuPlug in
 * qemu-hotplug.h).  Serves the NIC hot-plug (qemu-hotplug.c) and the hub
 * backends (qemu-hub.c).
 *
 * A small state machine on one GTask over a list of steps: getfd of each
 * fd (if a tap is plugged), then the steps added, in order.  QMP runs a
 * monitor's commands one after the other, so a step that can be undone on
 * its own (getfd, netdev_add) is sent without waiting for the replies
 * before it: a step that depends on a failed one fails too (netdev_add on
 * an fd name getfd did not set, a hubport on a netdev that is not there),
 * and one that succeeded anyway is undone like any other.  A step with
 * nothing to undo (device_add: the guest would see it) or whose undo also
 * undoes the step before it waits until every earlier step succeeded.
 * This saves a round trip per step to QEMU (docs/performance.md).
 *
 * A failure sends nothing more; once every command sent is answered, each
 * step that succeeded is undone in reverse (netdev_del of a netdev it
 * created, chardev-remove, closefd of the fds QEMU still holds under our
 * names), then a flush when QEMU refused a getfd after taking its fd.  A
 * step whose reply did not come in time is undone too: QEMU reads its
 * commands in order, so when a stopped QEMU runs on, it runs the late
 * step and then its undo (an undo of a step that failed after all fails
 * harmlessly); a step with nothing to undo when it fails (device_add) may
 * have a late undo for that case (device_del: QEMU may have added the NIC
 * after all, and the guest would keep a NIC with no backend).  The undo
 * commands go out back to back as well: none
 * depends on another's reply, and against a QEMU that does not answer
 * they time out together instead of one after the other.  The error of
 * the earliest failed step is the one reported; undo errors are only
 * debug-logged.
 */
#include "qemu/qemu-hotplug.h"

#include "qemu/qemu-command.h"

#include <fcntl.h>
#include <unistd.h>

typedef enum {
    STEP_UNSENT,
    STEP_SENT,
    STEP_DONE,                /* succeeded: undone on rollback */
    STEP_FAILED,
    STEP_UNKNOWN,             /* no reply in time: QEMU may still run it; undone */
    STEP_CONSUMED,            /* a getfd whose fd the tap's netdev_add took */
} StepState;

typedef struct {
    char *step;               /* for messages and fault injection */
    char *command;
    JsonObject *args;
    char *undo_command;       /* sent when a step fails, or NULL */
    JsonObject *undo_args;
    gboolean undo_takes_previous; /* that undo also undid the step before */
    char *late_undo_command;  /* sent only when its reply did not come in time, or NULL */
    JsonObject *late_undo_args;
    gboolean waits;           /* sent only after every earlier step succeeded */
    int fd_index;             /* getfd: which of the plug's fds goes with it; else -1 */
    gboolean takes_fds;       /* the tap's netdev_add: QEMU took the fds */
    StepState state;
    gint64 sent_us;
} PlugStep;

struct _VnicQemuPlug {
    VnicQmpClient *qmp;
    char *what;               /* "hot-plug of net0": the error's subject */
    char *alias;              /* names the fds: vnic-<alias>-<i> */
    int *fds;                 /* the tap's fds, owned; sent in send_step() only */
    guint n_fds;
    GPtrArray *steps;         /* PlugStep*: the getfds first, then the steps added */
    guint sent;               /* steps sent, in order */
    guint answered;           /* of those, answered (or failed by the client) */
    guint undo_pending;       /* rollback: undo commands not answered yet */
    gboolean flush_fd;        /* a getfd was refused: QEMU may hold its fd */
    char *fail_step;
    gint64 last_reply_us;     /* a step's time counts from this or its send */
    guint reply_timeout_ms;   /* per command: 10 s, shorter in tests */
    VnicQemuHotplugTimings timings;
    GError *error;            /* the earliest failure, while undoing */
    guint error_index;
};

/* One command in flight: its reply goes to step @index. */
typedef struct {
    GTask *task;
    guint index;
} StepCall;

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
    g_free(s->late_undo_command);
    if (s->late_undo_args)
        json_object_unref(s->late_undo_args);
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

static PlugStep *
step_at(const VnicQemuPlug *p, guint i)
{
    return g_ptr_array_index(p->steps, i);
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
    p->reply_timeout_ms = 10000;
    return p;
}

static PlugStep *
add_step(VnicQemuPlug *p, const char *step, const char *command, JsonObject *args,
         const char *undo_command, JsonObject *undo_args)
{
    PlugStep *s = g_new0(PlugStep, 1);

    s->step = g_strdup(step);
    s->command = g_strdup(command);
    s->args = args;
    s->undo_command = g_strdup(undo_command);
    s->undo_args = undo_args;
    /* what cannot be undone on its own must not run after a failure */
    s->waits = undo_command == NULL;
    s->fd_index = -1;
    g_ptr_array_add(p->steps, s);
    return s;
}

/* getfd of fd @i as vnic-<alias>-<i>, undone with closefd. */
static void
add_getfd(VnicQemuPlug *p, guint i)
{
    g_autofree char *name = fdname(p, i);
    JsonObject *args = json_object_new();
    JsonObject *close_args = json_object_new();

    json_object_set_string_member(args, "fdname", name);
    json_object_set_string_member(close_args, "fdname", name);
    add_step(p, VNIC_QEMU_STEP_GETFD, "getfd", args, "closefd", close_args)->fd_index = (int)i;
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
    for (guint i = 0; i < n_fds; i++)
        add_getfd(p, i);
    vnic_qemu_plug_add(p, VNIC_QEMU_STEP_NETDEV_ADD, "netdev_add", tap_args(p, tap_id), tap_id);
    step_at(p, p->steps->len - 1)->takes_fds = TRUE;
}

void
vnic_qemu_plug_add_full(VnicQemuPlug *p, const char *step, const char *command,
                        JsonObject *args, const char *undo_command, JsonObject *undo_args,
                        gboolean undo_takes_previous)
{
    PlugStep *s = add_step(p, step, command, args, undo_command, undo_args);

    s->undo_takes_previous = undo_takes_previous;
    /* its undo would take a step that may have failed with it */
    if (undo_takes_previous)
        s->waits = TRUE;
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
vnic_qemu_plug_set_late_undo(VnicQemuPlug *p, const char *command, JsonObject *args)
{
    PlugStep *s;

    g_return_if_fail(p->steps->len > 0);
    s = step_at(p, p->steps->len - 1);
    g_free(s->late_undo_command);
    g_clear_pointer(&s->late_undo_args, json_object_unref);
    s->late_undo_command = g_strdup(command);
    s->late_undo_args = args;
}

void
vnic_qemu_plug_set_reply_timeout(VnicQemuPlug *p, guint ms)
{
    p->reply_timeout_ms = ms;
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

static void step_done(GObject *source, GAsyncResult *res, gpointer data);
static void undo_done(GObject *source, GAsyncResult *res, gpointer data);
static void undo_all(GTask *task);

static void
send(GTask *task, const char *command, JsonObject *args, const int *fd, GAsyncReadyCallback cb,
     gpointer data)
{
    vnic_qmp_client_execute_async(((VnicQemuPlug *)g_task_get_task_data(task))->qmp, command,
                                  args, fd, fd ? 1 : 0,
                                  ((VnicQemuPlug *)g_task_get_task_data(task))->reply_timeout_ms,
                                  g_task_get_cancellable(task), cb,
                                  data);
}

static gboolean
failing(const VnicQemuPlug *p, const char *step)
{
    return g_strcmp0(p->fail_step, step) == 0;
}

/* Sends step @i.  A refused step: an argument QEMU does not know
 * (device_add takes its properties as strings).  The tap's fds go to QEMU
 * here and nowhere else, each with its getfd. */
static void
send_step(GTask *task, guint i)
{
    VnicQemuPlug *p = g_task_get_task_data(task);
    PlugStep *s = step_at(p, i);
    StepCall *call = g_new0(StepCall, 1);

    if (failing(p, s->step) && strcmp(s->command, "device_add") == 0)
        json_object_set_string_member(s->args, "x-vnic-fault", "1");
    else if (failing(p, s->step))
        json_object_set_boolean_member(s->args, "x-vnic-fault", TRUE);
    call->task = g_object_ref(task);
    call->index = i;
    s->state = STEP_SENT;
    s->sent_us = g_get_monotonic_time();
    send(task, s->command, s->args, s->fd_index >= 0 ? &p->fds[s->fd_index] : NULL, step_done,
         call);
}

/* Sends what may go now: the next steps up to one that waits for the
 * replies before it. */
static void
send_more(GTask *task)
{
    VnicQemuPlug *p = g_task_get_task_data(task);

    while (p->sent < p->steps->len && !p->error) {
        if (step_at(p, p->sent)->waits && p->answered < p->sent)
            return;
        send_step(task, p->sent++);
    }
}

/* Keeps the error of the earliest failed step (replies may be handled out
 * of order when the client fails them: timeout, close). */
static void
fail(VnicQemuPlug *p, guint i, const GError *error)
{
    if (p->error && p->error_index <= i)
        return;
    g_clear_error(&p->error);
    p->error = g_error_copy(error);
    p->error_index = i;
    g_prefix_error(&p->error, "%s failed at %s: ", p->what, step_at(p, i)->step);
}

static void
account_time(VnicQemuPlug *p, const PlugStep *s)
{
    gint64 now = g_get_monotonic_time();
    /* QEMU works on a step once the one before it is answered */
    gint64 took = now - MAX(s->sent_us, p->last_reply_us);

    p->last_reply_us = now;
    if (strcmp(s->command, "getfd") == 0)
        p->timings.getfd_us += took;
    else if (strcmp(s->command, "device_add") == 0)
        p->timings.device_add_us += took;
    else
        p->timings.netdev_add_us += took;
}

static void
step_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree StepCall *call = data;
    g_autoptr(GTask) task = call->task;
    VnicQemuPlug *p = g_task_get_task_data(task);
    PlugStep *s = step_at(p, call->index);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    account_time(p, s);
    p->answered++;
    if (!ret) {
        s->state = g_error_matches(error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT) ? STEP_UNKNOWN
                                                                                  : STEP_FAILED;
        /* QEMU may refuse getfd before taking the fd it came with; it then
         * keeps it until the next fd arrives: flush it (undo_all) */
        if (s->fd_index >= 0)
            p->flush_fd = TRUE;
        fail(p, call->index, error);
    } else {
        s->state = STEP_DONE;
        /* the tap's netdev_add took the fds out of the monitor */
        for (guint i = 0; s->takes_fds && i < call->index; i++) {
            if (step_at(p, i)->fd_index >= 0 && step_at(p, i)->state == STEP_DONE)
                step_at(p, i)->state = STEP_CONSUMED;
        }
    }
    if (p->error) {
        if (p->answered == p->sent)
            undo_all(task);
    } else if (p->answered == p->steps->len) {
        g_task_return_boolean(task, TRUE);
    } else {
        send_more(task);
    }
}

/* One undo command answered (or failed: only logged); the last one fails
 * the task with the earliest error. */
static void
undo_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    VnicQemuPlug *p = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = res ? vnic_qmp_client_execute_finish(res, &error) : NULL;

    if (res && !ret)
        g_debug("plug undo: %s", error->message);
    if (--p->undo_pending == 0)
        g_task_return_error(task, g_steal_pointer(&p->error));
}

static void
send_undo(GTask *task, const char *command, JsonObject *args, const int *fd)
{
    VnicQemuPlug *p = g_task_get_task_data(task);

    p->undo_pending++;
    send(task, command, args, fd, undo_done, g_object_ref(task));
}

/* Hands QEMU a throwaway fd under a name we then close: this makes it let
 * go of an fd it kept from a refused getfd. */
static void
send_flush(GTask *task)
{
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    g_autoptr(JsonObject) getfd = json_object_new();
    g_autoptr(JsonObject) closefd = json_object_new();

    json_object_set_string_member(getfd, "fdname", "vnic-flush");
    send_undo(task, "getfd", getfd, null_fd >= 0 ? &null_fd : NULL);
    if (null_fd >= 0)
        close(null_fd); /* the client sent its own copy */
    json_object_set_string_member(closefd, "fdname", "vnic-flush");
    send_undo(task, "closefd", closefd, NULL);
}

/* Undoes, in reverse, every step that succeeded or may still run, then
 * flushes a refused fd; the task fails once all of it is answered. */
static void
undo_all(GTask *task)
{
    VnicQemuPlug *p = g_task_get_task_data(task);

    p->undo_pending = 1; /* this function's own hold: a reply may come at once */
    for (guint i = p->sent; i-- > 0;) {
        PlugStep *s = step_at(p, i);
        if (s->state != STEP_DONE && s->state != STEP_UNKNOWN)
            continue;
        if (s->undo_takes_previous && i > 0)
            i--;
        if (s->undo_command)
            send_undo(task, s->undo_command, s->undo_args, NULL);
        else if (s->state == STEP_UNKNOWN && s->late_undo_command)
            send_undo(task, s->late_undo_command, s->late_undo_args, NULL);
    }
    if (p->flush_fd)
        send_flush(task);
    undo_done(NULL, NULL, g_object_ref(task));
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
    else if (plug->steps->len > 0)
        send_more(task);
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
