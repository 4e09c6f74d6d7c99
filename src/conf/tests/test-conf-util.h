/* test-conf-util.h: helpers shared by the conf layer's tests. */
#pragma once

#include "conf/conf-priv.h"

/* Registration, one per test file. */
void test_conf_devices_register(void);
void test_conf_parse_register(void);
void test_conf_errors_register(void);
void test_conf_format_register(void);
void test_conf_paths_register(void);
void test_conf_rules_register(void);
void test_conf_nic_register(void);
void test_conf_reconnect_register(void);
void test_conf_iface_build_register(void);
void test_conf_overlay_register(void);

/* Reads src/conf/tests/data/@name, or examples/@name. */
char *tc_read_data(const char *name);
char *tc_read_example(const char *name);

/* A minimal domain around @devices on @machine ("pc", "q35", …). */
char *tc_domain_xml(const char *machine, const char *devices);

/* Parses @xml and fails the test on error. */
VnicConfDomain *tc_parse(const char *xml);
/* Parses a minimal @machine domain holding @devices. */
VnicConfDomain *tc_parse_devices(const char *machine, const char *devices);

/* Asserts that parsing @xml fails in VNIC_CONF_ERROR with @code and a
 * message containing each of @needles (NULL-terminated). */
void tc_assert_parse_error(const char *xml, VnicConfErrorCode code, const char *const *needles);

/* The @n-th (0-based) device of @kind in @def, or NULL. */
VnicConfDevice *tc_nth(const VnicConfDomain *def, VnicConfDeviceKind kind, guint n);
/* How many devices of @kind @def holds. */
guint tc_count(const VnicConfDomain *def, VnicConfDeviceKind kind);
