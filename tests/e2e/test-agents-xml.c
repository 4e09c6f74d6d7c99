/* test-agents-xml.c: the agents' domain XML as the acceptance test runs it.
 *
 * tests/data/agents/README.md lists what may change in an agent's XML for
 * the test, and this file is where it changes, nothing more: the
 * harness's copy (e2e_xml_prepare: unique name and uuid, one unix serial
 * console, the first disk on a file of its own) plus type kvm→qemu, the
 * tiny guest's kernel/initrd/cmdline, every further disk on a file of its
 * own (raw), an empty cdrom left empty, nvram, agent-channel sockets and
 * the serial <log> (nova) in the domain's dir, and the sysinfo uuid following the new domain uuid
 * (libvirt refuses a mismatch).  It also reads the NICs back out, in
 * document order, for the checks.
 */
#include "test-agents.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define DISK_SIZE (4 * 1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

static gboolean
is_element(xmlNode *n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *
child(xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next)
        if (is_element(n, name))
            return n;
    return NULL;
}

static char *
prop(xmlNode *n, const char *name)
{
    xmlChar *v = n != NULL ? xmlGetProp(n, BAD_CAST name) : NULL;
    char *s = v != NULL ? g_strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static void
set_text(xmlNode *n, const char *text)
{
    xmlNodeSetContent(n, NULL);
    xmlNodeAddContent(n, BAD_CAST text);
}

static void
remove_children(xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent->children, *next; n != NULL; n = next) {
        next = n->next;
        if (is_element(n, name)) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        }
    }
}

/* Each <disk>'s <source file> as the agent wrote it, in document order
 * over every <devices> block: NULL for no <source> (or no file). */
static GPtrArray *
original_disk_sources(const char *path, GError **error)
{
    g_autoptr(xmlDoc) doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (!is_element(root, "domain")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "'%s' is not a domain XML file", path);
        return NULL;
    }
    GPtrArray *sources = g_ptr_array_new_with_free_func(g_free);
    for (xmlNode *devs = root->children; devs != NULL; devs = devs->next) {
        if (!is_element(devs, "devices"))
            continue;
        for (xmlNode *n = devs->children; n != NULL; n = n->next)
            if (is_element(n, "disk"))
                g_ptr_array_add(sources, prop(child(n, "source"), "file"));
    }
    return sources;
}

/* Whether the agent logs a serial console to a file (nova's <log>). */
static gboolean
original_has_serial_log(const char *path)
{
    g_autoptr(xmlDoc) doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    for (xmlNode *devs = root != NULL ? root->children : NULL; devs != NULL; devs = devs->next) {
        if (!is_element(devs, "devices"))
            continue;
        for (xmlNode *n = devs->children; n != NULL; n = n->next)
            if ((is_element(n, "serial") || is_element(n, "console")) && child(n, "log") != NULL)
                return TRUE;
    }
    return FALSE;
}

/* The agent's <log> on the harness's console, its file in the domain's dir. */
static void
add_serial_log(xmlNode *serial, const E2eDomainXml *dom)
{
    g_autofree char *path = g_build_filename(dom->dir, "console.log", NULL);
    xmlNode *log = xmlNewNode(NULL, BAD_CAST "log");
    xmlSetProp(log, BAD_CAST "file", BAD_CAST path);
    xmlSetProp(log, BAD_CAST "append", BAD_CAST "off");
    xmlNode *src = child(serial, "source");
    if (src != NULL)
        xmlAddNextSibling(src, log);
    else
        xmlAddChild(serial, log);
}

/* <kernel>, <initrd>, <cmdline> of the tiny guest right after <type>;
 * the nvram file into the domain's dir. */
static void
adjust_os(xmlNode *os, const E2eDomainXml *dom)
{
    remove_children(os, "kernel");
    remove_children(os, "initrd");
    remove_children(os, "cmdline");
    xmlNode *type = child(os, "type");
    g_autofree char *kernel = g_build_filename(e2e_guest_dir(), "vmlinuz", NULL);
    g_autofree char *initrd = g_build_filename(e2e_guest_dir(), "initrd.img", NULL);
    const char *const items[][2] = {
        { "cmdline", "console=ttyS0 quiet panic=-1 vnic.echo=0" },
        { "initrd", initrd },
        { "kernel", kernel },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(items); i++) {
        xmlNode *n = xmlNewNode(NULL, BAD_CAST items[i][0]);
        set_text(n, items[i][1]);
        if (type != NULL)
            xmlAddNextSibling(type, n);
        else
            xmlAddChild(os, n);
    }
    xmlNode *nvram = child(os, "nvram");
    if (nvram != NULL) {
        g_autofree char *path = g_build_filename(dom->dir, "nvram.fd", NULL);
        set_text(nvram, path);
    }
}

/* Disk number `i` (0-based, over all <devices>; the harness only edits
 * the first block): the first with a file gets DIR/disk.img, later ones
 * files of their own, an empty one (CloudStack's ISO drive) stays empty.
 * Images are raw. */
static gboolean
adjust_disk(xmlNode *disk, const char *orig, guint i, gboolean *first_taken, const E2eDomainXml *dom,
            GError **error)
{
    xmlNode *src = child(disk, "source");
    xmlNode *driver = child(disk, "driver");
    if (driver != NULL && xmlHasProp(driver, BAD_CAST "type"))
        xmlSetProp(driver, BAD_CAST "type", BAD_CAST "raw");
    if (src == NULL || orig == NULL)
        return TRUE;
    if (*orig == '\0') {
        xmlSetProp(src, BAD_CAST "file", BAD_CAST "");
        return TRUE;
    }
    if (!*first_taken) {
        *first_taken = TRUE;
        xmlSetProp(src, BAD_CAST "file", BAD_CAST dom->disk_path);
        return TRUE;
    }
    g_autofree char *name = g_strdup_printf("disk-%u.img", i);
    g_autofree char *path = g_build_filename(dom->dir, name, NULL);
    if (!e2e_make_sparse_file(path, DISK_SIZE, error))
        return FALSE;
    xmlSetProp(src, BAD_CAST "file", BAD_CAST path);
    return TRUE;
}

static void
adjust_channel(xmlNode *chan, guint i, const E2eDomainXml *dom)
{
    xmlNode *src = child(chan, "source");
    if (src == NULL || !xmlHasProp(src, BAD_CAST "path"))
        return;
    g_autofree char *name = g_strdup_printf("channel-%u.sock", i);
    g_autofree char *path = g_build_filename(dom->dir, name, NULL);
    xmlSetProp(src, BAD_CAST "path", BAD_CAST path);
}

/* <sysinfo><system><entry name='uuid'> must equal the domain's uuid. */
static void
adjust_sysinfo(xmlNode *root, const E2eDomainXml *dom)
{
    xmlNode *system = child(child(root, "sysinfo"), "system");
    for (xmlNode *n = system != NULL ? system->children : NULL; n != NULL; n = n->next) {
        g_autofree char *name = is_element(n, "entry") ? prop(n, "name") : NULL;
        if (g_strcmp0(name, "uuid") == 0)
            set_text(n, dom->uuid);
    }
}

/* Every <serial>/<console> but the harness's unix one (it edits only the
 * first <devices> block; CloudStack's consoles are in the second). */
static void
drop_consoles(xmlNode *devs, const E2eDomainXml *dom, gboolean log)
{
    for (xmlNode *n = devs->children, *next; n != NULL; n = next) {
        next = n->next;
        if (!is_element(n, "serial") && !is_element(n, "console"))
            continue;
        g_autofree char *path = prop(child(n, "source"), "path");
        if (g_strcmp0(path, dom->serial_path) == 0) {
            if (log && child(n, "log") == NULL)
                add_serial_log(n, dom);
            continue;
        }
        xmlUnlinkNode(n);
        xmlFreeNode(n);
    }
}

static gboolean
adjust_devices(xmlNode *root, GPtrArray *orig, gboolean log, const E2eDomainXml *dom, GError **error)
{
    guint disk = 0, chan = 0;
    gboolean first_taken = FALSE;
    for (xmlNode *devs = root->children; devs != NULL; devs = devs->next) {
        if (!is_element(devs, "devices"))
            continue;
        for (xmlNode *n = devs->children; n != NULL; n = n->next) {
            if (is_element(n, "disk")) {
                const char *o = disk < orig->len ? g_ptr_array_index(orig, disk) : NULL;
                if (!adjust_disk(n, o, disk, &first_taken, dom, error))
                    return FALSE;
                disk++;
            } else if (is_element(n, "channel")) {
                adjust_channel(n, chan++, dom);
            }
        }
        drop_consoles(devs, dom, log);
    }
    return TRUE;
}

static AgentNic *
read_nic(xmlNode *n)
{
    AgentNic *nic = g_new0(AgentNic, 1);
    g_autofree char *mac = prop(child(n, "mac"), "address");
    nic->mac = mac != NULL ? g_ascii_strdown(mac, -1) : NULL;
    nic->type = prop(n, "type");
    nic->bridge = prop(child(n, "source"), "bridge");
    nic->network = prop(child(n, "source"), "network");
    nic->inbound = child(child(n, "bandwidth"), "inbound") != NULL;
    nic->outbound = child(child(n, "bandwidth"), "outbound") != NULL;
    g_autofree char *mtu = prop(child(n, "mtu"), "size");
    nic->mtu = mtu != NULL ? (guint)g_ascii_strtoull(mtu, NULL, 10) : 0;
    return nic;
}

void
agent_nic_free(AgentNic *nic)
{
    if (nic == NULL)
        return;
    g_free(nic->mac);
    g_free(nic->type);
    g_free(nic->bridge);
    g_free(nic->network);
    g_free(nic);
}

GPtrArray *
agent_nics_of_xml(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not XML");
        return NULL;
    }
    GPtrArray *nics = g_ptr_array_new_with_free_func((GDestroyNotify)agent_nic_free);
    if (is_element(root, "interface")) {
        g_ptr_array_add(nics, read_nic(root));
        return nics;
    }
    for (xmlNode *devs = root->children; devs != NULL; devs = devs->next) {
        if (!is_element(devs, "devices"))
            continue;
        for (xmlNode *n = devs->children; n != NULL; n = n->next)
            if (is_element(n, "interface"))
                g_ptr_array_add(nics, read_nic(n));
    }
    return nics;
}

gboolean
agent_machine_is_q35(const char *xml)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    xmlNode *type = child(child(doc != NULL ? xmlDocGetRootElement(doc) : NULL, "os"), "type");
    g_autofree char *machine = prop(type, "machine");
    return machine != NULL && strstr(machine, "q35") != NULL;
}

void
agent_facts_clear(AgentFacts *facts)
{
    g_clear_pointer(&facts->manufacturer, g_free);
    g_clear_pointer(&facts->product, g_free);
    g_clear_pointer(&facts->serial_log, g_free);
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
read_sysinfo(xmlNode *root, AgentFacts *facts)
{
    xmlNode *sysinfo = child(root, "sysinfo");
    g_autofree char *type = prop(sysinfo, "type");
    g_autofree char *mode = prop(child(child(root, "os"), "smbios"), "mode");
    if (g_strcmp0(type, "smbios") != 0 || g_strcmp0(mode, "sysinfo") != 0)
        return;
    xmlNode *system = child(sysinfo, "system");
    for (xmlNode *n = system != NULL ? system->children : NULL; n != NULL; n = n->next) {
        g_autofree char *name = is_element(n, "entry") ? prop(n, "name") : NULL;
        if (g_strcmp0(name, "manufacturer") == 0)
            facts->manufacturer = text_of(n);
        else if (g_strcmp0(name, "product") == 0)
            facts->product = text_of(n);
    }
}

void
agent_facts_of_xml(const char *xml, AgentFacts *facts)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    facts->vcpus = 1;
    if (root == NULL)
        return;
    read_sysinfo(root, facts);
    xmlNode *vcpu = child(root, "vcpu");
    if (vcpu != NULL) {
        g_autofree char *n = text_of(vcpu);
        facts->vcpus = (guint)g_ascii_strtoull(n, NULL, 10);
    }
    for (xmlNode *devs = root->children; devs != NULL; devs = devs->next) {
        if (!is_element(devs, "devices"))
            continue;
        for (xmlNode *n = devs->children; n != NULL; n = n->next) {
            g_autofree char *type = is_element(n, "graphics") ? prop(n, "type") : NULL;
            if (g_strcmp0(type, "vnc") == 0)
                facts->vnc = TRUE;
            if (is_element(n, "serial") && child(n, "log") != NULL && facts->serial_log == NULL)
                facts->serial_log = prop(child(n, "log"), "file");
        }
    }
}

E2eDomainXml *
agent_xml_prepare(const char *corpus_path, GError **error)
{
    g_autoptr(GPtrArray) orig = original_disk_sources(corpus_path, error);
    if (orig == NULL)
        return NULL;
    g_autoptr(E2eDomainXml) dom = e2e_xml_prepare(corpus_path, NULL, error);
    if (dom == NULL)
        return NULL;
    g_autoptr(xmlDoc) doc = xmlReadMemory(dom->xml, (int)strlen(dom->xml), NULL, NULL, XML_PARSE_NONET);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (!is_element(root, "domain")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the test copy %s is not a domain",
                    dom->xml_path);
        return NULL;
    }
    g_autofree char *type = prop(root, "type");
    if (g_strcmp0(type, "kvm") == 0)
        xmlSetProp(root, BAD_CAST "type", BAD_CAST "qemu");
    if (child(root, "os") != NULL)
        adjust_os(child(root, "os"), dom);
    adjust_sysinfo(root, dom);
    if (!adjust_devices(root, orig, original_has_serial_log(corpus_path), dom, error))
        return NULL;

    xmlChar *buf = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 0);
    g_free(dom->xml);
    dom->xml = g_strndup((const char *)buf, (gsize)len);
    xmlFree(buf);
    if (!g_file_set_contents(dom->xml_path, dom->xml, -1, error))
        return NULL;
    return g_steal_pointer(&dom);
}
