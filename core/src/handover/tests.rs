use zeroize::Zeroizing;

use super::*;

fn key(n: u8) -> StaticKey {
    StaticKey::from_secret(Zeroizing::new([n; 32]))
}

fn intents() -> Vec<Vec<u8>> {
    vec![vec![1; 199], vec![2; 199], vec![3; 263]]
}

/// Refuses the second intent, accepts the others (as its id, the first byte).
fn judge(list: &[Vec<u8>]) -> Vec<Verdict> {
    list.iter()
        .map(|wire| match wire[0] {
            2 => Err("expired".into()),
            b => Ok([b; 32]),
        })
        .collect()
}

/// Drives two sides against each other, message by message.
fn play(mut initiator: Handover, mut responder: Handover) -> (Outcome, Outcome) {
    let mut to_responder = initiator.first().unwrap();
    assert_eq!(responder.first().unwrap(), None);
    let mut done_i = None;
    let mut done_r = None;
    while done_i.is_none() || done_r.is_none() {
        let m = to_responder.take().expect("the initiator has spoken");
        let to_initiator = match responder.on_message(&m).unwrap() {
            Step::Send(r) => r,
            Step::Finish(r, outcome) => {
                done_r = Some(outcome);
                r.expect("the responder answers last")
            }
        };
        match initiator.on_message(&to_initiator).unwrap() {
            Step::Send(r) => to_responder = Some(r),
            Step::Finish(None, outcome) => done_i = Some(outcome),
            Step::Finish(Some(_), _) => panic!("the initiator spoke last"),
        }
    }
    (done_i.unwrap(), done_r.unwrap())
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
    let mut card = Handover::payer(Role::Responder, &key(1), intents()).unwrap();
    let reader = Handover::payee(Role::Initiator, &key(2), judge).unwrap();
    let outcome = run_exchanges(
        |m| match card.on_message(m)? {
            Step::Send(r) | Step::Finish(Some(r), _) => Ok(r),
            Step::Finish(None, _) => Err(HandoverError::Link("no answer".into())),
        },
        reader,
    )
    .unwrap();
    assert!(matches!(outcome, Outcome::Received { verdicts, .. } if verdicts.len() == 3));
    // The card cannot start a request/response exchange.
    let responder = Handover::payee(Role::Responder, &key(2), judge).unwrap();
    assert!(matches!(
        run_exchanges(|_| Ok(vec![]), responder),
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
    let mut i = Handover::payer(Role::Initiator, &key(1), intents()).unwrap();
    let mut r = Handover::payee(Role::Responder, &key(2), judge).unwrap();
    let hs1 = i.first().unwrap().unwrap();
    let Step::Send(mut hs2) = r.on_message(&hs1).unwrap() else {
        panic!()
    };
    hs2[40] ^= 1;
    assert!(matches!(i.on_message(&hs2), Err(HandoverError::Noise(_))));
    // Garbage where the session's messages belong, and messages after the end.
    let mut r = Handover::payee(Role::Responder, &key(2), judge).unwrap();
    let mut i = Handover::payer(Role::Initiator, &key(1), intents()).unwrap();
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
    let mut i = Handover::payer(Role::Initiator, &key(1), intents()).unwrap();
    let mut r = Handover::payee(Role::Responder, &key(2), judge).unwrap();
    let mut to_r = i.first().unwrap().unwrap();
    let last = loop {
        match r.on_message(&to_r).unwrap() {
            Step::Send(m) => match i.on_message(&m).unwrap() {
                Step::Send(next) => to_r = next,
                Step::Finish(..) => panic!("the responder answers last"),
            },
            Step::Finish(Some(m), _) => break m,
            Step::Finish(None, _) => panic!("no acknowledgement"),
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
