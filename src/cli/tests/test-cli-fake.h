/* test-cli-fake.h: a scripted fake vnicd and a runner for the vnic binary,
 * shared by the CLI tests. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct _FakeVnicd FakeVnicd;

/* Listens on a new unix socket in a temporary directory, answering from a
 * thread: each request line is recorded, then answered from the script of
 * its command ("CommandNotFound" when there is none). */
FakeVnicd *fake_vnicd_new(void);
void fake_vnicd_free(FakeVnicd *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeVnicd, fake_vnicd_free)

const char *fake_vnicd_socket(FakeVnicd *fake);
/* The temporary directory the socket is in (tests may put files there). */
const char *fake_vnicd_dir(FakeVnicd *fake);

/* Script for @command: @reply is a JSON object text, {"return": …} or
 * {"error": …}, sent with the request's id added (unless @reply has an
 * "id" member already or is not JSON: then as is).  @before (may be NULL)
 * is sent first, raw lines.  @after (may be NULL) is sent after the reply,
 * raw lines.  @reply NULL: hang up instead of answering. */
void fake_vnicd_script(FakeVnicd *fake, const char *command, const char *reply,
                       const char *before, const char *after);
/* After the script's lines: close the connection (TRUE) or keep it open
 * until the client closes it (FALSE, the default). */
void fake_vnicd_hang_up_after(FakeVnicd *fake, gboolean hang_up);

/* Requests received so far. */
guint fake_vnicd_n_requests(FakeVnicd *fake);
/* The arguments of the last @command request (an empty object if it had
 * none), or NULL if none came; the caller owns it. */
JsonObject *fake_vnicd_last_arguments(FakeVnicd *fake, const char *command);

/* One run of the vnic binary ($VNIC_CLI). */
typedef struct {
    int status;                /* exit status, or -1 when it did not exit */
    char *out;
    char *err;
} CliRun;

void cli_run_free(CliRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliRun, cli_run_free)

/* Runs vnic with @args (NULL-terminated) in @cwd (NULL: the test's), with
 * $VNIC_SOCKET set to @env_socket (NULL: unset), TZ=UTC, LC_ALL=C. */
CliRun *cli_run(const char *env_socket, const char *cwd, const char *const *args);
/* cli_run with -c @socket before @args. */
CliRun *cli_run_c(const char *socket, const char *const *args);

/* Asserts exit status @status; on failure shows stdout and stderr. */
void cli_assert_status(const CliRun *run, int status);
/* Asserts an error: @status, nothing on stdout, stderr one line starting
 * with @prefix. */
void cli_assert_error(const CliRun *run, int status, const char *prefix);
