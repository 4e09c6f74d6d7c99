#!/usr/bin/env bash
# Installs what building and testing vnic needs on Debian 12.  Idempotent:
# apt is only called when something is missing.  gcc's ASan/UBSan runtimes
# come with build-essential.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libxml2-dev libjson-glib-dev libnl-route-3-dev
  qemu-system-x86   # the QMP tests talk to a real QEMU
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
