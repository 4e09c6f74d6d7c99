/* pci-plan.c: the planner's frame, shared by both policies.
 *
 * vnic_pci_plan works in three phases so a failure changes nothing:
 *   1. build the address set from the definition and check every address
 *      the user wrote (pci-validate.c);
 *   2. let the policy choose addresses, recording them in the planner and
 *      creating new controllers in the planner's own list;
 *   3. only then write the addresses into the devices and hand the new
 *      controllers over to the definition.
 */
#include "pci/pci-priv.h"

G_DEFINE_QUARK(vnic-pci-error-quark, vnic_pci_error)

const char *
vnic_pci_policy_to_string(VnicPciPolicy policy)
{
    return policy == VNIC_PCI_POLICY_LIBVIRT ? "libvirt" : "nic-first";
}

gboolean
vnic_pci_policy_from_string(const char *text, VnicPciPolicy *policy)
{
    if (g_strcmp0(text, "nic-first") == 0)
        *policy = VNIC_PCI_POLICY_NIC_FIRST;
    else if (g_strcmp0(text, "libvirt") == 0)
        *policy = VNIC_PCI_POLICY_LIBVIRT;
    else
        return FALSE;
    return TRUE;
}

char *
vnic_pci_addr_format(const VnicConfPciAddr *addr)
{
    return g_strdup_printf("%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->slot,
                           addr->function);
}

static void
place_one(VnicPciPlanner *p, VnicConfDevice *dev, const VnicConfPciAddr *addr)
{
    VnicConfPciAddr *a = g_memdup2(addr, sizeof(*addr));
    guint fn = vnic_pci_classify(p->def, dev).auto_function;

    if (fn != 0 && a->function == 0)
        a->function = fn;
    vnic_pci_addrset_mark(p->set, a, dev);
    g_hash_table_insert(p->placed, dev, a);
}

/* An ICH9 USB2 set (EHCI + UHCI companions of one index) goes into one
 * slot, each at its own function, wherever its first member is placed
 * (libvirt: EHCI .7, UHCI1 .0, UHCI2 .1, UHCI3 .2). */
void
vnic_pci_planner_place(VnicPciPlanner *p, VnicConfDevice *dev, const VnicConfPciAddr *addr)
{
    place_one(p, dev, addr);
    if (!vnic_pci_device_is_usb2_set(dev))
        return;
    for (guint i = 0; i < p->def->devices->len; i++) {
        VnicConfDevice *mate = g_ptr_array_index(p->def->devices, i);
        VnicConfPciAddr a = *addr;

        if (mate == dev || !vnic_pci_device_is_usb2_set(mate) ||
            mate->controller->index != dev->controller->index || mate->addr.set ||
            g_hash_table_contains(p->placed, mate))
            continue;
        a.function = vnic_pci_classify(p->def, mate).auto_function;
        if (vnic_pci_addrset_is_free(p->set, a.bus, a.slot, a.function))
            place_one(p, mate, &a);
    }
}

/* The first video device goes to its chipset slot when that is free, as
 * libvirt does (pc 00:02.0, q35 00:01.0). */
void
vnic_pci_planner_place_primary_video(VnicPciPlanner *p, guint slot)
{
    /* the first video device is the primary one (asking each device
     * whether it is scanned the list once per device) */
    for (guint i = 0; i < p->def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(p->def->devices, i);
        VnicConfPciAddr a = { .set = TRUE, .slot = slot };

        if (dev->kind != VNIC_CONF_DEV_VIDEO)
            continue;
        if (vnic_pci_device_is_primary_video(p->def, dev) && vnic_pci_planner_needs_address(p, dev) &&
            vnic_pci_addrset_slot_is_empty(p->set, 0, slot))
            vnic_pci_planner_place(p, dev, &a);
        return;
    }
}

/* A member of an ICH9 USB2 set after the first one without an address:
 * it is placed together with that one. */
static gboolean
is_usb2_follower(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    if (!vnic_pci_device_is_usb2_set(dev))
        return FALSE;
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        if (d == dev)
            return FALSE;
        if (vnic_pci_device_is_usb2_set(d) && !d->addr.set &&
            d->controller->index == dev->controller->index)
            return TRUE;
    }
    return FALSE;
}

gboolean
vnic_pci_planner_needs_address(VnicPciPlanner *p, const VnicConfDevice *dev)
{
    return !dev->addr.set && !g_hash_table_contains(p->placed, dev) &&
           vnic_pci_classify(p->def, dev).is_pci && !is_usb2_follower(p->def, dev);
}

gboolean
vnic_pci_find_dmi_slot(VnicPciPlanner *p, VnicPciConnect connect, VnicConfPciAddr *addr)
{
    if (connect != VNIC_PCI_CONNECT_DMI_BRIDGE || !vnic_pci_addrset_slot_is_empty(p->set, 0, 0x1e))
        return FALSE;
    *addr = (VnicConfPciAddr){ .set = TRUE, .slot = 0x1e };
    return TRUE;
}

/* Whether controller @ctrl may plug into bus @b: a bus with a lower index,
 * or a root port / pcie-to-pci-bridge the planner added (those sit on
 * pcie.0 or a root port, never below @ctrl, and fix_index_order() swaps the
 * indexes afterwards).  Never its own bus. */
static gboolean
may_plug_into(const VnicPciPlanner *p, const VnicConfDevice *ctrl, guint b)
{
    const VnicPciBus *bus = &p->set->buses[b];

    if (b < ctrl->controller->index)
        return TRUE;
    return b != ctrl->controller->index && bus->controller != NULL &&
           bus->controller->added_by_vnic &&
           (bus->model == VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT ||
            bus->model == VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
}

gboolean
vnic_pci_find_controller_slot(VnicPciPlanner *p, const VnicConfDevice *ctrl,
                              VnicPciConnect connect, VnicConfPciAddr *addr)
{
    for (guint b = 0; b < VNIC_PCI_MAX_BUSES; b++) {
        if (p->set->buses[b].exists && may_plug_into(p, ctrl, b) &&
            vnic_pci_addrset_find_slot(p->set, b, 0, connect, addr))
            return TRUE;
    }
    return FALSE;
}

/* libvirt's <model name>: the QEMU device that implements a controller. */
static const char *
qemu_model_name(VnicConfPciModel model)
{
    switch (model) {
    case VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE:
        return "pcie-pci-bridge";
    case VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE:
        return "i82801b11-bridge";
    case VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS:
        return "pxb";
    case VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS:
        return "pxb-pcie";
    case VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT:
        return "x3130-upstream";
    case VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT:
        return "xio3130-downstream";
    default:
        return vnic_conf_pci_model_to_string(model);
    }
}

/* Creates a controller with the next free index; the caller places it.
 * Returns NULL when the 256 bus numbers are used up. */
VnicConfDevice *
vnic_pci_planner_add_controller(VnicPciPlanner *p, VnicConfPciModel model)
{
    return vnic_pci_planner_add_controller_at(p, model, vnic_pci_addrset_next_index(p->set));
}

VnicConfDevice *
vnic_pci_planner_add_controller_at(VnicPciPlanner *p, VnicConfPciModel model, guint index)
{
    VnicConfDevice *dev;

    if (index >= VNIC_PCI_MAX_BUSES)
        return NULL;
    dev = vnic_conf_device_new(VNIC_CONF_DEV_CONTROLLER);
    dev->added_by_vnic = TRUE;
    dev->controller->type = VNIC_CONF_CONTROLLER_PCI;
    dev->controller->index = index;
    dev->controller->pci_model = model;
    dev->controller->model = g_strdup(vnic_conf_pci_model_to_string(model));
    dev->controller->chassis = dev->controller->port = -1;
    dev->controller->bus_nr = dev->controller->chassis_nr = -1;
    if (p->bridges_without_hotplug && model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE)
        dev->controller->hotplug = VNIC_TRISTATE_NO;
    g_ptr_array_add(p->added, dev);
    vnic_pci_addrset_add_bus(p->set, index, model, dev);
    return dev;
}

/* Packs root ports 8 to a slot on pcie.0, as libvirt does: chassis is the
 * controller index, port is slot << 3 | function. */
gboolean
vnic_pci_place_root_ports(VnicPciPlanner *p, GPtrArray *ports, GError **error)
{
    VnicConfPciAddr slot = { 0 };
    guint fn = 8;

    for (guint i = 0; i < ports->len; i++) {
        VnicConfDevice *port = g_ptr_array_index(ports, i);
        VnicConfPciAddr a;

        if (fn == 8) {
            if (!vnic_pci_addrset_find_slot(p->set, 0, 2, VNIC_PCI_CONNECT_ROOT_PORT, &slot)) {
                g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_CAPACITY,
                            "no room for %u more pcie-root-ports: pcie.0 has no free slot "
                            "left (8 ports fit in each slot)", ports->len - i);
                return FALSE;
            }
            fn = 0;
        }
        a = slot;
        a.function = fn++;
        /* function 0 of a packed slot announces the other functions */
        if (a.function == 0 && i + 1 < ports->len)
            a.multifunction = VNIC_TRISTATE_YES;
        vnic_pci_planner_place(p, port, &a);
    }
    return TRUE;
}

static void
place_builtins(VnicPciPlanner *p)
{
    for (guint i = 0; i < p->def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(p->def->devices, i);
        VnicPciDevClass cls = vnic_pci_classify(p->def, dev);

        if (cls.is_pci && cls.has_builtin && !dev->addr.set &&
            vnic_pci_addrset_is_free(p->set, 0, cls.builtin.slot, cls.builtin.function))
            vnic_pci_planner_place(p, dev, &cls.builtin);
    }
}

static guint libvirt_default_spare_ports(const VnicConfDomain *def);

/* Spare root ports: the caller's number, else the domain's, else the
 * policy's default.  libvirt's default is one spare, only when it added
 * ports itself and the user gave no PCI controllers. */
static void
resolve_spare_ports(VnicPciPlanner *p, const VnicPciPlanOptions *opts)
{
    const VnicConfDomain *def = p->def;

    p->spare_only_if_added = FALSE;
    if (opts->spare_ports >= 0)
        p->spare_ports = (guint)opts->spare_ports;
    else if (def->spare_ports >= 0)
        p->spare_ports = (guint)def->spare_ports;
    else if (opts->policy == VNIC_PCI_POLICY_NIC_FIRST) {
        p->spare_ports = VNIC_PCI_DEFAULT_SPARE_PORTS;
        p->spare_is_default = TRUE;
    }
    else {
        p->spare_ports = libvirt_default_spare_ports(def);
        p->spare_only_if_added = TRUE;
    }
}

static guint
libvirt_default_spare_ports(const VnicConfDomain *def)
{
    /* libvirt adds one spare port, and only when the user gave no PCI
     * controllers of their own. */
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_CONTROLLER &&
            d->controller->type == VNIC_CONF_CONTROLLER_PCI && d->controller->index > 0)
            return 0;
    }
    return 1;
}

static gboolean
check_root(const VnicConfDomain *def, GError **error)
{
    const VnicConfDevice *root = vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_PCI, 0);
    VnicConfPciModel want = def->family == VNIC_MACHINE_Q35 ? VNIC_CONF_PCI_MODEL_PCIE_ROOT
                                                            : VNIC_CONF_PCI_MODEL_PCI_ROOT;

    if (!root || root->controller->pci_model != want) {
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_ADDRESS,
                    "controller pci index 0 must be a %s on machine '%s'",
                    vnic_conf_pci_model_to_string(want), def->machine);
        return FALSE;
    }
    if (root->addr.set) {
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_ADDRESS,
                    "controller pci index 0 (%s) is the root bus and takes no <address>",
                    vnic_conf_pci_model_to_string(want));
        return FALSE;
    }
    return TRUE;
}

/* pc: the domain-wide deny switches ACPI hot-plug off for the whole root
 * bus (PIIX4_PM.acpi-root-pci-hotplug), so a NIC of such a domain cannot
 * allow guest unplug.  A per-NIC deny puts the NIC behind a pci-bridge
 * without hot-plug, and QEMU switches ACPI hot-plug off for all bridges at
 * once: none of them may keep hot-plug. */
static gboolean
check_pc_unplug_settings(const VnicConfDomain *def, GError **error)
{
    gboolean domain_denies = def->guest_unplug == VNIC_TRISTATE_NO;
    gboolean per_nic = vnic_pci_pc_denies_per_nic(def);

    if (def->family != VNIC_MACHINE_PC)
        return TRUE;
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        /* only for an error: describing counts the devices before @d, and
         * doing it for each of them made planning quadratic */
        g_autofree char *what = NULL;

        if (domain_denies && d->kind == VNIC_CONF_DEV_INTERFACE &&
            d->nic->guest_unplug == VNIC_TRISTATE_YES) {
            what = vnic_conf_device_describe(def, d);
            g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                        "%s: <vnic:unplug guest='allow'/> is impossible on machine '%s' with "
                        "<vnic:hotplug guest-unplug='deny'/>: the domain's setting switches "
                        "hot-plug off on pci.0; drop the domain's setting and deny unplug per NIC",
                        what, def->machine);
            return FALSE;
        }
        if (per_nic && d->kind == VNIC_CONF_DEV_CONTROLLER &&
            d->controller->type == VNIC_CONF_CONTROLLER_PCI &&
            d->controller->pci_model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE &&
            d->controller->hotplug == VNIC_TRISTATE_YES) {
            what = vnic_conf_device_describe(def, d);
            g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                        "%s: <target hotplug='on'/> is impossible on machine '%s' with a NIC "
                        "whose guest unplug is denied: QEMU switches ACPI hot-plug off for "
                        "every pci-bridge at once to protect it",
                        what, def->machine);
            return FALSE;
        }
    }
    return TRUE;
}

/* Denied NICs must end up where nobody can unplug them, and under a
 * per-NIC deny on pc, allowed NICs where they can be: the policies place
 * by slots, this checks the result (the libvirt policy knows neither). */
static gboolean
check_unplug_placement(VnicPciPlanner *p, GError **error)
{
    for (guint i = 0; i < p->def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(p->def->devices, i);
        const VnicConfPciAddr *a = g_hash_table_lookup(p->placed, d);
        g_autofree char *what = NULL;
        gboolean denied, hotplug;

        if (d->kind != VNIC_CONF_DEV_INTERFACE || p->def->family != VNIC_MACHINE_PC)
            continue;
        a = a != NULL ? a : &d->addr;
        if (!a->set || a->bus >= VNIC_PCI_MAX_BUSES)
            continue;
        denied = vnic_pci_nic_denies_guest_unplug(p->def, d);
        hotplug = p->set->buses[a->bus].hotplug;
        /* (an allowed NIC on a bus without hot-plug is fine elsewhere: a
         * user's expander bus, say) */
        if (denied ? !hotplug : !(p->bridges_without_hotplug && !hotplug))
            continue;
        what = vnic_conf_device_describe(p->def, d);
        if (denied)
            g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                        "%s: its guest unplug is denied, but it was placed on hot-pluggable "
                        "bus %u (the libvirt policy does not protect NICs; nic-first puts it "
                        "behind a pci-bridge without hot-plug)", what, a->bus);
        else
            g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                        "%s: its guest unplug is allowed, but it landed on bus %u, which has no "
                        "hot-plug: with a NIC whose unplug is denied, machine '%s' has hot-plug "
                        "on pci.0 only (pci.0 is full or the address names a pci-bridge)",
                        what, a->bus, p->def->machine);
        return FALSE;
    }
    return TRUE;
}

/* What libvirt fills in for PCI controllers the user left bare: the QEMU
 * model name, root ports' chassis (the index) and port (slot << 3 |
 * function of the port itself), pci-bridges' chassisNr (the index). */
static void
complete_controllers(VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        VnicConfController *c = d->controller;

        if (d->kind != VNIC_CONF_DEV_CONTROLLER || c->type != VNIC_CONF_CONTROLLER_PCI ||
            !d->addr.set)
            continue;
        if (!c->model_name)
            c->model_name = g_strdup(qemu_model_name(c->pci_model));
        if (c->pci_model == VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT) {
            if (c->chassis < 0)
                c->chassis = (gint)c->index;
            if (c->port < 0)
                c->port = (gint)(d->addr.slot << 3 | d->addr.function);
        }
        /* a downstream port's port number is its slot on the switch */
        if (c->pci_model == VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT) {
            if (c->chassis < 0)
                c->chassis = (gint)c->index;
            if (c->port < 0)
                c->port = (gint)d->addr.slot;
        }
        if (c->pci_model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE && c->chassis_nr < 0)
            c->chassis_nr = (gint)c->index;
    }
}

static gboolean
is_expander(const VnicConfDevice *d)
{
    return d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == VNIC_CONF_CONTROLLER_PCI &&
           (d->controller->pci_model == VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS ||
            d->controller->pci_model == VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS);
}

/* libvirt's default <target busNr> for an expander bus: two below the
 * lowest one any expander has (256 when none has one), in document order,
 * so the guest's numbers for the buses behind each stay apart
 * (tests/data/libvirt/pc-pxb-busnr: 98 and 96 next to a given 100). */
static void
number_expander_buses(VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        gint lowest = 256;

        if (!is_expander(d) || d->controller->bus_nr >= 0)
            continue;
        for (guint j = 0; j < def->devices->len; j++) {
            const VnicConfDevice *o = g_ptr_array_index(def->devices, j);

            if (is_expander(o) && o->controller->bus_nr >= 0)
                lowest = MIN(lowest, o->controller->bus_nr);
        }
        if (lowest > 2)
            d->controller->bus_nr = lowest - 2;
    }
}

static void
number_acpi_indexes(VnicConfDomain *def)
{
    guint next = vnic_pci_next_acpi_index(def);

    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_INTERFACE && d->nic->acpi_index == 0)
            d->nic->acpi_index = next++;
    }
}

static gint
added_first(gconstpointer a, gconstpointer b)
{
    const VnicConfDevice *x = *(VnicConfDevice *const *)a, *y = *(VnicConfDevice *const *)b;
    return (gint)x->controller->index - (gint)y->controller->index;
}

/* A slot with more than one function announces it on function 0
 * (multifunction='on'), as libvirt writes it: for slots the planner filled
 * and for user addresses that left the attribute out (libvirt sets it
 * then, measured: pc-mfimplicit).  An explicit 'off' was refused earlier. */
static void
mark_multifunction_slots(VnicPciPlanner *p)
{
    for (guint i = 0; i < p->def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(p->def->devices, i);
        const VnicPciBus *bus;

        if (!d->addr.set || d->addr.function != 0 ||
            d->addr.multifunction != VNIC_TRISTATE_ABSENT)
            continue;
        bus = &p->set->buses[d->addr.bus];
        if (bus->used[d->addr.slot] & ~1u)
            d->addr.multifunction = VNIC_TRISTATE_YES;
    }
}

static void
swap_bus_indexes(VnicConfDomain *def, guint a, guint b)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        if (d->addr.set && (d->addr.bus == a || d->addr.bus == b))
            d->addr.bus = d->addr.bus == a ? b : a;
        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == VNIC_CONF_CONTROLLER_PCI &&
            (d->controller->index == a || d->controller->index == b))
            d->controller->index = d->controller->index == a ? b : a;
    }
}

/* A controller must plug into a bus with a lower index (QEMU creates the
 * buses in index order).  The one case a plan breaks that: a
 * pcie-to-pci-bridge the user listed without root ports gets a root port
 * the planner added, with a higher index; the two swap their indexes (and
 * every address on those buses follows).  libvirt refuses such a domain. */
static void
fix_index_order(VnicConfDomain *def)
{
    for (guint round = 0; round < VNIC_PCI_MAX_BUSES; round++) {
        gboolean swapped = FALSE;

        for (guint i = 0; i < def->devices->len && !swapped; i++) {
            VnicConfDevice *d = g_ptr_array_index(def->devices, i);

            if (d->kind == VNIC_CONF_DEV_CONTROLLER &&
                d->controller->type == VNIC_CONF_CONTROLLER_PCI && d->addr.set &&
                d->addr.bus >= d->controller->index) {
                swap_bus_indexes(def, d->controller->index, d->addr.bus);
                swapped = TRUE;
            }
        }
        if (!swapped)
            return;
    }
}

/* Phase 3: nothing below can fail. */
static void
apply(VnicPciPlanner *p)
{
    GHashTableIter iter;
    gpointer key, value;
    guint insert_at = 0;

    g_hash_table_iter_init(&iter, p->placed);
    while (g_hash_table_iter_next(&iter, &key, &value))
        ((VnicConfDevice *)key)->addr = *(VnicConfPciAddr *)value;

    for (guint i = 0; i < p->def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(p->def->devices, i);
        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == VNIC_CONF_CONTROLLER_PCI)
            insert_at = i + 1;
    }
    g_ptr_array_sort(p->added, added_first);
    for (guint i = 0; i < p->added->len; i++)
        g_ptr_array_insert(p->def->devices, (gint)(insert_at + i),
                           g_steal_pointer(&p->added->pdata[i]));
    g_ptr_array_set_size(p->added, 0);

    fix_index_order(p->def);
    if (p->def->family == VNIC_MACHINE_PC && p->def->guest_unplug == VNIC_TRISTATE_NO) {
        VnicConfDevice *root = vnic_conf_domain_find_controller(p->def, VNIC_CONF_CONTROLLER_PCI, 0);
        root->controller->hotplug = VNIC_TRISTATE_NO;
    }
    for (guint i = 0; p->bridges_without_hotplug && i < p->def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(p->def->devices, i);
        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == VNIC_CONF_CONTROLLER_PCI &&
            d->controller->pci_model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE)
            d->controller->hotplug = VNIC_TRISTATE_NO;
    }
    number_expander_buses(p->def);
    complete_controllers(p->def);
    mark_multifunction_slots(p);
    if (p->def->auto_acpi_index)
        number_acpi_indexes(p->def);
}

static gboolean
run_policy(VnicPciPlanner *p, const VnicPciPlanOptions *opts, GError **error)
{
    if (opts->policy == VNIC_PCI_POLICY_LIBVIRT)
        return vnic_pci_plan_libvirt(p, error);
    if (p->def->family == VNIC_MACHINE_Q35)
        return vnic_pci_plan_nic_first_q35(p, error);
    return vnic_pci_plan_nic_first_pc(p, error);
}

gboolean
vnic_pci_plan(VnicConfDomain *def, const VnicPciPlanOptions *opts, GError **error)
{
    g_autoptr(VnicPciAddrSet) set = NULL;
    g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func((GDestroyNotify)vnic_conf_device_free);
    g_autoptr(GHashTable) placed = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    g_autoptr(GArray) moved = NULL;
    VnicPciPlanner p;
    gboolean ok;

    if (!check_root(def, error) || !check_pc_unplug_settings(def, error))
        return FALSE;
    set = vnic_pci_addrset_new(def);
    if (def->family == VNIC_MACHINE_PC && def->guest_unplug == VNIC_TRISTATE_NO)
        set->buses[0].hotplug = FALSE;
    p = (VnicPciPlanner){ .set = set, .def = def, .added = added, .placed = placed,
                          .bridges_without_hotplug = vnic_pci_pc_denies_per_nic(def) };
    for (guint b = 1; p.bridges_without_hotplug && b < VNIC_PCI_MAX_BUSES; b++)
        if (set->buses[b].exists && set->buses[b].model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE)
            set->buses[b].hotplug = FALSE;
    resolve_spare_ports(&p, opts);
    moved = g_array_new(FALSE, FALSE, sizeof(VnicConfDevice *));
    ok = vnic_pci_add_missing_buses(&p, moved, error) &&
         vnic_pci_validate_user_addresses(set, error);
    if (ok) {
        vnic_pci_reserve_chipset(set);
        place_builtins(&p);
        ok = run_policy(&p, opts, error) && check_unplug_placement(&p, error);
    }
    if (!ok) {
        for (guint i = 0; i < moved->len; i++)
            g_array_index(moved, VnicConfDevice *, i)->addr.bus--;
        return FALSE;
    }
    apply(&p);
    for (guint i = 0; opts->warnings != NULL && i < set->warnings->len; i++)
        g_ptr_array_add(opts->warnings, g_strdup(g_ptr_array_index(set->warnings, i)));
    return TRUE;
}

guint
vnic_pci_next_acpi_index(const VnicConfDomain *def)
{
    guint highest = 0;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_INTERFACE)
            highest = MAX(highest, d->nic->acpi_index);
    }
    return highest + 1;
}
