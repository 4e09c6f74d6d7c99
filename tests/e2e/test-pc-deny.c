/* test-pc-deny.c: per-NIC guest='deny' on pc in a real guest (meson test
 * 'e2e-pc-deny'; issue #10, "Seed 002, pc too"; docs/pci.md).
 *
 * One vnicd, one guest: a test copy of examples/cloudstack-pc.xml whose
 * second NIC has <vnic:unplug guest='deny'/>.
 *   start      define and start it; it boots
 *   placement  `vnic pci --json`: the deny NIC is behind a pci-bridge
 *              (bus 01), the other NIC on pci.0; the command line has the
 *              bridge with shpc=off and
 *              PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off
 *   no-slot    the guest's /sys/bus/pci/slots has no slot on bus 01 (nothing
 *              to eject the deny NIC with) and one at the first NIC's slot
 *   refusals   detach-interface of the deny NIC: PlacementError, "forbidden";
 *              the guest keeps it
 *   root-hotplug  attach-interface: the new NIC lands on pci.0 (ensN), the
 *              guest sees it; the guest powers its slot off: vnicd forgets
 *              it (domiflist) and deletes its tap, the guest loses it
 *   eject-boot-nic  the same for the first boot NIC (slot 3); the deny NIC
 *              is still in the guest
 *   cleanup    destroy, stop vnicd: no QEMU left, no link but lo
 */
#include <string.h>

#include "e2e.h"

#define DENY_MAC "52:54:00:c5:00:02"
#define FIRST_MAC "52:54:00:c5:00:01"
#define GUEST_TIMEOUT_S 60

static struct {
    E2eDaemon *daemon;
    E2eDomainXml *xml;
    E2eConsole *console;
    gboolean booted;
    GPid pid;
} S;

#define NEED_BOOTED()                                                \
    do {                                                             \
        if (!S.booted) {                                             \
            g_test_skip("needs /e2e/pc-deny/start, which failed"); \
            return;                                                  \
        }                                                            \
    } while (0)

static E2eCmdResult *
vnic_run(const char *verb, const char *a1, const char *a2, const char *a3, const char *a4)
{
    return e2e_daemon_vnic(S.daemon, verb, a1, a2, a3, a4, NULL);
}

static JsonNode *
vnic_json(GError **error, const char *verb, const char *a1, const char *a2, const char *a3)
{
    return e2e_daemon_vnic_json(S.daemon, error, verb, a1, a2, a3, NULL);
}

static gboolean
guest_ok(const char *cmd, char **out, GError **error)
{
    return e2e_guest_run_ok(S.console, cmd, GUEST_TIMEOUT_S, out, error);
}

static gboolean
mac_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && g_ascii_strcasecmp(a, b) == 0;
}

/* The entry of an array member of `vnic VERB NAME --json` with this MAC. */
static JsonObject *
entry_of_mac(const char *verb, const char *member, const char *mac, GError **error)
{
    g_autoptr(JsonNode) node = vnic_json(error, verb, S.xml->name, "--json", NULL);
    JsonObject *o = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonArray *list = e2e_json_member_array(o, member);
    for (guint i = 0; list != NULL && i < json_array_get_length(list); i++) {
        JsonObject *d = e2e_json_array_object(list, i);
        if (mac_eq(e2e_json_get_string(d, "mac"), mac))
            return json_object_ref(d);
    }
    return NULL;
}

/* "NAME ADDRESS" lines of the guest's /sys/bus/pci/slots. */
static char *
guest_slots(GError **error)
{
    char *out = NULL;
    if (!guest_ok(E2E_GUEST_SLOTS_CMD, &out, error))
        return NULL;
    return out;
}

static gboolean
guest_has_mac(const char *mac, gboolean want, GError **error)
{
    gint64 deadline = e2e_deadline(30);
    for (;;) {
        g_autoptr(GPtrArray) nics = e2e_guest_nics(S.console, error);
        if (nics == NULL)
            return FALSE;
        gboolean has = e2e_guest_nics_find_mac(nics, mac) != NULL;
        if (has == want)
            return TRUE;
        if (e2e_ms_left(deadline) == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "after 30 s the guest %s %s", want ? "lacks" : "still has",
                        mac);
            return FALSE;
        }
        g_usleep(200 * 1000);
    }
}

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;
    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
    S.xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "pcdeny", &error);
    E2E_CHECK_NO_ERROR(error, "examples/cloudstack-pc.xml");
    char *at = strstr(S.xml->xml, DENY_MAC);
    at = at != NULL ? strstr(at, "/>") : NULL;
    E2E_CHECK(at != NULL, "no <mac address='%s'/> in the copy", DENY_MAC);
    at += 2;
    g_autofree char *head = g_strndup(S.xml->xml, at - S.xml->xml);
    g_autofree char *xml = g_strconcat(head, "\n      <vnic:unplug guest='deny' xmlns:vnic='urn:x-vnic:domain:1'/>", at,
                                       NULL);
    E2E_CHECK(g_file_set_contents(S.xml->xml_path, xml, -1, &error), "%s", error->message);
    g_autoptr(E2eCmdResult) def = vnic_run("define", S.xml->xml_path, NULL, NULL, NULL);
    g_autofree char *def_desc = e2e_cmd_result_describe(def);
    E2E_CHECK(def->status == 0, "%s", def_desc);
    E2eCmd *start = e2e_daemon_vnic_spawn(S.daemon, "start", S.xml->name, NULL);
    gint64 deadline = e2e_deadline(90);
    while (S.console == NULL && e2e_ms_left(deadline) > 0) {
        if (g_file_test(S.xml->serial_path, G_FILE_TEST_EXISTS))
            S.console = e2e_console_connect(S.xml->serial_path, 2, NULL);
        if (S.console == NULL && e2e_cmd_done(start))
            break;
        if (S.console == NULL)
            g_usleep(10 * 1000);
    }
    g_autoptr(E2eCmdResult) r = e2e_cmd_finish(start, 90);
    g_autofree char *desc = e2e_cmd_result_describe(r);
    E2E_CHECK(r->status == 0, "vnic start: %s", desc);
    if (S.console == NULL)
        S.console = e2e_console_connect(S.xml->serial_path, 5, &error);
    E2E_CHECK_NO_ERROR(error, S.xml->serial_path);
    E2E_CHECK(e2e_console_wait_ready(S.console, 120, &error), "%s", error->message);
    S.pid = e2e_daemon_running_pid(S.daemon, S.xml->name, &error);
    E2E_CHECK_NO_ERROR(error, "vnic list --json");
    S.booted = TRUE;
}

static void
test_placement(void)
{
    NEED_BOOTED();
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) deny = entry_of_mac("pci", "devices", DENY_MAC, &error);
    E2E_CHECK(deny != NULL, "vnic pci --json does not list %s", DENY_MAC);
    g_autoptr(JsonObject) first = entry_of_mac("pci", "devices", FIRST_MAC, &error);
    E2E_CHECK(first != NULL, "vnic pci --json does not list %s", FIRST_MAC);
    const char *deny_at = e2e_json_get_string(deny, "address");
    const char *first_at = e2e_json_get_string(first, "address");
    E2E_CHECK(g_str_has_prefix(deny_at, "0000:01:"), "the deny NIC is at %s, not behind the bridge (bus 01)", deny_at);
    E2E_CHECK(g_strcmp0(first_at, "0000:00:03.0") == 0, "the first NIC is at %s, not 0000:00:03.0", first_at);

    g_autofree char *cmdline = e2e_proc_cmdline(S.pid);
    E2E_CHECK(cmdline != NULL && strstr(cmdline, "PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off") != NULL,
              "QEMU's command line lacks the bridge hot-plug global: %s", cmdline);
    E2E_CHECK(strstr(cmdline, "pci-bridge,chassis_nr=1") != NULL && strstr(cmdline, "shpc=off") != NULL,
              "QEMU's command line has no pci-bridge with shpc=off: %s", cmdline);
    E2E_CHECK(strstr(cmdline, "acpi-root-pci-hotplug=off") == NULL, "pci.0 lost hot-plug: %s", cmdline);
    g_test_message("deny NIC %s at %s, first NIC at %s", DENY_MAC, deny_at, first_at);
}

static void
test_no_slot(void)
{
    NEED_BOOTED();
    g_autoptr(GError) error = NULL;
    g_autofree char *slots = guest_slots(&error);
    E2E_CHECK_NO_ERROR(error, "the guest's slots");
    g_test_message("guest slots:\n%s", slots);
    E2E_CHECK(strstr(slots, " 0000:01:") == NULL, "the guest has hot-plug slots on the deny NIC's bus 01:\n%s",
              slots);
    g_autofree char *first = e2e_guest_slot_at(slots, "0000:00:03");
    E2E_CHECK(first != NULL, "no guest slot at 0000:00:03 (the first NIC):\n%s", slots);
}

static void
test_refusals(void)
{
    NEED_BOOTED();
    g_autoptr(GError) error = NULL;
    g_autoptr(E2eCmdResult) r = vnic_run("detach-interface", S.xml->name, "--mac", DENY_MAC, NULL);
    g_autofree char *desc = e2e_cmd_result_describe(r);
    E2E_CHECK(r->status == 1 && strstr(r->err, "PlacementError") != NULL && strstr(r->err, "forbidden") != NULL,
              "expected a refusal (exit 1, PlacementError, \"forbidden\"):\n%s", desc);
    E2E_CHECK(guest_has_mac(DENY_MAC, TRUE, &error), "%s", error->message);
}

/* The guest powers off the slot of `mac` (at `address`): vnicd forgets the
 * NIC and deletes `tap`, the guest loses it. */
static void
eject_and_check(const char *mac, const char *address, const char *tap)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *slots = guest_slots(&error);
    E2E_CHECK_NO_ERROR(error, "the guest's slots");
    g_autofree char *bus_slot = address != NULL && strlen(address) == 12 ? g_strndup(address, 10) : NULL;
    g_autofree char *slot = bus_slot != NULL ? e2e_guest_slot_at(slots, bus_slot) : NULL;
    E2E_CHECK(slot != NULL, "no guest slot at %s (%s):\n%s", address, mac, slots);
    gint64 t = g_get_monotonic_time();
    g_autofree char *eject = g_strdup_printf("echo 0 > /sys/bus/pci/slots/%s/power", slot);
    E2E_CHECK(guest_ok(eject, NULL, &error), "%s", error->message);
    gint64 deadline = e2e_deadline(30);
    g_autoptr(JsonObject) listed = NULL;
    for (;;) {
        g_clear_pointer(&listed, json_object_unref);
        listed = entry_of_mac("domiflist", "interfaces", mac, &error);
        E2E_CHECK_NO_ERROR(error, "domiflist");
        if ((listed == NULL && (tap == NULL || !e2e_netns_has_link(tap))) || e2e_ms_left(deadline) == 0)
            break;
        g_usleep(100 * 1000);
    }
    E2E_CHECK(listed == NULL, "30 s after the guest ejected slot %s domiflist still lists %s", slot, mac);
    E2E_CHECK(tap == NULL || !e2e_netns_has_link(tap), "30 s after the eject the tap %s is still there", tap);
    E2E_CHECK(guest_has_mac(mac, FALSE, &error), "%s", error->message);
    g_test_message("guest ejected slot %s (%s, %s): forgotten, tap %s gone after %.2f s", slot, address, mac, tap,
                   (g_get_monotonic_time() - t) / 1e6);
}

static void
test_root_hotplug(void)
{
    NEED_BOOTED();
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = e2e_daemon_vnic_json(S.daemon, &error, "attach-interface", S.xml->name, "--type",
                                                    "ethernet", "--json", NULL);
    E2E_CHECK_NO_ERROR(error, "attach-interface");
    JsonObject *ret = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    const char *mac = e2e_json_get_string(ret, "mac");
    const char *address = e2e_json_get_string(ret, "address");
    const char *tap = e2e_json_get_string(ret, "target");
    E2E_CHECK(g_str_has_prefix(address, "0000:00:"), "the hot-plugged NIC is at %s, not on pci.0", address);
    E2E_CHECK(tap != NULL && e2e_netns_has_link(tap), "no tap %s", tap);
    E2E_CHECK(guest_has_mac(mac, TRUE, &error), "%s", error->message);
    g_test_message("hot-plugged %s at %s", mac, address);
    eject_and_check(mac, address, tap);
}

static void
test_eject_boot_nic(void)
{
    NEED_BOOTED();
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) listed = entry_of_mac("domiflist", "interfaces", FIRST_MAC, &error);
    E2E_CHECK(listed != NULL, "domiflist does not list %s", FIRST_MAC);
    g_autofree char *tap = g_strdup(e2e_json_get_string(listed, "target"));
    E2E_CHECK(tap != NULL && e2e_netns_has_link(tap), "no tap %s of %s", tap, FIRST_MAC);
    eject_and_check(FIRST_MAC, "0000:00:03.0", tap);
    E2E_CHECK(guest_has_mac(DENY_MAC, TRUE, &error), "%s", error->message);
}

static void
test_cleanup(void)
{
    if (S.daemon == NULL || !e2e_daemon_running(S.daemon)) {
        g_test_skip("no vnicd");
        return;
    }
    g_autoptr(GError) error = NULL;
    if (S.pid != 0) {
        g_autoptr(E2eCmdResult) r = vnic_run("destroy", S.xml->name, NULL, NULL, NULL);
        g_autofree char *desc = e2e_cmd_result_describe(r);
        E2E_CHECK(r->status == 0, "%s", desc);
    }
    int code = -1;
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error), "stopping vnicd: %s", error->message);
    E2E_CHECK(code == 0, "vnicd exit code %d after SIGTERM", code);
    E2E_CHECK(S.pid == 0 || !e2e_proc_alive(S.pid), "QEMU pid %d still runs", (int)S.pid);
    g_autofree char *links = e2e_netns_links_besides_lo();
    E2E_CHECK(links == NULL || *links == '\0', "links left: %s", links);
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/pc-deny/start", test_start);
    g_test_add_func("/e2e/pc-deny/placement", test_placement);
    g_test_add_func("/e2e/pc-deny/no-slot", test_no_slot);
    g_test_add_func("/e2e/pc-deny/refusals", test_refusals);
    g_test_add_func("/e2e/pc-deny/root-hotplug", test_root_hotplug);
    g_test_add_func("/e2e/pc-deny/eject-boot-nic", test_eject_boot_nic);
    g_test_add_func("/e2e/pc-deny/cleanup", test_cleanup);
    int rc = e2e_finish();
    if (rc != 0 && S.daemon != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 60);
        g_printerr("--- %s (last lines)\n%s\n", e2e_daemon_log_path(S.daemon), log);
    }
    if (S.console != NULL)
        e2e_console_free(S.console);
    g_clear_pointer(&S.xml, e2e_domain_xml_free);
    g_clear_pointer(&S.daemon, e2e_daemon_free);
    return rc;
}
