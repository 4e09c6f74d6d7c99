/* test-qemu-command.c: QEMU's argv for planned domains, no QEMU involved.
 *
 * Golden files (data/NAME.args, one argument per line) for the shipped
 * examples; VNIC_UPDATE_GOLDEN=1 rewrites them after a deliberate change.
 * Targeted tests check one rule each: multiqueue, acpi-index, hot-plug off,
 * refused elements, missing fds. */
#include "test-qemu-helpers.h"
#include "qemu/qemu-hotplug.h"

#include <string.h>

static void
check_golden(const VnicQemuCommand *cmd, const char *name)
{
    g_autofree char *path =
        g_build_filename(VNIC_SOURCE_DIR, "src", "qemu", "tests", "data", name, NULL);
    g_autofree char *text = tq_argv_lines(cmd);
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;

    if (g_getenv("VNIC_UPDATE_GOLDEN") != NULL) {
        g_assert_true(g_file_set_contents(path, text, -1, &error));
        g_assert_no_error(error);
    }
    g_assert_true(g_file_get_contents(path, &expected, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(text, ==, expected);
}

static VnicQemuCommand *
build_ok(const VnicConfDomain *def)
{
    g_autoptr(VnicQemuRuntime) rt = tq_describe_runtime(def);
    g_autoptr(GError) error = NULL;
    VnicQemuCommand *cmd = vnic_qemu_command_build(def, rt, &error);

    g_assert_no_error(error);
    g_assert_nonnull(cmd);
    return cmd;
}

static void
absolute_kernel(VnicConfDomain *def)
{
    g_free(def->kernel);
    g_free(def->initrd);
    def->kernel = g_strdup("/var/lib/vnic/guest/vmlinuz");
    def->initrd = g_strdup("/var/lib/vnic/guest/initrd.img");
}

static void
test_golden_cloudstack_pc(void)
{
    g_autoptr(VnicConfDomain) def = tq_load_example("cloudstack-pc.xml");
    g_autoptr(VnicQemuCommand) cmd = NULL;
    const VnicQemuPciExpect *exp;

    absolute_kernel(def);
    cmd = build_ok(def);
    check_golden(cmd, "cloudstack-pc.args");
    g_assert_false(cmd->kvm);
    g_assert_cmpuint(cmd->ptys->len, ==, 1);
    g_assert_cmpstr(((VnicQemuPty *) g_ptr_array_index(cmd->ptys, 0))->dev_id, ==, "serial0");
    /* every PCI function, chipset USB included, at its planned address */
    g_assert_cmpuint(cmd->expected_pci->len, ==, 8);
    exp = g_ptr_array_index(cmd->expected_pci, 3);
    g_assert_cmpstr(exp->id, ==, "net0");
    g_assert_cmpstr(exp->bus, ==, "pci.0");
    g_assert_true(exp->on_root);
    g_assert_cmpuint(exp->slot, ==, 3);
}

static void
test_golden_q35(void)
{
    g_autoptr(VnicConfDomain) def = tq_load_example("q35.xml");
    g_autoptr(VnicQemuCommand) cmd = NULL;
    gboolean behind_port = FALSE;

    absolute_kernel(def);
    cmd = build_ok(def);
    check_golden(cmd, "q35.args");
    /* the ICH9 SATA controller is part of the chipset: expected, no -device */
    g_assert_null(tq_argv_find(cmd, "-device", "ahci"));
    for (guint i = 0; i < cmd->expected_pci->len; i++) {
        const VnicQemuPciExpect *exp = g_ptr_array_index(cmd->expected_pci, i);

        if (g_strcmp0(exp->id, "net0") == 0) {
            behind_port = !exp->on_root && g_str_has_prefix(exp->bus, "pci.");
            g_assert_cmpuint(exp->slot, ==, 0);
        }
    }
    g_assert_true(behind_port);
}

#define DOMAIN_HEAD(machine)                                                                \
    "<domain type='qemu' xmlns:vnic='urn:x-vnic:domain:1'><name>t</name>"                  \
    "<memory unit='MiB'>128</memory><os><type machine='" machine "'>hvm</type></os>"     \
    "<features><acpi/></features>"

static void
test_multiqueue(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("pc") "<devices><interface type='ethernet'><mac address='52:54:00:00:00:01'/>"
        "<model type='virtio'/><driver queues='4'/></interface></devices></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);

    /* monitor is fd 3, the four queues 4..7 */
    g_assert_cmpstr(tq_argv_find(cmd, "-netdev", "tap"), ==,
                    "tap,id=hostnet0,fds=4:5:6:7,vhost=off");
    g_assert_cmpstr(tq_argv_find(cmd, "-device", "virtio-net-pci"), ==,
                    "virtio-net-pci,netdev=hostnet0,id=net0,mac=52:54:00:00:00:01,mq=on,"
                    "vectors=10,bus=pci.0,addr=0x3");
}

static void
test_acpi_index_and_link(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("q35") "<devices><interface type='ethernet'>"
        "<mac address='52:54:00:00:00:01'/><model type='e1000e'/><acpi index='7'/>"
        "<link state='down'/><alias name='ua-web'/></interface></devices></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);
    const char *dev = tq_argv_find(cmd, "-device", "e1000e");

    g_assert_nonnull(dev);
    g_assert_nonnull(strstr(dev, ",id=ua-web,"));
    g_assert_nonnull(strstr(dev, ",acpi-index=7,"));
    g_assert_nonnull(tq_argv_find(cmd, "-netdev", "id=hostua-web,"));
    g_assert_cmpuint(cmd->links_down->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(cmd->links_down, 0), ==, "ua-web");
}

static void
test_hotplug_off_pc(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("pc") "<vnic:hotplug guest-unplug='deny'/><devices>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "</interface></devices></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);

    g_assert_true(tq_argv_has(cmd, "PIIX4_PM.acpi-root-pci-hotplug=off"));
}

/* pc, a NIC whose guest unplug is denied: behind a pci-bridge without SHPC,
 * and no ACPI hot-plug on bridges; pci.0 keeps its ACPI hot-plug. */
static void
test_hotplug_off_pc_bridge(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("pc") "<devices>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "</interface>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/><model type='virtio'/>"
        "<vnic:unplug guest='deny'/></interface></devices></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);
    const char *bridge = tq_argv_find(cmd, "-device", "pci-bridge");

    g_assert_nonnull(bridge);
    g_assert_true(g_str_has_suffix(bridge, ",shpc=off"));
    g_assert_true(tq_argv_has(cmd, "PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off"));
    g_assert_false(tq_argv_has(cmd, "PIIX4_PM.acpi-root-pci-hotplug=off"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "mac=52:54:00:00:00:02,bus=pci.1,addr=0x1"));
}

/* <target hotplug='off'/> on one pc pci-bridge but not another: QEMU has one
 * switch for all of them. */
static void
test_hotplug_off_pc_one_bridge(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("pc") "<devices>"
        "<controller type='pci' index='1' model='pci-bridge'><target hotplug='off'/></controller>"
        "<controller type='pci' index='2' model='pci-bridge'/>"
        "</devices></domain>");
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicQemuRuntime) rt = tq_describe_runtime(def);
    g_autoptr(VnicQemuCommand) cmd = vnic_qemu_command_build(def, rt, &error);

    g_assert_null(cmd);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "every pci-bridge"));
}

static void
test_hotplug_off_root_port(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("q35") "<devices><controller type='pci' index='1' model='pcie-root-port'>"
        "<target chassis='1' port='0x10' hotplug='off'/></controller>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "<address type='pci' bus='1' slot='0'/></interface></devices></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);
    const char *port = tq_argv_find(cmd, "-device", "pcie-root-port");

    g_assert_nonnull(port);
    g_assert_true(g_str_has_prefix(port, "pcie-root-port,port=0x10,chassis=1,id=pci.1,"
                                         "bus=pcie.0,addr=0x"));
    g_assert_true(g_str_has_suffix(port, ",hotplug=off"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "netdev=hostnet0,id=net0,mac=52:54:00:00:00:"
                                                  "01,bus=pci.1,addr=0x0"));
    g_assert_false(tq_argv_has(cmd, "PIIX4_PM.acpi-root-pci-hotplug=off"));
}

/* An ICH9 USB2 set: one EHCI with its own bus, the UHCIs as companions on
 * it (masterbus, firstport 0/2/4 as libvirt fills them in), one slot. */
static void
test_usb2_companions(gconstpointer data)
{
    const char *const *c = data; /* machine, the set's bus=…,addr=… */
    g_autofree char *xml = g_strdup_printf(
        DOMAIN_HEAD("%s") "<devices>"
        "<controller type='usb' index='0' model='ich9-ehci1'/>"
        "<controller type='usb' index='0' model='ich9-uhci1'/>"
        "<controller type='usb' index='0' model='ich9-uhci2'/>"
        "<controller type='usb' index='0' model='ich9-uhci3'><master startport='4'/></controller>"
        "</devices></domain>", c[0]);
    g_autoptr(VnicConfDomain) def = tq_parse(xml);
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);
    g_autofree char *ehci = g_strdup_printf("ich9-usb-ehci1,id=usb,%s.0x7", c[1]);
    g_autofree char *uhci1 = g_strdup_printf("ich9-usb-uhci1,masterbus=usb.0,firstport=0,%s,"
                                             "multifunction=on", c[1]);
    g_autofree char *uhci3 = g_strdup_printf("ich9-usb-uhci3,masterbus=usb.0,firstport=4,%s.0x2",
                                             c[1]);

    g_test_message("%s", tq_argv_find(cmd, "-device", "ich9-usb-uhci1"));
    g_assert_cmpstr(tq_argv_find(cmd, "-device", "ich9-usb-ehci1"), ==, ehci);
    g_assert_cmpstr(tq_argv_find(cmd, "-device", "ich9-usb-uhci1"), ==, uhci1);
    g_assert_cmpstr(tq_argv_find(cmd, "-device", "ich9-usb-uhci3"), ==, uhci3);
}

static void
test_kvm_and_acpi_off(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        "<domain type='kvm'><name>k</name><memory unit='MiB'>64</memory>"
        "<os><type machine='pc'>hvm</type></os><devices/></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);

    g_assert_true(cmd->kvm);
    g_assert_nonnull(tq_argv_find(cmd, "-machine", "pc,accel=kvm,usb=off,acpi=off"));
}

typedef struct {
    const char *devices;      /* inside <devices> */
    VnicQemuErrorCode code;
    const char *needle;
} RefusedCase;

static const RefusedCase refused_cases[] = {
    { "<graphics type='sdl'/>", VNIC_QEMU_ERROR_UNSUPPORTED, "'sdl' for <graphics type>" },
    { "<serial type='tcp'><source mode='bind' host='0.0.0.0' service='4555'/></serial>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "unsupported value 'tcp' for <serial type>" },
    { "<channel type='unix'><source mode='connect' path='/tmp/x'/>"
      "<target type='virtio' name='a'/></channel>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<source mode>" },
    { "<serial type='file'><source path='/tmp/x'/><target type='usb-serial'/></serial>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "usb-serial" },
    { "<interface type='bridge'><mac address='52:54:00:00:00:09'/><source bridge='br0'/>"
      "<vlan><tag id='42'/></vlan></interface>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<vlan> in <interface>" },
    { "<interface type='ethernet'><mac address='52:54:00:00:00:09'/><model type='virtio'/>"
      "<rom file='rel.rom'/></interface>",
      VNIC_QEMU_ERROR_INVALID, "'rel.rom' for <rom file>" },
    { "<disk type='file' device='disk'><driver name='qemu' type='vmdk'/>"
      "<source file='/x.vmdk'/><target dev='vda' bus='virtio'/></disk>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "'vmdk' for <driver type>" },
    { "<disk type='file' device='disk'><source file='/x.img'/><target dev='sda' bus='usb'/>"
      "</disk>", VNIC_QEMU_ERROR_UNSUPPORTED, "'usb' for <target bus>" },
    { "<disk type='file' device='disk'><source file='/x.img'/><target dev='vda'/>"
      "<iotune><total_bytes_sec>1</total_bytes_sec></iotune></disk>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<iotune> in <disk>" },
    { "<console type='tcp'><target type='serial' port='0'/></console>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "'tcp' for <console type>" },
    { "<input type='passthrough' bus='virtio'><source evdev='/dev/input/event0'/></input>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<source> in <input>" },
    { "<rng model='virtio'><backend model='egd' type='tcp'/></rng>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "'egd' for <backend model>" },
    { "<watchdog model='i6300esb' action='dump'/>", VNIC_QEMU_ERROR_UNSUPPORTED,
      "'dump' for <watchdog action>" },
    { "<sound model='pcspk'/>", VNIC_QEMU_ERROR_UNSUPPORTED, "'pcspk' for <sound model>" },
    { "<tpm model='tpm-crb'/>", VNIC_QEMU_ERROR_UNSUPPORTED, "<tpm> is not supported" },
    /* parsed and placed, not run */
    { "<interface type='user'><mac address='52:54:00:00:00:09'/></interface>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<interface type='user'> is not supported: vnic gives" },
    { "<interface type='hostdev' managed='yes'><mac address='52:54:00:00:00:09'/><source>"
      "<address type='pci' domain='0x0000' bus='0x07' slot='0x10' function='0x0'/></source>"
      "</interface>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<interface type='hostdev'> is not supported: PCI passthrough" },
    { "<interface type='udp'><mac address='52:54:00:00:00:09'/><source address='127.0.0.1' "
      "port='5511'><local address='127.0.0.1' port='5512'/></source></interface>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<interface type='udp'> is not supported: QEMU socket" },
    { "<interface type='vdpa'><mac address='52:54:00:00:00:09'/>"
      "<source dev='/dev/vhost-vdpa-0'/></interface>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<interface type='vdpa'> is not supported: vDPA" },
    { "<interface type='bridge'><mac address='52:54:00:00:00:09'/><source bridge='br-int'/>"
      "<virtualport type='openvswitch'><parameters "
      "interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></virtualport></interface>",
      VNIC_QEMU_ERROR_UNSUPPORTED,
      "interface #1 (52:54:00:00:00:09): <virtualport type='openvswitch'> is not supported" },
    { "<interface type='direct'><mac address='52:54:00:00:00:09'/><source dev='eth0'/>"
      "<virtualport type='802.1Qbg'/></interface>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<virtualport type='802.1Qbg'> is not supported" },
    { "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
      "<address domain='0x0000' bus='0x07' slot='0x00' function='0x0'/></source></hostdev>",
      VNIC_QEMU_ERROR_UNSUPPORTED,
      "hostdev #1 (host 0000:07:00.0): <hostdev type='pci'> is not supported by the QEMU "
      "launcher: vnic does not do PCI passthrough (VFIO)" },
    { "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
      "<product id='0xbeef'/></source></hostdev>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<hostdev type='usb'> is not supported by the QEMU launcher" },
    { "<filesystem type='mount' accessmode='mapped'><source dir='/srv'/><target dir='t'/>"
      "</filesystem>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "filesystem #1: <filesystem> with <driver type='path'> is "
      "not supported by the QEMU launcher: vnic does not export host directories" },
    { "<vsock model='virtio'><cid auto='yes'/></vsock>", VNIC_QEMU_ERROR_UNSUPPORTED,
      "<vsock> is not supported by the QEMU launcher: it needs /dev/vhost-vsock" },
    { "<memory model='virtio-pmem'><source><path>/p</path></source><target>"
      "<size unit='KiB'>524288</size></target></memory>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<memory model='virtio-pmem'> is not supported" },
    { "<shmem name='s'><model type='ivshmem-plain'/></shmem>", VNIC_QEMU_ERROR_UNSUPPORTED,
      "(ivshmem)" },
    { "<crypto model='virtio' type='qemu'><backend model='builtin'/></crypto>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "<crypto> is not supported by the QEMU launcher" },
    { "<serial type='pty'><target type='pci-serial'/></serial>", VNIC_QEMU_ERROR_UNSUPPORTED,
      "serial #1: <serial> with <target type='pci-serial'> is not supported" },
    { "<disk type='file' device='floppy'><source file='/f.img'/><target dev='fda'/></disk>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "'floppy' for <disk device>: vnic runs no floppy drives" },
    { "<disk type='block' device='lun'><source dev='/dev/sdx'/><target dev='sda'/></disk>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "'lun' for <disk device>" },
    { "<disk type='network' device='disk'><source protocol='nbd' name='x'>"
      "<host name='127.0.0.1' port='10809'/></source><target dev='vda'/></disk>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "disk #1 (vda): unsupported value 'network' for <disk type>" },
    { "<controller type='usb' index='0' model='vt82c686b-uhci'/>", VNIC_QEMU_ERROR_UNSUPPORTED,
      "'vt82c686b-uhci' for <controller type='usb' model>: QEMU for x86 has no" },
    { "<controller type='fdc'/>", VNIC_QEMU_ERROR_UNSUPPORTED,
      "<controller type='fdc'> is not supported by the QEMU launcher" },
    { "<controller type='ccid'/>", VNIC_QEMU_ERROR_UNSUPPORTED,
      "<controller type='ccid'> is not supported" },
    { "<controller type='pci' model='pci-expander-bus'><target busNr='254' node='0'/>"
      "</controller>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "unsupported value '0' for <target node>: vnic does not tie "
      "expander buses to NUMA nodes" },
};

/* The same on q35, for what only q35 takes. */
static const RefusedCase refused_q35_cases[] = {
    { "<iommu model='virtio'/>", VNIC_QEMU_ERROR_UNSUPPORTED,
      "iommu #1 (virtio): <iommu model='virtio'> is not supported by the QEMU launcher" },
    { "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.1'/>"
      "</hostdev>",
      VNIC_QEMU_ERROR_UNSUPPORTED, "vnic does not pass vhost-scsi targets through" },
};

static void
test_refused(gconstpointer data)
{
    const RefusedCase *c = data;
    g_autofree char *xml = g_strdup_printf(DOMAIN_HEAD("pc") "<devices>%s</devices></domain>",
                                           c->devices);
    g_autoptr(VnicConfDomain) def = tq_parse(xml);

    tq_assert_build_fails(def, c->code, c->needle);
}

static void
test_refused_q35(gconstpointer data)
{
    const RefusedCase *c = data;
    g_autofree char *xml = g_strdup_printf(DOMAIN_HEAD("q35") "<devices>%s</devices></domain>",
                                           c->devices);
    g_autoptr(VnicConfDomain) def = tq_parse(xml);

    tq_assert_build_fails(def, c->code, c->needle);
}

/* Drives without a medium, as CloudStack writes an empty ISO slot: the
 * cdrom device with no drive (QEMU 7.2 then has an empty tray), on the
 * PIIX3 IDE of pc and the ICH9 AHCI of q35; and a read-only ISO. */
static void
test_empty_cdroms(void)
{
    g_autoptr(VnicConfDomain) pc = tq_parse(
        DOMAIN_HEAD("pc") "<devices>"
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file=''/>"
        "<target dev='hdc' bus='ide'/><readonly/></disk>"
        "<disk type='file' device='cdrom'><source file='/iso/a.iso'/>"
        "<target dev='hdd' bus='ide'/><readonly/></disk>"
        "</devices></domain>");
    g_autoptr(VnicConfDomain) q35 = tq_parse(
        DOMAIN_HEAD("q35") "<devices>"
        "<disk type='file' device='cdrom'><source file=''/><target dev='sdc' bus='sata'/>"
        "<readonly/></disk>"
        "</devices></domain>");
    g_autoptr(VnicQemuCommand) pc_cmd = build_ok(pc);
    g_autoptr(VnicQemuCommand) q35_cmd = build_ok(q35);
    const char *iso;

    g_assert_true(tq_argv_has(pc_cmd, "ide-cd,bus=ide.1,unit=0,id=ide0-1-0"));
    g_assert_true(tq_argv_has(pc_cmd, "ide-cd,bus=ide.1,unit=1,drive=vnic-1-format,id=ide0-1-1"));
    iso = tq_argv_find(pc_cmd, "-blockdev", "\"node-name\":\"vnic-1-storage\"");
    g_assert_nonnull(iso);
    g_assert_nonnull(strstr(iso, "\"read-only\":true"));
    g_assert_null(tq_argv_find(pc_cmd, "-blockdev", "vnic-0-"));
    g_assert_true(tq_argv_has(q35_cmd, "ide-cd,bus=ide.2,id=sata0-0-2"));
    g_assert_null(tq_argv_find(q35_cmd, "-blockdev", "vnic-"));
}

/* A PCIe switch: the upstream port in a root port, downstream ports
 * numbered by their slot, the NICs on the downstream ports (libvirt's
 * plan of q35-switch). */
static void
test_pcie_switch(void)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "libvirt",
                                             "q35-switch.libvirt.xml", NULL);
    g_autofree char *xml = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(VnicQemuCommand) cmd = NULL;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    def = tq_parse(xml);
    cmd = build_ok(def);
    g_assert_true(tq_argv_has(cmd, "x3130-upstream,id=pci.2,bus=pci.1,addr=0x0"));
    g_assert_true(tq_argv_has(cmd, "xio3130-downstream,port=0x0,chassis=3,id=pci.3,bus=pci.2,"
                                   "addr=0x0"));
    g_assert_true(tq_argv_has(cmd, "xio3130-downstream,port=0x2,chassis=5,id=pci.5,bus=pci.2,"
                                   "addr=0x2"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "bus=pci.3,addr=0x0"));
}

/* Expander buses with the busNr planning gave them (libvirt's default). */
static void
test_expander_buses(void)
{
    g_autoptr(VnicConfDomain) pc = tq_parse(
        DOMAIN_HEAD("pc") "<devices><controller type='pci' index='1' model='pci-expander-bus'/>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "<address type='pci' bus='1' slot='0'/></interface></devices></domain>");
    g_autoptr(VnicConfDomain) q35 = tq_parse(
        DOMAIN_HEAD("q35") "<devices><controller type='pci' index='1' model='pcie-expander-bus'>"
        "<target busNr='200'/></controller></devices></domain>");
    g_autoptr(VnicQemuCommand) pc_cmd = build_ok(pc);
    g_autoptr(VnicQemuCommand) q35_cmd = build_ok(q35);

    g_assert_nonnull(tq_argv_find(pc_cmd, "-device", "pxb,bus_nr=254,id=pci.1,bus=pci.0,"));
    g_assert_nonnull(tq_argv_find(pc_cmd, "-device", "bus=pci.1,addr=0x0"));
    g_assert_nonnull(tq_argv_find(q35_cmd, "-device", "pxb-pcie,bus_nr=200,id=pci.1,bus=pcie.0,"));
}

static void
test_refused_domain_level(void)
{
    static const char *const cases[][2] = {
        { "<memoryBacking><hugepages/></memoryBacking>", "<hugepages> in <memoryBacking>" },
        { "<clock offset='absolute'/>", "'absolute' for <clock offset>" },
        { "<on_poweroff>preserve</on_poweroff>", "'preserve' for <on_poweroff>" },
        { "<cpu mode='host-passthrough'/>", "needs type='kvm'" },
        { "<sysinfo type='smbios'><memory/></sysinfo>", "<memory> in <sysinfo" },
        { "<memtune><hard_limit unit='KiB'>1048576</hard_limit></memtune>",
          "<memtune> is not supported: vnic does not enforce it" },
        { "<blkiotune><weight>800</weight></blkiotune>", "<blkiotune> is not supported" },
        { "<numatune><memory mode='strict' nodeset='0'/></numatune>",
          "<numatune> is not supported" },
        { "<resource><partition>/tenants/a</partition></resource>",
          "'/tenants/a' for <resource><partition>" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf(DOMAIN_HEAD("pc") "%s<devices/></domain>",
                                               cases[i][0]);
        g_autoptr(VnicConfDomain) def = tq_parse(xml);

        tq_assert_build_fails(def, VNIC_QEMU_ERROR_UNSUPPORTED, cases[i][1]);
    }
}

static void
test_honoured_domain_level(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("pc") "<vcpu current='2'>4</vcpu><cpu mode='custom'><model>Nehalem</model>"
        "<topology sockets='2' cores='2' threads='1'/><feature policy='disable' name='x2apic'/>"
        "</cpu><clock offset='localtime'><timer name='rtc' tickpolicy='catchup'/>"
        "<timer name='hpet' present='no'/></clock><on_reboot>destroy</on_reboot>"
        "<pm><suspend-to-mem enabled='no'/></pm><devices/></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);

    g_assert_true(tq_argv_has(cmd, "2,maxcpus=4,sockets=2,cores=2,threads=1"));
    g_assert_true(tq_argv_has(cmd, "Nehalem,x2apic=off"));
    g_assert_true(tq_argv_has(cmd, "base=localtime,driftfix=slew"));
    g_assert_true(tq_argv_has(cmd, "pc,accel=tcg,usb=off,hpet=off"));
    g_assert_true(tq_argv_has(cmd, "-no-reboot"));
    g_assert_true(tq_argv_has(cmd, "PIIX4_PM.disable_s3=1"));
}

static void
test_missing_fds_and_plan(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("pc") "<devices><interface type='ethernet'><mac address='52:54:00:00:00:01'/>"
        "<model type='virtio'/><driver queues='2'/></interface></devices></domain>");
    g_autoptr(VnicQemuRuntime) rt = vnic_qemu_runtime_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicQemuCommand) cmd = NULL;

    vnic_qemu_runtime_add_fds(rt, NULL, VNIC_QEMU_FD_MONITOR, NULL, 1);
    vnic_qemu_runtime_add_fds(rt, tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0), VNIC_QEMU_FD_TAP,
                              NULL, 1);
    cmd = vnic_qemu_command_build(def, rt, &error);
    g_assert_null(cmd);
    g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "needs 2 tap fd(s)"));

    tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->addr.set = FALSE;
    tq_assert_build_fails(def, VNIC_QEMU_ERROR_INVALID, "the domain must be planned first");
}

static void
test_relative_kernel(void)
{
    g_autoptr(VnicConfDomain) def = tq_load_example("cloudstack-pc.xml");

    tq_assert_build_fails(def, VNIC_QEMU_ERROR_INVALID, "is not an absolute path");
    g_clear_pointer(&def->kernel, g_free);
    tq_assert_build_fails(def, VNIC_QEMU_ERROR_INVALID, "needs <os><kernel>");
}

static void
test_storage_and_chardevs(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("q35") "<devices>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>"
        "<source file='/img/a.qcow2'/><target dev='sda' bus='sata'/><serial>S1</serial>"
        "<boot order='1'/></disk>"
        "<disk type='file' device='cdrom'><target dev='sdb' bus='sata'/><readonly/></disk>"
        "<controller type='scsi' model='virtio-scsi'/>"
        "<disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='sdc' bus='scsi'/>"
        "<address type='drive' controller='0' bus='0' target='0' unit='3'/></disk>"
        "<serial type='file'><source path='/var/log/c.log' append='on'/></serial>"
        "<console type='pty'><target type='virtio'/></console>"
        "<channel type='unix'><source mode='bind' path='/run/x.sock'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        "</devices></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);

    g_assert_nonnull(tq_argv_find(cmd, "-blockdev", "\"filename\":\"/dev/fdset/0\""));
    g_assert_nonnull(tq_argv_find(cmd, "-blockdev", "\"driver\":\"qcow2\""));
    g_assert_nonnull(tq_argv_find(cmd, "-blockdev", "\"backing\":null"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "ide-hd,bus=ide.0,drive=vnic-0-format,"
                                                  "id=sata0-0-0,bootindex=1,serial=S1,"
                                                  "write-cache=on"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "ide-cd,bus=ide.1,id=sata0-0-1"));
    g_assert_nonnull(tq_argv_find(cmd, "-blockdev", "\"driver\":\"host_device\""));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "scsi-hd,bus=scsi0.0,channel=0,scsi-id=0,"
                                                  "lun=3,drive=vnic-2-format,id=scsi0-0-0-3"));
    g_assert_nonnull(tq_argv_find(cmd, "-chardev", "file,id=charserial0,path=/dev/fdset/"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "virtconsole,chardev=charconsole0,"
                                                  "id=console0,bus=virtio-serial0.0,nr=0"));
    g_assert_nonnull(tq_argv_find(cmd, "-device", "virtserialport,chardev=charchannel0,"
                                                  "id=channel0,bus=virtio-serial0.0,nr=1,"
                                                  "name=org.qemu.guest_agent.0"));
}

static void
test_names(void)
{
    g_assert_cmpint(vnic_qemu_disk_index("vda"), ==, 0);
    g_assert_cmpint(vnic_qemu_disk_index("vdz"), ==, 25);
    g_assert_cmpint(vnic_qemu_disk_index("vdaa"), ==, 26);
    g_assert_cmpint(vnic_qemu_disk_index("hdc"), ==, 2);
    g_assert_cmpint(vnic_qemu_disk_index("vda1"), ==, -1);
    g_assert_cmpint(vnic_qemu_disk_index("nvme0"), ==, -1);
    g_assert_cmpstr(vnic_qemu_error_code_to_string(VNIC_QEMU_ERROR_VERIFY), ==, "verify");
}

static void
test_alias_numbering(void)
{
    /* a user alias taking net0 pushes the unaliased NIC to net1 */
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("pc") "<devices>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/></interface>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/><alias name='net0'/>"
        "</interface></devices></domain>");
    g_autofree char *first = vnic_qemu_device_id(def, tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0));

    g_assert_cmpstr(first, ==, "net1");
}

/* A running domain's aliases: libvirt's ids, kept once given, and the
 * next hot-plugged NIC gets the lowest free netN. */
static void
test_assign_ids(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("q35") "<devices>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/></interface>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/></interface>"
        "<disk type='file' device='disk'><source file='/x'/><target dev='vda' bus='virtio'/></disk>"
        "</devices></domain>");
    g_autofree char *next = NULL;

    vnic_qemu_assign_ids(def);
    vnic_qemu_assign_ids(def);
    g_assert_cmpstr(tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->alias, ==, "net0");
    g_assert_cmpstr(tq_nth(def, VNIC_CONF_DEV_INTERFACE, 1)->alias, ==, "net1");
    g_assert_cmpstr(tq_nth(def, VNIC_CONF_DEV_DISK, 0)->alias, ==, "virtio-disk0");
    g_assert_cmpstr(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_PCI, 0)->alias, ==,
                    "pcie.0");
    g_assert_cmpstr(tq_nth(def, VNIC_CONF_DEV_MEMBALLOON, 0)->alias, ==, "balloon0");
    next = vnic_qemu_next_nic_id(def);
    g_assert_cmpstr(next, ==, "net2");
}

/* A hot-plugged NIC gets what its cold-plugged twin would get, and what
 * vnic cannot honour is refused, as on the command line. */
static void
test_hotplug_device_args(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(DOMAIN_HEAD("pc") "<devices></devices></domain>");
    const char *good = "<interface type='ethernet'><mac address='52:54:00:00:00:09'/>"
                       "<model type='virtio'/><rom enabled='no'/><acpi index='4'/>"
                       "<driver queues='2' rx_queue_size='512'/>"
                       "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>"
                       "</interface>";
    const char *bad = "<interface type='ethernet'><model type='virtio'/>"
                      "<vlan><tag id='4'/></vlan></interface>";
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(def, good, strlen(good), NULL);
    g_autoptr(VnicConfDevice) shaped = vnic_conf_interface_parse(def, bad, strlen(bad), NULL);
    g_autoptr(JsonObject) args = NULL;
    g_autoptr(GError) error = NULL;

    vnic_qemu_assign_ids(def);
    dev->alias = g_strdup("net0");
    args = vnic_qemu_nic_device_args(def, dev, "hostnet0", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json_object_get_string_member(args, "driver"), ==, "virtio-net-pci");
    g_assert_cmpstr(json_object_get_string_member(args, "bus"), ==, "pci.0");
    g_assert_cmpstr(json_object_get_string_member(args, "addr"), ==, "0x5");
    g_assert_cmpstr(json_object_get_string_member(args, "romfile"), ==, "");
    g_assert_cmpint(json_object_get_int_member(args, "acpi-index"), ==, 4);
    g_assert_cmpint(json_object_get_int_member(args, "rx_queue_size"), ==, 512);
    g_assert_true(json_object_get_boolean_member(args, "mq"));
    shaped->alias = g_strdup("net1");
    g_assert_null(vnic_qemu_nic_device_args(def, shaped, "hostnet1", &error));
    g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "vlan"));
}

/* CloudStack's PlugNic: bandwidth (the host layer's), ROM BAR off, vhost
 * driver (userspace virtio-net: no /dev/vhost-net). */
static void
test_hotplug_rom_bandwidth(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(DOMAIN_HEAD("pc") "<devices></devices></domain>");
    const char *xml = "<interface type='bridge'><mac address='52:54:00:00:00:0a'/>"
                      "<source bridge='cloudbr0'/><model type='virtio'/>"
                      "<driver name='vhost'/><bandwidth><inbound average='25600' "
                      "peak='25600'/><outbound average='25600' peak='25600'/></bandwidth>"
                      "<rom bar='off'/><link state='up'/>"
                      "<address type='pci' domain='0x0000' bus='0x00' slot='0x06' "
                      "function='0x0'/></interface>";
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(def, xml, strlen(xml), NULL);
    g_autoptr(JsonObject) args = NULL;
    g_autoptr(GError) error = NULL;

    vnic_qemu_assign_ids(def);
    dev->alias = g_strdup("net0");
    args = vnic_qemu_nic_device_args(def, dev, "hostnet0", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json_object_get_string_member(args, "romfile"), ==, "");
    g_assert_cmpint(json_object_get_int_member(args, "rombar"), ==, 0);
}

static void
test_rom_and_vhost(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        DOMAIN_HEAD("pc") "<devices><interface type='ethernet'><mac address='52:54:00:00:00:01'/>"
        "<model type='virtio'/><driver name='vhost'/><rom bar='off'/>"
        "<bandwidth><inbound average='100'/></bandwidth></interface>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/>"
        "<model type='e1000'/><rom file='/usr/share/qemu/pxe-e1000.rom'/></interface>"
        "</devices></domain>");
    g_autoptr(VnicQemuCommand) cmd = build_ok(def);

    g_assert_cmpstr(tq_argv_find(cmd, "-netdev", "id=hostnet0"), ==,
                    "tap,id=hostnet0,fd=4,vhost=off");
    g_assert_nonnull(tq_argv_find(cmd, "-device", "id=net0,mac=52:54:00:00:00:01,rombar=0,"));
    g_assert_nonnull(
        tq_argv_find(cmd, "-device", "romfile=/usr/share/qemu/pxe-e1000.rom,bus=pci.0"));
}

#define VHOSTUSER_DOMAIN(type, queues)                                                     \
    "<domain type='" type "'><name>t</name><memory unit='MiB'>128</memory>"                \
    "<os><type machine='q35'>hvm</type></os><features><acpi/></features>"                  \
    "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"         \
    "<devices><interface type='vhostuser'><mac address='52:54:00:00:00:01'/>"              \
    "<source type='unix' path='/var/run/openvswitch/vhu1' mode='client'/>"                 \
    "<model type='virtio'/>" queues "</interface>"                                         \
    "<interface type='vhostuser'><mac address='52:54:00:00:00:02'/>"                       \
    "<source type='unix' path='/run/vu2.sock' mode='server'/><model type='virtio'/>"       \
    "</interface></devices></domain>"

static void
test_vhostuser(void)
{
    g_autoptr(VnicConfDomain) kvm = tq_parse(VHOSTUSER_DOMAIN("kvm", "<driver queues='2'/>"));
    g_autoptr(VnicConfDomain) tcg = tq_parse(VHOSTUSER_DOMAIN("qemu", ""));
    g_autoptr(VnicConfDomain) tcg_mq = tq_parse(VHOSTUSER_DOMAIN("qemu", "<driver queues='2'/>"));
    g_autoptr(VnicQemuCommand) cmd = build_ok(kvm);
    g_autoptr(VnicQemuCommand) cmd_tcg = build_ok(tcg);

    g_assert_cmpstr(tq_argv_find(cmd, "-object", "memory-backend-memfd"), ==,
                    "memory-backend-memfd,id=pc.ram,share=on,size=131072k");
    g_assert_true(tq_argv_has(cmd, "memory-backend=pc.ram"));
    g_assert_cmpstr(tq_argv_find(cmd, "-chardev", "id=charnet0"), ==,
                    "socket,id=charnet0,path=/var/run/openvswitch/vhu1");
    g_assert_cmpstr(tq_argv_find(cmd, "-netdev", "id=hostnet0"), ==,
                    "vhost-user,chardev=charnet0,id=hostnet0,queues=2");
    g_assert_nonnull(tq_argv_find(cmd, "-device", "virtio-net-pci,netdev=hostnet0,id=net0,"
                                                  "mac=52:54:00:00:00:01,mq=on,vectors=6"));
    g_assert_cmpstr(tq_argv_find(cmd, "-chardev", "id=charnet1"), ==,
                    "socket,id=charnet1,path=/run/vu2.sock,server=on,wait=off");
    g_assert_cmpstr(tq_argv_find(cmd, "-netdev", "id=hostnet1"), ==,
                    "vhost-user,chardev=charnet1,id=hostnet1");
    /* TCG: no MSI-X for vhost-user (QEMU 7.2 crashes without irqfd) */
    g_assert_nonnull(tq_argv_find(cmd_tcg, "-device", "mac=52:54:00:00:00:01,vectors=0"));
    tq_assert_build_fails(tcg_mq, VNIC_QEMU_ERROR_UNSUPPORTED, "'2' for <driver queues>");
}

void
test_qemu_command_register(void)
{
    g_test_add_func("/qemu/hotplug/device-args", test_hotplug_device_args);
    g_test_add_func("/qemu/command/hotplug-off-pc-bridge", test_hotplug_off_pc_bridge);
    g_test_add_func("/qemu/command/hotplug-off-pc-one-bridge", test_hotplug_off_pc_one_bridge);
    g_test_add_func("/qemu/hotplug/rom-bandwidth", test_hotplug_rom_bandwidth);
    g_test_add_func("/qemu/command/rom-vhost", test_rom_and_vhost);
    g_test_add_func("/qemu/command/vhostuser", test_vhostuser);
    g_test_add_func("/qemu/command/golden/cloudstack-pc", test_golden_cloudstack_pc);
    g_test_add_func("/qemu/command/assign-ids", test_assign_ids);
    g_test_add_func("/qemu/command/golden/q35", test_golden_q35);
    g_test_add_func("/qemu/command/multiqueue", test_multiqueue);
    g_test_add_func("/qemu/command/acpi-index-link", test_acpi_index_and_link);
    g_test_add_func("/qemu/command/hotplug-off/pc", test_hotplug_off_pc);
    g_test_add_func("/qemu/command/hotplug-off/root-port", test_hotplug_off_root_port);
    g_test_add_func("/qemu/command/kvm-acpi-off", test_kvm_and_acpi_off);
    {
        static const char *const pc[] = { "pc", "bus=pci.0,addr=0x10" };
        static const char *const q35[] = { "q35", "bus=pcie.0,addr=0x1d" };
        g_test_add_data_func("/qemu/command/usb2-companions/pc", pc, test_usb2_companions);
        g_test_add_data_func("/qemu/command/usb2-companions/q35", q35, test_usb2_companions);
    }
    for (guint i = 0; i < G_N_ELEMENTS(refused_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/command/refused/%u", i);
        g_test_add_data_func(path, &refused_cases[i], test_refused);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(refused_q35_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/command/refused/q35-%zu", i);
        g_test_add_data_func(path, &refused_q35_cases[i], test_refused_q35);
    }
    g_test_add_func("/qemu/command/empty-cdroms", test_empty_cdroms);
    g_test_add_func("/qemu/command/pcie-switch", test_pcie_switch);
    g_test_add_func("/qemu/command/expander-buses", test_expander_buses);
    g_test_add_func("/qemu/command/refused/domain-level", test_refused_domain_level);
    g_test_add_func("/qemu/command/domain-level", test_honoured_domain_level);
    g_test_add_func("/qemu/command/missing-fds-unplanned", test_missing_fds_and_plan);
    g_test_add_func("/qemu/command/relative-kernel", test_relative_kernel);
    g_test_add_func("/qemu/command/storage-chardevs", test_storage_and_chardevs);
    g_test_add_func("/qemu/command/names", test_names);
    g_test_add_func("/qemu/command/alias-numbering", test_alias_numbering);
}
