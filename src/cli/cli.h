/* cli.h: the vnic command line, one function per verb.
 *
 * Each verb takes its own argv (argv[0] is the verb), prints its result on
 * stdout and returns the process exit status.  Errors go to stderr as one
 * line "vnic VERB: message"; nothing is printed on stdout then.
 */
#pragma once

#include <glib.h>

/* Exit statuses scripts can rely on. */
enum {
    VNIC_CLI_EXIT_OK = 0,
    VNIC_CLI_EXIT_FAILED = 1,   /* the request was refused or failed */
    VNIC_CLI_EXIT_USAGE = 2,    /* bad command line */
};

int vnic_cli_plan(int argc, char **argv);

/* Prints "vnic VERB: message" on stderr and returns @status. */
int vnic_cli_fail(const char *verb, int status, const char *message);
