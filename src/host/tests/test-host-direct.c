/* test-host-direct.c: macvtaps (type='direct'), what vnic_host_link_delete
 * may touch, concurrent naming, and every failure path (injected). */
#include "test-host-util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/if_link.h>

#include <netlink/route/link/macvtap.h>

void test_host_add_direct_tests(void);

static VnicConfNic
direct_nic(const char *lower, const char *mode, int last)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_DIRECT, last);

    nic.source = (char *)lower;
    nic.source_mode = (char *)mode;
    return nic;
}

/* A veth pair va/vb, both up: va is the macvtaps' lower device, frames
 * sent out of vb reach it. */
static void
make_lower(void)
{
    test_host_ip("link add va type veth peer name vb");
    test_host_ip("link set va up");
    test_host_ip("link set vb up");
}

static void
test_direct_modes(void)
{
    static const struct {
        const char *mode;
        guint32 value;
    } modes[] = {
        { "bridge", MACVLAN_MODE_BRIDGE }, { "vepa", MACVLAN_MODE_VEPA },
        { "private", MACVLAN_MODE_PRIVATE }, { "passthrough", MACVLAN_MODE_PASSTHRU },
        { NULL, MACVLAN_MODE_VEPA },
    };

    if (!test_host_enter_netns())
        return;
    make_lower();
    for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
        VnicConfNic nic = direct_nic("va", modes[i].mode, 0x10 + (int)i);
        g_autoptr(VnicHostBackend) backend = NULL;
        g_autoptr(rtnl_link) link = NULL;
        g_autoptr(GError) error = NULL;
        const VnicHostLink *record;
        g_autofree char *marker = g_strdup_printf("vnic-direct-%s", modes[i].mode);
        guint n_fds = 0;

        backend = vnic_host_backend_create(&nic, &error);
        g_assert_no_error(error);
        record = vnic_host_backend_get_link(backend);
        g_assert_cmpstr(record->name, ==, "macvtap0");
        g_assert_cmpint(record->kind, ==, VNIC_HOST_LINK_MACVTAP);
        link = test_host_link("macvtap0");
        g_assert_cmpuint(rtnl_link_get_ifindex(link), ==, record->ifindex);
        g_assert_cmpstr(rtnl_link_get_type(link), ==, "macvtap");
        g_assert_cmpuint(rtnl_link_macvtap_get_mode(link), ==, modes[i].value);
        g_assert_cmpint(rtnl_link_get_link(link), ==, test_host_ifindex("va"));
        g_assert_cmpmem(nl_addr_get_binary_addr(rtnl_link_get_addr(link)), 6, nic.mac, 6);
        g_assert_true(rtnl_link_get_flags(link) & IFF_UP);
        g_assert_cmpuint(vnic_host_backend_get_fds(backend, &n_fds)[0], >=, 0);
        g_assert_cmpuint(n_fds, ==, 1);
        g_assert_true(fcntl(vnic_host_backend_get_fds(backend, NULL)[0], F_GETFD) & FD_CLOEXEC);

        test_host_send_frame("vb", nic.mac, marker);
        g_assert_true(test_host_read_marker(vnic_host_backend_get_fds(backend, NULL)[0], marker));

        g_assert_true(vnic_host_link_delete(record, &error));
        g_assert_no_error(error);
        g_assert_false(test_host_link_exists("macvtap0"));
    }
}

static void
test_direct_multiqueue(void)
{
    VnicConfNic nic = direct_nic("va", "bridge", 0x20);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;
    struct stat a, b;
    const int *fds;
    guint n_fds = 0;

    if (!test_host_enter_netns())
        return;
    make_lower();
    nic.queues = 2;
    nic.mtu = 1400;
    nic.target_dev = (char *)"mvt-web0";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vnic_host_backend_get_link(backend)->name, ==, "mvt-web0");
    fds = vnic_host_backend_get_fds(backend, &n_fds);
    g_assert_cmpuint(n_fds, ==, 2);
    g_assert_cmpint(fstat(fds[0], &a), ==, 0);
    g_assert_cmpint(fstat(fds[1], &b), ==, 0);
    g_assert_true(S_ISCHR(a.st_mode));
    g_assert_cmpuint(a.st_rdev, ==, b.st_rdev);
    g_assert_cmpint(fds[0], !=, fds[1]);
    {
        g_autoptr(rtnl_link) link = test_host_link("mvt-web0");

        g_assert_cmpuint(rtnl_link_get_mtu(link), ==, 1400);
    }
    g_assert_true(vnic_host_link_delete(vnic_host_backend_get_link(backend), &error));
}

static void
assert_create_fails(const VnicConfNic *nic, int code, const char *text)
{
    g_autoptr(GError) error = NULL;
    TestHostSnapshot before;

    test_host_snapshot_take(&before);
    g_assert_null(vnic_host_backend_create(nic, &error));
    g_assert_error(error, VNIC_HOST_ERROR, code);
    if (!strstr(error->message, text))
        g_error("'%s' does not contain '%s'", error->message, text);
    test_host_snapshot_assert_same(&before);
    test_host_snapshot_clear(&before);
}

static void
test_direct_errors(void)
{
    VnicConfNic nic = direct_nic("eth9", "bridge", 0x30);

    if (!test_host_enter_netns())
        return;
    make_lower();
    assert_create_fails(&nic, VNIC_HOST_ERROR_NOT_FOUND,
                        "macvtap source device 'eth9' does not exist");
    nic = direct_nic("va", "bogus", 0x31);
    assert_create_fails(&nic, VNIC_HOST_ERROR_INVALID, "unknown macvtap mode 'bogus'");

    /* An existing name: the temporary link is deleted again. */
    nic = direct_nic("va", "bridge", 0x32);
    nic.target_dev = (char *)"vb";
    assert_create_fails(&nic, VNIC_HOST_ERROR_EXISTS,
                        "creating macvtap 'vb' on 'va' (renaming 'vnic-");

    /* Fails after the link exists (MTU above the lower device's). */
    nic.target_dev = NULL;
    nic.mtu = 9000;
    assert_create_fails(&nic, VNIC_HOST_ERROR_FAILED, "setting the MTU of 'macvtap0' to 9000: ");
}

/* /dev/tapN that is some other device, or none at all: a private node. */
static void
test_direct_node(void)
{
    VnicConfNic nic = direct_nic("va", "bridge", 0x40);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(VnicHostBackend) extra = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vnic-host-XXXXXX", NULL);
    g_autofree char *fake = NULL;
    const VnicHostLink *record;
    struct stat real, got;

    if (!test_host_enter_netns())
        return;
    make_lower();
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    record = vnic_host_backend_get_link(backend);
    g_assert_cmpint(fstat(vnic_host_backend_get_fds(backend, NULL)[0], &real), ==, 0);

    extra = g_new0(VnicHostBackend, 1);
    extra->fds = g_array_new(FALSE, FALSE, sizeof(int));
    g_assert_true(vnic_host_macvtap_open_queues(extra, dir, record->name, record->ifindex, 1,
                                                &error));
    g_assert_no_error(error);
    fake = g_strdup_printf("%s/tap%u", dir, record->ifindex);
    g_assert_cmpint(mknod(fake, S_IFCHR | 0600, makedev(1, 3)), ==, 0);
    g_assert_true(vnic_host_macvtap_open_queues(extra, dir, record->name, record->ifindex, 1,
                                                &error));
    g_assert_no_error(error);
    for (guint i = 0; i < 2; i++) {
        g_assert_cmpint(fstat(vnic_host_backend_get_fds(extra, NULL)[i], &got), ==, 0);
        g_assert_cmpuint(got.st_rdev, ==, real.st_rdev);
    }
    /* Only the fake is left: the private nodes were unlinked. */
    g_assert_cmpint(unlink(fake), ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
    g_assert_true(vnic_host_link_delete(record, &error));
}

static void
test_set_up(void)
{
    VnicConfNic nic = direct_nic("va", "bridge", 0x50);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(GError) error = NULL;
    const VnicHostLink *record;

    if (!test_host_enter_netns())
        return;
    make_lower();
    nic.link_up = VNIC_TRISTATE_NO;
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    record = vnic_host_backend_get_link(backend);
    {
        g_autoptr(rtnl_link) link = test_host_link(record->name);

        g_assert_false(rtnl_link_get_flags(link) & IFF_UP);
    }
    g_assert_true(vnic_host_link_set_up(record, TRUE, &error));
    g_assert_no_error(error);
    {
        g_autoptr(rtnl_link) link = test_host_link(record->name);

        g_assert_true(rtnl_link_get_flags(link) & IFF_UP);
    }
    g_assert_true(vnic_host_link_set_up(record, FALSE, &error));
    g_assert_true(vnic_host_link_delete(record, &error));
    g_assert_false(vnic_host_link_set_up(record, TRUE, &error));
    g_assert_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_NOT_FOUND);
}

/* vnic_host_link_delete touches only a link with the recorded name,
 * ifindex and kind. */
static void
test_delete_owned(void)
{
    VnicConfNic nic = test_host_nic(VNIC_CONF_NIC_ETHERNET, 0x60);
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autoptr(VnicHostLink) record = NULL;
    g_autoptr(GError) error = NULL;
    guint other;

    if (!test_host_enter_netns())
        return;
    /* The tap is gone and someone else made a link of the same name. */
    nic.target_dev = (char *)"own0";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    record = vnic_host_link_copy(vnic_host_backend_get_link(backend));
    g_clear_pointer(&backend, vnic_host_backend_free);
    test_host_ip("tuntap add dev own0 mode tap");
    other = test_host_ifindex("own0");
    g_assert_cmpuint(other, !=, record->ifindex);
    g_assert_false(vnic_host_link_exists(record));
    g_assert_true(vnic_host_link_delete(record, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(test_host_ifindex("own0"), ==, other);

    /* Ours, renamed by someone: left alone. */
    nic.target_dev = (char *)"own1";
    backend = vnic_host_backend_create(&nic, &error);
    g_assert_no_error(error);
    g_clear_pointer(&record, vnic_host_link_free);
    record = vnic_host_link_copy(vnic_host_backend_get_link(backend));
    test_host_ip("link set own1 down");
    test_host_ip("link set own1 name renamed1");
    g_assert_true(vnic_host_link_delete(record, &error));
    g_assert_cmpuint(test_host_ifindex("renamed1"), ==, record->ifindex);

    /* Ours, its fds still open: RTM_DELLINK removes it. */
    test_host_ip("link set renamed1 name own1");
    g_assert_true(vnic_host_link_exists(record));
    g_assert_true(vnic_host_link_delete(record, &error));
    g_assert_no_error(error);
    g_assert_false(test_host_link_exists("own1"));
    g_assert_true(vnic_host_link_delete(record, &error));
}

/* Kernel errors keep their errno text and the extended ack message. */
static void
test_netlink_errors(void)
{
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(GError) error = NULL;

    if (!test_host_enter_netns())
        return;
    make_lower();
    nl = vnic_host_nl_open(&error);
    g_assert_no_error(error);
    g_assert_false(vnic_host_nl_set_mtu(nl, test_host_ifindex("va"), "va", 70000, &error));
    g_assert_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_FAILED);
    g_test_message("%s", error->message);
    g_assert_true(g_str_has_prefix(error->message,
                                   "setting the MTU of 'va' to 70000: Invalid argument ("));
}

typedef struct {
    VnicConfNicType type;
    guint first_mac;
    GPtrArray *backends;
} CreatorJob;

static gpointer
creator_thread(gpointer data)
{
    CreatorJob *job = data;

    for (guint i = 0; i < 5; i++) {
        VnicConfNic nic = direct_nic("va", "bridge", (int)(job->first_mac + i));
        g_autoptr(GError) error = NULL;
        VnicHostBackend *backend;

        nic.type = job->type;
        backend = vnic_host_backend_create(&nic, &error);
        g_assert_no_error(error);
        g_ptr_array_add(job->backends, backend);
    }
    return NULL;
}

/* 4 threads × 5 links: 20 distinct names, the lowest 20 of the template. */
static void
create_concurrently(VnicConfNicType type, const char *prefix)
{
    CreatorJob jobs[4];
    GThread *threads[4];
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint t = 0; t < 4; t++) {
        jobs[t] = (CreatorJob){ type, 0x80 + t * 5,
                                g_ptr_array_new_with_free_func((GDestroyNotify)vnic_host_backend_free) };
        threads[t] = g_thread_new("creator", creator_thread, &jobs[t]);
    }
    for (guint t = 0; t < 4; t++)
        g_thread_join(threads[t]);
    for (guint t = 0; t < 4; t++)
        for (guint i = 0; i < jobs[t].backends->len; i++) {
            const VnicHostLink *link = vnic_host_backend_get_link(jobs[t].backends->pdata[i]);

            g_assert_true(g_hash_table_add(names, link->name));
            g_assert_cmpuint(test_host_ifindex(link->name), ==, link->ifindex);
        }
    g_assert_cmpuint(g_hash_table_size(names), ==, 20);
    for (guint i = 0; i < 20; i++) {
        g_autofree char *name = g_strdup_printf("%s%u", prefix, i);

        g_assert_true(g_hash_table_contains(names, name));
    }
    for (guint t = 0; t < 4; t++)
        g_ptr_array_unref(jobs[t].backends);
}

static void
test_concurrent_names(void)
{
    if (!test_host_enter_netns())
        return;
    make_lower();
    create_concurrently(VNIC_CONF_NIC_ETHERNET, "vnet");
    create_concurrently(VNIC_CONF_NIC_DIRECT, "macvtap");
}

/* Fails each step of creating @nic in turn: every failure must leave
 * nothing behind; returns the number of steps. */
static guint
fail_each_step(const VnicConfNic *nic)
{
    for (gint step = 1;; step++) {
        g_autoptr(VnicHostBackend) backend = NULL;
        g_autoptr(GError) error = NULL;
        TestHostSnapshot before;

        test_host_snapshot_take(&before);
        g_atomic_int_set(&vnic_host_test_fail_at, step);
        backend = vnic_host_backend_create(nic, &error);
        g_atomic_int_set(&vnic_host_test_fail_at, 0);
        if (backend) {
            const VnicHostLink *link = vnic_host_backend_get_link(backend);

            g_assert_true(vnic_host_link_delete(link, NULL));
            g_clear_pointer(&backend, vnic_host_backend_free);
            test_host_snapshot_assert_same(&before);
            test_host_snapshot_clear(&before);
            return (guint)step - 1;
        }
        g_assert_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_FAILED);
        g_assert_true(g_str_has_suffix(error->message, ": injected failure"));
        g_test_message("step %d: %s", step, error->message);
        test_host_snapshot_assert_same(&before);
        test_host_snapshot_clear(&before);
    }
}

static void
test_injected_failures(void)
{
    VnicConfNic ethernet = test_host_nic(VNIC_CONF_NIC_ETHERNET, 0x70);
    VnicConfNic bridge = test_host_nic(VNIC_CONF_NIC_BRIDGE, 0x71);
    VnicConfNic direct = direct_nic("va", "vepa", 0x72);

    if (!test_host_enter_netns())
        return;
    make_lower();
    test_host_ip("link add br0 type bridge");
    ethernet.queues = bridge.queues = direct.queues = 3;
    ethernet.mtu = direct.mtu = 1400;
    bridge.source = (char *)"br0";

    /* queues, lookup, MAC, MTU, up */
    g_assert_cmpuint(fail_each_step(&ethernet), ==, 3 + 1 + 1 + 1 + 1);
    /* bridge lookup, queues, lookup, MAC, enslave, up */
    g_assert_cmpuint(fail_each_step(&bridge), ==, 1 + 3 + 1 + 1 + 1 + 1);
    /* lower lookup, add, lookup, rename, lookup, MTU, up, queues */
    g_assert_cmpuint(fail_each_step(&direct), ==, 1 + 1 + 1 + 1 + 1 + 1 + 1 + 3);
}

void
test_host_add_direct_tests(void)
{
    g_test_add_func("/host/direct/modes", test_direct_modes);
    g_test_add_func("/host/direct/multiqueue", test_direct_multiqueue);
    g_test_add_func("/host/direct/errors", test_direct_errors);
    g_test_add_func("/host/direct/device-node", test_direct_node);
    g_test_add_func("/host/link/set-up", test_set_up);
    g_test_add_func("/host/netlink/errors", test_netlink_errors);
    g_test_add_func("/host/link/delete-owned", test_delete_owned);
    g_test_add_func("/host/names/concurrent", test_concurrent_names);
    g_test_add_func("/host/rollback/every-step", test_injected_failures);
}
