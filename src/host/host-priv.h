/* host-priv.h: the host layer's insides, shared by its files and its tests.
 *
 * host-backend.c  records (VnicHostLink, VnicHostBackend), errors, the
 *                 create/rollback frame and the test failure hook;
 * host-netlink.c  route netlink through libnl (VnicHostNl) and the public
 *                 operations on link records;
 * host-tap.c      ethernet and bridge backends (/dev/net/tun);
 * host-macvtap.c  direct backends (macvtap links and their /dev/tapN);
 * host-queues.c   vnicd's references to the queue fds QEMU holds.
 *
 * Not for use outside src/host except by src/host/tests.
 */
#pragma once

#include "host/host-backend.h"

#include <stdarg.h>
#include <sys/types.h>

#include <linux/if.h>
#include <netlink/route/link.h>

G_BEGIN_DECLS

/* libnl's types under names g_autoptr accepts; the cleanups are defined
 * here and nowhere else. */
typedef struct nl_sock nl_sock;
typedef struct nl_msg nl_msg;
typedef struct nl_addr nl_addr;
typedef struct rtnl_link rtnl_link;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_sock, nl_socket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_msg, nlmsg_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_addr, nl_addr_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtnl_link, rtnl_link_put)

/* vnic's auto-close for fds (GLib 2.74 has no g_autofd): closes a
 * non-negative fd when the variable goes out of scope, keeping errno.
 * Hand an fd over with vnic_host_steal_fd(), which leaves -1 behind. */
void vnic_host_closep(int *fd);
#define vnic_autofd __attribute__((cleanup(vnic_host_closep)))
int vnic_host_steal_fd(int *fd);

struct _VnicHostBackend {
    VnicHostLink *link;   /* the link created, NULL until it exists; ifindex 0
                           * while a macvtap's is not known yet */
    GArray *fds;          /* of int, one per queue, owned */
    gboolean unmanaged;   /* an existing tap (<target managed='no'>): not ours */
    VnicHostLink *ifb;    /* the IFB shaping <outbound>, NULL when none */
};

/* Takes ownership of *@fd (sets it to -1). */
void vnic_host_backend_add_fd(VnicHostBackend *backend, int *fd);
/* Records the link just created; the backend owns the record. */
void vnic_host_backend_set_link(VnicHostBackend *backend, const char *name, guint ifindex,
                                VnicHostLinkKind kind);

/* Sets @error to "<fmt…>: <reason>" and returns FALSE. */
gboolean vnic_host_fail(GError **error, VnicHostErrorCode code, const char *reason,
                        const char *fmt, ...) G_GNUC_PRINTF(4, 5);
gboolean vnic_host_failv(GError **error, VnicHostErrorCode code, const char *reason,
                         const char *fmt, va_list ap) G_GNUC_PRINTF(4, 0);
/* Same with g_strerror(@errnum) as the reason. */
gboolean vnic_host_fail_errno(GError **error, VnicHostErrorCode code, int errnum,
                              const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Test hook.  When set to N > 0, the Nth step from now of any backend
 * creation (a netlink request, a TUNSETIFF, opening a macvtap queue) fails
 * with "<step>: injected failure"; then the hook is 0 again.  Rollback
 * steps never count.  Zero (the default) costs one atomic read per step. */
extern gint vnic_host_test_fail_at;
gboolean vnic_host_test_should_fail(void);

/* The kernel's IFLA_INFO_KIND for a kind of link vnic creates ("tun",
 * "macvtap"). */
const char *vnic_host_link_kind_to_kernel(VnicHostLinkKind kind);

/* The device number of macvtap @name (@ifindex)'s /dev/tapN, from /sys
 * (which must show vnicd's network namespace). */
gboolean vnic_host_macvtap_devnum(const char *name, guint ifindex, dev_t *ret, GError **error);

/* ---- host-netlink.c ---------------------------------------------------- */

/* A route netlink socket, one per operation (or per backend creation), so
 * threads never share one.  syserr/extack describe the last error the
 * kernel sent (libnl itself keeps only its own NLE_* code). */
typedef struct {
    struct nl_sock *sock;
    int syserr;           /* the kernel's errno, 0 if the last error was libnl's */
    char extack[128];     /* the kernel's extended ack message, or "" */
} VnicHostNl;

/* rtnl_link_alloc() that aborts on OOM, like g_malloc. */
rtnl_link *vnic_host_rtnl_link_new(void);

VnicHostNl *vnic_host_nl_open(GError **error);
void vnic_host_nl_free(VnicHostNl *nl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicHostNl, vnic_host_nl_free)

/* Clears the last kernel error before a request of one's own; then
 * vnic_host_nl_result() turns libnl's return code @err into TRUE (>= 0) or
 * "<fmt…>: <kernel's reason>" in @error. */
void vnic_host_nl_reset(VnicHostNl *nl);
gboolean vnic_host_nl_result(VnicHostNl *nl, int err, GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* Looks a link up by @ifindex, or by @name when @ifindex is 0.  TRUE with
 * *@ret = NULL when there is no such link; FALSE with @error when the
 * request failed. */
gboolean vnic_host_nl_get(VnicHostNl *nl, guint ifindex, const char *name, rtnl_link **ret,
                          GError **error);
/* Like vnic_host_nl_get(@link->ifindex) but *@ret is NULL unless that link
 * still has @link's name and kind: only such a link is vnic's. */
gboolean vnic_host_nl_get_owned(VnicHostNl *nl, const VnicHostLink *link, rtnl_link **ret,
                                GError **error);

/* RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL.  A name taken is EXISTS. */
gboolean vnic_host_nl_add(VnicHostNl *nl, rtnl_link *link, GError **error,
                          const char *fmt, ...) G_GNUC_PRINTF(4, 5);
/* Applies @changes to the link @ifindex (RTM_NEWLINK, RTM_SETLINK on old
 * kernels).  A name taken (renames) is EXISTS. */
gboolean vnic_host_nl_change(VnicHostNl *nl, guint ifindex, rtnl_link *changes, GError **error,
                             const char *fmt, ...) G_GNUC_PRINTF(5, 6);

gboolean vnic_host_nl_set_mac(VnicHostNl *nl, guint ifindex, const char *name,
                              const guint8 mac[6], GError **error);
gboolean vnic_host_nl_set_mtu(VnicHostNl *nl, guint ifindex, const char *name, guint mtu,
                              GError **error);
gboolean vnic_host_nl_set_up(VnicHostNl *nl, guint ifindex, const char *name, gboolean up,
                             GError **error);

/* Rollback of a creation still under way: deletes the link @link->ifindex
 * if it is still of @link's kind, whatever its name (a rename may have
 * half-happened; ifindexes are not reused this soon).  An ifindex of 0
 * means "not known yet": the link is then found by @link->name, a
 * temporary name only vnic uses. */
gboolean vnic_host_nl_delete_created(const VnicHostLink *link, GError **error);

/* ---- host-tap.c, host-macvtap.c ---------------------------------------- */

/* Fill @backend for @nic; on failure @backend holds what exists so far
 * and the caller rolls it back. */
gboolean vnic_host_tap_setup(VnicHostBackend *backend, VnicHostNl *nl, const VnicConfNic *nic,
                             GError **error);
gboolean vnic_host_macvtap_setup(VnicHostBackend *backend, VnicHostNl *nl,
                                 const VnicConfNic *nic, GError **error);

/* Opens the character device of macvtap @name (@ifindex) @queues times
 * into @backend.  @devdir is "/dev" outside tests; see host-macvtap.c. */
gboolean vnic_host_macvtap_open_queues(VnicHostBackend *backend, const char *devdir,
                                       const char *name, guint ifindex, guint queues,
                                       GError **error);

/* host-bandwidth.c: <bandwidth> of @nic on @backend's link (tc by
 * netlink); may add backend->ifb. */
gboolean vnic_host_bandwidth_apply(VnicHostNl *nl, VnicHostBackend *backend,
                                   const VnicConfNic *nic, GError **error);

/* "bridge", "vepa", "private", "passthrough" (NULL: vepa) → MACVLAN_MODE_*. */
gboolean vnic_host_macvtap_mode_from_string(const char *text, guint32 *mode);

G_END_DECLS
