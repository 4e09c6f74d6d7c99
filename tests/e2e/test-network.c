/* test-network.c: the interfaces the real world sends, end to end
 * (meson test 'e2e-network').
 *
 * One vnicd, one pc guest (a test copy of examples/cloudstack-pc.xml whose
 * NICs are replaced), in the program's private network namespace:
 *
 *   net-define     a NAT network (libvirt's default) is refused with the
 *                  reason; a bridge network "lan" on br-lan is defined,
 *                  listed inactive by net-list --all, dumped back
 *   start-inactive  the domain (a network NIC with <bandwidth> and
 *                  <driver name='vhost'>, an existing tap with
 *                  managed='no') defines; its start fails while "lan" is
 *                  inactive, naming it
 *   start          net-start lan (still active after a vnicd restart); the
 *                  domain starts and boots: the guest
 *                  sees both MACs; the network NIC's tap is on br-lan with
 *                  the htb class of its <inbound> (tc class show);
 *                  domiflist says type network, source lan; vnicd logged
 *                  the vhost fallback warning
 *   traffic        br-lan 10.97.0.1/24, the guest's network NIC
 *                  10.97.0.2/24: busybox ping from the guest is answered
 *   hotplug        attach-device of a network NIC with <bandwidth> (both
 *                  directions) and <rom bar='off'/> (CloudStack's PlugNic):
 *                  on br-lan, htb rate on its tap, its ingress policed or
 *                  (no police action in the kernel) redirected to an ifb
 *                  with the outbound rate, in the guest
 *   pool           a macvtap pool network on veths vmA, vmC: two NICs
 *                  hot-plugged with attach-interface --type network land on
 *                  vmA, then vmC (least used), in the guest
 *   destroy        destroy: the managed='no' tap is still there without vnic's
 *                  shaping (it had <bandwidth> too), vnic's taps
 *                  are gone; net-destroy, net-undefine: net-list --all empty
 *   cleanup        vnicd stops with exit 0, no vnic link is left
 *   vhostuser      a vhost-user client NIC: refused at define without
 *                  shared memory; with <memoryBacking> memfd+shared the
 *                  domain starts, QEMU's first message on the test's
 *                  socket is VHOST_USER_GET_FEATURES, the guest boots and
 *                  has the NIC, and its driver started it (SET_MEM_TABLE);
 *                  a second one is hot-plugged (in the guest), then
 *                  detached (completed)
 *
 * The vhost-user stand-in answers what QEMU asks before the guest runs
 * (GET_FEATURES: VIRTIO_F_VERSION_1 and protocol features, none of which it
 * then offers, so QEMU expects no other reply but GET_VRING_BASE's) and
 * swallows the rest; it is no data path.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "e2e.h"

/* `vnic -c SOCKET VERB ARGS…` against the test's vnicd, 120 s at most;
 * a host command, 30 s at most. */
#define VNIC(...) e2e_daemon_vnic_timeout(S.daemon, 120, __VA_ARGS__)
#define RUN(...) e2e_cmd_run_args(30, __VA_ARGS__)

#define MAC_NET "52:54:00:4e:00:01"
#define MAC_EXT "52:54:00:4e:00:02"
#define MAC_VU "52:54:00:4e:00:03"
#define MAC_HOT "52:54:00:4e:00:04"
#define MAC_VU2 "52:54:00:4e:00:05"
#define EXT_TAP "tap-ext0"

static struct {
    E2eDaemon *daemon;
    E2eDomainXml *xml;
    E2eConsole *console;
    gboolean defined_net;
    gboolean booted;
    char *vu_path;
    GThread *vu_thread;
    int vu_listen;
    gint vu_first_request;   /* first message's request code, -1 until one came */
    gint vu_messages;
    GString *vu_log;         /* request codes seen, for failure messages */
    GMutex vu_lock;
} S = { .vu_listen = -1, .vu_first_request = -1 };

#define NEED(cond, what)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_test_skip("needs " what ", which failed");                  \
            return;                                                       \
        }                                                                 \
    } while (0)

#define CMD_OK(result)                                                                 \
    do {                                                                               \
        if ((result)->status != 0) {                                                   \
            g_autofree char *desc_ = e2e_cmd_result_describe(result);                  \
            g_test_fail_printf("%s", desc_);                                           \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* `vnic domiflist --json` entry with @mac, or NULL. */
static JsonObject *
iface_of_mac(const char *mac)
{
    g_autoptr(E2eCmdResult) r = VNIC("domiflist", S.xml->name, "--json", NULL);
    g_autoptr(JsonNode) node = r->status == 0 ? e2e_json_parse(r->out, NULL) : NULL;
    JsonArray *ifaces;

    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        return NULL;
    ifaces = e2e_json_member_array(json_node_get_object(node), "interfaces");
    for (guint i = 0; ifaces != NULL && i < json_array_get_length(ifaces); i++) {
        JsonObject *o = e2e_json_array_object(ifaces, i);
        if (g_ascii_strcasecmp(e2e_json_get_string(o, "mac"), mac) == 0)
            return json_object_ref(o);
    }
    return NULL;
}

/* ---- the vhost-user stand-in ------------------------------------------- */

#define VU_GET_FEATURES 1
#define VU_GET_VRING_BASE 11
#define VU_GET_PROTOCOL_FEATURES 15

static gboolean
read_msg(int fd, guint32 hdr[3], guint8 *payload, gsize max)
{
    struct iovec iov = { .iov_base = hdr, .iov_len = 12 };
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                          .msg_controllen = sizeof(control) };
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);

    if (n != 12)
        return FALSE;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int *fds = (int *)CMSG_DATA(c);
            for (gsize i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                close(fds[i]);
        }
    }
    if (hdr[2] > max)
        return FALSE;
    for (gsize got = 0; got < hdr[2];) {
        ssize_t m = read(fd, payload + got, hdr[2] - got);
        if (m <= 0)
            return FALSE;
        got += (gsize)m;
    }
    return TRUE;
}

static gpointer
vu_serve_conn(gpointer data)
{
    int fd = GPOINTER_TO_INT(data);
    guint32 hdr[3];
    guint8 payload[4096];

    while (fd >= 0 && read_msg(fd, hdr, payload, sizeof(payload))) {
        guint8 reply[12 + 8] = { 0 };
        guint32 rh[3] = { hdr[0], 0x1 | 0x4, 8 };

        g_atomic_int_compare_and_exchange(&S.vu_first_request, -1, (gint)hdr[0]);
        g_atomic_int_inc(&S.vu_messages);
        g_mutex_lock(&S.vu_lock);
        g_string_append_printf(S.vu_log, " %u(%u)", hdr[0], hdr[2]);
        g_mutex_unlock(&S.vu_lock);
        if (hdr[0] == VU_GET_FEATURES) {
            /* VIRTIO_F_VERSION_1, VHOST_USER_F_PROTOCOL_FEATURES */
            guint64 features = (G_GUINT64_CONSTANT(1) << 32) | (G_GUINT64_CONSTANT(1) << 30);
            memcpy(reply + 12, &features, 8);
        } else if (hdr[0] == VU_GET_PROTOCOL_FEATURES) {
            guint64 none = 0; /* none: QEMU then expects no other reply */
            memcpy(reply + 12, &none, 8);
        } else if (hdr[0] == VU_GET_VRING_BASE) {
            memcpy(reply + 12, payload, 4); /* {index, num 0} */
        } else {
            continue;
        }
        memcpy(reply, rh, 12);
        if (write(fd, reply, sizeof(reply)) != (ssize_t)sizeof(reply))
            break;
    }
    g_mutex_lock(&S.vu_lock);
    g_string_append_printf(S.vu_log, " [closed: %s]", g_strerror(errno));
    g_mutex_unlock(&S.vu_lock);
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* One thread per QEMU connection (a cold-plugged and a hot-plugged NIC). */
static gpointer
vu_serve(gpointer data)
{
    int fd;

    while ((fd = accept4(S.vu_listen, NULL, NULL, SOCK_CLOEXEC)) >= 0)
        g_thread_unref(g_thread_new("vhost-user-conn", vu_serve_conn, GINT_TO_POINTER(fd)));
    return NULL;
}

/* TRUE once the request log contains @needle (within @timeout_s). */
static gboolean
vu_saw(const char *needle, double timeout_s)
{
    gint64 deadline = e2e_deadline(timeout_s);
    gboolean seen;

    do {
        g_mutex_lock(&S.vu_lock);
        seen = strstr(S.vu_log->str, needle) != NULL;
        g_mutex_unlock(&S.vu_lock);
        if (!seen)
            g_usleep(100 * 1000);
    } while (!seen && e2e_ms_left(deadline) > 0);
    return seen;
}

static gboolean
vu_listen(GError **error)
{
    g_autofree char *dir = e2e_tmp_dir("vhu");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    S.vu_path = g_build_filename(dir, "vhu0.sock", NULL);
    g_strlcpy(addr.sun_path, S.vu_path, sizeof(addr.sun_path));
    S.vu_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (S.vu_listen < 0 || bind(S.vu_listen, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(S.vu_listen, 4) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "vhost-user socket %s: %s",
                    S.vu_path, g_strerror(errno));
        return FALSE;
    }
    /* QEMU runs as an unprivileged user: it must be able to connect */
    chmod(S.vu_path, 0777);
    S.vu_log = g_string_new(NULL);
    S.vu_thread = g_thread_new("vhost-user", vu_serve, NULL);
    return TRUE;
}

/* ---- cases ---------------------------------------------------------------- */

static void
test_net_define(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *nat = e2e_tmp_file("network", "default.xml",
        "<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>"
        "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>"
        "<range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>");
    g_autofree char *lan = e2e_tmp_file("network", "lan.xml",
        "<network><name>lan</name><forward mode='bridge'/><bridge name='br-lan'/></network>");

    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
    {
        g_autoptr(E2eCmdResult) r = VNIC("net-define", nat, NULL);
        E2E_CHECK(r->status == 1 && strstr(r->err, "<forward mode='nat'> is not supported"),
                  "NAT network not refused clearly: %s", e2e_cmd_result_describe(r));
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("net-define", lan, NULL);
        CMD_OK(r);
    }
    S.defined_net = TRUE;
    {
        g_autoptr(E2eCmdResult) r = VNIC("net-list", "--all", NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "lan") && strstr(r->out, "inactive") &&
                      strstr(r->out, "br-lan"),
                  "net-list --all:\n%s", r->out);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("net-dumpxml", "lan", NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "<bridge name='br-lan'/>") && strstr(r->out, "<uuid>"),
                  "net-dumpxml:\n%s", r->out);
    }
}

/* The copy's two NICs become @nics; @shared: shared guest memory. */
static gboolean
replace_nics(E2eDomainXml *xml, const char *nics, gboolean shared, GError **error)
{
    const char *start = strstr(xml->xml, "    <interface");
    const char *end = g_strrstr(xml->xml, "</interface>\n");
    g_autofree char *text = NULL;

    if (start == NULL || end == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no <interface> in the copy");
        return FALSE;
    }
    end += strlen("</interface>\n");
    text = g_strdup_printf("%.*s%s%s", (int)(start - xml->xml), xml->xml, nics, end);
    g_free(xml->xml);
    if (shared) {
        /* vhost-user maps the guest's memory: shared memfd, as vnic demands */
        const char *dev = strstr(text, "  <devices>");
        xml->xml = g_strdup_printf("%.*s  <memoryBacking>\n    <source type='memfd'/>\n"
                                   "    <access mode='shared'/>\n  </memoryBacking>\n%s",
                                   (int)(dev - text), text, dev);
    } else {
        xml->xml = g_steal_pointer(&text);
    }
    return g_file_set_contents(xml->xml_path, xml->xml, -1, error);
}

static gboolean
make_xml(GError **error)
{
    return replace_nics(S.xml,
                        "    <interface type='network'>\n"
                        "      <mac address='" MAC_NET "'/>\n"
                        "      <source network='lan'/>\n"
                        "      <bandwidth><inbound average='1000' peak='2000' burst='256'/>"
                        "</bandwidth>\n"
                        "      <model type='virtio'/>\n"
                        "      <driver name='vhost'/>\n"
                        "    </interface>\n"
                        "    <interface type='ethernet'>\n"
                        "      <mac address='" MAC_EXT "'/>\n"
                        "      <target dev='" EXT_TAP "' managed='no'/>\n"
                        "      <bandwidth><inbound average='100'/></bandwidth>\n"
                        "      <model type='virtio'/>\n"
                        "    </interface>\n",
                        FALSE, error);
}

static void
test_start_inactive(void)
{
    g_autoptr(GError) error = NULL;

    NEED(S.defined_net, "/e2e/network/net-define");
    S.xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "net", &error);
    E2E_CHECK_NO_ERROR(error, "the domain copy");
    E2E_CHECK(make_xml(&error), "%s", error->message);
    {
        g_autoptr(E2eCmdResult) r = VNIC("define", S.xml->xml_path, NULL);
        CMD_OK(r);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("start", S.xml->name, NULL);
        E2E_CHECK(r->status == 1 && strstr(r->err, "network 'lan' is not active"),
                  "start with an inactive network: %s", e2e_cmd_result_describe(r));
    }
    /* the failed start touched nothing: br-lan is not even there yet */
    E2E_CHECK(!e2e_netns_has_link("vnet0"), "a tap was left behind");
}

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *master = NULL, *klass = NULL;
    g_autoptr(JsonObject) ifc = NULL;
    const char *tap;

    NEED(S.xml != NULL, "/e2e/network/start-inactive");
    {
        g_autoptr(E2eCmdResult) r1 = RUN("ip", "link", "add", "br-lan", "type", "bridge", NULL);
        g_autoptr(E2eCmdResult) r2 = RUN("ip", "link", "set", "br-lan", "up", NULL);
        g_autoptr(E2eCmdResult) r3 = RUN("ip", "tuntap", "add", "dev", EXT_TAP, "mode", "tap",
                                         "vnet_hdr", NULL);
        CMD_OK(r1);
        CMD_OK(r2);
        CMD_OK(r3);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("net-start", "lan", NULL);
        CMD_OK(r);
    }
    /* an active network stays active across a vnicd restart */
    E2E_CHECK(e2e_daemon_restart(S.daemon, &error), "restart: %s", error->message);
    {
        g_autoptr(E2eCmdResult) r = VNIC("net-list", NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "lan") && strstr(r->out, "active") &&
                      !strstr(r->out, "inactive"),
                  "net-list after a restart:\n%s", r->out);
    }
    {
        g_autoptr(E2eCmdResult) r = VNIC("start", S.xml->name, NULL);
        CMD_OK(r);
    }
    S.console = e2e_console_connect(S.xml->serial_path, 10, &error);
    E2E_CHECK_NO_ERROR(error, "console");
    E2E_CHECK(e2e_console_wait_ready(S.console, 120, &error), "boot: %s", error->message);
    S.booted = TRUE;
    for (guint i = 0; i < 2; i++) {
        const char *mac = (const char *[]){ MAC_NET, MAC_EXT }[i];
        g_autofree char *ifname = e2e_guest_ifname(S.console, mac, 30, &error);
        E2E_CHECK_NO_ERROR(error, mac);
    }
    ifc = iface_of_mac(MAC_NET);
    E2E_CHECK(ifc != NULL, "domiflist has no %s", MAC_NET);
    E2E_CHECK(g_strcmp0(e2e_json_get_string(ifc, "type"), "network") == 0 &&
                  g_strcmp0(e2e_json_get_string(ifc, "source"), "lan") == 0,
              "domiflist: type %s source %s", e2e_json_get_string(ifc, "type"),
              e2e_json_get_string(ifc, "source"));
    tap = e2e_json_get_string(ifc, "target");
    E2E_CHECK(tap != NULL, "no target for the network NIC");
    master = e2e_netns_master_of(tap);
    E2E_CHECK(g_strcmp0(master, "br-lan") == 0, "tap %s is on '%s', not br-lan", tap, master);
    {
        g_autoptr(E2eCmdResult) r = RUN("tc", "class", "show", "dev", tap, NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "rate 8Mbit ceil 16Mbit burst 256Kb"),
                  "tc class show dev %s:\n%s", tap, r->out);
    }
    {
        g_autoptr(E2eCmdResult) r = RUN("tc", "qdisc", "show", "dev", EXT_TAP, NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "htb 1: root"), "tc qdisc show dev %s:\n%s", EXT_TAP, r->out);
    }
    {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 200);
        E2E_CHECK(log != NULL && strstr(log, "<driver name='vhost'>"),
                  "no vhost fallback warning in vnicd's log");
    }
}

static void
test_traffic(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *ifname = NULL, *cmd = NULL;

    NEED(S.booted, "/e2e/network/start");
    {
        g_autoptr(E2eCmdResult) r = RUN("ip", "addr", "add", "10.97.0.1/24", "dev", "br-lan", NULL);
        CMD_OK(r);
    }
    ifname = e2e_guest_ifname(S.console, MAC_NET, 30, &error);
    E2E_CHECK_NO_ERROR(error, "network NIC");
    cmd = g_strdup_printf("ip addr add 10.97.0.2/24 dev %s && ip link set %s up && "
                          "busybox ping -c 3 -W 2 10.97.0.1",
                          ifname, ifname);
    E2E_CHECK(e2e_guest_run_ok(S.console, cmd, 60, NULL, &error), "%s", error->message);
}

static void
test_hotplug(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *file = NULL, *master = NULL, *ifname = NULL;
    g_autoptr(JsonObject) ifc = NULL;
    const char *tap;

    NEED(S.booted, "/e2e/network/start");
    file = e2e_tmp_file("network", "hot.xml",
                     "<interface type='network'><mac address='" MAC_HOT "'/>"
                     "<source network='lan'/><model type='virtio'/>"
                     "<bandwidth><inbound average='512' burst='64'/>"
                     "<outbound average='256'/></bandwidth>"
                     "<rom bar='off'/></interface>");
    {
        g_autoptr(E2eCmdResult) r = VNIC("attach-device", S.xml->name, file, "--live", NULL);
        CMD_OK(r);
    }
    ifname = e2e_guest_ifname(S.console, MAC_HOT, 30, &error);
    E2E_CHECK_NO_ERROR(error, "hot-plugged NIC in the guest");
    ifc = iface_of_mac(MAC_HOT);
    E2E_CHECK(ifc != NULL && (tap = e2e_json_get_string(ifc, "target")) != NULL,
              "domiflist lacks the hot-plugged NIC");
    master = e2e_netns_master_of(tap);
    E2E_CHECK(g_strcmp0(master, "br-lan") == 0, "tap %s is on '%s', not br-lan", tap, master);
    {
        g_autoptr(E2eCmdResult) r = RUN("tc", "class", "show", "dev", tap, NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "rate 4096Kbit ceil 4096Kbit burst 64Kb"),
                  "tc class show dev %s:\n%s", tap, r->out);
    }
    {
        /* <outbound>: the tap's ingress polices, or (no police action in
         * this kernel) redirects to an ifb whose class has the rate */
        g_autoptr(E2eCmdResult) r = RUN("tc", "filter", "show", "dev", tap, "parent", "ffff:", NULL);
        CMD_OK(r);
        E2E_CHECK(strstr(r->out, "police") || strstr(r->out, "mirred"),
                  "tc filter show dev %s parent ffff::\n%s", tap, r->out);
        if (strstr(r->out, "mirred") != NULL) {
            const char *ifb = strstr(r->out, "vifb");
            g_autofree char *name = ifb != NULL ? g_strndup(ifb, strcspn(ifb, ") \n")) : NULL;
            g_autoptr(E2eCmdResult) c = NULL;

            E2E_CHECK(name != NULL, "no vifb in the redirect:\n%s", r->out);
            c = RUN("tc", "class", "show", "dev", name, NULL);
            E2E_CHECK(c->status == 0 && strstr(c->out, "rate 2048Kbit"),
                      "tc class show dev %s:\n%s", name, c->out);
        }
    }
}

/* A vhost-user client NIC: QEMU connects to the socket at start and asks
 * for the backend's features first; the guest boots with the NIC, whose
 * driver starts it (SET_MEM_TABLE with the shared memory's fds, the
 * vrings).  Under TCG vnic gives it no MSI-X (QEMU 7.2 crashes unmasking a
 * vhost-user vector without irqfd), which this also covers. */
static void
test_vhostuser(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(E2eDomainXml) xml = NULL;
    g_autofree char *nic = NULL;
    gint64 deadline;

    NEED(S.daemon != NULL, "/e2e/network/net-define");
    E2E_CHECK(vu_listen(&error), "%s", error->message);
    xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "vu", &error);
    E2E_CHECK_NO_ERROR(error, "the domain copy");
    nic = g_strdup_printf("    <interface type='vhostuser'>\n"
                          "      <mac address='" MAC_VU "'/>\n"
                          "      <source type='unix' path='%s' mode='client'/>\n"
                          "      <model type='virtio'/>\n"
                          "    </interface>\n", S.vu_path);
    /* without shared memory: refused at define, saying what to add */
    E2E_CHECK(replace_nics(xml, nic, FALSE, &error), "%s", error->message);
    {
        g_autoptr(E2eCmdResult) r = VNIC("define", xml->xml_path, NULL);
        E2E_CHECK(r->status == 1 && strstr(r->err, "<access mode='shared'/>"),
                  "vhostuser without shared memory: %s", e2e_cmd_result_describe(r));
    }
    g_clear_pointer(&xml, e2e_domain_xml_free);
    xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "vu", &error);
    E2E_CHECK_NO_ERROR(error, "the domain copy");
    E2E_CHECK(replace_nics(xml, nic, TRUE, &error), "%s", error->message);
    {
        g_autoptr(E2eCmdResult) r1 = VNIC("define", xml->xml_path, NULL);
        g_autoptr(E2eCmdResult) r2 = NULL;
        CMD_OK(r1);
        r2 = VNIC("start", xml->name, NULL);
        CMD_OK(r2);
    }
    deadline = e2e_deadline(20);
    while (g_atomic_int_get(&S.vu_first_request) < 0 && e2e_ms_left(deadline) > 0)
        g_usleep(50 * 1000);
    g_mutex_lock(&S.vu_lock);
    g_test_message("vhost-user requests from QEMU:%s", S.vu_log->str);
    g_mutex_unlock(&S.vu_lock);
    E2E_CHECK(g_atomic_int_get(&S.vu_first_request) == VU_GET_FEATURES,
              "the vhost-user backend's first message was %d, not GET_FEATURES (1)",
              g_atomic_int_get(&S.vu_first_request));
    {
        g_autoptr(E2eConsole) console = e2e_console_connect(xml->serial_path, 10, &error);
        E2eConsole *saved = S.console;
        g_autofree char *ifname = NULL;

        E2E_CHECK_NO_ERROR(error, "console");
        E2E_CHECK(e2e_console_wait_ready(console, 120, &error), "boot: %s (vhost-user:%s)",
                  error->message, S.vu_log->str);
        S.console = console;
        ifname = e2e_guest_ifname(S.console, MAC_VU, 30, &error);
        if (ifname != NULL) {
            g_autofree char *cmd = g_strdup_printf("ip link set %s up", ifname);
            e2e_guest_run_ok(S.console, cmd, 60, NULL, &error);
        }
        S.console = saved;
        E2E_CHECK_NO_ERROR(error, "the vhost-user NIC in the guest");
        /* " 5(" : VHOST_USER_SET_MEM_TABLE, the driver started the device */
        E2E_CHECK(vu_saw(" 5(", 20), "the guest's driver did not start the vhost-user NIC:%s",
                  S.vu_log->str);
        g_test_message("vhost-user NIC %s in the guest; requests:%s", ifname, S.vu_log->str);
        /* hot-plug: chardev-add + netdev_add vhost-user + device_add, and
         * back out with detach (netdev_del, chardev-remove) */
        {
            g_autofree char *hot = g_strdup_printf(
                "<interface type='vhostuser'><mac address='" MAC_VU2 "'/>"
                "<source type='unix' path='%s' mode='client'/><model type='virtio'/>"
                "</interface>", S.vu_path);
            g_autofree char *file = e2e_tmp_file("network", "vu-hot.xml", hot);
            g_autofree char *ifname2 = NULL;
            g_autoptr(E2eCmdResult) r1 = VNIC("attach-device", xml->name, file, "--live", NULL);
            g_autoptr(E2eCmdResult) r2 = NULL;

            CMD_OK(r1);
            S.console = console;
            ifname2 = e2e_guest_ifname(S.console, MAC_VU2, 30, &error);
            S.console = saved;
            E2E_CHECK_NO_ERROR(error, "the hot-plugged vhost-user NIC in the guest");
            r2 = VNIC("detach-device", xml->name, file, "--live", "--json", NULL);
            CMD_OK(r2);
            E2E_CHECK(strstr(r2->out, "\"completed\" : true") ||
                          strstr(r2->out, "\"completed\": true") ||
                          strstr(r2->out, "\"completed\":true"),
                      "detach of the vhost-user NIC: %s", r2->out);
            g_test_message("hot-plugged vhost-user NIC %s, then detached", ifname2);
        }
    }
    {
        g_autoptr(E2eCmdResult) r1 = VNIC("destroy", xml->name, NULL);
        g_autoptr(E2eCmdResult) r2 = VNIC("undefine", xml->name, NULL);
        CMD_OK(r1);
        CMD_OK(r2);
    }
}

/* A pool network (macvtaps on host NICs): a hot-plugged NIC lands on the
 * pool's least used device, in the network's mode. */
static void
test_pool(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *net = e2e_tmp_file("network", "pool.xml",
        "<network><name>pool</name><forward mode='bridge'><interface dev='vmA'/>"
        "<interface dev='vmC'/></forward></network>");
    g_autofree char *lower1 = NULL, *lower2 = NULL;

    NEED(S.booted, "/e2e/network/start");
    {
        g_autoptr(E2eCmdResult) r1 = RUN("ip", "link", "add", "vmA", "type", "veth", "peer", "name",
                                         "vmB", NULL);
        g_autoptr(E2eCmdResult) r2 = RUN("ip", "link", "add", "vmC", "type", "veth", "peer", "name",
                                         "vmD", NULL);
        g_autoptr(E2eCmdResult) r3 = NULL;
        g_autoptr(E2eCmdResult) r4 = NULL;
        CMD_OK(r1);
        CMD_OK(r2);
        r3 = VNIC("net-define", net, NULL);
        CMD_OK(r3);
        r4 = VNIC("net-start", "pool", NULL);
        CMD_OK(r4);
    }
    for (guint i = 0; i < 2; i++) {
        const char *mac = i == 0 ? "52:54:00:4e:00:06" : "52:54:00:4e:00:07";
        g_autoptr(E2eCmdResult) r = VNIC("attach-interface", S.xml->name, "--type", "network",
                                         "--source", "pool", "--mac", mac, "--live", NULL);
        g_autoptr(JsonObject) ifc = NULL;
        g_autofree char *ifname = NULL;
        const char *target;
        g_autofree char *link = NULL;

        CMD_OK(r);
        ifname = e2e_guest_ifname(S.console, mac, 30, &error);
        E2E_CHECK_NO_ERROR(error, "pool NIC in the guest");
        ifc = iface_of_mac(mac);
        E2E_CHECK(ifc != NULL && (target = e2e_json_get_string(ifc, "target")) != NULL &&
                      g_strcmp0(e2e_json_get_string(ifc, "source"), "pool") == 0,
                  "domiflist lacks the pool NIC %s", mac);
        /* a macvtap's lower device: /sys/class/net/NAME/lower_DEV */
        link = g_strdup_printf("/sys/class/net/%s/lower_%s", target, i == 0 ? "vmA" : "vmC");
        E2E_CHECK(g_file_test(link, G_FILE_TEST_EXISTS), "%s is not on %s (no %s)", target,
                  i == 0 ? "vmA" : "vmC", link);
        if (i == 0)
            lower1 = g_strdup(target);
        else
            lower2 = g_strdup(target);
    }
    g_test_message("pool: %s on vmA, %s on vmC (least used first)", lower1, lower2);
}

static void
test_destroy(void)
{
    NEED(S.xml != NULL, "/e2e/network/start-inactive");
    if (S.booted) {
        g_autoptr(E2eCmdResult) r = VNIC("destroy", S.xml->name, NULL);
        CMD_OK(r);
        g_autoptr(E2eCmdResult) tc = NULL;
        E2E_CHECK(e2e_netns_has_link(EXT_TAP), "the managed='no' tap %s was deleted", EXT_TAP);
        tc = RUN("tc", "qdisc", "show", "dev", EXT_TAP, NULL);
        E2E_CHECK(tc->status == 0 && strstr(tc->out, "htb") == NULL,
                  "vnic's shaping stayed on %s:\n%s", EXT_TAP, tc->out);
        E2E_CHECK(!e2e_netns_has_link("vnet0") && !e2e_netns_has_link("vnet1"),
                  "vnic's taps outlived the domain: %s", e2e_netns_links_besides_lo());
    }
    {
        g_autoptr(E2eCmdResult) r1 = VNIC("undefine", S.xml->name, NULL);
        g_autoptr(E2eCmdResult) r2 = VNIC("net-destroy", "lan", NULL);
        g_autoptr(E2eCmdResult) r3 = VNIC("net-undefine", "lan", NULL);
        /* the pool network, when /e2e/network/pool made it */
        g_autoptr(E2eCmdResult) r5 = VNIC("net-destroy", "pool", NULL);
        g_autoptr(E2eCmdResult) r6 = VNIC("net-undefine", "pool", NULL);
        g_autoptr(E2eCmdResult) r4 = VNIC("net-list", "--all", "--json", NULL);
        CMD_OK(r1);
        CMD_OK(r2);
        CMD_OK(r3);
        CMD_OK(r4);
        E2E_CHECK(strstr(r4->out, "\"lan\"") == NULL, "lan still listed: %s", r4->out);
    }
    g_clear_pointer(&S.console, e2e_console_free);
}

/* vnicd stops cleanly (exit 0: under ASan, no leak either); nothing but lo
 * and the test's own links is left. */
static void
test_cleanup(void)
{
    g_autoptr(GError) error = NULL;
    int code = -1;

    NEED(S.daemon != NULL, "/e2e/network/net-define");
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error), "stop: %s", error->message);
    E2E_CHECK(code == 0, "vnicd exited %d; its log:\n%s", code,
              e2e_daemon_log_tail(S.daemon, 40));
    {
        g_autofree char *links = e2e_netns_links_besides_lo();
        E2E_CHECK(!e2e_netns_has_link("vnet0") && !e2e_netns_has_link("macvtap0") &&
                      strstr(links, "vifb") == NULL,
                  "links left: %s", links);
    }
}

int
main(int argc, char **argv)
{
    int rc;

    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/network/net-define", test_net_define);
    g_test_add_func("/e2e/network/start-inactive", test_start_inactive);
    g_test_add_func("/e2e/network/start", test_start);
    g_test_add_func("/e2e/network/traffic", test_traffic);
    g_test_add_func("/e2e/network/hotplug", test_hotplug);
    g_test_add_func("/e2e/network/pool", test_pool);
    g_test_add_func("/e2e/network/destroy", test_destroy);
    g_test_add_func("/e2e/network/vhostuser", test_vhostuser);
    g_test_add_func("/e2e/network/cleanup", test_cleanup);
    rc = e2e_finish();
    if (rc != 0 && S.daemon != NULL) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 60);
        g_printerr("--- vnicd log\n%s\n", log != NULL ? log : "");
    }
    /* Leftover guests and the daemon are the guard's (e2e-env.c). */
    return rc;
}
