/* test-verbs.c: the verbs a virsh user types, against a real guest
 * (meson test 'e2e-verbs', issue #11 section 1).
 *
 * One vnicd and one pc guest (a test copy of examples/cloudstack-pc.xml
 * whose NICs are replaced by one bridge NIC on brA), all in the program's
 * own namespaces.  brA has 10.96.0.1/24, the guest 10.96.0.2/24; brB is a
 * second bridge without an address until update-device moves the NIC.
 *
 *   start          define, start, boot; domstate "running", dominfo
 *   attach-detach  attach-interface DOM bridge brA (positional) with
 *                  --print-xml (prints, attaches nothing), then for real
 *                  with --alias ua-extra --inbound 800: the guest has the
 *                  MAC, domiflist --json the alias, tc the 6400Kbit class,
 *                  domiflist --inactive not the NIC; detach-interface DOM
 *                  bridge alone is refused (two bridge NICs, exit 1), DOM
 *                  ethernet too (none), --domain DOM bridge --mac M works;
 *                  bad command lines exit 2
 *   setlink        domif-setlink down: the guest's carrier is 0 and
 *                  domif-getlink says down; up: carrier 1
 *   stat-addr      busybox ping from the guest to brA; domifstat counts
 *                  packets both ways (--json too); domifaddr finds
 *                  10.96.0.2 (the host's neighbour table); --source agent
 *                  times out naming the guest agent (the tiny guest runs none)
 *   tune           domiftune --inbound 1000,2000,256: tc class shows
 *                  8Mbit ceil 16Mbit burst 256Kb; domiftune prints it back;
 *                  --outbound 500 shapes (an ifb where the kernel has no
 *                  police action, else the police filter); --inbound 0
 *                  --outbound 0 leaves no htb and no ifb
 *   update-device  a model change is refused (exit 1, names "model"); the
 *                  NIC's <source bridge='brB'/>: the tap is on brB,
 *                  dumpxml says brB, and with 10.96.0.1 moved from brA to
 *                  brB the guest's ping is answered through brB
 *   suspend-resume suspend: domstate paused, QEMU's query-status (through
 *                  qemu-monitor-command) not running; resume: running;
 *                  qemu-monitor-command --hmp info network names the NIC
 *   reboot         reboot: the guest boots again (its console says so)
 *   console        vnic console DOM with a command on stdin and Ctrl-]:
 *                  the command's output comes back, exit 0
 *   create         vnic create FILE: running at once, not persistent, a
 *                  second create of the name refused (DomainExists), no
 *                  autostart; destroyed, it is gone from list --all
 *   autostart      autostart DOM (dominfo says so), destroy, vnicd
 *                  restarted: the domain runs again; --disable
 *   cleanup        destroy, undefine, vnicd exits 0, no link of vnic left
 */
#include <net/if.h>
#include <stdarg.h>
#include <string.h>

#include "e2e.h"

/* `vnic -c SOCKET VERB ARGS…` against the test's vnicd, 120 s at most;
 * a host command, 30 s at most. */
#define VNIC(...) e2e_daemon_vnic_timeout(S.daemon, 120, __VA_ARGS__)
#define RUN(...) e2e_cmd_run_args(30, __VA_ARGS__)

#define MAC1 "52:54:00:76:00:01"
#define MAC2 "52:54:00:76:00:02"

static struct {
    E2eDaemon *daemon;
    E2eDomainXml *xml;
    E2eConsole *console;
    gboolean booted;
    gboolean guest_ip;   /* 10.96.0.2 configured in the guest */
    char *tap;           /* MAC1's host tap */
    char *ifname;        /* MAC1's name in the guest */
} S;

#define NEED(cond, what)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_test_skip("needs " what ", which failed");                  \
            return;                                                       \
        }                                                                 \
    } while (0)

#define NEED_BOOTED() NEED(S.booted, "/e2e/verbs/start")

#define CMD_OK(result)                                                                 \
    do {                                                                               \
        if ((result)->status != 0) {                                                   \
            g_autofree char *desc_ = e2e_cmd_result_describe(result);                  \
            g_test_fail_printf("%s", desc_);                                           \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* Fails unless the command exited @code with @needle (may be NULL) on
 * stderr. */
#define CMD_EXIT(result, code, needle)                                                 \
    do {                                                                               \
        if ((result)->status != (code) ||                                              \
            ((needle) != NULL && strstr((result)->err, (needle)) == NULL)) {           \
            g_autofree char *desc_ = e2e_cmd_result_describe(result);                  \
            g_test_fail_printf("expected exit %d with '%s': %s", (code),               \
                               (needle) ? (needle) : "", desc_);                       \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* `vnic domiflist DOM --json [EXTRA]` entry with @mac (NULL: none); @count
 * gets how many NICs it lists. */
static JsonObject *
iface_of_mac(const char *mac, const char *extra, guint *count)
{
    g_autoptr(E2eCmdResult) r = VNIC("domiflist", S.xml->name, "--json", extra, NULL);
    g_autoptr(JsonNode) node = r->status == 0 ? e2e_json_parse(r->out, NULL) : NULL;
    JsonArray *ifaces;

    *count = 0;
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        return NULL;
    ifaces = e2e_json_member_array(json_node_get_object(node), "interfaces");
    *count = ifaces ? json_array_get_length(ifaces) : 0;
    for (guint i = 0; ifaces != NULL && i < json_array_get_length(ifaces); i++) {
        JsonObject *o = e2e_json_array_object(ifaces, i);
        if (g_ascii_strcasecmp(e2e_json_get_string(o, "mac"), mac) == 0)
            return json_object_ref(o);
    }
    return NULL;
}

/* The guest's carrier on @ifname: "0" or "1" (NULL with @error). */
static char *
guest_carrier(const char *ifname, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("cat /sys/class/net/%s/carrier", ifname);
    char *out = NULL;

    if (!e2e_guest_run_ok(S.console, cmd, 60, &out, error))
        return NULL;
    return g_strstrip(out);
}

/* ---- cases ---------------------------------------------------------------- */

static gboolean
make_xml(GError **error)
{
    const char *start = strstr(S.xml->xml, "    <interface");
    const char *end = g_strrstr(S.xml->xml, "</interface>\n");
    char *text;

    if (start == NULL || end == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no <interface> in the copy");
        return FALSE;
    }
    end += strlen("</interface>\n");
    text = g_strdup_printf("%.*s    <interface type='bridge'>\n"
                           "      <mac address='" MAC1 "'/>\n"
                           "      <source bridge='brA'/>\n"
                           "      <model type='virtio'/>\n"
                           "    </interface>\n%s",
                           (int)(start - S.xml->xml), S.xml->xml, end);
    g_free(S.xml->xml);
    S.xml->xml = text;
    return g_file_set_contents(S.xml->xml_path, S.xml->xml, -1, error);
}

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ifc = NULL;
    guint n;

    for (guint i = 0; i < 2; i++) {
        const char *br = i == 0 ? "brA" : "brB";
        g_autoptr(E2eCmdResult) r1 = RUN("ip", "link", "add", br, "type", "bridge", NULL);
        g_autoptr(E2eCmdResult) r2 = RUN("ip", "link", "set", br, "up", NULL);
        CMD_OK(r1);
        CMD_OK(r2);
    }
    {
        g_autoptr(E2eCmdResult) r = RUN("ip", "addr", "add", "10.96.0.1/24", "dev", "brA", NULL);
        CMD_OK(r);
    }
    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
    S.xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "verbs", &error);
    E2E_CHECK_NO_ERROR(error, "the domain copy");
    E2E_CHECK(make_xml(&error), "%s", error->message);
    {
        g_autoptr(E2eCmdResult) r = VNIC("define", S.xml->xml_path, NULL);
        CMD_OK(r);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("domstate", S.xml->name, NULL);
        CMD_OK(r);
        E2E_CHECK(g_strcmp0(r->out, "shut off\n") == 0, "domstate before start: %s", r->out);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("start", S.xml->name, NULL);
        CMD_OK(r);
    }
    S.console = e2e_console_connect(S.xml->serial_path, 10, &error);
    E2E_CHECK_NO_ERROR(error, "console");
    E2E_CHECK(e2e_console_wait_ready(S.console, 120, &error), "boot: %s", error->message);
    S.booted = TRUE;
    S.ifname = e2e_guest_ifname(S.console, MAC1, 30, &error);
    E2E_CHECK_NO_ERROR(error, "the bridge NIC in the guest");
    ifc = iface_of_mac(MAC1, NULL, &n);
    E2E_CHECK(ifc && e2e_json_get_string(ifc, "target"), "domiflist has no target for %s", MAC1);
    S.tap = g_strdup(e2e_json_get_string(ifc, "target"));
    {
        g_autoptr(E2eCmdResult) st = VNIC("domstate", S.xml->name, "--reason", NULL);
        g_autoptr(E2eCmdResult) info = VNIC("dominfo", S.xml->name, NULL);
        g_autoptr(E2eCmdResult) json = VNIC("dominfo", S.xml->name, "--json", NULL);
        CMD_OK(st);
        CMD_OK(info);
        CMD_OK(json);
        E2E_CHECK(g_strcmp0(st->out, "running (booted)\n") == 0, "domstate: %s", st->out);
        E2E_CHECK(strstr(info->out, "State:          running\n") &&
                      strstr(info->out, S.xml->name) && strstr(info->out, "PID:"),
                  "dominfo:\n%s", info->out);
        E2E_CHECK(strstr(json->out, "\"state\" : \"running\""), "dominfo --json:\n%s", json->out);
    }
}

static void
test_attach_detach(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ifc = NULL;
    g_autofree char *ifname = NULL;
    guint before = 0, n = 0;

    NEED_BOOTED();
    g_clear_pointer(&ifc, json_object_unref);
    ifc = iface_of_mac(MAC1, NULL, &before);
    {
        g_autoptr(E2eCmdResult) r = VNIC("attach-interface", S.xml->name, "bridge", "brA",
                                         "--mac", MAC2, "--alias", "ua-extra", "--inbound",
                                         "800,,64", "--print-xml", NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "<interface type='bridge'>") &&
                      strstr(r->out, "<source bridge='brA'/>") &&
                      strstr(r->out, "<alias name='ua-extra'/>") &&
                      strstr(r->out, "<inbound average='800' burst='64'/>"),
                  "--print-xml:\n%s", r->out);
        g_clear_pointer(&ifc, json_object_unref);
        ifc = iface_of_mac(MAC2, NULL, &n);
        E2E_CHECK(ifc == NULL && n == before, "--print-xml attached a NIC");
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("attach-interface", S.xml->name, "bridge", "brA",
                                         "--mac", MAC2, "--alias", "ua-extra", "--inbound",
                                         "800", "--json", NULL);
        const char *tap;
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "\"alias\" : \"ua-extra\""), "attach --json:\n%s", r->out);
        ifname = e2e_guest_ifname(S.console, MAC2, 30, &error);
        E2E_CHECK_NO_ERROR(error, "the attached NIC in the guest");
        g_clear_pointer(&ifc, json_object_unref);
        ifc = iface_of_mac(MAC2, NULL, &n);
        E2E_CHECK(ifc && (tap = e2e_json_get_string(ifc, "target")) &&
                      g_strcmp0(e2e_json_get_string(ifc, "alias"), "ua-extra") == 0,
                  "domiflist lacks ua-extra");
        {
            g_autoptr(E2eCmdResult) tc = RUN("tc", "class", "show", "dev", tap, NULL);
            g_autofree char *master = e2e_netns_master_of(tap);
            CMD_OK(tc);
            E2E_CHECK(strstr(tc->out, "rate 6400Kbit"), "tc class show dev %s:\n%s", tap,
                      tc->out);
            E2E_CHECK(g_strcmp0(master, "brA") == 0, "%s is on '%s'", tap, master);
        }
    }
    {
        g_autoptr(JsonObject) inactive = iface_of_mac(MAC2, "--inactive", &n);
        E2E_CHECK(inactive == NULL && n == 1, "domiflist --inactive lists %u NICs", n);
    }
    {
        g_autoptr(E2eCmdResult) two = VNIC("detach-interface", S.xml->name, "bridge", NULL);
        g_autoptr(E2eCmdResult) none = VNIC("detach-interface", S.xml->name, "ethernet", NULL);
        g_autoptr(E2eCmdResult) usage = VNIC("attach-interface", S.xml->name, "bridge", "brA",
                                             "brB", NULL);
        g_autoptr(E2eCmdResult) alias = VNIC("attach-interface", S.xml->name, "bridge", "brA",
                                             "--alias", "net7", NULL);
        g_autoptr(E2eCmdResult) rate = VNIC("attach-interface", S.xml->name, "bridge", "brA",
                                            "--outbound", "fast", NULL);
        g_autoptr(E2eCmdResult) nobr = VNIC("attach-interface", S.xml->name, "bridge", "nobr",
                                            NULL);
        CMD_EXIT(two, 1, "has 2 NICs of type 'bridge': name one with --mac");
        CMD_EXIT(none, 1, "has no NIC of type 'ethernet'");
        CMD_EXIT(usage, 2, "unexpected argument 'brB'");
        CMD_EXIT(alias, 2, "a user alias starts with 'ua-'");
        CMD_EXIT(rate, 2, "--outbound: invalid average 'fast'");
        CMD_EXIT(nobr, 1, "nobr");
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("detach-interface", "--domain", S.xml->name, "bridge",
                                         "--mac", MAC2, NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "ua-extra"), "detach: %s", r->out);
    }
}

static void
test_setlink(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *cmd = NULL, *down = NULL, *up = NULL;

    NEED_BOOTED();
    cmd = g_strdup_printf("ip link set %s up", S.ifname);
    E2E_CHECK(e2e_guest_run_ok(S.console, cmd, 60, NULL, &error), "%s", error->message);
    {
        g_autoptr(E2eCmdResult) r = VNIC("domif-setlink", S.xml->name, S.tap, "down", NULL);
        g_autoptr(E2eCmdResult) g = NULL;
        CMD_OK(r);
        E2E_CHECK(g_strcmp0(r->out, "Device updated successfully\n") == 0, "%s", r->out);
        g = VNIC("domif-getlink", S.xml->name, S.tap, NULL);
        CMD_OK(g);
        E2E_CHECK(g_str_has_suffix(g->out, " down\n"), "getlink: %s", g->out);
    }
    down = guest_carrier(S.ifname, &error);
    E2E_CHECK_NO_ERROR(error, "carrier");
    E2E_CHECK(g_strcmp0(down, "0") == 0, "carrier after setlink down: '%s'", down);
    {
        g_autoptr(E2eCmdResult) r = VNIC("domif-setlink", S.xml->name, MAC1, "up", NULL);
        CMD_OK(r);
    }
    up = guest_carrier(S.ifname, &error);
    E2E_CHECK_NO_ERROR(error, "carrier");
    E2E_CHECK(g_strcmp0(up, "1") == 0, "carrier after setlink up: '%s'", up);
}

static void
test_stat_addr(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *cmd = NULL;

    NEED_BOOTED();
    cmd = g_strdup_printf("ip addr add 10.96.0.2/24 dev %s && ip link set %s up && "
                          "busybox ping -c 3 -W 2 10.96.0.1", S.ifname, S.ifname);
    E2E_CHECK(e2e_guest_run_ok(S.console, cmd, 60, NULL, &error), "%s", error->message);
    S.guest_ip = TRUE;
    {
        g_autoptr(E2eCmdResult) r = VNIC("domifstat", S.xml->name, S.tap, NULL);
        g_autoptr(E2eCmdResult) j = VNIC("domifstat", S.xml->name, MAC1, "--json", NULL);
        g_autoptr(JsonNode) node = NULL;
        JsonObject *o;
        g_autofree char *rx = g_strdup_printf("%s rx_packets ", S.tap);
        g_autofree char *tx = g_strdup_printf("%s tx_packets ", S.tap);
        g_autofree char *drop = g_strdup_printf("%s tx_drop ", S.tap);
        CMD_OK(r);
        CMD_OK(j);
        E2E_CHECK(strstr(r->out, rx) && strstr(r->out, tx) && strstr(r->out, drop) &&
                      !strstr(r->out, "rx_packets 0\n") && !strstr(r->out, "tx_packets 0\n"),
                  "domifstat:\n%s", r->out);
        node = e2e_json_parse(j->out, &error);
        E2E_CHECK_NO_ERROR(error, "domifstat --json");
        o = json_node_get_object(node);
        E2E_CHECK(json_object_get_int_member(o, "tx_packets") >= 3 &&
                      json_object_get_int_member(o, "rx_packets") >= 3,
                  "domifstat --json:\n%s", j->out);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("domifaddr", S.xml->name, NULL);
        g_autoptr(E2eCmdResult) agent = VNIC("domifaddr", S.xml->name, "--source", "agent", NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, MAC1) && strstr(r->out, "ipv4") && strstr(r->out, "10.96.0.2/0"),
                  "domifaddr:\n%s", r->out);
        /* the example has the agent's channel; the tiny guest runs no agent */
        CMD_EXIT(agent, 1, "the guest agent did not answer within 5 s");
    }
}

static void
test_tune(void)
{
    g_autofree char *ifb = NULL;

    NEED_BOOTED();
    {
        g_autoptr(E2eCmdResult) r = VNIC("domiftune", S.xml->name, S.tap, "--inbound",
                                         "1000,2000,256", NULL);
        g_autoptr(E2eCmdResult) tc = NULL;
        g_autoptr(E2eCmdResult) show = NULL;
        CMD_OK(r);
        tc = RUN("tc", "class", "show", "dev", S.tap, NULL);
        CMD_OK(tc);
        E2E_CHECK(strstr(tc->out, "rate 8Mbit ceil 16Mbit burst 256Kb"),
                  "tc class show dev %s:\n%s", S.tap, tc->out);
        show = VNIC("domiftune", S.xml->name, S.tap, NULL);
        CMD_OK(show);
        E2E_CHECK(strstr(show->out, "inbound.average: 1000\ninbound.peak   : 2000\n"
                                    "inbound.burst  : 256\noutbound.average: 0\n"),
                  "domiftune:\n%s", show->out);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("domiftune", S.xml->name, S.tap, "--outbound", "500",
                                         NULL);
        g_autoptr(E2eCmdResult) filter = NULL;
        g_autoptr(E2eCmdResult) in = NULL;
        CMD_OK(r);
        ifb = g_strdup_printf("vifb%u", if_nametoindex(S.tap));
        filter = RUN("tc", "filter", "show", "dev", S.tap, "parent", "ffff:", NULL);
        CMD_OK(filter);
        if (e2e_netns_has_link(ifb)) {
            g_autoptr(E2eCmdResult) c = RUN("tc", "class", "show", "dev", ifb, NULL);
            CMD_OK(c);
            E2E_CHECK(strstr(c->out, "rate 4Mbit"), "tc class show dev %s:\n%s", ifb, c->out);
        } else {
            E2E_CHECK(strstr(filter->out, "police"), "no police filter on %s:\n%s", S.tap,
                      filter->out);
        }
        /* the inbound shaping stayed */
        in = RUN("tc", "class", "show", "dev", S.tap, NULL);
        E2E_CHECK(strstr(in->out, "rate 8Mbit"), "inbound lost:\n%s", in->out);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("domiftune", S.xml->name, S.tap, "--inbound", "0",
                                         "--outbound", "0", NULL);
        g_autoptr(E2eCmdResult) q = NULL;
        CMD_OK(r);
        q = RUN("tc", "qdisc", "show", "dev", S.tap, NULL);
        E2E_CHECK(!strstr(q->out, "htb") && !strstr(q->out, "ingress"), "tc qdisc show:\n%s",
                  q->out);
        E2E_CHECK(!e2e_netns_has_link(ifb), "%s outlived --outbound 0", ifb);
    }
}

static void
test_update_device(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *model = e2e_tmp_file("verbs", "model.xml",
        "<interface type='bridge'><mac address='" MAC1 "'/><source bridge='brA'/>"
        "<model type='e1000'/></interface>");
    g_autofree char *move = e2e_tmp_file("verbs", "move.xml",
        "<interface type='bridge'><mac address='" MAC1 "'/><source bridge='brB'/>"
        "<model type='virtio'/></interface>");
    g_autofree char *master = NULL, *cmd = NULL;

    NEED_BOOTED();
    NEED(S.guest_ip, "/e2e/verbs/stat-addr");
    {
        g_autoptr(E2eCmdResult) r = VNIC("update-device", S.xml->name, model, NULL);
        CMD_EXIT(r, 1, "the model of running NIC");
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("update-device", S.xml->name, move, "--live", NULL);
        g_autoptr(E2eCmdResult) x = NULL;
        CMD_OK(r);
        E2E_CHECK(g_strcmp0(r->out, "Device updated successfully\n") == 0, "%s", r->out);
        master = e2e_netns_master_of(S.tap);
        E2E_CHECK(g_strcmp0(master, "brB") == 0, "%s is on '%s', not brB", S.tap, master);
        x = VNIC("dumpxml", S.xml->name, NULL);
        CMD_OK(x);
        E2E_CHECK(strstr(x->out, "<source bridge='brB'/>"), "dumpxml:\n%s", x->out);
    }
    {
        g_autoptr(E2eCmdResult) r1 = RUN("ip", "addr", "flush", "dev", "brA", NULL);
        g_autoptr(E2eCmdResult) r2 = RUN("ip", "addr", "add", "10.96.0.1/24", "dev", "brB", NULL);
        CMD_OK(r1);
        CMD_OK(r2);
    }
    cmd = g_strdup("busybox ping -c 3 -W 2 10.96.0.1");
    E2E_CHECK(e2e_guest_run_ok(S.console, cmd, 60, NULL, &error), "ping through brB: %s", error->message);
}

static void
test_suspend_resume(void)
{
    NEED_BOOTED();
    {
        g_autoptr(E2eCmdResult) r = VNIC("suspend", S.xml->name, NULL);
        g_autoptr(E2eCmdResult) st = NULL;
        g_autoptr(E2eCmdResult) q = NULL;
        g_autoptr(E2eCmdResult) again = NULL;
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "suspended"), "%s", r->out);
        st = VNIC("domstate", S.xml->name, NULL);
        CMD_OK(st);
        E2E_CHECK(g_strcmp0(st->out, "paused\n") == 0, "domstate: %s", st->out);
        q = VNIC("qemu-monitor-command", S.xml->name, "query-status", NULL);
        CMD_OK(q);
        E2E_CHECK(strstr(q->out, "\"running\":false"), "query-status: %s", q->out);
        again = VNIC("suspend", S.xml->name, NULL);
        CMD_EXIT(again, 1, "InvalidState");
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("resume", S.xml->name, NULL);
        g_autoptr(E2eCmdResult) q = NULL;
        g_autoptr(E2eCmdResult) hmp = NULL;
        CMD_OK(r);
        q = VNIC("qemu-monitor-command", S.xml->name, "{\"execute\": \"query-status\"}", NULL);
        CMD_OK(q);
        E2E_CHECK(strstr(q->out, "\"running\":true"), "query-status: %s", q->out);
        hmp = VNIC("qemu-monitor-command", S.xml->name, "--hmp", "info", "network", NULL);
        CMD_OK(hmp);
        E2E_CHECK(strstr(hmp->out, "net0"), "info network:\n%s", hmp->out);
    }
}

static void
test_reboot(void)
{
    g_autoptr(GError) error = NULL;

    NEED_BOOTED();
    {
        g_autoptr(E2eCmdResult) r = VNIC("reboot", S.xml->name, NULL);
        CMD_OK(r);
    }
    E2E_CHECK(e2e_console_wait_for(S.console, "VNIC-GUEST-READY", 120, NULL, &error),
              "no boot after reboot: %s", error->message);
    E2E_CHECK(e2e_console_wait_ready(S.console, 60, &error), "shell: %s", error->message);
}

static void
test_console(void)
{
    g_autofree char *script = NULL;

    NEED_BOOTED();
    /* QEMU's serial socket takes one client: the harness lets go */
    g_clear_pointer(&S.console, e2e_console_free);
    script = g_strdup_printf("(sleep 1; printf 'echo con-$((6*7))\\n'; sleep 3; printf '\\035') | "
                             "'%s' -c '%s' console '%s'", e2e_vnic_binary(),
                             e2e_daemon_socket(S.daemon), S.xml->name);
    {
        g_autoptr(E2eCmdResult) r = RUN("sh", "-c", script, NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "con-42"), "console output:\n%s", r->out);
        E2E_CHECK(strstr(r->err, "Escape character is ^]"), "console stderr:\n%s", r->err);
    }
}

/* vnic create: running at once, gone once destroyed; a taken name refused. */
static void
test_create(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(E2eDomainXml) xml = NULL;

    NEED(S.daemon != NULL, "/e2e/verbs/start");
    xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "transient", &error);
    E2E_CHECK_NO_ERROR(error, "the transient copy");
    {
        g_autoptr(E2eCmdResult) r = VNIC("create", xml->xml_path, NULL);
        g_autoptr(E2eCmdResult) st = NULL;
        g_autoptr(E2eCmdResult) info = NULL;
        g_autoptr(E2eCmdResult) again = NULL;
        g_autoptr(E2eCmdResult) mark = NULL;
        g_autofree char *want = g_strdup_printf("Domain '%s' created from ", xml->name);
        CMD_OK(r);
        E2E_CHECK(g_str_has_prefix(r->out, want), "create: %s", r->out);
        st = VNIC("domstate", xml->name, NULL);
        CMD_OK(st);
        E2E_CHECK(g_strcmp0(st->out, "running\n") == 0, "domstate: %s", st->out);
        info = VNIC("dominfo", xml->name, NULL);
        E2E_CHECK(strstr(info->out, "Persistent:     no\n"), "dominfo:\n%s", info->out);
        again = VNIC("create", xml->xml_path, NULL);
        CMD_EXIT(again, 1, "DomainExists");
        mark = VNIC("autostart", xml->name, NULL);
        CMD_EXIT(mark, 1, "transient");
    }
    {
        g_autoptr(E2eCmdResult) d = VNIC("destroy", xml->name, NULL);
        g_autoptr(E2eCmdResult) list = NULL;
        gint64 deadline = e2e_deadline(10);
        CMD_OK(d);
        do {
            g_clear_pointer(&list, e2e_cmd_result_free);
            list = VNIC("list", "--all", "--name", NULL);
        } while (list->status == 0 && strstr(list->out, xml->name) &&
                 (g_usleep(200 * 1000), e2e_ms_left(deadline) > 0));
        CMD_OK(list);
        E2E_CHECK(!strstr(list->out, xml->name), "the transient domain outlived its QEMU:\n%s",
                  list->out);
    }
}

/* autostart: after destroy and a vnicd restart the domain runs again. */
static void
test_autostart(void)
{
    g_autoptr(GError) error = NULL;
    gint64 deadline;
    gboolean running = FALSE;

    NEED_BOOTED();
    g_clear_pointer(&S.console, e2e_console_free);
    {
        g_autoptr(E2eCmdResult) r = VNIC("autostart", S.xml->name, NULL);
        g_autoptr(E2eCmdResult) info = NULL;
        g_autoptr(E2eCmdResult) d = NULL;
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "marked as autostarted"), "%s", r->out);
        info = VNIC("dominfo", S.xml->name, "--json", NULL);
        E2E_CHECK(strstr(info->out, "\"autostart\" : true"), "dominfo --json:\n%s", info->out);
        d = VNIC("destroy", S.xml->name, NULL);
        CMD_OK(d);
    }
    E2E_CHECK(e2e_daemon_restart(S.daemon, &error), "restart: %s", error->message);
    deadline = e2e_deadline(60);
    do {
        g_autoptr(E2eCmdResult) st = VNIC("domstate", S.xml->name, NULL);
        running = st->status == 0 && g_strcmp0(st->out, "running\n") == 0;
        if (!running)
            g_usleep(500 * 1000);
    } while (!running && e2e_ms_left(deadline) > 0);
    E2E_CHECK(running, "not autostarted by the restarted vnicd");
    {
        g_autoptr(E2eCmdResult) r = VNIC("autostart", S.xml->name, "--disable", NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "unmarked as autostarted"), "%s", r->out);
    }
}

static void
test_cleanup(void)
{
    g_autoptr(GError) error = NULL;
    int code = -1;

    NEED(S.daemon != NULL, "/e2e/verbs/start");
    g_clear_pointer(&S.console, e2e_console_free);
    if (S.xml) {
        g_autoptr(E2eCmdResult) d = VNIC("destroy", S.xml->name, NULL);
        g_autoptr(E2eCmdResult) u = VNIC("undefine", S.xml->name, NULL);
        CMD_OK(u);
    }
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error), "stop: %s", error->message);
    E2E_CHECK(code == 0, "vnicd exited %d; its log:\n%s", code,
              e2e_daemon_log_tail(S.daemon, 40));
    {
        g_autofree char *links = e2e_netns_links_besides_lo();
        E2E_CHECK(!strstr(links, "vnet") && !strstr(links, "vifb"), "links left: %s", links);
    }
}

int
main(int argc, char **argv)
{
    int rc;

    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/verbs/start", test_start);
    g_test_add_func("/e2e/verbs/attach-detach", test_attach_detach);
    g_test_add_func("/e2e/verbs/setlink", test_setlink);
    g_test_add_func("/e2e/verbs/stat-addr", test_stat_addr);
    g_test_add_func("/e2e/verbs/tune", test_tune);
    g_test_add_func("/e2e/verbs/update-device", test_update_device);
    g_test_add_func("/e2e/verbs/suspend-resume", test_suspend_resume);
    g_test_add_func("/e2e/verbs/reboot", test_reboot);
    g_test_add_func("/e2e/verbs/console", test_console);
    g_test_add_func("/e2e/verbs/create", test_create);
    g_test_add_func("/e2e/verbs/autostart", test_autostart);
    g_test_add_func("/e2e/verbs/cleanup", test_cleanup);
    rc = e2e_finish();
    if (rc != 0 && S.daemon != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 60);
        g_printerr("--- vnicd log\n%s\n", log != NULL ? log : "");
    }
    /* Leftover guests and the daemon are the guard's (e2e-env.c). */
    return rc;
}
