//! The demo pages of `www/`, compiled into the binary and served at `/`.
//!
//! Plain HTML, CSS and JavaScript modules (no build step): each page imports
//! the SDK from `/sdk/`. `GET /` is `index.html`.

use hyper::{Method, StatusCode};

use crate::push::reply::{Reply, text};

/// Every file of `www/`: its path and bytes.
pub static FILES: &[(&str, &[u8])] = &[
    ("/index.html", include_bytes!("../../../www/index.html")),
    ("/chat.html", include_bytes!("../../../www/chat.html")),
    ("/ticker.html", include_bytes!("../../../www/ticker.html")),
    ("/webcam.html", include_bytes!("../../../www/webcam.html")),
    ("/console.html", include_bytes!("../../../www/console.html")),
    ("/lab.html", include_bytes!("../../../www/lab.html")),
    ("/style.css", include_bytes!("../../../www/style.css")),
    ("/common.js", include_bytes!("../../../www/common.js")),
    ("/plot.js", include_bytes!("../../../www/plot.js")),
    ("/favicon.svg", include_bytes!("../../../www/favicon.svg")),
];

/// The file at `path` (`/` is `/index.html`), if `www/` has it.
pub fn file(path: &str) -> Option<&'static [u8]> {
    let path = if path == "/" { "/index.html" } else { path };
    FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

/// Answer `GET`/`HEAD` for a page, or `None` when `path` is not one.
pub(crate) fn serve(method: &Method, path: &str) -> Option<Reply> {
    let bytes = file(path)?;
    if method != Method::GET && method != Method::HEAD {
        return Some(text(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} is not allowed on {path}: the demo pages are read with GET."),
        ));
    }
    let content_type = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "text/html; charset=utf-8",
    };
    Some(super::built_in_file(method, content_type, bytes))
}
