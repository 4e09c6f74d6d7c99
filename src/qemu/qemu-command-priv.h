/* qemu-command-priv.h: what the argv builder's files share.
 *
 * qemu-names.c names devices and buses, qemu-xml.c reads the parts of the
 * domain XML the conf layer carries verbatim, qemu-chardev.c classifies
 * serials/consoles/channels, qemu-command*.c write arguments.  All pure.
 * Not for use outside src/qemu except by its tests.
 */
#pragma once

#include "qemu/qemu-command.h"

#include <libxml/tree.h>

G_BEGIN_DECLS

/* ---- qemu-names.c --------------------------------------------------- */

/* Every device's QEMU id, computed once per build: the alias, else
 * libvirt's name with the lowest number no other device uses (as
 * vnic_conf_domain_assign_aliases() would give it). */
typedef struct _VnicQemuNames VnicQemuNames;

VnicQemuNames *vnic_qemu_names_new(const VnicConfDomain *def);
void vnic_qemu_names_free(VnicQemuNames *names);
/* vnic_qemu_expected_pci() with @names of @def already built; without
 * @with_messages the rows have no 'what' (define's check drops them). */
GPtrArray *vnic_qemu_expected_pci_named(const VnicConfDomain *def, const VnicQemuNames *names,
                                        gboolean with_messages, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicQemuNames, vnic_qemu_names_free)
/* Borrowed; NULL for a device without an id. */
const char *vnic_qemu_names_get(const VnicQemuNames *names, const VnicConfDevice *dev);
/* The id of controller @type/@index, or NULL when there is none. */
const char *vnic_qemu_names_controller(const VnicQemuNames *names, VnicConfControllerType type,
                                       guint index);
/* The PCI bus behind controller @index: "pci.0"/"pcie.0" for the root,
 * else the controller's id; NULL when no PCI controller has that index. */
const char *vnic_qemu_names_pci_bus(const VnicQemuNames *names, guint index);

/* qemu-command-devices.c: the <interface> holds only what vnic honours. */
gboolean vnic_qemu_nic_check(const VnicConfDomain *def, const VnicConfDevice *dev, GError **error);

/* TRUE for the chipset's own functions, which get no -device: the PIIX3
 * IDE of pc (ide controller 0) and the ICH9 AHCI of q35 (sata 0). */
gboolean vnic_qemu_is_chipset(const VnicConfDomain *def, const VnicConfDevice *dev);

/* 0-based number of @dev among the devices of its kind. */
guint vnic_qemu_kind_index(const VnicConfDomain *def, const VnicConfDevice *dev);

/* A drive address: <address type='drive'> or libvirt's default from the
 * target name (vda → 0, sdb → 1, hdc → 2). */
typedef struct {
    guint controller, bus, target, unit;
} VnicQemuDriveAddr;

gboolean vnic_qemu_disk_drive_addr(const VnicConfDevice *dev, VnicQemuDriveAddr *addr,
                                   GError **error);
/* vda → 0, vdz → 25, vdaa → 26; -1 when the name does not end in letters. */
gint vnic_qemu_disk_index(const char *target_dev);

/* ---- qemu-xml.c: reading what conf carries verbatim ------------------- */

/* The attribute without namespace, or NULL (newly allocated). */
char *vnic_qemu_xml_prop(const xmlNode *node, const char *name);
/* The first child element without namespace called @name, or NULL. */
xmlNode *vnic_qemu_xml_child(const xmlNode *node, const char *name);
/* Text content of child @name, or NULL. */
char *vnic_qemu_xml_child_text(const xmlNode *node, const char *name);
/* An optional unsigned attribute, decimal or 0x-hex; FALSE (INVALID) when
 * malformed.  *@out = @dflt when absent. */
gboolean vnic_qemu_xml_prop_uint(const VnicConfDomain *def, const VnicConfDevice *dev,
                                 const xmlNode *node, const char *attr, guint64 dflt,
                                 guint64 *out, GError **error);

/* Refuses (UNSUPPORTED) an attribute of @node not in @attrs and a child
 * element not in @children (both NULL-terminated; NULL: none allowed).
 * Children in vnic's namespace pass: conf validated them.  Messages start
 * with the device's label when @dev is set. */
gboolean vnic_qemu_xml_check(const VnicConfDomain *def, const VnicConfDevice *dev,
                             const xmlNode *node, const char *const *attrs,
                             const char *const *children, GError **error);

/* Sets an UNSUPPORTED/INVALID error prefixed with the device's label. */
void vnic_qemu_set_error(GError **error, const VnicConfDomain *def, const VnicConfDevice *dev,
                         VnicQemuErrorCode code, const char *format, ...) G_GNUC_PRINTF(5, 6);

/* ---- qemu-chardev.c ------------------------------------------------- */

typedef enum {
    VNIC_QEMU_CHR_PTY,
    VNIC_QEMU_CHR_UNIX,   /* vnic binds and listens, QEMU gets the fd */
    VNIC_QEMU_CHR_FILE,   /* vnic opens, QEMU gets the fd through an fdset */
    VNIC_QEMU_CHR_NULL,
    VNIC_QEMU_CHR_SPICEVMC, /* QEMU's SPICE server (channel: vdagent) */
} VnicQemuChrBackend;

typedef enum {
    VNIC_QEMU_CHR_TARGET_ISA_SERIAL,   /* <serial>, or <console> on its own serial */
    VNIC_QEMU_CHR_TARGET_SERIAL_ALIAS, /* <console target type='serial'>: the serial itself */
    VNIC_QEMU_CHR_TARGET_VIRTCONSOLE,  /* <console target type='virtio'> */
    VNIC_QEMU_CHR_TARGET_VIRTSERIALPORT, /* <channel target type='virtio'> */
} VnicQemuChrTarget;

typedef struct {
    VnicQemuChrBackend backend;
    gboolean append;          /* file: <source append='on'> */
    VnicQemuChrTarget target;
    guint port;               /* isa-serial index */
    char *name;               /* virtserialport name, or NULL */
    const VnicConfDevice *serial; /* SERIAL_ALIAS: the serial this console shows */
    gint vs_controller;       /* <address type='virtio-serial'>, -1 when absent */
    gint vs_bus;
    gint vs_port;
    char *log_file;           /* <log file>, or NULL */
    gboolean log_append;      /* <log append='on'> */
} VnicQemuChardev;

void vnic_qemu_chardev_clear(VnicQemuChardev *chr);
/* Reads @dev (serial, console or channel).  Fails with UNSUPPORTED for a
 * type, mode or target the launcher cannot honour. */
gboolean vnic_qemu_chardev_parse(const VnicConfDomain *def, const VnicConfDevice *dev,
                                 VnicQemuChardev *chr, GError **error);
/* TRUE when @dev is a serial/console/channel device. */
gboolean vnic_qemu_is_chardev(const VnicConfDevice *dev);

/* ---- the builder ------------------------------------------------------ */

typedef struct {
    const VnicConfDomain *def;
    const VnicQemuRuntime *rt;
    VnicQemuNames *names;
    VnicQemuCommand *cmd;
    guint next_fdset;
    gboolean audiodev;        /* -audiodev none,id=audio1 written */
    char *watchdog_action;    /* the -action watchdog= value, once */
    GHashTable *vs_ports;     /* "virtio-serial0.0:1" → TRUE: used virtserialport numbers */
    gboolean has_vnc;         /* one -vnc written */
    GHashTable *iothreads;    /* iothread ids (GSIZE_TO_POINTER) of <iothreads>/<iothreadids> */
} VnicQemuBuild;

void vnic_qemu_build_add(VnicQemuBuild *b, const char *arg);
void vnic_qemu_build_add_pair(VnicQemuBuild *b, const char *option, GString *value);
/* Appends ",key=value" (no comma before the first pair) escaping commas. */
void vnic_qemu_opt(GString *s, const char *key, const char *value);
void vnic_qemu_opt_uint(GString *s, const char *key, guint64 value);
/* ",bus=<bus>,addr=0xS[.0xF][,multifunction=on]" for a planned device. */
gboolean vnic_qemu_opt_pci(VnicQemuBuild *b, const VnicConfDevice *dev, GString *s,
                           GError **error);
/* "-add-fd fd=N,set=S": the single fd of @dev's @kind; returns the set
 * path "/dev/fdset/S", or NULL when the runtime has no fd for it. */
char *vnic_qemu_build_fdset(VnicQemuBuild *b, const VnicConfDevice *dev, VnicQemuFdKind kind,
                            GError **error);

/* qemu-command-domain.c: domain-level options; @root is the <domain>
 * element or NULL for a domain built in code. */
gboolean vnic_qemu_build_machine(VnicQemuBuild *b, xmlNode *root, GError **error);
gboolean vnic_qemu_build_cpu(VnicQemuBuild *b, xmlNode *root, GError **error);
gboolean vnic_qemu_build_smp(VnicQemuBuild *b, xmlNode *root, GError **error);
gboolean vnic_qemu_build_clock(VnicQemuBuild *b, xmlNode *root, GError **error);
gboolean vnic_qemu_build_lifecycle(VnicQemuBuild *b, xmlNode *root, GError **error);
gboolean vnic_qemu_build_globals(VnicQemuBuild *b, xmlNode *root, GError **error);
/* pc: QEMU switches ACPI hot-plug off for all pci-bridges at once
 * (PIIX4_PM.acpi-pci-hotplug-with-bridge-support); TRUE when the domain has
 * pci-bridges and every one has <target hotplug='off'/> (the planner's
 * choice for NICs whose guest unplug is denied, docs/pci.md). */
gboolean vnic_qemu_pc_bridges_without_hotplug(const VnicConfDomain *def);

/* qemu-command-boot.c: firmware, kernel boot, <sysinfo>. */
gboolean vnic_qemu_build_boot(VnicQemuBuild *b, xmlNode *root, GError **error);

/* What <os firmware> / <loader> / <nvram> ask for. */
typedef struct {
    gboolean pflash;          /* a pflash loader (given, or chosen for firmware='efi') */
    char *loader;             /* the <loader> path, NULL: chosen from the descriptors */
    gboolean loader_readonly;
    gboolean secure;          /* <loader secure='yes'>: SMM */
    gboolean has_nvram;       /* a read-only loader has a separate varstore */
    char *nvram;              /* the <nvram> path, NULL: vnic's default */
    char *nvram_template;     /* <nvram template>, NULL: the descriptor's */
} VnicQemuFirmware;

/* Reads @def's firmware choice; UNSUPPORTED for what the launcher cannot
 * run (rom loaders, stateless, firmware other than efi/bios). */
gboolean vnic_qemu_boot_firmware(const VnicConfDomain *def, VnicQemuFirmware *fw,
                                 GError **error);
void vnic_qemu_firmware_clear(VnicQemuFirmware *fw);

/* qemu-command-affinity.c: <vcpu cpuset>, <emulatorpin>, <vcpupin>. */
gboolean vnic_qemu_build_affinity(VnicQemuBuild *b, xmlNode *root, GError **error);

/* qemu-command-features.c: <features> as -cpu flags (appended to @flags),
 * -machine options (appended to @machine) and devices. */
gboolean vnic_qemu_features_cpu(VnicQemuBuild *b, xmlNode *root, GString *flags,
                                GError **error);
gboolean vnic_qemu_features_machine(VnicQemuBuild *b, xmlNode *root, GString *machine,
                                    GError **error);
gboolean vnic_qemu_features_devices(VnicQemuBuild *b, xmlNode *root, GError **error);

/* qemu-command-graphics.c */
typedef struct {
    char *address;            /* TCP listen address (default 127.0.0.1), or NULL */
    char *socket;             /* <listen type='socket' socket>, or NULL */
    gboolean socket_auto;     /* <listen type='socket'> without socket=: vnicd picks it */
    gboolean none;            /* <listen type='none'> */
} VnicQemuListen;

/* Where <graphics> @node listens. */
gboolean vnic_qemu_graphics_listen(const xmlNode *node, VnicQemuListen *l, GError **error);
void vnic_qemu_listen_clear(VnicQemuListen *l);
gboolean vnic_qemu_build_graphics(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
/* <redirdev bus='usb' type='spicevmc'>: a usb-redir on the SPICE server. */
gboolean vnic_qemu_build_redirdev(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
/* TRUE when @def has a <graphics type='spice'>. */
gboolean vnic_qemu_has_spice(const VnicConfDomain *def);

/* qemu-command-devices.c: one -device (and its backends) per call. */
gboolean vnic_qemu_build_controller(VnicQemuBuild *b, const VnicConfDevice *dev,
                                    GError **error);
gboolean vnic_qemu_build_disk(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
gboolean vnic_qemu_build_nic(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);

/* qemu-command-misc.c */
gboolean vnic_qemu_build_video(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
gboolean vnic_qemu_build_sound(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
gboolean vnic_qemu_build_balloon(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
gboolean vnic_qemu_build_rng(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
gboolean vnic_qemu_build_watchdog(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
gboolean vnic_qemu_build_input(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
gboolean vnic_qemu_build_other(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);

/* ---- qemu-command-refused.c: parsed and placed, not run ---------------- */

gboolean vnic_qemu_build_refused(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);
gboolean vnic_qemu_build_refused_controller(VnicQemuBuild *b, const VnicConfDevice *dev,
                                            GError **error);
gboolean vnic_qemu_controller_is_refused(const VnicConfController *c);

/* qemu-chardev.c: ports given by <address type='virtio-serial'> first, so
 * automatic ones avoid them. */
gboolean vnic_qemu_chardev_reserve_ports(VnicQemuBuild *b, GError **error);
gboolean vnic_qemu_build_chardev(VnicQemuBuild *b, const VnicConfDevice *dev, GError **error);

/* ---- qemu-runtime.c ------------------------------------------------ */

typedef struct {
    const VnicConfDevice *dev;  /* NULL for the monitor */
    VnicQemuFdKind kind;
    guint n_fds;
    int *child_fds;
    int *parent_fds;            /* -1 once handed to the launcher, or when describing only */
} VnicQemuFdEntry;

/* A file vnic created for this QEMU; removed only while it is still the
 * same inode (st_ino 0: unknown, e.g. after re-attach). */
typedef struct {
    char *path;
    guint64 dev;
    guint64 ino;
} VnicQemuOwnedFile;

struct _VnicQemuRuntime {
    GPtrArray *entries;         /* VnicQemuFdEntry*, in the order added */
    int next_child_fd;          /* 3 at first */
    char *qmp_path;             /* the monitor socket, set by prepare */
    char *log_path;
    int log_fd;                 /* QEMU's stdout and stderr; -1 when none */
    gint64 log_start;           /* log size before this start: error tails begin here */
    GPtrArray *owned;           /* VnicQemuOwnedFile*: what vnic created */
    gboolean firmware_smm;      /* the chosen UEFI firmware needs SMM */
    gboolean describing;        /* vnic_qemu_runtime_describe(): ports are not chosen yet */
    gint64 now_utc;             /* the start's wall clock (unix seconds), for <clock offset='variable'> */
    gint64 local_offset_s;      /* the host's UTC offset then */
};

void vnic_qemu_owned_file_free(VnicQemuOwnedFile *file);

G_END_DECLS
