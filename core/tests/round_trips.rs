//! Round trips where an encoder meets a decoder, for every valid input: a
//! sealed payment opens to what was sealed, and a transaction request's
//! link reads back as it was shown (the fuzz targets check the other way:
//! what decodes, encodes back).
#![allow(clippy::unwrap_used)] // a failing property should stop loudly

use proptest::prelude::*;
use toss_core::noise::StaticKey;
use toss_core::transaction_request::Link;
use zeroize::Zeroizing;

fn cases() -> ProptestConfig {
    ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000),
    )
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn a_sealed_payment_opens_to_what_was_sealed(
        payment in proptest::collection::vec(any::<u8>(), 1..600),
        secret in any::<[u8; 32]>(),
        reference in any::<[u8; 32]>(),
    ) {
        let till = StaticKey::from_secret(Zeroizing::new(secret));
        let code = toss_core::sealed::seal(&payment, &till.public(), &reference).unwrap();
        prop_assert_eq!(toss_core::sealed::open(&code, &till, &reference).unwrap(), payment);
    }

    #[test]
    fn a_link_reads_back_as_it_is_shown(
        path in "[a-z0-9/._~-]{0,30}",
        query in proptest::option::of("[a-z0-9=&%._~-]{1,30}"),
        label in proptest::option::of("\\PC{1,20}"),
        message in proptest::option::of("\\PC{1,20}"),
    ) {
        let text = match &query {
            Some(q) => format!("https://shop.example/{path}?{q}"),
            None => format!("https://shop.example/{path}"),
        };
        let link = Link {
            url: url::Url::parse(&text).unwrap(),
            label,
            message,
        };
        prop_assert_eq!(Link::parse(&link.to_text()).unwrap(), link);
    }
}
