/* test-cli-pci.c: `vnic pci` prints the slot map vnicd returns exactly as
 * `vnic plan --names` prints it for the same plan: the map is built here
 * with vnic_pci_slot_map_to_json, served by the fake, and both outputs are
 * compared.  Also a next NIC that cannot be placed, and a malformed map. */
#include "test-cli.h"
#include "pci/pci-json.h"

#include <string.h>

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* The slot map of examples/@name planned with @policy and @spare. */
static char *
planned_map(const char *name, VnicPciPolicy policy, gint spare)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "examples", name, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(JsonNode) map = NULL;
    VnicPciPlanOptions opts = { .policy = policy, .spare_ports = spare };
    gsize len;

    g_assert_true(g_file_get_contents(path, &text, &len, &error));
    def = vnic_conf_domain_parse(text, len, &error);
    g_assert_no_error(error);
    g_assert_true(vnic_pci_plan(def, &opts, &error));
    map = vnic_pci_slot_map_to_json(def);
    return json_to_string(map, FALSE);
}

static void
compare_with_plan(const char *name, const char *policy, gint spare)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    VnicPciPolicy p = VNIC_PCI_POLICY_NIC_FIRST;
    g_autofree char *map = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "examples", name, NULL);
    g_autofree char *spare_text = g_strdup_printf("%d", spare);
    g_autoptr(CliRun) pci = NULL;
    g_autoptr(CliRun) plan = NULL;

    g_assert_true(vnic_pci_policy_from_string(policy, &p));
    map = planned_map(name, p, spare);
    reply = g_strdup_printf("{\"return\": %s}", map);
    fake_vnicd_script(fake, "pci", reply, NULL, NULL);
    pci = cli_run_c(fake_vnicd_socket(fake), ARGS("pci", "web1"));
    plan = cli_run(NULL, NULL, ARGS("plan", path, "--names", "--policy", policy,
                                    "--spare-ports", spare_text));
    cli_assert_status(pci, 0);
    cli_assert_status(plan, 0);
    g_assert_cmpstr(pci->out, ==, plan->out);
    g_test_message("%s", pci->out);
}

static void
test_same_as_plan(void)
{
    compare_with_plan("cloudstack-pc.xml", "nic-first", -1);
    compare_with_plan("cloudstack-pc.xml", "libvirt", -1);
    compare_with_plan("q35.xml", "nic-first", -1);
    compare_with_plan("q35.xml", "libvirt", 3);
}

/* No spare root port: the table says why there is no next NIC. */
static void
test_no_next_nic(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autofree char *map = planned_map("q35.xml", VNIC_PCI_POLICY_NIC_FIRST, 0);
    g_autofree char *reply = g_strdup_printf("{\"return\": %s}", map);
    g_autoptr(CliRun) run = NULL;
    g_autoptr(CliRun) json = NULL;

    compare_with_plan("q35.xml", "nic-first", 0);
    fake_vnicd_script(fake, "pci", reply, NULL, NULL);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("pci", "web1"));
    cli_assert_status(run, 0);
    tc_assert_contains(run->out, "\nnext hot-plugged NIC: none: ");
    json = cli_run_c(fake_vnicd_socket(fake), ARGS("pci", "--json", "web1"));
    cli_assert_status(json, 0);
    tc_assert_json_eq(json->out, map);
}

static void
test_malformed(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autoptr(CliRun) run = NULL;

    fake_vnicd_script(fake, "pci", "{\"return\": {\"devices\": [{\"device\": \"x\"}], "
                      "\"next-nic\": {}}}", NULL, NULL);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("pci", "web1"));
    cli_assert_error(run, 1, "vnic pci: vnicd's answer has an unexpected shape\n");
}

/* q35 with bare root ports listed (as virt-install writes them): the NICs
 * are enp1s0, enp2s0, enp3s0 in order and the next one is enp4s0. */
static void
test_listed_ports_names(void)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "libvirt",
                                             "q35-listedports.in.xml", NULL);
    g_autoptr(CliRun) plan = cli_run(NULL, NULL, ARGS("plan", path, "--names"));
    const char *nic1, *nic2, *nic3;

    cli_assert_status(plan, 0);
    nic1 = strstr(plan->out, "0000:01:00.0   interface #1 (52:54:00:00:00:01)");
    nic2 = strstr(plan->out, "0000:02:00.0   interface #2 (52:54:00:00:00:02)");
    nic3 = strstr(plan->out, "0000:03:00.0   interface #3 (52:54:00:00:00:03)");
    g_assert_true(nic1 && nic2 && nic3 && nic1 < nic2 && nic2 < nic3);
    g_assert_true(g_str_has_prefix(strchr(nic1, '\n') - strlen("enp1s0"), "enp1s0"));
    g_assert_true(g_str_has_prefix(strchr(nic3, '\n') - strlen("enp3s0"), "enp3s0"));
    tc_assert_contains(plan->out, "\nnext hot-plugged NIC: 0000:04:00.0 → enp4s0\n");
}

/* An address libvirt keeps with a warning: planned, and said on stderr. */
static void
test_plan_warning(void)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "libvirt",
                                             "pc-nofn0.in.xml", NULL);
    g_autoptr(CliRun) plan = cli_run(NULL, NULL, ARGS("plan", path, "--names"));

    cli_assert_status(plan, 0);
    tc_assert_contains(plan->err, "vnic plan: warning: interface #1 (52:54:00:00:00:01): "
                                  "address 0000:00:06.1: function 0 of this slot is empty");
    tc_assert_contains(plan->out, "0000:00:06.1   interface #1");
}

void
test_cli_pci_register(void)
{
    g_test_add_func("/cli/pci/plan-warning", test_plan_warning);
    g_test_add_func("/cli/pci/listed-ports-names", test_listed_ports_names);
    g_test_add_func("/cli/pci/same-as-plan", test_same_as_plan);
    g_test_add_func("/cli/pci/no-next-nic", test_no_next_nic);
    g_test_add_func("/cli/pci/malformed", test_malformed);
}
