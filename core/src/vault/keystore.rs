//! Secrets in the operating system's keychain.
//!
//! Every secret TOSS keeps (wallet keys, the Noise static key, the store's
//! encryption key) goes through here and nowhere else: the Secret Service on
//! Linux (gnome-keyring, KWallet), the login Keychain on macOS, Credential
//! Manager on Windows. Items are named `org.toss.desktop` / `<wallet id>/<name>`
//! so several wallets (data directories) on one machine never collide.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use keyring_core::api::CredentialStore;
use zeroize::Zeroizing;

use super::VaultError;

const SERVICE: &str = "org.toss.desktop";
/// A keychain call that takes longer than this is treated as stuck (a locked
/// keyring waiting on a prompt nobody sees, a dead daemon), so the app can
/// say so instead of hanging.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// The variable that picks another store on Linux: `keyutils` keeps secrets
/// in the kernel's session keyring (headless servers; lost at logout).
pub const STORE_VAR: &str = "TOSS_KEYSTORE";

/// A connection to the keychain, scoped to one wallet.
#[derive(Clone)]
pub struct Keystore {
    store: Arc<CredentialStore>,
    wallet_id: String,
    kind: KeyStorage,
}

/// Where the keys are kept, as the settings screen and `toss status` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyStorage {
    /// The desktop's Secret Service (gnome-keyring, KWallet, KeePassXC).
    SecretService,
    /// The kernel's session keyring: gone at logout and at reboot.
    KernelKeyring,
    /// The macOS login Keychain.
    Keychain,
    /// Windows Credential Manager.
    CredentialManager,
}

impl KeyStorage {
    /// The storage `TOSS_KEYSTORE` chooses on this system (the platform's
    /// keychain when unset), or why the choice is not known.
    pub fn chosen() -> Result<Self, VaultError> {
        let choice = std::env::var(STORE_VAR).unwrap_or_default();
        match (choice.as_str(), std::env::consts::OS) {
            ("" | "secret-service", "linux") => Ok(KeyStorage::SecretService),
            ("keyutils", "linux") => Ok(KeyStorage::KernelKeyring),
            ("", "macos") => Ok(KeyStorage::Keychain),
            ("", "windows") => Ok(KeyStorage::CredentialManager),
            (other, _) => Err(VaultError::KeychainUnavailable(format!(
                "{STORE_VAR}={other:?} is not known here; on Linux use secret-service or keyutils, elsewhere leave it unset"
            ))),
        }
    }

    /// What it is, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            KeyStorage::SecretService => "the desktop keyring (Secret Service)",
            KeyStorage::KernelKeyring => "the kernel keyring (keyutils)",
            KeyStorage::Keychain => "the macOS Keychain",
            KeyStorage::CredentialManager => "Windows Credential Manager",
        }
    }

    /// What a user must know before trusting it with keys, if anything.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            KeyStorage::KernelKeyring => Some(
                "the kernel keyring forgets every key at logout and at reboot: keep the recovery phrase, or the wallet is lost with them",
            ),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keystore")
            .field("wallet_id", &self.wallet_id)
            .finish_non_exhaustive()
    }
}

impl Keystore {
    /// The platform's keychain (or the one `TOSS_KEYSTORE` names).
    pub fn os_default(wallet_id: &str) -> Result<Self, VaultError> {
        let kind = KeyStorage::chosen()?;
        let store = platform_store(kind).map_err(|e| diagnose(kind, e))?;
        Ok(Self {
            store,
            wallet_id: wallet_id.to_owned(),
            kind,
        })
    }

    /// Where these keys are kept.
    pub fn kind(&self) -> KeyStorage {
        self.kind
    }

    pub fn put(&self, name: &str, secret: &[u8]) -> Result<(), VaultError> {
        let secret = Zeroizing::new(secret.to_vec());
        self.call(name, move |e| e.set_secret(&secret))
    }

    pub fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.call(name, |e| e.get_secret().map(Zeroizing::new))
    }

    pub fn delete(&self, name: &str) -> Result<(), VaultError> {
        self.call(name, |e| e.delete_credential())
    }

    /// Runs one keychain operation on a helper thread with a deadline.
    fn call<T: Send + 'static>(
        &self,
        name: &str,
        op: impl FnOnce(&keyring_core::Entry) -> keyring_core::Result<T> + Send + 'static,
    ) -> Result<T, VaultError> {
        let store = Arc::clone(&self.store);
        let user = format!("{}/{name}", self.wallet_id);
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
