/* test-pci-placement.c: where devices land under nic-first, which names the
 * guest gives them, what the next hot-plugged NIC gets, and capacity. */
#include "test-pci-helpers.h"

#define NIC_FIRST VNIC_PCI_POLICY_NIC_FIRST
#define LIBVIRT VNIC_PCI_POLICY_LIBVIRT

static const char *const CLOUDSTACK = "examples/cloudstack-pc.xml";
static const char *const Q35 = "examples/q35.xml";

static void
test_cloudstack_nic_first(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(CLOUDSTACK, NIC_FIRST);
    g_autofree char *next = NULL;

    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 0), "0000:00:03.0");
    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 1), "0000:00:04.0");
    assert_addr(nth(def, VNIC_CONF_DEV_VIDEO, 0), "0000:00:02.0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "ens3");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 1), "ens4");
    /* no other device anywhere in slots 3–0xf */
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->addr.set && d->kind != VNIC_CONF_DEV_INTERFACE && d->addr.bus == 0)
            g_assert_true(d->addr.slot < 3 || d->addr.slot >= 0x10);
    }
    next = next_name(def, NULL);
    g_assert_cmpstr(next, ==, "ens5");
    assert_unique_addresses(def);
}

static void
test_cloudstack_libvirt_next_is_ens9(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(CLOUDSTACK, LIBVIRT);
    g_autofree char *next = next_name(def, NULL);

    g_assert_cmpstr(next, ==, "ens9");
}

/* Hot-plug sequence on pc: ens5, ens6; unplug ens5, the next is ens5 again. */
static void
test_pc_hotplug_sequence(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(CLOUDSTACK, NIC_FIRST);
    VnicConfPciAddr a;
    g_autofree char *third = next_name(def, &a);
    g_autofree char *fourth = NULL;
    g_autofree char *again = NULL;

    g_assert_cmpstr(third, ==, "ens5");
    hotplug_nic(def, &a);
    fourth = next_name(def, &a);
    g_assert_cmpstr(fourth, ==, "ens6");
    hotplug_nic(def, &a);
    g_ptr_array_remove(def->devices, nth(def, VNIC_CONF_DEV_INTERFACE, 2));
    again = next_name(def, NULL);
    g_assert_cmpstr(again, ==, "ens5");
}

static void
test_q35_nic_first_names_and_spares(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(Q35, NIC_FIRST);
    g_autoptr(GError) error = NULL;
    VnicConfPciAddr a;

    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp1s0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 1), "enp2s0");
    assert_addr(nth(def, VNIC_CONF_DEV_VIDEO, 0), "0000:00:01.0");
    /* 8 spare ports: 8 hot-plugs in a row get enp3s0 … enp10s0 */
    for (guint i = 0; i < VNIC_PCI_DEFAULT_SPARE_PORTS; i++) {
        g_autofree char *want = g_strdup_printf("enp%us0", i + 3);
        g_autofree char *got = next_name(def, &a);
        g_assert_cmpstr(got, ==, want);
        g_assert_cmpuint(a.slot, ==, 0);
        hotplug_nic(def, &a);
    }
    /* the 9th fails with the capacity error, which says how to get more */
    g_assert_false(vnic_pci_next_nic_address(def, &a, &error));
    g_assert_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY);
    g_assert_nonnull(strstr(error->message, "spare-ports"));
}

static void
test_q35_spare_ports_option(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(Q35, NIC_FIRST);
    g_autofree char *xml = domain_xml("q35", "<vnic:hotplug xmlns:vnic='urn:x-vnic:domain:1' spare-ports='3'/>",
                                      "<interface type='ethernet'><model type='virtio'/></interface>");
    g_autoptr(VnicConfDomain) three = plan_xml(xml, NIC_FIRST, -1);
    g_autoptr(VnicConfDomain) twenty = plan_xml(xml, NIC_FIRST, 20);

    /* 2 NICs + 8 spares + disk, virtio-serial, balloon, xhci */
    g_assert_cmpuint(count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT), ==, 2 + 8 + 4);
    /* the domain's setting, then the caller's overrides it */
    g_assert_cmpuint(count_pci_controllers(three, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT), ==, 1 + 3 + 2);
    g_assert_cmpuint(count_pci_controllers(twenty, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT), ==, 1 + 20 + 2);
}

/* Root ports are packed 8 to a slot with libvirt's chassis/port numbers. */
static void
test_q35_root_port_numbering(void)
{
    g_autoptr(VnicConfDomain) def = plan_file(Q35, NIC_FIRST);
    const VnicConfDevice *first = NULL, *ninth = NULL;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind != VNIC_CONF_DEV_CONTROLLER || d->controller->pci_model != VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT)
            continue;
        if (d->controller->index == 1)
            first = d;
        if (d->controller->index == 9)
            ninth = d;
        g_assert_cmpint(d->controller->chassis, ==, (gint)d->controller->index);
        g_assert_cmpint(d->controller->port, ==, (gint)(d->addr.slot << 3 | d->addr.function));
    }
    assert_addr(first, "0000:00:02.0");
    g_assert_cmpint(first->addr.multifunction, ==, VNIC_TRISTATE_YES);
    assert_addr(ninth, "0000:00:03.0");
}

static void
test_pc_user_address_kept(void)
{
    g_autofree char *xml = domain_xml("pc", "<features><acpi/></features>",
        "<interface type='ethernet'><model type='virtio'/></interface>"
        "<interface type='ethernet'><model type='virtio'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></interface>"
        "<interface type='ethernet'><model type='virtio'/></interface>"
        "<disk type='file' device='disk'><source file='/x'/><target dev='vda' bus='virtio'/></disk>");
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);

    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 0), "0000:00:03.0");
    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 1), "0000:00:07.0");
    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 2), "0000:00:04.0");
    assert_addr(nth(def, VNIC_CONF_DEV_DISK, 0), "0000:00:10.0");
}

static void
test_acpi_index_auto(void)
{
    g_autofree char *nics = nics_xml(2, "virtio");
    g_autofree char *xml = domain_xml("pc",
        "<features><acpi/></features><vnic:hotplug xmlns:vnic='urn:x-vnic:domain:1' acpi-index='auto'/>", nics);
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);

    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "eno1");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 1), "eno2");
    g_assert_cmpuint(vnic_pci_next_acpi_index(def), ==, 3);
}

static void
test_names_without_acpi(void)
{
    g_autofree char *nics = nics_xml(1, "virtio");
    g_autofree char *xml = domain_xml("pc", "", nics);
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);
    g_autoptr(GError) error = NULL;
    VnicConfPciAddr a;

    /* no ACPI: no hot-plug slots, so only the path name */
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp0s3");
    g_assert_false(vnic_pci_next_nic_address(def, &a, &error));
    g_assert_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_HOTPLUG);
    g_assert_nonnull(strstr(error->message, "<acpi/>"));
}

/* Guest-unplug denied: q35 makes such NICs integrated endpoints on pcie.0. */
static void
test_q35_unplug_denied_is_integrated(void)
{
    g_autofree char *xml = domain_xml("q35", "<features><acpi/></features>",
        "<interface type='ethernet' xmlns:vnic='urn:x-vnic:domain:1'><model type='virtio'/>"
        "<vnic:unplug guest='deny'/></interface>"
        "<interface type='ethernet'><model type='virtio'/></interface>");
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, 1);
    const VnicConfDevice *fixed = nth(def, VNIC_CONF_DEV_INTERFACE, 0);

    g_assert_cmpuint(fixed->addr.bus, ==, 0);
    assert_name(def, fixed, "enp0s30");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 1), "enp1s0");
}

static void
test_pc_domain_unplug_denied(void)
{
    g_autofree char *nics = nics_xml(2, "virtio");
    g_autofree char *xml = domain_xml("pc",
        "<features><acpi/></features><vnic:hotplug xmlns:vnic='urn:x-vnic:domain:1' guest-unplug='deny'/>", nics);
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);
    g_autoptr(GError) error = NULL;
    VnicConfPciAddr a;
    const VnicConfDevice *root = vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_PCI, 0);

    /* the whole root bus loses ACPI hot-plug: no slot names, no hot-plug */
    g_assert_cmpint(root->controller->hotplug, ==, VNIC_TRISTATE_NO);
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp0s3");
    g_assert_false(vnic_pci_next_nic_address(def, &a, &error));
    g_assert_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_HOTPLUG);
}

/* pc, one NIC's guest unplug denied: it goes behind a pci-bridge without
 * hot-plug in the highest root slot; pci.0 keeps hot-plug for the others. */
static void
test_pc_nic_unplug_denied(void)
{
    g_autofree char *xml = domain_xml("pc", "<features><acpi/></features>",
        "<interface type='ethernet'><model type='virtio'/></interface>"
        "<interface type='ethernet' xmlns:vnic='urn:x-vnic:domain:1'><model type='virtio'/>"
        "<vnic:unplug guest='deny'/></interface>"
        "<interface type='ethernet'><model type='virtio'/></interface>");
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);
    g_autoptr(GError) error = NULL;
    VnicConfPciAddr a;
    const VnicConfDevice *root = vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_PCI, 0);
    const VnicConfDevice *bridge = vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_PCI, 1);

    g_assert_cmpint(root->controller->hotplug, !=, VNIC_TRISTATE_NO);
    g_assert_nonnull(bridge);
    g_assert_cmpint(bridge->controller->pci_model, ==, VNIC_CONF_PCI_MODEL_PCI_BRIDGE);
    g_assert_cmpint(bridge->controller->hotplug, ==, VNIC_TRISTATE_NO);
    assert_addr(bridge, "0000:00:1f.0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "ens3");
    assert_addr(nth(def, VNIC_CONF_DEV_INTERFACE, 1), "0000:01:01.0");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 2), "ens4");
    /* hot-plug: pci.0 only, never the bridge */
    g_assert_true(vnic_pci_next_nic_address(def, &a, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(a.bus, ==, 0);
    g_assert_cmpuint(a.slot, ==, 5);
    /* the libvirt policy does not protect NICs: refused, not left unprotected */
    g_free(plan_error(xml, LIBVIRT, -1, VNIC_PCI_ERROR_UNPLUG));
}

static void
test_pc_1000_nics(void)
{
    g_autofree char *nics = nics_xml(1000, "virtio");
    g_autofree char *xml = domain_xml("pc", "<features><acpi/></features>", nics);
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);

    assert_unique_addresses(def);
    g_assert_cmpuint(count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCI_BRIDGE), >=, 33);
    /* NICs keep document order on the root bus from ens3, around the balloon
     * at 0x10, up to ens30; 0x1f holds the first bridge, the others nest
     * below it and the rest of the NICs follow behind them */
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "ens3");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 12), "ens15");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 13), "ens17");
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 26), "ens30");
    g_assert_cmpuint(count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCI_BRIDGE), <=, 34);
    for (guint i = 0; i < 1000; i++)
        g_assert_true(nth(def, VNIC_CONF_DEV_INTERFACE, i)->addr.set);
}

static void
test_q35_200_nics_and_beyond(void)
{
    g_autofree char *nics = nics_xml(200, "virtio");
    g_autofree char *xml = domain_xml("q35", "<features><acpi/></features>", nics);
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);
    g_autofree char *many = nics_xml(240, "virtio");
    g_autofree char *too_many = domain_xml("q35", "<features><acpi/></features>", many);
    g_autofree char *msg = NULL;

    assert_unique_addresses(def);
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 199), "enp200s0");
    msg = plan_error(too_many, NIC_FIRST, -1, VNIC_PCI_ERROR_CAPACITY);
    g_assert_nonnull(strstr(msg, "240 NICs"));
    g_assert_nonnull(strstr(msg, "spare"));
}

static void
test_q35_legacy_nic_on_root_port(void)
{
    g_autofree char *nics = nics_xml(1, "e1000");
    g_autofree char *xml = domain_xml("q35", "<features><acpi/></features>", nics);
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, -1);

    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp1s0");
}

/* Firmware numbers buses depth-first in slot order, not by index. */
static void
test_guest_bus_numbers_follow_enumeration(void)
{
    g_autofree char *xml = domain_xml("q35", "<features><acpi/></features>",
        "<controller type='usb' model='none'/><memballoon model='none'/>"
        "<controller type='pci' index='1' model='pcie-root-port'>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></controller>"
        "<controller type='pci' index='2' model='pcie-root-port'>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></controller>"
        "<interface type='ethernet'><model type='virtio'/>"
        "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></interface>");
    g_autoptr(VnicConfDomain) def = plan_xml(xml, NIC_FIRST, 0);

    g_assert_cmpint(vnic_pci_guest_bus_number(def, 2), ==, 1);
    g_assert_cmpint(vnic_pci_guest_bus_number(def, 1), ==, 2);
    assert_name(def, nth(def, VNIC_CONF_DEV_INTERFACE, 0), "enp2s0");
}

static void
test_check_hotplug_address(void)
{
    g_autoptr(VnicConfDomain) pc = plan_file(CLOUDSTACK, NIC_FIRST);
    g_autoptr(VnicConfDomain) q35 = plan_file(Q35, NIC_FIRST);
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    VnicConfPciAddr free_slot = { .set = TRUE, .slot = 5 };
    VnicConfPciAddr used = { .set = TRUE, .slot = 3 };
    VnicConfPciAddr fn1 = { .set = TRUE, .slot = 6, .function = 1 };
    VnicConfPciAddr root = { .set = TRUE, .slot = 9 };

    g_assert_true(vnic_pci_check_hotplug_address(pc, &free_slot, NULL));
    g_assert_false(vnic_pci_check_hotplug_address(pc, &used, &e1));
    g_assert_nonnull(strstr(e1->message, "interface #1"));
    g_assert_false(vnic_pci_check_hotplug_address(pc, &fn1, &e2));
    g_assert_false(vnic_pci_check_hotplug_address(q35, &root, &e3));
    g_assert_error(e3, VNIC_PCI_ERROR, VNIC_PCI_ERROR_HOTPLUG);
}

void
register_placement_tests(void)
{
    g_test_add_func("/pci/nic-first/cloudstack-pc", test_cloudstack_nic_first);
    g_test_add_func("/pci/libvirt/cloudstack-next-is-ens9", test_cloudstack_libvirt_next_is_ens9);
    g_test_add_func("/pci/hotplug/pc-sequence", test_pc_hotplug_sequence);
    g_test_add_func("/pci/hotplug/q35-spares", test_q35_nic_first_names_and_spares);
    g_test_add_func("/pci/nic-first/q35-spare-ports-option", test_q35_spare_ports_option);
    g_test_add_func("/pci/nic-first/q35-root-port-numbering", test_q35_root_port_numbering);
    g_test_add_func("/pci/nic-first/pc-user-address", test_pc_user_address_kept);
    g_test_add_func("/pci/names/acpi-index-auto", test_acpi_index_auto);
    g_test_add_func("/pci/names/no-acpi", test_names_without_acpi);
    g_test_add_func("/pci/unplug/q35-denied-integrated", test_q35_unplug_denied_is_integrated);
    g_test_add_func("/pci/unplug/pc-domain-denied", test_pc_domain_unplug_denied);
    g_test_add_func("/pci/unplug/pc-nic-denied-behind-bridge", test_pc_nic_unplug_denied);
    g_test_add_func("/pci/capacity/pc-1000-nics", test_pc_1000_nics);
    g_test_add_func("/pci/capacity/q35-200-nics", test_q35_200_nics_and_beyond);
    g_test_add_func("/pci/nic-first/q35-legacy-nic", test_q35_legacy_nic_on_root_port);
    g_test_add_func("/pci/names/guest-bus-enumeration", test_guest_bus_numbers_follow_enumeration);
    g_test_add_func("/pci/hotplug/check-address", test_check_hotplug_address);
}
