/* cli-plan.c: `vnic plan FILE.xml`, PCI placement without a daemon.
 *
 * Reads a domain XML file, plans it and prints either the completed XML or,
 * with --names, the slot map with the guest names and the address the next
 * hot-plugged NIC would get (the table `vnic pci` prints too), or with
 * --json the slot map as JSON plus the XML.  Invalid input: exit 1, one
 * line on stderr, nothing on stdout.
 *
 * --for-libvirt leaves vnic's own elements out of the XML (docs/companion.md):
 * libvirt 9.0 drops them silently at `virsh define` and refuses them with
 * --validate; what they did to the layout (spare root ports, acpi indexes,
 * unplug-proof slots, hotplug='off') is in the planned XML already.
 */
#include "cli/cli.h"
#include "pci/pci-json.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    char *policy;
    gint spare_ports;
    gboolean names;
    gboolean json;
    gboolean for_libvirt;
} PlanArgs;

gboolean
vnic_cli_check_plan_options(const char *policy, gint spare_ports, VnicPciPolicy *ret_policy,
                            GError **error)
{
    if (policy != NULL && !vnic_pci_policy_from_string(policy, ret_policy)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--policy must be 'nic-first' or 'libvirt', not '%s'", policy);
        return FALSE;
    }
    if (spare_ports < -1 || spare_ports > 255) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--spare-ports must be between 0 and 255, not %d", spare_ports);
        return FALSE;
    }
    return TRUE;
}

static VnicConfDomain *
load_and_plan(const char *path, const VnicPciPlanOptions *opts, GError **error)
{
    g_autofree char *text = NULL;
    gsize len;
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(GRand) rand = g_rand_new();

    if (!g_file_get_contents(path, &text, &len, error))
        return NULL;
    if (!(def = vnic_conf_domain_parse(text, len, error)))
        return NULL;
    if (!vnic_pci_plan(def, opts, error))
        return NULL;
    vnic_conf_domain_assign_macs(def, rand);
    return g_steal_pointer(&def);
}

/* @xml without vnic's elements, written by the conf layer again (which
 * only reads what it wrote a moment ago, so it cannot fail on it). */
static char *
for_libvirt(char *xml)
{
    g_autofree char *stripped = NULL;
    g_autoptr(VnicConfDomain) def = NULL;

    if (strstr(xml, VNIC_CLI_VNIC_NS) == NULL)
        return xml;
    stripped = vnic_cli_libvirt_strip(xml, strlen(xml), FALSE, NULL);
    def = stripped != NULL ? vnic_conf_domain_parse(stripped, strlen(stripped), NULL) : NULL;
    if (def == NULL)
        return xml;
    g_free(xml);
    g_printerr("vnic plan: note: vnic's own elements left out for libvirt (their placement is "
               "in the addresses; libvirt does not run <vnic:reconnect>)\n");
    return vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
}

static void
print_plan(const VnicConfDomain *def, const PlanArgs *args)
{
    g_autofree char *xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    g_autoptr(JsonNode) map = NULL;

    if (args->for_libvirt)
        xml = for_libvirt(g_steal_pointer(&xml));

    if (!args->json && !args->names) {
        fputs(xml, stdout);
        return;
    }
    map = vnic_pci_slot_map_to_json(def);
    if (args->json) {
        json_object_set_string_member(json_node_get_object(map), "xml", xml);
        vnic_cli_print_json(map);
    } else {
        vnic_cli_print_slot_map(map);
    }
}

static int
run_plan(int argc, char **argv, PlanArgs *args)
{
    static const VnicCliVerbSpec spec = {
        "plan", "FILE.xml", "exactly one domain XML file", 1,
        "Plans the PCI layout of a domain without running it.",
    };
    const GOptionEntry entries[] = {
        { "policy", 0, 0, G_OPTION_ARG_STRING, &args->policy,
          "placement policy: nic-first (default) or libvirt", "POLICY" },
        { "spare-ports", 0, 0, G_OPTION_ARG_INT, &args->spare_ports,
          "q35 root ports kept free for hot-plug (default: the domain's, else 8)", "N" },
        { "names", 0, 0, G_OPTION_ARG_NONE, &args->names,
          "print the slot map with predicted guest names instead of XML", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &args->json, "print JSON", NULL },
        { "for-libvirt", 0, 0, G_OPTION_ARG_NONE, &args->for_libvirt,
          "XML for virsh define (--validate too): without vnic's own elements", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    VnicPciPlanOptions opts = { .policy = VNIC_PCI_POLICY_NIC_FIRST, .warnings = warnings };
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (!vnic_cli_check_plan_options(args->policy, args->spare_ports, &opts.policy, &error))
        return vnic_cli_fail("plan", VNIC_CLI_EXIT_USAGE, error->message);
    opts.spare_ports = args->spare_ports;
    if (!(def = load_and_plan(argv[1], &opts, &error)))
        return vnic_cli_fail("plan", VNIC_CLI_EXIT_FAILED, error->message);
    /* what libvirt also accepts with a warning: kept as given, said once */
    for (guint i = 0; i < warnings->len; i++)
        g_printerr("vnic plan: warning: %s\n", (const char *)g_ptr_array_index(warnings, i));
    print_plan(def, args);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_plan(const VnicCliContext *ctx, int argc, char **argv)
{
    PlanArgs args = { .spare_ports = -1 };
    int status = run_plan(argc, argv, &args);

    g_free(args.policy);
    return status;
}
