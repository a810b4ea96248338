#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the repository's own
# files, into fuzz/corpus/TARGET/ (not committed: run this instead).
#   fuzz/seed.sh            # from the repository root or anywhere
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/fuzz/corpus"
mkdir -p "$corpus"/{scenario,rule_file,unit_test,promql,exposition}

copy() { # TARGET FILE...
    local target=$1
    shift
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$corpus/$target/$(basename "$(dirname "$f")")-$(basename "$f")"
    done
}

copy scenario "$root"/scenarios/*.yaml "$root"/tests/scenarios/invalid/*.yaml
copy rule_file "$root"/scenarios/rules/*.yml "$root"/tests/rules/invalid/*.yml \
    "$root"/tests/rules/unit/rules.yml "$root"/tests/drills/*.yml
copy unit_test "$root"/tests/rules/unit/*.yml

# PromQL: every expression the repository's scenarios and rule files hold,
# one per file, and the hostile ones of issue 15.
n=0
{
    grep -rhoE "promql: .*" "$root"/scenarios "$root"/tests/scenarios | sed -E "s/^promql: *//; s/^'(.*)'$/\1/; s/^\"(.*)\"$/\1/"
    grep -rhoE "expr: .*" "$root"/scenarios/rules "$root"/tests/rules "$root"/tests/drills | sed -E "s/^expr: *//; s/^'(.*)'$/\1/; s/^\"(.*)\"$/\1/"
    cat <<'PROMQL'
count_over_time(vector(1)[1d:1ms])
max_over_time(up[1y:1ms])
label_join(label_join(vector(1), "a", "", "a", "a"), "a", "", "a", "a")
sum by (job) (rate(http_requests_total[5m])) / on(job) group_left sum by (job) (rate(http_requests_total[5m]))
histogram_quantile(0.99, sum by (le) (rate(latency_seconds_bucket[5m])))
topk(2, up) or bottomk(1, temperature offset 1m) unless absent(nothing)
-temperature @ start() + time() - timestamp(up) > bool 0
PROMQL
} | while IFS= read -r expr; do
    [ -n "$expr" ] || continue
    n=$((n + 1))
    printf '%s' "$expr" > "$corpus/promql/expr-$n"
done

# Exposition: the demo service's /metrics in both formats, with the format
# byte the target reads first (0 text, 1 OpenMetrics).
bin="$root/target/debug/slogate"
[ -x "$bin" ] || (cd "$root" && cargo build --quiet)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" demo --listen "127.0.0.1:$port" >/dev/null 2>&1 &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/data/process?records=10" >/dev/null || true
{ printf '\0'; curl -sf "http://127.0.0.1:$port/metrics"; } > "$corpus/exposition/demo-text"
{ printf '\1'; curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$port/metrics"; } \
    > "$corpus/exposition/demo-openmetrics"
printf '\0# TYPE a counter\na_total{x="y"} 1 1700000000000\n' > "$corpus/exposition/small-text"
printf '\1# TYPE a counter\na_total{x="y"} 1 1700000000.5\n# EOF\n' > "$corpus/exposition/small-openmetrics"

for t in scenario rule_file unit_test promql exposition; do
    echo "$t: $(ls "$corpus/$t" | wc -l) seeds"
done
