/* bench/compare-libvirt.c: vnic side by side with libvirt 9.0, interleaved.
 *
 * As root (run it through bench/compare-libvirt.sh, which installs libvirt
 * from Debian when it is absent).  In the harness' private network and
 * mount namespaces (the host's links and /etc, /run are untouched) it runs
 * its own libvirtd and virtlogd, set up by tests/e2e/e2e-libvirt.h as for
 * e2e-companion (libvirt's directories bind-mounted from a temp dir, a
 * libvirt-qemu user in bind-mounted copies of /etc/passwd and /etc/group, a
 * qemu.conf running QEMU as root without relabelling or cgroups).  Next to
 * it one vnicd in temp dirs (production logging, run dir on a tmpfs).  Both
 * are driven over their APIs from this one process: libvirt's C API
 * (libvirt.so.0 and libvirt-qemu.so.0, loaded at run time, so building
 * needs no libvirt-dev) and vnicd's JSON API.  Every measure alternates
 * libvirt and vnic:
 *   define, 100 NICs       a CloudStack-like pc domain (bench/conf-xml.c),
 *                          redefined DEFINE_RUNS times
 *   dumpxml --inactive     of one with 500 NICs, DUMP_RUNS times
 *   start → QEMU running   a copy of examples/cloudstack-pc.xml (the tiny
 *                          guest), START_RUNS starts, each destroyed again
 *   attach, detach         both guests booted; CYCLES cycles of attaching an
 *                          ethernet virtio NIC (--live), the guest seeing
 *                          it, and detaching it (who goes first alternates):
 *      request → return        the API call
 *      request → NIC in guest  until the guest's console prints the marker
 *                              of a loop of shell builtins sent to it before
 *                              the request (the same for both guests)
 *      detach → completed      the API call (libvirt waits for the guest's
 *                              DEVICE_DELETED up to 5 s, vnicd until it)
 *      beyond DEVICE_DELETED   the return after QEMU's DEVICE_DELETED: for
 *                              libvirt from the event's QEMU timestamp (QMP
 *                              events through libvirt-qemu), for vnicd its
 *                              reply's cleanup-us
 *   and, over request → NIC in guest, what each guest's QEMU got of the
 *   CPUs (all its threads, /proc/PID/task/STAR/schedstat): CPU time and
 *   run-queue wait
 * and prints the table of issue #12 (medians, ratio = libvirt / vnic) with
 * the targets.  --samples DIR writes the raw attach and detach round trips,
 * one number in ms a line: DIR/attach-libvirt.dat, detach-libvirt.dat,
 * attach-vnic.dat, detach-vnic.dat (bench/plot-latency.sh draws them), and
 * request → NIC in the guest: attach-guest-libvirt.dat, attach-guest-vnic.dat,
 * and its QEMU's CPU time and run-queue wait: attach-guest-cpu-*.dat,
 * attach-guest-wait-*.dat.
 * --cycles N changes CYCLES.  Asserts nothing about the numbers.
 * Everything it started goes at the end: domains destroyed and undefined,
 * libvirtd and virtlogd stopped (its own, by their pid files), the mounts
 * undone, mount points it created removed; the namespaces go with it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-util.h"
#include "conf-xml.h"
#include "e2e-libvirt.h"

#define DEFINE_RUNS 20
#define DUMP_RUNS 50
#define START_RUNS 5
#define DEFAULT_CYCLES 20

/* --- libvirt's C API, loaded at run time ------------------------------------------ */

/* The few entry points used, as libvirt's public headers declare them
 * (opaque pointers; VIR_DOMAIN_XML_INACTIVE, VIR_DOMAIN_AFFECT_LIVE). */
typedef void *VirConn;
typedef void *VirDom;
typedef void (*VirQemuEventCb)(VirConn conn, VirDom dom, const char *event, long long seconds,
                               unsigned int micros, const char *details, void *opaque);
#define VIR_DOMAIN_XML_INACTIVE 2
#define VIR_DOMAIN_AFFECT_LIVE 1

static struct {
    void *lib, *qemu_lib;
    VirConn (*open)(const char *uri);
    int (*close)(VirConn conn);
    VirDom (*define)(VirConn conn, const char *xml);
    char *(*get_xml)(VirDom dom, unsigned int flags);
    int (*create)(VirDom dom);
    int (*destroy)(VirDom dom);
    int (*undefine)(VirDom dom);
    int (*dom_free)(VirDom dom);
    int (*attach)(VirDom dom, const char *xml, unsigned int flags);
    int (*detach)(VirDom dom, const char *xml, unsigned int flags);
    int (*event_register_impl)(void);
    int (*event_run_once)(void);
    int (*event_add_timeout)(int ms, void (*cb)(int timer, void *opaque), void *opaque, void (*ff)(void *));
    const char *(*last_error)(void);
    int (*qemu_event_register)(VirConn conn, VirDom dom, const char *event, VirQemuEventCb cb,
                               void *opaque, void (*ff)(void *), unsigned int flags);
} LV;

static gboolean
load_sym(void *lib, const char *name, void *out, GError **error)
{
    void *sym = dlsym(lib, name);
    if (sym == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "libvirt has no %s: %s", name, dlerror());
        return FALSE;
    }
    memcpy(out, &sym, sizeof sym);
    return TRUE;
}

static gboolean
libvirt_load(GError **error)
{
    LV.lib = dlopen("libvirt.so.0", RTLD_NOW | RTLD_GLOBAL);
    LV.qemu_lib = LV.lib != NULL ? dlopen("libvirt-qemu.so.0", RTLD_NOW) : NULL;
    if (LV.qemu_lib == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "cannot load libvirt (libvirt0 from Debian): %s", dlerror());
        return FALSE;
    }
    return load_sym(LV.lib, "virConnectOpen", &LV.open, error) &&
           load_sym(LV.lib, "virConnectClose", &LV.close, error) &&
           load_sym(LV.lib, "virDomainDefineXML", &LV.define, error) &&
           load_sym(LV.lib, "virDomainGetXMLDesc", &LV.get_xml, error) &&
           load_sym(LV.lib, "virDomainCreate", &LV.create, error) &&
           load_sym(LV.lib, "virDomainDestroy", &LV.destroy, error) &&
           load_sym(LV.lib, "virDomainUndefine", &LV.undefine, error) &&
           load_sym(LV.lib, "virDomainFree", &LV.dom_free, error) &&
           load_sym(LV.lib, "virDomainAttachDeviceFlags", &LV.attach, error) &&
           load_sym(LV.lib, "virDomainDetachDeviceFlags", &LV.detach, error) &&
           load_sym(LV.lib, "virEventRegisterDefaultImpl", &LV.event_register_impl, error) &&
           load_sym(LV.lib, "virEventRunDefaultImpl", &LV.event_run_once, error) &&
           load_sym(LV.lib, "virEventAddTimeout", &LV.event_add_timeout, error) &&
           load_sym(LV.lib, "virGetLastErrorMessage", &LV.last_error, error) &&
           load_sym(LV.qemu_lib, "virConnectDomainQemuMonitorEventRegister", &LV.qemu_event_register,
                    error);
}

static gboolean
lv_fail(GError **error, const char *what)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "libvirt: %s: %s", what, LV.last_error());
    return FALSE;
}

/* --- the private libvirtd (tests/e2e/e2e-libvirt.h, as e2e-companion runs it) ------- */

static struct {
    E2eLibvirt *libvirt;
    VirConn conn;
    GThread *loop;
    gint stop_loop;
    gint64 deleted_us;            /* QEMU's timestamp of the last DEVICE_DELETED (real time) */
    GMutex lock;

    E2eDaemon *daemon;
    E2eJsonConn *api;
    guint cycles;
    const char *samples_dir;
} S;

/* libvirt's event loop, in a thread: it carries the QMP events. */
static void
loop_tick(int timer, void *opaque)
{
    (void)timer, (void)opaque;
}

static gpointer
event_loop(gpointer data)
{
    (void)data;
    while (!g_atomic_int_get(&S.stop_loop))
        LV.event_run_once();
    return NULL;
}

static void
on_qemu_event(VirConn conn, VirDom dom, const char *event, long long seconds, unsigned int micros,
              const char *details, void *opaque)
{
    (void)conn, (void)dom, (void)details, (void)opaque;
    if (g_strcmp0(event, "DEVICE_DELETED") != 0 || details == NULL || strstr(details, "\"net") == NULL)
        return;
    g_mutex_lock(&S.lock);
    S.deleted_us = seconds * G_USEC_PER_SEC + micros;
    g_mutex_unlock(&S.lock);
}

static gboolean
libvirt_start(GError **error)
{
    S.libvirt = e2e_libvirt_new();
    if (!e2e_libvirt_start(S.libvirt, error))
        return FALSE;
    if (LV.event_register_impl() != 0 || LV.event_add_timeout(200, loop_tick, NULL, NULL) < 0)
        return lv_fail(error, "event loop");
    S.loop = g_thread_new("libvirt-events", event_loop, NULL);
    gint64 deadline = e2e_deadline(60);
    while ((S.conn = LV.open("qemu:///system")) == NULL) {
        if (e2e_ms_left(deadline) == 0)
            return lv_fail(error, "libvirtd never answered on qemu:///system");
        g_usleep(300 * 1000);
    }
    if (LV.qemu_event_register(S.conn, NULL, "DEVICE_DELETED", on_qemu_event, NULL, NULL, 0) < 0)
        return lv_fail(error, "QMP event registration");
    return TRUE;
}

static void
libvirt_stop(void)
{
    if (S.conn != NULL)
        LV.close(S.conn);
    S.conn = NULL;
    if (S.loop != NULL) {
        g_atomic_int_set(&S.stop_loop, 1);
        g_thread_join(S.loop);
        S.loop = NULL;
    }
    /* its own daemons (by their pid files), then its mounts */
    g_clear_pointer(&S.libvirt, e2e_libvirt_free);
}

/* --- measures ------------------------------------------------------------------------ */

typedef struct {
    const char *what;
    const char *target;        /* how the target reads */
    double target_ratio;       /* libvirt / vnic at least, or 0 */
    double target_vnic_ms;     /* vnic at most, or 0 */
    GArray *lv, *vn;           /* ms */
} Measure;

static GArray *
ms_array(void)
{
    return g_array_new(FALSE, FALSE, sizeof(double));
}

static void
add(GArray *a, double ms)
{
    g_array_append_val(a, ms);
}

static double
ms_since(gint64 t0)
{
    return (g_get_monotonic_time() - t0) / 1000.0;
}

static gboolean
vnic_call(const char *execute, JsonObject *args, double *ms, JsonNode **out, GError **error)
{
    JsonNode *r = bench_api(S.api, execute, args, 60, ms, error);
    if (r == NULL)
        return FALSE;
    if (out != NULL)
        *out = r;
    else
        json_node_unref(r);
    return TRUE;
}

static gboolean
measure_define_dump(Measure *def, Measure *dump, GError **error)
{
    g_autofree char *xml100 = bench_conf_domain_xml("cmp-100", "5f0e5b8e-52b1-4b7e-9a3c-2d0c6f1a7100", 100);
    g_autofree char *xml500 = bench_conf_domain_xml("cmp-500", "5f0e5b8e-52b1-4b7e-9a3c-2d0c6f1a7500", 500);

    for (guint i = 0; i < DEFINE_RUNS; i++) {
        gint64 t0 = g_get_monotonic_time();
        VirDom d = LV.define(S.conn, xml100);
        if (d == NULL)
            return lv_fail(error, "define of 100 NICs");
        add(def->lv, ms_since(t0));
        LV.dom_free(d);
        double ms;
        if (!vnic_call("define", bench_args("xml", xml100, NULL), &ms, NULL, error))
            return FALSE;
        add(def->vn, ms);
    }
    VirDom d500 = LV.define(S.conn, xml500);
    if (d500 == NULL)
        return lv_fail(error, "define of 500 NICs");
    if (!vnic_call("define", bench_args("xml", xml500, NULL), NULL, NULL, error))
        return FALSE;
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < DUMP_RUNS; i++) {
        gint64 t0 = g_get_monotonic_time();
        char *text = LV.get_xml(d500, VIR_DOMAIN_XML_INACTIVE);
        if (text == NULL) {
            ok = lv_fail(error, "dumpxml of 500 NICs");
            break;
        }
        add(dump->lv, ms_since(t0));
        free(text);
        double ms;
        ok = vnic_call("dumpxml", bench_args("name", "cmp-500", "flags", "inactive", NULL), &ms, NULL, error);
        if (ok)
            add(dump->vn, ms);
    }
    LV.undefine(d500);
    LV.dom_free(d500);
    VirDom d100 = LV.define(S.conn, xml100);   /* the handle, to undefine it */
    if (d100 != NULL) {
        LV.undefine(d100);
        LV.dom_free(d100);
    }
    return ok && vnic_call("undefine", bench_args("name", "cmp-500", NULL), NULL, NULL, error) &&
           vnic_call("undefine", bench_args("name", "cmp-100", NULL), NULL, NULL, error);
}

typedef struct {
    E2eDomainXml *xml;
    VirDom lv;                 /* libvirt's guest, or NULL for vnicd's */
    E2eConsole *console;
    GPid pid;                  /* its QEMU, once booted */
} Guest;

static gboolean
measure_start(Guest *lv, Guest *vn, Measure *start, GError **error)
{
    for (guint i = 0; i < START_RUNS; i++) {
        gint64 t0 = g_get_monotonic_time();
        if (LV.create(lv->lv) != 0)
            return lv_fail(error, "start");
        add(start->lv, ms_since(t0));
        if (LV.destroy(lv->lv) != 0)
            return lv_fail(error, "destroy");
        double ms;
        if (!vnic_call("start", bench_args("name", vn->xml->name, NULL), &ms, NULL, error))
            return FALSE;
        add(start->vn, ms);
        if (!vnic_call("destroy", bench_args("name", vn->xml->name, NULL), NULL, NULL, error))
            return FALSE;
    }
    return TRUE;
}

/* --- where the guest's time goes: its QEMU's threads, from the kernel ------------- */

/* The pid of the QEMU whose command line starts "-name guest=NAME,". */
static GPid
qemu_pid(const char *name)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    g_autofree char *want = g_strdup_printf("guest=%s,", name);
    const char *e;

    while (proc != NULL && (e = g_dir_read_name(proc)) != NULL) {
        gint64 pid;
        if (!g_ascii_string_to_signed(e, 10, 1, G_MAXINT, &pid, NULL))
            continue;
        g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", e);
        g_autofree char *cmdline = NULL;
        gsize len = 0;
        if (!g_file_get_contents(path, &cmdline, &len, NULL))
            continue;
        for (gsize i = 0; i + 1 < len; i += strlen(cmdline + i) + 1)
            if (g_str_equal(cmdline + i, "-name") && g_str_has_prefix(cmdline + i + strlen(cmdline + i) + 1, want))
                return (GPid)pid;
    }
    return 0;
}

typedef struct {
    guint64 run_ns, wait_ns;   /* all threads: on a CPU, runnable but waiting for one */
} CpuSample;

/* Sums /proc/PID/task/STAR/schedstat (ns on a CPU, ns waiting on a run queue). */
static CpuSample
cpu_sample(GPid pid)
{
    CpuSample s = { 0 };
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
    g_autoptr(GDir) tasks = g_dir_open(dir, 0, NULL);
    const char *t;

    while (tasks != NULL && (t = g_dir_read_name(tasks)) != NULL) {
        g_autofree char *path = g_strdup_printf("%s/%s/schedstat", dir, t);
        g_autofree char *text = NULL;
        guint64 run = 0, wait = 0;
        if (g_file_get_contents(path, &text, NULL, NULL) &&
            sscanf(text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &run, &wait) == 2) {
            s.run_ns += run;
            s.wait_ns += wait;
        }
    }
    return s;
}

/* Starts a guest for the hot-plug cycles and waits for its shell. */
static gboolean
boot(Guest *g, GError **error)
{
    if (g->lv != NULL) {
        if (LV.create(g->lv) != 0)
            return lv_fail(error, "start");
        if (!(g->console = e2e_console_connect(g->xml->serial_path, 30, error)) ||
            !e2e_console_wait_ready(g->console, 300, error))
            return FALSE;
    } else {
        double start_s, boot_s;
        if (!(g->console = bench_start_and_boot(S.daemon, g->xml, &start_s, &boot_s, error)))
            return FALSE;
    }
    if ((g->pid = qemu_pid(g->xml->name)) == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no QEMU with -name guest=%s", g->xml->name);
        return FALSE;
    }
    return TRUE;
}

/* The guest's side of an attach, watched the same way for both: a loop of
 * shell builtins (no fork per poll, 1 ms) sent to the console BEFORE the
 * request, which prints a marker once the guest has one more link than
 * before.  (A loop that forks grep every 10 ms, sent after the API returned,
 * started earlier for vnic, whose API returns sooner, and took a 20-25 ms
 * grep + sleep period of the guest's only vCPU while it probed the NIC.) */
static gboolean
watch_begin(Guest *g, guint n, GError **error)
{
    g_autofree char *cmd = g_strdup_printf(
        "set -- /sys/class/net/*; b=$#; while set -- /sys/class/net/*; [ $# -le $b ]; do usleep 1000; "
        "done; echo SE''EN-%u\n", n);
    return e2e_console_send(g->console, cmd, error);
}

/* Waits for the marker, then checks that the new link is the NIC `mac`. */
static gboolean
watch_end(Guest *g, guint n, const char *mac, GError **error)
{
    g_autofree char *pattern = g_strdup_printf("SEEN-%u\r?\n" E2E_GUEST_PROMPT, n);
    if (!e2e_console_wait_for(g->console, pattern, 30, NULL, error))
        return FALSE;
    g_autofree char *check = g_strdup_printf("grep -qix '%s' /sys/class/net/*/address", mac);
    int status = -1;
    if (!e2e_console_run(g->console, check, 30, NULL, &status, error))
        return FALSE;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the guest's new link is not the NIC %s", mac);
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    Measure ret, guest, detach, beyond;
    Measure cpu, wait;         /* attach → NIC in the guest: QEMU's CPU time, run-queue wait */
} HotplugMeasures;

static void
add_cpu(HotplugMeasures *m, gboolean lv, GPid pid, CpuSample before)
{
    CpuSample after = cpu_sample(pid);
    add(lv ? m->cpu.lv : m->cpu.vn, (after.run_ns - before.run_ns) / 1e6);
    add(lv ? m->wait.lv : m->wait.vn, (after.wait_ns - before.wait_ns) / 1e6);
}

static gboolean
cycle_libvirt(Guest *g, guint n, HotplugMeasures *m, GError **error)
{
    g_autofree char *mac = g_strdup_printf("52:54:00:1b:%02x:%02x", n >> 8, n & 0xff);
    g_autofree char *xml = g_strdup_printf("<interface type='ethernet'><mac address='%s'/>"
                                           "<model type='virtio'/></interface>", mac);
    if (!watch_begin(g, 2 * n, error))
        return FALSE;
    CpuSample cpu = cpu_sample(g->pid);
    gint64 t0 = g_get_monotonic_time();
    if (LV.attach(g->lv, xml, VIR_DOMAIN_AFFECT_LIVE) != 0)
        return lv_fail(error, "attach-device");
    add(m->ret.lv, ms_since(t0));
    if (!watch_end(g, 2 * n, mac, error))
        return FALSE;
    add(m->guest.lv, ms_since(t0));
    add_cpu(m, TRUE, g->pid, cpu);

    g_mutex_lock(&S.lock);
    S.deleted_us = 0;
    g_mutex_unlock(&S.lock);
    t0 = g_get_monotonic_time();
    if (LV.detach(g->lv, xml, VIR_DOMAIN_AFFECT_LIVE) != 0)
        return lv_fail(error, "detach-device");
    gint64 back = g_get_real_time();
    add(m->detach.lv, ms_since(t0));
    /* the event reaches this client on libvirt's event loop, apart from the
     * reply: it may come a little after it (it carries QEMU's timestamp) */
    gint64 deleted = 0, deadline = e2e_deadline(5);
    for (;;) {
        g_mutex_lock(&S.lock);
        deleted = S.deleted_us;
        g_mutex_unlock(&S.lock);
        if (deleted != 0 || e2e_ms_left(deadline) == 0)
            break;
        g_usleep(1000);
    }
    if (deleted == 0 || deleted > back) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "libvirt's detach of %s returned before QEMU's DEVICE_DELETED (it gave up waiting)",
                    mac);
        return FALSE;
    }
    add(m->beyond.lv, (back - deleted) / 1000.0);
    return TRUE;
}

static gboolean
cycle_vnic(Guest *g, guint n, HotplugMeasures *m, GError **error)
{
    g_autofree char *mac = g_strdup_printf("52:54:00:1c:%02x:%02x", n >> 8, n & 0xff);
    double ms;
    if (!watch_begin(g, 2 * n + 1, error))
        return FALSE;
    CpuSample cpu = cpu_sample(g->pid);
    gint64 t0 = g_get_monotonic_time();
    if (!vnic_call("attach-interface",
                   bench_args("name", g->xml->name, "type", "ethernet", "mac", mac, "model", "virtio", NULL), &ms,
                   NULL, error))
        return FALSE;
    add(m->ret.vn, ms);
    if (!watch_end(g, 2 * n + 1, mac, error))
        return FALSE;
    add(m->guest.vn, ms_since(t0));
    add_cpu(m, FALSE, g->pid, cpu);
    JsonNode *det = NULL;
    if (!vnic_call("detach-interface", bench_args("name", g->xml->name, "mac", mac, NULL), &ms, &det, error))
        return FALSE;
    g_autoptr(JsonNode) reply = det;
    JsonNode *completed = bench_json_member(reply, "completed");
    if (completed == NULL || !JSON_NODE_HOLDS_VALUE(completed) || !json_node_get_boolean(completed)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "vnicd's detach of %s did not complete", mac);
        return FALSE;
    }
    add(m->detach.vn, ms);
    add(m->beyond.vn, bench_json_int(bench_json_member(reply, "timings"), "cleanup-us") / 1000.0);
    return TRUE;
}

/* --- output ---------------------------------------------------------------------------- */

static void
print_row(Measure *m)
{
    double lv = bench_median(m->lv), vn = bench_median(m->vn), ratio = vn > 0 ? lv / vn : 0;
    gboolean ok = (m->target_ratio <= 0 || ratio >= m->target_ratio) &&
                  (m->target_vnic_ms <= 0 || vn <= m->target_vnic_ms);
    printf("| %-36s | %9.2f ms | %9.2f ms | x%-6.2f | %-26s | %-6s |\n", m->what, lv, vn, ratio, m->target,
           ok ? "met" : "MISSED");
}

typedef struct {
    double v;
    gboolean is_vn;
} Ranked;

static int
cmp_ranked(gconstpointer a, gconstpointer b)
{
    double x = ((const Ranked *)a)->v, y = ((const Ranked *)b)->v;
    return x < y ? -1 : x > y;
}

/* Mann-Whitney U of the two samples (ties get their mean rank): the share
 * of (libvirt, vnic) pairs in which vnic's is the longer, and whether the
 * two differ at the 5 % level (normal approximation, |z| >= 1.96).  The
 * guests' own times spread by seconds and, on a loaded machine, fall in
 * two clusters: a median ratio of 20 samples moves far more between runs
 * than between the two sides, this does not. */
static double
share_vnic_longer(GArray *lv, GArray *vn, gboolean *out_differ)
{
    guint n1 = lv->len, n2 = vn->len, n = n1 + n2;
    g_autofree Ranked *all = g_new(Ranked, n);
    for (guint i = 0; i < n; i++)
        all[i] = i < n1 ? (Ranked){ g_array_index(lv, double, i), FALSE }
                        : (Ranked){ g_array_index(vn, double, i - n1), TRUE };
    qsort(all, n, sizeof *all, cmp_ranked);
    double rank_sum_vn = 0;
    for (guint i = 0; i < n;) {
        guint j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v)
            j++;
        for (guint k = i; k <= j; k++)
            if (all[k].is_vn)
                rank_sum_vn += (i + j) / 2.0 + 1;
        i = j + 1;
    }
    double u = rank_sum_vn - n2 * (n2 + 1) / 2.0, mu = n1 * n2 / 2.0;
    double var = n1 * n2 * (n + 1) / 12.0;
    *out_differ = var > 0 && (u - mu) * (u - mu) >= 1.96 * 1.96 * var;
    return n1 * n2 > 0 ? u / (n1 * n2) : 0;
}

static void
print_spread(Measure *m)
{
    gboolean differ = FALSE;
    double share = share_vnic_longer(m->lv, m->vn, &differ);
    printf("| %-36s | %4.0f/%4.0f/%4.0f | %4.0f/%4.0f/%4.0f | %9.0f %% | %-8s |\n", m->what,
           bench_percentile(m->lv, 25), bench_percentile(m->lv, 50), bench_percentile(m->lv, 75),
           bench_percentile(m->vn, 25), bench_percentile(m->vn, 50), bench_percentile(m->vn, 75), 100 * share,
           differ ? "yes" : "no");
}

static gboolean
write_samples(const char *name, GArray *a, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint i = 0; i < a->len; i++)
        g_string_append_printf(s, "%.3f\n", g_array_index(a, double, i));
    g_autofree char *path = g_build_filename(S.samples_dir, name, NULL);
    return g_file_set_contents(path, s->str, (gssize)s->len, error);
}

/* The table (issue #12's, with the targets) and the raw samples. */
static gboolean
report(Measure **rows, guint n_rows, HotplugMeasures *hp, GError **error)
{
    g_autoptr(GDateTime) utc = g_date_time_new_now_utc();
    g_autofree char *now = g_date_time_format(utc, "%Y-%m-%d %H:%M UTC");
    g_autofree char *loadavg = NULL;
    g_file_get_contents("/proc/loadavg", &loadavg, NULL, NULL);
    printf("\n%s, load average %.*s, %u CPUs; medians; ratio = libvirt / vnic\n\n", now,
           loadavg != NULL ? 14 : 0, loadavg != NULL ? loadavg : "", g_get_num_processors());
    printf("| %-36s | %12s | %12s | %-7s | %-26s | %-6s |\n", "measure", "libvirt", "vnic", "ratio", "target", "");
    printf("|--------------------------------------|--------------|--------------|---------|----------------------------|--------|\n");
    for (guint i = 0; i < n_rows - 2; i++)
        print_row(rows[i]);
    /* no targets: what the guests' QEMUs got of the CPUs while each waited
     * for the NIC (all threads, /proc/PID/task/STAR/schedstat) */
    printf("\nattach, request -> NIC in the guest: its QEMU's threads (medians, ms)\n\n");
    printf("| %-36s | %12s | %12s |\n", "", "libvirt", "vnic");
    printf("|--------------------------------------|--------------|--------------|\n");
    for (guint i = n_rows - 2; i < n_rows; i++)
        printf("| %-36s | %9.2f ms | %9.2f ms |\n", rows[i]->what, bench_median(rows[i]->lv),
               bench_median(rows[i]->vn));
    /* the guest's own times: whether the two sides differ at all */
    printf("\nthe guests' times and their QEMUs' share, quartiles p25/p50/p75 (ms); vnic longer: share of (libvirt, vnic) pairs "
           "(50 %% = alike); differ: Mann-Whitney at 5 %%\n\n");
    printf("| %-36s | %-14s | %-14s | %-11s | %-8s |\n", "", "libvirt", "vnic", "vnic longer", "differ");
    printf("|--------------------------------------|----------------|----------------|-------------|----------|\n");
    print_spread(&hp->guest);
    print_spread(&hp->detach);
    print_spread(&hp->cpu);
    print_spread(&hp->wait);
    printf("\n(%u hot-plug cycles, %d defines, %d dumpxml, %d starts each)\n", S.cycles, DEFINE_RUNS, DUMP_RUNS,
           START_RUNS);
    if (S.samples_dir != NULL) {
        if (g_mkdir_with_parents(S.samples_dir, 0755) != 0 ||
            !write_samples("attach-libvirt.dat", hp->ret.lv, error) ||
            !write_samples("attach-vnic.dat", hp->ret.vn, error) ||
            !write_samples("detach-libvirt.dat", hp->detach.lv, error) ||
            !write_samples("detach-vnic.dat", hp->detach.vn, error) ||
            !write_samples("attach-guest-libvirt.dat", hp->guest.lv, error) ||
            !write_samples("attach-guest-vnic.dat", hp->guest.vn, error) ||
            !write_samples("attach-guest-cpu-libvirt.dat", hp->cpu.lv, error) ||
            !write_samples("attach-guest-cpu-vnic.dat", hp->cpu.vn, error) ||
            !write_samples("attach-guest-wait-libvirt.dat", hp->wait.lv, error) ||
            !write_samples("attach-guest-wait-vnic.dat", hp->wait.vn, error))
            return FALSE;
        printf("raw samples (ms, one a line) in %s\n", S.samples_dir);
    }
    return TRUE;
}

/* --- the run ----------------------------------------------------------------------------- */

static gboolean
run(GError **error)
{
    Measure def = { "define, 100 NICs", ">= x5 (vnic 5x faster)", 5, 0, ms_array(), ms_array() };
    Measure dump = { "dumpxml --inactive, 500 NICs", "vnic <= 1 ms", 0, 1.0, ms_array(), ms_array() };
    Measure start = { "start, request -> QEMU running", ">= x1 (ahead of libvirt)", 1, 0, ms_array(), ms_array() };
    HotplugMeasures hp = {
        .ret = { "attach, request -> return", ">= x1 (ahead of libvirt)", 1, 0, ms_array(), ms_array() },
        .guest = { "attach, request -> NIC in the guest", ">= x1 (ahead of libvirt)", 1, 0, ms_array(), ms_array() },
        .detach = { "detach, request -> completed", ">= x1 (ahead of libvirt)", 1, 0, ms_array(), ms_array() },
        .beyond = { "detach, beyond DEVICE_DELETED", "vnic <= 2 ms", 0, 2.0, ms_array(), ms_array() },
        .cpu = { "  QEMU's CPU time in it", "", 0, 0, ms_array(), ms_array() },
        .wait = { "  QEMU's run-queue wait in it", "", 0, 0, ms_array(), ms_array() },
    };
    Measure *rows[] = { &hp.ret, &hp.guest, &hp.detach, &hp.beyond, &def, &dump, &start, &hp.cpu, &hp.wait };
    Guest lv = { 0 }, vn = { 0 };
    gboolean ok = FALSE;

    if (!libvirt_load(error) || !libvirt_start(error))
        goto out;
    if (!(S.daemon = bench_daemon_start(FALSE, TRUE, error)) ||
        !(S.api = e2e_json_conn_connect(e2e_daemon_socket(S.daemon), 5, error)))
        goto out;
    printf("bench/compare-libvirt: libvirt 9.0 (own libvirtd, qemu:///system in a private namespace) "
           "and vnicd, interleaved\n");
    if (!measure_define_dump(&def, &dump, error))
        goto out;
    printf("  define and dumpxml done (%d and %d runs each)\n", DEFINE_RUNS, DUMP_RUNS);

    if (!(lv.xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "lv", error)) ||
        !(vn.xml = e2e_xml_prepare("examples/cloudstack-pc.xml", "vn", error)))
        goto out;
    if ((lv.lv = LV.define(S.conn, lv.xml->xml)) == NULL) {
        lv_fail(error, "define of the guest");
        goto out;
    }
    if (!vnic_call("define", bench_args("xml", vn.xml->xml, NULL), NULL, NULL, error) ||
        !measure_start(&lv, &vn, &start, error))
        goto out;
    printf("  start done (%d runs each)\n", START_RUNS);
    if (!boot(&lv, error) || !boot(&vn, error))
        goto out;
    printf("  both guests booted; %u attach/detach cycles each, alternating\n", S.cycles);
    /* who goes first alternates, so a drift of the machine hits both */
    for (guint n = 0; n < S.cycles; n++)
        if (n % 2 == 0 ? !cycle_libvirt(&lv, n, &hp, error) || !cycle_vnic(&vn, n, &hp, error)
                       : !cycle_vnic(&vn, n, &hp, error) || !cycle_libvirt(&lv, n, &hp, error))
            goto out;

    if (!report(rows, G_N_ELEMENTS(rows), &hp, error))
        goto out;
    ok = TRUE;
out:
    if (lv.lv != NULL) {
        LV.destroy(lv.lv);
        LV.undefine(lv.lv);
        LV.dom_free(lv.lv);
    }
    if (S.api != NULL && vn.xml != NULL) {
        g_autoptr(GError) ignored = NULL;
        vnic_call("destroy", bench_args("name", vn.xml->name, NULL), NULL, NULL, &ignored);
    }
    g_clear_pointer(&lv.console, e2e_console_free);
    g_clear_pointer(&vn.console, e2e_console_free);
    g_clear_pointer(&lv.xml, e2e_domain_xml_free);
    g_clear_pointer(&vn.xml, e2e_domain_xml_free);
    if (LV.lib != NULL)
        libvirt_stop();
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_array_unref(rows[i]->lv);
        g_array_unref(rows[i]->vn);
    }
    return ok;
}

int
main(int argc, char **argv)
{
    S.cycles = DEFAULT_CYCLES;
    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--samples") && i + 1 < argc)
            S.samples_dir = argv[++i];
        else if (g_str_equal(argv[i], "--cycles") && i + 1 < argc) {
            int n = atoi(argv[++i]);
            S.cycles = (guint)CLAMP(n, 1, 10000);
        }
    }
    if (S.samples_dir != NULL && !g_path_is_absolute(S.samples_dir))
        S.samples_dir = g_canonicalize_filename(S.samples_dir, NULL);
    /* the harness gets the command line without our options */
    int hargc = 1;
    char **hargv = (char *[]){ argv[0], NULL };
    bench_init("bench/compare-libvirt", &hargc, &hargv, E2E_NEED_GUEST | E2E_NEED_VNICD);
    g_autoptr(GError) error = NULL;
    gboolean ok = run(&error);
    if (!ok)
        bench_report_error(S.daemon, "%s", error != NULL ? error->message : "unknown error");
    g_clear_pointer(&S.api, e2e_json_conn_free);
    if (S.daemon != NULL) {
        int code = -1;
        e2e_daemon_stop(S.daemon, &code, NULL);
    }
    g_clear_pointer(&S.daemon, e2e_daemon_free);
    return bench_finish(ok);
}
