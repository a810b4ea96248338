//! `slogate proxy`: a fault proxy for a manual game day. Faults come from
//! `--fault` and from the control API while it runs; Ctrl-C removes them
//! and closes every connection.

use super::{Exit, UsageError};
use crate::cli::ProxyArgs;
use crate::proxy::fault::{DEFAULT_BOUND, parse_words};
use crate::proxy::{Config, Fault, Mode, Proxy};

pub(crate) fn run(args: &ProxyArgs) -> anyhow::Result<Exit> {
    let mode: Mode = args
        .mode
        .parse()
        .map_err(|e| UsageError::new("--mode", e))?;
    let mut faults = Vec::new();
    for text in &args.faults {
        let spec =
            parse_words(text).map_err(|e| UsageError::new("--fault", format!("`{text}`: {e}")))?;
        let fault = Fault::new(&spec, mode)
            .map_err(|e| UsageError::new("--fault", format!("`{text}`: {e}")))?;
        faults.push((spec, fault));
    }
    let mut config = Config::new(&args.name, mode, args.listen, &args.upstream);
    config.control = args.control;
    config.allow_remote = args.allow_remote;
    if let Some(max) = args.max_connections {
        config.max_connections = max as usize;
    }
    if args.header_timeout.is_zero() {
        return Err(UsageError::new("--header-timeout", "must be longer than 0s").into());
    }
    config.header_timeout = args.header_timeout;
    config.upstream_timeout = args.upstream_timeout;
    let proxy = Proxy::start(config).map_err(|e| UsageError::new("--listen", format!("{e:#}")))?;
    println!(
        "{} proxy `{}` on {} -> {}",
        mode,
        proxy.name(),
        proxy.addr(),
        crate::redact::url(proxy.upstream())
    );
    println!(
        "control: {0}/faults (GET, POST, DELETE), metrics: {0}/metrics",
        proxy.control_url()
    );
    for (spec, fault) in faults {
        let bound = fault.bound.unwrap_or(DEFAULT_BOUND);
        let describe = fault.describe();
        let active = proxy.table().add(spec, fault, bound);
        println!(
            "fault {}: {describe} for {}",
            active.id,
            crate::units::format_duration(bound)
        );
    }
    let serving = std::sync::Arc::new(proxy);
    let metrics = match args.metrics_listen {
        Some(addr) => {
            let source = serving.clone();
            let server = crate::telemetry::serve::Server::start(
                addr,
                args.allow_remote,
                std::sync::Arc::new(move || source.encode_openmetrics()),
            )
            .map_err(|e| UsageError::new("--metrics-listen", format!("{e:#}")))?;
            println!("metrics: http://{}/metrics", server.addr());
            Some(server)
        }
        None => None,
    };
    let proxy = &*serving;
    crate::net::wait_for_signal()?;
    let removed = proxy.table().snapshot().len();
    drop(metrics);
    drop(serving);
    println!("stopped; {removed} fault(s) removed");
    Ok(Exit::Success)
}
