/* daemon-monitor.c: virsh's qemu-monitor-command, for diagnosis.
 *
 * Passes one command to the domain's QEMU monitor and returns QEMU's
 * answer as it came: QMP ({"execute": …} text, or a bare command name)
 * or, with "hmp", a human monitor line (`info network`) through
 * human-monitor-command.  Control socket only: it can change anything
 * behind vnicd's back, as under libvirt (which taints the domain).
 */
#include "daemon/daemon.h"
#include "qemu/qemu-process.h"

#include <string.h>

static void
monitor_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VnicApiRequest *request = data;
    GError *error = NULL;
    JsonNode *ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret) {
        vnic_api_request_fail(request, error);
        return;
    }
    vnic_api_request_return(request, ret);
}

/* The QMP command @text names: a JSON object with "execute" (and
 * "arguments"), or a plain command name. */
static gboolean
parse_qmp(const char *text, char **command, JsonObject **args, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *obj;

    if (!strchr(text, '{')) {
        *command = g_strstrip(g_strdup(text));
        *args = NULL;
        return TRUE;
    }
    if (!json_parser_load_from_data(parser, text, -1, error))
        return FALSE;
    if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)) ||
        !json_object_has_member(obj = json_node_get_object(json_parser_get_root(parser)),
                                "execute")) {
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                    "argument 'command': a QMP command is {\"execute\": NAME, \"arguments\": {…}}");
        return FALSE;
    }
    *command = g_strdup(json_object_get_string_member(obj, "execute"));
    *args = json_object_has_member(obj, "arguments")
                ? json_object_ref(json_object_get_object_member(obj, "arguments")) : NULL;
    return *command != NULL;
}

void
vnic_cmd_qemu_monitor_command(VnicApiRequest *request, gpointer data)
{
    VnicDaemon *daemon = data;
    GError *error = NULL;
    const char *name = NULL, *text = NULL;
    gboolean hmp = FALSE;
    g_autofree char *command = NULL;
    g_autoptr(JsonObject) args = NULL;
    VnicDomain *dom;

    if (!vnic_api_arg_string(request, "name", TRUE, &name, &error) ||
        !vnic_api_arg_string(request, "command", TRUE, &text, &error) ||
        !vnic_api_arg_bool(request, "hmp", &hmp, &error) ||
        !(dom = vnic_daemon_lookup(daemon, name, &error))) {
        vnic_api_request_fail(request, error);
        return;
    }
    if (!dom->process) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                                   "domain '%s' is not running", dom->name));
        return;
    }
    if (hmp) {
        command = g_strdup("human-monitor-command");
        args = json_object_new();
        json_object_set_string_member(args, "command-line", text);
    } else if (!parse_qmp(text, &command, &args, &error)) {
        vnic_api_request_fail(request, error);
        return;
    }
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), command, args, NULL, 0,
                                  10000, NULL, monitor_done, request);
}
