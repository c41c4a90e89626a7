//! Instruction data round trips: every instruction packs to bytes that
//! unpack to it, and every byte string that unpacks packs back to itself
//! (one encoding per instruction, as the fuzz target also asserts).
#![allow(clippy::unwrap_used)] // a failing property should stop loudly

use proptest::prelude::*;
use toss_program::instruction::TossInstruction;

fn instruction() -> impl Strategy<Value = TossInstruction> {
    prop_oneof![
        (any::<[u8; 8]>(), any::<u32>(), any::<bool>()).prop_map(
            |(cluster, withdraw_delay, spl)| {
                TossInstruction::OpenEscrow {
                    cluster,
                    withdraw_delay,
                    spl,
                }
            }
        ),
        any::<u64>().prop_map(|amount| TossInstruction::Deposit { amount }),
        any::<u64>().prop_map(|amount| TossInstruction::RequestWithdrawal { amount }),
        Just(TossInstruction::Withdraw),
        proptest::collection::vec(any::<(u8, u8)>(), 1..=255)
            .prop_map(|items| TossInstruction::Settle { items }),
        any::<(u8, u8)>().prop_map(|(check_ix, signature)| TossInstruction::SettleDurable {
            check_ix,
            signature
        }),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 1..8)
            .prop_map(|intents| TossInstruction::SettleSigned { intents }),
        Just(TossInstruction::CloseRecord),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
    ))]

    #[test]
    fn pack_then_unpack_is_identity(i in instruction()) {
        prop_assert_eq!(TossInstruction::unpack(&i.pack()).unwrap(), i);
    }

    #[test]
    fn what_unpacks_packs_back_to_the_same_bytes(
        tag in 0u8..9,
        rest in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let data = [&[tag][..], &rest].concat();
        if let Ok(i) = TossInstruction::unpack(&data) {
            prop_assert_eq!(i.pack(), data);
        }
    }
}
