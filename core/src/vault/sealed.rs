//! The encrypted key file: the wallet's secrets in one file in the data
//! directory, for machines with no keychain (a kiosk till, a minimal window
//! manager), chosen explicitly with `keystore = "file"`.
//!
//! The file (`keys.sealed`, mode 600, replaced atomically) is JSON:
//! Argon2id's parameters and salt, an XChaCha20-Poly1305 nonce and the
//! ciphertext of the secrets (name → hex) under a key Argon2id derives from
//! the app passphrase; its header is bound as associated data. A wrong
//! passphrase fails the authentication tag and unlocks nothing. Unlocked
//! secrets live in memory wiped on drop (docs/vault.md, "The key file").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{GateError, VaultError};

/// The file's name in the data directory.
pub const FILE: &str = "keys.sealed";
const VERSION: u8 = 1;
use super::gate::{LANES, MEMORY_KIB, MIN_LEN, PASSES};

/// The Argon2id costs a key file may ask for, checked before any is spent:
/// a tampered file must not make unlocking exhaust memory or time.
const MEMORY_KIB_RANGE: std::ops::RangeInclusive<u32> = MEMORY_KIB..=1024 * 1024;
const PASSES_RANGE: std::ops::RangeInclusive<u32> = PASSES..=10;
const LANES_RANGE: std::ops::RangeInclusive<u32> = LANES..=8;

/// What the file holds, as written.
#[derive(Debug, Serialize, Deserialize)]
struct Sealed {
    version: u8,
    kdf: Kdf,
    /// Hex, 24 bytes.
    nonce: String,
    /// Hex: the secrets' JSON, encrypted, with the 16-byte tag.
    ciphertext: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kdf {
    algorithm: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    /// Hex, 16 bytes.
    salt: String,
}

impl Kdf {
    fn fresh() -> Result<Self, VaultError> {
        Ok(Kdf {
            algorithm: "argon2id".into(),
            memory_kib: MEMORY_KIB,
            passes: PASSES,
            lanes: LANES,
            salt: hex::encode(random::<16>()?),
        })
    }

    /// The file key for `passphrase`.
    fn derive(&self, passphrase: &str, path: &Path) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let damaged = || VaultError::KeychainDamaged(path.display().to_string());
        let sane = self.algorithm == "argon2id"
            && MEMORY_KIB_RANGE.contains(&self.memory_kib)
            && PASSES_RANGE.contains(&self.passes)
            && LANES_RANGE.contains(&self.lanes);
        if !sane {
            return Err(damaged());
        }
        let salt = hex::decode(&self.salt)
            .ok()
            .filter(|s| s.len() == 16)
            .ok_or_else(damaged)?;
        let params = Params::new(self.memory_kib, self.passes, self.lanes, Some(32))
            .map_err(|_| damaged())?;
        let mut key = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &salt, &mut key[..])
            .map_err(|_| damaged())?;
        Ok(key)
    }

    /// The associated data: the header, so it cannot be swapped.
    fn aad(&self) -> Vec<u8> {
        format!(
            "TOSS key file v{VERSION}|{}|{}|{}|{}|{}",
            self.algorithm, self.memory_kib, self.passes, self.lanes, self.salt
        )
        .into_bytes()
    }
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(b)
}

struct Open {
    path: PathBuf,
    kdf: Kdf,
    key: Zeroizing<[u8; 32]>,
}

/// The secrets as one file holds them.
type Secrets = BTreeMap<String, Zeroizing<Vec<u8>>>;

/// The key file, unlocked: the key derived from the passphrase is held in
/// memory wiped on drop; the secrets are read from the file at each use, so
/// another process (the CLI beside the app) never has its changes undone.
#[derive(Clone)]
pub struct SealedKeys(Arc<Mutex<Open>>);

/// Names the file, never what it holds.
impl std::fmt::Debug for SealedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedKeys").finish_non_exhaustive()
    }
}

impl SealedKeys {
    /// The key file of the data directory `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(FILE)
    }

    /// Opens the key file in `dir` with `passphrase`, or creates an empty
    /// one sealed with it. A wrong passphrase is refused and unlocks
    /// nothing.
    pub fn unlock(dir: &Path, passphrase: &str) -> Result<Self, VaultError> {
        let path = Self::path(dir);
        let _writer = lock(&path)?;
        let open = match std::fs::read(&path) {
            Ok(bytes) => {
                let sealed = parse(&path, &bytes)?;
                let key = sealed.kdf.derive(passphrase, &path)?;
                decrypt(&path, &sealed, &key)?;
                Open {
                    path,
                    kdf: sealed.kdf,
                    key,
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if passphrase.chars().count() < MIN_LEN {
                    return Err(GateError::TooShort(MIN_LEN).into());
                }
                let kdf = Kdf::fresh()?;
                let open = Open {
                    key: kdf.derive(passphrase, &path)?,
                    kdf,
                    path,
                };
                write(&open, &Secrets::new())?;
                open
            }
            Err(e) => return Err(io(&path, e)),
        };
        Ok(SealedKeys(Arc::new(Mutex::new(open))))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Open) -> Result<T, VaultError>) -> Result<T, VaultError> {
        match self.0.lock() {
            Ok(mut open) => f(&mut open),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// The secret kept as `name`, read from the file now; `NotInKeychain` if absent.
    pub fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.with(|o| {
            read(o)?
                .remove(name)
                .ok_or_else(|| VaultError::NotInKeychain(name.to_owned()))
        })
    }

    /// Keeps `secret` as `name`, on disk before this returns.
    pub fn put(&self, name: &str, secret: &[u8]) -> Result<(), VaultError> {
        self.change(|secrets| {
            secrets.insert(name.to_owned(), Zeroizing::new(secret.to_vec()));
            Ok(())
        })
    }

    /// Removes the secret `name` from the file; `NotInKeychain` if it was not there.
    pub fn delete(&self, name: &str) -> Result<(), VaultError> {
        self.change(|secrets| match secrets.remove(name) {
            Some(_) => Ok(()),
            None => Err(VaultError::NotInKeychain(name.to_owned())),
        })
    }

    /// Reads, changes and writes the file back, with every other writer
    /// (in this process or another) kept out meanwhile.
    fn change(
        &self,
        f: impl FnOnce(&mut Secrets) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        self.with(|o| {
            let _writer = lock(&o.path)?;
            let mut secrets = read(o)?;
            f(&mut secrets)?;
            write(o, &secrets)
        })
    }

    /// Whether the file is still sealed with the key unlocked here (not
    /// sealed again with another passphrase since, nor gone).
    pub fn is_current(&self) -> bool {
        self.with(|o| {
            let bytes = std::fs::read(&o.path).map_err(|e| io(&o.path, e))?;
            Ok(parse(&o.path, &bytes)?.kdf.salt == o.kdf.salt)
        })
        .unwrap_or(false)
    }

    /// Seals the file again under `passphrase` (a new salt, a new key).
    pub fn change_passphrase(&self, passphrase: &str) -> Result<(), VaultError> {
        if passphrase.chars().count() < MIN_LEN {
            return Err(GateError::TooShort(MIN_LEN).into());
        }
        self.with(|o| {
            let _writer = lock(&o.path)?;
            let secrets = read(o)?;
            let kdf = Kdf::fresh()?;
            let renewed = Open {
                path: o.path.clone(),
                key: kdf.derive(passphrase, &o.path)?,
                kdf,
            };
            write(&renewed, &secrets)?;
            *o = renewed;
            Ok(())
        })
    }
}

/// Holds the writers' lock beside the file (`keys.sealed.lock`) until
/// dropped: one read-change-write at a time, across processes.
fn lock(path: &Path) -> Result<std::fs::File, VaultError> {
    let lock_path = path.with_extension("sealed.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| io(&lock_path, e))?;
    file.lock().map_err(|e| io(&lock_path, e))?;
    Ok(file)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Sealed, VaultError> {
    let damaged = || VaultError::KeychainDamaged(path.display().to_string());
    let sealed: Sealed = serde_json::from_slice(bytes).map_err(|_| damaged())?;
    match sealed.version {
        VERSION => Ok(sealed),
        _ => Err(damaged()),
    }
}

/// The secrets in `sealed`, opened with `key`; a wrong key opens nothing.
fn decrypt(path: &Path, sealed: &Sealed, key: &[u8; 32]) -> Result<Secrets, VaultError> {
    let damaged = || VaultError::KeychainDamaged(path.display().to_string());
    let nonce: [u8; 24] = hex::decode(&sealed.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(damaged)?;
    let ciphertext = hex::decode(&sealed.ciphertext).map_err(|_| damaged())?;
    let plain = Zeroizing::new(
        XChaCha20Poly1305::new(key.into())
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &sealed.kdf.aad(),
                },
            )
            .map_err(|_| VaultError::Gate(GateError::WrongPassphrase))?,
    );
    let listed: BTreeMap<String, String> = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    let mut secrets = Secrets::new();
    for (name, value) in listed {
        let value = Zeroizing::new(value);
        let bytes = hex::decode(value.as_str()).map_err(|_| damaged())?;
        secrets.insert(name, Zeroizing::new(bytes));
    }
    Ok(secrets)
}

/// What the file holds now, opened with the key unlocked earlier. Sealed
/// since with another passphrase (by another process), it must be
/// unlocked again.
fn read(open: &Open) -> Result<Secrets, VaultError> {
    let bytes = std::fs::read(&open.path).map_err(|e| io(&open.path, e))?;
    let sealed = parse(&open.path, &bytes)?;
    if sealed.kdf.salt != open.kdf.salt {
        return Err(VaultError::KeyFileLocked);
    }
    decrypt(&open.path, &sealed, &open.key)
}

fn io(path: &Path, e: std::io::Error) -> VaultError {
    VaultError::Keychain(format!("{}: {e}", path.display()))
}

/// Seals `secrets` with `open`'s key and a fresh nonce and replaces the file.
fn write(open: &Open, secrets: &Secrets) -> Result<(), VaultError> {
    // The secrets' JSON, built in memory that is wiped on drop.
    let mut plain = Zeroizing::new(String::from("{"));
    for (i, (name, secret)) in secrets.iter().enumerate() {
        if i > 0 {
            plain.push(',');
        }
        let name = serde_json::to_string(name).map_err(|e| VaultError::Keychain(e.to_string()))?;
        plain.push_str(&name);
        plain.push_str(":\"");
        plain.push_str(&Zeroizing::new(hex::encode(secret.as_slice())));
        plain.push('"');
    }
    plain.push('}');
    let nonce = random::<24>()?;
    let ciphertext = XChaCha20Poly1305::new((&*open.key).into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain.as_bytes(),
                aad: &open.kdf.aad(),
            },
        )
        .map_err(|_| VaultError::Keychain("the key file could not be sealed".into()))?;
    let sealed = Sealed {
        version: VERSION,
        kdf: open.kdf.clone(),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    };
    let bytes =
        serde_json::to_vec_pretty(&sealed).map_err(|e| VaultError::Keychain(e.to_string()))?;
    crate::fsutil::write_private(&open.path, &bytes).map_err(|e| io(&open.path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [0x5a; 32];

    #[test]
    fn secrets_survive_a_reopen_and_a_wrong_passphrase_unlocks_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            SealedKeys::unlock(dir.path(), "short"),
            Err(VaultError::Gate(GateError::TooShort(8)))
        ));
        let keys = SealedKeys::unlock(dir.path(), "till passphrase").unwrap();
        keys.put("wallet/account/A", &SECRET).unwrap();
        keys.put("wallet/secret/store", &[7; 32]).unwrap();
        keys.delete("wallet/secret/store").unwrap();
        drop(keys);

        // A restart: the same passphrase opens what was kept.
        let again = SealedKeys::unlock(dir.path(), "till passphrase").unwrap();
        assert_eq!(again.get("wallet/account/A").unwrap().as_slice(), SECRET);
        assert_eq!(
            again.get("wallet/secret/store").unwrap_err(),
            VaultError::NotInKeychain("wallet/secret/store".into())
        );
        assert_eq!(
            SealedKeys::unlock(dir.path(), "till passphrasf").unwrap_err(),
            VaultError::Gate(GateError::WrongPassphrase)
        );

        // On disk: no secret, no passphrase, mode 600.
        let path = SealedKeys::path(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!bytes.windows(32).any(|w| w == SECRET));
        assert!(!text.contains(&hex::encode(SECRET)));
        assert!(!text.contains("till passphrase"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // A new passphrase: the old one no longer opens it.
        again.change_passphrase("a longer till passphrase").unwrap();
        assert!(SealedKeys::unlock(dir.path(), "till passphrase").is_err());
        let renewed = SealedKeys::unlock(dir.path(), "a longer till passphrase").unwrap();
        assert_eq!(renewed.get("wallet/account/A").unwrap().as_slice(), SECRET);
    }

    #[test]
    fn two_processes_unlocked_at_once_never_undo_each_others_changes() {
        // The app and the CLI, each with the file unlocked: what one keeps
        // the other reads, and neither's write drops the other's secret.
        let dir = tempfile::tempdir().unwrap();
        let app = SealedKeys::unlock(dir.path(), "till passphrase").unwrap();
        let cli = SealedKeys::unlock(dir.path(), "till passphrase").unwrap();
        cli.put("wallet/account/B", &[2; 32]).unwrap();
        app.put("wallet/account/A", &SECRET).unwrap();
        assert_eq!(app.get("wallet/account/B").unwrap().as_slice(), [2; 32]);
        assert_eq!(cli.get("wallet/account/A").unwrap().as_slice(), SECRET);
        // Sealed again elsewhere with a new passphrase: this copy must be
        // unlocked again, and writes nothing meanwhile.
        assert!(app.is_current());
        cli.change_passphrase("a longer till passphrase").unwrap();
        assert!(
            !app.is_current(),
            "the app must ask for the passphrase again"
        );
        assert_eq!(app.get("wallet/account/A"), Err(VaultError::KeyFileLocked));
        assert_eq!(app.put("x", &[1]), Err(VaultError::KeyFileLocked));
        assert_eq!(cli.get("wallet/account/A").unwrap().as_slice(), SECRET);
    }

    #[test]
    fn a_tampered_file_is_refused_not_half_read() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SealedKeys::unlock(dir.path(), "till passphrase").unwrap();
        keys.put("a", &SECRET).unwrap();
        let path = SealedKeys::path(dir.path());
        let sealed: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let tampered = |field: &str, value: u32| {
            let mut changed = sealed.clone();
            changed["kdf"][field] = value.into();
            std::fs::write(&path, serde_json::to_vec(&changed).unwrap()).unwrap();
            SealedKeys::unlock(dir.path(), "till passphrase").unwrap_err()
        };
        // The header is bound to the ciphertext: other costs open nothing.
        assert_eq!(
            tampered("passes", 3),
            VaultError::Gate(GateError::WrongPassphrase)
        );
        // Costs below the floor or past the ceiling are refused before any
        // is spent (4 TiB of memory would abort the process, 2^32 passes hang it).
        for (field, value) in [
            ("passes", 1),
            ("passes", u32::MAX),
            ("memory_kib", u32::MAX),
            ("lanes", 0),
        ] {
            assert!(
                matches!(tampered(field, value), VaultError::KeychainDamaged(_)),
                "{field} = {value}"
            );
        }
        std::fs::write(&path, b"{ not json").unwrap();
        assert!(matches!(
            SealedKeys::unlock(dir.path(), "till passphrase"),
            Err(VaultError::KeychainDamaged(_))
        ));
    }
}
