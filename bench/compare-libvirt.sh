#!/bin/bash
# bench/compare-libvirt.sh [--cycles N] [--samples DIR] [--plot OUT.png]:
# vnic side by side with libvirt 9.0 (build/bench/compare-libvirt, see
# bench/compare-libvirt.c), as root, from the source tree after
# `ninja -C build`.
#
# Installs what it needs from Debian when absent: libvirt-daemon,
# libvirt-daemon-driver-qemu and libvirt-clients (the same packages
# scripts/deps.sh installs for e2e-companion; not libvirt-daemon-system, so
# no system libvirtd is set up or started), and gnuplot-nox for --plot.
# The benchmark runs its own libvirtd and virtlogd in private namespaces and
# stops them again.  --plot OUT.png draws the samples with
# bench/plot-latency.sh (it implies --samples, a temp dir by default).
set -euo pipefail

cd "$(dirname "$0")/.."
build=${VNIC_BUILD:-build}
args=()
samples=
plot=
while [ $# -gt 0 ]; do
	case $1 in
	--samples) samples=$2; shift 2 ;;
	--plot) plot=$2; shift 2 ;;
	--cycles) args+=(--cycles "$2"); shift 2 ;;
	*) echo "usage: bench/compare-libvirt.sh [--cycles N] [--samples DIR] [--plot OUT.png]" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "compare-libvirt: run it as root (namespaces, taps, libvirtd)" >&2
	exit 1
fi

need=()
for p in libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
[ -n "$plot" ] && ! command -v gnuplot >/dev/null && need+=(gnuplot-nox)
if [ ${#need[@]} -gt 0 ]; then
	echo "compare-libvirt: installing ${need[*]} from Debian"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -n "$plot" ] && [ -z "$samples" ]; then
	samples=$(mktemp -d)
	trap 'rm -rf "$samples"' EXIT
fi
[ -n "$samples" ] && args+=(--samples "$samples")
"$build/bench/compare-libvirt" "${args[@]}"
if [ -n "$plot" ]; then
	bench/plot-latency.sh "$samples" "$plot"
fi
