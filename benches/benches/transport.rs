//! Transport speed targets (issue: Noise and QR): decoding a 1080p camera
//! frame holding a 1 KB QR code (target: 30 ms median, release) and looking
//! through one holding none, a Noise IK handshake (1 ms) and Noise transport
//! throughput (500 MiB/s).
//!
//! ```text
//! cargo bench -p toss-benches --bench transport
//! ```

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::time::Instant;

use toss_core::noise::{Handshake, StaticKey, prologue};
use toss_core::transport::ble::{
    self,
    frame::{Endpoint, Limits},
};
use toss_core::transport::camera::{self, Buffer, FrameFormat, Resolution};
use toss_core::transport::qr;
use zeroize::Zeroizing;

/// A 1920x1080 YUYV frame with a 1 KB code in the middle, on grey, or
/// (`code: false`) a frame of the same grey with a dark square where the
/// code was: what a camera shows most of the time.
fn frame_1080p(code: bool) -> Buffer {
    let payload: Vec<u8> = (0..1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let mut code_image = qr::bitmap(&payload, 5).unwrap_or_else(|e| panic!("{e}"));
    if !code {
        code_image.pixels.fill(60);
    }
    let code = code_image;
    let (w, h) = (1920usize, 1080usize);
    let mut luma = vec![180u8; w * h];
    let (x0, y0) = ((w - code.width) / 2, (h - code.height) / 2);
    for y in 0..code.height {
        let row = &code.pixels[y * code.width..(y + 1) * code.width];
        luma[(y0 + y) * w + x0..(y0 + y) * w + x0 + code.width].copy_from_slice(row);
    }
    let yuyv: Vec<u8> = luma.iter().flat_map(|y| [*y, 128]).collect();
    Buffer::new(
        Resolution::new(w as u32, h as u32),
        &yuyv,
        FrameFormat::YUYV,
    )
}

fn qr_decode(c: &mut Criterion) {
    let frame = frame_1080p(true);
    c.bench_function("decode a 1080p YUYV frame holding a 1 KB QR code", |b| {
        b.iter(|| {
            let l = camera::luma(&frame, false).unwrap_or_else(|e| panic!("{e}"));
            qr::decode(&l).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    // Both decoders run on a frame without a code: the cost of every
    // frame a live scan looks at before the code comes into view.
    let empty = frame_1080p(false);
    c.bench_function(
        "look for a QR code in a 1080p YUYV frame without one",
        |b| {
            b.iter(|| {
                let l = camera::luma(&empty, false).unwrap_or_else(|e| panic!("{e}"));
                qr::decode(&l)
                    .err()
                    .unwrap_or_else(|| panic!("no code in the frame"))
            })
        },
    );
}

/// A message from one framing endpoint to another over a perfect link:
/// the frames and bytes the sender put on the air.
fn framed(body: &[u8], mtu: u16) -> (usize, usize) {
    let size = ble::frame_size(mtu);
    let mut a = Endpoint::new(size, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut b = Endpoint::new(size, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    a.send(body.to_vec()).unwrap_or_else(|e| panic!("{e}"));
    let now = Instant::now();
    let (mut frames, mut bytes) = (0, 0);
    while !a.idle() {
        while let Some(f) = a.transmit(now) {
            frames += 1;
            bytes += f.len();
            b.handle(&f, now);
        }
        while let Some(f) = b.transmit(now) {
            a.handle(&f, now);
        }
        let _ = b.event();
    }
    (frames, bytes)
}

/// BLE framing: overhead at the usual ATT MTUs (target 5 % at 185) and
/// fragments for a 1,232-byte payload, printed; then the time to frame
/// and reassemble that payload.
fn ble_framing(c: &mut Criterion) {
    let payment: Vec<u8> = (0..1_232u32).map(|i| i as u8).collect();
    let large: Vec<u8> = (0..65_535u32).map(|i| i as u8).collect();
    eprintln!("ATT MTU | frame | frames for 1,232 B | overhead 1,232 B | overhead 64 KiB");
    for mtu in [23u16, 185, 247, 517] {
        let (frames, bytes) = framed(&payment, mtu);
        let (_, large_bytes) = framed(&large, mtu);
        let overhead = |sent: usize, body: usize| 100.0 * (sent - body) as f64 / sent as f64;
        eprintln!(
            "{mtu:>7} | {:>5} | {frames:>18} | {:>15.1} % | {:>13.1} %",
            ble::frame_size(mtu),
            overhead(bytes, payment.len()),
            overhead(large_bytes, large.len()),
        );
    }
    let mut group = c.benchmark_group("BLE framing");
    group.throughput(Throughput::Bytes(payment.len() as u64));
    group.bench_function("frame and reassemble 1,232 B at MTU 185", |b| {
        b.iter(|| framed(&payment, 185))
    });
    group.finish();
}

fn noise(c: &mut Criterion) {
    let (payer, till) = (
        StaticKey::from_secret(Zeroizing::new([1; 32])),
        StaticKey::from_secret(Zeroizing::new([2; 32])),
    );
    let p = prologue(&[9; 32]);
    let handshake = || {
        let mut a =
            Handshake::ik_initiator(&payer, &till.public(), &p).unwrap_or_else(|e| panic!("{e}"));
        let mut b = Handshake::ik_responder(&till, &p).unwrap_or_else(|e| panic!("{e}"));
        let m1 = a.write(&[]).unwrap_or_else(|e| panic!("{e}"));
        b.read(&m1).unwrap_or_else(|e| panic!("{e}"));
        let m2 = b.write(&[]).unwrap_or_else(|e| panic!("{e}"));
        a.read(&m2).unwrap_or_else(|e| panic!("{e}"));
        (
            a.finish().unwrap_or_else(|e| panic!("{e}")),
            b.finish().unwrap_or_else(|e| panic!("{e}")),
        )
    };
    c.bench_function("Noise IK handshake, both sides", |b| b.iter(handshake));

    let (mut a, _) = handshake();
    let message = vec![0x42u8; 1 << 20];
    let mut g = c.benchmark_group("Noise transport, 1 MiB");
    g.throughput(Throughput::Bytes(message.len() as u64));
    g.bench_function("seal", |bench| {
        bench.iter(|| a.seal(&message).unwrap_or_else(|e| panic!("{e}")))
    });
    // Frames must be opened in the order they were sealed: a fresh
    // session pair per batch, sealing untimed.
    g.bench_function("open", |bench| {
        bench.iter_batched(
            || {
                let (mut a, b) = handshake();
                (a.seal(&message).unwrap_or_else(|e| panic!("{e}")), b)
            },
            |(frames, mut b)| {
                let mut out = None;
                for frame in &frames {
                    out = b.open(frame).unwrap_or_else(|e| panic!("{e}"));
                }
                out
            },
            BatchSize::SmallInput,
        )
    });
    let (mut a, mut b) = handshake(); // in step again
    g.bench_function("seal and open", |bench| {
        bench.iter(|| {
            let mut out = None;
            for frame in a.seal(&message).unwrap_or_else(|e| panic!("{e}")) {
                out = b.open(&frame).unwrap_or_else(|e| panic!("{e}"));
            }
            out
        })
    });
    g.finish();
}

criterion_group!(benches, qr_decode, noise, ble_framing);
criterion_main!(benches);
