/* test-nic.c: the per-NIC state machine (daemon-nic.c) without QEMU:
 * which transitions exist, what a user sees of a NIC (domiflist members,
 * NIC_STATE events) and what survives a restart (the status lines). */
#include "daemon/daemon-nic.h"

#include <string.h>

typedef struct {
    VnicDaemon daemon;
    VnicDomain *dom;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
    VnicConfDomain *def = vnic_conf_domain_new();

    def->name = g_strdup("web1");
    f->daemon.api = vnic_api_server_new(NULL, 0, &f->daemon);
    f->daemon.domains = g_hash_table_new(g_str_hash, g_str_equal);
    f->dom = vnic_domain_new(&f->daemon, def);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
    vnic_domain_free(f->dom);
    g_hash_table_unref(f->daemon.domains);
    vnic_api_server_free(f->daemon.api);
}

static void
test_state_names(void)
{
    for (VnicNicState s = VNIC_NIC_PLANNED; s <= VNIC_NIC_GONE; s++) {
        VnicNicState back;
        g_assert_true(vnic_nic_state_from_string(vnic_nic_state_to_string(s), &back));
        g_assert_cmpint(back, ==, s);
    }
    g_assert_false(vnic_nic_state_from_string("plugged ", NULL));
    g_assert_cmpstr(vnic_nic_state_to_string(VNIC_NIC_WAITING), ==, "waiting");
    g_assert_cmpstr(vnic_nic_state_to_string(VNIC_NIC_BACKEND_READY), ==, "backend-ready");
}

/* The life of a NIC whose lower device vanishes and comes back. */
static void
test_lifecycle(Fixture *f, gconstpointer data)
{
    VnicNic *nic = vnic_nic_new(f->dom, "net0", VNIC_NIC_PLANNED);

    g_assert_true(vnic_domain_get_nic(f->dom, "net0") == nic);
    g_assert_true(vnic_nic_set_state(nic, VNIC_NIC_BACKEND_READY, NULL, NULL));
    g_assert_true(vnic_nic_set_state(nic, VNIC_NIC_PLUGGED, NULL, NULL));
    g_assert_true(vnic_nic_wants_carrier(nic));
    g_assert_true(vnic_nic_set_state(nic, VNIC_NIC_WAITING, "eth1", "lower device 'eth1' is gone"));
    g_assert_cmpstr(nic->waiting_for, ==, "eth1");
    g_assert_false(vnic_nic_wants_carrier(nic));
    g_assert_true(vnic_nic_set_state(nic, VNIC_NIC_RESTORING, "ignored", NULL));
    g_assert_null(nic->waiting_for);
    g_assert_true(vnic_nic_set_state(nic, VNIC_NIC_PLUGGED, NULL, NULL));
    g_assert_true(vnic_nic_set_state(nic, VNIC_NIC_UNPLUGGING, NULL, "detach requested"));
    g_assert_true(vnic_nic_set_state(nic, VNIC_NIC_GONE, NULL, "host"));
    g_assert_null(vnic_domain_get_nic(f->dom, "net0"));
}

/* What the diagram lacks is refused (and is a bug: a critical). */
static void
test_refused(Fixture *f, gconstpointer data)
{
    static const VnicNicState refused[][2] = {
        { VNIC_NIC_PLANNED, VNIC_NIC_WAITING },
        { VNIC_NIC_PLANNED, VNIC_NIC_UNPLUGGING },
        { VNIC_NIC_BACKEND_READY, VNIC_NIC_RESTORING },
        { VNIC_NIC_UNPLUGGING, VNIC_NIC_WAITING },
        { VNIC_NIC_UNPLUGGING, VNIC_NIC_RESTORING },
    };

    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        VnicNic *nic = vnic_nic_new(f->dom, "net1", refused[i][0]);
        g_test_expect_message("vnicd", G_LOG_LEVEL_CRITICAL, "*no transition from*");
        g_assert_false(vnic_nic_set_state(nic, refused[i][1], NULL, NULL));
        g_test_assert_expected_messages();
        g_assert_cmpint(nic->state, ==, refused[i][0]);
        vnic_nic_set_state(nic, VNIC_NIC_GONE, NULL, NULL);
    }
}

static void
test_describe(Fixture *f, gconstpointer data)
{
    VnicNic *nic = vnic_nic_new(f->dom, "net0", VNIC_NIC_PLUGGED);
    g_autoptr(JsonObject) obj = json_object_new();

    vnic_nic_set_state(nic, VNIC_NIC_WAITING, "br0", "bridge 'br0' is gone");
    nic->carrier = FALSE;
    vnic_nic_describe(nic, obj);
    g_assert_cmpstr(json_object_get_string_member(obj, "state"), ==, "waiting");
    g_assert_cmpstr(json_object_get_string_member(obj, "waiting-for"), ==, "br0");
    g_assert_cmpstr(json_object_get_string_member(obj, "link"), ==, "down");
    g_assert_cmpstr(json_object_get_string_member(obj, "reason"), ==, "bridge 'br0' is gone");
}

/* A waiting NIC is still waiting after a restart: the status lines. */
static void
test_status_round_trip(Fixture *f, gconstpointer data)
{
    g_autoptr(GString) s = g_string_new(NULL);
    VnicNic *a = vnic_nic_new(f->dom, "net1", VNIC_NIC_PLUGGED);
    VnicNic *b = vnic_nic_new(f->dom, "net0", VNIC_NIC_PLUGGED);
    VnicNic *back;

    vnic_nic_set_state(a, VNIC_NIC_WAITING, "low'<&\"", "gone");
    a->carrier = FALSE;
    b->admin_up = FALSE;
    vnic_state_append_nics(s, f->dom);
    /* sorted by alias, escaped */
    g_assert_nonnull(strstr(s->str, "<nic alias='net0' state='plugged' carrier='up' admin='down'/>\n"
                                    "  <nic alias='net1' state='waiting' waiting-for='low&apos;&lt;&amp;&quot;'"));
    vnic_domain_clear_nics(f->dom);
    vnic_state_parse_nic(f->dom, "net1", "waiting", "low1", "down", "up");
    back = vnic_domain_get_nic(f->dom, "net1");
    g_assert_nonnull(back);
    g_assert_cmpint(back->state, ==, VNIC_NIC_WAITING);
    g_assert_cmpstr(back->waiting_for, ==, "low1");
    g_assert_false(back->carrier);
    g_assert_true(back->admin_up);
    g_test_expect_message("vnicd", G_LOG_LEVEL_WARNING, "*ignoring <nic alias='net2' state='sleeping'>*");
    vnic_state_parse_nic(f->dom, "net2", "sleeping", NULL, NULL, NULL);
    g_test_assert_expected_messages();
    g_assert_null(vnic_domain_get_nic(f->dom, "net2"));
}

/* A record dropped while a heal step is in flight outlives its domain's
 * table until the step ends. */
static void
test_orphan(Fixture *f, gconstpointer data)
{
    VnicNic *nic = vnic_nic_new(f->dom, "net0", VNIC_NIC_PLUGGED);

    nic->busy = TRUE;
    vnic_domain_clear_nics(f->dom);
    g_assert_null(nic->dom);
    vnic_nic_free_orphan(nic);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon/nic/state-names", test_state_names);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
    ADD("/daemon/nic/lifecycle", test_lifecycle);
    ADD("/daemon/nic/refused", test_refused);
    ADD("/daemon/nic/describe", test_describe);
    ADD("/daemon/nic/status-round-trip", test_status_round_trip);
    ADD("/daemon/nic/orphan", test_orphan);
#undef ADD
    return g_test_run();
}
