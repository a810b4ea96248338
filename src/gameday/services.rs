//! What a run starts itself before the load: the embedded demo services
//! and the fault proxies of its scenario, each on 127.0.0.1 (a proxy where
//! it says), with the base URL of each by name.

use crate::metrics::scrape::{Scraper, Target as ScrapeTarget};
use crate::metrics::store::Store;
use crate::plan;
use crate::scenario::{Scenario, Target};

/// What a run starts itself: demo services and fault proxies, with the
/// base URL of each by name.
pub(crate) struct Services {
    pub urls: std::collections::BTreeMap<String, String>,
    /// Held so they serve until the run ends; dropped before the proxies,
    /// so a demo's dependency outlives it.
    #[expect(dead_code, reason = "held for its lifetime, never read")]
    demos: Vec<crate::demo::Demo>,
    pub proxies: Vec<crate::proxy::Proxy>,
}

/// Starts the demos without a dependency, then the proxies (whose
/// upstreams may be those demos), then the demos whose dependency is a
/// proxy or a target, each on 127.0.0.1 (a proxy where it says).
impl Services {
    pub(crate) fn start(scenario: &Scenario) -> anyhow::Result<Services> {
        let mut urls = std::collections::BTreeMap::new();
        let mut demos = Vec::new();
        for (name, target) in &scenario.targets {
            match target {
                Target::Demo { upstream: None } => {
                    let demo = crate::demo::Demo::start(([127, 0, 0, 1], 0).into())?;
                    urls.insert(name.clone(), demo.url());
                    demos.push(demo);
                }
                Target::Url(url) => {
                    urls.insert(name.clone(), url.clone());
                }
                Target::Demo { .. } => {}
            }
        }
        let mut proxies = Vec::new();
        for decl in &scenario.proxies {
            let upstream = urls.get(&decl.upstream).unwrap_or(&decl.upstream).clone();
            let mut config =
                crate::proxy::Config::new(&decl.name, decl.mode, decl.listen, &upstream);
            config.control = decl.control;
            config.allow_remote = decl.allow_remote;
            if let Some(timeout) = decl.header_timeout {
                config.header_timeout = timeout;
            }
            if let Some(max) = decl.max_connections {
                config.max_connections = max;
            }
            let proxy = crate::proxy::Proxy::start(config)?;
            urls.insert(decl.name.clone(), proxy.url());
            proxies.push(proxy);
        }
        for (name, target) in &scenario.targets {
            if let Target::Demo {
                upstream: Some(upstream),
            } = target
            {
                let upstream = urls.get(upstream).unwrap_or(upstream).clone();
                let demo =
                    crate::demo::Demo::start_with(([127, 0, 0, 1], 0).into(), Some(&upstream))?;
                urls.insert(name.clone(), demo.url());
                demos.push(demo);
            }
        }
        // Only what the run started: target URLs are added by `target_urls`.
        urls.retain(|name, _| {
            scenario.proxies.iter().any(|p| p.name == *name)
                || scenario
                    .targets
                    .iter()
                    .any(|(n, t)| n == name && matches!(t, Target::Demo { .. }))
        });
        Ok(Services {
            urls,
            demos,
            proxies,
        })
    }

    /// Starts scraping the scenario's `metrics.scrape` targets, if any,
    /// with the proxies' metrics and the run's own (`own`: its URL, when
    /// `--metrics-listen` serves them) beside them.
    pub(crate) fn start_scraper(
        &self,
        scenario: &Scenario,
        own: Option<String>,
    ) -> anyhow::Result<Option<Scraper>> {
        let (urls, proxies) = (&self.urls, &self.proxies);
        let Some(metrics) = scenario.metrics.as_ref().filter(|m| !m.scrape.is_empty()) else {
            return Ok(None);
        };
        let bases = plan::target_urls(scenario, urls).map_err(|e| anyhow::anyhow!("FILE: {e}"))?;
        let mut targets: Vec<ScrapeTarget> = metrics
            .scrape
            .iter()
            .map(|s| ScrapeTarget {
                url: s.url.bind_targets(&bases).as_static().unwrap_or_default(),
                job: s.job.clone(),
                interval: s.interval,
                limits: s.limits,
            })
            .collect();
        // The proxies' own metrics (what was injected), at the shortest interval.
        let interval = metrics.default_step();
        targets.extend(proxies.iter().map(|p| ScrapeTarget {
            url: format!("{}/metrics", p.control_url()),
            job: "slogate_proxy".into(),
            interval,
            limits: Default::default(),
        }));
        // The run's own, so its saved metrics hold them too.
        targets.extend(own.map(|url| ScrapeTarget {
            url,
            job: "slogate_run".into(),
            interval,
            limits: Default::default(),
        }));
        Ok(Some(Scraper::start(targets, Store::new(metrics.limits))?))
    }
}
