/* pci-plan.h: PCI placement and guest-name prediction for a domain.
 *
 * The pci layer is pure: it reads a VnicConfDomain, assigns an address to
 * every PCI device that has none, adds the controllers those addresses need,
 * and predicts the interface names a systemd guest will derive.  It never
 * touches the host; everything here is testable without root.
 */
#pragma once

#include "conf/conf-domain.h"

G_BEGIN_DECLS

#define VNIC_PCI_ERROR (vnic_pci_error_quark())
GQuark vnic_pci_error_quark(void);

typedef enum {
    VNIC_PCI_ERROR_ADDRESS,     /* a user-given address breaks a placement rule */
    VNIC_PCI_ERROR_CAPACITY,    /* the machine has no room for what was asked */
    VNIC_PCI_ERROR_UNPLUG,      /* the hot-unplug setting cannot be honoured */
    VNIC_PCI_ERROR_HOTPLUG,     /* hot-plug is impossible on this domain */
} VnicPciErrorCode;

typedef enum {
    VNIC_PCI_POLICY_NIC_FIRST, /* NICs lowest, room for hot-plug right after them */
    VNIC_PCI_POLICY_LIBVIRT,   /* what libvirt 9.0 assigns for the same XML */
} VnicPciPolicy;

/* Root ports kept free for hot-plug on q35 under nic-first, unless the
 * domain or the caller asks for another number. */
#define VNIC_PCI_DEFAULT_SPARE_PORTS 8

typedef struct {
    VnicPciPolicy policy;
    gint spare_ports;          /* -1: the domain's <vnic:hotplug spare-ports>, else default */
    /* Optional, out: when not NULL, a successful plan appends (char*, owned
     * by the array's free func) what libvirt accepts with a warning and vnic
     * keeps as given: a function without function 0, a free function of a
     * chipset slot.  The pci layer does not log; the caller does. */
    GPtrArray *warnings;
} VnicPciPlanOptions;

/* Validates every user-given address and places every other PCI device,
 * adding pci-bridge / pcie-root-port controllers to @def as needed.  On
 * failure @def is left unchanged and @error names the device and address. */
gboolean vnic_pci_plan(VnicConfDomain *def, const VnicPciPlanOptions *opts, GError **error);

const char *vnic_pci_policy_to_string(VnicPciPolicy policy);
gboolean vnic_pci_policy_from_string(const char *text, VnicPciPolicy *policy);

/* What a systemd 252 guest names a NIC (udev net_id).  A NULL member means
 * the guest derives no name of that kind. */
typedef struct {
    char *onboard;  /* ID_NET_NAME_ONBOARD, eno<acpi-index> */
    char *slot;     /* ID_NET_NAME_SLOT, ens<slot> */
    char *path;     /* ID_NET_NAME_PATH, enp<bus>s<slot> */
} VnicPciGuestNames;

void vnic_pci_guest_names_free(VnicPciGuestNames *names);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnicPciGuestNames, vnic_pci_guest_names_free)

/* The name udev picks first (onboard, then slot, then path). */
const char *vnic_pci_guest_names_preferred(const VnicPciGuestNames *names);

/* Predicts the names for a device at @addr in a planned @def.  @acpi_index 0
 * means none. */
VnicPciGuestNames *vnic_pci_predict_names(const VnicConfDomain *def,
                                          const VnicConfPciAddr *addr,
                                          guint acpi_index);

/* The bus number the guest's firmware gives the bus behind controller
 * @index (depth-first enumeration, as SeaBIOS does), or -1. */
gint vnic_pci_guest_bus_number(const VnicConfDomain *def, guint index);

/* The address a NIC hot-plugged now would get: the lowest free hot-plug slot
 * in NIC order (pc) or the lowest empty spare root port (q35).  Fails with
 * VNIC_PCI_ERROR_CAPACITY or _HOTPLUG and says how to get room. */
gboolean vnic_pci_next_nic_address(const VnicConfDomain *def, VnicConfPciAddr *addr,
                                   GError **error);

/* Checks that a NIC may be hot-plugged at @addr (replug, attach-device with
 * an <address>): the bus exists, takes hot-plug, and the slot is free. */
gboolean vnic_pci_check_hotplug_address(const VnicConfDomain *def, const VnicConfPciAddr *addr,
                                        GError **error);

/* The next free acpi-index (1 + the highest in use), for auto numbering. */
guint vnic_pci_next_acpi_index(const VnicConfDomain *def);

/* One PCI function of a planned domain. */
typedef struct {
    const VnicConfDevice *dev;   /* borrowed from the domain */
    VnicConfPciAddr addr;
    gint guest_bus;              /* the bus number inside the guest */
    VnicPciGuestNames *names;    /* NICs only, else NULL */
} VnicPciSlotRow;

/* Every addressed PCI device of @def, in the guest's enumeration order.
 * Returns a GPtrArray of VnicPciSlotRow* that frees its rows. */
GPtrArray *vnic_pci_slot_map(const VnicConfDomain *def);

/* "0000:00:03.0" */
char *vnic_pci_addr_format(const VnicConfPciAddr *addr);

G_END_DECLS
