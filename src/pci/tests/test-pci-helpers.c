/* test-pci-helpers.c: building, planning and inspecting test domains. */
#include "test-pci-helpers.h"

#include <string.h>


#define DOMAIN_HEAD \
    "<domain type='qemu'><name>t</name><memory unit='MiB'>128</memory>" \
    "<os><type arch='x86_64' machine='%s'>hvm</type></os>%s<devices>"

char *
domain_xml(const char *machine, const char *extra_top, const char *devices)
{
    g_autofree char *head = g_strdup_printf(DOMAIN_HEAD, machine, extra_top);
    return g_strconcat(head, devices, "</devices></domain>", NULL);
}

char *
nics_xml(guint n, const char *model)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < n; i++)
        g_string_append_printf(s,
                               "<interface type='ethernet'><mac address='52:54:00:00:%02x:%02x'/>"
                               "<model type='%s'/></interface>",
                               (i + 1) >> 8, (i + 1) & 0xff, model);
    return g_string_free(s, FALSE);
}

VnicConfDomain *
parse_or_die(const char *xml)
{
    g_autoptr(GError) error = NULL;
    VnicConfDomain *def = vnic_conf_domain_parse(xml, strlen(xml), &error);

    g_assert_no_error(error);
    return def;
}

VnicConfDomain *
plan_xml(const char *xml, VnicPciPolicy policy, gint spare)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = parse_or_die(xml);
    VnicPciPlanOptions opts = { .policy = policy, .spare_ports = spare };

    g_assert_true(vnic_pci_plan(def, &opts, &error));
    g_assert_no_error(error);
    return g_steal_pointer(&def);
}

VnicConfDomain *
plan_file(const char *name, VnicPciPolicy policy)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, name, NULL);
    g_autofree char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return plan_xml(text, policy, -1);
}

/* Plans and expects failure; returns the message. */
char *
plan_error(const char *xml, VnicPciPolicy policy, gint spare, VnicPciErrorCode code)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = parse_or_die(xml);
    VnicPciPlanOptions opts = { .policy = policy, .spare_ports = spare };
    g_autofree char *before = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    g_autofree char *after = NULL;

    g_assert_false(vnic_pci_plan(def, &opts, &error));
    g_assert_error(error, VNIC_PCI_ERROR, (gint)code);
    after = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    g_assert_cmpstr(before, ==, after); /* a failed plan changes nothing */
    return g_strdup(error->message);
}

VnicConfDevice *
nth(const VnicConfDomain *def, VnicConfDeviceKind kind, guint n)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == kind && n-- == 0)
            return d;
    }
    return NULL;
}

char *
addr_of(const VnicConfDevice *dev)
{
    g_assert_nonnull(dev);
    g_assert_true(dev->addr.set);
    return vnic_pci_addr_format(&dev->addr);
}

void
assert_addr(const VnicConfDevice *dev, const char *want)
{
    g_autofree char *got = addr_of(dev);
    g_assert_cmpstr(got, ==, want);
}

char *
preferred_name(const VnicConfDomain *def, const VnicConfDevice *nic)
{
    g_autoptr(VnicPciGuestNames) n = vnic_pci_predict_names(def, &nic->addr, nic->nic->acpi_index);
    return g_strdup(vnic_pci_guest_names_preferred(n));
}

void
assert_name(const VnicConfDomain *def, const VnicConfDevice *nic, const char *want)
{
    g_autofree char *got = preferred_name(def, nic);
    g_assert_cmpstr(got, ==, want);
}

char *
next_name(const VnicConfDomain *def, VnicConfPciAddr *out)
{
    g_autoptr(GError) error = NULL;
    VnicConfPciAddr a;
    g_autoptr(VnicPciGuestNames) n = NULL;

    g_assert_true(vnic_pci_next_nic_address(def, &a, &error));
    g_assert_no_error(error);
    if (out)
        *out = a;
    n = vnic_pci_predict_names(def, &a, 0);
    return g_strdup(vnic_pci_guest_names_preferred(n));
}

/* Simulates a hot-plug: a new NIC at the next address. */
void
hotplug_nic(VnicConfDomain *def, const VnicConfPciAddr *addr)
{
    VnicConfDevice *dev = vnic_conf_device_new(VNIC_CONF_DEV_INTERFACE);

    dev->nic->type = VNIC_CONF_NIC_ETHERNET;
    dev->nic->model = g_strdup("virtio");
    dev->addr = *addr;
    g_ptr_array_add(def->devices, dev);
}

guint
count_pci_controllers(const VnicConfDomain *def, VnicConfPciModel model)
{
    guint n = 0;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        n += d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->pci_model == model;
    }
    return n;
}

/* Every addressed device has a distinct bus:slot.function. */
void
assert_unique_addresses(const VnicConfDomain *def)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (!d->addr.set)
            continue;
        char *key = vnic_pci_addr_format(&d->addr);
        g_assert_false(g_hash_table_contains(seen, key));
        g_hash_table_add(seen, key);
    }
}

