//! Confidential submission (the seed's Arcium MXE item, `ARCIUM_MXE_PROGRAM_ID`).
//!
//! Arcium's client encrypts values to an MXE by x25519 between a fresh key
//! and the MXE's published key, then the Rescue cipher in counter mode
//! ([`rescue`]). This module reads the MXE's key from chain exactly where
//! Arcium's client does (the `MXEAccount` PDA under Arcium's program) and
//! seals an intent's parameters into an [`Envelope`] the same way.
//!
//! What it cannot do: submit. Sending an envelope to an MXE means calling a
//! computation a program has deployed on it (an Arcis circuit that would
//! settle the intent confidentially); no TOSS computation exists. So the
//! settlement engine, when an MXE is configured, settles directly and
//! records the confidentiality downgrade (log and metrics), saying why: the
//! MXE's key could not be read, or there is no computation to submit to.
//! docs/confidential.md has the format and what was not exercised.

pub mod rescue;

use num_bigint::BigUint;
use solana_program::pubkey::Pubkey;
use toss_program::intent::Intent;
use x25519_dalek::{PublicKey, StaticSecret};

/// Arcium's on-chain program (its IDL's address).
pub const ARCIUM_PROGRAM_ID: Pubkey =
    solana_program::pubkey!("Arcj82pX7HxYKLR92qvgZUAd7vGS1k4hQvAFcPATFdEQ");
/// `sha256("account:MXEAccount")[..8]`, Anchor's account discriminator.
const MXE_DISCRIMINATOR: [u8; 8] = [103, 26, 85, 250, 179, 159, 17, 117];
/// x25519 key, ed25519 key, ElGamal key, validity proof.
const UTILITY_KEYS_LEN: usize = 32 + 32 + 32 + 64;

/// Why the MXE key could not be read or an envelope sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfidentialError {
    /// The account's discriminator or an enum tag is not an `MXEAccount`'s.
    #[error("the MXE account is not an Arcium MXE account")]
    NotAnMxe,
    /// The account data ends before its layout does.
    #[error("the MXE account is shorter than its layout")]
    Truncated,
    /// The MXE's keys are still unset: not every flag is set.
    #[error("the MXE has not finished generating its keys")]
    KeyNotReady,
    /// The x25519 exchange with the published key is not contributory.
    #[error("the MXE's x25519 key is of low order: refusing to encrypt to it")]
    WeakKey,
    /// The OS random source failed for the client key or nonce; carries its error.
    #[error("no randomness for the envelope: {0}")]
    Random(String),
    /// The tag does not check, or a value is out of range after decryption.
    #[error("the envelope does not open: wrong key, or it was altered")]
    Tampered,
    /// The envelope does not hold 8 elements (7 values and the tag); carries the count.
    #[error("the envelope holds {0} values; an intent's parameters are 8")]
    WrongLength(usize),
}

/// The MXE account of `mxe_program_id`, where its keys are published.
pub fn mxe_account(mxe_program_id: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[b"MXEAccount", mxe_program_id.as_ref()],
        &ARCIUM_PROGRAM_ID,
    )
    .0
}

/// The MXE's x25519 key from its account data (Anchor/Borsh `MXEAccount`:
/// discriminator, padding u8, cluster u32, two u64 offsets, the MXE program
/// id, an optional authority, then the utility keys as `Set(keys)` or
/// `Unset(keys, flags)`; an unset key is usable only once every flag is set).
pub fn parse_mxe_key(data: &[u8]) -> Result<[u8; 32], ConfidentialError> {
    let mut r = Reader(data);
    if r.take(8)? != MXE_DISCRIMINATOR {
        return Err(ConfidentialError::NotAnMxe);
    }
    r.take(1 + 4 + 8 + 8 + 32)?;
    match r.take(1)?[0] {
        0 => {}
        1 => {
            r.take(32)?;
        }
        _ => return Err(ConfidentialError::NotAnMxe),
    }
    let tag = r.take(1)?[0];
    let keys = r.take(UTILITY_KEYS_LEN)?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&keys[..32]);
    match tag {
        0 => Ok(key),
        1 => {
            let n = u32::from_le_bytes(
                r.take(4)?
                    .try_into()
                    .map_err(|_| ConfidentialError::Truncated)?,
            );
            let flags = r.take(n as usize)?;
            if flags.iter().all(|f| *f == 1) {
                Ok(key)
            } else {
                Err(ConfidentialError::KeyNotReady)
            }
        }
        _ => Err(ConfidentialError::NotAnMxe),
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ConfidentialError> {
        if self.0.len() < n {
            return Err(ConfidentialError::Truncated);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
}

/// An intent's parameters sealed to an MXE: what a TOSS computation on the
/// MXE would receive, with the client's public key and the nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The fresh x25519 public key the values were sealed with.
    pub client_key: [u8; 32],
    /// The cipher's counter-mode nonce, random per envelope.
    pub nonce: [u8; 16],
    /// One 32-byte little-endian field element per value.
    pub ciphertext: Vec<[u8; 32]>,
}

/// The values sealed, in order: amount, replay nonce, expiry, the payee
/// and the mint (each as two 128-bit halves, low first; the mint 0 for
/// SOL), then a tag (below).
fn values(i: &Intent) -> Vec<BigUint> {
    let halves = |key: &Pubkey| {
        let b = key.to_bytes();
        [
            BigUint::from_bytes_le(&b[..16]),
            BigUint::from_bytes_le(&b[16..]),
        ]
    };
    let mint = i.mint.unwrap_or_default();
    let mut v = vec![
        BigUint::from(i.amount),
        BigUint::from(i.nonce),
        BigUint::from(i.expires_at),
    ];
    v.extend(halves(&i.payee));
    v.extend(halves(&mint));
    v
}

/// Rescue's counter mode has no authentication; TOSS appends a tag a
/// party without the shared secret cannot forge: the first element of
/// Rescue-Prime over (2, the secret, the values). A TOSS computation on the
/// MXE would check it before acting.
fn tag(shared: &[u8; 32], values: &[BigUint]) -> BigUint {
    let mut input = vec![BigUint::from(2u8), rescue::from_le(shared)];
    input.extend_from_slice(values);
    rescue::hash(&input).swap_remove(0)
}

fn shared_secret(secret: &StaticSecret, public: &[u8; 32]) -> Result<[u8; 32], ConfidentialError> {
    let shared = secret.diffie_hellman(&PublicKey::from(*public));
    if !shared.was_contributory() {
        return Err(ConfidentialError::WeakKey);
    }
    Ok(shared.to_bytes())
}

impl Envelope {
    /// Seals `intent`'s parameters to the MXE key `mxe_key` with a fresh
    /// client key and nonce.
    pub fn seal(mxe_key: &[u8; 32], intent: &Intent) -> Result<Self, ConfidentialError> {
        let mut seed = [0u8; 32];
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut seed).map_err(|e| ConfidentialError::Random(e.to_string()))?;
        getrandom::fill(&mut nonce).map_err(|e| ConfidentialError::Random(e.to_string()))?;
        let client = StaticSecret::from(seed);
        let shared = shared_secret(&client, mxe_key)?;
        let mut v = values(intent);
        v.push(tag(&shared, &v));
        Ok(Self {
            client_key: PublicKey::from(&client).to_bytes(),
            nonce,
            ciphertext: rescue::Cipher::new(&shared).encrypt(&v, &nonce),
        })
    }

    /// What the MXE side does: the values back, once the tag checks.
    /// Returns (amount, replay nonce, expiry, payee, mint).
    pub fn open(
        &self,
        mxe_secret: &[u8; 32],
    ) -> Result<(u64, u64, u32, Pubkey, Option<Pubkey>), ConfidentialError> {
        if self.ciphertext.len() != 8 {
            return Err(ConfidentialError::WrongLength(self.ciphertext.len()));
        }
        let shared = shared_secret(&StaticSecret::from(*mxe_secret), &self.client_key)?;
        let mut v = rescue::Cipher::new(&shared).decrypt(&self.ciphertext, &self.nonce);
        let got = v.pop().ok_or(ConfidentialError::Tampered)?;
        if tag(&shared, &v) != got {
            return Err(ConfidentialError::Tampered);
        }
        let int = |x: &BigUint, bytes: usize| -> Result<Vec<u8>, ConfidentialError> {
            let mut b = x.to_bytes_le();
            if b.len() > bytes {
                return Err(ConfidentialError::Tampered);
            }
            b.resize(bytes, 0);
            Ok(b)
        };
        let u = |x: &BigUint, bytes: usize| -> Result<u64, ConfidentialError> {
            let b = int(x, bytes)?;
            let mut full = [0u8; 8];
            full[..bytes].copy_from_slice(&b);
            Ok(u64::from_le_bytes(full))
        };
        let key = |lo: &BigUint, hi: &BigUint| -> Result<Pubkey, ConfidentialError> {
            let mut b = int(lo, 16)?;
            b.extend(int(hi, 16)?);
            let arr: [u8; 32] = b.try_into().map_err(|_| ConfidentialError::Tampered)?;
            Ok(Pubkey::new_from_array(arr))
        };
        let mint = key(&v[5], &v[6])?;
        Ok((
            u(&v[0], 8)?,
            u(&v[1], 8)?,
            u(&v[2], 4)? as u32,
            key(&v[3], &v[4])?,
            (mint != Pubkey::default()).then_some(mint),
        ))
    }

    /// Bytes on the wire: client key, nonce, then the elements.
    pub fn len(&self) -> usize {
        32 + 16 + 32 * self.ciphertext.len()
    }

    /// Whether it carries no ciphertext elements.
    pub fn is_empty(&self) -> bool {
        self.ciphertext.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use toss_program::intent::cluster;

    use super::*;

    fn intent() -> Intent {
        Intent {
            cluster: cluster::DEVNET,
            program_id: Pubkey::new_from_array([3; 32]),
            payer: Pubkey::new_from_array([1; 32]),
            payee: Pubkey::new_from_array([0xfe; 32]),
            mint: Some(Pubkey::new_from_array([0x77; 32])),
            amount: u64::MAX,
            reference: None,
            memo: None,
            nonce: 7,
            created_at: 1_790_000_000,
            expires_at: u32::MAX,
            durable_nonce: None,
        }
    }

    fn mxe() -> ([u8; 32], [u8; 32]) {
        let secret = [9u8; 32];
        (
            secret,
            PublicKey::from(&StaticSecret::from(secret)).to_bytes(),
        )
    }

    #[test]
    fn x25519_and_the_cipher_agree_with_arciums_client_end_to_end() {
        // Arcium's client: client key 07.., MXE key 09.., nonce 0f0e..00.
        let client = StaticSecret::from([7u8; 32]);
        let (_, mxe_pk) = mxe();
        assert_eq!(
            hex::encode(mxe_pk),
            "57db4b359f23ae5e146e4e2512056704722506348c150c14753d0c933d04d421"
        );
        let shared = shared_secret(&client, &mxe_pk).unwrap();
        assert_eq!(
            hex::encode(shared),
            "2ffe325b2a26611bf1911325d4a62b33749b8f350d0e88ba91e316acaae66554"
        );
        let nonce: [u8; 16] = std::array::from_fn(|i| 15 - i as u8);
        let pt: Vec<BigUint> = (1u8..=11).map(BigUint::from).collect();
        let ct = rescue::Cipher::new(&shared).encrypt(&pt, &nonce);
        assert_eq!(
            hex::encode(ct[0]),
            "46230902521c6dffd910d747a87cc0de6a6922aff432914eb79e57af9283222d"
        );
        assert_eq!(
            hex::encode(ct[10]),
            "de04b21e642b2dbcfedf711f5f45a2b9d05817b4994c0b01f6d6849c2580641a"
        );
    }

    #[test]
    fn an_envelope_opens_with_the_mxe_key_and_not_when_altered() {
        let (secret, public) = mxe();
        let i = intent();
        let env = Envelope::seal(&public, &i).unwrap();
        assert_eq!(env.len(), 32 + 16 + 8 * 32);
        assert_eq!(
            env.open(&secret).unwrap(),
            (i.amount, i.nonce, i.expires_at, i.payee, i.mint)
        );
        // Fresh key and nonce each time: two seals of one intent differ.
        assert_ne!(
            Envelope::seal(&public, &i).unwrap().ciphertext,
            env.ciphertext
        );

        for n in 0..env.ciphertext.len() {
            let mut bad = env.clone();
            bad.ciphertext[n][0] ^= 1;
            assert_eq!(
                bad.open(&secret),
                Err(ConfidentialError::Tampered),
                "element {n}"
            );
        }
        let mut bad = env.clone();
        bad.nonce[0] ^= 1;
        assert_eq!(bad.open(&secret), Err(ConfidentialError::Tampered));
        assert_eq!(env.open(&[8; 32]), Err(ConfidentialError::Tampered));
        let mut short = env.clone();
        short.ciphertext.pop();
        assert_eq!(short.open(&secret), Err(ConfidentialError::WrongLength(7)));
        // A low-order MXE key is refused rather than encrypted to.
        assert_eq!(
            Envelope::seal(&[0; 32], &i),
            Err(ConfidentialError::WeakKey)
        );
    }

    fn account(authority: bool, tag: u8, flags: &[u8]) -> Vec<u8> {
        let mut d = MXE_DISCRIMINATOR.to_vec();
        d.extend([0u8; 1 + 4 + 8 + 8 + 32]);
        d.push(u8::from(authority));
        if authority {
            d.extend([5u8; 32]);
        }
        d.push(tag);
        d.extend([0xabu8; 32]);
        d.extend([0u8; UTILITY_KEYS_LEN - 32]);
        if tag == 1 {
            d.extend((flags.len() as u32).to_le_bytes());
            d.extend_from_slice(flags);
        }
        d.extend([0u8; 40]); // the fields after the keys
        d
    }

    #[test]
    fn the_mxe_key_is_read_where_arciums_client_reads_it() {
        assert_eq!(
            mxe_account(&solana_program::pubkey!(
                "BWGSySnUGc9GRW4KdesmNAzp9Y2KoCioUfrz1Q5cdcqu"
            ))
            .to_string(),
            "FrXKzmU5Xct7DemvgoW7hAqtJFUX8Lf5oBLGDCyeaBfp"
        );
        assert_eq!(parse_mxe_key(&account(false, 0, &[])), Ok([0xab; 32]));
        let with_authority = account(true, 0, &[]);
        assert_eq!(&with_authority[95..127], &[0xab; 32]);
        assert_eq!(parse_mxe_key(&with_authority), Ok([0xab; 32]));
        assert_eq!(
            parse_mxe_key(&account(false, 1, &[1, 1, 1])),
            Ok([0xab; 32])
        );
        assert_eq!(
            parse_mxe_key(&account(false, 1, &[1, 0, 1])),
            Err(ConfidentialError::KeyNotReady)
        );
        assert_eq!(parse_mxe_key(&[0; 200]), Err(ConfidentialError::NotAnMxe));
        assert_eq!(
            parse_mxe_key(&account(false, 0, &[])[..100]),
            Err(ConfidentialError::Truncated)
        );
    }
}
