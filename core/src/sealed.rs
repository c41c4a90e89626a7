//! A payment sealed to one till for the one-way trip of a QR code.
//!
//! A code on a payer's screen can be filmed by anyone near the till. When
//! the payer scanned the till's request and it names the till's Noise key
//! (`toss-key`), the payer seals the payment to that key and to the
//! request's reference, in one Noise message (pattern N: the payer sends,
//! the till only reads), so only that till, for that sale, reads it:
//!
//! ```text
//! sealed   = FE 54 4F 53 53 (0xFE "TOSS") || 01 || e (32) || encrypted payment (+16)
//! prologue = "TOSS/noise/1" || reference
//! ```
//!
//! Why N and not X or IK's first message (docs/noise.md): the payer's
//! authenticity already comes from the Ed25519 signatures inside the
//! payment, so a payer static key (X, IK) would add 48 bytes to the code
//! and a long-lived identifier a till could link across sales, and protect
//! nothing more. What N cannot stop, nothing one-way can: a filmed sealed
//! code shown again to the same till for the same sale is the same
//! payment, and the till's ledger refuses it as already seen.

use zeroize::Zeroizing;

use crate::noise::{NoiseError, StaticKey, prologue};

/// The one-way pattern a sealed payment uses.
pub const PATTERN_N: &str = "Noise_N_25519_ChaChaPoly_BLAKE2s";
/// What a sealed payment starts with (an intent starts with 0xFF "TOSS").
pub const MAGIC: [u8; 5] = [0xFE, b'T', b'O', b'S', b'S'];
/// The version of the sealed format.
pub const VERSION: u8 = 1;
/// Bytes a sealing adds: magic, version, the ephemeral key, the tag.
pub const OVERHEAD: usize = MAGIC.len() + 1 + 32 + 16;
/// The longest payment sealed: a durable payment with every option is
/// 456 bytes; this leaves room and keeps the code a single QR code.
pub const MAX_PAYMENT: usize = 2_048;

/// Why a payment could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealedError {
    /// Not a sealed payment (another code).
    #[error("this code is not a sealed TOSS payment")]
    NotSealed,
    /// Sealed with a format version this wallet does not read; carries it.
    #[error("this sealed payment uses format version {0}; update TOSS to read it")]
    Version(u8),
    /// Too short to hold a sealed payment, or a payment too long to seal.
    #[error("a sealed payment of {0} bytes is malformed")]
    Length(usize),
    /// The message did not open: sealed for another till or another sale,
    /// or altered on the way.
    #[error(
        "this payment is sealed for another till or another sale, or the code was altered: ask the payer to scan this sale's code again"
    )]
    NotForThisSale,
    /// A sealed payment arrived where no sale (no reference) is open.
    #[error(
        "this payment is sealed for a sale, and none is open here: open the sale it pays first"
    )]
    NoSale,
    /// The Noise library failed; carries why.
    #[error("{0}")]
    Noise(#[from] NoiseError),
}

/// Whether `code` is a sealed payment (by its magic).
pub fn is_sealed(code: &[u8]) -> bool {
    code.starts_with(&MAGIC)
}

fn state(
    local: Option<&StaticKey>,
    remote: Option<&[u8; 32]>,
    reference: &[u8; 32],
) -> Result<snow::HandshakeState, SealedError> {
    let setup = |e: snow::Error| NoiseError::Handshake(e.to_string());
    let params = PATTERN_N.parse().map_err(setup)?;
    let prologue = prologue(reference);
    let mut builder = snow::Builder::new(params)
        .prologue(&prologue)
        .map_err(setup)?;
    Ok(match (local, remote) {
        (Some(till), _) => builder
            .local_private_key(till.secret())
            .map_err(setup)?
            .build_responder()
            .map_err(setup)?,
        (None, Some(till)) => {
            builder = builder.remote_public_key(till).map_err(setup)?;
            builder.build_initiator().map_err(setup)?
        }
        (None, None) => return Err(NoiseError::WrongPeer.into()),
    })
}

/// Seals `payment` to the till whose Noise key is `till` for the sale
/// whose reference is `reference`.
pub fn seal(payment: &[u8], till: &[u8; 32], reference: &[u8; 32]) -> Result<Vec<u8>, SealedError> {
    if payment.is_empty() || payment.len() > MAX_PAYMENT {
        return Err(SealedError::Length(payment.len()));
    }
    let mut hs = state(None, Some(till), reference)?;
    let mut out = vec![0u8; OVERHEAD + payment.len()];
    out[..MAGIC.len()].copy_from_slice(&MAGIC);
    out[MAGIC.len()] = VERSION;
    let n = hs
        .write_message(payment, &mut out[MAGIC.len() + 1..])
        .map_err(|e| NoiseError::Handshake(e.to_string()))?;
    out.truncate(MAGIC.len() + 1 + n);
    Ok(out)
}

/// Opens a sealed payment with the till's key `till`, for the sale whose
/// reference is `reference`: the payment's bytes, as an unsealed code
/// would have carried them.
pub fn open(code: &[u8], till: &StaticKey, reference: &[u8; 32]) -> Result<Vec<u8>, SealedError> {
    let body = code.strip_prefix(&MAGIC).ok_or(SealedError::NotSealed)?;
    let (&version, message) = body.split_first().ok_or(SealedError::Length(code.len()))?;
    if version != VERSION {
        return Err(SealedError::Version(version));
    }
    if message.len() <= 32 + 16 || message.len() > 32 + 16 + MAX_PAYMENT {
        return Err(SealedError::Length(code.len()));
    }
    let mut hs = state(Some(till), None, reference)?;
    let mut payment = Zeroizing::new(vec![0u8; message.len()]);
    let n = hs
        .read_message(message, &mut payment)
        .map_err(|_| SealedError::NotForThisSale)?;
    Ok(payment[..n].to_vec())
}

#[cfg(test)]
mod tests;
