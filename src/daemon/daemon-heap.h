/* daemon-heap.h: handing the heap that bulk frees left back to the kernel. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Called where much memory was just freed (a domain undefined, a running
 * domain's live state dropped): a malloc_trim() soon after, once for a
 * burst of them. */
void vnic_daemon_trim_heap_soon(void);

G_END_DECLS
