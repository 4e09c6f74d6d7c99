/* daemon-lifecycle.c: starting a domain, and everything that ends one.
 *
 * start: live definition (config + aliases, sockets QEMU binds) → runtime
 * pieces (sockets, disks, boot files, firmware, log) → one host backend per
 * NIC, each recorded in the domain's ledger and in the status file before
 * QEMU exists → the <cputune> cgroup → QEMU started (in that cgroup), its
 * PCI devices verified against the plan, running.  Any failure undoes all
 * of it: links deleted (by the ledger), files removed, state shut off.
 *
 * Whatever ends QEMU — destroy, a guest shutdown, a crash — ends in
 * on_qemu_exit(), the one place that cleans up after a domain.
 */
#include "daemon/daemon-heap.h"
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-migrate.h"
#include "daemon/daemon-nic.h"

#include "host/host-cgroup.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define DESTROY_GRACE_MS 3000
#define DEFAULT_SHUTDOWN_TIMEOUT_S 60

typedef struct {
    VnicDomain *dom;
    VnicApiRequest *request;
    VnicIncomingStarted incoming;  /* an incoming migration's start: its callback */
    gpointer incoming_data;
} JobCtx;

static JobCtx *
job_ctx_new(VnicDomain *dom, VnicApiRequest *request)
{
    JobCtx *ctx = g_new0(JobCtx, 1);

    ctx->dom = dom;
    ctx->request = request;
    return ctx;
}

/* Replies to the job's request (if any) and ends the job. */
static void
job_finish(VnicDomain *dom, VnicApiRequest *request, const GError *error, JsonObject *ret)
{
    if (request && error)
        vnic_api_request_error(request, error);
    else if (request)
        vnic_api_request_return_object(request, ret ? ret : json_object_new());
    else if (ret)
        json_object_unref(ret);
    vnic_domain_job_done(dom);
}

static VnicConfDomain *
copy_definition(const VnicConfDomain *def, GError **error)
{
    g_autofree char *xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    return vnic_conf_domain_parse(xml, strlen(xml), error);
}

/* Deletes every link in the ledger; those already gone are fine.  Returns
 * FALSE if one could not be deleted (it stays in the ledger). */
gboolean
vnic_domain_delete_links(VnicDomain *dom)
{
    gboolean ok = TRUE;

    for (guint i = dom->links->len; i > 0; i--) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i - 1);
        g_autoptr(GError) error = NULL;

        if (vnic_host_link_delete(o->link, &error)) {
            g_ptr_array_remove_index(dom->links, i - 1);
        } else {
            g_warning("domain '%s': %s", dom->name, error->message);
            ok = FALSE;
        }
    }
    return ok;
}

void
vnic_domain_delete_nic_links(VnicDomain *dom, const char *alias)
{
    for (guint i = dom->links->len; i > 0; i--) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i - 1);
        g_autoptr(GError) error = NULL;

        /* one already being deleted (daemon-unplug.c) leaves the ledger when done */
        if (g_strcmp0(o->alias, alias) != 0 || o->deletion)
            continue;
        if (vnic_host_link_delete(o->link, &error))
            g_ptr_array_remove_index(dom->links, i - 1);
        else
            g_warning("domain '%s': NIC %s: %s", dom->name, alias, error->message);
    }
}

/* The name of @dom's cgroup: its name, unless that cannot be a directory. */
static const char *
cgroup_name(const VnicDomain *dom)
{
    if (strchr(dom->name, '/') == NULL && dom->name[0] != '.')
        return dom->name;
    return dom->config->uuid;
}

/* RUN_DIR/qemu/NAME: the directory of the sockets QEMU binds itself
 * (<graphics><listen type='socket'> without a path), owned by this
 * domain's QEMU uid and mode 0700: no other guest's QEMU enters it. */
static char *
qemu_socket_dir(const VnicDomain *dom)
{
    return g_build_filename(dom->daemon->opts.run_dir, "qemu", dom->name, NULL);
}

static void remove_qemu_socket_dir(const VnicDomain *dom);

static gboolean
make_qemu_socket_dir(VnicDomain *dom, const char *dir, GError **error)
{
    g_autofree char *parent = g_path_get_dirname(dir);

    /* a fresh one: a directory left by a vnicd killed before its status was
     * written may hold files of an id another guest has now */
    remove_qemu_socket_dir(dom);
    /* every guest's QEMU passes through the parent to reach its own
     * directory, but may not list the others' (0711) */
    if (g_mkdir_with_parents(parent, 0711) < 0 || chmod(parent, 0711) < 0 ||
        g_mkdir_with_parents(dir, 0700) < 0 ||
        chown(dir, dom->qemu_uid, dom->qemu_gid) < 0 || chmod(dir, 0700) < 0) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC, "creating %s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static void
remove_qemu_socket_dir(const VnicDomain *dom)
{
    g_autofree char *dir = qemu_socket_dir(dom);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
}

/* Existing taps (managed='no') outlive the domain: take our shaping off
 * them, as libvirt does; vnic's own links go with the ledger. */
void
vnic_domain_clear_unmanaged(VnicDomain *dom, const VnicConfDevice *dev)
{
    const VnicConfNic *nic = dev->nic;
    g_autoptr(GError) error = NULL;

    if (nic->target_managed != VNIC_TRISTATE_NO || nic->target_dev == NULL ||
        (nic->inbound.average == 0 && nic->outbound.average == 0))
        return;
    if (!vnic_host_bandwidth_clear(nic->target_dev, &error))
        g_warning("domain '%s': clearing <bandwidth> on tap '%s': %s", dom->name,
                  nic->target_dev, error->message);
}


/* The ledger's links at stop.  A tap whose queues vnicd still holds (the
 * detach promise: a QEMU that exited by itself, or crashed) outlived QEMU:
 * its teardown (an RCU grace period or two) is paid here, in RTM_DELLINK,
 * not in QEMU's exit; the debug log says how long it took. */
static void
delete_links_timed(VnicDomain *dom)
{
    gint64 t0 = g_get_monotonic_time();
    guint n = dom->links->len;

    vnic_domain_delete_links(dom);
    g_debug("domain '%s': %u links deleted in %" G_GINT64_FORMAT " us", dom->name, n,
            g_get_monotonic_time() - t0);
}

/* Back to shut off: the ledger's links, the cgroup, the status file and run dir. */
void
vnic_domain_cleanup(VnicDomain *dom)
{
    g_autofree char *run_dir = vnic_state_domain_run_dir(dom);
    g_autoptr(GError) error = NULL;

    for (guint i = 0; dom->live != NULL && i < dom->live->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(dom->live->devices, i);
        if (dev->kind == VNIC_CONF_DEV_INTERFACE)
            vnic_domain_clear_unmanaged(dom, dev);
    }
    vnic_domain_clear_nics(dom);
    delete_links_timed(dom);
    if (!vnic_host_cgroup_remove(cgroup_name(dom), &error))
        g_warning("domain '%s': %s", dom->name, error->message);
    remove_qemu_socket_dir(dom);
    vnic_state_remove_status(dom);
    g_rmdir(run_dir);
    vnic_domain_qemu_ids_release(dom); /* after its files: none is left with them */
    g_clear_pointer(&dom->live, vnic_conf_domain_free);
    vnic_daemon_trim_heap_soon();
    dom->state = VNIC_DOMAIN_SHUT_OFF;
    dom->pid = 0;
    vnic_domain_transient_check(dom); /* a created domain goes with its QEMU */
}

/* ---- start ------------------------------------------------------------ */

/* <driver name='vhost'>: libvirt's fallback without /dev/vhost-net is
 * userspace virtio-net and a warning; vnic does the same (QEMU always gets
 * vhost=off: vnic passes no vhost-net fds). */
void
vnic_domain_warn_vhost(const VnicDomain *dom, const VnicConfDomain *def,
                       const VnicConfDevice *dev)
{
    g_autofree char *what = NULL;

    if (g_strcmp0(dev->nic->driver_name, "vhost") != 0 ||
        dev->nic->type == VNIC_CONF_NIC_VHOSTUSER)
        return;
    what = vnic_conf_device_describe(def, dev);
    g_warning("domain '%s': %s: <driver name='vhost'>: %s, using userspace virtio-net "
              "(vhost=off)", dom->name, what,
              g_file_test("/dev/vhost-net", G_FILE_TEST_EXISTS)
                  ? "vnic does not hand vhost-net to QEMU"
                  : "/dev/vhost-net is not available");
}

VnicOwnedLink *
vnic_domain_own_link(VnicDomain *dom, const VnicHostLink *link, const char *alias)
{
    VnicOwnedLink *owned = g_new0(VnicOwnedLink, 1);

    owned->link = vnic_host_link_copy(link);
    owned->alias = g_strdup(alias);
    g_ptr_array_add(dom->links, owned);
    return owned;
}

/* The host backend of one NIC: its fds go to the runtime; a link vnic made
 * goes into the ledger the moment it exists (an existing tap,
 * managed='no', never does). */
static gboolean
create_backend(VnicDomain *dom, VnicQemuRuntime *rt, VnicConfDevice *dev, GError **error)
{
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autofree int *fds = NULL;
    const VnicHostLink *link;
    VnicOwnedLink *owned = NULL;
    guint n_fds;

    VnicNic *nic = vnic_nic_new(dom, dev->alias, VNIC_NIC_PLANNED);

    nic->admin_up = nic->carrier = dev->nic->link_up != VNIC_TRISTATE_NO;
    vnic_domain_warn_vhost(dom, dom->live, dev);
    if (dev->nic->type == VNIC_CONF_NIC_VHOSTUSER)
        return TRUE;  /* QEMU connects to the socket itself */
    if (!(backend = vnic_host_backend_create(dev->nic, error)))
        return FALSE;
    link = vnic_host_backend_get_link(backend);
    if (vnic_host_backend_is_owned(backend))
        owned = vnic_domain_own_link(dom, link, dev->alias);
    if (vnic_host_backend_get_ifb(backend) != NULL)
        vnic_domain_own_link(dom, vnic_host_backend_get_ifb(backend), dev->alias);
    /* vnicd's reference to the queues QEMU gets (the detach promise) */
    if (owned && !(owned->queues = vnic_host_backend_ref_queues(backend, error)))
        return FALSE;
    g_free(dev->nic->target_dev);
    dev->nic->target_dev = g_strdup(link->name);
    fds = vnic_host_backend_steal_fds(backend, &n_fds);
    vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_TAP, fds, n_fds);
    vnic_nic_set_state(nic, VNIC_NIC_BACKEND_READY, NULL, NULL);
    return TRUE;
}

/* QEMU runs with every NIC: all PLUGGED, then each looks at its host
 * devices (one may have gone while QEMU started). */
static void
nics_plugged(VnicDomain *dom)
{
    g_autoptr(GPtrArray) nics = vnic_domain_nics(dom);

    for (guint i = 0; i < nics->len; i++)
        vnic_nic_set_state(g_ptr_array_index(nics, i), VNIC_NIC_PLUGGED, NULL, NULL);
}

/* Resolves network NICs, then creates every NIC's host backend. */
static gboolean
create_backends(VnicDomain *dom, VnicQemuRuntime *rt, GError **error)
{
    if (!vnic_networks_resolve(dom->daemon, dom->live, error))
        return FALSE;
    for (guint i = 0; i < dom->live->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(dom->live->devices, i);

        if (dev->kind != VNIC_CONF_DEV_INTERFACE)
            continue;
        if (!create_backend(dom, rt, dev, error)) {
            g_autofree char *what = vnic_conf_device_describe(dom->live, dev);
            g_prefix_error(error, "%s: ", what);
            return FALSE;
        }
    }
    return TRUE;
}

/* <cputune>: a cgroup QEMU joins before it execs. */
static gboolean
prepare_cgroup(VnicDomain *dom, VnicQemuLaunchOptions *opts, GError **error)
{
    VnicQemuCpuTune tune;
    g_autofree char *path = NULL;
    int fd;

    if (!vnic_qemu_cputune(dom->live, &tune, error))
        return FALSE;
    if (!tune.set)
        return TRUE;
    fd = vnic_host_cgroup_create(cgroup_name(dom),
                                 &(VnicHostCpuTune){ .shares = tune.shares,
                                                     .period_us = tune.period_us,
                                                     .quota_us = tune.quota_us },
                                 &path, error);
    if (fd < 0)
        return FALSE;
    g_debug("domain '%s': QEMU runs in cgroup %s", dom->name, path);
    opts->join_cgroup = TRUE;
    opts->cgroup_procs_fd = fd;
    return TRUE;
}

/* @live (taken, may be NULL: a copy of the config) becomes the live
 * definition. */
static gboolean
prepare_start(VnicDomain *dom, VnicConfDomain *live, VnicQemuRuntime **ret_rt,
              VnicQemuCommand **ret_cmd, VnicQemuLaunchOptions *opts, GError **error)
{
    g_autofree char *run_dir = vnic_state_domain_run_dir(dom);
    g_autofree char *log_path = vnic_state_log_path(dom);
    g_autofree char *log_dir = g_path_get_dirname(log_path);
    /* libvirt keeps varstores in its state dir too: the guest's, not the run's */
    g_autofree char *nvram_dir = g_build_filename(dom->daemon->opts.state_dir, "nvram", NULL);
    g_autofree char *qemu_dir = qemu_socket_dir(dom);
    g_autoptr(VnicQemuRuntime) rt = NULL;

    if (!(dom->live = live ? live : copy_definition(dom->config, error)))
        return FALSE;
    if (!vnic_domain_qemu_ids_take(dom, opts, error))
        return FALSE;
    vnic_qemu_assign_ids(dom->live);
    if (vnic_qemu_graphics_default_sockets(dom->live, qemu_dir) &&
        !make_qemu_socket_dir(dom, qemu_dir, error))
        return FALSE;
    if (g_mkdir_with_parents(run_dir, 0700) < 0 || g_mkdir_with_parents(log_dir, 0700) < 0) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC, "creating %s: %s",
                    run_dir, g_strerror(errno));
        return FALSE;
    }
    if (!(rt = vnic_qemu_runtime_prepare(dom->live, run_dir, log_path, error)))
        return FALSE;
    if (!vnic_qemu_runtime_prepare_firmware(rt, dom->live, nvram_dir, error)) {
        vnic_qemu_runtime_remove_files(rt);
        return FALSE;
    }
    dom->state = VNIC_DOMAIN_STARTING;
    if (!create_backends(dom, rt, error) || !vnic_state_write_status(dom, error) ||
        !(*ret_cmd = vnic_qemu_command_build(dom->live, rt, error))) {
        vnic_qemu_runtime_remove_files(rt);
        return FALSE;
    }
    if (!prepare_cgroup(dom, opts, error)) {
        g_clear_pointer(ret_cmd, vnic_qemu_command_free);
        vnic_qemu_runtime_remove_files(rt);
        return FALSE;
    }
    *ret_rt = g_steal_pointer(&rt);
    return TRUE;
}


static void
start_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree JobCtx *ctx = data;
    VnicDomain *dom = ctx->dom;
    g_autoptr(GError) error = NULL;
    VnicQemuProcess *proc = vnic_qemu_process_start_finish(res, &error);
    JsonObject *ret;

    if (!proc) {
        g_warning("domain '%s': start failed: %s", dom->name, error->message);
        vnic_domain_cleanup(dom);
        if (ctx->incoming)
            ctx->incoming(dom, error, ctx->incoming_data);
        else
            job_finish(dom, ctx->request, error, NULL);
        return;
    }
    dom->process = proc;
    dom->pid = vnic_qemu_process_get_pid(proc);
    vnic_qemu_process_set_exit_func(proc, vnic_domain_on_qemu_exit, dom, NULL);
    vnic_domain_watch_devices(dom);
    vnic_qemu_process_apply_ptys(proc, dom->live);
    if (ctx->incoming) {
        /* paused until the migration's finish resumes it (daemon-migrate*.c);
         * its NICs stay backend-ready until then */
        dom->state = VNIC_DOMAIN_PAUSED;
        if (!vnic_state_write_status(dom, &error))
            g_warning("domain '%s': writing status: %s", dom->name, error->message);
        ctx->incoming(dom, NULL, ctx->incoming_data);
        return;
    }
    dom->state = VNIC_DOMAIN_RUNNING;
    nics_plugged(dom);
    if (!vnic_state_write_status(dom, &error))
        g_warning("domain '%s': writing status: %s", dom->name, error->message);
    vnic_domain_heal(dom);
    ret = json_object_new();
    json_object_set_int_member(ret, "pid", dom->pid);
    vnic_daemon_emit(dom->daemon, "DOMAIN_STARTED", dom->name, json_object_ref(ret));
    job_finish(dom, ctx->request, NULL, ret);
}

void
vnic_domain_start_job(VnicDomain *dom, VnicApiRequest *request)
{
    g_autoptr(GError) error = NULL;
    VnicQemuRuntime *rt = NULL;
    VnicQemuCommand *cmd = NULL;
    VnicQemuLaunchOptions opts = { 0 }; /* ids: prepare_start() */

    if (dom->state != VNIC_DOMAIN_SHUT_OFF) {
        error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                            "domain '%s' is already %s", dom->name,
                            vnic_domain_state_to_string(dom->state));
        job_finish(dom, request, error, NULL);
        return;
    }
    if (!prepare_start(dom, NULL, &rt, &cmd, &opts, &error)) {
        g_warning("domain '%s': start failed: %s", dom->name, error->message);
        vnic_domain_cleanup(dom);
        job_finish(dom, request, error, NULL);
        return;
    }
    dom->stop_reason = NULL;
    vnic_qemu_process_start_async(cmd, rt, &opts, NULL, start_done, job_ctx_new(dom, request));
}

void
vnic_domain_start_incoming(VnicDomain *dom, VnicConfDomain *live, VnicIncomingStarted done,
                           gpointer data)
{
    g_autoptr(GError) error = NULL;
    VnicQemuRuntime *rt = NULL;
    VnicQemuCommand *cmd = NULL;
    VnicQemuLaunchOptions opts = { .incoming = TRUE }; /* ids: prepare_start() */
    JobCtx *ctx;

    if (!prepare_start(dom, live, &rt, &cmd, &opts, &error)) {
        g_warning("domain '%s': incoming start failed: %s", dom->name, error->message);
        vnic_domain_cleanup(dom);
        done(dom, error, data);
        return;
    }
    dom->stop_reason = NULL;
    ctx = job_ctx_new(dom, NULL);
    ctx->incoming = done;
    ctx->incoming_data = data;
    vnic_qemu_process_start_async(cmd, rt, &opts, NULL, start_done, ctx);
}

/* ---- the end of QEMU ---------------------------------------------------- */

static gboolean
free_process_later(gpointer data)
{
    vnic_qemu_process_free(data);
    return G_SOURCE_REMOVE;
}

static const char *
exit_reason(const VnicDomain *dom, const VnicQemuExit *exit)
{
    if (dom->stop_reason)
        return dom->stop_reason;
    /* QEMU exits 0 when the guest powers itself off */
    if (exit->known && !exit->signaled && exit->code == 0)
        return "shutdown";
    return exit->known ? "crashed" : "gone";
}

/* QEMU is gone, whoever ended it: clean up, tell subscribers, and finish a
 * shutdown that was waiting for this. */
void
vnic_domain_on_qemu_exit(VnicQemuProcess *proc, const VnicQemuExit *exit, gpointer data)
{
    VnicDomain *dom = data;
    JsonObject *ev = json_object_new();
    const char *reason = exit_reason(dom, exit);

    g_message("domain '%s': QEMU %d is gone (%s)", dom->name, dom->pid, reason);
    /* the process object is still in its own callback: free it afterwards */
    g_idle_add(free_process_later, proc);
    dom->process = NULL;
    vnic_domain_abort_unplugs(dom);
    vnic_domain_cleanup(dom);
    json_object_set_string_member(ev, "reason", reason);
    vnic_daemon_emit(dom->daemon, "DOMAIN_STOPPED", dom->name, ev);
    dom->stop_reason = NULL;
    if (dom->shutdown_request) {
        VnicApiRequest *request = g_steal_pointer(&dom->shutdown_request);
        g_clear_handle_id(&dom->shutdown_timeout_id, g_source_remove);
        job_finish(dom, request, NULL, NULL);
    }
}

static gboolean
check_running(VnicDomain *dom, VnicApiRequest *request)
{
    g_autoptr(GError) error = NULL;

    if (dom->state == VNIC_DOMAIN_RUNNING && dom->process)
        return TRUE;
    error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                        "domain '%s' is not running (%s)", dom->name,
                        vnic_domain_state_to_string(dom->state));
    job_finish(dom, request, error, NULL);
    return FALSE;
}

void
vnic_domain_drop_queue_refs(VnicDomain *dom)
{
    for (guint i = 0; i < dom->links->len; i++) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
        g_clear_pointer(&o->queues, vnic_host_queue_refs_free);
    }
}

static void
kill_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree JobCtx *ctx = data;
    g_autoptr(GError) error = NULL;

    /* on success vnic_domain_on_qemu_exit() has run and cleaned up already */
    if (!vnic_qemu_process_kill_finish(res, &error))
        ctx->dom->state = VNIC_DOMAIN_RUNNING;
    job_finish(ctx->dom, ctx->request, error, NULL);
}

void
vnic_domain_destroy_job(VnicDomain *dom, VnicApiRequest *request)
{
    /* a paused (suspended) QEMU is killed alike */
    if (!(dom->state == VNIC_DOMAIN_PAUSED && dom->process) && !check_running(dom, request))
        return;
    dom->stop_reason = "destroyed";
    dom->state = VNIC_DOMAIN_STOPPING;
    vnic_domain_drop_queue_refs(dom);
    vnic_qemu_process_kill_async(dom->process, DESTROY_GRACE_MS, NULL, kill_done,
                                 job_ctx_new(dom, request));
}

static gboolean
destroy_in_flight(const VnicDomain *dom)
{
    return dom->stop_reason && strcmp(dom->stop_reason, "destroyed") == 0;
}

/* A destroy that did not wait for the domain's job queue: it replies, and
 * leaves the job that holds the domain alone. */
static void
preempting_kill_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree JobCtx *ctx = data;
    g_autoptr(GError) error = NULL;

    if (!vnic_qemu_process_kill_finish(res, &error)) {
        ctx->dom->stop_reason = NULL;
        vnic_api_request_error(ctx->request, error);
        return;
    }
    vnic_api_request_return(ctx->request, NULL);
}

/* destroy kills QEMU at once, even while another job (a shutdown or a
 * detach waiting for a guest that does not react) holds the domain: that
 * job then ends as QEMU's exit is seen (vnic_domain_on_qemu_exit answers
 * the shutdown, aborts pending unplugs).  With nothing running, or before
 * QEMU exists, destroy queues like any job. */
void
vnic_domain_destroy(VnicDomain *dom, VnicApiRequest *request)
{
    if (!dom->job_running || !dom->process || destroy_in_flight(dom) ||
        (dom->state != VNIC_DOMAIN_RUNNING && dom->state != VNIC_DOMAIN_PAUSED &&
         dom->state != VNIC_DOMAIN_STOPPING)) {
        vnic_domain_job_queue(dom, vnic_domain_destroy_job, request);
        return;
    }
    g_message("domain '%s': destroy pre-empts the job holding it", dom->name);
    dom->stop_reason = "destroyed";
    dom->state = VNIC_DOMAIN_STOPPING;
    vnic_domain_drop_queue_refs(dom);
    vnic_qemu_process_kill_async(dom->process, DESTROY_GRACE_MS, NULL, preempting_kill_done,
                                 job_ctx_new(dom, request));
}

static gboolean
shutdown_timed_out(gpointer data)
{
    VnicDomain *dom = data;
    VnicApiRequest *request = g_steal_pointer(&dom->shutdown_request);
    g_autoptr(GError) error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_TIMEOUT,
                                          "domain '%s' did not power off within %u s; it keeps "
                                          "running (use destroy to stop it at once)",
                                          dom->name, dom->shutdown_timeout_s);

    dom->shutdown_timeout_id = 0;
    dom->stop_reason = NULL;
    dom->state = VNIC_DOMAIN_RUNNING;
    job_finish(dom, request, error, NULL);
    return G_SOURCE_REMOVE;
}

static void
powerdown_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree JobCtx *ctx = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);
    VnicDomain *dom = ctx->dom;

    if (ret || !dom->shutdown_request)
        return; /* now wait for vnic_domain_on_qemu_exit() or the timeout */
    g_clear_handle_id(&dom->shutdown_timeout_id, g_source_remove);
    dom->shutdown_request = NULL;
    dom->stop_reason = NULL;
    dom->state = VNIC_DOMAIN_RUNNING;
    job_finish(dom, ctx->request, error, NULL);
}

void
vnic_domain_shutdown_job(VnicDomain *dom, VnicApiRequest *request)
{
    gint64 timeout = dom->daemon->opts.shutdown_timeout_s ? dom->daemon->opts.shutdown_timeout_s
                                                           : DEFAULT_SHUTDOWN_TIMEOUT_S;
    g_autoptr(GError) error = NULL;

    if (!vnic_api_arg_int(request, "timeout", 1, 3600, &timeout, &error)) {
        job_finish(dom, request, error, NULL);
        return;
    }
    if (!check_running(dom, request))
        return;
    dom->stop_reason = "shutdown";
    dom->state = VNIC_DOMAIN_STOPPING;
    dom->shutdown_request = request;
    dom->shutdown_timeout_s = (guint)timeout;
    dom->shutdown_timeout_id = g_timeout_add_seconds((guint)timeout, shutdown_timed_out, dom);
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "system_powerdown",
                                  NULL, NULL, 0, 5000, NULL, powerdown_sent,
                                  job_ctx_new(dom, request));
}

/* The daemon is exiting: let go of the domain, QEMU keeps running. */
void
vnic_domain_release(VnicDomain *dom)
{
    g_clear_handle_id(&dom->shutdown_timeout_id, g_source_remove);
    g_clear_pointer(&dom->process, vnic_qemu_process_free);
    vnic_domain_free(dom);
}

gint
vnic_daemon_process_pid(const VnicDomain *dom)
{
    return dom->pid;
}
