/* qemu-command-affinity.c: CPU pinning from the domain XML.  Pure.
 *
 *   <vcpu cpuset>             every QEMU thread may run on these host CPUs
 *   <cputune><emulatorpin>    the whole process (QEMU's own threads), instead
 *   <cputune><vcpupin vcpu>   vCPU N's thread, set after start (its thread id
 *                             comes from query-cpus-fast); vCPUs without one
 *                             keep <vcpu cpuset>
 *
 * The process mask is applied by the launched child before exec
 * (sched_setaffinity), so threads QEMU creates inherit it; the vCPU masks by
 * vnicd once QEMU has its vCPU threads, before the guest runs.  libvirt
 * pins the same way; the <iothreadpin>, <emulatorsched>, <vcpusched> rows
 * are refused.
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

#define VNIC_QEMU_MAX_HOST_CPU 4095

/* libvirt's cpuset syntax: "0-3,^2,8". */
static GArray *
parse_cpuset(const char *text, const char *what, GError **error)
{
    g_autoptr(GArray) cpus = g_array_new(FALSE, FALSE, sizeof(guint));
    gboolean set[VNIC_QEMU_MAX_HOST_CPU + 1] = { FALSE };
    g_auto(GStrv) parts = g_strsplit(text != NULL ? text : "", ",", -1);

    for (guint i = 0; parts[i] != NULL; i++) {
        const char *p = g_strstrip(parts[i]);
        gboolean exclude = *p == '^';
        char *end = NULL;
        guint64 lo, hi;

        if (exclude)
            p++;
        lo = g_ascii_strtoull(p, &end, 10);
        hi = lo;
        if (end != p && *end == '-' && !exclude)
            hi = g_ascii_strtoull(end + 1, &end, 10);
        if (end == p || *end != '\0' || hi < lo || hi > VNIC_QEMU_MAX_HOST_CPU) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                        "invalid value '%s' for %s: a CPU list such as 0-3,^2,8", text, what);
            return NULL;
        }
        for (guint64 c = lo; c <= hi; c++)
            set[c] = !exclude;
    }
    for (guint c = 0; c <= VNIC_QEMU_MAX_HOST_CPU; c++) {
        if (set[c])
            g_array_append_val(cpus, c);
    }
    if (cpus->len == 0) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "invalid value '%s' for %s: no CPU left", text, what);
        return NULL;
    }
    return g_steal_pointer(&cpus);
}

static gboolean
vcpupins(VnicQemuBuild *b, xmlNode *cputune, GError **error)
{
    guint64 vcpus = b->def->vcpus != 0 ? b->def->vcpus : 1;

    for (xmlNode *c = cputune != NULL ? cputune->children : NULL; c != NULL; c = c->next) {
        g_autofree char *cpuset = NULL;
        GArray *cpus;
        guint64 vcpu;

        if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "vcpupin") != 0)
            continue;
        if (!vnic_qemu_xml_prop_uint(b->def, NULL, c, "vcpu", G_MAXUINT64, &vcpu, error))
            return FALSE;
        if (vcpu >= vcpus) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                        "invalid value '%" G_GUINT64_FORMAT "' for <vcpupin vcpu>: the domain "
                        "has %" G_GUINT64_FORMAT " vCPUs", vcpu, vcpus);
            return FALSE;
        }
        cpuset = vnic_qemu_xml_prop(c, "cpuset");
        if ((cpus = parse_cpuset(cpuset, "<vcpupin cpuset>", error)) == NULL)
            return FALSE;
        if (b->cmd->vcpu_affinity->len <= vcpu)
            g_ptr_array_set_size(b->cmd->vcpu_affinity, (guint) vcpu + 1);
        g_clear_pointer(&g_ptr_array_index(b->cmd->vcpu_affinity, vcpu), g_array_unref);
        g_ptr_array_index(b->cmd->vcpu_affinity, vcpu) = cpus;
    }
    return TRUE;
}

gboolean
vnic_qemu_build_affinity(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    static const char *const refused[] = { "iothreadpin", "emulatorsched", "vcpusched",
                                           "iothreadsched", "cachetune", "memorytune", NULL };
    xmlNode *cputune = vnic_qemu_xml_child(root, "cputune");
    g_autofree char *vcpu_set = vnic_qemu_xml_prop(vnic_qemu_xml_child(root, "vcpu"), "cpuset");
    g_autofree char *emu_set = vnic_qemu_xml_prop(vnic_qemu_xml_child(cputune, "emulatorpin"),
                                                  "cpuset");

    for (guint i = 0; refused[i] != NULL; i++) {
        if (vnic_qemu_xml_child(cputune, refused[i]) != NULL) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "<cputune><%s> is not supported by the QEMU launcher", refused[i]);
            return FALSE;
        }
    }
    if (emu_set != NULL || vcpu_set != NULL) {
        b->cmd->process_affinity = parse_cpuset(emu_set != NULL ? emu_set : vcpu_set,
                                                emu_set != NULL ? "<emulatorpin cpuset>"
                                                                : "<vcpu cpuset>",
                                                error);
        if (b->cmd->process_affinity == NULL)
            return FALSE;
    }
    if (!vcpupins(b, cputune, error))
        return FALSE;
    /* with <emulatorpin>, vCPUs without a <vcpupin> keep <vcpu cpuset> */
    if (emu_set != NULL && vcpu_set != NULL) {
        guint64 vcpus = b->def->vcpus != 0 ? b->def->vcpus : 1;

        if (b->cmd->vcpu_affinity->len < vcpus)
            g_ptr_array_set_size(b->cmd->vcpu_affinity, (guint) vcpus);
        for (guint i = 0; i < vcpus; i++) {
            if (g_ptr_array_index(b->cmd->vcpu_affinity, i) == NULL)
                g_ptr_array_index(b->cmd->vcpu_affinity, i) =
                    parse_cpuset(vcpu_set, "<vcpu cpuset>", NULL);
        }
    }
    return TRUE;
}
