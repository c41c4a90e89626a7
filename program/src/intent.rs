//! The TOSS payment intent: what a payer signs offline and a merchant settles.
//!
//! One canonical, versioned binary encoding (specified byte by byte in
//! `docs/intent.md`) is used everywhere: on the wire between devices, in the
//! local store, as the message of the Ed25519 precompile instruction, and as
//! the data the program parses. Because there is exactly one encoding for a
//! given intent, the bytes that were signed are the bytes that are checked,
//! and the intent id (a hash of the signed bytes) is stable.
//!
//! Decoding is strict: wrong magic, unknown version or flag bits, bad lengths,
//! out-of-range values and trailing bytes are all refused, so two different
//! byte strings never decode to the same intent.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::Pubkey;

/// First bytes of every intent body. 0xFF can never begin a Solana transaction
/// message (it would be a versioned message of version 127), so a signature
/// over an intent can never be replayed as a transaction signature, and the
/// ASCII tag keeps intents apart from other off-chain messages.
pub const MAGIC: [u8; 5] = [0xFF, b'T', b'O', b'S', b'S'];
/// The only version this build encodes and accepts.
pub const VERSION: u8 = 1;
/// Length of the fixed part of the body, before the optional fields.
pub const FIXED_LEN: usize = 135;
/// Ed25519 signature length.
pub const SIGNATURE_LEN: usize = 64;
/// Longest memo, in bytes of UTF-8.
pub const MAX_MEMO_LEN: usize = 64;
/// Longest validity window (expires_at - created_at): 30 days.
pub const MAX_VALIDITY_SECONDS: u32 = 30 * 24 * 3600;
/// Longest body: every optional field present, memo at its maximum.
pub const MAX_BODY_LEN: usize = FIXED_LEN + 32 + 32 + 64 + 1 + MAX_MEMO_LEN;

const FLAG_MINT: u8 = 1 << 0;
const FLAG_REFERENCE: u8 = 1 << 1;
const FLAG_DURABLE_NONCE: u8 = 1 << 2;
const FLAG_MEMO: u8 = 1 << 3;
const KNOWN_FLAGS: u8 = FLAG_MINT | FLAG_REFERENCE | FLAG_DURABLE_NONCE | FLAG_MEMO;

/// A durable nonce the payer bound the intent to (seed-compatible settlement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurableNonce {
    /// The nonce account.
    pub account: Pubkey,
    /// The nonce value stored in it when the payer signed.
    pub value: [u8; 32],
}

/// An unsigned payment intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// First 8 bytes of the cluster's genesis hash: a devnet intent cannot
    /// settle on mainnet.
    pub cluster: [u8; 8],
    /// The TOSS program deployment that may settle it.
    pub program_id: Pubkey,
    /// The paying wallet (owner of the escrow the funds come from).
    pub payer: Pubkey,
    /// The receiving wallet (never a token account; the program derives it).
    pub payee: Pubkey,
    /// `None` for SOL; the token mint otherwise.
    pub mint: Option<Pubkey>,
    /// Amount in base units (lamports, or the mint's smallest unit). Never 0.
    pub amount: u64,
    /// Solana Pay reference, so the merchant's usual lookup finds the payment.
    pub reference: Option<Pubkey>,
    /// Free text for the merchant, at most [`MAX_MEMO_LEN`] bytes of UTF-8.
    pub memo: Option<String>,
    /// The payer's replay nonce: each value settles at most once per escrow.
    pub nonce: u64,
    /// Unix seconds when signed (the payer's clock).
    pub created_at: u32,
    /// Unix seconds after which the intent cannot settle.
    pub expires_at: u32,
    /// Set only for the durable-nonce settlement path.
    pub durable_nonce: Option<DurableNonce>,
}

/// An intent with the payer's Ed25519 signature over its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIntent {
    /// The intent whose canonical body was signed.
    pub intent: Intent,
    /// The payer's Ed25519 signature over `intent.encode()`.
    pub signature: [u8; SIGNATURE_LEN],
}

/// Why bytes are not a valid intent. Each case names the rule that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntentError {
    /// The bytes end before the intent (or its signature) does; carries the length given.
    #[error("too short to be an intent: {0} bytes")]
    TooShort(usize),
    /// The bytes do not start with [`MAGIC`].
    #[error("not a TOSS intent (wrong magic bytes)")]
    NotAnIntent,
    /// The version byte is not [`VERSION`].
    #[error("intent version {0} is not supported by this build (it reads version {VERSION})")]
    UnsupportedVersion(u8),
    /// Flag bits this version does not define are set; carries those bits.
    #[error("unknown flag bits {0:#04x}")]
    UnknownFlags(u8),
    /// The amount is 0.
    #[error("amount is zero")]
    ZeroAmount,
    /// Payer and payee are the same key.
    #[error("payer and payee are the same account")]
    SelfPayment,
    /// `expires_at` is not after `created_at`.
    #[error("expires_at ({expires_at}) is not after created_at ({created_at})")]
    ExpiresBeforeCreated {
        /// Unix seconds when signed.
        created_at: u32,
        /// Unix seconds of expiry, not later than `created_at`.
        expires_at: u32,
    },
    /// The validity window exceeds [`MAX_VALIDITY_SECONDS`]; carries its length in seconds.
    #[error("validity of {0} s is longer than the maximum of {MAX_VALIDITY_SECONDS} s")]
    ValidityTooLong(u32),
    /// A memo is present but empty or over [`MAX_MEMO_LEN`] bytes; carries its length.
    #[error("memo must be 1 to {MAX_MEMO_LEN} bytes, got {0}")]
    MemoLength(usize),
    /// The memo bytes are not valid UTF-8.
    #[error("memo is not valid UTF-8")]
    MemoNotUtf8,
    /// Extra bytes follow the body (or the signature); carries how many.
    #[error("{0} bytes follow the intent")]
    TrailingBytes(usize),
}

impl Intent {
    /// Checks the rules the encoding enforces, so an invalid intent is never
    /// signed in the first place.
    pub fn validate(&self) -> Result<(), IntentError> {
        if self.amount == 0 {
            return Err(IntentError::ZeroAmount);
        }
        if self.payer == self.payee {
            return Err(IntentError::SelfPayment);
        }
        if self.expires_at <= self.created_at {
            return Err(IntentError::ExpiresBeforeCreated {
                created_at: self.created_at,
                expires_at: self.expires_at,
            });
        }
        let validity = self.expires_at - self.created_at;
        if validity > MAX_VALIDITY_SECONDS {
            return Err(IntentError::ValidityTooLong(validity));
        }
        if let Some(memo) = &self.memo
            && (memo.is_empty() || memo.len() > MAX_MEMO_LEN)
        {
            return Err(IntentError::MemoLength(memo.len()));
        }
        Ok(())
    }

    /// The canonical body: exactly the bytes the payer signs.
    pub fn encode(&self) -> Result<Vec<u8>, IntentError> {
        self.validate()?;
        let mut flags = 0;
        let mut out = Vec::with_capacity(MAX_BODY_LEN);
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(0); // flags, filled in below
        out.extend_from_slice(&self.cluster);
        out.extend_from_slice(self.program_id.as_ref());
        out.extend_from_slice(self.payer.as_ref());
        out.extend_from_slice(self.payee.as_ref());
        out.extend_from_slice(&self.amount.to_le_bytes());
        out.extend_from_slice(&self.nonce.to_le_bytes());
        out.extend_from_slice(&self.created_at.to_le_bytes());
        out.extend_from_slice(&self.expires_at.to_le_bytes());
        if let Some(mint) = &self.mint {
            flags |= FLAG_MINT;
            out.extend_from_slice(mint.as_ref());
        }
        if let Some(reference) = &self.reference {
            flags |= FLAG_REFERENCE;
            out.extend_from_slice(reference.as_ref());
        }
        if let Some(n) = &self.durable_nonce {
            flags |= FLAG_DURABLE_NONCE;
            out.extend_from_slice(n.account.as_ref());
            out.extend_from_slice(&n.value);
        }
        if let Some(memo) = &self.memo {
            flags |= FLAG_MEMO;
            // validate() bounded the length to MAX_MEMO_LEN, which fits a byte.
            out.push(memo.len() as u8);
            out.extend_from_slice(memo.as_bytes());
        }
        out[MAGIC.len() + 1] = flags;
        Ok(out)
    }

    /// Decodes a body (no signature), refusing anything not canonical.
    pub fn decode(body: &[u8]) -> Result<Self, IntentError> {
        let (intent, used) = Self::decode_prefix(body)?;
        if used != body.len() {
            return Err(IntentError::TrailingBytes(body.len() - used));
        }
        Ok(intent)
    }

    /// Decodes a body at the start of `bytes`; returns it and its length.
    fn decode_prefix(bytes: &[u8]) -> Result<(Self, usize), IntentError> {
        if bytes.len() >= MAGIC.len() && bytes[..MAGIC.len()] != MAGIC {
            return Err(IntentError::NotAnIntent);
        }
        let mut r = Reader { bytes, pos: 0 };
        let short = |_| IntentError::TooShort(bytes.len());
        r.take::<5>().map_err(short)?;
        let [version] = r.take::<1>().map_err(short)?;
        if version != VERSION {
            return Err(IntentError::UnsupportedVersion(version));
        }
        let [flags] = r.take::<1>().map_err(short)?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(IntentError::UnknownFlags(flags & !KNOWN_FLAGS));
        }
        let cluster = r.take::<8>().map_err(short)?;
        let program_id = r.key().map_err(short)?;
        let payer = r.key().map_err(short)?;
        let payee = r.key().map_err(short)?;
        let amount = u64::from_le_bytes(r.take().map_err(short)?);
        let nonce = u64::from_le_bytes(r.take().map_err(short)?);
        let created_at = u32::from_le_bytes(r.take().map_err(short)?);
        let expires_at = u32::from_le_bytes(r.take().map_err(short)?);
        let optional_key = |r: &mut Reader, flag| {
            if flags & flag != 0 {
                r.key().map(Some).map_err(short)
            } else {
                Ok(None)
            }
        };
        let mint = optional_key(&mut r, FLAG_MINT)?;
        let reference = optional_key(&mut r, FLAG_REFERENCE)?;
        let durable_nonce = match optional_key(&mut r, FLAG_DURABLE_NONCE)? {
            Some(account) => Some(DurableNonce {
                account,
                value: r.take().map_err(short)?,
            }),
            None => None,
        };
        let memo = if flags & FLAG_MEMO != 0 {
            let [len] = r.take::<1>().map_err(short)?;
            let len = usize::from(len);
            if len == 0 || len > MAX_MEMO_LEN {
                return Err(IntentError::MemoLength(len));
            }
            let raw = r.slice(len).map_err(short)?;
            let text = core::str::from_utf8(raw).map_err(|_| IntentError::MemoNotUtf8)?;
            Some(text.to_owned())
        } else {
            None
        };
        let intent = Intent {
            cluster,
            program_id,
            payer,
            payee,
            mint,
            amount,
            reference,
            memo,
            nonce,
            created_at,
            expires_at,
            durable_nonce,
        };
        intent.validate()?;
        Ok((intent, r.pos))
    }
}

impl SignedIntent {
    /// The wire form: body followed by the 64-byte signature.
    pub fn to_bytes(&self) -> Result<Vec<u8>, IntentError> {
        let mut out = self.intent.encode()?;
        out.extend_from_slice(&self.signature);
        Ok(out)
    }

    /// Parses the wire form. The signature is *not* checked here: the
    /// receiver's verifier (or the Ed25519 precompile on-chain) does that.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IntentError> {
        let (intent, used) = Intent::decode_prefix(bytes)?;
        let rest = &bytes[used..];
        let signature: [u8; SIGNATURE_LEN] = match rest.len() {
            n if n < SIGNATURE_LEN => return Err(IntentError::TooShort(bytes.len())),
            SIGNATURE_LEN => rest
                .try_into()
                .map_err(|_| IntentError::TooShort(bytes.len()))?,
            n => return Err(IntentError::TrailingBytes(n - SIGNATURE_LEN)),
        };
        Ok(Self { intent, signature })
    }

    /// The intent id: SHA-256 of the signed wire bytes. Two intents differing
    /// in any byte, signature included, have different ids.
    pub fn id(&self) -> Result<[u8; 32], IntentError> {
        let body = self.intent.encode()?;
        Ok(solana_sha256_hasher::hashv(&[&body, &self.signature]).to_bytes())
    }
}

/// Which of two intents from the same payer wins when both claim one replay
/// nonce, as every TOSS device decides it without talking to the others:
/// lower nonce first, then earlier `created_at`, then the signature compared
/// as bytes. `Ordering::Less` means `a` wins. (On-chain the first settlement
/// consumes the nonce and is final; this rule decides which intent a wallet
/// holding both submits and which it marks conflicted.)
pub fn conflict_order(a: &SignedIntent, b: &SignedIntent) -> core::cmp::Ordering {
    a.intent
        .nonce
        .cmp(&b.intent.nonce)
        .then(a.intent.created_at.cmp(&b.intent.created_at))
        .then_with(|| a.signature.cmp(&b.signature))
}

/// A cursor that fails instead of panicking when the input runs out.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

struct Short;

impl Reader<'_> {
    fn slice(&mut self, n: usize) -> Result<&[u8], Short> {
        let end = self.pos.checked_add(n).ok_or(Short)?;
        let s = self.bytes.get(self.pos..end).ok_or(Short)?;
        self.pos = end;
        Ok(s)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], Short> {
        self.slice(N)?.try_into().map_err(|_| Short)
    }

    fn key(&mut self) -> Result<Pubkey, Short> {
        self.take::<32>().map(Pubkey::new_from_array)
    }
}

/// Genesis-hash prefixes of the public clusters, for [`Intent::cluster`].
/// Other clusters (a local validator) use the first 8 bytes of their own
/// genesis hash, which `getGenesisHash` returns.
pub mod cluster {
    /// 5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d
    pub const MAINNET_BETA: [u8; 8] = [0x45, 0x29, 0x69, 0x98, 0xa6, 0xf8, 0xe2, 0xa7];
    /// EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG
    pub const DEVNET: [u8; 8] = [0xce, 0x59, 0xdb, 0x50, 0x80, 0xfc, 0x2c, 0x6d];
    /// 4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY
    pub const TESTNET: [u8; 8] = [0x3a, 0x13, 0x2e, 0xce, 0x10, 0x30, 0x5e, 0xc1];

    /// The prefix of a genesis hash.
    pub fn from_genesis_hash(hash: &[u8; 32]) -> [u8; 8] {
        let mut out = [0; 8];
        out.copy_from_slice(&hash[..8]);
        out
    }
}
