/* e2e-json.h: one JSON object per line over a unix socket (QMP and the
 * vnicd API share this framing), with timeouts.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _E2eJsonConn E2eJsonConn;

/* Connects (retrying until `timeout_s` while the socket is not there yet). */
E2eJsonConn *e2e_json_conn_connect(const char *path, double timeout_s, GError **error);
/* Sends `line` plus "\n". */
gboolean e2e_json_conn_send_line(E2eJsonConn *conn, const char *line, double timeout_s,
                                 GError **error);
/* The next line, parsed; it must be a JSON object.  G_IO_ERROR_TIMED_OUT
 * after `timeout_s`, G_IO_ERROR_CONNECTION_CLOSED at EOF. */
JsonObject *e2e_json_conn_recv(E2eJsonConn *conn, double timeout_s, GError **error);
void e2e_json_conn_free(E2eJsonConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(E2eJsonConn, e2e_json_conn_free)

/* Parses text that must hold one JSON value. */
JsonNode *e2e_json_parse(const char *text, GError **error);
char *e2e_json_to_string(JsonNode *node, gboolean pretty);
char *e2e_json_object_to_string(JsonObject *object);
/* A string member, or NULL when absent or not a string. */
const char *e2e_json_get_string(JsonObject *object, const char *member);
/* The object/array member, or the array's i-th element as an object; NULL
 * when absent or of another type (borrowed). */
JsonObject *e2e_json_member_object(JsonObject *object, const char *member);
JsonArray *e2e_json_member_array(JsonObject *object, const char *member);
JsonObject *e2e_json_array_object(JsonArray *array, guint i);

/* One vnicd API request on `conn`: sends
 * {"execute": EXECUTE, "arguments": ARGS, "id": N} (ARGS_JSON is JSON text
 * for an object, or NULL for none) and returns the reply with that id
 * (events that arrive meanwhile are skipped).  The reply is returned as is:
 * {"return": …} or {"error": {"class", "desc"}}. */
JsonObject *e2e_api_call(E2eJsonConn *conn, const char *execute, const char *args_json,
                         double timeout_s, GError **error);
/* The "return" member of a reply; an {"error"} reply becomes a GError
 * "CLASS: DESC". */
JsonNode *e2e_api_return(JsonObject *reply, GError **error);

G_END_DECLS
