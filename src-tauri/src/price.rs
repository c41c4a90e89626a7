//! The till's prices in the merchant's currency: the rate shown before a
//! sale, and a sale priced in fiat with its tip (the request is made in
//! SOL or USDC at that rate; docs/screens.md).

use serde::Serialize;
use tauri::State;
use toss_core::price::{self, Fiat, Rate, Source, Tip};

use crate::error::CommandError;
use crate::state::{AppState, text};

/// A rate as the till shows it.
#[derive(Debug, Serialize)]
pub struct RateView {
    pub fiat: String,
    pub currency: String,
    /// "1 SOL = 142.37 EUR".
    pub rate_text: String,
    /// When Pyth published it (Unix seconds).
    pub published_at: i64,
    /// "4 minutes old".
    pub age_text: String,
    /// Where it came from.
    pub source: String,
    /// Whether it may price a sale now (not older than the setting).
    pub usable: bool,
    /// Why not, and what to do instead.
    pub why: Option<String>,
}

/// The rate of `currency` in `fiat` now: read over the RPC, or the last
/// one kept when the cluster cannot be reached.
pub async fn current(
    state: &AppState,
    currency: &str,
    fiat: Fiat,
) -> Result<(Rate, Source), CommandError> {
    let session = state.session()?;
    let chain = session.chain();
    let mut store = session.store()?;
    let currency = currency.to_owned();
    crate::state::on_own_thread(move || async move {
        Ok(price::current(&chain, &mut store, &currency, &fiat)
            .await
            .map_err(text)?)
    })
    .await
}

/// How old a rate is and where it came from, in words.
pub fn described(rate: &Rate, source: &Source, now: i64) -> (String, String) {
    if rate.published_at == i64::MAX {
        // USDC in dollars: no price is read.
        return ("fixed".into(), "USDC is priced 1:1 to the US dollar".into());
    }
    let age = price::age_words(now.saturating_sub(rate.published_at).max(0) as u64);
    let source = match source {
        Source::Read => "Pyth's price accounts, read from the cluster".to_owned(),
        Source::Kept(why) => format!(
            "the last rate read (the cluster cannot be reached: {})",
            toss_core::chain::redact_urls(why)
        ),
    };
    (format!("{age} old"), source)
}

/// The rate of `currency` (SOL or USDC) in `fiat`, as the till would
/// price a sale by it now.
#[tauri::command]
pub async fn price_rate(
    state: State<'_, AppState>,
    currency: String,
    fiat: String,
) -> Result<RateView, CommandError> {
    let fiat = Fiat::named(&fiat).map_err(text)?;
    let (rate, source) = current(&state, &currency, fiat).await?;
    let config = state.session()?.config().clone();
    let now = i64::from(toss_core::session::unix_now());
    let usable = rate.usable(now, u64::from(config.max_rate_age_seconds));
    let (age_text, source) = described(&rate, &source, now);
    Ok(RateView {
        fiat: fiat.code.to_owned(),
        currency: rate.currency.clone(),
        rate_text: rate.words(&fiat, config.decimal_separator),
        published_at: rate.published_at,
        age_text,
        source,
        usable: usable.is_ok(),
        why: usable.err().map(|e| e.to_string()),
    })
}

/// The tip asked with a sale: a preset percent or an amount typed in the
/// price's units (`decimals`); tips off in the settings refuse both.
pub fn tip(
    config: &toss_core::config::Config,
    amount: Option<&str>,
    percent: Option<u32>,
    decimals: u8,
) -> Result<Tip, String> {
    let amount = amount.map(str::trim).filter(|a| !a.is_empty());
    let tip = match (amount, percent) {
        (None, None) | (None, Some(0)) => return Ok(Tip::None),
        (Some(_), Some(_)) => {
            return Err("give a tip as a percent or as an amount, not both".into());
        }
        (None, Some(p)) if p > 100 => return Err("a tip is at most 100 % of the price".into()),
        (None, Some(p)) => Tip::Percent(p),
        (Some(a), None) => Tip::Amount(config.decimal_separator.parse(a, decimals).map_err(text)?),
    };
    if !config.tips {
        return Err("tips are turned off in the settings (tips)".into());
    }
    Ok(tip)
}
