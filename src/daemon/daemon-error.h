/* daemon-error.h: the daemon's own errors and the API's error classes.
 *
 * Every GError that reaches a client is turned into one of the classes in
 * docs/api.md; the class names are API and never change meaning.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VNIC_DAEMON_ERROR (vnic_daemon_error_quark())
GQuark vnic_daemon_error_quark(void);

/* Codes map 1:1 to API classes (see vnic_daemon_error_class). */
typedef enum {
    VNIC_DAEMON_ERROR_GENERIC,
    VNIC_DAEMON_ERROR_COMMAND_NOT_FOUND,
    VNIC_DAEMON_ERROR_INVALID_REQUEST,
    VNIC_DAEMON_ERROR_INVALID_ARGUMENTS,
    VNIC_DAEMON_ERROR_PERMISSION_DENIED,
    VNIC_DAEMON_ERROR_DOMAIN_NOT_FOUND,
    VNIC_DAEMON_ERROR_DOMAIN_EXISTS,
    VNIC_DAEMON_ERROR_INVALID_STATE,
    VNIC_DAEMON_ERROR_TIMEOUT,
    VNIC_DAEMON_ERROR_NETWORK_NOT_FOUND,
    VNIC_DAEMON_ERROR_NETWORK_EXISTS,
    VNIC_DAEMON_ERROR_MIGRATION,   /* a migration step failed (daemon-migrate.h) */
} VnicDaemonErrorCode;

/* The API class for any error: daemon codes by their name, conf errors
 * InvalidXML, pci PlacementError, host HostError, what the QEMU launcher
 * cannot run Unsupported, other qmp/qemu errors QemuError,
 * anything else GenericError. */
const char *vnic_daemon_error_class(const GError *error);

G_END_DECLS
