/* conf-text.h: appending to a GString on hot paths (the formatter, the API's
 * reply writer). */
#pragma once

#include <glib.h>
#include <string.h>

/* g_string_append_len() without GLib 2.74's out-of-line insert (a sixth of
 * formatting a big domain went there, and a dumpxml reply's string is
 * thousands of runs): a copy when it fits. */
static inline void
vnic_text_append(GString *out, const char *text, gsize len)
{
    if (out->len + len < out->allocated_len) {
        memcpy(out->str + out->len, text, len);
        out->len += len;
        out->str[out->len] = '\0';
    } else {
        g_string_append_len(out, text, len);
    }
}
