/* fuzz-domain.c: libFuzzer harness for the domain XML parser.
 *
 * Any bytes: vnic_conf_domain_parse() either fails with a GError or
 * returns a domain that formats and parses again (dumpxml's output is
 * define's input; vnicd's dumpxml re-parses its own output).  Leaks,
 * crashes, sanitizer reports and a failed re-parse are the findings. */
#include "conf/conf-domain.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VnicConfDomain) def = vnic_conf_domain_parse((const char *)data, size, &error);
    g_autofree char *status = NULL, *inactive = NULL;
    g_autoptr(VnicConfDomain) again = NULL;

    if (!def) {
        g_assert(error != NULL);
        return 0;
    }
    status = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_STATUS);
    inactive = vnic_conf_domain_format(def, VNIC_CONF_FORMAT_INACTIVE | VNIC_CONF_FORMAT_MIGRATABLE);
    again = vnic_conf_domain_parse(status, strlen(status), &error);
    if (!again)
        g_error("a parsed domain does not parse once formatted: %s\n%s", error->message, status);
    (void)inactive;
    return 0;
}
