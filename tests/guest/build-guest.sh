#!/bin/bash
# build-guest.sh OUTDIR — build the vnic end-to-end test guest.
#
# Writes OUTDIR/vmlinuz and OUTDIR/initrd.img (cpio newc, gzip), built only
# from Debian packages:
#   * kernel + modules: linux-image-cloud-amd64 (the versioned package it
#     depends on), fetched with `apt-get download` and unpacked with
#     `dpkg-deb -x` into a cache: nothing is installed on the host for it
#     (installing a kernel package would run initramfs/bootloader hooks);
#   * busybox-static: same (download + unpack; it also conflicts with the
#     `busybox` package, so installing it could remove that one);
#   * udevadm: copied from the host's `udev` package, installed with apt-get
#     when missing. It is dynamically linked, and its libraries are found with
#     ldd, which needs them installed: installing udev does exactly that.
#
# Idempotent: a stamp in OUTDIR hashes every input (package versions, this
# script, ../init, the udevadm binary and its libraries); when it matches,
# nothing is done. Concurrent runs on the same OUTDIR are serialised by flock.
# Never writes outside OUTDIR (and the cache, OUTDIR/cache by default, or
# $VNIC_GUEST_CACHE).  Needs root for apt-get (it is skipped when nothing has
# to be downloaded or installed).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
log() { echo "build-guest: $*" >&2; }
die() { log "error: $*"; exit 1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
INIT_SRC="$HERE/init"
[ -f "$INIT_SRC" ] || die "missing $INIT_SRC"

mkdir -p "$1"
OUT=$(cd "$1" && pwd)
[ "$OUT" != "$HERE" ] || die "OUTDIR must not be the source directory"
CACHE=${VNIC_GUEST_CACHE:-$OUT/cache}
mkdir -p "$CACHE"

# The meta package always points at the current cloud kernel of the release.
KERNEL_META=linux-image-cloud-amd64
# insmod order at boot: every module comes after the ones it depends on
# (e.g. virtio_net needs virtio_ring, virtio and net_failover, which needs
# failover; virtio_pci needs virtio_pci_{legacy,modern}_dev).  evdev and
# button (ACPI power button) let acpid turn QMP system_powerdown into a
# poweroff: button reports KEY_POWER on an input device, evdev gives it a
# /dev/input/event* node.
MODULES="failover net_failover virtio_ring virtio virtio_pci_legacy_dev
virtio_pci_modern_dev virtio_pci virtio_net virtio_blk virtio_balloon
virtio_console evdev button"

# One builder at a time per OUTDIR (parallel test runs share it).
exec 9>"$OUT/.lock"
flock 9

# --- which package versions are we going to use? --------------------------
# One apt-cache call (it is the slow part of an up-to-date check): the
# candidate records of the kernel meta package and of busybox-static.  The
# meta package pins the versioned kernel package, e.g.
#   Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)
resolve_versions() {
	local recs
	recs=$(apt-cache show --no-all-versions "$KERNEL_META" busybox-static 2>/dev/null) || return 1
	eval "$(echo "$recs" | awk '
		/^Package: / { pkg = $2 }
		/^Version: / && pkg == "busybox-static" { printf "BB_VER=%s\n", $2 }
		/^Depends: / && pkg != "busybox-static" {
			sub(/^Depends: /, ""); split($0, deps, ", ")
			for (i in deps) if (deps[i] ~ /^linux-image-/) {
				n = split(deps[i], w, /[ ()=]+/)
				printf "KPKG=%s\nKPKG_VER=%s\n", w[1], (n >= 2 ? w[2] : "")
			}
		}')"
	[ -n "${KPKG:-}" ] && [ -n "${BB_VER:-}" ] || return 1
	# Unpinned dependency (not seen in Debian, but cheap to handle).
	[ -n "${KPKG_VER:-}" ] ||
		KPKG_VER=$(apt-cache policy "$KPKG" | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
	[ -n "$KPKG_VER" ]
}

APT_UPDATED=
apt_update() {
	[ -z "$APT_UPDATED" ] || return 0
	log "apt-get update"
	apt-get update -qq >&2
	APT_UPDATED=1
}

if ! resolve_versions; then
	# Fresh machine (no package lists yet), or lists without the package.
	if ! { apt_update && resolve_versions; }; then
		if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ]; then
			log "warning: cannot resolve package versions (offline?); keeping the existing guest"
			exit 0
		fi
		die "cannot find $KERNEL_META / busybox-static in apt"
	fi
fi

# udevadm comes from the host, so udev must be installed (it is small and
# its postinst does nothing harmful in a container or CI machine).
if [ "$(dpkg-query -W -f='${Status}' udev 2>/dev/null)" != "install ok installed" ]; then
	apt_update
	log "apt-get install udev"
	apt-get install -y -qq --no-install-recommends udev >&2
fi
UDEV_VER=$(dpkg-query -W -f='${Version}' udev)
UDEVADM=
for p in /usr/bin/udevadm /bin/udevadm /usr/sbin/udevadm /sbin/udevadm; do
	if [ -x "$p" ]; then UDEVADM=$(readlink -f "$p"); break; fi
done
[ -n "$UDEVADM" ] || die "udevadm not found although udev is installed"

# Shared libraries of udevadm ("name => /path (addr)") and the dynamic
# loader (the line without "=>"). linux-vdso has no file and is skipped.
udevadm_libs() {
	ldd "$UDEVADM" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}
LIBS=$(udevadm_libs)
[ -n "$LIBS" ] || die "ldd found no libraries for $UDEVADM"

# --- skip when nothing changed ----------------------------------------------
# shellcheck disable=SC2046 # the library paths have no spaces
compute_stamp() {
	STAMP=$(
		{
			echo "kernel $KPKG $KPKG_VER"
			echo "busybox-static $BB_VER"
			echo "udev $UDEV_VER"
			sha256sum "$SELF" "$INIT_SRC" "$UDEVADM" $(for l in $LIBS; do readlink -f "$l"; done)
		} | sha256sum | cut -d' ' -f1
	)
}
exit_if_up_to_date() {
	if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ] && [ -f "$OUT/stamp" ] &&
		[ "$(cat "$OUT/stamp")" = "$STAMP" ]; then
		log "up to date: $OUT ($KPKG $KPKG_VER)"
		exit 0
	fi
}
compute_stamp
exit_if_up_to_date

# --- fetch the .debs (cached by package and version) ------------------------
# fetch PKG VERSION -> prints the path of the .deb
fetch() {
	local pkg=$1 ver=$2 dir deb
	dir="$CACHE/debs/${pkg}_${ver//:/%3a}"
	deb=$(find "$dir" -maxdepth 1 -name '*.deb' 2>/dev/null | head -n1)
	if [ -z "$deb" ]; then
		mkdir -p "$dir.part"
		# The download runs as root in a directory _apt may not be able to
		# write: use root for it instead of apt's sandbox user (that only
		# silences a warning; the file is verified against the apt lists).
		if ! (cd "$dir.part" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver" >&2); then
			return 1
		fi
		rm -rf "$dir" && mv "$dir.part" "$dir"
		deb=$(find "$dir" -maxdepth 1 -name '*.deb' | head -n1)
		# Keep only the current version of each package in the cache.
		find "$CACHE/debs" -mindepth 1 -maxdepth 1 -name "${pkg}_*" ! -path "$dir" -exec rm -rf {} +
	fi
	[ -n "$deb" ] && echo "$deb"
}

if ! KDEB=$(fetch "$KPKG" "$KPKG_VER") || ! BBDEB=$(fetch busybox-static "$BB_VER"); then
	# Stale package lists (the archive moved on): refresh once and retry.
	apt_update
	resolve_versions || die "cannot resolve package versions after apt-get update"
	KDEB=$(fetch "$KPKG" "$KPKG_VER") || die "cannot download $KPKG $KPKG_VER"
	BBDEB=$(fetch busybox-static "$BB_VER") || die "cannot download busybox-static $BB_VER"
	# The versions may have moved on with the new lists.
	compute_stamp
	exit_if_up_to_date
fi

# --- unpack ------------------------------------------------------------------
# (Work dirs of builds that were killed are left-overs: remove them first.)
find "$OUT" -mindepth 1 -maxdepth 1 -name '.work.*' -exec rm -rf {} +
log "building guest in $OUT: $KPKG $KPKG_VER, busybox-static $BB_VER, udev $UDEV_VER"
WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
dpkg-deb -x "$KDEB" "$WORK/kernel"
dpkg-deb -x "$BBDEB" "$WORK/busybox"
KVER=$(ls "$WORK/kernel/lib/modules")
[ "$(echo "$KVER" | wc -l)" -eq 1 ] || die "expected one kernel in $KDEB, got: $KVER"
KMOD="$WORK/kernel/lib/modules/$KVER"
VMLINUZ="$WORK/kernel/boot/vmlinuz-$KVER"
[ -f "$VMLINUZ" ] || die "no vmlinuz in $KDEB"
BUSYBOX="$WORK/busybox/bin/busybox"
[ -x "$BUSYBOX" ] || die "no busybox in $BBDEB"

# --- assemble the root file system ------------------------------------------
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,lib64,proc,sys,dev,run,tmp,root}
mkdir -p "$R"/etc/vnic-guest "$R"/lib/modules/vnic
# udevadm looks for these; empty is fine (no rules/hwdb needed for the
# net_id builtin: it reads sysfs only).
mkdir -p "$R"/etc/udev/rules.d "$R"/etc/udev/hwdb.d "$R"/lib/udev/rules.d
chmod 1777 "$R/tmp"
chmod 0700 "$R/root"

install -m 0755 "$INIT_SRC" "$R/init"

# busybox and one symlink per applet, at the path busybox itself suggests.
# `--list-full` also names bin/busybox: don't turn it into a self-symlink.
install -m 0755 "$BUSYBOX" "$R/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	[ -e "$R/$applet" ] || [ -L "$R/$applet" ] && continue
	mkdir -p "$(dirname "$R/$applet")"
	ln -s /bin/busybox "$R/$applet"
done
# (/sbin/init is busybox init: the /init script execs it at the end.)
[ -L "$R/sbin/init" ] || die "busybox has no init applet"

# udevadm + its libraries at the same paths as on the host, real files (not
# the host's symlinks).  The initramfs has a split /bin,/lib layout, so the
# host's merged-/usr paths (/lib/x86_64-linux-gnu, /lib64) just work.
install -m 0755 "$UDEVADM" "$R/bin/udevadm"
for l in $LIBS; do
	mkdir -p "$(dirname "$R$l")"
	cp -L "$l" "$R$l"
done

# Kernel modules, decompressed (busybox insmod is not built with every
# decompressor, and the kernel's in-kernel decompression may be off).
: >"$R/etc/vnic-guest/modules"
for m in $MODULES; do
	f=$(find "$KMOD/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n1)
	if [ -z "$f" ]; then
		if grep -qE "/$m\.ko(\.[a-z]+)?\$" "$KMOD/modules.builtin"; then
			log "module $m is built in: not loaded"
			continue
		fi
		die "module $m neither in $KPKG nor built in"
	fi
	case "$f" in
	*.ko) cp "$f" "$R/lib/modules/vnic/$m.ko" ;;
	*.ko.xz) xz -dc "$f" >"$R/lib/modules/vnic/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$R/lib/modules/vnic/$m.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$R/lib/modules/vnic/$m.ko" ;;
	esac
	echo "$m" >>"$R/etc/vnic-guest/modules"
done

# What went in, for humans debugging a test failure (also in the guest).
{
	echo "kernel: $KPKG $KPKG_VER ($KVER)"
	echo "busybox-static: $BB_VER"
	echo "udev: $UDEV_VER"
	echo "modules: $(tr '\n' ' ' <"$R/etc/vnic-guest/modules")"
} >"$R/etc/vnic-guest/info"

# --- pack: cpio newc + gzip, reproducible (fixed mtimes, owner, inodes) ------
find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . -mindepth 1 | sed 's|^\./||' | sort |
	"$BUSYBOX" cpio -o -H newc -R 0:0 --ignore-devno --renumber-inodes 2>/dev/null) |
	gzip -9 -n >"$WORK/initrd.img"

# --- install into OUTDIR (stamp last, so an interrupted build is redone) -----
rm -f "$OUT/stamp"
cp "$VMLINUZ" "$OUT/vmlinuz.new" && mv -f "$OUT/vmlinuz.new" "$OUT/vmlinuz"
mv -f "$WORK/initrd.img" "$OUT/initrd.img"
cp "$R/etc/vnic-guest/info" "$OUT/guest-info.txt"
echo "$STAMP" >"$OUT/stamp"
log "done: $OUT/vmlinuz ($(du -k "$OUT/vmlinuz" | cut -f1) KiB), $OUT/initrd.img ($(du -k "$OUT/initrd.img" | cut -f1) KiB)"
