/* pci-priv.h: the pci layer's internal model, shared by its files and tests.
 *
 * A VnicPciAddrSet is the planner's scratch view of a domain's PCI topology:
 * one VnicPciBus per PCI controller index with the functions in use on each
 * slot.  It borrows the domain; the domain is only modified once a plan has
 * fully succeeded (vnic_pci_plan copies devices back), so a failed plan
 * leaves the definition untouched.
 */
#pragma once

#include "pci/pci-plan.h"

#define VNIC_PCI_MAX_BUSES 256
#define VNIC_PCI_SLOTS 32

/* How a device plugs in, after libvirt's "connect flags". */
typedef enum {
    VNIC_PCI_CONNECT_PCI = 1 << 0,             /* conventional PCI endpoint */
    VNIC_PCI_CONNECT_PCIE = 1 << 1,            /* PCI Express endpoint */
    VNIC_PCI_CONNECT_ROOT_PORT = 1 << 2,
    VNIC_PCI_CONNECT_PCI_BRIDGE = 1 << 3,
    VNIC_PCI_CONNECT_DMI_BRIDGE = 1 << 4,
    VNIC_PCI_CONNECT_PCIE_TO_PCI_BRIDGE = 1 << 5,
    VNIC_PCI_CONNECT_PCI_EXPANDER = 1 << 6,     /* pxb: on pci-root only */
    VNIC_PCI_CONNECT_PCIE_EXPANDER = 1 << 7,    /* pxb-pcie: on pcie-root only */
    VNIC_PCI_CONNECT_SWITCH_UPSTREAM = 1 << 8,  /* into a root or downstream port */
    VNIC_PCI_CONNECT_SWITCH_DOWNSTREAM = 1 << 9, /* onto an upstream port's bus */
    VNIC_PCI_CONNECT_INTEGRATED = 1 << 10,      /* PCIe integrated endpoint: pcie.0
                                                 * only (virtio-iommu, as libvirt) */
} VnicPciConnect;

#define VNIC_PCI_CONNECT_BITS 11

#define VNIC_PCI_CONNECT_ENDPOINT (VNIC_PCI_CONNECT_PCI | VNIC_PCI_CONNECT_PCIE)

/* libvirt's cold-plug placement order (qemuDomainAssignDevicePCISlots),
 * measured with libvirt 9.0 (tests/data/libvirt/pc-alldev, q35-alldev). */
typedef enum {
    VNIC_PCI_GROUP_CONTROLLER_PCI,
    VNIC_PCI_GROUP_FILESYSTEM,
    VNIC_PCI_GROUP_NIC,
    VNIC_PCI_GROUP_SOUND,
    VNIC_PCI_GROUP_CONTROLLER,
    VNIC_PCI_GROUP_DISK,
    VNIC_PCI_GROUP_HOSTDEV,
    VNIC_PCI_GROUP_MEMBALLOON,
    VNIC_PCI_GROUP_RNG,
    VNIC_PCI_GROUP_WATCHDOG,
    VNIC_PCI_GROUP_VIDEO,
    VNIC_PCI_GROUP_SHMEM,
    VNIC_PCI_GROUP_INPUT,
    VNIC_PCI_GROUP_SERIAL,
    VNIC_PCI_GROUP_IOMMU,
    VNIC_PCI_GROUP_VSOCK,
    VNIC_PCI_GROUP_MEMORY,
    VNIC_PCI_GROUP_CRYPTO,    /* newer libvirt; 9.0 drops <crypto> */
    VNIC_PCI_GROUP_COUNT,
} VnicPciGroup;

typedef struct {
    gboolean is_pci;          /* occupies a PCI function */
    VnicPciConnect connect;   /* what it plugs in as */
    VnicPciGroup group;
    gboolean has_builtin;     /* part of the chipset: fixed address below */
    VnicConfPciAddr builtin;
    guint auto_function;      /* function it takes in a free slot (EHCI: 7) */
} VnicPciDevClass;

typedef struct {
    gboolean exists;
    VnicConfPciModel model;
    const VnicConfDevice *controller;   /* NULL for buses the planner is adding */
    guint min_slot;
    guint max_slot;
    VnicPciConnect accepts;   /* what auto-placement may put here */
    gboolean hotplug;
    guint8 used[VNIC_PCI_SLOTS];          /* bit f: function f in use */
    const VnicConfDevice *owner[VNIC_PCI_SLOTS]; /* first device seen per slot, for messages */
} VnicPciBus;

typedef struct {
    const VnicConfDomain *def;
    VnicPciBus buses[VNIC_PCI_MAX_BUSES];
    GPtrArray *warnings;      /* char*, owned; what validation let pass with a warning */
} VnicPciAddrSet;

/* pci-device.c */
VnicPciDevClass vnic_pci_classify(const VnicConfDomain *def, const VnicConfDevice *dev);
gboolean vnic_pci_device_is_primary_video(const VnicConfDomain *def, const VnicConfDevice *dev);
gboolean vnic_pci_nic_denies_guest_unplug(const VnicConfDomain *def, const VnicConfDevice *dev);
/* pc with a NIC of its own guest='deny' (and no domain-wide deny): such
 * NICs sit behind pci-bridges without hot-plug (shpc=off, and the machine's
 * ACPI hot-plug of bridges off), which takes hot-plug from every pci-bridge
 * of the domain; pci.0 keeps it (docs/pci.md). */
gboolean vnic_pci_pc_denies_per_nic(const VnicConfDomain *def);
/* An ich9-ehci1 or one of its ich9-uhciN companions: they share one slot. */
gboolean vnic_pci_device_is_usb2_set(const VnicConfDevice *dev);

/* pci-addrset.c */
VnicPciAddrSet *vnic_pci_addrset_new(const VnicConfDomain *def);
void vnic_pci_addrset_free(VnicPciAddrSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicPciAddrSet, vnic_pci_addrset_free)
void vnic_pci_addrset_add_bus(VnicPciAddrSet *set, guint index, VnicConfPciModel model,
                              const VnicConfDevice *controller);
gboolean vnic_pci_addrset_is_free(const VnicPciAddrSet *set, guint bus, guint slot, guint fn);
gboolean vnic_pci_addrset_slot_is_empty(const VnicPciAddrSet *set, guint bus, guint slot);
void vnic_pci_addrset_mark(VnicPciAddrSet *set, const VnicConfPciAddr *addr,
                           const VnicConfDevice *owner);
guint vnic_pci_addrset_free_slot_count(const VnicPciAddrSet *set, guint bus);
/* Lowest completely free slot on @bus at or above @from accepting @connect. */
gboolean vnic_pci_addrset_find_slot(const VnicPciAddrSet *set, guint bus, guint from,
                                    VnicPciConnect connect, VnicConfPciAddr *addr);
/* First bus (by index) with a free slot accepting @connect. */
gboolean vnic_pci_addrset_find_any(const VnicPciAddrSet *set, VnicPciConnect connect,
                                   VnicConfPciAddr *addr);
guint vnic_pci_addrset_next_index(const VnicPciAddrSet *set);
gboolean vnic_pci_bus_accepts(VnicConfPciModel model, VnicPciConnect connect);

/* pci-names.c: guest bus number per controller index (-1: unreachable),
 * VNIC_PCI_MAX_BUSES entries, g_free() it. */
gint *vnic_pci_guest_bus_numbers(const VnicConfDomain *def);

/* pci-validate.c */
gboolean vnic_pci_validate_user_addresses(VnicPciAddrSet *set, GError **error);
void vnic_pci_reserve_chipset(VnicPciAddrSet *set);

/* pci-plan-pc.c, pci-plan-q35.c, pci-plan-libvirt.c: the policies.  Each
 * appends added controllers to @added (owned VnicConfDevice*) and sets the
 * addresses of @def's devices in @placed (VnicConfDevice* → VnicConfPciAddr*). */
typedef struct {
    VnicPciAddrSet *set;
    VnicConfDomain *def;
    GPtrArray *added;          /* VnicConfDevice*, owned */
    GHashTable *placed;        /* VnicConfDevice* → VnicConfPciAddr*, owned values */
    guint spare_ports;
    gboolean spare_only_if_added; /* libvirt's default: a spare only if it added ports */
    gboolean spare_is_default;    /* nobody asked for a number: the policy's default */
    gboolean bridges_without_hotplug; /* vnic_pci_pc_denies_per_nic(): every pci-bridge,
                                       * also those the planner adds */
} VnicPciPlanner;

void vnic_pci_planner_place(VnicPciPlanner *p, VnicConfDevice *dev, const VnicConfPciAddr *addr);
VnicConfDevice *vnic_pci_planner_add_controller(VnicPciPlanner *p, VnicConfPciModel model);
gboolean vnic_pci_planner_needs_address(VnicPciPlanner *p, const VnicConfDevice *dev);
void vnic_pci_planner_place_primary_video(VnicPciPlanner *p, guint slot);
gboolean vnic_pci_plan_nic_first_pc(VnicPciPlanner *p, GError **error);
gboolean vnic_pci_plan_nic_first_q35(VnicPciPlanner *p, GError **error);
gboolean vnic_pci_plan_libvirt(VnicPciPlanner *p, GError **error);
gboolean vnic_pci_place_root_ports(VnicPciPlanner *p, GPtrArray *ports, GError **error);
/* A dmi-to-pci-bridge goes to 00:1e.0 when that is free, as libvirt puts
 * it; FALSE for anything else. */
gboolean vnic_pci_find_dmi_slot(VnicPciPlanner *p, VnicPciConnect connect, VnicConfPciAddr *addr);
/* The lowest free slot accepting @connect on a bus controller @ctrl may
 * plug into (not its own, not one that will sit below it). */
gboolean vnic_pci_find_controller_slot(VnicPciPlanner *p, const VnicConfDevice *ctrl,
                                       VnicPciConnect connect, VnicConfPciAddr *addr);
VnicConfDevice *vnic_pci_planner_add_controller_at(VnicPciPlanner *p, VnicConfPciModel model,
                                                   guint index);
/* pci-plan-gaps.c: libvirt's controllers for user addresses on buses
 * nobody defined.  @moved collects (VnicConfDevice*) devices whose bus was
 * raised by one, for the caller to undo if the plan fails. */
gboolean vnic_pci_add_missing_buses(VnicPciPlanner *p, GArray *moved, GError **error);
