#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| toss_core::fuzzing::sign_request(data));
