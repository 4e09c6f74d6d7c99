#!/usr/bin/env bash
# Installs what building and testing vnic needs on Debian 12.  Idempotent:
# apt is only called when something is missing.  gcc's ASan/UBSan runtimes
# come with build-essential.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libxml2-dev libjson-glib-dev libnl-route-3-dev
  qemu-system-x86   # the QMP tests talk to a real QEMU
  python3 iproute2  # e2e: the fake vnicd of the harness self-test; ip, bridge, tc
  openssh-client    # migrate's ssh:// transport (ssh -L), ssh-keygen in e2e-migrate
  ovmf              # UEFI guests: OVMF_CODE_4M.fd, OVMF_VARS_4M.fd, firmware descriptors
  debhelper dpkg-dev systemd  # the Debian package (debian/, tests/package-deb.sh)
  man-db bash-completion      # …and checking its man pages and completion
  clang             # the libFuzzer harnesses (fuzz/, docs/fuzzing.md)
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

# e2e-companion runs a real libvirt 9.0 (its own libvirtd in the test's
# namespaces).  Without recommends: they would bring QEMU for every
# architecture, lvm2, swtpm, … and libvirt-daemon-system's services.
libvirt_packages=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)
missing=()
for p in "${libvirt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# e2e-migrate's ssh:// case runs an sshd of its own inside host B's
# namespace (private config, port 2222).  Installing openssh-server would
# also enable and start a system sshd on port 22, so only its files are
# unpacked here, with libwrap0 (sshd links against it; not in a minimal
# Debian 12); the test finds the wrapper at $sshd_cache/sshd.
sshd_cache=/var/cache/vnic/e2e-sshd
if [[ ! -x /usr/sbin/sshd && ! -x $sshd_cache/sshd ]]; then
  echo "deps: unpacking openssh-server into $sshd_cache (no service)"
  dl=$(mktemp -d)
  apt_dl() { (cd "$dl" && apt-get -qq -o APT::Sandbox::User=root download openssh-server libwrap0); }
  apt_dl || { apt-get update -qq && apt_dl; }
  rm -rf "$sshd_cache" && mkdir -p "$sshd_cache"
  for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$sshd_cache/root"; done
  rm -rf "$dl"
  libdir=$(dirname "$(find "$sshd_cache/root" -name 'libwrap.so.0' | head -n1)")
  # sshd re-executes itself by its absolute path and keeps the environment
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$libdir" \
    "$sshd_cache/root/usr/sbin/sshd" >"$sshd_cache/sshd.new"
  chmod 755 "$sshd_cache/sshd.new" && mv "$sshd_cache/sshd.new" "$sshd_cache/sshd"
  if LD_LIBRARY_PATH=$libdir ldd "$sshd_cache/root/usr/sbin/sshd" | grep 'not found'; then
    echo "deps: the unpacked sshd lacks a library (above)" >&2
    exit 1
  fi
fi

# QEMU runs as this unprivileged user (vnicd --qemu-user); it gets every
# host resource as a file descriptor and reads only its kernel and initrd.
if ! getent passwd vnic-qemu >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vnic-qemu
fi
# …and may open /dev/kvm for <domain type='kvm'> where KVM works: the QEMU
# launcher gives QEMU this user's supplementary groups.
if getent group kvm >/dev/null && ! id -nG vnic-qemu | tr ' ' '\n' | grep -qx kvm; then
  usermod -a -G kvm vnic-qemu
fi
