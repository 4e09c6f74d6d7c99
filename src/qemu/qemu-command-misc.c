/* qemu-command-misc.c: the small devices on the command line.  Pure.
 *
 *   video       cirrus → cirrus-vga, vga → VGA, qxl → qxl-vga (qxl when not
 *               the first video), virtio → virtio-vga (virtio-gpu-pci when
 *               not first), bochs → bochs-display, ramfb → ramfb, none →
 *               nothing.  vram → vgamem_mb (vga, bochs), ram/vram/vgamem/
 *               vram64/heads → qxl sizes and max_outputs, heads → virtio
 *               max_outputs; cirrus ignores vram as in libvirt (fixed in QEMU).
 *               A second cirrus/vga/bochs, heads > 1 elsewhere, <acceleration>,
 *               <resolution> refused
 *   sound       ich6 → intel-hda, ich9 → ich9-intel-hda (+ hda-duplex/micro/
 *               output per <codec>, default duplex), ac97 → AC97, es1370 →
 *               ES1370, sb16 → sb16, usb → usb-audio; all on one
 *               -audiodev none,id=audio1 (no host audio); pcspk refused
 *   memballoon  virtio* → virtio-balloon-pci*, autodeflate → deflate-on-oom,
 *               freePageReporting; none: nothing; <stats period> → qom-set
 *               guest-stats-polling-interval before cont
 *   rng         <backend model='random'> → -object rng-random,filename=…,
 *               builtin → rng-builtin, + virtio-rng-pci*; <rate> → max-bytes/
 *               period; egd refused
 *   watchdog    i6300esb, ib700 → -device; itco → ICH9-LPC.noreboot=off (the
 *               q35 chipset has it); action → one -action watchdog=… (dump
 *               and watchdogs that disagree refused)
 *   input       ps2 mouse/keyboard: nothing (the i8042 is always there); usb
 *               → usb-mouse/usb-tablet/usb-kbd on the USB bus; virtio →
 *               virtio-mouse/tablet/keyboard-pci*; passthrough, evdev, bus
 *               none refused
 *   others      <audio type='none'>: nothing (it is what -audiodev none
 *               does); <graphics>, <redirdev>: qemu-command-graphics.c;
 *               <hub>, <smartcard>, <tpm>, <panic>, <lease>, <parallel> refused
 */
#include "qemu/qemu-command-priv.h"

#include <string.h>

static gboolean
refuse(GError **error, VnicQemuBuild *b, const VnicConfDevice *dev, const char *what,
       const char *value, const char *why)
{
    vnic_qemu_set_error(error, b->def, dev, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "unsupported value '%s' for %s%s%s", value != NULL ? value : "", what,
                        why != NULL ? ": " : "", why != NULL ? why : "");
    return FALSE;
}

static char *
virtio_pci(const char *base, const char *model)
{
    if (g_strcmp0(model, "virtio-transitional") == 0 ||
        g_strcmp0(model, "virtio-non-transitional") == 0)
        return g_strdup_printf("%s-pci-%s", base, model + strlen("virtio-"));
    return g_strdup_printf("%s-pci", base);
}

static gboolean
add_pci_device(VnicQemuBuild *b, const VnicConfDevice *dev, GString *s, GError **error)
{
    const char *id = vnic_qemu_names_get(b->names, dev);

    if (id != NULL)
        vnic_qemu_opt(s, "id", id);
    if (!vnic_qemu_opt_pci(b, dev, s, error))
        return FALSE;
    vnic_qemu_build_add_pair(b, "-device", s);
    return TRUE;
}

/* ---- video ---------------------------------------------------------------- */

static gboolean
is_first_video(const VnicConfDomain *def, const VnicConfDevice *dev)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *d = g_ptr_array_index(def->devices, i);

        if (d->kind == VNIC_CONF_DEV_VIDEO)
            return d == dev;
    }
    return FALSE;
}

static gboolean
video_sizes(VnicQemuBuild *b, const VnicConfDevice *dev, xmlNode *model, GString *s,
            GError **error)
{
    guint64 vram, ram, vgamem, vram64, heads;

    if (!vnic_qemu_xml_prop_uint(b->def, dev, model, "vram", 0, &vram, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, model, "ram", 0, &ram, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, model, "vgamem", 0, &vgamem, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, model, "vram64", 0, &vram64, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, model, "heads", 1, &heads, error))
        return FALSE;
    if (strcmp(dev->model, "qxl") == 0) {
        if (ram != 0)
            vnic_qemu_opt_uint(s, "ram_size", ram * 1024);
        if (vram != 0)
            vnic_qemu_opt_uint(s, "vram_size", vram * 1024);
        if (vram64 != 0)
            vnic_qemu_opt_uint(s, "vram64_size_mb", vram64 / 1024);
        if (vgamem != 0)
            vnic_qemu_opt_uint(s, "vgamem_mb", vgamem / 1024);
    } else if ((strcmp(dev->model, "vga") == 0 || strcmp(dev->model, "bochs") == 0) &&
               vram != 0) {
        vnic_qemu_opt_uint(s, "vgamem_mb", vram / 1024);
    }
    if (strcmp(dev->model, "qxl") == 0 || strcmp(dev->model, "virtio") == 0)
        vnic_qemu_opt_uint(s, "max_outputs", heads);
    else if (heads != 1)
        return refuse(error, b, dev, "<model heads>", "heads", "only qxl and virtio have heads");
    return TRUE;
}

gboolean
vnic_qemu_build_video(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const attrs[] = { "type", "vram", "heads", "primary", "ram", "vgamem",
                                         "vram64", NULL };
    static const char *const types[] = { "cirrus", "vga", "qxl", "virtio", "bochs", NULL };
    static const char *const primary[] = { "cirrus-vga", "VGA", "qxl-vga", "virtio-vga",
                                           "bochs-display" };
    static const char *const secondary[] = { NULL, NULL, "qxl", "virtio-gpu-pci",
                                             "bochs-display" };
    xmlNode *model = vnic_qemu_xml_child(dev->node, "model");
    gboolean first = is_first_video(b->def, dev);
    g_autoptr(GString) s = NULL;
    guint i;

    if (!vnic_qemu_xml_check(b->def, dev, dev->node, NULL,
                             (const char *const[]){ "model", "alias", "address", NULL },
                             error) ||
        !vnic_qemu_xml_check(b->def, dev, model, attrs, NULL, error))
        return FALSE;
    if (g_strcmp0(dev->model, "none") == 0)
        return TRUE;
    if (g_strcmp0(dev->model, "ramfb") == 0) {
        s = g_string_new("ramfb");
        vnic_qemu_opt(s, "id", vnic_qemu_names_get(b->names, dev));
        vnic_qemu_build_add_pair(b, "-device", s);
        return TRUE;
    }
    for (i = 0; types[i] != NULL && g_strcmp0(dev->model, types[i]) != 0; i++)
        ;
    if (types[i] == NULL || (!first && secondary[i] == NULL))
        return refuse(error, b, dev, "<model type>", dev->model,
                      types[i] == NULL ? NULL : "only the first video may be VGA-compatible");
    s = g_string_new(first ? primary[i] : secondary[i]);
    if (!video_sizes(b, dev, model, s, error))
        return FALSE;
    return add_pci_device(b, dev, s, error);
}

/* ---- sound ---------------------------------------------------------------- */

static void
ensure_audiodev(VnicQemuBuild *b)
{
    if (b->audiodev)
        return;
    vnic_qemu_build_add(b, "-audiodev");
    vnic_qemu_build_add(b, "none,id=audio1");
    b->audiodev = TRUE;
}

static gboolean
add_codec(VnicQemuBuild *b, const VnicConfDevice *dev, const char *type, guint cad,
          GError **error)
{
    const char *id = vnic_qemu_names_get(b->names, dev);
    g_autofree char *bus = g_strdup_printf("%s.0", id);
    g_autofree char *codec_id = g_strdup_printf("%s-codec%u", id, cad);
    g_autofree char *driver = g_strdup_printf("hda-%s", type != NULL ? type : "duplex");
    g_autoptr(GString) s = NULL;

    if (type != NULL && strcmp(type, "duplex") != 0 && strcmp(type, "micro") != 0 &&
        strcmp(type, "output") != 0)
        return refuse(error, b, dev, "<codec type>", type, NULL);
    s = g_string_new(driver);
    vnic_qemu_opt(s, "id", codec_id);
    vnic_qemu_opt(s, "bus", bus);
    vnic_qemu_opt_uint(s, "cad", cad);
    vnic_qemu_opt(s, "audiodev", "audio1");
    vnic_qemu_build_add_pair(b, "-device", s);
    return TRUE;
}

/* One hda codec per <codec>, a duplex one when there is none. */
static gboolean
add_codecs(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    guint n = 0;

    for (xmlNode *c = dev->node != NULL ? dev->node->children : NULL; c != NULL; c = c->next) {
        g_autofree char *type = NULL;

        if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "codec") != 0)
            continue;
        type = vnic_qemu_xml_prop(c, "type");
        if (!add_codec(b, dev, type, n++, error))
            return FALSE;
    }
    return n > 0 || add_codec(b, dev, NULL, 0, error);
}

gboolean
vnic_qemu_build_sound(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const models[][2] = {
        { "ich6", "intel-hda" }, { "ich9", "ich9-intel-hda" }, { "ac97", "AC97" },
        { "es1370", "ES1370" },  { "sb16", "sb16" },           { "usb", "usb-audio" },
    };
    g_autoptr(GString) s = NULL;
    gboolean hda;
    guint i;

    if (!vnic_qemu_xml_check(b->def, dev, dev->node, (const char *const[]){ "model", NULL },
                             (const char *const[]){ "codec", "alias", "address", "audio", NULL },
                             error))
        return FALSE;
    for (i = 0; i < G_N_ELEMENTS(models) && g_strcmp0(dev->model, models[i][0]) != 0; i++)
        ;
    if (i == G_N_ELEMENTS(models))
        return refuse(error, b, dev, "<sound model>", dev->model, NULL);
    ensure_audiodev(b);
    hda = i < 2;
    s = g_string_new(models[i][1]);
    if (!hda)
        vnic_qemu_opt(s, "audiodev", "audio1");
    if (strcmp(dev->model, "sb16") == 0 || strcmp(dev->model, "usb") == 0) {
        vnic_qemu_opt(s, "id", vnic_qemu_names_get(b->names, dev));
        if (strcmp(dev->model, "usb") == 0) {
            const char *usb = vnic_qemu_names_controller(b->names, VNIC_CONF_CONTROLLER_USB, 0);
            g_autofree char *bus = g_strdup_printf("%s.0", usb != NULL ? usb : "usb");
            vnic_qemu_opt(s, "bus", bus);
        }
        vnic_qemu_build_add_pair(b, "-device", s);
        return TRUE;
    }
    if (!add_pci_device(b, dev, s, error))
        return FALSE;
    return !hda || add_codecs(b, dev, error);
}

/* ---- balloon, rng, watchdog -------------------------------------------------- */

gboolean
vnic_qemu_build_balloon(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const attrs[] = { "model", "autodeflate", "freePageReporting", NULL };
    g_autofree char *deflate = vnic_qemu_xml_prop(dev->node, "autodeflate");
    g_autofree char *reporting = vnic_qemu_xml_prop(dev->node, "freePageReporting");
    xmlNode *stats = vnic_qemu_xml_child(dev->node, "stats");
    g_autofree char *driver = NULL;
    g_autoptr(GString) s = NULL;
    guint64 period = 0;

    if (!vnic_qemu_xml_check(b->def, dev, dev->node, attrs,
                             (const char *const[]){ "alias", "address", "stats", NULL }, error) ||
        !vnic_qemu_xml_check(b->def, dev, stats, (const char *const[]){ "period", NULL }, NULL,
                             error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, stats, "period", 0, &period, error))
        return FALSE;
    if (g_strcmp0(dev->model, "none") == 0)
        return TRUE;
    if (period > 0) {
        /* a property of the running device: set over QMP before cont */
        VnicQemuQmpStep *step = g_new0(VnicQemuQmpStep, 1);
        g_autofree char *path =
            g_strdup_printf("/machine/peripheral/%s", vnic_qemu_names_get(b->names, dev));

        step->command = g_strdup("qom-set");
        step->args = json_object_new();
        json_object_set_string_member(step->args, "path", path);
        json_object_set_string_member(step->args, "property", "guest-stats-polling-interval");
        json_object_set_int_member(step->args, "value", (gint64) MIN(period, G_MAXINT32));
        g_ptr_array_add(b->cmd->before_cont, step);
    }
    driver = virtio_pci("virtio-balloon", dev->model);
    s = g_string_new(driver);
    if (deflate != NULL)
        vnic_qemu_opt(s, "deflate-on-oom", strcmp(deflate, "on") == 0 ? "on" : "off");
    if (reporting != NULL)
        vnic_qemu_opt(s, "free-page-reporting", strcmp(reporting, "on") == 0 ? "on" : "off");
    return add_pci_device(b, dev, s, error);
}

static gboolean
rng_backend(VnicQemuBuild *b, const VnicConfDevice *dev, const char *obj_id, GError **error)
{
    xmlNode *backend = vnic_qemu_xml_child(dev->node, "backend");
    g_autofree char *model = vnic_qemu_xml_prop(backend, "model");
    g_autofree char *path = vnic_qemu_xml_child_text(dev->node, "backend");
    g_autoptr(GString) s = NULL;

    if (g_strcmp0(model, "random") == 0) {
        s = g_string_new("rng-random");
        vnic_qemu_opt(s, "id", obj_id);
        vnic_qemu_opt(s, "filename", path != NULL && *path != '\0' ? path : "/dev/urandom");
    } else if (g_strcmp0(model, "builtin") == 0) {
        s = g_string_new("rng-builtin");
        vnic_qemu_opt(s, "id", obj_id);
    } else {
        return refuse(error, b, dev, "<backend model>", model,
                      "the launcher handles random and builtin");
    }
    vnic_qemu_build_add_pair(b, "-object", s);
    return TRUE;
}

gboolean
vnic_qemu_build_rng(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    const char *id = vnic_qemu_names_get(b->names, dev);
    g_autofree char *obj_id = g_strconcat("obj", id, NULL);
    g_autofree char *driver = virtio_pci("virtio-rng", dev->model);
    xmlNode *rate = vnic_qemu_xml_child(dev->node, "rate");
    g_autoptr(GString) s = g_string_new(driver);
    guint64 bytes, period;

    if (!vnic_qemu_xml_check(b->def, dev, dev->node, (const char *const[]){ "model", NULL },
                             (const char *const[]){ "backend", "rate", "alias", "address",
                                                    NULL }, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, rate, "bytes", 0, &bytes, error) ||
        !vnic_qemu_xml_prop_uint(b->def, dev, rate, "period", 1000, &period, error) ||
        !rng_backend(b, dev, obj_id, error))
        return FALSE;
    vnic_qemu_opt(s, "rng", obj_id);
    if (bytes != 0) {
        vnic_qemu_opt_uint(s, "max-bytes", bytes);
        vnic_qemu_opt_uint(s, "period", period);
    }
    return add_pci_device(b, dev, s, error);
}

gboolean
vnic_qemu_build_watchdog(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const actions[] = { "reset", "shutdown", "poweroff", "pause", "none",
                                           "inject-nmi", NULL };
    g_autofree char *action = vnic_qemu_xml_prop(dev->node, "action");
    const char *a = action != NULL ? action : "reset";
    g_autoptr(GString) s = g_string_new(dev->model);

    if (!vnic_qemu_xml_check(b->def, dev, dev->node,
                             (const char *const[]){ "model", "action", NULL },
                             (const char *const[]){ "alias", "address", NULL }, error))
        return FALSE;
    if (!g_strv_contains(actions, a))
        return refuse(error, b, dev, "<watchdog action>", a, NULL);
    if (b->watchdog_action != NULL && strcmp(b->watchdog_action, a) != 0)
        return refuse(error, b, dev, "<watchdog action>", a,
                      "QEMU has one watchdog action and another watchdog asks for another");
    g_free(b->watchdog_action);
    b->watchdog_action = g_strdup(a);
    if (g_strcmp0(dev->model, "itco") == 0) {
        vnic_qemu_build_add(b, "-global");
        vnic_qemu_build_add(b, "ICH9-LPC.noreboot=off");
        return TRUE;
    }
    if (g_strcmp0(dev->model, "ib700") == 0) {
        vnic_qemu_opt(s, "id", vnic_qemu_names_get(b->names, dev));
        vnic_qemu_build_add_pair(b, "-device", s);
        return TRUE;
    }
    return add_pci_device(b, dev, s, error);
}

/* ---- input, others -------------------------------------------------------- */

gboolean
vnic_qemu_build_input(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    static const char *const types[] = { "mouse", "tablet", "keyboard", NULL };
    static const char *const usb[] = { "usb-mouse", "usb-tablet", "usb-kbd" };
    static const char *const virtio[] = { "virtio-mouse", "virtio-tablet", "virtio-keyboard" };
    g_autofree char *type = vnic_qemu_xml_prop(dev->node, "type");
    g_autofree char *driver = NULL;
    g_autoptr(GString) s = NULL;
    guint i;

    if (!vnic_qemu_xml_check(b->def, dev, dev->node,
                             (const char *const[]){ "type", "bus", "model", NULL },
                             (const char *const[]){ "alias", "address", NULL }, error))
        return FALSE;
    for (i = 0; types[i] != NULL && g_strcmp0(type, types[i]) != 0; i++)
        ;
    if (types[i] == NULL)
        return refuse(error, b, dev, "<input type>", type, "no host input is passed through");
    if (g_strcmp0(dev->bus, "ps2") == 0 && i != 1)
        return TRUE;
    if (g_strcmp0(dev->bus, "usb") == 0) {
        const char *ctrl = vnic_qemu_names_controller(b->names, VNIC_CONF_CONTROLLER_USB, 0);
        g_autofree char *bus = g_strdup_printf("%s.0", ctrl);

        if (ctrl == NULL)
            return refuse(error, b, dev, "<input bus>", "usb", "the domain has no USB controller");
        s = g_string_new(usb[i]);
        vnic_qemu_opt(s, "id", vnic_qemu_names_get(b->names, dev));
        vnic_qemu_opt(s, "bus", bus);
        vnic_qemu_build_add_pair(b, "-device", s);
        return TRUE;
    }
    if (g_strcmp0(dev->bus, "virtio") != 0)
        return refuse(error, b, dev, "<input bus>", dev->bus, NULL);
    driver = virtio_pci(virtio[i], dev->model);
    s = g_string_new(driver);
    return add_pci_device(b, dev, s, error);
}

gboolean
vnic_qemu_build_other(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error)
{
    const char *elem = dev->node != NULL ? (const char *) dev->node->name : "?";
    g_autofree char *type = vnic_qemu_xml_prop(dev->node, "type");

    if (strcmp(elem, "audio") == 0 && g_strcmp0(type, "none") == 0)
        return TRUE;
    if (strcmp(elem, "graphics") == 0)
        return vnic_qemu_build_graphics(b, dev, error);
    if (strcmp(elem, "redirdev") == 0)
        return vnic_qemu_build_redirdev(b, dev, error);
    if (strcmp(elem, "graphics") == 0 || strcmp(elem, "audio") == 0) {
        vnic_qemu_set_error(error, b->def, NULL, VNIC_QEMU_ERROR_UNSUPPORTED,
                            "<%s type='%s'> is not supported: vnic runs QEMU without %s", elem,
                            type != NULL ? type : "",
                            strcmp(elem, "graphics") == 0 ? "a display (-display none)"
                                                          : "host audio (-audiodev none)");
        return FALSE;
    }
    vnic_qemu_set_error(error, b->def, NULL, VNIC_QEMU_ERROR_UNSUPPORTED,
                        "<%s> is not supported by the QEMU launcher", elem);
    return FALSE;
}
