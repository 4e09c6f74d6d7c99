/* e2e-cmd.h: child processes with timeouts (QEMU, vnicd, the vnic CLI).
 *
 * E2eChild is a spawned process whose exit can be polled or waited for with
 * a timeout; its stdout and stderr go to files (no pipes to drain, nothing
 * to deadlock on).  E2eCmdResult is what a finished command printed and how
 * it ended.  Nothing here waits without a timeout.
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _E2eChild E2eChild;

/* Spawns argv[0] (looked up in PATH when it has no '/'), stdin /dev/null,
 * stdout to `out_path`, stderr to `err_path` (both appended to; NULL:
 * stderr to `out_path` too; out_path NULL: /dev/null). */
E2eChild *e2e_child_spawn(const char *const *argv, const char *out_path, const char *err_path,
                          GError **error);
/* The same with extra environment variables ("NAME=VALUE", NULL-terminated). */
E2eChild *e2e_child_spawn_env(const char *const *argv, const char *const *env_add,
                              const char *out_path, const char *err_path, GError **error);
GPid e2e_child_pid(E2eChild *child);
/* Without blocking: has it exited? */
gboolean e2e_child_exited(E2eChild *child);
/* Waits up to `timeout_s`; TRUE when it has exited. */
gboolean e2e_child_wait(E2eChild *child, double timeout_s);
/* After exit: the exit code, or -1 when it was killed by a signal. */
int e2e_child_exit_code(E2eChild *child);
/* "exit 0", "killed by signal 9 (Killed)", "running". */
char *e2e_child_describe_exit(E2eChild *child);
void e2e_child_signal(E2eChild *child, int signum);
/* SIGKILLs it when still running and reaps it. */
void e2e_child_free(E2eChild *child);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eChild, e2e_child_free)

typedef struct {
    char *command;      /* the argv, shell-quoted, for messages */
    int status;         /* exit code; -1: killed by a signal, timed out, or not started */
    gboolean timed_out; /* it was killed because it ran out of time */
    char *out;          /* stdout ("" when none) */
    char *err;          /* stderr, or why it could not be started */
} E2eCmdResult;

void e2e_cmd_result_free(E2eCmdResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eCmdResult, e2e_cmd_result_free)
/* "COMMAND: exit N\n--- stdout\n…\n--- stderr\n…", for failure messages. */
char *e2e_cmd_result_describe(const E2eCmdResult *result);

/* A command running in the background. */
typedef struct _E2eCmd E2eCmd;
E2eCmd *e2e_cmd_spawn(const char *const *argv);  /* never NULL: a spawn failure shows in the result */
gboolean e2e_cmd_done(E2eCmd *cmd);              /* without blocking */
/* Waits up to `timeout_s` (then SIGKILLs it: timed_out), frees `cmd`. */
E2eCmdResult *e2e_cmd_finish(E2eCmd *cmd, double timeout_s);
void e2e_cmd_free(E2eCmd *cmd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eCmd, e2e_cmd_free)

/* e2e_cmd_spawn() + e2e_cmd_finish(). */
E2eCmdResult *e2e_cmd_run(const char *const *argv, double timeout_s);
/* The same with the words as arguments (NULL-terminated): `first` is the program. */
E2eCmdResult *e2e_cmd_run_args(double timeout_s, const char *first, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
