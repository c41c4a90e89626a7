//! A live webcam scan: frames read on their own thread until a whole
//! payload is in (one code, or every part of an animated one), with small
//! previews so the user can aim and the progress of animated codes, all
//! reported as [`ScanEvent`]s. The app forwards them to the window; the
//! camera is released when the scan ends or is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use base64::Engine;
use serde::Serialize;

use crate::scanned::{self, Scanned};
use crate::transport::animated::{Received, Receiver};
use crate::transport::camera::{CameraError, Capture, Scan, Scanner};

/// What the live scan reports, in order: previews and progress while it
/// looks, then one `code` (or `failed`), after which it has stopped and
/// the camera is released.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ScanEvent {
    /// A small grey copy of the frame (a PNG data URL), a few times a
    /// second, so the user can aim.
    Preview {
        /// The camera frame's width in pixels.
        width: usize,
        /// The camera frame's height in pixels.
        height: usize,
        /// The preview as a `data:image/png;base64,` URL.
        png: String,
    },
    /// Parts of an animated code read so far.
    Progress {
        /// Parts read so far.
        seen: usize,
        /// Fragments of the message recovered so far.
        resolved: usize,
        /// Fragments in the whole message.
        total: usize,
    },
    /// A whole payload, described.
    Code {
        /// What the payload is, as the UI shows it.
        scanned: Scanned,
    },
    /// A code that was read but is not usable; scanning goes on.
    Unreadable {
        /// Why it is not usable, for the user.
        message: String,
    },
    /// The camera failed; scanning has stopped.
    Failed {
        /// The camera's error, for the user.
        message: String,
    },
}

/// A live scan on its own thread; dropping it stops the scan and
/// releases the camera.
#[derive(Debug)]
pub struct LiveScan {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LiveScan {
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
        LiveScan {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for LiveScan {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
