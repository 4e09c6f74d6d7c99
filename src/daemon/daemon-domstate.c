/* daemon-domstate.c: virsh's dominfo, domstate, suspend, resume and
 * reboot.
 *
 * suspend and resume are QMP stop and cont; the domain is "paused" in
 * between (list, dominfo, domstate) and DOMAIN_SUSPENDED / DOMAIN_RESUMED
 * are emitted.  A paused domain takes no hot-plug (the hot-plug commands
 * want it running) but can be destroyed.  reboot is QMP system_reset: the
 * guest's OS is not asked, as with `virsh reset` (vnic has no guest agent
 * to ask).  The three are jobs on the domain.
 */
#include "daemon/daemon-hotplug.h"

#include <string.h>

static VnicDomain *
domain_of(VnicApiRequest *request, VnicDaemon *daemon)
{
    GError *error = NULL;
    const char *name = NULL;
    VnicDomain *dom;

    if (!vnic_api_arg_string(request, "name", TRUE, &name, &error) ||
        !(dom = vnic_daemon_lookup(daemon, name, &error))) {
        vnic_api_request_fail(request, error);
        return NULL;
    }
    return dom;
}

/* virsh's reason for a state, as far as vnicd knows one. */
static const char *
state_reason(const VnicDomain *dom)
{
    switch (dom->state) {
    case VNIC_DOMAIN_RUNNING:
        return "booted";
    case VNIC_DOMAIN_PAUSED:
        return "user";
    case VNIC_DOMAIN_SHUT_OFF:
        return "shutdown";
    default:
        return "unknown";
    }
}

void
vnic_cmd_dominfo(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_of(request, data);
    const VnicConfDomain *def;
    JsonObject *ret;

    if (!dom)
        return;
    def = dom->live ? dom->live : dom->config;
    ret = json_object_new();
    json_object_set_string_member(ret, "name", dom->name);
    if (def->uuid)
        json_object_set_string_member(ret, "uuid", def->uuid);
    json_object_set_string_member(ret, "state", vnic_domain_state_to_string(dom->state));
    if (dom->process)
        json_object_set_int_member(ret, "pid", vnic_daemon_process_pid(dom));
    if (dom->process && dom->has_qemu_ids) { /* docs/security.md */
        json_object_set_int_member(ret, "uid", (gint64)dom->qemu_uid);
        json_object_set_int_member(ret, "gid", (gint64)dom->qemu_gid);
    }
    json_object_set_int_member(ret, "vcpus", def->vcpus ? def->vcpus : 1);
    json_object_set_int_member(ret, "max-memory-kib", (gint64) def->memory_kib);
    json_object_set_int_member(ret, "memory-kib", (gint64) (def->current_memory_kib
                                                                ? def->current_memory_kib
                                                                : def->memory_kib));
    json_object_set_boolean_member(ret, "persistent", !vnic_domain_is_transient(dom));
    json_object_set_boolean_member(ret, "autostart", vnic_domain_is_autostart(dom));
    vnic_api_request_return_object(request, ret);
}

void
vnic_cmd_domstate(VnicApiRequest *request, gpointer data)
{
    VnicDomain *dom = domain_of(request, data);
    JsonObject *ret;

    if (!dom)
        return;
    ret = json_object_new();
    json_object_set_string_member(ret, "state", vnic_domain_state_to_string(dom->state));
    json_object_set_string_member(ret, "reason", state_reason(dom));
    vnic_api_request_return_object(request, ret);
}

/* ---- the QMP jobs --------------------------------------------------------- */

typedef struct {
    VnicDomain *dom;
    VnicApiRequest *request;
    VnicDomainState then;     /* the state once QEMU did it */
    const char *event;        /* emitted then, or NULL */
} StateJob;

static void
state_job_done(GObject *source, GAsyncResult *res, gpointer data)
{
    StateJob *j = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret) {
        vnic_api_request_error(j->request, error);
    } else {
        /* QEMU may have gone meanwhile: then its exit set the state */
        if (j->dom->process &&
            (j->dom->state == VNIC_DOMAIN_RUNNING || j->dom->state == VNIC_DOMAIN_PAUSED))
            j->dom->state = j->then;
        if (j->event)
            vnic_daemon_emit(j->dom->daemon, j->event, j->dom->name, NULL);
        vnic_api_request_return_object(j->request, json_object_new());
    }
    vnic_domain_job_done(j->dom);
    g_free(j);
}

/* Runs QMP @command when @dom is in state @need; else InvalidState. */
static void
run_state_job(VnicDomain *dom, VnicApiRequest *request, VnicDomainState need,
              const char *command, VnicDomainState then, const char *event)
{
    StateJob *j;

    if (dom->state != need || !dom->process) {
        GError *error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                                    "domain '%s' is %s, not %s", dom->name,
                                    vnic_domain_state_to_string(dom->state),
                                    vnic_domain_state_to_string(need));
        vnic_api_request_fail(request, error);
        vnic_domain_job_done(dom);
        return;
    }
    j = g_new0(StateJob, 1);
    j->dom = dom;
    j->request = request;
    j->then = then;
    j->event = event;
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), command, NULL, NULL,
                                  0, 10000, NULL, state_job_done, j);
}

static void
suspend_job(VnicDomain *dom, VnicApiRequest *request)
{
    run_state_job(dom, request, VNIC_DOMAIN_RUNNING, "stop", VNIC_DOMAIN_PAUSED,
                  "DOMAIN_SUSPENDED");
}

static void
resume_job(VnicDomain *dom, VnicApiRequest *request)
{
    run_state_job(dom, request, VNIC_DOMAIN_PAUSED, "cont", VNIC_DOMAIN_RUNNING,
                  "DOMAIN_RESUMED");
}

static void
reboot_job(VnicDomain *dom, VnicApiRequest *request)
{
    run_state_job(dom, request, VNIC_DOMAIN_RUNNING, "system_reset", VNIC_DOMAIN_RUNNING,
                  "DOMAIN_REBOOTED");
}

static void
queue(VnicApiRequest *request, gpointer data, VnicJobFunc job)
{
    VnicDomain *dom = domain_of(request, data);

    if (dom)
        vnic_domain_job_queue(dom, job, request);
}

void
vnic_cmd_suspend(VnicApiRequest *request, gpointer data)
{
    queue(request, data, suspend_job);
}

void
vnic_cmd_resume(VnicApiRequest *request, gpointer data)
{
    queue(request, data, resume_job);
}

void
vnic_cmd_reboot(VnicApiRequest *request, gpointer data)
{
    queue(request, data, reboot_job);
}
