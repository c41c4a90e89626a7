use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;

use super::*;
use crate::intent::{Intent, MemoryLedger, RiskLimits, Verifier, cluster, sign};

const NOW: i64 = 1_790_000_100;
const KEY: [u8; 32] = [42; 32];

fn open(dir: &Path) -> Store {
    Store::open(&dir.join("toss.db"), &Zeroizing::new(KEY)).unwrap()
}

fn payer() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn intent(nonce: u64, amount: u64) -> SignedIntent {
    let key = payer();
    sign(
        Intent {
            cluster: cluster::DEVNET,
            program_id: Pubkey::new_from_array([3; 32]),
            payer: Pubkey::new_from_array(key.verifying_key().to_bytes()),
            // A wallet: payees are on the curve.
            payee: Pubkey::new_from_array(
                SigningKey::from_bytes(&[2; 32]).verifying_key().to_bytes(),
            ),
            mint: None,
            amount,
            reference: None,
            memo: Some("order 7".into()),
            nonce,
            created_at: 1_790_000_000,
            expires_at: 1_790_086_400,
            durable_nonce: None,
        },
        &key,
    )
    .unwrap()
}

fn accepted(nonce: u64, amount: u64) -> Accepted {
    let s = intent(nonce, amount);
    // The ledger's sums are what is tested here, with small amounts.
    let mut limits = RiskLimits::default();
    for limit in limits.per_mint.values_mut() {
        limit.min_single = 1;
    }
    let verifier = Verifier {
        cluster: cluster::DEVNET,
        program_id: s.intent.program_id,
        payee: s.intent.payee,
        limits,
    };
    verifier
        .verify(
            &s.to_bytes().unwrap(),
            None,
            NOW as u32,
            &MemoryLedger::default(),
        )
        .unwrap()
}

#[test]
fn an_intent_is_stored_once_and_its_history_grows() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let signed = intent(1, 1_000);
    let id = store.record_sent(&signed, None, NOW).unwrap();
    assert!(matches!(
        store.record_sent(&signed, None, NOW),
        Err(StoreError::Duplicate)
    ));
    for (state, at) in [
        (State::Sent, 1),
        (State::Submitted, 2),
        (State::Submitted, 3),
        (State::Settled, 4),
    ] {
        store.append(&id, state, Some("tx 5xyz"), NOW + at).unwrap();
    }
    let got = store.get(&id).unwrap();
    assert_eq!(got.signed, signed);
    assert_eq!(got.direction, Direction::Sent);
    assert_eq!(got.state, State::Settled);
    let states: Vec<_> = got.history.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            State::Created,
            State::Sent,
            State::Submitted,
            State::Submitted,
            State::Settled
        ]
    );
    let list = store.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, hex::encode(id));
    assert_eq!(list[0].state, State::Settled);
    assert!(matches!(store.get(&[0; 32]), Err(StoreError::NotFound)));
}

#[test]
fn the_state_machine_refuses_impossible_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let id = store.record_sent(&intent(1, 1_000), None, NOW).unwrap();
    let err = store.append(&id, State::Verified, None, NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "an intent cannot go from created to verified"
    );
    store
        .append(
            &id,
            State::Conflicted,
            Some("nonce lost to another intent"),
            NOW,
        )
        .unwrap();
    assert!(matches!(
        store.append(&id, State::Submitted, None, NOW),
        Err(StoreError::BadTransition {
            from: "conflicted",
            ..
        })
    ));
    assert!(matches!(
        store.append(&[9; 32], State::Sent, None, NOW),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn bodies_are_sealed_and_a_wrong_key_or_altered_row_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let signed = intent(1, 1_000);
    let id = open(tmp.path()).record_sent(&signed, None, NOW).unwrap();

    let raw = std::fs::read(tmp.path().join("toss.db")).unwrap();
    let wire = signed.to_bytes().unwrap();
    assert!(
        !raw.windows(64).any(|w| w == signed.signature),
        "signature in clear"
    );
    assert!(!raw.windows(7).any(|w| w == b"order 7"), "memo in clear");
    assert!(!raw.windows(wire.len()).any(|w| w == wire.as_slice()));

    let other = Store::open(&tmp.path().join("toss.db"), &Zeroizing::new([7; 32])).unwrap();
    assert!(matches!(other.get(&id), Err(StoreError::Decrypt)));

    let store = open(tmp.path());
    store
        .conn()
        .execute_batch("DROP TRIGGER intents_are_written_once")
        .unwrap();
    let mut body: Vec<u8> = store
        .conn()
        .query_row("SELECT body FROM intents", [], |r| r.get(0))
        .unwrap();
    body[10] ^= 1;
    store
        .conn()
        .execute("UPDATE intents SET body = ?1", [body])
        .unwrap();
    assert!(matches!(store.get(&id), Err(StoreError::Decrypt)));
}

#[test]
fn the_schema_itself_keeps_history_and_unsettled_intents() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let id = store.record_sent(&intent(1, 1_000), None, NOW).unwrap();
    let c = store.conn();
    let err = c.execute("UPDATE intents SET amount = 1", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = c
        .execute("UPDATE intent_events SET state = 'settled'", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = c.execute("DELETE FROM intent_events", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = c.execute("DELETE FROM intents", []).unwrap_err();
    assert!(err.to_string().contains("never deleted"), "{err}");
    store.append(&id, State::Failed, None, NOW).unwrap();
    assert_eq!(store.conn().execute("DELETE FROM intents", []).unwrap(), 1);
}

#[test]
fn cleanup_expires_what_ran_out_and_deletes_only_old_finished_intents() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let pending = store.record_sent(&intent(1, 1), None, NOW).unwrap();
    let submitted = store.record_sent(&intent(2, 1), None, NOW).unwrap();
    store
        .append(&submitted, State::Submitted, None, NOW)
        .unwrap();
    let settled = store.record_sent(&intent(3, 1), None, NOW).unwrap();
    store.append(&settled, State::Settled, None, NOW).unwrap();
    let expires = 1_790_086_400;

    assert_eq!(store.cleanup(NOW, 0).unwrap(), (0, 0), "nothing is due yet");
    assert_eq!(store.cleanup(expires, 86_400).unwrap(), (1, 0));
    assert_eq!(store.get(&pending).unwrap().state, State::Expired);
    assert_eq!(
        store.get(&submitted).unwrap().state,
        State::Submitted,
        "may have landed"
    );
    // Past retention: the settled and the expired go, the submitted stays.
    assert_eq!(store.cleanup(expires + 86_401, 86_400).unwrap(), (0, 2));
    assert_eq!(store.list().unwrap().len(), 1);
    assert!(store.get(&submitted).is_ok());
}

#[test]
fn the_store_is_the_payees_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let a = accepted(1, 700);
    assert!(!store.seen(&a.id));
    store.record_received(&a, NOW).unwrap();
    assert!(store.seen(&a.id));
    assert_eq!(store.get(&a.id).unwrap().state, State::Verified);
    let b = accepted(2, 300);
    store.record_received(&b, NOW).unwrap();
    let payer = a.signed.intent.payer;
    assert_eq!(store.unsettled(&payer, None), 1_000);
    assert_eq!(store.unsettled(&payer, Some(&Pubkey::new_unique())), 0);
    store.append(&a.id, State::Submitted, None, NOW).unwrap();
    store.append(&a.id, State::Settled, None, NOW).unwrap();
    assert_eq!(store.unsettled(&payer, None), 300);

    // Nonces held: settled (1) and waiting (2) ones; none for 3. Once the
    // waiting one expires unsettled, its nonce is free again.
    assert!(store.nonce_held(&payer, 1) && store.nonce_held(&payer, 2));
    assert!(!store.nonce_held(&payer, 3));
    assert!(!store.nonce_held(&Pubkey::new_unique(), 1));
    store.append(&b.id, State::Expired, None, NOW).unwrap();
    assert!(!store.nonce_held(&payer, 2));
    assert_eq!(store.unsettled(&payer, None), 0);

    // A payment that bounces still counts against its payer: no fresh
    // allowance for not paying. One deferred (escrow short) counts too.
    let c = accepted(3, 400);
    store.record_received(&c, NOW).unwrap();
    store.append(&c.id, State::Submitted, None, NOW).unwrap();
    store
        .append(&c.id, State::Failed, Some("refused"), NOW)
        .unwrap();
    let d = accepted(4, 50);
    store.record_received(&d, NOW).unwrap();
    store.append(&d.id, State::Submitted, None, NOW).unwrap();
    store
        .append(&d.id, State::Deferred, Some("waiting"), NOW)
        .unwrap();
    assert_eq!(store.unsettled(&payer, None), 450);
    assert!(
        store.nonce_held(&payer, 4),
        "a deferred intent can still settle"
    );
}

#[test]
fn counters_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    store.bump(Counter::IntentsCreated, 1).unwrap();
    store.bump(Counter::IntentsCreated, 2).unwrap();
    store.bump(Counter::NetworkErrors, 1).unwrap();
    assert_eq!(
        store.counters().unwrap(),
        [
            ("intents_created".to_owned(), 3),
            ("network_errors".to_owned(), 1)
        ]
    );
}

#[test]
fn an_old_store_is_migrated_with_its_data_and_a_newer_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("toss.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
    }
    // Write data at version 1 with the current code path, then reopen.
    let id = {
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        let mut store = Store {
            conn,
            cipher: XChaCha20Poly1305::new_from_slice(&KEY).unwrap(),
        };
        store.record_sent(&intent(1, 5), None, NOW).unwrap()
    };
    let store = open(tmp.path());
    let v: u32 = store
        .conn()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    assert_eq!(store.get(&id).unwrap().signed, intent(1, 5));
    store
        .conn()
        .query_row("SELECT count(*) FROM settlements", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();

    store
        .conn()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(store);
    let err = Store::open(&path, &Zeroizing::new(KEY)).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
}

#[test]
fn a_full_disk_is_reported_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let first = store.record_sent(&intent(0, 1), None, NOW).unwrap();
    // SQLite's own limit on the file size: the same error path as a full disk.
    let pages: i64 = store
        .conn()
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .unwrap();
    store
        .conn()
        .pragma_update(None, "max_page_count", pages + 2)
        .unwrap();
    let mut stored = vec![first];
    let err = loop {
        match store.record_sent(&intent(stored.len() as u64, 1), None, NOW) {
            Ok(id) => stored.push(id),
            Err(e) => break e,
        }
        assert!(stored.len() < 10_000, "the limit never hit");
    };
    assert!(matches!(err, StoreError::Full), "{err:?}");
    assert!(err.to_string().contains("disk is full"));
    for id in &stored {
        assert!(store.get(id).is_ok());
    }
    assert_eq!(
        store.list().unwrap().len(),
        stored.len(),
        "no half-written intent"
    );
}

fn pool_record(address: [u8; 32], cluster: [u8; 8]) -> NonceRecord {
    NonceRecord {
        address: Pubkey::new_from_array(address),
        authority: Pubkey::new_from_array(payer().verifying_key().to_bytes()),
        cluster,
        seed: "toss-nonce-0".into(),
        lamports: 1_447_680,
        value: Some([7; 32]),
        state: NonceState::Available,
        intent_id: None,
        updated_at: NOW,
    }
}

#[test]
fn a_durable_intent_binds_the_nonce_it_was_handed_and_keeps_its_signature() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let me = Pubkey::new_from_array(payer().verifying_key().to_bytes());
    store
        .put_nonce(&pool_record([5; 32], cluster::DEVNET))
        .unwrap();
    store
        .put_nonce(&pool_record([6; 32], cluster::TESTNET))
        .unwrap();
    assert_eq!(store.nonces(&me, None).unwrap().len(), 2);
    assert_eq!(store.nonces(&me, Some(&cluster::TESTNET)).unwrap().len(), 1);

    // A durable intent whose nonce the pool never handed out is refused.
    let durable = |account: [u8; 32]| {
        let mut i = intent(9, 1_000).intent;
        i.durable_nonce = Some(crate::intent::DurableNonce {
            account: Pubkey::new_from_array(account),
            value: [7; 32],
        });
        sign(i, &payer()).unwrap()
    };
    let signed = durable([5; 32]);
    assert!(matches!(
        store.record_sent(&signed, Some(&[1; 64]), NOW),
        Err(StoreError::NonceNotHandedOut(_))
    ));
    assert!(store.list().unwrap().is_empty(), "nothing half-stored");

    // Handed out (devnet's only: the testnet one stays), then bound.
    let taken = store
        .take_nonce(&me, &cluster::DEVNET, NOW)
        .unwrap()
        .unwrap();
    assert_eq!(taken.address, Pubkey::new_from_array([5; 32]));
    assert!(
        store
            .take_nonce(&me, &cluster::DEVNET, NOW)
            .unwrap()
            .is_none()
    );
    let id = store.record_sent(&signed, Some(&[1; 64]), NOW).unwrap();
    let pool = store.nonces(&me, Some(&cluster::DEVNET)).unwrap();
    assert_eq!(pool[0].state, NonceState::Assigned);
    assert_eq!(pool[0].intent_id, Some(id));
    assert_eq!(store.get(&id).unwrap().tx_signature, Some([1; 64]));
    // The signature is written once.
    let err = store
        .conn()
        .execute("UPDATE durable_signatures SET signature = zeroblob(64)", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    // A used nonce is marked for a refresh.
    store.nonce_used(&taken.address, NOW + 1).unwrap();
    let pool = store.nonces(&me, Some(&cluster::DEVNET)).unwrap();
    assert_eq!(pool[0].state, NonceState::Used);
}

#[test]
fn the_activity_exports_as_csv_with_fields_quoted_when_needed() {
    let row = |id: &str, mint: Option<&str>| Summary {
        id: id.into(),
        direction: Direction::Received,
        payer: "P".into(),
        payee: "Q".into(),
        mint: mint.map(Into::into),
        amount: 1_500,
        nonce: 7,
        expires_at: 99,
        state: State::Verified,
    };
    let online = |signature: &str, payer: &str| OnlinePayment {
        signature: signature.into(),
        reference: "R".into(),
        payer: payer.into(),
        recipient: "Q".into(),
        mint: None,
        amount: 2_500,
        slot: 5,
        block_time: None,
        at: 100,
    };
    let csv = to_csv(
        &[row("a", None), row("b,\"c\"", Some("M"))],
        &[online("5in", "P"), online("5out", "ME")],
        &|payer| payer == "ME",
        &|payment| if payment == "5in" { 700 } else { 0 },
    );
    assert_eq!(
        csv,
        "id,direction,payer,payee,mint,amount,nonce,expires_at,state,way,refunded\r\n\
         a,received,P,Q,,1500,7,99,verified,offline,0\r\n\
         \"b,\"\"c\"\"\",received,P,Q,M,1500,7,99,verified,offline,0\r\n\
         5in,received,P,Q,,2500,,,confirmed,online,700\r\n\
         5out,sent,ME,Q,,2500,,,confirmed,online,0\r\n"
    );
}

#[test]
fn metrics_derive_rates_and_averages_from_the_counters() {
    let c = |pairs: &[(&str, i64)]| {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), *v))
            .collect::<Vec<_>>()
    };
    let empty = Metrics::from_counters(&[]);
    assert_eq!(empty.success_rate, None);
    assert_eq!(empty.average_settlement_seconds, None);
    let m = Metrics::from_counters(&c(&[
        ("intents_created", 5),
        ("intents_settled", 3),
        ("intents_not_settled", 1),
        ("settlement_seconds", 90),
        ("gate_failures", 2),
        ("network_errors", 4),
    ]));
    assert_eq!(m.success_rate, Some(75.0));
    assert_eq!(m.average_settlement_seconds, Some(30.0));
    assert_eq!(
        (m.intents_created, m.gate_failures, m.network_errors),
        (5, 2, 4)
    );
}

#[test]
fn a_payment_its_engine_deferred_is_still_promised_by_its_payer() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let payer = Pubkey::new_from_array(payer().verifying_key().to_bytes());
    let a = store.record_sent(&intent(1, 700), None, NOW).unwrap();
    let b = store.record_sent(&intent(2, 300), None, NOW).unwrap();
    assert_eq!(store.promised(&payer, None).unwrap(), 1_000);
    // The escrow was short when it was tried: it can still settle, so it
    // still counts against what the payer may sign offline.
    store.append(&a, State::Sent, None, NOW).unwrap();
    store.append(&a, State::Submitted, None, NOW).unwrap();
    store
        .append(&a, State::Deferred, Some("waiting"), NOW)
        .unwrap();
    assert_eq!(store.promised(&payer, None).unwrap(), 1_000);
    // Only an end that can never pay frees it.
    store.append(&b, State::Expired, None, NOW).unwrap();
    assert_eq!(store.promised(&payer, None).unwrap(), 700);
    store.append(&a, State::Expired, None, NOW).unwrap();
    assert_eq!(store.promised(&payer, None).unwrap(), 0);
}

/// A sale of 1,000 lamports (100 of them tip) priced at 14.38 USD
/// (1.88 tip), paid offline by two payments of 600 and 400 (the first
/// settled and 300 of it refunded, the second waiting), and an online
/// payment of 5,000 to this wallet for another sale.
fn a_day(store: &mut Store) -> (Pubkey, [u8; 32], [u8; 32]) {
    let reference = Pubkey::new_from_array([9; 32]);
    let payee = intent(1, 1).intent.payee;
    store
        .record_sale(&SaleRecord {
            reference,
            payee,
            mint: None,
            amount: 1_000,
            tip: 100,
            fiat: Some(FiatPrice {
                code: "USD".into(),
                amount: 1_438,
                tip: 188,
                rate: "150.000000".into(),
                rate_at: NOW - 60,
            }),
            opened_at: NOW,
        })
        .unwrap();
    let (a, b) = (accepted(1, 600), accepted(2, 400));
    store
        .record_received_all(&[a.clone(), b.clone()], Some(&reference), NOW)
        .unwrap();
    for state in [State::Submitted, State::Settled] {
        store.append(&a.id, state, None, NOW + 5).unwrap();
    }
    store
        .record_settlement(&a.id, "SETTLED", Some(7), NOW + 5)
        .unwrap();
    let a_hex = hex::encode(a.id);
    let refund = store
        .begin_refund(
            &NewRefund {
                at: NOW + 9,
                ..refund_of(&a_hex, a.signed.intent.payer, 300)
            },
            600,
        )
        .unwrap();
    store.refund_signed(refund, "REFUND").unwrap();
    store.refund_ended(refund, RefundState::Confirmed).unwrap();
    let paid = crate::solana_pay::Paid {
        signature: "ONLINE".into(),
        payer: Pubkey::new_from_array([5; 32]),
        amount: 5_000,
        mint: None,
        slot: 3,
        block_time: Some(NOW + 20),
    };
    store
        .record_online(&paid, &payee, &Pubkey::new_from_array([8; 32]), NOW + 21)
        .unwrap();
    (payee, a.id, b.id)
}

#[test]
fn the_close_lists_each_payment_with_its_part_of_the_sale_and_adds_them_up() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let (payee, a, b) = a_day(&mut store);
    let ours = |k: &str| k == payee.to_string();
    let day = crate::close::report(
        &store,
        NOW,
        NOW + 100,
        crate::config::Cluster::Devnet,
        &ours,
    )
    .unwrap();
    let rows: Vec<_> = day
        .rows
        .iter()
        .map(|r| {
            (
                r.way,
                r.amount,
                r.tip,
                r.fiat_amount,
                r.fiat_tip,
                r.refunded,
                r.state.as_str(),
            )
        })
        .collect();
    let (first, second) = if day.rows[0].payment == hex::encode(a) {
        (0, 1)
    } else {
        (1, 0)
    };
    assert_eq!(day.rows[first].payment, hex::encode(a));
    assert_eq!(day.rows[second].payment, hex::encode(b));
    // 600/1,000 of the tip and of 14.38 USD (862.8, floored) and 400/1,000
    // (575.2, floored); the cent rounding leaves goes to the first row.
    let cent = |row| u64::from(row == 0);
    assert_eq!(
        rows[first],
        (
            "offline",
            600,
            60,
            Some(862 + cent(first)),
            Some(112 + cent(first)),
            300,
            "settled"
        )
    );
    assert_eq!(
        rows[second],
        (
            "offline",
            400,
            40,
            Some(575 + cent(second)),
            Some(75 + cent(second)),
            0,
            "verified"
        )
    );
    assert_eq!(rows[2], ("online", 5_000, 0, None, None, 0, "confirmed"));
    assert_eq!(day.rows[first].transaction.as_deref(), Some("SETTLED"));
    let sol = &day.totals[0];
    assert_eq!(
        (
            sol.payments,
            sol.received,
            sol.tips,
            sol.refunds,
            sol.settled,
            sol.waiting
        ),
        (3, 6_000, 100, 300, 5_600, 400)
    );
    assert_eq!(
        (
            day.fiat[0].fiat.as_str(),
            day.fiat[0].amount,
            day.fiat[0].tips
        ),
        ("USD", 1_438, 188)
    );
    assert_eq!(
        day.exposure[0].waiting, 400,
        "what offline payers still owe"
    );
    // Outside the period: nothing, but what is owed is still owed.
    let later = crate::close::report(
        &store,
        NOW + 100,
        NOW + 200,
        crate::config::Cluster::Devnet,
        &ours,
    )
    .unwrap();
    assert!(later.rows.is_empty() && later.totals.is_empty());
    assert_eq!(later.exposure[0].waiting, 400);

    let csv = day.to_csv();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], crate::close::CSV_COLUMNS.join(","));
    assert_eq!(
        lines[1 + first],
        format!(
            "2026-09-21T14:15:00Z,offline,{},{},SOL,0.0000006,USD,8.6{},150.000000,0.00000006,1.1{},0.0000003,settled,SETTLED,{}",
            hex::encode(a),
            day.rows[first].payer,
            2 + cent(first),
            2 + cent(first),
            Pubkey::new_from_array([9; 32])
        )
    );
    assert_eq!(
        lines.len(),
        5,
        "a header, three rows, and the last line's end"
    );
}

/// A refund of `amount` of `payment` to `to`, in SOL, as the till writes
/// it before sending.
fn refund_of(payment: &str, to: Pubkey, amount: u64) -> NewRefund<'_> {
    NewRefund {
        payment,
        recipient: to,
        mint: None,
        reference: Pubkey::new_from_array([amount as u8; 32]),
        amount,
        fee: 5_000,
        at: NOW,
    }
}

#[test]
fn refunds_never_exceed_what_was_received() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let (payee, a, b) = a_day(&mut store);
    let to = Pubkey::new_unique();
    let a_hex = hex::encode(a);
    // 300 of 600 refunded already.
    assert!(matches!(
        store.begin_refund(&refund_of(&a_hex, to, 301), 600),
        Err(StoreError::RefundTooLarge {
            asked: 301,
            left: 300
        })
    ));
    let sending = store
        .begin_refund(&refund_of(&a_hex, to, 300), 600)
        .unwrap();
    // One whose outcome is unknown still counts.
    assert!(matches!(
        store.begin_refund(&refund_of(&a_hex, to, 1), 600),
        Err(StoreError::RefundTooLarge { left: 0, .. })
    ));
    // Kept with its own reference, to find it on chain by.
    let kept = store.refunds(Some(&a_hex)).unwrap();
    let last = kept.last().unwrap();
    assert_eq!(
        (
            last.id,
            last.reference,
            last.state,
            last.signature.as_deref()
        ),
        (
            sending,
            refund_of(&a_hex, to, 300).reference,
            RefundState::Sending,
            None
        )
    );
    // A refused one gives its amount back.
    store.refund_ended(sending, RefundState::Failed).unwrap();
    assert!(store.begin_refund(&refund_of(&a_hex, to, 300), 600).is_ok());
    assert!(matches!(
        store.begin_refund(&refund_of(&a_hex, to, 0), 600),
        Err(StoreError::RefundTooLarge { asked: 0, .. })
    ));

    let ours = |k: &Pubkey| *k == payee;
    // What can be refunded: settled payments only, to their payer, with
    // the sale's reference.
    let settled = crate::refund::refundable(&store, &a_hex, &ours).unwrap();
    assert_eq!(
        (settled.received, settled.refunded, settled.left()),
        (600, 600, 0)
    );
    assert_eq!(settled.reference, Some(Pubkey::new_from_array([9; 32])));
    assert_eq!(settled.to, intent(1, 1).intent.payer);
    assert_eq!(
        settled.from, payee,
        "made from the account the payment reached"
    );
    assert!(matches!(
        crate::refund::refundable(&store, &hex::encode(b), &ours),
        Err(crate::refund::RefundError::NotSettled("verified"))
    ));
    let online = crate::refund::refundable(&store, "ONLINE", &ours).unwrap();
    assert_eq!(online.from, payee);
    assert_eq!(
        (online.to, online.received, online.left()),
        (Pubkey::new_from_array([5; 32]), 5_000, 5_000)
    );
    assert!(matches!(
        crate::refund::refundable(&store, "ONLINE", &|_| false),
        Err(crate::refund::RefundError::NotReceived(_))
    ));
    assert!(matches!(
        crate::refund::refundable(&store, &hex::encode([7u8; 32]), &ours),
        Err(crate::refund::RefundError::NotReceived(_))
    ));
}

#[test]
fn the_last_rate_read_is_kept_and_an_older_one_never_replaces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    assert_eq!(store.kept_rate("SOL", "EUR").unwrap(), None);
    let rate = |scaled, published_at| crate::price::Rate {
        currency: "SOL".into(),
        fiat: "EUR".into(),
        scaled,
        published_at,
    };
    store.keep_rate(&rate(120, 100)).unwrap();
    store.keep_rate(&rate(90, 50)).unwrap();
    assert_eq!(store.kept_rate("SOL", "EUR").unwrap(), Some(rate(120, 100)));
    store.keep_rate(&rate(130, 200)).unwrap();
    assert_eq!(store.kept_rate("SOL", "EUR").unwrap(), Some(rate(130, 200)));
    assert_eq!(store.kept_rate("SOL", "USD").unwrap(), None);
}
