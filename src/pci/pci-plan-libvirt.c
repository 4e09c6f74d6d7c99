/* pci-plan-libvirt.c: the `libvirt` policy, libvirt 9.0's addresses.
 *
 * libvirt places devices in two passes (qemu_domain_address.c).  The first
 * only counts, to decide which controllers to add; the second puts the
 * controllers first (by index) and then every device, in a fixed order of
 * device types, at the lowest free slot that accepts it.  We reproduce both
 * passes; the rules were measured against a real libvirt 9.0
 * (tests/data/libvirt/README.md).
 *
 * Where libvirt is simply wrong we do better and say so here: its first
 * pass on pc keeps one slot back for a bridge and then refuses layouts that
 * fit (59 NICs fails while 58 and 60 work).  We add one more pci-bridge
 * instead of failing.  On q35 it refuses a pcie-to-pci-bridge listed
 * without root ports, and a pci-bridge with no PCI bus to plug into (it
 * puts it on itself); we add the root port (and pcie-to-pci-bridge) they
 * need.
 */
#include "pci/pci-priv.h"

/* Devices without an address in libvirt's order: by group, and within the
 * controller group the implicit controllers (added by defaults) last. */
static void
collect_in_order(VnicPciPlanner *p, GPtrArray *out)
{
    for (guint g = 0; g < VNIC_PCI_GROUP_COUNT; g++) {
        for (guint implicit = 0; implicit < 2; implicit++) {
            for (guint i = 0; i < p->def->devices->len; i++) {
                VnicConfDevice *dev = g_ptr_array_index(p->def->devices, i);
                if (vnic_pci_planner_needs_address(p, dev) &&
                    vnic_pci_classify(p->def, dev).group == g &&
                    dev->added_by_vnic == (gboolean)implicit)
                    g_ptr_array_add(out, dev);
            }
        }
    }
}

static gboolean
out_of_buses(GError **error)
{
    g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                "the domain needs more than 256 PCI buses");
    return FALSE;
}

/* Free slots where auto-placement may put a PCI endpoint: the root bus and
 * every bridge the user gave (libvirt fills those before it adds one,
 * measured: pc-userbridge, pc-userbridge65).  A dmi-to-pci-bridge takes
 * no endpoints (see vnic_pci_bus_accepts). */
static guint
free_hotplug_pci_slots(VnicPciPlanner *p)
{
    guint n = 0;

    for (guint b = 0; b < VNIC_PCI_MAX_BUSES; b++) {
        const VnicPciBus *bus = &p->set->buses[b];
        if (bus->exists && (bus->accepts & VNIC_PCI_CONNECT_PCI))
            n += vnic_pci_addrset_free_slot_count(p->set, b);
    }
    return n;
}

static gboolean
has_bus_taking_bridges(VnicPciPlanner *p)
{
    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        const VnicPciBus *bus = &p->set->buses[b];
        if (bus->exists && (bus->model == VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE ||
                            bus->model == VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE))
            return TRUE;
    }
    return FALSE;
}

static gboolean
bridge_has_parent(VnicPciPlanner *p, const VnicConfDevice *bridge)
{
    VnicConfPciAddr a;

    return vnic_pci_find_controller_slot(p, bridge, VNIC_PCI_CONNECT_PCI_BRIDGE, &a);
}

/* pc: b bridges where libvirt's first pass would add them, plus as many as
 * it takes for the layout to fit (libvirt fails there instead). */
static gboolean
add_pc_bridges(VnicPciPlanner *p, guint devices, GError **error)
{
    guint free_root = free_hotplug_pci_slots(p);
    guint bridges = 0;

    /* a pci-expander-bus is another root bus: libvirt counts its slots */
    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        if (p->set->buses[b].exists &&
            p->set->buses[b].model == VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS)
            free_root += vnic_pci_addrset_free_slot_count(p->set, b);
    }

    if (devices > 0 && devices + 1 > free_root)
        bridges = (devices + 1 - free_root + 30) / 31;
    while (free_root + 30 * bridges < devices)
        bridges++;
    for (guint i = 0; i < bridges; i++) {
        if (!vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCI_BRIDGE))
            return out_of_buses(error);
    }
    return TRUE;
}

static guint
empty_user_ports(VnicPciPlanner *p)
{
    guint n = 0;

    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        const VnicPciBus *bus = &p->set->buses[b];
        gboolean port = bus->model == VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT ||
                        bus->model == VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT;
        n += bus->exists && port && bus->hotplug && vnic_pci_addrset_slot_is_empty(p->set, b, 0);
    }
    /* each switch upstream port still to be placed will take one of them
     * (q35-switch).  libvirt adds no root port for one that finds none: it
     * then plugs it into its own downstream port, a loop QEMU cannot
     * build; we add none either, and the lower-index rule refuses it */
    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        const VnicPciBus *bus = &p->set->buses[b];

        if (n > 0 && bus->exists && bus->model == VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT &&
            bus->controller != NULL && vnic_pci_planner_needs_address(p, bus->controller))
            n--;
    }
    return n;
}

/* q35's first pass: a root port per PCIe device once the user's empty ports
 * are used up, a root port and a pcie-to-pci-bridge whenever legacy PCI
 * devices need a new bridge, and the spare ports.  Which port each device
 * ends up on is decided by the second pass, as in libvirt. */
static gboolean
add_q35_controllers(VnicPciPlanner *p, GPtrArray *order, GError **error)
{
    guint user_free = empty_user_ports(p), added = 0;
    guint bridge_room = free_hotplug_pci_slots(p); /* pcie.0 takes no endpoints */
    g_autoptr(GPtrArray) demand = g_ptr_array_new();

    /* controllers added for buses user addresses named come first, like
     * every controller in libvirt's passes */
    for (guint i = 0; i < p->added->len; i++)
        g_ptr_array_add(demand, g_ptr_array_index(p->added, i));
    for (guint i = 0; i < order->len; i++)
        g_ptr_array_add(demand, g_ptr_array_index(order, i));
    for (guint i = 0; i < demand->len; i++) {
        VnicPciConnect c = vnic_pci_classify(p->def, g_ptr_array_index(demand, i)).connect;

        /* a pcie-to-pci-bridge needs a root port like a PCIe device; when
         * the user gave none libvirt refuses (q35-pcie2pci), we add one */
        if (c == VNIC_PCI_CONNECT_PCIE_TO_PCI_BRIDGE)
            c = VNIC_PCI_CONNECT_PCIE;
        /* a pci-bridge with no PCI bus to plug into (libvirt puts it on
         * itself and refuses, q35-pcibridge-only) gets a root port and a
         * pcie-to-pci-bridge like a PCI device */
        if (c == VNIC_PCI_CONNECT_PCI_BRIDGE &&
            !bridge_has_parent(p, g_ptr_array_index(demand, i))) {
            if (!vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT) ||
                !vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE))
                return out_of_buses(error);
            added += 2;
            bridge_room += 30;
            continue;
        }
        if (c == VNIC_PCI_CONNECT_PCIE && user_free > 0) {
            user_free--;
        } else if (c == VNIC_PCI_CONNECT_PCIE) {
            if (!vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT))
                return out_of_buses(error);
            added++;
        } else if (c == VNIC_PCI_CONNECT_PCI && bridge_room > 0) {
            bridge_room--;
        } else if (c == VNIC_PCI_CONNECT_PCI && has_bus_taking_bridges(p)) {
            /* behind the user's dmi-to-pci-bridge (no hot-plug, so no
             * endpoints) libvirt adds a pci-bridge (q35-dmionly) */
            if (!vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCI_BRIDGE))
                return out_of_buses(error);
            added++;
            bridge_room = 30;
        } else if (c == VNIC_PCI_CONNECT_PCI) {
            if (!vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT) ||
                !vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE))
                return out_of_buses(error);
            added += 2;
            bridge_room = 30; /* 31 slots, this device takes one */
        }
    }
    if (added == 0 && p->spare_only_if_added)
        return TRUE;
    for (guint i = 0; i < p->spare_ports; i++) {
        if (!vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT))
            return out_of_buses(error);
    }
    return TRUE;
}

/* Root ports share a slot as functions 0–7; everything else takes a whole
 * slot.  Returns the lowest place for @connect, as libvirt's second pass. */
static gboolean
find_lowest(VnicPciPlanner *p, VnicPciConnect connect, VnicConfPciAddr *addr)
{
    if (vnic_pci_find_dmi_slot(p, connect, addr))
        return TRUE;
    if (connect == VNIC_PCI_CONNECT_ROOT_PORT) {
        const VnicPciBus *root = &p->set->buses[0];
        for (guint s = root->min_slot; s <= root->max_slot; s++) {
            gboolean ports_only = root->used[s] == 0 ||
                                  (root->owner[s] && root->owner[s]->kind == VNIC_CONF_DEV_CONTROLLER &&
                                   root->owner[s]->controller->pci_model ==
                                       VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT);
            for (guint f = 0; ports_only && f < 8; f++) {
                if (vnic_pci_addrset_is_free(p->set, 0, s, f)) {
                    *addr = (VnicConfPciAddr){ .set = TRUE, .slot = s, .function = f };
                    return TRUE;
                }
            }
        }
        return FALSE;
    }
    return vnic_pci_addrset_find_any(p->set, connect, addr);
}

static gboolean
place_in_order(VnicPciPlanner *p, GPtrArray *devs, GError **error)
{
    for (guint i = 0; i < devs->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(devs, i);
        VnicPciConnect connect = vnic_pci_classify(p->def, dev).connect;
        VnicConfPciAddr a;
        gboolean found;

        if (dev->kind == VNIC_CONF_DEV_CONTROLLER &&
            dev->controller->type == VNIC_CONF_CONTROLLER_PCI &&
            connect != VNIC_PCI_CONNECT_ROOT_PORT && !vnic_pci_find_dmi_slot(p, connect, &a))
            found = vnic_pci_find_controller_slot(p, dev, connect, &a);
        else
            found = find_lowest(p, connect, &a);
        if (!found) {
            g_autofree char *what = vnic_conf_device_describe(p->def, dev);
            g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                        "%s: no free PCI slot it can plug into", what);
            return FALSE;
        }
        vnic_pci_planner_place(p, dev, &a);
    }
    return TRUE;
}

/* Sets multifunction='on' on function 0 of every slot of root ports that
 * the planner filled with more than one port. */
static void
mark_multifunction(VnicPciPlanner *p)
{
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init(&iter, p->placed);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        VnicConfPciAddr *a = value;
        if (a->bus == 0 && a->function == 0 && p->set->buses[0].used[a->slot] != 1)
            a->multifunction = VNIC_TRISTATE_YES;
    }
}

gboolean
vnic_pci_plan_libvirt(VnicPciPlanner *p, GError **error)
{
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    g_autoptr(GPtrArray) controllers = g_ptr_array_new();

    vnic_pci_planner_place_primary_video(p, p->def->family == VNIC_MACHINE_Q35 ? 1 : 2);
    collect_in_order(p, order);
    if (p->def->family == VNIC_MACHINE_PC) {
        if (!add_pc_bridges(p, order->len, error))
            return FALSE;
    } else if (!add_q35_controllers(p, order, error)) {
        return FALSE;
    }

    /* Second pass: every PCI controller without an address, by index. */
    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        VnicConfDevice *ctrl = (VnicConfDevice *)p->set->buses[b].controller;
        if (p->set->buses[b].exists && ctrl && vnic_pci_planner_needs_address(p, ctrl))
            g_ptr_array_add(controllers, ctrl);
    }
    if (!place_in_order(p, controllers, error))
        return FALSE;
    for (guint i = 0; i < order->len;) {
        if (vnic_pci_classify(p->def, g_ptr_array_index(order, i)).group ==
            VNIC_PCI_GROUP_CONTROLLER_PCI)
            g_ptr_array_remove_index(order, i);
        else
            i++;
    }
    if (!place_in_order(p, order, error))
        return FALSE;
    mark_multifunction(p);
    return TRUE;
}
