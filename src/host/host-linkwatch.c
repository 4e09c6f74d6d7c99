/* host-linkwatch.c: rtnetlink link events on the GLib main loop, and the
 * table of links they keep (see host-linkwatch.h).
 *
 * Two sockets, both opened in the namespace of the creator: "events",
 * subscribed to RTNLGRP_LINK, non-blocking, read only when its GSource
 * says it is readable; and "dump", blocking and never subscribed, for the
 * full dumps (at start and after an overrun), so a dump's replies never
 * mix with events.  The event socket subscribes before the first dump:
 * an event that races with it is applied after it, and applying a state
 * already known reports nothing, so nothing is lost or reported twice.
 *
 * Only AF_UNSPEC link messages are links: the bridge also sends RTM_NEWLINK
 * and RTM_DELLINK with AF_BRIDGE for its ports (a port leaving is not a
 * link vanishing), so those are skipped.
 *
 * Must not: block on the event socket, or report an event that changes
 * nothing the watch keeps.
 */
#include "host/host-linkwatch.h"
#include "host/host-priv.h"

#include <errno.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include <glib-unix.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>

/* Large enough for a burst of a few thousand link events; root may go
 * past net.core.rmem_max (SO_RCVBUFFORCE), others get what they can. */
#define EVENT_RCVBUF (4 * 1024 * 1024)
/* The read buffer for one event (a link message is one to two KiB) */
#define EVENT_MSG_BUF (32 * 1024)

typedef struct nl_cache nl_cache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_cache, nl_cache_free)

typedef struct {
    VnicHostLinkInfo info;  /* info.name and info.kind point at the fields below */
    char *name;
    char *kind;
} LinkRec;

struct _VnicHostLinkWatch {
    struct nl_sock *events;
    struct nl_sock *dump;
    GSource *source;
    GHashTable *links;      /* GUINT_TO_POINTER(ifindex) → LinkRec*, owned */
    VnicHostLinkWatchFunc func;
    gpointer user_data;
    GDestroyNotify notify;
    guint resyncs;
    gboolean resyncing;     /* events emitted now come from a dump */
    gint64 received_us;
};

static const char *const event_names[] = {
    [VNIC_HOST_LINK_ADDED] = "added",
    [VNIC_HOST_LINK_REMOVED] = "removed",
    [VNIC_HOST_LINK_RENAMED] = "renamed",
    [VNIC_HOST_LINK_CHANGED] = "changed",
};

const char *
vnic_host_link_event_type_to_string(VnicHostLinkEventType type)
{
    if ((guint)type >= G_N_ELEMENTS(event_names))
        return NULL;
    return event_names[type];
}

static void
link_rec_free(LinkRec *rec)
{
    g_free(rec->name);
    g_free(rec->kind);
    g_free(rec);
}

static gboolean
link_oper_up(const VnicHostLinkInfo *info)
{
    return info->operstate == IF_OPER_UP ||
           (info->operstate == IF_OPER_UNKNOWN && (info->flags & IFF_RUNNING));
}

static LinkRec *
link_rec_new(rtnl_link *link)
{
    LinkRec *rec = g_new0(LinkRec, 1);
    const char *name = rtnl_link_get_name(link);

    rec->name = g_strdup(name ? name : "");
    rec->kind = g_strdup(rtnl_link_get_type(link));
    rec->info.ifindex = (guint)rtnl_link_get_ifindex(link);
    rec->info.name = rec->name;
    rec->info.kind = rec->kind;
    rec->info.master = (guint)MAX(rtnl_link_get_master(link), 0);
    rec->info.flags = rtnl_link_get_flags(link);
    rec->info.operstate = rtnl_link_get_operstate(link);
    rec->info.oper_up = link_oper_up(&rec->info);
    return rec;
}

/* The link an RTM_NEWLINK event describes, read straight from its
 * attributes: libnl's nl_msg_parse() builds a whole rtnl_link (every
 * attribute, statistics, per-family data) for the five fields kept here,
 * and was most of the watch's CPU time, five events per tap made.  The
 * same fields as link_rec_new() gives from a dump; NULL for a message
 * libnl would not parse either (no name, malformed attributes). */
static LinkRec *
link_rec_from_event(struct nlmsghdr *hdr)
{
    const struct ifinfomsg *ifi = nlmsg_data(hdr);
    struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
    char name[IFNAMSIZ];
    LinkRec *rec;

    if (nlmsg_parse(hdr, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME] ||
        (tb[IFLA_LINKINFO] && nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0))
        return NULL;
    nla_strlcpy(name, tb[IFLA_IFNAME], sizeof(name));
    rec = g_new0(LinkRec, 1);
    rec->name = g_strdup(name);
    if (tb[IFLA_LINKINFO] && info[IFLA_INFO_KIND])
        rec->kind = g_strndup(nla_data(info[IFLA_INFO_KIND]), (gsize)nla_len(info[IFLA_INFO_KIND]));
    rec->info.ifindex = (guint)ifi->ifi_index;
    rec->info.name = rec->name;
    rec->info.kind = rec->kind;
    if (tb[IFLA_MASTER] && nla_len(tb[IFLA_MASTER]) >= (int)sizeof(guint32))
        rec->info.master = nla_get_u32(tb[IFLA_MASTER]);
    rec->info.flags = ifi->ifi_flags;
    if (tb[IFLA_OPERSTATE] && nla_len(tb[IFLA_OPERSTATE]) >= 1)
        rec->info.operstate = nla_get_u8(tb[IFLA_OPERSTATE]);
    rec->info.oper_up = link_oper_up(&rec->info);
    return rec;
}

static gboolean
same_state(const LinkRec *a, const LinkRec *b)
{
    return a->info.master == b->info.master && a->info.flags == b->info.flags &&
           a->info.operstate == b->info.operstate && g_strcmp0(a->kind, b->kind) == 0;
}

static void
emit(VnicHostLinkWatch *w, VnicHostLinkEventType type, const LinkRec *rec, const char *old_name)
{
    VnicHostLinkEvent event = {
        .type = type,
        .link = rec->info,
        .old_name = old_name,
        .resync = w->resyncing,
        .received_us = w->received_us,
    };

    g_debug("link %u '%s' %s%s", rec->info.ifindex, rec->name,
            vnic_host_link_event_type_to_string(type), w->resyncing ? " (resync)" : "");
    w->func(w, &event, w->user_data);
}

/* Takes @rec as the state of its ifindex now. */
static void
apply_new(VnicHostLinkWatch *w, LinkRec *rec)
{
    gpointer key = GUINT_TO_POINTER(rec->info.ifindex);
    LinkRec *old = g_hash_table_lookup(w->links, key);
    g_autofree char *old_name = NULL;
    gboolean renamed, changed;

    if (!old) {
        g_hash_table_insert(w->links, key, rec);
        emit(w, VNIC_HOST_LINK_ADDED, rec, NULL);
        return;
    }
    renamed = strcmp(old->name, rec->name) != 0;
    changed = !same_state(old, rec);
    old_name = g_strdup(old->name);
    g_hash_table_insert(w->links, key, rec); /* frees old */
    if (renamed)
        emit(w, VNIC_HOST_LINK_RENAMED, rec, old_name);
    if (changed)
        emit(w, VNIC_HOST_LINK_CHANGED, rec, NULL);
}

static void
apply_del(VnicHostLinkWatch *w, guint ifindex)
{
    gpointer key = GUINT_TO_POINTER(ifindex);
    LinkRec *rec = NULL;

    if (!g_hash_table_steal_extended(w->links, key, NULL, (gpointer *)&rec))
        return; /* never known, or an overrun's dump already said so */
    emit(w, VNIC_HOST_LINK_REMOVED, rec, NULL);
    link_rec_free(rec);
}

static int
on_message(struct nl_msg *msg, void *data)
{
    VnicHostLinkWatch *w = data;
    struct nlmsghdr *hdr = nlmsg_hdr(msg);
    const struct ifinfomsg *ifi;
    LinkRec *rec;

    if ((hdr->nlmsg_type != RTM_NEWLINK && hdr->nlmsg_type != RTM_DELLINK) ||
        !nlmsg_valid_hdr(hdr, sizeof(*ifi)))
        return NL_OK;
    ifi = nlmsg_data(hdr);
    if (ifi->ifi_family != AF_UNSPEC)
        return NL_OK;
    if (hdr->nlmsg_type == RTM_DELLINK)
        apply_del(w, (guint)ifi->ifi_index);
    else if ((rec = link_rec_from_event(hdr)))
        apply_new(w, rec);
    return NL_OK;
}

/* Drops whatever is queued on the event socket: the dump that follows
 * supersedes it.  Bounded, in case events keep coming faster than this. */
static void
drain_events(VnicHostLinkWatch *w)
{
    int fd = nl_socket_get_fd(w->events);
    char buf[16384];

    for (guint i = 0; i < 100000; i++) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0 && errno != EINTR && errno != ENOBUFS)
            break;
    }
}

static gboolean
dump_links(VnicHostLinkWatch *w, nl_cache **ret, GError **error)
{
    int err = rtnl_link_alloc_cache(w->dump, AF_UNSPEC, ret);

    if (err < 0)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, nl_geterror(err), "dumping links");
    return TRUE;
}

/* Reports, against a full dump, what changed since the last event read:
 * the links gone first (so a name that came back on a new ifindex is
 * REMOVED before it is ADDED), then renames, changes and new links. */
static void
resync(VnicHostLinkWatch *w)
{
    g_autoptr(nl_cache) cache = NULL;
    g_autoptr(GHashTable) present = g_hash_table_new(NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(guint));
    GHashTableIter iter;
    gpointer key;

    w->resyncs++;
    drain_events(w);
    if (!dump_links(w, &cache, &error)) {
        g_debug("link watch resync: %s", error->message);
        return;
    }
    w->resyncing = TRUE;
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
        g_hash_table_add(present, GINT_TO_POINTER(rtnl_link_get_ifindex((rtnl_link *)o)));
    g_hash_table_iter_init(&iter, w->links);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        if (!g_hash_table_contains(present, key)) {
            guint ifindex = GPOINTER_TO_UINT(key);
            g_array_append_val(gone, ifindex);
        }
    }
    for (guint i = 0; i < gone->len; i++)
        apply_del(w, g_array_index(gone, guint, i));
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
        apply_new(w, link_rec_new((rtnl_link *)o));
    w->resyncing = FALSE;
}

static gboolean
on_readable(gint fd, GIOCondition condition, gpointer data)
{
    VnicHostLinkWatch *w = data;

    w->received_us = g_get_monotonic_time();
    for (;;) {
        int err = nl_recvmsgs_default(w->events);

        if (err >= 0)
            continue;
        if (err == -NLE_AGAIN)
            break;
        /* libnl reports the kernel's ENOBUFS as NLE_NOMEM: events were
         * dropped.  Any other error leaves the stream in doubt too. */
        g_debug("link watch: %s: resynchronising", nl_geterror(err));
        resync(w);
        if (err != -NLE_NOMEM)
            break;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
open_sockets(VnicHostLinkWatch *w, GError **error)
{
    int size = EVENT_RCVBUF;
    int err;

    w->events = nl_socket_alloc();
    w->dump = nl_socket_alloc();
    if (!w->events || !w->dump)
        g_abort();
    nl_socket_disable_seq_check(w->events);
    nl_socket_modify_cb(w->events, NL_CB_VALID, NL_CB_CUSTOM, on_message, w);
    err = nl_connect(w->events, NETLINK_ROUTE);
    if (err >= 0)
        err = nl_socket_add_membership(w->events, RTNLGRP_LINK);
    if (err >= 0)
        err = nl_socket_set_nonblocking(w->events);
    /* libnl peeks at each message for its size, then reads it: two
     * recvmsg() per event, some five events per tap made.  An event is
     * one link (no VF list: the kernel sends none with events) and fits
     * in EVENT_MSG_BUF; one that did not would fail the read (NLE_MSG_TRUNC),
     * and on_readable() resynchronises from a dump. */
    if (err >= 0)
        err = nl_socket_set_msg_buf_size(w->events, EVENT_MSG_BUF);
    if (err >= 0)
        nl_socket_disable_msg_peek(w->events);
    if (err >= 0)
        err = nl_connect(w->dump, NETLINK_ROUTE);
    if (err < 0)
        return vnic_host_fail(error, VNIC_HOST_ERROR_FAILED, nl_geterror(err),
                              "subscribing to link events");
    if (setsockopt(nl_socket_get_fd(w->events), SOL_SOCKET, SO_RCVBUFFORCE, &size,
                   sizeof(size)) < 0)
        (void)nl_socket_set_buffer_size(w->events, EVENT_RCVBUF, 0);
    return TRUE;
}

VnicHostLinkWatch *
vnic_host_link_watch_new(VnicHostLinkWatchFunc func, gpointer user_data, GDestroyNotify notify,
                         GError **error)
{
    g_autoptr(VnicHostLinkWatch) w = g_new0(VnicHostLinkWatch, 1);
    g_autoptr(nl_cache) cache = NULL;

    g_return_val_if_fail(func != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    w->links = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)link_rec_free);
    if (!open_sockets(w, error) || !dump_links(w, &cache, error))
        return NULL;
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        LinkRec *rec = link_rec_new((rtnl_link *)o);
        g_hash_table_insert(w->links, GUINT_TO_POINTER(rec->info.ifindex), rec);
    }
    w->source = g_unix_fd_source_new(nl_socket_get_fd(w->events), G_IO_IN | G_IO_ERR);
    g_source_set_callback(w->source, G_SOURCE_FUNC(on_readable), w, NULL);
    g_source_set_static_name(w->source, "vnic-link-watch");
    /* not taken off the poll set while dispatched (which wakes the context
     * twice per batch of events, qmp-client-io.c): no nested main loop
     * runs from on_readable() */
    g_source_set_can_recurse(w->source, TRUE);
    g_source_attach(w->source, g_main_context_get_thread_default());
    /* Only now: on failure above the caller keeps @user_data. */
    w->func = func;
    w->user_data = user_data;
    w->notify = notify;
    return g_steal_pointer(&w);
}

void
vnic_host_link_watch_free(VnicHostLinkWatch *w)
{
    if (!w)
        return;
    if (w->source) {
        g_source_destroy(w->source);
        g_source_unref(w->source);
    }
    if (w->events)
        nl_socket_free(w->events);
    if (w->dump)
        nl_socket_free(w->dump);
    if (w->links)
        g_hash_table_unref(w->links);
    if (w->notify)
        w->notify(w->user_data);
    g_free(w);
}

gboolean
vnic_host_link_watch_lookup(VnicHostLinkWatch *w, const char *name, VnicHostLinkInfo *info)
{
    GHashTableIter iter;
    LinkRec *rec;

    g_return_val_if_fail(w != NULL && name != NULL, FALSE);
    g_hash_table_iter_init(&iter, w->links);
    while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&rec)) {
        if (strcmp(rec->name, name) == 0) {
            if (info)
                *info = rec->info;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
vnic_host_link_watch_lookup_index(VnicHostLinkWatch *w, guint ifindex, VnicHostLinkInfo *info)
{
    LinkRec *rec;

    g_return_val_if_fail(w != NULL, FALSE);
    rec = g_hash_table_lookup(w->links, GUINT_TO_POINTER(ifindex));
    if (rec && info)
        *info = rec->info;
    return rec != NULL;
}

guint
vnic_host_link_watch_count(VnicHostLinkWatch *w)
{
    g_return_val_if_fail(w != NULL, 0);
    return g_hash_table_size(w->links);
}

guint
vnic_host_link_watch_get_resyncs(VnicHostLinkWatch *w)
{
    g_return_val_if_fail(w != NULL, 0);
    return w->resyncs;
}

void
vnic_host_link_watch_set_rcvbuf(VnicHostLinkWatch *w, int bytes)
{
    g_return_if_fail(w != NULL);
    (void)nl_socket_set_buffer_size(w->events, bytes, 0);
}
