//! Load test: 1,000 intents from 50 payers to 5 merchants, each merchant's
//! engine settling its share concurrently against the Solana test runtime.
//! Prints throughput and per-intent latency (p50/p99, from the start of
//! the run to the intent's outcome) and checks that no intent was paid
//! twice and no escrow paid more than its intents.
//!
//! ```text
//! cargo bench -p toss-core --bench load            # 1,000 intents
//! TOSS_LOAD_INTENTS=200 cargo bench -p toss-core --bench load
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a load test: any failure aborts it loudly

#[path = "../tests/support/banks.rs"]
mod banks;

use std::time::{Duration, Instant};

use banks::{SOL, key, world};
use toss_core::intent::{SignedIntent, sign};
use toss_core::settle::{Outcome, Progress};

const PAYERS: u8 = 50;
const MERCHANTS: u8 = 5;
const AMOUNT: u64 = SOL / 1_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let total: usize = std::env::var("TOSS_LOAD_INTENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let w = world().await;
    let mut payers = Vec::new();
    for p in 0..PAYERS {
        payers.push(w.payer(p + 1, SOL).await);
    }
    let mut merchants = Vec::new();
    for m in 0..MERCHANTS {
        let (k, addr) = key(100 + m);
        w.fund(&addr, 10 * SOL).await;
        merchants.push((k, addr));
    }

    // Offline: each payer signs intents round-robin to the merchants.
    let mut per_merchant: Vec<Vec<SignedIntent>> = vec![Vec::new(); MERCHANTS as usize];
    for n in 0..total {
        let payer = &payers[n % PAYERS as usize];
        let m = n % MERCHANTS as usize;
        let unsigned = w.unsigned(payer, merchants[m].1, AMOUNT, n as u64).await;
        per_merchant[m].push(sign(unsigned, payer).unwrap());
    }
    let dirs: Vec<_> = (0..MERCHANTS)
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    let mut stores = Vec::new();
    for (m, dir) in dirs.iter().enumerate() {
        let refs: Vec<&SignedIntent> = per_merchant[m].iter().collect();
        stores.push(w.merchant_store(dir.path(), merchants[m].1, &refs).await);
    }
    let escrows: Vec<_> = (0..PAYERS)
        .map(|p| toss_program::state::escrow_address(&w.program_id, &key(p + 1).1, None).0)
        .collect();
    let mut held_before = 0;
    for v in &escrows {
        held_before += w.balance(v).await;
    }
    let mut before = Vec::new();
    for (_, addr) in &merchants {
        before.push(w.balance(addr).await);
    }

    // Online: five engines at once.
    let start = Instant::now();
    let engines: Vec<_> = merchants.iter().map(|(k, _)| w.engine(k, 3)).collect();
    let runs = engines
        .iter()
        .zip(stores.iter_mut())
        .map(|(engine, store)| async move {
            let mut latencies = Vec::new();
            let mut transactions = 0;
            let results = engine
                .settle_all(store, 0, &mut |p| match p {
                    Progress::Resolved { .. } => latencies.push(start.elapsed()),
                    Progress::Submitting { .. } => transactions += 1,
                    _ => {}
                })
                .await
                .unwrap();
            (results, latencies, transactions)
        });
    let outcomes = futures::future::join_all(runs).await;
    let elapsed = start.elapsed();

    let mut latencies: Vec<Duration> = Vec::new();
    let mut settled = 0;
    let mut transactions = 0;
    for (m, (results, lat, txs)) in outcomes.into_iter().enumerate() {
        latencies.extend(lat);
        transactions += txs;
        let paid = results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Settled { .. }))
            .count();
        settled += paid;
        // The merchant got the amounts and paid fees and settlement record rent.
        let got = w.balance(&merchants[m].1).await;
        assert!(
            got < before[m] + paid as u64 * AMOUNT,
            "merchant {m} received more than its settled intents"
        );
    }
    // What the escrows paid out is exactly what settled: nothing twice.
    let mut held_after = 0;
    for v in &escrows {
        held_after += w.balance(v).await;
    }
    latencies.sort();
    let drawn = held_before - held_after;
    println!("intents           {total} from {PAYERS} payers to {MERCHANTS} merchants");
    println!("settled           {settled} in {transactions} transactions");
    println!(
        "double payments   {}",
        if drawn == settled as u64 * AMOUNT {
            0
        } else {
            1
        }
    );
    println!("elapsed           {:.2} s", elapsed.as_secs_f64());
    println!(
        "throughput        {:.0} intents/s",
        settled as f64 / elapsed.as_secs_f64()
    );
    println!("latency p50       {:?}", percentile(&latencies, 0.50));
    println!("latency p99       {:?}", percentile(&latencies, 0.99));
    assert_eq!(settled, total, "every intent settles");
    assert_eq!(
        drawn,
        settled as u64 * AMOUNT,
        "escrows paid exactly what settled"
    );
}
