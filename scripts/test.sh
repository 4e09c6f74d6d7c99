#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds twice (plain with
# -Werror, and with ASan+UBSan), runs `meson test` on both, then builds the
# libFuzzer harnesses with clang and runs each briefly (suite fuzz, one TAP
# line per harness; FUZZ_SECONDS, default 20, docs/fuzzing.md), builds,
# installs and purges the Debian package (tests/package-deb.sh), and ends
# with one line "N passed, N failed" counting every test case of all of it.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || exit 1

passed=0 failed=0
run_build() { # DIR MESON-OPTIONS…
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Dwerror=true "$@" >/dev/null || return 1
  fi
  ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$dir" --print-errorlogs
  local rc=$?
  # Count the TAP lines of every test program (one per test case).
  local log="$dir/meson-logs/testlog.txt"
  [ -f "$log" ] || return 1
  passed=$((passed + $(grep -cE '^ok [0-9]+' "$log")))
  failed=$((failed + $(grep -cE '^not ok [0-9]+' "$log")))
  return $rc
}

# Only the fuzz targets are built there: the rest is tested above, and
# clang's warnings are not the -Werror bar of the gcc builds.
run_fuzz() { # DIR
  local dir=$1
  if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
      >/dev/null || return 1
  fi
  ninja -C "$dir" fuzz/fuzz-domain fuzz/fuzz-interface fuzz/fuzz-qmp fuzz/fuzz-api \
    fuzz/fuzz-json >/dev/null ||
    return 1
  meson test -C "$dir" --no-rebuild --suite fuzz --print-errorlogs
  local rc=$?
  local log="$dir/meson-logs/testlog.txt"
  [ -f "$log" ] || return 1
  passed=$((passed + $(grep -cE '^ok [0-9]+' "$log")))
  failed=$((failed + $(grep -cE '^not ok [0-9]+' "$log")))
  return $rc
}

rc=0
echo "== build (plain, -Werror)"
run_build build || rc=1
echo "== build-asan (AddressSanitizer + UndefinedBehaviorSanitizer)"
run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false || rc=1
echo "== build-fuzz (clang, libFuzzer + ASan + UBSan): suite fuzz"
run_fuzz build-fuzz || rc=1
# The Debian package, once: built from a copy of the tree, installed,
# checked and purged (tests/package-deb.sh; TAP, counted like the rest).
echo "== package (dpkg-buildpackage, dpkg -i, checks, dpkg --purge)"
pkglog=$(mktemp)
tests/package-deb.sh >"$pkglog" 2>&1
pkgrc=$?
cat "$pkglog"
passed=$((passed + $(grep -cE '^ok [0-9]+' "$pkglog")))
failed=$((failed + $(grep -cE '^not ok [0-9]+' "$pkglog")))
rm -f "$pkglog"
[ $pkgrc -eq 0 ] || rc=1
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
  failed=1 # a build or a test program failed outside any test case
fi
echo "$passed passed, $failed failed"
exit $rc
