//! A GRIP origin for Pushpin: every request is held on the channel named by
//! the last path segment, as a stream (SSE) or, with `?mode=response`, as a
//! long-poll response.

use core::convert::Infallible;
use core::net::SocketAddr;
use core::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Options of `grip-backend`.
#[derive(clap::Args)]
pub(crate) struct GripArgs {
    /// Address to listen on (loopback).
    #[arg(long, default_value = "127.0.0.1:27900")]
    listen: SocketAddr,
    /// Exit after this many seconds.
    #[arg(long, default_value_t = 3600)]
    max_secs: u64,
}

/// Answer GRIP hold instructions until `max_secs` have passed.
pub(crate) async fn serve(args: GripArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen).await?;
    eprintln!("grip backend on {}", args.listen);
    let accept = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(hold))
                    .await;
            });
        }
    };
    tokio::select! {
        () = accept => {}
        () = tokio::time::sleep(Duration::from_secs(args.max_secs)) => {}
    }
    Ok(())
}

async fn hold(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let channel = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or("bench")
        .to_owned();
    let long_poll = req
        .uri()
        .query()
        .is_some_and(|query| query.split('&').any(|pair| pair == "mode=response"));
    let builder = Response::builder().header("Grip-Channel", channel);
    let response = if long_poll {
        builder
            .header("Grip-Hold", "response")
            .header("Grip-Timeout", "60")
            .header("Content-Type", "text/plain")
            .body(Full::new(Bytes::new()))
    } else {
        builder
            .header("Grip-Hold", "stream")
            .header("Content-Type", "text/event-stream")
            .header("Cache-Control", "no-cache")
            .body(Full::new(Bytes::from_static(b": held\n\n")))
    };
    Ok(response.unwrap_or_default())
}
