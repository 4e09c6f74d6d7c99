/* e2e-netns.h: the private network namespace of an e2e test program.
 *
 * e2e_init() calls e2e_netns_enter(): from then on every link the program or
 * its children create (taps, bridges, veths, macvtaps) lives in a namespace
 * of its own and disappears with the last process in it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* unshare(CLONE_NEWNET | CLONE_NEWNS); mounts a fresh sysfs on /sys (sysfs
 * shows the network namespace of whoever mounted it, so /sys/class/net would
 * otherwise list the host's links) in the private mount namespace, and
 * brings lo up.  Must be called while the process has one thread. */
gboolean e2e_netns_enter(GError **error);

/* Names of the links in this namespace (netlink, via if_nameindex()). */
GPtrArray *e2e_netns_links(void);
gboolean e2e_netns_has_link(const char *name);
/* The bridge (or bond) @link is a port of, "" when none. */
char *e2e_netns_master_of(const char *link);
/* The links other than lo, space separated ("" when there are none). */
char *e2e_netns_links_besides_lo(void);
/* The links whose names start with one of @prefixes (NULL-terminated: the
 * kinds of link the caller counts, e.g. "vnet" for vnicd's taps), but those
 * in @skip (a set of names, may be NULL). */
GPtrArray *e2e_netns_links_matching(const char *const *prefixes, GHashTable *skip);

/* A second network namespace beside the program's ("the peer"), for the
 * far end of a veth: held by a process (`unshare --net`) whose command
 * line names the temp root, so the guard kills it with the program.  Move
 * a link into it with `ip link … netns PID`. */
typedef struct _E2eNetnsPeer E2eNetnsPeer;

/* Starts the holder and brings the peer's lo up. */
E2eNetnsPeer *e2e_netns_peer_new(GError **error);
/* The holder's pid (for `ip link … netns PID`, nsenter -t PID -n). */
GPid e2e_netns_peer_pid(E2eNetnsPeer *peer);
/* Runs `/bin/sh -c CMD` inside the peer (30 s at most); FALSE with its
 * output unless it exits 0. */
gboolean e2e_netns_peer_sh(E2eNetnsPeer *peer, const char *cmd, GError **error);
/* socket(domain, type | SOCK_CLOEXEC, protocol) created inside the peer (a
 * socket stays in the namespace it was made in): for ICMP or TCP from the
 * peer's side without a helper process.  -1 with `error`. */
int e2e_netns_peer_socket(E2eNetnsPeer *peer, int domain, int type, int protocol, GError **error);
/* Kills the holder: the namespace goes with its links. */
void e2e_netns_peer_free(E2eNetnsPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eNetnsPeer, e2e_netns_peer_free)

G_END_DECLS
