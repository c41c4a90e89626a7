//! The receive screen (the till): the sale's payment request as a Solana Pay
//! QR code, a payer's code checked offline and kept, and the receipt given
//! for it. Bluetooth and NFC receiving are in `radio`.

use serde::Serialize;
use tauri::State;
use toss_core::amount;
use toss_core::request::PaymentRequest;
use toss_core::session::Sale;
use toss_core::transport::qr;

use crate::error::CommandError;
use crate::state::{AppState, Terms, address, payment_id, text};

/// The till's request: a Solana Pay URL any wallet can pay and its QR code,
/// and what the sale asks in words.
#[derive(Debug, Serialize)]
pub struct Request {
    pub url: String,
    pub qr_svg: String,
    pub request: PaymentRequest,
    pub terms: SaleTerms,
}

/// A sale's terms as the till and the customer see them.
#[derive(Debug, Serialize)]
pub struct SaleTerms {
    /// Everything asked, tip included, in SOL or USDC.
    pub total_text: String,
    /// The price as typed (in fiat when priced in it).
    pub price_text: String,
    /// The tip, in the price's currency; `None` without one.
    pub tip_text: Option<String>,
    /// Everything asked in the merchant's currency, when priced in it.
    pub fiat_text: Option<String>,
    /// The rate used ("1 SOL = 142.37 USD").
    pub rate_text: Option<String>,
    /// Its age and source ("4 minutes old").
    pub rate_age_text: Option<String>,
}

/// A payment request to `to` for `amount` (decimal text) of `currency`
/// (a symbol; SOL when absent), with an optional label and message;
/// offered for offline payment with this wallet's Noise key. With `fiat`,
/// `amount` (and a `tip`) are in that currency and converted at the rate
/// read now (refused when older than the settings allow); a tip is a
/// preset `tip_percent` or an amount. The sale is kept with its pricing.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn request_create<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    to: String,
    amount: String,
    currency: Option<String>,
    label: Option<String>,
    message: Option<String>,
    fiat: Option<String>,
    tip: Option<String>,
    tip_percent: Option<u32>,
) -> Result<Request, CommandError> {
    use toss_core::price::{Fiat, price_sale};
    let recipient = address(&to)?.into();
    let config = state.session()?.config().clone();
    let currency = crate::state::currency(&config, currency.as_deref())?;
    let fiat = fiat
        .filter(|f| !f.trim().is_empty())
        .map(|f| Fiat::named(&f))
        .transpose()
        .map_err(text)?;
    let rate = match fiat {
        Some(f) => Some(crate::price::current(&state, currency.symbol, f).await?),
        None => None,
    };
    let now = i64::from(toss_core::session::unix_now());
    if let Some((rate, _)) = &rate {
        rate.usable(now, u64::from(config.max_rate_age_seconds))
            .map_err(text)?;
    }
    // Typed with the settings' separator; Solana Pay's URL always has a point.
    let decimals = fiat.map_or(currency.decimals, |f| f.decimals);
    let price = config
        .decimal_separator
        .parse(amount.trim(), decimals)
        .map_err(text)?;
    let tip = crate::price::tip(&config, tip.as_deref(), tip_percent, decimals)?;
    let priced = price_sale(
        price,
        tip,
        fiat.as_ref().zip(rate.as_ref().map(|(r, _)| r)),
        currency.decimals,
    )
    .map_err(text)?;
    let session = state.session()?;
    let request = session.till_request(Sale {
        recipient,
        amount: Some(amount::format(priced.total, currency.decimals)),
        mint: currency.mint,
        label,
        message,
        memo: None,
        reference: None,
        offline: true,
    })?;
    let reference = request
        .references
        .first()
        .copied()
        .ok_or("the request has no reference")?;
    session
        .store()?
        .record_sale(&toss_core::store::SaleRecord {
            reference,
            payee: recipient,
            mint: currency.mint,
            amount: priced.total,
            tip: priced.tip,
            fiat: priced.fiat.clone(),
            opened_at: now,
        })
        .map_err(text)?;
    // This is now the sale every payment that arrives is held to.
    state.till.open(session.open_sale(&request)?);
    let money = |units| crate::state::money(&config, units, currency.mint.as_ref());
    let sep = config.decimal_separator;
    let terms = match (fiat, &rate, &priced.fiat) {
        (Some(f), Some((rate, source)), Some(p)) => SaleTerms {
            total_text: money(priced.total),
            price_text: f.words(price, sep),
            tip_text: (p.tip > 0).then(|| f.words(p.tip, sep)),
            fiat_text: Some(f.words(p.amount, sep)),
            rate_text: Some(rate.words(&f, sep)),
            rate_age_text: Some(crate::price::described(rate, source, now).0),
        },
        _ => SaleTerms {
            total_text: money(priced.total),
            price_text: money(price),
            tip_text: (priced.tip > 0).then(|| money(priced.tip)),
            fiat_text: None,
            rate_text: None,
            rate_age_text: None,
        },
    };
    let url = request.to_url();
    let qr_svg = qr::svg(url.as_bytes()).map_err(text)?;
    crate::customer::show(
        &app,
        crate::customer::CustomerView {
            state: "waiting",
            total_text: Some(terms.total_text.clone()),
            fiat_text: terms.fiat_text.clone(),
            qr_svg: Some(qr_svg.clone()),
            message: None,
        },
    );
    Ok(Request {
        qr_svg,
        url,
        request,
        terms,
    })
}

/// What the till learnt of an intent it read.
#[derive(Debug, Serialize)]
pub struct Checked {
    pub id: String,
    #[serde(flatten)]
    pub terms: Terms,
    /// Whether the code came sealed to this till (anyone filming an
    /// unsealed code reads who paid, how much and the memo).
    pub sealed: bool,
    /// Where the sale stands now, in words ("paid: 2 SOL in 1 payment").
    pub sale: String,
}

/// Checks an intent read from the payer's code (hex bytes, sealed to this
/// till or not) offline and against the open sale, and keeps it when it
/// pays the sale; the reason when it does not.
#[tauri::command]
pub fn receive_intent<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    hex: String,
) -> Result<Checked, CommandError> {
    let checked = check_intent(&state, &hex);
    crate::customer::taken(
        &app,
        match &checked {
            Ok(c) => Ok(format!(
                "{} from {}: {}",
                c.terms.amount_text, c.terms.payer, c.sale
            )),
            Err(e) => Err(e.message.clone()),
        },
    );
    checked
}

fn check_intent(state: &AppState, hex: &str) -> Result<Checked, CommandError> {
    let code = hex::decode(hex).map_err(|_| "the code is not an intent".to_owned())?;
    let session = state.session()?;
    let reference = state.till.shown().and_then(|sale| sale.reference);
    let (wire, sealed) = session.unseal(&code, reference.as_ref())?;
    let mut check = session.till_check(state.till.clone())?;
    let verdict = check(std::slice::from_ref(&wire)).into_iter().next();
    let id = match verdict {
        Some(Ok(id)) => id,
        Some(Err(reason)) => return Err(format!("refused: {reason}").into()),
        None => return Err("refused: the code was not checked".into()),
    };
    let (signed, _) = toss_core::intent::durable::split(&wire).map_err(text)?;
    Ok(Checked {
        id: hex::encode(id),
        terms: Terms::of(session.config(), &signed.intent),
        sealed,
        sale: state.till.now().describe(),
    })
}

/// The receipt a till gives for a sale: every payment kept for it, each
/// with its `toss-receipt:` URI (docs/qr.md) as a QR code, and the total.
#[derive(Debug, Serialize)]
pub struct ReceiptView {
    /// Who was paid.
    pub payee: String,
    /// What the payments come to, in words.
    pub total_text: String,
    pub payments: Vec<ReceiptLine>,
}

/// One payment on a receipt.
#[derive(Debug, Serialize)]
pub struct ReceiptLine {
    pub uri: String,
    pub qr_svg: String,
    pub id: String,
    #[serde(flatten)]
    pub terms: Terms,
    /// Unix seconds when the till accepted it (verified offline, or seen
    /// confirmed online).
    pub verified_at: i64,
    /// Refunds made of it (a receipt printed after a refund says so).
    pub refunds: Vec<crate::refund::RefundLine>,
}

/// The receipt for the payments `ids` (those a handover kept for a sale):
/// each received by this till, verified, to one payee, in one currency.
#[tauri::command]
pub fn receipt(state: State<'_, AppState>, ids: Vec<String>) -> Result<ReceiptView, CommandError> {
    use toss_core::store::{Direction, State as Stage};
    let session = state.session()?;
    let store = session.store()?;
    let mut payments = Vec::with_capacity(ids.len());
    let mut total: u64 = 0;
    let mut first = None;
    for id in &ids {
        let stored = store.get(&payment_id(id)?).map_err(text)?;
        if stored.direction != Direction::Received {
            return Err("a receipt is given for a payment this till received".into());
        }
        let verified_at = stored
            .history
            .iter()
            .find(|e| e.state == Stage::Verified)
            .map(|e| e.at)
            .ok_or("this payment was never verified: no receipt")?;
        let i = stored.signed.intent;
        let (payee, mint) = *first.get_or_insert((i.payee, i.mint));
        if (i.payee, i.mint) != (payee, mint) {
            return Err("one receipt covers payments to one payee in one currency".into());
        }
        total = total
            .checked_add(i.amount)
            .ok_or("the payments add up to more than a receipt can show")?;
        let uri = toss_core::receipt::Receipt {
            id: stored.id,
            intent: &i,
            verified_at,
        }
        .uri();
        payments.push(ReceiptLine {
            qr_svg: qr::svg(uri.as_bytes()).map_err(text)?,
            uri,
            id: hex::encode(stored.id),
            terms: Terms::of(session.config(), &i),
            verified_at,
            refunds: crate::refund::lines(&state, &hex::encode(stored.id))?,
        });
    }
    let (payee, mint) = first.ok_or("a receipt needs at least one payment")?;
    Ok(ReceiptView {
        payee: payee.to_string(),
        total_text: crate::state::money(session.config(), total, mint.as_ref()),
        payments,
    })
}

/// The receipt for a payment made online to this till (kept by
/// `sale_watch`): its transaction's Explorer address as the QR code, so
/// any phone's camera opens the proof.
#[tauri::command]
pub fn online_receipt(
    state: State<'_, AppState>,
    signature: String,
) -> Result<ReceiptView, CommandError> {
    let session = state.session()?;
    let config = session.config();
    let paid = session
        .store()?
        .online_payments()
        .map_err(text)?
        .into_iter()
        .find(|p| p.signature == signature)
        .ok_or("no online payment with this transaction is kept")?;
    let mint = paid.mint.as_deref().and_then(|m| m.parse().ok());
    let amount_text = crate::state::money(config, paid.amount, mint.as_ref());
    let uri = config.cluster.explorer_tx(&paid.signature, &config.rpc_url);
    Ok(ReceiptView {
        payee: paid.recipient.clone(),
        total_text: amount_text.clone(),
        payments: vec![ReceiptLine {
            qr_svg: qr::svg(uri.as_bytes()).map_err(text)?,
            uri,
            refunds: crate::refund::lines(&state, &paid.signature)?,
            id: paid.signature,
            terms: Terms {
                payer: paid.payer,
                payee: paid.recipient,
                mint: paid.mint,
                amount: paid.amount,
                amount_text,
                memo: None,
            },
            verified_at: paid.at,
        }],
    })
}

/// The event the receive screen hears while a sale waits for an online
/// payment.
pub const SALE_EVENT: &str = "sale";

/// What watching the sale reports, for the screen.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum SaleEvent {
    /// A wallet paid the sale online.
    PaidOnline {
        payer: String,
        amount_text: String,
        signature: String,
        explorer: String,
        /// Where the sale stands now, in words.
        sale: String,
    },
    /// A transaction carrying the sale's reference does not pay it.
    Refused { signature: String, reason: String },
    /// The cluster could not be asked; the wait goes on.
    Unreachable { message: String },
    /// Whether the cluster pushes news (its websocket) or the till asks.
    Live { live: bool },
}

/// How long the till watches one sale for an online payment.
const WATCH_FOR: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Watches the sale shown for a payment made online by any Solana Pay
/// wallet, until it is paid (by any path), another sale is shown, or 15
/// minutes pass; reports through `sale` events.
#[tauri::command]
pub async fn sale_watch<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<(), CommandError> {
    use tauri::Emitter;
    use toss_core::sale::{self, Watched};

    let session = state.session()?;
    let config = session.config().clone();
    let chain = session.chain();
    let mut store = session.store()?;
    let till = state.till.clone();
    let started = std::time::Instant::now();
    crate::state::on_own_thread(move || async move {
        let mut tell = |report: Result<Watched, toss_core::chain::ChainError>| {
            let event = match report {
                Ok(Watched::Paid(paid)) => {
                    crate::customer::taken(
                        &app,
                        Ok(format!(
                            "{} paid online by {}",
                            crate::state::money(&config, paid.amount, paid.mint.as_ref()),
                            paid.payer
                        )),
                    );
                    SaleEvent::PaidOnline {
                        payer: paid.payer.to_string(),
                        amount_text: crate::state::money(&config, paid.amount, paid.mint.as_ref()),
                        explorer: config.cluster.explorer_tx(&paid.signature, &config.rpc_url),
                        signature: paid.signature,
                        sale: till.now().describe(),
                    }
                }
                Ok(Watched::Refused(signature, why)) => SaleEvent::Refused {
                    signature,
                    reason: why.to_string(),
                },
                Ok(Watched::Live(live)) => SaleEvent::Live { live },
                Err(e) => SaleEvent::Unreachable {
                    message: toss_core::chain::redact_urls(&e.to_string()),
                },
            };
            if let Err(e) = app.emit(SALE_EVENT, event) {
                tracing::warn!(error = %e, "a sale event could not reach the window");
            }
        };
        let push = toss_core::solana_pay::websocket_url(&config.rpc_url);
        sale::watch(
            &till,
            &chain,
            push.as_ref(),
            &mut store,
            config.commitment,
            std::time::Duration::from_secs(1),
            &|| started.elapsed() < WATCH_FOR,
            &mut tell,
        )
        .await
        .map_err(text)?;
        Ok(())
    })
    .await
}
