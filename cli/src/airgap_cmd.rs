//! `toss airgap`: the air-gapped laptop as a signer other Solana tools
//! speak to, in Keystone's UR types (docs/airgap.md). On the laptop: `sign`
//! reads a `ur:sol-sign-request`, says what it asks, and signs it into a
//! `ur:sol-signature`; `accounts` hands the accounts out watch-only. On an
//! online machine: `deposit` prepares an escrow deposit for the laptop's
//! account as a request, and `send` puts the laptop's answer in and sends it.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;
use toss_core::address::Address;
use toss_core::airgap::{self, Prepared};
use toss_core::session::WalletSession;
use toss_core::transport::{camera, qr};

use crate::Failure;
use crate::online::block_on;

#[derive(Debug, Subcommand)]
pub enum AirgapCommand {
    /// (The laptop) Read a ur:sol-sign-request, show what it asks, and sign
    /// it with the account its path names: the answer is a ur:sol-signature
    /// (also `toss sign`).
    Sign(SignArgs),
    /// (The laptop) This wallet's accounts, watch-only, for an online
    /// wallet: ur:crypto-multi-accounts, and each address.
    Accounts {
        /// Write the QR code as a PNG image here.
        #[arg(long)]
        png: Option<PathBuf>,
    },
    /// (Online) Prepare a deposit of SOL into the TOSS escrow of the
    /// laptop's account `--from` as a ur:sol-sign-request.
    Deposit {
        /// The laptop's account (it signs and pays the fee).
        #[arg(long)]
        from: Address,
        /// SOL to deposit.
        #[arg(long)]
        amount: String,
        /// Write the request's QR code as a PNG image here.
        #[arg(long)]
        png: Option<PathBuf>,
    },
    /// (Online) Put the laptop's ur:sol-signature into the transaction the
    /// request asked for, check it, and send it.
    Send {
        /// The request prepared (`ur:sol-sign-request/…`).
        #[arg(long)]
        request: String,
        /// The laptop's answer (`ur:sol-signature/…`).
        #[arg(long)]
        signature: String,
    },
}

/// What `toss airgap sign` (and `toss sign`) takes.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The request as UR text (`ur:sol-sign-request/…`).
    #[arg(long, conflicts_with = "file")]
    ur: Option<String>,
    /// Or images of its code: one, or the frames of an animated one.
    #[arg(required_unless_present = "ur")]
    file: Vec<PathBuf>,
    /// Sign it: without this, only say what it asks.
    #[arg(long)]
    yes: bool,
    /// Also confirm what the wallet cannot explain (a second
    /// confirmation; refused anyway when the settings say so).
    #[arg(long)]
    sign_unexplained: bool,
    /// Write the answer's QR code as a PNG image here.
    #[arg(long)]
    png: Option<PathBuf>,
}

fn write_png(path: &Option<PathBuf>, text: &str) -> Result<(), Failure> {
    if let Some(path) = path {
        let png = qr::bitmap(text.as_bytes(), 4)?.to_png()?;
        std::fs::write(path, png)
            .map_err(|e| Failure::general(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

fn say(json_out: bool, value: serde_json::Value, lines: &[String]) -> Result<(), Failure> {
    if json_out {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        lines.iter().for_each(|l| println!("{l}"));
    }
    Ok(())
}

pub fn run(c: &AirgapCommand, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    match c {
        AirgapCommand::Sign(args) => sign(args, session, json_out),
        AirgapCommand::Accounts { png } => {
            let text = session.accounts_ur()?;
            write_png(png, &text)?;
            let (held, fingerprint) = session.airgap_accounts()?;
            let mut lines: Vec<String> = held
                .iter()
                .map(|h| format!("{}  {}", h.key, h.name))
                .collect();
            lines.push(text.clone());
            let accounts: Vec<String> = held.iter().map(|h| h.key.to_string()).collect();
            say(
                json_out,
                json!({ "ur": text, "fingerprint": format!("{fingerprint:08x}"), "accounts": accounts }),
                &lines,
            )
        }
        AirgapCommand::Deposit { from, amount, png } => {
            let lamports = toss_core::amount::parse(amount, toss_core::amount::SOL_DECIMALS)?;
            let program = session.program_id()?;
            let chain = session.chain();
            let blockhash = block_on(async {
                use toss_core::chain::Chain;
                chain
                    .latest_blockhash()
                    .await
                    .map_err(|e| Failure::general(e.to_string()))
            })?;
            let text = airgap::deposit(&program, &(*from).into(), lamports, blockhash)?.to_ur();
            write_png(png, &text)?;
            say(json_out, json!({ "ur": text }), std::slice::from_ref(&text))
        }
        AirgapCommand::Send { request, signature } => {
            let request = airgap::read(request)?;
            let tx = airgap::assemble(&request, signature)?;
            let chain = session.chain();
            let sent = tx.signatures[0].to_string();
            block_on(async {
                chain
                    .submit_versioned(&tx)
                    .await
                    .map_err(|e| Failure::general(e.to_string()))
            })?;
            say(
                json_out,
                json!({ "signature": sent }),
                &[format!("sent: {sent}")],
            )
        }
    }
}

/// `toss airgap sign` (and `toss sign`): what the request asks, then, with
/// `--yes`, the answer.
pub fn sign(a: &SignArgs, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    let SignArgs {
        ur,
        file,
        yes,
        sign_unexplained,
        png,
    } = a;
    let text = match ur {
        Some(t) => t.clone(),
        None => String::from_utf8(camera::scan_files(file)?)
            .map_err(|_| Failure::general("the code is not a ur:sol-sign-request"))?,
    };
    let prepared: Prepared = session.sign_request(&text)?;
    let d = &prepared.described;
    let mut lines = vec![format!(
        "{} asks {} to sign a {}:",
        d.origin.as_deref().unwrap_or("a tool"),
        d.signer,
        match d.sign_type {
            airgap::SignType::Transaction => "transaction",
            airgap::SignType::Message => "message",
        }
    )];
    lines.extend(d.steps.iter().map(|s| {
        format!(
            "  - {}{}",
            s.text,
            if s.explained { "" } else { " [NOT EXPLAINED]" }
        )
    }));
    lines.extend(d.message_text.iter().map(|m| format!("  {m}")));
    lines.extend(d.fee_text.iter().map(|f| format!("fee: {f}")));
    if !yes {
        lines.push("not signed: run again with --yes to sign it".into());
        return say(json_out, json!({ "described": d, "signed": false }), &lines);
    }
    let passphrase = crate::keys::app_passphrase();
    let answer = session.sign_answer(
        &prepared,
        *sign_unexplained,
        passphrase.as_deref().map(|p| p.as_str()),
    )?;
    write_png(png, &answer)?;
    lines.push(answer.clone());
    say(
        json_out,
        json!({ "described": d, "signed": true, "signature_ur": answer }),
        &lines,
    )
}
