/* cli-link.c: domif-getlink and domif-setlink, the link state the guest
 * sees on one NIC of a running domain (docs/api.md).
 *
 * IFACE is what virsh takes (the host interface, vnet0, or the MAC) or the
 * NIC's alias (net0); vnicd finds the NIC.  Both print what virsh prints:
 * "IFACE STATE" with IFACE as it was given, and "Device updated
 * successfully".  setlink changes the running guest only (virsh without
 * --config): the stored config keeps its <link state>.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#define IFACE_HELP                                                                           \
    "IFACE is the NIC's host interface (vnet0), its MAC or its alias (net0)."

/* {"name": @dom, "interface": @iface}: the arguments both verbs send. */
static JsonObject *
link_arguments(const char *dom, const char *iface)
{
    JsonObject *arguments = json_object_new();

    json_object_set_string_member(arguments, "name", dom);
    json_object_set_string_member(arguments, "interface", iface);
    return arguments;
}

int
vnic_cli_domif_getlink(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domif-getlink", "DOM IFACE", "a domain name and an interface", 2,
        "Prints the link state the guest sees on a NIC of a running domain, as virsh:\n"
        "'IFACE up' or 'IFACE down'.\n" IFACE_HELP,
    };
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json,
          "print vnicd's answer ({\"interface\", \"alias\", \"state\"}) as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = NULL;
    g_autoptr(JsonNode) ret = NULL;
    const char *state;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    arguments = link_arguments(argv[1], argv[2]);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    state = vnic_cli_json_string(vnic_cli_json_object(ret), "state");
    if (json)
        vnic_cli_print_json(ret);
    else if (state == NULL)
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_FAILED,
                             "vnicd's answer has an unexpected shape");
    else
        printf("%s %s\n", argv[2], state);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_domif_setlink(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domif-setlink", "DOM IFACE up|down", "a domain name, an interface and up or down", 3,
        "Sets the link state the guest sees on a NIC of a running domain: with down the\n"
        "guest sees no carrier, with up it sees carrier again once the NIC's backend\n"
        "works.  Only the running guest changes, not the stored config.\n" IFACE_HELP,
    };
    g_autoptr(JsonObject) arguments = NULL;
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, NULL, &argc, &argv, &status))
        return status;
    if (strcmp(argv[3], "up") != 0 && strcmp(argv[3], "down") != 0)
        return vnic_cli_failf(spec.verb, VNIC_CLI_EXIT_USAGE,
                              "the link state must be 'up' or 'down', not '%s'", argv[3]);
    arguments = link_arguments(argv[1], argv[2]);
    json_object_set_string_member(arguments, "state", argv[3]);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf("Device updated successfully\n");
    return VNIC_CLI_EXIT_OK;
}
