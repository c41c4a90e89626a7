//! Solana Pay's online side, for a till: finding the transaction that
//! carries a request's reference key, and checking it paid the request.
//!
//! Any wallet can pay a till's request online (a transfer with the
//! reference as a read-only account). The till looks the reference up
//! (`getSignaturesForAddress`, oldest first), reads each transaction it
//! finds at the commitment asked for, and holds it to the request as
//! Solana Pay's `validateTransfer` does, more strictly: the transaction
//! succeeded; it carries the reference; the recipient (for a token, its
//! associated token account for the request's mint) received *exactly* the
//! amount; the memo, when the request has one, is in a memo instruction.
//! Legacy and version-0 transactions both read (the looked-up addresses of
//! a v0 transaction count as its accounts). What does not pay the request
//! is reported with the reason and never counted as paid.

use solana_commitment_config::CommitmentConfig;
use solana_program::pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, UiTransactionEncoding,
    option_serializer::OptionSerializer,
};

use crate::address::associated_token_account;
use crate::amount;
use crate::chain::{ChainError, RpcChain};
use crate::request::PaymentRequest;

/// The memo programs (v2 and v1) a payment's memo may be written with.
pub(crate) const MEMO_PROGRAMS: [Pubkey; 2] = [
    solana_program::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"),
    solana_program::pubkey!("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo"),
];

/// What a confirmed transaction did, as far as paying a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The transaction signature, base58.
    pub signature: String,
    /// The slot it landed in.
    pub slot: u64,
    /// When, by the cluster (Unix seconds), if known.
    pub block_time: Option<i64>,
    /// Why it failed on chain; `None` when it succeeded.
    pub failed: Option<String>,
    /// Every account it names, in order: its own keys, then the addresses
    /// a v0 transaction looked up (writable, then read-only).
    pub accounts: Vec<Pubkey>,
    /// Lamports of each account before and after.
    pub balances: Vec<(u64, u64)>,
    /// Token balances that changed or existed: account index, mint,
    /// before, after (base units), the mint's decimals.
    pub tokens: Vec<TokenBalance>,
    /// The text of each memo instruction.
    pub memos: Vec<String>,
}

/// A token account's balance around a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBalance {
    /// Index into [`Seen::accounts`].
    pub index: usize,
    /// The token's mint.
    pub mint: Pubkey,
    /// Base units before (0 when the account did not exist).
    pub before: u64,
    /// Base units after.
    pub after: u64,
    /// The mint's decimals, as the cluster reports them.
    pub decimals: u8,
}

/// A payment that paid the request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Paid {
    /// The transaction signature, base58.
    pub signature: String,
    /// Who paid: the transaction's fee payer, its first account.
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub payer: Pubkey,
    /// The amount received, in base units.
    pub amount: u64,
    /// `None`: SOL.
    #[serde(serialize_with = "crate::address::serialize_opt_pubkey")]
    pub mint: Option<Pubkey>,
    /// The slot it landed in.
    pub slot: u64,
    /// When, by the cluster, if known.
    pub block_time: Option<i64>,
}

/// Why a transaction found by the reference does not pay the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// It failed on chain; carries the cluster's error.
    #[error("the transaction failed on chain ({0}): nothing was paid")]
    Failed(String),
    /// The request names no amount, so nothing can be held to it.
    #[error("the request names no amount")]
    NoAmount,
    /// The request's amount cannot be read in the token's decimals.
    #[error("the request's amount cannot be read: {0}")]
    BadAmount(String),
    /// The reference is not among its accounts.
    #[error("the transaction does not carry this sale's reference")]
    NoReference,
    /// Nothing in the request's currency reached the recipient.
    #[error("the transaction pays nothing in {currency} to {recipient}")]
    NotPaid {
        /// The request's recipient.
        recipient: Pubkey,
        /// SOL, or the mint.
        currency: String,
    },
    /// The recipient received a token, not the one asked for.
    #[error("the transaction pays in the token {got}, not in {wanted}")]
    WrongToken {
        /// The mint that was paid.
        got: Pubkey,
        /// SOL, or the mint asked for.
        wanted: String,
    },
    /// The recipient received another amount.
    #[error("the transaction pays {got} base units; the sale is {expected}")]
    WrongAmount {
        /// Base units received.
        got: i128,
        /// Base units asked for.
        expected: u64,
    },
    /// The request has a memo the transaction does not carry.
    #[error("the transaction does not carry the sale's memo {0:?}")]
    NoMemo(String),
}

/// Holds `seen` to `request`.
pub fn validate(seen: &Seen, request: &PaymentRequest) -> Result<Paid, Refusal> {
    if let Some(e) = &seen.failed {
        return Err(Refusal::Failed(e.clone()));
    }
    let text = request.amount.as_deref().ok_or(Refusal::NoAmount)?;
    if request
        .references
        .iter()
        .any(|r| !seen.accounts.contains(r))
    {
        return Err(Refusal::NoReference);
    }
    let recipient = request.recipient;
    let (got, expected) = match request.spl_token {
        None => {
            let expected = amount::parse(text, amount::SOL_DECIMALS)
                .map_err(|e| Refusal::BadAmount(e.to_string()))?;
            let got = seen
                .accounts
                .iter()
                .position(|a| *a == recipient)
                .and_then(|i| seen.balances.get(i))
                .map(|(before, after)| i128::from(*after) - i128::from(*before));
            match got {
                Some(d) if d > 0 => (d, expected),
                _ => return Err(not_paid(seen, request)),
            }
        }
        Some(mint) => {
            let account = associated_token_account(&recipient, &mint);
            let change = seen
                .tokens
                .iter()
                .find(|t| t.mint == mint && seen.accounts.get(t.index) == Some(&account));
            match change {
                Some(t) if t.after > t.before => {
                    let expected = amount::parse(text, t.decimals)
                        .map_err(|e| Refusal::BadAmount(e.to_string()))?;
                    (i128::from(t.after) - i128::from(t.before), expected)
                }
                _ => return Err(not_paid(seen, request)),
            }
        }
    };
    if got != i128::from(expected) {
        return Err(Refusal::WrongAmount { got, expected });
    }
    if let Some(memo) = &request.memo
        && !seen.memos.iter().any(|m| m == memo)
    {
        return Err(Refusal::NoMemo(memo.clone()));
    }
    Ok(Paid {
        signature: seen.signature.clone(),
        payer: seen.accounts.first().copied().unwrap_or_default(),
        amount: expected,
        mint: request.spl_token,
        slot: seen.slot,
        block_time: seen.block_time,
    })
}

/// Nothing in the request's currency arrived: a token the recipient got
/// instead is named, else "pays nothing".
fn not_paid(seen: &Seen, request: &PaymentRequest) -> Refusal {
    let wanted = request
        .spl_token
        .map_or_else(|| "SOL".to_owned(), |m| m.to_string());
    let other = seen.tokens.iter().find(|t| {
        t.after > t.before
            && Some(t.mint) != request.spl_token
            && seen.accounts.get(t.index)
                == Some(&associated_token_account(&request.recipient, &t.mint))
    });
    match other {
        Some(t) => Refusal::WrongToken {
            got: t.mint,
            wanted,
        },
        None => Refusal::NotPaid {
            recipient: request.recipient,
            currency: wanted,
        },
    }
}

/// Reads what the RPC returned for a transaction into a [`Seen`]; `None`
/// when it cannot be decoded (then it cannot be checked, and is not paid).
pub fn seen(signature: &str, tx: &EncodedConfirmedTransactionWithStatusMeta) -> Option<Seen> {
    let meta = tx.transaction.meta.as_ref()?;
    let decoded = tx.transaction.transaction.decode()?;
    let message = &decoded.message;
    let mut accounts: Vec<Pubkey> = message.static_account_keys().to_vec();
    if let OptionSerializer::Some(loaded) = &meta.loaded_addresses {
        for key in loaded.writable.iter().chain(&loaded.readonly) {
            accounts.push(key.parse().ok()?);
        }
    }
    let memos = message
        .instructions()
        .iter()
        .filter(|ix| {
            accounts
                .get(usize::from(ix.program_id_index))
                .is_some_and(|p| MEMO_PROGRAMS.contains(p))
        })
        .filter_map(|ix| String::from_utf8(ix.data.clone()).ok())
        .collect();
    let list = |v: &OptionSerializer<Vec<_>>| match v {
        OptionSerializer::Some(v) => v.clone(),
        _ => Vec::new(),
    };
    let (pre, post) = (
        list(&meta.pre_token_balances),
        list(&meta.post_token_balances),
    );
    let units = |s: &str| s.parse::<u64>().ok();
    let mut tokens = Vec::new();
    for after in &post {
        let before = pre
            .iter()
            .find(|b| b.account_index == after.account_index && b.mint == after.mint)
            .map_or(Some(0), |b| units(&b.ui_token_amount.amount))?;
        tokens.push(TokenBalance {
            index: usize::from(after.account_index),
            mint: after.mint.parse().ok()?,
            before,
            after: units(&after.ui_token_amount.amount)?,
            decimals: after.ui_token_amount.decimals,
        });
    }
    Some(Seen {
        signature: signature.to_owned(),
        slot: tx.slot,
        block_time: tx.block_time,
        failed: meta.err.as_ref().map(|e| format!("{e:?}")),
        balances: meta
            .pre_balances
            .iter()
            .copied()
            .zip(meta.post_balances.iter().copied())
            .collect(),
        accounts,
        tokens,
        memos,
    })
}

/// Why a request cannot be paid online as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayError {
    /// The request names no amount: the wallet does not choose one.
    #[error("the request names no amount; type one, or ask the merchant for a request with one")]
    NoAmount,
    /// The amount does not read in the currency's decimals.
    #[error("the request's amount cannot be paid: {0}")]
    BadAmount(String),
    /// The memo is longer than a transaction can carry.
    #[error("the request's memo is too long to send ({0} bytes)")]
    MemoTooLong(usize),
}

/// The instructions of a Solana Pay transfer paying `request` from
/// `payer`, as the spec lays them out: the memo first (Memo v2, when the
/// request has one), then the transfer with every reference as a read-only
/// account: a SOL transfer, or, for a token, `TransferChecked` of the
/// mint's `decimals` from the payer's associated token account to the
/// recipient's.
pub fn transfer(
    request: &PaymentRequest,
    payer: &Pubkey,
    decimals: u8,
) -> Result<Vec<solana_program::instruction::Instruction>, PayError> {
    use solana_program::instruction::{AccountMeta, Instruction};
    let text = request.amount.as_deref().ok_or(PayError::NoAmount)?;
    let units = amount::parse(text, decimals).map_err(|e| PayError::BadAmount(e.to_string()))?;
    if units == 0 {
        return Err(PayError::NoAmount);
    }
    let mut ixs = Vec::new();
    if let Some(memo) = &request.memo {
        // A memo must fit a transaction with the transfer (1,232 bytes).
        if memo.len() > 566 {
            return Err(PayError::MemoTooLong(memo.len()));
        }
        ixs.push(Instruction {
            program_id: MEMO_PROGRAMS[0],
            accounts: Vec::new(),
            data: memo.as_bytes().to_vec(),
        });
    }
    let mut pay = match request.spl_token {
        None => solana_system_interface::instruction::transfer(payer, &request.recipient, units),
        Some(mint) => spl_token_interface::instruction::transfer_checked(
            &spl_token_interface::ID,
            &associated_token_account(payer, &mint),
            &mint,
            &associated_token_account(&request.recipient, &mint),
            payer,
            &[],
            units,
            decimals,
        )
        .map_err(|e| PayError::BadAmount(e.to_string()))?,
    };
    pay.accounts.extend(
        request
            .references
            .iter()
            .map(|r| AccountMeta::new_readonly(*r, false)),
    );
    ixs.push(pay);
    Ok(ixs)
}

/// Why paying a request online failed.
#[derive(Debug, thiserror::Error)]
pub enum PayNowError {
    /// The request cannot be paid as it is.
    #[error(transparent)]
    Request(#[from] PayError),
    /// The token's mint could not be read, or is not a mint; carries it.
    #[error("the token {0} is not a mint on this cluster: nothing was sent")]
    NotAMint(Pubkey),
    /// The cluster refused or could not be reached.
    #[error(transparent)]
    Send(#[from] crate::chain::SendError),
}

impl PayNowError {
    /// The cluster being out of reach, when that is what this is.
    pub fn unreachable(&self) -> Option<&crate::chain::Unreachable> {
        match self {
            PayNowError::Send(s) => s.unreachable(),
            _ => None,
        }
    }
}

/// A request paid online by this wallet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    /// The transaction signature, base58.
    pub signature: String,
    /// What was paid, in base units of the request's currency.
    pub amount: u64,
    /// The currency's decimals.
    pub decimals: u8,
}

/// The decimals of `mint`'s token (`None`: SOL), read from its mint
/// account on the cluster.
pub async fn decimals<C: crate::chain::Chain>(
    chain: &C,
    backoff: crate::chain::Backoff,
    mint: Option<Pubkey>,
) -> Result<u8, PayNowError> {
    use solana_program::program_pack::Pack;
    let Some(mint) = mint else {
        return Ok(amount::SOL_DECIMALS);
    };
    let read = crate::chain::read(backoff, || chain.account(mint))
        .await
        .map_err(crate::chain::SendError::from)?;
    match read {
        Ok(Some(a)) if a.owner == spl_token_interface::ID => {
            Ok(spl_token_interface::state::Mint::unpack(&a.data)
                .map_err(|_| PayNowError::NotAMint(mint))?
                .decimals)
        }
        _ => Err(PayNowError::NotAMint(mint)),
    }
}

/// Pays `request` online from `payer`'s key: a standard Solana Pay
/// transfer ([`transfer`]), the token's decimals read from its mint, sent
/// and confirmed once (`chain::send_once`). `open`, when given, goes
/// first: a refund opening the payer's token account. `on_signed` hears
/// the transaction's signature before it is sent, so a caller can keep it.
pub async fn pay<C: crate::chain::Chain>(
    chain: &C,
    backoff: crate::chain::Backoff,
    request: &PaymentRequest,
    payer: &ed25519_dalek::SigningKey,
    open: Option<solana_program::instruction::Instruction>,
    on_signed: &mut dyn FnMut(&str),
) -> Result<Sent, PayNowError> {
    let key = crate::chain::signer(payer);
    let from = solana_signer::Signer::pubkey(&key);
    let decimals = decimals(chain, backoff, request.spl_token).await?;
    let ixs: Vec<_> = open
        .into_iter()
        .chain(transfer(request, &from, decimals)?)
        .collect();
    let amount = amount::parse(request.amount.as_deref().unwrap_or("0"), decimals)
        .map_err(|e| PayError::BadAmount(e.to_string()))?;
    let signature =
        crate::chain::send_once(chain, backoff, &ixs, &[&key], &mut |_, _| {}, on_signed)
            .await
            .map_err(crate::chain::SendError::from)?
            .map_err(|e| crate::chain::refusal(e, &ixs, None))?;
    Ok(Sent {
        signature,
        amount,
        decimals,
    })
}

/// How sure the till must be that a payment will stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Commitment {
    /// Voted on by a supermajority (seconds; Solana Pay's default).
    #[default]
    Confirmed,
    /// Rooted: cannot be rolled back (about 13 s more).
    Finalized,
}

impl Commitment {
    /// The accepted setting values, for messages that list them.
    pub const ALLOWED: &'static str =
        "confirmed (seconds, the default) or finalized (about 13 s more, cannot be rolled back)";

    pub(crate) fn parse(v: &str) -> Option<Self> {
        match v.trim().to_ascii_lowercase().as_str() {
            "confirmed" => Some(Commitment::Confirmed),
            "finalized" => Some(Commitment::Finalized),
            _ => None,
        }
    }

    pub(crate) fn config(self) -> CommitmentConfig {
        match self {
            Commitment::Confirmed => CommitmentConfig::confirmed(),
            Commitment::Finalized => CommitmentConfig::finalized(),
        }
    }
}

/// The RPC's websocket address for `rpc_url`, as Solana's own tools
/// derive it: `ws`/`wss` on the same host, the port one up when one is
/// given (a local validator's 8899 → 8900).
pub fn websocket_url(rpc_url: &url::Url) -> Option<url::Url> {
    let mut ws = rpc_url.clone();
    let scheme = match rpc_url.scheme() {
        "https" => "wss",
        "http" => "ws",
        _ => return None,
    };
    ws.set_scheme(scheme).ok()?;
    if let Some(port) = rpc_url.port() {
        ws.set_port(Some(port.checked_add(1)?)).ok()?;
    }
    Some(ws)
}

/// What the till's look-up found for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A transaction paid it.
    Paid(Paid),
    /// Transactions carrying the reference that do not pay it, with why;
    /// the till keeps waiting.
    Refused(Vec<(String, Refusal)>),
}

/// Looks up the transactions that carry `request`'s reference at
/// `commitment`, oldest first, and holds each to the request: the first
/// that pays it, or every one that does not (with why). Signatures in
/// `skip` (already found not to pay) are not read again.
pub async fn find(
    chain: &RpcChain,
    request: &PaymentRequest,
    commitment: Commitment,
    skip: &[String],
) -> Result<Found, ChainError> {
    let Some(reference) = request.references.first() else {
        return Ok(Found::Refused(Vec::new()));
    };
    let mut signatures = chain.signatures_for(reference, commitment.config()).await?;
    signatures.reverse(); // the RPC lists newest first
    let mut refused = Vec::new();
    for signature in signatures.iter().filter(|s| !skip.contains(s)) {
        let Ok(parsed) = signature.parse::<Signature>() else {
            continue;
        };
        let tx = chain
            .transaction(&parsed, commitment.config(), UiTransactionEncoding::Base64)
            .await?;
        let verdict = match tx.as_ref().and_then(|t| seen(signature, t)) {
            Some(seen) => validate(&seen, request),
            // Not readable yet at this commitment: asked again next time.
            None => continue,
        };
        match verdict {
            Ok(paid) => return Ok(Found::Paid(paid)),
            Err(why) => refused.push((signature.clone(), why)),
        }
    }
    Ok(Found::Refused(refused))
}

#[cfg(test)]
mod tests;
