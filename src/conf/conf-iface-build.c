/* conf-iface-build.c: an <interface> from virsh-style options, and the
 * "average,peak,burst" text of --inbound and --outbound (see the header). */
#include "conf/conf-iface-build.h"
#include "conf/conf-xml-util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* One decimal field of a rate: "" is absent (0). */
static gboolean
rate_field(const char *text, const char *what, const char *field, guint64 *out, GError **error)
{
    char *end = NULL;
    guint64 v;

    *out = 0;
    if (*text == '\0')
        return TRUE;
    if (!g_ascii_isdigit(*text) || (v = g_ascii_strtoull(text, &end, 10), *end != '\0') ||
        v > G_MAXUINT32) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "%s: invalid %s '%s': expected a decimal number up to %u", what, field, text,
                    G_MAXUINT32);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

gboolean
vnic_conf_rate_parse(const char *text, const char *what, VnicConfRate *rate, GError **error)
{
    static const char *const fields[] = { "average", "peak", "burst" };
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    guint64 values[3] = { 0 };
    guint n = g_strv_length(parts);

    if (n > G_N_ELEMENTS(fields)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "%s '%s': expected average[,peak[,burst]], not %u fields", what, text, n);
        return FALSE;
    }
    for (guint i = 0; i < n; i++) {
        if (!rate_field(parts[i], what, fields[i], &values[i], error))
            return FALSE;
    }
    if (values[0] == 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "%s '%s': the average rate must be 1 KiB/s or more", what, text);
        return FALSE;
    }
    rate->average = values[0];
    rate->peak = values[1];
    rate->burst = values[2];
    return TRUE;
}

char *
vnic_conf_rate_format(const VnicConfRate *rate)
{
    if (rate->average == 0)
        return g_strdup("0");
    if (rate->burst)
        return g_strdup_printf("%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT,
                               rate->average, rate->peak, rate->burst);
    if (rate->peak)
        return g_strdup_printf("%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT, rate->average,
                               rate->peak);
    return g_strdup_printf("%" G_GUINT64_FORMAT, rate->average);
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

/* <inbound …/> or <outbound …/>, as libvirt writes them. */
static void
append_rate(GString *s, const char *element, const VnicConfRate *rate)
{
    g_string_append_printf(s, "<%s average='%" G_GUINT64_FORMAT "'", element, rate->average);
    if (rate->peak)
        g_string_append_printf(s, " peak='%" G_GUINT64_FORMAT "'", rate->peak);
    if (rate->burst)
        g_string_append_printf(s, " burst='%" G_GUINT64_FORMAT "'", rate->burst);
    g_string_append(s, "/>");
}

static gboolean
append_source(GString *s, const VnicConfIfaceSpec *spec, GError **error)
{
    if (strcmp(spec->type, "ethernet") == 0)
        return TRUE;
    if (spec->source == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "an <interface type='%s'> needs a source (the %s)", spec->type,
                    strcmp(spec->type, "bridge") == 0   ? "bridge"
                    : strcmp(spec->type, "network") == 0 ? "network"
                                                         : "lower device");
        return FALSE;
    }
    if (strcmp(spec->type, "network") == 0)
        append_escaped(s, "\n  <source network='%s'/>", spec->source);
    else if (strcmp(spec->type, "bridge") == 0)
        append_escaped(s, "\n  <source bridge='%s'/>", spec->source);
    else
        append_escaped(s, "\n  <source dev='%s' mode='%s'/>", spec->source,
                       spec->mode ? spec->mode : "vepa");
    return TRUE;
}

char *
vnic_conf_iface_spec_to_xml(const VnicConfIfaceSpec *spec, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);

    if (spec->type == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                    "an <interface> needs a type (ethernet, bridge, direct or network)");
        return NULL;
    }
    append_escaped(s, "<interface type='%s'>", spec->type);
    if (!append_source(s, spec, error))
        return NULL;
    if (spec->mac)
        append_escaped(s, "\n  <mac address='%s'/>", spec->mac);
    if (spec->target)
        append_escaped(s, "\n  <target dev='%s'/>", spec->target);
    append_escaped(s, "\n  <model type='%s'/>", spec->model ? spec->model : "virtio");
    if (spec->inbound.average || spec->outbound.average) {
        g_string_append(s, "\n  <bandwidth>");
        if (spec->inbound.average)
            append_rate(s, "inbound", &spec->inbound);
        if (spec->outbound.average)
            append_rate(s, "outbound", &spec->outbound);
        g_string_append(s, "</bandwidth>");
    }
    if (spec->alias)
        append_escaped(s, "\n  <alias name='%s'/>", spec->alias);
    if (spec->acpi_index)
        g_string_append_printf(s, "\n  <acpi index='%u'/>", spec->acpi_index);
    g_string_append(s, "\n</interface>\n");
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* <inbound>/<outbound> under @bandwidth, as libvirt writes them. */
static void
add_rate_node(xmlNode *bandwidth, const char *element, const VnicConfRate *rate)
{
    xmlNode *node;
    char text[32];

    if (rate->average == 0)
        return;
    node = xmlNewChild(bandwidth, NULL, (const xmlChar *) element, NULL);
    g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT, rate->average);
    xmlNewProp(node, (const xmlChar *) "average", (const xmlChar *) text);
    if (rate->peak) {
        g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT, rate->peak);
        xmlNewProp(node, (const xmlChar *) "peak", (const xmlChar *) text);
    }
    if (rate->burst) {
        g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT, rate->burst);
        xmlNewProp(node, (const xmlChar *) "burst", (const xmlChar *) text);
    }
}

void
vnic_conf_nic_set_bandwidth(VnicConfDevice *dev, const VnicConfRate *inbound,
                            const VnicConfRate *outbound)
{
    xmlNode *old, *bandwidth;

    dev->nic->inbound = *inbound;
    dev->nic->outbound = *outbound;
    if (dev->node == NULL)
        return;
    /* the formatter copies <bandwidth> from the element: replace it there */
    while ((old = vnic_conf_xml_child(dev->node, "bandwidth")) != NULL) {
        xmlUnlinkNode(old);
        xmlFreeNode(old);
    }
    if (inbound->average == 0 && outbound->average == 0)
        return;
    bandwidth = xmlNewChild(dev->node, NULL, (const xmlChar *) "bandwidth", NULL);
    add_rate_node(bandwidth, "inbound", inbound);
    add_rate_node(bandwidth, "outbound", outbound);
}
