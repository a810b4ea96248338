#!/usr/bin/env bash
# Exposition parser throughput (MB/s) on a 10,000-series exposition, both
# formats; see benches/exposition.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench exposition
