/* test-qemu-helpers.c: see test-qemu-helpers.h. */
#include "test-qemu-helpers.h"

#include <string.h>

VnicConfDomain *
tq_parse(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = vnic_conf_domain_parse(xml, strlen(xml), &error);
    VnicPciPlanOptions opts = { .policy = VNIC_PCI_POLICY_NIC_FIRST, .spare_ports = -1 };

    g_assert_no_error(error);
    g_assert_true(vnic_pci_plan(def, &opts, &error));
    g_assert_no_error(error);
    return g_steal_pointer(&def);
}

VnicConfDomain *
tq_load_example(const char *name)
{
    g_autofree char *path = g_build_filename(VNIC_SOURCE_DIR, "examples", name, NULL);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    g_assert_no_error(error);
    return tq_parse(xml);
}

VnicConfDevice *
tq_nth(const VnicConfDomain *def, VnicConfDeviceKind kind, guint n)
{
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == kind && n-- == 0)
            return dev;
    }
    g_assert_not_reached();
}

VnicQemuRuntime *
tq_describe_runtime(const VnicConfDomain *def)
{
    /* the runtime define checks against (qemu-check.c) */
    return vnic_qemu_runtime_describe(def);
}

char *
tq_argv_lines(const VnicQemuCommand *cmd)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; i < cmd->argv->len && cmd->argv->pdata[i] != NULL; i++)
        g_string_append_printf(s, "%s\n", (const char *) cmd->argv->pdata[i]);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean
tq_argv_has(const VnicQemuCommand *cmd, const char *arg)
{
    for (guint i = 0; i < cmd->argv->len && cmd->argv->pdata[i] != NULL; i++) {
        if (strcmp(cmd->argv->pdata[i], arg) == 0)
            return TRUE;
    }
    return FALSE;
}

const char *
tq_argv_find(const VnicQemuCommand *cmd, const char *option, const char *needle)
{
    for (guint i = 0; i + 1 < cmd->argv->len && cmd->argv->pdata[i + 1] != NULL; i++) {
        if (strcmp(cmd->argv->pdata[i], option) == 0 &&
            strstr(cmd->argv->pdata[i + 1], needle) != NULL)
            return cmd->argv->pdata[i + 1];
    }
    return NULL;
}

void
tq_assert_build_fails(const VnicConfDomain *def, VnicQemuErrorCode code, const char *needle)
{
    g_autoptr(VnicQemuRuntime) rt = tq_describe_runtime(def);
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicQemuCommand) cmd = vnic_qemu_command_build(def, rt, &error);

    g_assert_null(cmd);
    g_assert_error(error, VNIC_QEMU_ERROR, (gint) code);
    if (strstr(error->message, needle) == NULL)
        g_error("message '%s' does not contain '%s'", error->message, needle);
}

static gboolean
on_deadline(gpointer data)
{
    *(gboolean *) data = TRUE;
    return G_SOURCE_REMOVE;
}

void
tq_run_until(const gboolean *flag, guint ms)
{
    gboolean expired = FALSE;
    guint id = g_timeout_add(ms, on_deadline, &expired);

    while (!*flag && !expired)
        g_main_context_iteration(NULL, TRUE);
    if (!expired)
        g_source_remove(id);
    g_assert_true(*flag);
}
