/* conf-xml-util.h: private libxml2 helpers of the conf layer.
 *
 * Not installed, not for other layers.  Everything here works on trees in
 * memory: reading text into a document, typed attribute access that reports
 * errors naming element, attribute and value, small tree edits used by the
 * formatter, and the serializer that writes libvirt-style XML.
 */
#pragma once

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/conf-domain.h"
#include "conf/conf-xml-cleanup.h"

G_BEGIN_DECLS

/* vnic's own XML namespace; any prefix may be bound to it. */
#define VNIC_CONF_NS "urn:x-vnic:domain:1"


/* Bounds on XML text, checked before libxml2 parses it
 * (conf-xml-limits.c): libvirt's domains are far below each. */
typedef struct {
    gsize max_bytes;
    guint max_depth;
    guint max_elements;
    guint max_attributes;     /* on one element */
} VnicConfXmlLimits;

#define VNIC_CONF_XML_LIMITS_DEFAULT                                              \
    ((VnicConfXmlLimits){ .max_bytes = 8u * 1024 * 1024, .max_depth = 64,           \
                          .max_elements = 100000, .max_attributes = 128 })

/* FALSE with a VNIC_CONF_ERROR_XML error naming the bound @xml exceeds. */
gboolean vnic_conf_xml_check_limits(const char *xml, gsize len, const VnicConfXmlLimits *limits,
                                    GError **error);

/* Parses @xml (not NUL-terminated necessarily).  The text must be within
 * VNIC_CONF_XML_LIMITS_DEFAULT.  No network, no DTD, no
 * external entities; a document with a DOCTYPE is refused.  Blank text
 * between elements is dropped so the serializer can indent. */
xmlDoc *vnic_conf_xml_read(const char *xml, gsize len, GError **error);

/* TRUE for an element without namespace called @name. */
gboolean vnic_conf_xml_is(const xmlNode *node, const char *name);
/* TRUE for an element in vnic's namespace (any local name). */
gboolean vnic_conf_xml_is_vnic(const xmlNode *node);

/* "prefix:name" or "name", for messages. */
char *vnic_conf_xml_qname(const xmlNode *node);
/* The value of the attribute @name without namespace, or NULL. */
char *vnic_conf_xml_prop(const xmlNode *node, const char *name);
/* The text content of @node, never NULL for an element. */
char *vnic_conf_xml_text(const xmlNode *node);
/* The first element child without namespace called @name, or NULL. */
xmlNode *vnic_conf_xml_child(const xmlNode *parent, const char *name);
/* Like vnic_conf_xml_child() but refuses a second such child (INVALID).
 * *@out is NULL when there is none. */
gboolean vnic_conf_xml_single_child(const xmlNode *parent, const char *name, xmlNode **out,
                                    GError **error);

/* Parses an unsigned integer: decimal digits, or 0x + hex digits when
 * @allow_hex.  No sign, no blanks.  FALSE when malformed or out of range. */
gboolean vnic_conf_xml_parse_uint(const char *text, gboolean allow_hex, guint64 min, guint64 max,
                                  guint64 *out);

/* Reads an optional unsigned attribute.  Returns FALSE with INVALID naming
 * element, attribute and value when malformed or outside [min, max].
 * *@present tells whether the attribute was there (*@out untouched if not). */
gboolean vnic_conf_xml_prop_uint(const xmlNode *node, const char *attr, gboolean allow_hex,
                                 guint64 min, guint64 max, guint64 *out, gboolean *present,
                                 GError **error);

/* Reads an optional attribute whose value must be one of @allowed
 * (NULL-terminated).  Another value fails with @code, listing the choices.
 * *@out is the value (newly allocated) or NULL when absent. */
gboolean vnic_conf_xml_prop_choice(const xmlNode *node, const char *attr,
                                   const char *const *allowed, VnicConfErrorCode code,
                                   char **out, GError **error);

/* The same for a required attribute: absent is MISSING, another value
 * UNSUPPORTED. */
gboolean vnic_conf_xml_prop_required_choice(const xmlNode *node, const char *attr,
                                            const char *const *allowed, char **out,
                                            GError **error);

/* Reads an optional two-valued attribute (on/off, up/down, allow/deny). */
gboolean vnic_conf_xml_prop_tristate(const xmlNode *node, const char *attr, const char *yes,
                                     const char *no, VnicTristate *out, GError **error);

/* Refuses (UNSUPPORTED) any attribute of @node not in @allowed; for vnic's
 * own elements, where nothing unknown is carried along. */
gboolean vnic_conf_xml_check_attrs(const xmlNode *node, const char *const *allowed,
                                   GError **error);

/* Fails with MISSING: "<elem> has no attr attribute". */
gboolean vnic_conf_xml_missing_attr(const xmlNode *node, const char *attr, GError **error);

/* Tree edits for the formatter.  A child key is a local name ("mac") for an
 * element without namespace, or "vnic:" + local name for vnic's namespace.
 * @order lists keys in libvirt's canonical order (NULL-terminated); a new
 * child goes before the first existing child of higher rank, else last. */
xmlNode *vnic_conf_xml_find(const xmlNode *parent, const char *key);
/* vnic's namespace as seen from @node: the declaration in scope, else a new
 * one on the top of @node's tree, prefix "vnic" (or "vnicN" if taken). */
xmlNs *vnic_conf_xml_vnic_ns(xmlNode *node);
xmlNode *vnic_conf_xml_ensure(xmlNode *parent, const char *key, const char *const *order);
/* Sets (or, with @value NULL, removes) an attribute without namespace. */
void vnic_conf_xml_set_prop(xmlNode *node, const char *attr, const char *value);
/* Sets attribute @attr of child @key, creating the child; with @value NULL
 * removes the attribute, and the child too once it is empty. */
void vnic_conf_xml_set_child_prop(xmlNode *parent, const char *const *order, const char *key,
                                  const char *attr, const char *value);
/* Sets the text of child @key, creating it; with @text NULL removes it. */
void vnic_conf_xml_set_child_text(xmlNode *parent, const char *const *order, const char *key,
                                  const char *text);
/* Unlinks and frees @node (NULL is fine). */
void vnic_conf_xml_remove(xmlNode *node);
/* Moves the attributes without namespace named in @order to the front, in
 * that order; the others follow in their order. */
void vnic_conf_xml_order_props(xmlNode *node, const char *const *order);
/* Removes every attribute of @node. */
void vnic_conf_xml_clear_props(xmlNode *node);

/* Writes @node and its subtree as libvirt does: two-space indentation,
 * single-quoted attributes, no XML declaration, no comments, a final
 * newline.  Elements holding text are written on one line as they are. */
char *vnic_conf_xml_serialize(const xmlNode *node);

G_END_DECLS
