//! The front door: the accept loop, every connection's HTTP/1.1 loop
//! (`front`, with HTTP/2 and what it does not serve itself on hyper), and
//! the one routing table ([`routes`]).

use alloc::sync::Arc;
use core::future::Future;
use core::pin::pin;
use core::time::Duration;

use tokio::net::TcpListener;

use crate::push::App;

mod front;
pub mod routes;

/// Accept connections on `listener` until `shutdown` resolves, then end every
/// stream in order (clients resume from their cursor) and wait up to
/// [`ServerConfig::shutdown_grace`](crate::push::ServerConfig::shutdown_grace) for connections to finish.
///
/// # Errors
/// Never at present; accept errors (e.g. too many open files) are retried.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let front = Arc::new(front::Front::new(Arc::clone(&app)));
    let timers = tokio::spawn(Arc::clone(&app.hub).run_timers());
    let mut publishers = Vec::new();
    if app.config.demo_camera {
        publishers.push(tokio::spawn(crate::demo::camera::run(Arc::clone(&app))));
    }
    if app.config.demo_ticker {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |since| since.as_secs());
        publishers.push(tokio::spawn(crate::demo::ticker(Arc::clone(&app), seed)));
    }
    if let Some(channel) = app.config.stats_channel.clone() {
        publishers.push(tokio::spawn(crate::demo::stats(Arc::clone(&app), channel)));
    }
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    tracing::warn!("accept failed, retrying: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(Arc::clone(&front).connection(stream));
    }
    tracing::info!("shutting down: ending streams so clients resume");
    drop(listener);
    for publisher in publishers {
        publisher.abort();
    }
    app.hub.shut_down();
    front.shut_down();
    if tokio::time::timeout(app.config.shutdown_grace, front.all_closed())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
    timers.abort();
    Ok(())
}
