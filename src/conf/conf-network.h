/* conf-network.h: libvirt-style <network> definitions, the subset vnic runs.
 *
 * A vnic network is a name for host devices vnic already drives: an
 * existing Linux bridge (<forward mode='bridge'/> + <bridge name='br0'/>),
 * or a pool of host NICs for macvtap (<forward mode='bridge|vepa|private|
 * passthrough'> with <interface dev='eth0'/> children, or <forward dev>).
 * Networks libvirt builds itself (NAT, routed, open, isolated, with <ip>,
 * <dns>, DHCP: dnsmasq and a libvirt-made bridge) are refused when parsed.
 * Pure like the rest of conf: see docs/xml.md, "Networks".
 */
#pragma once

#include "conf/conf-domain.h"

G_BEGIN_DECLS

typedef enum {
    VNIC_CONF_NET_BRIDGE,     /* an existing host bridge: taps enslaved to it */
    VNIC_CONF_NET_MACVTAP,    /* macvtaps on one of the pool's devices */
} VnicConfNetworkKind;

typedef struct {
    xmlDoc *doc;              /* owned: the parsed source, written back */
    char *name;
    char *uuid;               /* NULL until vnic_conf_network_set_uuid() */
    VnicConfNetworkKind kind;
    char *mode;               /* <forward mode>: bridge, vepa, private, passthrough */
    char *bridge;             /* BRIDGE: <bridge name> */
    GPtrArray *devs;          /* MACVTAP: the pool, char*, in document order */
    GPtrArray *portgroups;    /* <portgroup name>s, char* */
} VnicConfNetwork;

VnicConfNetwork *vnic_conf_network_parse(const char *xml, gsize len, GError **error);
void vnic_conf_network_free(VnicConfNetwork *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicConfNetwork, vnic_conf_network_free)

/* Sets the UUID (lower-case dashed text, as given: the caller makes it). */
void vnic_conf_network_set_uuid(VnicConfNetwork *net, const char *uuid);
/* Newly allocated XML text, libvirt's layout. */
char *vnic_conf_network_format(const VnicConfNetwork *net);
/* TRUE when @net has a <portgroup name='@name'>. */
gboolean vnic_conf_network_has_portgroup(const VnicConfNetwork *net, const char *name);

G_END_DECLS
