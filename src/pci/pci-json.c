/* pci-json.c: a planned domain's slot map as a JSON tree (pci-json.h).
 *
 * Owns the JSON shape of the slot map; the CLI prints it (as JSON or as a
 * table) and the daemon returns it from `pci`.  Reads the domain, never
 * changes it; builds data only, no I/O.
 */
#include "pci/pci-json.h"

static gboolean
bus_is_empty(const VnicConfDomain *def, guint bus)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        if (d->addr.set && d->addr.bus == bus)
            return FALSE;
    }
    return TRUE;
}

static void
add_nullable_string(JsonBuilder *b, const char *member, const char *value)
{
    json_builder_set_member_name(b, member);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
add_names(JsonBuilder *b, const VnicPciGuestNames *n)
{
    json_builder_set_member_name(b, "names");
    json_builder_begin_object(b);
    add_nullable_string(b, "onboard", n->onboard);
    add_nullable_string(b, "slot", n->slot);
    add_nullable_string(b, "path", n->path);
    json_builder_set_member_name(b, "preferred");
    json_builder_add_string_value(b, vnic_pci_guest_names_preferred(n));
    json_builder_end_object(b);
}

static void
add_address(JsonBuilder *b, const VnicConfDomain *def, const VnicConfPciAddr *a)
{
    g_autofree char *where = vnic_pci_addr_format(a);

    json_builder_set_member_name(b, "address");
    json_builder_add_string_value(b, where);
    json_builder_set_member_name(b, "guest-bus");
    json_builder_add_int_value(b, vnic_pci_guest_bus_number(def, a->bus));
}

/* The bus a PCI controller provides: "pcie-root-port index 3 → guest bus
 * 3, empty" in the table. */
static void
add_controller(JsonBuilder *b, const VnicConfDomain *def, const VnicConfController *c)
{
    json_builder_set_member_name(b, "controller");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, vnic_conf_pci_model_to_string(c->pci_model));
    json_builder_set_member_name(b, "index");
    json_builder_add_int_value(b, c->index);
    json_builder_set_member_name(b, "guest-bus");
    json_builder_add_int_value(b, vnic_pci_guest_bus_number(def, c->index));
    json_builder_set_member_name(b, "empty");
    json_builder_add_boolean_value(b, bus_is_empty(def, c->index));
    json_builder_end_object(b);
}

static void
add_row(JsonBuilder *b, const VnicConfDomain *def, const VnicPciSlotRow *row)
{
    const VnicConfDevice *dev = row->dev;
    g_autofree char *what = vnic_conf_device_describe(def, dev);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "device");
    json_builder_add_string_value(b, what);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, vnic_conf_device_kind_to_string(dev->kind));
    add_address(b, def, &row->addr);
    if (dev->kind == VNIC_CONF_DEV_INTERFACE && dev->nic->has_mac) {
        g_autofree char *mac = vnic_conf_mac_format(dev->nic->mac);

        json_builder_set_member_name(b, "mac");
        json_builder_add_string_value(b, mac);
    }
    if (row->names != NULL)
        add_names(b, row->names);
    if (dev->kind == VNIC_CONF_DEV_CONTROLLER && dev->controller->type == VNIC_CONF_CONTROLLER_PCI)
        add_controller(b, def, dev->controller);
    json_builder_end_object(b);
}

static void
add_next_nic(JsonBuilder *b, const VnicConfDomain *def)
{
    VnicConfPciAddr next = { 0 };
    g_autoptr(GError) error = NULL;

    json_builder_set_member_name(b, "next-nic");
    json_builder_begin_object(b);
    if (!vnic_pci_next_nic_address(def, &next, &error)) {
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, error->message);
    } else {
        g_autoptr(VnicPciGuestNames) names = vnic_pci_predict_names(def, &next, 0);

        add_address(b, def, &next);
        add_names(b, names);
    }
    json_builder_end_object(b);
}

JsonNode *
vnic_pci_slot_map_to_json(const VnicConfDomain *def)
{
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(GPtrArray) rows = NULL;

    g_return_val_if_fail(def != NULL, NULL);

    b = json_builder_new();
    rows = vnic_pci_slot_map(def);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "devices");
    json_builder_begin_array(b);
    for (guint i = 0; i < rows->len; i++)
        add_row(b, def, g_ptr_array_index(rows, i));
    json_builder_end_array(b);
    add_next_nic(b, def);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
