/* pci-plan-gaps.c: controllers for addresses on buses nobody defined.
 *
 * libvirt accepts a user address on a bus index that has no controller and
 * adds the missing controllers up to that index (measured: pc-busgap,
 * q35-busgap, q35-busgap-pci*, q35-busgap-hole):
 *   pc:  a pci-bridge for each missing index;
 *   q35: a pcie-root-port for each, when the device is PCI Express;
 *        for a conventional PCI device, unless a PCI bus to hang bridges
 *        on exists, first a pcie-root-port and a pcie-to-pci-bridge, then
 *        pci-bridges.  When the address named the bus that became the root
 *        port, the device moves to the pcie-to-pci-bridge behind it, as
 *        libvirt moves it (q35-busgap-pci1).
 * The new controllers have no address; the policy places them like any
 * other controller.  Moved devices are recorded so a failed plan can put
 * their addresses back.
 */
#include "pci/pci-priv.h"

static gboolean
has_pci_bridge_bus(const VnicPciAddrSet *set)
{
    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        if (set->buses[b].exists && (set->buses[b].accepts & VNIC_PCI_CONNECT_PCI_BRIDGE))
            return TRUE;
    }
    return FALSE;
}

static gboolean
out_of_buses(const VnicConfDomain *def, const VnicConfDevice *dev, GError **error)
{
    g_autofree char *what = vnic_conf_device_describe(def, dev);

    g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                "%s: the controllers for bus %u do not fit within 256 PCI buses", what,
                dev->addr.bus);
    return FALSE;
}

/* Adds controllers for every missing index up to @dev's bus. */
static gboolean
fill_gap(VnicPciPlanner *p, VnicConfDevice *dev, GArray *moved, GError **error)
{
    gboolean q35 = p->def->family == VNIC_MACHINE_Q35;
    VnicPciConnect c = vnic_pci_classify(p->def, dev).connect;
    gboolean legacy = q35 && (c & (VNIC_PCI_CONNECT_PCI | VNIC_PCI_CONNECT_PCI_BRIDGE));
    gboolean chain = legacy && !has_pci_bridge_bus(p->set);
    guint first = vnic_pci_addrset_next_index(p->set);
    guint target = dev->addr.bus;

    if (target < first)
        first = target; /* a hole below the highest index: that one bus */
    if (chain && target == first) {
        /* the root port would be the device's bus; it goes one further */
        g_array_append_val(moved, dev);
        dev->addr.bus = ++target;
    }
    for (guint index = first; index <= target; index++) {
        VnicConfPciModel model;

        if (!q35)
            model = VNIC_CONF_PCI_MODEL_PCI_BRIDGE;
        else if (!legacy)
            model = VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT;
        else if (chain && index == first)
            model = VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT;
        else if (chain && index == first + 1)
            model = VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE;
        else
            model = VNIC_CONF_PCI_MODEL_PCI_BRIDGE;
        if (!vnic_pci_planner_add_controller_at(p, model, index))
            return out_of_buses(p->def, dev, error);
    }
    return TRUE;
}

gboolean
vnic_pci_add_missing_buses(VnicPciPlanner *p, GArray *moved, GError **error)
{
    for (guint i = 0; i < p->def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(p->def->devices, i);

        if (!dev->addr.set || dev->addr.bus == 0 || p->set->buses[dev->addr.bus].exists ||
            !vnic_pci_classify(p->def, dev).is_pci)
            continue;
        if (!fill_gap(p, dev, moved, error))
            return FALSE;
    }
    return TRUE;
}
