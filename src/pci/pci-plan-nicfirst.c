/* pci-plan-nicfirst.c: the default policy, built around guest NIC names.
 *
 * NICs take the lowest slots in document order and the slots right after
 * them stay free, so a NIC hot-plugged later gets the next name in sequence
 * (ens3, ens4 → ens5; enp1s0, enp2s0 → enp3s0).  Everything else is pushed
 * out of the way:
 *   pc:  NICs from slot 3, other devices from slot 0x10, pci-bridges (only
 *        when the root bus is full) in the highest free slots; NICs whose
 *        guest unplug is denied (per NIC) behind a pci-bridge, all of which
 *        then lose hot-plug;
 *   q35: one root port per NIC first, then the spare ports, then ports for
 *        the other PCIe devices; legacy PCI devices and NICs whose guest
 *        unplug is denied become integrated endpoints on pcie.0.  Root
 *        ports the user listed are the hot-plug room: NICs take them in
 *        index order, the rest stay spare (use_listed_ports_as_spares).
 */
#include "pci/pci-priv.h"

#define PC_FIRST_NIC_SLOT 3
#define PC_FIRST_OTHER_SLOT 0x10
#define Q35_FIRST_PORT_SLOT 2

/* Devices still without an address, NICs in document order, the rest in
 * libvirt's placement order (stable within a group). */
static void
collect(VnicPciPlanner *p, GPtrArray *nics, GPtrArray *others)
{
    /* one pass that sorts into groups, not one pass per group: each pass
     * classified every device again */
    GPtrArray *groups[VNIC_PCI_GROUP_COUNT] = { NULL };

    for (guint i = 0; i < p->def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(p->def->devices, i);
        VnicPciDevClass cls = vnic_pci_classify(p->def, dev);

        if (cls.connect == VNIC_PCI_CONNECT_ROOT_PORT ||
            cls.connect == VNIC_PCI_CONNECT_PCIE_TO_PCI_BRIDGE)
            continue; /* root ports: collect_user_ports(); bridges: place_bridges() */
        if (cls.group >= VNIC_PCI_GROUP_COUNT || !vnic_pci_planner_needs_address(p, dev))
            continue;
        if (cls.group == VNIC_PCI_GROUP_NIC) {
            g_ptr_array_add(nics, dev);
            continue;
        }
        if (groups[cls.group] == NULL)
            groups[cls.group] = g_ptr_array_new();
        g_ptr_array_add(groups[cls.group], dev);
    }
    for (guint g = 0; g < VNIC_PCI_GROUP_COUNT; g++) {
        for (guint i = 0; groups[g] != NULL && i < groups[g]->len; i++)
            g_ptr_array_add(others, g_ptr_array_index(groups[g], i));
        g_clear_pointer(&groups[g], g_ptr_array_unref);
    }
}

/* ---- pc ---------------------------------------------------------------- */

/* Walks free conventional-PCI slots in NIC order: the root bus from slot 3
 * upward, then every pci-bridge by index. */
typedef struct {
    guint bus;
    guint slot;
} SlotCursor;

static gboolean
cursor_next(VnicPciPlanner *p, SlotCursor *c, VnicConfPciAddr *addr)
{
    for (; c->bus < VNIC_PCI_MAX_BUSES; c->bus++, c->slot = 0) {
        guint from = c->bus == 0 ? MAX(c->slot, PC_FIRST_NIC_SLOT) : c->slot;
        if (vnic_pci_addrset_find_slot(p->set, c->bus, from, VNIC_PCI_CONNECT_PCI, addr)) {
            c->slot = addr->slot + 1;
            return TRUE;
        }
    }
    return FALSE;
}

static guint
free_pci_slots(VnicPciPlanner *p)
{
    guint n = 0;

    for (guint b = 0; b < VNIC_PCI_MAX_BUSES; b++) {
        const VnicPciBus *bus = &p->set->buses[b];
        if (!bus->exists || !(bus->accepts & VNIC_PCI_CONNECT_PCI))
            continue;
        n += vnic_pci_addrset_free_slot_count(p->set, b);
        for (guint s = 0; b == 0 && s < PC_FIRST_NIC_SLOT; s++)
            n -= vnic_pci_addrset_slot_is_empty(p->set, 0, s) && s >= bus->min_slot;
    }
    return n;
}

/* The highest free slot on a bus that takes a bridge: pci-bridges first
 * (by index), the root bus last, so new bridges nest under the first one
 * rather than eat the root slots that give NICs their ensN names. */
static gboolean
find_bridge_slot(VnicPciPlanner *p, guint below, VnicConfPciAddr *addr)
{
    for (guint n = 1; n <= VNIC_PCI_MAX_BUSES; n++) {
        guint b = n % VNIC_PCI_MAX_BUSES;
        const VnicPciBus *bus = &p->set->buses[b];

        /* a bridge plugs into a bus with a lower index than its own */
        if (!bus->exists || !(bus->accepts & VNIC_PCI_CONNECT_PCI_BRIDGE) || b >= below)
            continue;
        for (guint s = bus->max_slot; s >= MAX(bus->min_slot, b == 0 ? PC_FIRST_NIC_SLOT : 1); s--) {
            if (vnic_pci_addrset_slot_is_empty(p->set, b, s)) {
                *addr = (VnicConfPciAddr){ .set = TRUE, .bus = b, .slot = s };
                return TRUE;
            }
        }
    }
    return FALSE;
}

static gboolean
ensure_pc_capacity(VnicPciPlanner *p, guint demand, GError **error)
{
    guint have = free_pci_slots(p);

    while (have < demand) {
        VnicConfPciAddr a;
        VnicConfDevice *bridge;

        if (!find_bridge_slot(p, VNIC_PCI_MAX_BUSES, &a) ||
            !(bridge = vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCI_BRIDGE))) {
            g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                        "%u PCI devices do not fit on machine '%s': only %u slots can be "
                        "reached with pci-bridges within 256 PCI buses",
                        demand, p->def->machine, have);
            return FALSE;
        }
        vnic_pci_planner_place(p, bridge, &a);
        have += vnic_pci_addrset_free_slot_count(p->set, bridge->controller->index) - 1;
    }
    return TRUE;
}

/* q35: a pci-bridge with no PCI bus to plug into gets a pcie-to-pci-bridge
 * (which place_bridges() then puts on a root port); libvirt refuses such a
 * domain (q35-pcibridge-only). */
static gboolean
find_q35_controller_slot(VnicPciPlanner *p, const VnicConfDevice *dev, VnicPciConnect connect,
                         VnicConfPciAddr *a)
{
    if (vnic_pci_find_controller_slot(p, dev, connect, a))
        return TRUE;
    if (connect != VNIC_PCI_CONNECT_PCI_BRIDGE ||
        !vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE))
        return FALSE;
    return vnic_pci_find_controller_slot(p, dev, connect, a);
}

/* Places the controllers that came without an address, the user's and
 * those added for buses a user address named (pci-plan-gaps.c), by index
 * so a bridge's parent is placed before it. */
static gboolean
place_user_controllers(VnicPciPlanner *p, gboolean high, GError **error)
{
    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        VnicConfDevice *dev = (VnicConfDevice *)p->set->buses[b].controller;
        VnicPciDevClass cls;
        VnicConfPciAddr a;
        gboolean found;

        if (!p->set->buses[b].exists || !dev || !vnic_pci_planner_needs_address(p, dev))
            continue;
        cls = vnic_pci_classify(p->def, dev);
        if (cls.connect == VNIC_PCI_CONNECT_ROOT_PORT)
            continue; /* packed with the planner's own ports (q35) */
        if (vnic_pci_find_dmi_slot(p, cls.connect, &a))
            found = TRUE;
        else if (cls.connect == VNIC_PCI_CONNECT_PCIE_TO_PCI_BRIDGE)
            continue; /* needs a root port: placed with the port devices */
        else if (high)
            found = find_bridge_slot(p, b, &a);
        else
            found = find_q35_controller_slot(p, dev, cls.connect, &a);
        if (!found) {
            g_autofree char *what = vnic_conf_device_describe(p->def, dev);
            g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                        "%s: no free slot it can plug into", what);
            return FALSE;
        }
        vnic_pci_planner_place(p, dev, &a);
    }
    return TRUE;
}

/* A user's pci-expander-bus without an address: the highest free root
 * slot, out of the NICs' way like the bridges (before place_user_controllers,
 * whose bridge search would find the expander's own bus). */
static gboolean
place_pc_expanders(VnicPciPlanner *p, GError **error)
{
    for (guint i = 0; i < p->def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(p->def->devices, i);
        guint s = VNIC_PCI_SLOTS - 1;

        if (vnic_pci_classify(p->def, dev).connect != VNIC_PCI_CONNECT_PCI_EXPANDER ||
            !vnic_pci_planner_needs_address(p, dev))
            continue;
        while (s >= PC_FIRST_NIC_SLOT && !vnic_pci_addrset_slot_is_empty(p->set, 0, s))
            s--;
        if (s < PC_FIRST_NIC_SLOT) {
            g_autofree char *what = vnic_conf_device_describe(p->def, dev);
            g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                        "%s: no free slot on pci.0 for it", what);
            return FALSE;
        }
        vnic_pci_planner_place(p, dev, &(VnicConfPciAddr){ .set = TRUE, .slot = s });
    }
    return TRUE;
}

/* A free slot on a bus other than pci.0 that has no hot-plug (a pci-bridge
 * of a domain with a per-NIC deny, or an expander bus), from `c` on. */
static gboolean
next_protected_slot(VnicPciPlanner *p, SlotCursor *c, VnicConfPciAddr *addr)
{
    for (c->bus = MAX(c->bus, 1); c->bus < VNIC_PCI_MAX_BUSES; c->bus++, c->slot = 0) {
        const VnicPciBus *bus = &p->set->buses[c->bus];
        if (bus->exists && !bus->hotplug &&
            vnic_pci_addrset_find_slot(p->set, c->bus, c->slot, VNIC_PCI_CONNECT_PCI, addr)) {
            c->slot = addr->slot + 1;
            return TRUE;
        }
    }
    return FALSE;
}

/* pc, per-NIC deny: each such NIC behind a pci-bridge without hot-plug (a
 * new one in the highest free slot, as ensure_pc_capacity() adds them,
 * when the existing ones are full), after everything else is placed. */
static gboolean
place_denied_pc(VnicPciPlanner *p, GPtrArray *denied, GError **error)
{
    SlotCursor cursor = { .bus = 1 };

    for (guint i = 0; i < denied->len; i++) {
        VnicConfDevice *nic = g_ptr_array_index(denied, i);
        VnicConfPciAddr a;

        while (!next_protected_slot(p, &cursor, &a)) {
            VnicConfPciAddr at;
            VnicConfDevice *bridge;

            if (!find_bridge_slot(p, VNIC_PCI_MAX_BUSES, &at) ||
                !(bridge = vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCI_BRIDGE))) {
                g_autofree char *what = vnic_conf_device_describe(p->def, nic);
                g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                            "%s: its guest unplug is denied, so it goes behind a pci-bridge "
                            "without hot-plug, and there is no free slot for one", what);
                return FALSE;
            }
            vnic_pci_planner_place(p, bridge, &at);
            cursor = (SlotCursor){ .bus = 1 };
        }
        vnic_pci_planner_place(p, nic, &a);
    }
    return TRUE;
}

gboolean
vnic_pci_plan_nic_first_pc(VnicPciPlanner *p, GError **error)
{
    g_autoptr(GPtrArray) nics = g_ptr_array_new();
    g_autoptr(GPtrArray) others = g_ptr_array_new();
    g_autoptr(GPtrArray) denied = g_ptr_array_new();
    guint reserved = 0;
    SlotCursor cursor = { 0 };

    vnic_pci_planner_place_primary_video(p, 2);
    if (!place_pc_expanders(p, error))
        return FALSE;
    if (!place_user_controllers(p, TRUE, error))
        return FALSE;
    collect(p, nics, others);
    for (guint i = 0; p->bridges_without_hotplug && i < nics->len;) {
        VnicConfDevice *nic = g_ptr_array_index(nics, i);
        if (vnic_pci_nic_denies_guest_unplug(p->def, nic))
            g_ptr_array_add(denied, g_ptr_array_steal_index(nics, i));
        else
            i++;
    }

    /* Other devices first claim the high root slots, so NICs skip them. */
    for (guint s = PC_FIRST_OTHER_SLOT; s < VNIC_PCI_SLOTS && reserved < others->len; s++) {
        VnicConfPciAddr a = { .set = TRUE, .slot = s };
        if (vnic_pci_addrset_slot_is_empty(p->set, 0, s))
            vnic_pci_planner_place(p, g_ptr_array_index(others, reserved++), &a);
    }
    if (!ensure_pc_capacity(p, nics->len + others->len - reserved, error))
        return FALSE;
    for (guint i = 0; i < nics->len + others->len - reserved; i++) {
        VnicConfDevice *dev = i < nics->len ? g_ptr_array_index(nics, i)
                                            : g_ptr_array_index(others, reserved + i - nics->len);
        VnicConfPciAddr a;

        if (!cursor_next(p, &cursor, &a))
            g_assert_not_reached(); /* ensure_pc_capacity counted these slots */
        vnic_pci_planner_place(p, dev, &a);
    }
    return place_denied_pc(p, denied, error);
}

/* ---- q35 --------------------------------------------------------------- */

static gboolean
place_integrated(VnicPciPlanner *p, VnicConfDevice *dev, GError **error)
{
    for (guint s = 0x1e; s >= Q35_FIRST_PORT_SLOT; s--) {
        VnicConfPciAddr a = { .set = TRUE, .slot = s };
        if (vnic_pci_addrset_slot_is_empty(p->set, 0, s)) {
            vnic_pci_planner_place(p, dev, &a);
            return TRUE;
        }
    }
    g_autofree char *what = vnic_conf_device_describe(p->def, dev);
    g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                "%s: no free slot on pcie.0 for an integrated device", what);
    return FALSE;
}

/* Root ports in the order the guest numbers their buses: ports with an
 * address by slot and function on pcie.0, then the unaddressed ones by
 * index (they are packed in that order). */
static gint
by_guest_order(gconstpointer a, gconstpointer b, gpointer data)
{
    const VnicPciAddrSet *set = data;
    guint ia = GPOINTER_TO_UINT(*(gconstpointer *)a), ib = GPOINTER_TO_UINT(*(gconstpointer *)b);
    const VnicConfDevice *ca = set->buses[ia].controller, *cb = set->buses[ib].controller;
    guint ka = ca->addr.set && ca->addr.bus == 0 ? ca->addr.slot * 8 + ca->addr.function : 256 + ia;
    guint kb = cb->addr.set && cb->addr.bus == 0 ? cb->addr.slot * 8 + cb->addr.function : 256 + ib;

    return (gint)ka - (gint)kb;
}

/* Empty root ports the user defined, in the guest's bus order. */
static void
collect_user_ports(VnicPciPlanner *p, GPtrArray *ports, GPtrArray *unplaced)
{
    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        VnicPciBus *bus = &p->set->buses[b];
        VnicConfDevice *ctrl = (VnicConfDevice *)bus->controller;

        /* a switch's downstream ports (placed with the user's controllers)
         * serve like root ports */
        if (bus->exists && bus->model == VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT &&
            bus->hotplug && vnic_pci_addrset_slot_is_empty(p->set, b, 0))
            g_ptr_array_add(ports, GUINT_TO_POINTER(b));
        if (!bus->exists || bus->model != VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT)
            continue;
        if (vnic_pci_planner_needs_address(p, ctrl))
            g_ptr_array_add(unplaced, ctrl);
        if (vnic_pci_addrset_slot_is_empty(p->set, b, 0) && bus->hotplug)
            g_ptr_array_add(ports, GUINT_TO_POINTER(b));
    }
    g_ptr_array_sort_with_data(ports, by_guest_order, p->set);
}

static gboolean
check_q35_capacity(VnicPciPlanner *p, guint nics, guint others, guint have, GError **error)
{
    guint free_slots = 0, need = nics + p->spare_ports + others;
    guint limit;

    if (need <= have)
        return TRUE;
    for (guint s = Q35_FIRST_PORT_SLOT; s < VNIC_PCI_SLOTS; s++)
        free_slots += vnic_pci_addrset_slot_is_empty(p->set, 0, s);
    limit = MIN(free_slots * 8, VNIC_PCI_MAX_BUSES - vnic_pci_addrset_next_index(p->set));
    if (need - have <= limit)
        return TRUE;
    g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                "machine '%s' has room for %u more pcie-root-ports (%u free slots on pcie.0, "
                "8 ports each, and 256 PCI buses in all), but %u NICs + %u spare ports + "
                "%u other devices need %u more (%u in all); lower the spare ports (--spare-ports, "
                "<vnic:hotplug spare-ports='N'/>) or remove devices",
                p->def->machine, limit, free_slots, nics, p->spare_ports, others, need - have, need);
    return FALSE;
}

static gboolean
has_user_root_ports(const VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == VNIC_CONF_CONTROLLER_PCI &&
            d->controller->pci_model == VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT)
            return TRUE;
    }
    return FALSE;
}

/* The root ports the user listed (virt-install, nova: 8–14 bare <controller
 * model='pcie-root-port'/>) are the hot-plug capacity they asked for: NICs
 * take them first and the rest stay spare, instead of the default 8 more.
 * When the NICs use them all up, the default spares are added after them,
 * so planning the planned XML again changes nothing. */
static void
use_listed_ports_as_spares(VnicPciPlanner *p, GPtrArray *free_ports, GPtrArray *port_devs,
                           guint on_ports)
{
    guint spare;

    if (!p->spare_is_default || !has_user_root_ports(p->def) || free_ports->len <= on_ports)
        return;
    spare = free_ports->len - on_ports;
    g_ptr_array_remove_range(port_devs, on_ports, p->spare_ports);
    for (guint i = 0; i < spare; i++)
        g_ptr_array_insert(port_devs, (gint)on_ports, NULL);
    p->spare_ports = spare;
}

/* pcie-to-pci-bridges without an address (the user's, or added for a bus
 * a user address named) need a root port: an empty one with a lower index
 * when there is one, else one of their own after the other devices. */
static void
place_bridges(VnicPciPlanner *p, GPtrArray *free_ports, GPtrArray *port_devs)
{
    for (guint b = 1; b < VNIC_PCI_MAX_BUSES; b++) {
        VnicConfDevice *ctrl = (VnicConfDevice *)p->set->buses[b].controller;
        gboolean placed = FALSE;

        if (!p->set->buses[b].exists || p->set->buses[b].model != VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE ||
            !ctrl || !vnic_pci_planner_needs_address(p, ctrl))
            continue;
        for (guint i = 0; i < free_ports->len && !placed; i++) {
            guint port = GPOINTER_TO_UINT(g_ptr_array_index(free_ports, i));
            VnicConfPciAddr a = { .set = TRUE, .bus = port };

            if (port < b) {
                vnic_pci_planner_place(p, ctrl, &a);
                g_ptr_array_remove_index(free_ports, i);
                placed = TRUE;
            }
        }
        if (!placed)
            g_ptr_array_add(port_devs, ctrl);
    }
}

gboolean
vnic_pci_plan_nic_first_q35(VnicPciPlanner *p, GError **error)
{
    g_autoptr(GPtrArray) nics = g_ptr_array_new();
    g_autoptr(GPtrArray) others = g_ptr_array_new();
    g_autoptr(GPtrArray) port_devs = g_ptr_array_new();  /* devices that get a port, in order */
    g_autoptr(GPtrArray) free_ports = g_ptr_array_new(); /* bus numbers */
    g_autoptr(GPtrArray) new_ports = g_ptr_array_new();
    guint on_ports = 0;

    vnic_pci_planner_place_primary_video(p, 1);
    if (!place_user_controllers(p, FALSE, error))
        return FALSE;
    collect(p, nics, others);

    for (guint i = 0; i < nics->len; i++) {
        VnicConfDevice *nic = g_ptr_array_index(nics, i);
        if (vnic_pci_nic_denies_guest_unplug(p->def, nic)) {
            if (!place_integrated(p, nic, error))
                return FALSE;
        } else {
            g_ptr_array_add(port_devs, nic);
        }
    }
    on_ports = port_devs->len;
    for (guint i = 0; i < p->spare_ports; i++)
        g_ptr_array_add(port_devs, NULL);
    for (guint i = 0; i < others->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(others, i);
        if (vnic_pci_classify(p->def, dev).connect == VNIC_PCI_CONNECT_PCIE)
            g_ptr_array_add(port_devs, dev);
        else if (!place_integrated(p, dev, error))
            return FALSE;
    }

    collect_user_ports(p, free_ports, new_ports);
    place_bridges(p, free_ports, port_devs);
    use_listed_ports_as_spares(p, free_ports, port_devs, on_ports);
    if (!check_q35_capacity(p, on_ports, port_devs->len - on_ports - p->spare_ports,
                            free_ports->len, error))
        return FALSE;
    while (free_ports->len < port_devs->len) {
        VnicConfDevice *port = vnic_pci_planner_add_controller(p, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT);
        g_ptr_array_add(new_ports, port);
        g_ptr_array_add(free_ports, GUINT_TO_POINTER(port->controller->index));
    }
    if (!vnic_pci_place_root_ports(p, new_ports, error))
        return FALSE;
    for (guint i = 0; i < port_devs->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(port_devs, i);
        VnicConfPciAddr a = { .set = TRUE, .bus = GPOINTER_TO_UINT(g_ptr_array_index(free_ports, i)) };
        if (dev)
            vnic_pci_planner_place(p, dev, &a);
    }
    return TRUE;
}
