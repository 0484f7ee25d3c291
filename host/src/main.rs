//! `pushwire`: the push server and its command-line clients.

extern crate alloc;

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::time::Duration;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use pushwire_core::longpoll::LongPollConfig;
use pushwire_host::cli;
use pushwire_host::config::FileConfig;
use pushwire_host::edge::{Edge, EdgeConfig};
use pushwire_host::fanout::Framer;
use pushwire_host::hub::SharedHub;
use pushwire_host::server::{App, ServerConfig, serve};

/// Push messages to browsers over SSE, NDJSON streams, multipart, forever
/// frames, long-poll and polling.
#[derive(Parser)]
#[command(name = "pushwire", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Publish one message (POST to a /pub/{channel} URL).
    Pub(cli::PubArgs),
    /// Subscribe like EventSource (to any SSE server) and print one JSON
    /// object per event.
    Sub(cli::SubArgs),
}

/// Every setting: flag, then environment variable, then `--config` file,
/// then the default shown.
#[derive(Args)]
struct ServeArgs {
    /// A TOML config file (keys as in the README; `[[channels]]` tables set
    /// replay logs and slow-subscriber policy by channel pattern).
    #[arg(long, env = "PUSHWIRE_CONFIG", value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Address to listen on (HTTP/1.1 and h2c) [default: 127.0.0.1:8080].
    #[arg(long, env = "PUSHWIRE_LISTEN")]
    listen: Option<SocketAddr>,
    /// A replacement edge module (a WebAssembly component of the pushwire
    /// edge world, see host/edge/wit/edge.wit) [default: the built-in one].
    #[arg(long, env = "PUSHWIRE_EDGE", value_name = "FILE.wasm")]
    edge: Option<PathBuf>,
    /// CPU time one edge call may take, in milliseconds [default: 100].
    #[arg(long, env = "PUSHWIRE_EDGE_DEADLINE_MS", value_name = "MS")]
    edge_deadline: Option<u64>,
    /// Seconds between heartbeats on idle streams [default: 15].
    #[arg(long, env = "PUSHWIRE_HEARTBEAT_SECS", value_name = "SECONDS")]
    heartbeat: Option<u64>,
    /// Most subscriptions open at once; more get 503 + Retry-After
    /// [default: 10000].
    #[arg(long, env = "PUSHWIRE_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Largest message, in bytes; larger publishes get 413 [default: 1048576].
    #[arg(long, env = "PUSHWIRE_MAX_MESSAGE_BYTES")]
    max_message_bytes: Option<usize>,
    /// Seconds a long poll is held before an empty reply [default: 30].
    #[arg(long, env = "PUSHWIRE_LONGPOLL_TIMEOUT_SECS", value_name = "SECONDS")]
    longpoll_timeout: Option<u64>,
    /// Run the built-in demo camera on channel `demo-cam` (watch it at
    /// /stream/demo-cam.mjpg); `false` turns it off [default: true].
    #[arg(long, env = "PUSHWIRE_DEMO_CAMERA", action = clap::ArgAction::Set, value_name = "true|false")]
    demo_camera: Option<bool>,
    /// Log filter (e.g. `info`, `debug`, `pushwire_host=debug`); `RUST_LOG`
    /// wins [default: info].
    #[arg(long, env = "PUSHWIRE_LOG")]
    log: Option<String>,
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Serve(args) => {
            let file = match &args.config {
                Some(path) => FileConfig::load(path)?,
                None => FileConfig::default(),
            };
            init_logs(
                args.log
                    .as_deref()
                    .or(file.log.as_deref())
                    .unwrap_or("info"),
            );
            run_server(args, &file)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Pub(args) => {
            init_logs("warn");
            runtime()?.block_on(cli::publish(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sub(args) => {
            init_logs("warn");
            let reason = runtime()?.block_on(cli::subscribe(args, std::io::stdout()))?;
            Ok(ExitCode::from(reason.exit_code()))
        }
    }
}

/// Logs to stderr; `RUST_LOG` wins over `default`.
fn init_logs(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

fn run_server(args: ServeArgs, file: &FileConfig) -> anyhow::Result<()> {
    let defaults = ServerConfig::default();
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let max_message_bytes = args
        .max_message_bytes
        .or(file.max_message_bytes)
        .unwrap_or(defaults.max_message_bytes);
    let edge_config = EdgeConfig {
        deadline: Duration::from_millis(
            args.edge_deadline.or(file.edge_deadline_ms).unwrap_or(100),
        ),
        ..EdgeConfig::default()
    };
    let edge = match args.edge.as_ref().or(file.edge.as_ref()) {
        Some(path) => {
            let wasm = std::fs::read(path)
                .with_context(|| format!("cannot read the edge module {}", path.display()))?;
            Edge::new(&wasm, edge_config).with_context(|| format!("in {}", path.display()))?
        }
        None => Edge::builtin(edge_config)?,
    };
    let framer = Framer::new(Arc::new(edge)).context("the edge module failed at start")?;
    let polls = LongPollConfig {
        timeout: Duration::from_secs(
            args.longpoll_timeout
                .or(file.longpoll_timeout_secs)
                .unwrap_or(30),
        ),
        ..LongPollConfig::default()
    };
    let hub = Arc::new(SharedHub::new(file.hub(max_message_bytes)?, polls, epoch()));
    let config = ServerConfig {
        heartbeat: args
            .heartbeat
            .or(file.heartbeat_secs)
            .map_or(defaults.heartbeat, Duration::from_secs),
        max_connections: args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(defaults.max_connections),
        max_message_bytes,
        demo_camera: args.demo_camera.or(file.demo_camera).unwrap_or(true),
        ..defaults
    };
    let app = Arc::new(App::new(config, hub, framer));

    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!("pushwire listening on http://{}", listener.local_addr()?);
        serve(listener, app, shutdown_signal()).await?;
        anyhow::Ok(())
    })
}

/// A cursor epoch that differs between server lives: the start time.
fn epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |since| since.as_secs())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
