//! Game days: what a drill does to the system under test while the load
//! runs. The demo service's knobs (`demo`) and the fault proxies (`proxy`)
//! say what a fault is; this module starts the demos and proxies a scenario
//! names, switches their faults per phase and keeps the record of when each
//! was in effect.

mod services;
mod switch;

pub(crate) use services::Services;
pub(crate) use switch::{FaultChange, FaultSwitch, ProxyWindow, demo_windows};

use std::time::Duration;

use crate::backend::alertmanager::Watch;
use crate::backend::receiver::Receiver;
use crate::expect::stop::{Source, StopGuard};
use crate::metrics::scrape::Scraper;
use crate::rules::live::LiveRules;
use crate::scenario::Scenario;

/// What watches the service while the load runs.
pub(crate) struct Observers {
    pub scraper: Option<Scraper>,
    pub paging: crate::backend::Paging,
    /// The stop conditions on the service's side, watched.
    pub guard: StopGuard,
}

impl Observers {
    pub(crate) fn start(
        scenario: &Scenario,
        services: &Services,
        own_metrics: Option<String>,
    ) -> anyhow::Result<Observers> {
        let scraper = services.start_scraper(scenario, own_metrics)?;
        let metrics = scenario.metrics.as_ref();
        let source = match metrics.and_then(|m| m.prometheus.clone()) {
            Some(url) => Source::Prometheus(url),
            None => Source::Scraped {
                store: scraper
                    .as_ref()
                    .map_or_else(Default::default, Scraper::store_handle),
                lookback: metrics.map_or(Duration::from_secs(300), |m| m.lookback),
                rules: live_rules(scenario),
            },
        };
        let guard = StopGuard::start(scenario.stops.clone(), source);
        let alertmanager = match metrics.and_then(|m| m.alertmanager.as_ref()) {
            Some(url) => Some(Watch::start(url, Duration::from_secs(1))?),
            None => None,
        };
        let receiver = match metrics.and_then(|m| m.receiver) {
            Some(addr) => {
                let receiver = Receiver::start(addr)?;
                crate::events::say(&format!(
                    "webhook receiver: listening on http://{}/ for Alertmanager's notifications",
                    receiver.addr()
                ));
                Some(receiver)
            }
            None => None,
        };
        Ok(Observers {
            guard,
            scraper,
            paging: crate::backend::Paging {
                alertmanager,
                receiver,
            },
        })
    }
}

/// The rules evaluated in process while the run goes on, when a stop
/// condition watches an alert and slogate's scrapes judge.
fn live_rules(scenario: &Scenario) -> Option<LiveRules> {
    let watches_alert = scenario
        .stops
        .iter()
        .any(|s| matches!(s.watch, crate::expect::stop::Watched::Alert(_)));
    let metrics = scenario.metrics.as_ref().filter(|_| watches_alert)?;
    Some(LiveRules {
        files: scenario.rules.clone(),
        interval: metrics.evaluation_interval,
        lookback: metrics.lookback,
    })
}
