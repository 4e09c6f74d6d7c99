/* conf-parse-placed.c: the devices vnic places but does not run.
 *
 * <hostdev>, <filesystem>, <vsock>, <memory>, <iommu>, <shmem>, <crypto>:
 * each is read as far as PCI placement and messages need (the model, a PCI
 * host device's host address) and otherwise carried verbatim; the QEMU
 * launcher refuses to start them (docs/xml.md).  Also the checks libvirt
 * 9.0 makes across such devices at define: one IOMMU, one vsock, no host
 * device given twice, virtio-fs only with shared guest memory.
 *
 * Errors carry no device prefix, except those of the cross-device checks,
 * which name the device themselves.
 */
#include "conf/conf-priv.h"

#include <string.h>

/* The host address of a PCI hostdev, <source><address domain bus slot
 * function/>.  The host's domain may be non-zero, unlike the guest's. */
static gboolean
parse_hostdev_source(xmlNode *node, VnicConfHostdev *hostdev, GError **error)
{
    xmlNode *source, *address;
    guint64 domain = 0, bus = 0, slot = 0, function = 0;

    if (!vnic_conf_xml_single_child(node, "source", &source, error))
        return FALSE;
    if (source == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<hostdev type='pci'> has no <source> element");
        return FALSE;
    }
    if (!vnic_conf_xml_single_child(source, "address", &address, error))
        return FALSE;
    if (address == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<hostdev type='pci'> has no <source><address>: which host device?");
        return FALSE;
    }
    if (!vnic_conf_xml_prop_uint(address, "domain", TRUE, 0, G_MAXUINT16, &domain, NULL, error) ||
        !vnic_conf_xml_prop_uint(address, "bus", TRUE, 0, 255, &bus, NULL, error) ||
        !vnic_conf_xml_prop_uint(address, "slot", TRUE, 0, 31, &slot, NULL, error) ||
        !vnic_conf_xml_prop_uint(address, "function", TRUE, 0, 7, &function, NULL, error))
        return FALSE;
    hostdev->has_source_addr = TRUE;
    hostdev->source_addr = (VnicConfPciAddr){ .set = TRUE, .domain = (guint) domain,
                                              .bus = (guint) bus, .slot = (guint) slot,
                                              .function = (guint) function };
    return TRUE;
}

/* <hostdev>: a PCI device when it is a PCI host device, an mdev of model
 * vfio-pci or a vhost-scsi host (scsi_host), as libvirt places them. */
gboolean
vnic_conf_parse_hostdev(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                        GError **error)
{
    static const char *const modes[] = { "subsystem", "capabilities", NULL };
    static const char *const subsys_types[] = { "usb", "pci", "scsi", "scsi_host", "mdev", NULL };
    static const char *const caps_types[] = { "storage", "misc", "net", NULL };
    VnicConfHostdev *hostdev = dev->hostdev;
    gboolean subsys;

    if (!vnic_conf_xml_prop_choice(node, "mode", modes, VNIC_CONF_ERROR_UNSUPPORTED,
                                   &hostdev->mode, error))
        return FALSE;
    if (hostdev->mode == NULL)
        hostdev->mode = g_strdup("subsystem");
    subsys = strcmp(hostdev->mode, "subsystem") == 0;
    if (!vnic_conf_xml_prop_required_choice(node, "type", subsys ? subsys_types : caps_types,
                                            &hostdev->type, error) ||
        (subsys && !vnic_conf_xml_prop_choice(node, "model",
                                              (const char *const[]){ "vfio-pci", "vfio-ccw",
                                                                     "vfio-ap", NULL },
                                              VNIC_CONF_ERROR_UNSUPPORTED, &dev->model, error)))
        return FALSE;
    if (!subsys) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unsupported value 'capabilities' for <hostdev mode>: libvirt's QEMU driver "
                    "takes mode='subsystem' only");
        return FALSE;
    }
    if (strcmp(hostdev->type, "mdev") == 0 && g_strcmp0(dev->model, "vfio-pci") != 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unsupported value '%s' for <hostdev type='mdev' model>: an x86 machine "
                    "takes vfio-pci mediated devices only",
                    dev->model != NULL ? dev->model : "");
        return FALSE;
    }
    if (strcmp(hostdev->type, "pci") == 0)
        return parse_hostdev_source(node, hostdev, error);
    return TRUE;
}

/* <filesystem>: virtio-fs (driver type='virtiofs') or virtio-9p, both
 * virtio PCI devices.  The model is the driver type (NULL: 9p's default
 * 'path'). */
gboolean
vnic_conf_parse_filesystem(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                           GError **error)
{
    static const char *const types[] = { "mount", "block", "file", "template", "ram", "bind",
                                         "volume", NULL };
    static const char *const drivers[] = { "path", "handle", "loop", "nbd", "ploop", "virtiofs",
                                           NULL };
    g_autofree char *type = NULL;
    g_autofree char *dir = NULL;
    xmlNode *driver, *target;

    if (!vnic_conf_xml_prop_choice(node, "type", types, VNIC_CONF_ERROR_UNSUPPORTED, &type,
                                   error) ||
        !vnic_conf_xml_single_child(node, "driver", &driver, error))
        return FALSE;
    if (type != NULL && strcmp(type, "mount") != 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unsupported value '%s' for <filesystem type>: libvirt's QEMU driver takes "
                    "type='mount' only",
                    type);
        return FALSE;
    }
    if (driver != NULL && !vnic_conf_xml_prop_choice(driver, "type", drivers,
                                                     VNIC_CONF_ERROR_UNSUPPORTED, &dev->model,
                                                     error))
        return FALSE;
    if (!vnic_conf_xml_single_child(node, "target", &target, error))
        return FALSE;
    if (target == NULL || (dir = vnic_conf_xml_prop(target, "dir")) == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<filesystem> has no <target dir>: the guest needs a mount tag");
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_parse_vsock(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                      GError **error)
{
    static const char *const models[] = { "virtio", "virtio-transitional",
                                          "virtio-non-transitional", NULL };

    if (!vnic_conf_xml_prop_choice(node, "model", models, VNIC_CONF_ERROR_UNSUPPORTED,
                                   &dev->model, error))
        return FALSE;
    if (dev->model == NULL)
        dev->model = g_strdup("virtio");
    return TRUE;
}

gboolean
vnic_conf_parse_memory_device(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                              GError **error)
{
    static const char *const models[] = { "dimm", "nvdimm", "virtio-pmem", "virtio-mem",
                                          "sgx-epc", NULL };

    return vnic_conf_xml_prop_required_choice(node, "model", models, &dev->model, error);
}

/* <iommu>: intel and virtio need q35 (libvirt refuses them on pc at
 * define); smmuv3 is ARM's. */
gboolean
vnic_conf_parse_iommu(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                      GError **error)
{
    static const char *const models[] = { "intel", "smmuv3", "virtio", NULL };

    if (!vnic_conf_xml_prop_required_choice(node, "model", models, &dev->model, error))
        return FALSE;
    if (strcmp(dev->model, "smmuv3") == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unsupported value 'smmuv3' for <iommu model>: it exists on ARM virt "
                    "machines only");
        return FALSE;
    }
    if (ctx->family == VNIC_MACHINE_PC) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<iommu model='%s'> needs a q35 machine, as libvirt says", dev->model);
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_parse_shmem(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                      GError **error)
{
    static const char *const models[] = { "ivshmem", "ivshmem-plain", "ivshmem-doorbell", NULL };
    g_autofree char *name = vnic_conf_xml_prop(node, "name");
    xmlNode *model;

    if (name == NULL)
        return vnic_conf_xml_missing_attr(node, "name", error);
    if (!vnic_conf_xml_single_child(node, "model", &model, error))
        return FALSE;
    if (model != NULL && !vnic_conf_xml_prop_choice(model, "type", models,
                                                    VNIC_CONF_ERROR_UNSUPPORTED, &dev->model,
                                                    error))
        return FALSE;
    /* libvirt's default is the legacy device, which QEMU dropped in 4.0;
     * libvirt 9.0 then refuses the domain, and so do we */
    if (dev->model == NULL || strcmp(dev->model, "ivshmem") == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "<shmem name='%s'> with model 'ivshmem' (the default) is not possible: "
                    "QEMU has no legacy ivshmem since 4.0; use <model type='ivshmem-plain'/> "
                    "or 'ivshmem-doorbell'",
                    name);
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_parse_crypto(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                       GError **error)
{
    static const char *const models[] = { "virtio", NULL };

    return vnic_conf_xml_prop_required_choice(node, "model", models, &dev->model, error);
}

static gboolean
is_pci_hostdev(const VnicConfDevice *dev)
{
    return dev->kind == VNIC_CONF_DEV_HOSTDEV && dev->hostdev->has_source_addr;
}

static gboolean
same_host_device(const VnicConfDevice *a, const VnicConfDevice *b)
{
    const VnicConfPciAddr *x = &a->hostdev->source_addr, *y = &b->hostdev->source_addr;

    return x->domain == y->domain && x->bus == y->bus && x->slot == y->slot &&
           x->function == y->function;
}

/* Guest memory is shared when <memoryBacking><access mode='shared'/> or
 * every NUMA cell says memAccess='shared', which virtio-fs needs. */
/* The child @name of @parent; NULL when @parent is. */
static xmlNode *
child_or_null(const xmlNode *parent, const char *name)
{
    return parent != NULL ? vnic_conf_xml_child(parent, name) : NULL;
}

/* Guest memory is shared when <memoryBacking><access mode='shared'/> or
 * every NUMA cell says memAccess='shared', which virtio-fs needs. */
static gboolean
memory_is_shared(const VnicConfDomain *def)
{
    xmlNode *root = def->doc != NULL ? xmlDocGetRootElement(def->doc) : NULL;
    xmlNode *access = child_or_null(child_or_null(root, "memoryBacking"), "access");
    xmlNode *numa = child_or_null(child_or_null(root, "cpu"), "numa");
    g_autofree char *mode = access != NULL ? vnic_conf_xml_prop(access, "mode") : NULL;
    gboolean cells = FALSE;

    if (g_strcmp0(mode, "shared") == 0)
        return TRUE;
    for (xmlNode *cell = numa != NULL ? numa->children : NULL; cell != NULL; cell = cell->next) {
        g_autofree char *cell_access = NULL;

        if (cell->type != XML_ELEMENT_NODE || !vnic_conf_xml_is(cell, "cell"))
            continue;
        cell_access = vnic_conf_xml_prop(cell, "memAccess");
        if (g_strcmp0(cell_access, "shared") != 0)
            return FALSE;
        cells = TRUE;
    }
    return cells;
}

/* Whether @dev is a device that can clash with an earlier one: a second
 * IOMMU or vsock, or a PCI host device given twice.  Most devices cannot, so
 * they cost nothing here (the check used to scan every earlier device for
 * every device: quadratic in the NICs of a big domain). */
static gboolean
may_clash(const VnicConfDevice *dev)
{
    return dev->kind == VNIC_CONF_DEV_IOMMU || dev->kind == VNIC_CONF_DEV_VSOCK ||
           is_pci_hostdev(dev);
}

static gboolean
check_one_placed(const VnicConfDomain *def, guint pos, gboolean shared, GError **error)
{
    const VnicConfDevice *dev = g_ptr_array_index(def->devices, pos);

    if (dev->kind == VNIC_CONF_DEV_FILESYSTEM && g_strcmp0(dev->model, "virtiofs") == 0 &&
        !shared) {
        g_autofree char *label = vnic_conf_device_label(def, dev);

        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "%s: <driver type='virtiofs'> needs shared guest memory: add "
                    "<memoryBacking><access mode='shared'/></memoryBacking>",
                    label);
        return FALSE;
    }
    for (guint i = 0; may_clash(dev) && i < pos; i++) {
        const VnicConfDevice *other = g_ptr_array_index(def->devices, i);
        g_autofree char *label = NULL;
        g_autofree char *first = NULL;

        if ((dev->kind == VNIC_CONF_DEV_IOMMU || dev->kind == VNIC_CONF_DEV_VSOCK) &&
            other->kind == dev->kind) {
            label = vnic_conf_device_label(def, dev);
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                        "%s: a domain has a single <%s> device, as in libvirt", label,
                        vnic_conf_device_kind_to_string(dev->kind));
            return FALSE;
        }
        if (!is_pci_hostdev(dev) || !is_pci_hostdev(other) || !same_host_device(dev, other))
            continue;
        label = vnic_conf_device_label(def, dev);
        first = vnic_conf_device_describe(def, other);
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "%s: the host device is already given to %s", label, first);
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_check_placed_devices(const VnicConfDomain *def, GError **error)
{
    gboolean shared = memory_is_shared(def);

    for (guint i = 0; i < def->devices->len; i++) {
        if (!check_one_placed(def, i, shared, error))
            return FALSE;
    }
    return TRUE;
}
