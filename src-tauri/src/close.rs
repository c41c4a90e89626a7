//! The day's close: the report for a period as the screen shows it (in
//! words), and its export as CSV or JSON for an accountant (docs/close.md).

use serde::Serialize;
use tauri::State;
use toss_core::close::{self, Report};

use crate::error::CommandError;
use crate::state::{AppState, text};

/// A currency's totals in words.
#[derive(Debug, Serialize)]
pub struct TotalView {
    pub currency: String,
    pub payments: usize,
    pub received_text: String,
    pub tips_text: String,
    pub refunds_text: String,
    pub net_text: String,
    pub settled_text: String,
    pub waiting_text: String,
}

/// A fiat currency's totals in words.
#[derive(Debug, Serialize)]
pub struct FiatView {
    pub fiat: String,
    pub amount_text: String,
    pub tips_text: String,
}

/// One payment in words.
#[derive(Debug, Serialize)]
pub struct RowView {
    pub time: i64,
    pub way: &'static str,
    pub payment: String,
    pub payer: String,
    pub currency: String,
    pub amount_text: String,
    pub fiat_text: Option<String>,
    pub rate_text: Option<String>,
    pub tip_text: Option<String>,
    pub refunded_text: Option<String>,
    pub state: String,
    pub transaction: Option<String>,
}

/// The report as the close screen shows it.
#[derive(Debug, Serialize)]
pub struct ReportView {
    pub from: i64,
    pub to: i64,
    pub totals: Vec<TotalView>,
    pub fiat: Vec<FiatView>,
    /// What offline payers owe now, in words ("none" when nothing).
    pub exposure_text: String,
    pub rows: Vec<RowView>,
}

fn report(state: &AppState, from: i64, to: i64) -> Result<Report, CommandError> {
    if to <= from {
        return Err("the period ends before it starts".into());
    }
    let session = state.session()?;
    let ours: Vec<String> = session
        .accounts()?
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    let store = session.store()?;
    Ok(
        close::report(&store, from, to, session.config().cluster, &|k| {
            ours.iter().any(|o| o == k)
        })
        .map_err(text)?,
    )
}

/// The close of the period `[from, to)` (Unix seconds).
#[tauri::command]
pub fn close_report(
    state: State<'_, AppState>,
    from: i64,
    to: i64,
) -> Result<ReportView, CommandError> {
    let r = report(&state, from, to)?;
    let config = state.session()?.config().clone();
    let mint = |m: &Option<String>| m.as_deref().and_then(|m| m.parse().ok());
    let money =
        |units: u64, m: &Option<String>| crate::state::money(&config, units, mint(m).as_ref());
    let fiat_words = |code: &str, minor: u64| {
        toss_core::price::Fiat::named(code)
            .map(|f| f.words(minor, config.decimal_separator))
            .unwrap_or_else(|_| format!("{minor} {code}"))
    };
    let owed: Vec<String> = r
        .exposure
        .iter()
        .filter(|t| t.waiting > 0)
        .map(|t| money(t.waiting, &t.mint))
        .collect();
    Ok(ReportView {
        from: r.from,
        to: r.to,
        totals: r
            .totals
            .iter()
            .map(|t| TotalView {
                currency: t.currency.clone(),
                payments: t.payments,
                received_text: money(t.received, &t.mint),
                tips_text: money(t.tips, &t.mint),
                refunds_text: money(t.refunds, &t.mint),
                net_text: money(t.received.saturating_sub(t.refunds), &t.mint),
                settled_text: money(t.settled, &t.mint),
                waiting_text: money(t.waiting, &t.mint),
            })
            .collect(),
        fiat: r
            .fiat
            .iter()
            .map(|f| FiatView {
                fiat: f.fiat.clone(),
                amount_text: fiat_words(&f.fiat, f.amount),
                tips_text: fiat_words(&f.fiat, f.tips),
            })
            .collect(),
        exposure_text: match owed.is_empty() {
            true => "none".into(),
            false => format!(
                "{} owed by offline payers, not yet settled",
                owed.join(" and ")
            ),
        },
        rows: r
            .rows
            .iter()
            .map(|row| RowView {
                time: row.time,
                way: row.way,
                payment: row.payment.clone(),
                payer: row.payer.clone(),
                currency: row.currency.clone(),
                amount_text: money(row.amount, &row.mint),
                fiat_text: row
                    .fiat
                    .as_deref()
                    .zip(row.fiat_amount)
                    .map(|(c, m)| fiat_words(c, m)),
                rate_text: row
                    .rate
                    .as_ref()
                    .zip(row.fiat.as_ref())
                    .map(|(rate, fiat)| format!("{rate} {fiat} per {}", row.currency)),
                tip_text: (row.tip > 0).then(|| money(row.tip, &row.mint)),
                refunded_text: (row.refunded > 0).then(|| money(row.refunded, &row.mint)),
                state: row.state.clone(),
                transaction: row.transaction.clone(),
            })
            .collect(),
    })
}

/// Writes the close of `[from, to)` to `path` as `csv` or `json`; how many
/// payments it holds.
#[tauri::command]
pub fn close_export(
    state: State<'_, AppState>,
    from: i64,
    to: i64,
    format: String,
    path: std::path::PathBuf,
) -> Result<usize, CommandError> {
    let r = report(&state, from, to)?;
    let body = match format.as_str() {
        "csv" => r.to_csv(),
        "json" => serde_json::to_string_pretty(&r).map_err(text)?,
        other => return Err(format!("{other:?} is not an export format: csv or json").into()),
    };
    std::fs::write(&path, body).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(r.rows.len())
}
