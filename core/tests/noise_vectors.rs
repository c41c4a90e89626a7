//! Known-answer tests: the two Noise suites TOSS uses reproduce the
//! Cacophony test vectors (docs/vectors/noise-cacophony.json) byte for byte:
//! every handshake and transport message, and the handshake hash.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use toss_core::noise::{PATTERN_IK, PATTERN_XX};

fn h(v: &serde_json::Value, k: &str) -> Vec<u8> {
    hex::decode(v[k].as_str().unwrap_or("")).unwrap()
}

fn build(v: &serde_json::Value, initiator: bool) -> snow::HandshakeState {
    let side = if initiator { "init" } else { "resp" };
    let name = v["protocol_name"].as_str().unwrap();
    let (prologue, ephemeral, local, remote) = (
        h(v, &format!("{side}_prologue")),
        h(v, &format!("{side}_ephemeral")),
        h(v, &format!("{side}_static")),
        h(v, &format!("{side}_remote_static")),
    );
    let mut b = snow::Builder::new(name.parse().unwrap())
        .prologue(&prologue)
        .unwrap()
        .fixed_ephemeral_key_for_testing_only(&ephemeral)
        .local_private_key(&local)
        .unwrap();
    if !remote.is_empty() {
        b = b.remote_public_key(&remote).unwrap();
    }
    match initiator {
        true => b.build_initiator().unwrap(),
        false => b.build_responder().unwrap(),
    }
}

#[test]
fn our_suites_reproduce_the_cacophony_vectors() {
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/vectors/noise-cacophony.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut seen = Vec::new();
    for v in file["vectors"].as_array().unwrap() {
        let name = v["protocol_name"].as_str().unwrap();
        assert!(name == PATTERN_XX || name == PATTERN_IK, "{name}");
        seen.push(name.to_owned());
        let (mut init, mut resp) = (build(v, true), build(v, false));
        let mut transport = None;
        for (i, m) in v["messages"].as_array().unwrap().iter().enumerate() {
            let (payload, expected) = (h(m, "payload"), h(m, "ciphertext"));
            let mut out = vec![0u8; 65_535];
            let mut back = vec![0u8; 65_535];
            let initiator_writes = i % 2 == 0;
            match &mut transport {
                None => {
                    let (w, r) = match initiator_writes {
                        true => (&mut init, &mut resp),
                        false => (&mut resp, &mut init),
                    };
                    let n = w.write_message(&payload, &mut out).unwrap();
                    assert_eq!(out[..n], expected[..], "{name} message {i}");
                    let n = r.read_message(&expected, &mut back).unwrap();
                    assert_eq!(back[..n], payload[..]);
                    if init.is_handshake_finished() && resp.is_handshake_finished() {
                        assert_eq!(init.get_handshake_hash(), &h(v, "handshake_hash")[..]);
                        assert_eq!(resp.get_handshake_hash(), &h(v, "handshake_hash")[..]);
                        let (a, b) = (
                            std::mem::replace(&mut init, build(v, true)),
                            std::mem::replace(&mut resp, build(v, false)),
                        );
                        transport = Some((
                            a.into_transport_mode().unwrap(),
                            b.into_transport_mode().unwrap(),
                        ));
                    }
                }
                Some((a, b)) => {
                    let (w, r) = match initiator_writes {
                        true => (a, b),
                        false => (b, a),
                    };
                    let n = w.write_message(&payload, &mut out).unwrap();
                    assert_eq!(out[..n], expected[..], "{name} message {i}");
                    let n = r.read_message(&expected, &mut back).unwrap();
                    assert_eq!(back[..n], payload[..]);
                }
            }
        }
        assert!(
            transport.is_some(),
            "{name}: transport messages were checked"
        );
    }
    seen.sort();
    assert_eq!(seen, [PATTERN_IK, PATTERN_XX]);
}
