//! The addresses the program checks accounts against, as bytes both sides
//! share (the host tests compare them with the SDK's constants).

/// The system program. (`11111111111111111111111111111111`)
pub const SYSTEM_PROGRAM: [u8; 32] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
/// The SPL Token program. (`TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`)
pub const TOKEN_PROGRAM: [u8; 32] = [
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172, 28, 180, 133, 237,
    95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169,
];
/// The Ed25519 signature-check precompile. (`Ed25519SigVerify111111111111111111111111111`)
pub const ED25519_PROGRAM: [u8; 32] = [
    3, 125, 70, 214, 124, 147, 251, 190, 18, 249, 66, 143, 131, 141, 64, 255, 5, 112, 116, 73, 39,
    244, 138, 100, 252, 202, 112, 68, 128, 0, 0, 0,
];
/// The instructions sysvar. (`Sysvar1nstructions1111111111111111111111111`)
pub const INSTRUCTIONS_SYSVAR: [u8; 32] = [
    6, 167, 213, 23, 24, 123, 209, 102, 53, 218, 212, 4, 85, 253, 194, 192, 193, 36, 198, 143, 33,
    86, 117, 165, 219, 186, 203, 95, 8, 0, 0, 0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_are_the_sdks() {
        assert_eq!(
            SYSTEM_PROGRAM,
            solana_sdk_ids::system_program::ID.to_bytes()
        );
        assert_eq!(TOKEN_PROGRAM, spl_token_interface::ID.to_bytes());
        assert_eq!(
            ED25519_PROGRAM,
            solana_sdk_ids::ed25519_program::ID.to_bytes()
        );
        assert_eq!(
            INSTRUCTIONS_SYSVAR,
            solana_sdk_ids::sysvar::instructions::ID.to_bytes()
        );
    }
}
