/* daemon-nic.c: the per-NIC state machine (see daemon-nic.h).
 *
 * The records live in dom->nics; vnic_nic_set_state() is the only place a
 * state changes, so the transition table below is the whole lifecycle.
 */
#include "daemon/daemon-nic.h"

static const char *const state_names[] = {
    [VNIC_NIC_PLANNED] = "planned",       [VNIC_NIC_BACKEND_READY] = "backend-ready",
    [VNIC_NIC_PLUGGED] = "plugged",       [VNIC_NIC_WAITING] = "waiting",
    [VNIC_NIC_RESTORING] = "restoring",   [VNIC_NIC_UNPLUGGING] = "unplugging",
    [VNIC_NIC_GONE] = "gone",
};

#define BIT(s) (1u << (s))

/* Where each state may go.  Staying in a state is always allowed (a new
 * reason, or WAITING for another device). */
static const guint allowed[] = {
    [VNIC_NIC_PLANNED] = BIT(VNIC_NIC_BACKEND_READY) | BIT(VNIC_NIC_PLUGGED) | BIT(VNIC_NIC_GONE),
    [VNIC_NIC_BACKEND_READY] = BIT(VNIC_NIC_PLUGGED) | BIT(VNIC_NIC_GONE),
    [VNIC_NIC_PLUGGED] = BIT(VNIC_NIC_WAITING) | BIT(VNIC_NIC_RESTORING) |
                         BIT(VNIC_NIC_UNPLUGGING) | BIT(VNIC_NIC_GONE),
    [VNIC_NIC_WAITING] = BIT(VNIC_NIC_RESTORING) | BIT(VNIC_NIC_PLUGGED) |
                         BIT(VNIC_NIC_UNPLUGGING) | BIT(VNIC_NIC_GONE),
    [VNIC_NIC_RESTORING] = BIT(VNIC_NIC_PLUGGED) | BIT(VNIC_NIC_WAITING) |
                           BIT(VNIC_NIC_UNPLUGGING) | BIT(VNIC_NIC_GONE),
    /* back to PLUGGED: device_del failed, or the guest refused */
    [VNIC_NIC_UNPLUGGING] = BIT(VNIC_NIC_PLUGGED) | BIT(VNIC_NIC_GONE),
    [VNIC_NIC_GONE] = 0,
};

const char *
vnic_nic_state_to_string(VnicNicState state)
{
    return state < G_N_ELEMENTS(state_names) ? state_names[state] : "unknown";
}

gboolean
vnic_nic_state_from_string(const char *text, VnicNicState *state)
{
    for (guint i = 0; i < G_N_ELEMENTS(state_names); i++) {
        if (g_strcmp0(text, state_names[i]) == 0) {
            *state = (VnicNicState)i;
            return TRUE;
        }
    }
    return FALSE;
}

static void
nic_free(VnicNic *nic)
{
    g_clear_handle_id(&nic->retry_id, g_source_remove);
    g_free(nic->alias);
    g_free(nic->waiting_for);
    g_free(nic->reason);
    g_free(nic);
}

/* The table's value destructor: a record with a heal step in flight is
 * only orphaned (dom = NULL); the step frees it when it completes. */
static void
nic_release(gpointer data)
{
    VnicNic *nic = data;

    if (nic->busy) {
        g_clear_handle_id(&nic->retry_id, g_source_remove);
        nic->dom = NULL;
    } else
        nic_free(nic);
}

void
vnic_nic_free_orphan(VnicNic *nic)
{
    g_assert(nic->dom == NULL);
    nic_free(nic);
}

VnicNic *
vnic_nic_new(VnicDomain *dom, const char *alias, VnicNicState state)
{
    VnicNic *nic = g_new0(VnicNic, 1);

    nic->dom = dom;
    nic->alias = g_strdup(alias);
    nic->state = state;
    nic->admin_up = TRUE;
    nic->carrier = TRUE;
    if (!dom->nics)
        dom->nics = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, nic_release);
    g_hash_table_replace(dom->nics, nic->alias, nic);
    return nic;
}

VnicNic *
vnic_domain_get_nic(VnicDomain *dom, const char *alias)
{
    return dom->nics && alias ? g_hash_table_lookup(dom->nics, alias) : NULL;
}

void
vnic_domain_clear_nics(VnicDomain *dom)
{
    g_clear_pointer(&dom->nics, g_hash_table_unref);
}

static void
emit_state(VnicNic *nic, VnicNicState previous)
{
    JsonObject *ev = json_object_new();

    json_object_set_string_member(ev, "alias", nic->alias);
    json_object_set_string_member(ev, "state", vnic_nic_state_to_string(nic->state));
    json_object_set_string_member(ev, "previous", vnic_nic_state_to_string(previous));
    if (nic->reason)
        json_object_set_string_member(ev, "reason", nic->reason);
    if (nic->state == VNIC_NIC_WAITING && nic->waiting_for)
        json_object_set_string_member(ev, "waiting-for", nic->waiting_for);
    vnic_daemon_emit(nic->dom->daemon, "NIC_STATE", nic->dom->name, ev);
}

static void
announce(VnicNic *nic, VnicNicState previous)
{
    g_message("domain '%s': NIC %s: %s -> %s%s%s", nic->dom->name, nic->alias,
              vnic_nic_state_to_string(previous), vnic_nic_state_to_string(nic->state),
              nic->reason ? ": " : "", nic->reason ? nic->reason : "");
    emit_state(nic, previous);
}

void
vnic_nic_announce(VnicNic *nic)
{
    if (!nic->unannounced)
        return;
    nic->unannounced = FALSE;
    announce(nic, nic->announce_from);
}

/* The transition itself; FALSE when refused, or when it changes nothing
 * (*@changed FALSE then). */
static gboolean
change_state(VnicNic *nic, VnicNicState state, const char *waiting_for, const char *reason,
             gboolean *changed)
{
    VnicNicState previous = nic->state;
    gboolean same = previous == state;

    *changed = FALSE;
    if (!same && !(allowed[previous] & BIT(state))) {
        g_critical("domain '%s': NIC %s: no transition from %s to %s", nic->dom->name, nic->alias,
                   vnic_nic_state_to_string(previous), vnic_nic_state_to_string(state));
        return FALSE;
    }
    if (same && g_strcmp0(nic->reason, reason) == 0 &&
        (state != VNIC_NIC_WAITING || g_strcmp0(nic->waiting_for, waiting_for) == 0))
        return TRUE;
    nic->state = state;
    g_free(nic->reason);
    nic->reason = g_strdup(reason);
    g_free(nic->waiting_for);
    nic->waiting_for = state == VNIC_NIC_WAITING ? g_strdup(waiting_for) : NULL;
    *changed = TRUE;
    return TRUE;
}

gboolean
vnic_nic_set_state(VnicNic *nic, VnicNicState state, const char *waiting_for, const char *reason)
{
    VnicNicState previous;
    gboolean changed;

    /* the held-back transition first: the log and the events keep the order */
    vnic_nic_announce(nic);
    previous = nic->state;
    if (!change_state(nic, state, waiting_for, reason, &changed))
        return FALSE;
    if (!changed)
        return TRUE;
    announce(nic, previous);
    if (state == VNIC_NIC_GONE)
        g_hash_table_remove(nic->dom->nics, nic->alias);
    return TRUE;
}

gboolean
vnic_nic_set_state_quietly(VnicNic *nic, VnicNicState state)
{
    VnicNicState previous;
    gboolean changed;

    g_return_val_if_fail(state != VNIC_NIC_GONE && state != VNIC_NIC_WAITING, FALSE);
    vnic_nic_announce(nic);
    previous = nic->state;
    if (!change_state(nic, state, NULL, NULL, &changed))
        return FALSE;
    if (changed) {
        nic->unannounced = TRUE;
        nic->announce_from = previous;
    }
    return TRUE;
}

gboolean
vnic_nic_wants_carrier(const VnicNic *nic)
{
    return nic->admin_up && nic->state == VNIC_NIC_PLUGGED;
}

void
vnic_nic_describe(const VnicNic *nic, JsonObject *obj)
{
    json_object_set_string_member(obj, "state", vnic_nic_state_to_string(nic->state));
    json_object_set_string_member(obj, "link", nic->carrier ? "up" : "down");
    if (nic->state == VNIC_NIC_WAITING && nic->waiting_for)
        json_object_set_string_member(obj, "waiting-for", nic->waiting_for);
    if (nic->reason)
        json_object_set_string_member(obj, "reason", nic->reason);
}

/* ---- the status file ------------------------------------------------------ */

static gint
compare_alias(gconstpointer a, gconstpointer b)
{
    const VnicNic *x = *(VnicNic *const *)a, *y = *(VnicNic *const *)b;
    return g_strcmp0(x->alias, y->alias);
}

GPtrArray *
vnic_domain_nics(VnicDomain *dom)
{
    GPtrArray *nics = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;

    if (!dom->nics)
        return nics;
    g_hash_table_iter_init(&iter, dom->nics);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(nics, value);
    g_ptr_array_sort(nics, compare_alias);
    return nics;
}

void
vnic_state_append_nics(GString *s, VnicDomain *dom)
{
    /* by alias: stable files, easier to read and diff */
    g_autoptr(GPtrArray) nics = vnic_domain_nics(dom);

    for (guint i = 0; i < nics->len; i++) {
        const VnicNic *nic = g_ptr_array_index(nics, i);

        g_string_append(s, "  <nic");
        vnic_state_append_attr(s, "alias", nic->alias);
        vnic_state_append_attr(s, "state", vnic_nic_state_to_string(nic->state));
        if (nic->state == VNIC_NIC_WAITING && nic->waiting_for)
            vnic_state_append_attr(s, "waiting-for", nic->waiting_for);
        vnic_state_append_attr(s, "carrier", nic->carrier ? "up" : "down");
        vnic_state_append_attr(s, "admin", nic->admin_up ? "up" : "down");
        g_string_append(s, "/>\n");
    }
}

void
vnic_state_parse_nic(VnicDomain *dom, const char *alias, const char *state,
                     const char *waiting_for, const char *carrier, const char *admin)
{
    VnicNicState st;
    VnicNic *nic;

    if (!alias || !vnic_nic_state_from_string(state, &st) || st == VNIC_NIC_GONE) {
        g_warning("domain '%s': ignoring <nic alias='%s' state='%s'> in its status", dom->name,
                  alias ? alias : "", state ? state : "");
        return;
    }
    nic = vnic_nic_new(dom, alias, st);
    nic->waiting_for = st == VNIC_NIC_WAITING ? g_strdup(waiting_for) : NULL;
    nic->carrier = g_strcmp0(carrier, "down") != 0;
    nic->admin_up = g_strcmp0(admin, "down") != 0;
}
