/* test-host-linkwatch.c: the link watch against the real kernel, each test
 * in a network namespace of its own: veth pairs appear, change state and
 * master, get renamed, deleted and moved to another namespace, a macvtap
 * goes with its lower device, and a
 * burst that overruns a tiny socket buffer still ends with the consumer's
 * view equal to the kernel's.  Latencies are printed, not asserted.
 */
#include "test-host-util.h"

#include "host/host-linkwatch.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/cache.h>

typedef struct nl_cache nl_cache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_cache, nl_cache_free)

/* What a consumer would keep: every event, and ifindex → name as the
 * events say. */
typedef struct {
    GArray *events;        /* Seen */
    GHashTable *model;     /* GUINT_TO_POINTER(ifindex) → char *name */
    GHashTable *removed;   /* ifindexes reported REMOVED */
} Recorder;

typedef struct {
    VnicHostLinkEventType type;
    guint ifindex, master;
    gboolean oper_up, resync;
    char *name, *old_name;
    gint64 callback_us;
} Seen;

static void
seen_clear(gpointer p)
{
    Seen *s = p;

    g_free(s->name);
    g_free(s->old_name);
}

static void
on_event(VnicHostLinkWatch *watch, const VnicHostLinkEvent *e, gpointer data)
{
    Recorder *r = data;
    gpointer key = GUINT_TO_POINTER(e->link.ifindex);
    Seen s = {
        .type = e->type, .ifindex = e->link.ifindex, .master = e->link.master,
        .oper_up = e->link.oper_up, .resync = e->resync, .name = g_strdup(e->link.name),
        .old_name = g_strdup(e->old_name), .callback_us = g_get_monotonic_time(),
    };

    g_array_append_val(r->events, s);
    if (e->type == VNIC_HOST_LINK_REMOVED) {
        g_assert_true(g_hash_table_remove(r->model, key));
        g_hash_table_add(r->removed, key);
        g_assert_false(vnic_host_link_watch_lookup_index(watch, e->link.ifindex, NULL));
    } else {
        g_assert_true(e->type == VNIC_HOST_LINK_ADDED ||
                      g_hash_table_contains(r->model, key));
        g_hash_table_insert(r->model, key, g_strdup(e->link.name));
        g_assert_true(vnic_host_link_watch_lookup_index(watch, e->link.ifindex, NULL));
    }
}

static VnicHostLinkWatch *
recorder_start(Recorder *r)
{
    g_autoptr(GError) error = NULL;
    VnicHostLinkWatch *w;

    r->events = g_array_new(FALSE, TRUE, sizeof(Seen));
    g_array_set_clear_func(r->events, seen_clear);
    r->model = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    r->removed = g_hash_table_new(NULL, NULL);
    w = vnic_host_link_watch_new(on_event, r, NULL, &error);
    g_assert_no_error(error);
    /* The links that were there already: known, not reported. */
    for (guint i = 1; i < 64; i++) {
        VnicHostLinkInfo info;
        if (vnic_host_link_watch_lookup_index(w, i, &info))
            g_hash_table_insert(r->model, GUINT_TO_POINTER(i), g_strdup(info.name));
    }
    g_assert_cmpuint(g_hash_table_size(r->model), ==, vnic_host_link_watch_count(w));
    return w;
}

static void
recorder_clear(Recorder *r)
{
    g_array_unref(r->events);
    g_hash_table_unref(r->model);
    g_hash_table_unref(r->removed);
}

static gboolean
on_timeout(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

static void
run_for(guint ms)
{
    gboolean done = FALSE;

    g_timeout_add(ms, on_timeout, &done);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
}

/* Runs the loop until an event @type for @name arrives after index
 * *@from; returns it and moves *@from past it.  Fails after 5 s. */
static const Seen *
wait_event(Recorder *r, guint *from, VnicHostLinkEventType type, const char *name)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    for (;;) {
        for (; *from < r->events->len; (*from)++) {
            const Seen *s = &g_array_index(r->events, Seen, *from);
            if (s->type == type && g_strcmp0(s->name, name) == 0) {
                (*from)++;
                return s;
            }
        }
        if (g_get_monotonic_time() > deadline)
            g_error("no '%s' event for '%s'", vnic_host_link_event_type_to_string(type), name);
        run_for(10);
    }
}

/* Runs the loop until 300 ms pass without an event. */
static void
run_until_quiet(Recorder *r)
{
    guint n;

    do {
        n = r->events->len;
        run_for(300);
    } while (r->events->len != n);
}

static void
test_veth_lifecycle(void)
{
    Recorder r = { 0 };
    g_autoptr(VnicHostLinkWatch) w = NULL;
    VnicHostLinkInfo info;
    const Seen *s;
    guint at = 0, va, vb, br;

    if (!test_host_enter_netns())
        return;
    w = recorder_start(&r);
    test_host_ip("link add va type veth peer name vb");
    s = wait_event(&r, &at, VNIC_HOST_LINK_ADDED, "va");
    va = s->ifindex;
    g_assert_false(s->oper_up);
    vb = test_host_ifindex("vb");
    g_assert_true(vnic_host_link_watch_lookup(w, "vb", &info));
    g_assert_cmpuint(info.ifindex, ==, vb);
    g_assert_cmpstr(info.kind, ==, "veth");

    /* oper state follows the peer: va is up only once vb is. */
    test_host_ip("link set va up");
    test_host_ip("link set vb up");
    do
        s = wait_event(&r, &at, VNIC_HOST_LINK_CHANGED, "va");
    while (!s->oper_up);
    test_host_ip("link set vb down");
    do
        s = wait_event(&r, &at, VNIC_HOST_LINK_CHANGED, "va");
    while (s->oper_up);

    /* Enslaved and freed: a master change, never a removal (the bridge's
     * own AF_BRIDGE port messages are not links). */
    test_host_ip("link add br0 type bridge");
    br = test_host_ifindex("br0");
    test_host_ip("link set va master br0");
    do
        s = wait_event(&r, &at, VNIC_HOST_LINK_CHANGED, "va");
    while (s->master != br);
    test_host_ip("link set va nomaster");
    do
        s = wait_event(&r, &at, VNIC_HOST_LINK_CHANGED, "va");
    while (s->master != 0);
    g_assert_false(g_hash_table_contains(r.removed, GUINT_TO_POINTER(va)));

    test_host_ip("link set vb name vc");
    s = wait_event(&r, &at, VNIC_HOST_LINK_RENAMED, "vc");
    g_assert_cmpuint(s->ifindex, ==, vb);
    g_assert_cmpstr(s->old_name, ==, "vb");
    g_assert_false(vnic_host_link_watch_lookup(w, "vb", NULL));

    /* Deleting one end takes the peer along: both are reported. */
    test_host_ip("link del va");
    wait_event(&r, &at, VNIC_HOST_LINK_REMOVED, "va");
    wait_event(&r, &at, VNIC_HOST_LINK_REMOVED, "vc");
    g_assert_false(vnic_host_link_watch_lookup(w, "va", NULL));
    g_assert_cmpuint(vnic_host_link_watch_get_resyncs(w), ==, 0);
    recorder_clear(&r);
}

/* The kernel deletes a macvtap with its lower device, silently for QEMU:
 * the watch reports both, the lower device first or not, and a device of
 * that name coming back is a new link. */
static void
test_macvtap_lower(void)
{
    Recorder r = { 0 };
    g_autoptr(VnicHostLinkWatch) w = NULL;
    VnicHostLinkInfo info;
    guint at = 0, va;

    if (!test_host_enter_netns())
        return;
    w = recorder_start(&r);
    test_host_ip("link add va type veth peer name vb");
    test_host_ip("link add link va name mvt0 type macvtap mode bridge");
    wait_event(&r, &at, VNIC_HOST_LINK_ADDED, "mvt0");
    g_assert_true(vnic_host_link_watch_lookup(w, "mvt0", &info));
    g_assert_cmpstr(info.kind, ==, "macvtap");
    va = test_host_ifindex("va");
    test_host_ip("link del va");
    at = 0;
    wait_event(&r, &at, VNIC_HOST_LINK_REMOVED, "mvt0");
    at = 0;
    wait_event(&r, &at, VNIC_HOST_LINK_REMOVED, "va");
    test_host_ip("link add va type veth peer name vb");
    wait_event(&r, &at, VNIC_HOST_LINK_ADDED, "va");
    g_assert_true(vnic_host_link_watch_lookup(w, "va", &info));
    g_assert_cmpuint(info.ifindex, !=, va);
    recorder_clear(&r);
}

/* A child in a network namespace of its own, to move links into. */
static GPid
spawn_netns_holder(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *mine = g_file_read_link("/proc/self/ns/net", NULL);
    const char *argv[] = { "/usr/bin/unshare", "-n", "/bin/sleep", "60", NULL };
    GPid pid;

    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &pid, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < 500; i++) {
        g_autofree char *path = g_strdup_printf("/proc/%d/ns/net", pid);
        g_autofree char *theirs = g_file_read_link(path, NULL);
        if (theirs && g_strcmp0(theirs, mine) != 0)
            return pid;
        g_usleep(10000);
    }
    g_error("unshare -n did not make a network namespace");
}

static void
test_netns_move(void)
{
    Recorder r = { 0 };
    g_autoptr(VnicHostLinkWatch) w = NULL;
    const Seen *s;
    guint at = 0, mb;
    GPid pid;

    if (!test_host_enter_netns())
        return;
    w = recorder_start(&r);
    test_host_ip("link add mva type veth peer name mvb");
    wait_event(&r, &at, VNIC_HOST_LINK_ADDED, "mvb");
    mb = test_host_ifindex("mvb");
    pid = spawn_netns_holder();
    test_host_ip("link set mvb netns %d", pid);
    s = wait_event(&r, &at, VNIC_HOST_LINK_REMOVED, "mvb");
    g_assert_cmpuint(s->ifindex, ==, mb);
    g_assert_true(vnic_host_link_watch_lookup(w, "mva", NULL));
    g_assert_false(vnic_host_link_watch_lookup(w, "mvb", NULL));
    /* The peer in the other namespace going away takes mva along. */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    g_spawn_close_pid(pid);
    wait_event(&r, &at, VNIC_HOST_LINK_REMOVED, "mva");
    recorder_clear(&r);
}

static int
cmp_int64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

/* Deleted (by netlink, from this process) → callback, 20 times. */
static void
test_latency(void)
{
    Recorder r = { 0 };
    g_autoptr(VnicHostLinkWatch) w = NULL;
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(GArray) us = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GArray) after = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GError) error = NULL;
    guint at = 0;

    if (!test_host_enter_netns())
        return;
    w = recorder_start(&r);
    nl = vnic_host_nl_open(&error);
    g_assert_no_error(error);
    for (guint i = 0; i < 20; i++) {
        g_autoptr(rtnl_link) victim = vnic_host_rtnl_link_new();
        gint64 t0, t1, cb;

        test_host_ip("link add la type veth peer name lb");
        wait_event(&r, &at, VNIC_HOST_LINK_ADDED, "lb");
        rtnl_link_set_name(victim, "la");
        t0 = g_get_monotonic_time();
        g_assert_cmpint(rtnl_link_delete(nl->sock, victim), >=, 0);
        t1 = g_get_monotonic_time();
        cb = wait_event(&r, &at, VNIC_HOST_LINK_REMOVED, "la")->callback_us;
        g_array_append_vals(us, &(gint64){ cb - t0 }, 1);
        g_array_append_vals(after, &(gint64){ MAX(cb - t1, 0) }, 1);
    }
    g_array_sort(us, cmp_int64);
    g_array_sort(after, cmp_int64);
    /* The kernel's veth deletion (RCU grace periods) is most of it. */
    g_test_message("link delete requested -> REMOVED callback: median %" G_GINT64_FORMAT
                   " us, max %" G_GINT64_FORMAT " us; delete acked -> callback: median %"
                   G_GINT64_FORMAT " us, max %" G_GINT64_FORMAT " us (20 runs)",
                   g_array_index(us, gint64, 10), g_array_index(us, gint64, 19),
                   g_array_index(after, gint64, 10), g_array_index(after, gint64, 19));
    recorder_clear(&r);
}

/* Writes @text to a file and runs `ip -batch` on it. */
static void
ip_batch(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("vnic-linkwatch-XXXXXX", &path, &error);

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, &error));
    test_host_ip("-force -batch %s", path);
    g_unlink(path);
}

/* The kernel's links now, ifindex → name. */
static GHashTable *
kernel_links(void)
{
    g_autoptr(VnicHostNl) nl = NULL;
    g_autoptr(nl_cache) cache = NULL;
    g_autoptr(GError) error = NULL;
    GHashTable *links = g_hash_table_new_full(NULL, NULL, NULL, g_free);

    nl = vnic_host_nl_open(&error);
    g_assert_no_error(error);
    g_assert_cmpint(rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &cache), >=, 0);
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
        g_hash_table_insert(links, GINT_TO_POINTER(rtnl_link_get_ifindex((rtnl_link *)o)),
                            g_strdup(rtnl_link_get_name((rtnl_link *)o)));
    return links;
}

static void
assert_model_is(GHashTable *model, GHashTable *kernel)
{
    GHashTableIter iter;
    gpointer key, name;

    g_assert_cmpuint(g_hash_table_size(model), ==, g_hash_table_size(kernel));
    g_hash_table_iter_init(&iter, kernel);
    while (g_hash_table_iter_next(&iter, &key, &name))
        g_assert_cmpstr(g_hash_table_lookup(model, key), ==, name);
}

/* 200 veth pairs created, half deleted, a known link deleted and its
 * name re-created, a known link renamed, all while the loop sleeps on a
 * minimal buffer: the events overflow, the watch resyncs, and the
 * consumer ends with the kernel's view. */
static void
test_overrun(void)
{
    Recorder r = { 0 };
    g_autoptr(VnicHostLinkWatch) w = NULL;
    g_autoptr(GString) batch = g_string_new(NULL);
    g_autoptr(GHashTable) kernel = NULL;
    guint at = 0, old0, keep0;
    gint64 t0;

    if (!test_host_enter_netns())
        return;
    w = recorder_start(&r);
    vnic_host_link_watch_set_rcvbuf(w, 1);
    test_host_ip("link add old0 type veth peer name old0p");
    test_host_ip("link add keep0 type veth peer name keep0p");
    wait_event(&r, &at, VNIC_HOST_LINK_ADDED, "keep0p");
    old0 = test_host_ifindex("old0");
    keep0 = test_host_ifindex("keep0");

    for (guint i = 0; i < 200; i++)
        g_string_append_printf(batch, "link add p%ua type veth peer name p%ub\n", i, i);
    for (guint i = 0; i < 200; i += 2)
        g_string_append_printf(batch, "link del p%ua\n", i);
    g_string_append(batch, "link del old0\nlink add old0 type veth peer name old0p\n"
                           "link set keep0 name kept0\n");
    ip_batch(batch->str);
    t0 = g_get_monotonic_time();
    run_until_quiet(&r);
    g_test_message("overrun: %u resync(s), %u events, settled %" G_GINT64_FORMAT " ms after "
                   "the loop ran (300 ms of quiet included)",
                   vnic_host_link_watch_get_resyncs(w), r.events->len,
                   (g_get_monotonic_time() - t0) / 1000);
    g_assert_cmpuint(vnic_host_link_watch_get_resyncs(w), >, 0);
    kernel = kernel_links();
    assert_model_is(r.model, kernel);
    g_assert_cmpuint(vnic_host_link_watch_count(w), ==, g_hash_table_size(kernel));
    /* The old old0 is gone even though its name is back. */
    g_assert_true(g_hash_table_contains(r.removed, GUINT_TO_POINTER(old0)));
    g_assert_cmpuint(test_host_ifindex("old0"), !=, old0);
    g_assert_cmpstr(g_hash_table_lookup(r.model, GUINT_TO_POINTER(keep0)), ==, "kept0");
    recorder_clear(&r);
}

/* 50 delete/create cycles of a lower device in one burst, on the normal
 * buffer: no overrun, every vanish and return reported in order, and the
 * watch ends on the kernel's last va. */
static void
test_flapping(void)
{
    Recorder r = { 0 };
    g_autoptr(VnicHostLinkWatch) w = NULL;
    g_autoptr(GString) batch = g_string_new(NULL);
    VnicHostLinkInfo info;
    guint added = 0, removed = 0;
    gboolean present = FALSE;

    if (!test_host_enter_netns())
        return;
    w = recorder_start(&r);
    for (guint i = 0; i < 50; i++)
        g_string_append(batch, "link add va type veth peer name vb\nlink del va\n");
    g_string_append(batch, "link add va type veth peer name vb\n");
    ip_batch(batch->str);
    run_until_quiet(&r);
    g_assert_cmpuint(vnic_host_link_watch_get_resyncs(w), ==, 0);
    for (guint i = 0; i < r.events->len; i++) {
        const Seen *e = &g_array_index(r.events, Seen, i);
        if (g_strcmp0(e->name, "va") != 0)
            continue;
        if (e->type == VNIC_HOST_LINK_ADDED) {
            g_assert_false(present);
            present = TRUE;
            added++;
        } else if (e->type == VNIC_HOST_LINK_REMOVED) {
            g_assert_true(present);
            present = FALSE;
            removed++;
        }
    }
    g_assert_cmpuint(added, ==, 51);
    g_assert_cmpuint(removed, ==, 50);
    g_assert_true(vnic_host_link_watch_lookup(w, "va", &info));
    g_assert_cmpuint(info.ifindex, ==, test_host_ifindex("va"));
    recorder_clear(&r);
}

static void
test_names(void)
{
    g_assert_cmpstr(vnic_host_link_event_type_to_string(VNIC_HOST_LINK_RENAMED), ==, "renamed");
    g_assert_null(vnic_host_link_event_type_to_string((VnicHostLinkEventType)42));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_host_init_namespaces();

    g_test_add_func("/host/linkwatch/names", test_names);
    g_test_add_func("/host/linkwatch/veth", test_veth_lifecycle);
    g_test_add_func("/host/linkwatch/macvtap-lower", test_macvtap_lower);
    g_test_add_func("/host/linkwatch/netns-move", test_netns_move);
    g_test_add_func("/host/linkwatch/latency", test_latency);
    g_test_add_func("/host/linkwatch/flapping", test_flapping);
    g_test_add_func("/host/linkwatch/overrun", test_overrun);
    return g_test_run();
}
