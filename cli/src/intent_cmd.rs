//! `toss intent create|inspect|verify`: offline intents from and to files.
//!
//! Files hold the signed intent's wire bytes; `-` means stdin/stdout, where
//! they travel as hex so they survive terminals and pipes. Either form is
//! accepted on input.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::json;
use solana_program::pubkey::Pubkey;
use toss_core::address::Address;
use toss_core::amount::{self, SOL_DECIMALS};
use toss_core::intent::{self, Limit, MemoryLedger, Request, Verifier, durable};
use toss_core::payment::{self, Order, Settlement, Signed};
use toss_core::session::{KeyUse, WalletSession};
use toss_core::transport::qr;

use crate::Failure;
use crate::keys::KeyArgs;

#[derive(Debug, Subcommand)]
pub enum IntentCommand {
    /// Sign a payment intent offline with a Solana keypair file.
    Create(Box<CreateArgs>),
    /// Decode an intent and show its fields, id and whether its signature holds.
    Inspect {
        /// The intent file (binary or hex), or - for stdin.
        file: PathBuf,
    },
    /// Run the payee's offline checks on an intent.
    Verify(Box<VerifyArgs>),
    /// Show an intent as a QR code (terminal, or an SVG file) for the payee
    /// to scan; a wallet intent shown this way counts as handed over (sent).
    ExportQr {
        /// The intent file (binary or hex), or - for stdin.
        file: PathBuf,
        /// Write SVG here instead of drawing in the terminal.
        #[arg(long, conflicts_with = "png")]
        svg: Option<PathBuf>,
        /// Write a PNG image here instead of drawing in the terminal.
        #[arg(long)]
        png: Option<PathBuf>,
        /// The till's payment request (`solana:` URL) this pays: when it
        /// names the till's key, the code is sealed to that till and sale.
        #[arg(long)]
        request: Option<String>,
    },
}

/// What the payee asked for, shared by `create` and `verify`.
#[derive(Debug, Args)]
pub struct Currency {
    /// Token mint; SOL when absent.
    #[arg(long)]
    mint: Option<Address>,
    /// Decimals of the mint (needed with --mint; SOL has 9).
    #[arg(long)]
    decimals: Option<u8>,
}

impl Currency {
    fn resolve(&self) -> Result<(Option<Pubkey>, u8), Failure> {
        match (self.mint, self.decimals) {
            (None, None) => Ok((None, SOL_DECIMALS)),
            (None, Some(_)) => Err(Failure::usage("--decimals goes with --mint")),
            (Some(_), None) => Err(Failure::usage(
                "--mint needs --decimals (it cannot be looked up offline)",
            )),
            (Some(m), Some(d)) => Ok((Some(m.into()), d)),
        }
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// Bind the intent to a durable nonce from the wallet's pool and sign
    /// its settlement transaction too (paid from the payer's own account).
    #[arg(long, conflicts_with = "keypair")]
    durable: bool,
    /// The payee's wallet address.
    #[arg(long)]
    to: Address,
    /// Amount in SOL (or in the mint's units), e.g. 1.5.
    #[arg(long)]
    amount: String,
    #[command(flatten)]
    currency: Currency,
    /// Replay nonce; a random one when absent.
    #[arg(long)]
    nonce: Option<u64>,
    /// Seconds until the intent expires (default: DEFAULT_INTENT_EXPIRY_SECONDS).
    #[arg(long)]
    expires_in: Option<u32>,
    #[arg(long)]
    memo: Option<String>,
    /// Solana Pay reference key.
    #[arg(long)]
    reference: Option<Address>,
    /// The cluster's genesis hash, needed for localnet (from getGenesisHash).
    #[arg(long)]
    genesis_hash: Option<Address>,
    /// Where to write the intent; - writes hex to stdout.
    #[arg(long, default_value = "-")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The intent file (binary or hex), or - for stdin.
    file: PathBuf,
    /// This wallet's address: the intent must pay it.
    #[arg(long)]
    payee: Address,
    /// The amount requested; any amount when absent.
    #[arg(long)]
    amount: Option<String>,
    #[command(flatten)]
    currency: Currency,
    /// Offline limit per payment and per payer for the intent's currency,
    /// in its units (replaces the default of 2 SOL / 10 SOL unsettled).
    #[arg(long)]
    limit: Option<String>,
    /// The cluster's genesis hash, needed for localnet.
    #[arg(long)]
    genesis_hash: Option<Address>,
    /// Unix time to check against (default: this computer's clock).
    #[arg(long)]
    now: Option<u32>,
    /// Check against the wallet's store (seen intents, unsettled totals) and
    /// keep the intent there if it is accepted.
    #[arg(long)]
    record: bool,
    /// The reference of the sale a sealed code pays (it is opened with
    /// this wallet's Noise key).
    #[arg(long)]
    reference: Option<Address>,
}

pub fn run(cmd: &IntentCommand, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    match cmd {
        IntentCommand::Create(a) => create(a, session, json_out),
        IntentCommand::Inspect { file } => inspect(file, json_out),
        IntentCommand::Verify(a) => verify(a, session, json_out),
        IntentCommand::ExportQr {
            file,
            svg,
            png,
            request,
        } => export_qr(
            file,
            svg.as_deref(),
            png.as_deref(),
            request.as_deref(),
            session,
        ),
    }
}

fn create(a: &CreateArgs, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    let config = session.config();
    let key = a.key.key(session, KeyUse::Payment)?;
    let (mint, decimals) = a.currency.resolve()?;
    let order = Order {
        payee: a.to.into(),
        mint,
        amount: amount::parse(&a.amount, decimals)?,
        reference: a.reference.map(Into::into),
        memo: a.memo.clone(),
        expires_in: a.expires_in.unwrap_or(config.default_intent_expiry_seconds),
        nonce: a.nonce,
        durable: a.durable,
    };
    let settlement = Settlement {
        cluster: cluster_prefix(session, a.genesis_hash)?,
        program_id: session.program_id()?,
    };
    // Intents paid from the wallet are kept in its store; a bare keypair
    // file has no wallet to keep them in.
    let mut store = match a.key.is_wallet_account() {
        true => Some(session.store()?),
        false => None,
    };
    let Signed {
        signed,
        wire: bytes,
        ..
    } = payment::sign(&order, &key, settlement, store.as_mut(), session.now())?;
    let id = hex(&signed.id()?);
    tracing::info!(intent_id = %id, bytes = bytes.len(), "intent created");
    write_output(&a.out, &bytes)?;
    if a.out != Path::new("-") {
        if json_out {
            println!(
                "{}",
                json!({ "id": id, "bytes": bytes.len(), "file": a.out })
            );
        } else {
            println!(
                "intent {id} ({} bytes) written to {}",
                bytes.len(),
                a.out.display()
            );
        }
    }
    Ok(())
}

fn inspect(file: &Path, json_out: bool) -> Result<(), Failure> {
    let (signed, tx_signature) = durable::split(&read_input(file)?)?;
    let signature_ok = intent::verify_signature(&signed).is_ok()
        && tx_signature.is_none_or(|sig| durable::transaction(&signed, &sig).is_ok());
    let i = &signed.intent;
    let decimals = if i.mint.is_none() {
        Some(SOL_DECIMALS)
    } else {
        None
    };
    let view = json!({
        "id": hex(&signed.id()?),
        "signature_valid": signature_ok,
        "cluster": hex(&i.cluster),
        "program_id": i.program_id.to_string(),
        "payer": i.payer.to_string(),
        "payee": i.payee.to_string(),
        "mint": i.mint.map(|m| m.to_string()),
        "amount": i.amount,
        "amount_sol": decimals.map(|d| amount::format(i.amount, d)),
        "reference": i.reference.map(|r| r.to_string()),
        "memo": i.memo,
        "nonce": i.nonce,
        "created_at": i.created_at,
        "expires_at": i.expires_at,
        "durable_nonce": i.durable_nonce.map(|n| json!({
            "account": n.account.to_string(),
            "value": hex(&n.value),
        })),
        "signature": hex(&signed.signature),
        "transaction_signature": tx_signature.map(|sig| hex(&sig)),
    });
    if json_out {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else if let Some(map) = view.as_object() {
        for (k, v) in map {
            let shown = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "-".to_owned(),
                other => other.to_string(),
            };
            println!("{k:<16} {shown}");
        }
    }
    if signature_ok {
        Ok(())
    } else {
        Err(Failure::general("the signature does not match the payer"))
    }
}

fn verify(a: &VerifyArgs, session: &WalletSession, json_out: bool) -> Result<(), Failure> {
    let reference: Option<Pubkey> = a.reference.map(Into::into);
    let code = read_input(&a.file)?;
    if toss_core::sealed::is_sealed(&code) && reference.is_none() {
        return Err(Failure::usage(
            "this code is sealed to a till's sale: pass that sale's --reference to open it",
        ));
    }
    let (wire, sealed) = session.unseal(&code, reference.as_ref())?;
    // A seal says which sale it was opened for, not what the payment pays:
    // the intent inside must carry that sale's reference too.
    if sealed && durable::split(&wire)?.0.intent.reference != reference {
        return Err(Failure::general(
            "refused: the sealed payment does not carry this sale's reference",
        ));
    }
    let (mint, decimals) = a.currency.resolve()?;
    let request = a
        .amount
        .as_deref()
        .map(|v| amount::parse(v, decimals).map(|amount| Request { amount, mint }))
        .transpose()?;
    // The wallet's limits for every currency on this cluster; --limit
    // replaces the ceilings for the intent's currency.
    let mut limits = session.limits();
    if let Some(limit) = &a.limit {
        let units = amount::parse(limit, decimals)?;
        let min_single = limits.per_mint.get(&mint).map_or(0, |l| l.min_single);
        limits.per_mint.insert(
            mint,
            Limit {
                min_single,
                max_single: units,
                max_unsettled_per_payer: units,
                max_unsettled_total: units,
            },
        );
    }
    let verifier = Verifier {
        cluster: cluster_prefix(session, a.genesis_hash)?,
        program_id: session.program_id()?,
        payee: a.payee.into(),
        limits,
    };
    let now = match a.now {
        Some(n) => n,
        None => session.now(),
    };
    let refused = |e: intent::VerifyError| Failure::general(format!("refused: {e}"));
    let accepted = if a.record {
        // The wallet's store is the ledger: seen intents and what each payer
        // still owes count, and an accepted intent is kept.
        let mut store = session.store()?;
        let accepted = verifier
            .verify(&wire, request, now, &store)
            .map_err(refused)?;
        store.record_received(&accepted, i64::from(now))?;
        accepted
    } else {
        verifier
            .verify(&wire, request, now, &MemoryLedger::default())
            .map_err(refused)?
    };
    let id = hex(&accepted.id);
    if json_out {
        println!("{}", json!({ "verified": true, "id": id }));
    } else {
        println!("verified offline: intent {id}");
    }
    Ok(())
}

fn export_qr(
    file: &Path,
    svg: Option<&Path>,
    png: Option<&Path>,
    request: Option<&str>,
    session: &WalletSession,
) -> Result<(), Failure> {
    let wire = read_input(file)?;
    let (signed, _) = durable::split(&wire)?;
    let request = request
        .map(toss_core::request::PaymentRequest::parse)
        .transpose()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let till = request
        .as_ref()
        .and_then(|r| Some((r.noise_key?, *r.references.first()?)));
    let code = match till {
        Some((key, reference)) => {
            if signed.intent.reference != Some(reference) {
                return Err(Failure::usage(
                    "the intent does not carry this request's reference: create it with --reference from the request",
                ));
            }
            toss_core::sealed::seal(&wire, &key, &reference.to_bytes())
                .map_err(|e| Failure::general(e.to_string()))?
        }
        None => wire.clone(),
    };
    eprintln!(
        "{}",
        match till {
            Some(_) => "sealed to the till's key: only that till, for this sale, can read the code",
            None =>
                "not encrypted: anyone who films the code reads who pays, how much and the memo (give --request with a till's request that names its key)",
        }
    );
    let written = match (svg, png) {
        (Some(path), _) => Some((path, qr::svg(&code)?.into_bytes())),
        (None, Some(path)) => Some((path, qr::bitmap(&code, 6)?.to_png()?)),
        (None, None) => None,
    };
    match written {
        Some((path, bytes)) => std::fs::write(path, bytes)
            .map_err(|e| Failure::general(format!("cannot write {}: {e}", path.display())))?,
        None => print!("{}", qr::terminal(&code)?),
    }
    if toss_core::wallet::status(session.home())?.exists {
        let mut store = session.store()?;
        store.mark_handed_over(
            &signed.id()?,
            "shown as a QR code",
            i64::from(session.now()),
        )?;
    }
    Ok(())
}

fn cluster_prefix(session: &WalletSession, genesis: Option<Address>) -> Result<[u8; 8], Failure> {
    match (genesis, payment::cluster_prefix(session.config())) {
        (Some(hash), _) => Ok(intent::cluster::from_genesis_hash(&hash.to_bytes())),
        (None, Ok(prefix)) => Ok(prefix),
        (None, Err(_)) => Err(Failure::usage(
            "on localnet, pass --genesis-hash or set TOSS_GENESIS_HASH (solana genesis-hash, or the getGenesisHash RPC)",
        )),
    }
}

fn read_input(file: &Path) -> Result<Vec<u8>, Failure> {
    let raw = if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Failure::general(format!("cannot read stdin: {e}")))?;
        buf
    } else {
        std::fs::read(file)
            .map_err(|e| Failure::general(format!("cannot read {}: {e}", file.display())))?
    };
    // Hex text (as `create` prints it) or the raw wire bytes.
    let text = std::str::from_utf8(&raw).map(str::trim).unwrap_or("");
    Ok(match ::hex::decode(text) {
        Ok(bytes) if !text.is_empty() => bytes,
        _ => raw,
    })
}

fn write_output(out: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if out == Path::new("-") {
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{}", hex(bytes))
            .map_err(|e| Failure::general(format!("cannot write stdout: {e}")))
    } else {
        std::fs::write(out, bytes)
            .map_err(|e| Failure::general(format!("cannot write {}: {e}", out.display())))
    }
}

fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}
