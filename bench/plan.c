/* bench/plan.c: how long planning takes as domains grow.
 *
 * Prints the median wall time of parse + plan, and of plan alone, for pc
 * with 1, 100 and 1000 NICs and q35 with 1, 100 and 200 NICs.  A benchmark,
 * not a test: it asserts nothing. */
#include "pci/pci-plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 41

static char *
domain_xml(const char *machine, guint nics)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "<domain type='qemu'><name>bench</name><memory>131072</memory>"
                              "<os><type arch='x86_64' machine='%s'>hvm</type></os>"
                              "<features><acpi/></features><devices>", machine);
    for (guint i = 0; i < nics; i++)
        g_string_append_printf(s, "<interface type='ethernet'><mac address='52:54:00:00:%02x:%02x'/>"
                                  "<model type='virtio'/></interface>", (i + 1) >> 8, (i + 1) & 0xff);
    g_string_append(s, "<disk type='file' device='disk'><source file='/x'/>"
                       "<target dev='vda' bus='virtio'/></disk><video><model type='vga'/></video>"
                       "</devices></domain>");
    return g_string_free(s, FALSE);
}

static gint
cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void
bench(const char *machine, guint nics)
{
    g_autofree char *xml = domain_xml(machine, nics);
    double total[RUNS], plan_only[RUNS];

    for (guint r = 0; r < RUNS; r++) {
        g_autoptr(GError) error = NULL;
        VnicPciPlanOptions opts = { .policy = VNIC_PCI_POLICY_NIC_FIRST, .spare_ports = -1 };
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(VnicConfDomain) def = vnic_conf_domain_parse(xml, strlen(xml), &error);
        gint64 t1 = g_get_monotonic_time();

        if (!def || !vnic_pci_plan(def, &opts, &error)) {
            fprintf(stderr, "bench/plan: %s\n", error->message);
            exit(1);
        }
        total[r] = (g_get_monotonic_time() - t0) / 1000.0;
        plan_only[r] = (g_get_monotonic_time() - t1) / 1000.0;
    }
    qsort(total, RUNS, sizeof(double), cmp_double);
    qsort(plan_only, RUNS, sizeof(double), cmp_double);
    printf("%-4s %5u NICs   plan %8.3f ms   parse+plan %8.3f ms   (median of %d)\n", machine, nics,
           plan_only[RUNS / 2], total[RUNS / 2], RUNS);
}

int
main(void)
{
    const guint pc[] = { 1, 100, 1000 }, q35[] = { 1, 100, 200 };

    for (guint i = 0; i < G_N_ELEMENTS(pc); i++)
        bench("pc", pc[i]);
    for (guint i = 0; i < G_N_ELEMENTS(q35); i++)
        bench("q35", q35[i]);
    return 0;
}
