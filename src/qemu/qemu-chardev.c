/* qemu-chardev.c: serials, consoles and channels on QEMU's command line.
 *
 * Owns the reading of character device XML (which conf carries verbatim
 * apart from the source path) and their -chardev/-device arguments.
 *
 *   type    source                        QEMU backend
 *   pty     –                             -chardev pty (path read with
 *                                         query-chardev after start)
 *   unix    mode='bind' [path]            -chardev socket,fd=N,server=on,wait=off
 *                                         on a socket vnic bound and listens on;
 *                                         no <source> at all (libvirt's XML of a
 *                                         socket it names) is bind too
 *   file    path [append]                 -add-fd + -chardev file,path=/dev/fdset/S
 *   null    –                             -chardev null
 *   spicevmc (channel, with SPICE graphics) -chardev spicevmc,name=vdagent
 *   others  (tcp, udp, dev, pipe, stdio, vc, spiceport, …, unix mode='connect')
 *           refused: QEMU would have to open or connect something itself.
 *
 *   target                                 device
 *   serial, target isa-serial (default)    isa-serial,index=<port>
 *   console, target serial (default)       none: the serial with that port;
 *                                          without one, an isa-serial of its
 *                                          own (libvirt adds that serial)
 *   <log file append>                      logfile=/dev/fdset/S,logappend=on:
 *                                          vnic opens the file (truncated
 *                                          unless append='on')
 *   console, target virtio                 virtconsole on virtio-serialN.B
 *   channel, target virtio                 virtserialport,name=… on virtio-serialN.B
 *   others  (usb-serial, guestfwd, xen, sclp, …) refused.
 *
 * Pure.  Ports on virtio-serial buses: an <address type='virtio-serial'>
 * is used as given; otherwise consoles take the lowest free port from 0
 * and channels from 1 (QEMU reserves 0 for consoles), as libvirt does.
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

gboolean
vnic_qemu_is_chardev(const VnicConfDevice *dev)
{
    return dev->kind == VNIC_CONF_DEV_SERIAL || dev->kind == VNIC_CONF_DEV_CONSOLE ||
           dev->kind == VNIC_CONF_DEV_CHANNEL;
}

void
vnic_qemu_chardev_clear(VnicQemuChardev *chr)
{
    g_clear_pointer(&chr->name, g_free);
    g_clear_pointer(&chr->log_file, g_free);
}

static gboolean
parse_backend(const VnicConfDomain *def, const VnicConfDevice *dev, VnicQemuChardev *chr,
              GError **error)
{
    static const char *const source_attrs[] = { "mode", "path", "append", NULL };
    static const char *const types[] = { "pty", "unix", "file", "null", "spicevmc", NULL };
    const char *elem = vnic_conf_device_kind_to_string(dev->kind);
    g_autofree char *type = vnic_qemu_xml_prop(dev->node, "type");
    xmlNode *source = vnic_qemu_xml_child(dev->node, "source");
    g_autofree char *mode = vnic_qemu_xml_prop(source, "mode");
    g_autofree char *append = vnic_qemu_xml_prop(source, "append");
    guint i;

    for (i = 0; types[i] != NULL && g_strcmp0(type, types[i]) != 0; i++)
        ;
    if (types[i] == NULL) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "unsupported value '%s' for <%s type>: the QEMU launcher handles "
                            "pty, unix (mode='bind'), file, null and spicevmc",
                            type != NULL ? type : "", elem);
        return FALSE;
    }
    chr->backend = (VnicQemuChrBackend) i;
    if (!vnic_qemu_xml_check(def, dev, source, source_attrs, NULL, error))
        return FALSE;
    if (chr->backend == VNIC_QEMU_CHR_SPICEVMC &&
        (dev->kind != VNIC_CONF_DEV_CHANNEL || !vnic_qemu_has_spice(def))) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "<%s type='spicevmc'> needs to be a <channel> and a "
                            "<graphics type='spice'>", elem);
        return FALSE;
    }
    /* libvirt writes a unix chardev whose socket it names itself (mode
     * bind, no path) without any <source>: that is bind too */
    if (chr->backend == VNIC_QEMU_CHR_UNIX && mode == NULL && dev->source_path == NULL)
        mode = g_strdup("bind");
    if (chr->backend == VNIC_QEMU_CHR_UNIX && g_strcmp0(mode, "bind") != 0) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "unsupported value '%s' for <source mode>: vnic listens on the "
                            "socket itself, use mode='bind'",
                            mode != NULL ? mode : "connect");
        return FALSE;
    }
    if (chr->backend == VNIC_QEMU_CHR_FILE && dev->source_path == NULL) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_INVALID,
                            "<%s type='file'> needs a <source path>", elem);
        return FALSE;
    }
    chr->append = g_strcmp0(append, "on") == 0;
    return TRUE;
}

/* The serial whose port is @port, or NULL. */
static const VnicConfDevice *
find_serial(const VnicConfDomain *def, guint port)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        guint64 p;

        if (d->kind != VNIC_CONF_DEV_SERIAL)
            continue;
        if (vnic_qemu_xml_prop_uint(def, d, vnic_qemu_xml_child(d->node, "target"), "port",
                                    vnic_qemu_kind_index(def, d), &p, NULL) &&
            p == port)
            return d;
    }
    return NULL;
}

static gboolean
parse_vs_address(const VnicConfDomain *def, const VnicConfDevice *dev, VnicQemuChardev *chr,
                 GError **error)
{
    xmlNode *addr = vnic_qemu_xml_child(dev->node, "address");
    g_autofree char *type = vnic_qemu_xml_prop(addr, "type");
    guint64 c, b, p;

    chr->vs_controller = chr->vs_bus = chr->vs_port = -1;
    if (addr == NULL)
        return TRUE;
    if (g_strcmp0(type, "virtio-serial") != 0) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "unsupported value '%s' for <address type>: a virtio port takes "
                            "a 'virtio-serial' address", type != NULL ? type : "");
        return FALSE;
    }
    if (!vnic_qemu_xml_prop_uint(def, dev, addr, "controller", 0, &c, error) ||
        !vnic_qemu_xml_prop_uint(def, dev, addr, "bus", 0, &b, error) ||
        !vnic_qemu_xml_prop_uint(def, dev, addr, "port", G_MAXINT, &p, error))
        return FALSE;
    chr->vs_controller = (gint) MIN(c, G_MAXINT);
    chr->vs_bus = (gint) MIN(b, G_MAXINT);
    chr->vs_port = p == G_MAXINT ? -1 : (gint) MIN(p, G_MAXINT);
    return TRUE;
}

static gboolean
parse_target(const VnicConfDomain *def, const VnicConfDevice *dev, VnicQemuChardev *chr,
             GError **error)
{
    static const char *const serial_attrs[] = { "type", "port", NULL };
    static const char *const channel_attrs[] = { "type", "name", "state", NULL };
    xmlNode *target = vnic_qemu_xml_child(dev->node, "target");
    g_autofree char *type = vnic_qemu_xml_prop(target, "type");
    g_autofree char *model = vnic_qemu_xml_prop(vnic_qemu_xml_child(target, "model"), "name");
    const char *elem = vnic_conf_device_kind_to_string(dev->kind);
    guint64 port;

    if (!vnic_qemu_xml_check(def, dev, target,
                             dev->kind == VNIC_CONF_DEV_CHANNEL ? channel_attrs : serial_attrs,
                             (const char *const[]){ "model", NULL }, error) ||
        !vnic_qemu_xml_prop_uint(def, dev, target, "port",
                                 dev->kind == VNIC_CONF_DEV_SERIAL
                                     ? vnic_qemu_kind_index(def, dev) : 0,
                                 &port, error))
        return FALSE;
    chr->port = (guint) MIN(port, G_MAXUINT);
    if (dev->kind == VNIC_CONF_DEV_SERIAL && (type == NULL || strcmp(type, "isa-serial") == 0) &&
        (model == NULL || strcmp(model, "isa-serial") == 0)) {
        chr->target = VNIC_QEMU_CHR_TARGET_ISA_SERIAL;
        return TRUE;
    }
    if (dev->kind == VNIC_CONF_DEV_CONSOLE && (type == NULL || strcmp(type, "serial") == 0)) {
        chr->serial = find_serial(def, chr->port);
        /* no <serial> behind it: like libvirt, which adds that serial to
         * the XML, the console is an isa-serial of its own */
        chr->target = chr->serial != NULL ? VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS
                                          : VNIC_QEMU_CHR_TARGET_ISA_SERIAL;
        return TRUE;
    }
    if ((dev->kind == VNIC_CONF_DEV_CONSOLE || dev->kind == VNIC_CONF_DEV_CHANNEL) &&
        g_strcmp0(type, "virtio") == 0) {
        chr->target = dev->kind == VNIC_CONF_DEV_CONSOLE ? VNIC_QEMU_CHR_TARGET_VIRTCONSOLE
                                                         : VNIC_QEMU_CHR_TARGET_VIRTSERIALPORT;
        chr->name = vnic_qemu_xml_prop(target, "name");
        return parse_vs_address(def, dev, chr, error);
    }
    if (dev->kind == VNIC_CONF_DEV_SERIAL && g_strcmp0(type, "pci-serial") == 0) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "<serial> with <target type='pci-serial'> is not supported by the "
                            "QEMU launcher: vnic runs ISA serial ports only (the PCI address "
                            "is planned all the same)");
        return FALSE;
    }
    vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "unsupported target '%s' for <%s>: the QEMU launcher handles "
                        "isa-serial serials, serial and virtio consoles and virtio channels",
                        model != NULL ? model : type != NULL ? type : "", elem);
    return FALSE;
}

/* The <log> of the console that shows serial @serial, or NULL. */
static xmlNode *
console_log_of(const VnicConfDomain *def, const VnicConfDevice *serial)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        xmlNode *target = vnic_qemu_xml_child(d->node, "target");
        g_autofree char *type = vnic_qemu_xml_prop(target, "type");
        guint64 port = 0;

        if (d->kind != VNIC_CONF_DEV_CONSOLE || (type != NULL && strcmp(type, "serial") != 0) ||
            !vnic_qemu_xml_prop_uint(def, d, target, "port", 0, &port, NULL) ||
            find_serial(def, (guint) port) != serial)
            continue;
        return vnic_qemu_xml_child(d->node, "log");
    }
    return NULL;
}

/* A console that shows a serial logs through it: libvirt writes the same
 * <log> into both; a serial without one takes the console's. */
static gboolean
merge_console_log(const VnicConfDomain *def, const VnicConfDevice *dev, VnicQemuChardev *chr,
                  GError **error)
{
    xmlNode *console_log;

    if (chr->target == VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS && chr->log_file != NULL) {
        g_autofree char *serial_log = vnic_qemu_xml_prop(
            vnic_qemu_xml_child(chr->serial->node, "log"), "file");

        if (serial_log != NULL && strcmp(serial_log, chr->log_file) != 0) {
            vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                                "<log file='%s'> differs from the <log> of the serial it "
                                "shows: QEMU logs a serial to one file", chr->log_file);
            return FALSE;
        }
    } else if (dev->kind == VNIC_CONF_DEV_SERIAL && chr->log_file == NULL &&
               (console_log = console_log_of(def, dev)) != NULL) {
        g_autofree char *append = vnic_qemu_xml_prop(console_log, "append");

        chr->log_file = vnic_qemu_xml_prop(console_log, "file");
        chr->log_append = g_strcmp0(append, "on") == 0;
    }
    return TRUE;
}

gboolean
vnic_qemu_chardev_parse(const VnicConfDomain *def, const VnicConfDevice *dev,
                        VnicQemuChardev *chr, GError **error)
{
    static const char *const attrs[] = { "type", "tty", NULL };
    static const char *const children[] = { "source", "target", "alias", "address", "log",
                                            NULL };
    xmlNode *log = vnic_qemu_xml_child(dev->node, "log");
    g_autofree char *append = vnic_qemu_xml_prop(log, "append");

    memset(chr, 0, sizeof(*chr));
    chr->vs_controller = chr->vs_bus = chr->vs_port = -1;
    if (!vnic_qemu_xml_check(def, dev, dev->node, attrs, children, error) ||
        !vnic_qemu_xml_check(def, dev, log, (const char *const[]){ "file", "append", NULL },
                             NULL, error) ||
        !parse_backend(def, dev, chr, error) || !parse_target(def, dev, chr, error)) {
        vnic_qemu_chardev_clear(chr);
        return FALSE;
    }
    chr->log_file = vnic_qemu_xml_prop(log, "file");
    chr->log_append = g_strcmp0(append, "on") == 0;
    if (log != NULL && (chr->log_file == NULL || !g_path_is_absolute(chr->log_file))) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_INVALID,
                            "<log file> '%s' is not an absolute path",
                            chr->log_file != NULL ? chr->log_file : "");
        vnic_qemu_chardev_clear(chr);
        return FALSE;
    }
    if (!merge_console_log(def, dev, chr, error)) {
        vnic_qemu_chardev_clear(chr);
        return FALSE;
    }
    return TRUE;
}

/* ---- argv ------------------------------------------------------------ */

static char *
vs_key(const char *bus, gint port)
{
    return g_strdup_printf("%s:%d", bus, port);
}

/* The virtio-serial bus and port for a console/channel: its address, or
 * the lowest free port (consoles from 0, channels from 1). */
static gboolean
vs_place(VnicQemuBuild *b, const VnicConfDevice *dev, const VnicQemuChardev *chr,
         char **ret_bus, gint *ret_port, GError **error)
{
    guint ctrl = chr->vs_controller >= 0 ? (guint) chr->vs_controller : 0;
    const char *id =
        vnic_qemu_names_controller(b->names, VNIC_CONF_CONTROLLER_VIRTIO_SERIAL, ctrl);
    g_autofree char *bus = NULL;
    gint port = chr->vs_port;

    if (id == NULL) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "no virtio-serial controller with index %u", ctrl);
        return FALSE;
    }
    bus = g_strdup_printf("%s.%d", id, MAX(chr->vs_bus, 0));
    if (port < 0) {
        port = chr->target == VNIC_QEMU_CHR_TARGET_VIRTCONSOLE ? 0 : 1;
        for (;; port++) {
            g_autofree char *key = vs_key(bus, port);
            if (!g_hash_table_contains(b->vs_ports, key))
                break;
        }
    }
    g_hash_table_add(b->vs_ports, vs_key(bus, port));
    *ret_bus = g_steal_pointer(&bus);
    *ret_port = port;
    return TRUE;
}

static gboolean
add_backend(VnicQemuBuild *b, const VnicConfDevice *dev, const VnicQemuChardev *chr,
            const char *chr_id, GError **error)
{
    static const char *const backends[] = { "pty", "socket", "file", "null", "spicevmc" };
    g_autoptr(GString) s = g_string_new(backends[chr->backend]);
    g_autofree char *fdset = NULL;
    const int *fds;
    guint n_fds = 0;

    vnic_qemu_opt(s, "id", chr_id);
    if (chr->backend == VNIC_QEMU_CHR_SPICEVMC)
        vnic_qemu_opt(s, "name", "vdagent");
    if (chr->backend == VNIC_QEMU_CHR_UNIX) {
        fds = vnic_qemu_runtime_get_child_fds(b->rt, dev, VNIC_QEMU_FD_CHARDEV_SOCKET, &n_fds);
        if (n_fds != 1) {
            vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                                "the runtime has no listening socket for this device");
            return FALSE;
        }
        vnic_qemu_opt_uint(s, "fd", (guint) fds[0]);
        vnic_qemu_opt(s, "server", "on");
        vnic_qemu_opt(s, "wait", "off");
    } else if (chr->backend == VNIC_QEMU_CHR_FILE) {
        fdset = vnic_qemu_build_fdset(b, dev, VNIC_QEMU_FD_CHARDEV_FILE, error);
        if (fdset == NULL)
            return FALSE;
        vnic_qemu_opt(s, "path", fdset);
        if (chr->append)
            vnic_qemu_opt(s, "append", "on");
    } else if (chr->backend == VNIC_QEMU_CHR_PTY) {
        VnicQemuPty *pty = g_new0(VnicQemuPty, 1);

        pty->chardev = g_strdup(chr_id);
        pty->dev_id = g_strdup(vnic_qemu_names_get(b->names, dev));
        g_ptr_array_add(b->cmd->ptys, pty);
    }
    if (chr->log_file != NULL) {
        g_autofree char *log = vnic_qemu_build_fdset(b, dev, VNIC_QEMU_FD_CHARDEV_LOG, error);

        if (log == NULL)
            return FALSE;
        /* vnicd truncated the file unless append='on': QEMU only appends
         * (libvirt does the same) */
        vnic_qemu_opt(s, "logfile", log);
        vnic_qemu_opt(s, "logappend", "on");
    }
    vnic_qemu_build_add_pair(b, "-chardev", s);
    return TRUE;
}

gboolean
vnic_qemu_build_chardev(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const drivers[] = { "isa-serial", NULL, "virtconsole", "virtserialport" };
    VnicQemuChardev chr;
    const char *id = vnic_qemu_names_get(b->names, dev);
    g_autofree char *chr_id = g_strconcat("char", id, NULL);
    g_autofree char *bus = NULL;
    g_autoptr(GString) s = NULL;
    gint port = -1;
    gboolean ok;

    if (!vnic_qemu_chardev_parse(b->def, dev, &chr, error))
        return FALSE;
    ok = chr.target == VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS ||
         (add_backend(b, dev, &chr, chr_id, error) &&
          (chr.target == VNIC_QEMU_CHR_TARGET_ISA_SERIAL ||
           vs_place(b, dev, &chr, &bus, &port, error)));
    if (ok && chr.target != VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS) {
        s = g_string_new(drivers[chr.target]);
        vnic_qemu_opt(s, "chardev", chr_id);
        vnic_qemu_opt(s, "id", id);
        if (chr.target == VNIC_QEMU_CHR_TARGET_ISA_SERIAL) {
            vnic_qemu_opt_uint(s, "index", chr.port);
        } else {
            vnic_qemu_opt(s, "bus", bus);
            vnic_qemu_opt_uint(s, "nr", (guint) port);
            if (chr.name != NULL)
                vnic_qemu_opt(s, "name", chr.name);
        }
        vnic_qemu_build_add_pair(b, "-device", s);
    }
    vnic_qemu_chardev_clear(&chr);
    return ok;
}

gboolean
vnic_qemu_chardev_reserve_ports(VnicQemuBuild *b, GError **error)
{
    for (guint i = 0; i < b->def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(b->def->devices, i);
        VnicQemuChardev chr;
        g_autofree char *bus = NULL;
        gint port;
        gboolean ok;

        if (!vnic_qemu_is_chardev(dev))
            continue;
        if (!vnic_qemu_chardev_parse(b->def, dev, &chr, error))
            return FALSE;
        ok = chr.vs_port < 0 || vs_place(b, dev, &chr, &bus, &port, error);
        vnic_qemu_chardev_clear(&chr);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}
