//! The browser SDK (`wasm-client`), built by `build.rs` and embedded: served
//! at `GET /sdk/<file>` as an npm-style package directory.
//!
//! | file | what |
//! | --- | --- |
//! | `pushwire_client.js` | the ES module: `export default init`, `PushClient`, `Webcam` |
//! | `pushwire_client_bg.wasm` | pushwire-core's client machine and the driver |
//! | `pushwire_client.d.ts`, `pushwire_client_bg.wasm.d.ts` | TypeScript types |
//! | `package.json` | makes the directory an npm package |

use hyper::{Method, StatusCode};

use crate::push::reply::{Reply, text};

macro_rules! built {
    ($file:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/sdk/", $file)).as_slice()
    };
}

/// `package.json` of the package directory.
const PACKAGE_JSON: &str = concat!(
    r#"{
  "name": "pushwire-client",
  "version": ""#,
    env!("CARGO_PKG_VERSION"),
    r#"",
  "description": "The pushwire browser SDK: push over SSE, fetch streams, forever frame, long-poll or poll.",
  "type": "module",
  "main": "pushwire_client.js",
  "module": "pushwire_client.js",
  "types": "pushwire_client.d.ts",
  "files": ["pushwire_client.js", "pushwire_client_bg.wasm", "pushwire_client.d.ts", "pushwire_client_bg.wasm.d.ts"],
  "sideEffects": false,
  "license": "MIT OR Apache-2.0"
}
"#
);

/// Every file of the package: name, content type, bytes.
pub const FILES: [(&str, &str, &[u8]); 5] = [
    (
        "pushwire_client.js",
        "text/javascript; charset=utf-8",
        built!("pushwire_client.js"),
    ),
    (
        "pushwire_client_bg.wasm",
        "application/wasm",
        built!("pushwire_client_bg.wasm"),
    ),
    (
        "pushwire_client.d.ts",
        "application/typescript; charset=utf-8",
        built!("pushwire_client.d.ts"),
    ),
    (
        "pushwire_client_bg.wasm.d.ts",
        "application/typescript; charset=utf-8",
        built!("pushwire_client_bg.wasm.d.ts"),
    ),
    ("package.json", "application/json", PACKAGE_JSON.as_bytes()),
];

/// Answer `GET /sdk/<file>` (HEAD too).
pub fn serve(method: &Method, file: &str) -> Reply {
    if method != Method::GET && method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Use GET for /sdk/ files.");
    }
    let Some((_, content_type, bytes)) = FILES.iter().find(|(name, _, _)| *name == file) else {
        let names: Vec<&str> = FILES.iter().map(|(name, _, _)| *name).collect();
        return text(
            StatusCode::NOT_FOUND,
            &format!("No SDK file {file:?}: the SDK has {}.", names.join(", ")),
        );
    };
    super::built_in_file(method, content_type, bytes)
}
