//! Signing intents (payer side) and verifying them offline (payee side).
//!
//! The wire format itself lives in `toss_program::intent`, shared with the
//! on-chain program; this module adds what needs a secret key or a clock:
//! Ed25519 signatures and the payee's offline acceptance rules. Nothing is
//! trusted before its signature has been checked.

use std::collections::{BTreeMap, HashMap, HashSet};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use solana_program::pubkey::Pubkey;
pub use toss_program::intent::{
    DurableNonce, Intent, IntentError, SignedIntent, cluster, conflict_order,
};

/// How far a payer's clock may run ahead of the payee's before an intent
/// "created in the future" is refused (documented in docs/intent.md).
pub const CLOCK_SKEW_SECONDS: u32 = 300;

/// Why an intent could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The intent breaks an encoding rule (zero amount, self-payment, validity, memo).
    #[error(transparent)]
    Intent(#[from] IntentError),
    /// The signing key is not the intent's payer.
    #[error("this key ({key}) is not the intent's payer ({payer})")]
    NotThePayer {
        /// The public key of the signing key offered.
        key: Pubkey,
        /// The intent's payer, who alone may sign it.
        payer: Pubkey,
    },
}

/// Signs `intent` as its payer. The key must be the payer's: a wallet must
/// never produce an intent whose signature cannot verify.
pub fn sign(intent: Intent, key: &SigningKey) -> Result<SignedIntent, SignError> {
    let signer = Pubkey::new_from_array(key.verifying_key().to_bytes());
    if signer != intent.payer {
        return Err(SignError::NotThePayer {
            key: signer,
            payer: intent.payer,
        });
    }
    let body = intent.encode()?;
    let signature = key.sign(&body).to_bytes();
    Ok(SignedIntent { intent, signature })
}

/// Why a payee refuses an intent. Each rule has its own variant so the UI and
/// scripts can react precisely; the messages are meant for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The bytes are not a valid intent.
    #[error("not a valid intent: {0}")]
    Malformed(#[from] IntentError),
    /// A durable intent's transaction signature is missing or does not verify.
    #[error(transparent)]
    Durable(durable::DurableError),
    /// The signature is not the payer's over the body; carries the payer.
    #[error("the signature does not match the payer {0}: the intent was altered or forged")]
    BadSignature(Pubkey),
    /// The payee is off the Ed25519 curve (a token account or program
    /// address), which no wallet owns; carries it.
    #[error(
        "the payee {0} is not a wallet address (a token account or program address): the payment could never be spent"
    )]
    PayeeNotWallet(Pubkey),
    /// The intent names another cluster.
    #[error(
        "the intent is for another cluster (genesis prefix {got}, this wallet settles on {expected})"
    )]
    WrongCluster {
        /// This wallet's genesis prefix, hex.
        expected: String,
        /// The intent's genesis prefix, hex.
        got: String,
    },
    /// The intent names another TOSS program deployment.
    #[error(
        "the intent names program {got}, not the TOSS program this wallet settles with ({expected})"
    )]
    WrongProgram {
        /// The program this wallet settles with.
        expected: Pubkey,
        /// The program the intent names.
        got: Pubkey,
    },
    /// The intent pays someone else.
    #[error("the intent pays {got}, not this wallet ({expected})")]
    WrongPayee {
        /// This wallet, the payee verifying.
        expected: Pubkey,
        /// The payee the intent names.
        got: Pubkey,
    },
    /// The amount differs from the one requested.
    #[error("the intent is for {got} base units, but {expected} were requested")]
    WrongAmount {
        /// Base units requested.
        expected: u64,
        /// Base units the intent pays.
        got: u64,
    },
    /// The currency differs from the one requested.
    #[error("the intent pays in {got}, but {expected} was requested")]
    WrongMint {
        /// The mint requested, base58, or `SOL`.
        expected: String,
        /// The mint the intent pays in, base58, or `SOL`.
        got: String,
    },
    /// The intent expired by the payee's clock.
    #[error("the intent expired at {expires_at} (now {now})")]
    Expired {
        /// The intent's expiry, Unix seconds.
        expires_at: u32,
        /// The payee's clock, Unix seconds.
        now: u32,
    },
    /// The intent was created more than [`CLOCK_SKEW_SECONDS`] ahead of the payee's clock.
    #[error(
        "the intent claims to be created at {created_at}, ahead of this clock ({now}) by more than {CLOCK_SKEW_SECONDS} s; check both clocks"
    )]
    FromTheFuture {
        /// When the payer says it signed, Unix seconds.
        created_at: u32,
        /// The payee's clock, Unix seconds.
        now: u32,
    },
    /// Too little time is left to get online and settle.
    #[error(
        "the intent expires in {remaining} s, less than the {minimum} s needed to settle it safely"
    )]
    ExpiresTooSoon {
        /// Seconds left before expiry.
        remaining: u32,
        /// Seconds the payee needs (`min_remaining_seconds`).
        minimum: u32,
    },
    /// This payee already received this exact intent.
    #[error("this intent was already received")]
    AlreadySeen,
    /// This payee already holds another intent of the payer's with this
    /// nonce that can still settle, or settled: only one ever can.
    #[error(
        "this payer already gave this wallet a payment with nonce {0}; only one of the two could ever settle, so this one is refused"
    )]
    NonceReused(u64),
    /// The payee sets no offline limit for this currency; carries the mint or `SOL`.
    #[error("no offline limit is set for {0}; this wallet does not accept it offline")]
    NoLimitForMint(String),
    /// Accepting it would take all payers' unsettled total over the limit.
    #[error(
        "this wallet already holds {total} base units unsettled from all payers; {amount} more is over its offline limit of {limit}: settle what it holds first"
    )]
    OverTillLimit {
        /// What all payers owe unsettled, base units.
        total: u64,
        /// The intent's amount, base units.
        amount: u64,
        /// The most all payers together may owe unsettled, base units.
        limit: u64,
    },
    /// The amount is below the smallest payment taken offline.
    #[error(
        "{amount} base units is below the smallest payment this till takes offline ({minimum}): settling it would cost more in fees than it brings"
    )]
    BelowMinimum {
        /// The intent's amount, base units.
        amount: u64,
        /// The smallest single payment accepted, base units.
        minimum: u64,
    },
    /// The amount exceeds the per-payment offline limit.
    #[error("{amount} base units is over the offline limit of {limit} for one payment")]
    OverSingleLimit {
        /// The intent's amount, base units.
        amount: u64,
        /// The largest single payment accepted, base units.
        limit: u64,
    },
    /// Accepting it would take the payer's unsettled total over the limit.
    #[error(
        "this payer already owes {unsettled} base units (unsettled, or bounced and never paid); {amount} more is over the offline limit of {limit}"
    )]
    OverPayerLimit {
        /// What the payer already owes unsettled, base units.
        unsettled: u64,
        /// The intent's amount, base units.
        amount: u64,
        /// The most one payer may owe unsettled, base units.
        limit: u64,
    },
}

impl From<durable::DurableError> for VerifyError {
    fn from(e: durable::DurableError) -> Self {
        match e {
            durable::DurableError::Intent(e) => VerifyError::Malformed(e),
            other => VerifyError::Durable(other),
        }
    }
}

/// Checks the payer's Ed25519 signature over the canonical body, with the
/// strict rules the Solana precompile applies (no malleable or small-order
/// signatures), and refuses a payer key with a small-order component
/// (never a real wallet's): the precompile can accept such a key's
/// signature, the program's own check (for clusters without the precompile)
/// cannot, and a payment taken must settle on either path.
pub fn verify_signature(signed: &SignedIntent) -> Result<(), VerifyError> {
    let payer = signed.intent.payer;
    let bad = || VerifyError::BadSignature(payer);
    let torsion_free = curve25519_dalek::edwards::CompressedEdwardsY(payer.to_bytes())
        .decompress()
        .is_some_and(|p| p.is_torsion_free());
    if !torsion_free {
        return Err(bad());
    }
    let key = VerifyingKey::from_bytes(&payer.to_bytes()).map_err(|_| bad())?;
    let body = signed.intent.encode()?;
    key.verify_strict(&body, &Signature::from_bytes(&signed.signature))
        .map_err(|_| bad())
}

/// What the payee asked for, when it asked for something specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Base units asked for: lamports, or the mint's smallest unit.
    pub amount: u64,
    /// `None` for SOL.
    pub mint: Option<Pubkey>,
}

/// Offline limits for one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Smallest single intent accepted offline: below it, settling costs
    /// the payee more in fees than the payment brings.
    pub min_single: u64,
    /// Largest single intent accepted offline.
    pub max_single: u64,
    /// Largest total of unsettled intents from one payer.
    pub max_unsettled_per_payer: u64,
    /// Largest total of unsettled intents from all payers together: what
    /// the till can lose if every payer's escrow comes up short.
    pub max_unsettled_total: u64,
}

/// The least validity a TOSS payee accepts an intent with: an hour left to
/// get online and settle (docs/intent.md, "What a payee accepts"). A payer
/// refuses to make intents that expire sooner.
pub const MIN_REMAINING_SECONDS: u32 = 3_600;

/// The payee's offline risk policy. Offline, a payer can sign more than its
/// escrow holds; these limits bound what one payer can leave unpaid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskLimits {
    /// Keyed by mint (`None` = SOL). A mint without an entry is refused.
    pub per_mint: BTreeMap<Option<Pubkey>, Limit>,
    /// The least time before expiry that leaves room to get online and settle.
    pub min_remaining_seconds: u32,
}

impl Default for RiskLimits {
    /// SOL only: 0.0001 to 2 SOL per payment, 10 SOL unsettled per payer,
    /// 50 SOL unsettled in all, one hour left.
    fn default() -> Self {
        Self {
            per_mint: BTreeMap::from([(
                None,
                Limit {
                    min_single: 100_000,
                    max_single: 2_000_000_000,
                    max_unsettled_per_payer: 10_000_000_000,
                    max_unsettled_total: 50_000_000_000,
                },
            )]),
            min_remaining_seconds: MIN_REMAINING_SECONDS,
        }
    }
}

/// What the payee already holds: the seen-set and unsettled totals. The store
/// persists it; [`MemoryLedger`] keeps it in memory.
pub trait Ledger {
    /// Whether the intent with this id was already received.
    fn seen(&self, id: &[u8; 32]) -> bool;
    /// Whether another intent of `payer`'s with `nonce` was received and
    /// has not ended unsettled (expired, failed): the nonce settles once.
    fn nonce_held(&self, payer: &Pubkey, nonce: u64) -> bool;
    /// Sum of intents received from `payer` in `mint` and not settled:
    /// those waiting, and those that bounced (failed, conflicted).
    fn unsettled(&self, payer: &Pubkey, mint: Option<&Pubkey>) -> u64;
    /// The same, from every payer together.
    fn unsettled_total(&self, mint: Option<&Pubkey>) -> u64;
}

/// An in-memory [`Ledger`].
#[derive(Debug, Default)]
pub struct MemoryLedger {
    seen: HashSet<[u8; 32]>,
    nonces: HashSet<(Pubkey, u64)>,
    unsettled: HashMap<(Pubkey, Option<Pubkey>), u64>,
}

impl MemoryLedger {
    /// Records an accepted intent.
    pub fn record(&mut self, accepted: &Accepted) {
        self.seen.insert(accepted.id);
        let i = &accepted.signed.intent;
        self.nonces.insert((i.payer, i.nonce));
        let total = self.unsettled.entry((i.payer, i.mint)).or_default();
        *total = total.saturating_add(i.amount);
    }
}

impl Ledger for MemoryLedger {
    fn seen(&self, id: &[u8; 32]) -> bool {
        self.seen.contains(id)
    }

    fn nonce_held(&self, payer: &Pubkey, nonce: u64) -> bool {
        self.nonces.contains(&(*payer, nonce))
    }

    fn unsettled(&self, payer: &Pubkey, mint: Option<&Pubkey>) -> u64 {
        self.unsettled
            .get(&(*payer, mint.copied()))
            .copied()
            .unwrap_or(0)
    }

    fn unsettled_total(&self, mint: Option<&Pubkey>) -> u64 {
        self.unsettled
            .iter()
            .filter(|((_, m), _)| m.as_ref() == mint)
            .fold(0u64, |sum, (_, v)| sum.saturating_add(*v))
    }
}

/// An intent that passed every offline check, with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The intent, its signature checked.
    pub signed: SignedIntent,
    /// Its intent id (SHA-256 of body and signature).
    pub id: [u8; 32],
    /// The payer's settlement-transaction signature, for a durable intent.
    pub tx_signature: Option<[u8; 64]>,
}

/// The payee's view: who it is and where it settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    /// Genesis prefix of the cluster the payee settles on.
    pub cluster: [u8; 8],
    /// The TOSS program deployment the payee settles with.
    pub program_id: Pubkey,
    /// The payee: intents must pay this address.
    pub payee: Pubkey,
    /// The offline risk limits applied.
    pub limits: RiskLimits,
}

impl Verifier {
    /// Runs every offline check on wire bytes, in the order docs/intent.md
    /// gives: the signature first, so nothing from a forged intent is used.
    pub fn verify(
        &self,
        wire: &[u8],
        request: Option<Request>,
        now: u32,
        ledger: &impl Ledger,
    ) -> Result<Accepted, VerifyError> {
        let (signed, tx_signature) = durable::split(wire)?;
        verify_signature(&signed)?;
        if let Some(sig) = &tx_signature {
            durable::transaction(&signed, sig)?;
        }
        let i = &signed.intent;
        if !crate::request::on_curve(&i.payee) {
            return Err(VerifyError::PayeeNotWallet(i.payee));
        }
        if i.cluster != self.cluster {
            return Err(VerifyError::WrongCluster {
                expected: hex(&self.cluster),
                got: hex(&i.cluster),
            });
        }
        if i.program_id != self.program_id {
            return Err(VerifyError::WrongProgram {
                expected: self.program_id,
                got: i.program_id,
            });
        }
        if i.payee != self.payee {
            return Err(VerifyError::WrongPayee {
                expected: self.payee,
                got: i.payee,
            });
        }
        if let Some(req) = request {
            if i.mint != req.mint {
                return Err(VerifyError::WrongMint {
                    expected: mint_name(req.mint.as_ref()),
                    got: mint_name(i.mint.as_ref()),
                });
            }
            if i.amount != req.amount {
                return Err(VerifyError::WrongAmount {
                    expected: req.amount,
                    got: i.amount,
                });
            }
        }
        if now >= i.expires_at {
            return Err(VerifyError::Expired {
                expires_at: i.expires_at,
                now,
            });
        }
        if i.created_at > now.saturating_add(CLOCK_SKEW_SECONDS) {
            return Err(VerifyError::FromTheFuture {
                created_at: i.created_at,
                now,
            });
        }
        let remaining = i.expires_at - now;
        if remaining < self.limits.min_remaining_seconds {
            return Err(VerifyError::ExpiresTooSoon {
                remaining,
                minimum: self.limits.min_remaining_seconds,
            });
        }
        let id = signed.id()?;
        if ledger.seen(&id) {
            return Err(VerifyError::AlreadySeen);
        }
        if ledger.nonce_held(&i.payer, i.nonce) {
            return Err(VerifyError::NonceReused(i.nonce));
        }
        let limit = self
            .limits
            .per_mint
            .get(&i.mint)
            .ok_or_else(|| VerifyError::NoLimitForMint(mint_name(i.mint.as_ref())))?;
        if i.amount < limit.min_single {
            return Err(VerifyError::BelowMinimum {
                amount: i.amount,
                minimum: limit.min_single,
            });
        }
        if i.amount > limit.max_single {
            return Err(VerifyError::OverSingleLimit {
                amount: i.amount,
                limit: limit.max_single,
            });
        }
        let unsettled = ledger.unsettled(&i.payer, i.mint.as_ref());
        if unsettled.saturating_add(i.amount) > limit.max_unsettled_per_payer {
            return Err(VerifyError::OverPayerLimit {
                unsettled,
                amount: i.amount,
                limit: limit.max_unsettled_per_payer,
            });
        }
        let total = ledger.unsettled_total(i.mint.as_ref());
        if total.saturating_add(i.amount) > limit.max_unsettled_total {
            return Err(VerifyError::OverTillLimit {
                total,
                amount: i.amount,
                limit: limit.max_unsettled_total,
            });
        }
        Ok(Accepted {
            signed,
            id,
            tx_signature,
        })
    }
}

fn mint_name(mint: Option<&Pubkey>) -> String {
    mint.map_or_else(|| "SOL".to_owned(), Pubkey::to_string)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub mod durable;
#[cfg(test)]
mod tests;
