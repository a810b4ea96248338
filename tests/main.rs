//! slogate's integration tests: one binary, every test against real servers
//! on 127.0.0.1:0.

mod support;

mod bounds; // hostile input to query and test-rules: limits end it at once with exit 2
mod check; // scenario validation: malformed corpus with exact messages, `slogate check`
mod cli; // the binary: bad input exits 2 with one line, formats, signals
mod compare; // `slogate compare`: units on every value, warnings for other files, lengths and large slowdowns without a limit
mod counts; // exact request counts, status distribution, timeline
mod demo; // the embedded demo service: promtool-valid metrics, exact counters, fault knobs
mod docs; // README.md and docs/: every YAML example passes `slogate check`, every flag named is in `--help`, every relative link resolves
mod drill; // game-day drills: gameday.yaml embedded and against real Prometheus + Alertmanager, broken rules fail
mod errors; // refused, reset, hang: counted by kind, run completes
mod exposition; // the exposition parser on real Prometheus, Alertmanager, node exporter output vs promtool
mod flows; // journeys against real servers: login once per user, token and cookie carried, every capture and check, before/after, two origins, coordinated omission per step
mod habits; // hey's, wrk's and wrk2's flags on `hit`: refused with slogate's name or accepted; headers; a closed pipe
mod hostile; // hostile data on the request path: CRLF from CSV refused or encoded (HTTP/1.1, HTTP/2), non-ASCII templates
mod journey_server; // the stateful journey service flows are tested against: every endpoint and counter over raw HTTP
mod latency; // known delays and coordinated omission
mod merge; // --shard and `slogate merge`: three shards merge to one run's percentiles
mod open_model; // schedule accuracy, constant and ramp
mod origins; // several origins in one run and per-phase mixes: exact counts on each server and per phase, origins in summary.json, an unresolvable origin refused first
mod paging; // notifications at slogate's webhook receiver through a real Prometheus and Alertmanager routing tree: paged, grouped, resolved, a wrong route fails
mod prometheus_times; // alert times read back from a real Prometheus at 15 s intervals: Prometheus's evaluation timestamps, checked against its /api/v1/alerts polled during the run
mod promql; // the embedded evaluator against a real Prometheus, on the same data and on its own scrapes
mod promqltest; // Prometheus's own PromQL test suite (promql/promqltest/testdata) against the evaluator: figure and known disagreements held
mod promtool_data; // Prometheus's own cmd/promtool/testdata: each file gives promtool 3's outcome, or is listed as differing
mod protobuf; // the protobuf exposition format scraped from a real server: native histograms, counters, Accept negotiation
mod proxy; // the fault proxy: each fault kind client and server side, ratios within binomial bounds, hostile clients
mod real_rules; // published rule files and promtool unit tests (tests/rules/real): the verdicts of promtool or Prometheus 3
mod report; // index.html: self-contained, every chart and check, escaping, `slogate report`, headless Chromium
mod rules; // rule files validated as promtool does, against promtool
mod rules_parity; // rule files and unit tests read as promtool reads them: nulls, quoted keys, literal scalars, PrometheusRule resources
mod run; // `slogate run`: phases, CSV data on the wire, verdicts, abort, NO DATA, exit codes
mod scrape; // scrape limits (body size, samples), duplicates, invalid UTF-8; truncated data never passes a check
mod secrets; // URL userinfo, secret query values and env headers in no output, yet on the wire
mod shape; // the layout from the imports: no top-level import cycle, app/ imported by nobody and small, few long files
mod slo_files; // Sloth, OpenSLO and Pyrra files read unchanged: the same figures and page as the SLI written in the scenario; what cannot be mapped refused at its line
mod steady; // steady_state: checked before the first fault and after the last; one that does not hold injects no fault and fails the run
mod telemetry; // the run's own metrics: scraped by a real Prometheus and remote-written into one, the same counts as summary.json, stale at the end
mod transport; // HTTPS, HTTP/2, chunked bodies, keep-alive
