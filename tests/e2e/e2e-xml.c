/* e2e-xml.c: test copies of the example domain XML files.
 *
 * Edits a libxml2 tree of the example (see e2e-xml.h for what changes) and
 * writes it to the domain's temp dir.  Knows nothing of vnic's conf layer on
 * purpose: the copy is what a user would write by hand.
 */
#include "e2e-xml.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "e2e-env.h"

#define DISK_SIZE (4 * 1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

void
e2e_domain_xml_free(E2eDomainXml *dom)
{
    if (dom == NULL)
        return;
    g_free(dom->name);
    g_free(dom->uuid);
    g_free(dom->dir);
    g_free(dom->xml_path);
    g_free(dom->xml);
    g_free(dom->serial_path);
    g_free(dom->disk_path);
    g_free(dom);
}

static gboolean
is_element(xmlNode *n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *
child(xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent ? parent->children : NULL; n != NULL; n = n->next)
        if (is_element(n, name))
            return n;
    return NULL;
}

static xmlNode *
child_or_new(xmlNode *parent, const char *name)
{
    xmlNode *n = child(parent, name);
    return n != NULL ? n : xmlNewChild(parent, NULL, BAD_CAST name, NULL);
}

static char *
text_of(xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    char *s = g_strdup(c != NULL ? g_strstrip((char *)c) : "");
    xmlFree(c);
    return s;
}

static void
set_text(xmlNode *n, const char *text)
{
    xmlNodeSetContent(n, NULL);
    xmlNodeAddContent(n, BAD_CAST text);
}

/* <kernel>/<initrd>: the file of the same name in the guest dir. */
static void
point_at_guest(xmlNode *os, const char *element)
{
    xmlNode *n = child(os, element);
    if (n == NULL)
        return;
    g_autofree char *old = text_of(n);
    g_autofree char *base = g_path_get_basename(old);
    g_autofree char *path = g_build_filename(e2e_guest_dir(), base, NULL);
    set_text(n, path);
}

static void
edit_os(xmlNode *root)
{
    xmlNode *os = child(root, "os");
    if (os == NULL)
        return;
    point_at_guest(os, "kernel");
    point_at_guest(os, "initrd");
    xmlNode *cmdline = child_or_new(os, "cmdline");
    g_autofree char *old = text_of(cmdline);
    if (strstr(old, "vnic.echo=0") == NULL) {
        g_autofree char *line = g_strdup_printf("%s%svnic.echo=0", old, *old ? " " : "");
        set_text(cmdline, line);
    }
}

static void
edit_devices(xmlNode *root, const E2eDomainXml *dom)
{
    xmlNode *devices = child_or_new(root, "devices");
    xmlNode *anchor = NULL;  /* where the first serial/console was */
    for (xmlNode *n = devices->children, *next; n != NULL; n = next) {
        next = n->next;
        if (is_element(n, "disk")) {
            xmlChar *type = xmlGetProp(n, BAD_CAST "type");
            xmlNode *src = child(n, "source");
            xmlChar *file = src != NULL ? xmlGetProp(src, BAD_CAST "file") : NULL;
            /* an empty <source file=''/> is a drive without medium: kept */
            if (type != NULL && strcmp((char *)type, "file") == 0 && file != NULL && *file != '\0')
                xmlSetProp(src, BAD_CAST "file", BAD_CAST dom->disk_path);
            xmlFree(file);
            xmlFree(type);
        } else if (is_element(n, "serial") || is_element(n, "console")) {
            if (anchor == NULL) {
                anchor = n;
                continue;  /* replaced below */
            }
            /* Drop the whitespace before it too, to keep the layout tidy. */
            if (n->prev != NULL && n->prev->type == XML_TEXT_NODE && xmlIsBlankNode(n->prev)) {
                xmlNode *ws = n->prev;
                xmlUnlinkNode(ws);
                xmlFreeNode(ws);
            }
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        }
    }
    xmlNode *serial = xmlNewNode(NULL, BAD_CAST "serial");
    xmlSetProp(serial, BAD_CAST "type", BAD_CAST "unix");
    xmlNode *source = xmlNewChild(serial, NULL, BAD_CAST "source", NULL);
    xmlSetProp(source, BAD_CAST "mode", BAD_CAST "bind");
    xmlSetProp(source, BAD_CAST "path", BAD_CAST dom->serial_path);
    xmlNode *target = xmlNewChild(serial, NULL, BAD_CAST "target", NULL);
    xmlSetProp(target, BAD_CAST "port", BAD_CAST "0");
    if (anchor != NULL) {
        xmlReplaceNode(anchor, serial);
        xmlFreeNode(anchor);
    } else {
        xmlAddChild(devices, serial);
    }
}

E2eDomainXml *
e2e_xml_prepare(const char *example, const char *tag, GError **error)
{
    g_autofree char *path = g_path_is_absolute(example)
                                ? g_strdup(example)
                                : g_build_filename(e2e_source_root(), example, NULL);
    g_autoptr(xmlDoc) doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (!is_element(root, "domain")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "'%s' is not a domain XML file", path);
        return NULL;
    }

    g_autoptr(E2eDomainXml) dom = g_new0(E2eDomainXml, 1);
    xmlNode *name = child_or_new(root, "name");
    g_autofree char *old_name = text_of(name);
    /* the pid last: the guard finds a crashed run's QEMUs by "-PID," in
     * their -name guest=… argument */
    dom->name = tag != NULL ? g_strdup_printf("%s-%s-%d", old_name, tag, (int)getpid())
                            : g_strdup_printf("%s-%d", old_name, (int)getpid());
    dom->uuid = g_uuid_string_random();
    dom->dir = e2e_tmp_dir(dom->name);
    dom->xml_path = g_build_filename(dom->dir, "domain.xml", NULL);
    dom->serial_path = g_build_filename(dom->dir, "serial.sock", NULL);
    dom->disk_path = g_build_filename(dom->dir, "disk.img", NULL);
    if (!e2e_make_sparse_file(dom->disk_path, DISK_SIZE, error))
        return NULL;

    set_text(name, dom->name);
    set_text(child_or_new(root, "uuid"), dom->uuid);
    edit_os(root);
    edit_devices(root, dom);

    xmlChar *buf = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 0);
    dom->xml = g_strndup((const char *)buf, (gsize)len);
    xmlFree(buf);
    if (!g_file_set_contents(dom->xml_path, dom->xml, -1, error))
        return NULL;
    return g_steal_pointer(&dom);
}
