/* cli-main.c: `vnic [-c SOCKET] VERB …`: global options, dispatch, the
 * usage text and the shared error printer.
 *
 * Owns the choice of the control socket (-c, else $VNIC_SOCKET, else
 * VNIC_CLI_DEFAULT_SOCKET) and the exit status of a bad global command
 * line.  Verbs parse their own options.
 *
 * Built twice (meson.build): as vnic-full with every verb, and as the front
 * build/vnic (VNIC_CLI_FRONT), which links neither libxml2 nor the conf and
 * pci layers and hands the verbs that need them to vnic-full by exec, with
 * the same command line.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A verb that reads or writes domain XML: build/vnic, the front, leaves it
 * to vnic-full, which has libxml2 and the conf and pci layers (their
 * loading is most of a command's start-up; meson.build). */
#ifdef VNIC_CLI_FRONT
#define XML_VERB(run) NULL
#else
#define XML_VERB(run) run
#endif

typedef struct {
    const char *name;
    int (*run)(const VnicCliContext *ctx, int argc, char **argv);  /* NULL: vnic-full's */
    const char *synopsis;
    const char *summary;
} Verb;

static const Verb verbs[] = {
    { "define", XML_VERB(vnic_cli_define),
      "define FILE [--policy nic-first|libvirt] [--spare-ports N] [--json]",
      "store the domain in FILE (relative paths are made absolute)" },
    { "create", XML_VERB(vnic_cli_create),
      "create FILE [--policy nic-first|libvirt] [--spare-ports N] [--json]",
      "define and start a transient domain, undefined once it is shut off" },
    { "autostart", vnic_cli_autostart, "autostart DOM [--disable]",
      "start the domain whenever vnicd starts" },
    { "undefine", vnic_cli_undefine, "undefine DOM", "remove a domain that is shut off" },
    { "start", vnic_cli_start, "start DOM [--json]", "start a domain; returns once QEMU runs" },
    { "destroy", vnic_cli_destroy, "destroy DOM", "kill a domain's QEMU at once" },
    { "shutdown", vnic_cli_shutdown, "shutdown DOM [--timeout SECONDS]",
      "power a guest off and wait for it (vnicd's default: 60 s)" },
    { "dominfo", vnic_cli_dominfo, "dominfo DOM [--json]",
      "print a domain's name, UUID, state, pid, CPUs and memory" },
    { "domstate", vnic_cli_domstate, "domstate DOM [--reason] [--json]",
      "print a domain's state: running, paused, shut off" },
    { "suspend", vnic_cli_suspend, "suspend DOM", "pause a running domain (QMP stop)" },
    { "resume", vnic_cli_resume, "resume DOM", "let a paused domain run again (QMP cont)" },
    { "reboot", vnic_cli_reboot, "reboot DOM", "reset a running domain (QMP system_reset)" },
    { "console", XML_VERB(vnic_cli_console), "console DOM",
      "the running domain's serial console on this terminal; Ctrl-] ends it" },
    { "list", vnic_cli_list, "list [--all] [--name] [--json]",
      "list running domains, or all with --all" },
    { "dumpxml", vnic_cli_dumpxml,
      "dumpxml DOM [--inactive|--migratable] [--security-info] [--json]",
      "print a domain's XML" },
    { "domiflist", vnic_cli_domiflist, "domiflist DOM [--inactive] [--json]",
      "list a domain's NICs and, while it runs, each one's state (waiting (eth1), …)" },
    { "domif-getlink", vnic_cli_domif_getlink, "domif-getlink DOM IFACE [--json]",
      "print the link state the guest sees on a NIC: 'vnet0 up' or 'vnet0 down'" },
    { "domif-setlink", vnic_cli_domif_setlink, "domif-setlink DOM IFACE up|down",
      "set the link state the guest sees on a NIC (the running guest only)" },
    { "domifstat", vnic_cli_domifstat, "domifstat DOM IFACE [--json]",
      "print a running NIC's counters (rx_bytes … tx_drop), as virsh" },
    { "domiftune", XML_VERB(vnic_cli_domiftune),
      "domiftune DOM IFACE [--inbound AVG[,PEAK[,BURST]]] [--outbound …] [--live]\n"
      "    [--config] [--current] [--persistent] [--json]",
      "print or set a NIC's <bandwidth>; live at once by tc" },
    { "domifaddr", vnic_cli_domifaddr, "domifaddr DOM [IFACE] [--source arp|agent] [--json]",
      "print a running domain's NIC addresses (the host's neighbour table)" },
    { "qemu-monitor-command", vnic_cli_qemu_monitor_command,
      "qemu-monitor-command DOM [--hmp] [--pretty] CMD…",
      "send a QMP (or with --hmp a human monitor) command to a running QEMU" },
    { "vncdisplay", vnic_cli_vncdisplay, "vncdisplay DOM [--json]",
      "print where a running domain's VNC server listens (127.0.0.1:0)" },
    { "pci", vnic_cli_pci, "pci DOM [--json]",
      "print a domain's PCI slot map, guest names and the next NIC's slot" },
    { "attach-interface", XML_VERB(vnic_cli_attach_interface),
      "attach-interface DOM TYPE SOURCE [--mac MAC] [--model MODEL] [--target NAME]\n"
      "    [--alias ua-NAME] [--inbound AVG[,PEAK[,BURST]]] [--outbound …] [--acpi-index N]\n"
      "    [--live] [--config] [--current] [--persistent] [--print-xml] [--json]\n"
      "  attach-interface DOM --type ethernet|bridge|direct|network [--source DEV]\n"
      "    [--mode MODE] … (the same options; --domain DOM instead of DOM)\n"
      "  attach-interface DOM --replug --mac MAC [--live] [--config] [--json]",
      "hot-plug a new NIC, or re-attach the one detached earlier with that MAC" },
    { "attach-device", XML_VERB(vnic_cli_attach_device),
      "attach-device DOM FILE [--live] [--config] [--json]",
      "hot-plug the NIC described by the <interface> element in FILE" },
    { "detach-interface", XML_VERB(vnic_cli_detach_interface),
      "detach-interface DOM [TYPE] (--mac MAC | --target NAME) [--timeout SECONDS]\n"
      "    [--live] [--config] [--current] [--persistent] [--json]\n"
      "  detach-interface DOM TYPE …: the domain's only NIC of TYPE",
      "hot-unplug a NIC; exit 0 also when the guest has not released it yet" },
    { "detach-device", XML_VERB(vnic_cli_detach_device),
      "detach-device DOM FILE [--timeout SECONDS] [--live] [--config] [--json]",
      "hot-unplug the NIC whose MAC the <interface> element in FILE gives" },
    { "update-device", XML_VERB(vnic_cli_update_device),
      "update-device DOM FILE [--live] [--config] [--current] [--persistent] [--json]",
      "change a NIC's link state, bandwidth or bridge from an <interface> in FILE" },
    { "migrate", vnic_cli_migrate,
      "migrate DOM DEST-URI [MIGRATE-URI] [--live] [--persistent] [--undefine-source]\n"
      "    [--timeout SECONDS] [--bandwidth MIB] [--json]",
      "move a running domain to the vnicd at DEST-URI (unix:PATH or ssh://host/socket)" },
    { "domjobinfo", vnic_cli_domjobinfo, "domjobinfo DOM [--json]",
      "print the progress of a domain's migration" },
    { "domjobabort", vnic_cli_domjobabort, "domjobabort DOM",
      "abort a domain's migration: the guest stays where it runs" },
    { "net-define", vnic_cli_net_define, "net-define FILE",
      "store the <network> in FILE (an existing bridge or host NICs)" },
    { "net-undefine", vnic_cli_net_undefine, "net-undefine NET", "remove an inactive network" },
    { "net-start", vnic_cli_net_start, "net-start NET", "activate a network" },
    { "net-destroy", vnic_cli_net_destroy, "net-destroy NET", "deactivate a network" },
    { "net-autostart", vnic_cli_net_autostart, "net-autostart NET [--disable]",
      "start the network with vnicd" },
    { "net-list", vnic_cli_net_list, "net-list [--all] [--json]",
      "list active networks, or all with --all" },
    { "net-dumpxml", vnic_cli_net_dumpxml, "net-dumpxml NET", "print a network's XML" },
    { "events", vnic_cli_events, "events [--json] [--count N] [--timeout SECONDS]",
      "print vnicd's events, one a line, until interrupted, N events or the timeout" },
    { "plan", XML_VERB(vnic_cli_plan),
      "plan FILE [--policy nic-first|libvirt] [--spare-ports N] [--names] [--json]\n"
      "    [--for-libvirt]",
      "plan PCI addresses for a domain XML file (offline, no vnicd)" },
    { "next-nic", XML_VERB(vnic_cli_next_nic),
      "next-nic (--xml FILE|- | --libvirt DOM [--connect URI])\n"
      "    (--type TYPE [--source DEV] [--mode M] [--model M] [--mac MAC] | --interface FILE)\n"
      "    [--replug MAC|FILE [--address ADDR]] [--acpi-index N|auto|off] [--oneline] [--json]",
      "the <interface> (with <address>) for the next NIC hot-plugged into a domain\n"
      "      libvirt runs, and its guest name (offline, companion mode)" },
};

int
vnic_cli_fail(const char *verb, int status, const char *message)
{
    fprintf(stderr, "vnic %s: %s\n", verb, message);
    return status;
}

int
vnic_cli_failf(const char *verb, int status, const char *format, ...)
{
    g_autofree char *message = NULL;
    va_list ap;

    va_start(ap, format);
    message = g_strdup_vprintf(format, ap);
    va_end(ap);
    return vnic_cli_fail(verb, status, message);
}

static int
usage(FILE *out, int status)
{
    fputs("Usage: vnic [-c SOCKET] VERB [OPTION…] [ARG…]\n"
          "\n"
          "Manages the NICs of QEMU guests through vnicd.\n"
          "\n"
          "Global options (before the verb):\n"
          "  -c, --connect SOCKET  vnicd's control socket; default: $VNIC_SOCKET,\n"
          "                        else " VNIC_CLI_DEFAULT_SOCKET "\n"
          "  -h, --help            show this help\n"
          "  -v, --version         print vnic's version\n"
          "\n"
          "Verbs:\n", out);
    for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++)
        fprintf(out, "  %s\n      %s\n", verbs[i].synopsis, verbs[i].summary);
    fputs("\n"
          "DOM is a domain name; IFACE a NIC's host interface (vnet0), MAC or alias (net0).\n"
          "--json prints vnicd's answer as JSON.\n"
          "--live and --config choose what a hot-plug verb changes: the running guest,\n"
          "the stored config, or with both both; with neither, the running guest if it\n"
          "runs, else the config.\n"
          "'vnic VERB --help' describes a verb's options.\n"
          "\n"
          "Exit status:\n"
          "  0  success\n"
          "  1  vnicd refused the request or it failed; stderr says\n"
          "     'vnic VERB: CLASS: description', CLASS being the API's error class\n"
          "     (DomainNotFound, InvalidState, …); nothing is printed on stdout\n"
          "  2  bad command line\n"
          "  3  cannot reach vnicd: its socket is missing or refuses connections\n",
          out);
    return status;
}

/* Reads the global options into @ctx; returns the index of the verb, or
 * -1 with *@status set. */
static int
parse_global(int argc, char **argv, VnicCliContext *ctx, int *status)
{
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *arg = argv[i];

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            *status = usage(stdout, VNIC_CLI_EXIT_OK);
            return -1;
        } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--version") == 0) {
            printf("vnic %s\n", VNIC_VERSION);
            *status = VNIC_CLI_EXIT_OK;
            return -1;
        } else if (strcmp(arg, "-c") == 0 || strcmp(arg, "--connect") == 0) {
            ctx->socket = ++i < argc ? argv[i] : NULL;
        } else if (g_str_has_prefix(arg, "--connect=")) {
            ctx->socket = arg + strlen("--connect=");
        } else if (g_str_has_prefix(arg, "-c")) {
            ctx->socket = arg + 2;
        } else {
            fprintf(stderr, "vnic: unknown option '%s'\n", arg);
            *status = usage(stderr, VNIC_CLI_EXIT_USAGE);
            return -1;
        }
        if (ctx->socket == NULL || *ctx->socket == '\0') {
            fprintf(stderr, "vnic: option %s needs a socket path\n", arg);
            *status = VNIC_CLI_EXIT_USAGE;
            return -1;
        }
    }
    if (i == argc) {
        *status = usage(stderr, VNIC_CLI_EXIT_USAGE);
        return -1;
    }
    return i;
}

#ifdef VNIC_CLI_FRONT
/* Runs the command line again as vnic-full: the one beside this program
 * (the build tree), else the installed one. */
static int
run_full(char **argv, const char *verb)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self != NULL ? g_path_get_dirname(self) : NULL;
    g_autofree char *beside = dir != NULL ? g_build_filename(dir, "vnic-full", NULL) : NULL;
    const char *full = beside != NULL && g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE) ? beside
                                                                                      : VNIC_CLI_FULL;

    fflush(stdout);
    execv(full, argv);
    return vnic_cli_failf(verb, VNIC_CLI_EXIT_FAILED, "cannot run %s: %s", full, g_strerror(errno));
}
#endif

static const char *
default_socket(void)
{
    const char *env = g_getenv("VNIC_SOCKET");

    return env != NULL && *env != '\0' ? env : VNIC_CLI_DEFAULT_SOCKET;
}

int
main(int argc, char **argv)
{
    VnicCliContext ctx = { 0 };
    int status = VNIC_CLI_EXIT_OK;
    int v = parse_global(argc, argv, &ctx, &status);
    g_autofree char *prgname = NULL;

    if (v < 0)
        return status;
    if (ctx.socket == NULL)
        ctx.socket = default_socket();
    if (strcmp(argv[v], "help") == 0)
        return usage(stdout, VNIC_CLI_EXIT_OK);
    for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++) {
        if (strcmp(argv[v], verbs[i].name) != 0)
            continue;
#ifdef VNIC_CLI_FRONT
        if (verbs[i].run == NULL)
            return run_full(argv, verbs[i].name);
#endif
        prgname = g_strdup_printf("vnic %s", verbs[i].name);
        g_set_prgname(prgname);
        return verbs[i].run(&ctx, argc - v, argv + v);
    }
    fprintf(stderr, "vnic: unknown verb '%s'\n", argv[v]);
    return usage(stderr, VNIC_CLI_EXIT_USAGE);
}
