//! The vault screen: the on-chain vault offline payments draw on. Opening
//! it, deposits and withdrawals (under its time lock) go online, signed by
//! the wallet's first account through the gate the settings ask for
//! nonces and vaults (REQUIRE_BIOMETRIC_FOR_NONCE, as the CLI does); the
//! view works offline from the last snapshot.

use serde::{Deserialize, Serialize};
use tauri::State;
use toss_core::address::Address;
use toss_core::chain::{Backoff, RpcChain, SendError};
use toss_core::config::Config;
use toss_core::currency::Currency;
use toss_core::escrow::{Escrow, EscrowError, Status, WITHDRAW_DELAY};
use toss_core::handover::unix_now;

use crate::state::{AppState, Owner, on_own_thread, text, unreachable};

/// The vault as the screen shows it.
#[derive(Debug, Serialize)]
pub struct VaultView {
    /// As last read; `None` when it never was (or no vault is open).
    pub status: Option<Status>,
    /// The app's clock, which the time lock is counted against.
    pub now: i64,
    /// Why it could not be read just now, when it was asked to be.
    pub problem: Option<String>,
    /// The last transaction sent, when an action sent one.
    pub signature: Option<String>,
    /// What the amounts are in.
    pub currency: Currency,
}

/// What the owner asks of the vault. Amounts are typed in the settings'
/// decimal separator.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum VaultAction {
    /// `hours` of time lock on withdrawals.
    Open {
        hours: u32,
    },
    Deposit {
        amount: String,
    },
    /// Starts the time lock for `amount`.
    Request {
        amount: String,
    },
    /// Cancels the pending request.
    Cancel,
    /// Pays out the pending request once unlocked.
    Withdraw,
}

/// An action checked: the time lock in seconds, amounts in base units
/// (a withdrawal request of 0 cancels the pending one).
enum Step {
    Open(u32),
    Deposit(u64),
    Request(u64),
    Withdraw,
}

/// The program vaults live in: asked first, so a wallet without one is
/// told before anything else happens.
fn program(config: &Config) -> Result<Address, String> {
    config
        .program_id
        .ok_or_else(|| "set the TOSS program in Settings first".to_owned())
}

pub(crate) fn escrow<'a>(
    config: &Config,
    chain: &'a RpcChain,
    program_id: Address,
    currency: Currency,
) -> Escrow<'a, RpcChain> {
    Escrow {
        chain,
        backoff: Backoff::seconds(config.max_settlement_retries),
        program_id: program_id.into(),
        mint: currency.mint,
    }
}

/// What went wrong online, said so the user knows what to do.
fn explain(e: EscrowError, config: &Config) -> String {
    match e {
        EscrowError::Unreachable(_) | EscrowError::Send(SendError::Unreachable(_)) => {
            unreachable(config)
        }
        EscrowError::NotOpen { .. } => {
            "this wallet has no vault on this cluster yet: open one below".into()
        }
        other => other.to_string(),
    }
}

/// The vault in `currency` (a symbol; SOL when absent) as last read; with
/// `refresh`, read from the cluster first
/// (offline, the last snapshot stays and `problem` says why).
#[tauri::command]
pub async fn vault_view(
    state: State<'_, AppState>,
    refresh: bool,
    currency: Option<String>,
) -> Result<VaultView, String> {
    let config = state.config()?;
    let currency = crate::state::currency(&config, currency.as_deref())?;
    let program_id = program(&config)?;
    let owner = state.account()?.into();
    let mut store = state.store()?;
    on_own_thread(move || async move {
        let chain = RpcChain::new(config.rpc_url.as_str());
        let escrow = escrow(&config, &chain, program_id, currency);
        let now = i64::from(unix_now());
        let problem = match refresh {
            true => escrow
                .refresh(&mut store, &owner, now)
                .await
                .err()
                .map(|e| explain(e, &config)),
            false => None,
        };
        Ok(VaultView {
            status: escrow.status(&store, &owner).map_err(text)?,
            now,
            problem,
            signature: None,
            currency,
        })
    })
    .await
}

/// Does `action` on the vault in `currency` and reads it back.
#[tauri::command]
pub async fn vault_act(
    state: State<'_, AppState>,
    action: VaultAction,
    currency: Option<String>,
    passphrase: Option<String>,
) -> Result<VaultView, String> {
    let config = state.config()?;
    let currency = crate::state::currency(&config, currency.as_deref())?;
    let program_id = program(&config)?;
    let amount = |a: &str| {
        config
            .decimal_separator
            .parse(a.trim(), currency.decimals)
            .map_err(text)
    };
    // Checked before the gate is asked: a typing mistake costs no passphrase.
    let positive = |a: &str| match amount(a)? {
        0 => Err("enter an amount above zero".to_owned()),
        units => Ok(units),
    };
    let step = match action {
        VaultAction::Open { hours } => match hours.checked_mul(3600) {
            Some(delay) if WITHDRAW_DELAY.contains(&delay) => Step::Open(delay),
            _ => {
                return Err(format!(
                    "the time lock is from {} to {} hours",
                    WITHDRAW_DELAY.start() / 3600,
                    WITHDRAW_DELAY.end() / 3600
                ));
            }
        },
        VaultAction::Deposit { amount: a } => Step::Deposit(positive(&a)?),
        VaultAction::Request { amount: a } => Step::Request(positive(&a)?),
        VaultAction::Cancel => Step::Request(0),
        VaultAction::Withdraw => Step::Withdraw,
    };
    let Owner {
        mut store,
        key,
        address,
    } = state.owner(&config, passphrase.as_deref())?;
    let owner = address.into();
    on_own_thread(move || async move {
        let chain = RpcChain::new(config.rpc_url.as_str());
        let escrow = escrow(&config, &chain, program_id, currency);
        let sent = match step {
            Step::Open(delay) => escrow.open(&key, delay).await,
            Step::Deposit(units) => escrow.deposit(&key, units).await,
            Step::Request(units) => escrow.request_withdrawal(&key, units).await,
            Step::Withdraw => escrow.withdraw(&key).await,
        }
        .map_err(|e| explain(e, &config))?;
        let now = i64::from(unix_now());
        let problem = escrow
            .refresh(&mut store, &owner, now)
            .await
            .err()
            .map(|e| explain(e, &config));
        Ok(VaultView {
            status: escrow.status(&store, &owner).map_err(text)?,
            now,
            problem,
            signature: Some(sent),
            currency,
        })
    })
    .await
}
