/* test-cli-basic.c: help, bad command lines (exit 2, the daemon not
 * asked), which socket is used (-c, $VNIC_SOCKET, default), an unreachable
 * daemon (exit 3) and a daemon that breaks the protocol (exit 1). */
#include "test-cli.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli-client.h"

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

void
tc_assert_contains(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        g_error("\"%s\" not found in:\n%s", needle, text);
}

void
tc_assert_json_eq(const char *text, const char *want)
{
    g_autoptr(JsonNode) a = json_from_string(text, NULL);
    g_autoptr(JsonNode) b = json_from_string(want, NULL);

    g_assert_nonnull(a);
    g_assert_nonnull(b);
    if (!json_node_equal(a, b))
        g_error("JSON differs:\n%s\nwant:\n%s", text, want);
}

void
tc_assert_arguments(FakeVnicd *fake, const char *command, const char *want)
{
    g_autoptr(JsonObject) args = fake_vnicd_last_arguments(fake, command);
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *text = NULL;

    g_assert_nonnull(args);
    node = json_node_init_object(json_node_alloc(), args);
    text = json_to_string(node, FALSE);
    tc_assert_json_eq(text, want);
}

static void
test_help(void)
{
    g_autoptr(CliRun) help = cli_run(NULL, NULL, ARGS("--help"));
    g_autoptr(CliRun) verb_help = cli_run(NULL, NULL, ARGS("pci", "--help"));
    g_autoptr(CliRun) nothing = cli_run(NULL, NULL, ARGS("-c", "/x"));
    g_autoptr(CliRun) unknown = cli_run(NULL, NULL, ARGS("frobnicate"));

    cli_assert_status(help, 0);
    tc_assert_contains(help->out, "Usage: vnic [-c SOCKET] VERB");
    tc_assert_contains(help->out, "events [--json] [--count N] [--timeout SECONDS]");
    tc_assert_contains(help->out, "3  cannot reach vnicd");
    g_assert_cmpstr(help->err, ==, "");
    cli_assert_status(verb_help, 0);
    tc_assert_contains(verb_help->out, "vnic pci [OPTION…] DOM");
    tc_assert_contains(verb_help->out, "--json");
    cli_assert_status(nothing, 2);
    g_assert_cmpstr(nothing->out, ==, "");
    tc_assert_contains(nothing->err, "Usage:");
    cli_assert_status(unknown, 2);
    g_assert_cmpstr(unknown->out, ==, "");
    tc_assert_contains(unknown->err, "unknown verb 'frobnicate'");
}

/* Bad command lines: exit 2, one line on stderr, and vnicd never asked. */
static void
test_usage(void)
{
    const char *const *const cases[] = {
        ARGS("start"), ARGS("start", "a", "b"), ARGS("list", "--bogus"),
        ARGS("list", "extra"), ARGS("list", "--name", "--json"),
        ARGS("dumpxml", "x", "--inactive", "--migratable"),
        ARGS("define", "f.xml", "--policy", "fastest"),
        ARGS("define", "f.xml", "--spare-ports", "300"), ARGS("define"),
        ARGS("shutdown", "x", "--timeout", "-1"), ARGS("shutdown", "x", "--timeout", "soon"),
        ARGS("events", "--count", "0"), ARGS("events", "--timeout", "abc"),
        ARGS("events", "--timeout", "0"), ARGS("pci"), ARGS("domiflist", "a", "b"),
    };
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(CliRun) run = cli_run_c(fake_vnicd_socket(fake), cases[i]);
        g_autofree char *prefix = g_strdup_printf("vnic %s: ", cases[i][0]);

        g_test_message("vnic %s …: %s", cases[i][0], run->err);
        cli_assert_error(run, 2, prefix);
    }
    g_assert_cmpuint(fake_vnicd_n_requests(fake), ==, 0);
}

/* A socket file nobody listens on: connect() is refused. */
static char *
stale_socket(const char *dir)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *path = g_build_filename(dir, "stale.sock", NULL);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);
    close(fd);
    return path;
}

static void
test_unreachable(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    g_autofree char *missing = g_build_filename(fake_vnicd_dir(fake), "none.sock", NULL);
    g_autofree char *stale = stale_socket(fake_vnicd_dir(fake));
    g_autoptr(CliRun) gone = cli_run_c(missing, ARGS("start", "web1"));
    g_autoptr(CliRun) refused = cli_run(stale, NULL, ARGS("list"));
    g_autoptr(CliRun) events = cli_run_c(missing, ARGS("events", "--count", "1"));
    g_autofree char *where = g_strdup_printf("'%s'", missing);

    cli_assert_error(gone, 3, "vnic start: cannot connect to vnicd at ");
    tc_assert_contains(gone->err, where);
    tc_assert_contains(gone->err, "no such socket");
    tc_assert_contains(gone->err, "is vnicd running?");
    cli_assert_error(refused, 3, "vnic list: cannot connect to vnicd at ");
    tc_assert_contains(refused->err, "connection refused");
    cli_assert_error(events, 3, "vnic events: ");
}

/* -c wins over $VNIC_SOCKET, which wins over the default. */
static void
test_socket_choice(void)
{
    g_autoptr(FakeVnicd) a = fake_vnicd_new();
    g_autoptr(FakeVnicd) b = fake_vnicd_new();
    const char *ok = "{\"return\": {}}";
    g_autoptr(CliRun) by_c = NULL;
    g_autoptr(CliRun) by_long = NULL;
    g_autoptr(CliRun) by_env = NULL;

    fake_vnicd_script(a, "destroy", ok, NULL, NULL);
    fake_vnicd_script(b, "destroy", ok, NULL, NULL);
    by_c = cli_run(fake_vnicd_socket(a), NULL, ARGS("-c", fake_vnicd_socket(b), "destroy", "x"));
    cli_assert_status(by_c, 0);
    g_assert_cmpuint(fake_vnicd_n_requests(a), ==, 0);
    g_assert_cmpuint(fake_vnicd_n_requests(b), ==, 1);
    {
        g_autofree char *opt = g_strdup_printf("--connect=%s", fake_vnicd_socket(b));

        by_long = cli_run(NULL, NULL, ARGS(opt, "destroy", "x"));
    }
    cli_assert_status(by_long, 0);
    g_assert_cmpuint(fake_vnicd_n_requests(b), ==, 2);
    by_env = cli_run(fake_vnicd_socket(a), NULL, ARGS("destroy", "x"));
    cli_assert_status(by_env, 0);
    g_assert_cmpstr(by_env->out, ==, "Domain 'x' destroyed\n");
    g_assert_cmpuint(fake_vnicd_n_requests(a), ==, 1);
}

static void
test_default_socket(void)
{
    g_autoptr(CliRun) run = NULL;

    if (g_file_test(VNIC_CLI_DEFAULT_SOCKET, G_FILE_TEST_EXISTS)) {
        g_test_skip("a vnicd socket exists at the default path");
        return;
    }
    run = cli_run(NULL, NULL, ARGS("list"));
    cli_assert_error(run, 3, "vnic list: cannot connect to vnicd at '/run/vnic/vnicd.sock'");
}

/* A daemon that hangs up, sends garbage, or answers without an id. */
static void
test_broken_daemon(void)
{
    g_autoptr(FakeVnicd) fake = fake_vnicd_new();
    const char *sock = fake_vnicd_socket(fake);

    fake_vnicd_script(fake, "start", NULL, NULL, NULL);
    fake_vnicd_script(fake, "list", "this is not JSON", NULL, NULL);
    fake_vnicd_script(fake, "destroy",
                      "{\"error\": {\"class\": \"InvalidRequest\", \"desc\": \"bad line\"}, "
                      "\"id\": null}", NULL, NULL);
    fake_vnicd_script(fake, "undefine", "{\"return\": {}, \"id\": 99}", NULL, NULL);
    {
        g_autoptr(CliRun) hung = cli_run_c(sock, ARGS("start", "web1"));
        g_autoptr(CliRun) garbage = cli_run_c(sock, ARGS("list"));
        g_autoptr(CliRun) no_id = cli_run_c(sock, ARGS("destroy", "web1"));

        cli_assert_error(hung, 1, "vnic start: vnicd closed the connection");
        cli_assert_error(garbage, 1, "vnic list: vnicd sent a line that is not a JSON object");
        cli_assert_error(no_id, 1, "vnic destroy: InvalidRequest: bad line");
    }
    /* a reply for another id is not ours: vnic waits on, and the daemon
     * closing the connection ends the wait */
    fake_vnicd_hang_up_after(fake, TRUE);
    {
        g_autoptr(CliRun) other_id = cli_run_c(sock, ARGS("undefine", "web1"));

        cli_assert_error(other_id, 1, "vnic undefine: vnicd closed the connection");
    }
}

void
test_cli_basic_register(void)
{
    g_test_add_func("/cli/help", test_help);
    g_test_add_func("/cli/usage-errors", test_usage);
    g_test_add_func("/cli/unreachable", test_unreachable);
    g_test_add_func("/cli/socket-choice", test_socket_choice);
    g_test_add_func("/cli/default-socket", test_default_socket);
    g_test_add_func("/cli/broken-daemon", test_broken_daemon);
}
