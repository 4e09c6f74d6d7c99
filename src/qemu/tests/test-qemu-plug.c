/* test-qemu-plug.c: the hot-plug sequence against a scripted fake QEMU
 * whose replies come late or not at all.  QEMU reads its commands in
 * order, so a step it answers late still runs before the undo commands
 * sent after it: each such step must be undone too (a getfd with closefd,
 * a device_add with device_del), and a step that failed for sure only
 * with its ordinary undo.  Pure: no root, no QEMU. */
#include "test-qemu-helpers.h"
#include "test-qmp-helpers.h"

#include "qemu/qemu-hotplug.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define PLUG_XML                                                                              \
    "<domain type='qemu'><name>plug</name><memory unit='MiB'>64</memory>"                    \
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"       \
    "<devices><interface type='ethernet'><mac address='52:54:00:aa:bb:01'/>"                 \
    "<model type='virtio'/></interface></devices></domain>"

#define TIMEOUT_MS 200

typedef struct {
    gboolean done;
    GError *error;
} Done;

static void
on_plugged(GObject *source, GAsyncResult *res, gpointer data)
{
    Done *d = data;

    g_assert_false(vnic_qemu_plug_finish(res, NULL, &d->error));
    d->done = TRUE;
}

/* The plug vnic_qemu_hotplug_nic_async() makes for a tap NIC (one queue)
 * with alias net9, answering within TIMEOUT_MS. */
static void
start_plug(VnicQmpClient *client, Done *d)
{
    g_autoptr(VnicConfDomain) def = tq_parse(PLUG_XML);
    VnicConfDevice *dev = tq_nth(def, VNIC_CONF_DEV_INTERFACE, 0);
    VnicQemuPlug *plug = vnic_qemu_plug_new("hot-plug of net9", "net9");
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_free(dev->alias);
    dev->alias = g_strdup("net9");
    vnic_qemu_plug_add_tap(plug, "hostnet9", &fd, 1);
    vnic_qemu_plug_add_device(plug, def, dev, "hostnet9");
    vnic_qemu_plug_set_reply_timeout(plug, TIMEOUT_MS);
    vnic_qemu_plug_run_async(plug, client, NULL, NULL, on_plugged, d);
}

/* The peer's next command is @execute, its argument @key being @value. */
static JsonObject *
expect(TestPeer *peer, const char *execute, const char *key, const char *value)
{
    JsonObject *cmd = test_peer_next_command(peer);

    g_assert_cmpstr(json_object_get_string_member(cmd, "execute"), ==, execute);
    if (key)
        g_assert_cmpstr(json_object_get_string_member(
                            json_object_get_object_member(cmd, "arguments"), key), ==, value);
    return cmd;
}

/* The tap's getfd and netdev_add, answered: the device_add that follows. */
static JsonObject *
answer_tap_steps(TestPeer *peer)
{
    g_autoptr(JsonObject) getfd = expect(peer, "getfd", "fdname", "vnic-net9-0");
    g_autoptr(JsonObject) netdev = NULL;

    test_peer_reply(peer, getfd, "{}");
    netdev = expect(peer, "netdev_add", "id", "hostnet9");
    test_peer_reply(peer, netdev, "{}");
    return expect(peer, "device_add", "id", "net9");
}

static void
reply_error(TestPeer *peer, JsonObject *cmd, const char *desc)
{
    g_autofree char *text = g_strdup_printf(
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"%s\"}, \"id\": \"%s\"}\r\n", desc,
        json_object_get_string_member(cmd, "id"));

    test_peer_send(peer, text);
}

static void
assert_nothing_more(TestPeer *peer)
{
    test_run_for(50);
    g_assert_true(g_queue_is_empty(&peer->lines));
}

/* device_add answered too late: QEMU may have added the NIC; device_del
 * goes before netdev_del (the undo of the tap's netdev_add). */
static void
test_late_device_add(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) device = NULL, del = NULL, ndel = NULL;
    Done d = { 0 };

    start_plug(client, &d);
    device = answer_tap_steps(peer);
    /* no reply in time: the undo commands follow it */
    del = expect(peer, "device_del", "id", "net9");
    ndel = expect(peer, "netdev_del", "id", "hostnet9");
    test_peer_reply(peer, device, "{}"); /* what QEMU did after all, in order */
    test_peer_reply(peer, del, "{}");
    test_peer_reply(peer, ndel, "{}");
    test_run_until(&d.done);
    g_assert_error(d.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(d.error->message, "hot-plug of net9 failed at device_add"));
    g_clear_error(&d.error);
    assert_nothing_more(peer);
}

/* device_add refused: nothing was added, only the netdev goes. */
static void
test_refused_device_add(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) device = NULL, ndel = NULL;
    Done d = { 0 };

    start_plug(client, &d);
    device = answer_tap_steps(peer);
    reply_error(peer, device, "Duplicate device ID 'net9'");
    ndel = expect(peer, "netdev_del", "id", "hostnet9");
    test_peer_reply(peer, ndel, "{}");
    test_run_until(&d.done);
    g_assert_cmpstr(d.error->message, ==,
                    "hot-plug of net9 failed at device_add: device_add: Duplicate device ID 'net9'");
    g_clear_error(&d.error);
    assert_nothing_more(peer);
}

/* Nothing answered in time: QEMU runs the getfd and the tap's netdev_add
 * late (they go together: the netdev has an undo), then their undo in
 * reverse, and nothing else was sent. */
static void
test_late_getfd(void)
{
    g_autoptr(TestPeer) peer = NULL;
    g_autoptr(VnicQmpClient) client = test_connect_fake(&peer);
    g_autoptr(JsonObject) getfd = NULL, netdev = NULL, ndel = NULL, close = NULL;
    Done d = { 0 };

    start_plug(client, &d);
    getfd = expect(peer, "getfd", "fdname", "vnic-net9-0");
    netdev = expect(peer, "netdev_add", "id", "hostnet9");
    ndel = expect(peer, "netdev_del", "id", "hostnet9");
    close = expect(peer, "closefd", "fdname", "vnic-net9-0");
    test_peer_reply(peer, getfd, "{}");
    test_peer_reply(peer, netdev, "{}");
    test_peer_reply(peer, ndel, "{}");
    /* the netdev took the named fd */
    reply_error(peer, close, "File descriptor named 'vnic-net9-0' not found");
    /* then the flush of an fd QEMU might hold unnamed (harmless here) */
    for (guint i = 0; i < 2; i++) {
        g_autoptr(JsonObject) flush = expect(peer, i == 0 ? "getfd" : "closefd", "fdname",
                                             "vnic-flush");
        test_peer_reply(peer, flush, "{}");
    }
    test_run_until(&d.done);
    g_assert_error(d.error, VNIC_QMP_ERROR, VNIC_QMP_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(d.error->message, "hot-plug of net9 failed at getfd"));
    g_clear_error(&d.error);
    assert_nothing_more(peer);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/plug/late-device-add", test_late_device_add);
    g_test_add_func("/qemu/plug/refused-device-add", test_refused_device_add);
    g_test_add_func("/qemu/plug/late-getfd", test_late_getfd);
    return g_test_run();
}
