//! The day's close: every payment a till received in a period, one row
//! each (when, how, how much, at what rate in the merchant's currency, the
//! tip, what was refunded, whether it settled), the totals per currency
//! and per fiat currency, and what offline payers still owe. Exported as
//! CSV and JSON for an accountant (docs/close.md specifies both).

use serde::Serialize;
use solana_program::pubkey::Pubkey;

use crate::config::Cluster;
use crate::currency::Currency;
use crate::store::{Direction, SaleRecord, Store, StoreError};

/// One payment received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// When it was received (Unix seconds).
    pub time: i64,
    /// `offline` (a TOSS intent) or `online` (a Solana Pay transaction).
    pub way: &'static str,
    /// The intent id (hex) or the transaction signature.
    pub payment: String,
    /// Who paid.
    pub payer: String,
    /// The currency's symbol ("SOL", "USDC"), or the token's mint.
    pub currency: String,
    /// The token's mint; `None`: SOL.
    pub mint: Option<String>,
    /// The currency's decimals.
    pub decimals: u8,
    /// What it brought, in base units.
    pub amount: u64,
    /// The merchant's currency the sale was priced in.
    pub fiat: Option<String>,
    /// This payment's part of the sale in it, in minor units.
    pub fiat_amount: Option<u64>,
    /// The fiat currency's decimals.
    pub fiat_decimals: Option<u8>,
    /// The rate used: fiat per whole unit ("142.370000").
    pub rate: Option<String>,
    /// This payment's part of the sale's tip, in base units.
    pub tip: u64,
    /// This payment's part of the sale's tip in the fiat currency.
    pub fiat_tip: Option<u64>,
    /// What was refunded of it (refunds made or being made), base units.
    pub refunded: u64,
    /// `settled`, `confirmed` (online), or where an offline payment is.
    pub state: String,
    /// The transaction that moved the money, once there is one.
    pub transaction: Option<String>,
    /// The sale's reference.
    pub reference: Option<String>,
}

impl Row {
    /// Whether its money arrived (settled offline, or confirmed online).
    pub fn arrived(&self) -> bool {
        matches!(self.state.as_str(), "settled" | "confirmed")
    }

    /// Whether it may still arrive: taken offline and not settled yet.
    pub fn waiting(&self) -> bool {
        matches!(self.state.as_str(), "verified" | "submitted" | "deferred")
    }
}

/// The totals of one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Total {
    /// The currency's symbol.
    pub currency: String,
    /// Its mint; `None`: SOL.
    pub mint: Option<String>,
    /// Payments counted.
    pub payments: usize,
    /// Everything received, tips included, base units.
    pub received: u64,
    /// Tips within it.
    pub tips: u64,
    /// Refunded.
    pub refunds: u64,
    /// Arrived (settled or confirmed).
    pub settled: u64,
    /// Taken offline, not settled yet.
    pub waiting: u64,
    /// Failed, expired or conflicted: taken, never arrived.
    pub lost: u64,
}

/// The totals in one fiat currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FiatTotal {
    /// Its code.
    pub fiat: String,
    /// Minor units asked, tips included.
    pub amount: u64,
    /// Tips within it.
    pub tips: u64,
}

/// A period's close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The period's start (Unix seconds, included).
    pub from: i64,
    /// Its end (excluded).
    pub to: i64,
    /// Totals per currency.
    pub totals: Vec<Total>,
    /// Totals per fiat currency.
    pub fiat: Vec<FiatTotal>,
    /// What offline payers owe now (any period), per currency.
    pub exposure: Vec<Total>,
    /// The payments, oldest first.
    pub rows: Vec<Row>,
}

/// The close of `[from, to)` from `store`; `ours` says which addresses are
/// this wallet's (online payments to them are counted).
pub fn report(
    store: &Store,
    from: i64,
    to: i64,
    cluster: Cluster,
    ours: &dyn Fn(&str) -> bool,
) -> Result<Report, StoreError> {
    let currency = |mint: Option<&Pubkey>| -> (String, u8) {
        match Currency::of_mint(mint, cluster) {
            Ok(c) => (c.symbol.to_owned(), c.decimals),
            Err(_) => (
                mint.map_or_else(|| "SOL".to_owned(), |m| m.to_string()),
                mint.and_then(crate::currency::known_decimals).unwrap_or(0),
            ),
        }
    };
    let refunds = store.refunds(None)?;
    let refunded = |payment: &str| crate::store::refunded(&refunds, payment);
    let mut rows = Vec::new();
    let mut sales: Vec<SaleRecord> = Vec::new();
    let mut exposure: Vec<Row> = Vec::new();
    for summary in store.list()? {
        if summary.direction != Direction::Received {
            continue;
        }
        let id = hex::decode(&summary.id)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| StoreError::Corrupt("an intent id is not 32 bytes".into()))?;
        let stored = store.get(&id)?;
        let i = &stored.signed.intent;
        let time = stored.history.first().map_or(0, |e| e.at);
        let reference = store.sale_of(&id)?.or(i.reference);
        let (symbol, decimals) = currency(i.mint.as_ref());
        let row = Row {
            time,
            way: "offline",
            payment: summary.id.clone(),
            payer: i.payer.to_string(),
            currency: symbol,
            mint: i.mint.map(|m| m.to_string()),
            decimals,
            amount: i.amount,
            fiat: None,
            fiat_amount: None,
            fiat_decimals: None,
            rate: None,
            tip: 0,
            fiat_tip: None,
            refunded: refunded(&summary.id),
            state: stored.state.as_str().to_owned(),
            transaction: store.settlement(&id)?,
            reference: reference.map(|r| r.to_string()),
        };
        if row.waiting() {
            exposure.push(row.clone());
        }
        if (from..to).contains(&time) {
            rows.push((row, reference));
        }
    }
    for p in store.online_payments()? {
        if !ours(&p.recipient) {
            continue;
        }
        let time = p.block_time.unwrap_or(p.at);
        if !(from..to).contains(&time) {
            continue;
        }
        let mint = p.mint.as_deref().and_then(|m| m.parse::<Pubkey>().ok());
        let (symbol, decimals) = currency(mint.as_ref());
        let reference = p.reference.parse::<Pubkey>().ok();
        rows.push((
            Row {
                time,
                way: "online",
                payment: p.signature.clone(),
                payer: p.payer.clone(),
                currency: symbol,
                mint: p.mint.clone(),
                decimals,
                amount: p.amount,
                fiat: None,
                fiat_amount: None,
                fiat_decimals: None,
                rate: None,
                tip: 0,
                fiat_tip: None,
                refunded: refunded(&p.signature),
                state: "confirmed".to_owned(),
                transaction: Some(p.signature.clone()),
                reference: Some(p.reference.clone()),
            },
            reference,
        ));
    }
    rows.sort_by(|a, b| a.0.time.cmp(&b.0.time).then(a.0.payment.cmp(&b.0.payment)));
    for (_, reference) in &rows {
        if let Some(reference) = reference
            && !sales.iter().any(|s| s.reference == *reference)
            && let Some(sale) = store.sale(reference)?
        {
            sales.push(sale);
        }
    }
    for sale in &sales {
        share(&mut rows, sale);
    }
    let rows: Vec<Row> = rows.into_iter().map(|(r, _)| r).collect();
    Ok(Report {
        from,
        to,
        totals: totals(&rows),
        fiat: fiat_totals(&rows),
        exposure: totals(&exposure),
        rows,
    })
}

/// Gives each payment of `sale` its part of the sale's tip and fiat
/// amounts, in proportion to what it brought; the first takes what
/// rounding leaves, so the parts add up to the sale's.
fn share(rows: &mut [(Row, Option<Pubkey>)], sale: &SaleRecord) {
    let of_sale: Vec<usize> = (0..rows.len())
        .filter(|i| rows[*i].1 == Some(sale.reference))
        .collect();
    let part = |whole: u64, amount: u64| -> u64 {
        match sale.amount {
            0 => 0,
            n => (u128::from(whole) * u128::from(amount) / u128::from(n)) as u64,
        }
    };
    let split = |whole: u64, rows: &[(Row, Option<Pubkey>)]| -> Vec<u64> {
        let mut parts: Vec<u64> = of_sale
            .iter()
            .map(|i| part(whole, rows[*i].0.amount))
            .collect();
        let paid: u64 = of_sale.iter().map(|i| rows[*i].0.amount).sum();
        let rest = whole.saturating_sub(parts.iter().sum());
        if paid == sale.amount
            && let Some(first) = parts.first_mut()
        {
            *first += rest;
        }
        parts
    };
    let tips = split(sale.tip, rows);
    let fiat = sale.fiat.as_ref();
    let fiat_amounts = fiat.map(|f| split(f.amount, rows));
    let fiat_tips = fiat.map(|f| split(f.tip, rows));
    let fiat_decimals = fiat
        .and_then(|f| crate::price::Fiat::named(&f.code).ok())
        .map(|f| f.decimals);
    for (n, i) in of_sale.iter().enumerate() {
        let row = &mut rows[*i].0;
        row.tip = tips[n];
        if let Some(f) = fiat {
            row.fiat = Some(f.code.clone());
            row.rate = Some(f.rate.clone());
            row.fiat_decimals = fiat_decimals;
            row.fiat_amount = fiat_amounts.as_ref().map(|a| a[n]);
            row.fiat_tip = fiat_tips.as_ref().map(|a| a[n]);
        }
    }
}

fn totals(rows: &[Row]) -> Vec<Total> {
    let mut out: Vec<Total> = Vec::new();
    for r in rows {
        let at = match out.iter().position(|t| t.currency == r.currency) {
            Some(at) => at,
            None => {
                out.push(Total {
                    currency: r.currency.clone(),
                    mint: r.mint.clone(),
                    ..Total::default()
                });
                out.len() - 1
            }
        };
        let t = &mut out[at];
        t.payments += 1;
        t.received = t.received.saturating_add(r.amount);
        t.tips = t.tips.saturating_add(r.tip);
        t.refunds = t.refunds.saturating_add(r.refunded);
        if r.arrived() {
            t.settled = t.settled.saturating_add(r.amount);
        } else if r.waiting() {
            t.waiting = t.waiting.saturating_add(r.amount);
        } else {
            t.lost = t.lost.saturating_add(r.amount);
        }
    }
    out
}

fn fiat_totals(rows: &[Row]) -> Vec<FiatTotal> {
    let mut out: Vec<FiatTotal> = Vec::new();
    for r in rows {
        let (Some(fiat), Some(amount)) = (&r.fiat, r.fiat_amount) else {
            continue;
        };
        let at = match out.iter().position(|t| &t.fiat == fiat) {
            Some(at) => at,
            None => {
                out.push(FiatTotal {
                    fiat: fiat.clone(),
                    ..FiatTotal::default()
                });
                out.len() - 1
            }
        };
        out[at].amount = out[at].amount.saturating_add(amount);
        out[at].tips = out[at].tips.saturating_add(r.fiat_tip.unwrap_or(0));
    }
    out
}

/// A moment as RFC 3339 in UTC ("2026-12-06T10:04:03Z").
pub fn utc(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || seconds.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// The CSV columns, in order (docs/close.md).
pub const CSV_COLUMNS: &[&str] = &[
    "time",
    "way",
    "payment",
    "payer",
    "currency",
    "amount",
    "fiat",
    "fiat_amount",
    "rate",
    "tip",
    "fiat_tip",
    "refunded",
    "state",
    "transaction",
    "reference",
];

impl Report {
    /// The rows as CSV (RFC 4180, CRLF, a header line; amounts as decimal
    /// text with a point in the currency's units, times in UTC).
    pub fn to_csv(&self) -> String {
        let mut out = CSV_COLUMNS.join(",") + "\r\n";
        for r in &self.rows {
            let fiat_text = |minor: Option<u64>| match (minor, r.fiat_decimals) {
                (Some(m), Some(d)) => crate::price::fixed(m, d),
                _ => String::new(),
            };
            let line = [
                utc(r.time),
                r.way.to_owned(),
                r.payment.clone(),
                r.payer.clone(),
                r.currency.clone(),
                crate::amount::format(r.amount, r.decimals),
                r.fiat.clone().unwrap_or_default(),
                fiat_text(r.fiat_amount),
                r.rate.clone().unwrap_or_default(),
                crate::amount::format(r.tip, r.decimals),
                fiat_text(r.fiat_tip),
                crate::amount::format(r.refunded, r.decimals),
                r.state.clone(),
                r.transaction.clone().unwrap_or_default(),
                r.reference.clone().unwrap_or_default(),
            ];
            out.push_str(
                &line
                    .iter()
                    .map(|v| crate::store::csv_field(v))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        out
    }
}
