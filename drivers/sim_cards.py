"""Fictional residents and their cards, for the simulators, rigs and tests.

The region code is Beijing Dongcheng (110101); every ID number carries a correct check character.
Each card's photo is 1024 opaque bytes standing in for the vendor-compressed WLT image.
"""

from __future__ import annotations

import hashlib
from datetime import date

from contracts.id_number import id_check_char
from drivers.idcard import IdCard
from drivers.sam_record import PHOTO_LEN


def sample_photo(id_number: str) -> bytes:
    """Deterministic stand-in WLT bytes for a card."""
    out = bytearray()
    block = id_number.encode()
    while len(out) < PHOTO_LEN:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:PHOTO_LEN])


def _sample(
    name: str, sex: str, birth: date, serial: str, issued: date, expires: date | None
) -> IdCard:
    first17 = f"110101{birth:%Y%m%d}{serial}"
    number = first17 + id_check_char(first17)
    return IdCard(
        name=name,
        sex=sex,
        nation="01",
        birth_date=birth,
        address="北京市东城区和平里街道安康胡同8号",
        id_number=number,
        authority="北京市公安局东城分局",
        valid_from=issued,
        valid_to=expires,
        photo_sha256=hashlib.sha256(sample_photo(number)).hexdigest(),
    )


SAMPLE_CARDS: tuple[IdCard, ...] = (
    _sample("张秀英", "2", date(1948, 3, 12), "002", date(2016, 5, 1), None),
    _sample("李建国", "1", date(1953, 10, 1), "013", date(2012, 7, 20), date(2032, 7, 20)),
    _sample("王芳", "2", date(1990, 6, 18), "024", date(2020, 1, 6), date(2040, 1, 6)),
)
