/* e2e-xml.h: test copies of the example domains (examples/NAME.xml). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *name;         /* unique: "<example name>-<pid>[-<tag>]" */
    char *uuid;         /* a fresh random one */
    char *dir;          /* this domain's temp dir */
    char *xml_path;     /* DIR/domain.xml: the test copy */
    char *xml;          /* its text */
    char *serial_path;  /* DIR/serial.sock: the guest's serial console */
    char *disk_path;    /* DIR/disk.img: its own 4 MiB sparse disk */
} E2eDomainXml;

/* Reads `example` (relative to the source root unless absolute) and writes a
 * test copy to a new temp dir:
 *   - <name> made unique (with `tag` when not NULL), a random <uuid>;
 *   - <kernel>, <initrd>: absolute, from e2e_guest_dir() (same file names);
 *   - every <disk type='file'> source naming a file: DIR/disk.img, the domain's
 *     own sparse file (QEMU locks images, so two guests cannot share
 *     build/guest/disk.img); an empty <source file=''/> (no medium) is kept;
 *   - " vnic.echo=0" appended to <cmdline>;
 *   - every <serial> and <console> replaced by one
 *     <serial type='unix'><source mode='bind' path='DIR/serial.sock'/><target port='0'/></serial>.
 * Everything else is kept as it is. */
E2eDomainXml *e2e_xml_prepare(const char *example, const char *tag, GError **error);
void e2e_domain_xml_free(E2eDomainXml *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eDomainXml, e2e_domain_xml_free)

G_END_DECLS
