//! Instruction builders for clients, over the SDK's types.

use solana_program::instruction::{AccountMeta, Instruction};
use solana_program::pubkey::Pubkey;
use solana_sdk_ids::{ed25519_program, system_program, sysvar};

use super::{PAYER_OFFSET_IN_BODY, TossInstruction};
use crate::error::TossError;
use crate::intent::{IntentError, SignedIntent};
use crate::state::{escrow_address, escrow_tokens_address, record_address};

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
    accounts.extend(intent_accounts(program_id, intents));
    let items = (0..intents.len()).map(|i| (check_ix, i as u8)).collect();
    ix(program_id, accounts, TossInstruction::Settle { items })
}

/// The settle instruction that checks each signature in the program
/// (`SettleSigned`): no precompile instruction goes with it.
pub fn settle_signed(
    program_id: &Pubkey,
    settler: &Pubkey,
    intents: &[(&SignedIntent, PayeeTokens)],
) -> Result<Instruction, IntentError> {
    let mut accounts = vec![
        AccountMeta::new(*settler, true),
        AccountMeta::new_readonly(system_program::ID, false),
    ];
    accounts.extend(intent_accounts(program_id, intents));
    let intents = intents
        .iter()
        .map(|(s, _)| s.to_bytes())
        .collect::<Result<_, _>>()?;
    Ok(ix(
        program_id,
        accounts,
        TossInstruction::SettleSigned { intents },
    ))
}

/// Each intent's accounts (escrow, record, payee or token accounts), then
/// each Solana Pay reference once, read-only after every account the
/// program reads (it ignores them): the merchant's usual look-up by
/// reference (getSignaturesForAddress) finds the settlement too.
fn intent_accounts(
    program_id: &Pubkey,
    intents: &[(&SignedIntent, PayeeTokens)],
) -> Vec<AccountMeta> {
    let mut accounts = Vec::new();
    for (signed, payee_tokens) in intents {
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
    }
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
    accounts
}

/// The compute units a settlement transaction needs (its `Settle`
/// instruction and the programs that calls), for the compute-unit limit it
/// asks for: the SBF build's measured costs (docs/program.md, `benches/cu.rs`)
/// plus [`SETTLE_CU_MARGIN_PERCENT`]. Exact where the costs vary: each intent's
/// settlement record address (and, for a token, its escrow's token account)
/// is found by a bump search the program repeats, one `create_program_address`
/// per try, which this counts as the client can.
pub fn settle_compute_units(
    program_id: &Pubkey,
    intents: &[&SignedIntent],
    checked_by_program: bool,
) -> u32 {
    /// The instruction with no intent: accounts, sysvars.
    const BASE: u64 = 500;
    /// One SOL intent: decode, SHA-256, the record's creation, the move.
    const PER_SOL: u64 = 7_200;
    /// One token intent: as SOL, plus the token program's transfer signed
    /// by the escrow.
    const PER_SPL: u64 = 15_500;
    /// One more try of a bump search.
    const PER_TRY: u64 = 1_500;
    /// The program's own strict signature check (`SettleSigned`): SHA-512
    /// of the message, three curve operations.
    const PER_SIGNATURE: u64 = 37_000;
    let tries = |bump: u8| u64::from(255 - bump);
    let mut units = BASE;
    for signed in intents {
        let intent = &signed.intent;
        units += tries(record_address(program_id, &intent.payer, intent.nonce).1) * PER_TRY;
        if checked_by_program {
            units += PER_SIGNATURE;
        }
        units += match intent.mint {
            None => PER_SOL,
            Some(mint) => {
                let escrow = escrow_address(program_id, &intent.payer, Some(&mint)).0;
                PER_SPL + tries(escrow_tokens_address(program_id, &escrow).1) * PER_TRY
            }
        };
    }
    let units = units + units * SETTLE_CU_MARGIN_PERCENT / 100;
    u32::try_from(units)
        .unwrap_or(u32::MAX)
        .min(MAX_COMPUTE_UNITS)
}

/// The margin over the measured cost a settlement asks for: the figures are
/// this toolchain's, and a cluster's costs can move between releases.
pub const SETTLE_CU_MARGIN_PERCENT: u64 = 20;

/// The most compute units a transaction may ask for.
pub const MAX_COMPUTE_UNITS: u32 = 1_400_000;

/// The compute budget program's `SetComputeUnitLimit`: a transaction asks
/// for what it needs instead of the default 200,000 per instruction (the
/// scheduler and, under SIMD-0553, the fee go by what is requested).
pub fn compute_unit_limit(units: u32) -> Instruction {
    let mut data = vec![2];
    data.extend_from_slice(&units.to_le_bytes());
    Instruction {
        program_id: solana_program::pubkey!("ComputeBudget111111111111111111111111111111"),
        accounts: Vec::new(),
        data,
    }
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
