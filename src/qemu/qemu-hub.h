/* qemu-hub.h: NICs whose backend can be replaced while the guest runs.
 *
 * QEMU 7.2 cannot re-peer a NIC, but a hub can stand between the two: the
 * NIC is on hubport hpnic-<id>, the tap host<id> on hubport hp-<id> of the
 * same hub.  Replacing the backend is then netdev_del hp-<id> and
 * host<id>, and netdev_add of a new tap and hubport under the same ids;
 * the guest keeps its NIC (slot, MAC, name) and sees only carrier, which
 * set_link drives.  The price: a hub forwards plain frames, so there is no
 * virtio-net header between tap and NIC, hence no checksum or TSO
 * offload (docs/backends.md has the numbers).
 *
 * One hub per NIC, numbered after its PCI address, so two NICs of a
 * domain never share one (a shared hub would bridge them).
 */
#pragma once

#include "conf/conf-domain.h"
#include "qemu/qemu-hotplug.h"

G_BEGIN_DECLS

#define VNIC_QEMU_STEP_HUBPORT "hubport"

/* TRUE when NIC @dev of @def runs on a hub: its effective reconnect mode
 * (vnic_conf_nic_reconnect_mode) is HUB.  @dev need not be part of @def
 * (a NIC being attached).  The command line, hot-plug and unplug all ask
 * this, so they agree. */
gboolean vnic_qemu_nic_on_hub(const VnicConfDomain *def, const VnicConfDevice *dev);

/* The hub of NIC @dev (which has its PCI address):
 * bus << 8 | slot << 3 | function. */
guint vnic_qemu_hub_id(const VnicConfDevice *dev);
/* "hp-<id>": the tap's hubport; "hpnic-<id>": the NIC's; "hpgap-<id>": a
 * port with no netdev that keeps the hub from being empty while a restore
 * has set the NIC's carrier up but not yet attached its backend (a frame
 * sent to an empty hub stalls the NIC's transmit; daemon-heal.c). */
char *vnic_qemu_hub_port_id(const char *id);
char *vnic_qemu_hub_nic_port_id(const char *id);
char *vnic_qemu_hub_gap_port_id(const char *id);

/* netdev_add's arguments for hubport @port_id on hub @hubid, peered with
 * netdev @netdev (NULL for the NIC's port, which the -device peers). */
JsonObject *vnic_qemu_hub_port_args(const char *port_id, guint hubid, const char *netdev);

/* The command line: appends "-netdev hubport,id=hp-<id>,hubid=K,netdev=
 * @tap_id" and "-netdev hubport,id=hpnic-<id>,hubid=K" to @argv (char*),
 * after the tap's own -netdev; the NIC's -device then takes
 * netdev=hpnic-<id>.  Pure. */
void vnic_qemu_hub_append_argv(GPtrArray *argv, const char *id, guint hubid, const char *tap_id);

/* Hot-plug of @dev in hub mode: getfd → netdev_add tap → hubport hp-<id>
 * → hubport hpnic-<id> → device_add on it, undone on failure like
 * vnic_qemu_hotplug_nic_async(); finish with vnic_qemu_plug_finish(). */
void vnic_qemu_hub_hotplug_nic_async(VnicQmpClient *qmp, const VnicConfDomain *def,
                                     const VnicConfDevice *dev, int *fds, guint n_fds,
                                     const char *fail_step, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);

/* Drops NIC @id's backend: netdev_del hp-<id> and host<id> (one that is
 * already gone counts as deleted).  The NIC stays, on its hub alone.
 * Finish with vnic_qemu_hub_finish(), like swap and set_link. */
void vnic_qemu_hub_detach_async(VnicQmpClient *qmp, const char *id, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

/* Gives the detached NIC @id (on hub @hubid) the tap @fds (taken, one per
 * queue): getfd → netdev_add tap host<id> → hubport hp-<id>, undone on
 * failure (the NIC then stays detached).  Finish with
 * vnic_qemu_plug_finish(). */
void vnic_qemu_hub_attach_async(VnicQmpClient *qmp, const char *id, guint hubid, int *fds,
                                guint n_fds, const char *fail_step, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

/* Detach then attach.  On failure the old backend is gone all the same
 * and the new one is not there: the NIC is detached (set its link down,
 * try again later); the error names the step. */
void vnic_qemu_hub_swap_async(VnicQmpClient *qmp, const char *id, guint hubid, int *fds,
                              guint n_fds, const char *fail_step, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);

/* set_link name=@id up=@up: the guest's carrier of NIC @id. */
void vnic_qemu_set_link_async(VnicQmpClient *qmp, const char *id, gboolean up,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);

/* The netdevs NIC @dev (its alias set) has in QEMU, NULL-terminated
 * (g_strfreev): host<id>, and on a hub hp-<id> and hpnic-<id>. */
char **vnic_qemu_nic_netdev_ids(const VnicConfDomain *def, const VnicConfDevice *dev);

/* After device_del of NIC @dev completed (DEVICE_DELETED): netdev_del of
 * each of vnic_qemu_nic_netdev_ids(), sent back to back; one already gone
 * counts as deleted.  Finish with vnic_qemu_nic_netdevs_delete_finish(). */
void vnic_qemu_nic_netdevs_delete_async(VnicQmpClient *qmp, const VnicConfDomain *def,
                                        const VnicConfDevice *dev, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
/* FALSE with the first netdev_del that failed otherwise. */
gboolean vnic_qemu_nic_netdevs_delete_finish(GAsyncResult *result, GError **error);

/* The end of a detach, swap or set_link. */
gboolean vnic_qemu_hub_finish(GAsyncResult *result, GError **error);

G_END_DECLS
