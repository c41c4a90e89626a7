//! The live scan's events from synthetic camera frames (the camera seam:
//! frames built in memory, through the same capture trait a webcam fills):
//! previews, animated-code progress, the code, and the camera released.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use toss_core::transport::animated::Sender;
use toss_core::transport::camera::{Buffer, CameraError, Capture, FrameFormat, Resolution};
use toss_core::transport::live_scan::{LiveScan, ScanEvent};
use toss_core::transport::qr;

const REQUEST: &str = "solana:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN?amount=1.5&label=Till";

/// A 640x480 grey frame, with `code` drawn in the middle if given.
fn frame(code: Option<&[u8]>) -> Buffer {
    let (w, h) = (640usize, 480usize);
    let mut luma = vec![200u8; w * h];
    if let Some(payload) = code {
        let c = qr::bitmap(payload, 3).unwrap();
        let (x0, y0) = ((w - c.width) / 2, (h - c.height) / 2);
        for y in 0..c.height {
            luma[(y0 + y) * w + x0..(y0 + y) * w + x0 + c.width]
                .copy_from_slice(&c.pixels[y * c.width..(y + 1) * c.width]);
        }
    }
    Buffer::new(
        Resolution::new(w as u32, h as u32),
        &luma,
        FrameFormat::GRAY,
    )
}

/// Plays `frames` in a loop; says when it is dropped (camera released).
struct Reel {
    frames: Vec<Buffer>,
    at: usize,
    released: Arc<AtomicBool>,
}

impl Capture for Reel {
    fn frame(&mut self) -> Result<Buffer, CameraError> {
        std::thread::sleep(Duration::from_millis(5));
        self.at += 1;
        Ok(self.frames[(self.at - 1) % self.frames.len()].clone())
    }
}

impl Drop for Reel {
    fn drop(&mut self) {
        self.released.store(true, Ordering::SeqCst);
    }
}

fn scan(frames: Vec<Buffer>) -> (LiveScan, mpsc::Receiver<ScanEvent>, Arc<AtomicBool>) {
    let released = Arc::new(AtomicBool::new(false));
    let flag = released.clone();
    let (tx, rx) = mpsc::channel();
    let session = LiveScan::start(
        move || {
            Ok(Reel {
                frames,
                at: 0,
                released: flag,
            })
        },
        false,
        move |e| {
            let _ = tx.send(e);
        },
    );
    (session, rx, released)
}

fn until_code(rx: &mpsc::Receiver<ScanEvent>) -> (Vec<ScanEvent>, ScanEvent) {
    let mut before = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)).unwrap() {
            e @ (ScanEvent::Code { .. } | ScanEvent::Failed { .. }) => return (before, e),
            e => before.push(e),
        }
    }
}

#[test]
fn a_live_scan_previews_then_reports_the_code_and_releases_the_camera() {
    let mut frames: Vec<Buffer> = (0..3).map(|_| frame(None)).collect();
    frames.push(frame(Some(REQUEST.as_bytes())));
    let (session, rx, released) = scan(frames);
    let (before, code) = until_code(&rx);
    let ScanEvent::Preview { png, width, .. } = &before[0] else {
        panic!("a preview first: {before:?}")
    };
    assert!(png.starts_with("data:image/png;base64,"));
    assert_eq!(*width, 640);
    let ScanEvent::Code { scanned } = code else {
        panic!("{code:?}")
    };
    let v = serde_json::to_value(&scanned).unwrap();
    assert_eq!(v["kind"], "payment-request");
    assert_eq!(v["request"]["label"], "Till");
    drop(session);
    assert!(released.load(Ordering::SeqCst), "the camera is released");
}

#[test]
fn an_animated_code_reports_progress_and_a_stopped_scan_releases_the_camera() {
    let payload: Vec<u8> = (0..1_500u32).map(|i| (i * 7) as u8).collect();
    let mut sender = Sender::new(&payload, 200).unwrap();
    let frames: Vec<Buffer> = (0..20)
        .map(|_| frame(Some(sender.next_frame().unwrap().as_bytes())))
        .collect();
    let (session, rx, released) = scan(frames);
    let (before, code) = until_code(&rx);
    assert!(
        before
            .iter()
            .any(|e| matches!(e, ScanEvent::Progress { total, .. } if *total > 1)),
        "{before:?}"
    );
    let ScanEvent::Code { scanned } = code else {
        panic!("{code:?}")
    };
    assert_eq!(
        serde_json::to_value(&scanned).unwrap()["hex"],
        hex::encode(&payload)
    );
    drop(session);
    assert!(released.load(Ordering::SeqCst));

    // Stopped while nothing was found: it ends and lets the camera go.
    let (session, rx, released) = scan(vec![frame(None)]);
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        ScanEvent::Preview { .. }
    ));
    drop(session);
    assert!(released.load(Ordering::SeqCst));
}

#[test]
fn a_camera_that_cannot_open_is_reported() {
    let (tx, rx) = mpsc::channel();
    let _session = LiveScan::start(
        || -> Result<Reel, CameraError> { Err(CameraError::Busy) },
        false,
        move |e| {
            let _ = tx.send(e);
        },
    );
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        ScanEvent::Failed {
            message: CameraError::Busy.to_string()
        }
    );
}
