//! The pay screen: a payment signed offline (through the gate) in the
//! request's currency and kept, shown as one QR code or an animated
//! sequence. Handing it over by Bluetooth or NFC is in `radio`.

use serde::Serialize;
use tauri::State;
use toss_core::currency::Currency;
use toss_core::payment::{self, Order};
use toss_core::session::KeyUse;
use toss_core::transport::animated::Sender;
use toss_core::transport::qr;

use crate::error::CommandError;
use crate::state::{AppState, address, text};

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

/// A Solana Pay request paid online.
#[derive(Debug, Serialize)]
pub struct PaidNow {
    pub signature: String,
    pub amount_text: String,
    pub explorer: String,
}

/// Pays the Solana Pay transfer request `url` online, now, from this
/// wallet's first account (through the gate): the standard transfer any
/// merchant's tools recognise (`solana_pay::pay`), kept in the store.
#[tauri::command]
pub async fn pay_now(
    state: State<'_, AppState>,
    url: String,
    passphrase: Option<String>,
) -> Result<PaidNow, CommandError> {
    use toss_core::request::PaymentRequest;
    let request = PaymentRequest::parse(&url).map_err(text)?;
    let session = state.session()?;
    let config = session.config().clone();
    let key = session.first_key(KeyUse::Payment, passphrase.as_deref())?;
    let (chain, backoff) = (session.chain(), session.backoff());
    let mut store = session.store()?;
    crate::state::on_own_thread(move || async move {
        let sent = toss_core::solana_pay::pay(&chain, backoff, &request, &key).await?;
        let paid = toss_core::solana_pay::Paid {
            signature: sent.signature.clone(),
            payer: toss_core::address::Pubkey::new_from_array(key.verifying_key().to_bytes()),
            amount: sent.amount,
            mint: request.spl_token,
            slot: 0,
            block_time: None,
        };
        let reference = request.references.first().copied().unwrap_or_default();
        let now = i64::from(toss_core::session::unix_now());
        store
            .record_online(&paid, &request.recipient, &reference, now)
            .map_err(text)?;
        Ok(PaidNow {
            amount_text: crate::state::money(&config, sent.amount, request.spl_token.as_ref()),
            explorer: config.cluster.explorer_tx(&sent.signature, &config.rpc_url),
            signature: sent.signature,
        })
    })
    .await
}
