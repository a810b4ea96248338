#!/usr/bin/env bash
# PromQL evaluation time: rule-like range queries over one hour of 1 s
# scrapes of 1,000 series at 1 s steps; see benches/promql.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench promql
