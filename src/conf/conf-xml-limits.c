/* conf-xml-limits.c: bounds checked on XML text before libxml2 reads it.
 *
 * libxml2's cost is not linear in its input everywhere: its duplicate
 * attribute check compares every attribute of an element with every other
 * (100 000 attributes on one element took 113 s), and deep nesting costs
 * stack in every recursive walk after it.  This scan, one pass without a
 * stack, refuses text over the size, depth, element or attribute bounds
 * (vnic_conf_xml_limits) so that what reaches libxml2 parses in time
 * linear in its length.  It only counts: well-formedness stays libxml2's
 * to judge, and the counts of malformed text err on the high side.
 */
#include "conf/conf-xml-util.h"

#include <string.h>

typedef struct {
    const char *p;
    const char *end;
    guint depth;
    guint elements;
} Scan;

/* Moves past the next @delim (or to the end). */
static void
skip_past(Scan *s, const char *delim)
{
    gsize n = strlen(delim);
    const char *hit = g_strstr_len(s->p, s->end - s->p, delim);

    s->p = hit ? hit + n : s->end;
}

static gboolean
has_prefix(const Scan *s, const char *prefix)
{
    gsize n = strlen(prefix);

    return (gsize)(s->end - s->p) >= n && memcmp(s->p, prefix, n) == 0;
}

/* The element name at @start, for messages (cut at 40 bytes). */
static char *
name_at(const char *start, const char *end)
{
    const char *q = start;

    while (q < end && q - start < 40 && !g_ascii_isspace(*q) && *q != '>' && *q != '/')
        q++;
    return g_strndup(start, q - start);
}

/* A start tag, s->p just after its '<': counts its attributes (an '='
 * outside quotes each) and the nesting it opens. */
static gboolean
scan_start_tag(Scan *s, const VnicConfXmlLimits *limits, GError **error)
{
    const char *name = s->p;
    guint attrs = 0;
    char quote = 0;

    if (++s->elements > limits->max_elements) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML,
                    "XML has more than %u elements", limits->max_elements);
        return FALSE;
    }
    if (++s->depth > limits->max_depth) {
        g_autofree char *shown = name_at(name, s->end);
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML,
                    "XML nests deeper than %u elements (at <%s>)", limits->max_depth, shown);
        return FALSE;
    }
    for (; s->p < s->end; s->p++) {
        char ch = *s->p;

        if (quote) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '"' || ch == '\'') {
            quote = ch;
        } else if (ch == '=') {
            if (++attrs > limits->max_attributes) {
                g_autofree char *shown = name_at(name, s->end);
                g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML,
                            "XML element <%s> has more than %u attributes", shown,
                            limits->max_attributes);
                return FALSE;
            }
        } else if (ch == '>') {
            if (s->p > name && s->p[-1] == '/')
                s->depth--; /* an empty element closes itself */
            s->p++;
            return TRUE;
        }
    }
    return TRUE;
}

gboolean
vnic_conf_xml_check_limits(const char *xml, gsize len, const VnicConfXmlLimits *limits,
                           GError **error)
{
    Scan s = { .p = xml, .end = xml + len };

    if (len > limits->max_bytes) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_XML,
                    "XML text of %" G_GSIZE_FORMAT " bytes is longer than %" G_GSIZE_FORMAT,
                    len, limits->max_bytes);
        return FALSE;
    }
    while (s.p < s.end) {
        const char *lt = memchr(s.p, '<', s.end - s.p);

        if (!lt)
            break;
        s.p = lt + 1;
        if (has_prefix(&s, "!--")) {
            skip_past(&s, "-->");
        } else if (has_prefix(&s, "![CDATA[")) {
            skip_past(&s, "]]>");
        } else if (has_prefix(&s, "?")) {
            skip_past(&s, "?>");
        } else if (has_prefix(&s, "!")) {
            skip_past(&s, ">"); /* a DOCTYPE: libxml2's reader refuses it */
        } else if (has_prefix(&s, "/")) {
            if (s.depth > 0)
                s.depth--;
            skip_past(&s, ">");
        } else if (!scan_start_tag(&s, limits, error)) {
            return FALSE;
        }
    }
    return TRUE;
}
