/* daemon-migrate.c: the source's half of a migration, and what both share.
 *
 * The migrate job holds the domain's job slot from the first step to the
 * last, so nothing else changes the domain meanwhile; hot-plug and detach
 * are refused outright (daemon-commands.c asks vnic_domain_migrating()),
 * domjobinfo and domjobabort answer at once.
 *
 *   connect (twice: the job's connection, and one for keepalives) →
 *   migrate-prepare → migrate (QEMU) → poll query-migrate (and the
 *   MIGRATION event) → completed →
 *   migrate-finish → NICs unplugging, QEMU stopped, NICs gone as their
 *   ledger links are deleted → [--undefine-source] → reply.
 *
 * Keepalives start with migrate-prepare and go every second on a
 * connection of their own until migrate-finish is answered, so that the
 * destination's lease (daemon-migrate-dest.c), which starts when it
 * answers prepare, never waits on the source's own steps (the prepare
 * answer's way back, its status write, QEMU's `migrate`) and a keepalive's
 * answer never queues behind a slow prepare or finish (the API answers a
 * connection's requests in order).
 *
 * Any failure before migrate-finish succeeded rolls back: the stream is
 * cancelled, the guest resumed if it is paused (switch-over, --timeout),
 * the destination told to drop its half (it also does so by itself when
 * the source goes quiet), and the job fails with the first error.  The
 * source's backends are never touched by a rollback.
 */
#include "daemon/daemon-migrate.h"
#include "daemon/daemon-lifecycle.h"
#include "daemon/daemon-nic.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#define POLL_MS 50
#define KEEPALIVE_MS 1000
#define PROGRESS_EVENT_MS 500
#define STALL_S 15
#define PREPARE_TIMEOUT_MS 120000
#define FINISH_TIMEOUT_MS 90000
#define PEER_TIMEOUT_MS 10000   /* a keepalive's answer; the destination's lease is longer */
#define CANCEL_WAIT_MS 15000
#define DEFAULT_BANDWIDTH_MIB 1024

static const char *const phase_names[] = {
    [VNIC_MIGRATION_PHASE_PREPARE] = "prepare",
    [VNIC_MIGRATION_PHASE_STREAM] = "stream",
    [VNIC_MIGRATION_PHASE_FINISH] = "finish",
    [VNIC_MIGRATION_PHASE_CONFIRM] = "confirm",
};

const char *
vnic_migration_phase_to_string(VnicMigrationPhase phase)
{
    return phase < G_N_ELEMENTS(phase_names) ? phase_names[phase] : "unknown";
}

static gboolean
phase_from_string(const char *text, VnicMigrationPhase *phase)
{
    for (guint i = 0; i < G_N_ELEMENTS(phase_names); i++) {
        if (g_strcmp0(text, phase_names[i]) == 0) {
            *phase = (VnicMigrationPhase)i;
            return TRUE;
        }
    }
    return FALSE;
}

static GError *
mig_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static GError *
mig_error(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return g_error_new_literal(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_MIGRATION, msg);
}

/* ---- the record ------------------------------------------------------------------ */

VnicMigration *
vnic_migration_new(VnicDomain *dom, VnicMigrationRole role)
{
    VnicMigration *mig = g_new0(VnicMigration, 1);

    mig->dom = dom;
    mig->role = role;
    mig->started_us = g_get_monotonic_time();
    mig->last_progress_us = mig->started_us;
    dom->migration = mig;
    return mig;
}

void
vnic_migration_free(VnicMigration *mig)
{
    if (!mig)
        return;
    g_clear_handle_id(&mig->poll_id, g_source_remove);
    g_clear_handle_id(&mig->keepalive_id, g_source_remove);
    g_clear_handle_id(&mig->lease_id, g_source_remove);
    vnic_migrate_peer_free(mig->peer);
    vnic_migrate_peer_free(mig->keepalive_peer);
    vnic_conf_domain_free(mig->pending_live);
    vnic_conf_domain_free(mig->incoming_config);
    g_free(mig->peer_uri);
    g_free(mig->stream_uri);
    g_free(mig->migrate_uri_arg);
    g_free(mig->status);
    g_clear_error(&mig->error);
    g_free(mig);
}

gboolean
vnic_domain_migrating(const VnicDomain *dom)
{
    return dom->migration != NULL;
}

gboolean
vnic_migrate_check_not_incoming(const VnicDomain *dom, const char *command, GError **error)
{
    const VnicMigration *mig = dom ? dom->migration : NULL;

    if (mig == NULL || mig->role != VNIC_MIGRATION_DESTINATION)
        return TRUE;
    g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                "domain '%s' is migrating in (incoming migration, phase '%s'): %s is refused "
                "until that migration ends (it completes, or domjobabort on the source rolls "
                "it back)", dom->name, vnic_migration_phase_to_string(mig->phase), command);
    return FALSE;
}

void
vnic_migrate_save(VnicDomain *dom)
{
    g_autoptr(GError) error = NULL;

    if (dom->live && !vnic_state_write_status(dom, &error))
        g_warning("domain '%s': writing status: %s", dom->name, error->message);
}

void
vnic_migrate_append_status(GString *s, VnicDomain *dom)
{
    const VnicMigration *mig = dom->migration;

    if (!mig)
        return;
    g_string_append_printf(s, "  <migration role='%s' phase='%s'",
                           mig->role == VNIC_MIGRATION_SOURCE ? "source" : "destination",
                           vnic_migration_phase_to_string(mig->phase));
    vnic_state_append_attr(s, "peer", mig->peer_uri);
    g_string_append_printf(s, " persistent='%s'%s/>\n", mig->persistent ? "yes" : "no",
                           mig->kept_definition ? " defined='yes'" : "");
}

/* Frees @dom once it has no job: at once from an idle when none runs,
 * else at the end of the running one (daemon-domain.c's run_next). */
static gboolean
free_unregistered(gpointer data)
{
    VnicDomain *dom = data;

    dom->job_running = TRUE;
    vnic_domain_job_done(dom); /* frees it: it is undefined */
    return G_SOURCE_REMOVE;
}

void
vnic_migrate_unregister(VnicDomain *dom)
{
    VnicDaemon *daemon = dom->daemon;
    gpointer key = NULL;

    if (dom->undefined)
        return;
    vnic_state_remove_config(daemon, dom->name);
    vnic_domain_forget_markers(daemon, dom->name);
    if (g_hash_table_lookup(daemon->domains, dom->name) == dom &&
        g_hash_table_steal_extended(daemon->domains, dom->name, &key, NULL))
        g_free(key);
    dom->undefined = TRUE;
    vnic_daemon_emit(daemon, "DOMAIN_UNDEFINED", dom->name, NULL);
    if (!dom->job_running && !dom->dispatching)
        g_idle_add(free_unregistered, dom);
}

void
vnic_migrate_nics_gone(VnicDomain *dom, const char *reason)
{
    g_autoptr(GPtrArray) aliases = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter iter;
    gpointer key;

    if (!dom->nics)
        return;
    g_hash_table_iter_init(&iter, dom->nics);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(aliases, g_strdup(key));
    for (guint i = 0; i < aliases->len; i++) {
        const char *alias = g_ptr_array_index(aliases, i);
        VnicNic *nic = vnic_domain_get_nic(dom, alias);

        vnic_domain_delete_nic_links(dom, alias);
        if (nic)
            vnic_nic_set_state(nic, VNIC_NIC_GONE, NULL, reason);
    }
    vnic_migrate_save(dom);
}

/* ---- the source: ending -------------------------------------------------------------- */

static void source_rollback(VnicMigration *mig, GError *error);

/* The job's end: replies, drops the record, frees the slot (which may free
 * an unregistered domain). */
static void
source_end(VnicMigration *mig, JsonObject *ret)
{
    VnicDomain *dom = mig->dom;
    VnicApiRequest *request = g_steal_pointer(&mig->request);
    GError *error = g_steal_pointer(&mig->error);

    if (mig->event_id && dom->process)
        vnic_qmp_client_remove_event_handler(vnic_qemu_process_get_qmp(dom->process),
                                             mig->event_id);
    dom->migration = NULL;
    vnic_migration_free(mig);
    vnic_migrate_save(dom);
    if (request && error)
        vnic_api_request_fail(request, error);
    else if (request)
        vnic_api_request_return_object(request, ret ? ret : json_object_new());
    else {
        if (error)
            g_error_free(error);
        if (ret)
            json_object_unref(ret);
    }
    vnic_domain_job_done(dom);
}

static void
emit_job_event(VnicMigration *mig, const char *event)
{
    JsonObject *ev = json_object_new();

    json_object_set_string_member(ev, "status", mig->status ? mig->status : "setup");
    json_object_set_string_member(ev, "phase", vnic_migration_phase_to_string(mig->phase));
    json_object_set_int_member(ev, "transferred", mig->transferred);
    json_object_set_int_member(ev, "remaining", mig->remaining);
    json_object_set_int_member(ev, "total", mig->total);
    json_object_set_int_member(ev, "expected-downtime-ms", mig->expected_downtime_ms);
    json_object_set_int_member(ev, "elapsed-ms", (g_get_monotonic_time() - mig->started_us) / 1000);
    if (mig->error)
        json_object_set_string_member(ev, "error", mig->error->message);
    vnic_daemon_emit(mig->dom->daemon, event, mig->dom->name, ev);
}

static VnicQmpClient *
qmp_of(VnicMigration *mig)
{
    return mig->dom->process ? vnic_qemu_process_get_qmp(mig->dom->process) : NULL;
}

/* ---- the source: rollback --------------------------------------------------------------- */

typedef struct {
    VnicMigration *mig;
    gint64 deadline_us;
} Rollback;

static void rollback_wait_cancelled(Rollback *r);

static void
peer_aborted(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_migrate_peer_call_finish(res, &error);
    g_autofree char *name = data;

    if (!ret)
        g_message("domain '%s': migrate-abort on the destination: %s", name, error->message);
}

static void
rollback_done(Rollback *r)
{
    VnicMigration *mig = r->mig;
    VnicDomain *dom = mig->dom;

    g_free(r);
    /* the destination drops its half: asked, or by itself once we are quiet */
    if (mig->peer && !vnic_migrate_peer_broken(mig->peer)) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "name", dom->name);
        vnic_migrate_peer_call(mig->peer, "migrate-abort", args, PEER_TIMEOUT_MS, peer_aborted,
                               g_strdup(dom->name));
        /* the call keeps its reply slot; the connection closes with the record */
    }
    g_warning("domain '%s': migration failed, the guest stays here: %s", dom->name,
              mig->error->message);
    emit_job_event(mig, "MIGRATION_FAILED");
    source_end(mig, NULL);
}

static void
resumed(GObject *source, GAsyncResult *res, gpointer data)
{
    Rollback *r = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret)
        g_warning("domain '%s': cannot resume the guest after the failed migration: %s",
                  r->mig->dom->name, error->message);
    else
        g_message("domain '%s': guest resumed here", r->mig->dom->name);
    r->mig->dom->state = VNIC_DOMAIN_RUNNING;
    rollback_done(r);
}

static void
on_run_status(GObject *source, GAsyncResult *res, gpointer data)
{
    Rollback *r = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    gboolean running = o && json_object_get_boolean_member_with_default(o, "running", FALSE);

    if (!o || running || !qmp_of(r->mig)) {
        rollback_done(r);
        return;
    }
    /* paused for the switch-over, by --timeout, or after completion */
    vnic_qmp_client_execute_async(qmp_of(r->mig), "cont", NULL, NULL, 0, 10000, NULL, resumed, r);
}

static void
rollback_resume(Rollback *r)
{
    if (!qmp_of(r->mig)) {
        rollback_done(r);
        return;
    }
    vnic_qmp_client_execute_async(qmp_of(r->mig), "query-status", NULL, NULL, 0, 5000, NULL,
                                  on_run_status, r);
}

static gboolean
rollback_poll_again(gpointer data)
{
    rollback_wait_cancelled(data);
    return G_SOURCE_REMOVE;
}

static void
on_cancel_status(GObject *source, GAsyncResult *res, gpointer data)
{
    Rollback *r = data;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, NULL);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    const char *status = o ? json_object_get_string_member_with_default(o, "status", "none")
                           : "none";

    if (strcmp(status, "active") != 0 && strcmp(status, "setup") != 0 &&
        strcmp(status, "cancelling") != 0 && strcmp(status, "pre-switchover") != 0 &&
        strcmp(status, "device") != 0) {
        rollback_resume(r);
        return;
    }
    if (g_get_monotonic_time() > r->deadline_us) {
        g_warning("domain '%s': the stream is still '%s' after migrate_cancel", r->mig->dom->name,
                  status);
        rollback_resume(r);
        return;
    }
    g_timeout_add(POLL_MS, rollback_poll_again, r);
}

static void
cancel_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, NULL);

    rollback_wait_cancelled(data);
}

static void
rollback_wait_cancelled(Rollback *r)
{
    if (!qmp_of(r->mig)) {
        rollback_done(r);
        return;
    }
    vnic_qmp_client_execute_async(qmp_of(r->mig), "query-migrate", NULL, NULL, 0, 5000, NULL,
                                  on_cancel_status, r);
}

/* Takes @error.  The source keeps (or gets back) the running guest. */
static void
source_rollback(VnicMigration *mig, GError *error)
{
    Rollback *r;

    if (mig->failing) {
        g_error_free(error);
        return;
    }
    mig->failing = TRUE;
    mig->error = error;
    g_clear_handle_id(&mig->poll_id, g_source_remove);
    g_clear_handle_id(&mig->keepalive_id, g_source_remove);
    r = g_new0(Rollback, 1);
    r->mig = mig;
    r->deadline_us = g_get_monotonic_time() + CANCEL_WAIT_MS * 1000;
    if (mig->phase >= VNIC_MIGRATION_PHASE_STREAM && qmp_of(mig))
        vnic_qmp_client_execute_async(qmp_of(mig), "migrate_cancel", NULL, NULL, 0, 5000, NULL,
                                      cancel_sent, r);
    else
        rollback_wait_cancelled(r);
}

/* ---- the source: confirm ----------------------------------------------------------- */

/* QEMU of a guest that now runs on the destination is gone: its NICs go
 * as their backends are deleted, then the usual cleanup. */
static void
source_qemu_exit(VnicQemuProcess *proc, const VnicQemuExit *exit, gpointer data)
{
    VnicDomain *dom = data;
    g_autofree char *reason = g_strdup_printf("migrated to %s",
                                              dom->migration ? dom->migration->peer_uri : "?");

    vnic_migrate_nics_gone(dom, reason);
    vnic_domain_on_qemu_exit(proc, exit, dom);
}

static void
source_killed(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicMigration *mig = data;
    VnicDomain *dom = mig->dom;
    g_autoptr(GError) error = NULL;
    JsonObject *ret = json_object_new();

    if (!vnic_qemu_process_kill_finish(res, &error))
        g_warning("domain '%s': stopping the migrated-away QEMU: %s", dom->name, error->message);
    json_object_set_int_member(ret, "total-ms", (g_get_monotonic_time() - mig->started_us) / 1000);
    json_object_set_int_member(ret, "downtime-ms", mig->downtime_ms);
    json_object_set_int_member(ret, "transferred", mig->transferred);
    emit_job_event(mig, "MIGRATION_COMPLETED");
    g_message("domain '%s': migrated to %s", dom->name, mig->peer_uri);
    if (mig->undefine_source)
        vnic_migrate_unregister(dom); /* freed when the job ends */
    source_end(mig, ret);
}

/* The destination runs the guest: this QEMU and these backends go. */
static void
source_confirm(VnicMigration *mig)
{
    VnicDomain *dom = mig->dom;
    GHashTableIter iter;
    gpointer value;

    mig->phase = VNIC_MIGRATION_PHASE_CONFIRM;
    if (dom->nics) {
        g_hash_table_iter_init(&iter, dom->nics);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
            VnicNic *nic = value;
            if (nic->state != VNIC_NIC_UNPLUGGING)
                vnic_nic_set_state(nic, VNIC_NIC_UNPLUGGING, NULL, "the guest runs on the destination");
        }
    }
    vnic_migrate_save(dom);
    if (!dom->process) {
        source_killed(NULL, NULL, mig);
        return;
    }
    dom->stop_reason = "migrated";
    dom->state = VNIC_DOMAIN_STOPPING;
    vnic_domain_drop_queue_refs(dom);
    vnic_qemu_process_set_exit_func(dom->process, source_qemu_exit, dom, NULL);
    vnic_qemu_process_kill_async(dom->process, 3000, NULL, source_killed, mig);
}

static void
finished(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicMigration *mig = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_migrate_peer_call_finish(res, &error);

    g_clear_handle_id(&mig->keepalive_id, g_source_remove);
    if (!ret && vnic_migrate_peer_broken(mig->peer)) {
        /* no answer: the destination may or may not have resumed it; two
         * running copies would be worse than a paused one */
        g_warning("domain '%s': migrate-finish got no answer: the guest stays paused here",
                  mig->dom->name);
        mig->error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_MIGRATION,
                                 "%s; the guest stays paused here: check whether the destination "
                                 "runs it, then destroy or resume (qemu-monitor-command cont) "
                                 "this copy", error->message);
        emit_job_event(mig, "MIGRATION_FAILED");
        source_end(mig, NULL);
        return;
    }
    if (!ret) {
        /* the destination answered with an error: it dropped its half */
        source_rollback(mig, g_steal_pointer(&error));
        return;
    }
    source_confirm(mig);
}

static void
source_finish(VnicMigration *mig)
{
    g_autoptr(JsonObject) args = json_object_new();

    g_clear_handle_id(&mig->poll_id, g_source_remove);
    /* the keepalives go on until finish is answered: the destination's
     * lease runs until finish reaches it */
    mig->phase = VNIC_MIGRATION_PHASE_FINISH;
    vnic_migrate_save(mig->dom);
    json_object_set_string_member(args, "name", mig->dom->name);
    vnic_migrate_peer_call(mig->peer, "migrate-finish", args, FINISH_TIMEOUT_MS, finished, mig);
}

/* ---- the source: the stream --------------------------------------------------------- */

static void poll_now(VnicMigration *mig);

static gint64
member_int(JsonObject *o, const char *name)
{
    return o && json_object_has_member(o, name) ? json_object_get_int_member(o, name) : 0;
}

static void
paused_for_timeout(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, NULL);
}

static void
on_query_migrate(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicMigration *mig = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);
    JsonObject *info = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    JsonObject *ram = info && json_object_has_member(info, "ram")
                          ? json_object_get_object_member(info, "ram") : NULL;
    const char *status;
    gint64 now = g_get_monotonic_time();

    mig->poll_busy = FALSE;
    if (mig->failing || mig->phase != VNIC_MIGRATION_PHASE_STREAM)
        return;
    if (!info) {
        source_rollback(mig, mig_error("query-migrate: %s", error ? error->message : "no answer"));
        return;
    }
    status = json_object_get_string_member_with_default(info, "status", "none");
    g_free(mig->status);
    mig->status = g_strdup(status);
    if (ram) {
        gint64 transferred = member_int(ram, "transferred");
        if (transferred != mig->transferred)
            mig->last_progress_us = now;
        mig->transferred = transferred;
        mig->remaining = member_int(ram, "remaining");
        mig->total = member_int(ram, "total");
    }
    mig->expected_downtime_ms = member_int(info, "expected-downtime");
    if (strcmp(status, "completed") == 0) {
        mig->downtime_ms = member_int(info, "downtime");
        source_finish(mig);
        return;
    }
    if (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0) {
        const char *desc = json_object_get_string_member_with_default(info, "error-desc", NULL);
        source_rollback(mig, mig->abort_asked
                                 ? mig_error("migration aborted (domjobabort)")
                                 : mig_error("the migration stream %s%s%s", status,
                                             desc ? ": " : "", desc ? desc : ""));
        return;
    }
    if (now - mig->last_progress_us > STALL_S * G_USEC_PER_SEC) {
        source_rollback(mig, mig_error("the migration stream made no progress for %d s", STALL_S));
        return;
    }
    if (mig->timeout_s > 0 && !mig->paused_by_us &&
        now - mig->started_us > mig->timeout_s * G_USEC_PER_SEC && qmp_of(mig)) {
        /* --timeout: pause the guest so the stream can converge */
        g_message("domain '%s': --timeout %" G_GINT64_FORMAT " s: pausing the guest", mig->dom->name,
                  mig->timeout_s);
        mig->paused_by_us = TRUE;
        vnic_qmp_client_execute_async(qmp_of(mig), "stop", NULL, NULL, 0, 5000, NULL,
                                      paused_for_timeout, NULL);
    }
    if (now - mig->last_event_us > PROGRESS_EVENT_MS * 1000) {
        mig->last_event_us = now;
        emit_job_event(mig, "MIGRATION_PROGRESS");
    }
}

static void
poll_now(VnicMigration *mig)
{
    if (mig->poll_busy || mig->failing || !qmp_of(mig))
        return;
    mig->poll_busy = TRUE;
    vnic_qmp_client_execute_async(qmp_of(mig), "query-migrate", NULL, NULL, 0, 5000, NULL,
                                  on_query_migrate, mig);
}

static gboolean
poll_tick(gpointer data)
{
    poll_now(data);
    return G_SOURCE_CONTINUE;
}

static void
kept_alive(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicDomain *dom = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_migrate_peer_call_finish(res, &error);
    VnicMigration *mig = dom->migration;

    /* the record may be gone already (the call outlived it); during
     * prepare, prepare's own answer (or its timeout) decides */
    if (ret || !mig || mig->failing || mig->phase != VNIC_MIGRATION_PHASE_STREAM)
        return;
    source_rollback(mig, g_steal_pointer(&error));
}

static gboolean
keepalive_tick(gpointer data)
{
    VnicMigration *mig = data;
    g_autoptr(JsonObject) args = json_object_new();

    if (vnic_migrate_peer_broken(mig->keepalive_peer) &&
        mig->phase == VNIC_MIGRATION_PHASE_STREAM) {
        mig->keepalive_id = 0;
        source_rollback(mig, mig_error("lost the connection to the destination vnicd"));
        return G_SOURCE_REMOVE;
    }
    json_object_set_string_member(args, "name", mig->dom->name);
    vnic_migrate_peer_call(mig->keepalive_peer, "migrate-keepalive", args, PEER_TIMEOUT_MS,
                           kept_alive, mig->dom);
    return G_SOURCE_CONTINUE;
}

static void
migrate_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicMigration *mig = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (mig->failing)
        return;
    if (!ret) {
        source_rollback(mig, mig_error("migrate: %s", error->message));
        return;
    }
    mig->poll_id = g_timeout_add(POLL_MS, poll_tick, mig);
}

static void
params_set(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret)
        g_warning("migrate-set-parameters: %s", error->message);
}

/* Where the source's QEMU sends the stream: MIGRATE-URI's host (or the
 * ssh host, or the address the destination reported) and the port the
 * destination listens on. */
static char *
stream_target(VnicMigration *mig, JsonObject *prepared, GError **error)
{
    const char *given = mig->migrate_uri_arg;
    gint64 port = member_int(prepared, "port");
    g_autofree char *host = NULL;

    if (given && g_str_has_prefix(given, "unix:"))
        return g_strdup(given);
    if (given && g_str_has_prefix(given, "tcp:")) {
        const char *rest = given + 4;
        const char *colon = strrchr(rest, ':');
        host = colon ? g_strndup(rest, colon - rest) : g_strdup(rest);
    }
    if (!host || !*host) {
        g_free(host);
        host = vnic_migrate_peer_uri_host(mig->peer_uri);
    }
    if (!host && json_object_has_member(prepared, "address"))
        host = g_strdup(json_object_get_string_member(prepared, "address"));
    if (!host || port <= 0) {
        *error = mig_error("no host to send the migration stream to: give MIGRATE-URI "
                           "tcp:HOST[:PORT]");
        return NULL;
    }
    /* an IPv6 literal needs brackets in QEMU's URI */
    if (strchr(host, ':') && host[0] != '[')
        return g_strdup_printf("tcp:[%s]:%" G_GINT64_FORMAT, host, port);
    return g_strdup_printf("tcp:%s:%" G_GINT64_FORMAT, host, port);
}

static void
start_stream(VnicMigration *mig, JsonObject *prepared)
{
    g_autoptr(JsonObject) params = json_object_new();
    g_autoptr(JsonObject) args = json_object_new();
    GError *error = NULL;

    mig->phase = VNIC_MIGRATION_PHASE_STREAM;
    if (!(mig->stream_uri = stream_target(mig, prepared, &error))) {
        source_rollback(mig, error);
        return;
    }
    vnic_migrate_save(mig->dom);
    g_message("domain '%s': migrating to %s, stream to %s", mig->dom->name, mig->peer_uri,
              mig->stream_uri);
    json_object_set_int_member(params, "max-bandwidth",
                               (mig->bandwidth_mib > 0 ? mig->bandwidth_mib : DEFAULT_BANDWIDTH_MIB)
                                   * 1024 * 1024);
    vnic_qmp_client_execute_async(qmp_of(mig), "migrate-set-parameters", params, NULL, 0, 5000,
                                  NULL, params_set, NULL);
    json_object_set_string_member(args, "uri", mig->stream_uri);
    mig->last_progress_us = g_get_monotonic_time();
    vnic_qmp_client_execute_async(qmp_of(mig), "migrate", args, NULL, 0, 10000, NULL, migrate_sent,
                                  mig);
}

static void
prepared(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicMigration *mig = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_migrate_peer_call_finish(res, &error);

    if (!ret) {
        source_rollback(mig, g_steal_pointer(&error));
        return;
    }
    if (mig->abort_asked) {
        source_rollback(mig, mig_error("migration aborted (domjobabort)"));
        return;
    }
    if (!mig->dom->process) {
        source_rollback(mig, mig_error("domain '%s': QEMU went away", mig->dom->name));
        return;
    }
    start_stream(mig, JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL);
}

/* Drops the path of every <source path> under @dir from the tree of @node:
 * sockets vnic named itself in this host's run dir, which the destination
 * names in its own. */
static void
strip_paths_under(xmlNode *node, const char *dir)
{
    for (xmlNode *n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(n->name, (const xmlChar *)"source")) {
            xmlChar *path = xmlGetProp(n, (const xmlChar *)"path");
            if (path && g_str_has_prefix((const char *)path, dir))
                xmlUnsetProp(n, (const xmlChar *)"path");
            xmlFree(path);
        }
        strip_paths_under(n->children, dir);
    }
}

/* The live definition as the destination needs it: every device with its
 * alias and address, every NIC with its MAC, and <target dev> as this host
 * named it (the destination decides what a name means there); without the
 * socket paths vnic made up in this host's run dir. */
static char *
migration_xml(VnicDomain *dom)
{
    g_autofree char *xml = vnic_conf_domain_format(dom->live, VNIC_CONF_FORMAT_STATUS);
    g_autofree char *dir = g_strconcat(dom->daemon->opts.run_dir, "/", NULL);
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    xmlChar *out = NULL;
    int len = 0;
    char *text;

    if (!doc)
        return g_steal_pointer(&xml);
    strip_paths_under(xmlDocGetRootElement(doc), dir);
    xmlDocDumpMemory(doc, &out, &len);
    text = g_strndup((const char *)out, (gsize)len);
    xmlFree(out);
    xmlFreeDoc(doc);
    return text;
}

static void
on_migration_event(VnicQmpClient *client, const char *event, JsonObject *data, gint64 ts,
                   gpointer user_data)
{
    VnicDomain *dom = user_data;
    const char *status = json_object_get_string_member_with_default(data, "status", "");

    if (dom->migration && dom->migration->role == VNIC_MIGRATION_SOURCE &&
        (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0 ||
         strcmp(status, "cancelled") == 0))
        poll_now(dom->migration); /* at once, not at the next tick */
}

static void
migrate_job(VnicDomain *dom, VnicApiRequest *request)
{
    const char *uri = NULL, *migrate_uri = NULL;
    gboolean live = FALSE, persistent = FALSE, undefine = FALSE;
    gint64 timeout = 0, bandwidth = 0;
    GError *error = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autofree char *xml = NULL;
    VnicMigration *mig;

    if (!vnic_api_arg_string(request, "uri", TRUE, &uri, &error) ||
        !vnic_api_arg_string(request, "migrate-uri", FALSE, &migrate_uri, &error) ||
        !vnic_api_arg_bool(request, "live", &live, &error) ||
        !vnic_api_arg_bool(request, "persistent", &persistent, &error) ||
        !vnic_api_arg_bool(request, "undefine-source", &undefine, &error) ||
        !vnic_api_arg_int(request, "timeout", 0, 86400, &timeout, &error) ||
        !vnic_api_arg_int(request, "bandwidth", 0, 1024 * 1024, &bandwidth, &error)) {
        vnic_api_request_fail(request, error);
        vnic_domain_job_done(dom);
        return;
    }
    if (dom->state != VNIC_DOMAIN_RUNNING || !dom->process) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                                   "domain '%s' is not running (%s)", dom->name,
                                                   vnic_domain_state_to_string(dom->state)));
        vnic_domain_job_done(dom);
        return;
    }
    mig = vnic_migration_new(dom, VNIC_MIGRATION_SOURCE);
    mig->request = request;
    mig->peer_uri = g_strdup(uri);
    mig->migrate_uri_arg = g_strdup(migrate_uri);
    mig->persistent = persistent;
    mig->undefine_source = undefine;
    mig->timeout_s = timeout;
    mig->bandwidth_mib = bandwidth;
    /* vnic migrates live only (the guest runs until the switch-over); --live
     * is accepted for virsh's sake */
    (void)live;
    vnic_migrate_save(dom);
    if (!(mig->peer = vnic_migrate_peer_connect(uri, dom->daemon->opts.run_dir, &error)) ||
        !(mig->keepalive_peer = vnic_migrate_peer_connect(uri, dom->daemon->opts.run_dir,
                                                          &error))) {
        source_rollback(mig, error);
        return;
    }
    mig->event_id = vnic_qmp_client_add_event_handler(qmp_of(mig), "MIGRATION",
                                                      on_migration_event, dom, NULL);
    xml = migration_xml(dom);
    json_object_set_string_member(args, "xml", xml);
    if (migrate_uri)
        json_object_set_string_member(args, "uri", migrate_uri);
    json_object_set_boolean_member(args, "persistent", persistent);
    g_message("domain '%s': migrate-prepare on %s", dom->name, uri);
    vnic_migrate_peer_call(mig->peer, "migrate-prepare", args, PREPARE_TIMEOUT_MS, prepared, mig);
    /* from now on: the destination's lease starts when it answers */
    mig->keepalive_id = g_timeout_add(KEEPALIVE_MS, keepalive_tick, mig);
}

/* ---- commands ------------------------------------------------------------------- */

static VnicDomain *
domain_arg(VnicApiRequest *request, VnicDaemon *daemon)
{
    GError *error = NULL;
    const char *name = NULL;
    VnicDomain *dom;

    if (!vnic_api_arg_string(request, "name", TRUE, &name, &error) ||
        !(dom = vnic_daemon_lookup(daemon, name, &error))) {
        vnic_api_request_fail(request, error);
        return NULL;
    }
    return dom;
}

void
vnic_cmd_migrate(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_arg(request, data);

    if (!dom)
        return;
    if (dom->migration) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                                   "domain '%s' is already being migrated",
                                                   dom->name));
        return;
    }
    vnic_domain_job_queue(dom, migrate_job, request);
}

void
vnic_cmd_domjobinfo(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_arg(request, data);
    VnicMigration *mig;
    JsonObject *ret;

    if (!dom)
        return;
    ret = json_object_new();
    mig = dom->migration;
    if (!mig) {
        json_object_set_string_member(ret, "type", "none");
        vnic_api_request_return_object(request, ret);
        return;
    }
    json_object_set_string_member(ret, "type", "unbounded");
    json_object_set_string_member(ret, "operation", mig->role == VNIC_MIGRATION_SOURCE
                                                        ? "outgoing-migration"
                                                        : "incoming-migration");
    json_object_set_string_member(ret, "phase", vnic_migration_phase_to_string(mig->phase));
    if (mig->status)
        json_object_set_string_member(ret, "status", mig->status);
    if (mig->peer_uri)
        json_object_set_string_member(ret, "destination", mig->peer_uri);
    if (mig->stream_uri)
        json_object_set_string_member(ret, "stream", mig->stream_uri);
    json_object_set_int_member(ret, "elapsed-ms", (g_get_monotonic_time() - mig->started_us) / 1000);
    json_object_set_int_member(ret, "data-processed", mig->transferred);
    json_object_set_int_member(ret, "data-remaining", mig->remaining);
    json_object_set_int_member(ret, "data-total", mig->total);
    json_object_set_int_member(ret, "expected-downtime-ms", mig->expected_downtime_ms);
    vnic_api_request_return_object(request, ret);
}

void
vnic_cmd_domjobabort(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_arg(request, data);
    VnicMigration *mig;

    if (!dom)
        return;
    mig = dom->migration;
    if (!mig || mig->role != VNIC_MIGRATION_SOURCE) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                                   "domain '%s' has no job to abort%s", dom->name,
                                                   mig ? " here (abort it on the source)" : ""));
        return;
    }
    if (mig->phase >= VNIC_MIGRATION_PHASE_FINISH) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                                   "domain '%s': too late to abort, the guest is "
                                                   "switching over to the destination", dom->name));
        return;
    }
    g_message("domain '%s': domjobabort", dom->name);
    mig->abort_asked = TRUE;
    if (mig->phase == VNIC_MIGRATION_PHASE_STREAM)
        source_rollback(mig, mig_error("migration aborted (domjobabort)"));
    /* in prepare: the rollback follows prepare's answer */
    vnic_api_request_return(request, NULL);
}

/* ---- after a restart ------------------------------------------------------------- */

static void
recover_end(VnicDomain *dom)
{
    VnicMigration *mig = dom->migration;

    dom->migration = NULL;
    vnic_migration_free(mig);
    vnic_migrate_save(dom);
    vnic_domain_job_done(dom);
}

static void
recover_killed(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicDomain *dom = data;

    vnic_qemu_process_kill_finish(res, NULL);
    recover_end(dom);
}

static void
recover_resumed(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicDomain *dom = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret)
        g_warning("domain '%s': resuming after the interrupted migration: %s", dom->name,
                  error->message);
    else
        g_message("domain '%s': interrupted migration rolled back, the guest runs here",
                  dom->name);
    recover_end(dom);
}

static void
recover_status(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicDomain *dom = data;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, NULL);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;

    if (!dom->process || (o && json_object_get_boolean_member_with_default(o, "running", FALSE))) {
        recover_end(dom);
        return;
    }
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "cont", NULL, NULL, 0,
                                  10000, NULL, recover_resumed, dom);
}

static void
recover_cancelled(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicDomain *dom = data;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, NULL);

    if (!dom->process) {
        recover_end(dom);
        return;
    }
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "query-status", NULL,
                                  NULL, 0, 5000, NULL, recover_status, dom);
}

static void
recover_rollback(VnicDomain *dom)
{
    g_message("domain '%s': rolling back the migration interrupted by the restart", dom->name);
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "migrate_cancel", NULL,
                                  NULL, 0, 5000, NULL, recover_cancelled, dom);
}

static void
recover_confirm(VnicDomain *dom)
{
    g_message("domain '%s': completing the migration interrupted by the restart", dom->name);
    dom->stop_reason = "migrated";
    vnic_qemu_process_set_exit_func(dom->process, source_qemu_exit, dom, NULL);
    vnic_qemu_process_kill_async(dom->process, 3000, NULL, recover_killed, dom);
}

/* Phase finish: migrate-finish was sent, its answer lost.  Whether the
 * destination resumed the guest decides which copy lives. */
static void
recover_asked(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicDomain *dom = data;
    VnicMigration *mig = dom->migration;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_migrate_peer_call_finish(res, &error);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;

    if (!dom->process) {
        recover_end(dom);
        return;
    }
    if (o && g_strcmp0(json_object_get_string_member_with_default(o, "type", ""), "none") == 0) {
        recover_confirm(dom); /* it runs there, without a job */
        return;
    }
    if (o || (error && strstr(error->message, "no domain named"))) {
        /* still incoming there (it rolls back by itself), or gone */
        recover_rollback(dom);
        return;
    }
    g_warning("domain '%s': cannot ask the destination %s whether it runs the guest (%s): the "
              "guest stays paused here; resume or destroy it once you know",
              dom->name, mig->peer_uri, error ? error->message : "?");
    recover_end(dom);
}

static void
recover_ask_destination(VnicDomain *dom)
{
    VnicMigration *mig = dom->migration;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) args = json_object_new();

    if (!(mig->peer = vnic_migrate_peer_connect(mig->peer_uri, dom->daemon->opts.run_dir, &error))) {
        g_warning("domain '%s': %s: the guest stays paused here; resume or destroy it once you "
                  "know whether the destination runs it", dom->name, error->message);
        recover_end(dom);
        return;
    }
    json_object_set_string_member(args, "name", dom->name);
    vnic_migrate_peer_call(mig->peer, "domjobinfo", args, PEER_TIMEOUT_MS, recover_asked, dom);
}

static void
recover_source_job(VnicDomain *dom, VnicApiRequest *unused)
{
    VnicMigration *mig = dom->migration;

    if (!mig) {
        vnic_domain_job_done(dom);
        return;
    }
    if (!dom->process) {
        recover_end(dom);
        return;
    }
    if (mig->phase == VNIC_MIGRATION_PHASE_CONFIRM) {
        /* the destination runs the guest: finish what the confirm began */
        recover_confirm(dom);
        return;
    }
    if (mig->phase == VNIC_MIGRATION_PHASE_FINISH && mig->peer_uri) {
        recover_ask_destination(dom);
        return;
    }
    /* the destination never resumes the guest without our migrate-finish,
     * and it drops its half once we are quiet: the guest is ours again */
    recover_rollback(dom);
}

static void
recover_dest_job(VnicDomain *dom, VnicApiRequest *unused)
{
    VnicMigration *mig = dom->migration;

    if (!mig) {
        vnic_domain_job_done(dom);
        return;
    }
    vnic_migrate_dest_rollback(dom, "vnicd restarted during the incoming migration");
    vnic_domain_job_done(dom);
}

void
vnic_migrate_load_status(VnicDomain *dom, const char *role, const char *phase,
                         const char *peer, const char *persistent, const char *defined)
{
    VnicMigration *mig;
    VnicMigrationPhase ph;

    if (!role || !phase_from_string(phase, &ph)) {
        g_warning("domain '%s': ignoring a <migration> with role '%s' phase '%s'", dom->name,
                  role ? role : "", phase ? phase : "");
        return;
    }
    mig = vnic_migration_new(dom, strcmp(role, "destination") == 0 ? VNIC_MIGRATION_DESTINATION
                                                                   : VNIC_MIGRATION_SOURCE);
    mig->phase = ph;
    mig->recovering = TRUE;
    mig->peer_uri = peer && *peer ? g_strdup(peer) : NULL;
    mig->persistent = g_strcmp0(persistent, "yes") == 0;
    mig->kept_definition = g_strcmp0(defined, "yes") == 0;
    g_message("domain '%s': its %s migration was interrupted (phase %s)", dom->name, role, phase);
    vnic_domain_job_queue(dom, mig->role == VNIC_MIGRATION_SOURCE ? recover_source_job
                                                                  : recover_dest_job, NULL);
}
