use super::*;

const MERCHANT: Pubkey = Pubkey::new_from_array([7; 32]);
const CUSTOMER: Pubkey = Pubkey::new_from_array([8; 32]);
const REFERENCE: Pubkey = Pubkey::new_from_array([9; 32]);
const MINT: Pubkey = Pubkey::new_from_array([10; 32]);
const OTHER_MINT: Pubkey = Pubkey::new_from_array([11; 32]);

fn request(amount: &str, mint: Option<Pubkey>, memo: Option<&str>) -> PaymentRequest {
    let mut r = PaymentRequest::new(MERCHANT);
    r.amount = Some(amount.into());
    r.spl_token = mint;
    r.references = vec![REFERENCE];
    r.memo = memo.map(Into::into);
    r
}

/// A SOL transfer of `lamports` from the customer to the merchant, with the reference.
fn sol(lamports: u64) -> Seen {
    Seen {
        signature: "5sig".into(),
        slot: 42,
        block_time: Some(1_790_000_000),
        failed: None,
        accounts: vec![CUSTOMER, MERCHANT, REFERENCE],
        balances: vec![
            (10_000_000_000, 10_000_000_000 - lamports - 5_000),
            (1, 1 + lamports),
            (0, 0),
        ],
        tokens: Vec::new(),
        memos: Vec::new(),
    }
}

/// A transfer of `units` of `mint` (6 decimals) into the merchant's token account for it.
fn tokens(mint: Pubkey, units: u64) -> Seen {
    let merchant_tokens = associated_token_account(&MERCHANT, &mint);
    Seen {
        accounts: vec![CUSTOMER, Pubkey::new_unique(), merchant_tokens, REFERENCE],
        balances: vec![(1, 1), (2, 2), (3, 3), (0, 0)],
        tokens: vec![TokenBalance {
            index: 2,
            mint,
            before: 500,
            after: 500 + units,
            decimals: 6,
        }],
        ..sol(0)
    }
}

#[test]
fn an_exact_sol_transfer_carrying_the_reference_pays_the_request() {
    let paid = validate(&sol(1_500_000_000), &request("1.5", None, None)).unwrap();
    assert_eq!(
        (paid.payer, paid.amount, paid.mint, paid.signature.as_str()),
        (CUSTOMER, 1_500_000_000, None, "5sig")
    );
}

#[test]
fn less_more_failed_or_unreferenced_is_never_paid() {
    let r = request("1.5", None, None);
    assert_eq!(
        validate(&sol(1_499_999_999), &r),
        Err(Refusal::WrongAmount {
            got: 1_499_999_999,
            expected: 1_500_000_000
        })
    );
    assert!(matches!(
        validate(&sol(1_500_000_001), &r),
        Err(Refusal::WrongAmount { .. })
    ));
    let mut failed = sol(1_500_000_000);
    failed.failed = Some("InsufficientFundsForFee".into());
    assert!(matches!(validate(&failed, &r), Err(Refusal::Failed(_))));
    let mut stray = sol(1_500_000_000);
    stray.accounts[2] = Pubkey::new_unique();
    assert_eq!(validate(&stray, &r), Err(Refusal::NoReference));
    // Nothing reached the merchant at all.
    let mut elsewhere = sol(1_500_000_000);
    elsewhere.balances[1] = (1, 1);
    assert!(matches!(
        validate(&elsewhere, &r),
        Err(Refusal::NotPaid { .. })
    ));
}

#[test]
fn a_token_payment_is_held_to_its_mint_decimals_and_amount() {
    let r = request("12.5", Some(MINT), None);
    let paid = validate(&tokens(MINT, 12_500_000), &r).unwrap();
    assert_eq!((paid.amount, paid.mint), (12_500_000, Some(MINT)));
    assert!(matches!(
        validate(&tokens(MINT, 12_000_000), &r),
        Err(Refusal::WrongAmount {
            got: 12_000_000,
            ..
        })
    ));
    // The same figure in another token is not the sale's money.
    assert_eq!(
        validate(&tokens(OTHER_MINT, 12_500_000), &r),
        Err(Refusal::WrongToken {
            got: OTHER_MINT,
            wanted: MINT.to_string()
        })
    );
    // A token paid for a SOL request is not SOL.
    assert!(matches!(
        validate(&tokens(MINT, 1_500_000_000), &request("1.5", None, None)),
        Err(Refusal::WrongToken { .. })
    ));
}

#[test]
fn a_requested_memo_must_be_carried() {
    let r = request("1.5", None, Some("order 42"));
    assert_eq!(
        validate(&sol(1_500_000_000), &r),
        Err(Refusal::NoMemo("order 42".into()))
    );
    let mut with = sol(1_500_000_000);
    with.memos = vec!["order 42".into()];
    assert!(validate(&with, &r).is_ok());
}

#[test]
fn our_transfer_is_laid_out_as_the_spec_says() {
    let mut r = request("1.5", None, Some("order 42"));
    r.references.push(Pubkey::new_from_array([12; 32]));
    let ixs = transfer(&r, &CUSTOMER, 9).unwrap();
    // The memo first, with no accounts; then the transfer, references read-only last.
    assert_eq!(ixs.len(), 2);
    assert_eq!(
        (ixs[0].program_id, ixs[0].data.as_slice()),
        (MEMO_PROGRAMS[0], b"order 42".as_slice())
    );
    assert!(ixs[0].accounts.is_empty());
    let pay = &ixs[1];
    assert_eq!(pay.program_id, solana_system_interface::program::ID);
    let keys: Vec<_> = pay
        .accounts
        .iter()
        .map(|a| (a.pubkey, a.is_signer, a.is_writable))
        .collect();
    assert_eq!(
        keys,
        [
            (CUSTOMER, true, true),
            (MERCHANT, false, true),
            (REFERENCE, false, false),
            (Pubkey::new_from_array([12; 32]), false, false)
        ]
    );
    // A token: TransferChecked between the two associated token accounts.
    let t = transfer(&request("12.5", Some(MINT), None), &CUSTOMER, 6).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].program_id, spl_token_interface::ID);
    assert_eq!(
        t[0].accounts[0].pubkey,
        associated_token_account(&CUSTOMER, &MINT)
    );
    assert_eq!(
        t[0].accounts[2].pubkey,
        associated_token_account(&MERCHANT, &MINT)
    );
    // No amount, or one finer than the currency: refused.
    let mut open = request("1", None, None);
    open.amount = None;
    assert_eq!(transfer(&open, &CUSTOMER, 9), Err(PayError::NoAmount));
    assert!(matches!(
        transfer(&request("0.0000001", Some(MINT), None), &CUSTOMER, 6),
        Err(PayError::BadAmount(_))
    ));
}
