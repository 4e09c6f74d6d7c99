/* test-qemu-reconnect.c: NICs on hubs on the command line, by reconnect
 * mode (<vnic:reconnect>, the type defaults), the netdevs each NIC has,
 * and the define-time refusals of modes the launcher cannot run.  Pure:
 * no QEMU runs (test-qemu-hub.c starts real ones). */
#include "test-qemu-helpers.h"

#include "qemu/qemu-hub.h"

#include <string.h>

#define HEAD(domain_extra)                                                                  \
    "<domain type='qemu' xmlns:vnic='urn:x-vnic:domain:1'><name>t</name>"                  \
    "<memory unit='MiB'>128</memory><os><type machine='pc'>hvm</type></os>"               \
    "<features><acpi/></features>" domain_extra "<devices>"
#define TAIL "</devices></domain>"
#define MAC1 "<mac address='52:54:00:00:00:01'/>"
#define DIRECT(extra)                                                                       \
    "<interface type='direct'>" MAC1 "<source dev='eth0' mode='bridge'/>"                  \
    "<model type='virtio'/>" extra "</interface>"
#define BRIDGE(extra)                                                                       \
    "<interface type='bridge'>" MAC1 "<source bridge='br0'/><model type='virtio'/>" extra  \
    "</interface>"

static VnicQemuCommand *
build(const VnicConfDomain *def)
{
    g_autoptr(VnicQemuRuntime) rt = tq_describe_runtime(def);
    g_autoptr(GError) error = NULL;
    VnicQemuCommand *cmd = vnic_qemu_command_build(def, rt, &error);

    g_assert_no_error(error);
    g_assert_nonnull(cmd);
    return cmd;
}

/* The NIC's -netdev and -device arguments, in argv order, one a line. */
static char *
nic_args(const VnicQemuCommand *cmd)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (guint i = 0; i + 1 < cmd->argv->len; i++) {
        const char *opt = g_ptr_array_index(cmd->argv, i);
        const char *val = g_ptr_array_index(cmd->argv, i + 1);

        if (val == NULL)
            break;
        if (strcmp(opt, "-netdev") == 0 ||
            (strcmp(opt, "-device") == 0 && strstr(val, "netdev=") != NULL))
            g_string_append_printf(out, "%s %s\n", opt, val);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
assert_nic_args(const char *xml, const char *expected)
{
    g_autoptr(VnicConfDomain) def = tq_parse(xml);
    g_autoptr(VnicQemuCommand) cmd = build(def);
    g_autofree char *got = nic_args(cmd);

    g_assert_cmpstr(got, ==, expected);
}

/* A direct NIC (a macvtap) is on a hub by default: the tap's -netdev,
 * right after it the two hubports on hub 00:03.0 = 24, the NIC on its
 * port. */
static void
test_direct_default_hub(void)
{
    assert_nic_args(HEAD("") DIRECT("") TAIL,
                    "-netdev tap,id=hostnet0,fd=4,vhost=off\n"
                    "-netdev hubport,id=hp-net0,hubid=24,netdev=hostnet0\n"
                    "-netdev hubport,id=hpnic-net0,hubid=24\n"
                    "-device virtio-net-pci,netdev=hpnic-net0,id=net0,"
                    "mac=52:54:00:00:00:01,bus=pci.0,addr=0x3\n");
}

static void
test_bridge_default_direct(void)
{
    assert_nic_args(HEAD("") BRIDGE("") TAIL,
                    "-netdev tap,id=hostnet0,fd=4,vhost=off\n"
                    "-device virtio-net-pci,netdev=hostnet0,id=net0,"
                    "mac=52:54:00:00:00:01,bus=pci.0,addr=0x3\n");
}

/* The NIC's own mode, the domain's, and a multiqueue NIC under a
 * domain-wide hub (replug: a hubport carries one queue). */
static void
test_modes(void)
{
    static const char on_hub[] = "-netdev tap,id=hostnet0,fd=4,vhost=off\n"
                                 "-netdev hubport,id=hp-net0,hubid=24,netdev=hostnet0\n"
                                 "-netdev hubport,id=hpnic-net0,hubid=24\n"
                                 "-device virtio-net-pci,netdev=hpnic-net0,id=net0,"
                                 "mac=52:54:00:00:00:01,bus=pci.0,addr=0x3\n";
    static const char on_tap[] = "-netdev tap,id=hostnet0,fd=4,vhost=off\n"
                                 "-device virtio-net-pci,netdev=hostnet0,id=net0,"
                                 "mac=52:54:00:00:00:01,bus=pci.0,addr=0x3\n";

    assert_nic_args(HEAD("") BRIDGE("<vnic:reconnect mode='hub'/>") TAIL, on_hub);
    assert_nic_args(HEAD("") DIRECT("<vnic:reconnect mode='replug'/>") TAIL, on_tap);
    assert_nic_args(HEAD("") DIRECT("<vnic:reconnect mode='off'/>") TAIL, on_tap);
    assert_nic_args(HEAD("<vnic:reconnect mode='hub'/>") BRIDGE("") TAIL, on_hub);
    assert_nic_args(HEAD("<vnic:reconnect mode='off'/>") DIRECT("") TAIL, on_tap);
    assert_nic_args(HEAD("<vnic:reconnect mode='off'/>")
                        DIRECT("<vnic:reconnect mode='hub'/>") TAIL, on_hub);
    assert_nic_args(HEAD("<vnic:reconnect mode='hub'/>") DIRECT("<driver queues='2'/>") TAIL,
                    "-netdev tap,id=hostnet0,fds=4:5,vhost=off\n"
                    "-device virtio-net-pci,netdev=hostnet0,id=net0,"
                    "mac=52:54:00:00:00:01,mq=on,vectors=6,bus=pci.0,addr=0x3\n");
}

/* Two NICs on hubs: one hub each, numbered after their addresses; a
 * NIC behind a bridge gets bus << 8. */
static void
test_two_hubs(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        HEAD("<vnic:reconnect mode='hub'/>") BRIDGE("<alias name='ua-a'/>")
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/><model type='e1000'/>"
        "<alias name='ua-b'/><address type='pci' domain='0x0000' bus='0x01' slot='0x02' "
        "function='0x0'/></interface><controller type='pci' index='1' model='pci-bridge'/>"
        TAIL);
    g_autoptr(VnicQemuCommand) cmd = build(def);
    g_autofree char *got = nic_args(cmd);

    g_test_message("%s", got);
    g_assert_nonnull(strstr(got, "-netdev hubport,id=hp-ua-a,hubid=24,netdev=hostua-a\n"
                                 "-netdev hubport,id=hpnic-ua-a,hubid=24\n"));
    g_assert_nonnull(strstr(got, "-netdev hubport,id=hp-ua-b,hubid=272,netdev=hostua-b\n"
                                 "-netdev hubport,id=hpnic-ua-b,hubid=272\n"
                                 "-device e1000,netdev=hpnic-ua-b,id=ua-b,"));
}

static void
assert_ids(const VnicConfDomain *def, const VnicConfDevice *dev, const char *expected)
{
    g_auto(GStrv) ids = vnic_qemu_nic_netdev_ids(def, dev);
    g_autofree char *joined = g_strjoinv(" ", ids);

    g_assert_cmpstr(joined, ==, expected);
}

static void
test_on_hub_and_netdev_ids(void)
{
    g_autoptr(VnicConfDomain) def = tq_parse(
        HEAD("") DIRECT("<alias name='ua-d'/>")
        "<interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br0'/>"
        "<alias name='ua-b'/></interface>" TAIL);
    VnicConfDevice *direct = tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    VnicConfDevice *bridge = tq_nth(def, VNIC_CONF_DEV_INTERFACE, 1);

    g_assert_true(vnic_qemu_nic_on_hub(def, direct));
    g_assert_false(vnic_qemu_nic_on_hub(def, bridge));
    assert_ids(def, direct, "hostua-d hp-ua-d hpnic-ua-d hpgap-ua-d");
    assert_ids(def, bridge, "hostua-b");
    def->reconnect = VNIC_CONF_RECONNECT_HUB;
    g_assert_true(vnic_qemu_nic_on_hub(def, bridge));
    assert_ids(def, bridge, "hostua-b hp-ua-b hpnic-ua-b hpgap-ua-b");
    direct->nic->reconnect = VNIC_CONF_RECONNECT_OFF;
    g_assert_false(vnic_qemu_nic_on_hub(def, direct));
    assert_ids(def, direct, "hostua-d");
}

/* What the conf layer refuses when written is refused by define too when
 * a definition was changed by code (vnic_qemu_domain_check, and the
 * hot-plug check). */
static void
test_define_refuses(void)
{
    g_autoptr(VnicConfDomain) mq = tq_parse(HEAD("") BRIDGE("<driver queues='2'/>") TAIL);
    g_autoptr(VnicConfDomain) vu = tq_parse(
        HEAD("<memoryBacking><access mode='shared'/></memoryBacking>")
        "<interface type='vhostuser'>" MAC1 "<source type='unix' path='/run/vhu0' "
        "mode='client'/><model type='virtio'/></interface>" TAIL);
    VnicConfDevice *mq_nic = tq_nth(mq, VNIC_CONF_DEV_INTERFACE, 0);
    VnicConfDevice *vu_nic = tq_nth(vu, VNIC_CONF_DEV_INTERFACE, 0);
    g_autoptr(GError) error = NULL;

    /* the defaults and the domain's mode never put these on a hub */
    mq->reconnect = VNIC_CONF_RECONNECT_HUB;
    vu->reconnect = VNIC_CONF_RECONNECT_HUB;
    g_assert_true(vnic_qemu_domain_check(mq, &error));
    g_assert_no_error(error);
    g_assert_true(vnic_qemu_domain_check(vu, &error));
    g_assert_no_error(error);
    g_assert_false(vnic_qemu_nic_on_hub(vu, vu_nic));

    mq_nic->nic->reconnect = VNIC_CONF_RECONNECT_HUB;
    g_assert_false(vnic_qemu_domain_check(mq, &error));
    g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "<vnic:reconnect mode='hub'> cannot go with "
                                            "<driver queues='2'>"));
    g_clear_error(&error);
    g_assert_false(vnic_qemu_hotplug_check_nic(mq, mq_nic, &error));
    g_assert_nonnull(strstr(error->message, "mode='replug'"));
    g_clear_error(&error);

    vu_nic->nic->reconnect = VNIC_CONF_RECONNECT_REPLUG;
    g_assert_false(vnic_qemu_domain_check(vu, &error));
    g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "<vnic:reconnect mode='replug'> needs a tap or "
                                            "macvtap backend, not <interface type='vhostuser'>"));
}

void
test_qemu_reconnect_register(void)
{
    g_test_add_func("/qemu/reconnect/direct-default-hub", test_direct_default_hub);
    g_test_add_func("/qemu/reconnect/bridge-default-tap", test_bridge_default_direct);
    g_test_add_func("/qemu/reconnect/modes", test_modes);
    g_test_add_func("/qemu/reconnect/two-hubs", test_two_hubs);
    g_test_add_func("/qemu/reconnect/on-hub-netdev-ids", test_on_hub_and_netdev_ids);
    g_test_add_func("/qemu/reconnect/define-refuses", test_define_refuses);
}
