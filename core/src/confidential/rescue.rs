//! The Rescue cipher as Arcium's client uses it to encrypt values to an
//! MXE: Rescue over the field of 2^255 - 19, in counter mode, keyed by a
//! Rescue-Prime hash of the x25519 shared secret.
//!
//! Written from the algorithm's description (docs/confidential.md), not
//! from Arcium's GPL-licensed client; the test vectors below were produced
//! by that client and pin this implementation to it byte for byte.
//!
//! Parameters: S-box x^5 and its inverse; Cauchy MDS matrix (1/(i+j));
//! round constants sampled from SHAKE256, 48 bytes per element, little-
//! endian, reduced mod p. Cipher: state 5, 10 double rounds, constants from
//! an affine recurrence seeded with "encrypt everything, compute anything",
//! a key schedule that runs the permutation over the key. Hash: state 12,
//! rate 7, capacity 5, 8 double rounds, 5 output elements.

use std::sync::LazyLock;

use num_bigint::BigUint;
use sha3::Shake256;
use sha3::digest::{ExtendableOutput, Update, XofReader};

type Fe = BigUint;

static P: LazyLock<Fe> = LazyLock::new(|| (Fe::from(1u8) << 255u32) - Fe::from(19u8));
const ALPHA: u32 = 5;
/// 5^-1 mod (p - 1).
static ALPHA_INV: LazyLock<Fe> = LazyLock::new(|| {
    Fe::parse_bytes(
        b"34737626771194858627071295502606372355980995399692169211837275202373938891969",
        10,
    )
    .unwrap_or_default()
});

const CIPHER_M: usize = 5;
const CIPHER_ROUNDS: usize = 10;
const HASH_M: usize = 12;
const HASH_RATE: usize = 7;
const HASH_ROUNDS: usize = 8;
const HASH_OUT: usize = 5;

fn p() -> &'static Fe {
    &P
}

fn add(a: &Fe, b: &Fe) -> Fe {
    (a + b) % p()
}

fn mul(a: &Fe, b: &Fe) -> Fe {
    (a * b) % p()
}

fn inv(a: &Fe) -> Fe {
    a.modpow(&(p() - Fe::from(2u8)), p())
}

/// Little-endian bytes as a field element.
pub fn from_le(bytes: &[u8]) -> Fe {
    Fe::from_bytes_le(bytes) % p()
}

/// A field element as exactly 32 little-endian bytes.
pub fn to_le32(x: &Fe) -> [u8; 32] {
    let mut out = [0u8; 32];
    let bytes = x.to_bytes_le();
    out[..bytes.len()].copy_from_slice(&bytes);
    out
}

/// Field elements sampled from SHAKE256 over `seed`.
struct Sampler(<Shake256 as ExtendableOutput>::Reader);

impl Sampler {
    fn new(seed: &str) -> Self {
        let mut h = Shake256::default();
        h.update(seed.as_bytes());
        Self(h.finalize_xof())
    }

    fn next(&mut self) -> Fe {
        let mut buf = [0u8; 48];
        self.0.read(&mut buf);
        from_le(&buf)
    }

    fn take(&mut self, n: usize) -> Vec<Fe> {
        (0..n).map(|_| self.next()).collect()
    }
}

type Matrix = Vec<Vec<Fe>>;

fn mds(m: usize) -> Matrix {
    (0..m)
        .map(|i| (0..m).map(|j| inv(&Fe::from((i + j + 2) as u64))).collect())
        .collect()
}

fn mat_vec(m: &Matrix, v: &[Fe]) -> Vec<Fe> {
    m.iter()
        .map(|row| {
            row.iter()
                .zip(v)
                .fold(Fe::default(), |acc, (a, b)| add(&acc, &mul(a, b)))
        })
        .collect()
}

fn vec_add(a: &[Fe], b: &[Fe]) -> Vec<Fe> {
    a.iter().zip(b).map(|(x, y)| add(x, y)).collect()
}

fn determinant(m: &Matrix) -> Fe {
    let n = m.len();
    let mut a = m.clone();
    let mut det = Fe::from(1u8);
    for col in 0..n {
        let Some(pivot) = (col..n).find(|&r| a[r][col] != Fe::default()) else {
            return Fe::default();
        };
        if pivot != col {
            a.swap(pivot, col);
            det = (p() - det) % p();
        }
        det = mul(&det, &a[col][col]);
        let pivot_inv = inv(&a[col][col]);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for row in lower.iter_mut() {
            let factor = mul(&row[col], &pivot_inv);
            for (x, pv) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x = (&*x + p() - mul(&factor, pv)) % p();
            }
        }
    }
    det
}

/// The Rescue permutation: add `keys[0]`, then for each of the 2N steps an
/// S-box layer (exponents alternate, starting with `even`), the MDS matrix
/// and the next key. Returns every state after a key addition.
fn permute(state: &[Fe], keys: &[Vec<Fe>], mds: &Matrix, even: &Fe, odd: &Fe) -> Vec<Vec<Fe>> {
    let mut s = vec_add(state, &keys[0]);
    let mut states = vec![s.clone()];
    for (r, key) in keys.iter().enumerate().skip(1) {
        let e = if (r - 1) % 2 == 0 { even } else { odd };
        let boxed: Vec<Fe> = s.iter().map(|x| x.modpow(e, p())).collect();
        s = vec_add(&mat_vec(mds, &boxed), key);
        states.push(s.clone());
    }
    states
}

struct HashParams {
    mds: Matrix,
    keys: Vec<Vec<Fe>>,
}

static HASH: LazyLock<HashParams> = LazyLock::new(|| {
    let seed = format!("Rescue-XLIX({},{HASH_M},5,256)", p());
    let elements = Sampler::new(&seed).take(2 * HASH_M * HASH_ROUNDS);
    let mut keys = vec![vec![Fe::default(); HASH_M]];
    keys.extend(elements.chunks(HASH_M).map(<[Fe]>::to_vec));
    HashParams {
        mds: mds(HASH_M),
        keys,
    }
});

/// Rescue-Prime: pad with 1 then 0s to a multiple of the rate, absorb,
/// output the first 5 elements of the state.
pub fn hash(message: &[Fe]) -> Vec<Fe> {
    let h = &*HASH;
    let alpha = Fe::from(ALPHA);
    let mut padded: Vec<Fe> = message.iter().map(|x| x % p()).collect();
    padded.push(Fe::from(1u8));
    while !padded.len().is_multiple_of(HASH_RATE) {
        padded.push(Fe::default());
    }
    let mut state = vec![Fe::default(); HASH_M];
    for chunk in padded.chunks(HASH_RATE) {
        for (s, x) in state.iter_mut().zip(chunk) {
            *s = add(s, x);
        }
        state = permute(&state, &h.keys, &h.mds, &alpha, &ALPHA_INV)
            .pop()
            .unwrap_or_default();
    }
    state.truncate(HASH_OUT);
    state
}

struct CipherParams {
    mds: Matrix,
    constants: Vec<Vec<Fe>>,
}

static CIPHER: LazyLock<CipherParams> = LazyLock::new(|| {
    let mut sampler = Sampler::new("encrypt everything, compute anything");
    let first = sampler.take(CIPHER_M * CIPHER_M + 2 * CIPHER_M);
    let rows = |e: &[Fe]| -> Matrix { e.chunks(CIPHER_M).map(<[Fe]>::to_vec).collect() };
    let mut rcmat = rows(&first[..CIPHER_M * CIPHER_M]);
    let init = first[CIPHER_M * CIPHER_M..CIPHER_M * CIPHER_M + CIPHER_M].to_vec();
    let affine = first[CIPHER_M * CIPHER_M + CIPHER_M..].to_vec();
    while determinant(&rcmat) == Fe::default() {
        rcmat = rows(&sampler.take(CIPHER_M * CIPHER_M));
    }
    let mut constants = vec![init];
    for _ in 0..2 * CIPHER_ROUNDS {
        let last = constants.last().cloned().unwrap_or_default();
        constants.push(vec_add(&mat_vec(&rcmat, &last), &affine));
    }
    CipherParams {
        mds: mds(CIPHER_M),
        constants,
    }
});

/// The cipher keyed by an x25519 shared secret.
pub struct Cipher {
    round_keys: Vec<Vec<Fe>>,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher").finish_non_exhaustive()
    }
}

impl Cipher {
    /// Key derivation (NIST SP 800-56C, one step): Rescue-Prime over
    /// (counter 1, the secret as an element, the key length 5).
    pub fn new(shared_secret: &[u8; 32]) -> Self {
        let key = hash(&[Fe::from(1u8), from_le(shared_secret), Fe::from(5u8)]);
        let c = &*CIPHER;
        let round_keys = permute(&key, &c.constants, &c.mds, &ALPHA_INV, &Fe::from(ALPHA));
        Self { round_keys }
    }

    fn keystream(&self, nonce: &[u8; 16], block: u64) -> Vec<Fe> {
        let c = &*CIPHER;
        let input = [
            from_le(nonce),
            Fe::from(block),
            Fe::default(),
            Fe::default(),
            Fe::default(),
        ];
        permute(
            &input,
            &self.round_keys,
            &c.mds,
            &ALPHA_INV,
            &Fe::from(ALPHA),
        )
        .pop()
        .unwrap_or_default()
    }

    /// Counter mode: element `i` of block `b` is added to word `i` of the
    /// permuted block [nonce, b, 0, 0, 0]. Values must be below p.
    pub fn encrypt(&self, plaintext: &[Fe], nonce: &[u8; 16]) -> Vec<[u8; 32]> {
        self.apply(plaintext, nonce, add)
            .iter()
            .map(to_le32)
            .collect()
    }

    /// Inverts [`Cipher::encrypt`]: subtracts the same keystream, mod p, from each element.
    pub fn decrypt(&self, ciphertext: &[[u8; 32]], nonce: &[u8; 16]) -> Vec<Fe> {
        let ct: Vec<Fe> = ciphertext.iter().map(|c| from_le(c)).collect();
        self.apply(&ct, nonce, |x, k| (x + p() - k) % p())
    }

    fn apply(&self, input: &[Fe], nonce: &[u8; 16], op: impl Fn(&Fe, &Fe) -> Fe) -> Vec<Fe> {
        input
            .chunks(CIPHER_M)
            .enumerate()
            .flat_map(|(b, chunk)| {
                let ks = self.keystream(nonce, b as u64);
                chunk
                    .iter()
                    .zip(ks)
                    .map(|(x, k)| op(x, &k))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Fe {
        Fe::parse_bytes(s.as_bytes(), 10).unwrap()
    }

    fn hexs(v: &[[u8; 32]]) -> Vec<String> {
        v.iter().map(hex::encode).collect()
    }

    #[test]
    fn the_hash_matches_arciums_client() {
        assert_eq!(
            hash(&[]),
            [
                "38219958470896316303000659279883813898242281769305681520415119654244043497583",
                "38483645198763044448559472604327674926214321934511863082178170595846962306774",
                "16432685310495097961298749866284907211857878827147020034798733138851865195734",
                "35763437582806270326293719647761750398137973623554443063769462315094538006014",
                "26088692675445262153041109442671368903416187876104291176114057554432149183690",
            ]
            .map(dec)
        );
        let h = hash(&[1u8, 2, 3].map(Fe::from));
        assert_eq!(
            h[0],
            dec("36790273923342364054193110462296832628878690347209291024122906386607262096463")
        );
        assert_eq!(
            h[4],
            dec("2800248938742706695465145489197860689540334589814566618228954053927186490334")
        );
    }

    #[test]
    fn the_cipher_constants_and_key_match_arciums_client() {
        let c = &*CIPHER;
        assert_eq!(
            c.constants[0][0],
            dec("44633805558311768763481180646118225365860939461703876060987556925535179110580")
        );
        assert_eq!(
            c.constants[1][4],
            dec("14228119087248241118032496460651190617375416375725525663152671939840679925168")
        );
        let secret: [u8; 32] = std::array::from_fn(|i| i as u8);
        let key = hash(&[Fe::from(1u8), from_le(&secret), Fe::from(5u8)]);
        assert_eq!(
            key[0],
            dec("221902642920397900927178181366783265297414497912772269060303873427410649073")
        );
        assert_eq!(
            key[4],
            dec("10466930990247930120881038736932493620617370359429556205727072505361844809125")
        );
    }

    #[test]
    fn encryption_matches_arciums_client_and_decrypts() {
        let secret: [u8; 32] = std::array::from_fn(|i| i as u8);
        let cipher = Cipher::new(&secret);
        let pt: Vec<Fe> = (0u8..7).map(Fe::from).collect();
        let ct = cipher.encrypt(&pt, &[0; 16]);
        assert_eq!(
            hexs(&ct),
            [
                "deb1f4caa67bd7ad6b84fadf52322dafc83ff9c6f5f02bed777dae1ded6bd30b",
                "0a7365ab2c64e8765bc3132aab05f191ea4bc0214725aa0dc99ed57ce5d50661",
                "ee46b2aa8d32e041e5a3bbca091b93caf79e1ed2e3732fbdf83e8310544f8f08",
                "fcc6450caf616fa35797dc03a4eb6c17a2f60ff5d337c394195fe5af5474b620",
                "ad69a70809bd8bce6efcaaa0526953a75c38d2ccdf1794718962201e0eb4360c",
                "eec95f381338719a40e8b9456dfabe70826dd1d39d4cff7ff3f8d99cbab6594a",
                "48e7f465dea41efb2fb91e8998fe93b3106b36c022da0abe023ec8e48db47703",
            ]
        );
        assert_eq!(cipher.decrypt(&ct, &[0; 16]), pt);

        let nonce: [u8; 16] = std::array::from_fn(|i| i as u8 + 1);
        let pt = vec![Fe::from(42u8), Fe::from(1_000_000u32), p() - Fe::from(1u8)];
        assert_eq!(
            hexs(&cipher.encrypt(&pt, &nonce)),
            [
                "da235227bc0ce94d76393f9b03579950a8d0a909af7c50233620c22803fec655",
                "2d9e8d12f4cfaf6e8a97c08ca68d546573c72f4d600189c48044680805610824",
                "82f6489ca6e47009b9affe714789accd4733e234bfb859c73e853033410ca25f",
            ]
        );

        let mut secret = [0xff; 32];
        secret[31] = 0x7f;
        assert_eq!(
            hexs(&Cipher::new(&secret).encrypt(&[Fe::from(123_456_789u32)], &[0xff; 16])),
            ["299ccb9f4ed28326e04906e9802193d530e694bfcdd567e8bd9ff3df281f604b"]
        );
    }
}
