//! `toss settle [ID...] [--all]`: submit waiting intents now.

use clap::Args;
use serde_json::json;
use std::time::Duration;
use toss_core::session::WalletSession;
use toss_core::settle::{Progress, Schedule};

use crate::keys::KeyArgs;
use crate::{Failure, online};

#[derive(Debug, Args)]
pub struct SettleArgs {
    /// Intent ids (hex, as `toss history` shows them; a unique prefix is enough).
    ids: Vec<String>,
    /// Settle every waiting intent.
    #[arg(long, conflicts_with = "ids", required_unless_present_any = ["ids", "watch"])]
    all: bool,
    /// Keep running (a till's background settler): settle whatever waits
    /// whenever the cluster is reachable, every SECONDS, and expire old
    /// intents; stop with Ctrl-C.
    #[arg(long, value_name = "SECONDS", conflicts_with_all = ["ids", "all"])]
    watch: Option<u64>,
    /// Who pays fees and settlement record rent: TOSS_FEE_PAYER when set, else this
    /// wallet account or keypair file.
    #[command(flatten)]
    key: KeyArgs,
}

pub fn run(a: &SettleArgs, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    session.program_id()?;
    let fee_payer = a.key.fee_payer(session)?;
    let mut store = session.store()?;
    let ids = if a.all {
        None
    } else {
        let waiting = store.awaiting_settlement()?;
        let mut ids = Vec::new();
        for prefix in &a.ids {
            let matches: Vec<_> = waiting
                .iter()
                .filter(|s| hex::encode(s.id).starts_with(&prefix.to_lowercase()))
                .collect();
            match matches.as_slice() {
                [one] => ids.push(one.id),
                [] => {
                    return Err(Failure::general(format!(
                        "no waiting intent {prefix} (see `toss history`)"
                    )));
                }
                _ => return Err(Failure::usage(format!("{prefix} matches several intents"))),
            }
        }
        Some(ids)
    };
    let engine = session.engine(&fee_payer)?;
    let now = i64::from(session.now());
    let mut show = |p: Progress| {
        if json_out && a.watch.is_some() {
            // A stream of events, one JSON object per line.
            if let Ok(line) = serde_json::to_string(&p) {
                println!("{line}");
            }
        } else if !json_out {
            // One-off runs print the outcomes once, at the end.
            let quiet = a.watch.is_none() && matches!(p, Progress::Resolved { .. });
            if let Some(text) = p.describe().filter(|_| !quiet) {
                eprintln!("{text}");
            }
        }
    };
    if let Some(seconds) = a.watch {
        let schedule = Schedule {
            every: Duration::from_secs(seconds.max(1)),
            cleanup_every: Duration::from_secs(3600),
            retention_seconds: session.retention_seconds(),
        };
        // Nothing else wakes this loop: the sender lives until the process ends.
        let (_wake, mut woken) = tokio::sync::mpsc::channel(1);
        let clock = || i64::from(session.now());
        return online::block_on(async {
            Ok(engine
                .keep_settling(&mut store, schedule, &mut woken, &clock, &mut show)
                .await?)
        });
    }
    let results = online::block_on(async {
        Ok(match &ids {
            None => {
                let results = engine.settle_all(&mut store, now, &mut show).await?;
                // Expired intents' settlement records: their rent comes back.
                engine.reclaim_rent(&mut store, now, &mut show).await?;
                results
            }
            Some(ids) => engine.settle_ids(&mut store, ids, now, &mut show).await?,
        })
    })?;
    let view: Vec<_> = results
        .iter()
        .map(|(id, outcome)| json!({ "id": hex::encode(id), "result": outcome }))
        .collect();
    online::print(json_out, &view, |_| {
        for (id, outcome) in &results {
            println!("{}  {}", &hex::encode(id)[..16], outcome.describe());
        }
        println!("{}", toss_core::settle::summary(&results));
    })?;
    let all_paid = results.iter().all(|(_, o)| o.paid());
    if all_paid {
        Ok(())
    } else {
        Err(Failure::general("some intents did not settle (see above)"))
    }
}
