/* test-conf-overlay.c: the formatter's two device backends write the same
 * text.
 *
 * vnic_conf_domain_format() writes a domain's devices through the overlay
 * (no libxml2 tree); vnic_conf_domain_format_tree() through the tree edits
 * the formatter always had.  Both are run on every XML file of the test
 * data and the examples, as parsed and after every field the formatter
 * writes was changed the way the planner and the daemon change them, and on
 * namespace cases the overlay must hand to the tree.
 */
#include "test-conf-util.h"

#include <string.h>

static const VnicConfFormatFlags all_flags[] = {
    VNIC_CONF_FORMAT_STATUS, VNIC_CONF_FORMAT_INACTIVE, VNIC_CONF_FORMAT_MIGRATABLE,
    VNIC_CONF_FORMAT_INACTIVE | VNIC_CONF_FORMAT_MIGRATABLE,
};

static void
assert_same(const VnicConfDomain *def, const char *what)
{
    for (guint i = 0; i < G_N_ELEMENTS(all_flags); i++) {
        g_autofree char *overlay = vnic_conf_domain_format(def, all_flags[i]);
        g_autofree char *tree = vnic_conf_domain_format_tree(def, all_flags[i]);

        if (g_strcmp0(overlay, tree) != 0)
            g_error("%s, flags %d: overlay and tree differ\n--- overlay:\n%s\n--- tree:\n%s",
                    what, all_flags[i], overlay, tree);
    }
}

/* What the planner and the daemon write into parsed devices: addresses
 * set and cleared, aliases, host names, NIC options, vnic elements. */
static void
change_fields(VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        dev->addr.set = i % 4 != 3;
        dev->addr.bus = i % 3;
        dev->addr.slot = 1 + i % 31;
        dev->addr.function = i % 2;
        dev->addr.multifunction = (VnicTristate) (i % 3);
        g_free(dev->alias);
        dev->alias = i % 3 == 0 ? NULL : g_strdup_printf(i % 3 == 1 ? "ua-d%u" : "net%u", i);
        if (!vnic_conf_device_is_nic(dev))
            continue;
        dev->nic->guest_unplug = (VnicTristate) (i % 3);
        dev->nic->link_up = (VnicTristate) ((i + 1) % 3);
        dev->nic->mtu = i % 2 ? 1400 + i : 0;
        dev->nic->queues = i % 5;
        dev->nic->acpi_index = i % 4 == 1 ? i + 1 : 0;
        g_free(dev->nic->target_dev);
        dev->nic->target_dev = i % 2 ? g_strdup_printf("vnic%ut", i) : NULL;
        g_free(dev->nic->model);
        dev->nic->model = i % 6 == 5 ? NULL : g_strdup("virtio");
        dev->nic->reconnect = i % 2 ? VNIC_CONF_RECONNECT_DEFAULT : VNIC_CONF_RECONNECT_OFF;
    }
}

static guint
check_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint parsed = 0;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *xml = NULL;
        gsize len;
        g_autoptr(VnicConfDomain) def = NULL;

        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            parsed += check_dir(path);
            continue;
        }
        if (!g_str_has_suffix(name, ".xml") || !g_file_get_contents(path, &xml, &len, NULL))
            continue;
        def = vnic_conf_domain_parse(xml, len, NULL);
        if (def == NULL)
            continue;
        parsed++;
        assert_same(def, path);
        change_fields(def);
        assert_same(def, path);
    }
    return parsed;
}

static void
test_every_file(void)
{
    guint parsed = check_dir(VNIC_CONF_TEST_DATA) + check_dir(VNIC_EXAMPLES_DIR) +
                   check_dir(VNIC_TESTS_DATA_DIR);

    g_test_message("%u domains formatted both ways", parsed);
    /* src/conf/tests/data, examples and tests/data hold well over 100 */
    g_assert_cmpuint(parsed, >=, 100);
}

/* Namespaces in and around devices, comments, text, many attributes: the
 * overlay writes what it can, hands the rest to the tree, and either way
 * the text is the same. */
static void
test_edge_cases(void)
{
    static const char *const devices[] = {
        /* a foreign element and attribute, the prefix declared on the root */
        "<interface type='bridge' x:a='1'><x:thing x:b='2'/><source bridge='br0'/></interface>",
        /* declared on the device or on a child: the tree declares it there */
        "<interface type='bridge' xmlns:y='urn:y'><y:t/><source bridge='br0'/></interface>",
        "<interface type='bridge'><mac address='52:54:00:00:00:01' xmlns:y='urn:y' y:c='3'/>"
        "<source bridge='br0'/></interface>",
        /* vnic's elements with the root's prefix and with their own */
        "<interface type='bridge'><source bridge='br0'/><v:unplug guest='deny'/></interface>",
        "<interface type='bridge' xmlns:w='urn:x-vnic:domain:1'><source bridge='br0'/>"
        "<w:unplug guest='deny'/></interface>",
        /* comments, text deeper down, xml:lang, escapes in values */
        "<interface type='bridge'><!-- c --><mac address='52:54:00:00:00:02'><!-- in --></mac>"
        "<source bridge='br0'/><bandwidth><inbound average='1'>t&amp;x</inbound></bandwidth>"
        "</interface>",
        "<interface type='bridge' xml:lang='en'><source bridge='b&amp;&lt;&quot;&#9;&#10;r'/>"
        "</interface>",
        "<disk type='block' device='disk'><source dev='/dev/x'/><target dev='vdb'/>"
        "<address type='drive' controller='0' bus='0' target='0' unit='1'/></disk>",
        "<controller type='pci' index='1' model='pcie-root-port'><target chassis='1' port='0x10'/>"
        "</controller>",
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
    };

    for (guint i = 0; i < G_N_ELEMENTS(devices); i++) {
        for (guint root = 0; root < 4; root++) {
            /* no declarations, the test's prefixes, a default namespace, and
             * vnic's namespace under two prefixes (new vnic elements of a
             * device that uses the second take that one in the tree) */
            const char *decls =
                root == 0   ? ""
                : root == 1 ? " xmlns:x='urn:x' xmlns:v='urn:x-vnic:domain:1'"
                : root == 2 ? " xmlns:x='urn:x' xmlns='urn:default'"
                            : " xmlns:x='urn:x' xmlns:vnic='urn:x-vnic:domain:1' "
                              "xmlns:v='urn:x-vnic:domain:1'";
            g_autofree char *xml = g_strdup_printf(
                "<domain type='qemu'%s><name>e</name><memory>1024</memory>"
                "<os><type machine='q35'>hvm</type></os><devices>%s</devices></domain>",
                decls, devices[i]);
            g_autofree char *what = g_strdup_printf("device %u, root %u", i, root);
            g_autoptr(VnicConfDomain) def = vnic_conf_domain_parse(xml, strlen(xml), NULL);

            if (def == NULL)
                continue;
            assert_same(def, what);
            change_fields(def);
            assert_same(def, what);
            /* and a new vnic element in every NIC */
            for (guint d = 0; d < def->devices->len; d++) {
                VnicConfDevice *dev = g_ptr_array_index(def->devices, d);

                if (vnic_conf_device_is_nic(dev))
                    dev->nic->reconnect = VNIC_CONF_RECONNECT_OFF;
            }
            assert_same(def, what);
        }
    }
}

/* A device with more attributes and children than the overlay's arrays:
 * the tree formats it, the text is the same. */
static void
test_big_device(void)
{
    g_autoptr(GString) dev = g_string_new("<interface type='bridge'><source bridge='br0'/>");
    g_autofree char *xml = NULL;
    g_autoptr(VnicConfDomain) def = NULL;

    for (guint i = 0; i < 60; i++)
        g_string_append_printf(dev, "<ip address='10.0.%u.1' prefix='24'/>", i);
    g_string_append(dev, "</interface>");
    xml = tc_domain_xml("q35", dev->str);
    def = tc_parse(xml);
    assert_same(def, "60 children");
    change_fields(def);
    assert_same(def, "60 children, changed");
}

void
test_conf_overlay_register(void)
{
    g_test_add_func("/conf/format/overlay/every-file", test_every_file);
    g_test_add_func("/conf/format/overlay/edge-cases", test_edge_cases);
    g_test_add_func("/conf/format/overlay/big-device", test_big_device);
}
