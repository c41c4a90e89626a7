//! Secrets in the operating system's keychain, or in the encrypted key file.
//!
//! Every secret TOSS keeps (wallet keys, the Noise static key, the store's
//! encryption key) goes through here and nowhere else: the Secret Service on
//! Linux (gnome-keyring, KWallet), the login Keychain on macOS, Credential
//! Manager on Windows, or where the user chose it, the key file sealed with
//! the app passphrase (`sealed`). Items are named `org.toss.desktop` /
//! `<wallet id>/<name>` so several wallets (data directories) on one machine
//! never collide.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyring_core::api::CredentialStore;
use zeroize::Zeroizing;

use super::VaultError;
use super::sealed::SealedKeys;
pub use crate::config::KeyStorage;

const SERVICE: &str = "org.toss.desktop";
/// A keychain call that takes longer than this is treated as stuck (a locked
/// keyring waiting on a prompt nobody sees, a dead daemon), so the app can
/// say so instead of hanging.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A connection to the keychain (or the encrypted key file), scoped to one
/// wallet.
#[derive(Clone)]
pub struct Keystore {
    backend: Backend,
    wallet_id: String,
    kind: KeyStorage,
}

#[derive(Clone)]
enum Backend {
    Os(Arc<CredentialStore>),
    File(Arc<KeyFileSlot>),
}

/// Asks the person at the keyboard for the app passphrase, when the key
/// file must be unlocked and nothing unlocked it yet (the CLI reads it from
/// its input); `None`: they gave none.
pub type AskPassphrase = Arc<dyn Fn() -> Option<Zeroizing<String>> + Send + Sync>;

/// How the encrypted key file gets unlocked, when it is the storage: already
/// (the app unlocked it once for its session), on first use by asking, or
/// not at all (every secret is refused with "locked").
#[derive(Clone, Default)]
pub struct Unlock {
    /// The key file already unlocked this session, if any.
    pub keys: Option<SealedKeys>,
    /// How to ask for the passphrase on first use; `None`: never ask.
    pub ask: Option<AskPassphrase>,
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unlock")
            .field("unlocked", &self.keys.is_some())
            .field("asks", &self.ask.is_some())
            .finish()
    }
}

/// The key file, as unlocked so far.
struct KeyFileSlot {
    dir: PathBuf,
    keys: Mutex<Option<SealedKeys>>,
    ask: Option<AskPassphrase>,
}

impl KeyFileSlot {
    fn keys(&self) -> Result<SealedKeys, VaultError> {
        let mut slot = match self.keys.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(keys) = slot.as_ref() {
            return Ok(keys.clone());
        }
        let passphrase = self
            .ask
            .as_ref()
            .and_then(|ask| ask())
            .ok_or(VaultError::KeyFileLocked)?;
        let keys = super::open_key_file(&self.dir, &passphrase)?;
        *slot = Some(keys.clone());
        Ok(keys)
    }
}

impl std::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keystore")
            .field("wallet_id", &self.wallet_id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Keystore {
    /// The keys of wallet `wallet_id` in `kind` (the encrypted key file in
    /// the data directory `dir`, unlocked as `unlock` says).
    pub fn open(
        kind: KeyStorage,
        dir: &Path,
        wallet_id: &str,
        unlock: Unlock,
    ) -> Result<Self, VaultError> {
        let backend = match kind {
            KeyStorage::EncryptedFile => Backend::File(Arc::new(KeyFileSlot {
                dir: dir.to_owned(),
                keys: Mutex::new(unlock.keys),
                ask: unlock.ask,
            })),
            _ => Backend::Os(platform_store(kind).map_err(|e| diagnose(kind, e))?),
        };
        Ok(Self {
            backend,
            wallet_id: wallet_id.to_owned(),
            kind,
        })
    }

    /// Where these keys are kept.
    pub fn kind(&self) -> KeyStorage {
        self.kind
    }

    /// Stores `secret` as `name` in this wallet's keys, replacing any previous one.
    pub fn put(&self, name: &str, secret: &[u8]) -> Result<(), VaultError> {
        if let Backend::File(slot) = &self.backend {
            return slot.keys()?.put(&self.user(name), secret);
        }
        let secret = Zeroizing::new(secret.to_vec());
        self.call(name, move |e| e.set_secret(&secret))
    }

    /// The secret kept as `name`; `NotInKeychain` if there is none.
    pub fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if let Backend::File(slot) = &self.backend {
            return slot
                .keys()?
                .get(&self.user(name))
                .map_err(|e| named(e, name));
        }
        self.call(name, |e| e.get_secret().map(Zeroizing::new))
    }

    /// Removes the secret `name`; `NotInKeychain` if there is none.
    pub fn delete(&self, name: &str) -> Result<(), VaultError> {
        if let Backend::File(slot) = &self.backend {
            return slot
                .keys()?
                .delete(&self.user(name))
                .map_err(|e| named(e, name));
        }
        self.call(name, |e| e.delete_credential())
    }

    /// The item's name within this wallet.
    fn user(&self, name: &str) -> String {
        format!("{}/{name}", self.wallet_id)
    }

    /// Runs one keychain operation on a helper thread with a deadline.
    fn call<T: Send + 'static>(
        &self,
        name: &str,
        op: impl FnOnce(&keyring_core::Entry) -> keyring_core::Result<T> + Send + 'static,
    ) -> Result<T, VaultError> {
        let Backend::Os(store) = &self.backend else {
            return Err(VaultError::KeyFileLocked);
        };
        let store = Arc::clone(store);
        let user = self.user(name);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let result = store.build(SERVICE, &user, None).and_then(|e| op(&e));
            // The receiver is gone only if the caller already timed out.
            let _ = tx.send(result);
        });
        match rx.recv_timeout(CALL_TIMEOUT) {
            Ok(result) => result.map_err(|e| diagnose(self.kind, map_error(name, e))),
            Err(_) => Err(diagnose(self.kind, VaultError::KeychainTimeout)),
        }
    }
}

/// A key file's "no such item" under the item's name in this wallet; every
/// other failure (locked, damaged, unreadable) as it is, so none of them
/// passes for a missing item that may be created afresh.
fn named(e: VaultError, name: &str) -> VaultError {
    match e {
        VaultError::NotInKeychain(_) => VaultError::NotInKeychain(name.to_owned()),
        other => other,
    }
}

/// Translates keychain errors without ever carrying secret bytes: some
/// variants hold the stored data, which must not reach a log or a screen.
fn map_error(name: &str, e: keyring_core::Error) -> VaultError {
    use keyring_core::Error as E;
    match e {
        E::NoEntry => VaultError::NotInKeychain(name.to_owned()),
        E::NoStorageAccess(inner) => VaultError::KeychainLocked(inner.to_string()),
        E::PlatformFailure(inner) => VaultError::Keychain(inner.to_string()),
        E::BadEncoding(_) | E::BadDataFormat(..) => VaultError::KeychainDamaged(name.to_owned()),
        other => VaultError::Keychain(describe(&other)),
    }
}

/// A description of errors that carry no stored data.
fn describe(e: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match e {
        E::TooLong(what, limit) => format!("{what} is longer than the keychain allows ({limit})"),
        E::Invalid(what, why) => format!("{what}: {why}"),
        E::Ambiguous(_) => "several keychain items match".to_owned(),
        E::NotSupportedByStore(what) => format!("not supported by this keychain: {what}"),
        _ => "keychain error".to_owned(),
    }
}

/// A keychain failure told as what is actually wrong. The Secret Service
/// answers "locked" or "no result" both when a keyring is locked and when
/// there is no keyring at all, so on Linux the session bus is asked which
/// it is: no bus, a bus with no Secret Service on it, or a locked one.
fn diagnose(kind: KeyStorage, e: VaultError) -> VaultError {
    match (kind, &e) {
        (
            KeyStorage::SecretService,
            VaultError::KeychainLocked(_)
            | VaultError::Keychain(_)
            | VaultError::KeychainUnavailable(_)
            | VaultError::KeychainTimeout,
        ) => secret_service::absent().unwrap_or(e),
        _ => e,
    }
}

#[cfg(target_os = "linux")]
mod secret_service {
    use std::time::Duration;

    use dbus::blocking::Connection;

    use super::VaultError;

    const NAME: &str = "org.freedesktop.secrets";

    /// Why no Secret Service can answer, when none can: no session bus,
    /// or nothing on it provides the Secret Service (running or
    /// activatable). `None` when one is there (it is locked, then).
    pub fn absent() -> Option<VaultError> {
        let conn = match Connection::new_session() {
            Ok(c) => c,
            Err(e) => {
                return Some(VaultError::NoSessionBus(
                    e.message().unwrap_or("no address").to_owned(),
                ));
            }
        };
        let bus = conn.with_proxy(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            Duration::from_secs(5),
        );
        let (running,): (bool,) = bus
            .method_call("org.freedesktop.DBus", "NameHasOwner", (NAME,))
            .ok()?;
        if running {
            return None;
        }
        let (activatable,): (Vec<String>,) = bus
            .method_call("org.freedesktop.DBus", "ListActivatableNames", ())
            .ok()?;
        match activatable.iter().any(|n| n == NAME) {
            true => None,
            false => Some(VaultError::NoSecretService),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod secret_service {
    use super::VaultError;

    pub fn absent() -> Option<VaultError> {
        None
    }
}

#[cfg(target_os = "linux")]
fn platform_store(kind: KeyStorage) -> Result<Arc<CredentialStore>, VaultError> {
    let unavailable = |e: keyring_core::Error| VaultError::KeychainUnavailable(e.to_string());
    match kind {
        KeyStorage::KernelKeyring => {
            let s: Arc<CredentialStore> =
                linux_keyutils_keyring_store::Store::new().map_err(unavailable)?;
            Ok(s)
        }
        _ => {
            let s: Arc<CredentialStore> =
                dbus_secret_service_keyring_store::Store::new().map_err(unavailable)?;
            Ok(s)
        }
    }
}

#[cfg(target_os = "macos")]
fn platform_store(_kind: KeyStorage) -> Result<Arc<CredentialStore>, VaultError> {
    let s: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| VaultError::KeychainUnavailable(e.to_string()))?;
    Ok(s)
}

#[cfg(target_os = "windows")]
fn platform_store(_kind: KeyStorage) -> Result<Arc<CredentialStore>, VaultError> {
    let s: Arc<CredentialStore> = windows_native_keyring_store::Store::new()
        .map_err(|e| VaultError::KeychainUnavailable(e.to_string()))?;
    Ok(s)
}
