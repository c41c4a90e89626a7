//! The vault: the wallet's secret keys, kept only in the OS keychain or,
//! where the user chose it because there is none, in the encrypted key file.
//!
//! Accounts are listed publicly in the account index (`wallet` module); their
//! Ed25519 secrets, the Noise static key and the store's encryption key live
//! in the keychain (or the key file) under this wallet's id. A secret leaves
//! it only into memory that is wiped on drop, and only after the
//! user-presence gate passes when the settings ask for it.

mod derive;
mod gate;
mod keystore;
mod sealed;

use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;
use zeroize::Zeroizing;

pub use derive::{RecoveryPhrase, WordCount};
pub use gate::{Gate, GateError};
pub use keystore::{AskPassphrase, KeyStorage, Keystore, Unlock};
pub use sealed::SealedKeys;

use crate::home::Home;
use crate::wallet::{Account, AccountIndex, KeySource, WalletError};

/// Why a secret could not be stored, read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The keychain (or the settings naming it) could not be opened; carries why.
    #[error("no keychain is available: {0}")]
    KeychainUnavailable(String),
    /// Linux: no D-Bus session bus, so no Secret Service; carries the bus error.
    #[error(
        "there is no desktop session bus ({0}), so no keyring can keep the wallet's keys: log in to a desktop session (or start one with dbus-run-session) with gnome-keyring or another Secret Service provider running; or keep the keys in an encrypted key file (offered at set-up; TOSS_KEYSTORE=file)"
    )]
    NoSessionBus(String),
    /// Linux: the session bus has no Secret Service provider, running or activatable.
    #[error(
        "no keyring (Secret Service) is running on this desktop, so the wallet's keys have nowhere safe to go: install and start gnome-keyring (apt install gnome-keyring), KeePassXC with Secret Service integration, or KWallet, then try again; nothing is locked"
    )]
    NoSecretService,
    /// The keychain refused access because it is locked; carries its message.
    #[error(
        "the keychain is locked; unlock it (log in to your desktop session or unlock the keyring) and try again ({0})"
    )]
    KeychainLocked(String),
    /// A keychain call did not return within its deadline.
    #[error("the keychain did not answer in time; is it locked and waiting for a password prompt?")]
    KeychainTimeout,
    /// The key file is the storage and no passphrase has unlocked it.
    #[error("the wallet's key file is locked: enter the app passphrase to open it")]
    KeyFileLocked,
    /// The settings keep keys in a key file, but this wallet's is gone.
    #[error(
        "this wallet's keys should be in {0}, which is missing: restore it from a backup, or set where keys are kept back to where the wallet's keys are (TOSS_KEYSTORE / keystore); no new key file is made over an existing wallet"
    )]
    KeyFileMissing(String),
    /// No secret is stored under that item name.
    #[error(
        "the keychain has no item {0:?}; the wallet may have been removed from this computer's keychain"
    )]
    NotInKeychain(String),
    /// The item exists but its data is not what was stored (encoding, length).
    #[error("the keychain item {0:?} is damaged")]
    KeychainDamaged(String),
    /// Any other keychain failure; carries its description, never secret data.
    #[error("keychain error: {0}")]
    Keychain(String),
    /// A recovery phrase is invalid (words, checksum, length).
    #[error("recovery phrase: {0}")]
    Phrase(String),
    /// SLIP-0010 derivation failed; carries which step.
    #[error("key derivation failed: {0}")]
    Derivation(&'static str),
    /// The OS random source failed; carries its error.
    #[error("no secure random numbers: {0}")]
    Random(String),
    /// An account with this address is already in the wallet.
    #[error("the account {0} already exists in this wallet")]
    Duplicate(Pubkey),
    /// The wallet has no account with this address.
    #[error("no account {0} in this wallet")]
    NoSuchAccount(Pubkey),
    /// The stored secret does not derive the account's address.
    #[error("the keychain holds a different key for {0}; refusing to use it")]
    KeyMismatch(Pubkey),
    /// The user-presence gate refused.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// The account index, or an imported keypair file, failed; carries its message.
    #[error("{0}")]
    Index(String),
}

impl From<WalletError> for VaultError {
    fn from(e: WalletError) -> Self {
        VaultError::Index(e.to_string())
    }
}

/// The wallet's secrets.
#[derive(Debug)]
pub struct Vault {
    index: AccountIndex,
    keys: Keystore,
}

impl Vault {
    /// Opens the wallet in `home` with the key storage its settings choose
    /// (the key file, if that is it, stays locked).
    pub fn open(home: &Home) -> Result<Self, VaultError> {
        let config = crate::config::Config::load(&home.settings_file())
            .map_err(|e| VaultError::KeychainUnavailable(e.to_string()))?;
        Self::open_with(home, config.keystore, Unlock::default())
    }

    /// Opens the wallet in `home` with its secrets in `storage` (the key
    /// file unlocked as `unlock` says).
    pub fn open_with(home: &Home, storage: KeyStorage, unlock: Unlock) -> Result<Self, VaultError> {
        let index = AccountIndex::load(home)?;
        let keys = Keystore::open(storage, home.root(), index.wallet_id(), unlock)?;
        Ok(Self { index, keys })
    }

    /// The wallet's accounts, from the account index.
    pub fn accounts(&self) -> &[Account] {
        self.index.accounts()
    }

    /// The wallet's id (random, made with its first account).
    pub fn wallet_id(&self) -> &str {
        self.index.wallet_id()
    }

    /// Where this wallet's secrets are kept.
    pub fn key_storage(&self) -> KeyStorage {
        self.keys.kind()
    }

    /// Creates an account from a new recovery phrase, which is returned to be
    /// shown once: it is not kept anywhere.
    pub fn create(
        &mut self,
        label: &str,
        words: WordCount,
    ) -> Result<(Account, RecoveryPhrase), VaultError> {
        let phrase = RecoveryPhrase::generate(words)?;
        let account = self.import_phrase(label, &phrase, "")?;
        Ok((account, phrase))
    }

    /// Restores the first account (`m/44'/501'/0'/0'`) of a recovery phrase.
    pub fn import_phrase(
        &mut self,
        label: &str,
        phrase: &RecoveryPhrase,
        passphrase: &str,
    ) -> Result<Account, VaultError> {
        let key = phrase.derive(passphrase, 0)?;
        self.add(label, &key, KeySource::Phrase)
    }

    /// Imports a Solana CLI keypair file (the file itself is left alone).
    pub fn import_keypair_file(
        &mut self,
        label: &str,
        path: &std::path::Path,
    ) -> Result<Account, VaultError> {
        let key = crate::keyfile::read(path).map_err(|e| VaultError::Index(e.to_string()))?;
        self.add(label, &key, KeySource::KeypairFile)
    }

    /// Stores the key in the keychain first, then lists the account: a crash
    /// in between leaves an unlisted keychain item, never a listed account
    /// without its key.
    fn add(
        &mut self,
        label: &str,
        key: &SigningKey,
        source: KeySource,
    ) -> Result<Account, VaultError> {
        let address = Pubkey::new_from_array(key.verifying_key().to_bytes());
        if self.index.find(&address).is_some() {
            return Err(VaultError::Duplicate(address));
        }
        let secret = Zeroizing::new(key.to_bytes());
        self.keys.put(&item_name(&address), &secret[..])?;
        let account = self.index.add(label, address, source)?;
        tracing::info!(address = %address, "account added");
        Ok(account)
    }

    /// Removes an account: from the list, then its key from the keychain.
    pub fn remove(&mut self, address: &Pubkey) -> Result<(), VaultError> {
        if self.index.find(address).is_none() {
            return Err(VaultError::NoSuchAccount(*address));
        }
        self.index.remove(address)?;
        match self.keys.delete(&item_name(address)) {
            Ok(()) | Err(VaultError::NotInKeychain(_)) => {}
            Err(e) => return Err(e),
        }
        tracing::info!(address = %address, "account removed");
        Ok(())
    }

    /// The signing key of `address`, after the gate lets the user through.
    pub fn signing_key(
        &self,
        address: &Pubkey,
        gate: &Gate,
        presence: Option<&str>,
    ) -> Result<SigningKey, VaultError> {
        if self.index.find(address).is_none() {
            return Err(VaultError::NoSuchAccount(*address));
        }
        gate.check(presence)?;
        let bytes = self.keys.get(&item_name(address))?;
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| VaultError::KeychainDamaged(item_name(address)))?,
        );
        let key = SigningKey::from_bytes(&secret);
        if key.verifying_key().to_bytes() != address.to_bytes() {
            return Err(VaultError::KeyMismatch(*address));
        }
        Ok(key)
    }

    /// A 32-byte secret for `purpose` (the Noise static key, the store key),
    /// created on first use. Not behind the gate: these protect data at rest
    /// and sessions, and are needed to receive payments unattended.
    pub fn service_secret(&self, purpose: &str) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let name = format!("secret/{purpose}");
        match self.keys.get(&name) {
            Ok(bytes) => {
                let arr: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| VaultError::KeychainDamaged(name.clone()))?;
                Ok(Zeroizing::new(arr))
            }
            Err(VaultError::NotInKeychain(_)) => {
                self.index.ensure_saved()?;
                let mut fresh = Zeroizing::new([0u8; 32]);
                getrandom::fill(&mut fresh[..]).map_err(|e| VaultError::Random(e.to_string()))?;
                self.keys.put(&name, &fresh[..])?;
                Ok(fresh)
            }
            Err(e) => Err(e),
        }
    }
}

/// Unlocks the encrypted key file in `dir` with the app passphrase; the
/// first time, creates it sealed with `passphrase`, which also becomes the
/// app passphrase the gate asks for when none was set: one passphrase for
/// both, wherever the file is opened from (the app or the CLI).
/// A wallet whose secrets exist elsewhere (accounts listed, a store
/// sealed) never gets an empty key file made for it: that would mint a new
/// store key and lose every stored payment's body.
pub fn open_key_file(dir: &std::path::Path, passphrase: &str) -> Result<SealedKeys, VaultError> {
    let creating = !SealedKeys::path(dir).exists();
    if creating {
        let home = Home::at(dir);
        let has_accounts = !AccountIndex::load(&home)?.accounts().is_empty();
        if has_accounts || home.store_file().exists() {
            return Err(VaultError::KeyFileMissing(
                SealedKeys::path(dir).display().to_string(),
            ));
        }
    }
    let keys = SealedKeys::unlock(dir, passphrase)?;
    if creating {
        let mut gate = Gate::load(dir, true)?;
        if gate.check(None) == Err(GateError::NoPassphraseSet) {
            gate.set_passphrase(passphrase)?;
        }
    }
    Ok(keys)
}

fn item_name(address: &Pubkey) -> String {
    format!("account/{address}")
}
