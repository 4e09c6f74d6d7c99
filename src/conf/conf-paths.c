/* conf-paths.c: relative file paths of a definition made absolute.
 *
 * A client reads a domain file in its own working directory; a daemon that
 * receives the definition has another one.  Before handing it over, the
 * client anchors every modeled path (kernel, initrd, disk sources, character
 * device source paths) at its own directory.
 *
 * Pure: the base directory comes from the caller and the paths are resolved
 * textually (g_canonicalize_filename); no file is looked at, so a symlinked
 * ".." is resolved as written, the way a shell user reads it.
 */
#include "conf/conf-priv.h"

/* Replaces *@path by its absolute form when it is set and relative. */
static void
absolutize(char **path, const char *base_dir)
{
    char *abs;

    if (*path == NULL || **path == '\0' || g_path_is_absolute(*path))
        return;
    abs = g_canonicalize_filename(*path, base_dir);
    g_free(*path);
    *path = abs;
}

void
vnic_conf_domain_absolutize_paths(VnicConfDomain *def, const char *base_dir)
{
    g_return_if_fail(def != NULL);
    g_return_if_fail(base_dir != NULL && g_path_is_absolute(base_dir));

    absolutize(&def->kernel, base_dir);
    absolutize(&def->initrd, base_dir);
    for (guint i = 0; i < def->devices->len; i++) {
        VnicConfDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->disk != NULL)
            absolutize(&dev->disk->source_file, base_dir);
        absolutize(&dev->source_path, base_dir);
    }
}
