#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| toss_core::fuzzing::sealed(data));
