//! Game days: what a drill does to the system under test while the load
//! runs. The demo service's knobs (`demo`) and the fault proxies (`proxy`)
//! say what a fault is; this module starts the demos and proxies a scenario
//! names, switches their faults per phase and keeps the record of when each
//! was in effect.

mod services;
mod switch;

pub(crate) use services::Services;
pub(crate) use switch::{FaultChange, FaultSwitch, ProxyWindow};
