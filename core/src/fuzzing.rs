//! One entry point per decoder that takes bytes from outside (a camera, a
//! radio, a card, a server, a file), for coverage-guided fuzzing (`fuzz/`,
//! cargo-fuzz over libFuzzer; docs/fuzzing.md) and for the corpus replay
//! that ordinary `cargo test` runs (`core/tests/corpus.rs`).
//!
//! Each target must return, for any input, without panicking. Where a
//! decoder has an encoder the target also asserts the round trip (what is
//! accepted encodes back to the same bytes, or to a value that decodes to
//! itself): a mismatch panics, which the fuzzer reports as a crash.
//!
//! [`TARGETS`] is the one table: the fuzz binaries, the corpus folders and
//! the replay test are all named from it.

use std::path::Path;

use zeroize::Zeroizing;

use crate::intent::{MemoryLedger, RiskLimits, SignedIntent, Verifier, durable};
use crate::noise::{Handshake, StaticKey};

/// A fuzz target: takes any bytes, panics only on a defect.
pub type Target = fn(&[u8]);

/// Every target by name: `fuzz/fuzz_targets/<name>.rs` runs it, and
/// `fuzz/corpus/<name>/` keeps its inputs.
pub const TARGETS: &[(&str, Target)] = &[
    ("intent", intent),
    #[cfg(feature = "ble")]
    ("ble", ble),
    #[cfg(feature = "nfc")]
    ("apdu_card", apdu_card),
    #[cfg(feature = "nfc")]
    ("apdu_reader", apdu_reader),
    ("ur", ur),
    ("solana_pay", solana_pay),
    ("handover", handover),
    ("noise", noise),
    ("sealed", sealed),
    ("instruction", instruction),
    ("settings", settings),
    ("keypair", keypair),
    ("transaction", transaction),
    ("qr_image", qr_image),
    ("sign_request", sign_request),
];

/// Splits `data` into chunks, each prefixed by its length byte (the last
/// one taking what is left): how a target reads a sequence of frames,
/// APDUs or answers out of one input.
fn chunks(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let (chunk, tail) = rest.split_at(usize::from(len).min(rest.len()));
        out.push(chunk);
        data = tail;
    }
    out
}

/// The intent and durable-payment wire formats, and the payee's whole
/// offline check.
pub fn intent(data: &[u8]) {
    if let Ok(signed) = SignedIntent::from_bytes(data) {
        assert_eq!(signed.to_bytes().ok().as_deref(), Some(data), "re-encoding");
    }
    if let Ok(body) = toss_program::intent::Intent::decode(data) {
        assert_eq!(body.encode().ok().as_deref(), Some(data), "re-encoding");
    }
    if let Ok((signed, Some(tx))) = durable::split(data) {
        assert_eq!(durable::to_bytes(&signed, &tx).ok().as_deref(), Some(data));
    }
    let payee = StaticKey::from_secret(Zeroizing::new([2; 32])).public();
    let verifier = Verifier {
        cluster: toss_program::intent::cluster::DEVNET,
        program_id: solana_program::pubkey::Pubkey::new_from_array([3; 32]),
        payee: solana_program::pubkey::Pubkey::new_from_array(payee),
        limits: RiskLimits::default(),
    };
    let _ = verifier.verify(data, None, 1_790_000_100, &MemoryLedger::default());
}

/// The BLE control value and the frame reassembler: each chunk is a frame
/// put on the link, its checksum made valid when its first byte is odd
/// (so the fuzzer reaches past the CRC) and the clock moved on by the
/// second byte's tens of milliseconds.
#[cfg(feature = "ble")]
pub fn ble(data: &[u8]) {
    use std::time::{Duration, Instant};

    use crate::transport::ble::frame::{Endpoint, Limits};
    let _ = crate::transport::ble::Control::parse(data);
    let Ok(mut endpoint) = Endpoint::new(64, Limits::default()) else {
        return;
    };
    let mut now = Instant::now();
    for chunk in chunks(data) {
        let frame = match chunk.split_first() {
            Some((first, rest)) if first % 2 == 1 => {
                crate::transport::ble::frame::sealed(rest.to_vec())
            }
            _ => chunk.to_vec(),
        };
        now += Duration::from_millis(10 * u64::from(chunk.get(1).copied().unwrap_or(0)));
        endpoint.handle(&frame, now);
        while endpoint.transmit(now).is_some() {}
        while endpoint.event().is_some() {}
    }
}

/// The card side of the APDU protocol: each chunk is a command APDU; the
/// handler echoes messages back reversed.
#[cfg(feature = "nfc")]
pub fn apdu_card(data: &[u8]) {
    use crate::transport::nfc::card::Applet;
    let mut card = Applet::new(|m: Vec<u8>| Some(m.into_iter().rev().collect()));
    for apdu in chunks(data) {
        let answer = card.process(apdu);
        assert!(answer.len() >= 2, "every answer ends in a status word");
    }
}

/// The reader side of the APDU protocol: each chunk is the card's raw
/// answer to the next command (SELECT, then a 600-byte exchange); a card
/// that runs out of answers has left.
#[cfg(feature = "nfc")]
pub fn apdu_reader(data: &[u8]) {
    use crate::transport::nfc::{NfcError, exchange, select};
    let mut answers = chunks(data).into_iter();
    let mut card = |_: &[u8]| {
        answers
            .next()
            .map(<[u8]>::to_vec)
            .ok_or(NfcError::CardRemoved)
    };
    if select(&mut card).is_ok() {
        let _ = exchange(&mut card, &[0xA5; 600]);
    }
}

/// The animated-code receiver, one scanned code per line, and the
/// assembly of image files' codes.
pub fn ur(data: &[u8]) {
    use crate::transport::animated::{Receiver, assemble};
    let codes: Vec<Vec<u8>> = data.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let mut receiver = Receiver::default();
    for code in &codes {
        let _ = receiver.receive(code);
    }
    let _ = assemble(&codes);
}

/// Solana Pay links (transfer and transaction requests) and what a
/// scanned code is taken for.
pub fn solana_pay(data: &[u8]) {
    use crate::request::PaymentRequest;
    use crate::transaction_request::Link;
    let _ = crate::scanned::describe(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Re-encoding can lengthen a link (a '+' is written %20, a control
    // byte %00) past the 2,048 characters any link may have: the round
    // trips hold below that.
    if let Ok(request) = PaymentRequest::parse(text)
        && request.to_url().len() <= crate::request::MAX_URL
    {
        assert_eq!(
            PaymentRequest::parse(&request.to_url()).as_ref(),
            Ok(&request)
        );
    }
    if let Ok(link) = Link::parse(text)
        && link.to_text().len() <= crate::request::MAX_URL
    {
        assert_eq!(Link::parse(&link.to_text()).as_ref(), Ok(&link));
    }
}

/// The handover's messages, as they come out of the Noise session.
pub fn handover(data: &[u8]) {
    use crate::handover::{Message, intents_message, parse};
    if let Ok(Message::Intents(list)) = parse(data) {
        assert_eq!(intents_message(&list), data, "re-encoding");
    }
}

/// Noise: a hostile first handshake message to a responder (XX and IK),
/// and hostile transport frames into an established session.
pub fn noise(data: &[u8]) {
    let prologue = crate::noise::prologue(&[7; 32]);
    let till = StaticKey::from_secret(Zeroizing::new([1; 32]));
    let payer = StaticKey::from_secret(Zeroizing::new([2; 32]));
    if let Ok(mut hs) = Handshake::xx(&till, &prologue, false, None) {
        let _ = hs.read(data);
    }
    if let Ok(mut hs) = Handshake::ik_responder(&till, &prologue) {
        let _ = hs.read(data);
    }
    let Some(mut session) = established(&payer, &till, &prologue) else {
        return;
    };
    for frame in chunks(data) {
        let _ = session.open(frame);
    }
}

/// A sealed payment (QR) opened by the till it is sealed to; what opens
/// must seal again to a code that opens to the same payment.
pub fn sealed(data: &[u8]) {
    let till = StaticKey::from_secret(Zeroizing::new([1; 32]));
    if let Ok(payment) = crate::sealed::open(data, &till, &[7; 32]) {
        let again = crate::sealed::seal(&payment, &till.public(), &[7; 32]);
        let reopened = again.and_then(|code| crate::sealed::open(&code, &till, &[7; 32]));
        assert_eq!(reopened.as_ref(), Ok(&payment));
    }
}

/// A Keystone `sol-sign-request` (CBOR from a camera) and what the laptop
/// shows of it: a request that reads encodes back to itself, and is
/// described (as a transaction and as a message) without panicking.
pub fn sign_request(data: &[u8]) {
    use crate::airgap::{SignRequest, SignType, describe};
    if let Ok(r) = SignRequest::decode(data) {
        assert_eq!(SignRequest::decode(&r.encode()).as_ref(), Ok(&r));
        let signer = solana_program::pubkey::Pubkey::new_from_array([9; 32]);
        for sign_type in [SignType::Transaction, SignType::Message] {
            let r = SignRequest {
                sign_type,
                ..r.clone()
            };
            let _ = describe(&r, &signer, crate::config::Cluster::Devnet, Some(&signer));
        }
    }
}

/// The till's side of a finished XX handshake with `payer`.
fn established(
    payer: &StaticKey,
    till: &StaticKey,
    prologue: &[u8],
) -> Option<crate::noise::Session> {
    let mut i = Handshake::xx(payer, prologue, true, None).ok()?;
    let mut r = Handshake::xx(till, prologue, false, None).ok()?;
    r.read(&i.write(&[]).ok()?).ok()?;
    i.read(&r.write(&[]).ok()?).ok()?;
    r.read(&i.write(&[]).ok()?).ok()?;
    r.finish().ok()
}

/// The on-chain program's instruction data.
pub fn instruction(data: &[u8]) {
    use toss_program::instruction::TossInstruction;
    if let Ok(ix) = TossInstruction::unpack(data) {
        assert_eq!(ix.pack(), data, "re-encoding");
    }
}

/// A settings file (`settings.toml`) as it could be hand-edited.
pub fn settings(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::Config::from_file_text(Path::new("settings.toml"), text);
    }
}

/// A Solana CLI keypair file.
pub fn keypair(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::keyfile::parse(Path::new("id.json"), text);
    }
}

/// A transaction a merchant's server sends, and its explanation.
pub fn transaction(data: &[u8]) {
    use crate::transaction_request::{Known, decode, explain};
    if let Ok(tx) = decode(data) {
        let you = solana_program::pubkey::Pubkey::new_from_array([9; 32]);
        let _ = explain(&tx, &you, &Known::default());
    }
}

/// A camera frame or picture, as grey pixels: the first byte is the
/// width (the rest, row by row, up to 64 rows).
pub fn qr_image(data: &[u8]) {
    let Some((&width, pixels)) = data.split_first() else {
        return;
    };
    let width = usize::from(width).max(1);
    let height = (pixels.len() / width).min(64);
    let image = crate::transport::qr::Luma {
        width,
        height,
        pixels: pixels[..width * height].to_vec(),
    };
    let _ = crate::transport::qr::decode(&image);
}
