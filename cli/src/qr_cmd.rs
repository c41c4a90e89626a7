//! `toss request` (a till's payment request as a Solana Pay URL and QR
//! code) and `toss scan` (read a QR code from an image file).

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;
use toss_core::address::Address;
use toss_core::amount::{self, SOL_DECIMALS};
use toss_core::scanned;
use toss_core::session::{Sale, WalletSession};
use toss_core::transaction_request::Link;
use toss_core::transport::{camera, clipboard, qr};

use crate::Failure;

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Who is paid: a wallet address; this wallet's only account when absent.
    #[arg(long)]
    to: Option<Address>,
    /// Amount in SOL (or in the mint's units); any amount when absent.
    #[arg(long)]
    amount: Option<String>,
    /// Token mint; SOL when absent.
    #[arg(long)]
    mint: Option<Address>,
    /// Decimals of the mint (needed with --mint and --amount).
    #[arg(long)]
    decimals: Option<u8>,
    #[arg(long)]
    label: Option<String>,
    #[arg(long)]
    message: Option<String>,
    #[arg(long)]
    memo: Option<String>,
    /// Solana Pay reference key (a fresh random one when absent).
    #[arg(long)]
    reference: Option<Address>,
    /// Say that this till accepts offline intents (adds this wallet's Noise key).
    #[arg(long)]
    offline: bool,
    /// A transaction request instead: the HTTPS address of the merchant's
    /// server that builds each customer's transaction (`solana:https://…`).
    #[arg(long, conflicts_with_all = ["to", "amount", "mint", "decimals", "label", "message", "memo", "reference", "offline"])]
    link: Option<String>,
    /// Also write the QR code as SVG here.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Also write the QR code as a PNG image here.
    #[arg(long)]
    png: Option<PathBuf>,
}

pub fn request(a: &RequestArgs, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    if let Some(link) = &a.link {
        let link = Link::new(link).map_err(|e| Failure::usage(e.to_string()))?;
        return show(
            a,
            &link.to_text(),
            json!({ "url": link.to_text(), "link": link }),
            json_out,
        );
    }
    let recipient = match a.to {
        Some(to) => to.into(),
        None => match toss_core::wallet::AccountIndex::load(session.home())?.accounts() {
            [only] => only.pubkey(),
            _ => return Err(Failure::usage("name who is paid with --to")),
        },
    };
    if let Some(value) = &a.amount {
        let decimals = match (a.mint, a.decimals) {
            (None, _) => SOL_DECIMALS,
            (Some(_), Some(d)) => d,
            (Some(_), None) => return Err(Failure::usage("--mint needs --decimals")),
        };
        amount::parse(value, decimals)?;
    }
    let r = session.till_request(Sale {
        recipient,
        amount: a.amount.clone(),
        mint: a.mint.map(Into::into),
        label: a.label.clone(),
        message: a.message.clone(),
        memo: a.memo.clone(),
        reference: a.reference.map(Into::into),
        offline: a.offline,
    })?;
    let url = r.to_url();
    show(a, &url, json!({ "url": url, "request": r }), json_out)
}

/// Writes the code for `url` where asked and prints it (or `json`).
fn show(
    a: &RequestArgs,
    url: &str,
    json: serde_json::Value,
    json_out: bool,
) -> Result<(), Failure> {
    if let Some(path) = &a.svg {
        write(path, qr::svg(url.as_bytes())?.as_bytes())?;
    }
    if let Some(path) = &a.png {
        write(path, &qr::bitmap(url.as_bytes(), 8)?.to_png()?)?;
    }
    if json_out {
        println!("{json}");
    } else {
        // The code, then the URL on a line of its own (`| tail -n 1`).
        println!("{}", qr::terminal(url.as_bytes())?);
        println!("{url}");
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::general(format!("cannot write {}: {e}", path.display())))
}

/// Reads the QR code in image files (one code, or the frames of an
/// animated one), or what the clipboard holds (`files` is empty), and says
/// what it is.
pub fn scan(files: &[PathBuf], json_out: bool) -> Result<(), Failure> {
    let code = match files {
        [] => clipboard::scan()?,
        files => camera::scan_files(files)?,
    };
    let view = serde_json::to_value(scanned::describe(&code)?)?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else if let Some(map) = view.as_object() {
        for (k, v) in map {
            println!("{k:<8} {v}");
        }
    }
    Ok(())
}
