/* qemu-command-refused.c: the devices vnic parses and places but does not
 * run.  Pure.
 *
 * The conf layer takes what libvirt 9.0 takes and the planner gives every
 * PCI device its address, so `vnic plan` and formatting work for these
 * domains; starting one is refused here, at define, with the element and
 * the reason, never silently dropped:
 *
 *   hostdev      pci, mdev, scsi_host: no passthrough (VFIO, vhost-scsi);
 *                usb, scsi: no host USB/SCSI devices
 *   filesystem   virtiofs needs a virtiofsd vnic does not start; 9p
 *                exports a host directory vnic does not manage
 *   vsock        needs /dev/vhost-vsock and a CID vnic does not allocate
 *   memory       dimm, nvdimm, virtio-mem, virtio-pmem, sgx-epc: no memory
 *                devices (the launcher refuses <maxMemory> too)
 *   iommu        no virtual IOMMU
 *   shmem        no ivshmem between guests
 *   crypto       no virtio-crypto backend
 *   controller   fdc and ccid (no floppies, no smartcards)
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

static const char *
hostdev_reason(const VnicConfHostdev *hostdev)
{
    if (strcmp(hostdev->type, "pci") == 0 || strcmp(hostdev->type, "mdev") == 0)
        return "vnic does not do PCI passthrough (VFIO)";
    if (strcmp(hostdev->type, "scsi_host") == 0)
        return "vnic does not pass vhost-scsi targets through";
    if (strcmp(hostdev->type, "usb") == 0)
        return "vnic does not pass host USB devices through";
    return "vnic does not pass host devices through";
}

static const char *
filesystem_reason(const VnicConfDevice *dev)
{
    if (g_strcmp0(dev->model, "virtiofs") == 0)
        return "virtio-fs needs a virtiofsd daemon, which vnic does not start";
    return "vnic does not export host directories to guests (virtio-9p)";
}

gboolean
vnic_qemu_build_refused(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    const char *elem = vnic_conf_device_kind_to_string(dev->kind);
    g_autofree char *what = NULL;
    const char *why = NULL;

    switch (dev->kind) {
    case VNIC_CONF_DEV_HOSTDEV:
        what = g_strdup_printf("<hostdev type='%s'>", dev->hostdev->type);
        why = hostdev_reason(dev->hostdev);
        break;
    case VNIC_CONF_DEV_FILESYSTEM:
        what = g_strdup_printf("<filesystem> with <driver type='%s'>",
                               dev->model != NULL ? dev->model : "path");
        why = filesystem_reason(dev);
        break;
    case VNIC_CONF_DEV_VSOCK:
        why = "it needs /dev/vhost-vsock and a guest CID, which vnic does not manage";
        break;
    case VNIC_CONF_DEV_MEMORY:
        what = g_strdup_printf("<memory model='%s'>", dev->model);
        why = "vnic does not do memory devices or memory hot-plug";
        break;
    case VNIC_CONF_DEV_IOMMU:
        what = g_strdup_printf("<iommu model='%s'>", dev->model);
        why = "vnic does not give guests a virtual IOMMU";
        break;
    case VNIC_CONF_DEV_SHMEM:
        what = g_strdup_printf("<shmem> model '%s'", dev->model);
        why = "vnic does not share host memory with guests (ivshmem)";
        break;
    case VNIC_CONF_DEV_CRYPTO:
        why = "vnic runs no virtio-crypto backend";
        break;
    default:
        g_return_val_if_reached(FALSE);
    }
    if (what == NULL)
        what = g_strdup_printf("<%s>", elem);
    vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "%s is not supported by the QEMU launcher: %s", what, why);
    return FALSE;
}

gboolean
vnic_qemu_build_refused_controller(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    const VnicConfController *c = dev->controller;

    vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "<controller type='%s'> is not supported by the QEMU launcher: %s",
                        vnic_conf_controller_type_to_string(c->type),
                        c->type == VNIC_CONF_CONTROLLER_FDC
                            ? "vnic runs no floppy drives"
                            : "vnic does not emulate smartcard readers");
    return FALSE;
}

/* TRUE for the controllers vnic_qemu_build_refused_controller() refuses. */
gboolean
vnic_qemu_controller_is_refused(const VnicConfController *c)
{
    return c->type == VNIC_CONF_CONTROLLER_FDC || c->type == VNIC_CONF_CONTROLLER_CCID;
}
