//! Webcams end to end: ffmpeg uploads mpjpeg to /ingest and reads
//! /stream/{channel}.mjpg back, snapshots decode, a slow viewer does not hold
//! up a fast one, the demo camera draws distinct frames, and bad uploads get
//! a clear 400.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

extern crate alloc;

mod support;

use core::time::Duration;
use std::process::Stdio;

use bytes::Bytes;
use pushwire_core::multipart::{
    MultipartEvent, MultipartParser, MultipartParserConfig, boundary_from_content_type,
};
use pushwire_host::demo::camera;
use pushwire_host::push::ServerConfig;
use pushwire_host::webcam::publish_frame;
use support::{LIMIT, Options, Server, Stream, body_text, count, get, request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// A real JPEG: a demo camera frame.
fn jpeg(number: u64) -> Vec<u8> {
    camera::frame(number, Duration::from_millis(number * 100)).unwrap()
}

/// Run a tool to completion within [`LIMIT`]; its exit status and stderr.
async fn run(program: &str, args: &[&str]) -> (bool, String) {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|err| panic!("{program} runs (scripts/test.sh installs it): {err}"));
    let output = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} finished in time"))
        .unwrap();
    let mut report = String::from_utf8_lossy(&output.stderr).into_owned();
    report.push_str(&String::from_utf8_lossy(&output.stdout));
    (output.status.success(), report)
}

/// The parts of a multipart response body, parsed by core's parser.
fn parts(content_type: &str, body: &[u8]) -> Vec<pushwire_core::multipart::Part> {
    let boundary = boundary_from_content_type(content_type).unwrap();
    let mut parser = MultipartParser::new(&boundary, MultipartParserConfig::default());
    parser.push(body);
    let mut parts = Vec::new();
    while let Some(Ok(MultipartEvent::Part(part))) = parser.poll_event() {
        parts.push(part);
    }
    parts
}

/// An mpjpeg body as ffmpeg writes it: `--ffmpeg`, then each frame and the
/// delimiter after it, and no close delimiter.
fn mpjpeg(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut body = b"--ffmpeg\r\n".to_vec();
    for frame in frames {
        body.extend_from_slice(
            format!(
                "Content-type: image/jpeg\r\nContent-length: {}\r\n\r\n",
                frame.len()
            )
            .as_bytes(),
        );
        body.extend_from_slice(frame);
        body.extend_from_slice(b"\r\n--ffmpeg\r\n");
    }
    body
}

/// Read until `needle` appears once, scanning each byte once (frames are big).
async fn read_until_found(stream: &mut Stream, needle: &str) {
    let needle = needle.as_bytes();
    let scanned = core::cell::Cell::new(0_usize);
    stream
        .read_until(|got| {
            let from = scanned.get().saturating_sub(needle.len());
            scanned.set(got.len());
            count(&got[from.min(got.len())..], needle) > 0
        })
        .await;
}

async fn open_view(server: &Server, path: &str) -> (String, Stream) {
    let response = get(server.addr, path, &[]).await;
    assert_eq!(response.status(), 200, "{path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("multipart/x-mixed-replace;boundary="));
    (content_type, Stream::new(response))
}

#[tokio::test]
async fn ffmpeg_upload_arrives_as_parts_that_ffmpeg_reads_back() {
    let server = Server::start().await;
    let (content_type, mut viewer) = open_view(&server, "/stream/x.mjpg").await;
    server.wait_for_subscribers(1).await;
    let stream_url = server.url("/stream/x.mjpg");
    let reader = tokio::spawn(async move {
        run(
            "ffmpeg",
            &[
                "-v",
                "error",
                "-f",
                "mpjpeg",
                "-i",
                &stream_url,
                "-frames:v",
                "3",
                "-f",
                "null",
                "-",
            ],
        )
        .await
    });
    server.wait_for_subscribers(2).await;
    let (ok, report) = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=15",
            "-t",
            "2",
            "-f",
            "mpjpeg",
            &server.url("/ingest/x"),
        ],
    )
    .await;
    assert!(ok, "ffmpeg uploads: {report}");
    let (ok, report) = reader.await.unwrap();
    assert!(
        ok,
        "ffmpeg decodes three frames of /stream/x.mjpg: {report}"
    );

    viewer
        .read_until_count("Content-Type: image/jpeg", 10)
        .await;
    let parts = parts(&content_type, &viewer.received);
    assert!(parts.len() >= 10, "{} parts", parts.len());
    for part in &parts {
        assert_eq!(part.content_type(), Some("image/jpeg"));
        assert_eq!(part.header("x-pushwire-event"), Some("frame"));
        assert!(part.body.starts_with(&[0xFF, 0xD8, 0xFF]) && part.body.ends_with(&[0xFF, 0xD9]));
    }
    let info = server.app.hub.channel_info("x").unwrap();
    assert!(info.last_seq >= 25, "two seconds at 15 fps: {info:?}");
}

#[tokio::test]
async fn an_upload_replies_with_its_channel_and_frame_count() {
    let server = Server::start().await;
    let frames = [jpeg(1), jpeg(2), jpeg(3)];
    let response = request(
        server.addr,
        "PUT",
        "/ingest/cam",
        &[("content-type", "multipart/x-mixed-replace;boundary=ffmpeg")],
        Bytes::from(mpjpeg(&frames)),
    )
    .await;
    assert_eq!(response.status(), 200);
    let reply: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(reply, serde_json::json!({"channel": "cam", "frames": 3}));
    let newest = server.app.hub.newest("cam").unwrap();
    assert_eq!(newest.data(), &frames[2][..]);
    assert_eq!(newest.event(), "frame");
}

#[tokio::test]
async fn a_viewer_that_comes_after_the_upload_ended_sees_the_newest_frame_at_once() {
    let server = Server::start().await;
    let frames = [jpeg(1), jpeg(2), jpeg(3)];
    let response = request(
        server.addr,
        "PUT",
        "/ingest/paused",
        &[("content-type", "multipart/x-mixed-replace;boundary=ffmpeg")],
        Bytes::from(mpjpeg(&frames)),
    )
    .await;
    assert_eq!(response.status(), 200);
    let (content_type, mut viewer) = open_view(&server, "/stream/paused.mjpg").await;
    // The camera sends nothing more: the first part is the frame it left.
    let got = viewer
        .read_until(|got| !parts(&content_type, got).is_empty())
        .await
        .to_vec();
    assert_eq!(parts(&content_type, &got)[0].body, frames[2]);
}

#[tokio::test]
async fn snapshot_is_the_newest_frame_as_a_decodable_jpeg() {
    let server = Server::start().await;
    let response = get(server.addr, "/snapshot/pic.jpg", &[]).await;
    assert_eq!(response.status(), 404);
    assert!(body_text(response).await.contains("has no JPEG frame yet"));

    // A JPEG published with POST /pub is a frame too, on every transport that carries binary.
    let (content_type, mut viewer) = open_view(&server, "/stream/pic.mjpg").await;
    server.wait_for_subscribers(1).await;
    let frame = jpeg(7);
    let response = request(
        server.addr,
        "POST",
        "/pub/pic",
        &[("content-type", "image/jpeg")],
        Bytes::from(frame.clone()),
    )
    .await;
    assert_eq!(response.status(), 200);
    viewer.read_until_count("Content-Type: image/jpeg", 1).await;
    let parts = parts(&content_type, &viewer.received);
    assert_eq!(parts[0].body, frame);
    assert_eq!(parts[0].content_length(), Some(frame.len() as u64));

    let response = get(server.addr, "/snapshot/pic.jpg", &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&body[..], &frame[..]);
    let path = std::env::temp_dir().join(format!("pushwire-snapshot-{}.jpg", std::process::id()));
    std::fs::write(&path, &body).unwrap();
    let (ok, report) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
            path.to_str().unwrap(),
        ],
    )
    .await;
    let _ = std::fs::remove_file(&path);
    assert!(ok, "ffprobe reads the snapshot: {report}");
    assert_eq!(report.trim(), "mjpeg,320,240");
}

#[tokio::test]
async fn a_slow_viewer_does_not_delay_a_fast_one() {
    let server = Server::start().await;
    server.app.hub.configure_webcam("x").unwrap();
    // A viewer that never reads: its socket buffers fill and it falls behind.
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /stream/x.mjpg HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    server.wait_for_subscribers(1).await;
    let (_, mut fast) = open_view(&server, "/stream/x.mjpg").await;
    server.wait_for_subscribers(2).await;
    // Big frames fill the slow viewer's buffers within a few frames.
    let mut frame = jpeg(0);
    frame.resize(512 * 1024, 0x55);
    for round in 0..48_u8 {
        let mut data = frame.clone();
        data[100] = round;
        let published = publish_frame(&server.app, "x", "frame", data).unwrap();
        // The fast viewer gets each newest frame at once, however stuck the slow one is.
        let id = format!("X-Pushwire-Id: {}\r\n", published.cursor());
        read_until_found(&mut fast, &id).await;
        fast.received.clear();
    }
    // The slow viewer did fall behind: once it reads again it skips to the
    // newest frame instead of getting the 24 MiB it missed.
    let deadline = tokio::time::Instant::now() + LIMIT;
    let mut buffered = vec![0; 1 << 20];
    while server.app.metrics.snapshot().skipped == 0 {
        let read = tokio::time::timeout_at(deadline, slow.read(&mut buffered))
            .await
            .expect("the slow viewer skips frames once it reads")
            .unwrap();
        assert!(read > 0, "the slow viewer's stream is still open");
    }
}

#[tokio::test]
async fn a_still_frame_is_sent_again_after_a_pause() {
    let server = Server::start().await;
    server.app.hub.configure_webcam("still").unwrap();
    let (_, mut viewer) = open_view(&server, "/stream/still.mjpg").await;
    server.wait_for_subscribers(1).await;
    let published = publish_frame(&server.app, "still", "frame", jpeg(1)).unwrap();
    // Chromium shows a part only once the next begins: the same part comes
    // again after a second without a new frame.
    let id = format!("X-Pushwire-Id: {}\r\n", published.cursor());
    viewer.read_until_count(&id, 2).await;
}

#[tokio::test]
async fn fps_caps_a_viewer_to_the_newest_frames() {
    let server = Server::start().await;
    server.app.hub.configure_webcam("fast").unwrap();
    let (content_type, mut capped) = open_view(&server, "/stream/fast.mjpg?fps=2").await;
    server.wait_for_subscribers(1).await;
    let mut last = None;
    for number in 0..20 {
        last = Some(publish_frame(&server.app, "fast", "frame", jpeg(number)).unwrap());
    }
    let id = format!("X-Pushwire-Id: {}\r\n", last.unwrap().cursor());
    capped.read_until_count(&id, 1).await;
    let mut ids: Vec<_> = parts(&content_type, &capped.received)
        .iter()
        .map(|part| part.header("x-pushwire-id").unwrap().to_owned())
        .collect();
    ids.dedup();
    assert!(
        ids.len() <= 3,
        "at 2 fps the viewer skipped to the newest: {ids:?}"
    );
    let response = get(server.addr, "/stream/fast.mjpg?fps=0", &[]).await;
    assert_eq!(response.status(), 400);
    assert!(body_text(response).await.contains("is not a frame rate"));
}

#[tokio::test]
async fn the_demo_camera_draws_distinct_frames() {
    let server = Server::with(Options {
        server: ServerConfig {
            demo_camera: true,
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    let (content_type, mut viewer) =
        open_view(&server, &format!("/stream/{}.mjpg", camera::CHANNEL)).await;
    viewer.read_until_count("Content-Type: image/jpeg", 3).await;
    let parts = parts(&content_type, &viewer.received);
    assert!(parts.len() >= 2);
    assert_ne!(parts[0].body, parts[1].body, "the pattern moves");
    let (ok, report) = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-f",
            "mpjpeg",
            "-i",
            &server.url("/stream/demo-cam.mjpg"),
            "-frames:v",
            "3",
            "-f",
            "null",
            "-",
        ],
    )
    .await;
    assert!(ok, "ffmpeg decodes the demo camera: {report}");
    let response = get(server.addr, "/snapshot/demo-cam.jpg", &[]).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn bad_uploads_get_a_clear_error() {
    let server = Server::with(Options {
        server: ServerConfig {
            max_message_bytes: 4096,
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    let upload = |path: &'static str, content_type: Option<&'static str>, body: Vec<u8>| {
        let addr = server.addr;
        async move {
            let headers: Vec<(&str, &str)> = content_type
                .map(|ct| ("content-type", ct))
                .into_iter()
                .collect();
            let response = request(addr, "PUT", path, &headers, Bytes::from(body)).await;
            let status = response.status().as_u16();
            (status, body_text(response).await)
        }
    };
    let small = mpjpeg(&[b"\xff\xd8\xff\xd9".to_vec()]);
    let cases = [
        (
            upload(
                "/ingest/x",
                Some("multipart/x-mixed-replace"),
                small.clone(),
            )
            .await,
            400,
            "no boundary parameter",
        ),
        (
            upload("/ingest/x", Some("image/jpeg"), small.clone()).await,
            400,
            "not multipart/x-mixed-replace",
        ),
        (
            upload("/ingest/x", None, b"hello\r\n".to_vec()).await,
            400,
            "does not start with a boundary line",
        ),
        (
            upload(
                "/ingest/a,b",
                Some("multipart/x-mixed-replace;boundary=ffmpeg"),
                small.clone(),
            )
            .await,
            400,
            "one channel at a time",
        ),
        (
            upload(
                "/ingest/x",
                Some("multipart/x-mixed-replace;boundary=ffmpeg"),
                mpjpeg(&[b"\xff\xd8\xff\xd9".to_vec(), vec![0xFF; 10_000]]),
            )
            .await,
            413,
            "Frame 2 of the upload to \"x\" is larger than the server's limit of 4096 bytes; the upload ended after 1 frames",
        ),
    ];
    for ((status, body), expected, needle) in cases {
        assert_eq!(status, expected, "{body}");
        assert!(body.contains(needle), "{needle:?} not in {body:?}");
    }
    // Without a Content-Type the first line names the boundary (ffmpeg sends none).
    let (status, body) = upload("/ingest/y", None, small).await;
    assert_eq!(
        (status, body.trim()),
        (200, r#"{"channel":"y","frames":1}"#)
    );
    let response = get(server.addr, "/ingest/x", &[]).await;
    assert_eq!(response.status(), 405);
    assert!(body_text(response).await.contains("with PUT or POST"));
    let response = get(server.addr, "/stream/x.png", &[]).await;
    assert_eq!(response.status(), 404);
    let response = get(server.addr, "/stream/a,b.mjpg", &[]).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_idle_upload_is_ended_with_408_and_uploads_count_as_connections() {
    let server = Server::with(Options {
        server: ServerConfig {
            upload_idle: Duration::from_millis(300),
            max_connections: 1,
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    // An uploader that sends its head and first boundary, then goes quiet.
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(
            format!(
                "PUT /ingest/quiet HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\na\r\n--ffmpeg\r\n\r\n",
                server.addr
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // While it holds the only slot, a subscriber is told to come back.
    let mut busy = None;
    for _ in 0..100 {
        let response = get(server.addr, "/sub/news", &[]).await;
        if response.status() == 503 {
            busy = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let busy = busy.expect("the upload takes the only connection slot");
    assert!(busy.headers().contains_key("retry-after"));
    assert!(body_text(busy).await.contains("uploads"));

    let mut reply = Vec::new();
    tokio::time::timeout(LIMIT, socket.read_to_end(&mut reply))
        .await
        .expect("the idle upload is ended")
        .unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("sent nothing for"), "{reply}");
    // The slot is free again.
    let response = get(server.addr, "/sub/news?transport=poll", &[]).await;
    assert_eq!(response.status(), 200);
}
