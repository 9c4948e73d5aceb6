"""A resident's personal fields sealed to the platform's personal-data key, end to end.

The terminal seals; only the back office, holding the private key, opens. Neither the terminal
(once a record is sealed) nor the platform's API server can read what is inside: the API server
stores the sealed bytes and never holds the private key.

The construction (an ECIES, as HPKE's base mode does it):

- the recipient is an X25519 public key ``R``; its id is the first 16 hex digits of the SHA-256
  of its raw 32 bytes (as a configuration signer's key id is made);
- per record, a fresh ephemeral key ``e`` (public ``E``); ``shared = X25519(e, R)``;
- ``HKDF-SHA256(shared, salt = E || R, info = INFO)`` gives a 256-bit AES key and a 96-bit nonce:
  the key is used for this one record only, so a derived nonce can never repeat under it;
- AES-256-GCM over the canonical JSON of the fields, with the associated data binding the key id
  and the transaction's uuid, so a sealed part copied onto another record (or relabelled with
  another key id) fails to open rather than lie;
- ``blob = E || ciphertext-and-tag``, base64 on the wire, raw bytes at rest.

Key files are hex of the raw key, one line, like the configuration signers' (``NAME.key``, 0600,
and ``NAME.pub``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from contracts.canonical import canonical_text

INFO = b"kiosk-terminal personal v1"
KEY_ID_PATTERN = r"^[0-9a-f]{16}$"
PUBLIC_HEX_PATTERN = r"^[0-9a-f]{64}$"
# The fields of one record (name, ID number, phone, a feedback text) fit many times over; a cap
# keeps one item's cost bounded on the platform, which cannot look inside to judge.
MAX_PERSONAL_BYTES = 16 * 1024
_RAW = 32
_TAG = 16
MAX_BLOB_BYTES = _RAW + MAX_PERSONAL_BYTES + _TAG
MAX_BLOB_TEXT = 4 * ((MAX_BLOB_BYTES + 2) // 3)


class PersonalSealError(Exception):
    """A key is missing, unsafe or wrong, or a sealed part is damaged; the message says which
    (never what the part holds)."""


def key_id_of(public: X25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


class PersonalKey(BaseModel):
    """The platform's personal-data public key as a signed configuration carries it (and as
    ``kiosk-central personal keygen`` prints it): ``{"key_id": ..., "public": <64 hex>}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key_id: Annotated[StrictStr, Field(pattern=KEY_ID_PATTERN)]
    public: Annotated[StrictStr, Field(pattern=PUBLIC_HEX_PATTERN, description="raw key, hex")]

    @model_validator(mode="after")
    def _id_matches(self) -> PersonalKey:
        # The id is what records carry and what the back office picks its private key by: an
        # id that does not name this key would send records to a key nobody holds.
        if key_id_of(self.key()) != self.key_id:
            raise ValueError(f"key_id {self.key_id} is not the id of this public key")
        return self

    def key(self) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(bytes.fromhex(self.public))

    @classmethod
    def of(cls, public: X25519PublicKey) -> PersonalKey:
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(key_id=key_id_of(public), public=raw.hex())


class SealedPersonal(BaseModel):
    """A record's personal fields on the wire: which key can open them, and the sealed bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal[1] = Field(1, description="the construction above; a new one gets a new number")
    key_id: Annotated[StrictStr, Field(pattern=KEY_ID_PATTERN)]
    blob: Annotated[
        StrictStr,
        Field(
            min_length=4,
            max_length=MAX_BLOB_TEXT,
            pattern=r"^[A-Za-z0-9+/]+={0,2}$",
            description="base64 of the ephemeral public key (32 bytes) and the AES-GCM output",
        ),
    ]

    def raw(self) -> bytes:
        try:
            data = base64.b64decode(self.blob, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PersonalSealError("the sealed part is not base64") from exc
        if len(data) < _RAW + _TAG:
            raise PersonalSealError("the sealed part is too short to be one")
        return data

    @classmethod
    def of(cls, key_id: str, raw: bytes) -> SealedPersonal:
        return cls(key_id=key_id, blob=base64.b64encode(raw).decode("ascii"))


def _associated(key_id: str, uuid: str) -> bytes:
    # Lower case: the platform keeps uuids lower-cased, and the same record must open there.
    return INFO + b"\x00" + key_id.encode() + b"\x00" + uuid.lower().encode()


def _aead(shared: bytes, ephemeral: bytes, recipient: bytes) -> tuple[AESGCM, bytes]:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32 + 12, salt=ephemeral + recipient, info=INFO
    ).derive(shared)
    return AESGCM(derived[:32]), derived[32:]


def seal(recipient: PersonalKey, fields: dict[str, Any], uuid: str) -> SealedPersonal:
    """*fields* sealed to *recipient* for the record *uuid*; a fresh ephemeral key each call."""
    plain = canonical_text(fields).encode("utf-8")
    if len(plain) > MAX_PERSONAL_BYTES:
        raise PersonalSealError(
            f"personal fields are {len(plain)} bytes of JSON, more than {MAX_PERSONAL_BYTES}"
        )
    public = recipient.key()
    ephemeral = X25519PrivateKey.generate()
    e_raw = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    r_raw = bytes.fromhex(recipient.public)
    aead, nonce = _aead(ephemeral.exchange(public), e_raw, r_raw)
    body = aead.encrypt(nonce, plain, _associated(recipient.key_id, uuid))
    return SealedPersonal.of(recipient.key_id, e_raw + body)


def open_sealed(private: X25519PrivateKey, sealed: SealedPersonal, uuid: str) -> dict[str, Any]:
    """The fields *sealed* holds for the record *uuid*; PersonalSealError if *private* is not the
    key it was sealed to, or the part was altered or belongs to another record."""
    own = key_id_of(private.public_key())
    if sealed.key_id != own:
        raise PersonalSealError(f"sealed to key {sealed.key_id}, not to this key ({own})")
    data = sealed.raw()
    e_raw, body = data[:_RAW], data[_RAW:]
    r_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(e_raw))
    except ValueError as exc:  # a low-order point: not something a terminal made
        raise PersonalSealError("the sealed part is damaged") from exc
    aead, nonce = _aead(shared, e_raw, r_raw)
    try:
        plain = aead.decrypt(nonce, body, _associated(sealed.key_id, uuid))
    except InvalidTag:
        raise PersonalSealError(
            "the sealed part does not open: altered, or sealed for another record"
        ) from None
    value = json.loads(plain)
    if not isinstance(value, dict):
        raise PersonalSealError("the sealed part is not an object")
    return value


# -- key files ----------------------------------------------------------------------------------


def generate(folder: Path, name: str) -> tuple[Path, Path, PersonalKey]:
    """Write NAME.key (private, 0600 from the first byte) and NAME.pub; refuse to overwrite."""
    folder.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = folder / f"{name}.key", folder / f"{name}.pub"
    if key_path.exists() or pub_path.exists():
        raise FileExistsError(f"{key_path} or {pub_path} already exists")
    private = X25519PrivateKey.generate()
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(private.private_bytes_raw().hex() + "\n")
    public = PersonalKey.of(private.public_key())
    pub_path.write_text(public.public + "\n")
    return key_path, pub_path, public


def load_private(path: Path) -> X25519PrivateKey:
    """The back office's private key; refused when others can read the file."""
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except OSError as exc:
        raise PersonalSealError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PersonalSealError(f"{path} is readable by others (mode {mode & 0o777:o}); use 0600")
    try:
        return X25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    except ValueError as exc:
        raise PersonalSealError(f"{path}: not an X25519 private key (64 hex digits)") from exc


def load_public(path: Path) -> PersonalKey:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise PersonalSealError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        return PersonalKey.of(X25519PublicKey.from_public_bytes(bytes.fromhex(text)))
    except ValueError as exc:
        raise PersonalSealError(f"{path}: not an X25519 public key (64 hex digits)") from exc
