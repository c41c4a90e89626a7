//! TOSS Desktop: Tauri wiring over `toss_core`.
//!
//! This crate only adapts: it opens the data directory and settings at start,
//! keeps them in Tauri state, and exposes core functions as commands. Every
//! decision lives in the core, where it is tested without a window.

mod commands;
mod state;

use state::AppState;

/// Starts the app. Flags: `--log-json` switches logs to JSON lines (also
/// `TOSS_LOG_FORMAT=json`).
pub fn run() {
    let json = std::env::args().any(|a| a == "--log-json")
        || std::env::var("TOSS_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let state = AppState::start(json);
    let result = tauri::Builder::default()
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::wallet_status
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the app could not start");
        eprintln!("TOSS could not start: {e}");
        std::process::exit(1);
    }
}
