/* test-conf-devices.c: libvirt's whole device format.
 *
 * Several <devices> blocks read as one list and written as one; every disk
 * type and device; the devices vnic places but does not run (hostdev,
 * filesystem, vsock, memory, iommu, shmem, crypto, pci-serial), what of
 * them is a PCI device, and that they come back out as they went in. */
#include "test-conf-util.h"

#include <string.h>

/* CloudStack's shape: the balloon in a <devices> block of its own. */
static const char cloudstack_xml[] =
    "<domain type='kvm'><name>i-2-3-VM</name><memory unit='KiB'>524288</memory>"
    "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
    "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
    "<disk type='file' device='disk'><source file='/a.qcow2'/><target dev='vda' bus='virtio'/>"
    "</disk>"
    "<disk type='file' device='cdrom'><source file=''/><target dev='hdc' bus='ide'/>"
    "<readonly/></disk>"
    "<interface type='bridge'><mac address='02:00:00:00:00:01'/><source bridge='br0'/>"
    "<model type='virtio'/></interface>"
    "</devices>"
    "<devices><memballoon model='virtio'/></devices>"
    "<devices><watchdog model='i6300esb' action='none'/></devices>"
    "</domain>";

static void
test_several_devices_blocks(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse(cloudstack_xml);
    g_autofree char *out = NULL;
    g_autoptr(VnicConfDomain) again = NULL;
    const char *first, *balloon, *watchdog;

    g_assert_cmpstr(def->emulator, ==, "/usr/bin/qemu-system-x86_64");
    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_DISK), ==, 2);
    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_MEMBALLOON), ==, 1);
    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_WATCHDOG), ==, 1);
    /* document order across the blocks: the balloon after the NIC */
    for (guint i = 0, seen_nic = 0; i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        seen_nic |= d->kind == VNIC_CONF_DEV_INTERFACE;
        if (d->kind == VNIC_CONF_DEV_MEMBALLOON)
            g_assert_true(seen_nic);
    }
    out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    /* one <devices>, as libvirt's dumpxml writes it */
    first = strstr(out, "<devices>");
    g_assert_nonnull(first);
    g_assert_null(strstr(first + 1, "<devices>"));
    balloon = strstr(out, "<memballoon");
    watchdog = strstr(out, "<watchdog");
    g_assert_nonnull(balloon);
    g_assert_true(balloon < watchdog && watchdog < strstr(out, "</devices>"));
    again = tc_parse(out);
    g_assert_cmpuint(again->devices->len, ==, def->devices->len);
}

static void
test_several_devices_errors(void)
{
    g_autofree char *two_emulators = g_strdup(
        "<domain type='qemu'><name>t</name><memory>65536</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        "<devices><emulator>/a</emulator></devices><devices><emulator>/b</emulator></devices>"
        "</domain>");
    /* the numbering in messages counts across the blocks */
    g_autofree char *bad_second = g_strdup(
        "<domain type='qemu'><name>t</name><memory>65536</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        "<devices><rng model='virtio'/></devices><devices><rng model='egd'/></devices>"
        "</domain>");

    tc_assert_parse_error(two_emulators, VNIC_CONF_ERROR_INVALID,
                          (const char *const[]){ "<emulator>", "more than one", NULL });
    tc_assert_parse_error(bad_second, VNIC_CONF_ERROR_UNSUPPORTED,
                          (const char *const[]){ "rng #2", "'egd'", NULL });
}

static void
test_disk_kinds(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc",
        "<disk type='file' device='cdrom'><source file=''/><target dev='hdc' bus='ide'/>"
        "<readonly/></disk>"
        "<disk type='file' device='cdrom'><target dev='hdd'/></disk>"
        "<disk type='block' device='cdrom'><source dev='/dev/sr0'/><target dev='sdc'/></disk>"
        "<disk type='file' device='floppy'><source file='/f.img'/><target dev='fda'/></disk>"
        "<disk type='file' device='floppy'><target dev='fdb' bus='fdc'/></disk>"
        "<disk type='network' device='disk'><source protocol='nbd' name='x'>"
        "<host name='127.0.0.1' port='10809'/></source><target dev='vda'/></disk>"
        "<disk type='volume'><source pool='p' volume='v'/><target dev='vdb'/></disk>"
        "<disk type='nvme'><source type='pci' managed='yes' namespace='1'>"
        "<address domain='0' bus='1' slot='0' function='0'/></source><target dev='vdc'/></disk>"
        "<disk type='vhostuser'><source type='unix' path='/s'/><target dev='vdd'/></disk>"
        "<disk type='dir'><source dir='/d'/><target dev='hde'/></disk>"
        "<disk type='block' device='lun'><source dev='/dev/sdx'/><target dev='sde'/></disk>"
        "<disk type='file'><source file='/ro.img'/><target dev='vde'/><readonly/></disk>");
    static const struct {
        const char *type, *device, *bus, *source;
        gboolean readonly, no_medium, pci;
    } want[] = {
        { "file", "cdrom", "ide", NULL, TRUE, TRUE, FALSE },
        { "file", "cdrom", "ide", NULL, TRUE, TRUE, FALSE },
        { "block", "cdrom", "scsi", "/dev/sr0", TRUE, FALSE, FALSE },
        { "file", "floppy", "fdc", "/f.img", FALSE, FALSE, FALSE },
        { "file", "floppy", "fdc", NULL, FALSE, TRUE, FALSE },
        { "network", "disk", "virtio", NULL, FALSE, FALSE, TRUE },
        { "volume", "disk", "virtio", NULL, FALSE, FALSE, TRUE },
        { "nvme", "disk", "virtio", NULL, FALSE, FALSE, TRUE },
        { "vhostuser", "disk", "virtio", NULL, FALSE, FALSE, TRUE },
        { "dir", "disk", "ide", NULL, FALSE, FALSE, FALSE },
        { "block", "lun", "scsi", "/dev/sdx", FALSE, FALSE, FALSE },
        { "file", "disk", "virtio", "/ro.img", TRUE, FALSE, TRUE },
    };

    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_DISK), ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        VnicConfDevice *dev = tc_nth(def, VNIC_CONF_DEV_DISK, i);

        g_assert_cmpstr(dev->disk->type, ==, want[i].type);
        g_assert_cmpstr(dev->disk->device, ==, want[i].device);
        g_assert_cmpstr(dev->disk->bus, ==, want[i].bus);
        g_assert_cmpstr(dev->disk->source_file, ==, want[i].source);
        g_assert_cmpint(dev->disk->readonly, ==, want[i].readonly);
        g_assert_cmpint(dev->disk->no_medium, ==, want[i].no_medium);
        g_assert_cmpint(vnic_conf_device_is_pci(dev), ==, want[i].pci);
    }
}

/* A domain with shared guest memory, which virtio-fs needs. */
static VnicConfDomain *
parse_shared(const char *machine, const char *devices)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>"
        "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
        "<os><type arch='x86_64' machine='%s'>hvm</type></os>"
        "<devices>%s</devices></domain>",
        machine, devices);

    return tc_parse(xml);
}

static void
test_placed_kinds(void)
{
    g_autoptr(VnicConfDomain) def = parse_shared(
        "q35",
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address domain='0x0001' bus='0x07' slot='0x1e' function='0x3'/></source></hostdev>"
        "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
        "<product id='0xbeef'/></source></hostdev>"
        "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.1'/>"
        "</hostdev>"
        "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
        "<address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>"
        "<filesystem type='mount'><driver type='virtiofs'/><source dir='/d'/>"
        "<target dir='t'/></filesystem>"
        "<filesystem><source dir='/d'/><target dir='u'/></filesystem>"
        "<vsock><cid auto='yes'/></vsock>"
        "<memory model='virtio-mem'><target><size unit='KiB'>1048576</size><node>0</node>"
        "<block unit='KiB'>2048</block></target></memory>"
        "<memory model='dimm'><target><size unit='KiB'>131072</size></target>"
        "<address type='dimm' slot='0'/></memory>"
        "<iommu model='virtio'/>"
        "<shmem name='s'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>"
        "<crypto model='virtio' type='qemu'><backend model='builtin'/></crypto>"
        "<serial type='pty'><target type='pci-serial'/></serial>"
        "<serial type='pty'><target type='isa-serial'/></serial>"
        "<panic model='isa'/><controller type='fdc'/><controller type='ccid'/>"
        "<redirfilter><usbdev allow='yes'/></redirfilter>");
    static const struct {
        VnicConfDeviceKind kind;
        const char *model;
        gboolean pci;
    } want[] = {
        { VNIC_CONF_DEV_HOSTDEV, NULL, TRUE },
        { VNIC_CONF_DEV_HOSTDEV, NULL, FALSE },
        { VNIC_CONF_DEV_HOSTDEV, NULL, TRUE },
        { VNIC_CONF_DEV_HOSTDEV, "vfio-pci", TRUE },
        { VNIC_CONF_DEV_FILESYSTEM, "virtiofs", TRUE },
        { VNIC_CONF_DEV_FILESYSTEM, NULL, TRUE },
        { VNIC_CONF_DEV_VSOCK, "virtio", TRUE },
        { VNIC_CONF_DEV_MEMORY, "virtio-mem", TRUE },
        { VNIC_CONF_DEV_MEMORY, "dimm", FALSE },
        { VNIC_CONF_DEV_IOMMU, "virtio", TRUE },
        { VNIC_CONF_DEV_SHMEM, "ivshmem-plain", TRUE },
        { VNIC_CONF_DEV_CRYPTO, "virtio", TRUE },
        { VNIC_CONF_DEV_SERIAL, NULL, TRUE },
        { VNIC_CONF_DEV_SERIAL, NULL, FALSE },
        { VNIC_CONF_DEV_OTHER, NULL, FALSE },
    };
    guint at = 0;
    VnicConfDevice *hostdev;

    for (guint i = 0; i < def->devices->len && at < G_N_ELEMENTS(want); i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == VNIC_CONF_DEV_CONTROLLER)
            continue;
        g_assert_cmpint(dev->kind, ==, want[at].kind);
        g_assert_cmpstr(dev->model, ==, want[at].model);
        g_assert_cmpint(vnic_conf_device_is_pci(dev), ==, want[at].pci);
        at++;
    }
    g_assert_cmpuint(at, ==, G_N_ELEMENTS(want));
    hostdev = tc_nth(def, VNIC_CONF_DEV_HOSTDEV, 0);
    g_assert_cmpstr(hostdev->hostdev->type, ==, "pci");
    g_assert_true(hostdev->hostdev->has_source_addr);
    g_assert_cmpuint(hostdev->hostdev->source_addr.domain, ==, 1);
    g_assert_cmpuint(hostdev->hostdev->source_addr.bus, ==, 7);
    g_assert_cmpuint(hostdev->hostdev->source_addr.slot, ==, 0x1e);
    g_assert_cmpuint(hostdev->hostdev->source_addr.function, ==, 3);
    g_assert_false(hostdev->addr.set); /* the host address is not the guest's */
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_SERIAL, 0)->target_type, ==, "pci-serial");
    g_assert_nonnull(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_FDC, 0));
    g_assert_nonnull(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_CCID, 0));
}

/* Whatever vnic does not model comes back exactly; a guest PCI address on
 * a hostdev is read and written like any other device's. */
static void
test_placed_kinds_verbatim(void)
{
    static const char *const elements[] = {
        "<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source>"
        "<address domain='0x0000' bus='0x07' slot='0x1e' function='0x3'/></source>"
        "<rom bar='off'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></hostdev>",
        "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs' queue='1024'/>"
        "<binary path='/usr/libexec/virtiofsd' xattr='on'/><source dir='/d'/><target dir='t'/>"
        "</filesystem>",
        "<vsock model='virtio'><cid auto='no' address='3'/></vsock>",
        "<memory model='virtio-pmem' access='shared'><source><path>/p</path></source>"
        "<target><size unit='KiB'>524288</size></target></memory>",
        "<shmem name='s'><model type='ivshmem-doorbell'/><server path='/x'/><msi vectors='4'/>"
        "</shmem>",
        "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
        "<source protocol='nbd' name='x'><host name='h' port='1'/></source>"
        "<target dev='vda' bus='virtio'/></disk>",
        "<disk type='file' device='floppy'><source file='/f.img'/><target dev='fda' bus='fdc'/>"
        "<address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>",
    };

    for (guint i = 0; i < G_N_ELEMENTS(elements); i++) {
        g_autoptr(VnicConfDomain) def = parse_shared("pc", elements[i]);
        g_autofree char *out = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
        g_autoptr(GRegex) indent = g_regex_new("\n *", 0, 0, NULL);
        g_autofree char *flat = g_regex_replace_literal(indent, out, -1, 0, "", 0, NULL);

        if (strstr(flat, elements[i]) == NULL)
            g_error("not carried verbatim: %s\nin: %s", elements[i], out);
    }
}

void
test_conf_devices_register(void)
{
    g_test_add_func("/conf/devices/several-blocks", test_several_devices_blocks);
    g_test_add_func("/conf/devices/several-blocks-errors", test_several_devices_errors);
    g_test_add_func("/conf/devices/disk-kinds", test_disk_kinds);
    g_test_add_func("/conf/devices/placed-kinds", test_placed_kinds);
    g_test_add_func("/conf/devices/placed-kinds-verbatim", test_placed_kinds_verbatim);
}
