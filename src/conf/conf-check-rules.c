/* conf-check-rules.c: libvirt 9.0's define-time rules that need several
 * devices at once and are not about one element's syntax.
 *
 * Owns: one primary video at most; a secondary video only of a model that
 * can be one (qxl, virtio: vga, cirrus and bochs are "only valid as primary
 * video device"); a UHCI with <master startport> needs the ich9-ehci1 it
 * is the companion of ("No master USB controller specified").  Measured on
 * a real libvirt 9.0: tests/data/libvirt/err-*.  Pure: reads the domain.
 */
#include "conf/conf-priv.h"

#include <string.h>

static gboolean
video_says_primary(const VnicConfDevice *dev)
{
    xmlNode *model = dev->node != NULL ? vnic_conf_xml_child(dev->node, "model") : NULL;
    g_autofree char *primary = model != NULL ? vnic_conf_xml_prop(model, "primary") : NULL;

    return g_strcmp0(primary, "yes") == 0;
}

static gboolean
check_videos(const VnicConfDomain *def, GError **error)
{
    static const char *const primary_only[] = { "vga", "cirrus", "bochs", NULL };
    const VnicConfDevice *primary = NULL, *first = NULL;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind != VNIC_CONF_DEV_VIDEO)
            continue;
        if (first == NULL)
            first = dev;
        if (!video_says_primary(dev))
            continue;
        if (primary != NULL) {
            g_autofree char *label = vnic_conf_device_label(def, dev);
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                        "%s: <model primary='yes'> is already set on another video: a domain "
                        "has one primary video",
                        label);
            return FALSE;
        }
        primary = dev;
    }
    if (primary == NULL)
        primary = first;
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        g_autofree char *label = NULL;

        if (dev->kind != VNIC_CONF_DEV_VIDEO || dev == primary ||
            !g_strv_contains(primary_only, dev->model))
            continue;
        label = vnic_conf_device_label(def, dev);
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "%s: unsupported value '%s' for <model type> of a secondary video: '%s' "
                    "can only be the primary video (a second video must be qxl or virtio)",
                    label, dev->model, dev->model);
        return FALSE;
    }
    return TRUE;
}

static gboolean
has_ehci(const VnicConfDomain *def, guint index)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        if (d->kind == VNIC_CONF_DEV_CONTROLLER && d->controller->type == VNIC_CONF_CONTROLLER_USB &&
            d->controller->index == index && g_strcmp0(d->controller->model, "ich9-ehci1") == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
check_usb_companions(const VnicConfDomain *def, GError **error)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        g_autofree char *label = NULL;

        if (d->kind != VNIC_CONF_DEV_CONTROLLER || !d->controller->usb_companion ||
            has_ehci(def, d->controller->index))
            continue;
        label = vnic_conf_device_label(def, d);
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "%s: <master startport='%u'> names no master: there is no "
                    "<controller type='usb' index='%u' model='ich9-ehci1'>",
                    label, d->controller->master_startport, d->controller->index);
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_check_rules(const VnicConfDomain *def, GError **error)
{
    return check_videos(def, error) && check_usb_companions(def, error);
}
