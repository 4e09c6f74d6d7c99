/* test-daemon.c: vnicd end to end (meson test 'e2e-daemon').
 *
 * One vnicd, two guests (test copies of examples/cloudstack-pc.xml and
 * examples/q35.xml), each booted once; the test cases run in order on that
 * shared state and each says which earlier step it needs:
 *
 *   start          vnic define FILE, vnic start NAME (both guests boot in
 *                  parallel), vnic list --json shows them running
 *   guest-names    for every boot NIC, udev's net_id names in the guest
 *                  (matched by MAC) are what `vnic pci NAME --json` predicted
 *   queries        dumpxml (status, --inactive), domiflist --json: MACs,
 *                  taps present in the namespace, guest-name
 *   kill-restart   kill -9 vnicd while the guests run, start it again: both
 *                  still listed running with the same QEMU pids
 *   destroy        vnic destroy cloudstack-pc: no QEMU, no tap, nothing of the
 *                  domain left in the run dir but logs
 *   shutdown       vnic shutdown q35 (ACPI power button): the same checks
 *   stop           SIGTERM: vnicd exits 0; no link but lo in the namespace,
 *                  nothing but logs in the run dir
 *
 * CLI forms used (docs/api.md): vnic -c SOCKET define FILE | start NAME |
 * destroy NAME | shutdown NAME | list [--all] [--json] |
 * dumpxml NAME [--inactive] | domiflist NAME --json | pci NAME --json.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"

typedef struct {
    const char *example;
    E2eDomainXml *xml;
    E2eConsole *console;
    gboolean booted;
    GPid pid;               /* QEMU, as `vnic list --json` reports it */
    GPtrArray *taps;        /* domiflist targets */
    GPtrArray *guest_nics;  /* E2eGuestNic, from guest-names */
    gboolean gone;          /* destroyed or shut down */
} Dom;

static struct {
    E2eDaemon *daemon;
    Dom dom[2];
    gboolean started;
    gboolean restarted;
} S = {
    .dom = { { .example = "examples/cloudstack-pc.xml" }, { .example = "examples/q35.xml" } },
};

#define PC (&S.dom[0])
#define Q35 (&S.dom[1])

/* Skips a case whose precondition failed earlier (that failure is reported). */
#define NEED(cond, what)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_test_skip("needs " what ", which failed");                  \
            return;                                                       \
        }                                                                 \
    } while (0)

/* Runs `vnic VERB ARGS…` and fails the test case unless it exits 0. */
#define VNIC_OK(result, ...)                                                          \
    g_autoptr(E2eCmdResult) result = e2e_daemon_vnic(S.daemon, __VA_ARGS__, NULL);    \
    do {                                                                              \
        if (result->status != 0) {                                                    \
            g_autofree char *desc_ = e2e_cmd_result_describe(result);                 \
            g_test_fail_printf("%s", desc_);                                          \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* --- JSON shapes ------------------------------------------------------------------ */

/* The array under `member` of an object, or the node itself if an array. */
static JsonArray *
json_list(JsonNode *node, const char *member)
{
    if (node != NULL && JSON_NODE_HOLDS_ARRAY(node))
        return json_node_get_array(node);
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        return NULL;
    JsonNode *m = json_object_get_member(json_node_get_object(node), member);
    return m != NULL && JSON_NODE_HOLDS_ARRAY(m) ? json_node_get_array(m) : NULL;
}

/* A name in pci's "names": the string, or NULL for null/absent. */
static const char *
predicted_name(JsonObject *names, const char *kind)
{
    return e2e_json_get_string(names, kind);
}

/* `vnic list [--all] --json` → the entry of `name`, or NULL. */
static JsonObject *
list_entry(gboolean all, const char *name, GError **error)
{
    g_autoptr(JsonNode) list = all ? e2e_daemon_vnic_json(S.daemon, error, "list", "--all", "--json", NULL)
                                   : e2e_daemon_vnic_json(S.daemon, error, "list", "--json", NULL);
    JsonArray *domains = json_list(list, "domains");
    if (list != NULL && domains == NULL) {
        g_autofree char *text = e2e_json_to_string(list, FALSE);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "list --json: no domains in %s", text);
        return NULL;
    }
    for (guint i = 0; domains != NULL && i < json_array_get_length(domains); i++) {
        JsonObject *d = e2e_json_array_object(domains, i);
        if (g_strcmp0(e2e_json_get_string(d, "name"), name) == 0)
            return json_object_ref(d);
    }
    return NULL;
}

static GPid
entry_pid(JsonObject *entry)
{
    JsonNode *pid = entry != NULL ? json_object_get_member(entry, "pid") : NULL;
    return pid != NULL && JSON_NODE_HOLDS_VALUE(pid) ? (GPid)json_node_get_int(pid) : 0;
}

/* --- start --------------------------------------------------------------------------- */

/* `vnic start` in the background while connecting to the guest's console as
 * soon as QEMU has created it (QEMU drops console output while nobody is
 * connected, and the boot marker comes ~2 s after the guest starts). */
static gboolean
start_and_connect(Dom *dom, GError **error)
{
    g_autoptr(E2eCmd) cmd = e2e_daemon_vnic_spawn(S.daemon, "start", dom->xml->name, NULL);
    gint64 deadline = e2e_deadline(90);
    while (dom->console == NULL && e2e_ms_left(deadline) > 0) {
        if (g_file_test(dom->xml->serial_path, G_FILE_TEST_EXISTS))
            dom->console = e2e_console_connect(dom->xml->serial_path, 2, NULL);
        else if (e2e_cmd_done(cmd))
            break;
        else
            g_usleep(10 * 1000);
    }
    g_autoptr(E2eCmdResult) r = e2e_cmd_finish(g_steal_pointer(&cmd), 90);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    if (dom->console == NULL)
        dom->console = e2e_console_connect(dom->xml->serial_path, 5, error);
    return dom->console != NULL;
}

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;
    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);

    for (int i = 0; i < 2; i++) {
        Dom *dom = &S.dom[i];
        dom->xml = e2e_xml_prepare(dom->example, NULL, &error);
        E2E_CHECK_NO_ERROR(error, dom->example);
        VNIC_OK(r, "define", dom->xml->xml_path);
    }
    for (int i = 0; i < 2; i++) {
        E2E_CHECK(start_and_connect(&S.dom[i], &error), "starting %s: %s", S.dom[i].xml->name,
                  error->message);
    }
    /* Both boot at the same time. */
    for (int i = 0; i < 2; i++) {
        Dom *dom = &S.dom[i];
        E2E_CHECK(e2e_console_wait_ready(dom->console, 90, &error), "%s: %s", dom->xml->name,
                  error->message);
        dom->booted = TRUE;
    }
    for (int i = 0; i < 2; i++) {
        Dom *dom = &S.dom[i];
        g_autoptr(JsonObject) e = list_entry(FALSE, dom->xml->name, &error);
        E2E_CHECK_NO_ERROR(error, "vnic list --json");
        E2E_CHECK(e != NULL, "%s is not in `vnic list --json`", dom->xml->name);
        E2E_CHECK(g_strcmp0(e2e_json_get_string(e, "state"), "running") == 0, "%s: state %s",
                  dom->xml->name, e2e_json_get_string(e, "state"));
        E2E_CHECK(g_strcmp0(e2e_json_get_string(e, "uuid"), dom->xml->uuid) == 0, "%s: uuid %s",
                  dom->xml->name, e2e_json_get_string(e, "uuid"));
        dom->pid = entry_pid(e);
        E2E_CHECK(dom->pid > 0 && e2e_proc_alive(dom->pid), "%s: pid %d is not a live process",
                  dom->xml->name, (int)dom->pid);
        g_autofree char *cmdline = e2e_proc_cmdline(dom->pid);
        E2E_CHECK(cmdline != NULL && strstr(cmdline, "qemu") != NULL, "%s: pid %d is not QEMU: %s",
                  dom->xml->name, (int)dom->pid, cmdline);
    }
    S.started = TRUE;
}

/* --- guest names ---------------------------------------------------------------------- */

static void
check_names(Dom *dom)
{
    NEED(dom->booted, "/e2e/daemon/start");
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) pci = e2e_daemon_vnic_json(S.daemon, &error, "pci", dom->xml->name, "--json", NULL);
    E2E_CHECK_NO_ERROR(error, "vnic pci --json");
    JsonArray *devices = json_list(pci, "devices");
    E2E_CHECK(devices != NULL, "vnic pci --json: no devices array");

    g_clear_pointer(&dom->guest_nics, g_ptr_array_unref);
    dom->guest_nics = e2e_guest_nics(dom->console, &error);
    E2E_CHECK_NO_ERROR(error, "listing the guest's NICs");

    guint predicted = 0;
    for (guint i = 0; i < json_array_get_length(devices); i++) {
        JsonObject *dev = e2e_json_array_object(devices, i);
        const char *mac = e2e_json_get_string(dev, "mac");
        JsonNode *names_node = dev != NULL ? json_object_get_member(dev, "names") : NULL;
        if (mac == NULL || names_node == NULL || !JSON_NODE_HOLDS_OBJECT(names_node))
            continue;  /* not a NIC */
        JsonObject *names = json_node_get_object(names_node);
        predicted++;
        const char *what = e2e_json_get_string(dev, "device");
        const char *address = e2e_json_get_string(dev, "address");
        const E2eGuestNic *nic = e2e_guest_nics_find_mac(dom->guest_nics, mac);
        E2E_CHECK(nic != NULL, "%s: %s (%s at %s) is not in the guest", dom->xml->name, what, mac, address);

        const struct {
            const char *kind;
            const char *guest;
        } kinds[] = { { "onboard", nic->onboard }, { "slot", nic->slot }, { "path", nic->path } };
        for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
            const char *want = predicted_name(names, kinds[k].kind);
            E2E_CHECK(g_strcmp0(want, kinds[k].guest) == 0,
                      "%s: %s at %s: vnic predicts %s name %s, the guest's %s has %s", dom->xml->name,
                      what, address, kinds[k].kind, want ? want : "(none)", nic->ifname,
                      kinds[k].guest ? kinds[k].guest : "(none)");
        }
        const char *want = predicted_name(names, "preferred");
        E2E_CHECK(g_strcmp0(want, e2e_guest_nic_preferred(nic)) == 0,
                  "%s: %s at %s: vnic predicts %s, udev would name %s %s", dom->xml->name, what,
                  address, want, nic->ifname, e2e_guest_nic_preferred(nic));
        g_test_message("%s: %s %s at %s -> guest %s, %s", dom->xml->name, what, mac, address,
                       nic->ifname, want);
    }
    E2E_CHECK(predicted == 2, "%s: vnic pci lists %u NICs, the XML has 2", dom->xml->name, predicted);
    E2E_CHECK(dom->guest_nics->len == predicted, "%s: the guest has %u NICs, vnic pci %u",
              dom->xml->name, dom->guest_nics->len, predicted);
}

static void test_names_pc(void) { check_names(PC); }
static void test_names_q35(void) { check_names(Q35); }

/* --- dumpxml, domiflist ------------------------------------------------------------------ */

static void
check_queries(Dom *dom)
{
    NEED(dom->booted, "/e2e/daemon/start");
    g_autoptr(GError) error = NULL;
    g_autofree char *name_el = g_strdup_printf("<name>%s</name>", dom->xml->name);
    g_autofree char *uuid_el = g_strdup_printf("<uuid>%s</uuid>", dom->xml->uuid);
    {
        VNIC_OK(r, "dumpxml", dom->xml->name);
        E2E_CHECK(strstr(r->out, name_el) && strstr(r->out, uuid_el), "dumpxml:\n%s", r->out);
        E2E_CHECK(strstr(r->out, dom->xml->serial_path) != NULL, "dumpxml: no serial socket:\n%s", r->out);
    }
    {
        VNIC_OK(r, "dumpxml", dom->xml->name, "--inactive");
        E2E_CHECK(strstr(r->out, name_el) != NULL, "dumpxml --inactive:\n%s", r->out);
    }

    g_autoptr(JsonNode) ifl = e2e_daemon_vnic_json(S.daemon, &error, "domiflist", dom->xml->name, "--json", NULL);
    E2E_CHECK_NO_ERROR(error, "vnic domiflist --json");
    JsonArray *ifaces = json_list(ifl, "interfaces");
    E2E_CHECK(ifaces != NULL && json_array_get_length(ifaces) == 2, "domiflist: 2 interfaces expected");
    g_clear_pointer(&dom->taps, g_ptr_array_unref);
    dom->taps = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < json_array_get_length(ifaces); i++) {
        JsonObject *ifc = e2e_json_array_object(ifaces, i);
        const char *mac = e2e_json_get_string(ifc, "mac");
        const char *target = e2e_json_get_string(ifc, "target");
        const char *guest_name = e2e_json_get_string(ifc, "guest-name");
        g_autofree char *mac_lc = mac ? g_ascii_strdown(mac, -1) : NULL;
        E2E_CHECK(mac_lc && strstr(dom->xml->xml, mac_lc), "domiflist: MAC %s is not in the XML", mac);
        E2E_CHECK(target != NULL && *target, "domiflist: %s has no target (tap)", mac);
        E2E_CHECK(e2e_netns_has_link(target), "domiflist: tap %s of %s does not exist", target, mac);
        g_ptr_array_add(dom->taps, g_strdup(target));
        const E2eGuestNic *nic = e2e_guest_nics_find_mac(dom->guest_nics, mac);
        if (nic != NULL)
            E2E_CHECK(g_strcmp0(guest_name, e2e_guest_nic_preferred(nic)) == 0,
                      "domiflist: guest-name %s, the guest's udev says %s", guest_name,
                      e2e_guest_nic_preferred(nic));
    }
}

static void test_queries_pc(void) { check_queries(PC); }
static void test_queries_q35(void) { check_queries(Q35); }

/* --- vnicd killed and restarted --------------------------------------------------------- */

static void
test_kill_restart(void)
{
    NEED(S.started, "/e2e/daemon/start");
    g_autoptr(GError) error = NULL;
    e2e_daemon_kill(S.daemon);
    for (int i = 0; i < 2; i++)
        E2E_CHECK(e2e_proc_alive(S.dom[i].pid), "%s: QEMU died with vnicd", S.dom[i].xml->name);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "restart after SIGKILL: %s", error->message);
    for (int i = 0; i < 2; i++) {
        Dom *dom = &S.dom[i];
        g_autoptr(JsonObject) e = list_entry(FALSE, dom->xml->name, &error);
        E2E_CHECK_NO_ERROR(error, "vnic list --json");
        E2E_CHECK(e != NULL, "after the restart, %s is not in `vnic list --json`", dom->xml->name);
        E2E_CHECK(g_strcmp0(e2e_json_get_string(e, "state"), "running") == 0,
                  "after the restart, %s is %s", dom->xml->name, e2e_json_get_string(e, "state"));
        E2E_CHECK(entry_pid(e) == dom->pid, "after the restart, %s has pid %d, was %d", dom->xml->name,
                  (int)entry_pid(e), (int)dom->pid);
        g_autofree char *out = NULL;
        E2E_CHECK(e2e_console_run(dom->console, "echo alive", 20, &out, NULL, &error), "%s", error->message);
        E2E_CHECK(g_strcmp0(out, "alive\n") == 0, "%s: console says '%s'", dom->xml->name, out);
    }
    S.restarted = TRUE;
}

/* --- gone: destroy, shutdown ------------------------------------------------------------- */

/* Non-directory entries under `dir` (recursively) other than *.log whose
 * path (relative to the run dir) contains one of `needles` (all when NULL). */
static void
leftovers(const char *dir, const char *rel, const char *const *needles, GString *found)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *relpath = *rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            leftovers(path, relpath, needles, found);
            continue;
        }
        if (g_str_has_suffix(name, ".log"))
            continue;
        gboolean match = needles == NULL;
        for (const char *const *n = needles; n != NULL && *n != NULL && !match; n++)
            match = strstr(relpath, *n) != NULL;
        if (match)
            g_string_append_printf(found, " %s%s", relpath, S_ISSOCK(st.st_mode) ? " (socket)" : "");
    }
}

static void
check_gone(Dom *dom)
{
    g_autoptr(GError) error = NULL;
    E2E_CHECK(!e2e_proc_alive(dom->pid), "%s: QEMU pid %d still runs", dom->xml->name, (int)dom->pid);
    g_autoptr(GArray) procs = e2e_proc_find(dom->xml->dir);
    E2E_CHECK(procs->len == 0, "%s: a process still uses %s (pid %d)", dom->xml->name, dom->xml->dir,
              (int)g_array_index(procs, GPid, 0));
    for (guint i = 0; dom->taps != NULL && i < dom->taps->len; i++) {
        const char *tap = g_ptr_array_index(dom->taps, i);
        E2E_CHECK(!e2e_netns_has_link(tap), "%s: tap %s is still there", dom->xml->name, tap);
    }
    const char *const needles[] = { dom->xml->name, dom->xml->uuid, NULL };
    g_autoptr(GString) left = g_string_new(NULL);
    leftovers(e2e_daemon_run_dir(S.daemon), "", needles, left);
    E2E_CHECK(left->len == 0, "%s: left in the run dir %s:%s", dom->xml->name,
              e2e_daemon_run_dir(S.daemon), left->str);

    g_autoptr(JsonObject) running = list_entry(FALSE, dom->xml->name, &error);
    E2E_CHECK_NO_ERROR(error, "vnic list --json");
    E2E_CHECK(running == NULL, "%s is still listed as running", dom->xml->name);
    g_autoptr(JsonObject) all = list_entry(TRUE, dom->xml->name, &error);
    E2E_CHECK_NO_ERROR(error, "vnic list --all --json");
    E2E_CHECK(all != NULL && g_strcmp0(e2e_json_get_string(all, "state"), "shut-off") == 0,
              "%s: `vnic list --all --json` says %s", dom->xml->name,
              all ? e2e_json_get_string(all, "state") : "nothing");
}

static void
test_destroy(void)
{
    NEED(S.restarted, "/e2e/daemon/kill-restart");
    VNIC_OK(r, "destroy", PC->xml->name);
    PC->gone = TRUE;
    check_gone(PC);
}

static void
test_shutdown(void)
{
    NEED(S.restarted, "/e2e/daemon/kill-restart");
    gint64 t0 = g_get_monotonic_time();
    VNIC_OK(r, "shutdown", Q35->xml->name);
    Q35->gone = TRUE;
    g_test_message("shutdown took %.2f s", (g_get_monotonic_time() - t0) / 1e6);
    check_gone(Q35);
    /* What the guest printed before QEMU went away (the console has hit EOF
     * by now, so this does not wait). */
    g_autoptr(GError) error = NULL;
    E2E_CHECK(e2e_console_wait_for(Q35->console, "ACPI power button", 5, NULL, &error),
              "the guest did not see the power button: %s", error->message);
}

static void
test_stop(void)
{
    NEED(S.daemon != NULL && e2e_daemon_running(S.daemon), "a running vnicd");
    g_autoptr(GError) error = NULL;
    int code = -2;
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error), "%s", error->message);
    E2E_CHECK(code == 0, "vnicd exit code %d after SIGTERM", code);
    if (!PC->gone || !Q35->gone)
        return;  /* what follows holds once every guest is gone */
    g_autofree char *links = e2e_netns_links_besides_lo();
    E2E_CHECK(*links == '\0', "links left in the namespace: %s", links);
    g_autoptr(GString) left = g_string_new(NULL);
    leftovers(e2e_daemon_run_dir(S.daemon), "", NULL, left);
    E2E_CHECK(left->len == 0, "left in the run dir %s:%s", e2e_daemon_run_dir(S.daemon), left->str);
}

/* --- main ----------------------------------------------------------------------------------- */

static void
print_diagnostics(void)
{
    if (S.daemon != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 80);
        g_printerr("--- %s (last lines)\n%s\n", e2e_daemon_log_path(S.daemon), log);
    }
    for (int i = 0; i < 2; i++) {
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
    g_test_add_func("/e2e/daemon/start", test_start);
    g_test_add_func("/e2e/daemon/guest-names-cloudstack-pc", test_names_pc);
    g_test_add_func("/e2e/daemon/guest-names-q35", test_names_q35);
    g_test_add_func("/e2e/daemon/queries-cloudstack-pc", test_queries_pc);
    g_test_add_func("/e2e/daemon/queries-q35", test_queries_q35);
    g_test_add_func("/e2e/daemon/kill-restart", test_kill_restart);
    g_test_add_func("/e2e/daemon/destroy", test_destroy);
    g_test_add_func("/e2e/daemon/shutdown", test_shutdown);
    g_test_add_func("/e2e/daemon/stop", test_stop);
    int rc = e2e_finish();
    if (rc != 0)
        print_diagnostics();
    /* Leftover guests and the daemon are the guard's (e2e-env.c). */
    return rc;
}
