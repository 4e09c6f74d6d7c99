/* daemon-hotplug-util.c: what attach and detach requests have in common:
 * virsh's --live/--config, the <interface> a request describes, MACs, and
 * the memory of detached NICs that `replug` brings back. */
#include "daemon/daemon-hotplug.h"

#include <stdarg.h>
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

    *live = *config = FALSE;
    if (!vnic_api_arg_bool(request, "live", live, error) ||
        !vnic_api_arg_bool(request, "config", config, error))
        return FALSE;
    if (!*live && !*config) {
        *live = running;
        *config = !running;
    }
    if (*live && !running)
        return invalid_state(error, dom);
    return TRUE;
}

static gboolean
missing(GError **error, const char *what)
{
    g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS, "%s", what);
    return FALSE;
}

/* <source …/> for attach-interface's type and source. */
static char *
source_xml(const char *type, const char *source, const char *mode, GError **error)
{
    if (strcmp(type, "ethernet") == 0)
        return g_strdup("");
    if (!source) {
        missing(error, "attach-interface: type 'bridge', 'direct' and 'network' need a "
                       "'source'");
        return NULL;
    }
    if (strcmp(type, "network") == 0)
        return g_markup_printf_escaped("<source network='%s'/>", source);
    if (strcmp(type, "bridge") == 0)
        return g_markup_printf_escaped("<source bridge='%s'/>", source);
    return g_markup_printf_escaped("<source dev='%s' mode='%s'/>", source, mode ? mode : "vepa");
}

static void G_GNUC_PRINTF(2, 3)
append_escaped(GString *s, const char *format, ...)
{
    va_list args;
    g_autofree char *text = NULL;

    va_start(args, format);
    text = g_markup_vprintf_escaped(format, args);
    va_end(args);
    g_string_append(s, text);
}

static char *
interface_from_args(VnicApiRequest *request, GError **error)
{
    const char *type = NULL, *source = NULL, *mode = NULL, *model = "virtio", *mac = NULL;
    const char *target = NULL;
    gint64 acpi = 0;
    g_autofree char *src = NULL;
    g_autoptr(GString) s = g_string_new(NULL);

    if (!vnic_api_arg_string(request, "type", TRUE, &type, error) ||
        !vnic_api_arg_string(request, "source", FALSE, &source, error) ||
        !vnic_api_arg_string(request, "mode", FALSE, &mode, error) ||
        !vnic_api_arg_string(request, "model", FALSE, &model, error) ||
        !vnic_api_arg_string(request, "mac", FALSE, &mac, error) ||
        !vnic_api_arg_string(request, "target", FALSE, &target, error) ||
        !vnic_api_arg_int(request, "acpi-index", 1, 16383, &acpi, error))
        return NULL;
    if (!(src = source_xml(type, source, mode, error)))
        return NULL;
    append_escaped(s, "<interface type='%s'>", type);
    g_string_append(s, src);
    append_escaped(s, "<model type='%s'/>", model);
    if (mac)
        append_escaped(s, "<mac address='%s'/>", mac);
    if (target)
        append_escaped(s, "<target dev='%s'/>", target);
    if (acpi)
        g_string_append_printf(s, "<acpi index='%" G_GINT64_FORMAT "'/>", acpi);
    g_string_append(s, "</interface>");
    return g_string_free(g_steal_pointer(&s), FALSE);
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
vnic_hotplug_check_unplug_setting(const VnicConfDomain *def, const VnicConfDevice *dev,
                                  GError **error)
{
    VnicTristate t = dev->nic->guest_unplug != VNIC_TRISTATE_ABSENT ? dev->nic->guest_unplug
                                                                     : def->guest_unplug;

    if (t != VNIC_TRISTATE_NO)
        return TRUE;
    g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                "a NIC whose guest unplug is denied cannot be hot-plugged: it needs a slot "
                "without hot-plug (an integrated endpoint on q35, pci.0 with hot-plug off on "
                "pc); add it with --config and restart the domain, or allow guest unplug "
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
