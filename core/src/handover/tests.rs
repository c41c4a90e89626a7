use zeroize::Zeroizing;

use super::*;

fn key(n: u8) -> StaticKey {
    StaticKey::from_secret(Zeroizing::new([n; 32]))
}

fn intents() -> Vec<Vec<u8>> {
    vec![vec![1; 199], vec![2; 199], vec![3; 263]]
}

/// Refuses the second intent, accepts the others (as its id, the first byte).
/// The sale the till shows and a payer scanned.
const SALE: [u8; 32] = [9; 32];

fn judge(list: &[Vec<u8>]) -> Vec<Verdict> {
    list.iter()
        .map(|wire| match wire[0] {
            2 => Err("expired".into()),
            b => Ok([b; 32]),
        })
        .collect()
}

/// A side's next step; a confirmation is answered by comparing the codes
/// the two screens show, as a person would (and counted in `asked`).
fn answer(side: &mut Handover, other: &Handover, step: Step, asked: &mut usize) -> Step {
    match step {
        Step::Confirm(code) => {
            *asked += 1;
            assert_eq!(
                other.verification_code(),
                Some(code.as_str()),
                "the till shows it"
            );
            side.confirm(true).unwrap()
        }
        step => step,
    }
}

/// Drives two sides against each other, message by message; also says
/// how many times a person was asked to compare the codes.
fn play_counting(mut initiator: Handover, mut responder: Handover) -> (Outcome, Outcome, usize) {
    let mut to_responder = initiator.first().unwrap();
    assert_eq!(responder.first().unwrap(), None);
    let (mut done_i, mut done_r, mut asked) = (None, None, 0);
    while done_i.is_none() || done_r.is_none() {
        let m = to_responder.take().expect("the initiator has spoken");
        let step = responder.on_message(&m).unwrap();
        let to_initiator = match answer(&mut responder, &initiator, step, &mut asked) {
            Step::Send(r) => r,
            Step::Finish(r, outcome) => {
                done_r = Some(outcome);
                r.expect("the responder answers last")
            }
            Step::Confirm(_) => panic!("asked twice"),
        };
        let step = initiator.on_message(&to_initiator).unwrap();
        match answer(&mut initiator, &responder, step, &mut asked) {
            Step::Send(r) => to_responder = Some(r),
            Step::Finish(None, outcome) => done_i = Some(outcome),
            Step::Finish(Some(_), _) => panic!("the initiator spoke last"),
            Step::Confirm(_) => panic!("asked twice"),
        }
    }
    (done_i.unwrap(), done_r.unwrap(), asked)
}

fn play(initiator: Handover, responder: Handover) -> (Outcome, Outcome) {
    let (i, r, _) = play_counting(initiator, responder);
    (i, r)
}

fn expected_acknowledgement() -> Acknowledgement {
    Acknowledgement {
        entries: vec![
            Answer {
                index: 0,
                refused: None,
            },
            Answer {
                index: 1,
                refused: Some("expired".into()),
            },
            Answer {
                index: 2,
                refused: None,
            },
        ],
    }
}

#[test]
fn the_payer_can_start_or_answer_and_the_acknowledgement_says_what_was_kept() {
    for payer_starts in [true, false] {
        let (payer_role, payee_role) = match payer_starts {
            true => (Role::Initiator, Role::Responder),
            false => (Role::Responder, Role::Initiator),
        };
        let payer = Handover::payer(payer_role, &key(1), intents()).unwrap();
        let payee = Handover::payee(payee_role, &key(2), judge).unwrap();
        let (a, b) = match payer_starts {
            true => play(payer, payee),
            false => {
                let (i, r) = play(payee, payer);
                (r, i)
            }
        };
        let (
            Outcome::Paid {
                acknowledgement,
                verification_code: c1,
            },
            Outcome::Received {
                verdicts,
                verification_code: c2,
            },
        ) = (a, b)
        else {
            panic!("wrong outcomes");
        };
        assert_eq!(acknowledgement, expected_acknowledgement());
        assert_eq!(
            verdicts,
            vec![Ok([1; 32]), Err("expired".into()), Ok([3; 32])]
        );
        assert_eq!(c1, c2);
    }
}

#[test]
fn a_request_response_link_carries_it_with_the_reader_as_initiator() {
    let mut card = Handover::payer(Role::Responder, &key(1), intents())
        .unwrap()
        .for_sale(SALE, Some(key(2).public()));
    let reader = Handover::payee(Role::Initiator, &key(2), judge)
        .unwrap()
        .for_sale(SALE, None);
    let mut shown = Vec::new();
    let outcome = run_exchanges(
        |m| match card.on_message(m)? {
            Step::Send(r) | Step::Finish(Some(r), _) => Ok(r),
            Step::Finish(None, _) | Step::Confirm(_) => {
                Err(HandoverError::Link("no answer".into()))
            }
        },
        reader,
        |code| shown.push(code.to_owned()),
        |_| panic!("a till is never asked"),
    )
    .unwrap();
    assert_eq!(shown.len(), 1, "the till's screen got the code once");
    assert!(matches!(outcome, Outcome::Received { verdicts, .. } if verdicts.len() == 3));
    // The card cannot start a request/response exchange.
    let responder = Handover::payee(Role::Responder, &key(2), judge).unwrap();
    assert!(matches!(
        run_exchanges(|_| Ok(vec![]), responder, |_| {}, |_| true),
        Err(HandoverError::Protocol(_))
    ));
}

#[test]
fn bad_input_stops_the_handover_with_a_clear_error() {
    assert_eq!(
        Handover::payer(Role::Initiator, &key(1), vec![]).err(),
        Some(HandoverError::NoIntents)
    );
    assert!(matches!(
        Handover::payer(Role::Initiator, &key(1), vec![vec![0; 40_000]; 2]).err(),
        Some(HandoverError::TooLarge(_))
    ));
    assert_eq!(
        Handover::payer(Role::Initiator, &key(1), vec![vec![0; 10]; 65]).err(),
        Some(HandoverError::TooMany(65))
    );
    // A tampered handshake message.
    let mut i = Handover::payer(Role::Initiator, &key(1), intents())
        .unwrap()
        .for_sale(SALE, Some(key(2).public()));
    let mut r = Handover::payee(Role::Responder, &key(2), judge)
        .unwrap()
        .for_sale(SALE, None);
    let hs1 = i.first().unwrap().unwrap();
    let Step::Send(mut hs2) = r.on_message(&hs1).unwrap() else {
        panic!()
    };
    hs2[40] ^= 1;
    assert!(matches!(i.on_message(&hs2), Err(HandoverError::Noise(_))));
    // Garbage where the session's messages belong, and messages after the end.
    let mut r = Handover::payee(Role::Responder, &key(2), judge)
        .unwrap()
        .for_sale(SALE, None);
    let mut i = Handover::payer(Role::Initiator, &key(1), intents())
        .unwrap()
        .for_sale(SALE, Some(key(2).public()));
    let hs1 = i.first().unwrap().unwrap();
    let Step::Send(hs2) = r.on_message(&hs1).unwrap() else {
        panic!()
    };
    let Step::Send(hs3) = i.on_message(&hs2).unwrap() else {
        panic!()
    };
    let Step::Send(_ready) = r.on_message(&hs3).unwrap() else {
        panic!()
    };
    assert!(i.verification_code().is_some());
    assert!(matches!(
        i.on_message(b"not a noise frame"),
        Err(HandoverError::Noise(_))
    ));
    // After an error, or after the end, nothing more is taken.
    assert!(matches!(
        i.on_message(b"more"),
        Err(HandoverError::Protocol(_))
    ));
    let mut i = Handover::payer(Role::Initiator, &key(1), intents())
        .unwrap()
        .for_sale(SALE, Some(key(2).public()));
    let mut r = Handover::payee(Role::Responder, &key(2), judge)
        .unwrap()
        .for_sale(SALE, None);
    let mut to_r = i.first().unwrap().unwrap();
    let last = loop {
        match r.on_message(&to_r).unwrap() {
            Step::Send(m) => match i.on_message(&m).unwrap() {
                Step::Send(next) => to_r = next,
                Step::Finish(..) | Step::Confirm(_) => panic!("the responder answers last"),
            },
            Step::Finish(Some(m), _) => break m,
            Step::Finish(None, _) | Step::Confirm(_) => panic!("no acknowledgement"),
        }
    };
    assert!(matches!(
        i.on_message(&last).unwrap(),
        Step::Finish(None, _)
    ));
    assert!(matches!(
        i.on_message(&last),
        Err(HandoverError::Protocol(_))
    ));
    assert!(matches!(
        r.on_message(&last),
        Err(HandoverError::Protocol(_))
    ));
}

#[test]
fn application_messages_are_checked_before_use() {
    for bad in [
        &[][..],
        &[2, READY],
        &[VERSION, 9],
        &[VERSION, INTENTS, 0],
        &[VERSION, INTENTS, 1, 0, 5, 1, 2],
        &[VERSION, ACK, 1, 7],
        &[VERSION, ACK, 1, 1, 1, 0xFF],
        &[VERSION, DONE, 0],
    ] {
        assert!(
            matches!(parse(bad), Err(HandoverError::Protocol(_))),
            "{bad:?}"
        );
    }
    // Round trips, including a reason cut at a character boundary.
    let long = "é".repeat(200);
    let Message::Acknowledgement(r) = parse(&ack_message(&[Ok([0; 32]), Err(long)])).unwrap()
    else {
        panic!()
    };
    assert_eq!(r.entries[1].refused.as_deref().map(str::len), Some(254));
    assert!(check_acknowledgement(&r, 2).is_ok());
    assert!(check_acknowledgement(&r, 3).is_err());
    let Message::Intents(list) = parse(&intents_message(&intents())).unwrap() else {
        panic!()
    };
    assert_eq!(list, intents());
}

#[test]
fn a_payer_that_scanned_the_sale_is_bound_to_it_and_holds_the_till_to_its_key() {
    for payer_starts in [true, false] {
        let (payer_role, payee_role) = match payer_starts {
            true => (Role::Initiator, Role::Responder),
            false => (Role::Responder, Role::Initiator),
        };
        let payer = || {
            Handover::payer(payer_role, &key(1), intents())
                .unwrap()
                .for_sale(SALE, Some(key(2).public()))
        };
        let till = |sale| {
            Handover::payee(payee_role, &key(2), judge)
                .unwrap()
                .for_sale(sale, None)
        };
        // The right till, the right sale: nobody is asked anything.
        let (i, r, asked) = match payer_starts {
            true => play_counting(payer(), till(SALE)),
            false => play_counting(till(SALE), payer()),
        };
        assert_eq!(asked, 0);
        assert!(matches!(
            (&i, &r),
            (Outcome::Paid { .. }, Outcome::Received { .. })
                | (Outcome::Received { .. }, Outcome::Paid { .. })
        ));
        // A till taking another sale: refused before any key is exchanged.
        assert_eq!(
            first_error(payer(), till([8; 32]), payer_starts),
            HandoverError::OtherSale
        );
        // A device that is not the till whose key the request named.
        let impostor = Handover::payee(payee_role, &key(3), judge)
            .unwrap()
            .for_sale(SALE, None);
        let e = first_error(payer(), impostor, payer_starts);
        assert_eq!(e, HandoverError::NotTheTill);
        assert_eq!(
            e.to_string(),
            "this device is not the till whose code you scanned (its key differs): nothing was sent"
        );
    }
}

/// Runs `payer` against `payee` (the payer first when `payer_starts`) to
/// the first error either side reports.
fn first_error(payer: Handover, payee: Handover, payer_starts: bool) -> HandoverError {
    let (mut i, mut r) = match payer_starts {
        true => (payer, payee),
        false => (payee, payer),
    };
    let mut message = i.first().unwrap().unwrap();
    let mut turn = 0;
    loop {
        let side = if turn % 2 == 0 { &mut r } else { &mut i };
        match side.on_message(&message) {
            Err(e) => return e,
            Ok(Step::Send(next)) => message = next,
            Ok(other) => panic!("no error: {other:?}"),
        }
        turn += 1;
    }
}

#[test]
fn a_payer_that_scanned_nothing_sends_only_once_the_codes_are_confirmed() {
    for payer_starts in [true, false] {
        let (payer_role, payee_role) = match payer_starts {
            true => (Role::Initiator, Role::Responder),
            false => (Role::Responder, Role::Initiator),
        };
        let payer = || Handover::payer(payer_role, &key(1), intents()).unwrap();
        let till = || {
            Handover::payee(payee_role, &key(2), judge)
                .unwrap()
                .for_sale(SALE, None)
        };
        // Asked once; the same code on both screens; then paid.
        let (_, _, asked) = match payer_starts {
            true => play_counting(payer(), till()),
            false => play_counting(till(), payer()),
        };
        assert_eq!(asked, 1);
        // The person says the codes differ: the intents never leave.
        let (mut i, mut r) = match payer_starts {
            true => (payer(), till()),
            false => (till(), payer()),
        };
        let mut message = i.first().unwrap().unwrap();
        let mut turn = 0;
        let refused = loop {
            let side = if turn % 2 == 0 { &mut r } else { &mut i };
            match side.on_message(&message).unwrap() {
                Step::Send(next) => message = next,
                Step::Confirm(_) => break side.confirm(false),
                Step::Finish(..) => panic!("finished without asking"),
            }
            turn += 1;
        };
        assert_eq!(refused, Err(HandoverError::CodeRejected));
        let payer_side = if payer_starts { &mut i } else { &mut r };
        assert!(
            payer_side.confirm(true).is_err(),
            "asked once, answered once"
        );
    }
}

#[test]
fn a_hello_changed_on_the_way_breaks_the_session() {
    // Someone in between says "no sale" to the till for a payer bound to
    // one (to have the codes compared instead): the prologues differ, and
    // the payer's handshake fails.
    let mut payer = Handover::payer(Role::Initiator, &key(1), intents())
        .unwrap()
        .for_sale(SALE, Some(key(2).public()));
    let mut till = Handover::payee(Role::Responder, &key(2), judge)
        .unwrap()
        .for_sale(SALE, None);
    let mut hello = payer.first().unwrap().unwrap();
    hello[0] = 0;
    hello[1..33].fill(0);
    let Step::Send(hs2) = till.on_message(&hello).unwrap() else {
        panic!()
    };
    assert!(matches!(
        payer.on_message(&hs2),
        Err(HandoverError::Noise(_))
    ));
    // A hello of another kind, or cut short.
    let mut till = Handover::payee(Role::Responder, &key(2), judge).unwrap();
    assert!(matches!(
        till.on_message(&[2; 40]),
        Err(HandoverError::Protocol(_))
    ));
    let mut till = Handover::payee(Role::Responder, &key(2), judge).unwrap();
    assert!(matches!(
        till.on_message(&[1; 20]),
        Err(HandoverError::Protocol(_))
    ));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
    ))]

    /// The intents message round trips for every list a payer can send.
    #[test]
    fn the_intents_message_round_trips(
        list in proptest::collection::vec(
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            1..=MAX_INTENTS,
        ),
    ) {
        let Ok(Message::Intents(back)) = parse(&intents_message(&list)) else {
            panic!("not read back")
        };
        proptest::prop_assert_eq!(back, list);
    }
}
