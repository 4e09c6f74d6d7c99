/* cli-plan.c: `vnic plan FILE.xml`, PCI placement without a daemon.
 *
 * Reads a domain XML file, plans it and prints either the completed XML or,
 * with --names, the slot map with the guest names and the address the next
 * hot-plugged NIC would get.  Invalid input: exit 1, one line on stderr,
 * nothing on stdout.
 */
#include "cli/cli.h"
#include "pci/pci-plan.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *policy;
    VnicPciPolicy policy_value;
    gint spare_ports;
    gboolean names;
    gboolean json;
} PlanArgs;

static gboolean
bus_is_empty(const VnicConfDomain *def, guint bus)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->addr.set && d->addr.bus == bus)
            return FALSE;
    }
    return TRUE;
}

/* "pcie-root-port index 3 → guest bus 3, empty": what a PCI controller
 * row tells a reader is the bus it provides. */
static char *
describe_controller(const VnicConfDomain *def, const VnicConfController *c)
{
    gint bus = vnic_pci_guest_bus_number(def, c->index);

    return g_strdup_printf("%s index %u → guest bus %d%s", vnic_conf_pci_model_to_string(c->pci_model),
                           c->index, bus, bus_is_empty(def, c->index) ? ", empty" : "");
}

/* "ens3 (path enp0s3)": the name udev picks, then the others it derives. */
static char *
describe_names(const VnicPciGuestNames *n)
{
    const char *preferred = vnic_pci_guest_names_preferred(n);
    g_autoptr(GString) s = g_string_new(preferred);
    const char *sep = " (";

    if (n->slot && n->slot != preferred) {
        g_string_append_printf(s, "%sslot %s", sep, n->slot);
        sep = ", ";
    }
    if (n->path && n->path != preferred)
        g_string_append_printf(s, "%spath %s", sep, n->path);
    if (s->len > strlen(preferred))
        g_string_append_c(s, ')');
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static void
print_table(const VnicConfDomain *def, GPtrArray *rows, const VnicConfPciAddr *next,
            const GError *next_error)
{
    printf("%-14s %-50s %s\n", "ADDRESS", "DEVICE", "GUEST NAME");
    for (guint i = 0; i < rows->len; i++) {
        const VnicPciSlotRow *row = g_ptr_array_index(rows, i);
        const VnicConfDevice *dev = row->dev;
        g_autofree char *where = vnic_pci_addr_format(&row->addr);
        g_autofree char *what = NULL;
        g_autofree char *names = row->names ? describe_names(row->names) : g_strdup("");

        if (dev->kind == VNIC_CONF_DEV_CONTROLLER && dev->controller->type == VNIC_CONF_CONTROLLER_PCI)
            what = describe_controller(def, dev->controller);
        else
            what = vnic_conf_device_describe(def, dev);
        printf("%-14s %-50s %s\n", where, what, names);
    }
    if (next_error) {
        printf("\nnext hot-plugged NIC: none: %s\n", next_error->message);
    } else {
        g_autofree char *where = vnic_pci_addr_format(next);
        g_autoptr(VnicPciGuestNames) n = vnic_pci_predict_names(def, next, 0);
        g_autofree char *names = describe_names(n);
        printf("\nnext hot-plugged NIC: %s → %s\n", where, names);
    }
}

static void
add_names(JsonBuilder *b, const VnicPciGuestNames *n)
{
    json_builder_set_member_name(b, "names");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "onboard");
    n->onboard ? json_builder_add_string_value(b, n->onboard) : json_builder_add_null_value(b);
    json_builder_set_member_name(b, "slot");
    n->slot ? json_builder_add_string_value(b, n->slot) : json_builder_add_null_value(b);
    json_builder_set_member_name(b, "path");
    n->path ? json_builder_add_string_value(b, n->path) : json_builder_add_null_value(b);
    json_builder_set_member_name(b, "preferred");
    json_builder_add_string_value(b, vnic_pci_guest_names_preferred(n));
    json_builder_end_object(b);
}

static void
add_address(JsonBuilder *b, const VnicConfDomain *def, const VnicConfPciAddr *a)
{
    g_autofree char *where = vnic_pci_addr_format(a);

    json_builder_set_member_name(b, "address");
    json_builder_add_string_value(b, where);
    json_builder_set_member_name(b, "guest-bus");
    json_builder_add_int_value(b, vnic_pci_guest_bus_number(def, a->bus));
}

static void
print_json(const VnicConfDomain *def, GPtrArray *rows, const VnicConfPciAddr *next,
           const GError *next_error, const char *xml)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "devices");
    json_builder_begin_array(b);
    for (guint i = 0; i < rows->len; i++) {
        const VnicPciSlotRow *row = g_ptr_array_index(rows, i);
        g_autofree char *what = vnic_conf_device_describe(def, row->dev);

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "device");
        json_builder_add_string_value(b, what);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, vnic_conf_device_kind_to_string(row->dev->kind));
        add_address(b, def, &row->addr);
        if (row->dev->kind == VNIC_CONF_DEV_INTERFACE && row->dev->nic->has_mac) {
            g_autofree char *mac = vnic_conf_mac_format(row->dev->nic->mac);
            json_builder_set_member_name(b, "mac");
            json_builder_add_string_value(b, mac);
        }
        if (row->names)
            add_names(b, row->names);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "next-nic");
    if (next_error) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, next_error->message);
        json_builder_end_object(b);
    } else {
        g_autoptr(VnicPciGuestNames) n = vnic_pci_predict_names(def, next, 0);
        json_builder_begin_object(b);
        add_address(b, def, next);
        add_names(b, n);
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "xml");
    json_builder_add_string_value(b, xml);
    json_builder_end_object(b);

    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

static gboolean
parse_args(int *argc, char ***argv, PlanArgs *args, GError **error)
{
    GOptionEntry entries[] = {
        { "policy", 0, 0, G_OPTION_ARG_STRING, &args->policy,
          "placement policy: nic-first (default) or libvirt", "POLICY" },
        { "spare-ports", 0, 0, G_OPTION_ARG_INT, &args->spare_ports,
          "q35 root ports kept free for hot-plug (default: the domain's, else 8)", "N" },
        { "names", 0, 0, G_OPTION_ARG_NONE, &args->names,
          "print the slot map with predicted guest names instead of XML", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &args->json, "print JSON", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE.xml");

    g_option_context_set_summary(ctx, "Plans the PCI layout of a domain without running it.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
    if (*argc != 2) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "expected exactly one domain XML file (see --help)");
        return FALSE;
    }
    if (args->policy && !vnic_pci_policy_from_string(args->policy, &args->policy_value)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--policy must be 'nic-first' or 'libvirt', not '%s'", args->policy);
        return FALSE;
    }
    if (args->spare_ports < -1 || args->spare_ports > 255) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--spare-ports must be between 0 and 255, not %d", args->spare_ports);
        return FALSE;
    }
    return TRUE;
}

static VnicConfDomain *
load_and_plan(const char *path, const PlanArgs *args, GError **error)
{
    VnicPciPlanOptions opts = { .policy = args->policy_value, .spare_ports = args->spare_ports };
    g_autofree char *text = NULL;
    gsize len;
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(GRand) rand = g_rand_new();

    if (!g_file_get_contents(path, &text, &len, error))
        return NULL;
    if (!(def = vnic_conf_domain_parse(text, len, error)))
        return NULL;
    if (!vnic_pci_plan(def, &opts, error))
        return NULL;
    vnic_conf_domain_assign_macs(def, rand);
    return g_steal_pointer(&def);
}

int
vnic_cli_plan(int argc, char **argv)
{
    PlanArgs args = { .spare_ports = -1 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) next_error = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    g_autofree char *xml = NULL;
    VnicConfPciAddr next = { 0 };

    if (!parse_args(&argc, &argv, &args, &error)) {
        g_free(args.policy);
        return vnic_cli_fail("plan", VNIC_CLI_EXIT_USAGE, error->message);
    }
    def = load_and_plan(argv[1], &args, &error);
    g_free(args.policy);
    if (!def)
        return vnic_cli_fail("plan", VNIC_CLI_EXIT_FAILED, error->message);

    xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    rows = vnic_pci_slot_map(def);
    vnic_pci_next_nic_address(def, &next, &next_error);
    if (args.json)
        print_json(def, rows, &next, next_error, xml);
    else if (args.names)
        print_table(def, rows, &next, next_error);
    else
        fputs(xml, stdout);
    return VNIC_CLI_EXIT_OK;
}
