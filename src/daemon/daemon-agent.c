/* daemon-agent.c: domifaddr --source agent, through the domain's
 * qemu-guest-agent channel (<channel> with <target
 * name='org.qemu.guest_agent.0'/>, a unix socket QEMU serves).
 *
 * One connection per request, closed after it: guest-sync-delimited
 * first (the agent answers after a 0xFF byte, so whatever an earlier
 * client left in the channel is skipped), then guest-network-get-
 * interfaces.  The whole exchange has AGENT_TIMEOUT_S: a guest without a
 * running agent never answers, and the request then fails saying so.
 */
#include "daemon/daemon.h"

#include <gio/gunixsocketaddress.h>
#include <string.h>

#define AGENT_CHANNEL "org.qemu.guest_agent.0"
#define AGENT_TIMEOUT_S 5

typedef struct {
    VnicApiRequest *request;
    char *dom_name;
    char *iface_mac;          /* only this NIC (domifaddr IFACE), or NULL */
    GSocketConnection *conn;
    GDataInputStream *in;
    GCancellable *cancel;
    guint timeout_id;
    gint64 sync_id;
    gboolean synced;
    gboolean timed_out;
} AgentCall;

static void
agent_call_free(AgentCall *c)
{
    g_clear_handle_id(&c->timeout_id, g_source_remove);
    g_clear_object(&c->in);
    if (c->conn)
        g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    g_clear_object(&c->conn);
    g_clear_object(&c->cancel);
    g_free(c->dom_name);
    g_free(c->iface_mac);
    g_free(c);
}

static void
agent_fail(AgentCall *c, const GError *cause)
{
    GError *error;

    if (c->timed_out)
        error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_TIMEOUT,
                            "domain '%s': the guest agent did not answer within %d s (is "
                            "qemu-guest-agent running in the guest?)", c->dom_name,
                            AGENT_TIMEOUT_S);
    else
        error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_GENERIC,
                            "domain '%s': talking to the guest agent: %s", c->dom_name,
                            cause ? cause->message : "unexpected answer");
    vnic_api_request_fail(c->request, error);
    agent_call_free(c);
}

static gboolean
agent_timeout(gpointer data)
{
    AgentCall *c = data;

    c->timeout_id = 0;
    c->timed_out = TRUE;
    g_cancellable_cancel(c->cancel);
    return G_SOURCE_REMOVE;
}

static gboolean
agent_send(AgentCall *c, const char *line, GError **error)
{
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(c->conn));

    /* a few dozen bytes into a unix socket: never blocks for long */
    return g_output_stream_write_all(out, line, strlen(line), NULL, c->cancel, error);
}

/* guest-network-get-interfaces' answer in domifaddr's shape. */
static JsonObject *
interfaces_json(AgentCall *c, JsonArray *agent)
{
    JsonObject *ret = json_object_new();
    JsonArray *list = json_array_new();

    for (guint i = 0; i < json_array_get_length(agent); i++) {
        JsonNode *n = json_array_get_element(agent, i);
        JsonObject *a = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        const char *name = a ? json_object_get_string_member_with_default(a, "name", NULL) : NULL;
        const char *mac = a ? json_object_get_string_member_with_default(a, "hardware-address",
                                                                          NULL) : NULL;
        JsonArray *ips = a && json_object_has_member(a, "ip-addresses")
                             ? json_object_get_array_member(a, "ip-addresses") : NULL;
        JsonObject *o;
        JsonArray *addrs;

        if (!name || g_strcmp0(name, "lo") == 0 ||
            (c->iface_mac && (!mac || g_ascii_strcasecmp(mac, c->iface_mac) != 0)))
            continue;
        o = json_object_new();
        addrs = json_array_new();
        json_object_set_string_member(o, "name", name);
        if (mac)
            json_object_set_string_member(o, "hwaddr", mac);
        for (guint j = 0; ips && j < json_array_get_length(ips); j++) {
            JsonNode *ipn = json_array_get_element(ips, j);
            JsonObject *ip = JSON_NODE_HOLDS_OBJECT(ipn) ? json_node_get_object(ipn) : NULL;
            JsonObject *addr;

            if (!ip || !json_object_has_member(ip, "ip-address"))
                continue;
            addr = json_object_new();
            json_object_set_string_member(addr, "type",
                                          json_object_get_string_member_with_default(
                                              ip, "ip-address-type", "ipv4"));
            json_object_set_string_member(addr, "addr",
                                          json_object_get_string_member(ip, "ip-address"));
            json_object_set_int_member(addr, "prefix",
                                       json_object_get_int_member_with_default(ip, "prefix", 0));
            json_array_add_object_element(addrs, addr);
        }
        json_object_set_array_member(o, "addrs", addrs);
        json_array_add_object_element(list, o);
    }
    json_object_set_array_member(ret, "interfaces", list);
    return ret;
}

static void read_next(AgentCall *c);

static void
line_read(GObject *source, GAsyncResult *res, gpointer data)
{
    AgentCall *c = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *line = g_data_input_stream_read_line_finish(c->in, res, NULL, &error);
    g_autoptr(JsonParser) parser = json_parser_new();
    const char *text = line;
    JsonObject *obj;
    JsonNode *ret;

    if (line == NULL) {
        agent_fail(c, error);
        return;
    }
    while (*text == '\xff')
        text++;
    if (*text == '\0' || !json_parser_load_from_data(parser, text, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        read_next(c);  /* noise from an earlier client */
        return;
    }
    obj = json_node_get_object(json_parser_get_root(parser));
    if (json_object_has_member(obj, "error")) {
        agent_fail(c, NULL);
        return;
    }
    ret = json_object_get_member(obj, "return");
    if (!c->synced) {
        if (ret && JSON_NODE_HOLDS_VALUE(ret) && json_node_get_int(ret) == c->sync_id) {
            c->synced = TRUE;
            if (!agent_send(c, "{\"execute\": \"guest-network-get-interfaces\"}\n", &error)) {
                agent_fail(c, error);
                return;
            }
        }
        read_next(c);
        return;
    }
    if (!ret || !JSON_NODE_HOLDS_ARRAY(ret)) {
        agent_fail(c, NULL);
        return;
    }
    vnic_api_request_return_object(c->request, interfaces_json(c, json_node_get_array(ret)));
    agent_call_free(c);
}

static void
read_next(AgentCall *c)
{
    g_data_input_stream_read_line_async(c->in, G_PRIORITY_DEFAULT, c->cancel, line_read, c);
}

static void
connected(GObject *source, GAsyncResult *res, gpointer data)
{
    AgentCall *c = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *sync = NULL;

    c->conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
    if (!c->conn) {
        agent_fail(c, error);
        return;
    }
    c->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(c->conn)));
    c->sync_id = g_random_int_range(1, G_MAXINT32);
    sync = g_strdup_printf("{\"execute\": \"guest-sync-delimited\", \"arguments\": {\"id\": %"
                           G_GINT64_FORMAT "}}\n", c->sync_id);
    /* 0xFF first: the agent drops what an earlier client left half-sent */
    if (!agent_send(c, "\xff", &error) || !agent_send(c, sync, &error)) {
        agent_fail(c, error);
        return;
    }
    read_next(c);
}

const char *
vnic_domain_agent_socket(const VnicConfDomain *def)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        xmlNode *target;

        if (d->kind != VNIC_CONF_DEV_CHANNEL || d->node == NULL)
            continue;
        for (target = d->node->children; target; target = target->next) {
            g_autofree xmlChar *name = NULL;

            if (target->type != XML_ELEMENT_NODE ||
                xmlStrcmp(target->name, (const xmlChar *) "target") != 0)
                continue;
            name = xmlGetProp(target, (const xmlChar *) "name");
            if (name && xmlStrcmp(name, (const xmlChar *) AGENT_CHANNEL) == 0)
                return d->source_path;
        }
    }
    return NULL;
}

void
vnic_domain_agent_interfaces(VnicDomain *dom, const char *mac, VnicApiRequest *request)
{
    const char *path = dom->live ? vnic_domain_agent_socket(dom->live) : NULL;
    g_autoptr(GSocketClient) client = NULL;
    g_autoptr(GSocketAddress) address = NULL;
    AgentCall *c;

    if (path == NULL) {
        vnic_api_request_fail(request, g_error_new(VNIC_DAEMON_ERROR,
                                                   VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
                                                   "domain '%s' has no guest agent channel "
                                                   "(<channel type='unix'> with <target "
                                                   "type='virtio' name='" AGENT_CHANNEL "'/>): "
                                                   "use --source arp", dom->name));
        return;
    }
    c = g_new0(AgentCall, 1);
    c->request = request;
    c->dom_name = g_strdup(dom->name);
    c->iface_mac = g_strdup(mac);
    c->cancel = g_cancellable_new();
    c->timeout_id = g_timeout_add_seconds(AGENT_TIMEOUT_S, agent_timeout, c);
    client = g_socket_client_new();
    address = g_unix_socket_address_new(path);
    g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(address), c->cancel, connected, c);
}
