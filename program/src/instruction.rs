//! Instructions: their data layout (docs/program.md) and builders for clients.

use solana_program::instruction::{AccountMeta, Instruction};
use solana_program::pubkey::Pubkey;
use solana_sdk_ids::{ed25519_program, system_program, sysvar};

use crate::error::TossError;
use crate::intent::{IntentError, SignedIntent};
use crate::state::{escrow_address, escrow_tokens_address, record_address};

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
            _ => return Err(bad),
        })
    }
}

/// The currency side of an escrow: SOL, or a mint with the owner's token account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funds {
    /// Lamports held in the escrow account itself.
    Sol,
    /// Tokens of one mint, held in the escrow's token account.
    Spl {
        /// The token's mint.
        mint: Pubkey,
        /// The owner's token account (source of deposits, destination of withdrawals).
        owner_tokens: Pubkey,
    },
}

impl Funds {
    fn mint(&self) -> Option<Pubkey> {
        match self {
            Funds::Sol => None,
            Funds::Spl { mint, .. } => Some(*mint),
        }
    }
}

fn ix(program_id: &Pubkey, accounts: Vec<AccountMeta>, data: TossInstruction) -> Instruction {
    Instruction {
        program_id: *program_id,
        accounts,
        data: data.pack(),
    }
}

fn escrow_tokens(program_id: &Pubkey, escrow: &Pubkey) -> AccountMeta {
    AccountMeta::new(escrow_tokens_address(program_id, escrow).0, false)
}

/// Opens `owner`'s escrow. `cluster` is the genesis prefix of the cluster the
/// owner is connected to (read it from `getGenesisHash`).
pub fn open_escrow(
    program_id: &Pubkey,
    owner: &Pubkey,
    mint: Option<&Pubkey>,
    cluster: [u8; 8],
    withdraw_delay: u32,
) -> Instruction {
    let escrow = escrow_address(program_id, owner, mint).0;
    let mut accounts = vec![
        AccountMeta::new(*owner, true),
        AccountMeta::new(escrow, false),
        AccountMeta::new_readonly(system_program::ID, false),
    ];
    if let Some(mint) = mint {
        accounts.push(AccountMeta::new_readonly(*mint, false));
        accounts.push(escrow_tokens(program_id, &escrow));
        accounts.push(AccountMeta::new_readonly(spl_token_interface::ID, false));
    }
    let data = TossInstruction::OpenEscrow {
        cluster,
        withdraw_delay,
        spl: mint.is_some(),
    };
    ix(program_id, accounts, data)
}

/// Moves `amount` (lamports or base units) from `owner` into their escrow for `funds`.
pub fn deposit(program_id: &Pubkey, owner: &Pubkey, funds: Funds, amount: u64) -> Instruction {
    let escrow = escrow_address(program_id, owner, funds.mint().as_ref()).0;
    let accounts = match funds {
        Funds::Sol => vec![
            AccountMeta::new(*owner, true),
            AccountMeta::new(escrow, false),
            AccountMeta::new_readonly(system_program::ID, false),
        ],
        Funds::Spl { owner_tokens, .. } => vec![
            AccountMeta::new_readonly(*owner, true),
            AccountMeta::new_readonly(escrow, false),
            AccountMeta::new(owner_tokens, false),
            escrow_tokens(program_id, &escrow),
            AccountMeta::new_readonly(spl_token_interface::ID, false),
        ],
    };
    ix(program_id, accounts, TossInstruction::Deposit { amount })
}

/// Starts the time lock on withdrawing `amount` from `owner`'s escrow; 0 cancels.
pub fn request_withdrawal(
    program_id: &Pubkey,
    owner: &Pubkey,
    mint: Option<&Pubkey>,
    amount: u64,
) -> Instruction {
    let escrow = escrow_address(program_id, owner, mint).0;
    let accounts = vec![
        AccountMeta::new_readonly(*owner, true),
        AccountMeta::new(escrow, false),
    ];
    ix(
        program_id,
        accounts,
        TossInstruction::RequestWithdrawal { amount },
    )
}

/// Pays out `owner`'s requested withdrawal, capped at what the escrow still holds.
pub fn withdraw(program_id: &Pubkey, owner: &Pubkey, funds: Funds) -> Instruction {
    let escrow = escrow_address(program_id, owner, funds.mint().as_ref()).0;
    let mut accounts = vec![
        AccountMeta::new(*owner, true),
        AccountMeta::new(escrow, false),
    ];
    if let Funds::Spl { owner_tokens, .. } = funds {
        accounts.push(escrow_tokens(program_id, &escrow));
        accounts.push(AccountMeta::new(owner_tokens, false));
        accounts.push(AccountMeta::new_readonly(spl_token_interface::ID, false));
    }
    ix(program_id, accounts, TossInstruction::Withdraw)
}

/// One Ed25519 precompile instruction checking every intent's signature,
/// with all data inside the instruction and each public key read from the
/// payer field of its intent body.
pub fn ed25519_check(intents: &[&SignedIntent]) -> Result<Instruction, IntentError> {
    const OFFSETS_LEN: usize = 14;
    const THIS_IX: u16 = u16::MAX;
    let bodies = intents
        .iter()
        .map(|s| s.intent.encode())
        .collect::<Result<Vec<_>, _>>()?;
    let header = 2 + OFFSETS_LEN * intents.len();
    let mut offsets = Vec::with_capacity(header);
    let mut payload = Vec::new();
    offsets.extend_from_slice(&[intents.len() as u8, 0]);
    for (signed, body) in intents.iter().zip(&bodies) {
        let sig_at = header + payload.len();
        payload.extend_from_slice(&signed.signature);
        let body_at = header + payload.len();
        payload.extend_from_slice(body);
        // Offsets are u16 by the precompile's format; a transaction is far
        // smaller than 64 KiB, so these casts cannot truncate in practice.
        for field in [
            sig_at as u16,
            THIS_IX,
            (body_at + PAYER_OFFSET_IN_BODY) as u16,
            THIS_IX,
            body_at as u16,
            body.len() as u16,
            THIS_IX,
        ] {
            offsets.extend_from_slice(&field.to_le_bytes());
        }
    }
    offsets.extend_from_slice(&payload);
    Ok(Instruction {
        program_id: ed25519_program::ID,
        accounts: vec![],
        data: offsets,
    })
}

/// Where an SPL intent's tokens go: the payee's token account for the mint.
pub type PayeeTokens = Option<Pubkey>;

/// The settle instruction for `intents` checked by the precompile at
/// `check_ix` (signature `i` for intent `i`). SPL intents need the payee's
/// token account.
pub fn settle(
    program_id: &Pubkey,
    settler: &Pubkey,
    intents: &[(&SignedIntent, PayeeTokens)],
    check_ix: u8,
) -> Instruction {
    let mut accounts = vec![
        AccountMeta::new(*settler, true),
        AccountMeta::new_readonly(sysvar::instructions::ID, false),
        AccountMeta::new_readonly(system_program::ID, false),
    ];
    let mut items = Vec::with_capacity(intents.len());
    for (i, (signed, payee_tokens)) in intents.iter().enumerate() {
        let intent = &signed.intent;
        let escrow = escrow_address(program_id, &intent.payer, intent.mint.as_ref()).0;
        let record = record_address(program_id, &intent.payer, intent.nonce).0;
        match (intent.mint, payee_tokens) {
            (Some(_), Some(payee_tokens)) => accounts.extend([
                AccountMeta::new_readonly(escrow, false),
                AccountMeta::new(record, false),
                AccountMeta::new(*payee_tokens, false),
                escrow_tokens(program_id, &escrow),
                AccountMeta::new_readonly(spl_token_interface::ID, false),
            ]),
            _ => accounts.extend([
                AccountMeta::new(escrow, false),
                AccountMeta::new(record, false),
                AccountMeta::new(intent.payee, false),
            ]),
        }
        items.push((check_ix, i as u8));
    }
    // Each intent's Solana Pay reference, read-only after every account the
    // program reads (it ignores them): the merchant's usual look-up by
    // reference (getSignaturesForAddress) finds the settlement too.
    let mut references: Vec<Pubkey> = Vec::new();
    for (signed, _) in intents {
        if let Some(r) = signed.intent.reference
            && !references.contains(&r)
        {
            references.push(r);
        }
    }
    accounts.extend(
        references
            .iter()
            .map(|r| AccountMeta::new_readonly(*r, false)),
    );
    ix(program_id, accounts, TossInstruction::Settle { items })
}

/// The three instructions of a durable-nonce settlement, in order: advance
/// the intent's nonce (instruction 0, as the runtime requires), the
/// signature check, and `SettleDurable`. The payer signs the transaction
/// with the nonce value as its blockhash. `tokens` is `(payer's, payee's)`
/// token accounts for an SPL intent.
pub fn settle_durable(
    program_id: &Pubkey,
    signed: &SignedIntent,
    tokens: Option<(Pubkey, Pubkey)>,
) -> Result<[Instruction; 3], TossError> {
    let intent = &signed.intent;
    let nonce = intent.durable_nonce.ok_or(TossError::NotDurableIntent)?;
    let advance =
        solana_system_interface::instruction::advance_nonce_account(&nonce.account, &intent.payer);
    let check = ed25519_check(&[signed]).map_err(|_| TossError::IntentMalformed)?;
    let mut accounts = vec![
        AccountMeta::new(intent.payer, true),
        AccountMeta::new_readonly(sysvar::instructions::ID, false),
        AccountMeta::new_readonly(system_program::ID, false),
        AccountMeta::new(
            record_address(program_id, &intent.payer, intent.nonce).0,
            false,
        ),
    ];
    match tokens {
        Some((payer_tokens, payee_tokens)) => accounts.extend([
            AccountMeta::new(payer_tokens, false),
            AccountMeta::new(payee_tokens, false),
            AccountMeta::new_readonly(spl_token_interface::ID, false),
        ]),
        None => accounts.push(AccountMeta::new(intent.payee, false)),
    }
    let data = TossInstruction::SettleDurable {
        check_ix: 1,
        signature: 0,
    };
    Ok([advance, check, ix(program_id, accounts, data)])
}

/// Closes an expired intent's settlement record, returning its rent to `rent_payer`.
pub fn close_record(program_id: &Pubkey, record: &Pubkey, rent_payer: &Pubkey) -> Instruction {
    let accounts = vec![
        AccountMeta::new(*record, false),
        AccountMeta::new(*rent_payer, false),
    ];
    ix(program_id, accounts, TossInstruction::CloseRecord)
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
        ] {
            assert_eq!(TossInstruction::unpack(&i.pack()).unwrap(), i);
        }
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
