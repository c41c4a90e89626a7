//! The encrypted key file as the wallet's storage, end to end through the
//! wallet session: keys and service secrets kept, a restart, a wrong
//! passphrase, a locked file, and nothing secret on disk in the clear. No
//! keychain is involved: this is the storage for machines without one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "support/files.rs"]
mod files;

use toss_core::config::{Config, KeyStorage};
use toss_core::home::Home;
use toss_core::session::{KeyUse, WalletSession};
use toss_core::vault::{GateError, RecoveryPhrase, SealedKeys, Unlock, VaultError};

const PHRASE: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const ADDRESS: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
const PASSPHRASE: &str = "till passphrase";

fn session(home: &Home, keys: Option<SealedKeys>) -> WalletSession {
    let config = Config::load(&home.settings_file()).unwrap();
    assert_eq!(config.keystore, KeyStorage::EncryptedFile);
    WalletSession::open_with(home.clone(), config, Unlock { keys, ask: None })
}

#[test]
fn the_key_file_keeps_the_wallet_across_a_restart_and_only_for_its_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let home = Home::at(tmp.path());
    home.ensure().unwrap();
    std::fs::write(home.settings_file(), "keystore = \"file\"\n").unwrap();

    // Locked: nothing secret can be reached, and nothing is half-written.
    let mut locked = session(&home, None);
    let phrase = RecoveryPhrase::parse(PHRASE).unwrap();
    let err = locked
        .vault_mut()
        .unwrap()
        .import_phrase("Till", &phrase, "")
        .unwrap_err();
    assert_eq!(err, VaultError::KeyFileLocked);
    assert!(locked.accounts().unwrap().is_empty());

    // Unlocked (created with the passphrase): an account, the store.
    let keys = SealedKeys::unlock(home.root(), PASSPHRASE).unwrap();
    let mut open = session(&home, Some(keys));
    let account = open
        .vault_mut()
        .unwrap()
        .import_phrase("Till", &phrase, "")
        .unwrap();
    assert_eq!(account.address.to_string(), ADDRESS);
    let key = open.first_key(KeyUse::Payment, None).unwrap();
    let mut store = open.store().unwrap();
    assert!(store.list().unwrap().is_empty());
    store
        .bump(toss_core::store::Counter::IntentsCreated, 1)
        .unwrap();
    drop((store, open));

    // Nothing secret in the clear anywhere in the data directory.
    for file in files::every_file_under(home.root())
        .iter()
        .map(|p| std::fs::read(p).unwrap())
    {
        let text = String::from_utf8_lossy(&file);
        assert!(!files::contains(&file, &key.to_bytes()));
        assert!(!text.contains(&hex::encode(key.to_bytes())));
        assert!(!text.contains(PHRASE) && !text.contains(PASSPHRASE));
    }

    // A restart: the right passphrase opens the same wallet and store.
    assert_eq!(
        SealedKeys::unlock(home.root(), "till passphrasf").unwrap_err(),
        VaultError::Gate(GateError::WrongPassphrase)
    );
    let again = session(
        &home,
        Some(SealedKeys::unlock(home.root(), PASSPHRASE).unwrap()),
    );
    let key_again = again.first_key(KeyUse::Payment, None).unwrap();
    assert_eq!(key_again.to_bytes(), key.to_bytes());
    assert_eq!(
        again.store().unwrap().metrics().unwrap().intents_created,
        1,
        "the store opened with the key kept in the file"
    );

    // Still locked without it: the account is listed, its key is not given.
    let locked = session(&home, None);
    assert_eq!(locked.accounts().unwrap().len(), 1);
    assert!(matches!(
        locked.first_key(KeyUse::Payment, None),
        Err(toss_core::session::SessionError::Vault(
            VaultError::KeyFileLocked
        ))
    ));
}

#[test]
fn no_empty_key_file_is_made_over_a_wallet_whose_keys_are_elsewhere() {
    // Accounts listed (their keys in the keychain, or in a key file that was
    // lost): unlocking must not create a fresh file and a fresh store key.
    let tmp = tempfile::tempdir().unwrap();
    let home = Home::at(tmp.path());
    home.ensure().unwrap();
    std::fs::write(
        tmp.path().join("accounts.json"),
        r#"{"version":1,"wallet_id":"00112233445566778899aabbccddeeff","accounts":[{"label":"Till","address":"HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk","source":"phrase"}]}"#,
    )
    .unwrap();
    let err = toss_core::vault::open_key_file(home.root(), PASSPHRASE).unwrap_err();
    assert!(matches!(err, VaultError::KeyFileMissing(_)), "{err:?}");
    assert!(
        err.to_string().contains("restore it from a backup"),
        "{err}"
    );
    assert!(!SealedKeys::path(home.root()).exists());
}
