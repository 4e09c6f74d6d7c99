/* test-faults.c: real faults, not injected ones (meson test 'e2e-faults',
 * issue #10 "Real faults").
 *
 * One pc guest with a boot NIC (data/pc-one-nic.xml), a serial port
 * writing to a file under a hostile path (a newline, a tab, a carriage
 * return, quotes, `<&>`, over 1000 bytes) and one on a unix socket under a
 * short path with the same characters; a second domain, defined only.
 * vnicd's state dir and run dir are each a small tmpfs of the test's own
 * (its private mount namespace), so the test can fill them.  After every
 * fault the test checks what a user would: the command failed with an
 * error naming the cause (or succeeded and the state says so), vnicd's open
 * fds (/proc/PID/fd) are back to what they were (but for its reference to
 * the queue of a tap that exists, which a NIC plugged meanwhile brings: the
 * detach promise, docs/performance.md; one to a deleted tap counts), no tap or macvtap but
 * those of listed NICs (and, in the status file's ledger, exactly those),
 * QEMU has a tap netdev per listed NIC (HMP `info network`), no temp file
 * (NAME.xml.XXXXXX) in the state or run dir, and dumpxml (live and
 * --inactive) is what it was — also after a vnicd restart.  Cases, in
 * order:
 *
 *   start              define both, start the guest, console ready
 *   hostile-path       the status file keeps the socket's path byte for byte
 *                      across a vnicd SIGKILL + restart, dumpxml (live and
 *                      --inactive) both paths; the final destroy removes that
 *                      very socket (and leaves the user's log file)
 *   full-state-dir     the state dir's tmpfs filled: define, attach --config,
 *                      attach --live --config, detach --config, detach
 *                      --live --config fail with ENOSPC in the message and
 *                      leave the config as it was (the --live halves happen,
 *                      and the error says the config has not); undefine of the other
 *                      domain (an unlink: needs no space) succeeds; space
 *                      freed: the same commands work, and a restart shows
 *                      exactly what was acknowledged
 *   full-run-dir       the run dir's tmpfs filled: a live attach fails with
 *                      ENOSPC before QEMU hears of it, its tap deleted
 *   fd-limit           vnicd's soft RLIMIT_NOFILE lowered (prlimit(2)) to
 *                      what it has open plus 1, 2, 3, 4: each attach that
 *                      fails says "Too many open files", nothing leaks, and
 *                      with the limit back an attach works
 *   link-race          a thread takes the names vnicd is about to use (the
 *                      lowest free vnetN and macvtapN, created as persistent
 *                      taps and as macvtaps) in a tight loop during 6
 *                      attaches, each attach starting only after the thread
 *                      took one more name (so the race is real however fast
 *                      attaches are): every attach succeeds on another name, and
 *                      every foreign link keeps its ifindex; a --target
 *                      naming a foreign link is refused ("already exists")
 *   qmp-stopped        QEMU stopped (SIGSTOP): an attach and a detach end
 *                      with a timeout error in bounded time, `vnic list` and
 *                      dumpxml of the other domain answer meanwhile; QEMU
 *                      continued: consistent (whatever QEMU did with the
 *                      commands it read late)
 *   kill-mid-attach    QEMU stopped while an attach waits in its QMP
 *                      sequence (tap created), then SIGKILLed: the attach
 *                      fails naming QEMU, the domain is shut off, no link
 *   kill-mid-detach    the same during a detach (status says unplugging)
 *   destroy-stopped    destroy of a SIGSTOPped QEMU returns at once: shut
 *                      off, no link, no fd, no file left; vnicd exits 0
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "e2e.h"

#define BOOT_MAC "52:54:00:3c:00:01"
#define ENOSPC_TEXT "No space left on device"

static struct {
    E2eDaemon *daemon;
    E2eDomainXml *xml;
    E2eDomainXml *other;
    E2eConsole *console;
    GPid pid;
    gboolean started;
    char *hostile;   /* the serial file's path */
    char *hostile_sock; /* a serial socket's: vnicd creates and removes it */
    guint idle_fds;  /* vnicd's open fds with no guest running */
    char *third;     /* a domain defined (only) in full-state-dir */
    guint mac_seq;
} S;

#define NEED_START()                                              \
    do {                                                          \
        if (!S.started) {                                         \
            g_test_skip("needs /e2e/faults/start, which failed");  \
            return;                                               \
        }                                                         \
    } while (0)

/* ---- what a user checks ------------------------------------------------- */

/* vnicd's fd @fd is a tap queue whose tap exists (its fdinfo's "iff:"
 * names a link): vnicd's reference for a NIC it plugged, which
 * check_consistent() matches to a listed NIC through the tap.  A reference
 * left to a deleted tap has no "iff:" and counts as a leak. */
static gboolean
is_live_tap_queue(const char *dir, const char *fd)
{
    g_autofree char *link = g_build_filename(dir, "fd", fd, NULL);
    g_autofree char *target = g_file_read_link(link, NULL);
    g_autofree char *info_path = g_build_filename(dir, "fdinfo", fd, NULL);
    g_autofree char *info = NULL;
    const char *iff;

    if (g_strcmp0(target, "/dev/net/tun") != 0 ||
        !g_file_get_contents(info_path, &info, NULL, NULL) || !(iff = strstr(info, "iff:\t")))
        return FALSE;
    iff += strlen("iff:\t");
    g_autofree char *name = g_strndup(iff, strcspn(iff, "\n"));
    return *name && e2e_netns_has_link(name);
}

static guint
vnicd_fds(void)
{
    g_autofree char *proc = g_strdup_printf("/proc/%d", (int)e2e_daemon_pid(S.daemon));
    g_autofree char *path = g_build_filename(proc, "fd", NULL);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *fd;
    guint n = 0;

    while (dir && (fd = g_dir_read_name(dir)))
        if (!is_live_tap_queue(proc, fd))
            n++;
    return n;
}

/* vnicd's fds settle after a command (a client's socket is closed once
 * its reply is sent): waits up to 5 s for @want. */
static guint
vnicd_fds_settle(guint want)
{
    gint64 deadline = e2e_deadline(5);
    guint n;

    while ((n = vnicd_fds()) != want && e2e_ms_left(deadline) > 0)
        g_usleep(50 * 1000);
    return n;
}

/* The NIC links of the namespace (vnetN, macvtapN, vnic-…). */
static const char *const nic_link_prefixes[] = {"vnet", "macvtap", "vnic-", NULL};

/* The NIC links of the namespace, but @skip's. */
static GPtrArray *
nic_links(GHashTable *skip)
{
    return e2e_netns_links_matching(nic_link_prefixes, skip);
}

static guint
count_of(const char *text, const char *needle)
{
    guint n = 0;

    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static char *
status_text(void)
{
    return e2e_daemon_status_text(S.daemon, S.xml->name);
}

/* Waits until the status file says @needle. */
static gboolean
status_says(const char *needle, double timeout_s)
{
    return e2e_daemon_status_says(S.daemon, S.xml->name, needle, timeout_s, 5 * 1000);
}

/* Temp files vnicd's atomic writes left in @dir (recursively). */
static guint
temp_files_in(const char *dir, GString *names)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *file;
    guint n = 0;

    while (d && (file = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, file, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
            n += temp_files_in(path, names);
        } else if (strstr(file, ".xml.") || strstr(file, ".autostart.") ||
                   strstr(file, ".active.")) {
            g_string_append_printf(names, " %s", path);
            n++;
        }
    }
    return n;
}

/* The interfaces of `domiflist NAME --json` (live), as "alias=mac=target". */
static GPtrArray *
live_nics(GError **error)
{
    g_autoptr(JsonNode) node = e2e_daemon_vnic_json(S.daemon, error, "domiflist", S.xml->name,
                                                    "--json", NULL);
    JsonObject *obj = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonArray *list = obj ? e2e_json_member_array(obj, "interfaces") : NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; list && i < json_array_get_length(list); i++) {
        JsonObject *nic = e2e_json_array_object(list, i);
        g_ptr_array_add(out, g_strdup_printf("%s=%s=%s", e2e_json_get_string(nic, "alias"),
                                             e2e_json_get_string(nic, "mac"),
                                             e2e_json_get_string(nic, "target")));
    }
    return out;
}

/* status == QEMU == host links == ledger for the running guest: each NIC
 * domiflist lists has its tap, QEMU has exactly one tap netdev per NIC,
 * the ledger (<link> in the status file) one entry per link, and there is
 * no NIC link (but @foreign's) nobody lists. */
/* A detach answers once QEMU's netdev is gone; the ledger keeps the link
 * until the kernel confirms its deletion (docs/api.md, the detach promise),
 * so give that a moment before comparing. */
static void
wait_ledger_settled(GHashTable *foreign)
{
    gint64 deadline = e2e_deadline(10);

    for (;;) {
        g_autoptr(GPtrArray) links = nic_links(foreign);
        g_autofree char *status = status_text();

        if (count_of(status, "<link ") == links->len || e2e_ms_left(deadline) <= 0)
            return;
        g_usleep(50 * 1000);
    }
}

static void
check_consistent(const char *when, GHashTable *foreign)
{
    g_autoptr(GError) error = NULL;
    wait_ledger_settled(foreign);
    g_autoptr(GPtrArray) nics = live_nics(&error);
    E2E_CHECK_NO_ERROR(error, "domiflist");
    g_autoptr(GPtrArray) links = nic_links(foreign);
    g_autofree char *net = e2e_daemon_hmp(S.daemon, S.xml->name, "info network", &error);
    E2E_CHECK_NO_ERROR(error, "info network");
    g_autofree char *status = status_text();
    g_autofree char *nics_s = NULL, *links_s = NULL;

    g_ptr_array_add(nics, NULL);
    g_ptr_array_add(links, NULL);
    nics_s = g_strjoinv(" ", (char **)nics->pdata);
    links_s = g_strjoinv(" ", (char **)links->pdata);
    E2E_CHECK(links->len - 1 == nics->len - 1,
              "%s: %u NICs (%s) but %u NIC links (%s)", when, nics->len - 1, nics_s,
              links->len - 1, links_s);
    for (guint i = 0; i + 1 < nics->len; i++) {
        const char *target = strrchr(g_ptr_array_index(nics, i), '=') + 1;
        E2E_CHECK(e2e_netns_has_link(target), "%s: NIC %s has no link", when,
                  (char *)g_ptr_array_index(nics, i));
    }
    E2E_CHECK(count_of(net, "type=tap") == nics->len - 1,
              "%s: QEMU has %u tap netdevs for %u NICs (%s):\n%s", when, count_of(net, "type=tap"),
              nics->len - 1, nics_s, net);
    E2E_CHECK(count_of(status, "<link ") == links->len - 1,
              "%s: the ledger has %u links, the namespace %u (%s):\n%s", when,
              count_of(status, "<link "), links->len - 1, links_s, status);
}

static void
check_no_temp_files(const char *when)
{
    g_autoptr(GString) names = g_string_new(NULL);
    guint n = temp_files_in(e2e_daemon_state_dir(S.daemon), names) +
              temp_files_in(e2e_daemon_run_dir(S.daemon), names);

    E2E_CHECK(n == 0, "%s: temp files left:%s", when, names->str);
}

static char *
dumpxml(const char *name, gboolean inactive)
{
    g_autoptr(E2eCmdResult) r = inactive
        ? e2e_daemon_vnic(S.daemon, "dumpxml", name, "--inactive", NULL)
        : e2e_daemon_vnic(S.daemon, "dumpxml", name, NULL);

    return r->status == 0 ? g_strdup(r->out) : g_strdup_printf("(dumpxml failed: %s)", r->err);
}

static char *
next_mac(void)
{
    return g_strdup_printf("52:54:00:3c:01:%02x", ++S.mac_seq);
}

/* `vnic attach-interface NAME --type ethernet --mac MAC [FLAGS…]`. */
static E2eCmdResult *
attach(const char *mac, const char *flag1, const char *flag2)
{
    return e2e_daemon_vnic_timeout(S.daemon, 90, "attach-interface", S.xml->name, "--type",
                                   "ethernet", "--mac", mac, flag1, flag2, NULL);
}

static gboolean
mount_tmpfs(const char *dir, GError **error)
{
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=2m,mode=0700") < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "mount tmpfs on %s: %s", dir,
                    g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* Fills the file system of @dir: DIR/fill grows until ENOSPC. */
static char *
fill(const char *dir)
{
    char *path = g_build_filename(dir, "fill", NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    static char block[4096];

    while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
        ;
    /* the last partial page too */
    while (fd >= 0 && write(fd, block, 1) > 0)
        ;
    if (fd >= 0)
        close(fd);
    return path;
}

/* ---- start -------------------------------------------------------------- */

/* Escapes @s for a quoted XML attribute, newline and tab included. */
static char *
xml_attr(const char *s)
{
    GString *out = g_string_new(NULL);

    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\n': g_string_append(out, "&#10;"); break;
        case '\r': g_string_append(out, "&#13;"); break;
        case '\t': g_string_append(out, "&#9;"); break;
        default: g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}

/* A path of > 1000 bytes whose first component holds every character XML
 * cares about; its directories made. */
static char *
hostile_path(void)
{
    g_autofree char *base = e2e_tmp_dir("hostile");
    g_autofree char *a = g_strnfill(250, 'a'), *b = g_strnfill(250, 'b'), *c = g_strnfill(250, 'c');
    g_autofree char *dir = g_build_filename(base, "n\nl t\tr\rq'd\"<&>", a, b, c, a, NULL);

    g_mkdir_with_parents(dir, 0700);
    return g_build_filename(dir, "serial '1'\n.log", NULL);
}

/* A socket path (< 108 bytes) with the same characters. */
static char *
hostile_sock_path(void)
{
    g_autofree char *base = e2e_tmp_dir("hs");
    g_autofree char *dir = g_build_filename(base, "n\nl t\tr\rq'd\"<&>", NULL);

    g_mkdir_with_parents(dir, 0700);
    return g_build_filename(dir, "s'\n.sock", NULL);
}

static void
add_hostile_serial(E2eDomainXml *xml)
{
    g_autofree char *attr = xml_attr(S.hostile);
    g_autofree char *sock = xml_attr(S.hostile_sock);
    g_autofree char *serial = g_strdup_printf("    <serial type='file'><source path='%s'/>"
                                              "<target port='1'/></serial>\n"
                                              "    <serial type='unix'><source mode='bind' "
                                              "path='%s'/><target port='2'/></serial>\n"
                                              "  </devices>", attr, sock);
    g_autoptr(GString) text = g_string_new(xml->xml);

    g_string_replace(text, "</devices>", serial, 1);
    g_free(xml->xml);
    xml->xml = g_strdup(text->str);
    g_file_set_contents(xml->xml_path, xml->xml, -1, NULL);
}

static void
test_start(void)
{
    g_autoptr(GError) error = NULL;

    S.daemon = e2e_daemon_new(NULL);
    E2E_CHECK(mount_tmpfs(e2e_daemon_state_dir(S.daemon), &error) &&
              mount_tmpfs(e2e_daemon_run_dir(S.daemon), &error), "%s", error->message);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
    S.idle_fds = vnicd_fds();
    S.xml = e2e_xml_prepare("tests/e2e/data/pc-one-nic.xml", NULL, &error);
    E2E_CHECK_NO_ERROR(error, "prepare XML");
    S.other = e2e_xml_prepare("tests/e2e/data/pc-one-nic.xml", "other", &error);
    E2E_CHECK_NO_ERROR(error, "prepare XML");
    S.hostile = hostile_path();
    S.hostile_sock = hostile_sock_path();
    E2E_CHECK(strlen(S.hostile) > 1000, "path of %zu bytes", strlen(S.hostile));
    add_hostile_serial(S.xml);
    g_autoptr(E2eCmdResult) def = e2e_daemon_vnic(S.daemon, "define", S.xml->xml_path, NULL);
    E2E_CHECK(def->status == 0, "%s", e2e_cmd_result_describe(def));
    g_autoptr(E2eCmdResult) def2 = e2e_daemon_vnic(S.daemon, "define", S.other->xml_path, NULL);
    E2E_CHECK(def2->status == 0, "%s", e2e_cmd_result_describe(def2));
    g_autoptr(E2eCmd) start = e2e_daemon_vnic_spawn(S.daemon, "start", S.xml->name, NULL);
    S.console = e2e_console_connect(S.xml->serial_path, 90, &error);
    E2E_CHECK_NO_ERROR(error, "console");
    g_autoptr(E2eCmdResult) r = e2e_cmd_finish(g_steal_pointer(&start), 90);
    E2E_CHECK(r->status == 0, "%s", e2e_cmd_result_describe(r));
    E2E_CHECK(e2e_console_wait_ready(S.console, 120, &error), "guest boot: %s", error->message);
    S.pid = e2e_daemon_running_pid(S.daemon, S.xml->name, &error);
    E2E_CHECK(S.pid > 0, "no QEMU pid");
    E2E_CHECK(g_file_test(S.hostile, G_FILE_TEST_EXISTS), "no serial file at the hostile path");
    S.started = TRUE;
}

/* ---- hostile-path ------------------------------------------------------- */

/* Whether an element <@element> of the XML text @xml has @attr == @value. */
static gboolean
xml_has(const char *xml, const char *element, const char *attr, const char *value)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    gboolean found = FALSE;
    GPtrArray *stack = g_ptr_array_new();

    if (doc)
        g_ptr_array_add(stack, xmlDocGetRootElement(doc));
    while (stack->len > 0 && !found) {
        xmlNode *n = g_ptr_array_steal_index(stack, stack->len - 1);
        for (; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            if (xmlStrEqual(n->name, (const xmlChar *)element)) {
                xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
                found = found || (v && strcmp((const char *)v, value) == 0);
                xmlFree(v);
            }
            if (n->children)
                g_ptr_array_add(stack, n->children);
        }
    }
    g_ptr_array_unref(stack);
    xmlFreeDoc(doc);
    return found;
}

static void
test_hostile_path(void)
{
    NEED_START();
    g_autoptr(GError) error = NULL;

    g_autofree char *before = status_text();
    E2E_CHECK(xml_has(before, "owned", "path", S.hostile_sock),
              "the status file does not give back the serial file's path:\n%s", before);
    e2e_daemon_kill(S.daemon);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "restart: %s", error->message);
    E2E_CHECK(e2e_daemon_running_pid(S.daemon, S.xml->name, &error) == S.pid,
              "after the restart the guest is not running under vnicd");
    check_consistent("after the restart", NULL);
    g_autofree char *after = status_text();
    E2E_CHECK(xml_has(after, "owned", "path", S.hostile_sock), "after a restart:\n%s", after);
    g_autofree char *live = dumpxml(S.xml->name, FALSE);
    E2E_CHECK(xml_has(live, "source", "path", S.hostile), "dumpxml:\n%s", live);
    g_autofree char *inactive = dumpxml(S.xml->name, TRUE);
    E2E_CHECK(xml_has(inactive, "source", "path", S.hostile), "dumpxml --inactive:\n%s", inactive);
}

/* ---- full-state-dir ----------------------------------------------------- */

static void
expect_enospc(E2eCmdResult *r, const char *what)
{
    E2E_CHECK(r->status != 0, "%s on a full state dir succeeded: %s", what,
              e2e_cmd_result_describe(r));
    E2E_CHECK(strstr(r->err, ENOSPC_TEXT) != NULL, "%s: no '%s' in the error: %s", what,
              ENOSPC_TEXT, e2e_cmd_result_describe(r));
}

static void
test_full_state_dir(void)
{
    NEED_START();
    g_autoptr(GError) error = NULL;
    g_autofree char *inactive = dumpxml(S.xml->name, TRUE);
    g_autofree char *live = dumpxml(S.xml->name, FALSE);
    g_autofree char *third_path = NULL;
    g_autoptr(E2eDomainXml) third = e2e_xml_prepare("tests/e2e/data/pc-one-nic.xml", "third",
                                                    &error);
    E2E_CHECK_NO_ERROR(error, "prepare XML");
    guint fds = vnicd_fds();
    g_autofree char *filler = fill(e2e_daemon_state_dir(S.daemon));
    g_autofree char *mac = next_mac();

    {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "define", third->xml_path, NULL);
        expect_enospc(r, "define");
        g_autoptr(E2eCmdResult) l = e2e_daemon_vnic(S.daemon, "list", "--all", "--name", NULL);
        E2E_CHECK(l->status == 0 && !strstr(l->out, third->name), "a refused define is listed: %s",
                  e2e_cmd_result_describe(l));
    }
    {
        g_autoptr(E2eCmdResult) r = attach(mac, "--config", NULL);
        expect_enospc(r, "attach --config");
    }
    {
        g_autoptr(E2eCmdResult) r = attach(mac, "--live", "--config");
        expect_enospc(r, "attach --live --config");
        /* the guest may have the NIC now; the client was told the config has not */
    }
    {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "detach-interface", S.xml->name,
                                                    "--mac", BOOT_MAC, "--config", NULL);
        expect_enospc(r, "detach --config");
    }
    {
        /* the guest lets go of it; the config cannot: the client is told */
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic_timeout(S.daemon, 90, "detach-interface",
                                                            S.xml->name, "--mac", BOOT_MAC,
                                                            "--live", "--config", "--timeout",
                                                            "60", NULL);
        expect_enospc(r, "detach --live --config");
        E2E_CHECK(strstr(r->err, "not from the config"), "detach --live --config: %s",
                  e2e_cmd_result_describe(r));
        g_autofree char *now = dumpxml(S.xml->name, FALSE);
        E2E_CHECK(!strstr(now, BOOT_MAC), "the guest still has the NIC:\n%s", now);
    }
    g_autofree char *inactive_full = dumpxml(S.xml->name, TRUE);
    E2E_CHECK(g_strcmp0(inactive, inactive_full) == 0,
              "the config changed while the disk was full:\n%s\n---\n%s", inactive, inactive_full);
    check_no_temp_files("state dir full");
    {
        /* an unlink needs no space: this may succeed, and then it is gone */
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "undefine", S.other->name, NULL);
        g_autofree char *file = g_strconcat(S.other->name, ".xml", NULL);
        g_autofree char *path = g_build_filename(e2e_daemon_state_dir(S.daemon), "domains", file,
                                                 NULL);
        E2E_CHECK(r->status == 0 ? !g_file_test(path, G_FILE_TEST_EXISTS)
                                 : strstr(r->err, ENOSPC_TEXT) != NULL,
                  "undefine: %s", e2e_cmd_result_describe(r));
        E2E_CHECK(r->status == 0, "undefine (an unlink) failed: %s", e2e_cmd_result_describe(r));
    }
    check_consistent("state dir full", NULL);
    E2E_CHECK(vnicd_fds_settle(fds) <= fds, "vnicd has %u fds, had %u", vnicd_fds(), fds);

    /* space again: what was refused works, and a restart shows it */
    g_unlink(filler);
    {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "define", third->xml_path, NULL);
        E2E_CHECK(r->status == 0, "define: %s", e2e_cmd_result_describe(r));
        g_autofree char *mac2 = next_mac();
        g_autoptr(E2eCmdResult) a = attach(mac2, "--config", NULL);
        E2E_CHECK(a->status == 0, "attach --config: %s", e2e_cmd_result_describe(a));
    }
    g_autofree char *inactive_now = dumpxml(S.xml->name, TRUE);
    g_autofree char *live_now = dumpxml(S.xml->name, FALSE);
    g_autoptr(E2eCmdResult) list_now = e2e_daemon_vnic(S.daemon, "list", "--all", "--name", NULL);
    int code = -1;
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error) && code == 0, "vnicd stop: exit %d", code);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "restart: %s", error->message);
    g_autofree char *inactive_after = dumpxml(S.xml->name, TRUE);
    g_autofree char *live_after = dumpxml(S.xml->name, FALSE);
    g_autoptr(E2eCmdResult) list_after = e2e_daemon_vnic(S.daemon, "list", "--all", "--name", NULL);
    E2E_CHECK(g_strcmp0(inactive_now, inactive_after) == 0,
              "config after the restart:\n%s\n--- before:\n%s", inactive_after, inactive_now);
    E2E_CHECK(g_strcmp0(live_now, live_after) == 0,
              "live definition after the restart:\n%s\n--- before:\n%s", live_after, live_now);
    E2E_CHECK(g_strcmp0(list_now->out, list_after->out) == 0 && strstr(list_after->out, third->name)
              && !strstr(list_after->out, S.other->name),
              "list after the restart:\n%s--- before:\n%s", list_after->out, list_now->out);
    check_consistent("after the restart", NULL);
    S.third = g_strdup(third->name);
    (void)live;
}

/* ---- full-run-dir ------------------------------------------------------- */

static void
test_full_run_dir(void)
{
    NEED_START();
    g_autofree char *live = dumpxml(S.xml->name, FALSE);
    guint fds = vnicd_fds();
    g_autofree char *filler = fill(e2e_daemon_run_dir(S.daemon));
    g_autofree char *mac = next_mac();
    g_autoptr(E2eCmdResult) r = attach(mac, "--live", NULL);

    g_unlink(filler);
    expect_enospc(r, "attach --live (run dir full)");
    g_autofree char *live_after = dumpxml(S.xml->name, FALSE);
    E2E_CHECK(g_strcmp0(live, live_after) == 0, "the live definition changed:\n%s", live_after);
    check_consistent("run dir full", NULL);
    check_no_temp_files("run dir full");
    E2E_CHECK(vnicd_fds_settle(fds) <= fds, "vnicd has %u fds, had %u", vnicd_fds(), fds);
    g_autoptr(E2eCmdResult) again = attach(mac, "--live", NULL);
    E2E_CHECK(again->status == 0, "attach with space: %s", e2e_cmd_result_describe(again));
    check_consistent("attached", NULL);
}

/* ---- fd-limit ----------------------------------------------------------- */

/* vnicd's soft RLIMIT_NOFILE (what `prlimit --pid` sets), its hard one
 * kept; @limit 0: back to the hard limit, as vnicd sets it at start. */
static gboolean
set_nofile(guint limit, GError **error)
{
    struct rlimit old, now;

    if (prlimit(e2e_daemon_pid(S.daemon), RLIMIT_NOFILE, NULL, &old) < 0)
        goto fail;
    now.rlim_max = old.rlim_max;
    now.rlim_cur = limit ? limit : old.rlim_max;
    if (prlimit(e2e_daemon_pid(S.daemon), RLIMIT_NOFILE, &now, NULL) < 0)
        goto fail;
    return TRUE;
fail:
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "prlimit: %s",
                g_strerror(errno));
    return FALSE;
}

static void
test_fd_limit(void)
{
    NEED_START();
    g_autoptr(GError) error = NULL;
    g_autofree char *live = dumpxml(S.xml->name, FALSE);
    guint fds = vnicd_fds();
    g_autofree char *mac = next_mac();
    g_autoptr(GString) seen = g_string_new(NULL);
    gboolean refused = FALSE;

    /* the client's connection takes one fd; the attach needs more than the
     * rest (netlink, /dev/net/tun, ...): try the tightest limits first */
    for (guint extra = 1; extra <= 4; extra++) {
        E2E_CHECK(set_nofile(fds + extra, &error), "%s", error->message);
        g_autoptr(E2eCmdResult) r = attach(mac, "--live", NULL);
        E2E_CHECK(set_nofile(0, &error), "%s", error->message);
        g_autofree char *described = e2e_cmd_result_describe(r);
        g_string_append_printf(seen, "limit %u: %s\n", fds + extra, described);
        E2E_CHECK(r->status != 0 || extra > 1, "attach with %u fds free succeeded", extra);
        if (r->status == 0)
            break;
        refused = TRUE;
        /* whichever open failed (netlink socket, /dev/net/tun, sysfs), the
         * client reads why */
        E2E_CHECK(strstr(r->err, "Too many open files") != NULL, "limit %u: %s", fds + extra,
                  e2e_cmd_result_describe(r));
        g_autofree char *live_after = dumpxml(S.xml->name, FALSE);
        E2E_CHECK(g_strcmp0(live, live_after) == 0, "the live definition changed:\n%s",
                  live_after);
        check_consistent("out of fds", NULL);
        E2E_CHECK(vnicd_fds_settle(fds) <= fds, "vnicd has %u fds, had %u", vnicd_fds(), fds);
    }
    E2E_CHECK(refused, "no attach failed with 'Too many open files':\n%s", seen->str);
    g_test_message("fd-limit: %s", seen->str);
    g_autofree char *mac2 = next_mac();
    g_autoptr(E2eCmdResult) again = attach(mac2, "--live", NULL);
    E2E_CHECK(again->status == 0, "attach with fds again: %s", e2e_cmd_result_describe(again));
    check_consistent("attached", NULL);
    g_autoptr(E2eCmdResult) l = e2e_daemon_vnic(S.daemon, "list", NULL);
    E2E_CHECK(l->status == 0, "list: %s", e2e_cmd_result_describe(l));
}

/* ---- link-race ---------------------------------------------------------- */

typedef struct {
    gint stop;
    GHashTable *taken;   /* name -> ifindex (GUINT_TO_POINTER) */
    GMutex lock;
    gint n;              /* names taken (atomic) */
} Racer;

/* The lowest N for which @prefix N is not a link. */
static char *
lowest_free(const char *prefix)
{
    for (guint i = 0;; i++) {
        g_autofree char *name = g_strdup_printf("%s%u", prefix, i);
        if (!e2e_netns_has_link(name))
            return g_steal_pointer(&name);
    }
}

static gboolean
take_tap(const char *name)
{
    struct ifreq ifr = { 0 };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    gboolean ok;

    if (fd < 0)
        return FALSE;
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    ok = ioctl(fd, TUNSETIFF, &ifr) == 0 && ioctl(fd, TUNSETPERSIST, 1) == 0;
    close(fd);
    return ok;
}

static gpointer
racer_thread(gpointer data)
{
    Racer *r = data;

    while (!g_atomic_int_get(&r->stop) && g_atomic_int_get(&r->n) < 24) {
        gboolean mac = g_atomic_int_get(&r->n) % 2 == 1;
        g_autofree char *name = lowest_free(mac ? "macvtap" : "vnet");
        gboolean ok;

        if (mac) {
            const char *argv[] = { "ip", "link", "add", "link", "vfault0", "name", name, "type",
                                   "macvtap", NULL };
            int status = -1;
            /* a name vnicd took first: ip fails (EEXIST), nothing recorded */
            ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
                              G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                              NULL, NULL, &status, NULL) &&
                 g_spawn_check_wait_status(status, NULL);
        } else {
            ok = take_tap(name);
        }
        guint index = ok ? if_nametoindex(name) : 0;
        if (index) {
            g_mutex_lock(&r->lock);
            g_hash_table_insert(r->taken, g_strdup(name), GUINT_TO_POINTER(index));
            g_mutex_unlock(&r->lock);
            g_atomic_int_inc(&r->n);
        }
        g_usleep(2 * 1000);
    }
    return NULL;
}

/* Waits until the racer has taken more than @n names: each attach then
 * finds the name it would pick first taken, however fast attaches are
 * compared with the racer (with 20 ms naps it once got only one name in
 * during all six). */
static gboolean
racer_took_more_than(Racer *r, guint n)
{
    gint64 deadline = e2e_deadline(10);

    while ((guint)g_atomic_int_get(&r->n) <= n && e2e_ms_left(deadline) > 0)
        g_usleep(1000);
    return (guint)g_atomic_int_get(&r->n) > n;
}

static gboolean
sh(const char *cmd)
{
    const char *argv[] = { "sh", "-c", cmd, NULL };
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(argv, 30);
    return r->status == 0;
}

/* The attaches against the racer and the checks; returns at the first
 * failed check, and the caller removes the foreign links either way (left
 * behind, they would fail every later case's link count). */
static void
link_race_run(Racer *r)
{
    GHashTableIter iter;
    gpointer key, value;
    g_autoptr(GString) failures = g_string_new(NULL);

    GThread *thread = g_thread_new("racer", racer_thread, r);
    for (guint i = 0; i < 6; i++) {
        g_autofree char *mac = next_mac();
        if (!racer_took_more_than(r, i))
            g_string_append_printf(failures, "the racer took no name before attach %u\n", i + 1);
        g_autoptr(E2eCmdResult) a = i % 2
            ? e2e_daemon_vnic_timeout(S.daemon, 90, "attach-interface", S.xml->name, "--type",
                                      "direct", "--source", "vfault0", "--mac", mac, NULL)
            : attach(mac, "--live", NULL);
        if (a->status != 0) {
            g_autofree char *described = e2e_cmd_result_describe(a);
            g_string_append_printf(failures, "%s\n", described);
        }
    }
    g_atomic_int_set(&r->stop, 1);
    g_thread_join(thread);
    guint intact = 0;
    g_autoptr(GString) moved = g_string_new(NULL);
    g_hash_table_iter_init(&iter, r->taken);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        if (if_nametoindex(key) == GPOINTER_TO_UINT(value))
            intact++;
        else
            g_string_append_printf(moved, " %s(%u→%u)", (char *)key, GPOINTER_TO_UINT(value),
                                   if_nametoindex(key));
    }
    g_test_message("link-race: %d foreign links taken during 6 attaches", r->n);
    E2E_CHECK(failures->len == 0, "attaches failed:\n%s", failures->str);
    E2E_CHECK(moved->len == 0, "foreign links changed:%s", moved->str);
    E2E_CHECK(r->n >= 6, "the racer took only %d names", r->n);
    check_consistent("racing", r->taken);
    /* a <target dev> naming a foreign link: refused, the link untouched */
    g_hash_table_iter_init(&iter, r->taken);
    if (g_hash_table_iter_next(&iter, &key, &value)) {
        g_autofree char *mac = next_mac();
        g_autoptr(E2eCmdResult) t = e2e_daemon_vnic_timeout(S.daemon, 90, "attach-interface",
                                                            S.xml->name, "--type", "ethernet",
                                                            "--target", (char *)key, "--mac", mac,
                                                            NULL);
        E2E_CHECK(t->status != 0 && strstr(t->err, key) && strstr(t->err, "exists"),
                  "attach on the foreign %s: %s", (char *)key, e2e_cmd_result_describe(t));
        E2E_CHECK(if_nametoindex(key) == GPOINTER_TO_UINT(value), "the foreign %s changed",
                  (char *)key);
    }
    /* none of the guest's NICs sits on a foreign link */
    g_autoptr(GPtrArray) nics = live_nics(NULL);
    for (guint i = 0; nics && i < nics->len; i++) {
        const char *target = strrchr(g_ptr_array_index(nics, i), '=') + 1;
        E2E_CHECK(!g_hash_table_contains(r->taken, target), "NIC %s is on a foreign link",
                  (char *)g_ptr_array_index(nics, i));
    }
    E2E_CHECK(intact > 0, "no foreign link");
}

static void
test_link_race(void)
{
    NEED_START();
    Racer r = { 0 };
    GHashTableIter iter;
    gpointer key;

    E2E_CHECK(sh("ip link add vfault0 type veth peer name vfault1 && ip link set vfault0 up && "
                 "ip link set vfault1 up"), "veth for the macvtaps");
    r.taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_mutex_init(&r.lock);
    link_race_run(&r);
    g_hash_table_iter_init(&iter, r.taken);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        g_autofree char *cmd = g_strdup_printf("ip link del '%s'", (char *)key);
        sh(cmd);
    }
    /* vfault0 stays: deleting it would take the guest's macvtaps along
     * (their backends dropped, which is daemon-heal's, not this test's) */
    g_mutex_clear(&r.lock);
    g_hash_table_unref(r.taken);
}

/* ---- qmp-stopped -------------------------------------------------------- */

static gboolean
timeout_text(const char *err)
{
    return strstr(err, "no reply from QEMU within") || strstr(err, "Timeout");
}

static void
test_qmp_stopped(void)
{
    NEED_START();
    g_autoptr(GPtrArray) nics = live_nics(NULL);
    E2E_CHECK(nics && nics->len >= 2, "needs an attached NIC");
    g_auto(GStrv) last = g_strsplit(g_ptr_array_index(nics, nics->len - 1), "=", 3);
    g_autofree char *mac = next_mac();

    E2E_CHECK(kill(S.pid, SIGSTOP) == 0, "SIGSTOP QEMU");
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(E2eCmd) a = e2e_daemon_vnic_spawn(S.daemon, "attach-interface", S.xml->name,
                                                "--type", "ethernet", "--mac", mac, NULL);
    g_usleep(G_USEC_PER_SEC);
    {
        gint64 l0 = g_get_monotonic_time();
        g_autoptr(E2eCmdResult) l = e2e_daemon_vnic(S.daemon, "list", "--all", NULL);
        g_autofree char *other = dumpxml(S.third, TRUE);
        g_autoptr(E2eCmdResult) info = e2e_daemon_vnic(S.daemon, "domiflist", S.xml->name, NULL);
        double s = (g_get_monotonic_time() - l0) / 1e6;
        g_test_message("qmp-stopped: list, dumpxml of another domain, domiflist answered in "
                       "%.2f s", s);
        E2E_CHECK(l->status == 0 && s < 5, "list during a stuck attach: %.1f s, %s", s,
                  e2e_cmd_result_describe(l));
        E2E_CHECK(g_str_has_prefix(other, "<domain"), "dumpxml of another domain: %s", other);
        E2E_CHECK(info->status == 0, "domiflist: %s", e2e_cmd_result_describe(info));
    }
    g_autoptr(E2eCmdResult) ar = e2e_cmd_finish(g_steal_pointer(&a), 60);
    double attach_s = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("qmp-stopped: the attach ended after %.1f s: %s", attach_s, ar->err);
    E2E_CHECK(!ar->timed_out && ar->status != 0 && timeout_text(ar->err) && attach_s < 45,
              "attach to a stopped QEMU: %s", e2e_cmd_result_describe(ar));
    t0 = g_get_monotonic_time();
    g_autoptr(E2eCmdResult) dr = e2e_daemon_vnic_timeout(S.daemon, 60, "detach-interface",
                                                         S.xml->name, "--mac", last[1], NULL);
    double detach_s = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("qmp-stopped: the detach ended after %.1f s: %s%s", detach_s, dr->out, dr->err);
    E2E_CHECK(!dr->timed_out && (dr->status != 0 ? timeout_text(dr->err) : TRUE),
              "detach from a stopped QEMU: %s", e2e_cmd_result_describe(dr));
    kill(S.pid, SIGCONT);
    /* QEMU now reads what it was sent while stopped: the device_del too,
     * so the guest releases that NIC after all (vnicd sees a guest unplug) */
    gint64 deadline = e2e_deadline(60);
    gboolean gone = FALSE;
    while (!gone && e2e_ms_left(deadline) > 0) {
        g_autoptr(GPtrArray) now = live_nics(NULL);
        gone = TRUE;
        for (guint i = 0; now && i < now->len; i++)
            gone = gone && !strstr(g_ptr_array_index(now, i), last[1]);
        if (!gone)
            g_usleep(200 * 1000);
    }
    E2E_CHECK(gone || dr->status == 0, "the NIC whose device_del QEMU read late is still there");
    g_usleep(G_USEC_PER_SEC);
    check_consistent("after SIGCONT", NULL);
    g_autoptr(E2eCmdResult) l = e2e_daemon_vnic(S.daemon, "list", NULL);
    E2E_CHECK(l->status == 0 && strstr(l->out, "running"), "list: %s",
              e2e_cmd_result_describe(l));
    /* and what vnicd restarted finds is what it had */
    g_autofree char *live = dumpxml(S.xml->name, FALSE);
    g_autoptr(GError) error = NULL;
    e2e_daemon_kill(S.daemon);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "restart: %s", error->message);
    g_autofree char *live_after = dumpxml(S.xml->name, FALSE);
    E2E_CHECK(g_strcmp0(live, live_after) == 0, "after a restart:\n%s\n--- before:\n%s",
              live_after, live);
    check_consistent("after a restart", NULL);
}

/* ---- QEMU killed mid-command -------------------------------------------- */

static void
check_shut_off(const char *when)
{
    g_autoptr(GError) error = NULL;
    gint64 deadline = e2e_deadline(20);

    while (e2e_daemon_running_pid(S.daemon, S.xml->name, &error) != 0 && e2e_ms_left(deadline) > 0)
        g_usleep(100 * 1000);
    E2E_CHECK(e2e_daemon_running_pid(S.daemon, S.xml->name, &error) == 0, "%s: still running",
              when);
    g_autoptr(GPtrArray) links = nic_links(NULL);
    E2E_CHECK(links->len == 0, "%s: %u NIC links left (%s…)", when, links->len,
              links->len ? (char *)g_ptr_array_index(links, 0) : "");
    E2E_CHECK(vnicd_fds_settle(S.idle_fds) <= S.idle_fds, "%s: vnicd has %u fds, %u without "
              "a guest", when, vnicd_fds(), S.idle_fds);
    g_autofree char *status = status_text();
    E2E_CHECK(*status == '\0', "%s: a status file is left:\n%s", when, status);
    check_no_temp_files(when);
}

static void
restart_guest(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic_timeout(S.daemon, 90, "start", S.xml->name, NULL);

    S.started = FALSE;
    E2E_CHECK(r->status == 0, "start: %s", e2e_cmd_result_describe(r));
    S.pid = e2e_daemon_running_pid(S.daemon, S.xml->name, &error);
    E2E_CHECK(S.pid > 0, "no QEMU pid");
    S.started = TRUE;
}

static void
test_kill_mid_attach(void)
{
    NEED_START();
    g_autofree char *mac = next_mac();

    E2E_CHECK(kill(S.pid, SIGSTOP) == 0, "SIGSTOP QEMU");
    g_autoptr(E2eCmd) a = e2e_daemon_vnic_spawn(S.daemon, "attach-interface", S.xml->name,
                                                "--type", "ethernet", "--mac", mac, NULL);
    gboolean reached = status_says("state='backend-ready'", 20);
    kill(S.pid, SIGKILL);
    g_autoptr(E2eCmdResult) r = e2e_cmd_finish(g_steal_pointer(&a), 60);
    g_test_message("kill-mid-attach: %s", r->err);
    E2E_CHECK(reached, "the attach never reached backend-ready");
    E2E_CHECK(!r->timed_out && r->status != 0 && (strstr(r->err, "QEMU") || strstr(r->err, "QMP")),
              "the attach does not say QEMU went: %s", e2e_cmd_result_describe(r));
    check_shut_off("QEMU killed mid-attach");
    restart_guest();
}

static void
test_kill_mid_detach(void)
{
    NEED_START();

    E2E_CHECK(kill(S.pid, SIGSTOP) == 0, "SIGSTOP QEMU");
    g_autoptr(E2eCmd) d = e2e_daemon_vnic_spawn(S.daemon, "detach-interface", S.xml->name,
                                                "--mac", BOOT_MAC, NULL);
    gboolean reached = status_says("state='unplugging'", 20);
    kill(S.pid, SIGKILL);
    g_autoptr(E2eCmdResult) r = e2e_cmd_finish(g_steal_pointer(&d), 60);
    g_test_message("kill-mid-detach: %s%s", r->out, r->err);
    E2E_CHECK(reached, "the detach never reached unplugging");
    E2E_CHECK(!r->timed_out && r->status != 0 && (strstr(r->err, "QEMU") || strstr(r->err, "QMP")),
              "the detach does not say QEMU went: %s", e2e_cmd_result_describe(r));
    check_shut_off("QEMU killed mid-detach");
    restart_guest();
}

static void
test_destroy_stopped(void)
{
    NEED_START();
    g_autoptr(GError) error = NULL;

    E2E_CHECK(kill(S.pid, SIGSTOP) == 0, "SIGSTOP QEMU");
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic_timeout(S.daemon, 30, "destroy", S.xml->name, NULL);
    double s = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("destroy-stopped: %.2f s", s);
    E2E_CHECK(r->status == 0 && s < 10, "destroy of a stopped QEMU: %.1f s, %s", s,
              e2e_cmd_result_describe(r));
    check_shut_off("destroyed while stopped");
    E2E_CHECK(!g_file_test(S.hostile_sock, G_FILE_TEST_EXISTS),
              "the serial socket at the hostile path is left");
    E2E_CHECK(g_file_test(S.hostile, G_FILE_TEST_EXISTS),
              "the serial file (the user's) was removed");
    g_autoptr(E2eCmdResult) u = e2e_daemon_vnic(S.daemon, "undefine", S.xml->name, NULL);
    E2E_CHECK(u->status == 0, "undefine: %s", e2e_cmd_result_describe(u));
    guint fds = vnicd_fds();
    int code = -1;
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error) && code == 0,
              "vnicd exits %d (%u fds at the end)", code, fds);
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/faults/start", test_start);
    g_test_add_func("/e2e/faults/hostile-path", test_hostile_path);
    g_test_add_func("/e2e/faults/full-state-dir", test_full_state_dir);
    g_test_add_func("/e2e/faults/full-run-dir", test_full_run_dir);
    g_test_add_func("/e2e/faults/fd-limit", test_fd_limit);
    g_test_add_func("/e2e/faults/link-race", test_link_race);
    g_test_add_func("/e2e/faults/qmp-stopped", test_qmp_stopped);
    g_test_add_func("/e2e/faults/kill-mid-attach", test_kill_mid_attach);
    g_test_add_func("/e2e/faults/kill-mid-detach", test_kill_mid_detach);
    g_test_add_func("/e2e/faults/destroy-stopped", test_destroy_stopped);
    int rc = e2e_finish();
    if (S.daemon) {
        umount2(e2e_daemon_state_dir(S.daemon), MNT_DETACH);
        umount2(e2e_daemon_run_dir(S.daemon), MNT_DETACH);
    }
    if (rc != 0)
        e2e_daemon_print_log_tail(S.daemon, 80);
    return rc;
}
