use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// A link in virtual time that drops, duplicates, reorders (by random
/// delays) and corrupts frames, each with its own probability in 1/1000.
#[derive(Debug, Clone, Copy)]
struct Weather {
    drop: u32,
    duplicate: u32,
    corrupt: u32,
    jitter_ms: u64,
}

/// xorshift: deterministic per seed, so a failing case replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, per_mille: u32) -> bool {
        self.next() % 1000 < u64::from(per_mille)
    }
}

struct Outcome {
    received: Vec<Vec<u8>>,
    delivered: Vec<u8>,
    failed: Vec<(u8, Failure)>,
}

/// Sends `messages` from `a` to `b` over the weather until `a` is idle (or
/// ten virtual minutes pass) and reports what each side saw.
fn run(messages: &[Vec<u8>], frame: usize, weather: Weather, seed: u64) -> Outcome {
    let mut a = Endpoint::new(frame, Limits::default()).unwrap();
    let mut b = Endpoint::new(frame, Limits::default()).unwrap();
    for m in messages {
        a.send(m.clone()).unwrap();
    }
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut now = start;
    // (arrival time, sequence) -> (to b?, frame)
    let mut air: BTreeMap<(Instant, u64), (bool, Vec<u8>)> = BTreeMap::new();
    let mut seq = 0u64;
    let mut out = Outcome {
        received: Vec::new(),
        delivered: Vec::new(),
        failed: Vec::new(),
    };
    while now < start + Duration::from_secs(600) {
        for (to_b, ep) in [(true, &mut a), (false, &mut b)] {
            while let Some(mut f) = ep.transmit(now) {
                if rng.chance(weather.drop) {
                    continue;
                }
                let copies = if rng.chance(weather.duplicate) { 2 } else { 1 };
                if rng.chance(weather.corrupt) {
                    let at = (rng.next() as usize) % f.len();
                    f[at] ^= 1 << (rng.next() % 8);
                }
                for _ in 0..copies {
                    let delay = 5 + rng.next() % (weather.jitter_ms + 1);
                    seq += 1;
                    air.insert((now + Duration::from_millis(delay), seq), (to_b, f.clone()));
                }
            }
        }
        while let Some(e) = a.event() {
            match e {
                Event::Delivered(id) => out.delivered.push(id),
                Event::Failed { id, reason } => out.failed.push((id, reason)),
                Event::Received(_) => panic!("b sent nothing"),
            }
        }
        while let Some(e) = b.event() {
            match e {
                Event::Received(m) => out.received.push(m),
                other => panic!("a received nothing: {other:?}"),
            }
        }
        if a.idle() && air.is_empty() {
            break;
        }
        let next_air = air.keys().next().map(|k| k.0);
        let next = [next_air, a.deadline(), b.deadline()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + Duration::from_millis(10));
        now = next.max(now);
        while let Some(entry) = air.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (to_b, f) = entry.remove();
            if to_b {
                b.handle(&f, now)
            } else {
                a.handle(&f, now)
            }
        }
    }
    out
}

fn message(len: usize, tag: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(tag))
        .collect()
}

#[test]
fn messages_cross_a_clean_link_whole_and_in_order() {
    let messages: Vec<Vec<u8>> = [0, 1, 13, 199, 1_232, 5_000, 65_535]
        .iter()
        .enumerate()
        .map(|(i, len)| message(*len, i as u8))
        .collect();
    for frame in [MIN_FRAME, 182, 244, MAX_FRAME] {
        let out = run(
            &messages,
            frame,
            Weather {
                drop: 0,
                duplicate: 0,
                corrupt: 0,
                jitter_ms: 0,
            },
            7,
        );
        assert_eq!(out.received, messages, "frame {frame}");
        assert_eq!(out.delivered, (0..messages.len() as u8).collect::<Vec<_>>());
        assert!(out.failed.is_empty());
    }
}

#[test]
fn a_bad_link_delays_messages_but_delivers_them_intact() {
    let messages: Vec<Vec<u8>> = (0..6).map(|i| message(300 + i * 700, i as u8)).collect();
    let storm = Weather {
        drop: 200,
        duplicate: 100,
        corrupt: 50,
        jitter_ms: 80,
    };
    let out = run(&messages, 182, storm, 99);
    assert_eq!(out.received, messages);
    assert_eq!(out.delivered.len(), messages.len());
}

#[test]
fn a_sender_that_gives_up_makes_the_receiver_drop_the_partial_message() {
    let mut a = Endpoint::new(100, Limits::default()).unwrap();
    let mut b = Endpoint::new(100, Limits::default()).unwrap();
    a.send(message(1_000, 1)).unwrap();
    let start = Instant::now();
    // Only the first fragment gets through; acknowledgements are lost.
    let first = a.transmit(start).unwrap();
    b.handle(&first, start);
    while a.transmit(start).is_some() {}
    let mut now = start;
    let cancel = loop {
        now += Duration::from_secs(1);
        let mut sent = Vec::new();
        while let Some(f) = a.transmit(now) {
            sent.push(f);
        }
        if let Some(Event::Failed {
            id: 0,
            reason: Failure::TimedOut,
        }) = a.event()
        {
            break sent.pop().unwrap();
        }
        assert!(
            now < start + Duration::from_secs(60),
            "the sender never gave up"
        );
    };
    assert_eq!(
        b.deadline().map(|d| d > start),
        Some(true),
        "b holds a partial message"
    );
    b.handle(&cancel, now);
    while b.transmit(start).is_some() {}
    assert_eq!(b.deadline(), None, "b dropped it");
}

#[test]
fn a_dead_link_fails_the_message_instead_of_waiting_forever() {
    let out = run(
        &[message(1_000, 1)],
        182,
        Weather {
            drop: 1000,
            duplicate: 0,
            corrupt: 0,
            jitter_ms: 0,
        },
        3,
    );
    assert_eq!(out.failed, vec![(0, Failure::TimedOut)]);
    assert!(out.received.is_empty());
}

/// Frames of `message` as its sender would put them on the link.
fn frames_of(body: &[u8], frame: usize) -> Vec<Vec<u8>> {
    let mut a = Endpoint::new(frame, Limits::default()).unwrap();
    a.send(body.to_vec()).unwrap();
    let now = Instant::now();
    let mut out = Vec::new();
    // Pretend every fragment is acknowledged so the window keeps opening.
    while let Some(f) = a.transmit(now) {
        out.push(f);
        let next = out.len() as u16;
        a.handle(&ack_frame(0, next, 0), now);
    }
    out
}

#[test]
fn a_frame_altered_with_a_fresh_crc_is_caught_by_the_message_hash() {
    let body = message(600, 9);
    let mut frames = frames_of(&body, 100);
    let f = &mut frames[2];
    let len = f.len();
    f[10] ^= 0xFF;
    let fixed = crc(&f[..len - CRC]);
    f[len - CRC..].copy_from_slice(&fixed);
    let mut b = Endpoint::new(100, Limits::default()).unwrap();
    let now = Instant::now();
    for f in &frames {
        b.handle(f, now);
    }
    assert_eq!(b.event(), None, "nothing delivered");
    assert_eq!(b.transmit(now), Some(abort_frame(0, Failure::Corrupt)));
}

#[test]
fn a_hostile_peer_cannot_make_the_receiver_hold_more_than_the_limits() {
    let limits = Limits {
        max_message: 1_000,
        max_parallel: 2,
        reassembly_timeout: Duration::from_secs(5),
    };
    let now = Instant::now();
    // Announces a message over the limit: refused at once.
    let mut b = Endpoint::new(100, limits).unwrap();
    let huge = frames_of(&message(5_000, 1), 100);
    b.handle(&huge[0], now);
    assert_eq!(b.transmit(now), Some(abort_frame(0, Failure::TooLarge)));
    // Fragments with no header, past the limit: refused when they add up.
    let mut b = Endpoint::new(100, limits).unwrap();
    for f in &huge[1..] {
        b.handle(f, now);
    }
    assert_eq!(b.transmit(now), Some(abort_frame(0, Failure::TooLarge)));
    // A third message at once: busy.
    let mut b = Endpoint::new(100, limits).unwrap();
    for id in 0..3u8 {
        let mut f = frames_of(&message(500, id), 100).remove(1);
        f[1] = id;
        let len = f.len();
        let fixed = crc(&f[..len - CRC]);
        f[len - CRC..].copy_from_slice(&fixed);
        b.handle(&f, now);
    }
    assert_eq!(b.transmit(now), Some(abort_frame(2, Failure::Busy)));
    // And the two it holds are dropped when they stall.
    let later = now + limits.reassembly_timeout;
    assert_eq!(b.deadline(), Some(now + ACK_DELAY));
    let mut aborts = Vec::new();
    while let Some(f) = b.transmit(later) {
        aborts.push(f);
    }
    assert!(aborts.contains(&abort_frame(0, Failure::TimedOut)));
    assert!(aborts.contains(&abort_frame(1, Failure::TimedOut)));
    assert_eq!(b.deadline(), None);
    // The sender hears why.
    let mut a = Endpoint::new(100, limits).unwrap();
    a.send(message(10, 0)).unwrap();
    let _ = a.transmit(now);
    a.handle(&abort_frame(0, Failure::Busy), now);
    assert_eq!(
        a.event(),
        Some(Event::Failed {
            id: 0,
            reason: Failure::Busy
        })
    );
    assert!(a.idle());
}

#[test]
fn sizes_outside_the_limits_are_refused_before_sending() {
    assert_eq!(
        Endpoint::new(19, Limits::default()).err(),
        Some(FrameError::FrameSize(19))
    );
    assert_eq!(
        Endpoint::new(515, Limits::default()).err(),
        Some(FrameError::FrameSize(515))
    );
    let mut a = Endpoint::new(20, Limits::default()).unwrap();
    assert_eq!(
        a.send(vec![0; 65_536]),
        Err(FrameError::TooLarge {
            len: 65_536,
            max: 65_535
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64)
    ))]

    /// Whatever the link does, what arrives is what was sent, in order,
    /// once; what does not arrive is reported failed by its sender.
    #[test]
    fn the_receiver_never_sees_a_wrong_message(
        seed in any::<u64>(),
        sizes in proptest::collection::vec(0usize..3_000, 1..5),
        frame in MIN_FRAME..=MAX_FRAME,
        drop in 0u32..400,
        duplicate in 0u32..300,
        corrupt in 0u32..300,
        jitter_ms in 0u64..200,
    ) {
        let messages: Vec<Vec<u8>> =
            sizes.iter().enumerate().map(|(i, n)| message(*n, i as u8)).collect();
        let out = run(&messages, frame, Weather { drop, duplicate, corrupt, jitter_ms }, seed);
        // Received: in order, each at most once, each one of those sent.
        let mut rest = messages.iter();
        for got in &out.received {
            prop_assert!(rest.any(|m| m == got), "a message nobody sent, or out of order");
        }
        // Every message is accounted for by its sender.
        prop_assert_eq!(out.delivered.len() + out.failed.len(), messages.len());
        for id in &out.delivered {
            prop_assert!(out.received.contains(&messages[usize::from(*id)]));
        }
    }

    /// Random bytes never panic the receiver nor deliver anything.
    #[test]
    fn random_frames_are_dropped(frames in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..600), 0..50)) {
        let mut b = Endpoint::new(MAX_FRAME, Limits::default()).unwrap();
        let now = Instant::now();
        for f in &frames {
            b.handle(f, now);
            // The same bytes with a valid CRC, as DATA, ACK and ABORT.
            for kind in [DATA, ACK, ABORT] {
                let mut body = vec![kind];
                body.extend_from_slice(f);
                b.handle(&sealed(body), now);
            }
        }
        while b.transmit(now).is_some() {}
        prop_assert_eq!(b.event(), None);
    }
}
