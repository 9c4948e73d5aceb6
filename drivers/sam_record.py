"""The ID card's text record (GA/T 490): 256 bytes of UCS-2 little-endian, space padded.

Also the 30 01 answer's layout: text length and photo length (2 bytes big-endian each), the text,
then the photo (WLT, vendor-compressed: kept opaque and only hashed).
"""

from __future__ import annotations

import hashlib
from datetime import date

from contracts.id_number import is_valid_id_number
from drivers.idcard import IdCard

# (field, width in bytes), in record order.
FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("sex", 2),
    ("nation", 4),
    ("birth", 16),
    ("address", 70),
    ("id_number", 36),
    ("authority", 30),
    ("valid_from", 16),
    ("valid_to", 16),
    ("reserved", 36),
)
TEXT_LEN = 256
PHOTO_LEN = 1024
NO_EXPIRY = "长期"


class RecordError(ValueError):
    """The card's record is not a well-formed GA/T 490 record; ``code`` is stable."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


def split_fields(text: bytes) -> dict[str, str]:
    if len(text) != TEXT_LEN:
        raise RecordError("text_length", f"text record is {len(text)} bytes, not {TEXT_LEN}")
    fields: dict[str, str] = {}
    offset = 0
    for name, width in FIELDS:
        raw = text[offset : offset + width]
        offset += width
        try:
            fields[name] = raw.decode("utf-16-le").rstrip(" \x00")
        except UnicodeDecodeError as exc:
            raise RecordError("text_encoding", f"field {name} is not UCS-2") from exc
    return fields


def _date(value: str, field: str) -> date:
    if len(value) != 8 or not value.isdigit():
        raise RecordError("bad_date", f"{field} is not YYYYMMDD")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as exc:
        raise RecordError("bad_date", f"{field} is not a calendar date") from exc


def decode_card(text: bytes, photo: bytes) -> IdCard:
    """A checked IdCard from a text record and photo; RecordError says what is wrong.

    Error details name the field, never its value: they end up in technicians' logs.
    """
    f = split_fields(text)
    if not f["name"]:
        raise RecordError("empty_name", "name is empty")
    if f["sex"] not in ("0", "1", "2", "9"):
        raise RecordError("bad_sex", "sex code is not GB/T 2261.1")
    if len(f["nation"]) != 2 or not f["nation"].isdigit():
        raise RecordError("bad_nation", "nation code is not two digits")
    if not is_valid_id_number(f["id_number"]):
        raise RecordError("bad_id_number", "ID number fails its ISO 7064 check")
    return IdCard(
        name=f["name"],
        sex=f["sex"],
        nation=f["nation"],
        birth_date=_date(f["birth"], "birth"),
        address=f["address"],
        id_number=f["id_number"].upper(),
        authority=f["authority"],
        valid_from=_date(f["valid_from"], "valid_from"),
        valid_to=None if f["valid_to"] == NO_EXPIRY else _date(f["valid_to"], "valid_to"),
        photo_sha256=hashlib.sha256(photo).hexdigest(),
    )


def split_read_answer(data: bytes) -> tuple[bytes, bytes]:
    """(text, photo) from the DATA of a 30 01 answer."""
    if len(data) < 4:
        raise RecordError("short_answer", f"read answer has {len(data)} data bytes")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if 4 + text_len + photo_len != len(data):
        raise RecordError(
            "answer_length",
            f"lengths {text_len}+{photo_len} do not match {len(data) - 4} data bytes",
        )
    return data[4 : 4 + text_len], data[4 + text_len :]


def encode_text(card: IdCard) -> bytes:
    """The record a card with these fields carries (for the simulator and tests)."""
    values = {
        "name": card.name,
        "sex": card.sex,
        "nation": card.nation,
        "birth": f"{card.birth_date:%Y%m%d}",
        "address": card.address,
        "id_number": card.id_number,
        "authority": card.authority,
        "valid_from": f"{card.valid_from:%Y%m%d}",
        "valid_to": f"{card.valid_to:%Y%m%d}" if card.valid_to else NO_EXPIRY,
        "reserved": "",
    }
    out = bytearray()
    for name, width in FIELDS:
        raw = values[name].encode("utf-16-le")
        if len(raw) > width:
            raise ValueError(f"{name} does not fit in {width} bytes")
        out += raw + " ".encode("utf-16-le") * ((width - len(raw)) // 2)
    return bytes(out)


def encode_read_answer(text: bytes, photo: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo
