/* qemu-id-pool.h: the ids (uid and gid, the same number) each guest's
 * QEMU runs under, handed out from a configured range.
 *
 * One pool per daemon owns which id belongs to which domain.  It is pure
 * bookkeeping: the caller tells it which ids some process still runs with
 * (vnic_qemu_ids_in_use() reads /proc) and which a restarted daemon found
 * in its status files (vnic_qemu_id_pool_claim()).  An id is handed out
 * round-robin from after the last one, so an id freed a moment ago is the
 * last to come back.
 *
 *   pool = vnic_qemu_id_pool_new(65536, 99999);
 *   vnic_qemu_id_pool_claim(pool, "web", 65540, &err);      // re-attached guest
 *   busy = vnic_qemu_ids_in_use(65536, 99999);
 *   vnic_qemu_id_pool_take(pool, "db", busy, &id, &err);   // a new guest
 *   vnic_qemu_id_pool_release(pool, id);                   // it stopped
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VnicQemuIdPool VnicQemuIdPool;

/* Parses "START-END" (decimal, START <= END, both within 1..2^31-1 so no
 * tool reads them as negative).  INVALID error quoting @text otherwise. */
gboolean vnic_qemu_id_range_parse(const char *text, guint32 *first, guint32 *last,
                                  GError **error);

VnicQemuIdPool *vnic_qemu_id_pool_new(guint32 first, guint32 last);
void vnic_qemu_id_pool_free(VnicQemuIdPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicQemuIdPool, vnic_qemu_id_pool_free)

void vnic_qemu_id_pool_get_range(const VnicQemuIdPool *pool, guint32 *first, guint32 *last);
gboolean vnic_qemu_id_pool_contains(const VnicQemuIdPool *pool, guint32 id);

/* Hands @owner (a domain name, copied) the next id that is neither taken
 * nor in @busy (a set of GUINT_TO_POINTER ids; NULL: none).  HOST error
 * naming the range when every id is taken or busy. */
gboolean vnic_qemu_id_pool_take(VnicQemuIdPool *pool, const char *owner, GHashTable *busy,
                                guint32 *id, GError **error);

/* Records that @owner has @id (read back from a status file).  TRUE when
 * @id is outside the range (nothing to track: the range changed while the
 * guest ran) or already @owner's; HOST error when another owner has it. */
gboolean vnic_qemu_id_pool_claim(VnicQemuIdPool *pool, const char *owner, guint32 id,
                                 GError **error);

/* @id is free again; nothing happens when it was not taken. */
void vnic_qemu_id_pool_release(VnicQemuIdPool *pool, guint32 id);

/* The owner of @id, or NULL when it is free. */
const char *vnic_qemu_id_pool_owner(const VnicQemuIdPool *pool, guint32 id);
guint vnic_qemu_id_pool_n_taken(const VnicQemuIdPool *pool);

/* The ids in @first..@last that some process runs with: any of its real,
 * effective, saved or filesystem uids or gids (/proc/PID/status).  A set
 * of GUINT_TO_POINTER ids; processes that vanish while it reads, and
 * zombies (State comes before Uid in the file), are skipped. */
GHashTable *vnic_qemu_ids_in_use(guint32 first, guint32 last);

G_END_DECLS
