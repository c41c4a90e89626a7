//! Versioned schema migrations. The database's `user_version` says which
//! migrations have run; each runs in its own transaction, so a crash leaves
//! the store at the previous version, never between two.

use rusqlite::Connection;

use super::StoreError;

/// Migration `n` (1-based) takes the store from version `n - 1` to `n`.
/// Never edit one that has shipped: add a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: intents, their append-only history, counters.
    "CREATE TABLE intents (
        id          BLOB PRIMARY KEY CHECK (length(id) = 32),
        direction   TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
        payer       BLOB NOT NULL,
        payee       BLOB NOT NULL,
        mint        BLOB,
        amount      INTEGER NOT NULL,
        nonce       INTEGER NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        seal_nonce  BLOB NOT NULL,
        body        BLOB NOT NULL,
        stored_at   INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX intents_by_payer ON intents (payer, mint);
     CREATE TABLE intent_events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        intent_id  BLOB NOT NULL REFERENCES intents (id) ON DELETE CASCADE,
        state      TEXT NOT NULL CHECK (state IN ('created', 'sent', 'received', 'verified',
                       'submitted', 'settled', 'failed', 'expired', 'conflicted')),
        at         INTEGER NOT NULL,
        detail     TEXT
     ) STRICT;
     CREATE INDEX events_by_intent ON intent_events (intent_id, seq);
     CREATE TABLE metrics (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
     CREATE TRIGGER intents_are_written_once BEFORE UPDATE ON intents
        BEGIN SELECT RAISE(ABORT, 'intents are append-only'); END;
     CREATE TRIGGER events_are_written_once BEFORE UPDATE ON intent_events
        BEGIN SELECT RAISE(ABORT, 'intent history is append-only'); END;
     CREATE TRIGGER history_is_kept BEFORE DELETE ON intent_events
        WHEN EXISTS (SELECT 1 FROM intents WHERE id = OLD.intent_id)
        BEGIN SELECT RAISE(ABORT, 'intent history is append-only'); END;
     CREATE TRIGGER only_finished_intents_are_deleted BEFORE DELETE ON intents
        WHEN (SELECT state FROM intent_events WHERE intent_id = OLD.id ORDER BY seq DESC LIMIT 1)
             NOT IN ('settled', 'failed', 'expired', 'conflicted')
        BEGIN SELECT RAISE(ABORT, 'an unsettled intent is never deleted'); END;",
    // 2: settlement transactions (then "receipts"), for the activity view and audits.
    "CREATE TABLE receipts (
        intent_id  BLOB PRIMARY KEY REFERENCES intents (id) ON DELETE CASCADE,
        signature  TEXT NOT NULL,
        slot       INTEGER,
        at         INTEGER NOT NULL
     ) STRICT;",
    // 3: what online operations leave for offline use: the payer's
    // settlement-transaction signature of durable intents, the nonce pool,
    // and the last seen state of each on-chain escrow (then named a vault).
    "CREATE TABLE durable_signatures (
        intent_id  BLOB PRIMARY KEY REFERENCES intents (id) ON DELETE CASCADE,
        signature  BLOB NOT NULL CHECK (length(signature) = 64)
     ) STRICT;
     CREATE TRIGGER durable_signatures_are_written_once BEFORE UPDATE ON durable_signatures
        BEGIN SELECT RAISE(ABORT, 'durable signatures are append-only'); END;
     CREATE TABLE nonce_accounts (
        address     BLOB PRIMARY KEY CHECK (length(address) = 32),
        authority   BLOB NOT NULL,
        cluster     BLOB NOT NULL CHECK (length(cluster) = 8),
        seed        TEXT NOT NULL,
        lamports    INTEGER NOT NULL,
        value       BLOB,
        state       TEXT NOT NULL CHECK (state IN ('available', 'assigned', 'used', 'closed')),
        intent_id   BLOB,
        updated_at  INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE vault_snapshots (
        owner           BLOB NOT NULL,
        mint            BLOB NOT NULL,
        program_id      BLOB NOT NULL,
        balance         INTEGER NOT NULL,
        pending         INTEGER NOT NULL,
        requested_at    INTEGER NOT NULL,
        withdraw_delay  INTEGER NOT NULL,
        at              INTEGER NOT NULL,
        PRIMARY KEY (owner, mint, program_id)
     ) STRICT;",
    // 4: the on-chain account offline payments draw on is the escrow
    // everywhere ("vault" names the keychain store of keys).
    // The settlement transactions' table, "receipts" before, is the
    // settlements: a receipt is what a till hands a customer.
    "ALTER TABLE vault_snapshots RENAME TO escrow_snapshots;
     ALTER TABLE receipts RENAME TO settlements;",
    // 5: `deferred`: refused for a reason that can recover (the fee payer
    // or the payer's escrow short, an account missing); the engine tries
    // again until the intent expires. SQLite cannot widen a CHECK, so the
    // history table is rebuilt, its rows, index and triggers as they were.
    // And when the settlement record a settlement created was closed (its
    // rent given back), so it is closed once.
    "DROP TRIGGER only_finished_intents_are_deleted;
     DROP TRIGGER events_are_written_once;
     DROP TRIGGER history_is_kept;
     CREATE TABLE intent_events_5 (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        intent_id  BLOB NOT NULL REFERENCES intents (id) ON DELETE CASCADE,
        state      TEXT NOT NULL CHECK (state IN ('created', 'sent', 'received', 'verified',
                       'submitted', 'deferred', 'settled', 'failed', 'expired', 'conflicted')),
        at         INTEGER NOT NULL,
        detail     TEXT
     ) STRICT;
     INSERT INTO intent_events_5 (seq, intent_id, state, at, detail)
        SELECT seq, intent_id, state, at, detail FROM intent_events;
     DROP TABLE intent_events;
     ALTER TABLE intent_events_5 RENAME TO intent_events;
     CREATE INDEX events_by_intent ON intent_events (intent_id, seq);
     CREATE TRIGGER events_are_written_once BEFORE UPDATE ON intent_events
        BEGIN SELECT RAISE(ABORT, 'intent history is append-only'); END;
     CREATE TRIGGER history_is_kept BEFORE DELETE ON intent_events
        WHEN EXISTS (SELECT 1 FROM intents WHERE id = OLD.intent_id)
        BEGIN SELECT RAISE(ABORT, 'intent history is append-only'); END;
     CREATE TRIGGER only_finished_intents_are_deleted BEFORE DELETE ON intents
        WHEN (SELECT state FROM intent_events WHERE intent_id = OLD.id ORDER BY seq DESC LIMIT 1)
             NOT IN ('settled', 'failed', 'expired', 'conflicted')
        BEGIN SELECT RAISE(ABORT, 'an unsettled intent is never deleted'); END;
     ALTER TABLE settlements ADD COLUMN record_closed_at INTEGER;",
    // 6: payments a till saw made online, by any Solana Pay wallet, to its
    // request (found by the request's reference); written once.
    "CREATE TABLE online_payments (
        signature  TEXT PRIMARY KEY,
        reference  BLOB NOT NULL CHECK (length(reference) = 32),
        payer      BLOB NOT NULL CHECK (length(payer) = 32),
        recipient  BLOB NOT NULL CHECK (length(recipient) = 32),
        mint       BLOB,
        amount     INTEGER NOT NULL,
        slot       INTEGER NOT NULL,
        block_time INTEGER,
        at         INTEGER NOT NULL
     ) STRICT;
     CREATE TRIGGER online_payments_are_written_once BEFORE UPDATE ON online_payments
        BEGIN SELECT RAISE(ABORT, 'online payments are append-only'); END;",
    // 7: the till's sales (what each was priced at: the tip apart, the
    // fiat amount and the rate used), which sale each payment taken
    // offline paid, refunds made (written before they are sent, so a
    // crash never hides one), and the last rate read per pair, for use
    // offline.
    "CREATE TABLE sales (
        reference    BLOB PRIMARY KEY CHECK (length(reference) = 32),
        payee        BLOB NOT NULL CHECK (length(payee) = 32),
        mint         BLOB,
        amount       INTEGER NOT NULL,
        tip          INTEGER NOT NULL,
        fiat         TEXT,
        fiat_amount  INTEGER,
        fiat_tip     INTEGER,
        rate         TEXT,
        rate_at      INTEGER,
        opened_at    INTEGER NOT NULL
     ) STRICT;
     CREATE TRIGGER sales_are_written_once BEFORE UPDATE ON sales
        BEGIN SELECT RAISE(ABORT, 'sales are append-only'); END;
     CREATE TABLE sale_payments (
        intent_id  BLOB PRIMARY KEY REFERENCES intents (id) ON DELETE CASCADE,
        reference  BLOB NOT NULL CHECK (length(reference) = 32)
     ) STRICT;
     CREATE TABLE refunds (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        payment    TEXT NOT NULL,
        recipient  BLOB NOT NULL CHECK (length(recipient) = 32),
        mint       BLOB,
        amount     INTEGER NOT NULL CHECK (amount > 0),
        fee        INTEGER NOT NULL,
        reference  BLOB NOT NULL CHECK (length(reference) = 32),
        signature  TEXT,
        state      TEXT NOT NULL CHECK (state IN ('sending', 'confirmed', 'failed')),
        at         INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX refunds_by_payment ON refunds (payment);
     CREATE TABLE rates (
        pair          TEXT PRIMARY KEY,
        scaled        TEXT NOT NULL,
        published_at  INTEGER NOT NULL
     ) STRICT;",
];

/// The version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, SCHEMA_VERSION)
}

/// Runs the migrations up to `target` (tests stop early to build old stores).
pub(super) fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), StoreError> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for (n, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", n as u32 + 1)?;
        tx.commit()?;
        tracing::info!(version = n + 1, "store migrated");
    }
    Ok(())
}
