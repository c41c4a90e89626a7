//! Settlement: turning received intents into confirmed payments on chain.
//!
//! The engine takes the intents waiting in the store, asks the chain whether
//! each one's settlement record already exists (so a rerun after a crash never submits
//! twice, and a payment someone else settled is recognised), packs the rest
//! into as few escrow-settlement transactions as fit, submits them with the
//! merchant as fee payer, and records every step in the store. Network
//! failures are retried with exponential backoff; a transaction the program
//! refuses is split until each intent has its own deterministic outcome.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use solana_keypair::Keypair;
use solana_program::hash::Hash;
use solana_program::pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use toss_program::error::TossError;
use toss_program::instruction as ix;
use toss_program::intent::SignedIntent;
use toss_program::state::{SettlementRecord, record_address};

use crate::address::{associated_token_account, create_associated_token_account};
use crate::chain::{
    Backoff, Chain, Unreachable, program_error, retrying, send_once, submit_presigned,
};
use crate::intent::durable;
use crate::store::{Counter, State, Store, StoreError, StoredIntent};
use crate::words::{count, counted};

/// A legacy transaction's size limit.
const MAX_TX_BYTES: u64 = 1232;

/// What happened to one intent, decided by the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Paid by the transaction with this signature.
    Settled {
        /// The transaction signature, base58.
        signature: String,
    },
    /// Already paid (by an earlier run, or by someone else).
    AlreadySettled,
    /// The program refused it as expired: its `expires_at` passed first.
    Expired,
    /// The payer's escrow could not cover it when it was submitted; the
    /// payer can still deposit, so it is tried again until it expires.
    InsufficientFunds,
    /// Refused for a reason that can recover (the fee payer short of SOL,
    /// the payer's escrow not opened yet, an account a called program
    /// refused); tried again until the intent expires.
    Waiting {
        /// What stands in the way, and what to do about it.
        reason: String,
    },
    /// Another intent with the same payer and nonce was settled first.
    Conflict,
    /// Refused for a reason that retrying cannot fix.
    Invalid {
        /// The program's or the cluster's reason, in words.
        reason: String,
    },
}

impl Outcome {
    fn state(&self) -> State {
        match self {
            Outcome::Settled { .. } | Outcome::AlreadySettled => State::Settled,
            Outcome::Expired => State::Expired,
            Outcome::Conflict => State::Conflicted,
            Outcome::InsufficientFunds | Outcome::Waiting { .. } => State::Deferred,
            Outcome::Invalid { .. } => State::Failed,
        }
    }

    /// Whether the chain's answer is the last word (else it is tried again).
    pub fn is_final(&self) -> bool {
        self.state().is_final()
    }

    /// The outcome for a TOSS program error.
    fn from_program(e: TossError) -> Self {
        match e {
            TossError::AlreadySettled => Outcome::AlreadySettled,
            TossError::Expired => Outcome::Expired,
            TossError::InsufficientEscrowFunds => Outcome::InsufficientFunds,
            TossError::NonceConflict => Outcome::Conflict,
            // The escrow (or its token account) is not opened yet: the
            // payer can still open and fund it.
            TossError::NotInitialized => Outcome::Waiting {
                reason: "the payer's escrow for this currency is not open yet; the payer can still open and fund it".into(),
            },
            e => Outcome::Invalid {
                reason: e.to_string(),
            },
        }
    }
}

/// Why a settlement run stopped; the intents it did not reach stay waiting.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cluster stayed out of reach through every retry.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// The cluster answered a read with a refusal: the intent stays waiting.
    #[error("the cluster refused to read {what}: {reason}")]
    Read {
        /// What was being read (a settlement record, by address).
        what: String,
        /// The cluster's refusal, in its words.
        reason: String,
    },
}

impl SettleError {
    /// The cluster being out of reach, when that is what this is.
    pub fn unreachable(&self) -> Option<&Unreachable> {
        match self {
            SettleError::Unreachable(u) => Some(u),
            _ => None,
        }
    }
}

/// Progress reports for the UI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Progress {
    /// The background loop found the cluster reachable (`true`) or not.
    Connectivity {
        /// Whether the cluster answered.
        online: bool,
    },
    /// Expired intents marked, old finished ones deleted.
    CleanedUp {
        /// Intents newly marked expired.
        expired: usize,
        /// Finished intents deleted past the retention period.
        deleted: usize,
    },
    /// Confidential submission was asked for but these intents are settled
    /// directly, for this reason.
    Downgraded {
        /// Why the intents cannot go through the MXE.
        reason: String,
    },
    /// A settlement round began.
    Started {
        /// Intents waiting in this round.
        intents: usize,
    },
    /// A transaction is being sent.
    Submitting {
        /// Intents in this transaction.
        intents: usize,
    },
    /// The cluster could not be reached; the call is tried again.
    Retrying {
        /// Milliseconds until the next attempt.
        after_ms: u64,
        /// The network failure, with RPC addresses redacted.
        error: String,
    },
    /// Settlement records of expired intents were closed, their rent back.
    Reclaimed {
        /// What was closed and given back.
        reclaimed: Reclaimed,
    },
    /// One intent got its outcome (final, or waiting to be tried again).
    Resolved {
        /// The intent id, hex.
        id: String,
        /// What the chain decided.
        outcome: Outcome,
    },
}

impl Outcome {
    /// The outcome in words, as `toss settle` and the app show it.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Settled { signature } => format!("settled in {signature}"),
            Outcome::AlreadySettled => "already settled".into(),
            Outcome::Expired => "expired".into(),
            Outcome::InsufficientFunds => {
                "waiting: the payer's escrow could not cover it; tried again until it expires (the payer can deposit more)".into()
            }
            Outcome::Waiting { reason } => {
                format!("waiting: {reason}; tried again until it expires")
            }
            Outcome::Conflict => "conflict: another intent with this nonce settled first".into(),
            Outcome::Invalid { reason } => format!("refused: {reason}"),
        }
    }

    /// Whether the payee was paid (now or earlier).
    pub fn paid(&self) -> bool {
        matches!(self, Outcome::Settled { .. } | Outcome::AlreadySettled)
    }
}

impl Progress {
    /// The step in words, as `toss settle` and the app show it; `None`
    /// when there is nothing worth saying (a cleanup that changed nothing).
    pub fn describe(&self) -> Option<String> {
        Some(match self {
            Progress::Connectivity { online: true } => "The cluster is reachable.".into(),
            Progress::Connectivity { online: false } => {
                "The cluster cannot be reached; payments wait until it can.".into()
            }
            Progress::CleanedUp { expired, deleted } if expired + deleted > 0 => {
                format!(
                    "{} expired, {} removed.",
                    counted(*expired as u64, "payment"),
                    count(*deleted as u64, "old one", "old ones")
                )
            }
            Progress::CleanedUp { .. } => return None,
            Progress::Downgraded { reason } => {
                format!("Settling without confidentiality: {reason}")
            }
            Progress::Started { intents } => {
                format!("Settling {}…", counted(*intents as u64, "payment"))
            }
            Progress::Submitting { intents } => {
                format!(
                    "Sending {} to the cluster…",
                    counted(*intents as u64, "payment")
                )
            }
            Progress::Retrying { after_ms, error } => format!(
                "The cluster did not answer ({error}); trying again in {} s…",
                after_ms.div_ceil(1000)
            ),
            Progress::Reclaimed { reclaimed } => return reclaimed.describe(),
            Progress::Resolved { id, outcome } => format!(
                "Payment {}: {}",
                id.get(..16).unwrap_or(id),
                outcome.describe()
            ),
        })
    }
}

/// How a settlement run ended, in one sentence.
pub fn summary(results: &[([u8; 32], Outcome)]) -> String {
    let paid = results.iter().filter(|(_, o)| o.paid()).count();
    let waiting = results.iter().filter(|(_, o)| !o.is_final()).count();
    match (results.len(), waiting) {
        (0, _) => "Nothing was waiting to settle.".into(),
        (n, 0) => format!(
            "Done: {paid} of {} paid on-chain.",
            counted(n as u64, "payment")
        ),
        (n, w) => format!(
            "Done: {paid} of {} paid on-chain; {w} still waiting, tried again until they expire.",
            counted(n as u64, "payment")
        ),
    }
}

/// The settlement engine for one wallet.
#[derive(Debug)]
pub struct Engine<C> {
    chain: C,
    program_id: Pubkey,
    fee_payer: Keypair,
    backoff: Backoff,
    /// ARCIUM_MXE_PROGRAM_ID: confidential submission asked for.
    mxe: Option<Pubkey>,
    /// Who checks the payers' signatures (TOSS_SIGNATURE_CHECK).
    check: SignatureCheck,
    /// The cluster refused the precompile this run: `Auto` now uses the
    /// program's own check.
    precompile_gone: std::cell::Cell<bool>,
    /// `Auto`'s choice for this round: whether the program checks the
    /// signatures (the path the cluster charges less for).
    program_cheaper: std::cell::Cell<bool>,
}

/// Who checks payers' Ed25519 signatures when a batch settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureCheck {
    /// Whichever check the cluster charges less for, asked each round
    /// (`getFeeForMessage` for one payment each way). Today that is the
    /// program's own: a cluster charges 5,000 lamports for every signature
    /// the precompile checks, which would make each payment cost more than
    /// a plain transfer (docs/settlement.md). The precompile where it costs
    /// less (a cluster pricing compute units above signatures) until the
    /// cluster refuses it (SIMD-0568 proposes switching precompiles off).
    #[default]
    Auto,
    /// Always the Ed25519 precompile.
    Precompile,
    /// Always the program's own check (about 36,000 compute units more per
    /// intent, no per-intent signature fee).
    Program,
}

impl SignatureCheck {
    /// The accepted setting values, for messages that list them.
    pub const ALLOWED: &'static str = "auto (whichever the cluster charges less for), precompile, or program (the program checks them itself)";

    pub(crate) fn parse(v: &str) -> Option<Self> {
        match v.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "precompile" => Some(Self::Precompile),
            "program" => Some(Self::Program),
            _ => None,
        }
    }
}

/// Whether a refusal says the cluster has no Ed25519 precompile (its
/// instruction, the first, names a program the cluster does not run).
fn precompile_missing(e: &TransactionError) -> bool {
    use solana_program::instruction::InstructionError;
    matches!(
        e,
        TransactionError::ProgramAccountNotFound
            | TransactionError::InvalidProgramForExecution
            | TransactionError::InstructionError(0, InstructionError::UnsupportedProgramId)
    )
}

impl<C: Chain> Engine<C> {
    /// `fee_payer` pays fees and settlement record rent (normally the merchant's key).
    pub fn new(chain: C, program_id: Pubkey, fee_payer: &SigningKey, backoff: Backoff) -> Self {
        Self {
            chain,
            program_id,
            fee_payer: Keypair::new_from_array(fee_payer.to_bytes()),
            backoff,
            mxe: None,
            check: SignatureCheck::Auto,
            precompile_gone: std::cell::Cell::new(false),
            program_cheaper: std::cell::Cell::new(true),
        }
    }

    /// Who checks the payers' signatures (TOSS_SIGNATURE_CHECK).
    pub fn with_signature_check(mut self, check: SignatureCheck) -> Self {
        self.check = check;
        self
    }

    /// Whether batches go without the precompile, the program checking
    /// each signature.
    fn program_checks(&self) -> bool {
        match self.check {
            SignatureCheck::Program => true,
            SignatureCheck::Precompile => false,
            SignatureCheck::Auto => self.precompile_gone.get() || self.program_cheaper.get(),
        }
    }

    /// What the cluster says a transaction of `ixs` would cost, asked once:
    /// a quote is a preference, never a reason to wait or to stop, so a
    /// cluster that cannot say (no such method, an unknown blockhash, no
    /// answer) gives `None` at once.
    async fn quote(&self, ixs: &[solana_program::instruction::Instruction]) -> Option<u64> {
        let blockhash = self.chain.latest_blockhash().await.ok()?;
        let mut tx = Transaction::new_with_payer(ixs, Some(&self.fee_payer.pubkey()));
        tx.message.recent_blockhash = blockhash;
        self.chain.fee(&tx).await.ok()
    }

    /// `Auto`: asks the cluster what one payment (`sample`) costs each way
    /// and takes the cheaper for this round; the precompile when they cost
    /// the same, since it takes fewer compute units; the program's check
    /// when the cluster cannot quote, since it needs nothing the cluster
    /// may lack.
    async fn choose_check(&self, sample: &StoredIntent) -> Result<(), StoreError> {
        if self.check != SignatureCheck::Auto || self.precompile_gone.get() {
            return Ok(());
        }
        let mut fees = [None; 2];
        for (fee, by_program) in fees.iter_mut().zip([false, true]) {
            self.program_cheaper.set(by_program);
            *fee = self
                .quote(&self.instructions(std::slice::from_ref(sample))?)
                .await;
        }
        let program_cheaper = match fees {
            [Some(precompile), Some(program)] => {
                tracing::debug!(precompile, program, "the fee of one payment each way");
                program < precompile
            }
            _ => {
                tracing::warn!("the cluster quoted no fee: the program checks signatures");
                true
            }
        };
        self.program_cheaper.set(program_cheaper);
        Ok(())
    }

    /// Where the settle instruction sits in a batch's transaction.
    fn settle_ix(&self) -> usize {
        match self.program_checks() {
            true => 0,
            false => SETTLE_IX,
        }
    }

    /// Asks for confidential submission through the Arcium MXE of
    /// `mxe_program_id` (module `confidential`). Until a TOSS computation
    /// exists on an MXE every such settlement is a recorded downgrade.
    pub fn with_mxe(mut self, mxe_program_id: Option<Pubkey>) -> Self {
        self.mxe = mxe_program_id;
        self
    }

    /// Why these intents go out without confidentiality, recorded as the
    /// seed asks ("log confidentiality level downgrade, alert monitoring").
    async fn downgrade(
        &self,
        mxe: &Pubkey,
        intents: usize,
        store: &mut Store,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), StoreError> {
        use crate::confidential::{ARCIUM_PROGRAM_ID, mxe_account, parse_mxe_key};
        let reason = match self.chain.account(mxe_account(mxe)).await {
            Err(e) => format!("the MXE could not be read ({e})"),
            Ok(None) => "the MXE has no account on this cluster".to_owned(),
            Ok(Some(a)) if a.owner != ARCIUM_PROGRAM_ID => {
                "the MXE account is not owned by Arcium's program".to_owned()
            }
            Ok(Some(a)) => match parse_mxe_key(&a.data) {
                Err(e) => e.to_string(),
                Ok(_) => "the MXE is ready, but no TOSS computation is deployed on it to submit to"
                    .to_owned(),
            },
        };
        tracing::warn!(%mxe, intents, %reason, "confidentiality downgraded: settling directly");
        store.bump(Counter::ConfidentialityDowngrades, intents as i64)?;
        progress(Progress::Downgraded { reason });
        Ok(())
    }

    /// Settles every intent waiting in the store (received ones, and sent
    /// ones already handed to the payee: whoever is online first settles),
    /// recording each outcome. Intents left unresolved by an unreachable
    /// cluster stay as they were and are taken up by the next run.
    pub async fn settle_all(
        &self,
        store: &mut Store,
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<([u8; 32], Outcome)>, SettleError> {
        let waiting = store.awaiting_settlement()?;
        self.settle(store, waiting, now, progress).await
    }

    /// Settles the waiting intents among `ids`.
    pub async fn settle_ids(
        &self,
        store: &mut Store,
        ids: &[[u8; 32]],
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<([u8; 32], Outcome)>, SettleError> {
        let waiting = store
            .awaiting_settlement()?
            .into_iter()
            .filter(|s| ids.contains(&s.id))
            .collect();
        self.settle(store, waiting, now, progress).await
    }

    /// Settles `waiting`, counting a round the cluster could not be
    /// reached through (after its retries) as a network error.
    async fn settle(
        &self,
        store: &mut Store,
        waiting: Vec<StoredIntent>,
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<([u8; 32], Outcome)>, SettleError> {
        let result = self.settle_round(store, waiting, now, progress).await;
        if let Err(SettleError::Unreachable(_) | SettleError::Read { .. }) = &result {
            store.bump(Counter::NetworkErrors, 1)?;
        }
        result
    }

    async fn settle_round(
        &self,
        store: &mut Store,
        waiting: Vec<StoredIntent>,
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<([u8; 32], Outcome)>, SettleError> {
        progress(Progress::Started {
            intents: waiting.len(),
        });
        let mut results = Vec::new();
        let (mut to_submit, mut durable) = (Vec::new(), Vec::new());
        for stored in waiting {
            let known = match self.already_on_chain(&stored, progress).await? {
                Some(outcome) => Some(outcome),
                None => self.landed(&stored, progress).await?,
            };
            if let Some(outcome) = known {
                results.push(self.resolve(store, &stored, outcome, now, progress)?);
            } else if stored.signed.intent.durable_nonce.is_some() {
                durable.push(stored);
            } else {
                to_submit.push(stored);
            }
        }
        if let Some(mxe) = &self.mxe
            && !(to_submit.is_empty() && durable.is_empty())
        {
            self.downgrade(mxe, to_submit.len() + durable.len(), store, progress)
                .await?;
        }
        for stored in durable {
            store.append(&stored.id, State::Submitted, None, now)?;
            let outcome = self.submit_durable(&stored, progress).await?;
            results.push(self.resolve(store, &stored, outcome, now, progress)?);
        }
        let (to_submit, no_account) = self.open_payee_accounts(to_submit, progress).await?;
        for (stored, reason) in no_account {
            let waiting = Outcome::Waiting { reason };
            results.push(self.resolve(store, &stored, waiting, now, progress)?);
        }
        if let Some(sample) = to_submit.first() {
            self.choose_check(sample).await?;
        }
        for batch in self.batches(&to_submit)? {
            if let Some(reason) = self.fee_payer_short(batch, progress).await? {
                // Nothing is sent: the fee would be charged for a refusal.
                for s in batch {
                    let waiting = Outcome::Waiting {
                        reason: reason.clone(),
                    };
                    results.push(self.resolve(store, s, waiting, now, progress)?);
                }
                continue;
            }
            for (stored, outcome) in self.submit_batch(batch, store, now, progress).await? {
                results.push(self.resolve(store, stored, outcome, now, progress)?);
            }
        }
        Ok(results)
    }

    /// Token payments go to the payee's associated token account: those
    /// that do not exist yet are opened first, idempotently, in one
    /// transaction whose rent the fee payer pays once per payee and mint.
    /// Returns the intents ready to settle, and those that must wait
    /// because their account could not be opened, with why.
    async fn open_payee_accounts(
        &self,
        intents: Vec<StoredIntent>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Vec<StoredIntent>, Vec<(StoredIntent, String)>), SettleError> {
        let mut missing: Vec<(Pubkey, Pubkey)> = Vec::new();
        for s in &intents {
            let i = &s.signed.intent;
            let Some(mint) = i.mint else { continue };
            if missing.contains(&(i.payee, mint)) {
                continue;
            }
            let account = associated_token_account(&i.payee, &mint);
            let found = self
                .read(
                    &format!("the payee's token account {account}"),
                    || self.chain.account(account),
                    progress,
                )
                .await?;
            if found.is_none() {
                missing.push((i.payee, mint));
            }
        }
        if missing.is_empty() {
            return Ok((intents, Vec::new()));
        }
        let me = self.fee_payer.pubkey();
        let ixs: Vec<_> = missing
            .iter()
            .map(|(owner, mint)| create_associated_token_account(&me, owner, mint))
            .collect();
        let sent = self.send(&ixs, progress, &mut |_| {}).await?;
        let refusal = match sent {
            Ok(signature) => {
                tracing::info!(%signature, accounts = missing.len(), "payee token accounts opened");
                return Ok((intents, Vec::new()));
            }
            Err(e) => e,
        };
        let reason = format!(
            "the payee's token account could not be opened ({refusal}): the fee payer pays its rent once (0.00203928 SOL) and may be short"
        );
        let (ready, waiting): (Vec<_>, Vec<_>) = intents.into_iter().partition(|s| {
            let i = &s.signed.intent;
            i.mint.is_none_or(|m| !missing.contains(&(i.payee, m)))
        });
        Ok((
            ready,
            waiting.into_iter().map(|s| (s, reason.clone())).collect(),
        ))
    }

    /// Whether an earlier transaction of this intent's landed (its
    /// confirmation lost, and its settlement record since closed): the
    /// signatures kept when it was submitted, asked about one by one in
    /// the cluster's history.
    async fn landed(
        &self,
        stored: &StoredIntent,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<Outcome>, SettleError> {
        let sent = stored
            .history
            .iter()
            .filter(|e| e.state == State::Submitted)
            .filter_map(|e| e.detail.as_deref()?.strip_prefix(SUBMITTED_IN));
        for text in sent {
            let Ok(signature) = text.parse::<solana_signature::Signature>() else {
                continue;
            };
            let status = self
                .read(
                    &format!("the status of transaction {text}"),
                    || self.chain.signature_status(&signature),
                    progress,
                )
                .await?;
            if let Some(Ok(())) = status {
                return Ok(Some(Outcome::Settled {
                    signature: text.to_owned(),
                }));
            }
        }
        Ok(None)
    }

    /// Sends `ixs` with the fee payer signing, never twice (`send_once`);
    /// `on_signed` hears each transaction's signature before it goes.
    async fn send(
        &self,
        ixs: &[solana_program::instruction::Instruction],
        progress: &mut dyn FnMut(Progress),
        on_signed: &mut dyn FnMut(&str),
    ) -> Result<Result<String, TransactionError>, Unreachable> {
        send_once(
            &self.chain,
            self.backoff,
            ixs,
            &[&self.fee_payer],
            &mut retry_events(progress),
            on_signed,
        )
        .await
    }

    /// Reads through the retry policy; a refusal to answer is a `Read` error.
    async fn read<T, F>(
        &self,
        what: &str,
        call: impl Fn() -> F,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<T, SettleError>
    where
        F: std::future::Future<Output = Result<T, crate::chain::ChainError>>,
    {
        retrying(self.backoff, call, &mut retry_events(progress))
            .await?
            .map_err(|e| SettleError::Read {
                what: what.to_owned(),
                reason: e.to_string(),
            })
    }

    /// Why the fee payer cannot pay for settling `batch` (its fees, a
    /// settlement record's rent per intent, and the rent-exempt minimum it
    /// must keep), with how much more it needs; `None` when it can.
    async fn fee_payer_short(
        &self,
        batch: &[StoredIntent],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<String>, SettleError> {
        let payer = self.fee_payer.pubkey();
        let n = batch.len() as u64;
        let record_rent = self
            .read(
                "the rent of a settlement record",
                || self.chain.rent_exemption(SettlementRecord::LEN),
                progress,
            )
            .await?;
        let keep = self
            .read(
                "the rent-exempt minimum",
                || self.chain.rent_exemption(0),
                progress,
            )
            .await?;
        let balance = self
            .read(
                "the fee payer's balance",
                || self.chain.account(payer),
                progress,
            )
            .await?
            .map_or(0, |a| a.lamports);
        let mut cost = settlement_cost(batch.len(), record_rent, self.program_checks());
        // Where the cluster charges more than signatures (compute, a
        // priority), its own quote for this very batch is what is shown.
        if let Some(quoted) = self.quote(&self.instructions(batch)?).await {
            cost.fees = cost.fees.max(quoted);
        }
        let need = cost.total().saturating_add(keep);
        if balance >= need {
            return Ok(None);
        }
        let sol = |l: u64| {
            format!(
                "{} SOL",
                crate::amount::format(l, crate::amount::SOL_DECIMALS)
            )
        };
        Ok(Some(format!(
            "the fee payer {payer} holds {}; settling {} takes {} ({} in fees, {} in settlement-record rent, returned when the record is closed) and it must keep {}: it needs {} more",
            sol(balance),
            counted(n, "payment"),
            sol(cost.total()),
            sol(cost.fees),
            sol(cost.rent),
            sol(keep),
            sol(need - balance),
        )))
    }

    /// The outcome an existing settlement record implies, or `None` when the intent is
    /// not on chain yet.
    async fn already_on_chain(
        &self,
        stored: &StoredIntent,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<Outcome>, SettleError> {
        let i = &stored.signed.intent;
        let record = record_address(&self.program_id, &i.payer, i.nonce).0;
        let account = self
            .read(
                &format!("the settlement record {record}"),
                || self.chain.account(record),
                progress,
            )
            .await?;
        Ok(account
            .and_then(|a| SettlementRecord::unpack(&a.data).ok())
            .map(|r| {
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
                store.record_settlement(&stored.id, signature, None, now)?;
                Some(format!("transaction {signature}"))
            }
            Outcome::Invalid { .. } | Outcome::Waiting { .. } | Outcome::InsufficientFunds => {
                Some(outcome.describe())
            }
            _ => None,
        };
        store.append(&stored.id, outcome.state(), detail.as_deref(), now)?;
        if let Some(nonce) = &stored.signed.intent.durable_nonce {
            // Its value is spent (or stale); the pool reads a fresh one.
            store.nonce_used(&nonce.account, now)?;
        }
        match outcome.state() {
            State::Settled => {
                store.bump(Counter::IntentsSettled, 1)?;
                let waited = now - i64::from(stored.signed.intent.created_at);
                store.bump(Counter::SettlementSeconds, waited.max(0))?;
            }
            State::Deferred => {}
            _ => store.bump(Counter::IntentsNotSettled, 1)?,
        }
        tracing::info!(id = %hex::encode(stored.id), ?outcome, "intent resolved");
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
        let tx = Transaction::new_signed_with_payer(
            &self.instructions(intents)?,
            Some(&self.fee_payer.pubkey()),
            &[&self.fee_payer],
            Hash::default(),
        );
        Ok(bincode::serialized_size(&tx).is_ok_and(|size| size <= MAX_TX_BYTES))
    }

    fn instructions(
        &self,
        intents: &[StoredIntent],
    ) -> Result<Vec<solana_program::instruction::Instruction>, StoreError> {
        let signed: Vec<&SignedIntent> = intents.iter().map(|s| &s.signed).collect();
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
        // What the batch needs, measured, not the default 200,000 per
        // instruction (docs/program.md, "Compute units").
        let by_program = self.program_checks();
        let units = ix::settle_compute_units(&self.program_id, &signed, by_program);
        let limit = ix::compute_unit_limit(units);
        let corrupt = |e: crate::intent::IntentError| StoreError::Corrupt(e.to_string());
        if by_program {
            let settle = ix::settle_signed(&self.program_id, &self.fee_payer.pubkey(), &items)
                .map_err(corrupt)?;
            return Ok(vec![settle, limit]);
        }
        let check = ix::ed25519_check(&signed).map_err(corrupt)?;
        let settle = ix::settle(&self.program_id, &self.fee_payer.pubkey(), &items, 0);
        Ok(vec![check, settle, limit])
    }

    /// Submits one batch; a refused batch of several is split in halves
    /// until every intent has its own outcome.
    /// Each transaction's signature is kept in the intents' history
    /// (`submitted`, "transaction …") before it is sent, so a confirmation
    /// lost to a crash or a timeout is found again ([`Self::landed`]).
    async fn submit_batch<'a>(
        &self,
        batch: &'a [StoredIntent],
        store: &mut Store,
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<(&'a StoredIntent, Outcome)>, SettleError> {
        let mut queue = vec![batch];
        let mut out = Vec::new();
        while let Some(part) = queue.pop() {
            progress(Progress::Submitting {
                intents: part.len(),
            });
            let ixs = self.instructions(part)?;
            let mut kept: Result<(), StoreError> = Ok(());
            let sent = self
                .send(&ixs, progress, &mut |signature| {
                    let detail = format!("{SUBMITTED_IN}{signature}");
                    for s in part {
                        if kept.is_ok() {
                            kept = store.append(&s.id, State::Submitted, Some(&detail), now);
                        }
                    }
                })
                .await?;
            kept?;
            match sent {
                Ok(signature) => out.extend(part.iter().map(|s| {
                    let outcome = Outcome::Settled {
                        signature: signature.clone(),
                    };
                    (s, outcome)
                })),
                // No precompile on this cluster: the same batch again, the
                // program checking the signatures.
                Err(e)
                    if self.check == SignatureCheck::Auto
                        && !self.precompile_gone.get()
                        && precompile_missing(&e) =>
                {
                    tracing::warn!(error = %e, "the cluster refused the Ed25519 precompile: the program checks signatures from now on");
                    self.precompile_gone.set(true);
                    queue.push(part);
                }
                Err(_) if part.len() > 1 => {
                    let (a, b) = part.split_at(part.len() / 2);
                    queue.push(b);
                    queue.push(a);
                }
                Err(e) => out.push((&part[0], classify(e, self.settle_ix()))),
            }
        }
        Ok(out)
    }

    /// Submits the transaction the payer signed offline. Once its nonce has
    /// advanced the cluster no longer knows its "blockhash": the settlement record then
    /// says whether this transaction (an earlier attempt) or another one
    /// used it.
    async fn submit_durable(
        &self,
        stored: &StoredIntent,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Outcome, SettleError> {
        let Some(tx_signature) = &stored.tx_signature else {
            return Ok(Outcome::Invalid {
                reason: durable::DurableError::MissingTransactionSignature.to_string(),
            });
        };
        let tx = match durable::transaction(&stored.signed, tx_signature) {
            Ok(tx) => tx,
            Err(e) => {
                return Ok(Outcome::Invalid {
                    reason: e.to_string(),
                });
            }
        };
        progress(Progress::Submitting { intents: 1 });
        let signature = tx.signatures[0].to_string();
        let sent = retrying(
            self.backoff,
            || submit_presigned(&self.chain, tx.clone(), &signature),
            &mut retry_events(progress),
        )
        .await?;
        Ok(match sent {
            Ok(signature) => Outcome::Settled { signature },
            Err(TransactionError::BlockhashNotFound) => {
                match self.already_on_chain(stored, progress).await? {
                    Some(outcome) => outcome,
                    // An earlier attempt may have run and failed (its answer
                    // lost): its own error is the outcome.
                    None => match self.chain.signature_status(&tx.signatures[0]).await {
                        Ok(Some(Err(e))) => classify(e, SETTLE_DURABLE_IX),
                        _ => Outcome::Invalid {
                            reason: "the payer's durable nonce advanced before this intent settled"
                                .into(),
                        },
                    },
                }
            }
            Err(e) => classify(e, SETTLE_DURABLE_IX),
        })
    }
}

impl<C: Chain> Engine<C> {
    /// Reads the escrow of every payer this wallet holds unsettled
    /// payments from, and keeps what it read (balance, pending withdrawal)
    /// for the till's offline check (`sale::Till::take` refuses a payer
    /// whose escrow has a withdrawal armed or too little left). An escrow
    /// that cannot be read (not opened, another program's) is left as last
    /// read. Returns how many were read.
    pub async fn watch_payers(&self, store: &mut Store, now: i64) -> Result<usize, SettleError> {
        // Those read before (a deposit since is seen), and every payer
        // whose payments wait here.
        let mut payers: Vec<(Pubkey, Option<Pubkey>)> = store.escrows_read(&self.program_id)?;
        for s in store.awaiting_settlement()? {
            let i = &s.signed.intent;
            if s.direction == crate::store::Direction::Received
                && i.durable_nonce.is_none()
                && !payers.contains(&(i.payer, i.mint))
            {
                payers.push((i.payer, i.mint));
            }
        }
        let mut read = 0;
        for (payer, mint) in payers {
            let escrow = crate::escrow::Escrow {
                chain: &self.chain,
                backoff: self.backoff,
                program_id: self.program_id,
                mint,
            };
            match escrow.refresh(store, &payer, now).await {
                Ok(_) => read += 1,
                Err(crate::escrow::EscrowError::Store(e)) => return Err(e.into()),
                Err(e) => match e.unreachable() {
                    Some(u) => return Err(SettleError::Unreachable(u.clone())),
                    None => {
                        tracing::info!(%payer, error = %e, "a payer's escrow could not be read")
                    }
                },
            }
        }
        Ok(read)
    }
}

/// Records closed in one transaction (two accounts each).
const CLOSES_PER_TX: usize = 16;

/// What one rent reclaim gave back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reclaimed {
    /// Settlement records closed.
    pub records: usize,
    /// Their rent, now back with the fee payer, in lamports.
    pub lamports: u64,
    /// Fees the closing transactions cost, in lamports.
    pub fees: u64,
}

impl Reclaimed {
    /// The reclaim in words; `None` when nothing was closed.
    pub fn describe(&self) -> Option<String> {
        let sol = |l: u64| crate::amount::format(l, crate::amount::SOL_DECIMALS);
        (self.records > 0).then(|| {
            format!(
                "{} closed: {} SOL of rent back, for {} SOL in fees.",
                counted(self.records as u64, "settlement record"),
                sol(self.lamports),
                sol(self.fees)
            )
        })
    }
}

impl<C: Chain> Engine<C> {
    /// Gives back the rent of the settlement records this fee payer paid
    /// for, once their intents expired (no intent can settle on them any
    /// more): each record is read first, those already gone or whose rent
    /// someone else paid are only noted, the rest are closed, several per
    /// transaction. A close the program refuses (the cluster's clock not
    /// yet past the expiry) is left for a later run.
    pub async fn reclaim_rent(
        &self,
        store: &mut Store,
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Reclaimed, SettleError> {
        let me = self.fee_payer.pubkey();
        let mut closing = Vec::new();
        for (id, payer, nonce) in store.records_to_close(now)? {
            let record = record_address(&self.program_id, &payer, nonce).0;
            let account = self
                .read(
                    &format!("the settlement record {record}"),
                    || self.chain.account(record),
                    progress,
                )
                .await?;
            match account.map(|a| (SettlementRecord::unpack(&a.data), a.lamports)) {
                Some((Ok(r), lamports)) if r.intent_id == id && r.rent_payer == me => {
                    closing.push((id, record, lamports));
                }
                // Gone already, or not this fee payer's rent to take back.
                _ => store.record_closed(&id, now)?,
            }
        }
        let mut done = Reclaimed::default();
        for chunk in closing.chunks(CLOSES_PER_TX) {
            let ixs: Vec<_> = chunk
                .iter()
                .map(|(_, record, _)| ix::close_record(&self.program_id, record, &me))
                .collect();
            let sent = self.send(&ixs, progress, &mut |_| {}).await?;
            match sent {
                Ok(signature) => {
                    for (id, _, lamports) in chunk {
                        store.record_closed(id, now)?;
                        done.records += 1;
                        done.lamports = done.lamports.saturating_add(*lamports);
                    }
                    done.fees += LAMPORTS_PER_SIGNATURE;
                    tracing::info!(%signature, records = chunk.len(), "settlement records closed");
                }
                Err(e) => {
                    tracing::info!(error = %e, "settlement records not closed yet; tried again later")
                }
            }
        }
        store.bump(Counter::RecordsClosed, done.records as i64)?;
        store.bump(Counter::RentReclaimed, done.lamports as i64)?;
        if done.records > 0 {
            progress(Progress::Reclaimed { reclaimed: done });
        }
        Ok(done)
    }
}

/// When the background loop runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// How often to look for waiting intents and a reachable cluster.
    pub every: Duration,
    /// How often to run the store's expiry cleanup (also run at start).
    pub cleanup_every: Duration,
    /// How long finished intents are kept after they expire.
    pub retention_seconds: i64,
}

impl<C: Chain> Engine<C> {
    /// One cheap call, no retries: is the cluster there?
    pub async fn reachable(&self) -> bool {
        self.chain.latest_blockhash().await.is_ok()
    }

    /// Settles in the background until `wake` is closed: at start, then
    /// every `schedule.every` while intents wait and the cluster answers
    /// (so settlement follows connectivity's return within one period), and
    /// at once whenever `wake` receives (the UI's "Settle now", a network
    /// change). Cleanup runs at start and every `cleanup_every`. An
    /// unreachable cluster is not an error here: the loop waits and tries
    /// again; a store failure ends it.
    pub async fn keep_settling(
        &self,
        store: &mut Store,
        schedule: Schedule,
        wake: &mut tokio::sync::mpsc::Receiver<()>,
        clock: &dyn Fn() -> i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), StoreError> {
        let mut online = None;
        let mut next_cleanup = clock();
        loop {
            let now = clock();
            if now >= next_cleanup {
                let (expired, deleted) = store.cleanup(now, schedule.retention_seconds)?;
                progress(Progress::CleanedUp { expired, deleted });
                next_cleanup = now.saturating_add(schedule.cleanup_every.as_secs() as i64);
            }
            let waiting = store.awaiting_settlement()?;
            let closable = !store.records_to_close(now)?.is_empty();
            if !waiting.is_empty() || closable {
                let reachable = self.reachable().await;
                if online != Some(reachable) {
                    online = Some(reachable);
                    progress(Progress::Connectivity { online: reachable });
                }
                if reachable {
                    match self.round(store, waiting, now, progress).await {
                        Ok(()) => {}
                        Err(SettleError::Store(e)) => return Err(e),
                        Err(SettleError::Unreachable(_) | SettleError::Read { .. }) => {
                            online = Some(false);
                            progress(Progress::Connectivity { online: false });
                        }
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(schedule.every) => {}
                woken = wake.recv() => if woken.is_none() { return Ok(()) },
            }
        }
    }
}

/// How a submission's history entry names its transaction.
const SUBMITTED_IN: &str = "transaction ";

/// Lamports per signature the cluster charges (each transaction signature
/// and each signature the Ed25519 precompile checks).
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// What settling costs the fee payer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// Transaction fees, spent.
    pub fees: u64,
    /// Settlement-record rent, held until the record is closed.
    pub rent: u64,
}

impl Cost {
    /// Fees and rent together.
    pub fn total(&self) -> u64 {
        self.fees.saturating_add(self.rent)
    }
}

/// The cost of one transaction settling `intents` escrow intents: one
/// signature for the fee payer, one more per intent when the precompile
/// checks them (not when `program_checks`), and a settlement record of
/// `record_rent` lamports per intent.
pub fn settlement_cost(intents: usize, record_rent: u64, program_checks: bool) -> Cost {
    let n = intents as u64;
    let checked = if program_checks { 0 } else { n };
    Cost {
        fees: LAMPORTS_PER_SIGNATURE.saturating_mul(checked + 1),
        rent: record_rent.saturating_mul(n),
    }
}

impl<C: Chain> Engine<C> {
    /// One online round of the background loop: what waits is settled,
    /// then the rent of expired intents' records is taken back.
    async fn round(
        &self,
        store: &mut Store,
        waiting: Vec<StoredIntent>,
        now: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), SettleError> {
        if !waiting.is_empty() {
            self.settle(store, waiting, now, progress).await?;
        }
        self.reclaim_rent(store, now, progress).await?;
        self.watch_payers(store, now).await?;
        Ok(())
    }
}

/// Network retries as progress events.
fn retry_events(progress: &mut dyn FnMut(Progress)) -> impl FnMut(Duration, &str) + '_ {
    |delay, error| {
        progress(Progress::Retrying {
            after_ms: delay.as_millis() as u64,
            error: error.to_owned(),
        })
    }
}

/// Where the TOSS instruction sits: after the signature check in an escrow
/// settlement, after the nonce advance and the check in a durable one.
const SETTLE_IX: usize = 1;
const SETTLE_DURABLE_IX: usize = 2;

/// The outcome of a refused transaction holding a single intent. Only
/// what can never succeed is final: a shortage of SOL or tokens, or an
/// account a called program refused, can recover.
fn classify(e: TransactionError, toss_ix: usize) -> Outcome {
    let waiting = |reason: String| Outcome::Waiting { reason };
    match (&e, program_error(&e, toss_ix)) {
        (_, Some(code)) => match TossError::from_code(code) {
            Some(toss) => Outcome::from_program(toss),
            // Not TOSS's code: a program the settlement calls refused.
            None => waiting(format!(
                "a program the settlement calls refused it (custom error {code}: from the system program, the fee payer has too little SOL for the settlement record's rent; from the token program, an account is short of tokens or frozen)"
            )),
        },
        (TransactionError::InsufficientFundsForFee, _) => {
            waiting("the fee payer has too little SOL to pay the transaction fee".into())
        }
        (TransactionError::InsufficientFundsForRent { .. }, _) => waiting(
            "an account would be left below the rent-exempt minimum: the fee payer needs more SOL, or a SOL payment to an empty wallet must be at least that minimum (0.00089088 SOL)"
                .into(),
        ),
        _ => Outcome::Invalid {
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_program::instruction::InstructionError;

    #[test]
    fn a_refusal_is_read_by_the_instruction_and_program_that_made_it() {
        let at = |i: u8, code: u32| {
            classify(
                TransactionError::InstructionError(i, InstructionError::Custom(code)),
                SETTLE_IX,
            )
        };
        // TOSS's own codes, at its instruction.
        assert_eq!(
            at(1, TossError::InsufficientEscrowFunds.code()),
            Outcome::InsufficientFunds
        );
        assert_eq!(at(1, TossError::Expired.code()), Outcome::Expired);
        assert!(matches!(
            at(1, TossError::WrongPayee.code()),
            Outcome::Invalid { .. }
        ));
        // System error 1 (too few lamports) raised inside the settlement is
        // not "the intent is malformed": the fee payer can be funded.
        let Outcome::Waiting { reason } = at(1, 1) else {
            panic!("a called program's code is not final")
        };
        assert!(
            reason.contains("the fee payer has too little SOL"),
            "{reason}"
        );
        // Token error 17 (a frozen account) is not a TOSS code either.
        assert!(matches!(at(1, 17), Outcome::Waiting { .. }));
        // A code from another instruction (the signature check) is final.
        assert!(matches!(at(0, 1), Outcome::Invalid { .. }));
        // Shortages at the transaction level wait too.
        for e in [
            TransactionError::InsufficientFundsForFee,
            TransactionError::InsufficientFundsForRent { account_index: 2 },
        ] {
            let o = classify(e, SETTLE_IX);
            assert!(!o.is_final(), "{o:?}");
        }
        assert!(Outcome::Expired.is_final() && Outcome::Conflict.is_final());
    }

    #[test]
    fn progress_and_outcomes_read_as_sentences_and_quiet_steps_say_nothing() {
        let said = |p: Progress| p.describe();
        assert_eq!(
            said(Progress::Retrying {
                after_ms: 1_500,
                error: "connection refused".into()
            })
            .as_deref(),
            Some("The cluster did not answer (connection refused); trying again in 2 s…")
        );
        assert_eq!(
            said(Progress::CleanedUp {
                expired: 0,
                deleted: 0
            }),
            None
        );
        assert_eq!(
            said(Progress::Resolved {
                id: "ab".repeat(32),
                outcome: Outcome::InsufficientFunds
            })
            .as_deref(),
            Some(
                "Payment abababababababab: waiting: the payer's escrow could not cover it; tried again until it expires (the payer can deposit more)"
            )
        );
        let settled = Outcome::Settled {
            signature: "5xyz".into(),
        };
        assert!(settled.paid() && Outcome::AlreadySettled.paid());
        assert!(!Outcome::Expired.paid() && !Outcome::Conflict.paid());
        assert_eq!(summary(&[]), "Nothing was waiting to settle.");
        assert_eq!(
            summary(&[([1; 32], settled), ([2; 32], Outcome::Expired)]),
            "Done: 1 of 2 payments paid on-chain."
        );
    }
}
