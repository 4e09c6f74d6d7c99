/* e2e-daemon.h: vnicd under test, and the vnic CLI pointed at it.
 *
 * An E2eDaemon owns a temp dir DIR with DIR/state (--state-dir), DIR/run
 * (--run-dir), the control socket DIR/vnicd.sock (--socket; the read-only
 * socket is then DIR/vnicd-ro.sock) and DIR/vnicd.log (vnicd's stdout and
 * stderr, appended across restarts; G_MESSAGES_DEBUG=all).  It can be
 * started, stopped (SIGTERM), killed (SIGKILL) and started again on the same
 * state.  The socket is outside the run dir, so a test can check that the
 * run dir holds nothing of a domain once it is gone.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "e2e-cmd.h"

G_BEGIN_DECLS

typedef struct _E2eDaemon E2eDaemon;

/* `argv_prefix`: how to run the daemon (NULL: {e2e_vnicd_binary()});
 * --state-dir, --run-dir and --socket are appended, then the words of
 * $VNIC_E2E_VNICD_ARGS. Does not start it. */
E2eDaemon *e2e_daemon_new(const char *const *argv_prefix);
/* Spawns the daemon and waits (up to 20 s) until its socket accepts a
 * connection; fails at once if it exits. */
gboolean e2e_daemon_start(E2eDaemon *daemon, GError **error);
/* SIGTERM, waits up to 20 s (then SIGKILL and an error).  `out_exit_code`
 * (may be NULL): its exit code, -1 if it died of a signal. */
gboolean e2e_daemon_stop(E2eDaemon *daemon, int *out_exit_code, GError **error);
/* SIGKILL and reap: what a crash looks like. */
void e2e_daemon_kill(E2eDaemon *daemon);
/* Stops it if it runs, then starts it again. */
gboolean e2e_daemon_restart(E2eDaemon *daemon, GError **error);
gboolean e2e_daemon_running(E2eDaemon *daemon);
GPid e2e_daemon_pid(E2eDaemon *daemon);  /* 0 when not running */

const char *e2e_daemon_dir(E2eDaemon *daemon);
const char *e2e_daemon_socket(E2eDaemon *daemon);
const char *e2e_daemon_state_dir(E2eDaemon *daemon);
const char *e2e_daemon_run_dir(E2eDaemon *daemon);
const char *e2e_daemon_log_path(E2eDaemon *daemon);
char *e2e_daemon_log_tail(E2eDaemon *daemon, guint max_lines);
/* A failed test's diagnostics: the last @max_lines of the log on stderr,
 * headed by its path.  Nothing when @daemon is NULL. */
void e2e_daemon_print_log_tail(E2eDaemon *daemon, guint max_lines);

/* The text of @domain's status file (RUN_DIR/domains/DOMAIN.xml), "" when
 * it cannot be read. */
char *e2e_daemon_status_text(E2eDaemon *daemon, const char *domain);
/* Whether @domain's status file comes to contain @needle within @timeout_s,
 * read every @poll_us microseconds. */
gboolean e2e_daemon_status_says(E2eDaemon *daemon, const char *domain, const char *needle,
                                double timeout_s, gulong poll_us);

/* Kills the daemon if it runs (SIGKILL; use e2e_daemon_stop() first for a
 * clean stop).  Its QEMUs are left to the caller (or the e2e guard). */
void e2e_daemon_free(E2eDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eDaemon, e2e_daemon_free)

/* `vnic -c SOCKET VERB ARGS… NULL`, 60 s at most. */
E2eCmdResult *e2e_daemon_vnic(E2eDaemon *daemon, const char *verb, ...) G_GNUC_NULL_TERMINATED;
/* The same with its own time limit (a verb that waits for a guest). */
E2eCmdResult *e2e_daemon_vnic_timeout(E2eDaemon *daemon, double timeout_s, const char *verb, ...)
    G_GNUC_NULL_TERMINATED;
/* The same, in the background (e.g. `start` while the test connects to the
 * guest's console). */
E2eCmd *e2e_daemon_vnic_spawn(E2eDaemon *daemon, const char *verb, ...) G_GNUC_NULL_TERMINATED;
/* Runs `vnic -c SOCKET VERB ARGS…` (pass --json yourself), requires exit 0
 * and returns stdout parsed as JSON. */
JsonNode *e2e_daemon_vnic_json(E2eDaemon *daemon, GError **error, const char *verb, ...)
    G_GNUC_NULL_TERMINATED;
/* The pid `vnic list --json` gives running domain @name; 0 when it is not
 * running, or (with @error set) when the list could not be read. */
GPid e2e_daemon_running_pid(E2eDaemon *daemon, const char *name, GError **error);

/* Direct API, one request on a fresh connection to the control socket:
 * returns the reply object ({"return"} or {"error"}).  See e2e_api_call(). */
JsonObject *e2e_daemon_api(E2eDaemon *daemon, const char *execute, const char *args_json,
                           GError **error);
/* The text HMP @command (e.g. "info network") prints in @domain's QEMU,
 * through vnicd's qemu-monitor-command; NULL with @error naming the reply
 * when it has no "return" text. */
char *e2e_daemon_hmp(E2eDaemon *daemon, const char *domain, const char *command,
                     GError **error);

G_END_DECLS
