/* test-host-net.c: <bandwidth> shaping read back with tc, existing taps
 * (<target managed='no'>) and network NICs resolved to a bridge, against
 * the real kernel in a private network namespace. */
#include "test-host-util.h"

#include <string.h>
#include <unistd.h>

void test_host_add_net_tests(void);

/* `tc ARGS`'s output (the test reads shaping as a user would). */
static char *
tc_show(const char *args)
{
    g_autofree char *cmd = g_strdup_printf("tc %s", args);
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    gint status = 0;

    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_cmpint(status, ==, 0);
    return g_steal_pointer(&out);
}

static void
assert_contains(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        g_error("expected \"%s\" in:\n%s", needle, text);
}

static void
test_bandwidth(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 0x21);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *qdisc = NULL, *klass = NULL, *filter = NULL;

    if (!test_host_enter_netns())
        return;
    nic.inbound = (VnicConfRate){ .average = 1000, .peak = 2000, .burst = 256 };
    nic.outbound = (VnicConfRate){ .average = 500 };
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    if (vnic_host_backend_get_ifb(backend) != NULL) {
        /* a kernel without tc's police action (like this CI's): the tap's
         * ingress goes to an ifb whose egress is shaped */
        const VnicHostLink *ifb = vnic_host_backend_get_ifb(backend);
        g_autofree char *args = g_strdup_printf("class show dev %s", ifb->name);
        g_autofree char *ifb_class = NULL;
        g_autoptr(VnicHostLink) ifb_copy = vnic_host_link_copy(ifb);

        g_assert_cmpint(ifb->kind, ==, VNIC_HOST_LINK_IFB);
        g_assert_true(vnic_host_link_exists(ifb));
        ifb_class = tc_show(args);
        assert_contains(ifb_class, "rate 4Mbit ceil 4Mbit");
        filter = tc_show("filter show dev vnet0 parent ffff:");
        assert_contains(filter, "mirred");
        assert_contains(filter, ifb->name);
        klass = tc_show("class show dev vnet0");
        assert_contains(klass, "rate 8Mbit ceil 16Mbit burst 256Kb");
        /* the ifb is vnic's like the tap: deleted by its record */
        g_assert_true(vnic_host_link_delete(ifb_copy, &error));
        g_assert_no_error(error);
        g_assert_false(vnic_host_link_exists(ifb_copy));
        g_test_message("no police action in this kernel: <outbound> shaped on %s",
                       ifb_copy->name);
        return;
    }
    qdisc = tc_show("qdisc show dev vnet0");
    assert_contains(qdisc, "qdisc htb 1: root");
    assert_contains(qdisc, "qdisc ingress ffff:");
    /* libvirt's tc units: 1000 "kbps" = 8 Mbit/s, ceil 16 Mbit/s, burst 256 KiB */
    klass = tc_show("class show dev vnet0");
    assert_contains(klass, "class htb 1:1 root");
    assert_contains(klass, "rate 8Mbit ceil 16Mbit burst 256Kb");
    filter = tc_show("filter show dev vnet0 parent ffff:");
    assert_contains(filter, "u32");
    /* 500 "kbps" = 4 Mbit/s, burst defaults to average: 500 KiB */
    assert_contains(filter, "police");
    assert_contains(filter, "rate 4Mbit burst 500Kb");
    assert_contains(filter, "action drop");
}

static void
test_bandwidth_clear(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 0x22);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *qdisc = NULL;

    if (!test_host_enter_netns())
        return;
    nic.inbound.average = 100;
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    g_assert_true(vnic_host_bandwidth_clear("vnet0", &error));
    g_assert_no_error(error);
    qdisc = tc_show("qdisc show dev vnet0");
    g_assert_null(strstr(qdisc, "htb"));
    g_assert_true(vnic_host_bandwidth_clear("no-such-link", &error));
    g_assert_no_error(error);
}

static void
test_existing_tap(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 0x23);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(rtnl_link) link = NULL;
    g_autofree int *fds = NULL;
    guint n_fds = 0, ifindex;

    if (!test_host_enter_netns())
        return;
    test_host_ip("tuntap add dev tap-os1 mode tap");
    ifindex = test_host_ifindex("tap-os1");
    nic.target_dev = (char *)"tap-os1";
    nic.target_managed = VNIC_TRISTATE_NO;
    nic.mtu = 1400;   /* not applied: the tap is not vnic's to change */
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    g_assert_false(vnic_host_backend_is_owned(backend));
    g_assert_cmpstr(vnic_host_backend_get_link(backend)->name, ==, "tap-os1");
    g_assert_cmpuint(vnic_host_backend_get_link(backend)->ifindex, ==, ifindex);
    fds = vnic_host_backend_steal_fds(backend, &n_fds);
    g_assert_cmpuint(n_fds, ==, 1);
    link = test_host_link("tap-os1");
    g_assert_cmpuint(rtnl_link_get_mtu(link), ==, 1500);
    /* closing our queue leaves the persistent tap in place */
    close(fds[0]);
    g_clear_pointer(&backend, vnic_host_backend_free);
    g_assert_cmpuint(test_host_ifindex("tap-os1"), ==, ifindex);
}

static void
test_existing_tap_errors(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 0x24);
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicHostBackend) backend = NULL;

    if (!test_host_enter_netns())
        return;
    nic.target_dev = (char *)"tap-none";
    nic.target_managed = VNIC_TRISTATE_NO;
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_null(backend);
    g_assert_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "'tap-none'"));
    g_assert_false(test_host_link_exists("tap-none"));
    g_clear_error(&error);

    test_host_ip("link add br-x type bridge");
    nic.target_dev = (char *)"br-x";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_null(backend);
    g_assert_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "not a tap"));
    g_assert_true(test_host_link_exists("br-x"));
}

/* A network NIC resolved to a bridge plugs like type='bridge'. */
static void
test_network_resolved(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 0x25);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(rtnl_link) link = NULL;

    if (!test_host_enter_netns())
        return;
    test_host_ip("link add br-net type bridge");
    nic.type = VNIC_CONF_NIC_NETWORK;
    nic.network = (char *)"lan";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_null(backend);
    g_assert_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_INVALID);
    g_clear_error(&error);
    nic.source = (char *)"br-net";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    link = test_host_link("vnet0");
    g_assert_cmpint(rtnl_link_get_master(link), ==, (int)test_host_ifindex("br-net"));
}

static guint
link_mtu(const char *name)
{
    g_autoptr(rtnl_link) link = test_host_link(name);

    return rtnl_link_get_mtu(link);
}

static gboolean
link_is_up(const char *name)
{
    g_autoptr(rtnl_link) link = test_host_link(name);

    return (rtnl_link_get_flags(link) & IFF_UP) != 0;
}

static int
link_master(const char *name)
{
    g_autoptr(rtnl_link) link = test_host_link(name);

    return rtnl_link_get_master(link);
}

static void
assert_enslave_fails(const VnicHostLink *tap, const char *bridge, gint code,
                     const char *needle)
{
    g_autoptr(GError) error = NULL;

    g_assert_false(vnic_host_tap_enslave(tap, bridge, 0, &error));
    g_assert_error(error, VNIC_HOST_ERROR, code);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, needle));
}

/* A bridge NIC's tap outlives its bridge; once a bridge of that name is
 * back, vnic_host_tap_enslave() puts the tap on it again with the new
 * bridge's MTU (or the one asked for) and up.  A missing bridge, one that
 * is not a bridge, and a record that is not the tap's (another ifindex or
 * name, a macvtap) are refused, leaving the tap as it was. */
static void
test_tap_enslave(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_BRIDGE, 0x30);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;
    const VnicHostLink *tap;
    VnicHostLink other;

    if (!test_host_enter_netns())
        return;
    test_host_ip("link add br0 type bridge");
    test_host_ip("link set br0 mtu 1400");
    nic.source = (char *)"br0";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    tap = vnic_host_backend_get_link(backend);
    g_assert_cmpstr(tap->name, ==, "vnet0");
    g_assert_cmpint(link_master("vnet0"), ==, (int)test_host_ifindex("br0"));

    test_host_ip("link del br0");
    g_assert_true(test_host_link_exists("vnet0"));
    g_assert_cmpint(link_master("vnet0"), ==, 0);
    assert_enslave_fails(tap, "br0", VNIC_HOST_ERROR_NOT_FOUND,
                         "enslaving 'vnet0': bridge 'br0' does not exist");
    test_host_ip("link add br0 type veth peer name br0p");
    assert_enslave_fails(tap, "br0", VNIC_HOST_ERROR_INVALID, "'br0' is not a bridge");
    g_assert_cmpint(link_master("vnet0"), ==, 0);
    test_host_ip("link del br0");

    /* back, with another MTU; the tap was taken down meanwhile */
    test_host_ip("link add br0 type bridge");
    test_host_ip("link set br0 mtu 1300");
    test_host_ip("link set vnet0 down");
    g_assert_true(vnic_host_tap_enslave(tap, "br0", 0, &error));
    g_assert_no_error(error);
    g_assert_cmpint(link_master("vnet0"), ==, (int)test_host_ifindex("br0"));
    g_assert_cmpuint(link_mtu("vnet0"), ==, 1300);
    g_assert_true(link_is_up("vnet0"));
    /* again, on the bridge it is on, with the NIC's <mtu> */
    g_assert_true(vnic_host_tap_enslave(tap, "br0", 1280, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(link_mtu("vnet0"), ==, 1280);

    /* not vnic's tap: nothing is done */
    test_host_ip("link add br1 type bridge");
    other = (VnicHostLink){ .name = tap->name, .ifindex = tap->ifindex + 1000,
                            .kind = VNIC_HOST_LINK_TAP };
    assert_enslave_fails(&other, "br1", VNIC_HOST_ERROR_NOT_FOUND, "no longer exists");
    other = (VnicHostLink){ .name = (char *)"vnet9", .ifindex = tap->ifindex,
                            .kind = VNIC_HOST_LINK_TAP };
    assert_enslave_fails(&other, "br1", VNIC_HOST_ERROR_NOT_FOUND, "'vnet9'");
    other = (VnicHostLink){ .name = tap->name, .ifindex = tap->ifindex,
                            .kind = VNIC_HOST_LINK_MACVTAP };
    assert_enslave_fails(&other, "br1", VNIC_HOST_ERROR_INVALID, "only a tap");
    g_assert_cmpint(link_master("vnet0"), ==, (int)test_host_ifindex("br0"));
}

void
test_host_add_net_tests(void)
{
    g_test_add_func("/host/bandwidth/htb-and-police", test_bandwidth);
    g_test_add_func("/host/bandwidth/clear", test_bandwidth_clear);
    g_test_add_func("/host/tap/existing", test_existing_tap);
    g_test_add_func("/host/tap/existing-errors", test_existing_tap_errors);
    g_test_add_func("/host/network/resolved", test_network_resolved);
    g_test_add_func("/host/tap/enslave", test_tap_enslave);
}
