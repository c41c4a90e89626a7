//! A payment across QR codes and a camera, end to end: the merchant shows
//! a Solana Pay request carrying its Noise key; the payer's camera reads it;
//! the two run an IK handshake whose messages cross as QR codes; the payer
//! seals its signed intent in the session and shows it; the merchant's
//! camera reads it (animated when it needs more than one code), opens it,
//! and verifies the intent offline. Cameras are synthetic: frames rendered
//! from the codes, in the formats webcams deliver, go through the same
//! decoding path as a real camera's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;
use toss_core::intent::{Intent, MemoryLedger, RiskLimits, Verifier, cluster, sign};
use toss_core::noise::{Handshake, Session, StaticKey, prologue};
use toss_core::request::PaymentRequest;
use toss_core::transport::animated::{Received, Receiver, Sender};
use toss_core::transport::camera::{
    Buffer, CameraError, Capture, FrameFormat, Resolution, Scan, Scanner,
};
use toss_core::transport::qr;
use zeroize::Zeroizing;

/// A screen showing `payload`: one code, or animated frames (three
/// passes' worth), as a camera sees them in `format`.
fn screen(payload: &[u8], format: FrameFormat) -> Vec<Buffer> {
    let codes: Vec<Vec<u8>> = if payload.len() <= 1_000 {
        vec![payload.to_vec()]
    } else {
        let mut s = Sender::new(payload, 300).unwrap();
        (0..3 * s.parts())
            .map(|_| s.next_frame().unwrap().into_bytes())
            .collect()
    };
    codes
        .iter()
        .map(|c| {
            let l = qr::bitmap(c, 3).unwrap();
            let data: Vec<u8> = match format {
                FrameFormat::YUYV => l.pixels.iter().flat_map(|y| [*y, 128]).collect(),
                FrameFormat::RAWRGB => l.pixels.iter().flat_map(|y| [*y, *y, *y]).collect(),
                _ => l.pixels.clone(),
            };
            Buffer::new(
                Resolution::new(l.width as u32, l.height as u32),
                &data,
                format,
            )
        })
        .collect()
}

/// A camera pointed at a screen; it misses every fourth frame.
struct Pointed(Vec<Buffer>, usize);

impl Capture for Pointed {
    fn frame(&mut self) -> Result<Buffer, CameraError> {
        self.1 += 1;
        if self.1.is_multiple_of(4) {
            self.1 += 1;
        }
        Ok(self.0[self.1 % self.0.len()].clone())
    }
}

/// What a camera reads off `frames` until the payload is whole.
fn read(frames: Vec<Buffer>) -> Vec<u8> {
    let scanner = Scanner::start(move || Ok(Pointed(frames, 0)), false);
    let mut receiver = Receiver::default();
    loop {
        match scanner.next().unwrap() {
            Scan::Code(code) => {
                if let Received::Complete { payload } = receiver.receive(&code).unwrap() {
                    return payload;
                }
            }
            Scan::Frame { .. } => {}
            Scan::Failed(e) => panic!("{e}"),
        }
    }
}

#[test]
fn payer_intent_crosses_qr_frames_into_a_noise_session_and_verifies() {
    let merchant_noise = StaticKey::from_secret(Zeroizing::new([2; 32]));
    let payer_noise = StaticKey::from_secret(Zeroizing::new([1; 32]));
    let merchant_key = SigningKey::from_bytes(&[50; 32]);
    let payer_key = SigningKey::from_bytes(&[51; 32]);
    let merchant = Pubkey::new_from_array(merchant_key.verifying_key().to_bytes());
    let reference = [0x5e; 32];
    let program_id = Pubkey::new_from_array([3; 32]);

    // The till shows its request.
    let mut request = PaymentRequest::new(merchant);
    request.amount = Some("0.25".into());
    request.references = vec![Pubkey::new_from_array(reference)];
    request.label = Some("Till 1".into());
    request.noise_key = Some(merchant_noise.public());
    request.offline = true;
    let seen = read(screen(request.to_url().as_bytes(), FrameFormat::YUYV));
    let scanned = PaymentRequest::parse(std::str::from_utf8(&seen).unwrap()).unwrap();
    assert_eq!(scanned, request);

    // IK handshake, each message crossing as a QR code.
    let p = prologue(&scanned.references[0].to_bytes());
    let mut payer_hs =
        Handshake::ik_initiator(&payer_noise, &scanned.noise_key.unwrap(), &p).unwrap();
    let mut till_hs = Handshake::ik_responder(&merchant_noise, &prologue(&reference)).unwrap();
    let m1 = read(screen(&payer_hs.write(&[]).unwrap(), FrameFormat::RAWRGB));
    till_hs.read(&m1).unwrap();
    let m2 = read(screen(&till_hs.write(&[]).unwrap(), FrameFormat::GRAY));
    payer_hs.read(&m2).unwrap();
    let (mut payer, mut till): (Session, Session) =
        (payer_hs.finish().unwrap(), till_hs.finish().unwrap());
    assert_eq!(payer.verification_code(), till.verification_code());

    // The payer signs eight intents offline (a tab paid at once), seals
    // them in the session and shows them: more than one code holds, so
    // the screen animates.
    let now = 1_790_000_000;
    let mut payments = Vec::new();
    for nonce in 0..8u64 {
        let intent = Intent {
            cluster: cluster::DEVNET,
            program_id,
            payer: Pubkey::new_from_array(payer_key.verifying_key().to_bytes()),
            payee: scanned.recipient,
            mint: None,
            amount: scanned.amount_units(9).unwrap().unwrap(),
            reference: Some(scanned.references[0]),
            memo: None,
            nonce,
            created_at: now,
            expires_at: now + 86_400,
            durable_nonce: None,
        };
        payments.extend(sign(intent, &payer_key).unwrap().to_bytes().unwrap());
    }
    let frames = payer.seal(&payments).unwrap();
    assert_eq!(frames.len(), 1);
    assert!(
        frames[0].len() > 1_000,
        "animated: {} bytes",
        frames[0].len()
    );
    let got = read(screen(&frames[0], FrameFormat::YUYV));
    let opened = till.open(&got).unwrap().unwrap();
    assert_eq!(opened, payments);

    // The till verifies each intent offline.
    let verifier = Verifier {
        cluster: cluster::DEVNET,
        program_id,
        payee: merchant,
        limits: RiskLimits::default(),
    };
    let mut ledger = MemoryLedger::default();
    for wire in opened.chunks(opened.len() / 8) {
        let accepted = verifier.verify(wire, None, now + 60, &ledger).unwrap();
        assert_eq!(accepted.signed.intent.amount, 250_000_000);
        ledger.record(&accepted);
    }
}
