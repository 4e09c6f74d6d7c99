/* test-companion.c: companion mode with a real libvirt 9.0 (meson test
 * 'e2e-companion', docs/companion.md): guests libvirt runs, laid out by
 * `vnic plan`, hot-plugged where `vnic next-nic` says.
 *
 * The test runs its own libvirtd and virtlogd inside its private network and
 * mount namespaces (e2e-netns), so a system libvirt is never touched: the
 * harness' e2e-libvirt.h sets them up (libvirt's directories bind-mounted
 * from the temp root, a libvirt-qemu user in bind-mounted copies of
 * /etc/passwd and /etc/group, a qemu.conf running QEMU as root without
 * relabelling or cgroups) and stops only what it started.  virsh and vnic
 * reach this libvirtd as qemu:///system: its socket is the namespace's
 * /run/libvirt/libvirt-sock.
 *
 * Cases, in order:
 *   libvirtd   virtlogd -d, libvirtd -d; `virsh version` answers
 *   define     `vnic plan --policy nic-first --for-libvirt` of a pc
 *              (examples/cloudstack-pc.xml), a q35 (examples/q35.xml) and
 *              an acpi-index pc test copy: no vnic element left, `virsh
 *              define --validate` takes them, and the defined domains keep
 *              every NIC's address
 *   boot       `virsh start` all three; consoles ready
 *   names      the guests name the boot NICs ens3, ens4 (pc) and enp1s0,
 *              enp2s0 (q35), as `vnic plan` predicted
 *   hotplug-pc `vnic next-nic --libvirt DOM --json` says 0000:00:05.0 and
 *              ens5; `virsh attach-device --live` of its XML: the guest
 *              names the NIC ens5
 *   replug-pc  a second NIC (ens6 at 00:06.0), both detached (`virsh
 *              detach-device --live`): next-nic offers 00:05.0 to a new NIC,
 *              and `vnic next-nic --replug FILE` (the second one's old XML)
 *              its old 00:06.0; after attach-device the guest names it ens6
 *   hotplug-q35 the same on q35: enp3s0, the next root port
 *   hotplug-acpi a third guest, the pc one with <vnic:hotplug acpi-index='auto'/>:
 *              planned with <acpi index='1'/>, '2' (eno1, eno2 in the guest), and
 *              next-nic adds <acpi index='3'/>: eno3
 *   stop       virsh destroy + undefine; libvirtd and virtlogd get SIGTERM
 *              and exit; the mounts go, created mount points are removed
 */
#include <string.h>

#include "e2e.h"
#include "e2e-libvirt.h"

#define VIRSH_TIMEOUT 60

typedef struct {
    const char *example;
    const char *boot_names[2];     /* the guest names of the two boot NICs */
    const char *boot_macs[2];
    const char *next_name;         /* the hot-plugged NIC's */
    const char *next_address;
    const char *hot_mac;
    gboolean acpi_auto;            /* <vnic:hotplug acpi-index='auto'/> added */
    E2eDomainXml *xml;
    char *planned_path;
    E2eConsole *console;
    gboolean defined;
    gboolean booted;
    char *hot_xml_path;            /* next-nic's output, as attached */
    gboolean hot_plugged;
} Dom;

static struct {
    E2eLibvirt *libvirt;           /* the private libvirtd */
    gboolean up;
    Dom dom[3];
} S = {
    .dom = {
        { .example = "examples/cloudstack-pc.xml",
          .boot_names = { "ens3", "ens4" },
          .boot_macs = { "52:54:00:c5:00:01", "52:54:00:c5:00:02" },
          .next_name = "ens5", .next_address = "0000:00:05.0",
          .hot_mac = "52:54:00:c5:00:05" },
        { .example = "examples/q35.xml",
          .boot_names = { "enp1s0", "enp2s0" },
          .boot_macs = { "52:54:00:35:00:01", "52:54:00:35:00:02" },
          .next_name = "enp3s0", .next_address = "0000:03:00.0",
          .hot_mac = "52:54:00:35:00:05" },
        { .example = "examples/cloudstack-pc.xml", .acpi_auto = TRUE,
          .boot_names = { "eno1", "eno2" },
          .boot_macs = { "52:54:00:ac:00:01", "52:54:00:ac:00:02" },
          .next_name = "eno3", .next_address = "0000:00:05.0",
          .hot_mac = "52:54:00:ac:00:05" },
    },
};

#define PC (&S.dom[0])
#define Q35 (&S.dom[1])
#define ACPI (&S.dom[2])
#define N_DOMS ((int) G_N_ELEMENTS(S.dom))

#define NEED(cond, what)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_test_skip("needs " what ", which failed");                  \
            return;                                                       \
        }                                                                 \
    } while (0)

/* ---- commands ----------------------------------------------------------- */

static E2eCmdResult *
run(double timeout, const char *first, ...) G_GNUC_NULL_TERMINATED;

static E2eCmdResult *
run(double timeout, const char *first, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    va_list ap;

    va_start(ap, first);
    for (const char *arg = first; arg != NULL; arg = va_arg(ap, const char *))
        g_ptr_array_add(argv, (gpointer) arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    return e2e_cmd_run((const char *const *) argv->pdata, timeout);
}

#define VIRSH(...) run(VIRSH_TIMEOUT, "virsh", "-c", "qemu:///system", __VA_ARGS__, NULL)
#define VNIC(...) run(60, e2e_vnic_binary(), __VA_ARGS__, NULL)

/* Fails the case with the command's description unless it exited 0. */
#define CHECK_OK(result)                                                               \
    do {                                                                               \
        if ((result)->status != 0) {                                                   \
            g_autofree char *desc_ = e2e_cmd_result_describe(result);                  \
            g_test_fail_printf("%s", desc_);                                           \
            return;                                                                    \
        }                                                                              \
    } while (0)

static gboolean
write_file(const char *path, const char *text, GError **error)
{
    return g_file_set_contents(path, text, -1, error);
}

/* ---- the private libvirt ------------------------------------------------ */

static void
test_libvirtd(void)
{
    g_autoptr(GError) error = NULL;
    gint64 deadline;

    S.libvirt = e2e_libvirt_new();
    E2E_CHECK(e2e_libvirt_start(S.libvirt, &error), "private libvirtd: %s", error->message);
    deadline = e2e_deadline(60);
    for (;;) {
        g_autoptr(E2eCmdResult) version = VIRSH("version");

        if (version->status == 0) {
            g_test_message("%s", version->out);
            break;
        }
        if (e2e_ms_left(deadline) == 0) {
            g_autofree char *desc = e2e_cmd_result_describe(version);
            g_autofree char *tail = e2e_libvirt_log_tail(S.libvirt, 20);

            g_test_fail_printf("libvirtd never answered: %s\nlibvirtd.log:\n%s", desc, tail);
            return;
        }
        g_usleep(300 * 1000);
    }
    S.up = TRUE;
}

/* ---- the guests --------------------------------------------------------- */

static void
define_one(Dom *dom, const char *tag)
{
    g_autoptr(GError) error = NULL;

    dom->xml = e2e_xml_prepare(dom->example, tag, &error);
    E2E_CHECK_NO_ERROR(error, dom->example);
    if (dom->acpi_auto) {
        /* vnic numbers the NICs; libvirt only ever sees the numbers */
        g_autoptr(GString) x = g_string_new(dom->xml->xml);

        g_string_replace(x, "<domain ", "<domain xmlns:vnic='urn:x-vnic:domain:1' ", 1);
        g_string_replace(x, "</devices>", "</devices>\n  <vnic:hotplug acpi-index='auto'/>", 1);
        g_string_replace(x, "52:54:00:c5:00:0", "52:54:00:ac:00:0", 0);
        E2E_CHECK(write_file(dom->xml->xml_path, x->str, &error), "%s", error->message);
    }
    g_autoptr(E2eCmdResult) plan = VNIC("plan", "--policy", "nic-first", "--for-libvirt",
                                        dom->xml->xml_path);
    CHECK_OK(plan);
    E2E_CHECK(strstr(plan->out, "urn:x-vnic") == NULL && strstr(plan->out, "<vnic:") == NULL,
              "--for-libvirt left vnic's elements in:\n%s",
              plan->out);
    dom->planned_path = g_build_filename(dom->xml->dir, "planned.xml", NULL);
    E2E_CHECK(write_file(dom->planned_path, plan->out, &error), "%s", error->message);
    /* unchanged, and against libvirt's schema */
    g_autoptr(E2eCmdResult) def = VIRSH("define", "--validate", dom->planned_path);
    CHECK_OK(def);
    dom->defined = TRUE;
    g_autoptr(E2eCmdResult) dump = VIRSH("dumpxml", "--inactive", dom->xml->name);
    CHECK_OK(dump);
    for (int i = 0; i < 2; i++) {
        /* vnic writes <mac> then … <address>; so does libvirt */
        g_autofree char *pattern = g_strdup_printf("<mac address='%s'/>", dom->boot_macs[i]);
        const char *in_plan = strstr(plan->out, pattern);
        const char *in_libvirt = strstr(dump->out, pattern);
        const char *a = in_plan ? strstr(in_plan, "<address ") : NULL;
        const char *b = in_libvirt ? strstr(in_libvirt, "<address ") : NULL;

        E2E_CHECK(a != NULL && b != NULL, "NIC %s: no address in the plan or in libvirt's XML",
                  dom->boot_macs[i]);
        E2E_CHECK(strncmp(a, b, strcspn(a, "\n")) == 0,
                  "NIC %s: libvirt changed its address: planned %.*s, defined %.*s",
                  dom->boot_macs[i], (int) strcspn(a, "\n"), a, (int) strcspn(b, "\n"), b);
    }
}

static void
test_define(void)
{
    NEED(S.up, "/e2e/companion/libvirtd");
    define_one(PC, "lvpc");
    define_one(Q35, "lvq35");
    define_one(ACPI, "lvacpi");
}

static void
test_boot(void)
{
    g_autoptr(GError) error = NULL;

    NEED(PC->defined && Q35->defined && ACPI->defined, "/e2e/companion/define");
    for (int i = 0; i < N_DOMS; i++) {
        Dom *dom = &S.dom[i];
        g_autoptr(E2eCmdResult) start = VIRSH("start", dom->xml->name);

        CHECK_OK(start);
        dom->console = e2e_console_connect(dom->xml->serial_path, 20, &error);
        E2E_CHECK_NO_ERROR(error, "console");
    }
    for (int i = 0; i < N_DOMS; i++) {
        Dom *dom = &S.dom[i];

        E2E_CHECK(e2e_console_wait_ready(dom->console, 180, &error), "%s: %s", dom->xml->name,
                  error->message);
        dom->booted = TRUE;
    }
}

static void
check_names(Dom *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) nics = e2e_guest_nics(dom->console, &error);

    E2E_CHECK_NO_ERROR(error, "listing the guest's NICs");
    for (int i = 0; i < 2; i++) {
        const E2eGuestNic *nic = e2e_guest_nics_find_mac(nics, dom->boot_macs[i]);

        E2E_CHECK(nic != NULL, "%s: no guest NIC with MAC %s", dom->xml->name, dom->boot_macs[i]);
        E2E_CHECK(g_strcmp0(e2e_guest_nic_preferred(nic), dom->boot_names[i]) == 0,
                  "%s: NIC %s is %s in the guest, planned %s", dom->xml->name,
                  dom->boot_macs[i], e2e_guest_nic_preferred(nic), dom->boot_names[i]);
    }
}

static void
test_names(void)
{
    NEED(PC->booted && Q35->booted && ACPI->booted, "/e2e/companion/boot");
    check_names(PC);
    check_names(Q35);
    check_names(ACPI);
}

/* Polls the guest (up to ~30 s) until a NIC with @mac is there (@present)
 * or gone; *@name gets its name. */
static gboolean
wait_for_nic(Dom *dom, const char *mac, gboolean present, char **name, GError **error)
{
    for (int round = 0; round < 60; round++) {
        g_autoptr(GPtrArray) nics = e2e_guest_nics(dom->console, error);
        const E2eGuestNic *nic = nics != NULL ? e2e_guest_nics_find_mac(nics, mac) : NULL;

        if (nics == NULL)
            return FALSE;
        if (present && nic != NULL && e2e_guest_nic_preferred(nic) != NULL) {
            if (name != NULL)
                *name = g_strdup(e2e_guest_nic_preferred(nic));
            return TRUE;
        }
        if (!present && nic == NULL)
            return TRUE;
        g_usleep(500 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the guest %s NIC %s after 30 s",
                present ? "never showed" : "still has", mac);
    return FALSE;
}

/* `vnic next-nic … --json` → the XML in a file; checks that it predicts
 * @want_name at @want_address. */
static gboolean
next_nic(Dom *dom, const char *const *extra, const char *want_address, const char *want_name,
         char **xml_path, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(E2eCmdResult) r = NULL;
    g_autoptr(JsonNode) node = NULL;
    JsonObject *o, *names;

    g_ptr_array_add(argv, (gpointer) e2e_vnic_binary());
    g_ptr_array_add(argv, (gpointer) "next-nic");
    g_ptr_array_add(argv, (gpointer) "--libvirt");
    g_ptr_array_add(argv, dom->xml->name);
    for (; *extra != NULL; extra++)
        g_ptr_array_add(argv, (gpointer) *extra);
    g_ptr_array_add(argv, (gpointer) "--json");
    g_ptr_array_add(argv, NULL);
    r = e2e_cmd_run((const char *const *) argv->pdata, 60);
    if (r->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(r);

        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    if (!(node = e2e_json_parse(r->out, error)))
        return FALSE;
    o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    names = o != NULL ? e2e_json_member_object(o, "names") : NULL;
    if (names == NULL || e2e_json_get_string(o, "xml") == NULL ||
        g_strcmp0(e2e_json_get_string(o, "address"), want_address) != 0 ||
        g_strcmp0(e2e_json_get_string(names, "preferred"), want_name) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "next-nic predicts %s at %s, expected %s at %s:\n%s",
                    names != NULL ? e2e_json_get_string(names, "preferred") : "?",
                    o != NULL ? e2e_json_get_string(o, "address") : "?", want_name,
                    want_address, r->out);
        return FALSE;
    }
    *xml_path = g_strdup_printf("%s/nic-%d.xml", dom->xml->dir, g_random_int_range(0, 1 << 30));
    return g_file_set_contents(*xml_path, e2e_json_get_string(o, "xml"), -1, error);
}

/* virsh attach-device of @xml_path; the guest names NIC @mac @want. */
static gboolean
attach_and_check(Dom *dom, const char *xml_path, const char *mac, const char *want,
                 GError **error)
{
    g_autofree char *name = NULL;
    g_autoptr(E2eCmdResult) attach = VIRSH("attach-device", dom->xml->name, xml_path, "--live");

    if (attach->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(attach);

        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    if (!wait_for_nic(dom, mac, TRUE, &name, error))
        return FALSE;
    if (g_strcmp0(name, want) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s: the guest names the hot-plugged NIC %s %s, next-nic said %s",
                    dom->xml->name, mac, name, want);
        return FALSE;
    }
    g_test_message("%s: hot-plugged NIC %s is %s in the guest", dom->xml->name, mac, name);
    return TRUE;
}

/* virsh detach-device of @xml_path, until the guest and libvirt's live XML
 * no longer have NIC @mac. */
static gboolean
detach_and_wait(Dom *dom, const char *xml_path, const char *mac, GError **error)
{
    g_autoptr(E2eCmdResult) detach = VIRSH("detach-device", dom->xml->name, xml_path, "--live");

    if (detach->status != 0) {
        g_autofree char *desc = e2e_cmd_result_describe(detach);

        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
        return FALSE;
    }
    if (!wait_for_nic(dom, mac, FALSE, NULL, error))
        return FALSE;
    /* libvirt may answer before QEMU released the slot */
    for (int round = 0; round < 40; round++) {
        g_autoptr(E2eCmdResult) dump = VIRSH("dumpxml", dom->xml->name);

        if (dump->status == 0 && strstr(dump->out, mac) == NULL)
            return TRUE;
        g_usleep(250 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                "libvirt still lists NIC %s 10 s after detach-device", mac);
    return FALSE;
}

static void
hotplug(Dom *dom)
{
    g_autoptr(GError) error = NULL;
    const char *const extra[] = { "--type", "ethernet", "--mac", dom->hot_mac, NULL };

    NEED(dom->booted, "/e2e/companion/boot");
    E2E_CHECK(next_nic(dom, extra, dom->next_address, dom->next_name, &dom->hot_xml_path,
                       &error), "%s", error->message);
    E2E_CHECK(attach_and_check(dom, dom->hot_xml_path, dom->hot_mac, dom->next_name, &error),
              "%s", error->message);
    dom->hot_plugged = TRUE;
}

static void
test_hotplug_pc(void)
{
    hotplug(PC);
}

static void
test_hotplug_q35(void)
{
    hotplug(Q35);
}

/* next-nic gives the NIC acpi index 3 (its XML says so): eno3. */
static void
test_hotplug_acpi(void)
{
    hotplug(ACPI);
}

/* A second NIC (ens6), then both detached: the first free slot is 05 again,
 * but `next-nic --replug FILE` with the second one's old XML puts it back
 * at 06, and the guest names it ens6 again. */
static void
test_replug_pc(void)
{
    static const char *const mac6 = "52:54:00:c5:00:06";
    const char *const extra6[] = { "--type", "ethernet", "--mac", mac6, NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *xml6 = NULL;
    g_autofree char *again = NULL;

    NEED(PC->hot_plugged, "/e2e/companion/hotplug-pc");
    E2E_CHECK(next_nic(PC, extra6, "0000:00:06.0", "ens6", &xml6, &error), "%s",
              error->message);
    E2E_CHECK(attach_and_check(PC, xml6, mac6, "ens6", &error), "%s", error->message);
    E2E_CHECK(detach_and_wait(PC, PC->hot_xml_path, PC->hot_mac, &error), "%s", error->message);
    E2E_CHECK(detach_and_wait(PC, xml6, mac6, &error), "%s", error->message);
    {
        const char *const fresh[] = { "--type", "ethernet", NULL };
        const char *const replug[] = { "--replug", xml6, NULL };
        g_autofree char *unused = NULL;

        /* a new NIC would take the lowest free slot … */
        E2E_CHECK(next_nic(PC, fresh, PC->next_address, PC->next_name, &unused, &error), "%s",
                  error->message);
        /* … the replugged one gets its own back */
        E2E_CHECK(next_nic(PC, replug, "0000:00:06.0", "ens6", &again, &error), "%s",
                  error->message);
    }
    E2E_CHECK(attach_and_check(PC, again, mac6, "ens6", &error), "%s", error->message);
}

static void
test_stop(void)
{
    NEED(S.libvirt != NULL, "/e2e/companion/libvirtd");
    for (int i = 0; i < N_DOMS; i++) {
        Dom *dom = &S.dom[i];

        if (dom->defined) {
            g_autoptr(E2eCmdResult) destroy = VIRSH("destroy", dom->xml->name);
            g_autoptr(E2eCmdResult) undefine = VIRSH("undefine", dom->xml->name);

            E2E_CHECK(!dom->booted || destroy->status == 0, "virsh destroy %s failed: %s",
                      dom->xml->name, destroy->err);
            E2E_CHECK(undefine->status == 0, "virsh undefine %s failed: %s", dom->xml->name,
                      undefine->err);
        }
        g_clear_pointer(&dom->console, e2e_console_free);
    }
    E2E_CHECK(e2e_libvirt_stop_daemons(S.libvirt), "libvirtd or virtlogd did not exit on SIGTERM");
    E2E_CHECK(e2e_libvirt_undo_mounts(S.libvirt),
              "a libvirt directory is still mounted, or a mount point was left behind");
}

/* libvirt's programs, checked before anything starts (e2e_init's rules:
 * fail, or skip with VNIC_E2E_ALLOW_SKIP=1). */
static void
require_libvirt(void)
{
    static const char *const programs[] = { "libvirtd", "virtlogd", "virsh" };

    for (gsize i = 0; i < G_N_ELEMENTS(programs); i++) {
        g_autofree char *path = g_find_program_in_path(programs[i]);

        if (path != NULL)
            continue;
        g_printerr("e2e: no %s (apt-get install libvirt-daemon libvirt-daemon-driver-qemu "
                   "libvirt-clients; scripts/deps.sh)\n", programs[i]);
        exit(g_strcmp0(g_getenv("VNIC_E2E_ALLOW_SKIP"), "1") == 0 ? 77 : 1);
    }
}

static void
cleanup_dom(Dom *dom)
{
    e2e_domain_xml_free(dom->xml);
    g_free(dom->planned_path);
    g_free(dom->hot_xml_path);
    if (dom->console != NULL)
        e2e_console_free(dom->console);
}

int
main(int argc, char **argv)
{
    int rc;

    require_libvirt();
    e2e_init(&argc, &argv, E2E_NEED_GUEST | E2E_NEED_VNIC);
    g_test_add_func("/e2e/companion/libvirtd", test_libvirtd);
    g_test_add_func("/e2e/companion/define", test_define);
    g_test_add_func("/e2e/companion/boot", test_boot);
    g_test_add_func("/e2e/companion/names", test_names);
    g_test_add_func("/e2e/companion/hotplug-pc", test_hotplug_pc);
    g_test_add_func("/e2e/companion/replug-pc", test_replug_pc);
    g_test_add_func("/e2e/companion/hotplug-q35", test_hotplug_q35);
    g_test_add_func("/e2e/companion/hotplug-acpi", test_hotplug_acpi);
    g_test_add_func("/e2e/companion/stop", test_stop);
    rc = e2e_finish();
    if (rc != 0 && S.libvirt != NULL) {
        g_autofree char *tail = e2e_libvirt_log_tail(S.libvirt, 30);

        g_printerr("libvirtd log:\n%s\n", tail);
        for (int i = 0; i < N_DOMS; i++) {
            if (S.dom[i].console != NULL) {
                g_autofree char *t = e2e_console_transcript(S.dom[i].console, 2000);

                g_printerr("console of %s:\n%s\n", S.dom[i].xml->name, t);
            }
        }
    }
    /* after a failed case: what is still up of it, and its mounts */
    g_clear_pointer(&S.libvirt, e2e_libvirt_free);
    for (int i = 0; i < N_DOMS; i++)
        cleanup_dom(&S.dom[i]);
    return rc;
}
