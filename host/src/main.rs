//! `pushwire`: the push server and its command-line clients.

extern crate alloc;

/// mimalloc instead of the C library's allocator: a long poll makes and
/// drops a few dozen small objects, and glibc's `malloc`/`free` were a
/// visible share of the server's CPU in the long-poll benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::time::Duration;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use pushwire_core::longpoll::LongPollConfig;
use pushwire_host::cli;
use pushwire_host::config::{FileConfig, LogFormat};
use pushwire_host::edge::{Edge, EdgeConfig, Settings};
use pushwire_host::http::serve;
use pushwire_host::push::framing::Framer;
use pushwire_host::push::hub::SharedHub;
use pushwire_host::push::{App, ServerConfig};

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
    Serve(Box<ServeArgs>),
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
    /// Wall time one edge call may take, in milliseconds (rounded up to the
    /// edge's 10 ms tick) [default: 100].
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
    /// Run the built-in stock ticker on channel `ticker` (the ticker demo
    /// page); `false` turns it off [default: true].
    #[arg(long, env = "PUSHWIRE_DEMO_TICKER", action = clap::ArgAction::Set, value_name = "true|false")]
    demo_ticker: Option<bool>,
    /// Publish the server's own numbers once a second on this channel (the
    /// monitoring console); empty turns it off [default: pushwire-stats].
    #[arg(long, env = "PUSHWIRE_STATS_CHANNEL", value_name = "CHANNEL")]
    stats_channel: Option<String>,
    /// Seconds a camera upload (`/ingest`) may send nothing before it is
    /// ended with 408 [default: 30].
    #[arg(long, env = "PUSHWIRE_UPLOAD_IDLE_SECS", value_name = "SECONDS")]
    upload_idle: Option<u64>,
    /// Seconds a request head may take once its first bytes arrived; a
    /// connection that stalls mid-head is closed [default: 30].
    #[arg(long, env = "PUSHWIRE_HEAD_TIMEOUT_SECS", value_name = "SECONDS")]
    head_timeout: Option<u64>,
    /// Run the built-in demo camera on channel `demo-cam` (watch it at
    /// /stream/demo-cam.mjpg); `false` turns it off [default: true].
    #[arg(long, env = "PUSHWIRE_DEMO_CAMERA", action = clap::ArgAction::Set, value_name = "true|false")]
    demo_camera: Option<bool>,
    /// Log filter (e.g. `info`, `debug`, `pushwire_host=debug`); `RUST_LOG`
    /// wins [default: info].
    #[arg(long, env = "PUSHWIRE_LOG")]
    log: Option<String>,
    /// How log lines are written to stderr: `text` for people (colored only
    /// on a terminal), `json` (one object per line) for log shippers
    /// [default: text].
    #[arg(
        long,
        env = "PUSHWIRE_LOG_FORMAT",
        value_enum,
        value_name = "text|json"
    )]
    log_format: Option<LogFormat>,
    /// A static bearer token that may publish and subscribe to everything;
    /// once set, publishing needs a token. Prefer the environment variable
    /// or the file (a flag shows in `ps`) [default: none].
    #[arg(
        long,
        env = "PUSHWIRE_AUTH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    auth_token: Option<String>,
    /// The HS256 key of JSON Web Tokens whose `pushwire.publish` /
    /// `pushwire.subscribe` claims name channel patterns; once set,
    /// publishing needs a token [default: none].
    #[arg(
        long,
        env = "PUSHWIRE_JWT_SECRET",
        hide_env_values = true,
        value_name = "KEY"
    )]
    jwt_secret: Option<String>,
    /// Channel patterns (`name`, `prefix*`, `*`; comma-separated) whose
    /// subscribers need a token [default: none].
    #[arg(
        long,
        env = "PUSHWIRE_PRIVATE_CHANNELS",
        value_delimiter = ',',
        value_name = "PATTERNS"
    )]
    private_channels: Option<Vec<String>>,
    /// Origins allowed to call from other sites' pages (CORS), comma-separated,
    /// e.g. `https://app.example`; `*` for any [default: none, same origin only].
    #[arg(
        long,
        env = "PUSHWIRE_CORS_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGINS"
    )]
    cors_origins: Option<Vec<String>>,
    /// Let those origins send cookies (`Access-Control-Allow-Credentials`) [default: false].
    #[arg(long, env = "PUSHWIRE_CORS_CREDENTIALS", action = clap::ArgAction::Set, value_name = "true|false")]
    cors_credentials: Option<bool>,
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Serve(args) => {
            let mut file = match &args.config {
                Some(path) => FileConfig::load(path)?,
                None => FileConfig::default(),
            };
            file.apply_channel_env(|name| std::env::var(name).ok())?;
            init_logs(
                args.log
                    .as_deref()
                    .or(file.log.as_deref())
                    .unwrap_or("info"),
                args.log_format.or(file.log_format).unwrap_or_default(),
            );
            run_server(*args, &file)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Pub(args) => {
            init_logs("warn", LogFormat::Text);
            runtime()?.block_on(cli::publish(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sub(args) => {
            init_logs("warn", LogFormat::Text);
            let reason = runtime()?.block_on(cli::subscribe(args, std::io::stdout()))?;
            Ok(ExitCode::from(reason.exit_code()))
        }
    }
}

/// Logs to stderr in `format`; `RUST_LOG` wins over `default`. Colors
/// (ANSI escapes) only for text on a terminal: a file or a log collector
/// would store them as noise.
fn init_logs(default: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(format == LogFormat::Text && std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
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
    let settings = Settings {
        auth_token: args.auth_token.or_else(|| file.auth_token.clone()),
        jwt_secret: args
            .jwt_secret
            .or_else(|| file.jwt_secret.clone())
            .map(String::into_bytes),
        private_channels: args
            .private_channels
            .or_else(|| file.private_channels.clone())
            .unwrap_or_default(),
        cors_origins: args
            .cors_origins
            .or_else(|| file.cors_origins.clone())
            .unwrap_or_default(),
        cors_credentials: args
            .cors_credentials
            .or(file.cors_credentials)
            .unwrap_or(false),
    };
    log_access_rules(&settings);
    let edge_config = EdgeConfig {
        settings,
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
        upload_idle: args
            .upload_idle
            .or(file.upload_idle_secs)
            .map_or(defaults.upload_idle, Duration::from_secs),
        head_timeout: args
            .head_timeout
            .or(file.head_timeout_secs)
            .map_or(defaults.head_timeout, Duration::from_secs),
        demo_camera: args.demo_camera.or(file.demo_camera).unwrap_or(true),
        demo_ticker: args.demo_ticker.or(file.demo_ticker).unwrap_or(true),
        stats_channel: Some(
            args.stats_channel
                .or_else(|| file.stats_channel.clone())
                .unwrap_or_else(|| pushwire_host::demo::STATS_CHANNEL.to_owned()),
        )
        .filter(|channel| !channel.is_empty()),
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

/// Say once, at start, who may publish and subscribe (never the secrets).
fn log_access_rules(settings: &Settings) {
    let how = match (&settings.auth_token, &settings.jwt_secret) {
        (None, None) => {
            tracing::warn!(
                "running open: anyone who reaches this server may publish and subscribe (set auth_token or jwt_secret to require tokens)"
            );
            None
        }
        (Some(_), None) => Some("the static auth token"),
        (None, Some(_)) => Some("HS256 JWTs"),
        (Some(_), Some(_)) => Some("the static auth token or HS256 JWTs"),
    };
    if let Some(how) = how {
        if settings.private_channels.is_empty() {
            tracing::info!("publishing needs {how}; subscribing is open");
        } else {
            tracing::info!(
                private_channels = ?settings.private_channels,
                "publishing needs {how}; so does subscribing to private channels"
            );
        }
    }
    if !settings.cors_origins.is_empty() {
        tracing::info!(origins = ?settings.cors_origins, credentials = settings.cors_credentials, "CORS allows these origins");
    }
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
