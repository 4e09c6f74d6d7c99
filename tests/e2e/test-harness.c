/* test-harness.c: self-test of the e2e harness (meson test 'e2e-harness').
 *
 * Checks each helper against the real thing without vnicd: the private
 * network namespace, commands with timeouts, the XML test copies (accepted
 * by `vnic plan`), the daemon plumbing (against fake-vnicd.py), and one boot
 * of the test guest under plain QEMU: console commands, exit statuses, a
 * timeout with ^C recovery, udev's net_id name of a virtio NIC at slot 3
 * (ens3), and ACPI power-off via QMP system_powerdown.
 *
 * orphan: a run killed together with its guard (kill -9 of a whole test
 * run) leaves a process that names nothing of the run but an fd, like a
 * QEMU that vnicd started (empty environment, cwd /, its log in the run's
 * temp root), and a /run/netns name; both survive, and the next run's sweep
 * (e2e_runs_sweep(), what e2e_init() does first) kills the process, deletes
 * the name and forgets the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"
#include "e2e-runs.h"

#ifndef VNIC_E2E_FAKE_VNICD
#error "VNIC_E2E_FAKE_VNICD must be defined by the build"
#endif

static void
test_netns(void)
{
    g_autofree char *others = e2e_netns_links_besides_lo();
    E2E_CHECK(*others == '\0', "a fresh namespace has only lo, not: %s", others);
    g_autofree char *flags = NULL;
    E2E_CHECK(g_file_get_contents("/sys/class/net/lo/flags", &flags, NULL, NULL),
              "no /sys/class/net/lo/flags: sysfs not remounted?");
    E2E_CHECK(strtol(flags, NULL, 16) & 1, "lo is not up (flags %s)", flags);

    /* A tap (no iproute2 needed): it exists while its fd is open. */
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    E2E_CHECK(fd >= 0, "/dev/net/tun: %s", g_strerror(errno));
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
    g_strlcpy(ifr.ifr_name, "e2e-tap0", sizeof ifr.ifr_name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        int e = errno;
        close(fd);
        E2E_CHECK(FALSE, "TUNSETIFF: %s", g_strerror(e));
    }
    gboolean seen = e2e_netns_has_link("e2e-tap0");
    gboolean in_sysfs = g_file_test("/sys/class/net/e2e-tap0", G_FILE_TEST_IS_DIR);
    g_autofree char *links = e2e_netns_links_besides_lo();
    close(fd);
    E2E_CHECK(seen && strcmp(links, "e2e-tap0") == 0, "links: '%s'", links);
    E2E_CHECK(in_sysfs, "/sys/class/net does not show this namespace's links");
    E2E_CHECK(!e2e_netns_has_link("e2e-tap0"), "the tap outlived its fd");
}

static void
test_cmd(void)
{
    const char *sh[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(sh, 10);
    E2E_CHECK(r->status == 3 && !r->timed_out, "status %d", r->status);
    E2E_CHECK(strcmp(r->out, "out\n") == 0 && strcmp(r->err, "err\n") == 0, "out '%s' err '%s'",
              r->out, r->err);

    gint64 t0 = g_get_monotonic_time();
    const char *slow[] = { "sleep", "30", NULL };
    g_autoptr(E2eCmdResult) r2 = e2e_cmd_run(slow, 0.3);
    double took = (g_get_monotonic_time() - t0) / 1e6;
    E2E_CHECK(r2->timed_out && r2->status == -1 && took < 5, "timeout: %d %d after %.1f s",
              r2->timed_out, r2->status, took);

    const char *missing[] = { "/nonexistent/e2e-binary", NULL };
    g_autoptr(E2eCmdResult) r3 = e2e_cmd_run(missing, 5);
    E2E_CHECK(r3->status == -1 && strstr(r3->err, "cannot run") != NULL, "missing binary: %s", r3->err);
}

static void
check_xml(const char *example)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(E2eDomainXml) dom = e2e_xml_prepare(example, "xml", &error);
    E2E_CHECK_NO_ERROR(error, example);
    g_autofree char *serial = g_strdup_printf("<source mode=\"bind\" path=\"%s\"/>", dom->serial_path);
    g_autofree char *kernel = g_strdup_printf("<kernel>%s/vmlinuz</kernel>", e2e_guest_dir());
    g_autofree char *disk = g_strdup_printf("<source file=\"%s\"/>", dom->disk_path);
    g_autofree char *name = g_strdup_printf("<name>%s</name>", dom->name);
    E2E_CHECK(strstr(dom->xml, serial) != NULL, "%s: no unix serial: %s", example, dom->xml);
    E2E_CHECK(strstr(dom->xml, "pty") == NULL, "%s: a pty is left: %s", example, dom->xml);
    E2E_CHECK(strstr(dom->xml, "<console") == NULL, "%s: a console is left", example);
    E2E_CHECK(strstr(dom->xml, kernel) != NULL, "%s: kernel: %s", example, dom->xml);
    E2E_CHECK(strstr(dom->xml, disk) != NULL, "%s: disk: %s", example, dom->xml);
    E2E_CHECK(strstr(dom->xml, name) != NULL, "%s: name: %s", example, dom->xml);
    E2E_CHECK(strstr(dom->xml, "quiet panic=-1 vnic.echo=0</cmdline>") != NULL, "%s: cmdline", example);
    struct stat st;
    E2E_CHECK(stat(dom->disk_path, &st) == 0 && st.st_size == 4 << 20 && st.st_blocks == 0,
              "%s: disk is not a 4 MiB sparse file", example);

    /* The copy is still a domain vnic accepts (conf + pci layers). */
    const char *plan[] = { e2e_vnic_binary(), "plan", dom->xml_path, "--json", NULL };
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(plan, 30);
    g_autofree char *desc = e2e_cmd_result_describe(r);
    E2E_CHECK(r->status == 0, "%s", desc);
}

static void
test_xml(void)
{
    check_xml("examples/cloudstack-pc.xml");
    if (!g_test_failed())
        check_xml("examples/q35.xml");
}

static void
test_daemon_plumbing(void)
{
    const char *fake[] = { "python3", VNIC_E2E_FAKE_VNICD, NULL };
    g_autoptr(E2eDaemon) d = e2e_daemon_new(fake);
    g_autoptr(GError) error = NULL;

    E2E_CHECK(e2e_daemon_start(d, &error), "start: %s", error->message);
    g_autoptr(JsonObject) reply = e2e_daemon_api(d, "query-version", NULL, &error);
    E2E_CHECK_NO_ERROR(error, "query-version");
    g_autoptr(JsonNode) ret = e2e_api_return(reply, &error);
    E2E_CHECK_NO_ERROR(error, "query-version reply");
    E2E_CHECK(json_object_get_int_member(json_node_get_object(ret), "starts") == 1, "first start");

    g_autoptr(JsonObject) bad = e2e_daemon_api(d, "no-such-command", "{\"x\": 1}", &error);
    E2E_CHECK_NO_ERROR(error, "no-such-command");
    g_autoptr(JsonNode) none = e2e_api_return(bad, &error);
    E2E_CHECK(none == NULL && strstr(error->message, "CommandNotFound") != NULL, "error reply");
    g_clear_error(&error);

    GPid pid = e2e_daemon_pid(d);
    e2e_daemon_kill(d);
    E2E_CHECK(!e2e_daemon_running(d) && !e2e_proc_alive(pid), "SIGKILL: pid %d still alive", (int)pid);
    E2E_CHECK(e2e_daemon_start(d, &error), "restart after SIGKILL: %s", error->message);
    g_autoptr(JsonObject) reply2 = e2e_daemon_api(d, "query-version", NULL, &error);
    E2E_CHECK_NO_ERROR(error, "query-version after restart");
    g_autoptr(JsonNode) ret2 = e2e_api_return(reply2, &error);
    E2E_CHECK(ret2 != NULL && json_object_get_int_member(json_node_get_object(ret2), "starts") == 2,
              "state dir kept across restarts");
    E2E_CHECK(e2e_daemon_restart(d, &error), "restart: %s", error->message);

    int code = -2;
    E2E_CHECK(e2e_daemon_stop(d, &code, &error), "stop: %s", error->message);
    E2E_CHECK(code == 0, "exit code %d after SIGTERM", code);
    E2E_CHECK(!g_file_test(e2e_daemon_socket(d), G_FILE_TEST_EXISTS), "socket left after SIGTERM");
    g_autofree char *log = e2e_daemon_log_tail(d, 50);
    E2E_CHECK(strstr(log, "start #3") != NULL && strstr(log, "=== e2e") != NULL, "log: %s", log);
}

/* One boot of the guest, pc, a virtio NIC at slot 3. */
static void
test_guest_pc(void)
{
    const char *machine[] = {
        "-machine", "pc", "-netdev", "hubport,id=n0,hubid=0",
        "-device", "virtio-net-pci,netdev=n0,id=nic0,addr=0x3,mac=52:54:00:e2:e0:03", NULL,
    };
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(E2eQemu) q = e2e_qemu_start(machine, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "starting QEMU");
    E2eConsole *con = e2e_qemu_console(q);
    E2E_CHECK(e2e_console_wait_ready(con, 60, &error), "%s", error->message);
    g_test_message("e2e: guest ready %.2f s after exec", (g_get_monotonic_time() - t0) / 1e6);

    /* Output and exit status. */
    g_autofree char *out = NULL;
    int status = -1;
    E2E_CHECK(e2e_console_run(con, "echo hello; echo world", 10, &out, &status, &error), "%s",
              error->message);
    E2E_CHECK(status == 0 && strcmp(out, "hello\nworld\n") == 0, "status %d, output '%s'", status, out);
    g_clear_pointer(&out, g_free);
    E2E_CHECK(e2e_console_run(con, "printf 'no newline'; sh -c 'exit 7'", 10, &out, &status, &error),
              "%s", error->message);
    E2E_CHECK(status == 7 && strcmp(out, "no newline") == 0, "status %d, output '%s'", status, out);
    g_clear_pointer(&out, g_free);

    /* A command that runs out of time is interrupted; the console goes on. */
    gint64 t1 = g_get_monotonic_time();
    gboolean ok = e2e_console_run(con, "sleep 20", 1, NULL, NULL, &error);
    E2E_CHECK(!ok && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "sleep 20 did not time out");
    E2E_CHECK((g_get_monotonic_time() - t1) / 1e6 < 6, "the timeout took too long");
    g_clear_error(&error);
    E2E_CHECK(e2e_console_run(con, "echo after", 10, &out, &status, &error), "%s", error->message);
    E2E_CHECK(status == 0 && strcmp(out, "after\n") == 0, "after ^C: %d '%s'", status, out);
    g_clear_pointer(&out, g_free);

    /* The name udev gives the NIC, the way the daemon tests check it. */
    E2E_CHECK(e2e_console_run(con, "udevadm test-builtin net_id /sys/class/net/eth0 2>/dev/null", 20,
                              &out, &status, &error),
              "%s", error->message);
    E2E_CHECK(strstr(out, "ID_NET_NAME_SLOT=ens3\n") != NULL, "net_id of eth0 at slot 3:\n%s", out);
    g_clear_pointer(&out, g_free);
    g_autoptr(GPtrArray) nics = e2e_guest_nics(con, &error);
    E2E_CHECK_NO_ERROR(error, "listing guest NICs");
    const E2eGuestNic *nic = e2e_guest_nics_find_mac(nics, "52:54:00:E2:E0:03");
    E2E_CHECK(nics->len == 1 && nic != NULL, "guest NICs: %u", nics->len);
    E2E_CHECK(g_strcmp0(nic->ifname, "eth0") == 0 && g_strcmp0(nic->slot, "ens3") == 0 &&
                  g_strcmp0(nic->path, "enp0s3") == 0 && nic->onboard == NULL &&
                  g_strcmp0(e2e_guest_nic_preferred(nic), "ens3") == 0,
              "eth0: slot %s path %s onboard %s", nic->slot, nic->path, nic->onboard);

    /* A console connected after the boot (the marker went by) still gets
     * the shell, by probing it. */
    con = e2e_qemu_reconnect_console(q, &error);
    E2E_CHECK_NO_ERROR(error, "reconnecting the console");
    e2e_console_set_silence(con, 1);
    gint64 t3 = g_get_monotonic_time();
    E2E_CHECK(e2e_console_wait_ready(con, 30, &error), "ready after reconnecting: %s", error->message);
    g_test_message("e2e: reconnected console ready after %.1f s", (g_get_monotonic_time() - t3) / 1e6);
    E2E_CHECK(e2e_console_run(con, "echo again", 10, &out, &status, &error), "%s", error->message);
    E2E_CHECK(status == 0 && strcmp(out, "again\n") == 0, "after reconnecting: %d '%s'", status, out);
    g_clear_pointer(&out, g_free);

    /* ACPI power button: the guest powers off and QEMU exits 0. */
    g_autoptr(JsonNode) r = e2e_qmp_execute(e2e_qemu_qmp(q), "system_powerdown", NULL, 10, &error);
    E2E_CHECK_NO_ERROR(error, "system_powerdown");
    gint64 t2 = g_get_monotonic_time();
    E2E_CHECK(e2e_console_wait_for(con, "reboot: Power down", 10, NULL, &error), "%s", error->message);
    int code = -2;
    E2E_CHECK(e2e_qemu_wait_exit(q, 20, &code, &error), "after system_powerdown: %s", error->message);
    E2E_CHECK(code == 0, "QEMU exit code %d", code);
    g_test_message("e2e: powered off %.2f s after system_powerdown", (g_get_monotonic_time() - t2) / 1e6);
    g_autofree char *tail = e2e_console_transcript(con, 300);
    E2E_CHECK(strstr(tail, "ACPI power button") != NULL, "console end:\n%s", tail);
}

#define ORPHAN_ENV "VNIC_E2E_HARNESS_ORPHAN"

/* In the child run: starts the would-be orphan, tells the parent its pid
 * through `pid_path`, and waits to be killed. */
static void
orphan_child(const char *pid_path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *log = g_build_filename(e2e_tmp_root(), "orphan.log", NULL);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    E2E_CHECK(fd >= 0, "%s: %s", log, g_strerror(errno));
    const char *argv[] = { "/bin/sleep", "300", NULL };
    const char *envp[] = { NULL };
    GPid pid = 0;
    gboolean ok = g_spawn_async_with_fds("/", (char **)argv, (char **)envp, G_SPAWN_DEFAULT, NULL, NULL, &pid, -1,
                                         fd, fd, &error);
    close(fd);
    E2E_CHECK(ok, "spawning the orphan: %s", error->message);
    /* a named network namespace too, as test-migrate makes one */
    g_autofree char *ns = g_strdup_printf("ip netns add vnic-orphan-%d", (int)getpid());
    g_autoptr(E2eCmdResult) r = e2e_cmd_run((const char *const[]){ "sh", "-c", ns, NULL }, 30);
    E2E_CHECK(r->status == 0, "%s: %s", ns, r->err);
    g_autofree char *text = g_strdup_printf("%d\n", (int)pid);
    E2E_CHECK(g_file_set_contents(pid_path, text, -1, &error), "%s", error->message);
    g_usleep(60 * G_USEC_PER_SEC);
}

static const E2eRun *
run_of_pid(GPtrArray *runs, GPid pid)
{
    for (guint i = 0; i < runs->len; i++)
        if (((const E2eRun *)runs->pdata[i])->pid == pid)
            return runs->pdata[i];
    return NULL;
}

static void
test_orphan(void)
{
    const char *child_pid_path = g_getenv(ORPHAN_ENV);
    if (child_pid_path != NULL) {
        orphan_child(child_pid_path);
        return;
    }
    g_autoptr(GError) error = NULL;
    g_autofree char *self = g_file_read_link("/proc/self/exe", &error);
    E2E_CHECK_NO_ERROR(error, "/proc/self/exe");
    g_autofree char *dir = e2e_tmp_dir("orphan");
    g_autofree char *pid_path = g_build_filename(dir, "orphan.pid", NULL);
    g_autofree char *out_path = g_build_filename(dir, "child.out", NULL);
    g_autofree char *env = g_strconcat(ORPHAN_ENV "=", pid_path, NULL);
    /* the last word names our temp root: our guard kills the child if we die */
    const char *argv[] = { self, "-p", "/e2e/harness/orphan", dir, NULL };
    const char *env_add[] = { env, NULL };
    g_autoptr(E2eChild) child = e2e_child_spawn_env(argv, env_add, out_path, NULL, &error);
    E2E_CHECK_NO_ERROR(error, "the child run");
    gint64 deadline = e2e_deadline(30);
    while (!g_file_test(pid_path, G_FILE_TEST_EXISTS) && !e2e_child_exited(child) && e2e_ms_left(deadline) > 0)
        g_usleep(20 * 1000);
    g_autofree char *pid_text = NULL;
    if (!g_file_get_contents(pid_path, &pid_text, NULL, NULL)) {
        g_autofree char *out = e2e_file_tail(out_path, 20);
        e2e_child_signal(child, SIGKILL);
        g_test_fail_printf("the child run started no orphan within 30 s:\n%s", out);
        return;
    }
    GPid orphan = (GPid)atoi(pid_text);

    g_autoptr(GPtrArray) runs = e2e_runs_list(e2e_build_root());
    const E2eRun *run = run_of_pid(runs, e2e_child_pid(child));
    E2E_CHECK(run != NULL && run->guard_pid > 0, "the child run (pid %d) is not registered with its guard",
              (int)e2e_child_pid(child));
    g_autofree char *child_root = g_strdup(run->tmp_root);
    /* kill -9 of the whole run: the program and its guard */
    kill(run->guard_pid, SIGKILL);
    e2e_child_signal(child, SIGKILL);
    E2E_CHECK(e2e_child_wait(child, 10), "the child run outlived SIGKILL");
    g_usleep(500 * 1000);
    E2E_CHECK(e2e_proc_alive(orphan), "the orphan (pid %d) died with its run: nothing to test", (int)orphan);
    g_autofree char *cmdline = e2e_proc_cmdline(orphan);
    E2E_CHECK(strstr(cmdline, child_root) == NULL, "the orphan's command line names the run: %s", cmdline);

    g_autofree char *ns = g_strdup_printf("/run/netns/vnic-orphan-%d", (int)e2e_child_pid(child));
    E2E_CHECK(g_file_test(ns, G_FILE_TEST_EXISTS), "the child run's %s is not there", ns);

    e2e_runs_sweep(e2e_build_root());
    E2E_CHECK(!g_file_test(ns, G_FILE_TEST_EXISTS), "the sweep left %s", ns);
    gboolean dead = FALSE;
    for (int i = 0; i < 50 && !(dead = !e2e_proc_alive(orphan)); i++)
        g_usleep(100 * 1000);
    if (!dead)
        kill(orphan, SIGKILL);
    E2E_CHECK(dead, "the sweep left the orphan (pid %d) of run %s alive", (int)orphan, child_root);
    g_autoptr(GPtrArray) after = e2e_runs_list(e2e_build_root());
    E2E_CHECK(run_of_pid(after, e2e_child_pid(child)) == NULL, "the swept run %s is still registered", child_root);
    e2e_rm_rf(child_root);
    g_test_message("orphan %d of the killed run %s: killed by the sweep", (int)orphan, child_root);
}

int
main(int argc, char **argv)
{
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC);
    g_test_add_func("/e2e/harness/netns", test_netns);
    g_test_add_func("/e2e/harness/cmd", test_cmd);
    g_test_add_func("/e2e/harness/xml", test_xml);
    g_test_add_func("/e2e/harness/daemon-plumbing", test_daemon_plumbing);
    g_test_add_func("/e2e/harness/guest-pc", test_guest_pc);
    g_test_add_func("/e2e/harness/orphan", test_orphan);
    return e2e_finish();
}
