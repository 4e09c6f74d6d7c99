/* cli-define.c: `vnic define FILE`: a domain XML file into vnicd.
 *
 * The file is read and parsed here, so a broken definition fails before
 * the daemon is asked (exit 1, the conf layer's message as `vnic plan`
 * prints it, after the class InvalidXML vnicd would give).  Relative paths
 * in it (kernel, initrd, disk and character device sources) are made
 * absolute against the CLI's working directory, since vnicd's is another;
 * what is sent is the definition formatted again (inactive).
 */
#include "cli/cli.h"

#include <stdio.h>

typedef struct {
    char *policy;
    gint spare_ports;
    gboolean json;
} DefineArgs;

/* The XML to send: @path parsed, with absolute paths. */
static char *
load_definition(const char *path, int *status)
{
    g_autofree char *text = NULL;
    g_autofree char *cwd = g_get_current_dir();
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    gsize len;

    if (!g_file_get_contents(path, &text, &len, &error)) {
        *status = vnic_cli_fail("define", VNIC_CLI_EXIT_FAILED, error->message);
        return NULL;
    }
    if (!(def = vnic_conf_domain_parse(text, len, &error))) {
        *status = vnic_cli_failf("define", VNIC_CLI_EXIT_FAILED, "InvalidXML: %s",
                                 error->message);
        return NULL;
    }
    vnic_conf_domain_absolutize_paths(def, cwd);
    return vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
}

static JsonObject *
define_arguments(const char *xml, const DefineArgs *args)
{
    JsonObject *arguments = json_object_new();

    json_object_set_string_member(arguments, "xml", xml);
    if (args->policy != NULL)
        json_object_set_string_member(arguments, "policy", args->policy);
    if (args->spare_ports >= 0)
        json_object_set_int_member(arguments, "spare-ports", args->spare_ports);
    return arguments;
}

static int
run_define(const VnicCliContext *ctx, int argc, char **argv, DefineArgs *args)
{
    static const VnicCliVerbSpec spec = {
        "define", "FILE", "a domain XML file", 1,
        "Stores the domain in FILE in vnicd, to be started later.  Relative paths in FILE are\n"
        "taken from the current directory.",
    };
    const GOptionEntry entries[] = {
        { "policy", 0, 0, G_OPTION_ARG_STRING, &args->policy,
          "placement policy: nic-first (vnicd's default) or libvirt", "POLICY" },
        { "spare-ports", 0, 0, G_OPTION_ARG_INT, &args->spare_ports,
          "q35 root ports kept free for hot-plug (default: the domain's, else 8)", "N" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &args->json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    VnicPciPolicy policy;
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(JsonObject) arguments = NULL;
    g_autoptr(JsonNode) ret = NULL;
    const char *name;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (!vnic_cli_check_plan_options(args->policy, args->spare_ports, &policy, &error))
        return vnic_cli_fail("define", VNIC_CLI_EXIT_USAGE, error->message);
    if (!(xml = load_definition(argv[1], &status)))
        return status;
    arguments = define_arguments(xml, args);
    if ((status = vnic_cli_call(ctx, "define", "define", arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    name = vnic_cli_json_string(vnic_cli_json_object(ret), "name");
    if (args->json)
        vnic_cli_print_json(ret);
    else
        printf("Domain '%s' defined from %s\n", name != NULL ? name : "?", argv[1]);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_define(const VnicCliContext *ctx, int argc, char **argv)
{
    DefineArgs args = { .spare_ports = -1 };
    int status = run_define(ctx, argc, argv, &args);

    g_free(args.policy);
    return status;
}
