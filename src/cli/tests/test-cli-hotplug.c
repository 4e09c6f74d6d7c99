/* test-cli-hotplug.c: attach-interface, attach-device, detach-interface and
 * detach-device: the exact arguments each flag combination sends, the
 * lines printed, a detach still in progress (exit 0), vnicd's errors, a
 * broken <interface> file refused before vnicd is asked, and bad command
 * lines (exit 2, vnicd not asked). */
#include "test-cli.h"

#include <string.h>

#include "conf/conf-domain.h"

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static const char attached_reply[] =
    "{\"return\": {\"alias\": \"net2\", \"mac\": \"52:54:00:12:34:56\", "
    "\"address\": \"0000:00:05.0\", \"guest-name\": \"ens5\", \"target\": \"vnet2\", "
    "\"timings\": {\"backend-us\": 310, \"getfd-us\": 40, \"netdev-add-us\": 900, "
    "\"device-add-us\": 2100, \"total-us\": 3400}}}";

static const char attached_line[] =
    "Interface attached: net2 52:54:00:12:34:56 at 0000:00:05.0, guest name ens5 "
    "(host tap vnet2)\n";

static const char in_progress_reply[] =
    "{\"return\": {\"completed\": false, \"message\": \"the guest has not released net2 "
    "within 5 seconds; the unplug completes when it does\"}}";

/* One attach-interface run: exit 0 and @want_args sent. */
static CliRun *
attach(FakeVnicd *fake, const char *const *args, const char *want_args)
{
    CliRun *run = cli_run_c(fake_vnicd_socket(fake), args);

    cli_assert_status(run, 0);
    g_assert_cmpstr(run->err, ==, "");
    tc_assert_arguments(fake, "attach-interface", want_args);
    return run;
}

static void
test_attach_interface(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();

    fake_vnicd_script(fake, "attach-interface", attached_reply, NULL, NULL);
    {
        g_autoptr(CliRun) run = attach(fake, ARGS("attach-interface", "web1", "--type", "bridge",
                                                   "--source", "br0"),
                                       "{\"name\": \"web1\", \"type\": \"bridge\", "
                                       "\"source\": \"br0\"}");

        g_assert_cmpstr(run->out, ==, attached_line);
    }
    {
        g_autoptr(CliRun) run = attach(fake, ARGS("attach-interface", "--type=ethernet", "web1"),
                                       "{\"name\": \"web1\", \"type\": \"ethernet\"}");

        g_assert_cmpstr(run->out, ==, attached_line);
    }
    {
        /* every option; the MAC goes out in vnicd's lower case */
        g_autoptr(CliRun) run = attach(fake, ARGS("attach-interface", "web1", "--type", "direct",
                                                   "--source", "eth0", "--mode", "passthrough",
                                                   "--model", "e1000e", "--mac",
                                                   "52:54:00:AB:cd:EF", "--target", "mvt7",
                                                   "--acpi-index", "7", "--live", "--config"),
                                       "{\"name\": \"web1\", \"type\": \"direct\", "
                                       "\"source\": \"eth0\", \"mode\": \"passthrough\", "
                                       "\"model\": \"e1000e\", \"mac\": \"52:54:00:ab:cd:ef\", "
                                       "\"target\": \"mvt7\", \"acpi-index\": 7, "
                                       "\"live\": true, \"config\": true}");

        tc_assert_contains(run->out, "(host macvtap vnet2)\n");
    }
    {
        g_autoptr(CliRun) run = attach(fake, ARGS("attach-interface", "web1", "--config",
                                                   "--type", "bridge", "--source", "br0",
                                                   "--model", "virtio"),
                                       "{\"name\": \"web1\", \"type\": \"bridge\", "
                                       "\"source\": \"br0\", \"model\": \"virtio\", "
                                       "\"config\": true}");

        g_assert_cmpstr(run->out, ==, attached_line);
    }
}

/* --replug needs no --type; the host side's kind is then unknown. */
static void
test_attach_replug(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();

    fake_vnicd_script(fake, "attach-interface", attached_reply, NULL, NULL);
    {
        g_autoptr(CliRun) run = attach(fake, ARGS("attach-interface", "web1", "--replug",
                                                   "--mac", "52:54:00:12:34:56", "--live"),
                                       "{\"name\": \"web1\", \"mac\": \"52:54:00:12:34:56\", "
                                       "\"replug\": true, \"live\": true}");

        g_assert_cmpstr(run->out, ==,
                        "Interface attached: net2 52:54:00:12:34:56 at 0000:00:05.0, "
                        "guest name ens5 (host interface vnet2)\n");
    }
    {
        g_autoptr(CliRun) run = attach(fake, ARGS("attach-interface", "web1", "--replug",
                                                   "--mac", "52:54:00:12:34:56", "--type",
                                                   "bridge"),
                                       "{\"name\": \"web1\", \"mac\": \"52:54:00:12:34:56\", "
                                       "\"type\": \"bridge\", \"replug\": true}");

        g_assert_cmpstr(run->out, ==, attached_line);
    }
}

/* --json prints the answer as it came; an answer with less still exits 0
 * (the NIC is in) and prints what it has. */
static void
test_attach_output(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autoptr(CliRun) json = NULL;
    g_autoptr(CliRun) sparse = NULL;
    g_autoptr(JsonNode) reply = json_from_string(attached_reply, NULL);
    g_autofree char *want = json_to_string(
        json_object_get_member(json_node_get_object(reply), "return"), FALSE);

    fake_vnicd_script(fake, "attach-interface", attached_reply, NULL, NULL);
    json = cli_run_c(sock, ARGS("attach-interface", "web1", "--type", "ethernet", "--json"));
    cli_assert_status(json, 0);
    tc_assert_json_eq(json->out, want);
    tc_assert_arguments(fake, "attach-interface", "{\"name\": \"web1\", \"type\": \"ethernet\"}");

    fake_vnicd_script(fake, "attach-interface",
                      "{\"return\": {\"alias\": \"net3\", \"address\": \"0000:01:00.0\"}}",
                      NULL, NULL);
    sparse = cli_run_c(sock, ARGS("attach-interface", "web1", "--type", "ethernet"));
    cli_assert_status(sparse, 0);
    g_assert_cmpstr(sparse->out, ==, "Interface attached: net3 at 0000:01:00.0\n");
}

static const char nic_xml[] =
    "<interface type='direct'>\n"
    "  <mac address='52:54:00:00:00:09'/>\n"
    "  <source dev='eth0' mode='bridge'/>\n"
    "  <model type='virtio'/>\n"
    "  <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>\n"
    "</interface>\n";

static char *
write_file(FakeVnicd *fake, const char *name, const char *text)
{
    char *path = g_build_filename(fake_vnicd_dir(fake), name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* The arguments JSON for the XML verbs: @xml as a JSON string. */
static char *
xml_arguments(const char *xml, const char *rest)
{
    g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), xml);
    g_autofree char *quoted = json_to_string(node, FALSE);

    return g_strdup_printf("{\"name\": \"web1\", \"xml\": %s%s}", quoted, rest);
}

/* The file's text goes out as it is, with live/config only when given. */
static void
test_attach_device(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autofree char *file = write_file(fake, "nic.xml", nic_xml);
    g_autofree char *plain_args = xml_arguments(nic_xml, "");
    g_autofree char *live_args = xml_arguments(nic_xml, ", \"live\": true");
    g_autoptr(CliRun) plain = NULL;
    g_autoptr(CliRun) live = NULL;
    g_autoptr(CliRun) json = NULL;

    fake_vnicd_script(fake, "attach-device", attached_reply, NULL, NULL);
    plain = cli_run_c(sock, ARGS("attach-device", "web1", file));
    cli_assert_status(plain, 0);
    g_assert_cmpstr(plain->out, ==,
                    "Interface attached: net2 52:54:00:12:34:56 at 0000:00:05.0, "
                    "guest name ens5 (host macvtap vnet2)\n");
    tc_assert_arguments(fake, "attach-device", plain_args);
    live = cli_run_c(sock, ARGS("attach-device", "--live", "web1", file));
    cli_assert_status(live, 0);
    tc_assert_arguments(fake, "attach-device", live_args);
    json = cli_run_c(sock, ARGS("attach-device", "web1", file, "--json"));
    cli_assert_status(json, 0);
    tc_assert_contains(json->out, "\"total-us\" : 3400");
}

/* What vnic_conf_interface_parse(NULL, …) says about @xml, the message
 * vnicd gives for it too. */
static char *
conf_message(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = vnic_conf_interface_parse(NULL, xml, strlen(xml), &error);

    g_assert_null(dev);
    return g_strdup(error->message);
}

/* A file that is no valid <interface> fails before vnicd is asked, with
 * the conf layer's message (as vnicd would answer) on one line. */
static void
test_xml_file_errors(void)
{
    static const char *const bad[] = {
        "<interface type='bridge'><mac address='zz:54:00:00:00:01'/>"
        "<source bridge='br0'/></interface>",
        "<interface type='bridge'/>",
        "<interface type='direct'><source dev='eth0' mode='loud'/></interface>",
        "<disk type='file'/>",
        "<interface type='ethernet'>",
    };
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autofree char *missing = g_build_filename(fake_vnicd_dir(fake), "none.xml", NULL);

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *file = write_file(fake, "bad.xml", bad[i]);
        g_autofree char *message = conf_message(bad[i]);
        g_autofree char *want_attach = g_strdup_printf("vnic attach-device: InvalidXML: %s\n",
                                                       message);
        g_autofree char *want_detach = g_strdup_printf("vnic detach-device: InvalidXML: %s\n",
                                                       message);
        g_autoptr(CliRun) a = cli_run_c(sock, ARGS("attach-device", "web1", file));
        g_autoptr(CliRun) d = cli_run_c(sock, ARGS("detach-device", "web1", file));

        g_test_message("%s", message);
        cli_assert_error(a, 1, want_attach);
        cli_assert_error(d, 1, want_detach);
    }
    {
        g_autoptr(CliRun) gone = cli_run_c(sock, ARGS("attach-device", "web1", missing));

        cli_assert_error(gone, 1, "vnic attach-device: ");
        tc_assert_contains(gone->err, "none.xml");
    }
    g_assert_cmpuint(fake_vnicd_n_requests(fake), ==, 0);
}

static void
test_detach_interface(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);

    fake_vnicd_script(fake, "detach-interface", "{\"return\": {\"completed\": true}}", NULL,
                      NULL);
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("detach-interface", "web1", "--mac",
                                                     "52:54:00:12:34:5A"));

        cli_assert_status(run, 0);
        /* api.md's answer has no alias: the NIC is named as it was given */
        g_assert_cmpstr(run->out, ==, "Interface detached: 52:54:00:12:34:5a\n");
        tc_assert_arguments(fake, "detach-interface",
                            "{\"name\": \"web1\", \"mac\": \"52:54:00:12:34:5a\"}");
    }
    fake_vnicd_script(fake, "detach-interface",
                      "{\"return\": {\"completed\": true, \"alias\": \"net2\"}}", NULL, NULL);
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("detach-interface", "web1", "--target",
                                                     "vnet2", "--timeout", "10", "--live",
                                                     "--config"));

        cli_assert_status(run, 0);
        g_assert_cmpstr(run->out, ==, "Interface detached: net2\n");
        tc_assert_arguments(fake, "detach-interface",
                            "{\"name\": \"web1\", \"target\": \"vnet2\", \"timeout\": 10, "
                            "\"live\": true, \"config\": true}");
    }
    {
        g_autoptr(CliRun) run = cli_run_c(sock, ARGS("detach-interface", "web1", "--target",
                                                     "vnet2", "--timeout=0", "--config"));

        cli_assert_status(run, 0);
        tc_assert_arguments(fake, "detach-interface",
                            "{\"name\": \"web1\", \"target\": \"vnet2\", \"timeout\": 0, "
                            "\"config\": true}");
    }
}

/* {"completed": false}: the message on stdout, exit 0, nothing on stderr. */
static void
test_detach_in_progress(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autofree char *file = write_file(fake, "nic.xml", nic_xml);
    g_autoptr(CliRun) iface = NULL;
    g_autoptr(CliRun) device = NULL;
    g_autoptr(CliRun) json = NULL;
    g_autoptr(CliRun) silent = NULL;

    fake_vnicd_script(fake, "detach-interface", in_progress_reply, NULL, NULL);
    fake_vnicd_script(fake, "detach-device", in_progress_reply, NULL, NULL);
    iface = cli_run_c(sock, ARGS("detach-interface", "web1", "--target", "vnet2"));
    cli_assert_status(iface, 0);
    g_assert_cmpstr(iface->out, ==, "the guest has not released net2 within 5 seconds; "
                                    "the unplug completes when it does\n");
    g_assert_cmpstr(iface->err, ==, "");
    device = cli_run_c(sock, ARGS("detach-device", "web1", file));
    cli_assert_status(device, 0);
    g_assert_cmpstr(device->out, ==, iface->out);
    g_assert_cmpstr(device->err, ==, "");
    json = cli_run_c(sock, ARGS("detach-interface", "web1", "--target", "vnet2", "--json"));
    cli_assert_status(json, 0);
    tc_assert_json_eq(json->out, "{\"completed\": false, \"message\": \"the guest has not "
                                 "released net2 within 5 seconds; the unplug completes when "
                                 "it does\"}");
    /* without a message (or a "completed"), vnic does not claim it is done */
    fake_vnicd_script(fake, "detach-interface", "{\"return\": {}}", NULL, NULL);
    silent = cli_run_c(sock, ARGS("detach-interface", "web1", "--target", "vnet2"));
    cli_assert_status(silent, 0);
    g_assert_cmpstr(silent->out, ==, "Detach request for vnet2 sent; the unplug completes "
                                     "when the guest releases it\n");
}

static void
test_detach_device(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autofree char *file = write_file(fake, "nic.xml", nic_xml);
    g_autofree char *plain_args = xml_arguments(nic_xml, "");
    g_autofree char *timed_args = xml_arguments(nic_xml, ", \"timeout\": 30, \"config\": true");
    g_autoptr(CliRun) plain = NULL;
    g_autoptr(CliRun) timed = NULL;

    fake_vnicd_script(fake, "detach-device", "{\"return\": {\"completed\": true}}", NULL, NULL);
    plain = cli_run_c(sock, ARGS("detach-device", "web1", file));
    cli_assert_status(plain, 0);
    g_assert_cmpstr(plain->out, ==, "Interface detached: 52:54:00:00:00:09\n");
    tc_assert_arguments(fake, "detach-device", plain_args);
    timed = cli_run_c(sock, ARGS("detach-device", "web1", file, "--timeout", "30", "--config"));
    cli_assert_status(timed, 0);
    tc_assert_arguments(fake, "detach-device", timed_args);
}

/* vnicd's refusals: "vnic VERB: Class: desc", exit 1, stdout empty; an
 * unreachable vnicd: exit 3. */
static void
test_hotplug_daemon_errors(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autofree char *file = write_file(fake, "nic.xml", nic_xml);
    g_autofree char *missing = g_build_filename(fake_vnicd_dir(fake), "none.sock", NULL);

    fake_vnicd_script(fake, "attach-interface", "{\"error\": {\"class\": \"HostError\", "
                      "\"desc\": \"cannot create tap 'vnet2': Operation not permitted\"}}",
                      NULL, NULL);
    fake_vnicd_script(fake, "attach-device", "{\"error\": {\"class\": \"PlacementError\", "
                      "\"desc\": \"slot 0000:00:07.0 is taken by net0\"}}", NULL, NULL);
    fake_vnicd_script(fake, "detach-interface", "{\"error\": {\"class\": \"InvalidState\", "
                      "\"desc\": \"domain 'web1' is shut off\"}}", NULL, NULL);
    {
        g_autoptr(CliRun) a = cli_run_c(sock, ARGS("attach-interface", "web1", "--type",
                                                   "ethernet", "--json"));
        g_autoptr(CliRun) d = cli_run_c(sock, ARGS("attach-device", "web1", file));
        g_autoptr(CliRun) di = cli_run_c(sock, ARGS("detach-interface", "web1", "--live",
                                                    "--mac", "52:54:00:00:00:09"));
        g_autoptr(CliRun) dd = cli_run_c(sock, ARGS("detach-device", "web1", file));
        g_autoptr(CliRun) gone = cli_run_c(missing, ARGS("detach-interface", "web1", "--target",
                                                         "vnet0"));

        cli_assert_error(a, 1, "vnic attach-interface: HostError: cannot create tap 'vnet2': "
                               "Operation not permitted\n");
        cli_assert_error(d, 1, "vnic attach-device: PlacementError: slot 0000:00:07.0 is "
                               "taken by net0\n");
        cli_assert_error(di, 1, "vnic detach-interface: InvalidState: domain 'web1' is shut "
                                "off\n");
        cli_assert_error(dd, 1, "vnic detach-device: CommandNotFound: ");
        cli_assert_error(gone, 3, "vnic detach-interface: cannot connect to vnicd at ");
    }
}

/* Bad command lines: exit 2, one line naming the problem, vnicd not asked. */
static void
test_hotplug_usage(void)
{
    const struct {
        const char *const *args;
        const char *message;       /* after "vnic VERB: " */
    } cases[] = {
        { ARGS("attach-interface", "web1"), "--type is required (ethernet, bridge, direct or network), "
                                            "unless --replug is given\n" },
        { ARGS("attach-interface", "web1", "--source", "br0", "--mac", "52:54:00:00:00:01"),
          "--type is required" },
        { ARGS("attach-interface", "web1", "--replug"),
          "--replug needs --mac, the MAC address of the NIC detached earlier\n" },
        { ARGS("attach-interface", "web1", "--type", "wifi"),
          "invalid --type 'wifi': expected ethernet, bridge, direct or network\n" },
        { ARGS("attach-interface", "web1", "--type", "bridge", "--mode", "vepa"),
          "--mode is a macvtap mode, for --type direct, not 'bridge'\n" },
        { ARGS("attach-interface", "web1", "--type", "direct", "--mode", "loud"),
          "invalid --mode 'loud'" },
        { ARGS("attach-interface", "web1", "--type", "bridge", "--acpi-index", "0"),
          "invalid --acpi-index 0: expected 1 to 16383\n" },
        { ARGS("attach-interface", "web1", "--type", "bridge", "--acpi-index", "16384"),
          "invalid --acpi-index 16384" },
        { ARGS("attach-interface", "web1", "--type", "bridge", "--acpi-index", "x"), "" },
        { ARGS("attach-interface", "web1", "--type", "bridge", "--mac", "52:54:00:00:00"),
          "invalid --mac '52:54:00:00:00': expected six hex pairs separated by ':'\n" },
        { ARGS("attach-interface", "web1", "--replug", "--mac", "01:00:5e:00:00:01"),
          "--mac '01:00:5e:00:00:01' is a multicast address: a NIC needs a unicast one\n" },
        { ARGS("attach-interface", "--type", "bridge"), "expected a domain name" },
        { ARGS("attach-interface", "web1", "bridge", "br0", "br1"),
          "unexpected argument 'br1'" },
        { ARGS("attach-interface", "web1", "web2", "br0", "--type", "bridge"),
          "unexpected argument 'br0'" },
        { ARGS("attach-interface", "web1", "--type", "bridge", "--bogus"), "" },
        { ARGS("attach-device", "web1"), "expected a domain name and an XML file" },
        { ARGS("attach-device", "web1", "a.xml", "b.xml"), "unexpected argument 'b.xml'" },
        { ARGS("attach-device", "web1", "a.xml", "--timeout", "5"), "" },
        { ARGS("detach-interface", "web1"),
          "expected TYPE, --mac MAC or --target NAME to name the NIC\n" },
        { ARGS("detach-interface", "web1", "--mac", "52:54:00:00:00:01", "--target", "vnet0"),
          "--mac and --target exclude each other\n" },
        { ARGS("detach-interface", "web1", "--mac", "nonsense"), "invalid --mac 'nonsense'" },
        { ARGS("detach-interface", "web1", "--target", "vnet0", "--timeout", "-1"),
          "--timeout must be 0 or more seconds, not -1\n" },
        { ARGS("detach-interface", "web1", "--target", "vnet0", "--timeout", "soon"), "" },
        { ARGS("detach-interface", "--target", "vnet0"), "expected a domain name" },
        /* the timeout is checked before FILE is read */
        { ARGS("detach-device", "web1", "missing.xml", "--timeout", "-2"),
          "--timeout must be 0 or more seconds, not -2\n" },
        { ARGS("detach-device", "web1"), "expected a domain name and an XML file" },
    };
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(CliRun) run = cli_run_c(fake_vnicd_socket(fake), cases[i].args);
        g_autofree char *prefix = g_strdup_printf("vnic %s: %s", cases[i].args[0],
                                                  cases[i].message);

        g_test_message("vnic %s …: %s", cases[i].args[0], run->err);
        cli_assert_error(run, 2, prefix);
    }
    g_assert_cmpuint(fake_vnicd_n_requests(fake), ==, 0);
}

static void
test_hotplug_help(void)
{
    g_autoptr(CliRun) help = cli_run(NULL, NULL, ARGS("--help"));
    g_autoptr(CliRun) attach_help = cli_run(NULL, NULL, ARGS("attach-interface", "--help"));
    g_autoptr(CliRun) detach_help = cli_run(NULL, NULL, ARGS("detach-device", "-h"));

    cli_assert_status(help, 0);
    tc_assert_contains(help->out, "  attach-interface DOM TYPE SOURCE [--mac MAC] ");
    tc_assert_contains(help->out, "  attach-interface DOM --type ethernet|bridge|direct|network ");
    tc_assert_contains(help->out, "  attach-interface DOM --replug --mac MAC ");
    tc_assert_contains(help->out, "  attach-device DOM FILE [--live] [--config] [--json]\n");
    tc_assert_contains(help->out, "  detach-interface DOM [TYPE] (--mac MAC | --target NAME) ");
    tc_assert_contains(help->out, "  detach-device DOM FILE [--timeout SECONDS] ");
    cli_assert_status(attach_help, 0);
    tc_assert_contains(attach_help->out, "vnic attach-interface [OPTION…] DOM [TYPE [SOURCE]]\n");
    tc_assert_contains(attach_help->out, "--acpi-index=N");
    tc_assert_contains(attach_help->out, "--replug");
    tc_assert_contains(attach_help->out, "--live");
    cli_assert_status(detach_help, 0);
    tc_assert_contains(detach_help->out, "vnic detach-device [OPTION…] DOM FILE\n");
    tc_assert_contains(detach_help->out, "--timeout=SECONDS");
    tc_assert_contains(detach_help->out, "the exit status\nis still 0");
}

void
test_cli_hotplug_register(void)
{
    g_test_add_func("/cli/hotplug/attach-interface", test_attach_interface);
    g_test_add_func("/cli/hotplug/attach-replug", test_attach_replug);
    g_test_add_func("/cli/hotplug/attach-output", test_attach_output);
    g_test_add_func("/cli/hotplug/attach-device", test_attach_device);
    g_test_add_func("/cli/hotplug/xml-file-errors", test_xml_file_errors);
    g_test_add_func("/cli/hotplug/detach-interface", test_detach_interface);
    g_test_add_func("/cli/hotplug/detach-in-progress", test_detach_in_progress);
    g_test_add_func("/cli/hotplug/detach-device", test_detach_device);
    g_test_add_func("/cli/hotplug/daemon-errors", test_hotplug_daemon_errors);
    g_test_add_func("/cli/hotplug/usage", test_hotplug_usage);
    g_test_add_func("/cli/hotplug/help", test_hotplug_help);
}
