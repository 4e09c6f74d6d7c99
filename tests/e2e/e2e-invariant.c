/* e2e-invariant.c: issue #10's invariant (see e2e-invariant.h).
 *
 * Every view is read into plain sets first (by alias, MAC, name or
 * ifindex), then the sets are compared; a view that cannot be read is an
 * error, not a violation, so a caller polling for a settled state can tell
 * "not yet answering" from "wrong".
 */
#include "e2e-invariant.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "e2e-env.h"
#include "e2e-json.h"

typedef struct {
    char *alias;
    char *mac;
    char *target;
    char *state;   /* domiflist only */
} Nic;

static void
nic_free(Nic *n)
{
    g_free(n->alias);
    g_free(n->mac);
    g_free(n->target);
    g_free(n->state);
    g_free(n);
}

typedef struct {
    char *name;
    guint ifindex;
    char *kind;
    char *alias;
} LedgerLink;

static void
ledger_link_free(LedgerLink *l)
{
    g_free(l->name);
    g_free(l->kind);
    g_free(l->alias);
    g_free(l);
}

/* One domain's views. */
typedef struct {
    const char *name;
    GPtrArray *listed;       /* Nic, domiflist */
    GPtrArray *status;       /* Nic, the status file's live <interface>s */
    GHashTable *records;     /* alias → state, the status file's <nic> records */
    GPtrArray *ledger;       /* LedgerLink */
    GHashTable *pci;         /* qdev ids of QEMU's network controllers */
    GHashTable *clients;     /* info network: name → type (nic, tap, hubport, …) */
    GHashTable *guest;       /* MAC → guest ifname; NULL when not checked */
} View;

static void
view_clear(View *v)
{
    g_clear_pointer(&v->listed, g_ptr_array_unref);
    g_clear_pointer(&v->status, g_ptr_array_unref);
    g_clear_pointer(&v->records, g_hash_table_unref);
    g_clear_pointer(&v->ledger, g_ptr_array_unref);
    g_clear_pointer(&v->pci, g_hash_table_unref);
    g_clear_pointer(&v->clients, g_hash_table_unref);
    g_clear_pointer(&v->guest, g_hash_table_unref);
}

static GHashTable *
str_table(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void
add(GPtrArray *violations, const char *kind, const char *domain, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static void
add(GPtrArray *violations, const char *kind, const char *domain, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(violations, g_strdup_printf("%s %s: %s", kind, domain ? domain : "host", text));
}

/* ---- vnicd: domiflist ------------------------------------------------------------ */

static gboolean
read_listed(E2eDaemon *daemon, View *v, GError **error)
{
    g_autofree char *args = g_strdup_printf("{\"name\": \"%s\"}", v->name);
    g_autoptr(JsonObject) reply = e2e_daemon_api(daemon, "domiflist", args, error);
    g_autoptr(JsonNode) ret = reply ? e2e_api_return(reply, error) : NULL;
    JsonArray *list = ret && JSON_NODE_HOLDS_OBJECT(ret)
                          ? e2e_json_member_array(json_node_get_object(ret), "interfaces") : NULL;

    if (!ret)
        return FALSE;
    v->listed = g_ptr_array_new_with_free_func((GDestroyNotify)nic_free);
    for (guint i = 0; list && i < json_array_get_length(list); i++) {
        JsonObject *o = e2e_json_array_object(list, i);
        Nic *n = g_new0(Nic, 1);

        n->alias = g_strdup(e2e_json_get_string(o, "alias"));
        n->mac = g_ascii_strdown(e2e_json_get_string(o, "mac") ?: "", -1);
        n->target = g_strdup(e2e_json_get_string(o, "target"));
        n->state = g_strdup(e2e_json_get_string(o, "state"));
        g_ptr_array_add(v->listed, n);
    }
    return TRUE;
}

/* ---- the status file -------------------------------------------------------------- */

static char *
prop(xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetProp(node, (const xmlChar *)name);
    char *copy = value ? g_strdup((const char *)value) : NULL;

    xmlFree(value);
    return copy;
}

static xmlNode *
child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    }
    return NULL;
}

static void
read_status_interfaces(View *v, xmlNode *domain)
{
    xmlNode *devices = child(domain, "devices");

    for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
        Nic *n;
        g_autofree char *mac = NULL;

        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "interface") != 0)
            continue;
        n = g_new0(Nic, 1);
        n->alias = child(c, "alias") ? prop(child(c, "alias"), "name") : NULL;
        mac = child(c, "mac") ? prop(child(c, "mac"), "address") : NULL;
        n->mac = g_ascii_strdown(mac ? mac : "", -1);
        n->target = child(c, "target") ? prop(child(c, "target"), "dev") : NULL;
        g_ptr_array_add(v->status, n);
    }
}

static gboolean
read_status(E2eDaemon *daemon, View *v, GError **error)
{
    g_autofree char *file = g_strconcat(v->name, ".xml", NULL);
    g_autofree char *path = g_build_filename(e2e_daemon_run_dir(daemon), "domains", file, NULL);
    g_autofree char *text = NULL;
    gsize len;
    xmlDoc *doc;
    xmlNode *root;

    if (!g_file_get_contents(path, &text, &len, error))
        return FALSE;
    doc = xmlReadMemory(text, (int)len, path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                        XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || strcmp((const char *)root->name, "domstatus") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a <domstatus>", path);
        xmlFreeDoc(doc);
        return FALSE;
    }
    v->status = g_ptr_array_new_with_free_func((GDestroyNotify)nic_free);
    v->records = str_table();
    v->ledger = g_ptr_array_new_with_free_func((GDestroyNotify)ledger_link_free);
    for (xmlNode *c = root->children; c; c = c->next) {
        const char *name = (const char *)c->name;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp(name, "link") == 0) {
            LedgerLink *l = g_new0(LedgerLink, 1);
            g_autofree char *ifindex = prop(c, "ifindex");
            l->name = prop(c, "name");
            l->ifindex = ifindex ? (guint)g_ascii_strtoull(ifindex, NULL, 10) : 0;
            l->kind = prop(c, "kind");
            l->alias = prop(c, "alias");
            g_ptr_array_add(v->ledger, l);
        } else if (strcmp(name, "nic") == 0) {
            g_hash_table_replace(v->records, prop(c, "alias"), prop(c, "state"));
        } else if (strcmp(name, "domain") == 0) {
            read_status_interfaces(v, c);
        }
    }
    xmlFreeDoc(doc);
    return TRUE;
}

/* ---- QEMU ------------------------------------------------------------------------------ */

static JsonNode *
monitor(E2eDaemon *daemon, const char *domain, const char *command, gboolean hmp, GError **error)
{
    g_autofree char *args = g_strdup_printf("{\"name\": \"%s\", \"command\": \"%s\", \"hmp\": %s}",
                                            domain, command, hmp ? "true" : "false");
    g_autoptr(JsonObject) reply = e2e_daemon_api(daemon, "qemu-monitor-command", args, error);

    return reply ? e2e_api_return(reply, error) : NULL;
}

/* Network controllers (PCI class 0x0200) on @bus (a bus or a pci_bridge:
 * both have "devices") and the buses behind it. */
static void
collect_pci_nics(JsonObject *bus, GHashTable *out)
{
    JsonArray *devices = bus ? e2e_json_member_array(bus, "devices") : NULL;

    for (guint i = 0; devices && i < json_array_get_length(devices); i++) {
        JsonObject *d = e2e_json_array_object(devices, i);
        JsonObject *cls = e2e_json_member_object(d, "class_info");
        JsonObject *bridge = e2e_json_member_object(d, "pci_bridge");
        const char *id = e2e_json_get_string(d, "qdev_id");

        if (cls && json_object_get_int_member_with_default(cls, "class", 0) == 0x0200)
            g_hash_table_add(out, g_strdup(id && *id ? id : "(no id)"));
        if (bridge)
            collect_pci_nics(bridge, out); /* {"bus": {numbers}, "devices": […]} */
    }
}

static gboolean
read_qemu(E2eDaemon *daemon, View *v, GError **error)
{
    g_autoptr(JsonNode) pci = monitor(daemon, v->name, "query-pci", FALSE, error);
    g_autoptr(JsonNode) net = pci ? monitor(daemon, v->name, "info network", TRUE, error) : NULL;
    g_autoptr(GRegex) re = NULL;
    g_autoptr(GMatchInfo) m = NULL;
    JsonArray *buses;

    if (!net)
        return FALSE;
    if (!JSON_NODE_HOLDS_ARRAY(pci) || !JSON_NODE_HOLDS_VALUE(net)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "domain '%s': unexpected query-pci or info network reply", v->name);
        return FALSE;
    }
    v->pci = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    buses = json_node_get_array(pci);
    for (guint i = 0; i < json_array_get_length(buses); i++)
        collect_pci_nics(e2e_json_array_object(buses, i), v->pci);
    /* "net0: index=0,type=nic,model=…" and " \ hostnet0: index=0,type=tap,…" */
    v->clients = str_table();
    re = g_regex_new("([^\\s\\\\:]+): index=\\d+,type=([a-z-]+)", 0, 0, NULL);
    g_regex_match(re, json_node_get_string(net), 0, &m);
    for (; g_match_info_matches(m); g_match_info_next(m, NULL))
        g_hash_table_replace(v->clients, g_match_info_fetch(m, 1), g_match_info_fetch(m, 2));
    return TRUE;
}

/* ---- the guest ------------------------------------------------------------------------ */

static gboolean
read_guest(E2eConsole *console, View *v, GError **error)
{
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;
    int status = -1;

    if (!e2e_console_run(console,
                         "for i in /sys/class/net/*; do echo \"NIC ${i##*/} $(cat $i/address)\"; done",
                         30, &out, &status, error))
        return FALSE;
    v->guest = str_table();
    lines = g_strsplit(out, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) w = g_strsplit(g_strstrip(lines[i]), " ", -1);
        if (g_strv_length(w) == 3 && strcmp(w[0], "NIC") == 0 && strcmp(w[1], "lo") != 0)
            g_hash_table_replace(v->guest, g_ascii_strdown(w[2], -1), g_strdup(w[1]));
    }
    return TRUE;
}

/* ---- the host ------------------------------------------------------------------------- */

typedef struct {
    guint ifindex;
    char *name;
    char *kind;
} HostLink;

static void
host_link_free(HostLink *l)
{
    g_free(l->name);
    g_free(l->kind);
    g_free(l);
}

static GPtrArray *
read_host(GError **error)
{
    g_autoptr(E2eCmdResult) r = e2e_cmd_run_args(30, "ip", "-d", "-j", "link", "show", NULL);
    g_autoptr(JsonNode) node = NULL;
    GPtrArray *links;
    JsonArray *arr;

    if (r->status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", e2e_cmd_result_describe(r));
        return NULL;
    }
    if (!(node = e2e_json_parse(r->out, error)))
        return NULL;
    links = g_ptr_array_new_with_free_func((GDestroyNotify)host_link_free);
    arr = JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *o = e2e_json_array_object(arr, i);
        JsonObject *info = e2e_json_member_object(o, "linkinfo");
        HostLink *l = g_new0(HostLink, 1);

        l->ifindex = (guint)json_object_get_int_member_with_default(o, "ifindex", 0);
        l->name = g_strdup(e2e_json_get_string(o, "ifname"));
        l->kind = g_strdup(info ? e2e_json_get_string(info, "info_kind") : NULL);
        g_ptr_array_add(links, l);
    }
    return links;
}

static const HostLink *
host_by_index(GPtrArray *host, guint ifindex)
{
    for (guint i = 0; i < host->len; i++) {
        const HostLink *l = g_ptr_array_index(host, i);
        if (l->ifindex == ifindex)
            return l;
    }
    return NULL;
}

/* The kinds of link vnic creates for NICs. */
static gboolean
vnic_kind(const char *kind)
{
    return g_strcmp0(kind, "tun") == 0 || g_strcmp0(kind, "macvtap") == 0 ||
           g_strcmp0(kind, "ifb") == 0;
}

/* ---- comparisons --------------------------------------------------------------------- */

static const Nic *
find_alias(GPtrArray *nics, const char *alias)
{
    for (guint i = 0; nics && i < nics->len; i++) {
        const Nic *n = g_ptr_array_index(nics, i);
        if (g_strcmp0(n->alias, alias) == 0)
            return n;
    }
    return NULL;
}

static void
compare_status(View *v, GPtrArray *out)
{
    for (guint i = 0; i < v->listed->len; i++) {
        const Nic *n = g_ptr_array_index(v->listed, i);
        const Nic *s = find_alias(v->status, n->alias);

        if (!s)
            add(out, E2E_INV_STATUS, v->name, "%s (%s) is listed but not in the status file",
                n->alias, n->mac);
        else if (g_strcmp0(s->mac, n->mac) != 0 || g_strcmp0(s->target, n->target) != 0)
            add(out, E2E_INV_STATUS, v->name, "%s: listed %s on %s, the status file says %s on %s",
                n->alias, n->mac, n->target, s->mac, s->target);
        if (!g_hash_table_contains(v->records, n->alias))
            add(out, E2E_INV_STATUS, v->name, "%s has no <nic> record in the status file", n->alias);
        if (g_strcmp0(n->state, "plugged") != 0)
            add(out, E2E_INV_UNSETTLED, v->name, "%s (%s) is %s", n->alias, n->mac, n->state);
    }
    for (guint i = 0; i < v->status->len; i++) {
        const Nic *s = g_ptr_array_index(v->status, i);
        if (!find_alias(v->listed, s->alias))
            add(out, E2E_INV_STATUS, v->name, "the status file has %s (%s), vnicd does not list it",
                s->alias, s->mac);
    }
    GHashTableIter it;
    gpointer alias, state;
    g_hash_table_iter_init(&it, v->records);
    while (g_hash_table_iter_next(&it, &alias, &state)) {
        if (!find_alias(v->listed, alias))
            add(out, E2E_INV_STATUS, v->name, "a <nic> record of %s (%s) for no listed NIC",
                (char *)alias, (char *)state);
    }
}

/* Whether netdev @name belongs to NIC @alias: its tap "host<alias>", or on
 * a hub its two hubports "hp-<alias>" and "hpnic-<alias>", and the gap
 * port "hpgap-<alias>" of a restore (left by a vnicd killed during one; it
 * goes at the NIC's next restore or detach) (qemu-hub.h). */
static gboolean
netdev_of(const char *name, const char *alias)
{
    g_autofree char *host = g_strconcat("host", alias, NULL);
    g_autofree char *hp = g_strconcat("hp-", alias, NULL);
    g_autofree char *hpnic = g_strconcat("hpnic-", alias, NULL);
    g_autofree char *hpgap = g_strconcat("hpgap-", alias, NULL);

    return strcmp(name, host) == 0 || strcmp(name, hp) == 0 || strcmp(name, hpnic) == 0 ||
           strcmp(name, hpgap) == 0;
}

static void
compare_qemu(View *v, GPtrArray *out)
{
    GHashTableIter it;
    gpointer key, value;

    for (guint i = 0; i < v->listed->len; i++) {
        const Nic *n = g_ptr_array_index(v->listed, i);
        g_autofree char *host = g_strconcat("host", n->alias, NULL);

        if (!g_hash_table_contains(v->pci, n->alias))
            add(out, E2E_INV_MISSING, v->name, "%s (%s) is not in QEMU's query-pci", n->alias,
                n->mac);
        if (g_strcmp0(g_hash_table_lookup(v->clients, n->alias), "nic") != 0)
            add(out, E2E_INV_MISSING, v->name, "%s (%s) is no NIC in QEMU's info network",
                n->alias, n->mac);
        if (!g_hash_table_contains(v->clients, host))
            add(out, E2E_INV_BACKEND, v->name, "%s (%s) has no netdev %s in QEMU", n->alias,
                n->mac, host);
    }
    g_hash_table_iter_init(&it, v->pci);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!find_alias(v->listed, key))
            add(out, E2E_INV_GHOST, v->name, "QEMU's query-pci has NIC %s, vnicd does not list it",
                (char *)key);
    }
    g_hash_table_iter_init(&it, v->clients);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        gboolean owned = FALSE;

        if (strcmp(value, "nic") == 0) {
            if (!find_alias(v->listed, key))
                add(out, E2E_INV_GHOST, v->name, "QEMU's info network has NIC %s, vnicd does not "
                    "list it", (char *)key);
            continue;
        }
        for (guint i = 0; i < v->listed->len && !owned; i++)
            owned = netdev_of(key, ((const Nic *)g_ptr_array_index(v->listed, i))->alias);
        if (!owned)
            add(out, E2E_INV_NETDEV, v->name, "QEMU has netdev %s (type %s) of no listed NIC",
                (char *)key, (char *)value);
    }
}

static void
compare_ledger(View *v, GPtrArray *host, GPtrArray *out)
{
    for (guint i = 0; i < v->ledger->len; i++) {
        const LedgerLink *l = g_ptr_array_index(v->ledger, i);
        const HostLink *h = host_by_index(host, l->ifindex);

        if (!h || g_strcmp0(h->name, l->name) != 0)
            add(out, E2E_INV_LEDGER, v->name, "ledger link %s (ifindex %u, %s) is %s", l->name,
                l->ifindex, l->alias, h ? "another link now" : "gone");
        if (!find_alias(v->listed, l->alias))
            add(out, E2E_INV_LEDGER, v->name, "ledger link %s (ifindex %u) is of %s, which vnicd "
                "does not list", l->name, l->ifindex, l->alias);
    }
    for (guint i = 0; i < v->listed->len; i++) {
        const Nic *n = g_ptr_array_index(v->listed, i);
        gboolean found = FALSE;

        for (guint j = 0; j < v->ledger->len && !found; j++) {
            const LedgerLink *l = g_ptr_array_index(v->ledger, j);
            found = g_strcmp0(l->alias, n->alias) == 0 && g_strcmp0(l->name, n->target) == 0;
        }
        if (!found)
            add(out, E2E_INV_LEDGER, v->name, "%s's link %s is not in the ledger", n->alias,
                n->target);
    }
}

static void
compare_guest(View *v, GPtrArray *out)
{
    GHashTableIter it;
    gpointer mac, ifname;

    if (!v->guest)
        return;
    for (guint i = 0; i < v->listed->len; i++) {
        const Nic *n = g_ptr_array_index(v->listed, i);
        if (!g_hash_table_contains(v->guest, n->mac))
            add(out, E2E_INV_MISSING, v->name, "%s (%s) is not in the guest", n->alias, n->mac);
    }
    g_hash_table_iter_init(&it, v->guest);
    while (g_hash_table_iter_next(&it, &mac, &ifname)) {
        gboolean listed = FALSE;
        for (guint i = 0; i < v->listed->len && !listed; i++)
            listed = g_strcmp0(((const Nic *)g_ptr_array_index(v->listed, i))->mac, mac) == 0;
        if (!listed)
            add(out, E2E_INV_GHOST, v->name, "the guest has %s (%s), vnicd does not list it",
                (char *)ifname, (char *)mac);
    }
}

static void
check_unclaimed(const View *views, guint n, GPtrArray *host, const char *const *foreign,
                GPtrArray *out)
{
    for (guint i = 0; i < host->len; i++) {
        const HostLink *h = g_ptr_array_index(host, i);
        gboolean claimed = foreign && g_strv_contains(foreign, h->name);

        if (!vnic_kind(h->kind))
            continue;
        for (guint d = 0; d < n && !claimed; d++) {
            for (guint j = 0; j < views[d].ledger->len && !claimed; j++)
                claimed = ((const LedgerLink *)g_ptr_array_index(views[d].ledger, j))->ifindex ==
                          h->ifindex;
        }
        if (!claimed)
            add(out, E2E_INV_UNCLAIMED, NULL, "%s link %s (ifindex %u) is in no ledger", h->kind,
                h->name, h->ifindex);
    }
}

/* g_file_set_contents() writes NAME.xml.XXXXXX and renames it. */
static void
check_temp_files(const char *dir, GPtrArray *out)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        const char *dot = strstr(name, ".xml.");
        if (dot && strlen(dot) == strlen(".xml.XXXXXX"))
            add(out, E2E_INV_TEMP, NULL, "%s/%s", dir, name);
    }
}

GPtrArray *
e2e_invariant_check(E2eDaemon *daemon, const E2eInvariantDomain *domains, guint n,
                    const char *const *foreign, GError **error)
{
    g_autofree View *views = g_new0(View, n);
    g_autoptr(GPtrArray) host = NULL;
    GPtrArray *out = NULL;
    gboolean ok = TRUE;

    for (guint i = 0; i < n && ok; i++) {
        views[i].name = domains[i].name;
        ok = read_listed(daemon, &views[i], error) && read_status(daemon, &views[i], error) &&
             read_qemu(daemon, &views[i], error) &&
             (!domains[i].console || read_guest(domains[i].console, &views[i], error));
        if (!ok)
            g_prefix_error(error, "domain '%s': ", domains[i].name);
    }
    if (ok && (host = read_host(error))) {
        g_autofree char *state = g_build_filename(e2e_daemon_state_dir(daemon), "domains", NULL);
        g_autofree char *run = g_build_filename(e2e_daemon_run_dir(daemon), "domains", NULL);

        out = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < n; i++) {
            compare_status(&views[i], out);
            compare_qemu(&views[i], out);
            compare_ledger(&views[i], host, out);
            compare_guest(&views[i], out);
        }
        check_unclaimed(views, n, host, foreign, out);
        check_temp_files(state, out);
        check_temp_files(run, out);
    }
    for (guint i = 0; i < n; i++)
        view_clear(&views[i]);
    return out;
}

GPtrArray *
e2e_invariant_settle(E2eDaemon *daemon, const E2eInvariantDomain *domains, guint n,
                     const char *const *foreign, double timeout_s, guint *out_rounds,
                     GError **error)
{
    gint64 deadline = e2e_deadline(timeout_s);
    GPtrArray *last = NULL;
    guint rounds = 0;

    for (;;) {
        g_autoptr(GError) local = NULL;
        GPtrArray *now = e2e_invariant_check(daemon, domains, n, foreign, &local);

        rounds++;
        if (now) {
            g_clear_pointer(&last, g_ptr_array_unref);
            last = now;
            if (now->len == 0)
                break;
        }
        if (e2e_ms_left(deadline) <= 0) {
            if (!last && local)
                g_propagate_error(error, g_steal_pointer(&local));
            break;
        }
        g_usleep(500 * 1000);
    }
    if (out_rounds)
        *out_rounds = rounds;
    return last;
}

char *
e2e_invariant_kind(const char *violation)
{
    const char *space = strchr(violation, ' ');
    return space ? g_strndup(violation, space - violation) : g_strdup(violation);
}
