/* test-cli-virsh.c: the verbs and argument forms of issue #11 §1 against
 * the fake vnicd: virsh's positional attach/detach-interface, --domain,
 * --current/--persistent, --print-xml, --alias, --inbound/--outbound,
 * domiflist --inactive, domifstat, domiftune, domifaddr,
 * qemu-monitor-command, update-device, dominfo, domstate, suspend,
 * resume, reboot: the request each sends, virsh's output, exit codes. */
#include "test-cli.h"

#include <string.h>

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

#define ATTACHED "{\"return\": {\"alias\": \"ua-web\", \"mac\": \"52:54:00:00:00:09\", " \
                 "\"address\": \"0000:00:05.0\", \"guest-name\": \"ens5\", \"target\": " \
                 "\"vnet2\"}}"

static void
test_attach_positional(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);

    fake_vnicd_script(fake, "attach-interface", ATTACHED, NULL, NULL);
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("attach-interface", "web1", "bridge", "br0",
                                                     "--alias", "ua-web", "--inbound",
                                                     "1000,,256", "--outbound", "500",
                                                     "--persistent"));
        cli_assert_status(run, 0);
        g_assert_cmpstr(run->out, ==, "Interface attached: ua-web 52:54:00:00:00:09 at "
                                      "0000:00:05.0, guest name ens5 (host tap vnet2)\n");
        tc_assert_arguments(fake, "attach-interface",
                            "{\"name\": \"web1\", \"type\": \"bridge\", \"source\": \"br0\", "
                            "\"alias\": \"ua-web\", \"inbound\": \"1000,0,256\", "
                            "\"outbound\": \"500\", \"persistent\": true}");
    }
    {
        /* --domain takes DOM's place; --type and a positional SOURCE mix */
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("attach-interface", "--domain", "web1",
                                                     "--type", "direct", "eth0", "--current"));
        cli_assert_status(run, 0);
        tc_assert_arguments(fake, "attach-interface", "{\"name\": \"web1\", \"type\": "
                                                      "\"direct\", \"source\": \"eth0\"}");
    }
}

static void
test_print_xml(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autoptr(CliRun) run = cli_run_c(fake_vnicd_socket(fake),
                                      ARGS("attach-interface", "web1", "bridge", "br0", "--mac",
                                           "52:54:00:AA:00:01", "--inbound", "800,1600",
                                           "--alias", "ua-x", "--print-xml"));

    cli_assert_status(run, 0);
    g_assert_cmpstr(run->out, ==,
                    "<interface type='bridge'>\n"
                    "  <source bridge='br0'/>\n"
                    "  <mac address='52:54:00:aa:00:01'/>\n"
                    "  <model type='virtio'/>\n"
                    "  <bandwidth><inbound average='800' peak='1600'/></bandwidth>\n"
                    "  <alias name='ua-x'/>\n"
                    "</interface>\n");
    g_assert_cmpuint(fake_vnicd_n_requests(fake), ==, 0);
}

static void
test_detach_by_type(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    const char *two = "{\"return\": {\"interfaces\": ["
                      "{\"type\": \"bridge\", \"mac\": \"52:54:00:00:00:01\"},"
                      "{\"type\": \"ethernet\", \"mac\": \"52:54:00:00:00:02\"},"
                      "{\"type\": \"ethernet\", \"mac\": \"52:54:00:00:00:03\"}]}}";

    fake_vnicd_script(fake, "domiflist", two, NULL, NULL);
    fake_vnicd_script(fake, "detach-interface", "{\"return\": {\"completed\": true, "
                      "\"alias\": \"net0\"}}", NULL, NULL);
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("detach-interface", "web1", "bridge"));
        cli_assert_status(run, 0);
        g_assert_cmpstr(run->out, ==, "Interface detached: net0\n");
        tc_assert_arguments(fake, "detach-interface",
                            "{\"name\": \"web1\", \"mac\": \"52:54:00:00:00:01\"}");
    }
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("detach-interface", "web1", "ethernet"));
        cli_assert_error(run, 1, "vnic detach-interface: domain 'web1' has 2 NICs of type "
                                 "'ethernet': name one with --mac\n");
    }
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("detach-interface", "web1", "bridge", "--mac",
                                                     "52:54:00:00:00:03"));
        cli_assert_error(run, 1, "vnic detach-interface: domain 'web1' has no NIC of type "
                                 "'bridge' with MAC 52:54:00:00:00:03\n");
    }
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("detach-interface", "--domain", "web1",
                                                     "ethernet", "--mac", "52:54:00:00:00:03",
                                                     "--config"));
        cli_assert_status(run, 0);
        tc_assert_arguments(fake, "domiflist", "{\"name\": \"web1\", \"inactive\": true}");
        tc_assert_arguments(fake, "detach-interface", "{\"name\": \"web1\", \"mac\": "
                                                      "\"52:54:00:00:00:03\", \"config\": true}");
    }
}

static void
test_domiflist_inactive(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autoptr(CliRun) run = NULL;

    fake_vnicd_script(fake, "domiflist", "{\"return\": {\"interfaces\": []}}", NULL, NULL);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("domiflist", "web1", "--inactive"));
    cli_assert_status(run, 0);
    tc_assert_arguments(fake, "domiflist", "{\"name\": \"web1\", \"inactive\": true}");
}

static void
test_domifstat(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autoptr(CliRun) run = NULL;

    fake_vnicd_script(fake, "domifstat", "{\"return\": {\"interface\": \"vnet0\", "
                      "\"rx_bytes\": 100, \"rx_packets\": 2, \"rx_errs\": 0, \"rx_drop\": 0, "
                      "\"tx_bytes\": 300, \"tx_packets\": 4, \"tx_errs\": 0, \"tx_drop\": 1}}",
                      NULL, NULL);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("domifstat", "web1", "net0"));
    cli_assert_status(run, 0);
    g_assert_cmpstr(run->out, ==, "net0 rx_bytes 100\nnet0 rx_packets 2\nnet0 rx_errs 0\n"
                                  "net0 rx_drop 0\nnet0 tx_bytes 300\nnet0 tx_packets 4\n"
                                  "net0 tx_errs 0\nnet0 tx_drop 1\n");
    tc_assert_arguments(fake, "domifstat", "{\"name\": \"web1\", \"interface\": \"net0\"}");
}

static void
test_domiftune(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    const char *reply = "{\"return\": {\"inbound\": {\"average\": 1000, \"peak\": 2000, "
                        "\"burst\": 256}, \"outbound\": {\"average\": 0, \"peak\": 0, "
                        "\"burst\": 0}}}";

    fake_vnicd_script(fake, "domiftune", reply, NULL, NULL);
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("domiftune", "web1", "vnet0"));
        cli_assert_status(run, 0);
        g_assert_cmpstr(run->out, ==, "inbound.average: 1000\ninbound.peak   : 2000\n"
                                      "inbound.burst  : 256\noutbound.average: 0\n"
                                      "outbound.peak   : 0\noutbound.burst  : 0\n");
    }
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("domiftune", "web1", "vnet0", "--inbound",
                                                     "0", "--outbound", "100,200", "--live"));
        cli_assert_status(run, 0);
        g_assert_cmpstr(run->out, ==, "");
        tc_assert_arguments(fake, "domiftune", "{\"name\": \"web1\", \"interface\": \"vnet0\", "
                                               "\"inbound\": \"0\", \"outbound\": \"100,200\", "
                                               "\"live\": true}");
    }
}

static void
test_domifaddr(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autoptr(CliRun) run = NULL;

    fake_vnicd_script(fake, "domifaddr", "{\"return\": {\"interfaces\": [{\"name\": \"vnet0\", "
                      "\"hwaddr\": \"52:54:00:00:00:01\", \"addrs\": [{\"type\": \"ipv4\", "
                      "\"addr\": \"10.0.0.5\", \"prefix\": 0}]}]}}", NULL, NULL);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("domifaddr", "web1", "--source", "arp"));
    cli_assert_status(run, 0);
    tc_assert_contains(run->out, " Name       MAC address          Protocol     Address\n");
    tc_assert_contains(run->out, " vnet0      52:54:00:00:00:01    ipv4         10.0.0.5/0\n");
    tc_assert_arguments(fake, "domifaddr", "{\"name\": \"web1\", \"source\": \"arp\"}");
}

static void
test_monitor(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);

    fake_vnicd_script(fake, "qemu-monitor-command", "{\"return\": {\"running\": true}}", NULL,
                      NULL);
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("qemu-monitor-command", "web1",
                                                     "query-status"));
        cli_assert_status(run, 0);
        g_assert_cmpstr(run->out, ==, "{\"running\":true}\n");
    }
    fake_vnicd_script(fake, "qemu-monitor-command", "{\"return\": \"hub 0\\r\\n\"}", NULL, NULL);
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("qemu-monitor-command", "--hmp", "web1",
                                                     "info", "network"));
        cli_assert_status(run, 0);
        g_assert_cmpstr(run->out, ==, "hub 0\r\n");
        tc_assert_arguments(fake, "qemu-monitor-command", "{\"name\": \"web1\", \"command\": "
                                                          "\"info network\", \"hmp\": true}");
    }
}

static void
test_domain_verbs(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autofree char *xml = g_build_filename(fake_vnicd_dir(fake), "nic.xml", NULL);

    fake_vnicd_script(fake, "domstate", "{\"return\": {\"state\": \"shut-off\", \"reason\": "
                      "\"shutdown\"}}", NULL, NULL);
    fake_vnicd_script(fake, "dominfo", "{\"return\": {\"name\": \"web1\", \"uuid\": \"u-1\", "
                      "\"state\": \"running\", \"pid\": 42, \"uid\": 99998, \"gid\": 99998, \"vcpus\": 2, "
                      "\"max-memory-kib\": 1024, \"memory-kib\": 512}}", NULL, NULL);
    fake_vnicd_script(fake, "suspend", "{\"return\": {}}", NULL, NULL);
    fake_vnicd_script(fake, "resume", "{\"error\": {\"class\": \"InvalidState\", \"desc\": "
                      "\"domain 'web1' is running, not paused\"}}", NULL, NULL);
    fake_vnicd_script(fake, "reboot", "{\"return\": {}}", NULL, NULL);
    fake_vnicd_script(fake, "update-device", "{\"return\": {\"changed\": [\"bridge\"]}}", NULL,
                      NULL);
    g_assert_true(g_file_set_contents(xml, "<interface type='bridge'><mac address="
                                           "'52:54:00:00:00:01'/><source bridge='br1'/>"
                                           "</interface>", -1, NULL));
    {
        g_autoptr(CliRun) st = cli_run_c(sock, ARGS("domstate", "web1", "--reason"));
        g_autoptr(CliRun) info = cli_run_c(sock, ARGS("dominfo", "web1"));
        g_autoptr(CliRun) sus = cli_run_c(sock, ARGS("suspend", "web1"));
        g_autoptr(CliRun) res = cli_run_c(sock, ARGS("resume", "web1"));
        g_autoptr(CliRun) reb = cli_run_c(sock, ARGS("reboot", "web1"));
        g_autoptr(CliRun) upd = cli_run_c(sock, ARGS("update-device", "web1", xml, "--live"));
        g_autoptr(CliRun) bad = cli_run_c(sock, ARGS("update-device", "web1", xml, "--current",
                                                     "--live"));

        cli_assert_status(st, 0);
        g_assert_cmpstr(st->out, ==, "shut off (shutdown)\n");
        cli_assert_status(info, 0);
        tc_assert_contains(info->out, "State:          running\n");
        tc_assert_contains(info->out, "PID:            42\n");
        tc_assert_contains(info->out, "CPU(s):         2\n");
        tc_assert_contains(info->out, "Used memory:    512 KiB\n");
        tc_assert_contains(info->out, "Security label: +99998:+99998 (enforcing)\n");
        cli_assert_status(sus, 0);
        g_assert_cmpstr(sus->out, ==, "Domain 'web1' suspended\n");
        cli_assert_error(res, 1, "vnic resume: InvalidState: domain 'web1' is running, not "
                                 "paused\n");
        cli_assert_status(reb, 0);
        g_assert_cmpstr(reb->out, ==, "Domain 'web1' is being rebooted\n");
        cli_assert_status(upd, 0);
        g_assert_cmpstr(upd->out, ==, "Device updated successfully\n");
        {
            JsonObject *args = fake_vnicd_last_arguments(fake, "update-device");
            g_assert_nonnull(args);
            g_assert_true(json_object_get_boolean_member(args, "live"));
            g_assert_nonnull(strstr(json_object_get_string_member(args, "xml"), "br1"));
        }
        cli_assert_error(bad, 2, "vnic update-device: --current excludes --live");
    }
}

static void
test_create_autostart(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "examples", "cloudstack-pc.xml",
                                             NULL);

    fake_vnicd_script(fake, "create", "{\"return\": {\"pid\": 7}}", NULL, NULL);
    fake_vnicd_script(fake, "autostart", "{\"return\": {}}", NULL, NULL);
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("create", path, "--policy", "libvirt"));
        JsonObject *args;
        cli_assert_status(run, 0);
        tc_assert_contains(run->out, "' created from ");
        args = fake_vnicd_last_arguments(fake, "create");
        g_assert_nonnull(args);
        g_assert_cmpstr(json_object_get_string_member(args, "policy"), ==, "libvirt");
        g_assert_nonnull(strstr(json_object_get_string_member(args, "xml"), "<domain"));
    }
    {
        g_autoptr(CliRun) on = cli_run_c(sock, ARGS("autostart", "web1"));
        g_autoptr(CliRun) off = NULL;
        cli_assert_status(on, 0);
        g_assert_cmpstr(on->out, ==, "Domain 'web1' marked as autostarted\n");
        tc_assert_arguments(fake, "autostart", "{\"name\": \"web1\"}");
        off = cli_run_c(sock, ARGS("autostart", "web1", "--disable"));
        cli_assert_status(off, 0);
        g_assert_cmpstr(off->out, ==, "Domain 'web1' unmarked as autostarted\n");
        tc_assert_arguments(fake, "autostart", "{\"name\": \"web1\", \"disable\": true}");
    }
}

/* Exit 2, one line naming the problem, vnicd not asked. */
static void
test_usage(void)
{
    const struct {
        const char *const *args;
        const char *message;
    } cases[] = {
        { ARGS("attach-interface", "web1", "bridge", "br0", "br1"), "unexpected argument 'br1'" },
        { ARGS("attach-interface", "bridge", "br0", "--domain", "web1", "x"),
          "unexpected argument 'x'" },
        { ARGS("attach-interface", "web1", "bridge", "br0", "--alias", "net3"),
          "invalid --alias 'net3': a user alias starts with 'ua-'" },
        { ARGS("attach-interface", "web1", "bridge", "br0", "--alias", "ua-a b"),
          "invalid --alias 'ua-a b'" },
        { ARGS("attach-interface", "web1", "bridge", "br0", "--inbound", "0"),
          "--inbound '0': the average rate must be 1 KiB/s or more" },
        { ARGS("attach-interface", "web1", "bridge", "br0", "--outbound", "1,2,3,4"),
          "--outbound '1,2,3,4': expected average[,peak[,burst]]" },
        { ARGS("attach-interface", "web1", "bridge", "br0", "--current", "--live"),
          "--current excludes --live, --config and --persistent" },
        { ARGS("attach-interface", "web1", "bridge", "br0", "--persistent", "--config"),
          "--persistent already changes the config" },
        { ARGS("attach-interface", "web1", "bridge", "--print-xml"),
          "an <interface type='bridge'> needs a source (the bridge)" },
        { ARGS("detach-interface", "web1", "wifi"), "invalid type 'wifi'" },
        { ARGS("detach-interface", "web1", "bridge", "extra"), "unexpected argument 'extra'" },
        { ARGS("domiftune", "web1", "vnet0", "--inbound", "x"), "--inbound: invalid average 'x'" },
        { ARGS("domifstat", "web1"), "expected a domain name and an interface" },
        { ARGS("domifaddr", "web1", "--source", "lease"), "invalid --source 'lease'" },
        { ARGS("qemu-monitor-command", "web1"), "expected a domain name and a command" },
        { ARGS("update-device", "web1"), "expected a domain name and an XML file" },
        { ARGS("suspend"), "expected a domain name" },
        { ARGS("domstate", "web1", "web2"), "unexpected argument 'web2'" },
    };
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(CliRun) run = cli_run_c(fake_vnicd_socket(fake), cases[i].args);
        g_autofree char *prefix = g_strdup_printf("vnic %s: %s", cases[i].args[0],
                                                  cases[i].message);

        cli_assert_error(run, 2, prefix);
    }
    g_assert_cmpuint(fake_vnicd_n_requests(fake), ==, 0);
}

static void
test_help(void)
{
    static const char *const verbs[] = { "domifstat", "domiftune", "domifaddr",
                                         "qemu-monitor-command", "update-device", "dominfo",
                                         "domstate", "suspend", "resume", "reboot", "console",
                                         "autostart" };
    g_autoptr(CliRun) help = cli_run(NULL, NULL, ARGS("--help"));

    cli_assert_status(help, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++) {
        g_autofree char *line = g_strdup_printf("\n  %s DOM", verbs[i]);
        g_autoptr(CliRun) verb = cli_run(NULL, NULL, ARGS(verbs[i], "--help"));

        tc_assert_contains(help->out, line);
        cli_assert_status(verb, 0);
        tc_assert_contains(verb->out, "Exit status: 0");
    }
    tc_assert_contains(help->out, "  domiflist DOM [--inactive] [--json]\n");
    tc_assert_contains(help->out, "  create FILE ");
    {
        g_autoptr(CliRun) create = cli_run(NULL, NULL, ARGS("create", "--help"));
        cli_assert_status(create, 0);
        tc_assert_contains(create->out, "Exit status: 0");
    }
}

void
test_cli_virsh_register(void)
{
    g_test_add_func("/cli/virsh/attach-positional", test_attach_positional);
    g_test_add_func("/cli/virsh/print-xml", test_print_xml);
    g_test_add_func("/cli/virsh/detach-by-type", test_detach_by_type);
    g_test_add_func("/cli/virsh/domiflist-inactive", test_domiflist_inactive);
    g_test_add_func("/cli/virsh/domifstat", test_domifstat);
    g_test_add_func("/cli/virsh/domiftune", test_domiftune);
    g_test_add_func("/cli/virsh/domifaddr", test_domifaddr);
    g_test_add_func("/cli/virsh/qemu-monitor-command", test_monitor);
    g_test_add_func("/cli/virsh/domain-verbs", test_domain_verbs);
    g_test_add_func("/cli/virsh/create-autostart", test_create_autostart);
    g_test_add_func("/cli/virsh/usage", test_usage);
    g_test_add_func("/cli/virsh/help", test_help);
}
