#![no_main]
// rqrr asserts on some pictures; the product catches that (qr::decode), but
// libFuzzer's panic hook would abort first: keep the default quiet hook here,
// while a panic that escapes the target still aborts.
libfuzzer_sys::fuzz_target!(init: std::panic::set_hook(Box::new(|_| {})), |data: &[u8]| toss_core::fuzzing::qr_image(data));
