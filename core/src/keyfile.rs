//! Solana CLI keypair files (a JSON array of 64 bytes: secret, then public).
//!
//! Reading one is how a user brings an existing Solana key to TOSS. The
//! secret bytes are wiped from memory as soon as the signing key is built,
//! and errors never include file contents.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

/// Why a keypair file could not be used; never carries its contents.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read keypair file {}: {source}", path.display())]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },
    /// The file is not a JSON array of 64 bytes.
    #[error("{} is not a Solana keypair file (expected a JSON array of 64 numbers from 0 to 255)", path.display())]
    Format {
        /// The file that is not a keypair file.
        path: PathBuf,
    },
    /// The public half is not the one the secret half derives.
    #[error("{}: its public key does not match its secret key; the file is damaged", path.display())]
    Mismatch {
        /// The damaged file.
        path: PathBuf,
    },
}

/// Reads a keypair file and checks that its two halves belong together.
pub fn read(path: &Path) -> Result<SigningKey, KeyFileError> {
    let text =
        Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
                path: path.into(),
                source,
            })?,
        );
    parse(path, &text)
}

/// The key in a keypair file's text (`path` names it in errors).
pub(crate) fn parse(path: &Path, text: &str) -> Result<SigningKey, KeyFileError> {
    let format = || KeyFileError::Format { path: path.into() };
    let bytes: Zeroizing<Vec<u8>> =
        Zeroizing::new(serde_json::from_str(text).map_err(|_| format())?);
    let pair: &[u8; 64] = bytes.as_slice().try_into().map_err(|_| format())?;
    let key = SigningKey::from_keypair_bytes(pair)
        .map_err(|_| KeyFileError::Mismatch { path: path.into() })?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_a_cli_keypair_and_refuses_damaged_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[5; 32]);
        let json = serde_json::to_string(&key.to_keypair_bytes().to_vec()).unwrap();
        let good = write(tmp.path(), "id.json", &json);
        assert_eq!(read(&good).unwrap().to_bytes(), key.to_bytes());

        let mut pair = key.to_keypair_bytes();
        pair[40] ^= 1;
        let json = serde_json::to_string(&pair.to_vec()).unwrap();
        let bad = write(tmp.path(), "mismatch.json", &json);
        assert!(matches!(read(&bad), Err(KeyFileError::Mismatch { .. })));

        for (name, text) in [("short", "[1,2,3]"), ("text", "hello"), ("big", "[256]")] {
            let p = write(tmp.path(), name, text);
            let err = read(&p).unwrap_err();
            assert!(matches!(err, KeyFileError::Format { .. }), "{name}");
            assert!(!err.to_string().contains(text), "no contents in errors");
        }
        assert!(matches!(
            read(&tmp.path().join("missing.json")),
            Err(KeyFileError::Read { .. })
        ));
    }
}
