/* qemu-id-pool.c: which domain's QEMU has which id (see qemu-id-pool.h).
 *
 * Pure: no I/O.  The /proc scan that says which ids are still in use
 * lives in qemu-host.c.
 */
#include "qemu/qemu-id-pool.h"
#include "qemu/qemu-command.h"

/* Ids at or above 2^31 are read as negative by tools that keep them in a
 * signed int (systemd reserves them for that reason). */
#define ID_MAX ((guint32) G_MAXINT32)

struct _VnicQemuIdPool {
    guint32 first, last;
    guint32 next;           /* where the next search starts */
    GHashTable *owners;     /* GUINT_TO_POINTER(id) → owner name */
};

static gboolean
parse_id(const char *text, guint32 *id)
{
    guint64 value;

    if (!g_ascii_string_to_unsigned(text, 10, 1, ID_MAX, &value, NULL))
        return FALSE;
    *id = (guint32) value;
    return TRUE;
}

gboolean
vnic_qemu_id_range_parse(const char *text, guint32 *first, guint32 *last, GError **error)
{
    g_auto(GStrv) parts = text != NULL ? g_strsplit(text, "-", -1) : NULL;

    if (parts == NULL || g_strv_length(parts) != 2 || !parse_id(g_strstrip(parts[0]), first) ||
        !parse_id(g_strstrip(parts[1]), last) || *first > *last) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "id range '%s' must be START-END, two numbers from 1 to %u with START <= END",
                    text != NULL ? text : "", ID_MAX);
        return FALSE;
    }
    return TRUE;
}

VnicQemuIdPool *
vnic_qemu_id_pool_new(guint32 first, guint32 last)
{
    VnicQemuIdPool *pool;

    g_return_val_if_fail(first >= 1 && first <= last, NULL);
    pool = g_new0(VnicQemuIdPool, 1);
    pool->first = first;
    pool->last = last;
    pool->next = first;
    pool->owners = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    return pool;
}

void
vnic_qemu_id_pool_free(VnicQemuIdPool *pool)
{
    if (pool == NULL)
        return;
    g_hash_table_unref(pool->owners);
    g_free(pool);
}

void
vnic_qemu_id_pool_get_range(const VnicQemuIdPool *pool, guint32 *first, guint32 *last)
{
    *first = pool->first;
    *last = pool->last;
}

gboolean
vnic_qemu_id_pool_contains(const VnicQemuIdPool *pool, guint32 id)
{
    return id >= pool->first && id <= pool->last;
}

static gboolean
is_free(const VnicQemuIdPool *pool, GHashTable *busy, guint32 id)
{
    gpointer key = GUINT_TO_POINTER(id);

    return !g_hash_table_contains(pool->owners, key) &&
           (busy == NULL || !g_hash_table_contains(busy, key));
}

gboolean
vnic_qemu_id_pool_take(VnicQemuIdPool *pool, const char *owner, GHashTable *busy, guint32 *id,
                       GError **error)
{
    guint64 size = (guint64) pool->last - pool->first + 1;
    guint32 candidate = pool->next;

    for (guint64 tried = 0; tried < size; tried++) {
        if (is_free(pool, busy, candidate)) {
            g_hash_table_insert(pool->owners, GUINT_TO_POINTER(candidate), g_strdup(owner));
            pool->next = candidate == pool->last ? pool->first : candidate + 1;
            *id = candidate;
            return TRUE;
        }
        candidate = candidate == pool->last ? pool->first : candidate + 1;
    }
    g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST,
                "no free id for the QEMU of '%s' in the range %u-%u: %u guests have one, "
                "processes run with the others (widen qemu-uid-range)",
                owner, pool->first, pool->last, g_hash_table_size(pool->owners));
    return FALSE;
}

gboolean
vnic_qemu_id_pool_claim(VnicQemuIdPool *pool, const char *owner, guint32 id, GError **error)
{
    const char *had;

    if (!vnic_qemu_id_pool_contains(pool, id))
        return TRUE;
    had = g_hash_table_lookup(pool->owners, GUINT_TO_POINTER(id));
    if (had != NULL && g_strcmp0(had, owner) != 0) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST,
                    "id %u of the QEMU of '%s' is the id of '%s' already", id, owner, had);
        return FALSE;
    }
    g_hash_table_insert(pool->owners, GUINT_TO_POINTER(id), g_strdup(owner));
    return TRUE;
}

void
vnic_qemu_id_pool_release(VnicQemuIdPool *pool, guint32 id)
{
    g_hash_table_remove(pool->owners, GUINT_TO_POINTER(id));
}

const char *
vnic_qemu_id_pool_owner(const VnicQemuIdPool *pool, guint32 id)
{
    return g_hash_table_lookup(pool->owners, GUINT_TO_POINTER(id));
}

guint
vnic_qemu_id_pool_n_taken(const VnicQemuIdPool *pool)
{
    return g_hash_table_size(pool->owners);
}
