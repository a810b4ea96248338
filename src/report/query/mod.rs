//! `slogate query`'s answers printed: the table, CSV, and JSON shaped as
//! Prometheus's HTTP API answers (`print.rs`), with Prometheus's own float,
//! time and native-histogram encodings (`api.rs`).

mod api;
pub(crate) mod print;
