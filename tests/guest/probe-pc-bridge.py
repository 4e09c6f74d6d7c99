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
# The guest driver is tests/guest/guestlib.py (shared with try-boot.sh).
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestlib import Guest  # noqa: E402  (OUT: environment, default build/guest)


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
