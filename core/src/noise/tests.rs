use super::*;

fn key(seed: u8) -> StaticKey {
    StaticKey::from_secret(Zeroizing::new([seed; 32]))
}

const REFERENCE: [u8; 32] = [0x5e; 32];

/// Runs a handshake to the end, the initiator writing first.
fn run(mut a: Handshake, mut b: Handshake) -> (Session, Session) {
    let mut writer_is_a = true;
    while !(a.is_finished() && b.is_finished()) {
        let (w, r) = match writer_is_a {
            true => (&mut a, &mut b),
            false => (&mut b, &mut a),
        };
        let msg = w.write(&[]).unwrap();
        r.read(&msg).unwrap();
        writer_is_a = !writer_is_a;
    }
    (a.finish().unwrap(), b.finish().unwrap())
}

fn ik_pair() -> (Session, Session) {
    let (payer, merchant) = (key(1), key(2));
    let p = prologue(&REFERENCE);
    run(
        Handshake::ik_initiator(&payer, &merchant.public(), &p).unwrap(),
        Handshake::ik_responder(&merchant, &p).unwrap(),
    )
}

#[test]
fn both_patterns_agree_on_keys_and_on_the_verification_code() {
    let (a, b) = ik_pair();
    assert_eq!(a.peer(), key(2).public());
    assert_eq!(b.peer(), key(1).public());
    assert_eq!(a.verification_code(), b.verification_code());
    assert_eq!(a.verification_code().len(), 7, "{}", a.verification_code());

    let p = prologue(&REFERENCE);
    let (x, y) = run(
        Handshake::xx(&key(1), &p, true, None).unwrap(),
        Handshake::xx(&key(2), &p, false, None).unwrap(),
    );
    assert_eq!(x.verification_code(), y.verification_code());
    assert_ne!(
        x.verification_code(),
        a.verification_code(),
        "fresh ephemerals"
    );
}

#[test]
fn messages_of_any_size_cross_in_order() {
    let (mut a, mut b) = ik_pair();
    for size in [
        0usize,
        1,
        199,
        MAX_FRAME_PLAINTEXT - 1,
        MAX_FRAME_PLAINTEXT,
        200_000,
    ] {
        let msg: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let frames = a.seal(&msg).unwrap();
        assert_eq!(frames.len(), size.div_ceil(MAX_FRAME_PLAINTEXT - 1).max(1));
        assert!(frames.iter().all(|f| f.len() <= MAX_FRAME));
        let mut got = None;
        for f in &frames {
            got = b.open(f).unwrap();
        }
        assert_eq!(got, Some(msg), "{size} bytes");
        // And back.
        let reply = b.seal(b"ack").unwrap();
        assert_eq!(a.open(&reply[0]).unwrap(), Some(b"ack".to_vec()));
    }
    assert_eq!(
        a.seal(&vec![0; MAX_MESSAGE + 1]),
        Err(NoiseError::TooLarge(MAX_MESSAGE + 1))
    );
}

#[test]
fn a_tampered_frame_fails_and_closes_the_session() {
    let (mut a, mut b) = ik_pair();
    let mut frame = a.seal(b"pay 1 SOL").unwrap().remove(0);
    frame[5] ^= 1;
    assert_eq!(b.open(&frame), Err(NoiseError::Decrypt));
    let next = a.seal(b"again").unwrap().remove(0);
    assert_eq!(b.open(&next), Err(NoiseError::Closed), "closed for good");
    assert_eq!(b.seal(b"x"), Err(NoiseError::Closed));
}

#[test]
fn replayed_and_reordered_frames_are_refused() {
    let (mut a, mut b) = ik_pair();
    let first = a.seal(b"one").unwrap().remove(0);
    assert_eq!(b.open(&first).unwrap(), Some(b"one".to_vec()));
    assert_eq!(b.open(&first), Err(NoiseError::Decrypt), "replay");

    let (mut a, mut b) = ik_pair();
    let _skipped = a.seal(b"one").unwrap();
    let second = a.seal(b"two").unwrap().remove(0);
    assert_eq!(b.open(&second), Err(NoiseError::Decrypt), "out of order");

    let (_, mut b) = ik_pair();
    assert_eq!(b.open(&[0; 10]), Err(NoiseError::BadFrame));
}

#[test]
fn a_wrong_static_key_is_refused() {
    let (payer, merchant, impostor) = (key(1), key(2), key(3));
    let p = prologue(&REFERENCE);
    // IK: the payer encrypts to the merchant's key; an impostor cannot read it.
    let mut init = Handshake::ik_initiator(&payer, &merchant.public(), &p).unwrap();
    let mut resp = Handshake::ik_responder(&impostor, &p).unwrap();
    let m1 = init.write(&[]).unwrap();
    assert_eq!(resp.read(&m1), Err(NoiseError::Decrypt));

    // XX with the key expected from the request: a different peer fails.
    let mut init = Handshake::xx(&payer, &p, true, Some(merchant.public())).unwrap();
    let mut resp = Handshake::xx(&impostor, &p, false, None).unwrap();
    resp.read(&init.write(&[]).unwrap()).unwrap();
    let m2 = resp.write(&[]).unwrap();
    assert_eq!(init.read(&m2), Err(NoiseError::WrongPeer));
}

#[test]
fn a_session_is_bound_to_its_payment_request() {
    let (payer, merchant) = (key(1), key(2));
    let mut init =
        Handshake::ik_initiator(&payer, &merchant.public(), &prologue(&REFERENCE)).unwrap();
    let mut resp = Handshake::ik_responder(&merchant, &prologue(&[0x11; 32])).unwrap();
    assert_eq!(
        resp.read(&init.write(&[]).unwrap()),
        Err(NoiseError::Decrypt)
    );
}

#[test]
fn an_unfinished_handshake_gives_no_session() {
    let p = prologue(&REFERENCE);
    let mut init = Handshake::xx(&key(1), &p, true, None).unwrap();
    init.write(&[]).unwrap();
    assert_eq!(init.finish().unwrap_err(), NoiseError::NotFinished);
}
