//! The program's errors. Codes are stable: clients map them back with
//! [`TossError::from_code`] and show the message.

use solana_program::program_error::ProgramError;

macro_rules! errors {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal => $msg:literal,)*) => {
        /// Every way the TOSS program refuses an instruction.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
        #[repr(u32)]
        pub enum TossError {
            $($(#[doc = $doc])* #[error($msg)] $name = $code,)*
        }

        impl TossError {
            /// The error for a `Custom(code)` returned by the program.
            pub fn from_code(code: u32) -> Option<Self> {
                match code {
                    $($code => Some(Self::$name),)*
                    _ => None,
                }
            }
        }
    };
}

errors! {
    InvalidInstruction = 0 => "the instruction data is not a TOSS instruction",
    IntentMalformed = 1 => "the intent bytes are not a valid TOSS intent",
    /// No Ed25519 precompile instruction where the settle instruction points.
    MissingSignatureCheck = 2 => "the transaction has no Ed25519 signature check for the intent",
    /// The precompile exists but does not check this intent by its payer.
    SignatureCheckMismatch = 3 => "the Ed25519 signature check is not over this intent by its payer",
    WrongCluster = 4 => "the intent was signed for another cluster",
    WrongProgram = 5 => "the intent names another TOSS program",
    Expired = 6 => "the intent has expired",
    AlreadySettled = 7 => "the intent was already settled",
    /// Another intent with the same payer and nonce settled first.
    NonceConflict = 8 => "another intent with the same nonce was settled first",
    InsufficientEscrowFunds = 9 => "the payer's escrow does not hold enough to pay the intent",
    WrongPayee = 10 => "the destination account does not belong to the intent's payee",
    WrongMint = 11 => "the token accounts are not for the intent's mint",
    WrongEscrow = 12 => "the escrow account is not the payer's escrow for this currency",
    WrongRecord = 13 => "the settlement record account is not the one for this payer and nonce",
    WithdrawalLocked = 14 => "the withdrawal time lock has not passed yet",
    NoWithdrawalRequested = 15 => "no withdrawal was requested",
    NotEscrowOwner = 16 => "only the escrow's owner may do this, and must sign",
    /// The durable path needs instruction 0 to advance the intent's nonce account.
    DurableNonceNotAdvanced = 17 => "instruction 0 does not advance the intent's durable nonce account",
    NotDurableIntent = 18 => "the intent does not name a durable nonce",
    RecordStillNeeded = 19 => "the settlement record cannot be closed before the intent expires",
    InvalidWithdrawDelay = 20 => "the withdrawal delay must be from 1 hour to 30 days",
    AlreadyInitialized = 21 => "the account already exists",
    NotInitialized = 22 => "the account does not exist or is not a TOSS account",
    Overflow = 23 => "an amount overflowed",
    WrongRentPayer = 24 => "the rent goes back to the account that paid it",
    DurableIntentInEscrow = 25 => "a durable-nonce intent settles only through the durable path",
}

impl From<TossError> for ProgramError {
    fn from(e: TossError) -> Self {
        ProgramError::Custom(e as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for code in 0..=25 {
            let e = TossError::from_code(code).unwrap();
            assert_eq!(e as u32, code);
            assert_eq!(ProgramError::from(e), ProgramError::Custom(code));
        }
        assert_eq!(TossError::from_code(26), None);
    }
}
