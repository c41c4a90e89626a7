//! The commands the UI calls. Each is a thin adapter over `toss_core`; errors
//! reach the UI as the core's plain-language message.

use serde::Serialize;
use tauri::State;
use toss_core::config::Config;
use toss_core::wallet::{self, WalletStatus};

use crate::state::AppState;

/// What the start screen shows: the build, where data lives, the settings in
/// force, or the message explaining why they could not be loaded.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    version: &'static str,
    data_dir: Option<String>,
    config: Option<Config>,
    problem: Option<String>,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: toss_core::VERSION,
        data_dir: state
            .home
            .as_ref()
            .ok()
            .map(|h| h.root().display().to_string()),
        config: state.config.as_ref().ok().cloned(),
        problem: state.config.as_ref().err().cloned(),
    }
}

/// Reads the account index afresh each time, so the answer follows changes
/// made by the CLI or another window.
#[tauri::command]
pub fn wallet_status(state: State<'_, AppState>) -> Result<WalletStatus, String> {
    let home = state.home.as_ref().map_err(Clone::clone)?;
    wallet::status(home).map_err(|e| e.to_string())
}
