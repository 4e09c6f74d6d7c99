/* qemu-prepare-boot.c: the files a guest boots from, opened by vnic.
 *
 * Owns the domain-level fds of a runtime: the kernel and initrd (QEMU,
 * unprivileged, reopens them through /proc/self/fd: the file itself when
 * it is world-readable, whatever its directories allow, else a sealed
 * memfd copy), the pflash firmware and its varstore (opened here; the
 * varstore is created from its template when missing, like libvirt does),
 * and the serials' <log file>s.  Firmware for <os firmware='efi'> is
 * chosen from QEMU's firmware descriptors (/usr/share/qemu/firmware,
 * /etc/qemu/firmware: same name overrides), in file-name order.
 * Failures close what was opened; a created varstore is kept (it is the
 * guest's state, not a runtime file).
 */
#include "qemu/qemu-process-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
host_error(GError **error, int err, const char *what, const char *path)
{
    g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST, "cannot %s '%s': %s", what, path,
                g_strerror(err));
    return FALSE;
}

/* An fd QEMU can reopen through /proc/self/fd/N: the file itself when
 * anyone may read it (the magic link skips the directories' permissions,
 * not the file's), else a sealed memfd holding a copy, which costs its
 * size in memory for the guest's life. */
static int
boot_fd(const char *path, const char *elem, GError **error)
{
    int src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    int fd, err = 0;
    off_t off = 0;

    if (src < 0) {
        host_error(error, errno, "open", path);
        g_prefix_error(error, "%s: ", elem);
        return -1;
    }
    if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(src);
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "%s '%s' is not a regular file", elem, path);
        return -1;
    }
    if ((st.st_mode & S_IROTH) != 0)
        return src;
    fd = memfd_create("vnic-boot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        err = errno;
    } else {
        while (off < st.st_size) {
            ssize_t n = sendfile(fd, src, &off, (size_t) (st.st_size - off));
            if (n <= 0) {
                err = n < 0 ? errno : EIO;
                break;
            }
        }
    }
    close(src);
    if (err == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                                               F_SEAL_SEAL) < 0)
        err = errno;
    if (err != 0) {
        if (fd >= 0)
            close(fd);
        host_error(error, err, "copy", path);
        g_prefix_error(error, "%s: ", elem);
        return -1;
    }
    return fd;
}

gboolean
vnic_qemu_prepare_kernel(VnicQemuRuntime *rt, const VnicConfDomain *def, GError **error)
{
    const char *paths[] = { def->kernel, def->initrd };
    static const char *const elems[] = { "<os><kernel>", "<os><initrd>" };
    static const VnicQemuFdKind kinds[] = { VNIC_QEMU_FD_KERNEL, VNIC_QEMU_FD_INITRD };

    for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
        int fd;

        if (paths[i] == NULL)
            continue;
        if ((fd = boot_fd(paths[i], elems[i], error)) < 0)
            return FALSE;
        vnic_qemu_runtime_add_fds(rt, NULL, kinds[i], &fd, 1);
    }
    return TRUE;
}

/* ---- firmware ------------------------------------------------------------- */

static gboolean
json_strv_has(JsonObject *o, const char *member, const char *value)
{
    JsonArray *a = json_object_has_member(o, member) ? json_object_get_array_member(o, member)
                                                     : NULL;

    for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
        if (g_strcmp0(json_array_get_string_element(a, i), value) == 0)
            return TRUE;
    }
    return FALSE;
}

static const char *
json_path(JsonObject *o, const char *a, const char *b, const char *c)
{
    JsonObject *x = o;
    const char *keys[] = { a, b };

    for (guint i = 0; i < G_N_ELEMENTS(keys) && keys[i] != NULL && x != NULL; i++) {
        JsonNode *n = json_object_get_member(x, keys[i]);
        x = n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    }
    return x != NULL ? json_object_get_string_member_with_default(x, c, NULL) : NULL;
}

static gboolean
descriptor_targets(JsonObject *o, const char *machine_glob)
{
    JsonArray *t = json_object_has_member(o, "targets") ? json_object_get_array_member(o, "targets")
                                                        : NULL;

    for (guint i = 0; t != NULL && i < json_array_get_length(t); i++) {
        JsonObject *target = json_array_get_object_element(t, i);
        JsonArray *m;

        if (target == NULL || g_strcmp0(json_object_get_string_member_with_default(
                                  target, "architecture", ""), "x86_64") != 0 ||
            !json_object_has_member(target, "machines"))
            continue;
        m = json_object_get_array_member(target, "machines");
        for (guint j = 0; j < json_array_get_length(m); j++) {
            if (g_pattern_match_simple(json_array_get_string_element(m, j), machine_glob))
                return TRUE;
        }
    }
    return FALSE;
}

/* The descriptor files, later directories overriding same-named ones,
 * in name order. */
static GPtrArray *
descriptor_paths(void)
{
    static const char *const dirs[] = { "/usr/share/qemu/firmware", "/etc/qemu/firmware" };
    g_autoptr(GHashTable) by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                          g_free);
    g_autoptr(GList) names = NULL;
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autoptr(GDir) dir = g_dir_open(dirs[i], 0, NULL);
        const char *name;

        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
            if (g_str_has_suffix(name, ".json"))
                g_hash_table_replace(by_name, g_strdup(name),
                                     g_build_filename(dirs[i], name, NULL));
        }
    }
    names = g_list_sort(g_hash_table_get_keys(by_name), (GCompareFunc) strcmp);
    for (GList *l = names; l != NULL; l = l->next)
        g_ptr_array_add(paths, g_strdup(g_hash_table_lookup(by_name, l->data)));
    return paths;
}

/* Does descriptor @o satisfy the <firmware><feature>s of @os? */
static gboolean
descriptor_features(JsonObject *o, xmlNode *os, gboolean secure)
{
    xmlNode *fw = vnic_qemu_xml_child(os, "firmware");
    gboolean asked_secure = FALSE;

    for (xmlNode *f = fw != NULL ? fw->children : NULL; f != NULL; f = f->next) {
        g_autofree char *name = NULL;
        g_autofree char *enabled = NULL;

        if (f->type != XML_ELEMENT_NODE || strcmp((const char *) f->name, "feature") != 0)
            continue;
        name = vnic_qemu_xml_prop(f, "name");
        enabled = vnic_qemu_xml_prop(f, "enabled");
        if (g_strcmp0(name, "secure-boot") == 0)
            asked_secure = TRUE;
        if (json_strv_has(o, "features", name) != (g_strcmp0(enabled, "yes") == 0))
            return FALSE;
    }
    /* without a preference: what <loader secure> says, and no SMM-only
     * firmware otherwise (vnic's choice: TCG guests boot faster without SMM) */
    if (!asked_secure && json_strv_has(o, "features", "secure-boot") != secure)
        return FALSE;
    return secure || !json_strv_has(o, "features", "requires-smm");
}

/* Fills in @fw->loader and @fw->nvram_template from the first descriptor
 * that fits (or, with a loader given, the one for that loader). */
static gboolean
choose_firmware(const VnicConfDomain *def, VnicQemuFirmware *fw, GError **error)
{
    xmlNode *root = def->doc != NULL ? xmlDocGetRootElement(def->doc) : NULL;
    xmlNode *os = vnic_qemu_xml_child(root, "os");
    const char *glob = def->family == VNIC_MACHINE_Q35 ? "pc-q35-*" : "pc-i440fx-*";
    g_autoptr(GPtrArray) paths = descriptor_paths();

    for (guint i = 0; i < paths->len; i++) {
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *o;
        const char *exe, *vars;

        if (!json_parser_load_from_file(parser, g_ptr_array_index(paths, i), NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
            continue;
        o = json_node_get_object(json_parser_get_root(parser));
        exe = json_path(o, "mapping", "executable", "filename");
        vars = json_path(o, "mapping", "nvram-template", "filename");
        if (exe == NULL || !json_strv_has(o, "interface-types", "uefi") ||
            g_strcmp0(json_path(o, "mapping", NULL, "device"), "flash") != 0 ||
            !descriptor_targets(o, glob))
            continue;
        if (fw->loader != NULL ? strcmp(fw->loader, exe) != 0
                               : !descriptor_features(o, os, fw->secure))
            continue;
        if (fw->loader == NULL)
            fw->loader = g_strdup(exe);
        /* a Secure Boot build that needs SMM does not boot without it,
         * whatever <loader secure> says */
        fw->secure = fw->secure || json_strv_has(o, "features", "requires-smm");
        if (fw->nvram_template == NULL && vars != NULL)
            fw->nvram_template = g_strdup(vars);
        return TRUE;
    }
    if (fw->loader != NULL)
        return TRUE; /* a loader no descriptor knows: it must come with a template */
    g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST,
                "<os firmware='efi'>: no UEFI firmware descriptor for x86_64 %s in "
                "/usr/share/qemu/firmware fits (install ovmf)", glob);
    return FALSE;
}

/* Copies @template to @path (mode 0600), unless @path exists. */
static gboolean
create_nvram(const char *path, const char *template, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *tmp = g_strconcat(path, ".vnic-new", NULL);
    g_autofree char *contents = NULL;
    gsize len = 0;

    if (g_file_test(path, G_FILE_TEST_EXISTS))
        return TRUE;
    if (template == NULL) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "<os><nvram> '%s' does not exist and there is no template to create it "
                    "from (<nvram template>)", path);
        return FALSE;
    }
    if (g_mkdir_with_parents(dir, 0700) < 0)
        return host_error(error, errno, "create the directory", dir);
    if (!g_file_get_contents(template, &contents, &len, error)) {
        g_prefix_error(error, "<nvram template>: ");
        return FALSE;
    }
    if (!g_file_set_contents_full(path, contents, (gssize) len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
        g_prefix_error(error, "<os><nvram>: ");
        return FALSE;
    }
    return TRUE;
}

static gboolean
open_into(VnicQemuRuntime *rt, VnicQemuFdKind kind, const char *path, gboolean rw,
          const char *elem, GError **error)
{
    int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        host_error(error, errno, "open", path);
        g_prefix_error(error, "%s: ", elem);
        return FALSE;
    }
    vnic_qemu_runtime_add_fds(rt, NULL, kind, &fd, 1);
    return TRUE;
}

gboolean
vnic_qemu_runtime_prepare_firmware(VnicQemuRuntime *rt, const VnicConfDomain *def,
                                   const char *nvram_dir, GError **error)
{
    VnicQemuFirmware fw;
    g_autofree char *nvram = NULL;
    gboolean ok;

    g_return_val_if_fail(rt != NULL && def != NULL && nvram_dir != NULL, FALSE);

    if (!vnic_qemu_boot_firmware(def, &fw, error))
        return FALSE;
    if (!fw.pflash) {
        vnic_qemu_firmware_clear(&fw);
        return TRUE;
    }
    ok = choose_firmware(def, &fw, error);
    if (ok) {
        g_autofree char *file = g_strdup_printf("%s_VARS.fd", def->name);

        rt->firmware_smm = fw.secure;
        nvram = fw.nvram != NULL ? g_strdup(fw.nvram)
                                 : g_build_filename(nvram_dir, file, NULL);
        ok = open_into(rt, VNIC_QEMU_FD_LOADER, fw.loader, !fw.loader_readonly, "<os><loader>",
                       error) &&
             (!fw.has_nvram ||
              (create_nvram(nvram, fw.nvram_template, error) &&
               open_into(rt, VNIC_QEMU_FD_NVRAM, nvram, TRUE, "<os><nvram>", error)));
    }
    vnic_qemu_firmware_clear(&fw);
    return ok;
}
