/* test-pci-rules.c: libvirt's placement rules of issue #7 §1 that a guest
 * can see (meson test 'e2e-pci-rules').
 *
 * One vnicd, two guests, booted once:
 *   start             vnic define + start both (the XMLs in tests/e2e/data)
 *   listed-ports      q35 with six bare <controller model='pcie-root-port'/>
 *                     (virt-install, nova): the three NICs are enp1s0,
 *                     enp2s0, enp3s0 in the guest, in XML order
 *   listed-ports-hotplug  vnic attach-interface: vnicd and `vnic pci` say
 *                     enp4s0, and the guest names the new NIC enp4s0
 *   usb2-set          pc with ich9-ehci1 + ich9-uhci1..3 and no <master>:
 *                     the guest sees EHCI at 00:10.7 and the three UHCIs at
 *                     00:10.0–.2 (PCI class 0x0c0320 / 0x0c0300)
 */
#include <string.h>

#include "e2e.h"

typedef struct {
    const char *file;
    E2eDomainXml *xml;
    E2eConsole *console;
    gboolean booted;
} Dom;

static struct {
    E2eDaemon *daemon;
    Dom dom[2];
} S = {
    .dom = { { .file = "tests/e2e/data/q35-listed-ports.xml" },
             { .file = "tests/e2e/data/pc-usb2.xml" } },
};

#define Q35 (&S.dom[0])
#define PC (&S.dom[1])

#define NEED(cond, what)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_test_skip("needs " what ", which failed");                  \
            return;                                                       \
        }                                                                 \
    } while (0)

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;

    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
    for (int i = 0; i < 2; i++) {
        Dom *dom = &S.dom[i];
        dom->xml = e2e_xml_prepare(dom->file, NULL, &error);
        E2E_CHECK_NO_ERROR(error, dom->file);
        g_autoptr(E2eCmdResult) def = e2e_daemon_vnic(S.daemon, "define", dom->xml->xml_path, NULL);
        g_autofree char *def_desc = e2e_cmd_result_describe(def);
        E2E_CHECK(def->status == 0, "%s", def_desc);
        g_autoptr(E2eCmdResult) start = e2e_daemon_vnic(S.daemon, "start", dom->xml->name, NULL);
        g_autofree char *start_desc = e2e_cmd_result_describe(start);
        E2E_CHECK(start->status == 0, "%s", start_desc);
        dom->console = e2e_console_connect(dom->xml->serial_path, 10, &error);
        E2E_CHECK_NO_ERROR(error, "console");
    }
    for (int i = 0; i < 2; i++) {
        Dom *dom = &S.dom[i];
        E2E_CHECK(e2e_console_wait_ready(dom->console, 120, &error), "%s: %s", dom->xml->name,
                  error->message);
        dom->booted = TRUE;
    }
}

static void
test_listed_ports_names(void)
{
    static const char *const want[][2] = {
        { "52:54:00:36:00:01", "enp1s0" },
        { "52:54:00:36:00:02", "enp2s0" },
        { "52:54:00:36:00:03", "enp3s0" },
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) nics = NULL;

    NEED(Q35->booted, "/e2e/pci-rules/start");
    nics = e2e_guest_nics(Q35->console, &error);
    E2E_CHECK_NO_ERROR(error, "listing the guest's NICs");
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        const E2eGuestNic *nic = e2e_guest_nics_find_mac(nics, want[i][0]);
        E2E_CHECK(nic != NULL, "no guest NIC with MAC %s", want[i][0]);
        E2E_CHECK(g_strcmp0(e2e_guest_nic_preferred(nic), want[i][1]) == 0,
                  "NIC %s: the guest names it %s, expected %s", want[i][0],
                  e2e_guest_nic_preferred(nic), want[i][1]);
        g_test_message("%s -> %s", want[i][0], want[i][1]);
    }
}

/* Polls the guest (up to ~20 s) until a NIC with @mac shows up. */
static const E2eGuestNic *
wait_for_nic(Dom *dom, const char *mac, GPtrArray **out_nics, GError **error)
{
    for (int round = 0; round < 40; round++) {
        g_autoptr(GPtrArray) nics = e2e_guest_nics(dom->console, error);
        const E2eGuestNic *nic = nics != NULL ? e2e_guest_nics_find_mac(nics, mac) : NULL;

        if (nics == NULL)
            return NULL;
        if (nic != NULL && e2e_guest_nic_preferred(nic) != NULL) {
            *out_nics = g_steal_pointer(&nics);
            return nic;
        }
        g_usleep(500 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the guest never showed NIC %s", mac);
    return NULL;
}

static void
test_listed_ports_hotplug(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) nics = NULL;
    const E2eGuestNic *nic;
    JsonObject *o;

    NEED(Q35->booted, "/e2e/pci-rules/start");
    g_autoptr(JsonNode) ret = e2e_daemon_vnic_json(S.daemon, &error, "attach-interface",
                                                   Q35->xml->name, "--type", "ethernet",
                                                   "--model", "virtio", "--mac",
                                                   "52:54:00:36:00:04", "--json", NULL);
    E2E_CHECK_NO_ERROR(error, "vnic attach-interface");
    o = JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    E2E_CHECK(o != NULL, "attach-interface --json: not an object");
    E2E_CHECK(g_strcmp0(e2e_json_get_string(o, "guest-name"), "enp4s0") == 0,
              "vnicd predicts %s for the hot-plugged NIC, expected enp4s0",
              e2e_json_get_string(o, "guest-name"));
    nic = wait_for_nic(Q35, "52:54:00:36:00:04", &nics, &error);
    E2E_CHECK_NO_ERROR(error, "waiting for the hot-plugged NIC");
    E2E_CHECK(g_strcmp0(e2e_guest_nic_preferred(nic), "enp4s0") == 0,
              "the guest names the hot-plugged NIC %s, expected enp4s0",
              e2e_guest_nic_preferred(nic));
}

static void
test_usb2_set(void)
{
    static const char *const want[][2] = {
        { "0000:00:10.7", "0x0c0320" }, /* EHCI */
        { "0000:00:10.0", "0x0c0300" }, /* UHCI */
        { "0000:00:10.1", "0x0c0300" },
        { "0000:00:10.2", "0x0c0300" },
    };
    g_autoptr(GError) error = NULL;

    NEED(PC->booted, "/e2e/pci-rules/start");
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autofree char *cmd = g_strdup_printf("cat /sys/bus/pci/devices/%s/class", want[i][0]);
        g_autofree char *out = NULL;
        int status = -1;

        E2E_CHECK(e2e_console_run(PC->console, cmd, 30, &out, &status, &error), "%s: %s", cmd,
                  error->message);
        g_strstrip(out);
        E2E_CHECK(status == 0 && g_strcmp0(out, want[i][1]) == 0,
                  "%s: the guest has class '%s' there, expected %s", want[i][0], out, want[i][1]);
    }
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/pci-rules/start", test_start);
    g_test_add_func("/e2e/pci-rules/listed-ports", test_listed_ports_names);
    g_test_add_func("/e2e/pci-rules/listed-ports-hotplug", test_listed_ports_hotplug);
    g_test_add_func("/e2e/pci-rules/usb2-set", test_usb2_set);
    int rc = e2e_finish();
    if (rc != 0 && S.daemon != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 40);
        g_printerr("vnicd log:\n%s\n", log);
    }
    return rc;
}
