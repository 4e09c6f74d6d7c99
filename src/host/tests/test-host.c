/* test-host.c: the host layer against the real kernel: taps (ethernet,
 * bridge), records and errors; test-host-direct.c has macvtaps, ownership,
 * concurrency and failure injection.  Each test runs in a network namespace
 * of its own (test-host-util.c); without root every test is skipped.
 */
#include "test-host-util.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

void test_host_add_direct_tests(void);
void test_host_add_net_tests(void);

/* Asserts @fd is a tap queue of @name with @flags set. */
static void
assert_tap_fd(int fd, const char *name, int flags)
{
    struct ifreq ifr = { 0 };

    g_assert_cmpint(ioctl(fd, TUNGETIFF, &ifr), ==, 0);
    g_assert_cmpstr(ifr.ifr_name, ==, name);
    g_assert_cmphex(ifr.ifr_flags & flags, ==, flags);
    g_assert_cmphex(ifr.ifr_flags & IFF_PERSIST, ==, 0);
    g_assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void
assert_mac(rtnl_link *link, const guint8 expected[6])
{
    nl_addr *addr = rtnl_link_get_addr(link);

    g_assert_nonnull(addr);
    g_assert_cmpuint(nl_addr_get_len(addr), ==, 6);
    g_assert_cmpmem(nl_addr_get_binary_addr(addr), 6, expected, 6);
}

static void
test_ethernet(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 0x56);
    static const guint8 tap_mac[6] = { 0xfe, 0x54, 0x00, 0x12, 0x34, 0x56 };
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(VnicHostLink) record = NULL;
    g_autoptr(rtnl_link) link = NULL;
    g_autoptr(GError) error = NULL;
    const int *fds;
    guint n_fds = 0;

    if (!test_host_enter_netns())
        return;
    nic.mtu = 1400;
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    record = vnic_host_link_copy(vnic_host_backend_get_link(backend));
    g_assert_cmpstr(record->name, ==, "vnet0");
    g_assert_cmpint(record->kind, ==, VNIC_HOST_LINK_TAP);
    fds = vnic_host_backend_get_fds(backend, &n_fds);
    g_assert_cmpuint(n_fds, ==, 1);
    assert_tap_fd(fds[0], "vnet0", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);

    link = test_host_link("vnet0");
    g_assert_cmpuint(rtnl_link_get_ifindex(link), ==, record->ifindex);
    g_assert_cmpstr(rtnl_link_get_type(link), ==, "tun");
    g_assert_true(rtnl_link_get_flags(link) & IFF_UP);
    g_assert_cmpuint(rtnl_link_get_mtu(link), ==, 1400);
    assert_mac(link, tap_mac);
    g_assert_true(vnic_host_link_exists(record));

    /* Not persistent: the last fd takes the tap with it. */
    g_clear_pointer(&backend, vnic_host_backend_free);
    g_assert_false(vnic_host_link_exists(record));
    g_assert_true(vnic_host_link_delete(record, &error));
    g_assert_no_error(error);
}

static void
test_ethernet_defaults(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, -1);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(rtnl_link) link = NULL;
    g_autoptr(GError) error = NULL;
    nl_addr *addr;

    if (!test_host_enter_netns())
        return;
    nic.link_up = VNIC_TRISTATE_NO;
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    link = test_host_link("vnet0");
    g_assert_false(rtnl_link_get_flags(link) & IFF_UP);
    g_assert_cmpuint(rtnl_link_get_mtu(link), ==, 1500);
    addr = rtnl_link_get_addr(link);
    g_assert_cmpuint(((const guint8 *)nl_addr_get_binary_addr(addr))[0], ==, 0xfe);
}

static void
test_multiqueue(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 1);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree int *fds = NULL;
    TestHostSnapshot before;
    guint n_fds = 0;

    if (!test_host_enter_netns())
        return;
    test_host_snapshot_take(&before);
    nic.queues = 2;
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    fds = vnic_host_backend_steal_fds(backend, &n_fds);
    g_assert_cmpuint(n_fds, ==, 2);
    g_assert_null(vnic_host_backend_get_fds(backend, &n_fds));
    g_assert_cmpuint(n_fds, ==, 0);
    for (guint i = 0; i < 2; i++)
        assert_tap_fd(fds[i], "vnet0", IFF_TAP | IFF_VNET_HDR | IFF_MULTI_QUEUE);
    g_assert_cmpuint(test_host_ifindex("vnet0"), ==,
                     vnic_host_backend_get_link(backend)->ifindex);

    /* One link, two fds: closing them (the backend no longer owns them)
     * removes the tap and leaves nothing. */
    g_clear_pointer(&backend, vnic_host_backend_free);
    g_assert_true(test_host_link_exists("vnet0"));
    close(fds[0]);
    close(fds[1]);
    test_host_snapshot_assert_same(&before);
    test_host_snapshot_clear(&before);
}

static void
test_target_name(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 2);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;

    if (!test_host_enter_netns())
        return;
    nic.target_dev = (char *)"tap-web0";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vnic_host_backend_get_link(backend)->name, ==, "tap-web0");
    g_assert_cmpuint(test_host_ifindex("tap-web0"), ==,
                     vnic_host_backend_get_link(backend)->ifindex);
}

/* Creating @nic must fail with @code and a message containing @text,
 * leaving everything as it was. */
static void
assert_create_fails(const VnicConfNic *nic, int code, const char *text)
{
    g_autoptr(GError) error = NULL;
    TestHostSnapshot before;

    test_host_snapshot_take(&before);
    g_assert_null(vnic_host_backend_create(nic, &error));
    g_assert_error(error, VNIC_HOST_ERROR, code);
    if (!strstr(error->message, text))
        g_error("'%s' does not contain '%s'", error->message, text);
    test_host_snapshot_assert_same(&before);
    test_host_snapshot_clear(&before);
}

static void
test_existing_name(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 3);
    g_autoptr(rtnl_link) after = NULL;
    guint ifindex;

    if (!test_host_enter_netns())
        return;
    test_host_ip("link add taken0 type veth peer name taken1");
    test_host_ip("tuntap add dev tapx mode tap");
    ifindex = test_host_ifindex("taken0");

    nic.target_dev = (char *)"taken0";
    assert_create_fails(&nic, VNIC_HOST_ERROR_EXISTS,
                        "creating tap 'taken0': a link with that name already exists");
    nic.target_dev = (char *)"tapx";
    assert_create_fails(&nic, VNIC_HOST_ERROR_EXISTS, "tap 'tapx'");
    nic.queues = 2;
    assert_create_fails(&nic, VNIC_HOST_ERROR_EXISTS, "tap 'tapx'");

    after = test_host_link("taken0");
    g_assert_cmpuint(rtnl_link_get_ifindex(after), ==, ifindex);
    g_assert_false(rtnl_link_get_flags(after) & IFF_UP);
    g_assert_true(test_host_link_exists("tapx"));
}

static void
test_bridge(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_BRIDGE, 4);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(VnicHostBackend) second = NULL;
    g_autoptr(rtnl_link) link = NULL;
    g_autoptr(GError) error = NULL;

    if (!test_host_enter_netns())
        return;
    test_host_ip("link add br0 type bridge");
    test_host_ip("link set br0 mtu 1450");
    nic.source = (char *)"br0";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    link = test_host_link(vnic_host_backend_get_link(backend)->name);
    g_assert_cmpint(rtnl_link_get_master(link), ==, test_host_ifindex("br0"));
    g_assert_cmpuint(rtnl_link_get_mtu(link), ==, 1450);
    g_assert_true(rtnl_link_get_flags(link) & IFF_UP);

    /* <mtu> wins over the bridge's. */
    nic.mac[5] = 5;
    nic.mtu = 1400;
    second = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    g_clear_pointer(&link, rtnl_link_put);
    link = test_host_link(vnic_host_backend_get_link(second)->name);
    g_assert_cmpuint(rtnl_link_get_mtu(link), ==, 1400);
    g_assert_cmpint(rtnl_link_get_master(link), ==, test_host_ifindex("br0"));
}

static void
test_bridge_errors(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_BRIDGE, 6);

    if (!test_host_enter_netns())
        return;
    test_host_ip("link add va type veth peer name vb");
    nic.source = (char *)"br9";
    assert_create_fails(&nic, VNIC_HOST_ERROR_NOT_FOUND, "bridge 'br9' does not exist");
    nic.source = (char *)"va";
    assert_create_fails(&nic, VNIC_HOST_ERROR_INVALID, "'va' is not a bridge");
}

/* A frame written into one tap's fd crosses the bridge to the other's. */
static void
test_bridge_traffic(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_BRIDGE, 7);
    g_autoptr(VnicHostBackend) a = NULL;
    g_autoptr(VnicHostBackend) b = NULL;
    g_autoptr(GError) error = NULL;

    if (!test_host_enter_netns())
        return;
    test_host_ip("link add br0 type bridge stp_state 0");
    test_host_ip("link set br0 up");
    nic.source = (char *)"br0";
    a = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    nic.mac[5] = 8;
    b = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);

    test_host_write_frame(vnic_host_backend_get_fds(a, NULL)[0], "vnic-bridge-a-to-b");
    g_assert_true(test_host_read_marker(vnic_host_backend_get_fds(b, NULL)[0],
                                        "vnic-bridge-a-to-b"));
}

static void
test_records(void)
{
    VnicHostLink link = { .name = (char *)"vnet7", .ifindex = 9, .kind = VNIC_HOST_LINK_MACVTAP };
    g_autoptr(VnicHostLink) copy = vnic_host_link_copy(&link);
    VnicHostLinkKind kind = VNIC_HOST_LINK_TAP;
    VnicHostErrorCode code = VNIC_HOST_ERROR_FAILED;

    g_assert_cmpstr(copy->name, ==, "vnet7");
    g_assert_true(copy->name != link.name);
    g_assert_cmpuint(copy->ifindex, ==, 9);
    g_assert_cmpint(copy->kind, ==, VNIC_HOST_LINK_MACVTAP);

    g_assert_cmpstr(vnic_host_link_kind_to_string(VNIC_HOST_LINK_TAP), ==, "tap");
    g_assert_true(vnic_host_link_kind_from_string("macvtap", &kind));
    g_assert_cmpint(kind, ==, VNIC_HOST_LINK_MACVTAP);
    g_assert_false(vnic_host_link_kind_from_string("veth", &kind));

    for (int c = VNIC_HOST_ERROR_FAILED; c <= VNIC_HOST_ERROR_INVALID; c++) {
        g_assert_true(vnic_host_error_code_from_string(vnic_host_error_code_to_string(c), &code));
        g_assert_cmpint(code, ==, c);
    }
    g_assert_cmpstr(vnic_host_error_code_to_string(VNIC_HOST_ERROR_NOT_FOUND), ==, "not-found");
    g_assert_false(vnic_host_error_code_from_string("nope", &code));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_host_init_namespaces();

    g_test_add_func("/host/records", test_records);
    g_test_add_func("/host/tap/ethernet", test_ethernet);
    g_test_add_func("/host/tap/defaults", test_ethernet_defaults);
    g_test_add_func("/host/tap/multiqueue", test_multiqueue);
    g_test_add_func("/host/tap/target-name", test_target_name);
    g_test_add_func("/host/tap/existing-name", test_existing_name);
    g_test_add_func("/host/bridge/enslave", test_bridge);
    g_test_add_func("/host/bridge/errors", test_bridge_errors);
    g_test_add_func("/host/bridge/traffic", test_bridge_traffic);
    test_host_add_direct_tests();
    test_host_add_net_tests();
    return g_test_run();
}
