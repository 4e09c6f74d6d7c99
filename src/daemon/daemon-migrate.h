/* daemon-migrate.h: live migration between vnicds (issue #9, docs/migration.md).
 *
 * The source vnicd drives (peer-to-peer, like libvirt's): it connects to
 * the destination vnicd's API (unix:PATH, or ssh:// through the system
 * OpenSSH client) and runs the protocol
 *
 *   migrate-prepare  the destination checks the source's live definition
 *                    (every NIC with its address, MAC, acpi-index, model,
 *                    queues), creates its own backends with its own names,
 *                    starts QEMU with -incoming defer at exactly the same
 *                    addresses and listens (migrate-incoming);
 *   (stream)         the source's QEMU migrates, watched by query-migrate;
 *                    migrate-keepalive (every second from prepare on, on
 *                    a second connection) tells the destination the
 *                    source is still there;
 *   migrate-finish   the destination resumes the guest; the source then
 *                    stops its QEMU and deletes only its own backends;
 *   migrate-abort    any failure: the destination drops all it made.
 *
 * Each side keeps a VnicMigration on the domain (dom->migration) while the
 * job runs, written to the status file as <migration …/>, so a vnicd that
 * restarts finishes or rolls back its half.  Hot-plug and detach are
 * refused while it exists.  Every failure path deletes only what that
 * side's ledger says it created.
 */
#pragma once

#include "daemon/daemon.h"

G_BEGIN_DECLS

typedef enum {
    VNIC_MIGRATION_SOURCE,
    VNIC_MIGRATION_DESTINATION,
} VnicMigrationRole;

/* Where a migration is; written to the status file.  Destination: PREPARE
 * until QEMU listens, STREAM until finish, FINISH while resuming. */
typedef enum {
    VNIC_MIGRATION_PHASE_PREPARE,
    VNIC_MIGRATION_PHASE_STREAM,
    VNIC_MIGRATION_PHASE_FINISH,   /* source: migrate-finish sent, no answer yet */
    VNIC_MIGRATION_PHASE_CONFIRM,  /* source: the destination runs the guest */
} VnicMigrationPhase;

typedef struct _VnicMigration VnicMigration;
typedef struct _VnicMigratePeer VnicMigratePeer;

/* Frees a record (the daemon exits, or the job ended). */
void vnic_migration_free(VnicMigration *mig);

/* TRUE while @dom has a migration job (either side). */
gboolean vnic_domain_migrating(const VnicDomain *dom);
/* FALSE with @error naming the domain and its migration when @dom (may be
 * NULL) is migrating in: between migrate-prepare and the end of
 * migrate-finish (or the rollback) the domain here is the migration's, and
 * @command (define, undefine) would change or remove what its finish or
 * rollback works on. */
gboolean vnic_migrate_check_not_incoming(const VnicDomain *dom, const char *command,
                                         GError **error);

/* The status file's <migration role=… phase=… peer=… [defined='yes']/>
 * line, when migrating (defined: the destination had an inactive
 * definition of the domain before, which a rollback keeps). */
void vnic_migrate_append_status(GString *s, VnicDomain *dom);
/* Reading it back after a restart: queues the job that finishes or rolls
 * back this side's half (after the re-attach job). */
void vnic_migrate_load_status(VnicDomain *dom, const char *role, const char *phase,
                              const char *peer, const char *persistent, const char *defined);

/* API commands (daemon-commands.c's table). */
void vnic_cmd_migrate(VnicApiRequest *request, gpointer data);
void vnic_cmd_domjobinfo(VnicApiRequest *request, gpointer data);
void vnic_cmd_domjobabort(VnicApiRequest *request, gpointer data);
/* The destination's half (daemon-migrate-dest.c). */
void vnic_cmd_migrate_prepare(VnicApiRequest *request, gpointer data);
void vnic_cmd_migrate_finish(VnicApiRequest *request, gpointer data);
void vnic_cmd_migrate_abort(VnicApiRequest *request, gpointer data);
void vnic_cmd_migrate_keepalive(VnicApiRequest *request, gpointer data);

/* ---- shared by daemon-migrate*.c ------------------------------------------ */

struct _VnicMigration {
    VnicDomain *dom;             /* borrowed: the owner */
    VnicMigrationRole role;
    VnicMigrationPhase phase;
    char *peer_uri;              /* source: the destination's API URI */
    gboolean persistent;         /* destination: keep the config (--persistent) */
    gboolean undefine_source;    /* source: --undefine-source */
    gboolean recovering;         /* loaded from a status file after a restart */
    /* source */
    VnicApiRequest *request;     /* the migrate request, answered at the end */
    VnicMigratePeer *peer;
    VnicMigratePeer *keepalive_peer; /* a connection of its own: answered at once */
    char *stream_uri;            /* where the destination's QEMU listens */
    char *migrate_uri_arg;       /* MIGRATE-URI as given, or NULL */
    gint64 bandwidth_mib;        /* 0: no limit asked for */
    gint64 timeout_s;            /* --timeout: pause the guest after that long */
    gint64 started_us;           /* monotonic */
    gint64 last_progress_us;     /* monotonic: when transferred last grew */
    gint64 transferred;          /* query-migrate ram.transferred */
    gint64 remaining;
    gint64 total;
    gint64 expected_downtime_ms;
    gint64 downtime_ms;          /* QEMU's when completed */
    char *status;                /* QEMU's migration status */
    gboolean paused_by_us;       /* --timeout paused the guest */
    gboolean abort_asked;        /* domjobabort */
    gboolean failing;            /* rollback under way */
    GError *error;               /* why it failed */
    guint poll_id;
    guint keepalive_id;
    gboolean poll_busy;
    gint64 last_event_us;        /* monotonic: the last MIGRATION_PROGRESS */
    guint event_id;              /* QMP handler for MIGRATION */
    /* destination */
    guint lease_id;              /* the source must be heard from within the lease */
    gint64 answered_us;          /* monotonic: prepare answered, no keepalive since */
    VnicApiRequest *prepare_request;
    VnicConfDomain *pending_live; /* the definition the prepare job starts */
    gboolean kept_definition;    /* the domain was defined (inactive) here before: a
                                  * rollback leaves that definition as it was */
    VnicConfDomain *incoming_config; /* kept_definition: the source's inactive definition,
                                      * stored at finish with --persistent */
    gint64 listen_port;
};

VnicMigration *vnic_migration_new(VnicDomain *dom, VnicMigrationRole role);
const char *vnic_migration_phase_to_string(VnicMigrationPhase phase);
/* Writes the status file, warning on failure. */
void vnic_migrate_save(VnicDomain *dom);
/* Takes @dom out of the registry (a destination that never got the guest,
 * or a source with --undefine-source), with its config file and markers;
 * it is freed when its jobs are done. */
void vnic_migrate_unregister(VnicDomain *dom);
/* Moves every NIC record to GONE, deleting its ledger links first: the
 * backends of a guest that left this host, or never came. */
void vnic_migrate_nics_gone(VnicDomain *dom, const char *reason);
/* The destination's rollback: kills its QEMU if there is one, deletes what
 * its ledger says it made, takes the domain out of the registry. */
void vnic_migrate_dest_rollback(VnicDomain *dom, const char *why);

/* daemon-migrate-peer.c: the source's connection to the destination's API:
 * "unix:PATH" directly, "ssh://[user@]host[:port][/path]" through a local
 * socket in @local_dir that `ssh -L` forwards to the remote one (OpenSSH's
 * own unix socket forwarding, no remote tool needed).  Requests are
 * answered in order (those sent before ssh is up wait); events are
 * ignored. */
VnicMigratePeer *vnic_migrate_peer_connect(const char *uri, const char *local_dir,
                                           GError **error);
void vnic_migrate_peer_free(VnicMigratePeer *peer);
/* The host part of an ssh:// URI (the default stream host), or NULL. */
char *vnic_migrate_peer_uri_host(const char *uri);
/* Sends one request; @callback gets the "return" value or an error
 * (VNIC_DAEMON_ERROR_MIGRATION: the destination's error, a timeout, or a
 * lost connection). */
void vnic_migrate_peer_call(VnicMigratePeer *peer, const char *command, JsonObject *args,
                            guint timeout_ms, GAsyncReadyCallback callback, gpointer data);
JsonNode *vnic_migrate_peer_call_finish(GAsyncResult *result, GError **error);
/* TRUE once the connection is lost. */
gboolean vnic_migrate_peer_broken(const VnicMigratePeer *peer);

G_END_DECLS
