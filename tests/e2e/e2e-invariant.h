/* e2e-invariant.h: issue #10's invariant for guests under vnicd, checked
 * from every side a user can look at.
 *
 * For each domain, five views of its NICs must agree:
 *
 *   vnicd       `domiflist` (the daemon's memory: alias, MAC, target, state)
 *   status      the status file RUN/domains/NAME.xml on disk: its live
 *               <interface>s, its <nic> records and its ledger (<link name
 *               ifindex kind alias/>, daemon-state.c)
 *   QEMU        query-pci (the NIC devices by qdev id) and HMP `info
 *               network` (every NIC client and netdev by name), both through
 *               vnicd's qemu-monitor-command
 *   host        `ip -d -j link`: every tap (tun), macvtap and ifb by ifindex
 *   guest       /sys/class/net/<name>/address over its console (optional)
 *
 * and nothing may be left over: no netdev of a NIC that is not there (an
 * alias reused while it exists fails the next hot-plug with "Duplicate
 * ID"), no NIC in QEMU or in the guest vnicd does not list, no ledger link
 * that is gone or belongs to no NIC, no tap/macvtap/ifb in the namespace
 * no domain's ledger claims, no leftover NAME.xml.XXXXXX temp file in the
 * state or run dir.  A settled NIC is `plugged`.
 *
 * Each violation is one sentence whose first word is its kind (see
 * E2E_INV_* below), so a soak can count them by kind.
 */
#pragma once

#include <glib.h>

#include "e2e-console.h"
#include "e2e-daemon.h"

G_BEGIN_DECLS

/* the kinds, as the first word of a violation */
#define E2E_INV_STATUS "status-mismatch"      /* domiflist vs the status file */
#define E2E_INV_GHOST "ghost-nic"             /* a NIC QEMU or the guest has, vnicd does not list */
#define E2E_INV_MISSING "missing-nic"         /* a NIC vnicd lists, QEMU or the guest lacks */
#define E2E_INV_NETDEV "orphan-netdev"        /* a netdev of no listed NIC */
#define E2E_INV_BACKEND "missing-netdev"      /* a listed NIC without its netdev */
#define E2E_INV_LEDGER "stale-ledger"         /* a ledger link gone, renamed, or of no NIC */
#define E2E_INV_UNCLAIMED "unclaimed-link"    /* a tap/macvtap/ifb no ledger has */
#define E2E_INV_TEMP "temp-file"              /* NAME.xml.XXXXXX left in a state dir */
#define E2E_INV_UNSETTLED "unsettled"         /* a NIC not plugged */

typedef struct {
    const char *name;      /* the domain (running under the daemon) */
    E2eConsole *console;   /* its console, or NULL: the guest's view is skipped */
} E2eInvariantDomain;

/* Checks every view of @domains (all the running domains whose links live
 * in this namespace: an unclaimed link is one no ledger of them has).
 * Links named in @foreign (NULL-terminated, may be NULL) are the test's own
 * and never unclaimed.  Returns the violations (empty: it holds); NULL with
 * @error when a view could not be read at all (vnicd not answering). */
GPtrArray *e2e_invariant_check(E2eDaemon *daemon, const E2eInvariantDomain *domains, guint n,
                               const char *const *foreign, GError **error);

/* Checks again until it holds or @timeout_s passed (NICs on their way in or
 * out settle); returns the last violations (empty: it held).  @out_rounds
 * (may be NULL): how many checks it took. */
GPtrArray *e2e_invariant_settle(E2eDaemon *daemon, const E2eInvariantDomain *domains, guint n,
                                const char *const *foreign, double timeout_s, guint *out_rounds,
                                GError **error);

/* The kind of a violation (its first word), newly allocated. */
char *e2e_invariant_kind(const char *violation);

G_END_DECLS
