/* daemon-api-priv.h: the API server's internals, shared by its files. */
#pragma once

#include "daemon/daemon-api.h"

#include <gio/gio.h>
#include <sys/types.h>

struct _VnicApiServer {
    const VnicApiCommand *commands;
    gsize n_commands;
    gpointer user_data;
    GSocketListener *listener;
    GCancellable *accepting;  /* the pending accept; NULL while not accepting */
    guint accept_pause;       /* source that resumes accepting after EMFILE */
    gboolean fd_shortage_logged;
    VnicApiLimits limits;
    guint idle_sweep;         /* source closing idle connections */
    guint privileged;         /* connections of root and the daemon's uid */
    guint unprivileged;       /* connections of anyone else */
    GHashTable *per_uid;      /* uid → number of its connections */
    GPtrArray *paths;        /* socket files to unlink at the end */
    GPtrArray *markers;      /* per-socket source objects carrying read-only */
    GList *connections;      /* ApiConnection*, the server holds one ref each */
};

typedef struct {
    gint refs;
    VnicApiServer *server;   /* NULL once closed */
    GSocketConnection *conn;
    gboolean read_only;      /* came in on the read-only socket */
    gboolean allowed;        /* peer credentials passed the socket's check */
    gboolean subscribed;
    gboolean closed;
    gboolean discarding;     /* skipping the rest of an oversized line */
    gboolean writing;
    gboolean reading;        /* a read is under way */
    gboolean consuming;      /* consume_lines() is cutting lines */
    gboolean privileged;     /* root or the daemon's uid */
    uid_t uid;
    gint64 last_active;      /* monotonic time of the last request or reply */
    GCancellable *cancel;
    GByteArray *inbuf;
    GString *outbuf;         /* replies and events not yet handed to a write */
    char *outbuf_inflight;   /* what the current write is sending */
    gsize outbuf_len;
    guint8 *readbuf;
    guint8 readbuf_storage[65536];
    GQueue pending;          /* VnicApiRequest*, in arrival order */
} ApiConnection;

struct _VnicApiRequest {
    ApiConnection *conn;     /* a reference */
    JsonNode *id;            /* echoed in the reply, NULL when absent */
    char *command;
    JsonObject *args;        /* never NULL once parsed */
    char *reply;             /* the reply line once completed */
    gboolean completed;
    gboolean orphaned;       /* its connection closed: free on completion */
};

/* daemon-api-request.c */
const VnicApiCommand *vnic_api_parse_request(ApiConnection *c, const char *line, gsize len,
                                             VnicApiRequest *r, GError **error);
gboolean vnic_api_peer_allowed(GSocketConnection *conn, gboolean read_only);
gboolean vnic_api_remove_stale_socket(const char *path, GError **error);
