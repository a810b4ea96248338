#!/usr/bin/env bash
# `slogate test-rules` vs `promtool test rules` on the real-world corpus's
# unit-test files (tests/rules/real, kind `test` in EXPECTED): each file run
# on its own from its directory, as a team's CI would, by both tools; the
# median of RUNS passes over the corpus. Prints the total, the total over
# the files both tools pass, the largest file (bytes, with its rule files),
# and the ratios, in wall time and in CPU time (user + system of the child:
# the steadier figure on a shared machine).
#
#   bench/test-rules.sh [RUNS]     (default 3)
#
# Uses the release binary (built if missing or stale) and Debian's promtool
# (2.42, `apt-get install prometheus`).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
command -v promtool >/dev/null || { echo "promtool is missing: apt-get install prometheus" >&2; exit 2; }
cargo build --release --quiet --bin slogate

python3 - "$runs" <<'PY'
import os, statistics, subprocess, sys, time

runs = int(sys.argv[1])
root = os.getcwd()
corpus = os.path.join(root, "tests/rules/real")
slogate = os.path.join(root, "target/release/slogate")
files = [line.split("\t")[1] for line in open(os.path.join(corpus, "EXPECTED"))
         if line.startswith("test\t")]

def run(tool, path):
    """Wall seconds, CPU seconds (user + system) and exit status of one tool on one file."""
    full = os.path.join(corpus, path)
    argv = [slogate, "test-rules"] if tool == "slogate" else ["promtool", "test", "rules"]
    began = time.perf_counter()
    child = subprocess.Popen(argv + [os.path.basename(full)], cwd=os.path.dirname(full),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)

def size(path):
    """Bytes of the test file and of the rule files it names."""
    import yaml
    full = os.path.join(corpus, path)
    total = os.path.getsize(full)
    for rule_file in yaml.safe_load(open(full)).get("rule_files") or []:
        total += os.path.getsize(os.path.join(os.path.dirname(full), rule_file))
    return total

times = {"slogate": {f: [] for f in files}, "promtool": {f: [] for f in files}}
cpu = {"slogate": {f: [] for f in files}, "promtool": {f: [] for f in files}}
status = {"slogate": {}, "promtool": {}}
for _ in range(runs):
    for f in files:
        for tool in ("promtool", "slogate"):
            seconds, cpu_seconds, code = run(tool, f)
            times[tool][f].append(seconds)
            cpu[tool][f].append(cpu_seconds)
            status[tool][f] = code
median = {tool: {f: statistics.median(t) for f, t in per.items()} for tool, per in times.items()}
median_cpu = {tool: {f: statistics.median(t) for f, t in per.items()} for tool, per in cpu.items()}
both = [f for f in files if status["slogate"][f] == 0 and status["promtool"][f] == 0]
largest = max(files, key=size)

def line(label, subset):
    p = sum(median["promtool"][f] for f in subset)
    s = sum(median["slogate"][f] for f in subset)
    pc = sum(median_cpu["promtool"][f] for f in subset)
    sc = sum(median_cpu["slogate"][f] for f in subset)
    print(f"| {label} | {len(subset)} | {p:.3f} s | {s:.3f} s | {p / s:.1f}× "
          f"| {pc:.3f} s | {sc:.3f} s | {pc / max(sc, 1e-6):.1f}× |")

print(f"promtool {subprocess.run(['promtool', '--version'], capture_output=True, text=True).stdout.split()[2]} "
      f"(Debian) vs slogate (release), {len(files)} unit-test files from tests/rules/real, "
      f"each run alone from its directory; median of {runs} passes")
print("| files | count | promtool wall | slogate wall | faster by (wall) | promtool CPU | slogate CPU | faster by (CPU) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
line("all", files)
line("both pass", both)
for f in both:
    line(f"  {f}", [f])
line(f"largest: {largest} ({size(largest) // 1024} KiB with its rules)", [largest])
failing = [f for f in files if status["slogate"][f] != 0]
if failing:
    print(f"slogate fails {len(failing)} of them (tests/rules/real/EXPECTED says which must "
          f"fail); a file that fails may stop early, so 'both pass' is the fair figure.")
PY
