//! Scanning codes for the UI: the webcam (live, with a preview and the
//! progress of animated codes, as `scan` events), an image file, the
//! clipboard. The decoding is the core's; this only starts, stops and
//! reports.

use std::sync::Mutex;

use tauri::{AppHandle, Emitter, Runtime, State};
use toss_core::scanned::{self, Scanned};
use toss_core::transport::camera::{self, CameraInfo, Resolution, Webcam};
use toss_core::transport::clipboard;
use toss_core::transport::live_scan::LiveScan;

use crate::error::CommandError;

/// The event the scan view listens to.
pub const EVENT: &str = "scan";

/// The scan running now, if any.
#[derive(Debug, Default)]
pub struct Scanning(Mutex<Option<LiveScan>>);

impl Scanning {
    fn replace(&self, session: Option<LiveScan>) {
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
    let session = LiveScan::start(
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
