/* host-backend.h: the host side of a guest NIC, created and owned by vnicd.
 *
 * For an <interface> vnic creates the host device itself and hands QEMU
 * only file descriptors, so QEMU never needs privileges:
 *   ethernet  a tap (TUNSETIFF, IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, IFF_MULTI_QUEUE
 *             when <driver queues> > 1), brought up, MTU applied;
 *   bridge    the same tap, enslaved to <source bridge> over netlink;
 *   direct    a macvtap on <source dev> in <source mode>, its MAC set to the
 *             guest NIC's, up, and its /dev/tapN opened once per queue.
 * Names: <target dev> when given (refused if a link of that name exists),
 * else the lowest free vnetN / macvtapN, chosen atomically by the kernel.
 * <target dev='X' managed='no'/>: tap X must exist; vnic attaches queues to
 * it and changes nothing but <bandwidth>; it is not vnic's link.
 * <bandwidth>: tc (htb class for inbound, ingress police for outbound) on
 * the link, see host-bandwidth.c.  A network NIC uses what it resolved to
 * (vnic_conf_nic_backend_type()).
 *
 * Ownership: every link vnic creates is described by a VnicHostLink (name,
 * ifindex, kind).  vnic_host_link_delete() deletes a link only if a link
 * with exactly that name AND ifindex (and kind) still exists: a link someone
 * else created under a recycled name or number is never touched.
 *
 * Taps are not persistent: a tap lives as long as some fd on it is open.
 * QEMU holds the fds, and vnicd one reference of its own to each
 * (vnic_host_backend_ref_queues): the tap lives until both closed, so
 * across a vnicd restart (QEMU's alone then), and goes when QEMU exits
 * and vnicd cleans up, or with a vnicd killed and QEMU gone, so a dead
 * QEMU cannot leak taps.  macvtaps stay until deleted.
 *
 * A macvtap's queues are opened from its character device: /dev/tap<ifindex>
 * when that node is this macvtap's device (major:minor from
 * /sys/class/net/<name>/macvtap/tap<ifindex>/dev), else a private node made
 * with mknod in /dev and unlinked at once.  So /sys must show vnicd's
 * network namespace (as it does for a daemon in the host's namespace).
 *
 * Threads: every call opens its own netlink socket; calls may run
 * concurrently from several threads.  Nothing here logs above g_debug.
 */
#pragma once

#include <glib.h>

#include "conf/conf-domain.h"

G_BEGIN_DECLS

#define VNIC_HOST_ERROR (vnic_host_error_quark())
GQuark vnic_host_error_quark(void);

/* Codes are API (see vnic_host_error_code_to_string()): add at the end only.
 * Messages name the device and the step: "creating tap 'vnet3': Operation
 * not permitted", "enslaving 'vnet0' to bridge 'br0': …". */
typedef enum {
    VNIC_HOST_ERROR_FAILED,       /* a syscall or netlink request failed (errno text in message) */
    VNIC_HOST_ERROR_EXISTS,       /* <target dev> names a link that exists and is not ours */
    VNIC_HOST_ERROR_NOT_FOUND,    /* <source bridge|dev> does not exist */
    VNIC_HOST_ERROR_INVALID,      /* e.g. <source bridge> is not a bridge */
} VnicHostErrorCode;

/* "failed", "exists", "not-found", "invalid". */
const char *vnic_host_error_code_to_string(VnicHostErrorCode code);
gboolean vnic_host_error_code_from_string(const char *name, VnicHostErrorCode *code);

typedef enum {
    VNIC_HOST_LINK_TAP,
    VNIC_HOST_LINK_MACVTAP,
    VNIC_HOST_LINK_IFB,       /* shapes <outbound> where tc has no police action */
} VnicHostLinkKind;

/* A link vnic created.  Plain data, safe to copy into state files. */
typedef struct {
    char *name;
    guint ifindex;
    VnicHostLinkKind kind;
} VnicHostLink;

VnicHostLink *vnic_host_link_copy(const VnicHostLink *link);
void vnic_host_link_free(VnicHostLink *link);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicHostLink, vnic_host_link_free)
const char *vnic_host_link_kind_to_string(VnicHostLinkKind kind);
gboolean vnic_host_link_kind_from_string(const char *text, VnicHostLinkKind *kind);

/* A created backend: the link and the fds for QEMU (one per queue).  The
 * backend owns the fds until vnic_host_backend_steal_fds(). */
typedef struct _VnicHostBackend VnicHostBackend;

/* Creates the backend for @nic.  On failure nothing is left behind (any link
 * created is deleted, every fd closed) and @error says which step failed.
 * The link is brought up unless <link state='down'>; a tap's MAC is the
 * guest's with the first byte 0xFE (like libvirt), a macvtap's the guest's;
 * a tap on a bridge without <mtu> takes the bridge's MTU (like libvirt).
 * A given <target dev> that exists already is VNIC_HOST_ERROR_EXISTS. */
VnicHostBackend *vnic_host_backend_create(const VnicConfNic *nic, GError **error);

/* Frees the struct and closes fds still owned; does NOT delete the link
 * (use vnic_host_link_delete with the link record for that).  A tap whose
 * fds nobody else holds disappears with its last fd all the same. */
void vnic_host_backend_free(VnicHostBackend *backend);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicHostBackend, vnic_host_backend_free)

const VnicHostLink *vnic_host_backend_get_link(const VnicHostBackend *backend);
/* The IFB link vnic made to shape the NIC's <outbound> (a kernel without
 * tc's police action: the tap's ingress is redirected to it), or NULL.
 * Always vnic's: record it and delete it with the NIC. */
const VnicHostLink *vnic_host_backend_get_ifb(const VnicHostBackend *backend);
/* FALSE for an existing tap (<target managed='no'>): the caller must not
 * record its link as its own, nor ever delete it. */
gboolean vnic_host_backend_is_owned(const VnicHostBackend *backend);

/* Removes the shaping <bandwidth> added to link @name: its root and
 * ingress qdiscs (a link that is gone is fine).  For links vnic does not
 * delete (managed='no'), as libvirt clears them when the guest stops. */
gboolean vnic_host_bandwidth_clear(const char *name, GError **error);
/* The fds, still owned by the backend. */
const int *vnic_host_backend_get_fds(const VnicHostBackend *backend, guint *n_fds);
/* Hands the fds over to the caller (the backend forgets them); free the
 * array with g_free. */
int *vnic_host_backend_steal_fds(VnicHostBackend *backend, guint *n_fds);

/* vnicd's own reference to the queue fds it handed QEMU: one dup() of each
 * (the same open file, not a new queue).  While vnicd holds it, QEMU's
 * close of a queue is never the last one, so netdev_del does not wait for
 * the kernel's teardown (an RCU grace period: tun's __tun_detach,
 * macvtap's tap_put_queue); vnicd closes it later, off the main loop
 * (docs/performance.md "Detach promise").  The cost: one fd per queue. */
typedef struct {
    int *fds;
    guint n_fds;
} VnicHostQueueRefs;

/* A reference to each of @backend's fds (before they are stolen), or NULL
 * with @error naming the link and the errno ("Too many open files"):
 * nothing is left open then. */
VnicHostQueueRefs *vnic_host_backend_ref_queues(const VnicHostBackend *backend, GError **error);
/* The references a vnicd restarted while QEMU (@pid) runs takes back: to
 * every fd of that process on tap or macvtap @link (pidfd_getfd(2)).
 * NULL with @error when there is none (VNIC_HOST_ERROR_NOT_FOUND) or the
 * process cannot be read; never a part of what was found. */
VnicHostQueueRefs *vnic_host_queue_refs_recover(int pid, const VnicHostLink *link,
                                                GError **error);
/* Closes the references and frees @refs.  May wait for the kernel (the
 * last reference of a queue): in a worker thread where that matters. */
void vnic_host_queue_refs_free(VnicHostQueueRefs *refs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicHostQueueRefs, vnic_host_queue_refs_free)

/* Deletes @link if a link with exactly its name and ifindex exists.
 * Returns TRUE when the link is gone (deleted now, or already gone) and
 * also when that ifindex now has another name or kind (renamed or not
 * ours: left alone, nothing done); FALSE with @error when the deletion
 * failed.  Never deletes anything else.  RTM_DELLINK also works on a tap
 * whose fds QEMU still holds. */
gboolean vnic_host_link_delete(const VnicHostLink *link, GError **error);

/* TRUE when a link with exactly this name, ifindex and kind exists now
 * (FALSE too when it cannot be checked). */
gboolean vnic_host_link_exists(const VnicHostLink *link);

/* The macvtaps on @lower that carry @mac (VnicHostLink, kind MACVTAP).  The
 * kernel lets one MAC exist once per lower device, and a macvtap gets the
 * guest's MAC at creation (not in passthrough mode), so this finds the link
 * a NIC's attach created even when it was never recorded (vnicd killed in
 * between).  An empty array when @lower is gone. */
GPtrArray *vnic_host_macvtaps_with_mac(const char *lower, const guint8 mac[6], GError **error);

/* Sets the admin state (IFF_UP) of an owned link (used when macvtap lower
 * devices go away and come back, and for <link state='down'>).  A link
 * that is gone or no longer ours is VNIC_HOST_ERROR_NOT_FOUND. */
gboolean vnic_host_link_set_up(const VnicHostLink *link, gboolean up, GError **error);

/* Puts the owned tap @tap (a link with exactly its name and ifindex, else
 * VNIC_HOST_ERROR_NOT_FOUND) on bridge @bridge (NOT_FOUND when missing,
 * INVALID when not a bridge) with MTU @mtu, or the bridge's when 0 (as at
 * creation), and brings it up: for a tap that survived its bridge being
 * deleted, once a bridge of that name is back.  Also fine on a tap still
 * on that bridge. */
gboolean vnic_host_tap_enslave(const VnicHostLink *tap, const char *bridge, guint mtu,
                               GError **error);

/* TRUE when link @name exists (and, with @bridge, is a bridge); else
 * NOT_FOUND or INVALID naming it.  For checks before anything is made. */
gboolean vnic_host_link_check(const char *name, gboolean bridge, GError **error);

G_END_DECLS
