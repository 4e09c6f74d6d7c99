/* fuzz-json.c: libFuzzer harness, differential, for vnic's own JSON
 * reader and writer (qmp-client-json.c) against json-glib's: the input is
 * one line, as QEMU or an API client would send it.
 *   - what vnic_json_parse_plain() takes, JsonParser must take too, and
 *     both must make the same JSON of it;
 *   - whatever object JsonParser makes of the line, what vnic_json_append()
 *     writes of it JsonParser must read back as the same JSON.
 * The reader guards every request line and QMP reply vnicd reads: a
 * difference would be a request or reply understood differently. */
#include "qemu/qmp-client.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
object_to_string(JsonObject *object)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);

    return json_to_string(node, FALSE);
}

/* What json-glib itself cannot write back as it read it, so nothing to
 * compare with: 1e999, read as infinity (JSON has none: the generator
 * writes "inf.0", vnic's writer null), and a lone surrogate escape such as
 * \udb33, read into bytes that are not UTF-8 (JsonParser refuses them
 * when they come back). */
static gboolean
json_glib_cannot_round_trip(JsonNode *node)
{
    if (JSON_NODE_HOLDS_OBJECT(node)) {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;

        json_object_iter_init(&iter, json_node_get_object(node));
        while (json_object_iter_next(&iter, &name, &member))
            if (!g_utf8_validate(name, -1, NULL) || json_glib_cannot_round_trip(member))
                return TRUE;
    } else if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray *array = json_node_get_array(node);

        for (guint i = 0; i < json_array_get_length(array); i++)
            if (json_glib_cannot_round_trip(json_array_get_element(array, i)))
                return TRUE;
    } else if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_DOUBLE) {
        return !isfinite(json_node_get_double(node));
    } else if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) {
        return !g_utf8_validate(json_node_get_string(node), -1, NULL);
    }
    return FALSE;
}

/* What vnic_json_append() writes of @object, JsonParser reads back as the
 * same JSON (compared through JsonGenerator). */
static void
check_writer(JsonObject *object)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *expected = NULL, *back = NULL;

    if (json_glib_cannot_round_trip(node))
        return;
    expected = json_to_string(node, FALSE);
    vnic_json_append(out, node);
    if (!json_parser_load_from_data(parser, out->str, (gssize)out->len, NULL))
        g_error("vnic_json_append() wrote what JsonParser refuses:\n%s", out->str);
    back = json_to_string(json_parser_get_root(parser), FALSE);
    if (strcmp(back, expected) != 0)
        g_error("vnic_json_append() wrote\n%s\nwhich reads back as\n%s\nnot\n%s", out->str, back,
                expected);
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
