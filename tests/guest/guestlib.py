"""Drives the test guest (tests/guest) under QEMU over QMP and a unix-socket
serial console: the Guest class and check().  Shared by try-boot.sh (its
embedded Python) and probe-pc-bridge.py; python3 standard library only.

OUT (environment) is the directory of vmlinuz and initrd.img, default
build/guest."""
import json, os, re, shutil, socket, subprocess, tempfile, time

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
