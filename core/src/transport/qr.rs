//! QR codes for payloads that fit one code: rendered by the Rust side so
//! the UI and the CLI show exactly the same symbol.
//!
//! Payloads are binary (a signed intent is 199 bytes) and go in byte mode;
//! error correction is medium (15 %), the usual choice for screens read by
//! webcams: sturdier than low against glare and blur, still small enough.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// Why a QR code could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The payload is over what one code holds; carries its length in bytes.
    #[error("{0} bytes do not fit in one QR code (at most 2,331 at this error correction)")]
    TooLong(usize),
    /// No QR code was detected in the image.
    #[error("no QR code found in the image")]
    NotFound,
    /// A code was detected but did not decode; carries the decoder's error.
    #[error("a QR code was found but could not be read ({0}); hold it steadier or closer")]
    Unreadable(String),
    /// The image could not be opened, decoded or encoded; carries why.
    #[error("cannot read the image {0}")]
    Image(String),
    /// The pixel buffer does not match the stated dimensions.
    #[error("the image is {width}x{height} but holds {len} bytes of pixels")]
    BadFrame {
        /// Stated width in pixels.
        width: usize,
        /// Stated height in pixels.
        height: usize,
        /// Bytes of pixel data actually present.
        len: usize,
    },
}

/// An 8-bit grayscale image, row after row: what cameras and image files
/// are turned into before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Luma {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// One brightness byte per pixel, `width * height` of them, rows top to bottom.
    pub pixels: Vec<u8>,
}

impl Luma {
    /// The image as a PNG file's bytes: for saving, or for a UI's preview.
    pub fn to_png(&self) -> Result<Vec<u8>, QrError> {
        let bad = || QrError::BadFrame {
            width: self.width,
            height: self.height,
            len: self.pixels.len(),
        };
        let (w, h) = (
            u32::try_from(self.width).map_err(|_| bad())?,
            u32::try_from(self.height).map_err(|_| bad())?,
        );
        let image = image::GrayImage::from_raw(w, h, self.pixels.clone()).ok_or_else(bad)?;
        let mut png = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| QrError::Image(e.to_string()))?;
        Ok(png.into_inner())
    }
}

/// Text (URLs, UR parts) in the densest mix of modes; anything else in
/// byte mode only, so every decoder hands back exactly the bytes (a
/// numeric run inside binary data would otherwise become its own segment).
fn code(payload: &[u8]) -> Result<QrCode, QrError> {
    let too_long = || QrError::TooLong(payload.len());
    if payload.is_ascii() {
        return QrCode::with_error_correction_level(payload, EcLevel::M).map_err(|_| too_long());
    }
    (1..=40)
        .find_map(|v| {
            let mut bits = qrcode::bits::Bits::new(qrcode::Version::Normal(v));
            bits.push_byte_data(payload).ok()?;
            bits.push_terminator(EcLevel::M).ok()?;
            QrCode::with_bits(bits, EcLevel::M).ok()
        })
        .ok_or_else(too_long)
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
/// cell vertically, for a terminal with light text on a dark background
/// (the usual terminal look); the quiet zone is drawn.
pub fn terminal(payload: &[u8]) -> Result<String, QrError> {
    Ok(code(payload)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// The code as a bitmap, `scale` pixels per module, quiet zone included:
/// what a screen shows and a camera sees.
pub fn bitmap(payload: &[u8], scale: usize) -> Result<Luma, QrError> {
    let code = code(payload)?;
    let modules = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (mx, my) = (i % modules + quiet, i / modules + quiet);
            for y in my * scale..(my + 1) * scale {
                pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
            }
        }
    }
    Ok(Luma {
        width: side,
        height: side,
        pixels,
    })
}

/// The payload of the first readable QR code in `image`.
///
/// Two decoders, because each reads codes the other misses: ZXing's
/// detector (rxing) first, as it is also the fast one (5 ms for a 1080p
/// frame holding a 1 KB code, where rqrr takes 37 ms, most of it fitting
/// its grid); rqrr second. A code found but not readable is reported as
/// such, so the user knows to hold it steadier rather than to look for one.
/// A light-on-dark code (a phone in dark mode, a dark terminal) is read too:
/// when neither finds a code, ZXing's detector tries the inverted image.
pub fn decode(image: &Luma) -> Result<Vec<u8>, QrError> {
    let Luma {
        width,
        height,
        pixels,
    } = image;
    if width.checked_mul(*height) != Some(pixels.len()) {
        return Err(QrError::BadFrame {
            width: *width,
            height: *height,
            len: pixels.len(),
        });
    }
    // An empty picture holds no code (and rqrr would index into it).
    if pixels.is_empty() {
        return Err(QrError::NotFound);
    }
    let first = match zxing(image) {
        Ok(out) => return Ok(out),
        Err(e) => e,
    };
    match (first, rqrr(image)) {
        (_, Ok(out)) => Ok(out),
        (QrError::NotFound, Err(QrError::NotFound)) => zxing(&Luma {
            pixels: image.pixels.iter().map(|p| 255 - p).collect(),
            ..*image
        }),
        (QrError::NotFound, Err(second)) => Err(second),
        (first, Err(_)) => Err(first),
    }
}

/// The payload of the code in a picture (an image file, a screenshot).
#[cfg(any(feature = "camera", feature = "clipboard"))]
/// Transparent pixels are read as white, as a viewer shows them on a light
/// page: a code drawn dark on a transparent background reads.
pub(crate) fn decode_picture(picture: image::DynamicImage) -> Result<Vec<u8>, QrError> {
    let grey = picture.into_luma_alpha8();
    let (width, height) = (grey.width() as usize, grey.height() as usize);
    let pixels = grey
        .pixels()
        .map(|p| {
            let [v, a] = p.0.map(u16::from);
            // Over white: v * a + 255 * (255 - a), scaled back to 0..=255.
            ((v * a + 255 * (255 - a)) / 255) as u8
        })
        .collect();
    decode(&Luma {
        width,
        height,
        pixels,
    })
}

/// rxing (a port of ZXing) over `image`.
fn zxing(image: &Luma) -> Result<Vec<u8>, QrError> {
    use rxing::Exceptions;
    let (width, height) = (dimension(image.width)?, dimension(image.height)?);
    match rxing::helpers::detect_in_luma_slice(
        &image.pixels,
        width,
        height,
        Some(rxing::BarcodeFormat::QR_CODE),
    ) {
        Ok(found) => Ok(payload_bytes(&found)),
        Err(Exceptions::NotFoundException(_)) => Err(QrError::NotFound),
        Err(e) => Err(QrError::Unreadable(e.to_string())),
    }
}

fn dimension(side: usize) -> Result<u32, QrError> {
    u32::try_from(side).map_err(|_| QrError::Image(format!("a side of {side} pixels")))
}

/// rqrr over `image`. rqrr asserts on some pictures (a perspective it
/// cannot fit, found by fuzzing: `fuzz/corpus/qr_image/regression-*`);
/// such a picture is one it cannot read, never a reason to stop.
fn rqrr(image: &Luma) -> Result<Vec<u8>, QrError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rqrr_unguarded(image))).unwrap_or(Err(
        QrError::Unreadable("the picture confused the decoder".to_owned()),
    ))
}

fn rqrr_unguarded(image: &Luma) -> Result<Vec<u8>, QrError> {
    let Luma { width, pixels, .. } = image;
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(*width, image.height, |x, y| {
        pixels[y * width + x]
    });
    let mut last = QrError::NotFound;
    for grid in prepared.detect_grids() {
        let mut out = Vec::new();
        match grid.decode_to(&mut out) {
            Ok(_) => return Ok(out),
            Err(e) => last = QrError::Unreadable(e.to_string()),
        }
    }
    Err(last)
}

/// The bytes a code carries. Text codes (ASCII, any mix of modes) are
/// their text; anything else was written in byte mode alone (`code`), so
/// its byte segment is exactly the payload.
fn payload_bytes(found: &rxing::RXingResult) -> Vec<u8> {
    use rxing::{RXingResultMetadataType, RXingResultMetadataValue};
    let text = found.getText();
    if text.is_ascii() {
        return text.as_bytes().to_vec();
    }
    match found
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::BYTE_SEGMENTS)
    {
        Some(RXingResultMetadataValue::ByteSegments(segments)) => segments.concat(),
        // rxing's port of zxing-cpp, tried first, reports no segments: its
        // "raw bytes" are the decoded content, before any charset.
        _ => found.getRawBytes().to_vec(),
    }
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

    #[test]
    fn each_decoder_reads_binary_and_text_payloads_exactly() {
        let binary: Vec<u8> = (0..1024u32).map(|i| (i * 31 % 251) as u8).collect();
        let text = b"solana:9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin?amount=1.5".to_vec();
        for payload in [binary, text] {
            let image = bitmap(&payload, 4).unwrap();
            assert_eq!(zxing(&image).unwrap(), payload, "rxing");
            assert_eq!(rqrr(&image).unwrap(), payload, "rqrr");
        }
    }

    /// `text` (the terminal drawing) as a screenshot of a terminal drawing
    /// glyphs in `ink` on `paper`: 8x16-pixel cells, a half block lighting
    /// the top or bottom 8x8.
    fn screenshot(text: &str, ink: u8, paper: u8) -> Luma {
        let rows: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        let (width, height) = (rows[0].len() * 8, rows.len() * 16);
        let mut pixels = vec![paper; width * height];
        for (r, row) in rows.iter().enumerate() {
            for (c, glyph) in row.iter().enumerate() {
                let (top, bottom) = match glyph {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    _ => (false, false),
                };
                for y in 0..16 {
                    if (y < 8 && top) || (y >= 8 && bottom) {
                        let at = (r * 16 + y) * width + c * 8;
                        pixels[at..at + 8].fill(ink);
                    }
                }
            }
        }
        Luma {
            width,
            height,
            pixels,
        }
    }

    #[test]
    fn the_terminal_drawing_and_light_on_dark_codes_read_back() {
        let url = b"solana:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN?amount=1.5&label=Till";
        let drawn = terminal(url).unwrap();
        // A dark terminal (light text), as the drawing is meant for, and a
        // light one, where it shows inverted.
        for (ink, paper) in [(230, 20), (20, 240)] {
            assert_eq!(
                decode(&screenshot(&drawn, ink, paper)).unwrap(),
                url,
                "ink {ink} on {paper}"
            );
        }
        // Any code shown light on dark (a phone in dark mode).
        let mut inverted = bitmap(url, 4).unwrap();
        inverted.pixels.iter_mut().for_each(|p| *p = 255 - *p);
        assert_eq!(decode(&inverted).unwrap(), url);
    }

    #[test]
    fn a_dark_code_on_a_transparent_background_reads() {
        let url = b"solana:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN?amount=2";
        let code = bitmap(url, 4).unwrap();
        // Black modules, everything else fully transparent (and black
        // underneath, as many tools save it).
        let rgba = image::RgbaImage::from_fn(code.width as u32, code.height as u32, |x, y| {
            let dark = code.pixels[y as usize * code.width + x as usize] == 0;
            image::Rgba([0, 0, 0, if dark { 255 } else { 0 }])
        });
        let picture = image::DynamicImage::ImageRgba8(rgba);
        assert_eq!(super::decode_picture(picture).unwrap(), url);
    }

    #[test]
    fn a_binary_payload_survives_the_bitmap_and_bad_images_are_refused() {
        let payload: Vec<u8> = (0..=255u8).cycle().take(392).collect();
        let image = bitmap(&payload, 3).unwrap();
        assert_eq!(decode(&image).unwrap(), payload);

        let blank = Luma {
            width: 64,
            height: 64,
            pixels: vec![255; 64 * 64],
        };
        assert_eq!(decode(&blank), Err(QrError::NotFound));
        for (width, height) in [(0, 0), (0, 64), (64, 0), (1, 1)] {
            let empty = Luma {
                width,
                height,
                pixels: vec![255; width * height],
            };
            assert!(decode(&empty).is_err(), "{width}x{height}");
        }
        let short = Luma {
            width: 64,
            height: 64,
            pixels: vec![0; 10],
        };
        assert!(matches!(decode(&short), Err(QrError::BadFrame { .. })));
        assert!(matches!(short.to_png(), Err(QrError::BadFrame { .. })));
        let png = image.to_png().unwrap();
        assert_eq!(
            super::decode_picture(image::load_from_memory(&png).unwrap()).unwrap(),
            payload
        );
        // Damage beyond what error correction repairs: found, not readable.
        let mut damaged = image.clone();
        let w = damaged.width;
        for y in w / 3..w / 3 + w / 4 {
            for x in 0..w {
                damaged.pixels[y * w + x] = if (x / 3 + y / 3) % 2 == 0 { 0 } else { 255 };
            }
        }
        assert!(matches!(
            decode(&damaged),
            Err(QrError::Unreadable(_)) | Err(QrError::NotFound)
        ));
    }
}
