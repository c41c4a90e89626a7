//! One payment from start to end: a payer with no network signs an
//! intent, it crosses to the merchant as a QR code, the merchant verifies
//! it offline and keeps it, then settles it on chain and holds the settlement record.
//!
//! Runs against the Solana test runtime (solana-program-test) with the
//! TOSS program; nothing leaves this computer.
//!
//! ```text
//! cargo run -p toss-core --example offline_payment
//! ```

#[path = "../tests/support/banks.rs"]
mod banks;

use std::error::Error;

use banks::{SOL, key, world};
use toss_core::amount;
use toss_core::intent::{MemoryLedger, RiskLimits, Verifier, sign};
use toss_core::settle::{Outcome, Progress};
use toss_core::store::State;
use toss_core::transport::qr;
use toss_program::state::{SettlementRecord, record_address};

fn step(n: u32, text: &str) {
    println!("\n{n}. {text}");
}

fn sol(lamports: u64) -> String {
    format!("{} SOL", amount::format(lamports, amount::SOL_DECIMALS))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    step(1, "Start the Solana runtime with the TOSS program");
    let w = world().await;
    println!("   program {}", w.program_id);

    step(
        2,
        "Online, earlier: the payer opens an escrow and deposits 2 SOL",
    );
    let payer_key = w.payer(1, 2 * SOL).await;
    let (_, payer) = key(1);
    let (merchant_key, merchant) = key(50);
    w.fund(&merchant, SOL).await; // pays fees and settlement record rent
    println!("   payer    {payer}\n   merchant {merchant}");

    step(
        3,
        "Offline: the payer signs an intent for 0.35 SOL and keeps it",
    );
    let payer_dir = tempfile::tempdir()?;
    let mut payer_store = w.open_store(payer_dir.path());
    let unsigned = w.unsigned(&payer_key, merchant, 35 * SOL / 100, 1).await;
    let signed = sign(unsigned, &payer_key)?;
    let id = payer_store.record_sent(&signed, None, i64::from(w.now().await))?;
    let wire = signed.to_bytes()?;
    println!(
        "   intent {} ({} bytes signed)",
        hex::encode(id),
        wire.len()
    );

    step(
        4,
        "Offline: it crosses as a QR code (rendered, then decoded from the pixels)",
    );
    let image = qr::bitmap(&wire, 4)?;
    let scanned = qr::decode(&image)?;
    payer_store.append(
        &id,
        State::Sent,
        Some("shown as a QR code"),
        i64::from(w.now().await),
    )?;
    println!(
        "   {}x{} pixels, {} bytes read back, identical: {}",
        image.width,
        image.height,
        scanned.len(),
        scanned == wire
    );

    step(
        5,
        "Offline: the merchant verifies it (signature, cluster, program, payee, expiry, limits)",
    );
    let merchant_dir = tempfile::tempdir()?;
    let mut merchant_store = w.open_store(merchant_dir.path());
    let verifier = Verifier {
        cluster: w.cluster,
        program_id: w.program_id,
        payee: merchant,
        limits: RiskLimits::default(),
    };
    let now = w.now().await;
    let accepted = verifier.verify(&scanned, None, now, &MemoryLedger::default())?;
    merchant_store.record_received(&accepted, i64::from(now))?;
    println!(
        "   verified offline and stored: {}",
        hex::encode(accepted.id)
    );

    step(6, "Online: the merchant settles it");
    let before = (w.balance(&payer).await, w.balance(&merchant).await);
    let results = w
        .engine(&merchant_key, 3)
        .settle_all(&mut merchant_store, i64::from(now), &mut |p| {
            if let Progress::Submitting { intents } = p {
                println!("   submitting a transaction with {intents} intent(s)");
            }
        })
        .await?;
    let signature = match &results[..] {
        [(_, Outcome::Settled { signature })] => signature.clone(),
        other => return Err(format!("did not settle: {other:?}").into()),
    };
    println!("   settled in transaction {signature}");

    step(
        7,
        "The settlement record: on chain, and in the merchant's store",
    );
    let record_key = record_address(&w.program_id, &payer, 1).0;
    let account = w
        .chain
        .ctx
        .lock()
        .await
        .banks_client
        .get_account(record_key)
        .await?
        .ok_or("no settlement record on chain")?;
    let record = SettlementRecord::unpack(&account.data).map_err(|e| format!("{e:?}"))?;
    println!("   settlement record account {record_key}");
    println!("   names intent    {}", hex::encode(record.intent_id));
    println!(
        "   store says      {:?}, transaction {}",
        merchant_store.get(&accepted.id)?.state,
        merchant_store.settlement(&accepted.id)?.unwrap_or_default()
    );
    let escrow = toss_program::state::escrow_address(&w.program_id, &payer, None).0;
    println!(
        "   merchant balance {} -> {} (0.35 SOL in, fee and settlement record rent out)",
        sol(before.1),
        sol(w.balance(&merchant).await)
    );
    println!(
        "   payer's escrow now holds {}",
        sol(w.balance(&escrow).await)
    );
    println!(
        "   payer's own account untouched: {} -> {}",
        sol(before.0),
        sol(w.balance(&payer).await)
    );
    Ok(())
}
