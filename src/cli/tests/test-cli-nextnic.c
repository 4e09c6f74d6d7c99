/* test-cli-nextnic.c: companion mode offline: `vnic next-nic` on libvirt's
 * live XML (tests/data/companion/pc-live.xml, a real `virsh dumpxml`) and
 * on planned q35 XML, through a file, stdin and a stand-in `virsh` for
 * --libvirt; acpi-index, --replug, the refusals; `vnic plan --for-libvirt`.
 * The real libvirt end to end is tests/e2e/test-companion.c. */
#include "test-cli.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static char *
pc_live_path(void)
{
    return g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "companion", "pc-live.xml", NULL);
}

static char *
pc_live_text(void)
{
    g_autofree char *path = pc_live_path();
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* A file in @tmp's directory (a fake vnicd's: removed with it). */
static char *
temp_file(FakeVnicd *tmp, const char *name, const char *text)
{
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(fake_vnicd_dir(tmp), name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, &error));
    return path;
}

/* vnic with @args, @input on stdin and @path_dir first in PATH (may be NULL). */
static CliRun *
run_stdin(const char *input, const char *path_dir, const char *const *args)
{
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    CliRun *run = g_new0(CliRun, 1);

    g_ptr_array_add(argv, (gpointer) g_getenv("VNIC_CLI"));
    for (guint i = 0; args[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer) args[i]);
    g_ptr_array_add(argv, NULL);
    g_subprocess_launcher_setenv(launcher, "LC_ALL", "C", TRUE);
    if (path_dir != NULL) {
        g_autofree char *path = g_strdup_printf("%s:%s", path_dir, g_getenv("PATH"));

        g_subprocess_launcher_setenv(launcher, "PATH", path, TRUE);
    }
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(proc, input != NULL ? input : "", NULL, &run->out, &run->err,
                                  &error);
    g_assert_no_error(error);
    run->status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
    return run;
}

static JsonObject *
parse_object(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;

    json_parser_load_from_data(parser, text, -1, &error);
    g_assert_no_error(error);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
    return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static const char *
preferred_name(JsonObject *o)
{
    return json_object_get_string_member(json_object_get_object_member(o, "names"), "preferred");
}

/* pc, libvirt's live XML: the slot right after the two boot NICs. */
static void
test_pc_live(void)
{
    g_autofree char *path = pc_live_path();
    g_autoptr(CliRun) run = cli_run(NULL, NULL, ARGS("next-nic", "--xml", path, "--type",
                                                     "ethernet", "--mac", "52:54:00:c5:00:05"));

    cli_assert_status(run, 0);
    g_assert_cmpstr(run->out, ==,
                    "<interface type='ethernet'>\n"
                    "  <mac address='52:54:00:c5:00:05'/>\n"
                    "  <model type='virtio'/>\n"
                    "  <address type='pci' domain='0x0000' bus='0x00' slot='0x05' "
                    "function='0x0'/>\n"
                    "</interface>\n");
    g_assert_cmpstr(run->err, ==, "vnic next-nic: guest name ens5 at 0000:00:05.0\n");
}

static void
test_pc_json_stdin(void)
{
    g_autofree char *text = pc_live_text();
    g_autoptr(CliRun) run = run_stdin(text, NULL, ARGS("next-nic", "--xml", "-", "--type",
                                                       "bridge", "--source", "br0", "--json"));
    g_autoptr(JsonObject) o = NULL;

    cli_assert_status(run, 0);
    g_assert_cmpstr(run->err, ==, "");
    o = parse_object(run->out);
    g_assert_cmpstr(json_object_get_string_member(o, "address"), ==, "0000:00:05.0");
    g_assert_cmpint(json_object_get_int_member(o, "guest-bus"), ==, 0);
    g_assert_cmpstr(preferred_name(o), ==, "ens5");
    g_assert_false(json_object_has_member(o, "acpi-index"));
    g_assert_false(json_object_has_member(o, "mac"));
    tc_assert_contains(json_object_get_string_member(o, "xml"), "<source bridge='br0'/>");
}

/* q35 planned by `vnic plan`: the next NIC takes the first spare root port. */
static void
test_q35_planned(void)
{
    g_autoptr(FakeVnicd) tmp = fake_vnicd_new();
    g_autofree char *example = g_build_filename(VNIC_SOURCE_DIR, "examples", "q35.xml", NULL);
    g_autoptr(CliRun) plan = cli_run(NULL, NULL, ARGS("plan", example));
    g_autofree char *planned = NULL;
    g_autoptr(CliRun) run = NULL;
    g_autoptr(CliRun) full = NULL;
    g_autofree char *full_path = NULL;

    cli_assert_status(plan, 0);
    planned = temp_file(tmp, "q35.xml", plan->out);
    run = cli_run(NULL, NULL, ARGS("next-nic", "--xml", planned, "--type", "ethernet"));
    cli_assert_status(run, 0);
    tc_assert_contains(run->out, "bus='0x03' slot='0x00' function='0x0'");
    g_assert_cmpstr(run->err, ==, "vnic next-nic: guest name enp3s0 at 0000:03:00.0\n");

    /* no spare port: exit 1, the pci layer's reason */
    g_clear_pointer(&plan, cli_run_free);
    plan = cli_run(NULL, NULL, ARGS("plan", example, "--spare-ports", "0"));
    cli_assert_status(plan, 0);
    full_path = temp_file(tmp, "q35-full.xml", plan->out);
    full = cli_run(NULL, NULL, ARGS("next-nic", "--xml", full_path, "--type", "ethernet"));
    cli_assert_error(full, 1, "vnic next-nic: domain 'q35' has no free pcie-root-port");
}

/* Boot NICs with acpi indexes: the next one gets the next index. */
static void
test_acpi_index(void)
{
    g_autoptr(FakeVnicd) tmp = fake_vnicd_new();
    g_autofree char *text = pc_live_text();
    g_autoptr(GString) s = g_string_new(text);
    g_autofree char *path = NULL;
    g_autoptr(CliRun) next = NULL;
    g_autoptr(CliRun) off = NULL;
    g_autoptr(CliRun) taken = NULL;
    g_autoptr(CliRun) given = NULL;
    g_autoptr(JsonObject) o = NULL;

    g_string_replace(s, "<alias name='net0'/>", "<acpi index='1'/><alias name='net0'/>", 1);
    g_string_replace(s, "<alias name='net1'/>", "<acpi index='2'/><alias name='net1'/>", 1);
    path = temp_file(tmp, "pc-acpi.xml", s->str);
    next = cli_run(NULL, NULL, ARGS("next-nic", "--xml", path, "--type", "ethernet", "--json"));
    cli_assert_status(next, 0);
    o = parse_object(next->out);
    g_assert_cmpint(json_object_get_int_member(o, "acpi-index"), ==, 3);
    g_assert_cmpstr(preferred_name(o), ==, "eno3");
    tc_assert_contains(json_object_get_string_member(o, "xml"), "<acpi index='3'/>");

    off = cli_run(NULL, NULL, ARGS("next-nic", "--xml", path, "--type", "ethernet",
                                   "--acpi-index", "off"));
    cli_assert_status(off, 0);
    g_assert_null(strstr(off->out, "<acpi"));
    g_assert_cmpstr(off->err, ==, "vnic next-nic: guest name ens5 at 0000:00:05.0\n");

    taken = cli_run(NULL, NULL, ARGS("next-nic", "--xml", path, "--type", "ethernet",
                                     "--acpi-index", "2"));
    cli_assert_error(taken, 1, "vnic next-nic: --acpi-index 2 is already used by interface");

    /* a domain without indexes gets one only when asked */
    g_clear_pointer(&path, g_free);
    path = pc_live_path();
    given = cli_run(NULL, NULL, ARGS("next-nic", "--xml", path, "--type", "ethernet",
                                     "--acpi-index", "7"));
    cli_assert_status(given, 0);
    tc_assert_contains(given->out, "<acpi index='7'/>");
    g_assert_cmpstr(given->err, ==, "vnic next-nic: guest name eno7 at 0000:00:05.0\n");
}

/* An old <interface> as libvirt printed it live: its slot, its MAC, no
 * alias, no vnetN. */
static void
test_replug_file(void)
{
    g_autoptr(FakeVnicd) tmp = fake_vnicd_new();
    g_autofree char *live = pc_live_path();
    g_autofree char *old = temp_file(tmp, "old.xml",
                                     "<interface type='ethernet'>\n"
                                     "  <mac address='52:54:00:c5:00:07'/>\n"
                                     "  <target dev='vnet5'/>\n"
                                     "  <model type='virtio'/>\n"
                                     "  <alias name='net0'/>\n"
                                     "  <address type='pci' domain='0x0000' bus='0x00' "
                                     "slot='0x07' function='0x0'/>\n"
                                     "</interface>\n");
    g_autofree char *taken = temp_file(tmp, "taken.xml",
                                       "<interface type='ethernet'>\n"
                                       "  <mac address='52:54:00:c5:00:08'/>\n"
                                       "  <address type='pci' domain='0x0000' bus='0x00' "
                                       "slot='0x11' function='0x0'/>\n"
                                       "</interface>\n");
    g_autoptr(CliRun) run = cli_run(NULL, NULL, ARGS("next-nic", "--xml", live, "--replug", old));
    g_autoptr(CliRun) moved = cli_run(NULL, NULL, ARGS("next-nic", "--xml", live, "--replug",
                                                       taken, "--json"));
    g_autoptr(JsonObject) o = NULL;
    JsonObject *replug;

    cli_assert_status(run, 0);
    g_assert_cmpstr(run->out, ==,
                    "<interface type='ethernet'>\n"
                    "  <mac address='52:54:00:c5:00:07'/>\n"
                    "  <model type='virtio'/>\n"
                    "  <address type='pci' domain='0x0000' bus='0x00' slot='0x07' "
                    "function='0x0'/>\n"
                    "</interface>\n");
    g_assert_cmpstr(run->err, ==, "vnic next-nic: guest name ens7 at 0000:00:07.0\n");

    /* its old slot holds the disk now: the next free one, and why */
    cli_assert_status(moved, 0);
    o = parse_object(moved->out);
    g_assert_cmpstr(json_object_get_string_member(o, "address"), ==, "0000:00:05.0");
    replug = json_object_get_object_member(o, "replug");
    g_assert_cmpstr(json_object_get_string_member(replug, "old-address"), ==, "0000:00:11.0");
    g_assert_false(json_object_get_boolean_member(replug, "honoured"));
    tc_assert_contains(json_object_get_string_member(replug, "reason"), "in use by disk");
}

static void
test_replug_mac(void)
{
    g_autofree char *live = pc_live_path();
    g_autoptr(CliRun) run = cli_run(NULL, NULL, ARGS("next-nic", "--xml", live, "--replug",
                                                     "52:54:00:C5:00:09", "--address",
                                                     "00:08.0", "--type", "bridge", "--source",
                                                     "br0"));
    g_autoptr(CliRun) attached = cli_run(NULL, NULL, ARGS("next-nic", "--xml", live, "--replug",
                                                          "52:54:00:c5:00:02", "--address",
                                                          "00:08.0", "--type", "ethernet"));
    g_autoptr(CliRun) nowhere = cli_run(NULL, NULL, ARGS("next-nic", "--xml", live, "--replug",
                                                         "52:54:00:c5:00:09", "--type",
                                                         "ethernet"));

    cli_assert_status(run, 0);
    tc_assert_contains(run->out, "<mac address='52:54:00:c5:00:09'/>");
    tc_assert_contains(run->out, "slot='0x08'");
    g_assert_cmpstr(run->err, ==, "vnic next-nic: guest name ens8 at 0000:00:08.0\n");
    cli_assert_error(attached, 1,
                     "vnic next-nic: the NIC with MAC 52:54:00:c5:00:02 is still attached at "
                     "0000:00:04.0");
    cli_assert_error(nowhere, 2, "vnic next-nic: --replug 52:54:00:c5:00:09: where was it?");
}

/* An XML never given to libvirt is placed as libvirt places it: the same
 * next NIC as for what libvirt 9.0 made of it (tests/data/agents). */
static void
test_undefined_xml(void)
{
    static const char *const names[] = { "cloudstack-user-q35-uefi", "cloudstack-user-pc",
                                         "virt-install-q35", "nova-ovs-pc" };

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *base = g_strdup_printf("%s.xml", names[i]);
        g_autofree char *defined = g_strdup_printf("%s.libvirt.xml", names[i]);
        g_autofree char *a = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "agents", base,
                                              NULL);
        g_autofree char *b = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "agents",
                                              defined, NULL);
        g_autoptr(CliRun) ra = cli_run(NULL, NULL, ARGS("next-nic", "--xml", a, "--type",
                                                        "ethernet"));
        g_autoptr(CliRun) rb = cli_run(NULL, NULL, ARGS("next-nic", "--xml", b, "--type",
                                                        "ethernet"));

        cli_assert_status(ra, 0);
        cli_assert_status(rb, 0);
        g_assert_cmpstr(ra->out, ==, rb->out);
        g_assert_cmpstr(ra->err, ==, rb->err);
        g_test_message("%s: %s", names[i], ra->err);
    }
}

/* --libvirt runs virsh: a stand-in prints the XML and records its
 * arguments; virsh's failure is passed on. */
static void
test_libvirt_virsh(void)
{
    g_autoptr(FakeVnicd) tmp = fake_vnicd_new();
    g_autofree char *live = pc_live_path();
    g_autofree char *script = g_strdup_printf("#!/bin/sh\n"
                                              "echo \"$@\" >> \"$(dirname \"$0\")/args\"\n"
                                              "case \"$*\" in *nosuch*) echo \"error: failed "
                                              "to get domain 'nosuch'\" >&2; exit 1;; esac\n"
                                              "cat '%s'\n", live);
    g_autofree char *virsh = temp_file(tmp, "virsh", script);
    g_autofree char *dir = g_path_get_dirname(virsh);
    g_autofree char *args_path = g_build_filename(dir, "args", NULL);
    g_autofree char *args = NULL;
    g_autoptr(CliRun) run = NULL;
    g_autoptr(CliRun) missing = NULL;

    g_assert_cmpint(g_chmod(virsh, 0755), ==, 0);
    run = run_stdin(NULL, dir, ARGS("next-nic", "--libvirt", "web1", "--connect",
                                    "qemu+unix:///system?socket=/x", "--type", "ethernet"));
    cli_assert_status(run, 0);
    tc_assert_contains(run->out, "slot='0x05'");
    g_assert_true(g_file_get_contents(args_path, &args, NULL, NULL));
    g_assert_cmpstr(args, ==, "-c qemu+unix:///system?socket=/x dumpxml -- web1\n");

    missing = run_stdin(NULL, dir, ARGS("next-nic", "--libvirt", "nosuch", "--type", "ethernet"));
    cli_assert_error(missing, 1, "vnic next-nic: virsh dumpxml nosuch failed: error: failed to "
                                 "get domain 'nosuch'");
}

static void
test_refusals(void)
{
    g_autoptr(FakeVnicd) tmp = fake_vnicd_new();
    g_autofree char *live = pc_live_path();
    g_autofree char *broken = temp_file(tmp, "broken.xml", "<domain type='qemu'><name>x</name>");
    const struct {
        const char *const *args;
        int status;
        const char *prefix;
    } cases[] = {
        { ARGS("next-nic", "--type", "ethernet"), 2, "vnic next-nic: expected one of --xml" },
        { ARGS("next-nic", "--xml", live, "--libvirt", "x", "--type", "ethernet"), 2,
          "vnic next-nic: expected one of --xml" },
        { ARGS("next-nic", "--xml", live), 2, "vnic next-nic: expected --type" },
        { ARGS("next-nic", "--xml", live, "--type", "bridge"), 2,
          "vnic next-nic: --type bridge needs --source" },
        { ARGS("next-nic", "--xml", live, "--type", "tap"), 2, "vnic next-nic: invalid --type" },
        { ARGS("next-nic", "--xml", live, "--type", "ethernet", "--address", "00:05.0"), 2,
          "vnic next-nic: --address is the old slot" },
        { ARGS("next-nic", "--xml", live, "--type", "ethernet", "--acpi-index", "0"), 2,
          "vnic next-nic: invalid --acpi-index '0'" },
        { ARGS("next-nic", "--xml", live, "--type", "ethernet", "--mac", "nope"), 2,
          "vnic next-nic: invalid --mac 'nope'" },
        { ARGS("next-nic", "--xml", live, "--type", "ethernet", "--mac", "01:00:5e:00:00:01"),
          2, "vnic next-nic: --mac '01:00:5e:00:00:01' is a multicast address" },
        { ARGS("next-nic", "--xml", "-", "--interface", "-"), 2,
          "vnic next-nic: only one of --xml, --interface and --replug can read stdin" },
        { ARGS("next-nic", "--xml", live, "--connect", "qemu:///system", "--type", "ethernet"),
          2, "vnic next-nic: --connect is virsh's URI" },
        { ARGS("next-nic", "--xml", live, "--replug", "old.xml", "--type", "ethernet"), 2,
          "vnic next-nic: --replug FILE brings back the NIC in FILE as it was" },
        { ARGS("next-nic", "--xml", broken, "--type", "ethernet"), 1,
          "vnic next-nic: domain XML " },
        { ARGS("next-nic", "--xml", "/nonexistent.xml", "--type", "ethernet"), 1,
          "vnic next-nic: Failed to open file" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(CliRun) run = cli_run(NULL, NULL, cases[i].args);

        cli_assert_error(run, cases[i].status, cases[i].prefix);
    }
}

/* --interface: a template (as CloudStack's PlugNic builds one) completed. */
static void
test_interface_template(void)
{
    g_autoptr(FakeVnicd) tmp = fake_vnicd_new();
    g_autofree char *live = pc_live_path();
    g_autofree char *nic = temp_file(tmp, "nic.xml",
                                     "<interface type='bridge'>\n"
                                     "  <mac address='52:54:00:c5:00:0a'/>\n"
                                     "  <source bridge='cloudbr0'/>\n"
                                     "  <bandwidth><inbound average='25600'/></bandwidth>\n"
                                     "  <model type='virtio'/>\n"
                                     "  <rom bar='off'/>\n"
                                     "</interface>\n");
    g_autoptr(CliRun) run = cli_run(NULL, NULL, ARGS("next-nic", "--xml", live, "--interface",
                                                     nic));

    cli_assert_status(run, 0);
    tc_assert_contains(run->out, "<source bridge='cloudbr0'/>");
    tc_assert_contains(run->out, "<inbound average='25600'/>");
    tc_assert_contains(run->out, "<rom bar='off'/>");
    tc_assert_contains(run->out, "slot='0x05'");
    g_assert_cmpstr(run->err, ==, "vnic next-nic: guest name ens5 at 0000:00:05.0\n");

    /* one line, from stdin: what CloudStack's runSimpleBashScript reads */
    {
        g_autofree char *text = NULL;
        g_autoptr(CliRun) flat = NULL;

        g_assert_true(g_file_get_contents(nic, &text, NULL, NULL));
        flat = run_stdin(text, NULL, ARGS("next-nic", "--xml", live, "--interface", "-",
                                          "--oneline"));
        cli_assert_status(flat, 0);
        g_assert_cmpstr(flat->out, ==,
                        "<interface type='bridge'><mac address='52:54:00:c5:00:0a'/>"
                        "<source bridge='cloudbr0'/><bandwidth><inbound average='25600'/>"
                        "</bandwidth><model type='virtio'/><rom bar='off'/>"
                        "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' "
                        "function='0x0'/></interface>\n");
    }
}

/* plan --for-libvirt: vnic's elements gone, the layout they made kept. */
static void
test_plan_for_libvirt(void)
{
    g_autoptr(FakeVnicd) tmp = fake_vnicd_new();
    g_autofree char *example = g_build_filename(VNIC_SOURCE_DIR, "examples", "q35.xml", NULL);
    g_autofree char *text = NULL;
    g_autoptr(GString) s = NULL;
    g_autofree char *path = NULL;
    g_autoptr(CliRun) plain = NULL;
    g_autoptr(CliRun) lv = NULL;
    g_autoptr(CliRun) untouched = NULL;
    g_autoptr(CliRun) untouched_lv = NULL;
    g_autoptr(GString) expect = NULL;

    g_assert_true(g_file_get_contents(example, &text, NULL, NULL));
    s = g_string_new(text);
    g_string_replace(s, "<domain type='qemu'>",
                     "<domain type='qemu' xmlns:vnic='urn:x-vnic:domain:1'>", 1);
    g_string_replace(s, "</devices>",
                     "</devices><vnic:hotplug spare-ports='2' acpi-index='auto'/>"
                     "<vnic:reconnect mode='hub'/>", 1);
    g_string_replace(s, "<model type='virtio'/>\n    </interface>",
                     "<model type='virtio'/><vnic:unplug guest='deny'/>\n    </interface>", 1);
    path = temp_file(tmp, "q35-vnic.xml", s->str);
    plain = cli_run(NULL, NULL, ARGS("plan", path));
    lv = cli_run(NULL, NULL, ARGS("plan", "--for-libvirt", path));
    cli_assert_status(plain, 0);
    cli_assert_status(lv, 0);
    tc_assert_contains(plain->out, "vnic:");
    g_assert_null(strstr(lv->out, "vnic"));
    tc_assert_contains(lv->err, "vnic plan: note: vnic's own elements left out for libvirt");
    /* the rest is the same, line for line */
    expect = g_string_new(plain->out);
    g_string_replace(expect, " xmlns:vnic='urn:x-vnic:domain:1'", "", 0);
    g_string_replace(expect, "      <vnic:unplug guest='deny'/>\n", "", 0);
    g_string_replace(expect, "  <vnic:hotplug spare-ports='2' acpi-index='auto'/>\n", "", 0);
    g_string_replace(expect, "  <vnic:reconnect mode='hub'/>\n", "", 0);
    g_assert_cmpstr(lv->out, ==, expect->str);
    tc_assert_contains(lv->out, "<acpi index='2'/>");

    /* nothing of vnic's: the same output, no note */
    untouched = cli_run(NULL, NULL, ARGS("plan", example));
    untouched_lv = cli_run(NULL, NULL, ARGS("plan", "--for-libvirt", example));
    cli_assert_status(untouched_lv, 0);
    g_assert_cmpstr(untouched->out, ==, untouched_lv->out);
    g_assert_cmpstr(untouched_lv->err, ==, "");
}

void
test_cli_nextnic_register(void)
{
    g_test_add_func("/cli/next-nic/pc-live", test_pc_live);
    g_test_add_func("/cli/next-nic/pc-json-stdin", test_pc_json_stdin);
    g_test_add_func("/cli/next-nic/q35-planned", test_q35_planned);
    g_test_add_func("/cli/next-nic/acpi-index", test_acpi_index);
    g_test_add_func("/cli/next-nic/replug-file", test_replug_file);
    g_test_add_func("/cli/next-nic/replug-mac", test_replug_mac);
    g_test_add_func("/cli/next-nic/undefined-xml", test_undefined_xml);
    g_test_add_func("/cli/next-nic/libvirt-virsh", test_libvirt_virsh);
    g_test_add_func("/cli/next-nic/interface-template", test_interface_template);
    g_test_add_func("/cli/next-nic/refusals", test_refusals);
    g_test_add_func("/cli/plan/for-libvirt", test_plan_for_libvirt);
}
