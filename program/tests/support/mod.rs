//! What the program tests and the compute-unit bench share: a bank running
//! the program's SBF build, funded wallets with escrows, signed intents.
#![allow(dead_code, unused_imports)] // each user takes its own part
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

pub use ed25519_dalek::Signer as _;
pub use solana_keypair::Keypair;
pub use solana_program::clock::Clock;
pub use solana_program::instruction::{Instruction, InstructionError};
pub use solana_program::program_pack::Pack;
pub use solana_program::pubkey::Pubkey;
pub use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
pub use solana_signer::Signer;
pub use solana_transaction::Transaction;
pub use solana_transaction_error::TransactionError;
pub use toss_program::error::TossError;
pub use toss_program::instruction::{self as ix, Funds};
pub use toss_program::intent::{DurableNonce, Intent, SignedIntent, cluster};
pub use toss_program::state::{
    EscrowState, SettlementRecord, escrow_address, escrow_tokens_address, record_address,
};

pub const SOL: u64 = 1_000_000_000;
pub const DAY: u32 = 86_400;

pub struct Env {
    pub ctx: ProgramTestContext,
    pub program_id: Pubkey,
    pub cluster: [u8; 8],
}

/// A wallet: its Solana keypair and the same secret as an ed25519-dalek key.
pub struct Wallet {
    pub keypair: Keypair,
    pub signing: ed25519_dalek::SigningKey,
}

impl Wallet {
    pub fn new(seed: u8) -> Self {
        let secret = [seed; 32];
        Self {
            keypair: Keypair::new_from_array(secret),
            signing: ed25519_dalek::SigningKey::from_bytes(&secret),
        }
    }

    pub fn key(&self) -> Pubkey {
        self.keypair.pubkey()
    }

    pub fn sign(&self, intent: Intent) -> SignedIntent {
        let body = intent.encode().unwrap();
        SignedIntent {
            intent,
            signature: self.signing.sign(&body).to_bytes(),
        }
    }
}

pub async fn start() -> Env {
    let program_id = Pubkey::new_unique();
    // The program as the chain runs it: its SBF build (scripts/sbf/build,
    // found through SBF_OUT_DIR) in the real VM.
    let mut pt = ProgramTest::new("toss_program", program_id, None);
    pt.prefer_bpf(true);
    let ctx = pt.start_with_context().await;
    let cluster = cluster::from_genesis_hash(&ctx.genesis_config().hash().to_bytes());
    Env {
        ctx,
        program_id,
        cluster,
    }
}

impl Env {
    pub async fn now(&mut self) -> u32 {
        let clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp as u32
    }

    pub async fn set_time(&mut self, unix: i64) {
        let mut clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp = unix;
        self.ctx.set_sysvar(&clock);
    }

    /// Sends `ixs` paid by the test's funded payer and signed also by `signers`.
    pub async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), BanksClientError> {
        let blockhash = self.ctx.get_new_latest_blockhash().await.unwrap();
        let mut all: Vec<&Keypair> = vec![&self.ctx.payer];
        all.extend_from_slice(signers);
        let tx = Transaction::new_signed_with_payer(
            ixs,
            Some(&self.ctx.payer.pubkey()),
            &all,
            blockhash,
        );
        self.ctx.banks_client.process_transaction(tx).await
    }

    /// Runs a transaction signed elsewhere (the payer's offline durable-nonce
    /// transaction) directly on the working bank: the banks server's
    /// `process_transaction` cannot look up a nonce value as a blockhash.
    pub async fn submit_signed(&mut self, tx: Transaction) -> Result<(), BanksClientError> {
        let outcome = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await?;
        outcome.result.map_err(BanksClientError::TransactionError)
    }

    pub async fn lamports(&mut self, key: &Pubkey) -> u64 {
        self.ctx.banks_client.get_balance(*key).await.unwrap()
    }

    pub async fn data(&mut self, key: &Pubkey) -> Option<Vec<u8>> {
        self.ctx
            .banks_client
            .get_account(*key)
            .await
            .unwrap()
            .map(|a| a.data)
    }

    pub async fn fund(&mut self, to: &Pubkey, lamports: u64) {
        let t =
            solana_system_interface::instruction::transfer(&self.ctx.payer.pubkey(), to, lamports);
        self.send(&[t], &[]).await.unwrap();
    }

    /// A funded payer with a SOL escrow holding `deposit`.
    pub async fn payer_with_escrow(&mut self, seed: u8, deposit: u64) -> Wallet {
        let w = Wallet::new(seed);
        self.fund(&w.key(), deposit + SOL).await;
        let open = ix::open_escrow(&self.program_id, &w.key(), None, self.cluster, 3600);
        let dep = ix::deposit(&self.program_id, &w.key(), Funds::Sol, deposit);
        self.send(&[open, dep], &[&w.keypair]).await.unwrap();
        w
    }

    pub async fn intent(
        &mut self,
        payer: &Wallet,
        payee: Pubkey,
        amount: u64,
        nonce: u64,
    ) -> Intent {
        let now = self.now().await;
        Intent {
            cluster: self.cluster,
            program_id: self.program_id,
            payer: payer.key(),
            payee,
            mint: None,
            amount,
            reference: None,
            memo: None,
            nonce,
            created_at: now - 10,
            expires_at: now + DAY,
            durable_nonce: None,
        }
    }

    /// Settles `intents` in one transaction paid by the test payer, asking
    /// for the compute units the engine would ask for (too few fail it).
    pub async fn settle(&mut self, intents: &[&SignedIntent]) -> Result<(), BanksClientError> {
        let check = ix::ed25519_check(intents).unwrap();
        let items: Vec<_> = intents.iter().map(|s| (*s, None)).collect();
        let settle = ix::settle(&self.program_id, &self.ctx.payer.pubkey(), &items, 0);
        let limit =
            ix::compute_unit_limit(ix::settle_compute_units(&self.program_id, intents, false));
        self.send(&[check, settle, limit], &[]).await
    }

    /// Sends `check` with a settle instruction for `signed` pointing at it.
    pub async fn settle_checked(
        &mut self,
        check: Instruction,
        signed: &SignedIntent,
    ) -> Result<(), BanksClientError> {
        let fee = self.ctx.payer.pubkey();
        let settle = ix::settle(&self.program_id, &fee, &[(signed, None)], 0);
        self.send(&[check, settle], &[]).await
    }

    pub async fn escrow_lamports(&mut self, owner: &Pubkey) -> u64 {
        let escrow = escrow_address(&self.program_id, owner, None).0;
        self.lamports(&escrow).await
    }
}

/// The TOSS error code a failed transaction carries, if any.
pub fn toss_error(result: Result<(), BanksClientError>) -> TossError {
    match result.expect_err("the transaction should fail").unwrap() {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
            TossError::from_code(code)
                .unwrap_or_else(|| panic!("custom code {code} is not a TOSS error"))
        }
        other => panic!("not a program error: {other:?}"),
    }
}

/// A token for SPL tests: its mint (6 decimals, the test payer its
/// authority), a payer's token account holding 100 tokens and a merchant's
/// empty one.
pub struct Tokens {
    pub mint: Keypair,
    pub payer_tokens: Keypair,
    pub merchant_tokens: Keypair,
}

impl Env {
    /// Creates a mint, `payer`'s token account (100 tokens) and `merchant`'s.
    pub async fn tokens(&mut self, payer: &Pubkey, merchant: &Pubkey) -> Tokens {
        let fee = self.ctx.payer.pubkey();
        let t = Tokens {
            mint: Keypair::new(),
            payer_tokens: Keypair::new(),
            merchant_tokens: Keypair::new(),
        };
        let token = spl_token_interface::ID;
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let mint_len = spl_token_interface::state::Mint::LEN;
        let acct_len = spl_token_interface::state::Account::LEN;
        let create = |k: &Keypair, len: usize| {
            solana_system_interface::instruction::create_account(
                &fee,
                &k.pubkey(),
                rent.minimum_balance(len),
                len as u64,
                &token,
            )
        };
        let account = |k: &Keypair, owner: &Pubkey| {
            spl_token_interface::instruction::initialize_account3(
                &token,
                &k.pubkey(),
                &t.mint.pubkey(),
                owner,
            )
            .unwrap()
        };
        let setup = vec![
            create(&t.mint, mint_len),
            spl_token_interface::instruction::initialize_mint2(
                &token,
                &t.mint.pubkey(),
                &fee,
                None,
                6,
            )
            .unwrap(),
            create(&t.payer_tokens, acct_len),
            account(&t.payer_tokens, payer),
            create(&t.merchant_tokens, acct_len),
            account(&t.merchant_tokens, merchant),
            spl_token_interface::instruction::mint_to(
                &token,
                &t.mint.pubkey(),
                &t.payer_tokens.pubkey(),
                &fee,
                &[],
                100_000_000,
            )
            .unwrap(),
        ];
        self.send(&setup, &[&t.mint, &t.payer_tokens, &t.merchant_tokens])
            .await
            .unwrap();
        t
    }

    /// Sends `ixs` paid by the test payer (and signed by `signers`): the
    /// compute units the transaction consumed, and its size in bytes.
    pub async fn metered(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> (u64, u64) {
        let blockhash = self.ctx.get_new_latest_blockhash().await.unwrap();
        let mut all: Vec<&Keypair> = vec![&self.ctx.payer];
        all.extend_from_slice(signers);
        let tx = Transaction::new_signed_with_payer(
            ixs,
            Some(&self.ctx.payer.pubkey()),
            &all,
            blockhash,
        );
        let size = bincode::serialized_size(&tx).unwrap();
        let outcome = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .unwrap();
        outcome.result.unwrap();
        (outcome.metadata.unwrap().compute_units_consumed, size)
    }
}

/// `intent` signed by a payer key with an order-8 component (`aB + T`), a
/// signature `verify_strict` accepts (tried until `[k]T` vanishes, about one
/// in eight): what no real wallet makes, and the program must refuse.
pub fn torsion_signed(mut intent: Intent) -> SignedIntent {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};
    let a = Scalar::from_bytes_mod_order([7; 32]);
    let key = (a * B + EIGHT_TORSION[1]).compress();
    intent.payer = Pubkey::new_from_array(key.to_bytes());
    let body = intent.encode().unwrap();
    for n in 0u64.. {
        let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(n.to_le_bytes()).into());
        let big_r = (r * B).compress();
        let h: [u8; 64] = Sha512::new()
            .chain_update(big_r.as_bytes())
            .chain_update(key.as_bytes())
            .chain_update(&body)
            .finalize()
            .into();
        let k = Scalar::from_bytes_mod_order_wide(&h);
        if !k.as_bytes()[0].is_multiple_of(8) {
            continue;
        }
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(big_r.as_bytes());
        signature[32..].copy_from_slice((r + k * a).as_bytes());
        let accepted = ed25519_dalek::VerifyingKey::from_bytes(&key.to_bytes())
            .unwrap()
            .verify_strict(&body, &ed25519_dalek::Signature::from_bytes(&signature));
        assert!(accepted.is_ok(), "verify_strict accepts it");
        return SignedIntent { intent, signature };
    }
    unreachable!()
}
