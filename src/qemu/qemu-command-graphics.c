/* qemu-command-graphics.c: <graphics> on the command line.  Pure.
 *
 *   vnc     -vnc ADDR:DISPLAY (display = port - 5900).  The port is the
 *           <graphics port>, or for autoport='yes' / port='-1' the free
 *           port vnicd picked at start and wrote into the live XML
 *           (vnic_qemu_runtime_prepare_graphics).  Listen address: listen=
 *           or <listen type='address' address>, default 127.0.0.1 (libvirt's
 *           vnc_listen); <listen type='none'> → -vnc none; <listen
 *           type='socket' socket> → -vnc unix:PATH (QEMU binds it: the
 *           directory must be writable by QEMU's user; without socket=
 *           vnicd picks RUN_DIR/qemu/NAME/vnc.sock in a directory QEMU's
 *           user owns, vnic_qemu_graphics_default_sockets()).  passwd= →
 *           password=on and `set_password` before `cont`: the password never
 *           reaches the command line.  keymap → -k.  websocket → websocket=.
 *   spice   -spice port=…,addr=… (or unix=on,addr=PATH); password like
 *           vnc, else disable-ticketing=on; <image|jpeg|zlib|playback
 *           compression>, <streaming mode>, <clipboard copypaste='no'>,
 *           <filetransfer enable='no'>, <mouse mode> as libvirt maps them.
 *           tlsPort, <channel>, <gl> refused (no TLS setup in vnic).
 *   redirdev bus='usb' type='spicevmc' → -chardev spicevmc,name=usbredir +
 *           usb-redir on the first USB controller; needs SPICE graphics.
 *   others  (sdl, rdp, desktop, egl-headless, dbus) refused: no display on
 *           this host, only network servers.
 *
 * QEMU still runs with -display none: VNC and SPICE are servers, not
 * local displays.
 */
#include "qemu/qemu-command-priv.h"

#include <stdlib.h>
#include <string.h>

static gboolean
refuse(GError **error, const char *what, const char *value, const char *why)
{
    g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                "unsupported value '%s' for %s%s%s", value != NULL ? value : "", what,
                why != NULL ? ": " : "", why != NULL ? why : "");
    return FALSE;
}

gboolean
vnic_qemu_graphics_listen(const xmlNode *node, VnicQemuListen *l, GError **error)
{
    xmlNode *listen = vnic_qemu_xml_child(node, "listen");
    g_autofree char *type = vnic_qemu_xml_prop(listen, "type");

    memset(l, 0, sizeof(*l));
    l->address = vnic_qemu_xml_prop(node, "listen");
    if (listen != NULL && type != NULL && strcmp(type, "address") == 0) {
        g_autofree char *addr = vnic_qemu_xml_prop(listen, "address");
        if (addr != NULL) {
            g_free(l->address);
            l->address = g_steal_pointer(&addr);
        }
    } else if (g_strcmp0(type, "socket") == 0) {
        l->socket = vnic_qemu_xml_prop(listen, "socket");
        l->socket_auto = l->socket == NULL;
        if (l->socket != NULL && !g_path_is_absolute(l->socket)) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                        "<graphics><listen socket='%s'> is not an absolute path", l->socket);
            vnic_qemu_listen_clear(l);
            return FALSE;
        }
    } else if (g_strcmp0(type, "none") == 0) {
        l->none = TRUE;
    } else if (type != NULL) {
        vnic_qemu_listen_clear(l);
        return refuse(error, "<graphics><listen type>", type, "use address, socket or none");
    }
    if (l->address == NULL && l->socket == NULL && !l->socket_auto)
        l->address = g_strdup("127.0.0.1");
    return TRUE;
}

void
vnic_qemu_listen_clear(VnicQemuListen *l)
{
    g_clear_pointer(&l->address, g_free);
    g_clear_pointer(&l->socket, g_free);
}

/* The TCP port: given, or chosen at start (autoport); 0 while only
 * checking a definition. */
static gboolean
graphics_port(VnicQemuBuild *b, const VnicConfDevice *dev, const char *attr, guint min,
              guint *ret, GError **error)
{
    g_autofree char *port = vnic_qemu_xml_prop(dev->node, attr);
    g_autofree char *autoport = vnic_qemu_xml_prop(dev->node, "autoport");
    gint64 p = port != NULL ? g_ascii_strtoll(port, NULL, 10) : -1;

    if (p > 0 && (p < min || p > 65535)) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "invalid value '%s' for <graphics %s>: %u to 65535", port, attr,
                            min);
        return FALSE;
    }
    if (p <= 0 && !b->rt->describing && g_strcmp0(autoport, "no") != 0) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "<graphics %s> was not chosen: the runtime picks it at start", attr);
        return FALSE;
    }
    *ret = p > 0 ? (guint) p : min;
    return TRUE;
}

/* The socket path: given, or the one vnicd chose at start; a placeholder
 * while only checking a definition. */
static gboolean
listen_socket(VnicQemuBuild *b, const VnicConfDevice *dev, const VnicQemuListen *l,
              const char **ret, GError **error)
{
    if (l->socket != NULL) {
        *ret = l->socket;
        return TRUE;
    }
    if (!b->rt->describing) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "<listen type='socket'> has no socket= path: vnicd picks it at "
                            "start (vnic_qemu_graphics_default_sockets)");
        return FALSE;
    }
    *ret = "/chosen-at-start.sock";
    return TRUE;
}

static void
add_password(VnicQemuBuild *b, const char *protocol, const char *password)
{
    VnicQemuQmpStep *step = g_new0(VnicQemuQmpStep, 1);

    step->command = g_strdup("set_password");
    step->args = json_object_new();
    step->secret = TRUE;
    json_object_set_string_member(step->args, "protocol", protocol);
    json_object_set_string_member(step->args, "password", password);
    g_ptr_array_add(b->cmd->before_cont, step);
}

static gboolean
build_vnc(VnicQemuBuild *b, const VnicConfDevice *dev, const VnicQemuListen *l, GError **error)
{
    g_autofree char *passwd = vnic_qemu_xml_prop(dev->node, "passwd");
    g_autofree char *keymap = vnic_qemu_xml_prop(dev->node, "keymap");
    g_autofree char *websocket = vnic_qemu_xml_prop(dev->node, "websocket");
    g_autoptr(GString) s = g_string_new(NULL);
    guint port;

    if (l->none) {
        g_string_append(s, "none");
    } else if (l->socket != NULL || l->socket_auto) {
        g_autoptr(GString) path = g_string_new(NULL);
        const char *sock;

        if (!listen_socket(b, dev, l, &sock, error))
            return FALSE;
        vnic_qemu_opt(path, NULL, sock); /* commas doubled */
        g_string_append_printf(s, "unix:%s", path->str);
    } else {
        g_autofree char *addr = NULL;

        if (!graphics_port(b, dev, "port", 5900, &port, error))
            return FALSE;
        addr = strchr(l->address, ':') != NULL ? g_strdup_printf("[%s]", l->address)
                                                : g_strdup(l->address);
        g_string_append_printf(s, "%s:%u", addr, port - 5900);
        if (websocket != NULL && strcmp(websocket, "-1") != 0)
            vnic_qemu_opt(s, "websocket", websocket);
    }
    if (passwd != NULL) {
        vnic_qemu_opt(s, "password", "on");
        add_password(b, "vnc", passwd);
    }
    vnic_qemu_build_add_pair(b, "-vnc", s);
    if (keymap != NULL) {
        vnic_qemu_build_add(b, "-k");
        vnic_qemu_build_add(b, keymap);
    }
    return TRUE;
}

/* The children of <graphics type='spice'> as -spice options, as libvirt
 * maps them. */
static gboolean
spice_children(VnicQemuBuild *b, const VnicConfDevice *dev, GString *s, GError **error)
{
    static const struct {
        const char *elem, *attr, *option;
    } map[] = {
        { "image", "compression", "image-compression" },
        { "jpeg", "compression", "jpeg-wan-compression" },
        { "zlib", "compression", "zlib-glz-wan-compression" },
        { "playback", "compression", "playback-compression" },
        { "streaming", "mode", "streaming-video" },
    };

    for (xmlNode *c = dev->node->children; c != NULL; c = c->next) {
        const char *name = (const char *) c->name;
        guint i;

        if (c->type != XML_ELEMENT_NODE || strcmp(name, "listen") == 0)
            continue;
        for (i = 0; i < G_N_ELEMENTS(map) && strcmp(map[i].elem, name) != 0; i++)
            ;
        if (i < G_N_ELEMENTS(map)) {
            g_autofree char *v = vnic_qemu_xml_prop(c, map[i].attr);
            if (v != NULL)
                vnic_qemu_opt(s, map[i].option, v);
        } else if (strcmp(name, "clipboard") == 0 || strcmp(name, "filetransfer") == 0) {
            g_autofree char *v = vnic_qemu_xml_prop(c, strcmp(name, "clipboard") == 0
                                                           ? "copypaste" : "enable");
            if (g_strcmp0(v, "no") == 0)
                vnic_qemu_opt(s, strcmp(name, "clipboard") == 0 ? "disable-copy-paste"
                                                                 : "disable-agent-file-xfer",
                              "on");
        } else if (strcmp(name, "mouse") == 0) {
            g_autofree char *mode = vnic_qemu_xml_prop(c, "mode");
            if (mode != NULL)
                vnic_qemu_opt(s, "agent-mouse", strcmp(mode, "client") == 0 ? "on" : "off");
        } else {
            vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                                "<%s> in <graphics type='spice'> is not supported by the QEMU "
                                "launcher (no TLS, GL or channel setup)", name);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
build_spice(VnicQemuBuild *b, const VnicConfDevice *dev, const VnicQemuListen *l,
            GError **error)
{
    g_autofree char *passwd = vnic_qemu_xml_prop(dev->node, "passwd");
    g_autofree char *tls = vnic_qemu_xml_prop(dev->node, "tlsPort");
    g_autoptr(GString) s = g_string_new(NULL);
    guint port;

    if (tls != NULL && strcmp(tls, "-1") != 0)
        return refuse(error, "<graphics type='spice' tlsPort>", tls, "vnic sets up no TLS");
    if (l->none) {
        return refuse(error, "<graphics type='spice'><listen type>", "none",
                      "a SPICE server needs a port or a socket");
    } else if (l->socket != NULL || l->socket_auto) {
        const char *sock;

        if (!listen_socket(b, dev, l, &sock, error))
            return FALSE;
        vnic_qemu_opt(s, "unix", "on");
        vnic_qemu_opt(s, "addr", sock);
    } else {
        if (!graphics_port(b, dev, "port", 5900, &port, error))
            return FALSE;
        vnic_qemu_opt_uint(s, "port", port);
        vnic_qemu_opt(s, "addr", l->address);
    }
    if (passwd != NULL)
        add_password(b, "spice", passwd);
    else
        vnic_qemu_opt(s, "disable-ticketing", "on");
    if (!spice_children(b, dev, s, error))
        return FALSE;
    vnic_qemu_opt(s, "seamless-migration", "on");
    vnic_qemu_build_add_pair(b, "-spice", s);
    return TRUE;
}

gboolean
vnic_qemu_build_graphics(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const vnc_attrs[] = { "type", "port", "autoport", "listen", "passwd",
                                             "keymap", "websocket", "sharePolicy",
                                             "passwdValidTo", "connected", NULL };
    static const char *const spice_attrs[] = { "type", "port", "autoport", "tlsPort", "listen",
                                               "passwd", "keymap", "defaultMode",
                                               "passwdValidTo", "connected", NULL };
    g_autofree char *type = vnic_qemu_xml_prop(dev->node, "type");
    g_autofree char *share = vnic_qemu_xml_prop(dev->node, "sharePolicy");
    VnicQemuListen l;
    gboolean vnc = g_strcmp0(type, "vnc") == 0;
    gboolean ok;

    if (!vnc && g_strcmp0(type, "spice") != 0)
        return refuse(error, "<graphics type>", type,
                      "the QEMU launcher runs vnc and spice servers (no local display)");
    if (vnc && b->has_vnc) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "a second <graphics type='vnc'>: QEMU runs one VNC server");
        return FALSE;
    }
    if (!vnic_qemu_xml_check(b->def, dev, dev->node, vnc ? vnc_attrs : spice_attrs,
                             vnc ? (const char *const[]){ "listen", NULL }
                                 : (const char *const[]){ "listen", "image", "jpeg", "zlib",
                                                          "playback", "streaming", "clipboard",
                                                          "filetransfer", "mouse", NULL },
                             error) ||
        !vnic_qemu_xml_check(b->def, dev, vnic_qemu_xml_child(dev->node, "listen"),
                             (const char *const[]){ "type", "address", "socket", "network",
                                                    "autoGenerated", NULL },
                             NULL, error))
        return FALSE;
    if (share != NULL && strcmp(share, "allow-exclusive") != 0)
        return refuse(error, "<graphics sharePolicy>", share, "QEMU's default only");
    if (!vnic_qemu_graphics_listen(dev->node, &l, error))
        return FALSE;
    b->has_vnc = b->has_vnc || vnc;
    ok = vnc ? build_vnc(b, dev, &l, error) : build_spice(b, dev, &l, error);
    vnic_qemu_listen_clear(&l);
    return ok;
}

char *
vnic_qemu_vnc_display(const VnicConfDomain *def, GError **error)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        g_autofree char *type = NULL;
        g_autofree char *port = NULL;
        VnicQemuListen l;
        gint64 p;
        char *ret;

        if (dev->kind != VNIC_CONF_DEV_OTHER || dev->node == NULL ||
            strcmp((const char *) dev->node->name, "graphics") != 0)
            continue;
        type = vnic_qemu_xml_prop(dev->node, "type");
        if (g_strcmp0(type, "vnc") != 0)
            continue;
        port = vnic_qemu_xml_prop(dev->node, "port");
        p = port != NULL ? g_ascii_strtoll(port, NULL, 10) : -1;
        if (!vnic_qemu_graphics_listen(dev->node, &l, error))
            return NULL;
        if (l.address == NULL || p < 5900) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                        l.address == NULL ? "the VNC server listens on no TCP port"
                                          : "the VNC port is not chosen yet (autoport: start "
                                            "the domain)");
            vnic_qemu_listen_clear(&l);
            return NULL;
        }
        if (strcmp(l.address, "0.0.0.0") == 0 || strcmp(l.address, "::") == 0)
            ret = g_strdup_printf(":%" G_GINT64_FORMAT, p - 5900);
        else if (strchr(l.address, ':') != NULL)
            ret = g_strdup_printf("[%s]:%" G_GINT64_FORMAT, l.address, p - 5900);
        else
            ret = g_strdup_printf("%s:%" G_GINT64_FORMAT, l.address, p - 5900);
        vnic_qemu_listen_clear(&l);
        return ret;
    }
    g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                "the domain has no <graphics type='vnc'>");
    return NULL;
}

gboolean
vnic_qemu_has_spice(const VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        g_autofree char *type = NULL;

        if (dev->kind != VNIC_CONF_DEV_OTHER || dev->node == NULL ||
            strcmp((const char *) dev->node->name, "graphics") != 0)
            continue;
        type = vnic_qemu_xml_prop(dev->node, "type");
        if (g_strcmp0(type, "spice") == 0)
            return TRUE;
    }
    return FALSE;
}

gboolean
vnic_qemu_build_redirdev(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    g_autofree char *bus = vnic_qemu_xml_prop(dev->node, "bus");
    g_autofree char *type = vnic_qemu_xml_prop(dev->node, "type");
    const char *usb = vnic_qemu_names_controller(b->names, VNIC_CONF_CONTROLLER_USB, 0);
    g_autofree char *id = NULL;
    g_autofree char *qbus = NULL;
    g_autoptr(GString) chr = g_string_new("spicevmc");
    g_autoptr(GString) s = g_string_new("usb-redir");
    guint n = 0;

    if (!vnic_qemu_xml_check(b->def, dev, dev->node, (const char *const[]){ "bus", "type", NULL },
                             (const char *const[]){ "alias", "address", NULL }, error))
        return FALSE;
    if (g_strcmp0(bus, "usb") != 0 || g_strcmp0(type, "spicevmc") != 0 ||
        !vnic_qemu_has_spice(b->def) || usb == NULL) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "<redirdev bus='%s' type='%s'>: the QEMU launcher redirects USB "
                            "over SPICE only (bus='usb' type='spicevmc', a <graphics "
                            "type='spice'> and a USB controller)",
                            bus != NULL ? bus : "", type != NULL ? type : "");
        return FALSE;
    }
    for (guint i = 0; i < b->def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(b->def->devices, i);

        if (d == dev)
            break;
        if (d->kind == VNIC_CONF_DEV_OTHER && d->node != NULL &&
            strcmp((const char *) d->node->name, "redirdev") == 0)
            n++;
    }
    id = dev->alias != NULL ? g_strdup(dev->alias) : g_strdup_printf("redir%u", n);
    qbus = g_strdup_printf("%s.0", usb);
    g_string_append_printf(chr, ",id=char%s,name=usbredir", id);
    vnic_qemu_build_add_pair(b, "-chardev", chr);
    g_string_append_printf(s, ",chardev=char%s,id=%s", id, id);
    vnic_qemu_opt(s, "bus", qbus);
    vnic_qemu_build_add_pair(b, "-device", s);
    return TRUE;
}

gboolean
vnic_qemu_graphics_default_sockets(VnicConfDomain *def, const char *dir)
{
    gboolean any = FALSE;

    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        xmlNode *listen;
        g_autofree char *ltype = NULL;
        g_autofree char *gtype = NULL;
        g_autofree char *file = NULL;
        g_autofree char *path = NULL;

        if (dev->kind != VNIC_CONF_DEV_OTHER || dev->node == NULL ||
            strcmp((const char *) dev->node->name, "graphics") != 0)
            continue;
        listen = vnic_qemu_xml_child(dev->node, "listen");
        ltype = vnic_qemu_xml_prop(listen, "type");
        if (g_strcmp0(ltype, "socket") != 0 || xmlHasProp(listen, (const xmlChar *) "socket"))
            continue;
        /* libvirt's names, in a directory of the domain's own */
        gtype = vnic_qemu_xml_prop(dev->node, "type");
        file = g_strdup_printf("%s.sock", gtype != NULL ? gtype : "graphics");
        path = g_build_filename(dir, file, NULL);
        xmlSetProp(listen, (const xmlChar *) "socket", (const xmlChar *) path);
        any = TRUE;
    }
    return any;
}
