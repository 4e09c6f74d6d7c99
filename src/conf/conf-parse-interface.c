/* conf-parse-interface.c: <interface> into VnicConfNic.
 *
 * Models what vnic needs to plug a NIC (type, MAC, source, host-side name,
 * model, queues, link state, MTU, ACPI index, vnic's <vnic:unplug> and
 * <vnic:reconnect>); all
 * other children and attributes stay in the element and are written back
 * verbatim.  Defaults are libvirt's: direct mode vepa, model rtl8139 on x86.
 * Checks that span several NICs (duplicate MACs, ACPI indexes) are done by
 * the caller, which sees the whole domain.
 */
#include "conf/conf-priv.h"

#include <string.h>

/* libvirt 9 on x86 picks rtl8139 when QEMU has it (it always does here). */
#define VNIC_CONF_DEFAULT_NIC_MODEL "rtl8139"

/* libvirt 9.0's interface types vnic places and carries but does not run:
 * the QEMU launcher refuses them (so vnicd's define does, naming the
 * reason), while `vnic plan` still plans the domain for libvirt. */
static const char *const other_types[] = {
    "user", "hostdev", "vdpa", "server", "client", "mcast", "udp", "internal", "null", "vds", NULL,
};

static gboolean
parse_type(xmlNode *node, VnicConfNic *nic, GError **error)
{
    static const struct {
        const char *name;
        VnicConfNicType type;
    } types[] = {
        { "ethernet", VNIC_CONF_NIC_ETHERNET }, { "bridge", VNIC_CONF_NIC_BRIDGE },
        { "direct", VNIC_CONF_NIC_DIRECT },     { "network", VNIC_CONF_NIC_NETWORK },
        { "vhostuser", VNIC_CONF_NIC_VHOSTUSER },
    };
    g_autofree char *type = vnic_conf_xml_prop(node, "type");

    if (type == NULL)
        return vnic_conf_xml_missing_attr(node, "type", error);
    for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
        if (strcmp(type, types[i].name) == 0) {
            nic->type = types[i].type;
            return TRUE;
        }
    }
    if (g_strv_contains(other_types, type)) {
        nic->type = VNIC_CONF_NIC_OTHER;
        nic->other_type = g_steal_pointer(&type);
        return TRUE;
    }
    g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                "unknown value '%s' for <interface type>: libvirt has no such interface type",
                type);
    return FALSE;
}

static gboolean
parse_mac(xmlNode *node, VnicConfNic *nic, GError **error)
{
    g_autofree char *text = NULL;
    xmlNode *mac;

    if (!vnic_conf_xml_single_child(node, "mac", &mac, error))
        return FALSE;
    if (mac == NULL)
        return TRUE;
    text = vnic_conf_xml_prop(mac, "address");
    if (text == NULL)
        return vnic_conf_xml_missing_attr(mac, "address", error);
    if (!vnic_conf_mac_parse(text, nic->mac)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid MAC address '%s' in <mac address>: expected six hex pairs "
                    "separated by ':'",
                    text);
        return FALSE;
    }
    if (nic->mac[0] & 0x01) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "MAC address '%s' in <mac address> is a multicast address: a NIC needs "
                    "a unicast one",
                    text);
        return FALSE;
    }
    nic->has_mac = TRUE;
    return TRUE;
}

/* A required, non-empty attribute of <source>. */
static gboolean
source_attr(xmlNode *source, const char *attr, char **out, GError **error)
{
    *out = vnic_conf_xml_prop(source, attr);
    if (*out == NULL)
        return vnic_conf_xml_missing_attr(source, attr, error);
    if (**out == '\0') {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '' for <source %s>: it must not be empty", attr);
        return FALSE;
    }
    return TRUE;
}

static const char *const direct_modes[] = { "bridge", "vepa", "private", "passthrough",
                                           NULL };

/* <source network portgroup>, plus what a running domain's network NIC
 * resolved to (bridge, or dev and mode): the status XML keeps it. */
static gboolean
parse_network_source(xmlNode *source, VnicConfNic *nic, GError **error)
{
    g_autofree char *bridge = vnic_conf_xml_prop(source, "bridge");
    g_autofree char *dev = vnic_conf_xml_prop(source, "dev");

    if (!source_attr(source, "network", &nic->network, error))
        return FALSE;
    nic->portgroup = vnic_conf_xml_prop(source, "portgroup");
    if (bridge != NULL && dev != NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<source bridge='%s'> and <source dev='%s'> together: a network "
                    "interface runs on one of them", bridge, dev);
        return FALSE;
    }
    if (dev != NULL) {
        if (!vnic_conf_xml_prop_choice(source, "mode", direct_modes, VNIC_CONF_ERROR_INVALID,
                                       &nic->source_mode, error))
            return FALSE;
        if (nic->source_mode == NULL)
            nic->source_mode = g_strdup("vepa");
    }
    nic->source = dev != NULL ? g_steal_pointer(&dev) : g_steal_pointer(&bridge);
    return TRUE;
}

/* <source type='unix' path='…' mode='client|server'/>: all three
 * required, as libvirt requires them. */
static gboolean
parse_vhostuser_source(xmlNode *source, VnicConfNic *nic, GError **error)
{
    static const char *const types[] = { "unix", NULL };
    static const char *const modes[] = { "client", "server", NULL };
    g_autofree char *type = NULL;

    if (!vnic_conf_xml_prop_choice(source, "type", types, VNIC_CONF_ERROR_UNSUPPORTED, &type,
                                   error))
        return FALSE;
    if (type == NULL)
        return vnic_conf_xml_missing_attr(source, "type", error);
    if (!source_attr(source, "path", &nic->source, error))
        return FALSE;
    if (!g_path_is_absolute(nic->source)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <source path>: a vhost-user socket path must be "
                    "absolute", nic->source);
        return FALSE;
    }
    if (!vnic_conf_xml_prop_choice(source, "mode", modes, VNIC_CONF_ERROR_INVALID,
                                   &nic->source_mode, error))
        return FALSE;
    if (nic->source_mode == NULL)
        return vnic_conf_xml_missing_attr(source, "mode", error);
    return TRUE;
}

static gboolean
parse_source(xmlNode *node, VnicConfNic *nic, GError **error)
{
    xmlNode *source;

    if (!vnic_conf_xml_single_child(node, "source", &source, error))
        return FALSE;
    /* ethernet: nothing to read; the types vnic does not run: carried */
    if (nic->type == VNIC_CONF_NIC_ETHERNET || nic->type == VNIC_CONF_NIC_OTHER)
        return TRUE;
    if (source == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<interface type='%s'> has no <source> element",
                    vnic_conf_nic_type_string(nic));
        return FALSE;
    }
    switch (nic->type) {
    case VNIC_CONF_NIC_BRIDGE:
        return source_attr(source, "bridge", &nic->source, error);
    case VNIC_CONF_NIC_NETWORK:
        return parse_network_source(source, nic, error);
    case VNIC_CONF_NIC_VHOSTUSER:
        return parse_vhostuser_source(source, nic, error);
    default:
        break;
    }
    if (!source_attr(source, "dev", &nic->source, error) ||
        !vnic_conf_xml_prop_choice(source, "mode", direct_modes, VNIC_CONF_ERROR_INVALID,
                                   &nic->source_mode, error))
        return FALSE;
    if (nic->source_mode == NULL)
        nic->source_mode = g_strdup("vepa");
    return TRUE;
}

static gboolean
ifname_is_valid(const char *name)
{
    gsize len = strlen(name);

    if (len == 0 || len > 15 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return FALSE;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '/' || g_ascii_isspace(*p))
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_target(xmlNode *node, VnicConfNic *nic, GError **error)
{
    xmlNode *target;

    if (!vnic_conf_xml_single_child(node, "target", &target, error))
        return FALSE;
    if (target == NULL)
        return TRUE;
    nic->target_dev = vnic_conf_xml_prop(target, "dev");
    if (nic->target_dev != NULL && !ifname_is_valid(nic->target_dev)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <target dev>: a host interface name has 1 to 15 "
                    "characters, no '/' and no blanks",
                    nic->target_dev);
        return FALSE;
    }
    if (!vnic_conf_xml_prop_tristate(target, "managed", "yes", "no", &nic->target_managed,
                                     error))
        return FALSE;
    if (nic->target_managed == VNIC_TRISTATE_NO && nic->target_dev == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "<target managed='no'> has no dev attribute: it must name the existing "
                    "tap to use");
        return FALSE;
    }
    if (nic->target_managed == VNIC_TRISTATE_NO && nic->type != VNIC_CONF_NIC_ETHERNET) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "<target managed='no'> on <interface type='%s'>: an existing tap is only "
                    "used for type ethernet, as in libvirt (whoever made it plugs it)",
                    vnic_conf_nic_type_string(nic));
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_model(xmlNode *node, VnicConfNic *nic, GError **error)
{
    static const char *const models[] = { "virtio", "virtio-transitional",
                                          "virtio-non-transitional", "e1000", "e1000e",
                                          "rtl8139", "vmxnet3", "ne2k_pci", "pcnet", NULL };
    xmlNode *model;

    if (!vnic_conf_xml_single_child(node, "model", &model, error))
        return FALSE;
    if (model == NULL) {
        nic->model = g_strdup(VNIC_CONF_DEFAULT_NIC_MODEL);
        return TRUE;
    }
    if (!vnic_conf_xml_prop_choice(model, "type", models, VNIC_CONF_ERROR_UNSUPPORTED,
                                   &nic->model, error))
        return FALSE;
    if (nic->model == NULL)
        return vnic_conf_xml_missing_attr(model, "type", error);
    return TRUE;
}

/* <child attr='N'/> with N in [min, max]; the attribute is required when
 * the element is there. */
static gboolean
parse_child_uint(xmlNode *node, const char *child_name, const char *attr, gboolean required,
                 guint64 min, guint64 max, guint *out, GError **error)
{
    xmlNode *child;
    guint64 value = 0;
    gboolean present = FALSE;

    if (!vnic_conf_xml_single_child(node, child_name, &child, error))
        return FALSE;
    if (child == NULL)
        return TRUE;
    if (!vnic_conf_xml_prop_uint(child, attr, FALSE, min, max, &value, &present, error))
        return FALSE;
    if (!present && required)
        return vnic_conf_xml_missing_attr(child, attr, error);
    *out = (guint) value;
    return TRUE;
}

static gboolean
parse_tuning(xmlNode *node, VnicConfNic *nic, GError **error)
{
    xmlNode *link;

    if (!parse_child_uint(node, "driver", "queues", FALSE, 1, 256, &nic->queues, error) ||
        !parse_child_uint(node, "mtu", "size", TRUE, 68, 65535, &nic->mtu, error) ||
        !parse_child_uint(node, "acpi", "index", TRUE, 1, 16383, &nic->acpi_index, error) ||
        !vnic_conf_xml_single_child(node, "link", &link, error))
        return FALSE;
    if (link != NULL &&
        !vnic_conf_xml_prop_tristate(link, "state", "up", "down", &nic->link_up, error))
        return FALSE;
    if (nic->queues > 1 && !g_str_has_prefix(nic->model, "virtio")) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<driver queues='%u'> needs a virtio model, not <model type='%s'>",
                    nic->queues, nic->model);
        return FALSE;
    }
    return TRUE;
}

/* One vnic element @name inside <interface> at most: *@out is it or NULL. */
static gboolean
single_vnic_child(xmlNode *node, const char *name, xmlNode **out, GError **error)
{
    *out = NULL;
    for (xmlNode *cur = node->children; cur != NULL; cur = cur->next) {
        if (!vnic_conf_xml_is_vnic(cur) || strcmp((const char *) cur->name, name) != 0)
            continue;
        if (*out != NULL) {
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                        "<interface> has more than one <vnic:%s> element", name);
            return FALSE;
        }
        *out = cur;
    }
    return TRUE;
}

/* <vnic:unplug guest='allow|deny'/>: whether the guest may unplug it. */
static gboolean
parse_unplug(xmlNode *node, VnicConfNic *nic, GError **error)
{
    static const char *const attrs[] = { "guest", NULL };
    xmlNode *unplug;

    if (!single_vnic_child(node, "unplug", &unplug, error))
        return FALSE;
    if (unplug == NULL)
        return TRUE;
    return vnic_conf_xml_check_attrs(unplug, attrs, error) &&
           vnic_conf_xml_prop_tristate(unplug, "guest", "allow", "deny", &nic->guest_unplug,
                                       error);
}

/* <vnic:reconnect mode='hub|replug|off'/> (domain level or in an
 * <interface>): the mode attribute, required. */
gboolean
vnic_conf_parse_reconnect_element(xmlNode *node, VnicConfReconnect *mode, GError **error)
{
    static const char *const attrs[] = { "mode", NULL };
    static const char *const modes[] = { "hub", "replug", "off", NULL };
    g_autofree char *text = NULL;

    if (!vnic_conf_xml_check_attrs(node, attrs, error) ||
        !vnic_conf_xml_prop_required_choice(node, "mode", modes, &text, error))
        return FALSE;
    return vnic_conf_reconnect_from_string(text, mode);
}

gboolean
vnic_conf_nic_reconnect_check(const VnicConfNic *nic, VnicConfReconnect mode, GError **error)
{
    VnicConfNicType backend = vnic_conf_nic_backend_type(nic);
    const char *name = vnic_conf_reconnect_to_string(mode);

    if (mode != VNIC_CONF_RECONNECT_HUB && mode != VNIC_CONF_RECONNECT_REPLUG)
        return TRUE;
    if (backend == VNIC_CONF_NIC_VHOSTUSER || backend == VNIC_CONF_NIC_OTHER) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<vnic:reconnect mode='%s'> needs a tap or macvtap backend, not "
                    "<interface type='%s'>",
                    name, vnic_conf_nic_type_string(nic));
        return FALSE;
    }
    if (mode == VNIC_CONF_RECONNECT_HUB && nic->queues > 1) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<vnic:reconnect mode='hub'> cannot go with <driver queues='%u'>: a "
                    "hubport carries one queue, so the NIC would lose the others; use "
                    "mode='replug'",
                    nic->queues);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_reconnect(xmlNode *node, VnicConfNic *nic, GError **error)
{
    xmlNode *reconnect;

    if (!single_vnic_child(node, "reconnect", &reconnect, error))
        return FALSE;
    if (reconnect == NULL)
        return TRUE;
    return vnic_conf_parse_reconnect_element(reconnect, &nic->reconnect, error) &&
           vnic_conf_nic_reconnect_check(nic, nic->reconnect, error);
}

gboolean
vnic_conf_parse_interface(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                          GError **error)
{
    VnicConfNic *nic = dev->nic;

    return parse_type(node, nic, error) && parse_mac(node, nic, error) &&
           parse_source(node, nic, error) && parse_target(node, nic, error) &&
           parse_model(node, nic, error) && parse_tuning(node, nic, error) &&
           parse_unplug(node, nic, error) && vnic_conf_parse_interface_extra(node, nic, error) &&
           parse_reconnect(node, nic, error);
}
