/* e2e-env.c: start-up of an e2e test program, paths, temp dirs, processes.
 *
 * Owns the program-wide state: the paths (meson defines, overridden by the
 * environment), the temp root and the guard process.  The guard is forked
 * by e2e_init() while the program is still single-threaded; it waits for
 * EOF on a pipe whose write end only the program holds (O_CLOEXEC: children
 * do not inherit it), i.e. for the program to end however it ends, then
 * SIGKILLs every process whose command line names the temp root (every QEMU,
 * vnicd and vnic the test started has a socket or dir under it) and removes
 * the temp root unless the run failed.  So no test leaves a guest running,
 * even when it aborts or meson kills it on a timeout.
 *
 * The guard finds a run's processes through e2e-runs.c as well: the
 * VNIC_E2E_RUN marker in their environment, or the temp root in their
 * command line, cwd or fds (QEMUs that vnicd starts name nothing of the run
 * but their log file, their stdout).  And when the guard itself is killed
 * with the program (kill -9 of the whole test run), its run stays registered
 * in BUILD/e2e-runs/: the next program of this build tree kills what the run
 * left before it starts (e2e_runs_sweep()), and the leftover check
 * (test-leftovers.c, last in the suite) fails on it.
 */
#include "e2e-env.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "e2e-netns.h"
#include "e2e-runs.h"

#ifndef VNIC_E2E_SOURCE_ROOT
#error "VNIC_E2E_SOURCE_ROOT must be defined by the build"
#endif
#ifndef VNIC_E2E_BUILD_ROOT
#error "VNIC_E2E_BUILD_ROOT must be defined by the build"
#endif

/* The marker file that tells the guard the run passed. */
#define PASSED_MARK ".passed"

static struct {
    char *source_root, *build_root, *guest_dir, *qemu, *vnic, *vnicd;
    char *tmp_root;
    char **args;   /* argv with --keep-going: GTest keeps pointers into it */
    int guard_fd;
    E2eRun *run;  /* this program's entry in BUILD/e2e-runs */
} env = { .guard_fd = -1 };

static const char *
getenv_nonempty(const char *name)
{
    const char *v = g_getenv(name);
    return v != NULL && *v != '\0' ? v : NULL;
}

static char *
path_from_env(const char *var, const char *fallback)
{
    const char *v = getenv_nonempty(var);
    return g_strdup(v != NULL ? v : fallback);
}

static void
init_paths(void)
{
    env.source_root = path_from_env("VNIC_E2E_SOURCE_ROOT", VNIC_E2E_SOURCE_ROOT);
    env.build_root = path_from_env("VNIC_E2E_BUILD_ROOT", VNIC_E2E_BUILD_ROOT);
    g_autofree char *guest = g_build_filename(env.build_root, "guest", NULL);
    g_autofree char *vnic = g_build_filename(env.build_root, "vnic", NULL);
    g_autofree char *vnicd = g_build_filename(env.build_root, "vnicd", NULL);
    env.guest_dir = path_from_env("VNIC_E2E_GUEST_DIR", guest);
    env.vnic = path_from_env("VNIC_E2E_VNIC", vnic);
    env.vnicd = path_from_env("VNIC_E2E_VNICD", vnicd);
    const char *qemu = getenv_nonempty("VNIC_E2E_QEMU");
    if (qemu == NULL)
        qemu = "qemu-system-x86_64";
    char *found = strchr(qemu, '/') ? g_strdup(qemu) : g_find_program_in_path(qemu);
    env.qemu = found != NULL ? found : g_strdup(qemu);
}

/* Exits: 77 (skip) when VNIC_E2E_ALLOW_SKIP=1, else 1. */
G_GNUC_NORETURN static void
cannot_run(const char *why)
{
    if (g_strcmp0(g_getenv("VNIC_E2E_ALLOW_SKIP"), "1") == 0) {
        g_print("1..0 # SKIP e2e: %s\n", why);
        g_printerr("e2e: skipped (VNIC_E2E_ALLOW_SKIP=1): %s\n", why);
        exit(77);
    }
    g_printerr("e2e: cannot run: %s\n"
               "e2e: (set VNIC_E2E_ALLOW_SKIP=1 to skip the e2e tests instead of failing)\n",
               why);
    exit(1);
}

static void
check_needs(E2eNeeds needs)
{
    g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);
    if (geteuid() != 0)
        g_ptr_array_add(missing, g_strdup("not root (needs a network namespace, taps, QEMU)"));
    if (needs & E2E_NEED_GUEST) {
        if (!g_file_test(env.qemu, G_FILE_TEST_IS_EXECUTABLE))
            g_ptr_array_add(missing, g_strdup_printf("no QEMU: '%s' (apt-get install qemu-system-x86)",
                                                     env.qemu));
        for (const char *const *f = (const char *const[]){ "vmlinuz", "initrd.img", NULL }; *f; f++) {
            g_autofree char *p = g_build_filename(env.guest_dir, *f, NULL);
            if (!g_file_test(p, G_FILE_TEST_IS_REGULAR))
                g_ptr_array_add(missing, g_strdup_printf("no test guest: '%s' (meson compile -C %s guest)",
                                                         p, env.build_root));
        }
    }
    if ((needs & E2E_NEED_VNIC) && !g_file_test(env.vnic, G_FILE_TEST_IS_EXECUTABLE))
        g_ptr_array_add(missing, g_strdup_printf("no CLI: '%s'", env.vnic));
    if ((needs & E2E_NEED_VNICD) && !g_file_test(env.vnicd, G_FILE_TEST_IS_EXECUTABLE))
        g_ptr_array_add(missing, g_strdup_printf("no daemon: '%s'", env.vnicd));
    if (missing->len == 0)
        return;
    g_ptr_array_add(missing, NULL);
    g_autofree char *why = g_strjoinv("; ", (char **)missing->pdata);
    cannot_run(why);
}

static void
make_tmp_root(void)
{
    /* Unix socket paths must stay under 108 bytes: keep the root short. */
    const char *base = g_get_tmp_dir();
    if (strlen(base) > 40)
        base = "/tmp";
    g_autofree char *tmpl = g_build_filename(base, "vnic-e2e-XXXXXX", NULL);
    if (g_mkdtemp_full(tmpl, 0755) == NULL)
        cannot_run(g_strdup_printf("cannot create a temp dir in %s: %s", base, g_strerror(errno)));
    env.tmp_root = g_steal_pointer(&tmpl);
}

/* The guard (a child of the program, in its own session so a signal to the
 * test's process group does not reach it). */
static pid_t test_pid; /* the test program's pid, for the guard */

G_GNUC_NORETURN static void
guard_main(int read_fd)
{
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* stdout carries the program's TAP: let it end with the program.  stderr
     * stays open for our messages (meson reads it to EOF, i.e. until we
     * are done, so they are in the test log). */
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0)
        dup2(devnull, STDOUT_FILENO);
    /* Nobody writes: read() returns 0 when the program is gone. */
    char c;
    while (read(read_fd, &c, 1) < 0 && errno == EINTR)
        ;
    /* QEMU gets its files as fds, so its command line need not name the
     * temp dir; it does name the domain, which ends in the test's pid */
    g_autofree char *guest = g_strdup_printf("-%d,debug-threads", (int)test_pid);
    guint killed = e2e_proc_kill_matching(env.tmp_root) + e2e_proc_kill_matching(guest);
    g_autoptr(GString) left = g_string_new(NULL);
    if (env.run != NULL)
        killed += e2e_run_clean(env.build_root, env.run, left);
    if (killed > 0)
        g_printerr("e2e guard: killed %u leftover process(es) of %s\n", killed, env.tmp_root);
    /* the run stays registered while something of it is left: the next
     * program and the leftover check see it */
    if (left->len > 0)
        g_printerr("e2e guard: left behind by %s:\n%s", env.tmp_root, left->str);
    else if (env.run != NULL)
        e2e_run_forget(env.run);
    g_autofree char *mark = g_build_filename(env.tmp_root, PASSED_MARK, NULL);
    if (g_file_test(mark, G_FILE_TEST_EXISTS) && g_getenv("VNIC_E2E_KEEP") == NULL)
        e2e_rm_rf(env.tmp_root);
    else
        g_printerr("e2e guard: kept %s\n", env.tmp_root);
    _exit(0);
}

static void
start_guard(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        cannot_run(g_strdup_printf("pipe2: %s", g_strerror(errno)));
    fflush(stdout);
    fflush(stderr);
    test_pid = getpid();
    pid_t pid = fork();
    if (pid < 0)
        cannot_run(g_strdup_printf("fork: %s", g_strerror(errno)));
    if (pid == 0) {
        close(fds[1]);
        guard_main(fds[0]);
    }
    close(fds[0]);
    env.guard_fd = fds[1];
    g_autoptr(GError) error = NULL;
    if (!e2e_run_set_guard(env.run, pid, &error))
        g_printerr("e2e: cannot record the guard in %s: %s\n", env.run->file, error->message);
}

/* Kills what earlier runs of this build tree left when their guards were
 * killed with them, then registers this run (before anything is started:
 * every child inherits the marker). */
static void
register_run(void)
{
    e2e_runs_sweep(env.build_root);
    g_autoptr(GError) error = NULL;
    env.run = e2e_run_register(env.build_root, env.tmp_root, &error);
    if (env.run == NULL)
        cannot_run(g_strdup_printf("cannot register the run: %s", error->message));
}

/* argv plus --keep-going: a failed test case is reported and the next one
 * runs (the test programs skip cases whose precondition failed), and
 * e2e_finish() gets to print diagnostics, instead of GTest aborting. */
static void
add_keep_going(int *argc, char ***argv)
{
    char **args = g_new0(char *, (gsize)*argc + 2);
    for (int i = 0; i < *argc; i++)
        args[i] = (*argv)[i];
    args[(*argc)++] = (char *)"--keep-going";
    *argv = env.args = args;  /* lives as long as the program (LeakSanitizer: reachable) */
}

void
e2e_init(int *argc, char ***argv, E2eNeeds needs)
{
    add_keep_going(argc, argv);
    g_test_init(argc, argv, NULL);
    init_paths();
    check_needs(needs);

    g_autoptr(GError) error = NULL;
    if (!e2e_netns_enter(&error))
        cannot_run(error->message);
    make_tmp_root();
    register_run();
    start_guard();
    g_test_message("e2e: temp root %s, build root %s", env.tmp_root, env.build_root);
}

void
e2e_init_check(int *argc, char ***argv)
{
    add_keep_going(argc, argv);
    g_test_init(argc, argv, NULL);
    init_paths();
    if (geteuid() != 0)
        cannot_run("not root (needs to read every process's environment and fds)");
}

int
e2e_finish(void)
{
    int rc = g_test_run();
    if (rc == 0) {
        g_autofree char *mark = g_build_filename(env.tmp_root, PASSED_MARK, NULL);
        g_file_set_contents(mark, "", 0, NULL);
    } else {
        g_printerr("e2e: failed; logs, consoles and XML kept in %s\n", env.tmp_root);
    }
    /* The guard does the rest when this process is gone. */
    return rc;
}

const char *e2e_source_root(void) { return env.source_root; }
const char *e2e_build_root(void) { return env.build_root; }
const char *e2e_guest_dir(void) { return env.guest_dir; }
const char *e2e_qemu_binary(void) { return env.qemu; }
const char *e2e_vnic_binary(void) { return env.vnic; }
const char *e2e_vnicd_binary(void) { return env.vnicd; }
const char *e2e_tmp_root(void) { return env.tmp_root; }

char *
e2e_tmp_dir(const char *tag)
{
    g_return_val_if_fail(env.tmp_root != NULL, NULL);
    for (guint n = 1;; n++) {
        g_autofree char *name = n == 1 ? g_strdup(tag) : g_strdup_printf("%s-%u", tag, n);
        g_autofree char *path = g_build_filename(env.tmp_root, name, NULL);
        if (mkdir(path, 0755) == 0)
            return g_steal_pointer(&path);
        if (errno != EEXIST)
            g_error("e2e: mkdir %s: %s", path, g_strerror(errno));
    }
}

char *
e2e_tmp_file(const char *tag, const char *name, const char *text)
{
    g_autofree char *dir = e2e_tmp_dir(tag);
    char *path = g_build_filename(dir, name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

gint64
e2e_deadline(double timeout_s)
{
    return g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
}

int
e2e_ms_left(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0)
        return 0;
    return (int)MIN((left + 999) / 1000, G_MAXINT);
}

int
e2e_unix_connect(const char *path, double timeout_s, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "socket path '%s' is too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    gint64 deadline = e2e_deadline(timeout_s);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socket: %s",
                        g_strerror(errno));
            return -1;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return fd;
        int e = errno;
        close(fd);
        if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) || e2e_ms_left(deadline) == 0) {
            g_set_error(error, G_IO_ERROR, e == ENOENT || e == ECONNREFUSED ? G_IO_ERROR_TIMED_OUT
                                                                            : g_io_error_from_errno(e),
                        "cannot connect to '%s' within %.1f s: %s", path, timeout_s, g_strerror(e));
            return -1;
        }
        g_usleep(20 * 1000);
    }
}

gboolean
e2e_write_all(int fd, const char *data, gsize len, gint64 deadline, GError **error)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (gsize)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int ms = e2e_ms_left(deadline);
            if (ms == 0 || poll(&p, 1, ms) == 0) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "write timed out");
                return FALSE;
            }
            continue;
        }
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "write: %s", g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* --- processes -------------------------------------------------------------- */

gboolean
e2e_proc_alive(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return FALSE;
    /* "PID (COMM) STATE …": COMM may hold anything, so look after the last ')'. */
    const char *p = strrchr(stat, ')');
    return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

char *
e2e_proc_cmdline(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return NULL;
    for (gsize i = 0; i < len; i++)
        if (data[i] == '\0')
            data[i] = ' ';
    return g_strchomp(data);
}

GArray *
e2e_proc_find(const char *needle)
{
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(GPid));
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    if (dir == NULL)
        return pids;
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
        char *end;
        long pid = strtol(name, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == getpid())
            continue;
        g_autofree char *cmdline = e2e_proc_cmdline((GPid)pid);
        if (cmdline == NULL || strstr(cmdline, needle) == NULL || !e2e_proc_alive((GPid)pid))
            continue;
        GPid p = (GPid)pid;
        g_array_append_val(pids, p);
    }
    return pids;
}

guint
e2e_proc_kill_matching(const char *needle)
{
    guint killed = 0;
    for (int round = 0; round < 50; round++) {
        g_autoptr(GArray) pids = e2e_proc_find(needle);
        if (pids->len == 0)
            break;
        for (guint i = 0; i < pids->len; i++)
            if (kill(g_array_index(pids, GPid, i), SIGKILL) == 0 && round == 0)
                killed++;
        g_usleep(100 * 1000);
    }
    return killed;
}

/* --- files ------------------------------------------------------------------ */

char *
e2e_file_tail(const char *path, guint max_lines)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = g_strv_length(lines);
    guint start = n > max_lines + 1 ? n - max_lines - 1 : 0;
    return g_strjoinv("\n", lines + start);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void
e2e_rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

gboolean
e2e_make_sparse_file(const char *path, goffset size, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, size) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create '%s': %s",
                    path, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return FALSE;
    }
    close(fd);
    return TRUE;
}
