//! Handing intents over, face to face, on any link that carries whole
//! messages (BLE's channel, NFC's APDU exchange): a Noise XX session, then
//! the payer's signed intents one way and the payee's acknowledgement the other
//! (docs/handover.md).
//!
//! Sans-IO: a [`Handover`] takes each message that arrives and says what
//! to answer, so the same code runs under an async link ([`run`]) and
//! inside an NFC card's synchronous applet. The two sides take turns, the
//! initiator first, six messages in all:
//!
//! ```text
//! initiator  hs1 ──▶                 (Noise XX: e)
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
/// What both sides bind the session to (Noise prologue): this protocol.
const PROLOGUE_REFERENCE: [u8; 32] = *b"TOSS face-to-face handover v1\0\0\0";

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
    Handshake(Box<Handshake>),
    Session(Box<Session>),
    Finished,
}

/// One side of a handover.
pub struct Handover {
    role: Role,
    side: Side,
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
    /// Send this (if any) and stop: the handover is complete.
    Finish(Option<Vec<u8>>, Outcome),
}

impl Handover {
    /// The payer's side, handing over `intents` (wire bytes, as signed).
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
    /// acknowledgement reports.
    pub fn payee(
        role: Role,
        noise: &StaticKey,
        accept: impl FnMut(&[Vec<u8>]) -> Vec<Verdict> + Send + 'static,
    ) -> Result<Self, HandoverError> {
        Self::new(role, noise, Side::Payee(Box::new(accept)))
    }

    fn new(role: Role, noise: &StaticKey, side: Side) -> Result<Self, HandoverError> {
        let hs = Handshake::xx(
            noise,
            &prologue(&PROLOGUE_REFERENCE),
            role == Role::Initiator,
            None,
        )?;
        Ok(Handover {
            role,
            side,
            stage: Stage::Handshake(Box::new(hs)),
            read: 0,
            verdicts: Vec::new(),
        })
    }

    /// The code both screens can show, once the handshake is done.
    pub fn verification_code(&self) -> Option<&str> {
        match &self.stage {
            Stage::Session(s) => Some(s.verification_code()),
            _ => None,
        }
    }

    /// The initiator's first message (`None` for the responder).
    pub fn first(&mut self) -> Result<Option<Vec<u8>>, HandoverError> {
        match (&mut self.stage, self.role) {
            (Stage::Handshake(hs), Role::Initiator) if self.read == 0 => Ok(Some(hs.write(&[])?)),
            _ => Ok(None),
        }
    }

    /// Takes the other side's next message.
    pub fn on_message(&mut self, message: &[u8]) -> Result<Step, HandoverError> {
        self.read += 1;
        let stage = std::mem::replace(&mut self.stage, Stage::Finished);
        match (stage, self.role, self.read) {
            // Responder reads hs1, answers hs2.
            (Stage::Handshake(mut hs), Role::Responder, 1) => {
                hs.read(message)?;
                let reply = hs.write(&[])?;
                self.stage = Stage::Handshake(hs);
                Ok(Step::Send(reply))
            }
            // Initiator reads hs2, answers hs3: the session starts.
            (Stage::Handshake(mut hs), Role::Initiator, 1) => {
                hs.read(message)?;
                let reply = hs.write(&[])?;
                self.stage = Stage::Session(Box::new(hs.finish()?));
                Ok(Step::Send(reply))
            }
            // Responder reads hs3 and makes the first application move.
            (Stage::Handshake(mut hs), Role::Responder, 2) => {
                hs.read(message)?;
                let mut session = Box::new(hs.finish()?);
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
                if let Step::Send(_) = step {
                    self.stage = Stage::Session(session);
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
        match (role, n, &mut self.side, parse(body)?) {
            // Initiator, fourth message: the responder's first move.
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

/// Runs the initiator's side over a request/response link (an NFC
/// reader): `exchange` sends a message and returns the answer to it.
pub fn run_exchanges(
    mut exchange: impl FnMut(&[u8]) -> Result<Vec<u8>, HandoverError>,
    mut handover: Handover,
) -> Result<Outcome, HandoverError> {
    let mut out = handover
        .first()?
        .ok_or_else(|| protocol("only the initiator can drive a request/response link"))?;
    loop {
        let answer = exchange(&out)?;
        match handover.on_message(&answer)? {
            Step::Send(next) => out = next,
            Step::Finish(None, outcome) => return Ok(outcome),
            Step::Finish(Some(_), _) => return Err(protocol("the initiator spoke last")),
        }
    }
}

/// Runs `handover` over `link` to the end.
pub async fn run<L: Link>(link: &mut L, mut handover: Handover) -> Result<Outcome, HandoverError> {
    if let Some(first) = handover.first()? {
        link.send(first).await?;
    }
    loop {
        let message = link.recv().await?;
        match handover.on_message(&message)? {
            Step::Send(reply) => link.send(reply).await?,
            Step::Finish(reply, outcome) => {
                if let Some(reply) = reply {
                    link.send(reply).await?;
                }
                return Ok(outcome);
            }
        }
    }
}

#[cfg(test)]
mod tests;
