/* conf-iface-build.h: an <interface> element from virsh-style options
 * (attach-interface, domiftune), and the rate text they take.
 *
 * Pure: no I/O.  The caller parses the result like any other <interface>
 * (vnic_conf_interface_parse), which checks what this does not (a bridge
 * name's length, a MAC's uniqueness, …).
 */
#pragma once

#include "conf/conf-domain.h"

G_BEGIN_DECLS

/* What virsh attach-interface takes; NULL / 0 members are left out. */
typedef struct {
    const char *type;         /* ethernet, bridge, direct, network: required */
    const char *source;       /* bridge, lower device or network; not for ethernet */
    const char *mode;         /* direct: <source mode>, NULL for vepa */
    const char *model;        /* NULL: virtio */
    const char *mac;
    const char *target;
    const char *alias;        /* <alias name>, a user alias (ua-…) */
    guint acpi_index;
    VnicConfRate inbound;     /* average 0: no <inbound> */
    VnicConfRate outbound;
} VnicConfIfaceSpec;

/* "average[,peak[,burst]]" as virsh's --inbound/--outbound: KiB/s, KiB/s,
 * KiB, decimal, average at least 1; an empty peak or burst ("100,,50") is
 * absent.  @what names the option in the error ("--inbound"). */
gboolean vnic_conf_rate_parse(const char *text, const char *what, VnicConfRate *rate,
                              GError **error);
/* "average,peak,burst" with the absent ones left out at the end; "0" when
 * there is no rate. */
char *vnic_conf_rate_format(const VnicConfRate *rate);

/* The <interface> XML text @spec describes, or NULL with @error when a
 * member needed is missing (a source for bridge, direct, network). */
char *vnic_conf_iface_spec_to_xml(const VnicConfIfaceSpec *spec, GError **error);

/* Sets @dev's <bandwidth> (struct and element) to @inbound and @outbound;
 * a rate with average 0 is no element. */
void vnic_conf_nic_set_bandwidth(VnicConfDevice *dev, const VnicConfRate *inbound,
                                 const VnicConfRate *outbound);

G_END_DECLS
