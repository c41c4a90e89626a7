//! Payments a till saw made online to its request, by any Solana Pay
//! wallet (`solana_pay::find`): kept once, by transaction signature.

use rusqlite::params;
use serde::Serialize;
use solana_program::pubkey::Pubkey;

use super::{Counter, Store, StoreError};
use crate::solana_pay::Paid;

/// An online payment as the activity shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnlinePayment {
    /// The transaction signature, base58.
    pub signature: String,
    /// The request's reference it carried, base58.
    pub reference: String,
    /// Who paid (the transaction's fee payer), base58.
    pub payer: String,
    /// Who was paid, base58.
    pub recipient: String,
    /// The token mint, base58; `None` for SOL.
    pub mint: Option<String>,
    /// Lamports, or the mint's base units.
    pub amount: u64,
    /// The slot it landed in.
    pub slot: u64,
    /// When, by the cluster, if known (Unix seconds).
    pub block_time: Option<i64>,
    /// When the till saw it (Unix seconds).
    pub at: i64,
}

impl Store {
    /// Keeps `paid`, made to `recipient` with `reference`, seen at `at`;
    /// counted once. Whether it was new.
    pub fn record_online(
        &mut self,
        paid: &Paid,
        recipient: &Pubkey,
        reference: &Pubkey,
        at: i64,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO online_payments
               (signature, reference, payer, recipient, mint, amount, slot, block_time, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                paid.signature,
                reference.as_ref(),
                paid.payer.as_ref(),
                recipient.as_ref(),
                paid.mint.as_ref().map(|m| m.as_ref().to_vec()),
                paid.amount as i64,
                paid.slot as i64,
                paid.block_time,
                at,
            ],
        )?;
        if added == 1 {
            tx.execute(
                "INSERT INTO metrics (name, value) VALUES (?1, 1)
                 ON CONFLICT(name) DO UPDATE SET value = value + 1",
                params![Counter::OnlinePayments.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(added == 1)
    }

    /// Every online payment kept, newest first.
    pub fn online_payments(&self) -> Result<Vec<OnlinePayment>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT signature, reference, payer, recipient, mint, amount, slot, block_time, at
             FROM online_payments ORDER BY at DESC, rowid DESC",
        )?;
        let key = |b: Vec<u8>| {
            <[u8; 32]>::try_from(b.as_slice())
                .map_or_else(|_| "?".into(), |k| Pubkey::new_from_array(k).to_string())
        };
        let rows = stmt.query_map([], |r| {
            Ok(OnlinePayment {
                signature: r.get(0)?,
                reference: key(r.get(1)?),
                payer: key(r.get(2)?),
                recipient: key(r.get(3)?),
                mint: r.get::<_, Option<Vec<u8>>>(4)?.map(key),
                amount: r.get::<_, i64>(5)? as u64,
                slot: r.get::<_, i64>(6)? as u64,
                block_time: r.get(7)?,
                at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
