//! A headless Chromium driven over WebDriver (Debian's chromium and
//! chromedriver), for the tests that render the HTML page.

use std::path::Path;

use super as support;

/// Debian's chromium and chromedriver, if installed (under CI=true they
/// must be).
pub fn browser_tools() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let chromium = support::require_tool("chromium", "chromium");
    let chromedriver = support::require_tool("chromedriver", "chromium-driver");
    Some((chromium?, chromedriver?))
}

/// A WebDriver session on a headless Chromium (chromedriver), spoken to
/// over its HTTP API; ended when dropped.
pub struct Browser {
    driver: std::process::Child,
    base: String,
    session: String,
    client: reqwest::blocking::Client,
}

impl Browser {
    pub fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = support::process::free_port();
        let driver = std::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        // slogate's client: rustls with the provider slogate installs.
        let client = slogate::backend::http_client(std::time::Duration::from_secs(30)).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while client.get(format!("{base}/status")).send().is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver never answered"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let capabilities = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--no-proxy-server", "--disable-background-networking"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let answer: serde_json::Value = client
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_string();
        Browser {
            driver,
            base,
            session,
            client,
        }
    }

    pub fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.client.request(method, url);
        if !body.is_null() {
            request = request.json(&body);
        }
        let answer: serde_json::Value = request.send().unwrap().json().unwrap();
        answer["value"].clone()
    }

    /// Loads a local file.
    pub fn open(&self, page: &Path) {
        let url = format!("file://{}", page.display());
        self.call(
            reqwest::Method::POST,
            "/url",
            serde_json::json!({"url": url}),
        );
    }

    /// A screenshot of the window, kept with the test output as `name`;
    /// returns where.
    pub fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let png = self.call(reqwest::Method::GET, "/screenshot", serde_json::Value::Null);
        let png = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            png.as_str().unwrap(),
        )
        .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&saved, png).unwrap();
        saved
    }

    pub fn run(&self, script: &str) -> serde_json::Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            serde_json::json!({"script": script, "args": []}),
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .client
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
