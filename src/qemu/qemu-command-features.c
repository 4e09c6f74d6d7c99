/* qemu-command-features.c: the <features> that become CPU flags, machine
 * options or a device.  Pure.
 *
 *   <hyperv mode='custom'>  each child with state='on' → -cpu hv-NAME=on
 *                           (relaxed, vapic, runtime, synic, stimer [+ <direct>
 *                           → hv-stimer-direct], reset, frequencies,
 *                           reenlightenment, tlbflush, ipi, evmcs, vpindex),
 *                           spinlocks retries → hv-spinlocks=0xN, vendor_id
 *                           value → hv-vendor-id; state='off' writes nothing,
 *                           as in libvirt.  vpindex and mode='passthrough'
 *                           need type='kvm' (QEMU 7.2's TCG refuses them)
 *   <kvm><hidden state>     kvm=off (hidden) / nothing; other children refused
 *   <pvspinlock state>      kvm-pv-unhalt=on|off
 *   <pmu state>             pmu=on|off
 *   <smm state>             -machine smm=on|off
 *   <vmcoreinfo state='on'> -device vmcoreinfo
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

/* "on", "off" or NULL (absent) for <@node state>; FALSE on anything else. */
static gboolean
state_of(xmlNode *node, const char *what, gboolean *on, GError **error)
{
    g_autofree char *state = vnic_qemu_xml_prop(node, "state");

    *on = state == NULL || strcmp(state, "on") == 0;
    if (state != NULL && strcmp(state, "on") != 0 && strcmp(state, "off") != 0)
        return unsupported(error, what, state, "use on or off");
    return TRUE;
}

static gboolean
hyperv_child(VnicQemuBuild *b, xmlNode *c, GString *flags, GError **error)
{
    static const char *const plain[] = { "relaxed", "vapic", "runtime", "synic", "stimer",
                                         "reset", "frequencies", "reenlightenment", "tlbflush",
                                         "ipi", "evmcs", "vpindex", NULL };
    const char *name = (const char *) c->name;
    g_autofree char *flag = NULL;
    gboolean on;

    if (!state_of(c, "<hyperv> state", &on, error))
        return FALSE;
    if (!on)
        return TRUE;
    if (strcmp(name, "spinlocks") == 0) {
        guint64 retries;
        char buf[32];

        if (!vnic_qemu_xml_prop_uint(b->def, NULL, c, "retries", 4095, &retries, error))
            return FALSE;
        g_snprintf(buf, sizeof(buf), "0x%" G_GINT64_MODIFIER "x", retries);
        vnic_qemu_opt(flags, "hv-spinlocks", buf);
        return TRUE;
    }
    if (strcmp(name, "vendor_id") == 0) {
        g_autofree char *value = vnic_qemu_xml_prop(c, "value");
        vnic_qemu_opt(flags, "hv-vendor-id", value != NULL ? value : "");
        return TRUE;
    }
    if (!g_strv_contains(plain, name)) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_UNSUPPORTED,
                    "<features><hyperv><%s> is not supported by the QEMU launcher", name);
        return FALSE;
    }
    if (strcmp(name, "vpindex") == 0 && !b->cmd->kvm)
        return unsupported(error, "<features><hyperv>", name,
                           "needs type='kvm' (QEMU's TCG cannot set the VP index)");
    flag = g_strdup_printf("hv-%s", name);
    vnic_qemu_opt(flags, flag, "on");
    if (strcmp(name, "stimer") == 0) {
        xmlNode *direct = vnic_qemu_xml_child(c, "direct");
        gboolean direct_on;

        if (direct != NULL && !state_of(direct, "<stimer><direct state>", &direct_on, error))
            return FALSE;
        if (direct != NULL && direct_on)
            vnic_qemu_opt(flags, "hv-stimer-direct", "on");
    }
    return TRUE;
}

static gboolean
hyperv(VnicQemuBuild *b, xmlNode *hv, GString *flags, GError **error)
{
    g_autofree char *mode = vnic_qemu_xml_prop(hv, "mode");

    if (mode != NULL && strcmp(mode, "custom") != 0) {
        if (strcmp(mode, "passthrough") != 0)
            return unsupported(error, "<hyperv mode>", mode, NULL);
        if (!b->cmd->kvm)
            return unsupported(error, "<hyperv mode>", mode, "needs type='kvm'");
        vnic_qemu_opt(flags, "hv-passthrough", "on");
        return TRUE;
    }
    for (xmlNode *c = hv->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !hyperv_child(b, c, flags, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vnic_qemu_features_cpu(VnicQemuBuild *b, xmlNode *root, GString *flags, GError **error)
{
    xmlNode *features = vnic_qemu_xml_child(root, "features");
    xmlNode *hv = vnic_qemu_xml_child(features, "hyperv");
    xmlNode *kvm = vnic_qemu_xml_child(features, "kvm");
    xmlNode *spin = vnic_qemu_xml_child(features, "pvspinlock");
    xmlNode *pmu = vnic_qemu_xml_child(features, "pmu");
    gboolean on;

    if (hv != NULL && !hyperv(b, hv, flags, error))
        return FALSE;
    if (kvm != NULL) {
        xmlNode *hidden = vnic_qemu_xml_child(kvm, "hidden");

        if (!vnic_qemu_xml_check(b->def, NULL, kvm, NULL, (const char *const[]){ "hidden", NULL },
                                 error) ||
            (hidden != NULL && !state_of(hidden, "<kvm><hidden state>", &on, error)))
            return FALSE;
        if (hidden != NULL && on)
            vnic_qemu_opt(flags, "kvm", "off");
    }
    if (spin != NULL) {
        if (!state_of(spin, "<pvspinlock state>", &on, error))
            return FALSE;
        vnic_qemu_opt(flags, "kvm-pv-unhalt", on ? "on" : "off");
    }
    if (pmu != NULL) {
        if (!state_of(pmu, "<pmu state>", &on, error))
            return FALSE;
        vnic_qemu_opt(flags, "pmu", on ? "on" : "off");
    }
    return TRUE;
}

gboolean
vnic_qemu_features_machine(VnicQemuBuild *b, xmlNode *root, GString *machine, GError **error)
{
    xmlNode *smm = vnic_qemu_xml_child(vnic_qemu_xml_child(root, "features"), "smm");
    gboolean on;

    if (smm == NULL)
        return TRUE;
    if (!vnic_qemu_xml_check(b->def, NULL, smm, (const char *const[]){ "state", NULL }, NULL,
                             error) ||
        !state_of(smm, "<smm state>", &on, error))
        return FALSE;
    vnic_qemu_opt(machine, "smm", on ? "on" : "off");
    return TRUE;
}

gboolean
vnic_qemu_features_devices(VnicQemuBuild *b, xmlNode *root, GError **error)
{
    xmlNode *vmcore = vnic_qemu_xml_child(vnic_qemu_xml_child(root, "features"), "vmcoreinfo");
    gboolean on;

    if (vmcore == NULL)
        return TRUE;
    if (!state_of(vmcore, "<vmcoreinfo state>", &on, error))
        return FALSE;
    if (on) {
        vnic_qemu_build_add(b, "-device");
        vnic_qemu_build_add(b, "vmcoreinfo");
    }
    return TRUE;
}
