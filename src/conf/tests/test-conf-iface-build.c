/* test-conf-iface-build.c: virsh's "average[,peak[,burst]]" rates, the
 * <interface> built from attach-interface's options (it parses back to
 * what was asked), and <bandwidth> set on a parsed NIC (dumpxml shows
 * it). */
#include "test-conf-util.h"

#include "conf/conf-iface-build.h"

#include <string.h>

static void
test_rate_parse(void)
{
    const struct {
        const char *text;
        guint64 average, peak, burst;
        const char *formatted;
    } good[] = {
        { "1000", 1000, 0, 0, "1000" },
        { "1000,2000", 1000, 2000, 0, "1000,2000" },
        { "1000,2000,256", 1000, 2000, 256, "1000,2000,256" },
        { "800,,64", 800, 0, 64, "800,0,64" },
    };
    const struct {
        const char *text;
        const char *message;
    } bad[] = {
        { "0", "--inbound '0': the average rate must be 1 KiB/s or more" },
        { ",5", "--inbound ',5': the average rate must be 1 KiB/s or more" },
        { "x", "--inbound: invalid average 'x': expected a decimal number" },
        { "10,-1", "--inbound: invalid peak '-1'" },
        { "10,1,99999999999", "--inbound: invalid burst '99999999999'" },
        { "1,2,3,4", "--inbound '1,2,3,4': expected average[,peak[,burst]], not 4 fields" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        VnicConfRate r = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;

        g_assert_true(vnic_conf_rate_parse(good[i].text, "--inbound", &r, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(r.average, ==, good[i].average);
        g_assert_cmpuint(r.peak, ==, good[i].peak);
        g_assert_cmpuint(r.burst, ==, good[i].burst);
        text = vnic_conf_rate_format(&r);
        g_assert_cmpstr(text, ==, good[i].formatted);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        VnicConfRate r = { 0 };
        g_autoptr(GError) error = NULL;

        g_assert_false(vnic_conf_rate_parse(bad[i].text, "--inbound", &r, &error));
        g_assert_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(error->message, bad[i].message));
    }
}

static void
test_spec_round_trip(void)
{
    VnicConfIfaceSpec spec = {
        .type = "bridge", .source = "br0", .model = "e1000", .mac = "52:54:00:00:00:07",
        .target = "vnet7", .alias = "ua-web", .acpi_index = 4,
        .inbound = { 1000, 2000, 256 }, .outbound = { 500, 0, 0 },
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vnic_conf_iface_spec_to_xml(&spec, &error);
    g_autoptr(VnicConfDevice) dev = NULL;

    g_assert_no_error(error);
    dev = vnic_conf_interface_parse(NULL, xml, strlen(xml), &error);
    g_assert_no_error(error);
    g_assert_cmpint(dev->nic->type, ==, VNIC_CONF_NIC_BRIDGE);
    g_assert_cmpstr(dev->nic->source, ==, "br0");
    g_assert_cmpstr(dev->nic->model, ==, "e1000");
    g_assert_cmpstr(dev->nic->target_dev, ==, "vnet7");
    g_assert_cmpstr(dev->alias, ==, "ua-web");
    g_assert_cmpuint(dev->nic->acpi_index, ==, 4);
    g_assert_cmpuint(dev->nic->inbound.peak, ==, 2000);
    g_assert_cmpuint(dev->nic->outbound.average, ==, 500);
}

static void
test_spec_errors(void)
{
    VnicConfIfaceSpec none = { 0 }, bridge = { .type = "bridge" }, eth = { .type = "ethernet" };
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_autofree char *x1 = vnic_conf_iface_spec_to_xml(&none, &e1);
    g_autofree char *x2 = vnic_conf_iface_spec_to_xml(&bridge, &e2);
    g_autofree char *x3 = vnic_conf_iface_spec_to_xml(&eth, &e3);

    g_assert_null(x1);
    g_assert_error(e1, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING);
    g_assert_null(x2);
    g_assert_cmpstr(e2->message, ==, "an <interface type='bridge'> needs a source (the bridge)");
    g_assert_no_error(e3);
    g_assert_cmpstr(x3, ==, "<interface type='ethernet'>\n  <model type='virtio'/>\n"
                            "</interface>\n");
}

static void
test_set_bandwidth(void)
{
    static const char xml[] = "<interface type='bridge'><source bridge='br0'/>"
                              "<bandwidth><inbound average='10'/></bandwidth>"
                              "<model type='virtio'/></interface>";
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(NULL, xml, strlen(xml), &error);
    VnicConfRate in = { 1000, 0, 64 }, out = { 0 }, zero = { 0 };
    g_autofree char *set = NULL, *cleared = NULL;

    g_assert_no_error(error);
    vnic_conf_nic_set_bandwidth(dev, &in, &out);
    set = vnic_conf_device_format(dev, VNIC_CONF_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(set, "<bandwidth>\n    <inbound average='1000' burst='64'/>\n"
                                 "  </bandwidth>"));
    g_assert_null(strstr(set, "average='10'"));
    g_assert_cmpuint(dev->nic->inbound.average, ==, 1000);
    vnic_conf_nic_set_bandwidth(dev, &zero, &zero);
    cleared = vnic_conf_device_format(dev, VNIC_CONF_FORMAT_INACTIVE);
    g_assert_null(strstr(cleared, "bandwidth"));
}

void
test_conf_iface_build_register(void)
{
    g_test_add_func("/conf/iface-build/rate-parse", test_rate_parse);
    g_test_add_func("/conf/iface-build/spec-round-trip", test_spec_round_trip);
    g_test_add_func("/conf/iface-build/spec-errors", test_spec_errors);
    g_test_add_func("/conf/iface-build/set-bandwidth", test_set_bandwidth);
}
