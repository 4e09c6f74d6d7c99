/* test-cli-link.c: domif-getlink and domif-setlink: the request each
 * sends, virsh's output, vnicd's errors, and bad command lines (exit 2,
 * vnicd not asked). */
#include "test-cli.h"

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

#define GETLINK_DOWN "{\"interface\": \"vnet0\", \"alias\": \"net0\", \"state\": \"down\"}"

/* "IFACE STATE" with IFACE as the user typed it, as virsh prints it. */
static void
test_getlink(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autoptr(CliRun) up = NULL;
    g_autoptr(CliRun) by_mac = NULL;
    g_autoptr(CliRun) json = NULL;

    fake_vnicd_script(fake, "domif-getlink", "{\"return\": {\"interface\": \"vnet0\", "
                      "\"alias\": \"net0\", \"state\": \"up\"}}", NULL, NULL);
    up = cli_run_c(sock, ARGS("domif-getlink", "web1", "vnet0"));
    cli_assert_status(up, 0);
    g_assert_cmpstr(up->out, ==, "vnet0 up\n");
    g_assert_cmpstr(up->err, ==, "");
    tc_assert_arguments(fake, "domif-getlink", "{\"name\": \"web1\", \"interface\": \"vnet0\"}");

    fake_vnicd_script(fake, "domif-getlink", "{\"return\": " GETLINK_DOWN "}", NULL, NULL);
    by_mac = cli_run_c(sock, ARGS("domif-getlink", "web1", "52:54:00:00:00:01"));
    cli_assert_status(by_mac, 0);
    g_assert_cmpstr(by_mac->out, ==, "52:54:00:00:00:01 down\n");
    tc_assert_arguments(fake, "domif-getlink",
                        "{\"name\": \"web1\", \"interface\": \"52:54:00:00:00:01\"}");
    json = cli_run_c(sock, ARGS("domif-getlink", "--json", "web1", "net0"));
    cli_assert_status(json, 0);
    tc_assert_json_eq(json->out, GETLINK_DOWN);
}

static void
test_getlink_errors(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autoptr(CliRun) stopped = NULL;
    g_autoptr(CliRun) shapeless = NULL;

    fake_vnicd_script(fake, "domif-getlink", "{\"error\": {\"class\": \"InvalidState\", "
                      "\"desc\": \"domain 'web1' is shut-off\"}}", NULL, NULL);
    stopped = cli_run_c(sock, ARGS("domif-getlink", "web1", "vnet0"));
    cli_assert_error(stopped, 1, "vnic domif-getlink: InvalidState: domain 'web1' is shut-off\n");
    fake_vnicd_script(fake, "domif-getlink", "{\"return\": {\"interface\": \"vnet0\"}}", NULL,
                      NULL);
    shapeless = cli_run_c(sock, ARGS("domif-getlink", "web1", "vnet0"));
    cli_assert_error(shapeless, 1, "vnic domif-getlink: vnicd's answer has an unexpected shape\n");
}

static void
test_setlink(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autoptr(CliRun) down = NULL;
    g_autoptr(CliRun) up = NULL;
    g_autoptr(CliRun) refused = NULL;

    fake_vnicd_script(fake, "domif-setlink", "{\"return\": {}}", NULL, NULL);
    down = cli_run_c(sock, ARGS("domif-setlink", "web1", "vnet0", "down"));
    cli_assert_status(down, 0);
    g_assert_cmpstr(down->out, ==, "Device updated successfully\n");
    g_assert_cmpstr(down->err, ==, "");
    tc_assert_arguments(fake, "domif-setlink", "{\"name\": \"web1\", \"interface\": "
                        "\"vnet0\", \"state\": \"down\"}");
    up = cli_run_c(sock, ARGS("domif-setlink", "web1", "net1", "up"));
    cli_assert_status(up, 0);
    tc_assert_arguments(fake, "domif-setlink", "{\"name\": \"web1\", \"interface\": "
                        "\"net1\", \"state\": \"up\"}");

    fake_vnicd_script(fake, "domif-setlink", "{\"error\": {\"class\": \"InvalidArguments\", "
                      "\"desc\": \"domain 'web1' has no interface 'vnet9'\"}}", NULL, NULL);
    refused = cli_run_c(sock, ARGS("domif-setlink", "web1", "vnet9", "up"));
    cli_assert_error(refused, 1, "vnic domif-setlink: InvalidArguments: domain 'web1' has no "
                                 "interface 'vnet9'\n");
}

/* Exit 2, one line on stderr naming what is wrong, and vnicd never asked. */
static void
test_usage(void)
{
    const struct {
        const char *const *args;
        const char *err;
    } cases[] = {
        { ARGS("domif-getlink", "web1"),
          "vnic domif-getlink: expected a domain name and an interface (see --help)\n" },
        { ARGS("domif-getlink", "web1", "vnet0", "up"),
          "vnic domif-getlink: unexpected argument 'up' (see --help)\n" },
        { ARGS("domif-setlink", "web1", "vnet0"),
          "vnic domif-setlink: expected a domain name, an interface and up or down "
          "(see --help)\n" },
        { ARGS("domif-setlink", "web1", "vnet0", "Up"),
          "vnic domif-setlink: the link state must be 'up' or 'down', not 'Up'\n" },
        { ARGS("domif-setlink", "web1", "vnet0", "down", "now"),
          "vnic domif-setlink: unexpected argument 'now' (see --help)\n" },
        { ARGS("domif-setlink", "web1", "vnet0", "down", "--config"),
          "vnic domif-setlink: Unknown option --config\n" },
    };
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(CliRun) run = cli_run_c(fake_vnicd_socket(fake), cases[i].args);

        cli_assert_error(run, 2, cases[i].err);
    }
    g_assert_cmpuint(fake_vnicd_n_requests(fake), ==, 0);
}

static void
test_help(void)
{
    g_autoptr(CliRun) help = cli_run(NULL, NULL, ARGS("--help"));
    g_autoptr(CliRun) get = cli_run(NULL, NULL, ARGS("domif-getlink", "--help"));
    g_autoptr(CliRun) set = cli_run(NULL, NULL, ARGS("domif-setlink", "-h"));

    cli_assert_status(help, 0);
    tc_assert_contains(help->out, "  domif-getlink DOM IFACE [--json]\n");
    tc_assert_contains(help->out, "  domif-setlink DOM IFACE up|down\n");
    cli_assert_status(get, 0);
    tc_assert_contains(get->out, "vnic domif-getlink [OPTION…] DOM IFACE\n");
    tc_assert_contains(get->out, "--json");
    cli_assert_status(set, 0);
    tc_assert_contains(set->out, "vnic domif-setlink [OPTION…] DOM IFACE up|down\n");
    tc_assert_contains(set->out, "alias (net0)");
}

void
test_cli_link_register(void)
{
    g_test_add_func("/cli/link/getlink", test_getlink);
    g_test_add_func("/cli/link/getlink-errors", test_getlink_errors);
    g_test_add_func("/cli/link/setlink", test_setlink);
    g_test_add_func("/cli/link/usage", test_usage);
    g_test_add_func("/cli/link/help", test_help);
}
