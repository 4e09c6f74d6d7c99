/* pci-names.c: the interface names a systemd 252 guest gives a NIC.
 *
 * udev's net_id builtin derives three names (see systemd's
 * src/udev/udev-builtin-net_id.c and systemd.net-naming-scheme(7)):
 *   ONBOARD  eno<acpi-index>        when firmware gives an ACPI index;
 *   SLOT     ens<slot>[f<fn>]       when the device sits in a hot-plug slot the
 *                                   kernel registered (ACPI hot-plug on pc's
 *                                   root bus registers one per slot, named
 *                                   after the slot number);
 *   PATH     enp<bus>s<slot>[f<fn>] always, with the bus number the guest's
 *                                   firmware assigned while enumerating.
 * q35 in QEMU 7.2 names its root-port slots "0", "0-2", …, so NICs behind
 * root ports get no ens name.  Without <acpi/> the guest has neither slot
 * nor onboard names.
 */
#include "pci/pci-priv.h"

/* The controller whose bus is @index, or NULL. */
static const VnicConfDevice *
bus_controller(const VnicConfDomain *def, guint index)
{
    return vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_PCI, index);
}

typedef struct {
    guint index;
    guint slot;
    guint function;
    gint bus_nr;          /* an expander's busNr, else -1 */
} ChildBus;

static gint
child_cmp(gconstpointer a, gconstpointer b)
{
    const ChildBus *x = a, *y = b;
    return (gint)(x->slot * 8 + x->function) - (gint)(y->slot * 8 + y->function);
}

/* Depth-first, in slot/function order, like SeaBIOS' pci_bios_init_bus_rec:
 * each bridge found gets the next bus number before its own children.  An
 * expander bus is another root bus numbered by its <target busNr>, and it
 * takes no number of its parent's sequence.  QEMU 7.2's pxb (pc) puts a
 * pci-bridge of its own in slot 0 of that root bus and hands out the
 * bridge's secondary bus as "the expander's bus" (query-pci shows it), so
 * what plugs into a pci-expander-bus is on busNr + 1; pxb-pcie has no
 * such bridge (both checked with the test guest: e2e-devices). */
static void
enumerate(GArray **children, guint bus, gint *numbers, gint *next)
{
    GArray *kids = children[bus];

    if (!kids)
        return;
    g_array_sort(kids, child_cmp);
    for (guint i = 0; i < kids->len; i++) {
        ChildBus *c = &g_array_index(kids, ChildBus, i);
        gint own = c->bus_nr;

        if (own >= 0) {
            numbers[c->index] = own;
            enumerate(children, c->index, numbers, &own);
            continue;
        }
        numbers[c->index] = ++*next;
        enumerate(children, c->index, numbers, next);
    }
}

gint *
vnic_pci_guest_bus_numbers(const VnicConfDomain *def)
{
    GArray *children[VNIC_PCI_MAX_BUSES] = { 0 };
    gint *numbers = g_new(gint, VNIC_PCI_MAX_BUSES);
    gint next = 0;

    for (guint i = 0; i < VNIC_PCI_MAX_BUSES; i++)
        numbers[i] = -1;
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        ChildBus c;

        if (d->kind != VNIC_CONF_DEV_CONTROLLER || d->controller->type != VNIC_CONF_CONTROLLER_PCI ||
            !d->addr.set || d->controller->index >= VNIC_PCI_MAX_BUSES)
            continue;
        c = (ChildBus){ d->controller->index, d->addr.slot, d->addr.function, -1 };
        if (d->controller->pci_model == VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS)
            c.bus_nr = d->controller->bus_nr;
        if (d->controller->pci_model == VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS &&
            d->controller->bus_nr >= 0)
            c.bus_nr = d->controller->bus_nr + 1; /* behind the pxb's own bridge */
        if (!children[d->addr.bus])
            children[d->addr.bus] = g_array_new(FALSE, FALSE, sizeof(ChildBus));
        g_array_append_val(children[d->addr.bus], c);
    }
    numbers[0] = 0;
    enumerate(children, 0, numbers, &next);
    for (guint i = 0; i < VNIC_PCI_MAX_BUSES; i++) {
        if (children[i])
            g_array_unref(children[i]);
    }
    return numbers;
}

gint
vnic_pci_guest_bus_number(const VnicConfDomain *def, guint index)
{
    g_autofree gint *numbers = NULL;

    if (index >= VNIC_PCI_MAX_BUSES)
        return -1;
    numbers = vnic_pci_guest_bus_numbers(def);
    return numbers[index];
}

static char *
with_function(char *name, guint function)
{
    if (function == 0)
        return name;
    char *full = g_strdup_printf("%sf%u", name, function);
    g_free(name);
    return full;
}

VnicPciGuestNames *
vnic_pci_predict_names(const VnicConfDomain *def, const VnicConfPciAddr *addr, guint acpi_index)
{
    VnicPciGuestNames *names = g_new0(VnicPciGuestNames, 1);
    const VnicConfDevice *bus = bus_controller(def, addr->bus);
    gint guest_bus = vnic_pci_guest_bus_number(def, addr->bus);


    if (!bus || guest_bus < 0)
        return names;
    if (def->acpi && acpi_index > 0)
        names->onboard = g_strdup_printf("eno%u", acpi_index);
    if (def->acpi && bus->controller->pci_model == VNIC_CONF_PCI_MODEL_PCI_ROOT &&
        bus->controller->hotplug != VNIC_TRISTATE_NO)
        names->slot = with_function(g_strdup_printf("ens%u", addr->slot), addr->function);
    names->path = with_function(g_strdup_printf("enp%ds%u", guest_bus, addr->slot), addr->function);
    return names;
}

void
vnic_pci_guest_names_free(VnicPciGuestNames *names)
{
    if (!names)
        return;
    g_free(names->onboard);
    g_free(names->slot);
    g_free(names->path);
    g_free(names);
}

const char *
vnic_pci_guest_names_preferred(const VnicPciGuestNames *names)
{
    if (names->onboard)
        return names->onboard;
    return names->slot ? names->slot : names->path;
}
