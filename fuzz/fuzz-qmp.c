/* fuzz-qmp.c: libFuzzer harness for the QMP reader: bytes from QEMU cut
 * into lines as the client cuts them, each line through
 * vnic_qmp_parse_message().  A QEMU gone bad (it runs the guest's device
 * models) must not be able to crash vnicd. */
#include "qemu/qmp-client-priv.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;

    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        gsize len = (nl ? nl + 1 : end) - p;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) msg = vnic_qmp_parse_message(p, len, &error);

        g_assert((msg == NULL) != (error == NULL));
        if (msg)
            (void)vnic_qmp_member_string(msg, "event");
        p += len;
    }
    return 0;
}
