/* test-soak.c: the soak of issue #10 (meson test 'e2e-soak'; the long run
 * is bench/soak.sh).
 *
 * A few guests (pc and q35 alternately: copies of examples/cloudstack-pc.xml
 * and examples/q35.xml) under one vnicd; several clients (threads, each
 * running `vnic` processes) attach and detach NICs of all three backend
 * types at random — bridge (a tap on the test's bridge sbr0), direct (a
 * macvtap on the veth slowA) and ethernet (a bare tap) — while the test
 * SIGKILLs vnicd at random moments and starts it again.  After each restart
 * the clients pause, and once their commands have ended the invariant of
 * e2e-invariant.h (vnicd == status file == QEMU == host links == ledger ==
 * the guest's own NIC list, nothing left over) must hold within SETTLE_S.
 *
 *   VNIC_SOAK_SEED     the seed (default: random; always printed, to replay
 *                      the same choices — thread timing still varies)
 *   VNIC_SOAK_GUESTS   guests (default 2)
 *   VNIC_SOAK_KILLS    kill -9s of vnicd while the clients run (default 8)
 *   VNIC_SOAK_CLIENTS  client threads (default 3)
 *
 * Then two targeted cases on the first guest (pc), for races the random
 * kills rarely hit:
 *
 *   kill-mid-macvtap   VNIC_SOAK_MACVTAP_KILLS (2) attaches of a direct NIC,
 *                      vnicd SIGKILLed as soon as the status file has the NIC
 *                      planned (its macvtap about to be made): after the
 *                      restart the invariant, and the same MAC attaches again
 *   heal-eject         VNIC_SOAK_HEAL_EJECTS (2) rounds of a heal racing the
 *                      guest's eject of the same NIC: its macvtap deleted,
 *                      vnicd SIGSTOPped as soon as the status says the new
 *                      backend is going in, the guest ejects the NIC, vnicd
 *                      continued; then the invariant
 *
 * The counts (kills, operations and their outcomes, invariant checks,
 * violations by kind, vnicd's error messages by count) are printed at the
 * end as "# soak: …" lines.  Every violation fails the test.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "e2e-invariant.h"

#define MAX_GUESTS 8
#define MAX_HOTPLUG 5     /* hot-plugged NICs per guest at most (q35: 8 spare ports) */
#define SETTLE_S 60
#define OP_TIMEOUT_S 90
#define BRIDGE "sbr0"
#define LOWER "slowA"
#define LOWER_PEER "slowB"

static const char *const foreign_links[] = { BRIDGE, LOWER, LOWER_PEER, NULL };

typedef struct {
    E2eDomainXml *xml;
    E2eConsole *console;
    guint index;
} Guest;

typedef enum {
    OUT_OK,
    OUT_PENDING,   /* detach: answered "still in progress" */
    OUT_REFUSED,   /* vnicd answered with an error */
    OUT_FAILED,    /* no answer: vnicd down or killed mid-request */
    N_OUT
} Outcome;

static const char *const outcome_names[] = { "ok", "pending", "refused", "failed" };

static struct {
    E2eDaemon *daemon;
    Guest guests[MAX_GUESTS];
    guint n_guests;
    guint32 seed;
    guint kills_wanted, n_clients;
    gboolean started;

    GMutex lock;           /* everything below */
    GCond cond;
    gboolean paused, stop;
    guint active;          /* client operations under way */
    guint attach[N_OUT], detach[N_OUT];
    GHashTable *errors;    /* vnicd's error message (digits as N) → count */
    guint mac_seq;

    guint kills, checks_passed;
    GPtrArray *defects;    /* violations that did not settle, with the kill number */
    GHashTable *kinds;     /* violation kind → count */
} S;

#define NEED_START()                                             \
    do {                                                         \
        if (!S.started) {                                        \
            g_test_skip("needs /e2e/soak/start, which failed");  \
            return;                                              \
        }                                                        \
    } while (0)

static guint
env_uint(const char *name, guint fallback)
{
    const char *v = g_getenv(name);
    return v && *v ? (guint)g_ascii_strtoull(v, NULL, 10) : fallback;
}

/* ---- clients ------------------------------------------------------------------ */

/* The MACs of @g's hot-plugged NICs (prefix 52:54:5a), as domiflist has
 * them now; NULL when vnicd does not answer. */
static GPtrArray *
hotplugged_macs(Guest *g)
{
    g_autofree char *args = g_strdup_printf("{\"name\": \"%s\"}", g->xml->name);
    g_autoptr(JsonObject) reply = e2e_daemon_api(S.daemon, "domiflist", args, NULL);
    g_autoptr(JsonNode) ret = reply ? e2e_api_return(reply, NULL) : NULL;
    JsonArray *list = ret && JSON_NODE_HOLDS_OBJECT(ret)
                          ? e2e_json_member_array(json_node_get_object(ret), "interfaces") : NULL;
    GPtrArray *macs;

    if (!list)
        return NULL;
    macs = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < json_array_get_length(list); i++) {
        const char *mac = e2e_json_get_string(e2e_json_array_object(list, i), "mac");
        if (mac && g_str_has_prefix(mac, "52:54:5a:"))
            g_ptr_array_add(macs, g_strdup(mac));
    }
    return macs;
}

/* What became of a `vnic` run. */
static Outcome
classify(const E2eCmdResult *r, gboolean detach)
{
    if (r->status == 0)
        return detach && g_regex_match_simple("\"completed\"\\s*:\\s*false", r->out, 0, 0)
                   ? OUT_PENDING : OUT_OK;
    if (r->timed_out || strstr(r->err, "cannot connect to vnicd") ||
        strstr(r->err, "onnection") || strstr(r->err, "closed") || strstr(r->err, "EOF") ||
        strstr(r->err, "Broken pipe"))
        return OUT_FAILED;
    return OUT_REFUSED;
}

/* vnicd's message with MACs, numbers and names folded, to count kinds. */
static char *
fold_message(const char *err)
{
    g_autofree char *line = g_strndup(err, strcspn(err, "\n"));
    g_autoptr(GRegex) mac = g_regex_new("[0-9a-f]{2}(:[0-9a-f]{2}){5}", 0, 0, NULL);
    g_autoptr(GRegex) name = g_regex_new("[a-z0-9-]+-soak-[0-9]+-[0-9]+", 0, 0, NULL);
    g_autoptr(GRegex) num = g_regex_new("[0-9]+", 0, 0, NULL);
    g_autofree char *a = g_regex_replace_literal(mac, line, -1, 0, "MAC", 0, NULL);
    g_autofree char *b = g_regex_replace_literal(name, a, -1, 0, "DOM", 0, NULL);

    return g_regex_replace_literal(num, b, -1, 0, "N", 0, NULL);
}

static void
count(gboolean detach, Outcome o, const E2eCmdResult *r)
{
    g_mutex_lock(&S.lock);
    (detach ? S.detach : S.attach)[o]++;
    if (o == OUT_REFUSED) {
        g_autofree char *msg = fold_message(r->err);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(S.errors, msg));
        g_hash_table_replace(S.errors, g_steal_pointer(&msg), GUINT_TO_POINTER(n + 1));
    }
    g_mutex_unlock(&S.lock);
}

static void
one_operation(GRand *rand)
{
    static const char *const types[] = { "bridge", "direct", "ethernet" };
    Guest *g = &S.guests[g_rand_int_range(rand, 0, (gint32)S.n_guests)];
    g_autoptr(GPtrArray) macs = hotplugged_macs(g);
    g_autoptr(E2eCmdResult) r = NULL;
    gboolean detach;

    if (!macs) {
        g_usleep(200 * 1000); /* vnicd is down */
        return;
    }
    detach = macs->len >= MAX_HOTPLUG || (macs->len > 0 && g_rand_double(rand) < 0.45);
    if (detach) {
        const char *mac = g_ptr_array_index(macs, g_rand_int_range(rand, 0, (gint32)macs->len));
        r = e2e_daemon_vnic_timeout(S.daemon, OP_TIMEOUT_S, "detach-interface", g->xml->name,
                                    "--mac", mac, "--json", NULL);
    } else {
        const char *type = types[g_rand_int_range(rand, 0, 3)];
        guint seq;
        g_mutex_lock(&S.lock);
        seq = ++S.mac_seq;
        g_mutex_unlock(&S.lock);
        g_autofree char *mac = g_strdup_printf("52:54:5a:%02x:%02x:%02x", g->index,
                                               (seq >> 8) & 0xff, seq & 0xff);
        const char *source = strcmp(type, "bridge") == 0 ? BRIDGE
                             : strcmp(type, "direct") == 0 ? LOWER : NULL;
        r = source ? e2e_daemon_vnic_timeout(S.daemon, OP_TIMEOUT_S, "attach-interface",
                                             g->xml->name, "--type", type, "--source", source,
                                             "--mac", mac, "--json", NULL)
                   : e2e_daemon_vnic_timeout(S.daemon, OP_TIMEOUT_S, "attach-interface",
                                             g->xml->name, "--type", type, "--mac", mac,
                                             "--json", NULL);
    }
    count(detach, classify(r, detach), r);
}

static gpointer
client_thread(gpointer data)
{
    guint index = GPOINTER_TO_UINT(data);
    g_autoptr(GRand) rand = g_rand_new_with_seed(S.seed * 7919u + index);

    for (;;) {
        g_mutex_lock(&S.lock);
        while (S.paused && !S.stop)
            g_cond_wait(&S.cond, &S.lock);
        if (S.stop) {
            g_mutex_unlock(&S.lock);
            return NULL;
        }
        S.active++;
        g_mutex_unlock(&S.lock);
        one_operation(rand);
        g_mutex_lock(&S.lock);
        S.active--;
        g_cond_broadcast(&S.cond);
        g_mutex_unlock(&S.lock);
        g_usleep((gulong)g_rand_int_range(rand, 0, 300) * 1000);
    }
}

/* Stops new operations and waits for those under way to end. */
static void
pause_clients(void)
{
    g_mutex_lock(&S.lock);
    S.paused = TRUE;
    while (S.active > 0)
        g_cond_wait(&S.cond, &S.lock);
    g_mutex_unlock(&S.lock);
}

static void
resume_clients(void)
{
    g_mutex_lock(&S.lock);
    S.paused = FALSE;
    g_cond_broadcast(&S.cond);
    g_mutex_unlock(&S.lock);
}

/* ---- the invariant ------------------------------------------------------------- */

static E2eInvariantDomain *
invariant_domains(void)
{
    E2eInvariantDomain *d = g_new0(E2eInvariantDomain, S.n_guests);

    for (guint i = 0; i < S.n_guests; i++) {
        d[i].name = S.guests[i].xml->name;
        d[i].console = S.guests[i].console;
    }
    return d;
}

/* Waits for the invariant; what did not settle is a defect.  TRUE when it
 * held. */
static gboolean
check_invariant(const char *when)
{
    g_autofree E2eInvariantDomain *domains = invariant_domains();
    g_autoptr(GError) error = NULL;
    guint rounds = 0;
    gint64 t0 = g_get_monotonic_time();
    /* a violation that outlived the last check's wait will outlive this one's */
    static gboolean last_failed;
    g_autoptr(GPtrArray) v = e2e_invariant_settle(S.daemon, domains, S.n_guests, foreign_links,
                                                  last_failed ? 15 : SETTLE_S, &rounds, &error);

    last_failed = !v || v->len > 0;

    if (!v) {
        g_ptr_array_add(S.defects, g_strdup_printf("%s: the views could not be read: %s", when,
                                                   error->message));
        return FALSE;
    }
    for (guint i = 0; i < v->len; i++) {
        const char *text = g_ptr_array_index(v, i);
        g_autofree char *kind = e2e_invariant_kind(text);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(S.kinds, kind));

        g_hash_table_replace(S.kinds, g_steal_pointer(&kind), GUINT_TO_POINTER(n + 1));
        g_ptr_array_add(S.defects, g_strdup_printf("%s: %s", when, text));
        g_test_message("%s: %s", when, text);
    }
    if (v->len == 0) {
        S.checks_passed++;
        g_test_message("%s: invariant holds (%u rounds, %.1f s)", when, rounds,
                       (g_get_monotonic_time() - t0) / 1e6);
    }
    return v->len == 0;
}

/* ---- cases --------------------------------------------------------------------------- */

static gboolean
sh(const char *cmd)
{
    g_autoptr(E2eCmdResult) r = e2e_cmd_run_args(30, "sh", "-c", cmd, NULL);
    if (r->status != 0)
        g_test_message("%s", e2e_cmd_result_describe(r));
    return r->status == 0;
}

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;
    E2eCmd *starts[MAX_GUESTS] = { 0 };

    E2E_CHECK(sh("ip link add " BRIDGE " type bridge && ip link set " BRIDGE " up && "
                 "ip link add " LOWER " type veth peer name " LOWER_PEER " && "
                 "ip link set " LOWER " up && ip link set " LOWER_PEER " up"),
              "the test's bridge and veth");
    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
    for (guint i = 0; i < S.n_guests; i++) {
        g_autofree char *tag = g_strdup_printf("soak-%u", i);
        Guest *g = &S.guests[i];

        g->index = i;
        g->xml = e2e_xml_prepare(i % 2 ? "examples/q35.xml" : "examples/cloudstack-pc.xml", tag,
                                 &error);
        E2E_CHECK_NO_ERROR(error, "prepare XML");
        g_autoptr(E2eCmdResult) def = e2e_daemon_vnic(S.daemon, "define", g->xml->xml_path, NULL);
        E2E_CHECK(def->status == 0, "%s", e2e_cmd_result_describe(def));
        starts[i] = e2e_daemon_vnic_spawn(S.daemon, "start", g->xml->name, NULL);
    }
    for (guint i = 0; i < S.n_guests; i++) {
        Guest *g = &S.guests[i];
        g_autoptr(E2eCmdResult) r = NULL;

        g->console = e2e_console_connect(g->xml->serial_path, 120, &error);
        r = e2e_cmd_finish(starts[i], 120);
        starts[i] = NULL;
        E2E_CHECK_NO_ERROR(error, "console");
        E2E_CHECK(r->status == 0, "%s", e2e_cmd_result_describe(r));
    }
    for (guint i = 0; i < S.n_guests; i++)
        E2E_CHECK(e2e_console_wait_ready(S.guests[i].console, 240, &error), "%s boot: %s",
                  S.guests[i].xml->name, error->message);
    E2E_CHECK(check_invariant("after boot"), "the invariant does not hold after the boot");
    S.started = TRUE;
}

static void
test_kills(void)
{
    NEED_START();
    g_autoptr(GRand) rand = g_rand_new_with_seed(S.seed);
    GThread *clients[16];
    g_autoptr(GError) error = NULL;
    guint n_clients = MIN(S.n_clients, G_N_ELEMENTS(clients));

    resume_clients();
    for (guint i = 0; i < n_clients; i++)
        clients[i] = g_thread_new("soak-client", client_thread, GUINT_TO_POINTER(i));
    for (guint k = 1; k <= S.kills_wanted; k++) {
        g_autofree char *when = g_strdup_printf("kill %u", k);

        /* the clients run: vnicd dies in the middle of whatever they do */
        g_usleep((gulong)g_rand_int_range(rand, 200, 2500) * 1000);
        if (!e2e_daemon_running(S.daemon)) {
            guint n = GPOINTER_TO_UINT(g_hash_table_lookup(S.kinds, "vnicd-died"));
            g_hash_table_replace(S.kinds, g_strdup("vnicd-died"), GUINT_TO_POINTER(n + 1));
            g_ptr_array_add(S.defects, g_strdup_printf("%s: vnicd-died before it: %s", when,
                                                       "see vnicd.log"));
            g_test_message("%s: vnicd had died on its own", when);
        }
        e2e_daemon_kill(S.daemon);
        S.kills++;
        /* the guests go on meanwhile (an eject may complete while it is down) */
        g_usleep((gulong)g_rand_int_range(rand, 0, 1500) * 1000);
        if (!e2e_daemon_start(S.daemon, &error)) {
            g_ptr_array_add(S.defects, g_strdup_printf("%s: restart: %s", when, error->message));
            break;
        }
        pause_clients();
        check_invariant(when);
        resume_clients();
    }
    g_mutex_lock(&S.lock);
    S.stop = TRUE;
    g_cond_broadcast(&S.cond);
    g_mutex_unlock(&S.lock);
    for (guint i = 0; i < n_clients; i++)
        g_thread_join(clients[i]);
    check_invariant("after the clients stopped");
    E2E_CHECK(S.defects->len == 0, "%u violations of the invariant (seed %u): first: %s",
              S.defects->len, S.seed, (char *)g_ptr_array_index(S.defects, 0));
}

/* ---- a heal racing the guest's eject ------------------------------------------------ */

/* Runs @cmd in @g and returns its output stripped, or NULL (a failed check). */
static char *
guest_out(Guest *g, const char *cmd)
{
    g_autoptr(GError) error = NULL;
    char *out = NULL;

    if (!e2e_guest_run_ok(g->console, cmd, 30, &out, &error)) {
        g_test_message("guest: %s", error->message);
        return NULL;
    }
    return g_strstrip(out);
}

/* Whether the status file of @g says @needle, polled every 0.5 ms. */
static gboolean
status_says(Guest *g, const char *needle, double timeout_s)
{
    return e2e_daemon_status_says(S.daemon, g->xml->name, needle, timeout_s, 500);
}

/* Whether the guest still has a NIC with @mac. */
static gboolean
guest_has(Guest *g, const char *mac)
{
    g_autofree char *cmd = g_strdup_printf("cat /sys/class/net/*/address | grep -qx %s && echo yes "
                                           "|| echo no", mac);
    g_autofree char *out = guest_out(g, cmd);
    return !out || strcmp(out, "no") != 0;
}

/* One round: a direct NIC (on a hub: the default) hot-plugged; its macvtap
 * deleted, so vnicd heals it (a new macvtap, swapped in on the hub: a QMP
 * sequence of netdev_del, getfd, netdev_add).  As soon as the status file
 * says the restore began, vnicd is stopped (SIGSTOP: a daemon the
 * scheduler left behind) and the guest ejects the NIC (its slot's power
 * off); vnicd continues once the guest let go, and finds the rest of its
 * swap and the guest's DEVICE_DELETED together.  Then the invariant: no
 * netdev of the new backend in QEMU, no macvtap outside a ledger.
 * @hit: whether vnicd was caught mid-restore. */
static gboolean
heal_eject_round(Guest *g, guint round, gboolean *hit)
{
    g_autofree char *mac = g_strdup_printf("52:54:5b:00:00:%02x", round);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = e2e_daemon_vnic_json(S.daemon, &error, "attach-interface",
                                                    g->xml->name, "--type", "direct", "--source",
                                                    LOWER, "--mac", mac, "--json", NULL);
    JsonObject *ret = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    const char *address = ret ? e2e_json_get_string(ret, "address") : NULL;
    const char *target = ret ? e2e_json_get_string(ret, "target") : NULL;
    const char *alias = ret ? e2e_json_get_string(ret, "alias") : NULL;
    g_autofree char *ifname = NULL, *slot_addr = NULL, *find = NULL, *slot = NULL;
    g_autofree char *eject = NULL, *when = NULL, *restoring = NULL;
    GPid vnicd = e2e_daemon_pid(S.daemon);
    gint64 deadline;

    *hit = FALSE;
    if (!address || !target || !alias || strlen(address) != 12) {
        g_test_message("attach for round %u: %s", round, error ? error->message : "odd reply");
        return FALSE;
    }
    if (!(ifname = e2e_guest_ifname(g->console, mac, 60, &error))) {
        g_test_message("round %u: the guest never saw %s: %s", round, mac, error->message);
        return FALSE;
    }
    slot_addr = g_strndup(address, 10);
    find = g_strdup_printf("for s in /sys/bus/pci/slots/*; do [ \"$(cat $s/address)\" = %s ] "
                           "&& echo ${s##*/}; done; true", slot_addr);
    if (!(slot = guest_out(g, find)) || !*slot || strchr(slot, '\n'))
        return FALSE;
    eject = g_strdup_printf("echo 0 > /sys/bus/pci/slots/%s/power", slot);
    restoring = g_strdup_printf("alias='%s' state='restoring'", alias);
    {
        const char *const argv[] = { "ip", "link", "del", target, NULL };
        g_autoptr(E2eCmd) del = e2e_cmd_spawn(argv);
        gboolean seen = status_says(g, restoring, 10);

        if (seen)
            kill(vnicd, SIGSTOP);
        *hit = seen && status_says(g, restoring, 0);
        g_autoptr(E2eCmdResult) r = e2e_cmd_finish(g_steal_pointer(&del), 30);
    }
    g_autofree char *ejected = guest_out(g, eject);
    if (!ejected) {
        kill(vnicd, SIGCONT);
        return FALSE;
    }
    deadline = e2e_deadline(20);
    while (guest_has(g, mac) && e2e_ms_left(deadline) > 0)
        g_usleep(100 * 1000);
    kill(vnicd, SIGCONT);
    when = g_strdup_printf("heal-eject round %u (%s %s, vnicd stopped %s)", round, alias, mac,
                           *hit ? "mid-restore" : "after the restore");
    return check_invariant(when);
}

/* A round on @g: FALSE when it failed; *@hit when it caught what it aims at. */
typedef gboolean (*RoundFunc)(Guest *g, guint round, gboolean *hit);

/* @rounds rounds of @round on the first guest; says how many hit ("NAME:
 * N of M WHAT") and fails naming the first defect when a round failed. */
static void
run_rounds(const char *name, RoundFunc round, guint rounds, const char *what)
{
    guint failed = 0, hits = 0;
    guint before = S.defects->len;

    for (guint r = 0; r < rounds; r++) {
        gboolean hit = FALSE;
        if (!round(&S.guests[0], r, &hit))
            failed++;
        hits += hit;
    }
    g_test_message("%s: %u of %u %s", name, hits, rounds, what);
    E2E_CHECK(failed == 0, "%u of %u rounds failed: %s", failed, rounds,
              S.defects->len > before ? (char *)g_ptr_array_index(S.defects, before)
                                      : "see the messages");
}

static void
test_heal_eject(void)
{
    NEED_START();
    run_rounds("heal-eject", heal_eject_round, env_uint("VNIC_SOAK_HEAL_EJECTS", 2),
               "rounds caught vnicd mid-restore");
}

/* ---- vnicd killed while it makes a macvtap ------------------------------------------ */

/* Whether the host has a macvtap with @mac, and its name. */
static char *
macvtap_with_mac(const char *mac)
{
    g_autoptr(E2eCmdResult) r = e2e_cmd_run_args(30, "ip", "-j", "link", "show", "type",
                                                 "macvtap", NULL);
    g_autoptr(JsonNode) node = r->status == 0 ? e2e_json_parse(r->out, NULL) : NULL;
    JsonArray *links = node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;

    for (guint i = 0; links && i < json_array_get_length(links); i++) {
        JsonObject *l = e2e_json_array_object(links, i);
        if (g_ascii_strcasecmp(e2e_json_get_string(l, "address") ?: "", mac) == 0)
            return g_strdup(e2e_json_get_string(l, "ifname"));
    }
    return NULL;
}

/* One round: an attach of a direct NIC, vnicd SIGKILLed as soon as the
 * status file has the NIC planned (written before its macvtap is made);
 * restarted, the invariant must hold (no macvtap outside a ledger) and the
 * same MAC must attach again on the same lower device (the kernel has a
 * MAC once per lower device).  @caught: the kill left a macvtap the status
 * file's ledger did not have. */
static gboolean
kill_mid_macvtap_round(Guest *g, guint round, gboolean *caught)
{
    g_autofree char *mac = g_strdup_printf("52:54:5c:00:00:%02x", round);
    g_autofree char *file = g_strconcat(g->xml->name, ".xml", NULL);
    g_autofree char *path = g_build_filename(e2e_daemon_run_dir(S.daemon), "domains", file, NULL);
    g_autofree char *text = NULL, *left = NULL, *when = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(E2eCmd) attach = e2e_daemon_vnic_spawn(S.daemon, "attach-interface", g->xml->name,
                                                     "--type", "direct", "--source", LOWER,
                                                     "--mac", mac, NULL);
    gboolean seen = status_says(g, "state='planned'", 30);

    e2e_daemon_kill(S.daemon);
    g_autoptr(E2eCmdResult) cut = e2e_cmd_finish(g_steal_pointer(&attach), 30);
    left = macvtap_with_mac(mac);
    g_file_get_contents(path, &text, NULL, NULL);
    *caught = seen && left && text && !strstr(text, left);
    S.kills++;
    if (!e2e_daemon_start(S.daemon, &error)) {
        g_test_message("restart: %s", error->message);
        return FALSE;
    }
    when = g_strdup_printf("kill-mid-macvtap round %u (%s%s%s)", round, mac,
                           *caught ? ", unrecorded " : "", *caught ? left : "");
    if (!check_invariant(when))
        return FALSE;
    {
        g_autoptr(E2eCmdResult) again = e2e_daemon_vnic_timeout(S.daemon, OP_TIMEOUT_S,
                                                                "attach-interface", g->xml->name,
                                                                "--type", "direct", "--source",
                                                                LOWER, "--mac", mac, NULL);
        g_autoptr(E2eCmdResult) detach = NULL;

        if (again->status != 0) {
            g_ptr_array_add(S.defects, g_strdup_printf("%s: the same MAC again: %s", when,
                                                       e2e_cmd_result_describe(again)));
            return FALSE;
        }
        detach = e2e_daemon_vnic_timeout(S.daemon, OP_TIMEOUT_S, "detach-interface",
                                         g->xml->name, "--mac", mac, "--timeout", "30", NULL);
    }
    return check_invariant(when);
}

static void
test_kill_mid_macvtap(void)
{
    NEED_START();
    run_rounds("kill-mid-macvtap", kill_mid_macvtap_round,
               env_uint("VNIC_SOAK_MACVTAP_KILLS", 2),
               "kills left a macvtap the ledger did not have");
}

static void
test_cleanup(void)
{
    NEED_START();
    g_autoptr(GError) error = NULL;
    int code = -1;

    for (guint i = 0; i < S.n_guests; i++) {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "destroy",
                                                    S.guests[i].xml->name, NULL);
        E2E_CHECK(r->status == 0, "%s", e2e_cmd_result_describe(r));
    }
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error), "%s", error->message);
    E2E_CHECK(code == 0, "vnicd exited %d", code);
    E2E_CHECK(sh("ip link del " BRIDGE " && ip link del " LOWER), "deleting the test's links");
    g_autofree char *left = e2e_netns_links_besides_lo();
    E2E_CHECK(*left == '\0', "links left: %s", left);
}

static void
print_summary(void)
{
    GHashTableIter it;
    gpointer key, value;
    guint ops = 0;

    for (guint o = 0; o < N_OUT; o++)
        ops += S.attach[o] + S.detach[o];
    g_print("# soak: seed %u, %u guests, %u clients, %u kills, %u operations\n", S.seed,
            S.n_guests, S.n_clients, S.kills, ops);
    g_print("# soak: attach ok %u, refused %u, failed %u\n", S.attach[OUT_OK],
            S.attach[OUT_REFUSED], S.attach[OUT_FAILED]);
    g_print("# soak: detach ok %u, pending %u, refused %u, failed %u\n", S.detach[OUT_OK],
            S.detach[OUT_PENDING], S.detach[OUT_REFUSED], S.detach[OUT_FAILED]);
    g_print("# soak: invariant checks passed %u, violations %u\n", S.checks_passed,
            S.defects->len);
    g_hash_table_iter_init(&it, S.kinds);
    while (g_hash_table_iter_next(&it, &key, &value))
        g_print("# soak: violation %s: %u\n", (char *)key, GPOINTER_TO_UINT(value));
    g_hash_table_iter_init(&it, S.errors);
    while (g_hash_table_iter_next(&it, &key, &value))
        g_print("# soak: refused %ux %s\n", GPOINTER_TO_UINT(value), (char *)key);
    (void)outcome_names;
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    S.seed = g_getenv("VNIC_SOAK_SEED") ? env_uint("VNIC_SOAK_SEED", 0) : g_random_int();
    S.n_guests = CLAMP(env_uint("VNIC_SOAK_GUESTS", 2), 1, MAX_GUESTS);
    S.kills_wanted = env_uint("VNIC_SOAK_KILLS", 8);
    S.n_clients = CLAMP(env_uint("VNIC_SOAK_CLIENTS", 3), 1, 16);
    S.errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    S.kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    S.defects = g_ptr_array_new_with_free_func(g_free);
    S.paused = TRUE; /* until test_kills' clients start */
    g_print("# soak seed %u (VNIC_SOAK_SEED=%u replays it), %u guests, %u kills\n", S.seed,
            S.seed, S.n_guests, S.kills_wanted);
    g_test_add_func("/e2e/soak/start", test_start);
    g_test_add_func("/e2e/soak/kills", test_kills);
    g_test_add_func("/e2e/soak/kill-mid-macvtap", test_kill_mid_macvtap);
    g_test_add_func("/e2e/soak/heal-eject", test_heal_eject);
    g_test_add_func("/e2e/soak/cleanup", test_cleanup);
    int rc = e2e_finish();
    print_summary();
    if (rc != 0 && S.daemon) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 80);
        g_printerr("--- %s (last lines)\n%s\n", e2e_daemon_log_path(S.daemon), log);
    }
    for (guint i = 0; i < S.n_guests; i++) {
        g_clear_pointer(&S.guests[i].console, e2e_console_free);
        g_clear_pointer(&S.guests[i].xml, e2e_domain_xml_free);
    }
    g_clear_pointer(&S.daemon, e2e_daemon_free);
    g_hash_table_unref(S.errors);
    g_hash_table_unref(S.kinds);
    g_ptr_array_unref(S.defects);
    return rc;
}
