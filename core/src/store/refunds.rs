//! Refunds a merchant made: each written before it is sent (state
//! `sending`, its signature kept as soon as it is signed), so what is
//! refundable counts it even if the app stops mid-send, and never more
//! than was received is handed back.

use rusqlite::params;
use serde::Serialize;
use solana_program::pubkey::Pubkey;

use super::{Store, StoreError};

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefundState {
    /// Written, maybe sent, not known to have landed.
    Sending,
    /// Landed.
    Confirmed,
    /// Refused by the cluster: nothing moved.
    Failed,
}

impl RefundState {
    fn as_str(self) -> &'static str {
        match self {
            RefundState::Sending => "sending",
            RefundState::Confirmed => "confirmed",
            RefundState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Sending, Self::Confirmed, Self::Failed]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// One refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    /// The store's number for it.
    pub id: i64,
    /// The payment refunded: an intent id (hex) or a transaction signature.
    pub payment: String,
    /// Who gets it back.
    pub recipient: Pubkey,
    /// The token; `None`: SOL.
    pub mint: Option<Pubkey>,
    /// Base units handed back.
    pub amount: u64,
    /// Lamports its transaction costs this wallet: the fee, and rent when
    /// it opened the payer's token account.
    pub fee: u64,
    /// Its own reference, the first of its transfer's: it finds the
    /// refund's transaction on chain even when its signature was never
    /// kept.
    pub reference: Pubkey,
    /// Its transaction, once signed.
    pub signature: Option<String>,
    /// Where it stands.
    pub state: RefundState,
    /// When it was made (Unix seconds).
    pub at: i64,
}

/// What `refunds` hand back of `payment`: every refund not failed (one
/// whose outcome is not known yet counts, so nothing is refunded twice).
pub fn refunded(refunds: &[Refund], payment: &str) -> u64 {
    refunds
        .iter()
        .filter(|r| r.payment == payment && r.state != RefundState::Failed)
        .map(|r| r.amount)
        .sum()
}

/// A refund about to be sent, as [`Store::begin_refund`] writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund<'a> {
    /// The payment refunded: an intent id (hex) or a transaction signature.
    pub payment: &'a str,
    /// Who gets it back.
    pub recipient: Pubkey,
    /// The token; `None`: SOL.
    pub mint: Option<Pubkey>,
    /// Its own reference.
    pub reference: Pubkey,
    /// Base units handed back.
    pub amount: u64,
    /// Lamports it costs this wallet (fee and any rent).
    pub fee: u64,
    /// When it is made (Unix seconds).
    pub at: i64,
}

impl Store {
    /// Writes `refund` of a payment that brought `received` as being
    /// sent, unless it and the refunds not failed would hand back more
    /// than was received; then nothing is written and the error says how
    /// much is left.
    pub fn begin_refund(&mut self, refund: &NewRefund, received: u64) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        let refunded: i64 = tx.query_row(
            "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE payment = ?1 AND state != 'failed'",
            params![refund.payment],
            |r| r.get(0),
        )?;
        let left = received.saturating_sub(refunded as u64);
        if refund.amount == 0 || refund.amount > left {
            return Err(StoreError::RefundTooLarge {
                asked: refund.amount,
                left,
            });
        }
        tx.execute(
            "INSERT INTO refunds (payment, recipient, mint, amount, fee, reference, signature, state, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, 'sending', ?7)",
            params![
                refund.payment,
                refund.recipient.as_ref(),
                refund.mint.map(|m| m.as_ref().to_vec()),
                refund.amount as i64,
                refund.fee as i64,
                refund.reference.as_ref(),
                refund.at
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Keeps the signature of refund `id`'s transaction, before it is sent.
    pub fn refund_signed(&mut self, id: i64, signature: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE refunds SET signature = ?2 WHERE id = ?1",
            params![id, signature],
        )?;
        Ok(())
    }

    /// Records how refund `id` ended.
    pub fn refund_ended(&mut self, id: i64, state: RefundState) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE refunds SET state = ?2 WHERE id = ?1",
            params![id, state.as_str()],
        )?;
        Ok(())
    }

    /// Every refund, oldest first; of `payment` only when given.
    pub fn refunds(&self, payment: Option<&str>) -> Result<Vec<Refund>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, payment, recipient, mint, amount, fee, reference, signature, state, at FROM refunds
             WHERE ?1 IS NULL OR payment = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![payment], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Vec<u8>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, i64>(9)?,
            ))
        })?;
        let key = |b: Vec<u8>| {
            <[u8; 32]>::try_from(b.as_slice())
                .map(Pubkey::new_from_array)
                .map_err(|_| StoreError::Corrupt("a refund's key is not 32 bytes".into()))
        };
        rows.map(|row| {
            let (id, payment, recipient, mint, amount, fee, reference, signature, state, at) = row?;
            Ok(Refund {
                id,
                payment,
                recipient: key(recipient)?,
                mint: mint.map(key).transpose()?,
                amount: amount as u64,
                fee: fee as u64,
                reference: key(reference)?,
                signature,
                state: RefundState::parse(&state).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown refund state {state:?}"))
                })?,
                at,
            })
        })
        .collect()
    }
}
