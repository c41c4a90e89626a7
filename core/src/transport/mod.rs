//! How payments cross between devices with no network: QR codes (shown on
//! screen, scanned by a webcam), Bluetooth LE and NFC.

pub mod animated;
#[cfg(feature = "ble")]
pub mod ble;
#[cfg(feature = "camera")]
pub mod camera;
#[cfg(feature = "clipboard")]
pub mod clipboard;
#[cfg(feature = "camera")]
pub mod live_scan;
#[cfg(feature = "nfc")]
pub mod nfc;
pub mod qr;
