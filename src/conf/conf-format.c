/* conf-format.c: a VnicConfDomain back into libvirt-style XML text.
 *
 * Builds an output tree: the parsed <domain> element's attributes and
 * children are copied (everything vnic does not model comes out as it went
 * in), then the modeled fields are written into it (name, uuid, memory,
 * vcpu, os, acpi, <vnic:hotplug>, <vnic:reconnect>) and <devices> is rebuilt from
 * def->devices in their order (see conf-format-device.c): one <devices>
 * element, where the first one was, however many the input had.  A domain built by
 * code, without a document, gets every element from its fields.
 *
 * Only the domain's own elements are a tree: the devices (most of the text
 * of a big domain) are written by the overlay of conf-xml-edit.h straight
 * into the serializer's output, after <emulator>, unless a device holds
 * something the overlay leaves to the tree (namespace declarations); then
 * every device is copied into the tree as before.  Both give the same text
 * (tests/test-conf-overlay.c).
 *
 * Never fails and never changes @def; the result is stable: formatting what
 * parsing the output gives yields the same text.
 */
#include "conf/conf-priv.h"
#include "conf/conf-xml-edit.h"

static const char *const domain_order[] = {
    "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
    "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
    "iothreadids", "defaultiothread", "cputune", "numatune", "resource", "sysinfo",
    "bootloader", "bootloader_args", "os", "idmap", "features", "cpu", "clock", "on_poweroff",
    "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "devices", "seclabel", "keywrap",
    "launchSecurity", "vnic:hotplug", "vnic:reconnect", NULL,
};

static const char *const os_order[] = {
    "type", "firmware", "loader", "nvram", "init", "initarg", "initenv", "initdir", "inituser",
    "initgroup", "kernel", "initrd", "cmdline", "shim", "dtb", "acpi", "boot", "bootmenu",
    "smbios", "bios", NULL,
};

static const char *const features_order[] = {
    "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "xen", "pvspinlock",
    "capabilities", "pmu", "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo", "htm",
    "nested-hv", "msrs", "ccf-assist", "cfpc", "sbbc", "ibs", "tcg", "async-teardown", NULL,
};

/* The output <domain>: a copy of the parsed one (attributes, namespace
 * declarations, element children; <devices> without its children), or a
 * new element. */
static xmlNode *
start_root(const VnicConfDomain *def, xmlDoc *out)
{
    xmlNode *src = def->doc != NULL ? xmlDocGetRootElement(def->doc) : NULL;
    xmlNode *root;
    gboolean seen_devices = FALSE;

    if (src == NULL) {
        root = xmlNewDocNode(out, NULL, (const xmlChar *) "domain", NULL);
        xmlDocSetRootElement(out, root);
        return root;
    }
    root = xmlDocCopyNode(src, out, 2);
    xmlDocSetRootElement(out, root);
    for (xmlNode *cur = src->children; cur != NULL; cur = cur->next) {
        gboolean is_devices = cur->type == XML_ELEMENT_NODE && vnic_conf_xml_is(cur, "devices");

        /* several <devices> blocks were read as one list: write one */
        if (cur->type != XML_ELEMENT_NODE || (is_devices && seen_devices))
            continue;
        seen_devices = seen_devices || is_devices;
        xmlAddChild(root, xmlDocCopyNode(cur, out, is_devices ? 2 : 1));
    }
    return root;
}

static void
format_general(const VnicConfDomain *def, xmlNode *root)
{
    guint64 current = def->current_memory_kib != 0 ? def->current_memory_kib : def->memory_kib;
    g_autofree char *memory = g_strdup_printf("%" G_GUINT64_FORMAT, def->memory_kib);
    g_autofree char *current_text = g_strdup_printf("%" G_GUINT64_FORMAT, current);
    g_autofree char *vcpus = g_strdup_printf("%u", def->vcpus != 0 ? def->vcpus : 1);

    vnic_conf_xml_set_prop(root, "type", def->type != NULL ? def->type : "qemu");
    vnic_conf_xml_order_props(root, (const char *const[]) { "type", "id", NULL });
    vnic_conf_xml_set_child_text(root, domain_order, "name", def->name);
    vnic_conf_xml_set_child_text(root, domain_order, "uuid", def->uuid);
    vnic_conf_xml_set_child_text(root, domain_order, "memory", memory);
    vnic_conf_xml_set_child_prop(root, domain_order, "memory", "unit", "KiB");
    vnic_conf_xml_set_child_text(root, domain_order, "currentMemory", current_text);
    vnic_conf_xml_set_child_prop(root, domain_order, "currentMemory", "unit", "KiB");
    vnic_conf_xml_set_child_text(root, domain_order, "vcpu", vcpus);
}

static void
format_os(const VnicConfDomain *def, xmlNode *root)
{
    xmlNode *os = vnic_conf_xml_ensure(root, "os", domain_order);
    const char *machine = def->machine;
    xmlNode *type;

    if (machine == NULL)
        machine = def->family == VNIC_MACHINE_Q35 ? "q35" : "pc";
    vnic_conf_xml_set_child_text(os, os_order, "type", "hvm");
    type = vnic_conf_xml_find(os, "type");
    vnic_conf_xml_set_prop(type, "arch", def->arch != NULL ? def->arch : "x86_64");
    vnic_conf_xml_set_prop(type, "machine", machine);
    vnic_conf_xml_set_child_text(os, os_order, "kernel", def->kernel);
    vnic_conf_xml_set_child_text(os, os_order, "initrd", def->initrd);
    vnic_conf_xml_set_child_text(os, os_order, "cmdline", def->cmdline);
}

static void
format_features(const VnicConfDomain *def, xmlNode *root)
{
    xmlNode *features = vnic_conf_xml_find(root, "features");

    if (def->acpi) {
        if (features == NULL)
            features = vnic_conf_xml_ensure(root, "features", domain_order);
        vnic_conf_xml_ensure(features, "acpi", features_order);
        return;
    }
    if (features == NULL)
        return;
    vnic_conf_xml_remove(vnic_conf_xml_find(features, "acpi"));
    if (features->children == NULL && features->properties == NULL)
        vnic_conf_xml_remove(features);
}

/* The output <devices>, with <emulator>; the devices go in last (see
 * vnic_conf_domain_format()). */
static xmlNode *
start_devices(const VnicConfDomain *def, xmlNode *root)
{
    xmlNode *devices = vnic_conf_xml_ensure(root, "devices", domain_order);

    if (def->emulator != NULL)
        xmlNewTextChild(devices, NULL, (const xmlChar *) "emulator",
                        (const xmlChar *) def->emulator);
    return devices;
}

typedef struct {
    const VnicConfDomain *def;
    VnicConfXmlOverlay *ov;
    VnicConfFormatFlags flags;
    gboolean failed;
} DeviceWriter;

static void
write_devices(GString *out, guint depth, gpointer data)
{
    DeviceWriter *dw = data;

    for (guint i = 0; !dw->failed && i < dw->def->devices->len; i++)
        dw->failed = !vnic_conf_format_device_overlay(g_ptr_array_index(dw->def->devices, i),
                                                      dw->ov, out, depth, dw->flags);
}

/* The text, with the devices written by the overlay straight after the
 * tree's <emulator>; NULL if a device needs the tree. */
static char *
serialize_with_overlay(const VnicConfDomain *def, xmlNode *root, xmlNode *devices,
                       VnicConfFormatFlags flags)
{
    g_autoptr(VnicConfXmlOverlay) ov = vnic_conf_xml_overlay_new(root, devices);
    DeviceWriter dw = { def, ov, flags, FALSE };
    gboolean nonempty = FALSE;
    char *text;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (!vnic_conf_xml_overlay_can_write(ov, dev->node))
            return NULL;
        nonempty = nonempty || dev->node != NULL || dev->kind != VNIC_CONF_DEV_OTHER;
    }
    /* a NIC is about 200 bytes: one allocation for the whole text, usually */
    text = vnic_conf_xml_serialize_splice(root, devices, nonempty, write_devices, &dw,
                                          4096 + 256 * def->devices->len);
    if (dw.failed)
        g_clear_pointer(&text, g_free);
    return text;
}

/* Whether the output has vnic elements, which are then declared on the root
 * (as libvirt declares xmlns:qemu there). */
static gboolean
uses_vnic_ns(const VnicConfDomain *def)
{
    if (def->spare_ports >= 0 || def->guest_unplug != VNIC_TRISTATE_ABSENT ||
        def->auto_acpi_index || def->reconnect != VNIC_CONF_RECONNECT_DEFAULT)
        return TRUE;
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (vnic_conf_device_is_nic(dev) && (dev->nic->guest_unplug != VNIC_TRISTATE_ABSENT ||
                                             dev->nic->reconnect != VNIC_CONF_RECONNECT_DEFAULT))
            return TRUE;
    }
    return FALSE;
}

static void
format_hotplug(const VnicConfDomain *def, xmlNode *root)
{
    xmlNode *hotplug = vnic_conf_xml_find(root, "vnic:hotplug");
    g_autofree char *spare = NULL;
    g_autofree char *acpi = NULL;

    if (hotplug == NULL && def->spare_ports < 0 && def->guest_unplug == VNIC_TRISTATE_ABSENT &&
        !def->auto_acpi_index)
        return;
    if (hotplug == NULL)
        hotplug = vnic_conf_xml_ensure(root, "vnic:hotplug", domain_order);
    if (def->spare_ports >= 0)
        spare = g_strdup_printf("%d", def->spare_ports);
    if (def->auto_acpi_index)
        acpi = g_strdup("auto");
    else if (xmlHasNsProp(hotplug, (const xmlChar *) "acpi-index", NULL) != NULL)
        acpi = g_strdup("off");
    vnic_conf_xml_set_prop(hotplug, "spare-ports", spare);
    vnic_conf_xml_set_prop(hotplug, "guest-unplug",
                           def->guest_unplug == VNIC_TRISTATE_ABSENT ? NULL
                           : def->guest_unplug == VNIC_TRISTATE_YES  ? "allow" : "deny");
    vnic_conf_xml_set_prop(hotplug, "acpi-index", acpi);
}

/* <vnic:reconnect mode>, after <vnic:hotplug>; gone when DEFAULT. */
static void
format_reconnect(const VnicConfDomain *def, xmlNode *root)
{
    vnic_conf_xml_set_child_prop(root, domain_order, "vnic:reconnect", "mode",
                                 def->reconnect == VNIC_CONF_RECONNECT_DEFAULT
                                     ? NULL : vnic_conf_reconnect_to_string(def->reconnect));
}

/* The domain without its devices as a tree; they are written by the
 * overlay, or (@use_overlay FALSE, or a device it cannot write) added to
 * the tree. */
static char *
format_domain(const VnicConfDomain *def, VnicConfFormatFlags flags, gboolean use_overlay)
{
    g_autoptr(xmlDoc) out = xmlNewDoc((const xmlChar *) "1.0");
    xmlNode *root = start_root(def, out);
    xmlNode *devices;

    if (uses_vnic_ns(def))
        vnic_conf_xml_vnic_ns(root);
    format_general(def, root);
    format_os(def, root);
    format_features(def, root);
    devices = start_devices(def, root);
    format_hotplug(def, root);
    format_reconnect(def, root);
    if (use_overlay) {
        char *text = serialize_with_overlay(def, root, devices, flags);

        if (text != NULL)
            return text;
    }
    for (guint i = 0; i < def->devices->len; i++)
        vnic_conf_format_device_node(g_ptr_array_index(def->devices, i), out, devices, flags);
    return vnic_conf_xml_serialize(root);
}

char *
vnic_conf_domain_format(const VnicConfDomain *def, VnicConfFormatFlags flags)
{
    g_return_val_if_fail(def != NULL, NULL);

    return format_domain(def, flags, TRUE);
}

char *
vnic_conf_domain_format_tree(const VnicConfDomain *def, VnicConfFormatFlags flags)
{
    g_return_val_if_fail(def != NULL, NULL);

    return format_domain(def, flags, FALSE);
}
