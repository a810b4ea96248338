#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a bounded time, one after another,
# one job each; fails (exit 1) if any target finds a crash, a timeout or an
# out-of-memory input, which libFuzzer saves under fuzz/artifacts/TARGET/.
#   bench/fuzz.sh            # 60 s per target
#   bench/fuzz.sh 300        # 300 s per target
#   bench/fuzz.sh 30 promql  # only the promql target, 30 s
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -uo pipefail
seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario rule_file unit_test promql exposition)
cd "$root/fuzz"
[ -d corpus ] || ./seed.sh
failed=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s"
    log="$root/fuzz/$target.log"
    # -timeout: one input may take 10 s (the PromQL target's own query
    # timeout is 2 s); -rss_limit_mb: 2 GiB is an out-of-memory finding.
    cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -jobs=1 -workers=1 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
    status=$?
    grep -E "^stat::number_of_executed_units|^Done [0-9]+ runs" "$log" | tail -2
    if [ $status -ne 0 ]; then
        failed+=("$target")
        grep -E "^==[0-9]+==|SUMMARY|panicked|Test unit written" "$log" | head -8
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (reproducers under fuzz/artifacts/, logs fuzz/*.log)"
    exit 1
fi
echo "ok: ${targets[*]}"
