"""Reading the holder of a social-security card (社会保障卡) over any APDU exchange.

The card's social-security application is selected by its DF name ``sx1.sh.社会保障`` (GBK);
its EF06 (short file id 6) holds the holder: record 1 is the social-security number (tag 08, 18
characters, the same as the resident ID number), record 2 the name (tag 09, GBK, space padded).
A card without that application (a bank card, a transit card) is not an error: ``None``. What
is read is personal: it never reaches a log line (``Holder``'s repr is redacted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from contracts.id_number import is_valid_id_number
from drivers.apdu import READ_FAILED_KEY, Exchange, PcscError, StatusWordError, transmit
from drivers.idcard import IdCard

log = logging.getLogger(__name__)

SSSE_NAME = "sx1.sh.社会保障".encode("gbk")
EF06_SFI = 6
TAG_NUMBER, TAG_NAME = 0x08, 0x09
# Answers that mean "no such application here": a different kind of card.
NOT_THIS_CARD = {0x6A82, 0x6A81, 0x6A86, 0x6D00, 0x6E00}


@dataclass(frozen=True, repr=False)
class Holder:
    number: str
    name: str

    def __repr__(self) -> str:
        return "Holder(<redacted>)"

    def as_id_card(self) -> IdCard:
        """The identity a visit needs, from what the card holds: the number carries the birth
        date and sex; there is no address, authority or photo on this card."""
        n = self.number
        born = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
        return IdCard(
            name=self.name, sex="1" if int(n[16]) % 2 else "2", nation="", birth_date=born,
            address="", id_number=n, authority="", valid_from=born, valid_to=None,
            photo_sha256="",
        )  # fmt: skip


def _select(exchange: Exchange) -> bool:
    apdu = bytes((0x00, 0xA4, 0x04, 0x00, len(SSSE_NAME))) + SSSE_NAME + b"\x00"
    response = transmit(exchange, apdu, check=False)
    if response.sw in NOT_THIS_CARD:
        return False
    if not response.ok:
        raise StatusWordError(response.sw, "select social-security application")
    return True


def _record(exchange: Exchange, number: int, tag: int) -> bytes:
    apdu = bytes((0x00, 0xB2, number, (EF06_SFI << 3) | 0x04, 0x00))
    response = transmit(exchange, apdu)  # a status word error raises StatusWordError
    data = response.data
    if len(data) < 2 or data[0] != tag or data[1] > len(data) - 2:
        raise PcscError("bad_record", READ_FAILED_KEY, f"EF06 record {number} is malformed")
    return data[2 : 2 + data[1]]


def read_holder(exchange: Exchange) -> Holder | None:
    """The holder of the social-security card behind *exchange*, or None for another kind of
    card. Raises PcscError (with a clear code) when it is one but cannot be read."""
    if not _select(exchange):
        return None
    try:
        number = _record(exchange, 1, TAG_NUMBER).decode("ascii").strip().upper()
        name = _record(exchange, 2, TAG_NAME).decode("gbk").strip()
    except UnicodeDecodeError:
        raise PcscError("bad_record", READ_FAILED_KEY, "EF06 holds undecodable text") from None
    if not is_valid_id_number(number) or not name:
        raise PcscError("bad_record", READ_FAILED_KEY, "EF06 holds no valid holder")
    return Holder(number, name)
