/* test-pci-libvirt.c: the libvirt policy against libvirt 9.0 itself.
 *
 * tests/data/libvirt holds inputs (NAME.in.xml) and what a real libvirt 9.0
 * made of them (NAME.libvirt.xml, or NAME.error.txt where it refused); see
 * its README.md.  For each case, every PCI device must get the address
 * libvirt gave it, every controller libvirt added must be added with the
 * same index, model and numbering, and nothing more.  Where libvirt refused
 * a layout that fits, vnic must plan it; where it refused for a reason that
 * holds for vnic too (err-NAME), vnic must refuse it. */
#include "test-pci-helpers.h"

#include <string.h>

static char *
data_path(const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);
    return g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "libvirt", file, NULL);
}

/* A key that finds "the same device" in two definitions. */
static char *
device_key(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    guint ordinal = 0;

    if (dev->kind == VNIC_CONF_DEV_INTERFACE && dev->nic->has_mac) {
        g_autofree char *mac = vnic_conf_mac_format(dev->nic->mac);
        return g_strdup_printf("interface %s", mac);
    }
    /* the members of a USB2 set share an index; their models tell them apart */
    if (dev->kind == VNIC_CONF_DEV_CONTROLLER && dev->controller->type == VNIC_CONF_CONTROLLER_USB)
        return g_strdup_printf("controller usb %u %s", dev->controller->index, dev->controller->model);
    if (dev->kind == VNIC_CONF_DEV_CONTROLLER)
        return g_strdup_printf("controller %d/%u", dev->controller->type, dev->controller->index);
    for (guint i = 0; i < def->devices->len && g_ptr_array_index(def->devices, i) != dev; i++)
        ordinal += ((VnicConfDevice *)g_ptr_array_index(def->devices, i))->kind == dev->kind;
    return g_strdup_printf("%s #%u", vnic_conf_device_kind_to_string(dev->kind), ordinal);
}

static GHashTable *
index_devices(const VnicConfDomain *def)
{
    GHashTable *map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->addr.set)
            g_hash_table_insert(map, device_key(def, d), (gpointer)d);
    }
    return map;
}

static void
assert_same_device(const char *key, const VnicConfDevice *want, const VnicConfDevice *got)
{
    g_autofree char *w = vnic_pci_addr_format(&want->addr);
    g_autofree char *g = got ? vnic_pci_addr_format(&got->addr) : g_strdup("nothing");

    if (!got || strcmp(w, g) != 0)
        g_error("%s: libvirt %s, vnic %s", key, w, g);
    if ((want->addr.multifunction == VNIC_TRISTATE_YES) != (got->addr.multifunction == VNIC_TRISTATE_YES))
        g_error("%s: multifunction differs", key);
    if (want->kind == VNIC_CONF_DEV_CONTROLLER) {
        g_assert_cmpint(want->controller->pci_model, ==, got->controller->pci_model);
        g_assert_cmpint(want->controller->chassis, ==, got->controller->chassis);
        g_assert_cmpint(want->controller->port, ==, got->controller->port);
        g_assert_cmpstr(want->controller->model_name, ==, got->controller->model_name);
        g_assert_cmpint(want->controller->bus_nr, ==, got->controller->bus_nr);
    }
}

/* err-NAME: libvirt refuses it for a reason that holds for vnic too, so
 * vnic refuses it as well, at parse (define) or plan time. */
static void
assert_refused(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = vnic_conf_domain_parse(xml, strlen(xml), &error);
    VnicPciPlanOptions opts = { .policy = VNIC_PCI_POLICY_LIBVIRT, .spare_ports = -1 };

    if (def != NULL)
        g_assert_false(vnic_pci_plan(def, &opts, &error));
    g_assert_nonnull(error);
    g_test_message("refused: %s", error->message);
}

static void
test_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_path = data_path(name, ".in.xml");
    g_autofree char *out_path = data_path(name, ".libvirt.xml");
    g_autofree char *in = NULL, *out = NULL;
    g_autoptr(VnicConfDomain) ours = NULL, theirs = NULL;
    g_autoptr(GHashTable) want = NULL, got = NULL;
    GHashTableIter iter;
    gpointer key, value;

    g_assert_true(g_file_get_contents(in_path, &in, NULL, NULL));
    if (g_str_has_prefix(name, "err-")) {
        assert_refused(in);
        return;
    }
    ours = plan_xml(in, VNIC_PCI_POLICY_LIBVIRT, -1);
    assert_unique_addresses(ours);
    if (!g_file_get_contents(out_path, &out, NULL, NULL))
        return; /* libvirt refused it (NAME.error.txt); vnic planned it */
    theirs = parse_or_die(out);
    want = index_devices(theirs);
    {
        /* libvirt's own output is valid input and needs nothing more */
        g_autoptr(VnicConfDomain) replanned = plan_xml(out, VNIC_PCI_POLICY_LIBVIRT, -1);
        g_assert_cmpuint(replanned->devices->len, ==, theirs->devices->len);
    }
    got = index_devices(ours);
    g_hash_table_iter_init(&iter, want);
    while (g_hash_table_iter_next(&iter, &key, &value))
        assert_same_device(key, value, g_hash_table_lookup(got, key));
    g_assert_cmpuint(g_hash_table_size(got), ==, g_hash_table_size(want));
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void register_replan_device_tests(void);
static void register_switch_tests(void);

void
register_libvirt_tests(void)
{
    g_autofree char *dir_path = g_build_filename(VNIC_SOURCE_DIR, "tests", "data", "libvirt", NULL);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *file;

    g_assert_nonnull(dir);
    while ((file = g_dir_read_name(dir))) {
        if (g_str_has_suffix(file, ".in.xml"))
            g_ptr_array_add(names, g_strndup(file, strlen(file) - strlen(".in.xml")));
    }
    g_ptr_array_sort(names, by_name);
    g_assert_cmpuint(names->len, >=, 20);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/pci/libvirt/%s", (char *)names->pdata[i]);
        g_test_add_data_func_full(path, g_strdup(names->pdata[i]), test_case, g_free);
    }
    register_replan_device_tests();
    register_switch_tests();
}

/* Planning a planned domain changes nothing: what `vnic plan` prints can be
 * fed back (to vnic or libvirt) and stays as it is, under both policies. */
static void
test_replan_is_stable(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_path = data_path(name, ".in.xml");
    g_autofree char *in = NULL;

    g_assert_true(g_file_get_contents(in_path, &in, NULL, NULL));
    for (VnicPciPolicy policy = VNIC_PCI_POLICY_NIC_FIRST; policy <= VNIC_PCI_POLICY_LIBVIRT; policy++) {
        g_autoptr(VnicConfDomain) once = plan_xml(in, policy, -1);
        g_autofree char *xml1 = vnic_conf_domain_format(once, VNIC_CONF_FORMAT_INACTIVE);
        g_autoptr(VnicConfDomain) twice = plan_xml(xml1, policy, -1);
        g_autofree char *xml2 = vnic_conf_domain_format(twice, VNIC_CONF_FORMAT_INACTIVE);

        g_assert_cmpstr(xml1, ==, xml2);
    }
}

void
register_replan_tests(void)
{
    static const char *const names[] = {
        "cloudstack-pc", "pc-full", "pc-useraddr", "pc-nics61", "q35-basic", "q35-full",
        "q35-e1000", "q35-userports", "q35-userports2", "pc-graphics", "pc-usb2-nomaster",
        "q35-usb2", "q35-dmi", "q35-listedports", "q35-pcie2pci", "q35-port-pcie2pci",
        "pc-busgap", "q35-busgap-pci", "q35-busgap-pci1", "pc-userbridge", "pc-vinput",
        "pc-primary2",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_strdup_printf("/pci/replan-is-stable/%s", names[i]);
        g_test_add_data_func(path, names[i], test_replan_is_stable);
    }
}

/* The same for the cases with the devices vnic places but does not run,
 * expander buses and switches. */
static void
register_replan_device_tests(void)
{
    static const char *const names[] = { "pc-alldev", "q35-alldev", "q35-hostdevs", "pc-pxb30",
                                         "pc-pxb-busnr", "q35-pxb-busnr", "q35-switch" };

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_strdup_printf("/pci/replan-is-stable/%s", names[i]);
        g_test_add_data_func(path, names[i], test_replan_is_stable);
    }
}

/* A switch with three downstream ports and two NICs: under both policies
 * the NICs use the downstream ports.  libvirt then puts the usb controller
 * on the third (as libvirt 9.0 does with this XML), leaving no port for
 * hot-plug; nic-first keeps it empty, and the next hot-plugged NIC takes it
 * (the guest numbers it lowest; hot-plug there works with the test guest). */
static guint
tc_usb_bus(const VnicConfDomain *def)
{
    const VnicConfDevice *usb = vnic_conf_domain_find_controller(def, VNIC_CONF_CONTROLLER_USB, 0);

    g_assert_nonnull(usb);
    return usb->addr.bus;
}

static void
test_switch_hotplug(void)
{
    static const char xml[] =
        "<domain type='qemu'><name>s</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
        "<devices><controller type='pci' index='1' model='pcie-root-port'/>"
        "<controller type='pci' index='2' model='pcie-switch-upstream-port'/>"
        "<controller type='pci' index='3' model='pcie-switch-downstream-port'/>"
        "<controller type='pci' index='4' model='pcie-switch-downstream-port'/>"
        "<controller type='pci' index='5' model='pcie-switch-downstream-port'/>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "</interface><interface type='ethernet'><mac address='52:54:00:00:00:02'/>"
        "<model type='virtio'/></interface></devices></domain>";

    for (VnicPciPolicy policy = VNIC_PCI_POLICY_NIC_FIRST; policy <= VNIC_PCI_POLICY_LIBVIRT; policy++) {
        g_autoptr(VnicConfDomain) def = plan_xml(xml, policy, -1);
        g_autoptr(GError) error = NULL;
        VnicConfPciAddr next;
        guint nic = 0;

        for (guint i = 0; i < def->devices->len; i++) {
            const VnicConfDevice *d = g_ptr_array_index(def->devices, i);

            if (d->kind == VNIC_CONF_DEV_INTERFACE)
                g_assert_cmpuint(d->addr.bus, ==, 3 + nic++);
        }
        if (policy == VNIC_PCI_POLICY_LIBVIRT) {
            g_assert_cmpuint(tc_usb_bus(def), ==, 5);
            continue;
        }
        g_assert_true(vnic_pci_next_nic_address(def, &next, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(next.bus, ==, 5);
        g_assert_cmpuint(next.slot, ==, 0);
    }
}

static void
register_switch_tests(void)
{
    g_test_add_func("/pci/switch/hotplug-downstream", test_switch_hotplug);
}
