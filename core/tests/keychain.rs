//! The vault against a real Secret Service: gnome-keyring-daemon on a private
//! D-Bus session bus that this test starts and stops, and the kernel keyring
//! (keyutils) in a private session. The checks that talk to the keychain run
//! in a child process of this test binary (the `child_*` tests, ignored in a
//! normal run), because the bus address is process-wide state.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use solana_program::pubkey::Pubkey;
use toss_core::home::Home;
use toss_core::vault::{Gate, RecoveryPhrase, Vault, VaultError, WordCount};

const PHRASE: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// m/44'/501'/0'/0' of PHRASE (docs/vectors/wallet-derivation.json).
const ADDRESS: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";

#[path = "support/secret_service.rs"]
mod secret_service;

#[path = "support/files.rs"]
mod files;

use files::{contains, every_file_under};
use secret_service::processes::PrivateBus;
use secret_service::{SecretService, run_with_deadline};

/// Runs `child_<name>` in a child process on the bus, with `home` as TOSS_HOME.
fn child(ss: &SecretService, name: &str, home: &Path) -> Output {
    let mut cmd = child_command(name, home);
    ss.env(&mut cmd);
    run_with_deadline(cmd, b"", Duration::from_secs(60))
}

fn child_command(name: &str, home: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("TOSS_HOME", home)
    .env("TOSS_CHILD", "1");
    cmd
}

fn assert_child_passed(out: &Output, what: &str) {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    assert!(text.contains("1 passed"), "{what} ran no test:\n{text}");
}

fn home() -> Home {
    Home::at(PathBuf::from(
        std::env::var("TOSS_HOME").expect("run by the parent test"),
    ))
}

#[test]
fn secret_service_keeps_keys_across_a_daemon_restart() {
    let mut ss = SecretService::start(true);
    let home = tempfile::tempdir().unwrap();
    assert_child_passed(&child(&ss, "child_store", home.path()), "storing");
    ss.stop_daemon();
    ss.start_daemon(true);
    assert_child_passed(&child(&ss, "child_read_back", home.path()), "reading back");
}

#[test]
fn a_locked_keyring_gives_a_clear_error_and_no_hang() {
    // Create the login keyring once, then restart the daemon without its password.
    let mut ss = SecretService::start(true);
    let home = tempfile::tempdir().unwrap();
    assert_child_passed(&child(&ss, "child_store", home.path()), "storing");
    ss.stop_daemon();
    ss.start_daemon(false);
    assert_child_passed(&child(&ss, "child_locked", home.path()), "locked keyring");
}

/// Runs `child_no_keyring` on the bus at `address`, expecting `expect`.
fn no_keyring(address: &str, expect: &str) {
    let home = tempfile::tempdir().unwrap();
    let run = tempfile::tempdir().unwrap();
    let mut cmd = child_command("child_no_keyring", home.path());
    cmd.env("DBUS_SESSION_BUS_ADDRESS", address)
        .env("XDG_RUNTIME_DIR", run.path())
        .env("TOSS_EXPECT", expect)
        .env_remove("DISPLAY")
        .env_remove("TOSS_KEYSTORE");
    let out = run_with_deadline(cmd, b"", Duration::from_secs(60));
    assert_child_passed(&out, expect);
}

#[test]
fn no_session_bus_is_said_plainly_not_called_a_lock() {
    no_keyring("unix:path=/nonexistent/toss-test-bus", "no-bus");
}

#[test]
fn a_desktop_without_a_secret_service_is_said_plainly_not_called_a_lock() {
    let dir = tempfile::tempdir().unwrap();
    let bus = PrivateBus::start_bare(dir.path());
    no_keyring(&bus.address, "no-service");
}

#[test]
fn the_kernel_keyring_works_as_a_store_for_headless_use() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("keyctl");
    cmd.args(["session", "-"])
        .arg(std::env::current_exe().unwrap());
    cmd.args(["child_keyutils", "--exact", "--ignored", "--nocapture"])
        .env("TOSS_HOME", home.path())
        .env("TOSS_CHILD", "1")
        .env("TOSS_KEYSTORE", "keyutils");
    let out = run_with_deadline(cmd, b"", Duration::from_secs(60));
    assert_child_passed(&out, "keyutils");
}

fn in_child() {
    assert_eq!(
        std::env::var("TOSS_CHILD").as_deref(),
        Ok("1"),
        "run by the parent test"
    );
}

#[test]
#[ignore = "run by secret_service_keeps_keys_across_a_daemon_restart"]
fn child_store() {
    in_child();
    let home = home();
    home.ensure().unwrap();
    let mut vault = Vault::open(&home).unwrap();
    let phrase = RecoveryPhrase::parse(PHRASE).unwrap();
    let account = vault.import_phrase("Till", &phrase, "").unwrap();
    assert_eq!(account.address.to_string(), ADDRESS);
    let (second, new_phrase) = vault.create("Savings", WordCount::TwentyFour).unwrap();
    assert_eq!(new_phrase.expose().split(' ').count(), 24);
    assert!(matches!(
        vault.import_phrase("Again", &phrase, ""),
        Err(VaultError::Duplicate(_))
    ));
    let gate = Gate::load(home.root(), false).unwrap();
    let key = vault.signing_key(&account.pubkey(), &gate, None).unwrap();
    let store_key = vault.service_secret("store").unwrap();
    assert_eq!(
        *vault.service_secret("store").unwrap(),
        *store_key,
        "created once"
    );

    // Nothing secret reached the data directory.
    for file in every_file_under(home.root())
        .iter()
        .map(|p| std::fs::read(p).unwrap())
    {
        assert!(!contains(&file, &key.to_bytes()));
        assert!(!contains(&file, &store_key[..]));
        assert!(!contains(&file, new_phrase.expose().as_bytes()));
        assert!(!contains(&file, PHRASE.as_bytes()));
    }
    // The second account is removed, key and all.
    vault.remove(&second.pubkey()).unwrap();
    assert!(matches!(
        vault.signing_key(&second.pubkey(), &gate, None),
        Err(VaultError::NoSuchAccount(_))
    ));
    // A wallet with no account yet keeps its store key across openings too.
    let empty = Home::at(home.root().join("empty"));
    empty.ensure().unwrap();
    let first = Vault::open(&empty)
        .unwrap()
        .service_secret("store")
        .unwrap();
    let again = Vault::open(&empty)
        .unwrap()
        .service_secret("store")
        .unwrap();
    assert_eq!(*first, *again);

    std::fs::write(
        home.root().join("store-key.sha"),
        hex::encode(solana_program::hash::hash(&store_key[..])),
    )
    .unwrap();
}

#[test]
#[ignore = "run by secret_service_keeps_keys_across_a_daemon_restart"]
fn child_read_back() {
    in_child();
    let home = home();
    let vault = Vault::open(&home).unwrap();
    assert_eq!(vault.accounts().len(), 1);
    let address: Pubkey = ADDRESS.parse().unwrap();
    let gate = Gate::load(home.root(), false).unwrap();
    let key = vault.signing_key(&address, &gate, None).unwrap();
    assert_eq!(key.verifying_key().to_bytes(), address.to_bytes());
    let store_key = vault.service_secret("store").unwrap();
    let expected = std::fs::read_to_string(home.root().join("store-key.sha")).unwrap();
    assert_eq!(
        hex::encode(solana_program::hash::hash(&store_key[..])),
        expected
    );

    // A required gate blocks the key until the passphrase is given.
    let mut gate = Gate::load(home.root(), true).unwrap();
    assert!(matches!(
        vault.signing_key(&address, &gate, Some("x")),
        Err(VaultError::Gate(_))
    ));
    gate.set_passphrase("till passphrase").unwrap();
    assert!(matches!(
        vault.signing_key(&address, &gate, Some("wrong one!")),
        Err(VaultError::Gate(_))
    ));
    assert!(
        vault
            .signing_key(&address, &gate, Some("till passphrase"))
            .is_ok()
    );
}

#[test]
#[ignore = "run by a_locked_keyring_gives_a_clear_error_and_no_hang"]
fn child_locked() {
    in_child();
    let home = home();
    let vault = Vault::open(&home).unwrap();
    let address: Pubkey = ADDRESS.parse().unwrap();
    let gate = Gate::load(home.root(), false).unwrap();
    let err = vault.signing_key(&address, &gate, None).unwrap_err();
    println!("locked keyring: {err}");
    assert!(
        matches!(
            err,
            VaultError::KeychainLocked(_) | VaultError::KeychainTimeout
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("lock"), "{err}");
}

#[test]
#[ignore = "run by the_kernel_keyring_works_as_a_store_for_headless_use"]
fn child_keyutils() {
    in_child();
    let home = home();
    home.ensure().unwrap();
    let mut vault = Vault::open(&home).unwrap();
    let phrase = RecoveryPhrase::parse(PHRASE).unwrap();
    let account = vault.import_phrase("Server", &phrase, "").unwrap();
    let gate = Gate::load(home.root(), false).unwrap();
    let key = vault.signing_key(&account.pubkey(), &gate, None).unwrap();
    assert_eq!(
        Pubkey::new_from_array(key.verifying_key().to_bytes()).to_string(),
        ADDRESS
    );
}

#[test]
#[ignore = "run by the no-keyring tests"]
fn child_no_keyring() {
    in_child();
    let home = home();
    home.ensure().unwrap();
    let err = Vault::open(&home)
        .and_then(|mut v| v.create("Till", WordCount::Twelve).map(drop))
        .unwrap_err();
    println!("no keyring: {err}");
    match std::env::var("TOSS_EXPECT").unwrap().as_str() {
        "no-bus" => assert!(matches!(err, VaultError::NoSessionBus(_)), "{err:?}"),
        _ => assert_eq!(err, VaultError::NoSecretService),
    }
    let text = err.to_string();
    assert!(!text.contains("keychain is locked"), "{text}");
    assert!(text.contains("gnome-keyring"), "what to install: {text}");
    // Nothing was half-created: no account is listed without its key.
    assert!(
        toss_core::wallet::AccountIndex::load(&home)
            .unwrap()
            .accounts()
            .is_empty()
    );
}
