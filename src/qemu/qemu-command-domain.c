/* qemu-command-domain.c: domain-level options that come from XML the conf
 * layer carries verbatim: <cpu>, <vcpu current>, <clock>, <on_*>, <pm>,
 * <features><vmport>, <cputune> (checked here, enforced by the host's
 * cgroup), and the chipset globals.
 *
 * What is honoured and what is refused is listed in qemu-command.c's
 * table; this file implements those rows.  Pure.  Each function writes
 * its options or fails with an error that names the element and value.
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

static gboolean
unsupported(GError **error, const char *what, const char *value, const char *why)
{
    g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                "unsupported value '%s' for %s%s%s", value != NULL ? value : "", what,
                why != NULL ? ": " : "", why != NULL ? why : "");
    return FALSE;
}

/* <timer name='hpet' present='yes|no'/>: TRUE/FALSE in *@hpet, or -1. */
static gboolean
clock_hpet(xmlNode *root, gint *hpet, GError **error)
{
    xmlNode *clock = vnic_qemu_xml_child(root, "clock");

    *hpet = -1;
    for (xmlNode *t = clock != NULL ? clock->children : NULL; t != NULL; t = t->next) {
        g_autofree char *name = NULL;
        g_autofree char *present = NULL;

        if (t->type != XML_ELEMENT_NODE || strcmp((const char *) t->name, "timer") != 0)
            continue;
        name = vnic_qemu_xml_prop(t, "name");
        present = vnic_qemu_xml_prop(t, "present");
        if (g_strcmp0(name, "hpet") != 0 || present == NULL)
            continue;
        if (strcmp(present, "yes") != 0 && strcmp(present, "no") != 0)
            return unsupported(error, "<timer name='hpet' present>", present, NULL);
        *hpet = strcmp(present, "yes") == 0;
    }
    return TRUE;
}

gboolean
vnic_qemu_build_machine(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    xmlNode *features = vnic_qemu_xml_child(root, "features");
    g_autofree char *vmport = vnic_qemu_xml_prop(vnic_qemu_xml_child(features, "vmport"),
                                                 "state");
    g_autoptr(GString) s = g_string_new(NULL);
    gint hpet;

    if (!clock_hpet(root, &hpet, error))
        return FALSE;
    vnic_qemu_opt(s, NULL, b->def->machine != NULL ? b->def->machine : "pc");
    vnic_qemu_opt(s, "accel", b->cmd->kvm ? "kvm" : "tcg");
    vnic_qemu_opt(s, "usb", "off");
    if (!b->def->acpi)
        vnic_qemu_opt(s, "acpi", "off");
    if (vmport != NULL) {
        if (strcmp(vmport, "on") != 0 && strcmp(vmport, "off") != 0)
            return unsupported(error, "<vmport state>", vmport, NULL);
        vnic_qemu_opt(s, "vmport", vmport);
    }
    if (hpet >= 0)
        vnic_qemu_opt(s, "hpet", hpet ? "on" : "off");
    if (!vnic_qemu_features_machine(b, root, s, error))
        return FALSE;
    vnic_qemu_build_add_pair(b, "-machine", s);
    return TRUE;
}

static gboolean
cpu_features(xmlNode *cpu, GString *s, GError **error)
{
    for (xmlNode *f = cpu->children; f != NULL; f = f->next) {
        g_autofree char *policy = NULL;
        g_autofree char *name = NULL;

        if (f->type != XML_ELEMENT_NODE || strcmp((const char *) f->name, "feature") != 0)
            continue;
        policy = vnic_qemu_xml_prop(f, "policy");
        name = vnic_qemu_xml_prop(f, "name");
        if (name == NULL)
            return unsupported(error, "<cpu><feature name>", "", "a feature needs a name");
        if (policy == NULL || strcmp(policy, "require") == 0 || strcmp(policy, "force") == 0)
            vnic_qemu_opt(s, name, "on");
        else if (strcmp(policy, "disable") == 0 || strcmp(policy, "forbid") == 0)
            vnic_qemu_opt(s, name, "off");
        else
            return unsupported(error, "<cpu><feature policy>", policy,
                               "the launcher cannot probe which features the host has");
    }
    return TRUE;
}

/* The CPU flags of <timer name='kvmclock|hypervclock' present>, as libvirt
 * writes them (also under TCG, where QEMU drops kvmclock with a warning). */
static gboolean
clock_cpu_flags(xmlNode *root, GString *s, GError **error)
{
    static const char *const timers[] = { "kvmclock", "hypervclock" };
    static const char *const flags[] = { "kvmclock", "hv-time" };
    xmlNode *clock = vnic_qemu_xml_child(root, "clock");

    for (xmlNode *t = clock != NULL ? clock->children : NULL; t != NULL; t = t->next) {
        g_autofree char *name = NULL;
        g_autofree char *present = NULL;

        if (t->type != XML_ELEMENT_NODE || strcmp((const char *) t->name, "timer") != 0)
            continue;
        name = vnic_qemu_xml_prop(t, "name");
        present = vnic_qemu_xml_prop(t, "present");
        for (guint i = 0; i < G_N_ELEMENTS(timers); i++) {
            if (g_strcmp0(name, timers[i]) != 0 || present == NULL)
                continue;
            if (strcmp(present, "yes") != 0 && strcmp(present, "no") != 0)
                return unsupported(error, "<timer present>", present, name);
            vnic_qemu_opt(s, flags[i], strcmp(present, "yes") == 0 ? "on" : "off");
        }
    }
    return TRUE;
}

/* The -cpu model: "host" (KVM), "max" for host-model under TCG (libvirt
 * expands the CPU it probed from QEMU's "max"; vnic does not probe and
 * lets QEMU give the same), the <model>, or "qemu64" when only flags are
 * set.  NULL: QEMU's default. */
static gboolean
cpu_model(VnicQemuBuild *b, xmlNode *cpu, const char **ret, GError **error)
{
    g_autofree char *mode = vnic_qemu_xml_prop(cpu, "mode");
    g_autofree char *model = vnic_qemu_xml_child_text(cpu, "model");

    *ret = NULL;
    if (g_strcmp0(mode, "host-passthrough") == 0 && !b->cmd->kvm)
        return unsupported(error, "<cpu mode>", mode,
                           "the host CPU needs type='kvm' (libvirt refuses it for TCG too)");
    if (g_strcmp0(mode, "host-passthrough") == 0 || g_strcmp0(mode, "host-model") == 0)
        *ret = b->cmd->kvm ? "host" : "max";
    else if (g_strcmp0(mode, "maximum") == 0)
        *ret = "max";
    else if (mode != NULL && strcmp(mode, "custom") != 0)
        return unsupported(error, "<cpu mode>", mode, NULL);
    else if (model != NULL && *model != '\0')
        *ret = g_intern_string(model);
    return TRUE;
}

gboolean
vnic_qemu_build_cpu(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    static const char *const attrs[] = { "mode", "match", "check", "migratable", NULL };
    static const char *const children[] = { "topology", "model", "feature", "vendor", "cache",
                                            NULL };
    xmlNode *cpu = vnic_qemu_xml_child(root, "cpu");
    g_autofree char *cache = vnic_qemu_xml_prop(vnic_qemu_xml_child(cpu, "cache"), "mode");
    g_autoptr(GString) flags = g_string_new(NULL);
    g_autoptr(GString) s = g_string_new(NULL);
    const char *model = NULL;

    if (!vnic_qemu_xml_check(b->def, NULL, cpu, attrs, children, error) ||
        !cpu_model(b, cpu, &model, error))
        return FALSE;
    if (cache != NULL && strcmp(cache, "passthrough") == 0 && !b->cmd->kvm)
        return unsupported(error, "<cpu><cache mode>", cache, "needs type='kvm'");
    if (cache != NULL && strcmp(cache, "passthrough") != 0 && strcmp(cache, "disable") != 0 &&
        strcmp(cache, "emulate") != 0)
        return unsupported(error, "<cpu><cache mode>", cache, NULL);
    if ((cpu != NULL && !cpu_features(cpu, flags, error)) ||
        !clock_cpu_flags(root, flags, error) || !vnic_qemu_features_cpu(b, root, flags, error))
        return FALSE;
    if (model == NULL && flags->len == 0)
        return TRUE;
    vnic_qemu_opt(s, NULL, model != NULL ? model : "qemu64");
    if (g_strcmp0(cache, "passthrough") == 0)
        vnic_qemu_opt(s, "host-cache-info", "on");
    else if (g_strcmp0(cache, "disable") == 0)
        vnic_qemu_opt(s, "l3-cache", "off");
    if (flags->len > 0)
        g_string_append_printf(s, ",%s", flags->str);
    vnic_qemu_build_add_pair(b, "-cpu", s);
    return TRUE;
}

gboolean
vnic_qemu_build_smp(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    xmlNode *topo = vnic_qemu_xml_child(vnic_qemu_xml_child(root, "cpu"), "topology");
    xmlNode *vcpu = vnic_qemu_xml_child(root, "vcpu");
    guint64 max = b->def->vcpus != 0 ? b->def->vcpus : 1;
    guint64 current, sockets, dies, cores, threads;
    g_autoptr(GString) s = g_string_new(NULL);

    if (!vnic_qemu_xml_prop_uint(b->def, NULL, vcpu, "current", max, &current, error) ||
        !vnic_qemu_xml_prop_uint(b->def, NULL, topo, "sockets", topo ? 1 : max, &sockets,
                                 error) ||
        !vnic_qemu_xml_prop_uint(b->def, NULL, topo, "dies", 1, &dies, error) ||
        !vnic_qemu_xml_prop_uint(b->def, NULL, topo, "cores", 1, &cores, error) ||
        !vnic_qemu_xml_prop_uint(b->def, NULL, topo, "threads", 1, &threads, error))
        return FALSE;
    if (current == 0 || current > max) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "invalid value '%" G_GUINT64_FORMAT "' for <vcpu current>: 1 to %"
                    G_GUINT64_FORMAT, current, max);
        return FALSE;
    }
    if (dies != 1)
        return unsupported(error, "<topology dies>", "dies", "only 1 die per socket");
    if (sockets * cores * threads != max) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "<cpu><topology> gives %" G_GUINT64_FORMAT " vCPUs but <vcpu> is %"
                    G_GUINT64_FORMAT, sockets * cores * threads, max);
        return FALSE;
    }
    vnic_qemu_opt_uint(s, NULL, current);
    if (current != max)
        vnic_qemu_opt_uint(s, "maxcpus", max);
    vnic_qemu_opt_uint(s, "sockets", sockets);
    vnic_qemu_opt_uint(s, "cores", cores);
    vnic_qemu_opt_uint(s, "threads", threads);
    vnic_qemu_build_add_pair(b, "-smp", s);
    return TRUE;
}

/* One <timer> other than hpet (done by -machine). */
static gboolean
clock_timer(VnicQemuBuild *b, xmlNode *t, gboolean *slew, const char **track, GError **error)
{
    g_autofree char *name = vnic_qemu_xml_prop(t, "name");
    g_autofree char *policy = vnic_qemu_xml_prop(t, "tickpolicy");
    g_autofree char *present = vnic_qemu_xml_prop(t, "present");
    g_autofree char *trk = vnic_qemu_xml_prop(t, "track");

    if (!vnic_qemu_xml_check(b->def, NULL, t,
                             (const char *const[]){ "name", "tickpolicy", "present", "track",
                                                    NULL },
                             NULL, error))
        return FALSE;
    /* hpet: -machine; kvmclock, hypervclock: -cpu flags */
    if (g_strcmp0(name, "hpet") == 0 || g_strcmp0(name, "kvmclock") == 0 ||
        g_strcmp0(name, "hypervclock") == 0)
        return TRUE;
    if (g_strcmp0(present, "no") == 0)
        return unsupported(error, "<timer present>", present, name);
    if (g_strcmp0(name, "rtc") == 0) {
        if (policy != NULL && strcmp(policy, "catchup") != 0 && strcmp(policy, "delay") != 0)
            return unsupported(error, "<timer name='rtc' tickpolicy>", policy, NULL);
        *slew = g_strcmp0(policy, "catchup") == 0;
        /* libvirt's mapping: guest time, the host's wall clock, or the
         * host's monotonic clock; boot is QEMU's default */
        if (trk != NULL && strcmp(trk, "guest") == 0)
            *track = "vm";
        else if (trk != NULL && strcmp(trk, "wall") == 0)
            *track = "host";
        else if (trk != NULL && strcmp(trk, "realtime") == 0)
            *track = "rt";
        else if (trk != NULL && strcmp(trk, "boot") != 0)
            return unsupported(error, "<timer name='rtc' track>", trk, NULL);
        return TRUE;
    }
    if (g_strcmp0(name, "pit") == 0) {
        if (policy != NULL && strcmp(policy, "delay") != 0)
            return unsupported(error, "<timer name='pit' tickpolicy>", policy, NULL);
        if (policy != NULL && b->cmd->kvm) {
            vnic_qemu_build_add(b, "-global");
            vnic_qemu_build_add(b, "kvm-pit.lost_tick_policy=delay");
        }
        return TRUE;
    }
    return unsupported(error, "<timer name>", name,
                       "the launcher handles rtc, pit, hpet, kvmclock and hypervclock");
}

/* -rtc base=: utc, localtime; offset='variable': the start time (the
 * runtime's clock, in UTC) plus adjustment seconds, and for basis='localtime'
 * plus the host's UTC offset then, as a date QEMU counts on from (vnic does
 * not follow the guest's later RTC changes); offset='timezone': localtime
 * with TZ set for QEMU. */
static gboolean
clock_base(VnicQemuBuild *b, xmlNode *clock, char **ret, GError **error)
{
    g_autofree char *offset = vnic_qemu_xml_prop(clock, "offset");
    g_autofree char *basis = vnic_qemu_xml_prop(clock, "basis");
    g_autofree char *adjustment = vnic_qemu_xml_prop(clock, "adjustment");
    g_autofree char *tz = vnic_qemu_xml_prop(clock, "timezone");
    g_autoptr(GDateTime) then = NULL;
    gint64 adj = 0;
    char *end = NULL;

    if (offset == NULL || strcmp(offset, "utc") == 0 || strcmp(offset, "localtime") == 0) {
        *ret = g_strdup(offset != NULL ? offset : "utc");
        return TRUE;
    }
    if (strcmp(offset, "timezone") == 0) {
        if (tz == NULL || *tz == '\0' || *tz == '/' || strstr(tz, "..") != NULL ||
            strspn(tz, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-/") !=
                strlen(tz))
            return unsupported(error, "<clock timezone>", tz, "a zone name such as Europe/Paris");
        g_free(b->cmd->tz);
        b->cmd->tz = g_steal_pointer(&tz);
        *ret = g_strdup("localtime");
        return TRUE;
    }
    if (strcmp(offset, "variable") != 0)
        return unsupported(error, "<clock offset>", offset,
                           "use utc, localtime, variable or timezone");
    if (basis != NULL && strcmp(basis, "utc") != 0 && strcmp(basis, "localtime") != 0)
        return unsupported(error, "<clock basis>", basis, "use utc or localtime");
    if (adjustment != NULL) {
        adj = g_ascii_strtoll(adjustment, &end, 10);
        if (end == adjustment || *end != '\0' || adj < -G_MAXINT32 * 100LL ||
            adj > G_MAXINT32 * 100LL) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                        "invalid value '%s' for <clock adjustment>: seconds", adjustment);
            return FALSE;
        }
    }
    if (g_strcmp0(basis, "localtime") == 0)
        adj += b->rt->local_offset_s;
    then = g_date_time_new_from_unix_utc(b->rt->now_utc + adj);
    if (then == NULL)
        return unsupported(error, "<clock adjustment>", adjustment, "out of range");
    *ret = g_date_time_format(then, "%Y-%m-%dT%H:%M:%S");
    return TRUE;
}

gboolean
vnic_qemu_build_clock(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    xmlNode *clock = vnic_qemu_xml_child(root, "clock");
    g_autofree char *offset = vnic_qemu_xml_prop(clock, "offset");
    g_autoptr(GString) s = g_string_new(NULL);
    gboolean slew = FALSE;
    const char *track = NULL;

    g_autofree char *base = NULL;

    if (!vnic_qemu_xml_check(b->def, NULL, clock,
                             (const char *const[]){ "offset", "adjustment", "basis", "timezone",
                                                    NULL },
                             (const char *const[]){ "timer", NULL }, error) ||
        !clock_base(b, clock, &base, error))
        return FALSE;
    for (xmlNode *t = clock != NULL ? clock->children : NULL; t != NULL; t = t->next) {
        if (t->type == XML_ELEMENT_NODE && !clock_timer(b, t, &slew, &track, error))
            return FALSE;
    }
    vnic_qemu_opt(s, "base", base);
    if (track != NULL)
        vnic_qemu_opt(s, "clock", track);
    if (slew)
        vnic_qemu_opt(s, "driftfix", "slew");
    vnic_qemu_build_add_pair(b, "-rtc", s);
    return TRUE;
}

gboolean
vnic_qemu_build_lifecycle(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    g_autofree char *poweroff = vnic_qemu_xml_child_text(root, "on_poweroff");
    g_autofree char *reboot = vnic_qemu_xml_child_text(root, "on_reboot");

    if (poweroff != NULL && strcmp(poweroff, "destroy") != 0)
        return unsupported(error, "<on_poweroff>", poweroff, "QEMU exits when the guest "
                           "powers off");
    if (reboot != NULL && strcmp(reboot, "restart") != 0 && strcmp(reboot, "destroy") != 0)
        return unsupported(error, "<on_reboot>", reboot, "use restart or destroy");
    if (g_strcmp0(reboot, "destroy") == 0)
        vnic_qemu_build_add(b, "-no-reboot");
    return TRUE;
}

static void
add_global(VnicQemuBuild *b, const char *device, const char *prop, const char *value)
{
    g_autofree char *arg = g_strdup_printf("%s.%s=%s", device, prop, value);

    vnic_qemu_build_add(b, "-global");
    vnic_qemu_build_add(b, arg);
}

gboolean
vnic_qemu_build_globals(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    static const char *const states[] = { "suspend-to-mem", "suspend-to-disk", NULL };
    static const char *const props[] = { "disable_s3", "disable_s4" };
    const char *pm_dev = b->def->family == VNIC_MACHINE_PC ? "PIIX4_PM" : "ICH9-LPC";
    const VnicConfDevice *root_bus =
        vnic_conf_domain_find_controller(b->def, VNIC_CONF_CONTROLLER_PCI, 0);
    xmlNode *pm = vnic_qemu_xml_child(root, "pm");

    if (!vnic_qemu_xml_check(b->def, NULL, pm, NULL, states, error))
        return FALSE;
    for (guint i = 0; states[i] != NULL; i++) {
        g_autofree char *enabled =
            vnic_qemu_xml_prop(vnic_qemu_xml_child(pm, states[i]), "enabled");

        if (enabled == NULL)
            continue;
        if (strcmp(enabled, "yes") != 0 && strcmp(enabled, "no") != 0)
            return unsupported(error, "<pm> enabled", enabled, NULL);
        add_global(b, pm_dev, props[i], strcmp(enabled, "no") == 0 ? "1" : "0");
    }
    if (b->def->family == VNIC_MACHINE_PC && root_bus != NULL &&
        root_bus->controller->hotplug == VNIC_TRISTATE_NO)
        add_global(b, "PIIX4_PM", "acpi-root-pci-hotplug", "off");
    if (vnic_qemu_pc_bridges_without_hotplug(b->def))
        add_global(b, "PIIX4_PM", "acpi-pci-hotplug-with-bridge-support", "off");
    return TRUE;
}

gboolean
vnic_qemu_pc_bridges_without_hotplug(const VnicConfDomain *def)
{
    guint bridges = 0;

    if (def->family != VNIC_MACHINE_PC)
        return FALSE;
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);
        if (d->kind != VNIC_CONF_DEV_CONTROLLER || d->controller->type != VNIC_CONF_CONTROLLER_PCI ||
            d->controller->pci_model != VNIC_CONF_PCI_MODEL_PCI_BRIDGE)
            continue;
        if (d->controller->hotplug != VNIC_TRISTATE_NO)
            return FALSE;
        bridges++;
    }
    return bridges > 0;
}

/* ---- <cputune> ------------------------------------------------------------ */

/* <cputune><@elem> in [@min, @max] (or -1 when @unlimited); 0 when absent. */
static gboolean
cputune_value(xmlNode *cputune, const char *elem, gint64 min, gint64 max, gboolean unlimited,
              gint64 *ret, GError **error)
{
    g_autofree char *text = vnic_qemu_xml_child_text(cputune, elem);
    char *end = NULL;
    gint64 v;

    *ret = 0;
    if (text == NULL)
        return TRUE;
    v = g_ascii_strtoll(g_strstrip(text), &end, 10);
    if (end == text || *end != '\0' || ((v < min || v > max) && !(unlimited && v == -1))) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_INVALID,
                    "invalid value '%s' for <cputune><%s>: %" G_GINT64_FORMAT " to %"
                    G_GINT64_FORMAT "%s", text, elem, min, max, unlimited ? " or -1" : "");
        return FALSE;
    }
    *ret = v;
    return TRUE;
}

gboolean
vnic_qemu_cputune(const VnicConfDomain *def, VnicQemuCpuTune *tune, GError **error)
{
    static const char *const refused[] = { "emulator_period", "emulator_quota",
                                           "iothread_period", "iothread_quota", NULL };
    xmlNode *root = def->doc != NULL ? xmlDocGetRootElement(def->doc) : NULL;
    xmlNode *cputune = vnic_qemu_xml_child(root, "cputune");
    gint64 shares, period, quota, gperiod, gquota;
    guint64 vcpus = def->vcpus != 0 ? def->vcpus : 1;

    memset(tune, 0, sizeof(*tune));
    for (guint i = 0; refused[i] != NULL; i++) {
        if (vnic_qemu_xml_child(cputune, refused[i]) != NULL) {
            g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "<cputune><%s> is not supported: vnic limits the whole QEMU in one "
                        "cgroup, not its emulator or I/O threads apart", refused[i]);
            return FALSE;
        }
    }
    if (!cputune_value(cputune, "shares", 2, 262144, FALSE, &shares, error) ||
        !cputune_value(cputune, "period", 1000, 1000000, FALSE, &period, error) ||
        !cputune_value(cputune, "quota", 1000, 17592186044415, TRUE, &quota, error) ||
        !cputune_value(cputune, "global_period", 1000, 1000000, FALSE, &gperiod, error) ||
        !cputune_value(cputune, "global_quota", 1000, 17592186044415, TRUE, &gquota, error))
        return FALSE;
    tune->shares = (guint64) shares;
    /* <quota> is per vCPU: the whole QEMU gets it once per vCPU, unless
     * <global_quota> says what the whole domain gets */
    tune->period_us = (guint64) (gperiod != 0 ? gperiod : period);
    if (gquota != 0)
        tune->quota_us = gquota;
    else if (quota > 0)
        tune->quota_us = (gint64) MIN((guint64) quota * vcpus, (guint64) G_MAXINT64 / 2);
    else
        tune->quota_us = quota;
    tune->set = tune->shares != 0 || tune->period_us != 0 || tune->quota_us != 0;
    return TRUE;
}
