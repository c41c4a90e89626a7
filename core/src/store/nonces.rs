//! The nonce pool's records: which durable nonce accounts this wallet owns,
//! the value each held when last read, and whether it is free, bound to an
//! intent, or spent. `crate::nonce` keeps them in step with the chain.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use solana_program::pubkey::Pubkey;

use super::{Store, StoreError};

/// Where a pool account is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NonceState {
    /// Holds a known value no intent uses yet.
    Available,
    /// Bound to one signed intent, whose settlement will advance it.
    Assigned,
    /// Advanced on chain; its value must be read again before reuse.
    Used,
    /// Withdrawn and gone.
    Closed,
}

impl NonceState {
    fn as_str(self) -> &'static str {
        match self {
            NonceState::Available => "available",
            NonceState::Assigned => "assigned",
            NonceState::Used => "used",
            NonceState::Closed => "closed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Available, Self::Assigned, Self::Used, Self::Closed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One account of the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonceRecord {
    /// The nonce account, derived from the authority and `seed`.
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub address: Pubkey,
    /// The wallet key that may advance and withdraw the account.
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub authority: Pubkey,
    /// Genesis prefix of the cluster the account lives on.
    #[serde(serialize_with = "serialize_cluster")]
    pub cluster: [u8; 8],
    /// The seed the address is derived with from the authority.
    pub seed: String,
    /// The account's balance when last read, in lamports (what closing it returns).
    pub lamports: u64,
    /// The nonce value last read from chain.
    #[serde(serialize_with = "serialize_value")]
    pub value: Option<[u8; 32]>,
    /// Where the account is in its cycle.
    pub state: NonceState,
    /// The sent intent bound to this nonce while it is assigned; `None` until one is stored.
    #[serde(serialize_with = "serialize_id")]
    pub intent_id: Option<[u8; 32]>,
    /// Unix seconds of the last change to value, state or balance.
    pub updated_at: i64,
}

fn serialize_value<S: serde::Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_some(&bs58::encode(v).into_string()),
        None => s.serialize_none(),
    }
}

fn serialize_cluster<S: serde::Serializer>(v: &[u8; 8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(v))
}

fn serialize_id<S: serde::Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_some(&hex::encode(v)),
        None => s.serialize_none(),
    }
}

fn fixed<const N: usize>(bytes: Vec<u8>) -> Result<[u8; N], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("a nonce-pool field has the wrong length".into()))
}

type RawRow = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    String,
    i64,
    Option<Vec<u8>>,
    String,
    Option<Vec<u8>>,
    i64,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn record(row: RawRow) -> Result<NonceRecord, StoreError> {
    let (address, authority, cluster, seed, lamports, value, state, intent_id, updated_at) = row;
    Ok(NonceRecord {
        address: Pubkey::new_from_array(fixed(address)?),
        authority: Pubkey::new_from_array(fixed(authority)?),
        cluster: fixed(cluster)?,
        seed,
        lamports: lamports as u64,
        value: value.map(fixed).transpose()?,
        state: NonceState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown nonce state {state:?}")))?,
        intent_id: intent_id.map(fixed).transpose()?,
        updated_at,
    })
}

const COLUMNS: &str =
    "address, authority, cluster, seed, lamports, value, state, intent_id, updated_at
     FROM nonce_accounts";

impl Store {
    /// Adds or replaces a pool account's record.
    pub fn put_nonce(&mut self, r: &NonceRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO nonce_accounts
               (address, authority, seed, lamports, value, state, intent_id, updated_at, cluster)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                r.address.as_ref(),
                r.authority.as_ref(),
                r.seed,
                r.lamports as i64,
                r.value.as_ref().map(|v| v.to_vec()),
                r.state.as_str(),
                r.intent_id.as_ref().map(|v| v.to_vec()),
                r.updated_at,
                &r.cluster[..],
            ],
        )?;
        Ok(())
    }

    /// The pool of `authority` on `cluster` (on every cluster when `None`),
    /// in creation order, closed accounts included.
    pub fn nonces(
        &self,
        authority: &Pubkey,
        cluster: Option<&[u8; 8]>,
    ) -> Result<Vec<NonceRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} WHERE authority = ?1 AND (?2 IS NULL OR cluster = ?2) ORDER BY rowid"
        ))?;
        let rows = stmt
            .query_map(
                params![authority.as_ref(), cluster.map(|c| c.to_vec())],
                raw,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(record).collect()
    }

    /// Hands out an available account of `authority` and marks it assigned,
    /// in one transaction, so two intents never get the same nonce. The
    /// intent that uses it is bound when it is recorded (`record_sent`).
    pub fn take_nonce(
        &mut self,
        authority: &Pubkey,
        cluster: &[u8; 8],
        now: i64,
    ) -> Result<Option<NonceRecord>, StoreError> {
        let tx = self.conn.transaction()?;
        let found = tx
            .query_row(
                &format!(
                    "SELECT {COLUMNS} WHERE authority = ?1 AND cluster = ?2 AND state = 'available'
                       AND value IS NOT NULL
                     ORDER BY rowid LIMIT 1"
                ),
                params![authority.as_ref(), &cluster[..]],
                raw,
            )
            .optional()?;
        let Some(row) = found else {
            return Ok(None);
        };
        let mut r = record(row)?;
        tx.execute(
            "UPDATE nonce_accounts SET state = 'assigned', intent_id = NULL, updated_at = ?2 WHERE address = ?1",
            params![r.address.as_ref(), now],
        )?;
        tx.commit()?;
        r.state = NonceState::Assigned;
        r.intent_id = None;
        r.updated_at = now;
        Ok(Some(r))
    }

    /// Marks the nonce of a durable intent as advanced (its settlement ran).
    pub fn nonce_used(&mut self, address: &Pubkey, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE nonce_accounts SET state = 'used', updated_at = ?2 WHERE address = ?1 AND state != 'closed'",
            params![address.as_ref(), now],
        )?;
        Ok(())
    }
}
