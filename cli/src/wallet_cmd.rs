//! `toss wallet ...`: accounts, their keys in the OS keychain or the encrypted key file.
//!
//! Secrets (recovery phrases, passphrases) are read from stdin, never from
//! the command line, where other users could see them in the process list.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde_json::json;
use toss_core::address::Address;
use toss_core::config::KeyStorage;
use toss_core::session::WalletSession;
use toss_core::vault::{Gate, RecoveryPhrase, SealedKeys, WordCount};
use zeroize::Zeroizing;

use crate::Failure;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Words {
    #[value(name = "12")]
    Twelve,
    #[value(name = "24")]
    TwentyFour,
}

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create an account from a new recovery phrase, shown once: write it down.
    Create {
        #[arg(long, default_value = "Main")]
        label: String,
        #[arg(long, value_enum, default_value = "12")]
        words: Words,
    },
    /// Import an account from a recovery phrase (read from stdin: the phrase
    /// on the first line, an optional BIP39 passphrase on the second) or from
    /// a Solana CLI keypair file.
    Import {
        #[arg(long, default_value = "Main")]
        label: String,
        /// Read a recovery phrase from stdin.
        #[arg(long, conflicts_with = "keypair", required_unless_present = "keypair")]
        phrase: bool,
        /// A Solana CLI keypair file to copy into where keys are kept.
        #[arg(long)]
        keypair: Option<PathBuf>,
    },
    /// List the accounts.
    List,
    /// Print an account's address (the first one unless --label is given).
    Address {
        #[arg(long)]
        label: Option<String>,
    },
    /// Remove an account and its key from this computer.
    Remove { address: Address },
    /// Set the app passphrase that confirms payments (read from stdin).
    Passphrase,
}

pub fn run(
    cmd: &WalletCommand,
    session: &mut WalletSession,
    json_out: bool,
) -> Result<(), Failure> {
    let key_file = session.config().keystore == KeyStorage::EncryptedFile;
    if key_file && !matches!(cmd, WalletCommand::List | WalletCommand::Address { .. }) {
        // With the key file, the app passphrase comes first on stdin.
        crate::keys::app_passphrase();
    }
    let home = session.home().clone();
    match cmd {
        WalletCommand::Create { label, words } => {
            let vault = session.vault_mut()?;
            let words = match words {
                Words::Twelve => WordCount::Twelve,
                Words::TwentyFour => WordCount::TwentyFour,
            };
            let (account, phrase) = vault.create(label, words)?;
            if json_out {
                let out = json!({ "address": account.address, "label": account.label, "phrase": phrase.expose() });
                println!("{out}");
            } else {
                println!("address: {}", account.address);
                println!("recovery phrase (shown this once; write it down and keep it offline):");
                println!("{}", phrase.expose());
            }
        }
        WalletCommand::Import {
            label,
            phrase,
            keypair,
        } => {
            let vault = session.vault_mut()?;
            let account = match (phrase, keypair) {
                (_, Some(path)) => vault.import_keypair_file(label, path)?,
                (true, None) => {
                    let lines = read_stdin_lines(2)?;
                    let phrase = RecoveryPhrase::parse(lines.first().map_or("", |l| l.as_str()))?;
                    let passphrase = lines.get(1).map_or("", |l| l.as_str());
                    vault.import_phrase(label, &phrase, passphrase)?
                }
                (false, None) => return Err(Failure::usage("give --phrase or --keypair")),
            };
            print_accounts(std::slice::from_ref(&account), json_out)?;
        }
        WalletCommand::List => {
            let index = toss_core::wallet::AccountIndex::load(&home)?;
            print_accounts(index.accounts(), json_out)?;
        }
        WalletCommand::Address { label } => {
            let index = toss_core::wallet::AccountIndex::load(&home)?;
            let account = index
                .accounts()
                .iter()
                .find(|a| label.as_ref().is_none_or(|l| &a.label == l))
                .ok_or_else(|| Failure::general("no such account; create or import one first"))?;
            println!("{}", account.address);
        }
        WalletCommand::Remove { address } => {
            session.vault_mut()?.remove(&(*address).into())?;
            println!("removed {address}");
        }
        WalletCommand::Passphrase => {
            // The key file is sealed with the app passphrase: unlocked with
            // the current one (the first line), sealed again with the new.
            let keys = match key_file {
                true => {
                    let current = crate::keys::app_passphrase().unwrap_or_default();
                    Some(SealedKeys::unlock(home.root(), &current)?)
                }
                false => None,
            };
            let new = match std::io::stdin().is_terminal() {
                // Typed at the terminal, not shown.
                true => {
                    Zeroizing::new(rpassword::prompt_password("new app passphrase: ").map_err(
                        |e| Failure::general(format!("cannot read the passphrase: {e}")),
                    )?)
                }
                false => read_stdin_lines(1)?.into_iter().next().unwrap_or_default(),
            };
            // The key file first: should the gate then refuse, the file goes
            // back to the passphrase it had, so the two never disagree.
            if let Some(keys) = &keys {
                keys.change_passphrase(&new)?;
            }
            let mut gate = Gate::load(home.root(), true)?;
            if let Err(e) = gate.set_passphrase(&new) {
                if let Some(keys) = &keys {
                    let current = crate::keys::app_passphrase().unwrap_or_default();
                    keys.change_passphrase(&current)?;
                }
                return Err(e.into());
            }
            println!("app passphrase set");
        }
    }
    Ok(())
}

fn print_accounts(accounts: &[toss_core::wallet::Account], json_out: bool) -> Result<(), Failure> {
    if json_out {
        println!("{}", serde_json::to_string_pretty(accounts)?);
    } else {
        for a in accounts {
            println!("{}  {}", a.address, a.label);
        }
    }
    Ok(())
}

/// Up to `n` lines of stdin, in wiped memory.
pub fn read_stdin_lines(n: usize) -> Result<Vec<Zeroizing<String>>, Failure> {
    let stdin = std::io::stdin();
    let mut out = Vec::new();
    for line in stdin.lock().lines().take(n) {
        let line =
            Zeroizing::new(line.map_err(|e| Failure::general(format!("cannot read stdin: {e}")))?);
        out.push(Zeroizing::new(
            line.trim_end_matches(['\r', '\n']).to_owned(),
        ));
    }
    Ok(out)
}
