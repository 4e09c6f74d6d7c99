/* e2e-console.h: the test guest's serial console, from a unix socket.
 *
 * The guest (tests/guest) prints VNIC-GUEST-READY once per boot, then the
 * prompt "vnic-guest# ".  Commands are sent as `CMD; echo "@@RC=$?@@N@@"`
 * (N counts the commands): their output is everything up to that marker,
 * the exit status is in it.  Use the kernel command line option
 * vnic.echo=0: the guest then does not echo what is typed, so the output is
 * exactly what the command printed.  Every wait has a timeout; a command
 * that runs out of time is interrupted with ^C so the console stays usable.
 *
 * Connect before the guest has booted (QEMU drops serial output while no
 * client is connected): the marker comes ~1.5–3 s after the guest starts.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _E2eConsole E2eConsole;

#define E2E_GUEST_READY_MARKER "VNIC-GUEST-READY"
#define E2E_GUEST_PROMPT "vnic-guest# "

/* Connects to the console socket, retrying until `timeout_s` while it does
 * not exist yet. */
E2eConsole *e2e_console_connect(const char *path, double timeout_s, GError **error);
/* Waits for the boot marker and the first prompt.  Should the console stay
 * silent for 10 s (see e2e_console_set_silence()): it was connected after
 * the boot and the marker went by, so it probes the shell with `echo` until
 * it answers or the time is up (and says so with g_test_message()). */
gboolean e2e_console_wait_ready(E2eConsole *console, double timeout_s, GError **error);
/* How long a silent console makes e2e_console_wait_ready() probe (10 s). */
void e2e_console_set_silence(E2eConsole *console, double seconds);
/* Runs one shell command line (a complete command, not ending in '&' or ';',
 * under ~4000 bytes) and returns its output ('\r' removed) and exit status.
 * Either out-parameter may be NULL. */
gboolean e2e_console_run(E2eConsole *console, const char *command, double timeout_s,
                         char **out_output, int *out_status, GError **error);
/* Reads until the regular expression `pattern` matches; returns everything
 * read up to the end of the match (consumed) in `out_text` (may be NULL). */
gboolean e2e_console_wait_for(E2eConsole *console, const char *pattern, double timeout_s,
                              char **out_text, GError **error);
/* Writes raw bytes (e.g. "\x03"). */
gboolean e2e_console_send(E2eConsole *console, const char *data, GError **error);
/* Everything received so far, '\r' removed; the last `max_bytes` (0: all). */
char *e2e_console_transcript(E2eConsole *console, gsize max_bytes);
const char *e2e_console_path(E2eConsole *console);
void e2e_console_free(E2eConsole *console);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eConsole, e2e_console_free)

G_END_DECLS
