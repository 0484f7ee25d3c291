//! A built-in camera: real JPEG frames of a moving test pattern with a frame
//! counter and a clock, published on [`CHANNEL`] like an upload's parts, so
//! `<img src="/stream/demo-cam.mjpg">` works on a fresh start with no camera.
//!
//! The frames are drawn in memory and encoded by the pure-Rust
//! `jpeg-encoder` crate (no system library, no ffmpeg).

use alloc::sync::Arc;
use core::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::push::App;
use crate::webcam::publish_frame;

/// The channel the demo camera publishes on.
pub const CHANNEL: &str = "demo-cam";

/// Frames per second the demo camera aims for.
pub const FPS: u32 = 10;

/// Frame width in pixels.
pub const WIDTH: u16 = 320;

/// Frame height in pixels.
pub const HEIGHT: u16 = 240;

/// JPEG quality (1–100).
const QUALITY: u8 = 75;

/// Publish a frame on [`CHANNEL`] [`FPS`] times a second until the task is
/// dropped (the server aborts it at shutdown).
pub async fn run(app: Arc<App>) {
    if let Err(err) = app.hub.configure_webcam(CHANNEL) {
        tracing::error!("the demo camera cannot set up {CHANNEL:?}: {err}");
        return;
    }
    tracing::info!("demo camera on: /stream/{CHANNEL}.mjpg");
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / FPS);
    // A slow encode (a debug build) lowers the rate instead of bursting.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let start = tokio::time::Instant::now();
    for number in 0_u64.. {
        ticks.tick().await;
        let elapsed = start.elapsed();
        // Encoding takes milliseconds: off the async workers.
        let jpeg = tokio::task::spawn_blocking(move || frame(number, elapsed)).await;
        let jpeg = match jpeg {
            Ok(Ok(jpeg)) => jpeg,
            Ok(Err(err)) => {
                tracing::error!("the demo camera cannot encode a frame, stopping: {err}");
                return;
            }
            // The runtime is shutting down.
            Err(_) => return,
        };
        if let Err(err) = publish_frame(&app, CHANNEL, "frame", jpeg) {
            tracing::error!("the demo camera cannot publish, stopping: {err}");
            return;
        }
    }
}

/// Frame `number`, `elapsed` after the camera started, as a JPEG.
///
/// # Errors
/// The encoder's (none expected for these fixed dimensions).
pub fn frame(number: u64, elapsed: Duration) -> Result<Vec<u8>, jpeg_encoder::EncodingError> {
    let pixels = draw(number, elapsed);
    let mut jpeg = Vec::with_capacity(16 * 1024);
    jpeg_encoder::Encoder::new(&mut jpeg, QUALITY).encode(
        &pixels,
        WIDTH,
        HEIGHT,
        jpeg_encoder::ColorType::Rgb,
    )?;
    Ok(jpeg)
}

/// The RGB pixels of frame `number`: colour bars scrolling left, a square
/// bouncing across them, and a strip with the frame number and the clock.
fn draw(number: u64, elapsed: Duration) -> Vec<u8> {
    const BARS: [[u8; 3]; 8] = [
        [235, 235, 235],
        [235, 235, 16],
        [16, 235, 235],
        [16, 235, 16],
        [235, 16, 235],
        [235, 16, 16],
        [16, 16, 235],
        [16, 16, 16],
    ];
    let (width, height) = (usize::from(WIDTH), usize::from(HEIGHT));
    let mut canvas = Canvas {
        pixels: vec![0; width * height * 3],
        width,
    };
    let bar_width = width / BARS.len();
    let shift = usize::try_from(number * 4 % width as u64).unwrap_or(0);
    for y in 0..height {
        for x in 0..width {
            let bar = ((x + shift) / bar_width) % BARS.len();
            canvas.set(x, y, BARS.get(bar).copied().unwrap_or_default());
        }
    }
    // The bouncing square: its position is a triangle wave of the frame number.
    let size = 40;
    let span = (width - size) as u64;
    let step = number * 6 % (2 * span);
    let x = usize::try_from(if step < span { step } else { 2 * span - step }).unwrap_or(0);
    canvas.fill(x, 60, size, size, [255, 128, 0]);
    // The strip: frame number and clock (minutes:seconds.tenths).
    canvas.fill(0, height - 48, width, 48, [0, 0, 0]);
    let tenths = elapsed.as_millis() / 100;
    let clock = format!(
        "{:02}:{:02}.{}",
        tenths / 600,
        tenths / 10 % 60,
        tenths % 10
    );
    canvas.text(8, height - 40, &format!("#{number:06}"), 4);
    canvas.text(8 + 4 * 4 * 8, height - 40, &clock, 4);
    canvas.pixels
}

/// An RGB image being drawn.
struct Canvas {
    pixels: Vec<u8>,
    width: usize,
}

impl Canvas {
    fn set(&mut self, x: usize, y: usize, rgb: [u8; 3]) {
        let at = (y * self.width + x) * 3;
        if let Some(pixel) = self.pixels.get_mut(at..at + 3) {
            pixel.copy_from_slice(&rgb);
        }
    }

    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, rgb: [u8; 3]) {
        for row in y..y + h {
            for column in x..(x + w).min(self.width) {
                self.set(column, row, rgb);
            }
        }
    }

    /// Draw `text` in white with a 3×5 font, each dot `scale` pixels wide.
    fn text(&mut self, x: usize, y: usize, text: &str, scale: usize) {
        for (index, ch) in text.chars().enumerate() {
            let left = x + index * 4 * scale;
            for (row, bits) in glyph(ch).iter().enumerate() {
                for column in 0..3 {
                    if bits >> (2 - column) & 1 == 1 {
                        self.fill(
                            left + column * scale,
                            y + row * scale,
                            scale,
                            scale,
                            [255, 255, 255],
                        );
                    }
                }
            }
        }
    }
}

/// Rows of a 3×5 glyph, three bits each (most significant on the left).
fn glyph(ch: char) -> [u8; 5] {
    match ch {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        ':' => [0b000, 0b010, 0b000, 0b010, 0b000],
        '.' => [0b000, 0b000, 0b000, 0b000, 0b010],
        '#' => [0b101, 0b111, 0b101, 0b111, 0b101],
        _ => [0; 5],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_jpegs_that_change() {
        let first = frame(0, Duration::ZERO).unwrap();
        let second = frame(1, Duration::from_millis(100)).unwrap();
        for jpeg in [&first, &second] {
            assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "starts with SOI");
            assert!(jpeg.ends_with(&[0xFF, 0xD9]), "ends with EOI");
        }
        assert_ne!(first, second);
    }
}
