/* test-qmp-helpers.h: a scripted fake QMP peer and main-loop helpers for
 * the QMP client tests. */
#pragma once

#include "qemu/qmp-client-priv.h"

G_BEGIN_DECLS

/* The QEMU side of a socketpair, driven by the test.  Its reader runs on
 * the default main context: lines and fds arrive while the test waits in
 * test_run_until(). */
typedef struct {
    int fd;
    guint watch_id;
    GString *inbuf;
    GQueue lines;       /* char *, complete lines without the '\n' */
    GArray *fds;        /* int, received with SCM_RIGHTS, owned */
    gboolean eof;
} TestPeer;

/* A peer and, in *client_fd, the client's end. */
TestPeer *test_peer_new(int *client_fd);
/* A peer on an already connected socket (taken). */
TestPeer *test_peer_new_for_fd(int fd);
void test_peer_free(TestPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestPeer, test_peer_free)

/* Writes all of @text (blocking). */
void test_peer_send(TestPeer *peer, const char *text);
/* Waits for the client's next line and parses it. */
JsonObject *test_peer_next_command(TestPeer *peer);
/* Sends {"return": <return_json>, "id": <cmd's id>}. */
void test_peer_reply(TestPeer *peer, JsonObject *cmd, const char *return_json);
/* Closes the peer's end: the client sees EOF. */
void test_peer_close(TestPeer *peer);

#define TEST_GREETING \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
    "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* A client connected to a new peer, past the handshake. */
VnicQmpClient *test_connect_fake(TestPeer **ret_peer);

/* Iterates the default main context until *flag, failing the test after
 * 20 s instead of hanging. */
void test_run_until(const gboolean *flag);
/* Iterates for about @ms milliseconds. */
void test_run_for(guint ms);

/* The result of one async call. */
typedef struct {
    gboolean done;
    JsonNode *value;
    GError *error;
    VnicQmpClient *client; /* for connect */
} TestResult;

void test_result_clear(TestResult *res);
void test_execute_cb(GObject *source, GAsyncResult *result, gpointer data);
void test_connect_cb(GObject *source, GAsyncResult *result, gpointer data);

/* Runs one command to completion. */
void test_execute(VnicQmpClient *client, const char *command, JsonObject *arguments,
                  const int *fds, guint n_fds, guint timeout_ms, TestResult *res);

/* Open fds of this process. */
guint test_count_fds(void);
void test_list_fds(void);

/* Creates GLib's lazy singletons (main context wakeup fds, GIO types) by
 * running one fake session, so that per-test fd counts compare equal. */
void test_warm_up(void);

/* Registers @func, checking that it leaves as many fds open as it found
 * and no callback pending on the main context. */
void test_add_fd_checked(const char *path, void (*func)(void));

/* Parses a JSON object (the test's own text, so it must parse). */
JsonObject *test_json_object(const char *text);

/* Test registration, one per file. */
void test_qmp_fake_register(void);
void test_qmp_lifecycle_register(void);
void test_qmp_qemu_register(void);

G_END_DECLS
