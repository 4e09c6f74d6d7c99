/* conf-xml-write.c: tree edits and the serializer used to format XML.
 *
 * The formatter builds an output tree (copies of parsed elements with
 * vnic's fields written into them) and hands it to
 * vnic_conf_xml_serialize(), which writes it the way libvirt does:
 * two-space indentation, single-quoted attributes (namespace declarations
 * after the attributes, as libvirt writes its root), empty elements as <x/>, no XML declaration, comments and processing instructions dropped.
 * An element holding text (mixed content) is written on one line exactly as
 * it is, so parse(serialize(tree)) gives the same tree back.
 *
 * Namespaces are written where they are needed, not where the tree happens
 * to keep them: a declaration an ancestor already made is not repeated, and
 * a prefix used but not declared inside the written subtree is declared on
 * the element using it.
 */
#include "conf/conf-xml-edit.h"

#include <string.h>

/* ---- tree edits ---------------------------------------------------------- */

gboolean
vnic_conf_xml_key_matches(const xmlNode *node, const char *key)
{
    const char *name = (const char *) node->name;

    /* the first letters first: this runs for every key of an order list */
    if (key[0] == 'v' && strncmp(key, "vnic:", 5) == 0)
        return vnic_conf_xml_is_vnic(node) && name[0] == key[5] && strcmp(name, key + 5) == 0;
    return node->type == XML_ELEMENT_NODE && node->ns == NULL && name[0] == key[0] &&
           strcmp(name, key) == 0;
}

int
vnic_conf_xml_rank_of_key(const char *const *order, const char *key)
{
    for (int i = 0; order != NULL && order[i] != NULL; i++) {
        if (strcmp(order[i], key) == 0)
            return i;
    }
    return -1;
}

int
vnic_conf_xml_rank_of_node(const char *const *order, const xmlNode *node)
{
    for (int i = 0; order != NULL && order[i] != NULL; i++) {
        if (vnic_conf_xml_key_matches(node, order[i]))
            return i;
    }
    return -1;
}

xmlNs *
vnic_conf_xml_vnic_ns(xmlNode *parent)
{
    xmlNs *ns = xmlSearchNsByHref(parent->doc, parent, (const xmlChar *) VNIC_CONF_NS);
    xmlNode *top = parent;

    if (ns != NULL)
        return ns;
    while (top->parent != NULL && top->parent->type == XML_ELEMENT_NODE)
        top = top->parent;
    ns = xmlNewNs(top, (const xmlChar *) VNIC_CONF_NS, (const xmlChar *) "vnic");
    for (guint i = 1; ns == NULL && i < 100; i++) {
        g_autofree char *prefix = g_strdup_printf("vnic%u", i);

        ns = xmlNewNs(top, (const xmlChar *) VNIC_CONF_NS, (const xmlChar *) prefix);
    }
    return ns;
}

xmlNode *
vnic_conf_xml_find(const xmlNode *parent, const char *key)
{
    for (xmlNode *cur = parent->children; cur != NULL; cur = cur->next) {
        if (vnic_conf_xml_key_matches(cur, key))
            return cur;
    }
    return NULL;
}

xmlNode *
vnic_conf_xml_ensure(xmlNode *parent, const char *key, const char *const *order)
{
    xmlNode *child = vnic_conf_xml_find(parent, key);
    int rank = vnic_conf_xml_rank_of_key(order, key);
    gboolean in_vnic = g_str_has_prefix(key, "vnic:");

    if (child != NULL)
        return child;
    child = xmlNewDocNode(parent->doc, in_vnic ? vnic_conf_xml_vnic_ns(parent) : NULL,
                          (const xmlChar *) (in_vnic ? key + 5 : key), NULL);
    for (xmlNode *cur = parent->children; rank >= 0 && cur != NULL; cur = cur->next) {
        if (vnic_conf_xml_rank_of_node(order, cur) > rank)
            return xmlAddPrevSibling(cur, child);
    }
    return xmlAddChild(parent, child);
}

void
vnic_conf_xml_set_prop(xmlNode *node, const char *attr, const char *value)
{
    if (value != NULL)
        xmlSetNsProp(node, NULL, (const xmlChar *) attr, (const xmlChar *) value);
    else
        xmlUnsetNsProp(node, NULL, (const xmlChar *) attr);
}

void
vnic_conf_xml_set_child_prop(xmlNode *parent, const char *const *order, const char *key,
                             const char *attr, const char *value)
{
    xmlNode *child;

    if (value != NULL) {
        vnic_conf_xml_set_prop(vnic_conf_xml_ensure(parent, key, order), attr, value);
        return;
    }
    child = vnic_conf_xml_find(parent, key);
    if (child == NULL)
        return;
    xmlUnsetNsProp(child, NULL, (const xmlChar *) attr);
    if (child->properties == NULL && child->children == NULL)
        vnic_conf_xml_remove(child);
}

void
vnic_conf_xml_set_child_text(xmlNode *parent, const char *const *order, const char *key,
                             const char *text)
{
    xmlNode *child;

    if (text == NULL) {
        vnic_conf_xml_remove(vnic_conf_xml_find(parent, key));
        return;
    }
    child = vnic_conf_xml_ensure(parent, key, order);
    while (child->children != NULL)
        vnic_conf_xml_remove(child->children);
    if (*text != '\0')
        xmlAddChild(child, xmlNewDocText(child->doc, (const xmlChar *) text));
}

void
vnic_conf_xml_remove(xmlNode *node)
{
    if (node == NULL)
        return;
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

void
vnic_conf_xml_clear_props(xmlNode *node)
{
    while (node->properties != NULL)
        xmlRemoveProp(node->properties);
}

void
vnic_conf_xml_order_props(xmlNode *node, const char *const *order)
{
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    xmlAttr *prev = NULL;

    for (guint i = 0; order[i] != NULL; i++) {
        for (xmlAttr *attr = node->properties; attr != NULL; attr = attr->next) {
            if (attr->ns == NULL && strcmp((const char *) attr->name, order[i]) == 0)
                g_ptr_array_add(sorted, attr);
        }
    }
    for (xmlAttr *attr = node->properties; attr != NULL; attr = attr->next) {
        if (!g_ptr_array_find(sorted, attr, NULL))
            g_ptr_array_add(sorted, attr);
    }
    node->properties = NULL;
    for (guint i = 0; i < sorted->len; i++) {
        xmlAttr *attr = g_ptr_array_index(sorted, i);

        attr->prev = prev;
        attr->next = NULL;
        if (prev != NULL)
            prev->next = attr;
        else
            node->properties = attr;
        prev = attr;
    }
}

/* ---- serializer ---------------------------------------------------------- */

typedef struct {
    GString *out;
    const xmlNode *top;   /* the element being written; nothing above is in scope */
    GArray *decls;        /* of NsDecl: scratch for the element being started; NULL: */
                          /* write no declarations (the caller knows none is needed) */
    const xmlNode *splice_at;   /* see vnic_conf_xml_serialize_splice() */
    gboolean splice_nonempty;
    VnicConfXmlSpliceFunc splice;
    gpointer splice_data;
} Writer;

typedef struct {
    const xmlChar *prefix;
    const xmlChar *href;
} NsDecl;

/* What @c becomes in the output, or NULL: itself. */
static const char *
escape_of(char c, gboolean in_attr)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '\'': return "&apos;";
    case '"': return "&quot;";
    case '\r': return "&#13;";
    case '\n': return in_attr ? "&#10;" : NULL;
    case '\t': return in_attr ? "&#9;" : NULL;
    default: return NULL;
    }
}

/* Which bytes escape_of() may change: bit 0 in text, bit 1 in attributes
 * (a table, so the scan of a run costs one load a byte). */
static const guint8 special[256] = {
    ['&'] = 3, ['<'] = 3, ['>'] = 3, ['\''] = 3, ['"'] = 3, ['\r'] = 3, ['\n'] = 2, ['\t'] = 2,
};

/* @text escaped; the runs between escapes are appended whole, not one
 * character at a time. */
void
vnic_conf_xml_write_escaped(GString *out, const char *text, gboolean in_attr)
{
    const guint8 mask = in_attr ? 2 : 1;
    const char *run = text;
    const char *p = text;

    for (; *p != '\0'; p++) {
        const char *esc;

        if ((special[(guint8) *p] & mask) == 0 || (esc = escape_of(*p, in_attr)) == NULL)
            continue;
        vnic_text_append(out, run, p - run);
        vnic_conf_xml_append_str(out, esc);
        run = p + 1;
    }
    vnic_text_append(out, run, p - run);
}

char *
vnic_conf_xml_escape_attr(const char *text)
{
    GString *out = g_string_sized_new(strlen(text));

    vnic_conf_xml_write_escaped(out, text, TRUE);
    return g_string_free(out, FALSE);
}

/* The declaration of @prefix in scope at @from (within the written tree). */
static const xmlNs *
lookup_prefix(const Writer *w, const xmlNode *from, const xmlChar *prefix)
{
    for (const xmlNode *cur = from; cur != NULL && cur->type == XML_ELEMENT_NODE;
         cur = cur->parent) {
        for (const xmlNs *ns = cur->nsDef; ns != NULL; ns = ns->next) {
            if (xmlStrEqual(ns->prefix, prefix))
                return ns;
        }
        if (cur == w->top)
            break;
    }
    return NULL;
}

/* Whether @prefix is bound to @href once @decls are written on an element
 * whose parent scope is @scope.  An empty @href means "no namespace". */
static gboolean
is_bound(const Writer *w, const GArray *decls, const xmlNode *scope, const xmlChar *prefix,
         const xmlChar *href)
{
    const xmlNs *ns;

    for (guint i = 0; decls != NULL && i < decls->len; i++) {
        const NsDecl *d = &g_array_index(decls, NsDecl, i);

        if (xmlStrEqual(d->prefix, prefix))
            return xmlStrEqual(d->href, href);
    }
    ns = scope != NULL ? lookup_prefix(w, scope, prefix) : NULL;
    if (ns == NULL)
        return prefix == NULL && (href == NULL || *href == '\0');
    return xmlStrEqual(ns->href, href);
}

static void
need_ns(const Writer *w, GArray *decls, const xmlNode *scope, const xmlNs *ns)
{
    NsDecl d = { ns != NULL ? ns->prefix : NULL,
                 ns != NULL ? ns->href : (const xmlChar *) "" };

    if (d.prefix != NULL && xmlStrEqual(d.prefix, (const xmlChar *) "xml"))
        return;
    if (!is_bound(w, decls, scope, d.prefix, d.href))
        g_array_append_val(decls, d);
}

static void
collect_ns_decls(const Writer *w, const xmlNode *node, GArray *decls)
{
    const xmlNode *scope = node == w->top ? NULL : node->parent;

    for (const xmlNs *ns = node->nsDef; ns != NULL; ns = ns->next) {
        if (!is_bound(w, decls, scope, ns->prefix, ns->href)) {
            NsDecl d = { ns->prefix, ns->href };

            g_array_append_val(decls, d);
        }
    }
    need_ns(w, decls, scope, node->ns);
    for (const xmlAttr *attr = node->properties; attr != NULL; attr = attr->next) {
        if (attr->ns != NULL)
            need_ns(w, decls, scope, attr->ns);
    }
}

void
vnic_conf_xml_write_qname(GString *out, const xmlNs *ns, const char *name)
{
    if (ns != NULL && ns->prefix != NULL) {
        vnic_conf_xml_append_str(out, (const char *) ns->prefix);
        g_string_append_c(out, ':');
    }
    vnic_conf_xml_append_str(out, name);
}

/* An attribute's value: its one text child as it is (the usual case, no
 * copy), else what libxml2 makes of its children (to be freed). */
static const char *
attr_value(const xmlAttr *attr, xmlChar **to_free)
{
    const xmlNode *text = attr->children;

    *to_free = NULL;
    if (text == NULL)
        return "";
    if (text->next == NULL && text->type == XML_TEXT_NODE && text->content != NULL)
        return (const char *) text->content;
    *to_free = xmlNodeGetContent((const xmlNode *) attr);
    return *to_free != NULL ? (const char *) *to_free : "";
}

static void
write_start_tag(const Writer *w, const xmlNode *node)
{
    /* one array for the whole run, not one per element */
    GArray *decls = w->decls;

    if (decls != NULL) {
        g_array_set_size(decls, 0);
        collect_ns_decls(w, node, decls);
    }
    g_string_append_c(w->out, '<');
    vnic_conf_xml_write_qname(w->out, node->ns, (const char *) node->name);
    for (const xmlAttr *attr = node->properties; attr != NULL; attr = attr->next) {
        xmlChar *to_free;
        const char *value = attr_value(attr, &to_free);

        g_string_append_c(w->out, ' ');
        vnic_conf_xml_write_qname(w->out, attr->ns, (const char *) attr->name);
        vnic_conf_xml_append_str(w->out, "='");
        vnic_conf_xml_write_escaped(w->out, value, TRUE);
        g_string_append_c(w->out, '\'');
        xmlFree(to_free);
    }
    for (guint i = 0; decls != NULL && i < decls->len; i++) {
        const NsDecl *d = &g_array_index(decls, NsDecl, i);

        vnic_conf_xml_append_str(w->out, d->prefix != NULL ? " xmlns:" : " xmlns");
        if (d->prefix != NULL)
            vnic_conf_xml_append_str(w->out, (const char *) d->prefix);
        vnic_conf_xml_append_str(w->out, "='");
        vnic_conf_xml_write_escaped(w->out, d->href != NULL ? (const char *) d->href : "", TRUE);
        g_string_append_c(w->out, '\'');
    }
}

gboolean
vnic_conf_xml_is_text(const xmlNode *node)
{
    return (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) &&
           node->content != NULL && *node->content != '\0';
}

gboolean
vnic_conf_xml_is_written(const xmlNode *node)
{
    return node->type == XML_ELEMENT_NODE || vnic_conf_xml_is_text(node);
}

/* Two spaces per level. */
void
vnic_conf_xml_write_indent(GString *out, guint depth)
{
    for (guint i = 0; i < depth; i++)
        vnic_text_append(out, "  ", 2);
}

static void
write_element(const Writer *w, const xmlNode *node, guint depth, gboolean in_line)
{
    gboolean any = FALSE, mixed = in_line;

    for (const xmlNode *cur = node->children; cur != NULL; cur = cur->next) {
        any = any || vnic_conf_xml_is_written(cur);
        mixed = mixed || vnic_conf_xml_is_text(cur);
    }
    any = any || (node == w->splice_at && w->splice_nonempty);
    if (!in_line)
        vnic_conf_xml_write_indent(w->out, depth);
    write_start_tag(w, node);
    if (!any) {
        vnic_conf_xml_append_str(w->out, in_line ? "/>" : "/>\n");
        return;
    }
    vnic_conf_xml_append_str(w->out, mixed ? ">" : ">\n");
    for (const xmlNode *cur = node->children; cur != NULL; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE)
            write_element(w, cur, depth + 1, mixed);
        else if (vnic_conf_xml_is_text(cur))
            vnic_conf_xml_write_escaped(w->out, (const char *) cur->content, FALSE);
    }
    if (node == w->splice_at)
        w->splice(w->out, depth + 1, w->splice_data);
    if (!mixed)
        vnic_conf_xml_write_indent(w->out, depth);
    vnic_conf_xml_append_str(w->out, "</");
    vnic_conf_xml_write_qname(w->out, node->ns, (const char *) node->name);
    vnic_conf_xml_append_str(w->out, in_line ? ">" : ">\n");
}

char *
vnic_conf_xml_serialize_splice(const xmlNode *node, const xmlNode *at, gboolean splice_nonempty,
                               VnicConfXmlSpliceFunc splice, gpointer data, gsize size_hint)
{
    Writer w = { g_string_sized_new(MAX(size_hint, 4096)), node, NULL, at, splice_nonempty,
                 splice, data };

    g_return_val_if_fail(node != NULL && node->type == XML_ELEMENT_NODE, NULL);
    w.decls = g_array_new(FALSE, FALSE, sizeof(NsDecl));
    write_element(&w, node, 0, FALSE);
    g_array_unref(w.decls);
    return g_string_free(w.out, FALSE);
}

char *
vnic_conf_xml_serialize(const xmlNode *node)
{
    /* most of a domain's text is its devices: start big enough for a few */
    return vnic_conf_xml_serialize_splice(node, NULL, FALSE, NULL, NULL, 4096);
}

void
vnic_conf_xml_write_plain(GString *out, const xmlNode *node, guint depth)
{
    Writer w = { out, node, NULL, NULL, FALSE, NULL, NULL };

    write_element(&w, node, depth, FALSE);
}
