//! End-to-end harness: the real server started in-process on `127.0.0.1:0`,
//! a TCP proxy in front of it that can cut connections or break a transport,
//! and real headless Chromium driven by a small Node script
//! (`browser/run.mjs`, npm `playwright-core`).
//!
//! Each scenario is a folder under `scenarios/` holding the page-side script;
//! `tests/browser.rs` runs them and checks what they report.
//!
//! ```text
//! Chromium ──► Proxy (cut, fail-sse, stall-sse) ──► pushwire host (in-process)
//!    ▲  page.evaluate(helpers.js + scenarios/<name>/page.js)
//!    └── node browser/run.mjs ──► one JSON line on stdout ──► the Rust test
//! ```

extern crate alloc;

pub mod proxy;

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::time::Duration;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;

use pushwire_core::hub::HubConfig;
use pushwire_core::longpoll::LongPollConfig;
use pushwire_host::edge::{Edge, EdgeConfig};
use pushwire_host::fanout::Framer;
use pushwire_host::hub::SharedHub;
use pushwire_host::server::{App, ServerConfig, serve};
use tokio::sync::oneshot;

/// A pushwire server running in this process.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Start the server with the built-in edge module, 1 s heartbeats and
    /// 2 s long polls (so tests stay quick).
    ///
    /// # Panics
    /// When the edge module does not load or no port can be bound.
    pub async fn start() -> Self {
        let edge = Edge::builtin(EdgeConfig::default()).expect("the built-in edge module loads");
        let framer = Framer::new(Arc::new(edge)).expect("the edge module answers heartbeats");
        let polls = LongPollConfig {
            timeout: Duration::from_secs(2),
            ..LongPollConfig::default()
        };
        let hub = Arc::new(SharedHub::new(HubConfig::default(), polls, 7));
        let config = ServerConfig {
            heartbeat: Duration::from_secs(1),
            ..ServerConfig::default()
        };
        let app = Arc::new(App::new(config, hub, framer));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = serve(listener, app, async {
                let _ = stopped.await;
            })
            .await;
        });
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// The `tests/` folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Install the Node packages (`npm ci`) unless they are there; once per process.
///
/// # Panics
/// When npm is missing or fails.
pub fn ensure_node_packages() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *done {
        return;
    }
    let root = root();
    if !root
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&root)
            .status()
            .expect("npm runs (install Node.js and npm)");
        assert!(status.success(), "npm ci in tests/ failed: {status}");
    }
    *done = true;
}

/// What a scenario reported.
#[derive(Debug)]
pub struct Report {
    /// The scenario's return value.
    pub result: serde_json::Value,
    /// The page's console lines and errors.
    pub logs: Vec<String>,
}

/// Run `scenarios/<scenario>/page.js` in headless Chromium at `origin`
/// with `params`, bounded by `limit`.
///
/// # Panics
/// When the browser cannot run, the scenario throws or times out; the
/// message carries the page's console.
pub async fn run_scenario(
    origin: &str,
    scenario: &str,
    params: &serde_json::Value,
    limit: Duration,
) -> Report {
    ensure_node_packages();
    let root = root();
    let script = root.join("scenarios").join(scenario).join("page.js");
    assert!(script.exists(), "no scenario {}", script.display());
    let millis = limit.as_millis().to_string();
    let child = tokio::process::Command::new("node")
        .arg(root.join("browser/run.mjs"))
        .arg(origin)
        .arg(&script)
        .arg(params.to_string())
        .arg(&millis)
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (install Node.js)");
    let output = tokio::time::timeout(limit + Duration::from_secs(15), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{scenario}: the browser runner did not finish"))
        .expect("the browser runner's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "{scenario}: the runner printed no JSON.\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let logs: Vec<String> = report["logs"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(|line| line.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        report["ok"] == true,
        "{scenario} failed: {}\npage console:\n{}",
        report["error"].as_str().unwrap_or("?"),
        logs.join("\n")
    );
    Report {
        result: report["result"].clone(),
        logs,
    }
}
