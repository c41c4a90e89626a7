//! Paying and getting paid face to face over Bluetooth LE and NFC: the
//! commands the pay and receive screens call. Each opens the wallet's
//! store and Noise key, runs the core's handover over the transport, and
//! reports; `handover` events tell the screen what it is waiting for.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use toss_core::config::Config;
use toss_core::handover::{self, Acknowledgement, Handover, Outcome, Role};
use toss_core::intent::durable;
use toss_core::noise::StaticKey;
use toss_core::sale::Till;
use toss_core::session::{self, WalletSession};
use toss_core::store::Store;
use toss_core::transport::ble::Channel;
use toss_core::transport::ble::central::{Central, Found};
use toss_core::transport::nfc::{NfcError, Readers};

use crate::error::CommandError;
use crate::state::{AppState, address, text};

/// The event the pay and receive screens listen to.
pub const EVENT: &str = "handover";
/// How long a receive screen waits for the other device.
const WAIT: Duration = Duration::from_secs(120);

/// What the screen shows while a handover runs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum HandoverEvent {
    /// Waiting for the other device (to connect, or to come onto the reader).
    Waiting { transport: &'static str },
    /// The devices are connected; the secure session and the transfer run.
    Connected { transport: &'static str },
    /// The session's code, shown on both screens.
    Code { code: String },
    /// The payer scanned nothing: does the till show this code? Answered
    /// with `handover_confirm`; nothing is sent before.
    Confirm { code: String },
}

/// The code a handover asks the payer about, and where its answer goes:
/// one question at a time, answered for that code only.
#[derive(Debug, Default)]
pub struct Confirming(std::sync::Mutex<Option<(String, tokio::sync::oneshot::Sender<bool>)>>);

impl Confirming {
    /// Asks the person at `app` whether the till shows `code`; `false` when
    /// no answer comes in time, or another handover is already asking (its
    /// question is not replaced).
    async fn ask<R: Runtime>(&self, app: &AppHandle<R>, code: String) -> bool {
        let (tx, rx) = tokio::sync::oneshot::channel();
        match self.0.lock() {
            Ok(mut waiting) if waiting.as_ref().is_none_or(|(_, s)| s.is_closed()) => {
                *waiting = Some((code.clone(), tx));
            }
            _ => return false,
        }
        say(app, HandoverEvent::Confirm { code });
        let same = matches!(tokio::time::timeout(WAIT, rx).await, Ok(Ok(true)));
        if let Ok(mut waiting) = self.0.lock() {
            waiting.take();
        }
        same
    }
}

/// The payer's answer about `code`: `same` when the till's screen shows it.
#[tauri::command]
pub fn handover_confirm(
    confirming: State<'_, Confirming>,
    code: String,
    same: bool,
) -> Result<(), CommandError> {
    let mut waiting = confirming
        .0
        .lock()
        .map_err(|_| "the confirmation could not be passed on".to_owned())?;
    match waiting.take() {
        Some((asked, answer)) if asked == code => answer
            .send(same)
            .map_err(|_| "the handover is no longer waiting".to_owned())?,
        Some(other) => {
            *waiting = Some(other);
            return Err("that code is not the one being asked about"
                .to_owned()
                .into());
        }
        None => {
            return Err("no handover is waiting for a confirmation"
                .to_owned()
                .into());
        }
    }
    Ok(())
}

/// The payer's side bound to the request it scanned (`reference`, and the
/// till's key it must prove when the request named one); unbound when
/// nothing was scanned, and the code is then confirmed.
fn bind(
    payer: Handover,
    reference: Option<String>,
    till_key: Option<String>,
) -> Result<Handover, String> {
    let Some(reference) = reference else {
        return Ok(payer);
    };
    // References and Noise keys are written as addresses are: base58, 32 bytes.
    let till_key = till_key
        .map(|k| address(&k).map(|a| a.to_bytes()))
        .transpose()?;
    Ok(payer.for_sale(address(&reference)?.to_bytes(), till_key))
}

fn show_code<R: Runtime>(app: &AppHandle<R>) -> impl FnMut(&str) + '_ {
    move |code| {
        say(
            app,
            HandoverEvent::Code {
                code: code.to_owned(),
            },
        )
    }
}

/// The payer's result.
#[derive(Debug, Serialize)]
pub struct Paid {
    pub acknowledgement: Acknowledgement,
    pub verification_code: String,
    /// Intents marked as handed over in this wallet (those accepted).
    pub handed_over: usize,
}

/// The till's result: each intent's id, or why it was refused, and where
/// the sale stands.
#[derive(Debug, Serialize)]
pub struct Got {
    pub verification_code: String,
    pub intents: Vec<Taken>,
    /// Where the sale stands now, in words ("paid: 2 SOL in 2 payments").
    pub sale: String,
}

#[derive(Debug, Serialize)]
pub struct Taken {
    pub id: Option<String>,
    pub refused: Option<String>,
}

fn say<R: Runtime>(app: &AppHandle<R>, event: HandoverEvent) {
    if let Err(e) = app.emit(EVENT, event) {
        tracing::warn!(error = %e, "a handover event could not reach the window");
    }
}

/// Intents as the wire carries them, and their ids, in the same order.
type Intents = (Vec<Vec<u8>>, Vec<[u8; 32]>);

/// Intents as the screen passes them (hex wire bytes), with their ids.
fn intents(hex_wires: &[String]) -> Result<Intents, String> {
    let mut wires = Vec::with_capacity(hex_wires.len());
    let mut ids = Vec::with_capacity(hex_wires.len());
    for h in hex_wires {
        let wire = hex::decode(h).map_err(|_| "an intent is not hex".to_owned())?;
        let (signed, _) = durable::split(&wire).map_err(text)?;
        ids.push(signed.id().map_err(text)?);
        wires.push(wire);
    }
    Ok((wires, ids))
}

fn paid(outcome: Outcome, store: &mut Store, ids: &[[u8; 32]], how: &str) -> Result<Paid, String> {
    let Outcome::Paid {
        acknowledgement,
        verification_code,
    } = outcome
    else {
        return Err("the other device answered as a payer".into());
    };
    let handed_over = session::record_acknowledgement(
        store,
        ids,
        &acknowledgement,
        how,
        i64::from(session::unix_now()),
    )
    .map_err(text)?;
    Ok(Paid {
        acknowledgement,
        verification_code,
        handed_over,
    })
}

fn got(outcome: Outcome, till: &Till) -> Result<Got, String> {
    let Outcome::Received {
        verdicts,
        verification_code,
    } = outcome
    else {
        return Err("the other device answered as a payee".into());
    };
    Ok(Got {
        sale: till.now().describe(),
        verification_code,
        intents: verdicts
            .into_iter()
            .map(|v| match v {
                Ok(id) => Taken {
                    id: Some(hex::encode(id)),
                    refused: None,
                },
                Err(reason) => Taken {
                    id: None,
                    refused: Some(reason),
                },
            })
            .collect(),
    })
}

/// Devices offering TOSS nearby, strongest first, seen within `seconds`.
#[tauri::command]
pub async fn ble_devices(
    state: State<'_, AppState>,
    seconds: Option<u64>,
) -> Result<Vec<Found>, CommandError> {
    let central = Central::open(state.config()?.ble_adapter.as_deref())
        .await
        .map_err(text)?;
    let window = Duration::from_secs(seconds.unwrap_or(4).clamp(1, 30));
    Ok(central.scan(window).await.map_err(text)?)
}

/// Pays the device `device` (from [`ble_devices`]) the intents given, bound
/// to the request scanned (`reference`, `till_key`) when there is one.
#[tauri::command]
#[allow(clippy::too_many_arguments)] // the handles Tauri passes, then the screen's fields
pub async fn ble_pay<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    confirming: State<'_, Confirming>,
    device: String,
    intents: Vec<String>,
    reference: Option<String>,
    till_key: Option<String>,
) -> Result<Paid, CommandError> {
    let session = state.session()?;
    let mut store = session.store()?;
    let (wires, ids) = self::intents(&intents)?;
    let payer = Handover::payer(Role::Initiator, &session.noise_key()?, wires).map_err(text)?;
    let payer = bind(payer, reference, till_key)?;
    let central = Central::open(session.config().ble_adapter.as_deref())
        .await
        .map_err(text)?;
    let link = central.connect(&device).await.map_err(text)?;
    say(&app, HandoverEvent::Connected { transport: "ble" });
    let frame_size = link.frame_size();
    let mut channel = Channel::new(link, frame_size).map_err(text)?;
    let outcome = handover::run(&mut channel, payer, show_code(&app), |code| {
        confirming.ask(&app, code)
    })
    .await;
    if let Err(e) = channel.into_link().disconnect().await {
        tracing::info!(error = %e, "disconnecting after a handover");
    }
    Ok(paid(
        outcome.map_err(text)?,
        &mut store,
        &ids,
        "handed over by Bluetooth",
    )?)
}

/// Advertises as `name` and takes payment for the open sale from the
/// first payer that connects.
#[tauri::command]
pub async fn ble_receive<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: Option<String>,
) -> Result<Got, CommandError> {
    let session = state.session()?;
    let payee = Payee::open(&state, &session)?;
    let adapter = session.config().ble_adapter.clone();
    let name = name.unwrap_or_else(|| "TOSS".into());
    let got = receive_ble(app.clone(), payee, adapter, name)
        .await
        .map_err(CommandError::from);
    told(&app, &got);
    got
}

/// Tells the customer display (and the merchant) how a handover ended:
/// the sale paid, or why not.
fn told<R: Runtime>(app: &AppHandle<R>, got: &Result<Got, CommandError>) {
    crate::customer::taken(
        app,
        match got {
            Ok(g) if g.intents.iter().any(|t| t.id.is_some()) => Ok(format!("Sale {}", g.sale)),
            Ok(g) => Err(g
                .intents
                .iter()
                .filter_map(|t| t.refused.clone())
                .next()
                .unwrap_or_else(|| "nothing was handed over".into())),
            Err(e) => Err(e.message.clone()),
        },
    );
}

/// What the till's side of a handover needs from the wallet: its Noise
/// key, the check what arrives passes, together, for the open sale, and
/// that sale's reference (a payer bound to another sale is refused).
struct Payee {
    noise: StaticKey,
    check: handover::Accept,
    till: Arc<Till>,
}

impl Payee {
    fn open(state: &AppState, session: &WalletSession) -> Result<Self, CommandError> {
        Ok(Payee {
            check: session.till_check(state.till.clone())?,
            noise: session.noise_key()?,
            till: state.till.clone(),
        })
    }

    fn handover(self, role: Role) -> Result<(Handover, Arc<Till>), String> {
        let mut handover = Handover::payee(role, &self.noise, self.check).map_err(text)?;
        if let Some(reference) = self.till.waiting().and_then(|sale| sale.reference) {
            handover = handover.for_sale(reference.to_bytes(), None);
        }
        Ok((handover, self.till))
    }
}

#[cfg(target_os = "linux")]
async fn receive_ble<R: Runtime>(
    app: AppHandle<R>,
    payee: Payee,
    adapter: Option<String>,
    name: String,
) -> Result<Got, String> {
    use toss_core::transport::ble::peripheral::Advertiser;
    let mut advertiser = Advertiser::start(adapter.as_deref(), &name)
        .await
        .map_err(text)?;
    say(&app, HandoverEvent::Waiting { transport: "ble" });
    let till = payee.till.clone();
    let link = tokio::time::timeout(WAIT, advertiser.accept_while(|| till.waiting().is_some()))
        .await
        .map_err(|_| "no payer connected in time".to_owned())?
        .map_err(|e| match e {
            toss_core::transport::ble::BleError::Stopped => NO_LONGER_WAITING.to_owned(),
            e => e.to_string(),
        })?;
    say(&app, HandoverEvent::Connected { transport: "ble" });
    let frame_size = link.frame_size();
    let mut channel = Channel::new(link, frame_size).map_err(text)?;
    let (payee, till) = payee.handover(Role::Responder)?;
    // A payer that stalls once connected does not hold the till's radio:
    // the handover has the same time as the wait for it (the payer's
    // confirmation of the code included).
    let outcome = handover::run(&mut channel, payee, show_code(&app), |_| async { false });
    let outcome = tokio::time::timeout(WAIT, outcome)
        .await
        .map_err(|_| "the payer did not finish in time; nothing was taken".to_owned())?;
    got(outcome.map_err(text)?, &till)
}

#[cfg(not(target_os = "linux"))]
async fn receive_ble<R: Runtime>(
    _app: AppHandle<R>,
    _payee: Payee,
    _adapter: Option<String>,
    _name: String,
) -> Result<Got, String> {
    Err("receiving over Bluetooth needs Linux (this system cannot advertise to a phone); take the payment by QR code or NFC".into())
}

/// The NFC readers connected now.
#[tauri::command]
pub fn nfc_readers() -> Result<Vec<String>, CommandError> {
    Ok(Readers::open().and_then(|r| r.list()).map_err(text)?)
}

/// Waits for a phone on `reader` (when `None`: the reader Settings name,
/// else the first connected) and connects to TOSS on it.
fn tap(
    reader: Option<String>,
    config: &Config,
    go_on: &dyn Fn() -> bool,
) -> Result<toss_core::transport::nfc::Connection, String> {
    let reader = reader.or_else(|| config.nfc_reader.clone());
    Readers::open()
        .and_then(|mut r| r.wait_for_tap(reader.as_deref(), WAIT, go_on))
        .map_err(|e| match e {
            NfcError::Stopped => NO_LONGER_WAITING.to_owned(),
            e => e.to_string(),
        })
}

/// Why a till's radio wait ended early.
const NO_LONGER_WAITING: &str =
    "the sale is no longer waiting for a payment (paid online, or another sale is shown)";

/// Takes payment for the open sale from the phone put on `reader`.
#[tauri::command]
pub async fn nfc_receive<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reader: Option<String>,
) -> Result<Got, CommandError> {
    let session = state.session()?;
    let config = session.config().clone();
    let payee = Payee::open(&state, &session)?;
    say(&app, HandoverEvent::Waiting { transport: "nfc" });
    let told_to = app.clone();
    let got = tauri::async_runtime::spawn_blocking(move || {
        let till = payee.till.clone();
        let connection = tap(reader, &config, &|| till.waiting().is_some())?;
        say(&app, HandoverEvent::Connected { transport: "nfc" });
        let (payee, till) = payee.handover(Role::Initiator)?;
        let outcome = connection.hand_over(payee, show_code(&app), |_| false);
        got(outcome.map_err(text)?, &till)
    })
    .await
    .map_err(text)
    .and_then(|g| g)
    .map_err(CommandError::from);
    told(&told_to, &got);
    got
}

/// Pays the merchant's phone put on `reader` the intents given, bound to
/// the request scanned (`reference`, `till_key`) when there is one.
#[tauri::command]
pub async fn nfc_pay<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reader: Option<String>,
    intents: Vec<String>,
    reference: Option<String>,
    till_key: Option<String>,
) -> Result<Paid, CommandError> {
    let session = state.session()?;
    let config = session.config().clone();
    let mut store = session.store()?;
    let (wires, ids) = self::intents(&intents)?;
    let payer = Handover::payer(Role::Initiator, &session.noise_key()?, wires).map_err(text)?;
    let payer = bind(payer, reference, till_key)?;
    say(&app, HandoverEvent::Waiting { transport: "nfc" });
    let paid = tauri::async_runtime::spawn_blocking(move || {
        let connection = tap(reader, &config, &|| true)?;
        say(&app, HandoverEvent::Connected { transport: "nfc" });
        let confirming = app.state::<Confirming>();
        let outcome = connection
            .hand_over(payer, show_code(&app), |code| {
                tauri::async_runtime::block_on(confirming.ask(&app, code.to_owned()))
            })
            .map_err(text)?;
        paid(outcome, &mut store, &ids, "handed over by NFC")
    })
    .await
    .map_err(text)?;
    Ok(paid?)
}
