/* host-backend.c: the records (VnicHostLink, VnicHostBackend), the
 * VNIC_HOST_ERROR domain, and the create/rollback frame around host-tap.c
 * and host-macvtap.c.
 *
 * A create either returns a complete backend or leaves nothing behind: the
 * link it created is deleted and every fd it opened is closed, and the
 * error says which step failed (rollback errors are only debug-logged: the
 * first error is the one reported).
 *
 * A backend owns its fds until they are stolen; it never owns the link:
 * vnic_host_backend_free() does not delete it.  But taps are never made
 * persistent (no TUNSETPERSIST): a tap lives exactly as long as some fd on
 * it is open.  vnicd passes the fds to QEMU and keeps one reference to
 * each (vnic_host_backend_ref_queues, for a quick netdev_del), so the tap
 * lives until QEMU and vnicd both closed theirs; it survives a vnicd
 * restart (QEMU's alone then) and cannot outlive a dead QEMU once vnicd
 * cleaned up (or was killed too).  Freeing a
 * backend whose fds were not stolen therefore removes its tap too.
 * macvtaps are ordinary links and stay until vnic_host_link_delete().
 *
 * Must not: log above g_debug, or touch a link it did not create.
 */
#include "host/host-priv.h"

#include <errno.h>
#include <unistd.h>

G_DEFINE_QUARK(vnic-host-error-quark, vnic_host_error)

gint vnic_host_test_fail_at;

static const char *const error_names[] = {
    [VNIC_HOST_ERROR_FAILED] = "failed",
    [VNIC_HOST_ERROR_EXISTS] = "exists",
    [VNIC_HOST_ERROR_NOT_FOUND] = "not-found",
    [VNIC_HOST_ERROR_INVALID] = "invalid",
};

const char *
vnic_host_error_code_to_string(VnicHostErrorCode code)
{
    if ((guint)code >= G_N_ELEMENTS(error_names))
        return NULL;
    return error_names[code];
}

gboolean
vnic_host_error_code_from_string(const char *name, VnicHostErrorCode *code)
{
    for (guint i = 0; i < G_N_ELEMENTS(error_names); i++) {
        if (g_strcmp0(name, error_names[i]) == 0) {
            *code = (VnicHostErrorCode)i;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
vnic_host_failv(GError **error, VnicHostErrorCode code, const char *reason, const char *fmt,
                va_list ap)
{
    g_autofree char *step = g_strdup_vprintf(fmt, ap);

    g_set_error(error, VNIC_HOST_ERROR, code, "%s: %s", step, reason);
    return FALSE;
}

gboolean
vnic_host_fail(GError **error, VnicHostErrorCode code, const char *reason, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vnic_host_failv(error, code, reason, fmt, ap);
    va_end(ap);
    return FALSE;
}

gboolean
vnic_host_fail_errno(GError **error, VnicHostErrorCode code, int errnum, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vnic_host_failv(error, code, g_strerror(errnum), fmt, ap);
    va_end(ap);
    return FALSE;
}

gboolean
vnic_host_test_should_fail(void)
{
    gint left;

    do {
        left = g_atomic_int_get(&vnic_host_test_fail_at);
        if (left <= 0)
            return FALSE;
    } while (!g_atomic_int_compare_and_exchange(&vnic_host_test_fail_at, left, left - 1));
    return left == 1;
}

void
vnic_host_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;

        close(*fd);
        *fd = -1;
        errno = saved;
    }
}

int
vnic_host_steal_fd(int *fd)
{
    int ret = *fd;

    *fd = -1;
    return ret;
}

/* ---- VnicHostLink ------------------------------------------------------ */

VnicHostLink *
vnic_host_link_copy(const VnicHostLink *link)
{
    VnicHostLink *copy;

    g_return_val_if_fail(link != NULL, NULL);
    copy = g_new0(VnicHostLink, 1);
    copy->name = g_strdup(link->name);
    copy->ifindex = link->ifindex;
    copy->kind = link->kind;
    return copy;
}

void
vnic_host_link_free(VnicHostLink *link)
{
    if (!link)
        return;
    g_free(link->name);
    g_free(link);
}

const char *
vnic_host_link_kind_to_string(VnicHostLinkKind kind)
{
    return kind == VNIC_HOST_LINK_MACVTAP ? "macvtap" : kind == VNIC_HOST_LINK_IFB ? "ifb" : "tap";
}

gboolean
vnic_host_link_kind_from_string(const char *text, VnicHostLinkKind *kind)
{
    if (g_strcmp0(text, "tap") == 0)
        *kind = VNIC_HOST_LINK_TAP;
    else if (g_strcmp0(text, "macvtap") == 0)
        *kind = VNIC_HOST_LINK_MACVTAP;
    else if (g_strcmp0(text, "ifb") == 0)
        *kind = VNIC_HOST_LINK_IFB;
    else
        return FALSE;
    return TRUE;
}

const char *
vnic_host_link_kind_to_kernel(VnicHostLinkKind kind)
{
    return kind == VNIC_HOST_LINK_MACVTAP ? "macvtap" : kind == VNIC_HOST_LINK_IFB ? "ifb" : "tun";
}

/* ---- VnicHostBackend --------------------------------------------------- */

static VnicHostBackend *
backend_new(void)
{
    VnicHostBackend *backend = g_new0(VnicHostBackend, 1);

    backend->fds = g_array_new(FALSE, FALSE, sizeof(int));
    return backend;
}

void
vnic_host_backend_free(VnicHostBackend *backend)
{
    if (!backend)
        return;
    for (guint i = 0; i < backend->fds->len; i++)
        vnic_host_closep(&g_array_index(backend->fds, int, i));
    g_array_unref(backend->fds);
    vnic_host_link_free(backend->link);
    vnic_host_link_free(backend->ifb);
    g_free(backend);
}

void
vnic_host_backend_add_fd(VnicHostBackend *backend, int *fd)
{
    int owned = vnic_host_steal_fd(fd);

    g_array_append_val(backend->fds, owned);
}

void
vnic_host_backend_set_link(VnicHostBackend *backend, const char *name, guint ifindex,
                           VnicHostLinkKind kind)
{
    VnicHostLink *link = g_new0(VnicHostLink, 1);

    link->name = g_strdup(name);
    link->ifindex = ifindex;
    link->kind = kind;
    vnic_host_link_free(backend->link);
    backend->link = link;
}

/* Undoes a creation that failed: the link first (a tap with fds still
 * attached is deleted too), then the fds, by freeing. */
static void
backend_rollback(VnicHostBackend *backend)
{
    g_autoptr(GError) error = NULL;

    if (backend->ifb && !vnic_host_nl_delete_created(backend->ifb, &error)) {
        g_debug("rollback of ifb '%s': %s", backend->ifb->name, error->message);
        g_clear_error(&error);
    }
    if (backend->link && !vnic_host_nl_delete_created(backend->link, &error))
        g_debug("rollback of %s '%s' (ifindex %u): %s",
                vnic_host_link_kind_to_string(backend->link->kind), backend->link->name,
                backend->link->ifindex, error->message);
    vnic_host_backend_free(backend);
}

VnicHostBackend *
vnic_host_backend_create(const VnicConfNic *nic, GError **error)
{
    g_autoptr(VnicHostNl) nl = NULL;
    VnicHostBackend *backend;
    gboolean ok = FALSE;

    g_return_val_if_fail(nic != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    nl = vnic_host_nl_open(error);
    if (!nl)
        return NULL;
    backend = backend_new();
    switch (vnic_conf_nic_backend_type(nic)) {
    case VNIC_CONF_NIC_ETHERNET:
    case VNIC_CONF_NIC_BRIDGE:
        ok = vnic_host_tap_setup(backend, nl, nic, error);
        break;
    case VNIC_CONF_NIC_DIRECT:
        ok = vnic_host_macvtap_setup(backend, nl, nic, error);
        break;
    default:
        g_set_error(error, VNIC_HOST_ERROR, VNIC_HOST_ERROR_INVALID,
                    "<interface type='%s'> has no host link%s",
                    vnic_conf_nic_type_name(nic->type),
                    nic->type == VNIC_CONF_NIC_NETWORK ? " until its network is resolved" : "");
        break;
    }
    if (ok)
        ok = vnic_host_bandwidth_apply(nl, backend, nic, error);
    if (!ok && backend->unmanaged) {
        /* never delete a tap that is not ours: only close our queues */
        vnic_host_link_free(g_steal_pointer(&backend->link));
    }
    if (!ok) {
        backend_rollback(backend);
        return NULL;
    }
    return backend;
}

const VnicHostLink *
vnic_host_backend_get_ifb(const VnicHostBackend *backend)
{
    g_return_val_if_fail(backend != NULL, NULL);
    return backend->ifb;
}

gboolean
vnic_host_backend_is_owned(const VnicHostBackend *backend)
{
    g_return_val_if_fail(backend != NULL, FALSE);
    return !backend->unmanaged;
}

const VnicHostLink *
vnic_host_backend_get_link(const VnicHostBackend *backend)
{
    g_return_val_if_fail(backend != NULL, NULL);
    return backend->link;
}

const int *
vnic_host_backend_get_fds(const VnicHostBackend *backend, guint *n_fds)
{
    g_return_val_if_fail(backend != NULL, NULL);
    if (n_fds)
        *n_fds = backend->fds->len;
    return (const int *)(gpointer)backend->fds->data;
}

int *
vnic_host_backend_steal_fds(VnicHostBackend *backend, guint *n_fds)
{
    gsize len = 0;
    int *fds;

    g_return_val_if_fail(backend != NULL, NULL);
    fds = g_array_steal(backend->fds, &len);
    if (n_fds)
        *n_fds = (guint)len;
    return fds;
}
