//! The central role (btleplug): find devices that offer the TOSS service,
//! connect to one, and exchange frames with it.

use std::pin::Pin;
use std::time::Duration;

use btleplug::api::{
    Central as _, CentralState, Characteristic, Manager as _, Peripheral as _, ScanFilter,
    ValueNotification, WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures::{Stream, StreamExt};

use super::{BleError, CONTROL, Control, Link, NOTIFY, SERVICE, WRITE, frame_size};

/// Connection attempts before giving up, and the pause between them.
const ATTEMPTS: u32 = 3;
const RETRY_AFTER: Duration = Duration::from_millis(500);

impl From<btleplug::Error> for BleError {
    fn from(e: btleplug::Error) -> Self {
        use btleplug::Error as E;
        match e {
            E::PermissionDenied => BleError::PermissionDenied,
            E::NoAdapterAvailable => BleError::NoAdapter,
            E::DeviceNotFound => BleError::NotFound,
            E::NotConnected => BleError::Disconnected,
            e => {
                let text = e.to_string();
                if text.contains("org.bluez.Error.NotReady") || text.contains("Not Powered") {
                    BleError::AdapterOff
                } else if text.contains("AccessDenied") || text.contains("NotPermitted") {
                    BleError::PermissionDenied
                } else if text.contains("ServiceUnknown")
                    || text.contains("org.bluez was not provided")
                {
                    BleError::NoAdapter
                } else {
                    BleError::Failed(text)
                }
            }
        }
    }
}

/// A device seen while scanning: what the user picks from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    /// What [`Central::connect`] takes.
    pub id: String,
    /// The name the device advertises, if any.
    pub name: Option<String>,
    /// Signal strength in dBm, when the adapter reported one.
    pub rssi: Option<i16>,
}

/// This computer's Bluetooth adapter, as a central.
#[derive(Debug)]
pub struct Central {
    adapter: Adapter,
}

impl Central {
    /// The adapter named `name` (Linux: "hci0"...), or the first one,
    /// refusing one that is off.
    pub async fn open(name: Option<&str>) -> Result<Self, BleError> {
        let manager = Manager::new().await?;
        let mut chosen = None;
        for adapter in manager.adapters().await? {
            let info = adapter.adapter_info().await?;
            if name.is_none_or(|n| info.split_whitespace().next() == Some(n)) {
                chosen = Some(adapter);
                break;
            }
        }
        let adapter = chosen.ok_or(BleError::NoAdapter)?;
        if adapter.adapter_state().await? == CentralState::PoweredOff {
            return Err(BleError::AdapterOff);
        }
        Ok(Central { adapter })
    }

    /// Devices offering the TOSS service seen within `window`, strongest
    /// signal first.
    pub async fn scan(&self, window: Duration) -> Result<Vec<Found>, BleError> {
        self.adapter
            .start_scan(ScanFilter {
                services: vec![SERVICE],
            })
            .await?;
        tokio::time::sleep(window).await;
        let stopped = self.adapter.stop_scan().await;
        let mut found = Vec::new();
        for p in self.adapter.peripherals().await? {
            let Some(props) = p.properties().await? else {
                continue;
            };
            if props.services.contains(&SERVICE) {
                found.push(Found {
                    id: p.id().to_string(),
                    name: props.local_name.or(props.advertisement_name),
                    rssi: props.rssi,
                });
            }
        }
        stopped?;
        found.sort_by_key(|f| std::cmp::Reverse(f.rssi.unwrap_or(i16::MIN)));
        Ok(found)
    }

    /// Connects to the device `id` (from [`Central::scan`]), retrying a
    /// failed attempt, and checks it speaks TOSS.
    pub async fn connect(&self, id: &str) -> Result<CentralLink, BleError> {
        let peripheral = self
            .adapter
            .peripherals()
            .await?
            .into_iter()
            .find(|p| p.id().to_string() == id)
            .ok_or(BleError::NotFound)?;
        let mut attempt = 1;
        loop {
            match CentralLink::open(peripheral.clone()).await {
                Ok(link) => return Ok(link),
                Err(e @ (BleError::NotToss | BleError::Version(_) | BleError::AdapterOff)) => {
                    let _ = peripheral.disconnect().await;
                    return Err(e);
                }
                Err(e) if attempt >= ATTEMPTS => return Err(e),
                Err(e) => {
                    tracing::info!(error = %e, attempt, "BLE connection failed; retrying");
                    let _ = peripheral.disconnect().await;
                    attempt += 1;
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }
}

/// A connected TOSS device: frames out by write, in by notification.
pub struct CentralLink {
    peripheral: Peripheral,
    write: Characteristic,
    notifications: Pin<Box<dyn Stream<Item = ValueNotification> + Send>>,
    frame_size: usize,
}

impl std::fmt::Debug for CentralLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralLink")
            .field("peripheral", &self.peripheral.id())
            .field("frame_size", &self.frame_size)
            .finish_non_exhaustive()
    }
}

impl CentralLink {
    async fn open(peripheral: Peripheral) -> Result<Self, BleError> {
        if !peripheral.is_connected().await? {
            peripheral.connect().await?;
        }
        peripheral.discover_services().await?;
        let find = |uuid| {
            peripheral
                .characteristics()
                .into_iter()
                .find(|c| c.service_uuid == SERVICE && c.uuid == uuid)
                .ok_or(BleError::NotToss)
        };
        let (write, notify, control) = (find(WRITE)?, find(NOTIFY)?, find(CONTROL)?);
        let control = Control::parse(&peripheral.read(&control).await?)?;
        let frame_size = frame_size(peripheral.mtu()).min(usize::from(control.frame_size));
        let frame_size = frame_size.max(super::frame::MIN_FRAME);
        let notifications = peripheral.notifications().await?;
        peripheral.subscribe(&notify).await?;
        Ok(CentralLink {
            peripheral,
            write,
            notifications,
            frame_size,
        })
    }

    /// The frame size agreed with the device.
    pub fn frame_size(&self) -> usize {
        self.frame_size
    }

    /// Drops the connection to the device.
    pub async fn disconnect(self) -> Result<(), BleError> {
        Ok(self.peripheral.disconnect().await?)
    }
}

impl Link for CentralLink {
    async fn send(&mut self, frame: Vec<u8>) -> Result<(), BleError> {
        Ok(self
            .peripheral
            .write(&self.write, &frame, WriteType::WithoutResponse)
            .await?)
    }

    async fn recv(&mut self) -> Result<Vec<u8>, BleError> {
        loop {
            let n = self
                .notifications
                .next()
                .await
                .ok_or(BleError::Disconnected)?;
            if n.uuid == NOTIFY {
                return Ok(n.value);
            }
        }
    }
}
