//! The settlement engine against the real Solana runtime (solana-program-test
//! running the TOSS program's SBF build): batching, outcomes, reruns
//! after a crash, and retries. The RPC tier (a local validator) is separate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "support/banks.rs"]
mod banks;

use std::time::Duration;

use banks::{SOL, key as merchant_key, world};
use toss_core::chain::Backoff;
use toss_core::intent::SignedIntent;
use toss_core::settle::{Outcome, Progress, SettleError};
use toss_core::store::State;

/// A merchant holding 1 SOL (for fees and settlement record rent) and four
/// intents of 0.1 SOL owed to it by two payers, two each.
async fn four_owed(
    w: &banks::World,
) -> (
    ed25519_dalek::SigningKey,
    solana_program::pubkey::Pubkey,
    [SignedIntent; 4],
) {
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let (p1, p2) = (w.payer(1, 5 * SOL).await, w.payer(2, 5 * SOL).await);
    let intents = [
        w.intent(&p1, me, SOL / 10, 1).await,
        w.intent(&p2, me, SOL / 10, 1).await,
        w.intent(&p1, me, SOL / 10, 2).await,
        w.intent(&p2, me, SOL / 10, 2).await,
    ];
    (merchant, me, intents)
}

#[tokio::test]
async fn intents_settle_in_batches_and_a_rerun_pays_nothing_twice() {
    let w = world().await;
    let (merchant, me, intents) = four_owed(&w).await;
    let refs: Vec<&SignedIntent> = intents.iter().collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &refs).await;
    let before = w.balance(&me).await;

    let mut events = Vec::new();
    let results = w
        .engine(&merchant, 3)
        .settle_all(&mut store, 0, &mut |p| events.push(p))
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    assert!(
        results
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Settled { .. })),
        "{results:?}"
    );
    assert_eq!(
        w.chain.submits.get(),
        2,
        "3 intents fit in one transaction, the 4th in a second"
    );
    // Paid 4 x 0.1 SOL; paid fees and four settlement records' rent. The
    // default asks the cluster and takes the program's own check: 5,000
    // lamports per transaction, none per payment (the precompile would add
    // 5,000 per payment).
    let expected = before + 4 * SOL / 10 - 2 * 5_000 - 4 * 1_705_200;
    assert_eq!(w.balance(&me).await, expected);
    for (id, _) in &results {
        assert_eq!(store.get(id).unwrap().state, State::Settled);
        assert!(store.settlement(id).unwrap().is_some());
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Progress::Started { intents: 4 }))
    );

    // Nothing waits any more: a second run does nothing.
    let again = w
        .engine(&merchant, 3)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(again.is_empty());

    // A crash before the results were saved: a store that still thinks the
    // intents wait finds them on chain and submits nothing.
    let tmp2 = tempfile::tempdir().unwrap();
    let mut stale = w.merchant_store(tmp2.path(), me, &refs).await;
    let submits = w.chain.submits.get();
    let rerun = w
        .engine(&merchant, 3)
        .settle_all(&mut stale, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        rerun.iter().all(|(_, o)| *o == Outcome::AlreadySettled),
        "{rerun:?}"
    );
    assert_eq!(w.chain.submits.get(), submits, "no transaction was sent");
}

#[tokio::test]
async fn each_intent_of_a_refused_batch_gets_its_own_outcome() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 3 * SOL).await;
    // Together over the escrow: the batch fails, then each is tried alone.
    let a = w.intent(&payer, me, 2 * SOL, 1).await;
    let b = w.intent(&payer, me, 2 * SOL, 2).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&a, &b]).await;
    let results = w
        .engine(&merchant, 0)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    let outcomes: Vec<_> = results.iter().map(|(_, o)| o.clone()).collect();
    assert!(
        matches!(outcomes[0], Outcome::Settled { .. }),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1], Outcome::InsufficientFunds);
    // Not written off: the payer can still deposit, so it waits.
    let short = store.get(&results[1].0).unwrap();
    assert_eq!(short.state, State::Deferred);
    assert!(
        short
            .history
            .last()
            .unwrap()
            .detail
            .as_deref()
            .unwrap()
            .contains("could not cover it"),
        "{short:?}"
    );
    assert_eq!(store.metrics().unwrap().intents_not_settled, 0);
    // The payer tops up; the next run pays the merchant.
    w.deposit(&payer, SOL).await;
    let results = w
        .engine(&merchant, 0)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        matches!(results[0].1, Outcome::Settled { .. }),
        "{results:?}"
    );
    assert_eq!(store.get(&results[0].0).unwrap().state, State::Settled);
}

#[tokio::test]
async fn a_fee_payer_short_of_sol_sends_nothing_says_how_much_more_and_waits() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, 1_000_000).await; // 0.001 SOL: not enough for a record's rent
    let payer = w.payer(1, 3 * SOL).await;
    let a = w.intent(&payer, me, SOL / 10, 1).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&a]).await;
    let results = w
        .engine(&merchant, 0)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    // 5,000 in fees (the fee payer's signature; the program checks the
    // payer's) + 1,705,200 of record rent + 890,880 kept rent-exempt -
    // 1,000,000 held.
    let Outcome::Waiting { reason } = &results[0].1 else {
        panic!("{results:?}")
    };
    assert!(reason.contains("it needs 0.00160108 SOL more"), "{reason}");
    assert!(reason.contains("0.000005 SOL in fees"), "{reason}");
    assert_eq!(w.chain.submits.get(), 0, "no fee is spent on a refusal");
    assert_eq!(store.get(&results[0].0).unwrap().state, State::Deferred);
    assert_eq!(w.balance(&me).await, 1_000_000);
    assert!(
        toss_core::settle::summary(&results)
            .ends_with("1 still waiting, tried again until they expire."),
        "{}",
        toss_core::settle::summary(&results)
    );
    // Funded, the next run settles it.
    w.fund(&me, SOL).await;
    let results = w
        .engine(&merchant, 0)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        matches!(results[0].1, Outcome::Settled { .. }),
        "{results:?}"
    );
}

#[tokio::test]
async fn a_lost_confirmation_then_a_closed_record_is_found_settled_not_expired() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 3 * SOL).await;
    let a = w.intent(&payer, me, SOL / 10, 1).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&a]).await;
    // It lands, but the answer is lost and the cluster stops answering: the
    // run ends with the intent submitted and its transaction noted.
    w.chain.lose_next_confirmation.set(true);
    w.chain.fail_next.set(0);
    let lost = w
        .engine(&merchant, 0)
        .settle_all(&mut store, 0, &mut |_| {})
        .await;
    assert!(lost.is_err(), "{lost:?}");
    let stored = store.get(&a.id().unwrap()).unwrap();
    assert_eq!(stored.state, State::Submitted);
    // Days later the record is closed (by anyone: it may be, once expired).
    w.advance_clock(86_401).await;
    let record =
        toss_program::state::record_address(&w.program_id, &stored.signed.intent.payer, 1).0;
    w.send(
        &[toss_program::instruction::close_record(
            &w.program_id,
            &record,
            &me,
        )],
        &[],
    )
    .await;
    let before = w.balance(&me).await;
    let results = w
        .engine(&merchant, 0)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        matches!(results[0].1, Outcome::Settled { .. }),
        "{results:?}"
    );
    assert_eq!(store.get(&results[0].0).unwrap().state, State::Settled);
    assert_eq!(w.balance(&me).await, before, "nothing was sent again");
}

#[tokio::test]
async fn settlement_records_are_closed_after_expiry_and_their_rent_comes_back() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let (p1, p2) = (w.payer(1, 3 * SOL).await, w.payer(2, 3 * SOL).await);
    let intents = [
        w.intent(&p1, me, SOL / 10, 1).await,
        w.intent(&p2, me, SOL / 10, 1).await,
        w.intent(&p1, me, SOL / 10, 2).await,
    ];
    let refs: Vec<&SignedIntent> = intents.iter().collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &refs).await;
    let before = w.balance(&me).await;
    let engine = w.engine(&merchant, 0);
    let now = i64::from(w.now().await);
    engine
        .settle_all(&mut store, now, &mut |_| {})
        .await
        .unwrap();
    // Not expired yet: nothing to close.
    let none = engine
        .reclaim_rent(&mut store, now, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(none.records, 0);
    w.advance_clock(86_401).await;
    let later = now + 86_401;
    let mut said = Vec::new();
    let back = engine
        .reclaim_rent(&mut store, later, &mut |p| said.push(p.describe()))
        .await
        .unwrap();
    assert_eq!((back.records, back.lamports), (3, 3 * 1_705_200));
    assert_eq!(
        said,
        [Some(
            "3 settlement records closed: 0.0051156 SOL of rent back, for 0.000005 SOL in fees."
                .to_owned()
        )]
    );
    // What three payments cost the merchant in the end: fees only, one
    // settlement transaction and one close: 3,333 lamports per payment,
    // under a plain transfer's 5,000.
    let cost = before + 3 * SOL / 10 - w.balance(&me).await;
    assert_eq!(cost, 5_000 + 5_000);
    let m = store.metrics().unwrap();
    assert_eq!(
        (m.records_closed, m.rent_reclaimed_lamports),
        (3, 3 * 1_705_200)
    );
    // Closed once: a second run finds nothing to do.
    let again = engine
        .reclaim_rent(&mut store, later, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again.records, 0);
}

#[tokio::test]
async fn a_nonce_already_used_by_another_intent_is_a_conflict() {
    let w = world().await;
    let (m1, me1) = merchant_key(50);
    let (m2, me2) = merchant_key(51);
    w.fund(&me1, SOL).await;
    w.fund(&me2, SOL).await;
    let payer = w.payer(1, 5 * SOL).await;
    let first = w.intent(&payer, me1, SOL, 7).await;
    let second = w.intent(&payer, me2, SOL, 7).await;
    let (t1, t2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut s1 = w.merchant_store(t1.path(), me1, &[&first]).await;
    let mut s2 = w.merchant_store(t2.path(), me2, &[&second]).await;
    w.engine(&m1, 0)
        .settle_all(&mut s1, 0, &mut |_| {})
        .await
        .unwrap();
    let results = w
        .engine(&m2, 0)
        .settle_all(&mut s2, 0, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(results[0].1, Outcome::Conflict);
    assert_eq!(s2.get(&results[0].0).unwrap().state, State::Conflicted);
    assert_eq!(
        w.balance(&me2).await,
        SOL,
        "the second merchant got nothing (only its own funding)"
    );
}

#[tokio::test]
async fn network_failures_are_retried_and_an_unreachable_cluster_leaves_work_for_later() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 5 * SOL).await;
    let a = w.intent(&payer, me, SOL, 1).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&a]).await;

    // Down for longer than the retries: the run fails and the intent waits.
    w.chain.fail_next.set(100);
    let err = w
        .engine(&merchant, 3)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SettleError::Unreachable(u) if u.attempts == 4),
        "{err}"
    );
    assert_eq!(store.awaiting_settlement().unwrap().len(), 1);

    // Back after two failures: retried with growing delays, then settled.
    w.chain.fail_next.set(2);
    let mut delays = Vec::new();
    let results = w
        .engine(&merchant, 3)
        .settle_all(&mut store, 0, &mut |p| {
            if let Progress::Retrying { after_ms, .. } = p {
                delays.push(after_ms);
            }
        })
        .await
        .unwrap();
    assert_eq!(delays, [1, 2]);
    assert!(matches!(results[0].1, Outcome::Settled { .. }));
    // The metrics panel counts the round that could not reach the cluster,
    // and the settlement.
    let m = store.metrics().unwrap();
    assert_eq!((m.network_errors, m.intents_settled), (1, 1), "{m:?}");
    assert!(m.average_settlement_seconds.is_some());
    let history: Vec<State> = store
        .get(&results[0].0)
        .unwrap()
        .history
        .iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(
        history,
        [
            State::Received,
            State::Verified,
            State::Submitted,
            State::Settled
        ]
    );
}

#[test]
fn backoff_doubles_from_its_base() {
    let b = Backoff {
        base: Duration::from_secs(1),
        retries: 3,
    };
    let delays: Vec<_> = b.delays().map(|d| d.as_secs()).collect();
    assert_eq!(delays, [1, 2, 4]);
}

#[tokio::test]
async fn the_background_loop_cleans_up_and_settles_when_the_cluster_returns() {
    use std::cell::{Cell, RefCell};
    use toss_core::settle::Schedule;

    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 5 * SOL).await;
    let live = w.intent(&payer, me, SOL / 10, 1).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&live]).await;
    // An intent of this wallet's own that ran out of time unsent.
    let now = i64::from(w.now().await);
    let mut old = w.unsigned(&payer, me, 1, 2).await;
    (old.created_at, old.expires_at) = (now as u32 - 100, now as u32 - 1);
    let old_id = store
        .record_sent(&toss_core::intent::sign(old, &payer).unwrap(), None, now)
        .unwrap();

    w.chain.fail_next.set(u32::MAX); // offline at first
    let events = RefCell::new(Vec::new());
    let (wake, mut woken) = tokio::sync::mpsc::channel(1);
    let engine = w.engine(&merchant, 0);
    let schedule = Schedule {
        every: Duration::from_millis(20),
        cleanup_every: Duration::from_secs(3600),
        retention_seconds: 86_400,
    };
    let clock = || now;
    let ticks = Cell::new(0);
    let driver = async {
        // Offline for a few periods: nothing settles.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !events
                .borrow()
                .iter()
                .any(|e| matches!(e, Progress::Resolved { .. }))
        );
        ticks.set(1);
        w.chain.fail_next.set(0); // the network is back
        for _ in 0..200 {
            if events
                .borrow()
                .iter()
                .any(|e| matches!(e, Progress::Resolved { .. }))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(wake); // stop the loop
    };
    let mut record = |p| events.borrow_mut().push(p);
    let run = engine.keep_settling(&mut store, schedule, &mut woken, &clock, &mut record);
    let (result, ()) = tokio::join!(run, driver);
    result.unwrap();
    assert_eq!(ticks.get(), 1);

    let events = events.into_inner();
    assert!(
        matches!(events[0], Progress::CleanedUp { expired: 1, .. }),
        "{events:?}"
    );
    let online: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Connectivity { online } => Some(*online),
            _ => None,
        })
        .collect();
    assert_eq!(online, [false, true], "offline, then back: {events:?}");
    assert_eq!(store.get(&old_id).unwrap().state, State::Expired);
    assert_eq!(
        store.get(&live.id().unwrap()).unwrap().state,
        State::Settled
    );
}

#[tokio::test]
async fn asked_for_confidentiality_the_engine_settles_directly_and_records_why() {
    use solana_account::{Account, AccountSharedData};
    use toss_core::confidential::{ARCIUM_PROGRAM_ID, mxe_account};

    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 5 * SOL).await;
    let mxe = solana_program::pubkey::Pubkey::new_unique();
    let mut reasons = Vec::new();

    // No MXE on this cluster.
    let a = w.intent(&payer, me, SOL / 10, 1).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&a]).await;
    let engine = w.engine(&merchant, 0).with_mxe(Some(mxe));
    let r = engine
        .settle_all(&mut store, 0, &mut |p| {
            if let Progress::Downgraded { reason } = p {
                reasons.push(reason)
            }
        })
        .await
        .unwrap();
    assert!(matches!(r[0].1, Outcome::Settled { .. }), "{r:?}");

    // An MXE whose keys are published (Arcium's layout, owned by Arcium).
    let mut data = vec![103, 26, 85, 250, 179, 159, 17, 117];
    data.extend([0u8; 1 + 4 + 8 + 8 + 32 + 1]);
    data.push(0); // keys set
    data.extend([0x42u8; 160]);
    data.extend([0u8; 40]);
    w.chain.ctx.lock().await.set_account(
        &mxe_account(&mxe),
        &AccountSharedData::from(Account {
            lamports: 10_000_000,
            data,
            owner: ARCIUM_PROGRAM_ID,
            executable: false,
            rent_epoch: 0,
        }),
    );
    let b = w.intent(&payer, me, SOL / 10, 2).await;
    w.receive(&mut store, me, &[b.to_bytes().unwrap()]).await;
    let r = engine
        .settle_all(&mut store, 0, &mut |p| {
            if let Progress::Downgraded { reason } = p {
                reasons.push(reason)
            }
        })
        .await
        .unwrap();
    assert!(matches!(r[0].1, Outcome::Settled { .. }), "{r:?}");

    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("no account"), "{reasons:?}");
    assert!(reasons[1].contains("no TOSS computation"), "{reasons:?}");
    let metrics = store.metrics().unwrap();
    assert_eq!(metrics.confidentiality_downgrades, 2, "{metrics:?}");
}

#[tokio::test]
async fn an_intent_without_a_escrow_and_an_expired_one_get_their_own_outcomes() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 5 * SOL).await;
    let (no_escrow, _) = merchant_key(7); // a payer who never opened an escrow
    let engine = w.engine(&merchant, 0);

    let b = w.intent(&no_escrow, me, SOL / 10, 1).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&b]).await;
    let results = engine.settle_all(&mut store, 0, &mut |_| {}).await.unwrap();
    assert!(
        matches!(&results[0].1, Outcome::Waiting { reason } if reason.contains("escrow for this currency is not open yet")),
        "{results:?}"
    );
    assert_eq!(store.get(&results[0].0).unwrap().state, State::Deferred);

    // A day and more passes before the merchant is online: the intent expired.
    let a = w.intent(&payer, me, SOL / 10, 1).await;
    w.receive(&mut store, me, &[a.to_bytes().unwrap()]).await;
    {
        let ctx = w.chain.ctx.lock().await;
        let mut clock: solana_program::clock::Clock = ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp += 86_401;
        ctx.set_sysvar(&clock);
    }
    let results = engine.settle_all(&mut store, 0, &mut |_| {}).await.unwrap();
    // Both are past their time now: the one that waited for an escrow too.
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(
        results.iter().all(|(_, o)| *o == Outcome::Expired),
        "{results:?}"
    );
    assert_eq!(store.get(&a.id().unwrap()).unwrap().state, State::Expired);
    assert_eq!(store.get(&b.id().unwrap()).unwrap().state, State::Expired);
}

#[tokio::test]
async fn a_token_payment_to_a_wallet_without_a_token_account_opens_it_once() {
    use solana_keypair::Keypair;
    use solana_program::program_pack::Pack;
    use solana_signer::Signer;
    use toss_core::intent::{Limit, MemoryLedger, RiskLimits, Verifier};
    use toss_program::instruction::{self as ix, Funds};

    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let (payer_key, payer) = merchant_key(1);
    let payer_kp = banks::keypair(&payer_key);
    w.fund(&payer, SOL).await;
    // A mint, and the payer's tokens; the merchant never held this token.
    let authority = w.chain.ctx.lock().await.payer.pubkey();
    let (mint, payer_tokens) = (Keypair::new(), Keypair::new());
    let token = spl_token_interface::ID;
    let create = |k: &Keypair, len: usize, lamports: u64| {
        solana_system_interface::instruction::create_account(
            &authority,
            &k.pubkey(),
            lamports,
            len as u64,
            &token,
        )
    };
    let (mint_len, acct_len) = (
        spl_token_interface::state::Mint::LEN,
        spl_token_interface::state::Account::LEN,
    );
    let setup = vec![
        create(&mint, mint_len, SOL / 100),
        spl_token_interface::instruction::initialize_mint2(
            &token,
            &mint.pubkey(),
            &authority,
            None,
            6,
        )
        .unwrap(),
        create(&payer_tokens, acct_len, SOL / 100),
        spl_token_interface::instruction::initialize_account3(
            &token,
            &payer_tokens.pubkey(),
            &mint.pubkey(),
            &payer,
        )
        .unwrap(),
        spl_token_interface::instruction::mint_to(
            &token,
            &mint.pubkey(),
            &payer_tokens.pubkey(),
            &authority,
            &[],
            100_000_000,
        )
        .unwrap(),
    ];
    w.send(&setup, &[&mint, &payer_tokens]).await;
    let open = ix::open_escrow(&w.program_id, &payer, Some(&mint.pubkey()), w.cluster, 3600);
    let funds = Funds::Spl {
        mint: mint.pubkey(),
        owner_tokens: payer_tokens.pubkey(),
    };
    let dep = ix::deposit(&w.program_id, &payer, funds, 50_000_000);
    w.send(&[open, dep], &[&payer_kp]).await;

    // Two payments of this token, settled one run apart.
    let verifier = Verifier {
        cluster: w.cluster,
        program_id: w.program_id,
        payee: me,
        limits: RiskLimits {
            per_mint: [(
                Some(mint.pubkey()),
                Limit {
                    min_single: 1,
                    max_single: 50_000_000,
                    max_unsettled_per_payer: 50_000_000,
                    max_unsettled_total: 50_000_000,
                },
            )]
            .into(),
            ..RiskLimits::default()
        },
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.open_store(tmp.path());
    let pay = |nonce| {
        let w = &w;
        let payer_key = &payer_key;
        let mint = mint.pubkey();
        async move {
            let mut i = w.unsigned(payer_key, me, 12_340_000, nonce).await;
            i.mint = Some(mint);
            toss_core::intent::sign(i, payer_key).unwrap()
        }
    };
    let ata = toss_core::address::associated_token_account(&me, &mint.pubkey());
    let tokens = |data: Vec<u8>| {
        spl_token_interface::state::Account::unpack(&data)
            .unwrap()
            .amount
    };
    let engine = w.engine(&merchant, 0);
    let mut balance = w.balance(&me).await;
    for nonce in [1, 2] {
        let signed = pay(nonce).await;
        let now = w.now().await;
        let accepted = verifier
            .verify(
                &signed.to_bytes().unwrap(),
                None,
                now,
                &MemoryLedger::default(),
            )
            .unwrap();
        store.record_received(&accepted, i64::from(now)).unwrap();
        let results = engine.settle_all(&mut store, 0, &mut |_| {}).await.unwrap();
        assert!(
            matches!(results[0].1, Outcome::Settled { .. }),
            "{results:?}"
        );
        let account = w
            .chain
            .ctx
            .lock()
            .await
            .banks_client
            .get_account(ata)
            .await
            .unwrap();
        assert_eq!(tokens(account.unwrap().data), 12_340_000 * nonce);
        // The first run opened the account (its rent, 2,039,280, and a
        // transaction's fee, once); each run paid its settlement's fees
        // (one signature) and a settlement record's rent.
        let opened = if nonce == 1 { 2_039_280 + 5_000 } else { 0 };
        let now_balance = w.balance(&me).await;
        assert_eq!(
            balance - now_balance,
            5_000 + 1_705_200 + opened,
            "run {nonce}"
        );
        balance = now_balance;
    }
}

#[tokio::test]
async fn online_the_engine_reads_the_escrows_of_payers_it_holds_payments_from() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 3 * SOL).await;
    let a = w.intent(&payer, me, SOL / 10, 1).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&a]).await;
    // The payer arms a withdrawal of everything.
    let kp = banks::keypair(&payer);
    let req = toss_program::instruction::request_withdrawal(
        &w.program_id,
        &solana_signer::Signer::pubkey(&kp),
        None,
        3 * SOL,
    );
    w.send(&[req], &[&kp]).await;
    let now = i64::from(w.now().await);
    let read = w
        .engine(&merchant, 0)
        .watch_payers(&mut store, now)
        .await
        .unwrap();
    assert_eq!(read, 1);
    let payer_key = a.intent.payer;
    let seen = store
        .escrow_snapshot(&payer_key, None, &w.program_id)
        .unwrap()
        .unwrap();
    assert_eq!((seen.pending_withdrawal, seen.at), (3 * SOL, now));
    assert!(seen.balance >= 3 * SOL - 1, "{seen:?}");
    // The till now refuses this payer's next payment offline, and says why.
    let risk = toss_core::escrow::payer_risk(&seen, SOL / 10, SOL / 10, now).unwrap();
    assert!(
        risk.contains("withdrawal of 3000000000 base units armed"),
        "{risk}"
    );
}

#[tokio::test]
async fn the_precompile_when_forced_costs_a_signature_fee_per_payment() {
    use toss_core::settle::SignatureCheck;
    let w = world().await;
    let (merchant, me, intents) = four_owed(&w).await;
    let refs: Vec<&SignedIntent> = intents.iter().collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &refs).await;
    let before = w.balance(&me).await;

    let results = w
        .engine(&merchant, 3)
        .with_signature_check(SignatureCheck::Precompile)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Settled { .. })),
        "{results:?}"
    );
    assert_eq!(
        w.chain.submits.get(),
        2,
        "3 intents in one transaction, then 1"
    );
    // 5,000 lamports per transaction signature and per precompile
    // signature: 2 + 4.
    let expected = before + 4 * SOL / 10 - 6 * 5_000 - 4 * 1_705_200;
    assert_eq!(w.balance(&me).await, expected);
}

#[tokio::test]
async fn a_cluster_without_the_precompile_gets_the_programs_own_check_automatically() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let p1 = w.payer(1, 5 * SOL).await;
    let intents = [
        w.intent(&p1, me, SOL / 10, 1).await,
        w.intent(&p1, me, SOL / 10, 2).await,
    ];
    let refs: Vec<&SignedIntent> = intents.iter().collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &refs).await;
    let before = w.balance(&me).await;
    w.chain.no_precompile.set(true);
    // A cluster quoting compute units above signatures: the precompile
    // looks cheaper, so the default (auto) tries it first.
    w.chain.quoted_lamports_per_cu.set(1);

    // Refused once for the precompile, then the same batch with the
    // program checking, and nothing written off.
    let results = w
        .engine(&merchant, 3)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Settled { .. })),
        "{results:?}"
    );
    assert_eq!(
        w.chain.submits.get(),
        2,
        "refused once, then settled in one"
    );
    assert_eq!(
        w.balance(&me).await,
        before + 2 * SOL / 10 - 5_000 - 2 * 1_705_200
    );

    // Forced to the precompile, a payment waits on such a cluster: it is
    // refused, with the cluster's reason, never settled.
    let more = [w.intent(&p1, me, SOL / 10, 3).await];
    let refs: Vec<&SignedIntent> = more.iter().collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut forced = w.merchant_store(tmp.path(), me, &refs).await;
    let results = w
        .engine(&merchant, 3)
        .with_signature_check(toss_core::settle::SignatureCheck::Precompile)
        .settle_all(&mut forced, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        !matches!(results[0].1, Outcome::Settled { .. }),
        "{results:?}"
    );
}

#[tokio::test]
async fn a_cluster_that_quotes_no_fees_still_settles_with_the_programs_check_at_once() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, SOL).await;
    let p1 = w.payer(1, 5 * SOL).await;
    let intents = [w.intent(&p1, me, SOL / 10, 1).await];
    let refs: Vec<&SignedIntent> = intents.iter().collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &refs).await;
    let before = w.balance(&me).await;
    w.chain.no_fee_quotes.set(true);
    let mut retries = 0;
    let results = w
        .engine(&merchant, 3)
        .settle_all(&mut store, 0, &mut |p| {
            if matches!(p, Progress::Retrying { .. }) {
                retries += 1;
            }
        })
        .await
        .unwrap();
    assert!(
        matches!(results[0].1, Outcome::Settled { .. }),
        "{results:?}"
    );
    assert_eq!(retries, 0, "a missing quote is not waited for");
    assert_eq!(w.balance(&me).await, before + SOL / 10 - 5_000 - 1_705_200);
}

#[tokio::test]
async fn where_the_cluster_quotes_more_than_signatures_the_shortfall_says_its_quote() {
    let w = world().await;
    let (merchant, me) = merchant_key(50);
    w.fund(&me, 1_000_000).await;
    let payer = w.payer(1, 3 * SOL).await;
    let a = w.intent(&payer, me, SOL / 10, 1).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.merchant_store(tmp.path(), me, &[&a]).await;
    // A lamport per requested compute unit: the program's check then costs
    // far more than its one signature, and the precompile is taken.
    w.chain.quoted_lamports_per_cu.set(1);
    let results = w
        .engine(&merchant, 0)
        .settle_all(&mut store, 0, &mut |_| {})
        .await
        .unwrap();
    let Outcome::Waiting { reason } = &results[0].1 else {
        panic!("{results:?}")
    };
    assert!(
        !reason.contains("(0.00001 SOL in fees") && !reason.contains("(0.000005 SOL in fees"),
        "the quote, not the signatures alone: {reason}"
    );
    assert_eq!(w.chain.submits.get(), 0);
}
