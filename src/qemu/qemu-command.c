/* qemu-command.c: the command line of one QEMU, top level.
 *
 * Owns the order of the arguments, the domain-level options (-name, -uuid,
 * -machine, -cpu, -m, -smp, iothreads, clock, lifecycle, power
 * management, the monitor) and the argument helpers the device files
 * share.  Pure: the domain and the runtime's fd numbering in, argv out.
 *
 * What the launcher does with each part of a domain (devices: see the
 * tables in qemu-command-devices.c, qemu-command-misc.c, qemu-chardev.c):
 *
 *   element              handling
 *   <domain type>        qemu: accel=tcg; kvm: accel=kvm (the launcher first
 *                        checks that KVM runs guests here)
 *   <name>, <uuid>       -name guest=…,debug-threads=on, -uuid
 *   <memory>             -m size=<KiB>k
 *   <memoryBacking>      <source type='memfd'/> and/or <access mode='shared'/>:
 *                        -object memory-backend-memfd,id=pc.ram,share=on|off +
 *                        -machine memory-backend=pc.ram (vhost-user needs it);
 *                        <hugepages>, <locked>, … refused
 *   <currentMemory>      smaller than <memory>: `balloon` before `cont`; refused
 *                        without a memballoon
 *   <vcpu current>       -smp [current,]maxcpus=…,sockets=…,cores=…,threads=…;
 *                        placement has no effect; cpuset pins (affinity)
 *   <cpu>                <topology> (dies='1' only); host-passthrough: -cpu host
 *                        (kvm; refused for TCG, as libvirt does); host-model:
 *                        -cpu host (kvm) or max (TCG); maximum → max; custom
 *                        <model> + <feature policy>; <cache mode>
 *   <os>                 kernel/initrd as memfds, firmware, <sysinfo>:
 *                        qemu-command-boot.c; <boot dev> → -boot order,
 *                        <bootmenu>
 *   <sysinfo>            qemu-command-boot.c (-smbios, -fw_cfg)
 *   <features>           <acpi/> (absent: acpi=off), <vmport state>; <apic/>
 *                        and <pae/> are always on for x86_64 guests; hyperv,
 *                        kvm, pvspinlock, pmu, smm, vmcoreinfo:
 *                        qemu-command-features.c; others refused
 *   <clock offset>       utc/localtime → -rtc base=…; variable → base=the
 *                        start time + adjustment (basis localtime: + the
 *                        host's offset); timezone → localtime, TZ=…; timers: rtc tickpolicy
 *                        catchup → driftfix=slew, track → clock=vm|host|rt,
 *                        hpet present → hpet=on|off, pit (kvm-pit policy
 *                        with KVM), kvmclock/hypervclock → -cpu flags; other
 *                        timers refused
 *   <iothreads>          -object iothread,id=iothreadN (<iothreadids> ids,
 *                        else 1..N)
 *   <on_poweroff>        destroy (QEMU exits; the daemon sees the exit)
 *   <on_reboot>          restart, or destroy → -no-reboot
 *   <on_crash>           accepted, no effect: the launcher adds no pvpanic
 *                        device, so QEMU never learns of a guest crash
 *   <pm>                 suspend-to-mem/disk enabled → disable_s3/s4 globals
 *   <cputune>            checked here (vnic_qemu_cputune), enforced by the
 *                        daemon in a cgroup (host-cgroup.h); emulator/iothread
 *                        limits refused; <vcpu cpuset>, <emulatorpin>,
 *                        <vcpupin>: qemu-command-affinity.c
 *   <graphics>           qemu-command-graphics.c (VNC, SPICE)
 *   ignored              <title>, <description>, <metadata>, <seclabel>,
 *                        <resource><partition>/machine</partition>: host-side
 *                        data the guest does not see
 *   refused (not enforced) <memtune>, <blkiotune>, <numatune>, another
 *                        <resource> partition
 *   refused              everything else (<maxMemory>,
 *                        <qemu:commandline>, …)
 *
 * Argument order: domain options, the monitor, PCI controllers by index
 * (a bus exists before anything plugs into it), the other controllers,
 * then every other device in document order.
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

void
vnic_qemu_build_add(VnicQemuBuild *b, const char *arg)
{
    g_ptr_array_add(b->cmd->argv, g_strdup(arg));
}

void
vnic_qemu_build_add_pair(VnicQemuBuild *b, const char *option, GString *value)
{
    vnic_qemu_build_add(b, option);
    vnic_qemu_build_add(b, value->str);
}

void
vnic_qemu_opt(GString *s, const char *key, const char *value)
{
    if (s->len > 0)
        g_string_append_c(s, ',');
    if (key != NULL) {
        g_string_append(s, key);
        g_string_append_c(s, '=');
    }
    /* QEMU's option syntax: a comma inside a value is written twice.  In
     * runs, not per character (a define builds a command line to check it) */
    for (const char *comma; (comma = strchr(value, ',')) != NULL; value = comma + 1)
        g_string_append_c(g_string_append_len(s, value, comma - value + 1), ',');
    g_string_append(s, value);
}

void
vnic_qemu_opt_uint(GString *s, const char *key, guint64 value)
{
    char buf[32];

    g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, value);
    vnic_qemu_opt(s, key, buf);
}

gboolean
vnic_qemu_opt_pci(VnicQemuBuild *b, const VnicConfDevice *dev, GString *s, GError **error)
{
    const VnicConfPciAddr *a = &dev->addr;
    const char *bus;
    char addr[16];

    if (!a->set) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "no PCI address: the domain must be planned first");
        return FALSE;
    }
    bus = vnic_qemu_names_pci_bus(b->names, a->bus);
    if (bus == NULL) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "no PCI controller with index %u for <address bus='0x%02x'>",
                            a->bus, a->bus);
        return FALSE;
    }
    vnic_qemu_opt(s, "bus", bus);
    if (a->function == 0)
        g_snprintf(addr, sizeof(addr), "0x%x", a->slot);
    else
        g_snprintf(addr, sizeof(addr), "0x%x.0x%x", a->slot, a->function);
    vnic_qemu_opt(s, "addr", addr);
    if (a->multifunction == VNIC_TRISTATE_YES)
        vnic_qemu_opt(s, "multifunction", "on");
    return TRUE;
}

char *
vnic_qemu_build_fdset(VnicQemuBuild *b, const VnicConfDevice *dev, VnicQemuFdKind kind,
                      GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    guint n_fds = 0;
    const int *fds = vnic_qemu_runtime_get_child_fds(b->rt, dev, kind, &n_fds);
    guint set = b->next_fdset++;

    if (n_fds != 1) {
        vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_INVALID,
                            "the runtime has no open file for this device");
        return NULL;
    }
    vnic_qemu_opt_uint(s, "fd", (guint) fds[0]);
    vnic_qemu_opt_uint(s, "set", set);
    vnic_qemu_build_add_pair(b, "-add-fd", s);
    return g_strdup_printf("/dev/fdset/%u", set);
}

/* ---- domain level ------------------------------------------------------ */

/* Limits libvirt enforces and vnic does not: refused rather than accepted
 * and silently ignored.  <resource><partition> other than libvirt's
 * default '/machine' would name a cgroup vnic does not put QEMU in. */
static gboolean
check_limits_not_enforced(const VnicConfDomain *def, xmlNode *root, GError **error)
{
    static const char *const limits[] = { "memtune", "blkiotune", "numatune", NULL };
    g_autofree char *partition =
        vnic_qemu_xml_child_text(vnic_qemu_xml_child(root, "resource"), "partition");

    for (const char *const *l = limits; *l != NULL; l++) {
        if (vnic_qemu_xml_child(root, *l) != NULL) {
            vnic_qemu_set_error(error, def, NULL, VNIC_QEMU_ERROR_UNSUPPORTED,
                                "<%s> is not supported: vnic does not enforce it (only "
                                "<cputune> limits are), and would not ignore it silently",
                                *l);
            return FALSE;
        }
    }
    if (partition != NULL && strcmp(partition, "/machine") != 0) {
        vnic_qemu_set_error(error, def, NULL, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "unsupported value '%s' for <resource><partition>: vnic puts "
                            "QEMU in its own cgroup (only libvirt's default '/machine' is "
                            "accepted)",
                            partition);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_domain(const VnicConfDomain *def, GError **error)
{
    static const char *const attrs[] = { "type", "id", NULL };
    static const char *const children[] = {
        "name", "uuid", "memory", "currentMemory", "vcpu", "os", "features", "devices",
        "clock", "cpu", "on_poweroff", "on_reboot", "on_crash", "pm", "sysinfo", "iothreads",
        "iothreadids", "memoryBacking",
        /* ignored: host-side policy, invisible to the guest (<cputune> is
         * enforced, <resource> checked below) */
        "title", "description", "metadata", "cputune", "resource", "seclabel", NULL,
    };
    static const char *const os_children[] = { "type", "kernel", "initrd", "cmdline", "boot",
                                               "bootmenu", "loader", "nvram", "smbios",
                                               "firmware", NULL };
    static const char *const features[] = { "acpi", "apic", "pae", "vmport", "hyperv", "kvm",
                                            "pvspinlock", "pmu", "smm", "vmcoreinfo", NULL };
    xmlNode *root = def->doc != NULL ? xmlDocGetRootElement(def->doc) : NULL;

    return check_limits_not_enforced(def, root, error) &&
           vnic_qemu_xml_check(def, NULL, root, attrs, children, error) &&
           vnic_qemu_xml_check(def, NULL, vnic_qemu_xml_child(root, "memoryBacking"), NULL,
                               (const char *const[]){ "source", "access", NULL }, error) &&
           vnic_qemu_xml_check(def, NULL, vnic_qemu_xml_child(root, "os"),
                               (const char *const[]){ "firmware", NULL }, os_children, error) &&
           vnic_qemu_xml_check(def, NULL, vnic_qemu_xml_child(root, "features"), NULL,
                               features, error);
}

static void
add_identity(VnicQemuBuild *b)
{
    g_autoptr(GString) s = g_string_new(NULL);

    vnic_qemu_opt(s, "guest", b->def->name);
    vnic_qemu_opt(s, "debug-threads", "on");
    vnic_qemu_build_add_pair(b, "-name", s);
    if (b->def->uuid != NULL) {
        vnic_qemu_build_add(b, "-uuid");
        vnic_qemu_build_add(b, b->def->uuid);
    }
}

static gboolean
add_boot_order(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    static const char *const devs[] = { "fd", "hd", "cdrom", "network", NULL };
    static const char letters[] = "acdn";
    xmlNode *os = vnic_qemu_xml_child(root, "os");
    g_autofree char *menu = vnic_qemu_xml_prop(vnic_qemu_xml_child(os, "bootmenu"), "enable");
    g_autoptr(GString) order = g_string_new(NULL);
    g_autoptr(GString) s = g_string_new(NULL);

    for (xmlNode *c = os != NULL ? os->children : NULL; c != NULL; c = c->next) {
        g_autofree char *dev = NULL;
        guint i;

        if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "boot") != 0)
            continue;
        dev = vnic_qemu_xml_prop(c, "dev");
        for (i = 0; devs[i] != NULL && g_strcmp0(dev, devs[i]) != 0; i++)
            ;
        if (devs[i] == NULL) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "unsupported value '%s' for <os><boot dev>", dev != NULL ? dev : "");
            return FALSE;
        }
        g_string_append_c(order, letters[i]);
    }
    if (order->len > 0)
        vnic_qemu_opt(s, "order", order->str);
    if (menu != NULL)
        vnic_qemu_opt(s, "menu", g_strcmp0(menu, "yes") == 0 ? "on" : "off");
    if (s->len > 0)
        vnic_qemu_build_add_pair(b, "-boot", s);
    return TRUE;
}

/* <memoryBacking><source type='memfd'/><access mode='shared'/>: the RAM
 * as a memfd backend (shared: what a vhost-user backend maps), as libvirt
 * writes it for a machine without NUMA cells. */
static gboolean
add_memory_backend(VnicQemuBuild *b, GError **error)
{
    xmlNode *root = b->def->doc != NULL ? xmlDocGetRootElement(b->def->doc) : NULL;
    xmlNode *backing = vnic_qemu_xml_child(root, "memoryBacking");
    g_autofree char *type = vnic_qemu_xml_prop(vnic_qemu_xml_child(backing, "source"), "type");
    g_autofree char *mode = vnic_qemu_xml_prop(vnic_qemu_xml_child(backing, "access"), "mode");
    g_autofree char *obj = NULL;

    if (type != NULL && strcmp(type, "memfd") != 0 && strcmp(type, "anonymous") != 0) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                    "unsupported value '%s' for <memoryBacking><source type>: vnic backs "
                    "guest memory with memfd or anonymous memory", type);
        return FALSE;
    }
    if (mode != NULL && strcmp(mode, "shared") != 0 && strcmp(mode, "private") != 0) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "invalid value '%s' for <memoryBacking><access mode>", mode);
        return FALSE;
    }
    if (g_strcmp0(type, "memfd") != 0 && g_strcmp0(mode, "shared") != 0)
        return TRUE;
    obj = g_strdup_printf("memory-backend-memfd,id=pc.ram,share=%s,size=%" G_GUINT64_FORMAT "k",
                          g_strcmp0(mode, "shared") == 0 ? "on" : "off", b->def->memory_kib);
    vnic_qemu_build_add(b, "-object");
    vnic_qemu_build_add(b, obj);
    vnic_qemu_build_add(b, "-machine");
    vnic_qemu_build_add(b, "memory-backend=pc.ram");
    return TRUE;
}

static void
add_memory(VnicQemuBuild *b)
{
    g_autofree char *size = g_strdup_printf("size=%" G_GUINT64_FORMAT "k", b->def->memory_kib);

    vnic_qemu_build_add(b, "-m");
    vnic_qemu_build_add(b, size);
    if (b->def->current_memory_kib != 0 && b->def->current_memory_kib < b->def->memory_kib)
        b->cmd->balloon_bytes = b->def->current_memory_kib * 1024;
}

/* <iothreads>N</iothreads> (ids 1..N) or <iothreadids><iothread id>:
 * -object iothread,id=iothreadK for each. */
static gboolean
add_iothreads(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    g_autofree char *count = vnic_qemu_xml_child_text(root, "iothreads");
    xmlNode *ids = vnic_qemu_xml_child(root, "iothreadids");
    guint64 n = count != NULL ? g_ascii_strtoull(count, NULL, 10) : 0;
    g_autoptr(GArray) list = g_array_new(FALSE, FALSE, sizeof(guint64));

    for (xmlNode *c = ids != NULL ? ids->children : NULL; c != NULL; c = c->next) {
        guint64 id;

        if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "iothread") != 0)
            continue;
        if (!vnic_qemu_xml_prop_uint(b->def, NULL, c, "id", 0, &id, error))
            return FALSE;
        if (id == 0 || g_hash_table_contains(b->iothreads, GSIZE_TO_POINTER(id))) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                        "invalid value '%" G_GUINT64_FORMAT "' for <iothreadids><iothread id>: "
                        "ids are unique and > 0", id);
            return FALSE;
        }
        g_hash_table_add(b->iothreads, GSIZE_TO_POINTER(id));
        g_array_append_val(list, id);
    }
    /* libvirt numbers the threads <iothreadids> does not name from 1 up */
    for (guint64 id = 1; list->len < n && id < G_MAXUINT32; id++) {
        if (!g_hash_table_contains(b->iothreads, GSIZE_TO_POINTER(id))) {
            g_hash_table_add(b->iothreads, GSIZE_TO_POINTER(id));
            g_array_append_val(list, id);
        }
    }
    for (guint i = 0; i < list->len; i++) {
        g_autofree char *arg = g_strdup_printf("iothread,id=iothread%" G_GUINT64_FORMAT,
                                               g_array_index(list, guint64, i));
        vnic_qemu_build_add(b, "-object");
        vnic_qemu_build_add(b, arg);
    }
    return TRUE;
}

static void
add_monitor(VnicQemuBuild *b, int fd)
{
    g_autoptr(GString) chr = g_string_new("socket");
    g_autoptr(GString) mon = g_string_new(NULL);

    vnic_qemu_opt(chr, "id", "charmonitor");
    vnic_qemu_opt_uint(chr, "fd", (guint) fd);
    vnic_qemu_opt(chr, "server", "on");
    vnic_qemu_opt(chr, "wait", "off");
    vnic_qemu_build_add_pair(b, "-chardev", chr);
    vnic_qemu_opt(mon, "chardev", "charmonitor");
    vnic_qemu_opt(mon, "id", "monitor");
    vnic_qemu_opt(mon, "mode", "control");
    vnic_qemu_build_add_pair(b, "-mon", mon);
}

static gboolean
add_domain_options(VnicQemuBuild *b, GError **error)
{
    xmlNode *root = b->def->doc != NULL ? xmlDocGetRootElement(b->def->doc) : NULL;
    guint n_fds = 0;
    const int *qmp = vnic_qemu_runtime_get_child_fds(b->rt, NULL, VNIC_QEMU_FD_MONITOR, &n_fds);

    if (n_fds != 1) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "the runtime has no monitor socket");
        return FALSE;
    }
    add_identity(b);
    if (!vnic_qemu_build_machine(b, root, error) || !vnic_qemu_build_cpu(b, root, error))
        return FALSE;
    add_memory(b);
    if (!add_memory_backend(b, error) || !vnic_qemu_build_smp(b, root, error))
        return FALSE;
    vnic_qemu_build_add(b, "-no-user-config");
    vnic_qemu_build_add(b, "-nodefaults");
    vnic_qemu_build_add(b, "-S");
    vnic_qemu_build_add(b, "-display");
    vnic_qemu_build_add(b, "none");
    vnic_qemu_build_add(b, "-sandbox");
    vnic_qemu_build_add(b, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                           "resourcecontrol=deny");
    vnic_qemu_build_add(b, "-msg");
    vnic_qemu_build_add(b, "timestamp=on");
    add_monitor(b, qmp[0]);
    return add_iothreads(b, root, error) && vnic_qemu_build_affinity(b, root, error) &&
           vnic_qemu_build_boot(b, root, error) && add_boot_order(b, root, error) &&
           vnic_qemu_build_clock(b, root, error) && vnic_qemu_build_lifecycle(b, root, error) &&
           vnic_qemu_build_globals(b, root, error) &&
           vnic_qemu_features_devices(b, root, error);
}

/* ---- devices ------------------------------------------------------------- */

static gint
compare_pci_index(gconstpointer a, gconstpointer b)
{
    const VnicConfDevice *da = *(const VnicConfDevice *const *) a;
    const VnicConfDevice *db = *(const VnicConfDevice *const *) b;

    return (gint) da->controller->index - (gint) db->controller->index;
}

static gboolean
add_device(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    switch (dev->kind) {
    case VNIC_CONF_DEV_CONTROLLER: return TRUE; /* done first */
    case VNIC_CONF_DEV_DISK: return vnic_qemu_build_disk(b, dev, error);
    case VNIC_CONF_DEV_INTERFACE: return vnic_qemu_build_nic(b, dev, error);
    case VNIC_CONF_DEV_VIDEO: return vnic_qemu_build_video(b, dev, error);
    case VNIC_CONF_DEV_SOUND: return vnic_qemu_build_sound(b, dev, error);
    case VNIC_CONF_DEV_MEMBALLOON: return vnic_qemu_build_balloon(b, dev, error);
    case VNIC_CONF_DEV_RNG: return vnic_qemu_build_rng(b, dev, error);
    case VNIC_CONF_DEV_WATCHDOG: return vnic_qemu_build_watchdog(b, dev, error);
    case VNIC_CONF_DEV_SERIAL:
    case VNIC_CONF_DEV_CONSOLE:
    case VNIC_CONF_DEV_CHANNEL: return vnic_qemu_build_chardev(b, dev, error);
    case VNIC_CONF_DEV_INPUT: return vnic_qemu_build_input(b, dev, error);
    case VNIC_CONF_DEV_OTHER: return vnic_qemu_build_other(b, dev, error);
    case VNIC_CONF_DEV_HOSTDEV:
    case VNIC_CONF_DEV_FILESYSTEM:
    case VNIC_CONF_DEV_VSOCK:
    case VNIC_CONF_DEV_MEMORY:
    case VNIC_CONF_DEV_IOMMU:
    case VNIC_CONF_DEV_SHMEM:
    case VNIC_CONF_DEV_CRYPTO: return vnic_qemu_build_refused(b, dev, error);
    }
    g_return_val_if_reached(FALSE);
}

static gboolean
add_devices(VnicQemuBuild *b, GError **error)
{
    const GPtrArray *devices = b->def->devices;
    g_autoptr(GPtrArray) pci = g_ptr_array_new();

    for (guint i = 0; i < devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(devices, i);

        if (dev->kind == VNIC_CONF_DEV_CONTROLLER &&
            dev->controller->type == VNIC_CONF_CONTROLLER_PCI)
            g_ptr_array_add(pci, (gpointer) dev);
    }
    g_ptr_array_sort(pci, compare_pci_index);
    for (guint i = 0; i < pci->len; i++) {
        if (!vnic_qemu_build_controller(b, g_ptr_array_index(pci, i), error))
            return FALSE;
    }
    for (guint i = 0; i < devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(devices, i);

        if (dev->kind == VNIC_CONF_DEV_CONTROLLER &&
            dev->controller->type != VNIC_CONF_CONTROLLER_PCI &&
            !vnic_qemu_build_controller(b, dev, error))
            return FALSE;
    }
    for (guint i = 0; i < devices->len; i++) {
        if (!add_device(b, g_ptr_array_index(devices, i), error))
            return FALSE;
    }
    if (b->watchdog_action != NULL) {
        g_autoptr(GString) s = g_string_new(NULL);

        vnic_qemu_opt(s, "watchdog", b->watchdog_action);
        vnic_qemu_build_add_pair(b, "-action", s);
    }
    return TRUE;
}

/* ---- the command ----------------------------------------------------------- */

void
vnic_qemu_pci_expect_free(VnicQemuPciExpect *exp)
{
    if (exp == NULL)
        return;
    g_free(exp->id);
    g_free(exp->bus);
    g_free(exp->what);
    g_free(exp);
}

static void
pty_free(VnicQemuPty *pty)
{
    g_free(pty->chardev);
    g_free(pty->dev_id);
    g_free(pty);
}

static void
qmp_step_free(VnicQemuQmpStep *step)
{
    g_free(step->command);
    if (step->args != NULL)
        json_object_unref(step->args);
    g_free(step);
}

static VnicQemuCommand *
command_new(void)
{
    VnicQemuCommand *cmd = g_new0(VnicQemuCommand, 1);

    cmd->argv = g_ptr_array_new_with_free_func(g_free);
    cmd->links_down = g_ptr_array_new_with_free_func(g_free);
    cmd->ptys = g_ptr_array_new_with_free_func((GDestroyNotify) pty_free);
    cmd->before_cont = g_ptr_array_new_with_free_func((GDestroyNotify) qmp_step_free);
    cmd->vcpu_affinity = g_ptr_array_new_with_free_func((GDestroyNotify) g_array_unref);
    return cmd;
}

void
vnic_qemu_command_free(VnicQemuCommand *cmd)
{
    if (cmd == NULL)
        return;
    g_ptr_array_unref(cmd->argv);
    g_clear_pointer(&cmd->expected_pci, g_ptr_array_unref);
    g_ptr_array_unref(cmd->links_down);
    g_ptr_array_unref(cmd->ptys);
    g_ptr_array_unref(cmd->before_cont);
    g_free(cmd->tz);
    g_clear_pointer(&cmd->process_affinity, g_array_unref);
    g_ptr_array_unref(cmd->vcpu_affinity);
    g_free(cmd);
}

#define VNIC_QEMU_DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"

VnicQemuCommand *
vnic_qemu_command_build(const VnicConfDomain *def, const VnicQemuRuntime *rt, GError **error)
{
    g_autoptr(VnicQemuCommand) cmd = command_new();
    const char *emulator = def->emulator != NULL ? def->emulator : VNIC_QEMU_DEFAULT_EMULATOR;
    VnicQemuBuild b = { .def = def, .rt = rt, .cmd = cmd };
    gboolean ok;

    g_return_val_if_fail(def != NULL && rt != NULL, NULL);

    if (!g_path_is_absolute(emulator)) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "<emulator> '%s' is not an absolute path", emulator);
        return NULL;
    }
    cmd->kvm = g_strcmp0(def->type, "kvm") == 0;
    if (!vnic_qemu_cputune(def, &(VnicQemuCpuTune){ 0 }, error))
        return NULL;
    b.names = vnic_qemu_names_new(def);
    b.vs_ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    b.iothreads = g_hash_table_new(g_direct_hash, g_direct_equal);
    vnic_qemu_build_add(&b, emulator);
    ok = check_domain(def, error) && add_domain_options(&b, error) &&
         vnic_qemu_chardev_reserve_ports(&b, error) && add_devices(&b, error);
    /* a described runtime is define's check: the rows' messages are for a
     * running QEMU's verification only */
    if (ok)
        cmd->expected_pci = vnic_qemu_expected_pci_named(def, b.names, !rt->describing, error);
    vnic_qemu_names_free(b.names);
    g_hash_table_unref(b.vs_ports);
    g_hash_table_unref(b.iothreads);
    g_free(b.watchdog_action);
    if (!ok || cmd->expected_pci == NULL)
        return NULL;
    g_ptr_array_add(cmd->argv, NULL);
    return g_steal_pointer(&cmd);
}

char *
vnic_qemu_command_to_string(const VnicQemuCommand *cmd)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; i < cmd->argv->len; i++) {
        const char *arg = g_ptr_array_index(cmd->argv, i);
        g_autofree char *quoted = NULL;

        if (arg == NULL)
            break;
        quoted = g_shell_quote(arg);
        if (s->len > 0)
            g_string_append_c(s, ' ');
        /* g_shell_quote quotes everything; keep plain words readable */
        g_string_append(s, strpbrk(arg, " '\"\\$`!*?[]{}()<>|&;#~\t\n") || *arg == '\0'
                               ? quoted : arg);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}
