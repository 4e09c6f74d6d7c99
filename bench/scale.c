/* bench/scale.c: vnicd with many guests (issue #12, "Scale").
 *
 * As root, in the e2e harness' private network and mount namespaces (every
 * QEMU, tap and vnicd of the run is gone with the program, even on failure),
 * one vnicd as in production (default log level, run dir on a tmpfs):
 *
 *   1. start-up with many defined: DEFINED domains defined (GUESTS of them
 *      the guests below, the rest inactive fillers), vnicd restarted
 *      (SIGTERM, start): from spawn to `list all` answering with all of
 *      them; the same with only the GUESTS defined, to see whether the cost
 *      per domain grows with the number (quadratic) or not.  Then the
 *      fillers are undefined;
 *   2. GUESTS guests (the tiny test guest in MEMORY MiB, 96 by default: it
 *      cannot unpack its initramfs in 64 or 72; pc, TCG) with NICS
 *      ethernet NICs each, started one after the other and paused
 *      (`suspend`) right after their start so TCG does not eat the CPUs;
 *      the first one's boot is awaited (it boots in MEMORY MiB); the last
 *      LIVE guests stay running and are booted (their shell answers): a
 *      paused guest cannot answer an ACPI eject;
 *   3. vnicd's VmRSS and open fds (by kind) idle and with the guests
 *      running: per running domain;
 *   4. CLIENTS API clients (threads, one connection each) doing OPS
 *      operations in all, at random: half of them live attach/detach
 *      (`live`: QEMU and the guest, the ACPI eject answered) on a random one
 *      of the LIVE running guests, half `config` attach/detach (the stored
 *      definition only) on a random paused one; a domain gets at most
 *      MAX_EXTRA extra NICs of each kind.  ops/s, p50/p99 per kind and op;
 *   5. accounting: every NIC of every guest the same in vnicd's status
 *      (domiflist), in QEMU (query-pci: its id at that address), in the
 *      host's links and in the ledger (the status file's <link> lines), as
 *      the clients left them; the stored config (domiflist --inactive) as
 *      the config operations left it; PCI addresses unique per guest, host
 *      link names unique on the host;
 *   6. vnicd SIGKILLed and restarted: until every guest answers again
 *      (its re-attach job done); fds per domain the same as before; the
 *      accounting again;
 *   7. every guest destroyed and undefined: vnicd's RSS and fds back.
 * Prints numbers and targets; asserts nothing about the numbers (it fails
 * only when something does not work).  Parameters on the command line, so a
 * small run comes first:  build/bench/scale --guests 20 --ops 100
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>

#include "bench-util.h"

#define MAX_EXTRA 4              /* extra NICs per guest and kind */
#define RSS_TARGET_KIB 200.0     /* per running domain */
#define FD_TARGET 2              /* per running domain: its monitor, its process handle */

static struct {
    int guests, nics, clients, ops, live, defined, memory;
} P = { 100, 10, 8, 400, 4, 1000, 96 };

typedef enum { KIND_LIVE, KIND_CONFIG, N_KINDS } Kind;
typedef enum { OP_ATTACH, OP_DETACH, N_OPS } Op;
static const char *const kind_names[] = { "live", "config" };
static const char *const op_names[] = { "attach", "detach" };

typedef struct {
    E2eDomainXml *xml;
    GPtrArray *boot_macs;              /* char*: the NICS it was defined with */
    GPtrArray *extra[N_KINDS];         /* char*: MACs the clients attached, idle */
    guint inflight[N_KINDS];           /* attaches under way */
    gboolean live;                     /* one of the running ones */
} Guest;

static struct {
    E2eDaemon *daemon;
    E2eJsonConn *conn;
    Guest *guests;
    GMutex lock;                       /* guests' extra/inflight, the results below */
    guint next_mac;
    int ops_started;
    GArray *ms[N_KINDS][N_OPS];
    guint errors, incomplete;
    gint64 rss_first;                  /* VmRSS once the first guest runs */
    GError *waiter_error;              /* the first of reattach_waiter()'s */
    GString *first_errors;
} S;

static const char *
met(gboolean ok)
{
    return ok ? "met" : "MISSED";
}

static double
since_ms(gint64 t0)
{
    return (double)(g_get_monotonic_time() - t0) / 1000.0;
}

/* --- vnicd's fds and memory ------------------------------------------------------ */

/* kind → count ("socket", "anon_inode:[pidfd]", a path, …) */
static GHashTable *
fd_census(GPid pid, guint *total)
{
    g_autofree char *dir_path = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *name;
    *total = 0;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(dir_path, name, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        if (target == NULL)
            continue;
        char *kind = g_str_has_prefix(target, "socket:[") ? g_strdup("socket")
                     : g_str_has_prefix(target, "pipe:[") ? g_strdup("pipe")
                                                          : g_strdup(target);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, kind));
        g_hash_table_insert(counts, kind, GUINT_TO_POINTER(n + 1));
        (*total)++;
    }
    return counts;
}

/* The census with no API connection of ours open (vnicd has closed its end:
 * the same twice 300 ms apart), so connections do not count as the
 * domains' fds. */
static GHashTable *
settled_census(guint *total)
{
    g_clear_pointer(&S.conn, e2e_json_conn_free);
    GPid pid = e2e_daemon_pid(S.daemon);
    GHashTable *last = fd_census(pid, total);
    for (int i = 0; i < 20; i++) {
        g_usleep(300 * 1000);
        guint n;
        GHashTable *now = fd_census(pid, &n);
        gboolean same = n == *total;
        g_hash_table_unref(last);
        last = now;
        *total = n;
        if (same)
            break;
    }
    return last;
}

/* "kind +N/domain, …": what `now` has beyond `base`, per domain. */
static char *
fd_diff(GHashTable *now, GHashTable *base, int per)
{
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(now), (GCompareFunc)strcmp);
    g_autoptr(GString) s = g_string_new(NULL);
    for (GList *k = keys; k != NULL; k = k->next) {
        int d = (int)GPOINTER_TO_UINT(g_hash_table_lookup(now, k->data)) -
                (int)GPOINTER_TO_UINT(g_hash_table_lookup(base, k->data));
        if (d != 0)
            g_string_append_printf(s, "%s%s %+.2f", s->len ? ", " : "", (char *)k->data, (double)d / per);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* --- API helpers ------------------------------------------------------------------- */

static JsonNode *
api(E2eJsonConn *conn, const char *execute, JsonObject *args, double *ms, GError **error)
{
    return bench_api(conn, execute, args, 120, ms, error);
}

/* The main thread's connection; vnicd closes a connection idle for its idle
 * timeout (docs/api.md), and this one waits through boots and the clients'
 * run: a fresh one after a pause. */
static JsonNode *
main_api(const char *execute, JsonObject *args, double *ms, GError **error)
{
    static gint64 last_use;
    if (S.conn == NULL || g_get_monotonic_time() - last_use > 3 * G_USEC_PER_SEC) {
        g_clear_pointer(&S.conn, e2e_json_conn_free);
        if (!(S.conn = e2e_json_conn_connect(e2e_daemon_socket(S.daemon), 5, error))) {
            if (args != NULL)
                json_object_unref(args);
            return NULL;
        }
    }
    JsonNode *ret = api(S.conn, execute, args, ms, error);
    last_use = g_get_monotonic_time();
    return ret;
}

static JsonObject *
name_args(const Guest *g)
{
    return bench_args("name", g->xml->name, NULL);
}

/* A new MAC no guest has (52:54:01:…). */
static char *
new_mac(void)
{
    guint n = S.next_mac++;
    return g_strdup_printf("52:54:01:%02x:%02x:%02x", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

static gboolean
define_one(const char *tag, gboolean guest, Guest *g, GError **error)
{
    g_autofree char *src = g_build_filename(e2e_source_root(), "bench", "scale-guest.xml", NULL);
    g_autoptr(E2eDomainXml) xml = e2e_xml_prepare(src, tag, error);
    if (xml == NULL)
        return FALSE;
    g_autoptr(GString) nics = g_string_new(NULL);
    g_autoptr(GPtrArray) macs = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < P.nics; i++) {
        char *mac = new_mac();
        g_string_append_printf(nics, "    <interface type='ethernet'><mac address='%s'/>"
                                     "<model type='virtio'/></interface>\n", mac);
        g_ptr_array_add(macs, mac);
    }
    g_string_append(nics, "  </devices>");
    g_autofree char *mem = g_strdup_printf(">%d<", P.memory);
    g_autoptr(GString) text = g_string_new(xml->xml);
    g_string_replace(text, "</devices>", nics->str, 1);
    g_string_replace(text, ">96<", mem, 0); /* <memory>, <currentMemory> */
    g_autoptr(JsonNode) ret = main_api("define", bench_args("xml", text->str, NULL), NULL, error);
    if (ret == NULL)
        return FALSE;
    if (guest) {
        g->xml = g_steal_pointer(&xml);
        g->boot_macs = g_steal_pointer(&macs);
        for (int k = 0; k < N_KINDS; k++)
            g->extra[k] = g_ptr_array_new_with_free_func(g_free);
    } else {
        g->xml = g_steal_pointer(&xml); /* a filler: kept to undefine it */
    }
    return TRUE;
}

/* Thread `c` of CLIENTS: a domiftune of the config (read only) for every
 * CLIENTS-th guest; it is a job on the domain, so its reply waits for the
 * re-attach job (domstate is answered at once). */
static gpointer
reattach_waiter(gpointer data)
{
    int c = GPOINTER_TO_INT(data);
    GError *error = NULL;
    E2eJsonConn *conn = e2e_json_conn_connect(e2e_daemon_socket(S.daemon), 5, &error);
    for (int i = c; conn != NULL && i < P.guests; i += P.clients) {
        JsonObject *tune = bench_args("name", S.guests[i].xml->name, "interface",
                                      (const char *)g_ptr_array_index(S.guests[i].boot_macs, 0), NULL);
        json_object_set_boolean_member(tune, "config", TRUE);
        g_autoptr(JsonNode) t = api(conn, "domiftune", tune, NULL, &error);
        if (t == NULL)
            break;
    }
    if (conn != NULL)
        e2e_json_conn_free(conn);
    g_mutex_lock(&S.lock);
    if (error != NULL && S.waiter_error == NULL)
        S.waiter_error = g_steal_pointer(&error);
    g_mutex_unlock(&S.lock);
    g_clear_error(&error);
    return NULL;
}

/* vnicd restarted (SIGTERM or SIGKILL): from spawn until `list all` answers
 * with `want` domains; with `check`, until every guest answered a request
 * queued behind its re-attach job and is in its state (running or paused).
 * ms through *list_ms, *all_ms. */
static gboolean
restart(gboolean crash, guint want, gboolean check, double *list_ms, double *all_ms, GError **error)
{
    g_clear_pointer(&S.conn, e2e_json_conn_free);
    if (crash) {
        e2e_daemon_kill(S.daemon);
    } else {
        int code = -1;
        if (!e2e_daemon_stop(S.daemon, &code, error))
            return FALSE;
    }
    gint64 t0 = g_get_monotonic_time();
    if (!e2e_daemon_start(S.daemon, error) ||
        !(S.conn = e2e_json_conn_connect(e2e_daemon_socket(S.daemon), 5, error)))
        return FALSE;
    JsonObject *args = json_object_new();
    json_object_set_boolean_member(args, "all", TRUE);
    g_autoptr(JsonNode) ret = main_api("list", args, NULL, error);
    if (ret == NULL)
        return FALSE;
    *list_ms = since_ms(t0);
    JsonNode *doms = bench_json_member(ret, "domains");
    guint n = doms != NULL && JSON_NODE_HOLDS_ARRAY(doms) ? json_array_get_length(json_node_get_array(doms)) : 0;
    if (n != want) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "after the restart vnicd lists %u domains, not %u", n, want);
        return FALSE;
    }
    if (check) {
        /* in parallel, so the API round trips do not add up */
        g_autoptr(GPtrArray) threads = g_ptr_array_new();
        S.waiter_error = NULL;
        for (int c = 0; c < P.clients; c++)
            g_ptr_array_add(threads, g_thread_new("wait", reattach_waiter, GINT_TO_POINTER(c)));
        for (guint c = 0; c < threads->len; c++)
            g_thread_join(g_ptr_array_index(threads, c));
        if (S.waiter_error != NULL) {
            g_propagate_error(error, S.waiter_error);
            S.waiter_error = NULL;
            return FALSE;
        }
    }
    *all_ms = since_ms(t0);
    for (int i = 0; check && i < P.guests; i++) {
        g_autoptr(JsonNode) st = main_api("domstate", name_args(&S.guests[i]), NULL, error);
        if (st == NULL)
            return FALSE;
        const char *want_state = S.guests[i].live ? "running" : "paused";
        if (g_strcmp0(bench_json_str(st, "state"), want_state) != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is %s after the restart, not %s",
                        S.guests[i].xml->name, bench_json_str(st, "state"), want_state);
            return FALSE;
        }
    }
    return TRUE;
}

/* --- the clients ------------------------------------------------------------------- */

/* Picks the next operation under the lock: FALSE when the count is done.
 * Detach takes the MAC out of the idle set; attach counts as in flight. */
static gboolean
pick(GRand *rand, Guest **out_g, Kind *out_kind, Op *out_op, char **out_mac)
{
    g_mutex_lock(&S.lock);
    gboolean go = S.ops_started < P.ops;
    if (go) {
        S.ops_started++;
        int n_live = P.live, n_paused = P.guests - P.live;
        Kind kind = n_paused == 0 || (n_live > 0 && g_rand_boolean(rand)) ? KIND_LIVE : KIND_CONFIG;
        int i = kind == KIND_LIVE ? n_paused + g_rand_int_range(rand, 0, n_live)
                                  : g_rand_int_range(rand, 0, n_paused);
        Guest *g = &S.guests[i];
        GPtrArray *idle = g->extra[kind];
        guint have = idle->len + g->inflight[kind];
        Op op = idle->len > 0 && (have >= MAX_EXTRA || g_rand_boolean(rand)) ? OP_DETACH : OP_ATTACH;
        if (op == OP_DETACH) {
            *out_mac = g_ptr_array_steal_index_fast(idle, g_rand_int_range(rand, 0, (gint32)idle->len));
        } else if (have < MAX_EXTRA) {
            *out_mac = new_mac();
            g->inflight[kind]++;
        } else {
            *out_mac = NULL; /* all in flight: wait for the next turn */
            S.ops_started--;
        }
        *out_g = g;
        *out_kind = kind;
        *out_op = op;
    }
    g_mutex_unlock(&S.lock);
    return go;
}

static void
record_error(const char *what, const GError *error)
{
    S.errors++;
    if (S.errors <= 5)
        g_string_append_printf(S.first_errors, "  %s: %s\n", what, error->message);
}

static gpointer
client(gpointer data)
{
    guint seed = GPOINTER_TO_UINT(data);
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    g_autoptr(GError) error = NULL;
    E2eJsonConn *conn = e2e_json_conn_connect(e2e_daemon_socket(S.daemon), 5, &error);
    if (conn == NULL) {
        g_mutex_lock(&S.lock);
        record_error("connect", error);
        g_mutex_unlock(&S.lock);
        return NULL;
    }
    Guest *g;
    Kind kind;
    Op op;
    char *mac;
    while (pick(rand, &g, &kind, &op, &mac)) {
        if (mac == NULL) {
            g_usleep(10 * 1000);
            continue;
        }
        JsonObject *args = bench_args("name", g->xml->name, "mac", mac, NULL);
        json_object_set_boolean_member(args, kind_names[kind], TRUE);
        if (op == OP_ATTACH)
            json_object_set_string_member(args, "type", "ethernet");
        else
            json_object_set_int_member(args, "timeout", 60);
        double ms = 0;
        g_clear_error(&error);
        g_autoptr(JsonNode) ret = api(conn, op == OP_ATTACH ? "attach-interface" : "detach-interface",
                                      args, &ms, &error);
        g_mutex_lock(&S.lock);
        if (ret == NULL) {
            g_autofree char *what = g_strdup_printf("%s %s %s %s", kind_names[kind], op_names[op],
                                                    g->xml->name, mac);
            record_error(what, error);
        } else {
            g_array_append_val(S.ms[kind][op], ms);
        }
        if (op == OP_ATTACH) {
            g->inflight[kind]--;
            if (ret != NULL)
                g_ptr_array_add(g->extra[kind], g_strdup(mac));
        } else if (ret != NULL && json_node_get_object(ret) != NULL &&
                   !json_object_get_boolean_member_with_default(json_node_get_object(ret), "completed", TRUE)) {
            S.incomplete++; /* completes when the guest releases it: the accounting waits for it */
        }
        g_mutex_unlock(&S.lock);
        g_free(mac);
    }
    e2e_json_conn_free(conn);
    return NULL;
}

static gboolean
run_clients(double *wall_s, GError **error)
{
    for (int k = 0; k < N_KINDS; k++)
        for (int o = 0; o < N_OPS; o++)
            S.ms[k][o] = g_array_new(FALSE, FALSE, sizeof(double));
    S.first_errors = g_string_new(NULL);
    g_autoptr(GPtrArray) threads = g_ptr_array_new();
    gint64 t0 = g_get_monotonic_time();
    for (int c = 0; c < P.clients; c++)
        g_ptr_array_add(threads, g_thread_new("client", client, GUINT_TO_POINTER(1000 + c)));
    for (guint c = 0; c < threads->len; c++)
        g_thread_join(g_ptr_array_index(threads, c));
    *wall_s = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    (void)error;
    return TRUE;
}

/* --- accounting ---------------------------------------------------------------------- */

static GHashTable *
str_set(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static gboolean
sets_equal(GHashTable *a, GHashTable *b)
{
    if (g_hash_table_size(a) != g_hash_table_size(b))
        return FALSE;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(b, key))
            return FALSE;
    return TRUE;
}

/* The MACs a guest should have: boot + the idle extras of `kind` (live:
 * the running guest; config: the stored definition). */
static GHashTable *
expected_macs(const Guest *g, Kind kind)
{
    GHashTable *set = str_set();
    for (guint i = 0; i < g->boot_macs->len; i++)
        g_hash_table_add(set, g_strdup(g_ptr_array_index(g->boot_macs, i)));
    for (guint i = 0; i < g->extra[kind]->len; i++)
        g_hash_table_add(set, g_strdup(g_ptr_array_index(g->extra[kind], i)));
    return set;
}

/* QEMU's PCI devices: qdev id → "0000:BB:SS.F". */
static GHashTable *
qemu_pci(const Guest *g, GError **error)
{
    JsonObject *args = name_args(g);
    json_object_set_string_member(args, "command", "query-pci");
    g_autoptr(JsonNode) ret = main_api("qemu-monitor-command", args, NULL, error);
    if (ret == NULL || !JSON_NODE_HOLDS_ARRAY(ret))
        return NULL;
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    JsonArray *buses = json_node_get_array(ret);
    for (guint b = 0; b < json_array_get_length(buses); b++) {
        JsonArray *devs = json_object_get_array_member(json_array_get_object_element(buses, b), "devices");
        for (guint d = 0; devs != NULL && d < json_array_get_length(devs); d++) {
            JsonObject *dev = json_array_get_object_element(devs, d);
            const char *id = e2e_json_get_string(dev, "qdev_id");
            if (id == NULL || *id == '\0')
                continue;
            g_hash_table_insert(ids, g_strdup(id),
                                g_strdup_printf("0000:%02x:%02x.%x", (guint)json_object_get_int_member(dev, "bus"),
                                                (guint)json_object_get_int_member(dev, "slot"),
                                                (guint)json_object_get_int_member(dev, "function")));
        }
    }
    return ids;
}

/* The ledger: <link name='…'> lines of the guest's status file. */
static GHashTable *
ledger_links(const Guest *g, GError **error)
{
    g_autofree char *file = g_strconcat(g->xml->name, ".xml", NULL);
    g_autofree char *path = g_build_filename(e2e_daemon_run_dir(S.daemon), "domains", file, NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    g_autoptr(GRegex) re = g_regex_new("<link name='([^']+)'", 0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    GHashTable *set = str_set();
    for (g_regex_match(re, text, 0, &m); g_match_info_matches(m); g_match_info_next(m, NULL))
        g_hash_table_add(set, g_match_info_fetch(m, 1));
    return set;
}

typedef struct {
    guint nics, live_nics, problems;
    GString *report;
} Account;

static void
problem(Account *a, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void
problem(Account *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (a->problems++ < 10) {
        g_string_append(a->report, "  ");
        g_string_append_vprintf(a->report, fmt, ap);
        g_string_append_c(a->report, '\n');
    }
    va_end(ap);
}

static JsonArray *
interfaces(JsonNode *ret)
{
    JsonNode *m = bench_json_member(ret, "interfaces");
    return m != NULL && JSON_NODE_HOLDS_ARRAY(m) ? json_node_get_array(m) : NULL;
}

/* One guest: status (domiflist) == QEMU == ledger, addresses unique, MACs
 * as the clients left them; its links into `targets` (unique host-wide). */
static gboolean
account_guest(Account *a, const Guest *g, GHashTable *targets, GError **error)
{
    const char *name = g->xml->name;
    g_autoptr(JsonNode) live = main_api("domiflist", name_args(g), NULL, error);
    JsonObject *inactive_args = name_args(g);
    json_object_set_boolean_member(inactive_args, "inactive", TRUE);
    g_autoptr(JsonNode) cfg = live ? main_api("domiflist", inactive_args, NULL, error) : NULL;
    if (!live)
        json_object_unref(inactive_args);
    g_autoptr(GHashTable) pci = cfg ? qemu_pci(g, error) : NULL;
    g_autoptr(GHashTable) ledger = pci ? ledger_links(g, error) : NULL;
    if (ledger == NULL)
        return FALSE;

    g_autoptr(GHashTable) macs = str_set(), addrs = str_set(), links = str_set();
    JsonArray *ifs = interfaces(live);
    guint qemu_nics = 0;
    for (guint i = 0; ifs != NULL && i < json_array_get_length(ifs); i++) {
        JsonObject *nic = json_array_get_object_element(ifs, i);
        const char *mac = e2e_json_get_string(nic, "mac"), *alias = e2e_json_get_string(nic, "alias");
        const char *addr = e2e_json_get_string(nic, "address"), *target = e2e_json_get_string(nic, "target");
        const char *state = e2e_json_get_string(nic, "state");
        a->nics++;
        g_hash_table_add(macs, g_strdup(mac));
        if (addr == NULL || !g_hash_table_add(addrs, g_strdup(addr)))
            problem(a, "%s: NIC %s: address %s not unique in the guest", name, mac, addr);
        if (target == NULL || !g_hash_table_add(targets, g_strdup(target)))
            problem(a, "%s: NIC %s: host link %s not unique on the host", name, mac, target);
        if (target != NULL)
            g_hash_table_add(links, g_strdup(target));
        const char *at = alias ? g_hash_table_lookup(pci, alias) : NULL;
        if (at != NULL)
            qemu_nics++;
        if (g_strcmp0(at, addr) != 0)
            problem(a, "%s: NIC %s (%s): QEMU has it at %s, vnicd says %s", name, mac, alias, at, addr);
        if (g_strcmp0(state, "plugged") != 0)
            problem(a, "%s: NIC %s (%s) is %s, not plugged", name, mac, alias, state);
    }
    /* QEMU's NICs besides those: a netN id vnicd does not list */
    GHashTableIter it;
    gpointer id;
    g_hash_table_iter_init(&it, pci);
    guint qemu_net = 0;
    while (g_hash_table_iter_next(&it, &id, NULL))
        qemu_net += g_str_has_prefix(id, "net") || g_str_has_prefix(id, "ua-");
    if (qemu_net != qemu_nics)
        problem(a, "%s: QEMU has %u NIC devices, vnicd lists %u", name, qemu_net, qemu_nics);
    g_autoptr(GHashTable) want_live = expected_macs(g, KIND_LIVE);
    if (!sets_equal(macs, want_live))
        problem(a, "%s: %u NICs running, the clients left %u", name, g_hash_table_size(macs),
                g_hash_table_size(want_live));
    if (!sets_equal(links, ledger))
        problem(a, "%s: the ledger has %u links, domiflist %u", name, g_hash_table_size(ledger),
                g_hash_table_size(links));

    g_autoptr(GHashTable) cfg_macs = str_set();
    ifs = interfaces(cfg);
    for (guint i = 0; ifs != NULL && i < json_array_get_length(ifs); i++)
        g_hash_table_add(cfg_macs, g_strdup(e2e_json_get_string(json_array_get_object_element(ifs, i), "mac")));
    g_autoptr(GHashTable) want_cfg = expected_macs(g, KIND_CONFIG);
    if (!sets_equal(cfg_macs, want_cfg))
        problem(a, "%s: %u NICs in the config, the clients left %u", name, g_hash_table_size(cfg_macs),
                g_hash_table_size(want_cfg));
    return TRUE;
}

static gboolean
account(const char *when, GError **error)
{
    Account a = { .report = g_string_new(NULL) };
    g_autoptr(GHashTable) targets = str_set();
    gboolean ok = TRUE;
    for (int i = 0; ok && i < P.guests; i++)
        ok = account_guest(&a, &S.guests[i], targets, error);
    if (ok) {
        g_autoptr(GPtrArray) host = e2e_netns_links();
        g_autoptr(GHashTable) host_set = str_set();
        for (guint i = 0; i < host->len; i++)
            if (g_strcmp0(g_ptr_array_index(host, i), "lo") != 0)
                g_hash_table_add(host_set, g_strdup(g_ptr_array_index(host, i)));
        if (!sets_equal(host_set, targets))
            problem(&a, "the host has %u links besides lo, the guests' NICs %u", g_hash_table_size(host_set),
                    g_hash_table_size(targets));
        printf("  accounting %s: %u NICs on %d guests: status == QEMU == links == ledger, config as left, "
               "addresses and link names unique: %s (%u problems)\n%s",
               when, a.nics, P.guests, a.problems == 0 ? "yes" : "NO", a.problems, a.report->str);
    }
    g_string_free(a.report, TRUE);
    return ok;
}

/* --- main ------------------------------------------------------------------------------ */

static void
print_latency(Kind k, Op o)
{
    GArray *v = S.ms[k][o];
    printf("  %-6s %-6s %5u ops   p50 %8.1f ms   p99 %8.1f ms   max %8.1f ms\n", kind_names[k], op_names[o],
           v->len, bench_median(v), bench_percentile(v, 99), bench_max(v));
}

static gboolean
run(GError **error)
{
    if (!(S.daemon = bench_daemon_start(FALSE, TRUE, error)) ||
        !(S.conn = e2e_json_conn_connect(e2e_daemon_socket(S.daemon), 5, error)))
        return FALSE;
    g_autoptr(JsonNode) version = main_api("query-version", NULL, NULL, error);
    if (version == NULL)
        return FALSE;
    g_autofree char *loadavg = NULL;
    g_file_get_contents("/proc/loadavg", &loadavg, NULL, NULL);
    printf("bench/scale: vnicd %s as in production; %d guests (pc, %d MiB, TCG) x %d NICs, %d live, "
           "%d clients, %d ops, %d defined for the start-up; load %s",
           bench_json_str(version, "version"), P.guests, P.memory, P.nics, P.live, P.clients, P.ops,
           P.defined, loadavg ? loadavg : "?\n");

    guint idle_fds;
    gint64 rss_idle = bench_rss_kib(e2e_daemon_pid(S.daemon));
    g_autoptr(GHashTable) idle_census = settled_census(&idle_fds);

    /* 1. start-up with many defined */
    S.guests = g_new0(Guest, P.guests);
    for (int i = 0; i < P.guests; i++) {
        g_autofree char *tag = g_strdup_printf("g%03d", i);
        if (!define_one(tag, TRUE, &S.guests[i], error))
            return FALSE;
        S.guests[i].live = i >= P.guests - P.live;
    }
    double list_small, dummy;
    if (!restart(FALSE, (guint)P.guests, FALSE, &list_small, &dummy, error))
        return FALSE;
    int n_fillers = MAX(0, P.defined - P.guests);
    g_autofree Guest *fillers = g_new0(Guest, MAX(1, n_fillers));
    gint64 t0 = g_get_monotonic_time();
    for (int i = 0; i < n_fillers; i++) {
        g_autofree char *tag = g_strdup_printf("f%04d", i);
        if (!define_one(tag, FALSE, &fillers[i], error))
            return FALSE;
    }
    double define_ms = since_ms(t0) / MAX(1, n_fillers);
    double list_big;
    if (!restart(FALSE, (guint)MAX(P.defined, P.guests), FALSE, &list_big, &dummy, error))
        return FALSE;
    gint64 rss_defined = bench_rss_kib(e2e_daemon_pid(S.daemon));
    for (int i = 0; i < n_fillers; i++) {
        g_autoptr(JsonNode) r = main_api("undefine", name_args(&fillers[i]), NULL, error);
        if (r == NULL)
            return FALSE;
        g_clear_pointer(&fillers[i].xml, e2e_domain_xml_free);
    }
    g_usleep(2 * G_USEC_PER_SEC); /* vnicd trims its heap a second after the last undefine */
    gint64 rss_undefined = bench_rss_kib(e2e_daemon_pid(S.daemon));
    printf("\nstart-up (SIGTERM, spawn → `list all` answered; define %.1f ms per domain)\n", define_ms);
    printf("  %4d defined   %7.1f ms  %6.3f ms per domain\n", P.guests, list_small, list_small / P.guests);
    printf("  %4d defined   %7.1f ms  %6.3f ms per domain   target: no more per domain than with %d: %s\n",
           MAX(P.defined, P.guests), list_big, list_big / MAX(P.defined, P.guests), P.guests,
           met(list_big / MAX(P.defined, P.guests) <= 1.5 * list_small / P.guests + 0.05));
    printf("  vnicd VmRSS with %d defined %" G_GINT64_FORMAT " KiB; with the %d fillers undefined again %"
           G_GINT64_FORMAT " KiB\n", MAX(P.defined, P.guests), rss_defined, n_fillers, rss_undefined);

    /* 2. the guests: started one after the other, paused at once; the live ones booted */
    g_autoptr(GArray) start_ms = g_array_new(FALSE, FALSE, sizeof(double));
    double boot_s = 0;
    for (int i = 0; i < P.guests; i++) {
        Guest *g = &S.guests[i];
        double ms;
        if (i == 0 || g->live) {
            double start_s;
            g_autoptr(E2eConsole) c = bench_start_and_boot(S.daemon, g->xml, &start_s, &boot_s, error);
            if (c == NULL) {
                g_prefix_error(error, "%s (%d MiB): ", g->xml->name, P.memory);
                return FALSE;
            }
            ms = start_s * 1000;
            if (i == 0)
                S.rss_first = bench_rss_kib(e2e_daemon_pid(S.daemon));
            if (i == 0)
                printf("\nthe first guest booted in %d MiB: start %.0f ms, then its shell in %.1f s\n", P.memory, ms,
                       boot_s);
        } else {
            g_autoptr(JsonNode) r = main_api("start", name_args(g), &ms, error);
            if (r == NULL)
                return FALSE;
        }
        g_array_append_val(start_ms, ms);
        if (!g->live) {
            g_autoptr(JsonNode) r = main_api("suspend", name_args(g), NULL, error);
            if (r == NULL)
                return FALSE;
        }
    }
    printf("started %d guests one after the other (%d paused right after their start): start p50 %.0f ms, "
           "max %.0f ms\n", P.guests, P.guests - P.live, bench_median(start_ms), bench_max(start_ms));

    /* 3. memory and fds per running domain */
    g_usleep(G_USEC_PER_SEC);
    guint run_fds;
    gint64 rss_running = bench_rss_kib(e2e_daemon_pid(S.daemon));
    g_autoptr(GHashTable) run_census = settled_census(&run_fds);
    double rss_per = (double)(rss_running - rss_idle) / P.guests;
    double rss_run_share = (double)(rss_running - rss_undefined) / P.guests;
    double rss_marginal = P.guests > 1 ? (double)(rss_running - S.rss_first) / (P.guests - 1) : 0;
    double fds_per = (double)(run_fds - idle_fds) / P.guests;
    g_autofree char *per_kind = fd_diff(run_census, idle_census, P.guests);
    printf("\nvnicd with %d running domains (%d NICs each)\n", P.guests, P.nics);
    printf("  VmRSS idle %" G_GINT64_FORMAT " KiB, now %" G_GINT64_FORMAT " KiB: %.0f KiB per running domain   "
           "target: < %.0f KiB: %s\n", rss_idle, rss_running, rss_per, RSS_TARGET_KIB, met(rss_per < RSS_TARGET_KIB));
    printf("    of which defined → running %.0f KiB per domain; each guest after the first %.0f KiB "
           "(one-time costs of the first start left out)\n", rss_run_share, rss_marginal);
    printf("  fds idle %u, now %u: %.2f per running domain (%s)   target: %d (monitor socket, process "
           "handle): %s\n", idle_fds, run_fds, fds_per, per_kind, FD_TARGET, met(fds_per <= FD_TARGET));

    /* 4. the clients */
    double wall_s;
    if (!run_clients(&wall_s, error))
        return FALSE;
    guint done = 0;
    for (int k = 0; k < N_KINDS; k++)
        for (int o = 0; o < N_OPS; o++)
            done += S.ms[k][o]->len;
    printf("\n%d clients, %d operations (half live on the %d running guests, half --config on the paused ones): "
           "%u succeeded, %u errors, %u detaches not completed within 60 s, in %.1f s: %.1f ops/s "
           "(baseline 7.2 ops/s with 50 guests, no target)\n",
           P.clients, P.ops, P.live, done, S.errors, S.incomplete, wall_s, done / wall_s);
    for (int k = 0; k < N_KINDS; k++)
        for (int o = 0; o < N_OPS; o++)
            print_latency(k, o);
    if (S.errors > 0)
        printf("  first errors:\n%s", S.first_errors->str);

    /* 5. accounting */
    if (!account("after the clients", error))
        return FALSE;

    /* 6. kill -9 and re-attach */
    double list_ms, reattach_ms;
    if (!restart(TRUE, (guint)P.guests, TRUE, &list_ms, &reattach_ms, error))
        return FALSE;
    g_usleep(G_USEC_PER_SEC);
    guint re_fds;
    gint64 rss_re = bench_rss_kib(e2e_daemon_pid(S.daemon));
    g_autoptr(GHashTable) re_census = settled_census(&re_fds);
    g_autofree char *re_kind = fd_diff(re_census, idle_census, P.guests);
    printf("\nvnicd SIGKILLed and started again with %d running guests\n", P.guests);
    printf("  spawn → `list all` %.1f ms; → every guest re-attached (a job on each answered, %d clients) %.1f ms "
           "(%.2f ms per guest; baseline 350 ms for 50)\n", list_ms, P.clients, reattach_ms, reattach_ms / P.guests);
    printf("  fds %u (%s per domain), before the restart %u: %s; VmRSS %" G_GINT64_FORMAT " KiB\n", re_fds,
           re_kind, run_fds, re_fds == run_fds ? "the same" : "DIFFERENT", rss_re);
    if (!account("after the restart", error))
        return FALSE;

    /* 7. everything away */
    for (int i = 0; i < P.guests; i++) {
        g_autoptr(JsonNode) d = main_api("destroy", name_args(&S.guests[i]), NULL, error);
        g_autoptr(JsonNode) u = d ? main_api("undefine", name_args(&S.guests[i]), NULL, error) : NULL;
        if (u == NULL)
            return FALSE;
    }
    g_usleep(2 * G_USEC_PER_SEC);
    guint end_fds;
    g_autoptr(GHashTable) end_census = settled_census(&end_fds);
    g_autofree char *links_left = e2e_netns_links_besides_lo();
    printf("\nall destroyed and undefined: VmRSS %" G_GINT64_FORMAT " KiB (idle at the start %" G_GINT64_FORMAT
           " KiB, this vnicd started with %d running), fds %u (idle %u), links left: %s\n",
           bench_rss_kib(e2e_daemon_pid(S.daemon)), rss_idle, P.guests, end_fds, idle_fds,
           links_left && *links_left ? links_left : "none");
    return bench_daemon_stop_clean(S.daemon, error);
}

int
main(int argc, char **argv)
{
    GOptionEntry entries[] = {
        { "guests", 0, 0, G_OPTION_ARG_INT, &P.guests, "guests started and paused (100)", "N" },
        { "nics", 0, 0, G_OPTION_ARG_INT, &P.nics, "NICs per guest (10)", "N" },
        { "live", 0, 0, G_OPTION_ARG_INT, &P.live, "guests left running for live attach/detach (4)", "N" },
        { "clients", 0, 0, G_OPTION_ARG_INT, &P.clients, "concurrent API clients (8)", "N" },
        { "ops", 0, 0, G_OPTION_ARG_INT, &P.ops, "attach/detach operations in all (400)", "N" },
        { "defined", 0, 0, G_OPTION_ARG_INT, &P.defined, "domains defined for the start-up time (1000)", "N" },
        { "memory", 0, 0, G_OPTION_ARG_INT, &P.memory, "guest memory in MiB (96: the tiny guest does not boot in 64 or 72)", "MIB" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- vnicd with many guests (issue #12)");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) opt_error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &opt_error)) {
        fprintf(stderr, "bench/scale: %s\n", opt_error->message);
        return 2;
    }
    if (P.guests < 1 || P.live < 0 || P.live > P.guests || P.clients < 1 || P.nics < 1 || P.ops < 0) {
        fprintf(stderr, "bench/scale: need --guests >= 1, 0 <= --live <= --guests, --clients >= 1, --nics >= 1\n");
        return 2;
    }
    bench_init("bench/scale", &argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNICD);
    g_autoptr(GError) error = NULL;
    gboolean ok = run(&error);
    return bench_main_end(ok, error, &S.daemon, &S.conn);
}
