/* e2e-qemu.h: the test guest under a plain qemu-system-x86_64 (no vnicd),
 * and a minimal QMP client.  Used by the harness self-test; tests of vnicd
 * let the daemon start QEMU and use only the console.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "e2e-console.h"

G_BEGIN_DECLS

typedef struct _E2eQmp E2eQmp;

/* Connects, reads the greeting and negotiates (qmp_capabilities). */
E2eQmp *e2e_qmp_connect(const char *path, double timeout_s, GError **error);
/* Runs `command` with `args_json` (JSON text of an object, or NULL); returns
 * its "return" value.  An {"error"} reply becomes a GError "CLASS: DESC".
 * Events that arrive meanwhile are kept for e2e_qmp_wait_event(). */
JsonNode *e2e_qmp_execute(E2eQmp *qmp, const char *command, const char *args_json,
                          double timeout_s, GError **error);
/* The first (kept or new) event named `event`; returns the whole message. */
JsonObject *e2e_qmp_wait_event(E2eQmp *qmp, const char *event, double timeout_s, GError **error);
void e2e_qmp_free(E2eQmp *qmp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eQmp, e2e_qmp_free)

typedef struct _E2eQemu E2eQemu;

/* Boots the test guest: qemu-system-x86_64 -accel tcg MACHINE_ARGS -m 256
 * -nodefaults -display none -no-reboot -S with the guest's kernel and
 * initrd, command line "console=ttyS0 quiet panic=-1 vnic.echo=0" plus
 * `extra_append` (may be NULL), serial console and QMP on unix sockets in a
 * temp dir.  Connects both, then sends `cont`: no console output is lost.
 * Does not wait for the boot (e2e_console_wait_ready()). */
E2eQemu *e2e_qemu_start(const char *const *machine_args, const char *extra_append, GError **error);
E2eConsole *e2e_qemu_console(E2eQemu *qemu);
/* Closes the console connection and opens a new one (QEMU's chardev server
 * takes one client at a time). */
E2eConsole *e2e_qemu_reconnect_console(E2eQemu *qemu, GError **error);
E2eQmp *e2e_qemu_qmp(E2eQemu *qemu);
const char *e2e_qemu_dir(E2eQemu *qemu);
/* QEMU's stderr so far. */
char *e2e_qemu_log(E2eQemu *qemu);
/* Waits for QEMU to exit; `out_exit_code`: its code, -1 if killed. */
gboolean e2e_qemu_wait_exit(E2eQemu *qemu, double timeout_s, int *out_exit_code, GError **error);
/* SIGKILLs QEMU if it still runs. */
void e2e_qemu_free(E2eQemu *qemu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eQemu, e2e_qemu_free)

G_END_DECLS
