//! Counts said in words that agree with them ("1 payment", "2 payments"),
//! the one way every message the wallet writes says how many.

/// `n` and the noun for it: `one` for exactly one, `many` otherwise
/// (nouns whose plural is not `one` + "s" are given both ways).
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    match n.into() {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// `count` for nouns made plural by adding "s".
pub fn counted(n: impl Into<u64>, noun: &str) -> String {
    count(n, noun, &format!("{noun}s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1u32, "payment"), "1 payment");
        assert_eq!(counted(0u32, "payment"), "0 payments");
        assert_eq!(counted(2u64, "payment"), "2 payments");
        assert_eq!(count(3u8, "old one", "old ones"), "3 old ones");
        assert_eq!(count(1u8, "entry", "entries"), "1 entry");
    }
}
