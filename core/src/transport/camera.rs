//! Scanning QR codes with a webcam (nokhwa), off the UI thread.
//!
//! Capture sits behind [`Capture`]; whatever yields frames (a real camera,
//! or a test pushing synthetic frames) goes through the same path: the
//! frame's format (YUYV, NV12, MJPEG, grey, RGB/BGR) is turned into
//! 8-bit luma here, optionally mirrored (front cameras), then decoded
//! ([`super::qr::decode`]). The scanner runs on its own thread and stops,
//! releasing the camera, when its handle is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

pub use nokhwa::Buffer;
use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType};
pub use nokhwa::utils::{FrameFormat, Resolution};

use super::qr::{self, Luma, QrError};

/// Why the camera could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    /// The system lists no camera, or the one asked for does not exist.
    #[error("no camera was found; connect one, or scan from an image file")]
    NoCamera,
    /// The system refused access to the camera.
    #[error("the camera cannot be opened: permission denied (on Linux, join the video group)")]
    PermissionDenied,
    /// Another application holds the camera.
    #[error("the camera is in use by another application; close it and try again")]
    Busy,
    /// Any other camera or decoding failure; carries its message.
    #[error("the camera failed: {0}")]
    Failed(String),
    /// A frame's bytes do not fit its format and resolution.
    #[error("a {format} frame of {width}x{height} holds {len} bytes, which does not fit")]
    BadFrame {
        /// The frame's pixel format, as named by nokhwa.
        format: String,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes the frame actually holds.
        len: usize,
    },
}

impl From<nokhwa::NokhwaError> for CameraError {
    fn from(e: nokhwa::NokhwaError) -> Self {
        let text = e.to_string();
        let lower = text.to_lowercase();
        if lower.contains("permission denied") {
            CameraError::PermissionDenied
        } else if lower.contains("busy") {
            CameraError::Busy
        } else if lower.contains("no such file") || lower.contains("not found") {
            CameraError::NoCamera
        } else {
            CameraError::Failed(text)
        }
    }
}

/// Something that yields camera frames.
pub trait Capture {
    /// The next frame, waiting for it.
    fn frame(&mut self) -> Result<Buffer, CameraError>;
}

/// A camera the system offers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CameraInfo {
    /// What [`Webcam::open`] takes to open this camera.
    pub index: u32,
    /// The name the system gives it, for the user to pick by.
    pub name: String,
}

/// The cameras present.
pub fn cameras() -> Result<Vec<CameraInfo>, CameraError> {
    let found = nokhwa::query(nokhwa::utils::ApiBackend::Auto)?;
    Ok(found
        .iter()
        .filter_map(|c| match c.index() {
            CameraIndex::Index(i) => Some(CameraInfo {
                index: *i,
                name: c.human_name(),
            }),
            CameraIndex::String(_) => None,
        })
        .collect())
}

/// An open webcam; closing happens on drop.
pub struct Webcam(nokhwa::Camera);

impl std::fmt::Debug for Webcam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webcam")
            .field("name", &self.0.info().human_name())
            .finish_non_exhaustive()
    }
}

impl Webcam {
    /// Opens camera `index` at `resolution` (its highest frame rate
    /// there), or at the highest resolution it offers.
    pub fn open(index: u32, resolution: Option<Resolution>) -> Result<Self, CameraError> {
        if cameras()?.is_empty() {
            return Err(CameraError::NoCamera);
        }
        let request = match resolution {
            Some(r) => RequestedFormatType::HighestResolution(r),
            None => RequestedFormatType::AbsoluteHighestResolution,
        };
        let mut camera = nokhwa::Camera::new(
            CameraIndex::Index(index),
            RequestedFormat::new::<nokhwa::pixel_format::LumaFormat>(request),
        )?;
        camera.open_stream()?;
        Ok(Self(camera))
    }
}

impl Capture for Webcam {
    fn frame(&mut self) -> Result<Buffer, CameraError> {
        Ok(self.0.frame()?)
    }
}

impl Drop for Webcam {
    fn drop(&mut self) {
        if let Err(e) = self.0.stop_stream() {
            tracing::warn!(error = %e, "the camera did not stop cleanly");
        }
    }
}

/// A frame as 8-bit luma, mirrored left-right when `mirror`.
pub fn luma(frame: &Buffer, mirror: bool) -> Result<Luma, CameraError> {
    let Resolution {
        width_x: w,
        height_y: h,
    } = frame.resolution();
    let (width, height) = (w as usize, h as usize);
    let data = frame.buffer();
    let format = frame.source_frame_format();
    let bad = || CameraError::BadFrame {
        format: format.to_string(),
        width: w,
        height: h,
        len: data.len(),
    };
    let pixels = width
        .checked_mul(height)
        .filter(|n| *n > 0)
        .ok_or_else(bad)?;
    let mut out: Vec<u8> = match format {
        FrameFormat::GRAY => data.get(..pixels).ok_or_else(bad)?.to_vec(),
        // Y U Y V: every other byte is a luma sample.
        FrameFormat::YUYV => data
            .get(..pixels * 2)
            .ok_or_else(bad)?
            .iter()
            .step_by(2)
            .copied()
            .collect(),
        // The Y plane comes first.
        FrameFormat::NV12 => data.get(..pixels).ok_or_else(bad)?.to_vec(),
        FrameFormat::RAWRGB | FrameFormat::RAWBGR => {
            let (r, b) = match format {
                FrameFormat::RAWRGB => (0, 2),
                _ => (2, 0),
            };
            data.get(..pixels * 3)
                .ok_or_else(bad)?
                .chunks_exact(3)
                .map(|p| {
                    let y = 299 * u32::from(p[r]) + 587 * u32::from(p[1]) + 114 * u32::from(p[b]);
                    (y / 1000) as u8
                })
                .collect()
        }
        FrameFormat::MJPEG => {
            use zune_jpeg::zune_core::bytestream::ZCursor;
            use zune_jpeg::zune_core::colorspace::ColorSpace;
            use zune_jpeg::zune_core::options::DecoderOptions;
            let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::Luma);
            let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), options);
            let decoded = decoder
                .decode()
                .map_err(|e| CameraError::Failed(format!("a camera JPEG frame: {e}")))?;
            if decoded.len() != pixels {
                return Err(bad());
            }
            decoded
        }
    };
    if mirror {
        for row in out.chunks_exact_mut(width) {
            row.reverse();
        }
    }
    Ok(Luma {
        width,
        height,
        pixels: out,
    })
}

/// How often the scanner hands the UI a preview frame (5 per second).
pub const PREVIEW_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// Width of a preview frame.
const PREVIEW_WIDTH: usize = 320;

/// A copy at most [`PREVIEW_WIDTH`] wide (nearest pixel): enough to aim.
pub fn preview(image: &Luma) -> Luma {
    let step = image.width.div_ceil(PREVIEW_WIDTH).max(1);
    let (width, height) = (image.width / step, image.height / step);
    let pixels = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .map(|(x, y)| image.pixels[y * step * image.width + x * step])
        .collect();
    Luma {
        width,
        height,
        pixels,
    }
}

/// What the scanner reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// A code's content.
    Code(Vec<u8>),
    /// A frame was read and nothing decoded in it; every
    /// [`PREVIEW_EVERY`] it carries a small copy for the UI's live preview.
    Frame {
        /// The frame's width in pixels.
        width: usize,
        /// The frame's height in pixels.
        height: usize,
        /// A copy at most 320 pixels wide, when a preview is due.
        preview: Option<Luma>,
    },
    /// The camera failed; the scanner has stopped.
    Failed(CameraError),
}

/// A scanner running on its own thread.
#[derive(Debug)]
pub struct Scanner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    events: mpsc::Receiver<Scan>,
}

impl Scanner {
    /// Opens the capture with `open` on the scanner's own thread (a
    /// camera handle cannot move between threads), then reads and decodes
    /// frames until the scanner is dropped.
    pub fn start<C, F>(open: F, mirror: bool) -> Self
    where
        C: Capture,
        F: FnOnce() -> Result<C, CameraError> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, events) = mpsc::sync_channel(16);
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut capture = match open() {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Scan::Failed(e));
                    return;
                }
            };
            let mut last_preview: Option<std::time::Instant> = None;
            while !flag.load(Ordering::Relaxed) {
                let event = match capture.frame().and_then(|f| luma(&f, mirror)) {
                    Err(e) => {
                        let _ = tx.send(Scan::Failed(e));
                        return;
                    }
                    Ok(image) => match qr::decode(&image) {
                        Ok(code) => Scan::Code(code),
                        Err(_) => {
                            let due = last_preview.is_none_or(|t| t.elapsed() >= PREVIEW_EVERY);
                            if due {
                                last_preview = Some(std::time::Instant::now());
                            }
                            Scan::Frame {
                                width: image.width,
                                height: image.height,
                                preview: due.then(|| preview(&image)),
                            }
                        }
                    },
                };
                if tx.send(event).is_err() {
                    return;
                }
            }
        });
        Self {
            stop,
            thread: Some(thread),
            events,
        }
    }

    /// The next report, waiting for it.
    pub fn next(&self) -> Option<Scan> {
        self.events.recv().ok()
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Unblock a sender waiting on a full channel, then wait: the
        // capture (and the camera) is released when the thread ends.
        while self.events.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Decodes a code from an image file (PNG, JPEG...).
pub fn scan_file(path: &std::path::Path) -> Result<Vec<u8>, QrError> {
    qr::decode_picture(image::open(path).map_err(|e| QrError::Image(e.to_string()))?)
}

/// Why image files gave no payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilesError {
    /// One image has no readable code; which, and why.
    #[error("{path}: {error}")]
    Image {
        /// The image file.
        path: String,
        /// Why its code cannot be read.
        error: QrError,
    },
    /// A directory could not be listed.
    #[error("cannot list the folder {path}: {reason}")]
    Folder {
        /// The directory.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// The codes read do not make one payload.
    #[error(transparent)]
    Animated(#[from] super::animated::AnimatedError),
}

/// The payload in image files: one code, or the frames of one animated
/// code in any order. A folder stands for the files in it, by name.
pub fn scan_files(paths: &[std::path::PathBuf]) -> Result<Vec<u8>, FilesError> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let folder = |e: std::io::Error| FilesError::Folder {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut inside = Vec::new();
        for entry in std::fs::read_dir(path).map_err(folder)? {
            let entry = entry.map_err(folder)?.path();
            if entry.is_file() {
                inside.push(entry);
            }
        }
        inside.sort();
        files.extend(inside);
    }
    let codes = files
        .iter()
        .map(|f| {
            scan_file(f).map_err(|error| FilesError::Image {
                path: f.display().to_string(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(super::animated::assemble(&codes)?)
}

#[cfg(test)]
mod tests;
