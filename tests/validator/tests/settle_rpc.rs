//! The settlement engine through JSON-RPC against a real local validator.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey};
use solana_program::instruction::Instruction;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::Transaction;
use toss_core::intent::{Intent, MemoryLedger, RiskLimits, SignedIntent, Verifier};
use toss_core::settle::{Backoff, Engine, Outcome, RpcChain};
use toss_core::store::{State, Store};
use toss_program::instruction::{self as ix, Funds};
use toss_validator_tests::{Keypair, LocalValidator, Pubkey};
use zeroize::Zeroizing;

const SOL: u64 = 1_000_000_000;

struct World {
    v: LocalValidator,
    client: RpcClient,
    cluster: [u8; 8],
}

impl World {
    async fn start() -> Self {
        let v = LocalValidator::start().await;
        let client = RpcClient::new_with_commitment(
            v.rpc_url(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        );
        let cluster = v.cluster().await;
        Self { v, client, cluster }
    }

    async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) {
        let blockhash = self.client.get_latest_blockhash().await.unwrap();
        let mut all: Vec<&Keypair> = vec![&self.v.mint];
        all.extend_from_slice(signers);
        let tx =
            Transaction::new_signed_with_payer(ixs, Some(&self.v.mint.pubkey()), &all, blockhash);
        self.client.send_and_confirm_transaction(&tx).await.unwrap();
    }

    async fn fund(&self, to: &Pubkey, lamports: u64) {
        let t = solana_system_interface::instruction::transfer(&self.v.mint.pubkey(), to, lamports);
        self.send(&[t], &[]).await;
    }

    async fn payer(&self, seed: u8, deposit: u64) -> SigningKey {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let kp = Keypair::new_from_array(key.to_bytes());
        self.fund(&kp.pubkey(), deposit + SOL).await;
        let open = ix::open_vault(&self.v.program_id, &kp.pubkey(), None, self.cluster, 3600);
        let dep = ix::deposit(&self.v.program_id, &kp.pubkey(), Funds::Sol, deposit);
        self.send(&[open, dep], &[&kp]).await;
        key
    }

    fn intent(
        &self,
        payer: &SigningKey,
        payee: Pubkey,
        amount: u64,
        nonce: u64,
        now: u32,
    ) -> SignedIntent {
        let intent = Intent {
            cluster: self.cluster,
            program_id: self.v.program_id,
            payer: Pubkey::new_from_array(payer.verifying_key().to_bytes()),
            payee,
            mint: None,
            amount,
            reference: None,
            memo: None,
            nonce,
            created_at: now - 60,
            expires_at: now + 86_400,
            durable_nonce: None,
        };
        let signature = payer.sign(&intent.encode().unwrap()).to_bytes();
        SignedIntent { intent, signature }
    }

    fn store(
        &self,
        dir: &std::path::Path,
        payee: Pubkey,
        intents: &[&SignedIntent],
        now: u32,
    ) -> Store {
        let mut store = Store::open(&dir.join("toss.db"), &Zeroizing::new([9; 32])).unwrap();
        let verifier = Verifier {
            cluster: self.cluster,
            program_id: self.v.program_id,
            payee,
            limits: RiskLimits::default(),
        };
        for s in intents {
            let a = verifier
                .verify(&s.to_bytes().unwrap(), None, now, &MemoryLedger::default())
                .unwrap();
            store.record_received(&a, i64::from(now)).unwrap();
        }
        store
    }

    fn engine(&self, merchant: &SigningKey) -> Engine<RpcChain> {
        let backoff = Backoff {
            base: Duration::from_millis(200),
            retries: 3,
        };
        Engine::new(
            RpcChain::new(&self.v.rpc_url()),
            self.v.program_id,
            merchant,
            backoff,
        )
    }
}

fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_settles_through_json_rpc_and_never_pays_twice() {
    let w = World::start().await;
    let merchant = SigningKey::from_bytes(&[50; 32]);
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    w.fund(&me, SOL).await;
    let (p1, p2) = (w.payer(1, 5 * SOL).await, w.payer(2, SOL).await);
    let now = unix_now();
    let intents = [
        w.intent(&p1, me, SOL / 10, 1, now),
        w.intent(&p2, me, SOL / 10, 1, now),
        w.intent(&p1, me, SOL / 10, 2, now),
        w.intent(&p2, me, SOL / 10, 2, now),
    ];
    let refs: Vec<&SignedIntent> = intents.iter().collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.store(tmp.path(), me, &refs, now);
    let before = w.client.get_balance(&me).await.unwrap();

    let results = w
        .engine(&merchant)
        .settle_all(&mut store, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Settled { .. })),
        "{results:?}"
    );
    let signatures: std::collections::HashSet<_> = results
        .iter()
        .map(|(_, o)| match o {
            Outcome::Settled { signature } => signature.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(signatures.len(), 2, "two transactions: 3 intents, then 1");
    let expected = before + 4 * SOL / 10 - 6 * 5_000 - 4 * 1_705_200;
    assert_eq!(w.client.get_balance(&me).await.unwrap(), expected);

    // A store that missed the results (a crash) submits nothing again.
    let tmp2 = tempfile::tempdir().unwrap();
    let mut stale = w.store(tmp2.path(), me, &refs, now);
    let rerun = w
        .engine(&merchant)
        .settle_all(&mut stale, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert!(
        rerun.iter().all(|(_, o)| *o == Outcome::AlreadySettled),
        "{rerun:?}"
    );
    assert_eq!(w.client.get_balance(&me).await.unwrap(), expected);

    // Overspending: p2's vault holds 1 SOL less the 0.2 settled; 1.5 SOL cannot pay.
    let big = w.intent(&p2, me, 3 * SOL / 2, 3, now);
    let tmp3 = tempfile::tempdir().unwrap();
    let mut s3 = w.store(tmp3.path(), me, &[&big], now);
    let r = w
        .engine(&merchant)
        .settle_all(&mut s3, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(r[0].1, Outcome::InsufficientFunds);
    assert_eq!(s3.get(&r[0].0).unwrap().state, State::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_program_keeps_working_across_many_slots() {
    let w = World::start().await;
    let merchant = SigningKey::from_bytes(&[50; 32]);
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 5 * SOL).await;
    let start = w.client.get_slot().await.unwrap();
    let mut nonce = 0;
    // One settlement after another until 40 slots have passed.
    while w.client.get_slot().await.unwrap() < start + 40 {
        nonce += 1;
        let now = unix_now();
        let s = w.intent(&payer, me, SOL / 100, nonce, now);
        let tmp = tempfile::tempdir().unwrap();
        let mut store = w.store(tmp.path(), me, &[&s], now);
        let r = w
            .engine(&merchant)
            .settle_all(&mut store, i64::from(now), &mut |_| {})
            .await
            .unwrap();
        assert!(
            matches!(r[0].1, Outcome::Settled { .. }),
            "nonce {nonce}: {:?}",
            r[0].1
        );
    }
    assert!(nonce >= 3, "only {nonce} settlements in 40 slots");
}
