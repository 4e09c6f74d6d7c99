/* daemon-lifecycle.h: the daemon files that drive QEMU share this. */
#pragma once

#include "daemon/daemon.h"
#include "qemu/qemu-process.h"

#include <errno.h>
#include <string.h>

/* Deletes every link in @dom's ledger that still exists; FALSE if one
 * could not be deleted (it stays in the ledger). */
gboolean vnic_domain_delete_links(VnicDomain *dom);
/* Closes vnicd's references to the queues of @dom's links (the detach
 * promise) before vnicd stops QEMU itself (destroy, a migration's source):
 * QEMU's exit is then the last close and frees its taps, as it would
 * without them, and the cleanup does not wait for their teardown. */
void vnic_domain_drop_queue_refs(VnicDomain *dom);

/* Deletes every link in @dom's ledger that NIC @alias owns (its tap or
 * macvtap, an ifb shaping its <outbound>); one that cannot be deleted
 * stays in the ledger, with a warning. */
void vnic_domain_delete_nic_links(VnicDomain *dom, const char *alias);

/* Back to shut off after QEMU is gone: links, status file, run dir. */
void vnic_domain_cleanup(VnicDomain *dom);
/* Records @link (copied) in the ledger as the NIC @alias's. */
VnicOwnedLink *vnic_domain_own_link(VnicDomain *dom, const VnicHostLink *link,
                                    const char *alias);
/* Takes <bandwidth> off an existing tap (managed='no') the NIC used. */
void vnic_domain_clear_unmanaged(VnicDomain *dom, const VnicConfDevice *dev);
/* Logs the warning for <driver name='vhost'> (no vhost-net: userspace). */
void vnic_domain_warn_vhost(const VnicDomain *dom, const VnicConfDomain *def,
                            const VnicConfDevice *dev);

/* An incoming migration's start (daemon-migrate-dest.c): @live (taken) is
 * the source's live definition as this host runs it.  QEMU starts with
 * -incoming defer; the domain is then paused, its NICs backend-ready.
 * @done runs once QEMU is verified (@error NULL), or after a failed start
 * was cleaned up (links by the ledger, files, status). */
typedef void (*VnicIncomingStarted)(VnicDomain *dom, const GError *error, gpointer data);
void vnic_domain_start_incoming(VnicDomain *dom, VnicConfDomain *live, VnicIncomingStarted done,
                                gpointer data);

/* QEMU is gone, whoever ended it: cleans up, emits DOMAIN_STOPPED, ends a
 * shutdown waiting for it.  The exit func of every VnicQemuProcess. */
void vnic_domain_on_qemu_exit(VnicQemuProcess *proc, const VnicQemuExit *exit, gpointer data);

/* After a re-attach: drops from the live definition the NICs QEMU no
 * longer has (query-pci) and cleans up after them, then ends the job. */
void vnic_domain_reconcile(VnicDomain *dom);

/* daemon-qemu-ids.c: the uid and gid QEMU runs under. */
/* Per-domain ids from qemu-uid-range (a pool), or qemu-user's; checks that
 * no user or group of the system has an id of the range. */
gboolean vnic_daemon_qemu_ids_setup(VnicDaemon *daemon, GError **error);
void vnic_daemon_qemu_ids_free(VnicDaemon *daemon);
/* Gives @dom its QEMU's ids (recorded on @dom, for the status file) and
 * sets them in @opts; HOST error when the range has no free id. */
gboolean vnic_domain_qemu_ids_take(VnicDomain *dom, VnicQemuLaunchOptions *opts, GError **error);
/* A status file says @dom's QEMU runs under @uid/@gid: they are its. */
void vnic_domain_qemu_ids_claim(VnicDomain *dom, uid_t uid, gid_t gid);
/* @dom's QEMU is gone: its ids are free (vnic_domain_cleanup). */
void vnic_domain_qemu_ids_release(VnicDomain *dom);

/* daemon-reattach.c: the status file's description of QEMU. */
void vnic_state_append_process_attrs(GString *s, VnicDomain *dom);
void vnic_state_append_owned(GString *s, VnicDomain *dom);

/* daemon-reconcile.c: removes NIC @dev from the live definition, deletes its
 * host link and emits DEVICE_REMOVED (@initiator "host" or "guest"). */
void vnic_domain_forget_nic(VnicDomain *dom, VnicConfDevice *dev, const char *initiator);
