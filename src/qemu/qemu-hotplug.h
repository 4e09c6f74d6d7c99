/* qemu-hotplug.h: plugging one NIC into a running QEMU over QMP.
 *
 * getfd (one per queue, the fds sent with SCM_RIGHTS) → netdev_add (tap,
 * vhost off) → device_add with an explicit bus and addr; a vhost-user NIC
 * (no fds) chardev-add (its socket) → netdev_add vhost-user → device_add.  A failing step
 * undoes the ones before it, in reverse (netdev_del, closefd), so QEMU is
 * left as it was; the error names the step and carries QEMU's message.
 */
#pragma once

#include "conf/conf-domain.h"
#include "qemu/qmp-client.h"

G_BEGIN_DECLS

typedef struct {
    gint64 getfd_us;
    gint64 netdev_add_us;
    gint64 device_add_us;
} VnicQemuHotplugTimings;

/* The steps, for messages and for fault injection in tests. */
#define VNIC_QEMU_STEP_GETFD "getfd"
#define VNIC_QEMU_STEP_NETDEV_ADD "netdev_add"
#define VNIC_QEMU_STEP_DEVICE_ADD "device_add"

/* Plugs NIC @dev (its alias, MAC and planned address set; not yet part of
 * @def, which provides the bus names) with the host backend's @fds, one per
 * queue.  Takes @fds: they are closed when the call is done, whatever
 * happens (QEMU holds its own copies).  @fail_step (tests only, usually
 * NULL) makes that step send an argument QEMU refuses, to exercise the
 * rollback against a real QEMU. */
void vnic_qemu_hotplug_nic_async(VnicQmpClient *qmp, const VnicConfDomain *def,
                                 const VnicConfDevice *dev, int *fds, guint n_fds,
                                 const char *fail_step, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean vnic_qemu_hotplug_nic_finish(GAsyncResult *result, VnicQemuHotplugTimings *timings,
                                      GError **error);

/* device_add's arguments for @dev (pure): driver, netdev, id, mac, bus,
 * addr, acpi-index, multiqueue and MTU properties. */
JsonObject *vnic_qemu_nic_device_args(const VnicConfDomain *def, const VnicConfDevice *dev,
                                      const char *netdev_id, GError **error);

G_END_DECLS
