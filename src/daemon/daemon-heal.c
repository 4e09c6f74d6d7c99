/* daemon-heal.c: backends that heal when their host devices vanish and
 * come back (issue #8; docs/backends.md has the design and the numbers).
 *
 * Level-triggered: a link event only says "look again".  vnic_nic_heal()
 * compares what a NIC needs (its lower device or bridge, its own tap or
 * macvtap alive, the carrier it should show) with the link watch's view of
 * the host, and starts the one step that brings it closer:
 *
 *   needed device gone        → set_link down (the guest sees carrier 0),
 *                               hub NIC: its dead tap netdev dropped; WAITING
 *   own tap/macvtap gone,     → a new backend under a name vnic owns, then
 *   its device present          set_link and hub swap (the NIC stays; the
 *                               carrier first: see "restoring on the hub") or
 *                               replug (device_del + device_add at the same
 *                               address and MAC) and set_link; PLUGGED
 *   bridge back, tap detached → re-enslave (and MTU), set_link up
 *   lower device oper up/down → set_link to match
 *
 * One step per NIC at a time (nic->busy); anything seen meanwhile marks the
 * NIC dirty and it looks again when the step ends, so any burst of events
 * (50 flaps in 5 s, or an overrun's resync) converges on the last truth.
 * Every step records the NIC's state in the status file first, so a vnicd
 * killed in the middle redoes it from the same comparison after restart.
 */
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-nic.h"
#include "host/host-linkwatch.h"
#include "qemu/qemu-hub.h"

#include <net/if.h>

#define REPLUG_TIMEOUT_MS 10000
/* hub restore: from set_link up to the backend going in (see "restoring on
 * the hub") */
#define GUEST_LINK_SETTLE_MS 30

/* ---- what a NIC depends on ------------------------------------------------ */

static VnicConfDevice *
nic_device(const VnicNic *nic)
{
    const VnicConfDomain *def = nic->dom->live;

    for (guint i = 0; def && i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_INTERFACE && g_strcmp0(d->alias, nic->alias) == 0)
            return d;
    }
    return NULL;
}

/* The NIC's tap or macvtap in the ledger (not an ifb). */
static VnicOwnedLink *
backend_link(VnicDomain *dom, const char *alias)
{
    for (guint i = 0; i < dom->links->len; i++) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
        if (g_strcmp0(o->alias, alias) == 0 && o->link->kind != VNIC_HOST_LINK_IFB)
            return o;
    }
    return NULL;
}

static gboolean
link_alive(VnicHostLinkWatch *watch, const VnicOwnedLink *owned)
{
    VnicHostLinkInfo info;

    return owned && vnic_host_link_watch_lookup_index(watch, owned->link->ifindex, &info) &&
           g_strcmp0(info.name, owned->link->name) == 0;
}

/* The link @name as the watch knows it, if the kernel agrees it is still
 * there: a device being deleted takes its upper links (a macvtap, a
 * bridge's ports) with it, and their events can come before its own. */
static gboolean
present(VnicHostLinkWatch *watch, const char *name, VnicHostLinkInfo *info)
{
    return name && vnic_host_link_watch_lookup(watch, name, info) &&
           if_nametoindex(name) == info->ifindex;
}

static gboolean
is_bridge(const VnicHostLinkInfo *info)
{
    return g_strcmp0(info->kind, "bridge") == 0;
}

/* ---- steps ------------------------------------------------------------------ */

typedef struct {
    VnicNic *nic;
    gboolean up;              /* set_link: the carrier asked for */
    gboolean drop_backend;    /* lose: the tap is dead, its netdev goes (hub NICs) */
    const char *how;          /* restore: "hub", "replug", "re-enslave" */
    int *fds;                 /* restore: the new backend's fds until QEMU has them */
    guint n_fds;
    VnicOwnedLink *owned;     /* restore: the new link's ledger entry */
    guint timeout_id;         /* replug: waiting for DEVICE_DELETED */
    gboolean gap_port;        /* hub restore: its gap port is in QEMU (see gap_port_add) */
    gboolean gap_retried;     /* hub restore: a leftover gap port was deleted once */
    gboolean carrier_first;   /* hub restore: set_link went before the swap */
    GError *swap_error;       /* hub restore: the swap failed (until the gap port is gone) */
} Step;

static void heal_later(VnicNic *nic);

static Step *
step_new(VnicNic *nic)
{
    Step *s = g_new0(Step, 1);

    g_assert(!nic->busy);
    s->nic = nic;
    nic->busy = TRUE;
    nic->step = s;
    return s;
}

/* The fds went to a QEMU plug, which closes them: only the array is ours. */
static void
forget_fds(Step *s)
{
    g_clear_pointer(&s->fds, g_free);
    s->n_fds = 0;
}

static void
close_fds(Step *s)
{
    for (guint i = 0; s->fds && i < s->n_fds; i++)
        close(s->fds[i]);
    g_clear_pointer(&s->fds, g_free);
}

/* The step is over: the NIC may take the next one (or a waiting detach).
 * FALSE when the NIC went away meanwhile (the record is freed then). */
typedef struct {
    GSourceFunc func;
    gpointer data;
} Waiter;

static gboolean
step_end(Step *s)
{
    VnicNic *nic = s->nic;
    gboolean alive = nic->dom != NULL;
    GSList *waiters;

    g_clear_handle_id(&s->timeout_id, g_source_remove);
    close_fds(s);
    g_clear_error(&s->swap_error);
    g_free(s);
    nic->busy = FALSE;
    nic->step = NULL;
    waiters = g_steal_pointer(&nic->waiters);
    if (!alive)
        vnic_nic_free_orphan(nic);
    /* a detach or a setlink reply waited for this step; they cope with a
     * NIC gone meanwhile and free nothing of it */
    for (GSList *l = waiters; l; l = l->next) {
        Waiter *w = l->data;
        w->func(w->data);
    }
    g_slist_free_full(waiters, g_free);
    if (!alive)
        return FALSE;
    if (nic->dirty) {
        nic->dirty = FALSE;
        heal_later(nic);
    }
    return TRUE;
}

void
vnic_nic_when_idle(VnicNic *nic, GSourceFunc func, gpointer data)
{
    if (!nic->busy) {
        func(data);
        return;
    }
    Waiter *w = g_new0(Waiter, 1);

    w->func = func;
    w->data = data;
    nic->waiters = g_slist_append(nic->waiters, w);
}

static VnicQmpClient *
qmp_of(VnicNic *nic)
{
    return vnic_qemu_process_get_qmp(nic->dom->process);
}

static void
write_status(VnicDomain *dom)
{
    g_autoptr(GError) error = NULL;

    if (!vnic_state_write_status(dom, &error))
        g_warning("domain '%s': writing status: %s", dom->name, error->message);
}

static void
emit_backend(VnicNic *nic, const char *event, JsonObject *ev)
{
    json_object_set_string_member(ev, "alias", nic->alias);
    vnic_daemon_emit(nic->dom->daemon, event, nic->dom->name, ev);
}

/* ---- carrier ----------------------------------------------------------------- */

static void
link_set(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    g_autoptr(GError) error = NULL;
    gboolean ok = vnic_qemu_hub_finish(res, &error);

    if (s->nic->dom) {
        if (ok)
            s->nic->carrier = s->up;
        else
            g_warning("domain '%s': set_link %s %s: %s", s->nic->dom->name, s->nic->alias,
                      s->up ? "up" : "down", error->message);
        if (ok)
            write_status(s->nic->dom);
    }
    step_end(s);
}

static void
set_carrier(VnicNic *nic, gboolean up)
{
    Step *s = step_new(nic);

    s->up = up;
    vnic_qemu_set_link_async(qmp_of(nic), nic->alias, up, NULL, link_set, s);
}

/* ---- losing the backend --------------------------------------------------- */

/* Forgets the NIC's dead tap/macvtap: deleted if it is somehow still there
 * (it is ours), out of the ledger either way. */
static void
drop_dead_link(VnicDomain *dom, const char *alias)
{
    VnicOwnedLink *o = backend_link(dom, alias);
    g_autoptr(GError) error = NULL;

    if (!o)
        return;
    if (vnic_host_link_delete(o->link, &error))
        g_ptr_array_remove(dom->links, o);
    else
        g_warning("domain '%s': NIC %s: %s", dom->name, alias, error->message);
}

static void
lost_detached(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    g_autoptr(GError) error = NULL;

    if (!vnic_qemu_hub_finish(res, &error) && s->nic->dom)
        g_warning("domain '%s': dropping the dead backend of %s: %s", s->nic->dom->name,
                  s->nic->alias, error->message);
    step_end(s);
}

static void
lost_link_down(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    VnicNic *nic = s->nic;
    g_autoptr(GError) error = NULL;
    VnicConfDevice *dev;

    if (vnic_qemu_hub_finish(res, &error)) {
        if (nic->dom)
            nic->carrier = FALSE;
    } else if (nic->dom) {
        g_warning("domain '%s': set_link %s down: %s", nic->dom->name, nic->alias, error->message);
    }
    if (!s->drop_backend || !nic->dom || !(dev = nic_device(nic)) ||
        !vnic_qemu_nic_on_hub(nic->dom->live, dev)) {
        step_end(s);
        return;
    }
    /* the NIC stays on its hub alone; the tap netdev on the dead fd goes */
    vnic_qemu_hub_detach_async(qmp_of(nic), nic->alias, NULL, lost_detached, s);
}

/* @device (which the NIC needs) is gone: carrier off, WAITING for it. */
static void
lose(VnicNic *nic, const char *device, const char *reason, gboolean tap_survives)
{
    JsonObject *ev = json_object_new();
    Step *s;

    if (!tap_survives)
        drop_dead_link(nic->dom, nic->alias);
    if (nic->state != VNIC_NIC_WAITING) {
        nic->lost_us = g_get_monotonic_time();
        json_object_set_string_member(ev, "device", device);
        json_object_set_string_member(ev, "reason", reason);
        emit_backend(nic, "BACKEND_LOST", ev);
    } else {
        json_object_unref(ev);
    }
    vnic_nic_set_state(nic, VNIC_NIC_WAITING, device, reason);
    write_status(nic->dom);
    s = step_new(nic);
    s->up = FALSE;
    s->drop_backend = !tap_survives;
    vnic_qemu_set_link_async(qmp_of(nic), nic->alias, FALSE, NULL, lost_link_down, s);
}

/* ---- restoring ---------------------------------------------------------------- */

static void
restored(Step *s, const char *how)
{
    VnicNic *nic = s->nic;
    JsonObject *ev = json_object_new();
    VnicConfDevice *dev = nic_device(nic);

    if (nic->state == VNIC_NIC_UNPLUGGING) {
        json_object_unref(ev);
        return;
    }
    nic->restores++;
    nic->failures = 0;
    json_object_set_string_member(ev, "target", dev && dev->nic->target_dev ? dev->nic->target_dev : "");
    json_object_set_string_member(ev, "how", how);
    if (nic->lost_us)
        json_object_set_int_member(ev, "lost-ms", (g_get_monotonic_time() - nic->lost_us) / 1000);
    nic->lost_us = 0;
    vnic_nic_set_state(nic, VNIC_NIC_PLUGGED, NULL, NULL);
    emit_backend(nic, "BACKEND_RESTORED", ev);
    write_status(nic->dom);
}

static gboolean
retry(gpointer data)
{
    VnicNic *nic = data;

    nic->retry_id = 0;
    nic->hold = FALSE;
    vnic_nic_heal(nic);
    return G_SOURCE_REMOVE;
}

/* No new attempt before the needed device comes (again) or the retry
 * timer fires: 1 s after the first failure, doubling up to 30 s. */
static void
hold(VnicNic *nic)
{
    guint delay_ms = 1000u << MIN(nic->failures, 5u);

    nic->hold = TRUE;
    nic->failures++;
    g_clear_handle_id(&nic->retry_id, g_source_remove);
    nic->retry_id = g_timeout_add(MIN(delay_ms, 30000u), retry, nic);
}

/* The restore failed: its new link goes, the NIC waits for the next event. */
static void
restore_failed(Step *s, const char *device, const GError *error)
{
    VnicNic *nic = s->nic;
    g_autofree char *reason = g_strdup_printf("restoring the backend failed: %s", error->message);
    g_autoptr(GError) local = NULL;

    g_warning("domain '%s': NIC %s: %s", nic->dom->name, nic->alias, reason);
    if (s->owned) {
        if (vnic_host_link_delete(s->owned->link, &local))
            g_ptr_array_remove(nic->dom->links, s->owned);
        s->owned = NULL;
    }
    if (nic->state == VNIC_NIC_UNPLUGGING)
        return; /* the guest let go of it meanwhile: the unplug cleans up */
    hold(nic);
    nic->dirty = TRUE; /* but the carrier goes down if it is still up */
    vnic_nic_set_state(nic, VNIC_NIC_WAITING, device, reason);
    write_status(nic->dom);
}

static void
restore_link_set(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    g_autoptr(GError) error = NULL;
    gboolean ok = vnic_qemu_hub_finish(res, &error);

    if (s->nic->dom) {
        if (ok)
            s->nic->carrier = s->up;
        else
            g_warning("domain '%s': set_link %s: %s", s->nic->dom->name, s->nic->alias,
                      error->message);
        restored(s, s->how);
    }
    step_end(s);
}

/* The new backend is in QEMU: the carrier as it should be, then PLUGGED. */
static void
restore_carrier(Step *s)
{
    VnicNic *nic = s->nic;

    s->up = nic->admin_up;
    vnic_qemu_set_link_async(qmp_of(nic), nic->alias, s->up, NULL, restore_link_set, s);
}

/* The new backend is in QEMU (@ok) or not: carrier and PLUGGED, or the
 * restore failed. */
static void
backend_in(Step *s, gboolean ok, const GError *error)
{
    if (!ok && s->nic->dom)
        restore_failed(s, s->nic->waiting_for, error);
    if (!ok || !s->nic->dom) {
        step_end(s);
        return;
    }
    restore_carrier(s);
}

/* ---- restoring on the hub: the carrier before the backend ----------------------
 *
 * The guest must see its carrier come up before the first frame reaches it.
 * Its virtio-net handles a link change in a work item, and its link watch
 * then activates the qdisc that the loss deactivated; frames are handled
 * in softirq, before both.  Frames that come with the carrier make the
 * guest answer while its qdisc still drops everything: its ARP request for
 * the answer is dropped (QDISC_DROP) and it asks again only after its
 * retransmit time, 1 s (docs/backends.md has the trace).  So set_link up
 * goes first, while the hub has no backend and nothing arrives, and the
 * backend follows GUEST_LINK_SETTLE_MS later (the swap's own round trips,
 * a few ms, were too short for a TCG guest in 3 of 20 heals).  A guest
 * slower than that to handle its link change still loses its first ARP.
 *
 * The hub must not be empty meanwhile: a hub port can receive only when
 * another port can, so a frame the guest sends to a hub with no other port
 * is queued in QEMU and the NIC's transmit waits for it, for good (the
 * queue is flushed only when the tap's own queue is).  A gap port
 * (hubport hpgap-<id>, no netdev) is on the hub from just before set_link
 * until the backend is in: what the guest sends meanwhile goes nowhere, as
 * over a cable with nothing at the other end.  Left behind by a vnicd
 * killed meanwhile, it only drops frames; the next restore deletes it and
 * adds it again, and a detach deletes it with the NIC's other netdevs
 * (vnic_qemu_nic_netdev_ids). */

static void
swap_done(Step *s)
{
    VnicNic *nic = s->nic;

    if (s->swap_error || !nic->dom) {
        backend_in(s, s->swap_error == NULL, s->swap_error);
        return;
    }
    if (!s->carrier_first) {
        restore_carrier(s);
        return;
    }
    restored(s, s->how);
    step_end(s);
}

static void
gap_port_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret && s->nic->dom)
        g_warning("domain '%s': netdev_del of %s's gap port: %s", s->nic->dom->name,
                  s->nic->alias, error->message);
    swap_done(s);
}

static void
gap_port_delete(Step *s, GAsyncReadyCallback callback)
{
    g_autofree char *id = vnic_qemu_hub_gap_port_id(s->nic->alias);
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "id", id);
    vnic_qmp_client_execute_async(qmp_of(s->nic), "netdev_del", args, NULL, 0, 10000, NULL,
                                  callback, s);
}

/* The new backend is on the hub (or not): the gap port goes, then the
 * carrier if it did not go first. */
static void
swapped(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    g_autoptr(GError) error = NULL;

    if (!vnic_qemu_hub_finish(res, &error))
        s->swap_error = g_steal_pointer(&error);
    if (s->gap_port && s->nic->dom) {
        gap_port_delete(s, gap_port_deleted);
        return;
    }
    swap_done(s);
}

static void
hub_swap(Step *s)
{
    VnicNic *nic = s->nic;
    VnicConfDevice *dev = nic->dom ? nic_device(nic) : NULL;

    if (!dev) {
        step_end(s);
        return;
    }
    vnic_qemu_hub_swap_async(qmp_of(nic), nic->alias, vnic_qemu_hub_id(dev), s->fds, s->n_fds,
                             NULL, NULL, swapped, s);
    forget_fds(s);
}

static gboolean
carrier_settled(gpointer data)
{
    Step *s = data;

    s->timeout_id = 0;
    hub_swap(s);
    return G_SOURCE_REMOVE;
}

static void
hub_carrier_set(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    VnicNic *nic = s->nic;
    g_autoptr(GError) error = NULL;

    if (vnic_qemu_hub_finish(res, &error)) {
        if (nic->dom)
            nic->carrier = s->up;
    } else if (nic->dom) {
        g_warning("domain '%s': set_link %s: %s", nic->dom->name, nic->alias, error->message);
        nic->dirty = TRUE; /* the carrier is compared again after the step */
    }
    s->carrier_first = TRUE;
    if (!s->up) { /* domif-setlink down: no link change to wait for */
        hub_swap(s);
        return;
    }
    s->timeout_id = g_timeout_add(GUEST_LINK_SETTLE_MS, carrier_settled, s);
}

static void gap_port_add(Step *s);

static void
gap_port_stale_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, NULL);

    gap_port_add(data);
}

static void
gap_port_added(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    VnicNic *nic = s->nic;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!nic->dom) {
        step_end(s);
        return;
    }
    if (!ret && !s->gap_retried) {
        /* most likely one left by a vnicd killed during a restore */
        s->gap_retried = TRUE;
        gap_port_delete(s, gap_port_stale_deleted);
        return;
    }
    if (!ret) {
        /* without it the carrier must wait for the backend (see above) */
        g_warning("domain '%s': the gap port of %s: %s", nic->dom->name, nic->alias,
                  error->message);
        hub_swap(s);
        return;
    }
    s->gap_port = TRUE;
    vnic_qemu_set_link_async(qmp_of(nic), nic->alias, s->up, NULL, hub_carrier_set, s);
}

static void
gap_port_add(Step *s)
{
    VnicConfDevice *dev = s->nic->dom ? nic_device(s->nic) : NULL;
    g_autofree char *id = vnic_qemu_hub_gap_port_id(s->nic->alias);
    g_autoptr(JsonObject) args = NULL;

    if (!dev) {
        step_end(s);
        return;
    }
    args = vnic_qemu_hub_port_args(id, vnic_qemu_hub_id(dev), NULL);
    vnic_qmp_client_execute_async(qmp_of(s->nic), "netdev_add", args, NULL, 0, 10000, NULL,
                                  gap_port_added, s);
}

static void
replugged(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = vnic_qemu_hotplug_nic_finish(res, NULL, &error);

    backend_in(data, ok, error);
}

static void
replug_netdevs_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    VnicNic *nic = s->nic;
    g_autoptr(GError) error = NULL;
    VnicConfDevice *dev;

    if (!vnic_qemu_nic_netdevs_delete_finish(res, &error) && nic->dom)
        g_warning("domain '%s': %s: %s", nic->dom->name, nic->alias, error->message);
    if (!nic->dom || !(dev = nic_device(nic))) {
        step_end(s);
        return;
    }
    /* the plug takes the fds (it closes them) and copies the array */
    vnic_qemu_hotplug_nic_async(qmp_of(nic), nic->dom->live, dev, s->fds, s->n_fds, NULL, NULL,
                                replugged, s);
    forget_fds(s);
}

/* DEVICE_DELETED of a NIC being replugged: its old netdevs go, the new
 * backend goes in at the same address with the same MAC and id. */
gboolean
vnic_heal_device_deleted(VnicDomain *dom, const char *alias)
{
    VnicNic *nic = vnic_domain_get_nic(dom, alias);
    Step *s = nic ? nic->step : NULL;
    VnicConfDevice *dev;

    if (!s || g_strcmp0(s->how, "replug") != 0 || s->timeout_id == 0)
        return FALSE;
    g_clear_handle_id(&s->timeout_id, g_source_remove);
    dev = nic_device(nic);
    vnic_qemu_nic_netdevs_delete_async(qmp_of(nic), dom->live, dev, NULL, replug_netdevs_deleted, s);
    return TRUE;
}

static gboolean
replug_timed_out(gpointer data)
{
    Step *s = data;
    g_autoptr(GError) error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                                          "the guest did not release %s within %d s",
                                          s->nic->alias, REPLUG_TIMEOUT_MS / 1000);

    s->timeout_id = 0;
    /* an orphan (QEMU went, and the NIC's record with it: nic->dom NULL)
     * has nothing to restore or fail: its step only ends, freeing it */
    if (s->nic->dom)
        restore_failed(s, s->nic->waiting_for, error);
    step_end(s);
    return G_SOURCE_REMOVE;
}

static void
replug_device_del_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    Step *s = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (ret)
        return; /* DEVICE_DELETED (vnic_heal_device_deleted) or the timeout goes on */
    if (!s->nic->dom) {
        /* QEMU went (the reply is the closed monitor's): no DEVICE_DELETED
         * will come, so the orphaned step ends now, closing its new tap's
         * fds, rather than holding them until the timeout */
        step_end(s);
        return;
    }
    g_clear_handle_id(&s->timeout_id, g_source_remove);
    restore_failed(s, s->nic->waiting_for, error);
    step_end(s);
}

/* The name for the new link: the old one when it is free, else none (the
 * kernel picks the lowest free vnetN / macvtapN).  A foreign link that took
 * the old name is never touched. */
static void
choose_name(VnicHostLinkWatch *watch, VnicConfNic *nic)
{
    VnicHostLinkInfo info;

    if (nic->target_dev && vnic_host_link_watch_lookup(watch, nic->target_dev, &info))
        g_clear_pointer(&nic->target_dev, g_free);
}

/* A new host backend for @dev: into the ledger, its name into the live
 * definition, its fds into @s. */
static gboolean
new_backend(Step *s, VnicConfDevice *dev, GError **error)
{
    VnicDomain *dom = s->nic->dom;
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autofree char *old_name = g_strdup(dev->nic->target_dev);

    /* the old links (a dead tap, the ifb shaping it): the new backend brings its own */
    vnic_domain_delete_nic_links(dom, s->nic->alias);
    choose_name(dom->daemon->link_watch, dev->nic);
    if (!(backend = vnic_host_backend_create(dev->nic, error))) {
        g_free(dev->nic->target_dev);
        dev->nic->target_dev = g_steal_pointer(&old_name);
        return FALSE;
    }
    s->owned = vnic_domain_own_link(dom, vnic_host_backend_get_link(backend), s->nic->alias);
    if (vnic_host_backend_get_ifb(backend))
        vnic_domain_own_link(dom, vnic_host_backend_get_ifb(backend), s->nic->alias);
    /* vnicd's reference to the new queues (the detach promise); the old
     * link's went with its ledger entry above.  Without it the new links
     * (and their ledger entries) go again. */
    if (!(s->owned->queues = vnic_host_backend_ref_queues(backend, error))) {
        vnic_domain_delete_nic_links(dom, s->nic->alias);
        s->owned = NULL;
        g_free(dev->nic->target_dev);
        dev->nic->target_dev = g_steal_pointer(&old_name);
        return FALSE;
    }
    g_free(dev->nic->target_dev);
    dev->nic->target_dev = g_strdup(vnic_host_backend_get_link(backend)->name);
    s->fds = vnic_host_backend_steal_fds(backend, &s->n_fds);
    return TRUE;
}

/* The NIC's own tap or macvtap is gone and what it needs is there: a new
 * one, swapped in on the hub or replugged. */
static void
restore(VnicNic *nic, VnicConfDevice *dev, const char *device)
{
    VnicDomain *dom = nic->dom;
    gboolean hub = vnic_qemu_nic_on_hub(dom->live, dev);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) args = NULL;
    Step *s;

    if (nic->state == VNIC_NIC_PLUGGED) {
        JsonObject *ev = json_object_new();
        nic->lost_us = g_get_monotonic_time();
        json_object_set_string_member(ev, "device", dev->nic->target_dev ? dev->nic->target_dev : "");
        json_object_set_string_member(ev, "reason", "its host link was deleted");
        emit_backend(nic, "BACKEND_LOST", ev);
    }
    vnic_nic_set_state(nic, VNIC_NIC_RESTORING, NULL,
                       hub ? "a new backend goes in on the NIC's hub"
                           : "the NIC is replugged at its address with a new backend");
    s = step_new(nic);
    s->how = hub ? "hub" : "replug";
    if (!new_backend(s, dev, &error)) {
        restore_failed(s, device, error);
        step_end(s);
        return;
    }
    write_status(dom); /* the new link is ours before QEMU hears of it */
    if (hub) {
        s->up = nic->admin_up;
        gap_port_add(s);
        return;
    }
    args = json_object_new();
    json_object_set_string_member(args, "id", nic->alias);
    s->timeout_id = g_timeout_add(REPLUG_TIMEOUT_MS, replug_timed_out, s);
    vnic_qmp_client_execute_async(qmp_of(nic), "device_del", args, NULL, 0, 5000, NULL,
                                  replug_device_del_sent, s);
}

/* The bridge is back and the tap survived: enslave it again, link up.
 * Tried before the state changes: a bridge being deleted loses its ports
 * before it goes itself, so a tap can look detached from a bridge that is
 * about to vanish; then this is a loss, not a failed restore. */
static void
reenslave(VnicNic *nic, VnicConfDevice *dev, VnicOwnedLink *owned)
{
    g_autoptr(GError) error = NULL;
    Step *s;

    if (!vnic_host_tap_enslave(owned->link, dev->nic->source, dev->nic->mtu, &error)) {
        g_autofree char *why = g_strdup_printf("re-enslaving to bridge '%s' failed: %s",
                                               dev->nic->source, error->message);
        if (nic->state == VNIC_NIC_WAITING && !nic->carrier)
            hold(nic);
        else
            lose(nic, dev->nic->source, why, TRUE);
        return;
    }
    vnic_nic_set_state(nic, VNIC_NIC_RESTORING, NULL, "the bridge is back: the tap re-enslaved");
    s = step_new(nic);
    s->how = "re-enslave";
    restore_carrier(s);
}

/* ---- the comparison ------------------------------------------------------------ */

/* The lower device went oper-down or up without vanishing: the guest's
 * carrier follows, and users hear of it as a lost / restored backend. */
static void
mirror_lower(VnicNic *nic, const char *lower, gboolean oper_up)
{
    JsonObject *ev = json_object_new();
    VnicConfDevice *dev = nic_device(nic);

    if (!oper_up) {
        g_autofree char *why = g_strdup_printf("lower device '%s' is down", lower);
        nic->lost_us = g_get_monotonic_time();
        json_object_set_string_member(ev, "device", lower);
        json_object_set_string_member(ev, "reason", why);
        emit_backend(nic, "BACKEND_LOST", ev);
    } else if (nic->lost_us) {
        json_object_set_string_member(ev, "target", dev->nic->target_dev ? dev->nic->target_dev : "");
        json_object_set_string_member(ev, "how", "carrier");
        json_object_set_int_member(ev, "lost-ms", (g_get_monotonic_time() - nic->lost_us) / 1000);
        nic->lost_us = 0;
        emit_backend(nic, "BACKEND_RESTORED", ev);
    } else {
        json_object_unref(ev);
    }
    set_carrier(nic, nic->admin_up && oper_up);
}

/* A new backend is due: made now, unless the last attempt failed and the
 * host has not changed since (then only the carrier goes down). */
static gboolean
restore_or_hold(VnicNic *nic, VnicConfDevice *dev, const char *device)
{
    if (!nic->hold) {
        restore(nic, dev, device);
        return TRUE;
    }
    if (nic->carrier) {
        set_carrier(nic, FALSE);
        return TRUE;
    }
    return FALSE;
}

static gboolean
heal_direct(VnicNic *nic, VnicConfDevice *dev, VnicHostLinkWatch *watch, VnicOwnedLink *owned)
{
    VnicHostLinkInfo lower;
    const char *name = dev->nic->source;
    g_autofree char *why = NULL;

    if (!present(watch, name, &lower)) {
        if (nic->state == VNIC_NIC_WAITING && g_strcmp0(nic->waiting_for, name) == 0 &&
            !nic->carrier)
            return FALSE;
        why = g_strdup_printf("lower device '%s' is gone", name);
        lose(nic, name, why, FALSE);
        return TRUE;
    }
    if (!link_alive(watch, owned))
        return restore_or_hold(nic, dev, name);
    if (nic->state != VNIC_NIC_PLUGGED) { /* all there (a restart found it so) */
        vnic_nic_set_state(nic, VNIC_NIC_PLUGGED, NULL, NULL);
        write_status(nic->dom);
    }
    if (nic->carrier != (nic->admin_up && lower.oper_up)) {
        mirror_lower(nic, name, lower.oper_up);
        return TRUE;
    }
    return FALSE;
}

static gboolean
heal_tap(VnicNic *nic, VnicConfDevice *dev, VnicHostLinkWatch *watch, VnicOwnedLink *owned,
         gboolean bridged)
{
    VnicHostLinkInfo br, tap;
    const char *bridge = dev->nic->source;
    gboolean have_bridge = bridged && present(watch, bridge, &br) && is_bridge(&br);
    gboolean alive = link_alive(watch, owned);
    g_autofree char *why = NULL;

    if (bridged && !have_bridge) {
        if (nic->state == VNIC_NIC_WAITING && g_strcmp0(nic->waiting_for, bridge) == 0 &&
            !nic->carrier)
            return FALSE;
        why = g_strdup_printf("bridge '%s' is gone", bridge);
        lose(nic, bridge, why, alive);
        return TRUE;
    }
    if (!alive) {
        if (dev->nic->target_managed == VNIC_TRISTATE_NO)
            return FALSE; /* not ours to re-create */
        return restore_or_hold(nic, dev, bridged ? bridge : dev->nic->target_dev);
    }
    vnic_host_link_watch_lookup_index(watch, owned->link->ifindex, &tap);
    if (bridged && tap.master != br.ifindex) {
        reenslave(nic, dev, owned);
        return TRUE;
    }
    if (nic->state != VNIC_NIC_PLUGGED) {
        vnic_nic_set_state(nic, VNIC_NIC_PLUGGED, NULL, NULL);
        write_status(nic->dom);
    }
    if (nic->carrier != nic->admin_up) {
        set_carrier(nic, nic->admin_up);
        return TRUE;
    }
    return FALSE;
}

void
vnic_nic_heal(VnicNic *nic)
{
    VnicDomain *dom = nic->dom;
    VnicHostLinkWatch *watch = dom->daemon->link_watch;
    VnicConfDevice *dev;
    VnicOwnedLink *owned;

    if (nic->busy) {
        nic->dirty = TRUE;
        return;
    }
    if (!watch || !dom->process || dom->state != VNIC_DOMAIN_RUNNING ||
        (nic->state != VNIC_NIC_PLUGGED && nic->state != VNIC_NIC_WAITING &&
         nic->state != VNIC_NIC_RESTORING) ||
        !(dev = nic_device(nic)))
        return;
    if (vnic_conf_nic_reconnect_mode(dom->live, dev) == VNIC_CONF_RECONNECT_OFF) {
        /* nothing healed: the carrier only follows domif-setlink */
        if (nic->carrier != nic->admin_up)
            set_carrier(nic, nic->admin_up);
        return;
    }
    owned = backend_link(dom, nic->alias);
    switch (vnic_conf_nic_backend_type(dev->nic)) {
    case VNIC_CONF_NIC_DIRECT:
        heal_direct(nic, dev, watch, owned);
        break;
    case VNIC_CONF_NIC_BRIDGE:
        heal_tap(nic, dev, watch, owned, TRUE);
        break;
    case VNIC_CONF_NIC_ETHERNET:
        heal_tap(nic, dev, watch, owned, FALSE);
        break;
    default:
        break;
    }
}

typedef struct {
    VnicDaemon *daemon;
    char *domain;
    char *alias;
} HealLater;

static gboolean
heal_idle(gpointer data)
{
    HealLater *h = data;
    VnicDomain *dom = g_hash_table_lookup(h->daemon->domains, h->domain);
    VnicNic *nic = dom ? vnic_domain_get_nic(dom, h->alias) : NULL;

    if (nic)
        vnic_nic_heal(nic);
    g_free(h->domain);
    g_free(h->alias);
    g_free(h);
    return G_SOURCE_REMOVE;
}

/* Looks again from the main loop, not from inside the callback that saw
 * the change (a link event, the end of a step). */
static void
heal_later(VnicNic *nic)
{
    HealLater *h = g_new0(HealLater, 1);

    h->daemon = nic->dom->daemon;
    h->domain = g_strdup(nic->dom->name);
    h->alias = g_strdup(nic->alias);
    g_idle_add(heal_idle, h);
}

void
vnic_domain_heal(VnicDomain *dom)
{
    g_autoptr(GPtrArray) nics = vnic_domain_nics(dom);

    for (guint i = 0; i < nics->len; i++)
        heal_later(g_ptr_array_index(nics, i));
}

/* ---- the link watch ------------------------------------------------------------- */

/* Whether @ev concerns NIC @nic: its lower device or bridge (by name, old
 * or new), the device it waits for, or its own link (by ifindex). */
static gboolean
concerns(VnicNic *nic, const VnicHostLinkEvent *ev)
{
    VnicConfDevice *dev = nic_device(nic);
    VnicOwnedLink *owned = backend_link(nic->dom, nic->alias);
    const char *names[] = { dev ? dev->nic->source : NULL, nic->waiting_for,
                            dev ? dev->nic->target_dev : NULL };

    if (owned && owned->link->ifindex == ev->link.ifindex)
        return TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (names[i] && (g_strcmp0(names[i], ev->link.name) == 0 ||
                         g_strcmp0(names[i], ev->old_name) == 0))
            return TRUE;
    }
    return FALSE;
}

/* Whether @ev brings a device the NIC needs (its lower device or bridge,
 * what it waits for: added, or renamed to that name), rather than being
 * about its own links: only that is a reason to try a failed restore again
 * at once (our own attempt's links coming and going, a bridge's ports
 * changing, are not); otherwise the retry timer does. */
static gboolean
about_needed_device(VnicNic *nic, const VnicHostLinkEvent *ev)
{
    VnicConfDevice *dev = nic_device(nic);
    VnicOwnedLink *owned = backend_link(nic->dom, nic->alias);
    const char *names[] = { dev ? dev->nic->source : NULL, nic->waiting_for };

    if ((owned && owned->link->ifindex == ev->link.ifindex) ||
        (ev->type != VNIC_HOST_LINK_ADDED && ev->type != VNIC_HOST_LINK_RENAMED))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (names[i] && (g_strcmp0(names[i], ev->link.name) == 0 ||
                         g_strcmp0(names[i], ev->old_name) == 0))
            return TRUE;
    }
    return FALSE;
}

/* Someone renamed a link of ours: the ledger follows it (it is still
 * ours, by ifindex), and so does the live definition's <target dev>. */
static void
follow_rename(VnicDomain *dom, const VnicHostLinkEvent *ev)
{
    for (guint i = 0; i < dom->links->len; i++) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
        VnicNic *nic = vnic_domain_get_nic(dom, o->alias);
        VnicConfDevice *dev = nic ? nic_device(nic) : NULL;

        if (o->link->ifindex != ev->link.ifindex || g_strcmp0(o->link->name, ev->old_name) != 0)
            continue;
        g_message("domain '%s': its link %s was renamed %s", dom->name, ev->old_name,
                  ev->link.name);
        g_free(o->link->name);
        o->link->name = g_strdup(ev->link.name);
        if (dev && g_strcmp0(dev->nic->target_dev, ev->old_name) == 0) {
            g_free(dev->nic->target_dev);
            dev->nic->target_dev = g_strdup(ev->link.name);
        }
        write_status(dom);
    }
}

static void
on_link_event(VnicHostLinkWatch *watch, const VnicHostLinkEvent *ev, gpointer data)
{
    VnicDaemon *daemon = data;
    GHashTableIter iter;
    gpointer value;

    if (ev->type == VNIC_HOST_LINK_REMOVED)
        vnic_domain_unplug_link_removed(daemon, ev->link.ifindex);
    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        VnicDomain *dom = value;
        GHashTableIter nics;
        gpointer nic;

        if (!dom->nics || !dom->process)
            continue;
        if (ev->type == VNIC_HOST_LINK_RENAMED)
            follow_rename(dom, ev);
        g_hash_table_iter_init(&nics, dom->nics);
        while (g_hash_table_iter_next(&nics, NULL, &nic)) {
            if (concerns(nic, ev)) {
                if (about_needed_device(nic, ev)) {
                    ((VnicNic *)nic)->hold = FALSE;
                    ((VnicNic *)nic)->failures = 0;
                }
                heal_later(nic);
            }
        }
    }
}

gboolean
vnic_daemon_heal_start(VnicDaemon *daemon, GError **error)
{
    daemon->link_watch = vnic_host_link_watch_new(on_link_event, daemon, NULL, error);
    return daemon->link_watch != NULL;
}

void
vnic_daemon_heal_stop(VnicDaemon *daemon)
{
    g_clear_pointer(&daemon->link_watch, vnic_host_link_watch_free);
}
