//! Recovery phrases and key derivation.
//!
//! BIP39 phrases and SLIP-0010 Ed25519 derivation along `m/44'/501'/n'/0'`,
//! the path Phantom, Solflare and `solana-keygen --derivation-path` use, so a
//! phrase written down for TOSS restores the same address in those wallets
//! and the other way round. Checked against docs/vectors/wallet-derivation.json,
//! written by an independent implementation.

use ed25519_dalek::SigningKey;
use hmac::{Hmac, Mac};
use sha2::Sha512;
use zeroize::Zeroizing;

use super::VaultError;

/// How long a new recovery phrase is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordCount {
    /// 12 words: 128 bits of entropy.
    Twelve,
    /// 24 words: 256 bits of entropy.
    TwentyFour,
}

impl WordCount {
    fn entropy_bytes(self) -> usize {
        match self {
            WordCount::Twelve => 16,
            WordCount::TwentyFour => 32,
        }
    }
}

/// A recovery phrase. It is shown to the user once, at creation, and is
/// never stored; `Debug` does not reveal it and memory is wiped on drop.
pub struct RecoveryPhrase(Zeroizing<String>);

impl RecoveryPhrase {
    /// Makes a new phrase from the operating system's random source.
    pub fn generate(words: WordCount) -> Result<Self, VaultError> {
        let mut entropy = Zeroizing::new(vec![0u8; words.entropy_bytes()]);
        getrandom::fill(&mut entropy).map_err(|e| VaultError::Random(e.to_string()))?;
        let m = bip39::Mnemonic::from_entropy(&entropy)
            .map_err(|e| VaultError::Phrase(e.to_string()))?;
        Ok(Self(Zeroizing::new(m.to_string())))
    }

    /// Checks a phrase the user typed: known words, valid checksum, 12 to 24
    /// words. Extra spaces and letter case are forgiven.
    pub fn parse(words: &str) -> Result<Self, VaultError> {
        let normal = Zeroizing::new(
            words
                .split_whitespace()
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
                .join(" "),
        );
        let m = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normal)
            .map_err(|e| VaultError::Phrase(e.to_string()))?;
        Ok(Self(Zeroizing::new(m.to_string())))
    }

    /// The words, for showing once or writing down. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The Ed25519 key of account `index` (`m/44'/501'/index'/0'`).
    pub fn derive(&self, passphrase: &str, index: u32) -> Result<SigningKey, VaultError> {
        let m = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &self.0)
            .map_err(|e| VaultError::Phrase(e.to_string()))?;
        let seed = Zeroizing::new(m.to_seed_normalized(passphrase));
        slip10(&seed[..], &[44, 501, index, 0])
    }
}

impl std::fmt::Debug for RecoveryPhrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryPhrase(<redacted>)")
    }
}

/// SLIP-0010 Ed25519 derivation; every index is hardened (Ed25519 has no
/// other kind).
fn slip10(seed: &[u8], path: &[u32]) -> Result<SigningKey, VaultError> {
    let mac = |key: &[u8], parts: &[&[u8]]| -> Result<Zeroizing<[u8; 64]>, VaultError> {
        let mut m = Hmac::<Sha512>::new_from_slice(key)
            .map_err(|_| VaultError::Derivation("HMAC key length"))?;
        for p in parts {
            m.update(p);
        }
        let mut out = Zeroizing::new([0u8; 64]);
        out.copy_from_slice(&m.finalize().into_bytes());
        Ok(out)
    };
    let mut i = mac(b"ed25519 seed", &[seed])?;
    for index in path {
        if *index >= 0x8000_0000 {
            return Err(VaultError::Derivation("account index too large"));
        }
        let hardened = (index | 0x8000_0000).to_be_bytes();
        i = mac(&i[32..], &[&[0], &i[..32], &hardened])?;
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    secret.copy_from_slice(&i[..32]);
    Ok(SigningKey::from_bytes(&secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_program::pubkey::Pubkey;

    #[test]
    fn derivation_matches_the_independent_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/vectors/wallet-derivation.json"
        );
        let all: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for v in all["vectors"].as_array().unwrap() {
            let phrase = RecoveryPhrase::parse(v["phrase"].as_str().unwrap()).unwrap();
            for (index, a) in v["accounts"].as_array().unwrap().iter().enumerate() {
                let key = phrase
                    .derive(v["passphrase"].as_str().unwrap(), index as u32)
                    .unwrap();
                assert_eq!(hex::encode(key.to_bytes()), a["secret"].as_str().unwrap());
                let address = Pubkey::new_from_array(key.verifying_key().to_bytes());
                assert_eq!(address.to_string(), a["address"].as_str().unwrap());
            }
        }
    }

    #[test]
    fn generated_phrases_have_the_asked_length_and_parse_back() {
        for (words, n) in [(WordCount::Twelve, 12), (WordCount::TwentyFour, 24)] {
            let p = RecoveryPhrase::generate(words).unwrap();
            assert_eq!(p.expose().split(' ').count(), n);
            let again = RecoveryPhrase::parse(&p.expose().to_uppercase()).unwrap();
            assert_eq!(again.expose(), p.expose());
        }
        assert_eq!(
            format!("{:?}", RecoveryPhrase::generate(WordCount::Twelve).unwrap()),
            "RecoveryPhrase(<redacted>)"
        );
    }

    #[test]
    fn bad_phrases_are_refused_with_a_reason() {
        let twelve = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
        for bad in [
            "",
            twelve,                        // 11 words
            &format!("{twelve} abandon"),  // bad checksum
            &format!("{twelve} notaword"), // unknown word
        ] {
            let err = RecoveryPhrase::parse(bad).unwrap_err();
            assert!(matches!(err, VaultError::Phrase(_)), "{bad:?}: {err:?}");
        }
        let phrase = RecoveryPhrase::parse(&format!("{twelve}  About ")).unwrap();
        assert!(matches!(
            phrase.derive("", 0x8000_0000),
            Err(VaultError::Derivation(_))
        ));
    }
}
