use super::cbor::{Cbor, CborError, decode, encode};
use super::*;

fn request() -> SignRequest {
    SignRequest {
        request_id: Some(vec![1; 16]),
        sign_data: b"Sign in".to_vec(),
        path: vec![(44, true), (501, true), (0, true), (0, true)],
        fingerprint: Some(42),
        address: None,
        origin: Some("app".into()),
        sign_type: SignType::Message,
    }
}

#[test]
fn cbor_round_trips_and_refuses_what_it_does_not_read() {
    let item = Cbor::Map(vec![
        (
            Cbor::Uint(1),
            Cbor::Tag(37, Box::new(Cbor::Bytes(vec![0; 16]))),
        ),
        (
            Cbor::Uint(2),
            Cbor::Array(vec![
                Cbor::Bool(true),
                Cbor::Null,
                Cbor::Neg(4),
                Cbor::Uint(70_000),
            ]),
        ),
        (Cbor::Uint(3), Cbor::Text("é".into())),
    ]);
    assert_eq!(decode(&encode(&item)), Ok(item));
    assert_eq!(decode(&[0x82, 0x01]), Err(CborError::Truncated));
    assert_eq!(decode(&[0x01, 0x02]), Err(CborError::Trailing(1)));
    assert_eq!(
        decode(&[0x9f, 0xff]),
        Err(CborError::Unsupported("an indefinite length"))
    );
    assert_eq!(
        decode(&[0xf9, 0, 0]),
        Err(CborError::Unsupported("a float or simple value"))
    );
    assert_eq!(
        decode(&[0x62, 0xff, 0xfe]),
        Err(CborError::Unsupported("text that is not UTF-8"))
    );
    // A length past the input is refused before anything is allocated.
    assert_eq!(
        decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Err(CborError::Truncated)
    );
    assert_eq!(
        decode(&[0x9b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
        Err(CborError::Truncated)
    );
    // Deeper than a request can be.
    let mut deep = vec![0x81; 40];
    deep.push(0x00);
    assert_eq!(decode(&deep), Err(CborError::TooLarge));
    assert_eq!(decode(&vec![0x40; 70_000]), Err(CborError::TooLarge));
}

#[test]
fn a_request_round_trips_and_a_bad_one_is_refused_plainly() {
    let r = request();
    assert_eq!(SignRequest::decode(&r.encode()), Ok(r.clone()));
    let refused = |item: Cbor| SignRequest::decode(&encode(&item)).unwrap_err().to_string();
    assert_eq!(
        refused(Cbor::Uint(1)),
        "the request is not a sol-sign-request: it is not a map"
    );
    assert!(refused(Cbor::Map(vec![])).contains("no data to sign"));
    let without = |key: u64| {
        let Ok(Cbor::Map(mut m)) = decode(&r.encode()) else {
            unreachable!()
        };
        m.retain(|(k, _)| *k != Cbor::Uint(key));
        Cbor::Map(m)
    };
    assert!(refused(without(3)).contains("names no derivation path"));
    let Ok(Cbor::Map(mut kind)) = decode(&r.encode()) else {
        unreachable!()
    };
    kind.retain(|(k, _)| *k != Cbor::Uint(6));
    kind.push((Cbor::Uint(6), Cbor::Uint(9)));
    assert!(refused(Cbor::Map(kind)).contains("other than a transaction or a message"));
    // A message is shown as its text; bytes that are not text as hex.
    let who = Pubkey::new_unique();
    let d = describe(&r, &who, Cluster::Devnet, None).unwrap();
    assert_eq!(d.message_text.as_deref(), Some("Sign in"));
    let mut binary = r.clone();
    binary.sign_data = vec![0, 1, 2];
    assert_eq!(
        describe(&binary, &who, Cluster::Devnet, None)
            .unwrap()
            .message_text
            .as_deref(),
        Some("(not text) 000102")
    );
    // A transaction request whose data is not a message.
    let mut junk = r;
    junk.sign_type = SignType::Transaction;
    assert!(matches!(
        describe(&junk, &who, Cluster::Devnet, None),
        Err(AirgapError::NotAMessage(_))
    ));
}

#[test]
fn what_the_wallet_cannot_explain_is_said_as_such() {
    use solana_program::instruction::{AccountMeta, Instruction};
    let payer = Pubkey::new_unique();
    let unknown = Pubkey::new_unique();
    let toss = Pubkey::new_unique();
    let ixs = [
        Instruction::new_with_bytes(COMPUTE_BUDGET, &[3, 10, 0, 0, 0, 0, 0, 0, 0], vec![]),
        Instruction::new_with_bytes(unknown, &[1, 2, 3], vec![AccountMeta::new(payer, true)]),
        Instruction::new_with_bytes(
            toss,
            &toss_program::instruction::TossInstruction::Deposit { amount: 500 }.pack(),
            vec![
                AccountMeta::new(payer, true),
                AccountMeta::new(unknown, false),
            ],
        ),
        solana_system_interface::instruction::advance_nonce_account(&unknown, &payer),
    ];
    let message = solana_message::Message::new(&ixs, Some(&payer));
    let r = SignRequest {
        sign_type: SignType::Transaction,
        sign_data: bincode::serialize(&VersionedMessage::Legacy(message)).unwrap(),
        ..request()
    };
    let d = describe(&r, &payer, Cluster::Devnet, Some(&toss)).unwrap();
    let texts: Vec<(&str, bool)> = d
        .steps
        .iter()
        .map(|s| (s.text.as_str(), s.explained))
        .collect();
    assert_eq!(
        texts[0],
        (
            "pays a priority fee of 10 micro-lamports per compute unit",
            true
        )
    );
    assert_eq!(
        texts[1],
        (
            format!("calls program {unknown}, which this wallet does not know (3 bytes of data)")
                .as_str(),
            false
        )
    );
    assert_eq!(
        texts[2],
        (
            format!("deposits 500 base units into the TOSS escrow {unknown} from {payer}").as_str(),
            true
        )
    );
    assert!(texts[3].0.starts_with("advances durable nonce") && texts[3].1);
    assert!(d.unexplained);
    // Three instructions at 200,000 units each by default at 10 µ-lamports: 6 lamports of priority.
    assert_eq!(d.fee_text, Some(format!("0.000005006 SOL paid by {payer}")));
    // The same deposit to a program that is not the settings' TOSS program is not explained.
    let d = describe(&r, &payer, Cluster::Devnet, None).unwrap();
    assert!(!d.steps[2].explained);
}

#[test]
fn the_fingerprint_is_the_wallets_own() {
    assert_eq!(
        fingerprint("00112233445566778899aabbccddeeff"),
        fingerprint("00112233445566778899aabbccddeeff")
    );
    assert_ne!(fingerprint("a"), fingerprint("b"));
}

#[test]
fn a_version_0_token_payment_is_explained_and_lookup_accounts_are_not() {
    use solana_message::v0;
    use solana_program::instruction::{AccountMeta, Instruction};
    let payer = Pubkey::new_unique();
    let mint = Pubkey::new_unique();
    let to = Pubkey::new_unique();
    let from_ata = crate::address::associated_token_account(&payer, &mint);
    let to_ata = crate::address::associated_token_account(&to, &mint);
    let ixs = [
        Instruction::new_with_bytes(
            crate::address::ATA_PROGRAM,
            &[1],
            vec![
                AccountMeta::new(payer, true),
                AccountMeta::new(to_ata, false),
                AccountMeta::new_readonly(to, false),
                AccountMeta::new_readonly(mint, false),
                AccountMeta::new_readonly(SYSTEM_PROGRAM, false),
                AccountMeta::new_readonly(spl_token_interface::ID, false),
            ],
        ),
        spl_token_interface::instruction::transfer_checked(
            &spl_token_interface::ID,
            &from_ata,
            &mint,
            &to_ata,
            &payer,
            &[],
            2_500_000,
            6,
        )
        .unwrap(),
        Instruction::new_with_bytes(crate::solana_pay::MEMO_PROGRAMS[0], b"order 7", vec![]),
    ];
    let table = solana_message::AddressLookupTableAccount {
        key: Pubkey::new_unique(),
        addresses: vec![to_ata],
    };
    let hash = solana_program::hash::Hash::default();
    let plain = v0::Message::try_compile(&payer, &ixs, &[], hash).unwrap();
    let r = SignRequest {
        sign_type: SignType::Transaction,
        sign_data: bincode::serialize(&VersionedMessage::V0(plain)).unwrap(),
        ..request()
    };
    let d = describe(&r, &payer, Cluster::Devnet, None).unwrap();
    let texts: Vec<&str> = d.steps.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts[0],
        format!(
            "opens the associated token account {to_ata} of {to} for token {mint} (rent paid by {payer})"
        )
    );
    assert_eq!(
        texts[1],
        format!(
            "sends 2500000 of token {mint} (6 decimals) from token account {from_ata} to token account {to_ata}, authorised by {payer} (SPL Token)"
        )
    );
    assert_eq!(texts[2], "memo: \"order 7\"");
    assert!(!d.unexplained);
    // With the recipient's account in a lookup table, it cannot be named offline.
    let looked_up = v0::Message::try_compile(&payer, &ixs[1..2], &[table], hash).unwrap();
    let r = SignRequest {
        sign_data: bincode::serialize(&VersionedMessage::V0(looked_up)).unwrap(),
        ..r
    };
    let d = describe(&r, &payer, Cluster::Devnet, None).unwrap();
    assert!(d.unexplained);
    assert!(
        d.steps[0].text.contains("address lookup table"),
        "{:?}",
        d.steps
    );
    assert!(
        d.steps[1].text.contains("an account from a lookup table"),
        "{:?}",
        d.steps
    );
}
