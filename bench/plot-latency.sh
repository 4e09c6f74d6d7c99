#!/bin/bash
# bench/plot-latency.sh DIR [OUT.png]: the attach and detach latency
# distributions of vnic, libvirt and QEMU's raw floor as CDFs, one panel
# each, into a PNG (default DIR/latency.png), with gnuplot.
#
# DIR holds the raw samples, one number in ms a line:
#   attach-vnic.dat, detach-vnic.dat        bench/compare-libvirt --samples DIR
#   attach-libvirt.dat, detach-libvirt.dat  (or bench/hotplug --samples DIR)
#   attach-floor.dat, detach-floor.dat      bench/hotplug --samples DIR
# A missing file leaves its curve out.  gnuplot comes from Debian
# (gnuplot-nox); run as root it is installed when absent.  The PNG is made,
# never committed (docs/performance.md, "Plot").
set -euo pipefail

dir=${1:?usage: bench/plot-latency.sh DIR [OUT.png]}
out=${2:-$dir/latency.png}

if ! command -v gnuplot >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gnuplot-nox >/dev/null
	else
		echo "plot-latency: needs gnuplot (apt-get install gnuplot-nox)" >&2
		exit 1
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One CDF file per series: the sorted samples against their rank / n.
series() { # op who -> prints a gnuplot plot clause, or nothing
	local op=$1 who=$2 title=$3 f="$dir/$1-$2.dat"
	[ -s "$f" ] || return 0
	sort -g "$f" | awk '{ v[NR] = $1 } END { print v[1], 0; for (i = 1; i <= NR; i++) print v[i], i / NR }' \
		>"$tmp/$op-$who.cdf"
	local n median
	n=$(wc -l <"$f")
	median=$(sort -g "$f" | awk -v n="$n" 'NR == int((n + 1) / 2) { print $1 }')
	printf "'%s' using 1:2 with steps linewidth 2 title '%s (n=%s, median %s ms)', " \
		"$tmp/$op-$who.cdf" "$title" "$n" "$median"
}

plots() { # op
	local p
	p="$(series "$1" floor "QEMU floor (raw QMP)")$(series "$1" vnic vnic)$(series "$1" libvirt "libvirt 9.0")"
	if [ -z "$p" ]; then
		echo "plot-latency: no $1-*.dat in $dir" >&2
		exit 1
	fi
	echo "${p%, }"
}

attach=$(plots attach)
detach=$(plots detach)

gnuplot <<EOF
set terminal pngcairo size 1200,500 font ',10'
set output '$out'
set multiplot layout 1,2 title 'NIC hot-plug latency, request to reply (CDF; log scale)'
set logscale x
set grid
set key top left
set ylabel 'fraction of requests'
set xlabel 'attach: request -> return (ms)'
set yrange [0:1]
plot $attach
set xlabel 'detach: request -> completed (ms)'
plot $detach
unset multiplot
EOF
echo "plot-latency: $out"
