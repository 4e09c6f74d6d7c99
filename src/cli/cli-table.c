/* cli-table.c: virsh-like text tables (`list`, `domiflist`).
 *
 * A header row, a line of dashes, then the rows; each column as wide as
 * its widest cell (at least its minimum), counted in characters, the last
 * one unpadded so lines carry no trailing blanks.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

struct _VnicCliTable {
    guint n_cols;
    const char *indent;
    const char *sep;
    guint *widths;
    GPtrArray *rows;           /* of GStrv, the header first */
};

VnicCliTable *
vnic_cli_table_new(const char *indent, const char *sep, const char *const *headers,
                   const guint *min_widths)
{
    VnicCliTable *t = g_new0(VnicCliTable, 1);

    t->n_cols = g_strv_length((char **) headers);
    t->indent = indent;
    t->sep = sep;
    t->widths = g_new0(guint, t->n_cols);
    for (guint i = 0; min_widths != NULL && i < t->n_cols; i++)
        t->widths[i] = min_widths[i];
    t->rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
    vnic_cli_table_add(t, headers);
    return t;
}

void
vnic_cli_table_free(VnicCliTable *t)
{
    if (t == NULL)
        return;
    g_ptr_array_unref(t->rows);
    g_free(t->widths);
    g_free(t);
}

void
vnic_cli_table_add(VnicCliTable *t, const char *const *cells)
{
    char **row = g_new0(char *, t->n_cols + 1);

    for (guint i = 0; i < t->n_cols; i++) {
        row[i] = g_strdup(cells[i] != NULL && *cells[i] != '\0' ? cells[i] : "-");
        t->widths[i] = MAX(t->widths[i], (guint) g_utf8_strlen(row[i], -1));
    }
    g_ptr_array_add(t->rows, row);
}

static void
print_row(const VnicCliTable *t, char **row, GString *line)
{
    g_string_assign(line, t->indent);
    for (guint i = 0; i < t->n_cols; i++) {
        g_string_append(line, row[i]);
        if (i + 1 == t->n_cols)
            break;
        for (guint pad = (guint) g_utf8_strlen(row[i], -1); pad < t->widths[i]; pad++)
            g_string_append_c(line, ' ');
        g_string_append(line, t->sep);
    }
    puts(line->str);
}

void
vnic_cli_table_print(const VnicCliTable *t)
{
    g_autoptr(GString) line = g_string_new(NULL);
    gsize total = strlen(t->indent);

    for (guint i = 0; i < t->n_cols; i++)
        total += t->widths[i] + (i + 1 < t->n_cols ? strlen(t->sep) : 0);
    for (guint r = 0; r < t->rows->len; r++) {
        print_row(t, g_ptr_array_index(t->rows, r), line);
        if (r > 0)
            continue;
        g_string_truncate(line, 0);
        for (gsize i = 0; i < total; i++)
            g_string_append_c(line, '-');
        puts(line->str);
    }
}
