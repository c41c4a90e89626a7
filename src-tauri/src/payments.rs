//! Paying by QR code and taking a payment shown as one: the payer signs an
//! intent offline (through the gate) and shows it; the till reads it and
//! checks it offline.

use serde::Serialize;
use tauri::State;
use toss_core::currency::Currency;
use toss_core::payment::{self, Order};
use toss_core::session::{self, KeyUse};
use toss_core::transport::animated::Sender;
use toss_core::transport::qr;

use crate::error::CommandError;
use crate::state::{AppState, address, on_own_thread, text};

/// Bytes per animated part when an intent needs more than one code.
const FRAGMENT: usize = 300;

/// A signed intent ready to hand over.
#[derive(Debug, Serialize)]
pub struct PayIntent {
    pub id: String,
    /// The wire bytes, for BLE or NFC.
    pub hex: String,
    /// The QR codes to show (SVG): one, or an animated sequence to cycle
    /// through until the merchant has read it.
    pub frames: Vec<String>,
}

/// The codes that carry `payload`: one when it fits, else enough animated
/// parts (fountain-coded) for a reader that misses some.
fn frames(payload: &[u8]) -> Result<Vec<String>, String> {
    if let Ok(svg) = qr::svg(payload) {
        return Ok(vec![svg]);
    }
    let mut sender = Sender::new(payload, FRAGMENT).map_err(text)?;
    let parts = payload.len().div_ceil(FRAGMENT);
    (0..parts * 3)
        .map(|_| {
            let part = sender.next_frame().map_err(text)?;
            qr::svg(part.as_bytes()).map_err(text)
        })
        .collect()
}

/// Signs a payment of `amount` to `to` in the currency of `mint` (SOL when
/// absent; the request's spl-token) from this wallet's first account,
/// offline, and keeps it; `passphrase` opens the gate when the
/// settings require it.
#[tauri::command]
pub fn intent_create(
    state: State<'_, AppState>,
    to: String,
    amount: String,
    mint: Option<String>,
    reference: Option<String>,
    memo: Option<String>,
    passphrase: Option<String>,
) -> Result<PayIntent, CommandError> {
    let session = state.session()?;
    let config = session.config();
    let mint = mint.map(|m| address(&m).map(Into::into)).transpose()?;
    let currency = Currency::of_mint(mint.as_ref(), config.cluster).map_err(text)?;
    let order = Order {
        payee: address(&to)?.into(),
        mint: currency.mint,
        amount: config
            .decimal_separator
            .parse(amount.trim(), currency.decimals)
            .map_err(text)?,
        reference: reference
            .map(|r| r.parse().map_err(|_| format!("{r} is not a reference key")))
            .transpose()?,
        memo: memo.filter(|m| !m.is_empty()),
        expires_in: config.default_intent_expiry_seconds,
        nonce: None,
        durable: false,
    };
    let settlement = session.settlement()?;
    let key = session.first_key(KeyUse::Payment, passphrase.as_deref())?;
    let mut store = session.store()?;
    let signed =
        payment::sign(&order, &key, settlement, Some(&mut store), session.now()).map_err(text)?;
    Ok(PayIntent {
        id: hex::encode(signed.id),
        frames: frames(&signed.wire)?,
        hex: hex::encode(&signed.wire),
    })
}

/// What the till learnt of an intent it read.
#[derive(Debug, Serialize)]
pub struct Checked {
    pub id: String,
    pub payer: String,
    pub mint: Option<String>,
    pub amount: u64,
    pub memo: Option<String>,
}

/// Checks an intent read from the payer's code (hex wire bytes) offline,
/// as `payee`, and keeps it when it passes; the reason when it does not.
#[tauri::command]
pub fn receive_intent(
    state: State<'_, AppState>,
    hex: String,
    payee: String,
) -> Result<Checked, CommandError> {
    let wire = hex::decode(&hex).map_err(|_| "the code is not an intent".to_owned())?;
    let session = state.session()?;
    let verifier = session.verifier(address(&payee)?.into())?;
    let mut accept = session::keep_verified(verifier, session.store()?, session::unix_now);
    accept(&wire).map_err(|reason| format!("refused: {reason}"))?;
    let (signed, _) = toss_core::intent::durable::split(&wire).map_err(text)?;
    let id = signed.id().map_err(text)?;
    let i = signed.intent;
    Ok(Checked {
        id: hex::encode(id),
        payer: i.payer.to_string(),
        mint: i.mint.map(|m| m.to_string()),
        amount: i.amount,
        memo: i.memo,
    })
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
    use toss_core::settle::Outcome;

    let session = state.session()?;
    session.program_id()?;
    let fee_payer = session.fee_payer(passphrase.as_deref())?;
    let mut store = session.store()?;
    let engine = session.engine(&fee_payer)?;
    let now = i64::from(session.now());
    on_own_thread(move || async move {
        let results = engine
            .settle_all(&mut store, now, &mut |p| {
                if let Err(e) = app.emit(SETTLE_EVENT, &p) {
                    tracing::warn!(error = %e, "a settlement event could not reach the window");
                }
            })
            .await?;
        Ok(Settled {
            resolved: results.len(),
            paid: results
                .iter()
                .filter(|(_, o)| matches!(o, Outcome::Settled { .. } | Outcome::AlreadySettled))
                .count(),
        })
    })
    .await
}
