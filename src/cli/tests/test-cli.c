/* test-cli.c: the vnic command line against a scripted fake vnicd
 * (meson test --suite cli).
 *
 * test-cli-basic.c: help, bad command lines, which socket, an unreachable
 * or misbehaving daemon; test-cli-verbs.c: each verb's output and request;
 * test-cli-events.c: events with --count/--timeout; test-cli-pci.c: the
 * slot map table against `vnic plan --names`; test-cli-hotplug.c: the
 * attach and detach verbs; test-cli-link.c: domif-getlink, domif-setlink;
 * test-cli-nextnic.c: next-nic and plan --for-libvirt (companion mode).
 */
#include "test-cli.h"

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_cli_basic_register();
    test_cli_verbs_register();
    test_cli_events_register();
    test_cli_pci_register();
    test_cli_hotplug_register();
    test_cli_link_register();
    test_cli_nextnic_register();
    test_cli_virsh_register();
    return g_test_run();
}
