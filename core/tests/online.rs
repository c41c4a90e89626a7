//! Online wallet operations against the real Solana runtime: the nonce
//! pool, durable-nonce settlement, escrow management, and sends that never
//! land twice. (`settle.rs` covers escrow settlement by the engine.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "support/banks.rs"]
mod banks;

use banks::{SOL, TestChain, World, key, keypair, quick, world};
use ed25519_dalek::SigningKey;
use solana_keypair::Keypair;
use solana_program::clock::Clock;
use solana_program::pubkey::Pubkey;
use toss_core::chain::{SendError, send};
use toss_core::escrow::{Escrow, EscrowError};
use toss_core::intent::{durable, sign};
use toss_core::nonce::{self, NonceError, Pool};
use toss_core::settle::Outcome;
use toss_core::store::{NonceState, State, Store};
use toss_program::error::TossError;

fn pool(w: &World) -> Pool<'_, TestChain> {
    Pool {
        chain: &w.chain,
        backoff: quick(2),
    }
}

fn escrow(w: &World) -> Escrow<'_, TestChain> {
    Escrow {
        chain: &w.chain,
        backoff: quick(2),
        program_id: w.program_id,
        mint: None,
    }
}

async fn advance_clock(w: &World, seconds: i64) {
    let ctx = w.chain.ctx.lock().await;
    let mut clock: Clock = ctx.banks_client.get_sysvar().await.unwrap();
    clock.unix_timestamp += seconds;
    ctx.set_sysvar(&clock);
}

/// One wallet key funded on a fresh test runtime, with a store of its own.
struct Funded {
    w: World,
    secret: SigningKey,
    kp: Keypair,
    me: Pubkey,
    store: Store,
    now: i64,
    _dir: tempfile::TempDir,
}

async fn funded(lamports: u64) -> Funded {
    let w = world().await;
    let (secret, me) = key(1);
    w.fund(&me, lamports).await;
    let dir = tempfile::tempdir().unwrap();
    let store = w.open_store(dir.path());
    let now = i64::from(w.now().await);
    Funded {
        kp: keypair(&secret),
        secret,
        me,
        store,
        now,
        _dir: dir,
        w,
    }
}

#[tokio::test]
async fn the_nonce_pool_is_created_handed_out_refreshed_and_closed() {
    let Funded {
        w,
        kp,
        me,
        mut store,
        now,
        ..
    } = funded(2 * SOL).await;

    let cost = pool(&w).creation_cost(3).await.unwrap();
    assert_eq!(cost.rent_each, 1_447_680, "rent of an 80-byte account");
    assert_eq!(cost.total, 3 * cost.rent_each);

    let created = pool(&w).create(&mut store, &kp, 3, now).await.unwrap();
    assert_eq!(created.len(), 3);
    for r in &created {
        assert_eq!(r.state, NonceState::Available);
        assert!(r.value.is_some());
        assert_eq!(r.lamports, cost.rent_each);
        assert_eq!(w.balance(&r.address).await, cost.rent_each);
    }
    // Creating more continues the numbering; nothing is created twice.
    let more = pool(&w).create(&mut store, &kp, 1, now).await.unwrap();
    assert_eq!(more[0].seed, "toss-nonce-3");
    assert_eq!(store.nonces(&me, Some(&w.cluster)).unwrap().len(), 4);

    // Handing out: each intent gets its own nonce, until none is left.
    let mut taken = Vec::new();
    for _ in 0..4 {
        taken.push(
            nonce::take(&mut store, &me, &w.cluster, now)
                .unwrap()
                .account,
        );
    }
    taken.sort();
    taken.dedup();
    assert_eq!(taken.len(), 4, "no nonce handed out twice");
    assert!(matches!(
        nonce::take(&mut store, &me, &w.cluster, now),
        Err(NonceError::PoolEmpty)
    ));

    // Handed out and never bound to an intent: after the grace period a
    // refresh advances them and they are available again, with new values.
    let later = now + 601;
    // A nonce advances only once the cluster has a newer blockhash; until
    // then a refresh leaves it `used` and a later one advances it.
    let mut refreshed = Vec::new();
    for _ in 0..5 {
        w.chain
            .ctx
            .lock()
            .await
            .get_new_latest_blockhash()
            .await
            .unwrap();
        refreshed = pool(&w).refresh(&mut store, &kp, later).await.unwrap();
        if refreshed.iter().all(|r| r.state == NonceState::Available) {
            break;
        }
    }
    for (old, new) in created.iter().zip(&refreshed) {
        assert_eq!(new.state, NonceState::Available, "{new:?}");
        assert_ne!(new.value, old.value, "the value advanced");
    }

    // Closing returns the rent; a closed account is no longer in the pool.
    // A close tried in the blockhash the nonce advanced in is refused and
    // tried again at the next; the test runtime has no preflight, so that
    // refused attempt costs its fee: one fee per transaction sent.
    let before = w.balance(&me).await;
    let submits = w.chain.submits.get();
    let returned = pool(&w)
        .close(&mut store, &kp, &created[0].address, &me, later)
        .await
        .unwrap();
    assert_eq!(returned, cost.rent_each);
    let sent = u64::from(w.chain.submits.get() - submits);
    assert!((1..=2).contains(&sent), "{sent} transactions");
    assert_eq!(w.balance(&me).await, before + returned - 5_000 * sent);
    assert!(
        w.chain
            .ctx
            .lock()
            .await
            .banks_client
            .get_account(created[0].address)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        pool(&w)
            .close(&mut store, &kp, &created[0].address, &me, later)
            .await,
        Err(NonceError::NotInPool(_))
    ));
}

#[tokio::test]
async fn a_close_the_cluster_never_took_keeps_the_account_in_the_pool() {
    let Funded {
        w,
        kp,
        me,
        mut store,
        now,
        ..
    } = funded(2 * SOL).await;
    let created = pool(&w).create(&mut store, &kp, 1, now).await.unwrap();
    let address = created[0].address;

    // The account is read, then the withdrawal cannot be sent.
    w.chain.refuse_submits.set(true);
    let refused = pool(&w).close(&mut store, &kp, &address, &me, now).await;
    assert!(
        matches!(refused, Err(NonceError::Send(SendError::Unreachable(_)))),
        "{refused:?}"
    );
    let kept = store.nonces(&me, Some(&w.cluster)).unwrap();
    assert_eq!(kept.len(), 1);
    assert_ne!(
        kept[0].state,
        NonceState::Closed,
        "not closed: its rent is still locked"
    );

    // Once the cluster answers, the same close goes through.
    w.chain.refuse_submits.set(false);
    let returned = pool(&w)
        .close(&mut store, &kp, &address, &me, now)
        .await
        .unwrap();
    assert_eq!(returned, created[0].lamports);
}

/// A payer's durable intent from the pool, received by the merchant.
async fn durable_payment(
    w: &World,
    store: &mut toss_core::store::Store,
    payer: &ed25519_dalek::SigningKey,
    payee: solana_program::pubkey::Pubkey,
    amount: u64,
    nonce_n: u64,
) -> (toss_core::intent::SignedIntent, [u8; 64], Vec<u8>) {
    let me = solana_program::pubkey::Pubkey::new_from_array(payer.verifying_key().to_bytes());
    let now = w.now().await;
    let mut intent = w.unsigned(payer, payee, amount, nonce_n).await;
    intent.durable_nonce = Some(nonce::take(store, &me, &w.cluster, i64::from(now)).unwrap());
    let signed = sign(intent, payer).unwrap();
    let tx_sig = durable::sign(&signed, payer).unwrap();
    store
        .record_sent(&signed, Some(&tx_sig), i64::from(now))
        .unwrap();
    let wire = durable::to_bytes(&signed, &tx_sig).unwrap();
    (signed, tx_sig, wire)
}

#[tokio::test]
async fn a_durable_intent_settles_from_the_payers_account_once() {
    let w = world().await;
    let (payer, payer_addr) = key(1);
    let (merchant, me) = key(50);
    w.fund(&payer_addr, 3 * SOL).await;
    w.fund(&me, SOL).await;
    let (pt, mt) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut payer_store = w.open_store(pt.path());
    let now = i64::from(w.now().await);
    pool(&w)
        .create(&mut payer_store, &keypair(&payer), 1, now)
        .await
        .unwrap();

    let (signed, _, wire) = durable_payment(&w, &mut payer_store, &payer, me, SOL / 2, 1).await;
    let bound = &payer_store.nonces(&payer_addr, Some(&w.cluster)).unwrap()[0];
    assert_eq!(bound.state, NonceState::Assigned);
    assert_eq!(bound.intent_id, Some(signed.id().unwrap()));

    // The merchant verifies offline (both signatures) and stores it.
    let mut merchant_store = w.open_store(mt.path());
    w.receive(&mut merchant_store, me, std::slice::from_ref(&wire))
        .await;
    // Without the transaction signature it is refused offline.
    let verifier = toss_core::intent::Verifier {
        cluster: w.cluster,
        program_id: w.program_id,
        payee: me,
        limits: Default::default(),
    };
    let err = verifier
        .verify(
            &signed.to_bytes().unwrap(),
            None,
            w.now().await,
            &toss_core::intent::MemoryLedger::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("transaction signature"), "{err}");
    // A forged transaction signature is refused too.
    let mut forged = wire.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let err = verifier
        .verify(
            &forged,
            None,
            w.now().await,
            &toss_core::intent::MemoryLedger::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");

    let (payer_before, merchant_before) = (w.balance(&payer_addr).await, w.balance(&me).await);
    let results = w
        .engine(&merchant, 2)
        .settle_all(&mut merchant_store, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        matches!(results[0].1, Outcome::Settled { .. }),
        "{results:?}"
    );
    // The payer paid the amount, the fee (transaction + precompile
    // signature) and the settlement record rent; the merchant paid nothing.
    assert_eq!(w.balance(&me).await, merchant_before + SOL / 2);
    assert_eq!(
        w.balance(&payer_addr).await,
        payer_before - SOL / 2 - 2 * 5_000 - 1_705_200
    );

    // The payer's own copy, settled later by the payer's engine, is
    // recognised as already settled: nothing is paid twice.
    payer_store
        .append(&signed.id().unwrap(), State::Sent, None, 0)
        .unwrap();
    let again = w
        .engine(&payer, 2)
        .settle_all(&mut payer_store, 0, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again[0].1, Outcome::AlreadySettled);
    assert_eq!(w.balance(&me).await, merchant_before + SOL / 2);
    // Its nonce was marked used, and a refresh makes it available again.
    assert_eq!(
        payer_store.nonces(&payer_addr, Some(&w.cluster)).unwrap()[0].state,
        NonceState::Used
    );
    let now = i64::from(w.now().await);
    let refreshed = pool(&w)
        .refresh(&mut payer_store, &keypair(&payer), now)
        .await
        .unwrap();
    assert_eq!(refreshed[0].state, NonceState::Available);
    assert_ne!(refreshed[0].value, bound.value);

    // A durable intent whose nonce was spent elsewhere can never settle.
    let (_, _, wire2) = durable_payment(&w, &mut payer_store, &payer, me, SOL / 4, 2).await;
    let nonce_account = payer_store.nonces(&payer_addr, Some(&w.cluster)).unwrap()[0].address;
    w.send(
        &[solana_system_interface::instruction::advance_nonce_account(
            &nonce_account,
            &payer_addr,
        )],
        &[&keypair(&payer)],
    )
    .await;
    let mt2 = tempfile::tempdir().unwrap();
    let mut store2 = w.open_store(mt2.path());
    w.receive(&mut store2, me, &[wire2]).await;
    let results = w
        .engine(&merchant, 2)
        .settle_all(&mut store2, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        matches!(&results[0].1, Outcome::Invalid { reason } if reason.contains("advanced")),
        "{results:?}"
    );
    assert_eq!(store2.get(&results[0].0).unwrap().state, State::Failed);
}

#[tokio::test]
async fn escrow_management_keeps_the_offline_spendable_amount() {
    let Funded {
        w,
        secret: owner,
        kp,
        me,
        mut store,
        now,
        ..
    } = funded(5 * SOL).await;
    let e = escrow(&w);

    assert!(matches!(
        e.refresh(&mut store, &me, now).await,
        Err(EscrowError::NotOpen { .. })
    ));
    e.open(&kp, 3600).await.unwrap();
    // Opening twice is the program's refusal, explained.
    assert!(matches!(
        e.open(&kp, 3600).await,
        Err(EscrowError::Send(SendError::Program(
            TossError::AlreadyInitialized
        )))
    ));
    e.deposit(&kp, 2 * SOL).await.unwrap();
    let status = e.refresh(&mut store, &me, now).await.unwrap();
    assert_eq!(status.snapshot.balance, 2 * SOL);
    assert_eq!(status.spendable_offline, 2 * SOL);

    // Offline: an intent signed and sent is promised, not spendable again.
    let (_, payee) = key(50);
    let signed = w.intent(&owner, payee, SOL / 2, 1).await;
    let id = store.record_sent(&signed, None, now).unwrap();
    store.append(&id, State::Sent, None, now).unwrap();
    let offline = e.status(&store, &me).unwrap().unwrap();
    assert_eq!(offline.promised, SOL / 2);
    assert_eq!(offline.spendable_offline, 2 * SOL - SOL / 2);

    // A withdrawal request locks its amount out of offline spending at once
    // and pays out only after the delay.
    e.request_withdrawal(&kp, SOL).await.unwrap();
    let status = e.refresh(&mut store, &me, now).await.unwrap();
    assert_eq!(status.snapshot.pending_withdrawal, SOL);
    assert_eq!(status.unlocks_at, Some(status.snapshot.requested_at + 3600));
    assert_eq!(status.spendable_offline, 2 * SOL - SOL - SOL / 2);

    // The payer's own wallet signs no more than that, offline.
    let order = |amount| toss_core::payment::Order {
        payee,
        mint: None,
        amount,
        reference: None,
        memo: None,
        expires_in: 7200,
        nonce: None,
        durable: false,
    };
    let settlement = toss_core::payment::Settlement {
        cluster: w.cluster,
        program_id: w.program_id,
    };
    let now32 = now as u32;
    let refused =
        toss_core::payment::sign(&order(SOL), &owner, settlement, Some(&mut store), now32)
            .unwrap_err();
    assert!(
        matches!(
            refused,
            toss_core::payment::PaymentError::BeyondSpendable { amount, spendable }
                if amount == SOL && spendable == SOL / 2
        ),
        "{refused}"
    );
    toss_core::payment::sign(&order(SOL / 2), &owner, settlement, Some(&mut store), now32).unwrap();
    assert_eq!(e.status(&store, &me).unwrap().unwrap().spendable_offline, 0);
    assert!(matches!(
        e.withdraw(&kp).await,
        Err(EscrowError::Send(SendError::Program(
            TossError::WithdrawalLocked
        )))
    ));
    advance_clock(&w, 3601).await;
    let before = w.balance(&me).await;
    e.withdraw(&kp).await.unwrap();
    assert_eq!(w.balance(&me).await, before + SOL - 5_000);
    let status = e.refresh(&mut store, &me, now).await.unwrap();
    assert_eq!(status.snapshot.balance, SOL);
    assert_eq!(status.snapshot.pending_withdrawal, 0);
}

#[tokio::test]
async fn a_lost_confirmation_never_sends_twice() {
    let w = world().await;
    let (owner, me) = key(1);
    let kp = keypair(&owner);
    w.fund(&me, 5 * SOL).await;
    let e = escrow(&w);
    e.open(&kp, 3600).await.unwrap();
    let escrow = toss_program::state::escrow_address(&w.program_id, &me, None).0;
    let before = w.balance(&escrow).await;

    // The deposit lands, but the answer is lost: the retry asks the cluster
    // about the signature instead of depositing again.
    w.chain.lose_next_confirmation.set(true);
    let submits = w.chain.submits.get();
    let sig = send(
        &w.chain,
        quick(2),
        &[toss_program::instruction::deposit(
            &w.program_id,
            &me,
            toss_program::instruction::Funds::Sol,
            SOL,
        )],
        &[&kp],
        Some(&w.program_id),
    )
    .await
    .unwrap();
    assert_eq!(
        w.balance(&escrow).await,
        before + SOL,
        "deposited exactly once"
    );
    assert_eq!(w.chain.submits.get(), submits + 1, "sent once");
    assert!(sig.len() > 80, "a base58 signature: {sig}");

    // The same deposit asked for twice in a row (same blockhash, so the
    // same bytes): both happen, the second with a new blockhash.
    e.deposit(&kp, SOL).await.unwrap();
    e.deposit(&kp, SOL).await.unwrap();
    assert_eq!(
        w.balance(&escrow).await,
        before + 3 * SOL,
        "two more deposits"
    );
    let before = before + 2 * SOL;

    // Unreachable throughout: a clear error, nothing sent.
    w.chain.fail_next.set(100);
    let err = e.deposit(&kp, SOL).await.unwrap_err();
    assert!(
        err.to_string().contains("could not be reached")
            && err.to_string().contains("after 3 attempts"),
        "{err}"
    );
    w.chain.fail_next.set(0);
    assert_eq!(w.balance(&escrow).await, before + SOL);
}
