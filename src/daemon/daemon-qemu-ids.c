/* daemon-qemu-ids.c: the uid and gid each domain's QEMU runs under.
 *
 * Two modes (vnicd.conf, vnicd(8), docs/security.md):
 *   - per-domain ids (the default): each QEMU gets its own id, used as uid
 *     and gid, from qemu-uid-range; no /etc/passwd entry is needed (like
 *     systemd's DynamicUser).  The daemon's VnicQemuIdPool owns which
 *     domain has which id; the id is in the status file before QEMU starts
 *     and claimed again when a restarted vnicd reads it back; it is freed
 *     when the domain is cleaned up.  An id some process still runs with
 *     (a QEMU killed a moment ago, anything else) is never handed out.
 *   - qemu-user=NAME: every QEMU runs as that user (the compatibility
 *     mode; "root" runs QEMU unconfined).
 */
#include "daemon/daemon-lifecycle.h"

#include "qemu/qemu-id-pool.h"

#include <grp.h>
#include <pwd.h>

static gboolean
resolve_user(VnicDaemon *daemon, GError **error)
{
    struct passwd *pw = getpwnam(daemon->opts.qemu_user);

    if (!pw) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "qemu-user '%s' does not exist: create it, or leave qemu-user unset so "
                    "each QEMU gets its own uid from qemu-uid-range", daemon->opts.qemu_user);
        return FALSE;
    }
    daemon->qemu_uid = pw->pw_uid;
    daemon->qemu_gid = pw->pw_gid;
    return TRUE;
}

/* No user or group may own an id of the range: its files and processes
 * would be a guest's.  Reads the whole user and group databases once. */
static gboolean
check_range_unused(guint32 first, guint32 last, const char *range, GError **error)
{
    struct passwd *pw;
    struct group *gr;
    g_autofree char *clash = NULL;

    setpwent();
    while (clash == NULL && (pw = getpwent()) != NULL) {
        if (pw->pw_uid >= first && pw->pw_uid <= last)
            clash = g_strdup_printf("user '%s' has uid %u", pw->pw_name, (guint) pw->pw_uid);
    }
    endpwent();
    setgrent();
    while (clash == NULL && (gr = getgrent()) != NULL) {
        if (gr->gr_gid >= first && gr->gr_gid <= last)
            clash = g_strdup_printf("group '%s' has gid %u", gr->gr_name, (guint) gr->gr_gid);
    }
    endgrent();
    if (clash == NULL)
        return TRUE;
    g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                "qemu-uid-range %s: %s; choose a range no user or group uses", range, clash);
    return FALSE;
}

gboolean
vnic_daemon_qemu_ids_setup(VnicDaemon *daemon, GError **error)
{
    const char *range = daemon->opts.qemu_uid_range;
    guint32 first, last;
    g_autoptr(GError) local = NULL;

    if (daemon->opts.qemu_user != NULL && range != NULL) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "qemu-user '%s' and qemu-uid-range '%s' exclude each other: every QEMU "
                    "runs as one user, or each under its own uid", daemon->opts.qemu_user, range);
        return FALSE;
    }
    if (daemon->opts.qemu_user != NULL)
        return resolve_user(daemon, error);
    if (!vnic_qemu_id_range_parse(range, &first, &last, &local)) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC, "qemu-uid-range: %s",
                    local->message);
        return FALSE;
    }
    if (!check_range_unused(first, last, range, error))
        return FALSE;
    daemon->id_pool = vnic_qemu_id_pool_new(first, last);
    g_debug("QEMU processes run under their own uid and gid from %u-%u", first, last);
    return TRUE;
}

void
vnic_daemon_qemu_ids_free(VnicDaemon *daemon)
{
    g_clear_pointer(&daemon->id_pool, vnic_qemu_id_pool_free);
}

gboolean
vnic_domain_qemu_ids_take(VnicDomain *dom, VnicQemuLaunchOptions *opts, GError **error)
{
    VnicDaemon *daemon = dom->daemon;

    if (dom->has_qemu_ids) /* still held (a restart that cleaned up failed?) */
        vnic_domain_qemu_ids_release(dom);
    if (daemon->id_pool != NULL) {
        guint32 first = 0, last = 0, id = 0;
        g_autoptr(GHashTable) busy = NULL;

        /* the pool knows its range; ask /proc only about that */
        vnic_qemu_id_pool_get_range(daemon->id_pool, &first, &last);
        busy = vnic_qemu_ids_in_use(first, last);
        if (!vnic_qemu_id_pool_take(daemon->id_pool, dom->name, busy, &id, error))
            return FALSE;
        dom->qemu_uid = (uid_t) id;
        dom->qemu_gid = (gid_t) id;
        dom->has_qemu_ids = TRUE;
        opts->own_ids = TRUE;
    } else if (daemon->qemu_uid != 0 || daemon->qemu_gid != 0) {
        dom->qemu_uid = daemon->qemu_uid;
        dom->qemu_gid = daemon->qemu_gid;
        dom->has_qemu_ids = TRUE;
    }
    opts->uid = dom->has_qemu_ids ? dom->qemu_uid : 0;
    opts->gid = dom->has_qemu_ids ? dom->qemu_gid : 0;
    return TRUE;
}

void
vnic_domain_qemu_ids_claim(VnicDomain *dom, uid_t uid, gid_t gid)
{
    g_autoptr(GError) error = NULL;

    dom->qemu_uid = uid;
    dom->qemu_gid = gid;
    dom->has_qemu_ids = TRUE;
    if (dom->daemon->id_pool == NULL)
        return;
    if (!vnic_qemu_id_pool_claim(dom->daemon->id_pool, dom->name, (guint32) uid, &error))
        g_warning("domain '%s': %s", dom->name, error->message);
    if (gid != uid && !vnic_qemu_id_pool_claim(dom->daemon->id_pool, dom->name, (guint32) gid,
                                               &error))
        g_warning("domain '%s': %s", dom->name, error->message);
}

void
vnic_domain_qemu_ids_release(VnicDomain *dom)
{
    VnicQemuIdPool *pool = dom->daemon->id_pool;

    if (!dom->has_qemu_ids)
        return;
    if (pool != NULL) {
        /* only what is this domain's: a claim that clashed is not */
        if (g_strcmp0(vnic_qemu_id_pool_owner(pool, (guint32) dom->qemu_uid), dom->name) == 0)
            vnic_qemu_id_pool_release(pool, (guint32) dom->qemu_uid);
        if (g_strcmp0(vnic_qemu_id_pool_owner(pool, (guint32) dom->qemu_gid), dom->name) == 0)
            vnic_qemu_id_pool_release(pool, (guint32) dom->qemu_gid);
    }
    dom->has_qemu_ids = FALSE;
    dom->qemu_uid = 0;
    dom->qemu_gid = 0;
}
