/* conf-xml.c: see conf-xml.h. */
#include "conf-xml.h"

char *
bench_conf_domain_xml(const char *name, const char *uuid, guint nics)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "<domain type='qemu'><name>%s</name><uuid>%s</uuid>",
                           name != NULL ? name : "bench-conf",
                           uuid != NULL ? uuid : "5f0e5b8e-52b1-4b7e-9a3c-2d0c6f1a7b99");
    g_string_append(s, "<memory unit='MiB'>256</memory><vcpu>1</vcpu>"
                       "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                       "<features><acpi/><apic/></features><devices>"
                       "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
                       "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                       "<source file='/var/lib/bench/disk.img'/><target dev='vda' bus='virtio'/></disk>"
                       "<controller type='usb' index='0'/><controller type='virtio-serial' index='0'/>");
    for (guint i = 0; i < nics; i++)
        g_string_append_printf(s, "<interface type='ethernet'><mac address='52:54:00:c5:%02x:%02x'/>"
                                  "<model type='virtio'/></interface>", (i + 1) >> 8, (i + 1) & 0xff);
    g_string_append(s, "<serial type='pty'><target port='0'/></serial>"
                       "<console type='pty'><target type='serial' port='0'/></console>"
                       "<channel type='unix'><source mode='bind'/>"
                       "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
                       "<video><model type='cirrus'/></video>"
                       "<watchdog model='i6300esb' action='none'/><memballoon model='virtio'/>"
                       "</devices></domain>");
    return g_string_free(s, FALSE);
}
