/* test-pci-helpers.h: shared by the pci tests. */
#pragma once

#include "pci/pci-plan.h"

char *domain_xml(const char *machine, const char *extra_top, const char *devices);
char *nics_xml(guint n, const char *model);
VnicConfDomain *parse_or_die(const char *xml);
VnicConfDomain *plan_xml(const char *xml, VnicPciPolicy policy, gint spare);
VnicConfDomain *plan_file(const char *name, VnicPciPolicy policy);
/* Plans, expects failure with @code and an unchanged domain; returns the message. */
char *plan_error(const char *xml, VnicPciPolicy policy, gint spare, VnicPciErrorCode code);
VnicConfDevice *nth(const VnicConfDomain *def, VnicConfDeviceKind kind, guint n);
char *addr_of(const VnicConfDevice *dev);
void assert_addr(const VnicConfDevice *dev, const char *want);
char *preferred_name(const VnicConfDomain *def, const VnicConfDevice *nic);
void assert_name(const VnicConfDomain *def, const VnicConfDevice *nic, const char *want);
char *next_name(const VnicConfDomain *def, VnicConfPciAddr *out);
void hotplug_nic(VnicConfDomain *def, const VnicConfPciAddr *addr);
guint count_pci_controllers(const VnicConfDomain *def, VnicConfPciModel model);
void assert_unique_addresses(const VnicConfDomain *def);

void register_placement_tests(void);
void register_validate_tests(void);
void register_libvirt_tests(void);
void register_replan_tests(void);
void register_json_tests(void);
void register_rules_tests(void);
