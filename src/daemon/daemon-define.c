/* daemon-define.c: define (validate + plan + store) and the interface list.
 *
 * A definition is planned once, when it is defined: the stored config has
 * every PCI address, so each start gives the guest the same layout and the
 * same names.  Like libvirt, a name belongs to one uuid: redefining keeps
 * the uuid, and another domain's uuid is refused.
 */
#include "daemon/daemon-nic.h"
#include "qemu/qemu-command.h"

#include <string.h>

static gboolean
plan_options(VnicApiRequest *request, VnicPciPlanOptions *opts, GError **error)
{
    const char *policy = NULL;
    gint64 spare = -1;

    opts->policy = VNIC_PCI_POLICY_NIC_FIRST;
    opts->spare_ports = -1;
    if (!vnic_api_arg_string(request, "policy", FALSE, &policy, error) ||
        !vnic_api_arg_int(request, "spare-ports", 0, 255, &spare, error))
        return FALSE;
    if (policy && !vnic_pci_policy_from_string(policy, &opts->policy)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "argument 'policy' must be 'nic-first' or 'libvirt', not '%s'", policy);
        return FALSE;
    }
    opts->spare_ports = (gint)spare;
    return TRUE;
}

static VnicDomain *
find_by_uuid(VnicDaemon *daemon, const char *uuid)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        VnicDomain *dom = value;
        if (uuid && g_strcmp0(dom->config->uuid, uuid) == 0)
            return dom;
    }
    return NULL;
}

/* One name, one uuid: fills in or checks @def's uuid. */
static gboolean
check_identity(VnicDaemon *daemon, VnicConfDomain *def, GError **error)
{
    VnicDomain *same_name = g_hash_table_lookup(daemon->domains, def->name);
    VnicDomain *same_uuid = find_by_uuid(daemon, def->uuid);

    if (same_name && !def->uuid)
        def->uuid = g_strdup(same_name->config->uuid);
    else if (!def->uuid)
        def->uuid = g_uuid_string_random();
    if (same_name && g_strcmp0(same_name->config->uuid, def->uuid) != 0) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_DOMAIN_EXISTS,
                    "domain '%s' already exists with uuid %s", def->name, same_name->config->uuid);
        return FALSE;
    }
    if (same_uuid && same_uuid != same_name) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_DOMAIN_EXISTS,
                    "uuid %s already belongs to domain '%s'", def->uuid, same_uuid->name);
        return FALSE;
    }
    return TRUE;
}

VnicDomain *
vnic_daemon_define(VnicDaemon *daemon, VnicApiRequest *request, GError **error)
{
    const char *xml = NULL;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    VnicPciPlanOptions opts = { .warnings = warnings };
    g_autoptr(VnicConfDomain) def = NULL;
    g_autoptr(GRand) rand = g_rand_new();
    VnicDomain *dom;

    if (!vnic_api_arg_string(request, "xml", TRUE, &xml, error) ||
        !plan_options(request, &opts, error) ||
        !(def = vnic_conf_domain_parse(xml, strlen(xml), error)) ||
        !check_identity(daemon, def, error) || !vnic_pci_plan(def, &opts, error) ||
        !vnic_qemu_domain_check(def, error))
        return NULL;
    /* addresses libvirt keeps with a warning (the pci layer does not log) */
    for (guint i = 0; i < warnings->len; i++)
        g_message("define '%s': %s", def->name, (const char *)g_ptr_array_index(warnings, i));
    vnic_conf_domain_assign_macs(def, rand);

    dom = g_hash_table_lookup(daemon->domains, def->name);
    if (dom) {
        VnicConfDomain *old = dom->config;
        dom->config = g_steal_pointer(&def);
        if (!vnic_state_write_config(daemon, dom, error)) {
            def = dom->config;   /* put the old one back */
            dom->config = old;
            return NULL;
        }
        vnic_conf_domain_free(old);
    } else {
        dom = vnic_domain_new(daemon, g_steal_pointer(&def));
        if (!vnic_state_write_config(daemon, dom, error)) {
            vnic_domain_free(dom);
            return NULL;
        }
        g_hash_table_insert(daemon->domains, g_strdup(dom->name), dom);
    }
    vnic_daemon_emit(daemon, "DOMAIN_DEFINED", dom->name, NULL);
    return dom;
}

static void
set_string_or_null(JsonObject *o, const char *key, const char *value)
{
    if (value)
        json_object_set_string_member(o, key, value);
    else
        json_object_set_null_member(o, key);
}

static JsonObject *
interface_json(VnicDomain *dom, const VnicConfDomain *def, const VnicConfDevice *dev)
{
    const VnicConfNic *nic = dev->nic;
    JsonObject *o = json_object_new();
    g_autofree char *mac = nic->has_mac ? vnic_conf_mac_format(nic->mac) : NULL;
    g_autofree char *addr = dev->addr.set ? vnic_pci_addr_format(&dev->addr) : NULL;
    g_autoptr(VnicPciGuestNames) names = NULL;

    set_string_or_null(o, "alias", dev->alias);
    json_object_set_string_member(o, "type", vnic_conf_nic_type_string(nic));
    /* a network NIC shows its network, as virsh domiflist does */
    set_string_or_null(o, "source",
                       nic->type == VNIC_CONF_NIC_NETWORK ? nic->network : nic->source);
    set_string_or_null(o, "target", nic->target_dev);
    set_string_or_null(o, "model", nic->model);
    set_string_or_null(o, "mac", mac);
    set_string_or_null(o, "address", addr);
    if (dev->addr.set) {
        names = vnic_pci_predict_names(def, &dev->addr, nic->acpi_index);
        set_string_or_null(o, "guest-name", vnic_pci_guest_names_preferred(names));
    } else {
        json_object_set_null_member(o, "guest-name");
    }
    json_object_set_string_member(o, "reconnect",
                                  vnic_conf_reconnect_to_string(vnic_conf_nic_reconnect_mode(def, dev)));
    /* a running NIC's life: its state, the carrier the guest sees */
    if (dom && def == dom->live && vnic_domain_get_nic(dom, dev->alias))
        vnic_nic_describe(vnic_domain_get_nic(dom, dev->alias), o);
    return o;
}

JsonObject *
vnic_daemon_interfaces_json(VnicDomain *dom, const VnicConfDomain *def)
{
    JsonObject *ret = json_object_new();
    JsonArray *list = json_array_new();

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        if (dev->kind == VNIC_CONF_DEV_INTERFACE)
            json_array_add_object_element(list, interface_json(dom, def, dev));
    }
    json_object_set_array_member(ret, "interfaces", list);
    return ret;
}
