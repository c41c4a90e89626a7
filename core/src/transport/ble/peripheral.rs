//! The peripheral role on Linux (bluer, BlueZ's GATT server and
//! advertising): this computer advertises the TOSS service and a central
//! (a phone, another desktop) connects to it, so two laptops can pay each
//! other.

use std::sync::{Arc, Mutex};

use bluer::adv::{Advertisement, AdvertisementHandle};
use bluer::gatt::local::{
    Application, ApplicationHandle, Characteristic, CharacteristicNotifier, CharacteristicNotify,
    CharacteristicNotifyMethod, CharacteristicRead, CharacteristicWrite, CharacteristicWriteMethod,
    Service,
};
use futures::FutureExt;
use tokio::sync::mpsc;

use super::{BleError, CONTROL, Control, Link, NOTIFY, SERVICE, VERSION, WRITE, frame_size};

/// Frames written by the central, queued until the channel reads them.
const QUEUE: usize = 256;

impl From<bluer::Error> for BleError {
    fn from(e: bluer::Error) -> Self {
        use bluer::ErrorKind as K;
        match e.kind {
            K::NotReady => BleError::AdapterOff,
            K::NotAuthorized | K::NotPermitted => BleError::PermissionDenied,
            K::NotFound | K::DoesNotExist => BleError::NoAdapter,
            K::NotificationSessionStopped => BleError::Disconnected,
            _ => {
                let text = e.to_string();
                if text.contains("ServiceUnknown") || text.contains("org.bluez was not provided") {
                    BleError::NoAdapter
                } else if text.contains("AccessDenied") {
                    BleError::PermissionDenied
                } else {
                    BleError::Failed(text)
                }
            }
        }
    }
}

/// The TOSS service, served and advertised while this lives.
pub struct Advertiser {
    _app: ApplicationHandle,
    _advertisement: AdvertisementHandle,
    _session: bluer::Session,
    frames: mpsc::Receiver<Vec<u8>>,
    subscribed: mpsc::Receiver<CharacteristicNotifier>,
    mtu: Arc<Mutex<u16>>,
}

impl std::fmt::Debug for Advertiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Advertiser").finish_non_exhaustive()
    }
}

impl Advertiser {
    /// Serves the TOSS GATT service and advertises it under `name` on
    /// `adapter` (`None`: the default adapter).
    pub async fn start(adapter: Option<&str>, name: &str) -> Result<Self, BleError> {
        let session = bluer::Session::new().await?;
        let adapter = match adapter {
            Some(a) => session.adapter(a)?,
            None => session.default_adapter().await?,
        };
        if !adapter.is_powered().await? {
            return Err(BleError::AdapterOff);
        }
        let (frame_tx, frames) = mpsc::channel(QUEUE);
        let (subscribe_tx, subscribed) = mpsc::channel(1);
        // The ATT MTU BlueZ reports with each request: the central's
        // control read tells us before any frame flows.
        let mtu = Arc::new(Mutex::new(23u16));
        let control_mtu = mtu.clone();
        let write_mtu = mtu.clone();
        let read = CharacteristicRead {
            read: true,
            fun: Box::new(move |req| {
                if let Ok(mut m) = control_mtu.lock() {
                    *m = req.mtu;
                }
                let control = Control {
                    version: VERSION,
                    frame_size: frame_size(req.mtu) as u16,
                };
                async move { Ok(control.to_bytes().to_vec()) }.boxed()
            }),
            ..Default::default()
        };
        let write = CharacteristicWrite {
            write: true,
            write_without_response: true,
            method: CharacteristicWriteMethod::Fun(Box::new(move |frame, req| {
                if let Ok(mut m) = write_mtu.lock() {
                    *m = req.mtu;
                }
                let tx = frame_tx.clone();
                async move {
                    // A full queue drops the frame: the framing resends it.
                    let _ = tx.try_send(frame);
                    Ok(())
                }
                .boxed()
            })),
            ..Default::default()
        };
        let notify = CharacteristicNotify {
            notify: true,
            method: CharacteristicNotifyMethod::Fun(Box::new(move |notifier| {
                let tx = subscribe_tx.clone();
                async move {
                    let _ = tx.send(notifier).await;
                }
                .boxed()
            })),
            ..Default::default()
        };
        let app = Application {
            services: vec![Service {
                uuid: SERVICE,
                primary: true,
                characteristics: vec![
                    Characteristic {
                        uuid: WRITE,
                        write: Some(write),
                        ..Default::default()
                    },
                    Characteristic {
                        uuid: NOTIFY,
                        notify: Some(notify),
                        ..Default::default()
                    },
                    Characteristic {
                        uuid: CONTROL,
                        read: Some(read),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let app = adapter.serve_gatt_application(app).await?;
        let advertisement = adapter
            .advertise(Advertisement {
                service_uuids: [SERVICE].into_iter().collect(),
                local_name: Some(name.to_owned()),
                discoverable: Some(true),
                ..Default::default()
            })
            .await?;
        Ok(Advertiser {
            _app: app,
            _advertisement: advertisement,
            _session: session,
            frames,
            subscribed,
            mtu,
        })
    }

    /// Waits for a central to connect and subscribe, and gives the link
    /// to it. One central at a time: the next `accept` waits for the next.
    pub async fn accept(&mut self) -> Result<PeripheralLink<'_>, BleError> {
        let notifier = self.subscribed.recv().await.ok_or(BleError::Disconnected)?;
        // Frames from an earlier central are not this one's.
        while self.frames.try_recv().is_ok() {}
        let mtu = self.mtu.lock().map(|m| *m).unwrap_or(23);
        Ok(PeripheralLink {
            notifier,
            frames: &mut self.frames,
            frame_size: frame_size(mtu),
        })
    }
}

impl Advertiser {
    /// [`Advertiser::accept`], given up once `go_on` (asked four times a
    /// second) says no: a till whose sale was paid online stops waiting.
    pub async fn accept_while(
        &mut self,
        go_on: impl Fn() -> bool,
    ) -> Result<PeripheralLink<'_>, BleError> {
        let stopped = async {
            while go_on() {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        };
        tokio::select! {
            link = self.accept() => link,
            () = stopped => Err(BleError::Stopped),
        }
    }
}

/// The connected central: frames in by write, out by notification.
pub struct PeripheralLink<'a> {
    notifier: CharacteristicNotifier,
    frames: &'a mut mpsc::Receiver<Vec<u8>>,
    frame_size: usize,
}

impl std::fmt::Debug for PeripheralLink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeripheralLink")
            .field("frame_size", &self.frame_size)
            .finish_non_exhaustive()
    }
}

impl PeripheralLink<'_> {
    /// The frame size the central learnt from the control characteristic.
    pub fn frame_size(&self) -> usize {
        self.frame_size
    }
}

impl Link for PeripheralLink<'_> {
    async fn send(&mut self, frame: Vec<u8>) -> Result<(), BleError> {
        Ok(self.notifier.notify(frame).await?)
    }

    async fn recv(&mut self) -> Result<Vec<u8>, BleError> {
        tokio::select! {
            frame = self.frames.recv() => frame.ok_or(BleError::Disconnected),
            () = self.notifier.stopped() => Err(BleError::Disconnected),
        }
    }
}
