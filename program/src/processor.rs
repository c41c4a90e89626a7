//! What each instruction does. Every check that protects money happens here,
//! before any lamport or token moves; a failed check fails the whole
//! transaction, so a batch settles all its intents or none.

use solana_program::account_info::{AccountInfo, next_account_info};
use solana_program::clock::Clock;
use solana_program::entrypoint::ProgramResult;
use solana_program::program::{invoke, invoke_signed};
use solana_program::program_error::ProgramError;
use solana_program::program_pack::Pack;
use solana_program::pubkey::Pubkey;
use solana_program::rent::Rent;
use solana_program::sysvar::Sysvar;
use solana_sdk_ids::{ed25519_program, system_program, sysvar};
use solana_system_interface::instruction as system_instruction;
use spl_token_interface::state::Account as TokenAccount;

use crate::error::TossError;
use crate::instruction::TossInstruction;
use crate::intent::{Intent, SignedIntent};
use crate::state::{
    ESCROW_SEED, ESCROW_TOKENS_SEED, EscrowState, MAX_WITHDRAW_DELAY, MIN_WITHDRAW_DELAY,
    RECORD_SEED, SettlementRecord, WITHDRAW_WINDOW, escrow_address, escrow_tokens_address,
    record_address,
};

/// Decodes `data` and runs that instruction on `accounts`; the entrypoint calls this.
pub fn process_instruction(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    data: &[u8],
) -> ProgramResult {
    match TossInstruction::unpack(data)? {
        TossInstruction::OpenEscrow {
            cluster,
            withdraw_delay,
            spl,
        } => open_escrow(program_id, accounts, cluster, withdraw_delay, spl),
        TossInstruction::Deposit { amount } => deposit(program_id, accounts, amount),
        TossInstruction::RequestWithdrawal { amount } => {
            request_withdrawal(program_id, accounts, amount)
        }
        TossInstruction::Withdraw => withdraw(program_id, accounts),
        TossInstruction::Settle { items } => settle(program_id, accounts, &items),
        TossInstruction::SettleDurable {
            check_ix,
            signature,
        } => settle_durable(program_id, accounts, check_ix, signature),
        TossInstruction::CloseRecord => close_record(program_id, accounts),
    }
}

fn open_escrow(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    cluster: [u8; 8],
    withdraw_delay: u32,
    spl: bool,
) -> ProgramResult {
    let it = &mut accounts.iter();
    let owner = signer(it)?;
    let escrow = next_account_info(it)?;
    let system = next_checked(it, |a| expect_key(a, &system_program::ID))?;
    if !(MIN_WITHDRAW_DELAY..=MAX_WITHDRAW_DELAY).contains(&withdraw_delay) {
        return Err(TossError::InvalidWithdrawDelay.into());
    }
    let mint = if spl {
        Some(next_account_info(it)?)
    } else {
        None
    };
    let (address, bump) = escrow_address(program_id, owner.key, mint.map(|m| m.key));
    if *escrow.key != address {
        return Err(TossError::WrongEscrow.into());
    }
    if escrow.owner == program_id {
        return Err(TossError::AlreadyInitialized.into());
    }
    let mint_key = mint.map(|m| *m.key).unwrap_or_default();
    let seeds: &[&[u8]] = &[ESCROW_SEED, owner.key.as_ref(), mint_key.as_ref(), &[bump]];
    create_pda(owner, escrow, system, EscrowState::LEN, program_id, seeds)?;
    EscrowState {
        bump,
        owner: *owner.key,
        mint: mint_key,
        cluster,
        withdraw_delay,
        pending_withdrawal: 0,
        requested_at: 0,
    }
    .pack(&mut escrow.try_borrow_mut_data()?)?;

    if let Some(mint) = mint {
        let tokens = next_account_info(it)?;
        let token_program = token_program(it)?;
        let (address, bump) = escrow_tokens_address(program_id, escrow.key);
        if *tokens.key != address {
            return Err(TossError::WrongEscrow.into());
        }
        let seeds: &[&[u8]] = &[ESCROW_TOKENS_SEED, escrow.key.as_ref(), &[bump]];
        create_pda(
            owner,
            tokens,
            system,
            TokenAccount::LEN,
            &spl_token_interface::ID,
            seeds,
        )?;
        let init = spl_token_interface::instruction::initialize_account3(
            &spl_token_interface::ID,
            tokens.key,
            mint.key,
            escrow.key,
        )?;
        invoke(
            &init,
            &[tokens.clone(), mint.clone(), token_program.clone()],
        )?;
    }
    Ok(())
}

fn deposit(program_id: &Pubkey, accounts: &[AccountInfo], amount: u64) -> ProgramResult {
    let it = &mut accounts.iter();
    let (owner, escrow_info, escrow) = owner_and_escrow(program_id, it)?;
    match escrow.mint() {
        None => {
            let system = next_checked(it, |a| expect_key(a, &system_program::ID))?;
            let ix = system_instruction::transfer(owner.key, escrow_info.key, amount);
            invoke(&ix, &[owner.clone(), escrow_info.clone(), system.clone()])
        }
        Some(mint) => {
            let from = next_account_info(it)?;
            let tokens = escrow_tokens(program_id, escrow_info, it)?;
            let token_program = token_program(it)?;
            expect_mint(tokens, &mint)?;
            let ix = spl_token_interface::instruction::transfer(
                &spl_token_interface::ID,
                from.key,
                tokens.key,
                owner.key,
                &[],
                amount,
            )?;
            invoke(
                &ix,
                &[
                    from.clone(),
                    tokens.clone(),
                    owner.clone(),
                    token_program.clone(),
                ],
            )
        }
    }
}

fn request_withdrawal(program_id: &Pubkey, accounts: &[AccountInfo], amount: u64) -> ProgramResult {
    let it = &mut accounts.iter();
    let (_, escrow_info, mut escrow) = owner_and_escrow(program_id, it)?;
    escrow.pending_withdrawal = amount;
    escrow.requested_at = if amount == 0 {
        0
    } else {
        Clock::get()?.unix_timestamp
    };
    escrow.pack(&mut escrow_info.try_borrow_mut_data()?)?;
    Ok(())
}

fn withdraw(program_id: &Pubkey, accounts: &[AccountInfo]) -> ProgramResult {
    let it = &mut accounts.iter();
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
                .min(spendable_lamports(escrow_info)?);
            move_lamports(escrow_info, owner, amount)?;
        }
        Some(mint) => {
            let tokens = escrow_tokens(program_id, escrow_info, it)?;
            let to = next_account_info(it)?;
            let token_program = token_program(it)?;
            let held = expect_mint(tokens, &mint)?.amount;
            let amount = escrow.pending_withdrawal.min(held);
            escrow_token_transfer(&escrow, escrow_info, tokens, to, token_program, amount)?;
        }
    }
    escrow.pending_withdrawal = 0;
    escrow.requested_at = 0;
    escrow.pack(&mut escrow_info.try_borrow_mut_data()?)?;
    Ok(())
}

fn settle(program_id: &Pubkey, accounts: &[AccountInfo], items: &[(u8, u8)]) -> ProgramResult {
    let it = &mut accounts.iter();
    let settler = signer(it)?;
    let instructions = next_checked(it, |a| expect_key(a, &sysvar::instructions::ID))?;
    let system = next_checked(it, |a| expect_key(a, &system_program::ID))?;
    let now = Clock::get()?.unix_timestamp;
    // SOL moves wait until every CPI of the batch is done: a CPI may only
    // start while the caller's accounts are balanced as the runtime sees
    // them, and a direct lamport move made earlier is only half visible to
    // it when the fee payer is also a payee.
    let mut sol_moves = Vec::new();

    for &(check_ix, signature) in items {
        let signed = checked_intent(instructions, check_ix, signature)?;
        let intent = &signed.intent;
        check_common(program_id, intent, now)?;
        if intent.durable_nonce.is_some() {
            return Err(TossError::DurableIntentInEscrow.into());
        }
        let escrow_info = next_account_info(it)?;
        let escrow = load_escrow(program_id, escrow_info)?;
        let (expected, _) = escrow_address(program_id, &intent.payer, intent.mint.as_ref());
        if *escrow_info.key != expected
            || escrow.owner != intent.payer
            || escrow.mint() != intent.mint
        {
            return Err(TossError::WrongEscrow.into());
        }
        if escrow.cluster != intent.cluster {
            return Err(TossError::WrongCluster.into());
        }
        let record = next_account_info(it)?;
        write_record(program_id, &signed, record, settler, system, now)?;
        match intent.mint {
            None => {
                let payee = next_account_info(it)?;
                if payee.key != &intent.payee {
                    return Err(TossError::WrongPayee.into());
                }
                sol_moves.push((escrow_info, payee, intent.amount));
            }
            Some(mint) => {
                let payee_tokens = next_account_info(it)?;
                let tokens = escrow_tokens(program_id, escrow_info, it)?;
                let token_program = token_program(it)?;
                expect_payee_tokens(payee_tokens, intent, &mint)?;
                if expect_mint(tokens, &mint)?.amount < intent.amount {
                    return Err(TossError::InsufficientEscrowFunds.into());
                }
                escrow_token_transfer(
                    &escrow,
                    escrow_info,
                    tokens,
                    payee_tokens,
                    token_program,
                    intent.amount,
                )?;
            }
        }
    }
    for (escrow, payee, amount) in sol_moves {
        if amount > spendable_lamports(escrow)? {
            return Err(TossError::InsufficientEscrowFunds.into());
        }
        move_lamports(escrow, payee, amount)?;
    }
    Ok(())
}

fn settle_durable(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    check_ix: u8,
    signature: u8,
) -> ProgramResult {
    let it = &mut accounts.iter();
    let payer = signer(it)?;
    let instructions = next_checked(it, |a| expect_key(a, &sysvar::instructions::ID))?;
    let system = next_checked(it, |a| expect_key(a, &system_program::ID))?;
    let record = next_account_info(it)?;
    let now = Clock::get()?.unix_timestamp;

    let signed = checked_intent(instructions, check_ix, signature)?;
    let intent = &signed.intent;
    check_common(program_id, intent, now)?;
    let nonce = intent.durable_nonce.ok_or(TossError::NotDurableIntent)?;
    if *payer.key != intent.payer {
        return Err(TossError::NotEscrowOwner.into());
    }
    // The runtime accepts a durable-nonce transaction only if instruction 0
    // advances its nonce; requiring that it is *this intent's* nonce account
    // (with the payer as authority) ties the intent to that one transaction.
    let first = solana_instructions_sysvar::load_instruction_at_checked(0, instructions)?;
    let advances = first.program_id == system_program::ID
        && first.data == [4, 0, 0, 0]
        && first.accounts.first().map(|a| a.pubkey) == Some(nonce.account)
        && first.accounts.get(2).map(|a| a.pubkey) == Some(intent.payer);
    if !advances {
        return Err(TossError::DurableNonceNotAdvanced.into());
    }
    write_record(program_id, &signed, record, payer, system, now)?;
    match intent.mint {
        None => {
            let payee = next_account_info(it)?;
            if payee.key != &intent.payee {
                return Err(TossError::WrongPayee.into());
            }
            let ix = system_instruction::transfer(payer.key, payee.key, intent.amount);
            invoke(&ix, &[payer.clone(), payee.clone(), system.clone()])
        }
        Some(mint) => {
            let from = next_account_info(it)?;
            let to = next_account_info(it)?;
            let token_program = token_program(it)?;
            expect_mint(from, &mint)?;
            expect_payee_tokens(to, intent, &mint)?;
            let ix = spl_token_interface::instruction::transfer(
                &spl_token_interface::ID,
                from.key,
                to.key,
                payer.key,
                &[],
                intent.amount,
            )?;
            invoke(
                &ix,
                &[
                    from.clone(),
                    to.clone(),
                    payer.clone(),
                    token_program.clone(),
                ],
            )
        }
    }
}

fn close_record(program_id: &Pubkey, accounts: &[AccountInfo]) -> ProgramResult {
    let it = &mut accounts.iter();
    let record_info = next_account_info(it)?;
    let rent_payer = next_account_info(it)?;
    if record_info.owner != program_id {
        return Err(TossError::NotInitialized.into());
    }
    let record = SettlementRecord::unpack(&record_info.try_borrow_data()?)?;
    if Clock::get()?.unix_timestamp <= i64::from(record.expires_at) {
        return Err(TossError::RecordStillNeeded.into());
    }
    if *rent_payer.key != record.rent_payer {
        return Err(TossError::WrongRentPayer.into());
    }
    record_info.try_borrow_mut_data()?.fill(0);
    move_lamports(record_info, rent_payer, record_info.lamports())?;
    record_info.resize(0)?;
    record_info.assign(&system_program::ID);
    Ok(())
}

/// Reads the intent that Ed25519 precompile instruction `check_ix` verified
/// as its signature number `index`, insisting that the signature, key and
/// message all live in that instruction and that the key is the payer's.
fn checked_intent(
    instructions: &AccountInfo,
    check_ix: u8,
    index: u8,
) -> Result<SignedIntent, ProgramError> {
    let check = solana_instructions_sysvar::load_instruction_at_checked(
        usize::from(check_ix),
        instructions,
    )
    .map_err(|_| TossError::MissingSignatureCheck)?;
    if check.program_id != ed25519_program::ID {
        return Err(TossError::MissingSignatureCheck.into());
    }
    let data = &check.data;
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

/// Creates the `(payer, nonce)` settlement record, refusing if it exists: the same
/// intent again is `AlreadySettled`, another intent with that nonce lost
/// the race (`NonceConflict`).
fn write_record<'a>(
    program_id: &Pubkey,
    signed: &SignedIntent,
    record: &AccountInfo<'a>,
    rent_payer: &AccountInfo<'a>,
    system: &AccountInfo<'a>,
    now: i64,
) -> ProgramResult {
    let intent = &signed.intent;
    let id = signed.id().map_err(|_| TossError::IntentMalformed)?;
    if record.owner == program_id {
        let existing = SettlementRecord::unpack(&record.try_borrow_data()?)?;
        return Err(if existing.intent_id == id {
            TossError::AlreadySettled
        } else {
            TossError::NonceConflict
        }
        .into());
    }
    let (address, bump) = record_address(program_id, &intent.payer, intent.nonce);
    if *record.key != address {
        return Err(TossError::WrongRecord.into());
    }
    let nonce = intent.nonce.to_le_bytes();
    let seeds: &[&[u8]] = &[RECORD_SEED, intent.payer.as_ref(), &nonce, &[bump]];
    create_pda(
        rent_payer,
        record,
        system,
        SettlementRecord::LEN,
        program_id,
        seeds,
    )?;
    SettlementRecord {
        intent_id: id,
        payee: intent.payee,
        amount: intent.amount,
        settled_at: now,
        expires_at: intent.expires_at,
        rent_payer: *rent_payer.key,
    }
    .pack(&mut record.try_borrow_mut_data()?)?;
    Ok(())
}

/// Creates a rent-exempt account at a PDA, also when someone has already
/// sent lamports to the address (which would make `create_account` fail and
/// could otherwise block an escrow or a settlement).
fn create_pda<'a>(
    funder: &AccountInfo<'a>,
    account: &AccountInfo<'a>,
    system: &AccountInfo<'a>,
    len: usize,
    owner: &Pubkey,
    seeds: &[&[u8]],
) -> ProgramResult {
    let rent = Rent::get()?.minimum_balance(len);
    let accounts = [funder.clone(), account.clone(), system.clone()];
    if account.lamports() == 0 {
        let ix =
            system_instruction::create_account(funder.key, account.key, rent, len as u64, owner);
        return invoke_signed(&ix, &accounts, &[seeds]);
    }
    let top_up = rent.saturating_sub(account.lamports());
    if top_up > 0 {
        invoke(
            &system_instruction::transfer(funder.key, account.key, top_up),
            &accounts,
        )?;
    }
    let own = [account.clone(), system.clone()];
    invoke_signed(
        &system_instruction::allocate(account.key, len as u64),
        &own,
        &[seeds],
    )?;
    invoke_signed(
        &system_instruction::assign(account.key, owner),
        &own,
        &[seeds],
    )
}

/// The next account, if it passes `check`.
fn next_checked<'a, 'b: 'a>(
    it: &mut impl Iterator<Item = &'a AccountInfo<'b>>,
    check: impl FnOnce(&AccountInfo) -> ProgramResult,
) -> Result<&'a AccountInfo<'b>, ProgramError> {
    let account = next_account_info(it)?;
    check(account)?;
    Ok(account)
}

fn signer<'a, 'b: 'a>(
    it: &mut impl Iterator<Item = &'a AccountInfo<'b>>,
) -> Result<&'a AccountInfo<'b>, ProgramError> {
    next_checked(it, |a| match a.is_signer {
        true => Ok(()),
        false => Err(TossError::NotEscrowOwner.into()),
    })
}

fn token_program<'a, 'b: 'a>(
    it: &mut impl Iterator<Item = &'a AccountInfo<'b>>,
) -> Result<&'a AccountInfo<'b>, ProgramError> {
    next_checked(it, |a| expect_key(a, &spl_token_interface::ID))
}

fn escrow_tokens<'a, 'b: 'a>(
    program_id: &Pubkey,
    escrow: &AccountInfo,
    it: &mut impl Iterator<Item = &'a AccountInfo<'b>>,
) -> Result<&'a AccountInfo<'b>, ProgramError> {
    let expected = escrow_tokens_address(program_id, escrow.key).0;
    next_checked(it, |a| match *a.key == expected {
        true => Ok(()),
        false => Err(TossError::WrongEscrow.into()),
    })
}

fn expect_key(account: &AccountInfo, key: &Pubkey) -> ProgramResult {
    if account.key != key {
        return Err(ProgramError::IncorrectProgramId);
    }
    Ok(())
}

/// The signing owner and their escrow: the first two accounts of the escrow
/// instructions.
fn owner_and_escrow<'a, 'b: 'a>(
    program_id: &Pubkey,
    it: &mut impl Iterator<Item = &'a AccountInfo<'b>>,
) -> Result<(&'a AccountInfo<'b>, &'a AccountInfo<'b>, EscrowState), ProgramError> {
    let owner = signer(it)?;
    let escrow_info = next_account_info(it)?;
    let escrow = load_escrow(program_id, escrow_info)?;
    if escrow.owner != *owner.key {
        return Err(TossError::NotEscrowOwner.into());
    }
    Ok((owner, escrow_info, escrow))
}

fn load_escrow(program_id: &Pubkey, info: &AccountInfo) -> Result<EscrowState, ProgramError> {
    if info.owner != program_id {
        return Err(TossError::NotInitialized.into());
    }
    Ok(EscrowState::unpack(&info.try_borrow_data()?)?)
}

/// A token account owned by the token program and holding `mint`.
fn expect_mint(info: &AccountInfo, mint: &Pubkey) -> Result<TokenAccount, ProgramError> {
    if info.owner != &spl_token_interface::ID {
        return Err(TossError::WrongMint.into());
    }
    let account = TokenAccount::unpack(&info.try_borrow_data()?)?;
    if account.mint != *mint {
        return Err(TossError::WrongMint.into());
    }
    Ok(account)
}

fn expect_payee_tokens(info: &AccountInfo, intent: &Intent, mint: &Pubkey) -> ProgramResult {
    if expect_mint(info, mint)?.owner != intent.payee {
        return Err(TossError::WrongPayee.into());
    }
    Ok(())
}

/// Lamports above the escrow's rent-exempt minimum.
fn spendable_lamports(escrow: &AccountInfo) -> Result<u64, ProgramError> {
    let floor = Rent::get()?.minimum_balance(escrow.data_len());
    Ok(escrow.lamports().saturating_sub(floor))
}

/// Moves lamports out of an account this program owns.
fn move_lamports(from: &AccountInfo, to: &AccountInfo, amount: u64) -> ProgramResult {
    let mut from_lamports = from.try_borrow_mut_lamports()?;
    let mut to_lamports = to.try_borrow_mut_lamports()?;
    **from_lamports = from_lamports
        .checked_sub(amount)
        .ok_or(TossError::InsufficientEscrowFunds)?;
    **to_lamports = to_lamports.checked_add(amount).ok_or(TossError::Overflow)?;
    Ok(())
}

fn escrow_token_transfer<'a>(
    escrow: &EscrowState,
    escrow_info: &AccountInfo<'a>,
    from: &AccountInfo<'a>,
    to: &AccountInfo<'a>,
    token_program: &AccountInfo<'a>,
    amount: u64,
) -> ProgramResult {
    let ix = spl_token_interface::instruction::transfer(
        &spl_token_interface::ID,
        from.key,
        to.key,
        escrow_info.key,
        &[],
        amount,
    )?;
    let seeds: &[&[u8]] = &[
        ESCROW_SEED,
        escrow.owner.as_ref(),
        escrow.mint.as_ref(),
        &[escrow.bump],
    ];
    invoke_signed(
        &ix,
        &[
            from.clone(),
            to.clone(),
            escrow_info.clone(),
            token_program.clone(),
        ],
        &[seeds],
    )
}
