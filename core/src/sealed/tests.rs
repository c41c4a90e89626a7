use super::*;

fn till(seed: u8) -> StaticKey {
    StaticKey::from_secret(Zeroizing::new([seed; 32]))
}

const REFERENCE: [u8; 32] = [7; 32];

#[test]
fn only_the_till_for_this_sale_opens_a_sealed_payment() {
    let payment: Vec<u8> = (0..199u8).collect();
    let code = seal(&payment, &till(1).public(), &REFERENCE).unwrap();
    assert!(is_sealed(&code));
    assert_eq!(code.len(), payment.len() + OVERHEAD);
    // The payment is not readable in the code.
    assert!(!code.windows(16).any(|w| w == &payment[..16]));
    assert_eq!(open(&code, &till(1), &REFERENCE).unwrap(), payment);
    // Sealed afresh each time: two codes for one payment differ.
    assert_ne!(seal(&payment, &till(1).public(), &REFERENCE).unwrap(), code);

    assert_eq!(
        open(&code, &till(2), &REFERENCE),
        Err(SealedError::NotForThisSale),
        "another till"
    );
    assert_eq!(
        open(&code, &till(1), &[8; 32]),
        Err(SealedError::NotForThisSale),
        "another sale"
    );
    for i in MAGIC.len() + 1..code.len() {
        let mut altered = code.clone();
        altered[i] ^= 0x40;
        assert_eq!(
            open(&altered, &till(1), &REFERENCE),
            Err(SealedError::NotForThisSale),
            "byte {i}"
        );
    }
}

#[test]
fn what_is_not_a_sealed_payment_says_so() {
    let code = seal(b"payment", &till(1).public(), &REFERENCE).unwrap();
    let t = till(1);
    assert_eq!(
        open(&code[1..], &t, &REFERENCE),
        Err(SealedError::NotSealed)
    );
    assert_eq!(
        open(&[0xFF; 80], &t, &REFERENCE),
        Err(SealedError::NotSealed)
    );
    let mut v2 = code.clone();
    v2[5] = 2;
    assert_eq!(open(&v2, &t, &REFERENCE), Err(SealedError::Version(2)));
    assert_eq!(open(&MAGIC, &t, &REFERENCE), Err(SealedError::Length(5)));
    assert_eq!(
        open(&code[..6 + 48], &t, &REFERENCE),
        Err(SealedError::Length(54))
    );
    assert_eq!(
        seal(&[], &t.public(), &REFERENCE),
        Err(SealedError::Length(0))
    );
    assert_eq!(
        seal(&[0; MAX_PAYMENT + 1], &t.public(), &REFERENCE),
        Err(SealedError::Length(MAX_PAYMENT + 1))
    );
}
