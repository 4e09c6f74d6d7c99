/* cli-ifinfo.c: virsh's verbs about one NIC's host side and the monitor:
 * domifstat, domiftune, domifaddr (docs/api.md) and qemu-monitor-command.
 *
 * Output is virsh's: domifstat "IFACE rx_bytes N" lines with IFACE as it
 * was typed, domiftune's "inbound.average: N" block (nothing when it
 * sets), domifaddr's table; --json prints vnicd's answer instead.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "conf/conf-iface-build.h"

#define IFACE_HELP                                                                           \
    "IFACE is the NIC's host interface (vnet0), its MAC or its alias (net0)."

#define EXIT_HELP                                                                            \
    "Exit status: 0 success, 1 vnicd refused or failed, 2 bad command line, 3 vnicd\n"      \
    "unreachable."

static int
bad_answer(const char *verb)
{
    return vnic_cli_fail(verb, VNIC_CLI_EXIT_FAILED, "vnicd's answer has an unexpected shape");
}

/* ---- domifstat ---------------------------------------------------------- */

int
vnic_cli_domifstat(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domifstat", "DOM IFACE", "a domain name and an interface", 2,
        "Prints a running NIC's counters, as virsh: rx_bytes, rx_packets, rx_errs,\n"
        "rx_drop, tx_bytes, tx_packets, tx_errs, tx_drop, each as 'IFACE NAME VALUE'.\n"
        "rx is what the guest received (a tap's transmit counters); a macvtap's are\n"
        "the host's, which the guest shares.\n" IFACE_HELP "\n" EXIT_HELP,
    };
    static const char *const counters[] = { "rx_bytes", "rx_packets", "rx_errs", "rx_drop",
                                            "tx_bytes", "tx_packets", "tx_errs", "tx_drop" };
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    JsonObject *obj;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    json_object_set_string_member(arguments, "name", argv[1]);
    json_object_set_string_member(arguments, "interface", argv[2]);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json) {
        vnic_cli_print_json(ret);
        return VNIC_CLI_EXIT_OK;
    }
    obj = vnic_cli_json_object(ret);
    for (gsize i = 0; i < G_N_ELEMENTS(counters); i++) {
        gint64 v;

        if (!vnic_cli_json_int(obj, counters[i], &v))
            return bad_answer(spec.verb);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(counters); i++) {
        gint64 v = 0;

        vnic_cli_json_int(obj, counters[i], &v);
        printf("%s %s %" G_GINT64_FORMAT "\n", argv[2], counters[i], v);
    }
    return VNIC_CLI_EXIT_OK;
}

/* ---- domiftune ---------------------------------------------------------- */

/* --inbound/--outbound: "0" (no shaping) or average[,peak[,burst]],
 * rewritten without empty fields. */
static gboolean
check_tune_rate(char **text, const char *what, GError **error)
{
    VnicConfRate rate = { 0 };

    if (*text == NULL || strcmp(*text, "0") == 0)
        return TRUE;
    if (!vnic_conf_rate_parse(*text, what, &rate, error))
        return FALSE;
    g_free(*text);
    *text = vnic_conf_rate_format(&rate);
    return TRUE;
}

static gboolean
print_rate(JsonObject *ret, const char *direction)
{
    JsonObject *r = vnic_cli_json_object(json_object_get_member(ret, direction));
    gint64 average, peak, burst;

    if (!vnic_cli_json_int(r, "average", &average) || !vnic_cli_json_int(r, "peak", &peak) ||
        !vnic_cli_json_int(r, "burst", &burst))
        return FALSE;
    printf("%s.average: %" G_GINT64_FORMAT "\n", direction, average);
    printf("%s.peak   : %" G_GINT64_FORMAT "\n", direction, peak);
    printf("%s.burst  : %" G_GINT64_FORMAT "\n", direction, burst);
    return TRUE;
}

int
vnic_cli_domiftune(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domiftune", "DOM IFACE", "a domain name and an interface", 2,
        "Without --inbound and --outbound prints a NIC's <bandwidth>, as virsh:\n"
        "inbound.average, .peak, .burst (KiB/s, KiB/s, KiB), then outbound's; 0 is none.\n"
        "With them sets it: on the running guest at once (tc on the host link), in the\n"
        "config, or both, as --live/--config/--current/--persistent say (the hot-plug\n"
        "verbs' rule).  --inbound 0 removes the inbound shaping.\n" IFACE_HELP "\n" EXIT_HELP,
    };
    g_autofree char *inbound = NULL, *outbound = NULL;
    gboolean json = FALSE, live = FALSE, config = FALSE, current = FALSE, persistent = FALSE;
    const GOptionEntry entries[] = {
        { "inbound", 0, 0, G_OPTION_ARG_STRING, &inbound,
          "traffic to the guest; 0: unshaped", "AVG[,PEAK[,BURST]]" },
        { "outbound", 0, 0, G_OPTION_ARG_STRING, &outbound,
          "traffic from the guest; 0: unshaped", "AVG[,PEAK[,BURST]]" },
        { "live", 0, 0, G_OPTION_ARG_NONE, &live, "the running guest", NULL },
        { "config", 0, 0, G_OPTION_ARG_NONE, &config, "the stored config", NULL },
        { "current", 0, 0, G_OPTION_ARG_NONE, &current,
          "the running guest if it runs, else the config (the default)", NULL },
        { "persistent", 0, 0, G_OPTION_ARG_NONE, &persistent,
          "the config, and the running guest too if it runs", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GError) error = NULL;
    JsonObject *obj;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (current && (live || config || persistent))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE,
                             "--current excludes --live, --config and --persistent");
    if (!check_tune_rate(&inbound, "--inbound", &error) ||
        !check_tune_rate(&outbound, "--outbound", &error))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE, error->message);
    json_object_set_string_member(arguments, "name", argv[1]);
    json_object_set_string_member(arguments, "interface", argv[2]);
    if (inbound)
        json_object_set_string_member(arguments, "inbound", inbound);
    if (outbound)
        json_object_set_string_member(arguments, "outbound", outbound);
    if (live)
        json_object_set_boolean_member(arguments, "live", TRUE);
    if (config)
        json_object_set_boolean_member(arguments, "config", TRUE);
    if (persistent)
        json_object_set_boolean_member(arguments, "persistent", TRUE);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json) {
        vnic_cli_print_json(ret);
        return VNIC_CLI_EXIT_OK;
    }
    if (inbound || outbound)
        return VNIC_CLI_EXIT_OK;
    obj = vnic_cli_json_object(ret);
    if (obj == NULL || !json_object_has_member(obj, "inbound") ||
        !json_object_has_member(obj, "outbound") || !print_rate(obj, "inbound") ||
        !print_rate(obj, "outbound"))
        return bad_answer(spec.verb);
    return VNIC_CLI_EXIT_OK;
}

/* ---- domifaddr ---------------------------------------------------------- */

static void
print_addresses(JsonArray *nics)
{
    printf(" %-10s %-17s    %-12s %s\n%s\n", "Name", "MAC address", "Protocol", "Address",
           "-------------------------------------------------------------------------------");
    for (guint i = 0; i < json_array_get_length(nics); i++) {
        JsonObject *nic = vnic_cli_json_object(json_array_get_element(nics, i));
        JsonNode *member = nic ? json_object_get_member(nic, "addrs") : NULL;
        JsonArray *addrs = member && JSON_NODE_HOLDS_ARRAY(member) ? json_node_get_array(member)
                                                                    : NULL;
        const char *name = vnic_cli_json_string(nic, "name");
        const char *mac = vnic_cli_json_string(nic, "hwaddr");

        for (guint j = 0; addrs && j < json_array_get_length(addrs); j++) {
            JsonObject *a = vnic_cli_json_object(json_array_get_element(addrs, j));
            gint64 prefix = 0;
            g_autofree char *addr = NULL;

            vnic_cli_json_int(a, "prefix", &prefix);
            addr = g_strdup_printf("%s/%" G_GINT64_FORMAT, vnic_cli_json_string(a, "addr")
                                   ? vnic_cli_json_string(a, "addr") : "?", prefix);
            /* virsh names the NIC on its first line only */
            printf(" %-10s %-17s    %-12s %s\n", j == 0 && name ? name : "-",
                   j == 0 && mac ? mac : "-",
                   vnic_cli_json_string(a, "type") ? vnic_cli_json_string(a, "type") : "?",
                   addr);
        }
    }
}

int
vnic_cli_domifaddr(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domifaddr", "DOM [IFACE]", "a domain name", 1,
        "Prints the IP addresses of a running domain's NICs, as virsh:\n"
        "  --source arp    (default) the host's neighbour table: addresses the host\n"
        "                  has exchanged packets with (no prefix length: /0)\n"
        "  --source agent  the guest agent (needs a org.qemu.guest_agent.0 channel and\n"
        "                  qemu-guest-agent in the guest; 5 s at most): guest names\n"
        "A NIC without an address is left out.\n" IFACE_HELP "\n" EXIT_HELP,
    };
    g_autofree char *source = NULL;
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "source", 0, 0, G_OPTION_ARG_STRING, &source, "arp (default) or agent", "SOURCE" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    JsonNode *member;
    int status;

    if (!vnic_cli_parse_options_upto(&spec, entries, 2, &argc, &argv, &status))
        return status;
    if (source && strcmp(source, "arp") != 0 && strcmp(source, "agent") != 0)
        return vnic_cli_failf(spec.verb, VNIC_CLI_EXIT_USAGE,
                              "invalid --source '%s': expected arp or agent", source);
    json_object_set_string_member(arguments, "name", argv[1]);
    if (argc > 2)
        json_object_set_string_member(arguments, "interface", argv[2]);
    if (source)
        json_object_set_string_member(arguments, "source", source);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    member = vnic_cli_json_object(ret) ? json_object_get_member(vnic_cli_json_object(ret),
                                                                "interfaces") : NULL;
    if (json)
        vnic_cli_print_json(ret);
    else if (member == NULL || !JSON_NODE_HOLDS_ARRAY(member))
        return bad_answer(spec.verb);
    else
        print_addresses(json_node_get_array(member));
    return VNIC_CLI_EXIT_OK;
}

/* ---- qemu-monitor-command ----------------------------------------------- */

int
vnic_cli_qemu_monitor_command(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "qemu-monitor-command", "DOM CMD…", "a domain name and a command", 2,
        "Sends CMD (its words joined by spaces) to the running domain's QEMU monitor, as\n"
        "virsh: a QMP command ({\"execute\": \"query-status\"} or just query-status), or\n"
        "with --hmp a human monitor line (info network).  Prints QEMU's answer: the\n"
        "QMP return value as JSON, the HMP text as it came.  For diagnosis: a change\n"
        "made here is behind vnicd's back.\n" EXIT_HELP,
    };
    gboolean hmp = FALSE, pretty = FALSE;
    const GOptionEntry entries[] = {
        { "hmp", 0, 0, G_OPTION_ARG_NONE, &hmp, "CMD is a human monitor command", NULL },
        { "pretty", 0, 0, G_OPTION_ARG_NONE, &pretty, "indent the QMP answer", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *command = NULL;
    int status;

    if (!vnic_cli_parse_options_upto(&spec, entries, G_MAXINT, &argc, &argv, &status))
        return status;
    command = g_strjoinv(" ", argv + 2);
    json_object_set_string_member(arguments, "name", argv[1]);
    json_object_set_string_member(arguments, "command", command);
    if (hmp)
        json_object_set_boolean_member(arguments, "hmp", TRUE);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (hmp && ret && JSON_NODE_HOLDS_VALUE(ret) &&
        json_node_get_value_type(ret) == G_TYPE_STRING) {
        fputs(json_node_get_string(ret), stdout);
    } else if (pretty) {
        vnic_cli_print_json(ret);
    } else {
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autofree char *text = NULL;

        json_generator_set_root(gen, ret);
        text = json_generator_to_data(gen, NULL);
        printf("%s\n", text);
    }
    return VNIC_CLI_EXIT_OK;
}
