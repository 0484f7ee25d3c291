//! A TCP proxy between the browser and the server that can cut every
//! connection and break native EventSource, driven from the page through a
//! small control port (`POST http://127.0.0.1:<control>/<command>`):
//!
//! | command | effect |
//! | --- | --- |
//! | `cut` | close every connection open now (the server "drops" them) |
//! | `mode/pass` | forward everything (the default) |
//! | `mode/fail-sse` | answer a request for `transport=sse` with 503 |
//! | `mode/stall-sse` | forward a `transport=sse` request but hold its response (a buffering proxy) |

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicU8, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to native EventSource requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Forward everything.
    Pass = 0,
    /// Answer `transport=sse` requests with 503.
    FailSse = 1,
    /// Hold the responses to `transport=sse` requests.
    StallSse = 2,
}

struct Control {
    mode: AtomicU8,
    cuts: watch::Sender<u64>,
}

/// The running proxy; stops when dropped.
pub struct Proxy {
    /// Where browsers connect (forwarded to the server).
    pub addr: SocketAddr,
    /// The control port.
    pub control: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    /// Start a proxy in front of `upstream`.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start(upstream: SocketAddr) -> Self {
        let control = Arc::new(Control {
            mode: AtomicU8::new(Mode::Pass as u8),
            cuts: watch::channel(0).0,
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let control_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind control");
        let control_addr = control_listener.local_addr().expect("control address");
        let proxy_task = tokio::spawn({
            let control = Arc::clone(&control);
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(pipe(client, upstream, Arc::clone(&control)));
                }
            }
        });
        let control_task = tokio::spawn(async move {
            while let Ok((client, _)) = control_listener.accept().await {
                tokio::spawn(command(client, Arc::clone(&control)));
            }
        });
        Self {
            addr,
            control: control_addr,
            tasks: vec![proxy_task, control_task],
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Answer one control request (the request line is all that matters).
async fn command(mut client: TcpStream, control: Arc<Control>) {
    let mut head = Vec::new();
    let mut buf = [0_u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line.split(' ').nth(1).unwrap_or_default();
    let status = match path {
        "/cut" => {
            control.cuts.send_modify(|cuts| *cuts += 1);
            "204 No Content"
        }
        "/mode/pass" => set(&control, Mode::Pass),
        "/mode/fail-sse" => set(&control, Mode::FailSse),
        "/mode/stall-sse" => set(&control, Mode::StallSse),
        _ => "404 Not Found",
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\naccess-control-allow-origin: *\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let _ = client.write_all(reply.as_bytes()).await;
}

fn set(control: &Control, mode: Mode) -> &'static str {
    control.mode.store(mode as u8, Ordering::SeqCst);
    "204 No Content"
}

/// Forward one connection both ways until either side ends or a cut.
async fn pipe(mut client: TcpStream, upstream: SocketAddr, control: Arc<Control>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let mut cuts = control.cuts.subscribe();
    cuts.mark_unchanged();
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let mut up = vec![0_u8; 16 * 1024];
    let mut down = vec![0_u8; 16 * 1024];
    let mut held = false;
    loop {
        tokio::select! {
            _ = cuts.changed() => return,
            read = client_read.read(&mut up) => {
                let Ok(n @ 1..) = read else { return };
                let chunk = up.get(..n).unwrap_or_default();
                if chunk.windows(13).any(|w| w == b"transport=sse") {
                    match control.mode.load(Ordering::SeqCst) {
                        1 => {
                            let _ = client_write
                                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                                .await;
                            return;
                        }
                        2 => held = true,
                        _ => {}
                    }
                }
                if server_write.write_all(chunk).await.is_err() {
                    return;
                }
            }
            read = server_read.read(&mut down) => {
                let Ok(n @ 1..) = read else { return };
                if !held && client_write.write_all(down.get(..n).unwrap_or_default()).await.is_err() {
                    return;
                }
            }
        }
    }
}
