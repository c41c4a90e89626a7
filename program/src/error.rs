//! The program's errors. Codes are stable: clients map them back with
//! [`TossError::from_code`] and show the message.
//!
//! Every code is [`TossError::BASE`] plus the error's number. A failure in a
//! program TOSS calls (the system program creating a settlement record, the
//! token program moving tokens) ends the transaction with *that* program's
//! code, reported at the TOSS instruction's index; those codes are small
//! (the system program's run 0 to 17, the token program's 0 to 19), so an
//! offset keeps the two apart and a client never reads "the fee payer has
//! too little SOL" (system error 1) as "the intent is malformed".

use crate::ProgramError;

macro_rules! errors {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal => $msg:literal,)*) => {
        /// Every way the TOSS program refuses an instruction.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
        #[repr(u32)]
        pub enum TossError {
            $($(#[doc = $doc])* #[error($msg)] $name = $code,)*
        }

        impl TossError {
            /// Where TOSS's codes start.
            pub const BASE: u32 = 6000;

            /// The error for a `Custom(code)` returned by the program;
            /// `None` for a code that is not TOSS's (one from a program it
            /// called).
            pub fn from_code(code: u32) -> Option<Self> {
                match code.checked_sub(Self::BASE)? {
                    $($code => Some(Self::$name),)*
                    _ => None,
                }
            }

            /// The `Custom` code the program returns for this error.
            pub fn code(self) -> u32 {
                Self::BASE + self as u32
            }
        }
    };
}

errors! {
    /// Instruction data is empty, has an unknown tag, or the wrong length for its tag.
    InvalidInstruction = 0 => "the instruction data is not a TOSS instruction",
    /// The message the signature check covers does not decode as a canonical intent.
    IntentMalformed = 1 => "the intent bytes are not a valid TOSS intent",
    /// No Ed25519 precompile instruction where the settle instruction points.
    MissingSignatureCheck = 2 => "the transaction has no Ed25519 signature check for the intent",
    /// The precompile exists but does not check this intent by its payer.
    SignatureCheckMismatch = 3 => "the Ed25519 signature check is not over this intent by its payer",
    /// Escrow settlement of an intent whose cluster differs from the escrow's.
    WrongCluster = 4 => "the intent was signed for another cluster",
    /// The intent's `program_id` is not this deployment.
    WrongProgram = 5 => "the intent names another TOSS program",
    /// The cluster clock has reached the intent's `expires_at`.
    Expired = 6 => "the intent has expired",
    /// The settlement record for this payer and nonce already holds this same intent.
    AlreadySettled = 7 => "the intent was already settled",
    /// Another intent with the same payer and nonce settled first.
    NonceConflict = 8 => "another intent with the same nonce was settled first",
    /// The escrow holds less than the intent's amount (for SOL, counting only lamports above rent).
    InsufficientEscrowFunds = 9 => "the payer's escrow does not hold enough to pay the intent",
    /// The SOL destination is not the payee, or the token destination is not owned by the payee.
    WrongPayee = 10 => "the destination account does not belong to the intent's payee",
    /// A token account is not owned by the token program or holds a different mint.
    WrongMint = 11 => "the token accounts are not for the intent's mint",
    /// The escrow or its token account is not at the derived address, or has another owner or mint.
    WrongEscrow = 12 => "the escrow account is not the payer's escrow for this currency",
    /// The settlement record account is not at the address derived from payer and nonce.
    WrongRecord = 13 => "the settlement record account is not the one for this payer and nonce",
    /// `Withdraw` before the request time plus the escrow's withdrawal delay.
    WithdrawalLocked = 14 => "the withdrawal time lock has not passed yet",
    /// `Withdraw` while no withdrawal is pending.
    NoWithdrawalRequested = 15 => "no withdrawal was requested",
    /// A required signer did not sign, or is not the escrow's owner (or durable intent's payer).
    NotEscrowOwner = 16 => "only the escrow's owner may do this, and must sign",
    /// The durable path needs instruction 0 to advance the intent's nonce account.
    DurableNonceNotAdvanced = 17 => "instruction 0 does not advance the intent's durable nonce account",
    /// The durable path was given an intent without a durable nonce.
    NotDurableIntent = 18 => "the intent does not name a durable nonce",
    /// `CloseRecord` while the record's intent could still settle.
    RecordStillNeeded = 19 => "the settlement record cannot be closed before the intent expires",
    /// `OpenEscrow` with a delay outside `MIN_WITHDRAW_DELAY..=MAX_WITHDRAW_DELAY`.
    InvalidWithdrawDelay = 20 => "the withdrawal delay must be from 1 hour to 30 days",
    /// `OpenEscrow` for an escrow the program already owns.
    AlreadyInitialized = 21 => "the account already exists",
    /// The account is not owned by the program, or its data has the wrong tag or length.
    NotInitialized = 22 => "the account does not exist or is not a TOSS account",
    /// Checked arithmetic on lamports or the unlock time overflowed.
    Overflow = 23 => "an amount overflowed",
    /// `CloseRecord` names an account other than the one that paid the rent.
    WrongRentPayer = 24 => "the rent goes back to the account that paid it",
    /// A durable-nonce intent appeared in an escrow `Settle` batch.
    DurableIntentInEscrow = 25 => "a durable-nonce intent settles only through the durable path",
    /// `Withdraw` more than `WITHDRAW_WINDOW` after the request unlocked.
    WithdrawalLapsed = 26 => "the withdrawal request lapsed (not made within a day of unlocking): request it again",
    /// `SettleSigned`: an intent's signature fails the program's own strict check.
    BadSignature = 27 => "the intent's signature does not verify (checked by the program)",
}

impl From<TossError> for ProgramError {
    fn from(e: TossError) -> Self {
        ProgramError::Custom(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for n in 0..=27 {
            let e = TossError::from_code(6000 + n).unwrap();
            assert_eq!(e.code(), 6000 + n);
            assert_eq!(ProgramError::from(e), ProgramError::Custom(6000 + n));
        }
        assert_eq!(TossError::from_code(6028), None);
        // A system or token program code at the TOSS instruction is not TOSS's.
        for code in 0..=19 {
            assert_eq!(TossError::from_code(code), None);
        }
    }
}
