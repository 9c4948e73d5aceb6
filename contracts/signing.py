"""Ed25519 keys, signatures over canonical JSON, and a threshold of trusted keys.

A bundle file is ``{"signed": {...}, "signatures": [{"keyid": ..., "sig": ...}]}``; each key
holder adds one signature over ``canonical(signed)``. A key's id is the first 16 hex digits of
the SHA-256 of its raw public key. Trust is a folder of ``*.pub`` files (hex of the raw public
key) and a ``threshold`` file: how many distinct trusted keys must have signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contracts.canonical import canonical


class TrustError(Exception):
    """The trusted keys cannot be loaded; the message says which file and why."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate(folder: Path, name: str) -> tuple[Path, Path]:
    """Write NAME.key (private, 0600) and NAME.pub; refuse to overwrite either."""
    folder.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    secret = private.private_bytes_raw().hex()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    key_path, pub_path = folder / f"{name}.key", folder / f"{name}.pub"
    if key_path.exists() or pub_path.exists():
        raise FileExistsError(f"{key_path} or {pub_path} already exists")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    pub_path.write_text(public + "\n")
    return key_path, pub_path


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        raw = bytes.fromhex(path.read_text().strip())
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (OSError, ValueError) as exc:
        raise TrustError(f"{path}: not an Ed25519 private key ({exc})") from exc


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        raw = bytes.fromhex(path.read_text().strip())
        return Ed25519PublicKey.from_public_bytes(raw)
    except (OSError, ValueError) as exc:
        raise TrustError(f"{path}: not an Ed25519 public key ({exc})") from exc


def sign(signed: dict[str, Any], private: Ed25519PrivateKey) -> dict[str, str]:
    signature = private.sign(canonical(signed))
    return {"keyid": key_id(private.public_key()), "sig": base64.b64encode(signature).decode()}


@dataclass(frozen=True)
class Trust:
    keys: dict[str, Ed25519PublicKey]
    threshold: int

    @classmethod
    def load(cls, folder: Path) -> Trust:
        if not folder.is_dir():
            raise TrustError(f"{folder}: no trusted-keys folder")
        keys = {}
        for pub in sorted(folder.glob("*.pub")):
            public = load_public(pub)
            keys[key_id(public)] = public
        try:
            threshold = int((folder / "threshold").read_text().strip())
        except (OSError, ValueError) as exc:
            raise TrustError(f"{folder / 'threshold'}: a whole number is needed ({exc})") from exc
        if threshold < 1 or threshold > len(keys):
            raise TrustError(
                f"{folder}: threshold {threshold} cannot be met by {len(keys)} trusted key(s)"
            )
        return cls(keys, threshold)

    def count_valid(self, signed: dict[str, Any], signatures: list[Any]) -> tuple[int, int, int]:
        """(distinct trusted keys with a valid signature, trusted signatures that failed,
        signatures from keys not trusted here)."""
        message = canonical(signed)
        valid: set[str] = set()
        failed = untrusted = 0
        for entry in signatures:
            keyid, sig = entry.get("keyid"), entry.get("sig")
            public = self.keys.get(keyid) if isinstance(keyid, str) else None
            if public is None:
                untrusted += 1
                continue
            try:
                public.verify(base64.b64decode(str(sig), validate=True), message)
            except (InvalidSignature, binascii.Error, ValueError):
                failed += 1
                continue
            valid.add(keyid)
        return len(valid), failed, untrusted
