/* test-cli.h: registration of the CLI tests and shared assertions. */
#pragma once

#include "test-cli-fake.h"

void test_cli_basic_register(void);
void test_cli_verbs_register(void);
void test_cli_events_register(void);
void test_cli_pci_register(void);
void test_cli_hotplug_register(void);
void test_cli_link_register(void);
void test_cli_nextnic_register(void);
void test_cli_virsh_register(void);

/* Asserts that @text contains @needle. */
void tc_assert_contains(const char *text, const char *needle);
/* Asserts that the JSON text @text equals the JSON text @want (as trees). */
void tc_assert_json_eq(const char *text, const char *want);
/* Asserts the last @command request to @fake carried exactly the JSON
 * arguments @want (compared as trees). */
void tc_assert_arguments(FakeVnicd *fake, const char *command, const char *want);
