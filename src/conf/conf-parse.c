/* conf-parse.c: a <domain> document into a VnicConfDomain.
 *
 * Owns the domain-level elements vnic models (type, name, uuid, memory,
 * vcpu, os, features/acpi, emulator, <vnic:hotplug>, <vnic:reconnect>),
 * the walk over <devices>, and the checks spanning several devices
 * (duplicate MACs, ACPI indexes and aliases).  Everything else at domain
 * level stays in the document and is written back verbatim.  Also parses
 * a lone <interface>.
 *
 * Invariant: the document is owned by the definition from the first moment,
 * so devices' borrowed element pointers never outlive it, even on error.
 */
#include "conf/conf-priv.h"

#include <string.h>

static gboolean
parse_root(VnicConfDomain *def, xmlNode *root, GError **error)
{
    static const char *const types[] = { "qemu", "kvm", NULL };

    if (!vnic_conf_xml_is(root, "domain")) {
        g_autofree char *qname = vnic_conf_xml_qname(root);

        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "the root element is <%s>%s%s%s, expected <domain> without namespace",
                    qname, root->ns != NULL ? " in namespace '" : "",
                    root->ns != NULL ? (const char *) root->ns->href : "",
                    root->ns != NULL ? "'" : "");
        return FALSE;
    }
    if (!vnic_conf_xml_prop_choice(root, "type", types, VNIC_CONF_ERROR_UNSUPPORTED, &def->type,
                                   error))
        return FALSE;
    if (def->type == NULL)
        return vnic_conf_xml_missing_attr(root, "type", error);
    return TRUE;
}

/* The stripped text of the only <@name> child of @parent; NULL if none. */
static gboolean
child_text(xmlNode *parent, const char *name, char **out, GError **error)
{
    xmlNode *child;

    *out = NULL;
    if (!vnic_conf_xml_single_child(parent, name, &child, error))
        return FALSE;
    if (child != NULL)
        *out = vnic_conf_xml_text(child);
    return TRUE;
}

/* 8-4-4-4-12 hex digits, or 32 without dashes; stored lower-case, dashed. */
static char *
uuid_normalize(const char *text)
{
    g_autoptr(GString) hex = g_string_new(NULL);
    gsize len = strlen(text);

    for (gsize i = 0; i < len; i++) {
        gboolean dash_here = len == 36 && (i == 8 || i == 13 || i == 18 || i == 23);

        if (dash_here ? text[i] != '-' : !g_ascii_isxdigit(text[i]))
            return NULL;
        if (!dash_here)
            g_string_append_c(hex, g_ascii_tolower(text[i]));
    }
    if (hex->len != 32 || (len != 32 && len != 36))
        return NULL;
    return g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s", hex->str, hex->str + 8, hex->str + 12,
                           hex->str + 16, hex->str + 20);
}

static gboolean
parse_name_uuid(VnicConfDomain *def, xmlNode *root, GError **error)
{
    g_autofree char *uuid = NULL;

    if (!child_text(root, "name", &def->name, error) || !child_text(root, "uuid", &uuid, error))
        return FALSE;
    if (def->name == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<domain> has no <name> element");
        return FALSE;
    }
    if (*def->name == '\0' || strchr(def->name, '/') != NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <name>: it must be non-empty and contain no '/'",
                    def->name);
        return FALSE;
    }
    if (uuid == NULL)
        return TRUE;
    def->uuid = uuid_normalize(g_strstrip(uuid));
    if (def->uuid == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <uuid>: expected 8-4-4-4-12 hex digits", uuid);
        return FALSE;
    }
    return TRUE;
}

/* libvirt's scaled units: b/bytes, then k, M, G, T, P, E alone or with iB
 * (powers of 1024) or with B (powers of 1000), case-insensitive. */
static gboolean
unit_scale(const char *unit, guint64 *scale)
{
    const char *prefixes = "kmgtpe";
    const char *pos;
    guint64 base;

    if (unit == NULL) {
        *scale = 1024;
        return TRUE;
    }
    if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "byte") == 0 ||
        g_ascii_strcasecmp(unit, "bytes") == 0) {
        *scale = 1;
        return TRUE;
    }
    pos = unit[0] != '\0' ? strchr(prefixes, g_ascii_tolower(unit[0])) : NULL;
    if (pos == NULL)
        return FALSE;
    if (unit[1] == '\0' || g_ascii_strcasecmp(unit + 1, "ib") == 0)
        base = 1024;
    else if (g_ascii_strcasecmp(unit + 1, "b") == 0)
        base = 1000;
    else
        return FALSE;
    *scale = base;
    for (const char *p = prefixes; p < pos; p++)
        *scale *= base;
    return TRUE;
}

static gboolean
parse_memory_node(xmlNode *node, guint64 *kib, GError **error)
{
    g_autofree char *text = g_strstrip(vnic_conf_xml_text(node));
    g_autofree char *unit = vnic_conf_xml_prop(node, "unit");
    const char *name = (const char *) node->name;
    guint64 value = 0, scale = 1;

    if (!unit_scale(unit, &scale)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <%s unit>: expected b, KB, KiB, MB, MiB, GB, GiB, "
                    "TB, TiB or the like",
                    unit, name);
        return FALSE;
    }
    if (!vnic_conf_xml_parse_uint(text, FALSE, 0, G_MAXUINT64, &value) ||
        value > G_MAXUINT64 / scale) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <%s>: expected a size in %s", text, name,
                    unit != NULL ? unit : "KiB");
        return FALSE;
    }
    /* libvirt rounds up to whole KiB */
    *kib = value * scale / 1024 + (value * scale % 1024 != 0);
    return TRUE;
}

static gboolean
parse_memory(VnicConfDomain *def, xmlNode *root, GError **error)
{
    xmlNode *memory, *current;

    if (!vnic_conf_xml_single_child(root, "memory", &memory, error) ||
        !vnic_conf_xml_single_child(root, "currentMemory", &current, error))
        return FALSE;
    if (memory == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<domain> has no <memory> element");
        return FALSE;
    }
    if (!parse_memory_node(memory, &def->memory_kib, error))
        return FALSE;
    if (def->memory_kib == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '0' for <memory>: a guest needs memory");
        return FALSE;
    }
    if (current != NULL && !parse_memory_node(current, &def->current_memory_kib, error))
        return FALSE;
    if (def->current_memory_kib == 0)
        def->current_memory_kib = def->memory_kib;
    if (def->current_memory_kib > def->memory_kib) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<currentMemory> of %" G_GUINT64_FORMAT " KiB exceeds <memory> of "
                    "%" G_GUINT64_FORMAT " KiB",
                    def->current_memory_kib, def->memory_kib);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_vcpu(VnicConfDomain *def, xmlNode *root, GError **error)
{
    g_autofree char *text = NULL;
    guint64 vcpus = 1;

    if (!child_text(root, "vcpu", &text, error))
        return FALSE;
    if (text != NULL && !vnic_conf_xml_parse_uint(g_strstrip(text), FALSE, 1, 65535, &vcpus)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <vcpu>: expected an integer from 1 to 65535", text);
        return FALSE;
    }
    def->vcpus = (guint) vcpus;
    return TRUE;
}

/* pc, q35, pc-i440fx-*, pc-q35-*, and pc-X.Y (an i440fx alias). */
static gboolean
machine_family(const char *machine, VnicMachineFamily *family)
{
    if (strcmp(machine, "q35") == 0 ||
        (g_str_has_prefix(machine, "pc-q35-") && machine[7] != '\0')) {
        *family = VNIC_MACHINE_Q35;
        return TRUE;
    }
    if (strcmp(machine, "pc") == 0 ||
        (g_str_has_prefix(machine, "pc-i440fx-") && machine[10] != '\0') ||
        (g_str_has_prefix(machine, "pc-") && g_ascii_isdigit(machine[3]))) {
        *family = VNIC_MACHINE_PC;
        return TRUE;
    }
    return FALSE;
}

static gboolean
parse_os_type(VnicConfDomain *def, xmlNode *type, GError **error)
{
    g_autofree char *text = g_strstrip(vnic_conf_xml_text(type));

    if (strcmp(text, "hvm") != 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unsupported value '%s' for <os><type>: vnic runs hvm guests only", text);
        return FALSE;
    }
    def->arch = vnic_conf_xml_prop(type, "arch");
    if (def->arch == NULL)
        def->arch = g_strdup("x86_64");
    if (strcmp(def->arch, "x86_64") != 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unsupported value '%s' for <type arch>: vnic supports x86_64 only",
                    def->arch);
        return FALSE;
    }
    def->machine = vnic_conf_xml_prop(type, "machine");
    if (def->machine == NULL)
        def->machine = g_strdup("pc");
    if (!machine_family(def->machine, &def->family)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unsupported value '%s' for <type machine>: vnic plans PCI for pc "
                    "(i440fx) and q35 machines only",
                    def->machine);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_os(VnicConfDomain *def, xmlNode *root, GError **error)
{
    xmlNode *os, *type;

    if (!vnic_conf_xml_single_child(root, "os", &os, error))
        return FALSE;
    if (os == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<domain> has no <os> element");
        return FALSE;
    }
    if (!vnic_conf_xml_single_child(os, "type", &type, error))
        return FALSE;
    if (type == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING, "<os> has no <type> element");
        return FALSE;
    }
    return parse_os_type(def, type, error) && child_text(os, "kernel", &def->kernel, error) &&
           child_text(os, "initrd", &def->initrd, error) &&
           child_text(os, "cmdline", &def->cmdline, error);
}

static gboolean
parse_features(VnicConfDomain *def, xmlNode *root, GError **error)
{
    xmlNode *features;

    if (!vnic_conf_xml_single_child(root, "features", &features, error))
        return FALSE;
    def->acpi = features != NULL && vnic_conf_xml_child(features, "acpi") != NULL;
    return TRUE;
}

static gboolean
parse_hotplug(VnicConfDomain *def, xmlNode *node, GError **error)
{
    static const char *const attrs[] = { "spare-ports", "guest-unplug", "acpi-index", NULL };
    static const char *const acpi_values[] = { "auto", "off", NULL };
    g_autofree char *acpi = NULL;
    guint64 spare = 0;
    gboolean has_spare = FALSE;

    if (!vnic_conf_xml_check_attrs(node, attrs, error) ||
        !vnic_conf_xml_prop_uint(node, "spare-ports", FALSE, 0, 255, &spare, &has_spare, error) ||
        !vnic_conf_xml_prop_tristate(node, "guest-unplug", "allow", "deny", &def->guest_unplug,
                                     error) ||
        !vnic_conf_xml_prop_choice(node, "acpi-index", acpi_values, VNIC_CONF_ERROR_INVALID,
                                   &acpi, error))
        return FALSE;
    def->spare_ports = has_spare ? (gint) spare : -1;
    def->auto_acpi_index = g_strcmp0(acpi, "auto") == 0;
    return TRUE;
}

/* vnic's namespace at domain level: one <vnic:hotplug> and one
 * <vnic:reconnect> at most, nothing else. */
static gboolean
parse_vnic_elements(VnicConfDomain *def, xmlNode *root, GError **error)
{
    gboolean seen_hotplug = FALSE, seen_reconnect = FALSE;

    for (xmlNode *cur = root->children; cur != NULL; cur = cur->next) {
        gboolean hotplug, *seen;

        if (!vnic_conf_xml_is_vnic(cur))
            continue;
        hotplug = strcmp((const char *) cur->name, "hotplug") == 0;
        if (!hotplug && strcmp((const char *) cur->name, "reconnect") != 0) {
            g_autofree char *qname = vnic_conf_xml_qname(cur);

            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                        "unknown element <%s> in vnic's namespace %s", qname, VNIC_CONF_NS);
            return FALSE;
        }
        seen = hotplug ? &seen_hotplug : &seen_reconnect;
        if (*seen) {
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                        "<domain> has more than one <vnic:%s> element",
                        (const char *) cur->name);
            return FALSE;
        }
        *seen = TRUE;
        if (hotplug ? !parse_hotplug(def, cur, error)
                    : !vnic_conf_parse_reconnect_element(cur, &def->reconnect, error))
            return FALSE;
    }
    return TRUE;
}

/* The 1-based number of @node among the elements of its name in every
 * <devices> block so far, as the device labels count them. */
static guint
element_ordinal(const xmlNode *node)
{
    guint n = 0;

    for (const xmlNode *block = node->parent; block != NULL; block = block->prev) {
        if (block->type != XML_ELEMENT_NODE || !vnic_conf_xml_is(block, "devices"))
            continue;
        for (const xmlNode *cur = block == node->parent ? node : block->last; cur != NULL;
             cur = cur->prev) {
            if (cur->type == XML_ELEMENT_NODE && cur->ns == node->ns &&
                xmlStrEqual(cur->name, node->name))
                n++;
        }
    }
    return n;
}

static gboolean
parse_emulator(VnicConfDomain *def, xmlNode *devices, GError **error)
{
    g_autofree char *emulator = NULL;

    if (!child_text(devices, "emulator", &emulator, error))
        return FALSE;
    if (emulator == NULL)
        return TRUE;
    if (def->emulator != NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "<emulator> appears in more than one <devices> element");
        return FALSE;
    }
    def->emulator = g_steal_pointer(&emulator);
    return TRUE;
}

/* libvirt takes any number of <devices> blocks (CloudStack puts the balloon
 * in its own) and reads them as one list in document order; so do we, and
 * the formatter writes a single <devices>, as libvirt's dumpxml does. */
static gboolean
parse_devices(VnicConfDomain *def, xmlNode *root, GError **error)
{
    VnicConfParseCtx ctx = { def->family };

    for (xmlNode *devices = root->children; devices != NULL; devices = devices->next) {
        if (devices->type != XML_ELEMENT_NODE || !vnic_conf_xml_is(devices, "devices"))
            continue;
        if (!parse_emulator(def, devices, error))
            return FALSE;
        for (xmlNode *cur = devices->children; cur != NULL; cur = cur->next) {
            VnicConfDevice *dev;

            if (cur->type != XML_ELEMENT_NODE || vnic_conf_xml_is(cur, "emulator"))
                continue;
            dev = vnic_conf_parse_device(&ctx, cur, error);
            if (dev == NULL) {
                g_prefix_error(error, "%s #%u: ", (const char *) cur->name,
                               element_ordinal(cur));
                return FALSE;
            }
            g_ptr_array_add(def->devices, dev);
        }
    }
    return TRUE;
}

/* What the devices seen so far use, for the checks that span devices
 * (MACs and ACPI indexes of NICs, aliases, disk targets): each value maps to
 * the position of the first device that uses it, so checking a domain is
 * linear in its devices (comparing every pair was quadratic: 1000 NICs,
 * half a million pairs).  Positions are stored plus one (0: none). */
typedef struct {
    GHashTable *aliases;   /* alias -> AliasUse */
    GHashTable *targets;   /* <target dev> of a disk -> position + 1 */
    GHashTable *macs;      /* a NIC's MAC as gint64 -> position + 1 */
    GHashTable *acpi;      /* a NIC's <acpi index> -> position + 1 */
} DeviceIndex;

/* libvirt's live XML gives the <console> that stands for a serial port
 * that port's alias (both <alias name='serial0'/>): one device, one id.  So
 * an alias remembers its first user, and its first that is not a serial
 * (what a serial clashes with besides) and not a console. */
typedef struct {
    guint first, first_not_serial, first_not_console;   /* position + 1 */
} AliasUse;

static void
device_index_init(DeviceIndex *idx)
{
    idx->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    idx->targets = g_hash_table_new(g_str_hash, g_str_equal);
    idx->macs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    idx->acpi = g_hash_table_new(g_direct_hash, g_direct_equal);
}

static void
device_index_clear(DeviceIndex *idx)
{
    g_hash_table_unref(idx->aliases);
    g_hash_table_unref(idx->targets);
    g_hash_table_unref(idx->macs);
    g_hash_table_unref(idx->acpi);
}

static gint64
mac_key(const guint8 mac[6])
{
    gint64 key = 0;

    for (guint i = 0; i < 6; i++)
        key = (key << 8) | mac[i];
    return key;
}

static gboolean
has_disk_target(const VnicConfDevice *dev)
{
    return dev->kind == VNIC_CONF_DEV_DISK && dev->disk->target_dev != NULL;
}

/* The position + 1 of the first device @dev's alias clashes with, or 0. */
static guint
alias_clash(const DeviceIndex *idx, const VnicConfDevice *dev)
{
    const AliasUse *use = dev->alias != NULL ? g_hash_table_lookup(idx->aliases, dev->alias) : NULL;

    if (use == NULL)
        return 0;
    if (dev->kind == VNIC_CONF_DEV_CONSOLE)
        return use->first_not_serial;
    if (dev->kind == VNIC_CONF_DEV_SERIAL)
        return use->first_not_console;
    return use->first;
}

/* @pos + 1 into @table under @key unless a device before had it. */
static void
remember(GHashTable *table, gpointer key, guint pos)
{
    if (!g_hash_table_contains(table, key))
        g_hash_table_insert(table, key, GUINT_TO_POINTER(pos + 1));
}

static void
device_index_add(DeviceIndex *idx, const VnicConfDevice *dev, guint pos)
{
    if (dev->alias != NULL) {
        AliasUse *use = g_hash_table_lookup(idx->aliases, dev->alias);

        if (use == NULL) {
            use = g_new0(AliasUse, 1);
            g_hash_table_insert(idx->aliases, dev->alias, use);
        }
        if (use->first == 0)
            use->first = pos + 1;
        if (use->first_not_serial == 0 && dev->kind != VNIC_CONF_DEV_SERIAL)
            use->first_not_serial = pos + 1;
        if (use->first_not_console == 0 && dev->kind != VNIC_CONF_DEV_CONSOLE)
            use->first_not_console = pos + 1;
    }
    if (has_disk_target(dev))
        remember(idx->targets, dev->disk->target_dev, pos);
    if (!vnic_conf_device_is_nic(dev))
        return;
    if (dev->nic->has_mac) {
        gint64 key = mac_key(dev->nic->mac);

        if (!g_hash_table_contains(idx->macs, &key))
            g_hash_table_insert(idx->macs, g_memdup2(&key, sizeof key), GUINT_TO_POINTER(pos + 1));
    }
    if (dev->nic->acpi_index != 0)
        remember(idx->acpi, GUINT_TO_POINTER(dev->nic->acpi_index), pos);
}

/* What of a device clashed, in the order a clash with one earlier device
 * is reported. */
typedef enum { CLASH_ALIAS, CLASH_TARGET, CLASH_MAC, CLASH_ACPI } Clash;

/* Keeps the earliest clash: @pos (position + 1, 0: none) of @what when it
 * comes before *@best.  Called in the order of Clash, so a tie (two values
 * of one earlier device) keeps the first. */
static void
earliest(guint pos, Clash what, guint *best, Clash *best_what)
{
    if (pos != 0 && (*best == 0 || pos < *best)) {
        *best = pos;
        *best_what = what;
    }
}

static char *
clash_describe(const VnicConfDevice *dev, Clash what)
{
    g_autofree char *mac = NULL;

    switch (what) {
    case CLASH_ALIAS:
        return g_strdup_printf("<alias name='%s'>", dev->alias);
    case CLASH_TARGET:
        return g_strdup_printf("<target dev='%s'>", dev->disk->target_dev);
    case CLASH_MAC:
        mac = vnic_conf_mac_format(dev->nic->mac);
        return g_strdup_printf("<mac address='%s'>", mac);
    case CLASH_ACPI:
    default:
        return g_strdup_printf("<acpi index='%u'>", dev->nic->acpi_index);
    }
}

/* Checks @dev against the devices @idx holds (of @def, which @dev is not
 * part of yet): the first earlier device it clashes with, as a scan of
 * them in order would find it. */
static gboolean
check_against(const VnicConfDomain *def, const DeviceIndex *idx, const VnicConfDevice *dev,
              GError **error)
{
    guint best = 0;
    Clash what = CLASH_ALIAS;
    g_autofree char *value = NULL;
    g_autofree char *label = NULL;

    earliest(alias_clash(idx, dev), CLASH_ALIAS, &best, &what);
    if (has_disk_target(dev))
        earliest(GPOINTER_TO_UINT(g_hash_table_lookup(idx->targets, dev->disk->target_dev)),
                 CLASH_TARGET, &best, &what);
    if (vnic_conf_device_is_nic(dev) && dev->nic->has_mac) {
        gint64 key = mac_key(dev->nic->mac);

        earliest(GPOINTER_TO_UINT(g_hash_table_lookup(idx->macs, &key)), CLASH_MAC, &best, &what);
    }
    if (vnic_conf_device_is_nic(dev) && dev->nic->acpi_index != 0)
        earliest(GPOINTER_TO_UINT(g_hash_table_lookup(idx->acpi,
                                                      GUINT_TO_POINTER(dev->nic->acpi_index))),
                 CLASH_ACPI, &best, &what);
    if (best == 0)
        return TRUE;
    value = clash_describe(dev, what);
    label = vnic_conf_device_describe(def, g_ptr_array_index(def->devices, best - 1));
    g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT, "%s is already used by %s",
                value, label);
    return FALSE;
}

static gboolean
check_devices(const VnicConfDomain *def, GError **error)
{
    DeviceIndex idx;
    gboolean ok = TRUE;

    device_index_init(&idx);
    for (guint i = 0; ok && i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        ok = check_against(def, &idx, dev, error);
        if (!ok) {
            g_autofree char *label = vnic_conf_device_label(def, dev);

            g_prefix_error(error, "%s: ", label);
        }
        device_index_add(&idx, dev, i);
    }
    device_index_clear(&idx);
    return ok && vnic_conf_check_placed_devices(def, error);
}

/* @dev (a new NIC) against every device of @def. */
static gboolean
check_new_device(const VnicConfDomain *def, const VnicConfDevice *dev, GError **error)
{
    DeviceIndex idx;
    gboolean ok;

    device_index_init(&idx);
    for (guint i = 0; i < def->devices->len; i++)
        device_index_add(&idx, g_ptr_array_index(def->devices, i), i);
    ok = check_against(def, &idx, dev, error);
    device_index_clear(&idx);
    return ok;
}

VnicConfDomain *
vnic_conf_domain_parse(const char *xml, gsize len, GError **error)
{
    g_autoptr(VnicConfDomain) def = NULL;
    xmlNode *root;

    g_return_val_if_fail(xml != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    def = vnic_conf_domain_new();
    def->doc = vnic_conf_xml_read(xml, len, error);
    if (def->doc == NULL)
        return NULL;
    root = xmlDocGetRootElement(def->doc);
    if (!parse_root(def, root, error) || !parse_name_uuid(def, root, error) ||
        !parse_memory(def, root, error) || !parse_vcpu(def, root, error) ||
        !parse_os(def, root, error) || !parse_features(def, root, error) ||
        !parse_vnic_elements(def, root, error) || !parse_devices(def, root, error) ||
        !vnic_conf_resolve_controllers(def, error) || !check_devices(def, error) ||
        !vnic_conf_check_rules(def, error) ||
        !vnic_conf_check_vhostuser_memory(def, root, error))
        return NULL;
    vnic_conf_domain_add_defaults(def);
    return g_steal_pointer(&def);
}

gboolean
vnic_conf_interface_check(const VnicConfDomain *def, const VnicConfDevice *dev, GError **error)
{
    if (check_new_device(def, dev, error))
        return TRUE;
    g_prefix_error(error, "interface: ");
    return FALSE;
}

VnicConfDevice *
vnic_conf_interface_parse(const VnicConfDomain *def, const char *xml, gsize len,
                          GError **error)
{
    VnicConfParseCtx ctx = { def != NULL ? def->family : VNIC_MACHINE_PC };
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(VnicConfDevice) dev = NULL;
    xmlNode *root;

    g_return_val_if_fail(xml != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    doc = vnic_conf_xml_read(xml, len, error);
    if (doc == NULL)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!vnic_conf_xml_is(root, "interface")) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "the root element is <%s>, expected <interface>", (const char *) root->name);
        return NULL;
    }
    dev = vnic_conf_parse_device(&ctx, root, error);
    if (dev == NULL || (def != NULL && !check_new_device(def, dev, error))) {
        g_prefix_error(error, "interface: ");
        return NULL;
    }
    dev->doc = g_steal_pointer(&doc);
    return g_steal_pointer(&dev);
}
