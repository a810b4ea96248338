//! Game days: what a drill does to the system under test while the load
//! runs. The demo service's knobs (`demo`) and the fault proxies (`proxy`)
//! say what a fault is; this module switches them per phase and keeps the
//! record of when each was in effect.

mod switch;

pub use switch::{FaultChange, FaultSwitch, ProxyWindow, describe, window_reports};
