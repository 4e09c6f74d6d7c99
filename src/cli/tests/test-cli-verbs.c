/* test-cli-verbs.c: each daemon verb: the request it sends, what it prints
 * on success, with --json, and on a daemon error (class on stderr, exit 1,
 * nothing on stdout). */
#include "test-cli.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void
test_lifecycle(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);

    fake_vnicd_script(fake, "start", "{\"return\": {\"pid\": 4242}}", NULL, NULL);
    fake_vnicd_script(fake, "undefine", "{\"return\": {}}", NULL, NULL);
    fake_vnicd_script(fake, "shutdown", "{\"return\": {}}", NULL, NULL);
    {
        g_autoptr(CliRun) start = cli_run_c(sock, ARGS("start", "web1"));
        g_autoptr(CliRun) start_json = cli_run_c(sock, ARGS("start", "--json", "web1"));
        g_autoptr(CliRun) undefine = cli_run_c(sock, ARGS("undefine", "web1"));

        cli_assert_status(start, 0);
        g_assert_cmpstr(start->out, ==, "Domain 'web1' started\n");
        tc_assert_arguments(fake, "start", "{\"name\": \"web1\"}");
        cli_assert_status(start_json, 0);
        tc_assert_json_eq(start_json->out, "{\"pid\": 4242}");
        cli_assert_status(undefine, 0);
        g_assert_cmpstr(undefine->out, ==, "Domain 'web1' has been undefined\n");
    }
    {
        g_autoptr(CliRun) plain = cli_run_c(sock, ARGS("shutdown", "web1"));

        cli_assert_status(plain, 0);
        g_assert_cmpstr(plain->out, ==, "Domain 'web1' shut down\n");
        tc_assert_arguments(fake, "shutdown", "{\"name\": \"web1\"}");
    }
    {
        g_autoptr(CliRun) timed = cli_run_c(sock, ARGS("shutdown", "web1", "--timeout", "5"));

        cli_assert_status(timed, 0);
        tc_assert_arguments(fake, "shutdown", "{\"name\": \"web1\", \"timeout\": 5}");
    }
}

/* The daemon's error: "vnic VERB: Class: desc", exit 1, stdout empty. */
static void
test_daemon_errors(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);

    fake_vnicd_script(fake, "start", "{\"error\": {\"class\": \"InvalidState\", "
                      "\"desc\": \"domain 'web1' is already running\"}}", NULL, NULL);
    fake_vnicd_script(fake, "shutdown", "{\"error\": {\"class\": \"Timeout\", "
                      "\"desc\": \"the guest did not power off within 5 seconds\"}}",
                      NULL, NULL);
    fake_vnicd_script(fake, "dumpxml", "{\"error\": {\"class\": \"DomainNotFound\", "
                      "\"desc\": \"no domain named 'web2'\"}}", NULL, NULL);
    {
        g_autoptr(CliRun) start = cli_run_c(sock, ARGS("start", "web1"));
        g_autoptr(CliRun) shutdown = cli_run_c(sock, ARGS("shutdown", "--timeout=5", "web1"));
        g_autoptr(CliRun) dump = cli_run_c(sock, ARGS("dumpxml", "web2", "--json"));
        g_autoptr(CliRun) unknown = cli_run_c(sock, ARGS("domiflist", "web1"));

        cli_assert_error(start, 1, "vnic start: InvalidState: domain 'web1' is already running\n");
        cli_assert_error(shutdown, 1, "vnic shutdown: Timeout: the guest did not power off");
        cli_assert_error(dump, 1, "vnic dumpxml: DomainNotFound: no domain named 'web2'\n");
        cli_assert_error(unknown, 1, "vnic domiflist: CommandNotFound: ");
    }
}

static const char list_reply[] =
    "{\"return\": {\"domains\": ["
    "{\"name\": \"web1\", \"uuid\": \"u1\", \"state\": \"running\", \"pid\": 4242},"
    "{\"name\": \"db\", \"uuid\": \"u2\", \"state\": \"shut-off\"}]}}";

static void
test_list(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autoptr(CliRun) table = NULL;
    g_autoptr(CliRun) all = NULL;
    g_autoptr(CliRun) names = NULL;
    g_autoptr(CliRun) json = NULL;

    fake_vnicd_script(fake, "list", list_reply, NULL, NULL);
    table = cli_run_c(sock, ARGS("list"));
    cli_assert_status(table, 0);
    g_assert_cmpstr(table->out, ==,
                    " Id     Name           State\n"
                    "-------------------------------\n"
                    " 4242   web1           running\n"
                    " -      db             shut off\n");
    tc_assert_arguments(fake, "list", "{\"all\": false}");
    all = cli_run_c(sock, ARGS("list", "--all"));
    cli_assert_status(all, 0);
    tc_assert_arguments(fake, "list", "{\"all\": true}");
    names = cli_run_c(sock, ARGS("list", "--all", "--name"));
    cli_assert_status(names, 0);
    g_assert_cmpstr(names->out, ==, "web1\ndb\n");
    json = cli_run_c(sock, ARGS("list", "--json"));
    cli_assert_status(json, 0);
    tc_assert_json_eq(json->out, "{\"domains\": [{\"name\": \"web1\", \"uuid\": \"u1\", "
                                 "\"state\": \"running\", \"pid\": 4242}, {\"name\": \"db\", "
                                 "\"uuid\": \"u2\", \"state\": \"shut-off\"}]}");
}

/* Columns widen for long values; an empty list is just the header. */
static void
test_list_widths(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autoptr(CliRun) wide = NULL;
    g_autoptr(CliRun) bad = NULL;

    fake_vnicd_script(fake, "list", "{\"return\": {\"domains\": [{\"name\": "
                      "\"a-rather-long-domain-name\", \"state\": \"running\", \"pid\": 7}]}}",
                      NULL, NULL);
    wide = cli_run_c(fake_vnicd_socket(fake), ARGS("list"));
    cli_assert_status(wide, 0);
    g_assert_cmpstr(wide->out, ==,
                    " Id     Name                      State\n"
                    "-----------------------------------------\n"
                    " 7      a-rather-long-domain-name running\n");
    fake_vnicd_script(fake, "list", "{\"return\": {\"domains\": 3}}", NULL, NULL);
    bad = cli_run_c(fake_vnicd_socket(fake), ARGS("list"));
    cli_assert_error(bad, 1, "vnic list: vnicd's answer has an unexpected shape");
}

static void
test_dumpxml(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);

    fake_vnicd_script(fake, "dumpxml", "{\"return\": {\"xml\": \"<domain/>\"}}", NULL, NULL);
    {
        g_autoptr(CliRun) live = cli_run_c(sock, ARGS("dumpxml", "web1"));

        cli_assert_status(live, 0);
        g_assert_cmpstr(live->out, ==, "<domain/>\n");
        tc_assert_arguments(fake, "dumpxml", "{\"name\": \"web1\"}");
    }
    {
        g_autoptr(CliRun) inactive = cli_run_c(sock, ARGS("dumpxml", "--inactive", "web1"));

        cli_assert_status(inactive, 0);
        tc_assert_arguments(fake, "dumpxml", "{\"name\": \"web1\", \"flags\": \"inactive\"}");
    }
    {
        g_autoptr(CliRun) migratable = cli_run_c(sock, ARGS("dumpxml", "web1", "--migratable"));
        g_autoptr(CliRun) json = NULL;

        cli_assert_status(migratable, 0);
        tc_assert_arguments(fake, "dumpxml", "{\"name\": \"web1\", \"flags\": \"migratable\"}");
        json = cli_run_c(sock, ARGS("dumpxml", "web1", "--json"));
        cli_assert_status(json, 0);
        tc_assert_json_eq(json->out, "{\"xml\": \"<domain/>\"}");
    }
}

/* A reply far above one read (and above the daemon's 4 MiB request cap). */
static void
test_large_reply(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    gsize size = 6 * 1024 * 1024;
    g_autofree char *xml = g_malloc(size + 1);
    g_autofree char *reply = NULL;
    g_autoptr(CliRun) run = NULL;

    memset(xml, 'x', size);
    xml[size] = '\0';
    reply = g_strdup_printf("{\"return\": {\"xml\": \"%s\"}}", xml);
    fake_vnicd_script(fake, "dumpxml", reply, NULL, NULL);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("dumpxml", "big"));
    cli_assert_status(run, 0);
    g_assert_cmpuint(strlen(run->out), ==, size + 1);
}

static void
test_domiflist(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    const char *reply =
        "{\"return\": {\"interfaces\": ["
        "{\"alias\": \"net0\", \"type\": \"bridge\", \"source\": \"br0\", \"target\": \"vnet0\", "
        "\"model\": \"virtio\", \"mac\": \"52:54:00:00:00:01\", \"address\": \"0000:00:03.0\", "
        "\"guest-name\": \"ens3\"},"
        "{\"alias\": \"net1\", \"type\": \"ethernet\", \"target\": \"vnet1\", "
        "\"model\": \"e1000\", \"mac\": \"52:54:00:00:00:02\", \"address\": \"0000:00:04.0\", "
        "\"guest-name\": \"ens4\"}]}}";
    g_autoptr(CliRun) table = NULL;
    g_autoptr(CliRun) json = NULL;

    fake_vnicd_script(fake, "domiflist", reply, NULL, NULL);
    table = cli_run_c(sock, ARGS("domiflist", "web1"));
    cli_assert_status(table, 0);
    g_assert_cmpstr(table->out, ==,
                    "Interface  Type      Source  Model   MAC                Address       "
                    "Guest name\n"
                    "----------------------------------------------------------------------"
                    "----------\n"
                    "vnet0      bridge    br0     virtio  52:54:00:00:00:01  0000:00:03.0  ens3\n"
                    "vnet1      ethernet  -       e1000   52:54:00:00:00:02  0000:00:04.0  ens4\n");
    tc_assert_arguments(fake, "domiflist", "{\"name\": \"web1\"}");
    json = cli_run_c(sock, ARGS("domiflist", "web1", "--json"));
    cli_assert_status(json, 0);
    g_assert_true(g_str_has_prefix(json->out, "{"));
    tc_assert_contains(json->out, "\"guest-name\" : \"ens4\"");
}

/* domiflist of a running domain: every NIC with its state. */
#define IFLIST_RUNNING                                                                        \
    "{\"interfaces\": ["                                                                        \
    "{\"alias\": \"net0\", \"type\": \"bridge\", \"source\": \"br0\", \"target\": \"vnet0\", "   \
    "\"model\": \"virtio\", \"mac\": \"52:54:00:00:00:01\", \"address\": \"0000:00:03.0\", "      \
    "\"guest-name\": \"ens3\", \"state\": \"plugged\", \"link\": \"up\", \"reconnect\": \"hub\"},"  \
    "{\"alias\": \"net1\", \"type\": \"direct\", \"source\": \"eth1\", "                           \
    "\"target\": \"macvtap0\", \"model\": \"virtio\", \"mac\": \"52:54:00:00:00:02\", "            \
    "\"address\": \"0000:00:04.0\", \"guest-name\": \"ens4\", \"state\": \"waiting\", "            \
    "\"link\": \"down\", \"waiting-for\": \"eth1\", "                                               \
    "\"reason\": \"lower device eth1 was deleted\", \"reconnect\": \"hub\"},"                       \
    "{\"alias\": \"net2\", \"type\": \"ethernet\", \"target\": \"vnet2\", \"model\": \"e1000\", "   \
    "\"mac\": \"52:54:00:00:00:03\", \"address\": \"0000:00:05.0\", \"guest-name\": \"ens5\", "     \
    "\"state\": \"plugged\", \"link\": \"down\", \"reconnect\": \"replug\"},"                      \
    "{\"alias\": \"net3\", \"type\": \"ethernet\", \"target\": \"vnet3\", \"model\": \"virtio\", "  \
    "\"mac\": \"52:54:00:00:00:04\", \"address\": \"0000:00:06.0\", "                               \
    "\"state\": \"backend-ready\", \"link\": \"down\", \"reconnect\": \"off\"}]}"

/* A State column after the others (waiting names its device, a plugged
 * NIC with carrier off says so); --json passes the answer through. */
static void
test_domiflist_state(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autoptr(CliRun) table = NULL;
    g_autoptr(CliRun) json = NULL;

    fake_vnicd_script(fake, "domiflist", "{\"return\": " IFLIST_RUNNING "}", NULL, NULL);
    table = cli_run_c(sock, ARGS("domiflist", "web1"));
    cli_assert_status(table, 0);
    g_assert_cmpstr(table->out, ==,
                    "Interface  Type      Source  Model   MAC                Address       "
                    "Guest name  State\n"
                    "----------------------------------------------------------------------"
                    "------------------------------\n"
                    "vnet0      bridge    br0     virtio  52:54:00:00:00:01  0000:00:03.0  "
                    "ens3        plugged\n"
                    "macvtap0   direct    eth1    virtio  52:54:00:00:00:02  0000:00:04.0  "
                    "ens4        waiting (eth1)\n"
                    "vnet2      ethernet  -       e1000   52:54:00:00:00:03  0000:00:05.0  "
                    "ens5        plugged, link down\n"
                    "vnet3      ethernet  -       virtio  52:54:00:00:00:04  0000:00:06.0  "
                    "-           backend ready\n");
    json = cli_run_c(sock, ARGS("domiflist", "--json", "web1"));
    cli_assert_status(json, 0);
    tc_assert_json_eq(json->out, IFLIST_RUNNING);
}

static void
test_vncdisplay(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);
    g_autoptr(CliRun) plain = NULL;
    g_autoptr(CliRun) json = NULL;

    fake_vnicd_script(fake, "vncdisplay", "{\"return\": {\"display\": \"127.0.0.1:0\"}}",
                      NULL, NULL);
    plain = cli_run_c(sock, ARGS("vncdisplay", "web1"));
    cli_assert_status(plain, 0);
    g_assert_cmpstr(plain->out, ==, "127.0.0.1:0\n");
    tc_assert_arguments(fake, "vncdisplay", "{\"name\": \"web1\"}");
    json = cli_run_c(sock, ARGS("vncdisplay", "web1", "--json"));
    cli_assert_status(json, 0);
    tc_assert_contains(json->out, "\"display\" : \"127.0.0.1:0\"");
}

/* Events met while waiting for a reply do not disturb the reply. */
static void
test_event_during_call(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autoptr(CliRun) run = NULL;

    fake_vnicd_script(fake, "destroy", "{\"return\": {}}",
                      "{\"event\": \"DOMAIN_STOPPED\", \"data\": {\"domain\": \"web1\", "
                      "\"reason\": \"destroyed\"}}\n"
                      "{\"return\": {}, \"id\": \"someone else's\"}\n",
                      NULL);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("destroy", "web1"));
    cli_assert_status(run, 0);
    g_assert_cmpstr(run->out, ==, "Domain 'web1' destroyed\n");
}

static const char define_xml[] =
    "<domain type='qemu'><name>web1</name><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>guest/vmlinuz</kernel>"
    "<initrd>/boot/initrd.img</initrd></os>"
    "<devices><disk type='file' device='disk'><source file='disk.img'/>"
    "<target dev='vda' bus='virtio'/></disk>"
    "<serial type='file'><source path='log/console.log'/><target port='0'/></serial>"
    "<interface type='bridge'><mac address='%s'/><source bridge='br0'/>"
    "<model type='virtio'/></interface></devices></domain>";

static char *
write_domain(const char *dir, const char *mac)
{
    g_autofree char *xml = g_strdup_printf(define_xml, mac);
    char *path = g_build_filename(dir, "web1.xml", NULL);

    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    return path;
}

/* The XML sent has the relative paths anchored at the CLI's cwd. */
static void
test_define(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    /* what getcwd() gives in there, should $TMPDIR hold a symlink */
    g_autofree char *dir = realpath(fake_vnicd_dir(fake), NULL);
    g_autoptr(CliRun) run = NULL;
    g_autoptr(JsonObject) args = NULL;
    g_autofree char *kernel = g_strdup_printf("<kernel>%s/guest/vmlinuz</kernel>", dir);
    g_autofree char *disk = g_strdup_printf("<source file='%s/disk.img'/>", dir);
    g_autofree char *serial = g_strdup_printf("<source path='%s/log/console.log'/>", dir);
    const char *xml;

    g_free(write_domain(dir, "52:54:00:00:00:01"));
    fake_vnicd_script(fake, "define", "{\"return\": {\"name\": \"web1\", \"uuid\": \"u1\"}}",
                      NULL, NULL);
    run = cli_run(fake_vnicd_socket(fake), dir,
                  ARGS("define", "web1.xml", "--policy", "libvirt", "--spare-ports", "2"));
    cli_assert_status(run, 0);
    g_assert_cmpstr(run->out, ==, "Domain 'web1' defined from web1.xml\n");
    args = fake_vnicd_last_arguments(fake, "define");
    g_assert_cmpstr(json_object_get_string_member(args, "policy"), ==, "libvirt");
    g_assert_cmpint(json_object_get_int_member(args, "spare-ports"), ==, 2);
    xml = json_object_get_string_member(args, "xml");
    tc_assert_contains(xml, kernel);
    tc_assert_contains(xml, "<initrd>/boot/initrd.img</initrd>");
    tc_assert_contains(xml, disk);
    tc_assert_contains(xml, serial);
    tc_assert_contains(xml, "52:54:00:00:00:01");
}

/* A broken file fails before vnicd is asked, with the conf message. */
static void
test_define_invalid(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *dir = fake_vnicd_dir(fake);
    g_autofree char *file = write_domain(dir, "zz:54:00:00:00:01");
    g_autofree char *missing = g_build_filename(dir, "missing.xml", NULL);
    g_autoptr(CliRun) bad = cli_run_c(fake_vnicd_socket(fake), ARGS("define", file));
    g_autoptr(CliRun) gone = cli_run_c(fake_vnicd_socket(fake), ARGS("define", missing));
    g_autoptr(CliRun) json = NULL;

    cli_assert_error(bad, 1, "vnic define: InvalidXML: interface #1: invalid MAC address "
                             "'zz:54:00:00:00:01'");
    cli_assert_error(gone, 1, "vnic define: ");
    tc_assert_contains(gone->err, "missing.xml");
    g_assert_cmpuint(fake_vnicd_n_requests(fake), ==, 0);

    g_unlink(file);
    g_free(file);
    file = write_domain(dir, "52:54:00:00:00:01");
    fake_vnicd_script(fake, "define", "{\"error\": {\"class\": \"DomainExists\", "
                      "\"desc\": \"a domain named 'web1' exists\"}}", NULL, NULL);
    json = cli_run_c(fake_vnicd_socket(fake), ARGS("define", file, "--json"));
    cli_assert_error(json, 1, "vnic define: DomainExists: a domain named 'web1' exists\n");
}

void
test_cli_verbs_register(void)
{
    g_test_add_func("/cli/lifecycle", test_lifecycle);
    g_test_add_func("/cli/daemon-errors", test_daemon_errors);
    g_test_add_func("/cli/list", test_list);
    g_test_add_func("/cli/list-widths", test_list_widths);
    g_test_add_func("/cli/dumpxml", test_dumpxml);
    g_test_add_func("/cli/large-reply", test_large_reply);
    g_test_add_func("/cli/domiflist", test_domiflist);
    g_test_add_func("/cli/domiflist-state", test_domiflist_state);
    g_test_add_func("/cli/vncdisplay", test_vncdisplay);
    g_test_add_func("/cli/event-during-call", test_event_during_call);
    g_test_add_func("/cli/define", test_define);
    g_test_add_func("/cli/define-invalid", test_define_invalid);
}
