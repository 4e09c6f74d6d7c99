/* cli-network.c: the net-* verbs, as virsh has them: net-define FILE,
 * net-undefine, net-start, net-destroy, net-autostart [--disable],
 * net-list [--all] [--json], net-dumpxml.  Each sends one net-* command
 * (docs/api.md, "Networks"); the XML is checked by vnicd, which says why
 * a network it cannot run is refused. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static int
network_call(const VnicCliContext *ctx, const char *verb, const char *name,
             JsonObject *extra, JsonNode **ret)
{
    g_autoptr(JsonObject) args = extra != NULL ? json_object_ref(extra) : json_object_new();

    if (name != NULL)
        json_object_set_string_member(args, "network", name);
    return vnic_cli_call(ctx, verb, verb, args, ret);
}

int
vnic_cli_net_define(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "net-define", "FILE", "a <network> XML file", 1,
        "Stores the network: an existing bridge (<forward mode='bridge'/><bridge name/>) or a\n"
        "pool of host NICs for macvtaps (<forward mode='bridge|vepa|private|passthrough'>\n"
        "<interface dev/></forward>).  NAT, routed and isolated networks are refused.",
    };
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, NULL, &argc, &argv, &status))
        return status;
    if (!g_file_get_contents(argv[1], &text, NULL, &error))
        return vnic_cli_fail("net-define", VNIC_CLI_EXIT_FAILED, error->message);
    json_object_set_string_member(args, "xml", text);
    if ((status = network_call(ctx, "net-define", NULL, args, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf("Network %s defined from %s\n",
           vnic_cli_json_string(vnic_cli_json_object(ret), "name"), argv[1]);
    return VNIC_CLI_EXIT_OK;
}

/* net-undefine, net-start, net-destroy: one name, one line of output. */
static int
simple_verb(const VnicCliContext *ctx, int argc, char **argv, const char *verb,
            const char *help, const char *done)
{
    const VnicCliVerbSpec spec = { verb, "NET", "a network name", 1, help };
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, NULL, &argc, &argv, &status) ||
        (status = network_call(ctx, verb, argv[1], NULL, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf("Network %s %s\n", argv[1], done);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_net_undefine(const VnicCliContext *ctx, int argc, char **argv)
{
    return simple_verb(ctx, argc, argv, "net-undefine",
                       "Removes an inactive network's config.", "has been undefined");
}

int
vnic_cli_net_start(const VnicCliContext *ctx, int argc, char **argv)
{
    return simple_verb(ctx, argc, argv, "net-start",
                       "Activates a network once its bridge or NICs exist on the host.",
                       "started");
}

int
vnic_cli_net_destroy(const VnicCliContext *ctx, int argc, char **argv)
{
    return simple_verb(ctx, argc, argv, "net-destroy",
                       "Deactivates a network: guests already on it keep their NICs.",
                       "destroyed");
}

int
vnic_cli_net_autostart(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "net-autostart", "NET", "a network name", 1,
        "Makes vnicd start the network when it starts (--disable: not).",
    };
    gboolean disable = FALSE;
    const GOptionEntry entries[] = {
        { "disable", 0, 0, G_OPTION_ARG_NONE, &disable, "do not autostart it", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (disable)
        json_object_set_boolean_member(args, "disable", TRUE);
    if ((status = network_call(ctx, "net-autostart", argv[1], args, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf("Network %s %s\n", argv[1], disable ? "unmarked as autostarted"
                                               : "marked as autostarted");
    return VNIC_CLI_EXIT_OK;
}

/* " Name   State    Autostart   Forward   Source", as virsh (plus what
 * the network runs on). */
static void
print_networks(JsonArray *nets)
{
    static const char *const headers[] = { "Name", "State", "Autostart", "Forward", "Source",
                                           NULL };
    static const guint min_widths[] = { 6, 8, 11, 8, 0 };
    g_autoptr(VnicCliTable) table = vnic_cli_table_new(" ", "   ", headers, min_widths);

    for (guint i = 0; i < json_array_get_length(nets); i++) {
        JsonObject *n = vnic_cli_json_object(json_array_get_element(nets, i));
        JsonNode *devs = n != NULL ? json_object_get_member(n, "devices") : NULL;
        g_autoptr(GString) source = g_string_new(vnic_cli_json_string(n, "bridge"));
        gboolean autostart = FALSE;

        vnic_cli_json_bool(n, "autostart", &autostart);
        for (guint j = 0; devs != NULL && JSON_NODE_HOLDS_ARRAY(devs) &&
                          j < json_array_get_length(json_node_get_array(devs));
             j++)
            g_string_append_printf(source, "%s%s", j > 0 ? "," : "",
                                   json_array_get_string_element(json_node_get_array(devs), j));
        vnic_cli_table_add(table, (const char *const[]){ vnic_cli_json_string(n, "name"),
                                                         vnic_cli_json_string(n, "state"),
                                                         autostart ? "yes" : "no",
                                                         vnic_cli_json_string(n, "forward"),
                                                         source->str });
    }
    vnic_cli_table_print(table);
}

int
vnic_cli_net_list(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "net-list", "", "no argument", 0, "Lists the active networks, or every one with --all.",
    };
    gboolean all = FALSE, json = FALSE;
    const GOptionEntry entries[] = {
        { "all", 0, 0, G_OPTION_ARG_NONE, &all, "inactive networks too", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    JsonObject *obj;
    JsonNode *nets;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (all)
        json_object_set_boolean_member(args, "all", TRUE);
    if ((status = network_call(ctx, "net-list", NULL, args, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    obj = vnic_cli_json_object(ret);
    nets = obj != NULL ? json_object_get_member(obj, "networks") : NULL;
    if (nets == NULL || !JSON_NODE_HOLDS_ARRAY(nets))
        return vnic_cli_fail("net-list", VNIC_CLI_EXIT_FAILED,
                             "vnicd's answer has an unexpected shape");
    if (json)
        vnic_cli_print_json(ret);
    else
        print_networks(json_node_get_array(nets));
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_net_dumpxml(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "net-dumpxml", "NET", "a network name", 1, "Prints a network's XML.",
    };
    g_autoptr(JsonNode) ret = NULL;
    const char *xml;
    int status;

    if (!vnic_cli_parse_options(&spec, NULL, &argc, &argv, &status) ||
        (status = network_call(ctx, "net-dumpxml", argv[1], NULL, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    xml = vnic_cli_json_string(vnic_cli_json_object(ret), "xml");
    if (xml == NULL)
        return vnic_cli_fail("net-dumpxml", VNIC_CLI_EXIT_FAILED,
                             "vnicd's answer has an unexpected shape");
    printf("%s%s", xml, g_str_has_suffix(xml, "\n") ? "" : "\n");
    return VNIC_CLI_EXIT_OK;
}
