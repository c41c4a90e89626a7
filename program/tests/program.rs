//! The program as the chain runs it: its SBF build (scripts/sbf/build, found
//! through SBF_OUT_DIR) in the Solana VM of solana-program-test's bank, with
//! the system program, durable nonces, the Ed25519 precompile and the SPL
//! Token program.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use support::*;

#[tokio::test]
async fn sol_intent_settles_from_the_escrow_to_the_payee() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Pubkey::new_unique();
    let signed = payer.sign(env.intent(&payer, merchant, SOL, 1).await);
    let escrow_before = env.escrow_lamports(&payer.key()).await;

    env.settle(&[&signed]).await.unwrap();

    assert_eq!(env.lamports(&merchant).await, SOL);
    assert_eq!(env.escrow_lamports(&payer.key()).await, escrow_before - SOL);
    let record_key = record_address(&env.program_id, &payer.key(), 1).0;
    let record = SettlementRecord::unpack(&env.data(&record_key).await.unwrap()).unwrap();
    assert_eq!(record.intent_id, signed.id().unwrap());
    assert_eq!((record.payee, record.amount), (merchant, SOL));
    assert_eq!(record.rent_payer, env.ctx.payer.pubkey());
}

#[tokio::test]
async fn spl_intent_settles_through_a_pda_signed_token_transfer() {
    let mut env = start().await;
    let fee = env.ctx.payer.pubkey();
    let payer = Wallet::new(1);
    env.fund(&payer.key(), SOL).await;
    let merchant = Pubkey::new_unique();
    let Tokens {
        mint,
        payer_tokens,
        merchant_tokens,
    } = env.tokens(&payer.key(), &merchant).await;

    let funds = Funds::Spl {
        mint: mint.pubkey(),
        owner_tokens: payer_tokens.pubkey(),
    };
    let open = ix::open_escrow(
        &env.program_id,
        &payer.key(),
        Some(&mint.pubkey()),
        env.cluster,
        3600,
    );
    let dep = ix::deposit(&env.program_id, &payer.key(), funds, 50_000_000);
    env.send(&[open, dep], &[&payer.keypair]).await.unwrap();

    let mut intent = env.intent(&payer, merchant, 12_340_000, 1).await;
    intent.mint = Some(mint.pubkey());
    let signed = payer.sign(intent);
    let check = ix::ed25519_check(&[&signed]).unwrap();
    let settle = ix::settle(
        &env.program_id,
        &fee,
        &[(&signed, Some(merchant_tokens.pubkey()))],
        0,
    );
    env.send(&[check, settle], &[]).await.unwrap();

    let amount = |data: Vec<u8>| {
        spl_token_interface::state::Account::unpack(&data)
            .unwrap()
            .amount
    };
    let escrow = escrow_address(&env.program_id, &payer.key(), Some(&mint.pubkey())).0;
    let escrow_tokens = escrow_tokens_address(&env.program_id, &escrow).0;
    assert_eq!(
        amount(env.data(&merchant_tokens.pubkey()).await.unwrap()),
        12_340_000
    );
    assert_eq!(
        amount(env.data(&escrow_tokens).await.unwrap()),
        50_000_000 - 12_340_000
    );
    assert_eq!(
        amount(env.data(&payer_tokens.pubkey()).await.unwrap()),
        50_000_000
    );

    // Tokens may only go to a token account of the payee, for the mint.
    let mut other = env.intent(&payer, merchant, 1, 2).await;
    other.mint = Some(mint.pubkey());
    let other = payer.sign(other);
    let check = ix::ed25519_check(&[&other]).unwrap();
    let to_payer = ix::settle(
        &env.program_id,
        &fee,
        &[(&other, Some(payer_tokens.pubkey()))],
        0,
    );
    assert_eq!(
        toss_error(env.send(&[check, to_payer], &[]).await),
        TossError::WrongPayee
    );
}

#[tokio::test]
async fn a_batch_settles_as_many_intents_as_fit_in_one_transaction() {
    let mut env = start().await;
    let payers = [
        env.payer_with_escrow(1, 2 * SOL).await,
        env.payer_with_escrow(2, 2 * SOL).await,
    ];
    let merchant = Pubkey::new_unique();
    let fee = env.ctx.payer.pubkey();
    // Grow the batch until the transaction no longer fits in 1,232 bytes.
    let mut signed = Vec::new();
    let mut fits = Vec::new();
    for n in 0..12u64 {
        let p = &payers[(n % 2) as usize];
        let intent = env.intent(p, merchant, SOL / 10, n).await;
        signed.push(p.sign(intent));
        let refs: Vec<&SignedIntent> = signed.iter().collect();
        let items: Vec<_> = refs.iter().map(|s| (*s, None)).collect();
        let tx = Transaction::new_with_payer(
            &[
                ix::ed25519_check(&refs).unwrap(),
                ix::settle(&env.program_id, &fee, &items, 0),
            ],
            Some(&fee),
        );
        let size = bincode::serialized_size(&tx).unwrap();
        if size > 1232 {
            println!("batch: {} intents would take {size} bytes", n + 1);
            break;
        }
        fits.push(size);
    }
    let n = fits.len();
    println!(
        "batch: {n} SOL intents in one transaction ({} bytes)",
        fits[n - 1]
    );
    assert!(n >= 3, "only {n} intents fit");
    let batch: Vec<&SignedIntent> = signed[..n].iter().collect();
    env.settle(&batch).await.unwrap();
    assert_eq!(env.lamports(&merchant).await, n as u64 * SOL / 10);
    for s in &batch {
        let r = record_address(&env.program_id, &s.intent.payer, s.intent.nonce).0;
        assert!(env.data(&r).await.is_some());
    }
}

#[tokio::test]
async fn a_merchant_paying_the_fees_is_also_the_payee() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Keypair::new();
    env.fund(&merchant.pubkey(), SOL).await;
    let a = payer.sign(env.intent(&payer, merchant.pubkey(), SOL, 1).await);
    let b = payer.sign(env.intent(&payer, merchant.pubkey(), SOL, 2).await);
    let check = ix::ed25519_check(&[&a, &b]).unwrap();
    let settle = ix::settle(
        &env.program_id,
        &merchant.pubkey(),
        &[(&a, None), (&b, None)],
        0,
    );
    let blockhash = env.ctx.get_new_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[check, settle],
        Some(&merchant.pubkey()),
        &[&merchant],
        blockhash,
    );
    env.ctx.banks_client.process_transaction(tx).await.unwrap();
    // +2 SOL, less 3 signatures' fees (the transaction's and two checked) and two settlement records.
    assert_eq!(
        env.lamports(&merchant.pubkey()).await,
        3 * SOL - 3 * 5_000 - 2 * 1_705_200
    );
}

#[tokio::test]
async fn a_tampered_signature_fails_the_precompile_and_moves_nothing() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Pubkey::new_unique();
    let mut signed = payer.sign(env.intent(&payer, merchant, SOL, 1).await);
    signed.signature[10] ^= 1;
    let err = env.settle(&[&signed]).await.unwrap_err().unwrap();
    assert!(
        matches!(err, TransactionError::InstructionError(0, _)),
        "{err:?}"
    );
    assert_eq!(env.lamports(&merchant).await, 0);
}

/// A hand-made Ed25519 check of one signature over `message`, the public key
/// read from `key` if given, else from the payer field inside `message`.
fn raw_check(signature: &[u8; 64], key: Option<&Pubkey>, message: &[u8]) -> Instruction {
    let header = 2 + 14;
    let key_len = if key.is_some() { 32 } else { 0 };
    let (sig_at, body_at) = (header, header + 64 + key_len);
    let key_at = if key.is_some() {
        header + 64
    } else {
        body_at + ix::PAYER_OFFSET_IN_BODY
    };
    let mut data = vec![1, 0];
    for f in [
        sig_at,
        0xFFFF,
        key_at,
        0xFFFF,
        body_at,
        message.len(),
        0xFFFF,
    ] {
        data.extend_from_slice(&(f as u16).to_le_bytes());
    }
    data.extend_from_slice(signature);
    if let Some(key) = key {
        data.extend_from_slice(key.as_ref());
    }
    data.extend_from_slice(message);
    Instruction {
        program_id: solana_sdk_ids::ed25519_program::ID,
        accounts: vec![],
        data,
    }
}

#[tokio::test]
async fn a_signature_check_by_another_key_or_elsewhere_is_refused() {
    let mut env = start().await;
    let victim = env.payer_with_escrow(1, 5 * SOL).await;
    let thief = Wallet::new(9);
    let merchant = Pubkey::new_unique();
    // The thief writes an intent draining the victim's escrow and signs it
    // with their own key, placing their key outside the intent body.
    let intent = env.intent(&victim, merchant, SOL, 1).await;
    let body = intent.encode().unwrap();
    let sig = thief.signing.sign(&body).to_bytes();
    let check = raw_check(&sig, Some(&thief.key()), &body);
    let signed = SignedIntent {
        intent,
        signature: sig,
    };
    assert_eq!(
        toss_error(env.settle_checked(check, &signed).await),
        TossError::SignatureCheckMismatch
    );

    // Offsets must say "this instruction" (0xFFFF): a check that finds its
    // signature through an instruction index (here its own, 0) verifies in
    // the precompile but could be pointed elsewhere, so the program refuses it.
    let honest = victim.sign(env.intent(&victim, merchant, SOL, 2).await);
    let mut check = ix::ed25519_check(&[&honest]).unwrap();
    check.data[4..6].copy_from_slice(&0u16.to_le_bytes()); // signature_instruction_index
    assert_eq!(
        toss_error(env.settle_checked(check, &honest).await),
        TossError::SignatureCheckMismatch
    );
    assert_eq!(env.lamports(&merchant).await, 0);
}

#[tokio::test]
async fn a_signature_check_over_something_that_is_not_an_intent_is_refused() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Pubkey::new_unique();
    let intent = env.intent(&payer, merchant, SOL, 1).await;
    // The payer really signed these bytes, but they are an intent with a
    // byte appended: the precompile passes, the program refuses to read it.
    let mut message = intent.encode().unwrap();
    message.push(0);
    let sig = payer.signing.sign(&message).to_bytes();
    let check = raw_check(&sig, None, &message);
    let signed = SignedIntent {
        intent,
        signature: sig,
    };
    assert_eq!(
        toss_error(env.settle_checked(check, &signed).await),
        TossError::IntentMalformed
    );
    assert_eq!(env.lamports(&merchant).await, 0);
}

#[tokio::test]
async fn settling_without_a_signature_check_is_refused() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Pubkey::new_unique();
    let signed = payer.sign(env.intent(&payer, merchant, SOL, 1).await);
    let fee = env.ctx.payer.pubkey();
    for check_ix in [0, 7] {
        let settle = ix::settle(&env.program_id, &fee, &[(&signed, None)], check_ix);
        assert_eq!(
            toss_error(env.send(&[settle], &[]).await),
            TossError::MissingSignatureCheck
        );
    }
    assert_eq!(env.lamports(&merchant).await, 0);
}

#[tokio::test]
async fn an_expired_intent_is_refused_on_chain() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Pubkey::new_unique();
    let intent = env.intent(&payer, merchant, SOL, 1).await;
    let expires_at = intent.expires_at;
    let signed = payer.sign(intent);
    env.set_time(i64::from(expires_at)).await;
    assert_eq!(toss_error(env.settle(&[&signed]).await), TossError::Expired);
    assert_eq!(env.lamports(&merchant).await, 0);
}

#[tokio::test]
async fn an_intent_settles_once_and_a_nonce_is_used_once() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Pubkey::new_unique();
    let signed = payer.sign(env.intent(&payer, merchant, SOL, 1).await);

    // Twice in one transaction: the whole transaction fails.
    assert_eq!(
        toss_error(env.settle(&[&signed, &signed]).await),
        TossError::AlreadySettled
    );
    assert_eq!(env.lamports(&merchant).await, 0);

    env.settle(&[&signed]).await.unwrap();
    assert_eq!(
        toss_error(env.settle(&[&signed]).await),
        TossError::AlreadySettled
    );

    // Another intent with the same nonce lost the race.
    let rival = payer.sign(env.intent(&payer, Pubkey::new_unique(), SOL / 2, 1).await);
    assert_eq!(
        toss_error(env.settle(&[&rival]).await),
        TossError::NonceConflict
    );
    assert_eq!(env.lamports(&merchant).await, SOL);
    assert_eq!(env.lamports(&rival.intent.payee).await, 0);
}

#[tokio::test]
async fn two_merchants_overspending_a_escrow_first_settles_second_is_refused() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 3 * SOL).await;
    let (m1, m2) = (Pubkey::new_unique(), Pubkey::new_unique());
    let a = payer.sign(env.intent(&payer, m1, 2 * SOL, 1).await);
    let b = payer.sign(env.intent(&payer, m2, 2 * SOL, 2).await);
    let escrow_before = env.escrow_lamports(&payer.key()).await;

    env.settle(&[&a]).await.unwrap();
    assert_eq!(
        toss_error(env.settle(&[&b]).await),
        TossError::InsufficientEscrowFunds
    );

    assert_eq!(env.lamports(&m1).await, 2 * SOL);
    assert_eq!(env.lamports(&m2).await, 0);
    assert_eq!(
        env.escrow_lamports(&payer.key()).await,
        escrow_before - 2 * SOL
    );
    let b_record = record_address(&env.program_id, &payer.key(), 2).0;
    assert!(
        env.data(&b_record).await.is_none(),
        "a refused intent leaves no settlement record"
    );
}

#[tokio::test]
async fn intents_for_another_cluster_or_program_are_refused() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Pubkey::new_unique();
    let mut intent = env.intent(&payer, merchant, SOL, 1).await;
    intent.cluster = cluster::MAINNET_BETA;
    assert_eq!(
        toss_error(env.settle(&[&payer.sign(intent)]).await),
        TossError::WrongCluster
    );

    let mut intent = env.intent(&payer, merchant, SOL, 2).await;
    intent.program_id = Pubkey::new_unique();
    assert_eq!(
        toss_error(env.settle(&[&payer.sign(intent)]).await),
        TossError::WrongProgram
    );

    // The payee account must be the intent's payee.
    let signed = payer.sign(env.intent(&payer, merchant, SOL, 3).await);
    let check = ix::ed25519_check(&[&signed]).unwrap();
    let mut settle = ix::settle(
        &env.program_id,
        &env.ctx.payer.pubkey(),
        &[(&signed, None)],
        0,
    );
    settle.accounts[5].pubkey = Pubkey::new_unique();
    assert_eq!(
        toss_error(env.send(&[check, settle], &[]).await),
        TossError::WrongPayee
    );
    assert_eq!(env.lamports(&merchant).await, 0);
}

#[tokio::test]
async fn withdrawal_waits_for_its_time_lock_and_settlements_come_first() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 3 * SOL).await;
    let pid = env.program_id;
    let req = ix::request_withdrawal(&pid, &payer.key(), None, 3 * SOL);
    env.send(&[req], &[&payer.keypair]).await.unwrap();
    let wd = ix::withdraw(&pid, &payer.key(), Funds::Sol);
    assert_eq!(
        toss_error(env.send(std::slice::from_ref(&wd), &[&payer.keypair]).await),
        TossError::WithdrawalLocked
    );

    // During the lock a merchant settles an intent the payer signed earlier.
    let merchant = Pubkey::new_unique();
    let signed = payer.sign(env.intent(&payer, merchant, SOL, 1).await);
    env.settle(&[&signed]).await.unwrap();

    let escrow = escrow_address(&pid, &payer.key(), None).0;
    let v = EscrowState::unpack(&env.data(&escrow).await.unwrap()).unwrap();
    env.set_time(v.requested_at + 3600).await;
    let owner_before = env.lamports(&payer.key()).await;
    env.send(&[wd], &[&payer.keypair]).await.unwrap();
    // Only what the settlement left is paid out; the escrow keeps its rent.
    assert_eq!(env.lamports(&payer.key()).await, owner_before + 2 * SOL);
    assert_eq!(env.lamports(&merchant).await, SOL);
    let v = EscrowState::unpack(&env.data(&escrow).await.unwrap()).unwrap();
    assert_eq!(v.pending_withdrawal, 0);

    // A request not used within a day of unlocking lapses: the lock cannot
    // be armed once and used whenever. Asked again, the delay starts over.
    let req = ix::request_withdrawal(&pid, &payer.key(), None, SOL / 2);
    env.send(&[req], &[&payer.keypair]).await.unwrap();
    let v = EscrowState::unpack(&env.data(&escrow).await.unwrap()).unwrap();
    env.set_time(v.requested_at + 3600 + 86_400 + 1).await;
    let wd = ix::withdraw(&pid, &payer.key(), Funds::Sol);
    assert_eq!(
        toss_error(env.send(std::slice::from_ref(&wd), &[&payer.keypair]).await),
        TossError::WithdrawalLapsed
    );
    let req = ix::request_withdrawal(&pid, &payer.key(), None, SOL / 2 + 1);
    env.send(&[req], &[&payer.keypair]).await.unwrap();
    assert_eq!(
        toss_error(env.send(std::slice::from_ref(&wd), &[&payer.keypair]).await),
        TossError::WithdrawalLocked
    );
    let v = EscrowState::unpack(&env.data(&escrow).await.unwrap()).unwrap();
    env.set_time(v.requested_at + 3600 + 86_400).await;
    env.send(&[wd], &[&payer.keypair]).await.unwrap();

    // Nobody but the owner may ask.
    let stranger = Wallet::new(8);
    env.fund(&stranger.key(), SOL).await;
    let mut req = ix::request_withdrawal(&pid, &payer.key(), None, SOL);
    req.accounts[0].pubkey = stranger.key();
    assert_eq!(
        toss_error(env.send(&[req], &[&stranger.keypair]).await),
        TossError::NotEscrowOwner
    );
}

#[tokio::test]
async fn an_escrow_needs_a_sane_delay_and_opens_once() {
    let mut env = start().await;
    let w = Wallet::new(1);
    env.fund(&w.key(), SOL).await;
    let short = ix::open_escrow(&env.program_id, &w.key(), None, env.cluster, 59);
    assert_eq!(
        toss_error(env.send(&[short], &[&w.keypair]).await),
        TossError::InvalidWithdrawDelay
    );
    // Lamports sent to the escrow address beforehand do not block opening it.
    let escrow = escrow_address(&env.program_id, &w.key(), None).0;
    env.fund(&escrow, 1_000_000).await;
    let open = ix::open_escrow(&env.program_id, &w.key(), None, env.cluster, 3600);
    env.send(&[open], &[&w.keypair]).await.unwrap();
    let again = ix::open_escrow(&env.program_id, &w.key(), None, env.cluster, 7200);
    assert_eq!(
        toss_error(env.send(&[again], &[&w.keypair]).await),
        TossError::AlreadyInitialized
    );
}

#[tokio::test]
async fn record_rent_returns_to_its_payer_after_expiry_and_the_intent_stays_dead() {
    let mut env = start().await;
    let payer = env.payer_with_escrow(1, 5 * SOL).await;
    let merchant = Pubkey::new_unique();
    let intent = env.intent(&payer, merchant, SOL, 1).await;
    let expires_at = intent.expires_at;
    let signed = payer.sign(intent);
    env.settle(&[&signed]).await.unwrap();
    let fee = env.ctx.payer.pubkey();
    let record = record_address(&env.program_id, &payer.key(), 1).0;
    let rent = env.lamports(&record).await;
    assert_eq!(rent, 1_705_200, "docs/program.md states this figure");

    let close = ix::close_record(&env.program_id, &record, &fee);
    assert_eq!(
        toss_error(env.send(std::slice::from_ref(&close), &[]).await),
        TossError::RecordStillNeeded
    );
    env.set_time(i64::from(expires_at) + 1).await;
    let wrong = ix::close_record(&env.program_id, &record, &merchant);
    assert_eq!(
        toss_error(env.send(&[wrong], &[]).await),
        TossError::WrongRentPayer
    );

    let before = env.lamports(&fee).await;
    env.send(&[close], &[]).await.unwrap();
    assert!(env.data(&record).await.is_none());
    // The fee payer got the rent back, less this transaction's fee.
    assert!(env.lamports(&fee).await > before + rent - 10_000);
    assert_eq!(toss_error(env.settle(&[&signed]).await), TossError::Expired);
    assert_eq!(env.lamports(&merchant).await, SOL);
}

/// Creates a nonce account with `authority` and returns its stored value.
async fn nonce_account(env: &mut Env, authority: &Pubkey) -> (Keypair, [u8; 32]) {
    let nonce = Keypair::new();
    let ixs = solana_system_interface::instruction::create_nonce_account(
        &env.ctx.payer.pubkey(),
        &nonce.pubkey(),
        authority,
        1_447_680,
    );
    env.send(&ixs, &[&nonce]).await.unwrap();
    // A nonce cannot be used in the slot that stored it.
    let slot = env.ctx.banks_client.get_root_slot().await.unwrap();
    env.ctx.warp_to_slot(slot + 2).unwrap();
    let data = env.data(&nonce.pubkey()).await.unwrap();
    assert_eq!(data.len(), 80);
    (nonce, data[40..72].try_into().unwrap())
}

/// A funded payer and a 1-SOL intent of theirs to a new merchant, bound to
/// `nonce` (which holds `value`).
async fn durable_intent(
    env: &mut Env,
    payer: &Wallet,
    nonce: Pubkey,
    value: [u8; 32],
) -> SignedIntent {
    let mut intent = env.intent(payer, Pubkey::new_unique(), SOL, 1).await;
    intent.durable_nonce = Some(DurableNonce {
        account: nonce,
        value,
    });
    payer.sign(intent)
}

/// The transaction the payer signs offline, with the nonce value as its blockhash.
fn offline_tx(payer: &Wallet, ixs: &[Instruction], nonce_value: [u8; 32]) -> Transaction {
    let blockhash = solana_program::hash::Hash::new_from_array(nonce_value);
    Transaction::new_signed_with_payer(ixs, Some(&payer.key()), &[&payer.keypair], blockhash)
}

#[tokio::test]
async fn durable_nonce_settlement_pays_once_and_refuses_a_replay() {
    let mut env = start().await;
    let payer = Wallet::new(1);
    env.fund(&payer.key(), 5 * SOL).await;
    let (nonce, value) = nonce_account(&mut env, &payer.key()).await;
    let signed = durable_intent(&mut env, &payer, nonce.pubkey(), value).await;
    let merchant = signed.intent.payee;
    let ixs = ix::settle_durable(&env.program_id, &signed, None).unwrap();
    let tx = offline_tx(&payer, &ixs, value);
    env.submit_signed(tx.clone()).await.unwrap();
    assert_eq!(env.lamports(&merchant).await, SOL);
    let record = record_address(&env.program_id, &payer.key(), 1).0;
    assert!(env.data(&record).await.is_some());

    // The nonce has advanced: the same signed transaction cannot run again.
    let slot = env.ctx.banks_client.get_root_slot().await.unwrap();
    env.ctx.warp_to_slot(slot + 2).unwrap();
    assert!(env.submit_signed(tx).await.is_err());
    assert_eq!(env.lamports(&merchant).await, SOL);

    // A durable intent cannot be settled from an escrow either.
    assert_eq!(
        toss_error(env.settle(&[&signed]).await),
        TossError::DurableIntentInEscrow
    );
}

#[tokio::test]
async fn durable_settlement_requires_advancing_the_intents_own_nonce() {
    let mut env = start().await;
    let payer = Wallet::new(1);
    env.fund(&payer.key(), 5 * SOL).await;
    let (nonce, value) = nonce_account(&mut env, &payer.key()).await;
    let (other, _) = nonce_account(&mut env, &payer.key()).await;
    let signed = durable_intent(&mut env, &payer, other.pubkey(), value).await;
    let merchant = signed.intent.payee;
    let mut ixs = ix::settle_durable(&env.program_id, &signed, None).unwrap();
    // Instruction 0 advances a different nonce account than the intent names.
    ixs[0] =
        solana_system_interface::instruction::advance_nonce_account(&nonce.pubkey(), &payer.key());
    let tx = offline_tx(&payer, &ixs, value);
    let result = env.submit_signed(tx).await;
    assert_eq!(toss_error(result), TossError::DurableNonceNotAdvanced);
    assert_eq!(env.lamports(&merchant).await, 0);

    // And an escrow intent cannot take the durable path.
    let plain = payer.sign(env.intent(&payer, merchant, SOL, 2).await);
    assert_eq!(
        ix::settle_durable(&env.program_id, &plain, None).unwrap_err(),
        TossError::NotDurableIntent
    );
}

#[test]
fn spl_intents_per_transaction() {
    // Size only: how many SPL intents (each with its own payer escrow and
    // payee token account, the worst case) fit in one legacy transaction.
    let program_id = Pubkey::new_unique();
    let fee = Pubkey::new_unique();
    let mint = Pubkey::new_unique();
    let mut signed = Vec::new();
    let mut fits = 0;
    for n in 0..8u8 {
        let payer = Wallet::new(n + 1);
        let intent = Intent {
            cluster: cluster::DEVNET,
            program_id,
            payer: payer.key(),
            payee: Pubkey::new_unique(),
            mint: Some(mint),
            amount: 1_000_000,
            reference: None,
            memo: None,
            nonce: 1,
            created_at: 1_790_000_000,
            expires_at: 1_790_086_400,
            durable_nonce: None,
        };
        signed.push((payer.sign(intent), Pubkey::new_unique()));
        let refs: Vec<&SignedIntent> = signed.iter().map(|(s, _)| s).collect();
        let items: Vec<_> = signed.iter().map(|(s, t)| (s, Some(*t))).collect();
        let tx = Transaction::new_with_payer(
            &[
                ix::ed25519_check(&refs).unwrap(),
                ix::settle(&program_id, &fee, &items, 0),
            ],
            Some(&fee),
        );
        let size = bincode::serialized_size(&tx).unwrap();
        println!("batch: {} SPL intents take {size} bytes", n + 1);
        if size > 1232 {
            break;
        }
        fits += 1;
    }
    assert_eq!(
        signed[0].0.to_bytes().unwrap().len(),
        231,
        "SPL intent size"
    );
    assert!(fits >= 2, "only {fits} SPL intents fit");
}

#[tokio::test]
async fn the_program_checks_signatures_itself_as_strictly_as_the_precompile() {
    let mut env = start().await;
    let payers = [
        env.payer_with_escrow(1, 2 * SOL).await,
        env.payer_with_escrow(2, 2 * SOL).await,
    ];
    let merchant = Pubkey::new_unique();
    let fee = env.ctx.payer.pubkey();
    let a = payers[0].sign(env.intent(&payers[0], merchant, SOL / 10, 1).await);
    let b = payers[1].sign(env.intent(&payers[1], merchant, SOL / 10, 1).await);
    // No precompile instruction: the program verifies both and pays.
    let program_id = env.program_id;
    let settle = |intents: &[&SignedIntent]| {
        let items: Vec<_> = intents.iter().map(|s| (*s, None)).collect();
        ix::settle_signed(&program_id, &fee, &items).unwrap()
    };
    let ixs = [settle(&[&a, &b])];
    env.send(&ixs, &[]).await.unwrap();
    assert_eq!(env.lamports(&merchant).await, 2 * SOL / 10);

    // Refused, nothing moved: a flipped bit in the signature; S not
    // canonical (S + L, which a lax verifier reduces and accepts); R of
    // small order; a signature by another key.
    let mut tampered = payers[0].sign(env.intent(&payers[0], merchant, 1, 2).await);
    tampered.signature[5] ^= 1;
    let mut lax = payers[0].sign(env.intent(&payers[0], merchant, 1, 3).await);
    add_l_to_s(&mut lax.signature);
    let mut small = payers[0].sign(env.intent(&payers[0], merchant, 1, 4).await);
    small.signature[..32].copy_from_slice(&[0; 32]); // an order-4 point's encoding
    let other = Wallet::new(9);
    let mut foreign = env.intent(&payers[0], merchant, 1, 5).await;
    foreign.payer = payers[0].key();
    let foreign = SignedIntent {
        signature: other.sign(foreign.clone()).signature,
        intent: foreign,
    };
    // A key with an order-8 component: verify_strict accepts this signature,
    // the program's check (and the wallet's offline one) refuses the key.
    let torsion = torsion_signed(env.intent(&payers[0], merchant, 1, 6).await);
    for bad in [&tampered, &lax, &small, &foreign, &torsion] {
        let ixs = [settle(&[bad])];
        assert_eq!(
            toss_error(env.send(&ixs, &[]).await),
            TossError::BadSignature
        );
    }
    assert_eq!(env.lamports(&merchant).await, 2 * SOL / 10);
    // The same intent again through this path: settled once, ever.
    let ixs = [settle(&[&a])];
    assert_eq!(
        toss_error(env.send(&ixs, &[]).await),
        TossError::AlreadySettled
    );
}

/// Adds the group order L to a signature's S (its second half), little-endian.
fn add_l_to_s(signature: &mut [u8; 64]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (s, l) in signature[32..].iter_mut().zip(L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
}
