//! The public side of the wallet: which accounts exist.
//!
//! Secret keys live only in the OS keychain (the vault). This index holds what
//! is safe to keep in the clear (a label and the address of each account) so
//! the app can say whether a wallet exists, and show addresses, without
//! touching the keychain or asking the user to unlock it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::home::Home;

/// One account as listed in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub label: String,
    pub address: Address,
}

/// What the app shows before anything is unlocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalletStatus {
    pub exists: bool,
    pub accounts: Vec<Account>,
}

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("cannot read the account list {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the account list {} is damaged ({message}); restore it from a backup or re-import the wallet", path.display())]
    Damaged { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    version: u32,
    accounts: Vec<IndexEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexEntry {
    label: String,
    address: String,
}

const INDEX_VERSION: u32 = 1;

fn index_path(home: &Home) -> PathBuf {
    home.root().join("accounts.json")
}

/// Reads the account index; no file means no wallet yet.
pub fn status(home: &Home) -> Result<WalletStatus, WalletError> {
    let path = index_path(home);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(WalletStatus {
                exists: false,
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
            })
        })
        .collect::<Result<Vec<_>, WalletError>>()?;
    Ok(WalletStatus {
        exists: !accounts.is_empty(),
        accounts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home_with(index: Option<&str>) -> (tempfile::TempDir, Home) {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::at(tmp.path());
        if let Some(text) = index {
            std::fs::write(index_path(&home), text).unwrap();
        }
        (tmp, home)
    }

    #[test]
    fn no_index_means_no_wallet() {
        let (_t, home) = home_with(None);
        assert_eq!(
            status(&home).unwrap(),
            WalletStatus {
                exists: false,
                accounts: vec![]
            }
        );
    }

    #[test]
    fn an_index_with_an_account_is_a_wallet() {
        let (_t, home) = home_with(Some(
            r#"{"version":1,"accounts":[{"label":"Till 1","address":"11111111111111111111111111111111"}]}"#,
        ));
        let s = status(&home).unwrap();
        assert!(s.exists);
        assert_eq!(s.accounts[0].label, "Till 1");
        assert_eq!(s.accounts[0].address.to_bytes(), [0; 32]);
    }

    #[test]
    fn an_empty_index_is_no_wallet() {
        let (_t, home) = home_with(Some(r#"{"version":1,"accounts":[]}"#));
        assert!(!status(&home).unwrap().exists);
    }

    #[test]
    fn damage_is_reported_not_hidden() {
        for (text, needle) in [
            ("{", "EOF"),
            (r#"{"version":2,"accounts":[]}"#, "version 2"),
            (
                r#"{"version":1,"accounts":[{"label":"x","address":"n0pe"}]}"#,
                "not base58",
            ),
            (
                r#"{"version":1,"accounts":[],"secret":"x"}"#,
                "unknown field",
            ),
        ] {
            let (_t, home) = home_with(Some(text));
            let err = status(&home).unwrap_err();
            assert!(matches!(err, WalletError::Damaged { .. }), "{text}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }
}
