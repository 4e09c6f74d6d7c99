/* conf-parse-devices.c: one child element of <devices> into a VnicConfDevice.
 *
 * Owns the device table (which elements vnic models, which it carries
 * verbatim as VNIC_CONF_DEV_OTHER, which it refuses), the parts every
 * device shares (<alias>, <address>, vnic-namespace children) and the
 * small device kinds.  Interfaces and controllers have their own files.
 *
 * Invariants: a device keeps a borrowed pointer to its element; nothing is
 * ever dropped silently: an element vnic does not know is refused.  Values
 * libvirt would fill in (video model, input bus) are filled in here so the
 * planner sees libvirt's meaning.  Errors carry no device prefix: the caller
 * knows the device's number and adds it.
 */
#include "conf/conf-priv.h"

#include <string.h>

/* libvirt 9 picks cirrus for x86 when QEMU has cirrus-vga (Debian's has). */
#define VNIC_CONF_DEFAULT_VIDEO "cirrus"

typedef gboolean (*ParseFunc)(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                              GError **error);

/* Reads the required attribute @attr of @node, one of @allowed (else
 * UNSUPPORTED). */
/* libvirt's bus for a target name without bus= (virDiskNameToBusDeviceIndex). */
static const char *
bus_from_target_dev(const char *dev)
{
    if (g_str_has_prefix(dev, "vd"))
        return "virtio";
    if (g_str_has_prefix(dev, "sd"))
        return "scsi";
    if (g_str_has_prefix(dev, "hd"))
        return "ide";
    if (g_str_has_prefix(dev, "fd"))
        return "fdc";
    return NULL;
}

static gboolean
parse_disk_target(const VnicConfParseCtx *ctx, xmlNode *target, VnicConfDisk *disk,
                  GError **error)
{
    static const char *const buses[] = { "virtio", "sata", "scsi", "ide", "usb", "fdc", NULL };

    disk->target_dev = vnic_conf_xml_prop(target, "dev");
    if (disk->target_dev == NULL)
        return vnic_conf_xml_missing_attr(target, "dev", error);
    if (!vnic_conf_xml_prop_choice(target, "bus", buses, VNIC_CONF_ERROR_UNSUPPORTED, &disk->bus,
                                   error))
        return FALSE;
    if (disk->bus == NULL) {
        const char *bus = bus_from_target_dev(disk->target_dev);

        if (bus == NULL) {
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                        "cannot tell the bus from <target dev='%s'>: add a bus attribute",
                        disk->target_dev);
            return FALSE;
        }
        disk->bus = g_strdup(bus);
    }
    if (ctx->family == VNIC_MACHINE_Q35 && strcmp(disk->bus, "ide") == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "<target dev='%s' bus='ide'> is not possible: q35 machines have no IDE",
                    disk->target_dev);
        return FALSE;
    }
    return TRUE;
}

/* A floppy lives on the floppy controller and nothing else does, as
 * libvirt checks. */
static gboolean
check_disk_bus(const VnicConfDisk *disk, GError **error)
{
    gboolean floppy = strcmp(disk->device, "floppy") == 0;
    gboolean fdc = strcmp(disk->bus, "fdc") == 0;

    if (strcmp(disk->device, "cdrom") == 0 && strcmp(disk->bus, "virtio") == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<disk device='cdrom'> with <target dev='%s' bus='virtio'> is not "
                    "possible: virtio disks have no removable media",
                    disk->target_dev);
        return FALSE;
    }
    if (strcmp(disk->device, "lun") == 0 && strcmp(disk->type, "block") != 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<disk type='%s' device='lun'> is not possible: a LUN is a host block "
                    "device (type='block')",
                    disk->type);
        return FALSE;
    }
    if (floppy == fdc)
        return TRUE;
    g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                "<disk device='%s'> with <target dev='%s' bus='%s'> is not possible: %s",
                disk->device, disk->target_dev, disk->bus,
                floppy ? "a floppy needs bus 'fdc'" : "bus 'fdc' takes floppies only");
    return FALSE;
}

/* The medium: file and block disks name it in <source file|dev>; a cdrom
 * or floppy without a <source>, or with an empty one (CloudStack writes
 * <source file=''/> for an empty ISO slot), is a drive with no medium.
 * Other types (network, volume, nvme, vhostuser, dir) stay in the node. */
static void
parse_disk_source(xmlNode *source, VnicConfDisk *disk)
{
    gboolean removable = strcmp(disk->device, "cdrom") == 0 || strcmp(disk->device, "floppy") == 0;

    if (source != NULL && strcmp(disk->type, "file") == 0)
        disk->source_file = vnic_conf_xml_prop(source, "file");
    else if (source != NULL && strcmp(disk->type, "block") == 0)
        disk->source_file = vnic_conf_xml_prop(source, "dev");
    if (disk->source_file != NULL && *disk->source_file == '\0')
        g_clear_pointer(&disk->source_file, g_free);
    if (removable && disk->source_file == NULL &&
        (strcmp(disk->type, "file") == 0 || strcmp(disk->type, "block") == 0))
        disk->no_medium = TRUE;
}

static gboolean
parse_disk(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    static const char *const types[] = { "file", "block", "network", "volume", "nvme",
                                         "vhostuser", "dir", NULL };
    static const char *const devices[] = { "disk", "cdrom", "floppy", "lun", NULL };
    VnicConfDisk *disk = dev->disk;
    xmlNode *target, *source;

    if (!vnic_conf_xml_prop_choice(node, "type", types, VNIC_CONF_ERROR_UNSUPPORTED, &disk->type,
                                   error) ||
        !vnic_conf_xml_prop_choice(node, "device", devices, VNIC_CONF_ERROR_UNSUPPORTED,
                                   &disk->device, error) ||
        !vnic_conf_xml_single_child(node, "target", &target, error) ||
        !vnic_conf_xml_single_child(node, "source", &source, error))
        return FALSE;
    if (disk->type == NULL)
        disk->type = g_strdup("file");
    if (disk->device == NULL)
        disk->device = g_strdup("disk");
    if (target == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<disk> has no <target> element");
        return FALSE;
    }
    if (!parse_disk_target(ctx, target, disk, error) || !check_disk_bus(disk, error))
        return FALSE;
    parse_disk_source(source, disk);
    disk->readonly = strcmp(disk->device, "cdrom") == 0 ||
                     vnic_conf_xml_child(node, "readonly") != NULL;
    return TRUE;
}

static gboolean
parse_video(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    static const char *const models[] = { "cirrus", "vga", "qxl", "virtio", "bochs",
                                          "ramfb", "none", NULL };
    xmlNode *model;

    if (!vnic_conf_xml_single_child(node, "model", &model, error))
        return FALSE;
    if (model != NULL && !vnic_conf_xml_prop_choice(model, "type", models,
                                                    VNIC_CONF_ERROR_UNSUPPORTED, &dev->model,
                                                    error))
        return FALSE;
    if (dev->model == NULL)
        dev->model = g_strdup(VNIC_CONF_DEFAULT_VIDEO);
    return TRUE;
}

static gboolean
parse_sound(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    static const char *const models[] = { "ich6", "ich9", "ac97", "es1370", "sb16",
                                          "pcspk", "usb", NULL };

    return vnic_conf_xml_prop_required_choice(node, "model", models, &dev->model, error);
}

static gboolean
parse_memballoon(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                 GError **error)
{
    static const char *const models[] = { "virtio", "virtio-transitional",
                                          "virtio-non-transitional", "none", NULL };

    return vnic_conf_xml_prop_required_choice(node, "model", models, &dev->model, error);
}

static gboolean
parse_rng(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    static const char *const models[] = { "virtio", "virtio-transitional",
                                          "virtio-non-transitional", NULL };

    return vnic_conf_xml_prop_required_choice(node, "model", models, &dev->model, error);
}

static gboolean
parse_watchdog(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    static const char *const models[] = { "i6300esb", "ib700", "itco", NULL };

    if (!vnic_conf_xml_prop_required_choice(node, "model", models, &dev->model, error))
        return FALSE;
    if (ctx->family == VNIC_MACHINE_PC && strcmp(dev->model, "itco") == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<watchdog model='itco'> needs a q35 machine: iTCO is part of the ICH9 "
                    "chipset");
        return FALSE;
    }
    return TRUE;
}

/* Console, channel (and serial, below): the path of the first <source>,
 * when the character device has one (file, unix, dev, pipe).  A udp device
 * has two <source> elements, hence the first rather than the only one. */
static gboolean
parse_chardev(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    xmlNode *source = vnic_conf_xml_child(node, "source");

    if (source != NULL)
        dev->source_path = vnic_conf_xml_prop(source, "path");
    return TRUE;
}

static gboolean
parse_serial(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    xmlNode *target;

    if (!parse_chardev(ctx, node, dev, error) ||
        !vnic_conf_xml_single_child(node, "target", &target, error))
        return FALSE;
    if (target != NULL)
        dev->target_type = vnic_conf_xml_prop(target, "type");
    return TRUE;
}

static gboolean
parse_input(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    static const char *const types[] = { "mouse", "tablet", "keyboard", "passthrough",
                                         "evdev", NULL };
    static const char *const buses[] = { "ps2", "usb", "virtio", "none", NULL };
    static const char *const models[] = { "virtio", "virtio-transitional",
                                          "virtio-non-transitional", NULL };
    g_autofree char *type = NULL;

    if (!vnic_conf_xml_prop_required_choice(node, "type", types, &type, error) ||
        !vnic_conf_xml_prop_choice(node, "bus", buses, VNIC_CONF_ERROR_UNSUPPORTED, &dev->bus,
                                   error) ||
        !vnic_conf_xml_prop_choice(node, "model", models, VNIC_CONF_ERROR_UNSUPPORTED,
                                   &dev->model, error))
        return FALSE;
    /* libvirt's defaults on x86 */
    if (dev->bus == NULL && (strcmp(type, "mouse") == 0 || strcmp(type, "keyboard") == 0))
        dev->bus = g_strdup("ps2");
    else if (dev->bus == NULL && strcmp(type, "tablet") == 0)
        dev->bus = g_strdup("usb");
    else if (dev->bus == NULL && strcmp(type, "passthrough") == 0)
        dev->bus = g_strdup("virtio");
    return TRUE;
}

/* <panic>: carried, but with libvirt 9.0's checks.  x86 has isa (the
 * default) and hyperv; 9.0 knows no PCI panic device ('pvpanic' is an
 * unknown model to it), and pseries and s390 belong to other machines. */
static gboolean
parse_panic(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev, GError **error)
{
    static const char *const models[] = { "isa", "hyperv", "pseries", "s390", NULL };
    g_autofree char *model = NULL;

    if (!vnic_conf_xml_prop_choice(node, "model", models, VNIC_CONF_ERROR_UNSUPPORTED, &model,
                                   error))
        return FALSE;
    if (model != NULL && (strcmp(model, "pseries") == 0 || strcmp(model, "s390") == 0)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unsupported value '%s' for <panic model>: only %s guests have it", model,
                    strcmp(model, "s390") == 0 ? "S390" : "pSeries");
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    const char *name;
    VnicConfDeviceKind kind;
    ParseFunc parse;          /* NULL: nothing modeled beyond alias/address */
} DeviceEntry;

static const DeviceEntry device_table[] = {
    { "disk", VNIC_CONF_DEV_DISK, parse_disk },
    { "controller", VNIC_CONF_DEV_CONTROLLER, vnic_conf_parse_controller },
    { "interface", VNIC_CONF_DEV_INTERFACE, vnic_conf_parse_interface },
    { "video", VNIC_CONF_DEV_VIDEO, parse_video },
    { "sound", VNIC_CONF_DEV_SOUND, parse_sound },
    { "memballoon", VNIC_CONF_DEV_MEMBALLOON, parse_memballoon },
    { "rng", VNIC_CONF_DEV_RNG, parse_rng },
    { "watchdog", VNIC_CONF_DEV_WATCHDOG, parse_watchdog },
    { "serial", VNIC_CONF_DEV_SERIAL, parse_serial },
    { "console", VNIC_CONF_DEV_CONSOLE, parse_chardev },
    { "channel", VNIC_CONF_DEV_CHANNEL, parse_chardev },
    { "input", VNIC_CONF_DEV_INPUT, parse_input },
    { "hostdev", VNIC_CONF_DEV_HOSTDEV, vnic_conf_parse_hostdev },
    { "filesystem", VNIC_CONF_DEV_FILESYSTEM, vnic_conf_parse_filesystem },
    { "vsock", VNIC_CONF_DEV_VSOCK, vnic_conf_parse_vsock },
    { "memory", VNIC_CONF_DEV_MEMORY, vnic_conf_parse_memory_device },
    { "iommu", VNIC_CONF_DEV_IOMMU, vnic_conf_parse_iommu },
    { "shmem", VNIC_CONF_DEV_SHMEM, vnic_conf_parse_shmem },
    { "crypto", VNIC_CONF_DEV_CRYPTO, vnic_conf_parse_crypto },
    /* carried verbatim, never PCI */
    { "graphics", VNIC_CONF_DEV_OTHER, NULL },
    { "audio", VNIC_CONF_DEV_OTHER, NULL },
    { "hub", VNIC_CONF_DEV_OTHER, NULL },
    { "redirdev", VNIC_CONF_DEV_OTHER, NULL },
    { "redirfilter", VNIC_CONF_DEV_OTHER, NULL },
    { "smartcard", VNIC_CONF_DEV_OTHER, NULL },
    { "tpm", VNIC_CONF_DEV_OTHER, NULL },
    { "panic", VNIC_CONF_DEV_OTHER, parse_panic },
    { "lease", VNIC_CONF_DEV_OTHER, NULL },
    { "parallel", VNIC_CONF_DEV_OTHER, NULL },
};

/* Elements libvirt 9.0 on x86 does not take: pstore is newer than 9.0 (9.0
 * drops it without a word, which vnic will not do), nvram is PPC's. */
static const char *const refused_devices[] = { "pstore", "nvram", NULL };

static const DeviceEntry *
find_entry(const xmlNode *node, GError **error)
{
    g_autofree char *qname = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(device_table); i++) {
        if (vnic_conf_xml_is(node, device_table[i].name))
            return &device_table[i];
    }
    if (node->ns == NULL && g_strv_contains(refused_devices, (const char *) node->name)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "<%s> is not supported: libvirt 9.0 does not take it on x86 machines",
                    (const char *) node->name);
        return NULL;
    }
    qname = vnic_conf_xml_qname(node);
    g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                "unknown device element <%s>: vnic refuses what it does not know rather than "
                "drop it silently",
                qname);
    return NULL;
}

static gboolean
parse_alias(xmlNode *node, VnicConfDevice *dev, GError **error)
{
    xmlNode *alias;

    if (!vnic_conf_xml_single_child(node, "alias", &alias, error))
        return FALSE;
    if (alias == NULL)
        return TRUE;
    dev->alias = vnic_conf_xml_prop(alias, "name");
    if (dev->alias == NULL)
        return vnic_conf_xml_missing_attr(alias, "name", error);
    if (*dev->alias == '\0') {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '' for <alias name>: an alias must not be empty");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_pci_address(xmlNode *node, VnicConfPciAddr *addr, GError **error)
{
    guint64 domain = 0, bus = 0, slot = 0, function = 0;

    if (!vnic_conf_xml_prop_uint(node, "domain", TRUE, 0, G_MAXUINT16, &domain, NULL, error))
        return FALSE;
    if (domain != 0) {
        g_autofree char *text = vnic_conf_xml_prop(node, "domain");

        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <address domain>: vnic supports PCI domain 0 only",
                    text);
        return FALSE;
    }
    if (!vnic_conf_xml_prop_uint(node, "bus", TRUE, 0, 255, &bus, NULL, error) ||
        !vnic_conf_xml_prop_uint(node, "slot", TRUE, 0, 31, &slot, NULL, error) ||
        !vnic_conf_xml_prop_uint(node, "function", TRUE, 0, 7, &function, NULL, error) ||
        !vnic_conf_xml_prop_tristate(node, "multifunction", "on", "off", &addr->multifunction,
                                     error))
        return FALSE;
    /* libvirt reads an all-zero PCI address as "none": tools write it as a
     * placeholder (00:00.0 is the host bridge and could never be meant) */
    addr->set = bus != 0 || slot != 0 || function != 0;
    addr->domain = (guint) domain;
    addr->bus = (guint) bus;
    addr->slot = (guint) slot;
    addr->function = (guint) function;
    return TRUE;
}

/* Reads <address>.  A PCI address fills @addr; the non-PCI kinds libvirt
 * uses for disks, serial ports, USB and ISA devices are carried verbatim and
 * reported in *@other_type. */
static gboolean
parse_address(xmlNode *node, VnicConfPciAddr *addr, char **other_type, GError **error)
{
    static const char *const carried[] = { "drive", "virtio-serial", "usb", "isa", "ccid",
                                           "dimm", NULL };
    g_autofree char *type = NULL;
    xmlNode *address;

    if (!vnic_conf_xml_single_child(node, "address", &address, error))
        return FALSE;
    if (address == NULL)
        return TRUE;
    type = vnic_conf_xml_prop(address, "type");
    if (type == NULL)
        return vnic_conf_xml_missing_attr(address, "type", error);
    if (strcmp(type, "pci") == 0)
        return parse_pci_address(address, addr, error);
    if (g_strv_contains(carried, type)) {
        *other_type = g_steal_pointer(&type);
        return TRUE;
    }
    g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                "unsupported value '%s' for <address type>: vnic plans PCI addresses only "
                "(and carries drive, virtio-serial, usb, isa, ccid and dimm addresses along)",
                type);
    return FALSE;
}

/* "<disk bus='sata'>": what makes @dev what it is, for messages. */
static char *
device_brief(const VnicConfDevice *dev)
{
    const char *name = vnic_conf_device_element_name(dev);

    if (dev->kind == VNIC_CONF_DEV_DISK)
        return g_strdup_printf("<disk bus='%s'>", dev->disk->bus);
    if (dev->kind == VNIC_CONF_DEV_CONTROLLER)
        return g_strdup_printf("<controller type='%s' model='%s'>",
                               vnic_conf_controller_type_to_string(dev->controller->type),
                               dev->controller->model != NULL ? dev->controller->model : "");
    if (dev->bus != NULL)
        return g_strdup_printf("<%s bus='%s'>", name, dev->bus);
    if (dev->model != NULL)
        return g_strdup_printf("<%s model='%s'>", name, dev->model);
    return g_strdup_printf("<%s>", name);
}

static gboolean
check_address(const VnicConfDevice *dev, const char *other_type, GError **error)
{
    gboolean is_pci = vnic_conf_device_is_pci(dev);
    g_autofree char *brief = device_brief(dev);

    if (dev->addr.set && !is_pci) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<address type='pci'> is not possible: %s is not a PCI device", brief);
        return FALSE;
    }
    if (other_type != NULL && is_pci) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<address type='%s'> is not possible: %s is a PCI device", other_type,
                    brief);
        return FALSE;
    }
    return TRUE;
}

/* Refuses vnic-namespace children, except <vnic:unplug> and
 * <vnic:reconnect> on an interface. */
static gboolean
check_vnic_children(const xmlNode *node, const VnicConfDevice *dev, GError **error)
{
    for (const xmlNode *cur = node->children; cur != NULL; cur = cur->next) {
        g_autofree char *qname = NULL;

        if (!vnic_conf_xml_is_vnic(cur))
            continue;
        if (dev->kind == VNIC_CONF_DEV_INTERFACE &&
            (strcmp((const char *) cur->name, "unplug") == 0 ||
             strcmp((const char *) cur->name, "reconnect") == 0))
            continue;
        qname = vnic_conf_xml_qname(cur);
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unknown element <%s> in vnic's namespace %s inside <%s>", qname,
                    VNIC_CONF_NS, (const char *) node->name);
        return FALSE;
    }
    return TRUE;
}

VnicConfDevice *
vnic_conf_parse_device(const VnicConfParseCtx *ctx, xmlNode *node, GError **error)
{
    const DeviceEntry *entry = find_entry(node, error);
    g_autoptr(VnicConfDevice) dev = NULL;
    g_autofree char *other_type = NULL;

    if (entry == NULL)
        return NULL;
    dev = vnic_conf_device_new(entry->kind);
    dev->node = node;
    if (!check_vnic_children(node, dev, error) || !parse_alias(node, dev, error))
        return NULL;
    if (entry->parse != NULL && !entry->parse(ctx, node, dev, error))
        return NULL;
    if (!parse_address(node, &dev->addr, &other_type, error) ||
        !check_address(dev, other_type, error))
        return NULL;
    return g_steal_pointer(&dev);
}
