/* cli-query.c: the read-only verbs: list, dumpxml, domiflist, vncdisplay, pci.
 *
 * Each sends one query and prints the answer as virsh would (a table, the
 * XML) or, with --json, the API's return value as it came.  A return value
 * that lacks what the table needs is an error (exit 1), printed before
 * anything reaches stdout.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static int
bad_answer(const char *verb)
{
    return vnic_cli_fail(verb, VNIC_CLI_EXIT_FAILED, "vnicd's answer has an unexpected shape");
}

/* The array member @name of the object @ret, or NULL. */
static JsonArray *
array_member(JsonNode *ret, const char *name)
{
    JsonObject *obj = vnic_cli_json_object(ret);
    JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

    return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

/* " Id     Name           State": the pid as Id, "-" when not running. */
static void
print_domains(JsonArray *domains, gboolean names_only)
{
    static const char *const headers[] = { "Id", "Name", "State", NULL };
    static const guint min_widths[] = { 6, 14, 0 };
    g_autoptr(VnicCliTable) table = vnic_cli_table_new(" ", " ", headers, min_widths);

    for (guint i = 0; i < json_array_get_length(domains); i++) {
        JsonObject *d = vnic_cli_json_object(json_array_get_element(domains, i));
        g_autofree char *pid = NULL;
        g_autofree char *state = g_strdup(vnic_cli_json_string(d, "state"));
        gint64 n;

        if (names_only) {
            printf("%s\n", vnic_cli_json_string(d, "name"));
            continue;
        }
        if (vnic_cli_json_int(d, "pid", &n))
            pid = g_strdup_printf("%" G_GINT64_FORMAT, n);
        if (state != NULL)
            g_strdelimit(state, "-", ' ');
        vnic_cli_table_add(table, (const char *const[]) { pid, vnic_cli_json_string(d, "name"),
                                                          state });
    }
    if (!names_only)
        vnic_cli_table_print(table);
}

static gboolean
domains_valid(JsonArray *domains)
{
    for (guint i = 0; domains != NULL && i < json_array_get_length(domains); i++) {
        JsonObject *d = vnic_cli_json_object(json_array_get_element(domains, i));

        if (vnic_cli_json_string(d, "name") == NULL)
            return FALSE;
    }
    return domains != NULL;
}

int
vnic_cli_list(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "list", "", "no argument", 0, "Lists the running domains, or every domain with --all.",
    };
    gboolean all = FALSE, names = FALSE, json = FALSE;
    const GOptionEntry entries[] = {
        { "all", 0, 0, G_OPTION_ARG_NONE, &all, "list shut-off domains too", NULL },
        { "name", 0, 0, G_OPTION_ARG_NONE, &names, "print only the names, one a line", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (names && json)
        return vnic_cli_fail("list", VNIC_CLI_EXIT_USAGE, "--name and --json exclude each other");
    json_object_set_boolean_member(arguments, "all", all);
    if ((status = vnic_cli_call(ctx, "list", "list", arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json)
        vnic_cli_print_json(ret);
    else if (!domains_valid(array_member(ret, "domains")))
        return bad_answer("list");
    else
        print_domains(array_member(ret, "domains"), names);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_dumpxml(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "dumpxml", "DOM", "a domain name", 1,
        "Prints a domain's XML: its live state when it runs, else its config.",
    };
    gboolean inactive = FALSE, migratable = FALSE, json = FALSE, secure = FALSE;
    const GOptionEntry entries[] = {
        { "inactive", 0, 0, G_OPTION_ARG_NONE, &inactive, "the config, no runtime data", NULL },
        { "security-info", 0, 0, G_OPTION_ARG_NONE, &secure,
          "include passwords (<graphics passwd>), as virsh --security-info", NULL },
        { "migratable", 0, 0, G_OPTION_ARG_NONE, &migratable,
          "what a migration destination may see", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    const char *xml;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (inactive && migratable)
        return vnic_cli_fail("dumpxml", VNIC_CLI_EXIT_USAGE,
                             "--inactive and --migratable exclude each other");
    json_object_set_string_member(arguments, "name", argv[1]);
    if (inactive || migratable)
        json_object_set_string_member(arguments, "flags", inactive ? "inactive" : "migratable");
    if (secure)
        json_object_set_boolean_member(arguments, "security-info", TRUE);
    if ((status = vnic_cli_call(ctx, "dumpxml", "dumpxml", arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    xml = vnic_cli_json_string(vnic_cli_json_object(ret), "xml");
    if (json)
        vnic_cli_print_json(ret);
    else if (xml == NULL)
        return bad_answer("dumpxml");
    else
        printf("%s%s", xml, g_str_has_suffix(xml, "\n") ? "" : "\n");
    return VNIC_CLI_EXIT_OK;
}

/* A NIC's "State" cell from its domiflist members: the state as words
 * ("backend ready"), the device a waiting NIC waits for in parentheses,
 * and ", link down" when a plugged NIC's carrier is down (a waiting or
 * restoring NIC's link is always down: saying so would only be noise).
 * NULL when the answer has no state (the domain is shut off). */
static char *
nic_state_cell(JsonObject *nic)
{
    const char *state = vnic_cli_json_string(nic, "state");
    const char *waiting_for = vnic_cli_json_string(nic, "waiting-for");
    const char *link = vnic_cli_json_string(nic, "link");
    GString *cell;

    if (state == NULL)
        return NULL;
    cell = g_string_new(state);
    g_strdelimit(cell->str, "-", ' ');
    if (strcmp(state, "waiting") == 0 && waiting_for != NULL)
        g_string_append_printf(cell, " (%s)", waiting_for);
    if (strcmp(state, "plugged") == 0 && g_strcmp0(link, "down") == 0)
        g_string_append(cell, ", link down");
    return g_string_free(cell, FALSE);
}

/* Whether any NIC of @nics has a "state": vnicd gives one to every NIC of
 * a running domain, and none to a shut-off domain's. */
static gboolean
nics_have_state(JsonArray *nics)
{
    for (guint i = 0; i < json_array_get_length(nics); i++) {
        if (vnic_cli_json_string(vnic_cli_json_object(json_array_get_element(nics, i)),
                                 "state") != NULL)
            return TRUE;
    }
    return FALSE;
}

/* virsh's columns first (Interface Type Source Model MAC), then vnic's;
 * State only while the domain runs. */
static void
print_interfaces(JsonArray *nics)
{
    enum { STATE_COLUMN = 7 };
    const char *headers[] = { "Interface", "Type", "Source", "Model", "MAC", "Address",
                              "Guest name", "State", NULL };
    gboolean with_state = nics_have_state(nics);
    g_autoptr(VnicCliTable) table = NULL;

    if (!with_state)
        headers[STATE_COLUMN] = NULL;
    table = vnic_cli_table_new("", "  ", headers, NULL);
    for (guint i = 0; i < json_array_get_length(nics); i++) {
        JsonObject *n = vnic_cli_json_object(json_array_get_element(nics, i));
        g_autofree char *state = with_state ? nic_state_cell(n) : NULL;

        vnic_cli_table_add(table, (const char *const[]) {
            vnic_cli_json_string(n, "target"), vnic_cli_json_string(n, "type"),
            vnic_cli_json_string(n, "source"), vnic_cli_json_string(n, "model"),
            vnic_cli_json_string(n, "mac"), vnic_cli_json_string(n, "address"),
            vnic_cli_json_string(n, "guest-name"), state });
    }
    vnic_cli_table_print(table);
}

/* Sends @command {"name": argv[1]} for the verbs whose only option is
 * --json; *@json tells whether it was given. */
static int
name_query(const VnicCliContext *ctx, const VnicCliVerbSpec *spec, int argc, char **argv,
           gboolean *json, JsonNode **ret)
{
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    int status;

    if (!vnic_cli_parse_options(spec, entries, &argc, &argv, &status))
        return status;
    json_object_set_string_member(arguments, "name", argv[1]);
    return vnic_cli_call(ctx, spec->verb, spec->verb, arguments, ret);
}

int
vnic_cli_domiflist(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domiflist", "DOM", "a domain name", 1,
        "Lists a domain's NICs: host interface, type, source, model, MAC, PCI address and\n"
        "the name the guest gives it; while the domain runs also each NIC's state:\n"
        "  plugged                the guest has the NIC and its backend works\n"
        "  plugged, link down     the same, but the guest sees no carrier (domif-setlink,\n"
        "                         or its host device is down)\n"
        "  waiting (DEV)          host device DEV is gone: link down until it is back\n"
        "  restoring              DEV is back, vnicd is giving the NIC a new backend\n"
        "  planned, backend ready, unplugging: on its way in or out\n"
        "--json adds why a NIC is in its state (\"reason\") and its reconnect policy.\n"
        "--inactive lists the NICs of the stored config (the next start's), as virsh.",
    };
    gboolean json = FALSE, inactive = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        { "inactive", 0, 0, G_OPTION_ARG_NONE, &inactive,
          "the stored config's NICs, not the running guest's", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    JsonArray *nics;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    json_object_set_string_member(arguments, "name", argv[1]);
    if (inactive)
        json_object_set_boolean_member(arguments, "inactive", TRUE);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK ||
        ret == NULL)
        return status;
    nics = array_member(ret, "interfaces");
    if (json)
        vnic_cli_print_json(ret);
    else if (nics == NULL)
        return bad_answer("domiflist");
    else
        print_interfaces(nics);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_vncdisplay(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "vncdisplay", "DOM", "a domain name", 1,
        "Prints where a running domain's VNC server listens, as virsh does:\n"
        "ADDRESS:DISPLAY (127.0.0.1:0), or :DISPLAY for every address.",
    };
    gboolean json = FALSE;
    g_autoptr(JsonNode) ret = NULL;
    const char *display;
    int status;

    if ((status = name_query(ctx, &spec, argc, argv, &json, &ret)) != VNIC_CLI_EXIT_OK ||
        ret == NULL)
        return status;
    display = vnic_cli_json_string(vnic_cli_json_object(ret), "display");
    if (json)
        vnic_cli_print_json(ret);
    else if (display == NULL)
        return bad_answer("vncdisplay");
    else
        printf("%s\n", display);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_pci(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "pci", "DOM", "a domain name", 1,
        "Prints a domain's PCI slot map with the names the guest gives its NICs, and the\n"
        "address and name the next hot-plugged NIC will get (as 'vnic plan --names').",
    };
    gboolean json = FALSE;
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if ((status = name_query(ctx, &spec, argc, argv, &json, &ret)) != VNIC_CLI_EXIT_OK ||
        ret == NULL)
        return status;
    if (json)
        vnic_cli_print_json(ret);
    else if (!vnic_cli_print_slot_map(ret))
        return bad_answer("pci");
    return VNIC_CLI_EXIT_OK;
}
