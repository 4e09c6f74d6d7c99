/* qemu-hotplug.c: one NIC into a running QEMU, undone step by step on
 * failure.  The sequence is a small state machine on one GTask: each reply
 * starts the next command; an error walks back through what succeeded. */
#include "qemu/qemu-hotplug.h"

#include "qemu/qemu-command-priv.h"

#include <unistd.h>

typedef struct {
    VnicQmpClient *qmp;
    char *alias;
    char *netdev;
    JsonObject *device_args;
    int *fds;
    guint n_fds;
    guint getfd_done;         /* fds QEMU holds under our names */
    gboolean netdev_done;
    char *fail_step;
    gint64 step_started;
    VnicQemuHotplugTimings timings;
    GError *error;            /* the first failure, while undoing */
} Hotplug;

static void
hotplug_free(Hotplug *h)
{
    for (guint i = 0; i < h->n_fds; i++) {
        if (h->fds[i] >= 0)
            close(h->fds[i]);
    }
    g_free(h->fds);
    g_free(h->alias);
    g_free(h->netdev);
    g_free(h->fail_step);
    if (h->device_args)
        json_object_unref(h->device_args);
    g_clear_error(&h->error);
    g_free(h);
}

static char *
fdname(const Hotplug *h, guint i)
{
    return g_strdup_printf("vnic-%s-%u", h->alias, i);
}

static gboolean
failing(const Hotplug *h, const char *step)
{
    return g_strcmp0(h->fail_step, step) == 0;
}

static void step_done(GObject *source, GAsyncResult *res, gpointer data);
static void undo_next(GTask *task);

static void
send(GTask *task, const char *command, JsonObject *args, const int *fd)
{
    Hotplug *h = g_task_get_task_data(task);

    h->step_started = g_get_monotonic_time();
    vnic_qmp_client_execute_async(h->qmp, command, args, fd, fd ? 1 : 0, 10000,
                                  g_task_get_cancellable(task), step_done, task);
}

static void
send_getfd(GTask *task)
{
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(JsonObject) args = json_object_new();
    g_autofree char *name = fdname(h, h->getfd_done);

    json_object_set_string_member(args, "fdname", name);
    if (failing(h, VNIC_QEMU_STEP_GETFD))
        json_object_set_boolean_member(args, "x-vnic-fault", TRUE);
    send(task, "getfd", args, &h->fds[h->getfd_done]);
}

static void
send_netdev_add(GTask *task)
{
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(GString) names = g_string_new(NULL);

    for (guint i = 0; i < h->n_fds; i++) {
        g_autofree char *name = fdname(h, i);
        g_string_append_printf(names, "%s%s", i ? ":" : "", name);
    }
    json_object_set_string_member(args, "type", "tap");
    json_object_set_string_member(args, "id", h->netdev);
    json_object_set_string_member(args, h->n_fds > 1 ? "fds" : "fd", names->str);
    json_object_set_boolean_member(args, "vhost", FALSE);
    if (failing(h, VNIC_QEMU_STEP_NETDEV_ADD))
        json_object_set_boolean_member(args, "x-vnic-fault", TRUE);
    send(task, "netdev_add", args, NULL);
}

static void
send_device_add(GTask *task)
{
    Hotplug *h = g_task_get_task_data(task);

    if (failing(h, VNIC_QEMU_STEP_DEVICE_ADD))
        json_object_set_string_member(h->device_args, "x-vnic-fault", "1");
    send(task, "device_add", h->device_args, NULL);
}

/* Moves the sequence on after a successful step. */
static void
advance(GTask *task, const char *command)
{
    Hotplug *h = g_task_get_task_data(task);
    gint64 took = g_get_monotonic_time() - h->step_started;

    if (g_strcmp0(command, "getfd") == 0) {
        h->timings.getfd_us += took;
        if (++h->getfd_done < h->n_fds)
            send_getfd(task);
        else
            send_netdev_add(task);
    } else if (g_strcmp0(command, "netdev_add") == 0) {
        h->timings.netdev_add_us = took;
        h->netdev_done = TRUE;
        send_device_add(task);
    } else {
        h->timings.device_add_us = took;
        g_task_return_boolean(task, TRUE);
        g_object_unref(task);
    }
}

static const char *
step_of(const Hotplug *h)
{
    if (h->netdev_done)
        return VNIC_QEMU_STEP_DEVICE_ADD;
    return h->getfd_done < h->n_fds ? VNIC_QEMU_STEP_GETFD : VNIC_QEMU_STEP_NETDEV_ADD;
}

static void
step_done(GObject *source, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (h->error) { /* a reply while undoing: keep going back */
        undo_next(task);
        return;
    }
    if (ret) {
        advance(task, step_of(h));
        return;
    }
    h->error = g_error_copy(error);
    g_prefix_error(&h->error, "hot-plug of %s failed at %s: ", h->alias, step_of(h));
    undo_next(task);
}

/* Undoes the last step that succeeded; when nothing is left, fails the
 * task with the first error. */
static void
undo_next(GTask *task)
{
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(JsonObject) args = json_object_new();

    if (h->netdev_done) {
        h->netdev_done = FALSE;
        h->getfd_done = 0; /* netdev_add took the fds out of the monitor */
        json_object_set_string_member(args, "id", h->netdev);
        send(task, "netdev_del", args, NULL);
    } else if (h->getfd_done > 0) {
        g_autofree char *name = fdname(h, --h->getfd_done);
        json_object_set_string_member(args, "fdname", name);
        send(task, "closefd", args, NULL);
    } else {
        g_task_return_error(task, g_steal_pointer(&h->error));
        g_object_unref(task);
    }
}

void
vnic_qemu_hotplug_nic_async(VnicQmpClient *qmp, const VnicConfDomain *def,
                            const VnicConfDevice *dev, int *fds, guint n_fds,
                            const char *fail_step, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    Hotplug *h = g_new0(Hotplug, 1);
    GError *error = NULL;

    g_task_set_source_tag(task, vnic_qemu_hotplug_nic_async);
    g_task_set_task_data(task, h, (GDestroyNotify)hotplug_free);
    h->qmp = qmp;
    h->fds = g_memdup2(fds, n_fds * sizeof(int));
    h->n_fds = n_fds;
    for (guint i = 0; i < n_fds; i++)
        fds[i] = -1;
    h->alias = g_strdup(dev->alias);
    h->netdev = g_strconcat("host", dev->alias, NULL);
    h->fail_step = g_strdup(fail_step);
    h->device_args = vnic_qemu_nic_device_args(def, dev, h->netdev, &error);
    if (!h->device_args || n_fds == 0) {
        if (!error)
            error = g_error_new(VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                                "hot-plug of %s: no tap fd", dev->alias);
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    send_getfd(task);
}

gboolean
vnic_qemu_hotplug_nic_finish(GAsyncResult *result, VnicQemuHotplugTimings *timings, GError **error)
{
    GTask *task = G_TASK(result);
    Hotplug *h = g_task_get_task_data(task);

    if (timings)
        *timings = h->timings;
    return g_task_propagate_boolean(task, error);
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
    if (nic->queues > 1) {
        json_object_set_boolean_member(args, "mq", TRUE);
        json_object_set_int_member(args, "vectors", 2 * (gint64)nic->queues + 2);
    }
    if (nic->mtu)
        json_object_set_int_member(args, "host_mtu", nic->mtu);
    return args;
}
