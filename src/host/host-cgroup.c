/* host-cgroup.c: see host-cgroup.h.  Owns the cgroup files vnicd writes;
 * it never moves processes itself (QEMU's child joins through the fd). */
#include "host/host-cgroup.h"
#include "host/host-backend.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define V2_ROOT "/sys/fs/cgroup"
#define V1_ROOT "/sys/fs/cgroup/cpu"

static gboolean
fail_errno(GError **error, int err, const char *what, const char *path)
{
    g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_FAILED, "%s '%s': %s", what, path,
                g_strerror(err));
    return FALSE;
}

static gboolean
v2_has_cpu(void)
{
    g_autofree char *controllers = NULL;
    g_auto(GStrv) words = NULL;

    if (!g_file_get_contents(V2_ROOT "/cgroup.controllers", &controllers, NULL, NULL))
        return FALSE;
    words = g_strsplit_set(g_strstrip(controllers), " ", -1);
    return g_strv_contains((const char *const *) words, "cpu");
}

static gboolean
v1_has_cpu(void)
{
    return g_file_test(V1_ROOT "/cpu.shares", G_FILE_TEST_EXISTS);
}

static gboolean
write_file(const char *dir, const char *file, const char *value, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;
    int err;

    if (fd < 0)
        return fail_errno(error, errno, "opening", path);
    n = write(fd, value, strlen(value));
    err = errno;
    close(fd);
    if (n != (ssize_t) strlen(value)) {
        g_prefix_error(error, "writing '%s': ", value);
        return fail_errno(error, n < 0 ? err : EIO, "writing to", path);
    }
    return TRUE;
}

/* v2: the parent must hand the cpu controller down to its children. */
static gboolean
v2_enable_cpu(const char *dir, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "cgroup.subtree_control", NULL);
    g_autofree char *current = NULL;

    if (g_file_get_contents(path, &current, NULL, NULL) && strstr(current, "cpu") != NULL) {
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(current), " ", -1);
        if (g_strv_contains((const char *const *) words, "cpu"))
            return TRUE;
    }
    return write_file(dir, "cgroup.subtree_control", "+cpu", error);
}

static gboolean
mkdir_ok(const char *path, GError **error)
{
    if (g_mkdir(path, 0755) < 0 && errno != EEXIST)
        return fail_errno(error, errno, "creating cgroup", path);
    return TRUE;
}

static gboolean
apply_v2(const char *dir, const VnicHostCpuTune *tune, GError **error)
{
    char buf[64];

    if (tune->shares > 0) {
        /* libvirt's mapping of shares [2, 262144] onto weight [1, 10000] */
        guint64 shares = CLAMP(tune->shares, 2, 262144);
        g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, 1 + ((shares - 2) * 9999) / 262142);
        if (!write_file(dir, "cpu.weight", buf, error))
            return FALSE;
    }
    if (tune->period_us > 0 || tune->quota_us != 0) {
        guint64 period = tune->period_us > 0 ? tune->period_us : 100000;
        if (tune->quota_us > 0)
            g_snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT,
                       tune->quota_us, period);
        else
            g_snprintf(buf, sizeof(buf), "max %" G_GUINT64_FORMAT, period);
        if (!write_file(dir, "cpu.max", buf, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
apply_v1(const char *dir, const VnicHostCpuTune *tune, GError **error)
{
    char buf[32];

    if (tune->shares > 0) {
        g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, tune->shares);
        if (!write_file(dir, "cpu.shares", buf, error))
            return FALSE;
    }
    if (tune->period_us > 0) {
        g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, tune->period_us);
        if (!write_file(dir, "cpu.cfs_period_us", buf, error))
            return FALSE;
    }
    if (tune->quota_us != 0) {
        g_snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT, tune->quota_us > 0 ? tune->quota_us : -1);
        if (!write_file(dir, "cpu.cfs_quota_us", buf, error))
            return FALSE;
    }
    return TRUE;
}

int
vnic_host_cgroup_create(const char *name, const VnicHostCpuTune *tune, char **ret_path,
                        GError **error)
{
    gboolean v2 = v2_has_cpu();
    g_autofree char *parent = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *procs = NULL;
    gboolean ok;
    int fd;

    g_return_val_if_fail(name != NULL && *name != '\0' && strchr(name, '/') == NULL, -1);
    g_return_val_if_fail(tune != NULL && ret_path != NULL, -1);

    if (!v2 && !v1_has_cpu()) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_FAILED,
                    "<cputune>: this host has no cgroup with the cpu controller (neither "
                    V2_ROOT "/cgroup.controllers lists cpu nor " V1_ROOT "/cpu.shares "
                    "exists), so the limits cannot be enforced");
        return -1;
    }
    parent = g_build_filename(v2 ? V2_ROOT : V1_ROOT, v2 ? "vnic.slice" : "vnic", NULL);
    dir = g_build_filename(parent, name, NULL);
    /* a leftover of an earlier run would keep limits this start may not
     * set: start from a fresh cgroup (an rmdir of a busy one just fails) */
    g_rmdir(dir);
    ok = (!v2 || v2_enable_cpu(V2_ROOT, error)) && mkdir_ok(parent, error) &&
         (!v2 || v2_enable_cpu(parent, error)) && mkdir_ok(dir, error);
    if (ok)
        ok = v2 ? apply_v2(dir, tune, error) : apply_v1(dir, tune, error);
    procs = g_build_filename(dir, "cgroup.procs", NULL);
    fd = ok ? open(procs, O_WRONLY | O_CLOEXEC) : -1;
    if (ok && fd < 0)
        fail_errno(error, errno, "opening", procs);
    if (fd < 0) {
        g_rmdir(dir);
        return -1;
    }
    *ret_path = g_steal_pointer(&dir);
    return fd;
}

gboolean
vnic_host_cgroup_remove(const char *name, GError **error)
{
    const char *roots[] = { V2_ROOT "/vnic.slice", V1_ROOT "/vnic" };

    g_return_val_if_fail(name != NULL && *name != '\0' && strchr(name, '/') == NULL, FALSE);

    for (guint i = 0; i < G_N_ELEMENTS(roots); i++) {
        g_autofree char *dir = g_build_filename(roots[i], name, NULL);

        if (g_rmdir(dir) < 0 && errno != ENOENT && errno != ENOTDIR)
            return fail_errno(error, errno, "removing cgroup", dir);
    }
    return TRUE;
}
