//! Scenario → plan: binds target URLs into the request templates, turns
//! templates with no per-request part into plain values, and maps each
//! phase's load onto the engine's models.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;

use super::template::Template;
use super::{
    Data, DataSet, Dynamic, Endpoint, Flow, FlowStep, LoadPlan, Model, PhasePlan, Role, Sendable,
    Share, StepCheck,
};
use crate::scenario::{Load, Phase, Request, Scenario, Target};

/// What compiling a validated scenario can still find wrong: services the
/// run should have started, and URLs and headers known only once targets
/// are bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("target `{0}`: the demo service was not started")]
    DemoNotStarted(String),
    #[error("proxy `{0}` was not started")]
    ProxyNotStarted(String),
    #[error("request `{0}`: the URL must start with a target or http(s)://host")]
    NoOrigin(String),
    #[error("request `{request}`: `{url}` is not a valid URL")]
    Url { request: String, url: String },
    #[error("request `{request}`: header `{header}` has characters a header cannot carry")]
    Header { request: String, header: String },
}

/// Every target's base URL: as given, or that of the demo service the run
/// started for it (`started`).
pub fn target_urls(
    scenario: &Scenario,
    started: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, CompileError> {
    let mut urls = BTreeMap::new();
    for (name, target) in &scenario.targets {
        let url = match target {
            Target::Url(url) => url.clone(),
            Target::Demo { .. } => started
                .get(name)
                .cloned()
                .ok_or_else(|| CompileError::DemoNotStarted(name.clone()))?,
        };
        urls.insert(name.clone(), url);
    }
    for proxy in &scenario.proxies {
        let url = started
            .get(&proxy.name)
            .cloned()
            .ok_or_else(|| CompileError::ProxyNotStarted(proxy.name.clone()))?;
        urls.insert(proxy.name.clone(), url);
    }
    Ok(urls)
}

/// Compiles a validated scenario; `started` gives the base URL of each
/// target the run started itself (the embedded demo service). Fails only for
/// what validation cannot see before targets are known.
pub fn compile(
    scenario: &Scenario,
    started: &BTreeMap<String, String>,
) -> Result<LoadPlan, CompileError> {
    let urls = target_urls(scenario, started)?;
    let data = Arc::new(Data {
        sets: scenario
            .datasets
            .iter()
            .map(|d| DataSet {
                name: d.name.clone(),
                rows: d.rows.clone(),
                random: d.random,
                next: AtomicU64::new(0),
            })
            .collect(),
        counter: AtomicU64::new(0),
    });
    let mut endpoints = Vec::new();
    for request in &scenario.requests {
        endpoints.push(endpoint(request, &urls, &data, Role::Request, false)?);
    }
    let mut checks = Vec::new();
    let phase_flows = flows(
        &scenario.flows,
        None,
        &urls,
        &data,
        &mut endpoints,
        &mut checks,
    )?;
    let before = flows(
        &scenario.before,
        Some(phase_flows.len()),
        &urls,
        &data,
        &mut endpoints,
        &mut checks,
    )?;
    let after = flows(
        &scenario.after,
        Some(phase_flows.len() + before.len()),
        &urls,
        &data,
        &mut endpoints,
        &mut checks,
    )?;
    let phases = scenario
        .phases
        .iter()
        .map(|phase| match &phase.load {
            Load::Open {
                arrivals,
                connections,
            } => PhasePlan {
                name: phase.name.clone(),
                model: Model::Open(arrivals.clone()),
                connections: *connections,
                max_requests: phase.requests,
                duration: phase.duration.or(Some(arrivals.duration())),
                think: super::Think::default(),
                mix: mix(scenario, phase),
            },
            Load::Closed { concurrency, think } => PhasePlan {
                name: phase.name.clone(),
                model: Model::Closed,
                connections: *concurrency,
                max_requests: phase.requests,
                duration: phase.duration,
                think: *think,
                mix: mix(scenario, phase),
            },
        })
        .collect::<Vec<_>>();
    let connections = phases.iter().map(|p| p.connections).max().unwrap_or(1);
    Ok(LoadPlan {
        endpoints,
        flows: phase_flows,
        before,
        after,
        checks,
        phases,
        transport: scenario.transport.clone(),
        workers: LoadPlan::default_workers(connections),
        latency_thresholds: crate::slo::client_latency_thresholds(&scenario.slos),
        live_buckets_us: None,
        shard: scenario.shard,
    })
}

/// What `phase` sends: its own `mix`, else every request and every flow
/// with its weight. Endpoints begin with the scenario's requests in order,
/// so a request's index is its endpoint's; a flow's is its plan's.
fn mix(scenario: &Scenario, phase: &Phase) -> Vec<Share> {
    let request = |name: &str| scenario.requests.iter().position(|r| r.name == name);
    let flow = |name: &str| scenario.flows.iter().position(|f| f.name == name);
    match &phase.mix {
        Some(mix) => mix
            .iter()
            .filter_map(|share| {
                let sends = if share.flow {
                    Sendable::Flow(flow(&share.request)?)
                } else {
                    Sendable::Request(request(&share.request)?)
                };
                Some(Share {
                    sends,
                    weight: share.weight,
                })
            })
            .collect(),
        None => scenario
            .requests
            .iter()
            .enumerate()
            .map(|(endpoint, request)| Share {
                sends: Sendable::Request(endpoint),
                weight: request.weight,
            })
            .chain(
                scenario
                    .flows
                    .iter()
                    .enumerate()
                    .map(|(index, flow)| Share {
                        sends: Sendable::Flow(index),
                        weight: flow.weight,
                    }),
            )
            .collect(),
    }
}

/// One request's endpoint: targets bound, static parts made plain values
/// unless `dynamic` (a flow's step, which adds cookies and variables).
fn endpoint(
    request: &Request,
    urls: &BTreeMap<String, String>,
    data: &Arc<Data>,
    role: Role,
    dynamic: bool,
) -> Result<Endpoint, CompileError> {
    let url = request.url.bind_targets(urls);
    let headers: Vec<_> = request
        .headers
        .iter()
        .map(|(name, t)| (name.clone(), t.bind_targets(urls)))
        .collect();
    let body = request.body.bind_targets(urls);
    let all_static =
        url.is_static() && body.is_static() && headers.iter().all(|(_, t)| t.is_static());
    let origin_url = origin(&url).ok_or_else(|| CompileError::NoOrigin(request.name.clone()))?;
    if all_static && !dynamic {
        let text = url.as_static().unwrap_or_default();
        // A URL with bytes a request target cannot carry (`/ścieżka`,
        // a space) is sent percent-encoded, as a rendered one is.
        let parsed = text
            .parse()
            .or_else(|_| super::wire_bytes::encode_url(&text).parse())
            .map_err(|_| CompileError::Url {
                request: request.name.clone(),
                url: text.clone(),
            })?;
        let mut static_headers = Vec::new();
        for (name, template) in &headers {
            let value = template.as_static().unwrap_or_default();
            let value = http::HeaderValue::from_str(&value).map_err(|_| CompileError::Header {
                request: request.name.clone(),
                header: name.to_string(),
            })?;
            static_headers.push((name.clone(), value));
        }
        return Ok(Endpoint {
            name: request.name.clone(),
            method: request.method.clone(),
            url: parsed,
            headers: static_headers,
            body: Bytes::from(body.as_static().unwrap_or_default()),
            dynamic: None,
            expect_status: request.expect_status.clone(),
            role,
        });
    }
    Ok(Endpoint {
        name: request.name.clone(),
        method: request.method.clone(),
        url: origin_url,
        headers: Vec::new(),
        body: Bytes::new(),
        expect_status: request.expect_status.clone(),
        dynamic: Some(Arc::new(Dynamic {
            url,
            headers,
            body,
            data: data.clone(),
        })),
        role,
    })
}

/// Flows of one list: the phases' (`around` None: numbered from 0), or
/// `before`/`after` ones (`around` Some(first): numbered from `first`),
/// their steps appended to `endpoints`, their checks to `checks`.
fn flows(
    specs: &[crate::scenario::Flow],
    around: Option<usize>,
    urls: &BTreeMap<String, String>,
    data: &Arc<Data>,
    endpoints: &mut Vec<Endpoint>,
    checks: &mut Vec<StepCheck>,
) -> Result<Vec<Flow>, CompileError> {
    let mut out = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let flow = around.unwrap_or(0) + index;
        let mut steps = |list: &[crate::scenario::Step], setup: bool| {
            let role = match (around.is_some(), setup) {
                (true, _) => Role::Around { flow },
                (false, true) => Role::Setup { flow },
                (false, false) => Role::Step { flow },
            };
            let mut out = Vec::new();
            for step in list {
                let endpoint_index = endpoints.len();
                endpoints.push(endpoint(&step.request, urls, data, role, true)?);
                let captures = step
                    .captures
                    .iter()
                    .filter_map(|c| Some((spec.vars.iter().position(|v| *v == c.var)?, c.clone())))
                    .collect();
                let mut ids = Vec::new();
                for check in &step.checks {
                    ids.push(checks.len());
                    checks.push(StepCheck {
                        flow,
                        endpoint: endpoint_index,
                        check: check.clone(),
                    });
                }
                out.push(FlowStep {
                    endpoint: endpoint_index,
                    think: step.think,
                    go_on: step.go_on,
                    repeat: step.repeat,
                    when: step.when.clone(),
                    captures,
                    checks: ids,
                });
            }
            Ok::<_, CompileError>(out)
        };
        let setup = steps(&spec.setup, true)?;
        let iteration = steps(&spec.steps, false)?;
        out.push(Flow {
            name: spec.name.clone(),
            setup,
            steps: iteration,
            think: spec.think,
            cookies: spec.cookies,
            vars: spec.vars.len(),
            setup_vars: spec.setup_vars,
        });
    }
    Ok(out)
}

/// `scheme://authority/` of a URL template's literal start.
fn origin(url: &Template) -> Option<http::Uri> {
    let first = match url.parts.first()? {
        super::template::Part::Literal(text) => text.as_str(),
        _ => return None,
    };
    let scheme_end = first.find("://")? + 3;
    let authority_end = first[scheme_end..]
        .find(['/', '?'])
        .map_or(first.len(), |i| scheme_end + i);
    if authority_end == scheme_end {
        return None;
    }
    format!("{}/", &first[..authority_end]).parse().ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn scenario(source: &str) -> Scenario {
        crate::scenario::resolve(Path::new("t.yaml"), source, &|_| None)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn services_the_run_did_not_start_are_named() {
        let demo = scenario(
            "name: t\ntargets:\n  api: {demo: true}\nrequests:\n  - {name: home, url: \"${api}/\"}\nphases:\n  - {name: p, duration: 1s, load: {rate: 1/s}}\n",
        );
        let error = compile(&demo, &BTreeMap::new()).err();
        assert_eq!(error, Some(CompileError::DemoNotStarted("api".into())));
        assert_eq!(
            error.map(|e| e.to_string()).as_deref(),
            Some("target `api`: the demo service was not started")
        );
        let started = BTreeMap::from([("api".to_string(), "http://127.0.0.1:1".to_string())]);
        let plan = compile(&demo, &started).expect("compiles once the demo runs");
        assert_eq!(plan.endpoints[0].url.to_string(), "http://127.0.0.1:1/");
    }
}
