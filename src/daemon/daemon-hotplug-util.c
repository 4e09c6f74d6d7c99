/* daemon-hotplug-util.c: what attach and detach requests have in common:
 * virsh's --live/--config, the <interface> a request describes, MACs, and
 * the memory of detached NICs that `replug` brings back. */
#include "daemon/daemon-hotplug.h"
#include "conf/conf-iface-build.h"

#include <string.h>

static gboolean
invalid_state(GError **error, const VnicDomain *dom)
{
    g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                "domain '%s' is not running (%s): use --config to change its definition",
                dom->name, vnic_domain_state_to_string(dom->state));
    return FALSE;
}

gboolean
vnic_hotplug_resolve_flags(VnicDomain *dom, VnicApiRequest *request, gboolean *live,
                           gboolean *config, GError **error)
{
    gboolean running = dom->state == VNIC_DOMAIN_RUNNING && dom->process;

    gboolean persistent = FALSE;

    *live = *config = FALSE;
    if (!vnic_api_arg_bool(request, "live", live, error) ||
        !vnic_api_arg_bool(request, "config", config, error) ||
        !vnic_api_arg_bool(request, "persistent", &persistent, error))
        return FALSE;
    /* virsh's --persistent: the config, and the running guest if it runs */
    if (persistent) {
        *config = TRUE;
        *live = *live || running;
    }
    if (!*live && !*config) {
        *live = running;
        *config = !running;
    }
    if (*live && !running)
        return invalid_state(error, dom);
    return TRUE;
}

/* An "inbound"/"outbound" argument, "average[,peak[,burst]]". */
static gboolean
rate_arg(VnicApiRequest *request, const char *member, VnicConfRate *rate, GError **error)
{
    const char *text = NULL;
    g_autofree char *what = g_strdup_printf("argument '%s'", member);

    if (!vnic_api_arg_string(request, member, FALSE, &text, error))
        return FALSE;
    if (text == NULL)
        return TRUE;
    if (vnic_conf_rate_parse(text, what, rate, error))
        return TRUE;
    (*error)->domain = VNIC_DAEMON_ERROR;
    (*error)->code = VNIC_DAEMON_ERROR_INVALID_ARGUMENTS;
    return FALSE;
}

static char *
interface_from_args(VnicApiRequest *request, GError **error)
{
    VnicConfIfaceSpec spec = { 0 };
    gint64 acpi = 0;
    char *xml;

    if (!vnic_api_arg_string(request, "type", TRUE, &spec.type, error) ||
        !vnic_api_arg_string(request, "source", FALSE, &spec.source, error) ||
        !vnic_api_arg_string(request, "mode", FALSE, &spec.mode, error) ||
        !vnic_api_arg_string(request, "model", FALSE, &spec.model, error) ||
        !vnic_api_arg_string(request, "mac", FALSE, &spec.mac, error) ||
        !vnic_api_arg_string(request, "target", FALSE, &spec.target, error) ||
        !vnic_api_arg_string(request, "alias", FALSE, &spec.alias, error) ||
        !vnic_api_arg_int(request, "acpi-index", 1, 16383, &acpi, error) ||
        !rate_arg(request, "inbound", &spec.inbound, error) ||
        !rate_arg(request, "outbound", &spec.outbound, error))
        return NULL;
    spec.acpi_index = (guint) acpi;
    if (!(xml = vnic_conf_iface_spec_to_xml(&spec, error))) {
        g_prefix_error(error, "attach-interface: ");
        (*error)->domain = VNIC_DAEMON_ERROR;
        (*error)->code = VNIC_DAEMON_ERROR_INVALID_ARGUMENTS;
    }
    return xml;
}

static char *
replug_xml(VnicDomain *dom, VnicApiRequest *request, GError **error)
{
    const char *mac = NULL;
    guint8 bytes[6];
    g_autofree char *key = NULL;
    const char *xml;

    if (!vnic_api_arg_string(request, "mac", TRUE, &mac, error))
        return NULL;
    if (!vnic_conf_mac_parse(mac, bytes)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "argument 'mac': invalid MAC address '%s'", mac);
        return NULL;
    }
    key = vnic_conf_mac_format(bytes);
    xml = dom->removed ? g_hash_table_lookup(dom->removed, key) : NULL;
    if (!xml) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "no NIC with MAC %s was detached from domain '%s' since vnicd started: "
                    "nothing to replug", key, dom->name);
        return NULL;
    }
    return g_strdup(xml);
}

char *
vnic_hotplug_request_xml(VnicDomain *dom, VnicApiRequest *request, GError **error)
{
    const char *xml = NULL;
    gboolean replug = FALSE;

    if (strcmp(vnic_api_request_get_command(request), "attach-device") == 0)
        return vnic_api_arg_string(request, "xml", TRUE, &xml, error) ? g_strdup(xml) : NULL;
    if (!vnic_api_arg_bool(request, "replug", &replug, error))
        return NULL;
    return replug ? replug_xml(dom, request, error) : interface_from_args(request, error);
}

gboolean
vnic_hotplug_small_xml_arg(VnicApiRequest *request, const char **xml, GError **error)
{
    gsize len;

    if (!vnic_api_arg_string(request, "xml", TRUE, xml, error))
        return FALSE;
    len = strlen(*xml);
    if (len > VNIC_OFF_LOOP_INLINE_MAX) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "%s: argument 'xml' is %" G_GSIZE_FORMAT " bytes, more than the %d an "
                    "<interface> may have", vnic_api_request_get_command(request), len,
                    VNIC_OFF_LOOP_INLINE_MAX);
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_hotplug_check_unplug_setting(const VnicConfDomain *def, const VnicConfDevice *dev,
                                  GError **error)
{
    VnicTristate t = dev->nic->guest_unplug != VNIC_TRISTATE_ABSENT ? dev->nic->guest_unplug
                                                                     : def->guest_unplug;

    if (t != VNIC_TRISTATE_NO)
        return TRUE;
    g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                "a NIC whose guest unplug is denied cannot be hot-plugged: it needs a slot "
                "without hot-plug (an integrated endpoint on q35; on pc pci.0 with hot-plug off or "
                "a pci-bridge without hot-plug); add it with --config and restart the domain, or allow guest unplug "
                "(<vnic:unplug guest='allow'/>)");
    return FALSE;
}

static gboolean
mac_used(const VnicConfDomain *def, const guint8 mac[6])
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_INTERFACE && d->nic->has_mac && memcmp(d->nic->mac, mac, 6) == 0)
            return TRUE;
    }
    return FALSE;
}

void
vnic_hotplug_assign_mac(const VnicConfDomain *def, VnicConfDevice *dev, GRand *rand)
{
    guint8 mac[6] = { 0x52, 0x54, 0x00 };

    do {
        for (guint i = 3; i < 6; i++)
            mac[i] = (guint8)g_rand_int_range(rand, 0, 256);
    } while (mac_used(def, mac));
    memcpy(dev->nic->mac, mac, 6);
    dev->nic->has_mac = TRUE;
}

void
vnic_hotplug_remember(VnicDomain *dom, const VnicConfDevice *dev)
{
    if (!dev->nic->has_mac)
        return;
    if (!dom->removed)
        dom->removed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    /* inactive form: no autogenerated host name, no alias; slot and MAC kept */
    g_hash_table_replace(dom->removed, vnic_conf_mac_format(dev->nic->mac),
                         vnic_conf_device_format(dev, VNIC_CONF_FORMAT_INACTIVE));
}
