//! slogate: a load generator and SLO verification harness.
//!
//! ```text
//! scenario.yaml ─► Scenario (validated, errors with file:line:col)   scenario, diag
//!               ─► Services (demos, fault proxies it starts)         gameday
//!               ─► Plan (pure: endpoints, phases with their mixes,     plan
//!                  arrival schedules)
//!               ─► Engine (worker threads, each with its event loop    engine
//!                  and recorder; abort conditions watched per second;
//!                  faults switched at each phase's start)             gameday
//!               ─► RunResults (histograms per phase × endpoint,        record
//!                  per-second timeline)
//!   beside it:  ─► Scraper (service's /metrics into a series store)   metrics
//!               ─► Judge (client checks; PromQL, rules and alerts,     judge
//!                  SLOs through the embedded evaluator or a real       promql, rules,
//!                  Prometheus; one stage for run and merge)            backend, expect
//!               ─► Results directory (write and read models, every    report::run
//!                  file) and reports (terminal, HTML, CSV, JUnit, MD)  report
//!               ─► exit code                                           app
//! ```
//!
//! Modules a library user does not need (`expect`, `judge`, `gameday`,
//! `slo`, `net`, `input`, `rng`) are `pub(crate)`; inside every module what
//! is used only within the crate is `pub(crate)` (`unreachable_pub` below
//! keeps it so). Errors: one thiserror type per room, `anyhow` at `app`'s
//! edges (`docs/layout.md`, "Errors and visibility").
//!
//! `slogate hit` enters the same pipeline with a one-phase plan built from
//! its flags. `app` only orchestrates; nothing below it imports it
//! (`tests/shape.rs` checks the imports; `docs/layout.md` has the map).
//!
//! Where things live:
//! - `cli`: clap types, other tools' flag habits, `hit`'s flags resolved
//!   into a plan; `app`: one file per subcommand, orchestration only.
//! - `units`: "250ms", "1k/s", "99.9%"; the one number formatter.
//! - `diag`: what every parser's errors share: positions, the
//!   file:line:col error, "did you mean", reading a file within bounds,
//!   YAML errors, serde's words in the file's terms.
//! - `net`: TLS client config, the control plane's HTTP client, signals.
//! - `redact`: secrets (URL userinfo, secret query values) out of every
//!   output.
//! - `input`: reading a user's file within bounds (regular, size-limited).
//! - `scenario`: the YAML model, validation, error messages.
//! - `plan`: what the engine runs; each phase's mix; arrival schedules;
//!   request templates.
//! - `engine`: pacer (who sends what, when), workers, transport (HTTP/1.1,
//!   HTTP/2, TLS; a connection per origin per slot), precise timer.
//! - `record`: samples, per-worker recorders, mergeable stats, per-step
//!   totals of a `steps:` phase, timeline, shards' results merged.
//! - `gameday`: the demos and proxies a run starts, faults switched per
//!   phase, proxy fault windows.
//! - `expect`: check syntax, one expectation's verdict, abort conditions.
//! - `judge`: a scenario's expectations over a run, client and server side;
//!   `compare`'s regressions.
//! - `report`: `hit` formats, the progress lines, the results directory of
//!   a run (`run`: write and read models, every file, shards that fit
//!   together), the page, `compare`'s rendering.
//! - `demo`: the embedded, instrumented demo service.
//! - `metrics`: the exposition parser, the series store, the scraper, and
//!   the saved scrapes of a run.
//! - `promql`: the PromQL evaluator (Prometheus 3 semantics) over the store.
//! - `backend`: one trait answering PromQL, embedded or a real Prometheus.
//! - `rules`: Prometheus rule files, read and validated; evaluated over a
//!   run (`rules::run`).
//! - `proxy`: the fault proxy (HTTP and TCP), its faults and control API.
//! - `telemetry`: the run's own metrics, served (`--metrics-listen`) and
//!   pushed (`--remote-write`) while it runs.
//! - `slo`: SLOs: the model, what an SLI measured (client or PromQL), the
//!   budget math, the verdicts; their terminal text is `report::slo_text`.

#![warn(unreachable_pub)]

pub mod app;
pub mod backend;
pub mod cli;
pub mod demo;
pub mod diag;
pub mod engine;
pub mod events;
pub(crate) mod expect;
pub mod flow;
pub(crate) mod gameday;
pub(crate) mod input;
pub(crate) mod judge;
pub mod metrics;
pub(crate) mod net;
pub mod plan;
pub mod promql;
pub mod proxy;
pub mod record;
pub mod redact;
pub mod report;
pub(crate) mod rng;
pub mod rules;
pub mod scenario;
pub(crate) mod slo;
pub mod telemetry;
pub mod units;

/// The User-Agent sent unless a request sets its own.
pub const USER_AGENT: &str = concat!("slogate/", env!("CARGO_PKG_VERSION"));
