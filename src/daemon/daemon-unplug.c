/* daemon-unplug.c: NICs leaving a running guest, whoever asked.
 *
 * A host-initiated detach sends device_del and waits, as a job, for QEMU's
 * DEVICE_DELETED for that device id (QEMU 7.2 sends a second one for the
 * virtio backend path, without "device": ignored).  If the guest takes
 * longer than the request's timeout the reply says the unplug is still in
 * progress and the job ends; the pending unplug stays recorded and
 * completes whenever the event comes.  An event nobody asked for is a
 * guest-initiated unplug.  Either way the end is the same:
 *   netdev_del → the NIC leaves the live definition (its slot is free
 *   again) → DEVICE_REMOVED and the reply → the owned links' deletion
 *   (RTM_DELLINK, vnicd's queue references closed) in a worker thread →
 *   later, once the kernel is done with each link: BACKEND_REMOVED.
 * (A link whose queues vnicd does not hold — a vnicd restarted while QEMU
 * ran takes them back from QEMU, daemon-reattach.c, but may not find them —
 * is deleted first and netdev_del waits for its unlisting.)
 */
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-nic.h"
#include "qemu/qemu-hub.h"

#include <string.h>

#define DEFAULT_UNPLUG_TIMEOUT_S 5

typedef struct {
    VnicDomain *dom;
    char *alias;
    VnicApiRequest *request;  /* NULL once answered (timed out) */
    guint timeout_id;
    gboolean config;          /* also remove the NIC from the config */
    guint8 mac[6];
    gint64 sent_us;           /* device_del sent */
    gint64 deleted_us;        /* DEVICE_DELETED seen */
} VnicPendingUnplug;

static void
pending_free(VnicPendingUnplug *p)
{
    g_clear_handle_id(&p->timeout_id, g_source_remove);
    g_free(p->alias);
    g_free(p);
}

static VnicConfDevice *
find_nic(const VnicConfDomain *def, const guint8 *mac, const char *target)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind != VNIC_CONF_DEV_INTERFACE)
            continue;
        if ((mac && d->nic->has_mac && memcmp(d->nic->mac, mac, 6) == 0) ||
            (target && g_strcmp0(d->nic->target_dev, target) == 0))
            return d;
    }
    return NULL;
}

static VnicConfDevice *
find_by_alias(const VnicConfDomain *def, const char *alias)
{
    for (guint i = 0; def && i < def->devices->len; i++) {
        VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind == VNIC_CONF_DEV_INTERFACE && g_strcmp0(d->alias, alias) == 0)
            return d;
    }
    return NULL;
}

static gboolean
remove_from_config(VnicDomain *dom, const guint8 mac[6], GError **error)
{
    VnicConfDevice *dev = find_nic(dom->config, mac, NULL);

    guint index;

    if (!dev || !g_ptr_array_find(dom->config->devices, dev, &index))
        return TRUE;
    /* written without it first; only then is it gone from memory too, so a
     * failed write (a full disk) leaves memory and disk the same */
    g_ptr_array_steal_index(dom->config->devices, index);
    if (!vnic_state_write_config(dom->daemon, dom, error)) {
        g_ptr_array_insert(dom->config->devices, (gint)index, dev);
        g_prefix_error(error, "removing the NIC from the config: ");
        return FALSE;
    }
    vnic_conf_device_free(dev);
    return TRUE;
}

static JsonObject *
completed_object(gboolean completed, const char *message)
{
    JsonObject *ret = json_object_new();

    json_object_set_boolean_member(ret, "completed", completed);
    if (message)
        json_object_set_string_member(ret, "message", message);
    return ret;
}

static void
reply_completed(VnicApiRequest *request, gboolean completed, const char *message)
{
    vnic_api_request_return_object(request, completed_object(completed, message));
}

/* How long the guest took (device_del → DEVICE_DELETED) and how long vnic
 * took after that (netdev_del, link, state, event). */
static void
reply_done(VnicPendingUnplug *p)
{
    JsonObject *ret = completed_object(TRUE, NULL), *t = json_object_new();
    g_autofree char *mac = vnic_conf_mac_format(p->mac);

    json_object_set_string_member(ret, "alias", p->alias);
    json_object_set_string_member(ret, "mac", mac);

    json_object_set_int_member(t, "guest-us", p->deleted_us - p->sent_us);
    json_object_set_int_member(t, "cleanup-us", g_get_monotonic_time() - p->deleted_us);
    json_object_set_object_member(ret, "timings", t);
    vnic_api_request_return_object(p->request, ret);
    g_debug("domain '%s': %s: reply written %" G_GINT64_FORMAT " us after DEVICE_DELETED",
            p->dom->name, p->alias, g_get_monotonic_time() - p->deleted_us);
}

/* ---- completion ----------------------------------------------------------- */

/* After DEVICE_DELETED, in this order, when vnicd holds a reference to
 * every queue fd of the NIC's tap or macvtap (VnicOwnedLink.queues: taken
 * when the fds went to QEMU, at start, hot-plug and heal):
 *   1. netdev_del at once: QEMU's close of its fds is not the last
 *      reference to the open files, so the kernel does not detach the
 *      queue in it (no RCU grace period: tun's __tun_detach, macvtap's
 *      tap_put_queue) and netdev_del answers in QEMU's own time.
 *   2. netdev_del answered: the NIC leaves the live definition, the client
 *      hears "completed" (the guest released it, QEMU's netdev is gone).
 *   3. Then, each link in a worker thread: RTM_DELLINK, and vnicd's
 *      references closed (the last ones: the RCU waits are paid here).
 *   4. The kernel answers the RTM_DELLINK (the teardown is over): only now
 *      does the link leave the ledger, its name free for vnic to use again
 *      (daemon-hotplug.c avoids it until then), and BACKEND_REMOVED says so.
 * When vnicd holds no reference (a NIC of a QEMU re-attached after a vnicd
 * restart whose references could not be taken back from QEMU), QEMU's
 * close would be the last one and tear the tap down inside netdev_del; then 3 comes first and
 * netdev_del waits until every link is unlisted (the link watch reports it
 * REMOVED) or its deletion returned: QEMU's close then has nothing left to
 * wait for (but for a macvtap's tap_put_queue).
 * A vnicd killed between 2 and 4 finds the link in the status file with no
 * NIC behind it; reconcile (daemon-reconcile.c) deletes or forgets it. */
typedef struct {
    VnicDomain *dom;
    char *alias;
    VnicPendingUnplug *pending; /* taken from dom->unplugs, or NULL (guest) */
    guint unlisting;            /* links not yet unlisted (netdev_del waits) */
    gboolean netdev_del_sent;
    gboolean links_after;       /* queues held: the links go after netdev_del */
    GPtrArray *deletions;       /* LinkDeletion*: the NIC's, finished after DEVICE_REMOVED */
} Completion;

static void finish_deletions(Completion *c);
static void delete_nic_links_async(Completion *c);

static void
completion_free(Completion *c)
{
    if (c->pending)
        pending_free(c->pending);
    g_ptr_array_unref(c->deletions);
    g_free(c->alias);
    g_free(c);
}

/* netdev_del is done: the NIC leaves the definition, the client hears. */
static void
complete(Completion *c)
{
    VnicDomain *dom = c->dom;
    g_autoptr(GError) error = NULL;
    VnicConfDevice *dev = find_by_alias(dom->live, c->alias);

    /* a detach asked for while the NIC was already on its way out
     * (start_unplug) is answered by this completion */
    if (!c->pending && dom->unplugs &&
        g_hash_table_steal_extended(dom->unplugs, c->alias, NULL, (gpointer *)&c->pending)) {
        g_clear_handle_id(&c->pending->timeout_id, g_source_remove);
        c->pending->deleted_us = g_get_monotonic_time();
    }
    if (dev) {
        vnic_hotplug_remember(dom, dev);
        /* its links being deleted stay in the ledger (and the status), but
         * belong to no NIC any more: a new NIC may get the same id */
        for (guint i = 0; i < dom->links->len; i++) {
            VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
            if (o->deletion && g_strcmp0(o->alias, c->alias) == 0)
                g_clear_pointer(&o->alias, g_free);
        }
        vnic_domain_forget_nic(dom, dev, c->pending ? "host" : "guest");
        if (!vnic_state_write_status(dom, &error))
            g_warning("domain '%s': writing status: %s", dom->name, error->message);
    }
    finish_deletions(c); /* BACKEND_REMOVED only after DEVICE_REMOVED */
    if (c->pending && c->pending->config && !remove_from_config(dom, c->pending->mac, &error)) {
        g_warning("domain '%s': %s", dom->name, error->message);
        if (c->pending->request) {
            /* the guest let go of it, but the config keeps it: not "completed" */
            g_prefix_error(&error, "detached from the running guest, but not from the config: ");
            vnic_api_request_error(c->pending->request, error);
            c->pending->request = NULL;
            completion_free(c);
            vnic_domain_job_done(dom);
            return;
        }
    }
    if (c->pending && c->pending->request) {
        reply_done(c->pending);
        c->pending->request = NULL;
        completion_free(c);
        vnic_domain_job_done(dom);
        return;
    }
    completion_free(c);
}

static void
netdevs_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
    Completion *c = data;
    g_autoptr(GError) error = NULL;

    if (!vnic_qemu_nic_netdevs_delete_finish(res, &error))
        g_debug("domain '%s': netdevs of %s: %s", c->dom->name, c->alias, error->message);
    if (c->pending)
        g_debug("domain '%s': %s: netdev_del done %" G_GINT64_FORMAT " us after DEVICE_DELETED",
                c->dom->name, c->alias, g_get_monotonic_time() - c->pending->deleted_us);
    if (c->links_after)
        delete_nic_links_async(c);
    complete(c);
}

/* The tap's netdev, and a hub NIC's two hubports; a vhost-user netdev
 * takes its socket chardev with it. */
static void
delete_netdevs(Completion *c)
{
    VnicConfDevice *dev = find_by_alias(c->dom->live, c->alias);

    c->netdev_del_sent = TRUE;
    if (!c->dom->process || !dev) { /* QEMU went meanwhile, and the NIC with it */
        if (c->links_after)
            delete_nic_links_async(c);
        complete(c);
        return;
    }
    vnic_qemu_nic_netdevs_delete_async(vnic_qemu_process_get_qmp(c->dom->process), c->dom->live,
                                       dev, NULL, netdevs_deleted, c);
}

/* One link deletion under way.  The ledger entry is compared by pointer,
 * never dereferenced once the ledger may have dropped it (the domain
 * stopped); the domain is looked up again by name for the same reason. */
typedef struct {
    VnicDaemon *daemon;
    char *domain;
    VnicOwnedLink *owned;
    VnicHostLink *link;        /* a copy, for the event */
    char *alias;
    Completion *c;             /* the unplug, until it completed; then NULL */
    gboolean unlisted;         /* counted in c->unlisting */
    gboolean finished;         /* the kernel answered */
    GError *error;             /* its answer, when it refused */
} LinkDeletion;

static void
link_deletion_free(LinkDeletion *d)
{
    g_free(d->domain);
    vnic_host_link_free(d->link);
    g_free(d->alias);
    g_clear_error(&d->error);
    g_free(d);
}

/* The link is unlisted (or its deletion ended): netdev_del may go. */
static void
link_unlisted(LinkDeletion *d)
{
    Completion *c = d->c;

    if (d->unlisted || !c)
        return;
    d->unlisted = TRUE;
    if (--c->unlisting == 0 && !c->netdev_del_sent) {
        if (c->pending)
            g_debug("domain '%s': %s: links unlisted %" G_GINT64_FORMAT " us after DEVICE_DELETED",
                    c->dom->name, c->alias, g_get_monotonic_time() - c->pending->deleted_us);
        delete_netdevs(c);
    }
}

static void
emit_backend_removed(VnicDaemon *daemon, const char *domain, const char *alias,
                     const VnicHostLink *link)
{
    JsonObject *ev = json_object_new();

    json_object_set_string_member(ev, "alias", alias ? alias : "");
    json_object_set_string_member(ev, "link", link->name);
    json_object_set_int_member(ev, "ifindex", link->ifindex);
    vnic_daemon_emit(daemon, "BACKEND_REMOVED", domain, ev);
}

/* The kernel answered and the NIC is gone: the ledger lets the link go. */
static void
finish_deletion(LinkDeletion *d)
{
    VnicDomain *dom = g_hash_table_lookup(d->daemon->domains, d->domain);
    VnicOwnedLink *owned = dom && g_ptr_array_find(dom->links, d->owned, NULL) ? d->owned : NULL;
    g_autoptr(GError) error = NULL;

    if (owned)
        owned->deletion = NULL;
    if (d->error) {
        /* the ledger keeps it: deleted when the domain stops, or at start-up */
        g_warning("domain '%s': %s", d->domain, d->error->message);
    } else if (owned) {
        g_ptr_array_remove(dom->links, owned);
        if (dom->live && !vnic_state_write_status(dom, &error))
            g_warning("domain '%s': writing status: %s", dom->name, error->message);
        emit_backend_removed(d->daemon, d->domain, d->alias, d->link);
    }
    link_deletion_free(d);
}

/* The unplug completed: deletions the kernel already answered end now,
 * the others when it does. */
static void
finish_deletions(Completion *c)
{
    for (guint i = 0; i < c->deletions->len; i++) {
        LinkDeletion *d = g_ptr_array_index(c->deletions, i);
        d->c = NULL;
        if (d->finished)
            finish_deletion(d);
    }
    g_ptr_array_set_size(c->deletions, 0);
}

static void
link_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
    LinkDeletion *d = data;

    d->finished = TRUE;
    g_task_propagate_boolean(G_TASK(res), &d->error);
    if (d->c) {
        link_unlisted(d); /* may complete the unplug, which then finishes d */
        return;
    }
    finish_deletion(d);
}

/* What a deletion's thread works on: its own copy of the link, and the
 * queue references it takes over from the ledger entry. */
typedef struct {
    VnicHostLink *link;
    VnicHostQueueRefs *queues;
} LinkDeletionWork;

static void
link_deletion_work_free(LinkDeletionWork *w)
{
    vnic_host_link_free(w->link);
    vnic_host_queue_refs_free(w->queues);
    g_free(w);
}

/* The link first, then vnicd's queue references (QEMU closed its own:
 * these are the last).  In that order the kernel detaches the queues in
 * RTM_DELLINK, under the RTNL lock, where its grace periods are expedited,
 * and the link is unlisted (its name free) as soon as can be; a macvtap
 * queue's close then still waits for a normal grace period
 * (tap_put_queue), but holds nothing anyone waits for. */
static void
delete_link_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    LinkDeletionWork *w = data;
    GError *error = NULL;
    gboolean ok = vnic_host_link_delete(w->link, &error);

    g_clear_pointer(&w->queues, vnic_host_queue_refs_free);
    if (ok)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void
delete_link_async(Completion *c, VnicOwnedLink *owned)
{
    LinkDeletion *d = g_new0(LinkDeletion, 1);
    LinkDeletionWork *w = g_new0(LinkDeletionWork, 1);
    GTask *task;

    d->daemon = c->dom->daemon;
    d->domain = g_strdup(c->dom->name);
    d->owned = owned;
    d->link = vnic_host_link_copy(owned->link);
    d->alias = g_strdup(c->alias);
    d->c = c;
    owned->deletion = d;
    c->unlisting++;
    g_ptr_array_add(c->deletions, d);
    w->link = vnic_host_link_copy(owned->link);
    w->queues = g_steal_pointer(&owned->queues);
    task = g_task_new(NULL, NULL, link_deleted, d);
    g_task_set_task_data(task, w, (GDestroyNotify)link_deletion_work_free);
    g_task_run_in_thread(task, delete_link_thread);
    g_object_unref(task);
}

/* The NIC's links in the ledger that no deletion has taken yet. */
static GPtrArray *
nic_links(VnicDomain *dom, const char *alias)
{
    GPtrArray *links = g_ptr_array_new();

    for (guint i = 0; i < dom->links->len; i++) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
        if (g_strcmp0(o->alias, alias) == 0 && !o->deletion)
            g_ptr_array_add(links, o);
    }
    return links;
}

/* Every link of the NIC: its deletion starts (looked up again: the domain
 * may have stopped, and its ledger gone, while netdev_del ran). */
static void
delete_nic_links_async(Completion *c)
{
    g_autoptr(GPtrArray) links = nic_links(c->dom, c->alias);

    c->links_after = FALSE;
    for (guint i = 0; i < links->len; i++)
        delete_link_async(c, g_ptr_array_index(links, i));
}

/* TRUE when vnicd holds the queues of every tap and macvtap in @links
 * (the ifb has none): QEMU's netdev_del may then go first. */
static gboolean
queues_held(GPtrArray *links)
{
    for (guint i = 0; i < links->len; i++) {
        const VnicOwnedLink *o = g_ptr_array_index(links, i);
        if (o->link->kind != VNIC_HOST_LINK_IFB && !o->queues)
            return FALSE;
    }
    return TRUE;
}

void
vnic_domain_unplug_link_removed(VnicDaemon *daemon, guint ifindex)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        VnicDomain *dom = value;
        for (guint i = 0; i < dom->links->len; i++) {
            VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
            if (o->deletion && o->link->ifindex == ifindex)
                link_unlisted(o->deletion);
        }
    }
}

gboolean
vnic_domain_is_pending_link(const VnicDomain *dom, const VnicOwnedLink *o)
{
    if (o->deletion || !o->alias || !*o->alias)
        return TRUE;
    return dom->live && !find_by_alias(dom->live, o->alias);
}

void
vnic_domain_finish_link_deletions(VnicDomain *dom)
{
    for (guint i = dom->links->len; i > 0; i--) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i - 1);
        g_autoptr(GError) error = NULL;

        if (o->deletion || !vnic_domain_is_pending_link(dom, o))
            continue;
        if (!vnic_host_link_delete(o->link, &error)) {
            g_warning("domain '%s': %s", dom->name, error->message);
            continue;
        }
        g_message("domain '%s': link %s of a detached NIC is gone", dom->name, o->link->name);
        emit_backend_removed(dom->daemon, dom->name, NULL, o->link);
        g_ptr_array_remove_index(dom->links, i - 1);
    }
}

static void remove_released(VnicDomain *dom, const char *alias);

/* The NIC a released-while-healing unplug waits for, by name: the domain
 * or the NIC may be gone by the time the heal step ends. */
typedef struct {
    VnicDaemon *daemon;
    char *domain;
    char *alias;
} Released;

static gboolean
released_after_step(gpointer data)
{
    Released *r = data;
    VnicDomain *dom = g_hash_table_lookup(r->daemon->domains, r->domain);

    if (dom && dom->process && dom->live)
        remove_released(dom, r->alias);
    g_free(r->domain);
    g_free(r->alias);
    g_free(r);
    return G_SOURCE_REMOVE;
}

/* DEVICE_DELETED for one of our NICs: finish its unplug.  A heal step in
 * flight (a new backend going in: netdev_add of host<id> and its hubport)
 * is let finish first: removing the netdevs in the middle of its QMP
 * sequence would leave the new backend's netdev in QEMU, holding the new
 * tap, and the id could never be used again. */
static void
device_deleted(VnicDomain *dom, const char *alias)
{
    VnicNic *nic;

    if (!dom->process || !find_by_alias(dom->live, alias))
        return;
    nic = vnic_domain_get_nic(dom, alias);
    if (nic && (nic->state == VNIC_NIC_PLANNED || nic->state == VNIC_NIC_BACKEND_READY)) {
        /* its device_add has not completed: the event is of an earlier
         * device with this id (gone from query-pci at re-attach, finalized
         * by QEMU only now).  Taking it for this NIC would pull the NIC out
         * from under its attach. */
        g_message("domain '%s': DEVICE_DELETED of an earlier %s, ignored: the NIC of that id "
                  "is being attached", dom->name, alias);
        return;
    }
    if (nic && nic->state != VNIC_NIC_UNPLUGGING)
        vnic_nic_set_state(nic, VNIC_NIC_UNPLUGGING, NULL, "the guest released it");
    if (nic && nic->busy) {
        Released *r = g_new0(Released, 1);

        r->daemon = dom->daemon;
        r->domain = g_strdup(dom->name);
        r->alias = g_strdup(alias);
        vnic_nic_when_idle(nic, released_after_step, r);
        return;
    }
    remove_released(dom, alias);
}

/* The released NIC's netdevs and links go, then it leaves the definition. */
static void
remove_released(VnicDomain *dom, const char *alias)
{
    g_autoptr(GPtrArray) links = NULL;
    Completion *c;
    VnicConfDevice *dev = find_by_alias(dom->live, alias);

    if (!dev)
        return;
    c = g_new0(Completion, 1);
    c->dom = dom;
    c->alias = g_strdup(alias);
    c->deletions = g_ptr_array_new();
    if (dom->unplugs && g_hash_table_steal_extended(dom->unplugs, alias, NULL, (gpointer *)&c->pending)) {
        g_clear_handle_id(&c->pending->timeout_id, g_source_remove);
        c->pending->deleted_us = g_get_monotonic_time();
    }
    links = nic_links(dom, alias);
    if (links->len > 0 && queues_held(links)) {
        c->links_after = TRUE;
        delete_netdevs(c);
        return;
    }
    if (links->len > 0)
        g_debug("domain '%s': %s: no reference to its queues: its links go before netdev_del",
                dom->name, alias);
    for (guint i = 0; i < links->len; i++)
        delete_link_async(c, g_ptr_array_index(links, i));
    if (c->unlisting == 0)
        delete_netdevs(c);
}

/* The unplug did not happen: the NIC is still the guest's. */
static void
back_to_plugged(VnicDomain *dom, const char *alias, const char *reason)
{
    VnicNic *nic = vnic_domain_get_nic(dom, alias);
    g_autoptr(GError) error = NULL;

    if (!nic || nic->state != VNIC_NIC_UNPLUGGING)
        return;
    vnic_nic_set_state(nic, VNIC_NIC_PLUGGED, NULL, reason);
    if (!vnic_state_write_status(dom, &error))
        g_warning("domain '%s': writing status: %s", dom->name, error->message);
    vnic_nic_heal(nic);
}

/* The guest refused (QEMU ≥ 6.2 reports it): the waiting detach fails. */
static void
unplug_refused(VnicDomain *dom, const char *alias)
{
    VnicPendingUnplug *p = NULL;
    g_autoptr(GError) error = NULL;

    if (!dom->unplugs || !g_hash_table_steal_extended(dom->unplugs, alias, NULL, (gpointer *)&p))
        return;
    back_to_plugged(dom, alias, "the guest refused to release it");
    g_warning("domain '%s': unplug of NIC %s failed: the guest refused to release it", dom->name,
              alias);
    if (p->request) {
        error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                            "the guest refused to release %s (DEVICE_UNPLUG_GUEST_ERROR)", alias);
        vnic_api_request_error(p->request, error);
        p->request = NULL;
        pending_free(p);
        vnic_domain_job_done(dom);
        return;
    }
    pending_free(p);
}

static void
on_device_event(VnicQmpClient *client, const char *event, JsonObject *data, gint64 ts,
                gpointer user_data)
{
    VnicDomain *dom = user_data;
    const char *alias = json_object_has_member(data, "device")
                            ? json_object_get_string_member(data, "device") : NULL;

    if (!alias) /* the virtio backend's own DEVICE_DELETED: only a path */
        return;
    if (g_strcmp0(event, "DEVICE_DELETED") == 0 && vnic_heal_device_deleted(dom, alias))
        return; /* a replug of its backend (daemon-heal.c), not an unplug */
    if (g_strcmp0(event, "DEVICE_DELETED") == 0)
        device_deleted(dom, alias);
    else if (g_strcmp0(event, "DEVICE_UNPLUG_GUEST_ERROR") == 0)
        unplug_refused(dom, alias);
}

static void
resumed_device_del_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree char *what = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    /* "already in the process of unplug": the first one did go out */
    if (!ret)
        g_debug("%s: device_del again: %s", what, error->message);
}

void
vnic_domain_resume_unplug(VnicDomain *dom, const char *alias)
{
    g_autoptr(JsonObject) args = json_object_new();

    g_message("domain '%s': %s was being unplugged when vnicd stopped: device_del again",
              dom->name, alias);
    json_object_set_string_member(args, "id", alias);
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "device_del", args,
                                  NULL, 0, 5000, NULL, resumed_device_del_sent,
                                  g_strdup_printf("domain '%s': %s", dom->name, alias));
}

/* QEMU is gone: unplugs still waiting end with it. */
void
vnic_domain_abort_unplugs(VnicDomain *dom)
{
    GHashTableIter iter;
    gpointer value;
    VnicApiRequest *waiting = NULL;

    if (!dom->unplugs)
        return;
    g_hash_table_iter_init(&iter, dom->unplugs);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        VnicPendingUnplug *p = value;
        if (p->request)
            waiting = g_steal_pointer(&p->request);
    }
    g_hash_table_remove_all(dom->unplugs);
    if (waiting) {
        /* the NIC went with QEMU: that is an unplug too */
        reply_completed(waiting, TRUE, "the domain stopped");
        vnic_domain_job_done(dom);
    }
}

void
vnic_domain_watch_devices(VnicDomain *dom)
{
    VnicQmpClient *qmp = vnic_qemu_process_get_qmp(dom->process);

    vnic_qmp_client_add_event_handler(qmp, "DEVICE_DELETED", on_device_event, dom, NULL);
    vnic_qmp_client_add_event_handler(qmp, "DEVICE_UNPLUG_GUEST_ERROR", on_device_event, dom, NULL);
}

/* ---- the detach job ----------------------------------------------------- */

typedef struct {
    VnicDomain *dom;
    VnicApiRequest *request;
    VnicPendingUnplug *pending;
} DeviceDel;

static gboolean
unplug_timed_out(gpointer data)
{
    VnicPendingUnplug *p = data;
    g_autofree char *msg = g_strdup_printf("unplug of %s is still in progress: the guest has not "
                                           "released it yet; it completes (and DEVICE_REMOVED is "
                                           "sent) when it does", p->alias);
    JsonObject *ret = completed_object(FALSE, msg);

    p->timeout_id = 0;
    json_object_set_string_member(ret, "alias", p->alias);
    vnic_api_request_return_object(p->request, ret);
    p->request = NULL;
    vnic_domain_job_done(p->dom);
    return G_SOURCE_REMOVE;
}

static void
device_del_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree DeviceDel *d = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);
    VnicDomain *dom = d->dom;

    if (!ret && g_strcmp0(vnic_qmp_error_get_class(error), "DeviceNotFound") == 0 &&
        find_by_alias(dom->live, d->pending->alias)) {
        /* the guest released it just before: its DEVICE_DELETED is on the
         * way (or was handled), which completes this detach */
        g_debug("domain '%s': device_del %s: already gone", dom->name, d->pending->alias);
        return;
    }
    if (!ret) {
        g_warning("domain '%s': unplug of NIC %s failed: %s", dom->name, d->pending->alias,
                  error->message);
        back_to_plugged(dom, d->pending->alias, error->message);
        g_hash_table_remove(dom->unplugs, d->pending->alias);
        vnic_api_request_error(d->request, error);
        vnic_domain_job_done(dom);
    }
    /* else: wait for DEVICE_DELETED (device_deleted) or the timeout */
}

/* Which NIC a detach names: "mac" or "target", or the MAC in "xml". */
static gboolean
detach_target(VnicApiRequest *request, guint8 mac[6], gboolean *has_mac, const char **target,
              GError **error)
{
    const char *xml = NULL, *mac_text = NULL;
    g_autoptr(VnicConfDevice) dev = NULL;

    *has_mac = FALSE;
    if (strcmp(vnic_api_request_get_command(request), "detach-device") == 0) {
        if (!vnic_hotplug_small_xml_arg(request, &xml, error) ||
            !(dev = vnic_conf_interface_parse(NULL, xml, strlen(xml), error)))
            return FALSE;
        if (!dev->nic->has_mac) {
            g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                        "detach-device: the <interface> needs a <mac address> to say which NIC");
            return FALSE;
        }
        memcpy(mac, dev->nic->mac, 6);
        *has_mac = TRUE;
        return TRUE;
    }
    if (!vnic_api_arg_string(request, "mac", FALSE, &mac_text, error) ||
        !vnic_api_arg_string(request, "target", FALSE, target, error))
        return FALSE;
    if (mac_text && !(*has_mac = vnic_conf_mac_parse(mac_text, mac))) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "argument 'mac': invalid MAC address '%s'", mac_text);
        return FALSE;
    }
    if (!*has_mac && !*target) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "detach-interface needs 'mac' or 'target'");
        return FALSE;
    }
    return TRUE;
}

/* Whether this NIC may be unplugged at all. */
static gboolean
check_detachable(const VnicDomain *dom, const VnicConfDevice *dev, GError **error)
{
    const VnicConfDomain *def = dom->live;
    VnicTristate t = dev->nic->guest_unplug != VNIC_TRISTATE_ABSENT ? dev->nic->guest_unplug
                                                                     : def->guest_unplug;
    g_autofree char *what = vnic_conf_device_describe(def, dev);

    if (t == VNIC_TRISTATE_NO)
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                    "%s: its unplug is forbidden (guest-unplug='deny'): it stays until the "
                    "domain stops; remove it with --config", what);
    else if (dev->addr.function != 0 || dev->addr.multifunction == VNIC_TRISTATE_YES)
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                    "%s: a multifunction device cannot be hot-unplugged", what);
    else if (def->family == VNIC_MACHINE_Q35 && dev->addr.bus == 0)
        g_set_error(error, VNIC_PCI_ERROR, VNIC_PCI_ERROR_UNPLUG,
                    "%s: it is an integrated endpoint on pcie.0, which has no hot-plug", what);
    else
        return TRUE;
    return FALSE;
}

/* The NIC's state says so before device_del goes out, so a vnicd killed
 * now knows after its restart that the guest may be letting go of it. */
static gboolean
send_device_del(gpointer data)
{
    DeviceDel *d = data;
    VnicDomain *dom = d->dom;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(GError) error = NULL;
    VnicNic *nic;

    if (!dom->process) { /* QEMU went while a heal step ran: the unplug was aborted */
        g_free(d);
        return G_SOURCE_REMOVE;
    }
    nic = vnic_domain_get_nic(dom, d->pending->alias);
    if (nic && nic->state != VNIC_NIC_UNPLUGGING) {
        vnic_nic_set_state(nic, VNIC_NIC_UNPLUGGING, NULL, "detach requested");
        if (!vnic_state_write_status(dom, &error))
            g_warning("domain '%s': writing status: %s", dom->name, error->message);
    }
    json_object_set_string_member(args, "id", d->pending->alias);
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "device_del", args, NULL,
                                  0, 5000, NULL, device_del_sent, d);
    return G_SOURCE_REMOVE;
}

static gboolean
start_unplug(VnicDomain *dom, VnicApiRequest *request, VnicConfDevice *dev, gboolean config,
             GError **error)
{
    gint64 timeout = dom->daemon->opts.unplug_timeout_s ? dom->daemon->opts.unplug_timeout_s
                                                         : DEFAULT_UNPLUG_TIMEOUT_S;
    VnicPendingUnplug *p;
    VnicNic *nic;
    DeviceDel *d;

    if (!vnic_api_arg_int(request, "timeout", 0, 3600, &timeout, error) ||
        !check_detachable(dom, dev, error))
        return FALSE;
    if (!dom->unplugs)
        dom->unplugs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify)pending_free);
    if (g_hash_table_contains(dom->unplugs, dev->alias)) {
        g_autofree char *msg = g_strdup_printf("unplug of %s is already in progress", dev->alias);
        reply_completed(request, FALSE, msg);
        vnic_domain_job_done(dom);
        return TRUE;
    }
    p = g_new0(VnicPendingUnplug, 1);
    p->dom = dom;
    p->alias = g_strdup(dev->alias);
    p->request = request;
    p->config = config;
    memcpy(p->mac, dev->nic->mac, 6);
    p->timeout_id = g_timeout_add_seconds((guint)MAX(timeout, 1), unplug_timed_out, p);
    p->sent_us = g_get_monotonic_time();
    g_hash_table_insert(dom->unplugs, p->alias, p);
    nic = vnic_domain_get_nic(dom, dev->alias);
    if (nic && nic->state == VNIC_NIC_UNPLUGGING) {
        /* on its way out without a detach waiting for it: the guest let go
         * of it and its removal runs, or a restarted vnicd sent device_del
         * again.  A second device_del would race that removal (QEMU:
         * "Device 'netN' not found" once it is out); the removal, or the
         * DEVICE_DELETED to come, answers this detach instead. */
        return TRUE;
    }
    d = g_new0(DeviceDel, 1);
    *d = (DeviceDel){ dom, request, p };
    if (!nic) {
        send_device_del(d);
        return TRUE;
    }
    /* not while a new backend is going in: after it */
    vnic_nic_when_idle(nic, send_device_del, d);
    return TRUE;
}

/* Starts or does the detach; FALSE with @error when refused.  On TRUE the
 * request is answered now or by the pending unplug. */
static gboolean
detach(VnicDomain *dom, VnicApiRequest *request, GError **error)
{
    gboolean live, config, has_mac;
    const char *target = NULL;
    guint8 mac[6];
    VnicConfDevice *dev;

    if (!vnic_hotplug_resolve_flags(dom, request, &live, &config, error) ||
        !detach_target(request, mac, &has_mac, &target, error))
        return FALSE;
    dev = find_nic(live ? dom->live : dom->config, has_mac ? mac : NULL, target);
    if (!dev) {
        g_autofree char *which = has_mac ? vnic_conf_mac_format(mac) : g_strdup(target);
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "domain '%s' has no interface %s '%s'%s", dom->name,
                    has_mac ? "with MAC" : "with target", which, live ? "" : " in its config");
        return FALSE;
    }
    if (live)
        return start_unplug(dom, request, dev, config, error);
    if (!remove_from_config(dom, dev->nic->mac, error))
        return FALSE;
    reply_completed(request, TRUE, NULL);
    vnic_domain_job_done(dom);
    return TRUE;
}

void
vnic_domain_detach_job(VnicDomain *dom, VnicApiRequest *request)
{
    g_autoptr(GError) error = NULL;

    if (!detach(dom, request, &error)) {
        const char *mac = NULL, *target = NULL;

        /* the client sees the error; the log must too (vnicd(8) "LOGGING") */
        vnic_api_arg_string(request, "mac", FALSE, &mac, NULL);
        vnic_api_arg_string(request, "target", FALSE, &target, NULL);
        g_warning("domain '%s': unplug of NIC %s failed: %s", dom->name,
                  mac ? mac : target ? target : "(given by <interface>)", error->message);
        vnic_api_request_error(request, error);
        vnic_domain_job_done(dom);
    }
}
