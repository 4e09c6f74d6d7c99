#!/usr/bin/env bash
# vnicd's config file (--config, GKeyFile [vnicd]) and its command line: the
# file's settings apply, options override them, a broken file is an error
# naming the file and the key, -v/--version.  No QEMU runs.  TAP.
# Usage: daemon-config.sh VNICD VNIC
set -u
vnicd=$1 vnic=$2
tmp=$(mktemp -d)
pid=
stop() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; pid=; }
trap 'stop; rm -rf "$tmp"' EXIT
n=0 failures=0
check() { # DESCRIPTION COMMAND…
  local what=$1; shift
  n=$((n + 1))
  if "$@" >"$tmp/err" 2>&1; then echo "ok $n - $what"; else
    failures=$((failures + 1)); echo "not ok $n - $what"; sed 's/^/# /' "$tmp/err"; fi
}
start() { # SOCKET ARG…: vnicd with ARGs, until SOCKET answers
  local sock=$1; shift
  "$vnicd" --qemu-user root "$@" >"$tmp/vnicd.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && return 0; sleep 0.05; done
  cat "$tmp/vnicd.log"; return 1
}
ports() { grep -c "model='pcie-root-port'"; }

printf '%s\n' "<domain type='qemu'><name>q</name><memory unit='MiB'>64</memory>" \
  "<os><type arch='x86_64' machine='q35'>hvm</type></os>" \
  "<devices><interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface></devices>" \
  "</domain>" >"$tmp/q35.xml"
printf '%s\n' "# a comment" "[vnicd]" "state-dir=$tmp/state" "run-dir=$tmp/run" \
  "socket=$tmp/conf.sock" "spare-ports=2" "log-level=warning" >"$tmp/vnicd.conf"
plan2=$("$vnic" plan --spare-ports 2 "$tmp/q35.xml" | ports)
plan3=$("$vnic" plan --spare-ports 3 "$tmp/q35.xml" | ports)

version() { [ "$("$vnicd" --version)" = "$("$vnicd" -v)" ] && "$vnicd" --version | grep -qE '^vnicd [0-9]+\.[0-9]+'; }
check "vnicd -v and --version print its version" version

check "vnicd runs with the config's dirs and socket" start "$tmp/conf.sock" --config "$tmp/vnicd.conf"
defined_ports() { "$vnic" -c "$tmp/conf.sock" define "$tmp/q35.xml" >/dev/null &&
  [ "$("$vnic" -c "$tmp/conf.sock" dumpxml q | ports)" = "$1" ] && [ -f "$tmp/state/domains/q.xml" ]; }
check "the config's spare-ports=2 plans like vnic plan --spare-ports 2 ($plan2 root ports)" defined_ports "$plan2"
quiet() { sleep 0.2; ! grep -q "serving" "$tmp/vnicd.log"; }
check "the config's log-level=warning keeps messages out of the log" quiet
stop

check "vnicd runs with options over the config" \
  start "$tmp/opt.sock" --config "$tmp/vnicd.conf" --socket "$tmp/opt.sock" --spare-ports 3 --log-level message
overridden() {
  "$vnic" -c "$tmp/opt.sock" undefine q >/dev/null && ! [ -e "$tmp/conf.sock" ] &&
    "$vnic" -c "$tmp/opt.sock" define "$tmp/q35.xml" >/dev/null &&
    [ "$("$vnic" -c "$tmp/opt.sock" dumpxml q | ports)" = "$plan3" ] &&
    grep -q "serving $tmp/opt.sock" "$tmp/vnicd.log"
}
check "--socket, --spare-ports 3 ($plan3 root ports) and --log-level message win over the config" overridden
stop

fails() { # NEEDLE ARG…: vnicd exits 1 at once, NEEDLE on stderr
  local needle=$1 out; shift
  out=$(timeout 10 "$vnicd" --qemu-user root --run-dir "$tmp/run" --state-dir "$tmp/state" "$@" 2>&1)
  if [ $? = 1 ] && grep -qF -- "$needle" <<<"$out"; then return 0; fi
  echo "$out"; return 1
}
printf '[vnicd]\nspare-ports=many\n' >"$tmp/bad-int.conf"
check "a bad number: error naming the file and the key" \
  fails "$tmp/bad-int.conf: key 'spare-ports' must be a number from 0 to 255, not 'many'" --config "$tmp/bad-int.conf"
printf '[vnicd]\nlog-level=loud\n' >"$tmp/bad-level.conf"
check "a bad log level: error naming the file and the key" \
  fails "$tmp/bad-level.conf: key 'log-level' must be critical, warning, message, info or debug, not 'loud'" \
  --config "$tmp/bad-level.conf"
printf '[vnicd]\nstatedir=/x\n' >"$tmp/typo.conf"
check "an unknown key: error naming the file and the key" \
  fails "$tmp/typo.conf: unknown key 'statedir' in [vnicd]" --config "$tmp/typo.conf"
printf 'state-dir=/x\n' >"$tmp/nogroup.conf"
check "not a key file: error naming the file" fails "config file $tmp/nogroup.conf: " --config "$tmp/nogroup.conf"
check "a missing --config file: error naming it" \
  fails "config file $tmp/none.conf: No such file or directory" --config "$tmp/none.conf"
check "--log-level with a bad value: error" fails "--log-level must be critical, warning" --log-level loud
check "a bad option value is refused even when the config is fine" \
  fails "--spare-ports must be 0 to 255, not 300" --config "$tmp/vnicd.conf" --spare-ports 300
# QEMU's ids: a range of per-domain uids, or one user (vnicd(8), docs/security.md)
check "qemu-user and qemu-uid-range together: error naming both" \
  fails "qemu-user 'root' and qemu-uid-range '70000-70009' exclude each other" --qemu-uid-range 70000-70009
printf '[vnicd]\nqemu-uid-range=99999-65536\n' >"$tmp/bad-range.conf"
range_fails() { # NEEDLE ARG…: like fails, without --qemu-user
  local needle=$1 out; shift
  out=$(timeout 10 "$vnicd" --run-dir "$tmp/run" --state-dir "$tmp/state" "$@" 2>&1)
  if [ $? = 1 ] && grep -qF -- "$needle" <<<"$out"; then return 0; fi
  echo "$out"; return 1
}
check "a reversed qemu-uid-range in the config: error naming the key and the value" \
  range_fails "qemu-uid-range: id range '99999-65536' must be START-END" --config "$tmp/bad-range.conf"
check "a qemu-uid-range holding a user's uid ('daemon' has uid 1): error naming it" \
  range_fails "qemu-uid-range 1-999: user '" --qemu-uid-range 1-999
echo "1..$n"
[ $failures = 0 ]
