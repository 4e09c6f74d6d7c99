/* cli-domain.c: virsh's verbs about a whole domain that vnic gained for
 * virsh users: dominfo, domstate, suspend, resume, reboot, update-device
 * (a NIC's <interface>) and console.
 *
 * Output is virsh's: dominfo's "Key:   value" block, domstate's state
 * ("shut off", as virsh writes it), one line for the others.  console is
 * interactive: it relays the terminal to the domain's first serial port
 * (a unix socket or pty, from the running domain's XML) until Ctrl-].
 */
#include "cli/cli.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "conf/conf-domain.h"

#define EXIT_HELP                                                                            \
    "Exit status: 0 success, 1 vnicd refused or failed, 2 bad command line, 3 vnicd\n"      \
    "unreachable."

/* virsh's spelling of vnicd's states. */
static const char *
virsh_state(const char *state)
{
    if (state == NULL)
        return "unknown";
    return strcmp(state, "shut-off") == 0 ? "shut off" : state;
}

static int
name_call(const VnicCliContext *ctx, const char *verb, const char *name, JsonNode **ret)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "name", name);
    return vnic_cli_call(ctx, verb, verb, args, ret);
}

int
vnic_cli_dominfo(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "dominfo", "DOM", "a domain name", 1,
        "Prints a domain's basic facts, as virsh: name, UUID, state, QEMU's pid while it\n"
        "runs, CPUs and memory.\n" EXIT_HELP,
    };
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonNode) ret = NULL;
    JsonObject *o;
    gint64 pid = 0, vcpus = 0, max_kib = 0, kib = 0, uid = 0, gid = 0;
    gboolean flag = FALSE;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status) ||
        (status = name_call(ctx, spec.verb, argv[1], &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json) {
        vnic_cli_print_json(ret);
        return VNIC_CLI_EXIT_OK;
    }
    o = vnic_cli_json_object(ret);
    if (!vnic_cli_json_string(o, "name") || !vnic_cli_json_string(o, "state"))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_FAILED,
                             "vnicd's answer has an unexpected shape");
    vnic_cli_json_int(o, "vcpus", &vcpus);
    vnic_cli_json_int(o, "max-memory-kib", &max_kib);
    vnic_cli_json_int(o, "memory-kib", &kib);
    printf("%-15s %s\n", "Name:", vnic_cli_json_string(o, "name"));
    printf("%-15s %s\n", "UUID:", vnic_cli_json_string(o, "uuid") ? vnic_cli_json_string(o, "uuid")
                                                                   : "-");
    printf("%-15s %s\n", "OS Type:", "hvm");
    printf("%-15s %s\n", "State:", virsh_state(vnic_cli_json_string(o, "state")));
    if (vnic_cli_json_int(o, "pid", &pid))
        printf("%-15s %" G_GINT64_FORMAT "\n", "PID:", pid);
    printf("%-15s %" G_GINT64_FORMAT "\n", "CPU(s):", vcpus);
    printf("%-15s %" G_GINT64_FORMAT " KiB\n", "Max memory:", max_kib);
    printf("%-15s %" G_GINT64_FORMAT " KiB\n", "Used memory:", kib);
    printf("%-15s %s\n", "Persistent:",
           vnic_cli_json_bool(o, "persistent", &flag) && !flag ? "no" : "yes");
    printf("%-15s %s\n", "Autostart:",
           vnic_cli_json_bool(o, "autostart", &flag) && flag ? "enable" : "disable");
    /* QEMU's ids as virsh shows libvirt's DAC label: numbers, which need
     * no /etc/passwd entry (a guest's own uid has none) */
    if (vnic_cli_json_int(o, "uid", &uid) && vnic_cli_json_int(o, "gid", &gid)) {
        printf("%-15s %s\n", "Security model:", "dac");
        printf("%-15s %s\n", "Security DOI:", "0");
        printf("%-15s +%" G_GINT64_FORMAT ":+%" G_GINT64_FORMAT " (enforcing)\n",
               "Security label:", uid, gid);
    }
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_domstate(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "domstate", "DOM", "a domain name", 1,
        "Prints a domain's state, as virsh: running, paused, shut off (starting and\n"
        "stopping while vnicd is at it); --reason adds why, in parentheses.\n" EXIT_HELP,
    };
    gboolean json = FALSE, reason = FALSE;
    const GOptionEntry entries[] = {
        { "reason", 0, 0, G_OPTION_ARG_NONE, &reason, "also print why: running (booted)", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer as JSON", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonNode) ret = NULL;
    const char *state, *why;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status) ||
        (status = name_call(ctx, spec.verb, argv[1], &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json) {
        vnic_cli_print_json(ret);
        return VNIC_CLI_EXIT_OK;
    }
    state = vnic_cli_json_string(vnic_cli_json_object(ret), "state");
    why = vnic_cli_json_string(vnic_cli_json_object(ret), "reason");
    if (state == NULL)
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_FAILED,
                             "vnicd's answer has an unexpected shape");
    if (reason && why)
        printf("%s (%s)\n", virsh_state(state), why);
    else
        printf("%s\n", virsh_state(state));
    return VNIC_CLI_EXIT_OK;
}

/* A verb that sends {"name"} and prints "Domain 'DOM' @done". */
static int
simple_verb(const VnicCliContext *ctx, const VnicCliVerbSpec *spec, const char *done,
            int argc, char **argv)
{
    g_autoptr(JsonNode) ret = NULL;
    int status;

    if (!vnic_cli_parse_options(spec, NULL, &argc, &argv, &status) ||
        (status = name_call(ctx, spec->verb, argv[1], &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    printf("Domain '%s' %s\n", argv[1], done);
    return VNIC_CLI_EXIT_OK;
}

int
vnic_cli_suspend(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "suspend", "DOM", "a domain name", 1,
        "Pauses a running domain's CPUs (QMP stop): its state is paused until resume.\n"
        "A paused domain takes no hot-plug; destroy still works.\n" EXIT_HELP,
    };

    return simple_verb(ctx, &spec, "suspended", argc, argv);
}

int
vnic_cli_resume(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "resume", "DOM", "a domain name", 1,
        "Lets a paused domain run again (QMP cont).\n" EXIT_HELP,
    };

    return simple_verb(ctx, &spec, "resumed", argc, argv);
}

int
vnic_cli_reboot(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "reboot", "DOM", "a domain name", 1,
        "Resets a running domain (QMP system_reset): the guest starts again from its\n"
        "firmware without being asked, as with virsh reset; its NICs and their host\n"
        "side stay as they are.\n" EXIT_HELP,
    };

    return simple_verb(ctx, &spec, "is being rebooted", argc, argv);
}

/* ---- update-device ------------------------------------------------------ */

int
vnic_cli_update_device(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "update-device", "DOM FILE", "a domain name and an XML file", 2,
        "Changes the NIC whose MAC the <interface> element in FILE gives, as virsh\n"
        "update-device.  Live: its link state (<link state>), <bandwidth>, and for a\n"
        "bridge NIC its bridge (the tap moves to <source bridge>); a change of type,\n"
        "model, MAC, MTU, host device or address is refused, naming it.  The config\n"
        "takes the element as it is.\n"
        "Without --live and --config (or with --current): the running guest if it runs,\n"
        "else the config; --persistent: the config, and the running guest too.\n" EXIT_HELP,
    };
    gboolean live = FALSE, config = FALSE, current = FALSE, persistent = FALSE, json = FALSE;
    const GOptionEntry entries[] = {
        { "live", 0, 0, G_OPTION_ARG_NONE, &live, "change the running guest", NULL },
        { "config", 0, 0, G_OPTION_ARG_NONE, &config, "change the stored config", NULL },
        { "current", 0, 0, G_OPTION_ARG_NONE, &current,
          "the running guest if it runs, else the config (the default)", NULL },
        { "persistent", 0, 0, G_OPTION_ARG_NONE, &persistent,
          "the config, and the running guest too if it runs", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print vnicd's answer ({\"changed\"}) as JSON",
          NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDevice) dev = NULL;
    g_autofree char *text = NULL;
    gsize len;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (current && (live || config || persistent))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_USAGE,
                             "--current excludes --live, --config and --persistent");
    if (!g_file_get_contents(argv[2], &text, &len, &error))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_FAILED, error->message);
    if (!(dev = vnic_conf_interface_parse(NULL, text, len, &error)))
        return vnic_cli_failf(spec.verb, VNIC_CLI_EXIT_FAILED, "InvalidXML: %s", error->message);
    json_object_set_string_member(arguments, "name", argv[1]);
    json_object_set_string_member(arguments, "xml", text);
    if (live)
        json_object_set_boolean_member(arguments, "live", TRUE);
    if (config)
        json_object_set_boolean_member(arguments, "config", TRUE);
    if (persistent)
        json_object_set_boolean_member(arguments, "persistent", TRUE);
    if ((status = vnic_cli_call(ctx, spec.verb, spec.verb, arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (json)
        vnic_cli_print_json(ret);
    else
        printf("Device updated successfully\n");
    return VNIC_CLI_EXIT_OK;
}

/* ---- console ------------------------------------------------------------ */

#define CONSOLE_ESCAPE 0x1d /* Ctrl-] */

/* The first serial (or console) of the running domain's XML with a path,
 * and whether it is a unix socket (else a pty). */
static char *
serial_path(const char *xml, gboolean *is_unix, GError **error)
{
    g_autoptr(VnicConfDomain) def = vnic_conf_domain_parse(xml, strlen(xml), error);

    if (def == NULL)
        return NULL;
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        g_autofree xmlChar *type = NULL;

        if ((d->kind != VNIC_CONF_DEV_SERIAL && d->kind != VNIC_CONF_DEV_CONSOLE) ||
            d->source_path == NULL || d->node == NULL)
            continue;
        type = xmlGetProp(d->node, (const xmlChar *) "type");
        if (type && (xmlStrcmp(type, (const xmlChar *) "unix") == 0 ||
                     xmlStrcmp(type, (const xmlChar *) "pty") == 0)) {
            *is_unix = xmlStrcmp(type, (const xmlChar *) "unix") == 0;
            return g_strdup(d->source_path);
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "the domain has no serial console on a unix socket or pty "
                "(<serial type='unix'> or <serial type='pty'>)");
    return NULL;
}

static int
open_serial(const char *path, gboolean is_unix, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (!is_unix) {
        if ((fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "opening %s: %s", path,
                        g_strerror(errno));
        return fd;
    }
    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG, "socket path too long: %s",
                    path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
        int saved = errno;

        if (fd >= 0)
            close(fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "connecting to %s: %s",
                    path, g_strerror(saved));
        return -1;
    }
    return fd;
}

static gboolean
write_all(int fd, const char *buf, gssize n)
{
    while (n > 0) {
        gssize w = write(fd, buf, (size_t) n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FALSE;
        buf += w;
        n -= w;
    }
    return TRUE;
}

/* Relays stdin to @fd and @fd to stdout until Ctrl-] on stdin, the end of
 * stdin, or the serial closing. */
static void
relay(int fd)
{
    struct pollfd pfd[2] = { { STDIN_FILENO, POLLIN, 0 }, { fd, POLLIN, 0 } };
    char buf[4096];

    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (pfd[0].revents & (POLLIN | POLLHUP)) {
            gssize n = read(STDIN_FILENO, buf, sizeof(buf));
            char *esc;

            if (n <= 0)
                return;
            esc = memchr(buf, CONSOLE_ESCAPE, (size_t) n);
            if (!write_all(fd, buf, esc ? esc - buf : n) || esc)
                return;
        }
        if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            gssize n = read(fd, buf, sizeof(buf));

            if (n <= 0 || !write_all(STDOUT_FILENO, buf, n))
                return;
        }
    }
}

int
vnic_cli_console(const VnicCliContext *ctx, int argc, char **argv)
{
    static const VnicCliVerbSpec spec = {
        "console", "DOM", "a domain name", 1,
        "Connects the terminal to a running domain's serial console (its first\n"
        "<serial> or <console> on a unix socket or pty), as virsh console; Ctrl-]\n"
        "ends it (so does the end of standard input).  QEMU takes one client on a\n"
        "socket at a time.\n" EXIT_HELP,
    };
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    const char *xml;
    gboolean is_unix = FALSE, tty;
    struct termios saved, raw;
    int status, fd;

    if (!vnic_cli_parse_options(&spec, NULL, &argc, &argv, &status))
        return status;
    json_object_set_string_member(arguments, "name", argv[1]);
    if ((status = vnic_cli_call(ctx, spec.verb, "dominfo", arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (g_strcmp0(vnic_cli_json_string(vnic_cli_json_object(ret), "state"), "running") != 0 &&
        g_strcmp0(vnic_cli_json_string(vnic_cli_json_object(ret), "state"), "paused") != 0)
        return vnic_cli_failf(spec.verb, VNIC_CLI_EXIT_FAILED,
                              "InvalidState: domain '%s' is not running", argv[1]);
    g_clear_pointer(&ret, json_node_unref);
    if ((status = vnic_cli_call(ctx, spec.verb, "dumpxml", arguments, &ret)) != VNIC_CLI_EXIT_OK)
        return status;
    if (!(xml = vnic_cli_json_string(vnic_cli_json_object(ret), "xml")))
        return vnic_cli_fail(spec.verb, VNIC_CLI_EXIT_FAILED,
                             "vnicd's answer has an unexpected shape");
    if (!(path = serial_path(xml, &is_unix, &error)) ||
        (fd = open_serial(path, is_unix, &error)) < 0)
        return vnic_cli_failf(spec.verb, VNIC_CLI_EXIT_FAILED, "domain '%s': %s", argv[1],
                              error->message);
    fprintf(stderr, "Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", argv[1]);
    tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    relay(fd);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    close(fd);
    fputs("\n", stderr);
    return VNIC_CLI_EXIT_OK;
}
