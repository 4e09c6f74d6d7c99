/* test-agents.h: shared by test-agents.c and test-agents-xml.c. */
#pragma once

#include "e2e.h"

G_BEGIN_DECLS

/* One <interface> of an agent's domain, as the agent wrote it. */
typedef struct {
    char *mac;      /* lower case */
    char *type;     /* bridge, ethernet, network, … */
    char *bridge;   /* <source bridge>, or NULL */
    char *network;  /* <source network>, or NULL */
    gboolean inbound;   /* <bandwidth><inbound> (host to guest) */
    gboolean outbound;  /* <bandwidth><outbound> (guest to host) */
    guint mtu;      /* <mtu size>, 0 when absent */
} AgentNic;

void agent_nic_free(AgentNic *nic);

/* The test copy of tests/data/agents/NAME.xml (`corpus_path`): see
 * tests/data/agents/README.md for what changes. */
E2eDomainXml *agent_xml_prepare(const char *corpus_path, GError **error);

/* The <interface>s of a domain (every <devices> block, document order)
 * or of a lone <interface> element. */
GPtrArray *agent_nics_of_xml(const char *xml, GError **error);

gboolean agent_machine_is_q35(const char *xml);

/* What else of a domain the guest or host can observe. */
typedef struct {
    char *manufacturer;  /* <sysinfo type='smbios'><system> entries, when */
    char *product;       /* <os><smbios mode='sysinfo'/> uses them; else NULL */
    guint vcpus;         /* <vcpu>, 1 when absent */
    gboolean vnc;        /* a <graphics type='vnc'> */
    char *serial_log;    /* the console's <log file>, or NULL */
} AgentFacts;

void agent_facts_clear(AgentFacts *facts);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AgentFacts, agent_facts_clear)
void agent_facts_of_xml(const char *xml, AgentFacts *facts);

G_END_DECLS
