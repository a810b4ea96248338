#!/usr/bin/env bash
# Runs slogate, wrk, oha and hey one after another against one local nginx
# (one worker, `return 200`), 50 connections, the same duration each, and
# prints requests/s, generator CPU per request (user+sys of the generator
# process / requests) and peak RSS, with ratios to wrk and oha. slogate
# runs four times: twice alike (the noise), with --metrics-listen scraped
# every second, and with --remote-write into a local Prometheus (where
# Debian's prometheus is installed).
#
#   bench/compare.sh [DURATION_SECONDS]     (default 10)
#
# Installs what is missing: wrk, hey, nginx-light and GNU time from Debian,
# oha with `cargo install oha`. Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
connections=50
port=18080
url="http://127.0.0.1:${port}/"

source bench/nginx.sh
ensure_apt wrk wrk
ensure_apt hey hey
ensure_apt time /usr/bin/time
command -v oha >/dev/null || cargo install oha --locked
cargo build --release --quiet
start_nginx
curl -fsS "$url" >/dev/null

# measure NAME COMMAND...: runs COMMAND under GNU time; leaves its output in
# $work/NAME.out and "user sys maxrss_kb" in $work/NAME.time.
measure() {
    local name="$1"
    shift
    /usr/bin/time -o "$work/$name.time" -f "%U %S %M" "$@" >"$work/$name.out" 2>"$work/$name.err"
    sleep 1
}

measure slogate ./target/release/slogate hit "$url" -z "${seconds}s" -c "$connections" -o json --no-progress
# The noise: the same run again.
measure slogate_again ./target/release/slogate hit "$url" -z "${seconds}s" -c "$connections" -o json --no-progress
# The run's own metrics on, scraped every second as a Prometheus would.
metrics_port=19464
( sleep 1; for _ in $(seq "$seconds"); do curl -s "http://127.0.0.1:${metrics_port}/metrics" >/dev/null || true; sleep 1; done ) &
scraper=$!
measure slogate_metrics ./target/release/slogate hit "$url" -z "${seconds}s" -c "$connections" -o json --no-progress \
    --metrics-listen "127.0.0.1:${metrics_port}" --metrics-grace 0s
wait "$scraper"
# And remote-written into a real Prometheus, where one is installed.
if command -v prometheus >/dev/null; then
    prometheus_port=19490
    mkdir -p "$work/prometheus"
    printf 'global:\n  scrape_interval: 1h\n' >"$work/prometheus/p.yml"
    prometheus --config.file="$work/prometheus/p.yml" --storage.tsdb.path="$work/prometheus/data" \
        --web.listen-address="127.0.0.1:${prometheus_port}" --web.enable-remote-write-receiver >/dev/null 2>&1 &
    prometheus_pid=$!
    for _ in $(seq 50); do curl -fs "http://127.0.0.1:${prometheus_port}/-/ready" >/dev/null && break; sleep 0.2; done
    measure slogate_remote_write ./target/release/slogate hit "$url" -z "${seconds}s" -c "$connections" -o json --no-progress \
        --remote-write "http://127.0.0.1:${prometheus_port}/api/v1/write"
    kill "$prometheus_pid"; wait "$prometheus_pid" 2>/dev/null || true
fi
measure wrk wrk -t 2 -c "$connections" -d "${seconds}s" "$url"
measure oha oha -z "${seconds}s" -c "$connections" --no-tui --output-format json "$url"
measure hey hey -z "${seconds}s" -c "$connections" "$url"

python3 - "$work" "$seconds" <<'PY'
import json, re, sys
work, seconds = sys.argv[1], float(sys.argv[2])

def read(name):
    return open(f"{work}/{name}.out").read()

def requests(name):
    out = read(name)
    if name.startswith("slogate"):
        d = json.loads(out)
        return d["requests"], d["requests"] - d["successes"]
    if name == "oha":
        d = json.loads(out)
        total = sum(d["statusCodeDistribution"].values())
        bad = total - d["statusCodeDistribution"].get("200", 0)
        return total + sum(d.get("errorDistribution", {}).values()), bad
    if name == "wrk":
        total = int(re.search(r"(\d+) requests in", out).group(1))
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return total, int(m.group(1)) if m else 0
    if name == "hey":
        total = sum(int(n) for n in re.findall(r"\[\d{3}\]\s+(\d+) responses", out))
        bad = sum(int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out) if code != "200")
        return total, bad

rows = {}
import os
names = ["slogate", "slogate_again", "slogate_metrics", "slogate_remote_write", "wrk", "oha", "hey"]
for name in [n for n in names if os.path.exists(f"{work}/{n}.time")]:
    user, sys_, rss = open(f"{work}/{name}.time").read().split()[-3:]
    total, bad = requests(name)
    cpu_us = (float(user) + float(sys_)) * 1e6 / max(total, 1)
    rows[name] = dict(total=total, bad=bad, rps=total / seconds, cpu=cpu_us, rss=int(rss) / 1024)

wrk, oha = rows["wrk"], rows["oha"]
print(f"{seconds:.0f} s each, {50} connections, nginx (1 worker) on 127.0.0.1, 2 cores shared by generator and server")
print(f"| tool | requests | non-200 | req/s | CPU µs/req | CPU/req vs wrk | req/s vs oha | peak RSS MiB |")
print(f"|---|---:|---:|---:|---:|---:|---:|---:|")
for name, r in rows.items():
    print(f"| {name} | {r['total']} | {r['bad']} | {r['rps']:.0f} | {r['cpu']:.2f} | {r['cpu']/wrk['cpu']:.2f}× | {r['rps']/oha['rps']:.2f}× | {r['rss']:.1f} |")
PY
