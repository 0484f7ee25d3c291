//! The demo pages and the built-in publishers behind them: pages are served
//! with their types, the ticker pushes prices, the stats channel pushes the
//! server's own counters.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

extern crate alloc;

mod support;

use pushwire_host::demo::www;
use pushwire_host::push::ServerConfig;
use support::{Options, Server, Stream, body_text, get, sse_events};

#[tokio::test]
async fn every_page_is_served_with_its_type_and_the_index_links_the_demos() {
    let server = Server::start().await;
    for (path, _) in www::FILES {
        let response = get(server.addr, path, &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let expected = match path.rsplit_once('.').unwrap().1 {
            "html" => "text/html",
            "js" => "text/javascript",
            "css" => "text/css",
            "svg" => "image/svg+xml",
            other => panic!("no type expected for .{other}"),
        };
        assert!(content_type.starts_with(expected), "{path}: {content_type}");
    }
    let index = body_text(get(server.addr, "/", &[]).await).await;
    for page in ["chat", "ticker", "webcam", "console", "lab"] {
        assert!(index.contains(&format!("href=\"/{page}.html\"")), "{page}");
    }
    let post = support::request(server.addr, "POST", "/chat.html", &[], "x".into()).await;
    assert_eq!(post.status(), 405);
}

#[tokio::test]
async fn the_demo_ticker_pushes_prices_for_every_symbol() {
    let server = Server::with(Options {
        server: ServerConfig {
            demo_ticker: true,
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    let mut stream = Stream::new(get(server.addr, "/sub/ticker", &[]).await);
    let text = stream.read_until_count("event: price", 2).await;
    let events = sse_events(&text);
    let (_, data, _) = events.iter().find(|(e, _, _)| e == "price").unwrap();
    let update: serde_json::Value = serde_json::from_str(data).unwrap();
    let symbols: Vec<&str> = update["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, pushwire_host::demo::SYMBOLS.map(|(s, _)| s));
}

#[tokio::test]
async fn the_stats_channel_pushes_the_servers_counters() {
    let server = Server::with(Options {
        server: ServerConfig {
            stats_channel: Some("stats".into()),
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    server.publish_ok("news", "one").await;
    let mut stream = Stream::new(get(server.addr, "/sub/stats", &[]).await);
    let text = stream.read_until_count("event: stats", 1).await;
    let events = sse_events(&text);
    let (_, data, _) = events.iter().find(|(e, _, _)| e == "stats").unwrap();
    let stats: serde_json::Value = serde_json::from_str(data).unwrap();
    assert!(stats["published"].as_u64().unwrap() >= 1, "{stats}");
    assert!(
        stats["connections"]["sse"].as_u64().unwrap() >= 1,
        "{stats}"
    );
    assert!(stats["edge_calls"].as_u64().unwrap() > 0, "{stats}");
}
