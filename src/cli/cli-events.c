/* cli-events.c: `vnic events`: subscribe and print each event as it comes.
 *
 * One line per event, flushed at once so a pipe sees it:
 *   2023-11-14T22:13:20.000012+00:00 DEVICE_REMOVED web1 alias=net2 initiator=guest
 * (local time; the event's data members after the domain, in their order,
 * except that the NIC events put theirs in an order made for reading:
 *   … NIC_STATE web1 alias=net1 previous=plugged state=waiting waiting-for=eth1 reason="…"
 *   … BACKEND_LOST web1 alias=net1 device=eth1 reason="…"
 *   … BACKEND_RESTORED web1 alias=net1 target=macvtap3 how=hub lost-ms=212
 * a string with blanks or quotes, or an empty one, and any other JSON value
 * written as JSON),
 * or with --json the event object as vnicd sent it.  Runs until
 * interrupted, until --count events were printed, or until --timeout
 * seconds passed: exit 0, except when --count events did not come in time
 * (exit 1, "Timeout"), or vnicd went away (exit 1).
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    gboolean json;
    gint max;                  /* --count; -1 not given, then 0: no limit */
    char *timeout;             /* --timeout as given */
    gint64 timeout_us;         /* 0: none */
    gint printed;
} EventsState;

/* A string value as it is when it needs no quoting, else as JSON. */
static char *
format_value(JsonNode *value)
{
    const char *s;

    if (!JSON_NODE_HOLDS_VALUE(value) || json_node_get_value_type(value) != G_TYPE_STRING)
        return json_to_string(value, FALSE);
    s = json_node_get_string(value);
    if (*s == '\0')
        return json_to_string(value, FALSE);
    for (const char *p = s; *p != '\0'; p++) {
        if (g_ascii_isspace(*p) || g_ascii_iscntrl(*p) || *p == '"' || *p == '\\')
            return json_to_string(value, FALSE);
    }
    return g_strdup(s);
}

/* The event's time, local, ISO 8601 with microseconds; now if it has none. */
static char *
format_time(JsonObject *event)
{
    JsonObject *ts = vnic_cli_json_object(json_object_get_member(event, "timestamp"));
    gint64 sec, usec = 0;
    g_autoptr(GDateTime) utc = NULL;
    g_autoptr(GDateTime) local = NULL;

    if (vnic_cli_json_int(ts, "seconds", &sec)) {
        vnic_cli_json_int(ts, "microseconds", &usec);
        utc = g_date_time_new_from_unix_utc(sec);
        local = utc != NULL ? g_date_time_to_local(utc) : NULL;
        if (local != NULL && usec > 0 && usec < G_USEC_PER_SEC) {
            GDateTime *exact = g_date_time_add(local, usec);

            g_date_time_unref(local);
            local = exact;
        }
    }
    if (local == NULL)
        local = g_date_time_new_now_local();
    return g_date_time_format(local, "%Y-%m-%dT%H:%M:%S.%f%:z");
}

/* The data members an event's line shows first, in this order, whatever
 * order vnicd sent them in: for the NIC events, the NIC, then what changed,
 * and the reason (a sentence) last.  Other members follow as they came. */
static const char *const *
leading_members(const char *name)
{
    static const char *const nic_state[] = { "alias", "previous", "state", "waiting-for",
                                             "reason", NULL };
    static const char *const backend_lost[] = { "alias", "device", "reason", NULL };
    static const char *const backend_restored[] = { "alias", "target", "how", "lost-ms", NULL };
    static const struct {
        const char *event;
        const char *const *members;
    } orders[] = {
        { "NIC_STATE", nic_state },
        { "BACKEND_LOST", backend_lost },
        { "BACKEND_RESTORED", backend_restored },
    };
    static const char *const none[] = { NULL };

    for (gsize i = 0; name != NULL && i < G_N_ELEMENTS(orders); i++) {
        if (strcmp(name, orders[i].event) == 0)
            return orders[i].members;
    }
    return none;
}

static void
append_member(GString *line, JsonObject *data, const char *member)
{
    g_autofree char *value = format_value(json_object_get_member(data, member));

    g_string_append_printf(line, " %s=%s", member, value);
}

static void
print_human(JsonObject *event)
{
    JsonObject *data = vnic_cli_json_object(json_object_get_member(event, "data"));
    const char *name = vnic_cli_json_string(event, "event");
    const char *const *leading = leading_members(name);
    JsonNode *domain = data != NULL ? json_object_get_member(data, "domain") : NULL;
    g_autofree char *who = domain != NULL ? format_value(domain) : g_strdup("-");
    g_autofree char *when = format_time(event);
    g_autoptr(GString) line = g_string_new(NULL);
    g_autoptr(GList) members = data != NULL ? json_object_get_members(data) : NULL;

    g_string_printf(line, "%s %s %s", when, name != NULL ? name : "?", who);
    for (guint i = 0; data != NULL && leading[i] != NULL; i++) {
        if (json_object_has_member(data, leading[i]))
            append_member(line, data, leading[i]);
    }
    for (GList *m = members; m != NULL; m = m->next) {
        if (strcmp(m->data, "domain") == 0 ||
            g_strv_contains((const char *const *) leading, m->data))
            continue;
        append_member(line, data, m->data);
    }
    puts(line->str);
}

static void
on_event(JsonObject *event, gpointer user_data)
{
    EventsState *st = user_data;

    if (st->max > 0 && st->printed >= st->max)
        return;
    if (st->json) {
        g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), event);
        g_autofree char *text = json_to_string(node, FALSE);

        puts(text);
    } else {
        print_human(event);
    }
    fflush(stdout);
    st->printed++;
}

static gboolean
check_bounds(EventsState *st, GError **error)
{
    char *end = NULL;
    double seconds;

    if (st->max == 0 || st->max < -1) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--count must be 1 or more, not %d", st->max);
        return FALSE;
    }
    if (st->max == -1)
        st->max = 0;
    if (st->timeout == NULL)
        return TRUE;
    seconds = g_ascii_strtod(st->timeout, &end);
    if (end == st->timeout || *end != '\0' || !(seconds > 0) || seconds > G_MAXINT32) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--timeout must be a number of seconds above 0, not '%s'", st->timeout);
        return FALSE;
    }
    st->timeout_us = (gint64) (seconds * G_USEC_PER_SEC);
    return TRUE;
}

/* Reads events until the count or the deadline; the exit status. */
static int
wait_events(VnicCliClient *client, EventsState *st)
{
    gint64 deadline = st->timeout_us > 0 ? g_get_monotonic_time() + st->timeout_us : -1;

    while (st->max == 0 || st->printed < st->max) {
        g_autoptr(GError) error = NULL;

        if (vnic_cli_client_next_event(client, deadline, &error))
            continue;
        if (!g_error_matches(error, VNIC_CLI_CLIENT_ERROR, VNIC_CLI_CLIENT_ERROR_TIMEOUT))
            return vnic_cli_report("events", error, NULL);
        if (st->max == 0)
            return VNIC_CLI_EXIT_OK;
        return vnic_cli_failf("events", VNIC_CLI_EXIT_FAILED,
                              "Timeout: %d of %d events within %s seconds", st->printed,
                              st->max, st->timeout);
    }
    return VNIC_CLI_EXIT_OK;
}

static int
run_events(const VnicCliContext *ctx, int argc, char **argv, EventsState *st)
{
    static const VnicCliVerbSpec spec = {
        "events", "", "no argument", 0,
        "Prints vnicd's events as they happen, one a line:\n"
        "  TIME EVENT DOMAIN KEY=VALUE…\n"
        "until interrupted, until N events came (--count) or SECONDS passed (--timeout).\n"
        "A NIC whose host device goes away and comes back shows as BACKEND_LOST, NIC_STATE\n"
        "(each step: waiting, restoring, plugged) and BACKEND_RESTORED (docs/api.md).\n"
        "Exit status 1 and 'Timeout' when --count events did not come within --timeout.",
    };
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &st->json, "print each event as JSON, one a line",
          NULL },
        { "count", 0, 0, G_OPTION_ARG_INT, &st->max, "stop after N events", "N" },
        { "timeout", 0, 0, G_OPTION_ARG_STRING, &st->timeout,
          "stop after SECONDS (decimals allowed)", "SECONDS" },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(VnicCliClient) client = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *klass = NULL;
    int status;

    if (!vnic_cli_parse_options(&spec, entries, &argc, &argv, &status))
        return status;
    if (!check_bounds(st, &error))
        return vnic_cli_fail("events", VNIC_CLI_EXIT_USAGE, error->message);
    if (!(client = vnic_cli_connect(ctx, "events", &status)))
        return status;
    vnic_cli_client_set_event_func(client, on_event, st);
    if (!(ret = vnic_cli_client_call(client, "subscribe-events", NULL, &klass, &error)))
        return vnic_cli_report("events", error, klass);
    return wait_events(client, st);
}

int
vnic_cli_events(const VnicCliContext *ctx, int argc, char **argv)
{
    EventsState st = { .max = -1 };
    int status = run_events(ctx, argc, argv, &st);

    g_free(st.timeout);
    return status;
}
