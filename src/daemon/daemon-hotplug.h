/* daemon-hotplug.h: shared by the daemon's attach and detach files. */
#pragma once

#include "daemon/daemon-lifecycle.h"
#include "qemu/qemu-hotplug.h"

/* virsh's --live/--config: neither means live when running, else config.
 * InvalidState for live on a domain that is not running. */
gboolean vnic_hotplug_resolve_flags(VnicDomain *dom, VnicApiRequest *request, gboolean *live,
                                    gboolean *config, GError **error);

/* The <interface> XML of an attach request: "xml" (attach-device), built
 * from attach-interface's arguments, or the NIC detached earlier with this
 * MAC (replug). */
char *vnic_hotplug_request_xml(VnicDomain *dom, VnicApiRequest *request, GError **error);
/* The request's "xml" for a command that parses it in the main loop
 * (update-device, detach-device): an <interface> there is a few hundred
 * bytes, so one of more than VNIC_OFF_LOOP_INLINE_MAX is refused before it
 * is parsed, and a hostile one cannot stall the daemon. */
gboolean vnic_hotplug_small_xml_arg(VnicApiRequest *request, const char **xml, GError **error);

/* A hot-plugged NIC must not ask for what hot-plug cannot give: a denied
 * guest unplug needs an integrated endpoint (q35) or the whole root bus
 * (pc), neither of which takes hot-plug. */
gboolean vnic_hotplug_check_unplug_setting(const VnicConfDomain *def, const VnicConfDevice *dev,
                                           GError **error);

/* Gives @dev a 52:54:00 MAC that no NIC of @def has. */
void vnic_hotplug_assign_mac(const VnicConfDomain *def, VnicConfDevice *dev, GRand *rand);

/* Remembers a detached NIC (by MAC) so `replug` can bring it back. */
void vnic_hotplug_remember(VnicDomain *dom, const VnicConfDevice *dev);

/* daemon-hotplug.c / daemon-unplug.c: the jobs. */
void vnic_domain_attach_job(VnicDomain *dom, VnicApiRequest *request);
void vnic_domain_detach_job(VnicDomain *dom, VnicApiRequest *request);

/* After a restart: NIC @alias is recorded unplugging and QEMU still has
 * it; device_del goes (again), since vnicd may have died between recording
 * the intent and sending it.  Its DEVICE_DELETED completes the unplug. */
void vnic_domain_resume_unplug(VnicDomain *dom, const char *alias);

/* Ends unplugs still waiting when QEMU is gone. */
void vnic_domain_abort_unplugs(VnicDomain *dom);

/* The link watch saw link @ifindex go: an unplug waiting for it to be
 * unlisted before netdev_del goes on (daemon-unplug.c). */
void vnic_domain_unplug_link_removed(VnicDaemon *daemon, guint ifindex);

/* Whether ledger entry @o is a link being deleted, or left over by one
 * (its NIC has left the live definition): its name stays reserved. */
gboolean vnic_domain_is_pending_link(const VnicDomain *dom, const VnicOwnedLink *o);
/* At start-up (reconcile): deletes, or forgets when gone, the links a
 * detach left in the ledger when vnicd stopped, with BACKEND_REMOVED. */
void vnic_domain_finish_link_deletions(VnicDomain *dom);

/* QEMU events about devices, registered on every QEMU's monitor. */
void vnic_domain_watch_devices(VnicDomain *dom);
