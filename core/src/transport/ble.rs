//! Bluetooth LE: the TOSS GATT service (docs/ble.md), its framing, and the
//! two roles: central (btleplug, every OS) and peripheral (bluer, Linux).

pub mod frame;
