/* qmp-client-json.c: the JSON QEMU sends most, read without JsonParser,
 * and the lines vnicd sends (QMP commands, API replies), written without
 * JsonGenerator.
 *
 * A JsonParser costs some 16 us of CPU per QMP line inside vnicd (its
 * scanner is set up anew for every line, and little of it stays in the
 * caches between replies), three replies per NIC attach, for lines like
 *   {"return": {}, "id": "vnic-34"}
 * vnic_json_parse_plain() reads the plain subset of JSON that QEMU's
 * replies and events (and vnic's API requests) are made of: objects,
 * arrays, strings without \u escapes, integers of up to 18 digits, true,
 * false, null.  It builds the same nodes JsonParser would (mutable,
 * members in order).  Anything else (a double, a \u escape, a duplicate
 * member, a control character, a syntax error) makes it give up, and the
 * caller parses the line with JsonParser: what that accepts or refuses,
 * and how it says so, stays the rule.  Nesting is bounded by the caller
 * (vnic_json_nesting_within()).
 *
 * vnic_json_append() is the other way, for QMP commands and API replies
 * (below).
 */
#include "qemu/qmp-client-priv.h"
#include "conf/conf-text.h"

#include <math.h>
#include <string.h>

gboolean
vnic_json_nesting_within(const char *line, gsize len, guint max)
{
    gboolean in_string = FALSE;
    guint depth = 0;

    for (gsize i = 0; i < len; i++) {
        char ch = line[i];

        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = FALSE;
        } else if (ch == '"') {
            in_string = TRUE;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max)
                return FALSE;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return TRUE;
}

typedef struct {
    const char *p;
    const char *end;
} Reader;

static JsonNode *read_value(Reader *r);

static void
skip_space(Reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* The escapes JSON has besides \u, or 0 for none of them. */
static char
unescape(char c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return 0;
    }
}

/* A string, *r->p being its opening quote; NULL: not plain. */
static char *
read_string(Reader *r)
{
    g_autoptr(GString) s = NULL;
    const char *start = ++r->p;
    gboolean ascii = TRUE;

    for (; r->p < r->end; r->p++) {
        guchar c = (guchar)*r->p;

        if (c == '"') {
            char *text;

            if (s)
                g_string_append_len(s, start, r->p - start);
            text = s ? g_string_free(g_steal_pointer(&s), FALSE) : g_strndup(start, r->p - start);
            r->p++;
            if (!ascii && !g_utf8_validate(text, -1, NULL)) {
                g_free(text);
                return NULL;
            }
            return text;
        }
        if (c < 0x20)
            return NULL;
        if (c >= 0x80)
            ascii = FALSE;
        if (c == '\\') {
            char plain = r->p + 1 < r->end ? unescape(r->p[1]) : 0;

            if (!plain)
                return NULL;
            if (!s)
                s = g_string_sized_new(64);
            g_string_append_len(s, start, r->p - start);
            g_string_append_c(s, plain);
            start = ++r->p + 1;
        }
    }
    return NULL;
}

static gboolean
at_delimiter(const Reader *r)
{
    return r->p == r->end || strchr(" \t\n\r,]}", *r->p) != NULL;
}

static JsonNode *
read_integer(Reader *r)
{
    gboolean negative = *r->p == '-';
    gint64 value = 0;
    guint digits = 0;
    JsonNode *node;

    if (negative)
        r->p++;
    /* no leading zeros, no "-0": JsonParser's own business */
    if (r->p < r->end && *r->p == '0' && (negative || (r->p + 1 < r->end && g_ascii_isdigit(r->p[1]))))
        return NULL;
    for (; r->p < r->end && g_ascii_isdigit(*r->p); r->p++) {
        if (++digits > 18)
            return NULL;
        value = value * 10 + (*r->p - '0');
    }
    if (digits == 0 || !at_delimiter(r))
        return NULL; /* a double among them */
    node = json_node_alloc();
    json_node_init_int(node, negative ? -value : value);
    return node;
}

static JsonNode *
read_literal(Reader *r, const char *word, gsize len)
{
    JsonNode *node;

    if ((gsize)(r->end - r->p) < len || memcmp(r->p, word, len) != 0)
        return NULL;
    r->p += len;
    if (!at_delimiter(r))
        return NULL;
    node = json_node_alloc();
    if (word[0] == 'n')
        json_node_init_null(node);
    else
        json_node_init_boolean(node, word[0] == 't');
    return node;
}

static JsonNode *
read_object(Reader *r)
{
    g_autoptr(JsonObject) object = json_object_new();
    JsonNode *node;

    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
    } else {
        for (;;) {
            g_autofree char *name = NULL;
            JsonNode *member;

            if (r->p == r->end || *r->p != '"' || !(name = read_string(r)))
                return NULL;
            skip_space(r);
            if (r->p == r->end || *r->p != ':')
                return NULL;
            r->p++;
            if (!(member = read_value(r)))
                return NULL;
            if (json_object_has_member(object, name)) {
                json_node_unref(member);
                return NULL;
            }
            json_object_set_member(object, name, member);
            skip_space(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                skip_space(r);
                continue;
            }
            if (r->p < r->end && *r->p == '}') {
                r->p++;
                break;
            }
            return NULL;
        }
    }
    node = json_node_alloc();
    json_node_init_object(node, object);
    return node;
}

static JsonNode *
read_array(Reader *r)
{
    g_autoptr(JsonArray) array = json_array_new();
    JsonNode *node;

    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
    } else {
        for (;;) {
            JsonNode *element = read_value(r);

            if (!element)
                return NULL;
            json_array_add_element(array, element);
            skip_space(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == ']') {
                r->p++;
                break;
            }
            return NULL;
        }
    }
    node = json_node_alloc();
    json_node_init_array(node, array);
    return node;
}

static JsonNode *
read_value(Reader *r)
{
    skip_space(r);
    if (r->p == r->end)
        return NULL;
    switch (*r->p) {
    case '{':
        return read_object(r);
    case '[':
        return read_array(r);
    case '"': {
        char *text = read_string(r);
        JsonNode *node;

        if (!text)
            return NULL;
        node = json_node_init_string(json_node_alloc(), text);
        g_free(text);
        return node;
    }
    case 't':
        return read_literal(r, "true", 4);
    case 'f':
        return read_literal(r, "false", 5);
    case 'n':
        return read_literal(r, "null", 4);
    default:
        return *r->p == '-' || g_ascii_isdigit(*r->p) ? read_integer(r) : NULL;
    }
}

/* ---- writing -------------------------------------------------------------
 *
 * json-glib's generator escapes a string one character at a time, each an
 * append (for dumpxml's 100 KiB of XML most of a millisecond), and costs a
 * generator object per line (4 to 9 us of CPU per QMP command inside
 * vnicd).  Objects, arrays, strings, integers, booleans and null are
 * written here, a string's runs of characters that need no escape appended
 * whole.  Compact, members in
 * their order.  Every control character is escaped (JsonGenerator leaves
 * 0x1f as it is, which strict JSON readers refuse), DEL is not. */

/* The bytes a JSON string cannot hold as they are: controls, '"', '\\'. */
static const guint8 json_special[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

static void
write_string(GString *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s != NULL ? s : "";

    g_string_append_c(out, '"');
    for (const char *p = run;; p++) {
        unsigned char c = (unsigned char) *p;
        char esc[7] = "\\u00";

        if (!json_special[c])
            continue;
        vnic_text_append(out, run, p - run);
        if (c == '\0')
            break;
        run = p + 1;
        switch (c) {
        case '"': vnic_text_append(out, "\\\"", 2); break;
        case '\\': vnic_text_append(out, "\\\\", 2); break;
        case '\n': vnic_text_append(out, "\\n", 2); break;
        case '\t': vnic_text_append(out, "\\t", 2); break;
        case '\r': vnic_text_append(out, "\\r", 2); break;
        case '\b': vnic_text_append(out, "\\b", 2); break;
        case '\f': vnic_text_append(out, "\\f", 2); break;
        default:
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            vnic_text_append(out, esc, 6);
            break;
        }
    }
    g_string_append_c(out, '"');
}

/* A double as JsonGenerator means it (g_ascii_dtostr, the shortest text
 * that reads back the same, ".0" after an integral one so it stays a
 * double), but valid: json-glib 1.6 writes 3e52 as "3e+52.0", which its
 * own parser refuses.  JSON has no infinity or NaN: null (no JSON read
 * makes one, nor does vnic). */
static void
write_double(GString *out, double d)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (!isfinite(d)) {
        g_string_append(out, "null");
        return;
    }
    g_ascii_dtostr(buf, sizeof(buf), d);
    g_string_append(out, buf);
    if (strpbrk(buf, ".eE") == NULL)
        g_string_append(out, ".0");
}

static void
write_value(GString *out, JsonNode *node)
{
    switch (json_node_get_value_type(node)) {
    case G_TYPE_STRING:
        write_string(out, json_node_get_string(node));
        return;
    case G_TYPE_INT64:
        g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
        return;
    case G_TYPE_BOOLEAN:
        g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
        return;
    case G_TYPE_DOUBLE:
        write_double(out, json_node_get_double(node));
        return;
    default: /* no other type is held by a JSON value */
        g_string_append(out, "null");
    }
}

void
vnic_json_append(GString *out, JsonNode *node)
{
    switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        gboolean first = TRUE;

        g_string_append_c(out, '{');
        json_object_iter_init_ordered(&iter, json_node_get_object(node));
        while (json_object_iter_next_ordered(&iter, &name, &member)) {
            if (!first)
                g_string_append_c(out, ',');
            first = FALSE;
            write_string(out, name);
            g_string_append_c(out, ':');
            vnic_json_append(out, member);
        }
        g_string_append_c(out, '}');
        break;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *array = json_node_get_array(node);

        g_string_append_c(out, '[');
        for (guint i = 0; i < json_array_get_length(array); i++) {
            if (i > 0)
                g_string_append_c(out, ',');
            vnic_json_append(out, json_array_get_element(array, i));
        }
        g_string_append_c(out, ']');
        break;
    }
    case JSON_NODE_VALUE:
        write_value(out, node);
        break;
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        break;
    }
}

JsonObject *
vnic_json_parse_plain(const char *line, gsize len)
{
    Reader r = { line, line + len };
    g_autoptr(JsonNode) root = NULL;

    skip_space(&r);
    if (r.p == r.end || *r.p != '{' || !(root = read_value(&r)))
        return NULL;
    skip_space(&r);
    if (r.p != r.end)
        return NULL;
    return json_object_ref(json_node_get_object(root));
}
