//! slogate: a load generator and SLO verification harness.
//!
//! ```text
//! scenario.yaml ─► Scenario (validated, errors with file:line:col)   scenario
//!               ─► Plan (pure: endpoints, phases, arrival schedules)   plan
//!               ─► Engine (worker threads, each with its event loop    engine
//!                  and recorder; abort conditions watched per second)
//!               ─► RunResults (histograms per phase × endpoint,        record
//!                  per-second timeline)
//!   beside it:  ─► Scraper (service's /metrics into a series store)   metrics
//!               ─► Verdicts (each expectation: measured vs wanted;     expect
//!                  PromQL ones through the embedded evaluator or a     promql,
//!                  real Prometheus)                                   backend
//!               ─► Reports (terminal, JSON, CSV, JUnit, Markdown)      report
//!               ─► exit code                                           app
//! ```
//!
//! `slogate hit` enters the same pipeline with a one-phase plan built from
//! its flags.
//!
//! Where things live:
//! - `cli`: clap types only; `app`: one file per subcommand.
//! - `units`: "250ms", "1k/s", "99.9%".
//! - `diag`: what every parser's errors share (serde's words in the
//!   file's terms, where invalid UTF-8 starts).
//! - `redact`: secrets (URL userinfo, secret query values) out of every
//!   output.
//! - `input`: reading a user's file within bounds (regular, size-limited).
//! - `scenario`: the YAML model, validation, error messages.
//! - `plan`: what the engine runs; arrival schedules; request templates.
//! - `engine`: pacer (who sends what, when), workers, transport (HTTP/1.1,
//!   HTTP/2, TLS), precise timer.
//! - `record`: samples, per-worker recorders, mergeable stats, timeline.
//! - `expect`: check syntax, verdicts, abort conditions.
//! - `report`: `hit` formats, and the files of a run's results directory.
//! - `demo`: the embedded, instrumented demo service.
//! - `metrics`: the exposition parser, the series store, the scraper, and
//!   the saved scrapes of a run.
//! - `promql`: the PromQL evaluator (Prometheus 3 semantics) over the store.
//! - `backend`: one trait answering PromQL, embedded or a real Prometheus.
//! - `rules`: Prometheus rule files, read and validated.
//! - `proxy`: the fault proxy (HTTP and TCP), its faults and control API.

pub mod app;
pub mod backend;
pub mod cli;
pub mod demo;
pub mod diag;
pub mod engine;
pub mod expect;
pub mod gameday;
pub mod input;
pub mod judge;
pub mod metrics;
pub mod net;
pub mod plan;
pub mod promql;
pub mod proxy;
pub mod record;
pub mod redact;
pub mod report;
pub mod rng;
pub mod rules;
pub mod scenario;
pub mod slo;
pub mod units;

/// The User-Agent sent unless a request sets its own.
pub const USER_AGENT: &str = concat!("slogate/", env!("CARGO_PKG_VERSION"));
