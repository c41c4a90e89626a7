//! Bluetooth LE: the TOSS GATT service (docs/ble.md), its framing, and the
//! two roles: central ([`central`], btleplug, every OS) and peripheral
//! ([`peripheral`], bluer, Linux: btleplug cannot advertise).
//!
//! Whichever side connected, both end up with a [`Link`] (one GATT write
//! or notification per frame) and run a [`Channel`] over it: whole
//! messages, in order, or an error. Noise runs over the channel.

pub mod central;
pub mod frame;
#[cfg(target_os = "linux")]
pub mod peripheral;

use std::collections::VecDeque;
use std::future::Future;
use std::time::{Duration, Instant};

use uuid::{Uuid, uuid};

use frame::{Endpoint, Event, Failure, FrameError, Limits};

/// The TOSS service, advertised by the peripheral.
pub const SERVICE: Uuid = uuid!("7c5a0001-6c8e-4a53-9f0e-2d1e7f3b5a10");
/// Central to peripheral: frames, written without response.
pub const WRITE: Uuid = uuid!("7c5a0002-6c8e-4a53-9f0e-2d1e7f3b5a10");
/// Peripheral to central: frames, notified.
pub const NOTIFY: Uuid = uuid!("7c5a0003-6c8e-4a53-9f0e-2d1e7f3b5a10");
/// Read: [`Control`], the peripheral's protocol version and frame size.
pub const CONTROL: Uuid = uuid!("7c5a0004-6c8e-4a53-9f0e-2d1e7f3b5a10");
/// The protocol version in [`Control`].
pub const VERSION: u8 = 1;

/// Why a Bluetooth operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BleError {
    /// No adapter, or none by the name asked for, or no Bluetooth service.
    #[error("no Bluetooth adapter was found")]
    NoAdapter,
    /// The adapter is powered off.
    #[error("Bluetooth is turned off; turn it on and try again")]
    AdapterOff,
    /// The system refused this process access to Bluetooth.
    #[error(
        "the system refused access to Bluetooth (on Linux: is bluetoothd running, may this user use it?)"
    )]
    PermissionDenied,
    /// The device picked is no longer known to the adapter.
    #[error("the device is no longer in range")]
    NotFound,
    /// The device lacks the TOSS service or one of its characteristics.
    #[error("the device does not offer TOSS payments")]
    NotToss,
    /// The control characteristic names another protocol version; carries it.
    #[error("the device speaks TOSS BLE protocol version {0}, this app speaks {VERSION}")]
    Version(u8),
    /// The connection or notification session ended.
    #[error("the connection was lost")]
    Disconnected,
    /// The framing layer gave up on a message.
    #[error("the message did not get through: {0}")]
    Link(#[from] Failure),
    /// A message or frame size outside what the framing allows.
    #[error("{0}")]
    Frame(#[from] FrameError),
    /// The caller stopped wanting a payer (the sale was paid another way).
    #[error("stopped waiting for a payer's device")]
    Stopped,
    /// Any other Bluetooth stack error; carries its message.
    #[error("Bluetooth failed: {0}")]
    Failed(String),
}

/// What the control characteristic reads as: version, then the frame
/// size the peripheral will use (ATT MTU less 3), big-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    /// The protocol version, [`VERSION`].
    pub version: u8,
    /// The frame size the peripheral will use, in bytes (its ATT MTU less 3).
    pub frame_size: u16,
}

impl Control {
    /// The characteristic value: version, then frame size big-endian.
    pub fn to_bytes(self) -> [u8; 3] {
        let [a, b] = self.frame_size.to_be_bytes();
        [self.version, a, b]
    }

    /// Reads the value; `Version` for another version, `NotToss` when empty.
    pub fn parse(bytes: &[u8]) -> Result<Self, BleError> {
        match bytes {
            [VERSION, a, b, ..] => Ok(Control {
                version: VERSION,
                frame_size: u16::from_be_bytes([*a, *b]),
            }),
            [v, ..] => Err(BleError::Version(*v)),
            [] => Err(BleError::NotToss),
        }
    }
}

/// The frame size both ends can use: the ATT MTU less its 3-byte header,
/// within what the framing allows.
pub fn frame_size(mtu: u16) -> usize {
    usize::from(mtu)
        .saturating_sub(3)
        .clamp(frame::MIN_FRAME, frame::MAX_FRAME)
}

/// One GATT write or notification per frame, either role.
pub trait Link {
    /// Puts one frame on the link.
    fn send(&mut self, frame: Vec<u8>) -> impl Future<Output = Result<(), BleError>> + Send;
    /// The next frame; cancel-safe (a frame is never half taken).
    fn recv(&mut self) -> impl Future<Output = Result<Vec<u8>, BleError>> + Send;
}

/// Whole messages over a [`Link`]: framing, acknowledgements and timers.
#[derive(Debug)]
pub struct Channel<L> {
    link: L,
    endpoint: Endpoint,
    inbox: VecDeque<Vec<u8>>,
}

impl<L: Link> Channel<L> {
    /// A channel over `link` with frames of `frame_size` bytes and the default limits.
    pub fn new(link: L, frame_size: usize) -> Result<Self, BleError> {
        Ok(Channel {
            link,
            endpoint: Endpoint::new(frame_size, Limits::default())?,
            inbox: VecDeque::new(),
        })
    }

    /// The link, to disconnect it.
    pub fn into_link(self) -> L {
        self.link
    }

    /// Sends `message` and returns once the other side has all of it.
    pub async fn send(&mut self, message: &[u8]) -> Result<(), BleError> {
        let id = self.endpoint.send(message.to_vec())?;
        loop {
            self.step().await?;
            while let Some(event) = self.endpoint.event() {
                match event {
                    Event::Received(m) => self.inbox.push_back(m),
                    Event::Delivered(done) if done == id => return Ok(()),
                    Event::Failed { id: done, reason } if done == id => return Err(reason.into()),
                    Event::Delivered(_) | Event::Failed { .. } => {}
                }
            }
        }
    }

    /// The next whole message from the other side.
    pub async fn recv(&mut self) -> Result<Vec<u8>, BleError> {
        loop {
            if let Some(m) = self.inbox.pop_front() {
                // Whatever acknowledges it goes out now, not on the next call.
                self.flush().await?;
                return Ok(m);
            }
            self.step().await?;
            while let Some(event) = self.endpoint.event() {
                if let Event::Received(m) = event {
                    self.inbox.push_back(m);
                }
            }
        }
    }

    async fn flush(&mut self) -> Result<(), BleError> {
        while let Some(frame) = self.endpoint.transmit(Instant::now()) {
            self.link.send(frame).await?;
        }
        Ok(())
    }

    /// Sends what is due, then waits for a frame or the next timer.
    async fn step(&mut self) -> Result<(), BleError> {
        self.flush().await?;
        let wait = self
            .endpoint
            .deadline()
            .map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(Instant::now())
            });
        tokio::select! {
            frame = self.link.recv() => self.endpoint.handle(&frame?, Instant::now()),
            () = tokio::time::sleep(wait) => {}
        }
        Ok(())
    }
}

/// A handover runs over a channel as over any message link.
impl<L: Link + Send> crate::handover::Link for Channel<L> {
    async fn send(&mut self, message: Vec<u8>) -> Result<(), crate::handover::HandoverError> {
        Channel::send(self, &message).await.map_err(link_error)
    }

    async fn recv(&mut self) -> Result<Vec<u8>, crate::handover::HandoverError> {
        Channel::recv(self).await.map_err(link_error)
    }
}

fn link_error(e: BleError) -> crate::handover::HandoverError {
    crate::handover::HandoverError::Link(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    /// Two ends of an in-memory link.
    struct Pipe(
        mpsc::UnboundedSender<Vec<u8>>,
        mpsc::UnboundedReceiver<Vec<u8>>,
    );

    impl Link for Pipe {
        async fn send(&mut self, frame: Vec<u8>) -> Result<(), BleError> {
            self.0.send(frame).map_err(|_| BleError::Disconnected)
        }
        async fn recv(&mut self) -> Result<Vec<u8>, BleError> {
            self.1.recv().await.ok_or(BleError::Disconnected)
        }
    }

    fn pipes() -> (Pipe, Pipe) {
        let (a_tx, b_rx) = mpsc::unbounded_channel();
        let (b_tx, a_rx) = mpsc::unbounded_channel();
        (Pipe(a_tx, a_rx), Pipe(b_tx, b_rx))
    }

    #[tokio::test]
    async fn a_channel_carries_messages_both_ways_and_reports_a_dead_link() {
        let (a, b) = pipes();
        let mut a = Channel::new(a, 20).unwrap();
        let mut b = Channel::new(b, 182).unwrap();
        let big: Vec<u8> = (0..5_000u32).map(|i| i as u8).collect();
        let sent = big.clone();
        let other = tokio::spawn(async move {
            let got = b.recv().await.unwrap();
            b.send(b"thanks").await.unwrap();
            (got, b)
        });
        a.send(&sent).await.unwrap();
        assert_eq!(a.recv().await.unwrap(), b"thanks");
        let (got, b) = other.await.unwrap();
        assert_eq!(got, big);
        drop(b);
        assert_eq!(a.send(b"anyone?").await, Err(BleError::Disconnected));
    }

    #[test]
    fn control_and_frame_size_follow_the_mtu() {
        let c = Control {
            version: VERSION,
            frame_size: 244,
        };
        assert_eq!(Control::parse(&c.to_bytes()), Ok(c));
        assert_eq!(Control::parse(&[2, 0, 20]), Err(BleError::Version(2)));
        assert_eq!(Control::parse(&[]), Err(BleError::NotToss));
        assert_eq!(frame_size(23), 20);
        assert_eq!(frame_size(0), 20);
        assert_eq!(frame_size(185), 182);
        assert_eq!(frame_size(517), 514);
        assert_eq!(frame_size(u16::MAX), 514);
    }
}
