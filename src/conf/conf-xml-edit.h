/* conf-xml-edit.h: the formatter's edits to one device element, on either
 * of two backends.
 *
 * The tree backend edits a libxml2 copy of the element (the
 * vnic_conf_xml_* edits).  The overlay backend does not copy: it records
 * the same edits over the parsed element, read-only, and writes the result
 * straight into text (vnic_conf_xml_overlay_write()).  The overlay is what
 * dumpxml uses for a domain's devices (a 500-NIC tree was most of its cost);
 * the tree stays for what the overlay does not represent (see
 * vnic_conf_xml_overlay_can_write()) and is what the overlay is tested
 * against.  The device formatter is written once, against this API.
 */
#pragma once

#include "conf/conf-text.h"
#include "conf/conf-xml-util.h"

#include <string.h>

G_BEGIN_DECLS

typedef struct VnicConfXmlOverlay VnicConfXmlOverlay;
typedef struct VnicConfXmlEditElem VnicConfXmlEditElem;

/* One element being edited: node (tree backend) or elem (overlay), with
 * its parent (to remove it); both NULL: no such element. */
typedef struct {
    xmlNode *node;
    VnicConfXmlEditElem *elem;
    VnicConfXmlEditElem *parent;
    VnicConfXmlOverlay *ov;
} VnicConfXmlEdit;

static inline VnicConfXmlEdit
vnic_conf_xml_edit_tree(xmlNode *node)
{
    return (VnicConfXmlEdit) { .node = node };
}

static inline gboolean
vnic_conf_xml_edit_is_null(VnicConfXmlEdit e)
{
    return e.node == NULL && e.elem == NULL;
}

/* The same contracts as the vnic_conf_xml_* edits of the same name. */
VnicConfXmlEdit vnic_conf_xml_edit_find(VnicConfXmlEdit e, const char *key);
VnicConfXmlEdit vnic_conf_xml_edit_ensure(VnicConfXmlEdit e, const char *key,
                                          const char *const *order);
void vnic_conf_xml_edit_set_prop(VnicConfXmlEdit e, const char *attr, const char *value);
void vnic_conf_xml_edit_set_child_prop(VnicConfXmlEdit e, const char *const *order,
                                       const char *key, const char *attr, const char *value);
void vnic_conf_xml_edit_remove(VnicConfXmlEdit e);
void vnic_conf_xml_edit_order_props(VnicConfXmlEdit e, const char *const *order);
void vnic_conf_xml_edit_clear_props(VnicConfXmlEdit e);
/* A copy of attribute @attr (no namespace), or NULL. */
char *vnic_conf_xml_edit_dup_prop(VnicConfXmlEdit e, const char *attr);
/* No attributes and no children. */
gboolean vnic_conf_xml_edit_is_empty(VnicConfXmlEdit e);
/* Appends child @name holding @text (a fresh element's fixed content). */
VnicConfXmlEdit vnic_conf_xml_edit_add_text_child(VnicConfXmlEdit e, const char *name,
                                                  const char *text);

/* An overlay for the devices of the output <domain> @root, whose <devices>
 * element is @devices: the namespaces in scope there are the root's. */
VnicConfXmlOverlay *vnic_conf_xml_overlay_new(const xmlNode *root, const xmlNode *devices);
void vnic_conf_xml_overlay_free(VnicConfXmlOverlay *ov);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicConfXmlOverlay, vnic_conf_xml_overlay_free)

/* Whether the overlay can write a device whose parsed element is @src
 * (NULL: a fresh one) exactly as the tree backend would: no namespace
 * declarations in it, only namespaces the output root declares, attribute
 * values that are plain text, not too many attributes or children. */
gboolean vnic_conf_xml_overlay_can_write(const VnicConfXmlOverlay *ov, const xmlNode *src);
/* Starts a device element: over @src, or new and named @name.  Forgets
 * the previous device's edits. */
VnicConfXmlEdit vnic_conf_xml_overlay_start(VnicConfXmlOverlay *ov, const xmlNode *src,
                                            const char *name);
/* Writes the element @e started, at @depth, as vnic_conf_xml_serialize()
 * would write its tree copy in the output.  FALSE, with nothing written,
 * if the edits went beyond what the overlay represents. */
gboolean vnic_conf_xml_overlay_write(VnicConfXmlOverlay *ov, VnicConfXmlEdit e, GString *out,
                                     guint depth);

static inline void
vnic_conf_xml_append_str(GString *out, const char *text)
{
    vnic_text_append(out, text, strlen(text));
}

/* Serializer pieces the overlay writes with (conf-xml-write.c). */
/* @node's subtree at @depth, without namespace declarations (the caller
 * knows none is needed). */
void vnic_conf_xml_write_plain(GString *out, const xmlNode *node, guint depth);
void vnic_conf_xml_write_escaped(GString *out, const char *text, gboolean in_attr);
void vnic_conf_xml_write_qname(GString *out, const xmlNs *ns, const char *name);
void vnic_conf_xml_write_indent(GString *out, guint depth);
gboolean vnic_conf_xml_is_written(const xmlNode *node);
gboolean vnic_conf_xml_is_text(const xmlNode *node);
gboolean vnic_conf_xml_key_matches(const xmlNode *node, const char *key);
int vnic_conf_xml_rank_of_key(const char *const *order, const char *key);
int vnic_conf_xml_rank_of_node(const char *const *order, const xmlNode *node);

/* vnic_conf_xml_serialize(), with @splice called to write the rest of
 * element @at's children (at @depth, after the tree's own), which counts as
 * non-empty when @splice_nonempty.  @size_hint: the expected length. */
typedef void (*VnicConfXmlSpliceFunc)(GString *out, guint depth, gpointer data);
char *vnic_conf_xml_serialize_splice(const xmlNode *node, const xmlNode *at,
                                     gboolean splice_nonempty, VnicConfXmlSpliceFunc splice,
                                     gpointer data, gsize size_hint);

G_END_DECLS
