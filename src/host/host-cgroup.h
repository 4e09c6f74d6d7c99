/* host-cgroup.h: a CPU cgroup per guest, so <cputune> is enforced.
 *
 * vnicd creates one cgroup per running domain with the CPU controller,
 * writes the limits, and QEMU joins it before it execs (the launcher's
 * child writes "0" to the cgroup.procs fd opened here), so no QEMU thread
 * ever runs outside it.  Both hierarchies:
 *   v2 (cgroup.controllers at /sys/fs/cgroup lists cpu):
 *      /sys/fs/cgroup/vnic.slice/<name>, cpu.weight, cpu.max;
 *   v1 (hybrid or legacy, /sys/fs/cgroup/cpu[,cpuacct]/cpu.shares):
 *      /sys/fs/cgroup/cpu/vnic/<name>, cpu.shares, cpu.cfs_period_us,
 *      cpu.cfs_quota_us.
 * A host with neither fails with a HOST error saying so.  Removing a cgroup
 * that is gone is fine; one that still has processes fails (EBUSY).
 * Nothing here logs above g_debug.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint64 shares;     /* 0: unset (cgroup default) */
    guint64 period_us;  /* 0: unset */
    gint64 quota_us;    /* 0: unset, < 0: unlimited */
} VnicHostCpuTune;

/* Creates (or reuses) the cgroup of domain @name, applies @tune and
 * returns an fd on its cgroup.procs, open for writing (close-on-exec), and
 * its directory in *@ret_path.  -1 with a HOST error (FAILED) otherwise;
 * a cgroup it created is removed again. */
int vnic_host_cgroup_create(const char *name, const VnicHostCpuTune *tune, char **ret_path,
                            GError **error);

/* Removes domain @name's cgroup, if there is one (both hierarchies). */
gboolean vnic_host_cgroup_remove(const char *name, GError **error);

G_END_DECLS
