/* e2e-guest.h: what the test guest says about itself, over its console. */
#pragma once

#include <glib.h>

#include "e2e-console.h"

G_BEGIN_DECLS

/* One network interface of the guest and the names systemd-udev's net_id
 * builtin gives it (NULL when it gives none of that kind). */
typedef struct {
    char *ifname;   /* kernel name, e.g. eth0 */
    char *mac;      /* lower case */
    char *onboard;  /* ID_NET_NAME_ONBOARD, enoN */
    char *slot;     /* ID_NET_NAME_SLOT, ensN */
    char *path;     /* ID_NET_NAME_PATH, enpXsY */
} E2eGuestNic;

void e2e_guest_nic_free(E2eGuestNic *nic);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eGuestNic, e2e_guest_nic_free)

/* Every interface but lo, with `udevadm test-builtin net_id` run on it. */
GPtrArray *e2e_guest_nics(E2eConsole *console, GError **error);
/* The guest NIC with this MAC (any case), or NULL. */
const E2eGuestNic *e2e_guest_nics_find_mac(GPtrArray *nics, const char *mac);
/* Runs @cmd on the guest's shell and requires exit status 0 (else an error
 * naming the command and status); @out may be NULL. */
gboolean e2e_guest_run_ok(E2eConsole *console, const char *cmd, double timeout_s, char **out,
                          GError **error);
/* The guest's kernel name of the NIC with @mac, waiting up to @timeout_s for
 * it to appear. */
char *e2e_guest_ifname(E2eConsole *console, const char *mac, double timeout_s, GError **error);
/* The name udev would pick with the default NamePolicy (onboard, then slot,
 * then path), or NULL. */
const char *e2e_guest_nic_preferred(const E2eGuestNic *nic);

/* A guest shell command that prints the guest's PCI hot-plug slots
 * (/sys/bus/pci/slots), one "NAME ADDRESS" line each ("3 0000:00:03"). */
#define E2E_GUEST_SLOTS_CMD                                                        \
    "for s in /sys/bus/pci/slots/*; do [ -e $s/address ] && echo \"${s##*/} $(cat $s/address)\"; " \
    "done; true"
/* The name of the slot at @bus_slot ("0000:01:00") in E2E_GUEST_SLOTS_CMD's
 * output @slots, or NULL. */
char *e2e_guest_slot_at(const char *slots, const char *bus_slot);

G_END_DECLS
