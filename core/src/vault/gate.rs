//! User presence: a person must confirm before a key signs or money moves.
//!
//! `REQUIRE_BIOMETRIC_FOR_INTENT` / `_FOR_NONCE` turn the gate on. Where the
//! platform offers its own authentication TOSS will use it (docs/vault.md
//! says per platform what is done today); everywhere, an app passphrase
//! works: it is stored only as an Argon2id hash in the data directory. A
//! failed check stops the operation — there is no "continue anyway".

use std::path::{Path, PathBuf};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Why the gate refused an operation or could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// The gate is on but no app passphrase was ever set.
    #[error(
        "this operation needs you to confirm with the app passphrase, but none is set; set one in Settings (or `toss wallet passphrase`)"
    )]
    NoPassphraseSet,
    /// The gate is on and the caller gave no passphrase.
    #[error("this operation needs the app passphrase")]
    PassphraseRequired,
    /// The passphrase does not match the stored hash.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// A new passphrase is shorter than the minimum; carries the minimum in characters.
    #[error("the passphrase must be at least {0} characters")]
    TooShort(usize),
    /// The stored hash does not parse; carries the file path.
    #[error("the stored passphrase check in {0} is damaged; set the passphrase again")]
    Damaged(String),
    /// Reading or writing the hash, or preparing it, failed; carries what and why.
    #[error("cannot access {0}: {1}")]
    Io(String, String),
}

/// Shortest app passphrase (the key file is sealed with the same one).
pub(super) const MIN_LEN: usize = 8;
const FILE: &str = "passphrase.argon2";

/// The user-presence gate for one kind of operation.
#[derive(Debug, Clone)]
pub struct Gate {
    required: bool,
    verifier: Option<String>,
    path: PathBuf,
}

impl Gate {
    /// The gate as configured: `required` comes from the settings.
    pub fn load(dir: &Path, required: bool) -> Result<Self, GateError> {
        let path = dir.join(FILE);
        let verifier = match std::fs::read_to_string(&path) {
            Ok(s) => Some(s.trim().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(GateError::Io(path.display().to_string(), e.to_string())),
        };
        Ok(Self {
            required,
            verifier,
            path,
        })
    }

    /// Sets (or replaces) the app passphrase.
    pub fn set_passphrase(&mut self, passphrase: &str) -> Result<(), GateError> {
        if passphrase.chars().count() < MIN_LEN {
            return Err(GateError::TooShort(MIN_LEN));
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| GateError::Io("random".into(), e.to_string()))?;
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| GateError::Io("salt".into(), e.to_string()))?;
        let hash = hasher()
            .hash_password(passphrase.as_bytes(), &salt)
            .map_err(|e| GateError::Io("argon2".into(), e.to_string()))?
            .to_string();
        crate::fsutil::write_atomic(&self.path, hash.as_bytes())
            .map_err(|e| GateError::Io(self.path.display().to_string(), e.to_string()))?;
        self.verifier = Some(hash);
        Ok(())
    }

    /// Lets the operation through, or says why not.
    pub fn check(&self, presence: Option<&str>) -> Result<(), GateError> {
        if !self.required {
            return Ok(());
        }
        let stored = self.verifier.as_deref().ok_or(GateError::NoPassphraseSet)?;
        let given = presence.ok_or(GateError::PassphraseRequired)?;
        let hash = PasswordHash::new(stored)
            .map_err(|_| GateError::Damaged(self.path.display().to_string()))?;
        // The verifier compares in constant time.
        hasher()
            .verify_password(given.as_bytes(), &hash)
            .map_err(|_| GateError::WrongPassphrase)
    }
}

/// Argon2id at OWASP's minimum recommendation (19 MiB, 2 passes, 1 lane),
/// for the gate's check and the key file alike.
pub(super) const MEMORY_KIB: u32 = 19 * 1024;
pub(super) const PASSES: u32 = 2;
pub(super) const LANES: u32 = 1;

/// Argon2id with OWASP's minimum recommendation (19 MiB, 2 passes).
fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_gate_needs_nothing_and_a_closed_one_needs_the_passphrase() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(Gate::load(tmp.path(), false).unwrap().check(None), Ok(()));

        let mut gate = Gate::load(tmp.path(), true).unwrap();
        assert_eq!(
            gate.check(Some("anything")),
            Err(GateError::NoPassphraseSet)
        );
        assert_eq!(gate.set_passphrase("short"), Err(GateError::TooShort(8)));
        gate.set_passphrase("correct horse").unwrap();
        assert_eq!(gate.check(None), Err(GateError::PassphraseRequired));
        assert_eq!(
            gate.check(Some("wrong horse")),
            Err(GateError::WrongPassphrase)
        );
        assert_eq!(gate.check(Some("correct horse")), Ok(()));

        // Reloaded from disk, where only the Argon2id hash is kept.
        let again = Gate::load(tmp.path(), true).unwrap();
        assert_eq!(again.check(Some("correct horse")), Ok(()));
        let stored = std::fs::read_to_string(tmp.path().join(FILE)).unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));

        std::fs::write(tmp.path().join(FILE), "garbage").unwrap();
        let broken = Gate::load(tmp.path(), true).unwrap();
        assert!(matches!(
            broken.check(Some("correct horse")),
            Err(GateError::Damaged(_))
        ));
    }
}
