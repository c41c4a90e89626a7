#!/usr/bin/env python3
"""Writes docs/vectors/sealed-v1.json: test vectors for sealed payments, version 1.

A sealed payment is a payment (a signed intent, or a durable payment) sealed to
one till for one sale, in the single message of Noise pattern N:

    sealed   = FE 54 4F 53 53 (0xFE "TOSS") || 01 || message
    message  = e.public (32) || EncryptAndHash(payload) (len(payload) + 16)
    protocol = Noise_N_25519_ChaChaPoly_BLAKE2s
    prologue = b"TOSS/noise/1" || reference (the request's 32-byte Solana Pay reference)
    pre-message: the till's static key s ("toss-key"), known to the payer (<- s)
    message 1:   -> e, es

This is a second, independent implementation of that format and of the Noise
Protocol Framework (revision 34) it rests on: CipherState, SymmetricState
(MixHash, MixKey, EncryptAndHash, DecryptAndHash, Split), HKDF over
HMAC-BLAKE2s (HASHLEN 32, BLOCKLEN 64) and a HandshakeState that runs any
pattern of the tokens e, s, ee, es, se, ss, written here from the
specification with the standard library (hashlib.blake2s) and the
`cryptography` package (X25519, ChaCha20-Poly1305) only, not from snow. Before
it writes anything it replays the cacophony vectors in
docs/vectors/noise-cacophony.json (Noise_IK and Noise_XX with ChaChaPoly and
BLAKE2s: every handshake and transport message and the handshake hash, from
both sides) and stops if one byte differs, so a wrong Noise core can never
write vectors. It then opens every vector it wrote with its own responder and
checks each invalid one fails with the error it names. The Rust tests check
core::sealed against what it writes, so a mistake in either implementation, or
in the spec, shows up as a mismatch.
Run: python3 docs/vectors/gen_sealed_vectors.py
"""
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = Path(__file__).parent

# ---------------------------------------------------------------------------
# Noise, revision 34: 25519, ChaChaPoly, BLAKE2s.
# ---------------------------------------------------------------------------

HASHLEN = 32
BLOCKLEN = 64
DHLEN = 32


def hash_(data: bytes) -> bytes:
    return hashlib.blake2s(data).digest()


def hmac_hash(key: bytes, data: bytes) -> bytes:
    # RFC 2104 with BLAKE2s (unkeyed) as the hash, block length 64.
    if len(key) > BLOCKLEN:
        key = hash_(key)
    key = key.ljust(BLOCKLEN, b"\0")
    inner = hash_(bytes(b ^ 0x36 for b in key) + data)
    return hash_(bytes(b ^ 0x5C for b in key) + inner)


def hkdf(chaining_key: bytes, ikm: bytes, n: int) -> list[bytes]:
    temp_key = hmac_hash(chaining_key, ikm)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac_hash(temp_key, prev + bytes([i]))
        out.append(prev)
    return out


class KeyPair:
    def __init__(self, secret: bytes):
        assert len(secret) == DHLEN
        self.secret = secret
        self._sk = X25519PrivateKey.from_private_bytes(secret)
        self.public = self._sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def dh(self, public: bytes) -> bytes:
        # X25519 (RFC 7748); the library clamps the scalar. It refuses an
        # all-zero result (a low-order point), which only an attacker sends.
        return self._sk.exchange(X25519PublicKey.from_public_bytes(public))


class DecryptError(Exception):
    pass


class CipherState:
    def __init__(self):
        self.k = None
        self.n = 0

    def initialize_key(self, key):
        self.k = key
        self.n = 0

    def _nonce(self) -> bytes:
        assert self.n < 2**64 - 1
        return bytes(4) + self.n.to_bytes(8, "little")

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes) -> bytes:
        if self.k is None:
            return plaintext
        out = ChaCha20Poly1305(self.k).encrypt(self._nonce(), plaintext, ad)
        self.n += 1
        return out

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        if self.k is None:
            return ciphertext
        try:
            out = ChaCha20Poly1305(self.k).decrypt(self._nonce(), ciphertext, ad)
        except InvalidTag:
            raise DecryptError() from None
        self.n += 1
        return out


class SymmetricState:
    def __init__(self, protocol_name: bytes):
        if len(protocol_name) <= HASHLEN:
            self.h = protocol_name.ljust(HASHLEN, b"\0")
        else:
            self.h = hash_(protocol_name)
        self.ck = self.h
        self.cipher = CipherState()

    def mix_key(self, ikm: bytes):
        self.ck, temp_k = hkdf(self.ck, ikm, 2)
        self.cipher.initialize_key(temp_k[:32])

    def mix_hash(self, data: bytes):
        self.h = hash_(self.h + data)

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt_with_ad(self.h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher.decrypt_with_ad(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext

    def split(self):
        k1, k2 = hkdf(self.ck, b"", 2)
        c1, c2 = CipherState(), CipherState()
        c1.initialize_key(k1[:32])
        c2.initialize_key(k2[:32])
        return c1, c2


# Handshake patterns: (pre-messages of initiator, of responder), message tokens.
PATTERNS = {
    "N": (([], ["s"]), [["e", "es"]]),
    "IK": (([], ["s"]), [["e", "es", "s", "ss"], ["e", "ee", "se"]]),
    "XX": (([], []), [["e"], ["e", "ee", "s", "es"], ["s", "se"]]),
}


class HandshakeState:
    def __init__(self, protocol_name: str, initiator: bool, prologue: bytes,
                 s: KeyPair | None = None, e: KeyPair | None = None, rs: bytes | None = None):
        pattern = protocol_name.split("_")[1]
        assert protocol_name == f"Noise_{pattern}_25519_ChaChaPoly_BLAKE2s", protocol_name
        (pre_i, pre_r), self.messages = PATTERNS[pattern]
        self.initiator = initiator
        self.s, self.e, self.rs, self.re = s, e, rs, None
        self.ss = SymmetricState(protocol_name.encode())
        self.ss.mix_hash(prologue)
        for tokens, mine in ((pre_i, initiator), (pre_r, not initiator)):
            for t in tokens:
                assert t == "s"
                self.ss.mix_hash(self.s.public if mine else self.rs)
        self.index = 0

    def _dh(self, token: str) -> bytes:
        # "es": initiator's e with responder's s; the other side mirrors it.
        a, b = token
        if not self.initiator:
            a, b = b, a
        local = self.e if a == "e" else self.s
        remote = self.re if b == "e" else self.rs
        return local.dh(remote)

    def write_message(self, payload: bytes) -> bytes:
        assert (self.index % 2 == 0) == self.initiator
        out = b""
        for t in self.messages[self.index]:
            if t == "e":
                assert self.e is not None, "tests supply the ephemeral key"
                out += self.e.public
                self.ss.mix_hash(self.e.public)
            elif t == "s":
                out += self.ss.encrypt_and_hash(self.s.public)
            else:
                self.ss.mix_key(self._dh(t))
        out += self.ss.encrypt_and_hash(payload)
        self.index += 1
        return out

    def read_message(self, message: bytes) -> bytes:
        assert (self.index % 2 == 0) != self.initiator
        for t in self.messages[self.index]:
            if t == "e":
                if len(message) < DHLEN:
                    raise DecryptError()
                self.re, message = message[:DHLEN], message[DHLEN:]
                self.ss.mix_hash(self.re)
            elif t == "s":
                n = DHLEN + (16 if self.ss.cipher.k is not None else 0)
                if len(message) < n:
                    raise DecryptError()
                self.rs = self.ss.decrypt_and_hash(message[:n])
                message = message[n:]
            else:
                try:
                    self.ss.mix_key(self._dh(t))
                except ValueError:  # low-order point: all-zero shared secret
                    raise DecryptError() from None
        payload = self.ss.decrypt_and_hash(message)
        self.index += 1
        return payload

    def finished(self) -> bool:
        return self.index == len(self.messages)


# ---------------------------------------------------------------------------
# Self-check: the cacophony vectors, every message, both sides.
# ---------------------------------------------------------------------------


def check_cacophony() -> None:
    data = json.loads((HERE / "noise-cacophony.json").read_text())
    seen = set()
    for v in data["vectors"]:
        name = v["protocol_name"]
        x = bytes.fromhex
        init = HandshakeState(name, True, x(v["init_prologue"]), s=KeyPair(x(v["init_static"])),
                              e=KeyPair(x(v["init_ephemeral"])),
                              rs=x(v["init_remote_static"]) if v.get("init_remote_static") else None)
        resp = HandshakeState(name, False, x(v["resp_prologue"]), s=KeyPair(x(v["resp_static"])),
                              e=KeyPair(x(v["resp_ephemeral"])),
                              rs=x(v["resp_remote_static"]) if v.get("resp_remote_static") else None)
        transport = None
        for i, m in enumerate(v["messages"]):
            payload, expected = x(m["payload"]), x(m["ciphertext"])
            from_init = i % 2 == 0
            if transport is None:
                sender, receiver = (init, resp) if from_init else (resp, init)
                got = sender.write_message(payload)
                assert got == expected, f"{name} message {i}: {got.hex()} != {expected.hex()}"
                assert receiver.read_message(got) == payload, f"{name} message {i}: read"
                if init.finished():
                    assert resp.finished()
                    assert init.ss.h == resp.ss.h == x(v["handshake_hash"]), f"{name}: handshake hash"
                    i1, i2 = init.ss.split()
                    r1, r2 = resp.ss.split()
                    transport = {True: (i1, r1), False: (r2, i2)}  # (sender's, receiver's)
            else:
                send, recv = transport[from_init]
                got = send.encrypt_with_ad(b"", payload)
                assert got == expected, f"{name} transport message {i}: {got.hex()} != {expected.hex()}"
                assert recv.decrypt_with_ad(b"", got) == payload
            seen.add((name, i))
    # The brief's floor: IK's first message (e, es, s, ss: N's primitives) and XX's first two.
    for need in [("Noise_IK_25519_ChaChaPoly_BLAKE2s", 0), ("Noise_XX_25519_ChaChaPoly_BLAKE2s", 0),
                 ("Noise_XX_25519_ChaChaPoly_BLAKE2s", 1)]:
        assert need in seen, f"cacophony vector missing: {need}"
    print(f"cacophony self-check passed: {len(seen)} messages in {len(data['vectors'])} vectors")


# ---------------------------------------------------------------------------
# Sealed payments, version 1.
# ---------------------------------------------------------------------------

PROTOCOL = "Noise_N_25519_ChaChaPoly_BLAKE2s"
MAGIC = b"\xfeTOSS"
VERSION = 1
PROLOGUE_TAG = b"TOSS/noise/1"
OVERHEAD = len(MAGIC) + 1 + DHLEN + 16
MAX_PAYMENT = 2048  # core/src/sealed.rs MAX_PAYMENT: the opener's upper bound


def seal(payload: bytes, till_public: bytes, reference: bytes, ephemeral: KeyPair) -> tuple[bytes, bytes]:
    """The sealed bytes, and the handshake hash h after the message."""
    assert len(till_public) == 32 and len(reference) == 32 and payload
    hs = HandshakeState(PROTOCOL, True, PROLOGUE_TAG + reference, e=ephemeral, rs=till_public)
    message = hs.write_message(payload)
    assert hs.finished() and len(message) == DHLEN + len(payload) + 16
    return MAGIC + bytes([VERSION]) + message, hs.ss.h


class OpenError(Exception):
    pass


def open_sealed(code: bytes, till: KeyPair, reference: bytes) -> tuple[bytes, bytes]:
    """The payload and handshake hash, or OpenError naming core::sealed::SealedError's variant."""
    if not code.startswith(MAGIC):
        raise OpenError("NotSealed")
    body = code[len(MAGIC):]
    if not body:
        raise OpenError("Length")
    if body[0] != VERSION:
        raise OpenError("Version")
    message = body[1:]
    if len(message) <= DHLEN + 16 or len(message) > DHLEN + 16 + MAX_PAYMENT:
        raise OpenError("Length")
    hs = HandshakeState(PROTOCOL, False, PROLOGUE_TAG + reference, s=till)
    try:
        payload = hs.read_message(message)
    except DecryptError:
        raise OpenError("NotForThisSale") from None
    return payload, hs.ss.h


def first_valid(file: str) -> dict:
    return json.loads((HERE / file).read_text())["valid"][0]


def write_vectors() -> None:
    intent = first_valid("intent-v1.json")
    signed_intent = bytes.fromhex(intent["body"]) + bytes.fromhex(intent["signature"])
    assert len(signed_intent) == intent["signed_len"]
    durable = first_valid("durable-v1.json")
    durable_payment = bytes.fromhex(durable["durable_payment"])
    assert len(durable_payment) == durable["durable_payment_len"]

    cases = [
        ("signed-intent",
         f"payload: the signed intent of intent-v1.json's first valid vector ({intent['name']}): body || signature",
         signed_intent),
        ("durable-payment",
         f"payload: the durable payment of durable-v1.json's first valid vector ({durable['name']}): "
         "signed intent || transaction signature",
         durable_payment),
        ("one-byte", "payload: a single byte (the shortest payload the format carries)", b"\x2a"),
    ]
    valid = []
    for i, (name, description, payload) in enumerate(cases):
        till = KeyPair(bytes([0x11 * (i + 1)]) * 32)
        reference = bytes((0x20 * (i + 1) + j) & 0xFF for j in range(32))
        ephemeral = KeyPair(bytes([0x5A + i]) * 32)
        sealed, h = seal(payload, till.public, reference, ephemeral)
        opened, h2 = open_sealed(sealed, till, reference)
        assert opened == payload and h2 == h
        assert sealed[len(MAGIC) + 1:len(MAGIC) + 1 + 32] == ephemeral.public
        valid.append({
            "name": name,
            "description": description,
            "till_secret": till.secret.hex(),
            "till_public": till.public.hex(),
            "reference": reference.hex(),
            "prologue": (PROLOGUE_TAG + reference).hex(),
            "ephemeral_secret": ephemeral.secret.hex(),
            "ephemeral_public": ephemeral.public.hex(),
            "payload": payload.hex(),
            "payload_len": len(payload),
            "sealed": sealed.hex(),
            "sealed_len": len(sealed),
            "handshake_hash": h.hex(),
        })

    base = valid[0]
    sealed = bytes.fromhex(base["sealed"])
    till_secret = base["till_secret"]
    reference = bytes.fromhex(base["reference"])
    other_reference = reference[:-1] + bytes([reference[-1] ^ 0x01])
    other_till = KeyPair(bytes([0x99]) * 32)
    flip = len(MAGIC) + 1 + 32  # the first byte of the encrypted payload
    altered = sealed[:flip] + bytes([sealed[flip] ^ 0x01]) + sealed[flip + 1:]
    invalid = [
        ("WrongReference", "the signed-intent vector's sealed bytes, opened with its reference's last byte xor 1",
         till_secret, other_reference, sealed, "NotForThisSale"),
        ("WrongTill", "the signed-intent vector's sealed bytes, opened with another till's secret (32 bytes of 0x99)",
         other_till.secret.hex(), reference, sealed, "NotForThisSale"),
        ("Altered", f"the signed-intent vector's sealed bytes with byte {flip} (the first ciphertext byte) xor 1",
         till_secret, reference, altered, "NotForThisSale"),
        ("NotSealed", "the signed-intent vector's sealed bytes with the first magic byte FF (an unsealed intent's)",
         till_secret, reference, b"\xff" + sealed[1:], "NotSealed"),
        ("Version", "the signed-intent vector's sealed bytes with version byte 02",
         till_secret, reference, sealed[:5] + b"\x02" + sealed[6:], "Version"),
        ("TooShort", "magic || version || the first 40 bytes of the message: shorter than e (32) + tag (16)",
         till_secret, reference, sealed[:6 + 40], "Length"),
    ]
    invalid_json = []
    for name, description, secret, ref, code, error in invalid:
        try:
            open_sealed(code, KeyPair(bytes.fromhex(secret)), ref)
            raise AssertionError(f"{name} opened")
        except OpenError as e:
            assert str(e) == error, f"{name}: {e} != {error}"
        invalid_json.append({
            "name": name,
            "description": description,
            "till_secret": secret,
            "reference": ref.hex(),
            "sealed": code.hex(),
            "error": error,
        })

    out = {
        "format": (
            "TOSS sealed payment v1: sealed = FE544F5353 (0xFE \"TOSS\") || 01 || the one message of "
            "Noise_N_25519_ChaChaPoly_BLAKE2s (e.public (32) || EncryptAndHash(payload) (+16)), "
            "prologue = \"TOSS/noise/1\" || reference, responder static = the till's toss-key. "
            "All byte strings are hex. valid[]: name, description, till_secret, till_public, reference, "
            "prologue, ephemeral_secret, ephemeral_public, payload, payload_len, sealed, sealed_len, "
            "handshake_hash (h after the message). invalid[]: name, description, till_secret, reference, "
            "sealed, error (the core::sealed::SealedError variant opening it must return: NotSealed, "
            "Version, Length, NotForThisSale)."
        ),
        "generator": "docs/vectors/gen_sealed_vectors.py",
        "protocol": PROTOCOL,
        "valid": valid,
        "invalid": invalid_json,
    }
    path = HERE / "sealed-v1.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}: {len(valid)} valid, {len(invalid_json)} invalid")


if __name__ == "__main__":
    check_cacophony()
    write_vectors()
