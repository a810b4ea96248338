#!/usr/bin/env bash
# PromQL range evaluation: slogate's evaluator vs Prometheus's own engine on
# the same data and the same five range queries. The data set is the one
# benches/promql.rs builds (1,000 series, one sample a second for an hour),
# written as OpenMetrics by that bench, loaded into a real Prometheus with
# `promtool tsdb create-blocks-from openmetrics`, and queried through
# /api/v1/query_range (1 s steps over the hour from the first minute on:
# 3,540 evaluations each). Prints medians of RUNS, per query and in total,
# and the ratio slogate / Prometheus (below 1: slogate is faster).
#
#   bench/promql-vs-prometheus.sh [RUNS]     (default 5)
#
# Debian's prometheus and promtool are 2.42, not 3; the output says so.
# Prometheus listens on 127.0.0.1 only, on a free port, and is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
for tool in prometheus promtool; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install prometheus" >&2; exit 2; }
done
work="$(mktemp -d)"
prometheus_pid=""
cleanup() {
    [ -n "$prometheus_pid" ] && kill "$prometheus_pid" 2>/dev/null && wait "$prometheus_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

cargo bench --quiet --bench promql -- --emit-openmetrics "$work/data.om" >"$work/queries"
promtool tsdb create-blocks-from openmetrics "$work/data.om" "$work/tsdb" >/dev/null
rm "$work/data.om"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf 'global:\n  scrape_interval: 1m\n' >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --storage.tsdb.retention.time=20y --web.listen-address="127.0.0.1:$port" \
    >"$work/prometheus.log" 2>&1 &
prometheus_pid=$!
for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null || { cat "$work/prometheus.log" >&2; exit 1; }

cargo bench --quiet --bench promql -- --repeat "$runs" >"$work/slogate"

python3 - "$port" "$runs" "$work" <<'PY'
import json, statistics, subprocess, sys, time, urllib.parse, urllib.request

port, runs, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(f"{work}/queries").read().splitlines()
start, end, step = lines[0].split()
expressions = lines[1:]

def query(expr):
    params = urllib.parse.urlencode(dict(query=expr, start=start, end=end, step=step, stats="all"))
    began = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query_range?{params}") as r:
        body = r.read()
    seconds = time.perf_counter() - began
    data = json.loads(body)["data"]
    return seconds, data["stats"]["timings"]["evalTotalTime"], len(data["result"])

# The data must all be there: 1,000 series at the last sample.
check = urllib.parse.urlencode(dict(query='count({job="api"})', time=end))
with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?{check}") as r:
    count = json.loads(r.read())["data"]["result"][0]["value"][1]
assert count == "1000", f"Prometheus holds {count} series, not 1000"

ours = {}
for line in open(f"{work}/slogate").read().splitlines():
    parts = line.split(None, 5)
    if len(parts) == 6 and parts[1] == "s" and parts[3] == "series" and parts[5] in expressions:
        ours[parts[5]] = (float(parts[0]), int(parts[2]))

version = subprocess.run(["prometheus", "--version"], capture_output=True, text=True)
version = (version.stdout + version.stderr).split()[2]
print(f"Prometheus {version} (Debian; not Prometheus 3) vs slogate's evaluator, same data "
      f"(1,000 series × 3,600 s), same range queries (3,540 steps); median of {runs} runs")
print("Prometheus: HTTP wall time (engine evalTotalTime in brackets); slogate: evaluation in process")
print("| query | series out (Prom / slogate) | Prometheus | slogate | slogate / Prometheus (wall) | (engine) |")
print("|---|---:|---:|---:|---:|---:|")
total_wall = total_engine = total_ours = 0.0
for expr in expressions:
    query(expr)  # warm the page cache and the head
    samples = [query(expr) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples)
    engine = statistics.median(s[1] for s in samples)
    series = samples[0][2]
    mine, mine_series = ours[expr]
    total_wall, total_engine, total_ours = total_wall + wall, total_engine + engine, total_ours + mine
    print(f"| `{expr}` | {series} / {mine_series} | {wall:.3f} s ({engine:.3f} s) | {mine:.3f} s "
          f"| {mine / wall:.2f}× | {mine / engine:.2f}× |")
print(f"| all five | | {total_wall:.3f} s ({total_engine:.3f} s) | {total_ours:.3f} s "
      f"| {total_ours / total_wall:.2f}× | {total_ours / total_engine:.2f}× |")
PY
