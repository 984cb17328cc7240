#!/usr/bin/env bash
# Runs every libFuzzer target of BUILD_DIR for SECONDS each, one after the other (make fuzz, make
# fuzz-test). Seeds: fuzz/corpus/<target> (read only); what the fuzzer learns goes to
# BUILD_DIR/corpus/<target>; crashing inputs to fuzz/artifacts/<target>/ (git-ignored). A crash
# makes the script fail: copy the input into fuzz/corpus/<target>/ (ctest replays it) and fix it.
set -euo pipefail
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
seconds=${2:?usage: fuzz.sh BUILD_DIR SECONDS}
root=$(cd "$(dirname "$0")/.." && pwd)
targets=(command virtual_path host_port proxy_header config)
failed=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  artifacts="$root/fuzz/artifacts/$t/"
  mkdir -p "$work" "$artifacts"
  echo "== fuzz_$t for ${seconds}s"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a memory blow-up is a finding.
  if ! "$build/fuzz_$t" "$work" "$root/fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$artifacts" -print_final_stats=1 \
      >"$build/fuzz_$t.log" 2>&1; then
    failed+=("$t")
    tail -n 60 "$build/fuzz_$t.log"
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$build/fuzz_$t.log" || true
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
