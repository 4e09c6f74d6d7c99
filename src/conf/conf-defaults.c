/* conf-defaults.c: libvirt's implicit devices, and MACs for NICs without one.
 *
 * Owns what a domain gets without asking, as libvirt 9.0 adds it (measured,
 * tests/data/libvirt/README.md): the root PCI controller, a USB controller
 * when there is none, a virtio memballoon when there is no <memballoon>,
 * sata index 0 on q35, a cirrus video for <graphics> without <video>; and,
 * like libvirt's generic post-parse, the controllers that disks and virtio
 * channels refer to, and the primary video moved to the front.  Every added device
 * has added_by_vnic set and no source element.  Adding is idempotent: each
 * helper first looks for what it would add.
 *
 * MAC assignment takes its randomness from the caller; nothing here reads
 * the clock or /dev/urandom.
 */
#include "conf/conf-priv.h"

#include <string.h>

/* Puts @dev after the last controller, else after the last disk, else first
 * (libvirt writes disks, then controllers). */
static void
insert_controller(VnicConfDomain *def, VnicConfDevice *dev)
{
    gint after_ctrl = -1, after_disk = -1;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *cur = g_ptr_array_index(def->devices, i);

        if (cur->kind == VNIC_CONF_DEV_CONTROLLER)
            after_ctrl = (gint) i;
        else if (cur->kind == VNIC_CONF_DEV_DISK)
            after_disk = (gint) i;
    }
    g_ptr_array_insert(def->devices, (after_ctrl >= 0 ? after_ctrl : after_disk) + 1, dev);
}

static void
add_controller(VnicConfDomain *def, VnicConfControllerType type, guint index, const char *model)
{
    VnicConfDevice *dev;

    if (vnic_conf_domain_find_controller(def, type, index) != NULL)
        return;
    dev = vnic_conf_device_new(VNIC_CONF_DEV_CONTROLLER);
    dev->added_by_vnic = TRUE;
    dev->controller->type = type;
    dev->controller->index = index;
    dev->controller->model = g_strdup(model);
    if (type == VNIC_CONF_CONTROLLER_PCI)
        dev->controller->pci_model = vnic_conf_root_pci_model(def->family);
    insert_controller(def, dev);
}

static gboolean
has_kind(const VnicConfDomain *def, VnicConfDeviceKind kind, VnicConfControllerType type)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == kind &&
            (kind != VNIC_CONF_DEV_CONTROLLER || dev->controller->type == type))
            return TRUE;
    }
    return FALSE;
}

/* The controller index a device's <address type='drive|virtio-serial'>
 * names, 0 when it names none. */
static guint
address_controller(const VnicConfDevice *dev)
{
    xmlNode *address = dev->node != NULL ? vnic_conf_xml_child(dev->node, "address") : NULL;
    g_autofree char *text = address != NULL ? vnic_conf_xml_prop(address, "controller") : NULL;
    guint64 index = 0;

    if (text == NULL || !vnic_conf_xml_parse_uint(text, FALSE, 0, 255, &index))
        return 0;
    return (guint) index;
}

/* A virtio console or channel lives on a virtio-serial controller. */
static gboolean
uses_virtio_serial(const VnicConfDevice *dev)
{
    xmlNode *target;
    g_autofree char *type = NULL;

    if ((dev->kind != VNIC_CONF_DEV_CHANNEL && dev->kind != VNIC_CONF_DEV_CONSOLE) ||
        dev->node == NULL)
        return FALSE;
    target = vnic_conf_xml_child(dev->node, "target");
    type = target != NULL ? vnic_conf_xml_prop(target, "type") : NULL;
    return g_strcmp0(type, "virtio") == 0;
}

/* libvirt's virDomainDefAddImplicitControllers: every sata/scsi/ide disk
 * and virtio channel needs the controller its address names. */
static void
add_referenced_controllers(VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        const char *bus = dev->kind == VNIC_CONF_DEV_DISK ? dev->disk->bus : NULL;

        if (g_strcmp0(bus, "sata") == 0)
            add_controller(def, VNIC_CONF_CONTROLLER_SATA, address_controller(dev), NULL);
        else if (g_strcmp0(bus, "scsi") == 0)
            add_controller(def, VNIC_CONF_CONTROLLER_SCSI, address_controller(dev), "lsilogic");
        else if (g_strcmp0(bus, "ide") == 0)
            add_controller(def, VNIC_CONF_CONTROLLER_IDE, address_controller(dev), NULL);
        else if (uses_virtio_serial(dev))
            add_controller(def, VNIC_CONF_CONTROLLER_VIRTIO_SERIAL, address_controller(dev),
                           NULL);
    }
}

static gboolean
video_is_primary(const VnicConfDevice *dev)
{
    xmlNode *model = dev->node != NULL ? vnic_conf_xml_child(dev->node, "model") : NULL;
    g_autofree char *primary = model != NULL ? vnic_conf_xml_prop(model, "primary") : NULL;

    return g_strcmp0(primary, "yes") == 0;
}

/* libvirt makes the video marked primary='yes' the first video, wherever it
 * was listed (measured: pc-primary2, q35-primary2): it takes the primary
 * slot and is written first. */
static void
move_primary_video_first(VnicConfDomain *def)
{
    gint first = -1;

    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind != VNIC_CONF_DEV_VIDEO)
            continue;
        if (first < 0)
            first = (gint) i;
        else if (video_is_primary(dev)) {
            g_ptr_array_steal_index(def->devices, i);
            g_ptr_array_insert(def->devices, first, dev);
            return;
        }
    }
}

/* <graphics> without <video>: libvirt 9.0 adds a cirrus video on pc and on
 * q35 alike (measured: pc-graphics, q35-graphics), so a display has
 * something to show.  It goes after the last <graphics>. */
static void
add_implicit_video(VnicConfDomain *def)
{
    gint after = -1;
    VnicConfDevice *video;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == VNIC_CONF_DEV_VIDEO)
            return;
        if (dev->kind == VNIC_CONF_DEV_OTHER && dev->node != NULL &&
            vnic_conf_xml_is(dev->node, "graphics"))
            after = (gint) i;
    }
    if (after < 0)
        return;
    video = vnic_conf_device_new(VNIC_CONF_DEV_VIDEO);
    video->added_by_vnic = TRUE;
    video->model = g_strdup("cirrus");
    g_ptr_array_insert(def->devices, after + 1, video);
}

void
vnic_conf_domain_add_defaults(VnicConfDomain *def)
{
    gboolean q35;

    g_return_if_fail(def != NULL);

    q35 = def->family == VNIC_MACHINE_Q35;
    if (!has_kind(def, VNIC_CONF_DEV_CONTROLLER, VNIC_CONF_CONTROLLER_USB))
        add_controller(def, VNIC_CONF_CONTROLLER_USB, 0, q35 ? "qemu-xhci" : "piix3-uhci");
    if (q35)
        add_controller(def, VNIC_CONF_CONTROLLER_SATA, 0, NULL);
    add_controller(def, VNIC_CONF_CONTROLLER_PCI, 0,
                   vnic_conf_pci_model_to_string(vnic_conf_root_pci_model(def->family)));
    add_referenced_controllers(def);
    move_primary_video_first(def);
    add_implicit_video(def);
    if (!has_kind(def, VNIC_CONF_DEV_MEMBALLOON, 0)) {
        VnicConfDevice *balloon = vnic_conf_device_new(VNIC_CONF_DEV_MEMBALLOON);

        balloon->added_by_vnic = TRUE;
        balloon->model = g_strdup("virtio");
        g_ptr_array_add(def->devices, balloon);
    }
}

static gboolean
mac_in_use(const VnicConfDomain *def, const guint8 mac[6])
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (vnic_conf_device_is_nic(dev) && dev->nic->has_mac &&
            memcmp(dev->nic->mac, mac, 6) == 0)
            return TRUE;
    }
    return FALSE;
}

void
vnic_conf_domain_assign_macs(VnicConfDomain *def, GRand *rand)
{
    g_return_if_fail(def != NULL);
    g_return_if_fail(rand != NULL);

    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        guint8 mac[6] = { 0x52, 0x54, 0x00, 0, 0, 0 };

        if (!vnic_conf_device_is_nic(dev) || dev->nic->has_mac)
            continue;
        do {
            guint32 r = g_rand_int(rand);

            mac[3] = (guint8) (r >> 16);
            mac[4] = (guint8) (r >> 8);
            mac[5] = (guint8) r;
        } while (mac_in_use(def, mac));
        memcpy(dev->nic->mac, mac, 6);
        dev->nic->has_mac = TRUE;
    }
}
