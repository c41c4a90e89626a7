//! The part of CBOR (RFC 8949) the UR registry types use: unsigned and
//! negative integers, byte and text strings, arrays, maps, tags, booleans
//! and null, all of definite length. Decoding is strict, for input from a
//! camera: at most 64 KiB, 16 levels deep, every byte read exactly once;
//! anything else is refused. Encoding writes the shortest heads and maps
//! in the order given.

/// A CBOR data item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cbor {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the value is `-1 - n`.
    Neg(u64),
    /// Major type 2.
    Bytes(Vec<u8>),
    /// Major type 3.
    Text(String),
    /// Major type 4.
    Array(Vec<Cbor>),
    /// Major type 5, in the order found.
    Map(Vec<(Cbor, Cbor)>),
    /// Major type 6.
    Tag(u64, Box<Cbor>),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// Why bytes are not the CBOR this reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    /// Input ends inside an item.
    #[error("it ends in the middle of an item")]
    Truncated,
    /// Bytes are left after the item.
    #[error("{0} bytes follow the item")]
    Trailing(usize),
    /// Over 64 KiB, or nested over 16 levels.
    #[error("it is larger or deeper than a request can be")]
    TooLarge,
    /// Indefinite lengths, floats, other simple values, or bad UTF-8.
    #[error("it uses CBOR this reader does not take ({0})")]
    Unsupported(&'static str),
}

const MAX_INPUT: usize = 64 * 1024;
const MAX_DEPTH: usize = 16;

/// Decodes exactly one item filling `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Cbor, CborError> {
    if bytes.len() > MAX_INPUT {
        return Err(CborError::TooLarge);
    }
    let mut at = 0;
    let item = item(bytes, &mut at, 0)?;
    match bytes.len() - at {
        0 => Ok(item),
        n => Err(CborError::Trailing(n)),
    }
}

fn take<'a>(bytes: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], CborError> {
    let end = at.checked_add(n).ok_or(CborError::Truncated)?;
    let slice = bytes.get(*at..end).ok_or(CborError::Truncated)?;
    *at = end;
    Ok(slice)
}

fn item(bytes: &[u8], at: &mut usize, depth: usize) -> Result<Cbor, CborError> {
    if depth > MAX_DEPTH {
        return Err(CborError::TooLarge);
    }
    let head = take(bytes, at, 1)?[0];
    let (major, info) = (head >> 5, head & 0x1f);
    let arg = match info {
        0..=23 => u64::from(info),
        24 => u64::from(take(bytes, at, 1)?[0]),
        25 => u64::from(u16::from_be_bytes(
            take(bytes, at, 2)?
                .try_into()
                .map_err(|_| CborError::Truncated)?,
        )),
        26 => u64::from(u32::from_be_bytes(
            take(bytes, at, 4)?
                .try_into()
                .map_err(|_| CborError::Truncated)?,
        )),
        27 => u64::from_be_bytes(
            take(bytes, at, 8)?
                .try_into()
                .map_err(|_| CborError::Truncated)?,
        ),
        31 => return Err(CborError::Unsupported("an indefinite length")),
        _ => return Err(CborError::Unsupported("a reserved head")),
    };
    // Every element takes at least one byte: a count past what is left is a lie.
    let count = |arg: u64| -> Result<usize, CborError> {
        usize::try_from(arg)
            .ok()
            .filter(|n| *n <= bytes.len().saturating_sub(*at))
            .ok_or(CborError::Truncated)
    };
    Ok(match major {
        0 => Cbor::Uint(arg),
        1 => Cbor::Neg(arg),
        2 => Cbor::Bytes(take(bytes, at, count(arg)?)?.to_vec()),
        3 => Cbor::Text(
            String::from_utf8(take(bytes, at, count(arg)?)?.to_vec())
                .map_err(|_| CborError::Unsupported("text that is not UTF-8"))?,
        ),
        4 => Cbor::Array(
            (0..count(arg)?)
                .map(|_| item(bytes, at, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        5 => Cbor::Map(
            (0..count(arg)?)
                .map(|_| Ok((item(bytes, at, depth + 1)?, item(bytes, at, depth + 1)?)))
                .collect::<Result<_, _>>()?,
        ),
        6 => Cbor::Tag(arg, Box::new(item(bytes, at, depth + 1)?)),
        _ => match info {
            20 => Cbor::Bool(false),
            21 => Cbor::Bool(true),
            22 => Cbor::Null,
            _ => return Err(CborError::Unsupported("a float or simple value")),
        },
    })
}

/// Encodes `item` with the shortest heads.
pub fn encode(item: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    write(item, &mut out);
    out
}

fn head(major: u8, arg: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend([m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(arg.to_be_bytes());
        }
    }
}

fn write(item: &Cbor, out: &mut Vec<u8>) {
    match item {
        Cbor::Uint(n) => head(0, *n, out),
        Cbor::Neg(n) => head(1, *n, out),
        Cbor::Bytes(b) => {
            head(2, b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Cbor::Text(t) => {
            head(3, t.len() as u64, out);
            out.extend_from_slice(t.as_bytes());
        }
        Cbor::Array(items) => {
            head(4, items.len() as u64, out);
            items.iter().for_each(|i| write(i, out));
        }
        Cbor::Map(entries) => {
            head(5, entries.len() as u64, out);
            for (k, v) in entries {
                write(k, out);
                write(v, out);
            }
        }
        Cbor::Tag(tag, inner) => {
            head(6, *tag, out);
            write(inner, out);
        }
        Cbor::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Cbor::Null => out.push(0xf6),
    }
}

impl Cbor {
    /// The value at integer key `key` of a map.
    pub fn get(&self, key: u64) -> Option<&Cbor> {
        match self {
            Cbor::Map(entries) => entries
                .iter()
                .find(|(k, _)| *k == Cbor::Uint(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The item inside tag `tag`, or the item itself when untagged.
    pub fn untag(&self, tag: u64) -> &Cbor {
        match self {
            Cbor::Tag(t, inner) if *t == tag => inner,
            other => other,
        }
    }
}
