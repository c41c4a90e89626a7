//! The activity screen: every payment kept, one in detail with its history
//! and settlement transaction, the CSV export, and "Settle now" with the
//! engine's progress as events.

use serde::Serialize;
use tauri::State;
use toss_core::settle::Progress;
use toss_core::store::Summary;

use crate::error::CommandError;
use crate::state::{AppState, Terms, money, on_own_thread, payment_id, text};

/// One payment in the activity list, its amount as the window shows it.
#[derive(Debug, Serialize)]
pub struct ActivityRow {
    #[serde(flatten)]
    pub summary: Summary,
    pub amount_text: String,
}

/// Every intent this wallet keeps, newest first.
#[tauri::command]
pub fn activity(state: State<'_, AppState>) -> Result<Vec<ActivityRow>, CommandError> {
    let session = state.session()?;
    let rows = session.store()?.list().map_err(text)?;
    Ok(rows
        .into_iter()
        .map(|summary| {
            let mint = summary.mint.as_deref().and_then(|m| m.parse().ok());
            ActivityRow {
                amount_text: money(session.config(), summary.amount, mint.as_ref()),
                summary,
            }
        })
        .collect())
}

/// Everything kept about one intent, for its detail view.
#[derive(Debug, Serialize)]
pub struct Detail {
    pub id: String,
    pub direction: &'static str,
    pub state: &'static str,
    #[serde(flatten)]
    pub terms: Terms,
    pub reference: Option<String>,
    pub nonce: u64,
    pub created_at: u32,
    pub expires_at: u32,
    pub durable: bool,
    pub signature: String,
    pub history: Vec<toss_core::store::Event>,
    /// The settlement transaction, once there is one, and where to see it.
    pub settlement: Option<String>,
    pub explorer: Option<String>,
    /// Refunds made of it.
    pub refunds: Vec<crate::refund::RefundLine>,
}

#[tauri::command]
pub fn intent_detail(state: State<'_, AppState>, id: String) -> Result<Detail, CommandError> {
    let id = payment_id(&id)?;
    let session = state.session()?;
    let config = session.config();
    let store = session.store()?;
    let stored = store.get(&id).map_err(text)?;
    let settlement = store.settlement(&id).map_err(text)?;
    let explorer = settlement
        .as_ref()
        .map(|sig| config.cluster.explorer_tx(sig, &config.rpc_url));
    let i = &stored.signed.intent;
    Ok(Detail {
        id: hex::encode(stored.id),
        direction: stored.direction.as_str(),
        state: stored.state.as_str(),
        terms: Terms::of(config, i),
        reference: i.reference.map(|r| r.to_string()),
        nonce: i.nonce,
        created_at: i.created_at,
        expires_at: i.expires_at,
        durable: stored.tx_signature.is_some(),
        signature: hex::encode(stored.signed.signature),
        history: stored.history,
        settlement,
        explorer,
        refunds: crate::refund::lines(&state, &hex::encode(id))?,
    })
}

/// Writes the activity as CSV to `path`: the intents, then the payments
/// made online; how many rows it holds.
#[tauri::command]
pub fn activity_export(
    state: State<'_, AppState>,
    path: std::path::PathBuf,
) -> Result<usize, CommandError> {
    let session = state.session()?;
    let store = session.store()?;
    let rows = store.list().map_err(text)?;
    let online = store.online_payments().map_err(text)?;
    let ours: Vec<String> = session
        .accounts()?
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    let refunds = store.refunds(None).map_err(text)?;
    let refunded = |payment: &str| toss_core::store::refunded(&refunds, payment);
    let csv = toss_core::store::to_csv(
        &rows,
        &online,
        &|payer| ours.iter().any(|o| o == payer),
        &refunded,
    );
    std::fs::write(&path, csv).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(rows.len() + online.len())
}

/// The event "Settle now" reports its progress with (the engine's own
/// progress: started, submitting, retrying, resolved).
pub const SETTLE_EVENT: &str = "settle";

/// How a "Settle now" ended.
#[derive(Debug, Serialize)]
pub struct Settled {
    /// Intents that reached an outcome, and how many of them were paid.
    pub resolved: usize,
    pub paid: usize,
    /// The same, in words.
    pub text: String,
}

/// One step of settlement as the window gets it: the engine's progress and
/// the words the core gives it.
#[derive(Debug, Serialize)]
pub struct SettleEvent<'a> {
    #[serde(flatten)]
    pub progress: &'a Progress,
    pub text: Option<String>,
}

/// Submits every waiting intent now; fees are paid by TOSS_FEE_PAYER when
/// set, else by this wallet's first account (through the gate).
#[tauri::command]
pub async fn settle_now<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: Option<String>,
) -> Result<Settled, CommandError> {
    use tauri::Emitter;

    let session = state.session()?;
    session.program_id()?;
    let fee_payer = session.fee_payer(passphrase.as_deref())?;
    let mut store = session.store()?;
    let engine = session.engine(&fee_payer)?;
    let now = i64::from(session.now());
    on_own_thread(move || async move {
        let mut tell = |p: Progress| {
            let event = SettleEvent {
                text: p.describe(),
                progress: &p,
            };
            if let Err(e) = app.emit(SETTLE_EVENT, &event) {
                tracing::warn!(error = %e, "a settlement event could not reach the window");
            }
        };
        let results = engine.settle_all(&mut store, now, &mut tell).await?;
        // Expired intents' settlement records: their rent comes back.
        engine.reclaim_rent(&mut store, now, &mut tell).await?;
        Ok(Settled {
            resolved: results.len(),
            paid: results.iter().filter(|(_, o)| o.paid()).count(),
            text: toss_core::settle::summary(&results),
        })
    })
    .await
}

/// A payment made online (to this till by any wallet, or by this wallet
/// with "Pay now"), as the activity shows it.
#[derive(Debug, Serialize)]
pub struct OnlineRow {
    #[serde(flatten)]
    pub payment: toss_core::store::OnlinePayment,
    pub amount_text: String,
    /// Where to see the transaction.
    pub explorer: String,
    /// Refunds made of it.
    pub refunds: Vec<crate::refund::RefundLine>,
}

/// Every online payment kept, newest first.
#[tauri::command]
pub fn online_activity(state: State<'_, AppState>) -> Result<Vec<OnlineRow>, CommandError> {
    let session = state.session()?;
    let config = session.config();
    let rows = session.store()?.online_payments().map_err(text)?;
    rows.into_iter()
        .map(|payment| {
            let mint = payment.mint.as_deref().and_then(|m| m.parse().ok());
            Ok(OnlineRow {
                amount_text: money(config, payment.amount, mint.as_ref()),
                explorer: config
                    .cluster
                    .explorer_tx(&payment.signature, &config.rpc_url),
                refunds: crate::refund::lines(&state, &payment.signature)?,
                payment,
            })
        })
        .collect()
}
