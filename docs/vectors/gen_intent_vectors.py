#!/usr/bin/env python3
"""Writes docs/vectors/intent-v1.json and docs/vectors/durable-v1.json.

intent-v1.json: TOSS intent v1 test vectors. durable-v1.json: durable payments
(signed intent || the payer's signature of the settlement transaction), with
the settlement message this script compiles itself from docs/intent.md,
"Durable payment" (instructions, account order, legacy message bytes,
program-derived and associated token account addresses), without Solana's SDK.

This is a second, independent implementation of docs/intent.md (Python, the
`cryptography` package for Ed25519, hashlib for SHA-256, integer arithmetic
for the curve test). The Rust tests check their encoder, decoder, signer,
intent id and settlement message against what it writes, so a mistake in
either implementation, or in the spec, shows up as a mismatch.
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


def write_intent_vectors() -> None:
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



# ---------------------------------------------------------------------------
# Durable payments: docs/intent.md, "Durable payment" and "The settlement
# message, byte for byte". Everything below follows that text, not the SDK.
# ---------------------------------------------------------------------------

P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def decompress(point: bytes) -> tuple[int, int] | None:
    """The Edwards point these 32 bytes encode, or None, with the rules of
    curve25519-dalek's CompressedEdwardsY::decompress (Solana's on-curve
    test): y is the low 255 bits, reduced mod p; x^2 = (y^2 - 1) / (d y^2 + 1)
    must be a square (0 included); the top bit picks the sign of x."""
    y = int.from_bytes(point, "little") & ((1 << 255) - 1)
    y %= P
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P  # never 0: -1/d is not a square mod p
    x2 = u * pow(v, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if x * x % P != x2:
        x = x * SQRT_M1 % P
        if x * x % P != x2:
            return None
    if (x & 1) != point[31] >> 7:
        x = (P - x) % P  # x = 0 with the sign bit set is accepted, as dalek does
    return x, y


def on_curve(point: bytes) -> bool:
    return decompress(point) is not None


def b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        n = n * 58 + B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


SYSTEM_PROGRAM = b58decode("11111111111111111111111111111111")
RECENT_BLOCKHASHES = b58decode("SysvarRecentB1ockHashes11111111111111111111")
INSTRUCTIONS_SYSVAR = b58decode("Sysvar1nstructions1111111111111111111111111")
ED25519_PROGRAM = b58decode("Ed25519SigVerify111111111111111111111111111")
TOKEN_PROGRAM = b58decode("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
ATA_PROGRAM = b58decode("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
assert all(len(k) == 32 for k in (SYSTEM_PROGRAM, RECENT_BLOCKHASHES, INSTRUCTIONS_SYSVAR,
                                  ED25519_PROGRAM, TOKEN_PROGRAM, ATA_PROGRAM))


def find_program_address(seeds: list[bytes], program_id: bytes) -> tuple[bytes, int]:
    """Bumps 255 down to 1; the first SHA-256 candidate off the curve."""
    for bump in range(255, 0, -1):
        candidate = hashlib.sha256(b"".join(seeds) + bytes([bump]) + program_id
                                   + b"ProgramDerivedAddress").digest()
        if not on_curve(candidate):
            return candidate, bump
    raise ValueError("no program address for these seeds")


def associated_token_account(owner: bytes, mint: bytes) -> bytes:
    return find_program_address([owner, TOKEN_PROGRAM, mint], ATA_PROGRAM)[0]


def settlement_record(program_id: bytes, payer: bytes, nonce: int) -> bytes:
    return find_program_address([b"settled", payer, struct.pack("<Q", nonce)], program_id)[0]


def compact_u16(n: int) -> bytes:
    assert 0 <= n <= 0xFFFF
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def ed25519_check_data(body: bytes, signature: bytes) -> bytes:
    this_ix = 0xFFFF
    offsets = struct.pack("<BB7H", 1, 0, 16, this_ix, 80 + 47, this_ix, 80, len(body), this_ix)
    assert len(offsets) == 16
    return offsets + signature + body


# An instruction: (program id, [(key, is_signer, is_writable)], data).
def settlement_instructions(f: dict, body: bytes, signature: bytes) -> list:
    nonce_account, _ = f["durable_nonce"]
    payer, payee, program = f["payer"], f["payee"], f["program_id"]
    advance = (SYSTEM_PROGRAM, [(nonce_account, False, True), (RECENT_BLOCKHASHES, False, False),
                                (payer, True, False)], struct.pack("<I", 4))
    check = (ED25519_PROGRAM, [], ed25519_check_data(body, signature))
    accounts = [(payer, True, True), (INSTRUCTIONS_SYSVAR, False, False), (SYSTEM_PROGRAM, False, False),
                (settlement_record(program, payer, f["nonce"]), False, True)]
    if f.get("mint"):
        accounts += [(associated_token_account(payer, f["mint"]), False, True),
                     (associated_token_account(payee, f["mint"]), False, True),
                     (TOKEN_PROGRAM, False, False)]
    else:
        accounts += [(payee, False, True)]
    settle = (program, accounts, bytes([5, 1, 0]))
    return [advance, check, settle]


def compile_message(instructions: list, fee_payer: bytes, blockhash: bytes) -> tuple[bytes, list, bytes]:
    """A legacy message: returns its bytes, its account keys and its header."""
    flags: dict[bytes, list[bool]] = {}  # key -> [is_signer, is_writable], OR of every use
    for program_id, accounts, _ in instructions:
        flags.setdefault(program_id, [False, False])
        for k, signer, writable in accounts:
            f = flags.setdefault(k, [False, False])
            f[0] |= signer
            f[1] |= writable
    flags.pop(fee_payer, None)
    others = sorted(flags)  # ascending by the 32 bytes

    def group(signer: bool, writable: bool) -> list[bytes]:
        return [k for k in others if flags[k] == [signer, writable]]

    readonly_signers = group(True, False)
    readonly_unsigned = group(False, False)
    keys = [fee_payer] + group(True, True) + readonly_signers + group(False, True) + readonly_unsigned
    header = bytes([1 + len(group(True, True)) + len(readonly_signers), len(readonly_signers),
                    len(readonly_unsigned)])
    out = header + compact_u16(len(keys)) + b"".join(keys) + blockhash + compact_u16(len(instructions))
    for program_id, accounts, data in instructions:
        out += bytes([keys.index(program_id)])
        out += compact_u16(len(accounts)) + bytes(keys.index(k) for k, _, _ in accounts)
        out += compact_u16(len(data)) + data
    return out, keys, header


def write_durable_vectors() -> None:
    payer_sk, payer = key(1)
    _, payee = key(2)
    _, program = key(3)
    _, reference = key(4)
    usdc = b58decode("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
    base = dict(cluster=DEVNET, program_id=program, payer=payer, payee=payee, amount=250_000_000,
                nonce=3, created_at=1_790_000_000, expires_at=1_790_086_400,
                durable_nonce=(key(5)[1], bytes(range(32, 64))))
    cases = [
        ("sol-durable", base),
        ("usdc-durable-with-memo", {**base, "cluster": MAINNET, "mint": usdc, "amount": 12_340_000,
                                    "memo": "Order #43 — café", "nonce": 8,
                                    "durable_nonce": (key(6)[1], bytes(range(64, 96)))}),
        ("sol-durable-with-reference", {**base, "reference": reference, "nonce": 2**64 - 2,
                                        "durable_nonce": (key(7)[1], bytes(range(96, 128)))}),
    ]
    vectors = []
    for name, f in cases:
        b = body(f)
        sig = payer_sk.sign(b)
        signed = b + sig
        message, keys, header = compile_message(settlement_instructions(f, b, sig), payer,
                                                f["durable_nonce"][1])
        tx_sig = payer_sk.sign(message)
        vectors.append({
            "name": name,
            "signer_seed": (bytes([1]) * 32).hex(),
            "fields": fields_json(f),
            "signed_intent": signed.hex(),
            "id": hashlib.sha256(signed).hexdigest(),
            "settlement_record": b58(settlement_record(program, payer, f["nonce"])),
            "payer_token_account": b58(associated_token_account(payer, f["mint"])) if f.get("mint") else None,
            "payee_token_account": b58(associated_token_account(payee, f["mint"])) if f.get("mint") else None,
            "header": header.hex(),
            "account_keys": [b58(k) for k in keys],
            "message": message.hex(),
            "transaction_signature": tx_sig.hex(),
            "transaction": (compact_u16(1) + tx_sig + message).hex(),
            "durable_payment": (signed + tx_sig).hex(),
            "durable_payment_len": len(signed) + 64,
        })
    first = bytes.fromhex(vectors[0]["durable_payment"])
    flipped = bytearray(first)
    flipped[-64] ^= 0x01  # the first byte of the transaction signature
    plain = body({k: v for k, v in base.items() if k != "durable_nonce"})
    plain_signed = plain + payer_sk.sign(plain)
    invalid = [
        {"name": "transaction signature altered (first byte xor 1)", "bytes": bytes(flipped).hex(),
         "error": "BadTransactionSignature"},
        {"name": "durable intent without its transaction signature", "bytes": first[:-64].hex(),
         "error": "MissingTransactionSignature"},
        {"name": "transaction signature one byte short", "bytes": first[:-1].hex(), "error": "TrailingBytes"},
        {"name": "escrow intent followed by 64 bytes", "bytes": (plain_signed + first[-64:]).hex(),
         "error": "TrailingBytes"},
    ]
    out = {
        "format": "TOSS durable payment v1 (docs/intent.md, \"Durable payment\")",
        "generator": "docs/vectors/gen_intent_vectors.py",
        "valid": vectors,
        "invalid": invalid,
    }
    path = Path(__file__).with_name("durable-v1.json")
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


def main() -> None:
    write_intent_vectors()
    write_durable_vectors()


if __name__ == "__main__":
    main()
