/* conf-domain.c: life cycle of the conf structs and small helpers on them.
 *
 * Owns new/free of domains and devices, lookups, the MAC helpers, device
 * labels used in messages, and the enum-to-string tables.  A domain owns its
 * devices and its parsed document; a device owns its nic/controller/disk
 * part and, when it was parsed on its own, its document.  Nothing here
 * parses or formats whole documents, and nothing does I/O.
 */
#include "conf/conf-priv.h"

#include <string.h>

G_DEFINE_QUARK(vnic-conf-error-quark, vnic_conf_error)

VnicConfDomain *
vnic_conf_domain_new(void)
{
    VnicConfDomain *def = g_new0(VnicConfDomain, 1);

    def->vcpus = 1;
    def->family = VNIC_MACHINE_PC;
    def->spare_ports = -1;
    def->devices = g_ptr_array_new_with_free_func((GDestroyNotify) vnic_conf_device_free);
    return def;
}

void
vnic_conf_domain_free(VnicConfDomain *def)
{
    if (def == NULL)
        return;
    /* Devices first: they point into the document. */
    g_ptr_array_unref(def->devices);
    g_free(def->type);
    g_free(def->name);
    g_free(def->uuid);
    g_free(def->arch);
    g_free(def->machine);
    g_free(def->kernel);
    g_free(def->initrd);
    g_free(def->cmdline);
    g_free(def->emulator);
    if (def->doc != NULL)
        xmlFreeDoc(def->doc);
    g_free(def);
}

VnicConfDevice *
vnic_conf_device_new(VnicConfDeviceKind kind)
{
    VnicConfDevice *dev = g_new0(VnicConfDevice, 1);

    dev->kind = kind;
    if (kind == VNIC_CONF_DEV_INTERFACE)
        dev->nic = g_new0(VnicConfNic, 1);
    if (kind == VNIC_CONF_DEV_DISK)
        dev->disk = g_new0(VnicConfDisk, 1);
    if (kind == VNIC_CONF_DEV_HOSTDEV)
        dev->hostdev = g_new0(VnicConfHostdev, 1);
    if (kind == VNIC_CONF_DEV_CONTROLLER) {
        dev->controller = g_new0(VnicConfController, 1);
        dev->controller->chassis = -1;
        dev->controller->chassis_nr = -1;
        dev->controller->port = -1;
        dev->controller->bus_nr = -1;
    }
    return dev;
}

void
vnic_conf_device_free(VnicConfDevice *dev)
{
    if (dev == NULL)
        return;
    if (dev->nic != NULL) {
        g_free(dev->nic->source);
        g_free(dev->nic->source_mode);
        g_free(dev->nic->network);
        g_free(dev->nic->portgroup);
        g_free(dev->nic->driver_name);
        g_free(dev->nic->target_dev);
        g_free(dev->nic->other_type);
        g_free(dev->nic->model);
        g_free(dev->nic);
    }
    if (dev->controller != NULL) {
        g_free(dev->controller->model);
        g_free(dev->controller->model_name);
        g_free(dev->controller);
    }
    if (dev->disk != NULL) {
        g_free(dev->disk->bus);
        g_free(dev->disk->target_dev);
        g_free(dev->disk->source_file);
        g_free(dev->disk->type);
        g_free(dev->disk->device);
        g_free(dev->disk);
    }
    if (dev->hostdev != NULL) {
        g_free(dev->hostdev->mode);
        g_free(dev->hostdev->type);
        g_free(dev->hostdev);
    }
    g_free(dev->target_type);
    g_free(dev->model);
    g_free(dev->alias);
    g_free(dev->bus);
    g_free(dev->source_path);
    if (dev->doc != NULL)
        xmlFreeDoc(dev->doc);
    g_free(dev);
}

VnicConfDevice *
vnic_conf_domain_find_controller(const VnicConfDomain *def, VnicConfControllerType type,
                                 guint index)
{
    g_return_val_if_fail(def != NULL, NULL);

    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == VNIC_CONF_DEV_CONTROLLER && dev->controller->type == type &&
            dev->controller->index == index)
            return dev;
    }
    return NULL;
}

gboolean
vnic_conf_device_is_nic(const VnicConfDevice *dev)
{
    return dev != NULL && dev->kind == VNIC_CONF_DEV_INTERFACE;
}

static gboolean
controller_is_pci(const VnicConfController *ctrl)
{
    switch (ctrl->type) {
    case VNIC_CONF_CONTROLLER_PCI:
        return ctrl->pci_model != VNIC_CONF_PCI_MODEL_NONE &&
               ctrl->pci_model != VNIC_CONF_PCI_MODEL_PCI_ROOT &&
               ctrl->pci_model != VNIC_CONF_PCI_MODEL_PCIE_ROOT;
    case VNIC_CONF_CONTROLLER_USB:
        return g_strcmp0(ctrl->model, "none") != 0;
    case VNIC_CONF_CONTROLLER_FDC:
    case VNIC_CONF_CONTROLLER_CCID:
        return FALSE;
    default:
        return TRUE;
    }
}

gboolean
vnic_conf_device_is_pci(const VnicConfDevice *dev)
{
    static const char *const pci_sound[] = { "ich6", "ich9", "ac97", "es1370", NULL };

    g_return_val_if_fail(dev != NULL, FALSE);

    switch (dev->kind) {
    case VNIC_CONF_DEV_DISK:
        return g_strcmp0(dev->disk->bus, "virtio") == 0;
    case VNIC_CONF_DEV_CONTROLLER:
        return controller_is_pci(dev->controller);
    case VNIC_CONF_DEV_INTERFACE:
    case VNIC_CONF_DEV_RNG:
        return TRUE;
    case VNIC_CONF_DEV_VIDEO:
        return g_strcmp0(dev->model, "none") != 0 && g_strcmp0(dev->model, "ramfb") != 0;
    case VNIC_CONF_DEV_SOUND:
        return dev->model != NULL && g_strv_contains(pci_sound, dev->model);
    case VNIC_CONF_DEV_MEMBALLOON:
        return g_strcmp0(dev->model, "none") != 0;
    case VNIC_CONF_DEV_WATCHDOG:
        return g_strcmp0(dev->model, "i6300esb") == 0;
    case VNIC_CONF_DEV_INPUT:
        return g_strcmp0(dev->bus, "virtio") == 0;
    case VNIC_CONF_DEV_SERIAL:
        return g_strcmp0(dev->target_type, "pci-serial") == 0;
    case VNIC_CONF_DEV_HOSTDEV:
        /* PCI host devices, vhost-scsi hosts and vfio-pci mediated devices */
        return g_strcmp0(dev->hostdev->mode, "subsystem") == 0 &&
               (g_strcmp0(dev->hostdev->type, "pci") == 0 ||
                g_strcmp0(dev->hostdev->type, "scsi_host") == 0 ||
                (g_strcmp0(dev->hostdev->type, "mdev") == 0 &&
                 g_strcmp0(dev->model, "vfio-pci") == 0));
    case VNIC_CONF_DEV_MEMORY:
        return g_strcmp0(dev->model, "virtio-mem") == 0 ||
               g_strcmp0(dev->model, "virtio-pmem") == 0;
    case VNIC_CONF_DEV_IOMMU:
        return g_strcmp0(dev->model, "virtio") == 0;
    case VNIC_CONF_DEV_FILESYSTEM:
    case VNIC_CONF_DEV_VSOCK:
    case VNIC_CONF_DEV_SHMEM:
    case VNIC_CONF_DEV_CRYPTO:
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
vnic_conf_name_is_autogenerated(const char *name)
{
    static const char *const prefixes[] = { "vnet", "macvtap", "macvlan", "vif", NULL };

    if (name == NULL)
        return FALSE;
    for (guint i = 0; prefixes[i] != NULL; i++) {
        if (g_str_has_prefix(name, prefixes[i]))
            return TRUE;
    }
    return FALSE;
}

gboolean
vnic_conf_mac_parse(const char *text, guint8 mac[6])
{
    guint8 out[6];

    if (text == NULL || strlen(text) != 17)
        return FALSE;
    for (guint i = 0; i < 6; i++) {
        const char *p = text + i * 3;

        if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]))
            return FALSE;
        if (i < 5 && p[2] != ':')
            return FALSE;
        out[i] = (guint8) (g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]));
    }
    memcpy(mac, out, sizeof(out));
    return TRUE;
}

char *
vnic_conf_mac_format(const guint8 mac[6])
{
    static const char hex[] = "0123456789abcdef";
    char *text = g_malloc(18);

    /* by hand: every NIC's MAC is formatted for every dumpxml */
    for (guint i = 0; i < 6; i++) {
        text[i * 3] = hex[mac[i] >> 4];
        text[i * 3 + 1] = hex[mac[i] & 0xf];
        text[i * 3 + 2] = i < 5 ? ':' : '\0';
    }
    return text;
}

const char *
vnic_conf_device_element_name(const VnicConfDevice *dev)
{
    if (dev->kind == VNIC_CONF_DEV_OTHER && dev->node != NULL)
        return (const char *) dev->node->name;
    return vnic_conf_device_kind_to_string(dev->kind);
}

char *
vnic_conf_device_label(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    const char *name = vnic_conf_device_element_name(dev);
    guint n = 0;

    for (guint i = 0; def != NULL && i < def->devices->len; i++) {
        const VnicConfDevice *cur = g_ptr_array_index(def->devices, i);

        if (strcmp(vnic_conf_device_element_name(cur), name) == 0)
            n++;
        if (cur == dev)
            return g_strdup_printf("%s #%u", name, n);
    }
    return g_strdup(name);
}

static char *
device_detail(const VnicConfDevice *dev)
{
    switch (dev->kind) {
    case VNIC_CONF_DEV_INTERFACE:
        if (dev->nic->has_mac)
            return vnic_conf_mac_format(dev->nic->mac);
        return g_strdup(dev->alias != NULL ? dev->alias : dev->nic->target_dev);
    case VNIC_CONF_DEV_CONTROLLER:
        return g_strdup_printf("%s index %u",
                               vnic_conf_controller_type_to_string(dev->controller->type),
                               dev->controller->index);
    case VNIC_CONF_DEV_DISK:
        return g_strdup(dev->disk->target_dev);
    case VNIC_CONF_DEV_HOSTDEV:
        if (dev->alias == NULL && dev->hostdev->has_source_addr) {
            const VnicConfPciAddr *a = &dev->hostdev->source_addr;

            return g_strdup_printf("host %04x:%02x:%02x.%x", a->domain, a->bus, a->slot,
                                   a->function);
        }
        return g_strdup(dev->alias != NULL ? dev->alias : dev->hostdev->type);
    default:
        return g_strdup(dev->alias != NULL ? dev->alias : dev->model);
    }
}

char *
vnic_conf_device_describe(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    g_autofree char *label = NULL;
    g_autofree char *detail = NULL;

    g_return_val_if_fail(dev != NULL, NULL);

    label = vnic_conf_device_label(def, dev);
    detail = device_detail(dev);
    if (detail == NULL)
        return g_steal_pointer(&label);
    return g_strdup_printf("%s (%s)", label, detail);
}

const char *
vnic_conf_device_kind_to_string(VnicConfDeviceKind kind)
{
    static const char *const names[] = {
        [VNIC_CONF_DEV_DISK] = "disk",           [VNIC_CONF_DEV_CONTROLLER] = "controller",
        [VNIC_CONF_DEV_INTERFACE] = "interface", [VNIC_CONF_DEV_VIDEO] = "video",
        [VNIC_CONF_DEV_SOUND] = "sound",         [VNIC_CONF_DEV_MEMBALLOON] = "memballoon",
        [VNIC_CONF_DEV_RNG] = "rng",             [VNIC_CONF_DEV_WATCHDOG] = "watchdog",
        [VNIC_CONF_DEV_SERIAL] = "serial",       [VNIC_CONF_DEV_CONSOLE] = "console",
        [VNIC_CONF_DEV_CHANNEL] = "channel",     [VNIC_CONF_DEV_INPUT] = "input",
        [VNIC_CONF_DEV_OTHER] = "other",         [VNIC_CONF_DEV_HOSTDEV] = "hostdev",
        [VNIC_CONF_DEV_FILESYSTEM] = "filesystem", [VNIC_CONF_DEV_VSOCK] = "vsock",
        [VNIC_CONF_DEV_MEMORY] = "memory",       [VNIC_CONF_DEV_IOMMU] = "iommu",
        [VNIC_CONF_DEV_SHMEM] = "shmem",         [VNIC_CONF_DEV_CRYPTO] = "crypto",
    };

    g_return_val_if_fail((guint) kind < G_N_ELEMENTS(names), "unknown");
    return names[kind];
}

/* Indexed by VnicConfPciModel; NULL-terminated so the parser can list
 * the choices (from [1], past "none"). */
const char *const vnic_conf_pci_model_names[] = {
    [VNIC_CONF_PCI_MODEL_NONE] = "none",
    [VNIC_CONF_PCI_MODEL_PCI_ROOT] = "pci-root",
    [VNIC_CONF_PCI_MODEL_PCIE_ROOT] = "pcie-root",
    [VNIC_CONF_PCI_MODEL_PCI_BRIDGE] = "pci-bridge",
    [VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT] = "pcie-root-port",
    [VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE] = "dmi-to-pci-bridge",
    [VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE] = "pcie-to-pci-bridge",
    [VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS] = "pci-expander-bus",
    [VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS] = "pcie-expander-bus",
    [VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT] = "pcie-switch-upstream-port",
    [VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT] = "pcie-switch-downstream-port",
    NULL,
};

const char *
vnic_conf_pci_model_to_string(VnicConfPciModel model)
{
    g_return_val_if_fail((guint) model < G_N_ELEMENTS(vnic_conf_pci_model_names) - 1, "unknown");
    return vnic_conf_pci_model_names[model];
}

/* Indexed by VnicConfControllerType, NULL-terminated. */
const char *const vnic_conf_controller_type_names[] = {
    [VNIC_CONF_CONTROLLER_PCI] = "pci",
    [VNIC_CONF_CONTROLLER_USB] = "usb",
    [VNIC_CONF_CONTROLLER_VIRTIO_SERIAL] = "virtio-serial",
    [VNIC_CONF_CONTROLLER_SCSI] = "scsi",
    [VNIC_CONF_CONTROLLER_SATA] = "sata",
    [VNIC_CONF_CONTROLLER_IDE] = "ide",
    [VNIC_CONF_CONTROLLER_FDC] = "fdc",
    [VNIC_CONF_CONTROLLER_CCID] = "ccid",
    NULL,
};

const char *
vnic_conf_controller_type_to_string(VnicConfControllerType type)
{
    g_return_val_if_fail((guint) type < G_N_ELEMENTS(vnic_conf_controller_type_names) - 1,
                         "unknown");
    return vnic_conf_controller_type_names[type];
}

const char *
vnic_conf_nic_type_to_string(VnicConfNicType type)
{
    static const char *const names[] = {
        [VNIC_CONF_NIC_ETHERNET] = "ethernet",
        [VNIC_CONF_NIC_BRIDGE] = "bridge",
        [VNIC_CONF_NIC_DIRECT] = "direct",
        [VNIC_CONF_NIC_NETWORK] = "network",
        [VNIC_CONF_NIC_VHOSTUSER] = "vhostuser",
        [VNIC_CONF_NIC_OTHER] = "other",
    };

    g_return_val_if_fail((guint) type < G_N_ELEMENTS(names), "unknown");
    return names[type];
}

const char *
vnic_conf_nic_type_name(VnicConfNicType type)
{
    return vnic_conf_nic_type_to_string(type);
}

const char *
vnic_conf_nic_type_string(const VnicConfNic *nic)
{
    if (nic->type == VNIC_CONF_NIC_OTHER && nic->other_type != NULL)
        return nic->other_type;
    return vnic_conf_nic_type_to_string(nic->type);
}

VnicConfNicType
vnic_conf_nic_backend_type(const VnicConfNic *nic)
{
    if (nic->type != VNIC_CONF_NIC_NETWORK)
        return nic->type;
    if (nic->source == NULL)
        return VNIC_CONF_NIC_NETWORK;
    return nic->source_mode != NULL ? VNIC_CONF_NIC_DIRECT : VNIC_CONF_NIC_BRIDGE;
}

static const char *const reconnect_names[] = {
    [VNIC_CONF_RECONNECT_DEFAULT] = "default",
    [VNIC_CONF_RECONNECT_HUB] = "hub",
    [VNIC_CONF_RECONNECT_REPLUG] = "replug",
    [VNIC_CONF_RECONNECT_OFF] = "off",
};

const char *
vnic_conf_reconnect_to_string(VnicConfReconnect mode)
{
    g_return_val_if_fail((guint) mode < G_N_ELEMENTS(reconnect_names), "unknown");
    return reconnect_names[mode];
}

gboolean
vnic_conf_reconnect_from_string(const char *text, VnicConfReconnect *mode)
{
    for (guint i = 0; text != NULL && i < G_N_ELEMENTS(reconnect_names); i++) {
        if (g_strcmp0(text, reconnect_names[i]) == 0) {
            *mode = (VnicConfReconnect) i;
            return TRUE;
        }
    }
    return FALSE;
}

/* A backend vnic makes (a tap or a macvtap), so it can make it again. */
static gboolean
nic_backend_is_vnics(const VnicConfNic *nic)
{
    VnicConfNicType type = vnic_conf_nic_backend_type(nic);

    return type != VNIC_CONF_NIC_VHOSTUSER && type != VNIC_CONF_NIC_OTHER &&
           nic->target_managed != VNIC_TRISTATE_NO;
}

VnicConfReconnect
vnic_conf_nic_reconnect_mode(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    const VnicConfNic *nic;

    g_return_val_if_fail(dev != NULL && dev->nic != NULL, VNIC_CONF_RECONNECT_OFF);
    nic = dev->nic;
    if (nic->reconnect != VNIC_CONF_RECONNECT_DEFAULT)
        return nic->reconnect;
    if (!nic_backend_is_vnics(nic))
        return VNIC_CONF_RECONNECT_OFF;
    /* a hubport is a single-queue netdev: a multiqueue NIC on one would
     * get one queue pair, and the tap's other queues no peer */
    if (nic->queues > 1)
        return def != NULL && def->reconnect == VNIC_CONF_RECONNECT_OFF
                   ? VNIC_CONF_RECONNECT_OFF : VNIC_CONF_RECONNECT_REPLUG;
    if (def != NULL && def->reconnect != VNIC_CONF_RECONNECT_DEFAULT)
        return def->reconnect;
    return vnic_conf_nic_backend_type(nic) == VNIC_CONF_NIC_DIRECT ? VNIC_CONF_RECONNECT_HUB
                                                                   : VNIC_CONF_RECONNECT_REPLUG;
}
