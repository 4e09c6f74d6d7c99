/* test-cli-run.c: runs the vnic binary under test and checks what it did
 * (test-cli-fake.h).  The binary is $VNIC_CLI, set by meson. */
#include "test-cli-fake.h"

#include <string.h>
#include <sys/wait.h>

void
cli_run_free(CliRun *run)
{
    if (run == NULL)
        return;
    g_free(run->out);
    g_free(run->err);
    g_free(run);
}

static char **
child_environ(const char *env_socket)
{
    char **env = g_get_environ();

    env = g_environ_unsetenv(env, "VNIC_SOCKET");
    if (env_socket != NULL)
        env = g_environ_setenv(env, "VNIC_SOCKET", env_socket, TRUE);
    env = g_environ_setenv(env, "TZ", "UTC", TRUE);
    env = g_environ_setenv(env, "LC_ALL", "C", TRUE);
    return env;
}

CliRun *
cli_run(const char *env_socket, const char *cwd, const char *const *args)
{
    const char *vnic = g_getenv("VNIC_CLI");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_auto(GStrv) env = child_environ(env_socket);
    g_autoptr(GError) error = NULL;
    CliRun *run = g_new0(CliRun, 1);
    int wait_status;

    g_assert_nonnull(vnic);
    g_ptr_array_add(argv, (gpointer) vnic);
    for (guint i = 0; args[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer) args[i]);
    g_ptr_array_add(argv, NULL);
    g_spawn_sync(cwd, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &run->out,
                 &run->err, &wait_status, &error);
    g_assert_no_error(error);
    run->status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    return run;
}

CliRun *
cli_run_c(const char *socket, const char *const *args)
{
    g_autoptr(GPtrArray) full = g_ptr_array_new();

    g_ptr_array_add(full, (gpointer) "-c");
    g_ptr_array_add(full, (gpointer) socket);
    for (guint i = 0; args[i] != NULL; i++)
        g_ptr_array_add(full, (gpointer) args[i]);
    g_ptr_array_add(full, NULL);
    return cli_run(NULL, NULL, (const char *const *) full->pdata);
}

void
cli_assert_status(const CliRun *run, int status)
{
    if (run->status != status)
        g_error("vnic exited with %d, not %d\n--- stdout:\n%s--- stderr:\n%s", run->status,
                status, run->out, run->err);
}

void
cli_assert_error(const CliRun *run, int status, const char *prefix)
{
    cli_assert_status(run, status);
    g_assert_cmpstr(run->out, ==, "");
    if (!g_str_has_prefix(run->err, prefix))
        g_error("stderr \"%s\" does not start with \"%s\"", run->err, prefix);
    g_assert_nonnull(strchr(run->err, '\n'));
    g_assert_true(strchr(run->err, '\n')[1] == '\0');
}
