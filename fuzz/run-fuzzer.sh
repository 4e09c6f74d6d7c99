#!/usr/bin/env bash
# Runs one libFuzzer harness for a short while and prints one TAP line.
# Usage: run-fuzzer.sh NAME BINARY SECONDS CORPUS-DIR SEED-DIR…
# FUZZ_SECONDS overrides SECONDS.  The regression inputs (the first seed
# dir, fuzz/regressions/NAME) run once each first: a crash found before
# must stay fixed.  New inputs go to CORPUS-DIR (in the build dir), a crash
# to CORPUS-DIR/../crash-NAME-*.
set -u
name=$1 bin=$2 seconds=${FUZZ_SECONDS:-$3} corpus=$4
shift 4
mkdir -p "$corpus"
log=$(dirname "$corpus")/fuzz-$name.log
regress=$1
dirs=()
for d in "$@"; do [ -d "$d" ] && dirs+=("$d"); done
echo "1..1"
# the regression inputs, each once (libFuzzer runs files given by name once)
mapfile -t inputs < <(find "$regress" -type f ! -name README.md 2>/dev/null)
if ((${#inputs[@]})); then
  if ! "$bin" -rss_limit_mb=4096 "${inputs[@]}" >"$log.regress" 2>&1; then
    echo "not ok 1 - fuzz-$name: a regression input fails again"
    sed 's/^/# /' "$log.regress" | tail -40
    exit 1
  fi
fi
"$bin" -max_total_time="$seconds" -timeout=120 -rss_limit_mb=4096 -max_len=1048576 \
  -artifact_prefix="$(dirname "$corpus")/crash-$name-" -print_final_stats=1 \
  "$corpus" "${dirs[@]}" >"$log" 2>&1
rc=$?
runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
if [ $rc -eq 0 ]; then
  echo "ok 1 - fuzz-$name: ${runs:-?} runs in ${seconds} s, no crash"
else
  echo "not ok 1 - fuzz-$name: exit $rc after ${runs:-?} runs"
  grep -E 'ERROR|SUMMARY|==[0-9]+==|Test unit written|#[0-9]+ ' "$log" | tail -40 | sed 's/^/# /'
  exit 1
fi
