//! What a test finds on disk: every file under a directory, to check that
//! nothing secret was written anywhere in it.
#![allow(dead_code)] // each test file uses its own part of this
#![allow(clippy::unwrap_used)] // a test harness: fail loudly

use std::path::{Path, PathBuf};

/// Every file below `dir`, at any depth.
pub fn every_file_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(every_file_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Whether `needle` appears anywhere in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
