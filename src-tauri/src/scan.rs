//! Scanning codes for the UI: the webcam (live, with a preview and the
//! progress of animated codes, as `scan` events), an image file, the
//! clipboard. The decoding is the core's; this only starts, stops and
//! reports.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use base64::Engine;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime, State};
use toss_core::scanned::{self, Scanned};
use toss_core::transport::animated::{Received, Receiver};
use toss_core::transport::camera::{
    self, CameraError, CameraInfo, Capture, Resolution, Scan, Scanner, Webcam,
};
use toss_core::transport::clipboard;

use crate::error::CommandError;

/// The event the scan view listens to.
pub const EVENT: &str = "scan";

/// What the live scan reports, in order: previews and progress while it
/// looks, then one `code` (or `failed`), after which it has stopped and
/// the camera is released.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ScanEvent {
    /// A small grey copy of the frame (a PNG data URL), a few times a
    /// second, so the user can aim.
    Preview {
        width: usize,
        height: usize,
        png: String,
    },
    /// Parts of an animated code read so far.
    Progress {
        seen: usize,
        resolved: usize,
        total: usize,
    },
    /// A whole payload, described.
    Code { scanned: Scanned },
    /// A code that was read but is not usable; scanning goes on.
    Unreadable { message: String },
    /// The camera failed; scanning has stopped.
    Failed { message: String },
}

/// A live scan on its own thread; dropping it stops the scan and
/// releases the camera.
#[derive(Debug)]
pub struct ScanSession {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScanSession {
    /// Scans what `open` captures until a whole payload is read, the
    /// capture fails, or the session is dropped.
    pub fn start<C, F>(open: F, mirror: bool, emit: impl Fn(ScanEvent) + Send + 'static) -> Self
    where
        C: Capture,
        F: FnOnce() -> Result<C, CameraError> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let scanner = Scanner::start(open, mirror);
            let mut receiver = Receiver::default();
            while !flag.load(Ordering::Relaxed) {
                let Some(scan) = scanner.next() else { return };
                match scan {
                    Scan::Frame {
                        preview: Some(p),
                        width,
                        height,
                    } => match p.to_png() {
                        Ok(png) => emit(ScanEvent::Preview {
                            width,
                            height,
                            png: format!(
                                "data:image/png;base64,{}",
                                base64::engine::general_purpose::STANDARD.encode(png)
                            ),
                        }),
                        Err(e) => {
                            tracing::warn!(error = %e, "a preview frame could not be encoded")
                        }
                    },
                    Scan::Frame { preview: None, .. } => {}
                    Scan::Code(code) => match receiver.receive(&code) {
                        Ok(Received::Partial {
                            seen,
                            resolved,
                            total,
                        }) => emit(ScanEvent::Progress {
                            seen,
                            resolved,
                            total,
                        }),
                        Ok(Received::Complete { payload }) => match scanned::describe(&payload) {
                            Ok(scanned) => return emit(ScanEvent::Code { scanned }),
                            Err(e) => {
                                receiver = Receiver::default();
                                emit(ScanEvent::Unreadable {
                                    message: e.to_string(),
                                })
                            }
                        },
                        Err(e) => {
                            receiver = Receiver::default();
                            emit(ScanEvent::Unreadable {
                                message: e.to_string(),
                            })
                        }
                    },
                    Scan::Failed(e) => {
                        return emit(ScanEvent::Failed {
                            message: e.to_string(),
                        });
                    }
                }
            }
        });
        ScanSession {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for ScanSession {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The scan running now, if any.
#[derive(Debug, Default)]
pub struct Scanning(Mutex<Option<ScanSession>>);

impl Scanning {
    fn replace(&self, session: Option<ScanSession>) {
        // Drop the old one outside the lock: stopping waits for its thread.
        let old = match self.0.lock() {
            Ok(mut slot) => std::mem::replace(&mut *slot, session),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), session),
        };
        drop(old);
    }
}

#[tauri::command]
pub fn cameras() -> Result<Vec<CameraInfo>, CommandError> {
    Ok(camera::cameras().map_err(|e| e.to_string())?)
}

/// Starts scanning with camera `camera` (from [`cameras`]) at the
/// resolution asked for, if any; reports through `scan` events.
#[tauri::command]
pub fn scan_start<R: Runtime>(
    app: AppHandle<R>,
    scanning: State<'_, Scanning>,
    camera: u32,
    width: Option<u32>,
    height: Option<u32>,
    mirror: bool,
) {
    let resolution = width.zip(height).map(|(w, h)| Resolution::new(w, h));
    scanning.replace(None);
    let session = ScanSession::start(
        move || Webcam::open(camera, resolution),
        mirror,
        move |event| {
            if let Err(e) = app.emit(EVENT, event) {
                tracing::warn!(error = %e, "a scan event could not reach the window");
            }
        },
    );
    scanning.replace(Some(session));
}

/// Stops the scan and releases the camera (the scan view closed).
#[tauri::command]
pub fn scan_stop(scanning: State<'_, Scanning>) {
    scanning.replace(None);
}

#[tauri::command]
pub fn scan_image(path: std::path::PathBuf) -> Result<Scanned, CommandError> {
    let code = camera::scan_file(&path).map_err(|e| e.to_string())?;
    Ok(scanned::describe(&code).map_err(|e| e.to_string())?)
}

#[tauri::command]
pub fn scan_clipboard() -> Result<Scanned, CommandError> {
    let code = clipboard::scan().map_err(|e| e.to_string())?;
    Ok(scanned::describe(&code).map_err(|e| e.to_string())?)
}
