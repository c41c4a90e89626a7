use std::sync::atomic::AtomicUsize;

use super::*;

fn payload() -> Vec<u8> {
    (0..300u32).map(|i| (i * 13 % 256) as u8).collect()
}

fn code(scale: usize) -> Luma {
    qr::bitmap(&payload(), scale).unwrap()
}

fn res(l: &Luma) -> Resolution {
    Resolution::new(l.width as u32, l.height as u32)
}

/// The same picture as a camera would deliver it in `format`.
fn frame(l: &Luma, format: FrameFormat) -> Buffer {
    let data: Vec<u8> = match format {
        FrameFormat::GRAY => l.pixels.clone(),
        FrameFormat::YUYV => l.pixels.iter().flat_map(|y| [*y, 128]).collect(),
        FrameFormat::NV12 => {
            let mut d = l.pixels.clone();
            d.extend(std::iter::repeat_n(128, l.pixels.len() / 2));
            d
        }
        FrameFormat::RAWRGB | FrameFormat::RAWBGR => {
            l.pixels.iter().flat_map(|y| [*y, *y, *y]).collect()
        }
        FrameFormat::MJPEG => {
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, 90)
                .encode(
                    &l.pixels,
                    l.width as u16,
                    l.height as u16,
                    jpeg_encoder::ColorType::Luma,
                )
                .unwrap();
            out
        }
    };
    Buffer::new(res(l), &data, format)
}

fn map(l: &Luma, f: impl Fn(usize, usize, u8) -> u8) -> Luma {
    let mut out = l.clone();
    for y in 0..l.height {
        for x in 0..l.width {
            out.pixels[y * l.width + x] = f(x, y, l.pixels[y * l.width + x]);
        }
    }
    out
}

#[test]
fn every_camera_format_decodes_through_the_same_path() {
    let image = code(4);
    for format in [
        FrameFormat::GRAY,
        FrameFormat::YUYV,
        FrameFormat::NV12,
        FrameFormat::RAWRGB,
        FrameFormat::RAWBGR,
        FrameFormat::MJPEG,
    ] {
        let l = luma(&frame(&image, format), false).unwrap();
        assert_eq!((l.width, l.height), (image.width, image.height));
        assert_eq!(qr::decode(&l).unwrap(), payload(), "{format}");
    }
}

#[test]
fn scaled_rotated_noisy_dim_and_mirrored_frames_decode() {
    let base = code(3);
    // Rotated a quarter turn (the frame is square).
    let rotated = map(&base, |x, y, _| {
        base.pixels[x * base.width + (base.width - 1 - y)]
    });
    // Noise: a fixed pseudo-random +-60 on every pixel.
    let noisy = map(&base, |x, y, v| {
        let n = ((x * 7919 + y * 104_729) % 121) as i32 - 60;
        (i32::from(v) + n).clamp(0, 255) as u8
    });
    // Low contrast: black is 110, white 150.
    let dim = map(&base, |_, _, v| if v < 128 { 110 } else { 150 });
    for (name, image) in [
        ("scale 2", code(2)),
        ("scale 6", code(6)),
        ("rotated", rotated),
        ("noisy", noisy),
        ("dim", dim),
    ] {
        let l = luma(&frame(&image, FrameFormat::YUYV), false).unwrap();
        assert_eq!(qr::decode(&l).unwrap(), payload(), "{name}");
    }
    // A front camera shows the code mirrored; the mirror toggle undoes it.
    let mirrored = map(&base, |x, y, _| {
        base.pixels[y * base.width + (base.width - 1 - x)]
    });
    let l = luma(&frame(&mirrored, FrameFormat::GRAY), true).unwrap();
    assert_eq!(qr::decode(&l).unwrap(), payload());
}

#[test]
fn previews_are_small_copies() {
    let big = Luma {
        width: 1920,
        height: 1080,
        pixels: (0..1920 * 1080).map(|i| (i % 251) as u8).collect(),
    };
    let p = preview(&big);
    assert_eq!((p.width, p.height), (320, 180));
    assert_eq!(p.pixels[0], big.pixels[0]);
    assert_eq!(p.pixels[1], big.pixels[6]);
    assert_eq!(p.pixels[320], big.pixels[6 * 1920]);
}

#[test]
fn a_frame_shorter_than_its_size_is_refused() {
    let image = code(2);
    let short = Buffer::new(res(&image), &image.pixels[..100], FrameFormat::YUYV);
    assert!(matches!(
        luma(&short, false),
        Err(CameraError::BadFrame { .. })
    ));
    let junk = Buffer::new(res(&image), &[0xff, 0xd8, 0, 1, 2], FrameFormat::MJPEG);
    assert!(matches!(luma(&junk, false), Err(CameraError::Failed(_))));
}

/// Frames from a list, in a loop; counts reads, and says when dropped.
struct Synthetic {
    frames: Vec<Buffer>,
    reads: Arc<AtomicUsize>,
    released: Arc<AtomicBool>,
    fail_after: Option<usize>,
}

impl Capture for Synthetic {
    fn frame(&mut self) -> Result<Buffer, CameraError> {
        let n = self.reads.fetch_add(1, Ordering::SeqCst);
        if self.fail_after.is_some_and(|f| n >= f) {
            return Err(CameraError::Busy);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        Ok(self.frames[n % self.frames.len()].clone())
    }
}

impl Drop for Synthetic {
    fn drop(&mut self) {
        self.released.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_scanner_decodes_off_thread_and_releases_the_camera_when_dropped() {
    let blank = Luma {
        width: 64,
        height: 64,
        pixels: vec![255; 64 * 64],
    };
    let frames = vec![
        frame(&blank, FrameFormat::GRAY),
        frame(&code(3), FrameFormat::NV12),
    ];
    let (reads, released) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let (r, d) = (reads.clone(), released.clone());
    let scanner = Scanner::start(
        move || {
            Ok(Synthetic {
                frames,
                reads: r,
                released: d,
                fail_after: None,
            })
        },
        false,
    );
    match scanner.next() {
        Some(Scan::Frame {
            width: 64,
            height: 64,
            preview: Some(p),
        }) => assert_eq!((p.width, p.height, p.pixels.len()), (64, 64, 64 * 64)),
        other => panic!("{other:?}"),
    }
    assert_eq!(scanner.next(), Some(Scan::Code(payload())));
    drop(scanner);
    assert!(released.load(Ordering::SeqCst), "the capture was released");
    let after = reads.load(Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(reads.load(Ordering::SeqCst), after, "no reads after stop");
}

#[test]
fn a_failing_camera_is_reported_and_the_scanner_stops() {
    let released = Arc::new(AtomicBool::new(false));
    let d = released.clone();
    let scanner = Scanner::start(
        move || {
            Ok(Synthetic {
                frames: vec![frame(&code(2), FrameFormat::GRAY)],
                reads: Arc::new(AtomicUsize::new(0)),
                released: d,
                fail_after: Some(1),
            })
        },
        false,
    );
    assert_eq!(scanner.next(), Some(Scan::Code(payload())));
    assert_eq!(scanner.next(), Some(Scan::Failed(CameraError::Busy)));
    assert_eq!(scanner.next(), None, "stopped");
    assert!(released.load(Ordering::SeqCst));
    let no_camera = Scanner::start(|| Err::<Synthetic, _>(CameraError::NoCamera), false);
    assert_eq!(no_camera.next(), Some(Scan::Failed(CameraError::NoCamera)));
}

#[test]
fn an_image_file_scans() {
    let tmp = tempfile::tempdir().unwrap();
    let image = code(4);
    let path = tmp.path().join("code.png");
    image::GrayImage::from_raw(
        image.width as u32,
        image.height as u32,
        image.pixels.clone(),
    )
    .unwrap()
    .save(&path)
    .unwrap();
    assert_eq!(scan_file(&path).unwrap(), payload());
    assert!(matches!(
        scan_file(&tmp.path().join("missing.png")),
        Err(QrError::Image(_))
    ));
}
