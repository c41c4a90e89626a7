//! The home screen: the wallet's accounts with their addresses, what waits
//! to settle, the on-chain escrow as last read, and the balances when the
//! cluster answers.

use std::time::Duration;

use serde::Serialize;
use tauri::State;
use toss_core::chain::{Chain, Unreachable};
use toss_core::currency::SOL;
use toss_core::escrow::Status;
use toss_core::transport::qr;
use toss_core::wallet::Account;

use crate::error::CommandError;
use crate::state::{AppState, EscrowAmounts, money, text};

/// What the home screen shows for one account.
#[derive(Debug, Serialize)]
pub struct HomeAccount {
    pub account: Account,
    /// The address as a QR code (SVG), to be scanned by a payer.
    pub qr_svg: String,
    /// The SOL escrow as last read online, with what may still be signed
    /// for offline; `None` when never read (or no program is set).
    pub escrow: Option<Status>,
    /// Its amounts as the window shows them.
    pub escrow_amounts: Option<EscrowAmounts>,
}

#[derive(Debug, Serialize)]
pub struct HomeView {
    pub accounts: Vec<HomeAccount>,
    /// Intents waiting to be settled on-chain.
    pub pending: usize,
    /// Every intent this wallet keeps.
    pub intents: usize,
}

#[tauri::command]
pub fn home_view(state: State<'_, AppState>) -> Result<HomeView, CommandError> {
    let session = state.session()?;
    if session.accounts()?.is_empty() {
        return Ok(HomeView {
            accounts: Vec::new(),
            pending: 0,
            intents: 0,
        });
    }
    let store = session.store()?;
    // Read offline: the chain is never asked here.
    let chain = session.chain();
    let escrow = session.escrow(&chain, SOL.mint).ok();
    let accounts = session
        .accounts()?
        .iter()
        .map(|a| {
            let status = match &escrow {
                Some(e) => e.status(&store, &a.pubkey()).map_err(text)?,
                None => None,
            };
            Ok(HomeAccount {
                account: a.clone(),
                qr_svg: qr::svg(a.address.to_string().as_bytes()).map_err(text)?,
                escrow_amounts: status
                    .as_ref()
                    .map(|s| EscrowAmounts::of(session.config(), s, None)),
                escrow: status,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (pending, intents) = (
        store.awaiting_settlement().map_err(text)?.len(),
        store.list().map_err(text)?.len(),
    );
    Ok(HomeView {
        accounts,
        pending,
        intents,
    })
}

/// Whether the cluster answered, and each account's balance on it.
#[derive(Debug, Serialize)]
pub struct Balances {
    pub online: bool,
    /// Each account's balance (address, as the window shows it), when online.
    pub balances: Vec<(String, String)>,
    /// Why not, when offline.
    pub problem: Option<String>,
}

/// Asks the cluster for each account's balance; a few seconds at most, so
/// the home screen can say "offline" promptly.
#[tauri::command]
pub async fn balances(state: State<'_, AppState>) -> Result<Balances, CommandError> {
    let session = state.session()?;
    let accounts = session.accounts()?.to_vec();
    let chain = session.chain();
    let ask = async {
        let mut lamports = Vec::new();
        for a in &accounts {
            let account = chain.account(a.pubkey()).await.map_err(text)?;
            let units = account.map_or(0, |acc| acc.lamports);
            lamports.push((a.address.to_string(), money(session.config(), units, None)));
        }
        Ok::<_, String>(lamports)
    };
    let limit = Duration::from_secs(4);
    Ok(match tokio::time::timeout(limit, ask).await {
        Ok(Ok(balances)) => Balances {
            online: true,
            balances,
            problem: None,
        },
        Ok(Err(e)) => Balances {
            online: false,
            balances: Vec::new(),
            problem: Some(e),
        },
        Err(_) => Balances {
            online: false,
            balances: Vec::new(),
            problem: Some(Unreachable::no_answer_within(limit).to_string()),
        },
    })
}
