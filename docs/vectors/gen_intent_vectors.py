#!/usr/bin/env python3
"""Writes docs/vectors/intent-v1.json: TOSS intent v1 test vectors.

This is a second, independent implementation of docs/intent.md (Python, the
`cryptography` package for Ed25519, hashlib for SHA-256). The Rust tests check
their encoder, decoder, signer and intent id against what it writes, so a
mistake in either implementation, or in the spec, shows up as a mismatch.
Run: python3 docs/vectors/gen_intent_vectors.py
"""
import hashlib
import json
import struct
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


MAGIC = b"\xffTOSS"
DEVNET = bytes.fromhex("ce59db5080fc2c6d")
MAINNET = bytes.fromhex("45296998a6f8e2a7")


def key(seed_byte: int) -> tuple[Ed25519PrivateKey, bytes]:
    sk = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    return sk, sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def body(f: dict) -> bytes:
    flags = 0
    tail = b""
    if f.get("mint"):
        flags |= 1
        tail += f["mint"]
    if f.get("reference"):
        flags |= 2
        tail += f["reference"]
    if f.get("durable_nonce"):
        flags |= 4
        tail += f["durable_nonce"][0] + f["durable_nonce"][1]
    if f.get("memo"):
        flags |= 8
        m = f["memo"].encode()
        tail += bytes([len(m)]) + m
    head = MAGIC + bytes([1, flags]) + f["cluster"] + f["program_id"] + f["payer"] + f["payee"]
    head += struct.pack("<QQII", f["amount"], f["nonce"], f["created_at"], f["expires_at"])
    assert len(head) == 135
    return head + tail


def fields_json(f: dict) -> dict:
    out = {
        "cluster": f["cluster"].hex(),
        "program_id": b58(f["program_id"]),
        "payer": b58(f["payer"]),
        "payee": b58(f["payee"]),
        "mint": b58(f["mint"]) if f.get("mint") else None,
        "amount": f["amount"],
        "reference": b58(f["reference"]) if f.get("reference") else None,
        "memo": f.get("memo"),
        "nonce": f["nonce"],
        "created_at": f["created_at"],
        "expires_at": f["expires_at"],
        "durable_nonce": None,
    }
    if f.get("durable_nonce"):
        out["durable_nonce"] = {"account": b58(f["durable_nonce"][0]), "value": f["durable_nonce"][1].hex()}
    return out


def main() -> None:
    payer_sk, payer = key(1)
    _, payee = key(2)
    _, program = key(3)
    usdc = bytes.fromhex("c6fa7af3bedbad3a3d65f36aabc97431b1bbe4c2d2f6e0e47ca60203452f5d61")  # USDC mainnet mint
    _, reference = key(4)
    _, nonce_account = key(5)
    base = dict(cluster=DEVNET, program_id=program, payer=payer, payee=payee, amount=1_500_000_000,
                nonce=1, created_at=1_790_000_000, expires_at=1_790_086_400)
    cases = [
        ("sol-minimal", base),
        ("usdc-with-reference-and-memo", {**base, "cluster": MAINNET, "mint": usdc, "amount": 12_340_000,
                                          "reference": reference, "memo": "Order #42 — café", "nonce": 7}),
        ("sol-durable-nonce", {**base, "durable_nonce": (nonce_account, bytes(range(32))), "nonce": 2**64 - 1,
                               "amount": 1, "expires_at": base["created_at"] + 30 * 24 * 3600}),
    ]
    vectors = []
    for name, f in cases:
        b = body(f)
        sig = payer_sk.sign(b)
        vectors.append({
            "name": name,
            "signer_seed": (bytes([1]) * 32).hex(),
            "fields": fields_json(f),
            "body": b.hex(),
            "signature": sig.hex(),
            "signed_len": len(b) + 64,
            "id": hashlib.sha256(b + sig).hexdigest(),
        })
    good = bytes.fromhex(vectors[0]["body"]) + bytes.fromhex(vectors[0]["signature"])
    def patched(offset: int, value: bytes) -> str:
        return (good[:offset] + value + good[offset + len(value):]).hex()
    invalid = [
        {"name": "empty", "bytes": "", "error": "TooShort"},
        {"name": "truncated signature", "bytes": good[:-1].hex(), "error": "TooShort"},
        {"name": "trailing byte", "bytes": (good + b"\0").hex(), "error": "TrailingBytes"},
        {"name": "wrong magic", "bytes": patched(1, b"X"), "error": "NotAnIntent"},
        {"name": "version 2", "bytes": patched(5, b"\x02"), "error": "UnsupportedVersion"},
        {"name": "unknown flag bit", "bytes": patched(6, b"\x10"), "error": "UnknownFlags"},
        {"name": "zero amount", "bytes": patched(111, bytes(8)), "error": "ZeroAmount"},
        {"name": "payee equals payer", "bytes": patched(79, payer), "error": "SelfPayment"},
        {"name": "expires before created", "bytes": patched(131, struct.pack("<I", 1_789_999_999)),
         "error": "ExpiresBeforeCreated"},
        {"name": "validity over 30 days", "bytes": patched(131, struct.pack("<I", 1_790_000_000 + 30 * 86400 + 1)),
         "error": "ValidityTooLong"},
        {"name": "memo flag with empty memo", "bytes": (body(base)[:6] + b"\x08" + body(base)[7:] + b"\x00" + good[-64:]).hex(),
         "error": "MemoLength"},
        {"name": "memo not UTF-8", "bytes": (body(base)[:6] + b"\x08" + body(base)[7:] + b"\x02\xff\xfe" + good[-64:]).hex(),
         "error": "MemoNotUtf8"},
    ]
    out = {
        "format": "TOSS intent v1 (docs/intent.md)",
        "generator": "docs/vectors/gen_intent_vectors.py",
        "valid": vectors,
        "invalid": invalid,
    }
    path = Path(__file__).with_name("intent-v1.json")
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
