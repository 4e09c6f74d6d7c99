/* test-qemu-verify.c: matching query-pci and qom-get replies against the
 * plan, on replies shaped like QEMU 7.2's (captured before `cont`, when
 * bridges still have secondary bus 0, and after the firmware ran). */
#include "test-qemu-helpers.h"

#include <string.h>

static VnicQemuPciExpect *
expect(const char *id, const char *bus, guint slot, guint function)
{
    VnicQemuPciExpect *exp = g_new0(VnicQemuPciExpect, 1);

    exp->id = g_strdup(id);
    exp->bus = g_strdup(bus);
    exp->on_root = strcmp(bus, "pcie.0") == 0 || strcmp(bus, "pci.0") == 0;
    exp->slot = slot;
    exp->function = function;
    exp->what = g_strdup_printf("device %s", id != NULL ? id : "chipset");
    return exp;
}

static GPtrArray *
q35_expected(void)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify) vnic_qemu_pci_expect_free);

    g_ptr_array_add(rows, expect("pci.1", "pcie.0", 2, 0));
    g_ptr_array_add(rows, expect("pci.2", "pcie.0", 2, 1));
    g_ptr_array_add(rows, expect("net0", "pci.1", 0, 0));
    g_ptr_array_add(rows, expect("net1", "pci.2", 0, 0));
    g_ptr_array_add(rows, expect(NULL, "pcie.0", 0x1f, 2));
    return rows;
}

#define DEV(slot, fn, id) \
    "{\"bus\": 0, \"slot\": " #slot ", \"function\": " #fn ", \"qdev_id\": \"" id "\"}"
#define BRIDGE(slot, fn, id, secondary, devices)                                            \
    "{\"bus\": 0, \"slot\": " #slot ", \"function\": " #fn ", \"qdev_id\": \"" id "\", "     \
    "\"pci_bridge\": {\"bus\": {\"number\": 0, \"secondary\": " #secondary ", "                \
    "\"subordinate\": " #secondary "}" devices "}}"

/* QEMU 7.2 q35 under -S: root ports listed, nothing behind them */
static const char prelaunch[] =
    "[{\"bus\": 0, \"devices\": [" DEV(0, 0, "") "," BRIDGE(2, 0, "pci.1", 0, "") ","
    BRIDGE(2, 1, "pci.2", 0, "") "," DEV(31, 0, "") "," DEV(31, 2, "") "," DEV(31, 3, "")
    "]}]";

static JsonNode *
parse(const char *text)
{
    g_autoptr(GError) error = NULL;
    JsonNode *node = json_from_string(text, &error);

    g_assert_no_error(error);
    return node;
}

/* What a re-attached vnicd may forget: only what query-pci proves gone. */
static void
test_gone(void)
{
    g_autoptr(GPtrArray) rows = q35_expected();
    /* after boot: net0 behind pci.1 is there, pci.2's bus is listed but empty */
    g_autoptr(JsonNode) booted = parse(
        "[{\"bus\": 0, \"devices\": [" BRIDGE(2, 0, "pci.1", 1, ", \"devices\": [" DEV(0, 0, "net0") "]")
        "," BRIDGE(2, 1, "pci.2", 2, ", \"devices\": []") "," DEV(31, 2, "") "]}]");
    g_autoptr(JsonNode) early = parse(prelaunch);
    g_autoptr(GPtrArray) gone = vnic_qemu_query_pci_gone(rows, booted);
    g_autoptr(GPtrArray) not_judged = vnic_qemu_query_pci_gone(rows, early);

    g_assert_cmpuint(gone->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(gone, 0), ==, "net1");
    /* before the firmware enumerated the root ports, nothing behind them is judged */
    g_assert_cmpuint(not_judged->len, ==, 0);
}

static void
test_prelaunch(void)
{
    g_autoptr(GPtrArray) rows = q35_expected();
    g_autoptr(JsonNode) reply = parse(prelaunch);
    g_autoptr(GPtrArray) unseen = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(vnic_qemu_verify_query_pci(rows, reply, &unseen, &error));
    g_assert_no_error(error);
    /* the NICs behind the ports are left for qom-get */
    g_assert_cmpuint(unseen->len, ==, 2);
    g_assert_true(g_ptr_array_index(unseen, 0) == g_ptr_array_index(rows, 2));
    g_assert_true(vnic_qemu_verify_qom(g_ptr_array_index(unseen, 0), 0,
                                       "/machine/peripheral/pci.1/pci.1", &error));
    g_assert_false(vnic_qemu_verify_qom(g_ptr_array_index(unseen, 1), 0,
                                        "/machine/peripheral/pci.1/pci.1", &error));
    g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY);
    g_assert_nonnull(strstr(error->message, "device net1 ('net1') on pci.1 slot 0x00"));
    g_clear_error(&error);
    g_assert_false(vnic_qemu_verify_qom(g_ptr_array_index(unseen, 1), 8,
                                        "/machine/peripheral/pci.2/pci.2", &error));
    g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY);
}

static void
test_after_boot(void)
{
    /* the firmware numbered the ports: their devices are listed under them */
    static const char booted[] =
        "[{\"bus\": 0, \"devices\": [" DEV(0, 0, "") ","
        BRIDGE(2, 0, "pci.1", 1, ", \"devices\": [{\"bus\": 1, \"slot\": 0, \"function\": 0, "
                                 "\"qdev_id\": \"net0\"}]") ","
        BRIDGE(2, 1, "pci.2", 2, ", \"devices\": [{\"bus\": 2, \"slot\": 0, \"function\": 0, "
                                 "\"qdev_id\": \"net1\"}]") ","
        DEV(31, 0, "") "," DEV(31, 2, "") "]}]";
    g_autoptr(GPtrArray) rows = q35_expected();
    g_autoptr(JsonNode) reply = parse(booted);
    g_autoptr(GPtrArray) unseen = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(vnic_qemu_verify_query_pci(rows, reply, &unseen, &error));
    g_assert_cmpuint(unseen->len, ==, 0);
}

static void
test_mismatches(void)
{
    static const struct {
        const char *reply;
        const char *needle;
    } cases[] = {
        /* root port at the wrong function */
        { "[{\"bus\": 0, \"devices\": [" BRIDGE(2, 0, "pci.2", 0, "") ","
          BRIDGE(2, 1, "pci.1", 0, "") "," DEV(31, 2, "") "]}]",
          "QEMU has 'pci.2' on pcie.0 slot 0x02 function 0, where the plan puts device pci.1" },
        /* missing chipset SATA */
        { "[{\"bus\": 0, \"devices\": [" BRIDGE(2, 0, "pci.1", 0, "") ","
          BRIDGE(2, 1, "pci.2", 0, "") "]}]",
          "no device on pcie.0 slot 0x1f function 2" },
        /* a device the plan does not have */
        { "[{\"bus\": 0, \"devices\": [" BRIDGE(2, 0, "pci.1", 0, "") ","
          BRIDGE(2, 1, "pci.2", 0, "") "," DEV(31, 2, "") "," DEV(5, 0, "rogue") "]}]",
          "'rogue' on the root bus slot 0x05 function 0 that the plan does not have" },
        { "{\"not\": \"a list\"}", "did not return a list" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) rows = q35_expected();
        g_autoptr(JsonNode) reply = parse(cases[i].reply);
        g_autoptr(GPtrArray) unseen = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_false(vnic_qemu_verify_query_pci(rows, reply, &unseen, &error));
        g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY);
        if (strstr(error->message, cases[i].needle) == NULL)
            g_error("case %u: '%s' lacks '%s'", i, error->message, cases[i].needle);
        g_assert_null(unseen);
    }
}

static void
test_expected_from_plan(void)
{
    g_autoptr(VnicConfDomain) def = tq_load_example("q35.xml");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) rows = vnic_qemu_expected_pci(def, &error);
    guint chipset = 0, ports = 0;

    g_assert_no_error(error);
    for (guint i = 0; i < rows->len; i++) {
        const VnicQemuPciExpect *exp = g_ptr_array_index(rows, i);

        chipset += exp->id == NULL;
        ports += g_str_has_prefix(exp->id != NULL ? exp->id : "", "pci.");
        g_assert_nonnull(exp->what);
    }
    g_assert_cmpuint(chipset, ==, 1); /* the ICH9 SATA */
    g_assert_cmpuint(ports, >=, 2);
}

void
test_qemu_verify_register(void)
{
    g_test_add_func("/qemu/verify/prelaunch", test_prelaunch);
    g_test_add_func("/qemu/verify/gone", test_gone);
    g_test_add_func("/qemu/verify/after-boot", test_after_boot);
    g_test_add_func("/qemu/verify/mismatches", test_mismatches);
    g_test_add_func("/qemu/verify/expected-from-plan", test_expected_from_plan);
}
