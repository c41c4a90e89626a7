//! Which key a command signs with: a wallet account (from the OS keychain or
//! the encrypted key file, through the user-presence gate) or a Solana CLI
//! keypair file.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::OnceLock;

use clap::Args;
use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;
use toss_core::config::KeyStorage;
use toss_core::keyfile;
use toss_core::session::{KeyUse, WalletSession};
use toss_core::wallet::Account;
use zeroize::Zeroizing;

use crate::Failure;

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Wallet account to sign with (label or address; keys in the OS
    /// keychain or the encrypted key file). The only account when the
    /// wallet has one.
    #[arg(long, global = true, conflicts_with = "keypair")]
    pub from: Option<String>,
    /// Or sign with a Solana CLI keypair file.
    #[arg(long, global = true)]
    pub keypair: Option<PathBuf>,
    /// Read the app passphrase from stdin when the gate asks for it
    /// (REQUIRE_BIOMETRIC_FOR_INTENT / _FOR_NONCE).
    #[arg(long, global = true)]
    pub passphrase_stdin: bool,
}

impl KeyArgs {
    /// The key, after the gate the settings put on `what` lets the user
    /// through (a refusal is counted in the wallet's metrics).
    pub fn key(&self, session: &WalletSession, what: KeyUse) -> Result<SigningKey, Failure> {
        if let Some(path) = &self.keypair {
            return Ok(keyfile::read(path)?);
        }
        let account = self.account(session.accounts()?)?.pubkey();
        let passphrase = self.passphrase(session);
        Ok(session.signing_key(&account, what, passphrase.as_deref().map(String::as_str))?)
    }

    /// Who pays settlement fees: the account or keypair file chosen here,
    /// else the session's rule (TOSS_FEE_PAYER, or the only account).
    pub fn fee_payer(&self, session: &WalletSession) -> Result<SigningKey, Failure> {
        match (&self.from, &self.keypair, &session.config().fee_payer) {
            (None, None, Some(_)) => Ok(session.fee_payer(None)?),
            _ => self.key(session, KeyUse::Payment),
        }
    }

    /// The app passphrase, when asked to read it from stdin or when the
    /// keys are in the key file (which needs it anyway: one line serves both).
    fn passphrase(&self, session: &WalletSession) -> Option<Zeroizing<String>> {
        let key_file = session.config().keystore == KeyStorage::EncryptedFile;
        match self.passphrase_stdin || key_file {
            true => app_passphrase(),
            false => None,
        }
    }

    /// The signing address, without unlocking any key.
    pub fn address(&self, session: &WalletSession) -> Result<Pubkey, Failure> {
        if let Some(path) = &self.keypair {
            let key = keyfile::read(path)?;
            return Ok(Pubkey::new_from_array(key.verifying_key().to_bytes()));
        }
        Ok(self.account(session.accounts()?)?.pubkey())
    }

    fn account<'a>(&self, accounts: &'a [Account]) -> Result<&'a Account, Failure> {
        match (&self.from, accounts) {
            (Some(wanted), _) => accounts
                .iter()
                .find(|acc| &acc.label == wanted || &acc.address.to_string() == wanted)
                .ok_or_else(|| Failure::general(format!("no account {wanted:?} in this wallet"))),
            (None, [only]) => Ok(only),
            (None, []) => Err(Failure::general(
                "this wallet has no account yet: `toss wallet create` or `toss wallet import`",
            )),
            (None, _) => Err(Failure::usage(
                "this wallet has several accounts: choose one with --from",
            )),
        }
    }

    /// Whether the key is one of this wallet's accounts (whose intents the
    /// wallet's store keeps), rather than a bare keypair file.
    pub fn is_wallet_account(&self) -> bool {
        self.keypair.is_none()
    }
}

/// The app passphrase as read from stdin, once per run.
static READ: OnceLock<Option<Zeroizing<String>>> = OnceLock::new();

/// The app passphrase: the first line of stdin not otherwise taken, read
/// once per run (on a terminal, after a prompt on stderr) and shared by the
/// gate and the encrypted key file, so a script gives it once.
pub fn app_passphrase() -> Option<Zeroizing<String>> {
    READ.get_or_init(|| {
        if std::io::stdin().is_terminal() {
            // Typed at the terminal, not shown.
            return rpassword::prompt_password("app passphrase: ")
                .ok()
                .map(Zeroizing::new);
        }
        crate::wallet_cmd::read_stdin_lines(1)
            .ok()?
            .into_iter()
            .next()
    })
    .clone()
}
