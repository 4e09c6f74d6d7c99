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

# The scripted run: python3 (standard library only) talks QMP and serial.
export OUT
exec python3 - <<'PYEOF'
import json, os, re, shutil, socket, subprocess, sys, tempfile, time

OUT = os.environ["OUT"]
MARKER = b"VNIC-GUEST-READY"
results = []

def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}: {name}" + (f"  [{detail}]" if detail else ""), flush=True)

class Guest:
    def __init__(self, machine_args, echo=False):
        self.dir = tempfile.mkdtemp(prefix="vnic-try.", dir="/tmp")
        ser, qmp = f"{self.dir}/serial.sock", f"{self.dir}/qmp.sock"
        append = "console=ttyS0 quiet panic=-1" + ("" if echo else " vnic.echo=0")
        cmd = ["qemu-system-x86_64", "-accel", "tcg", *machine_args,
               "-m", "256", "-nodefaults", "-no-user-config", "-display", "none",
               "-no-reboot", "-S",
               "-kernel", f"{OUT}/vmlinuz", "-initrd", f"{OUT}/initrd.img",
               "-append", append,
               "-chardev", f"socket,id=ser0,path={ser},server=on,wait=off",
               "-serial", "chardev:ser0",
               "-qmp", f"unix:{qmp},server=on,wait=off"]
        print("+", " ".join(cmd), flush=True)
        self.t_start = time.time()
        self.proc = subprocess.Popen(cmd, stderr=open(f"{self.dir}/qemu.log", "w"))
        deadline = time.time() + 10
        while not (os.path.exists(ser) and os.path.exists(qmp)):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("QEMU did not start: " + open(f"{self.dir}/qemu.log").read())
            time.sleep(0.05)
        self.ser = socket.socket(socket.AF_UNIX); self.ser.connect(ser)
        self.qmp = socket.socket(socket.AF_UNIX); self.qmp.connect(qmp)
        self.qbuf = b""
        self.events = []
        self.qmp_line(10)                        # greeting
        self.qmp_cmd("qmp_capabilities")
        self.buf = b""

    def qmp_line(self, timeout):
        """Next QMP message, or None after `timeout` seconds."""
        end = time.time() + timeout
        while b"\n" not in self.qbuf:
            left = end - time.time()
            if left <= 0: return None
            self.qmp.settimeout(left)
            try: data = self.qmp.recv(65536)
            except socket.timeout: continue
            if not data: raise EOFError("QMP closed")
            self.qbuf += data
        line, self.qbuf = self.qbuf.split(b"\n", 1)
        return json.loads(line)

    def qmp_cmd(self, cmd, **args):
        msg = {"execute": cmd}
        if args: msg["arguments"] = args
        self.qmp.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self.qmp_line(60)
            if r is None: raise TimeoutError(f"no QMP reply to {cmd}")
            if "event" in r: self.events.append(r); continue
            return r

    def wait_event(self, name, device=None, timeout=30):
        """Wait for QMP event `name` (with data.device == device, if given)."""
        end = time.time() + timeout
        while True:
            for e in self.events:
                if e["event"] == name and (device is None or e.get("data", {}).get("device") == device):
                    self.events.remove(e); return e
            left = end - time.time()
            if left <= 0: return None
            r = self.qmp_line(left)
            if r is not None: self.events.append(r)

    def read_until(self, pat, timeout):
        """Read serial output until regex `pat` (bytes) matches; return text before+match."""
        end = time.time() + timeout
        while True:
            m = re.search(pat, self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out
            left = end - time.time()
            if left <= 0: raise TimeoutError(f"no {pat!r} in {self.buf[-500:]!r}")
            self.ser.settimeout(left)
            try: data = self.ser.recv(65536)
            except socket.timeout: continue
            if not data: raise EOFError("serial console closed")
            self.buf += data

    def boot(self, timeout=120):
        t0 = time.time()
        self.qmp_cmd("cont")
        self.read_until(re.escape(MARKER), timeout)
        self.boot_time = time.time() - t0
        self.wall_time = time.time() - self.t_start
        self.read_until(rb"vnic-guest# ", 10)   # first prompt
        return self.boot_time

    def sh(self, command, timeout=60):
        """Run one command; return (exit status, output with \\r removed)."""
        self.ser.sendall(command.encode() + b"; echo @@RC=$?@@\n")
        out = self.read_until(rb"@@RC=(\d+)@@\r?\n", timeout)
        self.read_until(rb"vnic-guest# ", 10)
        m = re.search(rb"@@RC=(\d+)@@", out)
        text = out[:m.start()].decode(errors="replace").replace("\r", "")
        return int(m.group(1)), text

    def wait_guest(self, cond, timeout=30):
        """Poll a shell condition in the guest until it is true."""
        rc, _ = self.sh(f"i=0; while ! {cond}; do i=$((i+1)); [ $i -ge {timeout*10} ] && break; sleep 0.1; done; {cond}",
                        timeout + 10)
        return rc == 0

    def net_id(self, ifname):
        rc, out = self.sh(f"udevadm test-builtin net_id /sys/class/net/{ifname} 2>/dev/null")
        return dict(l.split("=", 1) for l in out.splitlines() if l.startswith("ID_NET_NAME"))

    def poweroff(self, acpi=False):
        """`poweroff` in the guest, or with acpi=True the ACPI power button
        (QMP system_powerdown, which the guest's acpid answers)."""
        try:
            if acpi:
                self.qmp_cmd("system_powerdown")
            else:
                self.ser.sendall(b"poweroff\n")
            self.proc.wait(30)
        except Exception:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill(); self.proc.wait()
            shutil.rmtree(self.dir, ignore_errors=True)
        return self.proc.returncode

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
