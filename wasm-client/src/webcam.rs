//! `Webcam`: a `multipart/x-mixed-replace` stream shown in an `<img>` or a
//! `<canvas>`.
//!
//! An `<img>` without request headers gets the URL as its `src`: the browser
//! reads the stream natively. Otherwise (a canvas, or headers such as
//! `Authorization`) the stream is fetched and split into frames by core's
//! [`MultipartParser`]; each frame becomes a `Blob` shown through an object
//! URL (img) or `createImageBitmap` + `drawImage` (canvas).

use alloc::{rc::Rc, string::String, vec::Vec};
use core::cell::RefCell;

use js_sys::{Array, Reflect, Uint8Array};
use pushwire_core::multipart::{
    MultipartEvent, MultipartParser, MultipartParserConfig, boundary_from_content_type,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Blob, BlobPropertyBag, CanvasRenderingContext2d, Element, HtmlCanvasElement,
    HtmlImageElement, ImageBitmap, ReadableStreamDefaultReader, RequestCredentials, RequestInit,
    Response, Url,
};

use crate::error::{ErrorCode, error};
use crate::options::Bag;

struct WebcamOptions {
    headers: Vec<(String, String)>,
    with_credentials: bool,
}

struct State {
    element: Element,
    controller: Option<AbortController>,
    object_url: Option<String>,
    frames: u32,
    closed: bool,
}

impl State {
    fn release(&mut self) {
        self.closed = true;
        if let Some(controller) = self.controller.take() {
            controller.abort();
        }
        if let Some(image) = self.element.dyn_ref::<HtmlImageElement>() {
            // Ends the native stream too.
            let _ = image.remove_attribute("src");
        }
        if let Some(url) = self.object_url.take() {
            let _ = Url::revoke_object_url(&url);
        }
    }
}

/// Shows a `multipart/x-mixed-replace` stream in an `<img>` or `<canvas>`.
#[wasm_bindgen(skip_typescript)]
pub struct Webcam {
    state: Rc<RefCell<State>>,
    native: bool,
}

#[wasm_bindgen]
impl Webcam {
    /// Show the stream at `url` in `element`.
    ///
    /// # Errors
    /// `BAD_OPTIONS` for a bad options bag or an element that is neither an
    /// `<img>` nor a `<canvas>`; `NO_BROWSER` without `fetch`.
    #[wasm_bindgen(constructor)]
    pub fn new(element: Element, url: String, options: JsValue) -> Result<Self, JsValue> {
        let bag = Bag::new(options, &["headers", "withCredentials"])?;
        let options = WebcamOptions {
            headers: bag.string_pairs("headers")?,
            with_credentials: bag.flag("withCredentials")?,
        };
        let is_image = element.is_instance_of::<HtmlImageElement>();
        if !is_image && !element.is_instance_of::<HtmlCanvasElement>() {
            return Err(error(
                ErrorCode::BadOptions,
                "Webcam shows a stream in an <img> or a <canvas>",
            ));
        }
        let state = Rc::new(RefCell::new(State {
            element: element.clone(),
            controller: None,
            object_url: None,
            frames: 0,
            closed: false,
        }));
        let native = is_image && options.headers.is_empty();
        if native {
            element.set_attribute("src", &url)?;
        } else {
            let controller = AbortController::new()?;
            let headers = web_sys::Headers::new()?;
            for (name, value) in &options.headers {
                headers.append(name, value)?;
            }
            let init = RequestInit::new();
            init.set_headers(&headers);
            init.set_signal(Some(&controller.signal()));
            init.set_credentials(if options.with_credentials {
                RequestCredentials::Include
            } else {
                RequestCredentials::SameOrigin
            });
            let window = web_sys::window()
                .ok_or_else(|| error(ErrorCode::NoBrowser, "Webcam needs a window"))?;
            let promise = window.fetch_with_str_and_init(&url, &init);
            state.borrow_mut().controller = Some(controller);
            wasm_bindgen_futures::spawn_local(read(Rc::downgrade(&state), promise));
        }
        Ok(Self { state, native })
    }

    /// `"native"` (img.src) or `"fetch"` (fetch + core's multipart parser).
    #[wasm_bindgen(getter)]
    pub fn mode(&self) -> String {
        String::from(if self.native { "native" } else { "fetch" })
    }

    /// Frames shown so far (fetch mode).
    #[wasm_bindgen(getter)]
    pub fn frames(&self) -> u32 {
        self.state.borrow().frames
    }

    /// Stop reading and release the last frame.
    pub fn close(&self) {
        self.state.borrow_mut().release();
    }
}

impl Drop for Webcam {
    fn drop(&mut self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.release();
        }
    }
}

async fn read(weak: alloc::rc::Weak<RefCell<State>>, promise: js_sys::Promise) {
    let Ok(response) = JsFuture::from(promise)
        .await
        .and_then(JsCast::dyn_into::<Response>)
    else {
        return;
    };
    let content_type = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let Ok(boundary) = boundary_from_content_type(&content_type) else {
        web_sys::console::warn_1(&"Webcam: the response is not multipart".into());
        return;
    };
    let mut parser = MultipartParser::new(&boundary, MultipartParserConfig::default());
    let Some(reader) = response.body().and_then(|body| {
        body.get_reader()
            .dyn_into::<ReadableStreamDefaultReader>()
            .ok()
    }) else {
        return;
    };
    loop {
        let Ok(chunk) = JsFuture::from(reader.read()).await else {
            return;
        };
        if Reflect::get(&chunk, &"done".into()).is_ok_and(|done| done.is_truthy()) {
            return;
        }
        let bytes = Reflect::get(&chunk, &"value".into())
            .map(|value| Uint8Array::new(&value).to_vec())
            .unwrap_or_default();
        parser.push(&bytes);
        // Only the newest complete frame of this chunk is worth showing.
        let mut newest = None;
        while let Some(event) = parser.poll_event() {
            match event {
                Ok(MultipartEvent::Part(part)) => newest = Some(part),
                Ok(MultipartEvent::End) | Err(_) => break,
            }
        }
        let Some(part) = newest else { continue };
        let Some(state) = weak.upgrade() else { return };
        if state.borrow().closed {
            return;
        }
        let Ok(blob) = frame_blob(&part.body, part.content_type().unwrap_or("image/jpeg")) else {
            continue;
        };
        show(&state, &blob).await;
    }
}

fn frame_blob(body: &[u8], content_type: &str) -> Result<Blob, JsValue> {
    let parts = Array::of1(&Uint8Array::from(body));
    let bag = BlobPropertyBag::new();
    bag.set_type(content_type);
    Blob::new_with_u8_array_sequence_and_options(&parts, &bag)
}

async fn show(state: &Rc<RefCell<State>>, blob: &Blob) {
    let element = state.borrow().element.clone();
    if let Some(image) = element.dyn_ref::<HtmlImageElement>() {
        let Ok(url) = Url::create_object_url_with_blob(blob) else {
            return;
        };
        image.set_src(&url);
        let mut state = state.borrow_mut();
        if let Some(old) = state.object_url.replace(url) {
            let _ = Url::revoke_object_url(&old);
        }
        state.frames = state.frames.wrapping_add(1);
    } else if let Some(canvas) = element.dyn_ref::<HtmlCanvasElement>() {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Ok(promise) = window.create_image_bitmap_with_blob(blob) else {
            return;
        };
        let Ok(bitmap) = JsFuture::from(promise)
            .await
            .and_then(JsCast::dyn_into::<ImageBitmap>)
        else {
            return;
        };
        if state.borrow().closed {
            return;
        }
        canvas.set_width(bitmap.width());
        canvas.set_height(bitmap.height());
        if let Some(context) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|context| context.dyn_into::<CanvasRenderingContext2d>().ok())
        {
            let _ = context.draw_image_with_image_bitmap(&bitmap, 0.0, 0.0);
            bitmap.close();
            let mut state = state.borrow_mut();
            state.frames = state.frames.wrapping_add(1);
        }
    }
}
