//! `pushwire`: the push server and its command-line clients.

extern crate alloc;

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::time::Duration;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use pushwire_core::hub::HubConfig;
use pushwire_core::longpoll::LongPollConfig;
use pushwire_host::cli;
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

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (HTTP/1.1 and h2c).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A replacement edge module (a WebAssembly component of the pushwire
    /// edge world, see host/edge/wit/edge.wit).
    #[arg(long, value_name = "FILE.wasm")]
    edge: Option<PathBuf>,
    /// CPU time one edge call may take, in milliseconds.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    edge_deadline: u64,
    /// Seconds between heartbeats on idle streams.
    #[arg(long, default_value_t = 15, value_name = "SECONDS")]
    heartbeat: u64,
    /// Most subscriptions open at once (more get 503 + Retry-After).
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// Largest message, in bytes (larger publishes get 413).
    #[arg(long, default_value_t = 1024 * 1024)]
    max_message_bytes: usize,
    /// Seconds a long poll is held before an empty reply.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    longpoll_timeout: u64,
    /// Run the built-in demo camera on channel `demo-cam` (watch it at
    /// /stream/demo-cam.mjpg); `--demo-camera false` turns it off.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "true|false")]
    demo_camera: bool,
    /// Log filter (e.g. `info`, `debug`, `pushwire_host=debug`); `RUST_LOG` wins.
    #[arg(long, default_value = "info")]
    log: String,
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Serve(args) => {
            init_logs(&args.log);
            run_server(args)?;
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

fn run_server(args: ServeArgs) -> anyhow::Result<()> {
    let edge_config = EdgeConfig {
        deadline: Duration::from_millis(args.edge_deadline),
        ..EdgeConfig::default()
    };
    let edge = match &args.edge {
        Some(path) => {
            let wasm = std::fs::read(path)
                .with_context(|| format!("cannot read the edge module {}", path.display()))?;
            Edge::new(&wasm, edge_config).with_context(|| format!("in {}", path.display()))?
        }
        None => Edge::builtin(edge_config)?,
    };
    let framer = Framer::new(Arc::new(edge)).context("the edge module failed at start")?;
    let hub_config = HubConfig {
        max_message_bytes: args.max_message_bytes,
        ..HubConfig::default()
    };
    let polls = LongPollConfig {
        timeout: Duration::from_secs(args.longpoll_timeout),
        ..LongPollConfig::default()
    };
    let hub = Arc::new(SharedHub::new(hub_config, polls, epoch()));
    let config = ServerConfig {
        heartbeat: Duration::from_secs(args.heartbeat),
        max_connections: args.max_connections,
        max_message_bytes: args.max_message_bytes,
        demo_camera: args.demo_camera,
        ..ServerConfig::default()
    };
    let app = Arc::new(App::new(config, hub, framer));

    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
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
