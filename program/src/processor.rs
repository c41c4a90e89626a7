//! What each instruction does, on chain. Every check that protects money
//! happens here, before any lamport or token moves; a failed check fails the
//! whole transaction, so a batch settles all its intents or none.
//!
//! pinocchio over `core` and `alloc`, written to the limits of the upstream
//! LLVM BPF backend `scripts/sbf/build` uses: at most five arguments per
//! call (several go in a struct), no 128-bit or floating-point arithmetic,
//! and helpers that return two registers' worth inlined.

// Two `unsafe` blocks: reading the instructions sysvar's data as that
// sysvar, after its address was checked.
#![allow(unsafe_code)]

use alloc::vec::Vec;

use pinocchio::cpi::{Seed, Signer, invoke_signed};
use pinocchio::instruction::{InstructionAccount, InstructionView};
use pinocchio::sysvars::Sysvar;
use pinocchio::sysvars::clock::Clock;
use pinocchio::sysvars::instructions::Instructions;
use pinocchio::{AccountView, ProgramResult, Resize};

use crate::error::TossError;
use crate::ids;
use crate::instruction::TossInstruction;
use crate::intent::{Intent, SignedIntent};
use crate::state::{
    ESCROW_SEED, ESCROW_TOKENS_SEED, EscrowState, MAX_WITHDRAW_DELAY, MIN_WITHDRAW_DELAY,
    RECORD_SEED, SettlementRecord, WITHDRAW_WINDOW, escrow_address, escrow_tokens_address,
    record_address,
};
use crate::{ProgramError, Pubkey};

/// The accounts an instruction was given, taken in order.
type Accounts<'a> = core::slice::Iter<'a, AccountView>;

const SYSTEM: Pubkey = Pubkey::new_from_array(ids::SYSTEM_PROGRAM);
const TOKEN: Pubkey = Pubkey::new_from_array(ids::TOKEN_PROGRAM);
/// Bytes of an SPL Token account.
const TOKEN_ACCOUNT_LEN: usize = 165;

/// Decodes `data` and runs that instruction on `accounts`.
pub fn process_instruction(
    program_id: &Pubkey,
    accounts: &[AccountView],
    data: &[u8],
) -> ProgramResult {
    let it = &mut accounts.iter();
    match TossInstruction::unpack(data)? {
        TossInstruction::OpenEscrow {
            cluster,
            withdraw_delay,
            spl,
        } => open_escrow(
            program_id,
            it,
            &Open {
                cluster,
                withdraw_delay,
                spl,
            },
        ),
        TossInstruction::Deposit { amount } => deposit(program_id, it, amount),
        TossInstruction::RequestWithdrawal { amount } => request_withdrawal(program_id, it, amount),
        TossInstruction::Withdraw => withdraw(program_id, it),
        TossInstruction::Settle { items } => settle(program_id, it, &items),
        TossInstruction::SettleDurable {
            check_ix,
            signature,
        } => settle_durable(program_id, it, check_ix, signature),
        TossInstruction::CloseRecord => close_record(program_id, it),
        TossInstruction::SettleSigned { intents } => settle_signed(program_id, it, &intents),
    }
}

/// What `OpenEscrow` asks for.
struct Open {
    cluster: [u8; 8],
    withdraw_delay: u32,
    spl: bool,
}

fn open_escrow(program_id: &Pubkey, it: &mut Accounts, open: &Open) -> ProgramResult {
    let owner = signer(it)?;
    let mut escrow = next(it)?;
    next_key(it, &SYSTEM)?;
    if !(MIN_WITHDRAW_DELAY..=MAX_WITHDRAW_DELAY).contains(&open.withdraw_delay) {
        return Err(TossError::InvalidWithdrawDelay.into());
    }
    let mint = match open.spl {
        true => Some(next(it)?),
        false => None,
    };
    let mint_key = mint.map(|m| *m.address()).unwrap_or_default();
    let (address, bump) = escrow_address(
        program_id,
        owner.address(),
        mint.as_ref().map(|m| m.address()),
    );
    if *escrow.address() != address {
        return Err(TossError::WrongEscrow.into());
    }
    if escrow.owned_by(program_id) {
        return Err(TossError::AlreadyInitialized.into());
    }
    let bump = [bump];
    let seeds = [
        Seed::from(ESCROW_SEED),
        Seed::from(owner.address().as_ref()),
        Seed::from(mint_key.as_ref()),
        Seed::from(&bump),
    ];
    let new = NewAccount {
        funder: &owner,
        account: &escrow,
        len: EscrowState::LEN,
        owner: program_id,
    };
    create_pda(&new, &Signer::from(&seeds))?;
    EscrowState {
        bump: bump[0],
        owner: *owner.address(),
        mint: mint_key,
        cluster: open.cluster,
        withdraw_delay: open.withdraw_delay,
        pending_withdrawal: 0,
        requested_at: 0,
    }
    .pack(&mut escrow.try_borrow_mut()?)?;

    if let Some(mint) = mint {
        let tokens = next(it)?;
        next_key(it, &TOKEN)?;
        let (address, bump) = escrow_tokens_address(program_id, escrow.address());
        if *tokens.address() != address {
            return Err(TossError::WrongEscrow.into());
        }
        let bump = [bump];
        let seeds = [
            Seed::from(ESCROW_TOKENS_SEED),
            Seed::from(escrow.address().as_ref()),
            Seed::from(&bump),
        ];
        let new = NewAccount {
            funder: &owner,
            account: &tokens,
            len: TOKEN_ACCOUNT_LEN,
            owner: &TOKEN,
        };
        create_pda(&new, &Signer::from(&seeds))?;
        // InitializeAccount3: the escrow's address owns the token account.
        let mut data = [0u8; 33];
        data[0] = 18;
        data[1..].copy_from_slice(escrow.address().as_ref());
        let metas = [
            InstructionAccount::writable(tokens.address()),
            InstructionAccount::readonly(mint.address()),
        ];
        let ix = InstructionView {
            program_id: &TOKEN,
            data: &data,
            accounts: &metas,
        };
        invoke_signed(&ix, &[&tokens, &mint], &[])?;
    }
    Ok(())
}

fn deposit(program_id: &Pubkey, it: &mut Accounts, amount: u64) -> ProgramResult {
    let (owner, escrow_info, escrow) = owner_and_escrow(program_id, it)?;
    match escrow.mint() {
        None => {
            next_key(it, &SYSTEM)?;
            system_transfer(&owner, &escrow_info, amount, &[])
        }
        Some(mint) => {
            let from = next(it)?;
            let tokens = escrow_tokens(program_id, &escrow_info, it)?;
            next_key(it, &TOKEN)?;
            expect_mint(&tokens, &mint)?;
            let moved = TokenMove {
                from: &from,
                to: &tokens,
                authority: &owner,
                amount,
            };
            token_transfer(&moved, &[])
        }
    }
}

fn request_withdrawal(program_id: &Pubkey, it: &mut Accounts, amount: u64) -> ProgramResult {
    let (_, escrow_info, mut escrow) = owner_and_escrow(program_id, it)?;
    escrow.pending_withdrawal = amount;
    escrow.requested_at = match amount {
        0 => 0,
        _ => Clock::get()?.unix_timestamp,
    };
    let mut info = escrow_info;
    escrow.pack(&mut info.try_borrow_mut()?)?;
    Ok(())
}

fn withdraw(program_id: &Pubkey, it: &mut Accounts) -> ProgramResult {
    let (owner, escrow_info, mut escrow) = owner_and_escrow(program_id, it)?;
    if escrow.pending_withdrawal == 0 {
        return Err(TossError::NoWithdrawalRequested.into());
    }
    let unlocks_at = escrow
        .requested_at
        .checked_add(i64::from(escrow.withdraw_delay))
        .ok_or(TossError::Overflow)?;
    let now = Clock::get()?.unix_timestamp;
    if now < unlocks_at {
        return Err(TossError::WithdrawalLocked.into());
    }
    if now > unlocks_at.saturating_add(i64::from(WITHDRAW_WINDOW)) {
        return Err(TossError::WithdrawalLapsed.into());
    }
    // Settlements that came first have priority: pay out what is left.
    match escrow.mint() {
        None => {
            let amount = escrow
                .pending_withdrawal
                .min(spendable_lamports(&escrow_info)?);
            move_lamports(&escrow_info, &owner, amount)?;
        }
        Some(mint) => {
            let tokens = escrow_tokens(program_id, &escrow_info, it)?;
            let to = next(it)?;
            next_key(it, &TOKEN)?;
            let held = expect_mint(&tokens, &mint)?.amount;
            let moved = TokenMove {
                from: &tokens,
                to: &to,
                authority: &escrow_info,
                amount: escrow.pending_withdrawal.min(held),
            };
            escrow_token_transfer(&escrow, &moved)?;
        }
    }
    escrow.pending_withdrawal = 0;
    escrow.requested_at = 0;
    let mut info = escrow_info;
    escrow.pack(&mut info.try_borrow_mut()?)?;
    Ok(())
}

#[inline(never)]
fn settle(program_id: &Pubkey, it: &mut Accounts, items: &[(u8, u8)]) -> ProgramResult {
    let settler = signer(it)?;
    let instructions = next_key(it, &Pubkey::new_from_array(ids::INSTRUCTIONS_SYSVAR))?;
    next_key(it, &SYSTEM)?;
    let mut intents = Vec::with_capacity(items.len());
    for &(check_ix, signature) in items {
        intents.push(checked_intent(&instructions, check_ix, signature)?);
    }
    settle_intents(
        program_id,
        it,
        &Checked {
            settler,
            intents: &intents,
        },
    )
}

/// `SettleSigned`: each intent's signature checked here, strictly.
#[inline(never)]
fn settle_signed(program_id: &Pubkey, it: &mut Accounts, wires: &[Vec<u8>]) -> ProgramResult {
    let settler = signer(it)?;
    next_key(it, &SYSTEM)?;
    let mut intents = Vec::with_capacity(wires.len());
    for wire in wires {
        let signed = SignedIntent::from_bytes(wire).map_err(|_| TossError::IntentMalformed)?;
        let body = &wire[..wire.len() - crate::intent::SIGNATURE_LEN];
        let payer = signed.intent.payer.to_bytes();
        if !crate::ed25519::verify_strict(&signed.signature, &payer, body) {
            return Err(TossError::BadSignature.into());
        }
        intents.push(signed);
    }
    settle_intents(
        program_id,
        it,
        &Checked {
            settler,
            intents: &intents,
        },
    )
}

/// Intents whose signatures were checked, and who pays their records' rent.
struct Checked<'a> {
    settler: AccountView,
    intents: &'a [SignedIntent],
}

/// Settles intents whose signatures were checked, each with its accounts.
#[inline(never)]
fn settle_intents(program_id: &Pubkey, it: &mut Accounts, checked: &Checked) -> ProgramResult {
    let (settler, intents) = (&checked.settler, checked.intents);
    let now = Clock::get()?.unix_timestamp;
    // SOL moves wait until every CPI of the batch is done: a CPI may only
    // start while the caller's accounts are balanced as the runtime sees
    // them, and a direct lamport move made earlier is only half visible to
    // it when the fee payer is also a payee. Kept as (escrow, payee) pairs
    // and amounts: vectors of 8-byte items, which the backend can grow.
    let mut sol_pairs: Vec<AccountView> = Vec::new();
    let mut sol_amounts: Vec<u64> = Vec::new();

    for signed in intents {
        let intent = &signed.intent;
        check_common(program_id, intent, now)?;
        if intent.durable_nonce.is_some() {
            return Err(TossError::DurableIntentInEscrow.into());
        }
        let escrow_info = next(it)?;
        let escrow = load_escrow(program_id, &escrow_info)?;
        // An account this program owns holding an escrow was made by
        // `OpenEscrow`, only ever at the address derived from its owner and
        // mint: checking those two fields identifies it as surely as
        // deriving the address again, without the ~1,500 CU per try that
        // costs for every intent.
        if escrow.owner != intent.payer || escrow.mint() != intent.mint {
            return Err(TossError::WrongEscrow.into());
        }
        if escrow.cluster != intent.cluster {
            return Err(TossError::WrongCluster.into());
        }
        let record = next(it)?;
        let write = RecordWrite {
            signed,
            record: &record,
            rent_payer: settler,
            now,
        };
        write_record(program_id, &write)?;
        match intent.mint {
            None => {
                let payee = next(it)?;
                if *payee.address() != intent.payee {
                    return Err(TossError::WrongPayee.into());
                }
                sol_pairs.push(escrow_info);
                sol_pairs.push(payee);
                sol_amounts.push(intent.amount);
            }
            Some(mint) => {
                let payee_tokens = next(it)?;
                let tokens = escrow_tokens(program_id, &escrow_info, it)?;
                next_key(it, &TOKEN)?;
                expect_payee_tokens(&payee_tokens, intent, &mint)?;
                if expect_mint(&tokens, &mint)?.amount < intent.amount {
                    return Err(TossError::InsufficientEscrowFunds.into());
                }
                let moved = TokenMove {
                    from: &tokens,
                    to: &payee_tokens,
                    authority: &escrow_info,
                    amount: intent.amount,
                };
                escrow_token_transfer(&escrow, &moved)?;
            }
        }
    }
    for (pair, amount) in sol_pairs.chunks_exact(2).zip(sol_amounts) {
        if amount > spendable_lamports(&pair[0])? {
            return Err(TossError::InsufficientEscrowFunds.into());
        }
        move_lamports(&pair[0], &pair[1], amount)?;
    }
    Ok(())
}

fn settle_durable(
    program_id: &Pubkey,
    it: &mut Accounts,
    check_ix: u8,
    signature: u8,
) -> ProgramResult {
    let payer = signer(it)?;
    let instructions = next_key(it, &Pubkey::new_from_array(ids::INSTRUCTIONS_SYSVAR))?;
    next_key(it, &SYSTEM)?;
    let record = next(it)?;
    let now = Clock::get()?.unix_timestamp;

    let signed = checked_intent(&instructions, check_ix, signature)?;
    let intent = &signed.intent;
    check_common(program_id, intent, now)?;
    let nonce = intent.durable_nonce.ok_or(TossError::NotDurableIntent)?;
    if *payer.address() != intent.payer {
        return Err(TossError::NotEscrowOwner.into());
    }
    // The runtime accepts a durable-nonce transaction only if instruction 0
    // advances its nonce; requiring that it is *this intent's* nonce account
    // (with the payer as authority) ties the intent to that one transaction.
    if !advances_nonce(&instructions, &nonce.account, &intent.payer)? {
        return Err(TossError::DurableNonceNotAdvanced.into());
    }
    let write = RecordWrite {
        signed: &signed,
        record: &record,
        rent_payer: &payer,
        now,
    };
    write_record(program_id, &write)?;
    match intent.mint {
        None => {
            let payee = next(it)?;
            if *payee.address() != intent.payee {
                return Err(TossError::WrongPayee.into());
            }
            system_transfer(&payer, &payee, intent.amount, &[])
        }
        Some(mint) => {
            let from = next(it)?;
            let to = next(it)?;
            next_key(it, &TOKEN)?;
            expect_mint(&from, &mint)?;
            expect_payee_tokens(&to, intent, &mint)?;
            let moved = TokenMove {
                from: &from,
                to: &to,
                authority: &payer,
                amount: intent.amount,
            };
            token_transfer(&moved, &[])
        }
    }
}

/// Whether instruction 0 is the system program's `AdvanceNonceAccount` of
/// `nonce` with `authority`.
fn advances_nonce(
    instructions: &AccountView,
    nonce: &Pubkey,
    authority: &Pubkey,
) -> Result<bool, ProgramError> {
    let data = instructions.try_borrow()?;
    // SAFETY: the account was checked to be the instructions sysvar.
    let all = unsafe { Instructions::new_unchecked(&*data) };
    let first = all.load_instruction_at(0)?;
    let account = |i| first.get_instruction_account_at(i).map(|a| a.key);
    Ok(*first.get_program_id() == SYSTEM
        && first.get_instruction_data() == [4, 0, 0, 0]
        && account(0).ok() == Some(*nonce)
        && account(2).ok() == Some(*authority))
}

fn close_record(program_id: &Pubkey, it: &mut Accounts) -> ProgramResult {
    let mut record_info = next(it)?;
    let rent_payer = next(it)?;
    if !record_info.owned_by(program_id) {
        return Err(TossError::NotInitialized.into());
    }
    let record = SettlementRecord::unpack(&record_info.try_borrow()?)?;
    if Clock::get()?.unix_timestamp <= i64::from(record.expires_at) {
        return Err(TossError::RecordStillNeeded.into());
    }
    if *rent_payer.address() != record.rent_payer {
        return Err(TossError::WrongRentPayer.into());
    }
    record_info.try_borrow_mut()?.fill(0);
    move_lamports(&record_info, &rent_payer, record_info.lamports())?;
    record_info.resize(0)?;
    record_info.assign(&SYSTEM);
    Ok(())
}

/// Reads the intent that Ed25519 precompile instruction `check_ix` verified
/// as its signature number `index`, insisting that the signature, key and
/// message all live in that instruction and that the key is the payer's.
fn checked_intent(
    instructions: &AccountView,
    check_ix: u8,
    index: u8,
) -> Result<SignedIntent, ProgramError> {
    let sysvar = instructions.try_borrow()?;
    // SAFETY: the account was checked to be the instructions sysvar.
    let all = unsafe { Instructions::new_unchecked(&*sysvar) };
    let check = all
        .load_instruction_at(usize::from(check_ix))
        .map_err(|_| TossError::MissingSignatureCheck)?;
    if check.get_program_id().as_ref() != ids::ED25519_PROGRAM {
        return Err(TossError::MissingSignatureCheck.into());
    }
    let data = check.get_instruction_data();
    let mismatch = TossError::SignatureCheckMismatch;
    let count = *data.first().ok_or(mismatch)?;
    if index >= count {
        return Err(mismatch.into());
    }
    let at = 2 + 14 * usize::from(index);
    let offsets = data.get(at..at + 14).ok_or(mismatch)?;
    let field = |i: usize| usize::from(u16::from_le_bytes([offsets[2 * i], offsets[2 * i + 1]]));
    let this_ix = usize::from(u16::MAX);
    if field(1) != this_ix || field(3) != this_ix || field(6) != this_ix {
        return Err(mismatch.into());
    }
    let slice = |at: usize, len: usize| data.get(at..at.checked_add(len)?);
    let signature: [u8; 64] = slice(field(0), 64)
        .and_then(|s| s.try_into().ok())
        .ok_or(mismatch)?;
    let key = slice(field(2), 32).ok_or(mismatch)?;
    let body = slice(field(4), field(5)).ok_or(mismatch)?;
    let intent = Intent::decode(body).map_err(|_| TossError::IntentMalformed)?;
    if key != intent.payer.as_ref() {
        return Err(mismatch.into());
    }
    Ok(SignedIntent { intent, signature })
}

/// Checks shared by both settlement paths.
fn check_common(program_id: &Pubkey, intent: &Intent, now: i64) -> ProgramResult {
    if intent.program_id != *program_id {
        return Err(TossError::WrongProgram.into());
    }
    if now >= i64::from(intent.expires_at) {
        return Err(TossError::Expired.into());
    }
    Ok(())
}

/// A settlement record to write: for which intent, where, paid by whom.
struct RecordWrite<'a> {
    signed: &'a SignedIntent,
    record: &'a AccountView,
    rent_payer: &'a AccountView,
    now: i64,
}

/// Creates the `(payer, nonce)` settlement record, refusing if it exists:
/// the same intent again is `AlreadySettled`, another intent with that
/// nonce lost the race (`NonceConflict`).
fn write_record(program_id: &Pubkey, w: &RecordWrite) -> ProgramResult {
    let intent = &w.signed.intent;
    let id = w.signed.id().map_err(|_| TossError::IntentMalformed)?;
    if w.record.owned_by(program_id) {
        let existing = SettlementRecord::unpack(&w.record.try_borrow()?)?;
        return Err(match existing.intent_id == id {
            true => TossError::AlreadySettled,
            false => TossError::NonceConflict,
        }
        .into());
    }
    let (address, bump) = record_address(program_id, &intent.payer, intent.nonce);
    if *w.record.address() != address {
        return Err(TossError::WrongRecord.into());
    }
    let nonce = intent.nonce.to_le_bytes();
    let bump = [bump];
    let seeds = [
        Seed::from(RECORD_SEED),
        Seed::from(intent.payer.as_ref()),
        Seed::from(&nonce),
        Seed::from(&bump),
    ];
    let new = NewAccount {
        funder: w.rent_payer,
        account: w.record,
        len: SettlementRecord::LEN,
        owner: program_id,
    };
    create_pda(&new, &Signer::from(&seeds))?;
    let mut record = *w.record;
    SettlementRecord {
        intent_id: id,
        payee: intent.payee,
        amount: intent.amount,
        settled_at: w.now,
        expires_at: intent.expires_at,
        rent_payer: *w.rent_payer.address(),
    }
    .pack(&mut record.try_borrow_mut()?)?;
    Ok(())
}

/// An account to create at a program address.
struct NewAccount<'a> {
    funder: &'a AccountView,
    account: &'a AccountView,
    len: usize,
    owner: &'a Pubkey,
}

/// Creates a rent-exempt account at a PDA (signed for by `signer`), also
/// when someone has already sent lamports to the address (which would make
/// `CreateAccount` fail and could otherwise block an escrow or a
/// settlement).
fn create_pda(new: &NewAccount, signer: &Signer) -> ProgramResult {
    let rent = rent_exempt(new.len)?;
    let signers = core::slice::from_ref(signer);
    let space = new.len as u64;
    if new.account.lamports() == 0 {
        // CreateAccount: lamports, space, owner.
        let mut data = [0u8; 52];
        data[4..12].copy_from_slice(&rent.to_le_bytes());
        data[12..20].copy_from_slice(&space.to_le_bytes());
        data[20..].copy_from_slice(new.owner.as_ref());
        let metas = [
            InstructionAccount::writable_signer(new.funder.address()),
            InstructionAccount::writable_signer(new.account.address()),
        ];
        return system_call(&data, &metas, &[new.funder, new.account], signers);
    }
    let top_up = rent.saturating_sub(new.account.lamports());
    if top_up > 0 {
        system_transfer(new.funder, new.account, top_up, &[])?;
    }
    let own = [InstructionAccount::writable_signer(new.account.address())];
    // Allocate: space.
    let mut allocate = [0u8; 12];
    allocate[0] = 8;
    allocate[4..].copy_from_slice(&space.to_le_bytes());
    system_call(&allocate, &own, &[new.account], signers)?;
    // Assign: owner.
    let mut assign = [0u8; 36];
    assign[0] = 1;
    assign[4..].copy_from_slice(new.owner.as_ref());
    system_call(&assign, &own, &[new.account], signers)
}

/// Calls the system program with `data` on `accounts`.
#[inline(always)]
fn system_call<const N: usize>(
    data: &[u8],
    metas: &[InstructionAccount; N],
    accounts: &[&AccountView; N],
    signers: &[Signer],
) -> ProgramResult {
    let ix = InstructionView {
        program_id: &SYSTEM,
        data,
        accounts: metas,
    };
    invoke_signed(&ix, accounts, signers)
}

/// The system program's `Transfer` of `lamports` from `from` to `to`.
#[inline(always)]
fn system_transfer(
    from: &AccountView,
    to: &AccountView,
    lamports: u64,
    signers: &[Signer],
) -> ProgramResult {
    let mut data = [0u8; 12];
    data[0] = 2;
    data[4..].copy_from_slice(&lamports.to_le_bytes());
    let metas = [
        InstructionAccount::writable_signer(from.address()),
        InstructionAccount::writable(to.address()),
    ];
    system_call(&data, &metas, &[from, to], signers)
}

/// Tokens to move: from, to, on whose authority, how many.
struct TokenMove<'a> {
    from: &'a AccountView,
    to: &'a AccountView,
    authority: &'a AccountView,
    amount: u64,
}

/// The token program's `Transfer`.
fn token_transfer(moved: &TokenMove, signers: &[Signer]) -> ProgramResult {
    let mut data = [0u8; 9];
    data[0] = 3;
    data[1..].copy_from_slice(&moved.amount.to_le_bytes());
    let metas = [
        InstructionAccount::writable(moved.from.address()),
        InstructionAccount::writable(moved.to.address()),
        InstructionAccount::readonly_signer(moved.authority.address()),
    ];
    let ix = InstructionView {
        program_id: &TOKEN,
        data: &data,
        accounts: &metas,
    };
    invoke_signed(&ix, &[moved.from, moved.to, moved.authority], signers)
}

/// A token transfer out of an escrow's token account, signed by the escrow.
fn escrow_token_transfer(escrow: &EscrowState, moved: &TokenMove) -> ProgramResult {
    let bump = [escrow.bump];
    let seeds = [
        Seed::from(ESCROW_SEED),
        Seed::from(escrow.owner.as_ref()),
        Seed::from(escrow.mint.as_ref()),
        Seed::from(&bump),
    ];
    token_transfer(moved, &[Signer::from(&seeds)])
}

/// The next account.
#[inline(always)]
fn next(it: &mut Accounts) -> Result<AccountView, ProgramError> {
    it.next().copied().ok_or(ProgramError::NotEnoughAccountKeys)
}

/// The next account, which must be `key`.
#[inline(always)]
fn next_key(it: &mut Accounts, key: &Pubkey) -> Result<AccountView, ProgramError> {
    let account = next(it)?;
    match account.address() == key {
        true => Ok(account),
        false => Err(ProgramError::IncorrectProgramId),
    }
}

/// The next account, which must have signed.
#[inline(always)]
fn signer(it: &mut Accounts) -> Result<AccountView, ProgramError> {
    let account = next(it)?;
    match account.is_signer() {
        true => Ok(account),
        false => Err(TossError::NotEscrowOwner.into()),
    }
}

/// The next account, which must be `escrow`'s token account.
#[inline(always)]
fn escrow_tokens(
    program_id: &Pubkey,
    escrow: &AccountView,
    it: &mut Accounts,
) -> Result<AccountView, ProgramError> {
    let expected = escrow_tokens_address(program_id, escrow.address()).0;
    let account = next(it)?;
    match *account.address() == expected {
        true => Ok(account),
        false => Err(TossError::WrongEscrow.into()),
    }
}

/// The signing owner and their escrow: the first two accounts of the escrow
/// instructions.
fn owner_and_escrow(
    program_id: &Pubkey,
    it: &mut Accounts,
) -> Result<(AccountView, AccountView, EscrowState), ProgramError> {
    let owner = signer(it)?;
    let escrow_info = next(it)?;
    let escrow = load_escrow(program_id, &escrow_info)?;
    if escrow.owner != *owner.address() {
        return Err(TossError::NotEscrowOwner.into());
    }
    Ok((owner, escrow_info, escrow))
}

fn load_escrow(program_id: &Pubkey, info: &AccountView) -> Result<EscrowState, ProgramError> {
    if !info.owned_by(program_id) {
        return Err(TossError::NotInitialized.into());
    }
    Ok(EscrowState::unpack(&info.try_borrow()?)?)
}

/// What the program reads of an SPL token account.
struct TokenAccount {
    owner: Pubkey,
    amount: u64,
}

/// A token account owned by the token program, initialized, holding `mint`.
fn expect_mint(info: &AccountView, mint: &Pubkey) -> Result<TokenAccount, ProgramError> {
    if !info.owned_by(&TOKEN) {
        return Err(TossError::WrongMint.into());
    }
    let data = info.try_borrow()?;
    // Layout: mint, owner, amount, ... state (1 initialized, 2 frozen) at 108.
    if data.len() != TOKEN_ACCOUNT_LEN || !matches!(data[108], 1 | 2) {
        return Err(ProgramError::InvalidAccountData);
    }
    if data[..32] != *mint.as_ref() {
        return Err(TossError::WrongMint.into());
    }
    let mut owner = [0u8; 32];
    owner.copy_from_slice(&data[32..64]);
    let mut amount = [0u8; 8];
    amount.copy_from_slice(&data[64..72]);
    Ok(TokenAccount {
        owner: Pubkey::new_from_array(owner),
        amount: u64::from_le_bytes(amount),
    })
}

fn expect_payee_tokens(info: &AccountView, intent: &Intent, mint: &Pubkey) -> ProgramResult {
    if expect_mint(info, mint)?.owner != intent.payee {
        return Err(TossError::WrongPayee.into());
    }
    Ok(())
}

/// Lamports above the escrow's rent-exempt minimum.
#[inline(always)]
fn spendable_lamports(escrow: &AccountView) -> Result<u64, ProgramError> {
    let floor = rent_exempt(escrow.data_len())?;
    Ok(escrow.lamports().saturating_sub(floor))
}

/// The rent-exempt minimum for an account of `len` bytes, read from the
/// rent sysvar as the runtime computes it, before or after SIMD-0194:
/// lamports per byte-year times an exemption threshold of 2.0, or per byte
/// times 1.0. (pinocchio's `Rent` reads only the first field, right only
/// after SIMD-0194.) Any other threshold would need floating point, which
/// this build cannot do: refused rather than guessed.
fn rent_exempt(len: usize) -> Result<u64, ProgramError> {
    let mut raw = [0u8; 16];
    pinocchio::sysvars::get_sysvar(&mut raw, &pinocchio::sysvars::rent::RENT_ID, 0)?;
    let mut field = [0u8; 8];
    field.copy_from_slice(&raw[..8]);
    let per = u64::from_le_bytes(field);
    field.copy_from_slice(&raw[8..]);
    let times = match u64::from_le_bytes(field) {
        0x4000_0000_0000_0000 => 2, // 2.0
        0x3FF0_0000_0000_0000 => 1, // 1.0
        _ => return Err(ProgramError::InvalidAccountData),
    };
    // Bounded so the product cannot overflow (10 MiB of data at most).
    if per > 1_000_000_000 || len > 10 * 1024 * 1024 {
        return Err(ProgramError::InvalidArgument);
    }
    Ok((128 + len as u64) * per * times)
}

/// Moves lamports out of an account this program owns.
fn move_lamports(from: &AccountView, to: &AccountView, amount: u64) -> ProgramResult {
    if from.address() == to.address() {
        return Ok(()); // to itself: nothing moves (and none is made up)
    }
    let (mut from, mut to) = (*from, *to);
    let left = from
        .lamports()
        .checked_sub(amount)
        .ok_or(TossError::InsufficientEscrowFunds)?;
    let got = to
        .lamports()
        .checked_add(amount)
        .ok_or(TossError::Overflow)?;
    from.set_lamports(left);
    to.set_lamports(got);
    Ok(())
}
