/* test-launch.c: what the QEMU launcher runs, end to end (meson test 'e2e-launch').
 *
 * One vnicd; the domain-level XML CloudStack, nova and virt-install send,
 * checked where a user would look:
 *
 *   refuse-at-define  `vnic define` of a domain with <graphics type='sdl'>
 *                     exits 1 with class Unsupported naming the element and
 *                     value; nothing is stored
 *   failed-start-logged  a start that fails (no kernel file) says why, and
 *                     vnicd's log has "domain 'X': start failed: …"
 *   pc-start          a pc guest whose kernel and initrd sit in a 0700
 *                     directory, mode 0600 (only root reads them), with
 *                     <sysinfo>, <cputune>, <iothreads>, VNC with a password,
 *                     balloon stats, <serial><log file>, kvmclock, host-model,
 *                     on_* and <pm>: it boots
 *   pc-sysinfo        the guest's /sys/class/dmi/id shows <sysinfo>'s values
 *   pc-cgroup         QEMU runs in a cgroup with <cputune>'s shares and quota
 *   pc-pinning        <vcpu cpuset='0'> pins QEMU, <vcpupin> its vCPU thread
 *   pc-vnc            `vnic vncdisplay` prints 127.0.0.1:N; port 5900+N in the
 *                     namespace answers with the RFB banner
 *   pc-serial-log     the <log file> holds the guest's console output
 *   pc-destroy        destroy: the cgroup is gone
 *   uefi-boot         a q35 guest (kernel and initrd world-readable in a 0700
 *                     directory) with <loader type='pflash'> OVMF and an
 *                     <nvram template> that does not exist yet: vnicd creates
 *                     it (0600, the template's size), the guest boots the
 *                     kernel through OVMF and sees /sys/firmware/efi
 *   efi-auto          <os firmware='efi'>: QEMU gets two pflash drives and the
 *                     varstore appears in vnicd's state dir; its autoport
 *                     SPICE server listens on the port dumpxml shows, its
 *                     VNC server on the unix socket vnicd chose (gone after
 *                     destroy)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"

typedef struct {
    char *name;
    char *dir;
    char *xml_path;
    char *serial_path;
    E2eConsole *console;
    GPid pid;
    gboolean booted;
} Dom;

static struct {
    E2eDaemon *daemon;
    Dom pc, uefi;
    char *cgroup_dir;
} S;

#define NEED(cond, what)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_test_skip("needs " what ", which failed");                  \
            return;                                                       \
        }                                                                 \
    } while (0)

static const char *const SYSINFO_PRODUCT = "vnic-h3-product";
/* the vCPU's own host CPU: 1 where there is one (the process is on 0) */
#define VCPU_HOST_CPU (g_get_num_processors() > 1 ? "1" : "0")
static const char *const SYSINFO_SERIAL = "VNIC-SN-0042";

/* --- helpers ------------------------------------------------------------------------ */

static gboolean
ensure_daemon(GError **error)
{
    if (S.daemon != NULL)
        return TRUE;
    S.daemon = e2e_daemon_new(NULL);
    return e2e_daemon_start(S.daemon, error);
}

static void
dom_init(Dom *dom, const char *tag)
{
    dom->name = g_strdup_printf("launch-%s-%d", tag, (int) getpid());
    dom->dir = e2e_tmp_dir(tag);
    dom->xml_path = g_build_filename(dom->dir, "domain.xml", NULL);
    dom->serial_path = g_build_filename(dom->dir, "serial.sock", NULL);
}

static void
dom_clear(Dom *dom)
{
    g_clear_pointer(&dom->name, g_free);
    g_clear_pointer(&dom->dir, g_free);
    g_clear_pointer(&dom->xml_path, g_free);
    g_clear_pointer(&dom->serial_path, g_free);
    g_clear_pointer(&dom->console, e2e_console_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Dom, dom_clear)

/* Copies the guest's kernel and initrd into a directory only root may
 * enter, as files of @mode (0600: only root may read them). */
static gboolean
root_only_boot_files(const char *dir, int mode, char **kernel, char **initrd, GError **error)
{
    g_autofree char *boot = g_build_filename(dir, "boot", NULL);
    const char *names[] = { "vmlinuz", "initrd.img" };
    char **out[] = { kernel, initrd };

    if (g_mkdir_with_parents(boot, 0700) < 0 || chmod(boot, 0700) < 0 || chmod(dir, 0700) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "mkdir %s: %s", boot,
                    g_strerror(errno));
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *src = g_build_filename(e2e_guest_dir(), names[i], NULL);
        g_autofree char *data = NULL;
        gsize len;

        *out[i] = g_build_filename(boot, names[i], NULL);
        if (!g_file_get_contents(src, &data, &len, error) ||
            !g_file_set_contents_full(*out[i], data, (gssize) len, G_FILE_SET_CONTENTS_NONE,
                                      mode, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
define_xml(Dom *dom, const char *xml, GError **error)
{
    g_autoptr(E2eCmdResult) r = NULL;

    if (!g_file_set_contents(dom->xml_path, xml, -1, error))
        return FALSE;
    r = e2e_daemon_vnic(S.daemon, "define", dom->xml_path, NULL);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    return TRUE;
}

/* `vnic start` in the background, connecting to the console as soon as
 * vnicd has created its socket. */
static gboolean
start_and_connect(Dom *dom, GError **error)
{
    g_autoptr(E2eCmd) cmd = e2e_daemon_vnic_spawn(S.daemon, "start", dom->name, NULL);
    g_autoptr(E2eCmdResult) r = NULL;
    gint64 deadline = e2e_deadline(90);

    while (dom->console == NULL && e2e_ms_left(deadline) > 0) {
        if (g_file_test(dom->serial_path, G_FILE_TEST_EXISTS))
            dom->console = e2e_console_connect(dom->serial_path, 2, NULL);
        else if (e2e_cmd_done(cmd))
            break;
        else
            g_usleep(10 * 1000);
    }
    r = e2e_cmd_finish(g_steal_pointer(&cmd), 90);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    if (dom->console == NULL)
        dom->console = e2e_console_connect(dom->serial_path, 5, error);
    return dom->console != NULL;
}

/* QEMU's pid from `vnic list --json`. */
static GPid
qemu_pid(const char *name, GError **error)
{
    g_autoptr(JsonNode) list = e2e_daemon_vnic_json(S.daemon, error, "list", "--json", NULL);
    JsonArray *domains = NULL;

    if (list == NULL)
        return 0;
    if (JSON_NODE_HOLDS_OBJECT(list) &&
        json_object_has_member(json_node_get_object(list), "domains"))
        domains = json_object_get_array_member(json_node_get_object(list), "domains");
    for (guint i = 0; domains != NULL && i < json_array_get_length(domains); i++) {
        JsonObject *d = e2e_json_array_object(domains, i);

        if (g_strcmp0(e2e_json_get_string(d, "name"), name) == 0 &&
            json_object_has_member(d, "pid"))
            return (GPid) json_object_get_int_member(d, "pid");
    }
    return 0;
}

static char *
guest_output(Dom *dom, const char *command, GError **error)
{
    char *out = NULL;
    int status = -1;

    if (!e2e_console_run(dom->console, command, 20, &out, &status, error))
        return NULL;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "guest `%s`: exit %d: %s", command,
                    status, out);
        g_free(out);
        return NULL;
    }
    return g_strstrip(out);
}

/* --- refuse at define --------------------------------------------------------------- */

static void
test_refuse_at_define(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = e2e_tmp_dir("refused");
    g_autofree char *path = g_build_filename(dir, "sdl.xml", NULL);
    g_autofree char *name = g_strdup_printf("launch-sdl-%d", (int) getpid());
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        "<devices><graphics type='sdl'/></devices></domain>", name);

    E2E_CHECK(ensure_daemon(&error), "vnicd: %s", error->message);
    E2E_CHECK(g_file_set_contents(path, xml, -1, &error), "%s", error->message);
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "define", path, NULL);
    E2E_CHECK(r->status == 1, "define of <graphics type='sdl'> should fail with exit 1: %s",
              e2e_cmd_result_describe(r));
    E2E_CHECK(strstr(r->err, "Unsupported") != NULL && strstr(r->err, "'sdl'") != NULL &&
                  strstr(r->err, "<graphics type>") != NULL,
              "the refusal names class, element and value: %s", r->err);
    g_autoptr(E2eCmdResult) list = e2e_daemon_vnic(S.daemon, "list", "--all", "--name", NULL);
    E2E_CHECK(strstr(list->out, name) == NULL, "a refused domain was stored: %s", list->out);
}

/* A start that fails says why, to the client and in vnicd's log. */
static void
test_failed_start_logged(void)
{
    g_autoptr(GError) error = NULL;
    g_auto(Dom) dom = { 0 };
    g_autofree char *xml = NULL;
    g_autofree char *log = NULL;
    g_autofree char *needle = NULL;

    E2E_CHECK(ensure_daemon(&error), "vnicd: %s", error->message);
    dom_init(&dom, "nokernel");
    xml = g_strdup_printf(
        "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s/missing-vmlinuz</kernel></os>"
        "<devices/></domain>", dom.name, dom.dir);
    E2E_CHECK(define_xml(&dom, xml, &error), "define: %s", error->message);
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "start", dom.name, NULL);
    E2E_CHECK(r->status == 1 && strstr(r->err, "missing-vmlinuz") != NULL,
              "start without a kernel: %s", e2e_cmd_result_describe(r));
    E2E_CHECK(g_file_get_contents(e2e_daemon_log_path(S.daemon), &log, NULL, NULL), "no vnicd.log");
    needle = g_strdup_printf("domain '%s': start failed: ", dom.name);
    E2E_CHECK(strstr(log, needle) != NULL && strstr(strstr(log, needle), "missing-vmlinuz") != NULL,
              "vnicd.log does not say why %s failed to start", dom.name);
}

/* --- the pc guest -------------------------------------------------------------------- */

static char *
pc_xml(const Dom *dom, const char *kernel, const char *initrd)
{
    return g_strdup_printf(
        "<domain type='qemu'><name>%s</name><memory unit='MiB'>256</memory>"
        "<currentMemory unit='MiB'>256</currentMemory><vcpu placement='static' cpuset='0'>1</vcpu>"
        "<iothreads>2</iothreads><resource><partition>/machine</partition></resource>"
        "<cputune><shares>512</shares><period>100000</period><quota>50000</quota>"
        "<vcpupin vcpu='0' cpuset='%s'/></cputune>"
        "<sysinfo type='smbios'><system><entry name='manufacturer'>vnic</entry>"
        "<entry name='product'>%s</entry><entry name='serial'>%s</entry>"
        "<entry name='family'>Virtual Machine</entry></system></sysinfo>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s</kernel><initrd>%s</initrd>"
        "<cmdline>console=ttyS0 quiet panic=-1 vnic.echo=0</cmdline><boot dev='hd'/>"
        "<smbios mode='sysinfo'/></os>"
        "<features><acpi/><apic/><pae/></features><cpu mode='host-model'/>"
        "<clock offset='utc'><timer name='kvmclock' present='yes'/>"
        "<timer name='rtc' tickpolicy='catchup'/><timer name='pit' tickpolicy='delay'/>"
        "<timer name='hpet' present='no'/></clock>"
        "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
        "<on_crash>destroy</on_crash>"
        "<pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>"
        "<devices><serial type='unix'><source mode='bind' path='%s'/>"
        "<log file='%s/serial.log' append='off'/><target port='0'/></serial>"
        "<console type='unix'><source mode='bind' path='%s'/><target type='serial' port='0'/>"
        "</console>"
        "<graphics type='vnc' autoport='yes' listen='127.0.0.1' passwd='h3-secret'>"
        "<listen type='address' address='127.0.0.1'/></graphics>"
        "<video><model type='cirrus'/></video>"
        "<memballoon model='virtio'><stats period='10'/></memballoon></devices></domain>",
        dom->name, VCPU_HOST_CPU, SYSINFO_PRODUCT, SYSINFO_SERIAL, kernel, initrd,
        dom->serial_path, dom->dir, dom->serial_path);
}

static void
test_pc_start(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *kernel = NULL;
    g_autofree char *initrd = NULL;
    g_autofree char *xml = NULL;

    E2E_CHECK(ensure_daemon(&error), "vnicd: %s", error->message);
    dom_init(&S.pc, "pc");
    E2E_CHECK(root_only_boot_files(S.pc.dir, 0600, &kernel, &initrd, &error), "%s",
              error->message);
    xml = pc_xml(&S.pc, kernel, initrd);
    E2E_CHECK(define_xml(&S.pc, xml, &error), "define: %s", error->message);
    E2E_CHECK(start_and_connect(&S.pc, &error), "start: %s", error->message);
    E2E_CHECK(e2e_console_wait_ready(S.pc.console, 120, &error), "boot: %s", error->message);
    S.pc.booted = TRUE;
    S.pc.pid = qemu_pid(S.pc.name, &error);
    E2E_CHECK(S.pc.pid > 0, "no QEMU pid in vnic list: %s", error ? error->message : "");
}

static void
test_pc_sysinfo(void)
{
    NEED(S.pc.booted, "/e2e/launch/pc-start");
    g_autoptr(GError) error = NULL;
    g_autofree char *product = guest_output(&S.pc, "cat /sys/class/dmi/id/product_name", &error);

    E2E_CHECK_NO_ERROR(error, "product_name");
    E2E_CHECK(g_strcmp0(product, SYSINFO_PRODUCT) == 0, "guest product_name '%s', want '%s'",
              product, SYSINFO_PRODUCT);
    g_autofree char *serial = guest_output(&S.pc, "cat /sys/class/dmi/id/product_serial", &error);
    E2E_CHECK_NO_ERROR(error, "product_serial");
    E2E_CHECK(g_strcmp0(serial, SYSINFO_SERIAL) == 0, "guest product_serial '%s', want '%s'",
              serial, SYSINFO_SERIAL);
}

/* The directory of @pid's cpu cgroup: v1 "N:cpu,cpuacct:/path" or v2 "0::/path". */
static char *
cpu_cgroup_dir(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cgroup", (int) pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], ":", 3);
        g_auto(GStrv) ctrls = NULL;

        if (g_strv_length(f) != 3)
            continue;
        ctrls = g_strsplit(f[1], ",", -1);
        if (g_strv_contains((const char *const *) ctrls, "cpu") &&
            g_file_test("/sys/fs/cgroup/cpu/cpu.shares", G_FILE_TEST_EXISTS))
            return g_build_filename("/sys/fs/cgroup/cpu", f[2], NULL);
    }
    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], "0::"))
            return g_build_filename("/sys/fs/cgroup", lines[i] + 3, NULL);
    }
    return NULL;
}

static char *
read_trimmed(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return g_strstrip(text);
}

static void
test_pc_cgroup(void)
{
    NEED(S.pc.booted, "/e2e/launch/pc-start");
    S.cgroup_dir = cpu_cgroup_dir(S.pc.pid);
    E2E_CHECK(S.cgroup_dir != NULL && strstr(S.cgroup_dir, S.pc.name) != NULL,
              "QEMU %d is not in a cgroup of its domain: %s", (int) S.pc.pid, S.cgroup_dir);
    if (g_file_test("/sys/fs/cgroup/cpu/cpu.shares", G_FILE_TEST_EXISTS)) {
        g_autofree char *shares = read_trimmed(S.cgroup_dir, "cpu.shares");
        g_autofree char *quota = read_trimmed(S.cgroup_dir, "cpu.cfs_quota_us");
        g_autofree char *period = read_trimmed(S.cgroup_dir, "cpu.cfs_period_us");

        E2E_CHECK(g_strcmp0(shares, "512") == 0, "cpu.shares %s, want 512", shares);
        E2E_CHECK(g_strcmp0(quota, "50000") == 0, "cpu.cfs_quota_us %s, want 50000", quota);
        E2E_CHECK(g_strcmp0(period, "100000") == 0, "cpu.cfs_period_us %s", period);
    } else {
        g_autofree char *max = read_trimmed(S.cgroup_dir, "cpu.max");
        g_autofree char *weight = read_trimmed(S.cgroup_dir, "cpu.weight");

        E2E_CHECK(g_strcmp0(max, "50000 100000") == 0, "cpu.max '%s'", max);
        E2E_CHECK(g_strcmp0(weight, "20") == 0, "cpu.weight '%s' (shares 512)", weight);
    }
}

/* Cpus_allowed_list of /proc/PID/task/TID/status (TID 0: the process). */
static char *
allowed_cpus(GPid pid, const char *tid)
{
    g_autofree char *path = tid != NULL ? g_strdup_printf("/proc/%d/task/%s/status", (int) pid, tid)
                                        : g_strdup_printf("/proc/%d/status", (int) pid);
    g_autofree char *text = NULL;
    const char *line;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        (line = strstr(text, "Cpus_allowed_list:")) == NULL)
        return NULL;
    line += strlen("Cpus_allowed_list:");
    return g_strstrip(g_strndup(line, strcspn(line, "\n")));
}

/* <vcpu cpuset='0'> pins QEMU, <vcpupin> its vCPU thread ("CPU 0/TCG"). */
static void
test_pc_pinning(void)
{
    NEED(S.pc.booted, "/e2e/launch/pc-start");
    g_autofree char *process = allowed_cpus(S.pc.pid, NULL);
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int) S.pc.pid);
    g_autoptr(GDir) tasks = g_dir_open(dir, 0, NULL);
    g_autofree char *vcpu = NULL;
    const char *tid;

    E2E_CHECK(g_strcmp0(process, "0") == 0, "QEMU may run on CPUs '%s', <vcpu cpuset> is 0",
              process);
    while (tasks != NULL && vcpu == NULL && (tid = g_dir_read_name(tasks)) != NULL) {
        g_autofree char *comm_path = g_strdup_printf("%s/%s/comm", dir, tid);
        g_autofree char *comm = NULL;

        if (g_file_get_contents(comm_path, &comm, NULL, NULL) && g_str_has_prefix(comm, "CPU 0/"))
            vcpu = allowed_cpus(S.pc.pid, tid);
    }
    E2E_CHECK(g_strcmp0(vcpu, VCPU_HOST_CPU) == 0, "vCPU 0's thread may run on '%s', want %s",
              vcpu, VCPU_HOST_CPU);
}

static void
test_pc_vnc(void)
{
    NEED(S.pc.booted, "/e2e/launch/pc-start");
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "vncdisplay", S.pc.name, NULL);
    E2E_CHECK(r->status == 0, "vncdisplay: %s", e2e_cmd_result_describe(r));
    g_autofree char *display = g_strstrip(g_strdup(r->out));
    E2E_CHECK(g_str_has_prefix(display, "127.0.0.1:"), "vncdisplay printed '%s'", display);
    guint n = (guint) g_ascii_strtoull(display + strlen("127.0.0.1:"), NULL, 10);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5900 + n) };
    char banner[13] = { 0 };
    gsize got = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = { .tv_sec = 10 };

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    E2E_CHECK(connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0, "connect 127.0.0.1:%u: %s",
              5900 + n, g_strerror(errno));
    while (got < 12) {
        ssize_t k = read(fd, banner + got, 12 - got);
        if (k <= 0)
            break;
        got += (gsize) k;
    }
    close(fd);
    E2E_CHECK(strcmp(banner, "RFB 003.008\n") == 0, "VNC banner '%s'", banner);
    /* the password reached QEMU over QMP, never on its command line */
    g_autofree char *cmdline = e2e_proc_cmdline(S.pc.pid);
    E2E_CHECK(cmdline != NULL && strstr(cmdline, "h3-secret") == NULL &&
                  strstr(cmdline, "password=on") != NULL,
              "QEMU's command line: %s", cmdline);
    /* nor dumpxml, unless asked for (virsh --security-info) */
    g_autoptr(E2eCmdResult) x = e2e_daemon_vnic(S.daemon, "dumpxml", S.pc.name, NULL);
    E2E_CHECK(x->status == 0 && strstr(x->out, "h3-secret") == NULL &&
                  strstr(x->out, "port='59") != NULL,
              "dumpxml shows the password or no chosen port: %s", x->out);
}

static void
test_pc_serial_log(void)
{
    NEED(S.pc.booted, "/e2e/launch/pc-start");
    g_autofree char *path = g_build_filename(S.pc.dir, "serial.log", NULL);
    g_autofree char *text = NULL;

    E2E_CHECK(g_file_get_contents(path, &text, NULL, NULL), "no %s", path);
    E2E_CHECK(strstr(text, "VNIC-GUEST-READY") != NULL, "%s lacks the guest's output: %.300s",
              path, text);
}

static void
test_pc_destroy(void)
{
    NEED(S.pc.booted, "/e2e/launch/pc-start");
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "destroy", S.pc.name, NULL);
    E2E_CHECK(r->status == 0, "destroy: %s", e2e_cmd_result_describe(r));
    E2E_CHECK(S.cgroup_dir == NULL || !g_file_test(S.cgroup_dir, G_FILE_TEST_EXISTS),
              "cgroup %s is left after destroy", S.cgroup_dir);
}

/* --- UEFI ------------------------------------------------------------------------------ */

#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

static void
test_uefi_boot(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *nvram = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *kernel = NULL;
    g_autofree char *initrd = NULL;
    struct stat st, tmpl;

    if (!g_file_test(OVMF_CODE, G_FILE_TEST_EXISTS)) {
        g_test_fail_printf("%s is missing: apt-get install ovmf", OVMF_CODE);
        return;
    }
    E2E_CHECK(ensure_daemon(&error), "vnicd: %s", error->message);
    dom_init(&S.uefi, "uefi");
    /* world-readable files in a directory QEMU's user cannot enter */
    E2E_CHECK(root_only_boot_files(S.uefi.dir, 0644, &kernel, &initrd, &error), "%s",
              error->message);
    nvram = g_build_filename(S.uefi.dir, "nvram", "uefi_VARS.fd", NULL);
    xml = g_strdup_printf(
        "<domain type='qemu'><name>%s</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='q35'>hvm</type>"
        "<loader readonly='yes' type='pflash'>" OVMF_CODE "</loader>"
        "<nvram template='" OVMF_VARS "'>%s</nvram>"
        "<kernel>%s</kernel><initrd>%s</initrd>"
        "<cmdline>console=ttyS0 quiet panic=-1 vnic.echo=0</cmdline></os>"
        "<features><acpi/><apic/></features>"
        "<devices><serial type='unix'><source mode='bind' path='%s'/><target port='0'/></serial>"
        "<memballoon model='none'/></devices></domain>",
        S.uefi.name, nvram, kernel, initrd, S.uefi.serial_path);
    E2E_CHECK(define_xml(&S.uefi, xml, &error), "define: %s", error->message);
    E2E_CHECK(!g_file_test(nvram, G_FILE_TEST_EXISTS), "the varstore exists before start");
    E2E_CHECK(start_and_connect(&S.uefi, &error), "start: %s", error->message);
    E2E_CHECK(stat(nvram, &st) == 0 && stat(OVMF_VARS, &tmpl) == 0, "no varstore %s", nvram);
    E2E_CHECK((st.st_mode & 0777) == 0600 && st.st_size == tmpl.st_size,
              "varstore mode %o size %lld", st.st_mode & 0777, (long long) st.st_size);
    /* OVMF under TCG takes a while before it hands over to the kernel */
    E2E_CHECK(e2e_console_wait_ready(S.uefi.console, 180, &error), "boot: %s", error->message);
    S.uefi.booted = TRUE;
    g_autofree char *efi = guest_output(&S.uefi, "test -d /sys/firmware/efi && echo efi", &error);
    E2E_CHECK_NO_ERROR(error, "/sys/firmware/efi");
    E2E_CHECK(g_strcmp0(efi, "efi") == 0, "the guest did not boot through UEFI: '%s'", efi);
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "destroy", S.uefi.name, NULL);
    E2E_CHECK(r->status == 0, "destroy: %s", e2e_cmd_result_describe(r));
    E2E_CHECK(g_file_test(nvram, G_FILE_TEST_EXISTS), "the varstore went with the guest");
}

static void
test_efi_auto(void)
{
    g_autoptr(GError) error = NULL;
    g_auto(Dom) dom = { 0 };
    g_autofree char *xml = NULL;
    g_autofree char *vars = NULL;

    E2E_CHECK(ensure_daemon(&error), "vnicd: %s", error->message);
    dom_init(&dom, "efi");
    xml = g_strdup_printf(
        "<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory>"
        "<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>"
        "<features><acpi/></features>"
        "<devices><serial type='unix'><source mode='bind' path='%s'/><target port='0'/></serial>"
        "<graphics type='spice' autoport='yes' listen='127.0.0.1'/>"
        "<graphics type='vnc'><listen type='socket'/></graphics>"
        "<memballoon model='none'/></devices></domain>",
        dom.name, dom.serial_path);
    E2E_CHECK(define_xml(&dom, xml, &error), "define: %s", error->message);
    g_autoptr(E2eCmdResult) r = e2e_daemon_vnic(S.daemon, "start", dom.name, NULL);
    E2E_CHECK(r->status == 0, "start: %s", e2e_cmd_result_describe(r));
    GPid pid = qemu_pid(dom.name, &error);
    g_autofree char *cmdline = pid > 0 ? e2e_proc_cmdline(pid) : NULL;
    E2E_CHECK(cmdline != NULL && strstr(cmdline, "pflash0=vnic-pflash0-format") != NULL &&
                  strstr(cmdline, "pflash1=vnic-pflash1-format") != NULL,
              "QEMU has no pflash pair: %s", cmdline);
    vars = g_strdup_printf("%s/nvram/%s_VARS.fd", e2e_daemon_state_dir(S.daemon), dom.name);
    E2E_CHECK(g_file_test(vars, G_FILE_TEST_EXISTS), "no varstore %s", vars);
    /* the SPICE server listens on the port vnicd chose and wrote into the XML */
    g_autoptr(E2eCmdResult) x = e2e_daemon_vnic(S.daemon, "dumpxml", dom.name, NULL);
    const char *port = x->status == 0 ? strstr(x->out, "<graphics type='spice' port='") : NULL;
    E2E_CHECK(port != NULL, "no chosen SPICE port in dumpxml: %s", x->out);
    guint n = (guint) g_ascii_strtoull(port + strlen("<graphics type='spice' port='"), NULL, 10);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(n) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    gboolean connected = n >= 5900 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
    close(fd);
    E2E_CHECK(connected, "nothing listens on SPICE port %u", n);
    /* the VNC socket vnicd chose (QEMU binds it) answers with the banner */
    const char *sock = strstr(x->out, "<listen type='socket' socket='");
    E2E_CHECK(sock != NULL, "no VNC socket path in dumpxml: %s", x->out);
    g_autofree char *sock_path = g_strndup(sock + strlen("<listen type='socket' socket='"),
                                           strcspn(sock + strlen("<listen type='socket' socket='"),
                                                   "'"));
    g_autoptr(GError) cerr = NULL;
    int ufd = e2e_unix_connect(sock_path, 10, &cerr);
    char banner[13] = { 0 };
    gsize got = 0;

    E2E_CHECK(ufd >= 0, "connect %s: %s", sock_path, cerr ? cerr->message : "");
    struct timeval utv = { .tv_sec = 10 };

    fcntl(ufd, F_SETFL, fcntl(ufd, F_GETFL) & ~O_NONBLOCK);
    setsockopt(ufd, SOL_SOCKET, SO_RCVTIMEO, &utv, sizeof(utv));
    while (got < 12) {
        ssize_t k = read(ufd, banner + got, 12 - got);
        if (k <= 0)
            break;
        got += (gsize) k;
    }
    close(ufd);
    E2E_CHECK(strcmp(banner, "RFB 003.008\n") == 0, "VNC banner on %s: '%s'", sock_path, banner);
    g_autoptr(E2eCmdResult) d = e2e_daemon_vnic(S.daemon, "destroy", dom.name, NULL);
    E2E_CHECK(d->status == 0, "destroy: %s", e2e_cmd_result_describe(d));
    g_autofree char *sock_dir = g_path_get_dirname(sock_path);
    E2E_CHECK(!g_file_test(sock_dir, G_FILE_TEST_EXISTS), "%s is left after destroy", sock_dir);
}

static void
print_diagnostics(void)
{
    if (S.daemon != NULL) {
        g_autofree char *tail = e2e_daemon_log_tail(S.daemon, 40);
        g_printerr("--- vnicd.log (tail)\n%s\n", tail);
    }
    for (Dom *d = &S.pc; d <= &S.uefi; d++) {
        if (d->console != NULL) {
            g_autofree char *t = e2e_console_transcript(d->console, 2000);
            g_printerr("--- console of %s\n%s\n", d->name, t);
        }
    }
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC | E2E_NEED_VNICD);
    g_test_add_func("/e2e/launch/refuse-at-define", test_refuse_at_define);
    g_test_add_func("/e2e/launch/failed-start-logged", test_failed_start_logged);
    g_test_add_func("/e2e/launch/pc-start", test_pc_start);
    g_test_add_func("/e2e/launch/pc-sysinfo", test_pc_sysinfo);
    g_test_add_func("/e2e/launch/pc-cgroup", test_pc_cgroup);
    g_test_add_func("/e2e/launch/pc-pinning", test_pc_pinning);
    g_test_add_func("/e2e/launch/pc-vnc", test_pc_vnc);
    g_test_add_func("/e2e/launch/pc-serial-log", test_pc_serial_log);
    g_test_add_func("/e2e/launch/pc-destroy", test_pc_destroy);
    g_test_add_func("/e2e/launch/uefi-boot", test_uefi_boot);
    g_test_add_func("/e2e/launch/efi-auto", test_efi_auto);
    int rc = e2e_finish();
    if (rc != 0)
        print_diagnostics();
    dom_clear(&S.pc);
    dom_clear(&S.uefi);
    g_free(S.cgroup_dir);
    if (S.daemon != NULL) {
        int code = -1;

        /* SIGTERM: vnicd exits 0 (and a sanitizer build reports its leaks) */
        if (!e2e_daemon_stop(S.daemon, &code, NULL) || code != 0) {
            g_printerr("vnicd did not exit 0 on SIGTERM (%d)\n", code);
            rc = 1;
        }
    }
    g_clear_pointer(&S.daemon, e2e_daemon_free);
    return rc;
}
