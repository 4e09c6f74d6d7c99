/* fuzz-interface.c: libFuzzer harness for the <interface> parser
 * (attach-device's input).  The first byte chooses the domain it is parsed
 * for: none, a pc or a q35 domain with NICs (conflict checks). */
#include "conf/conf-domain.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const domains[] = {
    "<domain type='qemu'><name>p</name><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
    "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
    "<acpi index='3'/><alias name='ua-net'/></interface></devices></domain>",
    "<domain type='qemu'><name>q</name><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
    "<interface type='bridge'><source bridge='br0'/><mac address='52:54:00:00:00:02'/>"
    "<model type='virtio'/></interface></devices></domain>",
};

static VnicConfDomain *
domain_for(uint8_t choice)
{
    static VnicConfDomain *parsed[G_N_ELEMENTS(domains)];
    guint i = choice % (G_N_ELEMENTS(domains) + 1);

    if (i == 0)
        return NULL;
    if (!parsed[i - 1])
        parsed[i - 1] = vnic_conf_domain_parse(domains[i - 1], strlen(domains[i - 1]), NULL);
    g_assert(parsed[i - 1] != NULL);
    return parsed[i - 1];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    VnicConfDevice *dev;
    const VnicConfDomain *def;

    if (size < 1)
        return 0;
    def = domain_for(data[0]);
    dev = vnic_conf_interface_parse(def, (const char *)data + 1, size - 1, &error);
    if (!dev) {
        g_assert(error != NULL);
        return 0;
    }
    g_free(vnic_conf_device_format(dev, VNIC_CONF_FORMAT_STATUS));
    vnic_conf_device_free(dev);
    return 0;
}
