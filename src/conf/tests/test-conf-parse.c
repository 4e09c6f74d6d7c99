/* test-conf-parse.c: what parsing yields (fields, libvirt's defaults,
 * implicit devices) and the small helpers of conf-domain.h. */
#include "test-conf-util.h"

#define NIC(inner) "<interface type='ethernet'>" inner "</interface>"

static void
test_minimal(void)
{
    g_autofree char *xml = tc_read_data("minimal-pc.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(xml);

    g_assert_cmpstr(def->type, ==, "kvm");
    g_assert_cmpstr(def->name, ==, "minimal");
    g_assert_null(def->uuid);
    g_assert_cmpuint(def->memory_kib, ==, 131072);
    g_assert_cmpuint(def->current_memory_kib, ==, 131072);
    g_assert_cmpuint(def->vcpus, ==, 1);
    g_assert_cmpstr(def->arch, ==, "x86_64");
    g_assert_cmpstr(def->machine, ==, "pc");
    g_assert_cmpint(def->family, ==, VNIC_MACHINE_PC);
    g_assert_false(def->acpi);
    g_assert_null(def->kernel);
    g_assert_null(def->emulator);
    g_assert_cmpint(def->spare_ports, ==, -1);
    g_assert_cmpint(def->guest_unplug, ==, VNIC_TRISTATE_ABSENT);
    g_assert_false(def->auto_acpi_index);
    g_assert_nonnull(def->doc);
}

static void
test_memory_units(void)
{
    static const struct {
        const char *unit;
        const char *value;
        guint64 kib;
    } cases[] = {
        { NULL, "2048", 2048 },      { "b", "1025", 2 },       { "bytes", "2048", 2 },
        { "byte", "1024", 1 },       { "KB", "1000", 977 },    { "KB", "2048", 2000 },
        { "k", "7", 7 },             { "KiB", "7", 7 },        { "MB", "1", 977 },
        { "M", "3", 3072 },          { "MiB", "3", 3072 },     { "GB", "1", 976563 },
        { "G", "2", 2097152 },       { "GiB", "2", 2097152 },  { "TB", "1", 976562500 },
        { "T", "1", 1073741824 },    { "TiB", "1", 1073741824 }, { "mib", "1", 1024 },
        { "kib", "1", 1 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *unit = cases[i].unit != NULL
                                    ? g_strdup_printf(" unit='%s'", cases[i].unit) : g_strdup("");
        g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>m</name>"
                                               "<memory%s>%s</memory><os><type>hvm</type></os>"
                                               "</domain>",
                                               unit, cases[i].value);
        g_autoptr(VnicConfDomain) def = tc_parse(xml);

        g_assert_cmpuint(def->memory_kib, ==, cases[i].kib);
        g_assert_cmpuint(def->current_memory_kib, ==, cases[i].kib);
    }
}

static void
test_domain_fields(void)
{
    const char *xml =
        "<domain type='qemu'><name> spaced name </name>"
        "<uuid>\n 5F0E5B8E-52B1-4B7E-9A3C-2D0C6F1A7B01 \n</uuid>"
        "<memory unit='MiB'> 256 </memory><currentMemory unit='MiB'>128</currentMemory>"
        "<vcpu placement='static'> 3 </vcpu>"
        "<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><kernel>/k</kernel>"
        "<initrd>/i</initrd><cmdline>a=1 b='2'</cmdline></os>"
        "<features><apic/><acpi/></features>"
        "<devices><emulator>/usr/bin/qemu</emulator></devices></domain>";
    g_autoptr(VnicConfDomain) def = tc_parse(xml);

    g_assert_cmpstr(def->name, ==, " spaced name ");
    g_assert_cmpstr(def->uuid, ==, "5f0e5b8e-52b1-4b7e-9a3c-2d0c6f1a7b01");
    g_assert_cmpuint(def->memory_kib, ==, 262144);
    g_assert_cmpuint(def->current_memory_kib, ==, 131072);
    g_assert_cmpuint(def->vcpus, ==, 3);
    g_assert_cmpstr(def->machine, ==, "pc-q35-7.2");
    g_assert_cmpint(def->family, ==, VNIC_MACHINE_Q35);
    g_assert_cmpstr(def->kernel, ==, "/k");
    g_assert_cmpstr(def->initrd, ==, "/i");
    g_assert_cmpstr(def->cmdline, ==, "a=1 b='2'");
    g_assert_true(def->acpi);
    g_assert_cmpstr(def->emulator, ==, "/usr/bin/qemu");
}

static void
test_uuid_forms(void)
{
    const char *xml = "<domain type='qemu'><name>u</name><memory>1</memory>"
                      "<uuid>5f0e5b8e52b14b7e9a3c2d0c6f1a7b01</uuid><os><type>hvm</type></os>"
                      "</domain>";
    g_autoptr(VnicConfDomain) def = tc_parse(xml);

    g_assert_cmpstr(def->uuid, ==, "5f0e5b8e-52b1-4b7e-9a3c-2d0c6f1a7b01");
}

static void
test_machines(void)
{
    static const struct {
        const char *machine;
        VnicMachineFamily family;
    } cases[] = {
        { "pc", VNIC_MACHINE_PC },           { "q35", VNIC_MACHINE_Q35 },
        { "pc-i440fx-7.2", VNIC_MACHINE_PC }, { "pc-i440fx-rhel7.6.0", VNIC_MACHINE_PC },
        { "pc-q35-7.2", VNIC_MACHINE_Q35 },  { "pc-1.0", VNIC_MACHINE_PC },
        { "pc-7.2", VNIC_MACHINE_PC },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VnicConfDomain) def = tc_parse_devices(cases[i].machine, "");

        g_assert_cmpstr(def->machine, ==, cases[i].machine);
        g_assert_cmpint(def->family, ==, cases[i].family);
    }
}

static void
test_hotplug(void)
{
    const char *xml = "<domain type='qemu' xmlns:h='urn:x-vnic:domain:1'><name>h</name>"
                      "<memory>1</memory><os><type>hvm</type></os>"
                      "<h:hotplug spare-ports='0' guest-unplug='allow' acpi-index='off'/>"
                      "</domain>";
    const char *xml2 = "<domain type='qemu'><name>h</name><memory>1</memory>"
                       "<os><type>hvm</type></os>"
                       "<hotplug xmlns='urn:x-vnic:domain:1' spare-ports='12' "
                       "guest-unplug='deny' acpi-index='auto'/></domain>";
    g_autoptr(VnicConfDomain) def = tc_parse(xml);
    g_autoptr(VnicConfDomain) def2 = tc_parse(xml2);

    g_assert_cmpint(def->spare_ports, ==, 0);
    g_assert_cmpint(def->guest_unplug, ==, VNIC_TRISTATE_YES);
    g_assert_false(def->auto_acpi_index);
    g_assert_cmpint(def2->spare_ports, ==, 12);
    g_assert_cmpint(def2->guest_unplug, ==, VNIC_TRISTATE_NO);
    g_assert_true(def2->auto_acpi_index);
}

/* A namespace vnic does not own is someone else's business: carried. */
static void
test_foreign_namespace_carried(void)
{
    const char *xml = "<domain type='qemu' xmlns:o='urn:other'><name>f</name><memory>1</memory>"
                      "<os><type>hvm</type></os><o:hotplug spare-ports='x'/></domain>";
    g_autoptr(VnicConfDomain) def = tc_parse(xml);

    g_assert_cmpint(def->spare_ports, ==, -1);
}

/* Every libvirt <interface type> parses, is a PCI device and is written
 * back as it came, <virtualport> included: vnic plan serves domains that
 * stay on libvirt; only the launcher refuses what vnicd cannot run. */
static void
test_interface_types_vnic_does_not_run(void)
{
    static const char *const types[] = { "user", "hostdev", "vdpa", "server", "client",
                                         "mcast", "udp", "internal", "null", "vds" };

    for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
        g_autofree char *nic = g_strdup_printf("<interface type='%s'><mac "
                                               "address='52:54:00:00:00:01'/></interface>",
                                               types[i]);
        g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", nic);
        VnicConfDevice *dev = NULL;
        g_autofree char *out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
        g_autofree char *want = g_strdup_printf("<interface type='%s'>", types[i]);

        for (guint d = 0; d < def->devices->len && dev == NULL; d++) {
            VnicConfDevice *candidate = g_ptr_array_index(def->devices, d);
            if (candidate->kind == VNIC_CONF_DEV_INTERFACE)
                dev = candidate;
        }
        g_assert_nonnull(dev);
        g_assert_cmpint(dev->nic->type, ==, VNIC_CONF_NIC_OTHER);
        g_assert_cmpstr(vnic_conf_nic_type_string(dev->nic), ==, types[i]);
        g_assert_true(vnic_conf_device_is_pci(dev));
        g_assert_nonnull(strstr(out, want));
    }
    {
        g_autoptr(VnicConfDomain) def = tc_parse_devices(
            "pc", "<interface type='bridge'><source bridge='br-int'/><virtualport "
                  "type='openvswitch'><parameters interfaceid='09b11c53-8b5c-4eeb-8f00-"
                  "d84eaa0aaa4f'/></virtualport></interface>");
        g_autofree char *out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);

        g_assert_nonnull(strstr(out, "<virtualport type='openvswitch'>"));
    }
}

static void
test_defaults_pc(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", "");
    VnicConfDevice *usb = g_ptr_array_index(def->devices, 0);
    VnicConfDevice *root = g_ptr_array_index(def->devices, 1);
    VnicConfDevice *balloon = g_ptr_array_index(def->devices, 2);

    g_assert_cmpuint(def->devices->len, ==, 3);
    g_assert_cmpint(usb->controller->type, ==, VNIC_CONF_CONTROLLER_USB);
    g_assert_cmpstr(usb->controller->model, ==, "piix3-uhci");
    g_assert_cmpint(root->controller->type, ==, VNIC_CONF_CONTROLLER_PCI);
    g_assert_cmpint(root->controller->pci_model, ==, VNIC_CONF_PCI_MODEL_PCI_ROOT);
    g_assert_cmpstr(root->controller->model, ==, "pci-root");
    g_assert_cmpuint(root->controller->index, ==, 0);
    g_assert_cmpint(balloon->kind, ==, VNIC_CONF_DEV_MEMBALLOON);
    g_assert_cmpstr(balloon->model, ==, "virtio");
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        g_assert_true(dev->added_by_vnic);
        g_assert_null(dev->node);
        g_assert_false(dev->addr.set);
    }
    /* libvirt 9.0 adds no IDE controller on pc (tests/data/libvirt) */
    g_assert_null(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_IDE, 0));
}

static void
test_defaults_q35(void)
{
    g_autoptr(VnicConfDomain) def =
        tc_parse_devices("q35", "<disk type='file'><target dev='vda'/></disk>"
                                "<controller type='virtio-serial'/>" NIC(""));
    static const VnicConfControllerType order[] = {
        VNIC_CONF_CONTROLLER_VIRTIO_SERIAL, VNIC_CONF_CONTROLLER_USB, VNIC_CONF_CONTROLLER_SATA,
        VNIC_CONF_CONTROLLER_PCI,
    };

    g_assert_cmpuint(def->devices->len, ==, 7);
    g_assert_cmpint(((VnicConfDevice *) g_ptr_array_index(def->devices, 0))->kind, ==,
                    VNIC_CONF_DEV_DISK);
    for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i + 1);

        g_assert_cmpint(dev->kind, ==, VNIC_CONF_DEV_CONTROLLER);
        g_assert_cmpint(dev->controller->type, ==, order[i]);
        g_assert_cmpint(dev->added_by_vnic, ==, i > 0);
    }
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 1)->controller->model, ==, "qemu-xhci");
    g_assert_cmpint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 3)->controller->pci_model, ==,
                    VNIC_CONF_PCI_MODEL_PCIE_ROOT);
    g_assert_cmpint(((VnicConfDevice *) g_ptr_array_index(def->devices, 5))->kind, ==,
                    VNIC_CONF_DEV_INTERFACE);
    g_assert_true(((VnicConfDevice *) g_ptr_array_index(def->devices, 6))->added_by_vnic);
}

/* What the user wrote stops libvirt's defaults: usb model none, balloon none. */
static void
test_defaults_present(void)
{
    g_autoptr(VnicConfDomain) def =
        tc_parse_devices("q35", "<controller type='usb' model='none'/>"
                                "<controller type='sata' index='0'/>"
                                "<controller type='pci' index='0' model='pcie-root'/>"
                                "<memballoon model='none'/>");

    g_assert_cmpuint(def->devices->len, ==, 4);
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        g_assert_false(dev->added_by_vnic);
        g_assert_false(vnic_conf_device_is_pci(dev) && dev->kind == VNIC_CONF_DEV_MEMBALLOON);
    }
    g_assert_false(vnic_conf_device_is_pci(g_ptr_array_index(def->devices, 0)));
}

static void
test_defaults_once(void)
{
    g_autofree char *xml = tc_read_example("cloudstack-pc.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(xml);
    guint len = def->devices->len;
    guint added = 0;
    g_autofree char *out = NULL;
    g_autoptr(VnicConfDomain) again = NULL;

    for (guint i = 0; i < len; i++)
        added += ((VnicConfDevice *) g_ptr_array_index(def->devices, i))->added_by_vnic;
    g_assert_cmpuint(added, ==, 1); /* pci-root: usb and balloon are in the file */
    vnic_conf_domain_add_defaults(def);
    vnic_conf_domain_add_defaults(def);
    g_assert_cmpuint(def->devices->len, ==, len);
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    again = tc_parse(out);
    g_assert_cmpuint(again->devices->len, ==, len);
    for (guint i = 0; i < len; i++)
        g_assert_false(((VnicConfDevice *) g_ptr_array_index(again->devices, i))->added_by_vnic);
}

/* Disks and virtio channels get the controllers they name, as in libvirt. */
static void
test_defaults_referenced_controllers(void)
{
    g_autoptr(VnicConfDomain) def =
        tc_parse_devices("pc", "<disk type='file'><target dev='hdc'/></disk>"
                               "<disk type='file'><target dev='sdb'/>"
                               "<address type='drive' controller='2'/></disk>"
                               "<disk type='file'><target dev='sdc' bus='sata'/></disk>"
                               "<channel type='unix'><target type='virtio' name='a'/></channel>");
    VnicConfDevice *scsi = vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_SCSI, 2);

    g_assert_nonnull(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_IDE, 0));
    g_assert_nonnull(scsi);
    g_assert_cmpstr(scsi->controller->model, ==, "lsilogic");
    g_assert_true(scsi->added_by_vnic);
    g_assert_null(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_SCSI, 0));
    g_assert_nonnull(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_SATA, 0));
    g_assert_nonnull(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_VIRTIO_SERIAL, 0));
}

static void
test_disks(void)
{
    g_autoptr(VnicConfDomain) def =
        tc_parse_devices("pc", "<disk type='file' device='disk'><source file='/a.img'/>"
                               "<target dev='vda'/></disk>"
                               "<disk type='block' device='cdrom'><source dev='/dev/sr0'/>"
                               "<target dev='sda'/></disk>"
                               "<disk><target dev='hda'/></disk>"
                               "<disk type='file'><target dev='sdb' bus='usb'/>"
                               "<address type='usb' bus='0' port='2'/></disk>"
                               "<disk type='file'><target dev='xvda' bus='sata'/></disk>");
    static const struct {
        const char *dev, *bus, *source;
        gboolean pci;
    } want[] = {
        { "vda", "virtio", "/a.img", TRUE }, { "sda", "scsi", "/dev/sr0", FALSE },
        { "hda", "ide", NULL, FALSE },       { "sdb", "usb", NULL, FALSE },
        { "xvda", "sata", NULL, FALSE },
    };

    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_DISK), ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        VnicConfDevice *dev = tc_nth(def, VNIC_CONF_DEV_DISK, i);

        g_assert_cmpstr(dev->disk->target_dev, ==, want[i].dev);
        g_assert_cmpstr(dev->disk->bus, ==, want[i].bus);
        g_assert_cmpstr(dev->disk->source_file, ==, want[i].source);
        g_assert_cmpint(vnic_conf_device_is_pci(dev), ==, want[i].pci);
        g_assert_false(dev->addr.set);
    }
}

static void
test_controllers(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "q35", "<controller type='pci' model='pcie-root-port'>"
               "<model name='pcie-root-port'/>"
               "<target chassis='7' port='0x1f' hotplug='off'/></controller>"
               "<controller type='pci'/>"
               "<controller type='pci' model='dmi-to-pci-bridge'/>"
               "<controller type='pci' index='9' model='pci-bridge'>"
               "<target chassisNr='9' busNr='9'/></controller>"
               "<controller type='pci' model='pcie-to-pci-bridge'/>"
               "<controller type='scsi'/><controller type='scsi' model='virtio-scsi'/>"
               "<controller type='usb'/><controller type='sata' model='ahci'/>"
               "<controller type='virtio-serial' ports='31'/>");
    VnicConfController *port = tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 0)->controller;
    VnicConfController *root = tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 1)->controller;

    g_assert_cmpuint(port->index, ==, 1);
    g_assert_cmpint(port->pci_model, ==, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT);
    g_assert_cmpstr(port->model_name, ==, "pcie-root-port");
    g_assert_cmpint(port->chassis, ==, 7);
    g_assert_cmpint(port->port, ==, 0x1f);
    g_assert_cmpint(port->bus_nr, ==, -1);
    g_assert_cmpint(port->hotplug, ==, VNIC_TRISTATE_NO);
    g_assert_cmpuint(root->index, ==, 0);
    g_assert_cmpint(root->pci_model, ==, VNIC_CONF_PCI_MODEL_PCIE_ROOT);
    g_assert_cmpstr(root->model, ==, "pcie-root");
    g_assert_cmpuint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 2)->controller->index, ==, 2);
    g_assert_cmpint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 3)->controller->bus_nr, ==, 9);
    g_assert_cmpint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 3)->controller->chassis_nr, ==, 9);
    g_assert_cmpint(port->chassis_nr, ==, -1);
    g_assert_cmpuint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 4)->controller->index, ==, 3);
    g_assert_cmpuint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 5)->controller->index, ==, 0);
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 5)->controller->model, ==, "lsilogic");
    g_assert_cmpuint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 6)->controller->index, ==, 1);
    /* libvirt 9.0: a listed q35 usb controller without model is piix3-uhci */
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 7)->controller->model, ==, "piix3-uhci");
    g_assert_cmpuint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 9)->controller->ports, ==, 31);
    /* nothing added: usb, sata and the root are all there */
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        g_assert_true(!dev->added_by_vnic || dev->kind == VNIC_CONF_DEV_MEMBALLOON);
    }
}

/* ich9 UHCI companions share the EHCI master's index. */
static void
test_usb_companions(void)
{
    g_autoptr(VnicConfDomain) def =
        tc_parse_devices("pc", "<controller type='usb' index='0' model='ich9-ehci1'/>"
                               "<controller type='usb' index='0' model='ich9-uhci1'>"
                               "<master startport='0'/></controller>"
                               "<controller type='usb' index='0' model='ich9-uhci2'>"
                               "<master startport='2'/></controller>");

    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_CONTROLLER), ==, 4);
}

static void
test_interface_fields(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<interface type='bridge'><mac address='52:54:00:AB:cd:EF'/>"
              "<source bridge='br0'/><target dev='tap-web0'/><model type='virtio'/>"
              "<driver name='vhost' queues='8'/><link state='down'/><mtu size='1400'/>"
              "<alias name='ua-web'/><acpi index='16383'/><vnic:unplug guest='deny'/>"
              "<address type='pci' domain='0x0000' bus='0' slot='0x1f' function='7' "
              "multifunction='off'/></interface>"
              "<interface type='direct'><source dev='eth0'/></interface>"
              "<interface type='direct'><source dev='eth0' mode='passthrough'/>"
              "<link state='up'/><vnic:unplug guest='allow'/></interface>");
    VnicConfDevice *dev = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    VnicConfNic *nic = dev->nic;
    VnicConfNic *direct = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 1)->nic;
    VnicConfNic *pass = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 2)->nic;
    const guint8 mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

    g_assert_true(vnic_conf_device_is_nic(dev));
    g_assert_cmpint(nic->type, ==, VNIC_CONF_NIC_BRIDGE);
    g_assert_true(nic->has_mac);
    g_assert_cmpmem(nic->mac, 6, mac, 6);
    g_assert_cmpstr(nic->source, ==, "br0");
    g_assert_null(nic->source_mode);
    g_assert_cmpstr(nic->target_dev, ==, "tap-web0");
    g_assert_cmpstr(nic->model, ==, "virtio");
    g_assert_cmpuint(nic->queues, ==, 8);
    g_assert_cmpint(nic->link_up, ==, VNIC_TRISTATE_NO);
    g_assert_cmpuint(nic->mtu, ==, 1400);
    g_assert_cmpuint(nic->acpi_index, ==, 16383);
    g_assert_cmpint(nic->guest_unplug, ==, VNIC_TRISTATE_NO);
    g_assert_cmpstr(dev->alias, ==, "ua-web");
    g_assert_true(dev->addr.set);
    g_assert_cmpuint(dev->addr.slot, ==, 0x1f);
    g_assert_cmpuint(dev->addr.function, ==, 7);
    g_assert_cmpint(dev->addr.multifunction, ==, VNIC_TRISTATE_NO);
    /* libvirt's defaults: no model is rtl8139 on x86, direct mode is vepa */
    g_assert_cmpint(direct->type, ==, VNIC_CONF_NIC_DIRECT);
    g_assert_cmpstr(direct->source, ==, "eth0");
    g_assert_cmpstr(direct->source_mode, ==, "vepa");
    g_assert_cmpstr(direct->model, ==, "rtl8139");
    g_assert_false(direct->has_mac);
    g_assert_null(direct->target_dev);
    g_assert_cmpuint(direct->queues, ==, 0);
    g_assert_cmpint(direct->link_up, ==, VNIC_TRISTATE_ABSENT);
    g_assert_cmpint(direct->guest_unplug, ==, VNIC_TRISTATE_ABSENT);
    g_assert_cmpstr(pass->source_mode, ==, "passthrough");
    g_assert_cmpint(pass->link_up, ==, VNIC_TRISTATE_YES);
    g_assert_cmpint(pass->guest_unplug, ==, VNIC_TRISTATE_YES);
}

static void
test_interface_models(void)
{
    static const char *const models[] = { "virtio", "virtio-transitional",
                                          "virtio-non-transitional", "e1000", "e1000e",
                                          "rtl8139", "vmxnet3", "ne2k_pci", "pcnet" };

    for (guint i = 0; i < G_N_ELEMENTS(models); i++) {
        g_autofree char *nic = g_strdup_printf(NIC("<model type='%s'/>"), models[i]);
        g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", nic);

        g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->nic->model, ==, models[i]);
    }
}

/* libvirt keeps a runtime name in status XML; vnic does too (format drops it). */
static void
test_interface_autogenerated_target_kept(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", NIC("<target dev='vnet7'/>"));

    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->nic->target_dev, ==, "vnet7");
}

static void
test_other_kinds(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "q35", "<video/><video><model type='ramfb'/></video><video><model type='qxl'/></video>"
               "<sound model='ich9'/><sound model='usb'/><sound model='es1370'/>"
               "<watchdog model='itco'/><watchdog model='i6300esb'/><watchdog model='ib700'/>"
               "<memballoon model='virtio-transitional'/>"
               "<rng model='virtio-non-transitional'><backend model='random'/></rng>"
               "<serial type='pty'/><console type='pty'/><channel type='spicevmc'/>"
               "<input type='mouse'/><input type='tablet'/><input type='passthrough'/>"
               "<input type='evdev'/><input type='keyboard' bus='virtio' model='virtio'/>"
               "<graphics type='spice'/><audio id='1' type='none'/><hub type='usb'/>"
               "<redirdev bus='usb' type='spicevmc'/><smartcard mode='passthrough'/>"
               "<tpm model='tpm-tis'/><panic model='isa'/><parallel type='pty'/>"
               "<lease><key>k</key></lease>");
    static const struct {
        VnicConfDeviceKind kind;
        const char *model;
        const char *bus;
        gboolean pci;
    } want[] = {
        { VNIC_CONF_DEV_VIDEO, "cirrus", NULL, TRUE },
        { VNIC_CONF_DEV_VIDEO, "ramfb", NULL, FALSE },
        { VNIC_CONF_DEV_VIDEO, "qxl", NULL, TRUE },
        { VNIC_CONF_DEV_SOUND, "ich9", NULL, TRUE },
        { VNIC_CONF_DEV_SOUND, "usb", NULL, FALSE },
        { VNIC_CONF_DEV_SOUND, "es1370", NULL, TRUE },
        { VNIC_CONF_DEV_WATCHDOG, "itco", NULL, FALSE },
        { VNIC_CONF_DEV_WATCHDOG, "i6300esb", NULL, TRUE },
        { VNIC_CONF_DEV_WATCHDOG, "ib700", NULL, FALSE },
        { VNIC_CONF_DEV_MEMBALLOON, "virtio-transitional", NULL, TRUE },
        { VNIC_CONF_DEV_RNG, "virtio-non-transitional", NULL, TRUE },
        { VNIC_CONF_DEV_SERIAL, NULL, NULL, FALSE },
        { VNIC_CONF_DEV_CONSOLE, NULL, NULL, FALSE },
        { VNIC_CONF_DEV_CHANNEL, NULL, NULL, FALSE },
        { VNIC_CONF_DEV_INPUT, NULL, "ps2", FALSE },
        { VNIC_CONF_DEV_INPUT, NULL, "usb", FALSE },
        { VNIC_CONF_DEV_INPUT, NULL, "virtio", TRUE },
        { VNIC_CONF_DEV_INPUT, NULL, NULL, FALSE },
        { VNIC_CONF_DEV_INPUT, "virtio", "virtio", TRUE },
    };
    guint first_other = 0;

    /* the implicit usb, sata and root controllers come first */
    while (((VnicConfDevice *) g_ptr_array_index(def->devices, first_other))->kind ==
           VNIC_CONF_DEV_CONTROLLER)
        first_other++;
    g_assert_cmpuint(first_other, ==, 3);
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, first_other + i);

        g_assert_cmpint(dev->kind, ==, want[i].kind);
        g_assert_cmpstr(dev->model, ==, want[i].model);
        g_assert_cmpstr(dev->bus, ==, want[i].bus);
        g_assert_cmpint(vnic_conf_device_is_pci(dev), ==, want[i].pci);
    }
    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_OTHER), ==, 9);
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == VNIC_CONF_DEV_OTHER)
            g_assert_false(vnic_conf_device_is_pci(dev));
    }
}

static void
test_addresses(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<video><address type='pci' domain='0' bus='0x00' slot='2' function='0x0'/></video>"
              "<rng model='virtio'><address type='pci' bus='255' slot='0X1F' "
              "multifunction='on'/><alias name='rng0'/></rng>"
              "<disk type='file'><target dev='sda' bus='sata'/>"
              "<address type='drive' controller='0' bus='0' unit='0'/></disk>"
              "<serial type='pty'><address type='isa' iobase='0x3f8'/></serial>"
              "<smartcard mode='passthrough'><address type='ccid' controller='0' slot='0'/>"
              "</smartcard>");
    VnicConfDevice *video = tc_nth(def, VNIC_CONF_DEV_VIDEO, 0);
    VnicConfDevice *rng = tc_nth(def, VNIC_CONF_DEV_RNG, 0);

    g_assert_true(video->addr.set);
    g_assert_cmpuint(video->addr.bus, ==, 0);
    g_assert_cmpuint(video->addr.slot, ==, 2);
    g_assert_cmpint(video->addr.multifunction, ==, VNIC_TRISTATE_ABSENT);
    g_assert_true(rng->addr.set);
    g_assert_cmpuint(rng->addr.bus, ==, 255);
    g_assert_cmpuint(rng->addr.slot, ==, 31);
    g_assert_cmpuint(rng->addr.function, ==, 0);
    g_assert_cmpint(rng->addr.multifunction, ==, VNIC_TRISTATE_YES);
    g_assert_cmpstr(rng->alias, ==, "rng0");
    g_assert_false(tc_nth(def, VNIC_CONF_DEV_DISK, 0)->addr.set);
    g_assert_false(tc_nth(def, VNIC_CONF_DEV_SERIAL, 0)->addr.set);
    g_assert_false(tc_nth(def, VNIC_CONF_DEV_OTHER, 0)->addr.set);
}

static void
test_examples(void)
{
    g_autofree char *pc_xml = tc_read_example("cloudstack-pc.xml");
    g_autofree char *q35_xml = tc_read_example("q35.xml");
    g_autoptr(VnicConfDomain) pc = tc_parse(pc_xml);
    g_autoptr(VnicConfDomain) q35 = tc_parse(q35_xml);

    g_assert_cmpstr(pc->name, ==, "cloudstack-pc");
    g_assert_cmpuint(pc->memory_kib, ==, 256 * 1024);
    g_assert_cmpstr(pc->kernel, ==, "build/guest/vmlinuz");
    g_assert_cmpstr(pc->cmdline, ==, "console=ttyS0 quiet panic=-1");
    g_assert_true(pc->acpi);
    g_assert_cmpuint(tc_count(pc, VNIC_CONF_DEV_INTERFACE), ==, 2);
    g_assert_cmpuint(tc_count(pc, VNIC_CONF_DEV_CONTROLLER), ==, 3);
    g_assert_cmpstr(tc_nth(pc, VNIC_CONF_DEV_CONTROLLER, 0)->controller->model, ==, "piix3-uhci");
    g_assert_cmpstr(tc_nth(pc, VNIC_CONF_DEV_VIDEO, 0)->model, ==, "cirrus");
    g_assert_cmpstr(tc_nth(pc, VNIC_CONF_DEV_WATCHDOG, 0)->model, ==, "i6300esb");
    g_assert_cmpint(q35->family, ==, VNIC_MACHINE_Q35);
    g_assert_cmpuint(tc_count(q35, VNIC_CONF_DEV_CONTROLLER), ==, 4);
    g_assert_cmpuint(tc_count(q35, VNIC_CONF_DEV_MEMBALLOON), ==, 1);
}

static void
test_maximal(void)
{
    g_autofree char *xml = tc_read_data("maximal-q35.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(xml);

    g_assert_cmpuint(def->memory_kib, ==, 2 * 1024 * 1024);
    g_assert_cmpuint(def->current_memory_kib, ==, 1536 * 1024);
    g_assert_cmpuint(def->vcpus, ==, 4);
    g_assert_cmpstr(def->uuid, ==, "5f0e5b8e-52b1-4b7e-9a3c-2d0c6f1a7b03");
    g_assert_cmpint(def->spare_ports, ==, 8);
    g_assert_cmpint(def->guest_unplug, ==, VNIC_TRISTATE_NO);
    g_assert_true(def->auto_acpi_index);
    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_INTERFACE), ==, 4);
    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_CONTROLLER), ==, 11);
    g_assert_cmpuint(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 3)->controller->index, ==, 3);
    for (guint i = 0; i < def->devices->len; i++)
        g_assert_false(((VnicConfDevice *) g_ptr_array_index(def->devices, i))->added_by_vnic);
}

static void
test_mac_helpers(void)
{
    static const char *const bad[] = { "", "52:54:00:00:00", "52:54:00:00:00:0", "52:54:00:00:00:001",
                                       "52-54-00-00-00-01", "52:54:00:00:00:0g", " 52:54:00:00:00:01",
                                       "52:54:00:00:00:01 ", "5:254:00:00:00:01" };
    guint8 mac[6] = { 0 };
    g_autofree char *text = NULL;

    g_assert_true(vnic_conf_mac_parse("52:54:00:Ab:cD:eF", mac));
    text = vnic_conf_mac_format(mac);
    g_assert_cmpstr(text, ==, "52:54:00:ab:cd:ef");
    g_assert_true(vnic_conf_mac_parse("01:00:5e:00:00:01", mac)); /* syntax only */
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_false(vnic_conf_mac_parse(bad[i], mac));
    g_assert_false(vnic_conf_mac_parse(NULL, mac));
    g_assert_cmpuint(mac[0], ==, 0x01); /* untouched on failure */
}

static void
test_autogenerated_names(void)
{
    static const char *const yes[] = { "vnet0", "vnet", "macvtap3", "macvlan1", "vif3.0",
                                       "vnetwork", "vif" };
    static const char *const no[] = { "tap-web0", "eth0", "myvnet0", "VNET0", "", "mvt0" };

    for (guint i = 0; i < G_N_ELEMENTS(yes); i++)
        g_assert_true(vnic_conf_name_is_autogenerated(yes[i]));
    for (guint i = 0; i < G_N_ELEMENTS(no); i++)
        g_assert_false(vnic_conf_name_is_autogenerated(no[i]));
    g_assert_false(vnic_conf_name_is_autogenerated(NULL));
}

static void
test_describe(void)
{
    g_autofree char *xml = tc_read_data("maximal-q35.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(xml);
    g_autoptr(VnicConfDevice) loose = vnic_conf_device_new(VNIC_CONF_DEV_INTERFACE);
    static const struct {
        VnicConfDeviceKind kind;
        guint n;
        const char *text;
    } cases[] = {
        { VNIC_CONF_DEV_INTERFACE, 1, "interface #2 (52:54:00:aa:00:02)" },
        { VNIC_CONF_DEV_INTERFACE, 3, "interface #4 (macvlan1)" },
        { VNIC_CONF_DEV_CONTROLLER, 1, "controller #2 (pci index 1)" },
        { VNIC_CONF_DEV_CONTROLLER, 10, "controller #11 (virtio-serial index 0)" },
        { VNIC_CONF_DEV_DISK, 1, "disk #2 (sda)" },
        { VNIC_CONF_DEV_SERIAL, 0, "serial #1 (serial0)" },
        { VNIC_CONF_DEV_CONSOLE, 0, "console #1" },
        { VNIC_CONF_DEV_WATCHDOG, 1, "watchdog #2 (i6300esb)" },
        { VNIC_CONF_DEV_OTHER, 0, "graphics #1" },
        { VNIC_CONF_DEV_OTHER, 4, "tpm #1" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text =
            vnic_conf_device_describe(def, tc_nth(def, cases[i].kind, cases[i].n));

        g_assert_cmpstr(text, ==, cases[i].text);
    }
    {
        g_autofree char *text = vnic_conf_device_describe(def, loose);

        g_assert_cmpstr(text, ==, "interface");
    }
}

static void
test_enum_strings(void)
{
    g_assert_cmpstr(vnic_conf_device_kind_to_string(VNIC_CONF_DEV_DISK), ==, "disk");
    g_assert_cmpstr(vnic_conf_device_kind_to_string(VNIC_CONF_DEV_MEMBALLOON), ==, "memballoon");
    g_assert_cmpstr(vnic_conf_device_kind_to_string(VNIC_CONF_DEV_OTHER), ==, "other");
    g_assert_cmpstr(vnic_conf_pci_model_to_string(VNIC_CONF_PCI_MODEL_NONE), ==, "none");
    g_assert_cmpstr(vnic_conf_pci_model_to_string(VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==,
                    "pcie-to-pci-bridge");
    g_assert_cmpstr(vnic_conf_pci_model_to_string(VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE), ==,
                    "dmi-to-pci-bridge");
    g_assert_cmpstr(vnic_conf_controller_type_to_string(VNIC_CONF_CONTROLLER_VIRTIO_SERIAL), ==,
                    "virtio-serial");
    g_assert_cmpstr(vnic_conf_controller_type_to_string(VNIC_CONF_CONTROLLER_IDE), ==, "ide");
}

static void
test_new_free(void)
{
    g_autoptr(VnicConfDomain) def = vnic_conf_domain_new();
    VnicConfDevice *ctrl = vnic_conf_device_new(VNIC_CONF_DEV_CONTROLLER);

    g_assert_cmpint(ctrl->controller->chassis, ==, -1);
    g_assert_cmpint(ctrl->controller->port, ==, -1);
    g_assert_cmpint(ctrl->controller->bus_nr, ==, -1);
    g_assert_cmpint(ctrl->controller->chassis_nr, ==, -1);
    g_ptr_array_add(def->devices, ctrl);
    g_assert_cmpint(def->spare_ports, ==, -1);
    g_assert_cmpuint(def->vcpus, ==, 1);
    vnic_conf_domain_free(NULL);
    vnic_conf_device_free(NULL);
    g_assert_true(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_PCI, 0) == ctrl);
    g_assert_false(vnic_conf_device_is_nic(ctrl));
    g_assert_false(vnic_conf_device_is_nic(NULL));
}

/* libvirt's live XML: the <console> of a serial port carries that port's
 * alias; vnic reads it as libvirt wrote it. */
static void
test_console_shares_serial_alias(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<serial type='pty'><target port='0'/><alias name='serial0'/></serial>"
              "<console type='pty'><target type='serial' port='0'/><alias name='serial0'/></console>");

    g_assert_nonnull(def);
}

void
test_conf_parse_register(void)
{
    g_test_add_func("/conf/parse/minimal", test_minimal);
    g_test_add_func("/conf/parse/memory-units", test_memory_units);
    g_test_add_func("/conf/parse/domain-fields", test_domain_fields);
    g_test_add_func("/conf/parse/uuid-forms", test_uuid_forms);
    g_test_add_func("/conf/parse/machines", test_machines);
    g_test_add_func("/conf/parse/hotplug", test_hotplug);
    g_test_add_func("/conf/parse/foreign-namespace", test_foreign_namespace_carried);
    g_test_add_func("/conf/parse/interface-types-not-run", test_interface_types_vnic_does_not_run);
    g_test_add_func("/conf/parse/defaults-pc", test_defaults_pc);
    g_test_add_func("/conf/parse/defaults-q35", test_defaults_q35);
    g_test_add_func("/conf/parse/defaults-present", test_defaults_present);
    g_test_add_func("/conf/parse/defaults-once", test_defaults_once);
    g_test_add_func("/conf/parse/defaults-referenced", test_defaults_referenced_controllers);
    g_test_add_func("/conf/parse/disks", test_disks);
    g_test_add_func("/conf/parse/controllers", test_controllers);
    g_test_add_func("/conf/parse/usb-companions", test_usb_companions);
    g_test_add_func("/conf/parse/interface", test_interface_fields);
    g_test_add_func("/conf/parse/interface-models", test_interface_models);
    g_test_add_func("/conf/parse/interface-runtime-target", test_interface_autogenerated_target_kept);
    g_test_add_func("/conf/parse/other-kinds", test_other_kinds);
    g_test_add_func("/conf/parse/addresses", test_addresses);
    g_test_add_func("/conf/parse/examples", test_examples);
    g_test_add_func("/conf/parse/maximal", test_maximal);
    g_test_add_func("/conf/helpers/mac", test_mac_helpers);
    g_test_add_func("/conf/helpers/autogenerated-names", test_autogenerated_names);
    g_test_add_func("/conf/helpers/describe", test_describe);
    g_test_add_func("/conf/helpers/enum-strings", test_enum_strings);
    g_test_add_func("/conf/helpers/new-free", test_new_free);
    g_test_add_func("/conf/parse/console-shares-serial-alias", test_console_shares_serial_alias);
}
