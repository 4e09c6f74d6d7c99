/* qemu-process.h: launching and supervising one QEMU.
 *
 * The life of a guest, as the daemon drives it:
 *
 *   rt  = vnic_qemu_runtime_prepare(live_def, run_dir, log_path, &err);
 *   vnic_qemu_runtime_add_fds(rt, nic, VNIC_QEMU_FD_TAP, fds, n);   // per NIC
 *   cmd = vnic_qemu_command_build(live_def, rt, &err);
 *   vnic_qemu_process_start_async(cmd, rt, &opts, …);   // takes cmd and rt
 *   proc = vnic_qemu_process_start_finish(res, &err);     // running, verified
 *   vnic_qemu_process_set_exit_func(proc, on_exit, …);
 *   …
 *   vnic_qemu_process_kill_async(proc, 3000, …);          // destroy
 *
 * After a daemon restart: vnic_qemu_process_attach_async() with the pid,
 * start time, monitor path and owned files the status file recorded.
 *
 * QEMU gets everything as file descriptors (monitor and chardev sockets
 * vnic listens on, disk images, taps, its log), runs in its own session
 * (it survives vnicd) as an unprivileged user, and opens no file of the
 * host by path.  Everything here runs on the thread-default main
 * context of the caller; nothing blocks except short local syscalls.
 */
#pragma once

#include <sys/types.h>

#include "qemu/qemu-command.h"
#include "qemu/qmp-client.h"

G_BEGIN_DECLS

/* The user QEMU runs as unless the daemon is told otherwise
 * (scripts/deps.sh creates it). */
#define VNIC_QEMU_DEFAULT_USER "vnic-qemu"

/* Looks up @name's uid and primary gid.  HOST error when there is none. */
gboolean vnic_qemu_lookup_user(const char *name, uid_t *uid, gid_t *gid, GError **error);

/* Checks that KVM can run guests here: /dev/kvm opens read-write,
 * KVM_GET_API_VERSION is 12, KVM_CREATE_VM works, and the CPU KVM offers
 * has SSE3, which every x86-64 host CPU since 2005 has: nested KVM that
 * hides it (as on the machines vnic is tested on) cannot run a Linux
 * guest.  Fails with VNIC_QEMU_ERROR_KVM saying to use type='qemu'. */
gboolean vnic_qemu_check_kvm(GError **error);

/* The start time of process @pid (/proc/PID/stat field 22, clock ticks
 * since boot), which with the pid identifies a process across pid reuse.
 * 0 with @error (GONE) when there is no such process. */
guint64 vnic_qemu_proc_start_time(GPid pid, GError **error);

/* ---- the runtime pieces vnic owns ------------------------------------------ */

/* Creates what one QEMU of @def needs from the host, except NIC backends
 * (the caller adds those with vnic_qemu_runtime_add_fds):
 *   - the monitor socket @run_dir/qmp.sock, bound and listening;
 *   - for each unix serial/console/channel a listening socket at its
 *     <source path>, or at @run_dir/<target name or device id>.sock when it
 *     has none, which is then written back to the device's source_path
 *     (so the status XML shows it);
 *   - each file serial/console/channel opened for writing;
 *   - each disk's image or block device, opened read-write (read-only for
 *     <readonly/> and cdroms); a qcow2 image with a backing or external
 *     data file is refused (QEMU would open it by path);
 *   - the kernel and initrd (the files, or memfd copies of root-only ones);
 *   - each serial/console <log file> opened for appending;
 *   - @log_path opened for appending (QEMU's stdout and stderr).
 * @run_dir must exist.  On failure nothing is left behind.  The runtime
 * records every file it created so vnic_qemu_runtime_remove_files()
 * removes exactly those. */
VnicQemuRuntime *vnic_qemu_runtime_prepare(VnicConfDomain *def, const char *run_dir,
                                           const char *log_path, GError **error);

/* Opens the pflash firmware of @def (<loader>, or for firmware='efi' the
 * first fitting descriptor in /usr/share/qemu/firmware) and its varstore:
 * the <nvram> path, else @nvram_dir/NAME_VARS.fd, created from the
 * template (mode 0600) when missing.  Nothing to do without a pflash
 * loader.  The varstore is the guest's state: never removed here. */
gboolean vnic_qemu_runtime_prepare_firmware(VnicQemuRuntime *rt, const VnicConfDomain *def,
                                            const char *nvram_dir, GError **error);

/* Removes the files the runtime created (those still the same inode). */
void vnic_qemu_runtime_remove_files(VnicQemuRuntime *rt);
const char *vnic_qemu_runtime_get_qmp_path(const VnicQemuRuntime *rt);

/* Removes @paths (NULL-terminated), ignoring those already gone: what a
 * daemon does for a QEMU that vanished while it was down. */
void vnic_qemu_remove_paths(const char *const *paths);

/* ---- processes ----------------------------------------------------- */

typedef struct {
    uid_t uid;                 /* QEMU's user and group; both 0: stay root */
    gid_t gid;
    gboolean own_ids;          /* uid/gid are the domain's own (no passwd user): no
                                * supplementary groups, but kvm for a KVM guest (/dev/kvm
                                * is root:kvm 0660); else the user's groups */
    guint timeout_ms;          /* monitor connect and each start command; 0: 30 s */
    gboolean join_cgroup;      /* the child joins cgroup_procs_fd's cgroup before exec */
    int cgroup_procs_fd;       /* with join_cgroup: an fd on cgroup.procs (taken) */
    gboolean incoming;         /* -incoming defer: the guest's state comes by migration
                                * (migrate-incoming); no balloon, no cont: the guest
                                * stays paused until the caller resumes it */
} VnicQemuLaunchOptions;

typedef struct _VnicQemuProcess VnicQemuProcess;

/* How QEMU ended, when known. */
typedef struct {
    gboolean known;            /* FALSE for a QEMU vnic did not spawn (re-attached) */
    gboolean signaled;
    int code;                  /* exit status, or the signal number */
} VnicQemuExit;

/* Starts QEMU and brings it to running, as one operation:
 *   spawn (-S, in its own session, as opts->uid/gid) → connect the monitor
 *   → query-pci (and qom-get for devices behind bridges) checked against
 *   cmd->expected_pci → set_link down, balloon, query-chardev for ptys →
 *   cont (with opts->incoming: -incoming defer, and neither balloon nor
 *   cont, which belong to the migrated state).
 * Takes @cmd and @rt.  If @cmd->kvm, KVM is checked first.  On any
 * failure (including QEMU exiting and cancellation) QEMU is killed and
 * reaped, every fd is closed and every file the runtime created is
 * removed; the error (VNIC_QEMU_ERROR_START, _VERIFY, _KVM, _HOST) names
 * the step and ends with the tail of what QEMU wrote to its log. */
void vnic_qemu_process_start_async(VnicQemuCommand *cmd, VnicQemuRuntime *rt,
                                   const VnicQemuLaunchOptions *opts,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
VnicQemuProcess *vnic_qemu_process_start_finish(GAsyncResult *result, GError **error);

/* What a status file keeps to find a QEMU again. */
typedef struct {
    GPid pid;
    guint64 start_time;        /* vnic_qemu_process_get_start_time() at launch */
    const char *qmp_path;
    const char *log_path;      /* nullable */
    const char *const *owned_paths; /* nullable: removed once QEMU is gone */
    guint timeout_ms;          /* monitor connect; 0: 30 s */
} VnicQemuAttachInfo;

/* Takes over a QEMU started earlier (by a vnicd that since restarted):
 * checks that @info->pid still is that process (its start time), watches
 * it with a pidfd, connects its monitor.  VNIC_QEMU_ERROR_GONE when the
 * process is gone or the pid now belongs to another one; the files are
 * then left alone (see vnic_qemu_remove_paths). */
void vnic_qemu_process_attach_async(const VnicQemuAttachInfo *info, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
VnicQemuProcess *vnic_qemu_process_attach_finish(GAsyncResult *result, GError **error);

/* Detaches: closes the monitor connection and the watch, and frees.  QEMU
 * keeps running (that is how a daemon restarts) unless it is already gone.
 * Kill operations still pending fail with G_IO_ERROR_CANCELLED. */
void vnic_qemu_process_free(VnicQemuProcess *proc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicQemuProcess, vnic_qemu_process_free)

GPid vnic_qemu_process_get_pid(const VnicQemuProcess *proc);
guint64 vnic_qemu_process_get_start_time(const VnicQemuProcess *proc);
/* The monitor; borrowed, valid until the process is freed. */
VnicQmpClient *vnic_qemu_process_get_qmp(VnicQemuProcess *proc);
const char *vnic_qemu_process_get_qmp_path(const VnicQemuProcess *proc);
const char *vnic_qemu_process_get_log_path(const VnicQemuProcess *proc);
/* Files removed when QEMU is gone (NULL-terminated; for the status file). */
const char *const *vnic_qemu_process_get_owned_paths(const VnicQemuProcess *proc);
/* TRUE until the exit has been seen. */
gboolean vnic_qemu_process_is_running(const VnicQemuProcess *proc);
/* The pty path ("/dev/pts/3") of the pty chardev of device @dev_id
 * ("serial0"), read at start; NULL when there is none. */
const char *vnic_qemu_process_get_pty(const VnicQemuProcess *proc, const char *dev_id);
/* Writes the pty paths into the source_path of @def's devices (by id), so
 * the status XML shows them. */
void vnic_qemu_process_apply_ptys(const VnicQemuProcess *proc, VnicConfDomain *def);

/* Called once, from the main context, when QEMU is gone (reaped if it is
 * vnic's child) and the files it owned are removed.  Replaces an earlier
 * func (whose @notify runs).  Not called after vnic_qemu_process_free(). */
typedef void (*VnicQemuExitFunc)(VnicQemuProcess *proc, const VnicQemuExit *exit,
                                 gpointer user_data);
void vnic_qemu_process_set_exit_func(VnicQemuProcess *proc, VnicQemuExitFunc func,
                                     gpointer user_data, GDestroyNotify notify);

/* Destroys QEMU: SIGTERM, SIGKILL after @grace_ms (0: at once), then waits
 * for it to be gone (the exit func runs first).  TRUE at once when it is
 * already gone.  HOST error if it cannot be signalled. */
void vnic_qemu_process_kill_async(VnicQemuProcess *proc, guint grace_ms,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean vnic_qemu_process_kill_finish(GAsyncResult *result, GError **error);

G_END_DECLS
