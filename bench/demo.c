/* bench/demo.c: the live demo (scripts/demo.sh runs it as build/bench/demo).
 *
 * As root, in a private network namespace with temp dirs (the e2e harness,
 * tests/e2e), with the vnic CLI against a vnicd of its own:
 *   1. starts vnicd;
 *   2. vnic define + vnic start the bundled tiny guest with the CloudStack
 *      layout (examples/cloudstack-pc.xml: 2 NICs, virtio-serial, disk,
 *      balloon, watchdog, video), waits for it to boot and reads its names
 *      for the two NICs;
 *   3. vnic pci: the slot map vnic planned, the next NIC's slot and name,
 *      and what libvirt's layout of the same XML would give (vnic plan
 *      --policy libvirt);
 *   4. vnic attach-interface: hot-plugs a third NIC;
 *   5. reads the guest's OWN name for it (udevadm test-builtin net_id inside
 *      the guest) and compares it with vnic's prediction and libvirt's;
 *   6. vnic detach-interface: unplugs it, waits until it completed;
 *   7. vnic shutdown: ACPI power button, the guest powers off;
 *   8. stops vnicd and checks nothing is left (no link but lo).
 * Exit 0 when every step worked; otherwise 1 with what failed, the end of
 * vnicd's log and of the guest console, and the temp dir kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench-util.h"

static struct {
    gint64 t0;
    E2eDaemon *daemon;
    E2eDomainXml *xml;
    E2eConsole *console;
    guint step;
} S;

#define DEMO_STEPS 8

static double
ms_since(gint64 t)
{
    return (double)(g_get_monotonic_time() - t) / 1000.0;
}

static void
step(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void
step(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("[%u/%d] %s\n", ++S.step, DEMO_STEPS, text);
}

/* `vnic VERB ARGS… --json`: its JSON answer. */
#define VNIC_JSON(error, ...) e2e_daemon_vnic_json(S.daemon, error, __VA_ARGS__, "--json", NULL)

static const char *
short_addr(const char *addr)
{
    /* 0000:00:05.0 → 00:05.0 */
    return addr != NULL && strlen(addr) > 5 && g_str_has_prefix(addr, "0000:") ? addr + 5 : addr;
}

static const char *
names_preferred(JsonNode *obj)
{
    return bench_json_str(bench_json_member(obj, "names"), "preferred");
}

static gboolean
start_daemon(GError **error)
{
    gint64 t = g_get_monotonic_time();
    if (!(S.daemon = bench_daemon_start(TRUE, TRUE, error)))
        return FALSE;
    step("vnicd started (pid %d, state and sockets under %s)   %.0f ms", (int)e2e_daemon_pid(S.daemon),
         e2e_daemon_dir(S.daemon), ms_since(t));
    return TRUE;
}

static gboolean
define_and_boot(GError **error)
{
    if (!(S.xml = e2e_xml_prepare("examples/cloudstack-pc.xml", NULL, error)))
        return FALSE;
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "define", S.xml->xml_path, NULL);
    if (r->status != 0) {
        g_autofree char *d = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", d);
        return FALSE;
    }
    double start_s, boot_s;
    if (!(S.console = bench_start_and_boot(S.daemon, S.xml, &start_s, &boot_s, error)))
        return FALSE;
    step("vnic define + vnic start %s: QEMU runs, every device verified   %.0f ms", S.xml->name,
         start_s * 1000);
    g_autoptr(GPtrArray) nics = e2e_guest_nics(S.console, error);
    if (nics == NULL)
        return FALSE;
    GString *names = g_string_new(NULL);
    for (guint i = 0; i < nics->len; i++) {
        const E2eGuestNic *n = g_ptr_array_index(nics, i);
        g_string_append_printf(names, "%s%s %s", i ? ", " : "", n->mac, e2e_guest_nic_preferred(n));
    }
    printf("      guest booted in %.1f s; its NICs: %s\n", boot_s, names->str);
    g_string_free(names, TRUE);
    return TRUE;
}

/* Prints the slot map; returns vnic's and libvirt's next-NIC names. */
static gboolean
slot_map(char **vnic_next, char **libvirt_next, GError **error)
{
    g_autoptr(JsonNode) pci = VNIC_JSON(error, "pci", S.xml->name);
    if (pci == NULL)
        return FALSE;
    const char *plan_argv[] = { e2e_vnic_binary(), "plan", S.xml->xml_path, "--policy", "libvirt",
                                "--json", NULL };
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(plan_argv, 30);
    g_autoptr(JsonNode) lv = r->status == 0 ? e2e_json_parse(r->out, error) : NULL;
    if (lv == NULL) {
        if (r->status != 0) {
            g_autofree char *d = e2e_cmd_result_describe(r);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", d);
        }
        return FALSE;
    }

    step("vnic pci %s: the slot map vnic planned (policy nic-first)", S.xml->name);
    JsonNode *devs = bench_json_member(pci, "devices");
    JsonArray *a = devs != NULL && JSON_NODE_HOLDS_ARRAY(devs) ? json_node_get_array(devs) : NULL;
    for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
        JsonNode *d = json_array_get_element(a, i);
        const char *name = names_preferred(d);
        if (name != NULL)
            printf("      %-8s %-40s → %s\n", short_addr(bench_json_str(d, "address")),
                   bench_json_str(d, "device"), name);
        else
            printf("      %-8s %s\n", short_addr(bench_json_str(d, "address")), bench_json_str(d, "device"));
    }
    JsonNode *next = bench_json_member(pci, "next-nic"), *lv_next = bench_json_member(lv, "next-nic");
    *vnic_next = g_strdup(names_preferred(next));
    *libvirt_next = g_strdup(names_preferred(lv_next));
    if (*vnic_next == NULL || *libvirt_next == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no next-nic name in `vnic pci` or `vnic plan`");
        return FALSE;
    }
    printf("      next hot-plugged NIC: %s → %s   (libvirt 9.0's layout of this XML: %s → %s)\n",
           short_addr(bench_json_str(next, "address")), *vnic_next,
           short_addr(bench_json_str(lv_next, "address")), *libvirt_next);
    return TRUE;
}

/* The guest NIC with `mac`, waiting (up to 10 s) for the guest to bind it. */
static E2eGuestNic *
guest_nic(const char *mac, GError **error)
{
    gint64 deadline = e2e_deadline(10);
    for (;;) {
        g_autoptr(GPtrArray) nics = e2e_guest_nics(S.console, error);
        if (nics == NULL)
            return NULL;
        for (guint i = 0; i < nics->len; i++) {
            E2eGuestNic *n = g_ptr_array_index(nics, i);
            if (g_ascii_strcasecmp(n->mac, mac) == 0)
                return g_ptr_array_steal_index(nics, i);
        }
        if (e2e_ms_left(deadline) == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the guest shows no NIC %s 10 s after attach", mac);
            return NULL;
        }
        g_usleep(20 * 1000);
    }
}

static gboolean
hotplug(const char *vnic_next, const char *libvirt_next, GError **error)
{
    g_autoptr(JsonNode) att = VNIC_JSON(error, "attach-interface", S.xml->name, "--type", "ethernet");
    if (att == NULL)
        return FALSE;
    const char *mac = bench_json_str(att, "mac"), *tap = bench_json_str(att, "target");
    const char *predicted = bench_json_str(att, "guest-name");
    JsonNode *t = bench_json_member(att, "timings");
    if (mac == NULL || tap == NULL || predicted == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "attach-interface answered without mac, target or guest-name");
        return FALSE;
    }
    step("vnic attach-interface %s --type ethernet: NIC %s at %s, tap %s   %.1f ms in vnicd", S.xml->name,
         mac, short_addr(bench_json_str(att, "address")), tap, bench_json_int(t, "total-us") / 1000.0);
    printf("      (tap %.1f ms, getfd %.1f ms, netdev_add %.1f ms, device_add %.1f ms)\n",
           bench_json_int(t, "backend-us") / 1000.0, bench_json_int(t, "getfd-us") / 1000.0,
           bench_json_int(t, "netdev-add-us") / 1000.0, bench_json_int(t, "device-add-us") / 1000.0);

    g_autoptr(E2eGuestNic) nic = guest_nic(mac, error);
    if (nic == NULL)
        return FALSE;
    const char *own = e2e_guest_nic_preferred(nic);
    step("inside the guest, `udevadm test-builtin net_id` names it: %s   (kernel name %s)",
         own ? own : "(nothing)", nic->ifname);
    printf("      vnic predicted %s%s; under libvirt's layout it would be %s\n", predicted,
           g_strcmp0(own, predicted) == 0 ? " ✓" : " ✗", libvirt_next);
    if (g_strcmp0(own, predicted) != 0 || g_strcmp0(predicted, vnic_next) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the guest named the NIC %s; vnic predicted %s (and `vnic pci` said %s)",
                    own ? own : "(nothing)", predicted, vnic_next);
        return FALSE;
    }

    g_autoptr(JsonNode) det = VNIC_JSON(error, "detach-interface", S.xml->name, "--mac", mac);
    if (det == NULL)
        return FALSE;
    JsonNode *completed = bench_json_member(det, "completed");
    if (completed == NULL || !JSON_NODE_HOLDS_VALUE(completed) || !json_node_get_boolean(completed)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "detach-interface did not complete: %s",
                    bench_json_str(det, "message"));
        return FALSE;
    }
    t = bench_json_member(det, "timings");
    if (e2e_netns_has_link(tap)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the unplug completed but tap %s is still there", tap);
        return FALSE;
    }
    g_autoptr(GPtrArray) nics = e2e_guest_nics(S.console, error);
    if (nics == NULL)
        return FALSE;
    if (e2e_guest_nics_find_mac(nics, mac) != NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the unplug completed but the guest still has %s", mac);
        return FALSE;
    }
    step("vnic detach-interface %s --mac %s: completed", S.xml->name, mac);
    printf("      the guest released it in %.0f ms, vnic cleaned up %.1f ms later; tap %s is gone, "
           "the guest has %u NICs again\n",
           bench_json_int(t, "guest-us") / 1000.0, bench_json_int(t, "cleanup-us") / 1000.0, tap, nics->len);
    return TRUE;
}

static gboolean
shutdown_and_stop(GError **error)
{
    gint64 t = g_get_monotonic_time();
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "shutdown", S.xml->name, "--timeout", "30", NULL);
    if (r->status != 0) {
        g_autofree char *d = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", d);
        return FALSE;
    }
    g_autoptr(JsonNode) list = VNIC_JSON(error, "list", "--all");
    if (list == NULL)
        return FALSE;
    JsonNode *doms = bench_json_member(list, "domains");
    const char *state = NULL;
    for (guint i = 0; doms != NULL && JSON_NODE_HOLDS_ARRAY(doms) && i < json_array_get_length(json_node_get_array(doms)); i++) {
        JsonNode *d = json_array_get_element(json_node_get_array(doms), i);
        if (g_strcmp0(bench_json_str(d, "name"), S.xml->name) == 0)
            state = bench_json_str(d, "state");
    }
    if (g_strcmp0(state, "shut-off") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "after shutdown the domain is '%s', not shut-off",
                    state ? state : "(not listed)");
        return FALSE;
    }
    step("vnic shutdown %s (ACPI power button): the guest powered off, domain shut-off   %.0f ms",
         S.xml->name, ms_since(t));

    int code = -1;
    if (!e2e_daemon_stop(S.daemon, &code, error))
        return FALSE;
    if (code != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "vnicd exited with %d on SIGTERM", code);
        return FALSE;
    }
    g_autofree char *left = e2e_netns_links_besides_lo();
    if (*left != '\0') {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "links left in the namespace: %s", left);
        return FALSE;
    }
    step("vnicd stopped (exit 0); no tap left; the namespace and temp dir go with the demo");
    return TRUE;
}

static gboolean
run(GError **error)
{
    printf("vnic demo: a CloudStack-style guest under vnicd — boot, hot-plug a NIC, read the name the\n"
           "guest gives it, unplug it, shut down.  Everything runs in a private network namespace.\n\n");
    g_autofree char *vnic_next = NULL, *libvirt_next = NULL;
    return start_daemon(error) && define_and_boot(error) && slot_map(&vnic_next, &libvirt_next, error) &&
           hotplug(vnic_next, libvirt_next, error) && shutdown_and_stop(error);
}

int
main(int argc, char **argv)
{
    S.t0 = g_get_monotonic_time();
    bench_init("demo", &argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_autoptr(GError) error = NULL;
    gboolean ok = run(&error);
    if (ok) {
        printf("\ndemo OK in %.1f s\n", ms_since(S.t0) / 1000.0);
    } else {
        bench_report_error(S.daemon, "step %u: %s", S.step + 1, error != NULL ? error->message : "unknown error");
        if (S.console != NULL) {
            g_autofree char *tail = e2e_console_transcript(S.console, 1500);
            fprintf(stderr, "--- end of the guest console\n%s\n---\n", tail);
        }
    }
    g_clear_pointer(&S.console, e2e_console_free);
    g_clear_pointer(&S.xml, e2e_domain_xml_free);
    g_clear_pointer(&S.daemon, e2e_daemon_free);
    return bench_finish(ok);
}
