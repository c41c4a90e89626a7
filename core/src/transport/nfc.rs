//! NFC through a PC/SC reader (docs/nfc.md): the desktop is the reader, a
//! phone emulating a card (Android host card emulation) answers. Messages
//! of up to [`MAX_MESSAGE`] bytes cross in short APDUs (at most 255 data
//! bytes, what every reader handles): ISO 7816-4 command chaining from the
//! reader, `61xx` + GET RESPONSE from the card.
//!
//! The exchange is request/response: the reader sends a message (maybe
//! empty, to poll) and the card answers with one (maybe empty). Noise
//! runs over these messages like over any other link.

pub mod card;

use std::ffi::CString;
use std::time::Duration;

/// TOSS's proprietary application identifier: `F0` (proprietary range)
/// then "TOSS" then the protocol version.
pub const AID: [u8; 6] = [0xF0, b'T', b'O', b'S', b'S', 0x01];
/// The answer to SELECT: "TOSS" and the protocol version.
pub const SELECT_ANSWER: [u8; 5] = [b'T', b'O', b'S', b'S', 1];
/// Largest message either way: the largest Noise message.
pub const MAX_MESSAGE: usize = 65_535;
/// Data bytes in one short command APDU.
pub const MAX_BLOCK: usize = 255;

/// Class byte of EXCHANGE: proprietary (`80`); `90` (chaining bit) on
/// every block but the last.
const CLA: u8 = 0x80;
const CLA_CHAINING: u8 = 0x10;
const INS_EXCHANGE: u8 = 0x10;
const INS_SELECT: u8 = 0xA4;
const INS_GET_RESPONSE: u8 = 0xC0;

/// Status words (ISO 7816-4) the card answers with.
pub mod sw {
    /// `9000`: success.
    pub const OK: u16 = 0x9000;
    /// `61xx`: xx more bytes (the card says at most FF, even when more
    /// remain) wait for GET RESPONSE.
    pub const MORE: u8 = 0x61;
    /// `6700`: the APDU is malformed or its lengths do not add up.
    pub const WRONG_LENGTH: u16 = 0x6700;
    /// `6985`: a command before the TOSS application was selected.
    pub const NOT_SELECTED: u16 = 0x6985;
    /// `6A80`: the chained message grew past [`MAX_MESSAGE`](super::MAX_MESSAGE).
    pub const BAD_DATA: u16 = 0x6A80;
    /// `6A82`: SELECT named an application other than TOSS.
    pub const NOT_FOUND: u16 = 0x6A82;
    /// `6D00`: an instruction the applet does not know.
    pub const UNKNOWN_INS: u16 = 0x6D00;
    /// `6E00`: a class byte the applet does not know.
    pub const UNKNOWN_CLA: u16 = 0x6E00;
    /// `6F00`: the phone's app failed to answer the message.
    pub const CARD_ERROR: u16 = 0x6F00;
}

/// Why an NFC exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NfcError {
    /// The PC/SC service is not running, or stopped.
    #[error("the smart card service is not running (on Linux: start pcscd)")]
    NoService,
    /// No reader is connected.
    #[error("no NFC reader is connected")]
    NoReader,
    /// The reader reports no card present.
    #[error("no phone or card is on the reader")]
    NoCard,
    /// The card left, was reset or stopped answering mid-exchange.
    #[error(
        "the phone left the reader before the exchange finished; nothing was kept, hold it on the reader and try again"
    )]
    CardRemoved,
    /// The reader was unplugged or became unavailable.
    #[error("the reader was disconnected")]
    ReaderGone,
    /// The reader asked for is not among those connected.
    #[error(
        "the NFC reader {wanted:?} is not connected (connected: {}); plug it in or choose another in Settings",
        if connected.is_empty() { "none".to_owned() } else { connected.join(", ") }
    )]
    ReaderMissing {
        /// The reader name asked for.
        wanted: String,
        /// Names of the readers connected now.
        connected: Vec<String>,
    },
    /// No card came onto the reader before the wait ran out.
    #[error("no phone came onto the reader in time")]
    NoTap,
    /// The caller stopped wanting a tap (the sale was paid another way).
    #[error("stopped waiting for a phone on the reader")]
    Stopped,
    /// The card answered SELECT with not found: no TOSS application.
    #[error("this phone or card does not run TOSS (it does not know our application)")]
    NotToss,
    /// The card's SELECT answer names another protocol version; carries it.
    #[error("the phone runs an unknown TOSS protocol version ({0})")]
    Version(u8),
    /// The card answered with an error status word; carries it.
    #[error("the phone refused the message ({0})")]
    Refused(Status),
    /// A message over [`MAX_MESSAGE`]; carries its length in bytes.
    #[error("a message of {0} bytes is over the {MAX_MESSAGE}-byte limit")]
    TooLarge(usize),
    /// The card's answers break the APDU protocol; carries how.
    #[error("the phone's answer broke the protocol: {0}")]
    Protocol(String),
    /// Any other PC/SC failure; carries its message.
    #[error("the reader failed: {0}")]
    Reader(String),
}

/// A status word the card answered with, named when it is one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u16);

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.0 {
            sw::WRONG_LENGTH => "wrong length",
            sw::NOT_SELECTED => "TOSS not selected",
            sw::BAD_DATA => "bad data",
            sw::NOT_FOUND => "application not found",
            sw::UNKNOWN_INS => "unknown instruction",
            sw::UNKNOWN_CLA => "unknown class",
            sw::CARD_ERROR => "the phone's app failed",
            _ => "status",
        };
        write!(f, "{what}, {:04X}", self.0)
    }
}

impl From<pcsc::Error> for NfcError {
    fn from(e: pcsc::Error) -> Self {
        use pcsc::Error as E;
        match e {
            E::NoService | E::ServiceStopped => NfcError::NoService,
            E::NoReadersAvailable => NfcError::NoReader,
            E::NoSmartcard => NfcError::NoCard,
            E::RemovedCard | E::ResetCard | E::UnpoweredCard | E::UnresponsiveCard => {
                NfcError::CardRemoved
            }
            E::ReaderUnavailable | E::UnknownReader => NfcError::ReaderGone,
            e => NfcError::Reader(e.to_string()),
        }
    }
}

/// A change seen by [`Readers::wait`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The set of readers changed (one plugged in or out).
    Readers(Vec<String>),
    /// A phone or card came onto this reader.
    CardPresent(String),
    /// The card left this reader.
    CardGone(String),
    /// Nothing happened within the time given.
    Quiet,
}

/// The PC/SC service: lists readers and watches them.
pub struct Readers {
    context: pcsc::Context,
    states: Vec<pcsc::ReaderState>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.states[1..].iter().map(|s| s.name()))
            .finish()
    }
}

impl Readers {
    /// Connects to the PC/SC service and learns the readers connected now.
    pub fn open() -> Result<Self, NfcError> {
        let context = pcsc::Context::establish(pcsc::Scope::User)?;
        let mut readers = Readers {
            context,
            states: vec![pcsc::ReaderState::new(
                pcsc::PNP_NOTIFICATION(),
                pcsc::State::UNAWARE,
            )],
        };
        readers.refresh()?;
        Ok(readers)
    }

    /// The readers connected now, by name.
    pub fn list(&self) -> Result<Vec<String>, NfcError> {
        match self.context.list_readers_owned() {
            Ok(names) => Ok(names
                .into_iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Rebuilds the watched set from the readers connected now.
    fn refresh(&mut self) -> Result<Vec<String>, NfcError> {
        let names = self.list()?;
        self.states.truncate(1);
        for name in &names {
            let name = CString::new(name.as_str())
                .map_err(|_| NfcError::Reader(format!("a reader name with a NUL: {name}")))?;
            self.states
                .push(pcsc::ReaderState::new(name, pcsc::State::UNAWARE));
        }
        // Learn the current state without reporting it as a change.
        self.context
            .get_status_change(Duration::ZERO, &mut self.states)
            .or_else(|e| match e {
                pcsc::Error::Timeout => Ok(()),
                e => Err(e),
            })?;
        for s in &mut self.states {
            s.sync_current_state();
        }
        Ok(names)
    }

    /// Whether a card is on `reader` now.
    pub fn card_present(&self, reader: &str) -> bool {
        self.states.iter().any(|s| {
            s.name().to_string_lossy() == reader && s.current_state().contains(pcsc::State::PRESENT)
        })
    }

    /// Waits up to `timeout` for a reader to come or go or a card to come
    /// onto or leave a reader.
    pub fn wait(&mut self, timeout: Duration) -> Result<Change, NfcError> {
        match self.context.get_status_change(timeout, &mut self.states) {
            Ok(()) => {}
            Err(pcsc::Error::Timeout) => return Ok(Change::Quiet),
            Err(e) => return Err(e.into()),
        }
        let readers_changed = self.states.iter().any(|s| {
            s.event_state().contains(pcsc::State::CHANGED)
                && (s.name() == pcsc::PNP_NOTIFICATION()
                    || s.event_state()
                        .intersects(pcsc::State::UNKNOWN | pcsc::State::IGNORE))
        });
        if readers_changed {
            return Ok(Change::Readers(self.refresh()?));
        }
        // One change per call: the first reader whose card came or went.
        // Others keep their unsynced state, so the next call reports them
        // at once.
        for s in &mut self.states[1..] {
            let (before, now) = (s.current_state(), s.event_state());
            if !now.contains(pcsc::State::CHANGED) {
                continue;
            }
            s.sync_current_state();
            let name = s.name().to_string_lossy().into_owned();
            match (
                before.contains(pcsc::State::PRESENT),
                now.contains(pcsc::State::PRESENT),
            ) {
                (false, true) => return Ok(Change::CardPresent(name)),
                (true, false) => return Ok(Change::CardGone(name)),
                _ => {}
            }
        }
        Ok(Change::Quiet)
    }

    /// Waits up to `wait` for a phone on `reader` (when `None`, the first
    /// reader connected) and connects to TOSS on it: the tap a till or a
    /// payer waits for. `go_on` is asked twice a second: once it says no
    /// (a till's sale paid online meanwhile), the wait ends.
    pub fn wait_for_tap(
        &mut self,
        reader: Option<&str>,
        wait: Duration,
        go_on: &dyn Fn() -> bool,
    ) -> Result<Connection, NfcError> {
        let connected = self.list()?;
        let reader = match reader {
            Some(r) if connected.iter().any(|c| c == r) => r.to_owned(),
            Some(r) => {
                return Err(NfcError::ReaderMissing {
                    wanted: r.to_owned(),
                    connected,
                });
            }
            None => connected.into_iter().next().ok_or(NfcError::NoReader)?,
        };
        let deadline = std::time::Instant::now() + wait;
        while !self.card_present(&reader) {
            if std::time::Instant::now() >= deadline {
                return Err(NfcError::NoTap);
            }
            if !go_on() {
                return Err(NfcError::Stopped);
            }
            if let Change::Readers(names) = self.wait(Duration::from_millis(500))?
                && !names.contains(&reader)
            {
                return Err(NfcError::ReaderGone);
            }
        }
        self.connect(&reader)
    }

    /// Connects to the card on `reader` and selects TOSS on it.
    pub fn connect(&self, reader: &str) -> Result<Connection, NfcError> {
        let name = CString::new(reader)
            .map_err(|_| NfcError::Reader(format!("a reader name with a NUL: {reader}")))?;
        let card = self
            .context
            .connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)?;
        let connection = Connection { card };
        connection.select()?;
        Ok(connection)
    }
}

/// TOSS selected on a card: exchanges messages.
pub struct Connection {
    card: pcsc::Card,
}

/// An R-APDU split into its data and status word. Nothing at all is what
/// some readers (vpcd among them) hand back when the card vanished
/// between command and answer.
fn split(response: &[u8]) -> Result<(&[u8], u16), NfcError> {
    match response {
        [] => Err(NfcError::CardRemoved),
        [data @ .., s1, s2] => Ok((data, u16::from_be_bytes([*s1, *s2]))),
        _ => Err(NfcError::Protocol(format!(
            "an answer of {} bytes has no status word",
            response.len()
        ))),
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

/// Carries one command APDU to the card and brings back its raw answer.
/// The reader does it over PC/SC; the fuzz targets stand bytes in for a
/// card, so the reader's side of the protocol is exercised whole.
pub(crate) type Transmit<'a> = dyn FnMut(&[u8]) -> Result<Vec<u8>, NfcError> + 'a;

/// One command, its answer split into data and status word.
fn command(transmit: &mut Transmit, apdu: &[u8]) -> Result<(Vec<u8>, u16), NfcError> {
    let response = transmit(apdu)?;
    let (data, status) = split(&response)?;
    Ok((data.to_vec(), status))
}

/// Selects TOSS on the card: its answer must name TOSS and version 1.
pub(crate) fn select(transmit: &mut Transmit) -> Result<(), NfcError> {
    let mut apdu = vec![0x00, INS_SELECT, 0x04, 0x00, AID.len() as u8];
    apdu.extend_from_slice(&AID);
    apdu.push(0x00);
    match command(transmit, &apdu)? {
        (data, sw::OK) if data.starts_with(&SELECT_ANSWER[..4]) => match data.get(4) {
            Some(1) => Ok(()),
            Some(v) => Err(NfcError::Version(*v)),
            None => Err(NfcError::Protocol(
                "SELECT answered without a version".into(),
            )),
        },
        (_, sw::OK) => Err(NfcError::Protocol(
            "SELECT answered, but not as TOSS".into(),
        )),
        (_, sw::NOT_FOUND) => Err(NfcError::NotToss),
        (_, status) => Err(NfcError::Refused(Status(status))),
    }
}

/// Sends `message` in chained blocks and gathers the card's answer.
pub(crate) fn exchange(transmit: &mut Transmit, message: &[u8]) -> Result<Vec<u8>, NfcError> {
    if message.len() > MAX_MESSAGE {
        return Err(NfcError::TooLarge(message.len()));
    }
    let blocks: Vec<&[u8]> = if message.is_empty() {
        vec![&[]]
    } else {
        message.chunks(MAX_BLOCK).collect()
    };
    let last = blocks.len() - 1;
    let mut answer = Vec::new();
    let mut status = sw::OK;
    for (i, block) in blocks.iter().enumerate() {
        let cla = if i == last { CLA } else { CLA | CLA_CHAINING };
        let mut apdu = vec![cla, INS_EXCHANGE, 0x00, 0x00];
        if !block.is_empty() {
            apdu.push(block.len() as u8);
            apdu.extend_from_slice(block);
        }
        if i == last {
            apdu.push(0x00); // Le: as much as the card has
        }
        let (data, s) = command(transmit, &apdu)?;
        if i < last && s != sw::OK {
            return Err(refusal(s));
        }
        if i < last && !data.is_empty() {
            return Err(NfcError::Protocol(
                "the phone answered before the whole message arrived".into(),
            ));
        }
        answer = data;
        status = s;
    }
    loop {
        if answer.len() > MAX_MESSAGE {
            return Err(NfcError::Protocol(format!(
                "the answer runs past {MAX_MESSAGE} bytes"
            )));
        }
        match status {
            sw::OK => return Ok(answer),
            s if s >> 8 == u16::from(sw::MORE) => {
                let (data, s) = command(transmit, &[0x00, INS_GET_RESPONSE, 0x00, 0x00, s as u8])?;
                answer.extend_from_slice(&data);
                status = s;
            }
            s => return Err(refusal(s)),
        }
    }
}

impl Connection {
    /// The card's raw answer to `apdu`, over PC/SC.
    fn transmit(&self, apdu: &[u8]) -> Result<Vec<u8>, NfcError> {
        let mut buffer = [0u8; pcsc::MAX_BUFFER_SIZE];
        Ok(self.card.transmit(apdu, &mut buffer)?.to_vec())
    }

    fn select(&self) -> Result<(), NfcError> {
        select(&mut |apdu| self.transmit(apdu))
    }

    /// Sends `message` and returns the card's answer. A card that leaves
    /// mid-way gives [`NfcError::CardRemoved`] and nothing partial.
    pub fn exchange(&self, message: &[u8]) -> Result<Vec<u8>, NfcError> {
        exchange(&mut |apdu| self.transmit(apdu), message)
    }
}

impl Connection {
    /// Runs `handover` with this reader as the initiator (the phone on it
    /// answers each message); `show` and `confirm` as for
    /// [`run_exchanges`](crate::handover::run_exchanges).
    pub fn hand_over(
        &self,
        handover: crate::handover::Handover,
        show: impl FnMut(&str),
        confirm: impl FnMut(&str) -> bool,
    ) -> Result<crate::handover::Outcome, crate::handover::HandoverError> {
        crate::handover::run_exchanges(
            |m| {
                self.exchange(m)
                    .map_err(|e| crate::handover::HandoverError::Link(e.to_string()))
            },
            handover,
            show,
            confirm,
        )
    }
}

fn refusal(status: u16) -> NfcError {
    match status {
        sw::NOT_SELECTED => NfcError::Protocol("the phone lost the TOSS selection".into()),
        s => NfcError::Refused(Status(s)),
    }
}
