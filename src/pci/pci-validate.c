/* pci-validate.c: libvirt's rules for addresses a user wrote, and the
 * chipset's own functions.
 *
 * Every message names the device ("interface #2"), the address as
 * 0000:BB:SS.F and the rule broken, because these errors reach people who
 * wrote the XML by hand.  Endpoints are judged leniently like libvirt does
 * for user-given addresses (a PCI device may sit in a PCIe slot and the
 * reverse); controllers strictly, since a bridge in the wrong kind of slot
 * does not work at all.  What libvirt keeps with a warning (a function
 * without function 0, a free function of the chipset slot) is kept and
 * the warning recorded in the address set for the caller to log.
 */
#include "pci/pci-priv.h"

static gboolean
fail(GError **error, VnicPciErrorCode code, const VnicConfDomain *def,
     const VnicConfDevice *dev, const VnicConfPciAddr *addr, const char *why)
{
    g_autofree char *what = vnic_conf_device_describe(def, dev);
    g_autofree char *where = vnic_pci_addr_format(addr);

    g_set_error(error, VNIC_PCI_ERROR, code, "%s: address %s: %s", what, where, why);
    return FALSE;
}

static gboolean
is_reserved_chipset_slot(const VnicConfDomain *def, const VnicConfPciAddr *a)
{
    if (a->bus != 0)
        return FALSE;
    if (def->family == VNIC_MACHINE_PC)
        return a->slot == 1;
    return a->slot == 0x1f;
}

/* Keeps a message for the caller to log; the address stands. */
static void
warn(VnicPciAddrSet *set, const VnicConfDevice *dev, const VnicConfPciAddr *addr,
     const char *why)
{
    g_autofree char *what = vnic_conf_device_describe(set->def, dev);
    g_autofree char *where = vnic_pci_addr_format(addr);

    g_ptr_array_add(set->warnings, g_strdup_printf("%s: address %s: %s", what, where, why));
}

/* Functions of the chipset slot QEMU always fills: pc 01.0 ISA, 01.1 IDE,
 * 01.3 PM; q35 1f.0 LPC, 1f.2 SATA, 1f.3 SMBus. */
static gboolean
is_chipset_function(const VnicConfDomain *def, const VnicConfPciAddr *a)
{
    return a->function == 0 || a->function == 3 ||
           (a->function == (def->family == VNIC_MACHINE_PC ? 1u : 2u));
}

static gboolean
check_bus_and_slot(VnicPciAddrSet *set, const VnicConfDevice *dev, const VnicPciDevClass *cls,
                   GError **error)
{
    const VnicConfDomain *def = set->def;
    const VnicConfPciAddr *a = &dev->addr;
    const VnicPciBus *bus = &set->buses[a->bus];
    g_autofree char *why = NULL;

    if (!bus->exists) {
        why = g_strdup_printf("there is no PCI controller with index %u", a->bus);
        return fail(error, VNIC_PCI_ERROR_ADDRESS, def, dev, a, why);
    }
    if (a->slot < bus->min_slot || a->slot > bus->max_slot) {
        if (a->bus == 0 && a->slot == 0)
            why = g_strdup("slot 0 of the root bus is the host bridge");
        else
            why = g_strdup_printf("controller %s index %u has slots %u to %u only",
                                  vnic_conf_pci_model_to_string(bus->model), a->bus,
                                  bus->min_slot, bus->max_slot);
        return fail(error, VNIC_PCI_ERROR_ADDRESS, def, dev, a, why);
    }
    if (!cls->has_builtin && is_reserved_chipset_slot(def, a)) {
        /* The chipset's own functions are taken; a free function of its
         * slot is kept as given, as libvirt does (q35-1f4, pc-01f4). */
        if (is_chipset_function(def, a)) {
            why = g_strdup_printf("function %u of slot 0x%02x is the %s chipset's own",
                                  a->function, a->slot,
                                  def->family == VNIC_MACHINE_PC ? "PIIX3" : "ICH9");
            return fail(error, VNIC_PCI_ERROR_ADDRESS, def, dev, a, why);
        }
        warn(set, dev, a, "a free function of the chipset's slot; kept as given");
    }
    if (dev->kind == VNIC_CONF_DEV_CONTROLLER && dev->controller->type == VNIC_CONF_CONTROLLER_PCI) {
        if (!vnic_pci_bus_accepts(bus->model, cls->connect)) {
            why = g_strdup_printf("a %s cannot plug into a %s",
                                  vnic_conf_pci_model_to_string(dev->controller->pci_model),
                                  vnic_conf_pci_model_to_string(bus->model));
            return fail(error, VNIC_PCI_ERROR_ADDRESS, def, dev, a, why);
        }
        if (a->bus >= dev->controller->index) {
            why = g_strdup_printf("a controller must plug into a bus with a lower index than "
                                  "its own (%u)", dev->controller->index);
            return fail(error, VNIC_PCI_ERROR_ADDRESS, def, dev, a, why);
        }
    }
    return TRUE;
}

/* The hot-unplug knob against where the user put the NIC. */
static gboolean
check_unplug_setting(VnicPciAddrSet *set, const VnicConfDevice *dev, GError **error)
{
    const VnicPciBus *bus = &set->buses[dev->addr.bus];

    if (dev->kind != VNIC_CONF_DEV_INTERFACE || !vnic_pci_nic_denies_guest_unplug(set->def, dev) ||
        !bus->hotplug)
        return TRUE;
    return fail(error, VNIC_PCI_ERROR_UNPLUG, set->def, dev, &dev->addr,
                set->def->family == VNIC_MACHINE_Q35
                    ? "guest unplug is denied for this NIC, but its bus is hot-pluggable; "
                      "use a slot on pcie.0 or a controller with <target hotplug='off'/>"
                    : "guest unplug is denied for this NIC, but its bus is hot-pluggable; "
                      "use a slot on a pci-bridge (which then has no hot-plug) or leave the "
                      "address out");
}

static gboolean
check_one(VnicPciAddrSet *set, const VnicConfDevice *dev, GError **error)
{
    VnicPciDevClass cls = vnic_pci_classify(set->def, dev);
    const VnicConfPciAddr *a = &dev->addr;
    g_autofree char *why = NULL;

    if (!cls.is_pci) {
        return fail(error, VNIC_PCI_ERROR_ADDRESS, set->def, dev, a,
                    "this device is not a PCI device and takes no PCI address");
    }
    if (!check_bus_and_slot(set, dev, &cls, error) || !check_unplug_setting(set, dev, error))
        return FALSE;
    if (!vnic_pci_addrset_is_free(set, a->bus, a->slot, a->function)) {
        const VnicConfDevice *other = set->buses[a->bus].owner[a->slot];
        g_autofree char *who = other ? vnic_conf_device_describe(set->def, other)
                                     : g_strdup("the chipset");
        why = g_strdup_printf("already used by %s", who);
        return fail(error, VNIC_PCI_ERROR_ADDRESS, set->def, dev, a, why);
    }
    vnic_pci_addrset_mark(set, a, dev);
    return TRUE;
}

static const VnicConfDevice *
device_at(const VnicConfDomain *def, guint bus, guint slot, guint function)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->addr.set && d->addr.bus == bus && d->addr.slot == slot &&
            d->addr.function == function)
            return d;
    }
    return NULL;
}

/* Functions 1–7 need function 0 present and marked multifunction='on'. */
static gboolean
check_multifunction(VnicPciAddrSet *set, GError **error)
{
    for (guint i = 0; i < set->def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(set->def->devices, i);
        const VnicConfDevice *fn0;
        VnicPciDevClass cls;

        if (!dev->addr.set || dev->addr.function == 0)
            continue;
        cls = vnic_pci_classify(set->def, dev);
        if (is_reserved_chipset_slot(set->def, &dev->addr))
            continue; /* the chipset is function 0 there */
        if (cls.auto_function == dev->addr.function)
            continue; /* EHCI alone at function 7, as libvirt places it */
        fn0 = device_at(set->def, dev->addr.bus, dev->addr.slot, 0);
        /* libvirt keeps a function without function 0 (pc-nofn0); the
         * guest may not look at that slot, so say so */
        if (!fn0) {
            warn(set, dev, &dev->addr,
                 "function 0 of this slot is empty, so a guest may not find this device");
            continue;
        }
        /* left out, libvirt sets multifunction='on' (pc-mfimplicit, done
         * in pci-plan.c); an explicit 'off' QEMU refuses to start */
        if (fn0->addr.multifunction == VNIC_TRISTATE_NO) {
            g_autofree char *who = vnic_conf_device_describe(set->def, fn0);
            g_autofree char *why = g_strdup_printf(
                "a function other than 0 needs multifunction='on' on function 0 (%s), which "
                "has multifunction='off'", who);
            return fail(error, VNIC_PCI_ERROR_ADDRESS, set->def, dev, &dev->addr, why);
        }
    }
    return TRUE;
}

gboolean
vnic_pci_validate_user_addresses(VnicPciAddrSet *set, GError **error)
{
    for (guint i = 0; i < set->def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(set->def->devices, i);
        if (dev->addr.set && !check_one(set, dev, error))
            return FALSE;
    }
    return check_multifunction(set, error);
}

/* Chipset functions: marks the fixed functions of PIIX3 (00:01.0–.3) and
 * ICH9 (00:1f.0 LPC, 1f.3 SMBus) so nothing else lands there.  Chipset
 * devices that vnic models (IDE, USB, SATA) are placed by the planner. */
void
vnic_pci_reserve_chipset(VnicPciAddrSet *set)
{
    gboolean pc = set->def->family == VNIC_MACHINE_PC;
    VnicConfPciAddr host = { .set = TRUE };

    vnic_pci_addrset_mark(set, &host, NULL);
    for (guint f = 0; f < 8; f++) {
        VnicConfPciAddr a = { .set = TRUE, .slot = pc ? 1 : 0x1f, .function = f };
        gboolean chipset_fn = f == 0 || f == 3; /* ISA/LPC and PM/SMBus */

        if (chipset_fn && vnic_pci_addrset_is_free(set, 0, a.slot, f))
            vnic_pci_addrset_mark(set, &a, NULL);
    }
}
