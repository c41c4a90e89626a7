//! What the app opens once at start and every command reads.

use std::sync::{Mutex, RwLock};

use toss_core::config::Config;
use toss_core::home::Home;
use toss_core::logging::{self, LogFormat, LogGuard};
use toss_core::session::{KeyUse, WalletSession};
use toss_core::store::Store;
use toss_core::vault::{SealedKeys, Unlock};

use crate::error::{CommandError, ErrorKind};

/// The app's state. Start-up problems (no data directory, bad settings) are
/// kept as messages instead of aborting, so the window can open and tell the
/// user what to fix.
#[derive(Debug)]
pub struct AppState {
    pub home: Result<Home, String>,
    /// Replaced when the settings screen saves.
    config: RwLock<Result<Config, String>>,
    /// The encrypted key file, once unlocked in this run (when the
    /// settings keep keys there): every session after shares it.
    keys: Mutex<Option<SealedKeys>>,
    /// The sale the receive screen shows: every way a payment arrives is
    /// held to it.
    pub till: std::sync::Arc<toss_core::sale::Till>,
    /// The transaction request last shown on the pay screen (its link and
    /// what it does): the only one the user can approve.
    pub shown: std::sync::Arc<Mutex<Option<(String, toss_core::transaction_request::Explained)>>>,
    _log: Option<LogGuard>,
}

impl AppState {
    pub fn start(json_logs: bool) -> Self {
        let format = if json_logs {
            LogFormat::Json
        } else {
            LogFormat::Human
        };
        let home = Home::locate().and_then(|h| h.ensure().map(|()| h));
        let log = match &home {
            Ok(h) => logging::init(h, format)
                .map_err(|e| eprintln!("TOSS: logging to file is off: {e}"))
                .ok(),
            Err(_) => None,
        };
        let state = Self::open(home.map_err(|e| e.to_string()));
        match (&state.home, &state.config()) {
            (Ok(h), Ok(c)) => tracing::info!(
                version = toss_core::VERSION,
                data_dir = %h.root().display(),
                cluster = %c.cluster,
                "TOSS Desktop started"
            ),
            (_, Err(e)) => {
                tracing::warn!(error = %e, "TOSS Desktop started with a settings problem")
            }
            (Err(e), Ok(_)) => {
                tracing::warn!(error = %e, "TOSS Desktop started without a data directory")
            }
        }
        Self { _log: log, ..state }
    }

    /// The state for a data directory (or the reason there is none), with
    /// its settings; no logging set up (tests, or before it can be).
    pub fn open(home: Result<Home, String>) -> Self {
        let config = match &home {
            Ok(h) => Config::load(&h.settings_file()).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        Self {
            home,
            config: RwLock::new(config),
            keys: Mutex::new(None),
            till: Default::default(),
            shown: Default::default(),
            _log: None,
        }
    }

    /// The data directory, or why there is none.
    pub fn home(&self) -> Result<&Home, String> {
        self.home.as_ref().map_err(Clone::clone)
    }

    /// The wallet, opened under the settings in force: everything a
    /// command works with comes from it.
    pub fn session(&self) -> Result<WalletSession, CommandError> {
        let home = self.home()?.clone();
        let config = self
            .config()
            .map_err(|e| CommandError::new(ErrorKind::Settings, e))?;
        let unlock = Unlock {
            keys: self.unlocked_keys(),
            ask: None,
        };
        Ok(WalletSession::open_with(home, config, unlock))
    }

    /// The key file as unlocked in this run, if it was and still is: one
    /// sealed again elsewhere (the CLI changed the passphrase) is forgotten,
    /// so the window asks for the passphrase again.
    pub fn unlocked_keys(&self) -> Option<SealedKeys> {
        let mut slot = match self.keys.lock() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        if slot.as_ref().is_some_and(|k| !k.is_current()) {
            *slot = None;
        }
        slot.clone()
    }

    /// Unlocks the encrypted key file with `passphrase` (creating it, empty,
    /// the first time, with that passphrase as the app passphrase) for the
    /// rest of this run.
    pub fn unlock_keys(&self, passphrase: &str) -> Result<SealedKeys, CommandError> {
        let keys = toss_core::vault::open_key_file(self.home()?.root(), passphrase)?;
        match self.keys.lock() {
            Ok(mut k) => *k = Some(keys.clone()),
            Err(poisoned) => *poisoned.into_inner() = Some(keys.clone()),
        }
        Ok(keys)
    }

    /// The wallet's store (its cleanup run as it opens).
    pub fn store(&self) -> Result<Store, CommandError> {
        Ok(self.session()?.store()?)
    }

    /// The settings in force, or why there are none.
    pub fn config(&self) -> Result<Config, String> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Saves `changes` to the settings file and puts the result in force.
    pub fn save_config(&self, changes: &[(String, Option<String>)]) -> Result<Config, String> {
        let home = self.home()?;
        let config = Config::save(&home.settings_file(), changes).map_err(|e| e.to_string())?;
        match self.config.write() {
            Ok(mut c) => *c = Ok(config.clone()),
            Err(poisoned) => *poisoned.into_inner() = Ok(config.clone()),
        }
        Ok(config)
    }
}

/// An error as the window shows it: its message.
pub fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// An address typed or scanned by the user, or a message naming it.
pub fn address(s: &str) -> Result<toss_core::address::Address, String> {
    s.parse()
        .map_err(|_| format!("{s} is not a Solana address"))
}

/// An amount as the window shows it: formatted here, in its currency and
/// the settings' separator, so the UI derives nothing.
pub fn money(config: &Config, units: u64, mint: Option<&toss_core::address::Pubkey>) -> String {
    toss_core::currency::money(units, mint, config.cluster, config.decimal_separator)
}

/// A payment's terms as every screen shows them: who pays whom, how much
/// (and in words), and the memo.
#[derive(Debug, serde::Serialize)]
pub struct Terms {
    pub payer: String,
    pub payee: String,
    pub mint: Option<String>,
    pub amount: u64,
    pub amount_text: String,
    pub memo: Option<String>,
}

impl Terms {
    /// The terms of `intent`, its amount written for the window.
    pub fn of(config: &Config, intent: &toss_core::intent::Intent) -> Self {
        Terms {
            payer: intent.payer.to_string(),
            payee: intent.payee.to_string(),
            mint: intent.mint.map(|m| m.to_string()),
            amount: intent.amount,
            amount_text: money(config, intent.amount, intent.mint.as_ref()),
            memo: intent.memo.clone(),
        }
    }
}

/// The escrow's amounts as the window shows them.
#[derive(Debug, serde::Serialize)]
pub struct EscrowAmounts {
    pub balance: String,
    pub promised: String,
    pub spendable_offline: String,
    pub pending_withdrawal: String,
}

impl EscrowAmounts {
    /// `status`'s amounts, in the currency of `mint`.
    pub fn of(
        config: &Config,
        status: &toss_core::escrow::Status,
        mint: Option<&toss_core::address::Pubkey>,
    ) -> Self {
        let m = |units| money(config, units, mint);
        EscrowAmounts {
            balance: m(status.snapshot.balance),
            promised: m(status.promised),
            spendable_offline: m(status.spendable_offline),
            pending_withdrawal: m(status.snapshot.pending_withdrawal),
        }
    }
}

/// A payment id as the screens pass it (hex).
pub fn payment_id(id: &str) -> Result<[u8; 32], String> {
    hex::decode(id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "not a payment id".to_owned())
}

/// What an online change to this wallet's on-chain account or nonce pool
/// needs: its store, its first account's key as a transaction signer
/// (through the gate the settings ask for funds,
/// REQUIRE_BIOMETRIC_FOR_NONCE, as the CLI does), and that account's
/// address.
pub struct Owner {
    pub store: Store,
    pub key: toss_core::chain::Keypair,
    pub address: toss_core::address::Address,
}

impl Owner {
    /// What an online change to `session`'s escrow or nonce pool needs, the
    /// key through the gate the settings put on funds.
    pub fn of(session: &WalletSession, passphrase: Option<&str>) -> Result<Self, CommandError> {
        let key = session.first_key(KeyUse::Funds, passphrase)?;
        Ok(Owner {
            store: session.store()?,
            address: toss_core::address::Address::new(key.verifying_key().to_bytes()),
            key: toss_core::chain::signer(&key),
        })
    }
}

/// Names the account, never the key.
impl std::fmt::Debug for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owner")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Runs `work` (online work from the core, whose futures are not `Send`)
/// to completion on a blocking thread with a runtime of its own.
pub async fn on_own_thread<T, F, Fut>(work: F) -> Result<T, CommandError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, CommandError>>,
{
    tauri::async_runtime::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(text)?
            .block_on(work())
    })
    .await
    .map_err(text)?
}

/// The currency a screen named by symbol (`None`: SOL) on the cluster in force.
pub fn currency(
    config: &Config,
    symbol: Option<&str>,
) -> Result<toss_core::currency::Currency, String> {
    match symbol {
        None => Ok(toss_core::currency::SOL),
        Some(s) => toss_core::currency::Currency::named(s, config.cluster).map_err(text),
    }
}
