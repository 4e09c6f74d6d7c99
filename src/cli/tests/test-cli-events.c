/* test-cli-events.c: `vnic events`: the line format (the NIC events' member
 * order too), --json, and the bounds scripts rely on (--count, --timeout),
 * plus a daemon that goes away while vnic listens. */
#include "test-cli.h"

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

#define EV_REMOVED                                                                          \
    "{\"event\": \"DEVICE_REMOVED\", \"data\": {\"domain\": \"web1\", \"alias\": \"net2\", " \
    "\"mac\": \"52:54:00:00:00:02\", \"address\": \"0000:00:05.0\", "                       \
    "\"initiator\": \"guest\"}, \"timestamp\": {\"seconds\": 1700000000, "                   \
    "\"microseconds\": 12}}\n"
#define EV_STARTED                                                                    \
    "{\"event\": \"DOMAIN_STARTED\", \"data\": {\"domain\": \"web1\", \"pid\": 4242}, " \
    "\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 500000}}\n"
#define EV_ODD                                                                            \
    "{\"event\": \"DOMAIN_STOPPED\", \"data\": {\"domain\": \"my vm\", \"reason\": \"a b\", " \
    "\"empty\": \"\", \"list\": [1, 2]}, \"timestamp\": {\"seconds\": 1700000002, "           \
    "\"microseconds\": 0}}\n"

/* The NIC events, their members in another order than the line's. */
#define EV_LOST                                                                             \
    "{\"event\": \"BACKEND_LOST\", \"data\": {\"reason\": \"lower device eth1 was deleted\", " \
    "\"device\": \"eth1\", \"alias\": \"net1\", \"domain\": \"web1\"}, "                      \
    "\"timestamp\": {\"seconds\": 1700000003, \"microseconds\": 0}}\n"
#define EV_WAITING                                                                          \
    "{\"event\": \"NIC_STATE\", \"data\": {\"domain\": \"web1\", \"state\": \"waiting\", "    \
    "\"reason\": \"lower device eth1 was deleted\", \"waiting-for\": \"eth1\", "              \
    "\"alias\": \"net1\", \"previous\": \"plugged\"}, "                                      \
    "\"timestamp\": {\"seconds\": 1700000003, \"microseconds\": 40}}\n"
#define EV_PLUGGED                                                                          \
    "{\"event\": \"NIC_STATE\", \"data\": {\"domain\": \"web1\", \"alias\": \"net1\", "       \
    "\"state\": \"plugged\", \"previous\": \"restoring\"}, "                                 \
    "\"timestamp\": {\"seconds\": 1700000004, \"microseconds\": 0}}\n"
#define EV_RESTORED                                                                         \
    "{\"event\": \"BACKEND_RESTORED\", \"data\": {\"lost-ms\": 212, \"how\": \"hub\", "       \
    "\"domain\": \"web1\", \"target\": \"macvtap3\", \"alias\": \"net1\", \"x-new\": 1}, "     \
    "\"timestamp\": {\"seconds\": 1700000004, \"microseconds\": 10}}\n"

static FakeVnicd *
fake_with_events(const char *events)
{
    FakeVnicd *fake = fake_vnicd_new();

    fake_vnicd_script(fake, "subscribe-events", "{\"return\": {}}", NULL, events);
    return fake;
}

static void
test_count(void)
{
    g_autoptr(FakeVnicd) fake = fake_with_events(EV_REMOVED EV_STARTED EV_ODD);
    g_autoptr(CliRun) two = cli_run_c(fake_vnicd_socket(fake), ARGS("events", "--count", "2"));
    g_autoptr(CliRun) three = cli_run_c(fake_vnicd_socket(fake), ARGS("events", "--count=3"));

    cli_assert_status(two, 0);
    g_assert_cmpstr(two->out, ==,
                    "2023-11-14T22:13:20.000012+00:00 DEVICE_REMOVED web1 alias=net2 "
                    "mac=52:54:00:00:00:02 address=0000:00:05.0 initiator=guest\n"
                    "2023-11-14T22:13:21.500000+00:00 DOMAIN_STARTED web1 pid=4242\n");
    g_assert_cmpstr(two->err, ==, "");
    cli_assert_status(three, 0);
    tc_assert_contains(three->out, "2023-11-14T22:13:22.000000+00:00 DOMAIN_STOPPED \"my vm\" "
                                   "reason=\"a b\" empty=\"\" list=[1,2]\n");
}

/* A backend lost and restored reads as a story: the NIC, what changed, the
 * reason last; a member the CLI does not know yet follows. */
static void
test_nic_events(void)
{
    g_autoptr(FakeVnicd) fake = fake_with_events(EV_LOST EV_WAITING EV_PLUGGED EV_RESTORED);
    g_autoptr(CliRun) run = cli_run_c(fake_vnicd_socket(fake), ARGS("events", "--count", "4"));
    g_autoptr(CliRun) json = cli_run_c(fake_vnicd_socket(fake),
                                       ARGS("events", "--json", "--count", "4"));
    g_auto(GStrv) lines = NULL;

    cli_assert_status(run, 0);
    g_assert_cmpstr(run->out, ==,
                    "2023-11-14T22:13:23.000000+00:00 BACKEND_LOST web1 alias=net1 device=eth1 "
                    "reason=\"lower device eth1 was deleted\"\n"
                    "2023-11-14T22:13:23.000040+00:00 NIC_STATE web1 alias=net1 previous=plugged "
                    "state=waiting waiting-for=eth1 reason=\"lower device eth1 was deleted\"\n"
                    "2023-11-14T22:13:24.000000+00:00 NIC_STATE web1 alias=net1 "
                    "previous=restoring state=plugged\n"
                    "2023-11-14T22:13:24.000010+00:00 BACKEND_RESTORED web1 alias=net1 "
                    "target=macvtap3 how=hub lost-ms=212 x-new=1\n");
    cli_assert_status(json, 0);
    lines = g_strsplit(json->out, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 5);
    tc_assert_json_eq(lines[0], EV_LOST);
    tc_assert_json_eq(lines[3], EV_RESTORED);
}

static void
test_json(void)
{
    g_autoptr(FakeVnicd) fake = fake_with_events(EV_REMOVED EV_STARTED);
    g_autoptr(CliRun) run = cli_run(fake_vnicd_socket(fake), NULL,
                                    ARGS("events", "--json", "--count", "2"));
    g_auto(GStrv) lines = NULL;

    cli_assert_status(run, 0);
    lines = g_strsplit(run->out, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    g_assert_cmpstr(lines[2], ==, "");
    tc_assert_json_eq(lines[0], EV_REMOVED);
    tc_assert_json_eq(lines[1], EV_STARTED);
}

/* --timeout alone ends quietly; with --count unmet it is an error, and
 * the events seen stay printed. */
static void
test_timeout(void)
{
    g_autoptr(FakeVnicd) fake = fake_with_events(EV_STARTED);
    const char *sock = fake_vnicd_socket(fake);
    gint64 start = g_get_monotonic_time();
    g_autoptr(CliRun) quiet = cli_run_c(sock, ARGS("events", "--timeout", "0.3"));
    g_autoptr(CliRun) short_of = cli_run_c(sock, ARGS("events", "--count", "3",
                                                      "--timeout", "0.3"));

    cli_assert_status(quiet, 0);
    g_assert_cmpstr(quiet->out, ==, "2023-11-14T22:13:21.500000+00:00 DOMAIN_STARTED web1 "
                                    "pid=4242\n");
    cli_assert_status(short_of, 1);
    g_assert_cmpstr(short_of->out, ==, quiet->out);
    g_assert_cmpstr(short_of->err, ==, "vnic events: Timeout: 1 of 3 events within 0.3 "
                                       "seconds\n");
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 600 * 1000);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
}

static void
test_daemon_gone(void)
{
    g_autoptr(FakeVnicd) fake = fake_with_events(EV_STARTED);
    g_autoptr(CliRun) run = NULL;

    fake_vnicd_hang_up_after(fake, TRUE);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("events"));
    cli_assert_status(run, 1);
    tc_assert_contains(run->out, "DOMAIN_STARTED web1 pid=4242\n");
    g_assert_cmpstr(run->err, ==, "vnic events: vnicd closed the connection\n");
}

static void
test_refused(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autoptr(CliRun) run = NULL;

    fake_vnicd_script(fake, "subscribe-events", "{\"error\": {\"class\": \"PermissionDenied\", "
                      "\"desc\": \"not allowed\"}}", NULL, NULL);
    run = cli_run_c(fake_vnicd_socket(fake), ARGS("events", "--count", "1"));
    cli_assert_error(run, 1, "vnic events: PermissionDenied: not allowed\n");
}

void
test_cli_events_register(void)
{
    g_test_add_func("/cli/events/count", test_count);
    g_test_add_func("/cli/events/json", test_json);
    g_test_add_func("/cli/events/nic", test_nic_events);
    g_test_add_func("/cli/events/timeout", test_timeout);
    g_test_add_func("/cli/events/daemon-gone", test_daemon_gone);
    g_test_add_func("/cli/events/refused", test_refused);
}
