/* daemon-reconcile.c: the live definition against what QEMU really has.
 *
 * After a re-attach, a NIC may have gone while vnicd was not looking (the
 * guest ejected it, or an unplug vnicd had asked for completed).  QEMU's
 * query-pci is the truth (vnic_qemu_query_pci_gone, the same reading the
 * start-up check uses): every NIC of the live definition QEMU no longer
 * has is forgotten exactly as if its DEVICE_DELETED had arrived.  NICs
 * behind a root port the guest has not enumerated yet are not judged.
 */
#include "daemon/daemon-lifecycle.h"

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
    /* every link of the NIC: its tap or macvtap, and an ifb for <outbound> */
    for (guint i = dom->links->len; i > 0; i--) {
        VnicOwnedLink *o = g_ptr_array_index(dom->links, i - 1);
        g_autoptr(GError) error = NULL;

        if (g_strcmp0(o->alias, dev->alias) != 0)
            continue;
        if (vnic_host_link_delete(o->link, &error))
            g_ptr_array_remove_index(dom->links, i - 1);
        else
            g_warning("domain '%s': %s", dom->name, error->message);
    }
    g_ptr_array_remove(dom->live->devices, dev);
    vnic_daemon_emit(dom->daemon, "DEVICE_REMOVED", dom->name, ev);
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
        vnic_domain_job_done(dom);
        return;
    }
    expected = vnic_qemu_expected_pci(dom->live, NULL);
    gone = expected ? vnic_qemu_query_pci_gone(expected, ret) : g_ptr_array_new();
    for (guint i = dom->live->devices->len; i > 0; i--) {
        VnicConfDevice *dev = g_ptr_array_index(dom->live->devices, i - 1);
        if (dev->kind == VNIC_CONF_DEV_INTERFACE && dev->alias &&
            g_ptr_array_find_with_equal_func(gone, dev->alias, g_str_equal, NULL)) {
            g_message("domain '%s': %s vanished while vnicd was down", dom->name, dev->alias);
            vnic_domain_forget_nic(dom, dev, "guest");
        }
    }
    if (!vnic_state_write_status(dom, &error))
        g_warning("domain '%s': writing status: %s", dom->name, error->message);
    vnic_domain_job_done(dom);
}

void
vnic_domain_reconcile(VnicDomain *dom)
{
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "query-pci", NULL, NULL,
                                  0, 5000, NULL, query_pci_done, dom);
}
