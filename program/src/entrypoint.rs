//! The program's entrypoint on chain (pinocchio, no std), left out of
//! client builds by `no-entrypoint`: the SBF heap as the allocator, a panic
//! that reports where and aborts, and the memory functions the compiler
//! calls, over the runtime's syscalls.
// The entrypoint macro and the memory functions are the program's only
// contact with raw pointers: the runtime's input buffer and its syscalls.
#![allow(unsafe_code)]

use pinocchio::{AccountView, Address, ProgramResult};

pinocchio::program_entrypoint!(process_instruction);
pinocchio::default_allocator!();
pinocchio::nostd_panic_handler!();

fn process_instruction(
    program_id: &Address,
    accounts: &mut [AccountView],
    data: &[u8],
) -> ProgramResult {
    crate::processor::process_instruction(program_id, accounts, data)
}

// The memory functions LLVM calls for copies and comparisons. Upstream
// Rust's compiler-builtins reaches the linker only as bitcode that LTO drops,
// so they are defined here over the runtime's own (exported by
// scripts/sbf/build).
use pinocchio::syscalls::{sol_memcmp_, sol_memcpy_, sol_memmove_, sol_memset_};

/// # Safety
/// As C's `memcpy`: `n` bytes readable at `src`, writable at `dst`, not overlapping.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    unsafe { sol_memcpy_(dst, src, n as u64) };
    dst
}

/// # Safety
/// As C's `memmove`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    unsafe { sol_memmove_(dst, src, n as u64) };
    dst
}

/// # Safety
/// As C's `memset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    unsafe { sol_memset_(dst, c as u8, n as u64) };
    dst
}

/// # Safety
/// As C's `memcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut result = 0i32;
    unsafe { sol_memcmp_(a, b, n as u64, &mut result) };
    result
}

/// # Safety
/// As C's `bcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    unsafe { memcmp(a, b, n) }
}
