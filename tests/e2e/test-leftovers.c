/* test-leftovers.c: nothing the e2e tests of this build tree made remains
 * (meson test 'e2e-leftovers', the last of the e2e suite).
 *
 * Issue #10's acceptance: after the suite, no link, fd, QEMU or namespace
 * made by the tests remains.  Every e2e program registers itself as a run
 * in BUILD/e2e-runs/ and its guard removes the entry once nothing of the run
 * is left (e2e-runs.h); so after the suite
 *   runs       no run of this tree is still registered with its program
 *              gone (its guard was killed, or something survived it); for
 *              each such run it lists the processes (environment marker,
 *              or cwd, command line or an fd in the run's temp root: the
 *              QEMUs vnicd started hold their log there), its /run/netns
 *              names (`ip netns add` in test-migrate) and the mounts under
 *              its temp root in this (the host's) mount namespace
 *   processes  no live process carries this tree's VNIC_E2E_RUN marker of
 *              a run that is no longer registered or running
 * Links, taps, bridges and veths live in the runs' private network
 * namespaces, which exist only while a process or a /run/netns mount holds
 * them: with none of those left, none of the links is.  Fds die with their
 * processes.
 *
 * What it finds it reports, then removes (SIGKILL, /run/netns entry
 * deleted, registry entry forgotten), so the next suite starts clean.  Only
 * this build tree's runs are looked at: other trees' tests running on the
 * same machine are neither reported nor touched.  A run that still runs
 * (someone started a test by hand meanwhile) is skipped with a message.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"
#include "e2e-runs.h"

#define MARKER_PREFIX "VNIC_E2E_RUN="

/* The run id of a process's marker when it is this tree's, else NULL. */
static char *
marker_run_id(GPid pid, const char *build_root)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/environ", (int)pid);
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return NULL;
    g_autofree char *want = g_strconcat(MARKER_PREFIX, build_root, "#", NULL);
    for (gsize i = 0; i < len; i += strlen(data + i) + 1)
        if (g_str_has_prefix(data + i, want))
            return g_strdup(data + i + strlen(want));
    return NULL;
}

static gboolean
run_id_alive(GPtrArray *runs, const char *id)
{
    for (guint i = 0; i < runs->len; i++) {
        const E2eRun *run = runs->pdata[i];
        if (g_strcmp0(run->id, id) == 0)
            return e2e_run_alive(run);
    }
    return FALSE;  /* not registered: its guard finished, so nothing of it may live */
}

static void
test_runs(void)
{
    const char *build = e2e_build_root();
    g_autoptr(GPtrArray) runs = e2e_runs_list(build);
    g_autoptr(GString) problems = g_string_new(NULL);
    for (guint i = 0; i < runs->len; i++) {
        const E2eRun *run = runs->pdata[i];
        if (e2e_run_alive(run)) {
            g_test_message("run %s (pid %d) still runs: not checked", run->id, (int)run->pid);
            continue;
        }
        g_autoptr(GArray) pids = e2e_run_processes(build, run);
        g_autoptr(GPtrArray) netns = e2e_run_netns(run);
        g_autoptr(GPtrArray) mounts = e2e_run_mounts(run);
        g_autofree char *procs = e2e_describe_pids(pids);
        g_string_append_printf(problems, "run %s (pid %d, temp root %s) is still registered: "
                               "%u process(es), %u /run/netns name(s), %u mount(s)\n%s",
                               run->id, (int)run->pid, run->tmp_root, pids->len, netns->len,
                               mounts->len, procs);
        for (guint j = 0; j < netns->len; j++)
            g_string_append_printf(problems, "netns %s\n", (char *)netns->pdata[j]);
        for (guint j = 0; j < mounts->len; j++)
            g_string_append_printf(problems, "mount %s\n", (char *)mounts->pdata[j]);
        g_autoptr(GString) left = g_string_new(NULL);
        e2e_run_clean(build, run, left);
        if (left->len == 0)
            e2e_run_forget(run);
        else
            g_string_append_printf(problems, "still there after SIGKILL:\n%s", left->str);
    }
    E2E_CHECK(problems->len == 0, "left behind by e2e runs of %s:\n%s", build, problems->str);
    g_test_message("%u registered run(s) of %s, none left anything", runs->len, build);
}

static void
test_processes(void)
{
    const char *build = e2e_build_root();
    g_autoptr(GPtrArray) runs = e2e_runs_list(build);
    g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(GPid));
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    const char *name;
    guint seen = 0;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        char *end;
        long pid = strtol(name, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == getpid() || !e2e_proc_alive((GPid)pid))
            continue;
        g_autofree char *id = marker_run_id((GPid)pid, build);
        if (id == NULL)
            continue;
        seen++;
        if (!run_id_alive(runs, id)) {
            GPid p = (GPid)pid;
            g_array_append_val(found, p);
        }
    }
    g_autofree char *desc = e2e_describe_pids(found);
    for (guint i = 0; i < found->len; i++)
        kill(g_array_index(found, GPid, i), SIGKILL);
    E2E_CHECK(found->len == 0, "%u process(es) of finished e2e runs of %s (killed now):\n%s", found->len,
              build, desc);
    g_test_message("%u live process(es) carry this tree's marker, all of running runs", seen);
}

int
main(int argc, char **argv)
{
    e2e_init_check(&argc, &argv);
    g_test_add_func("/e2e/leftovers/runs", test_runs);
    g_test_add_func("/e2e/leftovers/processes", test_processes);
    return g_test_run();
}
