/* test-pci-validate.c: every rule for user-given addresses, on both machine
 * types; each error must name the device, the address and the rule. */
#include "test-pci-helpers.h"

#include <string.h>

#define ADDR(bus, slot, fn) \
    "<address type='pci' domain='0x0000' bus='" bus "' slot='" slot "' function='" fn "'/>"
#define NIC_AT(addr) "<interface type='ethernet'><model type='virtio'/>" addr "</interface>"

typedef struct {
    const char *name;
    const char *machine;
    const char *devices;
    VnicPciErrorCode code;
    const char *expect[3];   /* substrings of the message */
} BadCase;

static const BadCase bad_cases[] = {
    { "duplicate", "pc",
      NIC_AT(ADDR("0x00", "0x05", "0x0")) NIC_AT(ADDR("0x00", "0x05", "0x0")),
      VNIC_PCI_ERROR_ADDRESS, { "interface #2", "0000:00:05.0", "already used by interface #1" } },
    /* 00:00.0 itself means "no address" (test_zero_address) */
    { "pc-slot-0", "pc", NIC_AT(ADDR("0x00", "0x00", "0x1")),
      VNIC_PCI_ERROR_ADDRESS, { "interface #1", "0000:00:00.1", "host bridge" } },
    { "q35-slot-0", "q35", NIC_AT(ADDR("0x00", "0x00", "0x2")),
      VNIC_PCI_ERROR_ADDRESS, { "interface #1", "host bridge" } },
    { "pc-piix3-slot", "pc", NIC_AT(ADDR("0x00", "0x01", "0x0")),
      VNIC_PCI_ERROR_ADDRESS, { "0000:00:01.0", "PIIX3" } },
    { "pc-piix3-ide", "pc", NIC_AT(ADDR("0x00", "0x01", "0x1")),
      VNIC_PCI_ERROR_ADDRESS, { "0000:00:01.1", "PIIX3 chipset's own" } },
    { "q35-ich9-slot", "q35", NIC_AT(ADDR("0x00", "0x1f", "0x0")),
      VNIC_PCI_ERROR_ADDRESS, { "0000:00:1f.0", "ICH9" } },
    { "q35-ich9-smbus", "q35", NIC_AT(ADDR("0x00", "0x1f", "0x3")),
      VNIC_PCI_ERROR_ADDRESS, { "0000:00:1f.3", "ICH9 chipset's own" } },
    { "root-port-slot-1", "q35",
      "<controller type='pci' index='1' model='pcie-root-port'/>" NIC_AT(ADDR("0x01", "0x01", "0x0")),
      VNIC_PCI_ERROR_ADDRESS, { "0000:01:01.0", "slots 0 to 0" } },
    { "bridge-slot-0", "pc",
      "<controller type='pci' index='1' model='pci-bridge'/>" NIC_AT(ADDR("0x01", "0x00", "0x0")),
      VNIC_PCI_ERROR_ADDRESS, { "0000:01:00.0", "slots 1 to 31" } },
    { "root-port-on-bridge", "q35",
      "<controller type='pci' index='1' model='dmi-to-pci-bridge'/>"
      "<controller type='pci' index='2' model='pcie-root-port'>" ADDR("0x01", "0x02", "0x0") "</controller>",
      VNIC_PCI_ERROR_ADDRESS, { "controller", "pcie-root-port cannot plug into a dmi-to-pci-bridge" } },
    { "bridge-on-pcie-root", "q35",
      "<controller type='pci' index='1' model='pci-bridge'>" ADDR("0x00", "0x03", "0x0") "</controller>",
      VNIC_PCI_ERROR_ADDRESS, { "pci-bridge cannot plug into a pcie-root" } },
    { "controller-loop", "pc",
      "<controller type='pci' index='1' model='pci-bridge'>" ADDR("0x02", "0x01", "0x0") "</controller>"
      "<controller type='pci' index='2' model='pci-bridge'>" ADDR("0x01", "0x01", "0x0") "</controller>",
      VNIC_PCI_ERROR_ADDRESS, { "lower index" } },
    /* QEMU refuses to start it ("single function device"), libvirt 9.0
     * accepts it at define (err-pc-mfoff) */
    { "function-with-multifunction-off", "pc",
      "<interface type='ethernet'><model type='virtio'/>"
      "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0' multifunction='off'/>"
      "</interface>" NIC_AT(ADDR("0x00", "0x05", "0x1")),
      VNIC_PCI_ERROR_ADDRESS, { "interface #2", "0000:00:05.1", "multifunction='off'" } },
    { "q35-denied-on-hotplug-port", "q35",
      "<controller type='pci' index='1' model='pcie-root-port'/>"
      "<interface type='ethernet' xmlns:vnic='urn:x-vnic:domain:1'><model type='virtio'/>"
      "<vnic:unplug guest='deny'/>" ADDR("0x01", "0x00", "0x0") "</interface>",
      VNIC_PCI_ERROR_UNPLUG, { "interface #1", "guest unplug is denied", "hot-pluggable" } },
    /* pc: a per-NIC deny is a pci-bridge without hot-plug, never pci.0 */
    { "pc-per-device-deny-on-root", "pc",
      "<interface type='ethernet' xmlns:vnic='urn:x-vnic:domain:1'><model type='virtio'/>"
      "<vnic:unplug guest='deny'/>" ADDR("0x00", "0x05", "0x0") "</interface>",
      VNIC_PCI_ERROR_UNPLUG, { "interface #1", "guest unplug is denied", "pci-bridge" } },
    /* and the pci-bridges lose hot-plug: an allowed NIC cannot sit there */
    { "pc-per-device-deny-allowed-on-bridge", "pc",
      "<controller type='pci' index='1' model='pci-bridge'/>"
      "<interface type='ethernet' xmlns:vnic='urn:x-vnic:domain:1'><model type='virtio'/>"
      "<vnic:unplug guest='deny'/></interface>" NIC_AT(ADDR("0x01", "0x03", "0x0")),
      VNIC_PCI_ERROR_UNPLUG, { "interface #2", "allowed", "pci.0 only" } },
    { "pc-per-device-deny-bridge-hotplug-on", "pc",
      "<controller type='pci' index='1' model='pci-bridge'><target hotplug='on'/></controller>"
      "<interface type='ethernet' xmlns:vnic='urn:x-vnic:domain:1'><model type='virtio'/>"
      "<vnic:unplug guest='deny'/></interface>",
      VNIC_PCI_ERROR_UNPLUG, { "controller", "hotplug='on'", "every pci-bridge" } },
};

static void
test_bad_case(gconstpointer data)
{
    const BadCase *c = data;
    g_autofree char *xml = domain_xml(c->machine, "<features><acpi/></features>", c->devices);
    g_autofree char *msg = plan_error(xml, VNIC_PCI_POLICY_NIC_FIRST, -1, c->code);

    for (guint i = 0; i < G_N_ELEMENTS(c->expect) && c->expect[i]; i++) {
        if (!strstr(msg, c->expect[i]))
            g_error("message \"%s\" lacks \"%s\"", msg, c->expect[i]);
    }
    /* the libvirt policy applies the same rules */
    g_free(plan_error(xml, VNIC_PCI_POLICY_LIBVIRT, -1, c->code));
}

/* Things that look odd but are allowed for user-given addresses, as in
 * libvirt: an integrated endpoint on pcie.0, a legacy NIC in a PCIe port. */
static void
test_lenient_endpoint_placement(void)
{
    g_autofree char *xml = domain_xml("q35", "<features><acpi/></features>",
        NIC_AT(ADDR("0x00", "0x05", "0x0"))
        "<controller type='pci' index='1' model='pcie-root-port'/>"
        "<interface type='ethernet'><model type='e1000'/>" ADDR("0x01", "0x00", "0x0") "</interface>");
    g_autoptr(VnicConfDomain) def = plan_xml(xml, VNIC_PCI_POLICY_NIC_FIRST, 0);

    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 0), "0000:00:05.0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp0s5");
    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 1), "0000:01:00.0");
}

static void
test_multifunction_allowed(void)
{
    g_autofree char *xml = domain_xml("pc", "<features><acpi/></features>",
        "<interface type='ethernet'><model type='virtio'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0' multifunction='on'/>"
        "</interface>" NIC_AT(ADDR("0x00", "0x05", "0x1")));
    g_autoptr(VnicConfDomain) def = plan_xml(xml, VNIC_PCI_POLICY_NIC_FIRST, -1);

    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 1), "0000:00:05.1");
}

/* libvirt's lenient readings (tests/data/libvirt: pc-zeroaddr,
 * pc-mfimplicit, pc-nofn0, q35-1f4, pc-busgap): 00:00.0 is no address,
 * a missing multifunction='on' is filled in, a function without function 0
 * and a free function of the chipset slot are kept with a warning, a bus
 * nobody defined gets its controllers. */
static void
test_zero_address(void)
{
    g_autofree char *xml = domain_xml("pc", "<features><acpi/></features>",
                                      NIC_AT(ADDR("0x00", "0x00", "0x0")));
    g_autoptr(VnicConfDomain) def = plan_xml(xml, VNIC_PCI_POLICY_NIC_FIRST, -1);

    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 0), "0000:00:03.0");
}

static void
test_multifunction_filled_in(void)
{
    g_autofree char *xml = domain_xml("pc", "<features><acpi/></features>",
        NIC_AT(ADDR("0x00", "0x05", "0x0")) NIC_AT(ADDR("0x00", "0x05", "0x1")));
    g_autoptr(VnicConfDomain) def = plan_xml(xml, VNIC_PCI_POLICY_NIC_FIRST, -1);
    g_autofree char *out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);

    g_assert_cmpint(nth(def, VNIC_CONF_DEV_INTERFACE, 0)->addr.multifunction, ==, VNIC_TRISTATE_YES);
    g_assert_nonnull(strstr(out, "slot='0x05' function='0x0' multifunction='on'"));
}

static void
test_kept_with_warning(gconstpointer data)
{
    const char *const *c = data; /* machine, devices, expected warning */
    g_autofree char *xml = domain_xml(c[0], "<features><acpi/></features>", c[1]);
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = parse_or_die(xml);
    VnicPciPlanOptions opts = { .policy = VNIC_PCI_POLICY_NIC_FIRST, .spare_ports = -1,
                                .warnings = warnings };

    g_assert_true(vnic_pci_plan(def, &opts, &error));
    g_assert_cmpuint(warnings->len, ==, 1);
    if (!strstr(g_ptr_array_index(warnings, 0), c[2]))
        g_error("warning \"%s\" lacks \"%s\"", (char *)g_ptr_array_index(warnings, 0), c[2]);
}

static void
test_missing_bus_added(void)
{
    g_autofree char *xml = domain_xml("pc", "<features><acpi/></features>",
                                      NIC_AT(ADDR("0x03", "0x01", "0x0")));
    g_autoptr(VnicConfDomain) def = plan_xml(xml, VNIC_PCI_POLICY_NIC_FIRST, -1);

    g_assert_cmpuint(count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCI_BRIDGE), ==, 3);
    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 0), "0000:03:01.0");
}

void
register_validate_tests(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/pci/validate/%s", bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad_case);
    }
    g_test_add_func("/pci/validate/lenient-endpoints", test_lenient_endpoint_placement);
    g_test_add_func("/pci/validate/multifunction-allowed", test_multifunction_allowed);
    g_test_add_func("/pci/validate/zero-address", test_zero_address);
    g_test_add_func("/pci/validate/multifunction-filled-in", test_multifunction_filled_in);
    g_test_add_func("/pci/validate/missing-bus-added", test_missing_bus_added);
    {
        static const char *const no_fn0[] = { "pc", NIC_AT(ADDR("0x00", "0x06", "0x1")),
                                              "0000:00:06.1: function 0 of this slot is empty" };
        static const char *const q35_1f4[] = { "q35", NIC_AT(ADDR("0x00", "0x1f", "0x4")),
                                               "0000:00:1f.4: a free function of the chipset" };
        g_test_add_data_func("/pci/validate/warn-no-function-0", no_fn0, test_kept_with_warning);
        g_test_add_data_func("/pci/validate/warn-chipset-slot", q35_1f4, test_kept_with_warning);
    }
}
