//! Replays every kept fuzz input (`fuzz/corpus/<target>/`) through its
//! target, so CI checks the corpora, and every crash the fuzzer ever found,
//! without a sanitizer build (docs/fuzzing.md). Also keeps the table, the
//! fuzz binaries and the corpus folders in step.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::PathBuf;

use toss_core::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz"))
}

#[test]
fn every_corpus_input_runs_through_its_target() {
    let mut inputs = 0;
    for (name, target) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let files = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut here = 0;
        for file in files {
            let path = file.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let run = std::panic::catch_unwind(|| target(&data));
            assert!(run.is_ok(), "{name}: {} panics", path.display());
            here += 1;
        }
        assert!(here > 0, "{name}: an empty corpus");
        inputs += here;
    }
    assert!(inputs >= TARGETS.len());
}

#[test]
fn each_target_has_a_fuzz_binary_and_each_binary_a_target() {
    let binaries: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .map(|f| {
            let path = f.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    for (name, _) in TARGETS {
        assert!(
            binaries.iter().any(|b| b == name),
            "no fuzz/fuzz_targets/{name}.rs"
        );
    }
    for b in &binaries {
        assert!(TARGETS.iter().any(|(n, _)| n == b), "{b}.rs runs no target");
    }
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}

/// Writes each target's seed inputs, made by the real encoders, into its
/// corpus folder (`cargo test -p toss-core --test corpus -- --ignored`);
/// the fuzzer grows the corpus from them.
#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn seeds() {
    use ed25519_dalek::SigningKey;
    use solana_program::pubkey::Pubkey;
    use toss_core::intent::{Intent, sign};
    use toss_core::noise::{Handshake, StaticKey};
    use toss_core::transport::animated::Sender;
    use zeroize::Zeroizing;

    let key = |seed: u8| SigningKey::from_bytes(&[seed; 32]);
    let address = |k: &SigningKey| Pubkey::new_from_array(k.verifying_key().to_bytes());
    let intent = Intent {
        cluster: toss_program::intent::cluster::DEVNET,
        program_id: Pubkey::new_from_array([3; 32]),
        payer: address(&key(1)),
        payee: address(&key(2)),
        mint: None,
        amount: 1_000_000,
        reference: Some(Pubkey::new_from_array([4; 32])),
        memo: Some("order 7".into()),
        nonce: 1,
        created_at: 1_790_000_000,
        expires_at: 1_790_086_400,
        durable_nonce: None,
    };
    let wire = sign(intent, &key(1)).unwrap().to_bytes().unwrap();
    let url = format!("solana:{}?amount=0.5&label=Till&memo=42", address(&key(2)));
    let mut sender = Sender::new(&wire, 60).unwrap();
    let parts: Vec<String> = (0..sender.parts() + 1)
        .map(|_| sender.next_frame().unwrap())
        .collect();
    let framed = |items: &[&[u8]]| -> Vec<u8> {
        items
            .iter()
            .flat_map(|i| std::iter::once(i.len() as u8).chain(i.iter().copied()))
            .collect()
    };
    let select = [
        &[0x00, 0xA4, 0x04, 0x00, 0x06][..],
        &[0xF0, 0x54, 0x4F, 0x53, 0x53, 0x01],
        &[0x00],
    ]
    .concat();
    let mut handover = vec![1, 1, 1];
    handover.extend((wire.len() as u16).to_be_bytes());
    handover.extend(&wire);
    let till = StaticKey::from_secret(Zeroizing::new([1; 32]));
    let first = Handshake::xx(&till, &toss_core::noise::prologue(&[7; 32]), true, None)
        .unwrap()
        .write(&[])
        .unwrap();
    let keypair = serde_json::to_string(&key(5).to_keypair_bytes().to_vec()).unwrap();
    let tx = {
        let payer = solana_keypair::Keypair::new_from_array([6; 32]);
        let ix = solana_system_interface::instruction::transfer(
            &solana_signer::Signer::pubkey(&payer),
            &address(&key(2)),
            5_000_000,
        );
        let message =
            solana_message::Message::new(&[ix], Some(&solana_signer::Signer::pubkey(&payer)));
        let tx = solana_transaction::Transaction::new(
            &[&payer],
            message,
            solana_program::hash::Hash::default(),
        );
        bincode::serialize(&solana_transaction::versioned::VersionedTransaction::from(
            tx,
        ))
        .unwrap()
    };
    let qr = toss_core::transport::qr::bitmap(b"solana:x", 1).unwrap();
    let mut image = vec![qr.width as u8];
    image.extend(&qr.pixels);
    let ble_frame = [&[1u8, 0][..], &[0x01, 0, 0, 0], &wire[..40]].concat();
    let seeds: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "intent",
            vec![wire.clone(), wire[..wire.len() - 64].to_vec()],
        ),
        (
            "ble",
            vec![vec![1, 0, 64], framed(&[&ble_frame, &[0, 0, 0, 0, 0, 0]])],
        ),
        (
            "apdu_card",
            vec![framed(&[
                &select,
                &[0x80, 0x10, 0, 0, 3, 1, 2, 3, 0],
                &[0x00, 0xC0, 0, 0, 0],
            ])],
        ),
        (
            "apdu_reader",
            vec![framed(&[
                &[0x54, 0x4F, 0x53, 0x53, 0x01, 0x90, 0x00],
                &[0x90, 0x00],
                &[0x61, 0x10],
                &[0xAA; 18][..],
            ])],
        ),
        (
            "ur",
            vec![parts.join("\n").into_bytes(), parts[0].clone().into_bytes()],
        ),
        (
            "solana_pay",
            vec![
                url.into_bytes(),
                b"solana:https%3A%2F%2Fshop.example%2Fpay?label=Shop".to_vec(),
            ],
        ),
        (
            "handover",
            vec![
                handover,
                vec![1, 2, 2, 0, 1, 4, b'l', b'o', b'w', b'!'],
                vec![1, 3],
                vec![1, 4],
            ],
        ),
        ("noise", vec![first]),
        (
            "sealed",
            vec![toss_core::sealed::seal(&wire, &till.public(), &[7; 32]).unwrap()],
        ),
        (
            "instruction",
            vec![toss_program::instruction::TossInstruction::CloseRecord.pack()],
        ),
        (
            "settings",
            vec![
                b"cluster = \"devnet\"\nmax_settlement_retries = 3\nsignature_check = \"auto\"\n"
                    .to_vec(),
            ],
        ),
        ("keypair", vec![keypair.into_bytes()]),
        ("transaction", vec![tx]),
        ("qr_image", vec![image]),
        (
            "sign_request",
            vec![
                toss_core::airgap::SignRequest {
                    request_id: Some(vec![1; 16]),
                    sign_data: bincode::serialize(&solana_message::VersionedMessage::Legacy(
                        solana_message::Message::new(
                            &[],
                            Some(&solana_program::pubkey::Pubkey::new_from_array([9; 32])),
                        ),
                    ))
                    .unwrap(),
                    path: vec![(44, true), (501, true), (0, true), (0, true)],
                    fingerprint: Some(7),
                    address: None,
                    origin: Some("seed".into()),
                    sign_type: toss_core::airgap::SignType::Transaction,
                }
                .encode(),
            ],
        ),
    ];
    for (name, inputs) in seeds {
        let dir = fuzz_dir().join("corpus").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (n, input) in inputs.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{n}")), input).unwrap();
        }
    }
}
