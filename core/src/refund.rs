//! Refunds: handing back all or part of a payment a till received, online,
//! as a standard Solana Pay transfer to the payer (a SOL transfer, or
//! `TransferChecked` to the payer's associated token account) with a memo
//! naming the payment and two references: a fresh one of its own first (so
//! Solana Pay's `findReference` finds the refund itself, which it would
//! not under the sale's, whose oldest transaction is the payment) and the
//! sale's (so the refund is found with the sale on chain). Only money that arrived is refunded: a payment taken offline
//! once it has settled, one made online once confirmed. What was refunded
//! already, including a refund whose outcome is not yet known, is counted,
//! so refunds never exceed what was received.

use solana_program::program_pack::Pack;
use solana_program::pubkey::Pubkey;

use crate::chain::{Backoff, Chain};
use crate::request::PaymentRequest;
use crate::store::{Direction, NewRefund, RefundState, State, Store, StoreError};

/// A refund's network fee: one signature, no priority fee.
pub const FEE_LAMPORTS: u64 = 5_000;

/// What a refund costs this wallet beyond the amount handed back, in
/// lamports: shown before it is made, recorded with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cost {
    /// The network fee ([`FEE_LAMPORTS`]).
    pub fee: u64,
    /// Rent to open the payer's token account again when it was closed
    /// since the payment (a token account is the only place tokens can be
    /// sent; the account, and this rent, become the payer's). 0 otherwise.
    pub rent: u64,
}

impl Cost {
    /// Fee and rent together.
    pub fn total(&self) -> u64 {
        self.fee.saturating_add(self.rent)
    }
}

/// What refunding `what` costs now: the fee, and for a token the rent of
/// the payer's token account when it no longer exists.
pub async fn cost<C: Chain>(
    chain: &C,
    backoff: Backoff,
    what: &Refundable,
) -> Result<Cost, RefundError> {
    let mut cost = Cost {
        fee: FEE_LAMPORTS,
        rent: 0,
    };
    let Some(mint) = what.mint else {
        return Ok(cost);
    };
    let unreachable = |e| RefundError::Refused(crate::chain::SendError::from(e).into());
    let account = crate::address::associated_token_account(&what.to, &mint);
    let open = crate::chain::read(backoff, || chain.account(account))
        .await
        .map_err(unreachable)?
        .map_err(RefundError::Cost)?;
    if open.is_none() {
        cost.rent = crate::chain::read(backoff, || {
            chain.rent_exemption(spl_token_interface::state::Account::LEN)
        })
        .await
        .map_err(unreachable)?
        .map_err(RefundError::Cost)?;
    }
    Ok(cost)
}

/// A payment that can be refunded, and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refundable {
    /// The payment: an intent id (hex) or a transaction signature.
    pub payment: String,
    /// Who paid it, and gets the refund.
    pub to: Pubkey,
    /// This wallet's account it paid: the refund is made from it.
    pub from: Pubkey,
    /// The token; `None`: SOL.
    pub mint: Option<Pubkey>,
    /// The sale's reference, when known.
    pub reference: Option<Pubkey>,
    /// What the payment brought, in base units.
    pub received: u64,
    /// What was refunded already (or is being), in base units.
    pub refunded: u64,
}

impl Refundable {
    /// What is left to refund.
    pub fn left(&self) -> u64 {
        self.received.saturating_sub(self.refunded)
    }
}

/// Why a refund cannot be made, or did not go through.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    /// No payment received by this wallet has this id.
    #[error("no payment received by this wallet is {0}")]
    NotReceived(String),
    /// The payment has not brought its money yet.
    #[error("this payment is {0}, not settled: refunds are made once the money has arrived")]
    NotSettled(&'static str),
    /// Everything was refunded already.
    #[error("this payment was refunded in full already")]
    NothingLeft,
    /// The cluster answered, but not with what a refund's cost needs.
    #[error("the cluster could not say what the refund costs: {0}")]
    Cost(String),
    /// Making it now would cost more than was shown (the payer's token
    /// account was closed since): nothing was sent.
    #[error(
        "the refund would now cost {now} lamports in fees and rent, not the {shown} shown (the payer's token account was closed since): nothing was sent; ask again"
    )]
    CostChanged {
        /// What was shown, in lamports.
        shown: u64,
        /// What it would cost now.
        now: u64,
    },
    /// The amount is more than is left, or zero.
    #[error("a refund must be more than nothing and at most what is left to refund ({left})")]
    TooMuch {
        /// What is left, in words.
        left: String,
    },
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The transfer could not be made or was refused: nothing moved.
    #[error("the refund was not made: {0}")]
    Refused(crate::solana_pay::PayNowError),
    /// The cluster could not be reached after the refund was signed: it
    /// may still land; it counts as refunded until its outcome is known.
    #[error(
        "the refund's outcome is not known yet ({0}); it counts as refunded until it is: look up transaction {1}"
    )]
    Unconfirmed(String, String),
}

/// What `payment` (an intent id in hex, or an online payment's
/// transaction signature) can be refunded; `ours` says whether an address
/// is one of this wallet's.
pub fn refundable(
    store: &Store,
    payment: &str,
    ours: &dyn Fn(&Pubkey) -> bool,
) -> Result<Refundable, RefundError> {
    let not_received = || RefundError::NotReceived(payment.to_owned());
    let offline = hex::decode(payment)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok());
    let mut found = match offline {
        Some(id) => {
            let stored = match store.get(&id) {
                Ok(s) => s,
                Err(StoreError::NotFound) => return Err(not_received()),
                Err(e) => return Err(e.into()),
            };
            if stored.direction != Direction::Received {
                return Err(not_received());
            }
            if stored.state != State::Settled {
                return Err(RefundError::NotSettled(stored.state.as_str()));
            }
            let i = &stored.signed.intent;
            Refundable {
                payment: payment.to_owned(),
                to: i.payer,
                from: i.payee,
                mint: i.mint,
                reference: match store.sale_of(&id)? {
                    Some(r) => Some(r),
                    None => i.reference,
                },
                received: i.amount,
                refunded: 0,
            }
        }
        None => {
            let online = store.online_payments()?;
            let paid = online
                .iter()
                .find(|p| p.signature == payment)
                .ok_or_else(not_received)?;
            let key = |s: &str| s.parse::<Pubkey>().map_err(|_| not_received());
            let recipient = key(&paid.recipient)?;
            if !ours(&recipient) {
                return Err(not_received());
            }
            Refundable {
                payment: payment.to_owned(),
                to: key(&paid.payer)?,
                from: recipient,
                mint: paid.mint.as_deref().map(key).transpose()?,
                reference: Some(key(&paid.reference)?),
                received: paid.amount,
                refunded: 0,
            }
        }
    };
    found.refunded = crate::store::refunded(&store.refunds(Some(payment))?, payment);
    Ok(found)
}

/// A refund that landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refunded {
    /// Its transaction.
    pub signature: String,
    /// Its own reference (the first of its transfer's references).
    pub reference: Pubkey,
    /// What it cost this wallet beyond the amount.
    pub cost: Cost,
}

/// Refunds `amount` (base units) of `what` from `key`'s wallet, worded by
/// `words`: written to `store` (dated now) with its cost before it is
/// sent, its signature kept as soon as it is signed, and its outcome
/// recorded. `shown` is the cost the merchant was shown ([`cost`]): a
/// refund that would now cost more is not made.
#[allow(clippy::too_many_arguments)] // each is a separate input of one refund
pub async fn refund<C: Chain>(
    chain: &C,
    backoff: Backoff,
    store: &mut Store,
    what: &Refundable,
    amount: u64,
    shown: Cost,
    key: &ed25519_dalek::SigningKey,
    words: &dyn Fn(u64) -> String,
) -> Result<Refunded, RefundError> {
    if what.left() == 0 {
        return Err(RefundError::NothingLeft);
    }
    if amount == 0 || amount > what.left() {
        return Err(RefundError::TooMuch {
            left: words(what.left()),
        });
    }
    let cost = cost(chain, backoff, what).await?;
    if cost.total() > shown.total() {
        return Err(RefundError::CostChanged {
            shown: shown.total(),
            now: cost.total(),
        });
    }
    let decimals = crate::solana_pay::decimals(chain, backoff, what.mint)
        .await
        .map_err(RefundError::Refused)?;
    let reference = crate::request::new_reference()
        .map_err(|e| RefundError::Store(StoreError::Sqlite(e.to_string())))?;
    let request = request(what, amount, decimals, reference);
    // Dated once the cluster's answers are in, just before it is written.
    let now = i64::from(crate::session::unix_now());
    let new = NewRefund {
        payment: &what.payment,
        recipient: what.to,
        mint: what.mint,
        reference,
        amount,
        fee: cost.total(),
        at: now,
    };
    let id = store.begin_refund(&new, what.received)?;
    let mut signed = None;
    let open = match (what.mint, cost.rent) {
        (Some(mint), 1..) => {
            // `Create`, not `CreateIdempotent`: were the account opened in
            // the meantime, the refund fails and is asked again, so the
            // rent recorded is rent spent.
            let mut open =
                crate::address::create_associated_token_account(&key_address(key), &what.to, &mint);
            open.data = vec![0];
            Some(open)
        }
        _ => None,
    };
    let sent = crate::solana_pay::pay(chain, backoff, &request, key, open, &mut |s| {
        // Kept before it is sent: after a crash, the refund can be looked up.
        if let Err(e) = store.refund_signed(id, s) {
            tracing::warn!(error = %e, "a refund's signature could not be kept");
        }
        signed = Some(s.to_owned());
    })
    .await;
    match sent {
        Ok(sent) => {
            store.refund_ended(id, RefundState::Confirmed)?;
            Ok(Refunded {
                signature: sent.signature,
                reference,
                cost,
            })
        }
        Err(e) if e.unreachable().is_some() && signed.is_some() => Err(RefundError::Unconfirmed(
            e.to_string(),
            signed.unwrap_or_default(),
        )),
        Err(e) => {
            store.refund_ended(id, RefundState::Failed)?;
            Err(RefundError::Refused(e))
        }
    }
}

/// The address of `key`.
fn key_address(key: &ed25519_dalek::SigningKey) -> Pubkey {
    Pubkey::new_from_array(key.verifying_key().to_bytes())
}

/// Settles what is known of refunds still `sending` (the app stopped, or
/// the cluster could not be reached, while they were sent): each whose
/// transaction the cluster knows is marked confirmed or failed. One whose
/// signature was never kept is looked for under its own reference, and
/// its signature kept when found. One the cluster does not know stays
/// counted: absence proves nothing (an RPC's address index can miss a
/// transaction for seconds while its block is rooted), and a refund taken
/// for failed could be paid twice. A cluster out of reach changes nothing.
pub async fn resolve(chain: &crate::chain::RpcChain, store: &mut Store) -> Result<(), StoreError> {
    let confirmed = solana_commitment_config::CommitmentConfig::confirmed();
    for r in store.refunds(None)? {
        if r.state != RefundState::Sending {
            continue;
        }
        let signature = match r.signature {
            Some(s) => s,
            None => match chain.signatures_for(&r.reference, confirmed).await {
                // The oldest transaction carrying its reference is it.
                Ok(found) => match found.last() {
                    Some(s) => {
                        store.refund_signed(r.id, s)?;
                        s.clone()
                    }
                    None => continue,
                },
                Err(_) => continue,
            },
        };
        let Ok(signature) = signature.parse::<solana_signature::Signature>() else {
            continue;
        };
        match chain.signature_status(&signature).await {
            Ok(Some(Ok(()))) => store.refund_ended(r.id, RefundState::Confirmed)?,
            Ok(Some(Err(_))) => store.refund_ended(r.id, RefundState::Failed)?,
            Ok(None) | Err(_) => {}
        }
    }
    Ok(())
}

/// The refund as a Solana Pay transfer request to the payer: the standard
/// transfer, its own `reference` then the sale's, a memo naming the
/// payment.
fn request(what: &Refundable, amount: u64, decimals: u8, reference: Pubkey) -> PaymentRequest {
    let mut r = PaymentRequest::new(what.to);
    r.amount = Some(crate::amount::format(amount, decimals));
    r.spl_token = what.mint;
    r.references = std::iter::once(reference).chain(what.reference).collect();
    r.memo = Some(format!("TOSS refund of {}", what.payment));
    r
}
