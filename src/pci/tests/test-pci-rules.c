/* test-pci-rules.c: the libvirt rules of issue #7 §1 as a user sees them
 * under vnic's own nic-first policy: guest names, hot-plug order, what the
 * planned XML says.  test-pci-libvirt.c checks the libvirt policy address
 * for address against libvirt 9.0 itself. */
#include "test-pci-helpers.h"

#include <string.h>

#define DATA(name) "tests/data/libvirt/" name ".in.xml"
#define NIC_FIRST VNIC_PCI_POLICY_NIC_FIRST
#define LIBVIRT VNIC_PCI_POLICY_LIBVIRT

/* virt-install and nova list bare root ports for hot-plug: NICs take them
 * in order and the next hot-plugged NIC continues the names. */
static void
test_listed_ports_in_order(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(DATA("q35-listedports"), NIC_FIRST);
    VnicConfPciAddr a;
    g_autofree char *next = next_name(def, &a);
    g_autofree char *after = NULL;

    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp1s0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 1), "enp2s0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 2), "enp3s0");
    g_assert_cmpstr(next, ==, "enp4s0");
    hotplug_nic(def, &a);
    after = next_name(def, &a);
    g_assert_cmpstr(after, ==, "enp5s0");
    /* the 10 listed ports are the capacity: 3 NICs + 7 spare; the disk,
     * balloon and usb get 3 more ports after them */
    g_assert_cmpuint(count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT), ==, 13);
    assert_addr(nth(def, VNIC_CONF_DEV_DISK, 0), "0000:0c:00.0");
    assert_unique_addresses(def);
}

/* Ports with addresses in reverse slot order: the NICs still get the
 * guest's first buses in order (enp1s0, enp2s0). */
static void
test_listed_ports_guest_order(void)
{
    g_autofree char *xml = domain_xml("q35", "<features><acpi/></features>",
        "<controller type='pci' index='1' model='pcie-root-port'>"
        "<address type='pci' bus='0' slot='2' function='2'/></controller>"
        "<controller type='pci' index='2' model='pcie-root-port'>"
        "<address type='pci' bus='0' slot='2' function='1'/></controller>"
        "<controller type='pci' index='3' model='pcie-root-port'>"
        "<address type='pci' bus='0' slot='2' function='0' multifunction='on'/></controller>"
        "<interface type='ethernet'><model type='virtio'/></interface>"
        "<interface type='ethernet'><model type='virtio'/></interface>"
        "<memballoon model='none'/><controller type='usb' model='none'/>");
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);
    g_autofree char *next = next_name(def, NULL);

    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 0), "0000:03:00.0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp1s0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 1), "enp2s0");
    g_assert_cmpstr(next, ==, "enp3s0");
}

/* Seven hot-plugs fill the seven spare listed ports, in name order. */
static void
test_listed_ports_capacity(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(DATA("q35-listedports"), NIC_FIRST);
    g_autoptr(GError) error = NULL;
    VnicConfPciAddr a;

    for (guint i = 4; i <= 10; i++) {
        g_autofree char *name = next_name(def, &a);
        g_autofree char *want = g_strdup_printf("enp%us0", i);

        g_assert_cmpstr(name, ==, want);
        hotplug_nic(def, &a);
    }
    g_assert_false(vnic_pci_next_nic_address(def, &a, &error));
    g_assert_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY);
}

/* An explicit spare count still holds on top of the listed ports. */
static void
test_listed_ports_explicit_spares(void)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, DATA("q35-listedports"), NULL);
    g_autofree char *xml = NULL;
    g_autoptr(VnicConfDomain) def = NULL;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    def = plan_xml(xml, NIC_FIRST, 12);
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp1s0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 2), "enp3s0");
    /* 3 NICs + 12 spares + 3 others */
    g_assert_cmpuint(count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT), ==, 18);
}

/* <graphics> without <video>: the implicit cirrus takes 00:02.0 on pc, so
 * NICs start at ens3 under both policies, and the XML shows the video. */
static void
test_graphics_adds_video(gconstpointer data)
{
    VnicPciPolicy policy = GPOINTER_TO_INT(data);
    g_autoptr(VnicConfDomain) def = plan_file(DATA("pc-graphics"), policy);
    g_autofree char *xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);

    assert_addr(nth(def, VNIC_CONF_DEV_VIDEO, 0), "0000:00:02.0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "ens3");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 1), "ens4");
    g_assert_nonnull(strstr(xml, "<model type='cirrus' vram='16384' heads='1' primary='yes'/>"));
}

static void
test_q35_graphics_video(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(DATA("q35-graphics"), NIC_FIRST);

    g_assert_cmpstr(nth(def, VNIC_CONF_DEV_VIDEO, 0)->model, ==, "cirrus");
    assert_addr(nth(def, VNIC_CONF_DEV_VIDEO, 0), "0000:00:01.0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp1s0");
}

/* EHCI + UHCI companions share one slot, written as libvirt writes them. */
static void
test_usb2_set(gconstpointer data)
{
    const char *const *c = data; /* file, slot of the set */
    g_autoptr(VnicConfDomain) def = plan_file(c[0], NIC_FIRST);
    g_autofree char *xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    g_autofree char *ehci = g_strdup_printf("0000:00:%s.7", c[1]);
    g_autofree char *uhci1 = g_strdup_printf("0000:00:%s.0", c[1]);
    g_autofree char *uhci3 = g_strdup_printf("0000:00:%s.2", c[1]);

    assert_addr(nth(def, VNIC_CONF_DEV_CONTROLLER, 0), ehci);
    assert_addr(nth(def, VNIC_CONF_DEV_CONTROLLER, 1), uhci1);
    assert_addr(nth(def, VNIC_CONF_DEV_CONTROLLER, 3), uhci3);
    g_assert_cmpint(nth(def, VNIC_CONF_DEV_CONTROLLER, 1)->addr.multifunction, ==,
                    VNIC_TRISTATE_YES);
    g_assert_nonnull(strstr(xml, "<master startport='4'/>"));
    assert_unique_addresses(def);
}

/* The dmi-to-pci-bridge takes 00:1e.0 under nic-first too. */
static void
test_dmi_bridge_slot(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(DATA("q35-dmi"), NIC_FIRST);

    assert_addr(nth(def, VNIC_CONF_DEV_CONTROLLER, 0), "0000:00:1e.0");
    assert_addr(nth(def, VNIC_CONF_DEV_CONTROLLER, 1), "0000:01:00.0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp1s0");
}

/* libvirt refuses a pcie-to-pci-bridge without root ports; it fits. */
static void
test_pcie_to_pci_bridge_alone(gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = plan_file(DATA("q35-pcie2pci"), GPOINTER_TO_INT(data));
    const VnicConfDevice *bridge = nth(def, VNIC_CONF_DEV_CONTROLLER, 0);

    g_assert_cmpint(bridge->controller->pci_model, ==, VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
    g_assert_true(bridge->addr.set);
    assert_unique_addresses(def);
}

/* Whatever the input, a planned PCI controller plugs into a bus with a
 * lower index (QEMU creates buses in index order), under both policies:
 * checked on every accepted case of tests/data/libvirt. */
static void
test_controllers_below_parents(void)
{
    g_autofree char *dir_path = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "libvirt", NULL);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *file;

    g_assert_nonnull(dir);
    while ((file = g_dir_read_name(dir))) {
        g_autofree char *rel = NULL;

        if (!g_str_has_suffix(file, ".in.xml") || g_str_has_prefix(file, "err-"))
            continue;
        rel = g_build_filename("tests", "data", "libvirt", file, NULL);
        for (VnicPciPolicy policy = NIC_FIRST; policy <= LIBVIRT; policy++) {
            g_autoptr(VnicConfDomain) def = plan_file(rel, policy);

            for (guint i = 0; i < def->devices->len; i++) {
                const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
                if (d->kind == VNIC_CONF_DEV_CONTROLLER &&
                    d->controller->type == VNIC_CONF_CONTROLLER_PCI && d->addr.set &&
                    d->addr.bus >= d->controller->index)
                    g_error("%s (%s): pci controller %u on bus %u", file,
                            vnic_pci_policy_to_string(policy), d->controller->index, d->addr.bus);
            }
        }
    }
}

/* libvirt puts a q35 pci-bridge with no PCI bus to go to on itself and
 * refuses; vnic gives it a root port and a pcie-to-pci-bridge. */
static void
test_lone_pci_bridge(gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = plan_file(DATA("q35-pcibridge-only"), GPOINTER_TO_INT(data));

    g_assert_cmpuint(count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCI_BRIDGE), ==, 1);
    g_assert_cmpuint(count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 1);
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->pci_model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE) {
            const VnicConfDevice *parent = vnic_conf_domain_find_controller(
                def, VNIC_CONF_CONTROLLER_PCI, d->addr.bus);
            g_assert_nonnull(parent);
            g_assert_cmpint(parent->controller->pci_model, ==, VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
        }
    }
    assert_unique_addresses(def);
}

void
register_rules_tests(void)
{
    g_test_add_func("/pci/rules/controllers-below-parents", test_controllers_below_parents);
    g_test_add_data_func("/pci/rules/lone-pci-bridge/nic-first", GINT_TO_POINTER(NIC_FIRST),
                         test_lone_pci_bridge);
    g_test_add_data_func("/pci/rules/lone-pci-bridge/libvirt", GINT_TO_POINTER(LIBVIRT),
                         test_lone_pci_bridge);
    static const char *const pc_usb2[] = { DATA("pc-usb2-nomaster"), "10" };
    static const char *const q35_usb2[] = { DATA("q35-usb2"), "1d" };

    g_test_add_func("/pci/rules/listed-ports-in-order", test_listed_ports_in_order);
    g_test_add_func("/pci/rules/listed-ports-capacity", test_listed_ports_capacity);
    g_test_add_func("/pci/rules/listed-ports-guest-order", test_listed_ports_guest_order);
    g_test_add_func("/pci/rules/listed-ports-explicit-spares", test_listed_ports_explicit_spares);
    g_test_add_data_func("/pci/rules/graphics-video/nic-first", GINT_TO_POINTER(NIC_FIRST),
                         test_graphics_adds_video);
    g_test_add_data_func("/pci/rules/graphics-video/libvirt", GINT_TO_POINTER(LIBVIRT),
                         test_graphics_adds_video);
    g_test_add_func("/pci/rules/q35-graphics-video", test_q35_graphics_video);
    g_test_add_data_func("/pci/rules/usb2-set/pc", pc_usb2, test_usb2_set);
    g_test_add_data_func("/pci/rules/usb2-set/q35", q35_usb2, test_usb2_set);
    g_test_add_func("/pci/rules/dmi-bridge-slot", test_dmi_bridge_slot);
    g_test_add_data_func("/pci/rules/pcie-to-pci-bridge-alone/nic-first",
                         GINT_TO_POINTER(NIC_FIRST), test_pcie_to_pci_bridge_alone);
    g_test_add_data_func("/pci/rules/pcie-to-pci-bridge-alone/libvirt",
                         GINT_TO_POINTER(LIBVIRT), test_pcie_to_pci_bridge_alone);
}
