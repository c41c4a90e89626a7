//! The Ed25519 signature check done by the program itself, for clusters
//! without the precompile (SIMD-0568 proposes switching precompiles off):
//! as strict as the precompile's `verify_strict`. SHA-512 and the scalar
//! arithmetic are here (plain 64-bit integer code, shared with the host so
//! they are tested against the reference crates); the point arithmetic is
//! the runtime's curve25519 syscalls, on chain only.
//!
//! The check: `S` is canonical (`S < L`); `A` and `R` are points of the
//! curve, not of small order; `A` has no small-order component at all
//! (`[L]A` is the identity); and `[S]B - [k]A` compresses to exactly the
//! bytes of `R`, where `k = SHA-512(R ‖ A ‖ M) mod L`. The reduction of the
//! 512-bit hash is split, so no wide multiplication is needed:
//! `k = lo + 2^256·hi` with `lo`, `hi` the hash's halves, each reduced mod
//! `L` by subtraction, and `[k]A = [lo]A + [hi]([2^256 mod L]A)`, with
//! `[L - x]A = -[x]A`: both hold only because `A` is in the prime-order
//! subgroup, which is why that is checked. (`verify_strict` alone accepts a
//! key with an order-8 component for about one message in eight; the
//! wallet's offline check refuses such keys too, so every path agrees.)

/// The group order `L = 2^252 + 27742317777372353535851937790883648493`,
/// little-endian 64-bit limbs.
const L: [u64; 4] = [
    0x5812_631a_5cf5_d3ed,
    0x14de_f9de_a2f7_9cd6,
    0x0000_0000_0000_0000,
    0x1000_0000_0000_0000,
];

/// `2^256 mod L`, little-endian bytes.
pub const TWO_256_MOD_L: [u8; 32] = [
    0x1d, 0x95, 0x98, 0x8d, 0x74, 0x31, 0xec, 0xd6, 0x70, 0xcf, 0x7d, 0x73, 0xf4, 0x5b, 0xef, 0xc6,
    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f,
];

fn limbs(bytes: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        *limb = u64::from_le_bytes(b);
    }
    out
}

fn bytes(limbs: &[u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, limb) in limbs.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// `a >= b`, as 256-bit numbers.
fn at_least(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// `a - b`, for `a >= b`.
fn minus(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut borrow = 0u64;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(borrow);
        out[i] = d;
        borrow = u64::from(b1 | b2);
    }
    out
}

/// Whether 32 bytes are a canonical scalar (`< L`), as a signature's `S`
/// must be.
pub fn is_canonical_scalar(s: &[u8; 32]) -> bool {
    !at_least(&limbs(s), &L)
}

/// A 256-bit number mod `L` (`2^256 < 16·L`): 8L, 4L, 2L and L subtracted
/// in turn where they fit.
pub fn reduce(x: &[u8; 32]) -> [u8; 32] {
    let mut v = limbs(x);
    // Subtract 8L, 4L, 2L, L in turn (each at most once keeps v < 16L - ...).
    for shift in [3u32, 2, 1, 0] {
        let m = shifted_l(shift);
        if at_least(&v, &m) {
            v = minus(&v, &m);
        }
    }
    // After subtracting 8L, 4L, 2L and L once each, v < L·(16 - 15) = L.
    bytes(&v)
}

/// `L · 2^shift` (shift ≤ 3: it stays below 2^256).
fn shifted_l(shift: u32) -> [u64; 4] {
    if shift == 0 {
        return L;
    }
    let mut out = [0u64; 4];
    for i in 0..4 {
        out[i] = L[i] << shift;
        if i > 0 {
            out[i] |= L[i - 1] >> (64 - shift);
        }
    }
    out
}

/// `(L - x) mod L`, for `x < L`.
pub fn negate(x: &[u8; 32]) -> [u8; 32] {
    let v = limbs(x);
    if v == [0; 4] {
        return *x;
    }
    bytes(&minus(&L, &v))
}

/// The halves of a 64-byte hash, each reduced mod `L`: `h = lo + 2^256·hi`.
pub fn reduce_wide(h: &[u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut lo = [0u8; 32];
    let mut hi = [0u8; 32];
    lo.copy_from_slice(&h[..32]);
    hi.copy_from_slice(&h[32..]);
    (reduce(&lo), reduce(&hi))
}

/// SHA-512 of the concatenation of `parts` (FIPS 180-4).
#[inline(never)]
pub fn sha512(parts: &[&[u8]]) -> [u8; 64] {
    let mut state = H0;
    let mut block = [0u8; 128];
    let mut filled = 0usize;
    let mut total: u64 = 0;
    for part in parts {
        for &b in *part {
            block[filled] = b;
            filled += 1;
            if filled == 128 {
                compress(&mut state, &block);
                filled = 0;
            }
        }
        total = total.wrapping_add(part.len() as u64);
    }
    // Padding: 0x80, zeros, then the length in bits as 128 bits big-endian.
    block[filled] = 0x80;
    filled += 1;
    if filled > 112 {
        block[filled..].fill(0);
        compress(&mut state, &block);
        filled = 0;
    }
    block[filled..112].fill(0);
    block[112..120].fill(0);
    block[120..].copy_from_slice(&(total << 3).to_be_bytes());
    block[119] = (total >> 61) as u8;
    compress(&mut state, &block);
    let mut out = [0u8; 64];
    for (i, word) in state.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&word.to_be_bytes());
    }
    out
}

const H0: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

const K: [u64; 80] = [
    0x428a2f98d728ae22,
    0x7137449123ef65cd,
    0xb5c0fbcfec4d3b2f,
    0xe9b5dba58189dbbc,
    0x3956c25bf348b538,
    0x59f111f1b605d019,
    0x923f82a4af194f9b,
    0xab1c5ed5da6d8118,
    0xd807aa98a3030242,
    0x12835b0145706fbe,
    0x243185be4ee4b28c,
    0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f,
    0x80deb1fe3b1696b1,
    0x9bdc06a725c71235,
    0xc19bf174cf692694,
    0xe49b69c19ef14ad2,
    0xefbe4786384f25e3,
    0x0fc19dc68b8cd5b5,
    0x240ca1cc77ac9c65,
    0x2de92c6f592b0275,
    0x4a7484aa6ea6e483,
    0x5cb0a9dcbd41fbd4,
    0x76f988da831153b5,
    0x983e5152ee66dfab,
    0xa831c66d2db43210,
    0xb00327c898fb213f,
    0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2,
    0xd5a79147930aa725,
    0x06ca6351e003826f,
    0x142929670a0e6e70,
    0x27b70a8546d22ffc,
    0x2e1b21385c26c926,
    0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df,
    0x650a73548baf63de,
    0x766a0abb3c77b2a8,
    0x81c2c92e47edaee6,
    0x92722c851482353b,
    0xa2bfe8a14cf10364,
    0xa81a664bbc423001,
    0xc24b8b70d0f89791,
    0xc76c51a30654be30,
    0xd192e819d6ef5218,
    0xd69906245565a910,
    0xf40e35855771202a,
    0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8,
    0x1e376c085141ab53,
    0x2748774cdf8eeb99,
    0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63,
    0x4ed8aa4ae3418acb,
    0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc,
    0x78a5636f43172f60,
    0x84c87814a1f0ab72,
    0x8cc702081a6439ec,
    0x90befffa23631e28,
    0xa4506cebde82bde9,
    0xbef9a3f7b2c67915,
    0xc67178f2e372532b,
    0xca273eceea26619c,
    0xd186b8c721c0c207,
    0xeada7dd6cde0eb1e,
    0xf57d4f7fee6ed178,
    0x06f067aa72176fba,
    0x0a637dc5a2c898a6,
    0x113f9804bef90dae,
    0x1b710b35131c471b,
    0x28db77f523047d84,
    0x32caab7b40c72493,
    0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6,
    0x597f299cfc657e2a,
    0x5fcb6fab3ad6faec,
    0x6c44198c4a475817,
];

#[inline(never)]
fn compress(state: &mut [u64; 8], block: &[u8; 128]) {
    let mut w = [0u64; 80];
    for (i, word) in w.iter_mut().take(16).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&block[8 * i..8 * i + 8]);
        *word = u64::from_be_bytes(b);
    }
    for i in 16..80 {
        let s0 = w[i - 15].rotate_right(1) ^ w[i - 15].rotate_right(8) ^ (w[i - 15] >> 7);
        let s1 = w[i - 2].rotate_right(19) ^ w[i - 2].rotate_right(61) ^ (w[i - 2] >> 6);
        w[i] = w[i - 16]
            .wrapping_add(s0)
            .wrapping_add(w[i - 7])
            .wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for i in 0..80 {
        let s1 = e.rotate_right(14) ^ e.rotate_right(18) ^ e.rotate_right(41);
        let ch = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(K[i])
            .wrapping_add(w[i]);
        let s0 = a.rotate_right(28) ^ a.rotate_right(34) ^ a.rotate_right(39);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

/// The check itself, on chain: the runtime's curve25519 syscalls do the
/// point arithmetic.
#[cfg(target_os = "solana")]
#[allow(unsafe_code)] // the syscalls take pointers to 32-byte buffers
#[inline(never)]
pub fn verify_strict(signature: &[u8; 64], key: &[u8; 32], message: &[u8]) -> bool {
    use pinocchio::syscalls::{
        sol_curve_group_op, sol_curve_multiscalar_mul, sol_curve_validate_point,
    };
    const EDWARDS: u64 = 0;
    const MUL: u64 = 2;
    /// The base point B, compressed.
    const BASE: [u8; 32] = [
        0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66,
    ];
    const IDENTITY: [u8; 32] = {
        let mut i = [0u8; 32];
        i[0] = 1;
        i
    };
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    let mut s = [0u8; 32];
    s.copy_from_slice(&signature[32..]);
    if !is_canonical_scalar(&s) {
        return false;
    }
    let mut eight = [0u8; 32];
    eight[0] = 8;
    // A point of the curve, and not of small order ([8]P is not the identity).
    let sound = |p: &[u8; 32]| {
        let mut out = [0u8; 32];
        unsafe {
            sol_curve_validate_point(EDWARDS, p.as_ptr(), out.as_mut_ptr()) == 0
                && sol_curve_group_op(EDWARDS, MUL, eight.as_ptr(), p.as_ptr(), out.as_mut_ptr())
                    == 0
                && out != IDENTITY
        }
    };
    if !sound(key) || !sound(&r) {
        return false;
    }
    // No small-order component in A: [L - 1]A + A is the identity.
    const L_MINUS_1: [u8; 32] = [
        0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    const ADD: u64 = 0;
    let mut almost = [0u8; 32];
    let mut whole = [0u8; 32];
    let in_subgroup = unsafe {
        sol_curve_group_op(
            EDWARDS,
            MUL,
            L_MINUS_1.as_ptr(),
            key.as_ptr(),
            almost.as_mut_ptr(),
        ) == 0
            && sol_curve_group_op(
                EDWARDS,
                ADD,
                almost.as_ptr(),
                key.as_ptr(),
                whole.as_mut_ptr(),
            ) == 0
    };
    if !in_subgroup || whole != IDENTITY {
        return false;
    }
    let (lo, hi) = reduce_wide(&sha512(&[&r, key, message]));
    // A' = [2^256 mod L]A, then [S]B + [-lo]A + [-hi]A' must be R.
    let mut shifted = [0u8; 32];
    if unsafe {
        sol_curve_group_op(
            EDWARDS,
            MUL,
            TWO_256_MOD_L.as_ptr(),
            key.as_ptr(),
            shifted.as_mut_ptr(),
        )
    } != 0
    {
        return false;
    }
    let mut scalars = [0u8; 96];
    scalars[..32].copy_from_slice(&s);
    scalars[32..64].copy_from_slice(&negate(&lo));
    scalars[64..].copy_from_slice(&negate(&hi));
    let mut points = [0u8; 96];
    points[..32].copy_from_slice(&BASE);
    points[32..64].copy_from_slice(key);
    points[64..].copy_from_slice(&shifted);
    let mut out = [0u8; 32];
    let failed = unsafe {
        sol_curve_multiscalar_mul(
            EDWARDS,
            scalars.as_ptr(),
            points.as_ptr(),
            3,
            out.as_mut_ptr(),
        )
    };
    failed == 0 && out == r
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::scalar::Scalar;
    use sha2::Digest;

    #[test]
    fn sha512_is_the_standards() {
        for len in [0usize, 1, 111, 112, 127, 128, 129, 239, 240, 300, 1000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let (a, b) = data.split_at(len / 3);
            let ours = sha512(&[a, b]);
            let theirs = sha2::Sha512::digest(&data);
            assert_eq!(ours[..], theirs[..], "{len} bytes");
        }
    }

    #[test]
    fn the_wide_reduction_is_dalek_s() {
        let two_256 = Scalar::from_bytes_mod_order(TWO_256_MOD_L);
        for seed in 0..200u32 {
            let h: [u8; 64] = sha2::Sha512::digest(seed.to_le_bytes()).into();
            let (lo, hi) = reduce_wide(&h);
            assert!(is_canonical_scalar(&lo) && is_canonical_scalar(&hi));
            let ours = Scalar::from_canonical_bytes(lo).unwrap()
                + two_256 * Scalar::from_canonical_bytes(hi).unwrap();
            assert_eq!(ours, Scalar::from_bytes_mod_order_wide(&h), "seed {seed}");
            let neg = Scalar::from_canonical_bytes(negate(&lo)).unwrap();
            assert_eq!(
                neg + Scalar::from_canonical_bytes(lo).unwrap(),
                Scalar::ZERO
            );
        }
        // The extremes: all ones reduces; L itself is not canonical; L - 1 is.
        let (lo, _) = reduce_wide(&[0xff; 64]);
        assert!(is_canonical_scalar(&lo));
        assert_eq!(
            Scalar::from_canonical_bytes(lo).unwrap(),
            Scalar::from_bytes_mod_order([0xff; 32])
        );
        let l = bytes(&L);
        assert!(!is_canonical_scalar(&l));
        assert_eq!(reduce(&l), [0; 32]);
        let mut l_minus_1 = l;
        l_minus_1[0] -= 1;
        assert!(is_canonical_scalar(&l_minus_1));
        assert_eq!(negate(&[0; 32]), [0; 32]);
        assert_eq!(
            Scalar::from_bytes_mod_order(TWO_256_MOD_L),
            Scalar::from_bytes_mod_order_wide(&{
                let mut w = [0u8; 64];
                w[32] = 1;
                w
            })
        );
    }
}
