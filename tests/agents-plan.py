#!/usr/bin/env python3
"""The agents' domains (tests/data/agents) under `vnic plan`, as a user runs it.

For every corpus file and both policies (nic-first, libvirt):
  - `vnic plan FILE --json --policy P` succeeds;
  - every <interface> of the file is in the slot map, by MAC, with an address
    and a predicted name;
  - nic-first: the NICs, in document order, are ens3, ens4, … (pc) or
    enp1s0, enp2s0, … (q35): what an agent's guest image expects;
  - libvirt: every NIC sits where libvirt 9.0 put it (NAME.libvirt.xml, made
    by `virsh define` + `dumpxml --inactive`, see tests/data/agents/README.md);
  - the planned XML (`vnic plan FILE --policy P`) plans to itself;
  - libvirt's own XML of the domain (NAME.libvirt.xml, every device
    addressed) plans too, every NIC keeping libvirt's address.
A domain vnicd cannot run (NOT_RUN) still plans, for users who keep it on
libvirt (companion mode), and the planned XML keeps the element vnicd
refuses; e2e-agents checks that `vnic define` refuses it, naming it.  Plus: the CloudStack PlugNic <interface> parses as a hot-plug device
(`vnic plan` of the user VM with it appended).
Prints TAP.  Usage: agents-plan.py VNIC SRCDIR
"""
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

VNIC, SRC = sys.argv[1], sys.argv[2]
DATA = os.path.join(SRC, "tests", "data", "agents")
# Domains vnicd cannot run, and the element why: `vnic plan` plans them and
# keeps it (e2e-agents checks that `vnic define` refuses them, naming it).
NOT_RUN = {"nova-ovs-virtualport-pc": "virtualport"}
CORPUS = sorted(f[:-4] for f in os.listdir(DATA)
                if f.endswith(".xml") and not f.endswith(".libvirt.xml")
                and f != "cloudstack-plugnic.xml")
count = 0
failed = 0


def check(ok, what, detail=""):
    global count, failed
    count += 1
    if ok:
        print(f"ok {count} - {what}")
    else:
        failed += 1
        print(f"not ok {count} - {what}")
        for line in str(detail).strip().splitlines()[:20]:
            print(f"# {line}")
    return ok


def vnic(*args):
    p = subprocess.run([VNIC, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def interfaces(path):
    """(mac, pci address or None) of every <interface>, in document order,
    across every <devices> block."""
    root = ET.parse(path).getroot()
    out = []
    for devices in root.findall("devices"):
        for i in devices.findall("interface"):
            mac = i.find("mac").get("address").lower()
            a = i.find("address")
            addr = None
            if a is not None and a.get("type") == "pci":
                addr = "%04x:%02x:%02x.%x" % tuple(
                    int(a.get(k), 0) for k in ("domain", "bus", "slot", "function"))
            out.append((mac, addr))
    return out


def machine_family(path):
    t = ET.parse(path).getroot().find("os/type")
    m = (t.get("machine") or "pc") if t is not None else "pc"
    return "q35" if "q35" in m else "pc"


def expected_names(family, n):
    if family == "q35":
        return [f"enp{i + 1}s0" for i in range(n)]
    return [f"ens{i + 3}" for i in range(n)]


def check_kept(name, policy):
    path = os.path.join(DATA, name + ".xml")
    rc, out, err = vnic("plan", path, "--policy", policy)
    check(rc == 0 and f"<{NOT_RUN[name]} " in out,
          f"{name} ({policy}): planned XML keeps <{NOT_RUN[name]}>",
          f"exit {rc}, stderr: {err.strip() or '(empty)'}")


def check_file(name, policy, tmp):
    path = os.path.join(DATA, name + ".xml")
    tag = f"{name} ({policy})"
    if name in NOT_RUN:
        check_kept(name, policy)
    rc, out, err = vnic("plan", path, "--json", "--policy", policy)
    if not check(rc == 0, f"{tag}: vnic plan --json succeeds", err):
        return
    slot_map = json.loads(out)
    by_mac = {d["mac"].lower(): d for d in slot_map["devices"] if d.get("mac")}
    nics = interfaces(path)
    missing = [m for m, _ in nics if m not in by_mac or not by_mac[m].get("address")]
    check(not missing, f"{tag}: every NIC has an address", f"not placed: {missing}")
    if missing:
        return
    got = [by_mac[m]["names"]["preferred"] for m, _ in nics]
    if policy == "nic-first":
        want = expected_names(machine_family(path), len(nics))
        check(got == want, f"{tag}: NICs in document order are {', '.join(want)}",
              f"predicted {got}")
    else:
        ref = dict(interfaces(os.path.join(DATA, name + ".libvirt.xml")))
        diff = [f"{m}: vnic {by_mac[m]['address']}, libvirt {ref.get(m)}"
                for m, _ in nics if by_mac[m]["address"] != ref.get(m)]
        check(not diff, f"{tag}: NICs where libvirt 9.0 puts them", "\n".join(diff))
    rc, planned, err = vnic("plan", path, "--policy", policy)
    if not check(rc == 0, f"{tag}: vnic plan (XML) succeeds", err):
        return
    again_path = os.path.join(tmp, f"{name}-{policy}.xml")
    with open(again_path, "w") as f:
        f.write(planned)
    rc, again, err = vnic("plan", again_path, "--policy", policy)
    check(rc == 0 and again == planned, f"{tag}: the planned XML plans to itself",
          err or "the second plan differs")


def check_libvirt_dump(name, policy):
    """libvirt's own inactive XML of the domain (what a host migrating from
    libvirt has): vnic plans it and keeps every NIC where libvirt put it."""
    path = os.path.join(DATA, name + ".libvirt.xml")
    tag = f"{name}.libvirt.xml ({policy})"
    rc, out, err = vnic("plan", path, "--json", "--policy", policy)
    if not check(rc == 0, f"{tag}: vnic plan --json succeeds", err):
        return
    by_mac = {d["mac"].lower(): d.get("address")
              for d in json.loads(out)["devices"] if d.get("mac")}
    diff = [f"{m}: libvirt {a}, vnic {by_mac.get(m)}"
            for m, a in interfaces(path) if by_mac.get(m) != a]
    check(not diff, f"{tag}: every NIC keeps libvirt's address", "\n".join(diff))


def check_plugnic(tmp):
    """The PlugNic <interface> appended to the user VM's last <devices>: it
    parses and gets the next slot after the boot NICs (ens5)."""
    user = open(os.path.join(DATA, "cloudstack-user-pc.xml")).read()
    nic = open(os.path.join(DATA, "cloudstack-plugnic.xml")).read()
    cut = user.rindex("</devices>")
    path = os.path.join(tmp, "plugnic.xml")
    with open(path, "w") as f:
        f.write(user[:cut] + nic + user[cut:])
    rc, out, err = vnic("plan", path, "--json")
    if not check(rc == 0, "cloudstack-plugnic: the PlugNic <interface> parses", err):
        return
    mac = interfaces(os.path.join(DATA, "cloudstack-user-pc.xml"))
    names = {d["mac"].lower(): d["names"]["preferred"]
             for d in json.loads(out)["devices"] if d.get("mac")}
    check(names.get("02:00:35:6a:00:05") == "ens5",
          "cloudstack-plugnic: a third NIC of the user VM is ens5",
          f"names {names}, boot NICs {mac}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for name in CORPUS:
            for policy in ("nic-first", "libvirt"):
                check_file(name, policy, tmp)
                check_libvirt_dump(name, policy)
        check_plugnic(tmp)
    print(f"1..{count}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
