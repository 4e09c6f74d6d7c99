/* conf-xml.h: the big CloudStack-like domains bench/conf and
 * bench/compare-libvirt define, dump and parse. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* examples/cloudstack-pc.xml's layout (i440fx; disk, USB and virtio-serial
 * controllers, serial + console, the agent channel, cirrus video, a
 * watchdog, a balloon) with `nics` virtio NICs of type ethernet, MACs
 * 52:54:00:c5:XX:XX from 00:01 on, no PCI addresses.  `name` and `uuid`
 * may be NULL (bench-conf and a fixed uuid). */
char *bench_conf_domain_xml(const char *name, const char *uuid, guint nics);

G_END_DECLS
