/* conf-parse-nic-extra.c: the parts of an <interface> beyond plugging it:
 * <bandwidth>, <driver name>, <virtualport>, and the rules a vhost-user
 * interface adds.
 *
 * <bandwidth> is modeled as libvirt reads it: <inbound> (traffic to the
 * guest) and <outbound> (from the guest), each with average and peak
 * (libvirt documents KiB/s; see host-bandwidth.c for what tc gets) and
 * burst in KiB; average is required.  `floor` only means
 * something on a libvirt network with QoS accounting, which vnic's
 * networks do not have: refused.  <virtualport> (Open vSwitch, 802.1Qbg,
 * 802.1Qbh, midonet) needs a switch vnic does not drive: refused.
 * The elements stay in the document and are written back as they came.
 */
#include "conf/conf-priv.h"

#include <string.h>

/* libvirt keeps rates in unsigned long long; tc takes 32-bit bytes/s for
 * the classic attributes (rates are handed over as tc's kbps, 1000 bytes/s,
 * bursts as kb, 1024 bytes), so the limit is what fits there. */
#define RATE_MAX_KIB (G_MAXUINT32 / 1024)

static gboolean
parse_rate(xmlNode *bandwidth, const char *name, VnicConfRate *rate, GError **error)
{
    static const char *const attrs[] = { "average", "peak", "burst", "floor", NULL };
    xmlNode *node;
    gboolean present = FALSE;
    g_autofree char *floor = NULL;

    if (!vnic_conf_xml_single_child(bandwidth, name, &node, error))
        return FALSE;
    if (node == NULL)
        return TRUE;
    if (!vnic_conf_xml_check_attrs(node, attrs, error))
        return FALSE;
    if ((floor = vnic_conf_xml_prop(node, "floor")) != NULL) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "<%s floor='%s'> is not supported: a floor needs a libvirt network with "
                    "QoS accounting, vnic's networks have none", name, floor);
        return FALSE;
    }
    if (!vnic_conf_xml_prop_uint(node, "average", FALSE, 1, RATE_MAX_KIB, &rate->average,
                                 &present, error))
        return FALSE;
    if (!present)
        return vnic_conf_xml_missing_attr(node, "average", error);
    if (!vnic_conf_xml_prop_uint(node, "peak", FALSE, 0, RATE_MAX_KIB, &rate->peak, &present,
                                 error) ||
        !vnic_conf_xml_prop_uint(node, "burst", FALSE, 0, RATE_MAX_KIB, &rate->burst, &present,
                                 error))
        return FALSE;
    if (rate->peak != 0 && rate->peak < rate->average) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%" G_GUINT64_FORMAT "' for <%s peak>: it is below "
                    "average='%" G_GUINT64_FORMAT "'", rate->peak, name, rate->average);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_bandwidth(xmlNode *node, VnicConfNic *nic, GError **error)
{
    xmlNode *bandwidth;

    if (!vnic_conf_xml_single_child(node, "bandwidth", &bandwidth, error))
        return FALSE;
    if (bandwidth == NULL)
        return TRUE;
    return parse_rate(bandwidth, "inbound", &nic->inbound, error) &&
           parse_rate(bandwidth, "outbound", &nic->outbound, error);
}

static gboolean
parse_driver_name(xmlNode *node, VnicConfNic *nic, GError **error)
{
    static const char *const names[] = { "qemu", "vhost", NULL };
    xmlNode *driver = vnic_conf_xml_child(node, "driver");

    if (driver == NULL)
        return TRUE;
    return vnic_conf_xml_prop_choice(driver, "name", names, VNIC_CONF_ERROR_UNSUPPORTED,
                                     &nic->driver_name, error);
}

/* vhost-user is a virtio-net device whose queues another process serves. */
static gboolean
check_vhostuser(const VnicConfNic *nic, GError **error)
{
    if (nic->type != VNIC_CONF_NIC_VHOSTUSER)
        return TRUE;
    if (!g_str_has_prefix(nic->model, "virtio")) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<interface type='vhostuser'> needs a virtio model, not <model type='%s'>",
                    nic->model);
        return FALSE;
    }
    if (nic->mtu != 0 || nic->link_up == VNIC_TRISTATE_NO || nic->target_dev != NULL ||
        nic->inbound.average != 0 || nic->outbound.average != 0) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "<interface type='vhostuser'> with <mtu>, <link state='down'>, <target "
                    "dev> or <bandwidth> is not supported: there is no host link, the "
                    "vhost-user backend owns the data path");
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_parse_interface_extra(xmlNode *node, VnicConfNic *nic, GError **error)
{
    return parse_bandwidth(node, nic, error) && parse_driver_name(node, nic, error) &&
           check_vhostuser(nic, error);
}

gboolean
vnic_conf_domain_memory_shared(const VnicConfDomain *def)
{
    xmlNode *root = def->doc != NULL ? xmlDocGetRootElement(def->doc) : NULL;
    xmlNode *backing = root != NULL ? vnic_conf_xml_child(root, "memoryBacking") : NULL;
    xmlNode *access = backing != NULL ? vnic_conf_xml_child(backing, "access") : NULL;
    g_autofree char *mode = access != NULL ? vnic_conf_xml_prop(access, "mode") : NULL;

    return g_strcmp0(mode, "shared") == 0;
}

/* A vhost-user backend maps the guest's RAM: it must be shared.  libvirt
 * 9.0 only warns when it is not, and QEMU 7.2 then fails the device (or
 * crashes when the guest's driver starts it): vnic refuses at define. */
gboolean
vnic_conf_check_vhostuser_memory(const VnicConfDomain *def, xmlNode *root, GError **error)
{
    xmlNode *backing = vnic_conf_xml_child(root, "memoryBacking");
    xmlNode *access = backing != NULL ? vnic_conf_xml_child(backing, "access") : NULL;
    g_autofree char *mode = access != NULL ? vnic_conf_xml_prop(access, "mode") : NULL;
    guint n = 0;

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind != VNIC_CONF_DEV_INTERFACE)
            continue;
        n++;
        if (dev->nic->type == VNIC_CONF_NIC_VHOSTUSER && g_strcmp0(mode, "shared") != 0) {
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                        "interface #%u: <interface type='vhostuser'> needs the guest's memory "
                        "shared with its backend: add <memoryBacking><source type='memfd'/>"
                        "<access mode='shared'/></memoryBacking>", n);
            return FALSE;
        }
    }
    return TRUE;
}
