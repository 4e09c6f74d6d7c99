/* test-agents.c: the domains real agents send, start to finish (meson test
 * 'e2e-agents', issue #7).
 *
 * One vnicd; every file of tests/data/agents (CloudStack, nova,
 * virt-install; README.md there says where each comes from) is its own
 * case, run one after the other, each as a user of that agent would see it:
 *
 *   setup          vnicd up
 *   NAME           the test copy (only what README.md lists changes); the
 *                  bridges it names made in the namespace, under the
 *                  agent's names; `default` net-defined (bridge forward on
 *                  virbr0) for virt-install's type='network' NIC;
 *                  `vnic define`, `vnic start`, the guest boots (console
 *                  ready marker);
 *                  names: `vnic pci NAME --json` predicts ens3, ens4, …
 *                  (pc) or enp1s0, enp2s0, … (q35) for the NICs in document
 *                  order, and the guest's udev names (net_id) are those;
 *                  host side of each NIC (domiflist target): a bridge NIC's
 *                  tap is a port of its bridge, <mtu> is the tap's MTU,
 *                  <bandwidth> has shaped it (tc: <inbound> an htb or tbf
 *                  root, <outbound> an ingress or clsact qdisc);
 *                  the guest has <vcpu> CPUs and <sysinfo>'s manufacturer
 *                  and product as its DMI vendor and product name; a
 *                  <graphics type='vnc'> answers "RFB " on 127.0.0.1:59xx;
 *                  the console's <log file> (nova) has the boot in it;
 *                  CloudStack: the PlugNic <interface> (cloudstack-plugnic.xml:
 *                  bridge, bandwidth, rom bar off, virtio, a MAC) hot-plugs
 *                  with `vnic attach-device` and gets the next name, as
 *                  predicted, in the guest too;
 *                  then `vnic shutdown` (ACPI; `destroy` after a failure),
 *                  `vnic undefine`, and no link is left but lo and the
 *                  test's bridges
 *   nova-ovs-virtualport-pc  (a domain vnic cannot run) `vnic define`
 *                  fails naming <virtualport>, nothing is stored
 *   cleanup        the network undefined, the bridges deleted, vnicd stops
 *                  (exit 0); no link but lo, no process of the test left
 *
 * A case that fails still tears its domain down, so the next one runs on a
 * clean host.  Failure messages say which step and show the console's and
 * vnicd's last lines.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-agents.h"

#define BOOT_TIMEOUT_S 240.0 /* UEFI under TCG, with other tests around */
#define GUEST_TIMEOUT_S 30.0

typedef struct {
    const char *name;    /* tests/data/agents/NAME.xml */
    gboolean plugnic;    /* hot-plug cloudstack-plugnic.xml (CloudStack) */
    const char *refuse;  /* non-NULL: define must fail, naming this */
} Agent;

static const Agent agents[] = {
    { "cloudstack-user-pc", TRUE, NULL },     { "cloudstack-user-q35-uefi", TRUE, NULL },
    { "cloudstack-router-pc", TRUE, NULL },   { "nova-ovs-pc", FALSE, NULL },
    { "nova-linuxbridge-q35", FALSE, NULL },  { "virt-install-pc", FALSE, NULL },
    { "virt-install-q35", FALSE, NULL },
    /* OVS without os-vif plugging: vnic cannot run <virtualport
     * type='openvswitch'> (no OVS), so define must say so, even with a
     * Linux bridge of that name present to silently fall back to */
    { "nova-ovs-virtualport-pc", FALSE, "virtualport" },
};

#define NETWORK_BRIDGE "virbr0"

static struct {
    E2eDaemon *daemon;
    GPtrArray *bridges;  /* the test's bridges in the namespace */
    gboolean network_defined;
    gboolean network_failed;
    char *network_error;
} S;

/* One agent's domain while its case runs. */
typedef struct {
    const Agent *agent;
    E2eDomainXml *xml;
    GPtrArray *nics;  /* AgentNic, document order */
    gboolean q35;
    E2eConsole *console;
    gboolean defined;
    GPid pid;
} Run;

static void
run_clear(Run *r)
{
    g_clear_pointer(&r->xml, e2e_domain_xml_free);
    g_clear_pointer(&r->nics, g_ptr_array_unref);
    g_clear_pointer(&r->console, e2e_console_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Run, run_clear)

/* Sets `error` and returns FALSE. */
static gboolean G_GNUC_PRINTF(2, 3)
fail(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, msg);
    return FALSE;
}

static const char *
or_none(const char *s)
{
    return s != NULL ? s : "(none)";
}

static gboolean
mac_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && g_ascii_strcasecmp(a, b) == 0;
}

static E2eCmdResult *
run_argv(GPtrArray *argv, double timeout_s)
{
    g_ptr_array_add(argv, NULL);
    return e2e_cmd_run((const char *const *)argv->pdata, timeout_s);
}

/* `vnic -c SOCKET VERB ARGS…` (NULL-terminated), 90 s at most. */
static E2eCmdResult *
vnic(const char *verb, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)e2e_vnic_binary());
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, (char *)e2e_daemon_socket(S.daemon));
    g_ptr_array_add(argv, (char *)verb);
    va_list ap;
    va_start(ap, verb);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    return run_argv(argv, 90);
}

/* TRUE when the command exited 0, else FALSE with its description. */
static gboolean
cmd_ok(E2eCmdResult *r, const char *what, GError **error)
{
    if (r->status == 0)
        return TRUE;
    g_autofree char *desc = e2e_cmd_result_describe(r);
    return fail(error, "%s failed:\n%s", what, desc);
}

static JsonObject *
cmd_json(E2eCmdResult *r, const char *what, GError **error)
{
    if (!cmd_ok(r, what, error))
        return NULL;
    g_autoptr(JsonNode) node = e2e_json_parse(r->out, error);
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
        g_clear_error(error);
        fail(error, "%s printed no JSON object:\n%s", what, r->out);
        return NULL;
    }
    return json_object_ref(json_node_get_object(node));
}

/* `ip ARGS…` in the namespace. */
static gboolean
ip(GError **error, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, "ip");
    va_list ap;
    va_start(ap, error);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_autoptr(E2eCmdResult) r = run_argv(argv, 20);
    return cmd_ok(r, "ip", error);
}

/* The bridge the agent's host would have, under the agent's name. */
static gboolean
ensure_bridge(const char *name, GError **error)
{
    for (guint i = 0; i < S.bridges->len; i++)
        if (strcmp(g_ptr_array_index(S.bridges, i), name) == 0)
            return TRUE;
    if (!ip(error, "link", "add", name, "type", "bridge", NULL) ||
        !ip(error, "link", "set", name, "up", NULL))
        return FALSE;
    g_ptr_array_add(S.bridges, g_strdup(name));
    return TRUE;
}

/* virt-install's `default`: a network forwarding to a bridge of ours. */
static gboolean
ensure_network(GError **error)
{
    if (S.network_defined)
        return TRUE;
    if (S.network_failed)
        return fail(error, "%s", S.network_error);
    if (!ensure_bridge(NETWORK_BRIDGE, error))
        return FALSE;
    g_autofree char *dir = e2e_tmp_dir("network-default");
    g_autofree char *path = g_build_filename(dir, "default.xml", NULL);
    const char *xml = "<network>\n  <name>default</name>\n  <forward mode='bridge'/>\n"
                      "  <bridge name='" NETWORK_BRIDGE "'/>\n</network>\n";
    if (!g_file_set_contents(path, xml, -1, error))
        return FALSE;
    g_autoptr(E2eCmdResult) def = vnic("net-define", path, NULL);
    g_autoptr(E2eCmdResult) start = NULL;
    if (cmd_ok(def, "vnic net-define (a bridge-forward network 'default')", error)) {
        start = vnic("net-start", "default", NULL);
        if (cmd_ok(start, "vnic net-start default", error)) {
            S.network_defined = TRUE;
            return TRUE;
        }
    }
    S.network_failed = TRUE;
    S.network_error = g_strdup((*error)->message);
    return FALSE;
}

/* Bridges and networks the domain's (and the PlugNic's) NICs name. */
static gboolean
make_host_side(GPtrArray *nics, GError **error)
{
    for (guint i = 0; i < nics->len; i++) {
        AgentNic *nic = g_ptr_array_index(nics, i);
        if (nic->bridge != NULL && !ensure_bridge(nic->bridge, error))
            return FALSE;
        if (nic->network != NULL && !ensure_network(error))
            return FALSE;
    }
    return TRUE;
}

static char *
corpus_path(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(e2e_source_root(), "tests", "data", "agents", file, NULL);
}

/* --- the steps of one agent's case ------------------------------------------------------ */

static gboolean
step_define(Run *r, GError **error)
{
    g_autofree char *path = corpus_path(r->agent->name);
    r->xml = agent_xml_prepare(path, error);
    if (r->xml == NULL)
        return FALSE;
    r->nics = agent_nics_of_xml(r->xml->xml, error);
    if (r->nics == NULL)
        return FALSE;
    r->q35 = agent_machine_is_q35(r->xml->xml);
    if (!make_host_side(r->nics, error))
        return FALSE;
    g_autoptr(E2eCmdResult) def = vnic("define", r->xml->xml_path, NULL);
    if (!cmd_ok(def, "vnic define", error))
        return FALSE;
    r->defined = TRUE;
    return TRUE;
}

/* `vnic start` in the background, the console connected as soon as QEMU
 * makes its socket (QEMU drops output while nobody listens), then the
 * guest's ready marker. */
static gboolean
step_boot(Run *r, GError **error)
{
    /* freed by e2e_cmd_finish() */
    E2eCmd *start = e2e_daemon_vnic_spawn(S.daemon, "start", r->xml->name, NULL);
    gint64 deadline = e2e_deadline(BOOT_TIMEOUT_S);
    while (r->console == NULL && e2e_ms_left(deadline) > 0) {
        if (g_file_test(r->xml->serial_path, G_FILE_TEST_EXISTS))
            r->console = e2e_console_connect(r->xml->serial_path, 2, NULL);
        if (r->console == NULL && e2e_cmd_done(start))
            break;
        g_usleep(10 * 1000);
    }
    g_autoptr(E2eCmdResult) res = e2e_cmd_finish(start, BOOT_TIMEOUT_S);
    if (!cmd_ok(res, "vnic start", error))
        return FALSE;
    if (r->console == NULL && !(r->console = e2e_console_connect(r->xml->serial_path, 5, error)))
        return FALSE;
    r->pid = e2e_daemon_running_pid(S.daemon, r->xml->name, error);
    if (r->pid <= 0)
        return *error != NULL ? FALSE : fail(error, "vnic list does not show %s running", r->xml->name);
    if (!e2e_console_wait_ready(r->console, BOOT_TIMEOUT_S, error)) {
        g_prefix_error(error, "the guest did not boot: ");
        return FALSE;
    }
    return TRUE;
}

/* What the agent's guest image expects NIC number `i` (0-based, document
 * order, hot-plugged ones after the boot NICs) to be called. */
static char *
expected_name(const Run *r, guint i)
{
    return r->q35 ? g_strdup_printf("enp%us0", i + 1) : g_strdup_printf("ens%u", i + 3);
}

/* `vnic pci --json`: MAC → predicted preferred name, and the next NIC's. */
static GHashTable *
predictions(Run *r, char **next, GError **error)
{
    g_autoptr(E2eCmdResult) res = vnic("pci", r->xml->name, "--json", NULL);
    g_autoptr(JsonObject) pci = cmd_json(res, "vnic pci --json", error);
    if (pci == NULL)
        return NULL;
    GHashTable *by_mac = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    JsonArray *devices = e2e_json_member_array(pci, "devices");
    for (guint i = 0; devices != NULL && i < json_array_get_length(devices); i++) {
        JsonObject *d = e2e_json_array_object(devices, i);
        const char *mac = e2e_json_get_string(d, "mac");
        const char *name = e2e_json_get_string(e2e_json_member_object(d, "names"), "preferred");
        if (mac != NULL && name != NULL)
            g_hash_table_insert(by_mac, g_ascii_strdown(mac, -1), g_strdup(name));
    }
    if (next != NULL)
        *next = g_strdup(e2e_json_get_string(
            e2e_json_member_object(e2e_json_member_object(pci, "next-nic"), "names"), "preferred"));
    return by_mac;
}

/* Waits (in the guest, ~10 s) until every MAC shows, then lists its NICs. */
static GPtrArray *
guest_nics_with(Run *r, GPtrArray *macs, GError **error)
{
    g_ptr_array_add(macs, NULL);
    g_autofree char *list = g_strjoinv(" ", (char **)macs->pdata);
    g_ptr_array_remove_index(macs, macs->len - 1);
    g_autofree char *cmd = g_strdup_printf(
        "i=0; while [ $i -lt 200 ]; do a=$(cat /sys/class/net/*/address); ok=1; "
        "for m in %s; do echo \"$a\" | grep -qix $m || ok=0; done; [ $ok = 1 ] && break; "
        "sleep 0.05; i=$((i+1)); done; [ $i -lt 200 ]",
        list);
    int status = -1;
    g_autofree char *out = NULL;
    if (!e2e_console_run(r->console, cmd, GUEST_TIMEOUT_S, &out, &status, error))
        return NULL;
    if (status != 0) {
        fail(error, "after 10 s the guest still lacks one of %s; it has:\n%s", list, out);
        return NULL;
    }
    return e2e_guest_nics(r->console, error);
}

/* The boot NICs: predicted in sequence, and so named in the guest. */
static gboolean
step_names(Run *r, GError **error)
{
    g_autoptr(GHashTable) pred = predictions(r, NULL, error);
    if (pred == NULL)
        return FALSE;
    g_autoptr(GPtrArray) macs = g_ptr_array_new();
    for (guint i = 0; i < r->nics->len; i++)
        g_ptr_array_add(macs, ((AgentNic *)g_ptr_array_index(r->nics, i))->mac);
    g_autoptr(GPtrArray) guest = guest_nics_with(r, macs, error);
    if (guest == NULL)
        return FALSE;
    g_autoptr(GString) bad = g_string_new(NULL);
    for (guint i = 0; i < r->nics->len; i++) {
        const AgentNic *nic = g_ptr_array_index(r->nics, i);
        g_autofree char *want = expected_name(r, i);
        const char *predicted = g_hash_table_lookup(pred, nic->mac);
        const E2eGuestNic *g = e2e_guest_nics_find_mac(guest, nic->mac);
        const char *got = g != NULL ? e2e_guest_nic_preferred(g) : NULL;
        g_test_message("NIC #%u %s (%s): expected %s, vnic pci %s, guest %s", i + 1, nic->mac, nic->type,
                       want, or_none(predicted), or_none(got));
        if (g_strcmp0(predicted, want) != 0)
            g_string_append_printf(bad, "NIC #%u %s: vnic pci predicts %s, the agent's guest expects %s\n",
                                   i + 1, nic->mac, or_none(predicted), want);
        if (g_strcmp0(got, predicted) != 0)
            g_string_append_printf(bad, "NIC #%u %s: the guest names it %s (slot %s, path %s), vnic pci "
                                        "predicted %s\n",
                                   i + 1, nic->mac, or_none(got), g ? or_none(g->slot) : "-",
                                   g ? or_none(g->path) : "-", or_none(predicted));
    }
    return bad->len == 0 ? TRUE : fail(error, "guest NIC names:\n%s", bad->str);
}

static char *
sysfs_net(const char *dev, const char *file)
{
    g_autofree char *path = g_build_filename("/sys/class/net", dev, file, NULL);
    g_autofree char *text = NULL;
    if (strcmp(file, "master") == 0) {
        g_autofree char *link = g_file_read_link(path, NULL);
        return link != NULL ? g_path_get_basename(link) : NULL;
    }
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return g_strdup(g_strstrip(text));
}

/* The host side of one NIC, whose tap is `tap`, into `bad`. */
static void
check_host_nic(const AgentNic *nic, const char *tap, GString *bad)
{
    if (tap == NULL || !e2e_netns_has_link(tap)) {
        g_string_append_printf(bad, "%s: its tap %s does not exist\n", nic->mac, or_none(tap));
        return;
    }
    if (nic->bridge != NULL) {
        g_autofree char *master = sysfs_net(tap, "master");
        if (g_strcmp0(master, nic->bridge) != 0)
            g_string_append_printf(bad, "%s: tap %s is a port of %s, not of bridge %s\n", nic->mac, tap,
                                   or_none(master), nic->bridge);
    }
    if (nic->mtu != 0) {
        g_autofree char *mtu = sysfs_net(tap, "mtu");
        if (mtu == NULL || (guint)g_ascii_strtoull(mtu, NULL, 10) != nic->mtu)
            g_string_append_printf(bad, "%s: tap %s has MTU %s, <mtu size='%u'/>\n", nic->mac, tap,
                                   or_none(mtu), nic->mtu);
    }
    if (nic->inbound || nic->outbound) {
        const char *const argv[] = { "tc", "qdisc", "show", "dev", tap, NULL };
        g_autoptr(E2eCmdResult) tc = e2e_cmd_run(argv, 20);
        /* inbound (host to guest): a shaping root qdisc; outbound: an
         * ingress (or clsact) qdisc, whose filters police or redirect to
         * an ifb */
        gboolean in_ok = strstr(tc->out, "qdisc htb") != NULL || strstr(tc->out, "qdisc tbf") != NULL;
        gboolean out_ok = strstr(tc->out, "qdisc ingress") != NULL || strstr(tc->out, "qdisc clsact") != NULL;
        if (tc->status != 0 || (nic->inbound && !in_ok) || (nic->outbound && !out_ok))
            g_string_append_printf(bad, "%s: <bandwidth>%s%s but tap %s is not shaped so (tc qdisc: %s)\n",
                                   nic->mac, nic->inbound ? "<inbound>" : "", nic->outbound ? "<outbound>" : "",
                                   tap, g_strstrip(tc->out));
    }
}

/* domiflist: each NIC's tap, then check_host_nic() for every one. */
static gboolean
check_host_side(Run *r, GPtrArray *nics, GError **error)
{
    g_autoptr(E2eCmdResult) res = vnic("domiflist", r->xml->name, "--json", NULL);
    g_autoptr(JsonObject) o = cmd_json(res, "vnic domiflist --json", error);
    if (o == NULL)
        return FALSE;
    JsonArray *ifaces = e2e_json_member_array(o, "interfaces");
    g_autoptr(GString) bad = g_string_new(NULL);
    for (guint i = 0; i < nics->len; i++) {
        const AgentNic *nic = g_ptr_array_index(nics, i);
        const char *tap = NULL;
        for (guint j = 0; ifaces != NULL && j < json_array_get_length(ifaces); j++) {
            JsonObject *ifc = e2e_json_array_object(ifaces, j);
            if (mac_eq(e2e_json_get_string(ifc, "mac"), nic->mac))
                tap = e2e_json_get_string(ifc, "target");
        }
        check_host_nic(nic, tap, bad);
    }
    return bad->len == 0 ? TRUE : fail(error, "host side of the NICs:\n%s", bad->str);
}

/* Listening TCP ports in 5900–5999 of the namespace (/proc/net/tcp). */
static GArray *
vnc_ports(void)
{
    GArray *ports = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/net/tcp", &text, NULL, NULL))
        return ports;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        unsigned addr, port, st;
        if (sscanf(*l, " %*u: %8x:%4x %*8x:%*4x %2x", &addr, &port, &st) == 3 && st == 0x0a &&
            port >= 5900 && port < 6000)
            g_array_append_val(ports, port);
    }
    return ports;
}

/* The first bytes a VNC server sends on 127.0.0.1:`port`. */
static char *
rfb_banner(guint port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((guint16)port) };
    char buf[13] = { 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return NULL;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || poll(&p, 1, 5000) != 1 ||
        read(fd, buf, 12) <= 0) {
        close(fd);
        return NULL;
    }
    close(fd);
    return g_strescape(buf, NULL);
}

/* <sysinfo> as the guest's DMI, <vcpu> as its CPUs, <graphics type='vnc'>
 * as a VNC server answering on the host. */
static gboolean
step_facts(Run *r, GError **error)
{
    g_auto(AgentFacts) f = { 0 };
    agent_facts_of_xml(r->xml->xml, &f);
    g_autoptr(GString) bad = g_string_new(NULL);
    int status = -1;
    g_autofree char *out = NULL;
    if (!e2e_console_run(r->console, "grep -c ^processor /proc/cpuinfo", GUEST_TIMEOUT_S, &out, &status, error))
        return FALSE;
    if (status != 0 || (guint)g_ascii_strtoull(g_strstrip(out), NULL, 10) != f.vcpus)
        g_string_append_printf(bad, "<vcpu>%u</vcpu>, the guest has %s CPUs\n", f.vcpus, g_strstrip(out));
    if (f.manufacturer != NULL || f.product != NULL) {
        g_clear_pointer(&out, g_free);
        if (!e2e_console_run(r->console, "cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name",
                             GUEST_TIMEOUT_S, &out, &status, error))
            return FALSE;
        g_autofree char *want = g_strdup_printf("%s\n%s", or_none(f.manufacturer), or_none(f.product));
        if (g_strcmp0(g_strstrip(out), want) != 0)
            g_string_append_printf(bad, "<sysinfo>: the guest's DMI vendor/product are '%s', expected '%s'\n",
                                   out, want);
    }
    if (f.vnc) {
        g_autoptr(GArray) ports = vnc_ports();
        g_autofree char *banner = ports->len > 0 ? rfb_banner(g_array_index(ports, guint, 0)) : NULL;
        if (banner == NULL || !g_str_has_prefix(banner, "RFB "))
            g_string_append_printf(bad, "<graphics type='vnc'>: %s\n",
                                   ports->len == 0 ? "nothing listens on a TCP port 5900-5999"
                                                   : "the port does not answer as a VNC server");
    }
    if (f.serial_log != NULL) {
        g_autofree char *log = NULL;
        if (!g_file_get_contents(f.serial_log, &log, NULL, NULL) || strstr(log, "VNIC-GUEST-READY") == NULL)
            g_string_append_printf(bad, "<serial><log file='%s'/>: %s\n", f.serial_log,
                                   log == NULL ? "no such file" : "the boot is not in it");
    }
    return bad->len == 0 ? TRUE : fail(error, "what the guest and host see:\n%s", bad->str);
}

/* CloudStack's PlugNicCommand: attach-device of its <interface>. */
static gboolean
step_plugnic(Run *r, GError **error)
{
    g_autofree char *src = corpus_path("cloudstack-plugnic");
    g_autofree char *xml = NULL;
    if (!g_file_get_contents(src, &xml, NULL, error))
        return FALSE;
    g_autoptr(GPtrArray) plug = agent_nics_of_xml(xml, error);
    if (plug == NULL || !make_host_side(plug, error))
        return FALSE;
    const AgentNic *nic = g_ptr_array_index(plug, 0);
    g_autofree char *want = expected_name(r, r->nics->len);
    g_autofree char *next = NULL;
    g_autoptr(GHashTable) pred = predictions(r, &next, error);
    if (pred == NULL)
        return FALSE;
    if (g_strcmp0(next, want) != 0)
        return fail(error, "before PlugNic vnic pci predicts %s for the next NIC, the agent expects %s",
                    or_none(next), want);
    g_autoptr(E2eCmdResult) res = vnic("attach-device", r->xml->name, src, "--json", NULL);
    g_autoptr(JsonObject) ret = cmd_json(res, "vnic attach-device cloudstack-plugnic.xml", error);
    if (ret == NULL)
        return FALSE;
    const char *guest_name = e2e_json_get_string(ret, "guest-name");
    if (!mac_eq(e2e_json_get_string(ret, "mac"), nic->mac) || g_strcmp0(guest_name, want) != 0)
        return fail(error, "attach-device answered MAC %s, guest-name %s; expected %s, %s",
                    or_none(e2e_json_get_string(ret, "mac")), or_none(guest_name), nic->mac, want);
    g_autoptr(GPtrArray) macs = g_ptr_array_new();
    g_ptr_array_add(macs, nic->mac);
    g_autoptr(GPtrArray) guest = guest_nics_with(r, macs, error);
    if (guest == NULL)
        return FALSE;
    const E2eGuestNic *g = e2e_guest_nics_find_mac(guest, nic->mac);
    const char *got = g != NULL ? e2e_guest_nic_preferred(g) : NULL;
    g_test_message("PlugNic %s: expected %s, guest %s", nic->mac, want, or_none(got));
    if (g_strcmp0(got, want) != 0)
        return fail(error, "the PlugNic NIC %s is %s in the guest, expected %s", nic->mac, or_none(got), want);
    return check_host_side(r, plug, error);
}

/* A domain vnic cannot run: `vnic define` fails naming `what`, and
 * nothing is stored. */
static gboolean
step_refused(Run *r, GError **error)
{
    g_autofree char *path = corpus_path(r->agent->name);
    r->xml = agent_xml_prepare(path, error);
    if (r->xml == NULL || !(r->nics = agent_nics_of_xml(r->xml->xml, error)) ||
        !make_host_side(r->nics, error))
        return FALSE;
    g_autoptr(E2eCmdResult) def = vnic("define", r->xml->xml_path, NULL);
    g_autofree char *desc = e2e_cmd_result_describe(def);
    if (def->status == 0) {
        r->defined = TRUE;
        return fail(error, "vnic define accepted a domain it cannot run (<%s>):\n%s", r->agent->refuse, desc);
    }
    if (def->status != 1 || strstr(def->err, r->agent->refuse) == NULL)
        return fail(error, "vnic define failed, but not naming <%s>:\n%s", r->agent->refuse, desc);
    g_autoptr(E2eCmdResult) list = vnic("list", "--all", "--name", NULL);
    if (!cmd_ok(list, "vnic list --all --name", error))
        return FALSE;
    if (strstr(list->out, r->xml->name) != NULL)
        return fail(error, "the refused domain %s is listed:\n%s", r->xml->name, list->out);
    g_test_message("refused as it should be: %s", g_strstrip(def->err));
    return TRUE;
}

static gboolean
agent_run(Run *r, GError **error)
{
    if (r->agent->refuse != NULL)
        return step_refused(r, error);
    return step_define(r, error) && step_boot(r, error) && step_names(r, error) &&
           check_host_side(r, r->nics, error) && step_facts(r, error) &&
           (!r->agent->plugnic || step_plugnic(r, error));
}

/* --- teardown ----------------------------------------------------------------------------- */

/* The namespace's links but lo and the test's bridges. */
static char *
foreign_links(void)
{
    g_autoptr(GPtrArray) links = e2e_netns_links();
    g_autoptr(GString) out = g_string_new(NULL);
    for (guint i = 0; i < links->len; i++) {
        const char *l = g_ptr_array_index(links, i);
        gboolean ours = strcmp(l, "lo") == 0;
        for (guint j = 0; !ours && j < S.bridges->len; j++)
            ours = strcmp(l, g_ptr_array_index(S.bridges, j)) == 0;
        if (!ours)
            g_string_append_printf(out, " %s", l);
    }
    return g_strdup(out->str);
}

/* Shutdown (or destroy when the case failed), undefine, no link left. */
static gboolean
agent_teardown(Run *r, gboolean ok, GError **error)
{
    gboolean clean = TRUE;
    GPid pid = r->defined ? e2e_daemon_running_pid(S.daemon, r->xml->name, NULL) : 0;
    if (pid > 0) {
        r->pid = pid;
        g_autoptr(E2eCmdResult) down = ok ? vnic("shutdown", r->xml->name, "--timeout", "90", NULL)
                                          : vnic("destroy", r->xml->name, NULL);
        if (!cmd_ok(down, ok ? "vnic shutdown" : "vnic destroy", error)) {
            g_autoptr(E2eCmdResult) kill = vnic("destroy", r->xml->name, NULL);
            clean = FALSE;
        }
        gint64 deadline = e2e_deadline(10);
        while (e2e_proc_alive(r->pid) && e2e_ms_left(deadline) > 0)
            g_usleep(20 * 1000);
        if (clean && e2e_proc_alive(r->pid))
            clean = fail(error, "QEMU (pid %d) still runs after the domain went down", (int)r->pid);
    }
    if (r->defined) {
        g_autoptr(E2eCmdResult) undef = vnic("undefine", r->xml->name, NULL);
        if (clean && !cmd_ok(undef, "vnic undefine", error))
            clean = FALSE;
    }
    g_autofree char *left = foreign_links();
    if (clean && *left != '\0')
        clean = fail(error, "after the domain went: links left:%s", left);
    return clean;
}

static void
report(Run *r, const char *what, const GError *error)
{
    g_autofree char *log = e2e_daemon_log_tail(S.daemon, 25);
    g_autofree char *console = r->console != NULL ? e2e_console_transcript(r->console, 800) : NULL;
    g_test_message("--- vnicd log (last lines)\n%s", log);
    if (console != NULL)
        g_test_message("--- console of %s (last bytes)\n%s", r->xml->name, console);
    g_test_fail_printf("%s %s: %s", r->agent->name, what, error->message);
}

static void
test_agent(gconstpointer data)
{
    if (S.daemon == NULL || !e2e_daemon_running(S.daemon)) {
        g_test_skip("needs /e2e/agents/setup (a running vnicd), which failed");
        return;
    }
    g_auto(Run) r = { .agent = data };
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) down_error = NULL;
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = agent_run(&r, &error);
    gboolean down = agent_teardown(&r, ok, &down_error);
    g_test_message("%s: %.1f s", r.agent->name, (g_get_monotonic_time() - t0) / 1e6);
    if (!ok)
        report(&r, "", error);
    else if (!down)
        report(&r, "teardown", down_error);
}

/* --- setup and cleanup --------------------------------------------------------------------- */

static void
test_setup(void)
{
    g_autoptr(GError) error = NULL;
    S.bridges = g_ptr_array_new_with_free_func(g_free);
    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
}

static void
test_cleanup(void)
{
    if (S.daemon == NULL || !e2e_daemon_running(S.daemon)) {
        g_test_skip("needs a running vnicd");
        return;
    }
    g_autoptr(GError) error = NULL;
    if (S.network_defined) {
        g_autoptr(E2eCmdResult) d = vnic("net-destroy", "default", NULL);
        g_autoptr(E2eCmdResult) u = vnic("net-undefine", "default", NULL);
        E2E_CHECK(cmd_ok(d, "vnic net-destroy default", &error) && cmd_ok(u, "vnic net-undefine default", &error),
                  "%s", error->message);
    }
    for (guint i = 0; i < S.bridges->len; i++)
        E2E_CHECK(ip(&error, "link", "del", g_ptr_array_index(S.bridges, i), NULL), "%s", error->message);
    g_ptr_array_set_size(S.bridges, 0);
    g_autofree char *rest = e2e_netns_links_besides_lo();
    E2E_CHECK(*rest == '\0', "links left in the namespace: %s", rest);
    int code = -2;
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error), "%s", error->message);
    E2E_CHECK(code == 0, "vnicd exit code %d after SIGTERM", code);
    g_autoptr(GArray) procs = e2e_proc_find(e2e_tmp_root());
    E2E_CHECK(procs->len == 0, "%u process(es) of the test still run", procs->len);
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/agents/setup", test_setup);
    for (gsize i = 0; i < G_N_ELEMENTS(agents); i++) {
        g_autofree char *path = g_strconcat("/e2e/agents/", agents[i].name, NULL);
        g_test_add_data_func(path, &agents[i], test_agent);
    }
    g_test_add_func("/e2e/agents/cleanup", test_cleanup);
    int rc = e2e_finish();
    g_free(S.network_error);
    /* Leftover guests and the daemon are the guard's (e2e-env.c). */
    return rc;
}
