/* test-host-util.h: helpers of the host layer's tests: private namespaces,
 * `ip`, link lookups, leak snapshots and Ethernet frames. */
#pragma once

#include "host/host-priv.h"

G_BEGIN_DECLS

/* Once, before any thread: a private mount namespace, so /sys can be
 * remounted.  FALSE when not root (tests then skip). */
gboolean test_host_init_namespaces(void);

/* At the start of every test: a fresh network namespace with lo up, and
 * /sys remounted to show it.  FALSE (and g_test_skip) when not root. */
gboolean test_host_enter_netns(void);

/* Runs `ip ARGS…` (split like a shell would) and asserts it succeeded. */
void test_host_ip(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* The link @name, or NULL; the caller puts it. */
rtnl_link *test_host_link(const char *name);
guint test_host_ifindex(const char *name);
gboolean test_host_link_exists(const char *name);

/* What a failed creation must leave as it found: open fds and links (name
 * and ifindex).  Private macvtap nodes are checked by /host/direct/device-node
 * in a directory of its own (/dev is shared with whatever else runs). */
typedef struct {
    guint fds;
    char *links;
} TestHostSnapshot;

void test_host_snapshot_take(TestHostSnapshot *snap);
void test_host_snapshot_assert_same(TestHostSnapshot *before);
void test_host_snapshot_clear(TestHostSnapshot *snap);

/* A NIC of @type with MAC 52:54:00:12:34:@last (no MAC when @last < 0). */
VnicConfNic test_host_nic(VnicConfNicType type, int last);

/* Sends one frame out of link @ifname (AF_PACKET) to @dst, ethertype
 * 0x88b5, with @marker as payload. */
void test_host_send_frame(const char *ifname, const guint8 dst[6], const char *marker);
/* Writes the same frame, broadcast, into a tap/macvtap fd (with a zero
 * virtio-net header). */
void test_host_write_frame(int fd, const char *marker);
/* Reads frames from a tap/macvtap @fd until one carries @marker; FALSE
 * after two seconds without it. */
gboolean test_host_read_marker(int fd, const char *marker);

G_END_DECLS
