/* daemon-main.c: vnicd's entry point — options, the config file, logging,
 * sockets, the main loop.
 *
 * Every setting comes from the command line, else from the config file
 * (GKeyFile, group [vnicd], keys named like the long options; default
 * VNIC_DEFAULT_CONFIG, which may be missing), else from the defaults below.
 * Logs go to the journal when stderr is connected to it (vnicd under
 * systemd), else to stderr, filtered by --log-level.
 *
 * SIGTERM and SIGINT stop the daemon, not the guests: QEMU processes run in
 * their own sessions and are re-attached by the next vnicd from the status
 * files.  Nothing here is specific to a domain.
 */
#include "daemon/daemon-lifecycle.h"
#include "daemon/daemon-nic.h"

#include <glib-unix.h>
#include <libxml/parser.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define DEFAULT_STATE_DIR "/var/lib/vnic"
#define DEFAULT_RUN_DIR "/run/vnic"
/* Per-domain uids and gids: above every id /etc/login.defs gives users
 * (UID_MAX 60000) and systemd's own (homed 60001-60513, DynamicUser
 * 61184-65519, nobody 65534, 16-bit -1 65535), below the subordinate ids
 * useradd hands out for rootless containers (SUB_UID_MIN 100000) and
 * systemd's container range (524288 and up).  docs/security.md. */
#define DEFAULT_QEMU_UID_RANGE "65536-99999"
#define DEFAULT_LOG_LEVEL "message"
#ifndef VNIC_DEFAULT_CONFIG
#define VNIC_DEFAULT_CONFIG "/etc/vnic/vnicd.conf"
#endif
#define CONFIG_GROUP "vnicd"

/* What only main() needs: how to find the config, how much to log. */
typedef struct {
    char *config_file;        /* --config; NULL: VNIC_DEFAULT_CONFIG if it exists */
    char *log_level;
    gboolean version;
} MainOptions;

/* Messages more severe than or as severe as this are written. */
static GLogLevelFlags log_threshold = G_LOG_LEVEL_MESSAGE;
/* stderr is connected to the journal (vnicd under systemd) */
static gboolean log_to_journal;
/* stderr is a terminal: colour in the log lines */
static gboolean log_in_colour;

static const struct {
    const char *name;
    GLogLevelFlags level;
} log_levels[] = {
    { "critical", G_LOG_LEVEL_CRITICAL },
    { "warning", G_LOG_LEVEL_WARNING },
    { "message", G_LOG_LEVEL_MESSAGE },
    { "info", G_LOG_LEVEL_INFO },
    { "debug", G_LOG_LEVEL_DEBUG },
};

static gboolean
on_quit_signal(gpointer data)
{
    VnicDaemon *daemon = data;

    g_message("signal received, exiting (guests keep running)");
    g_main_loop_quit(daemon->loop);
    return G_SOURCE_CONTINUE;
}

/* Every guest costs fds (QMP, taps, console) and every client one: the
 * soft limit of 1024 runs out long before the hard one.  The API's
 * connection caps keep clients well below what this gives. */
static void
raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        g_warning("raising the fd limit to %llu: %s", (unsigned long long)rl.rlim_max,
                  g_strerror(errno));
}

static gboolean
log_level_from_string(const char *text, GLogLevelFlags *level)
{
    for (gsize i = 0; i < G_N_ELEMENTS(log_levels); i++) {
        if (g_ascii_strcasecmp(text, log_levels[i].name) == 0) {
            *level = log_levels[i].level;
            return TRUE;
        }
    }
    return FALSE;
}

#define LOG_LEVEL_NAMES "critical, warning, message, info or debug"

/* g_log_writer_standard_streams() as vnicd sets it up (everything to
 * stderr), the same line, but without asking the terminal each time
 * whether it takes colour (an ioctl per line, five lines per NIC attach):
 * vnicd's stderr does not change while it runs. */
static GLogWriterOutput
write_log_stderr(GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
    g_autofree char *line = NULL;

    if (fileno(stderr) < 0)
        return G_LOG_WRITER_UNHANDLED;
    line = g_log_writer_format_fields(level, fields, n_fields, log_in_colour);
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

/* GLib numbers levels by bit: the lower the bit, the more severe.  Errors
 * and criticals are always written. */
static GLogWriterOutput
write_log(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    GLogLevelFlags severity = level & G_LOG_LEVEL_MASK;

    if (severity > log_threshold && severity > G_LOG_LEVEL_CRITICAL)
        return G_LOG_WRITER_HANDLED;
    if (log_to_journal &&
        g_log_writer_journald(level, fields, n_fields, data) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;
    return write_log_stderr(level, fields, n_fields);
}

/* An integer option not given on the command line. */
#define OPTION_UNSET G_MININT

static gboolean
check_option_range(const char *name, gint value, gint min, gint max, GError **error)
{
    if (value == OPTION_UNSET || (value >= min && value <= max))
        return TRUE;
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--%s must be %d to %d, not %d",
                name, min, max, value);
    return FALSE;
}

static gboolean
parse_options(int *argc, char ***argv, VnicDaemonOptions *o, MainOptions *m, GError **error)
{
    gint spare_ports = OPTION_UNSET, shutdown_timeout = OPTION_UNSET, unplug_timeout = OPTION_UNSET;
    GOptionEntry entries[] = {
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &m->config_file,
          "config file (default " VNIC_DEFAULT_CONFIG ", if it exists)", "FILE" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->state_dir,
          "persistent state: domain configs (default " DEFAULT_STATE_DIR ")", "DIR" },
        { "run-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->run_dir,
          "runtime state: status, sockets, logs (default " DEFAULT_RUN_DIR ")", "DIR" },
        { "socket", 0, 0, G_OPTION_ARG_FILENAME, &o->socket_path,
          "control socket (default RUN-DIR/vnicd.sock)", "PATH" },
        { "ro-socket", 0, 0, G_OPTION_ARG_FILENAME, &o->ro_socket_path,
          "read-only socket (default: the control socket's name with -ro)", "PATH" },
        { "qemu-user", 0, 0, G_OPTION_ARG_STRING, &o->qemu_user,
          "every QEMU runs as this user ('root': unconfined; default: each QEMU its own "
          "uid from --qemu-uid-range)", "USER" },
        { "qemu-uid-range", 0, 0, G_OPTION_ARG_STRING, &o->qemu_uid_range,
          "uids (and gids) QEMUs get, one per domain (default " DEFAULT_QEMU_UID_RANGE ")",
          "START-END" },
        { "spare-ports", 0, 0, G_OPTION_ARG_INT, &spare_ports,
          "q35 root ports define keeps free for hot-plug under nic-first (default 8)", "N" },
        { "shutdown-timeout", 0, 0, G_OPTION_ARG_INT, &shutdown_timeout,
          "seconds shutdown waits for a guest by default (default 60)", "SECONDS" },
        { "unplug-timeout", 0, 0, G_OPTION_ARG_INT, &unplug_timeout,
          "seconds detach waits for a guest to release a NIC by default (default 5)", "SECONDS" },
        { "log-level", 0, 0, G_OPTION_ARG_STRING, &m->log_level,
          "critical, warning, message (default), info or debug", "LEVEL" },
        { "version", 'v', 0, G_OPTION_ARG_NONE, &m->version, "print vnicd's version and exit",
          NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);

    g_option_context_set_summary(ctx, "vnicd: runs QEMU guests and owns their network interfaces.");
    g_option_context_set_description(ctx, "Options override the config file; see vnicd(8).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
    if (*argc > 1) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument '%s'",
                    (*argv)[1]);
        return FALSE;
    }
    if (!check_option_range("spare-ports", spare_ports, 0, 255, error) ||
        !check_option_range("shutdown-timeout", shutdown_timeout, 1, 3600, error) ||
        !check_option_range("unplug-timeout", unplug_timeout, 1, 3600, error))
        return FALSE;
    if (m->log_level && !log_level_from_string(m->log_level, &(GLogLevelFlags){ 0 })) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--log-level must be " LOG_LEVEL_NAMES ", not '%s'", m->log_level);
        return FALSE;
    }
    o->spare_ports = spare_ports == OPTION_UNSET ? -1 : spare_ports;
    o->shutdown_timeout_s = shutdown_timeout == OPTION_UNSET ? 0 : (guint)shutdown_timeout;
    o->unplug_timeout_s = unplug_timeout == OPTION_UNSET ? 0 : (guint)unplug_timeout;
    return TRUE;
}

/* The config file's keys, in the order of the shipped vnicd.conf. */
static const char *const config_keys[] = {
    "state-dir", "run-dir", "socket", "ro-socket", "qemu-uid-range", "qemu-user", "spare-ports",
    "shutdown-timeout", "unplug-timeout", "log-level", NULL,
};

/* Sets *@target to the key's value unless the command line set it. */
static gboolean
config_string(GKeyFile *kf, const char *file, const char *key, char **target, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *value = NULL;

    if (!g_key_file_has_key(kf, CONFIG_GROUP, key, NULL))
        return TRUE;
    value = g_key_file_get_string(kf, CONFIG_GROUP, key, &local);
    if (!value || !*value) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "%s: key '%s': %s", file, key, local ? local->message : "empty value");
        return FALSE;
    }
    if (!*target)
        *target = g_steal_pointer(&value);
    return TRUE;
}

/* Sets *@target to the key's value unless the command line set it (it
 * holds @unset). */
static gboolean
config_int(GKeyFile *kf, const char *file, const char *key, gint min, gint max, gint unset,
           gint *target, GError **error)
{
    g_autoptr(GError) local = NULL;
    gint value;

    if (!g_key_file_has_key(kf, CONFIG_GROUP, key, NULL))
        return TRUE;
    value = g_key_file_get_integer(kf, CONFIG_GROUP, key, &local);
    if (local || value < min || value > max) {
        g_autofree char *text = g_key_file_get_value(kf, CONFIG_GROUP, key, NULL);
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "%s: key '%s' must be a number from %d to %d, not '%s'", file, key, min, max,
                    text ? text : "");
        return FALSE;
    }
    if (*target == unset)
        *target = value;
    return TRUE;
}

static gboolean
check_config_keys(GKeyFile *kf, const char *file, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    g_auto(GStrv) keys = NULL;

    for (gsize i = 0; groups[i]; i++) {
        if (strcmp(groups[i], CONFIG_GROUP) != 0) {
            g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                        "%s: unknown group [%s] (vnicd reads [" CONFIG_GROUP "])", file,
                        groups[i]);
            return FALSE;
        }
    }
    keys = g_key_file_get_keys(kf, CONFIG_GROUP, NULL, NULL);
    for (gsize i = 0; keys && keys[i]; i++) {
        if (!g_strv_contains(config_keys, keys[i])) {
            g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                        "%s: unknown key '%s' in [" CONFIG_GROUP "]", file, keys[i]);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
config_log_level(GKeyFile *kf, const char *file, GError **error)
{
    g_autofree char *value = g_key_file_get_string(kf, CONFIG_GROUP, "log-level", NULL);

    if (value && !log_level_from_string(value, &(GLogLevelFlags){ 0 })) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "%s: key 'log-level' must be " LOG_LEVEL_NAMES ", not '%s'", file, value);
        return FALSE;
    }
    return TRUE;
}

/* Fills what the command line left unset from the config file.  The
 * default file may be missing; one named by --config must exist. */
static gboolean
load_config(VnicDaemonOptions *o, MainOptions *m, GError **error)
{
    const char *file = m->config_file ? m->config_file : VNIC_DEFAULT_CONFIG;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    gint shutdown_timeout = (gint)o->shutdown_timeout_s, unplug_timeout = (gint)o->unplug_timeout_s;

    if (!g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, &local)) {
        if (!m->config_file && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC, "config file %s: %s",
                    file, local->message);
        return FALSE;
    }
    if (!check_config_keys(kf, file, error) || !config_log_level(kf, file, error) ||
        !config_string(kf, file, "state-dir", &o->state_dir, error) ||
        !config_string(kf, file, "run-dir", &o->run_dir, error) ||
        !config_string(kf, file, "socket", &o->socket_path, error) ||
        !config_string(kf, file, "ro-socket", &o->ro_socket_path, error) ||
        !config_string(kf, file, "qemu-user", &o->qemu_user, error) ||
        !config_string(kf, file, "qemu-uid-range", &o->qemu_uid_range, error) ||
        !config_string(kf, file, "log-level", &m->log_level, error) ||
        !config_int(kf, file, "spare-ports", 0, 255, -1, &o->spare_ports, error) ||
        !config_int(kf, file, "shutdown-timeout", 1, 3600, 0, &shutdown_timeout, error) ||
        !config_int(kf, file, "unplug-timeout", 1, 3600, 0, &unplug_timeout, error))
        return FALSE;
    o->shutdown_timeout_s = (guint)shutdown_timeout;
    o->unplug_timeout_s = (guint)unplug_timeout;
    return TRUE;
}

/* The log level: --log-level, else the config's, else debug when
 * G_MESSAGES_DEBUG asks for it, else message. */
static void
setup_logging(const MainOptions *m)
{
    const char *level = m->log_level;
    const char *env = g_getenv("G_MESSAGES_DEBUG");

    if (!level)
        level = env && *env ? "debug" : DEFAULT_LOG_LEVEL;
    if (!log_level_from_string(level, &log_threshold))
        g_assert_not_reached(); /* checked by parse_options() and load_config() */
    log_to_journal = g_log_writer_is_journald(fileno(stderr));
    log_in_colour = fileno(stderr) >= 0 && g_log_writer_supports_color(fileno(stderr));
    /* a daemon's stdout is no log: info and debug go to stderr too */
    g_log_writer_default_set_use_stderr(TRUE);
    g_log_set_writer_func(write_log, NULL, NULL);
}

/* The defaults for what neither the command line nor the config set. */
static void
fill_defaults(VnicDaemonOptions *o)
{
    if (!o->state_dir)
        o->state_dir = g_strdup(DEFAULT_STATE_DIR);
    if (!o->run_dir)
        o->run_dir = g_strdup(DEFAULT_RUN_DIR);
    if (!o->socket_path)
        o->socket_path = g_build_filename(o->run_dir, "vnicd.sock", NULL);
    if (!o->ro_socket_path) {
        g_autofree char *base = g_str_has_suffix(o->socket_path, ".sock")
                                    ? g_strndup(o->socket_path, strlen(o->socket_path) - 5)
                                    : g_strdup(o->socket_path);
        o->ro_socket_path = g_strconcat(base, "-ro.sock", NULL);
    }
    /* qemu-user is the single-user mode: no range then */
    if (!o->qemu_uid_range && !o->qemu_user)
        o->qemu_uid_range = g_strdup(DEFAULT_QEMU_UID_RANGE);
}

static gboolean
setup(VnicDaemon *daemon, GError **error)
{
    g_autofree char *sock_dir = g_path_get_dirname(daemon->opts.socket_path);

    if (g_mkdir_with_parents(daemon->opts.run_dir, 0755) < 0 ||
        g_mkdir_with_parents(daemon->opts.state_dir, 0700) < 0 ||
        g_mkdir_with_parents(sock_dir, 0755) < 0) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "creating %s or %s: %s", daemon->opts.run_dir, daemon->opts.state_dir,
                    g_strerror(errno));
        return FALSE;
    }
    if (!vnic_daemon_qemu_ids_setup(daemon, error))
        return FALSE;
    raise_fd_limit();
    daemon->api = vnic_api_server_new(vnic_daemon_commands, vnic_daemon_n_commands, daemon);
    /* the host's links before the state: a NIC that was waiting for its
     * host device when vnicd stopped finds it (or not) at re-attach */
    if (!vnic_daemon_heal_start(daemon, error))
        return FALSE;
    /* state first: a restarted daemon answers with its guests re-attached */
    if (!vnic_state_load(daemon, error))
        return FALSE;
    if (!vnic_api_server_listen(daemon->api, daemon->opts.socket_path, FALSE, 0600, error) ||
        !vnic_api_server_listen(daemon->api, daemon->opts.ro_socket_path, TRUE, 0666, error))
        return FALSE;
    vnic_api_server_start(daemon->api);
    vnic_daemon_autostart(daemon);
    return TRUE;
}

static void
teardown(VnicDaemon *daemon)
{
    g_clear_pointer(&daemon->api, vnic_api_server_free);
    g_clear_pointer(&daemon->domains, g_hash_table_unref);
    vnic_daemon_heal_stop(daemon);
    vnic_networks_free(daemon);
    g_clear_pointer(&daemon->loop, g_main_loop_unref);
    g_free(daemon->opts.state_dir);
    g_free(daemon->opts.run_dir);
    g_free(daemon->opts.socket_path);
    g_free(daemon->opts.ro_socket_path);
    g_free(daemon->opts.qemu_user);
    g_free(daemon->opts.qemu_uid_range);
    vnic_daemon_qemu_ids_free(daemon);
}

int
main(int argc, char **argv)
{
    VnicDaemon daemon = { 0 };
    MainOptions m = { 0 };
    g_autoptr(GError) error = NULL;
    int status = EXIT_SUCCESS;

    /* before any thread: defines parse in threads (daemon-define.c), and
     * libxml2's lazy global set-up is not safe to race */
    xmlInitParser();
    /* glibc gives the top of the heap back to the kernel once 128 KiB of it
     * are free, and formatting a big domain (dumpxml, the stored config)
     * builds and frees a tree of a few MiB: every dumpxml of 500 NICs then
     * faulted its heap in again (a third of its CPU time).  Keep up to
     * 4 MiB (docs/performance.md, "Define and dumpxml"). */
    mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
    /* and setting that stops glibc from raising its mmap threshold (128 KiB)
     * as it would: the text of a big domain (dumpxml, 100 KiB and growing
     * by doubling) and its JSON reply were fresh mmaps, faulted in page by
     * page on every call (13 % of dumpxml's CPU).  Up to 4 MiB from the
     * heap, which keeps them. */
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    daemon.domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)vnic_domain_release);
    daemon.loop = g_main_loop_new(NULL, FALSE);
    if (!parse_options(&argc, &argv, &daemon.opts, &m, &error)) {
        fprintf(stderr, "vnicd: %s (vnicd --help lists the options)\n", error->message);
        status = EXIT_FAILURE;
    } else if (m.version) {
        printf("vnicd %s\n", VNIC_VERSION);
    } else if (!load_config(&daemon.opts, &m, &error)) {
        fprintf(stderr, "vnicd: %s\n", error->message);
        status = EXIT_FAILURE;
    } else if (setup_logging(&m), fill_defaults(&daemon.opts), !setup(&daemon, &error)) {
        g_warning("cannot start: %s", error->message);
        status = EXIT_FAILURE;
    } else {
        g_unix_signal_add(SIGTERM, on_quit_signal, &daemon);
        g_unix_signal_add(SIGINT, on_quit_signal, &daemon);
        g_message("vnicd %s serving %s", VNIC_VERSION, daemon.opts.socket_path);
        g_main_loop_run(daemon.loop);
    }
    teardown(&daemon);
    g_free(m.config_file);
    g_free(m.log_level);
    return status;
}
