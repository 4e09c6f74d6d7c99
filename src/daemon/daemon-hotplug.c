/* daemon-hotplug.c: attaching NICs to a domain (live and/or config).
 *
 * Live attach, as one job on the domain:
 *   parse the <interface> (in a thread: vnic_daemon_off_loop) → validate it
 *   against the live definition → address
 *   (the given one, checked, or the next hot-plug slot) → id and acpi-index
 *   → host backend (into the ledger) → getfd → netdev_add → device_add
 *   (qemu-hotplug.c, which undoes its own steps) → the NIC joins the live
 *   definition and the status file.
 * Until the last step nothing outside the job's own context has changed
 * except the ledger entry, which a failure removes with its link, so a
 * failed attach leaves the domain exactly as it was.
 */
#include "daemon/daemon-hotplug.h"
#include "daemon/daemon-nic.h"
#include "host/host-linkwatch.h"

#include <time.h>

typedef struct {
    VnicDomain *dom;
    VnicApiRequest *request;
    gboolean live;
    gboolean config;
    char *xml;                /* the <interface> as asked for */
    VnicConfDevice *parsed;   /* it, parsed off the main loop, for the live side */
    VnicConfDevice *config_dev; /* and for the config: owned until added */
    VnicConfDevice *dev;      /* the live NIC while it is being plugged: owned
                               * until in_live, then the live definition's */
    gboolean in_live;         /* dev is in the live definition (and the status) */
    VnicOwnedLink *owned;     /* its ledger entry, once the backend exists */
    VnicOwnedLink *owned_ifb; /* the ifb shaping its <outbound>, if any */
    gint64 started_us;
    gint64 started_cpu_us;    /* the main thread's CPU time then */
    gint64 backend_us;
    gint64 status_us;         /* the status writes before QEMU hears of the NIC */
} Attach;

static void
attach_free(Attach *a)
{
    g_free(a->xml);
    vnic_conf_device_free(a->parsed);
    vnic_conf_device_free(a->config_dev);
    if (!a->in_live)
        vnic_conf_device_free(a->dev);
    g_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Attach, attach_free)

/* The NIC an attach is about, for the log: its id and MAC once known. */
static char *
describe_nic(const Attach *a)
{
    g_autofree char *mac = NULL;

    if (!a->dev || (!a->dev->alias && !a->dev->nic->has_mac))
        return g_strdup("(a new one)");
    if (!a->dev->nic->has_mac)
        return g_strdup(a->dev->alias);
    mac = vnic_conf_mac_format(a->dev->nic->mac);
    return a->dev->alias ? g_strdup_printf("%s (%s)", a->dev->alias, mac) : g_steal_pointer(&mac);
}

static void
reply(Attach *a, const GError *error, JsonObject *ret)
{
    if (error) {
        g_autofree char *nic = describe_nic(a);
        /* the client sees the error; the log must too (vnicd(8) "LOGGING") */
        g_warning("domain '%s': hot-plug of NIC %s failed: %s", a->dom->name, nic,
                  error->message);
        vnic_api_request_error(a->request, error);
    } else
        vnic_api_request_return_object(a->request, ret);
}

static void
finish(Attach *a, const GError *error, JsonObject *ret)
{
    VnicDomain *dom = a->dom;

    reply(a, error, ret);
    attach_free(a);
    vnic_domain_job_done(dom);
}

/* ---- the definition side ------------------------------------------------ */

/* Checks @parsed (taken) as a NIC for @def and gives it what it lacks: a
 * MAC, an address (checked when given), an acpi-index when the domain
 * numbers them.  The device is not added to @def. */
static VnicConfDevice *
prepare_nic(const VnicConfDomain *def, VnicConfDevice *parsed, const VnicConfPciAddr *prefer,
            GError **error)
{
    g_autoptr(VnicConfDevice) dev = parsed;

    if (!vnic_conf_interface_check(def, dev, error) ||
        !vnic_hotplug_check_unplug_setting(def, dev, error) ||
        !vnic_qemu_hotplug_check_nic(def, dev, error))
        return NULL;
    if (!dev->nic->has_mac)
        vnic_hotplug_assign_mac(def, dev, vnic_daemon_mac_rand());
    if (!dev->addr.set && prefer && vnic_pci_check_hotplug_address(def, prefer, NULL))
        dev->addr = *prefer;
    if (dev->addr.set ? !vnic_pci_check_hotplug_address(def, &dev->addr, error)
                      : !vnic_pci_next_nic_address(def, &dev->addr, error))
        return NULL;
    if (def->auto_acpi_index && dev->nic->acpi_index == 0)
        dev->nic->acpi_index = vnic_pci_next_acpi_index(def);
    return g_steal_pointer(&dev);
}

static gboolean
attach_config(VnicDomain *dom, VnicConfDevice **parsed, const VnicConfPciAddr *prefer,
              GError **error)
{
    VnicConfDevice *dev = prepare_nic(dom->config, g_steal_pointer(parsed), prefer, error);

    if (!dev)
        return FALSE;
    g_ptr_array_add(dom->config->devices, dev);
    if (!vnic_state_write_config(dom->daemon, dom, error)) {
        g_ptr_array_remove(dom->config->devices, dev);
        return FALSE;
    }
    return TRUE;
}

/* CPU time of the calling thread (vnicd's main loop, where an attach runs
 * but for the parse of a big <interface>): what the attach costs vnicd,
 * which the machine's load distorts far less than its wall time. */
static gint64
thread_cpu_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
        return 0;
    return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static JsonObject *
attach_result(Attach *a, const VnicQemuHotplugTimings *t, const VnicConfDevice *dev,
              const VnicConfDomain *def)
{
    JsonObject *ret = json_object_new(), *timings = json_object_new();
    g_autofree char *mac = vnic_conf_mac_format(dev->nic->mac);
    g_autofree char *addr = vnic_pci_addr_format(&dev->addr);
    g_autoptr(VnicPciGuestNames) names = vnic_pci_predict_names(def, &dev->addr, dev->nic->acpi_index);

    json_object_set_string_member(ret, "alias", dev->alias ? dev->alias : "");
    json_object_set_string_member(ret, "mac", mac);
    json_object_set_string_member(ret, "address", addr);
    json_object_set_string_member(ret, "guest-name", vnic_pci_guest_names_preferred(names));
    if (dev->nic->target_dev)
        json_object_set_string_member(ret, "target", dev->nic->target_dev);
    if (t) {
        json_object_set_int_member(timings, "backend-us", a->backend_us);
        json_object_set_int_member(timings, "status-us", a->status_us);
        json_object_set_int_member(timings, "getfd-us", t->getfd_us);
        json_object_set_int_member(timings, "netdev-add-us", t->netdev_add_us);
        json_object_set_int_member(timings, "device-add-us", t->device_add_us);
        json_object_set_int_member(timings, "total-us", g_get_monotonic_time() - a->started_us);
        json_object_set_int_member(timings, "cpu-us", thread_cpu_us() - a->started_cpu_us);
    }
    json_object_set_object_member(ret, "timings", timings);
    return ret;
}

/* ---- the live side ------------------------------------------------------ */

/* The state record of the NIC being attached, once it has an id (looked
 * up each time: QEMU may have gone meanwhile, and the records with it). */
static VnicNic *
attach_nic(Attach *a)
{
    return a->dev ? vnic_domain_get_nic(a->dom, a->dev->alias) : NULL;
}

/* Undoes the backend of a failed live attach: link and ledger entry. */
static void
drop_link(Attach *a, VnicOwnedLink **owned)
{
    g_autoptr(GError) error = NULL;

    if (*owned == NULL)
        return;
    if (!vnic_host_link_delete((*owned)->link, &error))
        g_warning("domain '%s': %s", a->dom->name, error->message);
    g_ptr_array_remove(a->dom->links, *owned);
    *owned = NULL;
}

static void
drop_backend(Attach *a)
{
    drop_link(a, &a->owned_ifb);
    drop_link(a, &a->owned);
    if (attach_nic(a))
        vnic_nic_set_state(attach_nic(a), VNIC_NIC_GONE, NULL, "its attach failed");
    if (a->in_live) {
        g_autoptr(GError) error = NULL;
        g_ptr_array_remove(a->dom->live->devices, g_steal_pointer(&a->dev));
        a->in_live = FALSE;
        if (!vnic_state_write_status(a->dom, &error))
            g_warning("domain '%s': writing status: %s", a->dom->name, error->message);
    }
}

static void
link_set(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vnic_qmp_client_execute_finish(res, &error);

    if (!ret)
        g_warning("set_link: %s", error->message);
}

/* <link state='down'/>: the guest sees no carrier until it is set up. */
static void
set_link_down(VnicDomain *dom, const char *alias)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "name", alias);
    json_object_set_boolean_member(args, "up", FALSE);
    vnic_qmp_client_execute_async(vnic_qemu_process_get_qmp(dom->process), "set_link", args, NULL,
                                  0, 5000, NULL, link_set, NULL);
}

/* The status file learns that the NIC is plugged right after the reply
 * went out, not before: until then it has the NIC in the live definition
 * as backend-ready (written before QEMU heard of it), which a vnicd
 * restarted in between resolves to the same end, since QEMU has the
 * device (daemon-reconcile.c: "its attach completed while vnicd was
 * down").  So the client does not wait for a second durable write. */
typedef struct {
    VnicDaemon *daemon;
    char *name;
} StatusWrite;

static gboolean
status_write_now(gpointer data)
{
    StatusWrite *w = data;
    VnicDomain *dom = g_hash_table_lookup(w->daemon->domains, w->name);
    g_autoptr(GError) error = NULL;

    if (dom && dom->live && !vnic_state_write_status(dom, &error))
        g_warning("domain '%s': writing status: %s", dom->name, error->message);
    g_free(w->name);
    g_free(w);
    return G_SOURCE_REMOVE;
}

static void
write_status_soon(VnicDomain *dom)
{
    StatusWrite *w = g_new0(StatusWrite, 1);

    w->daemon = dom->daemon;
    w->name = g_strdup(dom->name);
    g_idle_add_full(G_PRIORITY_DEFAULT, status_write_now, w, NULL);
}

static void
plugged(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    Attach *a = data;
    VnicDomain *dom = a->dom;
    VnicQemuHotplugTimings t = { 0 };
    VnicConfDevice *dev;
    JsonObject *ret, *ev;

    if (!dom->live) {
        /* QEMU went meanwhile, and vnic_domain_cleanup() with it: the live
         * definition and the ledger are freed, its links deleted.  Nothing
         * of this attach is left to undo, and a->owned would dangle. */
        a->dev = NULL;
        a->in_live = FALSE;
        a->owned = a->owned_ifb = NULL;
    }
    if (!vnic_qemu_hotplug_nic_finish(res, &t, &error)) {
        if (!dom->live)
            g_prefix_error(&error, "QEMU is gone: ");
        drop_backend(a);
        finish(a, error, NULL);
        return;
    }
    dev = a->dev;
    ret = attach_result(a, &t, dev, dom->live);
    if (a->config && !attach_config(dom, &a->config_dev, &dev->addr, &error)) {
        g_prefix_error(&error, "attached to the running guest, but not to the config: ");
        g_clear_pointer(&ret, json_object_unref);
    }
    /* The reply first, then the rest (the NIC's state and its log line,
     * the events): nothing else runs on the main loop until this returns,
     * so no request can see the NIC other than plugged, and the client
     * does not wait for what only the others need. */
    reply(a, error, ret);
    if (vnic_domain_get_nic(dom, dev->alias))
        vnic_nic_set_state(vnic_domain_get_nic(dom, dev->alias), VNIC_NIC_PLUGGED, NULL, NULL);
    if (dev->nic->link_up == VNIC_TRISTATE_NO)
        set_link_down(dom, dev->alias);
    write_status_soon(dom);
    ev = attach_result(a, NULL, dev, dom->live);
    json_object_remove_member(ev, "timings");
    vnic_daemon_emit(dom->daemon, "DEVICE_ADDED", dom->name, ev);
    attach_free(a);
    vnic_domain_job_done(dom);
}

/* Whether some domain's ledger still holds a link called @name whose
 * deletion the kernel has not confirmed (daemon-unplug.c). */
static gboolean
name_reserved(VnicDaemon *daemon, const char *name)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        VnicDomain *dom = value;
        for (guint i = 0; i < dom->links->len; i++) {
            const VnicOwnedLink *o = g_ptr_array_index(dom->links, i);
            if (g_strcmp0(o->link->name, name) == 0 && vnic_domain_is_pending_link(dom, o))
                return TRUE;
        }
    }
    return FALSE;
}

/* Without a <target dev> the kernel names the link: the lowest free vnetN
 * (macvtapN).  A name the kernel has freed but whose deletion it has not
 * confirmed yet is still vnic's: the NIC then gets the lowest name free
 * in both senses.  The link watch's view may lag the kernel by an event;
 * a name taken meanwhile makes the backend refuse it ("exists"). */
static void
avoid_reserved_names(VnicDomain *dom, VnicConfNic *nic)
{
    VnicConfNicType type = vnic_conf_nic_backend_type(nic);
    const char *prefix = type == VNIC_CONF_NIC_DIRECT ? "macvtap" : "vnet";
    VnicHostLinkWatch *watch = dom->daemon->link_watch;
    VnicHostLinkInfo info;
    gboolean kernels_choice = TRUE;

    if (nic->target_dev || !watch ||
        (type != VNIC_CONF_NIC_DIRECT && type != VNIC_CONF_NIC_ETHERNET &&
         type != VNIC_CONF_NIC_BRIDGE))
        return;
    for (guint n = 0; n < 65536; n++) {
        g_autofree char *name = g_strdup_printf("%s%u", prefix, n);
        if (vnic_host_link_watch_lookup(watch, name, &info))
            continue;
        if (name_reserved(dom->daemon, name)) {
            kernels_choice = FALSE;
            continue;
        }
        if (!kernels_choice)
            nic->target_dev = g_steal_pointer(&name);
        return;
    }
}

/* Whether creating @nic's backend makes a link that stays if vnicd is
 * killed before QEMU holds its fds: a macvtap, or the ifb that may shape
 * its <outbound> (host-bandwidth.c).  A tap alone does not: it is not
 * persistent, and only vnicd's fds hold it until getfd, so it goes with
 * vnicd; the status write after it (before getfd) is the one that
 * records it for QEMU's sake.  Saves a status write per tap attach. */
static gboolean
backend_outlives_vnicd(const VnicConfNic *nic)
{
    VnicConfNicType type = vnic_conf_nic_backend_type(nic);

    return (type != VNIC_CONF_NIC_ETHERNET && type != VNIC_CONF_NIC_BRIDGE) ||
           nic->outbound.average > 0;
}

static gboolean
write_status_timed(Attach *a, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = vnic_state_write_status(a->dom, error);

    a->status_us += g_get_monotonic_time() - t0;
    return ok;
}

/* Creates the backend and starts the QMP sequence.  FALSE: nothing to undo
 * but what drop_backend() undoes. */
static gboolean
plug_live(Attach *a, GError **error)
{
    VnicDomain *dom = a->dom;
    g_autoptr(VnicHostBackend) backend = NULL;
    g_autofree int *fds = NULL;
    guint n_fds;
    gint64 t0;
    const char *fail_step = NULL;
    VnicNic *record;

    if (!(a->dev = prepare_nic(dom->live, g_steal_pointer(&a->parsed), NULL, error)))
        return FALSE;
    if (a->dev->nic->type == VNIC_CONF_NIC_VHOSTUSER &&
        !vnic_conf_domain_memory_shared(dom->live)) {
        g_set_error(error, VNIC_CONF_ERROR, VNIC_CONF_ERROR_CONFLICT,
                    "<interface type='vhostuser'> needs the guest's memory shared with its "
                    "backend: the domain has no <memoryBacking><access mode='shared'/>");
        return FALSE;
    }
    if (!vnic_network_resolve_nic(dom->daemon, dom->live, a->dev, error))
        return FALSE;
    if (a->dev->alias == NULL) /* a user alias (ua-…) stays the device id */
        a->dev->alias = vnic_qemu_next_nic_id(dom->live);
    {
        VnicNic *nic = vnic_nic_new(dom, a->dev->alias, VNIC_NIC_PLANNED);
        nic->admin_up = nic->carrier = a->dev->nic->link_up != VNIC_TRISTATE_NO;
    }
    vnic_domain_warn_vhost(dom, dom->live, a->dev);
    /* in the live definition and the status before a link that outlives
     * vnicd exists: a vnicd killed while it is being made finds the NIC
     * (its MAC, its lower device) after its restart, and with it a macvtap
     * or ifb the ledger never got (daemon-reconcile.c) */
    g_ptr_array_add(dom->live->devices, a->dev);
    a->in_live = TRUE;
    if (backend_outlives_vnicd(a->dev->nic) && !write_status_timed(a, error))
        return FALSE;
    t0 = g_get_monotonic_time();
    avoid_reserved_names(dom, a->dev->nic);
    /* vhost-user: no host link, QEMU opens the socket (chardev-add) */
    if (a->dev->nic->type != VNIC_CONF_NIC_VHOSTUSER) {
        if (!(backend = vnic_host_backend_create(a->dev->nic, error)))
            return FALSE;
        if (vnic_host_backend_is_owned(backend))
            a->owned = vnic_domain_own_link(dom, vnic_host_backend_get_link(backend),
                                            a->dev->alias);
        if (vnic_host_backend_get_ifb(backend) != NULL)
            a->owned_ifb = vnic_domain_own_link(dom, vnic_host_backend_get_ifb(backend),
                                                a->dev->alias);
        /* vnicd's reference to the queues QEMU gets (the detach promise) */
        if (a->owned && !(a->owned->queues = vnic_host_backend_ref_queues(backend, error)))
            return FALSE;
        g_free(a->dev->nic->target_dev);
        a->dev->nic->target_dev = g_strdup(vnic_host_backend_get_link(backend)->name);
    }
    a->backend_us = g_get_monotonic_time() - t0;
    /* announced once QEMU has the first commands (below): two log lines
     * and an event less before getfd, written while QEMU works instead;
     * a failure before that announces it first (vnic_nic_set_state) */
    if (backend)
        vnic_nic_set_state_quietly(attach_nic(a), VNIC_NIC_BACKEND_READY);
    /* its link in the ledger before QEMU hears of it: a vnicd killed from
     * here on asks QEMU whether it got the NIC (daemon-reconcile.c) */
    if (!write_status_timed(a, error))
        return FALSE;
    /* "x-fail-step" (tests only) makes QEMU refuse that step */
    if (!vnic_api_arg_string(a->request, "x-fail-step", FALSE, &fail_step, error))
        return FALSE;
    fds = backend != NULL ? vnic_host_backend_steal_fds(backend, &n_fds) : NULL;
    if (backend == NULL)
        n_fds = 0;
    /* the QMP sequence takes the fds whatever happens */
    record = attach_nic(a);
    vnic_qemu_hotplug_nic_async(vnic_qemu_process_get_qmp(dom->process), dom->live, a->dev, fds,
                                n_fds, fail_step, NULL, plugged, a);
    /* plugged() runs from a later main-loop iteration (GTask): @record is
     * still the NIC's */
    if (record)
        vnic_nic_announce(record);
    return TRUE;
}

/* What the parse thread works on: its own copy of the XML. */
typedef struct {
    Attach *a;                /* main loop only */
    char *xml;
    gboolean live, config;
    VnicConfDevice *live_dev, *config_dev;
} AttachParse;

static void
attach_parse_free(AttachParse *p)
{
    g_free(p->xml);
    vnic_conf_device_free(p->live_dev);
    vnic_conf_device_free(p->config_dev);
    g_free(p);
}

/* In a thread: the <interface> alone (its checks against the domain need
 * the domain, which the main loop owns: prepare_nic()).  One copy per
 * definition it joins, as each owns its device. */
static gboolean
attach_parse(gpointer data, GError **error)
{
    AttachParse *p = data;
    gsize len = strlen(p->xml);

    if (p->live && !(p->live_dev = vnic_conf_interface_parse(NULL, p->xml, len, error)))
        return FALSE;
    return !p->config || (p->config_dev = vnic_conf_interface_parse(NULL, p->xml, len, error));
}

static void attach_parsed(VnicApiRequest *request, gpointer data, GError *error);

void
vnic_domain_attach_job(VnicDomain *dom, VnicApiRequest *request)
{
    g_autoptr(Attach) a = g_new0(Attach, 1);
    g_autoptr(GError) error = NULL;
    AttachParse *p;

    a->dom = dom;
    a->request = request;
    a->started_us = g_get_monotonic_time();
    a->started_cpu_us = thread_cpu_us();
    if (!vnic_hotplug_resolve_flags(dom, request, &a->live, &a->config, &error) ||
        !(a->xml = vnic_hotplug_request_xml(dom, request, &error))) {
        finish(g_steal_pointer(&a), error, NULL);
        return;
    }
    p = g_new0(AttachParse, 1);
    p->xml = g_strdup(a->xml);
    p->live = a->live;
    p->config = a->config;
    p->a = g_steal_pointer(&a);
    vnic_daemon_off_loop(request, strlen(p->xml), attach_parse, p, (GDestroyNotify)attach_parse_free,
                         attach_parsed);
}

/* Back on the main loop, still the domain's job. */
static void
attach_parsed(VnicApiRequest *request, gpointer data, GError *parse_error)
{
    AttachParse *p = data;
    g_autoptr(Attach) a = g_steal_pointer(&p->a);
    g_autoptr(GError) error = parse_error;
    VnicDomain *dom = a->dom;

    if (error) {
        finish(g_steal_pointer(&a), error, NULL);
        return;
    }
    a->parsed = g_steal_pointer(&p->live_dev);
    a->config_dev = g_steal_pointer(&p->config_dev);
    /* QEMU may have gone while the thread parsed */
    if (a->live && !dom->live) {
        error = g_error_new(VNIC_DAEMON_ERROR, VNIC_DAEMON_ERROR_INVALID_STATE,
                            "domain '%s' stopped before the NIC could be attached", dom->name);
        finish(g_steal_pointer(&a), error, NULL);
        return;
    }
    if (a->live) {
        if (!plug_live(a, &error)) {
            drop_backend(a);
            finish(g_steal_pointer(&a), error, NULL);
            return;
        }
        g_steal_pointer(&a); /* plugged() finishes it */
        return;
    }
    if (!attach_config(dom, &a->config_dev, NULL, &error)) {
        finish(g_steal_pointer(&a), error, NULL);
    } else {
        const VnicConfDevice *added = g_ptr_array_index(dom->config->devices,
                                                        dom->config->devices->len - 1);
        JsonObject *ret = attach_result(a, NULL, added, dom->config);
        finish(g_steal_pointer(&a), NULL, ret);
    }
}
