/* cli-nextnic.c: `vnic next-nic`, the next hot-plugged NIC of a guest that
 * libvirt runs (companion mode, docs/companion.md).
 *
 * Reads the domain's XML (a file, stdin, or `virsh dumpxml DOM`), works out
 * with the pci layer where a NIC plugged now belongs (the slot right after
 * the boot NICs on pc, the lowest empty root port on q35, a NIC's old slot
 * for --replug) and prints the <interface> element with that <address>
 * (and an <acpi index> when the domain's NICs use them), ready for
 * `virsh attach-device`.  The guest name it will get goes to stderr, or
 * into --json's answer.  Offline: no vnicd, nothing changed anywhere.
 *
 * Exit 0 with the XML; 1 when the domain or interface XML is refused or
 * the domain has no room (the message says why); 2 for a bad command line.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* libvirt's range for <acpi index>, which the conf layer enforces too. */
#define ACPI_INDEX_MAX 16383

typedef struct {
    char *xml;                 /* --xml FILE, "-" for stdin */
    char *libvirt;             /* --libvirt DOM */
    char *connect;             /* --connect URI, for virsh */
    char *interface;           /* --interface FILE|- */
    char *type;
    char *source;
    char *mode;
    char *model;
    char *mac;
    char *target;
    char *acpi;                /* --acpi-index N|auto|off */
    char *replug;              /* --replug MAC|FILE */
    char *address;             /* --address ADDR, the old slot for --replug MAC */
    gboolean oneline;
    gboolean json;
} NextNicArgs;

static void
next_nic_args_clear(NextNicArgs *a)
{
    char **strings[] = { &a->xml,   &a->libvirt, &a->connect, &a->interface, &a->type,
                         &a->source, &a->mode,   &a->model,   &a->mac,       &a->target,
                         &a->acpi,  &a->replug,  &a->address };

    for (gsize i = 0; i < G_N_ELEMENTS(strings); i++)
        g_clear_pointer(strings[i], g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(NextNicArgs, next_nic_args_clear)

/* What the new NIC is made of, and where --replug wants it. */
typedef struct {
    char *template_xml;        /* the <interface> to complete */
    gboolean has_mac;          /* --replug MAC / --mac: the NIC's MAC */
    guint8 mac[6];
    VnicConfPciAddr prefer;    /* the old slot (--replug), unset otherwise */
} NicSource;

static void
nic_source_clear(NicSource *s)
{
    g_clear_pointer(&s->template_xml, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(NicSource, nic_source_clear)

typedef enum {
    ACPI_AUTO,                 /* a number when the domain's NICs have one */
    ACPI_OFF,
    ACPI_GIVEN,
} AcpiChoice;

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

/* "0000:00:05.0" or "00:05.0", hex as lspci and vnic write them. */
static gboolean
parse_pci_address(const char *text, VnicConfPciAddr *addr)
{
    guint domain = 0, bus, slot, function;
    char tail;

    if (sscanf(text, "%4x:%2x:%2x.%1x%c", &domain, &bus, &slot, &function, &tail) != 4) {
        domain = 0;
        if (sscanf(text, "%2x:%2x.%1x%c", &bus, &slot, &function, &tail) != 3)
            return FALSE;
    }
    if (slot > 31 || function > 7)
        return FALSE;
    *addr = (VnicConfPciAddr){ .set = TRUE, .domain = domain, .bus = bus, .slot = slot,
                               .function = function };
    return TRUE;
}

static gboolean
check_choices(const NextNicArgs *a, GError **error)
{
    static const char *const types[] = { "ethernet", "bridge", "direct", "network", NULL };
    static const char *const modes[] = { "vepa", "bridge", "private", "passthrough", NULL };

    if (a->type != NULL && !g_strv_contains(types, a->type))
        return usage_error(error,
                           "invalid --type '%s': expected ethernet, bridge, direct or network",
                           a->type);
    if (a->type != NULL && strcmp(a->type, "ethernet") != 0 && a->source == NULL)
        return usage_error(error, "--type %s needs --source (the bridge, lower device or "
                                  "network)", a->type);
    if (a->mode != NULL && !g_strv_contains(modes, a->mode))
        return usage_error(error, "invalid --mode '%s': expected vepa, bridge, private or "
                                  "passthrough", a->mode);
    if (a->mode != NULL && g_strcmp0(a->type, "direct") != 0)
        return usage_error(error, "--mode is a macvtap mode, for --type direct");
    return TRUE;
}

/* Where the domain comes from, what the NIC is built from, what reads stdin. */
static gboolean
check_sources(const NextNicArgs *a, GError **error)
{
    gboolean built = a->type || a->source || a->model || a->mode || a->target;
    guint8 mac[6];
    guint stdin_users = (g_strcmp0(a->xml, "-") == 0) + (g_strcmp0(a->interface, "-") == 0) +
                        (g_strcmp0(a->replug, "-") == 0);

    if ((a->xml == NULL) == (a->libvirt == NULL))
        return usage_error(error, "expected one of --xml FILE (- for stdin) or --libvirt DOM: "
                                  "the running domain's XML");
    if (a->connect != NULL && a->libvirt == NULL)
        return usage_error(error, "--connect is virsh's URI, for --libvirt");
    if (stdin_users > 1)
        return usage_error(error, "only one of --xml, --interface and --replug can read stdin");
    if (built && a->interface != NULL)
        return usage_error(error, "--interface FILE excludes --type, --source, --mode, --model "
                                  "and --target");
    if (!built && a->interface == NULL && a->replug == NULL)
        return usage_error(error, "expected --type TYPE [--source …] or --interface FILE to "
                                  "describe the NIC, or --replug");
    if (a->address != NULL && a->replug == NULL)
        return usage_error(error, "--address is the old slot of the NIC --replug brings back");
    if (a->replug != NULL && !vnic_conf_mac_parse(a->replug, mac) &&
        (built || a->interface != NULL || a->address != NULL || a->mac != NULL))
        return usage_error(error, "--replug FILE brings back the NIC in FILE as it was: no "
                                  "--type, --interface, --address or --mac with it");
    return TRUE;
}

static gboolean
check_args(NextNicArgs *a, AcpiChoice *acpi, guint *acpi_index, GError **error)
{
    guint8 mac[6];
    VnicConfPciAddr addr;
    guint64 n = 0;

    if (!check_sources(a, error) || !check_choices(a, error))
        return FALSE;
    if (a->mac != NULL && !vnic_conf_mac_parse(a->mac, mac))
        return usage_error(error, "invalid --mac '%s': expected six hex pairs separated by ':'",
                           a->mac);
    if (a->mac != NULL && (mac[0] & 0x01))
        return usage_error(error, "--mac '%s' is a multicast address: a NIC needs a unicast one",
                           a->mac);
    if (a->address != NULL && !parse_pci_address(a->address, &addr))
        return usage_error(error, "invalid --address '%s': expected DDDD:BB:SS.F, e.g. "
                                  "0000:00:05.0", a->address);
    *acpi = ACPI_AUTO;
    if (a->acpi == NULL || strcmp(a->acpi, "auto") == 0)
        return TRUE;
    if (strcmp(a->acpi, "off") == 0) {
        *acpi = ACPI_OFF;
        return TRUE;
    }
    if (!g_ascii_string_to_unsigned(a->acpi, 10, 1, ACPI_INDEX_MAX, &n, NULL))
        return usage_error(error, "invalid --acpi-index '%s': expected auto, off or 1 to %d",
                           a->acpi, ACPI_INDEX_MAX);
    *acpi = ACPI_GIVEN;
    *acpi_index = (guint) n;
    return TRUE;
}

/* ---- input ------------------------------------------------------------- */

/* FILE's text, or stdin's for "-". */
static char *
read_input(const char *path, gsize *len, GError **error)
{
    g_autoptr(GString) s = NULL;
    char buf[4096];
    size_t n;
    char *text = NULL;

    if (strcmp(path, "-") != 0)
        return g_file_get_contents(path, &text, len, error) ? text : NULL;
    s = g_string_new(NULL);
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        g_string_append_len(s, buf, (gssize) n);
    if (ferror(stdin)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read stdin");
        return NULL;
    }
    *len = s->len;
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The domain as the pci layer needs it: libvirt's live data that does not
 * bear on placement dropped (aliases: a <console> repeats its <serial>'s),
 * and anything without an address placed as libvirt would place it, spare
 * root port included (an XML that was never defined; a live one has every
 * address, and then nothing moves). */
static VnicConfDomain *
domain_from_text(const char *text, gsize len, const char *what, GError **error)
{
    g_autofree char *clean = vnic_cli_libvirt_strip(text, len, TRUE, error);
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    VnicPciPlanOptions opts = { .policy = VNIC_PCI_POLICY_LIBVIRT, .spare_ports = -1,
                                .warnings = warnings };

    if (clean == NULL || !(def = vnic_conf_domain_parse(clean, strlen(clean), error)) ||
        !vnic_pci_plan(def, &opts, error)) {
        g_prefix_error(error, "%s: ", what);
        return NULL;
    }
    return g_steal_pointer(&def);
}

static VnicConfDomain *
load_domain(const NextNicArgs *a, GError **error)
{
    g_autofree char *text = NULL;
    g_autofree char *what = NULL;
    gsize len = 0;

    if (a->libvirt != NULL) {
        if (!(text = vnic_cli_virsh_dumpxml(a->connect, a->libvirt, FALSE, error)))
            return NULL;
        len = strlen(text);
        what = g_strdup_printf("domain '%s'", a->libvirt);
    } else {
        if (!(text = read_input(a->xml, &len, error)))
            return NULL;
        what = g_strdup_printf("domain XML %s", strcmp(a->xml, "-") == 0 ? "(stdin)" : a->xml);
    }
    return domain_from_text(text, len, what, error);
}

/* The NIC of @def with @mac, or NULL. */
static const VnicConfDevice *
find_nic(const VnicConfDomain *def, const guint8 mac[6])
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (vnic_conf_device_is_nic(dev) && dev->nic->has_mac && memcmp(dev->nic->mac, mac, 6) == 0)
            return dev;
    }
    return NULL;
}

/* <interface> from --type, --source, …, as `attach-interface` builds it. */
static char *
interface_from_options(const NextNicArgs *a)
{
    GString *s = g_string_new(NULL);
    g_autofree char *head = g_markup_printf_escaped("<interface type='%s'>", a->type);

    g_string_append(s, head);
    if (a->source != NULL) {
        g_autofree char *src = NULL;

        if (strcmp(a->type, "bridge") == 0)
            src = g_markup_printf_escaped("<source bridge='%s'/>", a->source);
        else if (strcmp(a->type, "network") == 0)
            src = g_markup_printf_escaped("<source network='%s'/>", a->source);
        else if (strcmp(a->type, "direct") == 0)
            src = g_markup_printf_escaped("<source dev='%s' mode='%s'/>", a->source,
                                          a->mode != NULL ? a->mode : "vepa");
        if (src != NULL)
            g_string_append(s, src);
    }
    if (a->target != NULL) {
        g_autofree char *t = g_markup_printf_escaped("<target dev='%s'/>", a->target);

        g_string_append(s, t);
    }
    {
        g_autofree char *m = g_markup_printf_escaped("<model type='%s'/>",
                                                     a->model != NULL ? a->model : "virtio");

        g_string_append(s, m);
    }
    g_string_append(s, "</interface>");
    return g_string_free(s, FALSE);
}

/* A NIC's old <interface> (a file, stdin, or found in the domain's stored
 * config): its text without live data, and its address as the slot to
 * prefer. */
static gboolean
take_old_interface(const char *text, gsize len, NicSource *src, GError **error)
{
    g_autofree char *clean = vnic_cli_libvirt_strip(text, len, TRUE, error);
    g_autoptr(VnicConfDevice) old = NULL;

    if (clean == NULL || !(old = vnic_conf_interface_parse(NULL, clean, strlen(clean), error)))
        return FALSE;
    src->prefer = old->addr;
    old->addr.set = FALSE;
    g_free(src->template_xml);
    src->template_xml = vnic_conf_device_format(old, VNIC_CONF_FORMAT_INACTIVE);
    if (old->nic->has_mac && !src->has_mac) {
        src->has_mac = TRUE;
        memcpy(src->mac, old->nic->mac, 6);
    }
    return TRUE;
}

/* --replug MAC without --address: the NIC's entry in the stored config,
 * where a `detach-device --live` leaves it (libvirt only). */
static gboolean
old_from_config(const NextNicArgs *a, NicSource *src, GError **error)
{
    g_autofree char *text = NULL;
    g_autofree char *mac = vnic_conf_mac_format(src->mac);
    g_autoptr(VnicConfDomain) config = NULL;
    const VnicConfDevice *old;

    if (a->libvirt == NULL) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--replug %s: where was it? Give --address ADDR (its old slot) or "
                    "--replug FILE (its old <interface>)", mac);
        return FALSE;
    }
    if (!(text = vnic_cli_virsh_dumpxml(a->connect, a->libvirt, TRUE, error)) ||
        !(config = domain_from_text(text, strlen(text), "stored config", error)))
        return FALSE;
    if (!(old = find_nic(config, src->mac)) || !old->addr.set) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "--replug %s: domain '%s' has no such NIC in its stored config either; "
                    "give --address ADDR (its old slot) or --replug FILE (its old <interface>)",
                    mac, a->libvirt);
        return FALSE;
    }
    if (src->template_xml != NULL) {
        src->prefer = old->addr;
        return TRUE;
    }
    {
        g_autofree char *old_xml = vnic_conf_device_format(old, VNIC_CONF_FORMAT_INACTIVE);

        return take_old_interface(old_xml, strlen(old_xml), src, error);
    }
}

/* The template and the slot to prefer, from the options. */
static gboolean
nic_source(const NextNicArgs *a, const VnicConfDomain *def, NicSource *src, GError **error)
{
    gboolean replug_mac = a->replug != NULL && vnic_conf_mac_parse(a->replug, src->mac);
    gsize len = 0;

    if (a->mac != NULL) {
        src->has_mac = vnic_conf_mac_parse(a->mac, src->mac);
        if (replug_mac) {
            guint8 other[6];

            vnic_conf_mac_parse(a->replug, other);
            if (memcmp(other, src->mac, 6) != 0)
                return usage_error(error, "--mac %s and --replug %s name different NICs",
                                   a->mac, a->replug);
        }
    }
    src->has_mac = src->has_mac || replug_mac;
    if (a->interface != NULL) {
        if (!(src->template_xml = read_input(a->interface, &len, error)))
            return FALSE;
    } else if (a->type != NULL) {
        src->template_xml = interface_from_options(a);
    }
    if (a->replug != NULL && !replug_mac) {
        g_autofree char *text = read_input(a->replug, &len, error);

        if (text == NULL || !take_old_interface(text, len, src, error)) {
            g_prefix_error(error, "--replug %s: ", a->replug);
            return FALSE;
        }
    }
    if (src->has_mac && find_nic(def, src->mac)) {
        g_autofree char *mac = vnic_conf_mac_format(src->mac);
        g_autofree char *where = vnic_pci_addr_format(&find_nic(def, src->mac)->addr);

        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "the NIC with MAC %s is still attached at %s: nothing to replug", mac, where);
        return FALSE;
    }
    if (replug_mac && a->address != NULL) {
        parse_pci_address(a->address, &src->prefer); /* checked with the options */
        return TRUE;
    }
    if (replug_mac)
        return old_from_config(a, src, error);
    if (src->template_xml == NULL)
        return usage_error(error, "--replug MAC needs --type or --interface to describe the NIC");
    return TRUE;
}

/* ---- placing ----------------------------------------------------------- */

static gboolean
domain_uses_acpi_index(const VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (vnic_conf_device_is_nic(dev) && dev->nic->acpi_index != 0)
            return TRUE;
    }
    return def->auto_acpi_index;
}

static gboolean
set_acpi_index(const VnicConfDomain *def, VnicConfDevice *dev, AcpiChoice acpi, guint given,
               GError **error)
{
    if (acpi == ACPI_GIVEN) {
        for (guint i = 0; i < def->devices->len; i++) {
            const VnicConfDevice *other = g_ptr_array_index(def->devices, i);

            if (vnic_conf_device_is_nic(other) && other->nic->acpi_index == given) {
                g_autofree char *who = vnic_conf_device_describe(def, other);

                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                            "--acpi-index %u is already used by %s", given, who);
                return FALSE;
            }
        }
        dev->nic->acpi_index = given;
    } else if (acpi == ACPI_AUTO && dev->nic->acpi_index == 0 && domain_uses_acpi_index(def)) {
        dev->nic->acpi_index = vnic_pci_next_acpi_index(def);
    }
    return TRUE;
}

/* The old slot when it is still free and takes hot-plug; else the next one,
 * saying why on *@why. */
static gboolean
place(const VnicConfDomain *def, VnicConfDevice *dev, const VnicConfPciAddr *prefer,
      char **why, GError **error)
{
    g_autoptr(GError) taken = NULL;

    if (dev->addr.set)
        return vnic_pci_check_hotplug_address(def, &dev->addr, error);
    if (prefer->set && vnic_pci_check_hotplug_address(def, prefer, &taken)) {
        dev->addr = *prefer;
        return TRUE;
    }
    if (taken != NULL)
        *why = g_strdup(taken->message);
    return vnic_pci_next_nic_address(def, &dev->addr, error);
}

static VnicConfDevice *
prepare_nic(const VnicConfDomain *def, const NicSource *src, AcpiChoice acpi, guint acpi_index,
            char **why, GError **error)
{
    g_autoptr(VnicConfDevice) dev = NULL;

    if (!(dev = vnic_conf_interface_parse(def, src->template_xml, strlen(src->template_xml),
                                          error))) {
        g_prefix_error(error, "interface XML: ");
        return NULL;
    }
    if (src->has_mac && dev->nic->has_mac && memcmp(dev->nic->mac, src->mac, 6) != 0) {
        g_autofree char *want = vnic_conf_mac_format(src->mac);

        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "interface XML: its <mac> is not %s, the NIC's MAC", want);
        return NULL;
    }
    if (src->has_mac) {
        dev->nic->has_mac = TRUE;
        memcpy(dev->nic->mac, src->mac, 6);
    }
    /* libvirt runs the NIC: vnicd's knobs mean nothing there */
    dev->nic->guest_unplug = VNIC_TRISTATE_ABSENT;
    dev->nic->reconnect = VNIC_CONF_RECONNECT_DEFAULT;
    g_clear_pointer(&dev->alias, g_free);
    if (!set_acpi_index(def, dev, acpi, acpi_index, error) ||
        !place(def, dev, &src->prefer, why, error))
        return NULL;
    return g_steal_pointer(&dev);
}

/* ---- output ------------------------------------------------------------ */

/* The XML on one line, for callers that read one (CloudStack's
 * Script.runSimpleBashScript).  The conf layer puts text content on the
 * line of its element, so every newline here sits between two tags. */
static char *
one_line(const char *xml)
{
    g_auto(GStrv) lines = g_strsplit(xml, "\n", -1);
    GString *s = g_string_new(NULL);

    for (guint i = 0; lines[i] != NULL; i++)
        g_string_append(s, g_strchug(lines[i]));
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

static JsonObject *
names_json(const VnicPciGuestNames *names)
{
    JsonObject *obj = json_object_new();
    const char *preferred = vnic_pci_guest_names_preferred(names);
    const struct {
        const char *member;
        const char *value;
    } kinds[] = {
        { "onboard", names->onboard }, { "slot", names->slot },
        { "path", names->path },       { "preferred", preferred },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (kinds[i].value != NULL)
            json_object_set_string_member(obj, kinds[i].member, kinds[i].value);
        else
            json_object_set_null_member(obj, kinds[i].member);
    }
    return obj;
}

static void
print_result(const VnicConfDomain *def, const VnicConfDevice *dev, const NicSource *src,
             const char *why, const NextNicArgs *a)
{
    g_autofree char *formatted = vnic_conf_device_format(dev, VNIC_CONF_FORMAT_INACTIVE);
    g_autofree char *xml = vnic_cli_libvirt_strip(formatted, strlen(formatted), FALSE, NULL);
    g_autofree char *address = vnic_pci_addr_format(&dev->addr);
    g_autoptr(VnicPciGuestNames) names = vnic_pci_predict_names(def, &dev->addr,
                                                                dev->nic->acpi_index);
    const char *name = vnic_pci_guest_names_preferred(names);
    g_autoptr(JsonObject) obj = NULL;
    g_autoptr(JsonNode) node = NULL;

    /* the conf layer's own writing, unless vnic's namespace had to go */
    if (xml == NULL || strstr(formatted, VNIC_CLI_VNIC_NS) == NULL) {
        g_free(xml);
        xml = g_strdup(formatted);
    }
    if (a->oneline) {
        char *flat = one_line(xml);

        g_free(xml);
        xml = flat;
    }
    if (!a->json) {
        fputs(xml, stdout);
        if (why != NULL)
            g_printerr("vnic next-nic: warning: the old slot cannot be used (%s)\n", why);
        g_printerr("vnic next-nic: guest name %s at %s\n", name != NULL ? name : "(none)",
                   address);
        return;
    }
    obj = json_object_new();
    json_object_set_string_member(obj, "xml", xml);
    json_object_set_string_member(obj, "address", address);
    json_object_set_int_member(obj, "guest-bus", vnic_pci_guest_bus_number(def, dev->addr.bus));
    json_object_set_object_member(obj, "names", names_json(names));
    if (dev->nic->acpi_index != 0)
        json_object_set_int_member(obj, "acpi-index", dev->nic->acpi_index);
    if (dev->nic->has_mac) {
        g_autofree char *mac = vnic_conf_mac_format(dev->nic->mac);

        json_object_set_string_member(obj, "mac", mac);
    }
    if (src->prefer.set) {
        JsonObject *replug = json_object_new();
        g_autofree char *old = vnic_pci_addr_format(&src->prefer);

        json_object_set_string_member(replug, "old-address", old);
        json_object_set_boolean_member(replug, "honoured", why == NULL);
        if (why != NULL)
            json_object_set_string_member(replug, "reason", why);
        json_object_set_object_member(obj, "replug", replug);
    }
    node = json_node_init_object(json_node_alloc(), obj);
    vnic_cli_print_json(node);
}

/* ---- the verb ---------------------------------------------------------- */

static gboolean
parse_next_nic(int *argc, char ***argv, NextNicArgs *a, int *status)
{
    static const VnicCliVerbSpec spec = {
        "next-nic", "", "no arguments", 0,
        "Prints the <interface> for the next NIC hot-plugged into a domain that libvirt\n"
        "runs, with the <address> (and <acpi index>) that keeps the guest's names in\n"
        "order: feed it to 'virsh attach-device DOM FILE --live'.  The guest name goes\n"
        "to stderr (or into --json).  Offline: reads XML, changes nothing.\n"
        "The NIC: --type/--source/… as attach-interface, or --interface FILE.\n"
        "--replug MAC|FILE brings a detached NIC back into its old slot: FILE is its\n"
        "old <interface> (with <address>); for a MAC, --address gives the old slot,\n"
        "else the domain's stored config (virsh dumpxml --inactive) is searched.\n"
        "Exit status: 0 printed; 1 the XML was refused, virsh failed or the domain has\n"
        "no free hot-plug slot (stderr says why); 2 bad command line.",
    };
    const GOptionEntry entries[] = {
        { "xml", 0, 0, G_OPTION_ARG_FILENAME, &a->xml,
          "the running domain's XML (virsh dumpxml); - reads stdin", "FILE" },
        { "libvirt", 0, 0, G_OPTION_ARG_STRING, &a->libvirt,
          "run 'virsh dumpxml DOM' for it", "DOM" },
        { "connect", 0, 0, G_OPTION_ARG_STRING, &a->connect,
          "virsh's connection URI (default: virsh's, $LIBVIRT_DEFAULT_URI)", "URI" },
        { "interface", 0, 0, G_OPTION_ARG_FILENAME, &a->interface,
          "the <interface> to complete (no <address>); - reads stdin", "FILE" },
        { "type", 0, 0, G_OPTION_ARG_STRING, &a->type,
          "ethernet, bridge, direct or network", "TYPE" },
        { "source", 0, 0, G_OPTION_ARG_STRING, &a->source,
          "the bridge, the lower device (direct) or the network", "DEV" },
        { "mode", 0, 0, G_OPTION_ARG_STRING, &a->mode,
          "direct: vepa (default), bridge, private or passthrough", "MODE" },
        { "model", 0, 0, G_OPTION_ARG_STRING, &a->model, "virtio (default), e1000, …",
          "MODEL" },
        { "mac", 0, 0, G_OPTION_ARG_STRING, &a->mac, "MAC address (default: libvirt picks)",
          "MAC" },
        { "target", 0, 0, G_OPTION_ARG_STRING, &a->target, "host interface name", "NAME" },
        { "acpi-index", 0, 0, G_OPTION_ARG_STRING, &a->acpi,
          "auto (default: the next one when the domain's NICs have one), off, or 1-16383",
          "N" },
        { "replug", 0, 0, G_OPTION_ARG_FILENAME, &a->replug,
          "bring back a detached NIC: its MAC, or its old <interface> (- reads stdin)",
          "MAC|FILE" },
        { "address", 0, 0, G_OPTION_ARG_STRING, &a->address,
          "with --replug MAC: its old slot, e.g. 0000:00:05.0", "ADDR" },
        { "oneline", 0, 0, G_OPTION_ARG_NONE, &a->oneline,
          "print the <interface> on one line (for callers that read one line)", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &a->json,
          "print {xml, address, guest-bus, names, acpi-index, mac, replug}", NULL },
        G_OPTION_ENTRY_NULL,
    };

    return vnic_cli_parse_options(&spec, entries, argc, argv, status);
}

int
vnic_cli_next_nic(const VnicCliContext *ctx, int argc, char **argv)
{
    g_auto(NextNicArgs) a = { 0 };
    g_auto(NicSource) src = { 0 };
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(VnicConfDevice) dev = NULL;
    g_autofree char *why = NULL;
    AcpiChoice acpi = ACPI_AUTO;
    guint acpi_index = 0;
    int status;

    (void) ctx;
    if (!parse_next_nic(&argc, &argv, &a, &status))
        return status;
    if (!check_args(&a, &acpi, &acpi_index, &error))
        return vnic_cli_fail("next-nic", VNIC_CLI_EXIT_USAGE, error->message);
    if (!(def = load_domain(&a, &error)) || !nic_source(&a, def, &src, &error) ||
        !(dev = prepare_nic(def, &src, acpi, acpi_index, &why, &error))) {
        gboolean usage = g_error_matches(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);

        return vnic_cli_fail("next-nic", usage ? VNIC_CLI_EXIT_USAGE : VNIC_CLI_EXIT_FAILED,
                             error->message);
    }
    print_result(def, dev, &src, why, &a);
    return VNIC_CLI_EXIT_OK;
}
