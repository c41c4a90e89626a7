//! What a command answers when it fails: a kind the screens can act on and
//! the message they show, as the core words it. One wording per failure,
//! whichever command met it.

use serde::Serialize;
use toss_core::chain::Unreachable;
use toss_core::config::ConfigError;
use toss_core::payment::SettingsError;
use toss_core::session::SessionError;
use toss_core::vault::{GateError, VaultError};

/// A failed command, as the window receives it (`{kind, message}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

/// What sort of failure it was, so a screen can offer the way out (ask for
/// the passphrase, point to the settings, say "offline").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The cluster could not be reached; nothing was lost.
    Unreachable,
    /// The user-presence gate refused: the passphrase is needed, wrong, or
    /// not set.
    Gate,
    /// The keychain is missing, locked or not answering.
    Keychain,
    /// The encrypted key file must be unlocked with the app passphrase.
    Locked,
    /// The settings are invalid or lack what this needs.
    Settings,
    /// The wallet has no account yet.
    NoAccount,
    /// Anything else: bad input, a refusal, a failure on this computer.
    Failed,
}

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl std::fmt::Display) -> Self {
        Self {
            kind,
            message: message.to_string(),
        }
    }
}

impl From<String> for CommandError {
    fn from(message: String) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
}

impl From<&str> for CommandError {
    fn from(message: &str) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
}

/// Errors that are one kind whatever they say.
macro_rules! of_kind {
    ($($t:ty => $kind:ident),*) => {$(
        impl From<$t> for CommandError {
            fn from(e: $t) -> Self {
                Self::new(ErrorKind::$kind, e)
            }
        }
    )*};
}
of_kind!(
    Unreachable => Unreachable,
    ConfigError => Settings,
    SettingsError => Settings,
    GateError => Gate,
    toss_core::sale::SaleError => Failed
);

impl From<VaultError> for CommandError {
    fn from(e: VaultError) -> Self {
        let kind = match &e {
            VaultError::Gate(_) => ErrorKind::Gate,
            VaultError::KeychainUnavailable(_)
            | VaultError::NoSessionBus(_)
            | VaultError::NoSecretService
            | VaultError::KeychainLocked(_)
            | VaultError::KeychainTimeout => ErrorKind::Keychain,
            VaultError::KeyFileLocked => ErrorKind::Locked,
            _ => ErrorKind::Failed,
        };
        Self::new(kind, e)
    }
}

impl From<SessionError> for CommandError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Vault(v) => v.into(),
            SessionError::Settings(s) => s.into(),
            SessionError::FeePayer(_) => Self::new(ErrorKind::Settings, e),
            SessionError::NoAccount => Self::new(ErrorKind::NoAccount, e),
            other => Self::new(ErrorKind::Failed, other),
        }
    }
}

/// Online work that failed: unreachable when the cluster was, else as the
/// core words it.
macro_rules! online_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for CommandError {
            fn from(e: $t) -> Self {
                match e.unreachable() {
                    Some(u) => u.clone().into(),
                    None => Self::new(ErrorKind::Failed, e),
                }
            }
        }
    )*};
}
online_errors!(
    toss_core::escrow::EscrowError,
    toss_core::nonce::NonceError,
    toss_core::settle::SettleError,
    toss_core::chain::SendError,
    toss_core::solana_pay::PayNowError,
    toss_core::deployment::DeployError
);
