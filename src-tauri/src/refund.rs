//! Refunds from a payment's detail: what can be handed back and what it
//! costs, shown before anything is sent; then the refund itself, online,
//! through the gate (`toss_core::refund`).

use serde::Serialize;
use tauri::State;
use toss_core::address::Address;
use toss_core::refund::{self, Cost, FEE_LAMPORTS, Refundable};
use toss_core::session::KeyUse;
use toss_core::store::Store;

use crate::error::CommandError;
use crate::state::{AppState, text};

/// What a payment's refund would be, before it is made.
#[derive(Debug, Serialize)]
pub struct RefundQuote {
    pub payment: String,
    /// Who gets it back.
    pub to: String,
    pub received_text: String,
    pub refunded_text: String,
    pub refundable_text: String,
    /// The most that can be refunded, as decimal text to type (the
    /// settings' separator).
    pub max: String,
    /// The network fee this wallet pays for it.
    pub fee_text: String,
    /// Rent this wallet pays to open the payer's token account again
    /// (closed since the payment), in lamports: 0 when none. Sent back
    /// with the refund, which is not made if it would cost more.
    pub rent: u64,
    /// That rent in words; `None` when none.
    pub rent_text: Option<String>,
}

/// A refund made.
#[derive(Debug, Serialize)]
pub struct Refunded {
    pub signature: String,
    pub amount_text: String,
    pub fee_text: String,
    /// The rent it paid to open the payer's token account; `None`: none.
    pub rent_text: Option<String>,
    pub explorer: String,
}

/// One refund of a payment, as its detail lists it.
#[derive(Debug, Serialize)]
pub struct RefundLine {
    pub signature: Option<String>,
    pub amount_text: String,
    /// What it cost this wallet (the fee, and rent when it opened the
    /// payer's token account), in SOL; `None` for a failed refund, which
    /// moved nothing.
    pub cost_text: Option<String>,
    /// `sending` (outcome not known yet), `confirmed` or `failed`.
    pub state: toss_core::store::RefundState,
    pub at: i64,
}

/// This wallet's accounts, and the store: what deciding a refund reads.
fn ours_and_store(state: &AppState) -> Result<(Vec<Address>, Store), CommandError> {
    let session = state.session()?;
    let ours = session.accounts()?.iter().map(|a| a.address).collect();
    Ok((ours, session.store()?))
}

/// What `payment` can be refunded, `ours` being this wallet's accounts.
fn refundable(store: &Store, ours: &[Address], payment: &str) -> Result<Refundable, CommandError> {
    let what = refund::refundable(store, payment.trim(), &|k| {
        ours.iter().any(|a| a.to_bytes() == k.to_bytes())
    });
    Ok(what.map_err(text)?)
}

/// The refunds of `payment`, for its detail.
pub fn lines(state: &AppState, payment: &str) -> Result<Vec<RefundLine>, CommandError> {
    let session = state.session()?;
    let config = session.config().clone();
    let refunds = session.store()?.refunds(Some(payment)).map_err(text)?;
    Ok(refunds
        .into_iter()
        .map(|r| RefundLine {
            amount_text: crate::state::money(&config, r.amount, r.mint.as_ref()),
            cost_text: (r.state != toss_core::store::RefundState::Failed)
                .then(|| crate::state::money(&config, r.fee, None)),
            signature: r.signature,
            state: r.state,
            at: r.at,
        })
        .collect())
}

/// What refunding `payment` (an intent id, or an online payment's
/// signature) can hand back, and what it costs: the fee, and rent when the
/// payer's token account must be opened again (read from the cluster).
#[tauri::command]
pub async fn refund_quote(
    state: State<'_, AppState>,
    payment: String,
) -> Result<RefundQuote, CommandError> {
    let (ours, mut store) = ours_and_store(&state)?;
    let session = state.session()?;
    let config = session.config().clone();
    let (chain, backoff) = (session.chain(), session.backoff());
    crate::state::on_own_thread(move || async move {
        // Refunds whose outcome was not known (the app stopped, or the
        // cluster went away, while one was sent) are looked up first, so
        // one that failed no longer counts.
        refund::resolve(&chain, &mut store).await.map_err(text)?;
        let what = refundable(&store, &ours, &payment)?;
        if what.left() == 0 {
            return Err(text(refund::RefundError::NothingLeft).into());
        }
        let decimals = toss_core::currency::Currency::of_mint(what.mint.as_ref(), config.cluster)
            .map(|c| c.decimals)
            .map_err(text)?;
        let cost = refund::cost(&chain, backoff, &what)
            .await
            .map_err(|e| toss_core::chain::redact_urls(&e.to_string()))?;
        let money = |units| crate::state::money(&config, units, what.mint.as_ref());
        Ok(RefundQuote {
            payment: what.payment.clone(),
            to: what.to.to_string(),
            received_text: money(what.received),
            refunded_text: money(what.refunded),
            refundable_text: money(what.left()),
            max: config.decimal_separator.format(what.left(), decimals),
            fee_text: crate::state::money(&config, cost.fee, None),
            rent: cost.rent,
            rent_text: (cost.rent > 0).then(|| crate::state::money(&config, cost.rent, None)),
        })
    })
    .await
}

/// Refunds `amount` (decimal text, the settings' separator) of `payment`
/// to its payer, from the account it paid (through the gate); `rent` is
/// the rent its quote showed: a refund that would now cost more is not
/// made.
#[tauri::command]
pub async fn refund(
    state: State<'_, AppState>,
    payment: String,
    amount: String,
    rent: u64,
    passphrase: Option<String>,
) -> Result<Refunded, CommandError> {
    let (ours, mut store) = ours_and_store(&state)?;
    let what = refundable(&store, &ours, &payment)?;
    let session = state.session()?;
    let config = session.config().clone();
    let decimals = toss_core::currency::Currency::of_mint(what.mint.as_ref(), config.cluster)
        .map(|c| c.decimals)
        .map_err(text)?;
    let units = config
        .decimal_separator
        .parse(amount.trim(), decimals)
        .map_err(text)?;
    // From the account the payment reached.
    let key = session.signing_key(&what.from, KeyUse::Payment, passphrase.as_deref())?;
    let (chain, backoff) = (session.chain(), session.backoff());
    crate::state::on_own_thread(move || async move {
        let mint = what.mint;
        let words = |u| crate::state::money(&config, u, mint.as_ref());
        let shown = Cost {
            fee: FEE_LAMPORTS,
            rent,
        };
        let done = refund::refund(
            &chain, backoff, &mut store, &what, units, shown, &key, &words,
        )
        .await
        .map_err(|e| toss_core::chain::redact_urls(&e.to_string()))?;
        let signature = done.signature;
        Ok(Refunded {
            amount_text: words(units),
            fee_text: crate::state::money(&config, done.cost.fee, None),
            rent_text: (done.cost.rent > 0)
                .then(|| crate::state::money(&config, done.cost.rent, None)),
            explorer: config.cluster.explorer_tx(&signature, &config.rpc_url),
            signature,
        })
    })
    .await
}
