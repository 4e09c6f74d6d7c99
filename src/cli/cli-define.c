/* cli-define.c: `vnic define FILE`: a domain XML file into vnicd; and
 * `vnic create FILE`, the same as a transient domain started at once.
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

/* The XML to send: @path parsed, with absolute paths; *@name its name. */
static char *
load_definition(const char *verb, const char *path, char **name, int *status)
{
    g_autofree char *text = NULL;
    g_autofree char *cwd = g_get_current_dir();
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    gsize len;

    if (!g_file_get_contents(path, &text, &len, &error)) {
        *status = vnic_cli_fail(verb, VNIC_CLI_EXIT_FAILED, error->message);
        return NULL;
    }
    if (!(def = vnic_conf_domain_parse(text, len, &error))) {
        *status = vnic_cli_failf(verb, VNIC_CLI_EXIT_FAILED, "InvalidXML: %s",
                                 error->message);
        return NULL;
    }
    vnic_conf_domain_absolutize_paths(def, cwd);
    *name = g_strdup(def->name);
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
run_define(const VnicCliContext *ctx, int argc, char **argv, DefineArgs *args,
           const VnicCliVerbSpec *specp)
{
    const VnicCliVerbSpec spec = *specp;
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
    g_autofree char *xml = NULL, *name = NULL;
    g_autoptr(JsonObject) arguments = NULL;
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (!vnic_cli_check_plan_options(args->policy, args->spare_ports, &policy, &error))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE, error->message);
    if (!(xml = load_definition(spec.verb, argv[1], &name, &status)))
        return status;
    arguments = define_arguments(xml, args);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (args->json)
        vnic_cli_print_json(ret);
    else
        printf("Domain '%s' %s from %s\n", name,
               g_str_equal(spec.verb, "create") ? "created" : "defined", argv[1]);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_define(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "define", "FILE", "a domain XML file", 1,
        "Stores the domain in FILE in vnicd, to be started later.  Relative paths in FILE are\n"
        "taken from the current directory.",
    };
    DefineArgs args = { .spare_ports = -1 };
    int status = run_define(ctx, argc, argv, &args, &spec);

    g_free(args.policy);
    return status;
}

int
vnic_cli_create(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "create", "FILE", "a domain XML file", 1,
        "Defines the domain in FILE and starts it, as virsh create: a transient domain,\n"
        "undefined as soon as it is shut off again (shut down, destroyed, crashed, or its\n"
        "start failed).  Refused when a domain of that name exists.  Relative paths in\n"
        "FILE are taken from the current directory.  --json prints start's {\"pid\"}.\n"
        "Exit status: 0 running, 1 vnicd refused or the start failed, 2 bad command\n"
        "line, 3 vnicd unreachable.",
    };
    DefineArgs args = { .spare_ports = -1 };
    int status = run_define(ctx, argc, argv, &args, &spec);

    g_free(args.policy);
    return status;
}

int
vnic_cli_autostart(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "autostart", "DOM", "a domain name", 1,
        "Marks a domain to be started whenever vnicd starts (after the guests still\n"
        "running are re-attached); --disable removes the mark.  Refused for a transient\n"
        "domain (create).\n"
        "Exit status: 0 done, 1 vnicd refused, 2 bad command line, 3 vnicd unreachable.",
    };
    gboolean disable = FALSE;
    const GOptionEntry entries[] = {
        { "disable", 0, 0, G_OPTION_ARG_NONE, &disable, "do not start it with vnicd", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    json_object_set_string_member(arguments, "name", argv[1]);
    if (disable)
        json_object_set_boolean_member(arguments, "disable", TRUE);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf(disable ? "Domain '%s' unmarked as autostarted\n"
                   : "Domain '%s' marked as autostarted\n", argv[1]);
    return VNIC_CLI_EXIT_OK;
}
