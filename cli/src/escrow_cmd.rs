//! `toss escrow open|deposit|withdraw|status`: the on-chain escrow offline
//! intents draw on.

use clap::{Args, Subcommand};
use solana_signer::Signer;
use toss_core::address::Address;
use toss_core::amount::{self, SOL_DECIMALS};
use toss_core::escrow::Status;
use toss_core::session::{KeyUse, WalletSession};

use crate::keys::KeyArgs;
use crate::{Failure, online};

#[derive(Debug, Args)]
pub struct EscrowArgs {
    #[command(subcommand)]
    command: EscrowCommand,
    #[command(flatten)]
    key: KeyArgs,
    /// Token mint of the escrow; SOL when absent.
    #[arg(long, global = true)]
    mint: Option<Address>,
    /// Decimals of the mint (needed with --mint for amounts).
    #[arg(long, global = true)]
    decimals: Option<u8>,
}

#[derive(Debug, Subcommand)]
enum EscrowCommand {
    /// Open the escrow (once per currency).
    Open {
        /// Withdrawal time lock in seconds (1 hour to 30 days); intents
        /// payees accept must outlive it.
        #[arg(long, default_value_t = 86_400)]
        withdraw_delay: u32,
    },
    /// Move funds from the wallet into the escrow.
    Deposit { amount: String },
    /// Ask for AMOUNT back (starts the time lock); with no amount, pay out
    /// the pending request once unlocked.
    Withdraw {
        amount: Option<String>,
        /// Cancel the pending request.
        #[arg(long, conflicts_with = "amount")]
        cancel: bool,
    },
    /// The escrow's balance, pending withdrawal and offline spendable amount.
    Status {
        /// Show the last snapshot without going online.
        #[arg(long)]
        offline: bool,
    },
}

pub fn run(a: &EscrowArgs, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    let decimals = match (a.mint, a.decimals) {
        (None, _) => SOL_DECIMALS,
        (Some(_), Some(d)) => d,
        (Some(_), None) => return Err(Failure::usage("--mint needs --decimals")),
    };
    let chain = session.chain();
    let escrow = session.escrow(&chain, a.mint.map(Into::into))?;
    let mut store = session.store()?;
    let now = i64::from(session.now());
    let show =
        |status: Status| online::print(json_out, &status, |s| print_status(s, decimals, now));
    let action = match &a.command {
        EscrowCommand::Status { offline } => {
            let owner = a.key.address(session)?;
            let status = match offline {
                true => escrow.status(&store, &owner)?.ok_or_else(|| {
                    Failure::general(
                        "this escrow was never read; run `toss escrow status` online once",
                    )
                })?,
                false => {
                    online::block_on(async { Ok(escrow.refresh(&mut store, &owner, now).await?) })?
                }
            };
            return show(status);
        }
        EscrowCommand::Open { withdraw_delay } => Action::Open(*withdraw_delay),
        EscrowCommand::Deposit { amount } => Action::Deposit(amount::parse(amount, decimals)?),
        EscrowCommand::Withdraw { cancel: true, .. } => Action::Request(0),
        EscrowCommand::Withdraw {
            amount: Some(amount),
            ..
        } => Action::Request(amount::parse(amount, decimals)?),
        EscrowCommand::Withdraw { amount: None, .. } => Action::Withdraw,
    };
    let key = toss_core::chain::signer(&a.key.key(session, KeyUse::Funds)?);
    let owner = key.pubkey();
    online::block_on(async {
        let signature = match action {
            Action::Open(delay) => escrow.open(&key, delay).await?,
            Action::Deposit(amount) => escrow.deposit(&key, amount).await?,
            Action::Request(amount) => escrow.request_withdrawal(&key, amount).await?,
            Action::Withdraw => escrow.withdraw(&key).await?,
        };
        if !json_out {
            eprintln!("confirmed: {signature}");
        }
        let status = escrow.refresh(&mut store, &owner, now).await?;
        show(status)
    })
}

enum Action {
    Open(u32),
    Deposit(u64),
    Request(u64),
    Withdraw,
}

fn print_status(s: &Status, decimals: u8, now: i64) {
    let fmt = |v: u64| amount::format(v, decimals);
    println!("escrow             {}", s.address);
    println!("balance            {}", fmt(s.snapshot.balance));
    println!("promised offline   {}", fmt(s.promised));
    println!("spendable offline  {}", fmt(s.spendable_offline));
    match s.unlocks_at {
        Some(at) if at > now => println!(
            "withdrawal         {} pending, unlocks in {} s",
            fmt(s.snapshot.pending_withdrawal),
            at - now
        ),
        Some(_) => println!(
            "withdrawal         {} ready: run `toss escrow withdraw`",
            fmt(s.snapshot.pending_withdrawal)
        ),
        None => println!("withdrawal         none pending"),
    }
    println!("time lock          {} s", s.snapshot.withdraw_delay);
    println!("as of              {} s ago", now - s.snapshot.at);
}
