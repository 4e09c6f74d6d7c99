/* e2e-guest.c: guest NICs and the names udev's net_id builtin gives them,
 * read over the console with one shell command.
 */
#include "e2e-guest.h"
#include "e2e-env.h"

#include <string.h>

#include <gio/gio.h>

/* Prints "@@IF NAME MAC" per interface, then net_id's ID_NET_* lines. */
#define LIST_NICS                                                                         \
    "for i in /sys/class/net/*; do n=${i##*/}; [ \"$n\" = lo ] && continue; "            \
    "echo \"@@IF $n $(cat $i/address)\"; udevadm test-builtin net_id $i 2>/dev/null; done"

void
e2e_guest_nic_free(E2eGuestNic *nic)
{
    if (nic == NULL)
        return;
    g_free(nic->ifname);
    g_free(nic->mac);
    g_free(nic->onboard);
    g_free(nic->slot);
    g_free(nic->path);
    g_free(nic);
}

GPtrArray *
e2e_guest_nics(E2eConsole *console, GError **error)
{
    g_autofree char *out = NULL;
    if (!e2e_console_run(console, LIST_NICS, 30, &out, NULL, error))
        return NULL;
    g_autoptr(GPtrArray) nics = g_ptr_array_new_with_free_func((GDestroyNotify)e2e_guest_nic_free);
    E2eGuestNic *cur = NULL;
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        char *line = g_strstrip(*l);
        if (g_str_has_prefix(line, "@@IF ")) {
            g_auto(GStrv) w = g_strsplit(line + 5, " ", 3);
            if (g_strv_length(w) < 2) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad line from the guest: '%s'", line);
                return NULL;
            }
            cur = g_new0(E2eGuestNic, 1);
            cur->ifname = g_strdup(w[0]);
            cur->mac = g_ascii_strdown(w[1], -1);
            g_ptr_array_add(nics, cur);
            continue;
        }
        const char *eq = strchr(line, '=');
        if (cur == NULL || eq == NULL)
            continue;
        char **field = g_str_has_prefix(line, "ID_NET_NAME_ONBOARD=") ? &cur->onboard
                       : g_str_has_prefix(line, "ID_NET_NAME_SLOT=")  ? &cur->slot
                       : g_str_has_prefix(line, "ID_NET_NAME_PATH=")  ? &cur->path
                                                                       : NULL;
        if (field != NULL) {
            g_free(*field);
            *field = g_strdup(eq + 1);
        }
    }
    return g_steal_pointer(&nics);
}

const E2eGuestNic *
e2e_guest_nics_find_mac(GPtrArray *nics, const char *mac)
{
    for (guint i = 0; nics != NULL && i < nics->len; i++) {
        const E2eGuestNic *n = g_ptr_array_index(nics, i);
        if (g_ascii_strcasecmp(n->mac, mac) == 0)
            return n;
    }
    return NULL;
}

const char *
e2e_guest_nic_preferred(const E2eGuestNic *nic)
{
    if (nic->onboard != NULL)
        return nic->onboard;
    if (nic->slot != NULL)
        return nic->slot;
    return nic->path;
}

gboolean
e2e_guest_run_ok(E2eConsole *console, const char *cmd, double timeout_s, char **out,
                 GError **error)
{
    int status = -1;

    if (!e2e_console_run(console, cmd, timeout_s, out, &status, error))
        return FALSE;
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "guest: `%s` exited %d", cmd, status);
        return FALSE;
    }
    return TRUE;
}

char *
e2e_guest_ifname(E2eConsole *console, const char *mac, double timeout_s, GError **error)
{
    gint64 deadline = e2e_deadline(timeout_s);

    do {
        g_autoptr(GPtrArray) nics = e2e_guest_nics(console, error);
        const E2eGuestNic *nic = nics != NULL ? e2e_guest_nics_find_mac(nics, mac) : NULL;

        if (nics == NULL)
            return NULL;
        if (nic != NULL)
            return g_strdup(nic->ifname);
        g_usleep(500 * 1000);
    } while (e2e_ms_left(deadline) > 0);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no guest NIC with MAC %s", mac);
    return NULL;
}

char *
e2e_guest_slot_at(const char *slots, const char *bus_slot)
{
    g_auto(GStrv) lines = g_strsplit(slots, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        g_auto(GStrv) f = g_strsplit(g_strstrip(*l), " ", 2);
        if (g_strv_length(f) == 2 && strcmp(f[1], bus_slot) == 0)
            return g_strdup(f[0]);
    }
    return NULL;
}
