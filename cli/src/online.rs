//! What every command that talks to the cluster shares: the runtime, and
//! how chain failures map to exit codes (75, sysexits' EX_TEMPFAIL, when the
//! cluster could not be reached: a script should try again later). The
//! connection itself comes from the wallet session.

use std::future::Future;

use toss_core::chain::{SendError, Unreachable};

use crate::Failure;

/// The cluster could not be reached: retry later.
pub const EXIT_UNREACHABLE: u8 = 75;

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

/// Online work that failed: exit 75 when the cluster was out of reach.
macro_rules! online_failure {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                match e.unreachable() {
                    Some(u) => u.clone().into(),
                    None => Failure::general(e.to_string()),
                }
            }
        }
    )*};
}
online_failure!(
    SendError,
    toss_core::escrow::EscrowError,
    toss_core::nonce::NonceError,
    toss_core::settle::SettleError,
    toss_core::deployment::DeployError
);

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
