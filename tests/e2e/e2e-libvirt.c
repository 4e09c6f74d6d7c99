/* e2e-libvirt.c: see e2e-libvirt.h. */
#include "e2e-libvirt.h"
#include "e2e-cmd.h"
#include "e2e-env.h"

#include <errno.h>
#include <gio/gio.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

static const char *const libvirt_dirs[] = {
    "/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt",
};

/* The daemons, in the order they start (stopped in reverse). */
static const char *const daemons[] = { "virtlogd", "libvirtd" };

struct _E2eLibvirt {
    char *dir;                     /* TMP/libvirt */
    gboolean created[G_N_ELEMENTS(libvirt_dirs)];
    gboolean mounted[G_N_ELEMENTS(libvirt_dirs)];
    gboolean users_mounted;
    gboolean started[G_N_ELEMENTS(daemons)];
};

E2eLibvirt *
e2e_libvirt_new(void)
{
    E2eLibvirt *lv = g_new0(E2eLibvirt, 1);

    lv->dir = e2e_tmp_dir("libvirt");
    return lv;
}

const char *
e2e_libvirt_dir(E2eLibvirt *lv)
{
    return lv->dir;
}

static gboolean
bind_mount(const char *from, const char *to, GError **error)
{
    if (mount(from, to, NULL, MS_BIND, NULL) == 0)
        return TRUE;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "bind mount %s on %s: %s",
                from, to, g_strerror(errno));
    return FALSE;
}

/* /etc/passwd and /etc/group copies with a libvirt-qemu user and group
 * (and a kvm group) when the host has none. */
static gboolean
private_users(E2eLibvirt *lv, GError **error)
{
    g_autofree char *passwd_path = g_build_filename(lv->dir, "passwd", NULL);
    g_autofree char *group_path = g_build_filename(lv->dir, "group", NULL);
    g_autofree char *passwd = NULL;
    g_autofree char *group = NULL;

    if (!g_file_get_contents("/etc/passwd", &passwd, NULL, error) ||
        !g_file_get_contents("/etc/group", &group, NULL, error))
        return FALSE;
    g_autoptr(GString) p = g_string_new(passwd);
    g_autoptr(GString) g = g_string_new(group);
    if (!g_regex_match_simple("^libvirt-qemu:", passwd, G_REGEX_MULTILINE, 0))
        g_string_append(p, "libvirt-qemu:x:64055:64055:vnic e2e:/nonexistent:/usr/sbin/nologin\n");
    if (!g_regex_match_simple("^libvirt-qemu:", group, G_REGEX_MULTILINE, 0))
        g_string_append(g, "libvirt-qemu:x:64055:\n");
    if (!g_regex_match_simple("^kvm:", group, G_REGEX_MULTILINE, 0))
        g_string_append(g, "kvm:x:64056:\n");
    if (!g_file_set_contents(passwd_path, p->str, -1, error) ||
        !g_file_set_contents(group_path, g->str, -1, error) ||
        !bind_mount(passwd_path, "/etc/passwd", error))
        return FALSE;
    lv->users_mounted = TRUE;
    return bind_mount(group_path, "/etc/group", error);
}

static gboolean
private_dirs(E2eLibvirt *lv, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(libvirt_dirs); i++) {
        g_autofree char *base = g_path_get_basename(libvirt_dirs[i]);
        g_autofree char *mine = g_strdup_printf("%s/%zu-%s", lv->dir, i, base);
        const char *failed = NULL;

        if (g_mkdir_with_parents(mine, 0755) != 0)
            failed = mine;
        else if (!g_file_test(libvirt_dirs[i], G_FILE_TEST_IS_DIR)) {
            if (g_mkdir_with_parents(libvirt_dirs[i], 0755) != 0)
                failed = libvirt_dirs[i];
            else
                lv->created[i] = TRUE;
        }
        if (failed != NULL) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "mkdir %s: %s", failed,
                        g_strerror(errno));
            return FALSE;
        }
        if (!bind_mount(mine, libvirt_dirs[i], error))
            return FALSE;
        lv->mounted[i] = TRUE;
    }
    return TRUE;
}

static gboolean
private_config(E2eLibvirt *lv, GError **error)
{
    g_autofree char *libvirtd = g_strdup_printf("log_outputs = \"3:file:%s/libvirtd.log\"\n", lv->dir);
    g_autofree char *virtlogd = g_strdup_printf("log_outputs = \"3:file:%s/virtlogd.log\"\n", lv->dir);
    /* QEMU as root, as this machine's tests run everything; no DAC
     * relabelling of the test's files, no cgroups (vnicd's tests own those) */
    const char *qemu = "user = \"root\"\n"
                       "group = \"root\"\n"
                       "dynamic_ownership = 0\n"
                       "security_driver = \"none\"\n"
                       "cgroup_controllers = [ ]\n";

    return g_file_set_contents("/etc/libvirt/libvirtd.conf", libvirtd, -1, error) &&
           g_file_set_contents("/etc/libvirt/virtlogd.conf", virtlogd, -1, error) &&
           g_file_set_contents("/etc/libvirt/qemu.conf", qemu, -1, error);
}

static char *
pid_file(E2eLibvirt *lv, const char *daemon)
{
    return g_strdup_printf("%s/%s.pid", lv->dir, daemon);
}

static gboolean
start_daemon(E2eLibvirt *lv, gsize i, GError **error)
{
    g_autofree char *pid = pid_file(lv, daemons[i]);
    g_autofree char *conf = g_strdup_printf("/etc/libvirt/%s.conf", daemons[i]);
    const char *const argv[] = { daemons[i], "-d", "-p", pid, "-f", conf, NULL };
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(argv, 60);

    /* -d: it has forked and written its pid file by the time it exits 0 */
    if (r->status == 0) {
        lv->started[i] = TRUE;
        return TRUE;
    }
    g_autofree char *desc = e2e_cmd_result_describe(r);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
    return FALSE;
}

gboolean
e2e_libvirt_start(E2eLibvirt *lv, GError **error)
{
    if (!private_dirs(lv, error) || !private_users(lv, error) || !private_config(lv, error))
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(daemons); i++)
        if (!start_daemon(lv, i, error))
            return FALSE;
    return TRUE;
}

char *
e2e_libvirt_log_tail(E2eLibvirt *lv, guint max_lines)
{
    g_autofree char *log = g_build_filename(lv->dir, "libvirtd.log", NULL);

    return e2e_file_tail(log, max_lines);
}

/* Stops one daemon it started (its pid file), SIGKILL after 15 s; TRUE
 * when it exited on SIGTERM. */
static gboolean
stop_daemon(E2eLibvirt *lv, const char *daemon)
{
    g_autofree char *path = pid_file(lv, daemon);
    g_autofree char *text = NULL;
    gint64 pid;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        !g_ascii_string_to_signed(g_strstrip(text), 10, 2, G_MAXINT, &pid, NULL))
        return FALSE;
    kill((pid_t) pid, SIGTERM);
    gint64 deadline = e2e_deadline(15);
    while (e2e_proc_alive((GPid) pid) && e2e_ms_left(deadline) > 0)
        g_usleep(100 * 1000);
    if (!e2e_proc_alive((GPid) pid))
        return TRUE;
    kill((pid_t) pid, SIGKILL);
    return FALSE;
}

gboolean
e2e_libvirt_stop_daemons(E2eLibvirt *lv)
{
    gboolean clean = TRUE;

    for (gsize i = G_N_ELEMENTS(daemons); i-- > 0;) {
        if (!lv->started[i])
            continue;
        clean = stop_daemon(lv, daemons[i]) && clean;
        lv->started[i] = FALSE;
    }
    return clean;
}

gboolean
e2e_libvirt_undo_mounts(E2eLibvirt *lv)
{
    gboolean clean = TRUE;

    if (lv->users_mounted) {
        umount2("/etc/group", MNT_DETACH);
        umount2("/etc/passwd", MNT_DETACH);
        lv->users_mounted = FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(libvirt_dirs); i++) {
        if (lv->mounted[i] && umount2(libvirt_dirs[i], MNT_DETACH) == 0)
            lv->mounted[i] = FALSE;
        if (lv->created[i] && !lv->mounted[i] && rmdir(libvirt_dirs[i]) == 0)
            lv->created[i] = FALSE;
        clean = clean && !lv->mounted[i] && !lv->created[i];
    }
    return clean;
}

void
e2e_libvirt_free(E2eLibvirt *lv)
{
    if (lv == NULL)
        return;
    e2e_libvirt_stop_daemons(lv);
    e2e_libvirt_undo_mounts(lv);
    g_free(lv->dir);
    g_free(lv);
}
