#!/usr/bin/env bash
# man-pages.sh VNIC VNICD MANDIR: the man pages document what the programs
# offer — every verb of `vnic --help` has an entry in vnic(1), every option
# of `vnicd --help` one in vnicd(8) — and all three pages render without a
# groff warning.  TAP.
set -uo pipefail
vnic=$1 vnicd=$2 mandir=$3
n=0 failures=0
result() { # STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else failures=$((failures + 1)); echo "not ok $n - $2"; fi
}

# an entry is a tag line starting with the bold verb: \fBdomif\-setlink\fR
missing=
for verb in $("$vnic" --help | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p' | sort -u); do
	grep -qF "\\fB${verb//-/\\-}\\fR" "$mandir/vnic.1.in" || missing+=" $verb"
done
[ -z "$missing" ] || echo "# verbs without an entry in man/vnic.1.in:$missing"
result "$([ -z "$missing" ]; echo $?)" "every verb of vnic --help is in vnic(1)"

missing=
for opt in $("$vnicd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	[ "$opt" = --help ] && continue
	grep -qF -- "${opt//-/\\-}" "$mandir/vnicd.8.in" || missing+=" $opt"
done
[ -z "$missing" ] || echo "# options without an entry in man/vnicd.8.in:$missing"
result "$([ -z "$missing" ]; echo $?)" "every option of vnicd --help is in vnicd(8)"

if command -v man >/dev/null; then
	for page in vnic.1 vnicd.8 vnic-xml.5; do
		err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$mandir/$page.in" 2>&1 >/dev/null)
		[ -z "$err" ] || sed 's/^/# /' <<<"$err"
		result "$([ -z "$err" ]; echo $?)" "man -l $page renders without warnings"
	done
else
	for page in vnic.1 vnicd.8 vnic-xml.5; do
		n=$((n + 1)); echo "ok $n - man -l $page renders # SKIP no man (apt-get install man-db)"
	done
fi
echo "1..$n"
[ $failures = 0 ]
