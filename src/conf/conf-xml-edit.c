/* conf-xml-edit.c: the formatter's device edits, on a tree or an overlay.
 *
 * The overlay mirrors the tree edits exactly (conf-xml-write.c): an
 * attribute set on an element that has it keeps its place, a new one goes
 * last; a new child goes before the first child of higher rank; a child
 * emptied by a removal goes.  What it holds is only what differs from the
 * parsed element: its attributes (pointers into the parsed tree or into a
 * string chunk) and its children (parsed nodes, written as they are, or
 * overlay elements).  Fixed-size arrays: the overlay reuses one set of
 * elements for each device, and refuses (vnic_conf_xml_overlay_can_write)
 * a device too big for them, which the tree then formats.
 */
#include "conf/conf-xml-edit.h"

#include <string.h>

/* limits of one element; the formatter adds at most EDIT_ADDED of each to
 * a device's or a child's own */
#define EDIT_MAX_ATTRS 32
#define EDIT_MAX_KIDS 48
#define EDIT_MAX_ELEMS 32
#define EDIT_ADDED 16

typedef struct {
    const xmlNs *ns;   /* a parsed attribute's namespace, or NULL */
    const char *name;
    const char *value;
} EditAttr;

/* a child: a parsed node written as it is (elem NULL), or an element; its
 * rank in the order list @rank_in, kept (ranking scans a list of names) */
typedef struct {
    const xmlNode *src;
    VnicConfXmlEditElem *elem;
    const char *const *rank_in;
    int rank;
} EditKid;

struct VnicConfXmlEditElem {
    const xmlNode *src;   /* the parsed element it starts from, or NULL */
    const xmlNs *ns;
    const char *name;     /* local name */
    const char *key;      /* a new element's key ("vnic:unplug"); NULL for a parsed one */
    const char *text;     /* a new element's text, or NULL */
    EditAttr attrs[EDIT_MAX_ATTRS];
    guint n_attrs;
    EditKid kids[EDIT_MAX_KIDS];
    guint n_kids;
};

struct VnicConfXmlOverlay {
    const xmlNode *root;      /* the output <domain>: its declarations are in scope */
    gboolean usable;          /* no default namespace, nothing declared on <devices> */
    const xmlNs *vnic_ns;     /* vnic's namespace declared on the root, or NULL */
    VnicConfXmlEditElem elems[EDIT_MAX_ELEMS];
    guint n_elems;
    GStringChunk *values;     /* attribute values the edits set */
    gboolean overflow;        /* an edit went beyond the fixed arrays */
};

VnicConfXmlOverlay *
vnic_conf_xml_overlay_new(const xmlNode *root, const xmlNode *devices)
{
    VnicConfXmlOverlay *ov = g_new0(VnicConfXmlOverlay, 1);

    ov->root = root;
    ov->usable = devices == NULL || devices->nsDef == NULL;
    /* an element without namespace under a default namespace gets xmlns='' */
    for (const xmlNs *ns = root->nsDef; ns != NULL; ns = ns->next) {
        if (ns->prefix == NULL)
            ov->usable = FALSE;
        if (ov->vnic_ns == NULL && ns->href != NULL &&
            strcmp((const char *) ns->href, VNIC_CONF_NS) == 0)
            ov->vnic_ns = ns;
    }
    ov->values = g_string_chunk_new(4096);
    return ov;
}

void
vnic_conf_xml_overlay_free(VnicConfXmlOverlay *ov)
{
    if (ov == NULL)
        return;
    g_string_chunk_free(ov->values);
    g_free(ov);
}

/* Whether @ns, used in a device, means the same in the output without a
 * declaration: the root binds its prefix to its URI. */
static gboolean
ns_in_scope(const VnicConfXmlOverlay *ov, const xmlNs *ns)
{
    if (ns == NULL)
        return TRUE;
    if (ns->prefix != NULL && strcmp((const char *) ns->prefix, "xml") == 0)
        return TRUE;
    for (const xmlNs *d = ov->root->nsDef; d != NULL; d = d->next) {
        if (xmlStrEqual(d->prefix, ns->prefix))
            return xmlStrEqual(d->href, ns->href);
    }
    return FALSE;
}

/* Whether @ns is vnic's under another prefix than the one the overlay gives
 * new vnic elements: the tree's copy of the device declares the prefixes
 * it uses on itself, and its new vnic elements then take that one. */
static gboolean
is_other_vnic_prefix(const VnicConfXmlOverlay *ov, const xmlNs *ns)
{
    return ns != NULL && ns->href != NULL && strcmp((const char *) ns->href, VNIC_CONF_NS) == 0 &&
           (ov->vnic_ns == NULL || !xmlStrEqual(ns->prefix, ov->vnic_ns->prefix));
}

static gboolean
subtree_is_plain(const VnicConfXmlOverlay *ov, const xmlNode *node, guint depth)
{
    guint n_attrs = 0, n_kids = 0;

    if (node->type != XML_ELEMENT_NODE)
        return TRUE;
    if (node->nsDef != NULL || !ns_in_scope(ov, node->ns) || is_other_vnic_prefix(ov, node->ns))
        return FALSE;
    for (const xmlAttr *a = node->properties; a != NULL; a = a->next) {
        /* a value that is not one text node is what xmlNodeGetContent makes */
        if (!ns_in_scope(ov, a->ns) || is_other_vnic_prefix(ov, a->ns) || ++n_attrs > EDIT_MAX_ATTRS - EDIT_ADDED ||
            (a->children != NULL &&
             (a->children->next != NULL || a->children->type != XML_TEXT_NODE ||
              a->children->content == NULL)))
            return FALSE;
    }
    for (const xmlNode *cur = node->children; cur != NULL; cur = cur->next) {
        /* the device is edited: element content only (a child holding text
         * makes an edit of it fail, and the tree format the domain) */
        if (++n_kids > EDIT_MAX_KIDS - EDIT_ADDED ||
            (depth == 0 && vnic_conf_xml_is_text(cur)) || !subtree_is_plain(ov, cur, depth + 1))
            return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_xml_overlay_can_write(const VnicConfXmlOverlay *ov, const xmlNode *src)
{
    return ov->usable && (src == NULL || subtree_is_plain(ov, src, 0));
}

static VnicConfXmlEditElem *
new_elem(VnicConfXmlOverlay *ov)
{
    VnicConfXmlEditElem *elem;

    if (ov->n_elems == EDIT_MAX_ELEMS) {
        ov->overflow = TRUE;
        return NULL;
    }
    elem = &ov->elems[ov->n_elems++];
    memset(elem, 0, G_STRUCT_OFFSET(VnicConfXmlEditElem, attrs));
    elem->n_attrs = 0;
    elem->n_kids = 0;
    return elem;
}

/* An overlay element over parsed @src: its attributes and children as
 * they are. */
static VnicConfXmlEditElem *
elem_over(VnicConfXmlOverlay *ov, const xmlNode *src)
{
    VnicConfXmlEditElem *elem = new_elem(ov);

    if (elem == NULL)
        return NULL;
    elem->src = src;
    elem->ns = src->ns;
    elem->name = (const char *) src->name;
    for (const xmlAttr *a = src->properties; a != NULL; a = a->next) {
        if (elem->n_attrs == EDIT_MAX_ATTRS) {
            ov->overflow = TRUE;
            break;
        }
        elem->attrs[elem->n_attrs++] = (EditAttr) {
            a->ns, (const char *) a->name,
            a->children != NULL ? (const char *) a->children->content : "",
        };
    }
    for (const xmlNode *cur = src->children; cur != NULL; cur = cur->next) {
        if (elem->n_kids == EDIT_MAX_KIDS || vnic_conf_xml_is_text(cur)) {
            ov->overflow = TRUE;
            break;
        }
        elem->kids[elem->n_kids++] = (EditKid) { cur, NULL, NULL, -1 };
    }
    return elem;
}

VnicConfXmlEdit
vnic_conf_xml_overlay_start(VnicConfXmlOverlay *ov, const xmlNode *src, const char *name)
{
    VnicConfXmlEditElem *elem;

    ov->n_elems = 0;
    ov->overflow = FALSE;
    if (src != NULL) {
        elem = elem_over(ov, src);
    } else {
        elem = new_elem(ov);
        elem->name = name;
    }
    return (VnicConfXmlEdit) { .elem = elem, .ov = ov };
}

static gboolean
kid_matches(const EditKid *kid, const char *key)
{
    if (kid->elem == NULL)
        return vnic_conf_xml_key_matches(kid->src, key);
    if (kid->elem->src != NULL)
        return vnic_conf_xml_key_matches(kid->elem->src, key);
    return kid->elem->key != NULL && strcmp(kid->elem->key, key) == 0;
}

static int
kid_rank(EditKid *kid, const char *const *order)
{
    const xmlNode *src = kid->elem != NULL ? kid->elem->src : kid->src;

    if (kid->rank_in == order && order != NULL)
        return kid->rank;
    if (src != NULL)
        kid->rank = vnic_conf_xml_rank_of_node(order, src);
    else
        kid->rank = kid->elem->key != NULL ? vnic_conf_xml_rank_of_key(order, kid->elem->key) : -1;
    kid->rank_in = order;
    return kid->rank;
}

/* ---- the edits ------------------------------------------------------------ */

VnicConfXmlEdit
vnic_conf_xml_edit_find(VnicConfXmlEdit e, const char *key)
{
    VnicConfXmlEditElem *parent = e.elem;

    if (e.node != NULL)
        return vnic_conf_xml_edit_tree(vnic_conf_xml_find(e.node, key));
    for (guint i = 0; parent != NULL && i < parent->n_kids; i++) {
        EditKid *kid = &parent->kids[i];

        if (!kid_matches(kid, key))
            continue;
        /* to be edited: an element of its own from now on */
        if (kid->elem == NULL)
            kid->elem = elem_over(e.ov, kid->src);
        if (kid->elem == NULL)
            break;
        return (VnicConfXmlEdit) { .elem = kid->elem, .parent = parent, .ov = e.ov };
    }
    return (VnicConfXmlEdit) { .ov = e.ov };
}

VnicConfXmlEdit
vnic_conf_xml_edit_ensure(VnicConfXmlEdit e, const char *key, const char *const *order)
{
    VnicConfXmlEdit found;
    VnicConfXmlEditElem *parent = e.elem, *child;
    gboolean in_vnic = g_str_has_prefix(key, "vnic:");
    int rank;
    guint at;

    if (e.node != NULL)
        return vnic_conf_xml_edit_tree(vnic_conf_xml_ensure(e.node, key, order));
    found = vnic_conf_xml_edit_find(e, key);
    if (!vnic_conf_xml_edit_is_null(found) || parent == NULL)
        return found;
    /* the tree would declare vnic's namespace on the spot; the overlay
     * writes only what the root declares */
    if ((in_vnic && e.ov->vnic_ns == NULL) || parent->n_kids == EDIT_MAX_KIDS ||
        (child = new_elem(e.ov)) == NULL) {
        e.ov->overflow = TRUE;
        return (VnicConfXmlEdit) { .ov = e.ov };
    }
    rank = vnic_conf_xml_rank_of_key(order, key);
    child->key = key;
    child->name = in_vnic ? key + 5 : key;
    child->ns = in_vnic ? e.ov->vnic_ns : NULL;
    for (at = 0; rank >= 0 && at < parent->n_kids; at++) {
        if (kid_rank(&parent->kids[at], order) > rank)
            break;
    }
    if (rank < 0)
        at = parent->n_kids;
    memmove(&parent->kids[at + 1], &parent->kids[at], (parent->n_kids - at) * sizeof(EditKid));
    parent->kids[at] = (EditKid) { NULL, child, order, rank };
    parent->n_kids++;
    return (VnicConfXmlEdit) { .elem = child, .parent = parent, .ov = e.ov };
}

static int
attr_index(const VnicConfXmlEditElem *elem, const char *attr)
{
    for (guint i = 0; i < elem->n_attrs; i++) {
        if (elem->attrs[i].ns == NULL && strcmp(elem->attrs[i].name, attr) == 0)
            return (int) i;
    }
    return -1;
}

void
vnic_conf_xml_edit_set_prop(VnicConfXmlEdit e, const char *attr, const char *value)
{
    VnicConfXmlEditElem *elem = e.elem;
    int i;

    if (e.node != NULL) {
        vnic_conf_xml_set_prop(e.node, attr, value);
        return;
    }
    if (elem == NULL)
        return;
    i = attr_index(elem, attr);
    if (value == NULL) {
        if (i >= 0) {
            memmove(&elem->attrs[i], &elem->attrs[i + 1],
                    (elem->n_attrs - i - 1) * sizeof(EditAttr));
            elem->n_attrs--;
        }
        return;
    }
    value = g_string_chunk_insert(e.ov->values, value);
    if (i >= 0) {
        elem->attrs[i].value = value;
    } else if (elem->n_attrs == EDIT_MAX_ATTRS) {
        e.ov->overflow = TRUE;
    } else {
        elem->attrs[elem->n_attrs++] = (EditAttr) { NULL, attr, value };
    }
}

void
vnic_conf_xml_edit_set_child_prop(VnicConfXmlEdit e, const char *const *order, const char *key,
                                  const char *attr, const char *value)
{
    VnicConfXmlEdit child;

    if (e.node != NULL) {
        vnic_conf_xml_set_child_prop(e.node, order, key, attr, value);
        return;
    }
    if (value != NULL) {
        vnic_conf_xml_edit_set_prop(vnic_conf_xml_edit_ensure(e, key, order), attr, value);
        return;
    }
    child = vnic_conf_xml_edit_find(e, key);
    if (vnic_conf_xml_edit_is_null(child))
        return;
    vnic_conf_xml_edit_set_prop(child, attr, NULL);
    if (vnic_conf_xml_edit_is_empty(child))
        vnic_conf_xml_edit_remove(child);
}

void
vnic_conf_xml_edit_remove(VnicConfXmlEdit e)
{
    VnicConfXmlEditElem *parent = e.parent;

    if (e.node != NULL) {
        vnic_conf_xml_remove(e.node);
        return;
    }
    for (guint i = 0; parent != NULL && i < parent->n_kids; i++) {
        if (parent->kids[i].elem != e.elem)
            continue;
        memmove(&parent->kids[i], &parent->kids[i + 1],
                (parent->n_kids - i - 1) * sizeof(EditKid));
        parent->n_kids--;
        return;
    }
}

void
vnic_conf_xml_edit_order_props(VnicConfXmlEdit e, const char *const *order)
{
    VnicConfXmlEditElem *elem = e.elem;
    EditAttr sorted[EDIT_MAX_ATTRS];
    gboolean taken[EDIT_MAX_ATTRS] = { FALSE };
    guint n = 0;

    if (e.node != NULL) {
        vnic_conf_xml_order_props(e.node, order);
        return;
    }
    if (elem == NULL)
        return;
    for (guint k = 0; order[k] != NULL; k++) {
        int i = attr_index(elem, order[k]);

        if (i >= 0) {
            sorted[n++] = elem->attrs[i];
            taken[i] = TRUE;
        }
    }
    for (guint i = 0; i < elem->n_attrs; i++) {
        if (!taken[i])
            sorted[n++] = elem->attrs[i];
    }
    memcpy(elem->attrs, sorted, n * sizeof(EditAttr));
}

void
vnic_conf_xml_edit_clear_props(VnicConfXmlEdit e)
{
    if (e.node != NULL)
        vnic_conf_xml_clear_props(e.node);
    else if (e.elem != NULL)
        e.elem->n_attrs = 0;
}

char *
vnic_conf_xml_edit_dup_prop(VnicConfXmlEdit e, const char *attr)
{
    int i;

    if (e.node != NULL)
        return vnic_conf_xml_prop(e.node, attr);
    if (e.elem == NULL || (i = attr_index(e.elem, attr)) < 0)
        return NULL;
    return g_strdup(e.elem->attrs[i].value);
}

gboolean
vnic_conf_xml_edit_is_empty(VnicConfXmlEdit e)
{
    if (e.node != NULL)
        return e.node->properties == NULL && e.node->children == NULL;
    return e.elem == NULL || (e.elem->n_attrs == 0 && e.elem->n_kids == 0 && e.elem->text == NULL);
}

VnicConfXmlEdit
vnic_conf_xml_edit_add_text_child(VnicConfXmlEdit e, const char *name, const char *text)
{
    VnicConfXmlEditElem *parent = e.elem, *child;

    if (e.node != NULL)
        return vnic_conf_xml_edit_tree(
            xmlNewTextChild(e.node, NULL, (const xmlChar *) name, (const xmlChar *) text));
    if (parent == NULL || parent->n_kids == EDIT_MAX_KIDS || (child = new_elem(e.ov)) == NULL) {
        e.ov->overflow = TRUE;
        return (VnicConfXmlEdit) { .ov = e.ov };
    }
    child->key = name;
    child->name = name;
    child->text = g_string_chunk_insert(e.ov->values, text);
    parent->kids[parent->n_kids++] = (EditKid) { NULL, child, NULL, -1 };
    return (VnicConfXmlEdit) { .elem = child, .parent = parent, .ov = e.ov };
}

/* ---- writing -------------------------------------------------------------- */

static void
write_elem(GString *out, const VnicConfXmlEditElem *elem, guint depth)
{
    gboolean any = elem->text != NULL && *elem->text != '\0';

    for (guint i = 0; !any && i < elem->n_kids; i++)
        any = elem->kids[i].elem != NULL || vnic_conf_xml_is_written(elem->kids[i].src);
    vnic_conf_xml_write_indent(out, depth);
    g_string_append_c(out, '<');
    vnic_conf_xml_write_qname(out, elem->ns, elem->name);
    for (guint i = 0; i < elem->n_attrs; i++) {
        g_string_append_c(out, ' ');
        vnic_conf_xml_write_qname(out, elem->attrs[i].ns, elem->attrs[i].name);
        vnic_text_append(out, "='", 2);
        vnic_conf_xml_write_escaped(out, elem->attrs[i].value, TRUE);
        g_string_append_c(out, '\'');
    }
    if (!any) {
        vnic_text_append(out, "/>\n", 3);
        return;
    }
    if (elem->text != NULL) {
        /* a new element holding text: on one line, as the tree's */
        g_string_append_c(out, '>');
        vnic_conf_xml_write_escaped(out, elem->text, FALSE);
    } else {
        vnic_text_append(out, ">\n", 2);
        for (guint i = 0; i < elem->n_kids; i++) {
            if (elem->kids[i].elem != NULL)
                write_elem(out, elem->kids[i].elem, depth + 1);
            else if (elem->kids[i].src->type == XML_ELEMENT_NODE)
                vnic_conf_xml_write_plain(out, elem->kids[i].src, depth + 1);
        }
        vnic_conf_xml_write_indent(out, depth);
    }
    vnic_text_append(out, "</", 2);
    vnic_conf_xml_write_qname(out, elem->ns, elem->name);
    vnic_text_append(out, ">\n", 2);
}

gboolean
vnic_conf_xml_overlay_write(VnicConfXmlOverlay *ov, VnicConfXmlEdit e, GString *out,
                            guint depth)
{
    if (ov->overflow || e.elem == NULL)
        return FALSE;
    write_elem(out, e.elem, depth);
    return TRUE;
}
