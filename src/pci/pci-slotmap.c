/* pci-slotmap.c: a planned domain as rows of device → address → names,
 * the table `vnic plan --names` and `vnic pci` print. */
#include "pci/pci-priv.h"

static void
row_free(VnicPciSlotRow *row)
{
    vnic_pci_guest_names_free(row->names);
    g_free(row);
}

static guint
addr_key(const VnicConfPciAddr *a, const gint *numbers)
{
    /* guest bus order, so rows read the way the guest enumerates them */
    return (guint)numbers[a->bus] << 8 | a->slot << 3 | a->function;
}

static gint
row_cmp(gconstpointer a, gconstpointer b, gpointer numbers)
{
    const VnicPciSlotRow *x = *(VnicPciSlotRow *const *)a, *y = *(VnicPciSlotRow *const *)b;
    return (gint)addr_key(&x->addr, numbers) - (gint)addr_key(&y->addr, numbers);
}

GPtrArray *
vnic_pci_slot_map(const VnicConfDomain *def)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)row_free);
    g_autofree gint *numbers = vnic_pci_guest_bus_numbers(def);

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        VnicPciDevClass cls = vnic_pci_classify(def, dev);
        VnicPciSlotRow *row;

        if (!cls.is_pci || (!dev->addr.set && !cls.has_builtin))
            continue;
        row = g_new0(VnicPciSlotRow, 1);
        row->dev = dev;
        row->addr = dev->addr.set ? dev->addr : cls.builtin;
        row->guest_bus = numbers[row->addr.bus];
        if (dev->kind == VNIC_CONF_DEV_INTERFACE)
            row->names = vnic_pci_predict_names(def, &row->addr, dev->nic->acpi_index);
        g_ptr_array_add(rows, row);
    }
    g_ptr_array_sort_with_data(rows, row_cmp, numbers);
    return rows;
}
