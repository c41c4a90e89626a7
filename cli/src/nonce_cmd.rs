//! `toss nonce create|list|close`: the durable nonce pool.

use std::io::BufRead;

use clap::Subcommand;
use solana_signer::Signer;
use toss_core::address::Address;
use toss_core::amount::{self, SOL_DECIMALS};
use toss_core::session::{KeyUse, WalletSession};
use toss_core::store::NonceRecord;

use crate::keys::KeyArgs;
use crate::{Failure, online};

#[derive(Debug, Subcommand)]
pub enum NonceCommand {
    /// Create COUNT nonce accounts (their rent is shown first, and returned
    /// when they are closed).
    Create {
        count: usize,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// The pool, as last read (with --refresh, read again from chain first).
    List {
        #[arg(long)]
        refresh: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Withdraw a nonce account's rent and close it.
    Close {
        address: Address,
        /// Where the rent goes; the authority when absent.
        #[arg(long)]
        to: Option<Address>,
        #[command(flatten)]
        key: KeyArgs,
    },
}

pub fn run(cmd: &NonceCommand, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    let chain = session.chain();
    let pool = session.nonce_pool(&chain);
    let mut store = session.store()?;
    let now = i64::from(session.now());
    let sol = |v: u64| amount::format(v, SOL_DECIMALS);
    match cmd {
        NonceCommand::List {
            refresh: false,
            key,
        } => {
            // Offline the cluster is known only by name; localnet's is not.
            let cluster = session.config().cluster.genesis_prefix();
            let records = store.nonces(&key.address(session)?, cluster.as_ref())?;
            online::print(json_out, &records, |r| print_pool(r))
        }
        NonceCommand::List { refresh: true, key } => {
            let authority = toss_core::chain::signer(&key.key(session, KeyUse::Funds)?);
            let records =
                online::block_on(async { Ok(pool.refresh(&mut store, &authority, now).await?) })?;
            online::print(json_out, &records, |r| print_pool(r))
        }
        NonceCommand::Create { count, yes, key } => {
            toss_core::nonce::check_count(*count).map_err(|e| Failure::usage(e.to_string()))?;
            let cost = online::block_on(async { Ok(pool.creation_cost(*count).await?) })?;
            eprintln!(
                "{} lock {} SOL of rent ({} SOL each), returned when closed; plus fees",
                toss_core::words::counted(*count as u64, "nonce account"),
                sol(cost.total),
                sol(cost.rent_each)
            );
            if !yes && !confirmed()? {
                return Err(Failure::general("cancelled: nothing was created"));
            }
            let authority = toss_core::chain::signer(&key.key(session, KeyUse::Funds)?);
            let records = online::block_on(async {
                Ok(pool.create(&mut store, &authority, *count, now).await?)
            })?;
            online::print(json_out, &records, |r| print_pool(r))
        }
        NonceCommand::Close { address, to, key } => {
            let authority = toss_core::chain::signer(&key.key(session, KeyUse::Funds)?);
            let to = to.map_or_else(|| authority.pubkey(), Into::into);
            let lamports = online::block_on(async {
                Ok(pool
                    .close(&mut store, &authority, &(*address).into(), &to, now)
                    .await?)
            })?;
            let view = serde_json::json!({ "closed": address.to_string(), "returned_lamports": lamports, "to": to.to_string() });
            online::print(json_out, &view, |_| {
                println!("closed {address}: {} SOL returned to {to}", sol(lamports))
            })
        }
    }
}

/// Asks on stderr, reads the answer from stdin.
fn confirmed() -> Result<bool, Failure> {
    eprint!("create them? [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::general(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

fn print_pool(records: &[NonceRecord]) {
    if records.is_empty() {
        println!("no nonce accounts: create some with `toss nonce create N` while online");
    }
    for r in records {
        let state = serde_json::to_value(r.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "{:<44}  {:<9}  {} SOL",
            r.address.to_string(),
            state,
            amount::format(r.lamports, SOL_DECIMALS)
        );
    }
}
