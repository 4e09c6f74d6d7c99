/* test-conf-errors.c: every validation error of the conf layer.
 *
 * One table row per rule: the XML (a whole document, or device elements put
 * into a minimal domain of the given machine), the expected VNIC_CONF_ERROR
 * code, and strings the message must contain: the element, the attribute
 * and the offending value, and the device ("interface #2") when there is one.
 */
#include "test-conf-util.h"

typedef struct {
    const char *name;
    const char *machine;      /* NULL: xml is a whole document */
    const char *xml;
    VnicConfErrorCode code;
    const char *needles[5];
} ErrorCase;

#define VNIC_XMLNS " xmlns:vnic='urn:x-vnic:domain:1'"
#define NAME_MEM "<name>t</name><memory>65536</memory>"
#define OS_PC "<os><type>hvm</type></os>"
#define DOMAIN(inner) "<domain type='qemu'" VNIC_XMLNS ">" inner "</domain>"
#define NIC(inner) "<interface type='ethernet'>" inner "</interface>"
#define MAC1 "<mac address='52:54:00:00:00:01'/>"

static const ErrorCase domain_cases[] = {
    { "xml/not-well-formed", NULL, "<domain type='qemu'><name>t</name>", VNIC_CONF_ERROR_XML,
      { "XML error", NULL } },
    { "xml/doctype", NULL,
      "<!DOCTYPE domain [<!ENTITY x 'y'>]><domain type='qemu'>" NAME_MEM OS_PC "</domain>",
      VNIC_CONF_ERROR_XML, { "DOCTYPE", NULL } },
    { "xml/undeclared-prefix", NULL,
      "<domain type='qemu'>" NAME_MEM OS_PC "<vnic:hotplug/></domain>", VNIC_CONF_ERROR_XML,
      { "vnic", NULL } },
    { "xml/empty", NULL, "", VNIC_CONF_ERROR_XML, { NULL } },
    { "root/not-domain", NULL, "<interface type='ethernet'/>", VNIC_CONF_ERROR_INVALID,
      { "<interface>", "<domain>", NULL } },
    { "root/namespaced", NULL, "<domain xmlns='urn:example' type='qemu'>" NAME_MEM OS_PC "</domain>",
      VNIC_CONF_ERROR_INVALID, { "<domain>", "'urn:example'", NULL } },
    { "root/no-type", NULL, "<domain>" NAME_MEM OS_PC "</domain>", VNIC_CONF_ERROR_MISSING,
      { "<domain>", "type", NULL } },
    { "root/type-xen", NULL, "<domain type='xen'>" NAME_MEM OS_PC "</domain>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<domain type>", "'xen'", NULL } },
    { "name/missing", NULL, DOMAIN("<memory>65536</memory>" OS_PC), VNIC_CONF_ERROR_MISSING,
      { "<name>", NULL } },
    { "name/empty", NULL, DOMAIN("<name></name><memory>1</memory>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<name>", "''", NULL } },
    { "name/slash", NULL, DOMAIN("<name>a/b</name><memory>1</memory>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<name>", "'a/b'", NULL } },
    { "name/duplicate", NULL, DOMAIN("<name>a</name><name>b</name><memory>1</memory>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<name>", "more than one", NULL } },
    { "uuid/short", NULL, DOMAIN(NAME_MEM "<uuid>1234</uuid>" OS_PC), VNIC_CONF_ERROR_INVALID,
      { "<uuid>", "'1234'", NULL } },
    { "uuid/bad-dashes", NULL,
      DOMAIN(NAME_MEM "<uuid>5f0e5b8e52b1-4b7e-9a3c-2d0c-6f1a7b01</uuid>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<uuid>", "'5f0e5b8e52b1-4b7e-9a3c-2d0c-6f1a7b01'", NULL } },
    { "uuid/not-hex", NULL,
      DOMAIN(NAME_MEM "<uuid>5f0e5b8e-52b1-4b7e-9a3c-2d0c6f1a7bzz</uuid>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<uuid>", "7bzz'", NULL } },
    { "memory/missing", NULL, DOMAIN("<name>t</name>" OS_PC), VNIC_CONF_ERROR_MISSING,
      { "<memory>", NULL } },
    { "memory/unit", NULL, DOMAIN("<name>t</name><memory unit='parsecs'>1</memory>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<memory unit>", "'parsecs'", NULL } },
    { "memory/unit-kx", NULL, DOMAIN("<name>t</name><memory unit='kx'>1</memory>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<memory unit>", "'kx'", NULL } },
    { "memory/not-number", NULL, DOMAIN("<name>t</name><memory>lots</memory>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<memory>", "'lots'", NULL } },
    { "memory/negative", NULL, DOMAIN("<name>t</name><memory>-5</memory>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<memory>", "'-5'", NULL } },
    { "memory/overflow", NULL,
      DOMAIN("<name>t</name><memory unit='EiB'>99999</memory>" OS_PC), VNIC_CONF_ERROR_INVALID,
      { "<memory>", "'99999'", NULL } },
    { "memory/zero", NULL, DOMAIN("<name>t</name><memory>0</memory>" OS_PC),
      VNIC_CONF_ERROR_INVALID, { "<memory>", "'0'", NULL } },
    { "current-memory/exceeds", NULL,
      DOMAIN("<name>t</name><memory unit='MiB'>1</memory>"
             "<currentMemory unit='MiB'>2</currentMemory>" OS_PC),
      VNIC_CONF_ERROR_CONFLICT, { "<currentMemory>", "2048", "<memory>", "1024", NULL } },
    { "current-memory/bad", NULL,
      DOMAIN(NAME_MEM "<currentMemory>some</currentMemory>" OS_PC), VNIC_CONF_ERROR_INVALID,
      { "<currentMemory>", "'some'", NULL } },
    { "vcpu/zero", NULL, DOMAIN(NAME_MEM "<vcpu>0</vcpu>" OS_PC), VNIC_CONF_ERROR_INVALID,
      { "<vcpu>", "'0'", NULL } },
    { "vcpu/text", NULL, DOMAIN(NAME_MEM "<vcpu>two</vcpu>" OS_PC), VNIC_CONF_ERROR_INVALID,
      { "<vcpu>", "'two'", NULL } },
    { "os/missing", NULL, DOMAIN(NAME_MEM), VNIC_CONF_ERROR_MISSING, { "<os>", NULL } },
    { "os/no-type", NULL, DOMAIN(NAME_MEM "<os><kernel>k</kernel></os>"),
      VNIC_CONF_ERROR_MISSING, { "<os>", "<type>", NULL } },
    { "os/type-linux", NULL, DOMAIN(NAME_MEM "<os><type>linux</type></os>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "<type>", "'linux'", NULL } },
    { "os/arch", NULL, DOMAIN(NAME_MEM "<os><type arch='i686'>hvm</type></os>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "arch", "'i686'", NULL } },
    { "os/machine-microvm", NULL, DOMAIN(NAME_MEM "<os><type machine='microvm'>hvm</type></os>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "<type machine>", "'microvm'", NULL } },
    { "os/machine-isapc", NULL, DOMAIN(NAME_MEM "<os><type machine='isapc'>hvm</type></os>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "machine", "'isapc'", NULL } },
    { "os/machine-pc-i440fx-empty", NULL,
      DOMAIN(NAME_MEM "<os><type machine='pc-i440fx-'>hvm</type></os>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "machine", "'pc-i440fx-'", NULL } },
    { "os/machine-virt", NULL, DOMAIN(NAME_MEM "<os><type machine='virt'>hvm</type></os>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "machine", "'virt'", NULL } },
    { "vnic/unknown-element", NULL,
      "<domain type='qemu' xmlns:v='urn:x-vnic:domain:1'>" NAME_MEM OS_PC "<v:turbo/></domain>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<v:turbo>", "urn:x-vnic:domain:1", NULL } },
    { "vnic/hotplug-spare-range", NULL,
      DOMAIN(NAME_MEM OS_PC "<vnic:hotplug spare-ports='300'/>"), VNIC_CONF_ERROR_INVALID,
      { "<vnic:hotplug spare-ports>", "'300'", NULL } },
    { "vnic/hotplug-spare-text", NULL,
      DOMAIN(NAME_MEM OS_PC "<vnic:hotplug spare-ports='many'/>"), VNIC_CONF_ERROR_INVALID,
      { "spare-ports", "'many'", NULL } },
    { "vnic/hotplug-guest-unplug", NULL,
      DOMAIN(NAME_MEM OS_PC "<vnic:hotplug guest-unplug='maybe'/>"), VNIC_CONF_ERROR_INVALID,
      { "<vnic:hotplug guest-unplug>", "'maybe'", NULL } },
    { "vnic/hotplug-acpi-index", NULL,
      DOMAIN(NAME_MEM OS_PC "<vnic:hotplug acpi-index='on'/>"), VNIC_CONF_ERROR_INVALID,
      { "<vnic:hotplug acpi-index>", "'on'", NULL } },
    { "vnic/hotplug-unknown-attr", NULL,
      DOMAIN(NAME_MEM OS_PC "<vnic:hotplug color='red'/>"), VNIC_CONF_ERROR_UNSUPPORTED,
      { "'color'", "<vnic:hotplug>", NULL } },
    { "vnic/hotplug-duplicate", NULL,
      DOMAIN(NAME_MEM OS_PC "<vnic:hotplug/><vnic:hotplug/>"), VNIC_CONF_ERROR_INVALID,
      { "<vnic:hotplug>", "more than one", NULL } },
    { "devices/duplicate-emulator", "pc", "<emulator>/a</emulator><emulator>/b</emulator>",
      VNIC_CONF_ERROR_INVALID, { "<emulator>", "more than one", NULL } },
};

static const ErrorCase device_cases[] = {
    /* the element table: refused and unknown elements */
    { "hostdev/no-source", "pc", "<hostdev mode='subsystem' type='pci'/>",
      VNIC_CONF_ERROR_MISSING, { "hostdev #1", "<hostdev type='pci'>", "<source>", NULL } },
    { "hostdev/no-source-address", "pc",
      "<hostdev mode='subsystem' type='pci'><source/></hostdev>", VNIC_CONF_ERROR_MISSING,
      { "hostdev #1", "<source><address>", NULL } },
    { "hostdev/source-slot", "pc",
      "<hostdev mode='subsystem' type='pci'><source><address bus='0' slot='40' "
      "function='0'/></source></hostdev>",
      VNIC_CONF_ERROR_INVALID, { "hostdev #1", "slot", "'40'", NULL } },
    { "hostdev/no-type", "pc", "<hostdev mode='subsystem'/>", VNIC_CONF_ERROR_MISSING,
      { "<hostdev>", "type", NULL } },
    { "hostdev/capabilities", "pc", "<hostdev mode='capabilities' type='storage'/>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<hostdev mode>", "'capabilities'", NULL } },
    { "hostdev/mdev-ccw", "pc", "<hostdev mode='subsystem' type='mdev' model='vfio-ccw'/>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "'vfio-ccw'", NULL } },
    { "filesystem/type", "pc", "<filesystem type='ram'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "filesystem #1", "<filesystem type>", "'ram'", NULL } },
    { "filesystem/driver", "pc", "<filesystem><driver type='magic'/></filesystem>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<driver type>", "'magic'", NULL } },
    { "shmem/no-name", "pc", "<shmem/>", VNIC_CONF_ERROR_MISSING, { "<shmem>", "name", NULL } },
    { "shmem/model", "pc", "<shmem name='x'><model type='ivshmem-x'/></shmem>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "'ivshmem-x'", NULL } },
    { "iommu/virtio-on-pc", "pc", "<iommu model='virtio'/>", VNIC_CONF_ERROR_CONFLICT,
      { "iommu #1", "<iommu model='virtio'>", "q35", NULL } },
    { "iommu/smmuv3", "q35", "<iommu model='smmuv3'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "'smmuv3'", "ARM", NULL } },
    { "vsock/model", "pc", "<vsock model='vhost'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "vsock #1", "<vsock model>", "'vhost'", NULL } },
    { "memory/no-model", "pc", "<memory/>", VNIC_CONF_ERROR_MISSING,
      { "memory #1", "<memory>", "model", NULL } },
    { "memory/model", "pc", "<memory model='hbm'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<memory model>", "'hbm'", NULL } },
    { "panic/pvpanic", "q35", "<panic model='pvpanic'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "panic #1", "<panic model>", "'pvpanic'", NULL } },
    { "panic/pseries", "pc", "<panic model='pseries'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "'pseries'", "pSeries", NULL } },
    { "crypto/model", "pc", "<crypto model='fast'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "crypto #1", "'fast'", NULL } },
    { "disk/floppy-on-ide", "pc",
      "<disk type='file' device='floppy'><target dev='fda' bus='ide'/></disk>",
      VNIC_CONF_ERROR_CONFLICT, { "disk #1", "floppy", "'fdc'", NULL } },
    { "disk/disk-on-fdc", "pc", "<disk type='file' device='disk'><target dev='fda'/></disk>",
      VNIC_CONF_ERROR_CONFLICT, { "disk #1", "bus 'fdc'", NULL } },
    { "disk/cdrom-on-virtio", "pc",
      "<disk type='file' device='cdrom'><target dev='vda' bus='virtio'/></disk>",
      VNIC_CONF_ERROR_CONFLICT, { "disk #1", "device='cdrom'", "removable", NULL } },
    { "disk/lun-file", "pc",
      "<disk type='file' device='lun'><source file='/x'/><target dev='sda'/></disk>",
      VNIC_CONF_ERROR_CONFLICT, { "disk #1", "device='lun'", "type='block'", NULL } },
    { "filesystem/no-target", "pc", "<filesystem><source dir='/d'/></filesystem>",
      VNIC_CONF_ERROR_MISSING, { "filesystem #1", "<target dir>", NULL } },
    { "filesystem/virtiofs-unshared", "pc",
      "<filesystem><driver type='virtiofs'/><source dir='/d'/><target dir='t'/></filesystem>",
      VNIC_CONF_ERROR_CONFLICT, { "filesystem #1", "virtiofs", "shared", NULL } },
    { "iommu/two", "q35", "<iommu model='virtio'/><iommu model='intel'/>",
      VNIC_CONF_ERROR_CONFLICT, { "iommu #2", "single <iommu>", NULL } },
    { "vsock/two", "pc", "<vsock/><vsock/>", VNIC_CONF_ERROR_CONFLICT,
      { "vsock #2", "single <vsock>", NULL } },
    { "hostdev/twice", "pc",
      "<hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0' function='0'/>"
      "</source></hostdev><hostdev mode='subsystem' type='pci'><source>"
      "<address domain='0' bus='0x01' slot='0' function='0'/></source></hostdev>",
      VNIC_CONF_ERROR_CONFLICT, { "hostdev #2", "already given to hostdev #1", NULL } },
    { "shmem/legacy-default", "pc", "<shmem name='x'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<shmem name='x'>", "'ivshmem'", "ivshmem-plain", NULL } },
    { "disk/type", "pc", "<disk type='ram'><target dev='vda'/></disk>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<disk type>", "'ram'", NULL } },
    { "controller/pxb-on-q35", "q35", "<controller type='pci' model='pci-expander-bus'/>",
      VNIC_CONF_ERROR_CONFLICT, { "pci-expander-bus", "pcie-expander-bus", NULL } },
    { "controller/pxb-pcie-on-pc", "pc", "<controller type='pci' model='pcie-expander-bus'/>",
      VNIC_CONF_ERROR_CONFLICT, { "pcie-expander-bus", "q35", NULL } },
    { "controller/switch-on-pc", "pc",
      "<controller type='pci' model='pcie-switch-upstream-port'/>", VNIC_CONF_ERROR_CONFLICT,
      { "pcie-switch-upstream-port", "q35", NULL } },
    { "refused/pstore", "pc", "<pstore backend='acpi-erst'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<pstore>", NULL } },
    { "refused/nvram", "pc", "<nvram/>", VNIC_CONF_ERROR_UNSUPPORTED, { "<nvram>", NULL } },
    { "refused/unknown", "pc", "<frobnicator/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<frobnicator>", "silently", NULL } },
    { "refused/foreign-namespace", "pc", "<x:thing xmlns:x='urn:example'/>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<x:thing>", NULL } },
    { "vnic/unknown-in-disk", "pc",
      "<disk type='file'><target dev='vda'/><vnic:unplug guest='deny'/></disk>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "disk #1", "<vnic:unplug>", "<disk>", NULL } },
    /* disk */
    { "disk/no-target", "pc", "<disk type='file'><source file='/x'/></disk>",
      VNIC_CONF_ERROR_MISSING, { "<disk>", "<target>", NULL } },
    { "disk/target-no-dev", "pc", "<disk type='file'><target bus='virtio'/></disk>",
      VNIC_CONF_ERROR_MISSING, { "<target>", "dev", NULL } },
    { "disk/bus-xen", "pc", "<disk type='file'><target dev='xvda' bus='xen'/></disk>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<target bus>", "'xen'", NULL } },
    { "disk/bus-unknown-prefix", "pc", "<disk type='file'><target dev='xvda'/></disk>",
      VNIC_CONF_ERROR_INVALID, { "<target dev='xvda'>", "bus", NULL } },
    { "disk/ide-on-q35", "q35", "<disk type='file'><target dev='hda'/></disk>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "disk #1", "'hda'", "ide", NULL } },
    { "disk/sata-with-pci-address", "pc",
      "<disk type='file'><target dev='sda' bus='sata'/>"
      "<address type='pci' domain='0' bus='0' slot='5' function='0'/></disk>",
      VNIC_CONF_ERROR_CONFLICT, { "disk #1", "<address type='pci'>", "bus='sata'", NULL } },
    { "disk/virtio-with-drive-address", "pc",
      "<disk type='file'><target dev='vda'/><address type='drive' controller='0'/></disk>",
      VNIC_CONF_ERROR_CONFLICT, { "<address type='drive'>", "bus='virtio'", NULL } },
    /* controller */
    { "controller/no-type", "pc", "<controller index='0'/>", VNIC_CONF_ERROR_MISSING,
      { "controller #1", "<controller>", "type", NULL } },
    { "controller/type-xenbus", "pc", "<controller type='xenbus'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "'xenbus'", NULL } },
    { "controller/index-text", "pc", "<controller type='usb' index='one'/>",
      VNIC_CONF_ERROR_INVALID, { "<controller index>", "'one'", NULL } },
    { "controller/index-range", "pc", "<controller type='usb' index='256'/>",
      VNIC_CONF_ERROR_INVALID, { "<controller index>", "'256'", NULL } },
    { "controller/pci-no-model", "pc", "<controller type='pci' index='1'/>",
      VNIC_CONF_ERROR_MISSING, { "controller #1", "index='1'", "model", NULL } },
    { "controller/pci-no-model-no-index", "pc",
      "<controller type='pci' index='0' model='pci-root'/><controller type='pci'/>",
      VNIC_CONF_ERROR_MISSING, { "controller #2", "index='1'", "model", NULL } },
    { "controller/pci-index0-not-root", "pc", "<controller type='pci' index='0' model='pci-bridge'/>",
      VNIC_CONF_ERROR_CONFLICT, { "index='0'", "'pci-bridge'", "'pci-root'", NULL } },
    { "controller/pci-index0-q35-bridge", "q35",
      "<controller type='pci' index='0' model='pcie-root-port'/>", VNIC_CONF_ERROR_CONFLICT,
      { "index='0'", "'pcie-root-port'", "'pcie-root'", NULL } },
    { "controller/pcie-root-on-pc", "pc", "<controller type='pci' index='0' model='pcie-root'/>",
      VNIC_CONF_ERROR_CONFLICT, { "<controller model='pcie-root'>", "pc", NULL } },
    { "controller/pci-root-on-q35", "q35", "<controller type='pci' index='0' model='pci-root'/>",
      VNIC_CONF_ERROR_CONFLICT, { "<controller model='pci-root'>", "q35", NULL } },
    { "controller/root-not-index0", "pc", "<controller type='pci' index='2' model='pci-root'/>",
      VNIC_CONF_ERROR_INVALID, { "index='2'", "'pci-root'", "index 0", NULL } },
    { "controller/root-port-on-pc", "pc",
      "<controller type='pci' index='1' model='pcie-root-port'/>", VNIC_CONF_ERROR_CONFLICT,
      { "controller #1", "'pcie-root-port'", "q35", NULL } },
    { "controller/dmi-bridge-on-pc", "pc",
      "<controller type='pci' index='1' model='dmi-to-pci-bridge'/>", VNIC_CONF_ERROR_CONFLICT,
      { "'dmi-to-pci-bridge'", NULL } },
    { "controller/pcie-pci-bridge-on-pc", "pc",
      "<controller type='pci' index='1' model='pcie-to-pci-bridge'/>", VNIC_CONF_ERROR_CONFLICT,
      { "'pcie-to-pci-bridge'", NULL } },
    { "controller/ide-on-q35", "q35", "<controller type='ide' index='0'/>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<controller type='ide'>", "q35", NULL } },
    { "controller/duplicate", "pc",
      "<controller type='usb' index='0'/><controller type='usb' index='0'/>",
      VNIC_CONF_ERROR_CONFLICT, { "controller #2", "type='usb' index='0'", "controller #1", NULL } },
    { "controller/duplicate-pci", "q35",
      "<controller type='pci' index='1' model='pcie-root-port'/>"
      "<controller type='pci' index='1' model='pcie-root-port'/>",
      VNIC_CONF_ERROR_CONFLICT, { "type='pci' index='1'", NULL } },
    { "controller/usb-model", "pc", "<controller type='usb' index='0' model='qusb'/>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<controller model>", "'qusb'", NULL } },
    { "controller/scsi-model", "pc", "<controller type='scsi' model='ibmvscsi'/>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<controller model>", "'ibmvscsi'", NULL } },
    { "controller/sata-model", "pc", "<controller type='sata' model='piix4'/>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "<controller model>", "'piix4'", NULL } },
    { "controller/virtio-serial-ports", "pc", "<controller type='virtio-serial' ports='0'/>",
      VNIC_CONF_ERROR_INVALID, { "<controller ports>", "'0'", NULL } },
    { "controller/target-port", "q35",
      "<controller type='pci' index='1' model='pcie-root-port'><target port='0x100'/></controller>",
      VNIC_CONF_ERROR_INVALID, { "<target port>", "'0x100'", NULL } },
    { "controller/target-chassis", "q35",
      "<controller type='pci' index='1' model='pcie-root-port'><target chassis='x1'/></controller>",
      VNIC_CONF_ERROR_INVALID, { "<target chassis>", "'x1'", NULL } },
    { "controller/target-chassisnr", "pc",
      "<controller type='pci' index='1' model='pci-bridge'><target chassisNr='0'/></controller>",
      VNIC_CONF_ERROR_INVALID, { "<target chassisNr>", "'0'", NULL } },
    { "controller/target-busnr", "pc",
      "<controller type='pci' index='1' model='pci-bridge'><target busNr='255'/></controller>",
      VNIC_CONF_ERROR_INVALID, { "<target busNr>", "'255'", NULL } },
    { "controller/target-hotplug", "q35",
      "<controller type='pci' index='1' model='pcie-root-port'><target hotplug='maybe'/></controller>",
      VNIC_CONF_ERROR_INVALID, { "<target hotplug>", "'maybe'", NULL } },
    { "controller/root-with-address", "pc",
      "<controller type='pci' index='0' model='pci-root'>"
      "<address type='pci' domain='0' bus='0' slot='3' function='0'/></controller>",
      VNIC_CONF_ERROR_CONFLICT, { "<address type='pci'>", "pci-root", NULL } },
    { "controller/usb-none-with-address", "pc",
      "<controller type='usb' index='0' model='none'>"
      "<address type='pci' domain='0' bus='0' slot='3' function='0'/></controller>",
      VNIC_CONF_ERROR_CONFLICT, { "<address type='pci'>", "model='none'", NULL } },
    /* interface */
    { "interface/no-type", "pc", "<interface/>", VNIC_CONF_ERROR_MISSING,
      { "interface #1", "<interface>", "type", NULL } },
    { "interface/type-network-no-source", "pc", "<interface type='network'/>",
      VNIC_CONF_ERROR_MISSING, { "interface #1", "<interface type='network'>", "<source>", NULL } },
    { "interface/network-no-name", "pc",
      "<interface type='network'><source portgroup='a'/></interface>", VNIC_CONF_ERROR_MISSING,
      { "<source>", "network", NULL } },
    { "interface/network-bridge-and-dev", "pc",
      "<interface type='network'><source network='n' bridge='b' dev='d'/></interface>",
      VNIC_CONF_ERROR_CONFLICT, { "'b'", "'d'", NULL } },
    { "interface/type-bogus", "pc", "<interface type='bogus'/>", VNIC_CONF_ERROR_INVALID,
      { "'bogus'", "<interface type>", NULL } },
    { "interface/vhostuser-no-source", "pc", "<interface type='vhostuser'/>",
      VNIC_CONF_ERROR_MISSING, { "<interface type='vhostuser'>", "<source>", NULL } },
    { "interface/vhostuser-no-mode", "pc",
      "<interface type='vhostuser'><source type='unix' path='/s'/><model type='virtio'/>"
      "</interface>", VNIC_CONF_ERROR_MISSING, { "<source>", "mode", NULL } },
    { "interface/vhostuser-no-type", "pc",
      "<interface type='vhostuser'><source path='/s' mode='client'/><model type='virtio'/>"
      "</interface>", VNIC_CONF_ERROR_MISSING, { "<source>", "type", NULL } },
    { "interface/vhostuser-tcp", "pc",
      "<interface type='vhostuser'><source type='tcp' path='/s' mode='client'/>"
      "<model type='virtio'/></interface>", VNIC_CONF_ERROR_UNSUPPORTED, { "'tcp'", NULL } },
    { "interface/vhostuser-relative", "pc",
      "<interface type='vhostuser'><source type='unix' path='s' mode='client'/>"
      "<model type='virtio'/></interface>", VNIC_CONF_ERROR_INVALID, { "'s'", "absolute", NULL } },
    { "interface/vhostuser-model", "pc",
      "<interface type='vhostuser'><source type='unix' path='/s' mode='client'/></interface>",
      VNIC_CONF_ERROR_CONFLICT, { "virtio", "'rtl8139'", NULL } },
    { "interface/vhostuser-bandwidth", "pc",
      "<interface type='vhostuser'><source type='unix' path='/s' mode='server'/>"
      "<model type='virtio'/><bandwidth><inbound average='10'/></bandwidth></interface>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "vhostuser", "<bandwidth>", NULL } },
    { "interface/bandwidth-no-average", "pc",
      NIC("<bandwidth><inbound peak='10'/></bandwidth>"), VNIC_CONF_ERROR_MISSING,
      { "<inbound>", "average", NULL } },
    { "interface/bandwidth-zero", "pc", NIC("<bandwidth><outbound average='0'/></bandwidth>"),
      VNIC_CONF_ERROR_INVALID, { "average", "'0'", NULL } },
    { "interface/bandwidth-floor", "pc",
      NIC("<bandwidth><inbound average='10' floor='5'/></bandwidth>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "<inbound floor='5'>", NULL } },
    { "interface/bandwidth-peak-low", "pc",
      NIC("<bandwidth><inbound average='10' peak='5'/></bandwidth>"), VNIC_CONF_ERROR_INVALID,
      { "<inbound peak>", "'5'", NULL } },
    { "interface/driver-name", "pc", NIC("<driver name='vfio'/>"), VNIC_CONF_ERROR_UNSUPPORTED,
      { "'vfio'", "<driver name>", NULL } },
    { "interface/unmanaged-no-dev", "pc", NIC("<target managed='no'/>"),
      VNIC_CONF_ERROR_MISSING, { "<target managed='no'>", "dev", NULL } },
    { "interface/unmanaged-direct", "pc",
      "<interface type='direct'><source dev='eth0'/><target dev='mv0' managed='no'/>"
      "</interface>", VNIC_CONF_ERROR_UNSUPPORTED, { "<target managed='no'>", "'direct'", NULL } },
    { "interface/managed-bad", "pc", NIC("<target dev='t0' managed='maybe'/>"),
      VNIC_CONF_ERROR_INVALID, { "'maybe'", "managed", NULL } },
    { "interface/mac-invalid", "pc",
      NIC(MAC1) NIC("<mac address='zz:00:00:00:00:01'/>"), VNIC_CONF_ERROR_INVALID,
      { "interface #2", "<mac address>", "'zz:00:00:00:00:01'", NULL } },
    { "interface/mac-short", "pc", NIC("<mac address='52:54:00:00:01'/>"),
      VNIC_CONF_ERROR_INVALID, { "<mac address>", "'52:54:00:00:01'", NULL } },
    { "interface/mac-dashes", "pc", NIC("<mac address='52-54-00-00-00-01'/>"),
      VNIC_CONF_ERROR_INVALID, { "'52-54-00-00-00-01'", NULL } },
    { "interface/mac-multicast", "pc", NIC("<mac address='01:00:5e:00:00:01'/>"),
      VNIC_CONF_ERROR_INVALID, { "<mac address>", "'01:00:5e:00:00:01'", "multicast", NULL } },
    { "interface/mac-no-address", "pc", NIC("<mac/>"), VNIC_CONF_ERROR_MISSING,
      { "<mac>", "address", NULL } },
    { "interface/mac-duplicate", "pc",
      NIC(MAC1) NIC("<mac address='52:54:00:00:00:02'/>") NIC("<mac address='52:54:00:00:00:01'/>"),
      VNIC_CONF_ERROR_CONFLICT,
      { "interface #3", "<mac address='52:54:00:00:00:01'>", "interface #1", NULL } },
    { "interface/mac-duplicate-case", "pc",
      NIC(MAC1) NIC("<mac address='52:54:00:00:00:0A'/>") NIC("<mac address='52:54:00:00:00:0a'/>"),
      VNIC_CONF_ERROR_CONFLICT, { "interface #3", "'52:54:00:00:00:0a'", "interface #2", NULL } },
    { "interface/mac-twice", "pc", NIC(MAC1 MAC1), VNIC_CONF_ERROR_INVALID,
      { "<mac>", "more than one", NULL } },
    { "interface/bridge-no-source", "pc", "<interface type='bridge'/>", VNIC_CONF_ERROR_MISSING,
      { "<interface type='bridge'>", "<source>", NULL } },
    { "interface/bridge-no-bridge", "pc",
      "<interface type='bridge'><source dev='eth0'/></interface>", VNIC_CONF_ERROR_MISSING,
      { "<source>", "bridge", NULL } },
    { "interface/bridge-empty", "pc",
      "<interface type='bridge'><source bridge=''/></interface>", VNIC_CONF_ERROR_INVALID,
      { "<source bridge>", "''", NULL } },
    { "interface/direct-no-dev", "pc",
      "<interface type='direct'><source mode='vepa'/></interface>", VNIC_CONF_ERROR_MISSING,
      { "<source>", "dev", NULL } },
    { "interface/direct-mode", "pc",
      "<interface type='direct'><source dev='eth0' mode='bogus'/></interface>",
      VNIC_CONF_ERROR_INVALID, { "<source mode>", "'bogus'", NULL } },
    { "interface/target-long", "pc", NIC("<target dev='averyveryverylongname'/>"),
      VNIC_CONF_ERROR_INVALID, { "<target dev>", "'averyveryverylongname'", NULL } },
    { "interface/target-slash", "pc", NIC("<target dev='tap/0'/>"), VNIC_CONF_ERROR_INVALID,
      { "<target dev>", "'tap/0'", NULL } },
    { "interface/target-blank", "pc", NIC("<target dev='tap 0'/>"), VNIC_CONF_ERROR_INVALID,
      { "<target dev>", "'tap 0'", NULL } },
    { "interface/target-empty", "pc", NIC("<target dev=''/>"), VNIC_CONF_ERROR_INVALID,
      { "<target dev>", "''", NULL } },
    { "vnic/reconnect-mode", NULL, DOMAIN(NAME_MEM OS_PC "<vnic:reconnect mode='always'/>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "<vnic:reconnect mode>", "'always'", "hub, replug, off",
                                     NULL } },
    { "vnic/reconnect-no-mode", NULL, DOMAIN(NAME_MEM OS_PC "<vnic:reconnect/>"),
      VNIC_CONF_ERROR_MISSING, { "<vnic:reconnect>", "mode", NULL } },
    { "vnic/reconnect-attr", NULL,
      DOMAIN(NAME_MEM OS_PC "<vnic:reconnect mode='hub' delay='5'/>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "'delay'", "<vnic:reconnect>", NULL } },
    { "vnic/reconnect-twice", NULL,
      DOMAIN(NAME_MEM OS_PC "<vnic:reconnect mode='hub'/><vnic:reconnect mode='off'/>"),
      VNIC_CONF_ERROR_INVALID, { "<domain>", "more than one", "<vnic:reconnect>", NULL } },
    { "vnic/reconnect-default", NULL, DOMAIN(NAME_MEM OS_PC "<vnic:reconnect mode='default'/>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "<vnic:reconnect mode>", "'default'", NULL } },
    { "interface/model", "pc", NIC("<model type='ne2k_isa'/>"), VNIC_CONF_ERROR_UNSUPPORTED,
      { "<model type>", "'ne2k_isa'", NULL } },
    { "interface/model-no-type", "pc", NIC("<model/>"), VNIC_CONF_ERROR_MISSING,
      { "<model>", "type", NULL } },
    { "interface/queues-zero", "pc", NIC("<model type='virtio'/><driver queues='0'/>"),
      VNIC_CONF_ERROR_INVALID, { "<driver queues>", "'0'", NULL } },
    { "interface/queues-range", "pc", NIC("<model type='virtio'/><driver queues='257'/>"),
      VNIC_CONF_ERROR_INVALID, { "<driver queues>", "'257'", "256", NULL } },
    { "interface/queues-text", "pc", NIC("<driver queues='four'/>"), VNIC_CONF_ERROR_INVALID,
      { "<driver queues>", "'four'", NULL } },
    { "interface/queues-not-virtio", "pc", NIC("<model type='e1000'/><driver queues='4'/>"),
      VNIC_CONF_ERROR_CONFLICT, { "<driver queues='4'>", "'e1000'", NULL } },
    { "interface/link", "pc", NIC("<link state='sideways'/>"), VNIC_CONF_ERROR_INVALID,
      { "<link state>", "'sideways'", NULL } },
    { "interface/mtu-low", "pc", NIC("<mtu size='67'/>"), VNIC_CONF_ERROR_INVALID,
      { "<mtu size>", "'67'", NULL } },
    { "interface/mtu-high", "pc", NIC("<mtu size='65536'/>"), VNIC_CONF_ERROR_INVALID,
      { "<mtu size>", "'65536'", NULL } },
    { "interface/mtu-no-size", "pc", NIC("<mtu/>"), VNIC_CONF_ERROR_MISSING,
      { "<mtu>", "size", NULL } },
    { "interface/acpi-zero", "pc", NIC("<acpi index='0'/>"), VNIC_CONF_ERROR_INVALID,
      { "<acpi index>", "'0'", NULL } },
    { "interface/acpi-range", "pc", NIC("<acpi index='16384'/>"), VNIC_CONF_ERROR_INVALID,
      { "<acpi index>", "'16384'", NULL } },
    { "interface/acpi-no-index", "pc", NIC("<acpi/>"), VNIC_CONF_ERROR_MISSING,
      { "<acpi>", "index", NULL } },
    { "interface/acpi-duplicate", "pc",
      NIC("<acpi index='3'/>") NIC("<acpi index='4'/>") NIC("<acpi index='3'/>"),
      VNIC_CONF_ERROR_CONFLICT, { "interface #3", "<acpi index='3'>", "interface #1", NULL } },
    /* the first earlier device that clashes is named, whatever value it is */
    { "interface/first-clash", "pc",
      NIC("<acpi index='3'/>") NIC(MAC1) NIC(MAC1 "<acpi index='3'/>"),
      VNIC_CONF_ERROR_CONFLICT, { "interface #3", "<acpi index='3'>", "interface #1", NULL } },
    { "interface/unplug-value", "pc", NIC("<vnic:unplug guest='never'/>"),
      VNIC_CONF_ERROR_INVALID, { "<vnic:unplug guest>", "'never'", NULL } },
    { "interface/unplug-attr", "pc", NIC("<vnic:unplug host='deny'/>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "'host'", "<vnic:unplug>", NULL } },
    { "interface/unplug-twice", "pc", NIC("<vnic:unplug/><vnic:unplug/>"),
      VNIC_CONF_ERROR_INVALID, { "<vnic:unplug>", "more than one", NULL } },
    { "interface/reconnect-value", "pc", NIC("<vnic:reconnect mode='sometimes'/>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "interface #1", "<vnic:reconnect mode>", "'sometimes'",
                                     NULL } },
    { "interface/reconnect-attr", "pc", NIC("<vnic:reconnect mode='off' retries='3'/>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "'retries'", "<vnic:reconnect>", NULL } },
    { "interface/reconnect-no-mode", "pc", NIC("<vnic:reconnect/>"), VNIC_CONF_ERROR_MISSING,
      { "<vnic:reconnect>", "mode", NULL } },
    { "interface/reconnect-twice", "pc",
      NIC("<vnic:reconnect mode='hub'/><vnic:reconnect mode='hub'/>"), VNIC_CONF_ERROR_INVALID,
      { "<vnic:reconnect>", "more than one", NULL } },
    { "interface/reconnect-hub-multiqueue", "pc",
      NIC("<model type='virtio'/><driver queues='4'/><vnic:reconnect mode='hub'/>"),
      VNIC_CONF_ERROR_CONFLICT,
      { "interface #1", "<vnic:reconnect mode='hub'>", "<driver queues='4'>", "replug", NULL } },
    { "interface/reconnect-hub-vhostuser", "pc",
      "<interface type='vhostuser'><source type='unix' path='/run/vhu0' mode='client'/>"
      "<model type='virtio'/><vnic:reconnect mode='hub'/></interface>",
      VNIC_CONF_ERROR_CONFLICT,
      { "<vnic:reconnect mode='hub'> needs a tap or macvtap backend, not "
        "<interface type='vhostuser'>", NULL } },
    { "interface/reconnect-replug-user", "pc",
      "<interface type='user'><vnic:reconnect mode='replug'/></interface>",
      VNIC_CONF_ERROR_CONFLICT,
      { "<vnic:reconnect mode='replug'>", "<interface type='user'>", NULL } },
    { "interface/vnic-unknown", "pc", NIC("<vnic:speed mbps='10'/>"),
      VNIC_CONF_ERROR_UNSUPPORTED, { "<vnic:speed>", "<interface>", NULL } },
    /* alias and address, on any device */
    { "alias/no-name", "pc", NIC("<alias/>"), VNIC_CONF_ERROR_MISSING, { "<alias>", "name", NULL } },
    { "alias/empty", "pc", NIC("<alias name=''/>"), VNIC_CONF_ERROR_INVALID,
      { "<alias name>", "''", NULL } },
    { "alias/duplicate", "pc",
      NIC("<alias name='ua-x'/>") "<video><alias name='ua-x'/></video>", VNIC_CONF_ERROR_CONFLICT,
      { "video #1", "<alias name='ua-x'>", "interface #1", NULL } },
    /* a serial's console may share its alias (libvirt's live XML), two serials not */
    { "alias/two-serials", "pc",
      "<serial type='pty'><alias name='serial0'/></serial>"
      "<serial type='pty'><alias name='serial0'/></serial>", VNIC_CONF_ERROR_CONFLICT,
      { "<alias name='serial0'>", NULL } },
    /* ... and a second console not: it clashes with the first console */
    { "alias/two-consoles", "pc",
      "<serial type='pty'><alias name='serial0'/></serial>"
      "<console type='pty'><alias name='serial0'/></console>"
      "<console type='pty'><alias name='serial0'/></console>", VNIC_CONF_ERROR_CONFLICT,
      { "console #2", "<alias name='serial0'>", "console #1", NULL } },
    { "address/no-type", "pc", NIC("<address bus='0'/>"), VNIC_CONF_ERROR_MISSING,
      { "<address>", "type", NULL } },
    { "address/domain", "pc", NIC("<address type='pci' domain='0x0001' bus='0' slot='3'/>"),
      VNIC_CONF_ERROR_INVALID, { "<address domain>", "'0x0001'", NULL } },
    { "address/bus", "pc", NIC("<address type='pci' bus='256' slot='3'/>"),
      VNIC_CONF_ERROR_INVALID, { "<address bus>", "'256'", NULL } },
    { "address/slot", "pc", NIC("<address type='pci' slot='0x20'/>"), VNIC_CONF_ERROR_INVALID,
      { "<address slot>", "'0x20'", NULL } },
    { "address/function", "pc", NIC("<address type='pci' slot='3' function='8'/>"),
      VNIC_CONF_ERROR_INVALID, { "<address function>", "'8'", NULL } },
    { "address/hex-garbage", "pc", NIC("<address type='pci' slot='0xg'/>"),
      VNIC_CONF_ERROR_INVALID, { "<address slot>", "'0xg'", NULL } },
    { "address/multifunction", "pc", NIC("<address type='pci' slot='3' multifunction='yes'/>"),
      VNIC_CONF_ERROR_INVALID, { "<address multifunction>", "'yes'", NULL } },
    { "address/ccw", "pc", NIC("<address type='ccw' cssid='0xfe'/>"), VNIC_CONF_ERROR_UNSUPPORTED,
      { "<address type>", "'ccw'", NULL } },
    { "address/spapr-vio", "pc", NIC("<address type='spapr-vio'/>"), VNIC_CONF_ERROR_UNSUPPORTED,
      { "'spapr-vio'", NULL } },
    { "address/virtio-mmio", "pc", "<rng model='virtio'><address type='virtio-mmio'/></rng>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "rng #1", "'virtio-mmio'", NULL } },
    { "address/twice", "pc", NIC("<address type='pci' slot='3'/><address type='pci' slot='4'/>"),
      VNIC_CONF_ERROR_INVALID, { "<address>", "more than one", NULL } },
    { "address/graphics-pci", "pc",
      "<graphics type='vnc'><address type='pci' slot='5'/></graphics>", VNIC_CONF_ERROR_CONFLICT,
      { "graphics #1", "<address type='pci'>", "<graphics>", NULL } },
    /* the other device kinds */
    { "video/model", "pc", "<video><model type='vmvga'/></video>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "video #1", "<model type>", "'vmvga'", NULL } },
    { "video/ramfb-pci", "q35",
      "<video><model type='ramfb'/><address type='pci' slot='4'/></video>",
      VNIC_CONF_ERROR_CONFLICT, { "<address type='pci'>", "model='ramfb'", NULL } },
    { "sound/no-model", "pc", "<sound/>", VNIC_CONF_ERROR_MISSING,
      { "sound #1", "<sound>", "model", NULL } },
    { "sound/model", "pc", "<sound model='ich7'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<sound model>", "'ich7'", NULL } },
    { "sound/sb16-pci", "pc", "<sound model='sb16'><address type='pci' slot='4'/></sound>",
      VNIC_CONF_ERROR_CONFLICT, { "model='sb16'", NULL } },
    { "memballoon/no-model", "pc", "<memballoon/>", VNIC_CONF_ERROR_MISSING,
      { "memballoon #1", "<memballoon>", "model", NULL } },
    { "memballoon/xen", "pc", "<memballoon model='xen'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<memballoon model>", "'xen'", NULL } },
    { "memballoon/none-pci", "pc",
      "<memballoon model='none'><address type='pci' slot='4'/></memballoon>",
      VNIC_CONF_ERROR_CONFLICT, { "model='none'", NULL } },
    { "rng/no-model", "pc", "<rng><backend model='random'>/dev/urandom</backend></rng>",
      VNIC_CONF_ERROR_MISSING, { "rng #1", "<rng>", "model", NULL } },
    { "rng/model", "pc", "<rng model='egd'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<rng model>", "'egd'", NULL } },
    { "watchdog/model", "pc", "<watchdog model='diag288'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "watchdog #1", "<watchdog model>", "'diag288'", NULL } },
    { "watchdog/no-model", "pc", "<watchdog action='reset'/>", VNIC_CONF_ERROR_MISSING,
      { "<watchdog>", "model", NULL } },
    { "watchdog/itco-on-pc", "pc", "<watchdog model='itco'/>", VNIC_CONF_ERROR_CONFLICT,
      { "<watchdog model='itco'>", "q35", NULL } },
    { "watchdog/ib700-pci", "pc",
      "<watchdog model='ib700'><address type='pci' slot='4'/></watchdog>",
      VNIC_CONF_ERROR_CONFLICT, { "watchdog #1", "<address type='pci'>", "model='ib700'", NULL } },
    { "serial/pci-address", "pc", "<serial type='pty'><address type='pci' slot='4'/></serial>",
      VNIC_CONF_ERROR_CONFLICT, { "serial #1", "<address type='pci'>", NULL } },
    { "input/no-type", "pc", "<input bus='usb'/>", VNIC_CONF_ERROR_MISSING,
      { "input #1", "<input>", "type", NULL } },
    { "input/type", "pc", "<input type='joystick'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<input type>", "'joystick'", NULL } },
    { "input/bus", "pc", "<input type='mouse' bus='xen'/>", VNIC_CONF_ERROR_UNSUPPORTED,
      { "<input bus>", "'xen'", NULL } },
    { "input/ps2-pci", "pc", "<input type='mouse' bus='ps2'><address type='pci' slot='4'/></input>",
      VNIC_CONF_ERROR_CONFLICT, { "input #1", "<address type='pci'>", "bus='ps2'", NULL } },
    { "input/virtio-usb-address", "pc",
      "<input type='tablet' bus='virtio'><address type='usb' bus='0' port='1'/></input>",
      VNIC_CONF_ERROR_CONFLICT, { "<address type='usb'>", "bus='virtio'", NULL } },
};

static void
test_error_case(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autofree char *xml = c->machine != NULL ? tc_domain_xml(c->machine, c->xml) : g_strdup(c->xml);

    tc_assert_parse_error(xml, c->code, c->needles);
}

/* A lone <interface>: its own errors, and clashes with the domain. */
static void
test_interface_snippet_errors(void)
{
    g_autoptr(VnicConfDomain) def =
        tc_parse_devices("pc", NIC(MAC1 "<acpi index='5'/><alias name='ua-a'/>"));
    static const struct {
        const char *xml;
        VnicConfErrorCode code;
        const char *needles[3];
    } cases[] = {
        { "<disk type='file'/>", VNIC_CONF_ERROR_INVALID, { "<disk>", "<interface>", NULL } },
        { "<interface type='ethernet'", VNIC_CONF_ERROR_XML, { "XML", NULL } },
        { NIC("<mac address='52:54:00:00:00:01'/>"), VNIC_CONF_ERROR_CONFLICT,
          { "interface: ", "'52:54:00:00:00:01'", "interface #1" } },
        { NIC("<acpi index='5'/>"), VNIC_CONF_ERROR_CONFLICT, { "<acpi index='5'>", NULL } },
        { NIC("<alias name='ua-a'/>"), VNIC_CONF_ERROR_CONFLICT, { "'ua-a'", NULL } },
        { "<interface type='bogus'/>", VNIC_CONF_ERROR_INVALID,
          { "interface: ", "'bogus'", NULL } },
        { NIC("<vnic:unplug guest='deny'/>"), VNIC_CONF_ERROR_XML, { "vnic", NULL } },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VnicConfDevice) dev =
            vnic_conf_interface_parse(def, cases[i].xml, strlen(cases[i].xml), &error);

        g_assert_null(dev);
        g_assert_error(error, VNIC_CONF_ERROR, (gint) cases[i].code);
        for (guint j = 0; j < G_N_ELEMENTS(cases[i].needles) && cases[i].needles[j]; j++)
            g_assert_nonnull(strstr(error->message, cases[i].needles[j]));
    }
}

/* A failed parse leaves the caller's error untouched but for the one set. */
static void
test_error_has_no_def(void)
{
    g_autoptr(GError) error = NULL;
    const char *xml = "<domain type='qemu'/>";

    g_assert_null(vnic_conf_domain_parse(xml, strlen(xml), &error));
    g_assert_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING);
    g_assert_null(vnic_conf_domain_parse(xml, strlen(xml), NULL));
}

/* The bounds checked before libxml2 parses (conf-xml-limits.c). */
static void
test_xml_limits(void)
{
    VnicConfXmlLimits limits = VNIC_CONF_XML_LIMITS_DEFAULT;
    g_autoptr(GString) attrs = g_string_new("<domain");
    g_autoptr(GString) deep = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    const char *tricky = "<domain a='x=y' b=\"=\"><!-- = = = <x> --><![CDATA[ <y a=b> ]]>"
                         "<?pi a=b?><empty/></domain>";

    for (int i = 0; i < 128; i++)
        g_string_append_printf(attrs, " a%d='v'", i);
    g_assert_true(vnic_conf_xml_check_limits(attrs->str, attrs->len, &limits, &error));
    g_string_append(attrs, " last='v'/>");
    g_assert_false(vnic_conf_xml_check_limits(attrs->str, attrs->len, &limits, &error));
    g_assert_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML);
    g_assert_cmpstr(error->message, ==, "XML element <domain> has more than 128 attributes");
    g_clear_error(&error);
    /* the parser itself refuses it the same way, before libxml2 sees it */
    def = vnic_conf_domain_parse(attrs->str, attrs->len, &error);
    g_assert_null(def);
    g_assert_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML);
    g_clear_error(&error);

    for (int i = 0; i < 64; i++)
        g_string_append(deep, "<a>");
    g_assert_true(vnic_conf_xml_check_limits(deep->str, deep->len, &limits, &error));
    g_string_append(deep, "<b>");
    g_assert_false(vnic_conf_xml_check_limits(deep->str, deep->len, &limits, &error));
    g_assert_cmpstr(error->message, ==, "XML nests deeper than 64 elements (at <b>)");
    g_clear_error(&error);
    /* siblings close: 100 empty elements in a row are depth 2 */
    g_string_assign(deep, "<r>");
    for (int i = 0; i < 100; i++)
        g_string_append(deep, "<e/><f></f>");
    g_string_append(deep, "</r>");
    g_assert_true(vnic_conf_xml_check_limits(deep->str, deep->len, &limits, &error));

    /* '=' in values, comments, CDATA and processing instructions is no attribute */
    limits.max_attributes = 2;
    limits.max_elements = 2;
    g_assert_true(vnic_conf_xml_check_limits(tricky, strlen(tricky), &limits, &error));
    limits.max_elements = 1;
    g_assert_false(vnic_conf_xml_check_limits(tricky, strlen(tricky), &limits, &error));
    g_assert_cmpstr(error->message, ==, "XML has more than 1 elements");
    g_clear_error(&error);
    limits = (VnicConfXmlLimits)VNIC_CONF_XML_LIMITS_DEFAULT;
    limits.max_bytes = 10;
    g_assert_false(vnic_conf_xml_check_limits(tricky, strlen(tricky), &limits, &error));
    g_assert_nonnull(strstr(error->message, "is longer than 10"));
}

void
test_conf_errors_register(void)
{
    g_test_add_func("/conf/error/xml-limits", test_xml_limits);
    for (guint i = 0; i < G_N_ELEMENTS(domain_cases); i++) {
        g_autofree char *path = g_strdup_printf("/conf/error/%s", domain_cases[i].name);

        g_test_add_data_func(path, &domain_cases[i], test_error_case);
    }
    for (guint i = 0; i < G_N_ELEMENTS(device_cases); i++) {
        g_autofree char *path = g_strdup_printf("/conf/error/%s", device_cases[i].name);

        g_test_add_data_func(path, &device_cases[i], test_error_case);
    }
    g_test_add_func("/conf/error/interface-snippet", test_interface_snippet_errors);
    g_test_add_func("/conf/error/no-def", test_error_has_no_def);
}
