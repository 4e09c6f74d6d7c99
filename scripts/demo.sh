#!/usr/bin/env bash
# The live demo, on a fresh Debian 12 machine as root: installs what vnic
# needs (scripts/deps.sh), builds (build/, including the tiny test guest in
# build/guest), then runs build/bench/demo (bench/demo.c), which in a private
# network namespace starts vnicd, boots the bundled CloudStack-style guest,
# hot-plugs a third NIC, shows the name the guest gives it next to the one
# libvirt's layout would have given, unplugs it, shuts the guest down and
# cleans up.  Exit 0 when every step worked.  Well under a minute once built.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "scripts/demo.sh: run it as root (it installs packages, creates network namespaces and taps)" >&2
  exit 1
fi

scripts/deps.sh
if [ ! -f build/build.ninja ]; then
  echo "demo: meson setup build"
  meson setup build -Dwerror=true >/dev/null
fi
echo "demo: building (ninja -C build; the first build also builds the test guest)"
if ! ninja -C build >/tmp/vnic-demo-build.log 2>&1; then
  tail -n 40 /tmp/vnic-demo-build.log >&2
  echo "scripts/demo.sh: the build failed (full log: /tmp/vnic-demo-build.log)" >&2
  exit 1
fi
rm -f /tmp/vnic-demo-build.log
echo

exec build/bench/demo
