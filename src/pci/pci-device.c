/* pci-device.c: what kind of PCI citizen each device is.
 *
 * Classification follows libvirt's qemuDomainDeviceCalculatePCIConnectFlags
 * in spirit: on q35 virtio and other native PCIe devices plug into PCIe
 * slots, legacy devices into conventional PCI slots; on pc everything is
 * conventional PCI.  Chipset functions (PIIX3 IDE/USB, ICH9 SATA) have fixed
 * addresses and are never placed.
 */
#include "pci/pci-priv.h"

#include <string.h>

static VnicConfPciAddr
builtin_addr(guint slot, guint function)
{
    return (VnicConfPciAddr){ .set = TRUE, .slot = slot, .function = function };
}

static gboolean
model_is(const char *model, const char *const *names)
{
    for (; *names; names++) {
        if (g_strcmp0(model, *names) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
model_is_virtio(const char *model)
{
    return model && g_str_has_prefix(model, "virtio");
}

/* Devices that are PCI Express when the machine has PCIe. */
static gboolean
nic_model_is_pcie(const char *model)
{
    static const char *const pcie[] = { "e1000e", "vmxnet3", NULL };
    return model_is_virtio(model) || model_is(model, pcie);
}

/* USB controllers: xhci is PCIe on q35, the rest conventional PCI; the
 * PIIX3 UHCI is pc's chipset function 01.2; an ICH9 USB2 set shares a slot. */
/* Whether the USB2 set of @index has its first UHCI companion: only such
 * a set goes to the ICH9's own slot on q35 (a lone EHCI does not,
 * measured: q35-ehci-alone). */
static gboolean
set_has_uhci1(const VnicConfDomain *def, guint index)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == VNIC_CONF_CONTROLLER_USB &&
            d->controller->index == index && d->controller->usb_companion &&
            g_strcmp0(d->controller->model, "ich9-uhci1") == 0)
            return TRUE;
    }
    return FALSE;
}

static void
classify_usb(const VnicConfDomain *def, const VnicConfController *c, VnicPciDevClass *cls)
{
    gboolean q35 = def->family == VNIC_MACHINE_Q35;
    static const char *const xhci[] = { "qemu-xhci", "nec-xhci", NULL };

    if (g_strcmp0(c->model, "none") == 0)
        return;
    cls->is_pci = TRUE;
    cls->connect = q35 && model_is(c->model, xhci) ? VNIC_PCI_CONNECT_PCIE
                                                   : VNIC_PCI_CONNECT_PCI;
    /* EHCI is function 7 of its slot, its UHCI companions 0–2; the set
     * shares one slot, on q35 the ICH9's own for the first two sets (00:1d,
     * 00:1a; measured: q35-usb2-two, q35-usb2-three) */
    if (g_strcmp0(c->model, "ich9-ehci1") == 0)
        cls->auto_function = 7;
    else if (c->usb_companion && g_str_has_prefix(c->model, "ich9-uhci"))
        cls->auto_function = (guint)(c->model[strlen("ich9-uhci")] - '1');
    if (q35 && c->index < 2 && (cls->auto_function != 0 || c->usb_companion) &&
        set_has_uhci1(def, c->index)) {
        cls->has_builtin = TRUE;
        cls->builtin = builtin_addr(c->index == 0 ? 0x1d : 0x1a, cls->auto_function);
    }
    if (!q35 && c->index == 0 &&
        (c->model == NULL || g_strcmp0(c->model, "piix3-uhci") == 0)) {
        cls->has_builtin = TRUE;
        cls->builtin = builtin_addr(1, 2);
    }
}

static void
classify_controller(const VnicConfDomain *def, const VnicConfController *c,
                    VnicPciDevClass *cls)
{
    gboolean q35 = def->family == VNIC_MACHINE_Q35;

    cls->group = VNIC_PCI_GROUP_CONTROLLER;
    switch (c->type) {
    case VNIC_CONF_CONTROLLER_PCI:
        cls->group = VNIC_PCI_GROUP_CONTROLLER_PCI;
        switch (c->pci_model) {
        case VNIC_CONF_PCI_MODEL_PCI_ROOT:
        case VNIC_CONF_PCI_MODEL_PCIE_ROOT:
        case VNIC_CONF_PCI_MODEL_NONE:
            cls->is_pci = FALSE;
            return;
        case VNIC_CONF_PCI_MODEL_PCI_BRIDGE:
            cls->connect = VNIC_PCI_CONNECT_PCI_BRIDGE;
            break;
        case VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT:
            cls->connect = VNIC_PCI_CONNECT_ROOT_PORT;
            break;
        case VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE:
            cls->connect = VNIC_PCI_CONNECT_DMI_BRIDGE;
            break;
        case VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE:
            cls->connect = VNIC_PCI_CONNECT_PCIE_TO_PCI_BRIDGE;
            break;
        case VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS:
            cls->connect = VNIC_PCI_CONNECT_PCI_EXPANDER;
            break;
        case VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS:
            cls->connect = VNIC_PCI_CONNECT_PCIE_EXPANDER;
            break;
        case VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT:
            cls->connect = VNIC_PCI_CONNECT_SWITCH_UPSTREAM;
            break;
        case VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT:
            cls->connect = VNIC_PCI_CONNECT_SWITCH_DOWNSTREAM;
            break;
        }
        cls->is_pci = TRUE;
        return;
    case VNIC_CONF_CONTROLLER_USB:
        classify_usb(def, c, cls);
        return;
    case VNIC_CONF_CONTROLLER_VIRTIO_SERIAL:
        cls->is_pci = TRUE;
        cls->connect = q35 ? VNIC_PCI_CONNECT_PCIE : VNIC_PCI_CONNECT_PCI;
        return;
    case VNIC_CONF_CONTROLLER_SCSI:
        cls->is_pci = TRUE;
        cls->connect = q35 && model_is_virtio(c->model) ? VNIC_PCI_CONNECT_PCIE
                                                        : VNIC_PCI_CONNECT_PCI;
        return;
    case VNIC_CONF_CONTROLLER_SATA:
        cls->is_pci = TRUE;
        cls->connect = q35 ? VNIC_PCI_CONNECT_PCIE : VNIC_PCI_CONNECT_PCI;
        if (q35 && c->index == 0) {
            cls->has_builtin = TRUE;
            cls->builtin = builtin_addr(0x1f, 2);
        }
        return;
    case VNIC_CONF_CONTROLLER_IDE:
        /* Only the PIIX3 IDE of pc exists; conf refuses the rest. */
        cls->is_pci = c->index == 0 && !q35;
        cls->connect = VNIC_PCI_CONNECT_PCI;
        cls->has_builtin = cls->is_pci;
        cls->builtin = builtin_addr(1, 1);
        return;
    case VNIC_CONF_CONTROLLER_FDC:
    case VNIC_CONF_CONTROLLER_CCID:
        return; /* ISA and USB devices */
    }
}

/* model='virtio-transitional', wherever the device keeps its model. */
static gboolean
is_transitional(const VnicConfDevice *dev)
{
    const char *model = dev->model;
    xmlChar *attr = NULL;
    gboolean yes;

    if (dev->kind == VNIC_CONF_DEV_INTERFACE)
        model = dev->nic->model;
    else if (dev->kind == VNIC_CONF_DEV_CONTROLLER)
        model = dev->controller->model;
    else if (dev->kind == VNIC_CONF_DEV_DISK || dev->kind == VNIC_CONF_DEV_FILESYSTEM)
        model = (const char *)(attr = dev->node != NULL ? xmlGetProp(dev->node, BAD_CAST "model")
                                                        : NULL);
    yes = g_strcmp0(model, "virtio-transitional") == 0;
    xmlFree(attr);
    return yes;
}

/* The devices vnic places but does not run (docs/xml.md): which ones are
 * PCI follows vnic_conf_device_is_pci(); how they plug in was measured
 * with libvirt 9.0 on q35 (tests/data/libvirt/q35-alldev). */
static void
classify_more(const VnicConfDomain *def, const VnicConfDevice *dev, VnicPciDevClass *cls)
{
    VnicPciConnect native = def->family == VNIC_MACHINE_Q35 ? VNIC_PCI_CONNECT_PCIE
                                                            : VNIC_PCI_CONNECT_PCI;

    cls->is_pci = vnic_conf_device_is_pci(dev);
    cls->connect = native;
    switch (dev->kind) {
    case VNIC_CONF_DEV_HOSTDEV:
        /* libvirt reads a host device's config space to tell; one it cannot
         * read (not there at define) is taken for PCIe, and so do we */
        cls->group = VNIC_PCI_GROUP_HOSTDEV;
        break;
    case VNIC_CONF_DEV_FILESYSTEM:
        cls->group = VNIC_PCI_GROUP_FILESYSTEM;
        break;
    case VNIC_CONF_DEV_VSOCK:
        cls->group = VNIC_PCI_GROUP_VSOCK;
        break;
    case VNIC_CONF_DEV_MEMORY:
        cls->group = VNIC_PCI_GROUP_MEMORY;
        break;
    case VNIC_CONF_DEV_CRYPTO:
        cls->group = VNIC_PCI_GROUP_CRYPTO;
        break;
    case VNIC_CONF_DEV_IOMMU:
        /* an integrated endpoint on pcie.0, never behind a port */
        cls->group = VNIC_PCI_GROUP_IOMMU;
        cls->connect = VNIC_PCI_CONNECT_INTEGRATED;
        break;
    case VNIC_CONF_DEV_SHMEM:
        cls->group = VNIC_PCI_GROUP_SHMEM;
        cls->connect = VNIC_PCI_CONNECT_PCI;
        break;
    case VNIC_CONF_DEV_SERIAL:
        cls->group = VNIC_PCI_GROUP_SERIAL;
        cls->connect = VNIC_PCI_CONNECT_PCI;
        break;
    default:
        cls->is_pci = FALSE;
        break;
    }
}

VnicPciDevClass
vnic_pci_classify(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    static const char *const pci_sound[] = { "ich6", "ich9", "ac97", "es1370", NULL };
    VnicPciDevClass cls = { 0 };
    gboolean q35 = def->family == VNIC_MACHINE_Q35;
    VnicPciConnect native = q35 ? VNIC_PCI_CONNECT_PCIE : VNIC_PCI_CONNECT_PCI;

    switch (dev->kind) {
    case VNIC_CONF_DEV_CONTROLLER:
        classify_controller(def, dev->controller, &cls);
        break;
    case VNIC_CONF_DEV_INTERFACE:
        cls.is_pci = TRUE;
        cls.group = VNIC_PCI_GROUP_NIC;
        cls.connect = q35 && nic_model_is_pcie(dev->nic->model) ? VNIC_PCI_CONNECT_PCIE
                                                                : VNIC_PCI_CONNECT_PCI;
        break;
    case VNIC_CONF_DEV_DISK:
        cls.is_pci = g_strcmp0(dev->disk->bus, "virtio") == 0;
        cls.group = VNIC_PCI_GROUP_DISK;
        cls.connect = native;
        break;
    case VNIC_CONF_DEV_SOUND:
        cls.is_pci = model_is(dev->model, pci_sound);
        cls.group = VNIC_PCI_GROUP_SOUND;
        cls.connect = VNIC_PCI_CONNECT_PCI;
        /* ICH9 HDA is the chipset's own on q35 (00:1b.0), taken when free */
        if (q35 && g_strcmp0(dev->model, "ich9") == 0) {
            cls.has_builtin = TRUE;
            cls.builtin = builtin_addr(0x1b, 0);
        }
        break;
    case VNIC_CONF_DEV_MEMBALLOON:
        cls.is_pci = model_is_virtio(dev->model);
        cls.group = VNIC_PCI_GROUP_MEMBALLOON;
        cls.connect = native;
        break;
    case VNIC_CONF_DEV_RNG:
        cls.is_pci = model_is_virtio(dev->model);
        cls.group = VNIC_PCI_GROUP_RNG;
        cls.connect = native;
        break;
    case VNIC_CONF_DEV_WATCHDOG:
        cls.is_pci = g_strcmp0(dev->model, "i6300esb") == 0;
        cls.group = VNIC_PCI_GROUP_WATCHDOG;
        cls.connect = VNIC_PCI_CONNECT_PCI;
        break;
    case VNIC_CONF_DEV_VIDEO:
        cls.is_pci = dev->model && g_strcmp0(dev->model, "none") != 0 &&
                     g_strcmp0(dev->model, "ramfb") != 0;
        cls.group = VNIC_PCI_GROUP_VIDEO;
        cls.connect = g_strcmp0(dev->model, "virtio") == 0 ? native : VNIC_PCI_CONNECT_PCI;
        break;
    case VNIC_CONF_DEV_INPUT:
        cls.is_pci = dev->addr.set || g_strcmp0(dev->bus, "virtio") == 0;
        cls.group = VNIC_PCI_GROUP_INPUT;
        cls.connect = native;
        break;
    default:
        classify_more(def, dev, &cls);
        break;
    }
    /* a transitional virtio device keeps its legacy I/O BAR, so libvirt
     * puts it on conventional PCI, behind a pcie-to-pci-bridge on q35
     * (tests/data/libvirt/q35-transitional) */
    if (cls.connect == VNIC_PCI_CONNECT_PCIE && is_transitional(dev))
        cls.connect = VNIC_PCI_CONNECT_PCI;
    return cls;
}

gboolean
vnic_pci_device_is_primary_video(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_VIDEO)
            return d == dev && vnic_pci_classify(def, d).is_pci;
    }
    return FALSE;
}

gboolean
vnic_pci_nic_denies_guest_unplug(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    VnicTristate t = dev->nic->guest_unplug;

    if (t == VNIC_TRISTATE_ABSENT)
        t = def->guest_unplug;
    return t == VNIC_TRISTATE_NO;
}

gboolean
vnic_pci_pc_denies_per_nic(const VnicConfDomain *def)
{
    if (def->family != VNIC_MACHINE_PC || def->guest_unplug == VNIC_TRISTATE_NO)
        return FALSE;
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_INTERFACE && d->nic->guest_unplug == VNIC_TRISTATE_NO)
            return TRUE;
    }
    return FALSE;
}

gboolean
vnic_pci_device_is_usb2_set(const VnicConfDevice *dev)
{
    const VnicConfController *c = dev->controller;

    return dev->kind == VNIC_CONF_DEV_CONTROLLER && c->type == VNIC_CONF_CONTROLLER_USB &&
           (g_strcmp0(c->model, "ich9-ehci1") == 0 || c->usb_companion);
}
