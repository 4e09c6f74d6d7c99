#!/usr/bin/env bash
# The long fuzz run of one harness (docs/fuzzing.md, "Long run").
# Usage: long-run.sh NAME BINARY END-EPOCH OUTDIR SEED-DIR…
# Fuzzes into OUTDIR/corpus (a working corpus: the seed dirs are only read)
# until 10 M executions or END-EPOCH (date +%s), whichever comes first.  A
# segment that ends on a timeout or an out-of-memory report is followed by
# another from the same corpus (the input is kept in OUTDIR for a look: on a
# loaded machine these are stalls, not findings); a crash ends the run.
# OUTDIR/segment-N.log are libFuzzer's logs, OUTDIR/summary one line per
# segment: "segment N: RUNS runs, exit RC".
set -u
name=$1 bin=$2 end=$3 out=$4
shift 4
total=${FUZZ_TOTAL_RUNS:-10000000}
mkdir -p "$out/corpus"
done_runs=0 seg=0
while :; do
  left=$((end - $(date +%s)))
  ((left > 30 && done_runs < total)) || break
  seg=$((seg + 1))
  log=$out/segment-$seg.log
  "$bin" -runs=$((total - done_runs)) -max_total_time=$left -timeout=300 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$@" >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  done_runs=$((done_runs + ${runs:-0}))
  echo "segment $seg: ${runs:-?} runs, exit $rc" >>"$out/summary"
  if ls "$out"/crash-* "$out"/leak-* >/dev/null 2>&1; then
    echo "$name: crash, see $out" >>"$out/summary"
    break
  fi
  ((rc == 0)) && break
done
echo "$name: $done_runs runs in $seg segment(s)" >>"$out/summary"
