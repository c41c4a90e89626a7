//! `toss settle [ID...] [--all]`: submit waiting intents now.

use clap::Args;
use serde_json::json;
use toss_core::config::Config;
use toss_core::home::Home;
use toss_core::keyfile;
use toss_core::settle::{Engine, Outcome, Progress};

use crate::keys::KeyArgs;
use crate::{Failure, online};

#[derive(Debug, Args)]
pub struct SettleArgs {
    /// Intent ids (hex, as `toss history` shows them; a unique prefix is enough).
    ids: Vec<String>,
    /// Settle every waiting intent.
    #[arg(long, conflicts_with = "ids", required_unless_present = "ids")]
    all: bool,
    /// Who pays fees and receipt rent: TOSS_FEE_PAYER when set, else this
    /// wallet account or keypair file.
    #[command(flatten)]
    key: KeyArgs,
}

pub fn run(a: &SettleArgs, home: &Home, config: &Config, json_out: bool) -> Result<(), Failure> {
    let program_id = crate::intent_cmd::program_id(config)?;
    let fee_payer = match (&config.fee_payer, &a.key.from, &a.key.keypair) {
        (Some(path), None, None) => keyfile::read(path)?,
        _ => a.key.key(home, config.require_biometric_for_intent)?,
    };
    let mut store = crate::open_store(home)?;
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
    let engine = Engine::new(
        online::chain(config),
        program_id,
        &fee_payer,
        online::backoff(config),
    );
    let now = online::now()?;
    let mut show = |p: Progress| {
        if !json_out {
            match &p {
                Progress::Started { intents } => eprintln!("settling {intents} intent(s)"),
                Progress::Submitting { intents } => {
                    eprintln!("submitting a transaction with {intents} intent(s)")
                }
                Progress::Retrying { after_ms, error } => {
                    eprintln!("cluster unreachable ({error}); retrying in {after_ms} ms")
                }
                Progress::Resolved { .. } => {}
            }
        }
    };
    let results = online::block_on(async {
        Ok(match &ids {
            None => engine.settle_all(&mut store, now, &mut show).await?,
            Some(ids) => engine.settle_ids(&mut store, ids, now, &mut show).await?,
        })
    })?;
    let view: Vec<_> = results
        .iter()
        .map(|(id, outcome)| json!({ "id": hex::encode(id), "result": outcome }))
        .collect();
    online::print(json_out, &view, |_| {
        if results.is_empty() {
            println!("nothing waits to settle");
        }
        for (id, outcome) in &results {
            let text = match outcome {
                Outcome::Settled { signature } => format!("settled in {signature}"),
                Outcome::AlreadySettled => "already settled".into(),
                Outcome::Expired => "expired".into(),
                Outcome::InsufficientFunds => {
                    "refused: the payer's vault could not cover it".into()
                }
                Outcome::Conflict => {
                    "conflict: another intent with this nonce settled first".into()
                }
                Outcome::Invalid { reason } => format!("refused: {reason}"),
            };
            println!("{}  {text}", &hex::encode(id)[..16]);
        }
    })?;
    let all_paid = results
        .iter()
        .all(|(_, o)| matches!(o, Outcome::Settled { .. } | Outcome::AlreadySettled));
    if all_paid {
        Ok(())
    } else {
        Err(Failure::general("some intents did not settle (see above)"))
    }
}
