/* host-linkwatch.h: the links of vnicd's network namespace, kept up to
 * date from rtnetlink events, so backends can heal when their host
 * devices vanish and come back.
 *
 * A VnicHostLinkWatch subscribes to RTNLGRP_LINK on a non-blocking route
 * netlink socket watched by the thread-default GMainContext of its
 * creator (no polling, no threads), starts from a full link dump, and
 * calls its function once per change it sees:
 *   ADDED    a link appeared (created, or moved into this namespace);
 *   REMOVED  a link is gone (deleted, or moved to another namespace);
 *   RENAMED  same ifindex, new name (event->old_name says the old one);
 *   CHANGED  admin or oper state, carrier, flags or master changed.
 * A rename that also changes state gives RENAMED then CHANGED.  Events
 * that change none of these (statistics, addresses) are not reported.
 *
 * Overruns: when the kernel drops events (ENOBUFS, the socket's buffer
 * full because the loop did not run), the watch drops what is queued,
 * dumps all links again and reports the differences against what it knew
 * (REMOVED, RENAMED, CHANGED, ADDED, with event->resync set): a consumer
 * never misses a link that vanished, even one that came back under the
 * same name (a new ifindex is a REMOVED and an ADDED).
 *
 * The function may look links up but must not free the watch.
 */
#pragma once

#include <glib.h>

#include "host/host-backend.h"

G_BEGIN_DECLS

typedef enum {
    VNIC_HOST_LINK_ADDED,
    VNIC_HOST_LINK_REMOVED,
    VNIC_HOST_LINK_RENAMED,
    VNIC_HOST_LINK_CHANGED,
} VnicHostLinkEventType;

/* "added", "removed", "renamed", "changed". */
const char *vnic_host_link_event_type_to_string(VnicHostLinkEventType type);

/* A link as last seen.  Strings are owned by the watch. */
typedef struct {
    guint ifindex;
    const char *name;
    const char *kind;     /* IFLA_INFO_KIND ("veth", "macvtap", "bridge", "tun"), or NULL */
    guint master;         /* ifindex of the bridge/bond it is enslaved to, 0 if none */
    guint flags;          /* IFF_* (IFF_UP, IFF_RUNNING, IFF_LOWER_UP, ...) */
    guint8 operstate;     /* IF_OPER_* (RFC 2863) */
    gboolean oper_up;     /* operstate UP, or UNKNOWN with IFF_RUNNING (e.g. lo) */
} VnicHostLinkInfo;

typedef struct {
    VnicHostLinkEventType type;
    VnicHostLinkInfo link;  /* for REMOVED: the last state known */
    const char *old_name;   /* RENAMED: the previous name; else NULL */
    gboolean resync;        /* found by the dump after an overrun */
    gint64 received_us;     /* g_get_monotonic_time() when the event was read */
} VnicHostLinkEvent;

typedef struct _VnicHostLinkWatch VnicHostLinkWatch;

typedef void (*VnicHostLinkWatchFunc)(VnicHostLinkWatch *watch, const VnicHostLinkEvent *event,
                                      gpointer user_data);

/* Subscribes, then dumps the links of the current network namespace (no
 * events for those).  The watch belongs to the thread-default main
 * context of the caller.  @notify frees @user_data with the watch. */
VnicHostLinkWatch *vnic_host_link_watch_new(VnicHostLinkWatchFunc func, gpointer user_data,
                                            GDestroyNotify notify, GError **error);
void vnic_host_link_watch_free(VnicHostLinkWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicHostLinkWatch, vnic_host_link_watch_free)

/* The link called @name as last seen: TRUE and *@info filled (valid until
 * the main context next runs the watch), FALSE when no such link is known. */
gboolean vnic_host_link_watch_lookup(VnicHostLinkWatch *watch, const char *name,
                                     VnicHostLinkInfo *info);
/* The same by ifindex. */
gboolean vnic_host_link_watch_lookup_index(VnicHostLinkWatch *watch, guint ifindex,
                                           VnicHostLinkInfo *info);
/* How many links are known now. */
guint vnic_host_link_watch_count(VnicHostLinkWatch *watch);
/* How many resynchronisations (overruns) happened so far. */
guint vnic_host_link_watch_get_resyncs(VnicHostLinkWatch *watch);

/* Tests only: shrinks the event socket's receive buffer (SO_RCVBUF, the
 * kernel's minimum applies) so that a burst overruns it. */
void vnic_host_link_watch_set_rcvbuf(VnicHostLinkWatch *watch, int bytes);

G_END_DECLS
