/* test-preempt.c: destroy does not wait behind a job that waits for the
 * guest (issue #10: it waited up to the job's timeout, 38.8 s measured).
 *
 *   shutdown   a pc guest without <acpi/> ignores the power button, so
 *              `vnic shutdown --timeout 60` waits; `vnic destroy` meanwhile
 *              returns in < 2 s, the shutdown ends with it, the domain is
 *              shut off, no tap is left.
 *   detach     a booted pc guest whose kernel ignores ACPI (acpi=off)
 *              never answers device_del, so
 *              `vnic detach-interface --timeout 60` waits; `vnic destroy`
 *              meanwhile returns in < 2 s and the detach ends with QEMU.
 */
#include "e2e.h"

#include <string.h>

#define DESTROY_BOUND_S 2.0

static E2eDaemon *daemon_;

#define VNIC_OK(result, ...)                                                       \
    g_autoptr(E2eCmdResult) result = e2e_daemon_vnic(daemon_, __VA_ARGS__, NULL); \
    do {                                                                           \
        if (result->status != 0) {                                                 \
            g_autofree char *desc_ = e2e_cmd_result_describe(result);              \
            g_test_fail_printf("%s", desc_);                                       \
            return;                                                                \
        }                                                                          \
    } while (0)

static gboolean
ensure_daemon(void)
{
    g_autoptr(GError) error = NULL;

    if (daemon_)
        return TRUE;
    daemon_ = e2e_daemon_new(NULL);
    if (!e2e_daemon_start(daemon_, &error)) {
        g_test_fail_printf("vnicd: %s", error->message);
        g_clear_pointer(&daemon_, e2e_daemon_free);
        return FALSE;
    }
    return TRUE;
}

/* `vnic destroy NAME`, which must exit 0; returns how long it took. */
static double
timed_destroy(const char *name, char **failure)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(daemon_, "destroy", name, NULL);
    double took = (g_get_monotonic_time() - t0) / 1e6;

    if (r->status != 0)
        *failure = e2e_cmd_result_describe(r);
    return took;
}

static gboolean
is_shut_off(const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) list = e2e_daemon_vnic_json(daemon_, &error, "list", "--all", "--json", NULL);
    JsonNode *domains = list && JSON_NODE_HOLDS_OBJECT(list)
                            ? json_object_get_member(json_node_get_object(list), "domains")
                            : list;
    JsonArray *a = domains && JSON_NODE_HOLDS_ARRAY(domains) ? json_node_get_array(domains) : NULL;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *d = e2e_json_array_object(a, i);
        if (g_strcmp0(e2e_json_get_string(d, "name"), name) == 0)
            return g_strcmp0(e2e_json_get_string(d, "state"), "shut-off") == 0;
    }
    return FALSE;
}

static void
test_destroy_during_shutdown(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(E2eDomainXml) xml = NULL;
    g_autofree char *text = NULL, *failure = NULL;
    g_autoptr(GString) edited = NULL;
    E2eCmd *shutdown;
    double took;

    if (!ensure_daemon())
        return;
    xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "noacpi", &error);
    E2E_CHECK_NO_ERROR(error, "cloudstack-pc.xml");
    /* no ACPI: system_powerdown reaches nobody */
    edited = g_string_new(xml->xml);
    E2E_CHECK(g_string_replace(edited, "<acpi/>", "", 0) == 1, "no <acpi/> in %s", xml->xml_path);
    E2E_CHECK(g_file_set_contents(xml->xml_path, edited->str, -1, &error), "%s", error->message);
    {
        VNIC_OK(r, "define", xml->xml_path);
    }
    {
        VNIC_OK(r, "start", xml->name);
    }
    shutdown = e2e_daemon_vnic_spawn(daemon_, "shutdown", xml->name, "--timeout", "60", NULL);
    g_usleep(1000 * 1000); /* the shutdown job now holds the domain */
    E2E_CHECK(!e2e_cmd_done(shutdown), "shutdown ended before destroy (the guest reacted?)");
    took = timed_destroy(xml->name, &failure);
    g_test_message("destroy during a waiting shutdown took %.2f s", took);
    if (failure) {
        e2e_cmd_free(shutdown);
        E2E_CHECK(FALSE, "%s", failure);
    }
    {
        g_autoptr(E2eCmdResult) r = e2e_cmd_finish(shutdown, 10);
        E2E_CHECK(!r->timed_out, "the shutdown did not end with QEMU");
    }
    E2E_CHECK(took < DESTROY_BOUND_S, "destroy took %.2f s (bound %.1f s)", took, DESTROY_BOUND_S);
    E2E_CHECK(is_shut_off(xml->name), "%s is not shut off", xml->name);
    {
        g_autofree char *links = e2e_netns_links_besides_lo();
        E2E_CHECK(*links == '\0', "links left after destroy: %s", links);
    }
    {
        VNIC_OK(r, "undefine", xml->name);
    }
}

static void
test_destroy_during_detach(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(E2eDomainXml) xml = NULL;
    g_autoptr(E2eConsole) console = NULL;
    g_autofree char *failure = NULL;
    E2eCmd *detach;
    double took;

    if (!ensure_daemon())
        return;
    xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "detach", &error);
    E2E_CHECK_NO_ERROR(error, "cloudstack-pc.xml");
    /* the guest's kernel ignores ACPI: no one answers the hot-plug GPE of
     * device_del */
    {
        g_autoptr(GString) edited = g_string_new(xml->xml);
        E2E_CHECK(g_string_replace(edited, "</cmdline>", " acpi=off</cmdline>", 1) == 1,
                  "no <cmdline> in %s", xml->xml_path);
        E2E_CHECK(g_file_set_contents(xml->xml_path, edited->str, -1, &error), "%s", error->message);
    }
    {
        VNIC_OK(r, "define", xml->xml_path);
    }
    {
        VNIC_OK(r, "start", xml->name);
    }
    console = e2e_console_connect(xml->serial_path, 30, &error);
    E2E_CHECK_NO_ERROR(error, "the guest's console");
    E2E_CHECK(e2e_console_wait_ready(console, 120, &error), "%s", error->message);
    detach = e2e_daemon_vnic_spawn(daemon_, "detach-interface", xml->name, "--mac",
                                   "52:54:00:c5:00:02", "--timeout", "60", NULL);
    g_usleep(1000 * 1000); /* the detach job now holds the domain */
    if (e2e_cmd_done(detach)) {
        g_autoptr(E2eCmdResult) r = e2e_cmd_finish(detach, 1);
        g_autofree char *desc = e2e_cmd_result_describe(r);
        E2E_CHECK(FALSE, "the detach ended within 1 s (the guest reacted?): %s", desc);
    }
    took = timed_destroy(xml->name, &failure);
    g_test_message("destroy during a waiting detach took %.2f s", took);
    if (failure) {
        e2e_cmd_free(detach);
        E2E_CHECK(FALSE, "%s", failure);
    }
    {
        g_autoptr(E2eCmdResult) r = e2e_cmd_finish(detach, 10);
        E2E_CHECK(!r->timed_out, "the detach did not end with QEMU");
    }
    E2E_CHECK(took < DESTROY_BOUND_S, "destroy took %.2f s (bound %.1f s)", took, DESTROY_BOUND_S);
    E2E_CHECK(is_shut_off(xml->name), "%s is not shut off", xml->name);
    {
        g_autofree char *links = e2e_netns_links_besides_lo();
        E2E_CHECK(*links == '\0', "links left after destroy: %s", links);
    }
}

static void
test_stop(void)
{
    g_autoptr(GError) error = NULL;
    int code = -1;

    if (!daemon_)
        return;
    E2E_CHECK(e2e_daemon_stop(daemon_, &code, &error), "%s", error->message);
    E2E_CHECK(code == 0, "vnicd exited %d", code);
}

int
main(int argc, char **argv)
{
    int rc;

    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/preempt/destroy-during-shutdown", test_destroy_during_shutdown);
    g_test_add_func("/e2e/preempt/destroy-during-detach", test_destroy_during_detach);
    g_test_add_func("/e2e/preempt/stop", test_stop);
    rc = e2e_finish();
    if (rc != 0 && daemon_) {
        g_autofree char *log = e2e_daemon_log_tail(daemon_, 60);
        g_printerr("--- %s (last lines)\n%s\n", e2e_daemon_log_path(daemon_), log);
    }
    g_clear_pointer(&daemon_, e2e_daemon_free);
    return rc;
}
