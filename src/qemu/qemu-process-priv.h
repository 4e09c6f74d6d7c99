/* qemu-process-priv.h: the insides of VnicQemuProcess, shared by
 * qemu-process.c (the object: exit watch, kill, attach), qemu-start.c (the
 * start sequence), qemu-prepare.c (runtime files) and qemu-host.c (small
 * host helpers).  Not for use outside src/qemu except by its tests.
 */
#pragma once

#include "qemu/qemu-command-priv.h"
#include "qemu/qemu-process.h"

G_BEGIN_DECLS

struct _VnicQemuProcess {
    GPid pid;
    guint64 start_time;
    int pidfd;                 /* a re-attached QEMU's; -1 for a child (GLib watches it)
                                * or a process gone before it could be opened */
    GSource *pidfd_source;     /* readable when the process exits */
    gboolean pidfd_fired;
    GSubprocess *child;        /* NULL for a re-attached QEMU */
    GCancellable *wait_cancel; /* cancelled by free: the wait callback must not touch us */
    gboolean wait_done;        /* the child is reaped */
    gboolean exited;           /* final: gone, files removed, exit func called */
    VnicQemuExit exit;

    VnicQmpClient *qmp;
    char *qmp_path;
    char *log_path;
    gint64 log_start;
    GPtrArray *owned;          /* VnicQemuOwnedFile*: removed once QEMU is gone */
    GPtrArray *owned_paths;    /* char*, NULL-terminated view of owned, for the getter */
    GHashTable *ptys;          /* device id → pty path */

    VnicQemuExitFunc exit_func;
    gpointer exit_data;
    GDestroyNotify exit_notify;

    GPtrArray *kill_tasks;     /* GTask*, completed once QEMU is gone */
    GSource *kill_timer;       /* SIGKILL after the grace period */
};

/* qemu-process.c */
/* A process object watching @pid (taking @child, nullable, and *@pidfd,
 * which may be -1 when the process is already gone). */
VnicQemuProcess *vnic_qemu_process_new_internal(GPid pid, guint64 start_time,
                                                GSubprocess *child, int *pidfd);
/* Moves @owned (VnicQemuOwnedFile*) into the process. */
void vnic_qemu_process_take_owned(VnicQemuProcess *proc, GPtrArray *owned);
/* Sends @sig to the child, or through the pidfd of a re-attached QEMU.
 * FALSE with a HOST error if it cannot. */
gboolean vnic_qemu_process_signal(VnicQemuProcess *proc, int sig, GError **error);

/* qemu-prepare-boot.c: the kernel and initrd as sealed memfd copies. */
gboolean vnic_qemu_prepare_kernel(VnicQemuRuntime *rt, const VnicConfDomain *def,
                                  GError **error);

/* qemu-prepare-graphics.c: a free port for each autoport <graphics>,
 * written into its port= attribute. */
gboolean vnic_qemu_prepare_graphics(VnicConfDomain *def, GError **error);

/* qemu-host.c */
int vnic_qemu_pidfd_open(GPid pid);
int vnic_qemu_pidfd_send_signal(int pidfd, int sig);
/* TRUE when the process behind @pidfd has exited (poll, no wait). */
gboolean vnic_qemu_pidfd_exited(int pidfd);
/* The last lines QEMU wrote to @path after offset @start, indented for an
 * error message; "" when there is nothing. */
char *vnic_qemu_log_tail(const char *path, gint64 start);
/* "exited with status 1", "was killed by signal 9 (Killed)", "exited". */
char *vnic_qemu_exit_describe(const VnicQemuExit *exit);
/* Removes the files that are still the inode recorded (st_ino 0: any). */
void vnic_qemu_owned_remove(GPtrArray *owned);

G_END_DECLS
