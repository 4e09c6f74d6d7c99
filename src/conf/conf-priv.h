/* conf-priv.h: what the files of the conf layer share among themselves.
 *
 * Not for other layers (they use conf-domain.h); tests may include it.
 */
#pragma once

#include "conf/conf-domain.h"
#include "conf/conf-xml-util.h"

G_BEGIN_DECLS

/* A controller index the XML left out; the parser gives it the lowest
 * unused one once every device is read, as libvirt does. */
#define VNIC_CONF_INDEX_UNSET G_MAXUINT

/* What device parsing needs to know about the domain. */
typedef struct {
    VnicMachineFamily family;
} VnicConfParseCtx;

/* conf-parse-devices.c: one child element of <devices> (not <emulator>).
 * Errors carry no device prefix; the caller adds "interface #2: ". */
VnicConfDevice *vnic_conf_parse_device(const VnicConfParseCtx *ctx, xmlNode *node,
                                       GError **error);

/* conf-parse-interface.c */
gboolean vnic_conf_parse_interface(const VnicConfParseCtx *ctx, xmlNode *node,
                                   VnicConfDevice *dev, GError **error);

/* <vnic:reconnect mode='hub|replug|off'/>: unknown attributes refused,
 * mode required. */
gboolean vnic_conf_parse_reconnect_element(xmlNode *node, VnicConfReconnect *mode,
                                           GError **error);

/* conf-parse-nic-extra.c: <bandwidth>, <driver name>, <virtualport> and
 * vhost-user's rules, once the rest of the interface is parsed. */
gboolean vnic_conf_parse_interface_extra(xmlNode *node, VnicConfNic *nic, GError **error);
/* Whole-domain: a vhostuser NIC needs <memoryBacking><access mode='shared'>. */
gboolean vnic_conf_check_vhostuser_memory(const VnicConfDomain *def, xmlNode *root,
                                          GError **error);

/* conf-parse-controller.c */
gboolean vnic_conf_parse_controller(const VnicConfParseCtx *ctx, xmlNode *node,
                                    VnicConfDevice *dev, GError **error);
/* Gives controllers without an index one, then checks models and indexes
 * against the machine and each other.  Errors name the controller. */
gboolean vnic_conf_resolve_controllers(VnicConfDomain *def, GError **error);
/* conf-check-rules.c: libvirt's rules across devices (videos, USB2 sets). */
gboolean vnic_conf_check_rules(const VnicConfDomain *def, GError **error);
/* pci-root on pc, pcie-root on q35. */
VnicConfPciModel vnic_conf_root_pci_model(VnicMachineFamily family);

/* conf-parse-placed.c: devices vnic places but does not run */
gboolean vnic_conf_parse_hostdev(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                                 GError **error);
gboolean vnic_conf_parse_filesystem(const VnicConfParseCtx *ctx, xmlNode *node,
                                    VnicConfDevice *dev, GError **error);
gboolean vnic_conf_parse_vsock(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                               GError **error);
gboolean vnic_conf_parse_memory_device(const VnicConfParseCtx *ctx, xmlNode *node,
                                       VnicConfDevice *dev, GError **error);
gboolean vnic_conf_parse_iommu(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                               GError **error);
gboolean vnic_conf_parse_shmem(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                               GError **error);
gboolean vnic_conf_parse_crypto(const VnicConfParseCtx *ctx, xmlNode *node, VnicConfDevice *dev,
                                GError **error);
/* One IOMMU, one vsock, no PCI host device twice, virtio-fs only with
 * shared memory.  Errors name the device. */
gboolean vnic_conf_check_placed_devices(const VnicConfDomain *def, GError **error);

/* conf-domain.c: the names of the enums, shared by parser and formatter */
extern const char *const vnic_conf_pci_model_names[];
extern const char *const vnic_conf_controller_type_names[];

const char *vnic_conf_device_element_name(const VnicConfDevice *dev);
/* "interface #2": the element name and, when @dev is in @def, its 1-based
 * number among the devices of that element name. */
char *vnic_conf_device_label(const VnicConfDomain *def, const VnicConfDevice *dev);
const char *vnic_conf_nic_type_to_string(VnicConfNicType type);

/* conf-format-device.c: a new element for @dev (a copy of its source
 * element with vnic's fields written in, or a fresh one), appended to
 * @parent, or made the root of @doc when @parent is NULL.  NULL, and nothing
 * added, for a carried-along device that has no source element. */
xmlNode *vnic_conf_format_device_node(const VnicConfDevice *dev, xmlDoc *doc, xmlNode *parent,
                                      VnicConfFormatFlags flags);
/* The same device written by an overlay into @out at @depth (no tree);
 * FALSE if it needs the tree (see conf-xml-edit.h). */
typedef struct VnicConfXmlOverlay VnicConfXmlOverlay;
gboolean vnic_conf_format_device_overlay(const VnicConfDevice *dev, VnicConfXmlOverlay *ov,
                                         GString *out, guint depth, VnicConfFormatFlags flags);
/* conf-format.c: vnic_conf_domain_format() with every device formatted on
 * a tree, the way the overlay is checked against (tests). */
char *vnic_conf_domain_format_tree(const VnicConfDomain *def, VnicConfFormatFlags flags);

G_END_DECLS
