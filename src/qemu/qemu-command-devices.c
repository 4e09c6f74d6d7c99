/* qemu-command-devices.c: controllers, disks and interfaces on the command
 * line.  Pure.
 *
 *   controller pci     pci-root/pcie-root: none (the machine's root bus);
 *                      pci-bridge (chassis_nr), pcie-root-port or ioh3420 (port,
 *                      chassis, hotplug=off), dmi-to-pci-bridge →
 *                      i82801b11-bridge, pcie-to-pci-bridge → pcie-pci-bridge,
 *                      pcie-switch-upstream-port → x3130-upstream,
 *                      pcie-switch-downstream-port → xio3130-downstream (port,
 *                      chassis), pci-expander-bus → pxb, pcie-expander-bus →
 *                      pxb-pcie (bus_nr from <target busNr>, which planning
 *                      fills in; <target node> is refused);
 *                      <target hotplug='off'> on a pc pci-bridge: shpc=off,
 *                      only when every pci-bridge has it (QEMU switches ACPI
 *                      hot-plug off for all bridges at once, see globals)
 *   controller usb     piix3/piix4-usb-uhci, ich9-usb-ehci1, ich9-usb-uhci1-3
 *                      (<master startport> → masterbus/firstport, no id, as
 *                      libvirt), qemu-xhci/nec-usb-xhci (ports → p2/p3);
 *                      model none: nothing
 *   controller virtio-serial  virtio-serial-pci (ports → max_ports, vectors)
 *   controller scsi    virtio-scsi-pci (<driver queues> → num_queues), lsi,
 *                      mptsas1068, megasas
 *   controller sata    q35 index 0: none, it is the ICH9 AHCI at 1f.2; else ahci
 *   controller ide     pc index 0: none, it is the PIIX3 IDE at 01.1
 *   disk               type file/block → -add-fd + -blockdev file/host_device on
 *                      /dev/fdset/S (QEMU never opens the image by path), then a
 *                      raw or qcow2 format node ("backing": null: a backing
 *                      file would be opened by path, prepare refuses images that
 *                      have one) and virtio-blk-pci, ide-hd/ide-cd (ide, sata),
 *                      scsi-hd/scsi-cd; cdrom without source: an empty drive;
 *                      <driver cache discard io='threads' iothread> (virtio:
 *                      iothread=iothreadN), <readonly>,
 *                      <shareable>, <serial>, <boot order>; bus usb, virtio
 *                      cdroms, other formats, <iotune>, <encryption>, … refused;
 *                      types network/volume/nvme/vhostuser/dir and devices
 *                      floppy and lun are parsed and placed but refused here
 *   interface          -netdev tap,fd=N (fds=a:b:… for <driver queues>),vhost=off on
 *                      the fds the host layer made (ethernet, bridge, direct alike)
 *                      + the model's device with mac, acpi-index, host_mtu
 *                      (virtio), <boot order>, <rom bar|enabled>, rx/tx_queue_size;
 *                      <link state='down'> → set_link before cont; <rom file>
 *                      → romfile (empty: none); driver name='vhost' runs as
 *                      vhost=off (no /dev/vhost-net; vnicd warns); <bandwidth>
 *                      is the host layer's (tc); <vlan>, <filterref>,
 *                      <coalesce>, <tune>, … refused; reconnect mode hub
 *                      (vnic_qemu_nic_on_hub: direct NICs by default): the
 *                      tap's -netdev, then -netdev hubport hp-<id> on it and
 *                      hpnic-<id> on the same hub (qemu-hub.h), the -device
 *                      on hpnic-<id>
 *   interface vhostuser -chardev socket,path[,server=on,wait=off] +
 *                      -netdev vhost-user,chardev[,queues] + virtio-net;
 *                      under TCG vectors=0 (QEMU 7.2 crashes unmasking a
 *                      vhost-user MSI-X vector without irqfd), queues > 1
 *                      refused there
 */
#include "qemu/qemu-command-priv.h"
#include "qemu/qemu-hub.h"

#include <string.h>

static gboolean
refuse(GError **error, VnicQemuBuild *b, const VnicConfDevice *dev, const char *what,
       const char *value, const char *why)
{
    vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "unsupported value '%s' for %s%s%s", value != NULL ? value : "", what,
                        why != NULL ? ": " : "", why != NULL ? why : "");
    return FALSE;
}

static void
opt_id(VnicQemuBuild *b, const VnicConfDevice *dev, GString *s)
{
    const char *id = vnic_qemu_names_get(b->names, dev);

    if (id != NULL)
        vnic_qemu_opt(s, "id", id);
}

/* ---- controllers ---------------------------------------------------------- */

/* QEMU's driver for a PCI controller: <model name> when it is one QEMU
 * knows for that model, else the model's default. */
static gboolean
pci_controller_driver(VnicQemuBuild *b, const VnicConfDevice *dev, const char **driver,
                      GError **error)
{
    static const char *const names[][3] = {
        [VNIC_CONF_PCI_MODEL_PCI_BRIDGE] = { "pci-bridge", NULL },
        [VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT] = { "pcie-root-port", "ioh3420", NULL },
        [VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE] = { "i82801b11-bridge", NULL },
        [VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE] = { "pcie-pci-bridge", NULL },
        [VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT] = { "x3130-upstream", NULL },
        [VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT] = { "xio3130-downstream", NULL },
        [VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS] = { "pxb", NULL },
        [VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS] = { "pxb-pcie", NULL },
    };
    const VnicConfController *c = dev->controller;
    const char *const *choices = names[c->pci_model];

    *driver = choices[0];
    if (c->model_name == NULL)
        return TRUE;
    for (guint i = 0; choices[i] != NULL; i++) {
        if (strcmp(c->model_name, choices[i]) == 0) {
            *driver = choices[i];
            return TRUE;
        }
    }
    return refuse(error, b, dev, "<model name>", c->model_name, NULL);
}

static gboolean
build_pci_controller(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    const VnicConfController *c = dev->controller;
    g_autoptr(GString) s = NULL;
    const char *driver;
    char port[8];

    if (c->pci_model == VNIC_CONF_PCI_MODEL_PCI_ROOT ||
        c->pci_model == VNIC_CONF_PCI_MODEL_PCIE_ROOT)
        return TRUE;
    gboolean bridge_off = c->hotplug == VNIC_TRISTATE_NO &&
                          c->pci_model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE &&
                          vnic_qemu_pc_bridges_without_hotplug(b->def);

    if (c->hotplug == VNIC_TRISTATE_NO && c->pci_model != VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT &&
        !bridge_off)
        return refuse(error, b, dev, "<target hotplug>", "off",
                      c->pci_model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE
                          ? "QEMU switches hot-plug off for every pci-bridge of a pc machine at "
                            "once: give all of them <target hotplug='off'/> or none"
                          : "QEMU switches hot-plug off per root port and pc pci-bridge only");
    if (!pci_controller_driver(b, dev, &driver, error))
        return FALSE;
    s = g_string_new(driver);
    if (c->pci_model == VNIC_CONF_PCI_MODEL_PCI_BRIDGE)
        vnic_qemu_opt_uint(s, "chassis_nr", c->chassis_nr >= 0 ? (guint) c->chassis_nr
                                                              : c->index);
    if (c->pci_model == VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT) {
        g_snprintf(port, sizeof(port), "0x%x",
                   c->port >= 0 ? (guint) c->port : (dev->addr.slot << 3) | dev->addr.function);
        vnic_qemu_opt(s, "port", port);
        vnic_qemu_opt_uint(s, "chassis", c->chassis >= 0 ? (guint) c->chassis : c->index);
    }
    if (c->pci_model == VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS ||
        c->pci_model == VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS) {
        g_autofree char *node = vnic_qemu_xml_prop(vnic_qemu_xml_child(dev->node, "target"),
                                                   "node");

        if (node != NULL)
            return refuse(error, b, dev, "<target node>", node,
                          "vnic does not tie expander buses to NUMA nodes");
        if (c->bus_nr < 0) {
            vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                                "<target busNr> is missing: the domain must be planned first");
            return FALSE;
        }
        vnic_qemu_opt_uint(s, "bus_nr", (guint) c->bus_nr);
    }
    /* a downstream port is numbered by its slot on the switch, as libvirt does */
    if (c->pci_model == VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT) {
        g_snprintf(port, sizeof(port), "0x%x", c->port >= 0 ? (guint) c->port : dev->addr.slot);
        vnic_qemu_opt(s, "port", port);
        vnic_qemu_opt_uint(s, "chassis", c->chassis >= 0 ? (guint) c->chassis : c->index);
    }
    opt_id(b, dev, s);
    if (!vnic_qemu_opt_pci(b, dev, s, error))
        return FALSE;
    /* a bridge: no SHPC (QEMU would hot-plug through it); the global in
     * vnic_qemu_build_globals() takes its ACPI hot-plug */
    if (bridge_off)
        vnic_qemu_opt(s, "shpc", "off");
    else if (c->hotplug == VNIC_TRISTATE_NO)
        vnic_qemu_opt(s, "hotplug", "off");
    vnic_qemu_build_add_pair(b, "-device", s);
    return TRUE;
}

static gboolean
build_usb(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const models[][2] = {
        { "piix3-uhci", "piix3-usb-uhci" }, { "piix4-uhci", "piix4-usb-uhci" },
        { "ich9-ehci1", "ich9-usb-ehci1" }, { "ich9-uhci1", "ich9-usb-uhci1" },
        { "ich9-uhci2", "ich9-usb-uhci2" }, { "ich9-uhci3", "ich9-usb-uhci3" },
        { "qemu-xhci", "qemu-xhci" },       { "nec-xhci", "nec-usb-xhci" },
        { "ehci", "usb-ehci" },             { "pci-ohci", "pci-ohci" },
    };
    const VnicConfController *c = dev->controller;
    const char *model = c->model != NULL ? c->model
                        : b->def->family == VNIC_MACHINE_PC ? "piix3-uhci" : "qemu-xhci";
    g_autoptr(GString) s = NULL;
    guint64 ports;
    guint i;

    if (strcmp(model, "none") == 0)
        return TRUE;
    for (i = 0; i < G_N_ELEMENTS(models) && strcmp(model, models[i][0]) != 0; i++)
        ;
    if (i == G_N_ELEMENTS(models))
        return refuse(error, b, dev, "<controller type='usb' model>", model,
                      strcmp(model, "vt82c686b-uhci") == 0
                          ? "QEMU for x86 has no vt82c686b-usb-uhci (libvirt takes it at define "
                            "all the same)"
                          : NULL);
    if (!vnic_qemu_xml_prop_uint(b->def, dev, dev->node, "ports", 0, &ports, error))
        return FALSE;
    if (ports != 0 && !strstr(model, "xhci"))
        return refuse(error, b, dev, "<controller ports>", "ports", "only xhci has a port count");
    s = g_string_new(models[i][1]);
    /* A UHCI companion (conf: <master startport>, or libvirt's 0/2/4 when
     * left out) serves ports of its EHCI's bus instead of a bus of its own. */
    if (c->usb_companion) {
        const char *master = vnic_qemu_names_controller(b->names, VNIC_CONF_CONTROLLER_USB,
                                                        c->index);
        g_autofree char *bus = NULL;

        if (master == NULL)
            return refuse(error, b, dev, "<master startport>", "master",
                          "there is no ich9-ehci1 with this index to be the companion of");
        bus = g_strdup_printf("%s.0", master);
        vnic_qemu_opt(s, "masterbus", bus);
        vnic_qemu_opt_uint(s, "firstport", c->master_startport);
    } else {
        opt_id(b, dev, s);
    }
    if (ports != 0) {
        vnic_qemu_opt_uint(s, "p2", ports);
        vnic_qemu_opt_uint(s, "p3", ports);
    }
    if (!vnic_qemu_opt_pci(b, dev, s, error))
        return FALSE;
    vnic_qemu_build_add_pair(b, "-device", s);
    return TRUE;
}

/* virtio → virtio-X-pci, virtio-transitional → virtio-X-pci-transitional, … */
static char *
virtio_driver(const char *base, const char *model)
{
    if (g_strcmp0(model, "virtio-transitional") == 0 ||
        g_strcmp0(model, "virtio-non-transitional") == 0)
        return g_strdup_printf("%s-pci-%s", base, model + strlen("virtio-"));
    return g_strdup_printf("%s-pci", base);
}

static gboolean
build_other_controller(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const scsi[][2] = { { "lsilogic", "lsi" },
                                           { "lsisas1068", "mptsas1068" },
                                           { "megasas", "megasas" },
                                           { "vmpvscsi", "pvscsi" },
                                           { "lsisas1078", "megasas-gen2" },
                                           { "dc390", "dc390" },
                                           { "am53c974", "am53c974" } };
    const VnicConfController *c = dev->controller;
    xmlNode *driver = vnic_qemu_xml_child(dev->node, "driver");
    g_autofree char *name = NULL;
    g_autoptr(GString) s = NULL;
    guint64 queues, vectors;

    if (!vnic_qemu_xml_prop_uint(b->def, dev, driver, "queues", 0, &queues, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, dev->node, "vectors", 0, &vectors, error))
        return FALSE;
    if (c->type == VNIC_CONF_CONTROLLER_VIRTIO_SERIAL) {
        name = virtio_driver("virtio-serial", c->model);
    } else if (c->type == VNIC_CONF_CONTROLLER_SATA) {
        name = g_strdup("ahci");
    } else if (c->model == NULL || g_str_has_prefix(c->model, "virtio")) {
        name = virtio_driver("virtio-scsi", c->model);
    } else {
        for (guint i = 0; i < G_N_ELEMENTS(scsi) && name == NULL; i++) {
            if (strcmp(c->model, scsi[i][0]) == 0)
                name = g_strdup(scsi[i][1]);
        }
        if (name == NULL)
            return refuse(error, b, dev, "<controller type='scsi' model>", c->model, NULL);
    }
    if (!vnic_qemu_xml_check(b->def, dev, driver,
                             g_str_has_prefix(name, "virtio-scsi")
                                 ? (const char *const[]){ "queues", NULL } : NULL,
                             NULL, error))
        return FALSE;
    s = g_string_new(name);
    opt_id(b, dev, s);
    if (c->type == VNIC_CONF_CONTROLLER_VIRTIO_SERIAL && c->ports != 0)
        vnic_qemu_opt_uint(s, "max_ports", c->ports);
    if (queues != 0)
        vnic_qemu_opt_uint(s, "num_queues", queues);
    if (vectors != 0)
        vnic_qemu_opt_uint(s, "vectors", vectors);
    if (!vnic_qemu_opt_pci(b, dev, s, error))
        return FALSE;
    vnic_qemu_build_add_pair(b, "-device", s);
    return TRUE;
}

gboolean
vnic_qemu_build_controller(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const attrs[] = { "type", "index", "model", "ports", "vectors", NULL };
    static const char *const children[] = { "model", "target", "address", "alias", "master",
                                            "driver", NULL };

    if (vnic_qemu_controller_is_refused(dev->controller))
        return vnic_qemu_build_refused_controller(b, dev, error);
    if (!vnic_qemu_xml_check(b->def, dev, dev->node, attrs, children, error))
        return FALSE;
    if (vnic_qemu_is_chipset(b->def, dev))
        return TRUE;
    switch (dev->controller->type) {
    case VNIC_CONF_CONTROLLER_PCI:
        return build_pci_controller(b, dev, error);
    case VNIC_CONF_CONTROLLER_USB:
        return build_usb(b, dev, error);
    case VNIC_CONF_CONTROLLER_IDE:
        return refuse(error, b, dev, "<controller type='ide' index>", "index",
                      "only the chipset's IDE controller exists");
    default:
        return build_other_controller(b, dev, error);
    }
}

/* ---- disks ------------------------------------------------------------- */

typedef struct {
    const char *format;
    gboolean direct;
    gboolean no_flush;
    const char *write_cache;  /* NULL: QEMU's default */
    const char *discard;
    guint64 iothread;         /* <driver iothread>, 0: none */
} DiskOptions;

static gboolean
disk_options(VnicQemuBuild *b, const VnicConfDevice *dev, DiskOptions *o, GError **error)
{
    static const char *const attrs[] = { "name", "type", "cache", "discard", "io", "iothread",
                                         NULL };
    xmlNode *driver = vnic_qemu_xml_child(dev->node, "driver");
    g_autofree char *name = vnic_qemu_xml_prop(driver, "name");
    g_autofree char *type = vnic_qemu_xml_prop(driver, "type");
    g_autofree char *cache = vnic_qemu_xml_prop(driver, "cache");
    g_autofree char *discard = vnic_qemu_xml_prop(driver, "discard");
    g_autofree char *io = vnic_qemu_xml_prop(driver, "io");

    *o = (DiskOptions){ .format = "raw" };
    if (!vnic_qemu_xml_check(b->def, dev, driver, attrs, NULL, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, driver, "iothread", 0, &o->iothread, error))
        return FALSE;
    if (o->iothread != 0 && !g_hash_table_contains(b->iothreads, GSIZE_TO_POINTER(o->iothread))) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "<driver iothread='%" G_GUINT64_FORMAT "'>: the domain has no such "
                            "<iothreads>/<iothreadids> entry", o->iothread);
        return FALSE;
    }
    if (name != NULL && strcmp(name, "qemu") != 0)
        return refuse(error, b, dev, "<driver name>", name, NULL);
    if (type != NULL && strcmp(type, "raw") != 0 && strcmp(type, "qcow2") != 0)
        return refuse(error, b, dev, "<driver type>", type, "the launcher handles raw and qcow2");
    if (type != NULL)
        o->format = strcmp(type, "raw") == 0 ? "raw" : "qcow2";
    if (io != NULL && strcmp(io, "threads") != 0)
        return refuse(error, b, dev, "<driver io>", io, "only threads");
    if (discard != NULL && strcmp(discard, "unmap") != 0 && strcmp(discard, "ignore") != 0)
        return refuse(error, b, dev, "<driver discard>", discard, NULL);
    o->discard = g_strcmp0(discard, "unmap") == 0 ? "unmap" : NULL;
    if (cache == NULL)
        return TRUE;
    /* libvirt's mapping (qemuDomainDiskCachemodeFlags) */
    o->direct = strcmp(cache, "none") == 0 || strcmp(cache, "directsync") == 0;
    o->no_flush = strcmp(cache, "unsafe") == 0;
    if (strcmp(cache, "writethrough") == 0 || strcmp(cache, "directsync") == 0)
        o->write_cache = "off";
    else if (strcmp(cache, "writeback") == 0 || strcmp(cache, "none") == 0 || o->no_flush)
        o->write_cache = "on";
    else
        return refuse(error, b, dev, "<driver cache>", cache, NULL);
    return TRUE;
}

static void
add_blockdev(VnicQemuBuild *b, JsonBuilder *jb)
{
    g_autoptr(JsonNode) root = json_builder_get_root(jb);
    g_autofree char *text = json_to_string(root, FALSE);

    vnic_qemu_build_add(b, "-blockdev");
    vnic_qemu_build_add(b, text);
}

static void
json_cache(JsonBuilder *jb, const DiskOptions *o)
{
    json_builder_set_member_name(jb, "cache");
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "direct");
    json_builder_add_boolean_value(jb, o->direct);
    json_builder_set_member_name(jb, "no-flush");
    json_builder_add_boolean_value(jb, o->no_flush);
    json_builder_end_object(jb);
}

/* The storage and format nodes of a disk with a source; "vnic-N-format"
 * in *@ret_node. */
static gboolean
build_disk_nodes(VnicQemuBuild *b, const VnicConfDevice *dev, const DiskOptions *o,
                 gboolean readonly, char **ret_node, GError **error)
{
    g_autofree char *type = vnic_qemu_xml_prop(dev->node, "type");
    guint n = vnic_qemu_kind_index(b->def, dev);
    g_autofree char *storage = g_strdup_printf("vnic-%u-storage", n);
    g_autofree char *format = g_strdup_printf("vnic-%u-format", n);
    g_autofree char *path = vnic_qemu_build_fdset(b, dev, VNIC_QEMU_FD_DISK, error);
    g_autoptr(JsonBuilder) jb = json_builder_new();
    g_autoptr(JsonBuilder) jf = json_builder_new();

    if (path == NULL)
        return FALSE;
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "driver");
    json_builder_add_string_value(jb, g_strcmp0(type, "block") == 0 ? "host_device" : "file");
    json_builder_set_member_name(jb, "filename");
    json_builder_add_string_value(jb, path);
    json_builder_set_member_name(jb, "node-name");
    json_builder_add_string_value(jb, storage);
    json_builder_set_member_name(jb, "read-only");
    json_builder_add_boolean_value(jb, readonly);
    if (o->discard != NULL) {
        json_builder_set_member_name(jb, "discard");
        json_builder_add_string_value(jb, o->discard);
    }
    json_cache(jb, o);
    json_builder_end_object(jb);
    add_blockdev(b, jb);

    json_builder_begin_object(jf);
    json_builder_set_member_name(jf, "node-name");
    json_builder_add_string_value(jf, format);
    json_builder_set_member_name(jf, "read-only");
    json_builder_add_boolean_value(jf, readonly);
    json_cache(jf, o);
    json_builder_set_member_name(jf, "driver");
    json_builder_add_string_value(jf, o->format);
    json_builder_set_member_name(jf, "file");
    json_builder_add_string_value(jf, storage);
    if (strcmp(o->format, "qcow2") == 0) {
        json_builder_set_member_name(jf, "backing");
        json_builder_add_null_value(jf);
    }
    json_builder_end_object(jf);
    add_blockdev(b, jf);
    *ret_node = g_steal_pointer(&format);
    return TRUE;
}

/* Driver and bus options of a non-PCI disk: ide/sata/scsi. */
static gboolean
disk_drive_bus(VnicQemuBuild *b, const VnicConfDevice *dev, gboolean cdrom, GString *s,
               GError **error)
{
    const char *bus = dev->disk->bus;
    VnicQemuDriveAddr a;
    VnicConfControllerType type = strcmp(bus, "scsi") == 0   ? VNIC_CONF_CONTROLLER_SCSI
                                  : strcmp(bus, "sata") == 0 ? VNIC_CONF_CONTROLLER_SATA
                                                             : VNIC_CONF_CONTROLLER_IDE;
    const VnicConfDevice *ctrl;
    const char *ctrl_id;
    g_autofree char *qbus = NULL;

    if (!vnic_qemu_disk_drive_addr(dev, &a, error))
        return FALSE;
    ctrl = vnic_conf_domain_find_controller(b->def, type, a.controller);
    ctrl_id = vnic_qemu_names_controller(b->names, type, a.controller);
    if (ctrl == NULL || ctrl_id == NULL) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "no %s controller with index %u", bus, a.controller);
        return FALSE;
    }
    if (type == VNIC_CONF_CONTROLLER_SCSI) {
        g_string_append(s, cdrom ? "scsi-cd" : "scsi-hd");
        qbus = g_strdup_printf("%s.0", ctrl_id);
    } else {
        g_string_append(s, cdrom ? "ide-cd" : "ide-hd");
        /* the chipset's buses are called ide.N whatever the alias */
        qbus = g_strdup_printf("%s.%u", vnic_qemu_is_chipset(b->def, ctrl) ? "ide" : ctrl_id,
                               type == VNIC_CONF_CONTROLLER_SATA ? a.unit : a.bus);
    }
    vnic_qemu_opt(s, "bus", qbus);
    if (type == VNIC_CONF_CONTROLLER_IDE)
        vnic_qemu_opt_uint(s, "unit", a.unit);
    if (type == VNIC_CONF_CONTROLLER_SCSI && g_str_has_prefix(ctrl->controller->model
                                                                  ? ctrl->controller->model
                                                                  : "", "virtio")) {
        vnic_qemu_opt_uint(s, "channel", a.bus);
        vnic_qemu_opt_uint(s, "scsi-id", a.target);
        vnic_qemu_opt_uint(s, "lun", a.unit);
    } else if (type == VNIC_CONF_CONTROLLER_SCSI) {
        vnic_qemu_opt_uint(s, "scsi-id", a.unit);
    }
    return TRUE;
}

static gboolean
disk_common_opts(VnicQemuBuild *b, const VnicConfDevice *dev, const DiskOptions *o,
                 GString *s, GError **error)
{
    g_autofree char *serial = vnic_qemu_xml_child_text(dev->node, "serial");
    guint64 boot;

    opt_id(b, dev, s);
    if (!vnic_qemu_xml_prop_uint(b->def, dev, vnic_qemu_xml_child(dev->node, "boot"), "order",
                                 0, &boot, error))
        return FALSE;
    if (boot != 0)
        vnic_qemu_opt_uint(s, "bootindex", boot);
    if (serial != NULL)
        vnic_qemu_opt(s, "serial", serial);
    if (o->write_cache != NULL)
        vnic_qemu_opt(s, "write-cache", o->write_cache);
    if (vnic_qemu_xml_child(dev->node, "shareable") != NULL)
        vnic_qemu_opt(s, "share-rw", "on");
    return TRUE;
}

gboolean
vnic_qemu_build_disk(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const attrs[] = { "type", "device", "model", NULL };
    static const char *const children[] = { "driver", "source", "target", "readonly",
                                            "shareable", "serial", "boot", "address",
                                            "alias", "backingStore", NULL };
    const VnicConfDisk *disk = dev->disk;
    g_autofree char *model = vnic_qemu_xml_prop(dev->node, "model");
    gboolean cdrom = g_strcmp0(disk->device, "cdrom") == 0;
    gboolean readonly = disk->readonly; /* <readonly/>, and every cdrom */
    g_autofree char *node = NULL;
    g_autoptr(GString) s = g_string_new(NULL);
    DiskOptions o;

    /* NULL type/device: a disk built by code, file and disk */
    if (disk->type != NULL && strcmp(disk->type, "file") != 0 && strcmp(disk->type, "block") != 0)
        return refuse(error, b, dev, "<disk type>", disk->type,
                      "the QEMU launcher opens local files and block devices only");
    if (g_strcmp0(disk->device, "floppy") == 0 || g_strcmp0(disk->device, "lun") == 0)
        return refuse(error, b, dev, "<disk device>", disk->device,
                      g_strcmp0(disk->device, "lun") == 0
                          ? "vnic does not pass SCSI LUNs through"
                          : "vnic runs no floppy drives");
    if (!vnic_qemu_xml_check(b->def, dev, dev->node, attrs, children, error) ||
        !vnic_qemu_xml_check(b->def, dev, vnic_qemu_xml_child(dev->node, "source"),
                             (const char *const[]){ "file", "dev", "index", NULL }, NULL,
                             error) ||
        !disk_options(b, dev, &o, error))
        return FALSE;
    if (strcmp(disk->bus, "usb") == 0 || (cdrom && strcmp(disk->bus, "virtio") == 0))
        return refuse(error, b, dev, "<target bus>", disk->bus,
                      cdrom ? "a cdrom needs sata, scsi or ide" : "usb disks are not handled");
    /* a cdrom without medium (no <source>, or CloudStack's <source file=''/>)
     * is the drive alone: QEMU 7.2 shows an empty tray */
    if (disk->source_file == NULL && !cdrom) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "<disk device='disk'> needs a <source>");
        return FALSE;
    }
    if (disk->source_file != NULL && !build_disk_nodes(b, dev, &o, readonly, &node, error))
        return FALSE;
    if (strcmp(disk->bus, "virtio") == 0) {
        g_autofree char *driver = virtio_driver("virtio-blk", model);

        g_string_append(s, driver);
        if (!vnic_qemu_opt_pci(b, dev, s, error))
            return FALSE;
        if (o.iothread != 0) {
            g_autofree char *iothread = g_strdup_printf("iothread%" G_GUINT64_FORMAT, o.iothread);
            vnic_qemu_opt(s, "iothread", iothread);
        }
    } else if (o.iothread != 0) {
        return refuse(error, b, dev, "<driver iothread> on <target bus>", disk->bus,
                      "only virtio disks run in an I/O thread");
    } else if (!disk_drive_bus(b, dev, cdrom, s, error)) {
        return FALSE;
    }
    if (node != NULL)
        vnic_qemu_opt(s, "drive", node);
    if (!disk_common_opts(b, dev, &o, s, error))
        return FALSE;
    vnic_qemu_build_add_pair(b, "-device", s);
    return TRUE;
}

/* ---- interfaces ------------------------------------------------------ */

/* vhost-user: QEMU's own socket to the backend (OVS-DPDK, testpmd, …).
 * Client mode connects at start (the backend must listen), server mode
 * listens at the path and does not wait for the backend. */
static void
nic_vhostuser_netdev(VnicQemuBuild *b, const VnicConfDevice *dev, const char *netdev)
{
    const VnicConfNic *nic = dev->nic;
    g_autofree char *chr = g_strconcat("char", vnic_qemu_names_get(b->names, dev), NULL);
    g_autoptr(GString) c = g_string_new("socket");
    g_autoptr(GString) s = g_string_new("vhost-user");

    vnic_qemu_opt(c, "id", chr);
    vnic_qemu_opt(c, "path", nic->source);
    if (g_strcmp0(nic->source_mode, "server") == 0) {
        vnic_qemu_opt(c, "server", "on");
        vnic_qemu_opt(c, "wait", "off");
    }
    vnic_qemu_build_add_pair(b, "-chardev", c);
    vnic_qemu_opt(s, "chardev", chr);
    vnic_qemu_opt(s, "id", netdev);
    if (nic->queues > 1)
        vnic_qemu_opt_uint(s, "queues", nic->queues);
    vnic_qemu_build_add_pair(b, "-netdev", s);
}

static gboolean
nic_netdev(VnicQemuBuild *b, const VnicConfDevice *dev, const char *netdev, GError **error)
{
    guint want = MAX(dev->nic->queues, 1), n_fds = 0;
    const int *fds = vnic_qemu_runtime_get_child_fds(b->rt, dev, VNIC_QEMU_FD_TAP, &n_fds);
    g_autoptr(GString) s = g_string_new("tap");
    g_autoptr(GString) list = g_string_new(NULL);

    if (n_fds != want) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "needs %u tap fd(s) (one per queue) but the runtime has %u", want,
                            n_fds);
        return FALSE;
    }
    vnic_qemu_opt(s, "id", netdev);
    for (guint i = 0; i < n_fds; i++)
        g_string_append_printf(list, "%s%d", i > 0 ? ":" : "", fds[i]);
    vnic_qemu_opt(s, n_fds > 1 ? "fds" : "fd", list->str);
    vnic_qemu_opt(s, "vhost", "off");
    vnic_qemu_build_add_pair(b, "-netdev", s);
    return TRUE;
}

/* mq, host_mtu, queue sizes, acpi-index, bootindex, ROM */
static gboolean
nic_device_opts(VnicQemuBuild *b, const VnicConfDevice *dev, gboolean virtio, GString *s,
                GError **error)
{
    const VnicConfNic *nic = dev->nic;
    xmlNode *driver = vnic_qemu_xml_child(dev->node, "driver");
    xmlNode *rom = vnic_qemu_xml_child(dev->node, "rom");
    g_autofree char *bar = vnic_qemu_xml_prop(rom, "bar");
    g_autofree char *enabled = vnic_qemu_xml_prop(rom, "enabled");
    g_autofree char *file = vnic_qemu_xml_prop(rom, "file");
    guint64 rx, tx, boot;

    if (!vnic_qemu_xml_prop_uint(b->def, dev, driver, "rx_queue_size", 0, &rx, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, driver, "tx_queue_size", 0, &tx, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, vnic_qemu_xml_child(dev->node, "boot"), "order",
                                 0, &boot, error) ||
        !vnic_qemu_xml_check(b->def, dev, rom,
                             (const char *const[]){ "bar", "enabled", "file", NULL }, NULL,
                             error))
        return FALSE;
    if (!virtio && (nic->mtu != 0 || rx != 0 || tx != 0))
        return refuse(error, b, dev, "<model type>", nic->model,
                      "<mtu> and queue sizes need a virtio model");
    if (nic->type == VNIC_CONF_NIC_VHOSTUSER && !b->cmd->kvm) {
        /* QEMU 7.2 under TCG (no irqfd) dereferences NULL when the guest
         * unmasks a vhost-user NIC's MSI-X vector: INTx only, one queue */
        if (nic->queues > 1) {
            g_autofree char *n = g_strdup_printf("%u", nic->queues);
            return refuse(error, b, dev, "<driver queues>", n,
                          "a multiqueue vhost-user NIC needs MSI-X, which QEMU 7.2 cannot "
                          "give it without KVM (<domain type='kvm'>)");
        }
        vnic_qemu_opt_uint(s, "vectors", 0);
    }
    if (nic->queues > 1) {
        vnic_qemu_opt(s, "mq", "on");
        vnic_qemu_opt_uint(s, "vectors", 2 * (guint64) nic->queues + 2);
    }
    if (nic->mtu != 0)
        vnic_qemu_opt_uint(s, "host_mtu", nic->mtu);
    if (rx != 0)
        vnic_qemu_opt_uint(s, "rx_queue_size", rx);
    if (tx != 0)
        vnic_qemu_opt_uint(s, "tx_queue_size", tx);
    if (nic->acpi_index != 0)
        vnic_qemu_opt_uint(s, "acpi-index", nic->acpi_index);
    if (boot != 0)
        vnic_qemu_opt_uint(s, "bootindex", boot);
    if (g_strcmp0(enabled, "no") == 0 || g_strcmp0(file, "") == 0)
        vnic_qemu_opt(s, "romfile", "");
    else if (file != NULL)
        vnic_qemu_opt(s, "romfile", file);
    if (bar != NULL && g_strcmp0(enabled, "no") != 0)
        vnic_qemu_opt(s, "rombar", strcmp(bar, "off") == 0 ? "0" : "1");
    return TRUE;
}

/* libvirt's interface types the conf layer places but vnic does not run. */
static const struct {
    const char *type;
    const char *reason;
} other_nic_types[] = {
    { "user", "vnic gives guests only host links it creates; QEMU's user-mode network "
              "(slirp) is not offered" },
    { "hostdev", "PCI passthrough of a host NIC (VFIO) is not supported" },
    { "vdpa", "vDPA devices are not supported" },
    { "server", "QEMU socket netdevs (server, client, mcast, udp) are not supported" },
    { "client", "QEMU socket netdevs (server, client, mcast, udp) are not supported" },
    { "mcast", "QEMU socket netdevs (server, client, mcast, udp) are not supported" },
    { "udp", "QEMU socket netdevs (server, client, mcast, udp) are not supported" },
    { "internal", "it is a VirtualBox type, QEMU has no such backend" },
    { "null", "it is a bhyve type, QEMU has no such backend" },
    { "vds", "it is a VMware type, QEMU has no such backend" },
};

static gboolean
refuse_other_type(const VnicConfDomain *def, const VnicConfDevice *dev, GError **error)
{
    const char *type = vnic_conf_nic_type_string(dev->nic);
    const char *reason = "vnic does not run it";

    for (gsize i = 0; i < G_N_ELEMENTS(other_nic_types); i++) {
        if (strcmp(type, other_nic_types[i].type) == 0)
            reason = other_nic_types[i].reason;
    }
    vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "<interface type='%s'> is not supported: %s", type, reason);
    return FALSE;
}

/* Switch port profiles: libvirt asks a virtual switch (Open vSwitch, an
 * 802.1Qbg/Qbh bridge) to set the port up; vnic drives no switch. */
static gboolean
refuse_virtualport(const VnicConfDomain *def, const VnicConfDevice *dev, xmlNode *port,
                   GError **error)
{
    g_autofree char *type = vnic_qemu_xml_prop(port, "type");

    if (g_strcmp0(type, "openvswitch") == 0)
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "<virtualport type='openvswitch'> is not supported: vnic does not "
                            "drive Open vSwitch; plug the tap yourself and use <target dev "
                            "managed='no'/>, or a Linux bridge");
    else
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "<virtualport type='%s'> is not supported: vnic drives no virtual "
                            "switch port profiles",
                            type != NULL ? type : "");
    return FALSE;
}

/* The conf layer refuses a NIC's own mode that cannot run when parsing;
 * this catches a definition made or changed by code. */
static gboolean
check_reconnect(const VnicConfDomain *def, const VnicConfDevice *dev, GError **error)
{
    g_autoptr(GError) why = NULL;

    if (vnic_conf_nic_reconnect_check(dev->nic, vnic_conf_nic_reconnect_mode(def, dev), &why))
        return TRUE;
    vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_UNSUPPORTED, "%s", why->message);
    return FALSE;
}

/* What an <interface> may contain for vnic to honour it, cold-plugged or
 * hot-plugged: anything else is refused, never silently dropped. */
gboolean
vnic_qemu_nic_check(const VnicConfDomain *def, const VnicConfDevice *dev, GError **error)
{
    static const char *const children[] = { "mac", "source", "target", "model", "driver",
                                            "link", "mtu", "alias", "acpi", "address",
                                            "boot", "rom", "bandwidth", NULL };
    static const char *const driver_attrs[] = { "name", "queues", "rx_queue_size",
                                                "tx_queue_size", NULL };
    xmlNode *driver = vnic_qemu_xml_child(dev->node, "driver");
    xmlNode *rom = vnic_qemu_xml_child(dev->node, "rom");
    g_autofree char *rom_file = vnic_qemu_xml_prop(rom, "file");

    if (!check_reconnect(def, dev, error))
        return FALSE;
    if (dev->nic->type == VNIC_CONF_NIC_OTHER)
        return refuse_other_type(def, dev, error);
    if (vnic_qemu_xml_child(dev->node, "virtualport") != NULL)
        return refuse_virtualport(def, dev, vnic_qemu_xml_child(dev->node, "virtualport"), error);
    /* <driver name='vhost'> is honoured as libvirt does without
     * /dev/vhost-net: userspace virtio-net, with a warning (vnicd logs it) */
    if (!vnic_qemu_xml_check(def, dev, dev->node, (const char *const[]){ "type", NULL }, children,
                             error) ||
        !vnic_qemu_xml_check(def, dev, driver, driver_attrs, NULL, error))
        return FALSE;
    if (rom_file != NULL && *rom_file != '\0' && !g_path_is_absolute(rom_file)) {
        vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_INVALID,
                            "invalid value '%s' for <rom file>: the option ROM must be an "
                            "absolute path (QEMU opens it)", rom_file);
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_qemu_build_nic(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    const VnicConfNic *nic = dev->nic;
    const char *id = vnic_qemu_names_get(b->names, dev);
    g_autofree char *netdev = g_strconcat("host", id, NULL);
    g_autofree char *nic_port = NULL;
    g_autofree char *mac = NULL;
    g_autofree char *qdriver = NULL;
    g_autoptr(GString) s = NULL;
    gboolean virtio = g_str_has_prefix(nic->model != NULL ? nic->model : "", "virtio");

    if (!vnic_qemu_nic_check(b->def, dev, error))
        return FALSE;
    if (!nic->has_mac) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "no MAC address: assign one before starting");
        return FALSE;
    }
    if (nic->type == VNIC_CONF_NIC_VHOSTUSER)
        nic_vhostuser_netdev(b, dev, netdev);
    else if (!nic_netdev(b, dev, netdev, error))
        return FALSE;
    if (vnic_qemu_nic_on_hub(b->def, dev)) {
        /* the hub is numbered after the PCI address, checked below */
        vnic_qemu_hub_append_argv(b->cmd->argv, id, vnic_qemu_hub_id(dev), netdev);
        nic_port = vnic_qemu_hub_nic_port_id(id);
    }
    qdriver = virtio ? virtio_driver("virtio-net", nic->model)
                     : g_strdup(nic->model != NULL ? nic->model : "rtl8139");
    s = g_string_new(qdriver);
    mac = vnic_conf_mac_format(nic->mac);
    vnic_qemu_opt(s, "netdev", nic_port != NULL ? nic_port : netdev);
    vnic_qemu_opt(s, "id", id);
    vnic_qemu_opt(s, "mac", mac);
    if (!nic_device_opts(b, dev, virtio, s, error) || !vnic_qemu_opt_pci(b, dev, s, error))
        return FALSE;
    vnic_qemu_build_add_pair(b, "-device", s);
    if (nic->link_up == VNIC_TRISTATE_NO)
        g_ptr_array_add(b->cmd->links_down, g_strdup(id));
    return TRUE;
}
