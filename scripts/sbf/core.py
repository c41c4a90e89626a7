#!/usr/bin/env python3
"""Patches the Rust `core` source that scripts/sbf/build compiles for the Solana VM
(rust-web-src, extracted under $SBF_DIR, never the system's).

One change: a `Layout`'s size is not computed with an overflow-checked multiply,
which BPF cannot do. BPF has no high multiply; upstream LLVM lowers the check to a
`__multi3` call its BPF backend cannot emit, and turns a check by division back
into the same thing. Instead both factors must be below 2^32, so their product
fits in 64 bits: stricter than needed, never wrong, and no SBF heap or account
comes near 4 GiB. Every `Vec` that grows goes through this function.

Idempotent. Usage: core.py <library dir>.
"""
import pathlib
import sys

LIB = pathlib.Path(sys.argv[1])
PATH = LIB / "core/src/alloc/layout.rs"
OLD = "        if let Some(size) = self.size.checked_mul(n) {\n"
NEW = "        if let Some(size) = if (self.size | n) >> 32 == 0 { Some(self.size * n) } else { None } {\n"

text = PATH.read_text()
if NEW not in text:
    if text.count(OLD) != 1:
        sys.exit(f"sbf/core.py: {PATH}: the checked multiply to replace was not found exactly once")
    PATH.write_text(text.replace(OLD, NEW))
