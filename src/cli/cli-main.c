/* cli-main.c: `vnic VERB …` dispatch and the shared error printer. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Verb;

static const Verb verbs[] = {
    { "plan", vnic_cli_plan, "plan PCI addresses for a domain XML file (offline)" },
};

int
vnic_cli_fail(const char *verb, int status, const char *message)
{
    fprintf(stderr, "vnic %s: %s\n", verb, message);
    return status;
}

static int
usage(FILE *out, int status)
{
    fprintf(out, "Usage: vnic VERB [OPTION…]\n\nVerbs:\n");
    for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\n'vnic VERB --help' describes a verb's options.\n");
    return status;
}

int
main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, VNIC_CLI_EXIT_USAGE);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0)
        return usage(stdout, VNIC_CLI_EXIT_OK);
    for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++) {
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "vnic: unknown verb '%s'\n", argv[1]);
    return usage(stderr, VNIC_CLI_EXIT_USAGE);
}
