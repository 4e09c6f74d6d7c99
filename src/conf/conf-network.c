/* conf-network.c: <network> into VnicConfNetwork and back.
 *
 * Modeled: <name>, <uuid>, <forward mode dev> and its <interface dev>
 * pool, <bridge name>, <portgroup name>.  Carried verbatim: <title>,
 * <description>, <metadata>, <mtu>, unknown attributes.  Refused with the
 * reason: every forward mode but bridge, vepa, private and passthrough
 * (nat, route, open, hostdev, and no <forward>: libvirt makes the bridge
 * and runs dnsmasq for those), <ip>, <dns>, <domain>, <route>, <mac>,
 * <bandwidth>, <virtualport>, <vlan>, <nat>, <pf>, <address> and
 * <portgroup> contents (vnic would not apply them).  Pure: no I/O.
 */
#include "conf/conf-network.h"
#include "conf/conf-priv.h"
#include "conf/conf-xml-cleanup.h"

#include <string.h>

static gboolean
refuse_child(xmlNode *node, const char *reason, GError **error)
{
    g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                "network: <%s> is not supported: %s", (const char *) node->name, reason);
    return FALSE;
}

static gboolean
parse_forward_children(VnicConfNetwork *net, xmlNode *forward, GError **error)
{
    for (xmlNode *cur = forward->children; cur != NULL; cur = cur->next) {
        g_autofree char *dev = NULL;

        if (cur->type != XML_ELEMENT_NODE)
            continue;
        if (!vnic_conf_xml_is(cur, "interface"))
            return refuse_child(cur, "vnic's networks use host NICs by name only "
                                     "(<forward><interface dev>)", error);
        dev = vnic_conf_xml_prop(cur, "dev");
        if (dev == NULL || *dev == '\0') {
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                        "network: <forward><interface> has no dev attribute");
            return FALSE;
        }
        g_ptr_array_add(net->devs, g_steal_pointer(&dev));
    }
    return TRUE;
}

static gboolean
parse_forward(VnicConfNetwork *net, xmlNode *root, GError **error)
{
    static const char *const modes[] = { "nat", "route", "open", "bridge", "private",
                                         "vepa", "passthrough", "hostdev", NULL };
    xmlNode *forward;
    g_autofree char *dev = NULL;

    if (!vnic_conf_xml_single_child(root, "forward", &forward, error))
        return FALSE;
    if (forward == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "network '%s': an isolated network (no <forward>) is not supported: "
                    "libvirt creates its bridge and runs dnsmasq, vnic only uses existing "
                    "host bridges and NICs", net->name);
        return FALSE;
    }
    if (!vnic_conf_xml_prop_choice(forward, "mode", modes, VNIC_CONF_ERROR_INVALID, &net->mode,
                                   error))
        return FALSE;
    if (net->mode == NULL || strcmp(net->mode, "nat") == 0 ||
        strcmp(net->mode, "route") == 0 || strcmp(net->mode, "open") == 0 ||
        strcmp(net->mode, "hostdev") == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "network '%s': <forward mode='%s'> is not supported: %s", net->name,
                    net->mode != NULL ? net->mode : "nat",
                    net->mode != NULL && strcmp(net->mode, "hostdev") == 0
                        ? "PCI passthrough is not supported"
                        : "libvirt creates its bridge and runs dnsmasq for it; vnic networks "
                          "are mode 'bridge' (an existing bridge or host NICs), 'vepa', "
                          "'private' or 'passthrough'");
        return FALSE;
    }
    if (!parse_forward_children(net, forward, error))
        return FALSE;
    dev = vnic_conf_xml_prop(forward, "dev");
    if (dev != NULL && *dev != '\0' && net->devs->len == 0)
        g_ptr_array_add(net->devs, g_steal_pointer(&dev));
    return TRUE;
}

static gboolean
parse_portgroup(VnicConfNetwork *net, xmlNode *node, GError **error)
{
    g_autofree char *name = vnic_conf_xml_prop(node, "name");

    if (name == NULL || *name == '\0') {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "network: <portgroup> has no name attribute");
        return FALSE;
    }
    for (xmlNode *cur = node->children; cur != NULL; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE) {
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                        "network: <portgroup name='%s'> with <%s> is not supported: vnic "
                        "applies no per-portgroup settings", name, (const char *) cur->name);
            return FALSE;
        }
    }
    if (vnic_conf_network_has_portgroup(net, name)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "network: <portgroup name='%s'> appears twice", name);
        return FALSE;
    }
    g_ptr_array_add(net->portgroups, g_steal_pointer(&name));
    return TRUE;
}

static gboolean
parse_children(VnicConfNetwork *net, xmlNode *root, GError **error)
{
    static const char *const carried[] = { "name", "uuid", "forward", "title", "description",
                                           "metadata", "mtu", NULL };

    for (xmlNode *cur = root->children; cur != NULL; cur = cur->next) {
        if (cur->type != XML_ELEMENT_NODE)
            continue;
        if (vnic_conf_xml_is(cur, "bridge")) {
            if (net->bridge != NULL) {
                g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                            "network: more than one <bridge> element");
                return FALSE;
            }
            net->bridge = vnic_conf_xml_prop(cur, "name");
            if (net->bridge == NULL)
                return vnic_conf_xml_missing_attr(cur, "name", error);
        } else if (vnic_conf_xml_is(cur, "portgroup")) {
            if (!parse_portgroup(net, cur, error))
                return FALSE;
        } else if (cur->ns != NULL || !g_strv_contains(carried, (const char *) cur->name)) {
            return refuse_child(cur, "vnic's networks only name existing host bridges or "
                                     "NICs; addresses, DHCP, DNS, routes and QoS are libvirt's "
                                     "own network service", error);
        }
    }
    return TRUE;
}

/* bridge mode: a bridge or a pool, not both; other modes: a pool. */
static gboolean
check_kind(VnicConfNetwork *net, GError **error)
{
    gboolean bridge_mode = strcmp(net->mode, "bridge") == 0;

    if (net->bridge != NULL && (net->devs->len > 0 || !bridge_mode)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "network '%s': <bridge name='%s'> goes with <forward mode='bridge'> and "
                    "no <forward><interface>", net->name, net->bridge);
        return FALSE;
    }
    if (net->bridge == NULL && net->devs->len == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "network '%s': <forward mode='%s'> needs %s<forward><interface dev>",
                    net->name, net->mode, bridge_mode ? "<bridge name> or " : "");
        return FALSE;
    }
    net->kind = net->bridge != NULL ? VNIC_CONF_NET_BRIDGE : VNIC_CONF_NET_MACVTAP;
    return TRUE;
}

static gboolean
parse_name(VnicConfNetwork *net, xmlNode *root, GError **error)
{
    xmlNode *name, *uuid;

    if (!vnic_conf_xml_single_child(root, "name", &name, error) ||
        !vnic_conf_xml_single_child(root, "uuid", &uuid, error))
        return FALSE;
    if (name == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "network: no <name> element");
        return FALSE;
    }
    net->name = g_strstrip(vnic_conf_xml_text(name));
    if (*net->name == '\0' || strchr(net->name, '/') != NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "network: invalid value '%s' for <name>: it must be non-empty and have "
                    "no '/'", net->name);
        return FALSE;
    }
    if (uuid != NULL) {
        g_autofree char *text = vnic_conf_xml_text(uuid);
        net->uuid = g_ascii_strdown(g_strstrip(text), -1);
    }
    if (net->uuid != NULL && !g_uuid_string_is_valid(net->uuid)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "network '%s': invalid value '%s' for <uuid>: expected 8-4-4-4-12 hex "
                    "digits", net->name, net->uuid);
        return FALSE;
    }
    return TRUE;
}

VnicConfNetwork *
vnic_conf_network_parse(const char *xml, gsize len, GError **error)
{
    g_autoptr(VnicConfNetwork) net = g_new0(VnicConfNetwork, 1);
    xmlNode *root;

    net->devs = g_ptr_array_new_with_free_func(g_free);
    net->portgroups = g_ptr_array_new_with_free_func(g_free);
    if (!(net->doc = vnic_conf_xml_read(xml, len, error)))
        return NULL;
    root = xmlDocGetRootElement(net->doc);
    if (root == NULL || !vnic_conf_xml_is(root, "network")) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "the root element is <%s>, expected <network>",
                    root != NULL ? (const char *) root->name : "");
        return NULL;
    }
    if (!parse_name(net, root, error) || !parse_forward(net, root, error) ||
        !parse_children(net, root, error) || !check_kind(net, error))
        return NULL;
    return g_steal_pointer(&net);
}

void
vnic_conf_network_free(VnicConfNetwork *net)
{
    if (net == NULL)
        return;
    if (net->doc != NULL)
        xmlFreeDoc(net->doc);
    g_free(net->name);
    g_free(net->uuid);
    g_free(net->mode);
    g_free(net->bridge);
    if (net->devs != NULL)
        g_ptr_array_unref(net->devs);
    if (net->portgroups != NULL)
        g_ptr_array_unref(net->portgroups);
    g_free(net);
}

void
vnic_conf_network_set_uuid(VnicConfNetwork *net, const char *uuid)
{
    g_free(net->uuid);
    net->uuid = g_strdup(uuid);
}

gboolean
vnic_conf_network_has_portgroup(const VnicConfNetwork *net, const char *name)
{
    for (guint i = 0; i < net->portgroups->len; i++) {
        if (g_strcmp0(g_ptr_array_index(net->portgroups, i), name) == 0)
            return TRUE;
    }
    return FALSE;
}

char *
vnic_conf_network_format(const VnicConfNetwork *net)
{
    static const char *const order[] = { "name", "uuid", "forward", "bridge", NULL };
    g_autoptr(xmlDoc) copy = xmlCopyDoc(net->doc, 1);
    xmlNode *root = xmlDocGetRootElement(copy);

    vnic_conf_xml_set_child_text(root, order, "uuid", net->uuid);
    vnic_conf_xml_set_prop(vnic_conf_xml_find(root, "forward"), "mode", net->mode);
    return vnic_conf_xml_serialize(root);
}
