/* test-qemu.c: the argv, verification and process tests (TAP with --tap).
 *
 * As root, the process tests start real QEMUs (TCG) and first move this
 * test into a network namespace of its own (unshare(CLONE_NEWNET)), so the
 * taps they create never touch the host's network. */
#include "test-qemu-helpers.h"

#include <sched.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    /* before GLib starts any thread: the namespace is per thread */
    if (geteuid() == 0 && unshare(CLONE_NEWNET) < 0)
        g_printerr("unshare(CLONE_NEWNET) failed, process tests will be skipped\n");
    g_test_init(&argc, &argv, NULL);
    test_qemu_command_register();
    test_qemu_reconnect_register();
    test_qemu_verify_register();
    test_qemu_process_register();
    test_qemu_launch_register();
    return g_test_run();
}
