//! slogate: a load generator and SLO verification harness.
//!
//! ```text
//! CLI / scenario ─► Plan (pure: endpoints, load model, stop, transport)
//!                ─► Engine (worker threads, each with its event loop and recorder)
//!                ─► RunResults (histograms per endpoint, per-second timeline)
//!                ─► Reports (text, JSON, CSV) ─► exit code
//! ```
//!
//! Where things live:
//! - `cli`: clap types only; `app`: one file per subcommand.
//! - `units`: "250ms", "1k/s", "99.9%".
//! - `plan`: what the engine runs; `plan::Arrivals`: open-model schedules.
//! - `engine`: pacer (who sends what, when), workers, transport (HTTP/1.1,
//!   HTTP/2, TLS), precise timer.
//! - `record`: samples, per-worker recorders, mergeable stats, timeline.
//! - `report`: one file per output format behind one trait.

pub mod app;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod expect;
pub mod metrics;
pub mod plan;
pub mod record;
pub mod report;
pub mod scenario;
pub mod units;

/// The User-Agent sent unless a request sets its own.
pub const USER_AGENT: &str = concat!("slogate/", env!("CARGO_PKG_VERSION"));
