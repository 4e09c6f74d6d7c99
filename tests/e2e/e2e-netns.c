/* e2e-netns.c: the private network (and mount) namespace of a test program.
 *
 * Entered once, by e2e_init(), before any thread exists.  Owns nothing after
 * that: the namespace lives as long as a process in it does (the guard
 * kills the program's leftovers, so it goes away with the program).
 */
#include "e2e-netns.h"

#include <errno.h>
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
