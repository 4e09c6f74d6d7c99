/* fuzz-json.c: libFuzzer harness, differential, for vnic's own JSON
 * reader and writer (qmp-client-json.c) against json-glib's: the input is
 * one line, as QEMU or an API client would send it.
 *   - what vnic_json_parse_plain() takes, JsonParser must take too, and
 *     both must make the same JSON of it;
 *   - whatever object JsonParser makes of the line, vnic_json_write_plain()
 *     must either decline it or write exactly what JsonGenerator writes.
 * The reader guards every request line and QMP reply vnicd reads: a
 * difference would be a request or reply understood differently. */
#include "qemu/qmp-client.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
object_to_string(JsonObject *object)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);

    return json_to_string(node, FALSE);
}

static void
check_writer(JsonObject *object)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *expected = object_to_string(object);

    if (vnic_json_write_plain(out, object) && strcmp(out->str, expected) != 0)
        g_error("vnic_json_write_plain() wrote\n%s\nJsonGenerator\n%s", out->str, expected);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    g_autoptr(JsonObject) plain = NULL;
    g_autoptr(JsonParser) parser = NULL;
    JsonNode *root = NULL;
    gboolean is_object;

    /* as vnicd's callers bound it: both parsers recurse per level */
    if (!vnic_json_nesting_within(line, size, 128))
        return 0;
    plain = vnic_json_parse_plain(line, size);
    parser = json_parser_new();
    if (json_parser_load_from_data(parser, line, (gssize)size, NULL))
        root = json_parser_get_root(parser);
    is_object = root != NULL && JSON_NODE_HOLDS_OBJECT(root);

    if (plain) {
        g_autofree char *mine = object_to_string(plain);
        g_autofree char *theirs = is_object ? json_to_string(root, FALSE) : NULL;

        if (!is_object)
            g_error("the plain reader took a line JsonParser does not make an object of: %.*s",
                    (int)MIN(size, 200), line);
        if (strcmp(mine, theirs) != 0)
            g_error("the plain reader made\n%s\nJsonParser\n%s", mine, theirs);
        check_writer(plain);
    }
    if (is_object)
        check_writer(json_node_get_object(root));
    return 0;
}
