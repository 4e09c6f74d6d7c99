/* e2e-runs.c: the registry of a build tree's e2e runs and what each run left
 * (see e2e-runs.h).  Owns BUILD/e2e-runs/ and the VNIC_E2E_RUN marker.
 */
#include "e2e-runs.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gio/gio.h>

#include "e2e-env.h"

#define MARKER_VAR "VNIC_E2E_RUN"

void
e2e_run_free(E2eRun *run)
{
    if (run == NULL)
        return;
    g_free(run->id);
    g_free(run->tmp_root);
    g_free(run->file);
    g_free(run);
}

char *
e2e_runs_dir(const char *build_root)
{
    return g_build_filename(build_root, "e2e-runs", NULL);
}

/* Field 22 of /proc/PID/stat (the start time in clock ticks), 0 when gone. */
static guint64
proc_start_time(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return 0;
    /* COMM may hold anything: count the fields after the last ')' (field 3 on) */
    const char *p = strrchr(stat, ')');
    if (p == NULL)
        return 0;
    g_auto(GStrv) f = g_strsplit(p + 2, " ", 0);
    return g_strv_length(f) > 19 ? g_ascii_strtoull(f[19], NULL, 10) : 0;
}

static char *
marker_value(const char *build_root, const E2eRun *run)
{
    return g_strdup_printf("%s#%s", build_root, run->id);
}

static gboolean
run_save(const E2eRun *run, GError **error)
{
    g_autofree char *text = g_strdup_printf("tmp_root=%s\npid=%d\nstart=%" G_GUINT64_FORMAT
                                            "\nguard_pid=%d\nguard_start=%" G_GUINT64_FORMAT "\n",
                                            run->tmp_root, (int)run->pid, run->start,
                                            (int)run->guard_pid, run->guard_start);
    /* atomic: a reader never sees half a file */
    return g_file_set_contents(run->file, text, -1, error);
}

E2eRun *
e2e_run_register(const char *build_root, const char *tmp_root, GError **error)
{
    g_autoptr(E2eRun) run = g_new0(E2eRun, 1);
    g_autofree char *dir = e2e_runs_dir(build_root);
    run->id = g_path_get_basename(tmp_root);
    run->tmp_root = g_strdup(tmp_root);
    run->pid = getpid();
    run->start = proc_start_time(run->pid);
    run->file = g_build_filename(dir, run->id, NULL);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "mkdir %s: %s", dir,
                    g_strerror(errno));
        return NULL;
    }
    if (!run_save(run, error))
        return NULL;
    g_autofree char *marker = marker_value(build_root, run);
    g_setenv(MARKER_VAR, marker, TRUE);
    return g_steal_pointer(&run);
}

gboolean
e2e_run_set_guard(E2eRun *run, GPid guard_pid, GError **error)
{
    run->guard_pid = guard_pid;
    run->guard_start = proc_start_time(guard_pid);
    return run_save(run, error);
}

static E2eRun *
run_load(const char *dir, const char *id)
{
    g_autoptr(E2eRun) run = g_new0(E2eRun, 1);
    run->id = g_strdup(id);
    run->file = g_build_filename(dir, id, NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(run->file, &text, NULL, NULL))
        return NULL;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        if (g_str_has_prefix(*l, "tmp_root="))
            run->tmp_root = g_strdup(*l + strlen("tmp_root="));
        else if (g_str_has_prefix(*l, "pid="))
            run->pid = (GPid)atoi(*l + strlen("pid="));
        else if (g_str_has_prefix(*l, "start="))
            run->start = g_ascii_strtoull(*l + strlen("start="), NULL, 10);
        else if (g_str_has_prefix(*l, "guard_pid="))
            run->guard_pid = (GPid)atoi(*l + strlen("guard_pid="));
        else if (g_str_has_prefix(*l, "guard_start="))
            run->guard_start = g_ascii_strtoull(*l + strlen("guard_start="), NULL, 10);
    }
    /* a file cut short (its writer killed): not a run we can attribute */
    if (run->tmp_root == NULL || *run->tmp_root == '\0' || run->pid <= 0)
        return NULL;
    return g_steal_pointer(&run);
}

static gint
run_cmp(gconstpointer a, gconstpointer b)
{
    const E2eRun *x = *(E2eRun *const *)a, *y = *(E2eRun *const *)b;
    return x->start < y->start ? -1 : x->start > y->start;
}

GPtrArray *
e2e_runs_list(const char *build_root)
{
    GPtrArray *runs = g_ptr_array_new_with_free_func((GDestroyNotify)e2e_run_free);
    g_autofree char *dir = e2e_runs_dir(build_root);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        E2eRun *run = run_load(dir, name);
        if (run != NULL)
            g_ptr_array_add(runs, run);
    }
    g_ptr_array_sort(runs, run_cmp);
    return runs;
}

static gboolean
same_process(GPid pid, guint64 start)
{
    return pid > 0 && e2e_proc_alive(pid) && proc_start_time(pid) == start;
}

gboolean
e2e_run_alive(const E2eRun *run)
{
    return same_process(run->pid, run->start) || same_process(run->guard_pid, run->guard_start);
}

/* `path` is the temp root or below it (not a longer name that starts alike). */
static gboolean
under_root(const char *path, const char *root)
{
    gsize n = strlen(root);
    return path != NULL && strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/' || path[n] == ' ');
}

static gboolean
environ_has(GPid pid, const char *entry)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/environ", (int)pid);
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return FALSE;
    for (gsize i = 0; i < len; i += strlen(data + i) + 1)
        if (strcmp(data + i, entry) == 0)
            return TRUE;
    return FALSE;
}

static gboolean
cmdline_names(GPid pid, const char *root)
{
    g_autofree char *cmdline = e2e_proc_cmdline(pid);
    for (const char *p = cmdline != NULL ? strstr(cmdline, root) : NULL; p != NULL; p = strstr(p + 1, root))
        if (under_root(p, root))
            return TRUE;
    return FALSE;
}

/* cwd or an open fd under the temp root ("… (deleted)" too). */
static gboolean
files_under(GPid pid, const char *root)
{
    g_autofree char *cwd_link = g_strdup_printf("/proc/%d/cwd", (int)pid);
    g_autofree char *cwd = g_file_read_link(cwd_link, NULL);
    if (under_root(cwd, root))
        return TRUE;
    g_autofree char *fd_dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) d = g_dir_open(fd_dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *link = g_build_filename(fd_dir, name, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        if (under_root(target, root))
            return TRUE;
    }
    return FALSE;
}

GArray *
e2e_run_processes(const char *build_root, const E2eRun *run)
{
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(GPid));
    g_autofree char *marker = marker_value(build_root, run);
    g_autofree char *entry = g_strconcat(MARKER_VAR "=", marker, NULL);
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        char *end;
        long pid = strtol(name, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == getpid())
            continue;
        GPid p = (GPid)pid;
        if (!e2e_proc_alive(p))
            continue;
        if (environ_has(p, entry) || cmdline_names(p, run->tmp_root) || files_under(p, run->tmp_root))
            g_array_append_val(pids, p);
    }
    return pids;
}

GPtrArray *
e2e_run_netns(const E2eRun *run)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    /* the pid now belongs to another program (maybe another tree's test,
     * with names of its own): none of those names are the run's */
    if (e2e_proc_alive(run->pid) && !same_process(run->pid, run->start))
        return names;
    g_autofree char *suffix = g_strdup_printf("-%d", (int)run->pid);
    g_autoptr(GDir) d = g_dir_open("/run/netns", 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL)
        if (g_str_has_prefix(name, "vnic-") && g_str_has_suffix(name, suffix))
            g_ptr_array_add(names, g_strdup(name));
    return names;
}

GPtrArray *
e2e_run_mounts(const E2eRun *run)
{
    GPtrArray *points = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
        return points;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        g_auto(GStrv) f = g_strsplit(*l, " ", 6);
        if (g_strv_length(f) >= 5 && under_root(f[4], run->tmp_root))
            g_ptr_array_add(points, g_strdup(f[4]));
    }
    return points;
}

char *
e2e_describe_pids(GArray *pids)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < pids->len; i++) {
        GPid pid = g_array_index(pids, GPid, i);
        g_autofree char *cmdline = e2e_proc_cmdline(pid);
        g_string_append_printf(s, "pid %d: %.300s\n", (int)pid, cmdline != NULL ? cmdline : "?");
    }
    return g_string_free(s, FALSE);
}

guint
e2e_run_clean(const char *build_root, const E2eRun *run, GString *left)
{
    guint killed = 0;
    for (int round = 0; round < 50; round++) {
        g_autoptr(GArray) pids = e2e_run_processes(build_root, run);
        if (pids->len == 0)
            break;
        for (guint i = 0; i < pids->len; i++)
            if (kill(g_array_index(pids, GPid, i), SIGKILL) == 0 && round == 0)
                killed++;
        g_usleep(100 * 1000);
    }
    g_autoptr(GPtrArray) names = e2e_run_netns(run);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_build_filename("/run/netns", names->pdata[i], NULL);
        umount2(path, MNT_DETACH);
        unlink(path);
    }
    if (left != NULL) {
        g_autoptr(GArray) pids = e2e_run_processes(build_root, run);
        g_autofree char *procs = e2e_describe_pids(pids);
        g_string_append(left, procs);
        g_autoptr(GPtrArray) still = e2e_run_netns(run);
        for (guint i = 0; i < still->len; i++)
            g_string_append_printf(left, "netns %s\n", (char *)still->pdata[i]);
    }
    return killed;
}

void
e2e_run_forget(const E2eRun *run)
{
    unlink(run->file);
}

void
e2e_runs_sweep(const char *build_root)
{
    g_autoptr(GPtrArray) runs = e2e_runs_list(build_root);
    for (guint i = 0; i < runs->len; i++) {
        const E2eRun *run = runs->pdata[i];
        if (e2e_run_alive(run))
            continue;
        g_autoptr(GString) left = g_string_new(NULL);
        guint killed = e2e_run_clean(build_root, run, left);
        if (left->len == 0)
            e2e_run_forget(run);
        g_printerr("e2e: run %s (pid %d) ended without its guard: killed %u process(es)%s%s; "
                   "its temp root %s is kept\n",
                   run->id, (int)run->pid, killed, left->len > 0 ? "; still there:\n" : "", left->str,
                   run->tmp_root);
    }
}
