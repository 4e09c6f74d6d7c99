#!/usr/bin/env python3
# probe-pc-bridge.py [CONFIG…]: can pc protect single NICs? (docs/pci.md,
# "pc: a pci-bridge without hot-plug").  A manual measurement, not a test.
#
# Boots the test guest (OUT=BUILD/guest, default build/guest) on pc with a
# pci-bridge at 00:1f.0, NIC nic0 at 00:03.0 and nic1 behind the bridge at
# 01:01.0, for each CONFIG "BRIDGE_ACPI,SHPC" (default below):
# -global PIIX4_PM.acpi-pci-hotplug-with-bridge-support=BRIDGE_ACPI and
# pci-bridge shpc=SHPC.  Prints the guest's /sys/bus/pci/slots, tries the
# guest's eject of nic1's slot, the guest's sysfs remove and rescan, host
# device_del/device_add on the bridge, a hot-plug on pci.0 and the guest's
# eject of it, and QEMU's answers (DEVICE_DELETED or the error).
# Default configs: off,off on,off off,on.
# The guest driver below is tests/guest/try-boot.sh's.
import json, os, re, shutil, socket, subprocess, sys, tempfile, time

OUT = os.environ.get("OUT", "build/guest")
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

def run(label, bridge_support, shpc):
    print(f"\n===== {label}: acpi-pci-hotplug-with-bridge-support={bridge_support}, pci-bridge shpc={shpc}", flush=True)
    args = ["-machine", "pc",
            "-global", f"PIIX4_PM.acpi-pci-hotplug-with-bridge-support={bridge_support}",
            "-device", f"pci-bridge,id=pci.1,chassis_nr=1,shpc={shpc},bus=pci.0,addr=0x1f",
            "-netdev", "hubport,id=n0,hubid=0", "-device", "virtio-net-pci,netdev=n0,id=nic0,mac=52:54:00:00:00:10,bus=pci.0,addr=0x3",
            "-netdev", "hubport,id=n1,hubid=0", "-device", "virtio-net-pci,netdev=n1,id=nic1,mac=52:54:00:00:00:11,bus=pci.1,addr=0x1"]
    g = Guest(args)
    try:
        t = g.boot(240)
        print(f"boot {t:.1f}s")
        def sh(c, to=60):
            rc, out = g.sh(c, to)
            print(f"guest$ {c}\n{out.rstrip()}\n[rc={rc}]", flush=True)
            return rc, out
        def q(cmd, **a):
            r = g.qmp_cmd(cmd, **a)
            print(f"qmp {cmd} {json.dumps(a)} -> {json.dumps(r)}", flush=True)
            return r
        sh("for s in /sys/bus/pci/slots/*; do echo \"$s $(cat $s/address)\"; done; true")
        sh("for i in /sys/class/net/eth*; do echo \"${i##*/} $(cat $i/address) $(readlink -f $i/device)\"; done")
        # the protected NIC behind the bridge: is there a slot? try eject
        sh("ls /sys/bus/pci/devices/0000:01:01.0/ ; true")
        sh("for s in /sys/bus/pci/slots/*; do [ \"$(cat $s/address)\" = 0000:01:01 ] && echo 0 > $s/power && echo ejected-$s; done; true")
        e = g.wait_event("DEVICE_DELETED", "nic1", 8)
        print("DEVICE_DELETED nic1 after guest slot eject:", e)
        # guest-side software remove: only unbinds in the guest
        sh("echo 1 > /sys/bus/pci/devices/0000:01:01.0/remove; ls /sys/bus/pci/devices | tr '\\n' ' '")
        e = g.wait_event("DEVICE_DELETED", "nic1", 8)
        print("DEVICE_DELETED nic1 after guest sysfs remove:", e)
        r = q("query-pci")
        devs = [(b['bus'], d['slot'], d.get('qdev_id')) for b in r['return'] for d in b['devices']]
        for b in r['return']:
            for d in b['devices']:
                if 'pci_bridge' in d:
                    devs += [(d['pci_bridge']['bus']['secondary'], x['slot'], x.get('qdev_id')) for x in d['pci_bridge'].get('devices', [])]
        print("query-pci:", devs)
        sh("echo 1 > /sys/bus/pci/rescan; sleep 1; ls /sys/bus/pci/devices | tr '\\n' ' '; ls /sys/class/net")
        # host side on the bridge
        q("device_del", id="nic1")
        e = g.wait_event("DEVICE_DELETED", "nic1", 10)
        print("DEVICE_DELETED nic1 after host device_del:", e)
        q("netdev_add", type="hubport", id="n2", hubid=0)
        q("device_add", driver="virtio-net-pci", netdev="n2", id="nic2", mac="52:54:00:00:00:12", bus="pci.1", addr="0x2")
        # root bus stays hot-pluggable
        q("netdev_add", type="hubport", id="n3", hubid=0)
        q("device_add", driver="virtio-net-pci", netdev="n3", id="nic3", mac="52:54:00:00:00:13", bus="pci.0", addr="0x5")
        ok = g.wait_guest("grep -q 52:54:00:00:00:13 /sys/class/net/*/address", 30)
        print("guest sees hot-plugged nic3 on pci.0:", ok)
        sh("for s in /sys/bus/pci/slots/*; do echo \"$s $(cat $s/address)\"; done; true")
        sh("echo 0 > /sys/bus/pci/slots/5/power; echo rc=$?")
        e = g.wait_event("DEVICE_DELETED", "nic3", 15)
        print("DEVICE_DELETED nic3 after guest eject of slot 5:", e)
        sh("ls /sys/class/net; cat /sys/class/net/*/address")
        # host unplug of the root-bus boot NIC still works
        q("device_del", id="nic0")
        e = g.wait_event("DEVICE_DELETED", "nic0", 15)
        print("DEVICE_DELETED nic0 after host device_del:", e)
    finally:
        g.poweroff()

for cfg in sys.argv[1:] or ["off,off", "on,off", "off,on"]:
    bs, shpc = cfg.split(",")
    run(cfg, bs, shpc)
