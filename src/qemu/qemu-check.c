/* qemu-check.c: can the launcher run this domain?  Asked at define.
 *
 * Every fd kind vnic_qemu_command_build() asks the runtime for must be
 * described here too (a new NIC backend included), or define refuses
 * what start would run.  The unit tests' runtimes come from here as well.
 *
 * Owns vnic_qemu_domain_check(): it builds the command line against a
 * runtime that only describes the fds vnic would hand QEMU (numbers, no
 * files), so everything vnic_qemu_command_build() refuses is refused at
 * define with the same message, before anything is stored or opened.
 * Pure: what the host provides (files, taps, firmware descriptors) is
 * checked at start.
 */
#include "qemu/qemu-command-priv.h"

void
vnic_qemu_runtime_describe_domain(VnicQemuRuntime *rt, const VnicConfDomain *def)
{
    VnicQemuFirmware fw;

    g_return_if_fail(rt != NULL && def != NULL);

    rt->describing = TRUE; /* no ports are chosen in a described runtime */
    if (def->kernel != NULL)
        vnic_qemu_runtime_add_fds(rt, NULL, VNIC_QEMU_FD_KERNEL, NULL, 1);
    if (def->initrd != NULL)
        vnic_qemu_runtime_add_fds(rt, NULL, VNIC_QEMU_FD_INITRD, NULL, 1);
    if (vnic_qemu_boot_firmware(def, &fw, NULL) && fw.pflash) {
        vnic_qemu_runtime_add_fds(rt, NULL, VNIC_QEMU_FD_LOADER, NULL, 1);
        if (fw.has_nvram)
            vnic_qemu_runtime_add_fds(rt, NULL, VNIC_QEMU_FD_NVRAM, NULL, 1);
    }
    vnic_qemu_firmware_clear(&fw);
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        VnicQemuChardev chr;

        if (!vnic_qemu_is_chardev(dev) || !vnic_qemu_chardev_parse(def, dev, &chr, NULL))
            continue;
        if (chr.log_file != NULL && chr.target != VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS)
            vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_CHARDEV_LOG, NULL, 1);
        vnic_qemu_chardev_clear(&chr);
    }
}

VnicQemuRuntime *
vnic_qemu_runtime_describe(const VnicConfDomain *def)
{
    VnicQemuRuntime *rt = vnic_qemu_runtime_new();

    rt->describing = TRUE;
    vnic_qemu_runtime_add_fds(rt, NULL, VNIC_QEMU_FD_MONITOR, NULL, 1);
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);
        VnicQemuChardev chr;

        if (vnic_qemu_is_chardev(dev) && vnic_qemu_chardev_parse(def, dev, &chr, NULL)) {
            if (chr.target != VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS &&
                (chr.backend == VNIC_QEMU_CHR_UNIX || chr.backend == VNIC_QEMU_CHR_FILE))
                vnic_qemu_runtime_add_fds(rt, dev,
                                          chr.backend == VNIC_QEMU_CHR_UNIX
                                              ? VNIC_QEMU_FD_CHARDEV_SOCKET
                                              : VNIC_QEMU_FD_CHARDEV_FILE,
                                          NULL, 1);
            vnic_qemu_chardev_clear(&chr);
        } else if (dev->kind == VNIC_CONF_DEV_DISK && dev->disk->source_file != NULL) {
            vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_DISK, NULL, 1);
        }
    }
    /* the NICs' backends after the other devices, as the daemon adds them */
    for (guint i = 0; i < def->devices->len; i++) {
        const VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        /* a vhost-user NIC has no tap: QEMU opens its socket */
        if (dev->kind == VNIC_CONF_DEV_INTERFACE && dev->nic->type != VNIC_CONF_NIC_VHOSTUSER)
            vnic_qemu_runtime_add_fds(rt, dev, VNIC_QEMU_FD_TAP, NULL,
                                      MAX(dev->nic->queues, 1));
    }
    vnic_qemu_runtime_describe_domain(rt, def);
    return rt;
}

gboolean
vnic_qemu_domain_check(const VnicConfDomain *def, GError **error)
{
    g_autoptr(VnicQemuRuntime) rt = NULL;
    g_autoptr(VnicQemuCommand) cmd = NULL;

    g_return_val_if_fail(def != NULL, FALSE);

    rt = vnic_qemu_runtime_describe(def);
    cmd = vnic_qemu_command_build(def, rt, error);
    return cmd != NULL;
}
