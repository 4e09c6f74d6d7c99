/* test-conf-nic.c: the interface types and parts beyond plugging (network,
 * vhostuser, bandwidth, managed taps) and libvirt-style <network>
 * definitions (conf-network.c): parse, format, round trips, refusals. */
#include "test-conf-util.h"

#include "conf/conf-network.h"

#include <string.h>

static char *
format_nic(const VnicConfDevice *dev, VnicConfFormatFlags flags)
{
    return vnic_conf_device_format(dev, flags);
}

static void
test_nic_network(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<interface type='network'><mac address='52:54:00:00:00:01'/>"
              "<source network='lan' portgroup='web'/><model type='virtio'/></interface>");
    VnicConfDevice *dev = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    g_autofree char *out = NULL, *inactive = NULL;

    g_assert_cmpint(dev->nic->type, ==, VNIC_CONF_NIC_NETWORK);
    g_assert_cmpstr(dev->nic->network, ==, "lan");
    g_assert_cmpstr(dev->nic->portgroup, ==, "web");
    g_assert_null(dev->nic->source);
    g_assert_cmpint(vnic_conf_nic_backend_type(dev->nic), ==, VNIC_CONF_NIC_NETWORK);
    /* resolved at start: the status form says what it runs on */
    dev->nic->source = g_strdup("br0");
    g_assert_cmpint(vnic_conf_nic_backend_type(dev->nic), ==, VNIC_CONF_NIC_BRIDGE);
    out = format_nic(dev, VNIC_CONF_FORMAT_STATUS);
    g_assert_nonnull(strstr(out, "<source network='lan' portgroup='web' bridge='br0'/>"));
    inactive = format_nic(dev, VNIC_CONF_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(inactive, "<source network='lan' portgroup='web'/>"));
}

static void
test_nic_network_status_roundtrip(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<interface type='network'><source network='pool' dev='eth0' mode='private'/>"
              "</interface>");
    VnicConfDevice *dev = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    g_autofree char *out = format_nic(dev, VNIC_CONF_FORMAT_STATUS);

    g_assert_cmpint(vnic_conf_nic_backend_type(dev->nic), ==, VNIC_CONF_NIC_DIRECT);
    g_assert_cmpstr(dev->nic->source, ==, "eth0");
    g_assert_cmpstr(dev->nic->source_mode, ==, "private");
    g_assert_nonnull(strstr(out, "<source network='pool' dev='eth0' mode='private'/>"));
}

static void
test_nic_vhostuser(void)
{
    static const char nic_xml[] =
        "<interface type='vhostuser'><mac address='52:54:00:00:00:02'/>"
        "<source type='unix' path='/var/run/openvswitch/vhu1' mode='client'/>"
        "<model type='virtio'/><driver queues='2'/></interface>";
    g_autofree char *xml = tc_domain_xml("q35", nic_xml);
    g_autofree char *shared = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    VnicConfDevice *dev;
    g_autofree char *out = NULL;

    /* not shared: refused, naming what to add */
    tc_assert_parse_error(xml, VNIC_CONF_ERROR_CONFLICT,
                          (const char *const[]){ "interface #1", "<access mode='shared'/>",
                                                 NULL });
    shared = tc_domain_xml("q35", nic_xml);
    {
        char *pos = strstr(shared, "<devices>");
        g_autofree char *head = g_strndup(shared, (gsize)(pos - shared));
        g_autofree char *fixed = g_strconcat(head, "<memoryBacking><source type='memfd'/>"
                                                   "<access mode='shared'/></memoryBacking>",
                                             pos, NULL);
        def = tc_parse(fixed);
    }
    dev = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    out = format_nic(dev, VNIC_CONF_FORMAT_INACTIVE);

    g_assert_cmpint(dev->nic->type, ==, VNIC_CONF_NIC_VHOSTUSER);
    g_assert_cmpstr(dev->nic->source, ==, "/var/run/openvswitch/vhu1");
    g_assert_cmpstr(dev->nic->source_mode, ==, "client");
    g_assert_cmpuint(dev->nic->queues, ==, 2);
    g_assert_true(vnic_conf_device_is_pci(dev));
    g_assert_nonnull(strstr(out, "<interface type='vhostuser'>"));
    g_assert_nonnull(
        strstr(out, "<source type='unix' path='/var/run/openvswitch/vhu1' mode='client'/>"));
}

static void
test_nic_bandwidth_managed(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<interface type='ethernet'><target dev='tap7' managed='no'/>"
              "<driver name='vhost' queues='2'/><model type='virtio'/>"
              "<bandwidth><inbound average='1000' peak='2000' burst='256'/>"
              "<outbound average='500'/></bandwidth><rom bar='off'/></interface>");
    VnicConfNic *nic = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->nic;
    g_autofree char *out = format_nic(tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0),
                                      VNIC_CONF_FORMAT_INACTIVE);

    g_assert_cmpint(nic->target_managed, ==, VNIC_TRISTATE_NO);
    g_assert_cmpstr(nic->target_dev, ==, "tap7");
    g_assert_cmpstr(nic->driver_name, ==, "vhost");
    g_assert_cmpuint(nic->inbound.average, ==, 1000);
    g_assert_cmpuint(nic->inbound.peak, ==, 2000);
    g_assert_cmpuint(nic->inbound.burst, ==, 256);
    g_assert_cmpuint(nic->outbound.average, ==, 500);
    g_assert_cmpuint(nic->outbound.peak, ==, 0);
    g_assert_nonnull(strstr(out, "<inbound average='1000' peak='2000' burst='256'/>"));
    g_assert_nonnull(strstr(out, "<target dev='tap7' managed='no'/>"));
}

/* ---- <network> ------------------------------------------------------ */

static void
test_network_bridge(void)
{
    static const char xml[] =
        "<network><name>lan</name><forward mode='bridge'/><bridge name='br0'/>"
        "<portgroup name='web'/><mtu size='9000'/></network>";
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfNetwork) net = vnic_conf_network_parse(xml, sizeof(xml) - 1, &error);
    g_autofree char *out = NULL;
    g_autoptr(VnicConfNetwork) again = NULL;
    g_autofree char *out2 = NULL;

    g_assert_no_error(error);
    g_assert_cmpstr(net->name, ==, "lan");
    g_assert_cmpint(net->kind, ==, VNIC_CONF_NET_BRIDGE);
    g_assert_cmpstr(net->bridge, ==, "br0");
    g_assert_true(vnic_conf_network_has_portgroup(net, "web"));
    g_assert_false(vnic_conf_network_has_portgroup(net, "db"));
    vnic_conf_network_set_uuid(net, "6e2ac7e0-9c4d-4b7e-8f0a-3d1c2b4a5e6f");
    out = vnic_conf_network_format(net);
    g_assert_cmpstr(out, ==,
                    "<network>\n"
                    "  <name>lan</name>\n"
                    "  <uuid>6e2ac7e0-9c4d-4b7e-8f0a-3d1c2b4a5e6f</uuid>\n"
                    "  <forward mode='bridge'/>\n"
                    "  <bridge name='br0'/>\n"
                    "  <portgroup name='web'/>\n"
                    "  <mtu size='9000'/>\n"
                    "</network>\n");
    again = vnic_conf_network_parse(out, strlen(out), &error);
    g_assert_no_error(error);
    out2 = vnic_conf_network_format(again);
    g_assert_cmpstr(out, ==, out2);
}

static void
test_network_pool(void)
{
    static const char xml[] =
        "<network><name>mv</name><uuid>6E2AC7E0-9C4D-4B7E-8F0A-3D1C2B4A5E6F</uuid>"
        "<forward mode='vepa'><interface dev='eth0'/><interface dev='eth1'/></forward>"
        "</network>";
    static const char one[] =
        "<network><name>pt</name><forward mode='passthrough' dev='eth2'/></network>";
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfNetwork) net = vnic_conf_network_parse(xml, sizeof(xml) - 1, &error);
    g_autoptr(VnicConfNetwork) net1 = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(net->kind, ==, VNIC_CONF_NET_MACVTAP);
    g_assert_cmpstr(net->mode, ==, "vepa");
    g_assert_cmpstr(net->uuid, ==, "6e2ac7e0-9c4d-4b7e-8f0a-3d1c2b4a5e6f");
    g_assert_cmpuint(net->devs->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(net->devs, 1), ==, "eth1");
    net1 = vnic_conf_network_parse(one, sizeof(one) - 1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(net1->devs->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(net1->devs, 0), ==, "eth2");
}

static void
test_network_errors(void)
{
    static const struct {
        const char *xml;
        VnicConfErrorCode code;
        const char *needle;
    } cases[] = {
        { "<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>"
          "<ip address='192.168.122.1' netmask='255.255.255.0'/></network>",
          VNIC_CONF_ERROR_UNSUPPORTED, "<forward mode='nat'> is not supported" },
        { "<network><name>d</name><forward/><bridge name='b'/></network>",
          VNIC_CONF_ERROR_UNSUPPORTED, "<forward mode='nat'>" },
        { "<network><name>r</name><forward mode='route'/></network>",
          VNIC_CONF_ERROR_UNSUPPORTED, "'route'" },
        { "<network><name>iso</name><bridge name='b'/></network>", VNIC_CONF_ERROR_UNSUPPORTED,
          "isolated network" },
        { "<network><name>h</name><forward mode='hostdev'/></network>",
          VNIC_CONF_ERROR_UNSUPPORTED, "passthrough" },
        { "<network><name>x</name><forward mode='bridge'/><bridge name='b'/>"
          "<ip address='10.0.0.1'/></network>", VNIC_CONF_ERROR_UNSUPPORTED, "<ip>" },
        { "<network><name>x</name><forward mode='bridge'/></network>",
          VNIC_CONF_ERROR_MISSING, "<bridge name>" },
        { "<network><name>x</name><forward mode='vepa'/><bridge name='b'/></network>",
          VNIC_CONF_ERROR_CONFLICT, "<bridge name='b'>" },
        { "<network><name>x</name><forward mode='bridge'/><bridge name='b'/>"
          "<portgroup name='p'><vlan><tag id='4'/></vlan></portgroup></network>",
          VNIC_CONF_ERROR_UNSUPPORTED, "<portgroup name='p'> with <vlan>" },
        { "<network><forward mode='bridge'/><bridge name='b'/></network>",
          VNIC_CONF_ERROR_MISSING, "<name>" },
        { "<network><name>a/b</name></network>", VNIC_CONF_ERROR_INVALID, "'a/b'" },
        { "<domain/>", VNIC_CONF_ERROR_INVALID, "<network>" },
        { "<network><name>x</name><forward mode='bogus'/></network>", VNIC_CONF_ERROR_INVALID,
          "'bogus'" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VnicConfNetwork) net =
            vnic_conf_network_parse(cases[i].xml, strlen(cases[i].xml), &error);

        g_test_message("%s", error ? error->message : "(none)");
        g_assert_null(net);
        g_assert_error(error, VNIC_CONF_ERROR, (gint) cases[i].code);
        g_assert_nonnull(strstr(error->message, cases[i].needle));
    }
}

void
test_conf_nic_register(void)
{
    g_test_add_func("/conf/nic/network", test_nic_network);
    g_test_add_func("/conf/nic/network-status", test_nic_network_status_roundtrip);
    g_test_add_func("/conf/nic/vhostuser", test_nic_vhostuser);
    g_test_add_func("/conf/nic/bandwidth-managed", test_nic_bandwidth_managed);
    g_test_add_func("/conf/network/bridge", test_network_bridge);
    g_test_add_func("/conf/network/pool", test_network_pool);
    g_test_add_func("/conf/network/errors", test_network_errors);
}
