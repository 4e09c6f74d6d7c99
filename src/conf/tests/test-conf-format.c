/* test-conf-format.c: formatting, flags, round trips, what is carried
 * verbatim, interface snippets and MAC assignment. */
#include "test-conf-util.h"

static const char *const data_files[] = {
    "data:minimal-pc.xml", "data:maximal-q35.xml", "data:pc-legacy.xml",
    "example:cloudstack-pc.xml", "example:q35.xml",
};

static char *
read_named(const char *spec)
{
    if (g_str_has_prefix(spec, "data:"))
        return tc_read_data(spec + 5);
    return tc_read_example(spec + 8);
}

static char *
parse_format(const char *xml, VnicConfFormatFlags flags)
{
    g_autoptr(VnicConfDomain) def = tc_parse(xml);

    return vnic_conf_domain_format(def, flags);
}

/* Golden files: what vnic writes for the data files, reviewed by hand. */
static void
test_golden(void)
{
    static const struct {
        const char *in, *out;
        VnicConfFormatFlags flags;
    } cases[] = {
        { "minimal-pc.xml", "minimal-pc.out.xml", VNIC_CONF_FORMAT_STATUS },
        { "pc-legacy.xml", "pc-legacy.out.xml", VNIC_CONF_FORMAT_STATUS },
        { "maximal-q35.xml", "maximal-q35.out.xml", VNIC_CONF_FORMAT_STATUS },
        { "maximal-q35.xml", "maximal-q35.inactive.xml", VNIC_CONF_FORMAT_INACTIVE },
        { "maximal-q35.xml", "maximal-q35.inactive.xml", VNIC_CONF_FORMAT_MIGRATABLE },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *in = tc_read_data(cases[i].in);
        g_autofree char *want = tc_read_data(cases[i].out);
        g_autofree char *got = parse_format(in, cases[i].flags);

        if (g_strcmp0(got, want) != 0)
            g_error("%s formatted with flags %d differs from %s:\n%s", cases[i].in,
                    cases[i].flags, cases[i].out, got);
    }
}

/* format(parse(format(parse(x)))) == format(parse(x)), for every flag. */
static void
test_round_trip(void)
{
    static const VnicConfFormatFlags flags[] = {
        VNIC_CONF_FORMAT_STATUS, VNIC_CONF_FORMAT_INACTIVE, VNIC_CONF_FORMAT_MIGRATABLE,
        VNIC_CONF_FORMAT_INACTIVE | VNIC_CONF_FORMAT_MIGRATABLE,
    };

    for (guint i = 0; i < G_N_ELEMENTS(data_files); i++) {
        g_autofree char *xml = read_named(data_files[i]);

        for (guint j = 0; j < G_N_ELEMENTS(flags); j++) {
            g_autofree char *once = parse_format(xml, flags[j]);
            g_autofree char *twice = parse_format(once, flags[j]);

            g_assert_cmpstr(twice, ==, once);
        }
    }
}

static void
assert_contains(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        g_error("output lacks \"%s\":\n%s", needle, text);
}

static void
assert_lacks(const char *text, const char *needle)
{
    if (strstr(text, needle) != NULL)
        g_error("output has \"%s\":\n%s", needle, text);
}

static void
test_carried_verbatim(void)
{
    g_autofree char *xml = tc_read_data("maximal-q35.xml");
    g_autofree char *out = parse_format(xml, VNIC_CONF_FORMAT_INACTIVE);
    static const char *const kept[] = {
        "<title>All the things</title>",
        "&amp; &lt;tag&gt; &quot;quoted&quot; &apos;single&apos;",
        "    <app:info xmlns:app='http://example.com/app/1'>\n"
        "      <app:owner id='42'>ops</app:owner>\n",
        "<app:tag>web</app:tag>",
        "  <cpu mode='custom' match='exact' check='none'>\n"
        "    <model fallback='forbid'>qemu64</model>\n"
        "    <feature policy='require' name='x2apic'/>\n"
        "  </cpu>\n",
        "<timer name='hpet' present='no'/>",
        "<vcpu placement='static' current='2'>4</vcpu>",
        "<memoryBacking>\n    <hugepages/>\n  </memoryBacking>",
        "<on_crash>destroy</on_crash>",
        "<suspend-to-disk enabled='no'/>",
        "<boot dev='hd'/>",
        "<vmport state='off'/>",
        "<seclabel type='none' model='none'/>",
        "<qemu:commandline>\n    <qemu:arg value='-no-user-config'/>\n  </qemu:commandline>",
        "<interface type='bridge' trustGuestRxFilters='yes'>",
        "<mac address='52:54:00:aa:00:02' type='static'/>",
        "<bandwidth>\n        <inbound average='1000' peak='5000' burst='1024'/>",
        "<vlan>\n        <tag id='42'/>\n      </vlan>",
        "<boot order='2'/>",
        "<rom bar='off'/>",
        "<driver name='vhost' queues='4' rx_queue_size='1024'/>",
        "<coalesce>\n        <rx>\n          <frames max='7'/>",
        "<target dev='vnet0' managed='no'/>",
        "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>",
        "<tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>",
        "<redirdev bus='usb' type='spicevmc'/>",
        "<backend model='random'>/dev/urandom</backend>",
        "<model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/>",
        "<address type='drive' controller='0' bus='0' target='0' unit='0'/>",
        "<address type='virtio-serial' controller='0' bus='0' port='1'/>",
        "<address type='usb' bus='0' port='1'/>",
        "<target chassisNr='5'/>",
        "<driver queues='4'/>",
        "<controller type='usb' index='0' model='qemu-xhci' ports='15'/>",
        "<stats period='10'/>",
        "<codec type='micro'/>",
    };

    for (guint i = 0; i < G_N_ELEMENTS(kept); i++)
        assert_contains(out, kept[i]);
    assert_lacks(out, "<!--");
    assert_lacks(out, "<?xml");
}

static void
test_runtime_data_flags(void)
{
    g_autofree char *xml = tc_read_data("maximal-q35.xml");
    g_autofree char *status = parse_format(xml, VNIC_CONF_FORMAT_STATUS);
    static const char *const runtime[] = {
        "macvtap3", "macvlan1", "<alias name='net0'/>", "<alias name='net2'/>",
        "<alias name='serial0'/>",
    };
    /* managed='no' names a tap someone else made: never runtime data */
    static const char *const persistent[] = {
        "<target dev='vnet0' managed='no'/>", "<target dev='tap-web0'/>", "<alias name='ua-web'/>", "<alias name='ua-root'/>",
    };
    static const VnicConfFormatFlags flags[] = {
        VNIC_CONF_FORMAT_INACTIVE, VNIC_CONF_FORMAT_MIGRATABLE,
    };

    for (guint i = 0; i < G_N_ELEMENTS(runtime); i++)
        assert_contains(status, runtime[i]);
    for (guint i = 0; i < G_N_ELEMENTS(persistent); i++)
        assert_contains(status, persistent[i]);
    for (guint f = 0; f < G_N_ELEMENTS(flags); f++) {
        g_autofree char *out = parse_format(xml, flags[f]);

        for (guint i = 0; i < G_N_ELEMENTS(runtime); i++)
            assert_lacks(out, runtime[i]);
        for (guint i = 0; i < G_N_ELEMENTS(persistent); i++)
            assert_contains(out, persistent[i]);
        /* nothing else goes: same number of devices, addresses kept */
        assert_contains(out, "bus='0x01' slot='0x00' function='0x0'");
        assert_contains(out, "<acpi index='1'/>");
    }
}

/* The domain-level fields are written from the struct. */
static void
test_edit_domain_fields(void)
{
    g_autofree char *xml = tc_read_example("cloudstack-pc.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(xml);
    g_autofree char *out = NULL;
    g_autoptr(VnicConfDomain) back = NULL;

    g_free(def->name);
    def->name = g_strdup("renamed & <escaped>");
    g_clear_pointer(&def->uuid, g_free);
    def->memory_kib = 524288;
    def->current_memory_kib = 262144;
    def->vcpus = 2;
    g_free(def->machine);
    def->machine = g_strdup("pc-i440fx-7.2");
    g_clear_pointer(&def->kernel, g_free);
    g_free(def->cmdline);
    def->cmdline = g_strdup("console=ttyS0 x='1' y=\"2\"");
    def->acpi = FALSE;
    g_free(def->emulator);
    def->emulator = g_strdup("/opt/qemu");
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    assert_contains(out, "<name>renamed &amp; &lt;escaped&gt;</name>");
    assert_lacks(out, "<uuid>");
    assert_contains(out, "<memory unit='KiB'>524288</memory>\n"
                         "  <currentMemory unit='KiB'>262144</currentMemory>\n  <vcpu>2</vcpu>");
    assert_contains(out, "<type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>\n"
                         "    <initrd>build/guest/initrd.img</initrd>");
    assert_lacks(out, "<kernel>");
    assert_lacks(out, "<acpi/>");
    assert_contains(out, "<features>\n    <apic/>\n  </features>");
    assert_contains(out, "<devices>\n    <emulator>/opt/qemu</emulator>\n    <disk");
    back = tc_parse(out);
    g_assert_cmpstr(back->name, ==, def->name);
    g_assert_cmpstr(back->cmdline, ==, def->cmdline);
    g_assert_cmpuint(back->current_memory_kib, ==, 262144);
    g_assert_false(back->acpi);
    def->acpi = TRUE;
    g_clear_pointer(&out, g_free);
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    assert_contains(out, "<features>\n    <acpi/>\n    <apic/>\n  </features>");
}

/* <features><acpi/> is created where libvirt puts it when code asks. */
static void
test_edit_acpi_created(void)
{
    g_autofree char *xml = tc_read_data("minimal-pc.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(xml);
    g_autofree char *out = NULL;

    def->acpi = TRUE;
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    assert_contains(out, "  </os>\n  <features>\n    <acpi/>\n  </features>\n  <devices>\n");
}

/* Modeled children are updated in place or put where libvirt puts them. */
static void
test_edit_interface(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<interface type='ethernet'><bandwidth><inbound average='1'/></bandwidth>"
              "<model type='virtio'/><rom bar='off'/></interface>"
              "<interface type='direct'><mac address='52:54:00:00:00:09'/>"
              "<source dev='eth0' mode='vepa'/><target dev='macvtap0'/><alias name='net1'/>"
              "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>"
              "</interface>");
    VnicConfDevice *a = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    VnicConfDevice *b = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 1);
    g_autofree char *out_a = NULL;
    g_autofree char *out_b = NULL;

    a->nic->has_mac = TRUE;
    memcpy(a->nic->mac, (guint8[]) { 0x52, 0x54, 0x00, 0x01, 0x02, 0x03 }, 6);
    a->nic->target_dev = g_strdup("vnet5");
    a->nic->queues = 2;
    a->nic->link_up = VNIC_TRISTATE_NO;
    a->nic->mtu = 1500;
    a->nic->acpi_index = 7;
    a->nic->guest_unplug = VNIC_TRISTATE_NO;
    a->alias = g_strdup("net0");
    a->addr = (VnicConfPciAddr) { TRUE, 0, 0, 5, 0, VNIC_TRISTATE_YES };
    out_a = vnic_conf_device_format(a, VNIC_CONF_FORMAT_STATUS);
    g_assert_cmpstr(out_a, ==,
                    "<interface type='ethernet' xmlns:vnic='urn:x-vnic:domain:1'>\n"
                    "  <mac address='52:54:00:01:02:03'/>\n"
                    "  <bandwidth>\n    <inbound average='1'/>\n  </bandwidth>\n"
                    "  <target dev='vnet5'/>\n"
                    "  <model type='virtio'/>\n"
                    "  <driver queues='2'/>\n"
                    "  <link state='down'/>\n"
                    "  <mtu size='1500'/>\n"
                    "  <alias name='net0'/>\n"
                    "  <acpi index='7'/>\n"
                    "  <rom bar='off'/>\n"
                    "  <vnic:unplug guest='deny'/>\n"
                    "  <address type='pci' domain='0x0000' bus='0x00' slot='0x05' "
                    "function='0x0' multifunction='on'/>\n"
                    "</interface>\n");
    /* clearing fields removes what vnic models, nothing else */
    b->nic->has_mac = FALSE;
    g_free(b->nic->source_mode);
    b->nic->source_mode = g_strdup("private");
    g_clear_pointer(&b->nic->target_dev, g_free);
    g_clear_pointer(&b->alias, g_free);
    b->addr.set = FALSE;
    out_b = vnic_conf_device_format(b, VNIC_CONF_FORMAT_STATUS);
    g_assert_cmpstr(out_b, ==,
                    "<interface type='direct'>\n"
                    "  <source dev='eth0' mode='private'/>\n"
                    "  <model type='rtl8139'/>\n"
                    "</interface>\n");
}

/* What the planner adds looks like libvirt's. */
static void
test_added_controller(void)
{
    g_autoptr(VnicConfDevice) dev = vnic_conf_device_new(VNIC_CONF_DEV_CONTROLLER);
    g_autofree char *out = NULL;

    dev->added_by_vnic = TRUE;
    dev->controller->type = VNIC_CONF_CONTROLLER_PCI;
    dev->controller->index = 1;
    dev->controller->pci_model = VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT;
    dev->controller->model_name = g_strdup("pcie-root-port");
    dev->controller->chassis = 1;
    dev->controller->port = 0x10;
    dev->addr = (VnicConfPciAddr) { TRUE, 0, 0, 2, 0, VNIC_TRISTATE_YES };
    out = vnic_conf_device_format(dev, VNIC_CONF_FORMAT_INACTIVE);
    g_assert_cmpstr(out, ==,
                    "<controller type='pci' index='1' model='pcie-root-port'>\n"
                    "  <model name='pcie-root-port'/>\n"
                    "  <target chassis='1' port='0x10'/>\n"
                    "  <address type='pci' domain='0x0000' bus='0x00' slot='0x02' "
                    "function='0x0' multifunction='on'/>\n"
                    "</controller>\n");
}

/* A pci-bridge the planner adds, as libvirt writes it on pc. */
static void
test_added_bridge(void)
{
    g_autoptr(VnicConfDevice) dev = vnic_conf_device_new(VNIC_CONF_DEV_CONTROLLER);
    g_autofree char *out = NULL;

    dev->added_by_vnic = TRUE;
    dev->controller->type = VNIC_CONF_CONTROLLER_PCI;
    dev->controller->index = 2;
    dev->controller->pci_model = VNIC_CONF_PCI_MODEL_PCI_BRIDGE;
    dev->controller->model_name = g_strdup("pci-bridge");
    dev->controller->chassis_nr = 2;
    dev->addr = (VnicConfPciAddr) { TRUE, 0, 0, 4, 0, VNIC_TRISTATE_ABSENT };
    out = vnic_conf_device_format(dev, VNIC_CONF_FORMAT_INACTIVE);
    g_assert_cmpstr(out, ==,
                    "<controller type='pci' index='2' model='pci-bridge'>\n"
                    "  <model name='pci-bridge'/>\n"
                    "  <target chassisNr='2'/>\n"
                    "  <address type='pci' domain='0x0000' bus='0x00' slot='0x04' "
                    "function='0x0'/>\n"
                    "</controller>\n");
}

/* Inserted after the last controller, formatted where def->devices says. */
static void
test_planner_insertion(void)
{
    g_autofree char *xml = tc_read_example("q35.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(xml);
    VnicConfDevice *port = vnic_conf_device_new(VNIC_CONF_DEV_CONTROLLER);
    g_autofree char *out = NULL;
    g_autoptr(VnicConfDomain) back = NULL;
    guint pos = 0;

    for (guint i = 0; i < def->devices->len; i++) {
        if (((VnicConfDevice *) g_ptr_array_index(def->devices, i))->kind == VNIC_CONF_DEV_CONTROLLER)
            pos = i + 1;
    }
    port->added_by_vnic = TRUE;
    port->controller->type = VNIC_CONF_CONTROLLER_PCI;
    port->controller->index = 1;
    port->controller->pci_model = VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT;
    port->controller->hotplug = VNIC_TRISTATE_YES;
    g_ptr_array_insert(def->devices, (gint) pos, port);
    tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->addr = (VnicConfPciAddr) { TRUE, 0, 1, 0, 0, 0 };
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    assert_contains(out, "    <controller type='pci' index='0' model='pcie-root'/>\n"
                         "    <controller type='pci' index='1' model='pcie-root-port'>\n"
                         "      <target hotplug='on'/>\n"
                         "    </controller>\n"
                         "    <interface type='ethernet'>\n"
                         "      <mac address='52:54:00:35:00:01'/>\n"
                         "      <model type='virtio'/>\n"
                         "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' "
                         "function='0x0'/>\n");
    back = tc_parse(out);
    g_assert_cmpuint(back->devices->len, ==, def->devices->len);
}

/* A device of @kind filled in as code (the planner, the API) would. */
static VnicConfDevice *
build_device(VnicConfDeviceKind kind)
{
    VnicConfDevice *dev = vnic_conf_device_new(kind);

    switch (kind) {
    case VNIC_CONF_DEV_DISK:
        dev->disk->bus = g_strdup("virtio");
        dev->disk->target_dev = g_strdup("vda");
        dev->disk->source_file = g_strdup("/x.img");
        break;
    case VNIC_CONF_DEV_INTERFACE:
        dev->nic->type = VNIC_CONF_NIC_BRIDGE;
        dev->nic->source = g_strdup("br0");
        dev->nic->model = g_strdup("virtio");
        dev->nic->guest_unplug = VNIC_TRISTATE_YES;
        break;
    case VNIC_CONF_DEV_SOUND:
        dev->model = g_strdup("ich9");
        break;
    case VNIC_CONF_DEV_WATCHDOG:
        dev->model = g_strdup("i6300esb");
        break;
    case VNIC_CONF_DEV_VIDEO:
    case VNIC_CONF_DEV_RNG:
        dev->model = g_strdup("virtio");
        break;
    case VNIC_CONF_DEV_INPUT:
        dev->bus = g_strdup("virtio");
        break;
    default:
        break;
    }
    return dev;
}

/* A domain built by code (no document) formats and parses back. */
static void
test_built_by_code(void)
{
    g_autoptr(VnicConfDomain) def = vnic_conf_domain_new();
    g_autoptr(VnicConfDomain) back = NULL;
    g_autofree char *out = NULL;
    g_autofree char *tree = NULL;
    g_autofree char *again = NULL;
    static const VnicConfDeviceKind kinds[] = {
        VNIC_CONF_DEV_DISK, VNIC_CONF_DEV_VIDEO, VNIC_CONF_DEV_SOUND, VNIC_CONF_DEV_RNG,
        VNIC_CONF_DEV_WATCHDOG, VNIC_CONF_DEV_SERIAL, VNIC_CONF_DEV_CONSOLE,
        VNIC_CONF_DEV_CHANNEL, VNIC_CONF_DEV_INPUT, VNIC_CONF_DEV_INTERFACE, VNIC_CONF_DEV_OTHER,
    };

    def->type = g_strdup("kvm");
    def->name = g_strdup("built");
    def->memory_kib = 65536;
    def->family = VNIC_MACHINE_Q35;
    def->acpi = TRUE;
    def->spare_ports = 4;
    def->auto_acpi_index = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
        g_ptr_array_add(def->devices, build_device(kinds[i]));
    vnic_conf_domain_add_defaults(def);
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    tree = vnic_conf_domain_format_tree(def, VNIC_CONF_FORMAT_STATUS);
    g_assert_cmpstr(out, ==, tree);
    assert_contains(out, "<domain type='kvm' xmlns:vnic='urn:x-vnic:domain:1'>\n"
                         "  <name>built</name>\n"
                         "  <memory unit='KiB'>65536</memory>\n"
                         "  <currentMemory unit='KiB'>65536</currentMemory>\n"
                         "  <vcpu>1</vcpu>\n"
                         "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n"
                         "  <features>\n    <acpi/>\n  </features>\n  <devices>\n");
    assert_contains(out, "<rng model='virtio'>\n      <backend model='random'>/dev/urandom"
                         "</backend>\n    </rng>");
    assert_contains(out, "  </devices>\n  <vnic:hotplug spare-ports='4' acpi-index='auto'/>\n"
                         "</domain>\n");
    back = tc_parse(out);
    g_assert_cmpuint(back->devices->len, ==, def->devices->len - 1); /* OTHER has no element */
    g_assert_cmpint(back->spare_ports, ==, 4);
    g_assert_true(back->auto_acpi_index);
    g_assert_cmpint(tc_nth(back, VNIC_CONF_DEV_INTERFACE, 0)->nic->guest_unplug, ==,
                    VNIC_TRISTATE_YES);
    again = vnic_conf_domain_format(back, VNIC_CONF_FORMAT_STATUS);
    g_assert_cmpstr(again, ==, out);
}

static void
test_other_without_node(void)
{
    g_autoptr(VnicConfDevice) dev = vnic_conf_device_new(VNIC_CONF_DEV_OTHER);
    g_autofree char *out = vnic_conf_device_format(dev, VNIC_CONF_FORMAT_STATUS);

    g_assert_cmpstr(out, ==, "");
}

/* vnic's elements keep the user's prefix; new ones are declared once. */
static void
test_namespaces(void)
{
    g_autofree char *legacy = tc_read_data("pc-legacy.xml");
    g_autofree char *out = parse_format(legacy, VNIC_CONF_FORMAT_INACTIVE);
    g_autofree char *min_xml = tc_read_data("minimal-pc.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(min_xml);
    g_autofree char *out2 = NULL;

    assert_contains(out, "<domain type='qemu' xmlns:h='urn:x-vnic:domain:1'>");
    assert_contains(out, "<h:unplug guest='allow'/>");
    assert_contains(out, "<h:hotplug guest-unplug='allow'/>\n</domain>");
    assert_lacks(out, "xmlns:vnic");
    def->guest_unplug = VNIC_TRISTATE_NO;
    tc_nth(def, VNIC_CONF_DEV_MEMBALLOON, 0)->alias = g_strdup("ua-balloon");
    out2 = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    assert_contains(out2, "<domain type='kvm' xmlns:vnic='urn:x-vnic:domain:1'>");
    assert_contains(out2, "  <vnic:hotplug guest-unplug='deny'/>\n</domain>");
    assert_contains(out2, "<memballoon model='virtio'>\n      <alias name='ua-balloon'/>\n");
}

/* The prefix "vnic" taken by someone else: vnic's elements get another. */
static void
test_namespace_prefix_taken(void)
{
    const char *xml = "<domain type='qemu' xmlns:vnic='urn:other'><name>p</name>"
                      "<memory>1024</memory><os><type>hvm</type></os>"
                      "<vnic:thing a='1'/></domain>";
    g_autoptr(VnicConfDomain) def = tc_parse(xml);
    g_autofree char *out = NULL;
    g_autoptr(VnicConfDomain) back = NULL;

    def->spare_ports = 2;
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    assert_contains(out, "<domain type='qemu' xmlns:vnic='urn:other' "
                         "xmlns:vnic1='urn:x-vnic:domain:1'>");
    assert_contains(out, "  <vnic:thing a='1'/>\n  <devices>\n");
    assert_contains(out, "  </devices>\n  <vnic1:hotplug spare-ports='2'/>\n</domain>");
    back = tc_parse(out);
    g_assert_cmpint(back->spare_ports, ==, 2);
}

/* Text and attributes with XML's special characters survive. */
static void
test_escaping(void)
{
    const char *xml =
        "<domain type='qemu'><name>a&amp;b</name><memory>1</memory>"
        "<description>line one\nline &lt;two&gt;\ttab</description>"
        "<os><type>hvm</type><cmdline>x='1' y=\"2\" &amp; z&gt;0</cmdline></os>"
        "<devices><disk type='file'><source file='/a b/&apos;q&quot;.img' extra='x&#10;y&#9;z'/>"
        "<target dev='vda'/></disk></devices></domain>";
    g_autofree char *out = parse_format(xml, VNIC_CONF_FORMAT_STATUS);
    g_autoptr(VnicConfDomain) back = tc_parse(out);
    g_autofree char *again = vnic_conf_domain_format(back, VNIC_CONF_FORMAT_STATUS);

    g_assert_cmpstr(back->name, ==, "a&b");
    g_assert_cmpstr(back->cmdline, ==, "x='1' y=\"2\" & z>0");
    g_assert_cmpstr(tc_nth(back, VNIC_CONF_DEV_DISK, 0)->disk->source_file, ==, "/a b/'q\".img");
    assert_contains(out, "<source file='/a b/&apos;q&quot;.img' extra='x&#10;y&#9;z'/>");
    assert_contains(out, "<description>line one\nline &lt;two&gt;\ttab</description>");
    g_assert_cmpstr(again, ==, out);
}

static void
test_interface_snippet(void)
{
    g_autofree char *xml = tc_read_example("cloudstack-pc.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(xml);
    g_autoptr(GError) error = NULL;
    const char *snippet = "<interface type='bridge' xmlns:vnic='urn:x-vnic:domain:1'>\n"
                          "  <mac address='52:54:00:c5:00:03'/>\n"
                          "  <source bridge='cloudbr0'/>\n"
                          "  <model type='virtio'/>\n"
                          "  <bandwidth><outbound average='10'/></bandwidth>\n"
                          "  <vnic:unplug guest='deny'/>\n"
                          "</interface>";
    VnicConfDevice *dev = vnic_conf_interface_parse(def, snippet, strlen(snippet), &error);
    g_autofree char *alone = NULL;
    g_autofree char *whole = NULL;

    g_assert_no_error(error);
    g_assert_nonnull(dev);
    g_assert_nonnull(dev->doc);
    g_assert_true(dev->node == xmlDocGetRootElement(dev->doc));
    g_assert_cmpint(dev->nic->type, ==, VNIC_CONF_NIC_BRIDGE);
    g_assert_cmpstr(dev->nic->source, ==, "cloudbr0");
    g_assert_cmpint(dev->nic->guest_unplug, ==, VNIC_TRISTATE_NO);
    alone = vnic_conf_device_format(dev, VNIC_CONF_FORMAT_INACTIVE);
    g_assert_cmpstr(alone, ==,
                    "<interface type='bridge' xmlns:vnic='urn:x-vnic:domain:1'>\n"
                    "  <mac address='52:54:00:c5:00:03'/>\n"
                    "  <source bridge='cloudbr0'/>\n"
                    "  <model type='virtio'/>\n"
                    "  <bandwidth>\n    <outbound average='10'/>\n  </bandwidth>\n"
                    "  <vnic:unplug guest='deny'/>\n"
                    "</interface>\n");
    /* attach: the device joins the domain and is written with it */
    dev->addr = (VnicConfPciAddr) { TRUE, 0, 0, 9, 0, 0 };
    g_ptr_array_add(def->devices, dev);
    whole = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    assert_contains(whole, "<domain type='qemu' xmlns:vnic='urn:x-vnic:domain:1'>\n");
    assert_contains(whole, "    <interface type='bridge'>\n"
                           "      <mac address='52:54:00:c5:00:03'/>\n");
    assert_contains(whole, "      <vnic:unplug guest='deny'/>\n      <address type='pci' "
                           "domain='0x0000' bus='0x00' slot='0x09' function='0x0'/>\n"
                           "    </interface>\n  </devices>\n</domain>\n");
    {
        g_autoptr(VnicConfDomain) back = tc_parse(whole);
        g_autofree char *again = vnic_conf_domain_format(back, VNIC_CONF_FORMAT_INACTIVE);

        g_assert_cmpstr(again, ==, whole);
        g_assert_cmpint(tc_nth(back, VNIC_CONF_DEV_INTERFACE, 2)->nic->guest_unplug, ==,
                        VNIC_TRISTATE_NO);
    }
}

/* Into a domain that declares vnic's namespace, no second declaration. */
static void
test_interface_snippet_declared(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", "");
    const char *snippet = "<interface type='ethernet' xmlns:vnic='urn:x-vnic:domain:1'>"
                          "<vnic:unplug guest='allow'/></interface>";
    g_autoptr(GError) error = NULL;
    VnicConfDevice *dev = vnic_conf_interface_parse(def, snippet, strlen(snippet), &error);
    g_autofree char *out = NULL;

    g_assert_no_error(error);
    g_ptr_array_add(def->devices, dev);
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    assert_contains(out, "    <interface type='ethernet'>\n"
                         "      <model type='rtl8139'/>\n"
                         "      <vnic:unplug guest='allow'/>\n");
    g_assert_null(strstr(strstr(out, "xmlns:vnic") + 1, "xmlns:vnic"));
}

static void
test_interface_snippet_no_domain(void)
{
    const char *snippet = "<interface type='direct'><source dev='eth0'/></interface>";
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(NULL, snippet, strlen(snippet),
                                                              &error);

    g_assert_no_error(error);
    g_assert_cmpstr(dev->nic->source_mode, ==, "vepa");
}

static void
test_assign_macs(void)
{
    const char *nics = "<interface type='ethernet'/><interface type='ethernet'>"
                       "<mac address='52:54:00:00:00:01'/></interface>"
                       "<interface type='ethernet'/><interface type='ethernet'/>";
    g_autoptr(VnicConfDomain) a = tc_parse_devices("pc", nics);
    g_autoptr(VnicConfDomain) b = tc_parse_devices("pc", nics);
    g_autoptr(GRand) rand_a = g_rand_new_with_seed(42);
    g_autoptr(GRand) rand_b = g_rand_new_with_seed(42);
    const guint8 kept[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 };

    vnic_conf_domain_assign_macs(a, rand_a);
    vnic_conf_domain_assign_macs(b, rand_b);
    for (guint i = 0; i < 4; i++) {
        VnicConfNic *nic = tc_nth(a, VNIC_CONF_DEV_INTERFACE, i)->nic;

        g_assert_true(nic->has_mac);
        g_assert_cmpmem(nic->mac, 3, kept, 3); /* 52:54:00, unicast, locally administered */
        g_assert_cmpmem(nic->mac, 6, tc_nth(b, VNIC_CONF_DEV_INTERFACE, i)->nic->mac, 6);
        for (guint j = 0; j < i; j++)
            g_assert_true(memcmp(nic->mac, tc_nth(a, VNIC_CONF_DEV_INTERFACE, j)->nic->mac, 6));
    }
    g_assert_cmpmem(tc_nth(a, VNIC_CONF_DEV_INTERFACE, 1)->nic->mac, 6, kept, 6);
}

/* A MAC the generator would pick that is already used is skipped. */
static void
test_assign_macs_collision(void)
{
    g_autoptr(VnicConfDomain) probe = tc_parse_devices("pc", "<interface type='ethernet'/>");
    g_autoptr(GRand) rand_probe = g_rand_new_with_seed(7);
    g_autoptr(GRand) rand = g_rand_new_with_seed(7);
    g_autofree char *first = NULL;
    g_autofree char *nics = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    VnicConfNic *fresh;

    vnic_conf_domain_assign_macs(probe, rand_probe);
    first = vnic_conf_mac_format(tc_nth(probe, VNIC_CONF_DEV_INTERFACE, 0)->nic->mac);
    nics = g_strdup_printf("<interface type='ethernet'/><interface type='ethernet'>"
                           "<mac address='%s'/></interface>",
                           first);
    def = tc_parse_devices("pc", nics);
    vnic_conf_domain_assign_macs(def, rand);
    fresh = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->nic;
    g_assert_true(fresh->has_mac);
    g_assert_true(memcmp(fresh->mac, tc_nth(def, VNIC_CONF_DEV_INTERFACE, 1)->nic->mac, 6) != 0);
}

/* vnic_conf_xml_escape_attr(): what the daemon's status file writes reads
 * back byte for byte, newlines, tabs, quotes and markup included. */
static void
test_escape_attr(void)
{
    g_autofree char *long_part = g_strnfill(1000, 'x');
    const char *const values[] = { "a\nb", "t\tr\rq'\"<&>", "", long_part, NULL };

    for (guint i = 0; values[i]; i++) {
        g_autofree char *escaped = vnic_conf_xml_escape_attr(values[i]);
        g_autofree char *doc_text = g_strdup_printf("<a v='%s'/>", escaped);
        xmlDoc *doc = xmlReadMemory(doc_text, (int)strlen(doc_text), NULL, NULL, XML_PARSE_NONET);
        xmlChar *back;

        g_assert_nonnull(doc);
        g_assert_null(strchr(escaped, '\n'));
        back = xmlGetProp(xmlDocGetRootElement(doc), (const xmlChar *)"v");
        g_assert_cmpstr((const char *)back, ==, values[i]);
        xmlFree(back);
        xmlFreeDoc(doc);
    }
}

void
test_conf_format_register(void)
{
    g_test_add_func("/conf/format/escape-attr", test_escape_attr);
    g_test_add_func("/conf/format/golden", test_golden);
    g_test_add_func("/conf/format/round-trip", test_round_trip);
    g_test_add_func("/conf/format/carried-verbatim", test_carried_verbatim);
    g_test_add_func("/conf/format/runtime-data-flags", test_runtime_data_flags);
    g_test_add_func("/conf/format/edit-domain-fields", test_edit_domain_fields);
    g_test_add_func("/conf/format/edit-acpi-created", test_edit_acpi_created);
    g_test_add_func("/conf/format/edit-interface", test_edit_interface);
    g_test_add_func("/conf/format/added-controller", test_added_controller);
    g_test_add_func("/conf/format/added-bridge", test_added_bridge);
    g_test_add_func("/conf/format/planner-insertion", test_planner_insertion);
    g_test_add_func("/conf/format/built-by-code", test_built_by_code);
    g_test_add_func("/conf/format/other-without-node", test_other_without_node);
    g_test_add_func("/conf/format/namespaces", test_namespaces);
    g_test_add_func("/conf/format/namespace-prefix-taken", test_namespace_prefix_taken);
    g_test_add_func("/conf/format/escaping", test_escaping);
    g_test_add_func("/conf/interface-snippet/attach", test_interface_snippet);
    g_test_add_func("/conf/interface-snippet/declared", test_interface_snippet_declared);
    g_test_add_func("/conf/interface-snippet/no-domain", test_interface_snippet_no_domain);
    g_test_add_func("/conf/assign-macs/deterministic", test_assign_macs);
    g_test_add_func("/conf/assign-macs/collision", test_assign_macs_collision);
}
