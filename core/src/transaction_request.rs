//! Solana Pay transaction requests (`solana:https://…`): the merchant's
//! server builds the transaction, the wallet explains it, signs it and
//! sends it.
//!
//! The flow is the spec's: a GET names the merchant (label, icon), a POST
//! with the wallet's account returns a transaction (base64) and an
//! optional message. A server is a stranger, so the wallet trusts nothing
//! it says: the transaction is decoded and every instruction explained
//! from its bytes ([`explain`]) — a payment of one amount to one
//! recipient, the memo, the fee and any rent the wallet would fund — and
//! anything this wallet cannot explain refuses the whole transaction with
//! the reason. Signatures the server added must verify; a signer other
//! than the wallet that has not signed refuses it too.
//!
//! Paying posts again (the blockhash is then fresh however long the user
//! took to read) and signs only if the new transaction does exactly what
//! the user was shown ([`pay`]): a server that swaps the recipient or the
//! amount between the two is refused. HTTPS only, every exchange bounded
//! in time and size ([`Limits`]).

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use solana_program::pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;

use crate::chain::{Backoff, Chain, ChainError, RpcChain, Unreachable};

const SCHEME: &str = "solana:";
pub(crate) const SYSTEM_PROGRAM: Pubkey = solana_system_interface::program::ID;
pub(crate) const TOKEN_2022: Pubkey =
    solana_program::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
pub(crate) const COMPUTE_BUDGET: Pubkey =
    solana_program::pubkey!("ComputeBudget111111111111111111111111111111");
/// Lamports per signature, the base fee.
pub(crate) const SIGNATURE_FEE: u64 = 5_000;
/// The most bytes a transaction can take.
const PACKET_DATA_SIZE: usize = 1232;
/// The size of an SPL Token account, whose rent a created one holds.
const TOKEN_ACCOUNT_LEN: usize = 165;

/// A scanned `solana:https://…` link, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The merchant's endpoint (HTTPS).
    pub url: url::Url,
    /// The link's own `label`, if it has one (the server's GET answer is
    /// what is shown).
    pub label: Option<String>,
    /// The link's `message`, if it has one.
    pub message: Option<String>,
}

/// Why a link is not a transaction request this wallet will follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not `solana:` followed by a URL.
    #[error("not a Solana Pay transaction request: it must be \"solana:\" and an https:// address")]
    NotTransactionRequest,
    /// Longer than Solana Pay allows; carries the length.
    #[error("the link is {0} characters long; Solana Pay links are at most 2048")]
    TooLong(usize),
    /// The address is not a URL.
    #[error("the merchant's address {0:?} is not a valid URL")]
    BadUrl(String),
    /// `http://` or another scheme: anyone on the network could change
    /// the transaction on its way.
    #[error("the merchant's address {0} is not HTTPS; this wallet asks merchants only over HTTPS")]
    NotHttps(String),
}

impl Link {
    /// Whether `text` is meant as a transaction request (`solana:` then a
    /// URL, percent-encoded or not), before checking it.
    pub fn is_one(text: &str) -> bool {
        let Some(rest) = crate::request::after_scheme(text) else {
            return false;
        };
        let lower = rest.to_ascii_lowercase();
        ["https:", "http:", "https%3a", "http%3a"]
            .iter()
            .any(|p| lower.starts_with(p))
    }

    /// The link as a till shows it: `solana:` and the URL, percent-encoded
    /// (as `encodeURIComponent` does) when it has a query of its own, as
    /// the spec requires, or when the link's own label or message follow.
    pub fn to_text(&self) -> String {
        let url = self.url.as_str();
        let own: Vec<String> = [("label", &self.label), ("message", &self.message)]
            .into_iter()
            .filter_map(|(k, v)| Some(format!("{k}={}", crate::request::encode(v.as_deref()?))))
            .collect();
        if self.url.query().is_none() && own.is_empty() {
            return format!("{SCHEME}{url}");
        }
        let mut out = String::from(SCHEME);
        for b in url.bytes() {
            match b {
                b'A'..=b'Z'
                | b'a'..=b'z'
                | b'0'..=b'9'
                | b'-'
                | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')' => out.push(char::from(b)),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        if !own.is_empty() {
            out.push('?');
            out.push_str(&own.join("&"));
        }
        out
    }

    /// The link to the merchant's server at `url` (an https:// address, its
    /// own query kept), as a till makes one.
    pub fn new(url: &str) -> Result<Self, LinkError> {
        let mut url = url::Url::parse(url.trim()).map_err(|_| LinkError::BadUrl(url.to_owned()))?;
        // A fragment never reaches a server.
        url.set_fragment(None);
        if url.scheme() != "https" {
            return Err(LinkError::NotHttps(url.to_string()));
        }
        Ok(Link {
            url,
            label: None,
            message: None,
        })
    }

    /// Parses `solana:<link>[?label=…&message=…]`. The link is
    /// percent-decoded when encoded (the spec requires it to be when it has
    /// a query of its own).
    pub fn parse(text: &str) -> Result<Self, LinkError> {
        if !Self::is_one(text) {
            return Err(LinkError::NotTransactionRequest);
        }
        if text.trim().len() > crate::request::MAX_URL {
            return Err(LinkError::TooLong(text.trim().len()));
        }
        let rest = crate::request::after_scheme(text).ok_or(LinkError::NotTransactionRequest)?;
        // As @solana/pay reads it (`new URL`): a fragment is no part of it,
        // and what follows the first '?' is the solana: link's own query
        // (label, message); a link with a query of its own is encoded.
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let lower = rest.to_ascii_lowercase();
        let encoded = lower.starts_with("http%3a") || lower.starts_with("https%3a");
        let (link, query) = rest.split_once('?').unwrap_or((rest, ""));
        // A query value reads '+' as a space; the link, decoded as
        // `decodeURIComponent` does, keeps it.
        let decode = |s: &str| {
            crate::request::decode("link", s).map_err(|_| LinkError::BadUrl(s.to_owned()))
        };
        let link = match encoded {
            true => decode(&link.replace('+', "%2B"))?,
            false => link.to_owned(),
        };
        let mut url = url::Url::parse(&link).map_err(|_| LinkError::BadUrl(link.clone()))?;
        if url.scheme() != "https" {
            return Err(LinkError::NotHttps(url.to_string()));
        }
        // A fragment (an encoded '#') never reaches a server: no part of the
        // link (found by fuzzing: it made the link read back otherwise).
        url.set_fragment(None);
        let (mut label, mut message) = (None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            // The first of a repeated field counts, as `searchParams.get` reads it.
            match k {
                "label" if label.is_none() => label = Some(decode(v)?).filter(|l| !l.is_empty()),
                "message" if message.is_none() => {
                    message = Some(decode(v)?).filter(|m| !m.is_empty())
                }
                _ => {} // the spec lets unknown fields pass
            }
        }
        Ok(Link {
            url,
            label,
            message,
        })
    }
}

/// How long and how much a merchant's server may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// For each exchange, connection included.
    pub timeout: Duration,
    /// The largest answer read (a transaction is at most 1,232 bytes).
    pub max_bytes: usize,
    /// The largest icon read.
    pub max_icon_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            max_bytes: 64 * 1024,
            max_icon_bytes: 256 * 1024,
        }
    }
}

/// Why talking to the merchant's server failed, or what it sent is refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No answer in time, no connection, a bad certificate, a redirect
    /// away from HTTPS.
    #[error("the merchant's server at {host} could not be reached: {why}")]
    Unreachable {
        /// The server's host.
        host: String,
        /// What went wrong.
        why: String,
    },
    /// An error status, with the server's message when it gave one.
    #[error("the merchant's server at {host} answered {status}{}", .message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// The server's host.
        host: String,
        /// The HTTP status.
        status: u16,
        /// The server's `message`, if any.
        message: Option<String>,
    },
    /// More bytes than [`Limits`] allows.
    #[error("the merchant's server at {host} sent more than {limit} bytes; refused")]
    TooLarge {
        /// The server's host.
        host: String,
        /// The limit.
        limit: usize,
    },
    /// Not the JSON the spec asks for.
    #[error("the merchant's server at {host} did not answer as Solana Pay requires: {why}")]
    BadAnswer {
        /// The server's host.
        host: String,
        /// What was wrong.
        why: String,
    },
    /// The transaction cannot be explained, so it is not signed.
    #[error("the merchant's transaction is refused: {0}")]
    Refused(#[from] Unexplained),
    /// Posting again for a fresh transaction got one that does something
    /// else than what the user approved.
    #[error(
        "the merchant's server changed the payment after you saw it (it now {now}); nothing was signed"
    )]
    Changed {
        /// What the new transaction does.
        now: String,
    },
    /// The cluster stayed out of reach.
    #[error(transparent)]
    Chain(#[from] Unreachable),
    /// The cluster refused to read an account the explanation needs.
    #[error("the cluster refused to read an account: {0}")]
    Read(String),
    /// The cluster refused the signed transaction.
    #[error("the cluster refused the payment: {0}")]
    Rejected(solana_transaction_error::TransactionError),
}

/// The merchant, as its server's GET names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merchant {
    /// The server's `label`.
    pub label: String,
    /// The icon as a `data:` URL (fetched once, bounded), when the server
    /// names one that is an image.
    pub icon: Option<String>,
}

/// What a transaction asks of the wallet, read from its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    /// Who pays the transaction fee.
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub fee_payer: Pubkey,
    /// Lamports of fee this wallet pays (0 when the merchant pays it):
    /// the signatures and any priority fee at its compute limit.
    pub fee: u64,
    /// Lamports this wallet puts into accounts it opens (a recipient's
    /// token account), as rent.
    pub rent: u64,
    /// The payment it makes.
    pub payment: Transfer,
    /// The memo instructions' text.
    pub memos: Vec<String>,
}

/// Money moved from the wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    /// The wallet paid (for a token, the owner of the receiving account).
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub recipient: Pubkey,
    /// Lamports, or the token's base units.
    pub amount: u64,
    /// The token's mint; `None` for SOL.
    #[serde(serialize_with = "serialize_mint")]
    pub mint: Option<Pubkey>,
    /// The token's decimals (9 for SOL).
    pub decimals: u8,
}

fn serialize_mint<S: serde::Serializer>(m: &Option<Pubkey>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => s.serialize_some(&m.to_string()),
        None => s.serialize_none(),
    }
}

impl std::fmt::Display for Explained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.payment;
        let what = match p.mint {
            None => format!("{} SOL", crate::amount::format(p.amount, p.decimals)),
            Some(m) => format!(
                "{} of token {m}",
                crate::amount::format(p.amount, p.decimals)
            ),
        };
        write!(f, "pays {what} to {}", p.recipient)?;
        if self.fee + self.rent > 0 {
            write!(
                f,
                ", with {} SOL of fee and rent",
                crate::amount::format(self.fee + self.rent, crate::amount::SOL_DECIMALS)
            )?;
        }
        Ok(())
    }
}

/// Why a transaction is not signed: what in it this wallet cannot explain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unexplained {
    /// Not a transaction.
    #[error("it is not a Solana transaction ({0})")]
    Undecodable(String),
    /// The wallet's account is not among its signers.
    #[error("it does not ask your account {0} to sign")]
    NotForYou(Pubkey),
    /// Another signer the server did not sign for.
    #[error("it also needs the signature of {0}, which the merchant's server did not give")]
    OtherSigner(Pubkey),
    /// A signature the server gave that does not verify.
    #[error("the signature it carries for {0} is not valid")]
    BadSignature(Pubkey),
    /// A version-0 transaction naming accounts through lookup tables.
    #[error(
        "it names accounts through address lookup tables, which this wallet does not read, so it cannot show what they are"
    )]
    LookupTables,
    /// A program this wallet does not know.
    #[error("it calls the program {0}, which this wallet cannot explain")]
    UnknownProgram(Pubkey),
    /// A known program asked for something a payment never needs.
    #[error("it asks the {program} for something other than a payment ({what})")]
    NotAPayment {
        /// The program's name.
        program: &'static str,
        /// The instruction.
        what: String,
    },
    /// Money taken from an account that is not the wallet's.
    #[error("it moves money from {0}, which is not your account")]
    NotYours(Pubkey),
    /// More than one recipient or currency.
    #[error("it pays more than once ({0}); a payment pays one recipient one amount")]
    MoreThanOnePayment(String),
    /// Nothing leaves the wallet.
    #[error("it pays nothing; this wallet signs transaction requests that pay")]
    NoPayment,
    /// A token transfer to an account that is not a token account of that
    /// token (or does not exist and is not opened by the transaction).
    #[error("it sends tokens to {0}, which is not an account for that token")]
    NotATokenAccount(Pubkey),
}

/// A token account as the cluster holds it: its mint and owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenAccount {
    /// The token.
    pub mint: Pubkey,
    /// The wallet that owns it.
    pub owner: Pubkey,
}

/// What [`explain`] needs from the cluster: the token accounts the
/// transaction pays into, and the rent of a new one.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Existing SPL token accounts by address.
    pub token_accounts: HashMap<Pubkey, TokenAccount>,
    /// Lamports a new token account holds as rent.
    pub token_account_rent: u64,
}

/// Decodes `bytes` as a transaction (legacy or version 0).
pub fn decode(bytes: &[u8]) -> Result<VersionedTransaction, Unexplained> {
    use bincode::Options;
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(Unexplained::Undecodable(format!(
            "{} bytes, more than a transaction can hold ({PACKET_DATA_SIZE})",
            bytes.len()
        )));
    }
    let tx: VersionedTransaction = bincode::DefaultOptions::new()
        .with_limit(PACKET_DATA_SIZE as u64)
        .with_fixint_encoding()
        .reject_trailing_bytes()
        .deserialize(bytes)
        .map_err(|e| Unexplained::Undecodable(e.to_string()))?;
    tx.sanitize()
        .map_err(|e| Unexplained::Undecodable(e.to_string()))?;
    Ok(tx)
}

/// The accounts whose token state [`explain`] needs: every SPL token
/// transfer's destination.
pub fn token_destinations(tx: &VersionedTransaction) -> Vec<Pubkey> {
    let keys = tx.message.static_account_keys();
    let key = |i: &u8| keys.get(usize::from(*i)).copied();
    tx.message
        .instructions()
        .iter()
        .filter(|ix| key(&ix.program_id_index) == Some(spl_token_interface::ID))
        .filter_map(|ix| ix.accounts.get(2).and_then(key))
        .collect()
}

/// Explains what `tx` does to `you`'s money, or why it cannot be
/// explained. Every instruction must be one of: a System transfer from
/// you; an SPL Token `TransferChecked` you authorise; opening an
/// associated token account; a memo; a compute-budget setting. All the
/// transfers must pay one recipient in one currency.
pub fn explain(
    tx: &VersionedTransaction,
    you: &Pubkey,
    known: &Known,
) -> Result<Explained, Unexplained> {
    let message = &tx.message;
    if message
        .address_table_lookups()
        .is_some_and(|l| !l.is_empty())
    {
        return Err(Unexplained::LookupTables);
    }
    let keys = message.static_account_keys();
    let signers = usize::from(message.header().num_required_signatures);
    let you_sign = keys[..signers.min(keys.len())].contains(you);
    if !you_sign {
        return Err(Unexplained::NotForYou(*you));
    }
    let bytes = message.serialize();
    for (i, key) in keys.iter().enumerate().take(signers) {
        if key == you {
            continue;
        }
        let sig = tx.signatures.get(i).copied().unwrap_or_default();
        if sig == Signature::default() {
            return Err(Unexplained::OtherSigner(*key));
        }
        if !sig.verify(key.as_ref(), &bytes) {
            return Err(Unexplained::BadSignature(*key));
        }
    }
    let key = |i: u8| keys.get(usize::from(i)).copied().unwrap_or_default();
    let mut transfers: Vec<Transfer> = Vec::new();
    let mut memos = Vec::new();
    let mut rent = 0;
    let mut created: HashMap<Pubkey, TokenAccount> = HashMap::new();
    let (mut cu_limit, mut cu_price, mut counted) = (None, 0u64, 0u64);
    for ix in message.instructions() {
        let program = key(ix.program_id_index);
        let account = |n: usize| ix.accounts.get(n).map(|i| key(*i));
        let malformed = |program: &'static str| Unexplained::NotAPayment {
            program,
            what: "an instruction it cannot read".into(),
        };
        if program == COMPUTE_BUDGET {
            match ix.data.split_first() {
                Some((2, v)) => {
                    let v: [u8; 4] = v.try_into().map_err(|_| malformed("compute budget"))?;
                    cu_limit = Some(u64::from(u32::from_le_bytes(v)));
                }
                Some((3, v)) => {
                    let v: [u8; 8] = v.try_into().map_err(|_| malformed("compute budget"))?;
                    cu_price = u64::from_le_bytes(v);
                }
                Some((1 | 4, _)) => {} // heap frame, loaded-data limit: no cost
                _ => return Err(malformed("compute budget")),
            }
            continue;
        }
        counted += 1;
        if crate::solana_pay::MEMO_PROGRAMS.contains(&program) {
            let text = std::str::from_utf8(&ix.data).map_err(|_| malformed("memo program"))?;
            memos.push(text.to_owned());
        } else if program == SYSTEM_PROGRAM {
            let (tag, lamports) = ix
                .data
                .split_first_chunk::<4>()
                .map(|(t, rest)| (u32::from_le_bytes(*t), rest))
                .ok_or_else(|| malformed("System program"))?;
            if tag != 2 {
                return Err(Unexplained::NotAPayment {
                    program: "System program",
                    what: system_instruction_name(tag).into(),
                });
            }
            let lamports: [u8; 8] = lamports
                .try_into()
                .map_err(|_| malformed("System program"))?;
            let (from, to) = (account(0), account(1));
            let (Some(from), Some(to)) = (from, to) else {
                return Err(malformed("System program"));
            };
            if from != *you {
                return Err(Unexplained::NotYours(from));
            }
            transfers.push(Transfer {
                recipient: to,
                amount: u64::from_le_bytes(lamports),
                mint: None,
                decimals: crate::amount::SOL_DECIMALS,
            });
        } else if program == spl_token_interface::ID {
            let (Some((12, rest)), Some(source), Some(mint), Some(dest), Some(authority)) = (
                ix.data.split_first(),
                account(0),
                account(1),
                account(2),
                account(3),
            ) else {
                return Err(Unexplained::NotAPayment {
                    program: "SPL Token program",
                    what: token_instruction_name(ix.data.first().copied()).into(),
                });
            };
            let (amount, decimals) = match rest {
                [a @ .., d] if a.len() == 8 => (
                    u64::from_le_bytes(a.try_into().map_err(|_| malformed("SPL Token program"))?),
                    *d,
                ),
                _ => return Err(malformed("SPL Token program")),
            };
            if authority != *you {
                return Err(Unexplained::NotYours(source));
            }
            let to = created
                .get(&dest)
                .or_else(|| known.token_accounts.get(&dest))
                .filter(|t| t.mint == mint)
                .ok_or(Unexplained::NotATokenAccount(dest))?;
            transfers.push(Transfer {
                recipient: to.owner,
                amount,
                mint: Some(mint),
                decimals,
            });
        } else if program == crate::address::ATA_PROGRAM {
            let idempotent = match ix.data.as_slice() {
                [] | [0] => false,
                [1] => true,
                _ => {
                    return Err(Unexplained::NotAPayment {
                        program: "associated token account program",
                        what: "recovering a nested account".into(),
                    });
                }
            };
            let (Some(funder), Some(ata), Some(owner), Some(mint), Some(token_program)) =
                (account(0), account(1), account(2), account(3), account(5))
            else {
                return Err(malformed("associated token account program"));
            };
            if token_program != spl_token_interface::ID
                || ata != crate::address::associated_token_account(&owner, &mint)
            {
                return Err(Unexplained::NotAPayment {
                    program: "associated token account program",
                    what: match token_program == TOKEN_2022 {
                        true => "opening a Token-2022 account, which this wallet does not explain"
                            .into(),
                        false => "opening an account that is not the owner's associated one".into(),
                    },
                });
            }
            let exists = known.token_accounts.contains_key(&ata);
            if funder == *you && !(idempotent && exists) {
                rent += known.token_account_rent;
            }
            created.insert(ata, TokenAccount { mint, owner });
        } else if program == TOKEN_2022 {
            return Err(Unexplained::NotAPayment {
                program: "Token-2022 program",
                what: "a Token-2022 instruction, which this wallet does not explain (its extensions can change what arrives)".into(),
            });
        } else {
            return Err(Unexplained::UnknownProgram(program));
        }
    }
    let payment = one_payment(transfers)?;
    let fee_payer = keys.first().copied().unwrap_or_default();
    let fee = match fee_payer == *you {
        false => 0,
        true => {
            let limit = cu_limit.unwrap_or((counted * 200_000).min(1_400_000));
            SIGNATURE_FEE * signers as u64 + (cu_price * limit).div_ceil(1_000_000)
        }
    };
    Ok(Explained {
        fee_payer,
        fee,
        rent,
        payment,
        memos,
    })
}

/// The transfers summed, when they pay one recipient in one currency.
fn one_payment(transfers: Vec<Transfer>) -> Result<Transfer, Unexplained> {
    let mut all = transfers.into_iter();
    let mut sum = all.next().ok_or(Unexplained::NoPayment)?;
    for t in all {
        if (t.recipient, t.mint) != (sum.recipient, sum.mint) {
            let what = |t: &Transfer| match t.mint {
                None => format!("SOL to {}", t.recipient),
                Some(m) => format!("token {m} to {}", t.recipient),
            };
            return Err(Unexplained::MoreThanOnePayment(format!(
                "{} and {}",
                what(&sum),
                what(&t)
            )));
        }
        sum.amount = sum
            .amount
            .checked_add(t.amount)
            .ok_or_else(|| Unexplained::MoreThanOnePayment("amounts beyond any balance".into()))?;
    }
    Ok(sum)
}

fn system_instruction_name(tag: u32) -> &'static str {
    match tag {
        0 => "creating an account",
        1 => "assigning an account to a program",
        3 => "creating an account with a seed",
        4 => "advancing a nonce",
        5 => "withdrawing from a nonce account",
        6 => "initializing a nonce account",
        7 => "handing over a nonce account",
        8 => "allocating space",
        9 => "allocating space with a seed",
        10 => "assigning with a seed",
        11 => "a transfer with a seed",
        12 => "upgrading a nonce account",
        _ => "an unknown System instruction",
    }
}

fn token_instruction_name(tag: Option<u8>) -> &'static str {
    match tag {
        Some(3) => "a transfer that does not name the token (only TransferChecked is explained)",
        Some(4) => "letting another account spend your tokens",
        Some(5) => "revoking a delegate",
        Some(6) => "changing an account's authority",
        Some(7 | 14) => "minting tokens",
        Some(8 | 15) => "burning tokens",
        Some(9) => "closing a token account",
        Some(10) => "freezing an account",
        Some(13) => "letting another account spend your tokens",
        Some(12) => "a transfer missing its accounts",
        _ => "an instruction other than a transfer",
    }
}

/// A client for merchants' servers: HTTPS only (redirects included),
/// bounded in time; the system's certificate store (and `SSL_CERT_FILE`)
/// decides whom to trust.
pub fn http_client(limits: &Limits) -> Result<reqwest::Client, RequestError> {
    reqwest::Client::builder()
        .https_only(true)
        .timeout(limits.timeout)
        .connect_timeout(limits.timeout)
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("TOSS-Desktop/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| RequestError::Unreachable {
            host: String::new(),
            why: e.to_string(),
        })
}

fn host(url: &url::Url) -> String {
    url.host_str().unwrap_or("?").to_owned()
}

fn unreachable(url: &url::Url, e: reqwest::Error) -> RequestError {
    let why = match (e.is_timeout(), e.is_redirect(), e.is_connect()) {
        (true, ..) => "no answer in time".to_owned(),
        (_, true, _) => "it redirected elsewhere (or away from HTTPS)".to_owned(),
        _ => {
            // The innermost cause says what happened (a certificate, a refused connection).
            let mut source: &dyn std::error::Error = &e;
            while let Some(next) = source.source() {
                source = next;
            }
            source.to_string()
        }
    };
    RequestError::Unreachable {
        host: host(url),
        why,
    }
}

/// Reads an answer's body, at most `limit` bytes; an error status becomes
/// [`RequestError::Status`] with the server's message.
async fn body(
    url: &url::Url,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<(Option<String>, Vec<u8>), RequestError> {
    let too_large = || RequestError::TooLarge {
        host: host(url),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = response.status();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(url, e))? {
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.get("message")?
                    .as_str()
                    .map(|m| m.chars().take(200).collect())
            });
        return Err(RequestError::Status {
            host: host(url),
            status: status.as_u16(),
            message,
        });
    }
    Ok((kind, bytes))
}

fn bad(url: &url::Url, why: impl Into<String>) -> RequestError {
    RequestError::BadAnswer {
        host: host(url),
        why: why.into(),
    }
}

/// Sends `request` to the merchant's server at `url` and reads its JSON
/// answer (bounded by `limits`) as `T`; `what` names the exchange in errors.
async fn exchange<T: serde::de::DeserializeOwned>(
    url: &url::Url,
    request: reqwest::RequestBuilder,
    limits: &Limits,
    what: &str,
) -> Result<T, RequestError> {
    let response = request.send().await.map_err(|e| unreachable(url, e))?;
    let (_, bytes) = body(url, response, limits.max_bytes).await?;
    serde_json::from_slice(&bytes).map_err(|e| bad(url, format!("its {what} answer: {e}")))
}

/// A server's words as the screen shows them: no control characters, at
/// most `max` of them.
fn shown(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// The merchant's label and icon (the spec's GET).
pub async fn merchant(
    http: &reqwest::Client,
    link: &Link,
    limits: &Limits,
) -> Result<Merchant, RequestError> {
    let url = &link.url;
    #[derive(serde::Deserialize)]
    struct Answer {
        label: String,
        icon: Option<String>,
    }
    let answer: Answer = exchange(url, http.get(url.clone()), limits, "GET").await?;
    let label = shown(&answer.label, 100);
    let icon = match answer.icon.and_then(|i| url.join(&i).ok()) {
        Some(icon) if icon.scheme() == "https" => icon_data(http, &icon, limits).await,
        _ => None,
    };
    Ok(Merchant { label, icon })
}

/// The icon as a `data:` URL; `None` when it cannot be read or is not a
/// PNG, JPEG, WebP or SVG image (an icon is decoration, never a reason to
/// refuse).
async fn icon_data(http: &reqwest::Client, url: &url::Url, limits: &Limits) -> Option<String> {
    use base64::Engine;
    let response = http.get(url.clone()).send().await.ok()?;
    let (kind, bytes) = body(url, response, limits.max_icon_bytes).await.ok()?;
    let kind = kind?.split(';').next()?.trim().to_ascii_lowercase();
    ["image/png", "image/jpeg", "image/webp", "image/svg+xml"]
        .contains(&kind.as_str())
        .then(|| {
            format!(
                "data:{kind};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        })
}

/// What the merchant's server offered: its words and the transaction,
/// explained.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The server's `message`, if any (its words, not checked).
    pub message: Option<String>,
    /// What the transaction does, from its bytes.
    pub explained: Explained,
    /// The transaction as received.
    pub transaction: VersionedTransaction,
}

/// Posts `you` to the merchant's server (the spec's POST) and explains the
/// transaction it returns, reading from `chain` the token accounts it pays
/// into and the rent of a new one.
pub async fn offer(
    http: &reqwest::Client,
    chain: &RpcChain,
    backoff: Backoff,
    link: &Link,
    you: &Pubkey,
    limits: &Limits,
) -> Result<Offer, RequestError> {
    use base64::Engine;
    let url = &link.url;
    #[derive(serde::Deserialize)]
    struct Answer {
        transaction: String,
        message: Option<String>,
    }
    let post = http
        .post(url.clone())
        .json(&serde_json::json!({ "account": you.to_string() }));
    let answer: Answer = exchange(url, post, limits, "POST").await?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(answer.transaction.trim())
        .map_err(|e| bad(url, format!("the transaction is not base64: {e}")))?;
    let transaction = decode(&raw)?;
    let known = known(chain, backoff, &transaction).await?;
    let explained = explain(&transaction, you, &known)?;
    let message = answer.message.map(|m| shown(&m, 200));
    Ok(Offer {
        message,
        explained,
        transaction,
    })
}

/// Reads what [`explain`] needs for `tx` from the cluster.
async fn known(
    chain: &RpcChain,
    backoff: Backoff,
    tx: &VersionedTransaction,
) -> Result<Known, RequestError> {
    use solana_program::program_pack::Pack;
    let mut destinations = token_destinations(tx);
    // Accounts an ATA instruction opens: whether they already exist.
    let keys = tx.message.static_account_keys();
    for ix in tx.message.instructions() {
        if keys.get(usize::from(ix.program_id_index)) == Some(&crate::address::ATA_PROGRAM)
            && let Some(ata) = ix.accounts.get(1).and_then(|i| keys.get(usize::from(*i)))
        {
            destinations.push(*ata);
        }
    }
    let mut known = Known::default();
    for address in destinations {
        let read = crate::chain::read(backoff, || chain.account(address))
            .await?
            .map_err(RequestError::Read)?;
        if let Some(a) = read.filter(|a| a.owner == spl_token_interface::ID)
            && let Ok(t) = spl_token_interface::state::Account::unpack(&a.data)
        {
            known.token_accounts.insert(
                address,
                TokenAccount {
                    mint: t.mint,
                    owner: t.owner,
                },
            );
        }
    }
    known.token_account_rent =
        crate::chain::read(backoff, || chain.rent_exemption(TOKEN_ACCOUNT_LEN))
            .await?
            .map_err(RequestError::Read)?;
    Ok(known)
}

/// A transaction request paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paid {
    /// The transaction signature, base58.
    pub signature: String,
    /// What it did.
    pub explained: Explained,
}

/// Pays the transaction request: posts again for a fresh transaction,
/// refuses it unless it does exactly what `shown` says (the user's
/// approval), signs it with `key` and sends it, confirmed.
pub async fn pay(
    http: &reqwest::Client,
    chain: &RpcChain,
    backoff: Backoff,
    link: &Link,
    shown: &Explained,
    key: &ed25519_dalek::SigningKey,
    limits: &Limits,
) -> Result<Paid, RequestError> {
    let you = Pubkey::new_from_array(key.verifying_key().to_bytes());
    let Offer {
        explained,
        mut transaction,
        ..
    } = offer(http, chain, backoff, link, &you, limits).await?;
    if explained != *shown {
        return Err(RequestError::Changed {
            now: explained.to_string(),
        });
    }
    sign(&mut transaction, key);
    let signature = transaction.signatures.first().copied().unwrap_or_default();
    let sent = crate::chain::retrying(
        backoff,
        || async {
            match chain.signature_status(&signature).await? {
                Some(Ok(())) => Ok(()),
                Some(Err(e)) => Err(ChainError::Rejected(e)),
                None => match chain.submit_versioned(&transaction).await {
                    Err(ChainError::Rejected(
                        solana_transaction_error::TransactionError::AlreadyProcessed,
                    )) => Ok(()),
                    other => other,
                },
            }
        },
        &mut |_, _| {},
    )
    .await?;
    sent.map_err(RequestError::Rejected)?;
    Ok(Paid {
        signature: signature.to_string(),
        explained,
    })
}

/// Puts `key`'s signature in its slot of `tx`.
fn sign(tx: &mut VersionedTransaction, key: &ed25519_dalek::SigningKey) {
    use ed25519_dalek::Signer;
    let you = Pubkey::new_from_array(key.verifying_key().to_bytes());
    let bytes = tx.message.serialize();
    let signers = usize::from(tx.message.header().num_required_signatures);
    if let Some(i) = tx.message.static_account_keys()[..signers]
        .iter()
        .position(|k| *k == you)
        && let Some(slot) = tx.signatures.get_mut(i)
    {
        *slot = Signature::from(key.sign(&bytes).to_bytes());
    }
}

#[cfg(test)]
mod tests;
