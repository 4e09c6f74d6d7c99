/* daemon-main.c: vnicd's entry point — options, sockets, the main loop.
 *
 * SIGTERM and SIGINT stop the daemon, not the guests: QEMU processes run in
 * their own sessions and are re-attached by the next vnicd from the status
 * files.  Nothing here is specific to a domain.
 */
#include "daemon/daemon-nic.h"

#include <glib-unix.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DEFAULT_STATE_DIR "/var/lib/vnic"
#define DEFAULT_RUN_DIR "/run/vnic"
#define DEFAULT_QEMU_USER "vnic-qemu"

static gboolean
on_quit_signal(gpointer data)
{
    VnicDaemon *daemon = data;

    g_message("signal received, exiting (guests keep running)");
    g_main_loop_quit(daemon->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean
parse_options(int *argc, char ***argv, VnicDaemonOptions *o, GError **error)
{
    GOptionEntry entries[] = {
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->state_dir,
          "persistent state: domain configs (default " DEFAULT_STATE_DIR ")", "DIR" },
        { "run-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->run_dir,
          "runtime state: status, sockets, logs (default " DEFAULT_RUN_DIR ")", "DIR" },
        { "socket", 0, 0, G_OPTION_ARG_FILENAME, &o->socket_path,
          "control socket (default RUN-DIR/vnicd.sock)", "PATH" },
        { "ro-socket", 0, 0, G_OPTION_ARG_FILENAME, &o->ro_socket_path,
          "read-only socket (default: the control socket's name with -ro)", "PATH" },
        { "qemu-user", 0, 0, G_OPTION_ARG_STRING, &o->qemu_user,
          "user QEMU runs as (default " DEFAULT_QEMU_USER "; 'root' runs it unconfined)", "USER" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);

    g_option_context_set_summary(ctx, "vnicd: runs QEMU guests and owns their network interfaces.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
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
    if (!o->qemu_user)
        o->qemu_user = g_strdup(DEFAULT_QEMU_USER);
    return TRUE;
}

static gboolean
resolve_qemu_user(VnicDaemon *daemon, GError **error)
{
    struct passwd *pw = getpwnam(daemon->opts.qemu_user);

    if (!pw) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                    "user '%s' for QEMU does not exist: create it (scripts/deps.sh does) "
                    "or pass --qemu-user", daemon->opts.qemu_user);
        return FALSE;
    }
    daemon->qemu_uid = pw->pw_uid;
    daemon->qemu_gid = pw->pw_gid;
    return TRUE;
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
    if (!resolve_qemu_user(daemon, error))
        return FALSE;
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
}

int
main(int argc, char **argv)
{
    VnicDaemon daemon = { 0 };
    g_autoptr(GError) error = NULL;
    int status = EXIT_SUCCESS;

    daemon.domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)vnic_domain_release);
    daemon.loop = g_main_loop_new(NULL, FALSE);
    if (!parse_options(&argc, &argv, &daemon.opts, &error) || !setup(&daemon, &error)) {
        fprintf(stderr, "vnicd: %s\n", error->message);
        status = EXIT_FAILURE;
    } else {
        g_unix_signal_add(SIGTERM, on_quit_signal, &daemon);
        g_unix_signal_add(SIGINT, on_quit_signal, &daemon);
        g_message("vnicd %s serving %s", VNIC_VERSION, daemon.opts.socket_path);
        g_main_loop_run(daemon.loop);
    }
    teardown(&daemon);
    return status;
}
