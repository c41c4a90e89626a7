use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use super::*;
use crate::currency::USDC_DEVNET;
use crate::intent::{Limit, RiskLimits, SignedIntent, cluster, sign};

const NOW: u32 = 1_790_000_100;
const REFERENCE: Pubkey = Pubkey::new_from_array([9; 32]);

fn payee() -> Pubkey {
    Pubkey::new_from_array(SigningKey::from_bytes(&[2; 32]).verifying_key().to_bytes())
}

fn program() -> Pubkey {
    Pubkey::new_from_array([3; 32])
}

/// An intent of `amount` in `mint` from the payer with key byte `who`.
fn intent(who: u8, nonce: u64, amount: u64, mint: Option<Pubkey>) -> SignedIntent {
    let key = SigningKey::from_bytes(&[who; 32]);
    sign(
        Intent {
            cluster: cluster::DEVNET,
            program_id: program(),
            payer: Pubkey::new_from_array(key.verifying_key().to_bytes()),
            payee: payee(),
            mint,
            amount,
            reference: Some(REFERENCE),
            memo: None,
            nonce,
            created_at: NOW - 100,
            expires_at: NOW + 86_400,
            durable_nonce: None,
        },
        &key,
    )
    .unwrap()
}

fn wire(s: &SignedIntent) -> Vec<u8> {
    s.to_bytes().unwrap()
}

fn verifier() -> Verifier {
    let mut per_mint = RiskLimits::default().per_mint;
    per_mint.insert(
        Some(USDC_DEVNET),
        Limit {
            min_single: 10_000,
            max_single: 200_000_000,
            max_unsettled_per_payer: 1_000_000_000,
            max_unsettled_total: 5_000_000_000,
        },
    );
    Verifier {
        cluster: cluster::DEVNET,
        program_id: program(),
        payee: payee(),
        limits: RiskLimits {
            per_mint,
            ..RiskLimits::default()
        },
    }
}

/// A till showing a sale of `amount` (as written) of SOL, or of USDC.
fn till(amount: &str, usdc: bool) -> Till {
    let mut request = PaymentRequest::new(payee());
    request.amount = Some(amount.into());
    request.spl_token = usdc.then_some(USDC_DEVNET);
    request.references = vec![REFERENCE];
    let till = Till::default();
    till.open(OpenSale::new(&request, Cluster::Devnet, Separator::Point).unwrap());
    till
}

fn store(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("till.db"), &Zeroizing::new([5; 32])).unwrap()
}

fn kept(store: &Store) -> usize {
    store.list().unwrap().len()
}

fn refused(verdicts: &[Verdict]) -> Vec<String> {
    verdicts
        .iter()
        .map(|v| v.clone().expect_err("refused"))
        .collect()
}

#[test]
fn a_payment_for_less_than_the_sale_is_refused_and_nothing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let till = till("2", false);
    let small = intent(1, 1, 2_000_000, None);
    let v = till.take(&[wire(&small)], &verifier(), &mut store, NOW, 8);
    assert_eq!(
        refused(&v),
        ["this payment is 0.002 SOL; the sale is 2 SOL"]
    );
    assert_eq!(kept(&store), 0);
    assert!(
        matches!(till.now(), Stage::Open(_)),
        "still waiting to be paid"
    );
    // More than the sale is refused too: the payer is not made to overpay.
    let big = intent(1, 2, 1_000_000_001, None);
    let v = self::till("1", false).take(&[wire(&big)], &verifier(), &mut store, NOW, 8);
    assert_eq!(
        refused(&v),
        ["this payment is 1.000000001 SOL; the sale is 1 SOL"]
    );
    // The right amount pays it.
    assert!(till.waiting().is_some() && till.shown().is_some());
    let right = intent(1, 3, 2_000_000_000, None);
    let v = till.take(&[wire(&right)], &verifier(), &mut store, NOW, 8);
    assert_eq!(v, vec![Ok(right.id().unwrap())]);
    assert_eq!(kept(&store), 1);
    // Paid: no longer waiting, still the sale shown (a code sealed for it
    // still opens, to be refused as already taken).
    assert!(till.waiting().is_none());
    assert_eq!(till.shown().map(|s| s.amount), Some(2_000_000_000));
}

#[test]
fn a_payment_in_another_currency_is_refused_whatever_its_figure() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    // 2 USDC for a 2 SOL sale: the same figure, not the same money.
    let usdc = intent(1, 1, 2_000_000, Some(USDC_DEVNET));
    let v = till("2", false).take(&[wire(&usdc)], &verifier(), &mut store, NOW, 8);
    assert_eq!(refused(&v), ["this payment is in USDC; the sale is in SOL"]);
    let sol = intent(1, 2, 12_500_000, None);
    let v = till("12.5", true).take(&[wire(&sol)], &verifier(), &mut store, NOW, 8);
    assert_eq!(refused(&v), ["this payment is in SOL; the sale is in USDC"]);
    assert_eq!(kept(&store), 0);
}

#[test]
fn several_intents_of_one_handover_pay_the_sale_together_and_close_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let till = till("1.5", false);
    let a = intent(1, 1, 1_000_000_000, None);
    let b = intent(4, 1, 500_000_000, None);
    let v = till.take(&[wire(&a), wire(&b)], &verifier(), &mut store, NOW, 8);
    let ids = vec![a.id().unwrap(), b.id().unwrap()];
    assert_eq!(v, ids.iter().copied().map(Ok).collect::<Vec<_>>());
    assert_eq!(kept(&store), 2);
    let Stage::Paid(sale, paid_by) = till.now() else {
        panic!("the sale is paid")
    };
    assert_eq!((sale.amount, paid_by), (1_500_000_000, ids));
    // A second customer cannot pay the same sale again.
    let again = intent(5, 1, 1_500_000_000, None);
    let v = till.take(&[wire(&again)], &verifier(), &mut store, NOW, 8);
    assert_eq!(
        refused(&v),
        ["this sale (1.5 SOL) is already paid: start a new sale to take another payment"]
    );
    assert_eq!(kept(&store), 2);
    // Two that come to less say what they come to.
    let till = self::till("2", false);
    let c = intent(6, 1, 500_000_000, None);
    let d = intent(7, 1, 500_000_000, None);
    let v = till.take(&[wire(&c), wire(&d)], &verifier(), &mut store, NOW, 8);
    assert_eq!(
        refused(&v),
        [
            "these 2 payments come to 1 SOL; the sale is 2 SOL",
            "these 2 payments come to 1 SOL; the sale is 2 SOL"
        ]
    );
}

#[test]
fn one_refused_intent_keeps_the_whole_handover_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let till = till("1.5", false);
    let good = intent(1, 1, 1_000_000_000, None);
    let mut stale = intent(4, 1, 500_000_000, None).intent;
    stale.expires_at = NOW + 10;
    let stale = sign(stale, &SigningKey::from_bytes(&[4; 32])).unwrap();
    let v = till.take(
        &[wire(&good), wire(&stale)],
        &verifier(),
        &mut store,
        NOW,
        8,
    );
    let reasons = refused(&v);
    assert!(
        reasons[0].starts_with("not kept: another payment"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("expires in 10 s"), "{reasons:?}");
    assert_eq!(kept(&store), 0);
    // The same nonce twice in one handover: only one could settle.
    let twin = intent(1, 1, 500_000_000, None);
    let v = till.take(&[wire(&good), wire(&twin)], &verifier(), &mut store, NOW, 8);
    assert!(refused(&v)[1].contains("nonce 1"), "{v:?}");
    assert_eq!(kept(&store), 0);
}

#[test]
fn no_sale_another_sales_reference_too_many_or_too_small_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let pay = intent(1, 1, 2_000_000_000, None);
    let v = Till::default().take(&[wire(&pay)], &verifier(), &mut store, NOW, 8);
    assert_eq!(
        refused(&v),
        ["no sale is open: type the sale's amount and show its code before taking a payment"]
    );
    // Another sale's reference.
    let mut other = pay.intent.clone();
    other.reference = Some(Pubkey::new_from_array([8; 32]));
    let other = sign(other, &SigningKey::from_bytes(&[1; 32])).unwrap();
    let v = till("2", false).take(&[wire(&other)], &verifier(), &mut store, NOW, 8);
    assert!(
        refused(&v)[0].starts_with("this payment was made for another sale"),
        "{v:?}"
    );
    // Three at once where the till takes two.
    let three: Vec<_> = (1..=3)
        .map(|n| wire(&intent(1, n, 1_000_000, None)))
        .collect();
    let v = till("0.003", false).take(&three, &verifier(), &mut store, NOW, 2);
    assert!(refused(&v)[0].contains("takes at most 2 at once"), "{v:?}");
    // Below the smallest payment taken (0.0001 SOL by default).
    let dust = intent(1, 9, 99_999, None);
    let v = till("0.000099999", false).take(&[wire(&dust)], &verifier(), &mut store, NOW, 8);
    assert!(
        refused(&v)[0].contains("below the smallest payment"),
        "{v:?}"
    );
    assert_eq!(kept(&store), 0);
}

#[test]
fn a_request_without_an_amount_opens_no_sale() {
    let request = PaymentRequest::new(payee());
    assert_eq!(
        OpenSale::new(&request, Cluster::Devnet, Separator::Point),
        Err(SaleError::NoAmount)
    );
}

#[test]
fn a_payer_whose_escrow_was_read_armed_or_short_is_refused() {
    use crate::store::EscrowSnapshot;
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let pay = intent(1, 1, 2_000_000_000, None);
    let payer = pay.intent.payer;
    let snapshot = |balance, pending, requested_at| EscrowSnapshot {
        balance,
        pending_withdrawal: pending,
        requested_at,
        withdraw_delay: 3_600,
        at: i64::from(NOW) - 60,
    };
    let read = |s: EscrowSnapshot| store_snapshot(&dir, &payer, &s);
    // A withdrawal requested an hour ago: unlocked, usable for a day more.
    read(snapshot(5_000_000_000, 1, i64::from(NOW) - 3_600));
    let v = till("2", false).take(&[wire(&pay)], &verifier(), &mut store, NOW, 8);
    assert!(
        refused(&v)[0].contains("withdrawal of 1 base units armed"),
        "{v:?}"
    );
    // Too little left for it.
    read(snapshot(1_999_999_999, 0, 0));
    let v = till("2", false).take(&[wire(&pay)], &verifier(), &mut store, NOW, 8);
    assert!(
        refused(&v)[0].contains("cannot cover 2000000000 more"),
        "{v:?}"
    );
    assert_eq!(kept(&store), 0);
    // A request that lapsed (a day past unlocking) no longer counts.
    read(snapshot(
        5_000_000_000,
        1,
        i64::from(NOW) - 3_600 - 86_400 - 1,
    ));
    let v = till("2", false).take(&[wire(&pay)], &verifier(), &mut store, NOW, 8);
    assert_eq!(v, vec![Ok(pay.id().unwrap())]);
}

/// Keeps `s` as the last read of `payer`'s SOL escrow, as the engine's
/// watch would, through a second handle on the till's store.
fn store_snapshot(dir: &tempfile::TempDir, payer: &Pubkey, s: &crate::store::EscrowSnapshot) {
    let mut other = store(dir);
    other
        .put_escrow_snapshot(payer, None, &program(), s)
        .unwrap();
}
