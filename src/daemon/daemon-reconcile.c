/* daemon-reconcile.c: the live definition against what QEMU really has.
 *
 * After a re-attach, a NIC may have gone while vnicd was not looking (the
 * guest ejected it, or an unplug vnicd had asked for completed).  QEMU's
 * query-pci is the truth (vnic_qemu_query_pci_gone, the same reading the
 * start-up check uses): every NIC of the live definition QEMU no longer
 * has is forgotten exactly as if its DEVICE_DELETED had arrived.  NICs
 * behind a root port the guest has not enumerated yet are not judged.
 */
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-lifecycle.h"
#include "daemon/daemon-nic.h"
#include "qemu/qemu-hub.h"

/* Removes @dev (a NIC of the live definition) and its host link, and tells
 * subscribers.  @initiator: "host" or "guest". */
void
vnic_domain_forget_nic(VnicDomain *dom, VnicConfDevice *dev, const char *initiator)
{
    JsonObject *ev = json_object_new();
    g_autofree char *mac = dev->nic->has_mac ? vnic_conf_mac_format(dev->nic->mac) : NULL;
    g_autofree char *addr = dev->addr.set ? vnic_pci_addr_format(&dev->addr) : NULL;

    json_object_set_string_member(ev, "alias", dev->alias ? dev->alias : "");
    json_object_set_string_member(ev, "mac", mac ? mac : "");
    json_object_set_string_member(ev, "address", addr ? addr : "");
    json_object_set_string_member(ev, "initiator", initiator);
    vnic_domain_clear_unmanaged(dom, dev);
    vnic_domain_delete_nic_links(dom, dev->alias);
    {
        VnicNic *nic = vnic_domain_get_nic(dom, dev->alias);
        if (nic)
            vnic_nic_set_state(nic, VNIC_NIC_GONE, NULL, initiator);
    }
    g_ptr_array_remove(dom->live->devices, dev);
    vnic_daemon_emit(dom->daemon, "DEVICE_REMOVED", dom->name, ev);
}

static void
netdevs_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree char *what = data;
    g_autoptr(GError) error = NULL;

    if (!vnic_qemu_nic_netdevs_delete_finish(res, &error))
        g_warning("%s: %s", what, error->message);
}

/* A NIC QEMU no longer has may still have its netdevs there (vnicd was
 * down when the guest let go of it): they go, or their ids could never
 * be used again. */
static void
delete_netdevs(VnicDomain *dom, const VnicConfDevice *dev)
{
    vnic_qemu_nic_netdevs_delete_async(vnic_qemu_process_get_qmp(dom->process), dom->live, dev,
                                       NULL, netdevs_deleted,
                                       g_strdup_printf("domain '%s': %s", dom->name, dev->alias));
}

static void
fd_closed(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    /* an error is the usual case: the attach got past netdev_add (which
     * took the fds) or never reached getfd */
    if (!ret)
        g_debug("closefd after an attach cut short: %s", error->message);
}

/* An attach cut short after getfd leaves QEMU holding the tap's fds under
 * the plug's names (vnic-<id>-<queue>, qemu-plug.c): they are closed, or
 * the deleted tap would live on in QEMU. */
static void
close_passed_fds(VnicDomain *dom, const VnicConfDevice *dev)
{
    for (guint i = 0; i < MAX(dev->nic->queues, 1); i++) {
        g_autoptr(JsonObject) args = json_object_new();
        g_autofree char *name = vnic_qemu_plug_fd_name(dev->alias, i);

        json_object_set_string_member(args, "fdname", name);
        vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "closefd", args,
                                      NULL, 0, 5000, NULL, fd_closed, NULL);
    }
}

/* Status files from before the per-NIC state: every NIC QEMU has is
 * plugged.  A record whose NIC never made it into the live definition
 * (vnicd died mid-attach) has only its links to give back. */
static void
reconcile_records(VnicDomain *dom)
{
    g_autoptr(GPtrArray) stray = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter iter;
    gpointer key, value;

    vnic_domain_finish_link_deletions(dom);

    for (guint i = 0; i < dom->live->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(dom->live->devices, i);
        VnicNic *nic;

        if (dev->kind != VNIC_CONF_DEV_INTERFACE || !dev->alias)
            continue;
        nic = vnic_domain_get_nic(dom, dev->alias);
        if (nic && (nic->state == VNIC_NIC_PLANNED || nic->state == VNIC_NIC_BACKEND_READY)) {
            /* QEMU has it (else it was forgotten above): the attach got through */
            vnic_nic_set_state(nic, VNIC_NIC_PLUGGED, NULL, "its attach completed while vnicd was down");
            continue;
        }
        if (nic)
            continue;
        nic = vnic_nic_new(dom, dev->alias, VNIC_NIC_PLUGGED);
        nic->admin_up = nic->carrier = dev->nic->link_up != VNIC_TRISTATE_NO;
    }
    if (!dom->nics)
        return;
    g_hash_table_iter_init(&iter, dom->nics);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        gboolean known = FALSE;
        for (guint i = 0; i < dom->live->devices->len && !known; i++) {
            const VnicConfDevice *dev = g_ptr_array_index(dom->live->devices, i);
            known = dev->kind == VNIC_CONF_DEV_INTERFACE && g_strcmp0(dev->alias, key) == 0;
        }
        if (!known)
            g_ptr_array_add(stray, g_strdup(key));
    }
    for (guint i = 0; i < stray->len; i++) {
        const char *alias = g_ptr_array_index(stray, i);
        VnicNic *nic = vnic_domain_get_nic(dom, alias);

        g_message("domain '%s': %s was being attached when vnicd stopped; undoing it", dom->name,
                  alias);
        vnic_domain_delete_nic_links(dom, alias);
        vnic_nic_set_state(nic, VNIC_NIC_GONE, NULL, "vnicd stopped during its attach");
    }
}

/* An unplug recorded but maybe never sent (vnicd died between writing
 * 'unplugging' and device_del) would wait for ever: it is completed.  QEMU
 * still has these NICs (the ones it lost were forgotten above). */
static void
resume_unplugs(VnicDomain *dom)
{
    g_autoptr(GPtrArray) nics = vnic_domain_nics(dom);

    for (guint i = 0; i < nics->len; i++) {
        VnicNic *nic = g_ptr_array_index(nics, i);
        if (nic->state == VNIC_NIC_UNPLUGGING)
            vnic_domain_resume_unplug(dom, nic->alias);
    }
}

/* Whether some domain's ledger has link @ifindex. */
static gboolean
in_a_ledger(VnicDaemon *daemon, guint ifindex)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        VnicDomain *d = value;
        for (guint i = 0; d->links && i < d->links->len; i++) {
            const VnicOwnedLink *o = g_ptr_array_index(d->links, i);
            if (o->link->ifindex == ifindex)
                return TRUE;
        }
    }
    return FALSE;
}

/* A vnicd killed between creating a direct NIC's macvtap (an attach, or a
 * heal's new backend) and writing it to the ledger left it behind, and a
 * new one with that MAC on that lower device would be refused (the kernel
 * has each MAC once per lower device).  It is found by the NIC's MAC (given
 * at creation; not in passthrough mode, where the lower device's MAC
 * changes) and deleted, unless a ledger has it. */
static void
delete_unrecorded_macvtaps(VnicDomain *dom, const VnicConfDevice *dev)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) found = NULL;

    if (vnic_conf_nic_backend_type(dev->nic) != VNIC_CONF_NIC_DIRECT || !dev->nic->has_mac ||
        g_strcmp0(dev->nic->source_mode, "passthrough") == 0)
        return;
    if (!(found = vnic_host_macvtaps_with_mac(dev->nic->source, dev->nic->mac, &error))) {
        g_warning("domain '%s': %s: %s", dom->name, dev->alias, error->message);
        return;
    }
    for (guint i = 0; i < found->len; i++) {
        const VnicHostLink *link = g_ptr_array_index(found, i);
        g_autoptr(GError) local = NULL;

        if (in_a_ledger(dom->daemon, link->ifindex))
            continue;
        g_message("domain '%s': %s: deleting macvtap %s (ifindex %u), made for it by a vnicd "
                  "killed before it recorded it", dom->name, dev->alias, link->name,
                  link->ifindex);
        if (!vnic_host_link_delete(link, &local))
            g_warning("domain '%s': %s", dom->name, local->message);
    }
}

static void
query_pci_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicDomain *dom = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);
    g_autoptr(GPtrArray) expected = NULL;
    g_autoptr(GPtrArray) gone = NULL;

    if (!ret) {
        g_warning("domain '%s': query-pci after re-attach: %s", dom->name, error->message);
        reconcile_records(dom);
        vnic_domain_heal(dom);
        vnic_domain_job_done(dom);
        return;
    }
    for (guint i = 0; i < dom->live->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(dom->live->devices, i);
        if (dev->kind == VNIC_CONF_DEV_INTERFACE)
            delete_unrecorded_macvtaps(dom, dev);
    }
    expected = vnic_qemu_expected_pci(dom->live, NULL);
    gone = expected ? vnic_qemu_query_pci_gone(expected, ret) : g_ptr_array_new();
    for (guint i = dom->live->devices->len; i > 0; i--) {
        VnicConfDevice *dev = g_ptr_array_index(dom->live->devices, i - 1);
        if (dev->kind == VNIC_CONF_DEV_INTERFACE && dev->alias &&
            g_ptr_array_find_with_equal_func(gone, dev->alias, g_str_equal, NULL)) {
            VnicNic *nic = vnic_domain_get_nic(dom, dev->alias);
            gboolean attaching = nic && (nic->state == VNIC_NIC_PLANNED ||
                                         nic->state == VNIC_NIC_BACKEND_READY);

            g_message("domain '%s': %s %s", dom->name, dev->alias,
                      attaching ? "was being attached when vnicd stopped and QEMU does not have "
                                  "it: undoing the attach"
                                : "vanished while vnicd was down");
            delete_netdevs(dom, dev);
            if (attaching)
                close_passed_fds(dom, dev);
            vnic_domain_forget_nic(dom, dev, attaching ? "rollback" : "guest");
        }
    }
    reconcile_records(dom);
    resume_unplugs(dom);
    if (!vnic_state_write_status(dom, &error))
        g_warning("domain '%s': writing status: %s", dom->name, error->message);
    vnic_domain_heal(dom);
    vnic_domain_job_done(dom);
}

void
vnic_domain_reconcile(VnicDomain *dom)
{
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "query-pci", NULL, NULL,
                                  0, 5000, NULL, query_pci_done, dom);
}
