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
    int rc = e2e_finish();
    if (rc != 0)
        print_diagnostics();
    return rc;
}
