/* cli-libvirt.c: what companion mode (docs/companion.md) needs to talk to a
 * libvirt that keeps running the guest: XML without vnic's own elements,
 * and a domain's XML read through virsh.
 *
 * libvirt 9.0 drops elements of a namespace it does not know when it
 * defines a domain, and `virsh define --validate` refuses them ("Element
 * domain has extra content: hotplug"); its live XML carries data only a
 * running domain has (aliases, which a <console> shares with its
 * <serial>).  Both are edited here with plain libxml2 and then written
 * again through the conf layer, so the output looks like the rest of vnic's.
 */
#include "cli/cli.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

static gboolean
is_vnic_ns(const xmlNs *ns)
{
    return ns != NULL && ns->href != NULL && strcmp((const char *) ns->href, VNIC_CLI_VNIC_NS) == 0;
}

static void
remove_vnic_attributes(xmlNode *node)
{
    xmlAttr *attr = node->properties;

    while (attr != NULL) {
        xmlAttr *next = attr->next;

        if (is_vnic_ns(attr->ns))
            xmlRemoveProp(attr);
        attr = next;
    }
}

/* Drops vnic's declarations from @node's own list (nothing uses them once
 * the elements and attributes are gone). */
static void
remove_vnic_declarations(xmlNode *node)
{
    xmlNs **link = &node->nsDef;

    while (*link != NULL) {
        xmlNs *ns = *link;

        if (is_vnic_ns(ns)) {
            *link = ns->next;
            ns->next = NULL;
            xmlFreeNs(ns);
        } else {
            link = &ns->next;
        }
    }
}

static gboolean
is_alias(const xmlNode *node)
{
    return node->ns == NULL && strcmp((const char *) node->name, "alias") == 0;
}

/* Removes, below @node, every element in vnic's namespace and, with
 * @aliases, every <alias>; then vnic's attributes and declarations. */
static void
strip_tree(xmlNode *node, gboolean aliases)
{
    xmlNode *cur = node->children;

    while (cur != NULL) {
        xmlNode *next = cur->next;

        if (cur->type == XML_ELEMENT_NODE && (is_vnic_ns(cur->ns) || (aliases && is_alias(cur)))) {
            xmlUnlinkNode(cur);
            xmlFreeNode(cur);
        } else if (cur->type == XML_ELEMENT_NODE) {
            strip_tree(cur, aliases);
        }
        cur = next;
    }
    remove_vnic_attributes(node);
    remove_vnic_declarations(node);
}

char *
vnic_cli_libvirt_strip(const char *xml, gsize len, gboolean aliases, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    xmlDoc *doc;
    xmlNode *root;
    xmlBuffer *buf;

    if (len > G_MAXINT) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "XML too large");
        return NULL;
    }
    /* no network, no entities: the text may come from anywhere */
    doc = xmlReadMemory(xml, (int) len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL) {
        xmlErrorPtr e = xmlGetLastError();
        g_autofree char *why = g_strdup(e != NULL && e->message != NULL ? e->message
                                                                        : "no root element");

        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed XML: %s",
                    g_strchomp(why));
        xmlFreeDoc(doc);
        return NULL;
    }
    if (!is_vnic_ns(root->ns))
        strip_tree(root, aliases);
    buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, root, 0, 0);
    g_string_append_len(out, (const char *) xmlBufferContent(buf), xmlBufferLength(buf));
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
vnic_cli_virsh_dumpxml(const char *uri, const char *domain, gboolean inactive, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    gint wait_status = 0;

    g_ptr_array_add(argv, (char *) "virsh");
    if (uri != NULL) {
        g_ptr_array_add(argv, (char *) "-c");
        g_ptr_array_add(argv, (char *) uri);
    }
    g_ptr_array_add(argv, (char *) "dumpxml");
    if (inactive)
        g_ptr_array_add(argv, (char *) "--inactive");
    g_ptr_array_add(argv, (char *) "--");
    g_ptr_array_add(argv, (char *) domain);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                      &err, &wait_status, error)) {
        g_prefix_error(error, "cannot run virsh (is libvirt-clients installed?): ");
        return NULL;
    }
    if (!g_spawn_check_wait_status(wait_status, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "virsh%s%s dumpxml%s %s failed: %s",
                    uri != NULL ? " -c " : "", uri != NULL ? uri : "",
                    inactive ? " --inactive" : "", domain, g_strstrip(err));
        return NULL;
    }
    return g_steal_pointer(&out);
}
