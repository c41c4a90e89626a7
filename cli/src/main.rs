//! `toss`: the TOSS wallet without a window, over the same core as the app.
//!
//! Output meant for scripts goes to stdout (JSON with `--json`); logs and
//! errors go to stderr. Exit codes: 0 success, 1 failure, 2 bad usage,
//! 75 cluster unreachable, try later (EX_TEMPFAIL), 78 bad configuration
//! (EX_CONFIG).

mod airgap_cmd;
mod escrow_cmd;
mod intent_cmd;
mod keys;
mod nonce_cmd;
mod online;
mod program_cmd;
mod qr_cmd;
mod settle_cmd;
mod wallet_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use toss_core::config::{Config, ConfigError};
use toss_core::home::Home;
use toss_core::logging::{self, LogFormat};
use toss_core::session::{SessionError, WalletSession};
use toss_core::vault::Unlock;
use toss_core::wallet;

#[derive(Debug, Parser)]
#[command(name = "toss", version = toss_core::VERSION, about = "TOSS: offline Solana payments")]
struct Cli {
    /// Log format on stderr and in the log file: human or json.
    #[arg(long, global = true, default_value = "human", value_parser = parse_format)]
    log_format: LogFormat,
    /// Print results as JSON for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the version.
    Version,
    /// Show the effective settings (environment over settings.toml over defaults).
    Config,
    /// Show the data directory and whether a wallet exists.
    Status,
    /// Manage the wallet's accounts (keys live in the OS keychain or the encrypted key file).
    Wallet {
        #[command(subcommand)]
        command: wallet_cmd::WalletCommand,
    },
    /// List the intents this wallet sent and received, with their state.
    History,
    /// The wallet's figures: payments created and settled, success rate,
    /// settlement latency, gate refusals, network errors.
    Metrics,
    /// Create, inspect and verify payment intents offline.
    Intent {
        #[command(subcommand)]
        command: intent_cmd::IntentCommand,
    },
    /// Make a payment request (Solana Pay URL and QR code) for a till.
    Request(qr_cmd::RequestArgs),
    /// Read a QR code from image files or the clipboard: a payment
    /// request or an intent.
    Scan {
        /// PNG or JPEG images: one code, or the frames of one animated code
        /// in any order (a folder stands for the images in it).
        #[arg(required_unless_present = "clipboard")]
        file: Vec<std::path::PathBuf>,
        /// Read the clipboard instead: a copied image of a code, or copied
        /// text such as a payment link.
        #[arg(long, conflicts_with = "file")]
        clipboard: bool,
    },
    /// Submit waiting intents to the cluster now.
    Settle(settle_cmd::SettleArgs),
    /// The on-chain escrow offline intents draw on (`toss vault` before).
    #[command(alias = "vault")]
    Escrow(escrow_cmd::EscrowArgs),
    /// The durable nonce pool (for durable-nonce intents).
    Nonce {
        #[command(subcommand)]
        command: nonce_cmd::NonceCommand,
    },
    /// Sign what another Solana tool asks (a ur:sol-signature for a
    /// ur:sol-sign-request): `toss airgap sign`.
    Sign(airgap_cmd::SignArgs),
    /// The air-gapped laptop as a signer other Solana tools speak to
    /// (Keystone's UR types): sign requests, hand out accounts watch-only;
    /// online, prepare a request and send what the laptop signed.
    Airgap {
        #[command(subcommand)]
        command: airgap_cmd::AirgapCommand,
    },
    /// The TOSS program this wallet carries: deploy it, or check that a
    /// cluster's program is exactly it.
    Program {
        #[command(subcommand)]
        command: program_cmd::ProgramCommand,
    },
}

fn parse_format(s: &str) -> Result<LogFormat, String> {
    s.parse().map_err(|e: logging::LoggingError| e.to_string())
}

/// A failure with the exit code scripts can branch on.
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn general(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure {
            code: 78,
            message: e.to_string(),
        }
    }
}

macro_rules! general_failure {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure { code: 1, message: e.to_string() }
            }
        }
    )*};
}
general_failure!(
    toss_core::home::HomeError,
    logging::LoggingError,
    wallet::WalletError,
    serde_json::Error,
    toss_core::keyfile::KeyFileError,
    toss_core::intent::SignError,
    toss_core::intent::IntentError,
    toss_core::vault::VaultError,
    toss_core::vault::GateError,
    toss_core::store::StoreError,
    toss_core::intent::durable::DurableError,
    toss_core::transport::qr::QrError,
    toss_core::transport::camera::FilesError,
    toss_core::transport::clipboard::ClipboardError,
    toss_core::scanned::ScannedError,
    toss_core::payment::PaymentError,
    toss_core::airgap::AirgapError
);

impl From<SessionError> for Failure {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Settings(_) | SessionError::FeePayer(_) => Failure {
                code: 78,
                message: e.to_string(),
            },
            other => Failure::general(other.to_string()),
        }
    }
}

impl From<toss_core::payment::SettingsError> for Failure {
    fn from(e: toss_core::payment::SettingsError) -> Self {
        SessionError::from(e).into()
    }
}

impl From<toss_core::amount::AmountError> for Failure {
    fn from(e: toss_core::amount::AmountError) -> Self {
        Failure::usage(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("toss: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Version => println!("toss {}", toss_core::VERSION),
        Command::Config => {
            let (home, _log) = open_home(cli)?;
            let config = Config::load(&home.settings_file())?;
            tracing::debug!(cluster = %config.cluster, "settings resolved");
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&config)?);
            } else {
                print_config(&config)?;
            }
        }
        Command::Status => {
            let (home, _log) = open_home(cli)?;
            let status = wallet::status(&home)?;
            // A settings problem does not hide the rest: said after it, exit 78.
            let config = Config::load(&home.settings_file());
            let keys = config.as_ref().ok().map(|c| c.keystore);
            if cli.json {
                let out = serde_json::json!({
                    "data_dir": home.root(),
                    "wallet": status,
                    "key_storage": keys,
                    "key_storage_warning": keys.and_then(|k| k.warning()),
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("data directory: {}", home.root().display());
                match keys {
                    Some(k) => println!("keys kept in: {}", k.describe()),
                    None => println!("keys kept in: unknown until the settings are fixed"),
                }
                if let Some(warning) = keys.and_then(|k| k.warning()) {
                    println!("warning: {warning}");
                }
                if status.exists {
                    let n = status.accounts.len() as u64;
                    println!("wallet: {}", toss_core::words::counted(n, "account"));
                    for a in &status.accounts {
                        println!("  {}  {}", a.address, a.label);
                    }
                } else {
                    println!("wallet: none yet");
                }
            }
            config?;
        }
        Command::Wallet { command } => {
            let (mut session, _log) = open_session(cli)?;
            wallet_cmd::run(command, &mut session, cli.json)?;
        }
        Command::History => {
            let (session, _log) = open_session(cli)?;
            let list = session.store()?.list()?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no intents yet");
            } else {
                for s in &list {
                    let dir = match s.direction {
                        toss_core::store::Direction::Sent => "sent    ",
                        toss_core::store::Direction::Received => "received",
                    };
                    println!(
                        "{}  {dir}  {:>10}  {:<10}  {}",
                        &s.id[..16],
                        s.amount,
                        s.state.as_str(),
                        s.payee
                    );
                }
            }
        }
        Command::Metrics => {
            let (session, _log) = open_session(cli)?;
            let m = session.store()?.metrics()?;
            online::print(cli.json, &m, |m| {
                let share = |v: Option<f64>, unit: &str| {
                    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}{unit}"))
                };
                println!("payments created            {}", m.intents_created);
                println!("settled                     {}", m.intents_settled);
                println!("not settled                 {}", m.intents_not_settled);
                println!(
                    "success rate                {}",
                    share(m.success_rate, " %")
                );
                println!(
                    "average time to settle      {}",
                    share(m.average_settlement_seconds, " s")
                );
                println!("gate refusals               {}", m.gate_failures);
                println!("network errors              {}", m.network_errors);
                println!(
                    "confidentiality downgrades  {}",
                    m.confidentiality_downgrades
                );
            })?;
        }
        Command::Intent { command } => {
            let (session, _log) = open_session(cli)?;
            intent_cmd::run(command, &session, cli.json)?;
        }
        Command::Request(a) => {
            let (session, _log) = open_session(cli)?;
            qr_cmd::request(a, &session, cli.json)?;
        }
        Command::Scan { file, .. } => qr_cmd::scan(file, cli.json)?,
        Command::Settle(a) => {
            let (session, _log) = open_session(cli)?;
            settle_cmd::run(a, &session, cli.json)?;
        }
        Command::Escrow(a) => {
            let (session, _log) = open_session(cli)?;
            escrow_cmd::run(a, &session, cli.json)?;
        }
        Command::Nonce { command } => {
            let (session, _log) = open_session(cli)?;
            nonce_cmd::run(command, &session, cli.json)?;
        }
        Command::Airgap { command } => {
            let (session, _log) = open_session(cli)?;
            airgap_cmd::run(command, &session, cli.json)?;
        }
        Command::Sign(args) => {
            let (session, _log) = open_session(cli)?;
            airgap_cmd::sign(args, &session, cli.json)?;
        }
        Command::Program { command } => {
            let (session, _log) = open_session(cli)?;
            program_cmd::run(command, &session, cli.json)?;
        }
    }
    Ok(())
}

/// The data directory, created if needed, with logging into it.
fn open_home(cli: &Cli) -> Result<(Home, logging::LogGuard), Failure> {
    let home = Home::locate()?;
    home.ensure()?;
    let log = logging::init(&home, cli.log_format)?;
    Ok((home, log))
}

/// The wallet in the data directory, under the settings in force. Its
/// store, when a command opens it, runs the expiry cleanup first; an
/// encrypted key file is unlocked when first needed, with the app
/// passphrase read from stdin.
fn open_session(cli: &Cli) -> Result<(WalletSession, logging::LogGuard), Failure> {
    let (home, log) = open_home(cli)?;
    let config = Config::load(&home.settings_file())?;
    let unlock = Unlock {
        keys: None,
        ask: Some(std::sync::Arc::new(keys::app_passphrase)),
    };
    Ok((WalletSession::open_with(home, config, unlock), log))
}

/// Every setting, in the table's order, as the configuration holds it.
fn print_config(c: &Config) -> Result<(), Failure> {
    let values = serde_json::to_value(c)?;
    for setting in toss_core::config::setting::ALL {
        let shown = match &values[setting.key] {
            serde_json::Value::Null => "(not set)".to_owned(),
            serde_json::Value::String(v) => v.clone(),
            other => other.to_string(),
        };
        println!("{:<30} {shown}", setting.key);
    }
    Ok(())
}
