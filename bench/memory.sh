#!/usr/bin/env bash
# Peak RSS of slogate for 1 million and 10 million requests against the same
# local nginx as compare.sh: memory must not grow with the request count.
#
#   bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/nginx.sh
ensure_apt time /usr/bin/time
cargo build --release --quiet
start_nginx

echo "| requests | duration s | peak RSS MiB |"
echo "|---:|---:|---:|"
for n in 1000000 10000000; do
    /usr/bin/time -o "$work/time" -f "%M" ./target/release/slogate hit http://127.0.0.1:18080/ \
        -n "$n" -c 50 -o json --no-progress >"$work/out.json"
    python3 - "$work" "$n" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
d = json.load(open(f"{work}/out.json"))
assert d["requests"] == n, (d["requests"], n)
rss_kb = int(open(f"{work}/time").read().split()[-1])
print(f"| {n} | {d['duration_s']:.1f} | {rss_kb / 1024:.1f} |")
PY
done
