//! Scanning codes for the UI: the webcam (live, with a preview and the
//! progress of animated codes, as `scan` events), an image file, the
//! clipboard. The decoding is the core's; this only starts, stops and
//! reports.

use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime, State};
use toss_core::config::Config;
use toss_core::currency::Currency;
use toss_core::scanned::{self, Scanned};
use toss_core::transport::camera::{self, CameraInfo, Resolution, Webcam};
use toss_core::transport::clipboard;
use toss_core::transport::live_scan::{LiveScan, ScanEvent};

use crate::error::CommandError;
use crate::state::{AppState, money};

/// A scanned code as the pay screen shows it: what the core read, and its
/// amount in the user's words, so the screen derives nothing.
#[derive(Debug, Clone, Serialize)]
pub struct ScanView {
    #[serde(flatten)]
    pub scanned: Scanned,
    /// The amount and its currency ("1,5 SOL"); `None` when the code
    /// names no amount (a request that lets the payer choose).
    pub amount_text: Option<String>,
    /// A request's amount as the pay form takes it (the settings'
    /// separator).
    pub amount_input: Option<String>,
    /// What a request's amount is in: the currency's symbol, or the token
    /// named as one TOSS does not pay offline.
    pub unit: Option<String>,
    /// A request as a URL, for paying it online (`pay_now`).
    pub url: Option<String>,
}

impl ScanView {
    fn of(scanned: Scanned, config: &Config) -> Self {
        let (amount_text, amount_input, unit) = match &scanned {
            Scanned::PaymentRequest { request } => {
                let unit = match Currency::of_mint(request.spl_token.as_ref(), config.cluster) {
                    Ok(c) => c.symbol.to_owned(),
                    Err(_) => format!(
                        "of token {} (not one TOSS pays offline)",
                        request.spl_token.map(|m| m.to_string()).unwrap_or_default()
                    ),
                };
                let input = request
                    .amount
                    .as_ref()
                    .map(|a| config.decimal_separator.localize(a));
                (
                    input.as_ref().map(|a| format!("{a} {unit}")),
                    input,
                    Some(unit),
                )
            }
            Scanned::Intent { amount, mint, .. } => {
                let mint = mint.as_deref().and_then(|m| m.parse().ok());
                (Some(money(config, *amount, mint.as_ref())), None, None)
            }
            Scanned::TransactionRequest { .. }
            | Scanned::Sealed { .. }
            | Scanned::SignRequest { .. }
            | Scanned::Unknown { .. } => (None, None, None),
        };
        let url = match &scanned {
            Scanned::PaymentRequest { request } => Some(request.to_url()),
            Scanned::TransactionRequest { link } => Some(link.to_text()),
            _ => None,
        };
        ScanView {
            scanned,
            amount_text,
            amount_input,
            unit,
            url,
        }
    }
}

/// What the scan view is told: the live scan's events, a code read
/// described for the screen.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum ScanReport {
    Code {
        kind: &'static str,
        scanned: ScanView,
    },
    Other(ScanEvent),
}

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
    state: State<'_, AppState>,
    scanning: State<'_, Scanning>,
    camera: u32,
    width: Option<u32>,
    height: Option<u32>,
    mirror: bool,
) {
    let resolution = width.zip(height).map(|(w, h)| Resolution::new(w, h));
    let config = state.config().ok();
    scanning.replace(None);
    let session = LiveScan::start(
        move || Webcam::open(camera, resolution),
        mirror,
        move |event| {
            let report = match (event, &config) {
                (ScanEvent::Code { scanned }, Some(config)) => ScanReport::Code {
                    kind: "code",
                    scanned: ScanView::of(scanned, config),
                },
                (other, _) => ScanReport::Other(other),
            };
            if let Err(e) = app.emit(EVENT, report) {
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
pub fn scan_image(
    state: State<'_, AppState>,
    path: std::path::PathBuf,
) -> Result<ScanView, CommandError> {
    let code = camera::scan_files(&[path]).map_err(|e| e.to_string())?;
    let scanned = scanned::describe(&code).map_err(|e| e.to_string())?;
    Ok(ScanView::of(scanned, &state.config()?))
}

#[tauri::command]
pub fn scan_clipboard(state: State<'_, AppState>) -> Result<ScanView, CommandError> {
    let code = clipboard::scan().map_err(|e| e.to_string())?;
    let scanned = scanned::describe(&code).map_err(|e| e.to_string())?;
    Ok(ScanView::of(scanned, &state.config()?))
}
