/* host-queues.c: vnicd's own references to the queue fds QEMU holds.
 *
 * One dup() per queue fd handed to QEMU (the same open file): QEMU's close
 * is then never the last one, so the kernel's release of the queue (tun's
 * __tun_detach with synchronize_net(), macvtap's tap_put_queue with
 * synchronize_rcu()) does not run inside QEMU's netdev_del.  vnicd closes
 * them when it deletes the link (docs/performance.md "Detach promise").
 *
 * A vnicd restarted while QEMU runs has lost its references; it takes them
 * back from QEMU with pidfd_getfd(2): QEMU's fds on the very tap (its
 * fdinfo's "iff:" names the tap) or macvtap (the fd's device number is the
 * macvtap's /dev/tapN).  Whatever is not found is left out: the detach
 * then takes its slower path, nothing else depends on it.
 */
#include "host/host-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

VnicHostQueueRefs *
vnic_host_backend_ref_queues(const VnicHostBackend *backend, GError **error)
{
    g_autoptr(VnicHostQueueRefs) refs = g_new0(VnicHostQueueRefs, 1);
    guint n;
    const int *fds = vnic_host_backend_get_fds(backend, &n);

    refs->fds = g_new(int, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);

        if (fd < 0) {
            int e = errno;
            g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_FAILED,
                        "keeping a reference to queue %u of '%s': %s", i, backend->link->name,
                        g_strerror(e));
            return NULL;
        }
        refs->fds[refs->n_fds++] = fd;
    }
    return g_steal_pointer(&refs);
}

void
vnic_host_queue_refs_free(VnicHostQueueRefs *refs)
{
    if (!refs)
        return;
    for (guint i = 0; i < refs->n_fds; i++)
        vnic_host_closep(&refs->fds[i]);
    g_free(refs->fds);
    g_free(refs);
}

/* The tap @fd of /proc/@pid is on, from its fdinfo ("iff:\tNAME"), or NULL. */
static char *
tun_fd_name(const char *proc, const char *fd)
{
    g_autofree char *path = g_build_filename(proc, "fdinfo", fd, NULL);
    g_autofree char *info = NULL;
    const char *iff;

    if (!g_file_get_contents(path, &info, NULL, NULL) || !(iff = strstr(info, "\niff:\t")))
        return NULL;
    iff += strlen("\niff:\t");
    return g_strndup(iff, strcspn(iff, "\n"));
}

/* Whether fd @fd of /proc/@pid is a queue of @link (macvtap: @devnum). */
static gboolean
is_queue_of(const char *proc, const char *fd, const VnicHostLink *link, dev_t devnum)
{
    g_autofree char *path = g_build_filename(proc, "fd", fd, NULL);
    struct stat st;

    if (link->kind == VNIC_HOST_LINK_MACVTAP)
        return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == devnum;
    if (link->kind == VNIC_HOST_LINK_TAP) {
        g_autofree char *target = g_file_read_link(path, NULL);
        g_autofree char *name = NULL;

        if (g_strcmp0(target, "/dev/net/tun") != 0)
            return FALSE;
        name = tun_fd_name(proc, fd);
        return g_strcmp0(name, link->name) == 0;
    }
    return FALSE;
}

VnicHostQueueRefs *
vnic_host_queue_refs_recover(int pid, const VnicHostLink *link, GError **error)
{
    g_autofree char *proc = g_strdup_printf("/proc/%d", pid);
    g_autofree char *fd_dir = g_build_filename(proc, "fd", NULL);
    g_autoptr(GDir) dir = NULL;
    g_autoptr(VnicHostQueueRefs) refs = g_new0(VnicHostQueueRefs, 1);
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    vnic_autofd int pidfd = -1;
    dev_t devnum = 0;
    const char *fd;

    if (link->kind == VNIC_HOST_LINK_MACVTAP &&
        !vnic_host_macvtap_devnum(link->name, link->ifindex, &devnum, error))
        return NULL;
    if (!(dir = g_dir_open(fd_dir, 0, NULL)) ||
        (pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) < 0) {
        vnic_host_fail_errno(error, VNIC_HOST_ERROR_FAILED, errno,
                             "reading the fds of process %d", pid);
        return NULL;
    }
    while ((fd = g_dir_read_name(dir)) != NULL) {
        int mine;

        if (!is_queue_of(proc, fd, link, devnum))
            continue;
        /* the fd's number in QEMU; a copy of it here (close-on-exec) */
        mine = (int)syscall(SYS_pidfd_getfd, pidfd, (int)g_ascii_strtoll(fd, NULL, 10), 0);
        if (mine < 0) {
            int e = errno;
            for (guint i = 0; i < fds->len; i++)
                close(g_array_index(fds, int, i));
            vnic_host_fail_errno(error, VNIC_HOST_ERROR_FAILED, e,
                                 "taking a reference to a queue of '%s' from process %d",
                                 link->name, pid);
            return NULL;
        }
        g_array_append_val(fds, mine);
    }
    if (fds->len == 0) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_NOT_FOUND,
                    "process %d holds no queue of '%s'", pid, link->name);
        return NULL;
    }
    refs->n_fds = fds->len;
    refs->fds = (int *)(gpointer)g_array_free(g_steal_pointer(&fds), FALSE);
    return g_steal_pointer(&refs);
}
