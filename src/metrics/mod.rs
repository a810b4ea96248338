//! Prometheus metrics on the client side: the exposition parser (text 0.0.4
//! and OpenMetrics), the in-memory series store, and the scraper that fills
//! it during a run.

pub mod exposition;
pub mod fetch;
pub mod histogram;
pub mod ingest;
pub mod loss;
pub mod saved;
pub mod scrape;
pub mod store;
pub mod validate;
