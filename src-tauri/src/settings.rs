//! The settings screen and what the window loads at start: the build, the
//! data directory, the settings in force (and their schema, to edit them),
//! where keys are kept, the currencies on the cluster, the app passphrase,
//! and the metrics panel.

use serde::Serialize;
use tauri::State;
use toss_core::config::Config;
use toss_core::session::PassphraseAsked;
use toss_core::store::Metrics;
use toss_core::vault::{Gate, GateError, KeyStorage, SealedKeys};
use toss_core::wallet::{self, WalletStatus};

use crate::error::{CommandError, ErrorKind};
use crate::state::{AppState, text};

/// What the start screen shows: the build, where data lives, the settings in
/// force, or the message explaining why they could not be loaded.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    version: &'static str,
    data_dir: Option<String>,
    config: Option<Config>,
    problem: Option<String>,
    /// Where the wallet's keys are kept, and what to know about it.
    key_storage: KeyStorageView,
}

/// Where keys are kept, as the settings and onboarding screens say it.
#[derive(Debug, Serialize)]
pub struct KeyStorageView {
    /// `None` when the settings cannot be read (the settings problem says why).
    kind: Option<KeyStorage>,
    description: &'static str,
    warning: Option<&'static str>,
    /// The key file is the storage and must be unlocked before the wallet
    /// can be used (`keys_unlock`).
    locked: bool,
    /// The key file is the storage and none exists yet: the passphrase
    /// given to `keys_unlock` creates it.
    new_file: bool,
}

impl KeyStorageView {
    fn of(state: &AppState) -> Self {
        let Ok(config) = state.config() else {
            return KeyStorageView {
                kind: None,
                description: "not known until the settings are fixed",
                warning: None,
                locked: false,
                new_file: false,
            };
        };
        let kind = config.keystore;
        let file = kind == KeyStorage::EncryptedFile;
        let exists = state
            .home()
            .is_ok_and(|h| SealedKeys::path(h.root()).exists());
        KeyStorageView {
            kind: Some(kind),
            description: kind.describe(),
            warning: kind.warning(),
            locked: file && state.unlocked_keys().is_none(),
            new_file: file && !exists,
        }
    }
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
        config: state.config().ok(),
        problem: state.config().err(),
        key_storage: KeyStorageView::of(&state),
    }
}

/// Reads the account index afresh each time, so the answer follows changes
/// made by the CLI or another window.
#[tauri::command]
pub fn wallet_status(state: State<'_, AppState>) -> Result<WalletStatus, CommandError> {
    let home = state.home()?;
    Ok(wallet::status(home).map_err(|e| e.to_string())?)
}

/// A setting as the settings screen edits it: its key, what is allowed,
/// and the environment variable that overrides it when set.
#[derive(Debug, Serialize)]
pub struct SettingInfo {
    key: &'static str,
    allowed: &'static str,
    env: &'static str,
    /// Set in the environment: the file's value does not count.
    overridden: bool,
}

#[tauri::command]
pub fn settings_schema() -> Vec<SettingInfo> {
    toss_core::config::setting::ALL
        .iter()
        .map(|s| SettingInfo {
            key: s.key,
            allowed: s.allowed,
            env: s.env,
            overridden: std::env::var(s.env).is_ok_and(|v| !v.is_empty()),
        })
        .collect()
}

/// Saves settings (`value: null` or empty: back to the default); nothing is
/// written if any is invalid, and the message says which and why.
#[tauri::command]
pub fn settings_save(
    state: State<'_, AppState>,
    changes: Vec<(String, Option<String>)>,
) -> Result<Config, CommandError> {
    // Keys already kept in one storage are not moved to another: switching
    // would leave the wallet looking for them where they are not.
    if changes.iter().any(|(k, _)| k == "keystore")
        && wallet::status(state.home()?).is_ok_and(|s| s.exists)
    {
        return Err(CommandError::new(
            ErrorKind::Settings,
            "where keys are kept is chosen when the wallet is set up; this wallet's keys stay where they are",
        ));
    }
    Ok(state.save_config(&changes)?)
}

/// The currencies the configured cluster offers (SOL, and USDC where Circle
/// issues it), with what the screens need to show amounts in them.
#[tauri::command]
pub fn currencies(
    state: State<'_, AppState>,
) -> Result<Vec<toss_core::currency::Currency>, CommandError> {
    Ok(toss_core::currency::Currency::all(state.config()?.cluster))
}

/// Sets the app passphrase that confirms payments (when the settings ask
/// for it); changing one already set needs it (`current`).
#[tauri::command]
pub fn gate_set_passphrase(
    state: State<'_, AppState>,
    current: Option<String>,
    passphrase: String,
) -> Result<(), CommandError> {
    let mut gate = Gate::load(state.home()?.root(), true)?;
    match gate.check(current.as_deref()) {
        Ok(()) | Err(GateError::NoPassphraseSet) => {}
        Err(GateError::PassphraseRequired) => {
            return Err(CommandError::new(
                crate::error::ErrorKind::Gate,
                "enter the current passphrase to change it",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    // Kept in the key file: it is sealed with the app passphrase, so it
    // follows (unlocked first with the current one when it is not yet).
    let keys = match state.config()?.keystore {
        KeyStorage::EncryptedFile => Some(match state.unlocked_keys() {
            Some(keys) => keys,
            None => state.unlock_keys(current.as_deref().unwrap_or(&passphrase))?,
        }),
        _ => None,
    };
    // The file first: should the gate then fail, the file goes back to the
    // current passphrase, so the two never disagree.
    if let Some(keys) = &keys {
        keys.change_passphrase(&passphrase)?;
    }
    if let Err(e) = gate.set_passphrase(&passphrase) {
        if let (Some(keys), Some(current)) = (&keys, &current)
            && let Err(back) = keys.change_passphrase(current)
        {
            tracing::error!(error = %back, "the key file kept the new passphrase the gate refused");
        }
        return Err(e.into());
    }
    Ok(())
}

/// Unlocks the encrypted key file (the storage the settings choose) with
/// the app passphrase for the rest of this run; the first time, creates it
/// sealed with that passphrase, which also becomes the app passphrase.
#[tauri::command]
pub fn keys_unlock(state: State<'_, AppState>, passphrase: String) -> Result<(), CommandError> {
    if state.config()?.keystore != KeyStorage::EncryptedFile {
        return Err("the settings keep keys in the system keychain, not in a key file".into());
    }
    state.unlock_keys(&passphrase)?;
    Ok(())
}

/// Chooses the encrypted key file as where keys are kept (saved in the
/// settings) and creates it with `passphrase`: what set-up offers when
/// this computer has no usable keychain. Refused once the wallet has
/// accounts, whose keys are in the keychain.
#[tauri::command]
pub fn keys_use_file(
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<Config, CommandError> {
    let home = state.home()?;
    // Only before any secret exists elsewhere: no account (or a list that
    // cannot be read), no sealed store.
    if !wallet::status(home).is_ok_and(|s| !s.exists) || home.store_file().exists() {
        return Err(
            "this wallet's keys are already kept in the keychain; the key file is chosen before an account is created"
                .into(),
        );
    }
    if SealedKeys::path(home.root()).exists() {
        return Err("a key file already exists in the data directory: unlock it instead".into());
    }
    // The file first (a passphrase it refuses changes nothing), then the
    // setting that points at it.
    state.unlock_keys(&passphrase)?;
    Ok(state.save_config(&[("keystore".to_owned(), Some("file".to_owned()))])?)
}

/// The metrics panel: payments created and settled, success rate,
/// settlement latency, gate failures, network errors.
#[tauri::command]
pub fn metrics(state: State<'_, AppState>) -> Result<Metrics, CommandError> {
    Ok(state.store()?.metrics().map_err(text)?)
}

/// Which actions ask for the app passphrase under the settings in force.
#[tauri::command]
pub fn passphrase_asked(state: State<'_, AppState>) -> Result<PassphraseAsked, CommandError> {
    Ok(PassphraseAsked::under(&state.config()?))
}

/// Whether the program the settings name is this wallet's build.
#[derive(Debug, serde::Serialize)]
pub struct ProgramCheck {
    /// The address checked.
    pub program_id: String,
    /// Exactly the carried build.
    pub bundled: bool,
    /// What was found, in words.
    pub text: String,
    /// The carried build's SHA-256.
    pub build_sha256: String,
}

/// Asks the cluster whether the program at `program_id` (settings) holds
/// exactly the build this wallet carries (`deployment::verify`).
#[tauri::command]
pub async fn program_check(state: State<'_, AppState>) -> Result<ProgramCheck, CommandError> {
    let session = state.session()?;
    let program_id: toss_core::address::Pubkey = session
        .config()
        .program_id
        .ok_or("no program is set: deploy it with `toss program deploy`, then set TOSS_PROGRAM_ID")?
        .into();
    let (chain, backoff) = (session.chain(), session.backoff());
    crate::state::on_own_thread(move || async move {
        let verdict = toss_core::deployment::verify(&chain, backoff, &program_id).await?;
        Ok(ProgramCheck {
            program_id: program_id.to_string(),
            bundled: matches!(verdict, toss_core::deployment::Verdict::Bundled { .. }),
            text: verdict.to_string(),
            build_sha256: toss_core::deployment::build_sha256(),
        })
    })
    .await
}
