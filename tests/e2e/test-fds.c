/* test-fds.c: the fds vnicd holds per running domain are what they should
 * be, before and after it is killed and restarted (meson test 'e2e-fds',
 * issue #12).
 *
 * Two pc guests (examples/cloudstack-pc.xml copies, two NICs each) are
 * started (no need to wait for their boot: vnicd's fds do not depend on
 * it; only the detach after the restart waits for the first one's).  vnicd's open fds (/proc/PID/fd, by kind: socket, anon_inode:[pidfd],
 * a path, …) are counted idle and with both running; vnicd is SIGKILLed and
 * started again, re-attaches both, and the count must be the very same,
 * kind by kind, tap queues included: vnicd holds one reference to each NIC
 * queue it handed QEMU (/dev/net/tun; the detach promise,
 * docs/performance.md), exactly one per queue (here 2 × 2), and a
 * restarted vnicd takes them back from QEMU (pidfd_getfd), so a NIC
 * detached after the restart takes its reference with it; a guest
 * destroyed takes its references with it.  Before the fix a started QEMU had two pidfds (GLib's child
 * watch and vnicd's own) and a re-attached one a single one: one fd more
 * per domain before a restart than after.  The second guest is paused
 * (`suspend`) before the kill and must come back paused, not running (it
 * came back running: the re-attach did not ask QEMU).  Once both guests
 * are destroyed, vnicd is back to its idle count.
 */
#include <string.h>

#include "e2e.h"

#define GUESTS 2
#define QUEUES_PER_GUEST 2 /* two NICs of one queue each */
#define DETACHED_MAC "52:54:00:c5:00:02" /* the second NIC of examples/cloudstack-pc.xml */

static struct {
    E2eDaemon *daemon;
    E2eDomainXml *xml[GUESTS];
} S;

/* What an fd is, from readlink /proc/PID/fd/N: "socket", "pipe",
 * "anon_inode:[pidfd]", or the path. */
static char *
fd_kind(const char *target)
{
    if (g_str_has_prefix(target, "socket:["))
        return g_strdup("socket");
    if (g_str_has_prefix(target, "pipe:["))
        return g_strdup("pipe");
    return g_strdup(target);
}

/* A tap's queue (/dev/net/tun) or a macvtap's (/dev/tapN). */
static gboolean
is_queue(const char *kind)
{
    return g_str_equal(kind, "/dev/net/tun") ||
           (g_str_has_prefix(kind, "/dev/tap") && g_ascii_isdigit(kind[8]));
}

/* kind → count of vnicd's open fds but the tap queues (@out_queues), as a
 * sorted "kind xN, …" line. */
static char *
fd_census(GPid pid, guint *out_total, guint *out_queues)
{
    g_autofree char *dir_path = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *name;
    guint total = 0, queues = 0;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(dir_path, name, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        if (target == NULL)
            continue; /* closed meanwhile (the GDir's own fd, for one) */
        char *kind = fd_kind(target);
        total++;
        if (is_queue(kind)) {
            queues++;
            g_free(kind);
            continue;
        }
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, kind));
        g_hash_table_insert(counts, kind, GUINT_TO_POINTER(n + 1));
    }
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(counts), (GCompareFunc)strcmp);
    g_autoptr(GString) s = g_string_new(NULL);
    for (GList *k = keys; k != NULL; k = k->next)
        g_string_append_printf(s, "%s%s x%u", s->len ? ", " : "", (char *)k->data,
                               GPOINTER_TO_UINT(g_hash_table_lookup(counts, k->data)));
    *out_total = total;
    *out_queues = queues;
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The census once it stops changing (closed API connections, GLib's
 * worker thread closing what it watched): the same twice 300 ms apart. */
static char *
settled_census(guint *out_total, guint *out_queues)
{
    GPid pid = e2e_daemon_pid(S.daemon);
    g_autofree char *last = fd_census(pid, out_total, out_queues);
    for (int i = 0; i < 30; i++) {
        g_usleep(300 * 1000);
        guint total, queues;
        g_autofree char *now = fd_census(pid, &total, &queues);
        if (g_str_equal(now, last) && queues == *out_queues)
            break;
        g_free(last);
        last = g_steal_pointer(&now);
        *out_total = total;
        *out_queues = queues;
    }
    return g_steal_pointer(&last);
}

/* domiftune (its config, read only) is a job on the domain: answered once
 * the re-attach job ended (domstate is answered at once). */
static void
wait_reattached(const E2eDomainXml *xml)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *args = g_strdup_printf("{\"name\": \"%s\", \"interface\": \"52:54:00:c5:00:01\", "
                                            "\"config\": true}", xml->name);
    g_autoptr(JsonObject) reply = e2e_daemon_api(S.daemon, "domiftune", args, &error);
    g_assert_no_error(error);
    g_autoptr(JsonNode) ret = e2e_api_return(reply, &error);
    g_assert_no_error(error);
}

static void
require_state(const E2eDomainXml *xml, const char *want)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *args = g_strdup_printf("{\"name\": \"%s\"}", xml->name);
    g_autoptr(JsonObject) reply = e2e_daemon_api(S.daemon, "domstate", args, &error);
    g_assert_no_error(error);
    g_autoptr(JsonNode) ret = e2e_api_return(reply, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(e2e_json_get_string(json_node_get_object(ret), "state"), ==, want);
}

static void
vnic_ok(const char *verb, const char *name)
{
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, verb, name, NULL);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_error("vnic %s %s: %s", verb, name, desc);
    }
}

static void
test_restart(void)
{
    g_autoptr(GError) error = NULL;
    S.daemon = e2e_daemon_new(NULL);
    g_assert_true(e2e_daemon_start(S.daemon, &error));
    g_assert_no_error(error);

    guint idle, running, reattached, after;
    guint idle_q, running_q, reattached_q, after_q;
    g_autofree char *idle_s = settled_census(&idle, &idle_q);
    for (guint i = 0; i < GUESTS; i++) {
        g_autofree char *tag = g_strdup_printf("fd%u", i);
        S.xml[i] = e2e_xml_prepare("examples/cloudstack-pc.xml", tag, &error);
        g_assert_no_error(error);
        vnic_ok("define", S.xml[i]->xml_path);
        vnic_ok("start", S.xml[i]->name);
    }
    vnic_ok("suspend", S.xml[1]->name);
    g_autofree char *running_s = settled_census(&running, &running_q);

    e2e_daemon_kill(S.daemon);
    g_assert_true(e2e_daemon_start(S.daemon, &error));
    g_assert_no_error(error);
    /* the paused one stays paused */
    for (guint i = 0; i < GUESTS; i++)
        wait_reattached(S.xml[i]);
    require_state(S.xml[0], "running");
    require_state(S.xml[1], "paused");
    g_autofree char *reattached_s = settled_census(&reattached, &reattached_q);

    g_test_message("vnicd fds idle: %u (%s; tap queues x%u)", idle, idle_s, idle_q);
    g_test_message("with %d guests started: %u (%s; tap queues x%u)", GUESTS, running, running_s,
                   running_q);
    g_test_message("after kill -9 and re-attach: %u (%s; tap queues x%u)", reattached,
                   reattached_s, reattached_q);
    g_assert_cmpuint(idle_q, ==, 0);
    g_assert_cmpuint(running, >, idle + running_q);
    /* one reference per queue handed to QEMU, taken back after a restart */
    g_assert_cmpuint(running_q, ==, GUESTS * QUEUES_PER_GUEST);
    g_assert_cmpuint(reattached_q, ==, running_q);
    g_assert_cmpstr(reattached_s, ==, running_s);
    g_assert_cmpuint(reattached, ==, running);

    /* a detach after the restart: the NIC's reference, taken back from
     * QEMU, goes with it, and nothing else changes */
    g_autoptr(E2eConsole) console = e2e_console_connect(S.xml[0]->serial_path, 90, &error);
    g_assert_no_error(error);
    g_assert_true(e2e_console_wait_ready(console, 180, &error));
    g_assert_no_error(error);
    g_autoptr(E2eCmdResult) det = e2e_daemon_vnic_timeout(S.daemon, 90, "detach-interface",
                                                          S.xml[0]->name, "--mac", DETACHED_MAC,
                                                          "--timeout", "60", NULL);
    if (det->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(det);
        g_error("detach after the restart: %s", desc);
    }
    guint detached, detached_q;
    g_autofree char *detached_s = settled_census(&detached, &detached_q);
    g_test_message("one NIC detached after the restart: %u (%s; tap queues x%u)", detached,
                   detached_s, detached_q);
    g_assert_cmpuint(detached_q, ==, running_q - 1);
    g_assert_cmpstr(detached_s, ==, running_s);

    for (guint i = 0; i < GUESTS; i++)
        vnic_ok("destroy", S.xml[i]->name);
    g_autofree char *after_s = settled_census(&after, &after_q);
    g_test_message("after destroying them: %u (%s; tap queues x%u)", after, after_s, after_q);
    g_assert_cmpstr(after_s, ==, idle_s);
    g_assert_cmpuint(after_q, ==, 0);

    /* a guest this vnicd started, with its references, destroyed: none left */
    guint again, again_q;
    vnic_ok("start", S.xml[0]->name);
    g_autofree char *again_s = settled_census(&again, &again_q);
    g_assert_cmpuint(again_q, ==, QUEUES_PER_GUEST);
    vnic_ok("destroy", S.xml[0]->name);
    g_free(after_s);
    after_s = settled_census(&after, &after_q);
    g_test_message("one started again: %u (%s; tap queues x%u); destroyed: %u (%s; x%u)", again,
                   again_s, again_q, after, after_s, after_q);
    g_assert_cmpstr(after_s, ==, idle_s);
    g_assert_cmpuint(after_q, ==, 0);

    int code = -1;
    g_assert_true(e2e_daemon_stop(S.daemon, &code, &error));
    g_assert_no_error(error);
    g_assert_cmpint(code, ==, 0);
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/fds/restart", test_restart);
    int rc = e2e_finish();
    if (rc != 0 && S.daemon != NULL) {
        g_autofree char *tail = e2e_daemon_log_tail(S.daemon, 30);
        g_printerr("--- vnicd log (last lines)\n%s\n", tail);
    }
    for (guint i = 0; i < GUESTS; i++)
        g_clear_pointer(&S.xml[i], e2e_domain_xml_free);
    g_clear_pointer(&S.daemon, e2e_daemon_free);
    return rc;
}
