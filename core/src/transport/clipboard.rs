//! Scanning from the clipboard: a screenshot of a QR code (a payment
//! request on a web page, an intent someone sent as an image) or the text
//! of one (a copied `solana:` URL, a UR part), through the OS clipboard
//! (X11 or Wayland's XWayland on Linux, the pasteboard on macOS, the
//! Windows clipboard).

use super::qr::{self, QrError};

/// Why the clipboard gave nothing to scan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClipboardError {
    /// The OS clipboard could not be opened or read; carries its error.
    #[error("the clipboard cannot be read: {0}")]
    Unavailable(String),
    /// Nothing is on the clipboard, or only whitespace.
    #[error("the clipboard is empty; copy a QR code image or a payment link first")]
    Empty,
    /// The clipboard content cannot be converted to an image or to text.
    #[error("the clipboard holds neither an image nor text")]
    Unsupported,
    /// The clipboard image is malformed or holds no readable QR code.
    #[error("the image on the clipboard: {0}")]
    Qr(#[from] QrError),
}

/// What the clipboard holds, as the bytes a scan would give: the payload
/// of the QR code in a copied image, or copied text as it is (trimmed, as a
/// pasted link often carries a newline).
pub fn scan() -> Result<Vec<u8>, ClipboardError> {
    let mut clipboard =
        arboard::Clipboard::new().map_err(|e| ClipboardError::Unavailable(e.to_string()))?;
    match clipboard.get_image() {
        Ok(image) => return Ok(qr::decode_picture(picture(image)?)?),
        Err(arboard::Error::ContentNotAvailable) => {}
        Err(e) => return Err(unreadable(e)),
    }
    match clipboard.get_text() {
        Ok(text) if text.trim().is_empty() => Err(ClipboardError::Empty),
        Ok(text) => Ok(text.trim().as_bytes().to_vec()),
        Err(arboard::Error::ContentNotAvailable) => Err(ClipboardError::Empty),
        Err(e) => Err(unreadable(e)),
    }
}

fn unreadable(e: arboard::Error) -> ClipboardError {
    match e {
        arboard::Error::ConversionFailure => ClipboardError::Unsupported,
        e => ClipboardError::Unavailable(e.to_string()),
    }
}

fn picture(image: arboard::ImageData<'_>) -> Result<image::DynamicImage, QrError> {
    let (width, height, len) = (image.width, image.height, image.bytes.len());
    let bad = || QrError::BadFrame { width, height, len };
    let (w, h) = (
        u32::try_from(width).map_err(|_| bad())?,
        u32::try_from(height).map_err(|_| bad())?,
    );
    image::RgbaImage::from_raw(w, h, image.bytes.into_owned())
        .map(image::DynamicImage::ImageRgba8)
        .ok_or_else(bad)
}
