//! Prometheus metrics on the client side: the exposition parsers (text 0.0.4,
//! OpenMetrics and protobuf), the in-memory series store, and the scraper that fills
//! it during a run.

pub mod exposition;
pub(crate) mod fetch;
pub mod histogram;
pub(crate) mod ingest;
pub(crate) mod loss;
pub mod protobuf;
pub mod saved;
pub mod scrape;
pub mod store;
pub(crate) mod validate;
