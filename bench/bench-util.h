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
/* Stops `daemon` (SIGTERM) and requires it to exit with 0: a bench's last
 * step, so that a vnicd that cannot shut down cleanly fails the run. */
gboolean bench_daemon_stop_clean(E2eDaemon *daemon, GError **error);
/* The end of a bench's main(), after run(): reports `error` ("unknown
 * error" when NULL) with the tail of `*daemon`'s log unless `ok`, closes
 * `*conn` (may point to NULL), frees `*daemon`, and returns
 * bench_finish(ok). */
int bench_main_end(gboolean ok, const GError *error, E2eDaemon **daemon, E2eJsonConn **conn);

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

/* --- a minimal QMP client, for measuring QEMU's own floor ------------------------ */

G_BEGIN_DECLS

/* Blocking, line by line, no JSON building: the least a client can do.
 * Events read while waiting for a reply are kept for bench_qmp_wait_event(). */
typedef struct _BenchQmp BenchQmp;

/* Connects to QEMU's QMP socket at `path` (retrying until `timeout_s` while it
 * does not exist) and negotiates capabilities. */
BenchQmp *bench_qmp_connect(const char *path, double timeout_s, GError **error);
/* Sends `json` (one command; with `fd` as SCM_RIGHTS when fd >= 0) and reads
 * until its reply: TRUE on "return", FALSE with QEMU's "desc" on "error". */
gboolean bench_qmp_execute(BenchQmp *q, const char *json, int fd, double timeout_s,
                           GError **error);
/* Waits for event `event` whose data.device is `device` (NULL: any);
 * `out_us`: g_get_monotonic_time() when its line was read. */
gboolean bench_qmp_wait_event(BenchQmp *q, const char *event, const char *device,
                              double timeout_s, gint64 *out_us, GError **error);
void bench_qmp_free(BenchQmp *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BenchQmp, bench_qmp_free)

/* Writes one number per line ("%.3f\n") into DIR/NAME. */
gboolean bench_write_samples(const char *dir, const char *name, GArray *ms, GError **error);

G_END_DECLS
