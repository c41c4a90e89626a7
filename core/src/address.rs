//! Solana account addresses as they appear in settings, files and the UI.
//!
//! The core parses addresses itself (base58, exactly 32 bytes) so that a
//! mistyped program id or payee is rejected where the user typed it, with a
//! message that says what is wrong, instead of deep inside a transaction.

/// The key type Solana's crates use, for callers that do not depend on them.
pub use solana_program::pubkey::Pubkey;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A 32-byte Solana address (public key), shown in base58.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 32]);

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The string has a character outside the base58 alphabet.
    #[error("not base58 (Solana addresses use the characters 1-9, A-H, J-N, P-Z, a-k, m-z)")]
    NotBase58,
    /// Valid base58 that decodes to other than 32 bytes; carries the length.
    #[error("decodes to {0} bytes; a Solana address is 32 bytes")]
    WrongLength(usize),
}

impl Address {
    /// The address with these raw key bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 key bytes.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Decode into a larger buffer so an over-long string reports its real
        // length rather than a generic buffer error.
        let mut buf = [0u8; 64];
        let len = bs58::decode(s).onto(&mut buf[..]).map_err(|e| match e {
            bs58::decode::Error::BufferTooSmall => AddressError::WrongLength(buf.len() + 1),
            _ => AddressError::NotBase58,
        })?;
        let bytes: [u8; 32] = buf[..len]
            .try_into()
            .map_err(|_| AddressError::WrongLength(len))?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl From<Address> for solana_program::pubkey::Pubkey {
    fn from(a: Address) -> Self {
        Self::new_from_array(a.0)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The associated token account program: where a wallet's tokens live.
pub(crate) const ATA_PROGRAM: solana_program::pubkey::Pubkey =
    solana_program::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// The associated token account of `owner` for `mint` (SPL Token).
pub fn associated_token_account(
    owner: &solana_program::pubkey::Pubkey,
    mint: &solana_program::pubkey::Pubkey,
) -> solana_program::pubkey::Pubkey {
    solana_program::pubkey::Pubkey::find_program_address(
        &[
            owner.as_ref(),
            spl_token_interface::ID.as_ref(),
            mint.as_ref(),
        ],
        &ATA_PROGRAM,
    )
    .0
}

/// Opens `owner`'s associated token account for `mint` unless it exists
/// (the ATA program's `CreateIdempotent`, instruction 1), `funder` paying
/// its rent: a payment in tokens to a wallet that never held the token.
pub fn create_associated_token_account(
    funder: &solana_program::pubkey::Pubkey,
    owner: &solana_program::pubkey::Pubkey,
    mint: &solana_program::pubkey::Pubkey,
) -> solana_program::instruction::Instruction {
    use solana_program::instruction::AccountMeta;
    solana_program::instruction::Instruction {
        program_id: ATA_PROGRAM,
        accounts: vec![
            AccountMeta::new(*funder, true),
            AccountMeta::new(associated_token_account(owner, mint), false),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(solana_system_interface::program::ID, false),
            AccountMeta::new_readonly(spl_token_interface::ID, false),
        ],
        data: vec![1],
    }
}

/// Serializes a public key as base58, as people and other tools expect it.
pub fn serialize_pubkey<S: Serializer>(
    key: &solana_program::pubkey::Pubkey,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&key.to_string())
}

/// An optional public key the same way (`null` when absent).
pub fn serialize_opt_pubkey<S: Serializer>(
    key: &Option<solana_program::pubkey::Pubkey>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match key {
        Some(k) => serializer.serialize_some(&k.to_string()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The System Program's address: 32 zero bytes.
    const SYSTEM: &str = "11111111111111111111111111111111";

    #[test]
    fn round_trips_a_known_address() {
        let a: Address = SYSTEM.parse().unwrap();
        assert_eq!(a.to_bytes(), [0u8; 32]);
        assert_eq!(a.to_string(), SYSTEM);
        let token: Address = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
            .parse()
            .unwrap();
        assert_eq!(
            token.to_string(),
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
        );
    }

    #[test]
    fn rejects_non_base58() {
        assert_eq!("0OIl".parse::<Address>(), Err(AddressError::NotBase58));
    }

    #[test]
    fn rejects_wrong_lengths() {
        assert_eq!("1111".parse::<Address>(), Err(AddressError::WrongLength(4)));
        let long = "z".repeat(120);
        assert!(matches!(
            long.parse::<Address>(),
            Err(AddressError::WrongLength(n)) if n > 32
        ));
        assert_eq!("".parse::<Address>(), Err(AddressError::WrongLength(0)));
    }
}
