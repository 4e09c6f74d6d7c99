/* test-conf-util.c: helpers shared by the conf layer's tests.
 *
 * The tests (unlike the layer) may read files: data XML lives in
 * src/conf/tests/data and examples/, found through paths meson compiles in.
 */
#include "test-conf-util.h"

#include <string.h>

static char *
read_file(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &error))
        g_error("cannot read %s: %s", path, error->message);
    return text;
}

char *
tc_read_data(const char *name)
{
    return read_file(VNIC_CONF_TEST_DATA, name);
}

char *
tc_read_example(const char *name)
{
    return read_file(VNIC_EXAMPLES_DIR, name);
}

char *
tc_domain_xml(const char *machine, const char *devices)
{
    return g_strdup_printf("<domain type='qemu' xmlns:vnic='urn:x-vnic:domain:1'>"
                           "<name>t</name><memory unit='MiB'>64</memory>"
                           "<os><type arch='x86_64' machine='%s'>hvm</type></os>"
                           "<devices>%s</devices></domain>",
                           machine, devices);
}

VnicConfDomain *
tc_parse(const char *xml)
{
    g_autoptr(GError) error = NULL;
    VnicConfDomain *def = vnic_conf_domain_parse(xml, strlen(xml), &error);

    g_assert_no_error(error);
    g_assert_nonnull(def);
    return def;
}

VnicConfDomain *
tc_parse_devices(const char *machine, const char *devices)
{
    g_autofree char *xml = tc_domain_xml(machine, devices);

    return tc_parse(xml);
}

void
tc_assert_parse_error(const char *xml, VnicConfErrorCode code, const char *const *needles)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = vnic_conf_domain_parse(xml, strlen(xml), &error);

    g_assert_null(def);
    g_assert_error(error, VNIC_CONF_ERROR, (gint) code);
    g_test_message("%s", error->message);
    for (guint i = 0; needles != NULL && needles[i] != NULL; i++) {
        if (strstr(error->message, needles[i]) == NULL)
            g_error("message \"%s\" lacks \"%s\"", error->message, needles[i]);
    }
}

VnicConfDevice *
tc_nth(const VnicConfDomain *def, VnicConfDeviceKind kind, guint n)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == kind && n-- == 0)
            return dev;
    }
    return NULL;
}

guint
tc_count(const VnicConfDomain *def, VnicConfDeviceKind kind)
{
    guint n = 0;

    for (guint i = 0; i < def->devices->len; i++) {
        if (((VnicConfDevice *) g_ptr_array_index(def->devices, i))->kind == kind)
            n++;
    }
    return n;
}
