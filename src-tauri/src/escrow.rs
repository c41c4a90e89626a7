//! The escrow screen: the on-chain escrow offline payments draw on. Opening
//! it, deposits and withdrawals (under its time lock) go online, signed by
//! the wallet's first account through the gate the settings ask for
//! nonces and escrows (REQUIRE_BIOMETRIC_FOR_NONCE, as the CLI does); the
//! view works offline from the last snapshot.

use serde::{Deserialize, Serialize};
use tauri::State;
use toss_core::config::Config;
use toss_core::currency::Currency;
use toss_core::escrow::{EscrowError, Status, WITHDRAW_DELAY};
use toss_core::session::unix_now;

use crate::error::CommandError;
use crate::state::{AppState, EscrowAmounts, Owner, on_own_thread, text};

/// The escrow as the screen shows it.
#[derive(Debug, Serialize)]
pub struct EscrowView {
    /// As last read; `None` when it never was (or no escrow is open).
    pub status: Option<Status>,
    /// The app's clock, which the time lock is counted against.
    pub now: i64,
    /// Why it could not be read just now, when it was asked to be.
    pub problem: Option<String>,
    /// The last transaction sent, when an action sent one.
    pub signature: Option<String>,
    /// What the amounts are in.
    pub currency: Currency,
    /// The status's amounts as the window shows them.
    pub amounts: Option<EscrowAmounts>,
}

impl EscrowView {
    fn new(
        config: &Config,
        status: Option<Status>,
        now: i64,
        problem: Option<String>,
        signature: Option<String>,
        currency: Currency,
    ) -> Self {
        EscrowView {
            amounts: status
                .as_ref()
                .map(|s| EscrowAmounts::of(config, s, currency.mint.as_ref())),
            status,
            now,
            problem,
            signature,
            currency,
        }
    }
}

/// What the owner asks of the escrow. Amounts are typed in the settings'
/// decimal separator.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum EscrowAction {
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

/// What went wrong online, said so the user knows what to do.
fn explain(e: EscrowError) -> CommandError {
    match e {
        EscrowError::NotOpen { .. } => {
            "this wallet has no escrow on this cluster yet: open one below".into()
        }
        other => other.into(),
    }
}

/// The escrow in `currency` (a symbol; SOL when absent) as last read; with
/// `refresh`, read from the cluster first
/// (offline, the last snapshot stays and `problem` says why).
#[tauri::command]
pub async fn escrow_view(
    state: State<'_, AppState>,
    refresh: bool,
    currency: Option<String>,
) -> Result<EscrowView, CommandError> {
    let session = state.session()?;
    let currency = crate::state::currency(session.config(), currency.as_deref())?;
    session.program_id()?;
    let owner = session.first_account()?.into();
    let mut store = session.store()?;
    on_own_thread(move || async move {
        let chain = session.chain();
        let escrow = session.escrow(&chain, currency.mint)?;
        let now = i64::from(unix_now());
        let problem = match refresh {
            true => escrow
                .refresh(&mut store, &owner, now)
                .await
                .err()
                .map(|e| explain(e).message),
            false => None,
        };
        Ok(EscrowView::new(
            session.config(),
            escrow.status(&store, &owner).map_err(text)?,
            now,
            problem,
            None,
            currency,
        ))
    })
    .await
}

/// Does `action` on the escrow in `currency` and reads it back.
#[tauri::command]
pub async fn escrow_act(
    state: State<'_, AppState>,
    action: EscrowAction,
    currency: Option<String>,
    passphrase: Option<String>,
) -> Result<EscrowView, CommandError> {
    let session = state.session()?;
    let config = session.config();
    let currency = crate::state::currency(config, currency.as_deref())?;
    session.program_id()?;
    let amount = |a: &str| {
        config
            .decimal_separator
            .parse(a.trim(), currency.decimals)
            .map_err(text)
    };
    // Checked before the gate is asked: a typing mistake costs no passphrase.
    let positive = |a: &str| match amount(a)? {
        0 => Err(CommandError::from("enter an amount above zero")),
        units => Ok(units),
    };
    let step = match action {
        EscrowAction::Open { hours } => match hours.checked_mul(3600) {
            Some(delay) if WITHDRAW_DELAY.contains(&delay) => Step::Open(delay),
            _ => {
                return Err(format!(
                    "the time lock is from {} to {} hours",
                    WITHDRAW_DELAY.start() / 3600,
                    WITHDRAW_DELAY.end() / 3600
                )
                .into());
            }
        },
        EscrowAction::Deposit { amount: a } => Step::Deposit(positive(&a)?),
        EscrowAction::Request { amount: a } => Step::Request(positive(&a)?),
        EscrowAction::Cancel => Step::Request(0),
        EscrowAction::Withdraw => Step::Withdraw,
    };
    let Owner {
        mut store,
        key,
        address,
    } = Owner::of(&session, passphrase.as_deref())?;
    let owner = address.into();
    on_own_thread(move || async move {
        let chain = session.chain();
        let escrow = session.escrow(&chain, currency.mint)?;
        let sent = match step {
            Step::Open(delay) => escrow.open(&key, delay).await,
            Step::Deposit(units) => escrow.deposit(&key, units).await,
            Step::Request(units) => escrow.request_withdrawal(&key, units).await,
            Step::Withdraw => escrow.withdraw(&key).await,
        }
        .map_err(explain)?;
        let now = i64::from(unix_now());
        let problem = escrow
            .refresh(&mut store, &owner, now)
            .await
            .err()
            .map(|e| explain(e).message);
        Ok(EscrowView::new(
            session.config(),
            escrow.status(&store, &owner).map_err(text)?,
            now,
            problem,
            Some(sent),
            currency,
        ))
    })
    .await
}
