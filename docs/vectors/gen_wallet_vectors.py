#!/usr/bin/env python3
"""Writes docs/vectors/wallet-derivation.json: recovery phrase -> Solana address.

An independent implementation of what `toss_core::vault` does: BIP39 seed
(PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic" + passphrase), then SLIP-0010
Ed25519 derivation along m/44'/501'/0'/0' (the path Phantom, Solflare and
`solana-keygen --derivation-path` use for the first account), then the Ed25519
public key. Only the standard library and `cryptography` are used.
Run: python3 docs/vectors/gen_wallet_vectors.py
"""
import hashlib
import hmac
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HARDENED = 0x80000000


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def bip39_seed(phrase: str, passphrase: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", phrase.encode(), ("mnemonic" + passphrase).encode(), 2048)


def slip10_ed25519(seed: bytes, path: list[int]) -> bytes:
    i = hmac.new(b"ed25519 seed", seed, hashlib.sha512).digest()
    key, chain = i[:32], i[32:]
    for index in path:
        data = b"\0" + key + (index | HARDENED).to_bytes(4, "big")
        i = hmac.new(chain, data, hashlib.sha512).digest()
        key, chain = i[:32], i[32:]
    return key


def main() -> None:
    cases = [
        ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", ""),
        ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "TREZOR"),
        ("legal winner thank year wave sausage worth useful legal winner thank yellow", ""),
        (" ".join(["abandon"] * 23 + ["art"]), ""),
    ]
    vectors = []
    for phrase, passphrase in cases:
        seed = bip39_seed(phrase, passphrase)
        accounts = []
        for account in range(2):
            secret = slip10_ed25519(seed, [44, 501, account, 0])
            public = Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
                Encoding.Raw, PublicFormat.Raw)
            accounts.append({"path": f"m/44'/501'/{account}'/0'", "secret": secret.hex(), "address": b58(public)})
        vectors.append({"phrase": phrase, "passphrase": passphrase, "seed": seed.hex(), "accounts": accounts})
    out = {
        "format": "BIP39 + SLIP-0010 Ed25519, Solana paths (docs/vault.md)",
        "generator": "docs/vectors/gen_wallet_vectors.py",
        "vectors": vectors,
    }
    path = Path(__file__).with_name("wallet-derivation.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
