/* cli-hotplug.c: the hot-plug verbs attach-interface, attach-device,
 * detach-interface and detach-device (docs/api.md, "Hot-plug").
 *
 * Each checks its command line, sends one command carrying only what was
 * given (live and config only when set, so that vnicd applies virsh's
 * default: the running guest if it runs, else the config) and prints one
 * virsh-like line, or with --json vnicd's answer as it came.
 *
 * The XML verbs read FILE and parse it with the conf layer before vnicd is
 * asked, so a broken <interface> fails early with the message vnicd would
 * give (exit 1, class InvalidXML); the file's text is sent as it is.
 *
 * A detach answered {"completed": false, "message"} is no error: the guest
 * has not released the device yet and the unplug goes on (virsh's "Device
 * detach request sent successfully"); the message is printed, exit 0.  An
 * answer lacking what the line shows still exits 0, since the change was
 * made: the line leaves out what is missing.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf-domain.h"
#include "conf/conf-iface-build.h"

/* libvirt's range for <acpi index>, which the conf layer enforces too. */
#define ACPI_INDEX_MAX 16383

/* Every hot-plug verb's --live, --config and --json. */
typedef struct {
    gboolean live;
    gboolean config;
    gboolean current;
    gboolean persistent;
    gboolean json;
} HotplugFlags;

#define HOTPLUG_FLAG_ENTRIES(f)                                                               \
    { "live", 0, 0, G_OPTION_ARG_NONE, &(f)->live,                                             \
      "change the running guest (refused when it is shut off)", NULL },                 \
    { "config", 0, 0, G_OPTION_ARG_NONE, &(f)->config,                                         \
      "change the stored config, used from the next start", NULL },                           \
    { "current", 0, 0, G_OPTION_ARG_NONE, &(f)->current,                                       \
      "the running guest if it runs, else the config (the default)", NULL },                  \
    { "persistent", 0, 0, G_OPTION_ARG_NONE, &(f)->persistent,                                 \
      "the config, and the running guest too if it runs", NULL },                             \
    { "json", 0, 0, G_OPTION_ARG_NONE, &(f)->json, "print vnicd's answer as JSON", NULL }

#define HOTPLUG_TARGET_HELP                                                                   \
    "Without --live and --config (or with --current): the running guest if it runs,\n"        \
    "else the config; with both: both; --persistent: the config, and the running\n"           \
    "guest too if it runs."

#define DETACH_WAIT_HELP                                                                      \
    "vnicd waits up to --timeout seconds (its default: 5) for the guest to release the\n"     \
    "NIC.  If the guest has not by then, vnicd's message is printed and the exit status\n"   \
    "is still 0: the unplug completes when the guest lets go (DEVICE_REMOVED in\n"            \
    "'vnic events')."

typedef struct {
    char *domain;
    char *type;
    char *source;
    char *mode;
    char *model;
    char *mac;
    char *target;
    char *alias;
    char *inbound;
    char *outbound;
    gint acpi_index;           /* G_MININT: not given */
    gboolean replug;
    gboolean print_xml;
    HotplugFlags flags;
} AttachIfOptions;

static void
attach_if_options_clear(AttachIfOptions *o)
{
    g_free(o->domain);
    g_free(o->type);
    g_free(o->source);
    g_free(o->mode);
    g_free(o->model);
    g_free(o->mac);
    g_free(o->target);
    g_free(o->alias);
    g_free(o->inbound);
    g_free(o->outbound);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AttachIfOptions, attach_if_options_clear)

typedef struct {
    char *domain;
    char *type;
    char *mac;
    char *target;
    gint timeout;              /* G_MININT: not given */
    HotplugFlags flags;
} DetachIfOptions;

static void
detach_if_options_clear(DetachIfOptions *o)
{
    g_free(o->domain);
    g_free(o->type);
    g_free(o->mac);
    g_free(o->target);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DetachIfOptions, detach_if_options_clear)

/* Sets a command line error (the caller prints it, exit USAGE); FALSE. */
static gboolean G_GNUC_PRINTF(2, 3)
usage_error(GError **error, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_propagate_error(error, g_error_new_valist(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                                format, ap));
    va_end(ap);
    return FALSE;
}

/* Checks --mac and rewrites it as vnicd writes MACs (lower case). */
static gboolean
canonical_mac(char **mac, GError **error)
{
    guint8 bytes[6];

    if (!vnic_conf_mac_parse(*mac, bytes))
        return usage_error(error, "invalid --mac '%s': expected six hex pairs separated by ':'",
                           *mac);
    if (bytes[0] & 0x01)
        return usage_error(error, "--mac '%s' is a multicast address: a NIC needs a unicast one",
                           *mac);
    g_free(*mac);
    *mac = vnic_conf_mac_format(bytes);
    return TRUE;
}

static gboolean
check_timeout(gint timeout, GError **error)
{
    if (timeout != G_MININT && timeout < 0)
        return usage_error(error, "--timeout must be 0 or more seconds, not %d", timeout);
    return TRUE;
}

/* virsh's rule: --current stands alone; --persistent goes with --live
 * only (the config is in it already). */
static gboolean
check_flags(const HotplugFlags *f, GError **error)
{
    if (f->current && (f->live || f->config || f->persistent))
        return usage_error(error, "--current excludes --live, --config and --persistent");
    if (f->persistent && f->config)
        return usage_error(error, "--persistent already changes the config: drop --config");
    return TRUE;
}

/* {"name": @name}, plus live, config and persistent when given. */
static JsonObject *
hotplug_arguments(const char *name, const HotplugFlags *flags)
{
    JsonObject *args = json_object_new();

    json_object_set_string_member(args, "name", name);
    if (flags->live)
        json_object_set_boolean_member(args, "live", TRUE);
    if (flags->config)
        json_object_set_boolean_member(args, "config", TRUE);
    if (flags->persistent)
        json_object_set_boolean_member(args, "persistent", TRUE);
    return args;
}

/* virsh's positionals: each of @slots not given as an option takes the
 * next of argv[1…], in order.  Leftovers and a missing domain are errors. */
static gboolean
take_positionals(int argc, char **argv, char **slots[], guint n_slots, GError **error)
{
    int next = 1;

    for (guint i = 0; i < n_slots && next < argc; i++) {
        if (*slots[i] == NULL)
            *slots[i] = g_strdup(argv[next++]);
    }
    if (next < argc)
        return usage_error(error, "unexpected argument '%s' (see --help)", argv[next]);
    if (*slots[0] == NULL)
        return usage_error(error, "expected a domain name (see --help)");
    return TRUE;
}

/* What a NIC's host side is called in the attach line. */
static const char *
host_kind(const char *type)
{
    if (type == NULL)
        return "interface";
    return strcmp(type, "direct") == 0 ? "macvtap" : "tap";
}

/* "Interface attached: net2 52:54:00:… at 0000:00:05.0, guest name ens5
 * (host tap vnet2)", without the parts vnicd's answer lacks. */
static void
print_attached(JsonNode *ret, const char *kind)
{
    JsonObject *obj = vnic_cli_json_object(ret);
    const char *alias = vnic_cli_json_string(obj, "alias");
    const char *mac = vnic_cli_json_string(obj, "mac");
    const char *address = vnic_cli_json_string(obj, "address");
    const char *guest = vnic_cli_json_string(obj, "guest-name");
    const char *target = vnic_cli_json_string(obj, "target");
    g_autoptr(GString) line = g_string_new("Interface attached:");

    if (alias != NULL)
        g_string_append_printf(line, " %s", alias);
    if (mac != NULL)
        g_string_append_printf(line, " %s", mac);
    if (address != NULL)
        g_string_append_printf(line, " at %s", address);
    if (guest != NULL)
        g_string_append_printf(line, ", guest name %s", guest);
    if (target != NULL)
        g_string_append_printf(line, " (host %s %s)", kind, target);
    printf("%s\n", line->str);
}

/* "Interface detached: net2" once the unplug completed, else vnicd's
 * message.  @what names the NIC when the answer has no alias. */
static void
print_detached(JsonNode *ret, const char *what)
{
    JsonObject *obj = vnic_cli_json_object(ret);
    const char *alias = vnic_cli_json_string(obj, "alias");
    const char *message = vnic_cli_json_string(obj, "message");
    gboolean completed = FALSE;

    if (alias == NULL)
        alias = what;
    if (vnic_cli_json_bool(obj, "completed", &completed) && completed)
        printf("Interface detached: %s\n", alias);
    else if (message != NULL)
        printf("%s\n", message);
    else
        printf("Detach request for %s sent; the unplug completes when the guest releases it\n",
               alias);
}

/* Runs @verb (the API command of the same name) with @arguments; prints
 * the answer as JSON, or through @print with @data. */
static int
hotplug_call(const VnicCliContext *ctx, const char *verb, JsonObject *arguments,
             const HotplugFlags *flags, void (*print)(JsonNode *, const char *),
             const char *data)
{
    g_autoptr(JsonNode) ret = NULL;
    int status = vnic_cli_call(ctx, verb, verb, arguments, &ret);

    if (status != VNIC_CLI_EXIT_OK)
        return status;
    if (flags->json)
        vnic_cli_print_json(ret);
    else
        print(ret, data);
    return VNIC_CLI_EXIT_OK;
}

/* FILE's text, after checking it is an <interface> vnicd will accept as
 * XML; *@ret_dev gets the parsed device.  NULL after printing the error
 * (exit 1, as for define: FILE is input, not the command line). */
static char *
load_interface(const char *verb, const char *path, VnicConfDevice **ret_dev, int *status)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = NULL;
    gsize len;

    if (!g_file_get_contents(path, &text, &len, &error)) {
        *status = vnic_cli_fail(verb, VNIC_CLI_EXIT_FAILED, error->message);
        return NULL;
    }
    if (!(dev = vnic_conf_interface_parse(NULL, text, len, &error))) {
        *status = vnic_cli_failf(verb, VNIC_CLI_EXIT_FAILED, "InvalidXML: %s", error->message);
        return NULL;
    }
    *ret_dev = g_steal_pointer(&dev);
    return g_steal_pointer(&text);
}

/* ---- attach-interface ------------------------------------------------- */

/* libvirt's rule for user aliases: "ua-" and then what QEMU takes in an
 * id (letters, digits, '-', '.', '_'). */
static gboolean
check_alias(const char *alias, GError **error)
{
    if (!g_str_has_prefix(alias, "ua-") || alias[3] == '\0')
        return usage_error(error, "invalid --alias '%s': a user alias starts with 'ua-' "
                                  "(ua-web)", alias);
    for (const char *p = alias; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p))
            return usage_error(error, "invalid --alias '%s': only letters, digits, '-', '.' "
                                      "and '_'", alias);
    }
    return TRUE;
}

/* Checks "average[,peak[,burst]]" and rewrites it without empty fields. */
static gboolean
canonical_rate(char **text, const char *what, GError **error)
{
    VnicConfRate rate = { 0 };
    g_autoptr(GError) err = NULL;

    if (*text == NULL)
        return TRUE;
    if (!vnic_conf_rate_parse(*text, what, &rate, &err))
        return usage_error(error, "%s", err->message);
    g_free(*text);
    *text = vnic_conf_rate_format(&rate);
    return TRUE;
}

/* --print-xml: the <interface> vnicd would build, built here (as virsh
 * does), nothing sent. */
static int
print_interface_xml(const AttachIfOptions *o)
{
    VnicConfIfaceSpec spec = {
        .type = o->type, .source = o->source, .mode = o->mode, .model = o->model,
        .mac = o->mac, .target = o->target, .alias = o->alias,
        .acpi_index = o->acpi_index != G_MININT ? (guint) o->acpi_index : 0,
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    if (o->inbound)
        vnic_conf_rate_parse(o->inbound, "--inbound", &spec.inbound, NULL);
    if (o->outbound)
        vnic_conf_rate_parse(o->outbound, "--outbound", &spec.outbound, NULL);
    if (!(xml = vnic_conf_iface_spec_to_xml(&spec, &error)))
        return vnic_cli_fail("attach-interface", VNIC_CLI_EXIT_USAGE, error->message);
    fputs(xml, stdout);
    return VNIC_CLI_EXIT_OK;
}

static gboolean
check_attach_interface(AttachIfOptions *o, GError **error)
{
    static const char *const types[] = { "ethernet", "bridge", "direct", "network", NULL };
    static const char *const modes[] = { "vepa", "bridge", "private", "passthrough", NULL };

    if (o->type == NULL && !o->replug)
        return usage_error(error, "--type is required (ethernet, bridge, direct or network), "
                                  "unless --replug is given");
    if (o->replug && o->mac == NULL)
        return usage_error(error, "--replug needs --mac, the MAC address of the NIC detached "
                                  "earlier");
    if (o->type != NULL && !g_strv_contains(types, o->type))
        return usage_error(error,
                           "invalid --type '%s': expected ethernet, bridge, direct or network",
                           o->type);
    if (o->mode != NULL && !g_strv_contains(modes, o->mode))
        return usage_error(error, "invalid --mode '%s': expected vepa, bridge, private or "
                                  "passthrough", o->mode);
    if (o->mode != NULL && o->type != NULL && strcmp(o->type, "direct") != 0)
        return usage_error(error, "--mode is a macvtap mode, for --type direct, not '%s'",
                           o->type);
    if (o->acpi_index != G_MININT && (o->acpi_index < 1 || o->acpi_index > ACPI_INDEX_MAX))
        return usage_error(error, "invalid --acpi-index %d: expected 1 to %d", o->acpi_index,
                           ACPI_INDEX_MAX);
    if (o->replug && (o->print_xml || o->alias || o->inbound || o->outbound))
        return usage_error(error, "--replug brings back the NIC as it was: no --print-xml, "
                                  "--alias, --inbound or --outbound");
    if (o->alias != NULL && !check_alias(o->alias, error))
        return FALSE;
    if (!canonical_rate(&o->inbound, "--inbound", error) ||
        !canonical_rate(&o->outbound, "--outbound", error) || !check_flags(&o->flags, error))
        return FALSE;
    return o->mac == NULL || canonical_mac(&o->mac, error);
}

static gboolean
parse_attach_interface(int *argc, char ***argv, AttachIfOptions *o, int *status)
{
    static const VnicCliVerbSpec spec = {
        "attach-interface", "DOM [TYPE [SOURCE]]", "a domain name", 0,
        "Hot-plugs a new NIC built from the options, as virsh attach-interface: TYPE\n"
        "(or --type) is required, SOURCE (or --source) names the bridge (bridge), the\n"
        "lower device (direct) or the vnic network (network).  DOM may be --domain.\n"
        "--inbound/--outbound average[,peak[,burst]]: <bandwidth> in KiB/s and KiB.\n"
        "--print-xml prints the <interface> and attaches nothing.\n"
        "With --replug, re-attaches the NIC with MAC --mac that was detached earlier, in\n"
        "its slot and with its MAC.\n" HOTPLUG_TARGET_HELP "\n"
        "Exit status: 0 attached (or printed), 1 vnicd refused or failed, 2 bad command\n"
        "line, 3 vnicd unreachable.",
    };
    const GOptionEntry entries[] = {
        { "domain", 0, 0, G_OPTION_ARG_STRING, &o->domain, "the domain (instead of DOM)",
          "DOM" },
        { "type", 0, 0, G_OPTION_ARG_STRING, &o->type,
          "ethernet (own tap), bridge (tap in a bridge), direct (macvtap) or network",
          "TYPE" },
        { "source", 0, 0, G_OPTION_ARG_STRING, &o->source,
          "the bridge (bridge), the lower device (direct) or the network", "DEV" },
        { "mode", 0, 0, G_OPTION_ARG_STRING, &o->mode,
          "direct: vepa (default), bridge, private or passthrough", "MODE" },
        { "model", 0, 0, G_OPTION_ARG_STRING, &o->model,
          "virtio (vnicd's default), e1000, e1000e, rtl8139, …", "MODEL" },
        { "mac", 0, 0, G_OPTION_ARG_STRING, &o->mac,
          "MAC address (default: vnicd picks one); for --replug, the NIC's", "MAC" },
        { "target", 0, 0, G_OPTION_ARG_STRING, &o->target,
          "host interface name (default: vnetN, macvtapN)", "NAME" },
        { "acpi-index", 0, 0, G_OPTION_ARG_INT, &o->acpi_index,
          "ACPI index, 1 to 16383: the guest names the NIC enoN", "N" },
        { "alias", 0, 0, G_OPTION_ARG_STRING, &o->alias,
          "a user alias (ua-…), the NIC's device id", "ALIAS" },
        { "inbound", 0, 0, G_OPTION_ARG_STRING, &o->inbound,
          "shape traffic to the guest: KiB/s, KiB/s, KiB", "AVG[,PEAK[,BURST]]" },
        { "outbound", 0, 0, G_OPTION_ARG_STRING, &o->outbound,
          "shape traffic from the guest", "AVG[,PEAK[,BURST]]" },
        { "print-xml", 0, 0, G_OPTION_ARG_NONE, &o->print_xml,
          "print the <interface> XML instead of attaching it", NULL },
        { "replug", 0, 0, G_OPTION_ARG_NONE, &o->replug,
          "re-attach the NIC detached earlier that had MAC --mac", NULL },
        HOTPLUG_FLAG_ENTRIES(&o->flags),
        G_OPTION_ENTRY_NULL,
    };
    char **slots[] = { &o->domain, &o->type, &o->source };
    g_autoptr(GError) error = NULL;

    if (!vnic_cli_parse_options_upto(&spec, entries, G_N_ELEMENTS(slots), argc, argv, status))
        return FALSE;
    if (!take_positionals(*argc, *argv, slots, G_N_ELEMENTS(slots), &error) ||
        !check_attach_interface(o, &error)) {
        *status = vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE, error->message);
        return FALSE;
    }
    return TRUE;
}

static JsonObject *
attach_interface_arguments(const char *name, const AttachIfOptions *o)
{
    JsonObject *args = hotplug_arguments(name, &o->flags);
    const struct {
        const char *member;
        const char *value;
    } strings[] = {
        { "type", o->type },   { "source", o->source }, { "mode", o->mode },
        { "model", o->model }, { "mac", o->mac },       { "target", o->target },
        { "alias", o->alias }, { "inbound", o->inbound }, { "outbound", o->outbound },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(strings); i++) {
        if (strings[i].value != NULL)
            json_object_set_string_member(args, strings[i].member, strings[i].value);
    }
    if (o->acpi_index != G_MININT)
        json_object_set_int_member(args, "acpi-index", o->acpi_index);
    if (o->replug)
        json_object_set_boolean_member(args, "replug", TRUE);
    return args;
}

int
vnic_cli_attach_interface(const VnicCliContext *ctx, int argc, char **argv)
{
    g_auto(AttachIfOptions) o = { .acpi_index = G_MININT };
    g_autoptr(JsonObject) arguments = NULL;
    int status;

    if (!parse_attach_interface(&argc, &argv, &o, &status))
        return status;
    if (o.print_xml)
        return print_interface_xml(&o);
    arguments = attach_interface_arguments(o.domain, &o);
    return hotplug_call(ctx, "attach-interface", arguments, &o.flags, print_attached,
                        host_kind(o.type));
}

/* ---- attach-device ---------------------------------------------------- */

int
vnic_cli_attach_device(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "attach-device", "DOM FILE", "a domain name and an XML file", 2,
        "Hot-plugs the NIC described in FILE, one <interface> element as in a domain's\n"
        "XML; an <address> in it places the NIC, else vnicd picks the slot.\n"
        HOTPLUG_TARGET_HELP,
    };
    HotplugFlags flags = { 0 };
    const GOptionEntry entries[] = {
        HOTPLUG_FLAG_ENTRIES(&flags),
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(JsonObject) arguments = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (!check_flags(&flags, &error))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE, error->message);
    if (!(xml = load_interface(spec.verb, argv[2], &dev, &status)))
        return status;
    arguments = hotplug_arguments(argv[1], &flags);
    json_object_set_string_member(arguments, "xml", xml);
    return hotplug_call(ctx, spec.verb, arguments, &flags, print_attached,
                        dev->nic->type == VNIC_CONF_NIC_DIRECT ? "macvtap" : "tap");
}

/* ---- detach-interface ------------------------------------------------- */

static gboolean
check_detach_interface(DetachIfOptions *o, GError **error)
{
    static const char *const types[] = { "ethernet", "bridge", "direct", "network",
                                         "vhostuser", NULL };

    if (o->mac == NULL && o->target == NULL && o->type == NULL)
        return usage_error(error, "expected TYPE, --mac MAC or --target NAME to name the NIC");
    if (o->mac != NULL && o->target != NULL)
        return usage_error(error, "--mac and --target exclude each other");
    if (o->type != NULL && !g_strv_contains(types, o->type))
        return usage_error(error, "invalid type '%s': expected ethernet, bridge, direct, "
                                  "network or vhostuser", o->type);
    if (!check_timeout(o->timeout, error) || !check_flags(&o->flags, error))
        return FALSE;
    return o->mac == NULL || canonical_mac(&o->mac, error);
}

/* The NICs that domiflist lists for the definition detach changes: the
 * stored one for --config alone, else the current one. */
static JsonArray *
list_nics(const VnicCliContext *ctx, const DetachIfOptions *o, JsonNode **ret, int *status)
{
    g_autoptr(JsonObject) arguments = json_object_new();
    JsonNode *member;

    json_object_set_string_member(arguments, "name", o->domain);
    if (o->flags.config && !o->flags.live)
        json_object_set_boolean_member(arguments, "inactive", TRUE);
    if ((*status = vnic_cli_call(ctx, "detach-interface", "domiflist", arguments, ret)) !=
        VNIC_CLI_EXIT_OK)
        return NULL;
    member = vnic_cli_json_object(*ret) ? json_object_get_member(vnic_cli_json_object(*ret),
                                                                 "interfaces") : NULL;
    if (member == NULL || !JSON_NODE_HOLDS_ARRAY(member)) {
        *status = vnic_cli_fail("detach-interface", VNIC_CLI_EXIT_FAILED,
                                "vnicd's answer has an unexpected shape");
        return NULL;
    }
    return json_node_get_array(member);
}

/* virsh's TYPE: with --mac the NIC must be of that type; without, the
 * domain's only NIC of that type is the one (its MAC goes into @o). */
static int
resolve_by_type(const VnicCliContext *ctx, DetachIfOptions *o)
{
    g_autoptr(JsonNode) ret = NULL;
    JsonArray *nics;
    const char *found = NULL;
    guint n = 0;
    int status;

    if (!(nics = list_nics(ctx, o, &ret, &status)))
        return status;
    for (guint i = 0; i < json_array_get_length(nics); i++) {
        JsonObject *nic = vnic_cli_json_object(json_array_get_element(nics, i));
        const char *mac = vnic_cli_json_string(nic, "mac");

        if (g_strcmp0(vnic_cli_json_string(nic, "type"), o->type) != 0 || mac == NULL)
            continue;
        if (o->mac != NULL && g_ascii_strcasecmp(mac, o->mac) == 0)
            return VNIC_CLI_EXIT_OK;
        found = mac;
        n++;
    }
    if (o->mac != NULL)
        return vnic_cli_failf("detach-interface", VNIC_CLI_EXIT_FAILED,
                              "domain '%s' has no NIC of type '%s' with MAC %s", o->domain,
                              o->type, o->mac);
    if (n == 0)
        return vnic_cli_failf("detach-interface", VNIC_CLI_EXIT_FAILED,
                              "domain '%s' has no NIC of type '%s'", o->domain, o->type);
    if (n > 1)
        return vnic_cli_failf("detach-interface", VNIC_CLI_EXIT_FAILED,
                              "domain '%s' has %u NICs of type '%s': name one with --mac",
                              o->domain, n, o->type);
    o->mac = g_strdup(found);
    return VNIC_CLI_EXIT_OK;
}

static gboolean
parse_detach_interface(int *argc, char ***argv, DetachIfOptions *o, int *status)
{
    static const VnicCliVerbSpec spec = {
        "detach-interface", "DOM [TYPE]", "a domain name", 0,
        "Hot-unplugs the NIC with MAC --mac, or with host interface --target, as virsh\n"
        "detach-interface.  With TYPE (or --type) the NIC must be of that type; TYPE\n"
        "alone names the domain's only NIC of that type.  DOM may be --domain.\n"
        DETACH_WAIT_HELP "\n" HOTPLUG_TARGET_HELP "\n"
        "Exit status: 0 detached or detach requested, 1 vnicd refused or failed (also\n"
        "no NIC, or several, of TYPE), 2 bad command line, 3 vnicd unreachable.",
    };
    const GOptionEntry entries[] = {
        { "domain", 0, 0, G_OPTION_ARG_STRING, &o->domain, "the domain (instead of DOM)",
          "DOM" },
        { "type", 0, 0, G_OPTION_ARG_STRING, &o->type,
          "the NIC's type: ethernet, bridge, direct, network, vhostuser", "TYPE" },
        { "mac", 0, 0, G_OPTION_ARG_STRING, &o->mac, "the NIC's MAC address", "MAC" },
        { "target", 0, 0, G_OPTION_ARG_STRING, &o->target,
          "the NIC's host interface (vnet2, macvtap0, …)", "NAME" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &o->timeout,
          "how long vnicd waits for the guest (its default: 5)", "SECONDS" },
        HOTPLUG_FLAG_ENTRIES(&o->flags),
        G_OPTION_ENTRY_NULL,
    };
    char **slots[] = { &o->domain, &o->type };
    g_autoptr(GError) error = NULL;

    if (!vnic_cli_parse_options_upto(&spec, entries, G_N_ELEMENTS(slots), argc, argv, status))
        return FALSE;
    if (!take_positionals(*argc, *argv, slots, G_N_ELEMENTS(slots), &error) ||
        !check_detach_interface(o, &error)) {
        *status = vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE, error->message);
        return FALSE;
    }
    return TRUE;
}

int
vnic_cli_detach_interface(const VnicCliContext *ctx, int argc, char **argv)
{
    g_auto(DetachIfOptions) o = { .timeout = G_MININT };
    g_autoptr(JsonObject) arguments = NULL;
    int status;

    if (!parse_detach_interface(&argc, &argv, &o, &status))
        return status;
    if (o.type != NULL && o.target == NULL &&
        (status = resolve_by_type(ctx, &o)) != VNIC_CLI_EXIT_OK)
        return status;
    arguments = hotplug_arguments(o.domain, &o.flags);
    if (o.mac != NULL)
        json_object_set_string_member(arguments, "mac", o.mac);
    else
        json_object_set_string_member(arguments, "target", o.target);
    if (o.timeout != G_MININT)
        json_object_set_int_member(arguments, "timeout", o.timeout);
    return hotplug_call(ctx, "detach-interface", arguments, &o.flags, print_detached,
                        o.mac != NULL ? o.mac : o.target);
}

/* ---- detach-device ---------------------------------------------------- */

int
vnic_cli_detach_device(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "detach-device", "DOM FILE", "a domain name and an XML file", 2,
        "Hot-unplugs the NIC described in FILE, one <interface> element; vnicd finds the\n"
        "NIC by the MAC address in it.\n" DETACH_WAIT_HELP "\n" HOTPLUG_TARGET_HELP,
    };
    HotplugFlags flags = { 0 };
    gint timeout = G_MININT;
    const GOptionEntry entries[] = {
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
          "how long vnicd waits for the guest (its default: 5)", "SECONDS" },
        HOTPLUG_FLAG_ENTRIES(&flags),
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *what = NULL;
    g_autoptr(JsonObject) arguments = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (!check_timeout(timeout, &error) || !check_flags(&flags, &error))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE, error->message);
    if (!(xml = load_interface(spec.verb, argv[2], &dev, &status)))
        return status;
    arguments = hotplug_arguments(argv[1], &flags);
    json_object_set_string_member(arguments, "xml", xml);
    if (timeout != G_MININT)
        json_object_set_int_member(arguments, "timeout", timeout);
    what = dev->nic->has_mac ? vnic_conf_mac_format(dev->nic->mac) : g_strdup(argv[2]);
    return hotplug_call(ctx, spec.verb, arguments, &flags, print_detached, what);
}
