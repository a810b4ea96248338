//! Real servers as child processes (Prometheus, Alertmanager, node
//! exporter), killed when the test ends.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed on drop.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program` with `args` and waits until `ready(addr)` holds.
pub fn start(
    program: &Path,
    args: &[String],
    addr: SocketAddr,
    ready: impl Fn(SocketAddr) -> bool,
) -> Process {
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let process = Process(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() && ready(addr) {
            return process;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} was not ready on {addr} within 30 s", program.display());
}

/// A real Prometheus with `config` (YAML), data in a temporary directory.
pub struct Prometheus {
    pub addr: SocketAddr,
    _process: Process,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn start(binary: &Path, config: &str) -> Prometheus {
        Prometheus::start_with(binary, config, &[])
    }

    /// [`Prometheus::start`] with more flags.
    pub fn start_with(binary: &Path, config: &str, flags: &[&str]) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("prometheus.yml");
        std::fs::write(&file, config).unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let args = vec![
            format!("--config.file={}", file.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address={addr}"),
        ];
        let args: Vec<String> = args
            .into_iter()
            .chain(flags.iter().map(|f| f.to_string()))
            .collect();
        let process = start(binary, &args, addr, |addr| {
            crate::support::http(addr, "GET", "/-/ready", &[], "").0 == 200
        });
        Prometheus {
            addr,
            _process: process,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An instant query's `data.result`, at now.
    pub fn query(&self, expr: &str) -> serde_json::Value {
        let body = slogate::backend::http_client(Duration::from_secs(30))
            .unwrap()
            .get(format!("{}/api/v1/query", self.url()))
            .query(&[("query", expr)])
            .send()
            .and_then(|r| r.text())
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "success", "{expr}: {json}");
        json["data"]["result"].clone()
    }
}

/// A real Alertmanager with `config` (YAML), alone (no cluster), data in a
/// temporary directory.
pub struct Alertmanager {
    pub addr: SocketAddr,
    _process: Process,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    pub fn start(binary: &Path, config: &str) -> Alertmanager {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("alertmanager.yml");
        std::fs::write(&file, config).unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let args = vec![
            format!("--config.file={}", file.display()),
            format!("--storage.path={}", dir.path().join("data").display()),
            format!("--web.listen-address={addr}"),
            "--cluster.listen-address=".into(),
        ];
        let process = start(binary, &args, addr, |addr| {
            crate::support::http(addr, "GET", "/-/ready", &[], "").0 == 200
        });
        Alertmanager {
            addr,
            _process: process,
            _dir: dir,
        }
    }
}

/// Debian's `prometheus` and `prometheus-alertmanager` binaries, or None
/// where they are not installed (a test then returns; under CI=true it
/// fails instead, see `require_tool`).
pub fn prometheus_and_alertmanager() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let prometheus = crate::support::require_tool("prometheus", "prometheus")?;
    let alertmanager =
        crate::support::require_tool("prometheus-alertmanager", "prometheus-alertmanager")?;
    Some((prometheus, alertmanager))
}
