/* daemon.h: vnicd's state, shared by the daemon's files.
 *
 * Ownership: the VnicDaemon owns the API server and every VnicDomain (in
 * `domains`, by name).  A VnicDomain owns its persistent config, its live
 * definition while running, the QEMU process handle and the ledger of host
 * links it created.  All of it lives on the one GMainLoop thread.
 *
 * Files: <state-dir>/domains/NAME.xml is the config (inactive XML);
 * <run-dir>/domains/NAME.xml the status while running (pid, QMP socket,
 * owned links, the live XML); <run-dir>/domains/NAME/ holds the sockets;
 * <run-dir>/logs/NAME.log QEMU's stderr, kept after the domain stops.
 * Every file is written atomically (temp file, fsync, rename).
 */
#pragma once

#include "conf/conf-domain.h"
#include "daemon/daemon-api.h"
#include "daemon/daemon-error.h"
#include "host/host-backend.h"
#include "pci/pci-plan.h"

G_BEGIN_DECLS

typedef enum {
    VNIC_DOMAIN_SHUT_OFF,
    VNIC_DOMAIN_STARTING,
    VNIC_DOMAIN_RUNNING,
    VNIC_DOMAIN_PAUSED,
    VNIC_DOMAIN_STOPPING,
} VnicDomainState;

typedef struct _VnicDaemon VnicDaemon;
typedef struct _VnicDomain VnicDomain;
typedef struct _VnicQemuProcess VnicQemuProcess;
typedef struct _VnicHostLinkWatch VnicHostLinkWatch;

/* A unit of work on one domain; jobs of a domain run one at a time. */
typedef void (*VnicJobFunc)(VnicDomain *dom, VnicApiRequest *request);

typedef struct {
    VnicJobFunc func;
    VnicApiRequest *request;
} VnicJob;

/* A host link the domain created, and which NIC it backs.  A link whose
 * NIC has left the live definition is being deleted: it stays in the
 * ledger, its name reserved, until the kernel confirms (daemon-unplug.c).
 * A tap or macvtap also holds vnicd's reference to every queue fd QEMU got
 * (the detach promise: QEMU's close is not the last one, so netdev_del
 * answers at once; docs/performance.md).  The entry is their one owner:
 * freeing it closes them; an unplug's deletion takes them to its thread. */
typedef struct {
    VnicHostLink *link;
    char *alias;              /* the NIC's device id (net0, …) */
    gpointer deletion;        /* the deletion under way (daemon-unplug.c), or NULL */
    VnicHostQueueRefs *queues; /* NULL: none held (an ifb; a link re-attached after a
                                * vnicd restart, whose references died with that vnicd) */
} VnicOwnedLink;

struct _VnicDomain {
    VnicDaemon *daemon;       /* borrowed back-pointer */
    char *name;
    VnicConfDomain *config;   /* planned persistent definition */
    char *config_xml;         /* config as inactive XML, as last stored, or NULL: see
                               * vnic_domain_config_xml() */
    VnicConfDomain *live;     /* planned running definition, NULL when shut off */
    VnicDomainState state;
    VnicQemuProcess *process; /* NULL when shut off */
    GPtrArray *links;         /* VnicOwnedLink*: the ownership ledger */
    GQueue jobs;              /* VnicJob*, waiting */
    gboolean job_running;
    gboolean dispatching;     /* inside run_next(): see daemon-domain.c */
    gboolean undefined;       /* removed from the registry; freed when idle */
    const char *stop_reason;  /* why QEMU is going away, for DOMAIN_STOPPED */
    GPid pid;                 /* QEMU's pid while it runs (also before re-attach) */
    VnicApiRequest *shutdown_request;  /* a shutdown waiting for QEMU to exit */
    guint shutdown_timeout_id;
    guint shutdown_timeout_s;
    GHashTable *removed;      /* MAC text → <interface> XML of NICs detached (replug) */
    GHashTable *unplugs;      /* alias → VnicPendingUnplug*: device_del sent, no event yet */
    guint device_events_id;   /* QMP handler for DEVICE_DELETED */
    GHashTable *nics;         /* alias → VnicNic*: each live NIC's state (daemon-nic.h) */
    gboolean has_qemu_ids;    /* QEMU runs (or is about to) under qemu_uid/qemu_gid */
    uid_t qemu_uid;           /* from the daemon's id pool, or qemu-user's (daemon-qemu-ids.c) */
    gid_t qemu_gid;
    struct _VnicMigration *migration; /* the migration job of this domain, source or
                                       * destination side, while one runs (daemon-migrate.h) */
};

typedef struct {
    char *state_dir;
    char *run_dir;
    char *socket_path;
    char *ro_socket_path;
    char *qemu_user;          /* every QEMU runs as this user ("root": no switch);
                               * NULL: each its own ids from qemu_uid_range */
    char *qemu_uid_range;     /* "START-END": per-domain uids and gids */
    gint spare_ports;         /* define's default under nic-first; -1: the planner's */
    guint shutdown_timeout_s; /* shutdown's default wait; 0: the built-in 60 s */
    guint unplug_timeout_s;   /* detach's default wait; 0: the built-in 5 s */
} VnicDaemonOptions;

struct _VnicDaemon {
    VnicDaemonOptions opts;
    VnicApiServer *api;
    GHashTable *domains;      /* name → VnicDomain*, owned */
    GHashTable *networks;     /* name → VnicNetwork*, owned (daemon-network.c) */
    GMainLoop *loop;
    uid_t qemu_uid;           /* qemu-user's ids (without an id pool) */
    gid_t qemu_gid;
    struct _VnicQemuIdPool *id_pool; /* per-domain ids; NULL under qemu-user */
    VnicHostLinkWatch *link_watch; /* the host's links, for backends that heal */
};

/* daemon-domain.c */
VnicDomain *vnic_domain_new(VnicDaemon *daemon, VnicConfDomain *config);
void vnic_domain_free(VnicDomain *dom);
/* @dom's config as inactive XML (dumpxml --inactive), borrowed until the
 * config changes.  Formatted once per change: every change of dom->config
 * ends in vnic_state_write_config(), which keeps the XML it stored here (or
 * drops it when the write fails); anything that replaces dom->config
 * without storing it calls vnic_domain_config_changed().  With
 * VNICD_VERIFY_CACHES set (the e2e tests), each use compares it with a
 * fresh format and aborts on a difference. */
const char *vnic_domain_config_xml(VnicDomain *dom);
void vnic_domain_config_changed(VnicDomain *dom);
const char *vnic_domain_state_to_string(VnicDomainState state);
VnicDomain *vnic_daemon_lookup(VnicDaemon *daemon, const char *name, GError **error);
void vnic_domain_job_queue(VnicDomain *dom, VnicJobFunc func, VnicApiRequest *request);
void vnic_domain_job_done(VnicDomain *dom);
void vnic_owned_link_free(VnicOwnedLink *owned);
void vnic_daemon_emit(VnicDaemon *daemon, const char *event, const char *domain,
                      JsonObject *data);
/* The generator of the MACs vnicd picks, at define and attach (main loop
 * only): seeded once from /dev/urandom, not per request (an open and a
 * read each). */
GRand *vnic_daemon_mac_rand(void);

/* daemon-define.c */
/* Longest domain or network name: NAME.xml.XXXXXX must fit NAME_MAX. */
#define VNIC_DAEMON_NAME_MAX 200
/* A domain or network name that is safe as a file name and in logs, or an
 * InvalidArguments error naming @what ("domain", "network") and the name. */
gboolean vnic_daemon_check_name(const char *what, const char *name, GError **error);
/* Runs @func(@work) in a thread, then @done(@request, @work, error) on the
 * main loop (error NULL on success, else owned by @done), and frees @work
 * with @free_work.  For what costs time in proportion to a client's input
 * (parsing XML, planning) and touches nothing but @work (conf and pci are
 * pure): a big or hostile request delays its own reply, not the daemon.
 * An input of at most VNIC_OFF_LOOP_INLINE_MAX bytes (@input_size) is worked
 * on at once in the main loop instead: 100 NICs are 22 KiB and take well
 * under a millisecond, less than the hop to a thread and back (two
 * wake-ups, each a wait for a core on a loaded host). */
#define VNIC_OFF_LOOP_INLINE_MAX (64 * 1024)
typedef gboolean (*VnicOffLoopFunc)(gpointer work, GError **error);
typedef void (*VnicOffLoopDone)(VnicApiRequest *request, gpointer work, GError *error);
void vnic_daemon_off_loop(VnicApiRequest *request, gsize input_size, VnicOffLoopFunc func,
                          gpointer work, GDestroyNotify free_work, VnicOffLoopDone done);
/* Parses, plans and checks the request's definition in a thread, then
 * stores it and completes the request with {"name", "uuid"}. */
void vnic_daemon_define(VnicDaemon *daemon, VnicApiRequest *request);
/* The same, then @then(the domain, @request) instead of the reply (create). */
typedef void (*VnicDefinedFunc)(VnicDomain *dom, VnicApiRequest *request);
void vnic_daemon_define_then(VnicDaemon *daemon, VnicApiRequest *request, VnicDefinedFunc then);
/* domiflist: @def's NICs; with @dom and @def its live definition, each
 * NIC's state too (daemon-nic.h). */
JsonObject *vnic_daemon_interfaces_json(VnicDomain *dom, const VnicConfDomain *def);

/* daemon-state.c */
/* Writes @text to @path durably (temp file, fsync, rename), mode 0600,
 * creating its directory (0700). */
gboolean vnic_state_write_file(const char *path, const char *text, GError **error);
gboolean vnic_state_write_config(VnicDaemon *daemon, VnicDomain *dom, GError **error);
void vnic_state_remove_config(VnicDaemon *daemon, const char *name);
gboolean vnic_state_write_status(VnicDomain *dom, GError **error);
/* Appends ` NAME='VALUE'` to status XML, VALUE escaped so that a reader
 * gets it back byte for byte (newlines, tabs and quotes included). */
void vnic_state_append_attr(GString *s, const char *name, const char *value);
void vnic_state_remove_status(VnicDomain *dom);
char *vnic_state_domain_run_dir(VnicDomain *dom);
char *vnic_state_log_path(VnicDomain *dom);
gboolean vnic_state_load(VnicDaemon *daemon, GError **error);

/* daemon-network.c: libvirt-style networks (docs/api.md "Networks").
 * Config <state-dir>/networks/NAME.xml, NAME.autostart beside it when
 * set; <run-dir>/networks/NAME.active while active. */
gboolean vnic_networks_load(VnicDaemon *daemon, GError **error);
void vnic_networks_free(VnicDaemon *daemon);
/* Every network NIC of @def gets what its network resolves to (a bridge,
 * or a pool device and mode: the least used by running domains, as
 * libvirt picks), or an error naming the NIC and the network. */
gboolean vnic_networks_resolve(VnicDaemon *daemon, VnicConfDomain *def, GError **error);
gboolean vnic_network_resolve_nic(VnicDaemon *daemon, const VnicConfDomain *def,
                                  VnicConfDevice *dev, GError **error);
/* The net-* API commands (registered in daemon-commands.c). */
void vnic_cmd_net_define(VnicApiRequest *request, gpointer data);
void vnic_cmd_net_undefine(VnicApiRequest *request, gpointer data);
void vnic_cmd_net_start(VnicApiRequest *request, gpointer data);
void vnic_cmd_net_destroy(VnicApiRequest *request, gpointer data);
void vnic_cmd_net_list(VnicApiRequest *request, gpointer data);
void vnic_cmd_net_dumpxml(VnicApiRequest *request, gpointer data);
void vnic_cmd_net_autostart(VnicApiRequest *request, gpointer data);

/* daemon-iface.c: domif-getlink, domif-setlink. */
void vnic_cmd_domif_getlink(VnicApiRequest *request, gpointer data);
void vnic_cmd_domif_setlink(VnicApiRequest *request, gpointer data);
/* daemon-iface.c: the NIC of @def that @which names (host device, MAC or
 * alias), or NULL. */
VnicConfDevice *vnic_domain_find_interface(const VnicConfDomain *def, const char *which);
/* daemon-ifinfo.c: domiflist (also --inactive), domifstat, domifaddr,
 * domiftune. */
void vnic_cmd_domiflist(VnicApiRequest *request, gpointer data);
void vnic_cmd_domifstat(VnicApiRequest *request, gpointer data);
void vnic_cmd_domifaddr(VnicApiRequest *request, gpointer data);
void vnic_cmd_domiftune(VnicApiRequest *request, gpointer data);
/* Sets the running NIC @dev's <bandwidth> to @in and @out by tc on its
 * host link (IFB in the ledger), in the live definition and the status. */
gboolean vnic_domain_tune_nic_live(VnicDomain *dom, VnicConfDevice *dev, const VnicConfRate *in,
                                   const VnicConfRate *out, GError **error);
/* daemon-update.c: update-device for an <interface>. */
void vnic_cmd_update_device(VnicApiRequest *request, gpointer data);
/* daemon-domstate.c: dominfo, domstate, suspend, resume, reboot. */
void vnic_cmd_dominfo(VnicApiRequest *request, gpointer data);
void vnic_cmd_domstate(VnicApiRequest *request, gpointer data);
void vnic_cmd_suspend(VnicApiRequest *request, gpointer data);
void vnic_cmd_resume(VnicApiRequest *request, gpointer data);
void vnic_cmd_reboot(VnicApiRequest *request, gpointer data);
/* daemon-monitor.c: qemu-monitor-command (QMP, or HMP with "hmp"). */
void vnic_cmd_qemu_monitor_command(VnicApiRequest *request, gpointer data);

/* daemon-agent.c: the guest agent's channel socket in @def (NULL: none),
 * and domifaddr --source agent's answer to @request (only the guest NIC
 * with MAC @mac when not NULL). */
const char *vnic_domain_agent_socket(const VnicConfDomain *def);
void vnic_domain_agent_interfaces(VnicDomain *dom, const char *mac, VnicApiRequest *request);
/* daemon-autostart.c: autostart marks, transient domains (create). */
void vnic_cmd_autostart(VnicApiRequest *request, gpointer data);
void vnic_cmd_create(VnicApiRequest *request, gpointer data);
gboolean vnic_domain_is_autostart(VnicDomain *dom);
/* Transient (create, or migrated here without --persistent): its config
 * file has NAME.transient beside it, so a restart keeps it transient; it
 * is undefined once it is shut off.  The marker is the one record. */
gboolean vnic_domain_is_transient(VnicDomain *dom);
gboolean vnic_domain_mark_transient(VnicDomain *dom, GError **error);
/* Drops @name's autostart and transient marks (undefine). */
void vnic_domain_forget_markers(VnicDaemon *daemon, const char *name);
/* Queues the removal of @dom if it is transient and shut off. */
void vnic_domain_transient_check(VnicDomain *dom);
/* Starts every autostart domain that is shut off; removes transient ones
 * found shut off.  Once, after the state is loaded. */
void vnic_daemon_autostart(VnicDaemon *daemon);

/* daemon-commands.c */
extern const VnicApiCommand vnic_daemon_commands[];
extern const gsize vnic_daemon_n_commands;

/* daemon-lifecycle.c: start, destroy, shutdown, re-attach */
void vnic_domain_start_job(VnicDomain *dom, VnicApiRequest *request);
void vnic_domain_destroy_job(VnicDomain *dom, VnicApiRequest *request);
/* The destroy command: pre-empts a job that holds a running domain. */
void vnic_domain_destroy(VnicDomain *dom, VnicApiRequest *request);
void vnic_domain_shutdown_job(VnicDomain *dom, VnicApiRequest *request);
void vnic_state_load_status(VnicDaemon *daemon);
/* Frees a domain when the daemon exits: QEMU keeps running. */
void vnic_domain_release(VnicDomain *dom);
gint vnic_daemon_process_pid(const VnicDomain *dom);

G_END_DECLS
