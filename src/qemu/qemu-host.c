/* qemu-host.c: the small host facts the launcher needs.
 *
 * Owns: user lookup, which ids processes run with (/proc), the KVM probe, process identity (/proc/PID/stat start
 * time, pidfds), QEMU's log tail for error messages and the removal of
 * files vnic created.  Each function is a few syscalls, reports errno text
 * through GError and keeps no state.
 */
#include "qemu/qemu-process-priv.h"
#include "qemu/qemu-id-pool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pwd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

gboolean
vnic_qemu_lookup_user(const char *name, uid_t *uid, gid_t *gid, GError **error)
{
    struct passwd pw, *found = NULL;
    char buf[4096];
    int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &found);

    if (found == NULL) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_HOST,
                    "cannot look up user '%s': %s", name,
                    rc != 0 ? g_strerror(rc) : "no such user (scripts/deps.sh creates vnic-qemu)");
        return FALSE;
    }
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    return TRUE;
}

/* Adds the ids of one "Uid:" or "Gid:" line (real, effective, saved,
 * filesystem) that lie in @first..@last to @busy. */
static void
add_status_ids(GHashTable *busy, const char *values, guint32 first, guint32 last)
{
    g_auto(GStrv) ids = g_strsplit_set(values, " \t", -1);

    for (guint i = 0; ids[i] != NULL; i++) {
        guint64 id;

        if (g_ascii_string_to_unsigned(ids[i], 10, first, last, &id, NULL))
            g_hash_table_add(busy, GUINT_TO_POINTER((guint32) id));
    }
}

GHashTable *
vnic_qemu_ids_in_use(guint32 first, guint32 last)
{
    GHashTable *busy = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *name;

    while (proc != NULL && (name = g_dir_read_name(proc)) != NULL) {
        g_autofree char *path = NULL, *text = NULL;
        g_auto(GStrv) lines = NULL;

        if (!g_ascii_isdigit(name[0]))
            continue;
        path = g_build_filename("/proc", name, "status", NULL);
        if (!g_file_get_contents(path, &text, NULL, NULL))
            continue; /* gone meanwhile */
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
            /* a zombie runs nothing: a destroyed QEMU its parent has not
             * reaped yet (a re-attached one is init's child) */
            if (g_str_has_prefix(lines[i], "State:\tZ"))
                break;
            if (g_str_has_prefix(lines[i], "Uid:") || g_str_has_prefix(lines[i], "Gid:"))
                add_status_ids(busy, lines[i] + 4, first, last);
        }
    }
    return busy;
}

/* ---- KVM ----------------------------------------------------------------- */

static gboolean
kvm_fail(GError **error, const char *what, int err)
{
    g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_KVM,
                "<domain type='kvm'> cannot run here: %s%s%s; use <domain type='qemu'> "
                "(TCG) instead", what, err != 0 ? ": " : "", err != 0 ? g_strerror(err) : "");
    return FALSE;
}

/* TRUE when KVM's CPU model offers SSE3 (CPUID.01H:ECX bit 0). */
static gboolean
kvm_has_sse3(int kvm)
{
    guint n = 64;

    for (guint attempt = 0; attempt < 4; attempt++, n *= 4) {
        g_autofree struct kvm_cpuid2 *cpuid =
            g_malloc0(sizeof(*cpuid) + n * sizeof(struct kvm_cpuid_entry2));

        cpuid->nent = n;
        if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
            if (errno == E2BIG)
                continue;
            return FALSE;
        }
        for (guint i = 0; i < cpuid->nent; i++) {
            if (cpuid->entries[i].function == 1 && cpuid->entries[i].index == 0)
                return (cpuid->entries[i].ecx & 1) != 0;
        }
        return FALSE;
    }
    return FALSE;
}

gboolean
vnic_qemu_check_kvm(GError **error)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int version, vm, err;
    gboolean sse3;

    if (kvm < 0)
        return kvm_fail(error, "cannot open /dev/kvm", errno);
    version = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        err = version < 0 ? errno : 0;
        close(kvm);
        return kvm_fail(error, "KVM_GET_API_VERSION does not return 12", err);
    }
    vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) {
        err = errno;
        close(kvm);
        return kvm_fail(error, "KVM_CREATE_VM fails", err);
    }
    close(vm);
    sse3 = kvm_has_sse3(kvm);
    close(kvm);
    if (!sse3)
        return kvm_fail(error, "KVM offers a CPU without SSE3, a nested KVM that hangs guests "
                        "once they leave real mode", 0);
    return TRUE;
}

/* ---- processes --------------------------------------------------------------- */

guint64
vnic_qemu_proc_start_time(GPid pid, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int) pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    const char *paren;
    guint64 start = 0;

    if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL) ||
        (paren = strrchr(text, ')')) == NULL) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_GONE, "there is no process %d",
                    (int) pid);
        return 0;
    }
    /* fields after "(comm)": state is field 3, starttime field 22 */
    fields = g_strsplit(g_strstrip((char *) paren + 1), " ", 21);
    if (g_strv_length(fields) < 20 ||
        !g_ascii_string_to_unsigned(fields[19], 10, 1, G_MAXUINT64, &start, NULL)) {
        g_set_error(error, VNIC_QEMU_ERROR, VNIC_QEMU_ERROR_GONE,
                    "cannot read the start time of process %d", (int) pid);
        return 0;
    }
    return start;
}

int
vnic_qemu_pidfd_open(GPid pid)
{
    return (int) syscall(SYS_pidfd_open, (pid_t) pid, 0);
}

int
vnic_qemu_pidfd_send_signal(int pidfd, int sig)
{
    return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

gboolean
vnic_qemu_pidfd_exited(int pidfd)
{
    struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

    return poll(&pfd, 1, 0) > 0;
}

char *
vnic_qemu_exit_describe(const VnicQemuExit *exit)
{
    if (!exit->known)
        return g_strdup("exited");
    if (exit->signaled)
        return g_strdup_printf("was killed by signal %d (%s)", exit->code,
                               g_strsignal(exit->code));
    return g_strdup_printf("exited with status %d", exit->code);
}

/* ---- files ------------------------------------------------------------------ */

#define LOG_TAIL_BYTES 2048

char *
vnic_qemu_log_tail(const char *path, gint64 start)
{
    int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    g_autoptr(GString) out = g_string_new(NULL);
    g_auto(GStrv) lines = NULL;
    struct stat st;
    char buf[LOG_TAIL_BYTES + 1];
    gint64 from;
    ssize_t n;
    char *text;

    if (fd < 0)
        return g_strdup("");
    if (fstat(fd, &st) < 0 || st.st_size <= start) {
        close(fd);
        return g_strdup("");
    }
    from = MAX(start, (gint64) st.st_size - LOG_TAIL_BYTES);
    n = pread(fd, buf, LOG_TAIL_BYTES, from);
    close(fd);
    if (n <= 0)
        return g_strdup("");
    buf[n] = '\0';
    text = buf;
    if (from > start && strchr(text, '\n') != NULL)
        text = strchr(text, '\n') + 1; /* a cut-off first line says nothing */
    lines = g_strsplit(g_strstrip(text), "\n", -1);
    for (guint i = 0; *text != '\0' && lines[i] != NULL; i++)
        g_string_append_printf(out, "\n  %s", lines[i]);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

void
vnic_qemu_owned_remove(GPtrArray *owned)
{
    for (guint i = 0; owned != NULL && i < owned->len; i++) {
        const VnicQemuOwnedFile *file = g_ptr_array_index(owned, i);
        struct stat st;

        if (lstat(file->path, &st) < 0)
            continue;
        if (file->ino != 0 && ((guint64) st.st_dev != file->dev || (guint64) st.st_ino != file->ino))
            continue; /* someone else's file by now: not ours to remove */
        if (unlink(file->path) < 0)
            g_debug("cannot remove %s: %s", file->path, g_strerror(errno));
    }
}

void
vnic_qemu_remove_paths(const char *const *paths)
{
    for (guint i = 0; paths != NULL && paths[i] != NULL; i++) {
        if (unlink(paths[i]) < 0 && errno != ENOENT)
            g_debug("cannot remove %s: %s", paths[i], g_strerror(errno));
    }
}
