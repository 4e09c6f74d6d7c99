/* cli-lifecycle.c: the verbs that act on one domain by name: undefine,
 * start, destroy, shutdown.
 *
 * Each sends one command with {"name": DOM} (and shutdown's timeout) and
 * prints one virsh-like line on success.  No state of its own.
 */
#include "cli/cli.h"

#include <stdio.h>

/* Sends @command for domain @name with @arguments (may be NULL: just the
 * name); *@ret gets the return value. */
static int
domain_call(const VnicCliContext *ctx, const char *verb, const char *name,
            JsonObject *arguments, JsonNode **ret)
{
    g_autoptr(JsonObject) args = arguments != NULL ? json_object_ref(arguments)
                                                   : json_object_new();

    json_object_set_string_member(args, "name", name);
    return vnic_cli_call(ctx, verb, verb, args, ret);
}

int
vnic_cli_undefine(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "undefine", "DOM", "a domain name", 1,
        "Removes the config of a domain; vnicd refuses while it runs.",
    };
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, NULL, &argc, &argv, &status) ||
        (status = domain_call(ctx, "undefine", argv[1], NULL, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf("Domain '%s' has been undefined\n", argv[1]);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_start(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "start", "DOM", "a domain name", 1,
        "Starts a domain; returns once QEMU runs with every device checked against the plan.",
    };
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer ({\"pid\"}) as JSON",
          NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status) ||
        (status = domain_call(ctx, "start", argv[1], NULL, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json)
        vnic_cli_print_json(ret);
    else
        printf("Domain '%s' started\n", argv[1]);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_destroy(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "destroy", "DOM", "a domain name", 1,
        "Kills a domain's QEMU at once and removes what the domain owned on the host.",
    };
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, NULL, &argc, &argv, &status) ||
        (status = domain_call(ctx, "destroy", argv[1], NULL, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf("Domain '%s' destroyed\n", argv[1]);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_shutdown(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "shutdown", "DOM", "a domain name", 1,
        "Asks the guest to power off and waits until it did.  If it does not in time, vnicd\n"
        "answers Timeout (exit 1) and the guest keeps running.",
    };
    gint timeout = G_MININT;           /* not given */
    const GOptionEntry entries[] = {
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
          "how long to wait for the guest (vnicd's default: 60)", "SECONDS" },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (timeout != G_MININT && timeout < 0)
        return vnic_cli_failf("shutdown", VNIC_CLI_EXIT_USAGE,
                              "--timeout must be 0 or more seconds, not %d", timeout);
    if (timeout != G_MININT)
        json_object_set_int_member(arguments, "timeout", timeout);
    if ((status = domain_call(ctx, "shutdown", argv[1], arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf("Domain '%s' shut down\n", argv[1]);
    return VNIC_CLI_EXIT_OK;
}
