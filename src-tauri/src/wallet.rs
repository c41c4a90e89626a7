//! The wallet's own screens: onboarding (create, import), home, activity,
//! and the till's payment request. Adapters over the core's vault, store
//! and request builder.

use std::time::Duration;

use serde::Serialize;
use tauri::State;
use toss_core::amount;
use toss_core::chain::{Chain, Unreachable};
use toss_core::currency::SOL;
use toss_core::escrow::Status;
use toss_core::request::PaymentRequest;
use toss_core::session::Sale;
use toss_core::store::{Metrics, Summary};
use toss_core::transport::qr;
use toss_core::vault::{Gate, GateError, RecoveryPhrase, WordCount};
use toss_core::wallet::Account;

use crate::error::CommandError;
use crate::state::{AppState, address, text};

/// Sets the app passphrase that confirms payments (when the settings ask
/// for it); changing one already set needs it (`current`).
#[tauri::command]
pub fn gate_set_passphrase(
    state: State<'_, AppState>,
    current: Option<String>,
    passphrase: String,
) -> Result<(), CommandError> {
    let mut gate = Gate::load(state.home()?.root(), true)?;
    match gate.check(current.as_deref()) {
        Ok(()) | Err(GateError::NoPassphraseSet) => {}
        Err(GateError::PassphraseRequired) => {
            return Err(GateError::PassphraseRequired.into());
        }
        Err(e) => return Err(e.into()),
    }
    Ok(gate.set_passphrase(&passphrase)?)
}

/// A new account and its recovery phrase, which the screen shows once and
/// then asks the user to confirm; it is kept nowhere.
#[derive(Debug, Serialize)]
pub struct Created {
    pub account: Account,
    pub words: Vec<String>,
}

#[tauri::command]
pub fn wallet_create(
    state: State<'_, AppState>,
    label: String,
    words: u8,
) -> Result<Created, CommandError> {
    let count = match words {
        12 => WordCount::Twelve,
        24 => WordCount::TwentyFour,
        n => return Err(format!("a recovery phrase has 12 or 24 words, not {n}").into()),
    };
    let mut session = state.session()?;
    let (account, phrase) = session.vault_mut()?.create(&label, count)?;
    Ok(Created {
        account,
        words: phrase.expose().split(' ').map(str::to_owned).collect(),
    })
}

/// Restores an account from a recovery phrase (and its BIP39 passphrase,
/// usually empty).
#[tauri::command]
pub fn wallet_import_phrase(
    state: State<'_, AppState>,
    label: String,
    phrase: String,
    passphrase: Option<String>,
) -> Result<Account, CommandError> {
    let phrase = RecoveryPhrase::parse(&phrase)?;
    let mut session = state.session()?;
    Ok(session
        .vault_mut()?
        .import_phrase(&label, &phrase, passphrase.as_deref().unwrap_or(""))?)
}

/// Imports a Solana CLI keypair file (the file is left where it is).
#[tauri::command]
pub fn wallet_import_keypair(
    state: State<'_, AppState>,
    label: String,
    path: std::path::PathBuf,
) -> Result<Account, CommandError> {
    let mut session = state.session()?;
    Ok(session.vault_mut()?.import_keypair_file(&label, &path)?)
}

/// What the home screen shows for one account.
#[derive(Debug, Serialize)]
pub struct HomeAccount {
    pub account: Account,
    /// The address as a QR code (SVG), to be scanned by a payer.
    pub qr_svg: String,
    /// The SOL vault as last read online, with what may still be signed
    /// for offline; `None` when never read (or no program is set).
    pub vault: Option<Status>,
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
            Ok(HomeAccount {
                account: a.clone(),
                qr_svg: qr::svg(a.address.to_string().as_bytes()).map_err(text)?,
                vault: match &escrow {
                    Some(e) => e.status(&store, &a.pubkey()).map_err(text)?,
                    None => None,
                },
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
    /// Lamports per account address, when online.
    pub lamports: Vec<(String, u64)>,
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
            lamports.push((a.address.to_string(), account.map_or(0, |acc| acc.lamports)));
        }
        Ok::<_, String>(lamports)
    };
    let limit = Duration::from_secs(4);
    Ok(match tokio::time::timeout(limit, ask).await {
        Ok(Ok(lamports)) => Balances {
            online: true,
            lamports,
            problem: None,
        },
        Ok(Err(e)) => Balances {
            online: false,
            lamports: Vec::new(),
            problem: Some(e),
        },
        Err(_) => Balances {
            online: false,
            lamports: Vec::new(),
            problem: Some(Unreachable::no_answer_within(limit).to_string()),
        },
    })
}

/// The metrics panel: payments created and settled, success rate,
/// settlement latency, gate failures, network errors.
#[tauri::command]
pub fn metrics(state: State<'_, AppState>) -> Result<Metrics, CommandError> {
    Ok(state.store()?.metrics().map_err(text)?)
}

/// Every intent this wallet keeps, newest first.
#[tauri::command]
pub fn activity(state: State<'_, AppState>) -> Result<Vec<Summary>, CommandError> {
    Ok(state.store()?.list().map_err(text)?)
}

/// Everything kept about one intent, for its detail view.
#[derive(Debug, Serialize)]
pub struct Detail {
    pub id: String,
    pub direction: &'static str,
    pub state: &'static str,
    pub payer: String,
    pub payee: String,
    pub mint: Option<String>,
    pub amount: u64,
    pub memo: Option<String>,
    pub reference: Option<String>,
    pub nonce: u64,
    pub created_at: u32,
    pub expires_at: u32,
    pub durable: bool,
    pub signature: String,
    pub history: Vec<toss_core::store::Event>,
    /// The settlement transaction, once there is one, and where to see it.
    pub settlement: Option<String>,
    pub explorer: Option<String>,
}

/// A payment id as the screens pass it (hex).
fn payment_id(id: &str) -> Result<[u8; 32], String> {
    hex::decode(id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "not a payment id".to_owned())
}

#[tauri::command]
pub fn intent_detail(state: State<'_, AppState>, id: String) -> Result<Detail, CommandError> {
    let id = payment_id(&id)?;
    let store = state.store()?;
    let stored = store.get(&id).map_err(text)?;
    let settlement = store.receipt(&id).map_err(text)?;
    let explorer = match (&settlement, state.config()) {
        (Some(sig), Ok(c)) => Some(c.cluster.explorer_tx(sig, &c.rpc_url)),
        _ => None,
    };
    let i = &stored.signed.intent;
    Ok(Detail {
        id: hex::encode(stored.id),
        direction: stored.direction.as_str(),
        state: stored.state.as_str(),
        payer: i.payer.to_string(),
        payee: i.payee.to_string(),
        mint: i.mint.map(|m| m.to_string()),
        amount: i.amount,
        memo: i.memo.clone(),
        reference: i.reference.map(|r| r.to_string()),
        nonce: i.nonce,
        created_at: i.created_at,
        expires_at: i.expires_at,
        durable: stored.tx_signature.is_some(),
        signature: hex::encode(stored.signed.signature),
        history: stored.history,
        settlement,
        explorer,
    })
}

/// Writes the activity as CSV to `path`; how many intents it holds.
#[tauri::command]
pub fn activity_export(
    state: State<'_, AppState>,
    path: std::path::PathBuf,
) -> Result<usize, CommandError> {
    let rows = state.store()?.list().map_err(text)?;
    std::fs::write(&path, toss_core::store::to_csv(&rows))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(rows.len())
}

/// The till's request: a Solana Pay URL any wallet can pay and its QR code.
#[derive(Debug, Serialize)]
pub struct Request {
    pub url: String,
    pub qr_svg: String,
    pub request: PaymentRequest,
}

/// A payment request to `to` for `amount` (decimal text) of `currency`
/// (a symbol; SOL when absent), with an
/// optional label and message; offered for offline payment with this
/// wallet's Noise key.
#[tauri::command]
pub fn request_create(
    state: State<'_, AppState>,
    to: String,
    amount: String,
    currency: Option<String>,
    label: Option<String>,
    message: Option<String>,
) -> Result<Request, CommandError> {
    let recipient = address(&to)?.into();
    let session = state.session()?;
    let config = session.config();
    let currency = crate::state::currency(config, currency.as_deref())?;
    // Typed with the settings' separator; Solana Pay's URL always has a point.
    let units = config
        .decimal_separator
        .parse(amount.trim(), currency.decimals)
        .map_err(text)?;
    let request = session.till_request(Sale {
        recipient,
        amount: Some(amount::format(units, currency.decimals)),
        mint: currency.mint,
        label,
        message,
        memo: None,
        reference: None,
        offline: true,
    })?;
    let url = request.to_url();
    Ok(Request {
        qr_svg: qr::svg(url.as_bytes()).map_err(text)?,
        url,
        request,
    })
}

/// The receipt a till gives for a payment it verified: the
/// `toss-receipt:` URI (docs/qr.md) as a QR code, and what the printed slip
/// shows.
#[derive(Debug, Serialize)]
pub struct ReceiptView {
    pub uri: String,
    pub qr_svg: String,
    pub id: String,
    pub payer: String,
    pub payee: String,
    pub mint: Option<String>,
    pub amount: u64,
    pub memo: Option<String>,
    /// Unix seconds when it was verified.
    pub verified_at: i64,
}

#[tauri::command]
pub fn receipt(state: State<'_, AppState>, id: String) -> Result<ReceiptView, CommandError> {
    use toss_core::store::{Direction, State as Stage};
    let stored = state.store()?.get(&payment_id(&id)?).map_err(text)?;
    if stored.direction != Direction::Received {
        return Err("a receipt is given for a payment this till received".into());
    }
    let verified_at = stored
        .history
        .iter()
        .find(|e| e.state == Stage::Verified)
        .map(|e| e.at)
        .ok_or("this payment was never verified: no receipt")?;
    let i = &stored.signed.intent;
    let uri = toss_core::receipt::Receipt {
        id: stored.id,
        intent: i,
        verified_at,
    }
    .uri();
    Ok(ReceiptView {
        qr_svg: qr::svg(uri.as_bytes()).map_err(text)?,
        uri,
        id: hex::encode(stored.id),
        payer: i.payer.to_string(),
        payee: i.payee.to_string(),
        mint: i.mint.map(|m| m.to_string()),
        amount: i.amount,
        memo: i.memo.clone(),
        verified_at,
    })
}
