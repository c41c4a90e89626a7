//! Which key a command signs with: a wallet account (from the OS keychain,
//! through the user-presence gate) or a Solana CLI keypair file.

use std::path::PathBuf;

use clap::Args;
use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;
use toss_core::home::Home;
use toss_core::keyfile;
use toss_core::vault::{Gate, Vault};
use toss_core::wallet::{Account, AccountIndex};

use crate::Failure;

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Wallet account to sign with (label or address; keys in the OS
    /// keychain). The only account when the wallet has one.
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
    /// The key, after the gate (`gate_required`) lets the user through.
    pub fn key(&self, home: &Home, gate_required: bool) -> Result<SigningKey, Failure> {
        if let Some(path) = &self.keypair {
            return Ok(keyfile::read(path)?);
        }
        let vault = Vault::open(home)?;
        let account = self.account(vault.accounts())?;
        let gate = Gate::load(home.root(), gate_required)?;
        let passphrase = match self.passphrase_stdin {
            true => crate::wallet_cmd::read_stdin_lines(1)?.into_iter().next(),
            false => None,
        };
        Ok(vault.signing_key(
            &account.pubkey(),
            &gate,
            passphrase.as_deref().map(String::as_str),
        )?)
    }

    /// The signing address, without unlocking any key.
    pub fn address(&self, home: &Home) -> Result<Pubkey, Failure> {
        if let Some(path) = &self.keypair {
            let key = keyfile::read(path)?;
            return Ok(Pubkey::new_from_array(key.verifying_key().to_bytes()));
        }
        Ok(self.account(AccountIndex::load(home)?.accounts())?.pubkey())
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
