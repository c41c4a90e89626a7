//! The last state of each on-chain escrow this wallet read, so the offline
//! spendable amount can be shown with no network.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use solana_program::pubkey::Pubkey;

use super::{Store, StoreError};

/// An escrow as last read from chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EscrowSnapshot {
    /// Funds above the rent minimum (lamports, or token base units).
    pub balance: u64,
    /// Asked for by a pending withdrawal; 0 when none.
    pub pending_withdrawal: u64,
    /// Unix seconds of the pending withdrawal request; 0 when none.
    pub requested_at: i64,
    /// The escrow's withdrawal time lock, in seconds.
    pub withdraw_delay: u32,
    /// When it was read (Unix seconds).
    pub at: i64,
}

impl Store {
    /// Keeps the snapshot of `owner`'s escrow for `mint` under `program_id`
    /// (one deployment's escrow never overwrites another's).
    pub fn put_escrow_snapshot(
        &mut self,
        owner: &Pubkey,
        mint: Option<&Pubkey>,
        program_id: &Pubkey,
        v: &EscrowSnapshot,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO escrow_snapshots
               (owner, mint, program_id, balance, pending, requested_at, withdraw_delay, at)
             VALUES (?1, ?2, ?8, ?3, ?4, ?5, ?6, ?7)",
            params![
                owner.as_ref(),
                mint.copied().unwrap_or_default().as_ref(),
                v.balance as i64,
                v.pending_withdrawal as i64,
                v.requested_at,
                v.withdraw_delay,
                v.at,
                program_id.as_ref(),
            ],
        )?;
        Ok(())
    }

    /// Every escrow a snapshot is kept of under `program_id`: owner and
    /// mint (`None` for SOL).
    pub fn escrows_read(
        &self,
        program_id: &Pubkey,
    ) -> Result<Vec<(Pubkey, Option<Pubkey>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT owner, mint FROM escrow_snapshots WHERE program_id = ?1")?;
        let rows = stmt.query_map(params![program_id.as_ref()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let key = |v: Vec<u8>| {
            <[u8; 32]>::try_from(v)
                .map(Pubkey::new_from_array)
                .map_err(|_| StoreError::Corrupt("an escrow snapshot's key is not 32 bytes".into()))
        };
        rows.map(|row| {
            let (owner, mint) = row?;
            let mint = key(mint)?;
            Ok((key(owner)?, (mint != Pubkey::default()).then_some(mint)))
        })
        .collect()
    }

    /// The kept snapshot of `owner`'s escrow for `mint` under `program_id`; `None` if never read.
    pub fn escrow_snapshot(
        &self,
        owner: &Pubkey,
        mint: Option<&Pubkey>,
        program_id: &Pubkey,
    ) -> Result<Option<EscrowSnapshot>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT balance, pending, requested_at, withdraw_delay, at FROM escrow_snapshots
                 WHERE owner = ?1 AND mint = ?2 AND program_id = ?3",
                params![
                    owner.as_ref(),
                    mint.copied().unwrap_or_default().as_ref(),
                    program_id.as_ref()
                ],
                |r| {
                    Ok(EscrowSnapshot {
                        balance: r.get::<_, i64>(0)? as u64,
                        pending_withdrawal: r.get::<_, i64>(1)? as u64,
                        requested_at: r.get(2)?,
                        withdraw_delay: r.get(3)?,
                        at: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// What this wallet, as payer, has signed and not yet seen settled or
    /// ended, in `mint`: it is already promised and cannot be spent again.
    pub fn promised(&self, payer: &Pubkey, mint: Option<&Pubkey>) -> Result<u64, StoreError> {
        let mint = mint.map(|m| m.as_ref().to_vec());
        let total: i64 = self.conn.query_row(
            "SELECT COALESCE(SUM(amount), 0) FROM intents i
             WHERE direction = 'sent' AND payer = ?1 AND mint IS ?2
               AND NOT EXISTS (SELECT 1 FROM durable_signatures d WHERE d.intent_id = i.id)
               AND (SELECT state FROM intent_events e WHERE e.intent_id = i.id ORDER BY seq DESC LIMIT 1)
                   NOT IN ('settled', 'failed', 'expired', 'conflicted')",
            params![payer.as_ref(), mint],
            |r| r.get(0),
        )?;
        Ok(total as u64)
    }
}
