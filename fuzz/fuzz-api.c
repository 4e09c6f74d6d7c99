/* fuzz-api.c: libFuzzer harness for the API request parser, with vnicd's
 * own command table.  The first byte picks the socket (read-only or not)
 * and whether the peer passed its check; the rest is one request line.
 * Beyond crashes: an id kept for the reply must serialize to JSON, and a
 * refusal's message (also in the reply) must be UTF-8. */
#include "daemon/daemon-api-priv.h"
#include "daemon/daemon.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static VnicApiServer *
server(void)
{
    static VnicApiServer *s;

    if (!s)
        s = vnic_api_server_new(vnic_daemon_commands, vnic_daemon_n_commands, NULL);
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ApiConnection c = { 0 };
    VnicApiRequest r = { 0 };
    g_autoptr(GError) error = NULL;
    const VnicApiCommand *cmd;

    if (size < 1 || size > VNIC_API_MAX_LINE)
        return 0;
    c.server = server();
    c.read_only = data[0] & 1;
    c.allowed = (data[0] & 2) == 0;
    r.conn = &c;
    cmd = vnic_api_parse_request(&c, (const char *)data + 1, size - 1, &r, &error);
    g_assert((cmd == NULL) != (error == NULL));
    /* the error goes into the reply: it must be UTF-8 for that to be JSON */
    if (error && !g_utf8_validate(error->message, -1, NULL))
        g_error("a refusal's message is not UTF-8: %s", error->message);
    if (r.id) {
        /* the reply echoes the id: it must come out as JSON that parses */
        g_autofree char *text = json_to_string(r.id, FALSE);
        g_autoptr(JsonNode) back = json_from_string(text, NULL);
        if (!back)
            g_error("the id of a request does not make JSON: %s", text);
        json_node_unref(r.id);
    }
    if (r.args)
        json_object_unref(r.args);
    g_free(r.command);
    return 0;
}
