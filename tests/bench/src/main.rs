//! `pushwire-bench`: a load generator for push servers on loopback.
//!
//! `pushwire-bench run` opens N subscribers of one transport (SSE, NDJSON
//! stream, multipart, forever frame, long-poll) against any server whose
//! subscribe and publish URLs it is given (pushwire, nchan, Pushpin), then
//! publishes M messages of S bytes, back to back with several in flight or
//! paced at R a second. Every payload starts with a marker holding its
//! sequence number and its publish time on this process's clock, so
//! publish→receive latency needs one clock only. It reports, as one JSON line
//! on stdout: deliveries a second, latency p50/p99/max, server CPU seconds per
//! 1,000 deliveries and resident memory per connection (from `/proc` of
//! `--server-pid`), and messages lost. Progress goes to stderr.
//!
//! SSE, NDJSON, multipart and pushwire's long-poll replies are parsed with
//! `pushwire-core`'s parsers; the forever frame and the peers' raw long-poll
//! bodies are scanned for the payload marker.
//!
//! `pushwire-bench grip-backend` is the tiny GRIP origin Pushpin needs: it
//! answers every request with `Grip-Hold` / `Grip-Channel` headers.

extern crate alloc;

mod grip;
mod load;
mod stats;
mod wire;

use clap::{Parser, Subcommand};

/// The command line.
#[derive(Parser)]
#[command(
    name = "pushwire-bench",
    about = "Load generator for push servers (pushwire, nchan, Pushpin) on loopback"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Subscribe, publish, measure; print one JSON line.
    Run(Box<load::RunArgs>),
    /// Serve GRIP hold instructions for Pushpin (`?mode=response` for long-poll).
    GripBackend(grip::GripArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Run(args) => {
            let report = runtime.block_on(load::run(*args))?;
            println!("{report}");
        }
        Command::GripBackend(args) => runtime.block_on(grip::serve(args))?,
    }
    Ok(())
}
