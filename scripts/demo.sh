#!/usr/bin/env bash
# The main job, for now offline: installs dependencies, builds, and plans the
# bundled CloudStack-style guest both ways, showing the guest names vnic's
# nic-first layout gives against libvirt's layout.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

example=examples/cloudstack-pc.xml
echo "### vnic plan $example --names    (vnic's nic-first layout)"
build/vnic plan "$example" --names
echo
echo "### vnic plan $example --names --policy libvirt    (what libvirt 9.0 would do)"
build/vnic plan "$example" --names --policy libvirt
echo
echo "### vnic plan examples/q35.xml --names"
build/vnic plan examples/q35.xml --names
