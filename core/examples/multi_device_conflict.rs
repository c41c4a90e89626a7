//! One payer, two devices, two merchants, the same money: the chain decides,
//! deterministically, and nobody is paid twice.
//!
//! - The payer's laptop and phone each sign an intent with the same replay
//!   nonce for different merchants: the first settlement consumes the
//!   nonce; the other merchant gets `Conflict`.
//! - Then two intents with different nonces that together exceed the
//!   escrow: the first settles; the other gets `InsufficientFunds`.
//!
//! ```text
//! cargo run -p toss-core --example multi_device_conflict
//! ```

#[path = "../tests/support/banks.rs"]
mod banks;

use std::cmp::Ordering;
use std::error::Error;

use banks::{SOL, World, key, world};
use toss_core::amount;
use toss_core::intent::{SignedIntent, conflict_order, sign};
use toss_core::settle::Outcome;
use toss_core::store::Store;

fn sol(lamports: u64) -> String {
    format!("{} SOL", amount::format(lamports, amount::SOL_DECIMALS))
}

/// A merchant receives `signed` offline and settles it online.
async fn merchant_settles(
    w: &World,
    seed: u8,
    signed: &SignedIntent,
) -> Result<(Outcome, tempfile::TempDir), Box<dyn Error>> {
    let (merchant_key, merchant) = key(seed);
    let dir = tempfile::tempdir()?;
    let mut store: Store = w.open_store(dir.path());
    w.receive(&mut store, merchant, &[signed.to_bytes()?]).await;
    let results = w
        .engine(&merchant_key, 3)
        .settle_all(&mut store, i64::from(w.now().await), &mut |_| {})
        .await?;
    let outcome = results.into_iter().next().ok_or("nothing settled")?.1;
    Ok((outcome, dir))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let w = world().await;
    let payer_key = w.payer(1, SOL).await;
    let (_, payer) = key(1);
    let (_, merchant_a) = key(50);
    let (_, merchant_b) = key(51);
    w.fund(&merchant_a, SOL).await;
    w.fund(&merchant_b, SOL).await;
    let escrow = toss_program::state::escrow_address(&w.program_id, &payer, None).0;
    println!(
        "payer {payer}: escrow holds {}",
        sol(w.balance(&escrow).await)
    );

    println!("\n1. Laptop and phone both use replay nonce 7, offline");
    let laptop = sign(
        w.unsigned(&payer_key, merchant_a, 6 * SOL / 10, 7).await,
        &payer_key,
    )?;
    let mut phone_intent = w.unsigned(&payer_key, merchant_b, 6 * SOL / 10, 7).await;
    phone_intent.created_at += 1;
    let phone = sign(phone_intent, &payer_key)?;
    let winner = match conflict_order(&laptop, &phone) {
        Ordering::Less | Ordering::Equal => "the laptop's",
        Ordering::Greater => "the phone's",
    };
    println!("   a wallet holding both would submit {winner} (lower nonce, then earlier)");

    println!("\n2. Merchant A settles the laptop's intent");
    let (a, _keep_a) = merchant_settles(&w, 50, &laptop).await?;
    println!("   merchant A: {a:?}");
    println!("\n3. Merchant B settles the phone's intent with the same nonce");
    let (b, _keep_b) = merchant_settles(&w, 51, &phone).await?;
    println!("   merchant B: {b:?}");
    println!("   escrow now holds {}", sol(w.balance(&escrow).await));

    println!("\n4. Two new intents, nonces 8 and 9, 0.3 SOL each: together more than is left");
    let first = sign(
        w.unsigned(&payer_key, merchant_a, 3 * SOL / 10, 8).await,
        &payer_key,
    )?;
    let second = sign(
        w.unsigned(&payer_key, merchant_b, 3 * SOL / 10, 9).await,
        &payer_key,
    )?;
    let (c, _keep_c) = merchant_settles(&w, 50, &first).await?;
    println!("   merchant A: {c:?}");
    let (d, _keep_d) = merchant_settles(&w, 51, &second).await?;
    println!("   merchant B: {d:?}");
    println!("   escrow now holds {}", sol(w.balance(&escrow).await));

    let expected = (
        matches!(a, Outcome::Settled { .. }),
        b == Outcome::Conflict,
        matches!(c, Outcome::Settled { .. }),
        d == Outcome::InsufficientFunds,
    );
    if expected != (true, true, true, true) {
        return Err(format!("unexpected outcomes: {a:?} {b:?} {c:?} {d:?}").into());
    }
    println!("\nexactly one payment per nonce, never more than the escrow held");
    Ok(())
}
