//! Instructions: their data layout (docs/program.md), shared by the
//! program and its clients, and the clients' builders.

use alloc::vec::Vec;

use crate::error::TossError;

#[cfg(not(target_os = "solana"))]
mod builders;
#[cfg(not(target_os = "solana"))]
pub use builders::*;

/// Offset of the payer's key inside an intent body: the precompile reads the
/// public key from there, so batch settlement does not carry it twice.
pub const PAYER_OFFSET_IN_BODY: usize = 47;

/// What the program can be asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TossInstruction {
    /// Opens the signer's escrow for SOL or for one SPL mint.
    ///
    /// Accounts: owner (signer, writable), escrow (writable), system program;
    /// for SPL also: mint, escrow token account (writable), token program.
    OpenEscrow {
        /// Genesis prefix of the cluster the escrow accepts intents for.
        cluster: [u8; 8],
        /// Withdrawal time lock in seconds, from 1 hour to 30 days.
        withdraw_delay: u32,
        /// True for an SPL mint escrow (mint and token accounts follow), false for SOL.
        spl: bool,
    },
    /// Moves funds from the owner into the escrow.
    ///
    /// Accounts: owner (signer, writable), escrow (writable), system program;
    /// for SPL: owner (signer), escrow, owner token account (writable), escrow
    /// token account (writable), token program.
    Deposit {
        /// Lamports or the mint's base units to move in.
        amount: u64,
    },
    /// Starts the withdrawal time lock; `amount` 0 cancels a request.
    ///
    /// Accounts: owner (signer), escrow (writable).
    RequestWithdrawal {
        /// Lamports or base units to withdraw later; 0 cancels the pending request.
        amount: u64,
    },
    /// Pays out a requested withdrawal once its time lock has passed.
    ///
    /// Accounts: owner (signer, writable), escrow (writable); for SPL also:
    /// escrow token account (writable), owner token account (writable), token program.
    Withdraw,
    /// Settles intents from escrows. Each item names the Ed25519 precompile
    /// instruction and the signature in it that checked the intent.
    ///
    /// Accounts: settler (signer, writable: pays settlement record rent), instructions
    /// sysvar, system program; then per intent, SOL: escrow (writable), settlement record
    /// (writable), payee (writable); SPL: escrow, settlement record (writable), payee
    /// token account (writable), escrow token account (writable), token program.
    Settle {
        /// Per intent: (index of the precompile instruction, index of the signature in it).
        items: Vec<(u8, u8)>,
    },
    /// Settles one durable-nonce intent from the payer's own account, in a
    /// transaction the payer signed offline whose instruction 0 advances the
    /// intent's nonce account.
    ///
    /// Accounts: payer (signer, writable), instructions sysvar, system
    /// program, settlement record (writable); SOL: payee (writable); SPL: payer token
    /// account (writable), payee token account (writable), token program.
    SettleDurable {
        /// Index of the Ed25519 precompile instruction in the transaction.
        check_ix: u8,
        /// Index of the intent's signature within that instruction.
        signature: u8,
    },
    /// Settles intents from escrows like `Settle`, the program checking each
    /// payer's signature itself (`ed25519::verify_strict`) instead of the
    /// precompile: for clusters without it.
    ///
    /// Accounts: settler (signer, writable), system program; then per
    /// intent as for `Settle`.
    SettleSigned {
        /// Each signed intent's wire bytes (body and signature).
        intents: Vec<Vec<u8>>,
    },
    /// Returns an expired intent's settlement record rent to whoever paid it.
    ///
    /// Accounts: settlement record (writable), rent payer (writable).
    CloseRecord,
}

impl TossInstruction {
    /// Encodes the instruction data: a one-byte tag, then its fields little-endian.
    pub fn pack(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::OpenEscrow {
                cluster,
                withdraw_delay,
                spl,
            } => {
                out.push(0);
                out.extend_from_slice(cluster);
                out.extend_from_slice(&withdraw_delay.to_le_bytes());
                out.push(u8::from(*spl));
            }
            Self::Deposit { amount } => {
                out.push(1);
                out.extend_from_slice(&amount.to_le_bytes());
            }
            Self::RequestWithdrawal { amount } => {
                out.push(2);
                out.extend_from_slice(&amount.to_le_bytes());
            }
            Self::Withdraw => out.push(3),
            Self::Settle { items } => {
                out.push(4);
                // Builders never make more than a transaction can hold (< 256).
                out.push(items.len() as u8);
                for (ix, sig) in items {
                    out.extend_from_slice(&[*ix, *sig]);
                }
            }
            Self::SettleDurable {
                check_ix,
                signature,
            } => out.extend_from_slice(&[5, *check_ix, *signature]),
            Self::CloseRecord => out.push(6),
            Self::SettleSigned { intents } => {
                out.push(7);
                // Builders never make more than a transaction can hold.
                out.push(intents.len() as u8);
                for wire in intents {
                    out.extend_from_slice(&(wire.len() as u16).to_le_bytes());
                    out.extend_from_slice(wire);
                }
            }
        }
        out
    }

    /// Decodes instruction data; `InvalidInstruction` for an unknown tag or wrong length.
    pub fn unpack(data: &[u8]) -> Result<Self, TossError> {
        let bad = TossError::InvalidInstruction;
        let (&tag, rest) = data.split_first().ok_or(bad)?;
        let u64_only = |rest: &[u8]| -> Result<u64, TossError> {
            Ok(u64::from_le_bytes(rest.try_into().map_err(|_| bad)?))
        };
        Ok(match tag {
            0 => {
                let rest: [u8; 13] = rest.try_into().map_err(|_| bad)?;
                let mut cluster = [0; 8];
                cluster.copy_from_slice(&rest[..8]);
                let mut delay = [0; 4];
                delay.copy_from_slice(&rest[8..12]);
                let spl = match rest[12] {
                    0 => false,
                    1 => true,
                    _ => return Err(bad),
                };
                Self::OpenEscrow {
                    cluster,
                    withdraw_delay: u32::from_le_bytes(delay),
                    spl,
                }
            }
            1 => Self::Deposit {
                amount: u64_only(rest)?,
            },
            2 => Self::RequestWithdrawal {
                amount: u64_only(rest)?,
            },
            3 if rest.is_empty() => Self::Withdraw,
            4 => {
                let (&n, pairs) = rest.split_first().ok_or(bad)?;
                if n == 0 || pairs.len() != usize::from(n) * 2 {
                    return Err(bad);
                }
                Self::Settle {
                    items: pairs.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
                }
            }
            5 => match rest {
                [check_ix, signature] => Self::SettleDurable {
                    check_ix: *check_ix,
                    signature: *signature,
                },
                _ => return Err(bad),
            },
            6 if rest.is_empty() => Self::CloseRecord,
            7 => {
                let (&n, mut rest) = rest.split_first().ok_or(bad)?;
                let mut intents = Vec::new();
                for _ in 0..n {
                    let (len, tail) = rest.split_first_chunk::<2>().ok_or(bad)?;
                    let len = usize::from(u16::from_le_bytes(*len));
                    let wire = tail.get(..len).ok_or(bad)?;
                    intents.push(wire.to_vec());
                    rest = &tail[len..];
                }
                if n == 0 || !rest.is_empty() {
                    return Err(bad);
                }
                Self::SettleSigned { intents }
            }
            _ => return Err(bad),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instruction_round_trips() {
        for i in [
            TossInstruction::OpenEscrow {
                cluster: [7; 8],
                withdraw_delay: 86_400,
                spl: true,
            },
            TossInstruction::Deposit { amount: 42 },
            TossInstruction::RequestWithdrawal { amount: 0 },
            TossInstruction::Withdraw,
            TossInstruction::Settle {
                items: vec![(0, 0), (0, 1), (2, 0)],
            },
            TossInstruction::SettleDurable {
                check_ix: 1,
                signature: 0,
            },
            TossInstruction::CloseRecord,
            TossInstruction::SettleSigned {
                intents: vec![vec![1, 2, 3], vec![], vec![9; 300]],
            },
        ] {
            assert_eq!(TossInstruction::unpack(&i.pack()).unwrap(), i);
        }
    }

    #[test]
    fn the_compute_unit_limit_is_the_budget_programs_instruction() {
        let ix = compute_unit_limit(123_456);
        assert_eq!(
            ix.program_id.to_string(),
            "ComputeBudget111111111111111111111111111111"
        );
        assert_eq!(ix.data, [2, 0x40, 0xE2, 0x01, 0x00]);
        assert!(ix.accounts.is_empty());
    }

    #[test]
    fn malformed_data_is_refused() {
        for bad in [
            &[][..],
            &[9],
            &[1, 0, 0],
            &[3, 0],
            &[4, 0],
            &[4, 2, 0, 0, 1],
            &[5, 1],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 2],
        ] {
            assert_eq!(
                TossInstruction::unpack(bad),
                Err(TossError::InvalidInstruction),
                "{bad:?}"
            );
        }
    }
}
