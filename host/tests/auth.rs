//! Tokens and CORS over real HTTP: every way a request may prove who it is,
//! every refusal, and browsers' preflights. The rules themselves are decided
//! in the edge module (unit-tested in `host/edge/src/tests.rs`); these tests
//! prove the host carries them: statuses, `WWW-Authenticate`, CORS headers.

mod support;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use pushwire_core::token::base64url_encode;
use pushwire_host::edge::Settings;
use sha2::Sha256;
use support::{Options, Server, Stream, body_text, get, request};

const SECRET: &str = "auth-test-secret";
const STATIC: &str = "static-test-token-6f1c";
const APP: &str = "https://app.example";

fn settings() -> Settings {
    Settings {
        auth_token: Some(STATIC.into()),
        jwt_secret: Some(SECRET.as_bytes().to_vec()),
        private_channels: vec!["private-*".into(), "cam".into()],
        cors_origins: vec![APP.into()],
        cors_credentials: true,
    }
}

async fn server() -> Server {
    Server::with(Options {
        settings: Some(settings()),
        ..Options::default()
    })
    .await
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An HS256 JWT signed with `key` carrying `claims`.
fn jwt(key: &str, claims: &str) -> String {
    let mut token = String::new();
    base64url_encode(br#"{"alg":"HS256","typ":"JWT"}"#, &mut token);
    token.push('.');
    base64url_encode(claims.as_bytes(), &mut token);
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(token.as_bytes());
    token.push('.');
    base64url_encode(&mac.finalize().into_bytes(), &mut token);
    token
}

/// A token for chat (publish) and private-chat (subscribe), valid a minute.
fn chat_token() -> String {
    jwt(
        SECRET,
        &format!(
            r#"{{"exp":{},"pushwire":{{"publish":["chat"],"subscribe":["private-chat"]}}}}"#,
            now() + 60
        ),
    )
}

async fn publish_with(server: &Server, path: &str, auth: Option<&str>) -> (u16, String, String) {
    let bearer = auth.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| vec![("authorization", b)])
        .unwrap_or_default();
    let response = request(server.addr, "POST", path, &headers, Bytes::from("hello")).await;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, body_text(response).await)
}

#[tokio::test]
async fn publishing_without_a_token_is_401_with_a_bearer_challenge() {
    let server = server().await;
    let (status, challenge, body) = publish_with(&server, "/pub/chat", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(challenge, "Bearer realm=\"pushwire\"");
    assert!(body.contains("Authorization: Bearer"), "{body}");
}

#[tokio::test]
async fn the_static_token_and_an_allowing_jwt_may_publish() {
    let server = server().await;
    let (status, _, body) = publish_with(&server, "/pub/news", Some(STATIC)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = publish_with(&server, "/pub/chat", Some(&chat_token())).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"channel\":\"chat\""), "{body}");
}

#[tokio::test]
async fn a_jwt_for_another_channel_is_403_and_an_expired_one_401() {
    let server = server().await;
    let (status, _, body) = publish_with(&server, "/pub/news", Some(&chat_token())).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("may not publish to channel \"news\""),
        "{body}"
    );

    let expired = jwt(
        SECRET,
        &format!(r#"{{"exp":{},"pushwire":{{"publish":["*"]}}}}"#, now() - 30),
    );
    let (status, challenge, body) = publish_with(&server, "/pub/chat", Some(&expired)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("expired"), "{body}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    let forged = jwt("not-the-secret", r#"{"pushwire":{"publish":["*"]}}"#);
    let (status, _, body) = publish_with(&server, "/pub/chat", Some(&forged)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("signature"), "{body}");
    assert!(!body.contains(&forged), "a refusal never quotes the token");
}

#[tokio::test]
async fn a_private_channel_needs_a_token_and_takes_it_by_header_cookie_or_query() {
    let server = server().await;
    let token = chat_token();

    let missing = get(server.addr, "/sub/private-chat", &[]).await;
    assert_eq!(missing.status(), 401);
    assert!(missing.headers().contains_key("www-authenticate"));
    let body = body_text(missing).await;
    assert!(body.contains("?access_token="), "{body}");

    let bearer = format!("Bearer {token}");
    let cookie = format!("theme=dark; pushwire_token={token}");
    let query = format!("/sub/private-chat?access_token={token}");
    let ways: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/sub/private-chat",
            vec![("authorization", bearer.as_str())],
        ),
        ("/sub/private-chat", vec![("cookie", cookie.as_str())]),
        (query.as_str(), vec![]),
    ];
    for (path, headers) in ways {
        let response = get(server.addr, path, &headers).await;
        assert_eq!(response.status(), 200, "{path} {headers:?}");
        // The subscription is in the hub once the response head is out.
        let mut stream = Stream::new(response);
        let data = format!("psst {}", path.len() + headers.len());
        server.publish_ok_with(STATIC, "private-chat", &data).await;
        let seen = stream.read_until_count(&format!("data: {data}"), 1).await;
        assert!(seen.contains(&data), "{seen}");
    }

    // Public channels stay open.
    let public = get(server.addr, "/sub/news?transport=poll", &[]).await;
    assert_eq!(public.status(), 200);
}

#[tokio::test]
async fn a_subscribe_token_for_another_channel_is_403_also_for_webcam_views() {
    let server = server().await;
    let token = chat_token();
    let response = get(server.addr, &format!("/sub/cam?access_token={token}"), &[]).await;
    assert_eq!(response.status(), 403);
    assert!(body_text(response).await.contains("\"cam\""));
    // The `<img>` view of a private camera is decided the same way.
    let view = get(server.addr, "/stream/cam.mjpg", &[]).await;
    assert_eq!(view.status(), 401);
    let all = jwt(
        SECRET,
        &format!(
            r#"{{"exp":{},"pushwire":{{"subscribe":["cam"]}}}}"#,
            now() + 60
        ),
    );
    let view = get(
        server.addr,
        &format!("/stream/cam.mjpg?access_token={all}"),
        &[],
    )
    .await;
    assert_eq!(view.status(), 200);
}

#[tokio::test]
async fn a_cors_preflight_from_an_allowed_origin_is_answered_204() {
    let server = server().await;
    let response = request(
        server.addr,
        "OPTIONS",
        "/sub/news",
        &[
            ("origin", APP),
            ("access-control-request-method", "GET"),
            (
                "access-control-request-headers",
                "last-event-id, authorization",
            ),
        ],
        Bytes::new(),
    )
    .await;
    assert_eq!(response.status(), 204);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(header("access-control-allow-origin"), APP);
    assert_eq!(header("access-control-allow-credentials"), "true");
    assert!(header("access-control-allow-headers").contains("last-event-id"));
    assert!(header("access-control-allow-headers").contains("authorization"));
    assert!(header("access-control-allow-methods").contains("POST"));
}

#[tokio::test]
async fn cross_origin_replies_carry_cors_headers_and_other_origins_are_refused() {
    let server = server().await;
    // A stream, and a refusal (which the page must be able to read), both
    // carry the headers.
    let stream = get(server.addr, "/sub/news", &[("origin", APP)]).await;
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["access-control-allow-origin"], APP);
    drop(stream);
    let response = request(
        server.addr,
        "POST",
        "/pub/chat",
        &[("origin", APP)],
        Bytes::from("x"),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["access-control-allow-origin"], APP);

    let evil = request(
        server.addr,
        "POST",
        "/pub/chat",
        &[
            ("origin", "https://evil.example"),
            ("authorization", &format!("Bearer {STATIC}")),
        ],
        Bytes::from("x"),
    )
    .await;
    assert_eq!(evil.status(), 403);
    let body = body_text(evil).await;
    assert!(body.contains("cors_origins"), "{body}");

    // The server's own pages (Origin = Host) need no listing.
    let host = server.addr.to_string();
    let own = format!("http://{host}");
    let same = request(
        server.addr,
        "POST",
        "/pub/news",
        &[
            ("origin", &own),
            ("authorization", &format!("Bearer {STATIC}")),
        ],
        Bytes::from("x"),
    )
    .await;
    assert_eq!(same.status(), 200);
}
