/* pci-hotplug.c: where a NIC plugged into a running guest goes.
 *
 * Works on a planned domain (every PCI device addressed).  On pc the new NIC
 * takes the lowest empty hot-plug slot from slot 3 (the root bus, then the
 * pci-bridges), which is the slot right after the boot NICs under nic-first
 * and also reuses the slot of a NIC unplugged earlier.  On q35 it takes the
 * empty root port (or PCIe switch downstream port) the guest numbers
 * lowest, with an explicit addr=0 because
 * QEMU 7.2 silently puts a second device on an occupied port out of the
 * guest's sight.
 */
#include "pci/pci-priv.h"

/* An address set with every device of a planned domain marked. */
static VnicPciAddrSet *
occupancy(const VnicConfDomain *def)
{
    VnicPciAddrSet *set = vnic_pci_addrset_new(def);

    vnic_pci_reserve_chipset(set);
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        VnicPciDevClass cls = vnic_pci_classify(def, d);

        if (d->addr.set && d->addr.bus < VNIC_PCI_MAX_BUSES)
            vnic_pci_addrset_mark(set, &d->addr, d);
        else if (cls.is_pci && cls.has_builtin)
            vnic_pci_addrset_mark(set, &cls.builtin, d);
    }
    if (def->family == VNIC_MACHINE_PC && def->guest_unplug == VNIC_TRISTATE_NO)
        set->buses[0].hotplug = FALSE;
    return set;
}

static gboolean
check_acpi(const VnicConfDomain *def, GError **error)
{
    if (def->acpi || def->family != VNIC_MACHINE_PC)
        return TRUE;
    g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_HOTPLUG,
                "domain '%s' has no <features><acpi/>: without ACPI the guest cannot see "
                "PCI hot-plug on machine '%s'; add <acpi/> to <features> and restart it",
                def->name, def->machine);
    return FALSE;
}

static gboolean
next_pc(const VnicConfDomain *def, VnicPciAddrSet *set, VnicConfPciAddr *addr, GError **error)
{
    gboolean any_hotplug_bus = FALSE;

    for (guint b = 0; b < VNIC_PCI_MAX_BUSES; b++) {
        const VnicPciBus *bus = &set->buses[b];
        if (!bus->exists || !bus->hotplug || !(bus->accepts & VNIC_PCI_CONNECT_PCI))
            continue;
        any_hotplug_bus = TRUE;
        if (vnic_pci_addrset_find_slot(set, b, b == 0 ? 3 : 0, VNIC_PCI_CONNECT_PCI, addr))
            return TRUE;
    }
    if (!any_hotplug_bus)
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_HOTPLUG,
                    "domain '%s' has hot-plug disabled on pci.0 (guest-unplug='deny' or "
                    "<target hotplug='off'/>) and no pci-bridge to plug NICs into",
                    def->name);
    else
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                    "domain '%s' has no free hot-plug PCI slot left; add a "
                    "<controller type='pci' model='pci-bridge'/> to get 31 more",
                    def->name);
    return FALSE;
}

static gboolean
next_q35(const VnicConfDomain *def, VnicPciAddrSet *set, VnicConfPciAddr *addr, GError **error)
{
    g_autofree gint *numbers = vnic_pci_guest_bus_numbers(def);
    gint best = -1, best_number = G_MAXINT;
    guint ports = 0;

    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        const VnicPciBus *bus = &set->buses[b];
        gint number;

        /* a switch's downstream port takes hot-plug like a root port (checked
         * with the test guest: the NIC shows up behind it) */
        if (!bus->exists || !bus->hotplug ||
            (bus->model != VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT &&
             bus->model != VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT))
            continue;
        ports++;
        number = numbers[b];
        if (number >= 0 && number < best_number && vnic_pci_addrset_slot_is_empty(set, b, 0)) {
            best = (gint)b;
            best_number = number;
        }
    }
    if (best < 0) {
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                    "domain '%s' has no free pcie-root-port for hot-plug (%u hot-pluggable "
                    "ports, all in use); define it with more spare ports "
                    "(<vnic:hotplug spare-ports='N'/> or --spare-ports N) and restart it",
                    def->name, ports);
        return FALSE;
    }
    *addr = (VnicConfPciAddr){ .set = TRUE, .bus = (guint)best };
    return TRUE;
}

gboolean
vnic_pci_next_nic_address(const VnicConfDomain *def, VnicConfPciAddr *addr, GError **error)
{
    g_autoptr(VnicPciAddrSet) set = NULL;

    if (!check_acpi(def, error))
        return FALSE;
    set = occupancy(def);
    if (def->family == VNIC_MACHINE_Q35)
        return next_q35(def, set, addr, error);
    return next_pc(def, set, addr, error);
}

gboolean
vnic_pci_check_hotplug_address(const VnicConfDomain *def, const VnicConfPciAddr *addr,
                               GError **error)
{
    g_autoptr(VnicPciAddrSet) set = NULL;
    g_autofree char *where = vnic_pci_addr_format(addr);
    const VnicPciBus *bus;

    if (!check_acpi(def, error))
        return FALSE;
    set = occupancy(def);
    bus = addr->bus < VNIC_PCI_MAX_BUSES ? &set->buses[addr->bus] : NULL;
    if (!bus || !bus->exists) {
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_ADDRESS,
                    "address %s: there is no PCI controller with index %u", where, addr->bus);
    } else if (!bus->hotplug) {
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_HOTPLUG,
                    "address %s: bus %u (%s) does not support hot-plug", where, addr->bus,
                    vnic_conf_pci_model_to_string(bus->model));
    } else if (addr->slot < bus->min_slot || addr->slot > bus->max_slot || addr->function != 0) {
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_ADDRESS,
                    "address %s: hot-plug needs function 0 of slot %u to %u on this bus",
                    where, bus->min_slot, bus->max_slot);
    } else if (!vnic_pci_addrset_slot_is_empty(set, addr->bus, addr->slot)) {
        const VnicConfDevice *other = bus->owner[addr->slot];
        g_autofree char *who = other ? vnic_conf_device_describe(def, other) : g_strdup("the chipset");
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_ADDRESS,
                    "address %s: the slot is in use by %s", where, who);
    } else if (addr->bus == 0 && def->family == VNIC_MACHINE_PC && addr->slot < 3) {
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_ADDRESS,
                    "address %s: slots 0 to 2 of pci.0 are kept for the chipset and video", where);
    } else {
        return TRUE;
    }
    return FALSE;
}
