#!/usr/bin/env python3
"""Teaches Rust's std (the source rust-web-src ships, in the private toolchain under
$SBF_DIR) that `target_os = "solana"` exists: a single-threaded target with no OS, whose
allocator the program brings (solana-program's entrypoint! sets the global allocator).

Upstream std builds for an unknown OS only as `restricted_std`, and a few of its platform
tables have no fallback. Each change below adds "solana" to an existing list beside a
target of the same kind (zkvm, vexos: no threads, no OS); nothing else in std changes.
Idempotent: a file already patched is left as it is. Usage: std.py <library dir>.
"""
import pathlib
import sys

LIB = pathlib.Path(sys.argv[1])

# (file, text to find, text to put instead); each must match exactly once.
EDITS = [
    # std is a supported std target (not restricted_std, which every crate would
    # have to opt into).
    ("std/build.rs", '|| target_os == "vexos"\n', '|| target_os == "vexos"\n        || target_os == "solana"\n'),
    # The SBF heap hands out 8-byte aligned blocks.
    ("std/src/sys/alloc/mod.rs", '} else if cfg!(any(\n    target_arch = "x86",', '} else if cfg!(any(\n    target_arch = "bpf",\n    target_arch = "x86",'),
    ("std/src/sys/alloc/mod.rs", '    target_os = "zkvm" => {\n        mod zkvm;\n    }\n}', '    target_os = "zkvm" => {\n        mod zkvm;\n    }\n    target_os = "solana" => {\n        mod solana;\n    }\n}'),
    # OS error codes: none.
    ("std/src/sys/io/error/mod.rs", '        target_os = "vexos",\n        target_family = "wasm",', '        target_os = "vexos",\n        target_os = "solana",\n        target_family = "wasm",'),
    # One thread: thread locals are statics.
    ("std/src/sys/thread_local/mod.rs", '        target_os = "trusty",\n        target_os = "vexos",\n    ) => {\n        mod no_threads;', '        target_os = "trusty",\n        target_os = "vexos",\n        target_os = "solana",\n    ) => {\n        mod no_threads;'),
    # ... and no thread exit to run destructors at.
    ("std/src/sys/thread_local/mod.rs", '            target_os = "trusty",\n            target_os = "vexos",\n        ) => {\n            pub(crate) fn enable() {', '            target_os = "trusty",\n            target_os = "vexos",\n            target_os = "solana",\n        ) => {\n            pub(crate) fn enable() {'),
    # No entropy source: HashMap's random keys and std::random are unsupported.
    ("std/src/sys/random/mod.rs", '        target_os = "xous",\n        target_os = "vexos",\n    ) => {', '        target_os = "xous",\n        target_os = "vexos",\n        target_os = "solana",\n    ) => {'),
    ("std/src/sys/random/mod.rs", '    target_os = "xous",\n    target_os = "vexos",\n)))]\npub fn hashmap_random_keys', '    target_os = "xous",\n    target_os = "vexos",\n    target_os = "solana",\n)))]\npub fn hashmap_random_keys'),
]

NEW_FILES = {
    # System allocates nothing: every allocation goes to the program's global
    # allocator (the SBF heap), never to System.
    "std/src/sys/alloc/solana.rs": """use crate::alloc::{GlobalAlloc, Layout, System};

#[stable(feature = "alloc_system_type", since = "1.28.0")]
unsafe impl GlobalAlloc for System {
    #[inline]
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        crate::ptr::null_mut()
    }

    #[inline]
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}
""",
}

for name, old, new in EDITS:
    path = LIB / name
    text = path.read_text()
    if new in text:
        continue
    if text.count(old) != 1:
        sys.exit(f"sbf-std: {name}: expected text not found exactly once: {old!r}")
    path.write_text(text.replace(old, new))
for name, text in NEW_FILES.items():
    (LIB / name).write_text(text)
