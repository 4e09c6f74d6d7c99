/* bench/compare-libvirt.c: vnic side by side with libvirt 9.0, interleaved.
 *
 * As root (run it through bench/compare-libvirt.sh, which installs libvirt
 * from Debian when it is absent).  In the harness' private network and
 * mount namespaces (the host's links and /etc, /run are untouched) it runs
 * its own libvirtd and virtlogd, as e2e-companion does: libvirt's
 * privileged directories are bind mounts of temp directories, a private
 * qemu.conf runs QEMU as root without relabelling or cgroups, and a
 * 'libvirt-qemu' user is added to bind-mounted copies of /etc/passwd and
 * /etc/group when the host has none.  Next to it one vnicd in temp dirs
 * (production logging, run dir on a tmpfs).  Both are driven over their
 * APIs from this one process: libvirt's C API (libvirt.so.0 and
 * libvirt-qemu.so.0, loaded at run time, so building needs no libvirt-dev)
 * and vnicd's JSON API.  Every measure alternates libvirt and vnic:
 *   define, 100 NICs       a CloudStack-like pc domain (bench/conf-xml.c),
 *                          redefined DEFINE_RUNS times
 *   dumpxml --inactive     of one with 500 NICs, DUMP_RUNS times
 *   start → QEMU running   a copy of examples/cloudstack-pc.xml (the tiny
 *                          guest), START_RUNS starts, each destroyed again
 *   attach, detach         both guests booted; CYCLES cycles of attaching an
 *                          ethernet virtio NIC (--live), the guest seeing
 *                          its MAC (polled over its serial console), and
 *                          detaching it:
 *      request → return        the API call
 *      request → NIC in guest  until the console says the MAC is there
 *      detach → completed      the API call (libvirt waits for the guest's
 *                              DEVICE_DELETED up to 5 s, vnicd until it)
 *      beyond DEVICE_DELETED   the return after QEMU's DEVICE_DELETED: for
 *                              libvirt from the event's QEMU timestamp (QMP
 *                              events through libvirt-qemu), for vnicd its
 *                              reply's cleanup-us
 * and prints the table of issue #12 (medians, ratio = libvirt / vnic) with
 * the targets.  --samples DIR writes the raw attach and detach round trips,
 * one number in ms a line: DIR/attach-libvirt.dat, detach-libvirt.dat,
 * attach-vnic.dat, detach-vnic.dat (bench/plot-latency.sh draws them).
 * --cycles N changes CYCLES.  Asserts nothing about the numbers.
 * Everything it started goes at the end: domains destroyed and undefined,
 * libvirtd and virtlogd stopped (its own, by their pid files), the mounts
 * undone, mount points it created removed; the namespaces go with it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "bench-util.h"
#include "conf-xml.h"

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

/* --- the private libvirtd (as tests/e2e/test-companion.c runs it) -------------------- */

static const char *const libvirt_dirs[] = {
    "/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt",
};

static struct {
    char *dir;
    gboolean created[G_N_ELEMENTS(libvirt_dirs)];
    gboolean mounted[G_N_ELEMENTS(libvirt_dirs)];
    gboolean passwd_mounted;
    gboolean virtlogd_started, libvirtd_started;
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

static gboolean
bind_mount(const char *from, const char *to, GError **error)
{
    if (mount(from, to, NULL, MS_BIND, NULL) == 0)
        return TRUE;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "bind mount %s on %s: %s", from, to,
                g_strerror(errno));
    return FALSE;
}

static gboolean
private_users(GError **error)
{
    g_autofree char *passwd_path = g_build_filename(S.dir, "passwd", NULL);
    g_autofree char *group_path = g_build_filename(S.dir, "group", NULL);
    g_autofree char *passwd = NULL, *group = NULL;

    if (!g_file_get_contents("/etc/passwd", &passwd, NULL, error) ||
        !g_file_get_contents("/etc/group", &group, NULL, error))
        return FALSE;
    g_autoptr(GString) p = g_string_new(passwd);
    g_autoptr(GString) g = g_string_new(group);
    if (!g_regex_match_simple("^libvirt-qemu:", passwd, G_REGEX_MULTILINE, 0))
        g_string_append(p, "libvirt-qemu:x:64055:64055:vnic bench:/nonexistent:/usr/sbin/nologin\n");
    if (!g_regex_match_simple("^libvirt-qemu:", group, G_REGEX_MULTILINE, 0))
        g_string_append(g, "libvirt-qemu:x:64055:\n");
    if (!g_regex_match_simple("^kvm:", group, G_REGEX_MULTILINE, 0))
        g_string_append(g, "kvm:x:64056:\n");
    if (!g_file_set_contents(passwd_path, p->str, -1, error) ||
        !g_file_set_contents(group_path, g->str, -1, error) || !bind_mount(passwd_path, "/etc/passwd", error))
        return FALSE;
    S.passwd_mounted = TRUE;
    return bind_mount(group_path, "/etc/group", error);
}

static gboolean
private_dirs(GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(libvirt_dirs); i++) {
        g_autofree char *base = g_path_get_basename(libvirt_dirs[i]);
        g_autofree char *mine = g_strdup_printf("%s/%zu-%s", S.dir, i, base);

        if (g_mkdir_with_parents(mine, 0755) != 0)
            return FALSE;
        if (!g_file_test(libvirt_dirs[i], G_FILE_TEST_IS_DIR)) {
            if (g_mkdir_with_parents(libvirt_dirs[i], 0755) != 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "mkdir %s: %s",
                            libvirt_dirs[i], g_strerror(errno));
                return FALSE;
            }
            S.created[i] = TRUE;
        }
        if (!bind_mount(mine, libvirt_dirs[i], error))
            return FALSE;
        S.mounted[i] = TRUE;
    }
    return TRUE;
}

static gboolean
private_config(GError **error)
{
    g_autofree char *libvirtd = g_strdup_printf("log_outputs = \"3:file:%s/libvirtd.log\"\n", S.dir);
    g_autofree char *virtlogd = g_strdup_printf("log_outputs = \"3:file:%s/virtlogd.log\"\n", S.dir);
    const char *qemu = "user = \"root\"\n"
                       "group = \"root\"\n"
                       "dynamic_ownership = 0\n"
                       "security_driver = \"none\"\n"
                       "cgroup_controllers = [ ]\n";

    return g_file_set_contents("/etc/libvirt/libvirtd.conf", libvirtd, -1, error) &&
           g_file_set_contents("/etc/libvirt/virtlogd.conf", virtlogd, -1, error) &&
           g_file_set_contents("/etc/libvirt/qemu.conf", qemu, -1, error);
}

static char *
pid_file(const char *daemon)
{
    return g_strdup_printf("%s/%s.pid", S.dir, daemon);
}

static gboolean
run_ok(const char *const *argv, GError **error)
{
    g_autoptr(E2eCmdResult) r = e2e_cmd_run(argv, 60);
    if (r->status == 0)
        return TRUE;
    g_autofree char *desc = e2e_cmd_result_describe(r);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", desc);
    return FALSE;
}

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
    S.dir = e2e_tmp_dir("libvirt");
    g_autofree char *logd_pid = pid_file("virtlogd"), *lvd_pid = pid_file("libvirtd");
    if (!private_dirs(error) || !private_users(error) || !private_config(error))
        return FALSE;
    const char *const logd[] = { "virtlogd", "-d", "-p", logd_pid, "-f", "/etc/libvirt/virtlogd.conf", NULL };
    if (!run_ok(logd, error))
        return FALSE;
    S.virtlogd_started = TRUE;
    const char *const lvd[] = { "libvirtd", "-d", "-p", lvd_pid, "-f", "/etc/libvirt/libvirtd.conf", NULL };
    if (!run_ok(lvd, error))
        return FALSE;
    S.libvirtd_started = TRUE;
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

/* Stops a daemon this program started (by its pid file), SIGKILL after 15 s. */
static void
stop_daemon(const char *daemon)
{
    g_autofree char *path = pid_file(daemon);
    g_autofree char *text = NULL;
    gint64 pid;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        !g_ascii_string_to_signed(g_strstrip(text), 10, 2, G_MAXINT, &pid, NULL))
        return;
    kill((pid_t)pid, SIGTERM);
    gint64 deadline = e2e_deadline(15);
    while (e2e_proc_alive((GPid)pid) && e2e_ms_left(deadline) > 0)
        g_usleep(100 * 1000);
    if (e2e_proc_alive((GPid)pid))
        kill((pid_t)pid, SIGKILL);
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
    if (S.libvirtd_started)
        stop_daemon("libvirtd");
    if (S.virtlogd_started)
        stop_daemon("virtlogd");
    if (S.passwd_mounted) {
        umount2("/etc/group", MNT_DETACH);
        umount2("/etc/passwd", MNT_DETACH);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(libvirt_dirs); i++) {
        if (S.mounted[i] && umount2(libvirt_dirs[i], MNT_DETACH) == 0)
            S.mounted[i] = FALSE;
        if (S.created[i] && !S.mounted[i])
            rmdir(libvirt_dirs[i]);
    }
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

/* Starts a guest for the hot-plug cycles and waits for its shell. */
static gboolean
boot(Guest *g, GError **error)
{
    if (g->lv != NULL) {
        if (LV.create(g->lv) != 0)
            return lv_fail(error, "start");
        if (!(g->console = e2e_console_connect(g->xml->serial_path, 30, error)))
            return FALSE;
    } else {
        double start_s, boot_s;
        return (g->console = bench_start_and_boot(S.daemon, g->xml, &start_s, &boot_s, error)) != NULL;
    }
    return e2e_console_wait_ready(g->console, 300, error);
}

/* Waits (up to 10 s) until the guest has a NIC with `mac`. */
static gboolean
guest_has_mac(Guest *g, const char *mac, GError **error)
{
    g_autofree char *cmd = g_strdup_printf(
        "n=0; while ! grep -qix '%s' /sys/class/net/*/address; do n=$((n+1)); "
        "[ $n -ge 1000 ] && break; usleep 10000; done; grep -qix '%s' /sys/class/net/*/address",
        mac, mac);
    int status = -1;
    if (!e2e_console_run(g->console, cmd, 30, NULL, &status, error))
        return FALSE;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the guest has no NIC %s 10 s after attach", mac);
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    Measure ret, guest, detach, beyond;
} HotplugMeasures;

static gboolean
cycle_libvirt(Guest *g, guint n, HotplugMeasures *m, GError **error)
{
    g_autofree char *mac = g_strdup_printf("52:54:00:1b:%02x:%02x", n >> 8, n & 0xff);
    g_autofree char *xml = g_strdup_printf("<interface type='ethernet'><mac address='%s'/>"
                                           "<model type='virtio'/></interface>", mac);
    gint64 t0 = g_get_monotonic_time();
    if (LV.attach(g->lv, xml, VIR_DOMAIN_AFFECT_LIVE) != 0)
        return lv_fail(error, "attach-device");
    add(m->ret.lv, ms_since(t0));
    if (!guest_has_mac(g, mac, error))
        return FALSE;
    add(m->guest.lv, ms_since(t0));

    g_mutex_lock(&S.lock);
    S.deleted_us = 0;
    g_mutex_unlock(&S.lock);
    t0 = g_get_monotonic_time();
    if (LV.detach(g->lv, xml, VIR_DOMAIN_AFFECT_LIVE) != 0)
        return lv_fail(error, "detach-device");
    gint64 back = g_get_real_time();
    add(m->detach.lv, ms_since(t0));
    g_mutex_lock(&S.lock);
    gint64 deleted = S.deleted_us;
    g_mutex_unlock(&S.lock);
    if (deleted == 0) {
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
    gint64 t0 = g_get_monotonic_time();
    if (!vnic_call("attach-interface",
                   bench_args("name", g->xml->name, "type", "ethernet", "mac", mac, "model", "virtio", NULL), &ms,
                   NULL, error))
        return FALSE;
    add(m->ret.vn, ms);
    if (!guest_has_mac(g, mac, error))
        return FALSE;
    add(m->guest.vn, ms_since(t0));
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
    for (guint i = 0; i < n_rows; i++)
        print_row(rows[i]);
    printf("\n(%u hot-plug cycles, %d defines, %d dumpxml, %d starts each)\n", S.cycles, DEFINE_RUNS, DUMP_RUNS,
           START_RUNS);
    if (S.samples_dir != NULL) {
        if (g_mkdir_with_parents(S.samples_dir, 0755) != 0 ||
            !write_samples("attach-libvirt.dat", hp->ret.lv, error) ||
            !write_samples("attach-vnic.dat", hp->ret.vn, error) ||
            !write_samples("detach-libvirt.dat", hp->detach.lv, error) ||
            !write_samples("detach-vnic.dat", hp->detach.vn, error) ||
            !write_samples("attach-guest-libvirt.dat", hp->guest.lv, error) ||
            !write_samples("attach-guest-vnic.dat", hp->guest.vn, error))
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
    };
    Measure *rows[] = { &hp.ret, &hp.guest, &hp.detach, &hp.beyond, &def, &dump, &start };
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
    for (guint n = 0; n < S.cycles; n++)
        if (!cycle_libvirt(&lv, n, &hp, error) || !cycle_vnic(&vn, n, &hp, error))
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
