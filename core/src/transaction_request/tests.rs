use solana_program::instruction::{AccountMeta, Instruction};
use solana_signer::Signer;
use solana_transaction::Transaction;

use super::*;
use crate::request::PaymentRequest;

const MERCHANT: Pubkey = Pubkey::new_from_array([7; 32]);
const THIEF: Pubkey = Pubkey::new_from_array([6; 32]);
const REFERENCE: Pubkey = Pubkey::new_from_array([9; 32]);
const MINT: Pubkey = Pubkey::new_from_array([10; 32]);

fn customer() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[3; 32])
}

fn you() -> Pubkey {
    Pubkey::new_from_array(customer().verifying_key().to_bytes())
}

/// `ixs` as a merchant's server returns them: fee paid by `fee_payer`,
/// signed by `signers` (the customer's slot left empty).
fn built(
    ixs: &[Instruction],
    fee_payer: &Pubkey,
    signers: &[&solana_keypair::Keypair],
) -> VersionedTransaction {
    let message = solana_message::Message::new_with_blockhash(
        ixs,
        Some(fee_payer),
        &solana_program::hash::Hash::new_from_array([1; 32]),
    );
    let mut tx = Transaction::new_unsigned(message);
    if !signers.is_empty() {
        tx.partial_sign(signers, tx.message.recent_blockhash);
    }
    VersionedTransaction::from(tx)
}

/// The request's standard transfer (with its memo and reference).
fn solana_pay(amount: &str, mint: Option<Pubkey>, memo: Option<&str>) -> Vec<Instruction> {
    let mut r = PaymentRequest::new(MERCHANT);
    r.amount = Some(amount.into());
    r.spl_token = mint;
    r.references = vec![REFERENCE];
    r.memo = memo.map(Into::into);
    let decimals = if mint.is_some() { 6 } else { 9 };
    crate::solana_pay::transfer(&r, &you(), decimals).unwrap()
}

fn merchant_tokens() -> Known {
    let account = crate::address::associated_token_account(&MERCHANT, &MINT);
    Known {
        token_accounts: [(
            account,
            TokenAccount {
                mint: MINT,
                owner: MERCHANT,
            },
        )]
        .into(),
        token_account_rent: 2_039_280,
    }
}

#[test]
fn links_are_https_urls_encoded_or_not() {
    let link =
        Link::parse("solana:https%3A%2F%2Fshop.example%2Fpay%3Forder%3D7?label=Caf%C3%A9&x=1")
            .unwrap();
    assert_eq!(link.url.as_str(), "https://shop.example/pay?order=7");
    assert_eq!(link.label.as_deref(), Some("Café"));
    // Its label is kept when shown again (found by fuzzing: it was dropped).
    assert_eq!(
        link.to_text(),
        "solana:https%3A%2F%2Fshop.example%2Fpay%3Forder%3D7?label=Caf%C3%A9"
    );
    assert_eq!(Link::parse(&link.to_text()).unwrap(), link);
    // Not encoded, a query is the solana: link's own, as @solana/pay reads
    // it (its encoder writes a link without a query of its own this way).
    let plain =
        Link::parse("solana:https://shop.example/pay?label=Cafe&message=Hi&label=x#top").unwrap();
    assert_eq!(plain.url.as_str(), "https://shop.example/pay");
    assert_eq!(
        plain.label.as_deref(),
        Some("Cafe"),
        "the first label counts"
    );
    assert_eq!(plain.message.as_deref(), Some("Hi"));
    // A link with a query of its own is shown encoded (the spec's example),
    // and read back the same; a '+' in it stays a '+'.
    let own = Link::parse("solana:https%3A%2F%2Fshop.example%2Fpay%3Forder%3D7%2B1").unwrap();
    assert_eq!(own.url.as_str(), "https://shop.example/pay?order=7+1");
    let own = Link::parse("solana:https%3A%2F%2Fshop.example%2Fpay%3Forder%3D7").unwrap();
    assert_eq!(
        own.to_text(),
        "solana:https%3A%2F%2Fshop.example%2Fpay%3Forder%3D7"
    );
    assert_eq!(Link::parse(&own.to_text()).unwrap(), own);
    assert!(matches!(
        Link::parse(&format!("solana:https://shop.example/{}", "a".repeat(2100))),
        Err(LinkError::TooLong(_))
    ));
    // An encoded '#' is a fragment, which never reaches the server.
    let fragment = Link::parse("solana:https%3A%2F%2Fshop.example%2Fpay%23top?label=Shop").unwrap();
    assert_eq!(fragment.url.as_str(), "https://shop.example/pay");
    assert_eq!(Link::parse(&fragment.to_text()).unwrap(), fragment);
    // A till's own link keeps its query, and is shown encoded.
    let made = Link::new("https://shop.example/pay?order=7").unwrap();
    assert_eq!(Link::parse(&made.to_text()).unwrap(), made);
    assert!(matches!(
        Link::new("http://shop.example/pay"),
        Err(LinkError::NotHttps(_))
    ));
    let bare = Link::parse("solana:https://shop.example/pay").unwrap();
    assert_eq!(bare.to_text(), "solana:https://shop.example/pay");
    assert!(matches!(
        Link::parse("solana:http://shop.example/pay"),
        Err(LinkError::NotHttps(_))
    ));
    assert!(matches!(
        Link::parse("solana:http%3A%2F%2Fshop.example%2Fpay"),
        Err(LinkError::NotHttps(_))
    ));
    assert!(matches!(
        Link::parse("solana:https%3A%2F%2F%ZZ"),
        Err(LinkError::BadUrl(_))
    ));
    assert!(!Link::is_one(
        "solana:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN"
    ));
    assert_eq!(
        Link::parse("https://shop.example"),
        Err(LinkError::NotTransactionRequest)
    );
}

#[test]
fn a_standard_sol_transfer_is_explained_with_its_fee_and_memo() {
    let tx = built(&solana_pay("0.25", None, Some("order 7")), &you(), &[]);
    let explained = explain(&tx, &you(), &Known::default()).unwrap();
    assert_eq!(
        explained,
        Explained {
            fee_payer: you(),
            fee: 5_000,
            rent: 0,
            payment: Transfer {
                recipient: MERCHANT,
                amount: 250_000_000,
                mint: None,
                decimals: 9
            },
            memos: vec!["order 7".into()],
        }
    );
    assert_eq!(
        explained.to_string(),
        format!("pays 0.25 SOL to {MERCHANT}, with 0.000005 SOL of fee and rent")
    );
}

#[test]
fn a_token_payment_names_the_owner_and_the_rent_of_an_account_it_opens() {
    let ixs = solana_pay("1.5", Some(MINT), None);
    let tx = built(&ixs, &you(), &[]);
    let explained = explain(&tx, &you(), &merchant_tokens()).unwrap();
    assert_eq!(explained.payment.recipient, MERCHANT);
    assert_eq!(explained.payment.amount, 1_500_000);
    assert_eq!(explained.payment.mint, Some(MINT));
    assert_eq!(explained.rent, 0);
    // The merchant's token account does not exist: the transfer into it
    // cannot be explained unless the transaction opens it, at your cost.
    assert_eq!(
        explain(&tx, &you(), &Known::default()),
        Err(Unexplained::NotATokenAccount(
            crate::address::associated_token_account(&MERCHANT, &MINT)
        ))
    );
    let mut opened = vec![crate::address::create_associated_token_account(
        &you(),
        &MERCHANT,
        &MINT,
    )];
    opened.extend(ixs);
    let known = Known {
        token_account_rent: 2_039_280,
        ..Known::default()
    };
    let explained = explain(&built(&opened, &you(), &[]), &you(), &known).unwrap();
    assert_eq!(
        (explained.rent, explained.payment.recipient),
        (2_039_280, MERCHANT)
    );
    // Opened "if missing" where it exists: no rent.
    let explained = explain(&built(&opened, &you(), &[]), &you(), &merchant_tokens()).unwrap();
    assert_eq!(explained.rent, 0);
}

#[test]
fn a_merchant_paying_the_fee_must_have_signed_and_costs_you_none() {
    let merchant = solana_keypair::Keypair::new_from_array([5; 32]);
    let ixs = solana_pay("0.25", None, None);
    let tx = built(&ixs, &merchant.pubkey(), &[&merchant]);
    let explained = explain(&tx, &you(), &Known::default()).unwrap();
    assert_eq!((explained.fee_payer, explained.fee), (merchant.pubkey(), 0));

    let unsigned = built(&ixs, &merchant.pubkey(), &[]);
    assert_eq!(
        explain(&unsigned, &you(), &Known::default()),
        Err(Unexplained::OtherSigner(merchant.pubkey()))
    );
    let mut forged = tx.clone();
    forged.signatures[0] = Signature::from([9; 64]);
    assert_eq!(
        explain(&forged, &you(), &Known::default()),
        Err(Unexplained::BadSignature(merchant.pubkey()))
    );
}

#[test]
fn a_priority_fee_is_counted_at_the_compute_limit() {
    let mut ixs = vec![
        Instruction::new_with_bytes(
            COMPUTE_BUDGET,
            &[&[2][..], &50_000u32.to_le_bytes()].concat(),
            vec![],
        ),
        Instruction::new_with_bytes(
            COMPUTE_BUDGET,
            &[&[3][..], &1_000_000u64.to_le_bytes()].concat(),
            vec![],
        ),
    ];
    ixs.extend(solana_pay("0.25", None, None));
    let explained = explain(&built(&ixs, &you(), &[]), &you(), &Known::default()).unwrap();
    assert_eq!(explained.fee, 5_000 + 50_000);
}

#[test]
fn anything_beyond_one_payment_is_refused_with_the_reason() {
    let transfer = |from: &Pubkey, to: &Pubkey, lamports| {
        solana_system_interface::instruction::transfer(from, to, lamports)
    };
    let refused =
        |ixs: Vec<Instruction>| explain(&built(&ixs, &you(), &[]), &you(), &merchant_tokens());

    // An extra transfer draining the account to someone else.
    let mut drain = solana_pay("0.25", None, None);
    drain.push(transfer(&you(), &THIEF, 40_000_000_000));
    assert!(matches!(
        refused(drain),
        Err(Unexplained::MoreThanOnePayment(_))
    ));
    // Two transfers to the merchant are one payment of their sum.
    let mut twice = solana_pay("0.25", None, None);
    twice.push(transfer(&you(), &MERCHANT, 1));
    assert_eq!(refused(twice).unwrap().payment.amount, 250_000_001);
    // SOL and a token at once.
    let mut mixed = solana_pay("0.25", None, None);
    mixed.extend(solana_pay("1", Some(MINT), None));
    assert!(matches!(
        refused(mixed),
        Err(Unexplained::MoreThanOnePayment(_))
    ));
    // A program the wallet does not know.
    let mut unknown = solana_pay("0.25", None, None);
    unknown.push(Instruction::new_with_bytes(
        THIEF,
        &[1],
        vec![AccountMeta::new(you(), true)],
    ));
    assert_eq!(refused(unknown), Err(Unexplained::UnknownProgram(THIEF)));
    // Letting someone else spend your tokens.
    let mine = crate::address::associated_token_account(&you(), &MINT);
    let approve = Instruction::new_with_bytes(
        spl_token_interface::ID,
        &[&[4][..], &u64::MAX.to_le_bytes()].concat(),
        vec![
            AccountMeta::new(mine, false),
            AccountMeta::new_readonly(THIEF, false),
            AccountMeta::new_readonly(you(), true),
        ],
    );
    let mut approving = solana_pay("0.25", None, None);
    approving.push(approve);
    assert_eq!(
        refused(approving),
        Err(Unexplained::NotAPayment {
            program: "SPL Token program",
            what: "letting another account spend your tokens".into()
        })
    );
    // Handing the account to a program.
    let assign = solana_system_interface::instruction::assign(&you(), &THIEF);
    assert!(matches!(
        refused(vec![assign]),
        Err(Unexplained::NotAPayment {
            program: "System program",
            ..
        })
    ));
    // Nothing paid.
    assert_eq!(
        refused(vec![Instruction::new_with_bytes(
            crate::solana_pay::MEMO_PROGRAMS[0],
            b"hi",
            vec![]
        )]),
        Err(Unexplained::NoPayment)
    );
}

#[test]
fn a_transaction_not_for_you_or_not_a_transaction_is_refused() {
    let other = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let other = Pubkey::new_from_array(other.verifying_key().to_bytes());
    let theirs = built(
        &[solana_system_interface::instruction::transfer(
            &other, &MERCHANT, 1,
        )],
        &other,
        &[],
    );
    assert_eq!(
        explain(&theirs, &you(), &Known::default()),
        Err(Unexplained::NotForYou(you()))
    );
    assert!(matches!(
        decode(b"not a transaction"),
        Err(Unexplained::Undecodable(_))
    ));
    assert!(matches!(
        decode(&[0; 2000]),
        Err(Unexplained::Undecodable(_))
    ));
    let good = built(&solana_pay("0.25", None, None), &you(), &[]);
    let bytes = bincode::serialize(&good).unwrap();
    assert_eq!(decode(&bytes).unwrap(), good);
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        decode(&trailing),
        Err(Unexplained::Undecodable(_))
    ));
}

#[test]
fn a_version_0_transaction_reads_unless_it_uses_lookup_tables() {
    let ixs = solana_pay("0.25", None, Some("v0"));
    let message = solana_message::v0::Message::try_compile(
        &you(),
        &ixs,
        &[],
        solana_program::hash::Hash::new_from_array([1; 32]),
    )
    .unwrap();
    let mut tx = VersionedTransaction {
        signatures: vec![Signature::default()],
        message: solana_message::VersionedMessage::V0(message),
    };
    assert_eq!(
        explain(&tx, &you(), &Known::default())
            .unwrap()
            .payment
            .amount,
        250_000_000
    );
    if let solana_message::VersionedMessage::V0(m) = &mut tx.message {
        m.address_table_lookups
            .push(solana_message::v0::MessageAddressTableLookup {
                account_key: THIEF,
                writable_indexes: vec![0],
                readonly_indexes: vec![],
            });
    }
    assert_eq!(
        explain(&tx, &you(), &Known::default()),
        Err(Unexplained::LookupTables)
    );
}

#[test]
fn signing_fills_only_your_slot_and_verifies() {
    let merchant = solana_keypair::Keypair::new_from_array([5; 32]);
    let mut tx = built(
        &solana_pay("0.25", None, None),
        &merchant.pubkey(),
        &[&merchant],
    );
    let before = tx.signatures[0];
    sign(&mut tx, &customer());
    assert_eq!(tx.signatures[0], before);
    assert!(tx.verify_with_results().iter().all(|ok| *ok));
}
