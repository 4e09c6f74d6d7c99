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
/* The links other than lo, space separated ("" when there are none). */
char *e2e_netns_links_besides_lo(void);

G_END_DECLS
