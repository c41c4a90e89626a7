//! The TOSS link framing (docs/ble.md, "Framing"): messages of up to
//! [`Limits::max_message`] bytes cut into frames that fit one GATT write or
//! notification, with a CRC32 per frame and a hash of the whole message,
//! windowed acknowledgements and retransmission of what went missing.
//!
//! Sans-IO: an [`Endpoint`] is fed the frames that arrive and the time, and
//! says which frames to put on the link; the async driver (`ble::Channel`)
//! and the tests (a link that drops, duplicates, reorders and corrupts) move
//! the bytes. A message either arrives whole, exactly once, in the order it
//! was sent, or its sender is told it failed; a damaged frame is dropped,
//! never delivered.
//!
//! ```text
//! DATA   0x10 | id u8 | index u16 BE | payload ...            | CRC32 BE
//! ACK    0x11 | id u8 | next u16 BE  | bitmap u32 BE           | CRC32 BE
//! ABORT  0x12 | id u8 | reason u8                              | CRC32 BE
//! CANCEL 0x13 | id u8                                         | CRC32 BE
//! message (what the DATA payloads carry, in index order):
//!        length u32 BE | count u16 BE | SHA-256(body)[..8] | body
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Version 1 in the high nibble of every frame's first byte.
const V1: u8 = 0x10;
const DATA: u8 = V1;
const ACK: u8 = V1 | 1;
const ABORT: u8 = V1 | 2;
const CANCEL: u8 = V1 | 3;
const HEADER: usize = 4;
const CRC: usize = 4;
/// Bytes every DATA frame spends on framing.
pub const OVERHEAD: usize = HEADER + CRC;
/// Bytes a message spends once: length, fragment count, hash.
pub const MESSAGE_HEADER: usize = 4 + 2 + 8;
/// The smallest frame: a 23-byte ATT MTU less its 3-byte header, what
/// every BLE link allows before negotiating.
pub const MIN_FRAME: usize = 20;
/// The largest frame accepted: a 517-byte ATT MTU less 3.
pub const MAX_FRAME: usize = 514;
/// Fragments in flight before the sender waits for an acknowledgement.
const WINDOW: u16 = 16;
/// The receiver acknowledges after this many new fragments of a message.
const ACK_EVERY: u16 = 8;
/// ... or this long after a fragment it has not acknowledged yet.
const ACK_DELAY: Duration = Duration::from_millis(60);
/// The sender resends what is unacknowledged after this long without
/// progress, and gives up after [`RETRIES`] such rounds in a row.
const RETRANSMIT_AFTER: Duration = Duration::from_millis(400);
const RETRIES: u32 = 8;
/// Message ids the receiver remembers as delivered, so a retransmission
/// of one whose last acknowledgement was lost is acknowledged, not
/// delivered twice. Less than half the id space: ids wrap at 256.
const REMEMBERED: usize = 64;

/// Why a message did not get through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The message is over the receiver's `max_message` limit.
    #[error("the message is larger than the other side accepts")]
    TooLarge,
    /// The receiver is already reassembling `max_parallel` messages.
    #[error("the other side is receiving too many messages at once")]
    Busy,
    /// Fragment numbers, length or hash do not agree with the message header.
    #[error("the message arrived damaged")]
    Corrupt,
    /// No progress within the reassembly timeout, or every retransmission round went unanswered.
    #[error("the other side stopped answering")]
    TimedOut,
    /// An abort with a reason code this version does not know.
    #[error("the other side refused the message for a reason this version does not know")]
    Refused,
}

impl Failure {
    fn code(self) -> u8 {
        match self {
            Failure::TooLarge => 1,
            Failure::Busy => 2,
            Failure::Corrupt => 3,
            Failure::TimedOut => 4,
            Failure::Refused => 0xFF,
        }
    }

    fn from_code(code: u8) -> Self {
        match code {
            1 => Failure::TooLarge,
            2 => Failure::Busy,
            3 => Failure::Corrupt,
            4 => Failure::TimedOut,
            _ => Failure::Refused,
        }
    }
}

/// Why an endpoint could not be made or a message queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frame size is outside `MIN_FRAME..=MAX_FRAME`; carries it.
    #[error("a frame of {0} bytes is outside {MIN_FRAME}..={MAX_FRAME}")]
    FrameSize(usize),
    /// A message over the limit (or needing more than 65,535 fragments).
    #[error("a message of {len} bytes is over the {max}-byte limit")]
    TooLarge {
        /// The message's length in bytes.
        len: usize,
        /// The `max_message` limit in bytes.
        max: usize,
    },
}

/// What a hostile or broken peer can make the receiver hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message body accepted (and sent).
    pub max_message: usize,
    /// Messages being reassembled at once; one more is refused as busy.
    pub max_parallel: usize,
    /// A message that makes no progress this long is dropped.
    pub reassembly_timeout: Duration,
}

impl Default for Limits {
    /// Room for the largest Noise message (65,535 bytes), two at a time.
    fn default() -> Self {
        Limits {
            max_message: 65_535,
            max_parallel: 2,
            reassembly_timeout: Duration::from_secs(10),
        }
    }
}

/// What an [`Endpoint`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole message from the other side, in sending order.
    Received(Vec<u8>),
    /// The other side acknowledged all of message `id`.
    Delivered(u8),
    /// Message `id` was refused, or never acknowledged in full; it has
    /// been dropped. (When only the final acknowledgement was lost, the
    /// other side has it: a Noise session over the link stays consistent
    /// either way, as the next message tells.)
    Failed {
        /// The id [`Endpoint::send`] returned for the message.
        id: u8,
        /// Why it failed.
        reason: Failure,
    },
}

/// One side of a link: sends its messages and reassembles the other's.
#[derive(Debug)]
pub struct Endpoint {
    payload: usize,
    limits: Limits,
    next_id: u8,
    queue: VecDeque<(u8, Vec<u8>)>,
    sending: Option<Sending>,
    partials: Vec<Partial>,
    delivered: VecDeque<u8>,
    control: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
}

#[derive(Debug)]
struct Sending {
    id: u8,
    frames: Vec<Vec<u8>>,
    acked: Vec<bool>,
    /// Fragments sent at least once: 0..sent.
    sent: u16,
    /// Fragments to send again, in order.
    resend: VecDeque<u16>,
    progress_at: Option<Instant>,
    rounds: u32,
}

#[derive(Debug)]
struct Partial {
    id: u8,
    fragments: Vec<Option<Vec<u8>>>,
    count: Option<u16>,
    bytes: usize,
    unacked: u16,
    touched: Instant,
    ack_due: Option<Instant>,
}

fn crc(bytes: &[u8]) -> [u8; 4] {
    crc32fast::hash(bytes).to_be_bytes()
}

/// `frame` with its checksum appended.
pub(crate) fn sealed(mut frame: Vec<u8>) -> Vec<u8> {
    let sum = crc(&frame);
    frame.extend_from_slice(&sum);
    frame
}

fn digest(body: &[u8]) -> [u8; 8] {
    let hash = Sha256::digest(body);
    let mut out = [0; 8];
    out.copy_from_slice(&hash[..8]);
    out
}

impl Endpoint {
    /// An endpoint whose DATA frames are at most `frame_size` bytes: the
    /// ATT MTU less 3 (what one write or notification carries).
    pub fn new(frame_size: usize, limits: Limits) -> Result<Self, FrameError> {
        if !(MIN_FRAME..=MAX_FRAME).contains(&frame_size) {
            return Err(FrameError::FrameSize(frame_size));
        }
        Ok(Endpoint {
            payload: frame_size - OVERHEAD,
            limits,
            next_id: 0,
            queue: VecDeque::new(),
            sending: None,
            partials: Vec::new(),
            delivered: VecDeque::new(),
            control: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// Queues `message`; messages go one after another, in order. The id
    /// comes back in [`Event::Delivered`] or [`Event::Failed`].
    pub fn send(&mut self, message: Vec<u8>) -> Result<u8, FrameError> {
        let fragments = (MESSAGE_HEADER + message.len()).div_ceil(self.payload);
        if message.len() > self.limits.max_message || fragments > usize::from(u16::MAX) {
            return Err(FrameError::TooLarge {
                len: message.len(),
                max: self.limits.max_message,
            });
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.queue.push_back((id, message));
        Ok(id)
    }

    /// The next thing that happened, if any.
    pub fn event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether nothing is waiting to be sent or acknowledged.
    pub fn idle(&self) -> bool {
        self.sending.is_none() && self.queue.is_empty() && self.control.is_empty()
    }

    /// Takes in a frame from the link. Frames that are damaged, of an
    /// unknown version or kind, or that contradict what came before are
    /// dropped; the sender's retransmission repairs what was lost.
    pub fn handle(&mut self, frame: &[u8], now: Instant) {
        if frame.len() < HEADER || frame.len() > MAX_FRAME {
            return;
        }
        let (body, sum) = frame.split_at(frame.len() - CRC);
        if crc(body) != sum {
            return;
        }
        match body {
            [DATA, id, i0, i1, payload @ ..] if !payload.is_empty() => {
                self.on_data(*id, u16::from_be_bytes([*i0, *i1]), payload, now)
            }
            [ACK, id, n0, n1, b0, b1, b2, b3] => self.on_ack(
                *id,
                u16::from_be_bytes([*n0, *n1]),
                u32::from_be_bytes([*b0, *b1, *b2, *b3]),
                now,
            ),
            [ABORT, id, reason] => self.on_abort(*id, Failure::from_code(*reason)),
            [CANCEL, id] => self.partials.retain(|p| p.id != *id),
            _ => {}
        }
    }

    /// The next frame to put on the link at `now`, if any: acknowledgements
    /// first, then retransmissions, then new fragments within the window.
    /// Also runs the timers, so call it whenever [`Endpoint::deadline`]
    /// passes.
    pub fn transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.expire(now);
        if let Some(frame) = self.control.pop_front() {
            return Some(frame);
        }
        if let Some(frame) = self.due_ack(now) {
            return Some(frame);
        }
        if self.sending.is_none() {
            let (id, message) = self.queue.pop_front()?;
            self.sending = Some(Sending::new(id, &message, self.payload));
        }
        let s = self.sending.as_mut()?;
        if let Some(i) = s.resend.pop_front() {
            return s.frames.get(usize::from(i)).cloned();
        }
        let base = s.acked.iter().position(|a| !a).unwrap_or(s.acked.len());
        let limit = (base + usize::from(WINDOW)).min(s.frames.len());
        if usize::from(s.sent) < limit {
            let frame = s.frames[usize::from(s.sent)].clone();
            s.sent += 1;
            s.progress_at.get_or_insert(now);
            return Some(frame);
        }
        None
    }

    /// When [`Endpoint::transmit`] should next be called even if no frame
    /// arrives: an acknowledgement falls due, a retransmission or a
    /// reassembly times out.
    pub fn deadline(&self) -> Option<Instant> {
        let sending = self
            .sending
            .as_ref()
            .and_then(|s| s.progress_at.map(|t| t + RETRANSMIT_AFTER));
        let partials = self.partials.iter().map(|p| {
            p.ack_due
                .unwrap_or(p.touched + self.limits.reassembly_timeout)
        });
        sending.into_iter().chain(partials).min()
    }

    fn on_data(&mut self, id: u8, index: u16, payload: &[u8], now: Instant) {
        if self.delivered.contains(&id) {
            // A retransmission: the last acknowledgement was lost.
            self.control.push_back(ack_frame(id, u16::MAX, 0));
            return;
        }
        // The most fragments a message within the limits can take, at the
        // smallest frame any peer may use.
        let max_fragments =
            (self.limits.max_message + MESSAGE_HEADER).div_ceil(MIN_FRAME - OVERHEAD);
        let at = match self.partials.iter().position(|p| p.id == id) {
            Some(at) => at,
            None if self.partials.len() >= self.limits.max_parallel => {
                self.control.push_back(abort_frame(id, Failure::Busy));
                return;
            }
            None => {
                self.partials.push(Partial {
                    id,
                    fragments: Vec::new(),
                    count: None,
                    bytes: 0,
                    unacked: 0,
                    touched: now,
                    ack_due: None,
                });
                self.partials.len() - 1
            }
        };
        let limits = self.limits;
        let p = &mut self.partials[at];
        let i = usize::from(index);
        if p.count.is_some_and(|c| index >= c) || i >= max_fragments {
            return self.fail_partial(at, Failure::Corrupt);
        }
        if p.fragments.get(i).is_some_and(Option::is_some) {
            // Seen already: the sender missed an acknowledgement.
            p.ack_due = Some(now);
            return;
        }
        if index == 0 {
            let Some(count) = message_count(payload, &limits) else {
                let reason = if payload.len() >= 4
                    && u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) as usize
                        > limits.max_message
                {
                    Failure::TooLarge
                } else {
                    Failure::Corrupt
                };
                return self.fail_partial(at, reason);
            };
            if p.fragments.len() > usize::from(count) {
                return self.fail_partial(at, Failure::Corrupt);
            }
            p.count = Some(count);
        }
        p.bytes += payload.len();
        if p.bytes > limits.max_message + MESSAGE_HEADER {
            return self.fail_partial(at, Failure::TooLarge);
        }
        if p.fragments.len() <= i {
            p.fragments.resize(i + 1, None);
        }
        p.fragments[i] = Some(payload.to_vec());
        p.touched = now;
        p.unacked += 1;
        let complete = p.count.is_some_and(|c| {
            p.fragments.len() == usize::from(c) && p.fragments.iter().all(Option::is_some)
        });
        if complete {
            return self.finish(at);
        }
        if p.unacked >= ACK_EVERY {
            p.ack_due = Some(now);
        } else {
            p.ack_due.get_or_insert(now + ACK_DELAY);
        }
    }

    /// A complete message: checked against its header, delivered once.
    fn finish(&mut self, at: usize) {
        let p = self.partials.remove(at);
        let joined: Vec<u8> = p.fragments.into_iter().flatten().flatten().collect();
        let (header, body) = joined.split_at(MESSAGE_HEADER.min(joined.len()));
        let intact = header.len() == MESSAGE_HEADER
            && u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize
                == body.len()
            && header[6..14] == digest(body);
        if !intact {
            self.control.push_back(abort_frame(p.id, Failure::Corrupt));
            return;
        }
        self.control.push_back(ack_frame(p.id, u16::MAX, 0));
        self.delivered.push_back(p.id);
        if self.delivered.len() > REMEMBERED {
            self.delivered.pop_front();
        }
        self.events.push_back(Event::Received(body.to_vec()));
    }

    fn fail_partial(&mut self, at: usize, reason: Failure) {
        let p = self.partials.remove(at);
        self.control.push_back(abort_frame(p.id, reason));
    }

    fn on_ack(&mut self, id: u8, next: u16, bitmap: u32, now: Instant) {
        let Some(s) = self.sending.as_mut().filter(|s| s.id == id) else {
            return;
        };
        let count = s.acked.len();
        let next = usize::from(next).min(count);
        if next > usize::from(s.sent) {
            return; // acknowledges what was never sent: not for this message
        }
        let mut progress = false;
        for a in &mut s.acked[..next] {
            progress |= !*a;
            *a = true;
        }
        let mut highest = None;
        for bit in 0..32 {
            let i = next + 1 + bit;
            if bitmap & (1 << bit) != 0 && i < usize::from(s.sent) {
                progress |= !s.acked[i];
                s.acked[i] = true;
                highest = Some(i);
            }
        }
        if s.acked.iter().all(|a| *a) {
            self.events.push_back(Event::Delivered(id));
            self.sending = None;
            return;
        }
        if progress {
            s.progress_at = Some(now);
            s.rounds = 0;
        }
        // A gap below an acknowledged fragment was lost: resend it now.
        // (A lost tail, with nothing acknowledged above it, waits for the
        // retransmission timer.)
        if let Some(highest) = highest {
            for i in next..highest {
                let i16 = i as u16;
                if !s.acked[i] && !s.resend.contains(&i16) {
                    s.resend.push_back(i16);
                }
            }
        }
    }

    fn on_abort(&mut self, id: u8, reason: Failure) {
        if self.sending.as_ref().is_some_and(|s| s.id == id) {
            self.sending = None;
            self.events.push_back(Event::Failed { id, reason });
        }
    }

    fn expire(&mut self, now: Instant) {
        let timeout = self.limits.reassembly_timeout;
        while let Some(at) = self
            .partials
            .iter()
            .position(|p| now >= p.touched + timeout)
        {
            self.fail_partial(at, Failure::TimedOut);
        }
        let Some(s) = self.sending.as_mut() else {
            return;
        };
        let Some(since) = s.progress_at else {
            return;
        };
        if now < since + RETRANSMIT_AFTER {
            return;
        }
        s.rounds += 1;
        if s.rounds > RETRIES {
            let id = s.id;
            self.sending = None;
            // The other side drops what it holds of it, rather than keep
            // it until its reassembly times out.
            self.control.push_back(sealed(vec![CANCEL, id]));
            self.events.push_back(Event::Failed {
                id,
                reason: Failure::TimedOut,
            });
            return;
        }
        s.progress_at = Some(now);
        s.resend = (0..s.sent).filter(|i| !s.acked[usize::from(*i)]).collect();
    }

    fn due_ack(&mut self, now: Instant) -> Option<Vec<u8>> {
        let p = self
            .partials
            .iter_mut()
            .find(|p| p.ack_due.is_some_and(|t| t <= now))?;
        p.ack_due = None;
        p.unacked = 0;
        let next = p
            .fragments
            .iter()
            .position(Option::is_none)
            .unwrap_or(p.fragments.len());
        let mut bitmap = 0u32;
        for bit in 0..32 {
            if p.fragments.get(next + 1 + bit).is_some_and(Option::is_some) {
                bitmap |= 1 << bit;
            }
        }
        Some(ack_frame(p.id, next as u16, bitmap))
    }
}

/// The fragment count fragment 0 announces, if its header is sound and
/// the message fits the limits.
fn message_count(payload: &[u8], limits: &Limits) -> Option<u16> {
    let header = payload.get(..6)?;
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let count = u16::from_be_bytes([header[4], header[5]]);
    (len <= limits.max_message && count >= 1).then_some(count)
}

impl Sending {
    fn new(id: u8, body: &[u8], payload: usize) -> Self {
        let total = MESSAGE_HEADER + body.len();
        let count = total.div_ceil(payload);
        let mut message = Vec::with_capacity(total);
        message.extend_from_slice(&(body.len() as u32).to_be_bytes());
        message.extend_from_slice(&(count as u16).to_be_bytes());
        message.extend_from_slice(&digest(body));
        message.extend_from_slice(body);
        let frames: Vec<Vec<u8>> = message
            .chunks(payload)
            .enumerate()
            .map(|(i, chunk)| {
                let mut f = Vec::with_capacity(chunk.len() + OVERHEAD);
                f.extend_from_slice(&[DATA, id]);
                f.extend_from_slice(&(i as u16).to_be_bytes());
                f.extend_from_slice(chunk);
                sealed(f)
            })
            .collect();
        Sending {
            id,
            acked: vec![false; frames.len()],
            frames,
            sent: 0,
            resend: VecDeque::new(),
            progress_at: None,
            rounds: 0,
        }
    }
}

fn ack_frame(id: u8, next: u16, bitmap: u32) -> Vec<u8> {
    let mut f = vec![ACK, id];
    f.extend_from_slice(&next.to_be_bytes());
    f.extend_from_slice(&bitmap.to_be_bytes());
    sealed(f)
}

fn abort_frame(id: u8, reason: Failure) -> Vec<u8> {
    sealed(vec![ABORT, id, reason.code()])
}

#[cfg(test)]
mod tests;
