//! The settlement engine through JSON-RPC against a real local validator.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey};
use solana_program::instruction::Instruction;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::Transaction;
use toss_core::chain::{Backoff, RpcChain};
use toss_core::intent::durable;
use toss_core::intent::{Intent, MemoryLedger, RiskLimits, SignedIntent, Verifier};
use toss_core::nonce::{self, Pool};
use toss_core::settle::{Engine, Outcome, Progress, SettleError};
use toss_core::store::NonceState;
use toss_core::store::{State, Store};
use toss_program::instruction::{self as ix, Funds};
use toss_validator_tests::{Keypair, LocalValidator, Pubkey, Relay};
use zeroize::Zeroizing;

const SOL: u64 = 1_000_000_000;

struct World {
    v: LocalValidator,
    client: RpcClient,
    cluster: [u8; 8],
    /// The program escrows, intents and the engine use: the validator's
    /// own, or one a test deployed.
    program_id: Pubkey,
}

impl World {
    async fn start() -> Self {
        let v = LocalValidator::start().await;
        let client = RpcClient::new_with_commitment(
            v.rpc_url(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        );
        let cluster = v.cluster().await;
        let program_id = v.program_id;
        Self {
            v,
            client,
            cluster,
            program_id,
        }
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
        let open = ix::open_escrow(&self.program_id, &kp.pubkey(), None, self.cluster, 3600);
        let dep = ix::deposit(&self.program_id, &kp.pubkey(), Funds::Sol, deposit);
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
            program_id: self.program_id,
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
        let wires: Vec<Vec<u8>> = intents.iter().map(|s| s.to_bytes().unwrap()).collect();
        self.receive(open_store(dir), payee, &wires, now)
    }

    /// Verifies payments (wire bytes) as a till would and stores them.
    fn receive(&self, mut store: Store, payee: Pubkey, wires: &[Vec<u8>], now: u32) -> Store {
        let verifier = Verifier {
            cluster: self.cluster,
            program_id: self.program_id,
            payee,
            limits: RiskLimits::default(),
        };
        for wire in wires {
            let a = verifier
                .verify(wire, None, now, &MemoryLedger::default())
                .unwrap();
            store.record_received(&a, i64::from(now)).unwrap();
        }
        store
    }

    fn engine(&self, merchant: &SigningKey) -> Engine<RpcChain> {
        self.engine_at(merchant, &self.v.rpc_url(), BACKOFF)
    }

    fn engine_at(&self, merchant: &SigningKey, url: &str, backoff: Backoff) -> Engine<RpcChain> {
        Engine::new(RpcChain::new(url), self.program_id, merchant, backoff)
    }
}

const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(200),
    retries: 3,
};

fn open_store(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("toss.db"), &Zeroizing::new([9; 32])).unwrap()
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
    // One fee per transaction: the validator quotes the program's own
    // check cheaper than the precompile's 5,000 per payment.
    let expected = before + 4 * SOL / 10 - 2 * 5_000 - 4 * 1_705_200;
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

    // Overspending: p2's escrow holds 1 SOL less the 0.2 settled; 1.5 SOL cannot pay.
    let big = w.intent(&p2, me, 3 * SOL / 2, 3, now);
    let tmp3 = tempfile::tempdir().unwrap();
    let mut s3 = w.store(tmp3.path(), me, &[&big], now);
    let r = w
        .engine(&merchant)
        .settle_all(&mut s3, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(r[0].1, Outcome::InsufficientFunds);
    // The payer may still top up: it waits, it is not written off.
    assert_eq!(s3.get(&r[0].0).unwrap().state, State::Deferred);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nonce_pool_and_a_durable_intent_work_over_json_rpc() {
    let w = World::start().await;
    let chain = RpcChain::new(&w.v.rpc_url());
    let pool = Pool {
        chain: &chain,
        backoff: BACKOFF,
    };
    let payer = SigningKey::from_bytes(&[1; 32]);
    let payer_kp = Keypair::new_from_array(payer.to_bytes());
    let payer_addr = payer_kp.pubkey();
    let merchant = SigningKey::from_bytes(&[50; 32]);
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    w.fund(&payer_addr, 3 * SOL).await;
    w.fund(&me, SOL).await;
    let (pt, mt) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut payer_store = open_store(pt.path());
    let now = unix_now();

    // Create: the rent shown first is what each account holds.
    let cost = pool.creation_cost(2).await.unwrap();
    let created = pool
        .create(&mut payer_store, &payer_kp, 2, i64::from(now))
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    for r in &created {
        assert_eq!(
            w.client.get_balance(&r.address).await.unwrap(),
            cost.rent_each
        );
        assert_eq!(r.state, NonceState::Available);
    }

    // Offline: a durable intent takes one nonce; the payer signs the
    // settlement transaction too.
    let mut intent = w.intent(&payer, me, SOL / 2, 1, now).intent;
    intent.durable_nonce =
        Some(nonce::take(&mut payer_store, &payer_addr, &w.cluster, i64::from(now)).unwrap());
    let signed = toss_core::intent::sign(intent, &payer).unwrap();
    let tx_sig = durable::sign(&signed, &payer).unwrap();
    payer_store
        .record_sent(&signed, Some(&tx_sig), i64::from(now))
        .unwrap();
    let wire = durable::to_bytes(&signed, &tx_sig).unwrap();

    // The merchant settles it through RPC; the payer pays.
    let mut merchant_store = w.receive(open_store(mt.path()), me, &[wire], now);
    let (payer_before, me_before) = (
        w.client.get_balance(&payer_addr).await.unwrap(),
        w.client.get_balance(&me).await.unwrap(),
    );
    let r = w
        .engine(&merchant)
        .settle_all(&mut merchant_store, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert!(matches!(r[0].1, Outcome::Settled { .. }), "{r:?}");
    assert_eq!(
        w.client.get_balance(&me).await.unwrap(),
        me_before + SOL / 2
    );
    assert_eq!(
        w.client.get_balance(&payer_addr).await.unwrap(),
        payer_before - SOL / 2 - 2 * 5_000 - 1_705_200
    );

    // Refresh: the used nonce holds a new value and is free again.
    let refreshed = pool
        .refresh(&mut payer_store, &payer_kp, i64::from(now))
        .await
        .unwrap();
    let used = refreshed
        .iter()
        .find(|r| Some(r.address) == signed.intent.durable_nonce.map(|n| n.account))
        .unwrap();
    assert_eq!(used.state, NonceState::Available);
    assert_ne!(used.value, Some(signed.intent.durable_nonce.unwrap().value));

    // Close both: the rent comes back.
    let before = w.client.get_balance(&payer_addr).await.unwrap();
    let mut returned = 0;
    for r in &created {
        returned += pool
            .close(
                &mut payer_store,
                &payer_kp,
                &r.address,
                &payer_addr,
                i64::from(now),
            )
            .await
            .unwrap();
        assert!(w.client.get_account(&r.address).await.is_err(), "closed");
    }
    assert_eq!(returned, 2 * cost.rent_each);
    assert_eq!(
        w.client.get_balance(&payer_addr).await.unwrap(),
        before + returned - 2 * 5_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_rides_out_an_rpc_outage() {
    let w = World::start().await;
    let relay = Relay::start(&w.v.rpc_url()).await;
    let merchant = SigningKey::from_bytes(&[50; 32]);
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 5 * SOL).await;
    let now = unix_now();
    let s = w.intent(&payer, me, SOL / 10, 1, now);
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.store(tmp.path(), me, &[&s], now);
    let backoff = Backoff {
        base: Duration::from_millis(500),
        retries: 4,
    };

    // Down for longer than every retry: a clear error, the intent waits.
    relay.set_up(false);
    let err = w
        .engine_at(&merchant, relay.url(), backoff)
        .settle_all(&mut store, i64::from(now), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SettleError::Unreachable(u) if u.attempts == 5),
        "{err}"
    );
    assert_eq!(store.awaiting_settlement().unwrap().len(), 1);

    // Down, and back 2 s later: retried with growing delays, then settled.
    relay.restore_after(Duration::from_secs(2));
    let mut delays = Vec::new();
    let r = w
        .engine_at(&merchant, relay.url(), backoff)
        .settle_all(&mut store, i64::from(now), &mut |p| {
            if let Progress::Retrying { after_ms, .. } = p {
                delays.push(after_ms);
            }
        })
        .await
        .unwrap();
    assert!(matches!(r[0].1, Outcome::Settled { .. }), "{r:?}");
    assert!(delays.starts_with(&[500, 1000]), "{delays:?}");
    assert!(store.awaiting_settlement().unwrap().is_empty());
}

/// Runs the `toss` CLI built by the main workspace (`TOSS_BIN`, or
/// `$CARGO_TARGET_DIR/debug/toss`), keys in the kernel keyring.
struct Cli {
    bin: std::path::PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Cli {
    fn new(w: &World) -> Self {
        let bin = toss_validator_tests::toss_bin();
        let env = vec![
            ("TOSS_KEYSTORE", "keyutils".to_owned()),
            ("SOLANA_CLUSTER", "localnet".to_owned()),
            ("SOLANA_RPC_URL", w.v.rpc_url()),
            ("TOSS_PROGRAM_ID", w.v.program_id.to_string()),
            ("MAX_SETTLEMENT_RETRIES", "2".to_owned()),
        ];
        Self { bin, env }
    }

    /// Runs `toss --json <args>` in `home` with `PASSPHRASE` on stdin (for
    /// the commands that read it); (success, stdout, stderr).
    fn run(&self, home: &std::path::Path, args: &[&str]) -> (bool, serde_json::Value, String) {
        toss_validator_tests::run_toss(&self.bin, home, &self.env, args, &format!("{PASSPHRASE}\n"))
    }

    fn ok(&self, home: &std::path::Path, args: &[&str]) -> serde_json::Value {
        let (ok, json, stderr) = self.run(home, args);
        assert!(ok, "toss {args:?} failed: {stderr}\n{json}");
        json
    }
}

/// The app passphrase the CLI test sets: escrow and nonce commands pass the
/// gate (REQUIRE_BIOMETRIC_FOR_NONCE is on by default).
const PASSPHRASE: &str = "correct horse battery staple";

/// A Solana CLI keypair file for `key`.
fn keypair_file(dir: &std::path::Path, name: &str, key: &SigningKey) -> String {
    let mut bytes = key.to_bytes().to_vec();
    bytes.extend_from_slice(&key.verifying_key().to_bytes());
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(&bytes).unwrap()).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_escrow_nonce_pool_intents_and_settlement_over_json_rpc() {
    let w = World::start().await;
    let cli = Cli::new(&w);
    let (payer_home, merchant_home, files) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (p, m) = (payer_home.path(), merchant_home.path());
    let payer = SigningKey::from_bytes(&[1; 32]);
    let merchant = SigningKey::from_bytes(&[50; 32]);
    let payer_addr = Pubkey::new_from_array(payer.verifying_key().to_bytes());
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    w.fund(&payer_addr, 5 * SOL).await;
    w.fund(&me, SOL).await;
    let genesis = w.client.get_genesis_hash().await.unwrap().to_string();
    let payer_file = keypair_file(files.path(), "payer.json", &payer);
    let merchant_file = keypair_file(files.path(), "merchant.json", &merchant);
    cli.ok(
        p,
        &[
            "wallet",
            "import",
            "--label",
            "payer",
            "--keypair",
            &payer_file,
        ],
    );
    cli.ok(
        m,
        &[
            "wallet",
            "import",
            "--label",
            "till",
            "--keypair",
            &merchant_file,
        ],
    );

    // The payer's escrow: open, deposit, and what can be spent offline.
    cli.ok(p, &["wallet", "passphrase"]);
    // The gate: without the passphrase the escrow cannot be touched.
    let (ok, _, stderr) = cli.run(p, &["escrow", "open"]);
    assert!(!ok && stderr.contains("passphrase"), "{stderr}");
    let gated = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("--passphrase-stdin");
        cli.ok(p, &all)
    };
    gated(&["escrow", "open", "--withdraw-delay", "3600"]);
    let status = gated(&["escrow", "deposit", "2"]);
    assert_eq!(status["balance"], 2 * SOL, "{status}");
    assert_eq!(status["spendable_offline"], 2 * SOL, "{status}");

    // The nonce pool: two accounts.
    let pool = gated(&["nonce", "create", "2", "--yes"]);
    assert_eq!(pool.as_array().unwrap().len(), 2, "{pool}");

    // Offline: one escrow intent, one durable intent.
    let (escrow_file, durable_file) = (
        files.path().join("escrow.bin"),
        files.path().join("durable.bin"),
    );
    let me_s = me.to_string();
    for (file, extra) in [(&escrow_file, None), (&durable_file, Some("--durable"))] {
        let mut args = vec![
            "intent",
            "create",
            "--to",
            &me_s,
            "--amount",
            "0.25",
            "--genesis-hash",
            &genesis,
            "--out",
        ];
        let f = file.to_string_lossy().into_owned();
        args.push(&f);
        args.extend(extra);
        cli.ok(p, &args);
    }
    let status = cli.ok(p, &["escrow", "status", "--offline"]);
    // A signed escrow intent is promised as soon as it exists (it could be
    // handed over at any time); the durable one pays from the account.
    assert_eq!(status["promised"], SOL / 4, "{status}");
    assert_eq!(status["spendable_offline"], 2 * SOL - SOL / 4, "{status}");

    // The merchant verifies both offline and settles them online.
    for file in [&escrow_file, &durable_file] {
        let f = file.to_string_lossy().into_owned();
        cli.ok(
            m,
            &[
                "intent",
                "verify",
                &f,
                "--payee",
                &me_s,
                "--genesis-hash",
                &genesis,
                "--record",
            ],
        );
    }
    let before = w.client.get_balance(&me).await.unwrap();
    let results = cli.ok(m, &["settle", "--all"]);
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["result"]["outcome"], "settled", "{r}");
    }
    // 0.25 from the escrow (the merchant paid fee + settlement record rent), 0.25
    // durable (the payer paid everything).
    assert_eq!(
        w.client.get_balance(&me).await.unwrap(),
        before + SOL / 2 - 5_000 - 1_705_200
    );

    // The payer sees the escrow drawn down and the used nonce refreshed.
    let status = cli.ok(p, &["escrow", "status"]);
    assert_eq!(status["balance"], 2 * SOL - SOL / 4, "{status}");
    let pool = gated(&["nonce", "list", "--refresh"]);
    assert!(
        pool.as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "available"),
        "{pool}"
    );
    let first = pool[0]["address"].as_str().unwrap().to_owned();
    let closed = gated(&["nonce", "close", &first]);
    assert!(
        closed["returned_lamports"].as_u64().unwrap() > 0,
        "{closed}"
    );

    // Nothing waits; a merchant with nothing to do exits 0.
    assert_eq!(cli.ok(m, &["settle", "--all"]), serde_json::json!([]));

    // Unreachable cluster: exit 75 with a clear message.
    let mut offline = Cli::new(&w);
    offline
        .env
        .retain(|(k, _)| *k != "SOLANA_RPC_URL" && *k != "MAX_SETTLEMENT_RETRIES");
    offline
        .env
        .push(("SOLANA_RPC_URL", "http://127.0.0.1:9".to_owned()));
    offline.env.push(("MAX_SETTLEMENT_RETRIES", "0".to_owned()));
    let out = std::process::Command::new(&offline.bin)
        .args(["escrow", "status"])
        .env("TOSS_HOME", p)
        .envs(offline.env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be reached"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_expiry_and_a_missing_escrow_each_get_their_outcome_over_json_rpc() {
    let w = World::start().await;
    let (m1, m2) = (
        SigningKey::from_bytes(&[50; 32]),
        SigningKey::from_bytes(&[51; 32]),
    );
    let (me1, me2) = (
        Pubkey::new_from_array(m1.verifying_key().to_bytes()),
        Pubkey::new_from_array(m2.verifying_key().to_bytes()),
    );
    w.fund(&me1, SOL).await;
    w.fund(&me2, SOL).await;
    let payer = w.payer(1, 5 * SOL).await;
    let now = unix_now();

    // The same nonce to two merchants: the second is a conflict.
    let (t1, t2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = w.intent(&payer, me1, SOL / 10, 9, now);
    let second = w.intent(&payer, me2, SOL / 10, 9, now);
    let mut s1 = w.store(t1.path(), me1, &[&first], now);
    let mut s2 = w.store(t2.path(), me2, &[&second], now);
    let r1 = w
        .engine(&m1)
        .settle_all(&mut s1, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(matches!(r1[0].1, Outcome::Settled { .. }), "{r1:?}");
    let r2 = w
        .engine(&m2)
        .settle_all(&mut s2, 0, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(r2[0].1, Outcome::Conflict);

    // A payer who has not opened an escrow yet: waiting, with the reason.
    let stranger = SigningKey::from_bytes(&[7; 32]);
    let t3 = tempfile::tempdir().unwrap();
    let lost = w.intent(&stranger, me1, SOL / 10, 1, now);
    let mut s3 = w.store(t3.path(), me1, &[&lost], now);
    let r3 = w
        .engine(&m1)
        .settle_all(&mut s3, 0, &mut |_| {})
        .await
        .unwrap();
    assert!(
        matches!(&r3[0].1, Outcome::Waiting { reason } if reason.contains("escrow for this currency is not open yet")),
        "{r3:?}"
    );

    // An intent that runs out of time before the merchant is online.
    let mut short = w.intent(&payer, me1, SOL / 10, 10, now).intent;
    short.expires_at = now + 3;
    let short = toss_core::intent::sign(short, &payer).unwrap();
    let t4 = tempfile::tempdir().unwrap();
    let verifier = Verifier {
        cluster: w.cluster,
        program_id: w.v.program_id,
        payee: me1,
        limits: RiskLimits {
            min_remaining_seconds: 0,
            ..RiskLimits::default()
        },
    };
    let accepted = verifier
        .verify(
            &short.to_bytes().unwrap(),
            None,
            now,
            &MemoryLedger::default(),
        )
        .unwrap();
    let mut s4 = open_store(t4.path());
    s4.record_received(&accepted, i64::from(now)).unwrap();
    // Wait until the cluster's own clock has passed the expiry.
    for _ in 0..60 {
        let slot = w.client.get_slot().await.unwrap();
        if w.client.get_block_time(slot).await.unwrap_or(0) > i64::from(now) + 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let r4 = w
        .engine(&m1)
        .settle_all(&mut s4, 0, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(r4[0].1, Outcome::Expired);
    assert_eq!(s4.get(&r4[0].0).unwrap().state, State::Expired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_payment_opens_the_merchants_token_account_over_json_rpc() {
    use solana_program::program_pack::Pack;
    let w = World::start().await;
    let merchant = SigningKey::from_bytes(&[50; 32]);
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    w.fund(&me, SOL).await;
    let payer_key = SigningKey::from_bytes(&[1; 32]);
    let payer_kp = Keypair::new_from_array(payer_key.to_bytes());
    let payer = payer_kp.pubkey();
    w.fund(&payer, SOL).await;
    // A mint the merchant never held, and the payer's tokens in an escrow.
    let authority = w.v.mint.pubkey();
    let (mint, payer_tokens) = (Keypair::new(), Keypair::new());
    let token = spl_token_interface::ID;
    let rent = |len: usize| SOL / 100 + len as u64;
    let create = |k: &Keypair, len: usize| {
        solana_system_interface::instruction::create_account(
            &authority,
            &k.pubkey(),
            rent(len),
            len as u64,
            &token,
        )
    };
    let setup = vec![
        create(&mint, spl_token_interface::state::Mint::LEN),
        spl_token_interface::instruction::initialize_mint2(
            &token,
            &mint.pubkey(),
            &authority,
            None,
            6,
        )
        .unwrap(),
        create(&payer_tokens, spl_token_interface::state::Account::LEN),
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
    let open = ix::open_escrow(
        &w.v.program_id,
        &payer,
        Some(&mint.pubkey()),
        w.cluster,
        3600,
    );
    let funds = Funds::Spl {
        mint: mint.pubkey(),
        owner_tokens: payer_tokens.pubkey(),
    };
    let dep = ix::deposit(&w.v.program_id, &payer, funds, 50_000_000);
    w.send(&[open, dep], &[&payer_kp]).await;

    let now = unix_now();
    let mut intent = w.intent(&payer_key, me, 12_340_000, 1, now).intent;
    intent.mint = Some(mint.pubkey());
    let signed = toss_core::intent::sign(intent, &payer_key).unwrap();
    let verifier = Verifier {
        cluster: w.cluster,
        program_id: w.v.program_id,
        payee: me,
        limits: RiskLimits {
            per_mint: [(
                Some(mint.pubkey()),
                toss_core::intent::Limit {
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
    let mut store = open_store(tmp.path());
    let accepted = verifier
        .verify(
            &signed.to_bytes().unwrap(),
            None,
            now,
            &MemoryLedger::default(),
        )
        .unwrap();
    store.record_received(&accepted, i64::from(now)).unwrap();
    let before = w.client.get_balance(&me).await.unwrap();
    let results = w
        .engine(&merchant)
        .settle_all(&mut store, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert!(
        matches!(results[0].1, Outcome::Settled { .. }),
        "{results:?}"
    );
    let ata = toss_core::address::associated_token_account(&me, &mint.pubkey());
    let account = w.client.get_account(&ata).await.unwrap();
    let held = spl_token_interface::state::Account::unpack(&account.data).unwrap();
    assert_eq!((held.amount, held.owner), (12_340_000, me));
    // The account's rent (paid once), the record's rent, and the fees of
    // the two transactions: opening it, and settling.
    let spent = before - w.client.get_balance(&me).await.unwrap();
    assert_eq!(spent, 2_039_280 + 1_705_200 + 5_000 + 5_000);
}

/// What settled payments cost the merchant once their settlement records
/// are closed, measured on a real validator (docs/settlement.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_expired_records_leaves_the_merchant_paying_fees_only() {
    use toss_core::settle::SignatureCheck;
    let w = World::start().await;
    let merchant = SigningKey::from_bytes(&[50; 32]);
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    w.fund(&me, SOL).await;
    let payer = w.payer(1, 2 * SOL).await;
    // Three payments, settled with the precompile checking the signatures:
    // the fee payer's signature and three checked, 20,000, and one close.
    let spent = three_payments_and_their_records_closed(
        &w,
        &merchant,
        &payer,
        1,
        SignatureCheck::Precompile,
    )
    .await;
    assert_eq!(spent, 25_000);
    // The default asks the validator and takes the program's own check:
    // one signature per transaction, 5,000 for the settlement and 5,000
    // for the close: 3,333 per payment, under a plain transfer's 5,000.
    let spent = three_payments_and_their_records_closed(
        &w,
        &merchant,
        &payer,
        4,
        SignatureCheck::default(),
    )
    .await;
    assert_eq!(spent, 10_000);
}

/// Three payments of 0.1 SOL from `payer` (nonces from `first`) that expire
/// seconds after settling, settled with `check`, their records closed once
/// expired: what the merchant spent beyond the 0.3 SOL received.
async fn three_payments_and_their_records_closed(
    w: &World,
    merchant: &SigningKey,
    payer: &SigningKey,
    first: u64,
    check: toss_core::settle::SignatureCheck,
) -> u64 {
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    let now = unix_now();
    // Three payments that expire a few seconds after settling.
    let verifier = Verifier {
        cluster: w.cluster,
        program_id: w.v.program_id,
        payee: me,
        limits: RiskLimits {
            min_remaining_seconds: 0,
            ..RiskLimits::default()
        },
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open_store(tmp.path());
    let mut ledger = MemoryLedger::default();
    for nonce in first..first + 3 {
        let mut short = w.intent(payer, me, SOL / 10, nonce, now).intent;
        short.expires_at = now + 20;
        let signed = toss_core::intent::sign(short, payer).unwrap();
        let a = verifier
            .verify(&signed.to_bytes().unwrap(), None, now, &ledger)
            .unwrap();
        ledger.record(&a);
        store.record_received(&a, i64::from(now)).unwrap();
    }
    let before = w.client.get_balance(&me).await.unwrap();
    let engine = w.engine(merchant).with_signature_check(check);
    let settled = engine
        .settle_all(&mut store, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert!(settled.iter().all(|(_, o)| o.paid()), "{settled:?}");
    // Before expiry nothing is closed; after it (by the cluster's clock) all are.
    let early = engine
        .reclaim_rent(&mut store, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(early.records, 0);
    // Asked every half second once the wall clock is past expiry; the
    // program itself refuses until the cluster's clock is (RecordStillNeeded).
    let mut back = toss_core::settle::Reclaimed::default();
    for _ in 0..180 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if unix_now() <= now + 21 {
            continue;
        }
        back = engine
            .reclaim_rent(&mut store, i64::from(unix_now()), &mut |_| {})
            .await
            .unwrap();
        if back.records == 3 {
            break;
        }
    }
    assert_eq!((back.records, back.lamports), (3, 3 * 1_705_200));
    // The rent came back: what is left is fees.
    let after = w.client.get_balance(&me).await.unwrap();
    before + 3 * SOL / 10 - after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_carried_program_deploys_over_json_rpc_verifies_and_settles() {
    let mut w = World::start().await;
    let cli = Cli::new(&w);
    let (home, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let owner = SigningKey::from_bytes(&[7; 32]);
    let owner_addr = Pubkey::new_from_array(owner.verifying_key().to_bytes());
    w.fund(&owner_addr, 3 * SOL).await;
    let owner_file = keypair_file(files.path(), "owner.json", &owner);
    let h = home.path();
    cli.ok(
        h,
        &[
            "wallet",
            "import",
            "--label",
            "owner",
            "--keypair",
            &owner_file,
        ],
    );
    cli.ok(h, &["wallet", "passphrase"]);

    // Deployed through the upgradeable loader over JSON-RPC, as
    // `solana program deploy` does; it costs exactly what was shown.
    let before = w.client.get_balance(&owner_addr).await.unwrap();
    let deployed = cli.ok(h, &["program", "deploy", "--yes", "--passphrase-stdin"]);
    let cost = &deployed["cost"];
    let spent = cost["program_rent"].as_u64().unwrap()
        + cost["data_rent"].as_u64().unwrap()
        + cost["fees"].as_u64().unwrap();
    assert_eq!(
        w.client.get_balance(&owner_addr).await.unwrap(),
        before - spent
    );
    assert_eq!(deployed["upgrade_authority"], owner_addr.to_string());
    let program_id: Pubkey = deployed["program_id"].as_str().unwrap().parse().unwrap();

    // It is exactly the carried build; the system program is no such thing.
    let verdict = cli.ok(h, &["program", "verify", &program_id.to_string()]);
    assert_eq!(verdict["kind"], "bundled", "{verdict}");
    let (ok, _, stderr) = cli.run(
        h,
        &["program", "verify", "11111111111111111111111111111111"],
    );
    assert!(
        !ok && stderr.contains("no program is deployed there"),
        "{stderr}"
    );

    // And it settles: an escrow opened under it pays a merchant.
    w.program_id = program_id;
    let merchant = SigningKey::from_bytes(&[50; 32]);
    let me = Pubkey::new_from_array(merchant.verifying_key().to_bytes());
    w.fund(&me, SOL).await;
    let payer = w.payer(1, SOL).await;
    let now = unix_now();
    let signed = w.intent(&payer, me, SOL / 10, 1, now);
    let tmp = tempfile::tempdir().unwrap();
    let mut store = w.store(tmp.path(), me, &[&signed], now);
    let results = w
        .engine(&merchant)
        .settle_all(&mut store, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    assert!(
        matches!(results[0].1, Outcome::Settled { .. }),
        "{results:?}"
    );
}
