/* test-conf-aliases.c: device ids for running domains, libvirt's names. */
#include "test-conf-util.h"

static const char *
alias_of(const VnicConfDomain *def, VnicConfDeviceKind kind, guint n)
{
    return tc_nth(def, kind, n)->alias;
}

static VnicConfDomain *
cloudstack(void)
{
    g_autofree char *text = tc_read_example("cloudstack-pc.xml");
    return tc_parse(text);
}

static void
test_libvirt_names(void)
{
    g_autoptr(VnicConfDomain) def = cloudstack();
    g_autofree char *next = NULL;

    vnic_conf_domain_assign_aliases(def);
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_INTERFACE, 0), ==, "net0");
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_INTERFACE, 1), ==, "net1");
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_DISK, 0), ==, "virtio-disk0");
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_MEMBALLOON, 0), ==, "balloon0");
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_WATCHDOG, 0), ==, "watchdog0");
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_VIDEO, 0), ==, "video0");
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_SERIAL, 0), ==, "serial0");
    g_assert_cmpstr(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_USB, 0)->alias, ==, "usb");
    g_assert_cmpstr(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_PCI, 0)->alias, ==, "pci.0");
    g_assert_cmpstr(vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_VIRTIO_SERIAL, 0)->alias,
                    ==, "virtio-serial0");
    next = vnic_conf_domain_next_nic_alias(def);
    g_assert_cmpstr(next, ==, "net2");
}

/* Aliases already there (user ones, or from an earlier start) are kept
 * and their numbers are not handed out twice. */
static void
test_existing_kept(void)
{
    g_autoptr(VnicConfDomain) def = cloudstack();
    VnicConfDevice *first = tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0);

    first->alias = g_strdup("net1");
    vnic_conf_domain_assign_aliases(def);
    vnic_conf_domain_assign_aliases(def);
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_INTERFACE, 0), ==, "net1");
    g_assert_cmpstr(alias_of(def, VNIC_CONF_DEV_INTERFACE, 1), ==, "net0");
}

void
test_conf_aliases_register(void)
{
    g_test_add_func("/conf/aliases/libvirt-names", test_libvirt_names);
    g_test_add_func("/conf/aliases/existing-kept", test_existing_kept);
}
