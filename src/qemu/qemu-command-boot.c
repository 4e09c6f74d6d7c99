/* qemu-command-boot.c: how the guest boots and what its firmware tells it.
 *
 * Owns the <os> rows of qemu-command.c's table and <sysinfo>:
 *
 *   <kernel>, <initrd>   -kernel/-initrd /proc/self/fd/N: vnic hands QEMU the
 *                        open file (world-readable) or a sealed memfd copy
 *                        of it, so a kernel only root can read, in a
 *                        directory only root may enter, still boots under
 *                        the unprivileged QEMU
 *   <cmdline>            -append
 *   <loader type='pflash'> / firmware='efi'
 *                        -blockdev file on /dev/fdset/N (+ raw format node),
 *                        -machine pflash0=…; the <nvram> (created from its
 *                        template by vnic) likewise as pflash1, read-write.
 *                        secure='yes' → smm=on + cfi.pflash01.secure=on.
 *                        <loader type='rom'> and stateless firmware refused
 *   <smbios mode='sysinfo'> + <sysinfo type='smbios'>
 *                        -smbios type=0 (<bios>), type=1 (<system>), type=2
 *                        (<baseBoard>), type=3 (<chassis>), type=11
 *                        (<oemStrings>); mode='emulate' or no <smbios>:
 *                        QEMU's defaults (libvirt ignores <sysinfo> then
 *                        too); mode='host' refused (vnic does not read the
 *                        host's tables)
 *   <sysinfo type='fwcfg'> -fw_cfg name=…,string=… for <entry name>value;
 *                        entries with file= refused (QEMU would open it)
 *
 * Pure: paths were opened by qemu-prepare-boot.c, which put the fds in the
 * runtime; here only their child numbers are used.
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

static gboolean
unsupported(GError **error, const char *what, const char *value, const char *why)
{
    g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                "unsupported value '%s' for %s%s%s", value != NULL ? value : "", what,
                why != NULL ? ": " : "", why != NULL ? why : "");
    return FALSE;
}

static const int *
domain_fd(VnicQemuBuild *b, VnicQemuFdKind kind, const char *what, GError **error)
{
    guint n = 0;
    const int *fds = vnic_qemu_runtime_get_child_fds(b->rt, NULL, kind, &n);

    if (n != 1) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "the runtime has no open file for %s", what);
        return NULL;
    }
    return fds;
}

static gboolean
add_kernel(VnicQemuBuild *b, GError **error)
{
    const VnicConfDomain *def = b->def;
    const char *paths[] = { def->kernel, def->initrd };
    static const char *const opts[] = { "-kernel", "-initrd" };
    static const char *const elems[] = { "<os><kernel>", "<os><initrd>" };
    static const VnicQemuFdKind kinds[] = { VNIC_QEMU_FD_KERNEL, VNIC_QEMU_FD_INITRD };

    if (def->kernel == NULL && (def->initrd != NULL || def->cmdline != NULL)) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "<os><%s> needs <os><kernel>", def->initrd != NULL ? "initrd" : "cmdline");
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
        const int *fd;
        g_autofree char *proc = NULL;

        if (paths[i] == NULL)
            continue;
        if (!g_path_is_absolute(paths[i])) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                        "%s '%s' is not an absolute path (QEMU runs in /)", elems[i], paths[i]);
            return FALSE;
        }
        if ((fd = domain_fd(b, kinds[i], elems[i], error)) == NULL)
            return FALSE;
        /* QEMU fopen()s these: /proc/self/fd reopens what vnic opened */
        proc = g_strdup_printf("/proc/self/fd/%d", fd[0]);
        vnic_qemu_build_add(b, opts[i]);
        vnic_qemu_build_add(b, proc);
    }
    if (def->cmdline != NULL) {
        vnic_qemu_build_add(b, "-append");
        vnic_qemu_build_add(b, def->cmdline);
    }
    return TRUE;
}

/* -add-fd + -blockdev file + -blockdev raw for pflash @unit. */
static gboolean
add_pflash(VnicQemuBuild *b, VnicQemuFdKind kind, guint unit, gboolean readonly,
           GString *machine, GError **error)
{
    const int *fd = domain_fd(b, kind, unit == 0 ? "<os><loader>" : "<os><nvram>", error);
    g_autoptr(GString) add = g_string_new(NULL);
    g_autofree char *file = NULL;
    g_autofree char *format = NULL;
    guint set;

    if (fd == NULL)
        return FALSE;
    set = b->next_fdset++;
    vnic_qemu_opt_uint(add, "fd", (guint) fd[0]);
    vnic_qemu_opt_uint(add, "set", set);
    vnic_qemu_build_add_pair(b, "-add-fd", add);
    file = g_strdup_printf("{\"driver\":\"file\",\"filename\":\"/dev/fdset/%u\","
                           "\"node-name\":\"vnic-pflash%u-storage\",\"read-only\":%s}",
                           set, unit, readonly ? "true" : "false");
    format = g_strdup_printf("{\"node-name\":\"vnic-pflash%u-format\",\"read-only\":%s,"
                             "\"driver\":\"raw\",\"file\":\"vnic-pflash%u-storage\"}",
                             unit, readonly ? "true" : "false", unit);
    vnic_qemu_build_add(b, "-blockdev");
    vnic_qemu_build_add(b, file);
    vnic_qemu_build_add(b, "-blockdev");
    vnic_qemu_build_add(b, format);
    g_string_append_printf(machine, "%spflash%u=vnic-pflash%u-format",
                           machine->len > 0 ? "," : "", unit, unit);
    return TRUE;
}

gboolean
vnic_qemu_boot_firmware(const VnicConfDomain *def, VnicQemuFirmware *fw, GError **error)
{
    xmlNode *root = def->doc != NULL ? xmlDocGetRootElement(def->doc) : NULL;
    xmlNode *os = vnic_qemu_xml_child(root, "os");
    xmlNode *loader = vnic_qemu_xml_child(os, "loader");
    xmlNode *nvram = vnic_qemu_xml_child(os, "nvram");
    g_autofree char *firmware = vnic_qemu_xml_prop(os, "firmware");
    g_autofree char *type = vnic_qemu_xml_prop(loader, "type");
    g_autofree char *ro = vnic_qemu_xml_prop(loader, "readonly");
    g_autofree char *secure = vnic_qemu_xml_prop(loader, "secure");
    g_autofree char *stateless = vnic_qemu_xml_prop(loader, "stateless");

    memset(fw, 0, sizeof(*fw));
    if (firmware != NULL && strcmp(firmware, "efi") != 0 && strcmp(firmware, "bios") != 0)
        return unsupported(error, "<os firmware>", firmware, "use efi or bios");
    if (loader == NULL && g_strcmp0(firmware, "efi") != 0) {
        if (nvram != NULL)
            return unsupported(error, "<os><nvram>", "", "an nvram needs a pflash <loader>");
        return TRUE;
    }
    if (type != NULL && strcmp(type, "pflash") != 0)
        return unsupported(error, "<loader type>", type,
                           "the launcher runs pflash firmware only");
    if (g_strcmp0(stateless, "yes") == 0)
        return unsupported(error, "<loader stateless>", stateless, NULL);
    fw->pflash = TRUE;
    fw->loader = vnic_qemu_xml_child_text(os, "loader");
    if (fw->loader != NULL && *fw->loader == '\0')
        g_clear_pointer(&fw->loader, g_free);
    if (fw->loader != NULL && !g_path_is_absolute(fw->loader)) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "<os><loader> '%s' is not an absolute path", fw->loader);
        vnic_qemu_firmware_clear(fw);
        return FALSE;
    }
    fw->loader_readonly = g_strcmp0(ro, "no") != 0;
    fw->secure = g_strcmp0(secure, "yes") == 0;
    fw->nvram = vnic_qemu_xml_child_text(os, "nvram");
    if (fw->nvram != NULL && *fw->nvram == '\0')
        g_clear_pointer(&fw->nvram, g_free);
    fw->nvram_template = vnic_qemu_xml_prop(nvram, "template");
    /* a read-write loader is its own store; a read-only one needs vars */
    fw->has_nvram = fw->loader_readonly;
    return TRUE;
}

void
vnic_qemu_firmware_clear(VnicQemuFirmware *fw)
{
    g_clear_pointer(&fw->loader, g_free);
    g_clear_pointer(&fw->nvram, g_free);
    g_clear_pointer(&fw->nvram_template, g_free);
}

static gboolean
add_firmware(VnicQemuBuild *b, GError **error)
{
    VnicQemuFirmware fw;
    g_autoptr(GString) machine = g_string_new(NULL);
    gboolean ok;

    if (!vnic_qemu_boot_firmware(b->def, &fw, error))
        return FALSE;
    ok = !fw.pflash ||
         (add_pflash(b, VNIC_QEMU_FD_LOADER, 0, fw.loader_readonly, machine, error) &&
          (!fw.has_nvram || add_pflash(b, VNIC_QEMU_FD_NVRAM, 1, FALSE, machine, error)));
    if (ok && (fw.secure || b->rt->firmware_smm)) {
        g_string_append(machine, ",smm=on");
        vnic_qemu_build_add(b, "-global");
        vnic_qemu_build_add(b, "driver=cfi.pflash01,property=secure,value=on");
    }
    if (ok && machine->len > 0)
        vnic_qemu_build_add_pair(b, "-machine", machine);
    vnic_qemu_firmware_clear(&fw);
    return ok;
}

/* ---- <sysinfo> ------------------------------------------------------------ */

typedef struct {
    const char *elem;       /* child of <sysinfo type='smbios'> */
    const char *type;       /* -smbios type= */
    const char *const *names; /* libvirt entry names → QEMU keys (same spelling) */
} SmbiosTable;

static const char *const bios_names[] = { "vendor", "version", "date", "release", NULL };
static const char *const system_names[] = { "manufacturer", "product", "version", "serial",
                                            "uuid", "sku", "family", NULL };
static const char *const board_names[] = { "manufacturer", "product", "version", "serial",
                                           "asset", "location", NULL };
static const char *const chassis_names[] = { "manufacturer", "version", "serial", "asset",
                                             "sku", NULL };

static const SmbiosTable smbios_tables[] = {
    { "bios", "0", bios_names },
    { "system", "1", system_names },
    { "baseBoard", "2", board_names },
    { "chassis", "3", chassis_names },
};

static gboolean
smbios_entries(VnicQemuBuild *b, xmlNode *node, const SmbiosTable *t, gboolean emit,
               GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);

    vnic_qemu_opt(s, "type", t->type);
    for (xmlNode *e = node->children; e != NULL; e = e->next) {
        g_autofree char *name = NULL;
        g_autofree char *value = NULL;
        guint i;

        if (e->type != XML_ELEMENT_NODE)
            continue;
        name = vnic_qemu_xml_prop(e, "name");
        if (strcmp((const char *) e->name, "entry") != 0 || name == NULL) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "unsupported element <%s> in <sysinfo><%s>", (const char *) e->name,
                        t->elem);
            return FALSE;
        }
        for (i = 0; t->names[i] != NULL && strcmp(t->names[i], name) != 0; i++)
            ;
        if (t->names[i] == NULL)
            return unsupported(error, "<sysinfo><entry name>", name, t->elem);
        value = (char *) xmlNodeGetContent(e);
        if (strcmp(name, "uuid") == 0 && b->def->uuid != NULL &&
            g_ascii_strcasecmp(value, b->def->uuid) != 0) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                        "<sysinfo><system><entry name='uuid'> '%s' differs from the domain's "
                        "<uuid> %s", value, b->def->uuid);
            return FALSE;
        }
        vnic_qemu_opt(s, name, value);
    }
    if (emit)
        vnic_qemu_build_add_pair(b, "-smbios", s);
    return TRUE;
}

static void
smbios_oem(VnicQemuBuild *b, xmlNode *node, gboolean emit)
{
    g_autoptr(GString) s = g_string_new(NULL);

    vnic_qemu_opt(s, "type", "11");
    for (xmlNode *e = node->children; e != NULL; e = e->next) {
        g_autofree char *value = NULL;

        if (e->type != XML_ELEMENT_NODE || strcmp((const char *) e->name, "entry") != 0)
            continue;
        value = (char *) xmlNodeGetContent(e);
        vnic_qemu_opt(s, "value", value);
    }
    if (emit)
        vnic_qemu_build_add_pair(b, "-smbios", s);
}

/* Checks every table; writes them only with <smbios mode='sysinfo'> (@emit). */
static gboolean
add_smbios(VnicQemuBuild *b, xmlNode *sysinfo, gboolean emit, GError **error)
{
    for (xmlNode *c = sysinfo->children; c != NULL; c = c->next) {
        guint i;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *) c->name, "oemStrings") == 0) {
            smbios_oem(b, c, emit);
            continue;
        }
        for (i = 0; i < G_N_ELEMENTS(smbios_tables) &&
                    strcmp(smbios_tables[i].elem, (const char *) c->name) != 0; i++)
            ;
        if (i == G_N_ELEMENTS(smbios_tables)) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "unsupported element <%s> in <sysinfo type='smbios'>: the launcher "
                        "handles bios, system, baseBoard, chassis and oemStrings",
                        (const char *) c->name);
            return FALSE;
        }
        if (!smbios_entries(b, c, &smbios_tables[i], emit, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
add_fwcfg(VnicQemuBuild *b, xmlNode *sysinfo, GError **error)
{
    for (xmlNode *e = sysinfo->children; e != NULL; e = e->next) {
        g_autofree char *name = NULL;
        g_autofree char *value = NULL;
        g_autoptr(GString) s = g_string_new(NULL);

        if (e->type != XML_ELEMENT_NODE)
            continue;
        name = vnic_qemu_xml_prop(e, "name");
        if (strcmp((const char *) e->name, "entry") != 0 || name == NULL ||
            xmlHasProp(e, (const xmlChar *) "file") != NULL) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "unsupported <sysinfo type='fwcfg'> <%s>: the launcher passes "
                        "<entry name='…'>value</entry> only (no file=)", (const char *) e->name);
            return FALSE;
        }
        value = (char *) xmlNodeGetContent(e);
        vnic_qemu_opt(s, "name", name);
        vnic_qemu_opt(s, "string", value);
        vnic_qemu_build_add_pair(b, "-fw_cfg", s);
    }
    return TRUE;
}

static gboolean
add_sysinfo(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    xmlNode *os = vnic_qemu_xml_child(root, "os");
    g_autofree char *mode = vnic_qemu_xml_prop(vnic_qemu_xml_child(os, "smbios"), "mode");

    if (mode != NULL && strcmp(mode, "sysinfo") != 0 && strcmp(mode, "emulate") != 0)
        return unsupported(error, "<smbios mode>", mode,
                           "the launcher does not copy the host's tables; use sysinfo");
    for (xmlNode *c = root != NULL ? root->children : NULL; c != NULL; c = c->next) {
        g_autofree char *type = NULL;

        if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "sysinfo") != 0)
            continue;
        type = vnic_qemu_xml_prop(c, "type");
        if (g_strcmp0(type, "fwcfg") == 0) {
            if (!add_fwcfg(b, c, error))
                return FALSE;
        } else if (g_strcmp0(type, "smbios") != 0) {
            return unsupported(error, "<sysinfo type>", type, "use smbios or fwcfg");
        } else if (!add_smbios(b, c, g_strcmp0(mode, "sysinfo") == 0, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
vnic_qemu_build_boot(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    return add_firmware(b, error) && add_kernel(b, error) && add_sysinfo(b, root, error);
}
