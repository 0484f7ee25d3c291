//! The SDK as a package: the server serves every file at `/sdk/` with the
//! right content type, and the TypeScript types accept the README's usage
//! (`tsc --noEmit` on `types/usage.ts`).

use core::time::Duration;

use pushwire_host::demo::sdk::FILES;
use pushwire_tests::{Server, ensure_node_packages, root};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(server: &Server, path: &str) -> (String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply))
        .await
        .expect("the reply in time")
        .unwrap();
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(reply.get(..split).unwrap()).to_lowercase();
    (head, reply.get(split + 4..).unwrap().to_vec())
}

#[tokio::test]
async fn sdk_files_are_served_with_their_content_types() {
    let server = Server::start().await;
    for (path, content_type, magic) in [
        (
            "/sdk/pushwire_client_bg.wasm",
            "content-type: application/wasm",
            &b"\0asm"[..],
        ),
        (
            "/sdk/pushwire_client.js",
            "content-type: text/javascript",
            b"",
        ),
        ("/sdk/package.json", "content-type: application/json", b"{"),
    ] {
        let (head, body) = get(&server, path).await;
        assert!(head.starts_with("http/1.1 200"), "{path}: {head}");
        assert!(head.contains(content_type), "{path}: {head}");
        assert!(body.starts_with(magic), "{path}");
    }
    let (_, js) = get(&server, "/sdk/pushwire_client.js").await;
    let js = String::from_utf8(js).unwrap();
    assert!(js.contains("export class PushClient") && js.contains("as default"));
    let (_, package) = get(&server, "/sdk/package.json").await;
    let package: serde_json::Value = serde_json::from_slice(&package).unwrap();
    assert_eq!(package["types"], "pushwire_client.d.ts");
    let (head, _) = get(&server, "/sdk/nope.js").await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
}

#[test]
fn typescript_types_accept_the_documented_usage() {
    ensure_node_packages();
    let root = root();
    let work = std::env::temp_dir().join(format!("pushwire-types-{}", std::process::id()));
    let sdk = work.join("sdk");
    std::fs::create_dir_all(&sdk).unwrap();
    for (name, _, bytes) in FILES {
        std::fs::write(sdk.join(name), bytes).unwrap();
    }
    for file in ["usage.ts", "tsconfig.json"] {
        std::fs::copy(root.join("types").join(file), work.join(file)).unwrap();
    }
    let output = std::process::Command::new("node")
        .arg(root.join("node_modules/typescript/bin/tsc"))
        .args(["--noEmit", "-p"])
        .arg(work.join("tsconfig.json"))
        .output()
        .expect("node runs");
    let _ = std::fs::remove_dir_all(&work);
    assert!(
        output.status.success(),
        "tsc rejected the SDK's types:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
