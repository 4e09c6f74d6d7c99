/* test-conf-rules.c: what conf does like libvirt 9.0 for issue #7 §1 —
 * implicit video for <graphics>, the primary video first, USB defaults and
 * USB2 companions, the all-zero address, and the define-time errors
 * libvirt gives (duplicate disk target, qemu-xhci ports, videos, USB
 * masters).  The measurements are in tests/data/libvirt. */
#include "test-conf-util.h"

#include <string.h>

#define USB2_NO_MASTER                                                        \
    "<controller type='usb' index='0' model='ich9-ehci1'/>"                  \
    "<controller type='usb' index='0' model='ich9-uhci1'/>"                  \
    "<controller type='usb' index='0' model='ich9-uhci2'/>"                  \
    "<controller type='usb' index='0' model='ich9-uhci3'/>"

static void
test_graphics_adds_cirrus(gconstpointer data)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(data, "<graphics type='vnc'/>");
    g_autofree char *xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);
    VnicConfDevice *video = tc_nth(def, VNIC_CONF_DEV_VIDEO, 0);

    g_assert_nonnull(video);
    g_assert_true(video->added_by_vnic);
    g_assert_cmpstr(video->model, ==, "cirrus");
    g_assert_nonnull(strstr(xml, "<video>\n      <model type='cirrus' vram='16384' heads='1' "
                                 "primary='yes'/>"));
    /* idempotent, and no second video when one is given */
    vnic_conf_domain_add_defaults(def);
    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_VIDEO), ==, 1);
}

static void
test_no_graphics_no_video(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", "<graphics type='vnc'/>"
                                                           "<video><model type='qxl'/></video>");
    g_autoptr(VnicConfDomain) bare = tc_parse_devices("pc", "");

    g_assert_cmpuint(tc_count(def, VNIC_CONF_DEV_VIDEO), ==, 1);
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_VIDEO, 0)->model, ==, "qxl");
    g_assert_cmpuint(tc_count(bare, VNIC_CONF_DEV_VIDEO), ==, 0);
}

static void
test_primary_video_first(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<video><model type='virtio'/></video><video><model type='qxl' primary='yes'/></video>");

    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_VIDEO, 0)->model, ==, "qxl");
    g_assert_cmpstr(tc_nth(def, VNIC_CONF_DEV_VIDEO, 1)->model, ==, "virtio");
}

static void
test_usb_default_models(void)
{
    g_autoptr(VnicConfDomain) listed = tc_parse_devices("q35", "<controller type='usb'/>");
    g_autoptr(VnicConfDomain) implicit = tc_parse_devices("q35", "");

    g_assert_cmpstr(tc_nth(listed, VNIC_CONF_DEV_CONTROLLER, 0)->controller->model, ==,
                    "piix3-uhci");
    for (guint i = 0; i < implicit->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(implicit->devices, i);
        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == VNIC_CONF_CONTROLLER_USB)
            g_assert_cmpstr(d->controller->model, ==, "qemu-xhci");
    }
}

static void
test_usb2_companions(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices("pc", USB2_NO_MASTER);
    g_autofree char *xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);

    g_assert_false(tc_nth(def, VNIC_CONF_DEV_CONTROLLER, 0)->controller->usb_companion);
    for (guint n = 1; n <= 3; n++) {
        VnicConfController *c = tc_nth(def, VNIC_CONF_DEV_CONTROLLER, n)->controller;
        g_assert_true(c->usb_companion);
        g_assert_cmpuint(c->master_startport, ==, (n - 1) * 2);
    }
    g_assert_nonnull(strstr(xml, "model='ich9-uhci3'>\n      <master startport='4'/>"));
}

static void
test_zero_address_is_none(void)
{
    g_autoptr(VnicConfDomain) def = tc_parse_devices(
        "pc", "<interface type='ethernet'><address type='pci' domain='0x0000' bus='0x00' "
              "slot='0x00' function='0x0'/></interface>");
    g_autofree char *xml = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE);

    g_assert_false(tc_nth(def, VNIC_CONF_DEV_INTERFACE, 0)->addr.set);
    g_assert_null(strstr(xml, "slot='0x00'"));
}

typedef struct {
    const char *name;
    const char *machine;
    const char *devices;
    VnicConfErrorCode code;
    const char *needles[4];
} RuleError;

#define DISK(dev) "<disk type='file' device='disk'><source file='/x'/><target dev='" dev "'/></disk>"

static const RuleError rule_errors[] = {
    { "duplicate-disk-target", "pc", DISK("vda") DISK("vda"), VNIC_CONF_ERROR_CONFLICT,
      { "disk #2", "<target dev='vda'>", "disk #1", NULL } },
    { "xhci-16-ports", "q35", "<controller type='usb' model='qemu-xhci' ports='16'/>",
      VNIC_CONF_ERROR_INVALID, { "'16'", "<controller ports>", "at most 15", NULL } },
    { "ports-on-uhci", "pc", "<controller type='usb' model='piix3-uhci' ports='4'/>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "ports='4'", "only xhci", NULL } },
    { "two-primary-videos", "pc",
      "<video><model type='qxl' primary='yes'/></video>"
      "<video><model type='virtio' primary='yes'/></video>",
      VNIC_CONF_ERROR_CONFLICT, { "video #2", "primary='yes'", NULL } },
    { "secondary-cirrus", "pc", "<video><model type='qxl'/></video><video><model type='cirrus'/></video>",
      VNIC_CONF_ERROR_UNSUPPORTED, { "video #2", "'cirrus'", "<model type>", NULL } },
    { "uhci-master-without-ehci", "pc",
      "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>",
      VNIC_CONF_ERROR_CONFLICT, { "controller #1", "<master startport='0'>", "ich9-ehci1", NULL } },
};

static void
test_rule_error(gconstpointer data)
{
    const RuleError *c = data;
    g_autofree char *xml = tc_domain_xml(c->machine, c->devices);

    tc_assert_parse_error(xml, c->code, c->needles);
}

void
test_conf_rules_register(void)
{
    g_test_add_data_func("/conf/rules/graphics-adds-cirrus/pc", "pc", test_graphics_adds_cirrus);
    g_test_add_data_func("/conf/rules/graphics-adds-cirrus/q35", "q35", test_graphics_adds_cirrus);
    g_test_add_func("/conf/rules/no-graphics-no-video", test_no_graphics_no_video);
    g_test_add_func("/conf/rules/primary-video-first", test_primary_video_first);
    g_test_add_func("/conf/rules/usb-default-models", test_usb_default_models);
    g_test_add_func("/conf/rules/usb2-companions", test_usb2_companions);
    g_test_add_func("/conf/rules/zero-address", test_zero_address_is_none);
    for (gsize i = 0; i < G_N_ELEMENTS(rule_errors); i++) {
        g_autofree char *path = g_strdup_printf("/conf/rules/error/%s", rule_errors[i].name);
        g_test_add_data_func(path, &rule_errors[i], test_rule_error);
    }
}
