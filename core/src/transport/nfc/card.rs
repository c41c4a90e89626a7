//! The card side of the TOSS APDU protocol: what a phone's host card
//! emulation service runs, written once here as the reference (docs/nfc.md)
//! and used by the tests as the phone on the virtual reader.

use super::{AID, CLA, CLA_CHAINING, INS_EXCHANGE, INS_GET_RESPONSE, INS_SELECT, MAX_MESSAGE};
use super::{SELECT_ANSWER, sw};

/// Most data bytes in one answer (short APDU, Le = 00).
const MAX_ANSWER: usize = 256;

/// The TOSS application on a card: turns command APDUs into answers,
/// handing each whole message to `handler` and sending back its answer
/// (`None`: the app failed, `6F00`).
pub struct Applet<H> {
    handler: H,
    selected: bool,
    incoming: Vec<u8>,
    outgoing: Vec<u8>,
}

impl<H> std::fmt::Debug for Applet<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applet")
            .field("selected", &self.selected)
            .field("incoming", &self.incoming.len())
            .field("outgoing", &self.outgoing.len())
            .finish_non_exhaustive()
    }
}

impl<H: FnMut(Vec<u8>) -> Option<Vec<u8>>> Applet<H> {
    /// An applet that is not yet selected, handing each whole message to `handler`.
    pub fn new(handler: H) -> Self {
        Applet {
            handler,
            selected: false,
            incoming: Vec::new(),
            outgoing: Vec::new(),
        }
    }

    /// The card lost power or was reset: nothing carries over.
    pub fn reset(&mut self) {
        self.selected = false;
        self.incoming.clear();
        self.outgoing.clear();
    }

    /// The answer (data and status word) to one command APDU.
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some((cla, ins, p1, data, le)) = parse(apdu) else {
            return status(sw::WRONG_LENGTH);
        };
        match (cla, ins) {
            (0x00, INS_SELECT) if p1 == 0x04 => {
                self.reset();
                if data != AID {
                    return status(sw::NOT_FOUND);
                }
                self.selected = true;
                answer(&SELECT_ANSWER, sw::OK)
            }
            _ if !self.selected => status(sw::NOT_SELECTED),
            (0x00, INS_GET_RESPONSE) => self.next_chunk(le),
            (c, INS_EXCHANGE) if c & !CLA_CHAINING == CLA => {
                self.outgoing.clear();
                if self.incoming.len() + data.len() > MAX_MESSAGE {
                    self.incoming.clear();
                    return status(sw::BAD_DATA);
                }
                self.incoming.extend_from_slice(data);
                if c & CLA_CHAINING != 0 {
                    return status(sw::OK);
                }
                let message = std::mem::take(&mut self.incoming);
                match (self.handler)(message) {
                    Some(out) if out.len() <= MAX_MESSAGE => {
                        self.outgoing = out;
                        self.next_chunk(le)
                    }
                    _ => status(sw::CARD_ERROR),
                }
            }
            (0x00 | CLA, _) => status(sw::UNKNOWN_INS),
            _ => status(sw::UNKNOWN_CLA),
        }
    }

    fn next_chunk(&mut self, le: usize) -> Vec<u8> {
        let take = le.min(self.outgoing.len());
        let chunk: Vec<u8> = self.outgoing.drain(..take).collect();
        match self.outgoing.len() {
            0 => answer(&chunk, sw::OK),
            n => answer(&chunk, u16::from_be_bytes([sw::MORE, n.min(255) as u8])),
        }
    }
}

/// CLA, INS, P1, the data and Le (00 meaning 256) of a short APDU;
/// `None` when the lengths do not add up (extended APDUs included).
fn parse(apdu: &[u8]) -> Option<(u8, u8, u8, &[u8], usize)> {
    let (header, body) = apdu.split_at_checked(4)?;
    let le = |b: u8| if b == 0 { MAX_ANSWER } else { usize::from(b) };
    let (data, le) = match body {
        [] => (&[][..], MAX_ANSWER),
        [l] => (&[][..], le(*l)),
        [0, ..] => return None,
        [lc, rest @ ..] => {
            let lc = usize::from(*lc);
            match rest.len().checked_sub(lc)? {
                0 => (&rest[..lc], MAX_ANSWER),
                1 => (&rest[..lc], le(rest[lc])),
                _ => return None,
            }
        }
    };
    Some((header[0], header[1], header[2], data, le))
}

fn status(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

fn answer(data: &[u8], sw: u16) -> Vec<u8> {
    let mut out = data.to_vec();
    out.extend_from_slice(&sw.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo() -> Applet<impl FnMut(Vec<u8>) -> Option<Vec<u8>>> {
        Applet::new(|m: Vec<u8>| Some(m.into_iter().rev().collect()))
    }

    fn select() -> Vec<u8> {
        let mut apdu = vec![0x00, 0xA4, 0x04, 0x00, 6];
        apdu.extend_from_slice(&AID);
        apdu.push(0);
        apdu
    }

    #[test]
    fn messages_are_chained_in_and_fetched_out_in_short_apdus() {
        let mut card = echo();
        assert_eq!(card.process(&select()), answer(&SELECT_ANSWER, sw::OK));
        let message: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
        let mut reply = Vec::new();
        let blocks: Vec<&[u8]> = message.chunks(255).collect();
        for (i, block) in blocks.iter().enumerate() {
            let cla = if i + 1 == blocks.len() { 0x80 } else { 0x90 };
            let mut apdu = vec![cla, 0x10, 0, 0, block.len() as u8];
            apdu.extend_from_slice(block);
            if cla == 0x80 {
                apdu.push(0);
            }
            reply = card.process(&apdu);
            if cla == 0x90 {
                assert_eq!(reply, status(sw::OK));
            }
        }
        let mut got = Vec::new();
        loop {
            let (data, s) = reply.split_at(reply.len() - 2);
            got.extend_from_slice(data);
            match (s[0], s[1]) {
                (0x90, 0x00) => break,
                (0x61, n) => reply = card.process(&[0x00, 0xC0, 0, 0, n]),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, message.iter().rev().copied().collect::<Vec<_>>());
        // An empty poll gets the handler's answer to an empty message.
        assert_eq!(card.process(&[0x80, 0x10, 0, 0, 0]), status(sw::OK));
    }

    #[test]
    fn wrong_aid_instruction_class_length_and_order_get_their_status_words() {
        let mut card = echo();
        assert_eq!(
            card.process(&[0x80, 0x10, 0, 0, 1, 7, 0]),
            status(sw::NOT_SELECTED)
        );
        let mut other = select();
        other[5] = 0xA0;
        assert_eq!(card.process(&other), status(sw::NOT_FOUND));
        card.process(&select());
        assert_eq!(card.process(&[0x80, 0x55, 0, 0]), status(sw::UNKNOWN_INS));
        assert_eq!(card.process(&[0x84, 0x10, 0, 0]), status(sw::UNKNOWN_CLA));
        assert_eq!(card.process(&[0x80, 0x10]), status(sw::WRONG_LENGTH));
        assert_eq!(
            card.process(&[0x80, 0x10, 0, 0, 5, 1, 2]),
            status(sw::WRONG_LENGTH)
        );
        assert_eq!(
            card.process(&[0x80, 0x10, 0, 0, 0, 0, 9]),
            status(sw::WRONG_LENGTH)
        );
        // Past the message limit: refused, and the buffer starts over.
        let block = [0x90, 0x10, 0, 0, 255]
            .into_iter()
            .chain([0u8; 255])
            .collect::<Vec<_>>();
        let mut last = Vec::new();
        for _ in 0..=(MAX_MESSAGE / 255) {
            last = card.process(&block);
        }
        assert_eq!(last, status(sw::BAD_DATA));
        assert_eq!(
            card.process(&[0x80, 0x10, 0, 0, 1, 7, 0]),
            answer(&[7], sw::OK)
        );
        // A failing app: 6F00. Losing power: selection gone.
        let mut failing = Applet::new(|_: Vec<u8>| None);
        failing.process(&select());
        assert_eq!(
            failing.process(&[0x80, 0x10, 0, 0, 0]),
            status(sw::CARD_ERROR)
        );
        failing.reset();
        assert_eq!(
            failing.process(&[0x80, 0x10, 0, 0, 0]),
            status(sw::NOT_SELECTED)
        );
    }
}
