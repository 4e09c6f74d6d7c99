#!/usr/bin/env bash
# `vnic plan` as a user runs it: what it prints, its exit codes, and that
# bad input leaves stdout empty.  Prints TAP.  Usage: cli-plan.sh VNIC SRCDIR
set -u
vnic=$1 src=$2
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
check() { # DESCRIPTION COMMAND…
  local what=$1; shift
  n=$((n + 1))
  if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; bad=$((bad + 1)); fi
}
run() { # runs vnic, keeping stdout, stderr and the status
  "$vnic" "$@" >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc"
}
has() { grep -qF -- "$2" "$tmp/$1"; }
rc_is() { [ "$(cat "$tmp/rc")" = "$1" ]; }
empty() { [ ! -s "$tmp/$1" ]; }

cs=$src/examples/cloudstack-pc.xml
run plan "$cs" --names
check "cloudstack: NICs at 3 and 4 named ens3, ens4" has out "0000:00:03.0" 
check "cloudstack: second NIC ens4" has out "ens4 (path enp0s4)"
check "cloudstack: next NIC at slot 5 is ens5" has out "next hot-plugged NIC: 0000:00:05.0 → ens5"
run plan "$cs" --names --policy libvirt
check "libvirt layout: next NIC is ens9" has out "next hot-plugged NIC: 0000:00:09.0 → ens9"
run plan "$src/examples/q35.xml" --names
check "q35: next NIC is enp3s0" has out "→ enp3s0"

run plan "$cs" --json
check "--json is valid JSON" python3 -c "import json,sys; d=json.load(open('$tmp/out')); sys.exit(d['next-nic']['names']['preferred'] != 'ens5')"

run plan "$cs"
cp "$tmp/out" "$tmp/planned.xml"
run plan "$tmp/planned.xml"
check "planned XML plans to itself" cmp -s "$tmp/out" "$tmp/planned.xml"
check "planned XML has every NIC addressed" bash -c "[ \$(grep -c \"<address type='pci'\" '$tmp/planned.xml') -ge 8 ]"

sed 's/52:54:00:c5:00:02/zz:54:00:c5:00:02/' "$cs" >"$tmp/bad-mac.xml"
run plan "$tmp/bad-mac.xml"
check "bad MAC: exit 1" rc_is 1
check "bad MAC: nothing on stdout" empty out
check "bad MAC: stderr names the interface and value" has err "interface #2: invalid MAC address 'zz:54:00:c5:00:02'"

echo "<domain" >"$tmp/broken.xml"
run plan "$tmp/broken.xml"
check "broken XML: exit 1 and nothing on stdout" bash -c "[ \$(cat '$tmp/rc') = 1 ] && [ ! -s '$tmp/out' ]"

sed "s|<model type='virtio'/>|<model type='virtio'/><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>|" "$cs" >"$tmp/bad-addr.xml"
run plan "$tmp/bad-addr.xml"
check "reserved slot: exit 1, message names the address" has err "address 0000:00:01.0"
check "reserved slot: nothing on stdout" empty out

run plan "$tmp/does-not-exist.xml"
check "missing file: exit 1" rc_is 1
run plan "$cs" --policy fastest
check "unknown policy: exit 2" rc_is 2
check "unknown policy: says which" has err "'fastest'"
run plan
check "no file: exit 2" rc_is 2

echo "1..$n"
[ $bad -eq 0 ]
