//! `multipart/x-mixed-replace`: server push of whole replacement parts (MJPEG webcams).
//!
//! One encoder frames parts for every subscriber ([`MultipartEncoder`]); one
//! incremental, tolerant parser reads what browsers and ffmpeg read
//! ([`MultipartParser`]): ffmpeg's `mpjpeg`, mjpg-streamer, ustreamer, IP
//! cameras, and our own encoder. The boundary comes from
//! [`Boundary::from_random`] for our streams, or from someone else's
//! `Content-Type` through [`boundary_from_content_type`]. The rules followed
//! are docs/conformance.md §2.
//!
//! Bytes in, events out:
//!
//! ```
//! use pushwire_core::multipart::{
//!     MultipartEvent, MultipartParser, MultipartParserConfig, boundary_from_content_type,
//! };
//!
//! // What `ffmpeg -f mpjpeg` sends (no close delimiter).
//! let boundary = boundary_from_content_type("multipart/x-mixed-replace;boundary=ffmpeg")?;
//! let mut parser = MultipartParser::new(&boundary, MultipartParserConfig::default());
//! parser.push(b"--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: 4\r\n\r\n");
//! parser.push(b"\xff\xd8\xff\xd9\r\n--ffmpeg\r\n");
//! let Some(Ok(MultipartEvent::Part(part))) = parser.poll_event() else { panic!() };
//! assert_eq!(part.content_type(), Some("image/jpeg"));
//! assert_eq!(part.body, b"\xff\xd8\xff\xd9");
//! assert!(parser.poll_event().is_none()); // waiting for the next frame
//! # Ok::<(), pushwire_core::multipart::BoundaryError>(())
//! ```
//!
//! And out again, framed once for all subscribers:
//!
//! ```
//! use pushwire_core::multipart::{Boundary, MultipartEncoder};
//!
//! let encoder = MultipartEncoder::new(Boundary::from_random([42; 16])); // bytes from a CSPRNG
//! let content_type = encoder.content_type(); // the response header
//! let mut start = Vec::new();
//! encoder.write_start(&mut start); // once per response
//! let mut frame = Vec::new();
//! encoder.write_part(&mut frame, "image/jpeg", &[], b"\xff\xd8\xff\xd9")?; // once per frame
//! // write `start` and then every `frame` to each subscriber
//! assert!(frame.ends_with(format!("\r\n--{}\r\n", encoder.boundary()).as_bytes()));
//! # let _ = content_type;
//! # Ok::<(), pushwire_core::multipart::EncodeError>(())
//! ```

mod boundary;
mod encoder;
mod parser;
mod search;

pub use boundary::{Boundary, BoundaryError, boundary_from_body_start, boundary_from_content_type};
pub use encoder::{EncodeError, MultipartEncoder};
pub use parser::{MultipartError, MultipartEvent, MultipartParser, MultipartParserConfig, Part};
