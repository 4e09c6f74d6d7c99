/* host-netlink.c: route netlink through libnl, and the public operations
 * on link records (delete, exists, set up).
 *
 * One VnicHostNl per operation or backend creation, so threads never share
 * a socket.  libnl turns the kernel's errno into its own NLE_* codes and
 * loses detail (EEXIST and EBUSY both become "Object exists"), so the
 * socket's error callback keeps the kernel's errno, and its extended ack
 * message when it sends one; error messages are "<step>: <g_strerror>".
 *
 * Invariant: a link is vnic's only while it has the name, ifindex and kind
 * vnic recorded (vnic_host_nl_get_owned); the public operations act on
 * nothing else.  The one exception is the rollback of a creation still
 * under way (vnic_host_nl_delete_created), which trusts the ifindex alone.
 */
#include "host/host-priv.h"

#include <errno.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>

rtnl_link *
vnic_host_rtnl_link_new(void)
{
    rtnl_link *link = rtnl_link_alloc();

    if (G_UNLIKELY(!link))
        g_abort();
    return link;
}

/* Copies the NLMSGERR_ATTR_MSG of an error the kernel sent with
 * NETLINK_EXT_ACK on, if any. */
static void
keep_extack(VnicHostNl *nl, struct nlmsgerr *e)
{
    struct nlmsghdr *hdr = (struct nlmsghdr *)(gpointer)((char *)e - NLMSG_HDRLEN);
    struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
    gsize offset = sizeof(*e);

    if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
        return;
    if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
        offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
    if (NLMSG_HDRLEN + offset >= hdr->nlmsg_len)
        return;
    if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)(gpointer)((char *)e + offset),
                  (int)(hdr->nlmsg_len - NLMSG_HDRLEN - offset), NULL) < 0)
        return;
    if (tb[NLMSGERR_ATTR_MSG])
        nla_strlcpy(nl->extack, tb[NLMSGERR_ATTR_MSG], sizeof(nl->extack));
}

static int
on_kernel_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *data)
{
    VnicHostNl *nl = data;

    nl->syserr = -e->error;
    keep_extack(nl, e);
    return NL_STOP;
}

VnicHostNl *
vnic_host_nl_open(GError **error)
{
    g_autoptr(VnicHostNl) nl = g_new0(VnicHostNl, 1);
    int one = 1;
    int err;

    nl->sock = nl_socket_alloc();
    if (!nl->sock) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_FAILED,
                    "opening a route netlink socket: out of memory");
        return NULL;
    }
    errno = 0;
    err = nl_connect(nl->sock, NETLINK_ROUTE);
    if (err < 0) {
        /* libnl maps a failed socket() or bind() (EMFILE, ENFILE, ENOBUFS)
         * to NLE_FAILURE, "Unspecific failure"; the errno it leaves (it
         * closes nothing when socket() failed) says why */
        int sys = errno;

        if (err == -NLE_FAILURE && sys != 0)
            vnic_host_fail_errno(error, VNIC_HOST_ERROR_FAILED, sys,
                                 "opening a route netlink socket");
        else
            vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, nl_geterror(err),
                           "opening a route netlink socket");
        return NULL;
    }
    /* Both are hints: without them errors carry only the errno. */
    (void)setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    (void)setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    nl_socket_modify_err_cb(nl->sock, NL_CB_CUSTOM, on_kernel_error, nl);
    return g_steal_pointer(&nl);
}

void
vnic_host_nl_free(VnicHostNl *nl)
{
    if (!nl)
        return;
    if (nl->sock)
        nl_socket_free(nl->sock);
    g_free(nl);
}

static void
nl_reset(VnicHostNl *nl)
{
    nl->syserr = 0;
    nl->extack[0] = '\0';
}

static gboolean nl_failv(VnicHostNl *nl, int err, GError **error, const char *fmt, va_list ap)
    G_GNUC_PRINTF(4, 0);

/* Fails a request that returned libnl code @err (0: an injected failure). */
static gboolean
nl_failv(VnicHostNl *nl, int err, GError **error, const char *fmt, va_list ap)
{
    g_autofree char *reason = NULL;
    VnicHostErrorCode code = VNIC_HOST_ERROR_FAILED;

    if (err == 0)
        reason = g_strdup("injected failure");
    else if (nl->syserr == EEXIST) {
        code = VNIC_HOST_ERROR_EXISTS;
        reason = g_strdup("a link with that name already exists");
    } else if (nl->syserr && nl->extack[0])
        reason = g_strdup_printf("%s (%s)", g_strerror(nl->syserr), nl->extack);
    else if (nl->syserr)
        reason = g_strdup(g_strerror(nl->syserr));
    else
        reason = g_strdup(nl_geterror(err));
    return vnic_host_failv(error, code, reason, fmt, ap);
}

gboolean
vnic_host_nl_result(VnicHostNl *nl, int err, GError **error, const char *fmt, ...)
{
    va_list ap;

    if (err >= 0)
        return TRUE;
    va_start(ap, fmt);
    nl_failv(nl, err, error, fmt, ap);
    va_end(ap);
    return FALSE;
}

void
vnic_host_nl_reset(VnicHostNl *nl)
{
    nl_reset(nl);
}

gboolean
vnic_host_nl_get(VnicHostNl *nl, guint ifindex, const char *name, rtnl_link **ret,
                 GError **error)
{
    rtnl_link *link = NULL;
    const char *reason = "injected failure";
    int err;

    *ret = NULL;
    nl_reset(nl);
    if (!vnic_host_test_should_fail()) {
        err = rtnl_link_get_kernel(nl->sock, (int)ifindex, ifindex ? NULL : name, &link);
        if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV || (err >= 0 && !link))
            return TRUE;
        if (err >= 0) {
            *ret = link;
            return TRUE;
        }
        reason = nl_geterror(err);
    }
    if (ifindex)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, reason,
                              "looking up link with ifindex %u", ifindex);
    return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, reason, "looking up link '%s'", name);
}

gboolean
vnic_host_nl_get_owned(VnicHostNl *nl, const VnicHostLink *link, rtnl_link **ret,
                       GError **error)
{
    g_autoptr(rtnl_link) found = NULL;

    *ret = NULL;
    if (!vnic_host_nl_get(nl, link->ifindex, NULL, &found, error))
        return FALSE;
    if (!found)
        return TRUE;
    if (g_strcmp0(rtnl_link_get_name(found), link->name) != 0 ||
        g_strcmp0(rtnl_link_get_type(found), vnic_host_link_kind_to_kernel(link->kind)) != 0) {
        g_debug("link %u is now '%s' (kind %s), not vnic's %s '%s'", link->ifindex,
                rtnl_link_get_name(found),
                rtnl_link_get_type(found) ? rtnl_link_get_type(found) : "none",
                vnic_host_link_kind_to_string(link->kind), link->name);
        return TRUE;
    }
    *ret = g_steal_pointer(&found);
    return TRUE;
}

gboolean
vnic_host_nl_add(VnicHostNl *nl, rtnl_link *link, GError **error, const char *fmt, ...)
{
    va_list ap;
    int err = 0;

    nl_reset(nl);
    if (!vnic_host_test_should_fail()) {
        err = rtnl_link_add(nl->sock, link, NLM_F_CREATE | NLM_F_EXCL);
        if (err >= 0)
            return TRUE;
    }
    va_start(ap, fmt);
    nl_failv(nl, err, error, fmt, ap);
    va_end(ap);
    return FALSE;
}

gboolean
vnic_host_nl_change(VnicHostNl *nl, guint ifindex, rtnl_link *changes, GError **error,
                    const char *fmt, ...)
{
    g_autoptr(rtnl_link) orig = vnic_host_rtnl_link_new();
    va_list ap;
    int err = 0;

    nl_reset(nl);
    rtnl_link_set_ifindex(orig, (int)ifindex);
    if (!vnic_host_test_should_fail()) {
        err = rtnl_link_change(nl->sock, orig, changes, 0);
        if (err >= 0)
            return TRUE;
    }
    va_start(ap, fmt);
    nl_failv(nl, err, error, fmt, ap);
    va_end(ap);
    return FALSE;
}

gboolean
vnic_host_nl_set_mac(VnicHostNl *nl, guint ifindex, const char *name, const guint8 mac[6],
                     GError **error)
{
    g_autoptr(rtnl_link) changes = vnic_host_rtnl_link_new();
    g_autoptr(nl_addr) addr = nl_addr_build(AF_LLC, mac, 6);
    g_autofree char *text = vnic_conf_mac_format(mac);

    if (G_UNLIKELY(!addr))
        g_abort();
    rtnl_link_set_addr(changes, addr);
    return vnic_host_nl_change(nl, ifindex, changes, error, "setting the MAC address of '%s' to %s",
                               name, text);
}

gboolean
vnic_host_nl_set_mtu(VnicHostNl *nl, guint ifindex, const char *name, guint mtu, GError **error)
{
    g_autoptr(rtnl_link) changes = vnic_host_rtnl_link_new();

    rtnl_link_set_mtu(changes, mtu);
    return vnic_host_nl_change(nl, ifindex, changes, error, "setting the MTU of '%s' to %u", name,
                               mtu);
}

gboolean
vnic_host_nl_set_up(VnicHostNl *nl, guint ifindex, const char *name, gboolean up,
                    GError **error)
{
    g_autoptr(rtnl_link) changes = vnic_host_rtnl_link_new();

    if (up)
        rtnl_link_set_flags(changes, IFF_UP);
    else
        rtnl_link_unset_flags(changes, IFF_UP);
    return vnic_host_nl_change(nl, ifindex, changes, error, "bringing '%s' %s", name,
                               up ? "up" : "down");
}

/* RTM_DELLINK of @ifindex; a link already gone counts as deleted. */
static gboolean
nl_delete(VnicHostNl *nl, const VnicHostLink *link, guint ifindex, GError **error)
{
    g_autoptr(rtnl_link) victim = vnic_host_rtnl_link_new();
    int err;

    nl_reset(nl);
    rtnl_link_set_ifindex(victim, (int)ifindex);
    err = rtnl_link_delete(nl->sock, victim);
    if (err >= 0 || nl->syserr == ENODEV)
        return TRUE;
    return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED,
                          nl->syserr ? g_strerror(nl->syserr) : nl_geterror(err),
                          "deleting %s '%s' (ifindex %u)",
                          vnic_host_link_kind_to_string(link->kind), link->name, ifindex);
}

gboolean
vnic_host_nl_delete_created(const VnicHostLink *link, GError **error)
{
    g_autoptr(VnicHostNl) nl = vnic_host_nl_open(error);
    g_autoptr(rtnl_link) found = NULL;

    if (!nl || !vnic_host_nl_get(nl, link->ifindex, link->name, &found, error))
        return FALSE;
    if (!found ||
        g_strcmp0(rtnl_link_get_type(found), vnic_host_link_kind_to_kernel(link->kind)) != 0)
        return TRUE;
    return nl_delete(nl, link, (guint)rtnl_link_get_ifindex(found), error);
}

/* ---- public operations on link records --------------------------------- */

gboolean
vnic_host_link_delete(const VnicHostLink *link, GError **error)
{
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(rtnl_link) found = NULL;

    g_return_val_if_fail(link != NULL && link->name != NULL && link->ifindex > 0, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    nl = vnic_host_nl_open(error);
    if (!nl || !vnic_host_nl_get_owned(nl, link, &found, error))
        return FALSE;
    if (!found) {
        g_debug("%s '%s' (ifindex %u) is gone or not vnic's: nothing to delete",
                vnic_host_link_kind_to_string(link->kind), link->name, link->ifindex);
        return TRUE;
    }
    return nl_delete(nl, link, link->ifindex, error);
}

gboolean
vnic_host_link_exists(const VnicHostLink *link)
{
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(rtnl_link) found = NULL;

    g_return_val_if_fail(link != NULL && link->name != NULL, FALSE);

    nl = vnic_host_nl_open(NULL);
    if (!nl || !vnic_host_nl_get_owned(nl, link, &found, NULL))
        return FALSE;
    return found != NULL;
}

gboolean
vnic_host_link_set_up(const VnicHostLink *link, gboolean up, GError **error)
{
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(rtnl_link) found = NULL;

    g_return_val_if_fail(link != NULL && link->name != NULL && link->ifindex > 0, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    nl = vnic_host_nl_open(error);
    if (!nl || !vnic_host_nl_get_owned(nl, link, &found, error))
        return FALSE;
    if (!found) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_NOT_FOUND,
                    "bringing '%s' %s: %s '%s' (ifindex %u) no longer exists", link->name,
                    up ? "up" : "down", vnic_host_link_kind_to_string(link->kind), link->name,
                    link->ifindex);
        return FALSE;
    }
    return vnic_host_nl_set_up(nl, link->ifindex, link->name, up, error);
}

gboolean
vnic_host_link_check(const char *name, gboolean bridge, GError **error)
{
    g_autoptr(VnicHostNl) nl = vnic_host_nl_open(error);
    g_autoptr(rtnl_link) link = NULL;
    const char *kind;

    if (!nl || !vnic_host_nl_get(nl, 0, name, &link, error))
        return FALSE;
    if (!link) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_NOT_FOUND,
                    "%s '%s' does not exist", bridge ? "bridge" : "host interface", name);
        return FALSE;
    }
    kind = rtnl_link_get_type(link);
    if (bridge && g_strcmp0(kind, "bridge") != 0) {
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_INVALID,
                    "'%s' is not a bridge (link kind: %s)", name, kind ? kind : "none");
        return FALSE;
    }
    return TRUE;
}
