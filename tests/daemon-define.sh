#!/usr/bin/env bash
# A real vnicd refuses at define what its QEMU launcher cannot run, with the
# message start would give (class Unsupported, the element and the value),
# and stores nothing; what CloudStack and nova send defines.  No QEMU runs.
# Prints TAP.  Usage: daemon-define.sh VNICD VNIC
set -u
vnicd=$1 vnic=$2
tmp=$(mktemp -d)
"$vnicd" --state-dir "$tmp/state" --run-dir "$tmp/run" --socket "$tmp/s.sock" \
    --qemu-user root >"$tmp/vnicd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -S "$tmp/s.sock" ] && break; sleep 0.05; done
n=0
check() { # DESCRIPTION COMMAND…
  local what=$1; shift
  n=$((n + 1))
  if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; sed 's/^/# /' "$tmp/err"; fi
}
domain() { # NAME BODY: a minimal pc domain with BODY inside <domain>
  printf "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>%s</domain>\n" "$1" "$2" \
    >"$tmp/$1.xml"
}
os="<os><type arch='x86_64' machine='pc'>hvm</type></os>"
refused() { # NAME BODY NEEDLE
  domain "$1" "$2"
  "$vnic" -c "$tmp/s.sock" define "$tmp/$1.xml" >"$tmp/out" 2>"$tmp/err"
  [ $? = 1 ] && grep -qF -- "vnic define: Unsupported: " "$tmp/err" && grep -qF -- "$3" "$tmp/err" &&
    ! "$vnic" -c "$tmp/s.sock" list --all --name | grep -qx "$1"
}
check "<memoryBacking><hugepages> refused at define" \
  refused mb "$os<memoryBacking><hugepages/></memoryBacking><devices/>" "<hugepages> in <memoryBacking>"
check "<graphics type='sdl'> refused at define" \
  refused sdl "$os<devices><graphics type='sdl'/></devices>" "'sdl' for <graphics type>"
check "host-passthrough on TCG refused at define" \
  refused hp "$os<cpu mode='host-passthrough'/><devices/>" "'host-passthrough' for <cpu mode>"
check "a tcp serial refused at define" \
  refused tcp "$os<devices><serial type='tcp'><source mode='connect' host='127.0.0.1' service='1'/></serial></devices>" \
  "'tcp' for <serial type>"
check "<cputune><emulator_quota> refused at define" \
  refused eq "$os<cputune><emulator_quota>10000</emulator_quota></cputune><devices/>" "<cputune><emulator_quota>"

domain cs "<vcpu placement='static'>1</vcpu><resource><partition>/machine</partition></resource>\
<cputune><shares>250</shares></cputune><sysinfo type='smbios'><system><entry name='product'>x</entry></system></sysinfo>\
<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/><smbios mode='sysinfo'/></os>\
<features><acpi/><apic/><pae/></features><cpu mode='host-model'/><clock offset='utc'><timer name='kvmclock'/></clock>\
<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>\
<devices><serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>\
<graphics type='vnc' autoport='yes' listen='0.0.0.0' passwd='x'/><memballoon model='virtio'><stats period='10'/></memballoon></devices>"
defines() { "$vnic" -c "$tmp/s.sock" define "$tmp/$1.xml" >/dev/null 2>"$tmp/err"; }
check "a CloudStack-like domain defines" defines cs
vnc_shut_off() {
  "$vnic" -c "$tmp/s.sock" vncdisplay cs >"$tmp/out" 2>"$tmp/err"
  [ $? = 1 ] && grep -qF "vnic vncdisplay: InvalidState: domain 'cs' is not running" "$tmp/err"
}
check "vncdisplay of a shut-off domain: InvalidState" vnc_shut_off
no_passwd() {
  "$vnic" -c "$tmp/s.sock" dumpxml cs >"$tmp/out" 2>"$tmp/err" && grep -q "<graphics type='vnc'" "$tmp/out" &&
    ! grep -q "passwd=" "$tmp/out"
}
check "dumpxml leaves the VNC password out" no_passwd
with_passwd() {
  "$vnic" -c "$tmp/s.sock" dumpxml cs --security-info >"$tmp/out" 2>"$tmp/err" &&
    grep -q "passwd='x'" "$tmp/out"
}
check "dumpxml --security-info has it" with_passwd
ro_refused() {
  "$vnic" -c "$tmp/s-ro.sock" dumpxml cs --security-info >"$tmp/out" 2>"$tmp/err"
  [ $? = 1 ] && grep -qF "PermissionDenied" "$tmp/err"
}
check "the read-only socket does not serve --security-info" ro_refused
echo "1..$n"
