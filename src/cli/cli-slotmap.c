/* cli-slotmap.c: the slot map table, from its JSON form.
 *
 * One printer for `vnic plan --names` (a map built here) and `vnic pci`
 * (a map from vnicd), so both look the same.  The JSON comes from
 * vnic_pci_slot_map_to_json (pci-json.h); what comes from the daemon is
 * checked before anything is printed, so a malformed map prints nothing.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

/* "ens3 (path enp0s3)": the name udev picks, then the others it derives. */
static char *
describe_names(JsonObject *names)
{
    const char *preferred = vnic_cli_json_string(names, "preferred");
    const char *slot = vnic_cli_json_string(names, "slot");
    const char *path = vnic_cli_json_string(names, "path");
    g_autoptr(GString) s = NULL;
    const char *sep = " (";

    if (preferred == NULL)
        return g_strdup("");
    s = g_string_new(preferred);
    if (slot != NULL && strcmp(slot, preferred) != 0) {
        g_string_append_printf(s, "%sslot %s", sep, slot);
        sep = ", ";
    }
    if (path != NULL && strcmp(path, preferred) != 0)
        g_string_append_printf(s, "%spath %s", sep, path);
    if (s->len > strlen(preferred))
        g_string_append_c(s, ')');
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* "pcie-root-port index 3 → guest bus 3, empty": what a PCI controller
 * row tells a reader is the bus it provides. */
static char *
describe_device(JsonObject *row)
{
    JsonObject *ctrl = vnic_cli_json_object(json_object_get_member(row, "controller"));
    const char *model = vnic_cli_json_string(ctrl, "model");
    gint64 index, bus;

    if (model == NULL || !vnic_cli_json_int(ctrl, "index", &index) ||
        !vnic_cli_json_int(ctrl, "guest-bus", &bus))
        return g_strdup(vnic_cli_json_string(row, "device"));
    return g_strdup_printf("%s index %" G_GINT64_FORMAT " → guest bus %" G_GINT64_FORMAT "%s",
                           model, index, bus,
                           json_object_get_boolean_member_with_default(ctrl, "empty", FALSE)
                               ? ", empty" : "");
}

static void
print_row(JsonObject *row)
{
    g_autofree char *what = describe_device(row);
    JsonObject *names = vnic_cli_json_object(json_object_get_member(row, "names"));
    g_autofree char *named = describe_names(names);

    printf("%-14s %-50s %s\n", vnic_cli_json_string(row, "address"), what, named);
}

static void
print_next(JsonObject *next)
{
    const char *error = vnic_cli_json_string(next, "error");
    JsonObject *names = vnic_cli_json_object(json_object_get_member(next, "names"));
    g_autofree char *named = NULL;

    if (error != NULL) {
        printf("\nnext hot-plugged NIC: none: %s\n", error);
        return;
    }
    named = describe_names(names);
    printf("\nnext hot-plugged NIC: %s → %s\n", vnic_cli_json_string(next, "address"), named);
}

/* Every row has an address and a device text; next-nic has an address
 * or an error. */
static gboolean
check_shape(JsonObject *map, JsonArray **rows, JsonObject **next)
{
    JsonNode *devices = map != NULL ? json_object_get_member(map, "devices") : NULL;

    if (devices == NULL || !JSON_NODE_HOLDS_ARRAY(devices))
        return FALSE;
    *rows = json_node_get_array(devices);
    *next = vnic_cli_json_object(json_object_get_member(map, "next-nic"));
    if (*next == NULL || (vnic_cli_json_string(*next, "address") == NULL &&
                          vnic_cli_json_string(*next, "error") == NULL))
        return FALSE;
    for (guint i = 0; i < json_array_get_length(*rows); i++) {
        JsonObject *row = vnic_cli_json_object(json_array_get_element(*rows, i));

        if (vnic_cli_json_string(row, "address") == NULL ||
            vnic_cli_json_string(row, "device") == NULL)
            return FALSE;
    }
    return TRUE;
}

gboolean
vnic_cli_print_slot_map(JsonNode *map)
{
    JsonArray *rows = NULL;
    JsonObject *next = NULL;

    if (!check_shape(vnic_cli_json_object(map), &rows, &next))
        return FALSE;
    printf("%-14s %-50s %s\n", "ADDRESS", "DEVICE", "GUEST NAME");
    for (guint i = 0; i < json_array_get_length(rows); i++)
        print_row(vnic_cli_json_object(json_array_get_element(rows, i)));
    print_next(next);
    return TRUE;
}
