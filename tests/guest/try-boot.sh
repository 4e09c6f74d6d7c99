#!/bin/bash
# try-boot.sh OUTDIR [shell [pc|q35]]
#
# Manual check of the guest built by build-guest.sh OUTDIR.
#
# Without arguments after OUTDIR it runs three scripted boots and prints a
# PASS/FAIL line per check:
#   pc  : virtio-net-pci at addr 0x3   -> ID_NET_NAME_SLOT=ens3, boot time;
#         QMP netdev_add + device_add at addr 0x5 -> eth1, ID_NET_NAME_SLOT=ens5;
#         QMP device_del -> DEVICE_DELETED, eth1 gone;
#         guest-initiated unplug (slot power 0) of the NIC at 0x3;
#   q35 : NIC behind pcie-root-port rp1 -> ID_NET_NAME_PATH=enp1s0;
#         QMP hot-plug into root port rp2 -> eth1, ID_NET_NAME_PATH=enp2s0;
#         QMP system_powerdown (ACPI power button) -> the guest powers off.
# Every QEMU is started with -S, driven over QMP and a unix-socket serial
# console (the way a test harness would), and powered off at the end.
#
# `try-boot.sh OUTDIR shell [pc|q35]` instead boots with the serial console
# on this terminal (Ctrl-A X quits QEMU, or type `poweroff`).
#
# The NIC backend is `-netdev hubport`: a QEMU-internal hub with nothing
# attached, so no privileges and no host network traffic (QEMU warns that
# the hub "is not connected to host network": expected).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [shell [pc|q35]]" >&2; exit 2; }
OUT=$(cd "$1" && pwd)
for f in vmlinuz initrd.img; do
	[ -s "$OUT/$f" ] || { echo "$OUT/$f missing: run build-guest.sh $1 first" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "qemu-system-x86_64 missing: apt-get install qemu-system-x86" >&2; exit 1; }

if [ "${2:-}" = shell ]; then
	# shellcheck disable=SC2054 # commas belong to QEMU's option syntax
	case "${3:-pc}" in
	pc) dev=(-machine pc -device virtio-net-pci,netdev=n0,addr=0x3) ;;
	q35) dev=(-machine q35
		-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x2
		-device virtio-net-pci,netdev=n0,bus=rp1,addr=0x0) ;;
	*) echo "machine must be pc or q35" >&2; exit 2 ;;
	esac
	exec qemu-system-x86_64 -accel tcg "${dev[@]}" -m 256 -nodefaults -no-user-config \
		-display none -no-reboot -kernel "$OUT/vmlinuz" -initrd "$OUT/initrd.img" \
		-append 'console=ttyS0 quiet panic=-1' -serial mon:stdio \
		-netdev hubport,id=n0,hubid=0
fi

# The scripted run: python3 (standard library only) talks QMP and serial;
# the guest driver (Guest, check) is guestlib.py next to this script.
GUESTLIB_DIR=$(cd "$(dirname "$0")" && pwd)
export OUT GUESTLIB_DIR
exec python3 - <<'PYEOF'
import os, sys, time

sys.path.insert(0, os.environ["GUESTLIB_DIR"])
from guestlib import MARKER, Guest, check, results

# ---------------------------------------------------------------- pc -------
g = Guest(["-machine", "pc", "-netdev", "hubport,id=n0,hubid=0",
           "-device", "virtio-net-pci,netdev=n0,id=nic0,addr=0x3"])
try:
    t = g.boot()
    check("pc: boot to VNIC-GUEST-READY", True, f"{t:.2f}s after cont, {g.wall_time:.2f}s since exec")
    rc, mods = g.sh("cat /proc/modules | cut -d' ' -f1 | tr '\\n' ' '")
    check("pc: modules loaded", "virtio_net" in mods and "virtio_pci" in mods, mods.strip())
    ids = g.net_id("eth0")
    check("pc: eth0 ID_NET_NAME_SLOT=ens3", ids.get("ID_NET_NAME_SLOT") == "ens3", str(ids))
    rc, slots = g.sh("ls /sys/bus/pci/slots/5/power")
    check("pc: /sys/bus/pci/slots/5/power exists", rc == 0)

    r1 = g.qmp_cmd("netdev_add", type="hubport", id="n1", hubid=1)
    r2 = g.qmp_cmd("device_add", driver="virtio-net-pci", id="nic1", netdev="n1", bus="pci.0", addr="0x5")
    check("pc: QMP netdev_add/device_add", "return" in r1 and "return" in r2, f"{r1} {r2}")
    t0 = time.time()
    ok = g.wait_guest("[ -e /sys/class/net/eth1 ]")
    check("pc: hot-plugged NIC shows up as eth1", ok, f"{time.time()-t0:.2f}s")
    ids = g.net_id("eth1")
    check("pc: eth1 ID_NET_NAME_SLOT=ens5", ids.get("ID_NET_NAME_SLOT") == "ens5", str(ids))

    t0 = time.time()
    r = g.qmp_cmd("device_del", id="nic1")
    ev = g.wait_event("DEVICE_DELETED", "nic1")
    check("pc: device_del -> DEVICE_DELETED", "return" in r and ev is not None,
          f"{time.time()-t0:.2f}s {ev and ev['data']}")
    ok = g.wait_guest("[ ! -e /sys/class/net/eth1 ]")
    check("pc: eth1 gone in the guest", ok)
    g.qmp_cmd("netdev_del", id="n1")

    t0 = time.time()
    rc, _ = g.sh("echo 0 > /sys/bus/pci/slots/3/power")
    ev = g.wait_event("DEVICE_DELETED", "nic0")
    check("pc: guest-initiated unplug (slots/3/power=0) -> DEVICE_DELETED",
          rc == 0 and ev is not None, f"{time.time()-t0:.2f}s {ev and ev['data']}")
    ok = g.wait_guest("[ ! -e /sys/class/net/eth0 ]")
    check("pc: eth0 gone in the guest", ok)
finally:
    rc = g.poweroff()
    check("pc: poweroff ends QEMU", rc == 0, f"rc={rc}")

# ---------------------------------------------------------------- q35 ------
g = Guest(["-machine", "q35",
           "-device", "pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x2",
           "-device", "pcie-root-port,id=rp2,chassis=2,bus=pcie.0,addr=0x3",
           "-netdev", "hubport,id=n0,hubid=0",
           "-device", "virtio-net-pci,netdev=n0,id=nic0,bus=rp1,addr=0x0"])
try:
    t = g.boot()
    check("q35: boot to VNIC-GUEST-READY", True, f"{t:.2f}s after cont, {g.wall_time:.2f}s since exec")
    ids = g.net_id("eth0")
    check("q35: eth0 ID_NET_NAME_PATH=enp1s0", ids.get("ID_NET_NAME_PATH") == "enp1s0", str(ids))
    r1 = g.qmp_cmd("netdev_add", type="hubport", id="n1", hubid=1)
    r2 = g.qmp_cmd("device_add", driver="virtio-net-pci", id="nic1", netdev="n1", bus="rp2", addr="0x0")
    check("q35: QMP netdev_add/device_add into rp2", "return" in r1 and "return" in r2, f"{r1} {r2}")
    t0 = time.time()
    ok = g.wait_guest("[ -e /sys/class/net/eth1 ]")
    check("q35: hot-plugged NIC shows up as eth1", ok, f"{time.time()-t0:.2f}s")
    ids = g.net_id("eth1")
    check("q35: eth1 ID_NET_NAME_PATH=enp2s0", ids.get("ID_NET_NAME_PATH") == "enp2s0", str(ids))
    t0 = time.time()
    r = g.qmp_cmd("device_del", id="nic1")
    ev = g.wait_event("DEVICE_DELETED", "nic1")
    check("q35: device_del -> DEVICE_DELETED", "return" in r and ev is not None,
          f"{time.time()-t0:.2f}s {ev and ev['data']}")
finally:
    t0 = time.time()
    rc = g.poweroff(acpi=True)
    check("q35: QMP system_powerdown (ACPI power button) ends QEMU", rc == 0,
          f"rc={rc}, {time.time()-t0:.2f}s")

# --------------------------------------------------- echo on (human mode) --
g = Guest(["-machine", "pc"], echo=True)
try:
    g.boot()
    rc, out = g.sh("echo hello")
    check("pc, echo on: command works (output has the echo and ESC[6n)",
          rc == 0 and "hello" in out, repr(out))
    # ^C reaches the foreground job (the shell has a controlling tty).
    g.ser.sendall(b"sleep 1000\n"); time.sleep(1); g.ser.sendall(b"\x03")
    out = g.read_until(rb"vnic-guest# ", 10)
    rc, out2 = g.sh("echo after-ctrl-c")
    check("pc: ^C interrupts a command", "after-ctrl-c" in out2, repr(out))
    # `exit` gives a fresh shell (busybox init respawns it; no second marker).
    g.ser.sendall(b"exit\n")
    out = g.read_until(rb"vnic-guest# ", 20)
    rc, out2 = g.sh("echo respawned")
    check("pc: exit respawns the shell", rc == 0 and b"VNIC-GUEST-READY" not in out, repr(out))
finally:
    g.poweroff()

passed = sum(results); failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PYEOF
