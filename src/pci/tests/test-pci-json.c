/* test-pci-json.c: vnic_pci_slot_map_to_json, the slot map as data: one
 * row per slot map row with its address, names and controller bus, and
 * the next NIC or why there is none. */
#include "test-pci-helpers.h"
#include "pci/pci-json.h"

static JsonObject *
row(JsonObject *map, guint i)
{
    return json_array_get_object_element(json_object_get_array_member(map, "devices"), i);
}

/* Rows follow vnic_pci_slot_map; NICs carry MAC and names. */
static void
test_json_rows(void)
{
    g_autoptr(VnicConfDomain) def = plan_file("examples/cloudstack-pc.xml",
                                              VNIC_PCI_POLICY_NIC_FIRST);
    g_autoptr(GPtrArray) rows = vnic_pci_slot_map(def);
    g_autoptr(JsonNode) node = vnic_pci_slot_map_to_json(def);
    JsonObject *map = json_node_get_object(node);
    JsonObject *next = json_object_get_object_member(map, "next-nic");

    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(map, "devices")), ==,
                     rows->len);
    for (guint i = 0; i < rows->len; i++) {
        const VnicPciSlotRow *r = g_ptr_array_index(rows, i);
        g_autofree char *where = vnic_pci_addr_format(&r->addr);

        g_assert_cmpstr(json_object_get_string_member(row(map, i), "address"), ==, where);
        g_assert_cmpint(json_object_get_int_member(row(map, i), "guest-bus"), ==, r->guest_bus);
        g_assert_cmpint(json_object_has_member(row(map, i), "names"), ==, r->names != NULL);
    }
    g_assert_cmpstr(json_object_get_string_member(row(map, 2), "kind"), ==, "interface");
    g_assert_cmpstr(json_object_get_string_member(row(map, 2), "mac"), ==, "52:54:00:c5:00:01");
    g_assert_cmpstr(json_object_get_string_member(
                        json_object_get_object_member(row(map, 2), "names"), "preferred"),
                    ==, "ens3");
    g_assert_cmpstr(json_object_get_string_member(next, "address"), ==, "0000:00:05.0");
    g_assert_cmpstr(json_object_get_string_member(
                        json_object_get_object_member(next, "names"), "preferred"), ==, "ens5");
}

/* A root port row says which bus it provides and whether it is empty. */
static void
test_json_controllers(void)
{
    g_autoptr(VnicConfDomain) def = plan_file("examples/q35.xml", VNIC_PCI_POLICY_NIC_FIRST);
    g_autoptr(JsonNode) node = vnic_pci_slot_map_to_json(def);
    JsonObject *map = json_node_get_object(node);
    guint ports = 0, empty = 0;

    for (guint i = 0; i < json_array_get_length(json_object_get_array_member(map, "devices"));
         i++) {
        JsonNode *member = json_object_get_member(row(map, i), "controller");
        JsonObject *ctrl;

        if (member == NULL)
            continue;
        ctrl = json_node_get_object(member);
        g_assert_cmpstr(json_object_get_string_member(ctrl, "model"), ==, "pcie-root-port");
        g_assert_cmpint(json_object_get_int_member(ctrl, "guest-bus"), ==,
                        json_object_get_int_member(ctrl, "index"));
        ports++;
        empty += json_object_get_boolean_member(ctrl, "empty");
    }
    g_assert_cmpuint(ports, ==, count_pci_controllers(def, VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT));
    g_assert_cmpuint(empty, >=, VNIC_PCI_DEFAULT_SPARE_PORTS);
}

/* No spare root port: next-nic holds only the reason. */
static void
test_json_no_next_nic(void)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "examples/q35.xml", NULL);
    g_autofree char *text = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(JsonNode) node = NULL;
    JsonObject *next;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    def = plan_xml(text, VNIC_PCI_POLICY_NIC_FIRST, 0);
    node = vnic_pci_slot_map_to_json(def);
    next = json_object_get_object_member(json_node_get_object(node), "next-nic");
    g_assert_cmpuint(json_object_get_size(next), ==, 1);
    g_assert_nonnull(json_object_get_string_member(next, "error"));
}

void
register_json_tests(void)
{
    g_test_add_func("/pci/json/rows", test_json_rows);
    g_test_add_func("/pci/json/controllers", test_json_controllers);
    g_test_add_func("/pci/json/no-next-nic", test_json_no_next_nic);
}
