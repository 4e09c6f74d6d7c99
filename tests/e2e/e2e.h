/* e2e.h: the vnic end-to-end test harness (everything in tests/e2e).
 *
 *   e2e-env      start-up (namespaces, guard, skip policy), paths, temp dirs,
 *                processes
 *   e2e-netns    the private network namespace, a peer namespace beside it
 *   e2e-cmd      child processes and commands with timeouts
 *   e2e-json     JSON-lines sockets, the vnicd API call
 *   e2e-console  the guest's serial console
 *   e2e-guest    guest NICs and their udev names, over the console
 *   e2e-qemu     the guest under plain QEMU, minimal QMP (self-test)
 *   e2e-daemon   vnicd under test, the vnic CLI
 *   e2e-xml      test copies of examples/NAME.xml
 */
#pragma once

#include "e2e-env.h"
#include "e2e-netns.h"
#include "e2e-cmd.h"
#include "e2e-json.h"
#include "e2e-console.h"
#include "e2e-guest.h"
#include "e2e-qemu.h"
#include "e2e-daemon.h"
#include "e2e-xml.h"

/* For test functions: fail the current test with a message and return. */
#define E2E_CHECK(cond, ...)                     \
    do {                                         \
        if (!(cond)) {                           \
            g_test_fail_printf(__VA_ARGS__);     \
            return;                              \
        }                                        \
    } while (0)

/* Fails the current test and returns when `error` is set. */
#define E2E_CHECK_NO_ERROR(error, what)                                               \
    do {                                                                              \
        if ((error) != NULL) {                                                        \
            g_test_fail_printf("%s: %s", (what), (error)->message);                   \
            return;                                                                   \
        }                                                                             \
    } while (0)
