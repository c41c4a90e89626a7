//! Animated QR: payloads too large for one code cross as a sequence of
//! Blockchain Commons UR parts (`ur:toss-payment/<seq>-<count>/<bytewords>`),
//! fountain-coded, so a receiver completes the message from enough parts in
//! any order, whichever frames its camera missed.
//!
//! A payload that fits one code is shown as that one code, its raw bytes in
//! byte mode ([`super::qr`]); the receiver tells the two apart because a UR
//! part is text starting with `ur:`. The UR message is the CBOR byte string
//! of the payload (docs/qr.md). Parts are shown upper-case, which puts them
//! in the QR alphanumeric mode (denser than bytes).
//!
//! The receiver keeps at most [`MAX_PARTS`] fragments of at most one
//! message: a hostile code cannot make it hold more.

/// The UR type of a TOSS payload (a payment, a receipt).
pub const UR_TYPE: &str = "toss-payment";
/// Fragments a message may be split into.
pub const MAX_PARTS: usize = 1_000;
/// Characters in one part: at most what a version-40 code holds in
/// alphanumeric mode at the error correction TOSS uses (M).
const MAX_PART_CHARS: usize = 3_391;

/// Why a payload cannot be sent as, or a code read into, an animated QR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnimatedError {
    /// The payload to send is empty.
    #[error("nothing to send")]
    Empty,
    /// The fragment size asked for is outside 10..=1,500 bytes.
    #[error("fragment size must be between 10 and 1,500 bytes, not {0}")]
    FragmentSize(usize),
    /// A UR part of another type, or one the UR decoder refuses; carries the detail.
    #[error("this code is not part of a TOSS payment ({0})")]
    NotOurs(String),
    /// A part of a different message than the one being assembled.
    #[error("this part belongs to another animated code than the one being read; start again")]
    OtherMessage,
    /// A part claims more than [`MAX_PARTS`] fragments; carries the claim.
    #[error("the animated code claims {0} parts, over the {MAX_PARTS} accepted")]
    TooManyParts(usize),
    /// The assembled message is not a well-formed CBOR byte string.
    #[error("the payload inside the code is malformed")]
    BadPayload,
    /// Several codes were given together and one of them is a code of its
    /// own, not a part of an animated code.
    #[error(
        "{0} codes were given, not all parts of one animated code: give one code, or the frames of one"
    )]
    NotOneCode(usize),
    /// Every code given was read and the animated code is still missing parts.
    #[error(
        "the animated code is incomplete: {resolved} of its {total} parts recovered; add more of its frames"
    )]
    Incomplete {
        /// Fragments recovered.
        resolved: usize,
        /// Fragments in the whole message.
        total: usize,
    },
}

/// Whether `code` is a UR part (text starting with `ur:`, any case).
fn is_part(code: &[u8]) -> bool {
    code.get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"ur:"))
}

/// The payload of `codes` read together, as from image files: one code
/// (raw bytes, or a single-part UR), or frames of one animated code in any
/// order, extra frames past completion ignored.
pub fn assemble(codes: &[Vec<u8>]) -> Result<Vec<u8>, AnimatedError> {
    if codes.len() > 1 && !codes.iter().all(|c| is_part(c)) {
        return Err(AnimatedError::NotOneCode(codes.len()));
    }
    let mut receiver = Receiver::default();
    let mut missing = None;
    for code in codes {
        match receiver.receive(code)? {
            Received::Complete { payload } => return Ok(payload),
            Received::Partial {
                resolved, total, ..
            } => missing = Some(AnimatedError::Incomplete { resolved, total }),
        }
    }
    Err(missing.unwrap_or(AnimatedError::Empty))
}

/// The UR message: the payload as a CBOR byte string.
fn wrap(payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut out = match n {
        0..=23 => vec![0x40 | n as u8],
        24..=0xff => vec![0x58, n as u8],
        0x100..=0xffff => vec![0x59, (n >> 8) as u8, n as u8],
        _ => {
            let mut h = vec![0x5a];
            h.extend((n as u32).to_be_bytes());
            h
        }
    };
    out.extend_from_slice(payload);
    out
}

fn unwrap(message: &[u8]) -> Result<Vec<u8>, AnimatedError> {
    let (&head, rest) = message.split_first().ok_or(AnimatedError::BadPayload)?;
    let (len, body) = match head {
        0x40..=0x57 => (usize::from(head - 0x40), rest),
        0x58 => (
            usize::from(*rest.first().ok_or(AnimatedError::BadPayload)?),
            &rest[1..],
        ),
        0x59 if rest.len() >= 2 => (
            usize::from(u16::from_be_bytes([rest[0], rest[1]])),
            &rest[2..],
        ),
        0x5a if rest.len() >= 4 => (
            u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize,
            &rest[4..],
        ),
        _ => return Err(AnimatedError::BadPayload),
    };
    if body.len() != len {
        return Err(AnimatedError::BadPayload);
    }
    Ok(body.to_vec())
}

/// Produces the frames of one payload, endlessly (a fountain: after the
/// first pass each frame mixes several fragments).
pub struct Sender {
    encoder: ur::Encoder<'static>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("parts", &self.encoder.fragment_count())
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// `fragment` bytes of message per frame (smaller: sparser codes that
    /// scan from further away; larger: fewer frames).
    pub fn new(payload: &[u8], fragment: usize) -> Result<Self, AnimatedError> {
        if payload.is_empty() {
            return Err(AnimatedError::Empty);
        }
        if !(10..=1_500).contains(&fragment) {
            return Err(AnimatedError::FragmentSize(fragment));
        }
        let encoder = ur::Encoder::new(&wrap(payload), fragment, UR_TYPE)
            .map_err(|e| AnimatedError::NotOurs(e.to_string()))?;
        Ok(Self { encoder })
    }

    /// Fragments in one pass.
    pub fn parts(&self) -> usize {
        self.encoder.fragment_count()
    }

    /// The next frame's content (upper-case UR text).
    pub fn next_frame(&mut self) -> Result<String, AnimatedError> {
        self.encoder
            .next_part()
            .map(|p| p.to_ascii_uppercase())
            .map_err(|e| AnimatedError::NotOurs(e.to_string()))
    }
}

/// What the receiver has so far.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Received {
    /// Parts read, fragments resolved, fragments in the message.
    Partial {
        /// Parts read so far, repeats included.
        seen: usize,
        /// Fragments of the message recovered so far.
        resolved: usize,
        /// Fragments in the whole message.
        total: usize,
    },
    /// The whole payload is in.
    Complete {
        /// The payload bytes, as the sender gave them.
        payload: Vec<u8>,
    },
}

/// Collects frames until the payload is complete.
#[derive(Default)]
pub struct Receiver {
    decoder: ur::Decoder,
    seen: usize,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Takes one decoded QR code: raw bytes of a single-code payload, or a
    /// UR part. A bad part is refused without losing the parts before it.
    pub fn receive(&mut self, code: &[u8]) -> Result<Received, AnimatedError> {
        let text = match std::str::from_utf8(code) {
            Ok(t) if is_part(code) => t.to_ascii_lowercase(),
            _ => {
                return Ok(Received::Complete {
                    payload: code.to_vec(),
                });
            }
        };
        if text.len() > MAX_PART_CHARS {
            return Err(AnimatedError::NotOurs(
                "a part longer than a QR code holds".into(),
            ));
        }
        let mut fields = text.splitn(3, '/');
        let kind = fields.next().unwrap_or_default();
        // A Keystone request to sign (`crate::airgap`) is assembled too, and
        // handed on as one single-part UR, which names its type.
        let keystone = kind == format!("ur:{}", crate::airgap::SIGN_REQUEST);
        if kind != format!("ur:{UR_TYPE}") && !keystone {
            return Err(AnimatedError::NotOurs(format!("type {:?}", &kind[3..])));
        }
        let indices = fields.next().unwrap_or_default();
        let body = fields.next();
        // A single-part UR: "ur:toss-payment/<bytewords>".
        if body.is_none() {
            let (_, message) =
                ur::decode(&text).map_err(|e| AnimatedError::NotOurs(e.to_string()))?;
            return Ok(Received::Complete {
                payload: match keystone {
                    true => text.into_bytes(),
                    false => unwrap(&message)?,
                },
            });
        }
        let count = indices
            .split_once('-')
            .and_then(|(_, n)| n.parse::<usize>().ok())
            .ok_or_else(|| AnimatedError::NotOurs("no part numbers".into()))?;
        if count > MAX_PARTS {
            return Err(AnimatedError::TooManyParts(count));
        }
        self.decoder.receive(&text).map_err(|e| match e {
            ur::ur::Error::Fountain(_) => AnimatedError::OtherMessage,
            other => AnimatedError::NotOurs(other.to_string()),
        })?;
        self.seen += 1;
        match self.decoder.message() {
            Ok(Some(message)) if keystone => Ok(Received::Complete {
                payload: ur::ur::encode(&message, &ur::Type::Custom(crate::airgap::SIGN_REQUEST))
                    .into_bytes(),
            }),
            Ok(Some(message)) => Ok(Received::Complete {
                payload: unwrap(&message)?,
            }),
            Ok(None) => Ok(Received::Partial {
                seen: self.seen,
                resolved: self.decoder.resolved_fragment_count().unwrap_or(0),
                total: self.decoder.fragment_count(),
            }),
            Err(_) => Err(AnimatedError::BadPayload),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::qr;

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 256) as u8).collect()
    }

    #[test]
    fn a_payload_crosses_through_real_qr_codes_with_a_third_of_the_frames_lost() {
        let data = payload(2_048);
        let mut sender = Sender::new(&data, 200).unwrap();
        assert_eq!(sender.parts(), 11);
        let mut receiver = Receiver::default();
        let mut shown = 0;
        let payload = loop {
            let frame = sender.next_frame().unwrap();
            shown += 1;
            assert!(shown < 60, "never completed");
            if shown % 3 == 0 {
                continue; // the camera missed this one
            }
            let image = qr::bitmap(frame.as_bytes(), 2).unwrap();
            let code = qr::decode(&image).unwrap();
            match receiver.receive(&code).unwrap() {
                Received::Complete { payload } => break payload,
                Received::Partial { seen, total, .. } => assert_eq!(total, 11, "{seen}"),
            }
        };
        assert_eq!(payload, data);
        assert!(shown <= 20, "{shown} frames: 4 s at 5 fps");
    }

    #[test]
    fn a_single_code_payload_passes_straight_through() {
        let mut r = Receiver::default();
        assert_eq!(
            r.receive(&[0xff, 0x54, 0x4f]).unwrap(),
            Received::Complete {
                payload: vec![0xff, 0x54, 0x4f]
            }
        );
        let single = ur::encode(&wrap(b"hello"), &ur::Type::Custom(UR_TYPE)).to_ascii_uppercase();
        assert_eq!(
            r.receive(single.as_bytes()).unwrap(),
            Received::Complete {
                payload: b"hello".to_vec()
            }
        );
    }

    #[test]
    fn foreign_broken_and_mixed_parts_are_refused_without_losing_progress() {
        let data = payload(1_000);
        let mut a = Sender::new(&data, 100).unwrap();
        let mut b = Sender::new(&payload(900), 100).unwrap();
        let mut r = Receiver::default();
        assert!(matches!(
            r.receive(a.next_frame().unwrap().as_bytes()),
            Ok(Received::Partial { seen: 1, .. })
        ));
        assert_eq!(
            r.receive(b.next_frame().unwrap().as_bytes()),
            Err(AnimatedError::OtherMessage)
        );
        assert!(matches!(
            r.receive(b"UR:CRYPTO-PSBT/1-2/LPADAOCS"),
            Err(AnimatedError::NotOurs(_))
        ));
        assert!(matches!(
            r.receive(b"ur:toss-payment/1-5000/lpad"),
            Err(AnimatedError::TooManyParts(5000))
        ));
        let mut broken = a.next_frame().unwrap();
        broken.truncate(broken.len() - 4);
        assert!(r.receive(broken.as_bytes()).is_err());
        // Still going: the rest completes the first message.
        let got = loop {
            if let Received::Complete { payload } =
                r.receive(a.next_frame().unwrap().as_bytes()).unwrap()
            {
                break payload;
            }
        };
        assert_eq!(got, data);
        assert_eq!(Sender::new(&[], 100).unwrap_err(), AnimatedError::Empty);
        assert_eq!(
            Sender::new(&data, 5).unwrap_err(),
            AnimatedError::FragmentSize(5)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
        ))]

        /// Whatever a camera reads, the receiver answers without panicking.
        #[test]
        fn the_receiver_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            part in "(ur|UR):(toss-payment|x)/[0-9]{0,4}-?[0-9]{0,5}/[a-z]{0,80}",
        ) {
            let mut r = Receiver::default();
            let _ = r.receive(&bytes);
            let _ = r.receive(part.as_bytes());
            let _ = unwrap(&bytes);
        }
    }

    #[test]
    fn images_of_one_code_or_of_one_animated_codes_frames_assemble() {
        let data = payload(1_000);
        let mut s = Sender::new(&data, 100).unwrap();
        let frames: Vec<Vec<u8>> = (0..s.parts() + 2)
            .map(|_| s.next_frame().unwrap().into_bytes())
            .collect();
        // Any order; frames past completion are ignored.
        let mut shuffled = frames.clone();
        shuffled.reverse();
        assert_eq!(assemble(&shuffled).unwrap(), data);
        // Too few: how many are missing.
        assert_eq!(
            assemble(&frames[..3]),
            Err(AnimatedError::Incomplete {
                resolved: 3,
                total: s.parts()
            })
        );
        // One plain code, or one single-part UR, is its payload.
        assert_eq!(assemble(&[vec![1, 2, 3]]).unwrap(), [1, 2, 3]);
        let single = ur::encode(&wrap(b"hi"), &ur::Type::Custom(UR_TYPE)).to_ascii_uppercase();
        assert_eq!(assemble(&[single.into_bytes()]).unwrap(), b"hi");
        // A plain code among parts, and nothing at all, are refused.
        let mixed = vec![frames[0].clone(), vec![1, 2, 3]];
        assert_eq!(assemble(&mixed), Err(AnimatedError::NotOneCode(2)));
        assert_eq!(assemble(&[]), Err(AnimatedError::Empty));
    }

    #[test]
    fn docs_qr_states_the_limits_the_code_enforces() {
        let docs = include_str!("../../../docs/qr.md");
        assert!(docs.contains("**Fragment size** 10 to 1,500 bytes"));
        assert_eq!(Sender::new(b"x", 1_500).map(|_| ()), Ok(()));
        assert_eq!(
            Sender::new(b"x", 1_501).unwrap_err(),
            AnimatedError::FragmentSize(1_501)
        );
        assert_eq!(MAX_PART_CHARS, 3_391);
        assert!(docs.contains("A part longer than 3,391 characters"));
        assert!(docs.contains("`MAX_PARTS` = 1,000"));
        assert_eq!(MAX_PARTS, 1_000);
        // The largest fragment's part fits one code at the level drawn.
        let part = Sender::new(&payload(4_000), 1_500)
            .unwrap()
            .next_frame()
            .unwrap();
        assert!(part.len() <= MAX_PART_CHARS, "{}", part.len());
        assert!(qr::bitmap(part.as_bytes(), 1).is_ok());
    }

    #[test]
    fn the_cbor_wrapper_round_trips_every_length_class() {
        for n in [0, 23, 24, 255, 256, 65_535, 65_536] {
            let p = payload(n);
            assert_eq!(unwrap(&wrap(&p)).unwrap(), p, "{n}");
        }
        assert_eq!(unwrap(&[0x58, 5, 1]), Err(AnimatedError::BadPayload));
        assert_eq!(unwrap(&[0x01]), Err(AnimatedError::BadPayload));
    }
}
