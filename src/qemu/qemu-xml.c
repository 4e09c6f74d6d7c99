/* qemu-xml.c: reading the parts of a domain the conf layer carries verbatim.
 *
 * The conf layer models what the planner needs and keeps everything else
 * as the XML it came in.  The launcher has to know more (a disk's format,
 * a serial's type, a channel's target name), so it reads those from the
 * device's source element with these helpers, and refuses what it does
 * not know rather than start a guest that differs from its definition.
 * Read-only: nothing here changes the document.
 */
#include "qemu/qemu-command-priv.h"

#include <stdarg.h>
#include <string.h>

char *
vnic_qemu_xml_prop(const xmlNode *node, const char *name)
{
    xmlChar *value;
    char *copy;

    if (node == NULL)
        return NULL;
    value = xmlGetNoNsProp(node, (const xmlChar *) name);
    if (value == NULL)
        return NULL;
    copy = g_strdup((const char *) value);
    xmlFree(value);
    return copy;
}

xmlNode *
vnic_qemu_xml_child(const xmlNode *node, const char *name)
{
    if (node == NULL)
        return NULL;
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && c->ns == NULL &&
            strcmp((const char *) c->name, name) == 0)
            return c;
    }
    return NULL;
}

char *
vnic_qemu_xml_child_text(const xmlNode *node, const char *name)
{
    xmlNode *child = vnic_qemu_xml_child(node, name);
    xmlChar *text;
    char *copy;

    if (child == NULL)
        return NULL;
    text = xmlNodeGetContent(child);
    copy = g_strstrip(g_strdup(text != NULL ? (const char *) text : ""));
    xmlFree(text);
    return copy;
}

void
vnic_qemu_set_error(GError **error, const VnicConfDomain *def, const VnicConfDevice *dev,
                    VnicQemuErrorCode code, const char *format, ...)
{
    g_autofree char *msg = NULL;
    g_autofree char *label = NULL;
    va_list args;

    va_start(args, format);
    msg = g_strdup_vprintf(format, args);
    va_end(args);
    if (dev != NULL)
        label = vnic_conf_device_describe(def, dev);
    if (label != NULL)
        g_set_error(error, VNIC_QEMU_ERROR, code, "%s: %s", label, msg);
    else
        g_set_error_literal(error, VNIC_QEMU_ERROR, code, msg);
}

gboolean
vnic_qemu_xml_prop_uint(const VnicConfDomain *def, const VnicConfDevice *dev,
                        const xmlNode *node, const char *attr, guint64 dflt, guint64 *out,
                        GError **error)
{
    g_autofree char *text = vnic_qemu_xml_prop(node, attr);
    guint base = 10;
    const char *digits;
    char *end = NULL;

    *out = dflt;
    if (text == NULL)
        return TRUE;
    digits = text;
    if (g_str_has_prefix(text, "0x")) {
        base = 16;
        digits = text + 2;
    }
    if (g_ascii_isxdigit(*digits))
        *out = g_ascii_strtoull(digits, &end, base);
    if (end == NULL || *end != '\0') {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_INVALID,
                            "invalid value '%s' for <%s %s>: not a number", text,
                            (const char *) node->name, attr);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_attrs(const VnicConfDomain *def, const VnicConfDevice *dev, const xmlNode *node,
            const char *const *attrs, GError **error)
{
    for (const xmlAttr *a = node->properties; a != NULL; a = a->next) {
        if (a->ns != NULL)
            continue; /* namespace declarations and foreign attributes */
        if (attrs == NULL || !g_strv_contains(attrs, (const char *) a->name)) {
            vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                                "attribute '%s' of <%s> is not supported by the QEMU launcher",
                                (const char *) a->name, (const char *) node->name);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
vnic_qemu_xml_check(const VnicConfDomain *def, const VnicConfDevice *dev, const xmlNode *node,
                    const char *const *attrs, const char *const *children, GError **error)
{
    if (node == NULL)
        return TRUE;
    if (!check_attrs(def, dev, node, attrs, error))
        return FALSE;
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns != NULL && g_strcmp0((const char *) c->ns->href, "urn:x-vnic:domain:1") == 0)
            continue;
        if (c->ns != NULL || children == NULL ||
            !g_strv_contains(children, (const char *) c->name)) {
            vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                                "<%s> in <%s> is not supported by the QEMU launcher",
                                (const char *) c->name, (const char *) node->name);
            return FALSE;
        }
    }
    return TRUE;
}
