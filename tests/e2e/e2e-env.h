/* e2e-env.h: start-up, paths, temp dirs and process checks of the e2e harness.
 *
 * Every e2e test program calls e2e_init() first and ends with
 * `return e2e_finish();`.  e2e_init() moves the program into a private
 * network (and mount) namespace, makes a temp root for everything the test
 * creates and forks a guard that, when the program ends in any way (even
 * SIGKILL or an abort), kills every process whose command line mentions the
 * temp root (QEMU, vnicd, vnic) and removes the temp root.
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
    E2E_NEED_GUEST = 1 << 0,  /* qemu-system-x86_64 and BUILD/guest/{vmlinuz,initrd.img} */
    E2E_NEED_VNIC = 1 << 1,   /* BUILD/vnic */
    E2E_NEED_VNICD = 1 << 2,  /* BUILD/vnicd */
} E2eNeeds;

/* g_test_init(), then checks what the program needs (root, and `needs`).
 * Anything missing ends the program: exit 77 (meson: skipped) when
 * VNIC_E2E_ALLOW_SKIP=1, otherwise exit 1 with the reason.  Then enters the
 * private namespaces and starts the guard.  Call it before anything else
 * (it must run while the process has a single thread). */
void e2e_init(int *argc, char ***argv, E2eNeeds needs);

/* For the leftover check (test-leftovers.c): g_test_init() and the paths
 * only; no namespaces, no temp root, no guard, not registered as a run.
 * Needs root like e2e_init(). */
void e2e_init_check(int *argc, char ***argv);

/* g_test_run(), then marks the temp root for removal when every test passed
 * (the guard removes it; a failed run keeps it and prints where).  Returns
 * g_test_run()'s result. */
int e2e_finish(void);

/* Paths.  Defaults come from meson; environment variables override:
 * VNIC_E2E_SOURCE_ROOT, VNIC_E2E_BUILD_ROOT, VNIC_E2E_GUEST_DIR
 * (default BUILD/guest), VNIC_E2E_QEMU (default qemu-system-x86_64 in PATH),
 * VNIC_E2E_VNIC (BUILD/vnic), VNIC_E2E_VNICD (BUILD/vnicd). */
const char *e2e_source_root(void);
const char *e2e_build_root(void);
const char *e2e_guest_dir(void);
const char *e2e_qemu_binary(void);
const char *e2e_vnic_binary(void);
const char *e2e_vnicd_binary(void);

/* The program's temp root (short, under $TMPDIR or /tmp: unix socket paths
 * live there). */
const char *e2e_tmp_root(void);
/* A new directory TMPROOT/TAG (TAG-2, TAG-3, … when taken). */
char *e2e_tmp_dir(const char *tag);
/* Writes @text to a new file @name in a new e2e_tmp_dir(@tag); its path. */
char *e2e_tmp_file(const char *tag, const char *name, const char *text);

/* Monotonic deadlines, in g_get_monotonic_time() units. */
gint64 e2e_deadline(double timeout_s);
/* Milliseconds left until `deadline` (0 when past), for poll(). */
int e2e_ms_left(gint64 deadline);

/* A connected unix stream socket (O_CLOEXEC, non-blocking), retrying while
 * the path does not exist or refuses connections, until `timeout_s`. */
int e2e_unix_connect(const char *path, double timeout_s, GError **error);
/* Writes all of `data` to a (non-blocking) socket before `deadline`. */
gboolean e2e_write_all(int fd, const char *data, gsize len, gint64 deadline, GError **error);

/* Processes.  A process "is alive" when /proc/PID exists and it is not a
 * zombie.  e2e_proc_find() returns the pids (GPid) of live processes other
 * than this one whose command line contains `needle`. */
gboolean e2e_proc_alive(GPid pid);
GArray *e2e_proc_find(const char *needle);
char *e2e_proc_cmdline(GPid pid);
/* SIGKILLs every live process matching `needle` until none is left (bounded:
 * ~5 s); returns how many it killed. */
guint e2e_proc_kill_matching(const char *needle);

/* The last `max_lines` lines of a text file ("" when it cannot be read). */
char *e2e_file_tail(const char *path, guint max_lines);
/* rm -rf; never follows symlinks. */
void e2e_rm_rf(const char *path);
/* Creates a sparse file of `size` bytes (for raw disk images). */
gboolean e2e_make_sparse_file(const char *path, goffset size, GError **error);

G_END_DECLS
