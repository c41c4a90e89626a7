//! The Solana test runtime (solana-program-test, running the TOSS program's
//! SBF build in its VM) as a `Chain`, with switchable network failures, and
//! the helpers the engine tests and the examples share: funded payers with
//! escrows, signed intents, merchant stores.
#![allow(dead_code)] // each test file or example uses its own part of this
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test harness: fail loudly

use std::cell::Cell;
use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey};
use solana_keypair::Keypair;
use solana_program::clock::Clock;
use solana_program::hash::Hash;
use solana_program::pubkey::Pubkey;
use solana_program_test::{ProgramTest, ProgramTestContext};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use tokio::sync::Mutex;
use toss_core::chain::{Account, Backoff, Chain, ChainError};
use toss_core::intent::{Intent, MemoryLedger, RiskLimits, SignedIntent, Verifier};
use toss_core::settle::Engine;
use toss_core::store::Store;
use toss_program::instruction::{self as ix, Funds};
use toss_program::intent::cluster;
use zeroize::Zeroizing;

pub const SOL: u64 = 1_000_000_000;

/// The test runtime as a `Chain`.
pub struct TestChain {
    pub ctx: Mutex<ProgramTestContext>,
    /// Calls that fail with a network error before calls succeed again.
    pub fail_next: Cell<u32>,
    /// The next submission lands but its confirmation is lost (a timeout).
    pub lose_next_confirmation: Cell<bool>,
    /// Submissions fail with a network error (reads still answer): the
    /// cluster stops answering between reading and sending.
    pub refuse_submits: Cell<bool>,
    /// Play a cluster that has switched the Ed25519 precompile off
    /// (SIMD-0568): a transaction calling it is refused as calling an
    /// unknown program, as such a cluster refuses it.
    pub no_precompile: Cell<bool>,
    /// Lamports the fee quote adds per requested compute unit: a cluster
    /// pricing compute above signatures (SIMD-0553's resource fee), where
    /// the precompile is the cheaper check. Quotes only; nothing charges it.
    pub quoted_lamports_per_cu: Cell<u64>,
    /// The cluster answers everything but fee quotes (an RPC provider that
    /// does not offer getFeeForMessage).
    pub no_fee_quotes: Cell<bool>,
    pub submits: Cell<u32>,
}

/// The compute-unit limit `tx` asks for (ComputeBudget's
/// SetComputeUnitLimit), 0 when it asks none.
fn requested_units(tx: &Transaction) -> u32 {
    let budget = solana_program::pubkey!("ComputeBudget111111111111111111111111111111");
    let keys = &tx.message.account_keys;
    tx.message
        .instructions
        .iter()
        .filter(|i| keys[usize::from(i.program_id_index)] == budget)
        .find_map(|i| match i.data.as_slice() {
            [2, units @ ..] => Some(u32::from_le_bytes(units.try_into().ok()?)),
            _ => None,
        })
        .unwrap_or(0)
}

fn network(e: impl std::fmt::Display) -> ChainError {
    ChainError::Network(e.to_string())
}

impl Chain for TestChain {
    async fn latest_blockhash(&self) -> Result<Hash, ChainError> {
        self.network()?;
        // The current blockhash, as an RPC node answers; waiting for a new
        // one each time would make every call wait for a slot.
        let ctx = self.ctx.lock().await;
        ctx.banks_client
            .get_latest_blockhash()
            .await
            .map_err(network)
    }

    async fn submit(&self, tx: Transaction) -> Result<(), ChainError> {
        self.network()?;
        if self.refuse_submits.get() {
            return Err(network("connection reset"));
        }
        self.submits.set(self.submits.get() + 1);
        let ed25519 = solana_program::pubkey!("Ed25519SigVerify111111111111111111111111111");
        if self.no_precompile.get() && tx.message.account_keys.contains(&ed25519) {
            return Err(ChainError::Rejected(
                solana_transaction_error::TransactionError::InstructionError(
                    0,
                    solana_program::instruction::InstructionError::UnsupportedProgramId,
                ),
            ));
        }
        let ctx = self.ctx.lock().await;
        // `process_transaction` cannot take a durable-nonce transaction
        // (banks-server looks its blockhash up as a recent one); this path
        // executes every kind.
        let result = match ctx.banks_client.process_transaction_with_metadata(tx).await {
            Ok(done) => done.result.map_err(ChainError::Rejected),
            Err(e) => Err(network(e)),
        };
        if result.is_ok() && self.lose_next_confirmation.replace(false) {
            return Err(ChainError::Network(
                "timed out waiting for confirmation".into(),
            ));
        }
        result
    }

    async fn account(&self, key: Pubkey) -> Result<Option<Account>, ChainError> {
        self.network()?;
        let ctx = self.ctx.lock().await;
        let account = ctx.banks_client.get_account(key).await.map_err(network)?;
        Ok(account.map(|a| Account {
            lamports: a.lamports,
            owner: a.owner,
            data: a.data,
        }))
    }

    async fn rent_exemption(&self, len: usize) -> Result<u64, ChainError> {
        self.network()?;
        let ctx = self.ctx.lock().await;
        let rent = ctx.banks_client.get_rent().await.map_err(network)?;
        Ok(rent.minimum_balance(len))
    }

    async fn genesis_hash(&self) -> Result<Hash, ChainError> {
        self.network()?;
        Ok(self.ctx.lock().await.genesis_config().hash())
    }

    async fn fee(&self, tx: &Transaction) -> Result<u64, ChainError> {
        self.network()?;
        if self.no_fee_quotes.get() {
            return Err(network("Method not found"));
        }
        let ctx = self.ctx.lock().await;
        let fee = ctx
            .banks_client
            .get_fee_for_message(tx.message.clone())
            .await
            .map_err(network)?
            .ok_or_else(|| network("the blockhash is not recent"))?;
        Ok(fee + self.quoted_lamports_per_cu.get() * u64::from(requested_units(tx)))
    }

    async fn signature_status(
        &self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        self.network()?;
        let ctx = self.ctx.lock().await;
        let status = ctx
            .banks_client
            .get_transaction_status(*signature)
            .await
            .map_err(network)?;
        Ok(status.map(|s| s.err.map_or(Ok(()), Err)))
    }
}

impl TestChain {
    fn network(&self) -> Result<(), ChainError> {
        match self.fail_next.get() {
            0 => Ok(()),
            n => {
                self.fail_next.set(n - 1);
                Err(ChainError::Network("connection refused".into()))
            }
        }
    }
}

pub struct World {
    pub chain: TestChain,
    pub program_id: Pubkey,
    pub cluster: [u8; 8],
}

pub async fn world() -> World {
    let program_id = Pubkey::new_unique();
    // The program as the chain runs it: its SBF build (scripts/sbf/build,
    // found through SBF_OUT_DIR) in the real VM.
    let mut pt = ProgramTest::new("toss_program", program_id, None);
    pt.prefer_bpf(true);
    let ctx = pt.start_with_context().await;
    let cluster = cluster::from_genesis_hash(&ctx.genesis_config().hash().to_bytes());
    World {
        chain: TestChain {
            ctx: Mutex::new(ctx),
            fail_next: Cell::new(0),
            lose_next_confirmation: Cell::new(false),
            refuse_submits: Cell::new(false),
            no_precompile: Cell::new(false),
            quoted_lamports_per_cu: Cell::new(0),
            no_fee_quotes: Cell::new(false),
            submits: Cell::new(0),
        },
        program_id,
        cluster,
    }
}

/// A wallet key and its address.
pub fn key(seed: u8) -> (SigningKey, Pubkey) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let pubkey = Pubkey::new_from_array(key.verifying_key().to_bytes());
    (key, pubkey)
}

pub use toss_core::chain::signer as keypair;

/// Retries fast enough for tests.
pub fn quick(retries: u32) -> Backoff {
    Backoff {
        base: Duration::from_millis(1),
        retries,
    }
}

impl World {
    pub async fn send(
        &self,
        ixs: &[solana_program::instruction::Instruction],
        signers: &[&Keypair],
    ) {
        let mut ctx = self.chain.ctx.lock().await;
        let blockhash = ctx.get_new_latest_blockhash().await.unwrap();
        let mut all: Vec<&Keypair> = vec![&ctx.payer];
        all.extend_from_slice(signers);
        let tx =
            Transaction::new_signed_with_payer(ixs, Some(&ctx.payer.pubkey()), &all, blockhash);
        ctx.banks_client.process_transaction(tx).await.unwrap();
    }

    pub async fn fund(&self, to: &Pubkey, lamports: u64) {
        let from = self.chain.ctx.lock().await.payer.pubkey();
        self.send(
            &[solana_system_interface::instruction::transfer(
                &from, to, lamports,
            )],
            &[],
        )
        .await;
    }

    pub async fn balance(&self, key: &Pubkey) -> u64 {
        self.chain
            .ctx
            .lock()
            .await
            .banks_client
            .get_balance(*key)
            .await
            .unwrap()
    }

    pub async fn now(&self) -> u32 {
        let clock: Clock = self
            .chain
            .ctx
            .lock()
            .await
            .banks_client
            .get_sysvar()
            .await
            .unwrap();
        clock.unix_timestamp as u32
    }

    /// Moves the cluster's clock on by `seconds` (a day passes offline).
    pub async fn advance_clock(&self, seconds: i64) {
        let ctx = self.chain.ctx.lock().await;
        let mut clock: Clock = ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp += seconds;
        ctx.set_sysvar(&clock);
    }

    /// Deposits `lamports` more into the SOL escrow of `payer`.
    pub async fn deposit(&self, payer: &SigningKey, lamports: u64) {
        let kp = keypair(payer);
        self.fund(&kp.pubkey(), lamports).await;
        let dep = ix::deposit(&self.program_id, &kp.pubkey(), Funds::Sol, lamports);
        self.send(&[dep], &[&kp]).await;
    }

    /// A payer with a funded SOL escrow.
    pub async fn payer(&self, seed: u8, deposit: u64) -> SigningKey {
        let (key, _) = key(seed);
        let kp = keypair(&key);
        self.fund(&kp.pubkey(), deposit + SOL).await;
        let open = ix::open_escrow(&self.program_id, &kp.pubkey(), None, self.cluster, 3600);
        let dep = ix::deposit(&self.program_id, &kp.pubkey(), Funds::Sol, deposit);
        self.send(&[open, dep], &[&kp]).await;
        key
    }

    /// An unsigned SOL intent valid for a day.
    pub async fn unsigned(
        &self,
        payer: &SigningKey,
        payee: Pubkey,
        amount: u64,
        nonce: u64,
    ) -> Intent {
        let now = self.now().await;
        Intent {
            cluster: self.cluster,
            program_id: self.program_id,
            payer: Pubkey::new_from_array(payer.verifying_key().to_bytes()),
            payee,
            mint: None,
            amount,
            reference: None,
            memo: None,
            nonce,
            created_at: now - 10,
            expires_at: now + 86_400,
            durable_nonce: None,
        }
    }

    pub async fn intent(
        &self,
        payer: &SigningKey,
        payee: Pubkey,
        amount: u64,
        nonce: u64,
    ) -> SignedIntent {
        let intent = self.unsigned(payer, payee, amount, nonce).await;
        let signature = payer.sign(&intent.encode().unwrap()).to_bytes();
        SignedIntent { intent, signature }
    }

    pub fn open_store(&self, dir: &std::path::Path) -> Store {
        Store::open(&dir.join("toss.db"), &Zeroizing::new([9; 32])).unwrap()
    }

    /// A merchant's store holding `payments` (wire bytes), verified and
    /// recorded as a till would.
    pub async fn receive(&self, store: &mut Store, payee: Pubkey, payments: &[Vec<u8>]) {
        let verifier = Verifier {
            cluster: self.cluster,
            program_id: self.program_id,
            payee,
            limits: RiskLimits::default(),
        };
        let now = self.now().await;
        for wire in payments {
            let a = verifier
                .verify(wire, None, now, &MemoryLedger::default())
                .unwrap();
            store.record_received(&a, i64::from(now)).unwrap();
        }
    }

    pub async fn merchant_store(
        &self,
        dir: &std::path::Path,
        payee: Pubkey,
        intents: &[&SignedIntent],
    ) -> Store {
        let mut store = self.open_store(dir);
        let wires: Vec<Vec<u8>> = intents.iter().map(|s| s.to_bytes().unwrap()).collect();
        self.receive(&mut store, payee, &wires).await;
        store
    }

    pub fn engine(&self, merchant: &SigningKey, retries: u32) -> Engine<&TestChain> {
        Engine::new(&self.chain, self.program_id, merchant, quick(retries))
    }
}
