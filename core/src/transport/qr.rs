//! QR codes for payloads that fit one code: rendered by the Rust side so
//! the UI and the CLI show exactly the same symbol.
//!
//! Payloads are binary (a signed intent is 199 bytes) and go in byte mode;
//! error correction is medium (15 %), the usual choice for screens read by
//! webcams: sturdier than low against glare and blur, still small enough.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("{0} bytes do not fit in one QR code (at most 2,331 at this error correction)")]
    TooLong(usize),
}

fn code(payload: &[u8]) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(payload, EcLevel::M)
        .map_err(|_| QrError::TooLong(payload.len()))
}

/// The code as SVG: vector, so it stays crisp at any size.
pub fn svg(payload: &[u8]) -> Result<String, QrError> {
    Ok(code(payload)?
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The code drawn with Unicode half blocks, two modules per character
/// cell vertically, for a terminal (dark text on a light background or the
/// reverse both scan: the quiet zone is drawn).
pub fn terminal(payload: &[u8]) -> Result<String, QrError> {
    Ok(code(payload)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intent_sized_payload_renders_and_an_oversized_one_is_refused() {
        let svg = svg(&[0xA5; 199]).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
        let text = terminal(&[0xA5; 199]).unwrap();
        assert!(text.lines().count() > 20);
        assert_eq!(super::svg(&[0; 3000]), Err(QrError::TooLong(3000)));
    }
}
