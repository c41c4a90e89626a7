//! Handing intents over, face to face, on any link that carries whole
//! messages (BLE's channel, NFC's APDU exchange): a Noise XX session, then
//! the payer's signed intents one way and the payee's acknowledgement the other
//! (docs/handover.md).
//!
//! The session is bound to a sale when the payer scanned the till's request:
//! the initiator's first message names the sale's reference (in the clear,
//! and in the Noise prologue, so both sides must agree on it), and the payer
//! holds the till to the key its request named. A payer that scanned nothing
//! is shown the session's code and must confirm that the till shows the same
//! before any intent crosses ([`Step::Confirm`]).
//!
//! Sans-IO: a [`Handover`] takes each message that arrives and says what
//! to answer, so the same code runs under an async link ([`run`]) and
//! inside an NFC card's synchronous applet. The two sides take turns, the
//! initiator first, six messages in all:
//!
//! ```text
//! initiator  hello, hs1 ──▶          (the sale's reference, or none; Noise XX: e)
//! responder      ◀── hs2             (e, ee, s, es)
//! initiator  hs3 ──▶                 (s, se)
//! responder      ◀── INTENTS | READY (payer gives; a payee has nothing yet)
//! initiator  INTENTS | ACK ──▶
//! responder      ◀── ACK | DONE
//! ```

use std::future::Future;

use crate::noise::{Handshake, NoiseError, Session, StaticKey, prologue};

/// Version of the application messages inside the session.
const VERSION: u8 = 1;
const INTENTS: u8 = 1;
const ACK: u8 = 2;
const READY: u8 = 3;
const DONE: u8 = 4;
/// Most intents handed over at once.
pub const MAX_INTENTS: usize = 64;
/// Largest application message: what one Noise transport frame holds
/// (65,535 bytes less the tag and the frame flag).
const MAX_BODY: usize = 65_535 - 16 - 1;
/// What both sides bind a session to when it names no sale (Noise
/// prologue): this protocol.
const PROLOGUE_REFERENCE: [u8; 32] = *b"TOSS face-to-face handover v1\0\0\0";
/// The hello before the first handshake message: no sale, or one sale.
const HELLO_NO_SALE: u8 = 0;
const HELLO_SALE: u8 = 1;
/// Bytes of the hello: the kind, then the sale's reference (zeros for none).
const HELLO: usize = 33;

/// Why a handover failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    /// The secure session failed (handshake, decryption, wrong peer).
    #[error("{0}")]
    Noise(#[from] NoiseError),
    /// The other side sent a message out of turn or malformed; carries what.
    #[error("the other device broke the handover protocol: {0}")]
    Protocol(String),
    /// More than [`MAX_INTENTS`] intents were given to hand over; carries the count.
    #[error("at most {MAX_INTENTS} intents go over at once, not {0}")]
    TooMany(usize),
    /// A payer was started with no intents.
    #[error("there is nothing to hand over")]
    NoIntents,
    /// The encoded intents exceed one secure message; carries their size in bytes.
    #[error("the intents take {0} bytes, more than one secure message holds")]
    TooLarge(usize),
    /// The transport under the session failed; carries its error.
    #[error("the link failed: {0}")]
    Link(String),
    /// The other device is not paying or taking the sale this side is.
    #[error(
        "the other device is for another sale than the code scanned here: scan the till's current code and try again"
    )]
    OtherSale,
    /// The till did not prove the key its request named.
    #[error(
        "this device is not the till whose code you scanned (its key differs): nothing was sent"
    )]
    NotTheTill,
    /// The payer said the two screens show different codes.
    #[error("the codes on the two screens differ: someone may be in between; nothing was sent")]
    CodeRejected,
}

/// What the payer's side of a session is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The sale whose request the payer scanned: its reference, and the
    /// till's key when the request named one (`toss-key`).
    Sale {
        /// The request's reference.
        reference: [u8; 32],
        /// The till's Noise key, which it must prove.
        till_key: Option<[u8; 32]>,
    },
    /// Nothing scanned: the payer confirms the session's code.
    Unconfirmed,
}

/// Which end of the link this side is: the initiator speaks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Speaks first: writes the first handshake message.
    Initiator,
    /// Answers the initiator.
    Responder,
}

/// The payee's verdict on one intent: its id, or why it was refused.
pub type Verdict = Result<[u8; 32], String>;

/// What the payee answered for each intent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Acknowledgement {
    /// One answer per intent received, in the order sent.
    pub entries: Vec<Answer>,
}

/// The payee's answer for one intent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    /// Position of the intent in what the payer sent.
    pub index: usize,
    /// `None`: accepted; otherwise the payee's reason for refusing it.
    pub refused: Option<String>,
}

/// How a handover ended, for this side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The payer: what the payee said of each intent.
    Paid {
        /// The payee's answer for each intent sent.
        acknowledgement: Acknowledgement,
        /// The short code from the handshake hash, to compare with the other screen.
        verification_code: String,
    },
    /// The payee: the verdict on each intent received.
    Received {
        /// The verdict on each intent, in the order received.
        verdicts: Vec<Verdict>,
        /// The short code from the handshake hash, to compare with the other screen.
        verification_code: String,
    },
}

/// The payee's check of the intents of one handover, taken together (see
/// [`Till::take`](crate::sale::Till::take)): one verdict per intent.
pub type Accept = Box<dyn FnMut(&[Vec<u8>]) -> Vec<Verdict> + Send>;

enum Side {
    Payer(Vec<Vec<u8>>),
    Payee(Accept),
}

enum Stage {
    /// Nothing built yet: the initiator builds its handshake when it
    /// speaks, the responder when the hello says what the session is for.
    Start(StaticKey),
    Handshake(Box<Handshake>),
    Session(Box<Session>),
    /// The payer waits for the person to compare the codes.
    Confirming(Box<Session>),
    Finished,
}

/// One side of a handover.
pub struct Handover {
    role: Role,
    side: Side,
    /// The payer's: what it scanned. The payee's: its open sale.
    binding: Binding,
    stage: Stage,
    /// Messages this side has read so far.
    read: usize,
    verdicts: Vec<Verdict>,
}

impl std::fmt::Debug for Handover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handover")
            .field("role", &self.role)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

/// What to do after a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this and wait for the next message.
    Send(Vec<u8>),
    /// The payer scanned nothing: ask the person whether the till's screen
    /// shows this code, and give the answer to [`Handover::confirm`].
    Confirm(String),
    /// Send this (if any) and stop: the handover is complete.
    Finish(Option<Vec<u8>>, Outcome),
}

impl Handover {
    /// The payer's side, handing over `intents` (wire bytes, as signed);
    /// unbound (the code must be confirmed) until [`Handover::for_sale`].
    pub fn payer(
        role: Role,
        noise: &StaticKey,
        intents: Vec<Vec<u8>>,
    ) -> Result<Self, HandoverError> {
        if intents.is_empty() {
            return Err(HandoverError::NoIntents);
        }
        if intents.len() > MAX_INTENTS {
            return Err(HandoverError::TooMany(intents.len()));
        }
        let size = intents_message(&intents).len();
        if size > MAX_BODY || intents.iter().any(|w| w.len() > usize::from(u16::MAX)) {
            return Err(HandoverError::TooLarge(size));
        }
        Self::new(role, noise, Side::Payer(intents))
    }

    /// The payee's side: `accept` checks the intents received, together
    /// (and keeps those it accepts), and gives the verdict on each that the
    /// acknowledgement reports. A till names its open sale with
    /// [`Handover::for_sale`]; a payer bound to another sale is refused.
    pub fn payee(
        role: Role,
        noise: &StaticKey,
        accept: impl FnMut(&[Vec<u8>]) -> Vec<Verdict> + Send + 'static,
    ) -> Result<Self, HandoverError> {
        Self::new(role, noise, Side::Payee(Box::new(accept)))
    }

    fn new(role: Role, noise: &StaticKey, side: Side) -> Result<Self, HandoverError> {
        Ok(Handover {
            role,
            side,
            binding: Binding::Unconfirmed,
            stage: Stage::Start(noise.copy()),
            read: 0,
            verdicts: Vec::new(),
        })
    }

    /// Binds this side to a sale: for a payer, the request it scanned (and
    /// the till's key, which the till must then prove); for a payee, its
    /// open sale (`till_key` is not used there).
    pub fn for_sale(mut self, reference: [u8; 32], till_key: Option<[u8; 32]>) -> Self {
        self.binding = Binding::Sale {
            reference,
            till_key,
        };
        self
    }

    /// The code both screens can show, once the handshake is done.
    pub fn verification_code(&self) -> Option<&str> {
        match &self.stage {
            Stage::Session(s) | Stage::Confirming(s) => Some(s.verification_code()),
            _ => None,
        }
    }

    /// The sale this side names in its hello: the payer's scanned one, the
    /// till's open one.
    fn announced(&self) -> Option<[u8; 32]> {
        match self.binding {
            Binding::Sale { reference, .. } => Some(reference),
            Binding::Unconfirmed => None,
        }
    }

    /// The handshake for the sale the hello names (`None`: no sale), with
    /// the till's key pinned when this is a payer that scanned it.
    fn handshake(
        &self,
        noise: &StaticKey,
        sale: Option<[u8; 32]>,
    ) -> Result<Handshake, HandoverError> {
        let mut bound = prologue(&sale.unwrap_or(PROLOGUE_REFERENCE));
        bound.push(if sale.is_some() {
            HELLO_SALE
        } else {
            HELLO_NO_SALE
        });
        let pinned = match (&self.side, self.binding) {
            (Side::Payer(_), Binding::Sale { till_key, .. }) => till_key,
            _ => None,
        };
        let hs = Handshake::xx(noise, &bound, self.role == Role::Initiator, pinned)?;
        Ok(hs)
    }

    /// The initiator's first message (`None` for the responder): the hello,
    /// then the first handshake message.
    pub fn first(&mut self) -> Result<Option<Vec<u8>>, HandoverError> {
        if self.role != Role::Initiator || self.read != 0 {
            return Ok(None);
        }
        let Stage::Start(noise) = &self.stage else {
            return Ok(None);
        };
        let sale = self.announced();
        let mut hs = self.handshake(noise, sale)?;
        let mut out = Vec::with_capacity(HELLO + 32);
        out.push(if sale.is_some() {
            HELLO_SALE
        } else {
            HELLO_NO_SALE
        });
        out.extend_from_slice(&sale.unwrap_or([0; 32]));
        out.extend_from_slice(&hs.write(&[])?);
        self.stage = Stage::Handshake(Box::new(hs));
        Ok(Some(out))
    }

    /// The responder's reading of a hello: the sale it names, refused when
    /// it is not this side's (a payer that scanned nothing takes any).
    fn hello<'m>(&self, message: &'m [u8]) -> Result<(Option<[u8; 32]>, &'m [u8]), HandoverError> {
        let (hello, rest) = message
            .split_at_checked(HELLO)
            .ok_or_else(|| protocol("a first message without its hello"))?;
        let named = match hello[0] {
            HELLO_NO_SALE if hello[1..].iter().all(|b| *b == 0) => None,
            HELLO_NO_SALE => return Err(protocol("a hello naming no sale with a reference")),
            HELLO_SALE => Some(<[u8; 32]>::try_from(&hello[1..]).map_err(|_| protocol("a hello"))?),
            other => return Err(protocol(&format!("hello kind {other}"))),
        };
        let agreed = match (&self.side, self.announced(), named) {
            // A payer that scanned a sale: the till must be taking that one.
            (Side::Payer(_), Some(mine), theirs) => theirs == Some(mine),
            // A payer that scanned nothing: whatever the till names.
            (Side::Payer(_), None, _) => true,
            // A till: the payer's scanned sale must be its open one; a payer
            // that scanned nothing is asked to confirm the code instead.
            (Side::Payee(_), _, None) => true,
            (Side::Payee(_), mine, Some(theirs)) => mine == Some(theirs),
        };
        if !agreed {
            return Err(HandoverError::OtherSale);
        }
        Ok((named, rest))
    }

    /// Whether this side must have the code confirmed before sending
    /// intents: a payer that holds the till to no key (it scanned nothing,
    /// or a request that named no key), since nothing else shows the other
    /// device is the till.
    fn must_confirm(&self) -> bool {
        let pinned = matches!(
            self.binding,
            Binding::Sale {
                till_key: Some(_),
                ..
            }
        );
        matches!(self.side, Side::Payer(_)) && !pinned
    }

    /// The person's answer to [`Step::Confirm`]: `same` when the till shows
    /// the same code. Then the intents go; otherwise nothing does.
    pub fn confirm(&mut self, same: bool) -> Result<Step, HandoverError> {
        if !matches!(self.stage, Stage::Confirming(_)) {
            return Err(protocol("a confirmation nobody asked for"));
        }
        let stage = std::mem::replace(&mut self.stage, Stage::Finished);
        let (Stage::Confirming(mut session), Side::Payer(intents)) = (stage, &self.side) else {
            return Err(protocol("a confirmation nobody asked for"));
        };
        if !same {
            return Err(HandoverError::CodeRejected);
        }
        let out = seal(&mut session, &intents_message(intents))?;
        self.stage = Stage::Session(session);
        Ok(Step::Send(out))
    }

    /// Takes the other side's next message.
    pub fn on_message(&mut self, message: &[u8]) -> Result<Step, HandoverError> {
        self.read += 1;
        let stage = std::mem::replace(&mut self.stage, Stage::Finished);
        match (stage, self.role, self.read) {
            // Responder reads the hello and hs1, answers hs2.
            (Stage::Start(noise), Role::Responder, 1) => {
                let (sale, hs1) = self.hello(message)?;
                let mut hs = self.handshake(&noise, sale)?;
                hs.read(hs1).map_err(pinned)?;
                let reply = hs.write(&[])?;
                self.stage = Stage::Handshake(Box::new(hs));
                Ok(Step::Send(reply))
            }
            // Initiator reads hs2, answers hs3: the session starts.
            (Stage::Handshake(mut hs), Role::Initiator, 1) => {
                hs.read(message).map_err(pinned)?;
                let reply = hs.write(&[])?;
                self.stage = Stage::Session(Box::new(hs.finish().map_err(pinned)?));
                Ok(Step::Send(reply))
            }
            // Responder reads hs3 and makes the first application move.
            (Stage::Handshake(mut hs), Role::Responder, 2) => {
                hs.read(message).map_err(pinned)?;
                let mut session = Box::new(hs.finish().map_err(pinned)?);
                if self.must_confirm() {
                    let code = session.verification_code().to_owned();
                    self.stage = Stage::Confirming(session);
                    return Ok(Step::Confirm(code));
                }
                let body = match &self.side {
                    Side::Payer(intents) => intents_message(intents),
                    Side::Payee(_) => vec![VERSION, READY],
                };
                let reply = seal(&mut session, &body)?;
                self.stage = Stage::Session(session);
                Ok(Step::Send(reply))
            }
            (Stage::Session(mut session), role, n) => {
                let body = session
                    .open(message)?
                    .ok_or_else(|| protocol("a message split over several frames"))?;
                let step = self.application(&mut session, role, n, &body)?;
                match step {
                    Step::Send(_) => self.stage = Stage::Session(session),
                    Step::Confirm(_) => self.stage = Stage::Confirming(session),
                    Step::Finish(..) => {}
                }
                Ok(step)
            }
            _ => Err(protocol("a message after the handover ended")),
        }
    }

    /// The application messages, once the session is up.
    fn application(
        &mut self,
        session: &mut Session,
        role: Role,
        n: usize,
        body: &[u8],
    ) -> Result<Step, HandoverError> {
        let code = session.verification_code().to_owned();
        let ask = self.must_confirm();
        match (role, n, &mut self.side, parse(body)?) {
            // Initiator, fourth message: the responder's first move. A payer
            // that holds the till to no key asks first.
            (Role::Initiator, 2, Side::Payer(_), Message::Ready) if ask => Ok(Step::Confirm(code)),
            (Role::Initiator, 2, Side::Payer(intents), Message::Ready) => {
                let out = seal(session, &intents_message(intents))?;
                Ok(Step::Send(out))
            }
            (Role::Initiator, 2, Side::Payee(accept), Message::Intents(list)) => {
                self.verdicts = judge(accept, &list);
                let out = seal(session, &ack_message(&self.verdicts))?;
                Ok(Step::Send(out))
            }
            // Initiator, last message.
            (Role::Initiator, 3, Side::Payer(intents), Message::Acknowledgement(r)) => {
                check_acknowledgement(&r, intents.len())?;
                Ok(Step::Finish(None, paid(r, code)))
            }
            (Role::Initiator, 3, Side::Payee(_), Message::Done) => Ok(Step::Finish(
                None,
                Outcome::Received {
                    verdicts: std::mem::take(&mut self.verdicts),
                    verification_code: code,
                },
            )),
            // Responder, the initiator's application message.
            (Role::Responder, 3, Side::Payee(accept), Message::Intents(list)) => {
                let verdicts = judge(accept, &list);
                let out = seal(session, &ack_message(&verdicts))?;
                Ok(Step::Finish(
                    Some(out),
                    Outcome::Received {
                        verdicts,
                        verification_code: code,
                    },
                ))
            }
            (Role::Responder, 3, Side::Payer(intents), Message::Acknowledgement(r)) => {
                check_acknowledgement(&r, intents.len())?;
                let out = seal(session, &[VERSION, DONE])?;
                Ok(Step::Finish(Some(out), paid(r, code)))
            }
            (_, _, _, m) => Err(protocol(&format!("{} was not expected here", m.name()))),
        }
    }
}

/// A pinned key the other side did not prove, said as such.
fn pinned(e: NoiseError) -> HandoverError {
    match e {
        NoiseError::WrongPeer => HandoverError::NotTheTill,
        e => e.into(),
    }
}

/// One verdict per intent, whatever `accept` returned.
fn judge(accept: &mut Accept, list: &[Vec<u8>]) -> Vec<Verdict> {
    let mut verdicts = accept(list);
    verdicts.resize_with(list.len(), || Err("not checked".to_owned()));
    verdicts
}

fn protocol(what: &str) -> HandoverError {
    HandoverError::Protocol(what.to_owned())
}

fn paid(acknowledgement: Acknowledgement, verification_code: String) -> Outcome {
    Outcome::Paid {
        acknowledgement,
        verification_code,
    }
}

/// Acknowledgement entries answer the intents in order: one each.
fn check_acknowledgement(
    acknowledgement: &Acknowledgement,
    sent: usize,
) -> Result<(), HandoverError> {
    if acknowledgement.entries.len() != sent {
        return Err(protocol(
            "an acknowledgement that does not answer each intent once",
        ));
    }
    Ok(())
}

/// One Noise frame per message: the turns would not line up otherwise
/// (sizes are checked before, so this holds).
fn seal(session: &mut Session, body: &[u8]) -> Result<Vec<u8>, HandoverError> {
    let mut frames = session.seal(body)?;
    match frames.len() {
        1 => Ok(frames.remove(0)),
        _ => Err(HandoverError::TooLarge(body.len())),
    }
}

pub(crate) fn intents_message(intents: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![VERSION, INTENTS, intents.len() as u8];
    for wire in intents {
        out.extend_from_slice(&(wire.len() as u16).to_be_bytes());
        out.extend_from_slice(wire);
    }
    out
}

fn ack_message(verdicts: &[Verdict]) -> Vec<u8> {
    let mut out = vec![VERSION, ACK, verdicts.len() as u8];
    for v in verdicts {
        match v {
            Ok(_) => out.push(0),
            Err(reason) => {
                let reason = truncate(reason, 255);
                out.push(1);
                out.push(reason.len() as u8);
                out.extend_from_slice(reason.as_bytes());
            }
        }
    }
    out
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub(crate) enum Message {
    Intents(Vec<Vec<u8>>),
    Acknowledgement(Acknowledgement),
    Ready,
    Done,
}

impl Message {
    fn name(&self) -> &'static str {
        match self {
            Message::Intents(_) => "intents",
            Message::Acknowledgement(_) => "an acknowledgement",
            Message::Ready => "ready",
            Message::Done => "done",
        }
    }
}

pub(crate) fn parse(body: &[u8]) -> Result<Message, HandoverError> {
    let short = || protocol("a message cut short");
    let (version, kind, mut rest) = match body {
        [v, k, rest @ ..] => (*v, *k, rest),
        _ => return Err(short()),
    };
    if version != VERSION {
        return Err(protocol(&format!("handover version {version}")));
    }
    let mut take = |n: usize| -> Result<&[u8], HandoverError> {
        let (head, tail) = rest.split_at_checked(n).ok_or_else(short)?;
        rest = tail;
        Ok(head)
    };
    let message = match kind {
        READY => Message::Ready,
        DONE => Message::Done,
        INTENTS => {
            let count = usize::from(take(1)?[0]);
            if count == 0 || count > MAX_INTENTS {
                return Err(protocol(&format!("{count} intents")));
            }
            let mut list = Vec::with_capacity(count);
            for _ in 0..count {
                let len = take(2)?;
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                list.push(take(len)?.to_vec());
            }
            Message::Intents(list)
        }
        ACK => {
            let count = usize::from(take(1)?[0]);
            let mut entries = Vec::with_capacity(count);
            for index in 0..count {
                let refused = match take(1)?[0] {
                    0 => None,
                    1 => {
                        let len = usize::from(take(1)?[0]);
                        let reason = std::str::from_utf8(take(len)?)
                            .map_err(|_| protocol("an acknowledgement reason that is not UTF-8"))?;
                        Some(reason.to_owned())
                    }
                    other => return Err(protocol(&format!("acknowledgement status {other}"))),
                };
                entries.push(Answer { index, refused });
            }
            Message::Acknowledgement(Acknowledgement { entries })
        }
        other => return Err(protocol(&format!("message kind {other}"))),
    };
    if !rest.is_empty() {
        return Err(protocol("trailing bytes"));
    }
    Ok(message)
}

/// A link that carries whole messages both ways, in order.
pub trait Link {
    /// Sends one whole message.
    fn send(&mut self, message: Vec<u8>) -> impl Future<Output = Result<(), HandoverError>> + Send;
    /// The next whole message from the other side, waiting for it.
    fn recv(&mut self) -> impl Future<Output = Result<Vec<u8>, HandoverError>> + Send;
}

/// Shows the session's code through `show` once, as soon as there is one.
fn show_code(handover: &Handover, shown: &mut bool, show: &mut impl FnMut(&str)) {
    if let (false, Some(code)) = (*shown, handover.verification_code()) {
        show(code);
        *shown = true;
    }
}

/// Runs the initiator's side over a request/response link (an NFC
/// reader): `exchange` sends a message and returns the answer to it.
/// `show` gets the session's code as soon as it exists; `confirm` asks the
/// person whether the other screen shows it (a payer that scanned nothing).
pub fn run_exchanges(
    mut exchange: impl FnMut(&[u8]) -> Result<Vec<u8>, HandoverError>,
    mut handover: Handover,
    mut show: impl FnMut(&str),
    mut confirm: impl FnMut(&str) -> bool,
) -> Result<Outcome, HandoverError> {
    let mut out = handover
        .first()?
        .ok_or_else(|| protocol("only the initiator can drive a request/response link"))?;
    let mut shown = false;
    loop {
        let answer = exchange(&out)?;
        let mut step = handover.on_message(&answer)?;
        show_code(&handover, &mut shown, &mut show);
        if let Step::Confirm(code) = &step {
            step = handover.confirm(confirm(code))?;
        }
        match step {
            Step::Send(next) => out = next,
            Step::Finish(None, outcome) => return Ok(outcome),
            Step::Finish(Some(_), _) => return Err(protocol("the initiator spoke last")),
            Step::Confirm(_) => return Err(protocol("a confirmation asked twice")),
        }
    }
}

/// Runs `handover` over `link` to the end; `show` and `confirm` as for
/// [`run_exchanges`], `confirm`'s future waiting for the person's answer.
pub async fn run<L: Link, F: Future<Output = bool>>(
    link: &mut L,
    mut handover: Handover,
    mut show: impl FnMut(&str),
    mut confirm: impl FnMut(String) -> F,
) -> Result<Outcome, HandoverError> {
    if let Some(first) = handover.first()? {
        link.send(first).await?;
    }
    let mut shown = false;
    loop {
        let message = link.recv().await?;
        let mut step = handover.on_message(&message)?;
        show_code(&handover, &mut shown, &mut show);
        if let Step::Confirm(code) = step {
            let same = confirm(code).await;
            step = handover.confirm(same)?;
        }
        match step {
            Step::Send(reply) => link.send(reply).await?,
            Step::Finish(reply, outcome) => {
                if let Some(reply) = reply {
                    link.send(reply).await?;
                }
                return Ok(outcome);
            }
            Step::Confirm(_) => return Err(protocol("a confirmation asked twice")),
        }
    }
}

#[cfg(test)]
mod tests;
