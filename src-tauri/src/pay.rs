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

/// A signed intent ready to hand over.
#[derive(Debug, Serialize)]
pub struct PayIntent {
    pub id: String,
    /// The wire bytes, for BLE or NFC.
    pub hex: String,
    /// The QR codes to show (SVG): one, or an animated sequence to cycle
    /// through until the merchant has read it.
    pub frames: Vec<String>,
    /// How long each frame of an animated sequence stays (the settings'
    /// frames per second).
    pub frame_ms: u32,
    /// Whether the codes are sealed to the till (its request named its
    /// key); unsealed, anyone filming them reads the payment.
    pub sealed: bool,
}

/// The codes that carry `payload`: one when it fits, else enough animated
/// parts of `fragment` bytes (fountain-coded) for a reader that misses some.
fn frames(payload: &[u8], fragment: usize) -> Result<Vec<String>, String> {
    if let Ok(svg) = qr::svg(payload) {
        return Ok(vec![svg]);
    }
    let mut sender = Sender::new(payload, fragment).map_err(text)?;
    let parts = payload.len().div_ceil(fragment);
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
/// settings require it. With the till's key from its request (`till_key`,
/// base58) and the request's `reference`, the codes are sealed to it.
#[tauri::command]
#[allow(clippy::too_many_arguments)] // each is one field of the pay form
pub fn intent_create(
    state: State<'_, AppState>,
    to: String,
    amount: String,
    mint: Option<String>,
    reference: Option<String>,
    memo: Option<String>,
    till_key: Option<String>,
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
    // The till's key is read before anything is signed: a key that does
    // not read leaves no signed payment behind. A Noise key is written as
    // an address is: base58, 32 bytes.
    let till = till_key
        .map(|k| address(&k).map(|a| a.to_bytes()))
        .transpose()?;
    let settlement = session.settlement()?;
    let key = session.first_key(KeyUse::Payment, passphrase.as_deref())?;
    let mut store = session.store()?;
    let signed =
        payment::sign(&order, &key, settlement, Some(&mut store), session.now()).map_err(text)?;
    let code = match (till, order.reference) {
        (Some(till), Some(reference)) => {
            toss_core::sealed::seal(&signed.wire, &till, &reference.to_bytes()).map_err(text)?
        }
        _ => signed.wire.clone(),
    };
    Ok(PayIntent {
        id: hex::encode(signed.id),
        frames: frames(&code, config.qr_fragment_bytes as usize)?,
        frame_ms: 1_000 / config.qr_frames_per_second.max(1),
        sealed: code != signed.wire,
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
        let sent =
            toss_core::solana_pay::pay(&chain, backoff, &request, &key, None, &mut |_| {}).await?;
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

/// A merchant's transaction request, as the pay screen shows it before
/// anything is signed: the server's words apart from what the transaction
/// does, read from its bytes.
#[derive(Debug, Serialize)]
pub struct TransactionOffer {
    /// The merchant's name, as its server gives it.
    pub label: String,
    /// Its icon, a `data:` URL.
    pub icon: Option<String>,
    /// The server's message (its words, not checked).
    pub message: Option<String>,
    /// The server's host.
    pub host: String,
    /// Who is paid (for a token, the owner of the receiving account).
    pub recipient: String,
    /// What is paid, in its currency.
    pub amount_text: String,
    /// The fee this wallet pays ("none: the merchant pays it").
    pub fee_text: String,
    /// Rent this wallet puts into an account the transaction opens.
    pub rent_text: Option<String>,
    /// The memo(s).
    pub memos: Vec<String>,
}

/// How a transfer's amount reads: in a currency the wallet knows, else in
/// the token's own decimals.
fn transfer_text(
    config: &toss_core::config::Config,
    t: &toss_core::transaction_request::Transfer,
) -> String {
    use toss_core::currency::Currency;
    match (Currency::of_mint(t.mint.as_ref(), config.cluster), t.mint) {
        (Ok(_), _) | (_, None) => crate::state::money(config, t.amount, t.mint.as_ref()),
        (Err(_), Some(m)) => format!(
            "{} of token {m}",
            config.decimal_separator.format(t.amount, t.decimals)
        ),
    }
}

fn link(url: &str) -> Result<toss_core::transaction_request::Link, CommandError> {
    Ok(toss_core::transaction_request::Link::parse(url).map_err(text)?)
}

/// Asks the merchant's server behind a `solana:https://…` link for its
/// name and its transaction for this wallet's first account, and explains
/// the transaction; what is shown is kept as what the user may approve.
#[tauri::command]
pub async fn transaction_request_open(
    state: State<'_, AppState>,
    url: String,
) -> Result<TransactionOffer, CommandError> {
    use toss_core::transaction_request as tr;
    let link = link(&url)?;
    let session = state.session()?;
    let config = session.config().clone();
    let you: toss_core::address::Pubkey = session.first_account()?.into();
    let (chain, backoff) = (session.chain(), session.backoff());
    let shown = state.shown.clone();
    crate::state::on_own_thread(move || async move {
        let limits = tr::Limits::default();
        let http = tr::http_client(&limits).map_err(text)?;
        let merchant = tr::merchant(&http, &link, &limits).await.map_err(text)?;
        let offer = tr::offer(&http, &chain, backoff, &link, &you, &limits)
            .await
            .map_err(text)?;
        let e = &offer.explained;
        let view = TransactionOffer {
            label: merchant.label,
            icon: merchant.icon,
            message: offer.message.clone(),
            host: link.url.host_str().unwrap_or_default().to_owned(),
            recipient: e.payment.recipient.to_string(),
            amount_text: transfer_text(&config, &e.payment),
            fee_text: match e.fee {
                0 => "none: the merchant pays it".into(),
                fee => crate::state::money(&config, fee, None),
            },
            rent_text: (e.rent > 0).then(|| crate::state::money(&config, e.rent, None)),
            memos: e.memos.clone(),
        };
        *shown.lock().map_err(text)? = Some((url, offer.explained));
        Ok(view)
    })
    .await
}

/// Pays the transaction request last shown (`transaction_request_open`)
/// through the gate: the server is asked again, and only a transaction
/// doing exactly what was shown is signed, sent and kept.
#[tauri::command]
pub async fn transaction_request_pay(
    state: State<'_, AppState>,
    url: String,
    passphrase: Option<String>,
) -> Result<PaidNow, CommandError> {
    use toss_core::transaction_request as tr;
    let link = link(&url)?;
    let approved = state
        .shown
        .lock()
        .map_err(text)?
        .clone()
        .filter(|(shown_url, _)| *shown_url == url)
        .map(|(_, explained)| explained)
        .ok_or_else(|| text("open the merchant's request first: nothing was shown to approve"))?;
    let session = state.session()?;
    let config = session.config().clone();
    let key = session.first_key(KeyUse::Payment, passphrase.as_deref())?;
    let (chain, backoff) = (session.chain(), session.backoff());
    let mut store = session.store()?;
    crate::state::on_own_thread(move || async move {
        let limits = tr::Limits::default();
        let http = tr::http_client(&limits).map_err(text)?;
        let paid = tr::pay(&http, &chain, backoff, &link, &approved, &key, &limits)
            .await
            .map_err(text)?;
        let payment = &paid.explained.payment;
        let kept = toss_core::solana_pay::Paid {
            signature: paid.signature.clone(),
            payer: toss_core::address::Pubkey::new_from_array(key.verifying_key().to_bytes()),
            amount: payment.amount,
            mint: payment.mint,
            slot: 0,
            block_time: None,
        };
        let now = i64::from(toss_core::session::unix_now());
        store
            .record_online(&kept, &payment.recipient, &Default::default(), now)
            .map_err(text)?;
        Ok(PaidNow {
            amount_text: transfer_text(&config, payment),
            explorer: config.cluster.explorer_tx(&paid.signature, &config.rpc_url),
            signature: paid.signature,
        })
    })
    .await
}
