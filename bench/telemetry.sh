#!/usr/bin/env bash
# The run's own metrics off the hot path, measured: `slogate hit` against
# the bench nginx, alternating plain runs with runs that serve
# --metrics-listen (scraped every second, as a Prometheus would) and that
# --remote-write into a local Prometheus (Debian's `prometheus`, where
# installed), ROUNDS rounds of SECONDS each. Prints req/s and generator
# CPU per request for every run, then each variant's mean and range: the
# difference between the means is only meaningful beside the ranges.
#
#   bench/telemetry.sh [ROUNDS] [SECONDS]     (default 3 rounds of 6 s)
#
# Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${1:-3}"
seconds="${2:-6}"
url=http://127.0.0.1:18080/
metrics_port=19464
prometheus_port=19490

source bench/nginx.sh
ensure_apt time /usr/bin/time
cargo build --release --quiet
start_nginx
curl -fsS "$url" >/dev/null

variants=(plain metrics)
if command -v prometheus >/dev/null; then
    mkdir -p "$work/prometheus"
    printf 'global:\n  scrape_interval: 1h\n' >"$work/prometheus/p.yml"
    prometheus --config.file="$work/prometheus/p.yml" --storage.tsdb.path="$work/prometheus/data" \
        --web.listen-address="127.0.0.1:${prometheus_port}" --web.enable-remote-write-receiver >/dev/null 2>&1 &
    prometheus_pid=$!
    trap 'kill "$prometheus_pid" 2>/dev/null || true; stop_nginx' EXIT
    for _ in $(seq 50); do curl -fs "http://127.0.0.1:${prometheus_port}/-/ready" >/dev/null && break; sleep 0.2; done
    variants+=(remote_write)
fi

for round in $(seq "$rounds"); do
    for variant in "${variants[@]}"; do
        extra=()
        scraper=
        case "$variant" in
            metrics)
                extra=(--metrics-listen "127.0.0.1:${metrics_port}" --metrics-grace 0s)
                ( sleep 1; for _ in $(seq "$seconds"); do curl -s "http://127.0.0.1:${metrics_port}/metrics" >/dev/null || true; sleep 1; done ) &
                scraper=$!
                ;;
            remote_write)
                extra=(--remote-write "http://127.0.0.1:${prometheus_port}/api/v1/write")
                ;;
        esac
        /usr/bin/time -o "$work/$variant.$round.time" -f "%U %S" ./target/release/slogate hit "$url" \
            -z "${seconds}s" -c 50 -o json --no-progress "${extra[@]}" >"$work/$variant.$round.out" 2>/dev/null
        if [ -n "$scraper" ]; then wait "$scraper"; fi
        sleep 1
    done
done

python3 - "$work" "$rounds" "$seconds" "${variants[@]}" <<'PY'
import json, sys
work, rounds, seconds, variants = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
print(f"{rounds} rounds of {seconds:.0f} s, slogate hit -c 50, nginx (1 worker) on 127.0.0.1, 2 cores shared")
print("| variant | round | req/s | CPU µs/req |")
print("|---|---:|---:|---:|")
summary = {}
for variant in variants:
    for r in range(1, rounds + 1):
        user, sys_ = open(f"{work}/{variant}.{r}.time").read().split()[-2:]
        n = json.load(open(f"{work}/{variant}.{r}.out"))["requests"]
        cpu = (float(user) + float(sys_)) * 1e6 / n
        summary.setdefault(variant, []).append((n / seconds, cpu))
        print(f"| {variant} | {r} | {n / seconds:.0f} | {cpu:.2f} |")
print()
print("| variant | mean req/s | mean CPU µs/req | CPU range |")
print("|---|---:|---:|---:|")
for variant, runs in summary.items():
    rps = sum(r for r, _ in runs) / len(runs)
    cpus = [c for _, c in runs]
    print(f"| {variant} | {rps:.0f} | {sum(cpus) / len(cpus):.2f} | {min(cpus):.2f}–{max(cpus):.2f} |")
PY
