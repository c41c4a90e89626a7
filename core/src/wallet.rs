//! The public side of the wallet: which accounts exist.
//!
//! Secret keys live only in the vault (the OS keychain, or the encrypted
//! key file). This index holds what is safe to keep in the clear — the wallet's id (which names its
//! keychain items), and a label, address and origin for each account — so the
//! app can say whether a wallet exists, and show addresses, without touching
//! the keychain or asking the user to unlock it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use solana_program::pubkey::Pubkey;

use crate::address::Address;
use crate::home::Home;

/// Where an account's key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySource {
    /// Derived from a recovery phrase at `m/44'/501'/0'/0'`.
    Phrase,
    /// Imported from a Solana CLI keypair file.
    KeypairFile,
}

/// One account as listed in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// The name the user gave it, 1 to 64 characters.
    pub label: String,
    /// Its public key.
    pub address: Address,
    /// Where its key came from.
    pub source: KeySource,
}

impl Account {
    /// The address as a Solana `Pubkey`.
    pub fn pubkey(&self) -> Pubkey {
        self.address.into()
    }
}

/// What the app shows before anything is unlocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalletStatus {
    /// Whether the wallet has at least one account.
    pub exists: bool,
    /// Its accounts, in the order they were added.
    pub accounts: Vec<Account>,
}

/// Why the account index could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The index file exists but could not be read.
    #[error("cannot read the account list {}: {source}", path.display())]
    Read {
        /// The index file (`accounts.json`).
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },
    /// The index file could not be written.
    #[error("cannot save the account list {}: {source}", path.display())]
    Write {
        /// The index file (`accounts.json`).
        path: PathBuf,
        /// Why writing it failed.
        source: std::io::Error,
    },
    /// The index file does not parse, has an unknown version or a bad id or address.
    #[error("the account list {} is damaged ({message}); restore it from a backup or re-import the wallet", path.display())]
    Damaged {
        /// The index file (`accounts.json`).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A label empty or over 64 characters once trimmed.
    #[error("an account label must be 1 to 64 characters")]
    BadLabel,
    /// The OS random source failed while making a wallet id.
    #[error("no secure random numbers: {0}")]
    Random(String),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    version: u32,
    wallet_id: String,
    accounts: Vec<IndexEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexEntry {
    label: String,
    address: String,
    source: KeySource,
}

const INDEX_VERSION: u32 = 1;

/// The account list of one wallet (one data directory).
#[derive(Debug)]
pub struct AccountIndex {
    path: PathBuf,
    wallet_id: String,
    accounts: Vec<Account>,
}

impl AccountIndex {
    /// Reads the index; with none yet, an empty one with a fresh wallet id
    /// (written with the first account).
    pub fn load(home: &Home) -> Result<Self, WalletError> {
        let path = home.root().join("accounts.json");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut id = [0u8; 16];
                getrandom::fill(&mut id).map_err(|e| WalletError::Random(e.to_string()))?;
                return Ok(Self {
                    path,
                    wallet_id: hex::encode(id),
                    accounts: Vec::new(),
                });
            }
            Err(source) => return Err(WalletError::Read { path, source }),
        };
        let damaged = |message: String| WalletError::Damaged {
            path: path.clone(),
            message,
        };
        let file: IndexFile = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
        if file.version != INDEX_VERSION {
            return Err(damaged(format!(
                "version {} is not one this build reads ({INDEX_VERSION})",
                file.version
            )));
        }
        if file.wallet_id.len() != 32 || !file.wallet_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(damaged("the wallet id is not 32 hex digits".into()));
        }
        let accounts = file
            .accounts
            .into_iter()
            .map(|e| {
                let address = e
                    .address
                    .parse()
                    .map_err(|err| damaged(format!("account {:?}: address {err}", e.label)))?;
                Ok(Account {
                    label: e.label,
                    address,
                    source: e.source,
                })
            })
            .collect::<Result<Vec<_>, WalletError>>()?;
        Ok(Self {
            path,
            wallet_id: file.wallet_id,
            accounts,
        })
    }

    /// The 32-hex-digit id that names this wallet's keychain items.
    pub fn wallet_id(&self) -> &str {
        &self.wallet_id
    }

    /// The accounts, in the order they were added.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// Whether the wallet exists, and its accounts.
    pub fn status(&self) -> WalletStatus {
        WalletStatus {
            exists: !self.accounts.is_empty(),
            accounts: self.accounts.clone(),
        }
    }

    /// The account with this address, if listed.
    pub fn find(&self, address: &Pubkey) -> Option<&Account> {
        self.accounts.iter().find(|a| a.pubkey() == *address)
    }

    /// Lists a new account and saves the index; nothing changes if saving fails.
    pub fn add(
        &mut self,
        label: &str,
        address: Pubkey,
        source: KeySource,
    ) -> Result<Account, WalletError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 64 {
            return Err(WalletError::BadLabel);
        }
        let account = Account {
            label: label.to_owned(),
            address: Address::new(address.to_bytes()),
            source,
        };
        self.accounts.push(account.clone());
        if let Err(e) = self.save() {
            self.accounts.pop();
            return Err(e);
        }
        Ok(account)
    }

    /// Unlists the account and saves the index; nothing changes if saving fails.
    pub fn remove(&mut self, address: &Pubkey) -> Result<(), WalletError> {
        let before = self.accounts.clone();
        self.accounts.retain(|a| a.pubkey() != *address);
        self.save().inspect_err(|_| self.accounts = before)
    }

    /// Writes the index if it was never written, so the wallet id that names
    /// keychain items outlives this process even before any account exists.
    pub fn ensure_saved(&self) -> Result<(), WalletError> {
        match self.path.try_exists() {
            Ok(true) => Ok(()),
            Ok(false) => self.save(),
            Err(source) => Err(WalletError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn save(&self) -> Result<(), WalletError> {
        let file = IndexFile {
            version: INDEX_VERSION,
            wallet_id: self.wallet_id.clone(),
            accounts: self
                .accounts
                .iter()
                .map(|a| IndexEntry {
                    label: a.label.clone(),
                    address: a.address.to_string(),
                    source: a.source,
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&file).map_err(|e| WalletError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        crate::fsutil::write_atomic(&self.path, &json).map_err(|source| WalletError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// Reads the account index; no file means no wallet yet.
pub fn status(home: &Home) -> Result<WalletStatus, WalletError> {
    Ok(AccountIndex::load(home)?.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "00112233445566778899aabbccddeeff";

    fn home_with(index: Option<&str>) -> (tempfile::TempDir, Home) {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::at(tmp.path());
        if let Some(text) = index {
            std::fs::write(home.root().join("accounts.json"), text).unwrap();
        }
        (tmp, home)
    }

    #[test]
    fn no_index_means_no_wallet_and_nothing_is_written() {
        let (_t, home) = home_with(None);
        let index = AccountIndex::load(&home).unwrap();
        assert_eq!(index.wallet_id().len(), 32);
        assert!(!index.status().exists);
        assert!(!home.root().join("accounts.json").exists());
    }

    #[test]
    fn accounts_are_added_saved_and_removed() {
        let (_t, home) = home_with(None);
        let mut index = AccountIndex::load(&home).unwrap();
        let id = index.wallet_id().to_owned();
        let a = Pubkey::new_unique();
        index.add("  Till 1 ", a, KeySource::Phrase).unwrap();
        assert!(matches!(
            index.add("", a, KeySource::Phrase),
            Err(WalletError::BadLabel)
        ));

        let again = AccountIndex::load(&home).unwrap();
        assert_eq!(again.wallet_id(), id, "the wallet id is kept");
        let s = again.status();
        assert!(s.exists);
        assert_eq!(s.accounts[0].label, "Till 1");
        assert_eq!(s.accounts[0].pubkey(), a);

        let mut again = again;
        again.remove(&a).unwrap();
        assert!(!status(&home).unwrap().exists);
    }

    #[test]
    fn damage_is_reported_not_hidden() {
        let ok_account =
            r#"{"label":"x","address":"11111111111111111111111111111111","source":"phrase"}"#;
        for (text, needle) in [
            ("{".to_owned(), "EOF"),
            (
                format!(r#"{{"version":2,"wallet_id":"{ID}","accounts":[]}}"#),
                "version 2",
            ),
            (
                r#"{"version":1,"wallet_id":"xyz","accounts":[]}"#.to_owned(),
                "wallet id",
            ),
            (
                format!(
                    r#"{{"version":1,"wallet_id":"{ID}","accounts":[{{"label":"x","address":"n0pe","source":"phrase"}}]}}"#
                ),
                "not base58",
            ),
            (
                format!(
                    r#"{{"version":1,"wallet_id":"{ID}","accounts":[{ok_account}],"secret":"x"}}"#
                ),
                "unknown field",
            ),
        ] {
            let (_t, home) = home_with(Some(&text));
            let err = AccountIndex::load(&home).unwrap_err();
            assert!(matches!(err, WalletError::Damaged { .. }), "{text}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn a_failed_save_leaves_the_list_as_it_was() {
        let (_t, home) = home_with(None);
        let mut index = AccountIndex::load(&home).unwrap();
        index
            .add("one", Pubkey::new_unique(), KeySource::Phrase)
            .unwrap();
        // A directory where the file goes: the replacing rename fails, even for root.
        let path = home.root().join("accounts.json");
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir_all(path.join("blocker")).unwrap();
        let result = index.add("two", Pubkey::new_unique(), KeySource::Phrase);
        assert!(
            matches!(result, Err(WalletError::Write { .. })),
            "{result:?}"
        );
        assert_eq!(index.accounts().len(), 1);
    }
}
