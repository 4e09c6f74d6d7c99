/* cli-migrate.c: migrate, domjobinfo and domjobabort, in virsh's shape
 * (docs/migration.md).
 *
 * migrate asks the source vnicd, which drives the migration to the
 * destination vnicd itself (peer-to-peer) and answers once it is over:
 * like virsh, nothing is printed on success (--json prints the answer).
 * domjobinfo prints virsh's table; domjobabort nothing.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

/* MIGRATE-URI, the optional third word after the verb: taken out of
 * argv so the option parser sees the two it counts. */
static const char *
take_third_word(int *argc, char **argv)
{
    int seen = 0;

    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char *word;

        if (strcmp(a, "--timeout") == 0 || strcmp(a, "--bandwidth") == 0) {
            i++; /* its value */
            continue;
        }
        if (a[0] == '-')
            continue;
        if (++seen < 3)
            continue;
        word = a;
        for (int j = i; j < *argc - 1; j++)
            argv[j] = argv[j + 1];
        (*argc)--;
        return word;
    }
    return NULL;
}

int
vnic_cli_migrate(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "migrate", "DOM DEST-URI [MIGRATE-URI]", "a domain name and the destination's URI", 2,
        "Migrates a running domain to another vnicd, live.  DEST-URI is the destination\n"
        "vnicd's API: unix:PATH, or ssh://[user@]host[:port][/path/to/socket] (the system's\n"
        "ssh client carries it; the default socket is /run/vnic/vnicd.sock).  MIGRATE-URI\n"
        "is where the destination's QEMU listens for the stream: tcp:HOST[:PORT] (default:\n"
        "the ssh host or the destination's address, a free port) or unix:PATH.",
    };
    gboolean live = FALSE, persistent = FALSE, undefine = FALSE, json = FALSE;
    gint timeout = 0, bandwidth = 0;
    const GOptionEntry entries[] = {
        { "live", 0, 0, G_OPTION_ARG_NONE, &live, "migrate while the guest runs (always so)",
          NULL },
        { "persistent", 0, 0, G_OPTION_ARG_NONE, &persistent,
          "store the domain's config on the destination", NULL },
        { "undefine-source", 0, 0, G_OPTION_ARG_NONE, &undefine,
          "remove the domain from the source once it runs on the destination", NULL },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
          "pause the guest after SECONDS so the migration can complete", "SECONDS" },
        { "bandwidth", 0, 0, G_OPTION_ARG_INT, &bandwidth, "limit the stream to MiB/s", "MIB" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    int status;

    const char *migrate_uri = take_third_word(&argc, argv);

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (timeout < 0 || bandwidth < 0)
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE,
                             "--timeout and --bandwidth take a number >= 0");
    json_object_set_string_member(arguments, "name", argv[1]);
    json_object_set_string_member(arguments, "uri", argv[2]);
    if (migrate_uri)
        json_object_set_string_member(arguments, "migrate-uri", migrate_uri);
    json_object_set_boolean_member(arguments, "live", live);
    json_object_set_boolean_member(arguments, "persistent", persistent);
    json_object_set_boolean_member(arguments, "undefine-source", undefine);
    if (timeout > 0)
        json_object_set_int_member(arguments, "timeout", timeout);
    if (bandwidth > 0)
        json_object_set_int_member(arguments, "bandwidth", bandwidth);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json)
        vnic_cli_print_json(ret);
    return VNIC_CLI_EXIT_OK;
}

static void
print_mib(const char *label, JsonObject *o, const char *member)
{
    gint64 v = 0;

    if (vnic_cli_json_int(o, member, &v))
        printf("%-17s %.3f MiB\n", label, (double)v / (1024.0 * 1024.0));
}

static void
print_ms(const char *label, JsonObject *o, const char *member)
{
    gint64 v = 0;

    if (vnic_cli_json_int(o, member, &v))
        printf("%-17s %-12" G_GINT64_FORMAT " ms\n", label, v);
}

int
vnic_cli_domjobinfo(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domjobinfo", "DOM", "a domain name", 1,
        "Prints the domain's job (a migration) as virsh does: type, operation, time\n"
        "elapsed, data processed, remaining and total, expected downtime.",
    };
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    JsonObject *o;
    const char *type, *op;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    json_object_set_string_member(arguments, "name", argv[1]);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json) {
        vnic_cli_print_json(ret);
        return VNIC_CLI_EXIT_OK;
    }
    o = vnic_cli_json_object(ret);
    type = vnic_cli_json_string(o, "type");
    if (!type)
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_FAILED,
                             "vnicd's answer has an unexpected shape");
    printf("%-17s %s\n", "Job type:", strcmp(type, "none") == 0 ? "None" : "Unbounded");
    if (strcmp(type, "none") == 0)
        return VNIC_CLI_EXIT_OK;
    op = vnic_cli_json_string(o, "operation");
    printf("%-17s %s\n", "Operation:",
           g_strcmp0(op, "incoming-migration") == 0 ? "Incoming migration" : "Outgoing migration");
    print_ms("Time elapsed:", o, "elapsed-ms");
    print_mib("Data processed:", o, "data-processed");
    print_mib("Data remaining:", o, "data-remaining");
    print_mib("Data total:", o, "data-total");
    print_ms("Expected downtime:", o, "expected-downtime-ms");
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_domjobabort(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domjobabort", "DOM", "a domain name", 1,
        "Aborts the domain's migration: the guest keeps running here and the\n"
        "destination keeps nothing of it.",
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, NULL, &argc, &argv, &status))
        return status;
    json_object_set_string_member(arguments, "name", argv[1]);
    return vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret);
}
