/* bench/cli.c: what a `vnic` command costs from exec to exit.
 *
 * As root, in a private network namespace (the e2e harness), with one vnicd
 * run as in production: RUNS times each, alternating, the wall time from
 * posix_spawn() to waitpid() of
 *   - `vnic --version` (process start-up alone: the dynamic loader, the
 *     libraries' constructors, main);
 *   - `vnic -c SOCKET list --all` (a query: start-up, connect, one request
 *     and reply, printing);
 *   - /bin/true, the floor any exec pays on this machine.
 * Median and p90 in ms, the targets of issue #12 next to them (< 3 ms and
 * < 5 ms).  The machine may be loaded: the floor says by how much, and the
 * CPU time (user + system) is less affected than the wall time.
 * `--also VNIC` measures another vnic binary the same way, interleaved (a
 * before/after comparison; build/vnic-full is the one-binary CLI with
 * libxml2 that build/vnic was before it became a front).
 * Asserts nothing.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-util.h"

extern char **environ;

#define RUNS 200
#define VERSION_TARGET_MS 3.0
#define QUERY_TARGET_MS 5.0

/* One run of argv with stdout and stderr on /dev/null: the wall time in
 * ms (< 0 on error) and in *@cpu_ms the CPU time it used (user + system),
 * which the load does not inflate as much. */
static double
run_once(char *const *argv, const posix_spawn_file_actions_t *fa, double *cpu_ms)
{
    pid_t pid;
    int status;
    struct rusage ru;
    gint64 t0 = g_get_monotonic_time();

    if (posix_spawn(&pid, argv[0], fa, NULL, argv, environ) != 0 || wait4(pid, &status, 0, &ru) != pid)
        return -1;
    double ms = (g_get_monotonic_time() - t0) / 1000.0;
    *cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
              (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ms : -1;
}

static void
print_row(const char *what, GArray *a, GArray *cpu, double target)
{
    double med = bench_median(a);
    printf("  %-28s median %6.2f ms  p90 %6.2f ms  (CPU median %5.2f ms)", what, med,
           bench_percentile(a, 90), bench_median(cpu));
    if (target > 0)
        printf("   target < %.0f ms: %s", target, med < target ? "met" : "MISSED");
    printf("\n");
}

static const char *also;

static gboolean
run(E2eDaemon **daemon, GError **error)
{
    if (!(*daemon = bench_daemon_start(FALSE, TRUE, error)))
        return FALSE;
    g_autofree char *vnic = g_strdup(e2e_vnic_binary());
    g_autofree char *sock = g_strdup(e2e_daemon_socket(*daemon));
    char *version[] = { vnic, "--version", NULL };
    char *list[] = { vnic, "-c", sock, "list", "--all", NULL };
    char *true_[] = { "/bin/true", NULL };
    char *also_version[] = { (char *)also, "--version", NULL };
    char *also_list[] = { (char *)also, "-c", sock, "list", "--all", NULL };
    char *const *argvs[] = { true_, version, list, also_version, also_list };
    guint n_argvs = also != NULL ? 5 : 3;
    g_autoptr(GArray) ms_true = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) ms_version = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) ms_list = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) ms_also_version = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) ms_also_list = g_array_new(FALSE, FALSE, sizeof(double));
    GArray *ms[] = { ms_true, ms_version, ms_list, ms_also_version, ms_also_list };
    g_autoptr(GArray) cpu_true = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) cpu_version = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) cpu_list = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) cpu_also_version = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) cpu_also_list = g_array_new(FALSE, FALSE, sizeof(double));
    GArray *cpu[] = { cpu_true, cpu_version, cpu_list, cpu_also_version, cpu_also_list };
    double c;
    posix_spawn_file_actions_t fa;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    /* one unmeasured round: page cache, vnicd's first connection */
    for (guint k = 0; k < n_argvs; k++)
        run_once(argvs[k], &fa, &c);
    for (guint i = 0; i < RUNS; i++) {
        for (guint k = 0; k < n_argvs; k++) {
            double t = run_once(argvs[k], &fa, &c);
            if (t < 0) {
                posix_spawn_file_actions_destroy(&fa);
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s failed", argvs[k][0],
                            argvs[k][1] != NULL ? argvs[k][1] : "");
                return FALSE;
            }
            g_array_append_val(ms[k], t);
            g_array_append_val(cpu[k], c);
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    g_autofree char *loadavg = NULL;
    g_file_get_contents("/proc/loadavg", &loadavg, NULL, NULL);
    printf("bench/cli: exec to exit, %d runs each, alternating (load average %.*s)\n", RUNS,
           loadavg != NULL ? 14 : 0, loadavg != NULL ? loadavg : "");
    print_row("/bin/true (the floor)", ms[0], cpu[0], 0);
    print_row("vnic --version", ms[1], cpu[1], VERSION_TARGET_MS);
    print_row("vnic list --all (a query)", ms[2], cpu[2], QUERY_TARGET_MS);
    if (also != NULL) {
        printf("  %s:\n", also);
        print_row("  --version", ms[3], cpu[3], VERSION_TARGET_MS);
        print_row("  list --all", ms[4], cpu[4], QUERY_TARGET_MS);
    }
    int code = -1;
    return e2e_daemon_stop(*daemon, &code, error);
}

int
main(int argc, char **argv)
{
    if (argc == 3 && g_str_equal(argv[1], "--also")) {
        also = g_canonicalize_filename(argv[2], NULL);
        argc = 1;
    }
    bench_init("bench/cli", &argc, &argv, E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_autoptr(GError) error = NULL;
    E2eDaemon *daemon = NULL;
    gboolean ok = run(&daemon, &error);
    if (!ok)
        bench_report_error(daemon, "%s", error != NULL ? error->message : "unknown error");
    g_clear_pointer(&daemon, e2e_daemon_free);
    return bench_finish(ok);
}
