/* daemon-nic.h: the life of one NIC of a running guest.
 *
 * Every NIC of a running domain's live definition has exactly one VnicNic,
 * owned by its VnicDomain (dom->nics, by device id).  Its state says what
 * exists of it outside vnicd, and only vnic_nic_set_state() (or
 * vnic_nic_set_state_quietly()) changes it:
 *
 *   PLANNED ──► BACKEND_READY ──► PLUGGED ◄────────────┐
 *      │             │             │   │  ▲             │
 *      │             │             │   ▼  │             │
 *      │             │             │  WAITING ──► RESTORING
 *      │             │             │   │      ◄──    ▲  │
 *      │             │             └───┼─────────────┘  │
 *      ▼             ▼                 ▼                ▼
 *     GONE ◄─────────────────────── UNPLUGGING ◄────────┘
 *
 *   (PLUGGED → RESTORING: its own tap deleted while what it needs is
 *   there; RESTORING → WAITING: the restore failed.  Every state may also
 *   go straight to GONE, when QEMU goes.)
 *
 *   PLANNED        in the live definition (alias, address, MAC); nothing
 *                  made yet.
 *   BACKEND_READY  its host link exists and is in the ledger; QEMU does not
 *                  have the NIC yet (start or hot-plug under way).
 *   PLUGGED        QEMU has the NIC and its backend.
 *   WAITING        its host device (lower device, bridge, or the tap
 *                  itself) is gone: the guest's link is down and vnicd
 *                  waits for `waiting_for` to appear again.
 *   RESTORING      the device is back: a new backend is going in (hub
 *                  swap or replug) or the tap is re-enslaved.
 *   UNPLUGGING     device_del was sent, or the guest ejected it: QEMU's
 *                  netdevs and the host links are being removed.
 *   GONE           out of the guest and of the live definition; the
 *                  record is freed by the transition.
 *
 * Every transition is logged and sent to subscribers as a NIC_STATE event
 * (domain, alias, state, previous, reason, and waiting-for when
 * waiting).  The state is written to the status file with the rest of the
 * domain (<nic alias='net0' state='waiting' waiting-for='eth1'/>) by the
 * caller, before the next externally visible step, so a vnicd killed at any
 * moment finds every NIC's state again when it restarts.
 */
#pragma once

#include "daemon/daemon.h"

G_BEGIN_DECLS

typedef enum {
    VNIC_NIC_PLANNED,
    VNIC_NIC_BACKEND_READY,
    VNIC_NIC_PLUGGED,
    VNIC_NIC_WAITING,
    VNIC_NIC_RESTORING,
    VNIC_NIC_UNPLUGGING,
    VNIC_NIC_GONE,
} VnicNicState;

/* "planned", "backend-ready", "plugged", "waiting", "restoring",
 * "unplugging", "gone": API values (domiflist "state", NIC_STATE events). */
const char *vnic_nic_state_to_string(VnicNicState state);
gboolean vnic_nic_state_from_string(const char *text, VnicNicState *state);

struct _VnicNic {
    VnicDomain *dom;          /* borrowed: the owner */
    char *alias;              /* the NIC's device id (net0, …): key in dom->nics */
    VnicNicState state;
    char *waiting_for;        /* WAITING: the host device it waits for, else NULL */
    char *reason;             /* why it is in its state, for users; may be NULL */
    gboolean admin_up;        /* the link state asked for (<link state>, domif-setlink) */
    gboolean carrier;         /* the link state vnicd last gave QEMU (set_link) */
    gboolean busy;            /* a heal step is in flight (daemon-heal.c) */
    gboolean dirty;           /* the host changed during that step: look again after it */
    gboolean hold;            /* the last restore failed: none until the host changes */
    guint failures;           /* restores failed in a row (the retry back-off) */
    guint retry_id;           /* the retry timer while held */
    gpointer step;            /* daemon-heal.c's step in flight, when busy */
    GSList *waiters;          /* vnic_nic_when_idle()'s, run when the step ends */
    guint restores;           /* how many times a backend was restored */
    gint64 lost_us;           /* monotonic time the backend was lost, 0 when not */
    gboolean unannounced;     /* vnic_nic_set_state_quietly(): not logged or emitted yet */
    VnicNicState announce_from; /* the state it left then */
};
typedef struct _VnicNic VnicNic;

/* A new record for NIC @alias of @dom in @state (PLANNED, or what a status
 * file says).  The domain owns it. */
VnicNic *vnic_nic_new(VnicDomain *dom, const char *alias, VnicNicState state);
/* @dom's record for NIC @alias, or NULL. */
VnicNic *vnic_domain_get_nic(VnicDomain *dom, const char *alias);
/* Frees a record the domain dropped while a heal step was in flight
 * (nic->dom is NULL then): for the step's completion. */
void vnic_nic_free_orphan(VnicNic *nic);
/* @dom's records by alias, a snapshot (the array does not own them): to
 * walk them while transitions change the table. */
GPtrArray *vnic_domain_nics(VnicDomain *dom);
/* Drops every record (the domain stopped). */
void vnic_domain_clear_nics(VnicDomain *dom);

/* Moves @nic to @state for @reason (a sentence for users, may be NULL),
 * logs it and emits NIC_STATE.  A transition the diagram above does not
 * have is a bug: refused with a critical, FALSE.  Moving to GONE frees
 * @nic.  WAITING takes @waiting_for (else ignored). */
gboolean vnic_nic_set_state(VnicNic *nic, VnicNicState state, const char *waiting_for,
                            const char *reason);
/* vnic_nic_set_state() without a reason, whose log line and NIC_STATE
 * event wait for vnic_nic_announce() (any later transition of @nic makes
 * them first): for a state that must reach the status file before the
 * next externally visible step, but whose announcement need not delay
 * that step.  The caller announces before it returns to the main loop. */
gboolean vnic_nic_set_state_quietly(VnicNic *nic, VnicNicState state);
/* Logs and emits what vnic_nic_set_state_quietly() held back, if any. */
void vnic_nic_announce(VnicNic *nic);

/* The carrier the guest should see: asked up, and a backend that works. */
gboolean vnic_nic_wants_carrier(const VnicNic *nic);

/* domiflist: adds "state", "link" ("up"/"down": the guest's carrier),
 * "waiting-for" and "reason" (when set) to a NIC's JSON object. */
void vnic_nic_describe(const VnicNic *nic, JsonObject *obj);

/* Status file: one <nic …/> line per record; and reading one back. */
void vnic_state_append_nics(GString *s, VnicDomain *dom);
void vnic_state_parse_nic(VnicDomain *dom, const char *alias, const char *state,
                          const char *waiting_for, const char *carrier, const char *admin);

/* daemon-heal.c: backends that heal (issue #8, docs/backends.md).
 * The daemon's link watch; each NIC looks at it again whenever a link it
 * depends on changes, and at re-attach. */
gboolean vnic_daemon_heal_start(VnicDaemon *daemon, GError **error);
void vnic_daemon_heal_stop(VnicDaemon *daemon);
/* Compares NIC @nic's host devices with what it needs and starts the next
 * step towards it (set_link, new backend, re-enslave), one at a time. */
void vnic_nic_heal(VnicNic *nic);
/* Every NIC of @dom (after start or re-attach). */
void vnic_domain_heal(VnicDomain *dom);
/* Runs @func(@data) once @nic has no heal step in flight (at once if
 * none), in the order asked: for detach, which must not race a backend
 * swap, and for domif-setlink's reply, which waits for the carrier. */
void vnic_nic_when_idle(VnicNic *nic, GSourceFunc func, gpointer data);
/* DEVICE_DELETED of a NIC that daemon-heal.c is replugging: TRUE when it
 * was that (the unplug code must then leave it alone). */
gboolean vnic_heal_device_deleted(VnicDomain *dom, const char *alias);

G_END_DECLS
