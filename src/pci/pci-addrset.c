/* pci-addrset.c: the buses of a domain and which functions are taken.
 *
 * Bus numbers here are controller indexes, as in libvirt's <address bus>;
 * the numbers the guest sees are computed separately (pci-names.c).  What a
 * bus accepts follows the controller model: a root port has one slot, bridges
 * 31 (slot 0 is unusable behind a pci-bridge), pcie-root takes only ports and
 * bridges unless an address says otherwise.
 */
#include "pci/pci-priv.h"

VnicPciAddrSet *
vnic_pci_addrset_new(const VnicConfDomain *def)
{
    VnicPciAddrSet *set = g_new0(VnicPciAddrSet, 1);

    set->def = def;
    set->warnings = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        if (dev->kind == VNIC_CONF_DEV_CONTROLLER &&
            dev->controller->type == VNIC_CONF_CONTROLLER_PCI &&
            dev->controller->index < VNIC_PCI_MAX_BUSES)
            vnic_pci_addrset_add_bus(set, dev->controller->index, dev->controller->pci_model, dev);
    }
    return set;
}

void
vnic_pci_addrset_free(VnicPciAddrSet *set)
{
    if (set == NULL)
        return;
    g_ptr_array_unref(set->warnings);
    g_free(set);
}

gboolean
vnic_pci_bus_accepts(VnicConfPciModel model, VnicPciConnect connect)
{
    /* expanders, switch ports and integrated endpoints on the old buses */
    if (((connect & VNIC_PCI_CONNECT_PCI_EXPANDER) && model == VNIC_CONF_PCI_MODEL_PCI_ROOT) ||
        ((connect & (VNIC_PCI_CONNECT_PCIE_EXPANDER | VNIC_PCI_CONNECT_INTEGRATED)) &&
         model == VNIC_CONF_PCI_MODEL_PCIE_ROOT) ||
        ((connect & VNIC_PCI_CONNECT_SWITCH_UPSTREAM) &&
         model == VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT))
        return TRUE;
    switch (model) {
    case VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS:    /* another pci-root */
        return (connect & (VNIC_PCI_CONNECT_PCI | VNIC_PCI_CONNECT_PCI_BRIDGE)) != 0;
    case VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS:   /* another pcie-root */
        return (connect & (VNIC_PCI_CONNECT_ROOT_PORT | VNIC_PCI_CONNECT_DMI_BRIDGE)) != 0;
    case VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT:
        return (connect & VNIC_PCI_CONNECT_SWITCH_DOWNSTREAM) != 0;
    case VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT: /* like a root port */
        return (connect & (VNIC_PCI_CONNECT_PCIE | VNIC_PCI_CONNECT_PCIE_TO_PCI_BRIDGE |
                           VNIC_PCI_CONNECT_SWITCH_UPSTREAM)) != 0;
    case VNIC_CONF_PCI_MODEL_PCI_ROOT:
    case VNIC_CONF_PCI_MODEL_PCI_BRIDGE:
        return (connect & (VNIC_PCI_CONNECT_PCI | VNIC_PCI_CONNECT_PCI_BRIDGE)) != 0;
    case VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE:
        /* no hot-plug, so libvirt puts only pci-bridges there (q35-dmionly) */
        return (connect & VNIC_PCI_CONNECT_PCI_BRIDGE) != 0;
    case VNIC_CONF_PCI_MODEL_PCIE_ROOT:
        return (connect & (VNIC_PCI_CONNECT_ROOT_PORT | VNIC_PCI_CONNECT_DMI_BRIDGE)) != 0;
    case VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT:
        return (connect & (VNIC_PCI_CONNECT_PCIE | VNIC_PCI_CONNECT_PCIE_TO_PCI_BRIDGE)) != 0;
    case VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE:
        return (connect & (VNIC_PCI_CONNECT_PCI | VNIC_PCI_CONNECT_PCI_BRIDGE)) != 0;
    case VNIC_CONF_PCI_MODEL_NONE:
        break;
    }
    return FALSE;
}

void
vnic_pci_addrset_add_bus(VnicPciAddrSet *set, guint index, VnicConfPciModel model,
                         const VnicConfDevice *controller)
{
    VnicPciBus *bus = &set->buses[index];

    *bus = (VnicPciBus){ .exists = TRUE, .model = model, .controller = controller };
    bus->hotplug = TRUE;
    bus->min_slot = 1;
    bus->max_slot = VNIC_PCI_SLOTS - 1;
    switch (model) {
    case VNIC_CONF_PCI_MODEL_PCIE_ROOT:
    case VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE:
        bus->hotplug = FALSE;
        bus->min_slot = model == VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE ? 0 : 1;
        break;
    case VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS:
    case VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS:
    case VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT:
        /* a new root bus (no host bridge in slot 0), or the switch's
         * internal bus; neither takes hot-plug */
        bus->hotplug = FALSE;
        bus->min_slot = 0;
        break;
    case VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT:
    case VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT:
        bus->min_slot = bus->max_slot = 0;
        break;
    default:
        break;
    }
    if (controller && controller->controller->hotplug == VNIC_TRISTATE_NO)
        bus->hotplug = FALSE;
    bus->accepts = 0;
    for (guint bit = 0; bit < VNIC_PCI_CONNECT_BITS; bit++) {
        if (vnic_pci_bus_accepts(model, 1u << bit))
            bus->accepts |= 1u << bit;
    }
}

gboolean
vnic_pci_addrset_is_free(const VnicPciAddrSet *set, guint bus, guint slot, guint fn)
{
    return (set->buses[bus].used[slot] & (1u << fn)) == 0;
}

gboolean
vnic_pci_addrset_slot_is_empty(const VnicPciAddrSet *set, guint bus, guint slot)
{
    return set->buses[bus].used[slot] == 0;
}

void
vnic_pci_addrset_mark(VnicPciAddrSet *set, const VnicConfPciAddr *addr,
                      const VnicConfDevice *owner)
{
    VnicPciBus *bus = &set->buses[addr->bus];

    if (bus->used[addr->slot] == 0)
        bus->owner[addr->slot] = owner;
    bus->used[addr->slot] |= 1u << addr->function;
}

static gboolean
slot_usable(const VnicPciBus *bus, guint slot)
{
    return slot >= bus->min_slot && slot <= bus->max_slot && bus->used[slot] == 0;
}

guint
vnic_pci_addrset_free_slot_count(const VnicPciAddrSet *set, guint bus)
{
    guint n = 0;

    for (guint s = 0; s < VNIC_PCI_SLOTS; s++)
        n += slot_usable(&set->buses[bus], s);
    return n;
}

gboolean
vnic_pci_addrset_find_slot(const VnicPciAddrSet *set, guint bus, guint from,
                           VnicPciConnect connect, VnicConfPciAddr *addr)
{
    const VnicPciBus *b = &set->buses[bus];

    if (!b->exists || !(b->accepts & connect))
        return FALSE;
    for (guint s = from; s < VNIC_PCI_SLOTS; s++) {
        if (slot_usable(b, s)) {
            *addr = (VnicConfPciAddr){ .set = TRUE, .bus = bus, .slot = s };
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
vnic_pci_addrset_find_any(const VnicPciAddrSet *set, VnicPciConnect connect,
                          VnicConfPciAddr *addr)
{
    for (guint b = 0; b < VNIC_PCI_MAX_BUSES; b++) {
        if (vnic_pci_addrset_find_slot(set, b, 0, connect, addr))
            return TRUE;
    }
    return FALSE;
}

guint
vnic_pci_addrset_next_index(const VnicPciAddrSet *set)
{
    guint next = 0;

    for (guint b = 0; b < VNIC_PCI_MAX_BUSES; b++) {
        if (set->buses[b].exists)
            next = b + 1;
    }
    return next;
}
