/* test-qemu-id-pool.c: the per-domain uid/gid pool (qemu-id-pool.h).
 *
 * Pure bookkeeping, no root needed: ranges parsed and refused, ids handed
 * out round-robin and never twice, ids a process still runs with skipped,
 * ids read back from status files claimed (and a clash refused), freed ids
 * coming back last, exhaustion reported naming the range; and the /proc
 * scan finding this process's own ids.
 */
#include "qemu/qemu-command.h"
#include "qemu/qemu-id-pool.h"

#include <string.h>
#include <unistd.h>

static void
test_range_parse(void)
{
    guint32 first = 0, last = 0;
    const char *bad[] = { "", "65536", "65536-", "-99999", "99999-65536", "0-10", "1-2-3",
                          "a-b", "65536-4294967295", "1-2147483648", "65536 99999" };

    g_assert_true(vnic_qemu_id_range_parse("65536-99999", &first, &last, NULL));
    g_assert_cmpuint(first, ==, 65536);
    g_assert_cmpuint(last, ==, 99999);
    g_assert_true(vnic_qemu_id_range_parse(" 7 - 7 ", &first, &last, NULL));
    g_assert_cmpuint(first, ==, 7);
    g_assert_cmpuint(last, ==, 7);
    g_assert_true(vnic_qemu_id_range_parse("1-2147483647", &first, &last, NULL));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        g_assert_false(vnic_qemu_id_range_parse(bad[i], &first, &last, &error));
        g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, bad[i]));
        g_assert_nonnull(strstr(error->message, "START-END"));
    }
}

static void
test_take_distinct(void)
{
    g_autoptr(VnicQemuIdPool) pool = vnic_qemu_id_pool_new(100, 104);
    guint32 a = 0, b = 0, c = 0;

    g_assert_true(vnic_qemu_id_pool_take(pool, "a", NULL, &a, NULL));
    g_assert_true(vnic_qemu_id_pool_take(pool, "b", NULL, &b, NULL));
    g_assert_true(vnic_qemu_id_pool_take(pool, "c", NULL, &c, NULL));
    g_assert_cmpuint(a, ==, 100);
    g_assert_cmpuint(b, ==, 101);
    g_assert_cmpuint(c, ==, 102);
    g_assert_cmpstr(vnic_qemu_id_pool_owner(pool, 101), ==, "b");
    g_assert_null(vnic_qemu_id_pool_owner(pool, 103));
    g_assert_cmpuint(vnic_qemu_id_pool_n_taken(pool), ==, 3);
}

/* An id some process runs with (a QEMU killed a moment ago, anything)
 * is skipped, even when the pool itself has it as free. */
static void
test_take_skips_busy(void)
{
    g_autoptr(VnicQemuIdPool) pool = vnic_qemu_id_pool_new(100, 103);
    g_autoptr(GHashTable) busy = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint32 id = 0;

    g_hash_table_add(busy, GUINT_TO_POINTER(100));
    g_hash_table_add(busy, GUINT_TO_POINTER(101));
    g_assert_true(vnic_qemu_id_pool_take(pool, "a", busy, &id, NULL));
    g_assert_cmpuint(id, ==, 102);
    g_assert_true(vnic_qemu_id_pool_take(pool, "b", busy, &id, NULL));
    g_assert_cmpuint(id, ==, 103);
}

/* Full: the error names the domain and the range; a release makes room. */
static void
test_exhausted(void)
{
    g_autoptr(VnicQemuIdPool) pool = vnic_qemu_id_pool_new(100, 101);
    g_autoptr(GHashTable) busy = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GError) error = NULL;
    guint32 id = 0;

    g_hash_table_add(busy, GUINT_TO_POINTER(101));
    g_assert_true(vnic_qemu_id_pool_take(pool, "a", busy, &id, NULL));
    g_assert_cmpuint(id, ==, 100);
    g_assert_false(vnic_qemu_id_pool_take(pool, "b", busy, &id, &error));
    g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST);
    g_assert_nonnull(strstr(error->message, "'b'"));
    g_assert_nonnull(strstr(error->message, "100-101"));
    g_clear_error(&error);
    vnic_qemu_id_pool_release(pool, 100);
    g_assert_true(vnic_qemu_id_pool_take(pool, "b", busy, &id, NULL));
    g_assert_cmpuint(id, ==, 100);
    g_assert_cmpstr(vnic_qemu_id_pool_owner(pool, 100), ==, "b");
}

/* A freed id is the last to come back (round-robin), and the search
 * wraps around the end of the range. */
static void
test_round_robin(void)
{
    g_autoptr(VnicQemuIdPool) pool = vnic_qemu_id_pool_new(100, 102);
    guint32 a = 0, b = 0, c = 0, d = 0;

    g_assert_true(vnic_qemu_id_pool_take(pool, "a", NULL, &a, NULL));
    g_assert_true(vnic_qemu_id_pool_take(pool, "b", NULL, &b, NULL));
    vnic_qemu_id_pool_release(pool, a);
    g_assert_true(vnic_qemu_id_pool_take(pool, "c", NULL, &c, NULL));
    g_assert_cmpuint(c, ==, 102);   /* not 100, freed a moment ago */
    g_assert_true(vnic_qemu_id_pool_take(pool, "d", NULL, &d, NULL));
    g_assert_cmpuint(d, ==, 100);   /* wrapped around */
    g_assert_null(vnic_qemu_id_pool_owner(pool, 99));
    vnic_qemu_id_pool_release(pool, 4242); /* never taken: nothing happens */
    g_assert_cmpuint(vnic_qemu_id_pool_n_taken(pool), ==, 3);
}

/* After a restart: the ids of re-attached guests are claimed and never
 * handed out again; a clash is refused naming both domains; an id outside
 * the (changed) range is accepted and not tracked. */
static void
test_claim(void)
{
    g_autoptr(VnicQemuIdPool) pool = vnic_qemu_id_pool_new(100, 103);
    g_autoptr(GError) error = NULL;
    guint32 id = 0;

    g_assert_true(vnic_qemu_id_pool_claim(pool, "web", 100, NULL));
    g_assert_true(vnic_qemu_id_pool_claim(pool, "db", 102, NULL));
    g_assert_true(vnic_qemu_id_pool_claim(pool, "web", 100, NULL)); /* again: fine */
    g_assert_false(vnic_qemu_id_pool_claim(pool, "mail", 102, &error));
    g_assert_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST);
    g_assert_nonnull(strstr(error->message, "'mail'"));
    g_assert_nonnull(strstr(error->message, "'db'"));
    g_assert_cmpstr(vnic_qemu_id_pool_owner(pool, 102), ==, "db");
    g_assert_true(vnic_qemu_id_pool_claim(pool, "old", 5000, NULL));
    g_assert_null(vnic_qemu_id_pool_owner(pool, 5000));
    g_assert_true(vnic_qemu_id_pool_take(pool, "new", NULL, &id, NULL));
    g_assert_cmpuint(id, ==, 101);
    g_assert_true(vnic_qemu_id_pool_take(pool, "new2", NULL, &id, NULL));
    g_assert_cmpuint(id, ==, 103);
    g_assert_false(vnic_qemu_id_pool_take(pool, "new3", NULL, &id, NULL));
}

/* The /proc scan sees this very process's uid and gid, and only ids in
 * the range asked about. */
static void
test_in_use(void)
{
    guint32 uid = (guint32) getuid(), gid = (guint32) getgid();
    g_autoptr(GHashTable) mine = vnic_qemu_ids_in_use(uid, uid);
    g_autoptr(GHashTable) group = vnic_qemu_ids_in_use(gid, gid);
    g_autoptr(GHashTable) none = vnic_qemu_ids_in_use(2147483000u, 2147483647u);

    g_assert_true(g_hash_table_contains(mine, GUINT_TO_POINTER(uid)));
    g_assert_cmpuint(g_hash_table_size(mine), ==, 1);
    g_assert_true(g_hash_table_contains(group, GUINT_TO_POINTER(gid)));
    g_assert_cmpuint(g_hash_table_size(none), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/id-pool/range-parse", test_range_parse);
    g_test_add_func("/qemu/id-pool/take-distinct", test_take_distinct);
    g_test_add_func("/qemu/id-pool/take-skips-busy", test_take_skips_busy);
    g_test_add_func("/qemu/id-pool/exhausted", test_exhausted);
    g_test_add_func("/qemu/id-pool/round-robin", test_round_robin);
    g_test_add_func("/qemu/id-pool/claim", test_claim);
    g_test_add_func("/qemu/id-pool/in-use", test_in_use);
    return g_test_run();
}
