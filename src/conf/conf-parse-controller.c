/* conf-parse-controller.c: <controller> into VnicConfController.
 *
 * Owns which controller types and models vnic accepts, libvirt's default
 * models (usb piix3-uhci, scsi lsilogic), the lowest-unused-index rule for
 * controllers written without an index, and the checks that need all
 * controllers at once: the root PCI controller matching the machine, and
 * no two controllers of one type sharing an index, except the ICH9 USB2
 * companions of an ich9-ehci1 (whose <master startport> is filled in as
 * libvirt does); and usb ports= (qemu-xhci: at most 15).
 */
#include "conf/conf-priv.h"

#include <string.h>

VnicConfPciModel
vnic_conf_root_pci_model(VnicMachineFamily family)
{
    return family == VNIC_MACHINE_Q35 ? VNIC_CONF_PCI_MODEL_PCIE_ROOT
                                      : VNIC_CONF_PCI_MODEL_PCI_ROOT;
}

static gboolean
pci_model_is_root(VnicConfPciModel model)
{
    return model == VNIC_CONF_PCI_MODEL_PCI_ROOT || model == VNIC_CONF_PCI_MODEL_PCIE_ROOT;
}

static VnicConfPciModel
pci_model_from_string(const char *model)
{
    for (guint i = VNIC_CONF_PCI_MODEL_PCI_ROOT; vnic_conf_pci_model_names[i] != NULL; i++) {
        if (strcmp(vnic_conf_pci_model_to_string(i), model) == 0)
            return i;
    }
    return VNIC_CONF_PCI_MODEL_NONE;
}

static gboolean
pci_model_needs_pcie(VnicConfPciModel model)
{
    return model == VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT ||
           model == VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE ||
           model == VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE ||
           model == VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS ||
           model == VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT ||
           model == VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT ||
           model == VNIC_CONF_PCI_MODEL_PCIE_ROOT;
}

static gboolean
parse_pci_target(xmlNode *node, VnicConfController *ctrl, GError **error)
{
    guint64 chassis = 0, chassis_nr = 0, port = 0, bus_nr = 0;
    gboolean has_chassis = FALSE, has_chassis_nr = FALSE, has_port = FALSE, has_bus_nr = FALSE;
    xmlNode *target;

    if (!vnic_conf_xml_single_child(node, "target", &target, error))
        return FALSE;
    if (target == NULL)
        return TRUE;
    if (!vnic_conf_xml_prop_uint(target, "chassisNr", FALSE, 1, 255, &chassis_nr,
                                 &has_chassis_nr, error) ||
        !vnic_conf_xml_prop_uint(target, "chassis", FALSE, 0, 255, &chassis, &has_chassis,
                                 error) ||
        !vnic_conf_xml_prop_uint(target, "port", TRUE, 0, 255, &port, &has_port, error) ||
        !vnic_conf_xml_prop_uint(target, "busNr", FALSE, 1, 254, &bus_nr, &has_bus_nr, error) ||
        !vnic_conf_xml_prop_tristate(target, "hotplug", "on", "off", &ctrl->hotplug, error))
        return FALSE;
    ctrl->chassis_nr = has_chassis_nr ? (gint) chassis_nr : -1;
    ctrl->chassis = has_chassis ? (gint) chassis : -1;
    ctrl->port = has_port ? (gint) port : -1;
    ctrl->bus_nr = has_bus_nr ? (gint) bus_nr : -1;
    return TRUE;
}

static gboolean
parse_pci(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfController *ctrl, GError **error)
{
    xmlNode *model;

    if (ctrl->model != NULL) {
        ctrl->pci_model = pci_model_from_string(ctrl->model);
        if (ctrl->pci_model == VNIC_CONF_PCI_MODEL_NONE) {
            g_autofree char *choices = g_strjoinv(", ", (char **) &vnic_conf_pci_model_names[1]);

            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                        "unsupported value '%s' for <controller model>: not supported by "
                        "vnic's planner, which knows %s",
                        ctrl->model, choices);
            return FALSE;
        }
    }
    if (ctx->family == VNIC_MACHINE_PC && pci_model_needs_pcie(ctrl->pci_model)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<controller model='%s'> needs a q35 machine: a pc (i440fx) machine has "
                    "conventional PCI only",
                    ctrl->model);
        return FALSE;
    }
    if (ctx->family == VNIC_MACHINE_Q35 &&
        ctrl->pci_model == VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<controller model='pci-expander-bus'> needs a pc (i440fx) machine: on "
                    "q35 use 'pcie-expander-bus'");
        return FALSE;
    }
    if (ctx->family == VNIC_MACHINE_Q35 && ctrl->pci_model == VNIC_CONF_PCI_MODEL_PCI_ROOT) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<controller model='pci-root'> does not fit a q35 machine, whose root is "
                    "'pcie-root'");
        return FALSE;
    }
    if (!vnic_conf_xml_single_child(node, "model", &model, error))
        return FALSE;
    if (model != NULL)
        ctrl->model_name = vnic_conf_xml_prop(model, "name");
    return parse_pci_target(node, ctrl, error);
}

static gboolean
parse_model_choice(xmlNode *node, VnicConfController *ctrl, const char *const *allowed,
                   GError **error)
{
    g_clear_pointer(&ctrl->model, g_free);
    return vnic_conf_xml_prop_choice(node, "model", allowed, VNIC_CONF_ERROR_UNSUPPORTED,
                                     &ctrl->model, error);
}

/* ports= (xhci only; qemu-xhci has at most 15, as libvirt checks) and
 * <master startport> of a USB2 companion. */
static gboolean
parse_usb(xmlNode *node, VnicConfController *ctrl, GError **error)
{
    guint64 ports = 0, start = 0;
    gboolean has_ports = FALSE;
    xmlNode *master;

    if (!vnic_conf_xml_prop_uint(node, "ports", FALSE, 1, 255, &ports, &has_ports, error) ||
        !vnic_conf_xml_single_child(node, "master", &master, error))
        return FALSE;
    if (has_ports && g_strcmp0(ctrl->model, "qemu-xhci") == 0 && ports > 15) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "invalid value '%" G_GUINT64_FORMAT "' for <controller ports>: a "
                    "'qemu-xhci' controller has at most 15 ports",
                    ports);
        return FALSE;
    }
    if (has_ports && !g_str_has_suffix(ctrl->model, "xhci")) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                    "<controller type='usb' model='%s' ports='%" G_GUINT64_FORMAT "'>: only "
                    "xhci controllers have a port count",
                    ctrl->model, ports);
        return FALSE;
    }
    ctrl->ports = (guint) ports;
    if (master == NULL)
        return TRUE;
    if (!vnic_conf_xml_prop_uint(master, "startport", FALSE, 0, 255, &start, NULL, error))
        return FALSE;
    ctrl->usb_companion = TRUE;
    ctrl->master_startport = (guint) start;
    return TRUE;
}

static gboolean
parse_by_type(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfController *ctrl,
              GError **error)
{
    static const char *const usb_models[] = { "piix3-uhci", "piix4-uhci", "ich9-ehci1",
                                              "ich9-uhci1", "ich9-uhci2", "ich9-uhci3",
                                              "qemu-xhci", "nec-xhci", "none",
                                              /* also libvirt 9.0's on x86 */
                                              "ehci", "pci-ohci", "vt82c686b-uhci", NULL };
    static const char *const scsi_models[] = { "virtio-scsi", "virtio-transitional",
                                               "virtio-non-transitional", "lsilogic", "lsisas1068",
                                               "megasas", "vmpvscsi", "lsisas1078", "dc390",
                                               "am53c974", "auto", NULL };
    static const char *const sata_models[] = { "ahci", NULL };
    guint64 ports = 0;

    switch (ctrl->type) {
    case VNIC_CONF_CONTROLLER_PCI:
        return parse_pci(ctx, node, ctrl, error);
    case VNIC_CONF_CONTROLLER_USB:
        if (!parse_model_choice(node, ctrl, usb_models, error))
            return FALSE;
        /* libvirt 9.0 gives a listed USB controller without a model
         * piix3-uhci on q35 too (measured: q35-usb-nomodel); only the
         * implicit one (conf-defaults.c) is a qemu-xhci there. */
        if (ctrl->model == NULL)
            ctrl->model = g_strdup("piix3-uhci");
        return parse_usb(node, ctrl, error);
    case VNIC_CONF_CONTROLLER_SCSI:
        if (!parse_model_choice(node, ctrl, scsi_models, error))
            return FALSE;
        /* libvirt resolves 'auto' to its default at define, and writes that */
        if (g_strcmp0(ctrl->model, "auto") == 0)
            g_clear_pointer(&ctrl->model, g_free);
        if (ctrl->model == NULL)
            ctrl->model = g_strdup("lsilogic");
        return TRUE;
    case VNIC_CONF_CONTROLLER_SATA:
        return parse_model_choice(node, ctrl, sata_models, error);
    case VNIC_CONF_CONTROLLER_VIRTIO_SERIAL:
        if (!vnic_conf_xml_prop_uint(node, "ports", FALSE, 1, 511, &ports, NULL, error))
            return FALSE;
        ctrl->ports = (guint) ports;
        return TRUE;
    case VNIC_CONF_CONTROLLER_FDC:
    case VNIC_CONF_CONTROLLER_CCID:
        return TRUE; /* not PCI: carried along */
    case VNIC_CONF_CONTROLLER_IDE:
        if (ctx->family == VNIC_MACHINE_Q35) {
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_UNSUPPORTED,
                        "<controller type='ide'> is not possible: q35 machines have no IDE");
            return FALSE;
        }
        return TRUE;
    }
    return TRUE;
}

gboolean
vnic_conf_parse_controller(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                           GError **error)
{
    VnicConfController *ctrl = dev->controller;
    g_autofree char *type = NULL;
    guint64 index = 0;
    gboolean has_index = FALSE;

    if (!vnic_conf_xml_prop_choice(node, "type", vnic_conf_controller_type_names, VNIC_CONF_ERROR_UNSUPPORTED,
                                   &type, error))
        return FALSE;
    if (type == NULL)
        return vnic_conf_xml_missing_attr(node, "type", error);
    for (guint i = 0; vnic_conf_controller_type_names[i] != NULL; i++) {
        if (strcmp(vnic_conf_controller_type_names[i], type) == 0)
            ctrl->type = i;
    }
    if (!vnic_conf_xml_prop_uint(node, "index", FALSE, 0, 255, &index, &has_index, error))
        return FALSE;
    ctrl->index = has_index ? (guint) index : VNIC_CONF_INDEX_UNSET;
    ctrl->model = vnic_conf_xml_prop(node, "model");
    return parse_by_type(ctx, node, ctrl, error);
}

static gboolean
index_in_use(const VnicConfDomain *def, VnicConfControllerType type, guint index)
{
    return vnic_conf_domain_find_controller(def, type, index) != NULL;
}

/* libvirt gives a controller without index the lowest one unused by its
 * type.  PCI index 0 belongs to the root, so other PCI models start at 1. */
static void
assign_indexes(VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        VnicConfController *ctrl = dev->controller;
        guint index = 0;

        if (dev->kind != VNIC_CONF_DEV_CONTROLLER || ctrl->index != VNIC_CONF_INDEX_UNSET)
            continue;
        if (ctrl->type == VNIC_CONF_CONTROLLER_PCI && ctrl->pci_model != VNIC_CONF_PCI_MODEL_NONE &&
            !pci_model_is_root(ctrl->pci_model))
            index = 1;
        while (index_in_use(def, ctrl->type, index))
            index++;
        ctrl->index = index;
    }
}

static gboolean
check_pci_index(const VnicConfDomain *def, VnicConfController *ctrl, GError **error)
{
    VnicConfPciModel root = vnic_conf_root_pci_model(def->family);

    if (ctrl->pci_model == VNIC_CONF_PCI_MODEL_NONE) {
        if (ctrl->index != 0) {
            g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_MISSING,
                        "<controller type='pci' index='%u'> has no model attribute: vnic "
                        "needs one, e.g. 'pcie-root-port' or 'pci-bridge'",
                        ctrl->index);
            return FALSE;
        }
        ctrl->pci_model = root;
        ctrl->model = g_strdup(vnic_conf_pci_model_to_string(root));
    }
    if (ctrl->index == 0 && ctrl->pci_model != root) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<controller type='pci' index='0' model='%s'>: index 0 is the machine's "
                    "root and must be model '%s'",
                    ctrl->model, vnic_conf_pci_model_to_string(root));
        return FALSE;
    }
    if (ctrl->index != 0 && pci_model_is_root(ctrl->pci_model)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_INVALID,
                    "<controller type='pci' index='%u' model='%s'>: a root controller must "
                    "have index 0",
                    ctrl->index, ctrl->model);
        return FALSE;
    }
    return TRUE;
}

/* USB companion controllers share their master's index. */
static gboolean
is_usb_companion(const VnicConfDevice *dev)
{
    return dev->controller->type == VNIC_CONF_CONTROLLER_USB && dev->controller->usb_companion;
}

static const VnicConfDevice *
find_ehci(const VnicConfDomain *def, guint index)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        if (d->kind == VNIC_CONF_DEV_CONTROLLER &&
            d->controller->type == VNIC_CONF_CONTROLLER_USB && d->controller->index == index &&
            g_strcmp0(d->controller->model, "ich9-ehci1") == 0)
            return d;
    }
    return NULL;
}

/* An ich9-uhciN next to an ich9-ehci1 of the same index is its companion
 * even without <master>; libvirt then writes startport 0, 2, 4 (measured:
 * pc-usb2-nomaster), and so do we. */
static void
resolve_usb_companions(VnicConfDomain *def)
{
    static const char *const uhci[] = { "ich9-uhci1", "ich9-uhci2", "ich9-uhci3" };

    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        VnicConfController *c = dev->controller;

        if (dev->kind != VNIC_CONF_DEV_CONTROLLER || c->type != VNIC_CONF_CONTROLLER_USB ||
            c->usb_companion)
            continue;
        for (guint n = 0; n < G_N_ELEMENTS(uhci); n++) {
            if (g_strcmp0(c->model, uhci[n]) != 0)
                continue;
            if (find_ehci(def, c->index) != NULL) {
                c->usb_companion = TRUE;
                c->master_startport = n * 2;
            }
        }
    }
}

static gboolean
check_duplicate(const VnicConfDomain *def, guint pos, GError **error)
{
    const VnicConfDevice *dev = g_ptr_array_index(def->devices, pos);

    if (is_usb_companion(dev))
        return TRUE;
    for (guint i = 0; i < pos; i++) {
        const VnicConfDevice *other = g_ptr_array_index(def->devices, i);
        g_autofree char *label = NULL;

        if (other->kind != VNIC_CONF_DEV_CONTROLLER || is_usb_companion(other) ||
            other->controller->type != dev->controller->type ||
            other->controller->index != dev->controller->index)
            continue;
        label = vnic_conf_device_label(def, other);
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<controller type='%s' index='%u'> is already defined by %s",
                    vnic_conf_controller_type_to_string(dev->controller->type),
                    dev->controller->index, label);
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_conf_resolve_controllers(VnicConfDomain *def, GError **error)
{
    assign_indexes(def);
    resolve_usb_companions(def);
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        gboolean ok;

        if (dev->kind != VNIC_CONF_DEV_CONTROLLER)
            continue;
        ok = (dev->controller->type != VNIC_CONF_CONTROLLER_PCI ||
              check_pci_index(def, dev->controller, error)) &&
             check_duplicate(def, i, error);
        if (!ok) {
            g_autofree char *label = vnic_conf_device_label(def, dev);

            g_prefix_error(error, "%s: ", label);
            return FALSE;
        }
    }
    return TRUE;
}
