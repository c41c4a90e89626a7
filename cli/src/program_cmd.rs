//! `toss program deploy|verify`: the TOSS program build this wallet carries
//! (docs/program.md), put on a cluster and recognised there.

use std::io::BufRead;

use clap::Subcommand;
use toss_core::address::Address;
use toss_core::amount::{self, SOL_DECIMALS};
use toss_core::deployment::{self, Authority};
use toss_core::session::{KeyUse, WalletSession};

use crate::keys::KeyArgs;
use crate::{Failure, online};

#[derive(Debug, Subcommand)]
pub enum ProgramCommand {
    /// Deploy the carried build to a new address (its rent and fees are
    /// shown first) and print the address to use as TOSS_PROGRAM_ID.
    Deploy {
        /// Who may upgrade it: an address, or `none` to make it final; the
        /// paying account when absent.
        #[arg(long)]
        upgrade_authority: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Whether the program at TOSS_PROGRAM_ID (or ADDRESS) on this cluster
    /// is exactly the carried build.
    Verify { address: Option<Address> },
}

pub fn run(cmd: &ProgramCommand, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    let chain = session.chain();
    let backoff = session.backoff();
    let sol = |v: u64| amount::format(v, SOL_DECIMALS);
    match cmd {
        ProgramCommand::Deploy {
            upgrade_authority,
            yes,
            key,
        } => {
            let authority = match upgrade_authority.as_deref() {
                None => Authority::Payer,
                Some("none") => Authority::Final,
                Some(a) => Authority::Other(
                    a.parse::<Address>()
                        .map_err(|e| Failure::usage(format!("--upgrade-authority: {e}")))?
                        .into(),
                ),
            };
            let cost = online::block_on(async {
                Ok(deployment::cost(&chain, backoff, authority).await?)
            })?;
            eprintln!(
                "deploying the TOSS program ({} bytes, SHA-256 {}) costs {} SOL: {} SOL of rent kept \
                 in the program's accounts and {} SOL of fees for {} transactions; {} SOL more is \
                 held in a buffer meanwhile and returned",
                deployment::BUILD.len(),
                deployment::build_sha256(),
                sol(cost.spent()),
                sol(cost.program_rent + cost.data_rent),
                sol(cost.fees),
                cost.transactions,
                sol(cost.buffer_rent),
            );
            if !yes && !confirmed()? {
                return Err(Failure::general("cancelled: nothing was deployed"));
            }
            let payer = toss_core::chain::signer(&key.key(session, KeyUse::Funds)?);
            let deployed = online::block_on(async {
                Ok(
                    deployment::deploy(&chain, backoff, &payer, authority, &mut |done, of| {
                        if done % 20 == 0 || done == of {
                            eprintln!("written {done} of {of} parts");
                        }
                    })
                    .await?,
                )
            })?;
            online::print(json_out, &deployed, |d| {
                println!("deployed: TOSS_PROGRAM_ID={}", d.program_id);
                match &d.upgrade_authority {
                    Some(a) => println!("upgrade authority: {a}"),
                    None => println!("final: nobody can upgrade it"),
                }
            })
        }
        ProgramCommand::Verify { address } => {
            let program_id: toss_core::address::Pubkey = match (
                *address,
                session.config().program_id,
            ) {
                (Some(a), _) | (None, Some(a)) => a.into(),
                (None, None) => {
                    return Err(Failure::usage(
                        "name the program: TOSS_PROGRAM_ID, program_id in settings, or an ADDRESS",
                    ));
                }
            };
            let verdict = online::block_on(async {
                Ok(deployment::verify(&chain, backoff, &program_id).await?)
            })?;
            let bundled = matches!(verdict, deployment::Verdict::Bundled { .. });
            online::print(json_out, &verdict, |v| println!("{program_id}: {v}"))?;
            match bundled {
                true => Ok(()),
                false => Err(Failure::general(format!("{program_id}: {verdict}"))),
            }
        }
    }
}

/// Asks on stderr, reads the answer from stdin.
fn confirmed() -> Result<bool, Failure> {
    eprint!("deploy it? [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::general(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
