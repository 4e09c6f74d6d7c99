/* bench-util.h: what bench/hotplug, bench/daemon and the demo share, on top
 * of the e2e harness (tests/e2e, libvnic-e2e).
 *
 * The harness is made for GTest programs; these are plain programs that
 * print a few readable lines.  bench_init() calls e2e_init() (private
 * network and mount namespaces, a temp root, the guard that kills every
 * QEMU/vnicd of the run when the program ends however it ends) but sends
 * GTest's chatter ("# random seed", "# e2e: starting …", "1..0") to
 * TMPROOT/harness.log instead of stdout; the program prints with printf().
 * bench_finish() ends the run: on success the guard removes the temp root,
 * on failure it keeps it and says where.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "e2e.h"

G_BEGIN_DECLS

/* `prog` names the program in messages ("bench/hotplug", "demo"). */
void bench_init(const char *prog, int *argc, char ***argv, E2eNeeds needs);
/* Returns the exit code: 0 (and the temp root goes) when `ok`, else 1. */
int bench_finish(gboolean ok);

/* Prints "PROG: failed: MESSAGE" (and, when `daemon` is not NULL, the tail
 * of its log) to stderr. */
void bench_report_error(E2eDaemon *daemon, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* A vnicd in the harness' temp dirs, started; NULL on error.
 * `debug_log`: G_MESSAGES_DEBUG=all into its log, as the e2e tests run it;
 * FALSE: warnings only, as in production.  `run_tmpfs`: its run dir on a
 * tmpfs, as /run is on a real host (the temp root may be on a disk, where
 * vnicd's durable status writes wait for it); what QEMU logged there is
 * then gone with the program, even when it fails. */
E2eDaemon *bench_daemon_start(gboolean debug_log, gboolean run_tmpfs, GError **error);

/* The API: one request on `conn`; returns the "return" member (an error
 * reply becomes a GError "CLASS: desc").  `args` may be NULL; it is
 * consumed.  `out_ms` (may be NULL): the round trip as the client sees it,
 * from before sending to after parsing the reply. */
JsonNode *bench_api(E2eJsonConn *conn, const char *execute, JsonObject *args, double timeout_s,
                    double *out_ms, GError **error);
/* The same on a fresh connection. */
JsonNode *bench_api_once(E2eDaemon *daemon, const char *execute, JsonObject *args,
                         double timeout_s, GError **error);
/* A JsonObject with string members: key, value, …, NULL. */
JsonObject *bench_args(const char *first_key, ...) G_GNUC_NULL_TERMINATED;

/* Members of a JSON object node (0 / NULL when absent or another type). */
gint64 bench_json_int(JsonNode *obj, const char *member);
const char *bench_json_str(JsonNode *obj, const char *member);
JsonNode *bench_json_member(JsonNode *obj, const char *member);

/* `vnic start NAME` in the background while connecting to the guest's
 * console as soon as QEMU creates it (QEMU drops console output while
 * nobody is connected), then waits for the boot marker.  `out_start_s`:
 * how long `vnic start` took; `out_boot_s`: from then until the guest's
 * shell was ready. */
E2eConsole *bench_start_and_boot(E2eDaemon *daemon, const E2eDomainXml *xml, double *out_start_s,
                                 double *out_boot_s, GError **error);

/* Runs `argv` (60 s at most) and requires exit 0. */
gboolean bench_run(const char *const *argv, GError **error);

/* Statistics over a GArray of doubles (sorted in place). */
double bench_median(GArray *v);
double bench_max(GArray *v);
double bench_percentile(GArray *v, double p);  /* nearest rank, p in 0..100 */

/* VmRSS of a process in KiB (-1 when it cannot be read). */
gint64 bench_rss_kib(GPid pid);

G_END_DECLS
