/* e2e-runs.h: the e2e runs of one build tree, and what each one made.
 *
 * Every e2e test program (a "run") registers itself in BUILD/e2e-runs/ (one
 * file per run: its temp root, its pid and the pid's start time) and puts
 * VNIC_E2E_RUN=BUILD#RUN-ID in its environment, which vnicd, vnic, helper
 * shells and directly started QEMUs inherit.  QEMUs that vnicd starts get a
 * fixed environment and their files as fds, so neither their environment nor
 * their command line names the run; their stdout and stderr do (the log file
 * in the run's temp root).  A process "belongs to" a run when its environment
 * carries the run's marker, or its command line, cwd or an fd names the run's
 * temp root.
 *
 * The guard (e2e-env.c) removes its run's file once nothing of the run is
 * left; a file whose run is gone (its pid dead or reused) is a run whose guard
 * was killed too: the next run's e2e_init() and the leftover check
 * (test-leftovers.c) kill what it left.  Only this build tree's runs are
 * looked at, so other trees' tests on the same machine are never touched.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *id;        /* the temp root's base name, e.g. vnic-e2e-AbC123 */
    char *tmp_root;
    GPid pid;        /* the test program */
    guint64 start;   /* its start time (/proc/PID/stat field 22): pids get reused */
    GPid guard_pid;  /* its guard, 0 before it is forked */
    guint64 guard_start;
    char *file;      /* BUILD/e2e-runs/ID */
} E2eRun;

void e2e_run_free(E2eRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eRun, e2e_run_free)

/* BUILD/e2e-runs */
char *e2e_runs_dir(const char *build_root);

/* Registers the calling process as a run with temp root `tmp_root` and sets
 * VNIC_E2E_RUN in its environment (call it before starting anything). */
E2eRun *e2e_run_register(const char *build_root, const char *tmp_root, GError **error);

/* Records the run's guard (forked after e2e_run_register()). */
gboolean e2e_run_set_guard(E2eRun *run, GPid guard_pid, GError **error);

/* The registered runs of the tree (E2eRun *), oldest first. */
GPtrArray *e2e_runs_list(const char *build_root);

/* TRUE while the run's test program or its guard still runs. */
gboolean e2e_run_alive(const E2eRun *run);

/* Live processes other than the caller that belong to the run. */
GArray *e2e_run_processes(const char *build_root, const E2eRun *run);

/* Names in /run/netns that the run made: `vnic-…-PID` (test-migrate's). */
GPtrArray *e2e_run_netns(const E2eRun *run);

/* Mount points of the caller's mount namespace under the run's temp root. */
GPtrArray *e2e_run_mounts(const E2eRun *run);

/* SIGKILLs the run's processes (until none is left, ~5 s at most), deletes
 * its /run/netns names (unmounted first).  Returns how many processes it
 * killed; `left` (optional) gets a description of what is still there. */
guint e2e_run_clean(const char *build_root, const E2eRun *run, GString *left);

/* Removes the run's registry file. */
void e2e_run_forget(const E2eRun *run);

/* e2e_run_clean() and e2e_run_forget() for every run of the tree whose
 * program is gone (its guard was killed with it); reports on stderr. */
void e2e_runs_sweep(const char *build_root);

/* One line per process: "pid N: CMDLINE". */
char *e2e_describe_pids(GArray *pids);

G_END_DECLS
