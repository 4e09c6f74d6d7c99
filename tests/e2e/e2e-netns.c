/* e2e-netns.c: the private network (and mount) namespace of a test program.
 *
 * Entered once, by e2e_init(), before any thread exists.  Owns nothing after
 * that: the namespace lives as long as a process in it does (the guard
 * kills the program's leftovers, so it goes away with the program).
 */
#include "e2e-netns.h"

#include "e2e-cmd.h"
#include "e2e-env.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

static gboolean
set_errno_error(GError **error, const char *what)
{
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", what, g_strerror(e));
    return FALSE;
}

static gboolean
link_up(const char *name, GError **error)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return set_errno_error(error, "socket(AF_INET)");
    struct ifreq ifr = { 0 };
    g_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    gboolean ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    if (ok) {
        ifr.ifr_flags |= IFF_UP;
        ok = ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    }
    if (!ok)
        set_errno_error(error, "bringing lo up");
    close(fd);
    return ok;
}

gboolean
e2e_netns_enter(GError **error)
{
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0)
        return set_errno_error(error, "unshare(CLONE_NEWNET | CLONE_NEWNS)");
    /* Our mounts must not propagate back to the host's namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return set_errno_error(error, "making / a private mount");
    /* The cgroup mounts live under /sys: park them (best effort) so the new
     * sysfs does not hide them from vnicd (<cputune> needs them). */
    g_autofree char *park = g_dir_make_tmp("vnic-e2e-cgroup-XXXXXX", NULL);
    gboolean cgroups = park != NULL &&
                       mount("/sys/fs/cgroup", park, NULL, MS_BIND | MS_REC, NULL) == 0;
    /* A sysfs mounted from inside the new network namespace: its
     * /sys/class/net lists this namespace's links (the daemon reads it). */
    if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        return set_errno_error(error, "mounting sysfs on /sys in the private namespace");
    if (cgroups && mount(park, "/sys/fs/cgroup", NULL, MS_MOVE, NULL) != 0)
        g_warning("cgroups are not visible in the test namespace: %s", g_strerror(errno));
    if (park != NULL)
        rmdir(park);
    return link_up("lo", error);
}

GPtrArray *
e2e_netns_links(void)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    struct if_nameindex *ifs = if_nameindex();
    if (ifs == NULL)
        return names;
    for (struct if_nameindex *i = ifs; i->if_index != 0; i++)
        g_ptr_array_add(names, g_strdup(i->if_name));
    if_freenameindex(ifs);
    return names;
}

gboolean
e2e_netns_has_link(const char *name)
{
    return if_nametoindex(name) != 0;
}

char *
e2e_netns_master_of(const char *link)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/master", link);
    g_autofree char *target = g_file_read_link(path, NULL);

    return g_path_get_basename(target != NULL ? target : "");
}

char *
e2e_netns_links_besides_lo(void)
{
    g_autoptr(GPtrArray) links = e2e_netns_links();
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < links->len; i++) {
        const char *name = g_ptr_array_index(links, i);
        if (strcmp(name, "lo") == 0)
            continue;
        g_string_append_printf(s, "%s%s", s->len ? " " : "", name);
    }
    return g_string_free(s, FALSE);
}

static gboolean
has_one_prefix(const char *name, const char *const *prefixes)
{
    for (guint i = 0; prefixes[i]; i++)
        if (g_str_has_prefix(name, prefixes[i]))
            return TRUE;
    return FALSE;
}

GPtrArray *
e2e_netns_links_matching(const char *const *prefixes, GHashTable *skip)
{
    g_autoptr(GPtrArray) all = e2e_netns_links();
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < all->len; i++) {
        const char *name = g_ptr_array_index(all, i);
        if (has_one_prefix(name, prefixes) && !(skip && g_hash_table_contains(skip, name)))
            g_ptr_array_add(out, g_strdup(name));
    }
    return out;
}

struct _E2eNetnsPeer {
    E2eChild *holder;
};

E2eNetnsPeer *
e2e_netns_peer_new(GError **error)
{
    g_autofree char *dir = e2e_tmp_dir("peer-netns");
    g_autofree char *hold = g_build_filename(dir, "hold", NULL);
    g_autofree char *log = g_build_filename(dir, "holder.log", NULL);
    if (!g_file_set_contents(hold, "", 0, error))
        return NULL;
    /* tail's command line names the temp root: the guard kills it */
    const char *argv[] = { "unshare", "--net", "--", "tail", "-f", hold, NULL };
    g_autoptr(E2eChild) holder = e2e_child_spawn(argv, log, NULL, error);
    if (holder == NULL)
        return NULL;
    g_autofree char *ours = g_file_read_link("/proc/self/ns/net", NULL);
    g_autofree char *path = g_strdup_printf("/proc/%d/ns/net", (int)e2e_child_pid(holder));
    gint64 deadline = e2e_deadline(10);
    for (;;) {
        g_autofree char *theirs = g_file_read_link(path, NULL);
        if (theirs != NULL && g_strcmp0(theirs, ours) != 0)
            break;
        if (e2e_child_exited(holder) || e2e_ms_left(deadline) == 0) {
            g_autofree char *tail = e2e_file_tail(log, 5);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "`unshare --net` made no namespace: %s", tail);
            return NULL;
        }
        g_usleep(2 * 1000);
    }
    E2eNetnsPeer *peer = g_new0(E2eNetnsPeer, 1);
    peer->holder = g_steal_pointer(&holder);
    if (!e2e_netns_peer_sh(peer, "ip link set lo up", error)) {
        e2e_netns_peer_free(peer);
        return NULL;
    }
    return peer;
}

GPid
e2e_netns_peer_pid(E2eNetnsPeer *peer)
{
    return e2e_child_pid(peer->holder);
}

gboolean
e2e_netns_peer_sh(E2eNetnsPeer *peer, const char *cmd, GError **error)
{
    g_autofree char *pid = g_strdup_printf("%d", (int)e2e_netns_peer_pid(peer));
    const char *argv[] = { "nsenter", "-t", pid, "-n", "/bin/sh", "-c", cmd, NULL };
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(argv, 30);
    if (r->status == 0)
        return TRUE;
    g_autofree char *desc = e2e_cmd_result_describe(r);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "in the peer namespace: %s", desc);
    return FALSE;
}

int
e2e_netns_peer_socket(E2eNetnsPeer *peer, int domain, int type, int protocol, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/ns/net", (int)e2e_netns_peer_pid(peer));
    /* setns() moves only the calling thread: in, socket(), back out */
    int ours = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int theirs = open(path, O_RDONLY | O_CLOEXEC);
    int fd = -1, e = 0;
    if (ours < 0 || theirs < 0 || setns(theirs, CLONE_NEWNET) != 0) {
        e = errno;
    } else {
        fd = socket(domain, type | SOCK_CLOEXEC, protocol);
        e = errno;
        if (setns(ours, CLONE_NEWNET) != 0)
            g_error("e2e: cannot return to the program's network namespace: %s", g_strerror(errno));
    }
    if (ours >= 0)
        close(ours);
    if (theirs >= 0)
        close(theirs);
    if (fd < 0)
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "socket in the peer namespace (%s): %s",
                    path, g_strerror(e));
    return fd;
}

void
e2e_netns_peer_free(E2eNetnsPeer *peer)
{
    if (peer == NULL)
        return;
    e2e_child_free(peer->holder);
    g_free(peer);
}
