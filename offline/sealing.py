"""Personal data at rest: sealed with AES-256-GCM under a key that lives beside the database,
never in it, so a copied database file alone reveals no resident.

A sealed value is ``version byte || 12-byte nonce || ciphertext+tag``; the transaction's UUID is
the associated data, so a sealed blob moved onto another row fails to open instead of lying.

Once a transaction is first sent, its personal fields are sealed again, to the platform's
personal-data key (contracts/personal.py), and that form replaces the local one in the same
column: ``FORMAT_PLATFORM || canonical JSON of the sealed part``. From then on the terminal
cannot open them either, and every resend carries the very same bytes.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from contracts.canonical import canonical_text
from contracts.personal import SealedPersonal

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT_V1 = b"\x01"
FORMAT_PLATFORM = b"\x02"  # sealed to the platform: only its back office opens it


class SealingError(Exception):
    """The key is missing, unsafe or wrong, or a sealed value is damaged; the message says which."""


def new_nonce() -> bytes:
    """A fresh random 96-bit nonce for every value sealed: under one key, a repeated nonce
    would expose two residents' data and allow forgeries (tests/unit/test_nonce.py)."""
    return os.urandom(NONCE_BYTES)


class Sealer:
    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != KEY_BYTES:
            raise SealingError(f"the outbox key must be {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    def seal(self, data: dict[str, Any], associated: str) -> bytes:
        nonce = new_nonce()
        plain = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return FORMAT_V1 + nonce + self._aead.encrypt(nonce, plain, associated.encode())

    def open(self, blob: bytes, associated: str) -> dict[str, Any]:
        from cryptography.exceptions import InvalidTag

        if blob[:1] != FORMAT_V1 or len(blob) < 1 + NONCE_BYTES + 16:
            raise SealingError("sealed personal data has an unknown format")
        nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, body, associated.encode())
        except InvalidTag:
            raise SealingError("sealed personal data does not open with this key") from None
        value = json.loads(plain)
        if not isinstance(value, dict):
            raise SealingError("sealed personal data is not an object")
        return value


def for_platform(sealed: SealedPersonal) -> bytes:
    """What the outbox keeps once a transaction's personal part is sealed to the platform."""
    return FORMAT_PLATFORM + canonical_text(sealed.model_dump()).encode("utf-8")


def platform_part(blob: bytes) -> SealedPersonal | None:
    """The part sealed to the platform, or None for a locally sealed value (FORMAT_V1)."""
    if blob[:1] != FORMAT_PLATFORM:
        return None
    try:
        return SealedPersonal.model_validate_json(blob[1:])
    except ValueError as exc:
        raise SealingError("the personal part sealed to the platform is damaged") from exc


def load_or_create_key(path: Path, *, create: bool) -> bytes:
    """Read the key file (which must be private to its owner), or create one if allowed.

    Creation is exclusive (O_EXCL) with mode 0600 from the first byte, so two processes starting
    at once cannot end up with different keys, and the key is never world-readable, not even
    briefly.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        if not create:
            raise SealingError(
                f"{path} is missing: personal data in this outbox cannot be read without it"
            ) from None
        return _create_key(path)
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SealingError(
            f"{path} is readable by others (mode {info.st_mode & 0o777:o}); use 0600"
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise SealingError(f"{path} is damaged ({len(key)} bytes, expected {KEY_BYTES})")
    return key


def _create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.urandom(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return load_or_create_key(path, create=False)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the key must survive a power cut as surely as the rows it protects
    finally:
        os.close(dir_fd)
    return key
