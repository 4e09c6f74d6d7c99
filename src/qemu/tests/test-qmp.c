/* test-qmp.c: the QMP client test program (TAP with --tap). */
#include "test-qmp-helpers.h"

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_warm_up();
    test_qmp_fake_register();
    test_qmp_lifecycle_register();
    test_qmp_qemu_register();
    return g_test_run();
}
