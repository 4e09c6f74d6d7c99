/* qemu-hotplug.c: one NIC into a running QEMU, undone step by step on
 * failure.  The sequence is a small state machine on one GTask: each reply
 * starts the next command; an error walks back through what succeeded.
 * A tap NIC: getfd per queue → netdev_add tap → device_add.  A vhost-user
 * NIC: chardev-add (unix socket, client or server) → netdev_add
 * vhost-user → device_add; undone with netdev_del (which deletes the
 * chardev too, QEMU 7.2's vhost-user cleanup does), or chardev-remove when
 * netdev_add failed. */
#include "qemu/qemu-hotplug.h"

#include "qemu/qemu-command-priv.h"

#include <fcntl.h>
#include <unistd.h>

typedef struct {
    VnicQmpClient *qmp;
    char *alias;
    char *netdev;
    JsonObject *device_args;
    int *fds;
    guint n_fds;
    guint getfd_done;         /* fds QEMU holds under our names */
    char *chardev;            /* vhost-user: the socket chardev's id, else NULL */
    JsonObject *chardev_args;
    guint queues;
    gboolean chardev_done;
    gboolean netdev_done;
    guint adds_pending;       /* netdev_add and device_add replies still due */
    gboolean flush_fd;        /* a getfd was refused: QEMU may hold its fd */
    gboolean flush_close;
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
    g_free(h->chardev);
    if (h->chardev_args)
        json_object_unref(h->chardev_args);
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

static void getfd_done(GObject *source, GAsyncResult *res, gpointer data);
static void add_done(GObject *source, GAsyncResult *res, gpointer data);
static void undo_done(GObject *source, GAsyncResult *res, gpointer data);
static void undo_next(GTask *task);

static void
send(GTask *task, const char *command, JsonObject *args, const int *fd, GAsyncReadyCallback cb)
{
    vnic_qmp_client_execute_async(((Hotplug *)g_task_get_task_data(task))->qmp, command, args, fd,
                                  fd ? 1 : 0, 10000, g_task_get_cancellable(task), cb,
                                  g_object_ref(task));
}

static void
fail(GTask *task, const char *step, const GError *error)
{
    Hotplug *h = g_task_get_task_data(task);

    if (h->error)
        return; /* the first failure is the one reported */
    h->error = g_error_copy(error);
    g_prefix_error(&h->error, "hot-plug of %s failed at %s: ", h->alias, step);
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
    h->step_started = g_get_monotonic_time();
    send(task, "getfd", args, &h->fds[h->getfd_done], getfd_done);
}

static JsonObject *
netdev_args(Hotplug *h)
{
    JsonObject *args = json_object_new();
    g_autoptr(GString) names = g_string_new(NULL);

    for (guint i = 0; i < h->n_fds; i++) {
        g_autofree char *name = fdname(h, i);
        g_string_append_printf(names, "%s%s", i ? ":" : "", name);
    }
    if (h->chardev != NULL) {
        json_object_set_string_member(args, "type", "vhost-user");
        json_object_set_string_member(args, "id", h->netdev);
        json_object_set_string_member(args, "chardev", h->chardev);
        if (h->queues > 1)
            json_object_set_int_member(args, "queues", h->queues);
    } else {
        json_object_set_string_member(args, "type", "tap");
        json_object_set_string_member(args, "id", h->netdev);
        json_object_set_string_member(args, h->n_fds > 1 ? "fds" : "fd", names->str);
        json_object_set_boolean_member(args, "vhost", FALSE);
    }
    if (failing(h, VNIC_QEMU_STEP_NETDEV_ADD))
        json_object_set_boolean_member(args, "x-vnic-fault", TRUE);
    return args;
}

/* netdev_add and device_add go out back to back: QMP runs them in order,
 * and if netdev_add fails device_add fails too (no such netdev), so
 * nothing is lost by not waiting — but a round trip is saved. */
static void
send_adds(GTask *task)
{
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(JsonObject) netdev = netdev_args(h);

    if (failing(h, VNIC_QEMU_STEP_DEVICE_ADD))
        json_object_set_string_member(h->device_args, "x-vnic-fault", "1");
    h->step_started = g_get_monotonic_time();
    h->adds_pending = 2;
    send(task, "netdev_add", netdev, NULL, add_done);
    send(task, "device_add", h->device_args, NULL, add_done);
}

static void
getfd_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    h->timings.getfd_us += g_get_monotonic_time() - h->step_started;
    if (!ret) {
        /* QEMU may refuse getfd before taking the fd it came with; it then
         * keeps it until the next fd arrives: flush it (undo_next) */
        h->flush_fd = TRUE;
        fail(task, VNIC_QEMU_STEP_GETFD, error);
        undo_next(task);
    } else if (++h->getfd_done < h->n_fds) {
        send_getfd(task);
    } else {
        send_adds(task);
    }
}

static void
chardev_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    h->timings.getfd_us = g_get_monotonic_time() - h->step_started;
    if (!ret) {
        fail(task, "chardev-add", error);
        undo_next(task);
        return;
    }
    h->chardev_done = TRUE;
    send_adds(task);
}

/* {"id", "backend": {"type": "socket", "data": {"addr": {"type": "unix",
 * "data": {"path"}}, "server", "wait"}}}, as -chardev socket,path= says. */
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

static void
add_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);
    gboolean netdev = h->adds_pending == 2; /* replies come in order */
    gint64 now = g_get_monotonic_time();

    if (netdev) {
        h->timings.netdev_add_us = now - h->step_started;
        h->netdev_done = ret != NULL;
        if (ret)
            h->getfd_done = 0; /* netdev_add took the fds out of the monitor */
    } else {
        h->timings.device_add_us = now - h->step_started - h->timings.netdev_add_us;
    }
    if (!ret)
        fail(task, netdev ? VNIC_QEMU_STEP_NETDEV_ADD : VNIC_QEMU_STEP_DEVICE_ADD, error);
    if (--h->adds_pending > 0)
        return;
    if (h->error) {
        undo_next(task);
        return;
    }
    g_task_return_boolean(task, TRUE);
}

static void
undo_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret)
        g_debug("hot-plug undo: %s", error->message);
    undo_next(task);
}

/* Hands QEMU a throwaway fd under a name we then close: this makes it let
 * go of an fd it kept from a refused getfd. */
static void
send_flush(GTask *task)
{
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "fdname", "vnic-flush");
    send(task, "getfd", args, null_fd >= 0 ? &null_fd : NULL, undo_done);
    if (null_fd >= 0)
        close(null_fd); /* the client sent its own copy */
}

/* Undoes the last step that succeeded, one command at a time; when
 * nothing is left, fails the task with the first error. */
static void
undo_next(GTask *task)
{
    Hotplug *h = g_task_get_task_data(task);
    g_autoptr(JsonObject) args = json_object_new();

    if (h->netdev_done) {
        h->netdev_done = FALSE;
        h->chardev_done = FALSE; /* a vhost-user netdev deletes its chardev with it */
        json_object_set_string_member(args, "id", h->netdev);
        send(task, "netdev_del", args, NULL, undo_done);
    } else if (h->chardev_done) {
        h->chardev_done = FALSE;
        json_object_set_string_member(args, "id", h->chardev);
        send(task, "chardev-remove", args, NULL, undo_done);
    } else if (h->getfd_done > 0) {
        g_autofree char *name = fdname(h, --h->getfd_done);
        json_object_set_string_member(args, "fdname", name);
        send(task, "closefd", args, NULL, undo_done);
    } else if (h->flush_fd) {
        h->flush_fd = FALSE;
        h->flush_close = TRUE;
        send_flush(task);
    } else if (h->flush_close) {
        h->flush_close = FALSE;
        json_object_set_string_member(args, "fdname", "vnic-flush");
        send(task, "closefd", args, NULL, undo_done);
    } else {
        g_task_return_error(task, g_steal_pointer(&h->error));
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
    if (dev->nic->type == VNIC_CONF_NIC_VHOSTUSER) {
        h->chardev = g_strconcat("char", dev->alias, NULL);
        h->chardev_args = chardev_args(dev, h->chardev);
        h->queues = dev->nic->queues;
    }
    if (!h->device_args || (n_fds == 0 && h->chardev == NULL)) {
        if (!error)
            error = g_error_new(VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                                "hot-plug of %s: no tap fd", dev->alias);
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    if (h->chardev != NULL) {
        h->step_started = g_get_monotonic_time();
        send(task, "chardev-add", h->chardev_args, NULL, chardev_done);
    } else {
        send_getfd(task);
    }
    g_object_unref(task); /* each command in flight holds its own reference */
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
