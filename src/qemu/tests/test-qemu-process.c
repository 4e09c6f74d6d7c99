/* test-qemu-process.c: starting, verifying, attaching to and killing real
 * QEMUs (TCG, no kernel: the guest sits in its firmware, which is all the
 * PCI checks need).
 *
 * Needs root: the taps come from /dev/net/tun (TUNSETIFF) inside the
 * private network namespace main() entered, and QEMU is switched to an
 * unprivileged user (vnic-qemu, else nobody).  Skipped without root or
 * QEMU.  Each test checks it leaves no process, no file in its run
 * directory and no fd behind.
 */
#include "test-qemu-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Our kinds of fds: sockets, taps, files of the test directory; and
 * pidfds, which GLib's own child watches use too (so those are compared
 * with what the test started with). */
typedef struct {
    guint total;
    guint pidfds;
    guint ours;
} Census;

static Census
census(const char *dir)
{
    g_autoptr(GDir) fds = g_dir_open("/proc/self/fd", 0, NULL);
    Census c = { 0 };
    const char *fd;

    while ((fd = g_dir_read_name(fds)) != NULL) {
        g_autofree char *link = g_strdup_printf("/proc/self/fd/%s", fd);
        g_autofree char *target = g_file_read_link(link, NULL);

        c.total++;
        if (target == NULL)
            continue;
        c.pidfds += strcmp(target, "anon_inode:[pidfd]") == 0;
        if (g_str_has_prefix(target, "socket:") || strcmp(target, "/dev/net/tun") == 0 ||
            (dir != NULL && g_str_has_prefix(target, dir))) {
            g_printerr("# leaked fd %s → %s\n", fd, target);
            c.ours++;
        }
    }
    return c;
}

typedef struct {
    char *dir;                /* everything of the test: run/, the log, disk.img */
    char *run_dir;
    char *log_path;
    char *name;               /* unique guest name, to find stray QEMUs */
    uid_t uid;
    gid_t gid;
    Census before;
    gboolean skip;
} Fixture;

typedef struct {
    gboolean done;
    VnicQemuProcess *proc;
    GError *error;
} Result;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    static guint serial;
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    g_autoptr(GError) error = NULL;
    GSubprocess *warm;

    if (geteuid() != 0 || qemu == NULL || access("/dev/net/tun", R_OK | W_OK) < 0) {
        f->skip = TRUE;
        return;
    }
    /* GLib's worker thread and child-watch fds exist from the first spawn on */
    warm = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, &error, "true", NULL);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_wait(warm, NULL, &error));
    g_object_unref(warm);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    f->dir = g_dir_make_tmp("vnic-qemu-XXXXXX", &error);
    g_assert_no_error(error);
    f->run_dir = g_build_filename(f->dir, "run", NULL);
    g_assert_cmpint(g_mkdir(f->run_dir, 0700), ==, 0);
    f->log_path = g_build_filename(f->dir, "qemu.log", NULL);
    f->name = g_strdup_printf("vnic-test-%d-%u", (int) getpid(), serial++);
    if (!vnic_qemu_lookup_user(VNIC_QEMU_DEFAULT_USER, &f->uid, &f->gid, NULL))
        g_assert_true(vnic_qemu_lookup_user("nobody", &f->uid, &f->gid, NULL));
    f->before = census(NULL);
}

/* TRUE when a process runs with our guest name on its command line. */
static gboolean
guest_running(const char *name)
{
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    g_autofree char *needle = g_strdup_printf("guest=%s,", name);
    const char *entry;

    while ((entry = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", entry);
        g_autofree char *cmdline = NULL;
        gsize len;

        if (!g_ascii_isdigit(*entry) || !g_file_get_contents(path, &cmdline, &len, NULL))
            continue;
        for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1) {
            if (g_str_has_prefix(cmdline + i, needle))
                return TRUE;
        }
    }
    return FALSE;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    g_autoptr(GDir) run = NULL;
    g_autofree char *disk = NULL;

    if (f->skip)
        return;
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_assert_false(guest_running(f->name));
    run = g_dir_open(f->run_dir, 0, NULL);
    g_assert_nonnull(run);
    g_assert_null(g_dir_read_name(run)); /* every socket removed */
    g_clear_pointer(&run, g_dir_close);
    /* GLib closes its child-watch pidfds in its worker thread: settle */
    for (guint i = 0; i < 300; i++) {
        Census now = census(NULL);

        if (now.total <= f->before.total && now.pidfds <= f->before.pidfds)
            break;
        g_usleep(10000);
        while (g_main_context_iteration(NULL, FALSE))
            ;
    }
    g_assert_cmpuint(census(f->dir).ours, ==, 0);
    g_assert_cmpuint(census(NULL).pidfds, <=, f->before.pidfds);
    g_assert_cmpuint(census(NULL).total, <=, f->before.total);
    g_unlink(f->log_path);
    disk = g_build_filename(f->dir, "disk.img", NULL);
    g_unlink(disk);
    g_rmdir(f->run_dir);
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);
    g_free(f->dir);
    g_free(f->run_dir);
    g_free(f->log_path);
    g_free(f->name);
}

static gboolean
skipped(Fixture *f)
{
    if (f->skip)
        g_test_skip("needs root, /dev/net/tun and qemu-system-x86_64");
    return f->skip;
}

/* One tap per queue, in this test's network namespace. */
static void
add_taps(VnicQemuRuntime *rt, const VnicConfDevice *dev, guint index)
{
    guint n = MAX(dev->nic->queues, 1);
    int fds[8];

    g_assert_cmpuint(n, <=, G_N_ELEMENTS(fds));
    for (guint q = 0; q < n; q++) {
        struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };

        if (n > 1)
            ifr.ifr_flags |= IFF_MULTI_QUEUE;
        g_snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "vtest%u", index);
        fds[q] = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        g_assert_cmpint(fds[q], >=, 0);
        g_assert_cmpint(ioctl(fds[q], TUNSETIFF, &ifr), ==, 0);
    }
    vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_TAP, fds, n);
}

/* The example with no kernel, our name and a fresh disk image. */
static VnicConfDomain *
load(Fixture *f, const char *example)
{
    VnicConfDomain *def = tq_load_example(example);
    g_autofree char *disk = g_build_filename(f->dir, "disk.img", NULL);
    int fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 16 << 20), ==, 0);
    close(fd);
    g_clear_pointer(&def->kernel, g_free);
    g_clear_pointer(&def->initrd, g_free);
    g_clear_pointer(&def->cmdline, g_free);
    g_free(def->name);
    def->name = g_strdup(f->name);
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == VNIC_CONF_DEV_DISK) {
            g_free(dev->disk->source_file);
            dev->disk->source_file = g_strdup(disk);
        }
    }
    return def;
}

static void
on_started(GObject *source, GAsyncResult *result, gpointer data)
{
    Result *r = data;

    r->proc = vnic_qemu_process_start_finish(result, &r->error);
    r->done = TRUE;
}

typedef void (*MutateFunc)(VnicConfDomain *def, VnicQemuCommand *cmd);

/* prepare → taps → build → [mutate] → start, to the end. */
static void
start(Fixture *f, VnicConfDomain *def, MutateFunc mutate, Result *r)
{
    g_autoptr(GError) error = NULL;
    VnicQemuLaunchOptions opts = { .uid = f->uid, .gid = f->gid, .timeout_ms = 20000 };
    VnicQemuRuntime *rt = vnic_qemu_runtime_prepare(def, f->run_dir, f->log_path, &error);
    VnicQemuCommand *cmd;
    guint n = 0;

    g_assert_no_error(error);
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == VNIC_CONF_DEV_INTERFACE)
            add_taps(rt, dev, n++);
    }
    cmd = vnic_qemu_command_build(def, rt, &error);
    g_assert_no_error(error);
    if (mutate != NULL)
        mutate(def, cmd);
    vnic_qemu_process_start_async(cmd, rt, &opts, NULL, on_started, r);
    tq_run_until(&r->done, 60000);
}

typedef struct {
    gboolean done;
    JsonNode *value;
    GError *error;
} Reply;

static void
on_reply(GObject *source, GAsyncResult *result, gpointer data)
{
    Reply *r = data;

    r->value = vnic_qmp_client_execute_finish(result, &r->error);
    r->done = TRUE;
}

/* Runs @command on QEMU's monitor; returns its "return" (owned). */
static JsonNode *
execute(VnicQemuProcess *proc, const char *command)
{
    Reply r = { 0 };

    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(proc), command, NULL, NULL, 0, 10000,
                                  NULL, on_reply, &r);
    tq_run_until(&r.done, 15000);
    g_assert_no_error(r.error);
    return r.value;
}

static void
assert_running(VnicQemuProcess *proc)
{
    g_autoptr(JsonNode) status = execute(proc, "query-status");

    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(status), "status"), ==,
                    "running");
}

typedef struct {
    gboolean called;
    VnicQemuExit exit;
} ExitRecord;

static void
on_exit_record(VnicQemuProcess *proc, const VnicQemuExit *exit, gpointer data)
{
    ExitRecord *rec = data;

    g_assert_false(rec->called);
    rec->called = TRUE;
    rec->exit = *exit;
}

static void
on_killed(GObject *source, GAsyncResult *result, gpointer data)
{
    Reply *r = data;

    g_assert_true(vnic_qemu_process_kill_finish(result, &r->error));
    r->done = TRUE;
}

/* Kills @proc (taken), checks the exit func ran and the pid is gone. */
static void
kill_and_free(VnicQemuProcess *proc, ExitRecord *rec)
{
    GPid pid = vnic_qemu_process_get_pid(proc);
    Reply r = { 0 };

    vnic_qemu_process_kill_async(proc, 2000, NULL, on_killed, &r);
    tq_run_until(&r.done, 15000);
    g_assert_no_error(r.error);
    g_assert_true(rec->called);
    g_assert_false(vnic_qemu_process_is_running(proc));
    vnic_qemu_process_free(proc);
    /* vnic's own child is reaped before the exit func runs; a re-attached
     * one is its parent's to reap (here GLib's child watch of the freed
     * GSubprocess, in its worker thread), so give that a moment */
    for (guint i = 0; i < 500 && !rec->exit.known && kill(pid, 0) == 0; i++)
        g_usleep(10000);
    g_assert_cmpint(kill(pid, 0), ==, -1);
    g_assert_cmpint(errno, ==, ESRCH);
}

static guint
proc_uid(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int) pid);
    g_autofree char *text = NULL;
    const char *line;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    line = strstr(text, "\nUid:\t");
    g_assert_nonnull(line);
    return (guint) g_ascii_strtoull(line + 6, NULL, 10);
}

/* ---- tests --------------------------------------------------------------------- */

static void
test_start_kill(Fixture *f, gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = NULL;
    g_autofree char *qmp = NULL;
    g_autofree char *agent = NULL;
    g_autofree char *log = NULL;
    ExitRecord rec = { 0 };
    Result r = { 0 };
    const char *pty;
    GPid pid;

    if (skipped(f))
        return;
    def = load(f, "cloudstack-pc.xml");
    start(f, def, NULL, &r);
    g_assert_no_error(r.error);
    vnic_qemu_process_set_exit_func(r.proc, on_exit_record, &rec, NULL);
    pid = vnic_qemu_process_get_pid(r.proc);
    assert_running(r.proc);
    /* unprivileged, in a session of its own, started when we think */
    g_assert_cmpuint(proc_uid(pid), ==, f->uid);
    g_assert_cmpint(getsid(pid), ==, pid);
    g_assert_cmpuint(vnic_qemu_process_get_start_time(r.proc), ==,
                     vnic_qemu_proc_start_time(pid, NULL));
    /* the sockets vnic made, the auto path written back for status XML */
    qmp = g_build_filename(f->run_dir, "qmp.sock", NULL);
    agent = g_build_filename(f->run_dir, "org.qemu.guest_agent.0", NULL);
    g_assert_true(g_file_test(qmp, G_FILE_TEST_EXISTS));
    g_assert_cmpstr(tq_nth(def, VNIC_CONF_DEV_CHANNEL, 0)->source_path, ==, agent);
    g_assert_true(g_file_test(agent, G_FILE_TEST_EXISTS));
    g_assert_cmpstr(vnic_qemu_process_get_owned_paths(r.proc)[0], ==, qmp);
    /* the pty QEMU chose for the serial */
    pty = vnic_qemu_process_get_pty(r.proc, "serial0");
    g_assert_nonnull(pty);
    g_assert_true(g_str_has_prefix(pty, "/dev/pts/"));
    vnic_qemu_process_apply_ptys(r.proc, def);
    g_assert_cmpstr(tq_nth(def, VNIC_CONF_DEV_SERIAL, 0)->source_path, ==, pty);
    g_assert_true(g_file_get_contents(f->log_path, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "vnic starting QEMU"));

    kill_and_free(r.proc, &rec);
    /* QEMU handles SIGTERM: "terminating on signal 15", status 0 */
    g_assert_true(rec.exit.known);
    g_assert_false(rec.exit.signaled);
    g_assert_cmpint(rec.exit.code, ==, 0);
    g_assert_false(g_file_test(qmp, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(agent, G_FILE_TEST_EXISTS));
}

static void
test_q35(Fixture *f, gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = NULL;
    ExitRecord rec = { 0 };
    Result r = { 0 };

    if (skipped(f))
        return;
    /* NICs behind root ports: checked through qom-get */
    def = load(f, "q35.xml");
    start(f, def, NULL, &r);
    g_assert_no_error(r.error);
    vnic_qemu_process_set_exit_func(r.proc, on_exit_record, &rec, NULL);
    assert_running(r.proc);
    kill_and_free(r.proc, &rec);
}

static void
test_multiqueue(Fixture *f, gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = NULL;
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
        "<os><type machine='pc'>hvm</type></os><features><acpi/></features><devices>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "<driver queues='2'/><link state='down'/></interface>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/><model type='e1000'/>"
        "<acpi index='3'/></interface></devices></domain>", f->name);
    ExitRecord rec = { 0 };
    Result r = { 0 };

    if (skipped(f))
        return;
    def = tq_parse(xml);
    start(f, def, NULL, &r);
    g_assert_no_error(r.error);
    vnic_qemu_process_set_exit_func(r.proc, on_exit_record, &rec, NULL);
    assert_running(r.proc);
    kill_and_free(r.proc, &rec);
}

/* The query-block entry of the drive QEMU calls @qdev, or NULL. */
static JsonObject *
find_block(JsonNode *blocks, const char *qdev)
{
    JsonArray *array = json_node_get_array(blocks);

    for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonObject *o = json_array_get_object_element(array, i);

        if (g_strcmp0(json_object_get_string_member_with_default(o, "qdev", ""), qdev) == 0)
            return o;
    }
    return NULL;
}

/* CloudStack's empty ISO slot (<source file=''/>) and an inserted ISO, on
 * pc's IDE and q35's SATA: QEMU shows empty, closed, removable drives and
 * the ISO read-only. */
static void
test_cdroms(Fixture *f, gconstpointer data)
{
    static const char *const machines[][3] = {
        { "pc", "hdc' bus='ide", "ide0-1-0" },
        { "q35", "sdc' bus='sata", "sata0-0-2" },
    };

    if (skipped(f))
        return;
    for (guint m = 0; m < G_N_ELEMENTS(machines); m++) {
        g_autofree char *iso = g_build_filename(f->dir, "a.iso", NULL);
        g_autofree char *xml = g_strdup_printf(
            "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
            "<os><type machine='%s'>hvm</type></os><features><acpi/></features><devices>"
            "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file=''/>"
            "<target dev='%s'/><readonly/></disk>"
            "<disk type='file' device='cdrom'><source file='%s'/><target dev='%s'/></disk>"
            "</devices></domain>",
            f->name, machines[m][0], machines[m][1], iso,
            m == 0 ? "hdd' bus='ide" : "sdd' bus='sata");
        g_autoptr(VnicConfDomain) def = NULL;
        g_autoptr(JsonNode) blocks = NULL;
        g_autofree char *iso_qdev = NULL;
        JsonObject *empty, *full;
        ExitRecord rec = { 0 };
        Result r = { 0 };

        g_assert_true(g_file_set_contents(iso, "not really an iso", -1, NULL));
        def = tq_parse(xml);
        start(f, def, NULL, &r);
        g_assert_no_error(r.error);
        vnic_qemu_process_set_exit_func(r.proc, on_exit_record, &rec, NULL);
        blocks = execute(r.proc, "query-block");
        empty = find_block(blocks, machines[m][2]);
        g_assert_nonnull(empty);
        g_assert_true(json_object_get_boolean_member(empty, "removable"));
        g_assert_false(json_object_has_member(empty, "inserted"));
        g_assert_false(json_object_get_boolean_member(empty, "tray_open"));
        iso_qdev = m == 0 ? g_strdup("ide0-1-1") : g_strdup("sata0-0-3");
        full = find_block(blocks, iso_qdev);
        g_assert_nonnull(full);
        g_assert_true(json_object_get_boolean_member(
            json_object_get_object_member(full, "inserted"), "ro"));
        kill_and_free(g_steal_pointer(&r.proc), &rec);
        g_unlink(iso);
    }
}

/* The two first NICs trade addresses after the command was built: the
 * start-up check must catch QEMU's devices differing from the plan. */
static void
swap_first_two_nics(VnicConfDomain *def, VnicQemuCommand *cmd)
{
    VnicConfPciAddr a = tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->addr;

    tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->addr = tq_nth(def, VNIC_CONF_DEV_INTERFACE, 1)->addr;
    tq_nth(def, VNIC_CONF_DEV_INTERFACE, 1)->addr = a;
    g_ptr_array_unref(cmd->expected_pci);
    cmd->expected_pci = vnic_qemu_expected_pci(def, NULL);
}

/* libvirt's plan of a PCIe switch (tests/data/libvirt/q35-switch): QEMU
 * builds it and the start-up check finds every NIC on its downstream port
 * (through qom-get: before the guest runs, query-pci shows only pcie.0). */
static void
test_pcie_switch(Fixture *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "libvirt",
                                             "q35-switch.libvirt.xml", NULL);
    g_autofree char *xml = NULL;
    g_autoptr(VnicConfDomain) def = NULL;
    ExitRecord rec = { 0 };
    Result r = { 0 }, again = { 0 };

    if (skipped(f))
        return;
    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    def = tq_parse(xml);
    g_free(def->name);
    def->name = g_strdup(f->name);
    start(f, def, NULL, &r);
    g_assert_no_error(r.error);
    vnic_qemu_process_set_exit_func(r.proc, on_exit_record, &rec, NULL);
    assert_running(r.proc);
    kill_and_free(g_steal_pointer(&r.proc), &rec);

    /* and it does look behind the switch: a plan that moved a NIC to
     * another downstream port after the argv was built is caught */
    start(f, def, swap_first_two_nics, &again);
    g_assert_null(again.proc);
    g_assert_error(again.error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY);
    g_test_message("%s", again.error->message);
    g_assert_nonnull(strstr(again.error->message, "('net0') on pci.3 slot 0x00 function 0, the "
                                                  "plan puts it on pci.4"));
    g_clear_error(&again.error);
}

/* libvirt's plans of q35-transitional (transitional virtio devices behind
 * the pcie-to-pci-bridge, a non-transitional one on a root port) and
 * pc-controllers (usb ehci and pci-ohci, the SCSI HBAs vmpvscsi,
 * lsisas1078, dc390, am53c974, a transitional virtio-serial): QEMU runs
 * them and the start-up check finds every device where the plan says. */
static void
test_libvirt_plans(Fixture *f, gconstpointer data)
{
    static const char *const names[] = { "q35-transitional", "pc-controllers" };

    if (skipped(f))
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *file = g_strconcat(names[i], ".libvirt.xml", NULL);
        g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "libvirt",
                                                 file, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(VnicConfDomain) def = NULL;
        ExitRecord rec = { 0 };
        Result r = { 0 };

        g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
        def = tq_parse(xml);
        g_free(def->name);
        def->name = g_strdup(f->name);
        start(f, def, NULL, &r);
        g_assert_no_error(r.error);
        vnic_qemu_process_set_exit_func(r.proc, on_exit_record, &rec, NULL);
        assert_running(r.proc);
        kill_and_free(g_steal_pointer(&r.proc), &rec);
    }
}

/* Expander buses: pxb on pc (what plugs in sits behind QEMU's own bridge,
 * which shows under the expander's id too) and pxb-pcie on q35 with a root
 * port on it; QEMU builds them and the start-up check finds the NICs, and
 * a NIC the plan moved after the argv was built is caught. */
static void
test_expanders(Fixture *f, gconstpointer data)
{
    static const char *const devices[] = {
        "<os><type machine='pc'>hvm</type></os><features><acpi/></features><devices>"
        "<controller type='pci' index='1' model='pci-expander-bus'/>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "<address type='pci' bus='1' slot='0'/></interface>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/><model type='e1000'/>"
        "<address type='pci' bus='1' slot='5'/></interface>",
        "<os><type machine='q35'>hvm</type></os><features><acpi/></features><devices>"
        "<controller type='pci' index='1' model='pcie-expander-bus'/>"
        "<controller type='pci' index='2' model='pcie-root-port'>"
        "<address type='pci' bus='1' slot='0'/></controller>"
        "<controller type='pci' index='3' model='pcie-root-port'>"
        "<address type='pci' bus='1' slot='1'/></controller>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "<address type='pci' bus='2' slot='0'/></interface>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/><model type='virtio'/>"
        "<address type='pci' bus='3' slot='0'/></interface>",
    };

    if (skipped(f))
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(devices); i++) {
        g_autofree char *xml = g_strdup_printf(
            "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>%s"
            "</devices></domain>", f->name, devices[i]);
        g_autoptr(VnicConfDomain) def = tq_parse(xml);
        ExitRecord rec = { 0 };
        Result r = { 0 }, again = { 0 };

        start(f, def, NULL, &r);
        g_assert_no_error(r.error);
        vnic_qemu_process_set_exit_func(r.proc, on_exit_record, &rec, NULL);
        assert_running(r.proc);
        kill_and_free(g_steal_pointer(&r.proc), &rec);

        start(f, def, swap_first_two_nics, &again);
        g_assert_null(again.proc);
        g_assert_error(again.error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY);
        g_test_message("%s", again.error->message);
        g_assert_nonnull(strstr(again.error->message, "('net0')"));
        g_clear_error(&again.error);
    }
}

/* Starts @file with the plan changed by @mutate after the argv was built:
 * the start must fail verification, with a message holding @needles, and
 * leave nothing behind (the teardown checks: no QEMU, no socket, no fd). */
static void
expect_verify_failure(Fixture *f, const char *file, MutateFunc mutate,
                      const char *const *needles)
{
    g_autoptr(VnicConfDomain) def = NULL;
    Result r = { 0 };

    if (skipped(f))
        return;
    def = load(f, file);
    start(f, def, mutate, &r);
    g_assert_null(r.proc);
    g_assert_error(r.error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY);
    g_test_message("%s", r.error->message);
    for (; *needles; needles++)
        g_assert_nonnull(strstr(r.error->message, *needles));
    g_clear_error(&r.error);
}

static void
move_first_nic(VnicConfDomain *def, VnicQemuCommand *cmd)
{
    /* the plan changes after QEMU's argv was built */
    tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->addr.slot = 0x0a;
    g_ptr_array_unref(cmd->expected_pci);
    cmd->expected_pci = vnic_qemu_expected_pci(def, NULL);
}

static void
test_wrong_plan(Fixture *f, gconstpointer data)
{
    expect_verify_failure(f, "cloudstack-pc.xml", move_first_nic,
                          (const char *const[]){ "QEMU start failed at query-pci: ", "slot 0x0a",
                                                 "('net0')", NULL });
}

static void
test_wrong_plan_behind_port(Fixture *f, gconstpointer data)
{
    expect_verify_failure(f, "q35.xml", swap_first_two_nics,
                          (const char *const[]){ "QEMU start failed at qom-get: ",
                                                 "('net0') on pci.1 slot 0x00 function 0, the plan "
                                                 "puts it on pci.2", NULL });
}

static void
test_exits_during_start(Fixture *f, gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = NULL;
    Result r = { 0 };

    if (skipped(f))
        return;
    def = load(f, "cloudstack-pc.xml");
    /* sh refuses QEMU's options, says so on stderr and exits */
    g_free(def->emulator);
    def->emulator = g_strdup("/bin/sh");
    start(f, def, NULL, &r);
    g_assert_null(r.proc);
    g_assert_error(r.error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_START);
    g_test_message("%s", r.error->message);
    g_assert_nonnull(strstr(r.error->message, "QEMU exited with status 2"));
    g_assert_nonnull(strstr(r.error->message, "QEMU's log:\n  /bin/sh: "));
    g_clear_error(&r.error);
}

static void
test_kvm(Fixture *f, gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(GError) probe = NULL;
    Result r = { 0 };

    if (skipped(f))
        return;
    if (vnic_qemu_check_kvm(&probe)) {
        g_test_skip("KVM works on this host");
        return;
    }
    g_assert_error(probe, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_KVM);
    def = load(f, "cloudstack-pc.xml");
    g_free(def->type);
    def->type = g_strdup("kvm");
    start(f, def, NULL, &r);
    g_assert_null(r.proc);
    g_assert_error(r.error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_KVM);
    g_test_message("%s", r.error->message);
    g_assert_nonnull(strstr(r.error->message, "use <domain type='qemu'>"));
    g_clear_error(&r.error);
}

static gboolean
cancel_now(gpointer data)
{
    g_cancellable_cancel(data);
    return G_SOURCE_REMOVE;
}

static void
test_cancelled(Fixture *f, gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    g_autoptr(GError) error = NULL;
    VnicQemuLaunchOptions opts = { .uid = 0, .gid = 0 };
    VnicQemuRuntime *rt;
    VnicQemuCommand *cmd;
    Result r = { 0 };

    if (skipped(f))
        return;
    def = tq_parse("<domain type='qemu'><name>c</name><memory unit='MiB'>64</memory>"
                   "<os><type machine='pc'>hvm</type></os><devices/></domain>");
    g_free(def->name);
    def->name = g_strdup(f->name);
    rt = vnic_qemu_runtime_prepare(def, f->run_dir, f->log_path, &error);
    g_assert_no_error(error);
    cmd = vnic_qemu_command_build(def, rt, &error);
    g_assert_no_error(error);
    /* cancelled once QEMU is spawned and the monitor is being connected */
    vnic_qemu_process_start_async(cmd, rt, &opts, cancel, on_started, &r);
    g_idle_add(cancel_now, cancel);
    tq_run_until(&r.done, 30000);
    g_assert_null(r.proc);
    g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&r.error);
}

static void
on_attached(GObject *source, GAsyncResult *result, gpointer data)
{
    Result *r = data;

    r->proc = vnic_qemu_process_attach_finish(result, &r->error);
    r->done = TRUE;
}

static void
attach(const VnicQemuAttachInfo *info, Result *r)
{
    vnic_qemu_process_attach_async(info, NULL, on_attached, r);
    tq_run_until(&r->done, 30000);
}

static void
test_attach(Fixture *f, gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = NULL;
    g_auto(GStrv) owned = NULL;
    g_autofree char *qmp = NULL;
    ExitRecord rec = { 0 };
    Result r = { 0 }, a = { 0 };
    VnicQemuAttachInfo info = { 0 };

    if (skipped(f))
        return;
    def = load(f, "cloudstack-pc.xml");
    start(f, def, NULL, &r);
    g_assert_no_error(r.error);
    info.pid = vnic_qemu_process_get_pid(r.proc);
    info.start_time = vnic_qemu_process_get_start_time(r.proc);
    qmp = g_strdup(vnic_qemu_process_get_qmp_path(r.proc));
    info.qmp_path = qmp;
    owned = g_strdupv((char **) vnic_qemu_process_get_owned_paths(r.proc));
    info.owned_paths = (const char *const *) owned;
    /* the daemon goes away: QEMU stays */
    vnic_qemu_process_free(r.proc);
    g_assert_cmpint(kill(info.pid, 0), ==, 0);

    attach(&info, &a);
    g_assert_no_error(a.error);
    vnic_qemu_process_set_exit_func(a.proc, on_exit_record, &rec, NULL);
    assert_running(a.proc);
    g_assert_cmpint(vnic_qemu_process_get_pid(a.proc), ==, info.pid);
    kill_and_free(a.proc, &rec);
    g_assert_false(rec.exit.known); /* seen through the pidfd only */
    g_assert_false(g_file_test(qmp, G_FILE_TEST_EXISTS));
}

static void
test_attach_refused(Fixture *f, gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = NULL;
    ExitRecord rec = { 0 };
    Result r = { 0 }, a = { 0 }, b = { 0 };
    VnicQemuAttachInfo info = { 0 };

    if (skipped(f))
        return;
    def = load(f, "cloudstack-pc.xml");
    start(f, def, NULL, &r);
    g_assert_no_error(r.error);
    vnic_qemu_process_set_exit_func(r.proc, on_exit_record, &rec, NULL);
    /* same pid, another start time: a recycled pid */
    info.pid = vnic_qemu_process_get_pid(r.proc);
    info.start_time = vnic_qemu_process_get_start_time(r.proc) + 1;
    info.qmp_path = vnic_qemu_process_get_qmp_path(r.proc);
    attach(&info, &a);
    g_assert_null(a.proc);
    g_assert_error(a.error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_GONE);
    g_assert_nonnull(strstr(a.error->message, "belongs to a process started at"));
    g_clear_error(&a.error);
    /* a process that is gone */
    info.pid = fork();
    if (info.pid == 0)
        _exit(0);
    g_assert_cmpint(info.pid, >, 0);
    g_assert_cmpint(waitpid(info.pid, NULL, 0), ==, info.pid);
    attach(&info, &b);
    g_assert_null(b.proc);
    g_assert_error(b.error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_GONE);
    g_clear_error(&b.error);

    assert_running(r.proc); /* untouched by either attempt */
    kill_and_free(r.proc, &rec);
}

static void
add(const char *name, void (*func)(Fixture *, gconstpointer))
{
    g_autofree char *path = g_strconcat("/qemu/process/", name, NULL);

    g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown);
}

void
test_qemu_process_register(void)
{
    add("start-kill", test_start_kill);
    add("q35", test_q35);
    add("multiqueue", test_multiqueue);
    add("cdroms", test_cdroms);
    add("pcie-switch", test_pcie_switch);
    add("expanders", test_expanders);
    add("libvirt-plans", test_libvirt_plans);
    add("wrong-plan", test_wrong_plan);
    add("wrong-plan-behind-port", test_wrong_plan_behind_port);
    add("exits-during-start", test_exits_during_start);
    add("kvm", test_kvm);
    add("cancelled", test_cancelled);
    add("attach", test_attach);
    add("attach-refused", test_attach_refused);
}
