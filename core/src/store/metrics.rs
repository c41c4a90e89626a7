//! The metrics panel's counters: one named row each in the store, added to
//! by whatever they count (signing, settlement, the gate) and read back as
//! the figures the panel shows.

use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError};

/// What the wallet counts. The name is the counter's row in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Payments this wallet signed.
    IntentsCreated,
    /// Intents that reached `settled` (or were found already settled).
    IntentsSettled,
    /// Intents that reached any other final outcome.
    IntentsNotSettled,
    /// Seconds from signing to settlement, summed over settled intents.
    SettlementSeconds,
    /// Refusals by the user-presence gate.
    GateFailures,
    /// Settlement rounds that could not reach the cluster.
    NetworkErrors,
    /// Intents settled without the confidentiality asked for.
    ConfidentialityDowngrades,
    /// Settlement records closed after their intents expired.
    RecordsClosed,
    /// Lamports of settlement-record rent those closes gave back.
    RentReclaimed,
    /// Payments a till saw made online to its request (any wallet).
    OnlinePayments,
}

impl Counter {
    /// The counter's row name in the store's `metrics` table.
    pub fn as_str(self) -> &'static str {
        match self {
            Counter::IntentsCreated => "intents_created",
            Counter::IntentsSettled => "intents_settled",
            Counter::IntentsNotSettled => "intents_not_settled",
            Counter::SettlementSeconds => "settlement_seconds",
            Counter::GateFailures => "gate_failures",
            Counter::NetworkErrors => "network_errors",
            Counter::ConfidentialityDowngrades => "confidentiality_downgrades",
            Counter::RecordsClosed => "records_closed",
            Counter::RentReclaimed => "rent_reclaimed_lamports",
            Counter::OnlinePayments => "online_payments",
        }
    }
}

impl Store {
    /// Adds `by` to `counter`.
    pub fn bump(&mut self, counter: Counter, by: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO metrics (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            params![counter.as_str(), by],
        )?;
        Ok(())
    }

    /// Every counter with its value, by name.
    pub fn counters(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, value FROM metrics ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The metrics panel's figures.
    pub fn metrics(&self) -> Result<Metrics, StoreError> {
        Ok(Metrics::from_counters(&self.counters()?))
    }
}

/// The metrics panel's figures, from the store's counters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Payments this wallet signed.
    pub intents_created: i64,
    /// Intents that settled (or were found already settled).
    pub intents_settled: i64,
    /// Intents that reached any other final outcome.
    pub intents_not_settled: i64,
    /// Settled over resolved, in percent; `None` before any was resolved.
    pub success_rate: Option<f64>,
    /// From signing to settlement, on average, in seconds.
    pub average_settlement_seconds: Option<f64>,
    /// Refusals by the user-presence gate.
    pub gate_failures: i64,
    /// Settlement rounds that could not reach the cluster.
    pub network_errors: i64,
    /// Intents settled without the confidentiality asked for.
    pub confidentiality_downgrades: i64,
    /// Settlement records closed after their intents expired.
    pub records_closed: i64,
    /// Lamports of settlement-record rent those closes gave back.
    pub rent_reclaimed_lamports: i64,
    /// Payments a till saw made online to its request (any wallet).
    pub online_payments: i64,
}

impl Metrics {
    /// The figures from `(name, value)` counter rows; a missing counter counts as 0.
    pub fn from_counters(counters: &[(String, i64)]) -> Self {
        let get = |c: Counter| {
            counters
                .iter()
                .find(|(n, _)| n == c.as_str())
                .map_or(0, |(_, v)| *v)
        };
        let (settled, not) = (
            get(Counter::IntentsSettled),
            get(Counter::IntentsNotSettled),
        );
        Metrics {
            intents_created: get(Counter::IntentsCreated),
            intents_settled: settled,
            intents_not_settled: not,
            success_rate: (settled + not > 0)
                .then(|| 100.0 * settled as f64 / (settled + not) as f64),
            average_settlement_seconds: (settled > 0)
                .then(|| get(Counter::SettlementSeconds) as f64 / settled as f64),
            gate_failures: get(Counter::GateFailures),
            network_errors: get(Counter::NetworkErrors),
            confidentiality_downgrades: get(Counter::ConfidentialityDowngrades),
            records_closed: get(Counter::RecordsClosed),
            rent_reclaimed_lamports: get(Counter::RentReclaimed),
            online_payments: get(Counter::OnlinePayments),
        }
    }
}
