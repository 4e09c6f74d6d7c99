/* daemon-error.c: GError → API error class (docs/api.md). */
#include "daemon/daemon-error.h"

#include "conf/conf-domain.h"
#include "host/host-backend.h"
#include "pci/pci-plan.h"
#include "qemu/qemu-command.h"
#include "qemu/qmp-client.h"

G_DEFINE_QUARK(vnic-daemon-error-quark, vnic_daemon_error)

static const char *const daemon_classes[] = {
    [VNIC_DAEMON_ERROR_GENERIC] = "GenericError",
    [VNIC_DAEMON_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
    [VNIC_DAEMON_ERROR_INVALID_REQUEST] = "InvalidRequest",
    [VNIC_DAEMON_ERROR_INVALID_ARGUMENTS] = "InvalidArguments",
    [VNIC_DAEMON_ERROR_PERMISSION_DENIED] = "PermissionDenied",
    [VNIC_DAEMON_ERROR_DOMAIN_NOT_FOUND] = "DomainNotFound",
    [VNIC_DAEMON_ERROR_DOMAIN_EXISTS] = "DomainExists",
    [VNIC_DAEMON_ERROR_INVALID_STATE] = "InvalidState",
    [VNIC_DAEMON_ERROR_TIMEOUT] = "Timeout",
    [VNIC_DAEMON_ERROR_NETWORK_NOT_FOUND] = "NetworkNotFound",
    [VNIC_DAEMON_ERROR_NETWORK_EXISTS] = "NetworkExists",
    [VNIC_DAEMON_ERROR_MIGRATION] = "MigrationError",
};

const char *
vnic_daemon_error_class(const GError *error)
{
    if (error->domain == VNIC_DAEMON_ERROR && (guint)error->code < G_N_ELEMENTS(daemon_classes))
        return daemon_classes[error->code];
    if (error->domain == VNIC_CONF_ERROR)
        return "InvalidXML";
    if (error->domain == VNIC_PCI_ERROR)
        return "PlacementError";
    if (error->domain == VNIC_HOST_ERROR)
        return "HostError";
    if (error->domain == VNIC_QEMU_ERROR && error->code == VNIC_QEMU_ERROR_UNSUPPORTED)
        return "Unsupported";
    if (error->domain == VNIC_QEMU_ERROR)
        return error->code == VNIC_QEMU_ERROR_HOST ? "HostError" : "QemuError";
    if (error->domain == VNIC_QMP_ERROR)
        return error->code == VNIC_QMP_ERROR_TIMEOUT ? "Timeout" : "QemuError";
    return "GenericError";
}
