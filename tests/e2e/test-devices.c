/* test-devices.c: libvirt's wider device format on a real guest
 * (meson test 'e2e-devices').
 *
 * examples/q35-switch.xml, defined with the libvirt policy: its NICs sit on
 * the downstream ports of a PCIe switch, it has an empty SATA cdrom (the
 * way CloudStack writes an empty ISO slot) and its balloon in a second
 * <devices> block.  One vnicd, one guest:
 *
 *   start        vnic define FILE --policy libvirt, vnic start NAME, the
 *                guest boots (so QEMU took the switch and the empty drive)
 *   placement    `vnic pci NAME --json` has both NICs behind the switch
 *                (buses 3 and 4, the downstream ports)
 *   guest-names  udev's net_id names in the guest are what vnic predicted
 *                (enp3s0, enp4s0: the switch's buses, numbered depth-first)
 *   dumpxml      one <devices> with the balloon, the cdrom still without a
 *                medium
 *   expanders    a pc guest with a NIC on a pci-expander-bus (busNr 254)
 *                and a q35 guest with one behind a root port on a
 *                pcie-expander-bus (busNr 200): the guest names them as
 *                vnic predicts (enp255s0: behind QEMU's own pxb bridge;
 *                enp201s0)
 *   switch-hotplug  nic-first on a switch with three downstream ports and
 *                two NICs: a NIC hot-plugged with attach-interface lands on
 *                the third downstream port and the guest names it enp5s0,
 *                as predicted
 */
#include <string.h>

#include "e2e.h"

static struct {
    E2eDaemon *daemon;
    E2eDomainXml *xml;
    E2eConsole *console;
    gboolean booted;
} S;

#define NEED(cond, what)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_test_skip("needs " what ", which failed");                  \
            return;                                                       \
        }                                                                 \
    } while (0)

static JsonArray *
devices_of(JsonNode *pci)
{
    JsonNode *m = pci != NULL && JSON_NODE_HOLDS_OBJECT(pci)
                      ? json_object_get_member(json_node_get_object(pci), "devices")
                      : NULL;
    return m != NULL && JSON_NODE_HOLDS_ARRAY(m) ? json_node_get_array(m) : NULL;
}

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;

    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
    S.xml = e2e_xml_prepare("examples/q35-switch.xml", NULL, &error);
    E2E_CHECK_NO_ERROR(error, "examples/q35-switch.xml");
    {
        g_autoptr(E2eCmdResult) r =
            e2e_daemon_vnic(S.daemon, "define", S.xml->xml_path, "--policy", "libvirt", NULL);
        g_autofree char *desc = e2e_cmd_result_describe(r);
        E2E_CHECK(r->status == 0, "%s", desc);
    }
    {
        g_autoptr(E2eCmd) cmd = e2e_daemon_vnic_spawn(S.daemon, "start", S.xml->name, NULL);
        gint64 deadline = e2e_deadline(90);
        g_autoptr(E2eCmdResult) r = NULL;
        g_autofree char *desc = NULL;

        /* connect as soon as QEMU made the console: it drops what nobody reads */
        while (S.console == NULL && e2e_ms_left(deadline) > 0 && !e2e_cmd_done(cmd)) {
            if (g_file_test(S.xml->serial_path, G_FILE_TEST_EXISTS))
                S.console = e2e_console_connect(S.xml->serial_path, 2, NULL);
            else
                g_usleep(10 * 1000);
        }
        r = e2e_cmd_finish(g_steal_pointer(&cmd), 90);
        desc = e2e_cmd_result_describe(r);
        E2E_CHECK(r->status == 0, "%s", desc);
    }
    if (S.console == NULL)
        S.console = e2e_console_connect(S.xml->serial_path, 5, &error);
    E2E_CHECK_NO_ERROR(error, "the guest's console");
    E2E_CHECK(e2e_console_wait_ready(S.console, 90, &error), "%s", error->message);
    S.booted = TRUE;
}

static void
test_placement(void)
{
    NEED(S.booted, "/e2e/devices/start");
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) pci = e2e_daemon_vnic_json(S.daemon, &error, "pci", S.xml->name, "--json", NULL);
    E2E_CHECK_NO_ERROR(error, "vnic pci --json");
    JsonArray *devices = devices_of(pci);
    E2E_CHECK(devices != NULL, "vnic pci --json: no devices array");
    static const char *const want[][2] = { { "52:54:00:5c:00:01", "0000:03:00.0" },
                                           { "52:54:00:5c:00:02", "0000:04:00.0" } };
    guint found = 0;

    for (guint i = 0; i < json_array_get_length(devices); i++) {
        JsonObject *dev = e2e_json_array_object(devices, i);
        const char *mac = e2e_json_get_string(dev, "mac");

        for (gsize k = 0; mac != NULL && k < G_N_ELEMENTS(want); k++) {
            if (g_ascii_strcasecmp(mac, want[k][0]) != 0)
                continue;
            E2E_CHECK(g_strcmp0(e2e_json_get_string(dev, "address"), want[k][1]) == 0,
                      "NIC %s at %s, libvirt's plan puts it at %s (a downstream port)", mac,
                      e2e_json_get_string(dev, "address"), want[k][1]);
            found++;
        }
    }
    E2E_CHECK(found == 2, "vnic pci lists %u of the 2 NICs", found);
}

static void
test_guest_names(void)
{
    NEED(S.booted, "/e2e/devices/start");
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) pci = e2e_daemon_vnic_json(S.daemon, &error, "pci", S.xml->name, "--json", NULL);
    E2E_CHECK_NO_ERROR(error, "vnic pci --json");
    JsonArray *devices = devices_of(pci);
    E2E_CHECK(devices != NULL, "vnic pci --json: no devices array");
    g_autoptr(GPtrArray) nics = e2e_guest_nics(S.console, &error);
    E2E_CHECK_NO_ERROR(error, "listing the guest's NICs");
    guint predicted = 0;

    for (guint i = 0; i < json_array_get_length(devices); i++) {
        JsonObject *dev = e2e_json_array_object(devices, i);
        const char *mac = e2e_json_get_string(dev, "mac");
        JsonNode *names_node = dev != NULL ? json_object_get_member(dev, "names") : NULL;
        if (mac == NULL || names_node == NULL || !JSON_NODE_HOLDS_OBJECT(names_node))
            continue;
        JsonObject *names = json_node_get_object(names_node);
        const E2eGuestNic *nic = e2e_guest_nics_find_mac(nics, mac);
        const char *path = e2e_json_get_string(names, "path");

        predicted++;
        E2E_CHECK(nic != NULL, "NIC %s is not in the guest", mac);
        E2E_CHECK(g_strcmp0(path, nic->path) == 0, "NIC %s: vnic predicts %s, the guest's %s is %s",
                  mac, path, nic->ifname, nic->path ? nic->path : "(none)");
        E2E_CHECK(g_strcmp0(e2e_json_get_string(names, "preferred"), e2e_guest_nic_preferred(nic)) == 0,
                  "NIC %s: vnic predicts %s, udev names it %s", mac,
                  e2e_json_get_string(names, "preferred"), e2e_guest_nic_preferred(nic));
        g_test_message("NIC %s -> guest %s %s", mac, nic->ifname, nic->path);
    }
    E2E_CHECK(predicted == 2 && nics->len == 2, "vnic pci: %u NICs, the guest: %u", predicted,
              nics->len);
}

static void
test_dumpxml(void)
{
    NEED(S.booted, "/e2e/devices/start");
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "dumpxml", S.xml->name, "--inactive", NULL);
    g_autofree char *desc = e2e_cmd_result_describe(r);
    E2E_CHECK(r->status == 0, "%s", desc);
    const char *out = r->out;
    const char *devices = strstr(out, "<devices>");
    E2E_CHECK(devices != NULL && strstr(devices + 1, "<devices>") == NULL,
              "dumpxml should have one <devices>:\n%s", out);
    E2E_CHECK(strstr(devices, "<memballoon model='virtio'>") != NULL, "no balloon:\n%s", out);
    E2E_CHECK(strstr(out, "<target dev='sdc' bus='sata'/>") != NULL, "no cdrom:\n%s", out);
}

/* Waits up to 30 s for a NIC with @mac in the guest. */
static gboolean
wait_guest_mac(E2eConsole *console, const char *mac, GError **error)
{
    g_autofree char *cmd = g_strdup_printf(
        "(for i in $(seq 60); do cat /sys/class/net/*/address | grep -qix '%s' && exit 0; "
        "sleep 0.5; done; exit 1)", mac);
    int status = -1;

    if (!e2e_console_run(console, cmd, 40, NULL, &status, error))
        return FALSE;
    if (status != 0)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no NIC %s in the guest", mac);
    return status == 0;
}

/* Boots @xml_text (a domain with the guest's kernel); with @hotplug_mac,
 * hot-plugs a virtio NIC with that MAC (vnic attach-interface --live) and
 * waits for the guest to see it; then checks the names vnic predicts for
 * every NIC against the guest's, and destroys the domain. */
static void
check_expander_guest(const char *tag, const char *xml_text, const char *hotplug_mac)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = e2e_tmp_dir(tag);
    g_autofree char *path = g_build_filename(dir, "in.xml", NULL);
    g_autoptr(E2eDomainXml) xml = NULL;
    g_autoptr(E2eConsole) console = NULL;

    E2E_CHECK(g_file_set_contents(path, xml_text, -1, &error), "%s", error->message);
    xml = e2e_xml_prepare(path, tag, &error);
    E2E_CHECK_NO_ERROR(error, path);
    {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "define", xml->xml_path, NULL);
        g_autofree char *desc = e2e_cmd_result_describe(r);
        E2E_CHECK(r->status == 0, "%s", desc);
    }
    {
        g_autoptr(E2eCmd) cmd = e2e_daemon_vnic_spawn(S.daemon, "start", xml->name, NULL);
        gint64 deadline = e2e_deadline(90);
        g_autoptr(E2eCmdResult) r = NULL;
        g_autofree char *desc = NULL;

        while (console == NULL && e2e_ms_left(deadline) > 0 && !e2e_cmd_done(cmd)) {
            if (g_file_test(xml->serial_path, G_FILE_TEST_EXISTS))
                console = e2e_console_connect(xml->serial_path, 2, NULL);
            else
                g_usleep(10 * 1000);
        }
        r = e2e_cmd_finish(g_steal_pointer(&cmd), 90);
        desc = e2e_cmd_result_describe(r);
        E2E_CHECK(r->status == 0, "%s", desc);
    }
    if (console == NULL)
        console = e2e_console_connect(xml->serial_path, 5, &error);
    E2E_CHECK_NO_ERROR(error, "the guest's console");
    E2E_CHECK(e2e_console_wait_ready(console, 90, &error), "%s: %s", tag, error->message);

    if (hotplug_mac != NULL) {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "attach-interface", xml->name,
                                                     "--type", "ethernet", "--model", "virtio",
                                                     "--mac", hotplug_mac, "--live", NULL);
        g_autofree char *desc = e2e_cmd_result_describe(r);
        E2E_CHECK(r->status == 0, "%s", desc);
        g_test_message("%s: %s", tag, r->out);
        E2E_CHECK(wait_guest_mac(console, hotplug_mac, &error), "%s: %s", tag, error->message);
    }
    g_autoptr(JsonNode) pci = e2e_daemon_vnic_json(S.daemon, &error, "pci", xml->name, "--json", NULL);
    E2E_CHECK_NO_ERROR(error, "vnic pci --json");
    JsonArray *devices = devices_of(pci);
    g_autoptr(GPtrArray) nics = e2e_guest_nics(console, &error);
    E2E_CHECK_NO_ERROR(error, "listing the guest's NICs");
    guint checked = 0;

    for (guint i = 0; devices != NULL && i < json_array_get_length(devices); i++) {
        JsonObject *dev = e2e_json_array_object(devices, i);
        const char *mac = e2e_json_get_string(dev, "mac");
        JsonNode *names_node = dev != NULL ? json_object_get_member(dev, "names") : NULL;
        if (mac == NULL || names_node == NULL || !JSON_NODE_HOLDS_OBJECT(names_node))
            continue;
        const char *path_name = e2e_json_get_string(json_node_get_object(names_node), "path");
        const E2eGuestNic *nic = e2e_guest_nics_find_mac(nics, mac);

        E2E_CHECK(nic != NULL, "%s: NIC %s is not in the guest", tag, mac);
        E2E_CHECK(g_strcmp0(path_name, nic->path) == 0, "%s: NIC %s at %s: vnic predicts %s, the guest has %s",
                  tag, mac, e2e_json_get_string(dev, "address"), path_name,
                  nic->path ? nic->path : "(none)");
        g_test_message("%s: NIC %s at %s -> guest %s", tag, mac, e2e_json_get_string(dev, "address"),
                       nic->path);
        checked++;
    }
    E2E_CHECK(checked == nics->len && checked > 0, "%s: vnic pci: %u NICs, the guest: %u", tag, checked,
              nics->len);
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "destroy", xml->name, NULL);
    E2E_CHECK(r->status == 0, "destroy %s", xml->name);
}

#define EXPANDER_DOMAIN(machine, devices)                                                          \
    "<domain type='qemu'><name>x</name><memory unit='MiB'>256</memory><os>"                    \
    "<type arch='x86_64' machine='" machine "'>hvm</type><kernel>build/guest/vmlinuz</kernel>" \
    "<initrd>build/guest/initrd.img</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline>"   \
    "</os><features><acpi/></features><devices><serial type='pty'/>" devices                  \
    "<memballoon model='none'/></devices></domain>"

static void
test_expanders(void)
{
    NEED(S.daemon != NULL, "/e2e/devices/start");
    check_expander_guest("pxb", EXPANDER_DOMAIN("pc",
        "<controller type='pci' index='1' model='pci-expander-bus'/>"
        "<interface type='ethernet'><mac address='52:54:00:5c:01:01'/><model type='virtio'/>"
        "<address type='pci' bus='1' slot='0'/></interface>"
        "<interface type='ethernet'><mac address='52:54:00:5c:01:02'/><model type='virtio'/>"
        "</interface>"), NULL);
    if (g_test_failed())
        return;
    check_expander_guest("pxb-pcie", EXPANDER_DOMAIN("q35",
        "<controller type='pci' index='1' model='pcie-expander-bus'><target busNr='200'/>"
        "</controller><controller type='pci' index='2' model='pcie-root-port'>"
        "<address type='pci' bus='1' slot='0'/></controller>"
        "<interface type='ethernet'><mac address='52:54:00:5c:02:01'/><model type='virtio'/>"
        "<address type='pci' bus='2' slot='0'/></interface>"), NULL);
}

/* nic-first on a switch with a spare downstream port: the boot NICs take the
 * first two, a hot-plugged NIC the third, named in sequence (enp5s0). */
static void
test_switch_hotplug(void)
{
    NEED(S.daemon != NULL, "/e2e/devices/start");
    check_expander_guest("switch-hotplug", EXPANDER_DOMAIN("q35",
        "<controller type='pci' index='1' model='pcie-root-port'/>"
        "<controller type='pci' index='2' model='pcie-switch-upstream-port'/>"
        "<controller type='pci' index='3' model='pcie-switch-downstream-port'/>"
        "<controller type='pci' index='4' model='pcie-switch-downstream-port'/>"
        "<controller type='pci' index='5' model='pcie-switch-downstream-port'/>"
        "<interface type='ethernet'><mac address='52:54:00:5c:03:01'/><model type='virtio'/>"
        "</interface><interface type='ethernet'><mac address='52:54:00:5c:03:02'/>"
        "<model type='virtio'/></interface>"), "52:54:00:5c:03:03");
}

static void
print_diagnostics(void)
{
    if (S.daemon != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 80);
        g_printerr("--- %s (last lines)\n%s\n", e2e_daemon_log_path(S.daemon), log);
    }
    if (S.console != NULL) {
        g_autofree char *t = e2e_console_transcript(S.console, 1500);
        g_printerr("--- console (last bytes)\n%s\n", t);
    }
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/devices/start", test_start);
    g_test_add_func("/e2e/devices/placement", test_placement);
    g_test_add_func("/e2e/devices/guest-names", test_guest_names);
    g_test_add_func("/e2e/devices/dumpxml", test_dumpxml);
    g_test_add_func("/e2e/devices/expanders", test_expanders);
    g_test_add_func("/e2e/devices/switch-hotplug", test_switch_hotplug);
    int rc = e2e_finish();
    if (rc != 0)
        print_diagnostics();
    return rc;
}
