//! The set-up screen: a new wallet (its recovery phrase shown once), or one
//! imported from a phrase or a Solana CLI keypair file, kept in the vault
//! (the keychain or the encrypted key file) through the wallet session.

use serde::Serialize;
use tauri::State;
use toss_core::vault::{RecoveryPhrase, WordCount};
use toss_core::wallet::Account;

use crate::error::CommandError;
use crate::state::AppState;

/// A new account and its recovery phrase, which the screen shows once and
/// then asks the user to confirm; it is kept nowhere.
#[derive(Debug, Serialize)]
pub struct Created {
    pub account: Account,
    pub words: Vec<String>,
}

#[tauri::command]
pub fn wallet_create(
    state: State<'_, AppState>,
    label: String,
    words: u8,
) -> Result<Created, CommandError> {
    let count = match words {
        12 => WordCount::Twelve,
        24 => WordCount::TwentyFour,
        n => return Err(format!("a recovery phrase has 12 or 24 words, not {n}").into()),
    };
    let mut session = state.session()?;
    let (account, phrase) = session.vault_mut()?.create(&label, count)?;
    Ok(Created {
        account,
        words: phrase.expose().split(' ').map(str::to_owned).collect(),
    })
}

/// Restores an account from a recovery phrase (and its BIP39 passphrase,
/// usually empty).
#[tauri::command]
pub fn wallet_import_phrase(
    state: State<'_, AppState>,
    label: String,
    phrase: String,
    passphrase: Option<String>,
) -> Result<Account, CommandError> {
    let phrase = RecoveryPhrase::parse(&phrase)?;
    let mut session = state.session()?;
    Ok(session
        .vault_mut()?
        .import_phrase(&label, &phrase, passphrase.as_deref().unwrap_or(""))?)
}

/// Imports a Solana CLI keypair file (the file is left where it is).
#[tauri::command]
pub fn wallet_import_keypair(
    state: State<'_, AppState>,
    label: String,
    path: std::path::PathBuf,
) -> Result<Account, CommandError> {
    let mut session = state.session()?;
    Ok(session.vault_mut()?.import_keypair_file(&label, &path)?)
}
