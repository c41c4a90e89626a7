//! Accounts the program owns, with fixed little-endian layouts (docs/program.md).

use crate::Pubkey;

use crate::error::TossError;

/// Seed prefixes of the program's addresses.
pub const ESCROW_SEED: &[u8] = b"escrow";
/// Seed prefix of an SPL escrow's token account, derived from the escrow's address.
pub const ESCROW_TOKENS_SEED: &[u8] = b"escrow-tokens";
/// Seed prefix of a settlement record, derived from the payer and the nonce.
pub const RECORD_SEED: &[u8] = b"settled";

/// Withdrawal delay bounds: long enough to get a till online, short enough
/// that a payer's money is never locked for more than a month.
pub const MIN_WITHDRAW_DELAY: u32 = 3600;
/// Longest withdrawal delay: 30 days, in seconds.
pub const MAX_WITHDRAW_DELAY: u32 = 30 * 24 * 3600;
/// Seconds after a withdrawal unlocks during which it may be executed; then
/// the request lapses and must be made again, its delay starting over. A
/// lock armed once cannot hang over every later offline payment: a payee
/// sees a request at most `withdraw_delay + WITHDRAW_WINDOW` old matter.
pub const WITHDRAW_WINDOW: u32 = 24 * 3600;

const ESCROW_TAG: u8 = 1;
const RECORD_TAG: u8 = 2;

/// The escrow for `owner`'s funds in `mint` (`None` = SOL).
pub fn escrow_address(program_id: &Pubkey, owner: &Pubkey, mint: Option<&Pubkey>) -> (Pubkey, u8) {
    let mint = mint.copied().unwrap_or_default();
    Pubkey::find_program_address(&[ESCROW_SEED, owner.as_ref(), mint.as_ref()], program_id)
}

/// The token account an SPL escrow holds its tokens in.
pub fn escrow_tokens_address(program_id: &Pubkey, escrow: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[ESCROW_TOKENS_SEED, escrow.as_ref()], program_id)
}

/// The settlement record that marks `payer`'s `nonce` as used.
pub fn record_address(program_id: &Pubkey, payer: &Pubkey, nonce: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[RECORD_SEED, payer.as_ref(), &nonce.to_le_bytes()],
        program_id,
    )
}

/// A payer's deposit that offline intents draw on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscrowState {
    /// Bump seed of the escrow's address, used when it signs token transfers.
    pub bump: u8,
    /// The payer who opened the escrow; only they may deposit or withdraw.
    pub owner: Pubkey,
    /// `Pubkey::default()` for SOL.
    pub mint: Pubkey,
    /// Genesis prefix of the cluster the owner opened it on; intents for any
    /// other cluster are refused.
    pub cluster: [u8; 8],
    /// Seconds between a withdrawal request and when it can be paid out.
    pub withdraw_delay: u32,
    /// Amount asked for by the pending withdrawal; 0 when none.
    pub pending_withdrawal: u64,
    /// Unix time of the pending request.
    pub requested_at: i64,
}

impl EscrowState {
    /// Account data size in bytes: tag, bump, owner, mint, cluster, delay, pending, requested at.
    pub const LEN: usize = 1 + 1 + 32 + 32 + 8 + 4 + 8 + 8;

    /// Writes the tagged layout to `dst`; `NotInitialized` if `dst` is shorter than [`Self::LEN`].
    pub fn pack(&self, dst: &mut [u8]) -> Result<(), TossError> {
        let dst = dst.get_mut(..Self::LEN).ok_or(TossError::NotInitialized)?;
        let mut w = Writer(dst, 0);
        w.put(&[ESCROW_TAG, self.bump]);
        w.put(self.owner.as_ref());
        w.put(self.mint.as_ref());
        w.put(&self.cluster);
        w.put(&self.withdraw_delay.to_le_bytes());
        w.put(&self.pending_withdrawal.to_le_bytes());
        w.put(&self.requested_at.to_le_bytes());
        Ok(())
    }

    /// Reads an escrow; `NotInitialized` if `src` is too short or not tagged as an escrow.
    pub fn unpack(src: &[u8]) -> Result<Self, TossError> {
        let mut r = Fields::new(src, Self::LEN, ESCROW_TAG)?;
        Ok(Self {
            bump: r.byte(),
            owner: r.key(),
            mint: r.key(),
            cluster: r.array(),
            withdraw_delay: u32::from_le_bytes(r.array()),
            pending_withdrawal: u64::from_le_bytes(r.array()),
            requested_at: i64::from_le_bytes(r.array()),
        })
    }

    /// The mint as an option: `None` for a SOL escrow.
    pub fn mint(&self) -> Option<Pubkey> {
        (self.mint != Pubkey::default()).then_some(self.mint)
    }
}

/// Proof that a `(payer, nonce)` was used, and by which intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementRecord {
    /// SHA-256 of the signed intent.
    pub intent_id: [u8; 32],
    /// The wallet the intent paid.
    pub payee: Pubkey,
    /// Amount paid, in lamports or the mint's base units.
    pub amount: u64,
    /// Cluster Unix time, in seconds, when the intent settled.
    pub settled_at: i64,
    /// After this the intent can never settle, so the settlement record may be closed.
    pub expires_at: u32,
    /// Who paid the settlement record's rent and gets it back on close.
    pub rent_payer: Pubkey,
}

impl SettlementRecord {
    /// Account data size in bytes: tag, intent id, payee, amount, settle time, expiry, rent payer.
    pub const LEN: usize = 1 + 32 + 32 + 8 + 8 + 4 + 32;

    /// Writes the tagged layout to `dst`; `NotInitialized` if `dst` is shorter than [`Self::LEN`].
    pub fn pack(&self, dst: &mut [u8]) -> Result<(), TossError> {
        let dst = dst.get_mut(..Self::LEN).ok_or(TossError::NotInitialized)?;
        let mut w = Writer(dst, 0);
        w.put(&[RECORD_TAG]);
        w.put(&self.intent_id);
        w.put(self.payee.as_ref());
        w.put(&self.amount.to_le_bytes());
        w.put(&self.settled_at.to_le_bytes());
        w.put(&self.expires_at.to_le_bytes());
        w.put(self.rent_payer.as_ref());
        Ok(())
    }

    /// Reads a record; `NotInitialized` if `src` is too short or not tagged as a record.
    pub fn unpack(src: &[u8]) -> Result<Self, TossError> {
        let mut r = Fields::new(src, Self::LEN, RECORD_TAG)?;
        Ok(Self {
            intent_id: r.array(),
            payee: r.key(),
            amount: u64::from_le_bytes(r.array()),
            settled_at: i64::from_le_bytes(r.array()),
            expires_at: u32::from_le_bytes(r.array()),
            rent_payer: r.key(),
        })
    }
}

struct Writer<'a>(&'a mut [u8], usize);

impl Writer<'_> {
    /// Callers size the buffer to the layout's LEN first, so this stays in bounds.
    fn put(&mut self, bytes: &[u8]) {
        self.0[self.1..self.1 + bytes.len()].copy_from_slice(bytes);
        self.1 += bytes.len();
    }
}

/// Reads a layout whose length and tag were checked up front, so the field
/// reads cannot run out of bytes.
struct Fields<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(src: &'a [u8], len: usize, tag: u8) -> Result<Self, TossError> {
        match src.get(..len) {
            Some(s) if s[0] == tag => Ok(Self { src: s, pos: 1 }),
            _ => Err(TossError::NotInitialized),
        }
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        out.copy_from_slice(&self.src[self.pos..self.pos + N]);
        self.pos += N;
        out
    }

    fn byte(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    fn key(&mut self) -> Pubkey {
        Pubkey::new_from_array(self.array())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escrow_and_record_round_trip() {
        let v = EscrowState {
            bump: 254,
            owner: Pubkey::new_unique(),
            mint: Pubkey::default(),
            cluster: [1, 2, 3, 4, 5, 6, 7, 8],
            withdraw_delay: 3600,
            pending_withdrawal: 5,
            requested_at: -1,
        };
        let mut buf = vec![0; EscrowState::LEN];
        v.pack(&mut buf).unwrap();
        assert_eq!(EscrowState::unpack(&buf).unwrap(), v);
        assert_eq!(v.mint(), None);

        let r = SettlementRecord {
            intent_id: [9; 32],
            payee: Pubkey::new_unique(),
            amount: u64::MAX,
            settled_at: 1_790_000_000,
            expires_at: u32::MAX,
            rent_payer: Pubkey::new_unique(),
        };
        let mut buf = vec![0; SettlementRecord::LEN];
        r.pack(&mut buf).unwrap();
        assert_eq!(SettlementRecord::unpack(&buf).unwrap(), r);
        // A settlement record is not an escrow, and an empty account is neither.
        assert_eq!(EscrowState::unpack(&buf), Err(TossError::NotInitialized));
        assert_eq!(
            SettlementRecord::unpack(&[]),
            Err(TossError::NotInitialized)
        );
        assert_eq!(
            SettlementRecord::unpack(&[0; SettlementRecord::LEN]),
            Err(TossError::NotInitialized)
        );
        assert_eq!(r.pack(&mut [0; 3]), Err(TossError::NotInitialized));
    }
}
