/* test-pci.c: the pci layer's test program.
 *
 * Placement rules, validation errors, guest names, capacity, libvirt 9.0's
 * own addresses for the inputs in tests/data/libvirt, and the slot map as
 * JSON. */
#include "test-pci-helpers.h"

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    register_placement_tests();
    register_validate_tests();
    register_libvirt_tests();
    register_replan_tests();
    register_json_tests();
    register_rules_tests();
    return g_test_run();
}
