/* test-isolation.c: guests isolated from each other (meson test
 * 'e2e-isolation', issue #10).
 *
 * One vnicd with --qemu-uid-range 99997-99999 (three ids, so running out
 * and freeing show), pc guests from data/pc-one-nic.xml with their NIC on
 * the bridge brI (10.97.0.1/24) and a VNC socket QEMU binds itself in
 * RUN/qemu/NAME.  The cases run in order:
 *
 *   start    guests A and B start together and boot; each pings brI and
 *            A pings B
 *   ids      /proc/PID/status: each QEMU's real, effective, saved and fs
 *            uid are one id of the range, its gids the same number, no
 *            supplementary group; A's differ from B's; the status file
 *            records them, `vnic dominfo` prints them as virsh prints a DAC
 *            label; RUN/domains/NAME is root's, 0700; RUN/qemu/NAME the
 *            guest's, 0700
 *   cross    a process with A's ids (setgroups none, setresgid, setresuid)
 *            gets EPERM from kill(B, 0) and kill(B, SIGTERM), EACCES
 *            opening /proc/B/environ, /proc/B/mem, B's run dir and every
 *            file in it (its QMP socket), its status file, its log, its
 *            VNC socket dir and RUN/qemu (the list of guests' socket
 *            dirs), and connecting to its VNC socket and serial socket;
 *            the same process can signal, read /proc of and reach the VNC
 *            socket of its own QEMU (the probe works); B to A likewise
 *   restart  vnicd killed (SIGKILL) and started: A and B re-attached with
 *            their pids and ids; guest C gets the third id; guest D's start
 *            fails naming the range (no id left) and leaves no status
 *   stop     A destroyed → D starts with A's former id; all destroyed → no
 *            process runs with an id of the range, no status file, no
 *            socket dir; vnicd exits 0
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"

#define FIRST_ID 99997u
#define LAST_ID 99999u
#define RANGE "99997-99999"
#define N_GUESTS 4

typedef struct {
    const char *tag;
    const char *mac;
    const char *ip;
    E2eDomainXml *xml;
    E2eConsole *console;
    GPid pid;
    guint uid, gid;
    char *vnc_socket;
} Guest;

static struct {
    E2eDaemon *daemon;
    Guest g[N_GUESTS];         /* A, B, C, D */
    gboolean booted;
} S = {
    .g = {
        { .tag = "A", .mac = "52:54:00:1d:00:0a", .ip = "10.97.0.2" },
        { .tag = "B", .mac = "52:54:00:1d:00:0b", .ip = "10.97.0.3" },
        { .tag = "C", .mac = "52:54:00:1d:00:0c", .ip = "10.97.0.4" },
        { .tag = "D", .mac = "52:54:00:1d:00:0d", .ip = "10.97.0.5" },
    },
};

#define A (&S.g[0])
#define B (&S.g[1])
#define C (&S.g[2])
#define D (&S.g[3])

#define NEED_BOOTED()                                               \
    do {                                                            \
        if (!S.booted) {                                            \
            g_test_skip("needs /e2e/isolation/start, which failed"); \
            return;                                                 \
        }                                                           \
    } while (0)

#define CMD_OK(result) \
    E2E_CHECK((result)->status == 0, "%s", e2e_cmd_result_describe(result))

/* ---- what /proc says ---------------------------------------------------- */

/* The four values of the "Uid:" or "Gid:" line of @pid; FALSE if absent. */
static gboolean
proc_ids(GPid pid, const char *key, guint ids[4], char **groups)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    gboolean found = FALSE;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return FALSE;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], key)) {
            found = sscanf(lines[i] + strlen(key), "%u %u %u %u", &ids[0], &ids[1], &ids[2],
                           &ids[3]) == 4;
        } else if (groups != NULL && g_str_has_prefix(lines[i], "Groups:")) {
            *groups = g_strstrip(g_strdup(lines[i] + strlen("Groups:")));
        }
    }
    return found;
}

/* Processes (not zombies) with any uid or gid in the test's range. */
static char *
processes_in_range(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    g_autoptr(GString) s = g_string_new(NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        guint uids[4], gids[4];
        GPid pid = (GPid)atoi(name);
        g_autofree char *stat = NULL, *statp = g_strdup_printf("/proc/%s/stat", name);

        if (pid <= 0 || !proc_ids(pid, "Uid:", uids, NULL) || !proc_ids(pid, "Gid:", gids, NULL))
            continue;
        if (g_file_get_contents(statp, &stat, NULL, NULL) && strstr(stat, ") Z "))
            continue;
        for (guint i = 0; i < 4; i++) {
            if ((uids[i] >= FIRST_ID && uids[i] <= LAST_ID) ||
                (gids[i] >= FIRST_ID && gids[i] <= LAST_ID)) {
                g_string_append_printf(s, "%s%d (uid %u gid %u)", s->len ? ", " : "", pid,
                                       uids[0], gids[0]);
                break;
            }
        }
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static char *
status_path(const Guest *g)
{
    g_autofree char *file = g_strconcat(g->xml->name, ".xml", NULL);
    return g_build_filename(e2e_daemon_run_dir(S.daemon), "domains", file, NULL);
}

static char *
qemu_dir(const Guest *g)
{
    return g_build_filename(e2e_daemon_run_dir(S.daemon), "qemu", g->xml->name, NULL);
}

/* The guest's QEMU pid and its ids; checks the ids are one number of the
 * range for all four uids and gids, and no supplementary group. */
static gboolean
read_qemu_ids(Guest *g, GError **error)
{
    guint uids[4], gids[4];
    g_autofree char *groups = NULL;

    g->pid = e2e_daemon_running_pid(S.daemon, g->xml->name, error);
    if (g->pid <= 0)
        return FALSE;
    if (!proc_ids(g->pid, "Uid:", uids, &groups) || !proc_ids(g->pid, "Gid:", gids, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no ids for QEMU %d", g->pid);
        return FALSE;
    }
    g->uid = uids[0];
    g->gid = gids[0];
    for (guint i = 0; i < 4; i++) {
        if (uids[i] != g->uid || gids[i] != g->gid) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "QEMU %d of %s: uids %u %u %u %u gids %u %u %u %u are not one each",
                        g->pid, g->tag, uids[0], uids[1], uids[2], uids[3], gids[0], gids[1],
                        gids[2], gids[3]);
            return FALSE;
        }
    }
    if (g->uid < FIRST_ID || g->uid > LAST_ID || g->gid != g->uid || (groups && *groups)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "QEMU %d of %s runs as uid %u gid %u groups '%s', expected one id of "
                    RANGE " and no groups", g->pid, g->tag, g->uid, g->gid, groups);
        return FALSE;
    }
    return TRUE;
}

/* ---- guests -------------------------------------------------------------- */

/* pc-one-nic with its NIC on brI and a VNC socket QEMU binds itself. */
static gboolean
prepare_guest(Guest *g, GError **error)
{
    const char *start, *end, *devices_end;
    g_autofree char *nic = NULL;
    char *text;

    if (!(g->xml = e2e_xml_prepare("tests/e2e/data/pc-one-nic.xml", g->tag, error)))
        return FALSE;
    start = strstr(g->xml->xml, "    <interface");
    end = strstr(g->xml->xml, "</interface>\n");
    devices_end = strstr(g->xml->xml, "  </devices>");
    if (!start || !end || !devices_end || devices_end < end) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "unexpected pc-one-nic.xml");
        return FALSE;
    }
    end += strlen("</interface>\n");
    nic = g_strdup_printf("    <interface type='bridge'>\n      <mac address='%s'/>\n"
                          "      <source bridge='brI'/>\n      <model type='virtio'/>\n"
                          "    </interface>\n", g->mac);
    text = g_strdup_printf("%.*s%s%.*s    <graphics type='vnc'><listen type='socket'/>"
                           "</graphics>\n%s",
                           (int)(start - g->xml->xml), g->xml->xml, nic,
                           (int)(devices_end - end), end, devices_end);
    g_free(g->xml->xml);
    g->xml->xml = text;
    return g_file_set_contents(g->xml->xml_path, g->xml->xml, -1, error);
}

/* The VNC socket path vnicd chose (dumpxml). */
static char *
vnc_socket_of(Guest *g)
{
    g_autoptr(E2eCmdResult) x = e2e_daemon_vnic(S.daemon, "dumpxml", g->xml->name, NULL);
    const char *key = "<listen type='socket' socket='";
    const char *at = x->status == 0 ? strstr(x->out, key) : NULL;
    const char *q = at ? strchr(at + strlen(key), '\'') : NULL;

    return q ? g_strndup(at + strlen(key), (gsize)(q - at - strlen(key))) : NULL;
}

static void
test_start(void)
{
    const char *argv[] = { e2e_vnicd_binary(), "--qemu-uid-range", RANGE, NULL };
    g_autoptr(GError) error = NULL;
    E2eCmd *starts[2] = { NULL, NULL };

    {
        g_autoptr(E2eCmdResult) r1 = e2e_cmd_run_args(30, "ip", "link", "add", "brI", "type",
                                                      "bridge", NULL);
        g_autoptr(E2eCmdResult) r2 = e2e_cmd_run_args(30, "ip", "addr", "add", "10.97.0.1/24",
                                                      "dev", "brI", NULL);
        g_autoptr(E2eCmdResult) r3 = e2e_cmd_run_args(30, "ip", "link", "set", "brI", "up",
                                                      NULL);
        CMD_OK(r1);
        CMD_OK(r2);
        CMD_OK(r3);
    }
    S.daemon = e2e_daemon_new(argv);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "%s", error->message);
    for (guint i = 0; i < N_GUESTS; i++) {
        E2E_CHECK(prepare_guest(&S.g[i], &error), "%s: %s", S.g[i].tag, error->message);
        g_autoptr(E2eCmdResult) def = e2e_daemon_vnic(S.daemon, "define",
                                                      S.g[i].xml->xml_path, NULL);
        CMD_OK(def);
    }
    for (guint i = 0; i < 2; i++)
        starts[i] = e2e_daemon_vnic_spawn(S.daemon, "start", S.g[i].xml->name, NULL);
    for (guint i = 0; i < 2; i++) {
        g_autoptr(E2eCmdResult) r = e2e_cmd_finish(g_steal_pointer(&starts[i]), 90);
        CMD_OK(r);
        S.g[i].console = e2e_console_connect(S.g[i].xml->serial_path, 30, &error);
        E2E_CHECK_NO_ERROR(error, "console");
    }
    for (guint i = 0; i < 2; i++) {
        Guest *g = &S.g[i];
        g_autofree char *ifname = NULL, *cmd = NULL;

        E2E_CHECK(e2e_console_wait_ready(g->console, 120, &error), "%s boot: %s", g->tag,
                  error->message);
        ifname = e2e_guest_ifname(g->console, g->mac, 30, &error);
        E2E_CHECK_NO_ERROR(error, "the bridge NIC in the guest");
        cmd = g_strdup_printf("ip addr add %s/24 dev %s && ip link set %s up && "
                              "busybox ping -c 2 -W 3 10.97.0.1", g->ip, ifname, ifname);
        E2E_CHECK(e2e_guest_run_ok(g->console, cmd, 60, NULL, &error), "%s: %s", g->tag,
                  error->message);
    }
    {
        g_autofree char *cmd = g_strdup_printf("busybox ping -c 2 -W 3 %s", B->ip);
        E2E_CHECK(e2e_guest_run_ok(A->console, cmd, 60, NULL, &error), "A pings B: %s",
                  error->message);
    }
    S.booted = TRUE;
}

static void
test_ids(void)
{
    g_autoptr(GError) error = NULL;

    NEED_BOOTED();
    for (guint i = 0; i < 2; i++) {
        Guest *g = &S.g[i];
        g_autofree char *status = NULL, *path = status_path(g), *want = NULL;
        g_autofree char *dir = qemu_dir(g);
        g_autofree char *run_dir = g_build_filename(e2e_daemon_run_dir(S.daemon), "domains",
                                                    g->xml->name, NULL);
        struct stat st;

        E2E_CHECK(read_qemu_ids(g, &error), "%s", error->message);
        E2E_CHECK(g_file_get_contents(path, &status, NULL, NULL), "no status %s", path);
        want = g_strdup_printf(" uid='%u' gid='%u'", g->uid, g->gid);
        E2E_CHECK(strstr(status, want) != NULL, "status of %s lacks%s", g->tag, want);
        E2E_CHECK(stat(run_dir, &st) == 0 && st.st_uid == 0 && (st.st_mode & 0777) == 0700,
                  "%s: owner %u mode %o, expected root 0700", run_dir, (guint)st.st_uid,
                  st.st_mode & 0777);
        E2E_CHECK(stat(dir, &st) == 0 && st.st_uid == g->uid && st.st_gid == g->gid &&
                      (st.st_mode & 0777) == 0700,
                  "%s: owner %u:%u mode %o, expected %u:%u 0700", dir, (guint)st.st_uid,
                  (guint)st.st_gid, st.st_mode & 0777, g->uid, g->gid);
        {
            g_autoptr(E2eCmdResult) info = e2e_daemon_vnic(S.daemon, "dominfo", g->xml->name,
                                                           NULL);
            g_autofree char *label = g_strdup_printf("Security label: +%u:+%u (enforcing)\n",
                                                     g->uid, g->gid);
            CMD_OK(info);
            E2E_CHECK(strstr(info->out, label), "dominfo of %s lacks '%s':\n%s", g->tag, label,
                      info->out);
        }
        g->vnc_socket = vnc_socket_of(g);
        E2E_CHECK(g->vnc_socket && g_str_has_prefix(g->vnc_socket, dir),
                  "%s's VNC socket '%s' is not in %s", g->tag, g->vnc_socket, dir);
    }
    E2E_CHECK(A->uid != B->uid && A->gid != B->gid, "A and B share ids: uid %u/%u gid %u/%u",
              A->uid, B->uid, A->gid, B->gid);
    g_test_message("A: QEMU %d uid %u gid %u; B: QEMU %d uid %u gid %u", A->pid, A->uid,
                   A->gid, B->pid, B->uid, B->gid);
}

/* ---- one guest's ids against another's QEMU ------------------------------ */

typedef enum { PROBE_KILL0, PROBE_KILLTERM, PROBE_OPEN, PROBE_CONNECT } ProbeKind;

typedef struct {
    ProbeKind kind;
    GPid pid;
    char *path;
    char *what;
} Probe;

static void
probe_clear(gpointer data)
{
    Probe *p = data;
    g_free(p->path);
    g_free(p->what);
}

static void
add_probe(GArray *probes, ProbeKind kind, GPid pid, const char *path, const char *what)
{
    Probe p = { kind, pid, g_strdup(path), g_strdup(what) };
    g_array_append_val(probes, p);
}

/* In the child: 0 when it worked, else errno.  Syscalls only. */
static int
probe_one(const Probe *p)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char byte;
    int fd, rc = 0;

    switch (p->kind) {
    case PROBE_KILL0:
        return kill(p->pid, 0) == 0 ? 0 : errno;
    case PROBE_KILLTERM:
        /* only after kill(pid, 0) failed: never really end the guest */
        return kill(p->pid, 0) == 0 ? 0 : kill(p->pid, SIGTERM) == 0 ? 0 : errno;
    case PROBE_OPEN:
        /* the permission checks are at open: a directory needs read
         * permission, /proc/PID/environ and mem ptrace access */
        fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
            return errno;
        if (read(fd, &byte, 1) < 0 && (errno == EACCES || errno == EPERM))
            rc = errno;
        close(fd);
        return rc;
    case PROBE_CONNECT:
        strncpy(sa.sun_path, p->path, sizeof(sa.sun_path) - 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return errno;
        rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
        close(fd);
        return rc;
    }
    return EINVAL;
}

/* Runs @probes in a child with @g's ids, as its QEMU has them: errno of
 * each (0: it worked) in @results. */
static gboolean
run_as(const Guest *g, GArray *probes, int *results, GError **error)
{
    int p[2], status = 0;
    gsize want = probes->len * sizeof(int), got = 0;
    pid_t child;

    if (pipe2(p, O_CLOEXEC) < 0)
        return FALSE;
    child = fork();
    if (child == 0) {
        int errs[64] = { 0 };
        close(p[0]);
        if (setgroups(0, NULL) < 0 || setresgid(g->gid, g->gid, g->gid) < 0 ||
            setresuid(g->uid, g->uid, g->uid) < 0)
            _exit(2);
        for (guint i = 0; i < probes->len && i < G_N_ELEMENTS(errs); i++)
            errs[i] = probe_one(&g_array_index(probes, Probe, i));
        _exit(write(p[1], errs, want) == (ssize_t)want ? 0 : 3);
    }
    close(p[1]);
    while (child > 0 && got < want) {
        ssize_t n = read(p[0], (char *)results + got, want - got);
        if (n <= 0)
            break;
        got += (gsize)n;
    }
    close(p[0]);
    if (child > 0)
        waitpid(child, &status, 0);
    if (child < 0 || got != want || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the probe as uid %u did not run (status %d)", g->uid, status);
        return FALSE;
    }
    return TRUE;
}

/* What @victim's QEMU has that another guest must not reach. */
static GArray *
probes_against(const Guest *victim)
{
    GArray *probes = g_array_new(FALSE, TRUE, sizeof(Probe));
    g_autofree char *environ_path = g_strdup_printf("/proc/%d/environ", victim->pid);
    g_autofree char *mem_path = g_strdup_printf("/proc/%d/mem", victim->pid);
    g_autofree char *run_dir = g_build_filename(e2e_daemon_run_dir(S.daemon), "domains",
                                                victim->xml->name, NULL);
    g_autofree char *log_file = g_strconcat(victim->xml->name, ".log", NULL);
    g_autofree char *log = g_build_filename(e2e_daemon_run_dir(S.daemon), "logs", log_file,
                                            NULL);
    g_autofree char *status = status_path(victim);
    g_autofree char *dir = qemu_dir(victim);
    g_autofree char *qemu_root = g_path_get_dirname(dir);
    g_autoptr(GDir) d = g_dir_open(run_dir, 0, NULL);
    const char *name;

    g_array_set_clear_func(probes, probe_clear);
    add_probe(probes, PROBE_KILL0, victim->pid, NULL, "kill(QEMU, 0)");
    add_probe(probes, PROBE_KILLTERM, victim->pid, NULL, "kill(QEMU, SIGTERM)");
    add_probe(probes, PROBE_OPEN, 0, environ_path, environ_path);
    add_probe(probes, PROBE_OPEN, 0, mem_path, mem_path);
    add_probe(probes, PROBE_OPEN, 0, run_dir, "its run dir");
    add_probe(probes, PROBE_OPEN, 0, status, "its status file");
    add_probe(probes, PROBE_OPEN, 0, log, "its QEMU log");
    add_probe(probes, PROBE_OPEN, 0, dir, "its VNC socket dir");
    add_probe(probes, PROBE_OPEN, 0, qemu_root, "RUN/qemu (the list of the guests' socket dirs)");
    add_probe(probes, PROBE_CONNECT, 0, victim->vnc_socket, "its VNC socket");
    add_probe(probes, PROBE_CONNECT, 0, victim->xml->serial_path, "its serial socket");
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(run_dir, name, NULL);
        g_autofree char *what = g_strdup_printf("its run dir's %s", name);
        gboolean sock = g_file_test(path, G_FILE_TEST_IS_REGULAR) == FALSE;

        add_probe(probes, sock ? PROBE_CONNECT : PROBE_OPEN, 0, path, what);
    }
    return probes;
}

/* @attacker's ids reach none of @victim's (EPERM for signals, EACCES for
 * files and sockets), but all of its own QEMU's. */
static void
check_isolated(const Guest *attacker, const Guest *victim)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) theirs = probes_against(victim);
    g_autoptr(GArray) own = probes_against(attacker);
    int r_theirs[64], r_own[64];
    g_autoptr(GString) bad = g_string_new(NULL);

    E2E_CHECK(theirs->len <= 64 && own->len <= 64, "too many probes");
    E2E_CHECK(run_as(attacker, theirs, r_theirs, &error), "%s", error->message);
    E2E_CHECK(run_as(attacker, own, r_own, &error), "%s", error->message);
    for (guint i = 0; i < theirs->len; i++) {
        const Probe *p = &g_array_index(theirs, Probe, i);
        int want = p->kind == PROBE_KILL0 || p->kind == PROBE_KILLTERM ? EPERM : EACCES;

        if (r_theirs[i] != want)
            g_string_append_printf(bad, "\n  %s of %s: %s, expected %s", p->what, victim->tag,
                                   r_theirs[i] ? g_strerror(r_theirs[i]) : "it worked",
                                   g_strerror(want));
    }
    for (guint i = 0; i < own->len; i++) {
        const Probe *p = &g_array_index(own, Probe, i);
        /* the run dir, status, log and serial socket are vnicd's, not QEMU's */
        gboolean qemus = p->kind == PROBE_KILL0 || p->kind == PROBE_KILLTERM ||
                         g_str_has_prefix(p->what, "/proc/") ||
                         g_str_has_prefix(p->what, "its VNC");

        if (p->kind == PROBE_KILLTERM || !qemus)
            continue;
        if (r_own[i] != 0)
            g_string_append_printf(bad, "\n  %s of its own QEMU: %s (the probe is broken)",
                                   p->what, g_strerror(r_own[i]));
    }
    g_test_message("as %s's uid %u: %u probes against %s's QEMU %d refused", attacker->tag,
                   attacker->uid, theirs->len, victim->tag, victim->pid);
    E2E_CHECK(bad->len == 0, "as %s's uid %u:%s", attacker->tag, attacker->uid, bad->str);
    E2E_CHECK(e2e_proc_alive(victim->pid), "%s's QEMU is gone", victim->tag);
}

static void
test_cross(void)
{
    NEED_BOOTED();
    E2E_CHECK(A->uid != 0 && B->uid != 0 && A->vnc_socket && B->vnc_socket,
              "needs /e2e/isolation/ids");
    check_isolated(A, B);
    if (g_test_failed())
        return;
    check_isolated(B, A);
}

/* ---- restart, a third guest, the range used up ---------------------------- */

static void
test_restart(void)
{
    g_autoptr(GError) error = NULL;
    GPid pids[2] = { A->pid, B->pid };
    guint uids[2] = { A->uid, B->uid };

    NEED_BOOTED();
    E2E_CHECK(A->uid != 0 && B->uid != 0, "needs /e2e/isolation/ids");
    e2e_daemon_kill(S.daemon);
    E2E_CHECK(e2e_daemon_start(S.daemon, &error), "restart: %s", error->message);
    for (guint i = 0; i < 2; i++) {
        Guest *g = &S.g[i];
        g_autoptr(E2eCmdResult) st = e2e_daemon_vnic(S.daemon, "domstate", g->xml->name, NULL);
        g_autofree char *status = NULL, *path = status_path(g), *want = NULL;

        CMD_OK(st);
        E2E_CHECK(g_strcmp0(st->out, "running\n") == 0, "%s after the restart: %s", g->tag,
                  st->out);
        E2E_CHECK(read_qemu_ids(g, &error), "%s", error->message);
        E2E_CHECK(g->pid == pids[i] && g->uid == uids[i],
                  "%s after the restart: QEMU %d uid %u, before %d uid %u", g->tag, g->pid,
                  g->uid, pids[i], uids[i]);
        E2E_CHECK(g_file_get_contents(path, &status, NULL, NULL), "no status %s", path);
        want = g_strdup_printf(" uid='%u' gid='%u'", g->uid, g->gid);
        E2E_CHECK(strstr(status, want) != NULL, "status of %s lacks%s", g->tag, want);
    }
    {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "start", C->xml->name, NULL);
        CMD_OK(r);
    }
    E2E_CHECK(read_qemu_ids(C, &error), "%s", error->message);
    E2E_CHECK(C->uid != A->uid && C->uid != B->uid,
              "C got uid %u, A has %u and B %u", C->uid, A->uid, B->uid);
    g_test_message("C: QEMU %d uid %u gid %u", C->pid, C->uid, C->gid);
    {
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "start", D->xml->name, NULL);
        g_autoptr(E2eCmdResult) st = e2e_daemon_vnic(S.daemon, "domstate", D->xml->name, NULL);
        g_autofree char *path = status_path(D);

        E2E_CHECK(r->status == 1 && strstr(r->err, "no free id") && strstr(r->err, RANGE),
                  "start with every id taken: %s", e2e_cmd_result_describe(r));
        CMD_OK(st);
        E2E_CHECK(g_strcmp0(st->out, "shut off\n") == 0, "D: %s", st->out);
        E2E_CHECK(!g_file_test(path, G_FILE_TEST_EXISTS), "D left %s", path);
    }
}

static void
destroy(Guest *g)
{
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "destroy", g->xml->name, NULL);
    CMD_OK(r);
}

static void
test_stop(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) qemu = NULL;
    g_autofree char *left = NULL, *qemu_root = NULL, *leftover = NULL;
    guint freed = A->uid;
    int code = -1;

    if (!S.daemon || !e2e_daemon_running(S.daemon))
        return;
    if (C->pid > 0 && A->pid > 0) {
        destroy(A);
        if (g_test_failed())
            return;
        g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "start", D->xml->name, NULL);
        CMD_OK(r);
        E2E_CHECK(read_qemu_ids(D, &error), "%s", error->message);
        E2E_CHECK(D->uid == freed, "D got uid %u, not A's freed %u", D->uid, freed);
    }
    for (guint i = 0; i < N_GUESTS; i++) {
        g_autoptr(E2eCmdResult) st = S.g[i].xml ? e2e_daemon_vnic(S.daemon, "domstate",
                                                                   S.g[i].xml->name, NULL)
                                                : NULL;
        if (st && g_strcmp0(st->out, "running\n") == 0)
            destroy(&S.g[i]);
        if (g_test_failed())
            return;
    }
    left = processes_in_range();
    E2E_CHECK(*left == '\0', "processes still run with an id of " RANGE ": %s", left);
    qemu_root = g_build_filename(e2e_daemon_run_dir(S.daemon), "qemu", NULL);
    qemu = g_dir_open(qemu_root, 0, NULL);
    leftover = qemu ? g_strdup(g_dir_read_name(qemu)) : NULL;
    E2E_CHECK(leftover == NULL, "%s/%s is left", qemu_root, leftover);
    for (guint i = 0; i < N_GUESTS; i++) {
        g_autofree char *path = S.g[i].xml ? status_path(&S.g[i]) : NULL;
        E2E_CHECK(!path || !g_file_test(path, G_FILE_TEST_EXISTS), "%s is left", path);
    }
    E2E_CHECK(e2e_daemon_stop(S.daemon, &code, &error), "%s", error->message);
    E2E_CHECK(code == 0, "vnicd exited %d", code);
}

int
main(int argc, char **argv)
{
    int rc;

    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/isolation/start", test_start);
    g_test_add_func("/e2e/isolation/ids", test_ids);
    g_test_add_func("/e2e/isolation/cross", test_cross);
    g_test_add_func("/e2e/isolation/restart", test_restart);
    g_test_add_func("/e2e/isolation/stop", test_stop);
    rc = e2e_finish();
    if (rc != 0 && S.daemon) {
        g_autofree char *log = e2e_daemon_log_tail(S.daemon, 60);
        g_printerr("--- %s (last lines)\n%s\n", e2e_daemon_log_path(S.daemon), log);
    }
    for (guint i = 0; i < N_GUESTS; i++) {
        g_clear_pointer(&S.g[i].console, e2e_console_free);
        g_clear_pointer(&S.g[i].xml, e2e_domain_xml_free);
        g_free(S.g[i].vnc_socket);
    }
    g_clear_pointer(&S.daemon, e2e_daemon_free);
    return rc;
}
