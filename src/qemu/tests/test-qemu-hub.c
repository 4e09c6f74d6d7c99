/* test-qemu-hub.c: NICs on a hub against a real qemu-system-x86_64 (TCG,
 * stopped with -S, no guest kernel: QEMU's own view is what is checked):
 * the argv, swapping the tap under a running NIC (also when the kernel
 * deleted the old macvtap, or someone deleted the tap), rollback of a
 * failed attach or hot-plug leaving no netdev, set_link, a direct NIC's
 * command line as vnic builds it, and hot-plug / unplug leaving no netdev.
 *
 * Needs root (taps and macvtaps in a private network namespace, /sys
 * remounted to show it); skipped without root or QEMU.
 */
#include "test-qemu-helpers.h"
#include "test-qmp-helpers.h"

#include "qemu/qemu-hub.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/if_tun.h>

static gboolean have_root_netns;

typedef struct {
    char *dir;
    char *qmp_path;
    GSubprocess *proc;
    VnicQmpClient *qmp;
} Qemu;

/* A tap @name (one queue, vnet header): the fd. */
static int
open_tap(const char *name)
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    g_assert_cmpint(ioctl(fd, TUNSETIFF, &ifr), ==, 0);
    return fd;
}

static void
sh(const char *command)
{
    int status = system(command);

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        g_error("%s: failed", command);
}

/* A macvtap on a new veth va (peer vb): its queue fd, opened from a
 * private node made from /sys's major:minor. */
static int
open_macvtap(void)
{
    g_autofree char *dev_path = NULL, *text = NULL, *node = NULL;
    guint ifindex, major_n, minor_n;
    int fd;

    sh("ip link add va type veth peer name vb && ip link set va up && ip link set vb up && "
       "ip link add link va name mvt0 type macvtap mode bridge && ip link set mvt0 up");
    ifindex = if_nametoindex("mvt0");
    dev_path = g_strdup_printf("/sys/class/net/mvt0/macvtap/tap%u/dev", ifindex);
    g_assert_true(g_file_get_contents(dev_path, &text, NULL, NULL));
    g_assert_cmpint(sscanf(text, "%u:%u", &major_n, &minor_n), ==, 2);
    node = g_strdup_printf("%s/vnic-hub-tap-%d", g_get_tmp_dir(), (int)getpid());
    g_assert_cmpint(mknod(node, S_IFCHR | 0600, makedev(major_n, minor_n)), ==, 0);
    fd = open(node, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_unlink(node);
    return fd;
}

/* A QEMU never outlives a test that crashed. */
static void
die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Skips the test without root (namespaces, taps) or QEMU. */
static gboolean
can_run(void)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");

    if (have_root_netns && qemu)
        return TRUE;
    g_test_skip("needs root and qemu-system-x86_64");
    return FALSE;
}

/* QEMU (pc, -S) on the monitor, with @extra (NULL-terminated, may be
 * NULL) appended and @fd (taken; -1: none) as its fd @child_fd. */
static void
qemu_start_argv(Qemu *q, const char *const *extra, int fd, int child_fd)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;

    q->dir = g_dir_make_tmp("vnic-hub-XXXXXX", &error);
    g_assert_no_error(error);
    q->qmp_path = g_build_filename(q->dir, "qmp.sock", NULL);
    for (const char *const *a = (const char *const[]){ qemu, "-accel", "tcg", "-machine", "pc",
                                                       "-S", "-nodefaults", "-no-user-config",
                                                       "-display", "none", "-m", "64", NULL };
         *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, g_strdup("-qmp"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off", q->qmp_path));
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
    for (const char *const *a = extra; a && *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    if (fd >= 0)
        g_subprocess_launcher_take_fd(launcher, fd, child_fd);
    g_ptr_array_add(argv, NULL);
    q->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    g_assert_no_error(error);
    for (guint attempt = 0; !q->qmp; attempt++) {
        TestResult res = { 0 };

        g_assert_cmpuint(attempt, <, 500);
        vnic_qmp_client_connect_async(q->qmp_path, 10000, NULL, test_connect_cb, &res);
        test_run_until(&res.done);
        q->qmp = g_steal_pointer(&res.client);
        test_result_clear(&res);
        if (!q->qmp)
            test_run_for(20);
    }
}

/* QEMU (pc, -S) on the monitor; with @tap_fd >= 0 (taken) a virtio NIC
 * net0 in hub mode at 00:03.0: tap hostnet0 on fd 3, hubports from the
 * builder. */
static void
qemu_start(Qemu *q, int tap_fd)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

    if (tap_fd >= 0) {
        g_ptr_array_add(argv, g_strdup("-netdev"));
        g_ptr_array_add(argv, g_strdup("tap,id=hostnet0,fd=3,vhost=off"));
        vnic_qemu_hub_append_argv(argv, "net0", 3 << 3, "hostnet0");
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, g_strdup("virtio-net-pci,netdev=hpnic-net0,id=net0,"
                                       "mac=52:54:00:aa:bb:01,bus=pci.0,addr=0x3"));
    }
    g_ptr_array_add(argv, NULL);
    qemu_start_argv(q, (const char *const *)argv->pdata, tap_fd, 3);
}

static void
qemu_stop(Qemu *q)
{
    g_clear_pointer(&q->qmp, vnic_qmp_client_free);
    g_subprocess_force_exit(q->proc);
    g_subprocess_wait(q->proc, NULL, NULL);
    g_clear_object(&q->proc);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_unlink(q->qmp_path);
    g_rmdir(q->dir);
    g_free(q->qmp_path);
    g_free(q->dir);
}

/* `info network`, QEMU's list of netdevs and NICs and their peers. */
static char *
info_network(Qemu *q)
{
    g_autoptr(JsonObject) args = json_object_new();
    TestResult res = { 0 };
    char *text;

    json_object_set_string_member(args, "command-line", "info network");
    test_execute(q->qmp, "human-monitor-command", args, NULL, 0, 10000, &res);
    g_assert_no_error(res.error);
    text = g_strdup(json_node_get_string(res.value));
    test_result_clear(&res);
    g_test_message("info network:\n%s", text);
    return text;
}

/* TRUE when query-pci lists device @id. */
static gboolean
pci_has(Qemu *q, const char *id)
{
    TestResult res = { 0 };
    g_autofree char *json = NULL;
    g_autofree char *needle = g_strdup_printf("\"qdev_id\":\"%s\"", id);
    gboolean found;

    test_execute(q->qmp, "query-pci", NULL, NULL, 0, 10000, &res);
    g_assert_no_error(res.error);
    json = json_to_string(res.value, FALSE);
    found = strstr(json, needle) != NULL;
    test_result_clear(&res);
    return found;
}

typedef struct {
    gboolean done;
    gboolean ok;
    GError *error;
} Done;

static void
on_plug(GObject *source, GAsyncResult *res, gpointer data)
{
    Done *d = data;

    d->ok = vnic_qemu_plug_finish(res, NULL, &d->error);
    d->done = TRUE;
}

/* detach, swap, set_link */
static void
on_hub(GObject *source, GAsyncResult *res, gpointer data)
{
    Done *d = data;

    d->ok = vnic_qemu_hub_finish(res, &d->error);
    d->done = TRUE;
}

/* Swaps net0 (on hub @hubid) to tap @fd (taken); returns how long it
 * took in µs. */
static gint64
hub_swap(Qemu *q, guint hubid, int fd, const char *fail_step, Done *d)
{
    gint64 t0 = g_get_monotonic_time();

    vnic_qemu_hub_swap_async(q->qmp, "net0", hubid, &fd, 1, fail_step, NULL, on_hub, d);
    g_assert_cmpint(fd, ==, -1);
    test_run_until(&d->done);
    return g_get_monotonic_time() - t0;
}

static gint64
swap(Qemu *q, int fd, const char *fail_step, Done *d)
{
    return hub_swap(q, 24, fd, fail_step, d);
}

/* The lines of hub @hubid in `info network` (its ports, in any order). */
static char *
hub_block(const char *info, guint hubid)
{
    g_autofree char *head = g_strdup_printf("hub %u", hubid);
    g_auto(GStrv) lines = g_strsplit(info, "\n", -1);
    g_autoptr(GString) block = g_string_new(NULL);
    gboolean in = FALSE;

    for (char **l = lines; *l; l++) {
        g_strchomp(*l);
        if (in && !g_str_has_prefix(*l, " \\ "))
            break;
        if (in)
            g_string_append_printf(block, "%s\n", *l);
        in = in || strcmp(*l, head) == 0;
    }
    return g_string_free(g_steal_pointer(&block), FALSE);
}

/* The hub of net0 holds the NIC and, if @backend, hp-net0 → hostnet0;
 * no other netdev exists. */
static void
assert_hub(Qemu *q, guint hubid, gboolean backend)
{
    g_autofree char *info = info_network(q);
    g_autofree char *block = hub_block(info, hubid);

    g_assert_nonnull(strstr(block, " \\ hpnic-net0: net0: index=0,type=nic"));
    g_assert_true((strstr(block, " \\ hp-net0: hostnet0: index=0,type=tap") != NULL) == backend);
    g_assert_true((strstr(info, "hostnet0") != NULL) == backend);
    g_assert_true(pci_has(q, "net0"));
}

static void
test_argv(void)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(JsonObject) port = vnic_qemu_hub_port_args("hp-net1", 17, "hostnet1");
    g_autoptr(JsonObject) nic_port = vnic_qemu_hub_port_args("hpnic-net1", 17, NULL);
    VnicConfDevice dev = { .addr = { .set = TRUE, .bus = 1, .slot = 2, .function = 1 } };
    g_autofree char *text = NULL;

    vnic_qemu_hub_append_argv(argv, "net1", 17, "hostnet1");
    g_ptr_array_add(argv, NULL);
    text = g_strjoinv(" ", (char **)argv->pdata);
    g_assert_cmpstr(text, ==, "-netdev hubport,id=hp-net1,hubid=17,netdev=hostnet1 "
                              "-netdev hubport,id=hpnic-net1,hubid=17");
    g_assert_cmpstr(json_object_get_string_member(port, "type"), ==, "hubport");
    g_assert_cmpint(json_object_get_int_member(port, "hubid"), ==, 17);
    g_assert_cmpstr(json_object_get_string_member(port, "netdev"), ==, "hostnet1");
    g_assert_false(json_object_has_member(nic_port, "netdev"));
    g_assert_cmpuint(vnic_qemu_hub_id(&dev), ==, 1 << 8 | 2 << 3 | 1);
}

static void
test_swap(void)
{
    Qemu q = { 0 };
    Done d = { 0 };
    int mine_old;
    gint64 us;

    if (!can_run())
        return;
    mine_old = open_tap("vh0");
    qemu_start(&q, dup(mine_old));
    assert_hub(&q, 24, TRUE);
    us = swap(&q, open_tap("vh1"), NULL, &d);
    g_assert_no_error(d.error);
    g_assert_true(d.ok);
    g_test_message("swap: %" G_GINT64_FORMAT " us", us);
    assert_hub(&q, 24, TRUE);
    /* QEMU let go of vh0 (our fd is the last: closing it ends the tap)
     * and holds vh1 (which outlives our fd, closed by the swap). */
    close(mine_old);
    g_assert_cmpuint(if_nametoindex("vh0"), ==, 0);
    g_assert_cmpuint(if_nametoindex("vh1"), !=, 0);
    /* Again, now that QEMU has run every command once. */
    d = (Done){ 0 };
    us = swap(&q, open_tap("vh6"), NULL, &d);
    g_assert_true(d.ok);
    g_test_message("second swap: %" G_GINT64_FORMAT " us", us);
    g_assert_cmpuint(if_nametoindex("vh1"), ==, 0);
    assert_hub(&q, 24, TRUE);
    qemu_stop(&q);
}

/* The kernel deleted the macvtap with its lower device: QEMU's tap is a
 * dead fd, and the swap still replaces it. */
static void
test_swap_dead_macvtap(void)
{
    Qemu q = { 0 };
    Done d = { 0 };

    if (!can_run())
        return;
    qemu_start(&q, open_macvtap());
    assert_hub(&q, 24, TRUE);
    sh("ip link del va");
    g_assert_cmpuint(if_nametoindex("mvt0"), ==, 0);
    swap(&q, open_tap("vh2"), NULL, &d);
    g_assert_no_error(d.error);
    g_assert_true(d.ok);
    assert_hub(&q, 24, TRUE);
    qemu_stop(&q);
}

/* `ip link del` of the tap under a running QEMU (the kernel deletes it
 * even while QEMU holds it): the swap replaces it all the same. */
static void
test_swap_deleted_tap(void)
{
    Qemu q = { 0 };
    Done d = { 0 };

    if (!can_run())
        return;
    qemu_start(&q, open_tap("vh0"));
    sh("ip link del vh0");
    g_assert_cmpuint(if_nametoindex("vh0"), ==, 0);
    swap(&q, open_tap("vh8"), NULL, &d);
    g_assert_no_error(d.error);
    assert_hub(&q, 24, TRUE);
    g_assert_cmpuint(if_nametoindex("vh8"), !=, 0);
    qemu_stop(&q);
}

/* A failed swap leaves no netdev of its own: not the tap fd QEMU refused
 * (/dev/null), not the tap when the hubport fails.  Then an attach
 * works. */
static void
test_rollback(void)
{
    Qemu q = { 0 };
    Done d = { 0 };
    int fd;

    if (!can_run())
        return;
    qemu_start(&q, open_tap("vh0"));
    swap(&q, open("/dev/null", O_RDWR | O_CLOEXEC), NULL, &d);
    g_assert_false(d.ok);
    g_assert_nonnull(strstr(d.error->message, "new backend for net0 failed at netdev_add"));
    g_test_message("bad fd: %s", d.error->message);
    g_clear_error(&d.error);
    assert_hub(&q, 24, FALSE);

    d = (Done){ 0 };
    swap(&q, open_tap("vh3"), VNIC_QEMU_STEP_HUBPORT, &d);
    g_assert_false(d.ok);
    g_assert_nonnull(strstr(d.error->message, "failed at hubport"));
    g_clear_error(&d.error);
    assert_hub(&q, 24, FALSE);
    g_assert_cmpuint(if_nametoindex("vh3"), ==, 0); /* QEMU closed its copy */

    d = (Done){ 0 };
    fd = open_tap("vh4");
    vnic_qemu_hub_attach_async(q.qmp, "net0", 3 << 3, &fd, 1, NULL, NULL, on_plug, &d);
    test_run_until(&d.done);
    g_assert_no_error(d.error);
    assert_hub(&q, 24, TRUE);
    qemu_stop(&q);
}

#define HOTPLUG_XML                                                                          \
    "<domain type='qemu'><name>hub</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"      \
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"                         \
    "<interface type='ethernet'><mac address='52:54:00:aa:bb:02'/><model type='virtio'/>"   \
    "</interface></devices></domain>"

static void
hotplug(Qemu *q, const VnicConfDomain *def, const VnicConfDevice *dev, const char *fail_step,
        Done *d)
{
    int fd = open_tap("vh5");

    vnic_qemu_hub_hotplug_nic_async(q->qmp, def, dev, &fd, 1, fail_step, NULL, on_plug, d);
    test_run_until(&d->done);
}

/* Hot-plug in hub mode; a failure at each step leaves no netdev. */
static void
test_hotplug(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(HOTPLUG_XML);
    VnicConfDevice *dev = tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    const char *const steps[] = { VNIC_QEMU_STEP_GETFD, VNIC_QEMU_STEP_NETDEV_ADD,
                                  VNIC_QEMU_STEP_HUBPORT, VNIC_QEMU_STEP_DEVICE_ADD };
    Qemu q = { 0 };
    Done d = { 0 };

    if (!can_run())
        return;
    qemu_start(&q, -1);
    g_free(dev->alias);
    dev->alias = g_strdup("net0");
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
        g_autofree char *info = NULL;

        d = (Done){ 0 };
        hotplug(&q, def, dev, steps[i], &d);
        g_assert_false(d.ok);
        g_assert_nonnull(strstr(d.error->message, steps[i]));
        g_clear_error(&d.error);
        info = info_network(&q);
        g_assert_null(strstr(info, "net0"));
        g_assert_false(pci_has(&q, "net0"));
    }
    d = (Done){ 0 };
    hotplug(&q, def, dev, NULL, &d);
    g_assert_no_error(d.error);
    g_assert_true(pci_has(&q, "net0"));
    assert_hub(&q, vnic_qemu_hub_id(dev), TRUE);
    /* A NIC hot-plugged on a hub takes a new backend like one booted so. */
    d = (Done){ 0 };
    hub_swap(&q, vnic_qemu_hub_id(dev), open_tap("vh7"), NULL, &d);
    g_assert_no_error(d.error);
    assert_hub(&q, vnic_qemu_hub_id(dev), TRUE);
    g_assert_cmpuint(if_nametoindex("vh5"), ==, 0);
    qemu_stop(&q);
}

#define DIRECT_XML                                                                           \
    "<domain type='qemu'><name>hub</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"      \
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"                         \
    "<interface type='direct'><mac address='52:54:00:aa:bb:03'/><source dev='va' "          \
    "mode='bridge'/><model type='virtio'/></interface></devices></domain>"

/* A direct NIC's command line as vnic builds it (on a hub by default)
 * runs: QEMU shows the NIC on its hub with the tap, and the backend can be
 * swapped under it. */
static void
test_command_line(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(DIRECT_XML);
    VnicConfDevice *dev = tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    g_autoptr(VnicQemuRuntime) rt = tq_describe_runtime(def);
    g_autoptr(VnicQemuCommand) cmd = NULL;
    g_autoptr(GPtrArray) nic_argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    Qemu q = { 0 };
    Done d = { 0 };

    if (!can_run())
        return;
    cmd = vnic_qemu_command_build(def, rt, &error);
    g_assert_no_error(error);
    /* the NIC's arguments: its netdevs and its -device (the tap on fd 4,
     * after the monitor's 3) */
    for (guint i = 0; i + 1 < cmd->argv->len && g_ptr_array_index(cmd->argv, i + 1); i++) {
        const char *opt = g_ptr_array_index(cmd->argv, i);
        const char *val = g_ptr_array_index(cmd->argv, i + 1);

        if (strcmp(opt, "-netdev") == 0 ||
            (strcmp(opt, "-device") == 0 && strstr(val, "netdev=") != NULL)) {
            g_test_message("%s %s", opt, val);
            g_ptr_array_add(nic_argv, (gpointer)opt);
            g_ptr_array_add(nic_argv, (gpointer)val);
        }
    }
    g_assert_cmpuint(nic_argv->len, ==, 8);
    g_ptr_array_add(nic_argv, NULL);
    qemu_start_argv(&q, (const char *const *)nic_argv->pdata, open_tap("vh0"), 4);
    assert_hub(&q, vnic_qemu_hub_id(dev), TRUE);
    hub_swap(&q, vnic_qemu_hub_id(dev), open_tap("vh1"), NULL, &d);
    g_assert_no_error(d.error);
    assert_hub(&q, vnic_qemu_hub_id(dev), TRUE);
    qemu_stop(&q);
}

static void
on_delete(GObject *source, GAsyncResult *res, gpointer data)
{
    Done *d = data;

    d->ok = vnic_qemu_nic_netdevs_delete_finish(res, &d->error);
    d->done = TRUE;
}

/* device_del of net0 completed: the stopped guest never answers the
 * ACPI unplug, system_reset completes it. */
static void
device_del(Qemu *q)
{
    g_autoptr(JsonObject) args = json_object_new();
    TestResult res = { 0 };

    json_object_set_string_member(args, "id", "net0");
    test_execute(q->qmp, "device_del", args, NULL, 0, 10000, &res);
    g_assert_no_error(res.error);
    test_result_clear(&res);
    test_execute(q->qmp, "system_reset", NULL, NULL, 0, 10000, &res);
    g_assert_no_error(res.error);
    test_result_clear(&res);
    for (guint attempt = 0; pci_has(q, "net0"); attempt++) {
        g_assert_cmpuint(attempt, <, 250);
        test_run_for(20);
    }
}

/* vnic_qemu_hotplug_nic_async puts a NIC whose mode is hub on its hub by
 * itself, and one that is not straight on its tap; after device_del,
 * vnic_qemu_nic_netdevs_delete_async leaves nothing of either in QEMU (but
 * the empty hub), and a second time (all gone already) succeeds as well. */
static void
test_hotplug_unplug(void)
{
    static const VnicConfReconnect modes[] = { VNIC_CONF_RECONNECT_DEFAULT,
                                               VNIC_CONF_RECONNECT_REPLUG };
    g_autoptr(VnicConfDomain) def = tq_parse(DIRECT_XML);
    VnicConfDevice *dev = tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    Qemu q = { 0 };

    if (!can_run())
        return;
    g_free(dev->alias);
    dev->alias = g_strdup("net0");
    qemu_start(&q, -1);
    for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
        gboolean hub;
        g_autofree char *info = NULL;
        Done d = { 0 };
        int fd = open_tap("vh5");

        dev->nic->reconnect = modes[i];
        hub = vnic_qemu_nic_on_hub(def, dev);
        g_assert_true(hub == (modes[i] == VNIC_CONF_RECONNECT_DEFAULT));
        vnic_qemu_hotplug_nic_async(q.qmp, def, dev, &fd, 1, NULL, NULL, on_plug, &d);
        test_run_until(&d.done);
        g_assert_no_error(d.error);
        if (hub) {
            assert_hub(&q, vnic_qemu_hub_id(dev), TRUE);
        } else {
            info = info_network(&q);
            g_assert_nonnull(strstr(info, "net0: index=0,type=nic"));
            g_assert_nonnull(strstr(info, "\\ hostnet0: index=0,type=tap"));
            g_assert_null(strstr(info, "hp-net0"));
            g_assert_null(strstr(info, "hpnic-net0"));
            g_clear_pointer(&info, g_free);
        }
        device_del(&q);
        for (guint round = 0; round < 2; round++) {
            d = (Done){ 0 };
            vnic_qemu_nic_netdevs_delete_async(q.qmp, def, dev, NULL, on_delete, &d);
            test_run_until(&d.done);
            g_assert_no_error(d.error);
            g_assert_true(d.ok);
            g_autofree char *block = NULL;

            info = info_network(&q);
            g_assert_null(strstr(info, "net0"));
            /* QEMU has no command that deletes a hub: hub 24 stays, empty
             * (a NIC plugged at 00:03.0 again reuses it) */
            block = hub_block(info, vnic_qemu_hub_id(dev));
            g_assert_cmpstr(block, ==, "");
            g_clear_pointer(&info, g_free);
        }
        /* QEMU closed its copy of the tap, the last one */
        g_assert_cmpuint(if_nametoindex("vh5"), ==, 0);
    }
    qemu_stop(&q);
}

static void
test_set_link(void)
{
    Qemu q = { 0 };
    Done d = { 0 };

    if (!can_run())
        return;
    qemu_start(&q, open_tap("vh0"));
    vnic_qemu_set_link_async(q.qmp, "net0", FALSE, NULL, on_hub, &d);
    test_run_until(&d.done);
    g_assert_no_error(d.error);
    g_assert_true(d.ok);
    d = (Done){ 0 };
    vnic_qemu_set_link_async(q.qmp, "nope", TRUE, NULL, on_hub, &d);
    test_run_until(&d.done);
    g_assert_false(d.ok);
    g_assert_cmpstr(vnic_qmp_error_get_class(d.error), ==, "DeviceNotFound");
    g_clear_error(&d.error);
    qemu_stop(&q);
}

/* A private network namespace, and a private mount namespace where /sys
 * shows it (macvtap device numbers are read there). */
static gboolean
enter_namespaces(void)
{
    if (geteuid() != 0)
        return FALSE;
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
        g_error("unshare: %s", g_strerror(errno));
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        umount2("/sys", MNT_DETACH) < 0 ||
        mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        g_error("remounting /sys: %s", g_strerror(errno));
    sh("ip link set lo up");
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    have_root_netns = enter_namespaces();

    g_test_add_func("/qemu/hub/argv", test_argv);
    g_test_add_func("/qemu/hub/swap", test_swap);
    g_test_add_func("/qemu/hub/swap-dead-macvtap", test_swap_dead_macvtap);
    g_test_add_func("/qemu/hub/swap-deleted-tap", test_swap_deleted_tap);
    g_test_add_func("/qemu/hub/rollback", test_rollback);
    g_test_add_func("/qemu/hub/hotplug", test_hotplug);
    g_test_add_func("/qemu/hub/set-link", test_set_link);
    g_test_add_func("/qemu/hub/command-line", test_command_line);
    g_test_add_func("/qemu/hub/hotplug-unplug", test_hotplug_unplug);
    return g_test_run();
}
