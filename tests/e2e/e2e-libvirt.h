/* e2e-libvirt.h: a private libvirtd (and virtlogd) for tests and benches
 * that compare with or drive a real libvirt (e2e-companion,
 * bench/compare-libvirt).
 *
 * Call it inside the harness' private mount namespace (after e2e_init() or
 * bench_init()): libvirt's privileged directories (/etc/libvirt,
 * /run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt)
 * become bind mounts of directories in a temp dir, so a system libvirt is
 * never touched; a mount point missing on the host (no
 * libvirt-daemon-system) is created empty and removed again.  libvirt's
 * QEMU driver refuses to start without a 'libvirt-qemu' user (Debian's
 * build default, parsed before qemu.conf), so /etc/passwd and /etc/group
 * become bind mounts of copies with that user (and a kvm group) added when
 * the host has none.  The private qemu.conf runs QEMU as root, without
 * relabelling and without cgroups (vnicd's own tests own those).  Clients
 * reach it as qemu:///system (the namespace's /run/libvirt/libvirt-sock).
 *
 * It stops only what it started: the two daemons by the pid files it gave
 * them, and it undoes only its own mounts.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _E2eLibvirt E2eLibvirt;

/* A new one, with its temp dir (TMP/libvirt); nothing mounted or started. */
E2eLibvirt *e2e_libvirt_new(void);

/* The mounts, users and config, then `virtlogd -d` and `libvirtd -d`
 * (each with a pid file in the temp dir).  Does not wait for libvirtd's
 * socket: the caller's client retries until it answers.  On an error what
 * was done so far stays recorded, for e2e_libvirt_stop()/_free(). */
gboolean e2e_libvirt_start(E2eLibvirt *lv, GError **error);

/* The temp dir: libvirtd.log and virtlogd.log are in it. */
const char *e2e_libvirt_dir(E2eLibvirt *lv);

/* The last @max_lines of libvirtd.log (for a failure message). */
char *e2e_libvirt_log_tail(E2eLibvirt *lv, guint max_lines);

/* SIGTERM to the libvirtd and virtlogd this one started (by their pid
 * files), SIGKILL to one still alive 15 s later.  TRUE when every daemon it
 * had started exited on SIGTERM. */
gboolean e2e_libvirt_stop_daemons(E2eLibvirt *lv);

/* Undoes its mounts and removes the mount points it created.  TRUE when
 * none is left mounted or behind. */
gboolean e2e_libvirt_undo_mounts(E2eLibvirt *lv);

/* Stops whatever of it still runs, undoes the mounts, frees it. */
void e2e_libvirt_free(E2eLibvirt *lv);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eLibvirt, e2e_libvirt_free)

G_END_DECLS
