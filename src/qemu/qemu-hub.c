/* qemu-hub.c: NICs on a hub, so their backend can be dropped and replaced
 * while the guest runs (see qemu-hub.h): the hub's ids and arguments, the
 * hot-plug in hub mode, detach / attach / swap of the backend, set_link,
 * and the netdevs a NIC leaves behind once unplugged.
 *
 * The plug sequences (getfd, netdev_add, rollback) are qemu-plug.c's; this
 * file only says which steps a hub needs and what each undoes.
 */
#include "qemu/qemu-hub.h"

#include "qemu/qemu-command.h"

gboolean
vnic_qemu_nic_on_hub(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    g_return_val_if_fail(dev != NULL && dev->nic != NULL, FALSE);
    return vnic_conf_nic_reconnect_mode(def, dev) == VNIC_CONF_RECONNECT_HUB;
}

guint
vnic_qemu_hub_id(const VnicConfDevice *dev)
{
    return dev->addr.bus << 8 | dev->addr.slot << 3 | dev->addr.function;
}

char *
vnic_qemu_hub_port_id(const char *id)
{
    return g_strconcat("hp-", id, NULL);
}

char *
vnic_qemu_hub_nic_port_id(const char *id)
{
    return g_strconcat("hpnic-", id, NULL);
}

char *
vnic_qemu_hub_gap_port_id(const char *id)
{
    return g_strconcat("hpgap-", id, NULL);
}

JsonObject *
vnic_qemu_hub_port_args(const char *port_id, guint hubid, const char *netdev)
{
    JsonObject *args = json_object_new();

    json_object_set_string_member(args, "type", "hubport");
    json_object_set_string_member(args, "id", port_id);
    json_object_set_int_member(args, "hubid", hubid);
    if (netdev)
        json_object_set_string_member(args, "netdev", netdev);
    return args;
}

void
vnic_qemu_hub_append_argv(GPtrArray *argv, const char *id, guint hubid, const char *tap_id)
{
    g_autofree char *port = vnic_qemu_hub_port_id(id);
    g_autofree char *nic_port = vnic_qemu_hub_nic_port_id(id);

    g_ptr_array_add(argv, g_strdup("-netdev"));
    g_ptr_array_add(argv, g_strdup_printf("hubport,id=%s,hubid=%u,netdev=%s", port, hubid,
                                          tap_id));
    g_ptr_array_add(argv, g_strdup("-netdev"));
    g_ptr_array_add(argv, g_strdup_printf("hubport,id=%s,hubid=%u", nic_port, hubid));
}

/* getfd → netdev_add tap host<id> → hubport hp-<id>, as a plug to extend. */
static VnicQemuPlug *
backend_plug(const char *what, const char *id, guint hubid, int *fds, guint n_fds)
{
    g_autofree char *tap = g_strconcat("host", id, NULL);
    g_autofree char *port = vnic_qemu_hub_port_id(id);
    VnicQemuPlug *plug = vnic_qemu_plug_new(what, id);

    vnic_qemu_plug_add_tap(plug, tap, fds, n_fds);
    vnic_qemu_plug_add(plug, VNIC_QEMU_STEP_HUBPORT, "netdev_add",
                       vnic_qemu_hub_port_args(port, hubid, tap), port);
    return plug;
}

void
vnic_qemu_hub_hotplug_nic_async(VnicQmpClient *qmp, const VnicConfDomain *def,
                                const VnicConfDevice *dev, int *fds, guint n_fds,
                                const char *fail_step, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
    g_autofree char *what = g_strdup_printf("hot-plug of %s", dev->alias);
    g_autofree char *nic_port = vnic_qemu_hub_nic_port_id(dev->alias);
    guint hubid = vnic_qemu_hub_id(dev);
    VnicQemuPlug *plug = backend_plug(what, dev->alias, hubid, fds, n_fds);

    vnic_qemu_plug_add(plug, VNIC_QEMU_STEP_HUBPORT, "netdev_add",
                       vnic_qemu_hub_port_args(nic_port, hubid, NULL), nic_port);
    vnic_qemu_plug_add_device(plug, def, dev, nic_port);
    vnic_qemu_plug_run_async(plug, qmp, fail_step, cancellable, callback, user_data);
}

void
vnic_qemu_hub_attach_async(VnicQmpClient *qmp, const char *id, guint hubid, int *fds,
                           guint n_fds, const char *fail_step, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
    g_autofree char *what = g_strdup_printf("new backend for %s", id);

    vnic_qemu_plug_run_async(backend_plug(what, id, hubid, fds, n_fds), qmp, fail_step,
                             cancellable, callback, user_data);
}

/* ---- netdev_del of several netdevs, sent back to back ------------------ */

typedef struct {
    guint pending;
    GError *error;            /* the first failure */
} Delete;

static void
delete_free(Delete *d)
{
    g_clear_error(&d->error);
    g_free(d);
}

static void
delete_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    Delete *d = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    /* Already gone (a detach retried, a half-done swap) is what we want. */
    if (!ret && g_strcmp0(vnic_qmp_error_get_class(error), "DeviceNotFound") != 0 && !d->error)
        d->error = g_steal_pointer(&error);
    if (--d->pending > 0)
        return;
    if (d->error)
        g_task_return_error(task, g_steal_pointer(&d->error));
    else
        g_task_return_boolean(task, TRUE);
}

/* netdev_del of each of @ids (NULL-terminated, at least one), the task
 * (@source_tag) done when all answered. */
static void
delete_netdevs(VnicQmpClient *qmp, const char *const *ids, gpointer source_tag,
               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    Delete *d = g_new0(Delete, 1);

    g_task_set_source_tag(task, source_tag);
    g_task_set_task_data(task, d, (GDestroyNotify)delete_free);
    d->pending = g_strv_length((char **)ids);
    for (guint i = 0; ids[i] != NULL; i++) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "id", ids[i]);
        vnic_qmp_client_execute_async(qmp, "netdev_del", args, NULL, 0, 10000, cancellable,
                                      delete_done, g_object_ref(task));
    }
    g_object_unref(task);
}

void
vnic_qemu_hub_detach_async(VnicQmpClient *qmp, const char *id, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
    g_autofree char *port = vnic_qemu_hub_port_id(id);
    g_autofree char *tap = g_strconcat("host", id, NULL);
    const char *const ids[] = { port, tap, NULL };

    delete_netdevs(qmp, ids, vnic_qemu_hub_detach_async, cancellable, callback, user_data);
}

char **
vnic_qemu_nic_netdev_ids(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    GPtrArray *ids;

    g_return_val_if_fail(dev != NULL && dev->alias != NULL, NULL);
    ids = g_ptr_array_new();
    g_ptr_array_add(ids, g_strconcat("host", dev->alias, NULL));
    if (vnic_qemu_nic_on_hub(def, dev)) {
        g_ptr_array_add(ids, vnic_qemu_hub_port_id(dev->alias));
        g_ptr_array_add(ids, vnic_qemu_hub_nic_port_id(dev->alias));
        /* there only during a restore, or left by a vnicd killed in one */
        g_ptr_array_add(ids, vnic_qemu_hub_gap_port_id(dev->alias));
    }
    g_ptr_array_add(ids, NULL);
    return (char **)g_ptr_array_free(ids, FALSE);
}

void
vnic_qemu_nic_netdevs_delete_async(VnicQmpClient *qmp, const VnicConfDomain *def,
                                   const VnicConfDevice *dev, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
    g_auto(GStrv) ids = vnic_qemu_nic_netdev_ids(def, dev);

    delete_netdevs(qmp, (const char *const *)ids, vnic_qemu_nic_netdevs_delete_async,
                   cancellable, callback, user_data);
}

gboolean
vnic_qemu_nic_netdevs_delete_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- swap: detach, then attach ------------------------------------------ */

typedef struct {
    VnicQmpClient *qmp;
    VnicQemuPlug *plug;       /* until attach takes it */
    char *fail_step;
} Swap;

static void
swap_free(Swap *s)
{
    vnic_qemu_plug_free(s->plug);
    g_free(s->fail_step);
    g_free(s);
}

static void
swap_attached(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    GError *error = NULL;

    if (vnic_qemu_plug_finish(res, NULL, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void
swap_detached(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    Swap *s = g_task_get_task_data(task);
    GError *error = NULL;

    if (!vnic_qemu_hub_finish(res, &error)) {
        g_prefix_error(&error, "dropping the old backend: ");
        g_task_return_error(task, error);
        return;
    }
    vnic_qemu_plug_run_async(g_steal_pointer(&s->plug), s->qmp, s->fail_step,
                             g_task_get_cancellable(task), swap_attached, g_object_ref(task));
}

void
vnic_qemu_hub_swap_async(VnicQmpClient *qmp, const char *id, guint hubid, int *fds,
                         guint n_fds, const char *fail_step, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    Swap *s = g_new0(Swap, 1);
    g_autofree char *what = g_strdup_printf("new backend for %s", id);

    g_task_set_source_tag(task, vnic_qemu_hub_swap_async);
    g_task_set_task_data(task, s, (GDestroyNotify)swap_free);
    s->qmp = qmp;
    s->plug = backend_plug(what, id, hubid, fds, n_fds);
    s->fail_step = g_strdup(fail_step);
    vnic_qemu_hub_detach_async(qmp, id, cancellable, swap_detached, task);
}

/* ---- set_link ----------------------------------------------------------- */

static void
set_link_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    GError *error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (ret)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

void
vnic_qemu_set_link_async(VnicQmpClient *qmp, const char *id, gboolean up,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(JsonObject) args = json_object_new();

    g_task_set_source_tag(task, vnic_qemu_set_link_async);
    json_object_set_string_member(args, "name", id);
    json_object_set_boolean_member(args, "up", up);
    vnic_qmp_client_execute_async(qmp, "set_link", args, NULL, 0, 10000, cancellable,
                                  set_link_done, task);
}

gboolean
vnic_qemu_hub_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}
