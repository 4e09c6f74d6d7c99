/* conf-aliases.c: device ids for a running domain, named as libvirt does.
 *
 * QEMU needs an id for every device; vnic uses the <alias> (libvirt's
 * names: net0, virtio-disk0, balloon0, pci.3, …) so that status XML,
 * QMP commands and events all speak of a device the same way.  User aliases
 * (ua-*) and aliases already present are kept; a number is never reused
 * within a domain while its device exists.
 */
#include "conf/conf-priv.h"

#include <string.h>

static gboolean
alias_taken(const VnicConfDomain *def, const char *alias)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->alias && strcmp(d->alias, alias) == 0)
            return TRUE;
    }
    return FALSE;
}

/* "<prefix><n>" with the lowest n not taken. */
static char *
next_numbered(const VnicConfDomain *def, const char *prefix)
{
    for (guint n = 0;; n++) {
        g_autofree char *alias = g_strdup_printf("%s%u", prefix, n);
        if (!alias_taken(def, alias))
            return g_steal_pointer(&alias);
    }
}

static char *
controller_alias(const VnicConfController *c)
{
    if (c->type == VNIC_CONF_CONTROLLER_PCI && c->pci_model == VNIC_CONF_PCI_MODEL_PCIE_ROOT)
        return g_strdup("pcie.0"); /* QEMU's name for q35's root bus */
    if (c->type == VNIC_CONF_CONTROLLER_PCI)
        return g_strdup_printf("pci.%u", c->index);
    if (c->type == VNIC_CONF_CONTROLLER_USB && c->index == 0)
        return g_strdup("usb");
    if (c->type == VNIC_CONF_CONTROLLER_IDE)
        return c->index == 0 ? g_strdup("ide") : g_strdup_printf("ide%u", c->index);
    return g_strdup_printf("%s%u", vnic_conf_controller_type_to_string(c->type), c->index);
}

/* virtio-disk0 for vda, sata0-0-1 for sdb on sata, … */
static char *
disk_alias(const VnicConfDomain *def, const VnicConfDisk *disk)
{
    const char *dev = disk->target_dev ? disk->target_dev : "";
    gsize len = strlen(dev);
    guint unit = len > 2 ? (guint)(dev[len - 1] - 'a') : 0;

    if (g_strcmp0(disk->bus, "virtio") == 0)
        return g_strdup_printf("virtio-disk%u", unit);
    if (g_strcmp0(disk->bus, "sata") == 0)
        return g_strdup_printf("sata0-0-%u", unit);
    if (g_strcmp0(disk->bus, "scsi") == 0)
        return g_strdup_printf("scsi0-0-0-%u", unit);
    if (g_strcmp0(disk->bus, "ide") == 0)
        return g_strdup_printf("ide0-%u-%u", unit / 2, unit % 2);
    return next_numbered(def, "disk");
}

static char *
alias_for(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    static const char *const prefixes[] = {
        [VNIC_CONF_DEV_INTERFACE] = "net",   [VNIC_CONF_DEV_VIDEO] = "video",
        [VNIC_CONF_DEV_SOUND] = "sound",     [VNIC_CONF_DEV_MEMBALLOON] = "balloon",
        [VNIC_CONF_DEV_RNG] = "rng",         [VNIC_CONF_DEV_WATCHDOG] = "watchdog",
        [VNIC_CONF_DEV_SERIAL] = "serial",   [VNIC_CONF_DEV_CONSOLE] = "console",
        [VNIC_CONF_DEV_CHANNEL] = "channel", [VNIC_CONF_DEV_INPUT] = "input",
    };

    switch (dev->kind) {
    case VNIC_CONF_DEV_CONTROLLER:
        return controller_alias(dev->controller);
    case VNIC_CONF_DEV_DISK:
        return disk_alias(def, dev->disk);
    case VNIC_CONF_DEV_OTHER:
        return NULL;
    default:
        return next_numbered(def, prefixes[dev->kind]);
    }
}

void
vnic_conf_domain_assign_aliases(VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        if (!dev->alias)
            dev->alias = alias_for(def, dev);
    }
}

char *
vnic_conf_domain_next_nic_alias(const VnicConfDomain *def)
{
    return next_numbered(def, "net");
}
