//! The nonce pool screen. Durable nonce accounts let a payment signed
//! offline outlive a blockhash (about a minute); each locks its rent until
//! closed. Reading the pool as last seen works offline; creating, refreshing
//! (which may advance abandoned nonces) and closing go online, signed by the
//! wallet's first account through the nonce gate
//! (REQUIRE_BIOMETRIC_FOR_NONCE).

use serde::Serialize;
use tauri::State;
use toss_core::address::Address;
use toss_core::config::Config;
use toss_core::nonce::{CreationCost, check_count};
use toss_core::payment::cluster_prefix;
use toss_core::session::unix_now;
use toss_core::store::{NonceRecord, Store};

use crate::error::CommandError;
use crate::state::{AppState, Owner, address, money, on_own_thread, text};

/// The pool as the screen shows it.
#[derive(Debug, Serialize)]
pub struct PoolView {
    pub records: Vec<PoolRecord>,
    /// Accounts ready to be handed to a new durable payment.
    pub available: usize,
}

/// One account of the pool, its rent as the window shows it.
#[derive(Debug, Serialize)]
pub struct PoolRecord {
    #[serde(flatten)]
    pub record: NonceRecord,
    pub lamports_text: String,
}

/// What creating accounts costs, as the window shows it.
#[derive(Debug, Serialize)]
pub struct CostView {
    #[serde(flatten)]
    pub cost: CreationCost,
    pub rent_each_text: String,
    pub total_text: String,
}

/// The pool of `owner` on the configured cluster, as the store has it. A
/// localnet without TOSS_GENESIS_HASH is known by no prefix: every record
/// of this key is shown.
fn listed(store: &Store, owner: Address, config: &Config) -> Result<PoolView, String> {
    use toss_core::store::NonceState;
    let records = store
        .nonces(&owner.into(), cluster_prefix(config).ok().as_ref())
        .map_err(text)?;
    Ok(PoolView {
        available: records
            .iter()
            .filter(|r| r.state == NonceState::Available)
            .count(),
        records: records
            .into_iter()
            .map(|record| PoolRecord {
                lamports_text: money(config, record.lamports, None),
                record,
            })
            .collect(),
    })
}

/// The pool on the configured cluster, as last read (offline).
#[tauri::command]
pub fn nonce_pool(state: State<'_, AppState>) -> Result<PoolView, CommandError> {
    let session = state.session()?;
    Ok(listed(
        &session.store()?,
        session.first_account()?,
        session.config(),
    )?)
}

/// The rent `count` new accounts lock (returned when they are closed).
#[tauri::command]
pub async fn nonce_cost(
    state: State<'_, AppState>,
    count: usize,
) -> Result<CostView, CommandError> {
    let session = state.session()?;
    check_count(count).map_err(text)?;
    on_own_thread(move || async move {
        let chain = session.chain();
        let cost = session.nonce_pool(&chain).creation_cost(count).await?;
        let sol = |units| money(session.config(), units, None);
        Ok(CostView {
            rent_each_text: sol(cost.rent_each),
            total_text: sol(cost.total),
            cost,
        })
    })
    .await
}

/// What the user asks of the pool.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum PoolAction {
    /// Creates `count` accounts (after the screen showed their cost).
    Create { count: usize },
    /// Reads every account again, freeing advanced and abandoned ones.
    Refresh,
    /// Withdraws an account's rent to the wallet, closing it.
    Close { address: String },
}

/// An action checked: the count in bounds, the address parsed.
enum Step {
    Create(usize),
    Refresh,
    Close(Address),
}

/// Does `action` on the pool and returns it as it now stands.
#[tauri::command]
pub async fn nonce_act(
    state: State<'_, AppState>,
    action: PoolAction,
    passphrase: Option<String>,
) -> Result<PoolView, CommandError> {
    let session = state.session()?;
    // Checked before the gate is asked: a typing mistake costs no passphrase.
    let step = match action {
        PoolAction::Create { count } => {
            check_count(count).map_err(text)?;
            Step::Create(count)
        }
        PoolAction::Close { address: a } => Step::Close(address(&a)?),
        PoolAction::Refresh => Step::Refresh,
    };
    let Owner {
        mut store,
        key: authority,
        address,
    } = Owner::of(&session, passphrase.as_deref())?;
    on_own_thread(move || async move {
        let chain = session.chain();
        let pool = session.nonce_pool(&chain);
        let now = i64::from(unix_now());
        match step {
            Step::Create(count) => pool
                .create(&mut store, &authority, count, now)
                .await
                .map(drop),
            Step::Close(target) => pool
                .close(&mut store, &authority, &target.into(), &address.into(), now)
                .await
                .map(drop),
            Step::Refresh => pool.refresh(&mut store, &authority, now).await.map(drop),
        }?;
        // The whole pool as the store now has it, whatever the action touched.
        Ok(listed(&store, address, session.config())?)
    })
    .await
}
