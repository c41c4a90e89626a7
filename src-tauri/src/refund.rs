//! Refunds from a payment's detail: what can be handed back and what it
//! costs, shown before anything is sent; then the refund itself, online,
//! through the gate (`toss_core::refund`).

use serde::Serialize;
use tauri::State;
use toss_core::refund::{self, FEE_LAMPORTS, Refundable};
use toss_core::session::KeyUse;

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
}

/// A refund made.
#[derive(Debug, Serialize)]
pub struct Refunded {
    pub signature: String,
    pub amount_text: String,
    pub fee_text: String,
    pub explorer: String,
}

/// One refund of a payment, as its detail lists it.
#[derive(Debug, Serialize)]
pub struct RefundLine {
    pub signature: Option<String>,
    pub amount_text: String,
    /// `sending` (outcome not known yet), `confirmed` or `failed`.
    pub state: toss_core::store::RefundState,
    pub at: i64,
}

fn refundable(state: &AppState, payment: &str) -> Result<Refundable, CommandError> {
    let session = state.session()?;
    let ours: Vec<_> = session
        .accounts()?
        .iter()
        .map(|a| a.address.into())
        .collect();
    let store = session.store()?;
    Ok(refund::refundable(&store, payment.trim(), &|k| ours.contains(k)).map_err(text)?)
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
            signature: r.signature,
            state: r.state,
            at: r.at,
        })
        .collect())
}

/// What refunding `payment` (an intent id, or an online payment's
/// signature) can hand back, and its fee.
#[tauri::command]
pub fn refund_quote(
    state: State<'_, AppState>,
    payment: String,
) -> Result<RefundQuote, CommandError> {
    let what = refundable(&state, &payment)?;
    if what.left() == 0 {
        return Err(text(refund::RefundError::NothingLeft).into());
    }
    let config = state.session()?.config().clone();
    let money = |units| crate::state::money(&config, units, what.mint.as_ref());
    let decimals = toss_core::currency::Currency::of_mint(what.mint.as_ref(), config.cluster)
        .map(|c| c.decimals)
        .map_err(text)?;
    Ok(RefundQuote {
        payment: what.payment.clone(),
        to: what.to.to_string(),
        received_text: money(what.received),
        refunded_text: money(what.refunded),
        refundable_text: money(what.left()),
        max: config.decimal_separator.format(what.left(), decimals),
        fee_text: crate::state::money(&config, FEE_LAMPORTS, None),
    })
}

/// Refunds `amount` (decimal text, the settings' separator) of `payment`
/// to its payer, from the account it paid (through the gate).
#[tauri::command]
pub async fn refund(
    state: State<'_, AppState>,
    payment: String,
    amount: String,
    passphrase: Option<String>,
) -> Result<Refunded, CommandError> {
    let what = refundable(&state, &payment)?;
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
    let mut store = session.store()?;
    crate::state::on_own_thread(move || async move {
        let mint = what.mint;
        let words = |u| crate::state::money(&config, u, mint.as_ref());
        let signature = refund::refund(&chain, backoff, &mut store, &what, units, &key, &words)
            .await
            .map_err(|e| toss_core::chain::redact_urls(&e.to_string()))?
            .signature;
        Ok(Refunded {
            amount_text: words(units),
            fee_text: crate::state::money(&config, FEE_LAMPORTS, None),
            explorer: config.cluster.explorer_tx(&signature, &config.rpc_url),
            signature,
        })
    })
    .await
}
