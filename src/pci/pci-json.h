/* pci-json.h: the slot map of a planned domain as JSON data.
 *
 * The one source of `vnic plan --json`, the daemon's `pci` command and the
 * table both print (`vnic plan --names`, `vnic pci`).  Data only: building
 * a JSON tree is no I/O, so the pci layer stays pure.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "pci/pci-plan.h"

G_BEGIN_DECLS

/* Returns a new object node for a planned @def:
 *
 *   {"devices": [row, …], "next-nic": next}
 *
 * Rows come in the guest's enumeration order (vnic_pci_slot_map).  A row:
 *   "device"     "interface #1 (52:54:00:…)", as in messages
 *   "kind"       "interface", "controller", "disk", …
 *   "address"    "0000:00:03.0"
 *   "guest-bus"  the bus number the guest sees the device on
 *   "mac"        NICs with a MAC only
 *   "names"      NICs only: {"onboard", "slot", "path"} (string or null)
 *                and "preferred", the name udev picks
 *   "controller" PCI controllers only, the bus they provide:
 *                {"model", "index", "guest-bus", "empty"}
 * "next-nic" is where a NIC hot-plugged now would go, {"address",
 * "guest-bus", "names"}, or {"error": message} when none can be.
 *
 * Never fails; the caller owns the node. */
JsonNode *vnic_pci_slot_map_to_json(const VnicConfDomain *def);

G_END_DECLS
