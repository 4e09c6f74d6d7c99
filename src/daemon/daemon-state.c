/* daemon-state.c: what vnicd keeps on disk, and reading it back.
 *
 * Config: <state-dir>/domains/NAME.xml, the planned definition in inactive
 * form.  Status: <run-dir>/domains/NAME.xml while the domain runs:
 *
 *   <domstatus state='running' uid='…' gid='…' pid='…' starttime='…' qmp='…'>
 *     <link name='vnet0' ifindex='7' kind='tap' alias='net0'/>   (the ledger)
 *     <nic alias='net0' state='plugged' carrier='up' admin='up'/> (daemon-nic.h)
 *     <migration role='source' phase='stream' peer='…' persistent='no'/> (daemon-migrate.h)
 *     <domain …> the live definition, status form </domain>
 *   </domstatus>
 *
 * The status is written before QEMU is launched (state 'starting', with the
 * links already created) so a daemon killed at any moment leaves a record
 * of everything it owns.  Files are replaced atomically: a reader sees the
 * old or the new content, never half.
 */
#include "daemon/daemon-lifecycle.h"
#include "daemon/daemon-migrate.h"
#include "daemon/daemon-nic.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>

static char *
config_path(VnicDaemon *daemon, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(daemon->opts.state_dir, "domains", file, NULL);
}

static char *
status_path(VnicDomain *dom)
{
    g_autofree char *file = g_strconcat(dom->name, ".xml", NULL);
    return g_build_filename(dom->daemon->opts.run_dir, "domains", file, NULL);
}

char *
vnic_state_domain_run_dir(VnicDomain *dom)
{
    return g_build_filename(dom->daemon->opts.run_dir, "domains", dom->name, NULL);
}

char *
vnic_state_log_path(VnicDomain *dom)
{
    g_autofree char *file = g_strconcat(dom->name, ".log", NULL);
    return g_build_filename(dom->daemon->opts.run_dir, "logs", file, NULL);
}

/* The temp file beside @path, in @tmp (…XXXXXX, filled in), or -1 with
 * errno.  Its dir is made (0700) only when it is missing: it nearly always
 * exists, and making sure first cost a mkdir() and a stat() per status
 * write. */
static int
open_temp(const char *path, char *tmp)
{
    g_autofree char *dir = NULL;
    gsize n = strlen(tmp);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);

    if (fd >= 0 || errno != ENOENT)
        return fd;
    dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) < 0)
        return -1;
    memcpy(tmp + n - 6, "XXXXXX", 6); /* the failed try may have filled it in */
    return g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
}

/* Replaces @path with @text atomically: a temp file beside it
 * (PATH.XXXXXX), renamed over it, so a reader sees the old or the new
 * content, never half.  @durable: fsync()ed before the rename, so once
 * vnicd replies, the content survives the machine going down (as
 * libvirt's config writes: the rename itself reaches the disk with the
 * filesystem's next commit).
 *
 * Not g_file_set_contents_full(): it fallocate()s every file first (and
 * fsyncs a file that already exists even without _DURABLE), which made a
 * durable config write 0.50 ms instead of 0.35 ms on this machine's disk.
 *
 * A status file guards against vnicd being killed, not against the machine
 * going down: once rename() returned, every later reader (vnicd restarted)
 * sees the new content, fsync or not.  A machine that goes down takes the
 * QEMUs and the links the file speaks of with it (the run dir is meant to
 * be a tmpfs, /run/vnic), and a status file torn by that is skipped at
 * start-up.  So status files are not durable: on a run dir on disk the
 * fsync cost 0.4 ms median, up to 5 ms under load, twice per attach before
 * QEMU hears of the NIC (docs/performance.md "Hot-plug against QEMU's
 * floor"). */
static gboolean
replace_file(const char *path, const char *text, gboolean durable, GError **error)
{
    g_autofree char *tmp = g_strconcat(path, ".XXXXXX", NULL);
    gsize len = strlen(text), done = 0;
    int fd, err = 0;

    if ((fd = open_temp(path, tmp)) < 0) {
        err = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "writing %s: %s", path,
                    g_strerror(err));
        return FALSE;
    }
    while (done < len && err == 0) {
        gssize n = write(fd, text + done, len - done);
        if (n < 0 && errno != EINTR)
            err = errno;
        else if (n > 0)
            done += (gsize)n;
    }
    if (err == 0 && durable && fsync(fd) < 0)
        err = errno;
    if (close(fd) < 0 && err == 0)
        err = errno;
    if (err == 0 && rename(tmp, path) < 0)
        err = errno;
    if (err != 0) {
        g_unlink(tmp);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "writing %s: %s", path,
                    g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

gboolean
vnic_state_write_file(const char *path, const char *text, GError **error)
{
    return replace_file(path, text, TRUE, error);
}

static gboolean
write_run_file(const char *path, const char *text, GError **error)
{
    return replace_file(path, text, FALSE, error);
}

gboolean
vnic_state_write_config(VnicDaemon *daemon, VnicDomain *dom, GError **error)
{
    g_autofree char *path = config_path(daemon, dom->name);
    g_autofree char *xml = vnic_conf_domain_format(dom->config, VNIC_CONF_FORMAT_INACTIVE);

    vnic_domain_config_changed(dom);
    if (!vnic_state_write_file(path, xml, error))
        return FALSE; /* the caller puts the old config back, or keeps the new one */
    dom->config_xml = g_steal_pointer(&xml); /* dumpxml --inactive serves it */
    return TRUE;
}

void
vnic_state_remove_config(VnicDaemon *daemon, const char *name)
{
    g_autofree char *path = config_path(daemon, name);
    g_unlink(path);
}

void
vnic_state_append_attr(GString *s, const char *name, const char *value)
{
    /* g_markup_escape_text() leaves \n, \r and \t as they are, and the XML
     * reader normalizes them to spaces in an attribute: a path or name
     * holding one would come back as another after a restart */
    g_autofree char *escaped = vnic_conf_xml_escape_attr(value ? value : "");

    g_string_append_printf(s, " %s='%s'", name, escaped);
}

gboolean
vnic_state_write_status(VnicDomain *dom, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *path = status_path(dom);
    g_autofree char *xml = vnic_conf_domain_format(dom->live, VNIC_CONF_FORMAT_STATUS);

    g_string_append_printf(s, "<domstatus state='%s'", vnic_domain_state_to_string(dom->state));
    if (dom->has_qemu_ids) /* before QEMU starts: a restart knows they are taken */
        g_string_append_printf(s, " uid='%u' gid='%u'", (guint)dom->qemu_uid,
                               (guint)dom->qemu_gid);
    vnic_state_append_process_attrs(s, dom);
    g_string_append(s, ">\n");
    vnic_state_append_owned(s, dom);
    for (guint i = 0; i < dom->links->len; i++) {
        const VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
        g_autofree char *ifindex = g_strdup_printf("%u", o->link->ifindex);

        g_string_append(s, "  <link");
        vnic_state_append_attr(s, "name", o->link->name);
        vnic_state_append_attr(s, "ifindex", ifindex);
        vnic_state_append_attr(s, "kind", vnic_host_link_kind_to_string(o->link->kind));
        vnic_state_append_attr(s, "alias", o->alias);
        g_string_append(s, "/>\n");
    }
    vnic_state_append_nics(s, dom);
    vnic_migrate_append_status(s, dom);
    g_string_append(s, xml);
    g_string_append(s, "</domstatus>\n");
    return write_run_file(path, s->str, error);
}

void
vnic_state_remove_status(VnicDomain *dom)
{
    g_autofree char *path = status_path(dom);
    g_autofree char *dir = vnic_state_domain_run_dir(dom);

    g_unlink(path);
    g_rmdir(dir);
}

static VnicConfDomain *
load_config_file(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    gsize len;
    VnicConfDomain *def;

    if (!g_file_get_contents(path, &text, &len, error))
        return NULL;
    def = vnic_conf_domain_parse(text, len, error);
    if (!def)
        g_prefix_error(error, "%s: ", path);
    return def;
}

/* replace_file() writes NAME.xml.XXXXXX beside NAME.xml and renames it
 * over: a vnicd killed between the two leaves the temp file behind, for ever.  Only vnicd writes these dirs and
 * it is starting, so any such file is stale. */
static void
remove_stale_temp_files(const char *base, const char *sub)
{
    g_autofree char *dir_path = g_build_filename(base, sub, NULL);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *file;

    while (dir && (file = g_dir_read_name(dir))) {
        const char *dot = g_strrstr(file, ".xml.");
        g_autofree char *path = NULL;

        if (!dot || strlen(dot) != strlen(".xml.XXXXXX"))
            continue;
        path = g_build_filename(dir_path, file, NULL);
        g_message("removing %s, left by a vnicd killed while writing it", path);
        g_unlink(path);
    }
}

/* Reads every config, then re-attaches to or cleans up after every domain
 * that has a status file.  A broken file is skipped with a warning; the
 * daemon still starts. */
gboolean
vnic_state_load(VnicDaemon *daemon, GError **error)
{
    g_autofree char *dir_path = g_build_filename(daemon->opts.state_dir, "domains", NULL);
    g_autoptr(GDir) dir = NULL;
    const char *file;

    remove_stale_temp_files(daemon->opts.state_dir, "domains");
    remove_stale_temp_files(daemon->opts.run_dir, "domains");
    remove_stale_temp_files(daemon->opts.state_dir, "networks");
    remove_stale_temp_files(daemon->opts.run_dir, "networks");
    /* networks first: autostart ones are active before any guest re-attaches */
    if (!vnic_networks_load(daemon, error))
        return FALSE;
    if (g_mkdir_with_parents(dir_path, 0700) < 0 ||
        !(dir = g_dir_open(dir_path, 0, error)))
        return FALSE;
    while ((file = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(dir_path, file, NULL);
        g_autoptr(GError) local = NULL;
        VnicConfDomain *def;

        if (!g_str_has_suffix(file, ".xml"))
            continue;
        if (!(def = load_config_file(path, &local))) {
            g_warning("ignoring domain config: %s", local->message);
            continue;
        }
        g_hash_table_insert(daemon->domains, g_strdup(def->name), vnic_domain_new(daemon, def));
    }
    vnic_state_load_status(daemon);
    return TRUE;
}
