/* test-conf-paths.c: vnic_conf_domain_absolutize_paths: which fields it
 * rewrites, that the formatter writes them back, what it leaves alone. */
#include "test-conf-util.h"

#include <string.h>

/* Relative and absolute paths in every field the function handles. */
static const char paths_xml[] =
    "<domain type='qemu'><name>p</name><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64' machine='pc'>hvm</type>"
    "<kernel>boot/vmlinuz</kernel><initrd>./boot/../initrd.img</initrd></os>"
    "<devices>"
    "<disk type='file' device='disk'><source file='../disks/a.qcow2'/>"
    "<target dev='vda' bus='virtio'/></disk>"
    "<disk type='block' device='disk'><source dev='/dev/sdb'/>"
    "<target dev='vdb' bus='virtio'/></disk>"
    "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
    "<serial type='file'><source path='log/serial.log'/><target port='0'/></serial>"
    "<console type='pty'><target type='serial' port='0'/></console>"
    "<controller type='virtio-serial' index='0'/>"
    "<channel type='unix'><source mode='bind' path='agent.sock'/>"
    "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
    "<channel type='udp'><source mode='bind' host='0.0.0.0' service='2445'/>"
    "<source mode='connect' host='0.0.0.0' service='2444'/>"
    "<target type='virtio' name='udp.0'/></channel>"
    "</devices></domain>";

static void
assert_contains(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        g_error("\"%s\" not found in:\n%s", needle, text);
}

static void
test_fields(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse(paths_xml);

    vnic_conf_domain_absolutize_paths(def, "/srv/vms");
    g_assert_cmpstr(def->kernel, ==, "/srv/vms/boot/vmlinuz");
    g_assert_cmpstr(def->initrd, ==, "/srv/vms/initrd.img");
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_DISK, 0)->disk->source_file, ==,
                    "/srv/disks/a.qcow2");
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_DISK, 1)->disk->source_file, ==, "/dev/sdb");
    g_assert_null(tc_nth(def, VNIC_CONF_DEV_DISK, 2)->disk->source_file);
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_SERIAL, 0)->source_path, ==,
                    "/srv/vms/log/serial.log");
    g_assert_null(tc_nth(def, VNIC_CONF_DEV_CONSOLE, 0)->source_path);
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_CHANNEL, 0)->source_path, ==,
                    "/srv/vms/agent.sock");
    g_assert_null(tc_nth(def, VNIC_CONF_DEV_CHANNEL, 1)->source_path);
}

/* What the daemon receives: the formatted XML carries the new paths, and
 * everything else (udp sources, the console) as it was. */
static void
test_formatted(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse(paths_xml);
    g_autofree char *xml = NULL;
    g_autoptr(VnicConfDomain) back = NULL;

    vnic_conf_domain_absolutize_paths(def, "/srv/vms/");
    xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    assert_contains(xml, "<kernel>/srv/vms/boot/vmlinuz</kernel>");
    assert_contains(xml, "<initrd>/srv/vms/initrd.img</initrd>");
    assert_contains(xml, "<source file='/srv/disks/a.qcow2'/>");
    assert_contains(xml, "<source dev='/dev/sdb'/>");
    assert_contains(xml, "<source path='/srv/vms/log/serial.log'/>");
    assert_contains(xml, "<source mode='bind' path='/srv/vms/agent.sock'/>");
    assert_contains(xml, "<source mode='connect' host='0.0.0.0' service='2444'/>");
    g_assert_null(strstr(xml, "'log/serial.log'"));
    back = tc_parse(xml);
    g_assert_cmpstr(back->kernel, ==, "/srv/vms/boot/vmlinuz");
    g_assert_cmpstr(tc_nth(back, VNIC_CONF_DEV_CHANNEL, 0)->source_path, ==,
                    "/srv/vms/agent.sock");
}

/* Absolute paths and a second call change nothing. */
static void
test_idempotent(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse(paths_xml);
    g_autofree char *once = NULL;
    g_autofree char *twice = NULL;

    vnic_conf_domain_absolutize_paths(def, "/srv/vms");
    once = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    vnic_conf_domain_absolutize_paths(def, "/elsewhere");
    twice = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    g_assert_cmpstr(once, ==, twice);
}

/* Without relative paths the output is exactly what it was. */
static void
test_examples_unchanged(void)
{
    g_autofree char *text = tc_read_data("maximal-q35.xml");
    g_autoptr(VnicConfDomain) def = tc_parse(text);
    g_autofree char *before = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    g_autofree char *after = NULL;

    vnic_conf_domain_absolutize_paths(def, "/srv/vms");
    after = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    g_assert_cmpstr(before, ==, after);
}

/* A relative base would make the result depend on the process's cwd. */
static void
test_relative_base_refused(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse(paths_xml);

    g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*g_path_is_absolute*");
    vnic_conf_domain_absolutize_paths(def, "srv/vms");
    g_test_assert_expected_messages();
    g_assert_cmpstr(def->kernel, ==, "boot/vmlinuz");
}

void
test_conf_paths_register(void)
{
    g_test_add_func("/conf/paths/fields", test_fields);
    g_test_add_func("/conf/paths/formatted", test_formatted);
    g_test_add_func("/conf/paths/idempotent", test_idempotent);
    g_test_add_func("/conf/paths/absolute-unchanged", test_examples_unchanged);
    g_test_add_func("/conf/paths/relative-base-refused", test_relative_base_refused);
}
