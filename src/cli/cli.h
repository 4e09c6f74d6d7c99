/* cli.h: the vnic command line, one function per verb.
 *
 *   vnic [-c SOCKET] VERB [OPTION…] [ARG…]
 *
 * Each verb takes the global settings and its own argv (argv[0] is the
 * verb), prints its result on stdout and returns the process exit status.
 * Errors go to stderr as one line "vnic VERB: message" (a daemon error as
 * "vnic VERB: Class: desc", the class being the API's error class); nothing
 * is printed on stdout then.  `events` streams: the events it printed stay
 * printed when it fails later.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli/cli-client.h"
#include "pci/pci-plan.h"

/* Exit statuses scripts can rely on (also in `vnic --help`). */
enum {
    VNIC_CLI_EXIT_OK = 0,
    VNIC_CLI_EXIT_FAILED = 1,      /* vnicd refused the request, or it failed */
    VNIC_CLI_EXIT_USAGE = 2,       /* bad command line */
    VNIC_CLI_EXIT_UNREACHABLE = 3, /* cannot reach vnicd: socket missing, refused, … */
};

/* What comes before the verb. */
typedef struct {
    const char *socket;            /* -c, else $VNIC_SOCKET, else the default */
} VnicCliContext;

/* cli-plan.c: offline */
int vnic_cli_plan(const VnicCliContext *ctx, int argc, char **argv);
/* cli-nextnic.c: offline, companion mode (docs/companion.md) */
int vnic_cli_next_nic(const VnicCliContext *ctx, int argc, char **argv);
/* cli-define.c */
int vnic_cli_define(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_create(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_autostart(const VnicCliContext *ctx, int argc, char **argv);
/* cli-lifecycle.c */
int vnic_cli_undefine(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_start(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_destroy(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_shutdown(const VnicCliContext *ctx, int argc, char **argv);
/* cli-query.c */
int vnic_cli_list(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_dumpxml(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_domiflist(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_pci(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_vncdisplay(const VnicCliContext *ctx, int argc, char **argv);
/* cli-hotplug.c */
int vnic_cli_attach_interface(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_attach_device(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_detach_interface(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_detach_device(const VnicCliContext *ctx, int argc, char **argv);
/* cli-link.c */
int vnic_cli_domif_getlink(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_domif_setlink(const VnicCliContext *ctx, int argc, char **argv);
/* cli-ifinfo.c */
int vnic_cli_domifstat(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_domiftune(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_domifaddr(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_qemu_monitor_command(const VnicCliContext *ctx, int argc, char **argv);
/* cli-domain.c */
int vnic_cli_dominfo(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_domstate(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_suspend(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_resume(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_reboot(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_update_device(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_console(const VnicCliContext *ctx, int argc, char **argv);
/* cli-events.c */
int vnic_cli_events(const VnicCliContext *ctx, int argc, char **argv);

/* cli-network.c */
int vnic_cli_net_define(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_net_undefine(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_net_start(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_net_destroy(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_net_autostart(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_net_list(const VnicCliContext *ctx, int argc, char **argv);
int vnic_cli_net_dumpxml(const VnicCliContext *ctx, int argc, char **argv);

/* cli-main.c: prints "vnic VERB: message" on stderr and returns @status. */
int vnic_cli_fail(const char *verb, int status, const char *message);
int vnic_cli_failf(const char *verb, int status, const char *format, ...) G_GNUC_PRINTF(3, 4);

/* cli-util.c: a verb's options.  Parses @argc and @argv with @entries (may
 * be NULL) plus -h/--help and expects @n_args arguments after the verb
 * (@args_text says which in the usage line, @args_what in the error).
 * Returns TRUE to go on; FALSE with *@status set when it printed the help
 * (OK) or an error (USAGE). */
typedef struct {
    const char *verb;
    const char *args_text;         /* "DOM", "FILE", "" */
    const char *args_what;         /* "a domain name", … */
    guint n_args;
    const char *summary;
} VnicCliVerbSpec;

gboolean vnic_cli_parse_options(const VnicCliVerbSpec *spec, const GOptionEntry *entries,
                                int *argc, char ***argv, int *status);
/* The same for verbs with virsh's optional positionals: @spec->n_args to
 * @max_args arguments. */
gboolean vnic_cli_parse_options_upto(const VnicCliVerbSpec *spec, const GOptionEntry *entries,
                                     guint max_args, int *argc, char ***argv, int *status);

/* cli-util.c: connects to ctx->socket; on failure prints the error and
 * sets *@status (UNREACHABLE). */
VnicCliClient *vnic_cli_connect(const VnicCliContext *ctx, const char *verb, int *status);

/* cli-util.c: runs @command (arguments borrowed, may be NULL) on a new
 * connection.  Returns the exit status; *@ret gets the return value on
 * success.  Prints every error. */
int vnic_cli_call(const VnicCliContext *ctx, const char *verb, const char *command,
                  JsonObject *arguments, JsonNode **ret);

/* cli-util.c: the exit status for a client error, after printing it;
 * @daemon_class is the API error class for DAEMON errors. */
int vnic_cli_report(const char *verb, const GError *error, const char *daemon_class);

/* cli-util.c: @node as pretty JSON on stdout. */
void vnic_cli_print_json(JsonNode *node);

/* cli-slotmap.c: the slot map (vnic_pci_slot_map_to_json) as the table of
 * `vnic plan --names` and `vnic pci`.  FALSE, printing nothing, when @map
 * does not have the expected shape. */
gboolean vnic_cli_print_slot_map(JsonNode *map);

/* cli-util.c: typed reads of untrusted JSON; NULL / FALSE when the member
 * is absent or of another type. */
const char *vnic_cli_json_string(JsonObject *obj, const char *member);
gboolean vnic_cli_json_int(JsonObject *obj, const char *member, gint64 *out);
gboolean vnic_cli_json_bool(JsonObject *obj, const char *member, gboolean *out);
JsonObject *vnic_cli_json_object(JsonNode *node);

/* cli-plan.c: checks --policy (NULL: not given, *@ret_policy untouched) and
 * --spare-ports (-1: not given, else 0…255), as plan and define take them. */
gboolean vnic_cli_check_plan_options(const char *policy, gint spare_ports,
                                     VnicPciPolicy *ret_policy, GError **error);

/* vnic's XML namespace (docs/xml.md). */
#define VNIC_CLI_VNIC_NS "urn:x-vnic:domain:1"

/* cli-libvirt.c: @xml without vnic's own elements, attributes and namespace
 * declarations, and with @aliases without any <alias> (live data), as
 * libvirt takes it; NULL with @error for malformed XML. */
char *vnic_cli_libvirt_strip(const char *xml, gsize len, gboolean aliases, GError **error);
/* cli-libvirt.c: `virsh [-c @uri] dumpxml [--inactive] @domain`'s output;
 * @uri NULL: virsh's default.  The error carries virsh's message. */
char *vnic_cli_virsh_dumpxml(const char *uri, const char *domain, gboolean inactive,
                             GError **error);

/* cli-table.c: a text table.  @headers is NULL-terminated and fixes the
 * number of columns; @min_widths (may be NULL) one per column.  Empty or
 * NULL cells print as "-". */
typedef struct _VnicCliTable VnicCliTable;
VnicCliTable *vnic_cli_table_new(const char *indent, const char *sep, const char *const *headers,
                                 const guint *min_widths);
void vnic_cli_table_free(VnicCliTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicCliTable, vnic_cli_table_free)
void vnic_cli_table_add(VnicCliTable *table, const char *const *cells);
void vnic_cli_table_print(const VnicCliTable *table);
