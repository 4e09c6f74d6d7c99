#!/usr/bin/env bash
# package-deb.sh [SOURCE-DIR]: builds vnic's Debian package from a temporary
# copy of the tree (dpkg-buildpackage -b -us -uc), installs it into this
# machine with dpkg, checks what a packager and an admin would (the user,
# --version, systemd-analyze verify, man pages, bash completion, the shipped
# config, vnicd answering), then purges it.  TAP on stdout.
#
# Root only, and it really installs into /: meant for CI's throwaway
# machine (scripts/test.sh runs it).  On a dev machine it leaves nothing
# behind (the purge runs on any exit) but the vnic-qemu user, which
# scripts/deps.sh creates anyway; it refuses to run where a vnic package is
# already installed.  Build dependencies: scripts/deps.sh.
set -uo pipefail

SRC=$(cd "${1:-$(dirname "$0")/..}" && pwd)
n=0 failures=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $*"; }
check() { # DESCRIPTION COMMAND…: ok when COMMAND succeeds, else its output as diagnostics
	local what=$1 out; shift
	if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what"; sed 's/^/# /' <<<"$out"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

[ "$(id -u)" = 0 ] || skip_all "needs root: it installs the package"
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
	skip_all "no dpkg-buildpackage/debhelper (scripts/deps.sh installs them)"
if dpkg-query -W -f='${Status}' vnic 2>/dev/null | grep -q 'installed'; then
	skip_all "a vnic package is installed on this machine already: not touching it"
fi

tmp=$(mktemp -d /tmp/vnic-package.XXXXXX)
installed=0 vnicd_pid=
cleanup() {
	[ -z "$vnicd_pid" ] || { kill "$vnicd_pid" 2>/dev/null; wait "$vnicd_pid" 2>/dev/null; }
	[ $installed = 0 ] || dpkg --purge vnic >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- build, in a copy: the tree itself stays clean ---------------------------
mkdir "$tmp/src"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$SRC" ls-files -z --cached --others --exclude-standard |
		(cd "$SRC" && tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
else
	tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$tmp/src"
fi
# noopt, noddebs: a faster build; the package is the same but for -O2 and
# the debug symbols package.
if (cd "$tmp/src" && DEB_BUILD_OPTIONS="nocheck noopt noddebs parallel=$(nproc)" \
	dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1; then
	ok "dpkg-buildpackage -b -us -uc builds a .deb"
else
	not_ok "dpkg-buildpackage -b -us -uc builds a .deb"
	tail -30 "$tmp/build.log" | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
echo "# built in ${SECONDS} s"
deb=$(ls "$tmp"/vnic_*.deb)
version=$(dpkg-deb -f "$deb" Version)

# --- the package's files and scripts, unpacked -------------------------------
mkdir "$tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
check "the .deb has binaries, unit, sysusers.d, tmpfiles.d, config, man pages, completion" \
	bash -c 'cd "$1" && ls usr/bin/vnic usr/libexec/vnic/vnic-full usr/sbin/vnicd lib/systemd/system/vnicd.service \
		usr/lib/sysusers.d/vnic.conf usr/lib/tmpfiles.d/vnic.conf etc/vnic/vnicd.conf \
		usr/share/man/man1/vnic.1.gz usr/share/man/man8/vnicd.8.gz \
		usr/share/man/man5/vnic-xml.5.gz usr/share/bash-completion/completions/vnic' _ "$tmp/root"
check "/etc/vnic/vnicd.conf is a conffile" \
	bash -c 'dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles | grep -qx /etc/vnic/vnicd.conf' _ "$deb"
check "postinst creates the user (systemd-sysusers vnic.conf)" \
	bash -c 'dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./postinst | grep -q "systemd-sysusers.* vnic.conf"' _ "$deb"
# what that postinst line does, in an empty root: the host's users stay as they are
mkdir -p "$tmp/root/etc"
check "its sysusers.d file creates vnic-qemu (system user, nologin, in group kvm)" \
	bash -c 'systemd-sysusers --root="$1" vnic.conf &&
		grep -E "^vnic-qemu:x:[0-9]+:[0-9]+:.*:/nonexistent:/usr/sbin/nologin$" "$1/etc/passwd" &&
		grep -E "^kvm:x:[0-9]+:(.*,)?vnic-qemu(,.*)?$" "$1/etc/group"' _ "$tmp/root"
for page in man1/vnic.1.gz man8/vnicd.8.gz man5/vnic-xml.5.gz; do
	check "man -l $page renders without warnings" bash -c '
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>"$2") || exit 1
		[ ! -s "$2" ] || { cat "$2"; exit 1; }
		grep -q "^NAME" <<<"$out"' _ "$tmp/root/usr/share/man/$page" "$tmp/man.err"
done

# --- installed -----------------------------------------------------------------
if dpkg -i "$deb" >"$tmp/install.log" 2>&1; then
	installed=1
	ok "dpkg -i installs it"
else
	installed=1 # half-installed: purge it all the same
	not_ok "dpkg -i installs it"
	sed 's/^/# /' "$tmp/install.log"
fi
check "the user vnic-qemu exists" getent passwd vnic-qemu
check "vnicd --version prints vnicd $version" bash -c '[ "$(/usr/sbin/vnicd --version)" = "vnicd $1" ]' _ "$version"
check "vnic --version prints vnic $version" bash -c '[ "$(vnic --version)" = "vnic $1" ]' _ "$version"
check "the installed vnic runs the XML verbs (vnic plan, through libexec's vnic-full)" bash -c '
	vnic plan --names "$1/examples/cloudstack-pc.xml" | grep -q "ens3"' _ "$SRC"
check "tmpfiles.d made /run/vnic (0755) and /var/lib/vnic (0700)" \
	bash -c '[ "$(stat -c %a /run/vnic)" = 755 ] && [ "$(stat -c %a /var/lib/vnic)" = 700 ]'
check "systemd-analyze verify vnicd.service: no complaint" bash -c '
	out=$(systemd-analyze verify /lib/systemd/system/vnicd.service 2>&1); rc=$?
	echo "$out"; [ $rc = 0 ] && ! grep -q "vnicd.service" <<<"$out"'
# In a Debian container image dpkg may drop /usr/share/man (path-exclude).
if [ -e /usr/share/man/man1/vnic.1.gz ]; then
	for page in "1 vnic" "8 vnicd" "5 vnic-xml"; do
		check "man $page renders" bash -c 'LC_ALL=C.UTF-8 MANWIDTH=80 man $1 | grep -q "^NAME"' _ "$page"
	done
else
	for page in "1 vnic" "8 vnicd" "5 vnic-xml"; do
		ok "man $page renders # SKIP dpkg excludes /usr/share/man here (/etc/dpkg/dpkg.cfg.d)"
	done
fi
check "bash completion completes vnic's verbs" bash -c '
	source /usr/share/bash-completion/bash_completion 2>/dev/null || exit 1
	source /usr/share/bash-completion/completions/vnic
	COMP_WORDS=(vnic detach-i); COMP_CWORD=1; COMP_LINE="vnic detach-i"; COMP_POINT=${#COMP_LINE}
	_vnic vnic detach-i vnic
	[ "${COMPREPLY[*]}" = detach-interface ] || { echo "got: ${COMPREPLY[*]}"; exit 1; }'

# The shipped config with every key set to its default parses; the command
# line overrides it (paths in $tmp, not the machine's /run/vnic).
sed -E 's/^#([a-z-]+=)/\1/' /etc/vnic/vnicd.conf >"$tmp/all-keys.conf"
check "the shipped vnicd.conf, every key uncommented, is valid" \
	grep -q '^qemu-uid-range=65536-99999$' "$tmp/all-keys.conf"
/usr/sbin/vnicd --config "$tmp/all-keys.conf" --run-dir "$tmp/run" --state-dir "$tmp/state" \
	--socket "$tmp/run/vnicd.sock" --ro-socket "$tmp/run/vnicd-ro.sock" >"$tmp/vnicd.log" 2>&1 &
vnicd_pid=$!
for _ in $(seq 100); do [ -S "$tmp/run/vnicd-ro.sock" ] && break; sleep 0.1; done
check "installed vnicd runs with it and answers vnic list" vnic -c "$tmp/run/vnicd.sock" list --all
kill "$vnicd_pid" && wait "$vnicd_pid"
check "vnicd stops on SIGTERM with status 0" test $? = 0
vnicd_pid=
printf '[vnicd]\nspare-ports=lots\n' >"$tmp/bad.conf"
check "a broken config: vnicd fails naming the file and the key" bash -c '
	out=$(/usr/sbin/vnicd --config "$1" 2>&1) && exit 1
	grep -qF "$1: key '\''spare-ports'\''" <<<"$out" || { echo "$out"; exit 1; }' _ "$tmp/bad.conf"

# --- purged --------------------------------------------------------------------
check "dpkg --purge removes it" dpkg --purge vnic
installed=0
check "nothing of it is left" bash -c '! [ -e /usr/sbin/vnicd ] && ! [ -e /etc/vnic ] &&
	! [ -e /lib/systemd/system/vnicd.service ] && ! dpkg-query -W vnic 2>/dev/null | grep -q .'

echo "# all in ${SECONDS} s"
echo "1..$n"
[ $failures = 0 ]
