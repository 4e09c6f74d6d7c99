/* qemu-verify.c: does the running QEMU have every PCI device where the
 * plan put it?
 *
 * Owns the expectation table (one row per PCI function of a planned
 * domain) and its comparison with what QEMU reports.  Pure: the QMP
 * replies come in as JSON, the verdict goes out as a GError.
 *
 * Matching: QEMU's bus numbers are the guest's (the firmware numbers
 * bridges while it enumerates); before the guest runs (-S) every bridge
 * and root port still has secondary bus 0 and query-pci lists only the
 * root bus.  So nothing here looks at bus numbers: a device is identified
 * by its qdev_id and its place is (parent, slot, function), the parent
 * being the root bus or the bridge (by qdev_id) whose "devices" list holds
 * it.  Devices behind a bridge query-pci does not show are checked by the
 * caller with qom-get (vnic_qemu_verify_qom): "addr" is the devfn,
 * "parent_bus" the QOM path of the bus, whose last part is the bus name,
 * which QEMU takes from the bridge's id.
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

GPtrArray *
vnic_qemu_expected_pci(const VnicConfDomain *def, GError **error)
{
    g_autoptr(VnicQemuNames) names = vnic_qemu_names_new(def);

    return vnic_qemu_expected_pci_named(def, names, TRUE, error);
}

GPtrArray *
vnic_qemu_expected_pci_named(const VnicConfDomain *def, const VnicQemuNames *names,
                             gboolean with_messages, GError **error)
{
    g_autoptr(GPtrArray) rows =
        g_ptr_array_new_with_free_func((GDestroyNotify) vnic_qemu_pci_expect_free);

    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        const char *bus;
        VnicQemuPciExpect *exp;

        if (!vnic_conf_device_is_pci(dev))
            continue;
        bus = vnic_qemu_names_pci_bus(names, dev->addr.bus);
        if (!dev->addr.set || bus == NULL) {
            vnic_qemu_set_error(error, def, dev, VNIC_QEMU_ERROR_INVALID,
                                dev->addr.set ? "no PCI controller for its bus"
                                              : "no PCI address: the domain must be planned "
                                                "first");
            return NULL;
        }
        exp = g_new0(VnicQemuPciExpect, 1);
        if (!vnic_qemu_is_chipset(def, dev))
            exp->id = g_strdup(vnic_qemu_names_get(names, dev));
        exp->bus = g_strdup(bus);
        exp->on_root = strcmp(bus, "pci.0") == 0 || strcmp(bus, "pcie.0") == 0;
        exp->slot = dev->addr.slot;
        exp->function = dev->addr.function;
        if (with_messages)
            exp->what = vnic_conf_device_describe(def, dev);
        g_ptr_array_add(rows, exp);
    }
    return g_steal_pointer(&rows);
}

/* One function as query-pci lists it. */
typedef struct {
    const char *parent;   /* the bridge's qdev_id, NULL for the root bus */
    guint slot;
    guint function;
    const char *qdev_id;  /* "" for the chipset's functions */
} Seen;

typedef struct {
    GArray *seen;          /* Seen */
    GHashTable *listed;    /* bridge qdev_id → TRUE: its bus is in the reply */
} Reply;

/* The object member @name of @obj, or NULL when it is missing or not an
 * object. */
static JsonObject *
member_object(JsonObject *obj, const char *name)
{
    JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

    return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static JsonArray *
member_array(JsonObject *obj, const char *name)
{
    JsonNode *node = obj != NULL ? json_object_get_member(obj, name) : NULL;

    return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

static JsonObject *
element_object(JsonArray *array, guint i)
{
    JsonNode *node = json_array_get_element(array, i);

    return JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static void
collect(Reply *r, JsonArray *devices, const char *parent, guint depth)
{
    for (guint i = 0; devices != NULL && i < json_array_get_length(devices); i++) {
        JsonObject *d = element_object(devices, i);
        JsonObject *bridge, *bus;
        Seen s;

        if (d == NULL)
            continue;
        s = (Seen){ parent, json_object_get_int_member_with_default(d, "slot", 0),
                    json_object_get_int_member_with_default(d, "function", 0),
                    json_object_get_string_member_with_default(d, "qdev_id", "") };
        g_array_append_val(r->seen, s);
        bridge = member_object(d, "pci_bridge");
        bus = member_object(bridge, "bus");
        if (bus == NULL || json_object_get_int_member_with_default(bus, "secondary", 0) == 0 ||
            *s.qdev_id == '\0' || depth > 32)
            continue;
        g_hash_table_add(r->listed, (gpointer) s.qdev_id);
        collect(r, member_array(bridge, "devices"), s.qdev_id, depth + 1);
    }
}

static const Seen *
find_seen(const Reply *r, const char *parent, guint slot, guint function)
{
    for (guint i = 0; i < r->seen->len; i++) {
        const Seen *s = &g_array_index(r->seen, Seen, i);

        if (g_strcmp0(s->parent, parent) == 0 && s->slot == slot && s->function == function)
            return s;
    }
    return NULL;
}

/* "; QEMU has it on pci.0 slot 0x03 function 0", or "" */
static char *
where_it_is(const Reply *r, const char *id)
{
    for (guint i = 0; id != NULL && i < r->seen->len; i++) {
        const Seen *s = &g_array_index(r->seen, Seen, i);

        if (strcmp(s->qdev_id, id) == 0)
            return g_strdup_printf("; QEMU has it on %s slot 0x%02x function %u",
                                   s->parent != NULL ? s->parent : "the root bus", s->slot,
                                   s->function);
    }
    return g_strdup("");
}

static gboolean
check_one(const VnicQemuPciExpect *exp, const Reply *r, GError **error)
{
    const Seen *s = find_seen(r, exp->on_root ? NULL : exp->bus, exp->slot, exp->function);

    if (s == NULL) {
        g_autofree char *where = where_it_is(r, exp->id);

        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY,
                    "QEMU has no device on %s slot 0x%02x function %u, where the plan puts %s "
                    "('%s')%s", exp->bus, exp->slot, exp->function, exp->what,
                    exp->id != NULL ? exp->id : "chipset", where);
        return FALSE;
    }
    if (exp->id != NULL && strcmp(s->qdev_id, exp->id) != 0) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY,
                    "QEMU has '%s' on %s slot 0x%02x function %u, where the plan puts %s ('%s')",
                    s->qdev_id, exp->bus, exp->slot, exp->function, exp->what, exp->id);
        return FALSE;
    }
    return TRUE;
}

/* A device QEMU lists with an id the plan does not have anywhere. */
static gboolean
check_unplanned(const GPtrArray *expected, const Reply *r, GError **error)
{
    g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < expected->len; i++) {
        const VnicQemuPciExpect *exp = g_ptr_array_index(expected, i);
        if (exp->id != NULL)
            g_hash_table_add(ids, exp->id);
    }
    for (guint i = 0; i < r->seen->len; i++) {
        const Seen *s = &g_array_index(r->seen, Seen, i);

        if (*s->qdev_id != '\0' && !g_hash_table_contains(ids, s->qdev_id)) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY,
                        "QEMU has a device '%s' on %s slot 0x%02x function %u that the plan "
                        "does not have", s->qdev_id, s->parent != NULL ? s->parent : "the root bus",
                        s->slot, s->function);
            return FALSE;
        }
    }
    return TRUE;
}

/* Walks query-pci's root bus (bus 0: pc and q35 have no other root). */
static void
collect_root(Reply *r, JsonArray *buses)
{
    for (guint i = 0; i < json_array_get_length(buses); i++) {
        JsonObject *bus = element_object(buses, i);

        if (bus != NULL && json_object_get_int_member_with_default(bus, "bus", -1) == 0)
            collect(r, member_array(bus, "devices"), NULL, 0);
    }
}

GPtrArray *
vnic_qemu_query_pci_gone(const GPtrArray *expected, JsonNode *query_pci)
{
    JsonArray *buses = JSON_NODE_HOLDS_ARRAY(query_pci) ? json_node_get_array(query_pci) : NULL;
    g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(Seen));
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
    Reply r = { seen, listed };
    GPtrArray *gone = g_ptr_array_new();

    if (buses == NULL)
        return gone;
    collect_root(&r, buses);
    for (guint i = 0; i < seen->len; i++)
        g_hash_table_add(ids, (gpointer)g_array_index(seen, Seen, i).qdev_id);
    for (guint i = 0; i < expected->len; i++) {
        VnicQemuPciExpect *exp = g_ptr_array_index(expected, i);

        /* behind a bridge the reply does not list, absence proves nothing */
        if (exp->id == NULL || (!exp->on_root && !g_hash_table_contains(listed, exp->bus)))
            continue;
        if (!g_hash_table_contains(ids, exp->id))
            g_ptr_array_add(gone, exp->id);
    }
    return gone;
}

gboolean
vnic_qemu_verify_query_pci(const GPtrArray *expected, JsonNode *query_pci,
                           GPtrArray **ret_unseen, GError **error)
{
    JsonArray *buses = JSON_NODE_HOLDS_ARRAY(query_pci) ? json_node_get_array(query_pci) : NULL;
    g_autoptr(GPtrArray) unseen = g_ptr_array_new();
    g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(Seen));
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    Reply r = { seen, listed };

    g_return_val_if_fail(expected != NULL && query_pci != NULL && ret_unseen != NULL, FALSE);

    if (buses == NULL) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY,
                    "query-pci did not return a list of buses");
        return FALSE;
    }
    collect_root(&r, buses);
    for (guint i = 0; i < expected->len; i++) {
        VnicQemuPciExpect *exp = g_ptr_array_index(expected, i);

        if (!exp->on_root && !g_hash_table_contains(listed, exp->bus))
            g_ptr_array_add(unseen, exp);
        else if (!check_one(exp, &r, error))
            return FALSE;
    }
    if (!check_unplanned(expected, &r, error))
        return FALSE;
    *ret_unseen = g_steal_pointer(&unseen);
    return TRUE;
}

gboolean
vnic_qemu_verify_qom(const VnicQemuPciExpect *exp, gint64 devfn, const char *parent_bus_path,
                     GError **error)
{
    const char *slash = parent_bus_path != NULL ? strrchr(parent_bus_path, '/') : NULL;
    const char *bus = slash != NULL ? slash + 1 : parent_bus_path;

    g_return_val_if_fail(exp != NULL, FALSE);

    if (g_strcmp0(bus, exp->bus) != 0 || devfn != (gint64)(exp->slot << 3 | exp->function)) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_VERIFY,
                    "QEMU has %s ('%s') on %s slot 0x%02x function %u, the plan puts it on %s "
                    "slot 0x%02x function %u", exp->what, exp->id, bus != NULL ? bus : "no bus",
                    (guint)(devfn >> 3) & 0x1f, (guint) devfn & 7, exp->bus, exp->slot,
                    exp->function);
        return FALSE;
    }
    return TRUE;
}
