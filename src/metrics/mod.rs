//! Prometheus metrics on the client side: the exposition parser (text 0.0.4
//! and OpenMetrics). The scraper, the in-memory series store and the PromQL
//! evaluator will live beside it.

pub mod exposition;
