/* qemu-hotplug.c: one NIC into a running QEMU (the sequence and its
 * rollback are qemu-plug.c's), and device_add's arguments for a NIC.
 * A tap NIC: getfd per queue → netdev_add tap → device_add; one on a hub
 * (reconnect mode hub): qemu-hub.c's sequence, with the hubports.  A
 * vhost-user NIC: chardev-add (unix socket, client or server) → netdev_add
 * vhost-user → device_add; undone with netdev_del (which deletes the
 * chardev too, QEMU 7.2's vhost-user cleanup does), or chardev-remove when
 * netdev_add failed. */
#include "qemu/qemu-hotplug.h"

#include "qemu/qemu-command-priv.h"
#include "qemu/qemu-hub.h"

/* {"id", "backend": {"type": "socket", "data": {"addr": {"type": "unix",
 * "data": {"path"}}, "server", "wait"}}}, as -chardev socket,path= says. */
gboolean
vnic_qemu_hotplug_check_nic(const VnicConfDomain *def, const VnicConfDevice *dev, GError **error)
{
    return vnic_qemu_nic_check(def, dev, error);
}

static JsonObject *
chardev_args(const VnicConfDevice *dev, const char *id)
{
    JsonObject *args = json_object_new();
    JsonObject *backend = json_object_new();
    JsonObject *data = json_object_new();
    JsonObject *addr = json_object_new();
    JsonObject *unix_data = json_object_new();
    gboolean server = g_strcmp0(dev->nic->source_mode, "server") == 0;

    json_object_set_string_member(unix_data, "path", dev->nic->source);
    json_object_set_string_member(addr, "type", "unix");
    json_object_set_object_member(addr, "data", unix_data);
    json_object_set_object_member(data, "addr", addr);
    json_object_set_boolean_member(data, "server", server);
    if (server)
        json_object_set_boolean_member(data, "wait", FALSE);
    json_object_set_string_member(backend, "type", "socket");
    json_object_set_object_member(backend, "data", data);
    json_object_set_string_member(args, "id", id);
    json_object_set_object_member(args, "backend", backend);
    return args;
}

/* chardev-add (undo chardev-remove) → netdev_add vhost-user, whose
 * netdev_del takes the chardev along. */
static void
add_vhost_user(VnicQemuPlug *plug, const VnicConfDevice *dev, const char *netdev)
{
    g_autofree char *chardev = g_strconcat("char", dev->alias, NULL);
    JsonObject *remove = json_object_new();
    JsonObject *args = json_object_new();
    JsonObject *del = json_object_new();

    json_object_set_string_member(remove, "id", chardev);
    vnic_qemu_plug_add_full(plug, "chardev-add", "chardev-add", chardev_args(dev, chardev),
                            "chardev-remove", remove, FALSE);
    json_object_set_string_member(args, "type", "vhost-user");
    json_object_set_string_member(args, "id", netdev);
    json_object_set_string_member(args, "chardev", chardev);
    if (dev->nic->queues > 1)
        json_object_set_int_member(args, "queues", dev->nic->queues);
    json_object_set_string_member(del, "id", netdev);
    vnic_qemu_plug_add_full(plug, VNIC_QEMU_STEP_NETDEV_ADD, "netdev_add", args, "netdev_del",
                            del, TRUE);
}

void
vnic_qemu_plug_add_device(VnicQemuPlug *plug, const VnicConfDomain *def,
                          const VnicConfDevice *dev, const char *netdev_id)
{
    GError *error = NULL;
    JsonObject *device = vnic_qemu_nic_device_args(def, dev, netdev_id, &error);
    JsonObject *del;

    if (!device) {
        vnic_qemu_plug_set_error(plug, error);
        return;
    }
    del = json_object_new();
    json_object_set_string_member(del, "id", json_object_get_string_member(device, "id"));
    vnic_qemu_plug_add(plug, VNIC_QEMU_STEP_DEVICE_ADD, "device_add", device, NULL);
    /* a device_add QEMU answers late may have added the NIC: the guest is
     * asked to release it again (its DEVICE_DELETED then names no NIC
     * vnicd knows, or an earlier one of an id being attached: ignored) */
    vnic_qemu_plug_set_late_undo(plug, "device_del", del);
}

void
vnic_qemu_hotplug_nic_async(VnicQmpClient *qmp, const VnicConfDomain *def,
                            const VnicConfDevice *dev, int *fds, guint n_fds,
                            const char *fail_step, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    g_autofree char *what = NULL;
    g_autofree char *netdev = NULL;
    VnicQemuPlug *plug;

    /* a NIC on a hub is plugged with its hubports, as it would boot */
    if (vnic_qemu_nic_on_hub(def, dev)) {
        vnic_qemu_hub_hotplug_nic_async(qmp, def, dev, fds, n_fds, fail_step, cancellable,
                                        callback, user_data);
        return;
    }
    what = g_strdup_printf("hot-plug of %s", dev->alias);
    netdev = g_strconcat("host", dev->alias, NULL);
    plug = vnic_qemu_plug_new(what, dev->alias);
    if (dev->nic->type == VNIC_CONF_NIC_VHOSTUSER)
        add_vhost_user(plug, dev, netdev);
    else
        vnic_qemu_plug_add_tap(plug, netdev, fds, n_fds);
    vnic_qemu_plug_add_device(plug, def, dev, netdev);
    vnic_qemu_plug_run_async(plug, qmp, fail_step, cancellable, callback, user_data);
}

gboolean
vnic_qemu_hotplug_nic_finish(GAsyncResult *result, VnicQemuHotplugTimings *timings, GError **error)
{
    return vnic_qemu_plug_finish(result, timings, error);
}

static char *
nic_driver(const char *model)
{
    if (!model)
        return g_strdup("rtl8139");
    if (g_strcmp0(model, "virtio-transitional") == 0 || g_strcmp0(model, "virtio-non-transitional") == 0)
        return g_strdup_printf("virtio-net-pci-%s", model + strlen("virtio-"));
    if (g_str_has_prefix(model, "virtio"))
        return g_strdup("virtio-net-pci");
    return g_strdup(model);
}

/* What the <interface> says beyond the modeled fields, as the cold-plug
 * command line honours it (qemu-command-devices.c): ROM and queue sizes. */
static void
nic_node_args(const VnicConfDevice *dev, JsonObject *args)
{
    xmlNode *rom = vnic_qemu_xml_child(dev->node, "rom");
    xmlNode *driver = vnic_qemu_xml_child(dev->node, "driver");
    g_autofree char *enabled = vnic_qemu_xml_prop(rom, "enabled");
    g_autofree char *bar = vnic_qemu_xml_prop(rom, "bar");
    g_autofree char *file = vnic_qemu_xml_prop(rom, "file");
    const char *const sizes[] = { "rx_queue_size", "tx_queue_size" };

    /* QEMU refuses a hot-plugged device with an option ROM but no ROM BAR
     * (nothing could reach the ROM): <rom bar='off'/> alone means no ROM */
    if (g_strcmp0(enabled, "no") == 0 || g_strcmp0(file, "") == 0 ||
        (g_strcmp0(bar, "off") == 0 && file == NULL))
        json_object_set_string_member(args, "romfile", "");
    else if (file != NULL)
        json_object_set_string_member(args, "romfile", file);
    if (bar != NULL && g_strcmp0(enabled, "no") != 0)
        json_object_set_int_member(args, "rombar", g_strcmp0(bar, "off") == 0 ? 0 : 1);
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree char *v = vnic_qemu_xml_prop(driver, sizes[i]);
        if (v != NULL)
            json_object_set_int_member(args, sizes[i], (gint64)g_ascii_strtoull(v, NULL, 10));
    }
}

JsonObject *
vnic_qemu_nic_device_args(const VnicConfDomain *def, const VnicConfDevice *dev,
                          const char *netdev_id, GError **error)
{
    g_autoptr(VnicQemuNames) names = vnic_qemu_names_new(def);
    const char *bus = vnic_qemu_names_pci_bus(names, dev->addr.bus);
    const VnicConfNic *nic = dev->nic;
    g_autofree char *driver = nic_driver(nic->model);
    g_autofree char *mac = vnic_conf_mac_format(nic->mac);
    g_autofree char *addr = dev->addr.function ? g_strdup_printf("0x%x.0x%x", dev->addr.slot,
                                                                 dev->addr.function)
                                               : g_strdup_printf("0x%x", dev->addr.slot);
    JsonObject *args;

    if (!vnic_qemu_nic_check(def, dev, error))
        return NULL;
    if (!dev->addr.set || !bus) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "hot-plug of %s: no PCI controller with index %u", dev->alias, dev->addr.bus);
        return NULL;
    }
    args = json_object_new();
    json_object_set_string_member(args, "driver", driver);
    json_object_set_string_member(args, "netdev", netdev_id);
    json_object_set_string_member(args, "id", dev->alias);
    json_object_set_string_member(args, "mac", mac);
    json_object_set_string_member(args, "bus", bus);
    json_object_set_string_member(args, "addr", addr);
    if (nic->acpi_index)
        json_object_set_int_member(args, "acpi-index", nic->acpi_index);
    if (nic->type == VNIC_CONF_NIC_VHOSTUSER && g_strcmp0(def->type, "kvm") != 0) {
        /* as on the command line (qemu-command-devices.c): no MSI-X under TCG */
        if (nic->queues > 1) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "hot-plug of %s: a multiqueue vhost-user NIC needs MSI-X, which QEMU "
                        "7.2 cannot give it without KVM", dev->alias);
            json_object_unref(args);
            return NULL;
        }
        json_object_set_int_member(args, "vectors", 0);
    }
    if (nic->queues > 1) {
        json_object_set_boolean_member(args, "mq", TRUE);
        json_object_set_int_member(args, "vectors", 2 * (gint64)nic->queues + 2);
    }
    if (nic->mtu)
        json_object_set_int_member(args, "host_mtu", nic->mtu);
    nic_node_args(dev, args);
    return args;
}
