/* qemu-prepare.c: the host pieces of one QEMU that vnic creates itself.
 *
 * Owns vnic_qemu_runtime_prepare(): the monitor and chardev sockets (vnic
 * binds and listens, QEMU only accepts), the files chardevs write to, the
 * disk images and QEMU's log, all opened here so that QEMU, running
 * unprivileged, never opens them by path.  Every file created is recorded
 * in the runtime (path, device, inode); a failure removes those files and
 * closes every fd before returning.  NIC backends are the host layer's.
 */
#include "qemu/qemu-process-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static gboolean
host_error(GError **error, const VnicConfDomain *def, const VnicConfDevice *dev, int err,
           const char *what, const char *path)
{
    vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_HOST, "cannot %s '%s': %s", what, path,
                        g_strerror(err));
    return FALSE;
}

static void
record_owned(VnicQemuRuntime *rt, const char *path)
{
    VnicQemuOwnedFile *file = g_new0(VnicQemuOwnedFile, 1);
    struct stat st;

    file->path = g_strdup(path);
    if (lstat(path, &st) == 0) {
        file->dev = st.st_dev;
        file->ino = st.st_ino;
    }
    g_ptr_array_add(rt->owned, file);
}

/* A unix socket bound at @path and listening; recorded as owned. */
static gboolean
listen_unix(VnicQemuRuntime *rt, const VnicConfDomain *def, const VnicConfDevice *dev,
            const char *path, int *ret_fd, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd, err;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_HOST,
                            "socket path '%s' is longer than %zu bytes", path,
                            sizeof(sa.sun_path) - 1);
        return FALSE;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return host_error(error, def, dev, errno, "create a socket for", path);
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
        err = errno;
        close(fd);
        return host_error(error, def, dev, err, "bind a socket at", path);
    }
    record_owned(rt, path);
    if (chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
        err = errno;
        close(fd);
        return host_error(error, def, dev, err, "listen on", path);
    }
    *ret_fd = fd;
    return TRUE;
}

static char *
auto_socket_path(const VnicConfDomain *def, const VnicConfDevice *dev,
                 const VnicQemuChardev *chr, const char *run_dir)
{
    g_autofree char *id = vnic_qemu_device_id(def, dev);
    g_autofree char *file = NULL;
    const char *name = chr->name;

    /* libvirt names a channel's socket after its target, when that is a
     * plain file name */
    if (name != NULL && *name != '\0' && *name != '.' &&
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
            strlen(name))
        file = g_strdup(name);
    else
        file = g_strdup_printf("%s.sock", id);
    return g_build_filename(run_dir, file, NULL);
}

/* A socket without <source> is bound by vnic (libvirt's XML of a socket it
 * names itself): once the path is filled in, <source mode='bind'> says so
 * in the status XML too, which is read again after a daemon restart. */
static void
mark_bind(xmlNode *node)
{
    xmlNode *source = vnic_qemu_xml_child(node, "source");

    if (source == NULL) {
        xmlNode *first = node->children;

        while (first != NULL && first->type != XML_ELEMENT_NODE)
            first = first->next;
        source = xmlNewNode(node->ns, (const xmlChar *) "source");
        if (first != NULL)
            xmlAddPrevSibling(first, source);
        else
            xmlAddChild(node, source);
    }
    if (xmlHasProp(source, (const xmlChar *) "mode") == NULL)
        xmlSetProp(source, (const xmlChar *) "mode", (const xmlChar *) "bind");
}

/* @auto_pathed collects the devices whose source_path was filled in here,
 * so a failed prepare can take the paths back out. */
static gboolean
prepare_chardev(VnicQemuRuntime *rt, VnicConfDomain *def, VnicConfDevice *dev,
                const char *run_dir, GPtrArray *auto_pathed, GError **error)
{
    VnicQemuChardev chr;
    g_autofree char *path = NULL;
    int fd = -1;
    gboolean ok = TRUE;

    if (!vnic_qemu_chardev_parse(def, dev, &chr, error))
        return FALSE;
    if (chr.target != VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS && chr.backend == VNIC_QEMU_CHR_UNIX) {
        path = dev->source_path != NULL ? g_strdup(dev->source_path)
                                        : auto_socket_path(def, dev, &chr, run_dir);
        ok = listen_unix(rt, def, dev, path, &fd, error);
        if (ok) {
            vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_CHARDEV_SOCKET, &fd, 1);
            if (dev->source_path == NULL) {
                dev->source_path = g_steal_pointer(&path);
                g_ptr_array_add(auto_pathed, dev);
                mark_bind(dev->node);
            }
        }
    } else if (chr.target != VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS &&
               chr.backend == VNIC_QEMU_CHR_FILE) {
        fd = open(dev->source_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
                                    (chr.append ? O_APPEND : O_TRUNC), 0600);
        ok = fd >= 0 || host_error(error, def, dev, errno, "open", dev->source_path);
        if (ok)
            vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_CHARDEV_FILE, &fd, 1);
    }
    if (ok && chr.log_file != NULL && chr.target != VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS) {
        fd = open(chr.log_file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_APPEND |
                                (chr.log_append ? 0 : O_TRUNC), 0600);
        ok = fd >= 0 || host_error(error, def, dev, errno, "open the <log file>", chr.log_file);
        if (ok)
            vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_CHARDEV_LOG, &fd, 1);
    }
    vnic_qemu_chardev_clear(&chr);
    return ok;
}

static guint64
be64(const guint8 *p)
{
    guint64 v = 0;

    for (guint i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Refuses a qcow2 image that names another file (backing file, external
 * data file): QEMU would open it by path. */
static gboolean
check_qcow2(const VnicConfDomain *def, const VnicConfDevice *dev, int fd, GError **error)
{
    guint8 h[80] = { 0 };
    ssize_t n = pread(fd, h, sizeof(h), 0);

    if (n < 20 || memcmp(h, "QFI\xfb", 4) != 0) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_INVALID,
                            "'%s' is not a qcow2 image (<driver type='qcow2'>)",
                            dev->disk->source_file);
        return FALSE;
    }
    /* version at 4 (BE32), backing_file_offset at 8, incompatible_features
     * at 72 (version 3), bit 2: external data file */
    if (be64(h + 8) != 0 || (h[7] >= 3 && n >= 80 && (be64(h + 72) & 4) != 0)) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "'%s' has a backing or data file, which QEMU would open by path",
                            dev->disk->source_file);
        return FALSE;
    }
    return TRUE;
}

static gboolean
prepare_disk(VnicQemuRuntime *rt, const VnicConfDomain *def, const VnicConfDevice *dev,
             GError **error)
{
    const char *path = dev->disk->source_file;
    g_autofree char *device = vnic_qemu_xml_prop(dev->node, "device");
    g_autofree char *type = vnic_qemu_xml_prop(dev->node, "type");
    g_autofree char *format =
        vnic_qemu_xml_prop(vnic_qemu_xml_child(dev->node, "driver"), "type");
    gboolean ro = g_strcmp0(device, "cdrom") == 0 ||
                  vnic_qemu_xml_child(dev->node, "readonly") != NULL;
    gboolean block = g_strcmp0(type, "block") == 0;
    struct stat st;
    int fd;

    if (path == NULL)
        return TRUE;
    fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return host_error(error, def, dev, errno, "open", path);
    if (fstat(fd, &st) < 0 || (block ? !S_ISBLK(st.st_mode) : !S_ISREG(st.st_mode)) ||
        (g_strcmp0(format, "qcow2") == 0 && !check_qcow2(def, dev, fd, error))) {
        if (error != NULL && *error == NULL)
            vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_INVALID,
                                "'%s' is not a %s", path, block ? "block device" : "regular file");
        close(fd);
        return FALSE;
    }
    vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_DISK, &fd, 1);
    return TRUE;
}

static gboolean
prepare_log(VnicQemuRuntime *rt, const char *log_path, GError **error)
{
    rt->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
    if (rt->log_fd < 0)
        return host_error(error, NULL, NULL, errno, "open the log", log_path);
    rt->log_path = g_strdup(log_path);
    rt->log_start = lseek(rt->log_fd, 0, SEEK_END);
    if (rt->log_start < 0)
        rt->log_start = 0;
    return TRUE;
}

VnicQemuRuntime *
vnic_qemu_runtime_prepare(VnicConfDomain *def, const char *run_dir, const char *log_path,
                          GError **error)
{
    g_autoptr(VnicQemuRuntime) rt = vnic_qemu_runtime_new();
    g_autoptr(GPtrArray) auto_pathed = g_ptr_array_new();
    gboolean ok;
    int fd = -1;

    g_return_val_if_fail(def != NULL && run_dir != NULL && log_path != NULL, NULL);

    {
        g_autoptr(GDateTime) now = g_date_time_new_now_local();

        rt->now_utc = g_date_time_to_unix(now);
        rt->local_offset_s = g_date_time_get_utc_offset(now) / G_USEC_PER_SEC;
    }
    rt->qmp_path = g_build_filename(run_dir, "qmp.sock", NULL);
    ok = listen_unix(rt, def, NULL, rt->qmp_path, &fd, error);
    if (ok)
        vnic_qemu_runtime_add_fds(rt, NULL, VNIC_QEMU_FD_MONITOR, &fd, 1);
    for (guint i = 0; ok && i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (vnic_qemu_is_chardev(dev))
            ok = prepare_chardev(rt, def, dev, run_dir, auto_pathed, error);
        else if (dev->kind == VNIC_CONF_DEV_DISK)
            ok = prepare_disk(rt, def, dev, error);
    }
    if (ok)
        ok = vnic_qemu_prepare_kernel(rt, def, error) && vnic_qemu_prepare_graphics(def, error) &&
             prepare_log(rt, log_path, error);
    if (!ok) {
        vnic_qemu_runtime_remove_files(rt);
        for (guint i = 0; i < auto_pathed->len; i++)
            g_clear_pointer(&((VnicConfDevice *) g_ptr_array_index(auto_pathed, i))->source_path,
                            g_free);
        return NULL;
    }
    return g_steal_pointer(&rt);
}

void
vnic_qemu_runtime_remove_files(VnicQemuRuntime *rt)
{
    g_return_if_fail(rt != NULL);

    vnic_qemu_owned_remove(rt->owned);
    g_ptr_array_set_size(rt->owned, 0);
}

const char *
vnic_qemu_runtime_get_qmp_path(const VnicQemuRuntime *rt)
{
    g_return_val_if_fail(rt != NULL, NULL);
    return rt->qmp_path;
}
