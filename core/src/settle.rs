//! Settlement: turning received intents into confirmed payments on chain.
//!
//! The engine takes the intents waiting in the store, asks the chain whether
//! each one's receipt already exists (so a rerun after a crash never submits
//! twice, and a payment someone else settled is recognised), packs the rest
//! into as few vault-settlement transactions as fit, submits them with the
//! merchant as fee payer, and records every step in the store. Network
//! failures are retried with exponential backoff; a transaction the program
//! refuses is split until each intent has its own deterministic outcome.

use std::future::Future;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use solana_keypair::Keypair;
use solana_program::hash::Hash;
use solana_program::instruction::InstructionError;
use solana_program::pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use toss_program::error::TossError;
use toss_program::instruction as ix;
use toss_program::intent::SignedIntent;
use toss_program::state::{Receipt, receipt_address};

use crate::store::{State, Store, StoreError, StoredIntent};

/// A legacy transaction's size limit.
const MAX_TX_BYTES: u64 = 1232;
/// The associated token account program: where a wallet's tokens live.
const ATA_PROGRAM: Pubkey = solana_program::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// What happened to one intent, decided by the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Paid by the transaction with this signature.
    Settled {
        signature: String,
    },
    /// Already paid (by an earlier run, or by someone else).
    AlreadySettled,
    Expired,
    /// The payer's vault could not cover it when it was submitted.
    InsufficientFunds,
    /// Another intent with the same payer and nonce was settled first.
    Conflict,
    /// Refused for a reason that retrying cannot fix.
    Invalid {
        reason: String,
    },
}

impl Outcome {
    fn state(&self) -> State {
        match self {
            Outcome::Settled { .. } | Outcome::AlreadySettled => State::Settled,
            Outcome::Expired => State::Expired,
            Outcome::Conflict => State::Conflicted,
            Outcome::InsufficientFunds | Outcome::Invalid { .. } => State::Failed,
        }
    }

    /// The outcome for a program error code.
    fn from_program(code: u32) -> Self {
        match TossError::from_code(code) {
            Some(TossError::AlreadySettled) => Outcome::AlreadySettled,
            Some(TossError::Expired) => Outcome::Expired,
            Some(TossError::InsufficientVaultFunds) => Outcome::InsufficientFunds,
            Some(TossError::NonceConflict) => Outcome::Conflict,
            Some(e) => Outcome::Invalid {
                reason: e.to_string(),
            },
            None => Outcome::Invalid {
                reason: format!("unknown program error {code}"),
            },
        }
    }
}

/// How a chain call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// Could not reach the cluster or get an answer: worth retrying.
    #[error("network: {0}")]
    Network(String),
    /// The cluster executed and refused the transaction: final.
    #[error("rejected: {0}")]
    Rejected(TransactionError),
}

/// What the engine needs from a cluster. [`RpcChain`] speaks JSON-RPC; tests
/// also drive the engine through the Solana test runtime.
pub trait Chain {
    fn latest_blockhash(&self) -> impl Future<Output = Result<Hash, ChainError>>;
    /// Submits and waits for confirmation.
    fn submit(&self, tx: Transaction) -> impl Future<Output = Result<(), ChainError>>;
    fn account_data(
        &self,
        key: Pubkey,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, ChainError>>;
}

/// A cluster reached over JSON-RPC (`SOLANA_RPC_URL`), at `confirmed`
/// commitment.
pub struct RpcChain {
    client: solana_rpc_client::nonblocking::rpc_client::RpcClient,
}

impl std::fmt::Debug for RpcChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcChain")
            .field("url", &self.client.url())
            .finish()
    }
}

impl RpcChain {
    pub fn new(url: &str) -> Self {
        Self {
            client: solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
                url.to_owned(),
                solana_commitment_config::CommitmentConfig::confirmed(),
            ),
        }
    }
}

/// A refusal by the cluster (preflight or execution) is final; anything
/// else (connection, timeout, server error) may pass on retry.
fn rpc_error(e: solana_rpc_client_api::client_error::Error) -> ChainError {
    match e.get_transaction_error() {
        Some(tx) => ChainError::Rejected(tx),
        None => ChainError::Network(e.to_string()),
    }
}

impl Chain for RpcChain {
    async fn latest_blockhash(&self) -> Result<Hash, ChainError> {
        self.client.get_latest_blockhash().await.map_err(rpc_error)
    }

    async fn submit(&self, tx: Transaction) -> Result<(), ChainError> {
        self.client
            .send_and_confirm_transaction(&tx)
            .await
            .map(|_| ())
            .map_err(rpc_error)
    }

    async fn account_data(&self, key: Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        let response = self
            .client
            .get_account_with_commitment(&key, self.client.commitment())
            .await
            .map_err(rpc_error)?;
        Ok(response.value.map(|a| a.data))
    }
}

/// Retries after a network failure: `base`, then doubling (1 s, 2 s, 4 s...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    /// MAX_SETTLEMENT_RETRIES.
    pub retries: u32,
}

impl Backoff {
    pub fn delays(self) -> impl Iterator<Item = Duration> {
        (0..self.retries).map(move |n| self.base.saturating_mul(1 << n.min(16)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the cluster could not be reached after {attempts} attempts: {last}")]
    Unreachable { attempts: u32, last: String },
}

/// Progress reports for the UI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Progress {
    Started { intents: usize },
    Submitting { intents: usize },
    Retrying { after_ms: u64, error: String },
    Resolved { id: String, outcome: Outcome },
}

/// The settlement engine for one merchant wallet.
#[derive(Debug)]
pub struct Engine<C> {
    chain: C,
    program_id: Pubkey,
    fee_payer: Keypair,
    backoff: Backoff,
}

impl<C: Chain> Engine<C> {
    /// `fee_payer` pays fees and receipt rent (normally the merchant's key).
    pub fn new(chain: C, program_id: Pubkey, fee_payer: &SigningKey, backoff: Backoff) -> Self {
        Self {
            chain,
            program_id,
            fee_payer: Keypair::new_from_array(fee_payer.to_bytes()),
            backoff,
        }
    }

    /// Settles every intent waiting in the store, recording each outcome.
    /// Intents left unresolved by an unreachable cluster stay `submitted`
    /// and are taken up by the next run.
    pub async fn settle_all(
        &self,
        store: &mut Store,
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<([u8; 32], Outcome)>, SettleError> {
        let waiting = store.awaiting_settlement()?;
        progress(Progress::Started {
            intents: waiting.len(),
        });
        let mut results = Vec::new();
        let mut to_submit = Vec::new();
        for stored in waiting {
            match self.already_on_chain(&stored, progress).await? {
                Some(outcome) => {
                    results.push(self.resolve(store, &stored, outcome, now, progress)?)
                }
                None => to_submit.push(stored),
            }
        }
        for batch in self.batches(&to_submit)? {
            for s in batch {
                store.append(&s.id, State::Submitted, None, now)?;
            }
            for (stored, outcome) in self.submit_batch(batch, progress).await? {
                results.push(self.resolve(store, stored, outcome, now, progress)?);
            }
        }
        Ok(results)
    }

    /// The outcome an existing receipt implies, or `None` when the intent is
    /// not on chain yet.
    async fn already_on_chain(
        &self,
        stored: &StoredIntent,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<Outcome>, SettleError> {
        let i = &stored.signed.intent;
        let receipt = receipt_address(&self.program_id, &i.payer, i.nonce).0;
        let data = match self
            .retrying(|| self.chain.account_data(receipt), progress)
            .await?
        {
            Ok(data) => data,
            Err(e) => return Ok(Some(classify(e))),
        };
        Ok(data.and_then(|d| Receipt::unpack(&d).ok()).map(|r| {
            if r.intent_id == stored.id {
                Outcome::AlreadySettled
            } else {
                Outcome::Conflict
            }
        }))
    }

    fn resolve(
        &self,
        store: &mut Store,
        stored: &StoredIntent,
        outcome: Outcome,
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<([u8; 32], Outcome), SettleError> {
        let detail = match &outcome {
            Outcome::Settled { signature } => {
                store.record_receipt(&stored.id, signature, None, now)?;
                Some(format!("transaction {signature}"))
            }
            Outcome::Invalid { reason } => Some(reason.clone()),
            _ => None,
        };
        store.append(&stored.id, outcome.state(), detail.as_deref(), now)?;
        let metric = match outcome.state() {
            State::Settled => "intents_settled",
            _ => "intents_not_settled",
        };
        store.bump(metric, 1)?;
        progress(Progress::Resolved {
            id: hex::encode(stored.id),
            outcome: outcome.clone(),
        });
        Ok((stored.id, outcome))
    }

    /// Greedy packing: as many intents per transaction as stay within the
    /// size limit (docs/program.md: 3 SOL or 2 SPL intents).
    fn batches<'a>(
        &self,
        intents: &'a [StoredIntent],
    ) -> Result<Vec<&'a [StoredIntent]>, StoreError> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < intents.len() {
            let mut end = start + 1;
            while end < intents.len() && self.fits(&intents[start..=end])? {
                end += 1;
            }
            out.push(&intents[start..end]);
            start = end;
        }
        Ok(out)
    }

    fn fits(&self, intents: &[StoredIntent]) -> Result<bool, StoreError> {
        let tx = self.transaction(intents, Hash::default())?;
        Ok(bincode::serialized_size(&tx).is_ok_and(|size| size <= MAX_TX_BYTES))
    }

    fn transaction(
        &self,
        intents: &[StoredIntent],
        blockhash: Hash,
    ) -> Result<Transaction, StoreError> {
        let signed: Vec<&SignedIntent> = intents.iter().map(|s| &s.signed).collect();
        let check = ix::ed25519_check(&signed).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let items: Vec<_> = signed
            .iter()
            .map(|s| {
                (
                    *s,
                    s.intent
                        .mint
                        .map(|m| associated_token_account(&s.intent.payee, &m)),
                )
            })
            .collect();
        let settle = ix::settle(&self.program_id, &self.fee_payer.pubkey(), &items, 0);
        Ok(Transaction::new_signed_with_payer(
            &[check, settle],
            Some(&self.fee_payer.pubkey()),
            &[&self.fee_payer],
            blockhash,
        ))
    }

    /// Submits one batch; a refused batch of several is split in halves
    /// until every intent has its own outcome.
    async fn submit_batch<'a>(
        &self,
        batch: &'a [StoredIntent],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<(&'a StoredIntent, Outcome)>, SettleError> {
        let mut queue = vec![batch];
        let mut out = Vec::new();
        while let Some(part) = queue.pop() {
            progress(Progress::Submitting {
                intents: part.len(),
            });
            let sent = self
                .retrying(
                    || async {
                        let blockhash = self.chain.latest_blockhash().await?;
                        // `batches` already built this transaction once, so
                        // it cannot fail here; if it did, retrying would not help.
                        let tx = self
                            .transaction(part, blockhash)
                            .map_err(|_| ChainError::Rejected(TransactionError::SanitizeFailure))?;
                        let signature = tx.signatures[0].to_string();
                        self.chain.submit(tx).await.map(|()| signature)
                    },
                    progress,
                )
                .await?;
            match sent {
                Ok(signature) => out.extend(part.iter().map(|s| {
                    let outcome = Outcome::Settled {
                        signature: signature.clone(),
                    };
                    (s, outcome)
                })),
                Err(_) if part.len() > 1 => {
                    let (a, b) = part.split_at(part.len() / 2);
                    queue.push(b);
                    queue.push(a);
                }
                Err(e) => out.push((&part[0], classify(e))),
            }
        }
        Ok(out)
    }

    /// Runs `call`, retrying network failures with backoff. A refusal by
    /// the cluster is final and comes back as the inner `Err`.
    async fn retrying<T, F, Fut>(
        &self,
        mut call: F,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Result<T, TransactionError>, SettleError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ChainError>>,
    {
        let mut delays = self.backoff.delays();
        loop {
            match call().await {
                Ok(v) => return Ok(Ok(v)),
                Err(ChainError::Rejected(e)) => return Ok(Err(e)),
                Err(ChainError::Network(e)) => match delays.next() {
                    Some(delay) => {
                        progress(Progress::Retrying {
                            after_ms: delay.as_millis() as u64,
                            error: e,
                        });
                        tokio::time::sleep(delay).await;
                    }
                    None => {
                        return Err(SettleError::Unreachable {
                            attempts: self.backoff.retries + 1,
                            last: e,
                        });
                    }
                },
            }
        }
    }
}

/// The outcome of a refused transaction holding a single intent.
fn classify(e: TransactionError) -> Outcome {
    match e {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
            Outcome::from_program(code)
        }
        other => Outcome::Invalid {
            reason: other.to_string(),
        },
    }
}

/// The associated token account of `owner` for `mint` (SPL Token).
pub fn associated_token_account(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[
            owner.as_ref(),
            spl_token_interface::ID.as_ref(),
            mint.as_ref(),
        ],
        &ATA_PROGRAM,
    )
    .0
}
