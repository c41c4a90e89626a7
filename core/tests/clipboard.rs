//! Scanning from the clipboard through a real X server (Xvfb, started
//! here): an image of a code, copied text, an image without a code, an
//! empty clipboard, and no display at all.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::process::Command;

use toss_core::transport::clipboard::{ClipboardError, scan};
use toss_core::transport::qr::{self, QrError};

#[path = "support/processes.rs"]
mod processes;

use processes::{Running, until_first_line};

/// An X server of its own, on the display number it picks.
fn xvfb() -> (Running, String) {
    let mut cmd = Command::new("Xvfb");
    cmd.args([
        "-displayfd",
        "1",
        "-screen",
        "0",
        "640x480x24",
        "-nolisten",
        "tcp",
    ]);
    let (server, number) = until_first_line(cmd);
    (server, format!(":{number}"))
}

fn rgba(image: &qr::Luma) -> arboard::ImageData<'static> {
    arboard::ImageData {
        width: image.width,
        height: image.height,
        bytes: image
            .pixels
            .iter()
            .flat_map(|p| [*p, *p, *p, 255])
            .collect::<Vec<u8>>()
            .into(),
    }
}

/// Runs [`clipboard_on_a_display`] in a child process, where `DISPLAY`
/// can be set (this process's environment is not ours to change).
fn on_display(display: &str, case: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "clipboard_on_a_display",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env("DISPLAY", display)
        .env("WAYLAND_DISPLAY", "")
        .env("TOSS_CLIPBOARD_CASE", case)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{case}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_clipboard_gives_a_codes_payload_or_copied_text_and_says_what_went_wrong() {
    on_display(":4097", "no server");
    let (_server, display) = xvfb();
    on_display(&display, "server");
}

#[test]
#[ignore = "run by the_clipboard_gives_a_codes_payload_or_copied_text_and_says_what_went_wrong"]
fn clipboard_on_a_display() {
    if std::env::var("TOSS_CLIPBOARD_CASE").unwrap() == "no server" {
        assert!(
            matches!(scan(), Err(ClipboardError::Unavailable(_))),
            "{:?}",
            scan()
        );
        return;
    }
    // The copying side: another application in real use; here a second
    // handle, which owns the selection and serves it from its own thread.
    let mut source = arboard::Clipboard::new().unwrap();

    source.clear().unwrap();
    assert_eq!(scan(), Err(ClipboardError::Empty));

    let payload: Vec<u8> = (0..300u32).map(|i| (i * 7 % 256) as u8).collect();
    source
        .set_image(rgba(&qr::bitmap(&payload, 4).unwrap()))
        .unwrap();
    assert_eq!(scan().unwrap(), payload);

    let blank = qr::Luma {
        width: 120,
        height: 80,
        pixels: vec![255; 120 * 80],
    };
    source.set_image(rgba(&blank)).unwrap();
    assert_eq!(scan(), Err(ClipboardError::Qr(QrError::NotFound)));

    let url = "solana:9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin?amount=1.5";
    source.set_text(format!("  {url}\n")).unwrap();
    assert_eq!(scan().unwrap(), url.as_bytes());

    source.set_text(" \n").unwrap();
    assert_eq!(scan(), Err(ClipboardError::Empty));
}
