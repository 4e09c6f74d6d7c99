/* qemu-start.c: bringing one QEMU from nothing to a verified, running guest.
 *
 * Owns vnic_qemu_process_start_async(), one GTask whose steps are
 *   kvm check → spawn (-S) → monitor connect → query-pci [→ qom-get for
 *   devices behind bridges] → set_link down → balloon → query-chardev →
 *   vcpu pinning (query-cpus-fast, sched_setaffinity) → setup (the command's
 *   before_cont: set_password, qom-set) → cont.
 * QMP steps that send several commands send them at once (the client
 * matches replies by id) and go on when the last reply is in.
 *
 * Invariants: the task returns exactly once.  The first failure wins: it
 * cancels what is in flight, kills QEMU with SIGKILL and waits until it is
 * reaped (the process object then removes the runtime's files), and only
 * then returns the error, so a failed start leaves no process, fd, socket or
 * file.  If QEMU exits on its own, that is the error ("QEMU start failed
 * at query-pci: QEMU exited with status 1"), whatever the monitor noticed
 * first.  Every error
 * names the step and ends with what QEMU wrote to its log in this run.
 */
#include "qemu/qemu-process-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef struct _StartData StartData;
typedef void (*ReplyFunc)(GTask *task, guint index, JsonNode *value);
typedef void (*NextFunc)(GTask *task);

struct _StartData {
    VnicQemuCommand *cmd;
    VnicQemuRuntime *rt;       /* until spawn */
    VnicQemuLaunchOptions opts;
    VnicQemuProcess *proc;     /* from spawn on, until returned */
    GCancellable *cancel;      /* cancelled by the first failure */
    const char *step;
    GError *error;             /* the first failure */
    gboolean killed;           /* we sent SIGKILL */
    gboolean finished;         /* the task returned */
    char *log_path;
    gint64 log_start;
    /* the QMP batch in flight */
    guint pending;
    ReplyFunc on_reply;
    NextFunc next;
    GPtrArray *unseen;         /* VnicQemuPciExpect* (borrowed) for qom-get */
    GArray *qom_devfn;         /* gint64 per unseen */
    GPtrArray *qom_bus;        /* char* per unseen */
};

static void
start_data_free(StartData *d)
{
    if (d->opts.join_cgroup)
        close(d->opts.cgroup_procs_fd);
    vnic_qemu_command_free(d->cmd);
    vnic_qemu_runtime_free(d->rt);
    vnic_qemu_process_free(d->proc);
    g_clear_object(&d->cancel);
    g_clear_error(&d->error);
    g_free(d->log_path);
    g_clear_pointer(&d->unseen, g_ptr_array_unref);
    g_clear_pointer(&d->qom_devfn, g_array_unref);
    g_clear_pointer(&d->qom_bus, g_ptr_array_unref);
    g_free(d);
}

/* ---- failure ------------------------------------------------------------- */

static void
finish_failure(GTask *task)
{
    g_autoptr(GTask) keep = g_object_ref(task); /* freeing the process drops its ref */
    StartData *d = g_task_get_task_data(task);
    g_autofree char *tail = vnic_qemu_log_tail(d->log_path, d->log_start);
    GError *error = g_steal_pointer(&d->error);

    d->finished = TRUE;
    if (d->rt != NULL)
        vnic_qemu_runtime_remove_files(d->rt); /* no process took them over */
    g_clear_pointer(&d->proc, vnic_qemu_process_free);
    if (*tail != '\0') {
        char *msg = g_strdup_printf("%s; QEMU's log:%s", error->message, tail);
        g_free(error->message);
        error->message = msg;
    }
    g_task_return_error(task, error);
}

/* Records @error (taken) as the failure unless there is one already, and
 * starts the teardown. */
static void
fail(GTask *task, GError *error)
{
    StartData *d = g_task_get_task_data(task);

    if (d->finished || d->error != NULL) {
        g_error_free(error);
        return;
    }
    if (error->domain != VNIC_QEMU_ERROR &&
        !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        GError *wrapped = g_error_new_literal(VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_START,
                                              error->message);
        g_error_free(error);
        error = wrapped;
    }
    g_prefix_error(&error, "QEMU start failed at %s: ", d->step);
    d->error = error;
    g_cancellable_cancel(d->cancel);
    if (d->proc == NULL || !vnic_qemu_process_is_running(d->proc)) {
        finish_failure(task);
        return;
    }
    d->killed = TRUE;
    if (!vnic_qemu_process_signal(d->proc, SIGKILL, NULL)) {
        finish_failure(task); /* cannot happen as root; QEMU is left running */
        return;
    }
    /* on_qemu_exit finishes once QEMU is reaped */
}

static void
on_qemu_exit(VnicQemuProcess *proc, const VnicQemuExit *exit, gpointer user_data)
{
    GTask *task = user_data;
    StartData *d = g_task_get_task_data(task);

    if (d->finished)
        return;
    /* unless it died of our SIGKILL, QEMU ending is the real cause */
    if (!(d->killed && exit->known && exit->signaled && exit->code == SIGKILL)) {
        g_autofree char *how = vnic_qemu_exit_describe(exit);

        g_clear_error(&d->error);
        d->error = g_error_new(VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_START,
                               "QEMU start failed at %s: QEMU %s", d->step, how);
        g_cancellable_cancel(d->cancel);
    }
    finish_failure(task);
}

/* ---- QMP batches ---------------------------------------------------------------- */

typedef struct {
    GTask *task;
    guint index;
} BatchItem;

static void
on_batch_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BatchItem *item = user_data;
    g_autoptr(GTask) task = item->task;
    StartData *d = g_task_get_task_data(task);
    g_autoptr(JsonNode) value = NULL;
    GError *error = NULL;
    guint index = item->index;

    g_free(item);
    value = vnic_qmp_client_execute_finish(result, &error);
    if (d->finished || d->error != NULL) {
        g_clear_error(&error);
        return;
    }
    if (value == NULL) {
        fail(task, error);
        return;
    }
    if (d->on_reply != NULL)
        d->on_reply(task, index, value);
    if (!d->finished && d->error == NULL && --d->pending == 0)
        d->next(task);
}

/* Starts a batch: @on_reply runs for each reply, @next once all are in. */
static void
batch_begin(GTask *task, const char *step, ReplyFunc on_reply, NextFunc next)
{
    StartData *d = g_task_get_task_data(task);

    d->step = step;
    d->on_reply = on_reply;
    d->next = next;
    d->pending = 0;
}

static void
batch_send(GTask *task, const char *command, JsonObject *args, guint index)
{
    StartData *d = g_task_get_task_data(task);
    BatchItem *item = g_new0(BatchItem, 1);

    item->task = g_object_ref(task);
    item->index = index;
    d->pending++;
    vnic_qmp_client_execute_async(d->proc->qmp, command, args, NULL, 0,
                                  d->opts.timeout_ms, d->cancel, on_batch_reply, item);
}

/* Goes straight on when the batch sent nothing (replies never arrive
 * synchronously, so this cannot race with them). */
static void
batch_end(GTask *task)
{
    StartData *d = g_task_get_task_data(task);

    if (d->pending == 0)
        d->next(task);
}

/* ---- the steps after spawn --------------------------------------------------------- */

static void
succeed(GTask *task)
{
    StartData *d = g_task_get_task_data(task);
    VnicQemuProcess *proc = g_steal_pointer(&d->proc);

    d->finished = TRUE;
    vnic_qemu_process_set_exit_func(proc, NULL, NULL, NULL);
    g_task_return_pointer(task, proc, (GDestroyNotify) vnic_qemu_process_free);
}

static void
cont_step(GTask *task)
{
    StartData *d = g_task_get_task_data(task);

    if (d->opts.incoming) {
        succeed(task); /* the migration brings the run state; the caller resumes */
        return;
    }
    batch_begin(task, "cont", NULL, succeed);
    batch_send(task, "cont", NULL, 0);
    batch_end(task);
}

static void
on_chardevs(GTask *task, guint index, JsonNode *value)
{
    StartData *d = g_task_get_task_data(task);
    JsonArray *list = JSON_NODE_HOLDS_ARRAY(value) ? json_node_get_array(value) : NULL;

    for (guint i = 0; list != NULL && i < json_array_get_length(list); i++) {
        JsonNode *node = json_array_get_element(list, i);
        JsonObject *c = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *label = c ? json_object_get_string_member_with_default(c, "label", "") : "";
        const char *file = c ? json_object_get_string_member_with_default(c, "filename", "") : "";

        for (guint j = 0; j < d->cmd->ptys->len; j++) {
            const VnicQemuPty *pty = g_ptr_array_index(d->cmd->ptys, j);

            if (strcmp(pty->chardev, label) == 0 && g_str_has_prefix(file, "pty:"))
                g_hash_table_replace(d->proc->ptys, g_strdup(pty->dev_id),
                                     g_strdup(file + strlen("pty:")));
        }
    }
}

/* What the command asks for before the guest runs: passwords, balloon
 * statistics.  The step name never shows a password. */
static void
setup_step(GTask *task)
{
    StartData *d = g_task_get_task_data(task);

    batch_begin(task, "setup", NULL, cont_step);
    for (guint i = 0; i < d->cmd->before_cont->len; i++) {
        const VnicQemuQmpStep *step = g_ptr_array_index(d->cmd->before_cont, i);

        batch_send(task, step->command, step->args, i);
    }
    batch_end(task);
}

static gboolean
cpu_set_from(const GArray *cpus, cpu_set_t *set)
{
    CPU_ZERO(set);
    for (guint i = 0; i < cpus->len; i++) {
        guint c = g_array_index(cpus, guint, i);
        if (c >= CPU_SETSIZE)
            return FALSE;
        CPU_SET(c, set);
    }
    return TRUE;
}

/* <vcpupin>: each vCPU thread QEMU reports gets its host CPUs. */
static void
on_cpus(GTask *task, guint index, JsonNode *value)
{
    StartData *d = g_task_get_task_data(task);
    JsonArray *list = JSON_NODE_HOLDS_ARRAY(value) ? json_node_get_array(value) : NULL;

    for (guint i = 0; list != NULL && i < json_array_get_length(list); i++) {
        JsonObject *c = json_array_get_object_element(list, i);
        gint64 cpu = c != NULL ? json_object_get_int_member_with_default(c, "cpu-index", -1) : -1;
        gint64 tid = c != NULL ? json_object_get_int_member_with_default(c, "thread-id", 0) : 0;
        const GArray *cpus;
        cpu_set_t set;

        if (cpu < 0 || (guint64) cpu >= d->cmd->vcpu_affinity->len ||
            (cpus = g_ptr_array_index(d->cmd->vcpu_affinity, cpu)) == NULL)
            continue;
        if (tid <= 0 || !cpu_set_from(cpus, &set) ||
            sched_setaffinity((pid_t) tid, sizeof(set), &set) < 0) {
            int err = tid > 0 ? errno : ESRCH;
            fail(task, g_error_new(VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST,
                                   "cannot pin vCPU %" G_GINT64_FORMAT " (thread %" G_GINT64_FORMAT
                                   ") as <vcpupin> says: %s", cpu, tid, g_strerror(err)));
            return;
        }
    }
}

static void
vcpu_pin_step(GTask *task)
{
    StartData *d = g_task_get_task_data(task);

    batch_begin(task, "vcpu pinning", on_cpus, setup_step);
    if (d->cmd->vcpu_affinity->len > 0)
        batch_send(task, "query-cpus-fast", NULL, 0);
    batch_end(task);
}

static void
chardev_step(GTask *task)
{
    StartData *d = g_task_get_task_data(task);

    batch_begin(task, "query-chardev", on_chardevs, vcpu_pin_step);
    if (d->cmd->ptys->len > 0)
        batch_send(task, "query-chardev", NULL, 0);
    batch_end(task);
}

static void
balloon_step(GTask *task)
{
    StartData *d = g_task_get_task_data(task);
    g_autoptr(JsonObject) args = json_object_new();

    batch_begin(task, "balloon", NULL, chardev_step);
    json_object_set_int_member(args, "value", (gint64) d->cmd->balloon_bytes);
    if (d->cmd->balloon_bytes > 0 && !d->opts.incoming)
        batch_send(task, "balloon", args, 0);
    batch_end(task);
}

static void
links_step(GTask *task)
{
    StartData *d = g_task_get_task_data(task);

    batch_begin(task, "set_link", NULL, balloon_step);
    for (guint i = 0; i < d->cmd->links_down->len; i++) {
        g_autoptr(JsonObject) args = json_object_new();

        json_object_set_string_member(args, "name", g_ptr_array_index(d->cmd->links_down, i));
        json_object_set_boolean_member(args, "up", FALSE);
        batch_send(task, "set_link", args, i);
    }
    batch_end(task);
}

static void
on_qom(GTask *task, guint index, JsonNode *value)
{
    StartData *d = g_task_get_task_data(task);
    guint row = index / 2;

    if (index % 2 == 0 && JSON_NODE_HOLDS_VALUE(value))
        g_array_index(d->qom_devfn, gint64, row) = json_node_get_int(value);
    else if (index % 2 == 1 && JSON_NODE_HOLDS_VALUE(value))
        g_ptr_array_index(d->qom_bus, row) = g_strdup(json_node_get_string(value));
}

static void
qom_verify(GTask *task)
{
    StartData *d = g_task_get_task_data(task);
    GError *error = NULL;

    for (guint i = 0; i < d->unseen->len; i++) {
        if (!vnic_qemu_verify_qom(g_ptr_array_index(d->unseen, i),
                                  g_array_index(d->qom_devfn, gint64, i),
                                  g_ptr_array_index(d->qom_bus, i), &error)) {
            fail(task, error);
            return;
        }
    }
    links_step(task);
}

/* Devices behind bridges, which query-pci does not list before the guest
 * runs: where QOM says they are. */
static void
qom_step(GTask *task)
{
    StartData *d = g_task_get_task_data(task);

    d->qom_devfn = g_array_new(FALSE, TRUE, sizeof(gint64));
    g_array_set_size(d->qom_devfn, d->unseen->len);
    d->qom_bus = g_ptr_array_new_full(d->unseen->len, g_free);
    g_ptr_array_set_size(d->qom_bus, d->unseen->len);
    batch_begin(task, "qom-get", on_qom, qom_verify);
    for (guint i = 0; i < d->unseen->len; i++) {
        const VnicQemuPciExpect *exp = g_ptr_array_index(d->unseen, i);
        g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", exp->id);
        g_autoptr(JsonObject) addr = json_object_new();
        g_autoptr(JsonObject) bus = json_object_new();

        g_array_index(d->qom_devfn, gint64, i) = -1;
        json_object_set_string_member(addr, "path", path);
        json_object_set_string_member(addr, "property", "addr");
        json_object_set_string_member(bus, "path", path);
        json_object_set_string_member(bus, "property", "parent_bus");
        batch_send(task, "qom-get", addr, 2 * i);
        batch_send(task, "qom-get", bus, 2 * i + 1);
    }
    batch_end(task);
}

static void
on_query_pci(GTask *task, guint index, JsonNode *value)
{
    StartData *d = g_task_get_task_data(task);
    GError *error = NULL;
    GPtrArray *unseen = NULL;

    if (!vnic_qemu_verify_query_pci(d->cmd->expected_pci, value, &unseen, &error)) {
        fail(task, error);
        return;
    }
    /* a chipset function has no id to look up; it is never behind a bridge */
    for (guint i = unseen->len; i > 0; i--) {
        if (((VnicQemuPciExpect *) g_ptr_array_index(unseen, i - 1))->id == NULL)
            g_ptr_array_remove_index(unseen, i - 1);
    }
    d->unseen = unseen;
}

static void
on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    StartData *d = g_task_get_task_data(task);
    GError *error = NULL;
    VnicQmpClient *client = vnic_qmp_client_connect_finish(result, &error);

    if (d->finished || d->error != NULL) {
        vnic_qmp_client_free(client);
        g_clear_error(&error);
        return;
    }
    if (client == NULL) {
        fail(task, error);
        return;
    }
    d->proc->qmp = client;
    batch_begin(task, "query-pci", on_query_pci, qom_step);
    batch_send(task, "query-pci", NULL, 0);
    batch_end(task);
}

/* ---- spawn ------------------------------------------------------------------ */

/* What the child does between fork and exec.  Async-signal-safe only. */
typedef struct {
    gboolean switch_user;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    int n_groups;
    int cgroup_fd;             /* -1: stay in vnicd's cgroup */
    gboolean pin;              /* <vcpu cpuset>/<emulatorpin>: the whole process */
    cpu_set_t cpus;
} ChildSetup;

/* Writes "vnic: cannot WHAT (errno N)" and exits; errno is printed as a
 * number because strerror() is not async-signal-safe. */
static void
child_die(const char *what)
{
    static const char prefix[] = "vnic: cannot ";
    int err = errno;
    char num[16];
    int n = (int) sizeof(num);
    ssize_t ignored;

    num[--n] = ')';
    do {
        num[--n] = (char) ('0' + err % 10);
        err /= 10;
    } while (err > 0 && n > 1);
    ignored = write(STDERR_FILENO, prefix, sizeof(prefix) - 1);
    ignored = write(STDERR_FILENO, what, strlen(what));
    ignored = write(STDERR_FILENO, " (errno ", 8);
    ignored = write(STDERR_FILENO, num + n, sizeof(num) - (size_t) n);
    ignored = write(STDERR_FILENO, "\n", 1);
    (void) ignored;
    _exit(127);
}

static void
child_setup(gpointer user_data)
{
    const ChildSetup *cs = user_data;

    /* its own session: QEMU outlives vnicd and its terminal (no PDEATHSIG) */
    if (setsid() < 0)
        child_die("setsid");
    /* join the domain's cgroup while still root, before QEMU runs at all */
    if (cs->cgroup_fd >= 0 && write(cs->cgroup_fd, "0\n", 2) != 2)
        child_die("join the domain's cgroup");
    if (cs->pin && sched_setaffinity(0, sizeof(cs->cpus), &cs->cpus) < 0)
        child_die("set the CPU affinity <vcpu cpuset>/<emulatorpin> asks for");
    if (!cs->switch_user)
        return;
    if (setgroups((size_t) cs->n_groups, cs->groups) < 0)
        child_die("setgroups");
    if (setresgid(cs->gid, cs->gid, cs->gid) < 0)
        child_die("setresgid");
    if (setresuid(cs->uid, cs->uid, cs->uid) < 0)
        child_die("setresuid");
}

/* A domain's own ids share no group with anything: no supplementary
 * group, except kvm for a KVM guest (so it opens /dev/kvm, root:kvm 0660). */
static void
own_ids_groups(ChildSetup *cs, const VnicQemuCommand *cmd)
{
    struct group gr, *found = NULL;
    char buf[4096];

    if (!cmd->kvm || getgrnam_r("kvm", &gr, buf, sizeof(buf), &found) != 0 || found == NULL)
        return;
    cs->groups = g_new(gid_t, 1);
    cs->groups[0] = gr.gr_gid;
    cs->n_groups = 1;
}

/* The user's supplementary groups (so membership in 'kvm' opens /dev/kvm),
 * read here because the child may not touch the group database. */
static void
child_setup_init(ChildSetup *cs, const VnicQemuLaunchOptions *opts, const VnicQemuCommand *cmd)
{
    struct passwd pw, *found = NULL;
    char buf[4096];
    int n = 64;

    *cs = (ChildSetup){ .switch_user = opts->uid != 0 || opts->gid != 0, .uid = opts->uid,
                        .gid = opts->gid, .cgroup_fd = opts->join_cgroup ? opts->cgroup_procs_fd : -1 };
    /* a CPU number beyond CPU_SETSIZE leaves the set empty: the child fails */
    if (cmd->process_affinity != NULL) {
        cs->pin = TRUE;
        if (!cpu_set_from(cmd->process_affinity, &cs->cpus))
            CPU_ZERO(&cs->cpus);
    }
    if (cs->switch_user && opts->own_ids) {
        own_ids_groups(cs, cmd);
        return;
    }
    if (!cs->switch_user || getpwuid_r(opts->uid, &pw, buf, sizeof(buf), &found) != 0 ||
        found == NULL)
        return;
    cs->groups = g_new(gid_t, n);
    if (getgrouplist(pw.pw_name, opts->gid, cs->groups, &n) < 0) {
        cs->groups = g_renew(gid_t, cs->groups, n);
        if (getgrouplist(pw.pw_name, opts->gid, cs->groups, &n) < 0)
            n = 0;
    }
    cs->n_groups = n;
}

/* Hands the runtime's fds to @launcher at their child numbers.  Each is
 * first moved above every target number, so no source collides with a
 * target while the child rearranges them. */
/* The child gets its fds at the numbers 3, 4, … before child_setup runs:
 * a cgroup.procs fd at one of those numbers would be replaced by a tap or
 * a socket and the join would write into that (EINVAL).  Move it above
 * them, like give_fds() moves the fds it hands over. */
static void
lift_cgroup_fd(StartData *d)
{
    int high = fcntl(d->opts.cgroup_procs_fd, F_DUPFD_CLOEXEC, d->rt->next_child_fd);

    if (high < 0)
        return; /* the child's write then fails and says so */
    close(d->opts.cgroup_procs_fd);
    d->opts.cgroup_procs_fd = high;
}

static void
give_fds(VnicQemuRuntime *rt, GSubprocessLauncher *launcher)
{
    for (guint i = 0; i < rt->entries->len; i++) {
        VnicQemuFdEntry *entry = g_ptr_array_index(rt->entries, i);

        for (guint j = 0; j < entry->n_fds; j++) {
            int fd = entry->parent_fds[j];
            int high = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, rt->next_child_fd) : -1;

            if (fd < 0)
                continue;
            close(fd);
            entry->parent_fds[j] = -1;
            if (high >= 0)
                g_subprocess_launcher_take_fd(launcher, high, entry->child_fds[j]);
        }
    }
    if (rt->log_fd >= 0) {
        g_subprocess_launcher_take_stdout_fd(
            launcher, fcntl(rt->log_fd, F_DUPFD_CLOEXEC, rt->next_child_fd));
        g_subprocess_launcher_take_stderr_fd(
            launcher, fcntl(rt->log_fd, F_DUPFD_CLOEXEC, rt->next_child_fd));
        close(rt->log_fd);
        rt->log_fd = -1;
    }
}

static void
log_header(StartData *d)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%F %T.%f");
    g_autofree char *line = vnic_qemu_command_to_string(d->cmd);
    g_autofree char *text = g_strdup_printf("%s: vnic starting QEMU\n%s\n", stamp, line);
    ssize_t ignored;

    if (d->rt->log_fd < 0)
        return;
    ignored = write(d->rt->log_fd, text, strlen(text));
    (void) ignored;
    /* error messages quote what QEMU wrote, not this header */
    d->log_start = MAX(d->log_start, (gint64) lseek(d->rt->log_fd, 0, SEEK_END));
}

static gboolean
spawn(StartData *d, GError **error)
{
    g_autofree char *tz = d->cmd->tz != NULL ? g_strconcat("TZ=", d->cmd->tz, NULL) : NULL;
    const char *const env[] = { "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", tz, NULL };
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    ChildSetup cs;
    GSubprocess *child;
    GPid pid;
    int pidfd;

    log_header(d);
    if (d->opts.join_cgroup)
        lift_cgroup_fd(d);
    child_setup_init(&cs, &d->opts, d->cmd);
    g_subprocess_launcher_set_environ(launcher, (char **) env);
    g_subprocess_launcher_set_cwd(launcher, "/");
    g_subprocess_launcher_set_child_setup(launcher, child_setup, &cs, NULL);
    give_fds(d->rt, launcher);
    child = g_subprocess_launcher_spawnv(launcher, (const char *const *) d->cmd->argv->pdata,
                                         error);
    g_clear_object(&launcher); /* closes our copies: QEMU alone holds the sockets */
    g_free(cs.groups);
    if (d->opts.join_cgroup) {
        close(d->opts.cgroup_procs_fd);
        d->opts.join_cgroup = FALSE;
    }
    if (child == NULL) {
        g_prefix_error(error, "cannot run %s: ", (const char *) d->cmd->argv->pdata[0]);
        return FALSE;
    }
    /* NULL once GLib reaped a child that died at once: then there is no
     * pid, only the exit status the wait will bring */
    pid = g_subprocess_get_identifier(child) != NULL
              ? (GPid) atoi(g_subprocess_get_identifier(child)) : 0;
    /* no pidfd of ours: GLib's child watch holds one already (qemu-process.c) */
    pidfd = -1;
    d->proc = vnic_qemu_process_new_internal(pid, vnic_qemu_proc_start_time(pid, NULL), child,
                                             &pidfd);
    d->proc->qmp_path = g_strdup(d->rt->qmp_path);
    d->proc->log_path = g_strdup(d->rt->log_path);
    d->proc->log_start = d->log_start;
    vnic_qemu_process_take_owned(d->proc, d->rt->owned);
    return TRUE;
}

void
vnic_qemu_process_start_async(VnicQemuCommand *cmd, VnicQemuRuntime *rt,
                              const VnicQemuLaunchOptions *opts, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    StartData *d;
    GError *error = NULL;

    g_return_if_fail(cmd != NULL && rt != NULL && opts != NULL && rt->qmp_path != NULL);

    task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, vnic_qemu_process_start_async);
    /* cancellation is ours to handle: a started QEMU must never be
     * dropped as "cancelled" while it runs */
    g_task_set_check_cancellable(task, FALSE);
    d = g_new0(StartData, 1);

    d->cmd = cmd;
    d->rt = rt;
    d->opts = *opts;
    if (d->opts.timeout_ms == 0)
        d->opts.timeout_ms = 30000;
    d->cancel = g_cancellable_new();
    d->log_path = g_strdup(rt->log_path);
    d->log_start = rt->log_start;
    if (opts->incoming) {
        /* before the argv's terminating NULL */
        g_ptr_array_insert(cmd->argv, (gint) cmd->argv->len - 1, g_strdup("-incoming"));
        g_ptr_array_insert(cmd->argv, (gint) cmd->argv->len - 1, g_strdup("defer"));
    }
    g_task_set_task_data(task, d, (GDestroyNotify) start_data_free);
    if (cancellable != NULL)
        g_signal_connect_object(cancellable, "cancelled", G_CALLBACK(g_cancellable_cancel),
                                d->cancel, G_CONNECT_SWAPPED);
    if (g_cancellable_is_cancelled(cancellable)) {
        fail(task, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled"));
        return;
    }
    d->step = "kvm check";
    if (cmd->kvm && !vnic_qemu_check_kvm(&error)) {
        fail(task, error);
        return;
    }
    d->step = "spawn";
    if (!spawn(d, &error)) {
        fail(task, error);
        return;
    }
    g_clear_pointer(&d->rt, vnic_qemu_runtime_free);
    /* a cycle (task → data → process → task) until succeed() or the
     * failure path frees the process */
    vnic_qemu_process_set_exit_func(d->proc, on_qemu_exit, g_object_ref(task), g_object_unref);
    d->step = "monitor connect";
    vnic_qmp_client_connect_async(d->proc->qmp_path, d->opts.timeout_ms, d->cancel, on_connected,
                                  g_object_ref(task));
}

VnicQemuProcess *
vnic_qemu_process_start_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}
