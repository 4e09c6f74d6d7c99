/* conf-domain.h: the in-memory form of a libvirt-style domain definition.
 *
 * The conf layer is pure: it turns XML text into these structs and back, and
 * validates what a user wrote.  It never touches files, sockets or the host.
 *
 * Ownership: a VnicConfDomain owns every device in `devices`, and the libxml2
 * document the definition was parsed from.  Each device keeps a borrowed
 * pointer to its source element in that document so that what vnic does not
 * model (unknown attributes and children of known elements, whole elements
 * vnic merely carries along) is written back verbatim.  See docs/xml.md.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

#define VNIC_CONF_ERROR (vnic_conf_error_quark())
GQuark vnic_conf_error_quark(void);

typedef enum {
    VNIC_CONF_ERROR_XML,         /* not well-formed XML */
    VNIC_CONF_ERROR_MISSING,     /* a required element or attribute is absent */
    VNIC_CONF_ERROR_INVALID,     /* a value is malformed or out of range */
    VNIC_CONF_ERROR_UNSUPPORTED, /* valid libvirt XML that vnic refuses */
    VNIC_CONF_ERROR_CONFLICT,    /* two parts of the definition contradict */
} VnicConfErrorCode;

/* A yes/no setting the user may leave unsaid. */
typedef enum {
    VNIC_TRISTATE_ABSENT = 0,
    VNIC_TRISTATE_YES,
    VNIC_TRISTATE_NO,
} VnicTristate;

typedef enum {
    VNIC_MACHINE_PC,  /* i440fx: pci-root, conventional PCI */
    VNIC_MACHINE_Q35, /* q35: pcie-root */
} VnicMachineFamily;

typedef struct {
    gboolean set;     /* FALSE: no <address>, the planner chooses */
    guint domain;
    guint bus;
    guint slot;
    guint function;
    VnicTristate multifunction;
} VnicConfPciAddr;

typedef enum {
    VNIC_CONF_DEV_DISK,
    VNIC_CONF_DEV_CONTROLLER,
    VNIC_CONF_DEV_INTERFACE,
    VNIC_CONF_DEV_VIDEO,
    VNIC_CONF_DEV_SOUND,
    VNIC_CONF_DEV_MEMBALLOON,
    VNIC_CONF_DEV_RNG,
    VNIC_CONF_DEV_WATCHDOG,
    VNIC_CONF_DEV_SERIAL,
    VNIC_CONF_DEV_CONSOLE,
    VNIC_CONF_DEV_CHANNEL,
    VNIC_CONF_DEV_INPUT,
    VNIC_CONF_DEV_OTHER,  /* carried verbatim, never a PCI device (graphics, …) */
    /* Modeled only as far as placement needs; the QEMU launcher refuses
     * them (docs/xml.md). */
    VNIC_CONF_DEV_HOSTDEV,     /* <hostdev>: PCI when type='pci' */
    VNIC_CONF_DEV_FILESYSTEM,  /* <filesystem>: virtio-fs or virtio-9p, PCI */
    VNIC_CONF_DEV_VSOCK,       /* <vsock model='virtio'>, PCI */
    VNIC_CONF_DEV_MEMORY,      /* <memory>: PCI for virtio-mem and virtio-pmem */
    VNIC_CONF_DEV_IOMMU,       /* <iommu>: PCI for model='virtio' (q35 only) */
    VNIC_CONF_DEV_SHMEM,       /* <shmem>: ivshmem, PCI */
    VNIC_CONF_DEV_CRYPTO,      /* <crypto model='virtio'>, PCI */
} VnicConfDeviceKind;

typedef enum {
    VNIC_CONF_CONTROLLER_PCI,
    VNIC_CONF_CONTROLLER_USB,
    VNIC_CONF_CONTROLLER_VIRTIO_SERIAL,
    VNIC_CONF_CONTROLLER_SCSI,
    VNIC_CONF_CONTROLLER_SATA,
    VNIC_CONF_CONTROLLER_IDE,
    VNIC_CONF_CONTROLLER_FDC,    /* ISA floppy controller, not PCI */
    VNIC_CONF_CONTROLLER_CCID,   /* USB smartcard reader, not PCI */
} VnicConfControllerType;

typedef enum {
    VNIC_CONF_PCI_MODEL_NONE = 0,       /* not a PCI controller */
    VNIC_CONF_PCI_MODEL_PCI_ROOT,
    VNIC_CONF_PCI_MODEL_PCIE_ROOT,
    VNIC_CONF_PCI_MODEL_PCI_BRIDGE,
    VNIC_CONF_PCI_MODEL_PCIE_ROOT_PORT,
    VNIC_CONF_PCI_MODEL_DMI_TO_PCI_BRIDGE,
    VNIC_CONF_PCI_MODEL_PCIE_TO_PCI_BRIDGE,
    VNIC_CONF_PCI_MODEL_PCI_EXPANDER_BUS,    /* pc: pxb, a new root bus on pci-root */
    VNIC_CONF_PCI_MODEL_PCIE_EXPANDER_BUS,   /* q35: pxb-pcie, a new root bus on pcie-root */
    VNIC_CONF_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT,   /* x3130-upstream, in a root port */
    VNIC_CONF_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT, /* xio3130-downstream, 32 per switch */
} VnicConfPciModel;

typedef struct {
    VnicConfControllerType type;
    guint index;
    char *model;              /* the model attribute as written, or NULL */
    VnicConfPciModel pci_model;
    char *model_name;         /* <model name='…'/>, PCI controllers only */
    gint chassis;             /* <target> values; -1 when absent */
    gint port;
    gint bus_nr;
    gint chassis_nr;          /* pci-bridge <target chassisNr>; -1 when absent */
    VnicTristate hotplug;     /* <target hotplug='on|off'/> */
    guint ports;              /* virtio-serial and usb ports=, 0 when absent */
    /* A USB2 companion (ich9-uhciN sharing its ich9-ehci1's index): the
     * first EHCI port it serves, from <master startport> or, as libvirt
     * fills it in, 0/2/4 for uhci1/2/3. */
    gboolean usb_companion;
    guint master_startport;
} VnicConfController;

typedef enum {
    VNIC_CONF_NIC_ETHERNET,
    VNIC_CONF_NIC_BRIDGE,
    VNIC_CONF_NIC_DIRECT,
    VNIC_CONF_NIC_NETWORK,    /* a vnic network, resolved to bridge/direct at start */
    VNIC_CONF_NIC_VHOSTUSER,  /* QEMU talks vhost-user to a unix socket */
    VNIC_CONF_NIC_OTHER,      /* a libvirt type vnic places but does not run (user,
                               * hostdev, vdpa, …; the name is in nic->other_type):
                               * the launcher refuses it, so define does */
} VnicConfNicType;

/* What vnicd does when a running NIC's host device vanishes and comes
 * back (<vnic:reconnect mode>, docs/xml.md): give the NIC a new backend
 * through the hub it sits on (the guest sees carrier only), unplug and
 * replug it in place (the guest sees a new NIC at the same slot, MAC and
 * name), or nothing.  DEFAULT: the XML does not say. */
typedef enum {
    VNIC_CONF_RECONNECT_DEFAULT = 0,
    VNIC_CONF_RECONNECT_HUB,
    VNIC_CONF_RECONNECT_REPLUG,
    VNIC_CONF_RECONNECT_OFF,
} VnicConfReconnect;

/* One direction of <bandwidth>: average and peak in KiB/s, burst in KiB,
 * as libvirt; 0 when absent (average > 0 whenever the element is there). */
typedef struct {
    guint64 average;
    guint64 peak;
    guint64 burst;
} VnicConfRate;

typedef struct {
    VnicConfNicType type;
    char *other_type;         /* type OTHER: the <interface type> as written */
    gboolean has_mac;
    guint8 mac[6];
    char *source;             /* bridge name (bridge), lower device (direct),
                               * socket path (vhostuser); network: the bridge
                               * or device it resolved to, NULL until then */
    char *source_mode;        /* direct (and a network resolved to a device):
                               * bridge, vepa, private, passthrough;
                               * vhostuser: client, server */
    char *network;            /* network: <source network>, else NULL */
    char *portgroup;          /* network: <source portgroup>, else NULL */
    char *target_dev;         /* host-side name, NULL when vnic picks one */
    VnicTristate target_managed; /* <target managed='no'>: an existing tap */
    char *driver_name;        /* <driver name>: qemu, vhost, or NULL */
    VnicConfRate inbound;     /* <bandwidth><inbound>: to the guest */
    VnicConfRate outbound;    /* <bandwidth><outbound>: from the guest */
    char *model;              /* virtio, e1000, e1000e, rtl8139, … */
    guint queues;             /* <driver queues>, 0 when absent */
    VnicTristate link_up;     /* <link state='up|down'/> */
    guint mtu;                /* <mtu size>, 0 when absent */
    guint acpi_index;         /* <acpi index>, 0 when absent */
    /* vnic's own knob <vnic:unplug guest='allow|deny'/>, see docs/xml.md;
     * NO means the guest must not be able to unplug this NIC. */
    VnicTristate guest_unplug;
    /* <vnic:reconnect mode='hub|replug|off'/>; DEFAULT when absent (see
     * vnic_conf_nic_reconnect_mode() for what then applies) */
    VnicConfReconnect reconnect;
} VnicConfNic;

typedef struct {
    char *bus;                /* virtio, sata, scsi, ide, usb, fdc */
    char *target_dev;
    char *source_file;        /* <source file> (file) or <source dev> (block); NULL
                               * for other types and for a drive without medium */
    char *type;               /* <disk type>: file (default), block, network, volume,
                               * nvme, vhostuser, dir */
    char *device;             /* <disk device>: disk (default), cdrom, floppy, lun */
    gboolean readonly;        /* <readonly/>; libvirt's cdroms are always read-only */
    gboolean no_medium;       /* cdrom or floppy without a medium: no <source>, or
                               * <source file=''/> as CloudStack writes it */
} VnicConfDisk;

/* <hostdev>: what placement and messages need; the rest stays in the node. */
typedef struct {
    char *mode;               /* subsystem (default), capabilities */
    char *type;               /* pci, usb, scsi, scsi_host, mdev, … */
    gboolean has_source_addr; /* type pci: <source><address> read into source_addr */
    VnicConfPciAddr source_addr; /* the HOST's PCI address (domain may be non-zero) */
} VnicConfHostdev;

typedef struct {
    VnicConfDeviceKind kind;
    xmlNode *node;            /* borrowed source element, NULL if vnic made it */
    char *model;              /* model type for video/sound/… ; NULL if none */
    char *alias;              /* <alias name>, NULL when absent */
    VnicConfPciAddr addr;
    gboolean added_by_vnic;   /* a controller or default the planner added */
    char *bus;                /* input only: bus='ps2|usb|virtio|none'; else NULL */
    char *source_path;        /* serial, console, channel: the first <source path>
                               * (file, unix socket, host device), else NULL */
    xmlDoc *doc;              /* owned: the source of a device parsed on its own
                               * (vnic_conf_interface_parse), else NULL */
    VnicConfNic *nic;                /* kind == INTERFACE */
    VnicConfController *controller;  /* kind == CONTROLLER */
    VnicConfDisk *disk;              /* kind == DISK */
    VnicConfHostdev *hostdev;        /* kind == HOSTDEV */
    char *target_type;        /* serial: <target type> (isa-serial, pci-serial, …), else NULL */
} VnicConfDevice;

typedef struct {
    xmlDoc *doc;              /* owned: the parsed source, NULL when built */
    char *type;               /* qemu, kvm */
    char *name;
    char *uuid;
    guint64 memory_kib;
    guint64 current_memory_kib;
    guint vcpus;
    char *arch;
    char *machine;            /* as written: pc, q35, pc-i440fx-7.2, … */
    VnicMachineFamily family;
    char *kernel;
    char *initrd;
    char *cmdline;
    gboolean acpi;            /* <features><acpi/> present */
    char *emulator;
    /* vnic's per-domain settings, <vnic:hotplug spare-ports='N'
     * guest-unplug='allow|deny' acpi-index='auto|off'/> (docs/xml.md) */
    VnicTristate guest_unplug;  /* default for NICs without their own setting */
    gint spare_ports;           /* q35 hot-plug root ports, -1 = default */
    gboolean auto_acpi_index;   /* number NICs' acpi-index 1, 2, … */
    /* <vnic:reconnect mode='…'/> at domain level: the default of NICs
     * without their own; DEFAULT when absent */
    VnicConfReconnect reconnect;
    GPtrArray *devices;       /* of VnicConfDevice*, document order, owned */
} VnicConfDomain;

typedef enum {
    VNIC_CONF_FORMAT_STATUS = 0,          /* everything, runtime data included */
    VNIC_CONF_FORMAT_INACTIVE = 1 << 0,   /* no runtime-only data */
    VNIC_CONF_FORMAT_MIGRATABLE = 1 << 1, /* what a migration destination may see */
} VnicConfFormatFlags;

VnicConfDomain *vnic_conf_domain_new(void);
void vnic_conf_domain_free(VnicConfDomain *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicConfDomain, vnic_conf_domain_free)

VnicConfDevice *vnic_conf_device_new(VnicConfDeviceKind kind);
void vnic_conf_device_free(VnicConfDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicConfDevice, vnic_conf_device_free)

/* Parses and validates a domain.  Returns NULL and sets @error (naming the
 * element, attribute and value) on any problem.  libvirt's implicit devices
 * (root PCI controller, USB controller, memballoon) are added as libvirt
 * adds them; see vnic_conf_domain_add_defaults(). */
VnicConfDomain *vnic_conf_domain_parse(const char *xml, gsize len, GError **error);

/* Parses one <interface> element (attach-device).  The result is not tied to
 * any domain; @def's machine family is used for machine-specific checks, and
 * a MAC address, ACPI index or alias already used in @def is refused
 * (CONFLICT).  @def may be NULL (then pc, no conflict checks).  The device
 * owns its document (dev->doc), so it can be added to def->devices as is. */
VnicConfDevice *vnic_conf_interface_parse(const VnicConfDomain *def, const char *xml,
                                          gsize len, GError **error);

/* @text escaped for a quoted XML attribute value, the way the formatter
 * writes them: markup characters as entities and tab, newline and carriage
 * return as character references (an XML reader turns them, written as
 * they are, into spaces).  For callers that write XML of their own. */
char *vnic_conf_xml_escape_attr(const char *text);

/* The part of vnic_conf_interface_parse(@def, …) that needs @def, for a
 * device parsed with def NULL (e.g. in a thread, while @def may change):
 * a MAC address, ACPI index or alias @def already uses is refused
 * (CONFLICT).  No <interface> rule depends on the machine family. */
gboolean vnic_conf_interface_check(const VnicConfDomain *def, const VnicConfDevice *dev,
                                   GError **error);

/* Returns newly allocated XML text.  Never fails for a parsed domain. */
char *vnic_conf_domain_format(const VnicConfDomain *def, VnicConfFormatFlags flags);
char *vnic_conf_device_format(const VnicConfDevice *dev, VnicConfFormatFlags flags);

/* Makes the relative file paths of @def absolute against @base_dir (an
 * absolute directory): <kernel>, <initrd>, each disk's <source file|dev>,
 * each serial, console and channel <source path>.  Absolute paths and
 * unset fields stay as they are; "." and ".." are resolved textually,
 * nothing on disk is looked at.  For a client that hands a definition to a
 * daemon whose working directory is unrelated. */
void vnic_conf_domain_absolutize_paths(VnicConfDomain *def, const char *base_dir);

/* Adds libvirt's implicit devices.  Idempotent; the parser calls it. */
void vnic_conf_domain_add_defaults(VnicConfDomain *def);

/* Lookup helpers. */
VnicConfDevice *vnic_conf_domain_find_controller(const VnicConfDomain *def,
                                                 VnicConfControllerType type, guint index);
gboolean vnic_conf_device_is_nic(const VnicConfDevice *dev);

/* TRUE when @dev occupies a PCI function, so it has or needs a PCI address:
 * virtio disks, NICs, rng, non-root PCI controllers, other controllers
 * except usb model='none', video except none/ramfb, ich6/ich9/ac97/es1370
 * sound, memballoon except none, i6300esb watchdogs, virtio input, PCI
 * hostdevs, filesystems, vsock, virtio-mem/-pmem, virtio iommu, shmem,
 * crypto, pci-serial serial ports.
 * Chipset functions (ide on pc, sata index 0 on q35, piix3-uhci) count too;
 * where they sit is the planner's business. */
gboolean vnic_conf_device_is_pci(const VnicConfDevice *dev);

/* TRUE when @name is one vnic (like libvirt) generates: vnet*, macvtap*,
 * macvlan*, vif*.  Such names are runtime-only. */
gboolean vnic_conf_name_is_autogenerated(const char *name);

/* "52:54:00:12:34:56"; returns FALSE on anything else. */
gboolean vnic_conf_mac_parse(const char *text, guint8 mac[6]);
char *vnic_conf_mac_format(const guint8 mac[6]);

/* Gives every NIC without a MAC one in 52:54:00:xx:xx:xx, unique within the
 * domain.  The randomness comes from the caller so the layer stays pure. */
void vnic_conf_domain_assign_macs(VnicConfDomain *def, GRand *rand);

/* What backs @nic on the host: ethernet, bridge or direct; a network NIC
 * counts as what it resolved to (bridge when <source bridge>, direct when
 * <source dev>), and as NETWORK while unresolved; vhostuser has no host
 * link (VHOSTUSER). */
VnicConfNicType vnic_conf_nic_backend_type(const VnicConfNic *nic);
/* TRUE when <memoryBacking><access mode='shared'/>: what a vhost-user
 * NIC needs (a domain with one is refused otherwise; attach checks it). */
gboolean vnic_conf_domain_memory_shared(const VnicConfDomain *def);
/* "default", "hub", "replug", "off". */
const char *vnic_conf_reconnect_to_string(VnicConfReconnect mode);
/* The inverse, "default" included; FALSE (and *@mode untouched) for any
 * other text. */
gboolean vnic_conf_reconnect_from_string(const char *text, VnicConfReconnect *mode);

/* The reconnect mode NIC @dev runs with, never DEFAULT: its own
 * <vnic:reconnect>, else the domain's where it applies, else the type
 * default.  Type defaults: a macvtap backend (direct, or a network resolved
 * to a device) HUB, as the kernel deletes a macvtap with its lower device;
 * a tap vnic creates (bridge, ethernet, an unresolved network) REPLUG, or
 * with <driver queues> > 1 too, since a hubport feeds one queue only;
 * <target managed='no'> (someone else's tap), vhostuser and the types vnic
 * does not run OFF.  The domain's mode covers the NICs whose backend vnic
 * creates (not managed='no', vhostuser or other types), and a domain-wide
 * HUB gives multiqueue NICs REPLUG.  @def may be NULL (no domain default);
 * @dev need not be part of it (a NIC being attached). */
VnicConfReconnect vnic_conf_nic_reconnect_mode(const VnicConfDomain *def,
                                               const VnicConfDevice *dev);
/* Whether @nic can run with reconnect @mode: hub and replug need a tap or
 * macvtap backend, hub a single queue (a hubport carries one); CONFLICT
 * naming both otherwise.  The parser checks a NIC's own mode with it. */
gboolean vnic_conf_nic_reconnect_check(const VnicConfNic *nic, VnicConfReconnect mode,
                                       GError **error);

/* "ethernet", "bridge", … */
const char *vnic_conf_nic_type_name(VnicConfNicType type);
/* @nic's <interface type> as libvirt spells it (the written one for OTHER). */
const char *vnic_conf_nic_type_string(const VnicConfNic *nic);

/* A short human label used in messages: "interface #2 (52:54:00:…)". */
char *vnic_conf_device_describe(const VnicConfDomain *def, const VnicConfDevice *dev);

const char *vnic_conf_device_kind_to_string(VnicConfDeviceKind kind);
const char *vnic_conf_pci_model_to_string(VnicConfPciModel model);
const char *vnic_conf_controller_type_to_string(VnicConfControllerType type);

G_END_DECLS
