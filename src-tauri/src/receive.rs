//! The receive screen (the till): the sale's payment request as a Solana Pay
//! QR code, a payer's code checked offline and kept, and the receipt given
//! for it. Bluetooth and NFC receiving are in `radio`.

use serde::Serialize;
use tauri::State;
use toss_core::amount;
use toss_core::request::PaymentRequest;
use toss_core::session::{self, Sale};
use toss_core::transport::qr;

use crate::error::CommandError;
use crate::state::{AppState, Terms, address, payment_id, text};

/// The till's request: a Solana Pay URL any wallet can pay and its QR code.
#[derive(Debug, Serialize)]
pub struct Request {
    pub url: String,
    pub qr_svg: String,
    pub request: PaymentRequest,
}

/// A payment request to `to` for `amount` (decimal text) of `currency`
/// (a symbol; SOL when absent), with an
/// optional label and message; offered for offline payment with this
/// wallet's Noise key.
#[tauri::command]
pub fn request_create(
    state: State<'_, AppState>,
    to: String,
    amount: String,
    currency: Option<String>,
    label: Option<String>,
    message: Option<String>,
) -> Result<Request, CommandError> {
    let recipient = address(&to)?.into();
    let session = state.session()?;
    let config = session.config();
    let currency = crate::state::currency(config, currency.as_deref())?;
    // Typed with the settings' separator; Solana Pay's URL always has a point.
    let units = config
        .decimal_separator
        .parse(amount.trim(), currency.decimals)
        .map_err(text)?;
    let request = session.till_request(Sale {
        recipient,
        amount: Some(amount::format(units, currency.decimals)),
        mint: currency.mint,
        label,
        message,
        memo: None,
        reference: None,
        offline: true,
    })?;
    let url = request.to_url();
    Ok(Request {
        qr_svg: qr::svg(url.as_bytes()).map_err(text)?,
        url,
        request,
    })
}

/// What the till learnt of an intent it read.
#[derive(Debug, Serialize)]
pub struct Checked {
    pub id: String,
    #[serde(flatten)]
    pub terms: Terms,
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
    Ok(Checked {
        id: hex::encode(id),
        terms: Terms::of(session.config(), &signed.intent),
    })
}

/// The receipt a till gives for a payment it verified: the
/// `toss-receipt:` URI (docs/qr.md) as a QR code, and what the printed slip
/// shows.
#[derive(Debug, Serialize)]
pub struct ReceiptView {
    pub uri: String,
    pub qr_svg: String,
    pub id: String,
    #[serde(flatten)]
    pub terms: Terms,
    /// Unix seconds when it was verified.
    pub verified_at: i64,
}

#[tauri::command]
pub fn receipt(state: State<'_, AppState>, id: String) -> Result<ReceiptView, CommandError> {
    use toss_core::store::{Direction, State as Stage};
    let session = state.session()?;
    let stored = session.store()?.get(&payment_id(&id)?).map_err(text)?;
    if stored.direction != Direction::Received {
        return Err("a receipt is given for a payment this till received".into());
    }
    let verified_at = stored
        .history
        .iter()
        .find(|e| e.state == Stage::Verified)
        .map(|e| e.at)
        .ok_or("this payment was never verified: no receipt")?;
    let i = &stored.signed.intent;
    let uri = toss_core::receipt::Receipt {
        id: stored.id,
        intent: i,
        verified_at,
    }
    .uri();
    Ok(ReceiptView {
        qr_svg: qr::svg(uri.as_bytes()).map_err(text)?,
        uri,
        id: hex::encode(stored.id),
        terms: Terms::of(session.config(), i),
        verified_at,
    })
}
