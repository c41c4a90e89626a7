//! The counter: the customer-facing window (a second window the merchant
//! can put on another screen) follows the till's sale, and the merchant
//! hears of every payment taken by a desktop notification. Both are driven
//! from here, by what the till decided: the window only shows it.

use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::CommandError;

/// The event the customer window follows.
pub const CUSTOMER_EVENT: &str = "customer";
/// The customer window's label (capabilities/customer.json grants it only
/// `customer_now` and events).
pub const WINDOW: &str = "customer";

/// What the customer sees.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerView {
    /// `idle`, `waiting`, `paid` or `refused`.
    pub state: &'static str,
    /// What is asked, in its currency, tip included.
    pub total_text: Option<String>,
    /// The same in the merchant's currency, when priced in it.
    pub fiat_text: Option<String>,
    /// The sale's code (Solana Pay request), rendered by Rust.
    pub qr_svg: Option<String>,
    /// "Paid", or why a payment was refused.
    pub message: Option<String>,
}

/// The customer window's latest view, for a window opened mid-sale.
#[derive(Debug, Default)]
pub struct Counter(Mutex<CustomerView>);

impl Counter {
    fn view(&self) -> std::sync::MutexGuard<'_, CustomerView> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Shows `view` on the customer window (kept for one opened later).
pub fn show<R: Runtime>(app: &AppHandle<R>, view: CustomerView) {
    if let Some(counter) = app.try_state::<Counter>() {
        *counter.view() = view.clone();
    }
    if let Err(e) = app.emit(CUSTOMER_EVENT, view) {
        tracing::warn!(error = %e, "the customer display could not be told");
    }
}

/// The sale's outcome for the customer, after a payment arrived: paid (and
/// the merchant notified), or refused with the till's reason, the code
/// still shown.
pub fn taken<R: Runtime>(app: &AppHandle<R>, outcome: Result<String, String>) {
    let last = app
        .try_state::<Counter>()
        .map(|c| c.view().clone())
        .unwrap_or_default();
    match outcome {
        Ok(words) => {
            notify(app, &words);
            show(
                app,
                CustomerView {
                    state: "paid",
                    qr_svg: None,
                    message: Some("Paid. Thank you!".into()),
                    ..last
                },
            );
        }
        Err(reason) => show(
            app,
            CustomerView {
                state: "refused",
                message: Some(reason),
                ..last
            },
        ),
    }
}

/// A desktop notification saying `words`, unless the settings turn them
/// off; a desktop with no notification service stays silent.
fn notify<R: Runtime>(app: &AppHandle<R>, words: &str) {
    use tauri_plugin_notification::NotificationExt;
    let wanted = app
        .state::<crate::state::AppState>()
        .session()
        .map(|s| s.config().notifications)
        .unwrap_or(false);
    if !wanted
        || app
            .try_state::<tauri_plugin_notification::Notification<R>>()
            .is_none()
    {
        return;
    }
    let shown = app
        .notification()
        .builder()
        .title("TOSS: payment taken")
        .body(words)
        .show();
    if let Err(e) = shown {
        tracing::info!(error = %e, "no desktop notification was shown");
    }
}

/// What the customer window shows now.
#[tauri::command]
pub fn customer_now(counter: State<'_, Counter>) -> CustomerView {
    counter.view().clone()
}

/// Opens the customer window (or brings it forward): the merchant drags
/// it to the screen facing the customer.
#[tauri::command]
pub async fn customer_display_open<R: Runtime>(app: AppHandle<R>) -> Result<(), CommandError> {
    if let Some(window) = app.get_webview_window(WINDOW) {
        return Ok(window.set_focus().map_err(crate::state::text)?);
    }
    tauri::WebviewWindowBuilder::new(&app, WINDOW, tauri::WebviewUrl::App("customer.html".into()))
        .title("TOSS: for the customer")
        .inner_size(800.0, 600.0)
        .build()
        .map_err(|e| format!("the customer display could not open: {e}"))?;
    Ok(())
}
