/* test-conf.c: entry point of the conf layer's tests (meson test --suite conf).
 *
 * The tests live in test-conf-parse.c (what parsing yields), test-conf-errors.c
 * (every validation error: domain, code and message) and test-conf-format.c
 * (output, flags, round trips, interface snippets, MAC assignment) and
 * test-conf-paths.c (relative paths made absolute), test-conf-reconnect.c
 * (<vnic:reconnect>), test-conf-overlay.c (the formatter's overlay writes
 * what its tree writes).
 */
#include "test-conf-util.h"

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    test_conf_devices_register();
    test_conf_parse_register();
    test_conf_errors_register();
    test_conf_format_register();
    test_conf_paths_register();
    test_conf_rules_register();
    test_conf_nic_register();
    test_conf_reconnect_register();
    test_conf_iface_build_register();
    test_conf_overlay_register();
    ret = g_test_run();
    /* libxml2's global state, so LeakSanitizer reports only real leaks */
    xmlCleanupParser();
    return ret;
}
