/* qemu-hotplug.h: plugging one NIC into a running QEMU over QMP.
 *
 * getfd (one per queue, the fds sent with SCM_RIGHTS) → netdev_add (tap,
 * vhost off) → device_add with an explicit bus and addr; a vhost-user NIC
 * (no fds) chardev-add (its socket) → netdev_add vhost-user → device_add;
 * a NIC whose reconnect mode is hub (vnic_qemu_nic_on_hub) gets its
 * hubports too (vnic_qemu_hub_hotplug_nic_async).  A failing step undoes
 * the ones before it, in reverse (netdev_del, closefd), so QEMU is left as
 * it was; the error names the step and carries QEMU's message.
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

/* What the launcher refuses in a lone <interface> (a type it does not run,
 * <virtualport>, children it does not honour), checked before anything is
 * made for it: the same rule as for a domain's NICs at define. */
gboolean vnic_qemu_hotplug_check_nic(const VnicConfDomain *def, const VnicConfDevice *dev,
                                     GError **error);

/* Plugs NIC @dev (its alias, MAC and planned address set; not yet part of
 * @def, which provides the bus names) with the host backend's @fds, one per
 * queue.  Takes @fds: they are closed when the call is done, whatever
 * happens (QEMU holds its own copies).  @fail_step (tests only, usually
 * NULL) makes that step send an argument QEMU refuses, to exercise the
 * rollback against a real QEMU.  A NIC on a hub is plugged with its
 * hubports (vnic_qemu_hub_hotplug_nic_async), so callers need not care. */
void vnic_qemu_hotplug_nic_async(VnicQmpClient *qmp, const VnicConfDomain *def,
                                 const VnicConfDevice *dev, int *fds, guint n_fds,
                                 const char *fail_step, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean vnic_qemu_hotplug_nic_finish(GAsyncResult *result, VnicQemuHotplugTimings *timings,
                                      GError **error);

/* ---- the sequence underneath, for other plugs (qemu-hub.c) -------------- */

/* The name getfd gives the fd of queue @queue of NIC @alias's tap
 * ("vnic-<alias>-<queue>"): what closefd takes after a plug cut short. */
char *vnic_qemu_plug_fd_name(const char *alias, guint queue);

/* getfd of each tap fd (as vnic-<@alias>-<i>) → netdev_add of the tap on
 * them → each step added, in order.  Steps with an undo of their own go
 * back to back without waiting for the replies before them; a step without
 * an undo (device_add) waits until all before it succeeded.  A failing step
 * undoes every step that succeeded, in reverse (their undo commands,
 * closefd), so QEMU is left as it was; the error is "<@what> failed at
 * <step>: <QEMU's message>" of the earliest step that failed. */
typedef struct _VnicQemuPlug VnicQemuPlug;

VnicQemuPlug *vnic_qemu_plug_new(const char *what, const char *alias);
/* First, for a tap: takes @fds (each set to -1; closed when the plug is
 * freed, QEMU holds its own copies) and adds netdev_add of tap @tap_id
 * (step VNIC_QEMU_STEP_NETDEV_ADD).  No fds: the plug fails. */
void vnic_qemu_plug_add_tap(VnicQemuPlug *plug, const char *tap_id, int *fds, guint n_fds);
/* Appends @command with @args (taken).  On rollback netdev @undo_netdev is
 * deleted (NULL: the step leaves nothing to undo, e.g. the last one). */
void vnic_qemu_plug_add(VnicQemuPlug *plug, const char *step, const char *command,
                        JsonObject *args, const char *undo_netdev);
/* The same with any undo: @undo_command with @undo_args (taken; NULL:
 * nothing to undo).  @undo_takes_previous: that undo also undoes the step
 * before (netdev_del of a vhost-user netdev deletes its chardev). */
void vnic_qemu_plug_add_full(VnicQemuPlug *plug, const char *step, const char *command,
                             JsonObject *args, const char *undo_command, JsonObject *undo_args,
                             gboolean undo_takes_previous);
/* The last step added, when its reply does not come in time (QEMU may
 * still run it, before the undo commands, which it reads after it): undone
 * with @command and @args (taken) then.  For steps that need no undo when
 * they fail, such as device_add (device_del). */
void vnic_qemu_plug_set_late_undo(VnicQemuPlug *plug, const char *command, JsonObject *args);
/* Each command's reply timeout (default 10 s; tests). */
void vnic_qemu_plug_set_reply_timeout(VnicQemuPlug *plug, guint ms);
/* A plug whose steps could not be built: running it just returns @error
 * (taken). */
void vnic_qemu_plug_set_error(VnicQemuPlug *plug, GError *error);
void vnic_qemu_plug_free(VnicQemuPlug *plug);
/* Appends device_add of NIC @dev on netdev @netdev_id
 * (vnic_qemu_nic_device_args); when those arguments cannot be built, the
 * plug fails with that error instead. */
void vnic_qemu_plug_add_device(VnicQemuPlug *plug, const VnicConfDomain *def,
                               const VnicConfDevice *dev, const char *netdev_id);
/* Runs @plug (taken).  @fail_step (tests only): that step sends an
 * argument QEMU refuses. */
void vnic_qemu_plug_run_async(VnicQemuPlug *plug, VnicQmpClient *qmp, const char *fail_step,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean vnic_qemu_plug_finish(GAsyncResult *result, VnicQemuHotplugTimings *timings,
                               GError **error);

/* device_add's arguments for @dev (pure): driver, netdev, id, mac, bus,
 * addr, acpi-index, multiqueue and MTU properties. */
JsonObject *vnic_qemu_nic_device_args(const VnicConfDomain *def, const VnicConfDevice *dev,
                                      const char *netdev_id, GError **error);

G_END_DECLS
