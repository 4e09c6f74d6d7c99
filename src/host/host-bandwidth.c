/* host-bandwidth.c: <bandwidth> on a guest NIC's host link, by route
 * netlink (libnl), with libvirt's semantics.
 *
 * <inbound> is traffic to the guest, i.e. what the host link transmits:
 *   root qdisc htb 1: (default class 1:1), class 1:1 htb rate=average
 *   ceil=peak (else average) burst=burst, and an sfq 2: under it so flows
 *   share the class fairly (libvirt's layout; `tc class show` reads it;
 *   a kernel without sch_sfq keeps the class's FIFO).
 * <outbound> is traffic from the guest, i.e. what the host link receives:
 *   the ingress qdisc ffff: and a u32 filter matching everything with a
 *   police action, rate=average burst=burst (else average) mtu 64 KiB,
 *   drop when exceeded (libvirt cannot shape what it receives either).
 * Units as libvirt programs them: libvirt documents average and peak in
 * KiB/s but hands tc "<N>kbps", which tc reads as 1000 bytes/s; burst goes
 * as "<N>kb", 1024 bytes.  vnic sets the same rates libvirt sets, so a
 * definition moved from libvirt shapes alike: average='1000' is 8 Mbit/s.
 *
 * libnl 3.7 has no police action, so the filter message is built here with
 * libnl's message API (TCA_U32_SEL + TCA_U32_POLICE with the classic
 * tc_police and its rate table, which the kernel requires).
 * A kernel without the police action (CONFIG_NET_ACT_POLICE) gets the
 * other classic layout instead: the ingress redirected (u32 + mirred) to an
 * IFB link whose egress an htb class shapes; see outbound_ifb().
 * Must not: log above g_debug.
 */
#include "host/host-priv.h"

#include <errno.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/sfq.h>
#include <netlink/route/tc.h>

typedef struct rtnl_qdisc rtnl_qdisc;
typedef struct rtnl_class rtnl_class;
typedef struct rtnl_cls rtnl_cls;
typedef struct rtnl_act rtnl_act;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtnl_qdisc, rtnl_qdisc_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtnl_class, rtnl_class_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtnl_cls, rtnl_cls_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtnl_act, rtnl_act_put)

#define POLICE_MTU 65536
#define RATE_UNIT 1000   /* tc's "kbps" */
#define BURST_UNIT 1024  /* tc's "kb" */

static rtnl_qdisc *
qdisc_new(guint ifindex, guint32 parent, guint32 handle, const char *kind)
{
    rtnl_qdisc *q = rtnl_qdisc_alloc();

    if (q == NULL)
        g_error("rtnl_qdisc_alloc: out of memory");
    rtnl_tc_set_ifindex(TC_CAST(q), (int)ifindex);
    rtnl_tc_set_parent(TC_CAST(q), parent);
    rtnl_tc_set_handle(TC_CAST(q), handle);
    rtnl_tc_set_kind(TC_CAST(q), kind);
    return q;
}

static gboolean
set_inbound(VnicHostNl *nl, guint ifindex, const char *name, const VnicConfRate *in,
            GError **error)
{
    g_autoptr(rtnl_qdisc) htb = qdisc_new(ifindex, TC_H_ROOT, TC_HANDLE(1, 0), "htb");
    g_autoptr(rtnl_qdisc) sfq = qdisc_new(ifindex, TC_HANDLE(1, 1), TC_HANDLE(2, 0), "sfq");
    g_autoptr(rtnl_class) cls = rtnl_class_alloc();
    guint32 rate = (guint32)(in->average * RATE_UNIT);
    int err;

    rtnl_htb_set_defcls(htb, TC_HANDLE(1, 1));
    vnic_host_nl_reset(nl);
    if (!vnic_host_nl_result(nl, rtnl_qdisc_add(nl->sock, htb, NLM_F_CREATE | NLM_F_REPLACE),
                             error, "adding the htb qdisc of <inbound> to '%s'", name))
        return FALSE;
    rtnl_tc_set_ifindex(TC_CAST(cls), (int)ifindex);
    rtnl_tc_set_parent(TC_CAST(cls), TC_HANDLE(1, 0));
    rtnl_tc_set_handle(TC_CAST(cls), TC_HANDLE(1, 1));
    rtnl_tc_set_kind(TC_CAST(cls), "htb");
    rtnl_htb_set_rate(cls, rate);
    rtnl_htb_set_ceil(cls, in->peak ? (guint32)(in->peak * RATE_UNIT) : rate);
    if (in->burst)
        rtnl_htb_set_rbuffer(cls, (guint32)(in->burst * BURST_UNIT));
    vnic_host_nl_reset(nl);
    if (!vnic_host_nl_result(nl, rtnl_class_add(nl->sock, cls, NLM_F_CREATE), error,
                             "adding the htb class of <inbound average='%" G_GUINT64_FORMAT
                             "'> to '%s'", in->average, name))
        return FALSE;
    rtnl_sfq_set_perturb(sfq, 10);
    vnic_host_nl_reset(nl);
    err = rtnl_qdisc_add(nl->sock, sfq, NLM_F_CREATE);
    if (err < 0 && nl->syserr == ENOENT) {
        /* a kernel without sch_sfq: the class still shapes, one FIFO */
        g_debug("'%s': no sfq qdisc in this kernel, the htb class keeps its FIFO", name);
        return TRUE;
    }
    return vnic_host_nl_result(nl, err, error, "adding the sfq qdisc of <inbound> to '%s'",
                               name);
}

/* The classic police parameters and rate table, as tc computes them for
 * "police rate R burst B mtu 64kb drop". */
static void
police_params(const VnicConfRate *out, struct tc_police *p, guint32 rtab[256])
{
    guint32 rate = (guint32)(out->average * RATE_UNIT);
    guint32 burst = (guint32)((out->burst ? out->burst : out->average) * BURST_UNIT);
    int cell_log = 0;

    while ((POLICE_MTU >> cell_log) > 255)
        cell_log++;
    memset(p, 0, sizeof(*p));
    p->action = TC_POLICE_SHOT;
    p->mtu = POLICE_MTU;
    p->rate.rate = rate;
    p->rate.cell_log = (unsigned char)cell_log;
    p->rate.cell_align = -1;
    p->rate.linklayer = TC_LINKLAYER_ETHERNET;
    p->burst = (guint32)rtnl_tc_calc_txtime((int)burst, (int)rate);
    for (int i = 0; i < 256; i++)
        rtab[i] = (guint32)rtnl_tc_calc_txtime((i + 1) << cell_log, (int)rate);
}

static nl_msg *
police_filter_msg(guint ifindex, const VnicConfRate *out)
{
    struct tcmsg tcm = {
        .tcm_family = AF_UNSPEC,
        .tcm_ifindex = (int)ifindex,
        .tcm_parent = TC_H_MAKE(TC_H_INGRESS, 0),
        .tcm_info = TC_H_MAKE(1 << 16, htons(ETH_P_ALL)),
    };
    struct {
        struct tc_u32_sel sel;
        struct tc_u32_key key;
    } sel = { .sel = { .flags = TC_U32_TERMINAL, .nkeys = 1 } };
    struct tc_police police;
    guint32 rtab[256];
    nl_msg *msg = nlmsg_alloc_simple(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
    struct nlattr *opts, *pol;

    police_params(out, &police, rtab);
    if (msg == NULL || nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
        nla_put_string(msg, TCA_KIND, "u32") < 0 ||
        !(opts = nla_nest_start(msg, TCA_OPTIONS)) ||
        nla_put(msg, TCA_U32_SEL, sizeof(sel), &sel) < 0 ||
        nla_put_u32(msg, TCA_U32_CLASSID, TC_H_MAKE(0, 1)) < 0 ||
        !(pol = nla_nest_start(msg, TCA_U32_POLICE)) ||
        nla_put(msg, TCA_POLICE_TBF, sizeof(police), &police) < 0 ||
        nla_put(msg, TCA_POLICE_RATE, sizeof(rtab), rtab) < 0)
        g_error("building the police filter: out of memory");
    nla_nest_end(msg, pol);
    nla_nest_end(msg, opts);
    return msg;
}

static gboolean
set_outbound(VnicHostNl *nl, guint ifindex, const char *name, const VnicConfRate *out,
             gboolean *no_police, GError **error)
{
    g_autoptr(rtnl_qdisc) ingress =
        qdisc_new(ifindex, TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0), "ingress");
    g_autoptr(nl_msg) msg = police_filter_msg(ifindex, out);
    int err;

    vnic_host_nl_reset(nl);
    if (!vnic_host_nl_result(nl, rtnl_qdisc_add(nl->sock, ingress, NLM_F_CREATE), error,
                             "adding the ingress qdisc of <outbound> to '%s'", name))
        return FALSE;
    vnic_host_nl_reset(nl);
    err = nl_send_auto_complete(nl->sock, msg);
    if (err >= 0)
        err = nl_wait_for_ack(nl->sock);
    if (err < 0 && nl->syserr == ENOENT) {
        *no_police = TRUE;
        return FALSE;
    }
    return vnic_host_nl_result(nl, err, error,
                               "adding the police filter of <outbound average='%"
                               G_GUINT64_FORMAT "'> to '%s'", out->average, name);
}

/* The tap's ingress, all of it, redirected to the IFB's egress. */
static gboolean
redirect_to_ifb(VnicHostNl *nl, guint ifindex, const char *name, guint ifb, GError **error)
{
    g_autoptr(rtnl_cls) cls = rtnl_cls_alloc();
    g_autoptr(rtnl_act) act = rtnl_act_alloc();

    if (cls == NULL || act == NULL)
        g_error("libnl: out of memory");
    rtnl_tc_set_ifindex(TC_CAST(cls), (int)ifindex);
    rtnl_tc_set_parent(TC_CAST(cls), TC_H_MAKE(TC_H_INGRESS, 0));
    rtnl_tc_set_kind(TC_CAST(cls), "u32");
    rtnl_cls_set_protocol(cls, ETH_P_ALL);
    rtnl_cls_set_prio(cls, 1);
    rtnl_u32_set_cls_terminal(cls);
    rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0);
    rtnl_tc_set_kind(TC_CAST(act), "mirred");
    rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
    rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
    rtnl_mirred_set_ifindex(act, ifb);
    rtnl_u32_add_action(cls, act);
    vnic_host_nl_reset(nl);
    return vnic_host_nl_result(nl, rtnl_cls_add(nl->sock, cls, NLM_F_CREATE | NLM_F_EXCL),
                               error, "redirecting the ingress of '%s' to its ifb", name);
}

/* A kernel without tc's police action (like this project's CI): the tap's
 * ingress goes to an IFB link "vifb<tap ifindex>" whose egress the htb
 * class shapes (rate=average, ceil=peak, burst).  The IFB is recorded in
 * the backend, so it is rolled back and deleted with the NIC. */
static gboolean
outbound_ifb(VnicHostNl *nl, VnicHostBackend *backend, const VnicConfRate *out, GError **error)
{
    const VnicHostLink *tap = backend->link;
    g_autofree char *name = g_strdup_printf("vifb%u", tap->ifindex);
    g_autoptr(rtnl_link) link = vnic_host_rtnl_link_new();
    g_autoptr(rtnl_link) found = NULL;
    guint ifindex;

    rtnl_link_set_name(link, name);
    if (rtnl_link_set_type(link, "ifb") < 0)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "libnl knows no ifb links",
                              "creating ifb '%s'", name);
    if (!vnic_host_nl_add(nl, link, error, "creating ifb '%s' for the <outbound> of '%s'", name,
                          tap->name) ||
        !vnic_host_nl_get(nl, 0, name, &found, error))
        return FALSE;
    if (found == NULL)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, "it vanished",
                              "looking up ifb '%s' just created", name);
    ifindex = (guint)rtnl_link_get_ifindex(found);
    backend->ifb = g_new0(VnicHostLink, 1);
    backend->ifb->name = g_strdup(name);
    backend->ifb->ifindex = ifindex;
    backend->ifb->kind = VNIC_HOST_LINK_IFB;
    return vnic_host_nl_set_up(nl, ifindex, name, TRUE, error) &&
           set_inbound(nl, ifindex, name, out, error) &&
           redirect_to_ifb(nl, tap->ifindex, tap->name, ifindex, error);
}

gboolean
vnic_host_bandwidth_apply(VnicHostNl *nl, VnicHostBackend *backend, const VnicConfNic *nic,
                          GError **error)
{
    guint ifindex = backend->link->ifindex;
    const char *name = backend->link->name;
    gboolean no_police = FALSE;

    if (nic->inbound.average != 0 && !set_inbound(nl, ifindex, name, &nic->inbound, error))
        return FALSE;
    if (nic->outbound.average != 0 &&
        !set_outbound(nl, ifindex, name, &nic->outbound, &no_police, error)) {
        if (!no_police)
            return FALSE;
        g_debug("'%s': no tc police action in this kernel: <outbound> shaped on an ifb", name);
        if (!outbound_ifb(nl, backend, &nic->outbound, error))
            return FALSE;
    }
    if (nic->inbound.average || nic->outbound.average)
        g_debug("'%s': bandwidth in %" G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT " KiB/s",
                name, nic->inbound.average, nic->outbound.average);
    return TRUE;
}

gboolean
vnic_host_bandwidth_clear(const char *name, GError **error)
{
    g_autoptr(VnicHostNl) nl = vnic_host_nl_open(error);
    g_autoptr(rtnl_link) link = NULL;
    g_autoptr(rtnl_qdisc) root = NULL;
    g_autoptr(rtnl_qdisc) ingress = NULL;
    guint ifindex;
    int err;

    if (!nl || !vnic_host_nl_get(nl, 0, name, &link, error))
        return FALSE;
    if (link == NULL)
        return TRUE;  /* gone: nothing shapes it any more */
    ifindex = (guint)rtnl_link_get_ifindex(link);
    root = qdisc_new(ifindex, TC_H_ROOT, TC_HANDLE(1, 0), "htb");
    ingress = qdisc_new(ifindex, TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0), "ingress");
    /* either may be absent: ENOENT/EINVAL are fine, the link keeps no shaping */
    err = rtnl_qdisc_delete(nl->sock, root);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_INVAL && err != -NLE_NOADDR)
        g_debug("'%s': removing the htb qdisc: %s", name, nl_geterror(err));
    err = rtnl_qdisc_delete(nl->sock, ingress);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_INVAL)
        g_debug("'%s': removing the ingress qdisc: %s", name, nl_geterror(err));
    return TRUE;
}
