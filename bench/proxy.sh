#!/usr/bin/env bash
# The fault proxy's overhead with no faults: slogate sends to one local
# nginx (one worker, `return 200`) directly, through `slogate proxy` in
# http mode and through it in tcp mode, and prints
#  - added latency: p50/p99 at a fixed 2,000 requests/s over 20 connections
#    (open model, so a slower path cannot lower its own load);
#  - cost: the proxy's CPU per request (user+sys of the proxy process /
#    requests) and requests/s with 50 connections as fast as they go.
#
#   bench/proxy.sh [DURATION_SECONDS]     (default 10)
#
# Traffic stays on 127.0.0.1. Generator, proxy and nginx share the 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
source bench/nginx.sh
cargo build --release --quiet
start_nginx
slogate=./target/release/slogate
upstream="http://127.0.0.1:18080"
curl -fsS "$upstream/" >/dev/null

$slogate proxy --mode http --listen 127.0.0.1:18090 --control 127.0.0.1:18091 --upstream "$upstream" >/dev/null &
http_pid=$!
$slogate proxy --mode tcp --listen 127.0.0.1:18092 --control 127.0.0.1:18093 --upstream 127.0.0.1:18080 >/dev/null &
tcp_pid=$!
trap 'kill $http_pid $tcp_pid 2>/dev/null; stop_nginx' EXIT
sleep 0.5

# cpu_ticks PID: user+sys clock ticks of a process so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME URL PID ARGS...: one slogate hit, JSON into $work/NAME.json and
# the CPU ticks the process PID used meanwhile into $work/NAME.ticks.
run() {
    local name="$1" url="$2" pid="$3"
    shift 3
    local before=0 after=0
    [ "$pid" != - ] && before="$(cpu_ticks "$pid")"
    $slogate hit "$url" -z "${seconds}s" -o json --no-progress "$@" >"$work/$name.json"
    [ "$pid" != - ] && after="$(cpu_ticks "$pid")"
    echo $((after - before)) >"$work/$name.ticks"
    sleep 1
}

for path in direct http tcp; do
    case $path in
        direct) url="$upstream/"; pid=- ;;
        http) url="http://127.0.0.1:18090/"; pid=$http_pid ;;
        tcp) url="http://127.0.0.1:18092/"; pid=$tcp_pid ;;
    esac
    run "$path-rate" "$url" "$pid" -q 2000 -c 20
    run "$path-max" "$url" "$pid" -c 50
done

python3 - "$work" "$(getconf CLK_TCK)" "$seconds" <<'PY'
import json, sys
work, tck, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(name):
    return json.load(open(f"{work}/{name}.json")), int(open(f"{work}/{name}.ticks").read())
direct_rate, _ = load("direct-rate")
direct_max, _ = load("direct-max")
print(f"{seconds} s per run; nginx (1 worker), slogate proxy (1 thread) and the generator share 2 cores")
print("| path | p50 ms @2000/s | p99 ms @2000/s | added p50 | added p99 | req/s @50 conns | vs direct | proxy CPU µs/req | non-200 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for path in ["direct", "http", "tcp"]:
    rate, _ = load(f"{path}-rate")
    top, ticks = load(f"{path}-max")
    p50, p99 = rate["latency_ms"]["p50"], rate["latency_ms"]["p99"]
    added50 = p50 - direct_rate["latency_ms"]["p50"]
    added99 = p99 - direct_rate["latency_ms"]["p99"]
    cpu = ticks / tck * 1e6 / max(top["requests"], 1) if path != "direct" else float("nan")
    bad = (rate["requests"] - rate["successes"]) + (top["requests"] - top["successes"])
    print(f"| {path} | {p50:.3f} | {p99:.3f} | {added50:+.3f} | {added99:+.3f} | {top['requests_per_second']:.0f} | "
          f"{top['requests_per_second'] / direct_max['requests_per_second']:.2f}× | "
          f"{'-' if path == 'direct' else f'{cpu:.2f}'} | {bad} |")
PY
