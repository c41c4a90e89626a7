//! The local store: every intent sent or received, its history, settlements and
//! counters, in SQLite in the data directory.
//!
//! - **Append-only.** A signed intent is written once; every change of state
//!   is a new row in `intent_events`. Triggers in the schema refuse updates,
//!   and refuse deleting any intent that is not in a final state or has not
//!   expired, so "nothing unsettled is ever deleted" holds even against bugs.
//! - **Encrypted bodies.** The signed intent bytes are sealed with
//!   XChaCha20-Poly1305 under a key kept in the OS keychain, bound to the
//!   intent id; the columns needed for queries (parties, amount, nonce, times)
//!   stay in clear (docs/store.md says what that does and does not protect).
//! - **Crash-safe.** WAL journal with `synchronous=FULL`: once a write call
//!   returns, the data survives a crash or power loss.

mod escrows;
mod metrics;
mod nonces;
mod online;
mod refunds;
mod sales;
mod schema;

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use solana_program::pubkey::Pubkey;
use zeroize::Zeroizing;

use crate::intent::{Accepted, Ledger, SignedIntent};
pub use refunds::{NewRefund, Refund, RefundState, refunded};
pub use sales::{FiatPrice, SaleRecord};

pub use escrows::EscrowSnapshot;
pub use metrics::{Counter, Metrics};
pub use nonces::{NonceRecord, NonceState};
pub use online::OnlinePayment;
pub use schema::SCHEMA_VERSION;

/// Where an intent came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Signed by this wallet as payer.
    Sent,
    /// Received from a payer and verified offline.
    Received,
}

impl Direction {
    /// The name stored in the database and written to CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// The life of an intent. `Settled`, `Failed`, `Expired` and `Conflicted`
/// are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Signed by this wallet, not yet handed over.
    Created,
    /// Handed over to the payee (code, BLE or NFC).
    Sent,
    /// Received from a payer.
    Received,
    /// Passed the offline checks; waiting to settle.
    Verified,
    /// In a settlement transaction sent to the cluster, outcome not yet known.
    Submitted,
    /// Refused for a reason that can recover (the fee payer or the payer's
    /// escrow short, an account missing); the detail says what to do. The
    /// engine tries again until the intent expires.
    Deferred,
    /// Paid on chain (by this wallet or someone else). Final.
    Settled,
    /// Refused for good (escrow short, or invalid). Final.
    Failed,
    /// Its time ran out before it settled. Final.
    Expired,
    /// Another intent with the same payer and nonce settled first. Final.
    Conflicted,
}

impl State {
    const ALL: [State; 10] = [
        State::Created,
        State::Sent,
        State::Received,
        State::Verified,
        State::Submitted,
        State::Deferred,
        State::Settled,
        State::Failed,
        State::Expired,
        State::Conflicted,
    ];

    /// The name stored in the database and written to CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Sent => "sent",
            State::Received => "received",
            State::Verified => "verified",
            State::Submitted => "submitted",
            State::Deferred => "deferred",
            State::Settled => "settled",
            State::Failed => "failed",
            State::Expired => "expired",
            State::Conflicted => "conflicted",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether no further change of state can follow.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Settled | State::Failed | State::Expired | State::Conflicted
        )
    }

    /// The transitions the wallet may record. A submission can be retried
    /// (`Submitted` again) and a failed attempt that may still succeed later
    /// is recorded by the engine as a detail, not as `Failed`.
    fn may_follow(self, prev: State) -> bool {
        use State::*;
        match (prev, self) {
            (_, _) if prev.is_final() => false,
            (Created, Sent) | (Received, Verified) => true,
            (Created | Sent | Verified | Deferred, Submitted) | (Submitted, Submitted) => true,
            (Submitted | Deferred, Settled | Failed) => true,
            // Waits again: refused before sending (the fee payer short) or after.
            (Sent | Verified | Submitted | Deferred, Deferred) => true,
            (Created | Sent | Verified | Submitted | Deferred, Expired | Conflicted | Failed) => {
                true
            }
            (Created | Sent | Verified, Settled) => true, // settled by the other side
            _ => false,
        }
    }
}

/// Why the store could not be opened, read or changed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened.
    #[error("cannot open the store {path}: {message}")]
    Open {
        /// The database file.
        path: String,
        /// SQLite's message.
        message: String,
    },
    /// SQLite reported the disk full; the write was rolled back.
    #[error("the disk is full: the change was not saved, and nothing already saved was lost")]
    Full,
    /// The database, or a stored intent, is damaged; carries the detail.
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    /// The database schema is newer than this build.
    #[error(
        "the store was written by a newer TOSS (schema {found}, this build knows up to {known}); update TOSS"
    )]
    TooNew {
        /// The schema version in the file.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
    /// An intent with this id is already stored.
    #[error("this intent is already stored")]
    Duplicate,
    /// No intent with this id is stored.
    #[error("no such intent")]
    NotFound,
    /// A sent durable intent's nonce is not assigned and unbound in the pool; carries the account.
    #[error(
        "the durable nonce {0} was not handed out to this intent by the pool (or was reclaimed): sign again with a fresh one"
    )]
    NonceNotHandedOut(String),
    /// The state machine does not allow this change.
    #[error("an intent cannot go from {from} to {to}")]
    BadTransition {
        /// The current state.
        from: &'static str,
        /// The state refused.
        to: &'static str,
    },
    /// A stored body does not decrypt, or decrypts to another intent.
    #[error(
        "the stored intent does not decrypt with this wallet's store key (wrong key, or the row was altered)"
    )]
    Decrypt,
    /// A refund would hand back more than the payment brought (with the
    /// refunds already made); amounts in the currency's base units.
    #[error("a refund of {asked} base units is more than the {left} left to refund")]
    RefundTooLarge {
        /// What was asked.
        asked: u64,
        /// What is left to refund.
        left: u64,
    },
    /// Any other SQLite failure; carries its message.
    #[error("store error: {0}")]
    Sqlite(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DiskFull) => StoreError::Full,
            Some(C::DatabaseCorrupt | C::NotADatabase) => StoreError::Corrupt(e.to_string()),
            Some(C::ConstraintViolation) if e.to_string().contains("UNIQUE") => {
                StoreError::Duplicate
            }
            _ => StoreError::Sqlite(e.to_string()),
        }
    }
}

/// An intent as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIntent {
    /// The intent id (SHA-256 of body and signature).
    pub id: [u8; 32],
    /// Whether this wallet paid it or received it.
    pub direction: Direction,
    /// The signed intent, decrypted.
    pub signed: SignedIntent,
    /// The payer's settlement-transaction signature, for a durable intent.
    pub tx_signature: Option<[u8; 64]>,
    /// The latest state.
    pub state: State,
    /// Every change of state, oldest first.
    pub history: Vec<Event>,
}

/// One change of state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The state entered.
    pub state: State,
    /// When, in Unix seconds.
    pub at: i64,
    /// What else is known (how it was handed over, the outcome in words).
    pub detail: Option<String>,
}

/// One line of the activity list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The intent id, hex.
    pub id: String,
    /// Whether this wallet paid it or received it.
    pub direction: Direction,
    /// The payer's address, base58.
    pub payer: String,
    /// The payee's address, base58.
    pub payee: String,
    /// The token mint, base58; `None` for SOL.
    pub mint: Option<String>,
    /// Lamports, or the mint's base units.
    pub amount: u64,
    /// The payer's replay nonce.
    pub nonce: u64,
    /// Unix seconds after which it cannot settle.
    pub expires_at: i64,
    /// The latest state.
    pub state: State,
}

/// The activity as CSV (RFC 4180): a header, then one line per intent
/// (`way` offline), then one per online payment (`way` online, its id the
/// transaction signature, `direction` by whether `ours` holds the payer;
/// no nonce or expiry), amounts in the currency's smallest unit, with what
/// `refunded` says was refunded of each (refunds not failed).
pub fn to_csv(
    rows: &[Summary],
    online: &[OnlinePayment],
    ours: &dyn Fn(&str) -> bool,
    refunded: &dyn Fn(&str) -> u64,
) -> String {
    let mut out = String::from(
        "id,direction,payer,payee,mint,amount,nonce,expires_at,state,way,refunded\r\n",
    );
    let intents = rows.iter().map(|r| {
        [
            r.id.clone(),
            r.direction.as_str().to_owned(),
            r.payer.clone(),
            r.payee.clone(),
            r.mint.clone().unwrap_or_default(),
            r.amount.to_string(),
            r.nonce.to_string(),
            r.expires_at.to_string(),
            r.state.as_str().to_owned(),
            "offline".to_owned(),
            refunded(&r.id).to_string(),
        ]
    });
    let online = online.iter().map(|p| {
        let direction = match ours(&p.payer) {
            true => Direction::Sent,
            false => Direction::Received,
        };
        [
            p.signature.clone(),
            direction.as_str().to_owned(),
            p.payer.clone(),
            p.recipient.clone(),
            p.mint.clone().unwrap_or_default(),
            p.amount.to_string(),
            String::new(),
            String::new(),
            "confirmed".to_owned(),
            "online".to_owned(),
            refunded(&p.signature).to_string(),
        ]
    });
    for line in intents.chain(online) {
        let line = line
            .iter()
            .map(|v| csv_field(v))
            .collect::<Vec<_>>()
            .join(",");
        out.push_str(&line);
        out.push_str("\r\n");
    }
    out
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a
/// line break, its quotes doubled.
pub fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// The open store.
pub struct Store {
    conn: Connection,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating and migrating as needed) the store at `path`, sealing
    /// bodies with `key` (the vault's `store` secret).
    pub fn open(path: &Path, key: &Zeroizing<[u8; 32]>) -> Result<Self, StoreError> {
        let open_err = |e: rusqlite::Error| StoreError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&key[..])
            .map_err(|_| StoreError::Sqlite("store key length".into()))?;
        Ok(Self { conn, cipher })
    }

    /// The raw connection, for tests that need to reach under the API.
    #[cfg(test)]
    fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Records an intent this wallet signed (state `created`), with the
    /// transaction signature of a durable intent, whose pool nonce it binds.
    pub fn record_sent(
        &mut self,
        signed: &SignedIntent,
        tx_signature: Option<&[u8; 64]>,
        now: i64,
    ) -> Result<[u8; 32], StoreError> {
        let id = signed
            .id()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self.seal(id, signed)?;
        let tx = self.conn.transaction()?;
        insert(
            &tx,
            id,
            Direction::Sent,
            signed,
            &sealed,
            tx_signature,
            State::Created,
            now,
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Records an intent that passed the offline checks (`received`, then
    /// `verified`, in one transaction).
    pub fn record_received(&mut self, accepted: &Accepted, now: i64) -> Result<(), StoreError> {
        self.record_received_all(std::slice::from_ref(accepted), None, now)
    }

    /// Records intents received together (one handover) as verified, all
    /// or none, as paying the sale with reference `sale` when a till took
    /// them for one: a failed write leaves none of them kept.
    pub fn record_received_all(
        &mut self,
        accepted: &[Accepted],
        sale: Option<&Pubkey>,
        now: i64,
    ) -> Result<(), StoreError> {
        let sealed = accepted
            .iter()
            .map(|a| self.seal(a.id, &a.signed))
            .collect::<Result<Vec<_>, _>>()?;
        let tx = self.conn.transaction()?;
        for (a, sealed) in accepted.iter().zip(&sealed) {
            insert(
                &tx,
                a.id,
                Direction::Received,
                &a.signed,
                sealed,
                a.tx_signature.as_ref(),
                State::Received,
                now,
            )?;
            tx.execute(
                "INSERT INTO intent_events (intent_id, state, at, detail) VALUES (?1, ?2, ?3, NULL)",
                params![&a.id[..], State::Verified.as_str(), now],
            )?;
            if let Some(sale) = sale {
                tx.execute(
                    "INSERT INTO sale_payments (intent_id, reference) VALUES (?1, ?2)",
                    params![&a.id[..], sale.as_ref()],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The intent's wire bytes encrypted for the store, bound to its id.
    fn seal(&self, id: [u8; 32], signed: &SignedIntent) -> Result<Sealed, StoreError> {
        let wire = Zeroizing::new(
            signed
                .to_bytes()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| StoreError::Sqlite(e.to_string()))?;
        let body = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &wire,
                    aad: &id,
                },
            )
            .map_err(|_| StoreError::Sqlite("encryption failed".into()))?;
        Ok(Sealed { nonce, body })
    }

    /// Appends a change of state, if the state machine allows it.
    pub fn append(
        &mut self,
        id: &[u8; 32],
        state: State,
        detail: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let current = latest_state(&tx, id)?.ok_or(StoreError::NotFound)?;
        if !state.may_follow(current) {
            return Err(StoreError::BadTransition {
                from: current.as_str(),
                to: state.as_str(),
            });
        }
        tx.execute(
            "INSERT INTO intent_events (intent_id, state, at, detail) VALUES (?1, ?2, ?3, ?4)",
            params![&id[..], state.as_str(), now, detail],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Marks an intent this wallet paid as handed over to its payee (shown
    /// as a code, given over BLE or NFC): sent, if it was only created.
    /// Whether it changed.
    pub fn mark_handed_over(
        &mut self,
        id: &[u8; 32],
        how: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        match self.get(id) {
            Ok(stored) if stored.direction == Direction::Sent && stored.state == State::Created => {
                self.append(id, State::Sent, Some(how), now)?;
                Ok(true)
            }
            Ok(_) | Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One intent, decrypted and checked against its id.
    pub fn get(&self, id: &[u8; 32]) -> Result<StoredIntent, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT direction, seal_nonce, body FROM intents WHERE id = ?1",
                params![&id[..]],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                    ))
                },
            )
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let (direction, nonce, body) = row;
        if nonce.len() != 24 {
            return Err(StoreError::Decrypt);
        }
        let wire = Zeroizing::new(
            self.cipher
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &body,
                        aad: &id[..],
                    },
                )
                .map_err(|_| StoreError::Decrypt)?,
        );
        let signed =
            SignedIntent::from_bytes(&wire).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if signed.id().ok() != Some(*id) {
            return Err(StoreError::Decrypt);
        }
        let tx_signature = self
            .conn
            .query_row(
                "SELECT signature FROM durable_signatures WHERE intent_id = ?1",
                params![&id[..]],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .optional()?
            .map(|sig| {
                <[u8; 64]>::try_from(sig).map_err(|_| {
                    StoreError::Corrupt("a transaction signature is not 64 bytes".into())
                })
            })
            .transpose()?;
        let mut stmt = self.conn.prepare(
            "SELECT state, at, detail FROM intent_events WHERE intent_id = ?1 ORDER BY seq",
        )?;
        let history = stmt
            .query_map(params![&id[..]], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .map(|row| {
                let (s, at, detail) = row?;
                let state = State::parse(&s)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown state {s:?}")))?;
                Ok(Event { state, at, detail })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let state = history
            .last()
            .map(|e| e.state)
            .ok_or(StoreError::Corrupt("an intent without history".into()))?;
        Ok(StoredIntent {
            id: *id,
            direction: if direction == "sent" {
                Direction::Sent
            } else {
                Direction::Received
            },
            signed,
            tx_signature,
            state,
            history,
        })
    }

    /// All intents, newest first, with their current state.
    pub fn list(&self) -> Result<Vec<Summary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, i.direction, i.payer, i.payee, i.mint, i.amount, i.nonce, i.expires_at,
                    (SELECT state FROM intent_events e WHERE e.intent_id = i.id ORDER BY seq DESC LIMIT 1)
             FROM intents i ORDER BY i.stored_at DESC, i.rowid DESC",
        )?;
        let key = |b: Vec<u8>| -> String {
            <[u8; 32]>::try_from(b.as_slice())
                .map_or_else(|_| "?".into(), |k| Pubkey::new_from_array(k).to_string())
        };
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, String>(8)?,
            ))
        })?;
        rows.map(|row| {
            let (id, dir, payer, payee, mint, amount, nonce, expires_at, state) = row?;
            Ok(Summary {
                id: hex::encode(id),
                direction: if dir == "sent" {
                    Direction::Sent
                } else {
                    Direction::Received
                },
                payer: key(payer),
                payee: key(payee),
                mint: mint.map(key),
                amount: amount as u64,
                nonce: nonce as u64,
                expires_at,
                state: State::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown state {state:?}")))?,
            })
        })
        .collect()
    }

    /// Intents still waiting to settle, oldest first: received ones that
    /// were verified, sent ones that reached the payee, and any submitted
    /// and not yet resolved. An intent only created never settles: it may
    /// never have been handed over.
    pub fn awaiting_settlement(&self) -> Result<Vec<StoredIntent>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id FROM (
               SELECT i.id, i.direction, i.stored_at, i.rowid AS r,
                      (SELECT state FROM intent_events e WHERE e.intent_id = i.id ORDER BY seq DESC LIMIT 1) AS state
               FROM intents i)
             WHERE state IN ('submitted', 'deferred')
                OR (direction = 'received' AND state = 'verified')
                OR (direction = 'sent' AND state = 'sent')
             ORDER BY stored_at, r",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.into_iter()
            .map(|id| {
                let id: [u8; 32] = id
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("an intent id is not 32 bytes".into()))?;
                self.get(&id)
            })
            .collect()
    }

    /// Keeps the transaction that settled an intent (`slot` when known).
    pub fn record_settlement(
        &mut self,
        id: &[u8; 32],
        signature: &str,
        slot: Option<u64>,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO settlements (intent_id, signature, slot, at) VALUES (?1, ?2, ?3, ?4)",
            params![&id[..], signature, slot.map(|s| s as i64), at],
        )?;
        Ok(())
    }

    /// Intents this wallet settled whose settlement records may be closed:
    /// expired before `now`, not closed yet. Each as its id, payer and nonce
    /// (which the record's address derives from).
    pub fn records_to_close(&self, now: i64) -> Result<Vec<([u8; 32], Pubkey, u64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, i.payer, i.nonce FROM intents i JOIN settlements s ON s.intent_id = i.id
             WHERE s.record_closed_at IS NULL AND i.expires_at < ?1
             ORDER BY i.expires_at",
        )?;
        let rows = stmt.query_map(params![now], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let corrupt =
            || StoreError::Corrupt("a settled intent's id or payer is not 32 bytes".into());
        rows.map(|row| {
            let (id, payer, nonce) = row?;
            let id: [u8; 32] = id.try_into().map_err(|_| corrupt())?;
            let payer: [u8; 32] = payer.try_into().map_err(|_| corrupt())?;
            Ok((id, Pubkey::new_from_array(payer), nonce as u64))
        })
        .collect()
    }

    /// Notes that the settlement record of intent `id` is closed (by this
    /// wallet, or found gone).
    pub fn record_closed(&mut self, id: &[u8; 32], at: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE settlements SET record_closed_at = ?2 WHERE intent_id = ?1",
            params![&id[..], at],
        )?;
        Ok(())
    }

    /// The settlement transaction recorded for an intent.
    pub fn settlement(&self, id: &[u8; 32]) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT signature FROM settlements WHERE intent_id = ?1",
                params![&id[..]],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Marks unsettled intents whose time ran out as expired, and deletes
    /// final intents older than `retention_seconds` past their expiry.
    /// Returns (marked expired, deleted). Submitted intents are left for the
    /// settlement engine to resolve: they may have landed on chain.
    pub fn cleanup(
        &mut self,
        now: i64,
        retention_seconds: i64,
    ) -> Result<(usize, usize), StoreError> {
        let tx = self.conn.transaction()?;
        let expired = tx.execute(
            "INSERT INTO intent_events (intent_id, state, at, detail)
             SELECT i.id, 'expired', ?1, NULL FROM intents i
             WHERE i.expires_at <= ?1
               AND (SELECT state FROM intent_events e WHERE e.intent_id = i.id ORDER BY seq DESC LIMIT 1)
                   IN ('created', 'sent', 'received', 'verified')",
            params![now],
        )?;
        let deleted = tx.execute(
            "DELETE FROM intents WHERE expires_at + ?2 < ?1
               AND (SELECT state FROM intent_events e WHERE e.intent_id = intents.id ORDER BY seq DESC LIMIT 1)
                   IN ('settled', 'failed', 'expired', 'conflicted')",
            params![now, retention_seconds],
        )?;
        tx.commit()?;
        Ok((expired, deleted))
    }
}

/// An intent's encrypted wire bytes and the nonce they were sealed with.
struct Sealed {
    nonce: [u8; 24],
    body: Vec<u8>,
}

/// Writes a new intent and its first state inside `tx`.
#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &rusqlite::Transaction<'_>,
    id: [u8; 32],
    direction: Direction,
    signed: &SignedIntent,
    sealed: &Sealed,
    tx_signature: Option<&[u8; 64]>,
    first: State,
    now: i64,
) -> Result<(), StoreError> {
    let i = &signed.intent;
    tx.execute(
        "INSERT INTO intents (id, direction, payer, payee, mint, amount, nonce, created_at, expires_at, seal_nonce, body, stored_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            &id[..],
            direction.as_str(),
            i.payer.as_ref(),
            i.payee.as_ref(),
            i.mint.as_ref().map(|m| m.as_ref().to_vec()),
            i.amount as i64,
            i.nonce as i64,
            i64::from(i.created_at),
            i64::from(i.expires_at),
            &sealed.nonce[..],
            &sealed.body,
            now,
        ],
    )?;
    tx.execute(
        "INSERT INTO intent_events (intent_id, state, at, detail) VALUES (?1, ?2, ?3, NULL)",
        params![&id[..], first.as_str(), now],
    )?;
    if let Some(sig) = tx_signature {
        tx.execute(
            "INSERT INTO durable_signatures (intent_id, signature) VALUES (?1, ?2)",
            params![&id[..], &sig[..]],
        )?;
    }
    if let (Direction::Sent, Some(n)) = (direction, &i.durable_nonce) {
        let bound = tx.execute(
            "UPDATE nonce_accounts SET intent_id = ?2
             WHERE address = ?1 AND state = 'assigned' AND intent_id IS NULL AND value = ?3",
            params![n.account.as_ref(), &id[..], &n.value[..]],
        )?;
        if bound != 1 {
            return Err(StoreError::NonceNotHandedOut(n.account.to_string()));
        }
    }
    Ok(())
}

fn latest_state(conn: &Connection, id: &[u8; 32]) -> Result<Option<State>, StoreError> {
    let s: Option<String> = conn
        .query_row(
            "SELECT state FROM intent_events WHERE intent_id = ?1 ORDER BY seq DESC LIMIT 1",
            params![&id[..]],
            |r| r.get(0),
        )
        .optional()?;
    s.map(|s| State::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("unknown state {s:?}"))))
        .transpose()
}

/// The store is the payee's memory for offline verification: the seen-set
/// and what each payer still owes.
impl Ledger for Store {
    fn seen(&self, id: &[u8; 32]) -> bool {
        self.conn
            .query_row(
                "SELECT 1 FROM intents WHERE id = ?1",
                params![&id[..]],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            // If the store cannot answer, treat the intent as seen: refusing
            // a payment is recoverable, accepting a replay is not.
            .unwrap_or(true)
    }

    fn nonce_held(&self, payer: &Pubkey, nonce: u64) -> bool {
        self.conn
            .query_row(
                "SELECT 1 FROM intents i
                 WHERE direction = 'received' AND payer = ?1 AND nonce = ?2
                   AND (SELECT state FROM intent_events e WHERE e.intent_id = i.id ORDER BY seq DESC LIMIT 1)
                       NOT IN ('failed', 'expired')
                 LIMIT 1",
                params![payer.as_ref(), nonce as i64],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            // Unknown counts as held: refusing is recoverable, two claims on
            // one nonce are not.
            .unwrap_or(true)
    }

    fn unsettled(&self, payer: &Pubkey, mint: Option<&Pubkey>) -> u64 {
        let mint = mint.map(|m| m.as_ref().to_vec());
        self.conn
            .query_row(
                // A payment that bounced (failed, conflicted) is still owed:
                // it counts until the store forgets it (retention), so a
                // payer is not given a fresh allowance by not paying.
                "SELECT COALESCE(SUM(amount), 0) FROM intents i
                 WHERE direction = 'received' AND payer = ?1 AND mint IS ?2
                   AND (SELECT state FROM intent_events e WHERE e.intent_id = i.id ORDER BY seq DESC LIMIT 1)
                       NOT IN ('settled', 'expired')",
                params![payer.as_ref(), mint],
                |r| r.get::<_, i64>(0),
            )
            // Unknown means "as much as allowed": the limit check then refuses.
            .map_or(u64::MAX, |v| v as u64)
    }

    fn unsettled_total(&self, mint: Option<&Pubkey>) -> u64 {
        let mint = mint.map(|m| m.as_ref().to_vec());
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(amount), 0) FROM intents i
                 WHERE direction = 'received' AND mint IS ?1
                   AND (SELECT state FROM intent_events e WHERE e.intent_id = i.id ORDER BY seq DESC LIMIT 1)
                       NOT IN ('settled', 'expired')",
                params![mint],
                |r| r.get::<_, i64>(0),
            )
            .map_or(u64::MAX, |v| v as u64)
    }
}

#[cfg(test)]
mod tests;
