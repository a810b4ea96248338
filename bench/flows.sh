#!/usr/bin/env bash
# Runs one journey — log in, capture the token from the JSON answer, GET
# /items with it, again — with slogate (a scenario flow), Locust
# (FastHttpUser) and Artillery (a scenario with `capture`), one after another,
# 32 virtual users in a closed loop each, the same duration each, against one
# local nginx (one worker) answering `POST /login` with {"token": "t0k3n"} and
# `GET /items` only with `Authorization: Bearer t0k3n` (401 otherwise). As a
# baseline, slogate's plain `hit` on GET /items with the header, 32
# connections. Prints requests, failures, req/s and CPU µs per request (user
# + sys of the tool's processes under GNU time ÷ requests completed, as the
# tool itself counts them), with the ratios of slogate's flow to the others.
#
#   bench/flows.sh [SECONDS]                  (default 10)
#   bench/flows.sh --only flow,hit [SECONDS]  only these of flow, hit, locust, artillery
#   bench/flows.sh --memory N                 the flow for N million requests:
#                                             RSS sampled every 2 s, first/max/last
#
# SLOGATE=PATH runs that binary instead of building target/release/slogate.
# BENCH_KEEP=DIR keeps the scratch folder (configs, outputs) in DIR.
# Installs what is missing: nginx-light and GNU time from Debian, Locust
# into a venv (/work/bench-venv, or $BENCH_VENV), Artillery with npm.
# Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="flow,hit,locust,artillery"
memory=""
while [ $# -gt 0 ]; do
    case "$1" in
        --only) tools="$2"; shift 2 ;;
        --memory) memory="$2"; shift 2 ;;
        -*) echo "bench/flows.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
seconds="${1:-10}"
users=32
port=18090
base="http://127.0.0.1:${port}"
venv="${BENCH_VENV:-/work/bench-venv}"
slogate="${SLOGATE:-./target/release/slogate}"
wants() { [[ ",$tools," == *",$1,"* ]]; }

source bench/nginx.sh
ensure_apt time /usr/bin/time
ensure_apt nginx-light /usr/sbin/nginx
if [ -n "$memory" ]; then tools="flow"; fi
if [ -z "${SLOGATE:-}" ] && { wants flow || wants hit; }; then cargo build --release --quiet; fi
if wants locust && [ ! -x "$venv/bin/locust" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet locust
fi
if wants artillery && ! command -v artillery >/dev/null; then
    npm install -g artillery --ignore-scripts >/dev/null
fi

work="$(mktemp -d)"
trap stop_nginx EXIT
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon on;
pid nginx.pid;
error_log stderr crit;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    default_type application/json;
    server {
        listen 127.0.0.1:${port};
        location = /login {
            if (\$request_method != POST) { return 405; }
            return 200 '{"token": "t0k3n"}\n';
        }
        location = /items {
            if (\$http_authorization != "Bearer t0k3n") { return 401 '{"error": "no token"}\n'; }
            return 200 '{"items": [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}]}\n';
        }
    }
}
EOF
/usr/sbin/nginx -p "$work" -c "$work/nginx.conf"
sleep 0.5
curl -fsS -X POST "$base/login" -d '{}' | grep -q t0k3n
curl -fsS -H "Authorization: Bearer t0k3n" "$base/items" | grep -q items
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/items")" = 401 ]

# The slogate scenario: PHASE_LENGTH is `duration: 10s` or `requests: N`.
scenario() {
    cat <<EOF
name: flows-bench
targets:
  api: ${base}
flows:
  - name: journey
    steps:
      - name: login
        method: POST
        url: "\${api}/login"
        headers: {Content-Type: application/json}
        body: '{"user": "bench", "password": "secret"}'
        capture:
          token: {json: "\$.token"}
        check:
          - status: 200
      - name: items
        url: "\${api}/items"
        headers: {Authorization: "Bearer {{ token }}"}
        check:
          - status: 200
phases:
  - name: steady
    $1
    load: {concurrency: ${users}}
    mix: [{flow: journey}]
EOF
}

if [ -n "$memory" ]; then
    requests=$((memory * 1000000))
    # A phase's `requests:` counts the flow's iterations: two requests each.
    scenario "requests: $((requests / 2))" >"$work/flow.yaml"
    "$slogate" run "$work/flow.yaml" --out "$work/flow-out" --no-progress \
        >"$work/flow.out" 2>"$work/flow.err" &
    pid=$!
    : >"$work/rss"
    started=$(date +%s)
    while kill -0 "$pid" 2>/dev/null; do
        awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null >>"$work/rss" || true
        if [ $(($(date +%s) - started)) -gt $((memory * 600 + 60)) ]; then
            kill "$pid"
            echo "bench/flows.sh: the run took too long; stopped" >&2
        fi
        sleep 2
    done
    rc=0
    wait "$pid" || rc=$?
    python3 - "$work" "$requests" "$rc" <<'PY'
import json, sys
work, wanted, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rss = [int(line) for line in open(f"{work}/rss") if line.strip()]
try:
    d = json.load(open(f"{work}/flow-out/summary.json"))
    done, seconds = d["run"]["requests"], d["duration_s"]
except (OSError, KeyError, ValueError):
    print(f"slogate run failed (exit {rc}):", open(f"{work}/flow.err").read().strip()[:2000])
    sys.exit(1)
print(f"slogate flow, {wanted} requests wanted, {done} done in {seconds:.1f} s (exit {rc}); RSS every 2 s, {len(rss)} samples")
print("| first RSS MiB | max RSS MiB | last RSS MiB |")
print("|---:|---:|---:|")
if rss:
    print(f"| {rss[0] / 1024:.1f} | {max(rss) / 1024:.1f} | {rss[-1] / 1024:.1f} |")
PY
    exit 0
fi

cat >"$work/locustfile.py" <<EOF
from locust import FastHttpUser, constant, task


class Journey(FastHttpUser):
    host = "${base}"
    wait_time = constant(0)

    @task
    def journey(self):
        with self.client.post(
            "/login", json={"user": "bench", "password": "secret"}, catch_response=True
        ) as response:
            token = (response.json() or {}).get("token") if response.status_code == 200 else None
            if not token:
                response.failure("no token")
                return
        self.client.get("/items", headers={"Authorization": f"Bearer {token}"})
EOF

cat >"$work/artillery.yaml" <<EOF
config:
  target: "${base}"
  processor: "./deadline.js"
  phases:
    - duration: 1
      arrivalCount: ${users}
scenarios:
  - flow:
      - loop:
          - post:
              url: "/login"
              json: {user: bench, password: secret}
              capture:
                json: "\$.token"
                as: token
          - get:
              url: "/items"
              headers:
                Authorization: "Bearer {{ token }}"
        whileTrue: "running"
EOF
cat >"$work/deadline.js" <<EOF
// Each virtual user loops until ${seconds} s after Artillery loaded this.
const deadline = Date.now() + ${seconds} * 1000;
module.exports = { running: (context, next) => next(Date.now() < deadline) };
EOF

# measure NAME COMMAND...: runs COMMAND under GNU time, bounded; leaves its
# output in $work/NAME.out, "user sys maxrss_kb" in $work/NAME.time and
# its exit code in $work/NAME.rc.
measure() {
    local name="$1" rc=0
    shift
    /usr/bin/time -o "$work/$name.time" -f "%U %S %M" timeout -k 10 $((seconds + 120)) "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    echo "$rc" >"$work/$name.rc"
    sleep 1
}

if wants flow; then
    scenario "duration: ${seconds}s" >"$work/flow.yaml"
    measure flow "$slogate" run "$work/flow.yaml" --out "$work/flow-out" --no-progress
fi
if wants hit; then
    measure hit "$slogate" hit "$base/items" -H "Authorization: Bearer t0k3n" \
        -z "${seconds}s" -c "$users" -o json --no-progress
fi
if wants locust; then
    measure locust "$venv/bin/locust" -f "$work/locustfile.py" --headless -u "$users" -r "$users" \
        -t "${seconds}s" --only-summary --loglevel WARNING
fi
if wants artillery; then
    (cd "$work" && export ARTILLERY_DISABLE_TELEMETRY=true && measure artillery \
        artillery run --quiet --output "$work/artillery.json" "$work/artillery.yaml")
fi

python3 - "$work" "$seconds" "$tools" "$users" <<'PY'
import json, re, sys
work, seconds, tools, users = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(","), sys.argv[4]

def requests(name):
    """(requests completed, failed) as the tool counts them."""
    if name == "flow":
        d = json.load(open(f"{work}/flow-out/summary.json"))
        return d["run"]["requests"], d["run"]["failed"]
    if name == "hit":
        d = json.load(open(f"{work}/hit.out"))
        return d["requests"], d["requests"] - d["successes"]
    if name == "locust":
        # The summary Locust prints when it ends (its stats CSV can be
        # written before the last requests complete).
        m = re.search(r"^\s+Aggregated\s+(\d+)\s+(\d+)\(", open(f"{work}/locust.err").read(), re.M)
        return int(m.group(1)), int(m.group(2))
    if name == "artillery":
        c = json.load(open(f"{work}/artillery.json"))["aggregate"]["counters"]
        total = c.get("http.requests", 0)
        return total, total - c.get("http.codes.200", 0)
    raise ValueError(name)

labels = {"flow": "slogate flow", "hit": "slogate hit (plain)", "locust": "Locust FastHttpUser", "artillery": "Artillery"}
rows, failures = {}, []
for name in tools:
    rc = int(open(f"{work}/{name}.rc").read())
    try:
        total, bad = requests(name)
        user, sys_, rss = open(f"{work}/{name}.time").read().split()[-3:]
    except (OSError, KeyError, ValueError, AttributeError, TypeError) as e:
        err = open(f"{work}/{name}.err").read().strip() or open(f"{work}/{name}.out").read().strip()
        failures.append(f"{labels[name]}: no result (exit {rc}, {type(e).__name__}): {err[:600]}")
        continue
    cpu = float(user) + float(sys_)
    rows[name] = dict(total=total, bad=bad, rps=total / seconds, cpu_s=cpu,
                      cpu=cpu * 1e6 / max(total, 1), rss=int(rss) / 1024, rc=rc)

print(f"{seconds:.0f} s each, {users} virtual users (closed loop), nginx (1 worker) on 127.0.0.1, 2 cores shared by tool and server")
print("| tool | requests | failed | exit | req/s | CPU s | CPU µs/req | peak RSS MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, r in rows.items():
    print(f"| {labels[name]} | {r['total']} | {r['bad']} | {r['rc']} | {r['rps']:.0f} | {r['cpu_s']:.2f} | {r['cpu']:.2f} | {r['rss']:.1f} |")
if "flow" in rows:
    flow = rows["flow"]
    for other in ["hit", "locust", "artillery"]:
        if other in rows:
            o = rows[other]
            print(f"slogate flow / {labels[other]}: CPU/req {flow['cpu'] / o['cpu']:.2f}×, req/s {flow['rps'] / o['rps']:.2f}×")
    if "hit" in rows:
        verdict = "within" if flow["cpu"] <= 2.5 * rows["hit"]["cpu"] else "OVER"
        print(f"target flow CPU/req <= 2.5× plain hit: {verdict}")
for line in failures:
    print(line)
PY
if [ -n "${BENCH_KEEP:-}" ]; then
    rm -rf "$BENCH_KEEP" && cp -r "$work" "$BENCH_KEEP"
fi
