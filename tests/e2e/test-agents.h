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
    gboolean bandwidth;
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

G_END_DECLS
