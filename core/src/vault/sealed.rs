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
/// Shortest passphrase a key file is sealed with (the gate's rule).
const MIN_LEN: usize = 8;
/// Argon2id at OWASP's recommendation (19 MiB, 2 passes, 1 lane), as the
/// gate uses.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

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
        if self.algorithm != "argon2id" {
            return Err(damaged());
        }
        let salt = hex::decode(&self.salt).map_err(|_| damaged())?;
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
    secrets: BTreeMap<String, Zeroizing<Vec<u8>>>,
}

/// The key file, unlocked: shared by every user of the wallet in this
/// process (clones are the same file).
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
        let open = match std::fs::read(&path) {
            Ok(bytes) => Self::open(path, &bytes, passphrase)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if passphrase.chars().count() < MIN_LEN {
                    return Err(GateError::TooShort(MIN_LEN).into());
                }
                let kdf = Kdf::fresh()?;
                let open = Open {
                    key: kdf.derive(passphrase, &path)?,
                    kdf,
                    path,
                    secrets: BTreeMap::new(),
                };
                write(&open)?;
                open
            }
            Err(e) => return Err(io(&path, e)),
        };
        Ok(SealedKeys(Arc::new(Mutex::new(open))))
    }

    fn open(path: PathBuf, bytes: &[u8], passphrase: &str) -> Result<Open, VaultError> {
        let damaged = || VaultError::KeychainDamaged(path.display().to_string());
        let sealed: Sealed = serde_json::from_slice(bytes).map_err(|_| damaged())?;
        if sealed.version != VERSION {
            return Err(damaged());
        }
        let key = sealed.kdf.derive(passphrase, &path)?;
        let nonce: [u8; 24] = hex::decode(&sealed.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(damaged)?;
        let ciphertext = hex::decode(&sealed.ciphertext).map_err(|_| damaged())?;
        let plain = Zeroizing::new(
            XChaCha20Poly1305::new((&*key).into())
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &sealed.kdf.aad(),
                    },
                )
                .map_err(|_| VaultError::Gate(GateError::WrongPassphrase))?,
        );
        let listed: BTreeMap<String, String> =
            serde_json::from_slice(&plain).map_err(|_| damaged())?;
        let mut secrets = BTreeMap::new();
        for (name, value) in listed {
            let value = Zeroizing::new(value);
            let bytes = hex::decode(value.as_str()).map_err(|_| damaged())?;
            secrets.insert(name, Zeroizing::new(bytes));
        }
        Ok(Open {
            path,
            kdf: sealed.kdf,
            key,
            secrets,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Open) -> Result<T, VaultError>) -> Result<T, VaultError> {
        match self.0.lock() {
            Ok(mut open) => f(&mut open),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    pub fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.with(|o| {
            o.secrets
                .get(name)
                .cloned()
                .ok_or_else(|| VaultError::NotInKeychain(name.to_owned()))
        })
    }

    /// Keeps `secret` as `name`, on disk before this returns.
    pub fn put(&self, name: &str, secret: &[u8]) -> Result<(), VaultError> {
        self.with(|o| {
            let before = o
                .secrets
                .insert(name.to_owned(), Zeroizing::new(secret.to_vec()));
            write(o).inspect_err(|_| {
                // Memory stays what the disk holds.
                match &before {
                    Some(b) => o.secrets.insert(name.to_owned(), b.clone()),
                    None => o.secrets.remove(name),
                };
            })
        })
    }

    pub fn delete(&self, name: &str) -> Result<(), VaultError> {
        self.with(|o| match o.secrets.remove(name) {
            Some(_) => write(o),
            None => Err(VaultError::NotInKeychain(name.to_owned())),
        })
    }

    /// Seals the file again under `passphrase` (a new salt, a new key).
    pub fn change_passphrase(&self, passphrase: &str) -> Result<(), VaultError> {
        if passphrase.chars().count() < MIN_LEN {
            return Err(GateError::TooShort(MIN_LEN).into());
        }
        self.with(|o| {
            let kdf = Kdf::fresh()?;
            o.key = kdf.derive(passphrase, &o.path)?;
            o.kdf = kdf;
            write(o)
        })
    }
}

fn io(path: &Path, e: std::io::Error) -> VaultError {
    VaultError::Keychain(format!("{}: {e}", path.display()))
}

/// Seals what `open` holds with a fresh nonce and replaces the file.
fn write(open: &Open) -> Result<(), VaultError> {
    // The secrets' JSON, built in memory that is wiped on drop.
    let mut plain = Zeroizing::new(String::from("{"));
    for (i, (name, secret)) in open.secrets.iter().enumerate() {
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
    fn a_tampered_file_is_refused_not_half_read() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SealedKeys::unlock(dir.path(), "till passphrase").unwrap();
        keys.put("a", &SECRET).unwrap();
        let path = SealedKeys::path(dir.path());
        let mut sealed: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        // The header is bound to the ciphertext: cheaper Argon2 is refused.
        sealed["kdf"]["passes"] = 1.into();
        std::fs::write(&path, serde_json::to_vec(&sealed).unwrap()).unwrap();
        assert_eq!(
            SealedKeys::unlock(dir.path(), "till passphrase").unwrap_err(),
            VaultError::Gate(GateError::WrongPassphrase)
        );
        std::fs::write(&path, b"{ not json").unwrap();
        assert!(matches!(
            SealedKeys::unlock(dir.path(), "till passphrase"),
            Err(VaultError::KeychainDamaged(_))
        ));
    }
}
