/* daemon-domain.c: the domain registry and each domain's job queue.
 *
 * Jobs that change a domain (start, destroy, shutdown, undefine, hot-plug)
 * run one at a time per domain, in arrival order; jobs of different domains
 * interleave freely on the main loop.  A job ends by replying to its request
 * and calling vnic_domain_job_done(), which starts the next one.
 */
#include "daemon/daemon-heap.h"
#include "daemon/daemon-migrate.h"
#include "daemon/daemon-nic.h"

#include <string.h>

VnicDomain *
vnic_domain_new(VnicDaemon *daemon, VnicConfDomain *config)
{
    VnicDomain *dom = g_new0(VnicDomain, 1);

    dom->daemon = daemon;
    dom->name = g_strdup(config->name);
    dom->config = config;
    dom->links = g_ptr_array_new_with_free_func((GDestroyNotify)vnic_owned_link_free);
    g_queue_init(&dom->jobs);
    return dom;
}

void
vnic_domain_free(VnicDomain *dom)
{
    if (!dom)
        return;
    g_free(dom->name);
    vnic_conf_domain_free(dom->config);
    g_free(dom->config_xml);
    vnic_conf_domain_free(dom->live);
    g_ptr_array_unref(dom->links);
    g_clear_pointer(&dom->removed, g_hash_table_unref);
    g_clear_pointer(&dom->unplugs, g_hash_table_unref);
    vnic_domain_clear_nics(dom);
    vnic_migration_free(dom->migration);
    g_free(dom);
}

static gboolean
verify_caches(void)
{
    static int verify = -1;

    if (verify < 0)
        verify = g_getenv("VNICD_VERIFY_CACHES") != NULL;
    return verify;
}

const char *
vnic_domain_config_xml(VnicDomain *dom)
{
    if (!dom->config_xml) {
        dom->config_xml = vnic_conf_domain_format(dom->config, VNIC_CONF_FORMAT_INACTIVE);
    } else if (verify_caches()) {
        g_autofree char *fresh = vnic_conf_domain_format(dom->config, VNIC_CONF_FORMAT_INACTIVE);

        if (strcmp(fresh, dom->config_xml) != 0)
            g_error("domain '%s': its config changed without being stored: cached XML\n%s\n"
                    "differs from\n%s", dom->name, dom->config_xml, fresh);
    }
    return dom->config_xml;
}

void
vnic_domain_config_changed(VnicDomain *dom)
{
    g_clear_pointer(&dom->config_xml, g_free);
}

void
vnic_owned_link_free(VnicOwnedLink *owned)
{
    vnic_host_link_free(owned->link);
    vnic_host_queue_refs_free(owned->queues);
    g_free(owned->alias);
    g_free(owned);
}

const char *
vnic_domain_state_to_string(VnicDomainState state)
{
    static const char *const names[] = {
        [VNIC_DOMAIN_SHUT_OFF] = "shut-off", [VNIC_DOMAIN_STARTING] = "starting",
        [VNIC_DOMAIN_RUNNING] = "running",   [VNIC_DOMAIN_PAUSED] = "paused",
        [VNIC_DOMAIN_STOPPING] = "stopping",
    };
    return names[state];
}

VnicDomain *
vnic_daemon_lookup(VnicDaemon *daemon, const char *name, GError **error)
{
    VnicDomain *dom = g_hash_table_lookup(daemon->domains, name);

    if (!dom)
        g_set_error(error, VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_DOMAIN_NOT_FOUND,
                    "no domain named '%s'", name);
    return dom;
}

/* Runs waiting jobs until one stays busy.  Re-entered from a job that
 * finishes at once, it returns and lets the outer loop go on.  An undefined
 * domain is freed here, when nothing runs on it any more. */
static void
run_next(VnicDomain *dom)
{
    if (dom->dispatching)
        return;
    dom->dispatching = TRUE;
    while (!dom->job_running && !g_queue_is_empty(&dom->jobs)) {
        VnicJob *job = g_queue_pop_head(&dom->jobs);

        if (dom->undefined) {
            /* queued behind the undefine that removed the domain */
            g_autoptr(GError) error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_DOMAIN_NOT_FOUND,
                                                  "domain '%s' was undefined", dom->name);
            if (job->request) /* vnicd's own jobs (autostart, transient) have none */
                vnic_api_request_error(job->request, error);
        } else {
            dom->job_running = TRUE;
            job->func(dom, job->request);
        }
        g_free(job);
    }
    dom->dispatching = FALSE;
    if (dom->undefined && !dom->job_running) {
        vnic_domain_free(dom);
        vnic_daemon_trim_heap_soon();
    }
}

void
vnic_domain_job_queue(VnicDomain *dom, VnicJobFunc func, VnicApiRequest *request)
{
    VnicJob *job = g_new0(VnicJob, 1);

    job->func = func;
    job->request = request;
    g_queue_push_tail(&dom->jobs, job);
    run_next(dom);
}

/* Ends the running job.  May free an undefined domain: do not touch @dom
 * afterwards. */
void
vnic_domain_job_done(VnicDomain *dom)
{
    dom->job_running = FALSE;
    run_next(dom);
}

GRand *
vnic_daemon_mac_rand(void)
{
    static GRand *rand;

    if (!rand)
        rand = g_rand_new();
    return rand;
}

void
vnic_daemon_emit(VnicDaemon *daemon, const char *event, const char *domain, JsonObject *data)
{
    if (!data)
        data = json_object_new();
    json_object_set_string_member(data, "domain", domain);
    g_message("event %s domain %s", event, domain);
    vnic_api_server_emit(daemon->api, event, data);
}
