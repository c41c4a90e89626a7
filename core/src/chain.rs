//! The cluster, as every online operation sees it: a small trait over the
//! few JSON-RPC calls the wallet needs, the retry policy for network
//! failures, and the one way the wallet sends a transaction.
//!
//! Keeping the trait this narrow lets the settlement engine, the nonce pool
//! and escrow management run unchanged against a real RPC endpoint
//! ([`RpcChain`]) and against the Solana test runtime in tests.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

/// The signer of wallet transactions, for callers that do not depend on Solana's crates.
pub use solana_keypair::Keypair;
use solana_program::hash::Hash;
use solana_program::instruction::{Instruction, InstructionError};
use solana_program::pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use toss_program::error::TossError;

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

/// An account as the wallet reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Balance in lamports.
    pub lamports: u64,
    /// The program that owns the account (the system program for a wallet).
    pub owner: Pubkey,
    /// The account's raw data bytes.
    pub data: Vec<u8>,
}

/// What the wallet needs from a cluster.
pub trait Chain {
    /// The blockhash new transactions are built on.
    fn latest_blockhash(&self) -> impl Future<Output = Result<Hash, ChainError>>;
    /// Submits and waits for confirmation.
    fn submit(&self, tx: Transaction) -> impl Future<Output = Result<(), ChainError>>;
    /// The account at `key`; `None` if it does not exist.
    fn account(&self, key: Pubkey) -> impl Future<Output = Result<Option<Account>, ChainError>>;
    /// Lamports an account of `len` data bytes needs to be rent-exempt.
    fn rent_exemption(&self, len: usize) -> impl Future<Output = Result<u64, ChainError>>;
    /// Identifies the cluster: intents and escrows carry its first 8 bytes.
    fn genesis_hash(&self) -> impl Future<Output = Result<Hash, ChainError>>;
    /// What the cluster would charge to process `tx` (`getFeeForMessage`;
    /// its signatures are not needed, its blockhash must be recent).
    fn fee(&self, tx: &Transaction) -> impl Future<Output = Result<u64, ChainError>>;
    /// Whether a transaction landed (`Some(Ok)`), failed on chain
    /// (`Some(Err)`), or is unknown to the cluster (`None`), searching the
    /// ledger history, not only recent blocks.
    fn signature_status(
        &self,
        signature: &Signature,
    ) -> impl Future<Output = Result<Option<Result<(), TransactionError>>, ChainError>>;
}

/// A borrowed chain is a chain: one connection serves the engine, the
/// nonce pool and escrow management at once.
impl<T: Chain> Chain for &T {
    async fn latest_blockhash(&self) -> Result<Hash, ChainError> {
        (**self).latest_blockhash().await
    }
    async fn submit(&self, tx: Transaction) -> Result<(), ChainError> {
        (**self).submit(tx).await
    }
    async fn account(&self, key: Pubkey) -> Result<Option<Account>, ChainError> {
        (**self).account(key).await
    }
    async fn rent_exemption(&self, len: usize) -> Result<u64, ChainError> {
        (**self).rent_exemption(len).await
    }
    async fn genesis_hash(&self) -> Result<Hash, ChainError> {
        (**self).genesis_hash().await
    }
    async fn fee(&self, tx: &Transaction) -> Result<u64, ChainError> {
        (**self).fee(tx).await
    }
    async fn signature_status(
        &self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        (**self).signature_status(signature).await
    }
}

/// A cluster reached over JSON-RPC (`SOLANA_RPC_URL`), at `confirmed`
/// commitment.
pub struct RpcChain {
    client: solana_rpc_client::nonblocking::rpc_client::RpcClient,
}

/// Shows the endpoint redacted: its address may carry an API key.
impl std::fmt::Debug for RpcChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcChain")
            .field("url", &redact(&self.client.url()))
            .finish()
    }
}

impl RpcChain {
    /// A client for the endpoint at `url`; nothing is sent until the first call.
    pub fn new(url: &str) -> Self {
        Self {
            client: solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
                url.to_owned(),
                solana_commitment_config::CommitmentConfig::confirmed(),
            ),
        }
    }
}

impl RpcChain {
    /// Signatures of the transactions naming `address` (newest first, as
    /// the RPC lists them; at most 1,000) at `commitment`.
    pub async fn signatures_for(
        &self,
        address: &Pubkey,
        commitment: solana_commitment_config::CommitmentConfig,
    ) -> Result<Vec<String>, ChainError> {
        let config = solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
            before: None,
            until: None,
            limit: None,
            commitment: Some(commitment),
        };
        Ok(self
            .client
            .get_signatures_for_address_with_config(address, config)
            .await
            .map_err(rpc_error)?
            .into_iter()
            .map(|s| s.signature)
            .collect())
    }

    /// Submits a transaction someone else built (legacy or version 0) and
    /// waits for confirmation.
    pub async fn submit_versioned(
        &self,
        tx: &solana_transaction::versioned::VersionedTransaction,
    ) -> Result<(), ChainError> {
        self.client
            .send_and_confirm_transaction(tx)
            .await
            .map(|_| ())
            .map_err(rpc_error)
    }

    /// A landed transaction with its status, at `commitment`; `None` when
    /// the cluster does not have it (yet) at that commitment.
    pub async fn transaction(
        &self,
        signature: &Signature,
        commitment: solana_commitment_config::CommitmentConfig,
        encoding: solana_transaction_status_client_types::UiTransactionEncoding,
    ) -> Result<
        Option<solana_transaction_status_client_types::EncodedConfirmedTransactionWithStatusMeta>,
        ChainError,
    > {
        let config = solana_rpc_client_api::config::RpcTransactionConfig {
            encoding: Some(encoding),
            commitment: Some(commitment),
            max_supported_transaction_version: Some(0),
        };
        match self
            .client
            .get_transaction_with_config(signature, config)
            .await
        {
            Ok(tx) => Ok(Some(tx)),
            // The RPC answers an unknown signature with a null result,
            // which the client reports as a decoding error.
            Err(e)
                if matches!(
                    e.kind(),
                    solana_rpc_client_api::client_error::ErrorKind::SerdeJson(_)
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(rpc_error(e)),
        }
    }
}

/// A refusal by the cluster (preflight or execution) is final; anything
/// else (connection, timeout, server error) may pass on retry.
fn rpc_error(e: solana_rpc_client_api::client_error::Error) -> ChainError {
    match e.get_transaction_error() {
        Some(tx) => ChainError::Rejected(tx),
        None => ChainError::Network(redact_urls(&e.to_string())),
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

    async fn account(&self, key: Pubkey) -> Result<Option<Account>, ChainError> {
        let response = self
            .client
            .get_account_with_commitment(&key, self.client.commitment())
            .await
            .map_err(rpc_error)?;
        Ok(response.value.map(|a| Account {
            lamports: a.lamports,
            owner: a.owner,
            data: a.data,
        }))
    }

    async fn rent_exemption(&self, len: usize) -> Result<u64, ChainError> {
        self.client
            .get_minimum_balance_for_rent_exemption(len)
            .await
            .map_err(rpc_error)
    }

    async fn genesis_hash(&self) -> Result<Hash, ChainError> {
        self.client.get_genesis_hash().await.map_err(rpc_error)
    }

    async fn fee(&self, tx: &Transaction) -> Result<u64, ChainError> {
        self.client
            .get_fee_for_message(&tx.message)
            .await
            .map_err(rpc_error)
    }

    async fn signature_status(
        &self,
        signature: &Signature,
    ) -> Result<Option<Result<(), TransactionError>>, ChainError> {
        self.client
            .get_signature_status_with_commitment_and_history(
                signature,
                self.client.commitment(),
                true,
            )
            .await
            .map_err(rpc_error)
    }
}

/// A wallet key as the signer of Solana transactions.
pub fn signer(key: &ed25519_dalek::SigningKey) -> Keypair {
    Keypair::new_from_array(key.to_bytes())
}

/// Retries after a network failure: `base`, then doubling (1 s, 2 s, 4 s...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait; each later one doubles it.
    pub base: Duration,
    /// MAX_SETTLEMENT_RETRIES.
    pub retries: u32,
}

impl Backoff {
    /// The seed's policy: 1 s, doubling, `retries` times.
    pub fn seconds(retries: u32) -> Self {
        Self {
            base: Duration::from_secs(1),
            retries,
        }
    }

    /// The wait before each retry, in order: `base`, doubled each time.
    pub fn delays(self) -> impl Iterator<Item = Duration> {
        (0..self.retries).map(move |n| self.base.saturating_mul(1 << n.min(16)))
    }
}

/// The cluster stayed out of reach through every retry. The one way every
/// front end words it: waiting payments stay waiting. It does not say "try
/// again": a transaction whose confirmation was lost may have landed, so
/// what to do next depends on what was being done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the cluster could not be reached ({last}, after {}); payments waiting to settle stay waiting until it answers",
    crate::words::counted(*attempts, "attempt")
)]
pub struct Unreachable {
    /// Calls made in all, the first one included.
    pub attempts: u32,
    /// The last network failure, with any RPC address in it redacted.
    pub last: String,
}

impl Unreachable {
    /// The cluster gave no answer within `limit` (a read with a deadline).
    pub fn no_answer_within(limit: Duration) -> Self {
        Unreachable {
            attempts: 1,
            last: format!("no answer within {} s", limit.as_secs()),
        }
    }
}

/// An RPC address as logs and messages may show it: its scheme, host and
/// port. Providers put API keys in the user name, the path or the query, so
/// all of those are left out (shown as `…`).
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.has_host() => {
            let mut shown = format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default());
            if let Some(port) = u.port() {
                shown.push_str(&format!(":{port}"));
            }
            let hidden = !u.username().is_empty()
                || u.password().is_some()
                || u.path() != "/"
                || u.query().is_some()
                || u.fragment().is_some();
            if hidden {
                shown.push_str("/…");
            }
            shown
        }
        _ => "(an RPC address)".to_owned(),
    }
}

/// `text` with every URL in it redacted (see [`redact`]): error messages
/// from the HTTP client quote the address they were sent to.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        // The scheme: the letters just before "://".
        let start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |i| i + 1);
        // The address runs to the next blank; punctuation that closes the
        // sentence around it stays outside, anything inside is hidden.
        let blank = rest[at..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |i| at + i);
        let end = start
            + rest[start..blank]
                .trim_end_matches(|c: char| "()<>\"'`,;.:".contains(c))
                .len();
        out.push_str(&rest[..start]);
        out.push_str(&redact(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Runs `call`, retrying network failures with `backoff` and telling
/// `on_retry` about each wait. A refusal by the cluster is final and comes
/// back as the inner `Err`.
pub async fn retrying<T, F, Fut>(
    backoff: Backoff,
    mut call: F,
    on_retry: &mut dyn FnMut(Duration, &str),
) -> Result<Result<T, TransactionError>, Unreachable>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ChainError>>,
{
    let mut delays = backoff.delays();
    loop {
        match call().await {
            Ok(v) => return Ok(Ok(v)),
            Err(ChainError::Rejected(e)) => return Ok(Err(e)),
            Err(ChainError::Network(e)) => match delays.next() {
                Some(delay) => {
                    tracing::warn!(error = %e, after_ms = delay.as_millis() as u64, "cluster unreachable, retrying");
                    on_retry(delay, &e);
                    tokio::time::sleep(delay).await;
                }
                None => {
                    return Err(Unreachable {
                        attempts: backoff.retries + 1,
                        last: e,
                    });
                }
            },
        }
    }
}

/// A read (`call`) with network failures retried; the inner `Err` is the
/// cluster's refusal, in its words, for the caller's own error type.
pub async fn read<T, F, Fut>(backoff: Backoff, call: F) -> Result<Result<T, String>, Unreachable>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ChainError>>,
{
    Ok(retrying(backoff, call, &mut |_, _| {})
        .await?
        .map_err(|e| e.to_string()))
}

/// Why a wallet transaction (escrow, nonce pool) did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The cluster stayed out of reach through every retry.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// Refused by the TOSS program, with its reason.
    #[error("the TOSS program refused: {0}")]
    Program(TossError),
    /// Refused by the runtime or another program.
    #[error("the cluster refused the transaction: {0}")]
    Refused(TransactionError),
}

impl SendError {
    /// The cluster being out of reach, when that is what this is.
    pub fn unreachable(&self) -> Option<&Unreachable> {
        match self {
            SendError::Unreachable(u) => Some(u),
            _ => None,
        }
    }
}

/// The TOSS program's error code, when instruction `toss_ix` (the one
/// that calls it) is the one that failed: a custom code from any other
/// program (the system program, the signature precompile) means something
/// else entirely.
pub(crate) fn program_error(e: &TransactionError, toss_ix: usize) -> Option<u32> {
    match e {
        TransactionError::InstructionError(i, InstructionError::Custom(code))
            if usize::from(*i) == toss_ix =>
        {
            Some(*code)
        }
        _ => None,
    }
}

/// A refusal explained: the TOSS program's reason when `ixs[i]` called
/// `toss_program` and failed.
pub(crate) fn refusal(
    e: TransactionError,
    ixs: &[Instruction],
    toss_program: Option<&Pubkey>,
) -> SendError {
    let toss = ixs
        .iter()
        .position(|ix| Some(&ix.program_id) == toss_program)
        .and_then(|i| program_error(&e, i))
        .and_then(TossError::from_code);
    match toss {
        Some(code) => SendError::Program(code),
        None => SendError::Refused(e),
    }
}

/// Signs `ixs` with a fresh blockhash (`signers[0]` pays the fee), submits
/// and confirms, retrying network failures, and never lands it twice: after
/// a failure that may hide a success (a timeout while confirming) it asks
/// the cluster about the signature it sent, resends that same transaction
/// while its blockhash lives, and signs a new one only once the old one can
/// no longer land. Returns the signature, or the cluster's refusal.
/// `on_signed` hears each new transaction's signature before it is sent,
/// so a caller can keep it and ask about it after a crash.
pub async fn send_once<C: Chain>(
    chain: &C,
    backoff: Backoff,
    ixs: &[Instruction],
    signers: &[&Keypair],
    on_retry: &mut dyn FnMut(Duration, &str),
    on_signed: &mut dyn FnMut(&str),
) -> Result<Result<String, TransactionError>, Unreachable> {
    let payer = signers.first().map(|k| k.pubkey());
    let last: RefCell<Option<Transaction>> = RefCell::new(None);
    let on_signed = RefCell::new(on_signed);
    retrying(
        backoff,
        || async {
            let previous = last.borrow().clone();
            if let Some(tx) = previous {
                let signature = tx.signatures[0].to_string();
                return match chain.signature_status(&tx.signatures[0]).await? {
                    Some(Ok(())) => Ok(signature),
                    Some(Err(e)) => Err(ChainError::Rejected(e)),
                    None => match submit_presigned(chain, tx, &signature).await {
                        Err(ChainError::Rejected(TransactionError::BlockhashNotFound)) => {
                            // It can no longer land: sign afresh next time.
                            last.borrow_mut().take();
                            Err(ChainError::Network(
                                "the transaction expired before it landed".into(),
                            ))
                        }
                        other => other,
                    },
                };
            }
            let mut spent = None;
            loop {
                let blockhash = next_blockhash(chain, spent).await?;
                let tx =
                    Transaction::new_signed_with_payer(ixs, payer.as_ref(), signers, blockhash);
                let signature = tx.signatures[0].to_string();
                *last.borrow_mut() = Some(tx.clone());
                (*on_signed.borrow_mut())(&signature);
                match chain.submit(tx).await {
                    Ok(()) => return Ok(signature),
                    // A new transaction identical to one already processed
                    // (the same request made twice within one blockhash):
                    // this request must still happen, with another blockhash.
                    Err(ChainError::Rejected(TransactionError::AlreadyProcessed)) => {
                        last.borrow_mut().take();
                        spent = Some(blockhash);
                    }
                    // Refused by the preflight, so never forwarded.
                    Err(ChainError::Rejected(TransactionError::BlockhashNotFound)) => {
                        last.borrow_mut().take();
                        return Err(ChainError::Network(
                            "the cluster did not know the transaction's blockhash".into(),
                        ));
                    }
                    Err(e) => return Err(e),
                }
            }
        },
        on_retry,
    )
    .await
}

/// The latest blockhash, once it differs from `spent` (polled for up to
/// about 20 s: a cluster makes a new one every slot).
pub(crate) async fn next_blockhash<C: Chain>(
    chain: &C,
    spent: Option<Hash>,
) -> Result<Hash, ChainError> {
    for _ in 0..100 {
        let blockhash = chain.latest_blockhash().await?;
        if Some(blockhash) != spent {
            return Ok(blockhash);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(ChainError::Network(
        "the cluster's blockhash does not advance".into(),
    ))
}

/// Submits a signed transaction; "already processed" means an earlier
/// attempt of the same transaction landed.
pub async fn submit_presigned<C: Chain>(
    chain: &C,
    tx: Transaction,
    signature: &str,
) -> Result<String, ChainError> {
    match chain.submit(tx).await {
        Ok(()) | Err(ChainError::Rejected(TransactionError::AlreadyProcessed)) => {
            Ok(signature.to_owned())
        }
        Err(e) => Err(e),
    }
}

/// [`send_once`] with the refusal explained (in the TOSS program's terms
/// when `toss_program`'s instruction failed).
pub async fn send<C: Chain>(
    chain: &C,
    backoff: Backoff,
    ixs: &[Instruction],
    signers: &[&Keypair],
    toss_program: Option<&Pubkey>,
) -> Result<String, SendError> {
    send_once(chain, backoff, ixs, signers, &mut |_, _| {}, &mut |_| {})
        .await?
        .map_err(|e| refusal(e, ixs, toss_program))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rpc_address_is_shown_without_what_may_carry_a_key() {
        assert_eq!(
            redact("https://mainnet.helius-rpc.com/?api-key=SECRET"),
            "https://mainnet.helius-rpc.com/…"
        );
        assert_eq!(
            redact("https://user:SECRET@rpc.example.com:8899/SECRET/"),
            "https://rpc.example.com:8899/…"
        );
        assert_eq!(
            redact("https://api.devnet.solana.com"),
            "https://api.devnet.solana.com"
        );
        assert_eq!(redact("not a url SECRET"), "(an RPC address)");
    }

    #[test]
    fn urls_inside_an_error_message_are_redacted() {
        let text = "error sending request for url (http://127.0.0.1:9/x?api-key=SE,CR;ET): \
                    connection refused; retried https://a:SECRET@b.example/";
        let shown = redact_urls(text);
        assert!(
            !shown.contains("SECRET") && !shown.contains("ET)"),
            "{shown}"
        );
        assert_eq!(
            shown,
            "error sending request for url (http://127.0.0.1:9/…): \
             connection refused; retried https://b.example/…"
        );
        assert_eq!(redact_urls("no address here"), "no address here");
    }
}
