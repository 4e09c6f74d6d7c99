/* test-qemu-helpers.h: shared helpers of the argv, verification and
 * process tests: loading and planning domains, describing runtimes,
 * running the main loop with a deadline. */
#pragma once

#include "pci/pci-plan.h"
#include "qemu/qemu-command-priv.h"
#include "qemu/qemu-process.h"

G_BEGIN_DECLS

/* Parses @xml and plans it (nic-first); fails the test on any error. */
VnicConfDomain *tq_parse(const char *xml);
/* examples/<name> from the source tree, parsed and planned. */
VnicConfDomain *tq_load_example(const char *name);
/* The @n-th (0-based) device of @kind. */
VnicConfDevice *tq_nth(const VnicConfDomain *def, VnicConfDeviceKind kind, guint n);

/* A describing runtime (child numbers only) in the order prepare() uses:
 * the monitor, then unix/file chardevs and disks in document order, then
 * each NIC's taps (one per queue). */
VnicQemuRuntime *tq_describe_runtime(const VnicConfDomain *def);

/* argv, one argument per line. */
char *tq_argv_lines(const VnicQemuCommand *cmd);
/* TRUE when some argument equals @arg. */
gboolean tq_argv_has(const VnicQemuCommand *cmd, const char *arg);
/* The argument following the first @option whose value contains @needle. */
const char *tq_argv_find(const VnicQemuCommand *cmd, const char *option, const char *needle);

/* Builds and asserts failure with @domain/@code and a message containing
 * @needle. */
void tq_assert_build_fails(const VnicConfDomain *def, VnicQemuErrorCode code,
                           const char *needle);

/* Iterates the default main context until *@flag, failing after @ms. */
void tq_run_until(const gboolean *flag, guint ms);

/* Registration, one per file. */
void test_qemu_command_register(void);
void test_qemu_reconnect_register(void);
void test_qemu_verify_register(void);
void test_qemu_process_register(void);
void test_qemu_launch_register(void);

G_END_DECLS
