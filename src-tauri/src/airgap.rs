//! The Sign screen: the air-gapped laptop signs what other Solana tools
//! prepared (Keystone's UR codes, `toss_core::airgap`). What a request asks
//! is shown from its bytes before anything is signed; only the request last
//! shown can be signed, with a second confirmation when something in it is
//! not explained.

use std::sync::Mutex;

use serde::Serialize;
use tauri::State;
use toss_core::airgap::{Described, Prepared};
use toss_core::transport::qr;

use crate::error::CommandError;
use crate::state::{AppState, text};

/// The request last shown: the only one `sign_request_sign` signs.
#[derive(Debug, Default)]
pub struct Shown(Mutex<Option<Prepared>>);

impl Shown {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Prepared>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A code to show another tool: its UR text and the QR code of it.
#[derive(Debug, Serialize)]
pub struct Answer {
    pub ur: String,
    pub qr_svg: String,
}

/// Reads a `ur:sol-sign-request` (pasted, or scanned) and says what it asks.
#[tauri::command]
pub fn sign_request_open(
    state: State<'_, AppState>,
    shown: State<'_, Shown>,
    text: String,
) -> Result<Described, CommandError> {
    *shown.lock() = None;
    let prepared = state.session()?.sign_request(&text)?;
    let described = prepared.described.clone();
    *shown.lock() = Some(prepared);
    Ok(described)
}

/// Signs the request shown, through the gate; `confirmed_unexplained` is
/// the user's second word for what the wallet could not explain.
#[tauri::command]
pub fn sign_request_sign(
    state: State<'_, AppState>,
    shown: State<'_, Shown>,
    confirmed_unexplained: bool,
    passphrase: Option<String>,
) -> Result<Answer, CommandError> {
    let prepared = shown
        .lock()
        .clone()
        .ok_or("open a request first: nothing was shown to sign")?;
    let ur =
        state
            .session()?
            .sign_answer(&prepared, confirmed_unexplained, passphrase.as_deref())?;
    Ok(Answer {
        qr_svg: qr::svg(ur.as_bytes()).map_err(text)?,
        ur,
    })
}

/// One account as handed out watch-only.
#[derive(Debug, Serialize)]
pub struct HeldView {
    pub address: String,
    pub label: String,
    pub path: Option<String>,
}

/// This wallet's accounts, watch-only, for an online wallet.
#[derive(Debug, Serialize)]
pub struct AccountsView {
    pub ur: String,
    pub qr_svg: String,
    pub fingerprint: String,
    pub accounts: Vec<HeldView>,
}

/// The wallet's accounts as `ur:crypto-multi-accounts` and its QR code.
#[tauri::command]
pub fn accounts_ur(state: State<'_, AppState>) -> Result<AccountsView, CommandError> {
    let session = state.session()?;
    let ur = session.accounts_ur()?;
    let (held, fingerprint) = session.airgap_accounts()?;
    Ok(AccountsView {
        qr_svg: qr::svg(ur.as_bytes()).map_err(text)?,
        ur,
        fingerprint: format!("{fingerprint:08x}"),
        accounts: held
            .into_iter()
            .map(|h| HeldView {
                address: h.key.to_string(),
                label: h.name,
                path: h.path.as_deref().map(toss_core::airgap::path_text),
            })
            .collect(),
    })
}
