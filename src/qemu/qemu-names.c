/* qemu-names.c: QEMU ids for devices and buses, named as libvirt names them.
 *
 * A device's id is its <alias> when it has one; otherwise libvirt's name
 * (net0, virtio-disk0, sata0-0-1, pci.3, usb, virtio-serial0, balloon0,
 * serial0, channel0, …) with the lowest number no alias of the domain
 * already uses; vnic_qemu_assign_ids() writes them into a running
 * domain's <alias> elements.  Buses: the root is pci.0 (pc) or pcie.0 (q35)
 * whatever its alias; any other PCI bus is named after its controller's
 * id; the chipset's IDE/AHCI buses are "ide.N".
 *
 * Pure.  The table is built once per command (O(devices)) so a domain with
 * a thousand NICs costs no quadratic search.
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

struct _VnicQemuNames {
    const VnicConfDomain *def;
    GHashTable *ids;          /* VnicConfDevice* → char* (owned) */
    GHashTable *taken;        /* char* → NULL: every id given so far (borrowed keys) */
    GHashTable *next;         /* prefix → GUINT: lowest number maybe free */
};

gint
vnic_qemu_disk_index(const char *target_dev)
{
    static const char *const prefixes[] = { "xvd", "ubd", "vd", "sd", "hd", NULL };
    const char *p = NULL;
    gint idx = 0;

    if (target_dev == NULL)
        return -1;
    for (guint i = 0; prefixes[i] != NULL && p == NULL; i++) {
        if (g_str_has_prefix(target_dev, prefixes[i]))
            p = target_dev + strlen(prefixes[i]);
    }
    if (p == NULL || *p == '\0')
        return -1;
    for (; *p != '\0'; p++) {
        if (*p < 'a' || *p > 'z' || idx > G_MAXINT / 27)
            return -1;
        idx = idx * 26 + (*p - 'a' + 1);
    }
    return idx - 1;
}

gboolean
vnic_qemu_disk_drive_addr(const VnicConfDevice *dev, VnicQemuDriveAddr *addr, GError **error)
{
    const char *bus = dev->disk->bus;
    xmlNode *node = vnic_qemu_xml_child(dev->node, "address");
    gint idx = vnic_qemu_disk_index(dev->disk->target_dev);
    guint64 v[4];
    static const char *const keys[] = { "controller", "bus", "target", "unit" };

    memset(addr, 0, sizeof(*addr));
    if (node != NULL) {
        for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
            if (!vnic_qemu_xml_prop_uint(NULL, dev, node, keys[i], 0, &v[i], error))
                return FALSE;
        }
        *addr = (VnicQemuDriveAddr){ v[0], v[1], v[2], v[3] };
        return TRUE;
    }
    if (idx < 0) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "disk '%s': cannot derive a drive address from the name: give an "
                    "<address type='drive'>", dev->disk->target_dev);
        return FALSE;
    }
    /* libvirt's virDomainDiskDefAssignAddress */
    if (g_strcmp0(bus, "sata") == 0)
        *addr = (VnicQemuDriveAddr){ .controller = idx / 6, .unit = idx % 6 };
    else if (g_strcmp0(bus, "ide") == 0)
        *addr = (VnicQemuDriveAddr){ .controller = idx / 4, .bus = (idx % 4) / 2,
                                     .unit = idx % 2 };
    else if (g_strcmp0(bus, "scsi") == 0)
        *addr = (VnicQemuDriveAddr){ .controller = idx / 7, .unit = idx % 7 };
    return TRUE;
}

gboolean
vnic_qemu_is_chipset(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    const VnicConfController *c = dev->controller;

    if (dev->kind != VNIC_CONF_DEV_CONTROLLER || c->index != 0)
        return FALSE;
    if (def->family == VNIC_MACHINE_PC)
        return c->type == VNIC_CONF_CONTROLLER_IDE;
    return c->type == VNIC_CONF_CONTROLLER_SATA;
}

guint
vnic_qemu_kind_index(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    guint n = 0;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        if (d == dev)
            break;
        if (d->kind == dev->kind)
            n++;
    }
    return n;
}

static char *
numbered(VnicQemuNames *names, const char *prefix)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(names->next, prefix));

    for (;; n++) {
        g_autofree char *id = g_strdup_printf("%s%u", prefix, n);

        if (!g_hash_table_contains(names->taken, id)) {
            g_hash_table_insert(names->next, (gpointer) prefix, GUINT_TO_POINTER(n + 1));
            return g_steal_pointer(&id);
        }
    }
}

static char *
controller_id(const VnicConfController *c)
{
    if (c->type == VNIC_CONF_CONTROLLER_PCI && c->pci_model == VNIC_CONF_PCI_MODEL_PCIE_ROOT)
        return g_strdup("pcie.0"); /* QEMU's name for q35's root bus */
    if (c->type == VNIC_CONF_CONTROLLER_PCI)
        return g_strdup_printf("pci.%u", c->index);
    if ((c->type == VNIC_CONF_CONTROLLER_USB || c->type == VNIC_CONF_CONTROLLER_IDE) &&
        c->index == 0)
        return g_strdup(vnic_conf_controller_type_to_string(c->type));
    return g_strdup_printf("%s%u", vnic_conf_controller_type_to_string(c->type), c->index);
}

static char *
disk_id(VnicQemuNames *names, const VnicConfDevice *dev)
{
    const char *bus = dev->disk->bus;
    VnicQemuDriveAddr a;
    gint idx = vnic_qemu_disk_index(dev->disk->target_dev);

    if (g_strcmp0(bus, "virtio") == 0 && idx >= 0)
        return g_strdup_printf("virtio-disk%d", idx);
    if (g_strcmp0(bus, "virtio") == 0 || g_strcmp0(bus, "usb") == 0 ||
        !vnic_qemu_disk_drive_addr(dev, &a, NULL))
        return numbered(names, g_strcmp0(bus, "usb") == 0 ? "usb-disk" : "virtio-disk");
    if (g_strcmp0(bus, "scsi") == 0)
        return g_strdup_printf("scsi%u-%u-%u-%u", a.controller, a.bus, a.target, a.unit);
    return g_strdup_printf("%s%u-%u-%u", bus, a.controller, a.bus, a.unit);
}

static char *
default_id(VnicQemuNames *names, const VnicConfDevice *dev)
{
    static const char *const prefixes[] = {
        [VNIC_CONF_DEV_INTERFACE] = "net",   [VNIC_CONF_DEV_VIDEO] = "video",
        [VNIC_CONF_DEV_SOUND] = "sound",     [VNIC_CONF_DEV_MEMBALLOON] = "balloon",
        [VNIC_CONF_DEV_RNG] = "rng",         [VNIC_CONF_DEV_WATCHDOG] = "watchdog",
        [VNIC_CONF_DEV_SERIAL] = "serial",   [VNIC_CONF_DEV_CONSOLE] = "console",
        [VNIC_CONF_DEV_CHANNEL] = "channel", [VNIC_CONF_DEV_INPUT] = "input",
        /* placed, not run (qemu-command-refused.c): libvirt's alias prefixes */
        [VNIC_CONF_DEV_HOSTDEV] = "hostdev", [VNIC_CONF_DEV_FILESYSTEM] = "fs",
        [VNIC_CONF_DEV_VSOCK] = "vsock",     [VNIC_CONF_DEV_IOMMU] = "iommu",
        [VNIC_CONF_DEV_SHMEM] = "shmem",     [VNIC_CONF_DEV_CRYPTO] = "crypto",
    };

    switch (dev->kind) {
    case VNIC_CONF_DEV_CONTROLLER:
        /* USB companions (UHCI under an EHCI master) share the master's
         * index and, as in libvirt, get no id of their own */
        if (dev->controller->type == VNIC_CONF_CONTROLLER_USB && dev->controller->usb_companion)
            return NULL;
        return controller_id(dev->controller);
    case VNIC_CONF_DEV_DISK:
        return disk_id(names, dev);
    case VNIC_CONF_DEV_OTHER:
        return NULL;
    case VNIC_CONF_DEV_MEMORY: /* dimm0, virtiomem0, … */
        return numbered(names, strcmp(dev->model, "virtio-mem") == 0    ? "virtiomem"
                               : strcmp(dev->model, "virtio-pmem") == 0 ? "virtiopmem"
                               : strcmp(dev->model, "nvdimm") == 0      ? "nvdimm"
                                                                        : "dimm");
    default:
        g_return_val_if_fail((gsize) dev->kind < G_N_ELEMENTS(prefixes) &&
                                 prefixes[dev->kind] != NULL,
                             NULL);
        return numbered(names, prefixes[dev->kind]);
    }
}

VnicQemuNames *
vnic_qemu_names_new(const VnicConfDomain *def)
{
    VnicQemuNames *names = g_new0(VnicQemuNames, 1);

    names->def = def;
    names->ids = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    names->taken = g_hash_table_new(g_str_hash, g_str_equal);
    names->next = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->alias != NULL)
            g_hash_table_add(names->taken, dev->alias);
    }
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        char *id = dev->alias != NULL ? g_strdup(dev->alias) : default_id(names, dev);

        if (id == NULL)
            continue;
        g_hash_table_insert(names->ids, (gpointer) dev, id);
        g_hash_table_add(names->taken, id);
    }
    return names;
}

void
vnic_qemu_names_free(VnicQemuNames *names)
{
    if (names == NULL)
        return;
    g_hash_table_unref(names->ids);
    g_hash_table_unref(names->taken);
    g_hash_table_unref(names->next);
    g_free(names);
}

const char *
vnic_qemu_names_get(const VnicQemuNames *names, const VnicConfDevice *dev)
{
    return g_hash_table_lookup(names->ids, dev);
}

const char *
vnic_qemu_names_controller(const VnicQemuNames *names, VnicConfControllerType type,
                           guint index)
{
    for (guint i = 0; i < names->def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(names->def->devices, i);

        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == type &&
            d->controller->index == index && vnic_qemu_names_get(names, d) != NULL)
            return vnic_qemu_names_get(names, d);
    }
    return NULL;
}

const char *
vnic_qemu_names_pci_bus(const VnicQemuNames *names, guint index)
{
    const VnicConfDevice *c =
        vnic_conf_domain_find_controller(names->def, VNIC_CONF_CONTROLLER_PCI, index);

    if (c == NULL)
        return NULL;
    if (c->controller->pci_model == VNIC_CONF_PCI_MODEL_PCI_ROOT)
        return "pci.0";
    if (c->controller->pci_model == VNIC_CONF_PCI_MODEL_PCIE_ROOT)
        return "pcie.0";
    return vnic_qemu_names_get(names, c);
}

char *
vnic_qemu_device_id(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    g_autoptr(VnicQemuNames) names = NULL;

    g_return_val_if_fail(def != NULL && dev != NULL, NULL);

    names = vnic_qemu_names_new(def);
    return g_strdup(vnic_qemu_names_get(names, dev));
}

void
vnic_qemu_assign_ids(VnicConfDomain *def)
{
    g_autoptr(VnicQemuNames) names = vnic_qemu_names_new(def);

    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        const char *id = vnic_qemu_names_get(names, dev);

        if (dev->alias == NULL && id != NULL)
            dev->alias = g_strdup(id);
    }
}

char *
vnic_qemu_next_nic_id(const VnicConfDomain *def)
{
    g_autoptr(GHashTable) taken = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        if (dev->alias != NULL)
            g_hash_table_add(taken, dev->alias);
    }
    for (guint n = 0;; n++) {
        g_autofree char *id = g_strdup_printf("net%u", n);
        if (!g_hash_table_contains(taken, id))
            return g_steal_pointer(&id);
    }
}
