//! End-to-end harness: the real server started in-process on `127.0.0.1:0`,
//! a TCP proxy in front of it that can cut connections or break a transport,
//! and real headless Chromium driven by a small Node script
//! (`browser/run.mjs`, npm `playwright-core`).
//!
//! Each scenario is a folder under `scenarios/`. An SDK scenario holds
//! `page.js`, a script evaluated in an empty page (`browser/run.mjs`;
//! `tests/browser.rs` runs them). A page scenario holds `drive.mjs`, run in
//! Node to open the demo pages of `www/`, click, type, read the DOM and take
//! screenshots (`browser/pages.mjs`; `tests/pages.rs` runs them).
//!
//! ```text
//! Chromium ──► Proxy (cut, fail-sse, stall-sse) ──► pushwire host (in-process)
//!    ▲  page.evaluate(helpers.js + scenarios/<name>/page.js)
//!    │  or scenarios/<name>/drive.mjs driving /chat.html, /lab.html, …
//!    └── node browser/run.mjs | pages.mjs ──► one JSON line on stdout ──► the Rust test
//! ```
//!
//! Screenshots of the pages land in [`screenshots`] (`<target dir>/screenshots/`).

extern crate alloc;

pub mod proxy;

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::time::Duration;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};

use pushwire_core::hub::HubConfig;
use pushwire_core::longpoll::LongPollConfig;
use pushwire_host::edge::{Edge, EdgeConfig};
use pushwire_host::http::serve;
use pushwire_host::push::framing::Framer;
use pushwire_host::push::hub::SharedHub;
use pushwire_host::push::{App, ServerConfig};
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
        Self::start_with(ServerConfig::default()).await
    }

    /// Start the server as `pushwire serve` runs for the demo pages: the
    /// built-in ticker, demo camera and stats publisher on, plus the test
    /// timings of [`Server::start`].
    ///
    /// # Panics
    /// As [`Server::start`].
    pub async fn demo() -> Self {
        Self::start_with(ServerConfig {
            demo_ticker: true,
            demo_camera: true,
            stats_channel: Some("pushwire-stats".into()),
            ..ServerConfig::default()
        })
        .await
    }

    /// Start the server with `config`, its heartbeat set to 1 s.
    ///
    /// # Panics
    /// As [`Server::start`].
    pub async fn start_with(config: ServerConfig) -> Self {
        let framer = Framer::new(builtin_edge()).expect("the edge module answers heartbeats");
        let polls = LongPollConfig {
            timeout: Duration::from_secs(2),
            ..LongPollConfig::default()
        };
        let hub = Arc::new(SharedHub::new(HubConfig::default(), polls, 7));
        let config = ServerConfig {
            heartbeat: Duration::from_secs(1),
            ..config
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

/// The built-in edge module, compiled once per test process and shared by
/// every [`Server`] (compiling it takes seconds in a debug build; its only
/// state besides the instance pool is the call counters).
fn builtin_edge() -> Arc<Edge> {
    static EDGE: OnceLock<Arc<Edge>> = OnceLock::new();
    Arc::clone(EDGE.get_or_init(|| {
        Arc::new(Edge::builtin(EdgeConfig::default()).expect("the built-in edge module loads"))
    }))
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

/// Where the page scenarios write their screenshots:
/// `<target dir>/screenshots/` (`$CARGO_TARGET_DIR/screenshots/` when set,
/// else found from the test binary's path, `<target>/debug/deps/…`).
pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| root().join("../target"));
    target.join("screenshots")
}

/// What a scenario reported.
#[derive(Debug)]
pub struct Report {
    /// The scenario's return value.
    pub result: serde_json::Value,
    /// The page's console lines and errors.
    pub logs: Vec<String>,
    /// Console errors and uncaught page errors (page scenarios only).
    pub errors: Vec<String>,
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
    run_node("run.mjs", "page.js", origin, scenario, params, limit).await
}

/// Run the page scenario `scenarios/<scenario>/drive.mjs` (Node driving
/// the demo pages) against `origin` with `params`, bounded by `limit`.
///
/// # Panics
/// As [`run_scenario`].
pub async fn run_page_scenario(
    origin: &str,
    scenario: &str,
    params: &serde_json::Value,
    limit: Duration,
) -> Report {
    run_node("pages.mjs", "drive.mjs", origin, scenario, params, limit).await
}

async fn run_node(
    runner: &str,
    file: &str,
    origin: &str,
    scenario: &str,
    params: &serde_json::Value,
    limit: Duration,
) -> Report {
    ensure_node_packages();
    let root = root();
    let script = root.join("scenarios").join(scenario).join(file);
    assert!(script.exists(), "no scenario {}", script.display());
    let millis = limit.as_millis().to_string();
    let child = tokio::process::Command::new("node")
        .arg(root.join("browser").join(runner))
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
    let lines = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .filter_map(|line| line.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let logs = lines("logs");
    assert!(
        report["ok"] == true,
        "{scenario} failed: {}\npage console:\n{}",
        report["error"].as_str().unwrap_or("?"),
        logs.join("\n")
    );
    Report {
        result: report["result"].clone(),
        errors: lines("errors"),
        logs,
    }
}
