//! What every command that talks to the cluster shares: the runtime, the
//! RPC connection from the settings, and how chain failures map to exit
//! codes (75, sysexits' EX_TEMPFAIL, when the cluster could not be reached:
//! a script should try again later).

use std::future::Future;

use toss_core::chain::{Backoff, RpcChain, SendError, Unreachable};
use toss_core::config::Config;

use crate::Failure;

/// The cluster could not be reached: retry later.
pub const EXIT_UNREACHABLE: u8 = 75;

pub fn chain(config: &Config) -> RpcChain {
    RpcChain::new(config.rpc_url.as_str())
}

pub fn backoff(config: &Config) -> Backoff {
    Backoff::seconds(config.max_settlement_retries)
}

/// Runs one online operation to completion.
pub fn block_on<T>(f: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::general(format!("cannot start the async runtime: {e}")))?
        .block_on(f)
}

impl From<Unreachable> for Failure {
    fn from(e: Unreachable) -> Self {
        Failure {
            code: EXIT_UNREACHABLE,
            message: e.to_string(),
        }
    }
}

impl From<SendError> for Failure {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Unreachable(u) => u.into(),
            other => Failure::general(other.to_string()),
        }
    }
}

impl From<toss_core::escrow::EscrowError> for Failure {
    fn from(e: toss_core::escrow::EscrowError) -> Self {
        use toss_core::escrow::EscrowError as E;
        match e {
            E::Send(s) => s.into(),
            E::Unreachable(u) => u.into(),
            other => Failure::general(other.to_string()),
        }
    }
}

impl From<toss_core::nonce::NonceError> for Failure {
    fn from(e: toss_core::nonce::NonceError) -> Self {
        use toss_core::nonce::NonceError as E;
        match e {
            E::Send(s) => s.into(),
            E::Unreachable(u) => u.into(),
            other => Failure::general(other.to_string()),
        }
    }
}

impl From<toss_core::settle::SettleError> for Failure {
    fn from(e: toss_core::settle::SettleError) -> Self {
        use toss_core::settle::SettleError as E;
        match e {
            E::Unreachable(u) => u.into(),
            other => Failure::general(other.to_string()),
        }
    }
}

/// Prints `value` as JSON, or runs `human` to print it for people.
pub fn print<T: serde::Serialize>(
    json_out: bool,
    value: &T,
    human: impl FnOnce(&T),
) -> Result<(), Failure> {
    if json_out {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        human(value);
    }
    Ok(())
}

/// Unix seconds now.
pub fn now() -> Result<i64, Failure> {
    Ok(i64::from(crate::intent_cmd::unix_now()?))
}
