//! Compute units and bytes per instruction of the program's SBF build, run
//! in the real VM (solana-program-test), printed as the table in
//! docs/program.md. `cargo bench -p toss-program --bench cu` with
//! SBF_OUT_DIR naming the build (scripts/sbf/build).
//!
//! Figures are this toolchain's (upstream LLVM 22, sbpf-linker), not those
//! of a platform-tools build. The whole transaction is metered: the TOSS
//! instruction and the programs it calls (system, token); the Ed25519
//! precompile is charged per signature, not in compute units.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: fail loudly

#[path = "../tests/support/mod.rs"]
mod support;

use support::*;

/// The target per intent on the precompile path (issue 15).
const TARGET_PER_INTENT: u64 = 10_000;
/// The target per intent when the program checks the signature itself.
const TARGET_PER_INTENT_IN_PROGRAM: u64 = 60_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut rows = Vec::new();
    let mut row = |what: String, (cu, bytes): (u64, u64), intents: u64| {
        let target = match what.contains("checked by the program") {
            true => TARGET_PER_INTENT_IN_PROGRAM,
            false => TARGET_PER_INTENT,
        };
        let per = match intents {
            0 => "—".to_owned(),
            n if cu / n <= target => (cu / n).to_string(),
            n => format!("{} (over the {target} target)", cu / n),
        };
        rows.push(format!("| {what} | {cu} | {per} | {bytes} |"));
    };

    // Escrow instructions, SOL.
    let mut env = start().await;
    let w = Wallet::new(1);
    env.fund(&w.key(), 3 * SOL).await;
    let open = ix::open_escrow(&env.program_id, &w.key(), None, env.cluster, 3600);
    row(
        "open escrow (SOL)".into(),
        env.metered(&[open], &[&w.keypair]).await,
        0,
    );
    let dep = ix::deposit(&env.program_id, &w.key(), Funds::Sol, SOL);
    row(
        "deposit (SOL)".into(),
        env.metered(&[dep], &[&w.keypair]).await,
        0,
    );
    let req = ix::request_withdrawal(&env.program_id, &w.key(), None, SOL / 2);
    row(
        "request withdrawal".into(),
        env.metered(&[req], &[&w.keypair]).await,
        0,
    );

    // Settlement of SOL intents from two payers, as many as fit.
    for n in 1..=3u64 {
        let (mut env, signed) = sol_batch(n).await;
        let refs: Vec<&SignedIntent> = signed.iter().collect();
        let items: Vec<_> = refs.iter().map(|s| (*s, None)).collect();
        let fee = env.ctx.payer.pubkey();
        let ixs = [
            ix::ed25519_check(&refs).unwrap(),
            ix::settle(&env.program_id, &fee, &items, 0),
        ];
        let asked = ix::settle_compute_units(&env.program_id, &refs, false);
        let measured = within(&mut env, &ixs, asked).await;
        row(
            format!("settle {n} SOL intent(s), limit asked {asked}"),
            measured,
            n,
        );
    }

    // The same, each signature checked by the program (no precompile), as
    // many as fit in a transaction.
    for n in 1..=4u64 {
        let (mut env, signed) = sol_batch(n).await;
        let items: Vec<_> = signed.iter().map(|s| (s, None)).collect();
        let fee = env.ctx.payer.pubkey();
        let refs: Vec<&SignedIntent> = signed.iter().collect();
        let asked = ix::settle_compute_units(&env.program_id, &refs, true);
        let ixs = [
            ix::settle_signed(&env.program_id, &fee, &items).unwrap(),
            ix::compute_unit_limit(asked),
        ];
        let tx = Transaction::new_with_payer(&ixs, Some(&fee));
        if bincode::serialized_size(&tx).unwrap() > 1232 {
            println!("(settle {n} SOL intents checked by the program: over 1,232 bytes)");
            break;
        }
        let measured = within(&mut env, &ixs, asked).await;
        row(
            format!(
                "settle {n} SOL intent(s), signatures checked by the program, limit asked {asked}"
            ),
            measured,
            n,
        );
    }

    // Settlement of SPL intents from one payer's escrow.
    for n in 1..=2u64 {
        let mut env = start().await;
        let payer = Wallet::new(1);
        env.fund(&payer.key(), SOL).await;
        let merchant = Pubkey::new_unique();
        let t = env.tokens(&payer.key(), &merchant).await;
        let funds = Funds::Spl {
            mint: t.mint.pubkey(),
            owner_tokens: t.payer_tokens.pubkey(),
        };
        let mint = t.mint.pubkey();
        let open = ix::open_escrow(
            &env.program_id,
            &payer.key(),
            Some(&mint),
            env.cluster,
            3600,
        );
        let dep = ix::deposit(&env.program_id, &payer.key(), funds, 50_000_000);
        if n == 1 {
            row(
                "open escrow (SPL)".into(),
                env.metered(&[open], &[&payer.keypair]).await,
                0,
            );
            row(
                "deposit (SPL)".into(),
                env.metered(&[dep], &[&payer.keypair]).await,
                0,
            );
        } else {
            env.send(&[open, dep], &[&payer.keypair]).await.unwrap();
        }
        let mut signed = Vec::new();
        for i in 0..n {
            let mut intent = env.intent(&payer, merchant, 1_000_000, i).await;
            intent.mint = Some(mint);
            signed.push(payer.sign(intent));
        }
        let refs: Vec<&SignedIntent> = signed.iter().collect();
        let to = Some(t.merchant_tokens.pubkey());
        let items: Vec<_> = refs.iter().map(|s| (*s, to)).collect();
        let fee = env.ctx.payer.pubkey();
        let ixs = [
            ix::ed25519_check(&refs).unwrap(),
            ix::settle(&env.program_id, &fee, &items, 0),
        ];
        let asked = ix::settle_compute_units(&env.program_id, &refs, false);
        let measured = within(&mut env, &ixs, asked).await;
        row(
            format!("settle {n} SPL intent(s), limit asked {asked}"),
            measured,
            n,
        );
    }

    println!("| instruction | CU (transaction) | CU per intent | transaction bytes |");
    println!("|---|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
}

/// A bank with two payers' escrows and `n` SOL intents from them, in turn,
/// to one merchant: the batch the settlement rows settle.
async fn sol_batch(n: u64) -> (Env, Vec<SignedIntent>) {
    let mut env = start().await;
    let payers = [
        env.payer_with_escrow(1, 2 * SOL).await,
        env.payer_with_escrow(2, 2 * SOL).await,
    ];
    let merchant = Pubkey::new_unique();
    let mut signed = Vec::new();
    for i in 0..n {
        let p = &payers[(i % 2) as usize];
        let intent = env.intent(p, merchant, SOL / 10, i).await;
        signed.push(p.sign(intent));
    }
    (env, signed)
}

/// Runs `ixs`, metered, failing unless they stayed within the `asked`
/// compute units the engine would request for them.
async fn within(env: &mut Env, ixs: &[Instruction], asked: u32) -> (u64, u64) {
    let measured = env.metered(ixs, &[]).await;
    assert!(
        measured.0 <= u64::from(asked),
        "took {} CU; the engine asks for {asked}",
        measured.0
    );
    measured
}
