/* test-hotplug.c: NIC hot-plug end to end (meson test 'e2e-hotplug').
 *
 * One vnicd, three guests booted once, in parallel, and shared by the cases
 * (each says which earlier step it needs):
 *   pc    a test copy of examples/cloudstack-pc.xml (NICs ens3, ens4)
 *   q35   a test copy of examples/q35.xml (NICs enp1s0, enp2s0, 8 spare
 *         root ports)
 *   deny  examples/q35.xml again, its second NIC with
 *         <vnic:unplug guest='deny'/>, which makes it an integrated endpoint
 *         on pcie.0 (enp0sN)
 * Everything happens in the program's private network namespace.
 *
 *   start          define and start the three domains, all boot
 *   pc-names       before each hot-plug `vnic pci --json` predicts the name
 *                  (next-nic.names.preferred): a 3rd NIC is ens5, a 4th ens6
 *                  in the guest (net_id, by MAC); detach the 3rd (completed):
 *                  gone from the guest, its tap gone; a new one is ens5
 *                  again; detach the ens6 one and replug it (--replug --mac):
 *                  same MAC, same slot, ens6 again
 *   q35-spare-ports  8 hot-plugs give enp3s0 … enp10s0 (ID_NET_NAME_PATH);
 *                  the 9th fails (PlacementError, mentions spare ports) and
 *                  leaves nothing: no new link, dumpxml and QEMU's fd count
 *                  unchanged
 *   acpi-index-*   a NIC hot-plugged with acpi-index 3 is eno3
 *                  (ID_NET_NAME_ONBOARD): pc with attach-interface, q35 with
 *                  attach-device
 *   bridge-traffic  bridge br0 (10.99.0.1/24) in the namespace, a NIC of
 *                  type bridge on it, 10.99.0.2/24 in the guest: ICMP echo
 *                  from the namespace is answered
 *   macvtap-traffic  veth vmA/vmB (10.98.0.1/24 on vmB), a NIC of type
 *                  direct on vmA (mode bridge), 10.98.0.2/24 in the guest:
 *                  ICMP echo from the namespace is answered
 *   rollback       the raw API's "x-fail-step" (getfd, netdev_add,
 *                  device_add): QemuError naming the step, no new link,
 *                  QEMU's fd count and dumpxml unchanged; the next hot-plug
 *                  gets the address the failed ones would have had
 *   guest-unplug   `vnic events --count 1 --json` running, the guest powers
 *                  a hot-plugged NIC's slot off: DEVICE_REMOVED with
 *                  initiator guest and its MAC, its tap gone, not in
 *                  domiflist
 *   refusals       detaching the deny NIC (detach-interface and
 *                  detach-device) is refused: PlacementError, "forbidden";
 *                  the guest keeps it
 *   q35-guest-eject  inside the deny guest: /sys/bus/pci/slots has no slot
 *                  at the deny NIC's address (an integrated endpoint on
 *                  pcie.0 has no hot-plug slot, so the guest cannot eject
 *                  it), but one for the first NIC's root port; the guest
 *                  powers that slot off: vnicd forgets the NIC (domiflist),
 *                  its tap goes, the guest loses it and keeps the deny NIC
 *   cleanup        destroy all, delete br0 and the veths, stop vnicd: no
 *                  link but lo, no process of the test, nothing but logs
 *                  in the run dir
 *
 * The hot-plug verbs are the CLI's (vnic attach-interface, attach-device,
 * detach-interface, detach-device, events, each with --json); only the
 * fault injection ("x-fail-step", tests only) goes through the raw API.
 *
 * No ping(8) is needed: the namespace side of the traffic checks is an ICMP
 * echo over a raw socket here, with ping -c 3 -W 2's meaning (3 echoes, 2 s
 * each, success when one is answered).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"

typedef struct {
    const char *example;
    const char *tag;
    E2eDomainXml *xml;
    E2eConsole *console;
    gboolean booted;
    GPid pid;  /* QEMU, as `vnic list --json` reports it */
} Dom;

static struct {
    E2eDaemon *daemon;
    Dom dom[3];
    gboolean started;
    gboolean made_bridge;
    gboolean made_veth;
    gint64 t0;
} S = {
    .dom = {
        { .example = "examples/cloudstack-pc.xml" },
        { .example = "examples/q35.xml" },
        { .example = "examples/q35.xml", .tag = "deny" },
    },
};

#define PC (&S.dom[0])
#define Q35 (&S.dom[1])
#define DENY (&S.dom[2])

/* The deny domain: MACs of its own, the second NIC's unplug denied. */
#define DENY_MAC_PREFIX "52:54:00:37:00:0"
#define DENY_NIC_MAC "52:54:00:37:00:02"

#define GUEST_TIMEOUT_S 30.0

/* Skips a case whose precondition failed earlier (that failure is reported). */
#define NEED(cond, what)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_test_skip("needs " what ", which failed");                  \
            return;                                                       \
        }                                                                 \
    } while (0)

#define NEED_BOOTED(dom) NEED((dom)->booted, "/e2e/hotplug/start")

/* Fails the case unless the command exited 0. */
#define CMD_OK(result)                                                                 \
    do {                                                                               \
        if ((result)->status != 0) {                                                   \
            g_autofree char *desc_ = e2e_cmd_result_describe(result);                  \
            g_test_fail_printf("%s", desc_);                                           \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* --- small helpers ------------------------------------------------------------------ */

static double
elapsed_s(gint64 since)
{
    return (g_get_monotonic_time() - since) / 1e6;
}

/* `vnic -c SOCKET VERB ARGS…` (NULL-terminated), 60 s at most. */
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
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL)
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    return e2e_cmd_run((const char *const *)argv->pdata, 60);
}

/* Parses a command's stdout as a JSON object; NULL (with `error`) unless it
 * exited 0 and printed one. */
static JsonObject *
result_object(E2eCmdResult *r, GError **error)
{
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return NULL;
    }
    g_autoptr(JsonNode) node = e2e_json_parse(r->out, error);
    if (node == NULL) {
        g_prefix_error(error, "`%s` printed no JSON: ", r->command);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "`%s` printed no JSON object:\n%s",
                    r->command, r->out);
        return NULL;
    }
    return json_object_ref(json_node_get_object(node));
}

static gboolean
mac_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && g_ascii_strcasecmp(a, b) == 0;
}

/* What `vnic pci NAME --json` says the next NIC gets. */
typedef struct {
    char *address;
    char *preferred;
    char *path;
} Prediction;

static void
prediction_clear(Prediction *p)
{
    g_clear_pointer(&p->address, g_free);
    g_clear_pointer(&p->preferred, g_free);
    g_clear_pointer(&p->path, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Prediction, prediction_clear)

static gboolean
predict_next(Dom *dom, Prediction *p, GError **error)
{
    g_autoptr(E2eCmdResult) r = vnic("pci", dom->xml->name, "--json", NULL);
    g_autoptr(JsonObject) pci = result_object(r, error);
    if (pci == NULL)
        return FALSE;
    JsonObject *next = e2e_json_member_object(pci, "next-nic");
    JsonObject *names = e2e_json_member_object(next, "names");
    if (names == NULL || e2e_json_get_string(names, "preferred") == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "vnic pci %s --json: no next-nic.names.preferred:\n%s", dom->xml->name, r->out);
        return FALSE;
    }
    p->address = g_strdup(e2e_json_get_string(next, "address"));
    p->preferred = g_strdup(e2e_json_get_string(names, "preferred"));
    p->path = g_strdup(e2e_json_get_string(names, "path"));
    return TRUE;
}

/* The entry of `vnic pci NAME --json` devices[] with this MAC, or NULL. */
static JsonObject *
pci_device_of_mac(Dom *dom, const char *mac, GError **error)
{
    g_autoptr(E2eCmdResult) r = vnic("pci", dom->xml->name, "--json", NULL);
    g_autoptr(JsonObject) pci = result_object(r, error);
    JsonArray *devices = e2e_json_member_array(pci, "devices");
    for (guint i = 0; devices != NULL && i < json_array_get_length(devices); i++) {
        JsonObject *d = e2e_json_array_object(devices, i);
        if (mac_eq(e2e_json_get_string(d, "mac"), mac))
            return json_object_ref(d);
    }
    return NULL;
}

/* `vnic domiflist NAME --json` → the interface with this MAC, or NULL;
 * `out_count` (may be NULL): how many it lists. */
static JsonObject *
domiflist_mac(Dom *dom, const char *mac, guint *out_count, GError **error)
{
    g_autoptr(E2eCmdResult) r = vnic("domiflist", dom->xml->name, "--json", NULL);
    g_autoptr(JsonObject) o = result_object(r, error);
    JsonArray *ifaces = e2e_json_member_array(o, "interfaces");
    if (o != NULL && ifaces == NULL)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "domiflist --json: no interfaces:\n%s",
                    r->out);
    if (out_count != NULL)
        *out_count = ifaces != NULL ? json_array_get_length(ifaces) : 0;
    for (guint i = 0; ifaces != NULL && i < json_array_get_length(ifaces); i++) {
        JsonObject *ifc = e2e_json_array_object(ifaces, i);
        if (mac_eq(e2e_json_get_string(ifc, "mac"), mac))
            return json_object_ref(ifc);
    }
    return NULL;
}

static char *
dumpxml(Dom *dom, GError **error)
{
    g_autoptr(E2eCmdResult) r = vnic("dumpxml", dom->xml->name, NULL);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return NULL;
    }
    return g_steal_pointer(&r->out);
}

/* Open file descriptors of a process (-1 when it cannot be read). */
static int
fd_count(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    if (d == NULL)
        return -1;
    int n = 0;
    while (g_dir_read_name(d) != NULL)
        n++;
    return n;
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The namespace's links, sorted, space separated. */
static char *
links_now(void)
{
    g_autoptr(GPtrArray) links = e2e_netns_links();
    g_ptr_array_sort(links, cmp_str);
    g_ptr_array_add(links, NULL);
    return g_strjoinv(" ", (char **)links->pdata);
}

/* `ip ARGS…` in the namespace; FALSE with the output when it fails. */
static gboolean
ip(GError **error, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, "ip");
    va_list ap;
    va_start(ap, error);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL)
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    g_autoptr(E2eCmdResult) r = e2e_cmd_run((const char *const *)argv->pdata, 20);
    if (r->status == 0)
        return TRUE;
    g_autofree char *desc = e2e_cmd_result_describe(r);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
    return FALSE;
}

/* What a domain looks like from the host, to compare before and after a
 * refused or failed hot-plug. */
typedef struct {
    char *links;
    char *xml;
    int fds;
} Snapshot;

static void
snapshot_clear(Snapshot *s)
{
    g_clear_pointer(&s->links, g_free);
    g_clear_pointer(&s->xml, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Snapshot, snapshot_clear)

static gboolean
snapshot_take(Dom *dom, Snapshot *s, GError **error)
{
    s->links = links_now();
    s->fds = fd_count(dom->pid);
    s->xml = dumpxml(dom, error);
    return s->xml != NULL;
}

/* NULL when `now` is `before`, else what differs. */
static char *
snapshot_diff(Dom *dom, const Snapshot *before, GError **error)
{
    g_auto(Snapshot) now = { 0 };
    if (!snapshot_take(dom, &now, error))
        return NULL;
    g_autoptr(GString) d = g_string_new(NULL);
    if (g_strcmp0(before->links, now.links) != 0)
        g_string_append_printf(d, "links were [%s], are [%s]; ", before->links, now.links);
    if (before->fds != now.fds)
        g_string_append_printf(d, "QEMU (pid %d) had %d fds, has %d; ", (int)dom->pid, before->fds,
                               now.fds);
    if (g_strcmp0(before->xml, now.xml) != 0)
        g_string_append_printf(d, "dumpxml changed:\n--- before\n%s\n--- after\n%s\n", before->xml,
                               now.xml);
    return d->len > 0 ? g_string_free(g_steal_pointer(&d), FALSE) : NULL;
}

/* --- the guest -------------------------------------------------------------------------- */

/* Waits (in the guest, up to ~10 s) until it has an interface with each of
 * `macs` (`present`) or with none of them, then lists the guest's NICs
 * (udevadm takes a while per NIC under TCG: one listing for many MACs). */
static GPtrArray *
guest_wait_macs(Dom *dom, const char *const *macs, gboolean present, GError **error)
{
    g_autofree char *list = g_strjoinv(" ", (char **)macs);
    g_autofree char *cmd = g_strdup_printf(
        "i=0; while [ $i -lt 200 ]; do a=$(cat /sys/class/net/*/address); ok=1; "
        "for m in %s; do echo \"$a\" | grep -qix $m %s ok=0; done; [ $ok = 1 ] && break; "
        "sleep 0.05; i=$((i+1)); done; [ $i -lt 200 ]",
        list, present ? "||" : "&&");
    int status = -1;
    g_autofree char *out = NULL;
    if (!e2e_console_run(dom->console, cmd, GUEST_TIMEOUT_S, &out, &status, error))
        return NULL;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s: after 10 s the guest %s %s (%s)",
                    dom->xml->name, present ? "still lacks one of the MACs" : "still has one of the MACs",
                    list, out);
        return NULL;
    }
    return e2e_guest_nics(dom->console, error);
}

/* guest_wait_macs() for one MAC; `out_nic` (may be NULL): the NIC with that
 * MAC when `present`, pointing into the returned array. */
static GPtrArray *
guest_wait_mac(Dom *dom, const char *mac, gboolean present, const E2eGuestNic **out_nic,
               GError **error)
{
    const char *const macs[] = { mac, NULL };
    GPtrArray *nics = guest_wait_macs(dom, macs, present, error);
    if (nics != NULL && out_nic != NULL) {
        *out_nic = e2e_guest_nics_find_mac(nics, mac);
        if (*out_nic == NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: no guest NIC with MAC %s in the list",
                        dom->xml->name, mac);
            g_ptr_array_unref(nics);
            return NULL;
        }
    }
    return nics;
}

static const char *
or_none(const char *s)
{
    return s != NULL ? s : "(none)";
}

/* Runs a guest command that must succeed. */
static gboolean
guest_ok(Dom *dom, const char *cmd, char **out, GError **error)
{
    int status = -1;
    g_autofree char *text = NULL;
    if (!e2e_console_run(dom->console, cmd, GUEST_TIMEOUT_S, &text, &status, error))
        return FALSE;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: `%s` exited %d: %s", dom->xml->name,
                    cmd, status, text);
        return FALSE;
    }
    if (out != NULL)
        *out = g_steal_pointer(&text);
    return TRUE;
}

/* Whether the guest has an interface with `mac` right now (no waiting). */
static gboolean
guest_has_mac(Dom *dom, const char *mac, gboolean *out_has, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("cat /sys/class/net/*/address | grep -qix '%s'", mac);
    int status = -1;
    if (!e2e_console_run(dom->console, cmd, GUEST_TIMEOUT_S, NULL, &status, error))
        return FALSE;
    *out_has = status == 0;
    return TRUE;
}

/* --- hot-plug through the CLI --------------------------------------------------------- */

/* `vnic attach-interface DOM ARGS… --json` → vnicd's answer (alias, mac,
 * address, guest-name, target, timings). */
static JsonObject *
attach_interface(Dom *dom, GError **error, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)e2e_vnic_binary());
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, (char *)e2e_daemon_socket(S.daemon));
    g_ptr_array_add(argv, "attach-interface");
    g_ptr_array_add(argv, dom->xml->name);
    va_list ap;
    va_start(ap, error);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL)
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, "--json");
    g_ptr_array_add(argv, NULL);
    g_autoptr(E2eCmdResult) r = e2e_cmd_run((const char *const *)argv->pdata, 60);
    JsonObject *o = result_object(r, error);
    if (o != NULL && (e2e_json_get_string(o, "mac") == NULL || e2e_json_get_string(o, "address") == NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no mac or address in\n%s",
                    r->command, r->out);
        g_clear_pointer(&o, json_object_unref);
    }
    return o;
}

/* Whether link @name is gone within 10 s: a detach completes when QEMU's
 * netdev is gone; the kernel deletes the link after (docs/api.md). */
static gboolean
link_goes(const char *name)
{
    gint64 deadline = e2e_deadline(10);

    while (e2e_netns_has_link(name)) {
        if (e2e_ms_left(deadline) == 0)
            return FALSE;
        g_usleep(10 * 1000);
    }
    return TRUE;
}

/* `vnic detach-interface DOM --mac MAC --json`, which must complete. */
static gboolean
detach_mac(Dom *dom, const char *mac, GError **error)
{
    g_autoptr(E2eCmdResult) r = vnic("detach-interface", dom->xml->name, "--mac", mac, "--json", NULL);
    g_autoptr(JsonObject) o = result_object(r, error);
    if (o == NULL)
        return FALSE;
    JsonNode *c = json_object_get_member(o, "completed");
    if (c == NULL || !JSON_NODE_HOLDS_VALUE(c) || !json_node_get_boolean(c)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: not completed:\n%s", r->command, r->out);
        return FALSE;
    }
    JsonObject *t = e2e_json_member_object(o, "timings");
    if (t != NULL)
        g_test_message("%s: detach %s: guest %.1f ms, cleanup %.1f ms", dom->xml->name, mac,
                       json_object_get_int_member_with_default(t, "guest-us", 0) / 1e3,
                       json_object_get_int_member_with_default(t, "cleanup-us", 0) / 1e3);
    return TRUE;
}

/* Attaches (ARGS… for attach-interface) a NIC after asking `vnic pci` where
 * it goes, and checks that vnicd put it there and that the guest names it
 * as predicted (and `want`, when not NULL).  Returns the answer. */
static JsonObject *
plug_checked(Dom *dom, const char *want, GError **error, const char *a1, const char *a2,
             const char *a3, const char *a4)
{
    g_auto(Prediction) p = { 0 };
    if (!predict_next(dom, &p, error))
        return NULL;
    if (want != NULL && g_strcmp0(p.preferred, want) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: vnic pci predicts %s (at %s) for the next NIC, expected %s", dom->xml->name,
                    p.preferred, p.address, want);
        return NULL;
    }
    g_autoptr(JsonObject) ret = attach_interface(dom, error, a1, a2, a3, a4, NULL);
    if (ret == NULL)
        return NULL;
    const char *mac = e2e_json_get_string(ret, "mac");
    const char *address = e2e_json_get_string(ret, "address");
    const char *guest_name = e2e_json_get_string(ret, "guest-name");
    if (g_strcmp0(address, p.address) != 0 || g_strcmp0(guest_name, p.preferred) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: vnic pci predicted %s at %s, attach-interface says %s at %s", dom->xml->name,
                    p.preferred, p.address, guest_name, address);
        return NULL;
    }
    const E2eGuestNic *nic = NULL;
    g_autoptr(GPtrArray) nics = guest_wait_mac(dom, mac, TRUE, &nic, error);
    if (nics == NULL)
        return NULL;
    if (g_strcmp0(e2e_guest_nic_preferred(nic), p.preferred) != 0 ||
        (p.path != NULL && g_strcmp0(nic->path, p.path) != 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: NIC %s at %s: predicted %s (path %s); the guest's %s has onboard %s, "
                    "slot %s, path %s", dom->xml->name, mac, address, p.preferred, or_none(p.path),
                    nic->ifname, or_none(nic->onboard), or_none(nic->slot), or_none(nic->path));
        return NULL;
    }
    JsonObject *t = e2e_json_member_object(ret, "timings");
    g_test_message("%s: hot-plugged %s at %s -> guest %s, %s (vnicd: %.1f ms)", dom->xml->name, mac,
                   address, nic->ifname, p.preferred,
                   t ? json_object_get_int_member_with_default(t, "total-us", 0) / 1e3 : -1.0);
    return g_steal_pointer(&ret);
}

/* --- start ------------------------------------------------------------------------------ */

/* Writes the deny domain's XML: MACs of its own and the second NIC's
 * unplug denied. */
static gboolean
make_deny_xml(Dom *dom, GError **error)
{
    g_autofree char *xml = g_strdup(dom->xml->xml);
    g_auto(GStrv) parts = g_strsplit(xml, "52:54:00:35:00:0", -1);
    g_free(xml);
    xml = g_strjoinv(DENY_MAC_PREFIX, parts);
    /* right after that NIC's <mac …/> (the copy may use either quote) */
    char *at = strstr(xml, DENY_NIC_MAC);
    at = at != NULL ? strstr(at, "/>") : NULL;
    if (at == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no <mac address='%s'/> in the copy of "
                    "examples/q35.xml", DENY_NIC_MAC);
        return FALSE;
    }
    at += 2;
    g_autofree char *head = g_strndup(xml, at - xml);
    g_autofree char *out = g_strconcat(head,
                                       "\n      <vnic:unplug guest='deny' xmlns:vnic='urn:x-vnic:domain:1'/>",
                                       at, NULL);
    if (!g_file_set_contents(dom->xml->xml_path, out, -1, error))
        return FALSE;
    g_free(dom->xml->xml);
    dom->xml->xml = g_steal_pointer(&out);
    return TRUE;
}

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;
    S.t0 = g_get_monotonic_time();
    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);

    for (guint i = 0; i < G_N_ELEMENTS(S.dom); i++) {
        Dom *dom = &S.dom[i];
        dom->xml = e2e_xml_prepare(dom->example, dom->tag, &error);
        E2E_CHECK_NO_ERROR(error, dom->example);
        if (dom == DENY)
            E2E_CHECK(make_deny_xml(dom, &error), "%s", error->message);
        g_autoptr(E2eCmdResult) r = vnic("define", dom->xml->xml_path, NULL);
        CMD_OK(r);
    }

    /* All three `vnic start` at once; each console is connected as soon as
     * QEMU creates its socket (QEMU drops console output while nobody is
     * connected). */
    E2eCmd *cmds[G_N_ELEMENTS(S.dom)];
    for (guint i = 0; i < G_N_ELEMENTS(S.dom); i++)
        cmds[i] = e2e_daemon_vnic_spawn(S.daemon, "start", S.dom[i].xml->name, NULL);
    gint64 deadline = e2e_deadline(90);
    for (;;) {
        gboolean waiting = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(S.dom); i++) {
            Dom *dom = &S.dom[i];
            if (dom->console != NULL)
                continue;
            if (g_file_test(dom->xml->serial_path, G_FILE_TEST_EXISTS))
                dom->console = e2e_console_connect(dom->xml->serial_path, 2, NULL);
            if (dom->console == NULL && !e2e_cmd_done(cmds[i]))
                waiting = TRUE;
        }
        if (!waiting || e2e_ms_left(deadline) == 0)
            break;
        g_usleep(10 * 1000);
    }
    g_autoptr(GString) failed = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(S.dom); i++) {
        g_autoptr(E2eCmdResult) r = e2e_cmd_finish(cmds[i], 90);
        if (r->status != 0) {
            g_autofree char *desc = e2e_cmd_result_describe(r);
            g_string_append_printf(failed, "%s\n", desc);
        }
    }
    E2E_CHECK(failed->len == 0, "vnic start failed:\n%s", failed->str);
    for (guint i = 0; i < G_N_ELEMENTS(S.dom); i++) {
        Dom *dom = &S.dom[i];
        if (dom->console == NULL)
            dom->console = e2e_console_connect(dom->xml->serial_path, 5, &error);
        E2E_CHECK_NO_ERROR(error, dom->xml->serial_path);
    }
    for (guint i = 0; i < G_N_ELEMENTS(S.dom); i++) {
        Dom *dom = &S.dom[i];
        E2E_CHECK(e2e_console_wait_ready(dom->console, 90, &error), "%s: %s", dom->xml->name,
                  error->message);
        dom->pid = e2e_daemon_running_pid(S.daemon, dom->xml->name, &error);
        E2E_CHECK_NO_ERROR(error, "vnic list --json");
        E2E_CHECK(dom->pid > 0 && e2e_proc_alive(dom->pid), "%s: not running with a live QEMU (pid %d)",
                  dom->xml->name, (int)dom->pid);
        dom->booted = TRUE;
    }
    S.started = TRUE;
    g_test_message("three guests up in %.2f s", elapsed_s(S.t0));
}

/* --- pc: names follow the prediction; unplug, plug, replug ------------------------------ */

static void
test_pc_names(void)
{
    NEED_BOOTED(PC);
    g_autoptr(GError) error = NULL;

    g_autoptr(JsonObject) third = plug_checked(PC, "ens5", &error, "--type", "ethernet", NULL, NULL);
    E2E_CHECK_NO_ERROR(error, "3rd NIC");
    g_autoptr(JsonObject) fourth = plug_checked(PC, "ens6", &error, "--type", "ethernet", NULL, NULL);
    E2E_CHECK_NO_ERROR(error, "4th NIC");

    /* Unplug the 3rd: gone from the guest, its tap gone. */
    const char *mac3 = e2e_json_get_string(third, "mac");
    const char *tap3 = e2e_json_get_string(third, "target");
    E2E_CHECK(tap3 != NULL && e2e_netns_has_link(tap3), "the 3rd NIC's tap %s is not there", or_none(tap3));
    E2E_CHECK(detach_mac(PC, mac3, &error), "%s", error->message);
    /* "completed": the guest released it and QEMU's netdev is gone; the
     * kernel finishes deleting the tap afterwards (BACKEND_REMOVED) */
    E2E_CHECK(link_goes(tap3), "tap %s of the detached NIC %s is still there 10 s later", tap3, mac3);
    gboolean has = TRUE;
    E2E_CHECK(guest_has_mac(PC, mac3, &has, &error), "%s", error->message);
    E2E_CHECK(!has, "the detach of %s completed, but the guest still has it", mac3);
    g_autoptr(JsonObject) listed = domiflist_mac(PC, mac3, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "domiflist");
    E2E_CHECK(listed == NULL, "domiflist still lists the detached NIC %s", mac3);

    /* The slot is free again: the next NIC is ens5 again. */
    g_autoptr(JsonObject) again = plug_checked(PC, "ens5", &error, "--type", "ethernet", NULL, NULL);
    E2E_CHECK_NO_ERROR(error, "a NIC after the unplug");
    E2E_CHECK(g_strcmp0(e2e_json_get_string(again, "address"), e2e_json_get_string(third, "address")) == 0,
              "the new NIC is at %s, the detached one was at %s", e2e_json_get_string(again, "address"),
              e2e_json_get_string(third, "address"));

    /* Replug: the ens6 NIC out, and back with the same MAC and slot. */
    const char *mac4 = e2e_json_get_string(fourth, "mac");
    const char *addr4 = e2e_json_get_string(fourth, "address");
    E2E_CHECK(detach_mac(PC, mac4, &error), "%s", error->message);
    E2E_CHECK(guest_has_mac(PC, mac4, &has, &error), "%s", error->message);
    E2E_CHECK(!has, "the detach of %s completed, but the guest still has it", mac4);
    g_autoptr(JsonObject) back = attach_interface(PC, &error, "--replug", "--mac", mac4, NULL);
    E2E_CHECK_NO_ERROR(error, "attach-interface --replug");
    E2E_CHECK(mac_eq(e2e_json_get_string(back, "mac"), mac4), "replug: MAC %s, was %s",
              e2e_json_get_string(back, "mac"), mac4);
    E2E_CHECK(g_strcmp0(e2e_json_get_string(back, "address"), addr4) == 0, "replug: at %s, was at %s",
              e2e_json_get_string(back, "address"), addr4);
    E2E_CHECK(g_strcmp0(e2e_json_get_string(back, "guest-name"), "ens6") == 0, "replug: guest-name %s",
              e2e_json_get_string(back, "guest-name"));
    const E2eGuestNic *nic = NULL;
    g_autoptr(GPtrArray) nics = guest_wait_mac(PC, mac4, TRUE, &nic, &error);
    E2E_CHECK_NO_ERROR(error, "the replugged NIC");
    E2E_CHECK(g_strcmp0(e2e_guest_nic_preferred(nic), "ens6") == 0,
              "the replugged NIC %s is %s (slot %s) in the guest, expected ens6", mac4, nic->ifname,
              or_none(nic->slot));
}

/* --- q35: the spare root ports --------------------------------------------------------- */

static void
test_q35_spare_ports(void)
{
    NEED_BOOTED(Q35);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) nics = e2e_guest_nics(Q35->console, &error);
    E2E_CHECK_NO_ERROR(error, "the guest's NICs");
    const char *const boot[][2] = { { "52:54:00:35:00:01", "enp1s0" }, { "52:54:00:35:00:02", "enp2s0" } };
    for (gsize i = 0; i < G_N_ELEMENTS(boot); i++) {
        const E2eGuestNic *n = e2e_guest_nics_find_mac(nics, boot[i][0]);
        E2E_CHECK(n != NULL && g_strcmp0(n->path, boot[i][1]) == 0, "boot NIC %s: expected %s, the guest says %s",
                  boot[i][0], boot[i][1], n ? or_none(n->path) : "(no such NIC)");
    }

    /* Eight hot-plugs fill the eight spare root ports. */
    g_autoptr(GPtrArray) macs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) wants = g_ptr_array_new_with_free_func(g_free);
    gint64 t = g_get_monotonic_time();
    for (int i = 3; i <= 10; i++) {
        g_autofree char *want = g_strdup_printf("enp%ds0", i);
        g_auto(Prediction) p = { 0 };
        E2E_CHECK(predict_next(Q35, &p, &error), "%s", error->message);
        E2E_CHECK(g_strcmp0(p.path, want) == 0 && g_strcmp0(p.preferred, want) == 0,
                  "hot-plug #%d: vnic pci predicts %s (path %s), expected %s", i - 2, p.preferred,
                  or_none(p.path), want);
        g_autoptr(JsonObject) ret = attach_interface(Q35, &error, "--type", "ethernet", NULL);
        E2E_CHECK_NO_ERROR(error, want);
        E2E_CHECK(g_strcmp0(e2e_json_get_string(ret, "address"), p.address) == 0 &&
                      g_strcmp0(e2e_json_get_string(ret, "guest-name"), want) == 0,
                  "hot-plug #%d: at %s as %s, predicted %s as %s", i - 2,
                  e2e_json_get_string(ret, "address"), e2e_json_get_string(ret, "guest-name"),
                  p.address, want);
        g_ptr_array_add(macs, g_strdup(e2e_json_get_string(ret, "mac")));
        g_ptr_array_add(wants, g_steal_pointer(&want));
    }
    g_test_message("8 hot-plugs in %.2f s", elapsed_s(t));
    g_ptr_array_add(macs, NULL);
    g_clear_pointer(&nics, g_ptr_array_unref);
    nics = guest_wait_macs(Q35, (const char *const *)macs->pdata, TRUE, &error);
    E2E_CHECK_NO_ERROR(error, "the 8 hot-plugged NICs in the guest");
    for (guint i = 0; i < wants->len; i++) {
        const E2eGuestNic *n = e2e_guest_nics_find_mac(nics, macs->pdata[i]);
        E2E_CHECK(n != NULL, "NIC %s (%s) is not in the guest", (char *)macs->pdata[i], (char *)wants->pdata[i]);
        E2E_CHECK(g_strcmp0(n->path, wants->pdata[i]) == 0, "NIC %s: ID_NET_NAME_PATH %s, expected %s",
                  (char *)macs->pdata[i], or_none(n->path), (char *)wants->pdata[i]);
        g_test_message("%s: hot-plugged %s -> guest %s, %s", Q35->xml->name, (char *)macs->pdata[i],
                       n->ifname, n->path);
    }
    E2E_CHECK(nics->len == 10, "the guest has %u NICs, expected 10", nics->len);

    /* The 9th finds no port, and leaves nothing behind. */
    g_auto(Snapshot) before = { 0 };
    E2E_CHECK(snapshot_take(Q35, &before, &error), "%s", error->message);
    g_autoptr(E2eCmdResult) r = vnic("attach-interface", Q35->xml->name, "--type", "ethernet", NULL);
    g_autofree char *desc = e2e_cmd_result_describe(r);
    E2E_CHECK(r->status == 1, "the 9th hot-plug did not fail (exit 1):\n%s", desc);
    E2E_CHECK(strstr(r->err, "PlacementError") != NULL, "the 9th hot-plug: not a PlacementError:\n%s", desc);
    g_autofree char *err_lc = g_ascii_strdown(r->err, -1);
    E2E_CHECK(strstr(err_lc, "spare") != NULL, "the 9th hot-plug: the message does not mention spare ports:\n%s",
              desc);
    g_test_message("9th: %s", g_strstrip(r->err));
    g_autofree char *diff = snapshot_diff(Q35, &before, &error);
    E2E_CHECK_NO_ERROR(error, "after the 9th hot-plug");
    E2E_CHECK(diff == NULL, "the failed 9th hot-plug left something: %s", diff);
}

/* --- acpi-index ------------------------------------------------------------------------- */

static void
check_onboard(Dom *dom, const char *mac, const char *guest_name)
{
    g_autoptr(GError) error = NULL;
    E2E_CHECK(g_strcmp0(guest_name, "eno3") == 0, "%s: vnicd's guest-name for acpi-index 3 is %s",
              dom->xml->name, guest_name);
    const E2eGuestNic *nic = NULL;
    g_autoptr(GPtrArray) nics = guest_wait_mac(dom, mac, TRUE, &nic, &error);
    E2E_CHECK_NO_ERROR(error, "the NIC with acpi-index 3");
    E2E_CHECK(g_strcmp0(nic->onboard, "eno3") == 0 && g_strcmp0(e2e_guest_nic_preferred(nic), "eno3") == 0,
              "%s: the NIC with acpi-index 3 (%s) has ID_NET_NAME_ONBOARD %s in the guest", dom->xml->name,
              nic->ifname, or_none(nic->onboard));
    g_test_message("%s: acpi-index 3 -> guest %s, %s", dom->xml->name, nic->ifname, nic->onboard);
}

static void
test_acpi_index_pc(void)
{
    NEED_BOOTED(PC);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ret = attach_interface(PC, &error, "--type", "ethernet", "--acpi-index", "3", NULL);
    E2E_CHECK_NO_ERROR(error, "attach-interface --acpi-index 3");
    check_onboard(PC, e2e_json_get_string(ret, "mac"), e2e_json_get_string(ret, "guest-name"));
}

static void
test_acpi_index_q35(void)
{
    NEED_BOOTED(DENY);
    g_autoptr(GError) error = NULL;
    const char *mac = "52:54:00:37:00:33";
    g_autofree char *file = g_build_filename(DENY->xml->dir, "acpi-nic.xml", NULL);
    g_autofree char *xml = g_strdup_printf("<interface type='ethernet'>\n  <mac address='%s'/>\n"
                                           "  <model type='virtio'/>\n  <acpi index='3'/>\n</interface>\n",
                                           mac);
    E2E_CHECK(g_file_set_contents(file, xml, -1, &error), "%s", error->message);
    g_autoptr(E2eCmdResult) r = vnic("attach-device", DENY->xml->name, file, "--json", NULL);
    g_autoptr(JsonObject) ret = result_object(r, &error);
    E2E_CHECK_NO_ERROR(error, "attach-device");
    E2E_CHECK(mac_eq(e2e_json_get_string(ret, "mac"), mac), "attach-device: MAC %s, asked for %s",
              e2e_json_get_string(ret, "mac"), mac);
    check_onboard(DENY, mac, e2e_json_get_string(ret, "guest-name"));
}

/* --- traffic ---------------------------------------------------------------------------- */

static guint16
icmp_checksum(const void *data, gsize len)
{
    const guint8 *p = data;
    guint32 sum = 0;
    for (gsize i = 0; i + 1 < len; i += 2)
        sum += (guint32)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (guint32)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((guint16)~sum);
}

/* ping -c COUNT -W WAIT_S ADDR over a raw socket: how many echoes were
 * answered (-1 on a socket error). */
static int
icmp_ping(const char *addr, int count, double wait_s, GError **error)
{
    struct sockaddr_in dst = { .sin_family = AF_INET };
    if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad address %s", addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "raw ICMP socket: %s", g_strerror(errno));
        return -1;
    }
    guint16 id = (guint16)getpid();
    int answered = 0;
    for (int seq = 1; seq <= count; seq++) {
        guint8 pkt[64] = { 0 };
        struct icmphdr *h = (struct icmphdr *)pkt;
        h->type = ICMP_ECHO;
        h->un.echo.id = htons(id);
        h->un.echo.sequence = htons((guint16)seq);
        memcpy(pkt + sizeof *h, "vnic-e2e-hotplug", 16);
        h->checksum = icmp_checksum(pkt, sizeof pkt);
        if (sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&dst, sizeof dst) < 0) {
            g_test_message("ping %s seq %d: sendto: %s", addr, seq, g_strerror(errno));
            g_usleep((gulong)(wait_s * G_USEC_PER_SEC));
            continue;
        }
        gint64 deadline = e2e_deadline(wait_s);
        gboolean got = FALSE;
        while (!got && e2e_ms_left(deadline) > 0) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            if (poll(&pfd, 1, e2e_ms_left(deadline)) <= 0)
                continue;
            guint8 buf[1500];
            struct sockaddr_in from;
            socklen_t fromlen = sizeof from;
            ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
            if (n < (ssize_t)sizeof(struct iphdr))
                continue;
            const struct iphdr *iph = (const struct iphdr *)buf;
            gsize hl = (gsize)iph->ihl * 4;
            if ((gsize)n < hl + sizeof(struct icmphdr) || from.sin_addr.s_addr != dst.sin_addr.s_addr)
                continue;
            const struct icmphdr *r = (const struct icmphdr *)(buf + hl);
            got = r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == id &&
                  ntohs(r->un.echo.sequence) == seq;
        }
        answered += got;
    }
    close(fd);
    return answered;
}

/* Hot-plugs a NIC (attach-interface ARGS…), gives it `guest_cidr` in the
 * guest and pings `guest_addr` from the namespace. */
static void
check_traffic(Dom *dom, const char *guest_cidr, const char *guest_addr, const char *a1, const char *a2,
              const char *a3, const char *a4, const char *a5, const char *a6)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ret = attach_interface(dom, &error, a1, a2, a3, a4, a5, a6, NULL);
    E2E_CHECK_NO_ERROR(error, "attach-interface");
    const char *mac = e2e_json_get_string(ret, "mac");
    const char *target = e2e_json_get_string(ret, "target");
    E2E_CHECK(target != NULL && e2e_netns_has_link(target), "the NIC's host link %s does not exist",
              or_none(target));
    const E2eGuestNic *nic = NULL;
    g_autoptr(GPtrArray) nics = guest_wait_mac(dom, mac, TRUE, &nic, &error);
    E2E_CHECK_NO_ERROR(error, "the NIC in the guest");
    g_autofree char *cmd = g_strdup_printf("ip addr add %s dev %s && ip link set %s up", guest_cidr,
                                           nic->ifname, nic->ifname);
    E2E_CHECK(guest_ok(dom, cmd, NULL, &error), "%s", error->message);
    gint64 t = g_get_monotonic_time();
    int answered = icmp_ping(guest_addr, 3, 2, &error);
    E2E_CHECK_NO_ERROR(error, "ping");
    if (answered == 0) {
        g_autofree char *gout = NULL;
        guest_ok(dom, "ip addr; ip link", &gout, NULL);
        g_autoptr(E2eCmdResult) host = e2e_cmd_run((const char *const[]){ "ip", "-d", "addr", NULL }, 10);
        g_test_fail_printf("no answer from %s (guest %s, host link %s)\n--- guest\n%s\n--- namespace\n%s",
                           guest_addr, nic->ifname, target, or_none(gout), host->out);
        return;
    }
    g_test_message("%s: %s on %s (host %s): %d of 3 echoes answered in %.2f s", dom->xml->name,
                   guest_addr, nic->ifname, target, answered, elapsed_s(t));
}

static void
test_bridge_traffic(void)
{
    NEED_BOOTED(PC);
    g_autoptr(GError) error = NULL;
    E2E_CHECK(ip(&error, "link", "add", "br0", "type", "bridge", NULL), "%s", error->message);
    S.made_bridge = TRUE;
    E2E_CHECK(ip(&error, "addr", "add", "10.99.0.1/24", "dev", "br0", NULL) &&
                  ip(&error, "link", "set", "br0", "up", NULL),
              "%s", error->message);
    check_traffic(PC, "10.99.0.2/24", "10.99.0.2", "--type", "bridge", "--source", "br0", NULL, NULL);
}

static void
test_macvtap_traffic(void)
{
    NEED_BOOTED(PC);
    g_autoptr(GError) error = NULL;
    E2E_CHECK(ip(&error, "link", "add", "vmA", "type", "veth", "peer", "name", "vmB", NULL), "%s",
              error->message);
    S.made_veth = TRUE;
    E2E_CHECK(ip(&error, "addr", "add", "10.98.0.1/24", "dev", "vmB", NULL) &&
                  ip(&error, "link", "set", "vmB", "up", NULL) && ip(&error, "link", "set", "vmA", "up", NULL),
              "%s", error->message);
    check_traffic(PC, "10.98.0.2/24", "10.98.0.2", "--type", "direct", "--source", "vmA", "--mode", "bridge");
}

/* --- rollback --------------------------------------------------------------------------- */

static void
test_rollback(void)
{
    NEED_BOOTED(PC);
    g_autoptr(GError) error = NULL;
    g_auto(Prediction) p = { 0 };
    E2E_CHECK(predict_next(PC, &p, &error), "%s", error->message);
    g_auto(Snapshot) before = { 0 };
    E2E_CHECK(snapshot_take(PC, &before, &error), "%s", error->message);

    /* Every step is tried and checked; what went wrong is reported at the
     * end, after the hot-plug that follows. */
    g_autoptr(GString) problems = g_string_new(NULL);
    const char *const steps[] = { "getfd", "netdev_add", "device_add" };
    for (gsize i = 0; i < G_N_ELEMENTS(steps); i++) {
        g_autofree char *args = g_strdup_printf(
            "{\"name\": \"%s\", \"type\": \"ethernet\", \"x-fail-step\": \"%s\"}", PC->xml->name, steps[i]);
        g_autoptr(JsonObject) reply = e2e_daemon_api(S.daemon, "attach-interface", args, &error);
        E2E_CHECK_NO_ERROR(error, "attach-interface");
        g_autofree char *text = e2e_json_object_to_string(reply);
        JsonObject *err = e2e_json_member_object(reply, "error");
        E2E_CHECK(err != NULL, "x-fail-step %s: no error: %s", steps[i], text);
        E2E_CHECK(g_strcmp0(e2e_json_get_string(err, "class"), "QemuError") == 0,
                  "x-fail-step %s: class %s: %s", steps[i], e2e_json_get_string(err, "class"), text);
        g_autofree char *at = g_strdup_printf("at %s", steps[i]);
        E2E_CHECK(strstr(or_none(e2e_json_get_string(err, "desc")), at) != NULL,
                  "x-fail-step %s: the message does not name the step: %s", steps[i], text);
        g_test_message("x-fail-step %s: %s", steps[i], e2e_json_get_string(err, "desc"));
        g_autofree char *diff = snapshot_diff(PC, &before, &error);
        E2E_CHECK_NO_ERROR(error, steps[i]);
        if (diff != NULL)
            g_string_append_printf(problems, "\nthe hot-plug failed at %s left something: %s", steps[i], diff);
    }

    /* Nothing was kept: the next NIC goes where the failed ones would have. */
    g_autoptr(JsonObject) ret = plug_checked(PC, p.preferred, &error, "--type", "ethernet", NULL, NULL);
    E2E_CHECK_NO_ERROR(error, "the hot-plug after the failed ones");
    E2E_CHECK(g_strcmp0(e2e_json_get_string(ret, "address"), p.address) == 0,
              "after the failures the NIC is at %s, predicted before them: %s",
              e2e_json_get_string(ret, "address"), p.address);
    E2E_CHECK(problems->len == 0, "%s", problems->str + 1);
}

/* --- guest-initiated unplug ------------------------------------------------------------- */

/* Whether process `pid` has a connected unix socket (/proc/net/unix state
 * 03: SS_CONNECTED). */
static gboolean
has_connected_socket(GPid pid)
{
    g_autofree char *fddir = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) d = g_dir_open(fddir, 0, NULL);
    g_autoptr(GHashTable) inodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *link_path = g_build_filename(fddir, name, NULL);
        g_autofree char *target = g_file_read_link(link_path, NULL);
        if (target != NULL && g_str_has_prefix(target, "socket:[")) {
            char *end = strchr(target, ']');
            if (end != NULL)
                g_hash_table_add(inodes, g_strndup(target + 8, end - target - 8));
        }
    }
    g_autofree char *unix_table = NULL;
    if (g_hash_table_size(inodes) == 0 || !g_file_get_contents("/proc/net/unix", &unix_table, NULL, NULL))
        return FALSE;
    g_auto(GStrv) lines = g_strsplit(unix_table, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        /* Num RefCount Protocol Flags Type St Inode [Path] */
        g_auto(GStrv) w = g_strsplit_set(*l, " ", -1);
        g_autoptr(GPtrArray) f = g_ptr_array_new();
        for (char **x = w; *x != NULL; x++)
            if (**x != '\0')
                g_ptr_array_add(f, *x);
        if (f->len >= 7 && strcmp(f->pdata[5], "03") == 0 && g_hash_table_contains(inodes, f->pdata[6]))
            return TRUE;
    }
    return FALSE;
}

static void
test_guest_unplug(void)
{
    NEED_BOOTED(PC);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ret = attach_interface(PC, &error, "--type", "ethernet", NULL);
    E2E_CHECK_NO_ERROR(error, "attach-interface");
    const char *mac = e2e_json_get_string(ret, "mac");
    const char *address = e2e_json_get_string(ret, "address");
    const char *tap = e2e_json_get_string(ret, "target");
    E2E_CHECK(tap != NULL && e2e_netns_has_link(tap), "tap %s of %s does not exist", or_none(tap), mac);
    g_autoptr(GPtrArray) nics = guest_wait_mac(PC, mac, TRUE, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "the NIC in the guest");

    /* The guest's slot for the NIC's address ("0000:00:0b.0" → "0000:00:0b"). */
    E2E_CHECK(address != NULL && strlen(address) == 12, "odd address %s", or_none(address));
    g_autofree char *slot_addr = g_strndup(address, 10);
    g_autofree char *find = g_strdup_printf(
        "for s in /sys/bus/pci/slots/*; do [ \"$(cat $s/address)\" = %s ] && echo ${s##*/}; done; true",
        slot_addr);
    g_autofree char *slot = NULL;
    E2E_CHECK(guest_ok(PC, find, &slot, &error), "%s", error->message);
    g_strstrip(slot);
    E2E_CHECK(*slot != '\0' && strchr(slot, '\n') == NULL, "no single guest slot at %s: '%s'", slot_addr, slot);

    /* `vnic events`, subscribed before the guest acts (NIC_STATE unplugging,
     * NIC_STATE gone, DEVICE_REMOVED, BACKEND_REMOVED): its connection is up
     * and vnicd has answered a request on another one since. */
    g_autofree char *ev_out = g_build_filename(PC->xml->dir, "events.out", NULL);
    g_autofree char *ev_err = g_build_filename(PC->xml->dir, "events.err", NULL);
    const char *const argv[] = { e2e_vnic_binary(), "-c", e2e_daemon_socket(S.daemon), "events", "--count", "4",
                                 "--timeout", "20", "--json", NULL };
    g_autoptr(E2eChild) events = e2e_child_spawn(argv, ev_out, ev_err, &error);
    E2E_CHECK_NO_ERROR(error, "vnic events");
    gint64 deadline = e2e_deadline(10);
    while (!has_connected_socket(e2e_child_pid(events)) && !e2e_child_exited(events) &&
           e2e_ms_left(deadline) > 0)
        g_usleep(5 * 1000);
    if (e2e_child_exited(events)) {
        g_autofree char *tail = e2e_file_tail(ev_err, 10);
        g_test_fail_printf("vnic events exited early: %s", tail);
        return;
    }
    E2E_CHECK(has_connected_socket(e2e_child_pid(events)), "vnic events did not connect within 10 s");
    g_usleep(50 * 1000);
    g_autoptr(JsonObject) sync = e2e_daemon_api(S.daemon, "query-version", NULL, &error);
    E2E_CHECK_NO_ERROR(error, "query-version");

    gint64 t = g_get_monotonic_time();
    g_autofree char *eject = g_strdup_printf("echo 0 > /sys/bus/pci/slots/%s/power", slot);
    E2E_CHECK(guest_ok(PC, eject, NULL, &error), "%s", error->message);
    E2E_CHECK(e2e_child_wait(events, 25), "vnic events still runs after 25 s");
    g_autofree char *how = e2e_child_describe_exit(events);
    g_autofree char *out = NULL;
    g_file_get_contents(ev_out, &out, NULL, NULL);
    g_autofree char *err_text = e2e_file_tail(ev_err, 20);
    E2E_CHECK(e2e_child_exit_code(events) == 0, "vnic events: %s\n--- stdout\n%s\n--- stderr\n%s", how,
              or_none(out), err_text);
    g_test_message("guest unplug: DEVICE_REMOVED after %.2f s", elapsed_s(t));
    g_auto(GStrv) lines = g_strsplit(g_strstrip(out), "\n", -1);
    E2E_CHECK(g_strv_length(lines) == 4, "expected 4 events, vnic events printed:\n%s", out);
    g_autoptr(JsonNode) first_node = e2e_json_parse(lines[0], &error);
    E2E_CHECK_NO_ERROR(error, "vnic events --json output");
    JsonObject *first = JSON_NODE_HOLDS_OBJECT(first_node) ? json_node_get_object(first_node) : NULL;
    E2E_CHECK(g_strcmp0(e2e_json_get_string(first, "event"), "NIC_STATE") == 0 &&
                  g_strcmp0(e2e_json_get_string(e2e_json_member_object(first, "data"), "state"),
                            "unplugging") == 0,
              "expected NIC_STATE unplugging first, vnic events printed:\n%s", out);
    g_autoptr(JsonNode) ev_node = e2e_json_parse(lines[2], &error);
    E2E_CHECK_NO_ERROR(error, "vnic events --json output");
    JsonObject *ev = JSON_NODE_HOLDS_OBJECT(ev_node) ? json_node_get_object(ev_node) : NULL;
    JsonObject *data = e2e_json_member_object(ev, "data");
    E2E_CHECK(g_strcmp0(e2e_json_get_string(ev, "event"), "DEVICE_REMOVED") == 0 &&
                  g_strcmp0(e2e_json_get_string(data, "initiator"), "guest") == 0 &&
                  mac_eq(e2e_json_get_string(data, "mac"), mac) &&
                  g_strcmp0(e2e_json_get_string(data, "domain"), PC->xml->name) == 0,
              "expected DEVICE_REMOVED of %s with initiator guest, vnic events printed:\n%s", mac, out);
    /* then the kernel is done with the tap: BACKEND_REMOVED names it */
    g_autoptr(JsonNode) br_node = e2e_json_parse(lines[3], &error);
    E2E_CHECK_NO_ERROR(error, "vnic events --json output");
    JsonObject *br = JSON_NODE_HOLDS_OBJECT(br_node) ? json_node_get_object(br_node) : NULL;
    JsonObject *br_data = e2e_json_member_object(br, "data");
    E2E_CHECK(g_strcmp0(e2e_json_get_string(br, "event"), "BACKEND_REMOVED") == 0 &&
                  g_strcmp0(e2e_json_get_string(br_data, "link"), tap) == 0 &&
                  br_data != NULL && json_object_get_int_member_with_default(br_data, "ifindex", 0) > 0,
              "expected BACKEND_REMOVED of tap %s last, vnic events printed:\n%s", tap, out);

    E2E_CHECK(link_goes(tap), "tap %s of the ejected NIC %s is still there 10 s later", tap, mac);
    g_autoptr(JsonObject) listed = domiflist_mac(PC, mac, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "domiflist");
    E2E_CHECK(listed == NULL, "domiflist still lists the ejected NIC %s", mac);
    g_clear_pointer(&nics, g_ptr_array_unref);
    nics = guest_wait_mac(PC, mac, FALSE, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "the ejected NIC in the guest");
}

/* --- refusals --------------------------------------------------------------------------- */

static void
test_refusals(void)
{
    NEED_BOOTED(DENY);
    g_autoptr(GError) error = NULL;

    /* The deny NIC is an integrated endpoint on pcie.0, named as predicted. */
    g_autoptr(JsonObject) dev = pci_device_of_mac(DENY, DENY_NIC_MAC, &error);
    E2E_CHECK_NO_ERROR(error, "vnic pci --json");
    E2E_CHECK(dev != NULL, "vnic pci --json does not list %s", DENY_NIC_MAC);
    const char *address = e2e_json_get_string(dev, "address");
    const char *want = e2e_json_get_string(e2e_json_member_object(dev, "names"), "preferred");
    E2E_CHECK(g_str_has_prefix(or_none(address), "0000:00:") && g_str_has_prefix(or_none(want), "enp0s"),
              "the deny NIC is at %s, predicted %s: not an integrated endpoint on pcie.0", or_none(address),
              or_none(want));
    const E2eGuestNic *nic = NULL;
    g_autoptr(GPtrArray) nics = guest_wait_mac(DENY, DENY_NIC_MAC, TRUE, &nic, &error);
    E2E_CHECK_NO_ERROR(error, "the deny NIC in the guest");
    E2E_CHECK(g_strcmp0(e2e_guest_nic_preferred(nic), want) == 0 && g_strcmp0(nic->path, want) == 0,
              "the deny NIC at %s: predicted %s, the guest's %s has path %s (preferred %s)", address, want,
              nic->ifname, or_none(nic->path), or_none(e2e_guest_nic_preferred(nic)));
    g_test_message("deny NIC %s at %s -> guest %s, %s", DENY_NIC_MAC, address, nic->ifname, want);

    g_autofree char *file = g_build_filename(DENY->xml->dir, "deny-nic.xml", NULL);
    g_autofree char *xml = g_strdup_printf("<interface type='ethernet'><mac address='%s'/></interface>\n",
                                           DENY_NIC_MAC);
    E2E_CHECK(g_file_set_contents(file, xml, -1, &error), "%s", error->message);
    g_autoptr(E2eCmdResult) r1 = vnic("detach-interface", DENY->xml->name, "--mac", DENY_NIC_MAC, NULL);
    g_autoptr(E2eCmdResult) r2 = vnic("detach-device", DENY->xml->name, file, NULL);
    E2eCmdResult *rs[] = { r1, r2 };
    for (gsize i = 0; i < G_N_ELEMENTS(rs); i++) {
        g_autofree char *desc = e2e_cmd_result_describe(rs[i]);
        E2E_CHECK(rs[i]->status == 1 && strstr(rs[i]->err, "PlacementError") != NULL &&
                      strstr(rs[i]->err, "forbidden") != NULL,
                  "expected a refusal (exit 1, PlacementError, \"forbidden\"):\n%s", desc);
        g_test_message("refused: %s", g_strstrip(rs[i]->err));
    }
    g_autoptr(JsonObject) listed = domiflist_mac(DENY, DENY_NIC_MAC, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "domiflist");
    E2E_CHECK(listed != NULL, "after the refusals domiflist no longer lists %s", DENY_NIC_MAC);
    g_clear_pointer(&nics, g_ptr_array_unref);
    nics = e2e_guest_nics(DENY->console, &error);
    E2E_CHECK_NO_ERROR(error, "the guest's NICs");
    E2E_CHECK(e2e_guest_nics_find_mac(nics, DENY_NIC_MAC) != NULL, "after the refusals the guest lost %s",
              DENY_NIC_MAC);
}

/* --- q35-guest-eject -------------------------------------------------------------------- */

/* The deny domain's first NIC (examples/q35.xml's, behind a root port). */
#define DENY_FIRST_MAC "52:54:00:37:00:01"

/* The guest's hot-plug slots, one "NAME ADDRESS" line each ("0 0000:01:00"). */
static char *
guest_slots(Dom *dom, GError **error)
{
    char *out = NULL;
    if (!guest_ok(dom, E2E_GUEST_SLOTS_CMD, &out, error))
        return NULL;
    return out;
}

/* "0000:01:00.0" → "0000:01:00" (a PCI address without its function). */
static char *
bus_slot_of(const char *address)
{
    return address != NULL && strlen(address) == 12 ? g_strndup(address, 10) : NULL;
}

static void
test_q35_guest_eject(void)
{
    NEED_BOOTED(DENY);
    g_autoptr(GError) error = NULL;
    g_autofree char *slots = guest_slots(DENY, &error);
    E2E_CHECK_NO_ERROR(error, "the guest's /sys/bus/pci/slots");
    g_test_message("guest slots:\n%s", slots);

    g_autoptr(JsonObject) deny = pci_device_of_mac(DENY, DENY_NIC_MAC, &error);
    E2E_CHECK(deny != NULL, "vnic pci --json does not list %s", DENY_NIC_MAC);
    g_autofree char *deny_at = bus_slot_of(e2e_json_get_string(deny, "address"));
    E2E_CHECK(deny_at != NULL, "odd address of %s", DENY_NIC_MAC);
    g_autofree char *deny_slot = e2e_guest_slot_at(slots, deny_at);
    E2E_CHECK(deny_slot == NULL, "the guest has hot-plug slot %s at %s, the unplug-denied NIC's address", deny_slot,
              deny_at);

    g_autoptr(JsonObject) first = pci_device_of_mac(DENY, DENY_FIRST_MAC, &error);
    E2E_CHECK(first != NULL, "vnic pci --json does not list %s", DENY_FIRST_MAC);
    g_autofree char *first_at = bus_slot_of(e2e_json_get_string(first, "address"));
    E2E_CHECK(first_at != NULL, "odd address of %s", DENY_FIRST_MAC);
    g_autofree char *slot = e2e_guest_slot_at(slots, first_at);
    E2E_CHECK(slot != NULL, "no guest slot at %s, the address of %s (a NIC whose unplug is allowed)", first_at,
              DENY_FIRST_MAC);
    g_autoptr(JsonObject) listed = domiflist_mac(DENY, DENY_FIRST_MAC, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "domiflist");
    E2E_CHECK(listed != NULL, "domiflist does not list %s", DENY_FIRST_MAC);
    g_autofree char *tap = g_strdup(e2e_json_get_string(listed, "target"));
    E2E_CHECK(tap != NULL && e2e_netns_has_link(tap), "tap %s of %s does not exist", or_none(tap), DENY_FIRST_MAC);

    gint64 t = g_get_monotonic_time();
    g_autofree char *eject = g_strdup_printf("echo 0 > /sys/bus/pci/slots/%s/power", slot);
    E2E_CHECK(guest_ok(DENY, eject, NULL, &error), "%s", error->message);
    /* vnicd's part: DEVICE_DELETED → netdev_del, the tap deleted, the NIC forgotten */
    gint64 deadline = e2e_deadline(30);
    for (;;) {
        g_clear_pointer(&listed, json_object_unref);
        listed = domiflist_mac(DENY, DENY_FIRST_MAC, NULL, &error);
        E2E_CHECK_NO_ERROR(error, "domiflist");
        if ((listed == NULL && !e2e_netns_has_link(tap)) || e2e_ms_left(deadline) == 0)
            break;
        g_usleep(100 * 1000);
    }
    E2E_CHECK(listed == NULL, "30 s after the guest ejected slot %s domiflist still lists %s", slot, DENY_FIRST_MAC);
    E2E_CHECK(!e2e_netns_has_link(tap), "30 s after the guest ejected slot %s the tap %s is still there", slot, tap);
    g_test_message("guest ejected slot %s (%s, %s): forgotten and its tap gone after %.2f s", slot, first_at,
                   DENY_FIRST_MAC, elapsed_s(t));
    g_autoptr(GPtrArray) gone = guest_wait_mac(DENY, DENY_FIRST_MAC, FALSE, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "the ejected NIC in the guest");
    g_autoptr(GPtrArray) kept = guest_wait_mac(DENY, DENY_NIC_MAC, TRUE, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "the deny NIC in the guest after the eject");
}

/* --- cleanup ---------------------------------------------------------------------------- */

/* Non-directory entries under `dir` (recursively) other than *.log. */
static void
leftovers(const char *dir, const char *rel, GString *found)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *relpath = *rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            leftovers(path, relpath, found);
        else if (!g_str_has_suffix(name, ".log"))
            g_string_append_printf(found, " %s", relpath);
    }
}

static void
test_cleanup(void)
{
    NEED(S.daemon != NULL && e2e_daemon_running(S.daemon), "a running vnicd");
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) problems = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(S.dom); i++) {
        Dom *dom = &S.dom[i];
        if (dom->pid == 0)
            continue;
        g_autoptr(E2eCmdResult) r = vnic("destroy", dom->xml->name, NULL);
        if (r->status != 0) {
            g_autofree char *desc = e2e_cmd_result_describe(r);
            g_string_append_printf(problems, "%s\n", desc);
        }
        if (e2e_proc_alive(dom->pid))
            g_string_append_printf(problems, "%s: QEMU pid %d still runs\n", dom->xml->name, (int)dom->pid);
    }
    E2E_CHECK(problems->len == 0, "%s", problems->str);

    /* vnicd's links are gone; only the test's own remain, which it deletes. */
    GString *ours = g_string_new("lo");
    if (S.made_bridge)
        g_string_append(ours, " br0");
    if (S.made_veth)
        g_string_append(ours, " vmA vmB");
    g_autoptr(GPtrArray) expect_v = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) ours_v = g_strsplit(ours->str, " ", -1);
    g_string_free(ours, TRUE);
    for (char **o = ours_v; *o != NULL; o++)
        g_ptr_array_add(expect_v, g_strdup(*o));
    g_ptr_array_sort(expect_v, cmp_str);
    g_ptr_array_add(expect_v, NULL);
    g_autofree char *expect = g_strjoinv(" ", (char **)expect_v->pdata);
    g_autofree char *links = links_now();
    E2E_CHECK(g_strcmp0(links, expect) == 0, "after destroying the domains the links are [%s], expected [%s]",
              links, expect);
    if (S.made_bridge)
        E2E_CHECK(ip(&error, "link", "del", "br0", NULL), "%s", error->message);
    if (S.made_veth)
        E2E_CHECK(ip(&error, "link", "del", "vmA", NULL), "%s", error->message);
    g_autofree char *rest = e2e_netns_links_besides_lo();
    E2E_CHECK(*rest == '\0', "links left in the namespace: %s", rest);

    int code = -2;
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error), "%s", error->message);
    E2E_CHECK(code == 0, "vnicd exit code %d after SIGTERM", code);
    g_autoptr(GArray) procs = e2e_proc_find(e2e_tmp_root());
    if (procs->len > 0) {
        GPid pid = g_array_index(procs, GPid, 0);
        g_autofree char *cmdline = e2e_proc_cmdline(pid);
        g_test_fail_printf("%u process(es) of the test still run, e.g. %d: %s", procs->len, (int)pid, cmdline);
        return;
    }
    g_autoptr(GString) left = g_string_new(NULL);
    leftovers(e2e_daemon_run_dir(S.daemon), "", left);
    E2E_CHECK(left->len == 0, "left in the run dir %s:%s", e2e_daemon_run_dir(S.daemon), left->str);
    g_test_message("whole program: %.2f s", elapsed_s(S.t0));
}

/* --- main ----------------------------------------------------------------------------------- */

static void
print_diagnostics(void)
{
    if (S.daemon != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 80);
        g_printerr("--- %s (last lines)\n%s\n", e2e_daemon_log_path(S.daemon), log);
    }
    for (guint i = 0; i < G_N_ELEMENTS(S.dom); i++) {
        if (S.dom[i].console == NULL)
            continue;
        g_autofree char *t = e2e_console_transcript(S.dom[i].console, 1500);
        g_printerr("--- console of %s (last bytes)\n%s\n", S.dom[i].xml->name, t);
    }
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/hotplug/start", test_start);
    g_test_add_func("/e2e/hotplug/pc-names", test_pc_names);
    g_test_add_func("/e2e/hotplug/q35-spare-ports", test_q35_spare_ports);
    g_test_add_func("/e2e/hotplug/acpi-index-pc", test_acpi_index_pc);
    g_test_add_func("/e2e/hotplug/acpi-index-q35", test_acpi_index_q35);
    g_test_add_func("/e2e/hotplug/bridge-traffic", test_bridge_traffic);
    g_test_add_func("/e2e/hotplug/macvtap-traffic", test_macvtap_traffic);
    g_test_add_func("/e2e/hotplug/rollback", test_rollback);
    g_test_add_func("/e2e/hotplug/guest-unplug", test_guest_unplug);
    g_test_add_func("/e2e/hotplug/refusals", test_refusals);
    g_test_add_func("/e2e/hotplug/q35-guest-eject", test_q35_guest_eject);
    g_test_add_func("/e2e/hotplug/cleanup", test_cleanup);
    int rc = e2e_finish();
    if (rc != 0)
        print_diagnostics();
    /* Leftover guests and the daemon are the guard's (e2e-env.c). */
    return rc;
}
