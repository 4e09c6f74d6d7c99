/* cli-util.c: what the verbs share: option parsing, the call to vnicd with
 * its error reporting, and JSON output.
 *
 * The exit status policy lives here: a socket that cannot be reached is
 * UNREACHABLE, anything the daemon refused or a broken connection is
 * FAILED, a bad command line is USAGE (cli.h).  Every error is printed
 * once, as "vnic VERB: message", on stderr, and never anything on stdout.
 */
#include "cli/cli.h"

#include <stdio.h>

static gboolean
check_arg_count(const VnicCliVerbSpec *spec, guint max, int argc, char **argv, GError **error)
{
    guint given = argc > 0 ? (guint) argc - 1 : 0;

    if (given < spec->n_args) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "expected %s (see --help)",
                    spec->args_what);
        return FALSE;
    }
    if (given > max) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "unexpected argument '%s' (see --help)", argv[max + 1]);
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_cli_parse_options(const VnicCliVerbSpec *spec, const GOptionEntry *entries, int *argc,
                       char ***argv, int *status)
{
    return vnic_cli_parse_options_upto(spec, entries, spec->n_args, argc, argv, status);
}

gboolean
vnic_cli_parse_options_upto(const VnicCliVerbSpec *spec, const GOptionEntry *entries,
                            guint max_args, int *argc, char ***argv, int *status)
{
    gboolean help = FALSE;
    const GOptionEntry help_entry[] = {
        { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) octx = g_option_context_new(spec->args_text);
    g_autoptr(GError) error = NULL;

    g_option_context_set_help_enabled(octx, FALSE);
    g_option_context_set_summary(octx, spec->summary);
    if (entries != NULL)
        g_option_context_add_main_entries(octx, entries, NULL);
    g_option_context_add_main_entries(octx, help_entry, NULL);
    if (!g_option_context_parse(octx, argc, argv, &error)) {
        *status = vnic_cli_fail(spec->verb, VNIC_CLI_EXIT_USAGE, error->message);
        return FALSE;
    }
    if (help) {
        g_autofree char *text = g_option_context_get_help(octx, TRUE, NULL);

        fputs(text, stdout);
        *status = VNIC_CLI_EXIT_OK;
        return FALSE;
    }
    if (!check_arg_count(spec, MAX(spec->n_args, max_args), *argc, *argv, &error)) {
        *status = vnic_cli_fail(spec->verb, VNIC_CLI_EXIT_USAGE, error->message);
        return FALSE;
    }
    return TRUE;
}

int
vnic_cli_report(const char *verb, const GError *error, const char *daemon_class)
{
    if (g_error_matches(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_CONNECT))
        return vnic_cli_failf(verb, VNIC_CLI_EXIT_UNREACHABLE,
                              "%s (is vnicd running? Start it, or name its socket with "
                              "-c SOCKET or VNIC_SOCKET)",
                              error->message);
    if (g_error_matches(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_DAEMON))
        return vnic_cli_failf(verb, VNIC_CLI_EXIT_FAILED, "%s: %s",
                              daemon_class != NULL ? daemon_class : "GenericError",
                              error->message);
    return vnic_cli_fail(verb, VNIC_CLI_EXIT_FAILED, error->message);
}

VnicCliClient *
vnic_cli_connect(const VnicCliContext *ctx, const char *verb, int *status)
{
    g_autoptr(GError) error = NULL;
    VnicCliClient *client = vnic_cli_client_connect(ctx->socket, &error);

    if (client == NULL)
        *status = vnic_cli_report(verb, error, NULL);
    return client;
}

int
vnic_cli_call(const VnicCliContext *ctx, const char *verb, const char *command,
              JsonObject *arguments, JsonNode **ret)
{
    g_autoptr(VnicCliClient) client = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *klass = NULL;
    int status = VNIC_CLI_EXIT_OK;

    if (!(client = vnic_cli_connect(ctx, verb, &status)))
        return status;
    *ret = vnic_cli_client_call(client, command, arguments, &klass, &error);
    if (*ret == NULL)
        return vnic_cli_report(verb, error, klass);
    return VNIC_CLI_EXIT_OK;
}

void
vnic_cli_print_json(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *text = NULL;

    json_generator_set_root(gen, node);
    json_generator_set_pretty(gen, TRUE);
    text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

const char *
vnic_cli_json_string(JsonObject *obj, const char *member)
{
    JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

    if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(node);
}

gboolean
vnic_cli_json_int(JsonObject *obj, const char *member, gint64 *out)
{
    JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

    if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_INT64)
        return FALSE;
    *out = json_node_get_int(node);
    return TRUE;
}

gboolean
vnic_cli_json_bool(JsonObject *obj, const char *member, gboolean *out)
{
    JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

    if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_BOOLEAN)
        return FALSE;
    *out = json_node_get_boolean(node);
    return TRUE;
}

JsonObject *
vnic_cli_json_object(JsonNode *node)
{
    return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}
