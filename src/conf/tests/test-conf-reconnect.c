/* test-conf-reconnect.c: <vnic:reconnect mode> per NIC and per domain:
 * the names, what parsing yields, the effective mode of each kind of NIC
 * (vnic_conf_nic_reconnect_mode), and the element written back by both
 * formatters with every flag.  The refusals are rows of
 * test-conf-errors.c. */
#include "test-conf-util.h"

#include <string.h>

#define DIRECT "<interface type='direct'><source dev='eth0'/><model type='virtio'/>"
#define BRIDGE "<interface type='bridge'><source bridge='br0'/><model type='virtio'/>"
#define ETHERNET "<interface type='ethernet'><model type='virtio'/>"
#define END "</interface>"

static void
assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        g_error("expected to find\n%s\nin\n%s", needle, haystack);
}

static void
test_names(void)
{
    static const struct {
        VnicConfReconnect mode;
        const char *name;
    } names[] = {
        { VNIC_CONF_RECONNECT_DEFAULT, "default" },
        { VNIC_CONF_RECONNECT_HUB, "hub" },
        { VNIC_CONF_RECONNECT_REPLUG, "replug" },
        { VNIC_CONF_RECONNECT_OFF, "off" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        VnicConfReconnect mode = VNIC_CONF_RECONNECT_OFF;

        g_assert_cmpstr(vnic_conf_reconnect_to_string(names[i].mode), ==, names[i].name);
        g_assert_true(vnic_conf_reconnect_from_string(names[i].name, &mode));
        g_assert_cmpint(mode, ==, names[i].mode);
    }
    {
        VnicConfReconnect mode = VNIC_CONF_RECONNECT_HUB;

        g_assert_false(vnic_conf_reconnect_from_string("Hub", &mode));
        g_assert_false(vnic_conf_reconnect_from_string("", &mode));
        g_assert_false(vnic_conf_reconnect_from_string(NULL, &mode));
        g_assert_cmpint(mode, ==, VNIC_CONF_RECONNECT_HUB);
    }
}

static void
test_parse(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse(
        "<domain type='qemu' xmlns:v='urn:x-vnic:domain:1'><name>t</name>"
        "<memory unit='MiB'>64</memory><os><type>hvm</type></os>"
        "<v:reconnect mode='off'/><devices>" DIRECT "<v:reconnect mode='hub'/>" END BRIDGE
        "<v:reconnect mode='replug'/>" END ETHERNET END "</devices></domain>");

    g_assert_cmpint(def->reconnect, ==, VNIC_CONF_RECONNECT_OFF);
    g_assert_cmpint(tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->nic->reconnect, ==,
                    VNIC_CONF_RECONNECT_HUB);
    g_assert_cmpint(tc_nth(def, VNIC_CONF_DEV_INTERFACE, 1)->nic->reconnect, ==,
                    VNIC_CONF_RECONNECT_REPLUG);
    g_assert_cmpint(tc_nth(def, VNIC_CONF_DEV_INTERFACE, 2)->nic->reconnect, ==,
                    VNIC_CONF_RECONNECT_DEFAULT);
    /* the NIC's own wins; the domain's covers the third */
    g_assert_cmpint(vnic_conf_nic_reconnect_mode(def, tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0)),
                    ==, VNIC_CONF_RECONNECT_HUB);
    g_assert_cmpint(vnic_conf_nic_reconnect_mode(def, tc_nth(def, VNIC_CONF_DEV_INTERFACE, 2)),
                    ==, VNIC_CONF_RECONNECT_OFF);
}

typedef struct {
    const char *nic;          /* one <interface> */
    VnicConfReconnect domain; /* the domain's <vnic:reconnect>, DEFAULT: none */
    VnicConfReconnect want;
} ModeCase;

/* One row per rule of vnic_conf_nic_reconnect_mode(). */
static const ModeCase mode_cases[] = {
    /* type defaults */
    { DIRECT END, VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_HUB },
    { BRIDGE END, VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_REPLUG },
    { ETHERNET END, VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_REPLUG },
    { "<interface type='network'><source network='pool' dev='eth0' mode='bridge'/>" END,
      VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_HUB },
    { "<interface type='network'><source network='lan' bridge='virbr0'/>" END,
      VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_REPLUG },
    { "<interface type='network'><source network='lan'/>" END, VNIC_CONF_RECONNECT_DEFAULT,
      VNIC_CONF_RECONNECT_REPLUG },
    { "<interface type='ethernet'><target dev='tapx' managed='no'/>" END,
      VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_OFF },
    { "<interface type='user'/>", VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_OFF },
    /* a hubport carries one queue */
    { DIRECT "<driver queues='2'/>" END, VNIC_CONF_RECONNECT_DEFAULT,
      VNIC_CONF_RECONNECT_REPLUG },
    { DIRECT "<driver queues='2'/>" END, VNIC_CONF_RECONNECT_HUB, VNIC_CONF_RECONNECT_REPLUG },
    { DIRECT "<driver queues='2'/>" END, VNIC_CONF_RECONNECT_OFF, VNIC_CONF_RECONNECT_OFF },
    { DIRECT "<driver queues='1'/>" END, VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_HUB },
    /* the domain's mode, on the NICs whose backend vnic makes */
    { DIRECT END, VNIC_CONF_RECONNECT_REPLUG, VNIC_CONF_RECONNECT_REPLUG },
    { DIRECT END, VNIC_CONF_RECONNECT_OFF, VNIC_CONF_RECONNECT_OFF },
    { BRIDGE END, VNIC_CONF_RECONNECT_HUB, VNIC_CONF_RECONNECT_HUB },
    { ETHERNET END, VNIC_CONF_RECONNECT_OFF, VNIC_CONF_RECONNECT_OFF },
    { "<interface type='ethernet'><target dev='tapx' managed='no'/>" END,
      VNIC_CONF_RECONNECT_HUB, VNIC_CONF_RECONNECT_OFF },
    { "<interface type='user'/>", VNIC_CONF_RECONNECT_REPLUG, VNIC_CONF_RECONNECT_OFF },
    /* the NIC's own, whatever the domain says */
    { BRIDGE "<vnic:reconnect mode='hub'/>" END, VNIC_CONF_RECONNECT_OFF,
      VNIC_CONF_RECONNECT_HUB },
    { DIRECT "<vnic:reconnect mode='off'/>" END, VNIC_CONF_RECONNECT_HUB,
      VNIC_CONF_RECONNECT_OFF },
    { DIRECT "<driver queues='4'/><vnic:reconnect mode='replug'/>" END,
      VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_REPLUG },
    { "<interface type='ethernet'><target dev='tapx' managed='no'/>"
      "<vnic:reconnect mode='hub'/>" END,
      VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_HUB },
    { "<interface type='user'><vnic:reconnect mode='off'/></interface>",
      VNIC_CONF_RECONNECT_DEFAULT, VNIC_CONF_RECONNECT_OFF },
};

static void
test_effective_mode(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(mode_cases); i++) {
        const ModeCase *c = &mode_cases[i];
        g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", c->nic);
        const VnicConfDevice *dev = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
        VnicConfReconnect got;

        def->reconnect = c->domain;
        got = vnic_conf_nic_reconnect_mode(def, dev);
        if (got != c->want)
            g_error("%s with domain mode %s: got %s, want %s", c->nic,
                    vnic_conf_reconnect_to_string(c->domain),
                    vnic_conf_reconnect_to_string(got), vnic_conf_reconnect_to_string(c->want));
        /* no domain: the NIC's own or the type default */
        if (c->domain == VNIC_CONF_RECONNECT_DEFAULT)
            g_assert_cmpint(vnic_conf_nic_reconnect_mode(NULL, dev), ==, c->want);
    }
}

/* A NIC being attached is not in the domain yet: the domain's mode
 * applies all the same. */
static void
test_effective_mode_snippet(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", "");
    const char *snippet = BRIDGE END;
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(def, snippet, strlen(snippet),
                                                              &error);

    g_assert_no_error(error);
    g_assert_cmpint(vnic_conf_nic_reconnect_mode(def, dev), ==, VNIC_CONF_RECONNECT_REPLUG);
    def->reconnect = VNIC_CONF_RECONNECT_HUB;
    g_assert_cmpint(vnic_conf_nic_reconnect_mode(def, dev), ==, VNIC_CONF_RECONNECT_HUB);
}

static const VnicConfFormatFlags all_flags[] = {
    VNIC_CONF_FORMAT_STATUS,
    VNIC_CONF_FORMAT_INACTIVE,
    VNIC_CONF_FORMAT_MIGRATABLE,
    VNIC_CONF_FORMAT_INACTIVE | VNIC_CONF_FORMAT_MIGRATABLE,
};

/* Both elements come back with every flag (where they were: the formatter
 * moves no existing element); parsing the output gives the same text. */
static void
test_format_roundtrip(void)
{
    g_autofree char *xml = tc_domain_xml(
        "pc", DIRECT "<vnic:unplug guest='deny'/><vnic:reconnect mode='replug'/>"
              "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>"
              END ETHERNET END);
    g_autoptr(VnicConfDomain) def = NULL;
    g_autofree char *head = g_strndup(xml, strlen(xml) - strlen("</domain>"));
    /* the domain-level elements added to the minimal domain */
    g_autofree char *with_domain = g_strconcat(head, "<vnic:hotplug spare-ports='2'/>"
                                               "<vnic:reconnect mode='off'/></domain>",
                                               NULL);

    def = tc_parse(with_domain);
    for (gsize i = 0; i < G_N_ELEMENTS(all_flags); i++) {
        g_autofree char *out = vnic_conf_domain_format(def, all_flags[i]);
        g_autoptr(VnicConfDomain) back = tc_parse(out);
        g_autofree char *again = vnic_conf_domain_format(back, all_flags[i]);

        assert_contains(out, "      <vnic:unplug guest='deny'/>\n"
                             "      <vnic:reconnect mode='replug'/>\n"
                             "      <address type='pci'");
        assert_contains(out, "  <vnic:hotplug spare-ports='2'/>\n"
                             "  <vnic:reconnect mode='off'/>\n"
                             "</domain>\n");
        g_assert_cmpint(back->reconnect, ==, VNIC_CONF_RECONNECT_OFF);
        g_assert_cmpint(tc_nth(back, VNIC_CONF_DEV_INTERFACE, 0)->nic->reconnect, ==,
                        VNIC_CONF_RECONNECT_REPLUG);
        g_assert_cmpint(tc_nth(back, VNIC_CONF_DEV_INTERFACE, 1)->nic->reconnect, ==,
                        VNIC_CONF_RECONNECT_DEFAULT);
        g_assert_cmpstr(again, ==, out);
    }
}

/* Set by code: the elements (and vnic's namespace) appear at their place,
 * the NIC's after <vnic:unplug> and before <address>, the domain's after
 * <vnic:hotplug>; set back to DEFAULT, they go. */
static void
test_format_set_and_clear(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse(
        "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>"
        "<os><type>hvm</type></os><devices>" BRIDGE "<address type='pci' domain='0x0000' "
        "bus='0x00' slot='0x05' function='0x0'/>" END "</devices></domain>");
    VnicConfDevice *dev = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    g_autofree char *plain = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    g_autofree char *set = NULL, *cleared = NULL;

    g_assert_null(strstr(plain, "reconnect"));
    g_assert_null(strstr(plain, "xmlns:vnic"));
    def->reconnect = VNIC_CONF_RECONNECT_HUB;
    def->spare_ports = 1;
    dev->nic->reconnect = VNIC_CONF_RECONNECT_OFF;
    dev->nic->guest_unplug = VNIC_TRISTATE_YES;
    set = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    assert_contains(set, "<domain type='qemu' xmlns:vnic='urn:x-vnic:domain:1'>\n");
    assert_contains(set, "      <vnic:unplug guest='allow'/>\n"
                         "      <vnic:reconnect mode='off'/>\n"
                         "      <address type='pci'");
    assert_contains(set, "  <vnic:hotplug spare-ports='1'/>\n"
                         "  <vnic:reconnect mode='hub'/>\n</domain>\n");
    def->reconnect = VNIC_CONF_RECONNECT_DEFAULT;
    dev->nic->reconnect = VNIC_CONF_RECONNECT_DEFAULT;
    cleared = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    g_assert_null(strstr(cleared, "reconnect"));
}

/* The hot-plug formatter (vnic_conf_device_format) writes the NIC's own
 * element, with every flag. */
static void
test_format_interface(void)
{
    const char *snippet = "<interface type='direct' xmlns:vnic='urn:x-vnic:domain:1'>"
                          "<source dev='eth0' mode='bridge'/><model type='virtio'/>"
                          "<vnic:unplug guest='allow'/><vnic:reconnect mode='off'/>"
                          "</interface>";
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(NULL, snippet, strlen(snippet),
                                                              &error);

    g_assert_no_error(error);
    g_assert_cmpint(dev->nic->reconnect, ==, VNIC_CONF_RECONNECT_OFF);
    for (gsize i = 0; i < G_N_ELEMENTS(all_flags); i++) {
        g_autofree char *out = vnic_conf_device_format(dev, all_flags[i]);
        g_autoptr(GError) back_error = NULL;
        g_autoptr(VnicConfDevice) back = vnic_conf_interface_parse(NULL, out, strlen(out),
                                                                   &back_error);

        g_assert_cmpstr(out, ==,
                        "<interface type='direct' xmlns:vnic='urn:x-vnic:domain:1'>\n"
                        "  <source dev='eth0' mode='bridge'/>\n"
                        "  <model type='virtio'/>\n"
                        "  <vnic:unplug guest='allow'/>\n"
                        "  <vnic:reconnect mode='off'/>\n"
                        "</interface>\n");
        g_assert_no_error(back_error);
        g_assert_cmpint(back->nic->reconnect, ==, VNIC_CONF_RECONNECT_OFF);
    }
    /* one built by code gets vnic's namespace declared on it */
    {
        g_autoptr(VnicConfDevice) fresh = vnic_conf_device_new(VNIC_CONF_DEV_INTERFACE);
        g_autofree char *out = NULL;

        fresh->nic->type = VNIC_CONF_NIC_ETHERNET;
        fresh->nic->model = g_strdup("virtio");
        fresh->nic->reconnect = VNIC_CONF_RECONNECT_REPLUG;
        out = vnic_conf_device_format(fresh, VNIC_CONF_FORMAT_INACTIVE);
        assert_contains(out, "xmlns:vnic='urn:x-vnic:domain:1'");
        assert_contains(out, "  <vnic:reconnect mode='replug'/>\n</interface>\n");
    }
}

void
test_conf_reconnect_register(void)
{
    g_test_add_func("/conf/reconnect/names", test_names);
    g_test_add_func("/conf/reconnect/parse", test_parse);
    g_test_add_func("/conf/reconnect/effective-mode", test_effective_mode);
    g_test_add_func("/conf/reconnect/effective-mode-snippet", test_effective_mode_snippet);
    g_test_add_func("/conf/reconnect/format-roundtrip", test_format_roundtrip);
    g_test_add_func("/conf/reconnect/format-set-and-clear", test_format_set_and_clear);
    g_test_add_func("/conf/reconnect/format-interface", test_format_interface);
}
