/* qemu-command.h: QEMU's command line for a planned domain.
 *
 * vnic_qemu_command_build() is pure: it turns a planned VnicConfDomain
 * (vnic_pci_plan() ran, every PCI device has an address) and a
 * VnicQemuRuntime (which fds the child will find at which numbers) into
 * argv, plus what the launcher must check and do once QEMU is up: the PCI
 * functions it must find (query-pci), links to set down, the balloon
 * target, the pty chardevs whose paths to read.  It never opens a file,
 * reads the environment or looks at the host; everything the host provides
 * comes in through the runtime.  See qemu-process.h for what does the I/O.
 *
 * Device ids are the <alias> when the device has one, else libvirt's name
 * (net0, virtio-disk0, pci.3, serial0, …), so QMP commands and events speak
 * of a device the way status XML does.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf/conf-domain.h"

G_BEGIN_DECLS

/* One domain for the qemu layer's own errors (QMP failures keep
 * VNIC_QMP_ERROR).  Codes are API: the daemon maps them to wire names with
 * vnic_qemu_error_code_to_string(); add at the end only. */
#define VNIC_QEMU_ERROR (vnic_qemu_error_quark())
GQuark vnic_qemu_error_quark(void);

typedef enum {
    VNIC_QEMU_ERROR_UNSUPPORTED, /* the domain asks for something the launcher cannot honour */
    VNIC_QEMU_ERROR_INVALID,     /* not planned, or the runtime lacks a device's fds */
    VNIC_QEMU_ERROR_KVM,         /* type='kvm' but KVM cannot run guests on this host */
    VNIC_QEMU_ERROR_HOST,        /* a file, socket or process operation failed (errno text) */
    VNIC_QEMU_ERROR_START,       /* QEMU exited, or a monitor step failed, while starting */
    VNIC_QEMU_ERROR_VERIFY,      /* QEMU's PCI devices differ from the plan */
    VNIC_QEMU_ERROR_GONE,        /* attach: the process is gone or is not that QEMU */
} VnicQemuErrorCode;

/* "unsupported", "invalid", "kvm", "host", "start", "verify", "gone". */
const char *vnic_qemu_error_code_to_string(VnicQemuErrorCode code);
gboolean vnic_qemu_error_code_from_string(const char *name, VnicQemuErrorCode *code);

/* ---- the runtime: file descriptors the child gets ---------------------- */

typedef enum {
    VNIC_QEMU_FD_MONITOR,        /* the QMP listening socket (no device) */
    VNIC_QEMU_FD_CHARDEV_SOCKET, /* a listening unix socket: serial, console, channel */
    VNIC_QEMU_FD_CHARDEV_FILE,   /* a file opened for writing: serial, console, channel */
    VNIC_QEMU_FD_DISK,           /* a disk's image or block device */
    VNIC_QEMU_FD_TAP,            /* an interface's tap/macvtap queues, one fd each */
    /* domain-level files (no device): QEMU, unprivileged, never opens them by path */
    VNIC_QEMU_FD_KERNEL,         /* <os><kernel>: the file, or a memfd copy (/proc/self/fd/N) */
    VNIC_QEMU_FD_INITRD,         /* <os><initrd>: likewise */
    VNIC_QEMU_FD_LOADER,         /* <os><loader type='pflash'>, read-only or read-write */
    VNIC_QEMU_FD_NVRAM,          /* <os><nvram>, read-write */
    VNIC_QEMU_FD_CHARDEV_LOG,    /* a serial/console's <log file>, opened for appending */
} VnicQemuFdKind;

/* TRUE for the kinds that belong to the domain, not to a device. */
gboolean vnic_qemu_fd_kind_is_domain(VnicQemuFdKind kind);

/* What vnic hands one QEMU: for each device (borrowed pointer into the
 * domain, which must outlive the runtime) the fds of one kind, numbered as
 * the child sees them (3, 4, … in the order they were added), and, for a
 * runtime made by vnic_qemu_runtime_prepare(), the parent's fds and the
 * files vnic created (see qemu-process.h).  The pure tests build one with
 * child numbers only. */
typedef struct _VnicQemuRuntime VnicQemuRuntime;

VnicQemuRuntime *vnic_qemu_runtime_new(void);
/* Closes the fds it still owns.  Does not remove any file: see
 * vnic_qemu_runtime_remove_files(). */
void vnic_qemu_runtime_free(VnicQemuRuntime *rt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicQemuRuntime, vnic_qemu_runtime_free)

/* Records @n_fds fds of @kind for @dev (NULL for the monitor and the
 * other domain-level kinds) and
 * gives them the next child numbers.  When @fds is not NULL the runtime
 * takes them (each is set to -1) and passes them to QEMU at launch; NULL
 * only describes the numbering (tests).  Adding a second set for the same
 * device and kind is a bug.  Returns the first child number. */
int vnic_qemu_runtime_add_fds(VnicQemuRuntime *rt, const VnicConfDevice *dev,
                              VnicQemuFdKind kind, int *fds, guint n_fds);

/* The child numbers of @dev's fds of @kind, or NULL (*@n_fds = 0). */
const int *vnic_qemu_runtime_get_child_fds(const VnicQemuRuntime *rt, const VnicConfDevice *dev,
                                           VnicQemuFdKind kind, guint *n_fds);

/* ---- the command ----------------------------------------------------- */

/* One PCI function QEMU must show after start. */
typedef struct {
    char *id;        /* QEMU's qdev id; NULL for a chipset function (no -device) */
    char *bus;       /* the bus it sits on: "pci.0", "pcie.0", "pci.3", a user alias */
    gboolean on_root;/* @bus is the root bus (query-pci lists it before the guest runs) */
    guint slot;
    guint function;
    char *what;      /* "interface #1 (52:54:00:…)", for messages */
} VnicQemuPciExpect;

void vnic_qemu_pci_expect_free(VnicQemuPciExpect *exp);

/* A pty chardev whose path QEMU chooses (query-chardev after start). */
typedef struct {
    char *chardev;   /* chardev id: "charserial0" */
    char *dev_id;    /* the device using it: "serial0" */
} VnicQemuPty;

/* A QMP command the launcher sends after the PCI check, before `cont`. */
typedef struct {
    char *command;
    JsonObject *args;         /* owned; NULL: none */
    gboolean secret;          /* args hold a password: never logged */
} VnicQemuQmpStep;

typedef struct {
    GPtrArray *argv;          /* char*, NULL-terminated, argv[0] is the emulator */
    gboolean kvm;             /* accel=kvm: the launcher checks KVM first */
    GPtrArray *expected_pci;  /* VnicQemuPciExpect*, in def->devices order */
    GPtrArray *links_down;    /* char*: NIC ids to set_link down before cont */
    guint64 balloon_bytes;    /* > 0: `balloon` to this size before cont */
    GPtrArray *ptys;          /* VnicQemuPty* */
    GPtrArray *before_cont;   /* VnicQemuQmpStep*: passwords, balloon stats, … */
    char *tz;                 /* TZ for QEMU (<clock offset='timezone'>), or NULL */
    GArray *process_affinity; /* guint host CPUs for the whole QEMU, or NULL (any) */
    GPtrArray *vcpu_affinity; /* per vCPU index: GArray of guint host CPUs, or NULL */
} VnicQemuCommand;

void vnic_qemu_command_free(VnicQemuCommand *cmd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicQemuCommand, vnic_qemu_command_free)

/* Builds the command for @def, which must be planned (every PCI device has
 * an address), and whose devices get the fds @rt describes.  Fails with
 * VNIC_QEMU_ERROR_UNSUPPORTED for what the launcher cannot honour (the
 * table in qemu-command.c), naming the element and value, and with
 * VNIC_QEMU_ERROR_INVALID for an unplanned device, a relative kernel path
 * or fds the runtime lacks. */
VnicQemuCommand *vnic_qemu_command_build(const VnicConfDomain *def, const VnicQemuRuntime *rt,
                                         GError **error);

/* Adds to @rt (without fds) the domain-level files vnic would open for
 * @def: kernel, initrd, firmware, varstore, chardev logs.  For tests and
 * vnic_qemu_domain_check(). */
void vnic_qemu_runtime_describe_domain(VnicQemuRuntime *rt, const VnicConfDomain *def);
/* A runtime describing every fd vnic would hand @def's QEMU (no files). */
VnicQemuRuntime *vnic_qemu_runtime_describe(const VnicConfDomain *def);

/* Refuses, at define, a planned domain the launcher cannot run: builds its
 * command against vnic_qemu_runtime_describe(), so the error is the one
 * start would give (VNIC_QEMU_ERROR_UNSUPPORTED/_INVALID).  Pure: host
 * resources (files, KVM, firmware descriptors) are checked at start. */
gboolean vnic_qemu_domain_check(const VnicConfDomain *def, GError **error);

/* What <cputune> asks of the whole QEMU, for the host's cgroup: <shares>,
 * the period and the quota (<quota> per vCPU times the vCPUs, or
 * <global_quota>; -1: unlimited).  INVALID for values libvirt refuses,
 * UNSUPPORTED for the emulator/iothread limits. */
typedef struct {
    gboolean set;             /* anything to enforce */
    guint64 shares;           /* 0: unset */
    guint64 period_us;        /* 0: unset */
    gint64 quota_us;          /* 0: unset, -1: unlimited */
} VnicQemuCpuTune;

gboolean vnic_qemu_cputune(const VnicConfDomain *def, VnicQemuCpuTune *tune, GError **error);

/* Where @def's VNC server listens, as `virsh vncdisplay` prints it:
 * "127.0.0.1:0", ":0" for a wildcard address, "[::1]:1".  NULL with an
 * INVALID error when there is no TCP VNC server or no port yet (a
 * definition with autoport that is not running). */
char *vnic_qemu_vnc_display(const VnicConfDomain *def, GError **error);

/* Fills in socket= for each <graphics><listen type='socket'> without one:
 * @dir/vnc.sock, @dir/spice.sock (a directory QEMU's user may write: QEMU
 * binds these itself).  TRUE when it filled in any. */
gboolean vnic_qemu_graphics_default_sockets(VnicConfDomain *def, const char *dir);

/* The argv as one shell-quoted line, for logs and tests. */
char *vnic_qemu_command_to_string(const VnicQemuCommand *cmd);

/* QEMU's id for @dev: its <alias>, else libvirt's name.  NULL for devices
 * that get no id (ps2 inputs, <graphics>, …). */
char *vnic_qemu_device_id(const VnicConfDomain *def, const VnicConfDevice *dev);

/* The ids of @expected rows QEMU no longer has, per a query-pci reply: the
 * row's bus is in the reply but no device there or elsewhere has its id.
 * Rows behind bridges the reply does not list (the guest has not
 * enumerated them yet) are not judged.  Ids are borrowed from @expected. */
GPtrArray *vnic_qemu_query_pci_gone(const GPtrArray *expected, JsonNode *query_pci);

/* Writes every device's id into its <alias> where it has none, so status
 * XML, QMP commands and events all name devices alike (a running domain). */
void vnic_qemu_assign_ids(VnicConfDomain *def);
/* "netN" with the lowest N no device of @def uses: a hot-plugged NIC's id. */
char *vnic_qemu_next_nic_id(const VnicConfDomain *def);

/* The PCI functions @def's devices occupy, as vnic_qemu_command_build()
 * lists them in expected_pci (VnicQemuPciExpect*, owned). */
GPtrArray *vnic_qemu_expected_pci(const VnicConfDomain *def, GError **error);

/* ---- verification (pure, on QMP replies) ------------------------------ */

/* Matches query-pci's "return" against @expected.  Before the guest runs,
 * QEMU lists only the root bus: bridges and root ports have secondary bus
 * 0 and their devices are missing from the reply.  Devices that query-pci
 * shows are matched by qdev_id and by their parent (root bus, or the
 * bridge whose "devices" list holds them) and slot/function; a device
 * with an id QEMU shows but the plan does not have fails too.  The
 * expectations the reply cannot show are returned in *@ret_unseen
 * (borrowed from @expected) for vnic_qemu_verify_qom().  Fails with
 * VNIC_QEMU_ERROR_VERIFY naming the device, its planned address and what
 * QEMU has there. */
gboolean vnic_qemu_verify_query_pci(const GPtrArray *expected, JsonNode *query_pci,
                                    GPtrArray **ret_unseen, GError **error);

/* Checks one device QEMU could not show in query-pci by what
 * `qom-get /machine/peripheral/<id>` returned for "addr" (devfn) and
 * "parent_bus" (the bus's QOM path, ending in the bus name). */
gboolean vnic_qemu_verify_qom(const VnicQemuPciExpect *exp, gint64 devfn,
                              const char *parent_bus_path, GError **error);

G_END_DECLS
