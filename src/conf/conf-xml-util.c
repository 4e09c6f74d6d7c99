/* conf-xml-util.c: reading XML text and typed attribute access.
 *
 * Owns the libxml2 parser settings of the conf layer: no network, no DTD,
 * no entity loading (a DOCTYPE is refused outright), parser messages kept
 * off stderr and turned into a VNIC_CONF_ERROR_XML GError.  Attribute
 * readers report errors naming the element, the attribute and the quoted
 * value.  Nothing here touches files, the environment or the clock.
 */
#include "conf/conf-xml-util.h"

#include <string.h>

#define VNIC_CONF_XML_OPTIONS \
    (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | \
     XML_PARSE_NOWARNING)

static void
set_xml_error(xmlParserCtxt *ctxt, GError **error)
{
    const xmlError *err = xmlCtxtGetLastError(ctxt);
    g_autofree char *msg = NULL;

    if (err == NULL || err->message == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML, "not well-formed XML");
        return;
    }
    msg = g_strstrip(g_strdup(err->message));
    g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML, "XML error at line %d: %s",
                err->line, msg);
}

xmlDoc *
vnic_conf_xml_read(const char *xml, gsize len, GError **error)
{
    g_autoptr(xmlParserCtxt) ctxt = NULL;
    g_autoptr(xmlDoc) doc = NULL;

    g_return_val_if_fail(xml != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!vnic_conf_xml_check_limits(xml, len, &VNIC_CONF_XML_LIMITS_DEFAULT, error))
        return NULL;
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        g_error("libxml2 could not allocate a parser context");

    doc = xmlCtxtReadMemory(ctxt, xml, (int) len, "domain.xml", NULL, VNIC_CONF_XML_OPTIONS);
    if (doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed) {
        set_xml_error(ctxt, error);
        return NULL;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML,
                    "XML with a DOCTYPE declaration is not accepted");
        return NULL;
    }
    if (xmlDocGetRootElement(doc) == NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML, "XML has no root element");
        return NULL;
    }
    return g_steal_pointer(&doc);
}

gboolean
vnic_conf_xml_is(const xmlNode *node, const char *name)
{
    return node != NULL && node->type == XML_ELEMENT_NODE && node->ns == NULL &&
           strcmp((const char *) node->name, name) == 0;
}

gboolean
vnic_conf_xml_is_vnic(const xmlNode *node)
{
    return node != NULL && node->type == XML_ELEMENT_NODE && node->ns != NULL &&
           node->ns->href != NULL && strcmp((const char *) node->ns->href, VNIC_CONF_NS) == 0;
}

char *
vnic_conf_xml_qname(const xmlNode *node)
{
    if (node->ns != NULL && node->ns->prefix != NULL)
        return g_strdup_printf("%s:%s", (const char *) node->ns->prefix, (const char *) node->name);
    return g_strdup((const char *) node->name);
}

char *
vnic_conf_xml_prop(const xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetNoNsProp(node, (const xmlChar *) name);
    char *copy;

    if (value == NULL)
        return NULL;
    copy = g_strdup((const char *) value);
    xmlFree(value);
    return copy;
}

char *
vnic_conf_xml_text(const xmlNode *node)
{
    xmlChar *value = xmlNodeGetContent(node);
    char *copy = g_strdup(value != NULL ? (const char *) value : "");

    xmlFree(value);
    return copy;
}

xmlNode *
vnic_conf_xml_child(const xmlNode *parent, const char *name)
{
    for (xmlNode *cur = parent->children; cur != NULL; cur = cur->next) {
        if (vnic_conf_xml_is(cur, name))
            return cur;
    }
    return NULL;
}

gboolean
vnic_conf_xml_single_child(const xmlNode *parent, const char *name, xmlNode **out,
                           GError **error)
{
    xmlNode *found = vnic_conf_xml_child(parent, name);

    *out = found;
    if (found == NULL)
        return TRUE;
    for (xmlNode *cur = found->next; cur != NULL; cur = cur->next) {
        if (vnic_conf_xml_is(cur, name)) {
            g_autofree char *qname = vnic_conf_xml_qname(parent);

            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                        "<%s> has more than one <%s> element", qname, name);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
vnic_conf_xml_parse_uint(const char *text, gboolean allow_hex, guint64 min, guint64 max,
                         guint64 *out)
{
    guint base = 10;
    const char *digits = text;

    if (text == NULL)
        return FALSE;
    if (allow_hex && (g_str_has_prefix(text, "0x") || g_str_has_prefix(text, "0X"))) {
        base = 16;
        digits = text + 2;
    }
    if (*digits == '\0')
        return FALSE;
    for (const char *p = digits; *p != '\0'; p++) {
        if (base == 16 ? !g_ascii_isxdigit(*p) : !g_ascii_isdigit(*p))
            return FALSE;
    }
    /* Only the digits: every character was checked above. */
    return g_ascii_string_to_unsigned(digits, base, min, max, out, NULL);
}

gboolean
vnic_conf_xml_prop_uint(const xmlNode *node, const char *attr, gboolean allow_hex, guint64 min,
                        guint64 max, guint64 *out, gboolean *present, GError **error)
{
    g_autofree char *value = vnic_conf_xml_prop(node, attr);
    g_autofree char *qname = NULL;

    if (present != NULL)
        *present = value != NULL;
    if (value == NULL)
        return TRUE;
    if (!vnic_conf_xml_parse_uint(value, allow_hex, min, max, out)) {
        qname = vnic_conf_xml_qname(node);
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%s' for <%s %s>: expected an integer from %" G_GUINT64_FORMAT
                    " to %" G_GUINT64_FORMAT "%s",
                    value, qname, attr, min, max,
                    allow_hex ? " (decimal or 0x-prefixed hex)" : "");
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_xml_prop_required_choice(const xmlNode *node, const char *attr,
                                   const char *const *allowed, char **out, GError **error)
{
    if (!vnic_conf_xml_prop_choice(node, attr, allowed, VNIC_CONF_ERROR_UNSUPPORTED, out, error))
        return FALSE;
    if (*out == NULL)
        return vnic_conf_xml_missing_attr(node, attr, error);
    return TRUE;
}

gboolean
vnic_conf_xml_prop_choice(const xmlNode *node, const char *attr, const char *const *allowed,
                          VnicConfErrorCode code, char **out, GError **error)
{
    g_autofree char *value = vnic_conf_xml_prop(node, attr);
    g_autofree char *choices = NULL;
    g_autofree char *qname = NULL;

    *out = NULL;
    if (value == NULL)
        return TRUE;
    if (g_strv_contains(allowed, value)) {
        *out = g_steal_pointer(&value);
        return TRUE;
    }
    choices = g_strjoinv(", ", (char **) allowed);
    qname = vnic_conf_xml_qname(node);
    g_set_error(error, VNIC_CONF_ERROR, code,
                "%s value '%s' for <%s %s>: vnic accepts %s",
                code == VNIC_CONF_ERROR_UNSUPPORTED ? "unsupported" : "invalid", value, qname,
                attr, choices);
    return FALSE;
}

gboolean
vnic_conf_xml_prop_tristate(const xmlNode *node, const char *attr, const char *yes,
                            const char *no, VnicTristate *out, GError **error)
{
    const char *const allowed[] = { yes, no, NULL };
    g_autofree char *value = NULL;

    if (!vnic_conf_xml_prop_choice(node, attr, allowed, VNIC_CONF_ERROR_INVALID, &value, error))
        return FALSE;
    if (value == NULL)
        *out = VNIC_TRISTATE_ABSENT;
    else
        *out = strcmp(value, yes) == 0 ? VNIC_TRISTATE_YES : VNIC_TRISTATE_NO;
    return TRUE;
}

gboolean
vnic_conf_xml_missing_attr(const xmlNode *node, const char *attr, GError **error)
{
    g_autofree char *qname = vnic_conf_xml_qname(node);

    g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING, "<%s> has no %s attribute",
                qname, attr);
    return FALSE;
}

gboolean
vnic_conf_xml_check_attrs(const xmlNode *node, const char *const *allowed, GError **error)
{
    for (const xmlAttr *attr = node->properties; attr != NULL; attr = attr->next) {
        g_autofree char *qname = NULL;

        if (attr->ns == NULL && g_strv_contains(allowed, (const char *) attr->name))
            continue;
        qname = vnic_conf_xml_qname(node);
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "unknown attribute '%s' on <%s>", (const char *) attr->name, qname);
        return FALSE;
    }
    return TRUE;
}
