/* qemu-prepare-graphics.c: the TCP ports of autoport graphics.
 *
 * Owns the choice of a free port for <graphics autoport='yes'> (or
 * port='-1'): the lowest port from 5900 that can be bound on the listen
 * address, as libvirt picks them, written into the live definition's
 * <graphics port> so the command line, the status XML and `vncdisplay`
 * agree.  QEMU binds it itself (it runs unprivileged; ports >= 1024 need no
 * privilege), so between the probe and QEMU's bind another program could
 * take the port: the start then fails with QEMU's message.  Ports handed
 * out by this process in the last 30 s are skipped, so two guests starting
 * at once do not pick the same one.
 */
#include "qemu/qemu-process-priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VNIC_GRAPHICS_PORT_MIN 5900
#define VNIC_GRAPHICS_PORT_MAX 65535
#define VNIC_GRAPHICS_PORT_HOLD_S 30

static GHashTable *recent_ports; /* port → monotonic second it was handed out, + 1 */

static gint64
now_s(void)
{
    return g_get_monotonic_time() / G_USEC_PER_SEC;
}

static gboolean
port_recently_given(guint port)
{
    gpointer when;

    if (recent_ports == NULL)
        recent_ports = g_hash_table_new(g_direct_hash, g_direct_equal);
    if (!g_hash_table_lookup_extended(recent_ports, GUINT_TO_POINTER(port), NULL, &when))
        return FALSE;
    if (now_s() - (GPOINTER_TO_SIZE(when) - 1) < VNIC_GRAPHICS_PORT_HOLD_S)
        return TRUE;
    g_hash_table_remove(recent_ports, GUINT_TO_POINTER(port));
    return FALSE;
}

static void
port_given(guint port)
{
    g_hash_table_insert(recent_ports, GUINT_TO_POINTER(port),
                        GSIZE_TO_POINTER((gsize) now_s() + 1));
}

/* Can @port be bound on @address (numeric) right now? */
static gboolean
port_free(const char *address, guint port)
{
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
                              .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    char service[8];
    gboolean ok = FALSE;

    g_snprintf(service, sizeof(service), "%u", port);
    if (getaddrinfo(address, service, &hints, &res) != 0)
        return FALSE;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        int one = 1;

        if (fd < 0)
            continue;
        /* QEMU sets SO_REUSEADDR too: TIME_WAIT leftovers do not count */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        close(fd);
        break;
    }
    freeaddrinfo(res);
    return ok;
}

/* Sets @node's port= right after its type=, where libvirt writes it. */
static void
set_port(xmlNode *node, const char *value)
{
    xmlAttr *port = xmlHasProp(node, (const xmlChar *) "port");
    xmlAttr *type = xmlHasProp(node, (const xmlChar *) "type");

    if (port != NULL) {
        xmlSetProp(node, (const xmlChar *) "port", (const xmlChar *) value);
        return;
    }
    port = xmlNewProp(node, (const xmlChar *) "port", (const xmlChar *) value);
    if (type == NULL || port == NULL || type->next == port)
        return;
    /* unlink from the end of the list, relink after type= */
    if (port->prev != NULL)
        port->prev->next = port->next;
    if (port->next != NULL)
        port->next->prev = port->prev;
    port->prev = type;
    port->next = type->next;
    if (type->next != NULL)
        type->next->prev = port;
    type->next = port;
}

static gboolean
choose_port(VnicConfDomain *def, VnicConfDevice *dev, const char *address, GError **error)
{
    for (guint port = VNIC_GRAPHICS_PORT_MIN; port <= VNIC_GRAPHICS_PORT_MAX; port++) {
        char value[8];

        if (port_recently_given(port) || !port_free(address, port))
            continue;
        port_given(port);
        g_snprintf(value, sizeof(value), "%u", port);
        set_port(dev->node, value);
        return TRUE;
    }
    vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_HOST,
                        "no free TCP port from %u on '%s' for autoport",
                        VNIC_GRAPHICS_PORT_MIN, address);
    return FALSE;
}

gboolean
vnic_qemu_prepare_graphics(VnicConfDomain *def, GError **error)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        g_autofree char *port = NULL;
        g_autofree char *autoport = NULL;
        VnicQemuListen l;
        gboolean ok;

        if (dev->kind != VNIC_CONF_DEV_OTHER || dev->node == NULL ||
            strcmp((const char *) dev->node->name, "graphics") != 0)
            continue;
        port = vnic_qemu_xml_prop(dev->node, "port");
        autoport = vnic_qemu_xml_prop(dev->node, "autoport");
        if ((port != NULL && g_ascii_strtoll(port, NULL, 10) > 0) ||
            g_strcmp0(autoport, "no") == 0)
            continue;
        if (!vnic_qemu_graphics_listen(dev->node, &l, error))
            return FALSE;
        ok = l.address == NULL || l.none || choose_port(def, dev, l.address, error);
        vnic_qemu_listen_clear(&l);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}
