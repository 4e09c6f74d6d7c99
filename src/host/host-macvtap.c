/* host-macvtap.c: the backend of <interface type='direct'>: a macvtap on
 * <source dev> in <source mode>, with the guest's MAC, up, and its
 * character device opened once per queue.
 *
 * Naming.  The kernel resolves a "macvtap%d" template atomically when a
 * link is created or renamed, but it tells the creator which name it chose
 * only on kernels that echo RTM_NEWLINK (NLM_F_ECHO; Linux 6.1 of Debian 12
 * does not).  So the macvtap is created under a random temporary name
 * ("vnic-" and 10 hex digits, refused if taken), found by that name, and
 * renamed to <target dev> or the template; its name is then read back by
 * ifindex.  A vnicd killed between the two steps leaves a "vnic-…" link.
 *
 * The device node.  A macvtap's queues are opened from the character device
 * tap<ifindex>, whose major:minor (dynamic) the kernel publishes only in
 * sysfs.  devtmpfs creates /dev/tap<ifindex> at once (no udev needed), but
 * ifindexes are per network namespace and /dev is not: a macvtap with the
 * same ifindex in another namespace can own /dev/tapN (devtmpfs keeps the
 * first), and a node can outlive its device for a moment.  So the
 * major:minor comes from /sys/class/net/<name>/macvtap/tap<ifindex>/dev
 * (after /sys/class/net/<name>/ifindex proves /sys shows our namespace),
 * /dev/tapN is used only if it is that very device, and otherwise a private
 * node is made with mknod in the same directory (/dev is devtmpfs, never
 * nodev; /run usually is), opened, and unlinked at once.  Every fd is
 * checked with fstat.
 *
 * MAC: the guest's, given at creation; a passthrough macvtap ignores that
 * and is set afterwards (which changes the lower device's MAC until the
 * macvtap is deleted, as with libvirt).
 *
 * Must not: open a device node it has not matched to this macvtap.
 */
#include "host/host-priv.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/if_link.h>

#include <netlink/route/link/macvtap.h>

#define MACVTAP_TEMPLATE "macvtap%d"
#define MACVTAP_DEVDIR "/dev"

gboolean
vnic_host_macvtap_mode_from_string(const char *text, guint32 *mode)
{
    if (!text || g_str_equal(text, "vepa"))
        *mode = MACVLAN_MODE_VEPA;
    else if (g_str_equal(text, "bridge"))
        *mode = MACVLAN_MODE_BRIDGE;
    else if (g_str_equal(text, "private"))
        *mode = MACVLAN_MODE_PRIVATE;
    else if (g_str_equal(text, "passthrough"))
        *mode = MACVLAN_MODE_PASSTHRU;
    else
        return FALSE;
    return TRUE;
}

/* Reads a sysfs attribute of link @name, without the trailing newline. */
static char *
sysfs_read(const char *name, const char *attr, GError **error)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/%s", name, attr);
    g_autoptr(GError) local = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, local->message,
                       "opening the device of macvtap '%s'", name);
        return NULL;
    }
    return g_strchomp(text);
}

/* The dev_t of macvtap @name's character device. */
gboolean
vnic_host_macvtap_devnum(const char *name, guint ifindex, dev_t *ret, GError **error)
{
    g_autofree char *index_text = sysfs_read(name, "ifindex", error);
    g_autofree char *attr = g_strdup_printf("macvtap/tap%u/dev", ifindex);
    g_autofree char *dev_text = NULL;
    guint major_nr, minor_nr;
    char end;

    if (!index_text)
        return FALSE;
    if (g_ascii_strtoull(index_text, NULL, 10) != ifindex)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED,
                              "/sys shows another network namespace", "opening the device of "
                              "macvtap '%s' (ifindex %u, /sys says %s)", name, ifindex,
                              index_text);
    dev_text = sysfs_read(name, attr, error);
    if (!dev_text)
        return FALSE;
    if (sscanf(dev_text, "%u:%u%c", &major_nr, &minor_nr, &end) != 2)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "malformed device number",
                              "opening the device of macvtap '%s' ('%s')", name, dev_text);
    *ret = makedev(major_nr, minor_nr);
    return TRUE;
}

/* A node for @devnum in @devdir: tap<ifindex> when it is that device, else
 * a private one (*@temporary: the caller unlinks it). */
static gboolean
macvtap_node(const char *devdir, const char *name, guint ifindex, dev_t devnum, char **ret,
             gboolean *temporary, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/tap%u", devdir, ifindex);
    struct stat st;

    if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == devnum) {
        *ret = g_steal_pointer(&path);
        *temporary = FALSE;
        return TRUE;
    }
    for (int attempt = 0;; attempt++) {
        int err;

        g_free(path);
        path = g_strdup_printf("%s/.vnic-tap%u-%08x", devdir, ifindex, g_random_int());
        if (mknod(path, S_IFCHR | 0600, devnum) == 0)
            break;
        err = errno;
        if (err != EEXIST || attempt == 8)
            return vnic_host_fail_errno(error, VNIC_HOST_ERROR_FAILED, err,
                                        "creating device node '%s' for macvtap '%s'", path, name);
    }
    g_debug("%s/tap%u is not the device of macvtap '%s': using %s", devdir, ifindex, name, path);
    *ret = g_steal_pointer(&path);
    *temporary = TRUE;
    return TRUE;
}

static gboolean
macvtap_open_queue(VnicHostBackend *backend, const char *path, const char *name, dev_t devnum,
                   GError **error)
{
    guint queue = backend->fds->len;
    vnic_autofd int fd = -1;
    struct stat st;

    if (vnic_host_test_should_fail())
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "injected failure",
                              "opening queue %u of macvtap '%s' (%s)", queue, name, path);
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return vnic_host_fail_errno(error, VNIC_HOST_ERROR_FAILED, errno,
                                    "opening queue %u of macvtap '%s' (%s)", queue, name, path);
    if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != devnum)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "not its device",
                              "opening queue %u of macvtap '%s' (%s)", queue, name, path);
    vnic_host_backend_add_fd(backend, &fd);
    return TRUE;
}

gboolean
vnic_host_macvtap_open_queues(VnicHostBackend *backend, const char *devdir, const char *name,
                              guint ifindex, guint queues, GError **error)
{
    g_autofree char *path = NULL;
    gboolean temporary = FALSE;
    gboolean ok = TRUE;
    dev_t devnum = 0;

    if (!vnic_host_macvtap_devnum(name, ifindex, &devnum, error) ||
        !macvtap_node(devdir, name, ifindex, devnum, &path, &temporary, error))
        return FALSE;
    for (guint i = 0; ok && i < queues; i++)
        ok = macvtap_open_queue(backend, path, name, devnum, error);
    if (temporary)
        unlink(path);
    return ok;
}

/* Creates the macvtap under a temporary name and records it. */
static gboolean
macvtap_create(VnicHostBackend *backend, VnicHostNl *nl, const VnicConfNic *nic, guint lower,
               guint32 mode, GError **error)
{
    g_autoptr(rtnl_link) link = rtnl_link_macvtap_alloc();
    g_autoptr(rtnl_link) found = NULL;
    g_autofree char *tmp = g_strdup_printf("vnic-%08x%02x", g_random_int(),
                                           (guint)g_random_int_range(0, 256));
    const char *wanted = nic->target_dev ? nic->target_dev : MACVTAP_TEMPLATE;

    if (G_UNLIKELY(!link))
        g_abort();
    rtnl_link_set_name(link, tmp);
    rtnl_link_set_link(link, (int)lower);
    rtnl_link_macvtap_set_mode(link, mode);
    if (nic->has_mac) {
        g_autoptr(nl_addr) addr = nl_addr_build(AF_LLC, nic->mac, sizeof(nic->mac));

        if (G_UNLIKELY(!addr))
            g_abort();
        rtnl_link_set_addr(link, addr);
    }
    if (!vnic_host_nl_add(nl, link, error, "creating macvtap '%s' on '%s' (as '%s')", wanted,
                          nic->source, tmp))
        return FALSE;
    /* Recorded at once: until its ifindex is known, the rollback finds the
     * link by its temporary name, which is vnic's alone. */
    vnic_host_backend_set_link(backend, tmp, 0, VNIC_HOST_LINK_MACVTAP);
    if (!vnic_host_nl_get(nl, 0, tmp, &found, error))
        return FALSE;
    if (!found)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "it vanished",
                              "looking up macvtap '%s' just created", tmp);
    backend->link->ifindex = (guint)rtnl_link_get_ifindex(found);
    return TRUE;
}

/* Gives the macvtap its real name: <target dev>, or the lowest free
 * macvtapN the kernel picks from the template. */
static gboolean
macvtap_rename(VnicHostBackend *backend, VnicHostNl *nl, const VnicConfNic *nic, GError **error)
{
    VnicHostLink *record = backend->link;
    const char *wanted = nic->target_dev ? nic->target_dev : MACVTAP_TEMPLATE;
    g_autoptr(rtnl_link) changes = vnic_host_rtnl_link_new();
    g_autoptr(rtnl_link) found = NULL;

    rtnl_link_set_name(changes, wanted);
    if (!vnic_host_nl_change(nl, record->ifindex, changes, error,
                             "creating macvtap '%s' on '%s' (renaming '%s')", wanted, nic->source,
                             record->name) ||
        !vnic_host_nl_get(nl, record->ifindex, NULL, &found, error))
        return FALSE;
    if (!found)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "it vanished",
                              "looking up macvtap %u just renamed", record->ifindex);
    g_free(record->name);
    record->name = g_strdup(rtnl_link_get_name(found));
    return TRUE;
}

static gboolean
macvtap_find_lower(VnicHostNl *nl, const char *lower, guint *ifindex, GError **error)
{
    g_autoptr(rtnl_link) link = NULL;

    if (!lower) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_INVALID,
                    "interface of type direct without <source dev>");
        return FALSE;
    }
    if (!vnic_host_nl_get(nl, 0, lower, &link, error))
        return FALSE;
    if (!link) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_NOT_FOUND,
                    "macvtap source device '%s' does not exist", lower);
        return FALSE;
    }
    *ifindex = (guint)rtnl_link_get_ifindex(link);
    return TRUE;
}

gboolean
vnic_host_macvtap_setup(VnicHostBackend *backend, VnicHostNl *nl, const VnicConfNic *nic,
                        GError **error)
{
    guint32 mode;
    guint lower;

    if (!vnic_host_macvtap_mode_from_string(nic->source_mode, &mode)) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_INVALID,
                    "unknown macvtap mode '%s' in <source mode>", nic->source_mode);
        return FALSE;
    }
    if (!macvtap_find_lower(nl, nic->source, &lower, error) ||
        !macvtap_create(backend, nl, nic, lower, mode, error) ||
        !macvtap_rename(backend, nl, nic, error))
        return FALSE;
    /* A passthrough macvtap ignores the MAC it is created with and inherits
     * the lower device's; setting it sets the lower device's too, and the
     * kernel restores that one when the macvtap is deleted. */
    if (mode == MACVLAN_MODE_PASSTHRU && nic->has_mac &&
        !vnic_host_nl_set_mac(nl, backend->link->ifindex, backend->link->name, nic->mac, error))
        return FALSE;
    if (nic->mtu &&
        !vnic_host_nl_set_mtu(nl, backend->link->ifindex, backend->link->name, nic->mtu, error))
        return FALSE;
    if (nic->link_up != VNIC_TRISTATE_NO &&
        !vnic_host_nl_set_up(nl, backend->link->ifindex, backend->link->name, TRUE, error))
        return FALSE;
    if (!vnic_host_macvtap_open_queues(backend, MACVTAP_DEVDIR, backend->link->name,
                                       backend->link->ifindex, MAX(nic->queues, 1), error))
        return FALSE;
    g_debug("macvtap '%s' (ifindex %u) on '%s': %u queue(s)", backend->link->name,
            backend->link->ifindex, nic->source, backend->fds->len);
    return TRUE;
}

/* ---- finding an unrecorded macvtap --------------------------------------- */

typedef struct nl_cache nl_cache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_cache, nl_cache_free)

typedef struct {
    int lower;
    const guint8 *mac;
    GPtrArray *found;
} MacvtapScan;

static void
scan_macvtap(struct nl_object *obj, void *data)
{
    rtnl_link *link = (rtnl_link *) obj;
    MacvtapScan *scan = data;
    struct nl_addr *addr = rtnl_link_get_addr(link);
    VnicHostLink *found;

    if (g_strcmp0(rtnl_link_get_type(link), "macvtap") != 0 ||
        rtnl_link_get_link(link) != scan->lower || !addr || nl_addr_get_len(addr) != 6 ||
        memcmp(nl_addr_get_binary_addr(addr), scan->mac, 6) != 0)
        return;
    found = g_new0(VnicHostLink, 1);
    found->name = g_strdup(rtnl_link_get_name(link));
    found->ifindex = (guint) rtnl_link_get_ifindex(link);
    found->kind = VNIC_HOST_LINK_MACVTAP;
    g_ptr_array_add(scan->found, found);
}

GPtrArray *
vnic_host_macvtaps_with_mac(const char *lower, const guint8 mac[6], GError **error)
{
    g_autoptr(VnicHostNl) nl = vnic_host_nl_open(error);
    g_autoptr(nl_cache) links = NULL;
    MacvtapScan scan = { 0, mac, NULL };
    int err;

    if (!nl)
        return NULL;
    if ((err = rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &links)) < 0) {
        vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, nl_geterror(err), "reading the host's links");
        return NULL;
    }
    scan.found = g_ptr_array_new_with_free_func((GDestroyNotify) vnic_host_link_free);
    scan.lower = lower ? rtnl_link_name2i(links, lower) : 0;
    if (scan.lower > 0)
        nl_cache_foreach(links, scan_macvtap, &scan);
    return scan.found;
}
