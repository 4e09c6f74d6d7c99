/* qemu-runtime.c: the qemu layer's error domain and VnicQemuRuntime, the
 * table of fds one QEMU gets.
 *
 * Owns the runtime's data: for each device the child-side numbers (handed
 * out 3, 4, … in the order fds are added, so the argv builder can name
 * them before anything is spawned) and the parent-side fds it was given.
 * Invariants: a parent fd is owned by exactly one entry until
 * qemu-process hands it to the launcher (then -1); freeing closes what is
 * still owned and never touches a file on disk.  No I/O besides close().
 */
#include "qemu/qemu-command-priv.h"

#include <unistd.h>

G_DEFINE_QUARK(vnic-qemu-error-quark, vnic_qemu_error)

static const char *const error_names[] = {
    [VNIC_QEMU_ERROR_UNSUPPORTED] = "unsupported",
    [VNIC_QEMU_ERROR_INVALID] = "invalid",
    [VNIC_QEMU_ERROR_KVM] = "kvm",
    [VNIC_QEMU_ERROR_HOST] = "host",
    [VNIC_QEMU_ERROR_START] = "start",
    [VNIC_QEMU_ERROR_VERIFY] = "verify",
    [VNIC_QEMU_ERROR_GONE] = "gone",
};

const char *
vnic_qemu_error_code_to_string(VnicQemuErrorCode code)
{
    if ((guint) code >= G_N_ELEMENTS(error_names))
        return NULL;
    return error_names[code];
}

gboolean
vnic_qemu_error_code_from_string(const char *name, VnicQemuErrorCode *code)
{
    for (guint i = 0; i < G_N_ELEMENTS(error_names); i++) {
        if (g_strcmp0(name, error_names[i]) == 0) {
            *code = (VnicQemuErrorCode) i;
            return TRUE;
        }
    }
    return FALSE;
}

static void
fd_entry_free(VnicQemuFdEntry *entry)
{
    for (guint i = 0; i < entry->n_fds; i++) {
        if (entry->parent_fds[i] >= 0)
            close(entry->parent_fds[i]);
    }
    g_free(entry->child_fds);
    g_free(entry->parent_fds);
    g_free(entry);
}

void
vnic_qemu_owned_file_free(VnicQemuOwnedFile *file)
{
    if (file == NULL)
        return;
    g_free(file->path);
    g_free(file);
}

VnicQemuRuntime *
vnic_qemu_runtime_new(void)
{
    VnicQemuRuntime *rt = g_new0(VnicQemuRuntime, 1);

    rt->entries = g_ptr_array_new_with_free_func((GDestroyNotify) fd_entry_free);
    rt->owned = g_ptr_array_new_with_free_func((GDestroyNotify) vnic_qemu_owned_file_free);
    rt->next_child_fd = 3;
    rt->log_fd = -1;
    return rt;
}

void
vnic_qemu_runtime_free(VnicQemuRuntime *rt)
{
    if (rt == NULL)
        return;
    g_ptr_array_unref(rt->entries);
    g_ptr_array_unref(rt->owned);
    if (rt->log_fd >= 0)
        close(rt->log_fd);
    g_free(rt->qmp_path);
    g_free(rt->log_path);
    g_free(rt);
}

gboolean
vnic_qemu_fd_kind_is_domain(VnicQemuFdKind kind)
{
    return kind == VNIC_QEMU_FD_MONITOR || kind == VNIC_QEMU_FD_KERNEL ||
           kind == VNIC_QEMU_FD_INITRD || kind == VNIC_QEMU_FD_LOADER ||
           kind == VNIC_QEMU_FD_NVRAM;
}

static VnicQemuFdEntry *
find_entry(const VnicQemuRuntime *rt, const VnicConfDevice *dev, VnicQemuFdKind kind)
{
    for (guint i = 0; i < rt->entries->len; i++) {
        VnicQemuFdEntry *entry = g_ptr_array_index(rt->entries, i);

        if (entry->dev == dev && entry->kind == kind)
            return entry;
    }
    return NULL;
}

int
vnic_qemu_runtime_add_fds(VnicQemuRuntime *rt, const VnicConfDevice *dev, VnicQemuFdKind kind,
                          int *fds, guint n_fds)
{
    VnicQemuFdEntry *entry;

    g_return_val_if_fail(rt != NULL, -1);
    g_return_val_if_fail(n_fds > 0, -1);
    g_return_val_if_fail((dev == NULL) == vnic_qemu_fd_kind_is_domain(kind), -1);
    g_return_val_if_fail(find_entry(rt, dev, kind) == NULL, -1);

    entry = g_new0(VnicQemuFdEntry, 1);
    entry->dev = dev;
    entry->kind = kind;
    entry->n_fds = n_fds;
    entry->child_fds = g_new(int, n_fds);
    entry->parent_fds = g_new(int, n_fds);
    for (guint i = 0; i < n_fds; i++) {
        entry->child_fds[i] = rt->next_child_fd++;
        entry->parent_fds[i] = fds != NULL ? fds[i] : -1;
        if (fds != NULL)
            fds[i] = -1;
    }
    g_ptr_array_add(rt->entries, entry);
    return entry->child_fds[0];
}

const int *
vnic_qemu_runtime_get_child_fds(const VnicQemuRuntime *rt, const VnicConfDevice *dev,
                                VnicQemuFdKind kind, guint *n_fds)
{
    VnicQemuFdEntry *entry;

    g_return_val_if_fail(rt != NULL && n_fds != NULL, NULL);

    entry = find_entry(rt, dev, kind);
    *n_fds = entry != NULL ? entry->n_fds : 0;
    return entry != NULL ? entry->child_fds : NULL;
}
