//! Encrypted sessions between payer and payee, the same over every
//! transport (QR round trips, BLE, NFC, loopback): a Noise handshake, then
//! framed transport messages.
//!
//! - `Noise_IK_25519_ChaChaPoly_BLAKE2s` when the payer scanned the
//!   merchant's static key from its payment request: one round trip, which
//!   matters on slow links (a QR shown and scanned each way, an NFC tap).
//!   XK would hide the payer's static key from an active attacker a little
//!   longer, but the payer is named in the intent it sends anyway, and the
//!   Noise key is not the Solana key (docs/noise.md).
//! - `Noise_XX_25519_ChaChaPoly_BLAKE2s` when neither side knows the other.
//!
//! The prologue binds a session to the payment request (its reference), so
//! a session opened for one request cannot carry another's payment. Both
//! sides show a short code derived from the handshake hash; equal codes
//! mean no one sits in between.
//!
//! Transport messages use implicit nonces: each side must read frames in
//! the order they were written. A frame lost, repeated, reordered or
//! altered fails to decrypt, and the session closes; the transport starts a
//! new one. Messages longer than one Noise message (65,519 bytes of
//! plaintext) are split into frames whose last plaintext byte says whether
//! more follow, and reassembled up to [`MAX_MESSAGE`].

use sha2::{Digest, Sha256};
use snow::{HandshakeState, TransportState};
use zeroize::Zeroizing;

/// The handshake when neither side knows the other's static key.
pub const PATTERN_XX: &str = "Noise_XX_25519_ChaChaPoly_BLAKE2s";
/// The one-round-trip handshake when the payer knows the merchant's static key.
pub const PATTERN_IK: &str = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
/// The largest Noise message (the spec's limit).
pub const MAX_FRAME: usize = 65_535;
/// Plaintext in one frame: the limit less the 16-byte tag.
pub const MAX_FRAME_PLAINTEXT: usize = MAX_FRAME - 16;
/// The largest application message a session reassembles: a hostile peer
/// cannot make it hold more.
pub const MAX_MESSAGE: usize = 1 << 20;
/// Last plaintext byte of a frame: this frame ends the message.
const FINAL: u8 = 1;
const PROLOGUE_TAG: &[u8] = b"TOSS/noise/1";

/// Why a handshake or session failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoiseError {
    /// The Noise library failed to set up or write a message; carries its error.
    #[error("the secure session could not be set up: {0}")]
    Handshake(String),
    /// A handshake or transport message failed authentication.
    #[error("a message did not decrypt: altered, replayed, out of order, or from someone else")]
    Decrypt,
    /// The session already failed once and accepts nothing more.
    #[error("the secure session was closed after an error; start a new one")]
    Closed,
    /// The peer's static key is missing or not the one expected.
    #[error("the other side's key is not the one expected from the payment request")]
    WrongPeer,
    /// A message over [`MAX_MESSAGE`]; carries its length in bytes.
    #[error("a message of {0} bytes is over the {MAX_MESSAGE}-byte limit")]
    TooLarge(usize),
    /// A frame of impossible length, or with an invalid final-flag byte.
    #[error("a frame is malformed")]
    BadFrame,
    /// A session was asked of a handshake still under way.
    #[error("the handshake is not finished")]
    NotFinished,
}

/// A long-lived Noise static key (kept in the vault, never the Solana key).
pub struct StaticKey {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl std::fmt::Debug for StaticKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKey")
            .field("public", &hex::encode(self.public))
            .finish_non_exhaustive()
    }
}

impl StaticKey {
    /// The key pair for an x25519 secret, as kept in the vault.
    pub fn from_secret(secret: Zeroizing<[u8; 32]>) -> Self {
        let public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*secret));
        Self {
            secret,
            public: public.to_bytes(),
        }
    }

    /// The x25519 public key peers see (a merchant's goes in its payment requests).
    pub fn public(&self) -> [u8; 32] {
        self.public
    }

    /// The secret half, for the one-way seal (`crate::sealed`).
    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret[..]
    }

    /// Another handle on the same key (a handover keeps one until its
    /// handshake can be built).
    pub(crate) fn copy(&self) -> StaticKey {
        StaticKey::from_secret(self.secret.clone())
    }
}

/// The prologue both sides use for the payment request `reference`.
pub fn prologue(reference: &[u8; 32]) -> Vec<u8> {
    [PROLOGUE_TAG, reference.as_slice()].concat()
}

fn setup(e: snow::Error) -> NoiseError {
    NoiseError::Handshake(e.to_string())
}

/// A handshake in progress.
pub struct Handshake {
    state: HandshakeState,
    expected_peer: Option<[u8; 32]>,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("finished", &self.state.is_handshake_finished())
            .finish_non_exhaustive()
    }
}

impl Handshake {
    fn build(
        pattern: &str,
        local: &StaticKey,
        prologue: &[u8],
        remote: Option<&[u8; 32]>,
        initiator: bool,
    ) -> Result<snow::HandshakeState, NoiseError> {
        let params = pattern
            .parse()
            .map_err(|e: snow::Error| NoiseError::Handshake(e.to_string()))?;
        let mut b = snow::Builder::new(params)
            .local_private_key(&local.secret[..])
            .map_err(setup)?
            .prologue(prologue)
            .map_err(setup)?;
        if let Some(r) = remote {
            b = b.remote_public_key(r).map_err(setup)?;
        }
        match initiator {
            true => b.build_initiator(),
            false => b.build_responder(),
        }
        .map_err(setup)
    }

    /// The payer, who knows the merchant's key from its request (IK).
    pub fn ik_initiator(
        local: &StaticKey,
        merchant: &[u8; 32],
        prologue: &[u8],
    ) -> Result<Self, NoiseError> {
        Ok(Self {
            state: Self::build(PATTERN_IK, local, prologue, Some(merchant), true)?,
            expected_peer: Some(*merchant),
        })
    }

    /// The merchant whose key the payer scanned (IK).
    pub fn ik_responder(local: &StaticKey, prologue: &[u8]) -> Result<Self, NoiseError> {
        Ok(Self {
            state: Self::build(PATTERN_IK, local, prologue, None, false)?,
            expected_peer: None,
        })
    }

    /// Either side with no prior key (XX); `expected_peer` makes the
    /// handshake fail unless the other side proves that key.
    pub fn xx(
        local: &StaticKey,
        prologue: &[u8],
        initiator: bool,
        expected_peer: Option<[u8; 32]>,
    ) -> Result<Self, NoiseError> {
        Ok(Self {
            state: Self::build(PATTERN_XX, local, prologue, None, initiator)?,
            expected_peer,
        })
    }

    /// The next handshake message, carrying `payload` (sent in the clear
    /// in XX's first message: keep it empty there).
    pub fn write(&mut self, payload: &[u8]) -> Result<Vec<u8>, NoiseError> {
        let mut buf = vec![0u8; MAX_FRAME];
        let n = self.state.write_message(payload, &mut buf).map_err(setup)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Reads the other side's handshake message; returns its payload.
    pub fn read(&mut self, message: &[u8]) -> Result<Vec<u8>, NoiseError> {
        if message.len() > MAX_FRAME {
            return Err(NoiseError::BadFrame);
        }
        let mut buf = vec![0u8; MAX_FRAME];
        let n = self
            .state
            .read_message(message, &mut buf)
            .map_err(|_| NoiseError::Decrypt)?;
        buf.truncate(n);
        if let (Some(expected), Some(got)) = (self.expected_peer, self.state.get_remote_static())
            && got != expected
        {
            return Err(NoiseError::WrongPeer);
        }
        Ok(buf)
    }

    /// Whether every handshake message has been written and read.
    pub fn is_finished(&self) -> bool {
        self.state.is_handshake_finished()
    }

    /// The session, once the handshake is done.
    pub fn finish(self) -> Result<Session, NoiseError> {
        if !self.is_finished() {
            return Err(NoiseError::NotFinished);
        }
        let peer: [u8; 32] = self
            .state
            .get_remote_static()
            .and_then(|k| k.try_into().ok())
            .ok_or(NoiseError::WrongPeer)?;
        if self.expected_peer.is_some_and(|e| e != peer) {
            return Err(NoiseError::WrongPeer);
        }
        let code = verification_code(self.state.get_handshake_hash());
        let transport = self.state.into_transport_mode().map_err(setup)?;
        Ok(Session {
            transport,
            closed: false,
            code,
            peer,
            partial: Vec::new(),
        })
    }
}

/// Six digits, shown as "123 456" on both screens.
fn verification_code(handshake_hash: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"TOSS verification code")
        .chain_update(handshake_hash)
        .finalize();
    let n = u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000;
    format!("{:03} {:03}", n / 1000, n % 1000)
}

/// An established session.
pub struct Session {
    transport: TransportState,
    closed: bool,
    code: String,
    peer: [u8; 32],
    partial: Vec<u8>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("peer", &hex::encode(self.peer))
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The code both screens show.
    pub fn verification_code(&self) -> &str {
        &self.code
    }

    /// The other side's static key.
    pub fn peer(&self) -> [u8; 32] {
        self.peer
    }

    fn close<T>(&mut self, e: NoiseError) -> Result<T, NoiseError> {
        self.closed = true;
        self.partial.clear();
        Err(e)
    }

    /// Encrypts `message` as one or more frames, to be read in order.
    pub fn seal(&mut self, message: &[u8]) -> Result<Vec<Vec<u8>>, NoiseError> {
        if self.closed {
            return Err(NoiseError::Closed);
        }
        if message.len() > MAX_MESSAGE {
            return Err(NoiseError::TooLarge(message.len()));
        }
        let chunks: Vec<&[u8]> = match message.is_empty() {
            true => vec![&[]],
            false => message.chunks(MAX_FRAME_PLAINTEXT - 1).collect(),
        };
        let mut frames = Vec::with_capacity(chunks.len());
        let mut plain = Vec::with_capacity(MAX_FRAME_PLAINTEXT);
        for (i, chunk) in chunks.iter().enumerate() {
            let flag = if i + 1 == chunks.len() { FINAL } else { 0 };
            plain.clear();
            plain.extend_from_slice(chunk);
            plain.push(flag);
            let mut frame = vec![0u8; plain.len() + 16];
            match self.transport.write_message(&plain, &mut frame) {
                Ok(n) => frame.truncate(n),
                Err(e) => return self.close(NoiseError::Handshake(e.to_string())),
            }
            frames.push(frame);
        }
        Ok(frames)
    }

    /// Decrypts the next frame; the whole message once its last frame has
    /// arrived. Any failure closes the session.
    pub fn open(&mut self, frame: &[u8]) -> Result<Option<Vec<u8>>, NoiseError> {
        if self.closed {
            return Err(NoiseError::Closed);
        }
        if frame.len() > MAX_FRAME || frame.len() < 17 {
            return self.close(NoiseError::BadFrame);
        }
        // Decrypt straight onto the end of the message being assembled.
        let start = self.partial.len();
        if start + frame.len() - 17 > MAX_MESSAGE {
            let size = start + frame.len() - 17;
            return self.close(NoiseError::TooLarge(size));
        }
        self.partial.resize(start + frame.len(), 0);
        let n = match self
            .transport
            .read_message(frame, &mut self.partial[start..])
        {
            Ok(n) => n,
            Err(_) => return self.close(NoiseError::Decrypt),
        };
        self.partial.truncate(start + n);
        match self.partial.pop() {
            Some(FINAL) => Ok(Some(std::mem::take(&mut self.partial))),
            Some(0) => Ok(None),
            _ => self.close(NoiseError::BadFrame),
        }
    }
}

#[cfg(test)]
mod tests;
