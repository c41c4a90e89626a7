//! What a till sold: each sale as it was priced (the tip apart, the fiat
//! amount and the rate used), and the last rate read for each pair, so a
//! till offline can still price in its currency while the rate is fresh
//! enough.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use solana_program::pubkey::Pubkey;

use super::{Store, StoreError};
use crate::price::Rate;

/// A sale as the till opened it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleRecord {
    /// The request's reference: the sale's identity on and off chain.
    pub reference: Pubkey,
    /// Who is paid.
    pub payee: Pubkey,
    /// The token; `None`: SOL.
    pub mint: Option<Pubkey>,
    /// Everything asked, tip included, in base units.
    pub amount: u64,
    /// The tip within `amount`, in base units.
    pub tip: u64,
    /// What it was priced at in the merchant's currency, if it was.
    pub fiat: Option<FiatPrice>,
    /// When it was opened (Unix seconds).
    pub opened_at: i64,
}

/// A sale's price in the merchant's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiatPrice {
    /// The currency's ISO code.
    pub code: String,
    /// Everything asked, tip included, in its minor units.
    pub amount: u64,
    /// The tip within `amount`, in its minor units.
    pub tip: u64,
    /// The rate used: fiat per whole unit, six places ("142.370000").
    pub rate: String,
    /// When the rate was published (Unix seconds).
    pub rate_at: i64,
}

fn key(bytes: Vec<u8>) -> Result<Pubkey, StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(Pubkey::new_from_array)
        .map_err(|_| StoreError::Corrupt("a key is not 32 bytes".into()))
}

impl Store {
    /// Keeps the sale a till opened (once: its reference is new).
    pub fn record_sale(&mut self, sale: &SaleRecord) -> Result<(), StoreError> {
        let fiat = sale.fiat.as_ref();
        self.conn.execute(
            "INSERT INTO sales (reference, payee, mint, amount, tip, fiat, fiat_amount, fiat_tip,
                                rate, rate_at, opened_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                sale.reference.as_ref(),
                sale.payee.as_ref(),
                sale.mint.as_ref().map(|m| m.as_ref().to_vec()),
                sale.amount as i64,
                sale.tip as i64,
                fiat.map(|f| f.code.clone()),
                fiat.map(|f| f.amount as i64),
                fiat.map(|f| f.tip as i64),
                fiat.map(|f| f.rate.clone()),
                fiat.map(|f| f.rate_at),
                sale.opened_at,
            ],
        )?;
        Ok(())
    }

    /// The sale with `reference`, if this till opened it.
    pub fn sale(&self, reference: &Pubkey) -> Result<Option<SaleRecord>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT payee, mint, amount, tip, fiat, fiat_amount, fiat_tip, rate, rate_at, opened_at
                 FROM sales WHERE reference = ?1",
                params![reference.as_ref()],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, Option<Vec<u8>>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                        r.get::<_, i64>(9)?,
                    ))
                },
            )
            .optional()?;
        let Some((payee, mint, amount, tip, code, fiat_amount, fiat_tip, rate, rate_at, at)) = row
        else {
            return Ok(None);
        };
        let fiat = match (code, fiat_amount, fiat_tip, rate, rate_at) {
            (Some(code), Some(amount), Some(tip), Some(rate), Some(rate_at)) => Some(FiatPrice {
                code,
                amount: amount as u64,
                tip: tip as u64,
                rate,
                rate_at,
            }),
            _ => None,
        };
        Ok(Some(SaleRecord {
            reference: *reference,
            payee: key(payee)?,
            mint: mint.map(key).transpose()?,
            amount: amount as u64,
            tip: tip as u64,
            fiat,
            opened_at: at,
        }))
    }

    /// The reference of the sale a payment taken offline paid, if a till
    /// took it for one.
    pub fn sale_of(&self, intent_id: &[u8; 32]) -> Result<Option<Pubkey>, StoreError> {
        self.conn
            .query_row(
                "SELECT reference FROM sale_payments WHERE intent_id = ?1",
                params![&intent_id[..]],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .optional()?
            .map(key)
            .transpose()
    }

    /// Keeps `rate` as the last one read for its pair (a newer one only).
    pub fn keep_rate(&mut self, rate: &Rate) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO rates (pair, scaled, published_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (pair) DO UPDATE SET scaled = excluded.scaled,
                 published_at = excluded.published_at
             WHERE excluded.published_at >= rates.published_at",
            params![
                pair(&rate.currency, &rate.fiat),
                rate.scaled.to_string(),
                rate.published_at
            ],
        )?;
        Ok(())
    }

    /// The last rate read of `currency` in `fiat`, if any.
    pub fn kept_rate(&self, currency: &str, fiat: &str) -> Result<Option<Rate>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT scaled, published_at FROM rates WHERE pair = ?1",
                params![pair(currency, fiat)],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?;
        row.map(|(scaled, published_at)| {
            Ok(Rate {
                currency: currency.to_owned(),
                fiat: fiat.to_owned(),
                scaled: scaled
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("a kept rate is {scaled:?}")))?,
                published_at,
            })
        })
        .transpose()
    }
}

fn pair(currency: &str, fiat: &str) -> String {
    format!("{currency}/{fiat}")
}
