//! What every part that talks to the outside (not the load path's
//! transport) shares: the TLS client configuration (also the load path's),
//! the blocking HTTP client of the control plane (scrapes, Prometheus and
//! Alertmanager APIs, the demo's and proxies' knobs), and waiting for Ctrl-C
//! or SIGTERM. Below `app`, `demo`, `metrics`, `backend` and `engine`, and
//! imports none of them.

pub(crate) mod tls;

use std::time::Duration;

/// A blocking HTTP client with our TLS setup (ring, Mozilla roots).
pub fn http_client(timeout: Duration) -> anyhow::Result<reqwest::blocking::Client> {
    let tls = tls::client_config(false, &[b"http/1.1"]);
    Ok(reqwest::blocking::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        .timeout(timeout)
        .user_agent(crate::USER_AGENT)
        .no_proxy()
        .build()?)
}

/// Blocks until Ctrl-C or SIGTERM.
pub(crate) fn wait_for_signal() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        anyhow::Ok(())
    })
}
