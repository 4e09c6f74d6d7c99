/* test-host-util.c: helpers of the host layer's tests.
 *
 * Every test runs in a network namespace of its own (unshare), so all it
 * creates vanishes when the next test starts or the process exits; traffic
 * stays inside those namespaces.  /sys is remounted in a private mount
 * namespace each time so that it shows the current network namespace
 * (host-macvtap.c reads the macvtap device number there).
 */
#include "test-host-util.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#define TEST_ETHERTYPE 0x88b5
#define VNET_HDR_LEN 10

typedef struct nl_cache nl_cache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_cache, nl_cache_free)

static gboolean namespaces_ok;

gboolean
test_host_init_namespaces(void)
{
    if (geteuid() != 0)
        return FALSE;
    if (unshare(CLONE_NEWNS) < 0)
        g_error("unshare(CLONE_NEWNS): %s", g_strerror(errno));
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        g_error("making / private: %s", g_strerror(errno));
    namespaces_ok = TRUE;
    return TRUE;
}

gboolean
test_host_enter_netns(void)
{
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(GError) error = NULL;

    if (!namespaces_ok) {
        g_test_skip("needs root: tests run in private network namespaces");
        return FALSE;
    }
    if (unshare(CLONE_NEWNET) < 0)
        g_error("unshare(CLONE_NEWNET): %s", g_strerror(errno));
    if (umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL)
        g_error("unmounting /sys: %s", g_strerror(errno));
    if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        g_error("mounting /sys: %s", g_strerror(errno));
    nl = vnic_host_nl_open(&error);
    g_assert_no_error(error);
    g_assert_true(vnic_host_nl_set_up(nl, 1, "lo", TRUE, &error));
    g_assert_no_error(error);
    return TRUE;
}

void
test_host_ip(const char *fmt, ...)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *args = NULL;
    g_autofree char *command = NULL;
    g_autofree char *err_text = NULL;
    g_auto(GStrv) argv = NULL;
    int status = 0;
    va_list ap;

    va_start(ap, fmt);
    args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    command = g_strdup_printf("/usr/sbin/ip %s", args);
    g_assert_true(g_shell_parse_argv(command, NULL, &argv, &error));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               &err_text, &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, &error))
        g_error("%s: %s%s", command, error->message, err_text);
}

rtnl_link *
test_host_link(const char *name)
{
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(GError) error = NULL;
    rtnl_link *link = NULL;

    nl = vnic_host_nl_open(&error);
    g_assert_no_error(error);
    g_assert_true(vnic_host_nl_get(nl, 0, name, &link, &error));
    g_assert_no_error(error);
    return link;
}

guint
test_host_ifindex(const char *name)
{
    g_autoptr(rtnl_link) link = test_host_link(name);

    g_assert_nonnull(link);
    return (guint)rtnl_link_get_ifindex(link);
}

gboolean
test_host_link_exists(const char *name)
{
    g_autoptr(rtnl_link) link = test_host_link(name);

    return link != NULL;
}

static guint
count_dir(const char *path, const char *prefix)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *entry;
    guint n = 0;

    g_assert_nonnull(dir);
    while ((entry = g_dir_read_name(dir)))
        n += g_str_has_prefix(entry, prefix);
    return n;
}

static char *
link_list(void)
{
    g_autoptr(nl_sock) sock = nl_socket_alloc();
    g_autoptr(nl_cache) cache = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    g_assert_cmpint(nl_connect(sock, NETLINK_ROUTE), ==, 0);
    g_assert_cmpint(rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache), ==, 0);
    for (struct nl_object *obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
        rtnl_link *link = (rtnl_link *)obj;

        g_ptr_array_add(names, g_strdup_printf("%s:%d", rtnl_link_get_name(link),
                                               rtnl_link_get_ifindex(link)));
    }
    g_ptr_array_add(names, NULL);
    return g_strjoinv(" ", (char **)names->pdata);
}

void
test_host_snapshot_take(TestHostSnapshot *snap)
{
    snap->links = link_list();
    snap->fds = count_dir("/proc/self/fd", "");
}

void
test_host_snapshot_assert_same(TestHostSnapshot *before)
{
    TestHostSnapshot now;

    test_host_snapshot_take(&now);
    g_assert_cmpuint(now.fds, ==, before->fds);
    g_assert_cmpstr(now.links, ==, before->links);
    test_host_snapshot_clear(&now);
}

void
test_host_snapshot_clear(TestHostSnapshot *snap)
{
    g_clear_pointer(&snap->links, g_free);
}

VnicConfNic
test_host_nic(VnicConfNicType type, int last)
{
    VnicConfNic nic = {
        .type = type,
        .has_mac = last >= 0,
        .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, (guint8)MAX(last, 0) },
        .model = (char *)"virtio",
    };

    return nic;
}

static gsize
build_frame(guint8 *buf, const guint8 dst[6], const char *marker)
{
    static const guint8 src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    guint16 type = htons(TEST_ETHERTYPE);
    gsize len = strlen(marker);

    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    memcpy(buf + 12, &type, 2);
    memcpy(buf + 14, marker, len);
    len += 14;
    if (len < 60) {
        memset(buf + len, 0, 60 - len);
        len = 60;
    }
    return len;
}

void
test_host_send_frame(const char *ifname, const guint8 dst[6], const char *marker)
{
    struct sockaddr_ll addr = {
        .sll_family = AF_PACKET,
        .sll_ifindex = (int)test_host_ifindex(ifname),
        .sll_halen = 6,
    };
    guint8 frame[256];
    gsize len = build_frame(frame, dst, marker);
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    memcpy(addr.sll_addr, dst, 6);
    g_assert_cmpint(sendto(fd, frame, len, 0, (struct sockaddr *)&addr, sizeof(addr)), ==, len);
    close(fd);
}

void
test_host_write_frame(int fd, const char *marker)
{
    static const guint8 broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    guint8 buf[256] = { 0 };
    gsize len = build_frame(buf + VNET_HDR_LEN, broadcast, marker) + VNET_HDR_LEN;

    g_assert_cmpint(write(fd, buf, len), ==, len);
}

gboolean
test_host_read_marker(int fd, const char *marker)
{
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < deadline) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        guint8 buf[65536];
        gssize n;

        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = read(fd, buf, sizeof(buf));
        g_assert_cmpint(n, >, 0);
        if (n > VNET_HDR_LEN + 14 &&
            memmem(buf + VNET_HDR_LEN + 14, (gsize)n - VNET_HDR_LEN - 14, marker,
                   strlen(marker)))
            return TRUE;
    }
    return FALSE;
}
